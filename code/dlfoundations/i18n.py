"""The Chinese editions' message catalogues: what a translation must keep of its English message.

The English notebooks and pages are the only source; Sphinx's gettext builder cuts their prose into messages
(one per paragraph, heading, list item, table cell or caption) and a ``.po`` catalogue per language holds each
message's translation. A translation may say things in its own order and words, but some pieces must come
through unchanged, or the Chinese page would show other numbers, formulas or links than the English one:

* maths, ``$…$`` and ``$$…$$``;
* MyST roles, ``{glue:text}`name:.1f```, ``{doc}`…```, ``{cite}`…```, ``{ref}`…```, ``{term}`…``` and the rest;
* inline code, ``` `…` ```;
* link targets, ``[text](target)`` (the text is translated, the target is not).

:func:`check_message` compares those pieces of a message and its translation (as multisets: order may change,
nothing may be dropped, added or altered); :func:`check_terms` checks that a glossary term of the English
message has its Chinese name in the translation; :func:`glossary_terms` reads those names from the book's
glossary page; :func:`check_catalogue` applies all of it to a ``.po`` file, with its untranslated and fuzzy
messages.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import json
import re
import sys
from pathlib import Path

# a role first (its content is code-like), then inline code, then maths in what is left, then link targets
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
_CODE = re.compile(r"`[^`\n]+`")
_MATH = re.compile(r"\$\$[^$]+\$\$|\$[^$\n]+\$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
KINDS = ("role", "code", "math", "link")


SHOWN_ROLES = ("term", "doc", "ref")  # roles whose text the reader sees: translated, their target kept
TARGET_ROLES = (*SHOWN_ROLES, "numref", "eq", "download")  # roles that may be written `text <target>`


def role_parts(role: str) -> tuple[str, str, str]:
    """A role's name, the text it shows and its target: ``{doc}`第三章 <03_backpropagation>``` gives
    ``("doc", "第三章", "03_backpropagation")``; without ``<…>`` text and target are the role's content."""
    name, content = role[1 : role.index("}")], role[role.index("`") + 1 : -1]
    if name in TARGET_ROLES and content.endswith(">") and " <" in content:
        return name, content[: content.rindex(" <")], content[content.rindex(" <") + 2 : -1]
    return name, content, content


def _role_key(role: str, aliases: dict[str, str] | None) -> str:
    """A role as a translation must keep it: its target, not its text. ``{doc}`第三章 <03_backpropagation>``` keeps
    ``{doc}`03_backpropagation```; a ``{term}`` is keyed by its glossary entry, so ``{term}`梯度下降``` and
    ``{term}`gradient descent``` are the same role when ``aliases`` (any name → English entry) know both."""
    name, _, target = role_parts(role)
    if name == "term" and aliases:
        target = aliases.get(target, aliases.get(target.lower(), target))
    return f"{{{name}}}`{target}`"


def protected(text: str, aliases: dict[str, str] | None = None) -> dict[str, collections.Counter]:
    """The pieces of ``text`` a translation must keep, by kind (:data:`KINDS`), each kind a multiset. A role is
    counted by its target (:func:`_role_key`), so its text may be translated."""
    found = {kind: collections.Counter() for kind in KINDS}
    rest = text
    found["role"].update(_role_key(role, aliases) for role in _ROLE.findall(rest))
    rest = _ROLE.sub(" ", rest)
    found["code"].update(_CODE.findall(rest))
    rest = _CODE.sub(" ", rest)
    found["math"].update(m.strip() for m in _MATH.findall(rest))
    rest = _MATH.sub(" ", rest)
    found["link"].update(_LINK.findall(rest))
    return found


def check_message(msgid: str, msgstr: str, aliases: dict[str, str] | None = None) -> list[str]:
    """What the translation ``msgstr`` dropped, added or altered of ``msgid``'s protected pieces, in words
    (empty when it kept them all); ``aliases`` (:func:`term_aliases`) let a ``{term}`` role name its entry in
    Chinese."""
    english, chinese = protected(msgid, aliases), protected(msgstr, aliases)
    problems = []
    for kind in KINDS:
        missing = english[kind] - chinese[kind]
        extra = chinese[kind] - english[kind]
        problems += [f"{kind} {piece!r} is missing" for piece in sorted(missing.elements())]
        problems += [f"{kind} {piece!r} is not in the English" for piece in sorted(extra.elements())]
    return problems


@dataclasses.dataclass(frozen=True)
class Term:
    """A glossary entry: its English name, its Traditional Chinese name (Taiwan usage) and its Simplified one
    (mainland usage; the same as ``hant`` converted by OpenCC where the entry has no third line)."""

    english: str
    hant: str
    hans: str


SCRIPTS = ("hant", "hans")


def glossary(path: str | Path) -> list[Term]:
    """The entries of the ``{glossary}`` directive in ``path`` (the book's ``glossary.md``): each entry an English
    line, a 繁體 line, a 简体 line where it differs from the 繁體 one, then its indented definition."""
    text = Path(path).read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    if block is None:
        raise ValueError(f"{path} has no {{glossary}} directive")
    entries = []
    for entry in re.split(r"\n\s*\n", block.group(1)):
        lines = [line for line in entry.splitlines() if not line.startswith(":")]  # options such as :sorted:
        names = [line.strip() for line in itertools.takewhile(lambda line: not line.startswith(" "), lines)]
        if len(names) > 3:
            raise ValueError(f"{path}: the entry {names[0]!r} has {len(names)} names (English, 繁體, 简体 at most)")
        if len(names) >= 2:
            entries.append(Term(names[0], names[1], names[2] if len(names) == 3 else _hans(names[1])))
    return entries


@functools.cache
def _hans(hant: str) -> str:
    """``hant`` in Simplified characters (OpenCC's Taiwan-to-mainland conversion), for an entry whose two Chinese
    names differ only in their characters."""
    import opencc

    return opencc.OpenCC("tw2sp").convert(hant)


def glossary_terms(path: str | Path, script: str = "hant") -> dict[str, list[str]]:
    """English term → its Chinese names in ``script`` (``"hant"`` or ``"hans"``), from :func:`glossary`. A Chinese
    name that starts with the English one (``Adam 優化器``) is also met by that English name alone (``Adam``)."""
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {SCRIPTS}, not {script!r}")
    terms: dict[str, list[str]] = {}
    for term in glossary(path):
        chinese = getattr(term, script)
        terms[term.english] = [chinese] + ([term.english] if chinese.startswith(term.english + " ") else [])
    return terms


def term_aliases(path: str | Path) -> dict[str, str]:
    """Every name of every glossary entry (English in lower case, 繁體, 简体) → the entry's English name: the
    names a ``{term}`` role may use."""
    aliases = {}
    for term in glossary(path):
        aliases.update({term.english.lower(): term.english, term.hant: term.english, term.hans: term.english})
    return aliases


def _role_text(match: re.Match) -> str:
    """What a role shows in prose: a ``{term}`` or ``{doc}``'s text; nothing for glue, citations and the rest."""
    name, text, _ = role_parts(match.group())
    return f" {text} " if name in SHOWN_ROLES else " "


def check_terms(msgid: str, msgstr: str, terms: dict[str, list[str]], exempt: set[str] = frozenset()) -> list[str]:
    """The glossary terms that ``msgid``'s prose uses (whole words, any case; not inside code or maths) and whose
    Chinese names are all absent from ``msgstr``, in words; ``exempt`` names terms the English uses in another
    sense here (a statistical *bias*)."""
    problems = []
    words = _LINK.sub(" ", _MATH.sub(" ", _CODE.sub(" ", _ROLE.sub(_role_text, msgid))))  # not code or maths
    for english, names in terms.items():
        if english in exempt:
            continue
        if re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", words, flags=re.IGNORECASE):
            if not any(name in msgstr for name in names):
                problems.append(f"term {english!r}: none of {names} in the translation")
    return problems


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORDS = re.compile(r"[A-Za-z]{2,}(?:\W+[A-Za-z]{2,}){2,}")  # three English words in a row
EXEMPT = re.compile(r"^not a term:\s*(.+)$")  # a translator's comment: "not a term: bias, kernel"


def prose(text: str) -> str:
    """``text`` without its protected pieces (maths, roles, code, link targets)."""
    for pattern in (_ROLE, _CODE, _MATH, _LINK):
        text = pattern.sub(" ", text)
    return text


def check_translated(msgid: str, msgstr: str) -> list[str]:
    """A translation of English prose (three words or more) that holds no Chinese at all was not translated."""
    if _WORDS.search(prose(msgid)) and not _CJK.search(msgstr):
        return ["the translation holds no Chinese (copied English?)"]
    return []


def read_catalogue(path: str | Path):
    """A ``.po`` file as babel's Catalog."""
    from babel.messages import pofile

    with open(path, "rb") as handle:
        return pofile.read_po(handle)


def write_catalogue(catalogue, path: str | Path) -> None:
    """Write ``catalogue`` as sphinx-intl does (babel, lines wrapped at 76), so an update changes only what
    changed."""
    from babel.messages import pofile

    with open(path, "wb") as handle:
        pofile.write_po(handle, catalogue, width=76)


def where(message) -> str:
    """A message's first source reference, ``chapters/03_backpropagation.ipynb:180004`` (cell 18, line 4)."""
    return ":".join(map(str, message.locations[0])) if message.locations else "?"


def exempt_terms(message) -> set[str]:
    """The terms a translator's comment ``not a term: bias, kernel`` exempts from :func:`check_terms`."""
    found = set()
    for comment in message.user_comments:
        match = EXEMPT.match(comment.strip())
        if match:
            found.update(name.strip() for name in match.group(1).split(","))
    return found


def check_catalogue(
    path: str | Path, terms: dict[str, list[str]] | None = None, aliases: dict[str, str] | None = None
) -> list[str]:
    """Every problem of a ``.po`` catalogue: its untranslated and fuzzy messages, and for each translated one
    :func:`check_message`, :func:`check_translated` and (with ``terms``) :func:`check_terms`. Each problem names
    the message's first source reference (:func:`where`)."""
    problems = []
    for message in read_catalogue(path):
        if not message.id:
            continue
        msgid, msgstr = str(message.id), str(message.string or "")
        if not msgstr:
            problems.append(f"{where(message)}: untranslated")
        elif message.fuzzy:
            problems.append(f"{where(message)}: fuzzy (the English changed: check the translation, then drop the flag)")
        else:
            found = check_message(msgid, msgstr, aliases) + check_translated(msgid, msgstr)
            if terms:
                found += check_terms(msgid, msgstr, terms, exempt_terms(message))
            problems += [f"{where(message)}: {problem}" for problem in found]
    return problems


# --------------------------------------------------------------------------- the translators' command line

GLOSSARY = Path(__file__).resolve().parents[2] / "glossary.md"  # the repository's, in an editable install


def todo(path: str | Path) -> list[dict]:
    """The messages of a catalogue still to translate (untranslated or fuzzy), as ``{"ref", "id", "str"}``."""
    return [
        {"ref": where(m), "id": str(m.id), "str": str(m.string or "")}
        for m in read_catalogue(path)
        if m.id and (not m.string or m.fuzzy)
    ]


def fill(path: str | Path, translations: dict[str, str | dict]) -> int:
    """Set the translations ``{msgid: msgstr}`` in the catalogue at ``path`` (a fuzzy flag is dropped: the
    translation was checked); returns how many were set. A msgid the catalogue does not hold is an error. A
    value may also be ``{"str": msgstr, "not a term": ["bias"]}``: the translator's comment that exempts those
    glossary terms, used here in another sense, from :func:`check_terms`."""
    catalogue = read_catalogue(path)
    unknown = [msgid for msgid in translations if msgid not in catalogue]
    if unknown:
        raise KeyError(f"{len(unknown)} message(s) are not in {path}, first: {unknown[0][:80]!r}")
    for msgid, value in translations.items():
        message = catalogue[msgid]
        if isinstance(value, dict):
            exempt = value.get("not a term", [])
            message.user_comments = [c for c in message.user_comments if not EXEMPT.match(c.strip())]
            if exempt:
                message.user_comments.append("not a term: " + ", ".join(exempt))
            value = value["str"]
        message.string = value
        message.flags.discard("fuzzy")
    write_catalogue(catalogue, path)
    return len(translations)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m dlfoundations.i18n",
        description="Translate the book's catalogues: list what is left, fill translations in, check them.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("todo", help="print the untranslated and fuzzy messages of a .po file as JSON")
    show.add_argument("po", type=Path)
    put = commands.add_parser("fill", help="set translations from a JSON file {msgid: msgstr} (or [{id, str}])")
    put.add_argument("po", type=Path)
    put.add_argument("json", type=Path)
    check = commands.add_parser("check", help="every problem of the given .po files (exit status 1 if any)")
    check.add_argument("po", type=Path, nargs="+")
    check.add_argument("--script", choices=SCRIPTS, default="hant", help="which Chinese names the terms need")
    check.add_argument("--glossary", type=Path, default=GLOSSARY)
    args = parser.parse_args(argv)
    if args.command == "todo":
        json.dump(todo(args.po), sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if args.command == "fill":
        data = json.loads(args.json.read_text(encoding="utf-8"))
        if isinstance(data, list):
            data = {item["id"]: item["str"] for item in data}
        print(f"{fill(args.po, data)} translation(s) set in {args.po}")
        return 0
    terms, aliases = glossary_terms(args.glossary, args.script), term_aliases(args.glossary)
    problems = [f"{po}: {problem}" for po in args.po for problem in check_catalogue(po, terms, aliases)]
    print("\n".join(problems) if problems else f"{len(args.po)} catalogue(s): no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
