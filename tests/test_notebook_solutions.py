"""Every lecture notebook runs as students get it, and every exercise's solution passes its check.

The solutions are kept as code in their exercise cell's metadata (``metadata.course.solution``);
``make sync`` writes them into the solution blocks students read. Here each notebook runs once, in
fast mode on the bundled songs, as committed (every exercise cell with its answer lines still
None, whose check must say "Not yet" and nothing else may fail), with a copy of each exercise cell
right after it in which the answer lines are replaced by the solution: every such check must say
"Correct". So a solution cannot drift from its check unnoticed, and the run is the notebook's
top-to-bottom test on the bundled songs too (tests/test_musdb_path.py runs it on MUSDB18's
layout). The cells after an exercise then see the solution's answers; a static test makes sure
that none reads them, so students who skip an exercise run the same notebook.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest
from course_utils.execution import notebook_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from sync_notebooks import PLACEHOLDER, course_notebooks, with_solution  # noqa: E402


def exercise_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("course", {})]


def answer_names(source: str) -> set[str]:
    """The names an exercise cell leaves for the student to fill (its ``name = None  # your ...`` lines)."""
    return {line.split(" = ", 1)[0] for line in PLACEHOLDER.findall(source)}


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.stem)
def test_every_notebook_runs_and_every_solution_passes_its_check(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    exercises = exercise_cells(nb)
    assert len(exercises) >= 2, f"{path.name}: every notebook has exercises with solutions"
    assert all("checks.check_" in c.source for c in exercises)
    solved = []
    for cell in exercises:
        copy = nbformat.v4.new_code_cell(with_solution(cell.source, cell.metadata["course"]["solution"]))
        nb.cells.insert(nb.cells.index(cell) + 1, copy)
        solved.append(copy)
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook_client(nb, cwd=path.parent).execute()  # raises on the first cell that fails
    for student, solution in zip(exercises, solved):
        printed = "".join(o.get("text", "") for o in student.outputs)
        assert "Not yet:" in printed and "Correct:" not in printed, f"{path.name}: {student.source[:80]!r}\n{printed}"
        printed = "".join(o.get("text", "") for o in solution.outputs)
        assert "Correct:" in printed and "Not yet:" not in printed, f"{path.name}: {solution.source[:80]!r}\n{printed}"


def answers_read_later(nb) -> set[str]:
    """The exercise answers (names of answer lines) that a later cell, not an exercise, reads."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    found = set()
    for k, cell in enumerate(code):
        names = answer_names(cell.source) if "solution" in cell.metadata.get("course", {}) else set()
        for later in code[k + 1:]:
            if "solution" in later.metadata.get("course", {}):
                names -= answer_names(later.source)  # asked for again: from here on it is that exercise's
                continue
            source = "\n".join(line for line in later.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            found |= names & {n.id for n in ast.walk(ast.parse(source))
                              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return found


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.stem)
def test_no_cell_reads_an_exercises_answer(path):
    """Students who skip an exercise run the same notebook: what the answer lines define is used
    by the exercise's own check only (a later exercise may ask for the same name again)."""
    assert answers_read_later(nbformat.read(path, as_version=4)) == set()


def test_a_cell_that_reads_an_answer_is_found():
    nb = nbformat.v4.new_notebook()
    exercise = nbformat.v4.new_code_cell("mask = None  # your code\nchecks.check_mask(mask)")
    exercise.metadata["course"] = {"solution": "mask = 1"}
    nb.cells = [exercise, nbformat.v4.new_code_cell("print(mask.sum())")]
    assert answers_read_later(nb) == {"mask"}


def test_an_exercise_without_answer_lines_is_refused():
    with pytest.raises(ValueError, match="your"):
        with_solution("x = 1\nchecks.check_karaoke(x, track)", "x = 2")
    code = with_solution("a = None  # your code\nb = None  # your code\ncheck(a, b)", "a, b = 1, 2")
    assert code == "a, b = 1, 2\ncheck(a, b)"
