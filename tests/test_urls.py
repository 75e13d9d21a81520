"""Addresses built once for many rows must equal url_for's, whatever the ids."""

from __future__ import annotations

import pytest
from flask import url_for

from serviceideas.urls import DATABASE_INT_MAX, url_for_each


@pytest.mark.parametrize("idea_id", [1, 7, 2147483, DATABASE_INT_MAX])
def test_url_for_each_builds_what_url_for_builds(app, idea_id):
    with app.test_request_context("/"):
        edit = url_for_each("ideas.edit_comment", "comment_id", idea_id=idea_id)
        for comment_id in (1, 12, idea_id, DATABASE_INT_MAX):
            assert edit(comment_id) == url_for(
                "ideas.edit_comment", idea_id=idea_id, comment_id=comment_id
            )
        show = url_for_each("ideas.show", "idea_id")
        assert show(idea_id) == url_for("ideas.show", idea_id=idea_id)


def test_url_for_each_keeps_the_script_root(app):
    with app.test_request_context("/", base_url="http://example.com/staff"):
        assert url_for_each("ideas.show", "idea_id")(5) == "/staff/ideas/5"


def test_url_for_each_falls_back_when_the_marker_appears_elsewhere(app):
    marker = DATABASE_INT_MAX + 1
    with app.test_request_context("/"):
        # The marker's digits also in another value: each address is built the ordinary way.
        each = url_for_each("ideas.index", "after", q=str(marker))
        assert each(3) == url_for("ideas.index", q=str(marker), after=3)
