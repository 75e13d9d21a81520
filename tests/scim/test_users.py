"""The SCIM Users endpoint (RFC 7644): create, read, list, replace, patch, delete; what each
does to the person, and the SCIM error for what the app cannot take."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import Role, User
from serviceideas.scim.models import ScimRequest
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Enrolment
from tests.conftest import count_queries
from tests.scim.conftest import (
    ENTERPRISE,
    LIST_RESPONSE,
    MEDIA_TYPE,
    PATCH_OP,
    USER_SCHEMA,
    body,
    log,
    new_user,
    scim_error,
)


def person(email):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def created(directory, **fields):
    response = directory.post("/Users", new_user(**fields))
    assert response.status_code == 201, body(response)
    return body(response)


# Creating


def test_a_user_the_directory_creates_is_a_person_in_their_department(directory, sales, token):
    response = directory.post("/Users", new_user("Jane.Doe@Example.com"))

    assert response.status_code == 201
    assert response.mimetype == MEDIA_TYPE
    user = body(response)
    jane = person("jane.doe@example.com")
    assert response.headers["Location"] == f"http://127.0.0.1:5000/scim/v2/Users/{jane.id}"
    assert user["schemas"] == [USER_SCHEMA, ENTERPRISE]
    assert user["id"] == str(jane.id)
    assert user["userName"] == "jane.doe@example.com"
    assert user["active"] is True
    assert user["externalId"] == "b1c2d3"
    assert user[ENTERPRISE] == {"department": "Sales"}
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"] == response.headers["Location"]
    assert user["meta"]["version"].startswith('W/"')
    assert {"created", "lastModified"} <= user["meta"].keys()
    assert (jane.name, jane.department.name, jane.active) == ("Jane Doe", "Sales", True)
    assert jane.scim_external_id == "b1c2d3"
    assert jane.granted_roles == frozenset() and jane.password_hash is None
    (line,) = log()
    assert (line.token_id, line.method, line.path, line.status) == (
        token[0].id,
        "POST",
        "/scim/v2/Users",
        201,
    )
    assert (line.person_id, line.outcome) == (jane.id, "Created jane.doe@example.com")


@pytest.mark.parametrize(
    ("name", "display_name", "expected"),
    [
        (
            {"formatted": "Jane Q. Doe", "givenName": "Jane", "familyName": "Doe"},
            "JD",
            "Jane Q. Doe",
        ),
        ({"givenName": "Jane", "familyName": "Doe"}, "JD", "Jane Doe"),
        (None, "Jane from Sales", "Jane from Sales"),
    ],
)
def test_the_name_is_formatted_else_given_and_family_else_the_display_name(
    directory, sales, name, display_name, expected
):
    user = new_user()
    user["displayName"] = display_name
    if name is None:
        del user["name"]
    else:
        user["name"] = name
    assert directory.post("/Users", user).status_code == 201
    assert person("jane.doe@example.com").name == expected


def test_a_user_without_a_valid_email_as_username_is_refused(directory, sales):
    user = new_user()
    user["userName"] = "jane at example"
    error = scim_error(directory.post("/Users", user), 400, "invalidValue")
    assert "email address is not valid" in error["detail"]
    scim_error(directory.post("/Users", new_user("jane at example")), 400, "invalidValue")
    nameless = new_user()
    del nameless["name"], nameless["displayName"]
    scim_error(directory.post("/Users", nameless), 400, "invalidValue")
    assert person("jane.doe@example.com") is None
    assert [line.status for line in log()] == [400, 400, 400]


def test_an_unknown_department_is_the_default_department_or_refused(app, directory, sales):
    error = scim_error(
        directory.post("/Users", new_user(department="Marketing")), 400, "invalidValue"
    )
    assert "There is no department named 'Marketing'" in error["detail"]
    assert "SERVICEIDEAS_DEFAULT_DEPARTMENT" in error["detail"]
    assert person("jane.doe@example.com") is None

    app.config["DEFAULT_DEPARTMENT"] = "sales"  # matched by name, ignoring case
    created(directory, department="Marketing")
    created(directory, email="joe@example.com", department=None)
    assert person("jane.doe@example.com").department.name == "Sales"
    assert person("joe@example.com").department.name == "Sales"


def test_the_department_is_matched_by_name_ignoring_case(directory, sales, support):
    created(directory, department="  customer SUPPORT ")
    assert person("jane.doe@example.com").department.name == "Customer Support"


def test_someone_elses_email_is_a_uniqueness_error(directory, sales, make_user):
    make_user(email="jane.doe@example.com", name="The First Jane")
    error = scim_error(
        directory.post("/Users", new_user("JANE.DOE@example.com")), 409, "uniqueness"
    )
    assert "already exists" in error["detail"]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2  # the admin and Jane


@pytest.mark.parametrize("department", [None, "Marketing"])
def test_a_taken_username_is_a_uniqueness_error_whatever_else_is_wrong(
    directory, sales, make_user, department
):
    """Entra ID and Okta find out that someone exists by the 409: it comes before the
    department (missing, or unknown) and the name are read. A free userName with the same
    faults is refused for them (400)."""
    make_user(email="jane.doe@example.com", name="The First Jane")
    taken = new_user(department=department)
    del taken["name"], taken["displayName"]
    scim_error(directory.post("/Users", taken), 409, "uniqueness")
    free = new_user("john.doe@example.com", department=department)
    error = scim_error(directory.post("/Users", free), 400, "invalidValue")
    assert "department" in error["detail"]
    assert [line.status for line in log()] == [409, 400]


def test_the_same_email_added_meanwhile_is_a_uniqueness_error_too(
    directory, sales, make_user, monkeypatch
):
    """Two requests at once: the check before the INSERT saw nobody, the database's unique
    constraint refuses the second."""
    make_user(email="jane.doe@example.com")
    monkeypatch.setattr(people, "find_user", lambda email: None)  # the check saw nobody
    scim_error(directory.post("/Users", new_user()), 409, "uniqueness")


def test_a_user_created_inactive_cannot_sign_in(directory, sales):
    user = created(directory, active="False")
    assert user["active"] is False
    assert person("jane.doe@example.com").active is False


# Reading and listing


def test_an_unknown_or_malformed_id_is_a_404(directory):
    for user_id in ("999", "abc", "1e3", "٣"):
        error = scim_error(directory.get(f"/Users/{user_id}"), 404)
        assert "no User" in error["detail"]


def test_a_user_reads_as_created(directory, sales):
    user = created(directory)
    response = directory.get(f"/Users/{user['id']}")
    assert response.status_code == 200 and response.mimetype == MEDIA_TYPE
    assert body(response) == user
    assert log()[-1].outcome == "Read jane.doe@example.com"


def test_the_list_filters_on_username_ignoring_case_externalid_id_and_active(
    directory, sales, make_user
):
    jane = created(directory)
    joe = created(directory, email="joe@example.com", external_id="E-2", active=False)

    def ids(query):
        response = directory.get(f"/Users?filter={query}")
        assert response.status_code == 200, body(response)
        listed = body(response)
        assert listed["schemas"] == [LIST_RESPONSE]
        assert listed["totalResults"] == len(listed["Resources"])
        return {user["id"] for user in listed["Resources"]}

    assert ids('userName eq "JANE.DOE@EXAMPLE.COM"') == {jane["id"]}
    assert ids('USERNAME Eq "joe@example.com"') == {joe["id"]}
    assert ids('externalId eq "E-2"') == {joe["id"]}
    assert ids('externalId eq "e-2"') == set()  # externalId is compared exactly
    assert ids(f'id eq "{jane["id"]}"') == {jane["id"]}
    assert ids('id eq "not-a-number"') == set()
    assert ids("active eq false") == {joe["id"]}
    assert ids('userName eq "joe@example.com" and active eq true') == set()
    assert ids('userName eq "nobody@example.com"') == set()


@pytest.mark.parametrize(
    "query",
    [
        'userName co "jane"',
        'name.familyName eq "Doe"',
        'userName eq "a" or userName eq "b"',
        "emails pr",
        'nickName eq "J"',
        'userName eq "a" and userName eq "b"',
        'userName eq "unclosed',
        "favouriteColour eq 1",
    ],
)
def test_any_other_filter_is_an_invalid_filter(directory, query):
    scim_error(directory.get("/Users", query_string={"filter": query}), 400, "invalidFilter")


def test_the_list_pages_with_start_index_and_count(directory, admin, make_user):
    for n in range(5):
        make_user(email=f"p{n}@example.com")
    everyone = sorted(user.id for user in db.session.scalars(sa.select(User)))

    def page(**args):
        listed = body(directory.get("/Users", query_string=args))
        return listed, [int(user["id"]) for user in listed.get("Resources", [])]

    listed, ids = page(startIndex=2, count=2)
    assert (listed["totalResults"], listed["startIndex"], listed["itemsPerPage"]) == (6, 2, 2)
    assert ids == everyone[1:3]
    listed, ids = page(startIndex=0, count=1000)  # below 1 reads as 1; count is capped
    assert (listed["startIndex"], ids) == (1, everyone)
    listed, ids = page(count=0)
    assert (listed["totalResults"], listed["Resources"], listed["itemsPerPage"]) == (6, [], 0)
    listed, ids = page(startIndex=7)
    assert (listed["totalResults"], ids) == (6, [])
    scim_error(directory.get("/Users?count=many"), 400, "invalidValue")


def test_the_list_takes_the_same_statements_for_three_people_or_thirty(directory, sales, make_user):
    def statements():
        with count_queries() as queries:
            assert directory.get("/Users?count=100").status_code == 200
        return queries.count

    for _ in range(2):
        make_user(department=sales)
    few = statements()
    for _ in range(30):
        make_user(department=sales)
    assert statements() == few


def test_attributes_choose_what_each_user_holds(directory, sales):
    user = created(directory)
    query = {"filter": 'userName eq "jane.doe@example.com"', "attributes": "userName"}
    listed = body(directory.get("/Users", query_string=query))
    assert listed["Resources"] == [
        {"schemas": [USER_SCHEMA], "id": user["id"], "userName": "jane.doe@example.com"}
    ]
    one = body(directory.get(f"/Users/{user['id']}?excludedAttributes=emails,meta"))
    assert "emails" not in one and "meta" not in one and one["userName"]


# Replacing and patching


def test_put_replaces_the_person(directory, sales, support):
    user = created(directory)
    user.update(userName="jane.smith@example.com", externalId="new-id")
    user["name"] = {"givenName": "Jane", "familyName": "Smith"}
    user[ENTERPRISE] = {"department": "Customer Support"}
    response = directory.put(f"/Users/{user['id']}", user)

    assert response.status_code == 200, body(response)
    jane = person("jane.smith@example.com")
    assert (jane.name, jane.department.name, jane.scim_external_id) == (
        "Jane Smith",
        "Customer Support",
        "new-id",
    )
    assert body(response)["userName"] == "jane.smith@example.com"
    assert log()[-1].outcome == (
        "Updated jane.doe@example.com: e-mail, name, department, externalId"
    )


def test_put_with_someone_elses_email_is_a_uniqueness_error(directory, sales, make_user):
    make_user(email="taken@example.com")
    user = created(directory)
    user["userName"] = "Taken@example.com"
    scim_error(directory.put(f"/Users/{user['id']}", user), 409, "uniqueness")
    assert person("jane.doe@example.com") is not None
    line = log()[-1]
    assert (line.status, line.person_id) == (409, int(user["id"]))


def test_a_department_change_moves_the_persons_training(
    directory, sales, support, make_module, make_user
):
    user = created(directory)
    module = make_module()
    training.create_assignment(
        module.author,
        module,
        training.AssignmentDraft(Audience.DEPARTMENTS, departments=[support], due_days=14),
    )
    db.session.commit()
    jane_id = int(user["id"])
    assert not db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == jane_id)).all()

    response = directory.patch(
        f"/Users/{jane_id}",
        patch({"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Customer Support"}),
    )

    assert response.status_code == 200, body(response)
    assert body(response)[ENTERPRISE] == {"department": "Customer Support"}
    enrolments = db.session.scalars(sa.select(Enrolment).where(Enrolment.user_id == jane_id))
    assert [enrolment.assignment.module_id for enrolment in enrolments] == [module.id]


def test_a_deactivation_signs_the_person_out_at_once(directory, sales, client_as):
    user = created(directory)
    browser = client_as(person("jane.doe@example.com"))
    assert browser.get("/").status_code == 200

    response = directory.patch(
        f"/Users/{user['id']}", patch({"op": "Replace", "path": "active", "value": "False"})
    )

    assert response.status_code == 200 and body(response)["active"] is False
    signed_out = browser.get("/")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert person("jane.doe@example.com").active is False
    assert log()[-1].outcome == "Deactivated jane.doe@example.com"


def test_an_unknown_department_does_not_keep_someone_leaving_active(directory, sales):
    user = created(directory)
    leaving = patch(
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Alumni"},
    )
    assert directory.patch(f"/Users/{user['id']}", leaving).status_code == 200
    jane = person("jane.doe@example.com")
    assert (jane.active, jane.department.name) == (False, "Sales")
    joe = created(directory, email="joe@example.com")
    staying = patch({"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Alumni"})
    scim_error(directory.patch(f"/Users/{joe['id']}", staying), 400, "invalidValue")


def test_delete_deactivates_and_never_erases(directory, sales, client_as, make_idea):
    user = created(directory)
    jane = person("jane.doe@example.com")
    make_idea(author=jane)
    browser = client_as(jane)

    response = directory.delete(f"/Users/{user['id']}")

    assert response.status_code == 204 and response.get_data() == b""
    assert browser.get("/").status_code == 302
    again = body(directory.get(f"/Users/{user['id']}"))
    assert again["active"] is False and again["userName"] == "jane.doe@example.com"
    assert person("jane.doe@example.com").active is False
    scim_error(directory.delete("/Users/999"), 404)


def test_a_reactivated_person_can_sign_in_again(directory, sales):
    user = created(directory, active=False)
    response = directory.patch(
        f"/Users/{user['id']}", patch({"op": "replace", "value": {"active": True}})
    )
    assert response.status_code == 200 and body(response)["active"] is True
    assert person("jane.doe@example.com").active is True
    assert log()[-1].outcome == "Updated jane.doe@example.com: reactivated"


def test_roles_given_in_the_app_stay_whatever_the_directory_sends(directory, sales):
    user = created(directory)
    jane = person("jane.doe@example.com")
    jane.set_roles({Role.MANAGER})
    db.session.commit()
    user["roles"] = [{"value": "admin"}]
    user["displayName"] = "Jane D."
    assert directory.put(f"/Users/{user['id']}", user).status_code == 200
    assert person("jane.doe@example.com").granted_roles == {Role.MANAGER}


@pytest.mark.parametrize(
    ("operations", "scim_type"),
    [
        ([{"op": "frobnicate", "path": "active", "value": True}], "invalidValue"),
        ([{"op": "replace", "path": "emails[type eq", "value": "x"}], "invalidPath"),
        ([{"op": "replace", "path": "id", "value": "7"}], "mutability"),
        ([{"op": "replace", "path": "active", "value": "perhaps"}], "invalidValue"),
        ([{"op": "replace", "path": "userName", "value": "not an address"}], "invalidValue"),
        ([], "invalidValue"),
    ],
)
def test_a_patch_the_app_cannot_apply_changes_nothing(directory, sales, operations, scim_type):
    user = created(directory)
    response = directory.patch(f"/Users/{user['id']}", patch(*operations))
    scim_error(response, 400, scim_type)
    assert body(directory.get(f"/Users/{user['id']}")) == user


def test_what_is_not_json_or_not_a_user_is_invalid_syntax(directory, sales):
    scim_error(directory.post("/Users", "{not json"), 400, "invalidSyntax")
    scim_error(directory.post("/Users", "[1, 2]"), 400, "invalidSyntax")
    scim_error(directory.post("/Users", {"schemas": [USER_SCHEMA]}), 400, "invalidValue")
    scim_error(directory.post("/Users", {"userName": 7}), 400, "invalidValue")
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1  # the admin


def test_errors_anywhere_under_scim_are_scim_errors_not_pages(directory, sales):
    scim_error(directory.get("/Nothing/here"), 404)
    response = directory.delete("/Users")
    scim_error(response, 405)
    assert "GET" in response.headers["Allow"]
    huge = {"userName": "a@example.com", "displayName": "x" * (5 * 1024 * 1024)}
    scim_error(directory.post("/Users", huge), 413)


def test_groups_are_not_supported(directory):
    error = scim_error(directory.get("/Groups"), 501)
    assert "department" in error["detail"]
    scim_error(directory.post("/Groups", {"displayName": "Sales"}), 501)
    scim_error(directory.patch("/Groups/3", patch()), 501)


# Tokens


def test_no_wrong_or_revoked_token_is_a_401_and_changes_nothing(
    client, directory, sales, token, admin
):
    from serviceideas.scim import tokens
    from tests.scim.conftest import Directory

    user = created(directory)
    deactivate = patch({"op": "replace", "path": "active", "value": False})
    tokens.revoke_token(admin, token[0])
    db.session.commit()
    for secret in (None, "scim_not-a-token", "Basic x", token[1]):
        stranger = Directory(client, secret)
        error = scim_error(stranger.patch(f"/Users/{user['id']}", deactivate), 401)
        assert "bearer token" in error["detail"]
        scim_error(stranger.post("/Users", new_user("joe@example.com")), 401)
    assert person("jane.doe@example.com").active is True
    assert person("joe@example.com") is None
    refused = db.session.scalars(
        sa.select(ScimRequest).where(ScimRequest.status == 401).order_by(ScimRequest.id)
    ).all()
    assert len(refused) == 8
    assert all(line.person_id is None for line in refused)
    assert [line.token_id for line in refused][-2:] == [token[0].id] * 2  # the revoked one


def test_a_bug_is_a_scim_500_not_a_page(app, directory, monkeypatch):
    from serviceideas.scim import queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production, not raised here
    monkeypatch.setattr(queries, "people_matching", broken)
    scim_error(directory.get("/Users"), 500)
    assert log()[-1].status == 500


# Odd input: whatever a directory sends, a SCIM answer and never a 500

KEYS = st.sampled_from(
    ["schemas", "userName", "name", "givenName", "familyName", "formatted", "displayName",
     "active", "emails", "value", "type", "primary", "externalId", "id", "meta", "roles",
     "Operations", "op", "path", ENTERPRISE, "department", "manager", "password"]
)  # fmt: skip
PATHS = st.sampled_from(
    ["active", "userName", "name.givenName", 'emails[type eq "work"].value', "externalId",
     f"{ENTERPRISE}:department", f"{ENTERPRISE}:manager", "emails[", "id", "meta.created",
     "", "urn:x:y", 'emails[value sw "a"]', "name", "roles[primary eq true]"]
) | st.text(max_size=20)  # fmt: skip
ODD = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | PATHS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=12,
)
OPERATIONS = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "Replace", "remove", "REMOVE", "move"]) | ODD},
        optional={"path": PATHS | ODD, "value": ODD},
    ),
    max_size=4,
)
FILTERS = st.sampled_from(
    ['userName eq "a@example.com"', "active eq true", 'id eq "1" and active eq false',
     'userName eq "a" or', "emails[type eq", 'name.givenName sw "J"', "not (active pr)"]
) | st.text(max_size=40)  # fmt: skip


@given(
    payload=ODD,
    operations=OPERATIONS,
    query=st.dictionaries(
        st.sampled_from(["filter", "startIndex", "count", "attributes", "excludedAttributes"]),
        FILTERS,
        max_size=4,
    ),
)
def test_no_odd_input_makes_a_500(directory, sales, payload, operations, query):
    user_id = person("fuzz@example.com").id if person("fuzz@example.com") else None
    if user_id is None:
        user_id = created(directory, email="fuzz@example.com")["id"]
    answers = [
        directory.post("/Users", payload),
        directory.put(f"/Users/{user_id}", payload),
        directory.patch(f"/Users/{user_id}", {"schemas": [PATCH_OP], "Operations": operations}),
        directory.patch(f"/Users/{user_id}", payload),
        directory.get("/Users", query_string=query),
        directory.get(f"/Users/{user_id}", query_string=query),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_data()[:300]
        assert response.mimetype == MEDIA_TYPE
        if response.status_code >= 400:
            scim_error(response, response.status_code, body(response).get("scimType"))


# A missing `active`


def test_a_put_or_patch_without_active_leaves_it_as_it_is(directory, sales):
    user = created(directory, active=False)
    replaced = new_user(given="Janet")
    del replaced["active"]
    response = directory.put(f"/Users/{user['id']}", replaced)
    assert response.status_code == 200 and body(response)["active"] is False
    removed = patch({"op": "remove", "path": "active"})
    assert body(directory.patch(f"/Users/{user['id']}", removed))["active"] is False
    jane = person("jane.doe@example.com")
    assert (jane.name, jane.active) == ("Janet Doe", False)
    assert log()[-2].outcome == "Updated jane.doe@example.com: name"


def test_a_user_created_without_active_is_active(directory, sales):
    user = new_user()
    del user["active"]
    assert body(directory.post("/Users", user))["active"] is True
    assert person("jane.doe@example.com").active is True


def test_an_id_out_of_the_databases_range_is_nobody(directory, sales):
    for user_id in ("3000000000", "99999999999999999999999", "²", "0", "-1"):
        error = scim_error(directory.get(f"/Users/{user_id}"), 404)
        assert "no User" in error["detail"]
        found = directory.get("/Users", query_string={"filter": f'id eq "{user_id}"'})
        assert found.status_code == 200 and body(found)["totalResults"] == 0
