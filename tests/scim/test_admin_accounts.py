"""What the directory may not do to admins (docs/product.md, "Staff from the directory"):
change an admin's e-mail, reactivate an admin, or touch the break-glass admins at all; it may
deactivate other admins, and never reaches roles or passwords."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash

from serviceideas.extensions import db
from serviceideas.people import services as people
from serviceideas.people.models import Role, User
from tests.conftest import PASSWORD
from tests.scim.conftest import PATCH_OP, body, log, new_user, scim_error


def patch(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def fresh(person):
    db.session.expire_all()
    return db.session.get(User, person.id)


@pytest.fixture
def boss(make_user, sales):
    return make_user(Role.ADMIN, email="boss@example.com", name="Bo Boss", department=sales)


def refused_as_immutable(response, boss):
    error = scim_error(response, 400, "mutability")
    assert "serviceideas" in error["detail"]
    line = log()[-1]
    assert (line.status, line.person_id) == (400, boss.id)
    return error


def test_the_directory_cannot_change_an_admins_email(directory, boss):
    taken_over = patch({"op": "replace", "path": "userName", "value": "someone@example.com"})
    refused_as_immutable(directory.patch(f"/Users/{boss.id}", taken_over), boss)
    replaced = new_user("someone@example.com", given="Bo", family="Boss")
    refused_as_immutable(directory.put(f"/Users/{boss.id}", replaced), boss)
    assert fresh(boss).email == "boss@example.com"
    # Leaving the e-mail as it is, the rest still changes.
    renamed = patch({"op": "replace", "path": "displayName", "value": "Bo B. Boss"})
    assert directory.patch(f"/Users/{boss.id}", renamed).status_code == 200
    assert fresh(boss).name == "Bo B. Boss"


def test_the_directory_may_deactivate_an_admin_but_never_reactivate_one(directory, boss):
    leaving = patch({"op": "replace", "path": "active", "value": False})
    assert directory.patch(f"/Users/{boss.id}", leaving).status_code == 200
    assert fresh(boss).active is False
    back = patch({"op": "replace", "path": "active", "value": True})
    refused_as_immutable(directory.patch(f"/Users/{boss.id}", back), boss)
    assert fresh(boss).active is False
    whole = new_user("boss@example.com", given="Bo", family="Boss", active=True)
    refused_as_immutable(directory.put(f"/Users/{boss.id}", whole), boss)
    assert fresh(boss).active is False


def test_an_admin_deactivated_by_hand_stays_deactivated(directory, boss, admin):
    people.set_active(admin, boss, False)
    db.session.commit()
    back = patch({"op": "replace", "value": {"active": True}})
    refused_as_immutable(directory.patch(f"/Users/{boss.id}", back), boss)
    assert fresh(boss).active is False


def test_the_break_glass_admins_are_out_of_the_directorys_reach(app, directory, boss):
    app.config["PASSWORD_SIGN_IN_ADMINS"] = ["boss@example.com"]
    leaving = patch({"op": "replace", "path": "active", "value": False})
    refused_as_immutable(directory.patch(f"/Users/{boss.id}", leaving), boss)
    refused_as_immutable(directory.delete(f"/Users/{boss.id}"), boss)
    renamed = patch({"op": "replace", "path": "displayName", "value": "Someone Else"})
    refused_as_immutable(directory.patch(f"/Users/{boss.id}", renamed), boss)
    moved = new_user("boss@example.com", given="Bo", family="Boss", department="Elsewhere")
    app.config["DEFAULT_DEPARTMENT"] = None
    assert directory.put(f"/Users/{boss.id}", moved).status_code == 400
    assert (fresh(boss).active, fresh(boss).name) == (True, "Bo Boss")
    # Reading them, and a request that changes nothing, are answered as usual.
    assert directory.get(f"/Users/{boss.id}").status_code == 200
    same = patch({"op": "replace", "path": "active", "value": True})
    assert body(directory.patch(f"/Users/{boss.id}", same))["active"] is True


def test_roles_and_passwords_stay_out_of_the_directorys_reach(directory, sales, boss):
    jane = directory.post("/Users", new_user()).get_json()
    promoted = patch(
        {"op": "add", "path": "roles", "value": [{"value": "admin", "primary": True}]},
        {"op": "replace", "path": "password", "value": "Directory-chosen-1"},
        {"op": "replace", "path": "externalId", "value": "x-1"},
    )
    assert directory.patch(f"/Users/{jane['id']}", promoted).status_code == 200
    assert directory.patch(f"/Users/{boss.id}", promoted).status_code == 200
    replaced = new_user("boss@example.com", given="Bo", family="Boss")
    replaced |= {"roles": [{"value": "employee"}], "password": "Directory-chosen-1"}
    assert directory.put(f"/Users/{boss.id}", replaced).status_code == 200
    jane_now = db.session.get(User, int(jane["id"]))
    assert (jane_now.granted_roles, jane_now.password_hash) == (frozenset(), None)
    assert fresh(boss).granted_roles == {Role.ADMIN}
    assert check_password_hash(fresh(boss).password_hash, PASSWORD)


def test_an_admin_leaving_is_deactivated_even_with_a_new_email(directory, boss, client_as):
    signed_in = client_as(boss)
    leaving = patch(
        {"op": "replace", "path": "userName", "value": "someone@example.com"},
        {"op": "replace", "path": "active", "value": False},
    )
    assert directory.patch(f"/Users/{boss.id}", leaving).status_code == 200
    assert (fresh(boss).active, fresh(boss).email) == (False, "boss@example.com")
    assert log()[-1].outcome == "Deactivated boss@example.com"
    assert signed_in.get("/").status_code in {302, 303}
