"""The translation catalogues' source: every text marked for translation in the code and the
templates (docs/architecture.md, "Translations").

`make translations` runs this module to write serviceideas/translations/messages.pot, then
`pybabel update` brings each language's .po file in line with it. The tests extract the same
way, so a text marked but missing from a catalogue, or a catalogue entry left fuzzy, fails
`make test`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"

# gettext's usual names, and Flask-Babel's lazy ones for texts defined at import.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
# A comment starting "Translators:" just before a marked text goes into the catalogue with it.
COMMENT_TAGS = ("Translators:",)


def extract(root: Path = ROOT) -> Catalog:
    """Every marked text under `root`, read as babel.cfg says, in one catalogue."""
    with open(root / "babel.cfg", encoding="utf-8") as config:
        # Babel's own reader of babel.cfg, untyped in Babel 2.x.
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    catalog = Catalog(project="serviceideas", msgid_bugs_address="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=_outside_tools,
    ):
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def _outside_tools(dirpath: str) -> bool:
    name = Path(dirpath).name
    return not (name.startswith(".") or name in {"node_modules", "tests", "__pycache__"})


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else TEMPLATE
    catalog = extract()
    with open(target, "wb") as out:
        write_po(out, catalog, width=100, sort_by_file=True, include_lineno=False)
    print(f"{len(catalog)} texts written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
