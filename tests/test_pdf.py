"""The book as one PDF (``make pdf``; ``make check-html`` prints the quick-profile book and checks it here).

The checks that need the printed book are skipped unless ``DLF_PDF`` names it; the joining of printed pages
under one outline is checked on small PDFs made here.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from dlfoundations import pdf

pypdf = pytest.importorskip("pypdf", reason="pip install -e '.[book]'")
ROOT = Path(__file__).resolve().parents[1]
PDF = os.environ.get("DLF_PDF")
printed = pytest.mark.skipif(not PDF, reason="set DLF_PDF to the printed book (make check-html does)")


def blank_pdf(path: Path, pages: int, headings: list[tuple[str, int, int]]) -> Path:
    """A PDF of ``pages`` blank pages whose bookmarks are ``(title, page, depth)`` (depth 0 or 1)."""
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    parents = {}
    for title, page, depth in headings:
        parents[depth] = writer.add_outline_item(title=title, page_number=page, parent=parents.get(depth - 1))
    with open(path, "wb") as stream:
        writer.write(stream)
    return path


def outline_tree(reader) -> list:
    def walk(items):
        tree = []
        for item in items:
            if isinstance(item, list):
                tree[-1] = (tree[-1][0], tree[-1][1], walk(item))
            else:
                tree.append((item.title, reader.get_destination_page_number(item), []))
        return tree

    return walk(reader.outline)


def test_join_puts_parts_over_their_pages_and_each_page_over_its_headings(tmp_path):
    intro = blank_pdf(tmp_path / "0.pdf", 1, [("Intro chapter", 0, 0)])
    first = blank_pdf(tmp_path / "1.pdf", 3, [("Gradient  descent", 0, 0), ("A section", 2, 1)])
    second = blank_pdf(tmp_path / "2.pdf", 2, [("Optimizers", 0, 0)])
    entries = [(None, "intro"), ("Optimization", "chapters/01"), ("Optimization", "chapters/02")]
    headings = [["Intro"], ["Gradient descent", "A section"], ["Only one heading for two bookmarks"]]
    out = pdf.join([(intro, headings[0]), (first, headings[1]), (second, ["a", "b"])], entries, tmp_path / "b.pdf")
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 6 and reader.page_mode == "/UseOutlines"
    # the page's own headings name the bookmarks; where their count differs, Chromium's titles stay
    assert outline_tree(reader) == [
        ("Intro", 0, []),
        ("Optimization", 1, [("Gradient descent", 1, [("A section", 3, [])]), ("Optimizers", 4, [])]),
    ]
    assert [name for _, name in pdf.pages(ROOT)][:2] == ["intro", "chapters/01_gradient_descent"]


def chapter_titles() -> dict[str, str]:
    """Each chapter's title (its first Markdown heading), by page name."""
    titles = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
        titles[f"chapters/{path.stem}"] = re.sub(r"[`*]", "", re.match(r"# (.+)", first).group(1)).strip()
    return titles


@pytest.fixture(scope="module")
def book():
    reader = pypdf.PdfReader(PDF)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))  # NFKC: the ligature ﬁ is fi


@printed
def test_the_outline_has_every_part_and_chapter_in_order(book):
    reader, _ = book
    tree = outline_tree(reader)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert [title for title, _, _ in tree[1:]] == [part["caption"] for part in toc["parts"]]
    titles = chapter_titles()
    for (caption, _, children), part in zip(tree[1:], toc["parts"], strict=True):
        in_part = [titles[e["file"]] for e in part["chapters"] if e["file"] in titles]
        assert [t for t, _, _ in children if t in titles.values()] == in_part, caption
    starts = [page for _, page, _ in tree]
    assert starts == sorted(starts) and len(reader.pages) > 2 * len(titles)


@printed
def test_every_chapter_title_glued_number_and_chinese_term_is_in_the_text(book):
    _, text = book
    for title in chapter_titles().values():
        assert title in text, title
    assert "{glue:" not in text and "詞彙表" in text  # the glossary's Chinese terms need a CJK font


@printed
def test_no_formula_is_left_as_tex(book):
    """Every formula of the chapters' prose is typeset: its TeX source appears nowhere in the text."""
    _, text = book
    sources = set()
    for path in (ROOT / "chapters").glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                prose = re.sub(r"`[^`]*`", "", "".join(cell["source"]))
                sources |= {m.strip() for m in re.findall(r"\$\$?([^$]+)\$\$?", prose) if "\\" in m}
    assert len(sources) > 100
    # a code cell prints a formula of its strings with the backslash doubled (`"$\\lambda =$"`): not prose
    raw = [s for s in sources if len(s) > 8 and re.search(r"(?<!\\)" + re.escape(re.sub(r"\s+", " ", s)), text)]
    assert not raw, raw[:5]
    assert "\\frac{" not in text.replace("\\\\frac", "")


@printed
def test_every_figure_of_the_html_is_in_the_pdf(book):
    reader, _ = book
    html = Path(os.environ.get("DLF_HTML", ROOT / "_build" / "html"))
    figures = 0
    for _, name in pdf.pages(ROOT):
        article = (html / f"{name}.html").read_text().split('<article class="bd-article">', 1)[-1]
        figures += len(re.findall(r"<img\b", article))
    images = sum(
        1
        for page in reader.pages
        for obj in (page.get("/Resources", {}).get("/XObject", {}) or {}).values()
        if obj.get_object().get("/Subtype") == "/Image"
    )
    assert figures > 10 and images >= figures, (images, figures)
