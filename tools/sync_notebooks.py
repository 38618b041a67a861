"""Keep what is written once in one place: ``make sync``.

- Writes ``course_utils.project.SETUP_CELL`` as the first code cell of every notebook.
- Strips outputs and execution counts (notebooks are committed without outputs).
- Writes each exercise's solution, kept as code in the exercise cell's metadata
  (``metadata.course.solution``), into the solution block of the Markdown cell after it, so that
  the solution shown is the code that ``tests/test_notebook_solutions.py`` runs against the
  exercise's self-check.
- Rewrites the syllabus table of ``README.md`` (between the ``syllabus`` markers) from each
  notebook's ``metadata.course`` (``topic``, ``see_and_hear``), its Colab badge (from
  ``course_utils.project.REPOSITORY``), and its measured full-mode run time from
  ``build/report.json`` when ``make course`` has written one (otherwise the times already
  in the README are kept).

``tests/test_repository.py`` fails when a notebook or the README is out of sync.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_utils.project import SETUP_CELL, colab_badge  # noqa: E402

START, END = "<!-- syllabus:start -->", "<!-- syllabus:end -->"


def course_notebooks() -> list[Path]:
    """Every notebook of the course, lectures first, in syllabus order."""
    return sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


SOLUTION_HEAD = "<details><summary>Solution</summary>\n\n"
PLACEHOLDER = re.compile(r"^\w+ = None  # your .*$", re.M)
"""An exercise cell's answer line: ``name = None  # your code...``; the solution replaces them."""


def solution_block(markdown: str, solution: str) -> str:
    """``markdown`` with its solution block opening on ``solution`` as a Python code block."""
    if SOLUTION_HEAD not in markdown:
        raise ValueError(f"no solution block in the cell after the exercise: {markdown[:80]!r}")
    head, rest = markdown.split(SOLUTION_HEAD, 1)
    if rest.startswith("```python\n"):
        rest = rest.split("\n```\n", 1)[1]
    return f"{head}{SOLUTION_HEAD}```python\n{solution.strip()}\n```\n{rest}"


def with_solution(exercise: str, solution: str) -> str:
    """The exercise cell's code with its answer lines replaced by the solution (what the tests run)."""
    lines = PLACEHOLDER.findall(exercise)
    if not lines:
        raise ValueError(f"an exercise cell with a solution has no `name = None  # your ...` line: {exercise[:80]!r}")
    code = exercise.replace(lines[0], solution.strip(), 1)
    for line in lines[1:]:
        code = code.replace(line + "\n", "", 1)
    return code


def synced(nb):
    """Return ``nb`` with the canonical setup cell first among code cells, every solution block
    written from its exercise's solution code, and no outputs."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and code[0].source.startswith("# Setup"):
        code[0].source = SETUP_CELL
    else:
        first_code = nb.cells.index(code[0]) if code else len(nb.cells)
        nb.cells.insert(first_code, nbformat.v4.new_code_cell(SETUP_CELL))
    for cell, following in zip(nb.cells, nb.cells[1:]):
        solution = cell.metadata.get("course", {}).get("solution")
        if solution is not None:
            with_solution(cell.source, solution)  # checks that the cell has answer lines
            following.source = solution_block(following.source, solution)
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    nb.nbformat_minor = 4  # cell ids are not kept, so diffs stay small
    return nb


def runtimes(readme: str) -> dict[str, str]:
    """Run time per notebook: measured in build/report.json (full mode), else as in the README."""
    times = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.match(r"\[(\w+)\]\(notebooks/", cells[0])
        if name and len(cells) == 5:
            times[name.group(1)] = cells[3]
    report = ROOT / "build" / "report.json"
    if report.is_file():
        data = json.loads(report.read_text())
        if not data["fast"]:
            for row in data["rows"]:
                if row["status"] == "ok":
                    times[Path(row["notebook"]).stem] = f"{row['wall_s'] / 60:.1f} min ({data['cores']} cores)"
    return times


def syllabus_table(readme: str) -> str:
    """The README's syllabus table, written from the notebooks."""
    times = runtimes(readme)
    rows = ["| Notebook | Topic | What you will see and hear | Run time | Colab |",
            "|---|---|---|---|---|"]
    for path in course_notebooks():
        meta = nbformat.read(path, as_version=4).metadata.get("course", {})
        rel = path.relative_to(ROOT).as_posix()
        rows.append(f"| [{path.stem}]({rel}) | {meta.get('topic', '')} | {meta.get('see_and_hear', '')} | "
                    f"{times.get(path.stem, 'not measured yet')} | {colab_badge(rel)} |")
    return "\n".join(rows)


def main() -> int:
    for path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        nbformat.write(synced(nb), path)
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        readme_path.write_text(f"{head}{START}\n{syllabus_table(readme)}\n{END}{tail}")
    print(f"synced {len(course_notebooks())} notebooks and the README syllabus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
