"""Webhooks: events written in the transaction that caused them, sent later by a job
(docs/architecture.md, "Webhooks")."""
