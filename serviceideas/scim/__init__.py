"""SCIM 2.0 provisioning: the company's directory creates, updates and deactivates people
(docs/product.md, "Staff from the directory"; docs/architecture.md, "SCIM provisioning")."""
