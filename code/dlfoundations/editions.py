"""The Chinese editions of the book, from the English source and the ``locale/`` catalogues.

The English notebooks and pages are the only source. Their prose is cut into messages by Sphinx's gettext
builder (one per paragraph, heading, list item, table cell, caption or admonition title, MyST source with its
roles and maths) and translated in ``locale/<language>/LC_MESSAGES/*.po``::

    python -m dlfoundations.editions update     # make gettext: .pot from the source, then sphinx-intl update

Sphinx could translate the pages itself at build time, but not the notebooks' glued numbers: myst-nb parses a
translated string without the notebook's outputs, so every ``{glue}`` role would render empty. So each edition's
notebooks are *generated* instead, Markdown translated and code cells byte-identical: jupyter-cache keys a
notebook on its code cells, so the Chinese notebooks take the English book's executed outputs, and every number
on a Chinese page comes from the same run as on the English page.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

from . import book, i18n

ROOT = book.ROOT
LOCALE = "locale"
# catalogue language (Sphinx's, and the theme's labels) → the edition's folder beside the English book
EDITIONS = {"zh_TW": "zh-Hant", "zh_CN": "zh-Hans"}
TRANSLATED = "zh_TW"  # translated by people; zh_CN is derived from it (OpenCC and the glossary's 简体 names)
POT_FOLDER = "_build/gettext"


def _jupyter_book() -> str:
    return str(Path(sys.executable).with_name("jupyter-book"))


def _keep(message, glossary_names: set[str], path: str) -> bool:
    """Whether a message extracted by Sphinx belongs in the catalogues: not a display formula (nothing to
    translate; Sphinx extracts it as raw LaTeX starting with a newline), not a piece of text without words,
    and not one of the glossary's own term lines (the glossary is where the Chinese names come from)."""
    text = str(message.id)
    if not text or text.startswith("\n") or not re.search(r"[A-Za-z]{2}", i18n.prose(text)):
        return False  # maths, code, numbers and labels such as "C1" or "6 × 28 × 28" stay as they are
    return not (path == "glossary.md" and text in glossary_names)


def extract(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write the book's message templates, one ``.pot`` per page under ``out/pot`` (default ``_build/gettext``),
    with references relative to ``root`` (``chapters/03_backpropagation.ipynb:180004``: cell 18, line 4)."""
    from babel.messages import pofile

    root = Path(root).resolve()
    out = Path(out or root / POT_FOLDER).resolve()
    settings = book.book_config(root / "_config.yml", "off", "quick", key="gettext")
    sphinx = settings.setdefault("sphinx", {}).setdefault("config", {})
    sphinx.update({"gettext_compact": False, "gettext_additional_targets": [], "gettext_location": True})
    sphinx["gettext_uuid"] = False
    out.mkdir(parents=True, exist_ok=True)
    config_file = out / "config.yml"
    config_file.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    command = [_jupyter_book(), "build", str(root), "--config", str(config_file), "--path-output", str(out)]
    command += ["--builder", "custom", "--custom-builder", "gettext", "-q"]
    subprocess.run(command, check=True)
    built = out / "_build" / "gettext"
    names = {name for term in i18n.glossary(root / "glossary.md") for name in (term.english, term.hant, term.hans)}
    written = []
    for template in sorted(built.rglob("*.pot")):
        catalogue = pofile.read_po(template.open("rb"))
        page = template.relative_to(built).with_suffix("")
        kept = [m for m in catalogue if m.id]
        for message in kept:
            message.locations = [(_relative(file, built, root), line) for file, line in message.locations]
        source = kept[0].locations[0][0] if kept and kept[0].locations else str(page)
        for message in list(catalogue):
            if message.id and not _keep(message, names, source):
                del catalogue[message.id]
        catalogue.project, catalogue.version = "Deep Learning Foundations", ""
        catalogue.copyright_holder = "The Deep Learning Foundations contributors"
        target = out / "pot" / page.with_suffix(".pot")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            pofile.write_po(handle, catalogue, width=76, omit_header=False)
        written.append(target)
    return written


def _relative(file: str, built: Path, root: Path) -> str:
    """A reference Sphinx wrote relative to its output folder, made relative to the book's root."""
    return Path((built / file).resolve()).relative_to(root).as_posix()


def update(root: Path = ROOT, languages=tuple(EDITIONS)) -> None:
    """``make gettext``: extract the templates, then bring every language's catalogues in step with them
    (sphinx-intl: new messages added untranslated, changed ones marked fuzzy, removed ones dropped)."""
    pot = extract(root)[0].parents[0]
    while pot.name != "pot":
        pot = pot.parent
    command = [str(Path(sys.executable).with_name("sphinx-intl")), "update", "-p", str(pot)]
    command += ["-d", str(Path(root) / LOCALE), "-w", "76"]
    for language in languages:
        command += ["-l", language]
    subprocess.run(command, check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlfoundations.editions", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="write the .pot templates under _build/gettext/pot")
    commands.add_parser("update", help="extract, then update locale/*/LC_MESSAGES with sphinx-intl")
    args = parser.parse_args(argv)
    if args.command == "extract":
        for path in extract():
            print(path)
    elif args.command == "update":
        update(languages=[TRANSLATED])
    return 0


if __name__ == "__main__":
    sys.exit(main())
