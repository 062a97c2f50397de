"""The rendered book in a real browser: headless Chromium driven by Playwright (``make check-html``).

Skipped unless ``DLF_HTML`` names a built book (``_build/check/_build/html``). The pages are served from a
local ``http.server`` and the browser may fetch nothing else: every outside request is blocked, as on a
train or behind a firewall. The book ships its own MathJax (``_static/mathjax``), so formulas still render.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = os.environ.get("DLF_HTML")
pytestmark = pytest.mark.skipif(not HTML, reason="set DLF_HTML to a built book's html folder (make check-html does)")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# jupyter-book 1.0.4 writes sphinx-thebe's inline configuration script twice into every page; the
# second copy throws. Thebe (live code cells) is not used by this book, so that error is harmless.
KNOWN_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
SCREENSHOTS = ("chapters/05_initialization", "chapters/10_tuning_cifar10")


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


CHAPTERS = [page for page in toc_pages() if page.startswith("chapters/")]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    folder = Path(HTML).resolve()
    assert (folder / "index.html").exists(), f"{folder} holds no built book: run make check-html"
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extras)")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(site):
            request_route.continue_()
        else:  # never the internet, MathJax's CDN included
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.blocked, page.errors = blocked, errors
    yield page
    context.close()


def open_page(page, site, name: str):
    page.goto(urljoin(site, f"{name}.html"), wait_until="load")
    scripts = page.eval_on_selector_all("script[src*='mathjax']", "s => s.map(x => x.src)")
    if not scripts:  # Sphinx loads MathJax only where there is maths
        return
    assert all(src.startswith(site) for src in scripts), f"MathJax must come with the book: {scripts}"
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
    page.evaluate("() => MathJax.startup.promise")


def test_navigation_lists_every_page_in_order(page, site):
    open_page(page, site, "intro")
    links = page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference.internal", "links => links.map(a => a.getAttribute('href'))"
    )
    listed = [unquote(href).split("#")[0].removesuffix(".html").lstrip("./") for href in links]
    assert [p for p in listed if p in toc_pages()] == toc_pages()


EDITIONS = {"": "en", "zh-Hant/": "zh-TW", "zh-Hans/": "zh-CN"}  # folder beside the English book → html lang
# a character no font has: Chromium draws it as the same missing-glyph box as any character without a font
MISSING_GLYPHS_JS = r"""(selector) => {
  const text = document.querySelector(selector).innerText;
  const chars = [...new Set([...text].filter(c => /[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]/.test(c)))];
  const canvas = document.createElement('canvas'); canvas.width = 48; canvas.height = 48;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  ctx.font = '32px ' + getComputedStyle(document.querySelector(selector)).fontFamily;
  const draw = c => {
    ctx.clearRect(0, 0, 48, 48); ctx.fillText(c, 4, 36); return ctx.getImageData(0, 0, 48, 48).data.join();
  };
  const box = draw('\u{10FFFD}');
  return {same_box: box === draw('\u{10FFFC}'), chars: chars.length, missing: chars.filter(c => draw(c) === box)};
}"""


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("name", toc_pages())
def test_page_renders(page, site, name, edition):
    if edition and not (Path(HTML) / edition).is_dir():
        pytest.skip(f"no {edition} edition in {HTML}")
    name, page_name = f"{edition}{name}", name
    open_page(page, site, name)
    assert page.evaluate("document.documentElement.lang") == EDITIONS[edition]
    if page_name in SCREENSHOTS:  # the top of the page as a reader first sees it
        folder = Path(HTML).parents[1] / "screenshots"
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / f"{edition.strip('/') or 'en'}-{Path(name).name}.png"), full_page=False)
    article = "article.bd-article"
    # MathJax has typeset every formula: containers present, no raw TeX delimiters in the prose
    if page.locator(f"{article} .math").count():
        assert page.locator(f"{article} mjx-container").count() > 0, "no typeset maths"
    prose = page.evaluate(
        """(selector) => { const copy = document.querySelector(selector).cloneNode(true);
        copy.querySelectorAll('pre, code, .cell_output').forEach(e => e.remove()); return copy.innerText; }""",
        article,
    )
    for raw in ("$$", "\\(", "\\[", "\\begin{"):
        assert raw not in prose, f"untypeset maths ({raw!r}) on {name}"
    # every image has loaded (the executed build has figures in every chapter)
    images = page.eval_on_selector_all(
        f"{article} img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
    )
    if page_name in CHAPTERS:
        assert images, f"{name}: no figures (was the book built with execution?)"
    assert all(ok for _, ok in images), [src for src, ok in images if not ok]
    # exercise solutions, plain and gated (solution-start/-end, with executed cells), are hidden until clicked
    solutions = page.locator(f"{article} .solution")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        content = solution.locator("section, .cell").first
        assert not content.is_visible(), f"solution {i + 1} is visible before it is clicked"
    if solutions.count():
        first = solutions.first
        # at the title's left edge: its middle may be the link back to the exercise, which scrolls instead
        first.locator(".admonition-title").click(position={"x": 12, "y": 12})
        first.locator("section, .cell").first.wait_for(state="visible", timeout=5_000)
    # the Colab button points at this notebook in the repository (a Chinese page: its generated notebook)
    if page_name in CHAPTERS:
        colab = page.eval_on_selector_all("a[href*='colab.research.google.com']", "a => a.map(x => x.href)")
        notebook = f"editions/{edition}{page_name}" if edition else page_name
        assert colab and colab[0].endswith(f"/blob/main/{notebook}.ipynb"), colab
    if edition:
        # every Chinese character has a glyph (a CJK font: .ci/run installs one)
        glyphs = page.evaluate(MISSING_GLYPHS_JS, article)
        assert glyphs["same_box"] and glyphs["chars"] > 0, glyphs
        assert not glyphs["missing"], f"{name}: no glyph for {glyphs['missing'][:20]}"
        # the theme's own labels are in the edition's language
        labels = page.eval_on_selector_all(".prev-next-subtitle", "e => e.map(x => x.innerText.toLowerCase())")
        assert not {"previous", "next"} & set(labels), labels
    if edition == "zh-Hans/":
        import opencc

        t2s = opencc.OpenCC("t2s")
        text = page.evaluate(
            """(selector) => { const copy = document.querySelector(selector).cloneNode(true);
            copy.querySelectorAll('pre, code, .cell_output, dl.glossary dt, nav.dlf-editions').forEach(e => e.remove());
            return copy.innerText; }""",
            article,
        )
        traditional = sorted({c for c in text if t2s.convert(c) != c})
        assert not traditional, f"{name}: Traditional characters in the Simplified edition: {traditional[:20]}"
    errors = [e for e in page.errors if e not in KNOWN_ERRORS]
    assert not errors, errors
    assert not page.blocked, f"the page tried to reach the internet: {page.blocked}"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def test_no_broken_internal_links_or_anchors():
    folder = Path(HTML)
    pages = {}
    for path in folder.rglob("*.html"):
        if "_static" in path.parts or "_sources" in path.parts:
            continue
        parser = _Links()
        parser.feed(path.read_text(encoding="utf8"))
        pages[path.resolve()] = parser
    broken = []
    for path, parser in pages.items():
        for href in parser.hrefs:
            parts = urlparse(href)
            if parts.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(folder.resolve())}: {href} (no such file)")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{path.relative_to(folder.resolve())}: {href} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


class _Requests(html.parser.HTMLParser):
    """What a page loads by itself: scripts, stylesheets, icons, fonts, images, frames (not links to click)."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src", "video": "src"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.urls.append(attrs[self.LOADS[tag]])
        elif tag == "link" and attrs.get("href") and (attrs.get("rel") or "") in ("stylesheet", "icon", "preload"):
            self.urls.append(attrs["href"])


def test_pages_load_nothing_from_outside_the_book():
    """The static audit behind the browser test: no page needs the network to be read."""
    outside = []
    for path in Path(HTML).rglob("*.html"):
        parser = _Requests()
        parser.feed(path.read_text(encoding="utf8"))
        outside += [f"{path.name}: {url}" for url in parser.urls if urlparse(url).scheme or url.startswith("//")]
    assert not outside, "\n".join(sorted(set(outside))[:20])
    assert (Path(HTML) / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_chapter_pages_offer_their_student_notebooks():
    """Each student notebook is linked from its chapter page in every edition, and the link downloads it from
    the built book."""
    import json

    for folder in [Path(HTML)] + [Path(HTML) / edition for edition in _chinese_editions()]:
        for notebook in (ROOT / "student").glob("*.ipynb"):
            page = (folder / "chapters" / notebook.name.replace(".ipynb", ".html")).read_text()
            assert f'href="../_student/{notebook.name}" download' in page, (folder, notebook.name)
            served = json.loads((folder / "_student" / notebook.name).read_text())
            assert served == json.loads(notebook.read_text())


def _chinese_editions() -> list[str]:
    return [folder for folder in EDITIONS if folder and (Path(HTML) / folder).is_dir()] if HTML else []


class _Glued(html.parser.HTMLParser):
    """The glued values of a page (myst-nb's ``{glue:text}``: ``<span class="pasted-text">``), in order."""

    def __init__(self):
        super().__init__()
        self.values, self._open = [], False

    def handle_starttag(self, tag, attrs):
        self._open = tag == "span" and "pasted-text" in (dict(attrs).get("class") or "").split()

    def handle_data(self, data):
        if self._open:
            self.values.append(data.strip())
            self._open = False


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_chinese_page_shows_the_numbers_of_the_english_page(name):
    """Every glued number of a chapter, the same on all editions (one execution, one cache)."""
    editions = _chinese_editions()
    if not editions:
        pytest.skip("no Chinese editions built")

    def glued(folder):
        parser = _Glued()
        parser.feed((Path(HTML) / folder / f"{name}.html").read_text(encoding="utf8"))
        return sorted(parser.values)

    english = glued("")
    assert english, f"{name}: no glued numbers (was the book executed?)"
    for folder in editions:
        assert glued(folder) == english, folder


def test_every_glued_sentence_comes_in_every_editions_words():
    """No chapter glues a sentence that a Chinese page shows in English (``book.untranslated_sentences`` on each
    chapter's outputs in the execution cache the build used)."""
    import nbformat
    from jupyter_cache import get_cache

    from dlfoundations import book

    if not _chinese_editions():
        pytest.skip("no Chinese editions built")
    config = yaml.safe_load((Path(HTML).parents[1] / "config.yml").read_text(encoding="utf8"))
    cache = get_cache(ROOT / config["execute"]["cache"])
    english = []
    for name in CHAPTERS:
        record = cache.match_cache_notebook(nbformat.read(ROOT / f"{name}.ipynb", nbformat.NO_CONVERT))
        english += [f"{name}: {line}" for line in book.untranslated_sentences(cache.get_cache_bundle(record.pk).nb)]
    assert not english, "\n".join(english) + "\n(glue a book.Said: dlfoundations.wording)"


def test_the_language_switcher_lands_on_the_same_page(page, site):
    if len(_chinese_editions()) < 2:
        pytest.skip("no Chinese editions built")
    name = "chapters/03_backpropagation"
    open_page(page, site, name)
    for label, folder, title in (
        ("繁體中文", "zh-Hant/", "倒傳遞"),
        ("简体中文", "zh-Hans/", "反向传播"),
        ("English", "", "Backpropagation"),
    ):
        page.locator("nav.dlf-editions a", has_text=label).click()
        page.wait_for_load_state("load")
        assert page.url == urljoin(site, f"{folder}{name}.html"), page.url
        assert title in page.locator("article.bd-article h1").first.inner_text()


@pytest.mark.parametrize(("folder", "word"), [("zh-Hant/", "倒傳遞"), ("zh-Hans/", "反向传播")])
def test_a_chinese_search_finds_its_chapter(page, site, folder, word):
    """Sphinx's Chinese search (jieba, with the glossary's names as words) finds a term's chapter."""
    if folder not in _chinese_editions():
        pytest.skip(f"no {folder} edition built")
    page.goto(urljoin(site, f"{folder}search.html?q={word}"), wait_until="load")
    page.wait_for_selector("ul.search li", timeout=30_000)
    found = page.eval_on_selector_all("ul.search li a", "a => a.map(x => x.getAttribute('href'))")
    assert any("03_backpropagation" in href for href in found), found
