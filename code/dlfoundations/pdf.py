"""The whole book as one PDF, printed by Chromium from the built HTML pages.

    python -m dlfoundations.pdf _build/html _build/pdf/book.pdf

Each page of ``_toc.yml`` (the root page first) is opened in headless Chromium from the built HTML (so formulas
are typeset by the same MathJax, figures and glued numbers come from the same execution cache as the web
book, and Chinese text uses the system's CJK font), printed to PDF with its own headings as bookmarks, and
the pages are joined with :mod:`pypdf` under one outline: parts, their chapters, each chapter's sections.
Needs Chromium (``chromium`` on the path, or ``DLF_CHROMIUM``) and the ``book`` extras (playwright, pypdf);
no network. jupyter-book's own ``pdfhtml`` builder downloads a Chromium, and its single-page HTML does not
build with myst-nb's hidden code cells, hence this.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import yaml

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# what the printed page leaves out: navigation, buttons and the web page's own header and footer
PRINT_CSS = """
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .prev-next-area, .bd-footer,
.bd-footer-article, .bd-footer-content, .headerlink, .skip-link, #pst-back-to-top, #jb-print-toc,
.toggle-button, .dropdown-toggle, .d-print-none { display: none !important; }
html, body, .bd-container, .bd-container__inner, .bd-page-width, .bd-main, .bd-content, .bd-article-container,
.bd-article { display: block !important; width: auto !important; max-width: none !important; min-width: 0 !important;
  margin: 0 !important; padding: 0 !important; overflow: visible !important; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere !important; }
mjx-container[display="true"] { font-size: 92% !important; overflow: visible !important; }
img { max-width: 100% !important; height: auto !important; }
table { font-size: 85%; }
"""
# the headings a printed page's bookmarks come from, as the reader sees them (Chromium's own titles of the
# tagged PDF can run words together at line breaks)
HEADINGS_JS = """() => Array.from(document.querySelectorAll('#jb-print-docs-body h1, article h1, article h2, '
  + 'article h3, article h4, article h5, article h6')).filter(h => h.offsetParent !== null)
  .map(h => h.innerText.replace(/[#¶]\\s*$/, '').replace(/\\s+/g, ' ').trim())"""


class PdfError(RuntimeError):
    """Something the PDF cannot be made without; the message says what to do."""


def pages(book_root: Path) -> list[tuple[str | None, str]]:
    """``(part caption or None, page path without suffix)`` in the book's order, the root page first."""
    toc = yaml.safe_load((Path(book_root) / "_toc.yml").read_text(encoding="utf8"))
    found = [(None, toc["root"])]
    for part in toc.get("parts", []):
        found += [(part.get("caption"), entry["file"]) for entry in part.get("chapters", [])]
    return found


def chromium() -> str:
    executable = os.environ.get("DLF_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise PdfError("no Chromium found: install it (Debian: apt-get install -y chromium) or set DLF_CHROMIUM")
    return executable


def print_pages(html: Path, names: list[str], folder: Path) -> list[tuple[Path, list[str]]]:
    """Print each built page ``html/<name>.html`` to ``folder/NN.pdf`` after MathJax has typeset it; with each
    printed file, the page's visible headings in order."""
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError as error:
        raise PdfError("playwright is missing: pip install -e '.[book]'") from error
    printed = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        for number, name in enumerate(names):
            source = html / f"{name}.html"
            if not source.exists():
                raise PdfError(f"{source} is missing: build the HTML first (make book)")
            page.goto(source.resolve().as_uri(), wait_until="load")
            page.evaluate("() => (window.MathJax && MathJax.startup) ? MathJax.startup.promise : null")
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            headings = page.evaluate(HEADINGS_JS)
            target = folder / f"{number:02d}.pdf"
            page.pdf(
                path=str(target),
                format="A4",
                print_background=True,
                outline=True,
                tagged=True,
                margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                '<span class="pageNumber"></span></div>',
            )
            printed.append((target, headings))
        browser.close()
    return printed


def _flat(items) -> list:
    return [leaf for item in items for leaf in (_flat(item) if isinstance(item, list) else [item])]


def _copy_outline(reader, writer, items, parent, offset: int, titles) -> None:
    """The bookmarks of one printed page (its headings), nested under ``parent``, at the joined pages; each
    titled from ``titles`` (an iterator over the page's headings) where given."""
    last = None
    for item in items:
        if isinstance(item, list):  # the children of the item before
            if last is not None:
                _copy_outline(reader, writer, item, last, offset, titles)
            continue
        title = next(titles) if titles is not None else item.title
        page = reader.get_destination_page_number(item)
        last = writer.add_outline_item(title=title, page_number=offset + page, parent=parent)


def join(printed: list[tuple[Path, list[str]]], entries: list[tuple[str | None, str]], out: Path) -> Path:
    """One PDF of the printed pages, with one outline: parts, their pages, each page's own headings."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    part_items: dict[str, object] = {}
    for (path, headings), (part, _name) in zip(printed, entries, strict=True):
        reader = PdfReader(path)
        offset = len(writer.pages)
        for page in reader.pages:
            writer.add_page(page)
        parent = None
        if part is not None:
            if part not in part_items:
                part_items[part] = writer.add_outline_item(title=part, page_number=offset)
            parent = part_items[part]
        outline = reader.outline
        # a chapter's outline starts with its title (its only top-level heading): that is the chapter's item;
        # the titles are the page's headings where Chromium bookmarked each of them, else Chromium's own
        titles = iter(headings) if len(_flat(outline)) == len(headings) else None
        _copy_outline(reader, writer, outline, parent, offset, titles)
    writer.page_mode = "/UseOutlines"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as stream:
        writer.write(stream)
    return out


def build(html: Path, out: Path, book_root: Path = Path(".")) -> Path:
    entries = pages(book_root)
    with tempfile.TemporaryDirectory(prefix="dlf-pdf-") as folder:
        printed = print_pages(Path(html), [name for _, name in entries], Path(folder))
        return join(printed, entries, Path(out))


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", type=Path, help="the built HTML folder (make book: _build/html)")
    parser.add_argument("out", type=Path, help="the PDF to write")
    parser.add_argument("--book", type=Path, default=Path("."), help="the folder with _toc.yml")
    args = parser.parse_args(argv)
    try:
        path = build(args.html, args.out, args.book)
    except PdfError as error:
        raise SystemExit(f"pdf: {error}") from None
    from pypdf import PdfReader

    print(f"wrote {path} ({len(PdfReader(path).pages)} pages)")
    return path


if __name__ == "__main__":
    main()
