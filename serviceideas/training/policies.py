"""Who may do what with training. Reflection text is private to its author and trainers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from serviceideas.people.models import Role
from serviceideas.people.policies import Someone, is_active_person

if TYPE_CHECKING:
    from serviceideas.training.models import Enrolment


def can_train(user: Someone) -> bool:
    """Trainers (and admins) write modules, assign them, read reflections and give feedback."""
    return is_active_person(user) and user.has_role(Role.TRAINER)


def can_see_coverage(user: Someone) -> bool:
    """Trainers and managers see who is up to date — completion, never reflection text."""
    return is_active_person(user) and (user.has_role(Role.TRAINER) or user.has_role(Role.MANAGER))


def can_read_reflections(user: Someone) -> bool:
    """Only people who hold the trainer role itself. An admin's powers stop here: candour
    is the point of a reflection, so admins and managers who are not trainers see whether
    it was done, never what was written (docs/product.md, "Privacy of reflections")."""
    return is_active_person(user) and user.is_trainer


def can_work_on(user: Someone, enrolment: Enrolment) -> bool:
    """Only the learner opens and completes their own enrolment."""
    return is_active_person(user) and enrolment.user_id == user.id


TEMPLATE_POLICIES = {
    "can_train": can_train,
    "can_see_coverage": can_see_coverage,
    "can_read_reflections": can_read_reflections,
}
