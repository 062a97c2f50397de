"""Student notebooks (dlfoundations.student): answers out, stubs in, nbgrader's metadata on, and nbgrader itself
generating, releasing and autograding them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlfoundations import student

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_student_notebooks_are_fresh(tmp_path):
    """student/ is generated (python -m dlfoundations.student), never edited: regenerate it and compare."""
    written = student.write(ROOT, tmp_path)
    assert written, "no chapter has a 'your turn' exercise"
    committed = sorted(p.name for p in (ROOT / "student").glob("*.ipynb"))
    assert committed == sorted(p.name for p in written), "run: python -m dlfoundations.student --out student"
    for path in written:
        assert (ROOT / "student" / path.name).read_text() == path.read_text(), (
            f"student/{path.name} is stale: run python -m dlfoundations.student --out student"
        )


def _cells(path: Path, instructor: bool = False):
    chapter = nbformat.read(path, as_version=4)
    chapter.metadata["dlf_chapter"] = path.name
    return student.student_notebook(chapter, instructor).cells


def test_a_student_notebook_keeps_the_questions_and_stubs_and_drops_every_answer():
    path = ROOT / "chapters" / "02_optimizers.ipynb"
    chapter = nbformat.read(path, as_version=4)
    cells = _cells(path)
    text = "\n".join(c.source for c in cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    assert sum("{exercise}" in c.source for c in chapter.cells) == sum("{exercise}" in c.source for c in cells)
    stubs = [c for c in cells if student.role(c)[1] == "stub"]
    checks = [c for c in cells if student.role(c)[1] == "check"]
    assert stubs and len(stubs) == len(checks)
    for stub, check in zip(stubs, checks, strict=True):
        name = student.role(stub)[0]
        assert "raise NotImplementedError" in stub.source
        assert stub.metadata["nbgrader"] == {
            "grade": False,
            "grade_id": f"02_optimizers-{name}-answer",
            "locked": False,
            "schema_version": 3,
            "solution": True,
        }
        assert check.source == f'exercises.check("{name}", {name}).require()'
        assert check.metadata["nbgrader"]["grade"] and check.metadata["nbgrader"]["points"] == 1
        assert "raises-exception" in check.metadata["tags"]
    instructor = [c for c in _cells(path, instructor=True) if student.role(c)[1] == "stub"]
    for cell in instructor:
        assert cell.source.startswith("### BEGIN SOLUTION\ndef ") and cell.source.endswith("### END SOLUTION")
        assert "exercises.check" not in cell.source and "NotImplementedError" not in cell.source


def _assignment(cells, path: Path) -> None:
    """A notebook of the exercise cells alone (with the import they need): what nbgrader grades."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("from dlfoundations import exercises")] + [
        c for c in cells if student.role(c)[1] in ("stub", "check")
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])},
    )  # nbgrader runs the environment's alembic by name
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def test_nbgrader_releases_the_stubs_and_grades_answers_full_and_stubs_zero(tmp_path):
    pytest.importorskip("nbgrader", reason="pip install -e '.[test]'")
    course = tmp_path / "course"
    (course / "nbgrader_config.py").parent.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n"
        "c.CourseDirectory.course_id = 'dlf'\nc.Exchange.root = '" + str(tmp_path / "exchange") + "'\n"
    )
    path = ROOT / "chapters" / "02_optimizers.ipynb"
    _assignment(_cells(path, instructor=True), course / "source" / "ps" / "02.ipynb")
    _nbgrader(course, "db", "assignment", "add", "ps")
    _nbgrader(course, "generate_assignment", "ps", "--force")
    released = nbformat.read(course / "release" / "ps" / "02.ipynb", as_version=4)
    stubs = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs and all("raise NotImplementedError" in c.source and "BEGIN SOLUTION" not in c.source for c in stubs)
    points = sum(c.metadata["nbgrader"].get("points", 0) for c in released.cells if "nbgrader" in c.metadata)
    for who, source in (
        ("answers", course / "source" / "ps" / "02.ipynb"),
        ("stubs", course / "release" / "ps" / "02.ipynb"),
    ):
        target = course / "submitted" / who / "ps" / "02.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
        _nbgrader(course, "db", "student", "add", who)
    _nbgrader(course, "autograde", "ps", "--force")
    _nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    scores = {
        r.split(",")[header.index("student_id")]: float(r.split(",")[header.index("raw_score")]) for r in rows[1:]
    }
    assert scores == {"answers": points, "stubs": 0.0} and points == 2, (scores, points)
