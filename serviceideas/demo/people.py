"""A believable company for the demo: eight departments, four of them back office, 60 people."""

from __future__ import annotations

import random

from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import Department, DepartmentKind, Role, User

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published in the README on purpose

DEPARTMENTS = [
    ("Customer Service", DepartmentKind.FRONT_LINE, 14),
    ("Stores", DepartmentKind.FRONT_LINE, 11),
    ("Field Service", DepartmentKind.FRONT_LINE, 7),
    ("Sales", DepartmentKind.FRONT_LINE, 6),
    ("IT", DepartmentKind.BACK_OFFICE, 6),
    ("Logistics", DepartmentKind.BACK_OFFICE, 8),
    ("Finance", DepartmentKind.BACK_OFFICE, 4),
    ("People & Culture", DepartmentKind.BACK_OFFICE, 3),
]

# The five sign-ins the README lists, one for each role (docs/product.md, "Roles"):
# (email, name, department, roles)
SIGN_INS = [
    ("employee@example.com", "Emma Employee", "Customer Service", ()),
    ("backoffice@example.com", "Bo Backoffice", "Logistics", ()),
    ("trainer@example.com", "Tara Trainer", "People & Culture", (Role.TRAINER,)),
    ("manager@example.com", "Max Manager", "Customer Service", (Role.MANAGER,)),
    ("admin@example.com", "Ada Admin", "IT", (Role.ADMIN,)),
]

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jonas",
    "Kemal",
    "Lea",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tove",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Amara",
    "Bruno",
    "Dalia",
    "Emil",
]
LAST_NAMES = [
    "Andersen",
    "Brooks",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Laine",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Yilmaz",
]


def seed_people() -> dict[str, User]:
    """Create the departments, the five demo sign-ins and their colleagues. Returns the sign-ins."""
    rng = random.Random(2026)  # the same company every time
    departments: dict[str, Department] = {
        name: services.create_department(name, kind) for name, kind, _size in DEPARTMENTS
    }
    sign_ins = {}
    for email, name, department, roles in SIGN_INS:
        sign_ins[email] = services.create_user(
            email=email,
            name=name,
            department=departments[department],
            roles=roles,
            password=DEMO_PASSWORD,
        )
    colleagues: list[User] = []
    names = rng.sample([f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES], k=200)
    for department_name, _kind, size in DEPARTMENTS:
        for _ in range(size - sum(1 for s in SIGN_INS if s[2] == department_name)):
            name = names.pop()
            email = (
                name.lower().replace(" ", ".").translate(str.maketrans("éí", "ei")) + "@example.com"
            )
            # Colleagues have no password: an admin gives them a password-set link.
            colleagues.append(
                services.create_user(
                    email=email, name=name, department=departments[department_name]
                )
            )
    # A few more trainers and managers, as a real company would have.
    for user in rng.sample(colleagues, k=min(4, len(colleagues))):
        user.set_roles({rng.choice([Role.TRAINER, Role.MANAGER])})
    db.session.flush()
    return sign_ins
