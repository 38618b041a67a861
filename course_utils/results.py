"""Results files: what a student hands in beside a notebook when the grader must not retrain.

Homework that trains a model (homework 2) is graded from a small JSON file the student's own
session writes with :func:`save_results`: the trained model (float16 weights, base64 inside
the JSON), the scores it claims and a few notes. The assignment's tests read it back with
:func:`load_results`, which enforces the assignment's size cap, accepts only JSON (nothing in
the file runs) and returns a ready :class:`course_utils.models.Separator`; they then re-score
the model on a song or two, so a file whose scores were edited by hand fails.

This is the student-facing half of grading; the batch grader that runs the notebooks is
:mod:`course_utils.grading`. Used in ``notebooks/homework`` (homework 2).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import tempfile
from pathlib import Path

__all__ = ["RESULTS_FORMAT", "ResultsFileError", "save_results", "load_results", "size_text"]


def size_text(n: int) -> str:
    """A file size for a message: ``"120 KB"``, ``"1.5 MB"``."""
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


RESULTS_FORMAT = "course_utils.grading/results-1"  # the files written so far say so: kept as it is
"""The ``format`` field of a results file written by :func:`save_results`."""


class ResultsFileError(ValueError):
    """A results file that is missing, too large, not JSON, or not what :func:`save_results` writes."""


def save_results(path, *, assignment: str, scores: dict | None = None, separator=None, info: dict | None = None):
    """Write a homework's results file: scores, a trained model and notes, as one small JSON file.

    Homework that trains a model is not retrained by the grader: the student trains in their
    own session and hands in this file with the notebook; the grader checks its size, reads
    it with :func:`load_results` and re-scores the model on a song or two.

    Parameters
    ----------
    path : str or Path
        Where to write it (e.g. ``"hw02_results.json"``, beside the notebook).
    assignment : str
        The assignment's name (checked when grading).
    scores : dict of str to float, optional
        Scores to report, e.g. SDR in dB per test song. Every value must be finite.
    separator : course_utils.models.Separator, optional
        The trained model, stored with :func:`course_utils.models.save` in float16
        (base64 inside the JSON; a U-Net of 40 000 parameters takes about 120 KB).
    info : dict, optional
        Anything else worth keeping, as plain JSON values (loss, epochs, training time...).

    Returns
    -------
    Path

    Notes
    -----
    Used in ``notebooks/homework`` (homework 2).
    """
    blob = {"format": RESULTS_FORMAT, "assignment": str(assignment), "scores": {}, "info": info or {}}
    for name, value in (scores or {}).items():
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"The score of {name!r} is {value}: every reported score must be a finite number.")
        blob["scores"][str(name)] = value
    if separator is not None:
        from . import models  # torch takes seconds to import: only when there is a model

        with tempfile.TemporaryDirectory() as tmp:
            saved = models.save(Path(tmp) / "model.pt", separator.model, targets=separator.targets, half=True)
            blob["model"] = base64.b64encode(saved.read_bytes()).decode("ascii")
    try:
        text = json.dumps(blob, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"info must hold plain JSON values (numbers, strings, lists, dicts): {exc}") from None
    path = Path(path)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_results(path, *, max_bytes: int | None = None, assignment: str | None = None) -> dict:
    """Read and check a results file written by :func:`save_results`.

    Parameters
    ----------
    path : str or Path
    max_bytes : int, optional
        The assignment's cap on the file's size; a larger file is refused.
    assignment : str, optional
        The assignment it must belong to.

    Returns
    -------
    dict
        ``assignment``, ``scores`` (str to float), ``info``, ``bytes`` (file size),
        ``separator`` (a :class:`course_utils.models.Separator` on the CPU in evaluation
        mode, or None if the file holds no model) and ``model_metadata``.

    Raises
    ------
    ResultsFileError
        (a ``ValueError``) saying what is wrong: missing, over the cap, not JSON, a field
        missing or of the wrong kind, a model that does not load.

    Notes
    -----
    Nothing in the file is executed: it is JSON, and the model is read with
    ``torch.load(weights_only=True)``. Used in ``notebooks/homework`` (homework 2).
    """
    path = Path(path)
    if not path.is_file():
        raise ResultsFileError(f"There is no results file {path.name!r} here ({path.resolve().parent}): run the "
                               f"cells that write it, and hand it in beside the notebook.")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ResultsFileError(f"{path.name} is {size_text(size)}, over the cap of {size_text(max_bytes)} for this assignment: "
                               f"keep the model small (fewer channels or levels) and the info short.")
    try:
        blob = json.loads(path.read_bytes().decode("utf-8"),
                          parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not allowed")))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ResultsFileError(f"{path.name} is not valid JSON ({str(exc)[:200]}): write it with "
                               f"course_utils.grading.save_results and do not edit it by hand.") from None
    problems = []
    if not isinstance(blob, dict):
        raise ResultsFileError(f"{path.name} holds a JSON {type(blob).__name__}, not the object save_results writes.")
    if blob.get("format") != RESULTS_FORMAT:
        problems.append(f"its format is {blob.get('format')!r}, not {RESULTS_FORMAT!r}")
    if assignment is not None and blob.get("assignment") != assignment:
        problems.append(f"it belongs to assignment {blob.get('assignment')!r}, not {assignment!r}")
    scores = blob.get("scores")
    if not isinstance(scores, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in scores.values()):
        problems.append("'scores' must map names to finite numbers")
    info = blob.get("info", {})
    if not isinstance(info, dict):
        problems.append("'info' must be a JSON object")
    if "model" in blob and not isinstance(blob["model"], str):
        problems.append("'model' must be the base64 text save_results writes")
    if problems:
        raise ResultsFileError(f"{path.name} is not a valid results file: " + "; ".join(problems) + ".")
    separator, metadata = None, {}
    if "model" in blob:
        from . import models  # torch takes seconds to import: only when there is a model

        try:
            raw = base64.b64decode(blob["model"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ResultsFileError(f"The model in {path.name} is not valid base64 ({exc}).") from None
        with tempfile.TemporaryDirectory() as tmp:
            model_path = Path(tmp) / "model.pt"
            model_path.write_bytes(raw)
            try:
                separator, metadata = models.load(model_path)
            except Exception as exc:  # torch raises many kinds for a damaged file
                raise ResultsFileError(f"The model in {path.name} does not load ({type(exc).__name__}: "
                                       f"{str(exc)[:200]}).") from None
    return {"assignment": blob.get("assignment"), "scores": {str(k): float(v) for k, v in scores.items()},
            "info": info, "bytes": size, "separator": separator, "model_metadata": metadata}
