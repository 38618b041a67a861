"""Slides: the metric definitions of the lecture notes, HTML tables, and a figure style for slides.

The slide decks in ``slides/`` (built by ``make slides``) show the lecture notes' tables as
real HTML tables (:func:`html_table`). The published MUSDB18 tables and the Demucs v2
ablation are typed once, in :mod:`course_utils.state_of_the_art`; the one table that module
does not hold, the notes' definitions of SDR, SIR and SAR, is here
(:func:`metric_definitions`). :func:`use_slide_style` makes matplotlib figures readable on a
projected 1280 x 720 slide.

Used by the slide decks ``slides/01_*.ipynb`` to ``slides/04_*.ipynb``.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from IPython.display import HTML

from .state_of_the_art import cite

__all__ = ["METRIC_DEFINITIONS", "SLIDE_RC", "metric_definitions", "html_table", "use_slide_style"]

METRIC_DEFINITIONS = (
    # (metric, name, what it asks of the estimate ae of source a), in the notes' terms:
    # true sources a and b, their estimates ae and be
    ("SDR", "Source-to-Distortion Ratio", "how similar is ae to a? (every error counts)"),
    ("SIR", "Source-to-Interference Ratio", "how little of the other source b is in ae?"),
    ("SAR", "Source-to-Artifact Ratio", "how little of ae is like neither a nor b (artifacts)?"),
)
"""The three metrics as the lecture notes' section "Evaluation Metrics" defines them."""

SLIDE_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 15,
    "axes.titlesize": 16,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "figure.titlesize": 17,
}
"""matplotlib settings for slides: at 100 dpi a 12-inch figure fills a 1280-pixel slide, and
15-point text is as large there as body text on a projected page."""


def metric_definitions() -> pd.DataFrame:
    """The lecture notes' definitions of SDR, SIR and SAR as a table.

    Returns
    -------
    pd.DataFrame
        Columns ``Metric``, ``Name`` and ``For the estimate ae of source a, it asks``;
        ``df.attrs["source"]`` cites the notes' section.
    """
    df = pd.DataFrame(METRIC_DEFINITIONS, columns=["Metric", "Name", "For the estimate ae of source a, it asks"])
    df.attrs["source"] = cite("Evaluation Metrics")
    return df


def _cell(value, digits: int | None, na_rep: str, ceiling: float | None = None) -> str:
    """One ``<td>``: numbers right-aligned (class ``num``), floats with ``digits`` decimals, booleans yes/no;
    finite numbers above ``ceiling`` as "> ceiling"."""
    if isinstance(value, (bool, np.bool_)):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, numbers.Real):
        if isinstance(value, numbers.Integral):
            text = str(value)
        elif np.isnan(value):
            text = na_rep
        elif np.isinf(value):
            text = "∞" if value > 0 else "−∞"
        elif ceiling is not None and value > ceiling:
            text = f"&gt; {ceiling:g}"
        else:
            text = f"{value:.{digits}f}" if digits is not None else f"{value:g}"
        return f'<td class="num">{text.replace("-", "−")}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def html_table(df: pd.DataFrame, *, caption: str | None = None, highlight: Sequence = (),
               digits: int | Mapping[str, int] | None = None, index: bool = False, na_rep: str = "N/A",
               ceiling: float | None = None) -> HTML:
    """Render a DataFrame as a plain HTML table for a slide.

    Parameters
    ----------
    df : pd.DataFrame
        Cells are escaped; floats are printed with ``digits`` decimals, ``NaN`` as ``na_rep``.
    caption : str, optional
        Shown under the table (e.g. the citation, ``df.attrs["source"]``).
    highlight : sequence
        Index labels (or, with ``index=False``, row positions) of rows to set in bold.
    digits : int or dict of column to int, optional
        Decimals for floats, for all columns or per column (default: as short as exact, ``{:g}``).
    index : bool
        Also show the index as the first column.
    na_rep : str
        What a missing value shows (the lecture notes write N/A).
    ceiling : float, optional
        Finite numbers above it show as "> ceiling" (e.g. the SDR of a hidden reference, which
        is only finite by round-off); infinities still show as ∞.

    Returns
    -------
    IPython.display.HTML
        A ``<table>`` that notebooks, nbconvert and reveal.js all show as a table.
    """
    frame = df.rename_axis(df.index.name or "").reset_index() if index else df
    keys = list(df.index) if index else list(range(len(df)))
    places = dict(digits) if isinstance(digits, Mapping) else dict.fromkeys(frame.columns, digits)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]                  # their headers are right-aligned like their cells
    head = "".join(f'<th class="num">{html.escape(str(c))}</th>' if num else f"<th>{html.escape(str(c))}</th>"
                   for c, num in zip(frame.columns, numeric))
    rows = []
    for key, row in zip(keys, frame.itertuples(index=False)):
        cls = ' class="highlight"' if key in highlight else ""
        rows.append(f"<tr{cls}>" + "".join(_cell(v, places.get(c), na_rep, ceiling) for c, v in zip(frame.columns, row))
                    + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(f'<table class="course-table">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")


def use_slide_style() -> None:
    """Apply :data:`SLIDE_RC` to matplotlib (call once, at the top of a deck)."""
    mpl.rcParams.update(SLIDE_RC)
