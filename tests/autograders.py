"""Autograder folders for the grader's tests: otter's layout, ``tests/<question>.py``."""

from pathlib import Path


def write_autograder(folder: Path, tests: dict[str, str]) -> Path:
    """Write each question's otter test file into ``folder/tests``; return ``folder``."""
    (folder / "tests").mkdir(parents=True)
    for question, source in tests.items():
        (folder / "tests" / f"{question}.py").write_text(source)
    return folder
