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
import copy
import re
import subprocess
import sys
from pathlib import Path

import yaml

from . import book, i18n

ROOT = book.ROOT
LOCALE = "locale"
# catalogue language (Sphinx's, and the theme's labels) → the edition's folder beside the English book
EDITIONS = {language: folder for language, folder in book.EDITION_FOLDERS.items() if folder}
TRANSLATED = "zh_TW"  # translated by people; zh_CN is derived from it (OpenCC and the glossary's 简体 names)
POT_FOLDER = "_build/gettext"


def _jupyter_book() -> str:
    return str(Path(sys.executable).with_name("jupyter-book"))


def _keep(message, glossary_names: set[str], path: str) -> bool:
    """Whether a message extracted by Sphinx belongs in the catalogues: not a display formula (nothing to
    translate; Sphinx extracts it as raw LaTeX starting with a newline), not a piece of text without words,
    and not one of the glossary's own term lines (the glossary is where the Chinese names come from)."""
    text = str(message.id)
    if not text or text.startswith("\n") or not re.search(r"[A-Za-z]{2}|[\u3400-\u9fff]", i18n.prose(text)):
        return False  # maths, code, numbers and labels such as "C1" or "6 × 28 × 28" stay as they are
    return not (path == "glossary.md" and text in glossary_names)


def extract(root: Path = ROOT, out: Path | None = None, config: Path | None = None) -> list[Path]:
    """Write the book's message templates, one ``.pot`` per page under ``out/pot`` (default ``_build/gettext``),
    with references relative to ``root`` (``chapters/03_backpropagation.ipynb:180004``: cell 18, line 4). ``config``
    (default ``root/_config.yml``) is the book's configuration, for a generated edition the English one."""
    from babel.messages import pofile

    root = Path(root).resolve()
    out = Path(out or root / POT_FOLDER).resolve()
    settings = book.book_config(config or root / "_config.yml", "off", "quick", key="gettext")
    settings["bibtex_bibfiles"] = [str(ROOT / name) for name in settings.get("bibtex_bibfiles", [])]
    sphinx = settings.setdefault("sphinx", {}).setdefault("config", {})
    sphinx.update({"gettext_compact": False, "gettext_additional_targets": [], "gettext_location": True})
    sphinx["gettext_uuid"] = False
    out.mkdir(parents=True, exist_ok=True)
    config_file = out / "config.yml"
    config_file.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    command = [_jupyter_book(), "build", str(root), "--config", str(config_file), "--path-output", str(out)]
    command += ["--builder", "custom", "--custom-builder", "gettext", "-q"]
    subprocess.run(command, check=True, env=_plain_environment())
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
        for title, location in _exercise_titles(root, source):
            if title not in catalogue:
                catalogue.add(title, locations=[location])
        catalogue.project, catalogue.version = "Deep Learning Foundations", ""
        catalogue.copyright_holder = "The Deep Learning Foundations contributors"
        target = out / "pot" / page.with_suffix(".pot")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            pofile.write_po(handle, catalogue, width=76, omit_header=False)
        written.append(target)
    return written


_EXERCISE = re.compile(r"^(?:`{3,}|:{3,})\{exercise\}[ \t]+(\S.*?)[ \t]*$", re.MULTILINE)


def _exercise_titles(root: Path, source: str) -> list[tuple[str, tuple[str, int]]]:
    """The titles of ``{exercise}`` directives in a page (sphinx-exercise's titles are not extracted by Sphinx's
    gettext builder), with their references as Sphinx writes them (a notebook's cell × 10,000 + line)."""
    import nbformat

    path = Path(root) / source
    if path.suffix != ".ipynb":
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        return [(m.group(1), (source, text.count("\n", 0, m.start()) + 1)) for m in _EXERCISE.finditer(text)]
    found = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "markdown":
            for m in _EXERCISE.finditer(cell.source):
                found.append((m.group(1), (source, (index + 1) * 10000 + cell.source.count("\n", 0, m.start()) + 1)))
    return found


def _plain_environment() -> dict[str, str]:
    """This process's environment without what ``make test`` sets for the notebooks' kernels (tests/kernel_site,
    which hides myst-nb as Colab has no myst-nb): a Sphinx build needs myst-nb."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLF_BLOCK", "DLF_EMULATE"))}
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).name != "kernel_site"]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _relative(file: str, built: Path, root: Path) -> str:
    """A reference Sphinx wrote relative to its output folder, made relative to the book's root."""
    return Path((built / file).resolve()).relative_to(root).as_posix()


def update(root: Path = ROOT, languages=tuple(EDITIONS)) -> None:
    """``make gettext``: extract the templates, then bring every language's catalogues in step with them
    (sphinx-intl: new messages added untranslated, changed ones marked fuzzy, removed ones dropped)."""
    extract(root)
    pot = Path(root) / POT_FOLDER / "pot"
    command = [str(Path(sys.executable).with_name("sphinx-intl")), "update", "-p", str(pot)]
    command += ["-d", str(Path(root) / LOCALE), "-w", "76"]
    for language in languages:
        command += ["-l", language]
    subprocess.run(command, check=True)


# --------------------------------------------------------------------------- 简体 from 繁體

MAINLAND = "locale/zh_CN/mainland.yml"  # Taiwan phrase → mainland phrase, where OpenCC keeps or gets it wrong
# what the conversion leaves alone: roles (but the shown text of {term}/{doc}/{ref}), inline code, maths, link
# targets
_PIECES = re.compile("|".join((i18n._ROLE.pattern, i18n._CODE.pattern, i18n._MATH.pattern, r"\]\([^)\s]+\)")))
_HELD = re.compile("\ue000(\\d+)\ue001")


class Simplified:
    """Traditional Chinese (Taiwan) text to Simplified (mainland): the glossary's 繁體 names become its 简体 names
    and the phrases of :data:`MAINLAND` their mainland words (longest first, one pass), held aside while OpenCC's
    ``tw2sp`` converts the rest; MyST roles, code, maths and link targets are not touched."""

    def __init__(self, root: Path = ROOT):
        import opencc

        self.opencc, self.t2s = opencc.OpenCC("tw2sp"), opencc.OpenCC("t2s")
        table = yaml.safe_load((Path(root) / MAINLAND).read_text(encoding="utf-8")) or {}
        self.terms = {term.hant: term.hans for term in i18n.glossary(Path(root) / "glossary.md")}
        self.phrases = {**table, **self.terms}
        keys = sorted(self.phrases, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, keys)))

    def _text(self, text: str) -> str:
        held: list[str] = []

        def hold(match: re.Match) -> str:
            held.append(self.phrases[match.group()])
            return f"\ue000{len(held) - 1}\ue001"

        # tw2sp, then t2s for the odd character its phrase tables leave (等同於 stays 等同於 in OpenCC 1.4.2)
        converted = self.t2s.convert(self.opencc.convert(self.pattern.sub(hold, text)))
        return _HELD.sub(lambda match: held[int(match.group(1))], converted)

    def _piece(self, piece: str) -> str:
        if not piece.startswith("{"):
            return piece  # code, maths, a link target
        name, text, target = i18n.role_parts(piece)
        if name in i18n.SHOWN_ROLES and text != target:
            return f"{{{name}}}`{self._text(text)} <{target}>`"
        if name == "term" and text in self.terms:
            return f"{{term}}`{self.terms[text]}`"
        return piece

    def __call__(self, text: str) -> str:
        out, position = [], 0
        for match in _PIECES.finditer(text):
            out += [self._text(text[position : match.start()]), self._piece(match.group())]
            position = match.end()
        return "".join(out) + self._text(text[position:])


def derive(catalogue, convert: Simplified):
    """The zh_CN catalogue: ``catalogue`` (zh_TW) with every translation converted by ``convert``."""
    derived = copy.deepcopy(catalogue)
    derived.locale = "zh_CN"
    for message in derived:
        if message.id and message.string:
            message.string = convert(str(message.string))
    return derived


# --------------------------------------------------------------------------- generating an edition's pages

# Sphinx's message is a block's source with its line breaks turned into spaces (and the indentation or ``>`` that
# continues a list item or a quote dropped): a space of the message matches any of those in the source.
_GAP = r"(?:[ \t]*\n[ \t>]*|[ \t]+)"
# what may stand before a message on its line: a heading, list, quote or definition marker, a table row's earlier
# cells, a directive's name (the message is its title)
_BEFORE = re.compile(
    r"^(?:[ \t>]*(?:(?:#{1,6}|[-*+:]|\d+[.)])[ \t]+)*"  # heading, list item, quote, definition
    r"|[ \t>]*\|(?:[^|\n]*\|)*[ \t]*"  # a table row's earlier cells
    r"|[ \t>]*(?:`{3,}|:{3,})\{[\w:-]+\}[ \t]*)$"  # a directive's name
)
_AFTER = re.compile(r"[ \t]*(?:\n|$|\|)")


def _pattern(msgid: str) -> re.Pattern:
    return re.compile(_GAP.join(re.escape(word) for word in msgid.split()))


def _is_block(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a whole block (paragraph, heading, item, table cell or title)."""
    line_start = text.rfind("\n", 0, start) + 1
    return bool(_BEFORE.match(text[line_start:start])) and bool(_AFTER.match(text, end))


def _find(text: str, msgid: str, start: int, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    for match in _pattern(msgid).finditer(text, start):
        span = match.span()
        if _is_block(text, *span) and not any(a < span[1] and span[0] < b for a, b in taken):
            return span
    return None


class MissingMessage(LookupError):
    """A message of the catalogue that the page's source no longer holds (run make gettext)."""


def translate_blocks(blocks: list[str], messages, cell_of=None) -> list[str]:
    """``blocks`` (a page's Markdown: one text per Markdown cell, or one for a ``.md`` page) with every message
    of ``messages`` (babel messages in document order, with ``string`` set) replaced by its translation.

    A message whose reference names a cell (``cell_of(line)``) is looked for in that cell, others from where the
    last one was found; a message found at several places (a repeated table cell) is replaced at each of them.
    Raises :class:`MissingMessage` when a message of the catalogue is nowhere in the page."""
    taken: list[list[tuple[int, int]]] = [[] for _ in blocks]
    edits: list[list[tuple[int, int, str]]] = [[] for _ in blocks]
    cursor = [0] * len(blocks)
    current = 0

    def take(index: int, msgid: str, msgstr: str) -> int:
        """Replace the message in block ``index`` (and its repeats, for a table cell); how many places."""
        count = 0
        span = _find(blocks[index], msgid, cursor[index], taken[index]) or _find(blocks[index], msgid, 0, taken[index])
        while span:
            count += 1
            taken[index].append(span)
            edits[index].append((*span, msgstr))
            cursor[index] = span[1]
            # a table repeats a cell's text: every whole cell with the same text has the same translation
            span = _find(blocks[index], msgid, span[1], taken[index]) if _table_cell(blocks[index], span) else None
        return count

    for message in messages:
        msgid, msgstr = str(message.id), str(message.string or "")
        if not msgid or not msgstr:
            continue
        cells = sorted({cell_of(line) for _, line in message.locations if line is not None}) if cell_of else []
        found = sum(take(cell, msgid, msgstr) for cell in cells if 0 <= cell < len(blocks))
        if found:
            current = cells[-1]
        else:  # no cell named, or not the right one (a table cell's reference is an earlier block's line)
            for index in [*range(current, len(blocks)), *range(current)]:
                found = take(index, msgid, msgstr)
                if found:
                    current = index
                    break
        if not found:
            raise MissingMessage(f"{i18n.where(message)}: {msgid[:70]!r} is not in the page: run make gettext")
    out = []
    for text, changes in zip(blocks, edits, strict=True):
        for start, end, replacement in sorted(changes, reverse=True):
            text = text[:start] + replacement + text[end:]
        out.append(text)
    return out


def _table_cell(text: str, span: tuple[int, int]) -> bool:
    line_start = text.rfind("\n", 0, span[0]) + 1
    return text[line_start : span[0]].lstrip(" \t>").startswith("|")


def notebook_cell(line: int) -> int:
    """The cell index (from 0) of a notebook message's reference: myst-nb numbers lines cell × 10,000 + line,
    counting cells from 1."""
    return line // 10000 - 1


_GLUE_MD = re.compile(r"\{glue:md\}`([^`:]+)((?::[^`]*)?)`")


def glue_roles(text: str, language: str) -> str:
    """``text`` with each ``{glue:md}`` role naming its edition's version of the glued sentence
    (:func:`~dlfoundations.book.glue_name`: ``{glue:md}`run`` becomes ``{glue:md}`run__zh_TW``); numbers
    (``{glue:text}``) are the same in every edition and keep their names."""
    return _GLUE_MD.sub(lambda m: f"{{glue:md}}`{book.glue_name(m.group(1), language)}{m.group(2)}`", text)


def translate_notebook(path: Path, catalogue, language: str | None = None):
    """The notebook at ``path`` with its Markdown cells translated by ``catalogue`` (and, given the edition's
    ``language``, its glued sentences in that language: :func:`glue_roles`); code cells, outputs and metadata
    untouched (byte-identical code: the same jupyter-cache entry as the English notebook)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    blocks = [cell.source if cell.cell_type == "markdown" else "" for cell in notebook.cells]
    translated = translate_blocks(blocks, list(catalogue), notebook_cell)
    for cell, text in zip(notebook.cells, translated, strict=True):
        if cell.cell_type == "markdown":
            cell.source = glue_roles(text, language) if language else text
    return notebook


def toc_captions(toc: dict) -> list[str]:
    """The part captions of a ``_toc.yml``: Sphinx extracts them with the root page's messages."""
    return [part["caption"] for part in toc.get("parts", []) if "caption" in part]


def translate_page(path: Path, catalogue, skip: set[str] = frozenset()) -> str:
    """A MyST Markdown page translated by ``catalogue`` (the messages in ``skip``, the table of contents'
    captions, are not the page's)."""
    messages = [message for message in catalogue if str(message.id) not in skip]
    return translate_blocks([Path(path).read_text(encoding="utf-8")], messages)[0]


def translate_toc(toc: dict, catalogue) -> dict:
    """``_toc.yml``'s contents with its part captions translated by the root page's ``catalogue``."""
    toc = copy.deepcopy(toc)
    for part in toc.get("parts", []):
        if "caption" in part:
            message = catalogue.get(part["caption"])
            if message is None:
                raise MissingMessage(f"the caption {part['caption']!r} is not in the catalogue: run make gettext")
            part["caption"] = str(message.string or part["caption"])  # untranslated: English (make test fails)
    return toc


# --------------------------------------------------------------------------- writing and building the editions

EDITIONS_FOLDER = "editions"  # the generated pages, committed: Colab and the download buttons open them
TITLES = {"zh_TW": "深度學習基礎", "zh_CN": "深度学习基础"}
SEARCH_TEXT = {"zh_TW": "搜尋本書…", "zh_CN": "搜索本书…"}
LABELS = book.EDITION_LABELS
GENERATED = "generated by python -m dlfoundations.editions write from the English source and locale/: do not edit"


def catalogues(language: str, root: Path = ROOT) -> dict[str, object]:
    """Page (``chapters/03_backpropagation``) → its catalogue in ``language`` (zh_CN derived from zh_TW)."""
    folder = Path(root) / LOCALE / TRANSLATED / "LC_MESSAGES"
    found = {po.relative_to(folder).with_suffix("").as_posix(): i18n.read_catalogue(po) for po in folder.rglob("*.po")}
    if language == TRANSLATED:
        return found
    convert = Simplified(root)
    return {page: derive(catalogue, convert) for page, catalogue in found.items()}


def edition_files(language: str, root: Path = ROOT) -> dict[str, str]:
    """The files of an edition (path relative to its folder → contents): every page of ``_toc.yml`` translated
    (notebooks with byte-identical code cells), and ``_toc.yml`` with translated captions. A page without its
    catalogue, or whose catalogue does not match it, is an error that says to run ``make gettext``."""
    import nbformat

    root = Path(root)
    found = catalogues(language, root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = {}
    for page in book.toc_pages(root):
        if page not in found:
            raise MissingMessage(f"{page} has no catalogue in {LOCALE}/{TRANSLATED}: run make gettext")
        notebook = root / f"{page}.ipynb"
        if notebook.exists():
            translated = translate_notebook(notebook, found[page], language)
            translated.metadata["dlfoundations"] = {"edition": language, "note": GENERATED}
            files[f"{page}.ipynb"] = nbformat.writes(translated) + "\n"
        else:
            skip = set(toc_captions(toc)) if page == toc["root"] else set()
            files[f"{page}.md"] = translate_page(root / f"{page}.md", found[page], skip)
    translated_toc = translate_toc(toc, found[toc["root"]])
    files["_toc.yml"] = f"# {GENERATED}\n" + yaml.safe_dump(translated_toc, allow_unicode=True, sort_keys=False)
    return files


def _compare(target: Path, files: dict[str, str]) -> tuple[list[str], list[Path]]:
    """What differs in ``target`` from ``files`` (name → contents): the names to write, the files to remove."""
    changed = [
        name
        for name, text in files.items()
        if not (target / name).exists() or (target / name).read_text(encoding="utf-8") != text
    ]
    found = target.rglob("*") if target.exists() else []
    extra = [p for p in found if p.is_file() and p.relative_to(target).as_posix() not in files]
    return changed, extra


WORDING_SIMPLIFIED = "code/dlfoundations/wording/_zh_CN.py"


def wording_simplified(root: Path = ROOT, convert: Simplified | None = None) -> str:
    """The text of :data:`WORDING_SIMPLIFIED`: every glued sentence's Traditional template (``dlfoundations.wording``)
    → its Simplified one, converted as the catalogues are."""
    from . import wording

    convert = convert or Simplified(root)
    hant = sorted({w.zh_TW for w in wording.wordings().values()})
    lines = [f"    {text!r}: {convert(text)!r}," for text in hant]
    return "\n".join([f"# {GENERATED}", "SIMPLIFIED = {", *lines, "}", ""])


def write(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write both editions under ``out`` (default ``editions/``), removing files no longer generated, and the
    glued sentences' Simplified templates (:data:`WORDING_SIMPLIFIED`); returns the files written."""
    root = Path(root)
    out = Path(out or root / EDITIONS_FOLDER)
    written = []
    derived, target = wording_simplified(root), root / WORDING_SIMPLIFIED
    if not target.exists() or target.read_text(encoding="utf-8") != derived:
        target.write_text(derived, encoding="utf-8")
        written.append(target)
    for language, folder in EDITIONS.items():
        files = edition_files(language, root)
        changed, extra = _compare(out / folder, files)
        for old in extra:
            old.unlink()
        for name in changed:
            path = out / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[name], encoding="utf-8")
            written.append(path)
    return written


def stale(root: Path = ROOT) -> list[str]:
    """The generated files under ``editions/`` (and :data:`WORDING_SIMPLIFIED`) that differ from what :func:`write`
    would write now."""
    target = Path(root) / WORDING_SIMPLIFIED
    fresh = target.exists() and target.read_text(encoding="utf-8") == wording_simplified(root)
    problems = [] if fresh else [WORDING_SIMPLIFIED]
    for language, folder in EDITIONS.items():
        target = Path(root) / EDITIONS_FOLDER / folder
        changed, extra = _compare(target, edition_files(language, root))
        problems += [f"{folder}/{name}" for name in changed]
        problems += [f"{folder}/{p.relative_to(target).as_posix()} (no longer generated)" for p in extra]
    return problems


def edition_config(english: dict, language: str, root: Path = ROOT) -> dict:
    """The build configuration of an edition, from the English build's (same execution mode and cache)."""
    settings = copy.deepcopy(english)
    root = Path(root).resolve()
    settings["title"] = TITLES[language]
    execution = settings.setdefault("execute", {})
    if "cache" in execution:
        execution["cache"] = str(root / execution["cache"])  # the English book's cache: the same executed outputs
    settings["bibtex_bibfiles"] = [str(root / name) for name in english.get("bibtex_bibfiles", [])]
    settings.setdefault("repository", {})["path_to_book"] = f"{EDITIONS_FOLDER}/{EDITIONS[language]}"
    settings.setdefault("html", {})["search_bar_text"] = SEARCH_TEXT[language]
    sphinx = settings.setdefault("sphinx", {}).setdefault("config", {})
    sphinx.update({"language": language, "html_search_language": "zh", "dlf_edition": language})
    return settings


def search_words(root: Path = ROOT) -> list[str]:
    """The glossary's Chinese names, as words for jieba (Sphinx's Chinese search splits the pages with it): its
    own dictionary would cut 倒傳遞 into 倒 and 傳遞, and a search for the term would find nothing."""
    words = set()
    for term in i18n.glossary(Path(root) / "glossary.md"):
        for name in (term.hant, term.hans):
            words.update(part for part in name.split() if i18n._CJK.search(part))
    return sorted(words)


def build(config: Path, html: Path, extra: list[str] = (), root: Path = ROOT, languages=tuple(EDITIONS)) -> None:
    """Build each edition (of ``languages``) with the English build's configuration ``config`` and put it beside
    the English HTML ``html``, as ``html/zh-Hant`` and ``html/zh-Hans``."""
    import shutil

    english = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    for language, folder in EDITIONS.items():
        if language not in languages:
            continue
        out = Path(config).parent / "editions" / folder
        out.mkdir(parents=True, exist_ok=True)
        edition = out / "config.yml"
        settings = edition_config(english, language, root)
        words = out / "search-words.txt"  # jieba's user dictionary: word, frequency
        words.write_text("".join(f"{word} 100000\n" for word in search_words(root)), encoding="utf-8")
        settings["sphinx"]["config"]["html_search_options"] = {"dict": str(words.resolve())}
        edition.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
        source = Path(root) / EDITIONS_FOLDER / folder
        command = [_jupyter_book(), "build", str(source), "--config", str(edition), "--path-output", str(out)]
        print(f"building the {LABELS[language]} edition ({folder})", flush=True)
        subprocess.run([*command, *extra], check=True, env=_plain_environment())
        target = Path(html) / folder
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(out / "_build" / "html", target)
        print(f"The {LABELS[language]} edition is in {target}/index.html")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlfoundations.editions", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="write the .pot templates under _build/gettext/pot")
    commands.add_parser("update", help="extract, then update locale/*/LC_MESSAGES with sphinx-intl (make gettext)")
    commands.add_parser("write", help="generate editions/zh-Hant and editions/zh-Hans from the source and locale/")
    commands.add_parser("check", help="fail when a generated file under editions/ is stale")
    builder = commands.add_parser("build", help="build the editions beside the English HTML")
    builder.add_argument("--config", type=Path, required=True, help="the English build's configuration")
    builder.add_argument("--html", type=Path, required=True, help="the English build's HTML folder")
    builder.add_argument("-W", action="store_true", help="warnings are errors (as make test builds)")
    builder.add_argument(
        "--language", action="append", choices=list(EDITIONS), help="only this edition (repeatable; default: all)"
    )
    args = parser.parse_args(argv)
    if args.command == "extract":
        for path in extract():
            print(path)
    elif args.command == "update":
        update(languages=[TRANSLATED])
    elif args.command == "write":
        print(f"wrote {len(write())} changed files under {EDITIONS_FOLDER}/")
    elif args.command == "check":
        problems = stale()
        print("\n".join(problems) if problems else "the editions are up to date")
        return 1 if problems else 0
    elif args.command == "build":
        extra = ["-W", "--keep-going", "-q"] if args.W else ["-q"]
        build(args.config, args.html, extra, languages=args.language or tuple(EDITIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
