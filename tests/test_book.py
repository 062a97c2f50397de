"""Static checks of the book: chapters stored clean, listed in the TOC, glue names defined."""

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from dlfoundations import book

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def cells(path, kind):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


def test_there_are_chapters():
    assert CHAPTERS


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_stored_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{path.name}: clear its outputs"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_in_the_toc(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"chapters/{path.stem}" in toc


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_output_describes_the_run(path):
    first = cells(path, "code")[1]  # after the install cell
    assert "config.describe(" in first
    code = "\n".join(cells(path, "code")[1:])  # the install cell may put the fresh clone on the path
    assert "sys.path" not in code
    assert "myst_nb" not in code, "import glue from dlfoundations.book: myst-nb is not installed in Colab"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_glued_name_is_defined(path):
    """The test build runs without execution, so a misspelt {glue} name would go unnoticed there."""
    used = set(re.findall(r"\{glue:\w*\}`([\w-]+)", "\n".join(cells(path, "markdown"))))
    code = "\n".join(cells(path, "code"))
    defined = set(re.findall(r"glue\(\s*f?[\"']([\w{}-]+)[\"']", code))
    # a name built by an f-string such as f"{key}_test" stands for any name of that shape
    patterns = [re.compile(re.sub(r"\\\{\w+\\\}", r"\\w+", re.escape(d)) + "$") for d in defined]
    used = {name for name in used if not any(p.match(name) for p in patterns)}
    assert not used, f"{path.name}: glued in prose but never glue()d: {used}"


def test_book_config_modes(tmp_path):
    source = ROOT / "_config.yml"
    cached = book.book_config(source, "cache", "standard")
    assert cached["execute"]["execute_notebooks"] == "cache"
    assert cached["execute"]["cache"] == f"_build/.jupyter_cache/standard-{book.build_key('standard')}"
    off = book.book_config(source, "off", "quick")
    assert off["execute"]["execute_notebooks"] == "off"
    assert "mystnb.glue" in off["sphinx"]["config"]["suppress_warnings"]
    assert off["bibtex_bibfiles"] == yaml.safe_load(source.read_text())["bibtex_bibfiles"]
    book.main(["--execute", "off", "--profile", "quick", "--source", str(source), "--out", str(tmp_path / "c.yml")])
    assert yaml.safe_load((tmp_path / "c.yml").read_text()) == off


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def test_toc_lists_exactly_the_chapters_in_order():
    listed = [f for f in toc_files() if f.startswith("chapters/")]
    assert listed == [f"chapters/{p.stem}" for p in CHAPTERS]
    for name in toc_files():
        assert (ROOT / f"{name}.md").exists() or (ROOT / f"{name}.ipynb").exists(), name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_kernel_spec_and_metadata_are_clean(path):
    notebook = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"] == {"display_name": "Python 3", "language": "python", "name": "python3"}
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}, "remove editor metadata"
    for cell in notebook["cells"]:
        assert set(cell["metadata"]) <= {"tags", "dlf"}, f"{path.name}: stray cell metadata {cell['metadata']}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_your_turn_exercises_have_stub_check_and_gated_answer(path):
    """The convention of dlfoundations.student: per exercise a stub, a check after it, and an answer inside a
    solution; each names an exercise the checker knows."""
    from dlfoundations import exercises

    roles, inside = {}, False
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        inside = (inside or "{solution-start}" in source) and "{solution-end}" not in source
        marker = cell["metadata"].get("dlf")
        if marker:
            assert marker["exercise"] in exercises.NAMES and cell["cell_type"] == "code", marker
            assert (marker["role"] == "answer") == inside, f"{path.name}: {marker} inside a solution: {inside}"
            if marker["role"] == "stub":
                assert "raise NotImplementedError" in source and f"def {marker['exercise']}(" in source
            if marker["role"] == "check":
                assert source.strip() == f'exercises.check("{marker["exercise"]}", {marker["exercise"]})'
            roles.setdefault(marker["exercise"], []).append(marker["role"])
    for name, found in roles.items():
        assert found == ["stub", "check", "answer"], (name, found)


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), flags=re.M))
    sources = [p.read_text() for p in [*CHAPTERS, *ROOT.glob("*.md")]]
    cited = {
        k.strip()
        for text in sources
        for group in re.findall(r"\{cite[:\w]*\}`([^`]+)`", text)
        for k in group.split(",")
    }
    assert cited and not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_glossary_has_forty_terms_in_english_and_chinese():
    """Each entry: its English name, its 繁體 name, its 简体 name where that differs, then the indented definition."""
    text = (ROOT / "glossary.md").read_text()
    body = text.split("```{glossary}")[1].split("```")[0]
    entries = [block.strip().splitlines() for block in body.split("\n\n") if block.strip() and ":sorted:" not in block]
    assert len(entries) >= 40
    for lines in entries:
        english, chinese = lines[0], lines[1]
        assert english.isascii() and not chinese.isascii(), lines
        names = 3 if not lines[2].startswith(" ") else 2
        if names == 3:
            assert not lines[2].isascii() and lines[2] != chinese, f"{english}: the 简体 line repeats the 繁體 one"
        assert lines[names].startswith("  "), f"{english}: definition must be indented"


def install_cell(path):
    return cells(path, "code")[0]


def test_every_chapter_has_the_same_install_cell():
    """One snippet, copied: a fix to it must reach every chapter."""
    copies = {install_cell(path) for path in CHAPTERS}
    assert len(copies) == 1, copies
    assert "dlfoundations" not in install_cell(CHAPTERS[0]).split("find_spec")[0], "it may not import the package"


def test_install_cell_clones_the_course_and_installs_it_when_missing(monkeypatch, tmp_path):
    """What a fresh Colab runtime does: no dlfoundations, so it clones the repository (a pip install alone would
    leave out results/, which seven chapters read) and installs the clone, importable at once."""
    import importlib.util
    import subprocess
    import sys
    from pathlib import Path

    code = install_cell(CHAPTERS[0])
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)))
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlfoundations" else real(name))
    exec(compile(code, "install cell", "exec"), {})  # noqa: S102 - the notebook's own cell
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    course = tmp_path / "deep-learning-foundations"
    assert calls == [
        (["git", "clone", "--depth", "1", repository, str(course)], {"check": True}),
        ([sys.executable, "-m", "pip", "install", "-e", str(course)], {"check": True}),
    ]
    assert sys.path[0] == str(course / "code")
    course.mkdir()  # cloned before (a second chapter in the same runtime): install only
    calls.clear()
    exec(compile(code, "install cell", "exec"), {})  # noqa: S102
    assert [args[:4] for args, _ in calls] == [[sys.executable, "-m", "pip", "install"]]
    monkeypatch.setattr(importlib.util, "find_spec", real)  # installed: nothing to do
    calls.clear()
    exec(compile(code, "install cell", "exec"), {})  # noqa: S102
    assert calls == []


def test_book_config_names_profile_and_device_for_the_pages():
    source = ROOT / "_config.yml"
    cached = book.book_config(source, "cache", "quick", device="cuda")
    assert cached["parse"]["myst_substitutions"] == {"build_profile": "quick", "build_device": "cuda"}
    assert "substitution" in cached["parse"]["myst_enable_extensions"]
    assert "{{ build_profile }}" in (ROOT / "execution_statistics.md").read_text()


# --------------------------------------------------------------------------- glue anywhere


def test_glue_without_myst_nb_shows_the_value(monkeypatch, capsys):
    """Colab and bare kernels have no myst-nb: glue must not fail, and the reader still sees the number."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now raises ImportError
    book.glue("answer", 0.125)
    book.glue("hidden", 7, display=False)
    assert capsys.readouterr().out.split() == ["0.125"]


def test_glue_without_myst_nb_writes_what_myst_nb_writes(tmp_path):
    """A kernel without myst-nb (Colab, make plain's) glues exactly as myst-nb does, so the book can be built
    from notebooks executed there: the same outputs, shown and hidden values alike."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    code = "from dlfoundations.book import glue\nglue('shown', 0.25)\nglue('hidden', 'text', display=False)"
    outputs = []
    for blocked in ("0", "1"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        env = {"PYTHONPATH": str(ROOT / "tests" / "kernel_site"), "DLF_BLOCK_MYST_NB": blocked}
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            result = single_nb_execution(nb, cwd=str(tmp_path), timeout=120, allow_errors=False)
        assert result.err is None
        outputs.append(nb.cells[0].outputs)
    assert outputs[0] == outputs[1]
    assert [o["metadata"]["scrapbook"]["name"] for o in outputs[1]] == ["shown", "hidden"]
    assert "application/papermill.record/text/plain" in outputs[1][1]["data"]


def test_glue_uses_myst_nb_when_installed(monkeypatch):
    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    book.glue("answer", 0.125, display=False)
    assert calls == [("answer", 0.125, False)]


def test_glue_gives_myst_nb_plain_numbers(monkeypatch):
    """myst-nb formats {glue:text}`x:.1f` from the value's text; 'np.float64(2.5)' fails the -W build."""
    import numpy as np
    import torch

    calls = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append(value)
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    for value in (np.float64(2.5), np.int64(3), torch.tensor(0.5), 7, "text"):
        book.glue("x", value, display=False)
    assert calls == [2.5, 3, 0.5, 7, "text"] and [type(v) for v in calls] == [float, int, float, int, str]
    array = np.arange(3)
    book.glue("a", array, display=False)
    assert calls[-1] is array


# --------------------------------------------------------------------------- the execution cache


def test_build_key_follows_package_sources_constraints_and_profile(tmp_path):
    package = tmp_path / "code" / "pkg"
    package.mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (tmp_path / "constraints.txt").write_text("torch==2.14.1\n")
    first = book.build_key("quick", package)
    assert book.build_key("quick", package) == first
    assert book.build_key("standard", package) != first
    (package / "a.py").write_text("x = 2\n")
    second = book.build_key("quick", package)
    assert second != first
    (tmp_path / "constraints.txt").write_text("torch==2.14.0\n")
    assert book.build_key("quick", package) != second
    (package / "b.py").write_text("")
    assert len({first, second, book.build_key("quick", package)}) == 3


MINI_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": [
                "import pathlib\n",
                "import minipkg.greeting\n",
                "with open(pathlib.Path.cwd() / 'executions.txt', 'a') as f:\n",
                "    f.write('x')\n",
                "print('says:', minipkg.greeting.text())",
            ],
        }
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_make_book_re_executes_after_a_package_change_and_only_then(tmp_path):
    """Build a one-page book that prints a package function, change the function, build twice more."""
    package = tmp_path / "code" / "minipkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "greeting.py").write_text("def text():\n    return 'first version'\n")
    (tmp_path / "_config.yml").write_text("title: mini\nexecute:\n  execute_notebooks: cache\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.ipynb").write_text(json.dumps(MINI_NOTEBOOK))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "code")}
    jupyter_book = Path(sys.executable).parent / "jupyter-book"

    def build():
        config_args = ["--source", str(tmp_path / "_config.yml"), "--package", str(package)]
        out = tmp_path / "_build" / "config.yml"
        book.main(["--execute", "cache", "--profile", "quick", *config_args, "--out", str(out)])
        subprocess.run(
            [str(jupyter_book), "build", str(tmp_path), "--config", str(out), "-q"],
            check=True,
            env=env,
            cwd=tmp_path,
            capture_output=True,
        )
        executions = (tmp_path / "executions.txt").read_text() if (tmp_path / "executions.txt").exists() else ""
        return (tmp_path / "_build" / "html" / "page.html").read_text(), len(executions)

    page, runs = build()
    assert "says: first version" in page and runs == 1
    (package / "greeting.py").write_text("def text():\n    return 'second version'\n")
    page, runs = build()
    assert "says: second version" in page and runs == 2, "a package change must re-execute the notebook"
    page, runs = build()
    assert "says: second version" in page and runs == 2, "an unchanged build must come from the cache"
    caches = list((tmp_path / "_build" / ".jupyter_cache").iterdir())
    assert len(caches) == 1, f"stale caches were not pruned: {caches}"


def _tiny_book(root: Path, sources: dict[str, str]) -> None:
    """A book whose _toc.yml lists one notebook per source (a single code cell each)."""
    import nbformat

    (root / "chapters").mkdir(parents=True)
    for name, source in sources.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "chapters" / f"{name}.ipynb")
    chapters = [{"file": f"chapters/{name}"} for name in sources]
    (root / "_toc.yml").write_text(
        yaml.safe_dump({"format": "jb-book", "root": "intro", "parts": [{"chapters": chapters}]})
    )


def test_execute_chapters_fills_the_cache_the_build_reads(tmp_path, monkeypatch, capfd):
    import nbformat
    from jupyter_cache import get_cache

    monkeypatch.setenv("DLF_PROFILE", "standard")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    show = "import os\nprint(os.environ['DLF_PROFILE'], os.environ['OMP_NUM_THREADS'])"
    _tiny_book(tmp_path, {"a": show, "b": "print(6 * 7)"})
    assert [p.name for p in book.toc_notebooks(tmp_path)] == ["a.ipynb", "b.ipynb"]

    seconds = book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=2, timeout=120)
    assert set(seconds) == {"a.ipynb", "b.ipynb"}
    store = get_cache(str(tmp_path / "_build/cache"))
    for name, printed in [("a", f"quick {max(1, (os.cpu_count() or 1) // 2)}"), ("b", "42")]:
        # what myst-nb's cache mode does with the unexecuted notebook: match it, merge the outputs
        _, merged = store.merge_match_into_notebook(nbformat.read(tmp_path / f"chapters/{name}.ipynb", 4))
        assert merged.cells[0].outputs[0]["text"].strip() == printed
    assert book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=2) == {}  # cached: nothing to run
    printed = capfd.readouterr()
    for name in ("a.ipynb", "b.ipynb"):  # a line as each starts and as it ends
        assert f"started  {name}" in printed.out and f"finished {name} in " in printed.out
    assert "2 of 2 done" in printed.out and "without encryption" not in printed.err  # IPC, not TCP
    # the second build knows the first one's seconds: it says how long it expects to take
    assert json.loads((tmp_path / "_build/chapter-seconds.json").read_text())["quick"].keys() == seconds.keys()
    assert set(book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=1, force=True)) == set(seconds)
    printed = capfd.readouterr().out
    assert "the last build took about" in printed and re.search(r"1 of 2 done, about \d+ s left", printed)


def test_execute_chapters_stops_on_a_failing_notebook(tmp_path, monkeypatch):
    """The error names the chapter, its cell and the error; the chapter that ran beside it stays cached."""
    monkeypatch.setenv("DLF_PROFILE", "standard")
    _tiny_book(tmp_path, {"good": "import time\ntime.sleep(2)", "bad": "raise ValueError('no CIFAR-10 here')"})
    with pytest.raises(SystemExit, match=r"(?s)bad.ipynb failed.*code cell 1:.*ValueError: no CIFAR-10 here"):
        book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=2, timeout=120)
    import nbformat
    from jupyter_cache import get_cache

    store = get_cache(str(tmp_path / "_build/cache"))
    store.match_cache_notebook(nbformat.read(tmp_path / "chapters/good.ipynb", 4))  # KeyError if not cached


def test_execute_chapters_can_run_the_kernels_of_another_python(tmp_path, monkeypatch, capfd):
    """``make check-html`` runs every chapter in kernels of a plain install's Python (``--kernel-python``)."""
    import nbformat
    from jupyter_cache import get_cache

    monkeypatch.setenv("DLF_PROFILE", "standard")
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    _tiny_book(tmp_path, {"which": "import sys\nprint(sys.executable)"})
    python = Path(sys.executable)  # another Python would do; this one has ipykernel
    book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=1, timeout=120, python=python)
    _, merged = get_cache(str(tmp_path / "_build/cache")).merge_match_into_notebook(
        nbformat.read(tmp_path / "chapters/which.ipynb", 4)
    )
    assert merged.cells[0].outputs[0]["text"].strip() == str(python.absolute())
    assert f"kernels: {python.absolute()}" in capfd.readouterr().out
    with pytest.raises(SystemExit, match="no Python at"):
        book.execute_chapters(tmp_path, "_build/cache", "quick", jobs=1, force=True, python=tmp_path / "none")


def test_chapter_pages_link_their_student_notebooks(tmp_path):
    """A chapter with a student notebook gets a download link (the build copies student/ to _student/) and,
    for a GitHub repository, a Colab link to the same file on the book's branch."""
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "02_x.ipynb").write_text("{}")
    repo = "https://github.com/owner/course"
    html = book.student_links("chapters/02_x", tmp_path, repo, "main")
    assert 'href="../_student/02_x.ipynb" download' in html
    assert 'href="https://colab.research.google.com/github/owner/course/blob/main/student/02_x.ipynb"' in html
    assert "Colab" not in book.student_links("chapters/02_x", tmp_path, "https://gitlab.com/x/y")
    assert book.student_links("chapters/03_y", tmp_path, repo) is None  # no student notebook
    assert book.student_links("intro", tmp_path, repo) is None
    # a Chinese edition's page links the same (English) student notebook, in its own words
    chinese = book.student_links("chapters/02_x", tmp_path, repo, "main", "zh_TW")
    assert "換你動手" in chinese and 'href="../_student/02_x.ipynb" download' in chinese and "英文版" in chinese
    assert "换你动手" in book.student_links("chapters/02_x", tmp_path, repo, "main", "zh_CN")
    # the real book: every committed student notebook belongs to a chapter in the table of contents
    assert {p.name for p in (ROOT / "student").glob("*.ipynb")} <= {p.name for p in book.toc_notebooks(ROOT)}


def test_untranslated_sentences_finds_a_sentence_composed_without_said():
    """A glued sentence whose Chinese versions fell back to the English (an f-string on a Said) is reported; a
    name, a number or code is not."""
    import nbformat

    def glued(name, text):
        return {
            "output_type": "display_data",
            "data": {book.GLUE_PREFIX + "text/markdown": text},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": book.GLUE_PREFIX}},
        }

    outputs = []
    for name, versions in {
        "said": ("within the noise of two seeds", "在兩個隨機種子的雜訊範圍內", "在两个随机种子的杂讯范围内"),
        "lost": ("profile `quick`, seed 0, 1 epoch(s)",) * 3,
        "name": ("RMSProp",) * 3,
        "code": ("`results/a.json`, 3 of `x y z`",) * 3,
    }.items():
        outputs += [glued(name, versions[0])]
        outputs += [
            glued(book.glue_name(name, lang), v) for lang, v in zip(book.GLUE_LANGUAGES, versions[1:], strict=True)
        ]
    for name, text in {"words": "'then hardly changes'", "number": "2.5", "device": "'cpu'"}.items():
        outputs += [glued(name, "")]
        outputs[-1]["data"] = {book.GLUE_PREFIX + "text/plain": text}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=outputs)])
    assert set(book.glued_sentences(notebook)) == {"said", "lost", "name", "code"}
    assert [line.split(" ")[0] for line in book.untranslated_sentences(notebook)] == ["lost", "lost", "words"]
