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
