"""The capstone: a four-stem separator, graded on songs its author never heard.

**What a student hands in** (the contract; ``notebooks/homework/capstone/capstone.ipynb``
states it and starts from a working example): a notebook that defines

    ``separate(mixture, sr) -> {"vocals": ..., "drums": ..., "bass": ..., "other": ...}``

where ``mixture`` is a mono song, ``float32`` of shape ``(n_samples,)`` at ``sr`` =
:data:`SR`, and each estimate has the mixture's shape; plus, beside the notebook (a folder or
zip holding both), at most one weights file of at most :data:`WEIGHTS_MB` MB that the notebook
loads. Cells tagged ``otter_ignore`` (training, saving the weights) are skipped when grading.

**How it is graded** (``course-grade SUBMISSIONS --capstone HIDDEN --out grades/``): the
instructor renders hidden songs with the dataset generator from a seed the students never see
(README, "The capstone"); every submission runs in its own sandbox (:mod:`course_utils.sandbox`,
as the homework does) under :data:`LIMITS`, where its cells run and then the hidden mixtures
arrive one at a time, never their stems. The grader checks each answer, scores the estimates
with BSS Eval v4 (:func:`course_utils.metrics.evaluate`, as the leaderboard of notebook 07),
takes each stem's median SDR over the songs and gives the points of :data:`THRESHOLDS`. It
writes ``grades.csv``, ``feedback/<student>.txt`` and the class leaderboard
(``leaderboard.csv`` with every score, ``leaderboard.md`` and ``leaderboard.html``).
"""

from __future__ import annotations

import base64
import html
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, metrics
from .grading import Limits, Sandboxes, _answer, _run_cells, _Submission, _timed, read_submissions

SR = data.COURSE_SR
STEMS = data.STEMS
WEIGHTS_MB = 8
THRESHOLDS = (0.0, 3.0, 6.0, 9.0)
"""Median SDR (dB, BSS Eval v4) a stem must reach for each of its points: 4 points per stem,
16 in all. The mixture itself, as every stem's estimate, earns none on the course's songs."""
LIMITS = Limits(wall_s=600.0, cell_s=120.0, memory_mb=4096, attachment_kb=WEIGHTS_MB * 1024)
STATUSES = {"ok": "graded", "invalid": "not a notebook the grader can run",
            "no-separator": "the notebook defines no function separate(mixture, sr)",
            "wrong-output": "separate returned something else than four finite estimates shaped like the mixture",
            "failed": "separate raised an error or ran past the cell time limit on a song",
            "tampered": "replaced library or grader code: no points",
            "timeout": "ran past the wall-clock limit", "crashed": "its process died",
            "error": "the sandbox could not be set up, or the grader itself failed"}
"""What each value of the ``status`` column means."""


@dataclass
class CapstoneResult:
    """One submission's row: its estimates' scores (empty unless graded) and points."""

    student: str
    status: str
    message: str = ""
    scores: pd.DataFrame | None = None
    points: dict = field(default_factory=lambda: {s: 0 for s in STEMS})
    seconds: float = float("nan")

    @property
    def total(self) -> int:
        return int(sum(self.points.values()))


def points(median_sdr: dict) -> dict:
    """Points per stem: one for each threshold of :data:`THRESHOLDS` its median SDR reaches."""
    return {s: int(sum(median_sdr.get(s, -np.inf) >= t for t in THRESHOLDS)) for s in STEMS}


def _encode(x: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(x, dtype="<f4").tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def check_estimates(answer, n_samples: int) -> tuple[dict | None, str]:
    """The estimates a job sent for one song, checked: ``({stem: array}, "")`` or ``(None, why)``."""
    if not isinstance(answer, dict) or not isinstance(answer.get("estimates"), dict):
        return None, str(answer.get("error") if isinstance(answer, dict) else "no answer")[:300]
    got = answer["estimates"]
    if sorted(got) != sorted(STEMS):
        return None, f"returned the keys {sorted(got)[:8]}, not {list(STEMS)}"
    estimates = {}
    for stem in STEMS:
        item = got[stem]
        if not isinstance(item, dict) or item.get("shape") != [n_samples] or not isinstance(item.get("data"), str):
            shape = item.get("shape") if isinstance(item, dict) else type(item).__name__
            return None, f"{stem}: shape {shape}, expected the mixture's ({n_samples},)"
        x = _decode(item["data"])
        if x.shape != (n_samples,) or not np.all(np.isfinite(x)):
            return None, f"{stem}: not {n_samples} finite numbers"
        estimates[stem] = x.astype(np.float64)
    return estimates, ""


def _as_answer(out, n_samples: int) -> dict:
    """In the sandbox: what ``separate`` returned, as a message (arrays as float32, shapes kept)."""
    if not isinstance(out, dict):
        return {"error": f"separate returned {type(out).__name__}, not a dict of stems"}
    estimates = {}
    for stem, x in list(out.items())[:8]:
        try:
            x = np.asarray(x, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            return {"error": f"{str(stem)[:40]}: not an array ({type(exc).__name__})"}
        estimates[str(stem)[:40]] = {"shape": list(x.shape),
                                     "data": _encode(x) if x.size == n_samples else ""}
    return {"estimates": estimates}


def _job(channel) -> None:
    """The capstone's sandboxed job: the notebook's cells, then one hidden mixture at a time."""
    setup = channel.receive()
    run = _run_cells(setup)
    separate = run.namespace.get("separate")
    channel.send({"token": setup["token"], "errors": run.errors, "tampered": run.restore(),
                  "separator": callable(separate)})
    while callable(separate):
        request = channel.receive()
        if not isinstance(request, dict) or "mixture" not in request:
            break
        mixture = _decode(request["mixture"]).copy()
        out, error = _timed(run, separate, mixture, int(request["sr"]))
        answer = {"error": error} if error else _as_answer(out, mixture.size)
        channel.send({"token": request["token"], **answer, "tampered": run.restore()})
    run.real_exit(0)


class CapstoneGrader(Sandboxes):
    """Grade capstone submissions on hidden songs, each submission in its own sandbox.

    Parameters
    ----------
    songs : sequence of course_utils.data.Track
        The hidden songs, mono at :data:`SR` (their stems never leave the grader).
    limits, hide, tmp_dir, unsafe
        As for :class:`course_utils.grading.Sandboxes`; a submission reads no data folder.
    """

    def __init__(self, songs, *, limits: Limits = LIMITS, hide=(), tmp_dir=None, unsafe: bool = False):
        self.songs = list(songs)
        if not self.songs or any(t.sr != SR or t.mixture.ndim != 1 for t in self.songs):
            raise ValueError(f"the hidden songs must be mono at {SR} Hz (load them with mono=True, sr={SR})")
        super().__init__(limits=limits, hide=hide, expose=(), tmp_dir=tmp_dir, unsafe=unsafe)

    def grade(self, sub: _Submission) -> CapstoneResult:
        """Run one submission on every hidden song and score it; never raises."""
        try:
            return self._grade(sub)
        except Exception as exc:  # noqa: BLE001 - the grader's own failure is still a row
            return CapstoneResult(sub.student, "error", f"the grader failed ({type(exc).__name__}: {str(exc)[:200]})")

    def _grade(self, sub: _Submission) -> CapstoneResult:
        notes = self.notes(sub)
        if sub.cells is None:
            return CapstoneResult(sub.student, "invalid", "; ".join(filter(None, [sub.problem, notes])))
        token = secrets.token_hex(16)
        setup = {"token": token, "cells": sub.cells, "cell_s": self.limits.cell_s,
                 "files": {name: base64.b64encode(b).decode("ascii") for name, b in sub.files.items()}}
        estimates, problem, status, tampered = {}, "", "ok", set()
        with self.server.job("course_utils.capstone:_job", jail=self.jail) as job:
            ready = _answer(job, token) if job.send(setup) else None
            if ready is None:
                status = None
            elif not ready.get("separator"):
                status, problem = "no-separator", "; ".join(str(e)[:160] for e in ready.get("errors", [])[:3])
            else:
                tampered.update(map(str, ready.get("tampered", [])))
                for track in self.songs:
                    token = secrets.token_hex(16)
                    sent = job.send({"token": token, "sr": SR, "mixture": _encode(track.mixture)})
                    answer = _answer(job, token) if sent else None
                    if answer is None:
                        status = None
                        break
                    tampered.update(map(str, answer.get("tampered", [])))
                    if answer.get("error"):
                        status, problem = "failed", f"{track.name}: {str(answer['error'])[:300]}"
                        break
                    got, why = check_estimates(answer, track.mixture.size)
                    if got is None:
                        status, problem = "wrong-output", f"{track.name}: {why}"
                        break
                    estimates[track.name] = got
                else:
                    job.send({"done": True})
            end = job.finish()
        if end["setup_error"]:
            return CapstoneResult(sub.student, "error", f"the sandbox could not be set up ({end['setup_error']})")
        if status is None:
            status = "timeout" if end["timed_out"] else "crashed"
            problem = (f"stopped after the {self.limits.wall_s:.0f} s limit" if end["timed_out"]
                       else f"the grading process died (exit status {end['status']})")
        if tampered:
            found = ", ".join(sorted(tampered)[:8])
            return CapstoneResult(sub.student, "tampered", "; ".join(filter(None, [notes, f"replaced {found}"])))
        if status != "ok":
            return CapstoneResult(sub.student, status, "; ".join(filter(None, [notes, problem]))[:500])
        return scored(sub.student, self.songs, estimates, message=notes)



def scored(student: str, songs, estimates: dict, *, message: str = "") -> CapstoneResult:
    """Score checked estimates (``{song name: {stem: estimate}}``) with BSS Eval v4 and give the points."""
    scores = metrics.evaluate(songs, {student: lambda track: estimates[track.name]}, definition="v4")
    sdr = metrics.summarise(scores, metric="SDR", sources=STEMS).loc[student]
    return CapstoneResult(student, "ok", message, scores, points({s: float(sdr[s]) for s in STEMS}))


def self_check(separate, songs, *, name: str = "you") -> pd.DataFrame:
    """Run ``separate`` on ``songs`` (mono at :data:`SR`) as the grader will: the same checks of
    what it returns, the same scores and points; returns the leaderboard row.

    Raises
    ------
    ValueError
        Where the grader would give the status ``wrong-output``, with the same reason.
    """
    estimates = {}
    for track in songs:
        mixture = np.asarray(track.mixture, dtype=np.float32)
        got, why = check_estimates(_as_answer(separate(mixture.copy(), SR), mixture.size), mixture.size)
        if got is None:
            raise ValueError(f"{track.name}: {why}")
        estimates[track.name] = got
    return leaderboard([scored(name, songs, estimates)])


def hidden_songs(folder: Path, *, split: str = "test") -> list:
    """The hidden songs of a folder in the bundled set's layout (``tools/generate_dataset.py``
    with the instructor's seed), mono at :data:`SR`."""
    return data.load_dataset("bundled", split=split, root=folder, mono=True, sr=SR)


def leaderboard(results: list[CapstoneResult]) -> pd.DataFrame:
    """The class leaderboard: one row per submission, the best first (points, then mean SDR).

    Columns: ``student``, the median SDR per stem (dB; empty when not graded), ``points`` per
    stem and in all, ``status``.
    """
    rows = []
    for r in results:
        sdr = (metrics.summarise(r.scores, metric="SDR", sources=STEMS).loc[r.student] if r.scores is not None
               else pd.Series(np.nan, index=STEMS))
        rows.append({"student": r.student, **{f"SDR {s}": round(float(sdr[s]), 2) for s in STEMS},
                     **{f"points {s}": r.points[s] for s in STEMS}, "points": r.total, "status": r.status})
    table = pd.DataFrame(rows)
    mean = table[[f"SDR {s}" for s in STEMS]].mean(axis=1).fillna(-np.inf)
    order = sorted(range(len(table)), key=lambda i: (-table["points"][i], -mean[i], table["student"][i]))
    return table.iloc[order].reset_index(drop=True)


def _cell(value) -> str:
    return "–" if isinstance(value, float) and not np.isfinite(value) else \
        f"{value:.1f}" if isinstance(value, float) else str(value)


def leaderboard_markdown(table: pd.DataFrame, *, caption: str) -> str:
    """The leaderboard as a Markdown table with a caption line."""
    lines = [caption, "", "| rank | " + " | ".join(table.columns) + " |",
             "|---:|" + "|".join("---" if c in ("student", "status") else "---:" for c in table.columns) + "|"]
    lines += [f"| {i + 1} | " + " | ".join(_cell(v) for v in row) + " |" for i, row in enumerate(table.itertuples(index=False))]
    return "\n".join(lines) + "\n"


def leaderboard_html(table: pd.DataFrame, *, caption: str) -> str:
    """The leaderboard as a stand-alone HTML page (no scripts, nothing loaded from elsewhere)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["rank", *table.columns])
    body = "".join("<tr>" + f"<td>{i + 1}</td>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for i, row in enumerate(table.itertuples(index=False)))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Capstone leaderboard</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:right}"
            "td:nth-child(2),th:nth-child(2){text-align:left}table{border-collapse:collapse}"
            "tr:nth-child(even){background:#f3f3f3}</style></head><body><h1>Capstone leaderboard</h1>"
            f"<p>{html.escape(caption)}</p><table><tr>{head}</tr>{body}</table></body></html>\n")


def grade_capstone(submissions: Path, hidden: Path, out: Path, *, limits: Limits = LIMITS, workers: int = 2,
                   split: str = "test", tmp_dir=None, unsafe: bool = False) -> pd.DataFrame:
    """Grade every entry of ``submissions`` on the hidden songs of ``hidden``; write the grades,
    the feedback and the class leaderboard into ``out``; return the leaderboard.
    """
    songs = hidden_songs(hidden, split=split)
    subs = read_submissions(submissions, limits)
    with CapstoneGrader(songs, limits=limits, hide=(submissions, hidden, out), tmp_dir=tmp_dir,
                        unsafe=unsafe) as grader:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(grader.grade, subs))
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    table = leaderboard(results)
    caption = (f"{len(songs)} hidden songs, median over songs; {metrics.DEFINITIONS['v4']}; dB. Points per stem: "
               f"one for each of {', '.join(f'{t:g}' for t in THRESHOLDS)} dB reached ({4 * len(STEMS)} in all).")
    table.to_csv(out / "grades.csv", index=False)
    pd.concat([r.scores for r in results if r.scores is not None] or [pd.DataFrame()]).to_csv(
        out / "leaderboard.csv", index=False)
    (out / "leaderboard.md").write_text(leaderboard_markdown(table, caption=caption), encoding="utf-8")
    (out / "leaderboard.html").write_text(leaderboard_html(table, caption=caption), encoding="utf-8")
    for r in results:
        lines = [f"Student: {r.student}", f"Points: {r.total} / {4 * len(STEMS)}",
                 f"Status: {r.status} ({STATUSES[r.status]})"] + ([f"Note: {r.message}"] if r.message else [])
        if r.scores is not None:
            sdr = metrics.summarise(r.scores, metric="SDR", sources=STEMS).loc[r.student]
            lines += ["", caption] + [f"  {s}: median SDR {sdr[s]:.2f} dB -> {r.points[s]} point(s)" for s in STEMS]
        (out / "feedback" / f"{r.student}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table
