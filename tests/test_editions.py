"""The Chinese editions (dlfoundations.editions): catalogues complete, faithful and in step with the English source;
the generated pages up to date, their code byte-identical (the English book's executed outputs), every translation
in its place; 简体 derived from 繁體 with the glossary's mainland names."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import nbformat
import pytest

from dlfoundations import book, editions, i18n

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale" / editions.TRANSLATED / "LC_MESSAGES"
CATALOGUES = sorted(LOCALE.rglob("*.po"))
GLOSSARY = ROOT / "glossary.md"


def test_every_page_of_the_book_has_a_catalogue():
    pages = {po.relative_to(LOCALE).with_suffix("").as_posix() for po in CATALOGUES}
    assert pages == set(book.toc_pages(ROOT))


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.relative_to(LOCALE).as_posix())
def test_a_catalogue_is_translated_and_faithful(po):
    """No message untranslated or fuzzy; each keeps its maths, roles, code and links, and names its terms."""
    terms, aliases = i18n.glossary_terms(GLOSSARY), i18n.term_aliases(GLOSSARY)
    problems = i18n.check_catalogue(po, terms, aliases)
    assert not problems, "\n".join(problems[:20]) + "\n(make gettext, translate, then make editions)"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages Sphinx's gettext builder extracts from the English source now, per page."""
    out = tmp_path_factory.mktemp("gettext")
    pots = editions.extract(ROOT, out)
    return {p.relative_to(out / "pot").with_suffix("").as_posix(): i18n.read_catalogue(p) for p in pots}


def test_the_catalogues_hold_exactly_the_messages_of_the_source(extracted):
    """A changed or new English paragraph without its catalogue entry fails here (run make gettext)."""
    out_of_step = []
    for po in CATALOGUES:
        page = po.relative_to(LOCALE).with_suffix("").as_posix()
        source = {str(m.id) for m in extracted[page] if m.id}
        held = {str(m.id) for m in i18n.read_catalogue(po) if m.id}
        out_of_step += [f"{page}: new in the source: {m[:70]!r}" for m in sorted(source - held)]
        out_of_step += [f"{page}: no longer in the source: {m[:70]!r}" for m in sorted(held - source)]
    assert not out_of_step, "\n".join(out_of_step[:20]) + "\n(make gettext, translate, make editions)"


def test_the_generated_editions_are_up_to_date():
    stale = editions.stale(ROOT)
    assert not stale, f"stale: {stale[:10]} (make editions, then commit editions/)"


@pytest.mark.parametrize("folder", editions.EDITIONS.values())
def test_a_chinese_notebook_has_the_english_code_and_cache_key(folder, tmp_path):
    """Code cells byte-identical, so jupyter-cache serves the English book's executed outputs to both editions."""
    from jupyter_cache import get_cache

    cache = get_cache(str(tmp_path / "cache"))

    for english in sorted((ROOT / "chapters").glob("*.ipynb")):
        chinese = ROOT / editions.EDITIONS_FOLDER / folder / "chapters" / english.name
        a, b = nbformat.read(english, as_version=4), nbformat.read(chinese, as_version=4)
        assert [c.source for c in a.cells if c.cell_type == "code"] == [
            c.source for c in b.cells if c.cell_type == "code"
        ]
        assert [c.cell_type for c in a.cells] == [c.cell_type for c in b.cells]
        assert cache.create_hashed_notebook(a)[1] == cache.create_hashed_notebook(b)[1], english.name
        assert sum(c.source != d.source for c, d in zip(a.cells, b.cells, strict=True)) > 0  # it was translated


def test_every_translation_stands_where_its_english_stood(tmp_path):
    """Extracted again from the generated Traditional edition, the messages are exactly the translations: each
    replaced a whole block (paragraph, heading, item, cell, title), none was lost or merged."""
    edition = ROOT / editions.EDITIONS_FOLDER / editions.EDITIONS[editions.TRANSLATED]
    pots = editions.extract(edition, tmp_path, config=ROOT / "_config.yml")
    got = {p.relative_to(tmp_path / "pot").with_suffix("").as_posix(): i18n.read_catalogue(p) for p in pots}
    wrong = []
    for page, catalogue in editions.catalogues(editions.TRANSLATED, ROOT).items():
        language = editions.TRANSLATED  # the edition shows its own versions of glued sentences
        want = collections.Counter(
            " ".join(editions.glue_roles(str(m.string), language).split()) for m in catalogue if m.id
        )
        found = collections.Counter(" ".join(str(m.id).split()) for m in got.get(page, []) if m.id)
        # a translation identical to a glossary term line is left out of the extraction, as its English is
        missing = {m for m in want if m not in found and page != "glossary"}
        wrong += [f"{page}: {m[:60]!r} not found as a block" for m in sorted(missing)]
        wrong += [f"{page}: {m[:60]!r} extracted but not a translation" for m in sorted(set(found) - set(want))]
    assert not wrong, "\n".join(wrong[:20])


def test_a_planted_change_of_the_english_is_caught(tmp_path):
    """A catalogue message the page no longer holds stops the generation with what to do."""
    page = ROOT / "chapters" / "03_backpropagation.ipynb"
    catalogue = i18n.read_catalogue(LOCALE / "chapters" / "03_backpropagation.po")
    notebook = nbformat.read(page, as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "markdown")
    first.source = first.source.replace("Gradient descent needs", "Gradient descent wants")
    changed = tmp_path / page.name
    nbformat.write(notebook, changed)
    with pytest.raises(editions.MissingMessage, match="run make gettext"):
        editions.translate_notebook(changed, catalogue)


def test_blocks_are_replaced_whole_and_in_place():
    from babel.messages import Catalog

    source = "# Title\n\nA paragraph\nthat wraps.\n\n- an item\n  that wraps\n\n"
    source += "| layer | input |\n|---|---|\n| input | x |\n"
    catalogue = Catalog(locale="zh_TW")
    for english, chinese in [
        ("Title", "標題"),
        ("A paragraph that wraps.", "一個換行的段落。"),
        ("an item that wraps", "換行的項目"),
        ("layer", "層"),
        ("input", "輸入"),
    ]:
        catalogue.add(english, chinese, locations=[("page.md", None)])
    out = editions.translate_blocks([source], list(catalogue))[0]
    assert out == "# 標題\n\n一個換行的段落。\n\n- 換行的項目\n\n| 層 | 輸入 |\n|---|---|\n| 輸入 | x |\n"
    # a word inside a longer block is not a block of its own
    catalogue = Catalog(locale="zh_TW")
    catalogue.add("wraps", "換行", locations=[("page.md", None)])
    with pytest.raises(editions.MissingMessage):
        editions.translate_blocks([source], list(catalogue))


def test_simplified_is_derived_with_the_glossary_and_the_mainland_table():
    convert = editions.Simplified(ROOT)
    for term in i18n.glossary(GLOSSARY):  # every 繁體 name becomes its 简体 name (OpenCC alone gets some wrong)
        assert convert(term.hant) == term.hans, term.english
    assert convert("批次正規化") == "批量归一化" and convert("倒傳遞") == "反向传播"
    # rows and columns swap their words, and other words with 列 or 行 are left alone
    assert (
        convert("矩陣的每一列與每一欄；列向量、行向量；列出；執行程式")
        == "矩阵的每一行与每一列；行向量、列向量；列出；执行程序"
    )
    # maths, code, glue and link targets untouched; the shown text of a term or doc link converted
    text = "{term}`倒傳遞 <backpropagation>` 與 $\\hat y$、`x.var(0)`、{glue:text}`a:.1f`、[講義](https://a.b/資料)"
    assert (
        convert(text)
        == "{term}`反向传播 <backpropagation>` 与 $\\hat y$、`x.var(0)`、{glue:text}`a:.1f`、[讲义](https://a.b/資料)"
    )
    assert convert("{term}`批次正規化`") == "{term}`批量归一化`"


def test_the_simplified_edition_has_no_traditional_characters():
    """OpenCC's t2s changes nothing in a zh_CN translation (the glossary's term lines keep all three names)."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    left = []
    for page, catalogue in editions.catalogues("zh_CN", ROOT).items():
        for message in catalogue:
            text = i18n.prose(str(message.string or ""))
            if message.id and t2s.convert(text) != text:
                left.append(f"{page} {i18n.where(message)}: {[c for c in text if t2s.convert(c) != c][:5]}")
    assert not left, "\n".join(left[:20])


def test_an_edition_builds_from_the_english_configuration():
    english = book.book_config(ROOT / "_config.yml", "cache", "quick", key="k")
    settings = editions.edition_config(english, "zh_CN", ROOT)
    assert settings["sphinx"]["config"]["language"] == "zh_CN" and settings["title"] == "深度学习基础"
    assert settings["sphinx"]["config"]["html_search_language"] == "zh"  # jieba splits the words
    assert Path(settings["execute"]["cache"]) == ROOT / english["execute"]["cache"]  # one cache for all editions
    assert settings["repository"]["path_to_book"] == "editions/zh-Hans"  # Colab opens the Chinese notebook
    assert all(Path(bib).is_file() for bib in settings["bibtex_bibfiles"])


def test_the_switcher_links_the_same_page_in_every_edition():
    english = book.edition_links("chapters/03_backpropagation", "en")
    assert 'href="../zh-Hant/chapters/03_backpropagation.html"' in english
    assert 'href="../zh-Hans/chapters/03_backpropagation.html"' in english
    assert "<strong" in english and "English</strong>" in english
    chinese = book.edition_links("intro", "zh_TW")
    assert 'href="../intro.html"' in chinese and 'href="../zh-Hans/intro.html"' in chinese


def test_the_translators_command_line(tmp_path, capsys):
    from babel.messages import Catalog

    catalogue = Catalog(locale="zh_TW")
    catalogue.add("The bias of an estimate.", "", locations=[("chapters/x.ipynb", 10002)])
    catalogue.add("Learning rate", "學習率", locations=[("chapters/x.ipynb", 20002)], flags=["fuzzy"])
    po = tmp_path / "x.po"
    i18n.write_catalogue(catalogue, po)
    assert i18n.main(["todo", str(po)]) == 0
    assert [item["ref"] for item in json.loads(capsys.readouterr().out)] == ["chapters/x.ipynb:10002"] * 1 + [
        "chapters/x.ipynb:20002"
    ]
    assert i18n.main(["check", str(po)]) == 1
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps(
            {
                "The bias of an estimate.": {"str": "估計量的偏差。", "not a term": ["bias"]},
                "Learning rate": "學習率",
            },
            ensure_ascii=False,
        )
    )
    assert i18n.main(["fill", str(po), str(batch)]) == 0
    capsys.readouterr()
    assert i18n.main(["check", str(po)]) == 0, capsys.readouterr().out
    # without the translator's comment, the statistical bias would need the glossary's 偏置
    assert i18n.check_terms("The bias of an estimate.", "估計量的偏差。", i18n.glossary_terms(GLOSSARY))


def test_an_edition_shows_its_own_version_of_a_glued_sentence():
    """{glue:md} roles name the edition's version, which book.glue stores beside the English (Said)."""
    assert editions.glue_roles("見 {glue:md}`run`、{glue:md}`wd_strong:myst` 與 {glue:text}`x:.1f`", "zh_CN") == (
        "見 {glue:md}`run__zh_CN`、{glue:md}`wd_strong__zh_CN:myst` 與 {glue:text}`x:.1f`"
    )
    chinese = (ROOT / "editions" / "zh-Hant" / "chapters" / "04_vanishing_gradients.ipynb").read_text(encoding="utf-8")
    assert "{glue:md}`vg_run__zh_TW`" in chinese and "{glue:md}`vg_run`" not in chinese


def test_glue_stores_every_editions_version_of_a_sentence(monkeypatch):
    from IPython.display import Markdown

    glued = {}
    monkeypatch.setattr(book, "_glue_without_myst_nb", lambda name, value, display=True: glued.update({name: value}))
    monkeypatch.setitem(__import__("sys").modules, "myst_nb", None)  # as in a plain kernel
    book.glue("run", Markdown(book.Said("seed 0", zh_TW="隨機種子 0", zh_CN="随机种子 0")), display=False)
    assert {name: value.data for name, value in glued.items()} == {
        "run": "seed 0",
        "run__zh_TW": "隨機種子 0",
        "run__zh_CN": "随机种子 0",
    }
    book.glue("plain", Markdown("only English"), display=False)  # a sentence without versions: English everywhere
    assert glued["plain__zh_CN"].data == "only English"
    book.glue("number", 2.5, display=False)  # numbers are the same in every edition: glued once
    assert "number__zh_TW" not in glued


def test_the_package_sentences_come_in_every_edition():
    from dlfoundations import config

    said = config.run_description()
    assert said.startswith("profile `") and "執行設定檔 `" in said.versions["zh_TW"]
    assert "运行配置 `" in said.versions["zh_CN"]
    import opencc

    t2s = opencc.OpenCC("t2s")
    assert t2s.convert(said.versions["zh_CN"]) == said.versions["zh_CN"]
