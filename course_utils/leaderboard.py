"""The course's leaderboard: every method of the course, the same songs, the same metrics.

A *method* is any function that takes a :class:`course_utils.data.Track` and returns a
dict ``{stem: estimate}`` for the stems it separates (a subset of
:data:`course_utils.data.STEMS`; each estimate shaped like ``track.mixture``).
:func:`default_methods` builds the course's methods:

- the **mixture** itself (no separation: the baseline, notebook 02);
- the classical methods of notebook 04 (:mod:`course_utils.classical`): **HPSS** (its
  percussive part is the drums estimate), **REPET** and **REPET-SIM** (their foreground is
  the vocals estimate) and supervised **NMF** (templates learned on training songs, all four
  stems);
- the **U-Net** of notebook 05, one shipped checkpoint per stem (:func:`course_utils.models.pretrained`);
- a pretrained **Hybrid Demucs** (:mod:`course_utils.state_of_the_art`), where its weights
  could be loaded;
- the **oracle** masks of notebook 02 (binary, ratio, Wiener-like; :func:`course_utils.masks.oracle_estimates`).

:func:`leaderboard` runs the methods on a list of tracks and scores every estimate with
:func:`course_utils.classical.score_estimates` (BSS Eval of :mod:`course_utils.metrics`,
whole songs, 512-tap filters) into a tidy table; :func:`median_table` summarises it (one
row per method, median SDR, SIR and SAR per stem, NaN where a method has no estimate),
:func:`plot` draws it and :func:`write` saves it as Markdown and CSV.

Taught in ``07_tools_and_state_of_the_art``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .data import STEMS

__all__ = ["METHODS", "KINDS", "COLORS", "excerpt", "learn_nmf_templates", "default_methods", "leaderboard",
           "median_table", "to_markdown", "plot", "build_dir", "write"]

METHODS = ("mixture", "HPSS", "REPET", "REPET-SIM", "NMF", "U-Net", "Hybrid Demucs",
           "oracle IBM", "oracle IRM", "oracle Wiener")
"""The course's methods, in the order tables list them."""
KINDS = {"mixture": "baseline", "HPSS": "classical", "REPET": "classical", "REPET-SIM": "classical",
         "NMF": "classical", "U-Net": "trained here", "Hybrid Demucs": "pretrained",
         "oracle IBM": "oracle", "oracle IRM": "oracle", "oracle Wiener": "oracle"}
"""What kind of method each one is: the oracles see the true stems and are bounds, not competitors."""
COLORS = {"baseline": "0.55", "classical": "#1f77b4", "trained here": "#2ca02c", "pretrained": "#9467bd",
          "oracle": "0.15", "other": "#d62728"}
"""One colour per kind, for :func:`plot`."""

Method = Callable[[object], dict]


# --------------------------------------------------------------------------------------------
# Building the methods


def excerpt(track, *, duration: float | None, offset: float = 0.0):
    """A track cut to ``duration`` seconds from ``offset`` (the whole track for ``duration=None``).

    Parameters
    ----------
    track : course_utils.data.Track
    duration : float or None
    offset : float

    Returns
    -------
    course_utils.data.Track
        A copy whose mixture and stems are ``(..., n)`` slices of the original.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    if duration is None and offset == 0:
        return track
    if offset < 0 or (duration is not None and not duration > 0):
        raise ValueError(f"offset must be >= 0 and duration positive (or None), got {offset!r}, {duration!r}.")
    start = int(round(offset * track.sr))
    stop = None if duration is None else start + int(round(duration * track.sr))
    if start >= track.mixture.shape[-1]:
        raise ValueError(f"offset {offset} s is past the end of {track.name} ({track.duration:.1f} s).")
    return dataclasses.replace(track, mixture=track.mixture[..., start:stop],
                               stems={k: v[..., start:stop] for k, v in track.stems.items()})


def learn_nmf_templates(tracks, *, n_components: int = 16, n_iter: int = 50, frame_step: int = 8,
                        silence: float = 1e-3, random_state: int = 0) -> dict[str, np.ndarray]:
    """Spectral templates per stem for supervised NMF, learned on training tracks (as in notebook 04).

    Every ``frame_step``-th STFT frame of each training stem is kept, frames quieter than
    ``silence`` times the loudest are dropped, and :func:`course_utils.classical.learn_templates`
    factorises what is left.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
        Training songs (mono).
    n_components : int
        Templates per stem.
    n_iter : int
        NMF iterations.
    frame_step : int
        Use every ``frame_step``-th frame (fewer, less redundant frames: faster).
    silence : float
        Relative level below which a frame counts as silent.
    random_state : int

    Returns
    -------
    dict of str to np.ndarray, each shaped ``(n_freq, n_components)``
        One template matrix per stem of :data:`course_utils.data.STEMS`.

    Notes
    -----
    Taught in ``04_classical_separation``; used by the leaderboard of ``07_tools_and_state_of_the_art``.
    """
    from . import classical, spectral

    tracks = list(tracks)
    if not tracks:
        raise ValueError("tracks is empty: NMF templates need training songs.")
    templates = {}
    for stem in STEMS:
        V = np.concatenate([np.abs(spectral.stft(t.stems[stem]))[:, ::frame_step] for t in tracks], axis=1)
        energy = V.sum(axis=0)
        V = V[:, energy > silence * energy.max()]
        templates[stem] = classical.learn_templates(V, n_components=n_components, n_iter=n_iter,
                                                    random_state=random_state)
    return templates


def _masked(track, masks_fn):
    """Apply masks from ``masks_fn(S, sr)`` to the track's mixture STFT; returns the estimates."""
    from . import masks, spectral

    Y = spectral.stft(track.mixture)
    return masks.apply_mask(np.stack(masks_fn(np.abs(Y), track.sr)), Y, length=track.mixture.shape[-1])


def _hpss(track):
    from . import classical

    _, percussive = _masked(track, lambda S, sr: classical.hpss(S, mask=True))
    return {"drums": percussive}


def _repet(track):
    from . import classical

    def fn(S, sr):
        result = classical.repet(S, sr=sr)
        return result.background, result.foreground

    _, foreground = _masked(track, fn)
    return {"vocals": foreground}


def _repet_sim(track):
    from . import classical

    _, foreground = _masked(track, lambda S, sr: classical.repet_sim(S, sr=sr, selection="peaks"))
    return {"vocals": foreground}


def _nmf(templates, n_iter):
    from . import classical

    def separate(track):
        est = _masked(track, lambda S, sr: classical.supervised_nmf(S, [templates[s] for s in STEMS],
                                                                     n_iter=n_iter)[0])
        return dict(zip(STEMS, est))

    return separate


def _unet(device):
    from . import models

    separators = {}

    def separate(track):
        if not separators:
            separators.update({s: models.pretrained(s, device=device)[0] for s in models.available_pretrained()
                               if s in STEMS})
        return {s: sep.separate(track.mixture)[0] for s, sep in separators.items()}

    return separate


def _demucs(model, kwargs):
    from . import state_of_the_art

    def separate(track):
        est = state_of_the_art.separate_waveform(model, track.mixture, sr=track.sr, sources=STEMS, **kwargs)
        return dict(zip(STEMS, est))

    return separate


def _oracle(kind):
    from . import masks

    def separate(track):
        return dict(zip(STEMS, masks.oracle_estimates(track, kind=kind)))

    return separate


def default_methods(*, train_tracks=None, nmf_templates=None, nmf_iter: int = 50, unet: bool = True,
                    demucs_model=None, demucs_kwargs=None, device=None) -> dict[str, Method]:
    """The course's methods, ready for :func:`leaderboard`, in :data:`METHODS` order.

    Parameters
    ----------
    train_tracks : sequence of course_utils.data.Track, optional
        Training songs for the NMF templates (:func:`learn_nmf_templates` with its defaults).
        Without them (and without ``nmf_templates``) NMF is left out.
    nmf_templates : dict of str to np.ndarray, optional
        Templates already learned (overrides ``train_tracks``).
    nmf_iter : int
        Iterations of supervised NMF per song.
    unet : bool
        Include the shipped U-Nets (notebook 05).
    demucs_model : torch.nn.Module, optional
        A waveform model with ``sources`` (e.g. from
        :func:`course_utils.state_of_the_art.load_pretrained_hdemucs`); left out if None.
    demucs_kwargs : dict, optional
        Keyword arguments of :func:`course_utils.state_of_the_art.separate_waveform`
        (``segment``, ``overlap``, ``model_sr``, ...).
    device : str or torch.device, optional
        Where the U-Nets run.

    Returns
    -------
    dict of str to callable
        Name to ``method(track) -> {stem: estimate}``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    if nmf_templates is None and train_tracks is not None:
        nmf_templates = learn_nmf_templates(train_tracks)
    methods = {"mixture": _oracle("mixture"), "HPSS": _hpss, "REPET": _repet, "REPET-SIM": _repet_sim}
    if nmf_templates is not None:
        missing = set(STEMS) - set(nmf_templates)
        if missing:
            raise ValueError(f"nmf_templates lacks the stems {sorted(missing)}.")
        methods["NMF"] = _nmf(nmf_templates, nmf_iter)
    if unet:
        methods["U-Net"] = _unet(device)
    if demucs_model is not None:
        methods["Hybrid Demucs"] = _demucs(demucs_model, dict(demucs_kwargs or {}))
    for kind, name in (("ibm", "oracle IBM"), ("irm", "oracle IRM"), ("wiener", "oracle Wiener")):
        methods[name] = _oracle(kind)
    return methods


# --------------------------------------------------------------------------------------------
# Scoring


def leaderboard(tracks, *, methods=None, duration: float | None = None, filter_length: int | None = None,
                progress: bool = False):
    """Separate every track with every method and score every estimate: a tidy table.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
        The songs (mono; the same for every method).
    methods : dict of str to callable, optional
        Name to ``method(track) -> {stem: estimate}``; default :func:`default_methods` with
        its defaults (no NMF, no Hybrid Demucs).
    duration : float, optional
        Cut every track to its first ``duration`` seconds before separating.
    filter_length : int, optional
        BSS Eval distortion-filter taps (default 512, :data:`course_utils.metrics.FILTER_LENGTH`).
    progress : bool
        Print one line per method.

    Returns
    -------
    pandas.DataFrame
        One row per track, method, stem and metric: columns ``track``, ``method``, ``kind``
        (:data:`KINDS`, ``"other"`` for a method of yours), ``source``, ``metric`` (SDR, SIR,
        SAR), ``value`` (dB) and ``seconds`` (the method's time to separate that track).
        Estimates are scored with :func:`course_utils.classical.score_estimates`: a stem's
        SDR depends only on its estimate and its truth, so every SDR in a column is comparable.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import pandas as pd

    from . import classical

    tracks = [excerpt(t, duration=duration) for t in tracks]
    if not tracks:
        raise ValueError("tracks is empty: nothing to score.")
    names = [t.name for t in tracks]
    if len(set(names)) != len(names):
        raise ValueError(f"Track names must be unique, got {names}.")
    methods = default_methods() if methods is None else dict(methods)
    if not methods:
        raise ValueError("methods is empty: nothing to run.")
    frames = []
    for method, separate in methods.items():
        start_all = time.perf_counter()
        estimates, seconds = {}, {}
        for track in tracks:
            start = time.perf_counter()
            out = separate(track)
            seconds[track.name] = time.perf_counter() - start
            if not isinstance(out, dict) or not out:
                raise ValueError(f"Method {method!r} returned {type(out).__name__}; it must return a non-empty "
                                 f"dict {{stem: estimate}} with stems from {STEMS}.")
            unknown = set(out) - set(STEMS)
            if unknown:
                raise ValueError(f"Method {method!r} returned unknown stems {sorted(unknown)}; use {STEMS}.")
            estimates[track.name] = {s: np.asarray(x, dtype=np.float32) for s, x in out.items()}
        df = classical.score_estimates(tracks, {method: estimates}, filter_length=filter_length)
        df.insert(2, "kind", KINDS.get(method, "other"))
        df["seconds"] = df["track"].map(seconds)
        frames.append(df)
        if progress:
            print(f"{method:>14}: {len(tracks)} songs in {time.perf_counter() - start_all:5.1f} s")
    return pd.concat(frames, ignore_index=True)


def median_table(scores, *, metrics=("SDR", "SIR", "SAR"), sources=STEMS):
    """Median over tracks per method, stem and metric: the leaderboard's table.

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy table of :func:`leaderboard`.
    metrics : sequence of str
    sources : sequence of str

    Returns
    -------
    pandas.DataFrame
        One row per method (in the order of ``scores``); columns a MultiIndex
        ``(metric, source)``; values in dB, NaN where a method has no estimate of a stem.
        ``table.attrs`` holds ``n_tracks`` and ``tracks``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import pandas as pd

    missing = {"track", "method", "source", "metric", "value"} - set(scores.columns)
    if missing:
        raise ValueError(f"scores lacks the columns {sorted(missing)}; pass the table of leaderboard().")
    order = list(dict.fromkeys(scores["method"]))
    stems = scores[scores["source"].isin(sources)]
    med = stems.groupby(["method", "metric", "source"])["value"].median()
    table = pd.DataFrame(index=pd.Index(order, name="method"),
                         columns=pd.MultiIndex.from_product([list(metrics), list(sources)], names=["metric", "source"]),
                         dtype=float)
    for (method, metric, source), value in med.items():
        if metric in metrics:
            table.loc[method, (metric, source)] = value
    tracks = list(dict.fromkeys(scores["track"]))
    table.attrs.update(n_tracks=len(tracks), tracks=tracks)
    return table


def to_markdown(table, *, caption: str | None = None, digits: int = 1) -> str:
    """A :func:`median_table` as a Markdown table (``"–"`` where a method has no estimate).

    Values of 100 dB and more are written ``"≥ 100"``: such a ratio means "none measurable"
    (the mixture's SAR: a sum of the true stems has no artifacts at all).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows are methods; columns ``(metric, source)``.
    caption : str, optional
        A line written above the table.
    digits : int

    Returns
    -------
    str

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    header = ["method"] + [f"{m} {s}" for m, s in table.columns]
    lines = ([caption, ""] if caption else []) + ["| " + " | ".join(header) + " |",
                                                   "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for method, row in table.iterrows():
        cells = ["–" if not np.isfinite(v) else "≥ 100" if v >= 100 else f"{v:.{digits}f}"
                 for v in row.to_numpy(dtype=float)]
        lines.append("| " + " | ".join([str(method)] + cells) + " |")
    return "\n".join(lines) + "\n"


def plot(scores, *, metric: str = "SDR", sources=STEMS, ax=None, title: str | None = None):
    """One panel per stem: each method's score per song (dots) and median (diamond).

    Parameters
    ----------
    scores : pandas.DataFrame
        The tidy table of :func:`leaderboard`.
    metric : str
    sources : sequence of str
    ax : sequence of matplotlib Axes, optional
        One per source; a new figure otherwise.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import matplotlib.pyplot as plt

    data = scores[scores["metric"] == metric]
    if data.empty:
        raise ValueError(f"No {metric!r} scores in the table.")
    order = list(dict.fromkeys(scores["method"]))
    kinds = dict(zip(scores["method"], scores.get("kind", scores["method"].map(KINDS))))
    if ax is None:
        fig, axes = plt.subplots(1, len(sources), figsize=(3.4 * len(sources) + 1.5, 0.42 * len(order) + 1.6),
                                 sharey=True, sharex=True, layout="constrained")
    else:
        axes = list(ax)
        fig = axes[0].figure
    axes = np.atleast_1d(axes)
    y = {m: i for i, m in enumerate(order)}
    for panel, source in zip(axes, sources):
        block = data[data["source"] == source]
        for method, rows in block.groupby("method", sort=False):
            values = rows["value"].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if values.size == 0:
                continue
            color = COLORS.get(kinds.get(method, "other"), COLORS["other"])
            panel.scatter(values, np.full(values.size, y[method]), s=14, color=color, alpha=0.45, lw=0)
            panel.scatter(np.median(values), y[method], s=60, marker="D", color=color, edgecolor="black", lw=0.7,
                          zorder=3)
        mixture = block[block["method"] == "mixture"]["value"]
        if not mixture.empty:
            panel.axvline(float(np.nanmedian(mixture)), color=COLORS["baseline"], lw=0.8, ls=":")
        panel.set(title=source, xlabel=f"{metric} (dB)")
        panel.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(order)), order)
    axes[0].set_ylim(len(order) - 0.5, -0.5)
    n_tracks = data["track"].nunique()
    fig.suptitle(title or f"{metric} per song (dots) and median (diamonds) on {n_tracks} songs; "
                          "dotted: the mixture's median")
    return fig


# --------------------------------------------------------------------------------------------
# Writing it out


def build_dir() -> Path:
    """Where results are written: ``$COURSE_BUILD_DIR``, else the repository's ``build/``.

    ``make course`` (``tools/run_course.py``) sets ``COURSE_BUILD_DIR`` to its output folder.
    Outside a checkout of the repository (an installed package) it is ``./build``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    env = os.environ.get("COURSE_BUILD_DIR")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root / "build"
    return Path.cwd() / "build"


def write(table, scores, *, folder=None, name: str = "leaderboard", caption: str | None = None) -> dict:
    """Save the leaderboard: ``<name>.md`` (the median table) and ``<name>.csv`` (every score).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`median_table`.
    scores : pandas.DataFrame
        From :func:`leaderboard`.
    folder : path, optional
        Default :func:`build_dir`.
    name : str
    caption : str, optional
        Written above the Markdown table.

    Returns
    -------
    dict
        ``{"md": Path, "csv": Path}``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    folder = Path(folder) if folder is not None else build_dir()
    folder.mkdir(parents=True, exist_ok=True)
    md, csv = folder / f"{name}.md", folder / f"{name}.csv"
    md.write_text(to_markdown(table, caption=caption), encoding="utf-8")
    scores.to_csv(csv, index=False)
    return {"md": md, "csv": csv}
