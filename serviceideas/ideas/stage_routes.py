"""Admin pages for the journey stages (docs/product.md, "Journey stages and the compass"):
the list in order with each stage's use, adding, editing, moving, retiring and deleting.

Under /admin beside the other admin pages, but a blueprint of the ideas feature: people, the
ground floor, knows nothing of ideas.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from serviceideas import refusals
from serviceideas.extensions import db
from serviceideas.forms import EmptyForm
from serviceideas.ideas import stage_services
from serviceideas.ideas.models import JourneyStage
from serviceideas.ideas.stage_forms import MoveForm, StageForm
from serviceideas.ideas.stage_queries import stages_with_idea_counts
from serviceideas.ideas.stage_services import Direction
from serviceideas.people.models import User
from serviceideas.people.policies import can_administer, requires
from serviceideas.writes import commit_or_refuse

bp = Blueprint("journey", __name__, url_prefix="/admin/stages")


def _admin() -> User:
    """The signed-in admin (every view here is guarded)."""
    admin: User = current_user._get_current_object()
    return admin


def _to_list(stage_id: int | None = None) -> Response:
    anchor = f"stage-{stage_id}" if stage_id is not None else None
    return redirect(url_for("journey.stages", _anchor=anchor), code=303)


@bp.route("", methods=["GET", "POST"])
@requires(can_administer)
def stages() -> ResponseReturnValue:
    form = StageForm()
    if request.method == "POST":
        if form.validate_on_submit():
            added = commit_or_refuse(
                lambda: stage_services.add_stage(
                    _admin(), form.name.data or "", form.explanation.data or ""
                ),
                form=form,
                field="name",
            )
            if added:
                flash(
                    gettext(
                        "Stage %(stage)s added at the end of the journey.", stage=added.kept.name
                    ),
                    "success",
                )
                return _to_list(added.kept.id)
        return refusals.refuse(form, url_for("journey.stages"))
    refusals.restore(form)
    return render_template(
        "admin/stages.html",
        form=form,
        stages=stages_with_idea_counts(),
        button=EmptyForm(),
    )


@bp.route("/<id:stage_id>", methods=["GET", "POST"])
@requires(can_administer)
def edit_stage(stage_id: int) -> ResponseReturnValue:
    stage = db.get_or_404(JourneyStage, stage_id)
    form = StageForm(data={"name": stage.name, "explanation": stage.explanation})
    page = url_for("journey.edit_stage", stage_id=stage.id)
    if request.method == "POST":
        if form.validate_on_submit():
            saved = commit_or_refuse(
                lambda: stage_services.edit_stage(
                    _admin(), stage, form.name.data or "", form.explanation.data or ""
                ),
                form=form,
                field="name",
            )
            if saved:
                flash(gettext("Stage %(stage)s saved.", stage=stage.name), "success")
                return _to_list(stage.id)
        return refusals.refuse(form, page)
    refusals.restore(form)
    return render_template("admin/stage_edit.html", form=form, stage=stage)


@bp.route("/<id:stage_id>/move", methods=["POST"])
@requires(can_administer)
def move_stage(stage_id: int) -> Response:
    stage = db.get_or_404(JourneyStage, stage_id)
    form = MoveForm()
    if form.validate_on_submit():
        direction = Direction(form.direction.data or "")
        commit_or_refuse(lambda: stage_services.move_stage(_admin(), stage, direction))
    else:
        flash(gettext("Say whether to move the stage up or down."), "error")
    return _to_list(stage.id)


@bp.route("/<id:stage_id>/retire", methods=["POST"])
@requires(can_administer)
def retire_stage(stage_id: int) -> Response:
    stage = db.get_or_404(JourneyStage, stage_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: stage_services.retire_stage(_admin(), stage)
    ):
        flash(
            gettext(
                "Stage %(stage)s retired: it is no longer offered for new ideas; the ideas that "
                "name it keep it.",
                stage=stage.name,
            ),
            "success",
        )
    return _to_list(stage.id)


@bp.route("/<id:stage_id>/restore", methods=["POST"])
@requires(can_administer)
def restore_stage(stage_id: int) -> Response:
    stage = db.get_or_404(JourneyStage, stage_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: stage_services.restore_stage(_admin(), stage)
    ):
        flash(
            gettext("Stage %(stage)s is offered for new ideas again.", stage=stage.name), "success"
        )
    return _to_list(stage.id)


@bp.route("/<id:stage_id>/delete", methods=["POST"])
@requires(can_administer)
def delete_stage(stage_id: int) -> Response:
    stage = db.get_or_404(JourneyStage, stage_id)
    name = stage.name
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: stage_services.delete_stage(_admin(), stage)
    ):
        flash(gettext("Stage %(stage)s deleted.", stage=name), "success")
        return _to_list()
    return _to_list(stage.id)
