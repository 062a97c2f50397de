"""The Chinese editions' catalogue checks (dlfoundations.i18n): a translation keeps every formula, role, piece of
inline code and link target of its English message, and the glossary's Chinese names of the terms it uses."""

from pathlib import Path

import pytest

from dlfoundations import i18n

ROOT = Path(__file__).resolve().parents[1]

ENGLISH = (
    "The step is $\\eta \\nabla f$ and the error {glue:text}`rel_error:.1e`; see {doc}`03_backpropagation`, "
    "`torch.optim.SGD` and [the notes](https://example.org/notes) {cite}`kingma2015adam`."
)
CHINESE = (
    "步長為 $\\eta \\nabla f$，相對誤差為 {glue:text}`rel_error:.1e`；`torch.optim.SGD` 的用法見 "
    "{doc}`03_backpropagation` 與[講義](https://example.org/notes) {cite}`kingma2015adam`。"
)


def test_the_protected_pieces_of_a_message_by_kind():
    found = i18n.protected(ENGLISH)
    assert set(found["role"]) == {"{glue:text}`rel_error:.1e`", "{doc}`03_backpropagation`", "{cite}`kingma2015adam`"}
    assert list(found["code"]) == ["`torch.optim.SGD`"] and list(found["math"]) == ["$\\eta \\nabla f$"]
    assert list(found["link"]) == ["https://example.org/notes"]
    # a role's content is not also inline code, and a $ inside code is not maths
    assert i18n.protected("`a $x$ b` and {glue:text}`x`") == i18n.protected("{glue:text}`x` and `a $x$ b`")
    assert not i18n.protected("`a $x$ b`")["math"]


def test_a_faithful_translation_passes_in_its_own_order():
    assert i18n.check_message(ENGLISH, CHINESE) == []


@pytest.mark.parametrize(
    ("planted", "problem"),
    [
        (CHINESE.replace("$\\eta \\nabla f$", "η∇f"), "math '$\\\\eta \\\\nabla f$' is missing"),
        (CHINESE.replace("rel_error:.1e", "rel_err:.1e"), "role '{glue:text}`rel_error:.1e`' is missing"),
        (CHINESE.replace(".1e`", ".2e`"), "role '{glue:text}`rel_error:.2e`' is not in the English"),
        (CHINESE.replace("`torch.optim.SGD`", "torch.optim.SGD"), "code '`torch.optim.SGD`' is missing"),
        (CHINESE.replace("example.org/notes", "example.org/zh/notes"), "link 'https://example.org/notes' is missing"),
        (CHINESE + " $x$", "math '$x$' is not in the English"),
    ],
)
def test_every_kind_of_planted_error_is_caught(planted, problem):
    assert problem in i18n.check_message(ENGLISH, planted)


def test_the_glossary_gives_every_term_its_chinese_name():
    terms = i18n.glossary_terms(ROOT / "glossary.md")
    assert len(terms) > 80 and terms["ablation"] == ["消融實驗"]
    assert terms["Adam"] == ["Adam 優化器", "Adam"]  # "Adam" alone also keeps the name
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in names[0]) for names in terms.values())
    with pytest.raises(ValueError, match="no \\{glossary\\}"):
        i18n.glossary_terms(ROOT / "intro.md")


def test_a_term_of_the_english_needs_its_chinese_name():
    terms = {"weight averaging": ["權重平均"], "Adam": ["Adam 優化器", "Adam"]}
    english = "Adam with Weight averaging"
    assert i18n.check_terms(english, "Adam 與權重平均", terms) == []
    assert i18n.check_terms(english, "Adam 與滑動平均", terms) == [
        "term 'weight averaging': none of ['權重平均'] in the translation"
    ]
    assert i18n.check_terms("Adamax and weight-averaging-free", "", terms) == []  # whole words only


def test_a_catalogue_names_untranslated_fuzzy_and_broken_messages(tmp_path):
    from babel.messages import Catalog, pofile

    catalogue = Catalog(locale="zh_TW")
    cell = "chapters/03_backpropagation.ipynb"
    catalogue.add(ENGLISH, CHINESE, locations=[(cell, 10004)])
    catalogue.add("Untranslated paragraph.", "", locations=[(cell, 20002)])
    catalogue.add("Changed paragraph.", "改過的段落。", locations=[(cell, 30002)], flags=["fuzzy"])
    catalogue.add("With $x$ and weight averaging.", "有權重平均。", locations=[(cell, 40002)])
    path = tmp_path / "03_backpropagation.po"
    with open(path, "wb") as handle:
        pofile.write_po(handle, catalogue)
    problems = i18n.check_catalogue(path, {"weight averaging": ["權重平均"]})
    assert problems == [
        f"{cell}:20002: untranslated",
        f"{cell}:30002: fuzzy (the English changed: check the translation, then drop the flag)",
        f"{cell}:40002: math '$x$' is missing",
    ]
    assert i18n.check_catalogue(path, {"weight averaging": ["滑動平均"]})[-1].startswith(f"{cell}:40002: term")
