"""/scim/v2/: the SCIM 2.0 service a company's directory provisions people through
(docs/architecture.md, "SCIM provisioning"). Every request carries a bearer token an admin
made (scim/tokens.py) and is logged, whatever its outcome."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request, url_for
from flask.blueprints import BlueprintSetupState
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    NotFoundException,
    SCIMException,
)

from serviceideas import errors
from serviceideas.errors import RuleViolation, Taken
from serviceideas.extensions import csrf, limiter
from serviceideas.people.models import User
from serviceideas.scim import queries, resources, services, tokens
from serviceideas.scim.outcomes import N_, Outcome
from serviceideas.urls import absolute
from serviceideas.writes import commit_or_refuse

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)  # a bearer token, not a cookie, authenticates these requests

SCIM_MEDIA_TYPE = "application/scim+json"


def scim_error(
    status: int, detail: str | Outcome, scim_type: str | None = None, person: User | None = None
) -> Response:
    """An RFC 7644 error response (section 3.12). Its detail is an Outcome when the app wrote
    it (told in English, logged for showing in each reader's language), else a text that is
    not the app's (a library's), told and logged as it is."""
    text = detail.english() if isinstance(detail, Outcome) else detail
    error = Error(status=status, detail=text, scim_type=scim_type)
    response = current_app.response_class(
        error.model_dump_json(exclude_none=True), status=status, mimetype=SCIM_MEDIA_TYPE
    )
    tokens.note_outcome(detail, person)
    return response


def _refused_token(response: Response) -> bool:
    return response.status_code == 401


def _carries_a_live_token() -> bool:
    return tokens.request_token(request) is not None


# A wrong token costs its sender: guessing tokens is slow (they are 256 bits anyway), and a
# misconfigured directory does not fill the log at its full speed. A request with a live
# token is never limited: strangers sending bad tokens from the directory's address (or a
# shared proxy's) must not hold up its provisioning, deactivations above all.
limiter.limit("30 per minute", deduct_when=_refused_token, exempt_when=_carries_a_live_token)(bp)


@bp.before_request
def require_token() -> Response | None:
    token = tokens.request_token(request)
    if token is None:
        response = scim_error(
            401, Outcome(N_("A valid bearer token is required (Authorization: Bearer …)."))
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="serviceideas SCIM"'
        return response
    g.scim_token = token
    return None


@bp.after_request
def log_request(response: Response) -> Response:
    """Log every request the service answered; not those the rate limit refused (429), which
    it refused without reading them, so that nobody can fill the log by sending more."""
    if response.status_code != HTTPStatus.TOO_MANY_REQUESTS:
        tokens.record_request(request, response.status_code)
    return response


@bp.errorhandler(SCIMException)
def scim_refusal(error: SCIMException) -> Response:
    """What scim2-models found wrong with a request (its syntax, a filter, a PATCH path, an
    unknown id), answered as the SCIM error it names."""
    return scim_error(error.status, error.detail, error.scim_type or None)


def _http_error(status: int, detail: str | None) -> Response:
    """Errors anywhere under /scim/v2 (an unknown address, a method a resource does not take,
    a body over the size limit, a bug) as SCIM errors, not HTML pages."""
    return scim_error(status, detail or HTTPStatus(status).phrase)


@bp.record_once
def _answer_errors_in_scim(state: BlueprintSetupState) -> None:
    errors.answer_errors_under(bp.url_prefix or "", _http_error)


def _json(document: dict[str, Any], status: int = 200) -> Response:
    return current_app.response_class(
        json.dumps(document, ensure_ascii=False), status=status, mimetype=SCIM_MEDIA_TYPE
    )


# What a body may hold, checked before it is read as a User or a PATCH: a User is a few
# kilobytes, and what a body holds decides how long applying it takes (a PATCH adding n
# addresses and then replacing each through a filter took a minute for n = 200).
BODY_MAX = 64 * 1024
OPERATIONS_MAX = 50
ARRAY_MAX = 10


def _request_body() -> dict[str, Any]:
    if (request.content_length or 0) > BODY_MAX:
        abort(413, description=f"A SCIM request's body is at most {BODY_MAX // 1024} KB.")
    request.max_content_length = BODY_MAX  # a body sent without its length, too
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:
        body = None  # nested deeper than the JSON decoder goes
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The request's body is not a JSON object.")
    _check_values(body)
    return body


def _check_values(body: dict[str, Any]) -> None:
    """Refuse a PATCH of more than OPERATIONS_MAX operations, any other array of more than
    ARRAY_MAX items (a person has one e-mail address, a schemas list a few), and a NUL
    character anywhere, in a name or a value: no text the app keeps holds one (PostgreSQL's
    cannot)."""
    operations = body.get("Operations")
    if isinstance(operations, list) and len(operations) > OPERATIONS_MAX:
        raise InvalidValueException(
            detail=f"A PATCH holds at most {OPERATIONS_MAX} operations; send it in parts."
        )
    pending: list[Any] = [*body.keys()]
    pending += [value for key, value in body.items() if key != "Operations"]
    pending += operations if isinstance(operations, list) else [operations]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            raise InvalidValueException(detail="A SCIM request holds no NUL characters.")
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            if len(value) > ARRAY_MAX:
                raise InvalidValueException(
                    detail=f"An array in a SCIM request holds at most {ARRAY_MAX} items."
                )
            pending.extend(value)


def _person(user_id: str) -> User:
    person = queries.person(user_id)
    if person is None:
        raise NotFoundException(detail=f"There is no User with id {user_id!r}.")
    return person


def _user(person: User, context: Context, status: int = 200) -> Response:
    document = resources.user_document(person, context)
    response = _json(document, status)
    response.headers["ETag"] = document["meta"]["version"]
    return response


def _refused(refusal: RuleViolation | None, person: User | None = None) -> Response:
    """A business rule's refusal as a SCIM error: someone else's e-mail is a 409 uniqueness
    error; a change to an admin the directory may not make, 400 mutability (RFC 7644, section
    3.12: an attribute that cannot be changed), also in the app's log; anything else the
    directory sent that the app cannot take, 400 invalidValue."""
    assert refusal is not None
    if isinstance(refusal, Taken):
        # Its message is in the request's language; the log keeps the text, untranslated.
        logged = Outcome(N_("Someone with this email address already exists."))
        return _refusal_answer(409, refusal.message, "uniqueness", logged, person)
    if isinstance(refusal, services.OutOfReach):
        current_app.logger.warning("SCIM change refused: %s", refusal.message)
        return scim_error(400, refusal.outcome, "mutability", person)
    if isinstance(refusal, services.Refusal):
        return scim_error(400, refusal.outcome, "invalidValue", person)
    # Another feature's refusal (people.services: an e-mail or name it cannot take), written
    # in the request's language: logged as the directory was told it.
    return scim_error(400, refusal.message, "invalidValue", person)


def _refusal_answer(
    status: int, detail: str, scim_type: str, logged: Outcome, person: User | None
) -> Response:
    """The error with `detail` as written, logged as `logged`."""
    response = scim_error(status, detail, scim_type, person)
    tokens.note_outcome(logged, person)
    return response


def _whole_number(name: str, default: int) -> int:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidValueException(detail=f"{name} must be a whole number.") from None


# Users


@bp.get("/Users")
def users() -> Response:
    """The people a filter picks, a page at a time (`startIndex`, from 1; `count`, capped)."""
    criteria = resources.read_filter(request.args.get("filter"))
    parameters = resources.read_response_parameters(request.args.to_dict())
    start_index = max(_whole_number("startIndex", 1), 1)
    count = min(max(_whole_number("count", resources.MAX_RESULTS), 0), resources.MAX_RESULTS)
    total, people = queries.people_matching(criteria, offset=start_index - 1, limit=count)
    if total == 1 and len(people) == 1:
        tokens.note_outcome(Outcome(N_("Found %(email)s"), {"email": people[0].email}), people[0])
    else:
        listed = Outcome(
            N_("Listed %(shown)s of %(total)s people"), {"shown": len(people), "total": total}
        )
        tokens.note_outcome(listed)
    return _json(resources.list_document(people, total, start_index, parameters))


@bp.post("/Users")
def create_user() -> Response:
    wanted = resources.wanted(
        resources.read_user(_request_body(), Context.RESOURCE_CREATION_REQUEST)
    )
    outcome = commit_or_refuse(lambda: services.add_person(wanted), flash_refusal=False)
    if not outcome:
        return _refused(outcome.refusal)
    person = outcome.kept
    tokens.note_outcome(Outcome(N_("Created %(email)s"), {"email": person.email}), person)
    response = _user(person, Context.RESOURCE_CREATION_RESPONSE, 201)
    response.headers["Location"] = absolute(url_for("scim.user", user_id=person.id))
    return response


@bp.get("/Users/<user_id>")
def user(user_id: str) -> Response:
    person = _person(user_id)
    parameters = resources.read_response_parameters(request.args.to_dict())
    tokens.note_outcome(Outcome(N_("Read %(email)s"), {"email": person.email}), person)
    document = resources.user_document(person, Context.RESOURCE_QUERY_RESPONSE, parameters)
    return _json(document)


@bp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    person = _person(user_id)
    resource = resources.read_user(_request_body(), Context.RESOURCE_REPLACEMENT_REQUEST)
    return _update(person, resources.wanted(resource), Context.RESOURCE_REPLACEMENT_RESPONSE)


@bp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    person = _person(user_id)
    patch = resources.read_patch(_request_body())
    current = resources.as_scim_user(person)
    wanted = resources.wanted(resources.patched(current, patch), before=current)
    return _update(person, wanted, Context.RESOURCE_PATCH_RESPONSE)


def _update(person: User, wanted: resources.Wanted, context: Context) -> Response:
    email = person.email
    outcome = commit_or_refuse(lambda: services.update_person(person, wanted), flash_refusal=False)
    if not outcome:
        return _refused(outcome.refusal, person)
    changes = outcome.kept
    if changes == ["deactivated"]:
        tokens.note_outcome(Outcome(N_("Deactivated %(email)s"), {"email": email}), person)
    else:
        what = changes or [N_("nothing changed")]
        updated = Outcome(N_("Updated %(email)s: %(changes)s"), {"email": email, "changes": what})
        tokens.note_outcome(updated, person)
    return _user(person, context)


@bp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    """Deactivates: people are never erased, and what they wrote stays."""
    person = _person(user_id)
    outcome = commit_or_refuse(lambda: services.deactivate(person), flash_refusal=False)
    if not outcome:
        return _refused(outcome.refusal, person)
    deleted = Outcome(
        N_("Deactivated %(email)s (deleted in the directory)"), {"email": person.email}
    )
    tokens.note_outcome(deleted, person)
    return current_app.response_class(status=204)


# Groups are not served: departments come from the enterprise extension's department, roles
# are given in the app or by the sign-in's groups claim (docs/architecture.md, "SCIM
# provisioning").


@bp.route("/Groups", methods=["GET", "POST"])
@bp.route("/Groups/<path:group_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def groups(group_id: str | None = None) -> Response:
    return scim_error(
        501,
        Outcome(
            N_(
                "Groups are not supported: departments come from the User's enterprise "
                "extension (department), and roles are given in serviceideas."
            )
        ),
    )


# Discovery (RFC 7644, section 4)


@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    tokens.note_outcome(Outcome(N_("Read the service provider configuration")))
    return _json(resources.service_provider_config())


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    tokens.note_outcome(Outcome(N_("Listed the resource types")))
    return _json(resources.discovery_list(resources.resource_types()))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    found = [each for each in resources.resource_types() if each["id"] == name]
    if not found:
        raise NotFoundException(detail=f"There is no resource type {name!r}: only User.")
    tokens.note_outcome(Outcome(N_("Read the resource type %(name)s"), {"name": name}))
    return _json(found[0])


@bp.get("/Schemas")
def schemas() -> Response:
    tokens.note_outcome(Outcome(N_("Listed the schemas")))
    return _json(resources.discovery_list(resources.schemas()))


@bp.get("/Schemas/<path:schema_id>")
def schema(schema_id: str) -> Response:
    found = [each for each in resources.schemas() if each["id"] == schema_id]
    if not found:
        raise NotFoundException(detail=f"There is no schema {schema_id!r}.")
    tokens.note_outcome(Outcome(N_("Read the schema %(id)s"), {"id": schema_id}))
    return _json(found[0])
