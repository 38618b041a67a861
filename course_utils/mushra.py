"""A MUSHRA-style listening test: blind stimuli, sliders, a ratings file, and the ratings
against SDR, SI-SDR and SAR of the very signals heard.

MUSHRA (MUltiple Stimuli with Hidden Reference and Anchor, ITU-R BS.1534-3) plays an open
reference and, in random order under blind labels, the systems under test together with a
*hidden reference* (the reference itself) and an *anchor* (the reference low-passed at
3.5 kHz); each is rated on a 0-100 scale. Here the reference is a true stem, the systems are
separation methods, and the mixture itself is one of them.

- :func:`low_pass_anchor` makes the anchor; :func:`stimuli` cuts one excerpt of one stem,
  runs the methods on it, puts every stimulus at one playback level and shuffles them into
  blind labels with a seeded generator (:class:`Stimuli`).
- :func:`rating_ui` shows the players and one 0-100 slider per stimulus with a Save button
  (ipywidgets); :func:`save_ratings` writes what it saves, :func:`load_ratings` reads it.
- :func:`stimulus_metrics` scores the stimuli as they are heard (the course's definitions:
  BSS Eval SDR and SAR, 512 taps, and SI-SDR); :func:`rank_correlation` gives Spearman's rank
  correlation of the ratings with each metric, :func:`metric_agreement` that of the metrics
  with each other, :func:`plot_ratings` the scatter, :func:`post_screening` the standard's
  checks of a listener.

Taught in ``06_evaluation`` (section 8).
"""

from __future__ import annotations

import datetime
import html
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.signal
import scipy.stats

from . import listening, metrics
from .data import STEMS, excerpt as cut

__all__ = [
    "ANCHOR_HZ", "REFERENCE", "ANCHOR", "LISTENER", "METRICS", "COLUMNS", "CEILING_DB", "Stimuli", "MushraTest",
    "low_pass_anchor", "stimuli", "rating_ui", "save_ratings", "load_ratings", "stimulus_metrics",
    "rank_correlation", "metric_agreement", "post_screening", "plot_ratings",
]

ANCHOR_HZ = 3500.0
"""The anchor's cut-off frequency in Hz (ITU-R BS.1534-3's mandatory low-quality anchor)."""
REFERENCE = "hidden reference"
ANCHOR = "anchor (low-pass 3.5 kHz)"
LISTENER = "listener"
"""The ``source`` of ratings a person gave in :func:`rating_ui`; tests write other sources."""
METRICS = ("SDR", "SI-SDR", "SAR")
"""The metrics the ratings are compared with, in table order."""
COLUMNS = ("excerpt", "stem", "label", "method", "rating", "time", "seed", "source")
"""The columns of a ratings file, one row per stimulus."""
CEILING_DB = 60.0
"""Scores at or above this (dB) are drawn at the edge of :func:`plot_ratings`' panels."""
ANCHOR_ORDER = 12          # Butterworth order, run forwards and backwards: zero phase, a 24th-order slope


@dataclass(frozen=True, eq=False)
class Stimuli:
    """The stimuli of one MUSHRA trial, at the level they are played.

    Attributes
    ----------
    excerpt : str
        Which song and seconds, e.g. ``"song (1.0-6.0 s)"``.
    stem : str
    sr : int
    seed : int
        The seed of the blind order.
    reference : np.ndarray, float32, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
        The open reference (the true stem), at playback level.
    signals : dict of str to np.ndarray
        Blind label (``"A"``, ``"B"``, ...) to stimulus, shaped like ``reference``, in label order.
    methods : dict of str to str
        Blind label to what it is (:data:`REFERENCE`, :data:`ANCHOR` or a method's name).
    references : np.ndarray, float32, shape ``(4, ...)``
        All true stems of the excerpt at playback level, ``stem`` first: what the metrics
        project onto.
    gain : float
        The one playback gain applied to everything (:func:`course_utils.listening.playback_gain`).
    """

    excerpt: str
    stem: str
    sr: int
    seed: int
    reference: np.ndarray
    signals: dict
    methods: dict
    references: np.ndarray
    gain: float

    def label_of(self, method: str) -> str:
        """The blind label of ``method`` (a name of :attr:`methods`' values)."""
        for label, name in self.methods.items():
            if name == method:
                return label
        raise KeyError(f"No stimulus {method!r}; there are {list(self.methods.values())}.")

    def players(self):
        """The open reference and the blind stimuli as labelled players, one shared gain.

        Returns
        -------
        IPython.display.HTML
            Plain HTML ``<audio>`` players: they play in a rendered page without a kernel too.
        """
        return listening.players({"Reference": self.reference, **self.signals}, sr=self.sr,
                                 title=f"MUSHRA: {self.stem}, {self.excerpt}")


def low_pass_anchor(y: np.ndarray, *, sr: int, cutoff: float = ANCHOR_HZ) -> np.ndarray:
    """The MUSHRA anchor: ``y`` low-passed at ``cutoff`` Hz, without delay.

    A Butterworth low-pass of order 12 run forwards and backwards (``scipy.signal.sosfiltfilt``):
    zero phase, so only the spectrum changes; 6 dB down at the cut-off, 38 dB at 1.2 times it.

    Parameters
    ----------
    y : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    sr : int
    cutoff : float
        In Hz; ITU-R BS.1534-3 prescribes 3.5 kHz for the low anchor (7 kHz for a mid anchor).

    Returns
    -------
    np.ndarray, float32, shape of ``y``

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    if not 0 < cutoff < sr / 2:
        raise ValueError(f"cutoff must lie between 0 and sr / 2 = {sr / 2:g} Hz, got {cutoff!r}.")
    sos = scipy.signal.butter(ANCHOR_ORDER, cutoff, btype="lowpass", fs=sr, output="sos")
    return scipy.signal.sosfiltfilt(sos, np.asarray(y, dtype=np.float64), axis=-1).astype(np.float32)


def stimuli(track, *, stem: str, methods: dict, duration: float | None, offset: float = 0.0, seed: int = 0,
            anchor_hz: float = ANCHOR_HZ) -> Stimuli:
    """The stimuli of a MUSHRA trial: hidden reference, anchor and each method's estimate, shuffled.

    The methods run on the excerpt itself. Every stimulus, the open reference and the stems the
    metrics use are then scaled by one gain (the players' shared gain), so the loudest sample
    of the trial sits at -1 dBFS and the levels heard are the levels scored.

    Parameters
    ----------
    track : course_utils.data.Track
    stem : str
        One of :data:`course_utils.data.STEMS`: the reference.
    methods : dict of str to callable
        Name to ``method(track) -> {stem: estimate}`` (:mod:`course_utils.methods`); each must
        estimate ``stem``. ``methods.mixture()`` makes the mixture one of the stimuli.
    duration, offset : float
        The excerpt, in seconds (:func:`course_utils.data.excerpt`).
    seed : int
        Seeds the blind order (``np.random.default_rng(seed).permutation``).
    anchor_hz : float

    Returns
    -------
    Stimuli

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}.")
    if not methods:
        raise ValueError("methods is empty: a MUSHRA trial compares at least one system with the reference.")
    clip = cut(track, duration=duration, offset=offset)
    reference = clip.stems[stem]
    conditions = {REFERENCE: reference, ANCHOR: low_pass_anchor(reference, sr=clip.sr, cutoff=anchor_hz)}
    for name, method in methods.items():
        if name in conditions:
            raise ValueError(f"{name!r} is a reserved stimulus name.")
        estimates = method(clip)
        if stem not in estimates:
            raise ValueError(f"method {name!r} does not estimate {stem!r} (it returns {sorted(estimates)}).")
        estimate = np.asarray(estimates[stem])
        if estimate.shape != reference.shape:
            raise ValueError(f"method {name!r} returned {stem} shaped {estimate.shape}; the reference is {reference.shape}.")
        conditions[name] = estimate
    if len(conditions) > len(string.ascii_uppercase):
        raise ValueError(f"at most {len(string.ascii_uppercase) - 2} methods fit the labels A-Z.")
    gain = listening.playback_gain(list(conditions.values()))
    level = lambda x: (gain * np.asarray(x, dtype=np.float64)).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(conditions))
    names = list(conditions)
    labels = string.ascii_uppercase[: len(names)]
    blind = {label: names[i] for label, i in zip(labels, order)}
    others = [s for s in STEMS if s != stem]
    span = f"{offset:.1f} s to the end" if duration is None else f"{offset:.1f}-{offset + duration:.1f} s"
    return Stimuli(excerpt=f"{clip.name} ({span})",
                   stem=stem, sr=clip.sr, seed=int(seed), reference=level(reference),
                   signals={label: level(conditions[name]) for label, name in blind.items()}, methods=blind,
                   references=np.stack([level(clip.stems[s]) for s in [stem, *others]]), gain=gain)


# --------------------------------------------------------------------------------------------
# The test: sliders and a ratings file


def save_ratings(stim: Stimuli, ratings: dict, *, path, source: str = LISTENER) -> pd.DataFrame:
    """Write one listener's ratings of ``stim`` to a CSV file (replacing the file).

    Parameters
    ----------
    stim : Stimuli
    ratings : dict of str to number
        Blind label to rating in [0, 100], one for every stimulus.
    path : str or Path
    source : str
        Who rated: :data:`LISTENER` for a person at the sliders; tests write ``"test input"``.

    Returns
    -------
    pandas.DataFrame
        What was written: one row per stimulus, columns :data:`COLUMNS` (``method`` is what the
        blind label was, ``time`` when it was saved, ``seed`` the seed of the order).

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    if set(ratings) != set(stim.signals):
        raise ValueError(f"rate every stimulus once: got labels {sorted(ratings)}, the trial has {list(stim.signals)}.")
    for label, value in ratings.items():
        if not np.isfinite(value) or not 0 <= value <= 100:
            raise ValueError(f"rating of {label} must be a number in [0, 100], got {value!r}.")
    now = datetime.datetime.now().isoformat(timespec="seconds")
    table = pd.DataFrame([(stim.excerpt, stim.stem, label, stim.methods[label], float(ratings[label]), now,
                           stim.seed, source) for label in stim.signals], columns=list(COLUMNS))
    table.to_csv(path, index=False)
    return table


def load_ratings(path, *, stim: Stimuli | None = None) -> pd.DataFrame:
    """Read a ratings file of :func:`save_ratings`.

    Parameters
    ----------
    path : str or Path
    stim : Stimuli, optional
        Keep only the rows of this trial (same excerpt, stem and seed), and check that their
        labels name the same stimuli.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; empty when ``stim`` is given and the file holds another trial.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    table = pd.read_csv(path, dtype={"label": str, "source": str})
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{path} is not a ratings file: it lacks the columns {sorted(missing)}.")
    if stim is None:
        return table
    same = (table["excerpt"] == stim.excerpt) & (table["stem"] == stim.stem) & (table["seed"] == stim.seed)
    table = table[same].reset_index(drop=True)
    wrong = [(label, method) for label, method in zip(table["label"], table["method"])
             if stim.methods.get(label) != method]
    if wrong:
        raise ValueError(f"{path}: labels {wrong} do not name the stimuli of this trial ({stim.methods}).")
    return table


class MushraTest:
    """The test of :func:`rating_ui`: players, one slider per stimulus, a Save button.

    Attributes
    ----------
    stimuli : Stimuli
    sliders : dict of str to ipywidgets.IntSlider
        Blind label to its 0-100 slider.
    save_button : ipywidgets.Button
        Writes the ratings with :func:`save_ratings` once every slider has been moved.
    status : ipywidgets.HTML
        What the last click did.
    widget : ipywidgets.VBox
        The sliders, the button and the status, to display.
    path : Path
    source : str
    saved : pandas.DataFrame or None
        What the last successful click wrote.
    """

    def __init__(self, stim: Stimuli, *, path, source: str = LISTENER):
        import ipywidgets as widgets

        self.stimuli, self.path, self.source, self.saved = stim, Path(path), source, None
        self.sliders = {label: widgets.IntSlider(value=0, min=0, max=100, step=1, description=label,
                                                 continuous_update=False, layout=widgets.Layout(width="420px"))
                        for label in stim.signals}
        self._moved = set()
        for label, slider in self.sliders.items():
            slider.observe(lambda change, label=label: self._moved.add(label), names="value")
        self.save_button = widgets.Button(description="Save ratings", button_style="primary")
        self.save_button.on_click(self._save)
        self.status = widgets.HTML(value="<em>Rate every stimulus against the reference, then Save.</em>")
        scale = widgets.HTML(value="<small>0-20 bad, 20-40 poor, 40-60 fair, 60-80 good, 80-100 excellent "
                                   "(ITU-R BS.1534-3)</small>")
        self.widget = widgets.VBox([scale, *self.sliders.values(), self.save_button, self.status])

    def ratings(self) -> dict:
        """The sliders' values now, blind label to rating."""
        return {label: slider.value for label, slider in self.sliders.items()}

    def _save(self, _button=None) -> None:
        unmoved = [label for label in self.sliders if label not in self._moved]
        if unmoved:
            self.status.value = (f"<b>Not saved</b>: move every slider first ({', '.join(unmoved)} not yet; "
                                 "for a 0, move it and bring it back).")
            return
        self.saved = save_ratings(self.stimuli, self.ratings(), path=self.path, source=self.source)
        self.status.value = (f"Saved {len(self.saved)} ratings to <code>{html.escape(str(self.path))}</code> at "
                             f"{self.saved['time'].iloc[0]}. Run the next cells to compare them with the metrics.")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.stimuli.players())
        display(self.widget)


def rating_ui(stim: Stimuli, *, path, source: str = LISTENER) -> MushraTest:
    """The listening test of ``stim``: labelled players, one 0-100 slider each, a Save button.

    Display the returned object (the players, then the sliders). Save writes the ratings to
    ``path`` with :func:`save_ratings` once every slider has been moved. The widgets are
    attributes (``sliders``, ``save_button``), so code can set the sliders and click Save
    (``save_button.click()``).

    Parameters
    ----------
    stim : Stimuli
    path : str or Path
        The ratings file (CSV).
    source : str
        Written into every row: :data:`LISTENER` for a person.

    Returns
    -------
    MushraTest

    Notes
    -----
    Taught in ``06_evaluation``. Needs ipywidgets and a live kernel (Jupyter, Colab).
    """
    return MushraTest(stim, path=path, source=source)


# --------------------------------------------------------------------------------------------
# The analysis


def stimulus_metrics(stim: Stimuli) -> pd.DataFrame:
    """SDR, SI-SDR and SAR of every stimulus, computed from the arrays the listener hears.

    SDR and SAR are BSS Eval's ``sources`` definition with 512-tap filters
    (:func:`course_utils.metrics.bss_eval`, the stimulus scored as the stem with the other
    three stems as interference); SI-SDR is :func:`course_utils.metrics.si_sdr` (the channels
    of a stereo stem joined).

    Parameters
    ----------
    stim : Stimuli

    Returns
    -------
    pandas.DataFrame
        Index: blind label; columns ``method`` and :data:`METRICS` in dB (``inf`` where the
        stimulus is explained without error, as the hidden reference). ``attrs`` holds
        ``excerpt`` and ``stem``.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    reference = stim.references[0]
    rows = {}
    for label, x in stim.signals.items():
        scores = metrics.bss_eval(stim.references, x[None])
        rows[label] = {"method": stim.methods[label], "SDR": float(scores.sdr[0]),
                       "SI-SDR": float(metrics.si_sdr(reference.reshape(-1), x.reshape(-1))),
                       "SAR": float(scores.sar[0])}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "label"
    table.attrs.update(excerpt=stim.excerpt, stem=stim.stem)
    return table


def _rated(ratings: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Mean rating per stimulus joined to its metrics, the hidden reference left out."""
    for key in ("excerpt", "stem"):
        if key in scores.attrs and set(ratings[key]) != {scores.attrs[key]}:
            raise ValueError(f"The ratings are of {key} {sorted(set(ratings[key]))}, the metrics of "
                             f"{scores.attrs[key]!r}: compare ratings with the stimuli that were rated.")
    mean = ratings.groupby("method")["rating"].mean()
    missing = set(scores["method"]) - set(mean.index)
    if missing:
        raise ValueError(f"No rating of {sorted(missing)}.")
    joined = scores.assign(rating=scores["method"].map(mean))
    return joined[joined["method"] != REFERENCE]


def rank_correlation(ratings: pd.DataFrame, scores: pd.DataFrame, *, metrics=METRICS) -> pd.DataFrame:
    """Spearman's rank correlation of the ratings with each metric, over the non-reference stimuli.

    Parameters
    ----------
    ratings : pandas.DataFrame
        From :func:`load_ratings` (several listeners' rows: their mean per stimulus is used).
    scores : pandas.DataFrame
        From :func:`stimulus_metrics` of the same stimuli.
    metrics : sequence of str

    Returns
    -------
    pandas.DataFrame
        Index: metric; columns ``spearman rho``, ``p-value`` (``scipy.stats.spearmanr``; with
        five or six stimuli only a near-perfect agreement is significant) and ``stimuli``.

    Notes
    -----
    Taught in ``06_evaluation``. The hidden reference is left out: every metric is infinite on
    it, which says nothing about the others.
    """
    joined = _rated(ratings, scores)
    rows = {}
    for metric in metrics:
        result = scipy.stats.spearmanr(joined["rating"], joined[metric])
        rows[metric] = {"spearman rho": float(result.statistic), "p-value": float(result.pvalue),
                        "stimuli": len(joined)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "metric"
    return table


def metric_agreement(scores: pd.DataFrame, *, metrics=METRICS) -> pd.DataFrame:
    """Spearman's rank correlation between the metrics themselves, over the non-reference stimuli.

    What can be said without a listener: whether SDR, SI-SDR and SAR even order the stimuli
    the same way.

    Parameters
    ----------
    scores : pandas.DataFrame
        From :func:`stimulus_metrics`.
    metrics : sequence of str

    Returns
    -------
    pandas.DataFrame
        A ``len(metrics) x len(metrics)`` matrix of rho (``scipy.stats.spearmanr``).

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    metrics = list(metrics)
    values = scores.loc[scores["method"] != REFERENCE, metrics].to_numpy()
    rho = scipy.stats.spearmanr(values).statistic
    rho = np.array([[1.0, rho], [rho, 1.0]]) if np.ndim(rho) == 0 else rho
    return pd.DataFrame(rho, index=metrics, columns=metrics)


def post_screening(ratings: pd.DataFrame) -> list[str]:
    """ITU-R BS.1534-3's checks of a listener's ratings of one trial; the problems found.

    The standard excludes a listener who rates the hidden reference below 90 in more than 15 %
    of the trials; a listener should also rate the anchor below the hidden reference.

    Parameters
    ----------
    ratings : pandas.DataFrame
        One listener's rows of one trial (:func:`load_ratings`).

    Returns
    -------
    list of str
        Empty when the ratings pass.

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    by_method = ratings.groupby("method")["rating"].mean()
    problems = []
    if by_method.get(REFERENCE, 100) < 90:
        problems.append(f"the hidden reference is rated {by_method[REFERENCE]:.0f} (< 90): the standard would "
                        "exclude a listener who does this in more than 15 % of the trials")
    if by_method.get(ANCHOR, 0) >= by_method.get(REFERENCE, 100):
        problems.append(f"the anchor is rated {by_method[ANCHOR]:.0f}, not below the hidden reference "
                        f"({by_method[REFERENCE]:.0f}): was the reference found?")
    return problems


def plot_ratings(ratings: pd.DataFrame, scores: pd.DataFrame, *, metrics=METRICS, title: str | None = None):
    """Each metric against the ratings, one panel per metric, each stimulus named.

    A value of :data:`CEILING_DB` or more (the mixture's SAR: nothing in it is an artifact, so
    its SAR is only limited by rounding) would squash the other points into a corner; it is
    drawn at the panel's right edge as a triangle with its value written beside it.

    Parameters
    ----------
    ratings : pandas.DataFrame
        From :func:`load_ratings`.
    scores : pandas.DataFrame
        From :func:`stimulus_metrics` of the same stimuli.
    metrics : sequence of str
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Taught in ``06_evaluation``.
    """
    import matplotlib.pyplot as plt

    joined = _rated(ratings, scores)
    rho = rank_correlation(ratings, scores, metrics=metrics)["spearman rho"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.3 * len(metrics), 4.0), sharey=True, layout="constrained",
                             squeeze=False)
    rating = joined["rating"].to_numpy(dtype=float)
    for ax, metric in zip(axes[0], metrics):
        x = joined[metric].to_numpy(dtype=float)
        inside = x < CEILING_DB
        lo, hi = (float(np.min(x[inside])), float(np.max(x[inside]))) if inside.any() else (0.0, 1.0)
        pad = max(0.1 * (hi - lo), 1.0)
        edge = hi + 3 * pad if inside.any() else CEILING_DB
        shown = np.where(inside, x, edge)
        ax.scatter(shown[inside], rating[inside], s=40, zorder=3)
        ax.scatter(shown[~inside], rating[~inside], s=70, marker=">", color="C3", zorder=3)
        for xi, yi, name, value, ok in zip(shown, rating, joined["method"], x, inside):
            ax.annotate(name if ok else f"{name}\n({value:.0f} dB)", (xi, yi), xytext=(-5 if not ok else 5, 4),
                        textcoords="offset points", fontsize=8, ha="left" if ok else "right")
        for level in (20, 40, 60, 80):
            ax.axhline(level, color="0.85", lw=0.8, zorder=0)
        ax.set(xlabel=f"{metric} (dB)", title=f"{metric}: Spearman rho = {rho[metric]:.2f}",
               xlim=(lo - pad, edge + pad), ylim=(-3, 103))
    axes[0, 0].set_ylabel("rating (0-100)")
    if title:
        fig.suptitle(title)
    return fig
