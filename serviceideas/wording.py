"""How counts read in the English the command line and the jobs' summaries write for
operators: "1 idea", "4 ideas", "1 person", "2 people" — never "4 idea" or "idea(s)".

Texts people read are translated, and count with `ngettext`, which knows each language's
plurals (docs/architecture.md, "Translations")."""

from __future__ import annotations


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The word for `count` things: `singular` for exactly one, else `plural` (by default
    the singular with an "s"). Also for verbs that agree: noun(n, "was", "were")."""
    if count == 1:
        return singular
    return f"{singular}s" if plural is None else plural


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """`count` and its word: plural(1, "idea") is "1 idea", plural(0, "idea") "0 ideas",
    plural(2, "person", "people") "2 people"."""
    return f"{count} {noun(count, singular, plural)}"
