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
import re
from pathlib import Path

# a role first (its content is code-like), then inline code, then maths in what is left, then link targets
_ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
_CODE = re.compile(r"`[^`\n]+`")
_MATH = re.compile(r"\$\$[^$]+\$\$|\$[^$\n]+\$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
KINDS = ("role", "code", "math", "link")


def protected(text: str) -> dict[str, collections.Counter]:
    """The pieces of ``text`` a translation must keep, by kind (:data:`KINDS`), each kind a multiset."""
    found = {kind: collections.Counter() for kind in KINDS}
    rest = text
    for kind, pattern in (("role", _ROLE), ("code", _CODE)):
        found[kind].update(pattern.findall(rest))
        rest = pattern.sub(" ", rest)
    found["math"].update(m.strip() for m in _MATH.findall(rest))
    rest = _MATH.sub(" ", rest)
    found["link"].update(_LINK.findall(rest))
    return found


def check_message(msgid: str, msgstr: str) -> list[str]:
    """What the translation ``msgstr`` dropped, added or altered of ``msgid``'s protected pieces, in words
    (empty when it kept them all)."""
    english, chinese = protected(msgid), protected(msgstr)
    problems = []
    for kind in KINDS:
        missing = english[kind] - chinese[kind]
        extra = chinese[kind] - english[kind]
        problems += [f"{kind} {piece!r} is missing" for piece in sorted(missing.elements())]
        problems += [f"{kind} {piece!r} is not in the English" for piece in sorted(extra.elements())]
    return problems


def glossary_terms(path: str | Path) -> dict[str, list[str]]:
    """English term → its Chinese names, from a ``{glossary}`` directive whose entries are an English line, a
    Chinese line and an indented definition (the book's ``glossary.md``). A Chinese line that starts with the
    English name (``Adam 優化器``) is also met by that English name alone (``Adam``)."""
    text = Path(path).read_text(encoding="utf-8")
    block = re.search(r"^```\{glossary\}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    if block is None:
        raise ValueError(f"{path} has no {{glossary}} directive")
    terms: dict[str, list[str]] = {}
    for entry in re.split(r"\n\s*\n", block.group(1)):
        lines = [line for line in entry.splitlines() if not line.startswith(":")]  # options such as :sorted:
        if len(lines) >= 2 and not lines[0].startswith(" ") and not lines[1].startswith(" "):
            english, chinese = lines[0].strip(), lines[1].strip()
            names = [chinese]
            if chinese.startswith(english + " "):
                names.append(english)  # the name itself kept, as in "Adam 優化器"
            terms[english] = names
    return terms


def check_terms(msgid: str, msgstr: str, terms: dict[str, list[str]]) -> list[str]:
    """The glossary terms that ``msgid`` uses (whole words, any case) and whose Chinese names are all absent from
    ``msgstr``, in words."""
    problems = []
    for english, names in terms.items():
        if re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", msgid, flags=re.IGNORECASE):
            if not any(name in msgstr for name in names):
                problems.append(f"term {english!r}: none of {names} in the translation")
    return problems


def check_catalogue(path: str | Path, terms: dict[str, list[str]] | None = None) -> list[str]:
    """Every problem of a ``.po`` catalogue: its untranslated and fuzzy messages, and for each translated one
    :func:`check_message` (and :func:`check_terms` with ``terms``). Each problem names the message's first source
    reference (``chapters/03_backpropagation.ipynb:180004`` is cell 18, line 4)."""
    from babel.messages import pofile

    with open(path, "rb") as handle:
        catalogue = pofile.read_po(handle)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        where = ":".join(map(str, message.locations[0])) if message.locations else "?"
        msgid, msgstr = str(message.id), str(message.string or "")
        if not msgstr:
            problems.append(f"{where}: untranslated")
        elif message.fuzzy:
            problems.append(f"{where}: fuzzy (the English changed: check the translation, then drop the flag)")
        else:
            found = check_message(msgid, msgstr) + (check_terms(msgid, msgstr, terms) if terms else [])
            problems += [f"{where}: {problem}" for problem in found]
    return problems
