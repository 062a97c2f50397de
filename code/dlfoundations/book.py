"""The book around the notebooks: ``glue`` that works anywhere, the build configuration, offline MathJax.

``glue(name, value)`` is myst-nb's glue when myst-nb is installed (the book build) and otherwise just
shows the value, so a chapter runs unchanged in the book build, in Colab and in a bare Jupyter kernel.

``python -m dlfoundations.book`` writes the ``_config.yml`` that ``make book`` and ``make test`` build
from. jupyter-cache keys a notebook's outputs on its code cells only, so a change to the package, to
the pinned dependencies or to the run profile would otherwise be served from a stale cache. The
written configuration therefore names a cache folder per *build key*, a hash of the package sources,
``constraints.txt`` and the profile (:func:`build_key`); old folders of the same profile are pruned::

    python -m dlfoundations.book --execute cache --out _build/config.yml

Listed as a Sphinx extension in ``_config.yml``, this module also ships MathJax with the book: the
pinned copy of the ``django-static-mathjax`` package is copied into the build's static files and every
page loads it from there, so formulas render without internet.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
from pathlib import Path

import yaml

from . import config

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parents[1]  # the repository root of an editable install
CACHE_FOLDER = "_build/.jupyter_cache"
MATHJAX_SCRIPT = "tex-mml-chtml.js"  # the bundle Sphinx loads by default, here from _static/mathjax/


# --------------------------------------------------------------------------- tables and glue


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A Markdown table (for ``IPython.display.Markdown`` and myst-nb ``glue``)."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# the book's editions: Sphinx language → the folder beside the English HTML ("" for English itself)
EDITION_FOLDERS = {"en": "", "zh_TW": "zh-Hant", "zh_CN": "zh-Hans"}
EDITION_LABELS = {"en": "English", "zh_TW": "繁體中文", "zh_CN": "简体中文"}
GLUE_LANGUAGES = tuple(language for language, folder in EDITION_FOLDERS.items() if folder)  # each glued sentence


class Said(str):
    """A sentence a page shows through ``{glue:md}``, in English, with its Chinese editions' versions::

        Said("seed 0", zh_TW="隨機種子 0", zh_CN="随机种子 0")

    It is the English string; :func:`glue` also glues each version under :func:`glue_name` (the English where a
    version is missing), and the generated Chinese pages show those (``python -m dlfoundations.editions``)."""

    versions: dict[str, str | None]

    def __new__(cls, english: str, zh_TW: str | None = None, zh_CN: str | None = None):  # noqa: N803
        text = super().__new__(cls, english)
        text.versions = {"zh_TW": zh_TW, "zh_CN": zh_CN}
        return text


def glue_name(name: str, language: str) -> str:
    """The glue name of ``name``'s version for an edition: ``run__zh_TW``."""
    return f"{name}__{language}"


def glue(name: str, value, display: bool = True) -> None:
    """Store ``value`` under ``name`` for ``{glue}`` roles in the book, as :func:`myst_nb.glue` does.

    Without myst-nb (Colab, a plain install, a bare kernel) the same output is written by
    :func:`_glue_without_myst_nb`, so that a notebook executed there still carries its glued values for the
    book and shows the value where ``display=True``. NumPy and torch scalars are glued as Python numbers:
    myst-nb formats ``{glue:text}`name:.1f``` from the value's text, and ``np.float64(2.5)`` is not a number
    it can read. A Markdown value is also glued for each Chinese edition (:class:`Said`, :func:`glue_name`).
    """
    value = _plain(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        myst_glue = _glue_without_myst_nb
    myst_glue(name, value, display=display)
    text = getattr(value, "data", None)
    if type(value).__name__ == "Markdown" and isinstance(text, str):  # a sentence for {glue:md}: every edition's
        versions = getattr(text, "versions", {})
        for language in GLUE_LANGUAGES:
            myst_glue(glue_name(name, language), type(value)(versions.get(language) or str(text)), display=False)


GLUE_PREFIX = "application/papermill.record/"  # myst-nb's mime prefix for a glued value that is not shown


_ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:[^A-Za-z]{1,12}[A-Za-z]{2,}){2,}")  # three English words, close
_CODE_OR_MATHS = re.compile(r"`[^`]*`|\$[^$]*\$")


def _glued_outputs(notebook):
    """(name, kind → data) of every glued value in an executed notebook, shown or hidden (:data:`GLUE_PREFIX`)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                yield name, {kind.removeprefix(GLUE_PREFIX): data for kind, data in output.get("data", {}).items()}


def glued_sentences(notebook) -> dict[str, dict[str, str]]:
    """An executed notebook's glued Markdown values (``{glue:md}``) by name: each edition's version."""
    found = {name: data["text/markdown"] for name, data in _glued_outputs(notebook) if "text/markdown" in data}
    return {
        name: {"en": text, **{language: found[glue_name(name, language)] for language in GLUE_LANGUAGES}}
        for name, text in found.items()
        if all(glue_name(name, language) in found for language in GLUE_LANGUAGES)
    }


def untranslated_sentences(notebook) -> list[str]:
    """The glued sentences (three English words or more, outside code and maths) that an edition shows in
    English: a ``{glue:md}`` value composed without :class:`Said` (an f-string or ``+`` on one drops its
    versions), or words glued as plain text (``{glue:text}`` has no edition versions: glue Markdown)."""
    english = [
        f"{name} ({language}): {versions['en'][:80]!r}"
        for name, versions in glued_sentences(notebook).items()
        if _ENGLISH_WORDS.search(_CODE_OR_MATHS.sub(" ", versions["en"]))
        for language in GLUE_LANGUAGES
        if versions[language] == versions["en"]
    ]
    for name, data in _glued_outputs(notebook):
        text = data.get("text/plain", "")
        if "text/markdown" not in data and text[:1] in "'\"" and _ENGLISH_WORDS.search(text):
            english.append(f"{name} (glued as text, not Markdown): {text[:80]}")
    return english


def _glue_without_myst_nb(name: str, value, display: bool = True) -> None:
    """myst-nb's glue output (the value's display data with ``scrapbook`` metadata, hidden values under
    :data:`GLUE_PREFIX`), written without myst-nb; outside IPython the value is printed where ``display``."""
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipy_display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:  # a plain Python script
        if display:
            print(value)
        return
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + kind: data for kind, data in bundle.items()}, raw=True, metadata=metadata)


def _plain(value):
    """A NumPy scalar or 0-d tensor as the Python number it holds; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and callable(getattr(value, "item", None)):
        return value.item()
    return value


# --------------------------------------------------------------------------- the execution cache


def build_key(profile: str, package: Path = PACKAGE, constraints: Path | None = None) -> str:
    """A short hash of everything a chapter's outputs depend on besides its own code.

    The package's ``.py`` sources (names and contents), ``constraints.txt`` (the exact dependency
    versions) and the run profile. Two builds with the same key may share executed outputs.
    """
    digest = hashlib.sha256(f"profile={profile}\n".encode())
    constraints = constraints if constraints is not None else Path(package).parents[1] / "constraints.txt"
    files = {str(path.relative_to(package)): path for path in sorted(Path(package).rglob("*.py"))}
    if constraints.exists():
        files["constraints.txt"] = constraints
    for name, path in files.items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cache_path(profile: str, key: str) -> str:
    return f"{CACHE_FOLDER}/{profile}-{key}"


def prune_caches(book_root: Path, profile: str, keep: str) -> list[Path]:
    """Remove this profile's cache folders other than ``keep``; returns what was removed."""
    removed = []
    folder = Path(book_root) / CACHE_FOLDER
    for old in folder.glob(f"{profile}-*") if folder.exists() else []:
        if old.is_dir() and old.name != Path(keep).name:
            shutil.rmtree(old)
            removed.append(old)
    return removed


def book_config(source: Path, execute: str, profile: str, device: str | None = None, key: str | None = None) -> dict:
    """The parsed ``_config.yml`` with execution mode and cache folder replaced.

    The cache folder is ``_build/.jupyter_cache/<profile>-<build key>`` (``key`` defaults to
    :func:`build_key` of this package). The profile and device are also given to the pages as MyST
    substitutions ``{{ build_profile }}`` and ``{{ build_device }}`` (the execution statistics page shows them).
    """
    settings = yaml.safe_load(Path(source).read_text(encoding="utf8"))
    substitutions = settings.setdefault("parse", {}).setdefault("myst_substitutions", {})
    substitutions["build_profile"] = profile
    substitutions["build_device"] = str(device or config.device()) if execute != "off" else "none (not executed)"
    execution = settings.setdefault("execute", {})
    execution["execute_notebooks"] = execute
    execution["cache"] = cache_path(profile, key or build_key(profile))
    if execute == "off":
        # Without outputs, {glue} roles have nothing to show; tests/test_book.py
        # checks statically that every glued name is defined in its notebook.
        sphinx = settings.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["suppress_warnings"] = [*sphinx.get("suppress_warnings", []), "mystnb.glue"]
    return settings


# --------------------------------------------------------------------------- executing the chapters in parallel


def toc_pages(book_root: Path) -> list[str]:
    """The pages ``_toc.yml`` lists (``chapters/03_backpropagation``, ``glossary``), the root page first."""
    toc = yaml.safe_load((Path(book_root) / "_toc.yml").read_text(encoding="utf8"))
    return [toc["root"]] + [entry["file"] for part in toc.get("parts", []) for entry in part.get("chapters", [])]


def toc_notebooks(book_root: Path) -> list[Path]:
    """The ``.ipynb`` files ``_toc.yml`` lists, in the book's order."""
    paths = (Path(book_root) / f"{name}.ipynb" for name in toc_pages(book_root)[1:])
    return [path for path in paths if path.exists()]


KERNEL_NAME = "dlf-kernel"  # the kernel spec execute_chapters writes when given another Python


def _kernel_spec(python: str, folder: Path) -> str:
    """A Jupyter kernel spec under ``folder/kernels`` that starts ``python``'s ipykernel; returns its name."""
    import json

    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": str(python), "language": "python"}))
    return KERNEL_NAME


def _execute_notebook(
    path: str, timeout: int, kernel_name: str | None = None
) -> tuple[str, float, str | None, str | None]:
    """Run one notebook in a kernel of its own, in its folder, as myst-nb's cache mode would.

    The kernel talks to this process over local (IPC) sockets in a private folder, not over TCP: nothing to
    encrypt, and no warning from the kernel that it is unencrypted. Returns ``(path, seconds, error or None,
    executed notebook or None)``; an error names the failing cell (its number counts code cells from 1)."""
    import shutil
    import tempfile

    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution
    from traitlets.config import Config

    print(f"  started  {Path(path).name}", flush=True)
    notebook = nbformat.read(path, as_version=4)
    sockets = tempfile.mkdtemp(prefix="dlf-kernel-")
    try:
        transport = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        result = single_nb_execution(
            notebook,
            cwd=str(Path(path).parent),
            timeout=timeout,
            allow_errors=False,
            meta_override=True,
            config=transport,
            **({"kernel_name": kernel_name} if kernel_name else {}),
        )
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    if result.err is not None:
        return path, result.time, _failure(notebook, result.exc_string or repr(result.err)), None
    return path, result.time, None, nbformat.writes(notebook)


def _failure(notebook, traceback_text: str) -> str:
    """Which cell of an executed notebook failed, its first lines and its error (else the whole traceback)."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines = cell.source.splitlines()
                head = "\n".join(f"    {line}" for line in lines[:3]) + ("\n    …" if len(lines) > 3 else "")
                return f"code cell {number}:\n{head}\n{output['ename']}: {output['evalue']}"
    return traceback_text


def _times_path(book_root: Path) -> Path:
    return Path(book_root) / "_build" / "chapter-seconds.json"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def execute_chapters(
    book_root: Path,
    cache: str,
    profile: str,
    jobs: int,
    timeout: int = 3600,
    force: bool = False,
    python: str | Path | None = None,
) -> dict[str, float]:
    """Execute the book's notebooks ``jobs`` at a time into the execution cache the build then reads.

    jupyter-book runs the notebooks one after the other; on a CPU most of a chapter's time is spent in
    operations too small to keep every core busy, so two notebooks side by side, each with half of the
    cores (``OMP_NUM_THREADS``, unless already set), finish the book sooner. Notebooks the cache already
    holds for their current code are skipped (``force=True`` runs them again); the later chapters, which
    train longer, start first. Each result goes into the cache exactly as myst-nb's cache mode stores it,
    so ``jupyter-book build`` finds every chapter executed.

    It prints a line as each chapter starts and as it ends (with its seconds), and after each a running count
    with the time left, estimated from the seconds the last build of this profile took (kept in
    ``_build/chapter-seconds.json``). A failing chapter lets the running ones finish (they stay cached), starts
    no other, and stops with the chapter's name, its cell and its error. Returns the seconds per executed
    notebook.

    ``python``: run the kernels with this interpreter (which needs ``ipykernel``) instead of the notebooks' own
    kernel spec; ``make check-html`` passes the one of a plain ``pip install`` without the book's extras.
    """
    import concurrent.futures
    import json
    import multiprocessing
    import os
    import statistics
    import time

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    store = get_cache(str(Path(book_root) / cache))
    notebooks = list(reversed(toc_notebooks(book_root)))
    todo = []
    for path in notebooks:
        try:
            store.match_cache_notebook(nbformat.read(path, as_version=4))
            if force:
                todo.append(str(path))
        except KeyError:
            todo.append(str(path))
    if not todo:
        return {}
    times_file = _times_path(book_root)
    try:
        history = json.loads(times_file.read_text()).get(profile, {})
    except (OSError, ValueError):
        history = {}
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    os.environ["DLF_PROFILE"] = profile  # the kernels inherit the environment
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, threads)
    names = [Path(p).name for p in todo]
    known = [history[n] for n in names if n in history]
    guess = {n: history.get(n, statistics.median(known) if known else None) for n in names}
    cached = len(notebooks) - len(todo)
    print(
        f"executing {len(todo)} of {len(notebooks)} notebooks ({cached} cached), {jobs} at a time, "
        f"{os.environ['OMP_NUM_THREADS']} thread(s) each, profile {profile}"
        + (f"; the last build took about {_minutes(sum(known) / jobs)} for them" if len(known) == len(names) else ""),
        flush=True,
    )
    kernel_name = None
    if python is not None:
        python = Path(python).absolute()
        if not python.exists():
            raise SystemExit(f"no Python at {python}: create that environment first (make check-html does)")
        spec_folder = Path(book_root) / "_build" / "kernel-spec"
        kernel_name = _kernel_spec(str(python), spec_folder)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(spec_folder), os.environ.get("JUPYTER_PATH")]))
        print(f"kernels: {python}", flush=True)
    seconds: dict[str, float] = {}
    failed: str | None = None
    started = {n: time.perf_counter() for n in names[:jobs]}  # the pool starts them in this order
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_execute_notebook, path, timeout, kernel_name): Path(path).name for path in todo}
        for future in concurrent.futures.as_completed(futures):
            if future.cancelled():
                continue
            path, took, error, executed = future.result()
            name = Path(path).name
            waiting = [n for n in names if n not in started]
            if waiting and failed is None:
                started[waiting[0]] = time.perf_counter()
            if error is not None:
                print(f"  FAILED   {name} after {took:.0f} s", flush=True)
                if failed is None:
                    failed = f"{name} failed after {took:.0f} s, in {error}"
                    for other in futures:
                        other.cancel()  # those not started; the running ones finish and are cached
                continue
            bundle = CacheBundleIn(nbformat.reads(executed, as_version=4), path, data={"execution_seconds": took})
            store.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            seconds[name] = took
            history[name] = took
            left = [n for n in names if n not in seconds]
            now = time.perf_counter()
            estimate = None
            if all(guess[n] is not None for n in left):
                running = sum(min(now - started[n], guess[n]) for n in left if n in started)
                estimate = max(0.0, sum(guess[n] for n in left) - running) / jobs
            status = f"{len(seconds)} of {len(names)} done"
            if left and estimate is not None and failed is None:
                status += f", about {_minutes(estimate)} left"
            print(f"  finished {name} in {took:.1f} s ({status})", flush=True)
    if seconds:
        try:
            stored = json.loads(times_file.read_text())
        except (OSError, ValueError):
            stored = {}
        times_file.parent.mkdir(parents=True, exist_ok=True)
        times_file.write_text(json.dumps({**stored, profile: history}, indent=1, sort_keys=True) + "\n")
    if failed is not None:
        raise SystemExit(failed + f"\n({len(seconds)} other notebook(s) finished and stay cached)")
    return seconds


# --------------------------------------------------------------------------- MathJax without a CDN


def mathjax_source() -> Path:
    """The ``es5`` folder of the pinned MathJax 3 (package ``django-static-mathjax``, book extra)."""
    try:
        import mathjax
    except ImportError as error:
        raise ImportError(
            "The book ships its own MathJax, from the package django-static-mathjax: "
            "pip install -e '.[book]' (make book does), then build again."
        ) from error
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def copy_mathjax(destination: Path) -> Path:
    """Copy what ``tex-mml-chtml.js`` loads (itself, its fonts, extensions, menu, speech) to ``destination``."""
    source = mathjax_source()
    skip_bundles = {p.name for p in source.glob("*.js")} - {MATHJAX_SCRIPT}
    ignore = shutil.ignore_patterns(*skip_bundles, "svg", "svg.js")
    shutil.copytree(source, destination, ignore=ignore, dirs_exist_ok=True)
    return destination / MATHJAX_SCRIPT


def _use_local_mathjax(app, sphinx_config) -> None:
    sphinx_config.mathjax_path = f"mathjax/{MATHJAX_SCRIPT}"  # relative to _static/


def _copy_mathjax_into_build(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir) / "_static" / "mathjax")


# --------------------------------------------------------------------------- student notebooks on the pages

STUDENT_FOLDER = "student"  # python -m dlfoundations.student writes it; the build copies it to _student/


STUDENT_WORDS = {  # the "your turn" box in each edition; the student notebooks themselves are in English
    "en": (
        "Your turn",
        "This chapter with its solutions removed and a stub in every \u201cyour turn\u201d exercise,"
        " for you to fill in and check: ",
        "download the notebook",
        "open it in Colab",
        ".",
    ),
    "zh_TW": (
        "換你動手",
        "本章移除解答、並在每個「換你動手」練習留下待填函式的版本（英文版筆記本），供你填寫並檢查：",
        "下載筆記本",
        "在 Colab 開啟",
        "。",
    ),
    "zh_CN": (
        "换你动手",
        "本章移除解答、并在每个“换你动手”练习留下待填函数的版本（英文版笔记本），供你填写并检查：",
        "下载笔记本",
        "在 Colab 打开",
        "。",
    ),
}


def student_links(
    page: str, book_root: Path, repository: str | None, branch: str = "main", language: str = "en"
) -> str | None:
    """HTML for a chapter page that has a student notebook: links to download it and to open it in Colab (where
    the book names a GitHub repository), or None. ``language`` is the edition's (the notebooks are English)."""
    if not page.startswith("chapters/"):
        return None
    name = page.split("/", 1)[1] + ".ipynb"
    if not (Path(book_root) / STUDENT_FOLDER / name).exists():
        return None
    title, text, download, colab_words, end = STUDENT_WORDS[language]
    links = [f'<a href="../_student/{name}" download>{download}</a>']
    match = re.match(r"https://github\.com/([^/]+/[^/]+?)/?$", repository or "")
    if match:
        colab = f"https://colab.research.google.com/github/{match.group(1)}/blob/{branch}/{STUDENT_FOLDER}/{name}"
        links.append(f'<a href="{colab}">{colab_words}</a>')
    return (
        f'<div class="admonition tip dlf-student"><p class="admonition-title">{title}</p><p>{text}'
        + " \u00b7 ".join(links)
        + f"{end}</p></div>"
    )


def _student_root(app) -> Path:
    """Where the student notebooks are: the book's own folder, or for a generated edition the repository's."""
    return Path(app.srcdir) if app.config.dlf_edition == "en" else ROOT


def _add_student_links(app, pagename, templatename, context, doctree) -> None:
    options = app.config.html_theme_options or {}
    html = student_links(
        pagename,
        _student_root(app),
        options.get("repository_url"),
        options.get("repository_branch") or "main",
        app.config.dlf_edition if app.config.dlf_edition in STUDENT_WORDS else "en",
    )
    if html and "body" in context:
        body = context["body"]
        at = body.find("</h1>")
        context["body"] = body[: at + 5] + html + body[at + 5 :] if at >= 0 else html + body


def _copy_student_notebooks(app, exception) -> None:
    source = _student_root(app) / STUDENT_FOLDER
    if exception is None and app.builder.format == "html" and source.is_dir():
        target = Path(app.outdir) / "_student"
        target.mkdir(parents=True, exist_ok=True)
        for path in source.glob("*.ipynb"):
            shutil.copy(path, target / path.name)


# --------------------------------------------------------------------------- the editions' language switcher


def edition_links(pagename: str, edition: str) -> str:
    """HTML that links a page to the same page in every edition (the current one shown, not linked)."""
    depth = pagename.count("/") + (1 if EDITION_FOLDERS[edition] else 0)
    links = []
    for language, folder in EDITION_FOLDERS.items():
        label = EDITION_LABELS[language]
        lang = language.replace("_", "-")
        if language == edition:
            links.append(f'<strong lang="{lang}" aria-current="page">{label}</strong>')
        else:
            href = "../" * depth + (f"{folder}/" if folder else "") + f"{pagename}.html"
            links.append(f'<a class="dlf-edition" lang="{lang}" hreflang="{lang}" href="{href}">{label}</a>')
    return '<nav class="dlf-editions" aria-label="Language · 語言 · 语言">' + " · ".join(links) + "</nav>"


def _add_edition_links(app, pagename, templatename, context, doctree) -> None:
    if "body" in context and app.config.dlf_edition in EDITION_FOLDERS:
        context["body"] = edition_links(pagename, app.config.dlf_edition) + context["body"]


def setup(app):
    """Sphinx extension: pages load MathJax from ``_static/mathjax`` instead of a CDN, chapter pages link
    their student notebooks, and every page links the same page in the other editions."""
    app.add_config_value("dlf_edition", "en", "html")
    app.connect("html-page-context", _add_edition_links)
    mathjax_source()  # fail early, with instructions, when the package is missing
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax_into_build)
    app.connect("html-page-context", _add_student_links)
    app.connect("build-finished", _copy_student_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write the book's build configuration.")
    parser.add_argument("--source", default="_config.yml", type=Path)
    parser.add_argument("--execute", choices=["cache", "force", "off"], default="cache")
    parser.add_argument("--profile", default=None, help="default: DLF_PROFILE or this machine's default")
    parser.add_argument("--package", default=PACKAGE, type=Path, help="the package whose sources key the cache")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --execute cache: first execute this many notebooks at a time into the cache (default 1: the"
        " build executes them one by one)",
    )
    parser.add_argument(
        "--kernel-python",
        type=Path,
        help="with --jobs: execute the notebooks in kernels of this Python (it needs ipykernel), e.g. a plain"
        " pip install's",
    )
    args = parser.parse_args(argv)
    profile = args.profile or config.profile_name()
    key = build_key(profile, args.package)
    settings = book_config(args.source, args.execute, profile, key=key)
    if args.execute != "off":
        for old in prune_caches(args.source.parent, profile, settings["execute"]["cache"]):
            print(f"removed the stale execution cache {old}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(yaml.safe_dump(settings, sort_keys=False))
    print(f"wrote {args.out} (execute: {args.execute}, profile: {profile}, cache: {settings['execute']['cache']})")
    if args.execute == "cache" and args.jobs > 1:
        execution = settings["execute"]
        execute_chapters(
            args.source.parent,
            execution["cache"],
            profile,
            args.jobs,
            execution.get("timeout", 3600),
            python=args.kernel_python,
        )


if __name__ == "__main__":
    main()
