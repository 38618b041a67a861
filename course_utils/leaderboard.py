"""The course's leaderboard: every method of the course, the same songs, the same metrics.

:func:`default_methods` gathers the course's methods (:mod:`course_utils.methods`), in the
order of :data:`METHODS`:

- the **mixture** itself (no separation: the baseline, notebook 02);
- the classical methods of notebook 04: **HPSS** (its percussive part is the drums
  estimate), **REPET** and **REPET-SIM** (their foreground is the vocals estimate) and
  supervised **NMF** (templates learned on training songs, all four stems);
- the **U-Net** of notebook 05, one shipped checkpoint per stem;
- the **waveform model** of notebook 08 (a tiny Demucs), one shipped checkpoint for all four stems;
- a pretrained **Hybrid Demucs** (:mod:`course_utils.state_of_the_art`), where its weights
  could be loaded;
- the **oracle** masks of notebook 02 (binary, ratio, Wiener-like), reference points that
  see the true stems.

:func:`course_utils.metrics.evaluate` scores them and :func:`course_utils.metrics.summarise`
makes the table (one row per method, columns (metric, stem)); here :func:`to_markdown` and
:func:`plot` show it with the metric definition in the caption, and :func:`write` saves it
as Markdown and CSV.

Taught in ``07_tools_and_state_of_the_art``.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from . import methods
from .data import STEMS
from .metrics import definition_words

__all__ = ["METHODS", "KINDS", "COLORS", "default_methods", "to_markdown", "plot", "build_dir", "write"]

METHODS = ("mixture", "HPSS", "REPET", "REPET-SIM", "NMF", "U-Net", "Waveform model", "Hybrid Demucs",
           "oracle IBM", "oracle IRM", "oracle Wiener")
"""The course's methods, in the order tables list them."""
KINDS = {"mixture": "baseline", "HPSS": "classical", "REPET": "classical", "REPET-SIM": "classical",
         "NMF": "classical", "U-Net": "trained here", "Waveform model": "trained here",
         "Hybrid Demucs": "pretrained",
         "oracle IBM": "oracle", "oracle IRM": "oracle", "oracle Wiener": "oracle"}
"""What kind of method each one is: the oracles see the true stems; they are reference points, not competitors."""
COLORS = {"baseline": "0.55", "classical": "#1f77b4", "trained here": "#2ca02c", "pretrained": "#9467bd",
          "oracle": "0.15", "other": "#d62728"}
"""One colour per kind, for :func:`plot`."""


# --------------------------------------------------------------------------------------------
# The methods


def default_methods(*, train_tracks=None, nmf_templates=None, nmf_iter: int = 50, unet: bool = True,
                    waveform: bool = True, demucs_model=None, demucs_kwargs=None, device=None) -> dict:
    """The course's methods, ready for :func:`course_utils.metrics.evaluate`, in :data:`METHODS` order.

    Parameters
    ----------
    train_tracks : sequence of course_utils.data.Track, optional
        Training songs for the NMF templates (:func:`course_utils.methods.learn_nmf_templates`
        with its defaults).
        Without them (and without ``nmf_templates``) NMF is left out.
    nmf_templates : dict of str to np.ndarray, optional
        Templates already learned (overrides ``train_tracks``).
    nmf_iter : int
        Iterations of supervised NMF per song.
    unet : bool
        Include the shipped U-Nets (notebook 05).
    waveform : bool
        Include the shipped waveform model (notebook 08).
    demucs_model : torch.nn.Module, optional
        A waveform model with ``sources`` (e.g. from
        :func:`course_utils.state_of_the_art.load_pretrained_hdemucs`); left out if None.
    demucs_kwargs : dict, optional
        Keyword arguments of :func:`course_utils.state_of_the_art.separate_waveform`
        (``segment``, ``overlap``, ``model_sr``, ...).
    device : str or torch.device, optional
        Where the U-Nets and the waveform model run.

    Returns
    -------
    dict of str to callable
        Name to ``method(track) -> {stem: estimate}``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    if nmf_templates is None and train_tracks is not None:
        nmf_templates = methods.learn_nmf_templates(train_tracks)
    chosen = {"mixture": methods.mixture(), "HPSS": methods.hpss(), "REPET": methods.repet(),
              "REPET-SIM": methods.repet_sim()}
    if nmf_templates is not None:
        chosen["NMF"] = methods.nmf(nmf_templates, n_iter=nmf_iter)
    if unet:
        chosen["U-Net"] = methods.unet(device=device)
    if waveform:
        chosen["Waveform model"] = methods.waveform(device=device)
    if demucs_model is not None:
        chosen["Hybrid Demucs"] = methods.demucs(demucs_model, **dict(demucs_kwargs or {}))
    for kind, name in (("ibm", "oracle IBM"), ("irm", "oracle IRM"), ("wiener", "oracle Wiener")):
        chosen[name] = methods.oracle(kind)
    return chosen


# --------------------------------------------------------------------------------------------
# Showing and writing the scores


def to_markdown(table, *, caption: str | None = None, digits: int = 1) -> str:
    """A :func:`course_utils.metrics.summarise` table as Markdown (``"–"`` where a method has no estimate).

    Values of 100 dB and more are written ``"≥ 100"``: such a ratio means "none measurable"
    (the mixture's SAR: a sum of the true stems has no artifacts at all).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows are methods; columns ``(metric, source)``.
    caption : str, optional
        A line written above the table; default the table's own caption (its metric
        definition and number of songs, ``table.attrs["caption"]``).
    digits : int

    Returns
    -------
    str

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    caption = table.attrs.get("caption") if caption is None else caption
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
        The table of :func:`course_utils.metrics.evaluate` (per-frame rows are reduced to
        each song's median first).
    metric : str
    sources : sequence of str
    ax : sequence of matplotlib Axes, optional
        One per source; a new figure otherwise.
    title : str, optional
        Default: what is shown, with the metric definition.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """

    data = scores[scores["metric"] == metric]
    if data.empty:
        raise ValueError(f"No {metric!r} scores in the table.")
    data = data.groupby(["method", "track", "source"], sort=False)["value"].median().reset_index()
    order = list(dict.fromkeys(scores["method"]))
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
            color = COLORS[KINDS.get(method, "other")]
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
    fig.suptitle(title or f"{metric} per song (dots) and median (diamonds) on {data['track'].nunique()} songs; "
                          f"dotted: the mixture's median\n{definition_words(scores)}")
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
        From :func:`course_utils.metrics.summarise`.
    scores : pandas.DataFrame
        From :func:`course_utils.metrics.evaluate`.
    folder : path, optional
        Default :func:`build_dir`.
    name : str
    caption : str, optional
        Written above the Markdown table (default the table's own, with its metric definition).

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
