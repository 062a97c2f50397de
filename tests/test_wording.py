"""The glued sentences in every edition (dlfoundations.wording): each template's English and Chinese take the same
values and keep the same maths, code and numbers, name the glossary's terms, and the Simplified templates are
the Traditional ones converted (editions write)."""

from __future__ import annotations

import collections
import importlib
import re
import string
from pathlib import Path

import pytest

from dlfoundations import book, editions, i18n, wording
from dlfoundations.wording import Wording, join, say

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "glossary.md"
WORDINGS = wording.wordings()
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def _literal(text: str) -> str:
    """``text`` with each format field as a neutral token (no letters, digits or braces: not a word, number or role)."""
    parts = string.Formatter().parse(text)
    return "".join(literal + ("\ue000" if name is not None else "") for literal, name, *_ in parts)


def test_every_wording_a_chapter_names_exists():
    """``chNN.NAME`` in a chapter's code is a wording of that chapter's module (checked without running it), and
    each module belongs to a chapter."""
    import nbformat

    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    modules = {name.split(".")[0] for name in WORDINGS} - {"LIST", "common"}
    assert modules <= {"ch" + path.name.split("_")[0] for path in chapters}
    missing = []
    for path in chapters:
        code = "\n".join(c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code")
        for module, name in set(re.findall(r"\b(ch\w+|common)\.([A-Z][A-Z0-9_]*)\b", code)):
            if not hasattr(importlib.import_module(f"dlfoundations.wording.{module}"), name):
                missing.append(f"{path.name}: {module}.{name}")
    assert not missing, missing


@pytest.fixture(scope="module")
def glossary():
    return i18n.glossary_terms(GLOSSARY), i18n.term_aliases(GLOSSARY)


def _problems(w: Wording, terms, aliases) -> list[str]:
    problems = []
    if w.fields("en") != w.fields("zh_TW"):
        problems.append(f"fields differ: {sorted(w.fields('en'))} vs {sorted(w.fields('zh_TW'))}")
    english, chinese = _literal(w.en), _literal(w.zh_TW)
    problems += i18n.check_message(english, chinese, aliases)
    problems += i18n.check_translated(english, chinese)
    problems += i18n.check_terms(english, chinese, terms, set(w.not_terms))
    numbers = [collections.Counter(_DIGITS.findall(i18n.prose(t))) for t in (english, chinese)]
    if numbers[0] != numbers[1]:
        problems.append(f"numbers differ: {sorted(numbers[0].elements())} vs {sorted(numbers[1].elements())}")
    return problems


def test_every_wording_is_translated_faithfully(glossary):
    found = {name: _problems(w, *glossary) for name, w in WORDINGS.items()}
    found = {name: problems for name, problems in found.items() if problems}
    assert not found, "\n".join(f"{name}: {problems}" for name, problems in found.items())


def test_the_faithfulness_check_catches_a_planted_error(glossary):
    good = Wording("{n} runs within ${se:.1f}$ points of `best`", "{n} 次執行都在 `best` 的 ${se:.1f}$ 個百分點之內")
    assert not _problems(good, *glossary)
    assert any("fields" in p for p in _problems(Wording(good.en, good.zh_TW.replace(":.1f", ":.2f")), *glossary))
    assert any("math" in p for p in _problems(Wording(good.en, good.zh_TW.replace("$", "")), *glossary))
    assert any("numbers" in p for p in _problems(Wording("3 seeds of {x}", "{x} 的 4 個種子"), *glossary))
    assert any("term" in p for p in _problems(Wording("the {x} gradient descent", "{x} 的方法"), *glossary))


def test_the_simplified_templates_are_the_traditional_ones_converted():
    """wording/_zh_CN.py is what editions write derives now, and holds no Traditional character."""
    import opencc

    assert (ROOT / editions.WORDING_SIMPLIFIED).read_text(encoding="utf-8") == editions.wording_simplified(ROOT)
    t2s = opencc.OpenCC("t2s")
    for name, w in WORDINGS.items():
        hans = wording.template(w, "zh_CN")
        assert hans != w.en or w.en == w.zh_TW, f"{name}: no Simplified template (make editions)"
        assert t2s.convert(hans) == hans, name
        assert w.fields("en") == {(n, s, c) for _, n, s, c in string.Formatter().parse(hans) if n is not None}


def test_say_fills_every_version_with_the_same_values():
    run = book.Said("seed 0", zh_TW="隨機種子 0", zh_CN="随机种子 0")
    w = Wording("{run}: {acc:.1f}% over {n:,} images", "{run}：{n:,} 張影像上 {acc:.1f}%")
    said = say(w, run=run, acc=67.345, n=49000)
    assert isinstance(said, book.Said)
    assert said == "seed 0: 67.3% over 49,000 images"
    assert said.versions["zh_TW"] == "隨機種子 0：49,000 張影像上 67.3%"
    hans = wording.template(w, "zh_CN").format(run="随机种子 0", acc=67.345, n=49000)
    assert said.versions["zh_CN"] == hans  # the Said value's own version, not the English
    listed = join([run, "Adam"])
    assert (listed, listed.versions["zh_TW"]) == ("seed 0, Adam", "隨機種子 0、Adam")


def test_every_one_epoch_change_has_its_chinese_name():
    """Chapters 08 and 09 name each change of experiments.ONE_CHANGE through a dict of wordings: a new change
    without its wording would stop the chapter."""
    from dlfoundations import experiments
    from dlfoundations.wording import ch08, ch09

    for name in experiments.ONE_CHANGE:
        changes = ch08.CHANGES if name.startswith("Module") else ch09.CHANGES
        assert any(f", {change}" in name or f"+ {change}" in name for change in changes), name
