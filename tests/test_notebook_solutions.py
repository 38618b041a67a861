"""Every exercise's solution runs and passes the exercise's own self-check.

The solutions are kept as code in their exercise cell's metadata (``metadata.course.solution``);
``make sync`` writes them into the solution blocks students read. Here each notebook runs in fast
mode with every exercise's answer lines replaced by its solution, and every check must say
"Correct" (and none "Not yet"). So a solution cannot drift from its check unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from course_utils.execution import notebook_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from sync_notebooks import course_notebooks, with_solution  # noqa: E402


def exercise_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("course", {})]


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.stem)
def test_every_solution_passes_its_check(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    exercises = exercise_cells(nb)
    assert len(exercises) >= 2, f"{path.name}: every notebook has exercises with solutions"
    assert all("checks.check_" in c.source for c in exercises)
    for cell in exercises:
        cell.source = with_solution(cell.source, cell.metadata["course"]["solution"])
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook_client(nb, cwd=path.parent).execute()
    for cell in exercises:
        printed = "".join(o.get("text", "") for o in cell.outputs)
        assert "Correct:" in printed and "Not yet:" not in printed, f"{path.name}: {cell.source[:80]!r}\n{printed}"


def test_an_exercise_without_answer_lines_is_refused():
    with pytest.raises(ValueError, match="your"):
        with_solution("x = 1\nchecks.check_karaoke(x, track)", "x = 2")
    code = with_solution("a = None  # your code\nb = None  # your code\ncheck(a, b)", "a, b = 1, 2")
    assert code == "a, b = 1, 2\ncheck(a, b)"
