"""Static checks of the book: chapters stored clean, listed in the TOC, glue names defined."""

import json
import re
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
    first = cells(path, "code")[0]
    assert "config.describe(" in first
    assert "sys.path" not in "\n".join(cells(path, "code"))


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
    assert cached["execute"]["cache"].endswith("standard")
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
        assert set(cell["metadata"]) <= {"tags"}, f"{path.name}: stray cell metadata {cell['metadata']}"


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
    text = (ROOT / "glossary.md").read_text()
    body = text.split("```{glossary}")[1].split("```")[0]
    entries = [block.strip().splitlines() for block in body.split("\n\n") if block.strip() and ":sorted:" not in block]
    assert len(entries) >= 40
    for lines in entries:
        english, chinese = lines[0], lines[1]
        assert english.isascii() and not chinese.isascii(), lines
        assert lines[2].startswith("  "), f"{english}: definition must be indented"


BOOTSTRAP_END = "\nimport torch"


def bootstrap(path):
    first = cells(path, "code")[0]
    return first.split(BOOTSTRAP_END)[0]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_installs_the_package_when_missing(path, monkeypatch):
    """What a fresh Colab runtime does: no dlfoundations, so pip installs it from the repository."""
    import importlib.util
    import subprocess
    import sys

    code = bootstrap(path)
    assert "pip" in code, f"{path.name}: the first code cell must install the package when it is missing"
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlfoundations" else real(name))
    namespace = {}
    exec(compile(code, path.name, "exec"), namespace)  # noqa: S102 - the notebook's own cell
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert calls == [([sys.executable, "-m", "pip", "install", "-q", f"git+{repository}"], {"check": True})]
    monkeypatch.setattr(importlib.util, "find_spec", real)  # installed: nothing to do
    calls.clear()
    exec(compile(code, path.name, "exec"), {})  # noqa: S102
    assert calls == []


def test_book_config_names_profile_and_device_for_the_pages():
    source = ROOT / "_config.yml"
    cached = book.book_config(source, "cache", "quick", device="cuda")
    assert cached["parse"]["myst_substitutions"] == {"build_profile": "quick", "build_device": "cuda"}
    assert "substitution" in cached["parse"]["myst_enable_extensions"]
    assert "{{ build_profile }}" in (ROOT / "execution_statistics.md").read_text()
