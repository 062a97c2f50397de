"""Student notebooks: the chapters with every solution removed and the "your turn" stubs in place.

    python -m dlfoundations.student --out student          # what make book runs; student/NN_topic.ipynb
    python -m dlfoundations.student --instructor --out DIR  # nbgrader's source version (answers in markers)

A chapter's "your turn" exercise is three code cells and a gated solution, each code cell marked in its
metadata as ``{"dlf": {"exercise": NAME, "role": ROLE}}``:

* ``role: stub``: ``def NAME(...): raise NotImplementedError`` — where the reader writes the answer;
* ``role: check``: ``exercises.check("NAME", NAME)`` — shows the checker's report;
* ``role: answer`` (inside ``solution-start`` … ``solution-end``): the reference answer, checked.

The student notebook drops everything between ``solution-start`` and ``solution-end`` (the markers
included), keeps the stubs, and gives the cells nbgrader's metadata: each stub is a solution cell and each
check a locked, graded test cell worth one point whose source ends in ``.require()`` (it raises unless
the check passes; its ``raises-exception`` tag lets "run all" go on past it while it fails). The instructor
version (for ``nbgrader generate_assignment``) puts the chapter's answer
into each stub between nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers, so that nbgrader
itself makes the stubs, and autograding the answers gives full marks. The files are generated, never edited:
a test fails when ``student/`` is stale.
"""

from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path

import nbformat

from .book import toc_notebooks

SOLUTION_START = "{solution-start}"
SOLUTION_END = "{solution-end}"
POINTS = 1


def role(cell) -> tuple[str | None, str | None]:
    """``(exercise name, role)`` of a "your turn" cell, or ``(None, None)``."""
    marker = cell.get("metadata", {}).get("dlf", {})
    return marker.get("exercise"), marker.get("role")


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = POINTS
    return meta


def _strip(cell) -> None:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def student_notebook(chapter, instructor: bool = False):
    """The student (or, with ``instructor``, nbgrader's source) version of a chapter notebook."""
    nb = copy.deepcopy(chapter)
    answers = {}
    inside = False
    for cell in nb.cells:
        name, kind = role(cell)
        if kind == "answer":
            answers[name] = cell.source
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and SOLUTION_START in cell.source:
            inside = True
        if not inside:
            cells.append(cell)
        if cell.cell_type == "markdown" and SOLUTION_END in cell.source:
            inside = False
    stem = Path(nb.metadata.get("dlf_chapter", "chapter")).stem
    for cell in cells:
        _strip(cell)
        name, kind = role(cell)
        if kind == "stub":
            if name not in answers:
                raise ValueError(f"the stub of {name!r} has no answer cell in its solution")
            if instructor:
                answer = _answer_body(answers[name])
                cell.source = f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION"
            cell.metadata["nbgrader"] = _nbgrader(f"{stem}-{name}-answer", solution=True, grade=False, locked=False)
        elif kind == "check":
            cell.source = re.sub(r"\)\s*;?\s*$", ").require()", cell.source.rstrip(), count=1)
            cell.metadata["nbgrader"] = _nbgrader(f"{stem}-{name}-check", solution=False, grade=True, locked=True)
            # until it is solved the check raises: Jupyter's "run all" (and nbval) go on past a cell so tagged
            cell.metadata["tags"] = sorted({*cell.metadata.get("tags", []), "raises-exception"})
    nb.cells = cells
    nb.metadata.pop("dlf_chapter", None)
    return nb


def _answer_body(source: str) -> str:
    """The answer cell without the lines that check it (the student notebook's check cell does that)."""
    lines = source.rstrip().splitlines()
    while lines and ("check(" in lines[-1] or lines[-1].startswith(("assert", "report"))):
        lines.pop()
    return "\n".join(lines).rstrip()


def write(book_root: Path, out: Path, instructor: bool = False) -> list[Path]:
    """Write the student (or instructor) version of every chapter that has a "your turn" exercise."""
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for path in toc_notebooks(book_root):
        chapter = nbformat.read(path, as_version=4)
        if not any(role(cell)[1] == "stub" for cell in chapter.cells):
            continue
        chapter.metadata["dlf_chapter"] = path.name
        target = out / path.name
        nbformat.write(student_notebook(chapter, instructor), target)
        written.append(target)
    return written


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("student"))
    parser.add_argument("--book", type=Path, default=Path("."), help="the folder with _toc.yml")
    parser.add_argument("--instructor", action="store_true", help="nbgrader's source version: answers in markers")
    args = parser.parse_args(argv)
    written = write(args.book, args.out, args.instructor)
    print(f"wrote {len(written)} notebooks to {args.out}")
    return written


if __name__ == "__main__":
    main()
