"""A person as a SCIM User and back (docs/architecture.md, "SCIM provisioning").

scim2-models does the protocol: it reads and checks payloads, applies PATCH operations, and
writes resources, lists, errors and the discovery documents. What is written here is only what
the app decides: which of a User's attributes make a person, and how."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    Email,
    EnterpriseUser,
    ETag,
    Filter,
    InvalidFilterException,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    Meta,
    Name,
    Patch,
    PatchOp,
    ResourceType,
    ResponseParameters,
    SCIMException,
    ScimFilter,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.path import CompareOperator, Comparison, LogicalExpr, LogicalOperator

from serviceideas.i18n import supported_language
from serviceideas.people.models import User as Person
from serviceideas.urls import absolute, database_id

# A person, as the directory sees them: the core User with the enterprise extension, whose
# `department` names their department.
ScimUser = User[EnterpriseUser]
ENTERPRISE = str(EnterpriseUser.__schema__)

MAX_RESULTS = 200  # a page of a list holds at most this many people (`count` is capped)

# How much of what directories send is taken as they send it (scim2-models' policy):
# attributes the app does not keep (phone numbers, roles, a manager) are ignored rather than
# refused; Microsoft Entra ID's `remove` with a value, and its `replace` of
# `emails[type eq "work"].value` on a person with no work address yet, work as Entra means.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

SERVICE_PROVIDER_CONFIG = ServiceProviderConfig(
    documentation_uri=None,
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description="A token an admin makes on the SCIM tokens page, sent as "
            "Authorization: Bearer <token>.",
            primary=True,
        )
    ],
)
USER_RESOURCE_TYPE = ResourceType.from_resource(ScimUser)
SCHEMAS = (User.to_schema(), EnterpriseUser.to_schema())


# Reading requests


def read_user(payload: Any, context: Context) -> ScimUser:
    """A POST's or PUT's body as a User, or the SCIM error saying what is wrong with it."""
    with _as_scim_error():
        return ScimUser.model_validate(payload, scim_ctx=context, scim_policy=POLICY)


def read_patch(payload: dict[str, Any]) -> PatchOp[ScimUser]:
    """A PATCH's body. Operations on attributes the app does not keep (a manager, phone
    numbers, roles) are left out before it is read: they change nothing, whatever shape their
    value has (Entra ID sends a manager as a bare id, which the schema's Manager is not)."""
    operations = payload.get("Operations")
    if isinstance(operations, list):
        payload = {**payload, "Operations": [op for op in operations if not _ignored(op)]}
    with _as_scim_error():
        return PatchOp[ScimUser].model_validate(
            payload, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        )


# The attributes a person is made of (and those the schema's rules guard), in lower case.
_KEPT = {
    "username",
    "name",
    "displayname",
    "active",
    "externalid",
    "emails",
    "preferredlanguage",
    "department",
}
_GUARDED = {"id", "meta", "schemas"}
_CORE_PREFIX = str(User.__schema__).lower() + ":"


def _ignored(operation: Any) -> bool:
    """Whether a PATCH operation's path names an attribute the app does not keep."""
    path = operation.get("path") if isinstance(operation, dict) else None
    if not isinstance(path, str) or not path.strip():
        return False
    path = path.strip().lower()
    if path.startswith(ENTERPRISE.lower() + ":"):
        return path[len(ENTERPRISE) + 1 :].split(".")[0] != "department"
    path = path.removeprefix(_CORE_PREFIX)
    if path.startswith("urn:"):
        return True  # another extension's attribute
    attribute = path.split("[")[0].split(".")[0]
    return attribute not in _KEPT | _GUARDED


def patched(current: ScimUser, patch: PatchOp[ScimUser]) -> ScimUser:
    """The person as the directory wants them after `patch`: their User with its operations
    applied (scim2-models applies them; the paths may be spelt as Entra ID and Okta do)."""
    wanted = current.model_copy(deep=True)
    with _as_scim_error():
        patch.patch(wanted, scim_policy=POLICY)
    return wanted


def read_response_parameters(args: dict[str, str]) -> ResponseParameters[ScimUser] | None:
    """`attributes` or `excludedAttributes`, which choose what each User in the answer holds."""
    chosen = {name: args[name] for name in ("attributes", "excludedAttributes") if args.get(name)}
    if not chosen:
        return None
    with _as_scim_error():
        return ResponseParameters[ScimUser].model_validate(chosen)


@dataclass(frozen=True)
class Criteria:
    """What a list's filter asks of people. Each field that is set must hold."""

    email: str | None = None  # `userName eq`, compared ignoring case as RFC 7643 has it
    external_id: str | None = None  # `externalId eq`, compared exactly
    person_id: int | None = None  # `id eq`
    active: bool | None = None  # `active eq`
    impossible: bool = False  # `id eq "abc"` (or out of range): no id is like that, so nobody


def read_filter(text: str | None) -> Criteria:
    """The list's `filter`, parsed and checked against the User schema by scim2-models, then
    reduced to what the app can ask of its people: `eq` on userName, externalId, id or active,
    alone or joined by `and`. Anything else is refused with `invalidFilter`."""
    if not text or not text.strip():
        return Criteria()
    with _as_scim_error():
        scim_filter = ScimFilter[ScimUser](text)
    root = scim_filter.ast
    terms = (
        root.terms if isinstance(root, LogicalExpr) and root.op is LogicalOperator.and_ else None
    )
    found: dict[str, Any] = {}
    for term in terms or (root,):
        if not isinstance(term, Comparison) or term.op is not CompareOperator.eq:
            raise _unsupported_filter()
        binding = scim_filter.resolve_comparison(term.attr_path)
        if binding is None or binding.model is not ScimUser or binding.sub_field_name:
            raise _unsupported_filter()
        name, value = binding.field_name, term.value
        if name in found:
            raise _unsupported_filter()
        if name == "active":
            found[name] = _boolean(value)
        elif name in {"user_name", "external_id", "id"} and isinstance(value, str):
            found[name] = value
        else:
            raise _unsupported_filter()
    person_id = database_id(found["id"]) if "id" in found else None
    return Criteria(
        email=found.get("user_name"),
        external_id=found.get("external_id"),
        person_id=person_id,
        active=found.get("active"),
        impossible="id" in found and person_id is None,
    )


def _unsupported_filter() -> InvalidFilterException:
    return InvalidFilterException(
        detail="Only 'eq' on userName, externalId, id or active (joined by 'and') is supported."
    )


def _boolean(value: Any) -> bool:
    """A boolean as directories send it: true, or the strings "True" and "false" (Entra ID)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise InvalidFilterException(detail=f"active is true or false, not {value!r}.")


@contextmanager
def _as_scim_error() -> Iterator[None]:
    """Turn scim2-models' validation errors into the SCIM error they stand for: its own
    scimType when it names one (invalidPath, invalidValue, mutability…), else invalidSyntax."""
    try:
        yield
    except ValidationError as error:
        raise scim_exception(error) from None


def scim_exception(error: ValidationError) -> SCIMException:
    """The SCIM error a validation error stands for (its first problem says which)."""
    details = error.errors()
    if not details:
        return InvalidSyntaxException(detail="The request is not a valid SCIM message.")
    first = details[0]
    context: dict[str, Any] = dict(first.get("ctx") or {})
    where = ".".join(str(part) for part in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    scim_type = context.get("scim_type")
    if scim_type:
        exception = SCIMException(detail=detail)
        exception.status = int(context.get("status") or 400)
        exception.scim_type = str(scim_type)
        return exception
    if first["type"] in _NOT_A_MESSAGE:
        return InvalidSyntaxException(detail=detail)
    # RFC 7644 (section 3.12): "A required value was missing, or the value specified was not
    # compatible with the operation or attribute type".
    return InvalidValueException(detail=detail)


# What pydantic says of a body that is not a SCIM message at all: invalidSyntax.
_NOT_A_MESSAGE = {"model_type", "model_attributes_type", "dict_type", "json_invalid"}


# What a User says of a person


@dataclass(frozen=True)
class Wanted:
    """What the directory wants a person to be. `name`, `department` and `active` are None
    when it says nothing of them (a PATCH that leaves them alone, a PUT without `active`, a
    User with no department): unchanged (a new person is active, RFC 7643's default).
    `external_id` and `language` are None when the User has none: none is kept (a PUT
    replaces the whole User; a PATCH starts from the stored one). `language_sent` says whether
    the request speaks of preferredLanguage at all: a PUT always does (absent is none), a
    PATCH only when one of its operations changes it, so that a PATCH of the name leaves the
    stored language alone even when the app no longer speaks it."""

    email: str
    name: str | None
    department: str | None
    active: bool | None
    external_id: str | None
    language: str | None = None  # preferredLanguage, as a language the app speaks, else None
    language_sent: bool = True


def wanted(resource: ScimUser, before: ScimUser | None = None) -> Wanted:
    """The person a User describes. The name is `name.formatted`, else `name.givenName` and
    `name.familyName`, else `displayName`; after a PATCH (`before` given), the first of these
    the PATCH changed, so that a new family name is not hidden by an old formatted one."""
    enterprise = resource[EnterpriseUser]
    department = enterprise.department if enterprise is not None else None
    return Wanted(
        email=resource.user_name or "",
        name=_name(resource, before),
        department=department.strip() if department and department.strip() else None,
        active=resource.active,
        external_id=resource.external_id,
        language=supported_language(resource.preferred_language),
        language_sent=before is None or resource.preferred_language != before.preferred_language,
    )


def _name_candidates(resource: ScimUser) -> tuple[str | None, str | None, str | None]:
    name = resource.name or Name()
    joined = " ".join(part.strip() for part in (name.given_name, name.family_name) if part)
    return (name.formatted or None, joined or None, resource.display_name or None)


def _name(resource: ScimUser, before: ScimUser | None) -> str | None:
    candidates = list(_name_candidates(resource))
    if before is not None:
        earlier = _name_candidates(before)
        changed = zip(candidates, earlier, strict=True)
        candidates = [now if now != then else None for now, then in changed]
    return next((candidate.strip() for candidate in candidates if candidate), None)


# Writing responses


def as_scim_user(person: Person) -> ScimUser:
    """A person as the directory reads them. Their one name is `name.formatted` and
    `displayName` (the app does not split names); their e-mail is `userName` and their one,
    work, address; their `preferredLanguage` the language kept from the directory's ("de" for
    "de-DE")."""
    location = absolute(url_for("scim.user", user_id=person.id))
    resource = ScimUser(
        id=str(person.id),
        external_id=person.scim_external_id,
        user_name=person.email,
        name=Name(formatted=person.name),
        display_name=person.name,
        preferred_language=person.directory_locale,
        active=person.active,
        emails=[Email(value=person.email, type=Email.Type.work, primary=True)],
        meta=Meta(
            resource_type="User",
            created=person.created_at,
            last_modified=person.updated_at,
            location=location,
            version=_version(person.updated_at),
        ),
    )
    resource[EnterpriseUser] = EnterpriseUser(department=person.department.name)
    return resource


def _version(updated_at: datetime) -> str:
    return f'W/"{int(updated_at.timestamp() * 1_000_000):x}"'


def user_document(
    person: Person, context: Context, parameters: ResponseParameters[ScimUser] | None = None
) -> dict[str, Any]:
    return as_scim_user(person).model_dump(scim_ctx=context, response_parameters=parameters)


def list_document(
    people: list[Person],
    total: int,
    start_index: int,
    parameters: ResponseParameters[ScimUser] | None = None,
) -> dict[str, Any]:
    response = ListResponse[ScimUser](
        total_results=total,
        start_index=start_index,
        items_per_page=len(people),
        resources=[as_scim_user(person) for person in people] or None,
    )
    document: dict[str, Any] = response.model_dump(
        scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters
    )
    # An empty page still says "Resources": [], as Entra ID's own examples show it.
    document.setdefault("Resources", [])
    return document


def discovery_list(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """/ResourceTypes and /Schemas answer with a ListResponse (RFC 7644, section 4)."""
    return {
        "schemas": [str(ListResponse.__schema__)],
        "totalResults": len(documents),
        "startIndex": 1,
        "itemsPerPage": len(documents),
        "Resources": documents,
    }


def service_provider_config() -> dict[str, Any]:
    config = SERVICE_PROVIDER_CONFIG.model_copy(
        update={"meta": Meta(resource_type="ServiceProviderConfig", location=_here())}
    )
    document: dict[str, Any] = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return document


def resource_types() -> list[dict[str, Any]]:
    resource_type = USER_RESOURCE_TYPE.model_copy(
        update={
            "meta": Meta(
                resource_type="ResourceType",
                location=absolute(url_for("scim.resource_type", name="User")),
            )
        }
    )
    return [resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)]


def schemas() -> list[dict[str, Any]]:
    documents = []
    for schema in SCHEMAS:
        located = schema.model_copy(
            update={
                "meta": Meta(
                    resource_type="Schema",
                    location=absolute(url_for("scim.schema", schema_id=str(schema.id))),
                )
            }
        )
        documents.append(located.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return documents


def schema_ids() -> list[str]:
    return [str(schema.id) for schema in SCHEMAS]


def _here() -> str:
    return absolute(url_for("scim.service_provider_config"))
