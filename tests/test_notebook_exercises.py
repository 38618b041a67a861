"""Exercises that ask the student to change a setting and re-run: the notebook must still run.

A notebook's asserts check what its text claims for its own settings; when an exercise tells the
student to change one (03's exercise 4: another source, more Griffin-Lim iterations), re-running
must show the new numbers, not fail on the old claims.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from course_utils.execution import notebook_client

ROOT = Path(__file__).resolve().parent.parent

EXERCISES = {
    # notebook: (what its exercise asks to change, as replacements in the code cells; what it then prints)
    "03_phase_reconstruction": ([('N_ITER = N_ITER_DEFAULT ', 'N_ITER = 100 '), ('SOURCE = "vocals"', 'SOURCE = "bass"')],
                                "compare these numbers with the text yourself"),
}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_notebook_runs_with_the_exercises_settings(name, monkeypatch):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    replacements, says = EXERCISES[name]
    for old, new in replacements:
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1, f"{name}: the exercise's setting {old!r} is not in exactly one cell"
        cells[0].source = cells[0].source.replace(old, new)
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook_client(nb, cwd=ROOT / "notebooks").execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert says in printed  # and it says which of its claims it did not check
