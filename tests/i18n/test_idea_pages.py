"""The idea pages and the journey stages' admin pages say nothing in English that did not go
through the catalogue: rendered in the pseudo-language (tests/i18n/pseudo.py) with content
written in Cyrillic, no Latin text is left outside ⟦ ⟧."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask.testing import FlaskClient

from serviceideas.extensions import db
from serviceideas.ideas import services, stage_services
from serviceideas.ideas.models import Compass, Lens, Status
from serviceideas.people.models import Role, User
from tests.i18n import pseudo

# What the tests' content says: people write it, so it is shown as written.
CONTENT = [
    "Because.",
    "Done, and it worked.",
    "Customers wait too long on the phone.",
    "Call them back instead.",
]
HTMX = {"HX-Request": "true"}


def _untranslated(
    client: FlaskClient, url: str, status: int = 200, headers: Any = None, **form: Any
) -> list[str]:
    if form:
        response = client.post(url, data=form, headers=headers, follow_redirects=True)
    else:
        response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code)
    page = response.get_data(as_text=True)
    # The page's own part: the layout around it (navigation, footer) is the layout's to check.
    main = re.search(r"<main\b.*</main>", page, re.DOTALL)
    return pseudo.untranslated(main[0] if main else page, CONTENT)


def test_the_idea_pages_are_in_the_catalogue(
    pseudo_as: Callable[[User | None], FlaskClient],
    make_user: Callable[..., User],
    make_department: Callable[..., Any],
    make_idea: Callable[..., Any],
) -> None:
    team = make_department("Отдел продаж")
    author = make_user(name="Анна Иванова", department=team)
    colleague = make_user(name="Вера Смирнова", department=team)
    manager = make_user(Role.MANAGER, name="Борис Петров", department=team)
    admin = make_user(Role.ADMIN, name="Глеб Орлов", department=team)
    stage = stage_services.add_stage(admin, "Оплата", "Клиент платит за заказ.")
    retired = stage_services.add_stage(admin, "Ожидание", "Клиент ждёт ответа.")
    idea = make_idea(
        Status.APPROVED,
        author=author,
        title="Перезванивать клиентам",
        problem="Клиенты долго ждут на линии.",
        proposal="Перезванивать им самим.",
        reviewer=manager,
    )
    services.set_owner(manager, idea, colleague, seen_owner_id=None)
    services.set_customer_side(
        manager, idea, services.CustomerSide(stage.id, Compass.NEED), seen_version=idea.version
    )
    services.record_progress(
        colleague, idea, services.Progress("Позвонить в банк", date(2099, 1, 5), "Начали.")
    )
    comment = services.add_comment(colleague, idea, "Хорошая мысль.")
    removed = services.add_comment(manager, idea, "Не по теме.")
    services.remove_comment(manager, removed)
    services.set_vote(colleague, idea, True)
    stage_services.retire_stage(admin, retired)
    done = make_idea(Status.IMPLEMENTED, author=colleague, title="Чат на сайте", reviewer=manager)
    declined = make_idea(Status.DECLINED, author=colleague, title="Ночная смена", reviewer=manager)
    hidden = services.submit_idea(
        author,
        services.IdeaDraft(
            title="Тихая комната",
            problem="Шумно.",
            proposal="Комната.",
            lens=Lens.REMOVE_GO_AWAY,
            beneficiary=team,
            name_hidden=True,
        ),
    )
    db.session.commit()

    as_author, as_colleague = pseudo_as(author), pseudo_as(colleague)
    as_manager, as_admin = pseudo_as(manager), pseudo_as(admin)
    pages = {
        "list": _untranslated(as_colleague, "/ideas"),
        "list filtered": _untranslated(
            as_colleague, f"/ideas?q=клиент&sort=waiting&status=approved&stage={stage.id}"
        ),
        "list refused": _untranslated(as_colleague, "/ideas?status=nonsense", 400),
        "new": _untranslated(as_author, "/ideas/new"),
        "similar": _untranslated(as_author, "/ideas/similar?title=Перезванивать+клиентам"),
        "mine": _untranslated(as_author, "/ideas/mine"),
        "owned": _untranslated(as_colleague, "/ideas/owned"),
        "idea as author": _untranslated(as_author, f"/ideas/{idea.id}"),
        "idea as owner": _untranslated(as_colleague, f"/ideas/{idea.id}"),
        "idea as manager": _untranslated(as_manager, f"/ideas/{idea.id}"),
        "implemented": _untranslated(as_manager, f"/ideas/{done.id}"),
        "declined": _untranslated(as_colleague, f"/ideas/{declined.id}"),
        "hidden name": _untranslated(as_author, f"/ideas/{hidden.id}"),
        "hidden name, colleague": _untranslated(as_colleague, f"/ideas/{hidden.id}"),
        "review": _untranslated(as_manager, "/ideas/review"),
        "owner matches": _untranslated(as_manager, f"/ideas/{idea.id}/owner/matches?owner=Вера"),
        "no owner matches": _untranslated(as_manager, f"/ideas/{idea.id}/owner/matches?owner=Жжж"),
        "merge matches": _untranslated(
            as_manager, f"/ideas/{hidden.id}/merge/matches?merge_into=Перезванивать"
        ),
        "stages": _untranslated(as_admin, "/admin/stages"),
        "stage": _untranslated(as_admin, f"/admin/stages/{stage.id}"),
    }
    pages["new refused"] = _untranslated(
        as_author, "/ideas/new", 422, title="", problem="", proposal="", submission_token="x"
    )
    pages["decision refused"] = _untranslated(
        as_manager, f"/ideas/{idea.id}/status", 422, to="declined", seen_change="999999"
    )
    pages["decision overtaken"] = _untranslated(
        as_manager, f"/ideas/{idea.id}/status", 409, to="in_progress", seen_change="0", note="Да."
    )
    pages["owner overtaken"] = _untranslated(
        as_manager, f"/ideas/{idea.id}/owner", 409, owner="", seen_owner="nobody"
    )
    pages["vote"] = _untranslated(
        as_author, f"/ideas/{done.id}/vote", 409, HTMX, vote="1", place="top"
    )
    pages["vote counted"] = _untranslated(
        as_manager, f"/ideas/{idea.id}/vote", 200, HTMX, vote="1", place="side"
    )
    pages["follow"] = _untranslated(as_author, f"/ideas/{idea.id}/follow", 200, HTMX, follow="0")
    pages["comment"] = _untranslated(
        as_author, f"/ideas/{idea.id}/comments", 200, HTMX, body="Спасибо.", submission_token="y"
    )
    pages["comment refused"] = _untranslated(
        as_author, f"/ideas/{idea.id}/comments", 422, HTMX, body="", submission_token="z"
    )
    pages["edit comment"] = _untranslated(
        as_colleague, f"/ideas/{idea.id}/comments/{comment.id}/edit"
    )
    pages["similar, none"] = _untranslated(as_author, "/ideas/similar?title=Жжжжж&shown=1")
    pages["stage refused"] = _untranslated(as_admin, "/admin/stages", 422, name="", explanation="")
    assert {page: left for page, left in pages.items() if left} == {}
