"""The state of the art: published MUSDB18 results as data, and pretrained waveform models run in chunks.

Two halves:

- **Published numbers, typed once as data.** The tables of the lecture notes (Yang, *Source
  Separation: Quick Notes*, 2025 edition) are kept here exactly as printed, each with the
  section it comes from: the Demucs repository's comparison (:data:`DEMUCS_TABLE`), the
  Papers-with-Code MUSDB18 leaderboard (:data:`LEADERBOARD`) and the Demucs v2 ablation
  (:data:`DEMUCS_V2_ABLATION`). :func:`published_results` merges the first two into one
  DataFrame (one row per model); :data:`MODEL_INFO` adds what the notes do not give (the
  year and venue of each paper, the domain of the models that only the leaderboard lists,
  and parameter counts, each with where it was counted). :func:`ablation` returns the
  ablation with the SDR each change costs; :func:`extra_data_gains` the gain of the
  models trained with and without extra data.
- **Pretrained separators on waveforms.** :func:`separate_waveform` runs any model that maps
  ``(batch, channels, time)`` to ``(batch, sources, channels, time)`` (torchaudio's
  :class:`~torchaudio.models.HDemucs`, for one) over a whole song in overlapping chunks
  (:func:`chunk_bounds`, :func:`chunk_weights`): memory stays bounded by the chunk, the
  chunks are cross-faded and normalised by their summed weights, and the course's
  22050 Hz mono signals are resampled and up-mixed to what the model wants and back.
  :func:`load_pretrained_hdemucs` fetches torchaudio's ``HDEMUCS_HIGH_MUSDB_PLUS`` weights
  where the network allows, and otherwise says why within a few seconds.

The self-checks of the notebook's exercises are in :mod:`course_utils.checks`.

Taught in ``07_tools_and_state_of_the_art``.
"""

from __future__ import annotations

import math
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from . import audio

__all__ = [
    "LECTURE_NOTES", "DEMUCS_TABLE", "LEADERBOARD", "DEMUCS_V2_ABLATION", "CORRECTIONS", "LATER_RESULTS",
    "TEST_SETS", "MODEL_INFO", "SOURCES",
    "cite", "demucs_table", "leaderboard_table", "published_results", "model_sizes", "ablation",
    "extra_data_gains", "chunk_bounds", "chunk_weights", "separate_waveform", "PRETRAINED_HOST",
    "PRETRAINED_BUNDLE", "pretrained_cache_path", "can_reach", "load_pretrained_hdemucs",
]

LECTURE_NOTES = ("Yi-Hsuan Yang, Source Separation: Quick Notes (Deep Learning for Music Analysis and "
                 "Generation, 2025 edition)")
"""The lecture notes the course follows; :func:`cite` names a section of them."""

SOURCES = ("vocals", "drums", "bass", "other")
"""The four MUSDB18 stems, in the course's order (:data:`course_utils.data.STEMS`)."""

_SECTION_DEMUCS = "Library: Demucs"
_SECTION_LEADERBOARD = "Extra (Private) Datasets"
_SECTION_ABLATION = "Demucs (v2)"

DEMUCS_TABLE = (
    # (model, domain, extra training data, overall SDR in dB), as printed in the notes
    ("Wave-U-Net", "waveform", "no", 3.2),
    ("Open-Unmix", "spectrogram", "no", 5.3),
    ("Demucs (v2)", "waveform", "no", 6.3),
    ("Band-Split RNN", "spectrogram", "no", 8.2),
    ("Hybrid Demucs (v3)", "hybrid", "no", 7.7),
    ("MMDenseLSTM", "spectrogram", "804 songs", 6.0),
    ("Spleeter", "spectrogram", "25k songs", 5.9),
    ("HT Demucs f.t. (v4)", "hybrid", "800 songs", 9.0),
)
"""The comparison table of the Demucs repository, from the lecture notes' section "Library:
Demucs" (the notes' typo "Band-Spit RNN" corrected). SDR is the MUSDB18 test-set average."""

LEADERBOARD = (
    # (rank, model, average SDR, vocals, drums, bass, other, extra training data, paper, year)
    (1, "Sparse HT Demucs (fine tuned)", 9.20, 9.37, 10.83, 10.47, 6.41, True,
     "Hybrid Transformers for Music Source Separation", 2022),
    (2, "Hybrid Transformer Demucs (f.t.)", 9.00, 9.20, 10.08, 9.78, 6.42, True,
     "Hybrid Transformers for Music Source Separation", 2022),
    (3, "Band-Split RNN (semi-sup.)", 8.97, 10.47, 10.15, 8.16, 7.08, True,
     "Music Source Separation with Band-split RNN", 2022),
    (4, "TFC-TDF-UNet (v3)", 8.34, 9.59, 8.44, 8.45, 6.86, False,
     "Sound Demixing Challenge 2023 Music Demixing Track Technical Report: TFC-TDF-UNet v3", 2023),
    (5, "Band-Split RNN", 8.23, 10.21, 8.58, 7.51, 6.62, False,
     "Music Source Separation with Band-split RNN", 2022),
    (6, "Hybrid Demucs", 7.72, 8.04, 8.58, 8.67, 5.59, False,
     "Hybrid Spectrogram and Waveform Source Separation", 2021),
    (7, "KUIELab-MDX-Net", 7.54, 9.00, 7.33, 7.86, 5.95, False,
     "KUIELab-MDX-Net: A Two-Stream Neural Network for Music Demixing", 2021),
)
"""The MUSDB18 leaderboard (Papers with Code) of the lecture notes' section "Extra (Private)
Datasets": SDR in dB on the MUSDB18 test set, average and per source."""

DEMUCS_V2_ABLATION = (
    # (what differs from the reference model, validation-set L1 loss, test-set SDR in dB)
    ("no BiLSTM", 0.171, 5.40),
    ("no pitch/tempo aug.", 0.156, 5.80),
    ("no initial weight rescaling", 0.156, 5.88),
    ("no 1x1 convolutions in encoder", 0.154, 5.89),
    ("ReLU instead of GLU", 0.157, 5.92),
    ("no BiLSTM, depth=7", 0.160, 5.94),
    ("MSE loss", math.nan, 5.99),
    ("no resampling", 0.153, 6.03),
    ("no shift trick", math.nan, 6.05),
    ("kernel size of 1 in decoder convolutions", 0.153, 6.11),
    ("Reference", 0.150, 6.28),
)
"""The Demucs v2 ablation of the lecture notes' section "Demucs (v2)" (NaN where the notes
print N/A: an MSE-trained model has no comparable L1 loss, the shift trick acts at test time)."""

CORRECTIONS = {
    # (model, column): (the value the notes print, the paper's value)
    ("Hybrid Transformer Demucs (f.t.)", "bass"): (9.78, 10.39),
    ("Hybrid Transformer Demucs (f.t.)", "other"): (6.42, 6.32),
}
"""Where the lecture notes' leaderboard is wrong, the value of the original paper.

The notes' "Hybrid Transformer Demucs (f.t.)" row mixes two rows of Rouard, Massa & Défossez
(ICASSP 2023): its average, vocals and drums are the fine-tuned model's (9.00, 9.20, 10.08),
its bass and other are those of HT Demucs trained with the same 800 extra songs but not
fine-tuned (9.78, 6.42). The fine-tuned model's bass and other are 10.39 and 6.32, and with them
the four stems average to the published 9.00. :func:`leaderboard_table` shows the paper's
values and says which it corrected."""

LATER_RESULTS = (
    # (model, domain, extra training data, average SDR in dB, year, paper)
    ("BS-RoFormer", "spectrogram", "no", 9.80, 2023,
     "Lu, Wang, Kong & Hung, Music Source Separation with Band-Split RoPE Transformer, ICASSP 2024 "
     "(arXiv:2309.02612, 2023)"),
)
"""Results published after the lecture notes' tables, from the papers. BS-RoFormer: band-split
inputs modelled by Transformers with rotary position embeddings; its smaller version, trained on
MUSDB18-HQ without extra data, reaches 9.80 dB average SDR on MUSDB18-HQ's test set (the paper's
abstract), above every model of the notes' tables, extra data or not. A version trained with 500
extra songs won the music separation track of the Sound Demixing Challenge 2023."""

TEST_SETS = {"Sparse HT Demucs (fine tuned)": "MUSDB18-HQ", "Hybrid Transformer Demucs (f.t.)": "MUSDB18-HQ",
             "BS-RoFormer": "MUSDB18-HQ"}
"""The test set a paper reports on, where the paper says MUSDB18-HQ (the uncompressed release of
MUSDB18's songs, with the full bandwidth); the notes' tables do not say, and the two versions'
numbers are not strictly comparable."""

# Names of the same model in the two tables.
_SAME_MODEL = {"Hybrid Demucs (v3)": "Hybrid Demucs", "HT Demucs f.t. (v4)": "Hybrid Transformer Demucs (f.t.)"}

MODEL_INFO = {
    # What the lecture notes' tables do not say. Years and venues are those of the papers;
    # parameter counts were counted with sum(p.numel() for p in model.parameters()) on the
    # reference implementation named in "parameters_from" (random weights: the count does
    # not depend on them). NaN: no count (no reference implementation on a package index).
    "Wave-U-Net": dict(year=2018, family="U-Net", domain="waveform",
                       paper="Stoller, Ewert & Dixon, Wave-U-Net, ISMIR 2018"),
    "Open-Unmix": dict(year=2019, family="Open-Unmix", domain="spectrogram",
                       paper="Stöter, Uhlich, Liutkus & Mitsufuji, Open-Unmix, JOSS 2019",
                       parameters=4 * 8_893_348, networks=4,
                       parameters_from="openunmix 1.3.0: OpenUnmix(nb_bins=2049, nb_channels=2, hidden_size=512, "
                                       "max_bin=1487), the umxhq configuration, one network per source"),
    "Demucs (v2)": dict(year=2019, family="Demucs", domain="waveform",
                        paper="Défossez, Usunier, Bottou & Bach, Music Source Separation in the Waveform "
                              "Domain, arXiv:1911.13254, 2019",
                        parameters=265_679_496, networks=1,
                        parameters_from="demucs 2.0.3: Demucs(sources, channels=64), the configuration of its "
                                        "pretrained `demucs` model"),
    "Band-Split RNN": dict(year=2022, family="Band-Split", domain="spectrogram",
                           paper="Luo & Yu, Music Source Separation with Band-split RNN, arXiv:2209.15174, 2022"),
    "Hybrid Demucs": dict(year=2021, family="Demucs", domain="hybrid",
                          paper="Défossez, Hybrid Spectrogram and Waveform Source Separation, MDX Workshop 2021",
                          parameters=83_639_368, networks=1,
                          parameters_from="torchaudio.models.hdemucs_high (the network of torchaudio's "
                                          "HDEMUCS_HIGH pipelines); tests/test_state_of_the_art.py recounts it"),
    "MMDenseLSTM": dict(year=2018, family="DenseNet", domain="spectrogram",
                        paper="Takahashi, Goswami & Mitsufuji, MMDenseLSTM, IWAENC 2018"),
    "Spleeter": dict(year=2020, family="U-Net", domain="spectrogram",
                     paper="Hennequin, Khlif, Voituret & Moussallam, Spleeter, JOSS 2020"),
    "Hybrid Transformer Demucs (f.t.)": dict(
        year=2022, family="Demucs", domain="hybrid",
        paper="Rouard, Massa & Défossez, Hybrid Transformers for Music Source Separation, ICASSP 2023 "
              "(arXiv 2022)",
        parameters=4 * 26_899_536, networks=4,
        parameters_from="demucs 4.1.0: HTDemucs(sources) with its default configuration; the fine-tuned "
                        "model is a bag of four such networks, one per source (demucs/remote/htdemucs_ft.yaml)"),
    "Sparse HT Demucs (fine tuned)": dict(family="Demucs", domain="hybrid"),
    "Band-Split RNN (semi-sup.)": dict(family="Band-Split", domain="spectrogram"),
    "TFC-TDF-UNet (v3)": dict(family="U-Net", domain="spectrogram"),
    "KUIELab-MDX-Net": dict(family="U-Net", domain="hybrid"),
    "BS-RoFormer": dict(family="Band-Split", domain="spectrogram"),
}
"""Per model (names as in :func:`published_results`): ``year``, ``paper``, ``family``,
``domain`` and, where counted, ``parameters`` (all the networks needed for the four stems),
``networks`` and ``parameters_from``. KUIELab-MDX-Net blends a spectrogram U-Net with a
waveform Demucs, hence "hybrid"."""


def cite(section: str) -> str:
    """A citation of one section of the lecture notes, e.g. ``cite("Demucs (v2)")``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    return f"{LECTURE_NOTES}, section “{section}”"


# --------------------------------------------------------------------------------------------
# The published tables


def demucs_table():
    """The Demucs repository's comparison table of the lecture notes, as printed.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``domain``, ``extra_data`` (``"no"`` or how many songs), ``sdr``
        (dB, MUSDB18 test set). ``df.attrs["source"]`` is the citation.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """

    df = pd.DataFrame(DEMUCS_TABLE, columns=["model", "domain", "extra_data", "sdr"])
    df.attrs["source"] = cite(_SECTION_DEMUCS)
    return df


def leaderboard_table():
    """The Papers-with-Code MUSDB18 leaderboard of the lecture notes, with the paper's values where the notes err.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank``, ``model``, ``sdr`` (average), ``vocals``, ``drums``, ``bass``,
        ``other`` (dB), ``extra_data`` (bool), ``paper``, ``year``, ``corrected`` (which values
        come from the paper instead of the notes, with what the notes print; ``""`` for none).
        ``df.attrs["source"]`` is the citation.

    Notes
    -----
    The corrections are :data:`CORRECTIONS`. Taught in ``07_tools_and_state_of_the_art``.
    """

    df = pd.DataFrame(LEADERBOARD, columns=["rank", "model", "sdr", *SOURCES, "extra_data", "paper", "year"])
    df["corrected"] = ""
    for (model, column), (printed, paper) in CORRECTIONS.items():
        row = df.index[df.model == model][0]
        df.loc[row, column] = paper
        note = f"{column}: {paper:.2f} (the notes print {printed:.2f})"
        df.loc[row, "corrected"] = f"{df.loc[row, 'corrected']}; {note}" if df.loc[row, "corrected"] else note
    df.attrs["source"] = f"{cite(_SECTION_LEADERBOARD)}; corrected from the papers where noted"
    return df


def published_results():
    """Both published tables of the lecture notes merged: one row per model.

    A model listed in both (Band-Split RNN, Hybrid Demucs, HT Demucs f.t.) takes the
    leaderboard's two-decimal SDR and per-source values (corrected where :data:`CORRECTIONS`
    says); the Demucs table's one-decimal SDR is kept in ``sdr_demucs_table``. Year, domain and
    family come from :data:`MODEL_INFO` where the tables do not give them. The results of
    :data:`LATER_RESULTS` follow, with their average only.

    Returns
    -------
    pandas.DataFrame
        Index ``model``; columns ``year`` (int), ``domain``, ``family``, ``extra_data``
        (bool), ``extra_songs`` (the notes' wording, or ``""``), ``sdr``, ``vocals``,
        ``drums``, ``bass``, ``other`` (dB; NaN where only an average was published),
        ``sdr_demucs_table``, ``tables`` (the sections of the notes the row comes from),
        ``paper``, ``test_set`` (:data:`TEST_SETS`). Sorted by year, then SDR.
        ``df.attrs["source"]`` cites both sections.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """

    rows = {}
    for r in leaderboard_table().itertuples():
        info = MODEL_INFO.get(r.model, {})
        rows[r.model] = dict(year=r.year, domain=info.get("domain", ""), family=info.get("family", ""),
                             extra_data=bool(r.extra_data), extra_songs="", sdr=r.sdr, vocals=r.vocals,
                             drums=r.drums, bass=r.bass, other=r.other, sdr_demucs_table=math.nan,
                             tables=_SECTION_LEADERBOARD, paper=r.paper)
    for model, domain, extra, sdr in DEMUCS_TABLE:
        name = _SAME_MODEL.get(model, model)
        songs = "" if extra == "no" else extra
        if name in rows:
            row = rows[name]
            row.update(sdr_demucs_table=sdr, tables=f"{_SECTION_DEMUCS}; {_SECTION_LEADERBOARD}", domain=domain)
            row["extra_songs"] = songs or row["extra_songs"]
            continue
        info = MODEL_INFO[name]
        rows[name] = dict(year=info["year"], domain=domain, family=info["family"], extra_data=extra != "no",
                          extra_songs=songs, sdr=sdr, vocals=math.nan, drums=math.nan, bass=math.nan,
                          other=math.nan, sdr_demucs_table=sdr, tables=_SECTION_DEMUCS, paper=info["paper"])
    for model, domain, extra, sdr, year, paper in LATER_RESULTS:
        rows[model] = dict(year=year, domain=domain, family=MODEL_INFO[model]["family"], extra_data=extra != "no",
                           extra_songs="" if extra == "no" else extra, sdr=sdr, vocals=math.nan, drums=math.nan,
                           bass=math.nan, other=math.nan, sdr_demucs_table=math.nan, tables="after the notes: the paper",
                           paper=paper)
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "model"
    df["test_set"] = [TEST_SETS.get(m, "MUSDB18 (the notes do not say which release)") for m in df.index]
    df = df.sort_values(["year", "sdr"], kind="stable")
    df.attrs["source"] = f"{cite(_SECTION_DEMUCS)}; {cite(_SECTION_LEADERBOARD)}; later results from their papers"
    return df


def model_sizes():
    """Parameter counts of the published models that have a reference implementation.

    Returns
    -------
    pandas.DataFrame
        Index ``model``; columns ``parameters`` (int, all the networks needed to produce the
        four stems), ``networks``, ``sdr`` (dB, from :func:`published_results`),
        ``extra_data``, ``domain``, ``parameters_from`` (where it was counted). Only the
        models with a count, sorted by size.

    Notes
    -----
    A published score can come from a blend of several trained networks; the count is that
    of one set of networks producing every stem once. Taught in ``07_tools_and_state_of_the_art``.
    """

    published = published_results()
    rows = {m: dict(parameters=int(i["parameters"]), networks=int(i["networks"]), sdr=published.loc[m, "sdr"],
                    extra_data=bool(published.loc[m, "extra_data"]), domain=published.loc[m, "domain"],
                    parameters_from=i["parameters_from"])
            for m, i in MODEL_INFO.items() if "parameters" in i}
    df = pd.DataFrame.from_dict(rows, orient="index").sort_values("parameters")
    df.index.name = "model"
    return df


def ablation():
    """The Demucs v2 ablation, with what each change costs.

    Returns
    -------
    pandas.DataFrame
        Index ``change`` (what differs from the reference); columns ``valid_l1`` (NaN where
        the notes print N/A), ``test_sdr`` (dB) and ``sdr_lost`` (dB: the reference's SDR
        minus this row's; 0 for the reference), sorted from the largest loss.
        ``df.attrs["source"]`` is the citation.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """

    df = pd.DataFrame(DEMUCS_V2_ABLATION, columns=["change", "valid_l1", "test_sdr"]).set_index("change")
    df["sdr_lost"] = (df.loc["Reference", "test_sdr"] - df["test_sdr"]).round(2)
    df = df.sort_values("sdr_lost", ascending=False, kind="stable")
    df.attrs["source"] = cite(_SECTION_ABLATION)
    return df


def extra_data_gains():
    """SDR gained by training on extra data, for the leaderboard's pairs of one architecture.

    Pairs: Band-Split RNN with and without semi-supervised extra data; Hybrid Transformer
    Demucs (f.t., 800 extra songs) against Hybrid Demucs (no extra data), a newer model as
    well as more data.

    Returns
    -------
    pandas.DataFrame
        Index ``pair``; columns ``sdr``, ``vocals``, ``drums``, ``bass``, ``other``: the
        difference in dB (with extra data minus without).

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """

    lb = leaderboard_table().set_index("model")
    pairs = {"Band-Split RNN: semi-supervised extra data": ("Band-Split RNN (semi-sup.)", "Band-Split RNN"),
             "HT Demucs f.t. (800 extra songs) vs. Hybrid Demucs": ("Hybrid Transformer Demucs (f.t.)",
                                                                     "Hybrid Demucs")}
    cols = ["sdr", *SOURCES]
    df = pd.DataFrame({k: lb.loc[a, cols].astype(float) - lb.loc[b, cols].astype(float)
                       for k, (a, b) in pairs.items()}).T.round(2)
    df.index.name = "pair"
    return df


# --------------------------------------------------------------------------------------------
# Chunked inference on waveforms


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def chunk_bounds(n_samples: int, *, segment: int, overlap: int) -> list[tuple[int, int]]:
    """Where the chunks of chunked inference start and stop.

    Chunks of ``segment`` samples start every ``segment - overlap`` samples, until one
    reaches the end (the last one may be shorter). Neighbours share ``overlap`` samples.

    Parameters
    ----------
    n_samples : int
        Length of the signal.
    segment : int
        Samples per chunk.
    overlap : int
        Samples shared by neighbouring chunks, ``0 <= overlap < segment``.

    Returns
    -------
    list of (int, int)
        ``(start, stop)`` of each chunk; the first starts at 0, the last stops at ``n_samples``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    for name, value in (("n_samples", n_samples), ("segment", segment)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if isinstance(overlap, bool) or int(overlap) != overlap or not 0 <= overlap < segment:
        raise ValueError(f"overlap must be an integer in [0, segment={segment}), got {overlap!r}.")
    n_samples, segment, step = int(n_samples), int(segment), int(segment) - int(overlap)
    bounds, start = [], 0
    while True:
        stop = min(start + segment, n_samples)
        bounds.append((start, stop))
        if stop >= n_samples:
            return bounds
        start += step


def chunk_weights(length: int, *, fade_in: int, fade_out: int) -> np.ndarray:
    """Cross-fade weights of one chunk: linear ramps up and down, flat in between.

    The ramps never reach zero (``k / (fade + 1)`` for ``k = 1 .. fade``), so every sample
    has a positive total weight and overlap-add can divide by it.

    Parameters
    ----------
    length : int
        Samples in the chunk.
    fade_in, fade_out : int
        Samples of the ramps at its start and end (0 at the song's edges), each at most
        ``length``.

    Returns
    -------
    np.ndarray, float64, shape ``(length,)``
        Values in ``(0, 1]``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    if int(length) != length or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}.")
    for name, value in (("fade_in", fade_in), ("fade_out", fade_out)):
        if int(value) != value or not 0 <= value <= length:
            raise ValueError(f"{name} must be an integer in [0, length={length}], got {value!r}.")
    w = np.ones(int(length))
    if fade_in:
        w[:fade_in] = np.minimum(w[:fade_in], np.arange(1, fade_in + 1) / (fade_in + 1))
    if fade_out:
        w[length - fade_out:] = np.minimum(w[length - fade_out:], np.arange(fade_out, 0, -1) / (fade_out + 1))
    return w


def separate_waveform(model, mixture, *, sr: int, model_sr: int = 44100, segment: float = 10.0,
                      overlap: float = 1.0, sources=None, normalize: bool = True, device=None) -> np.ndarray:
    """Separate a song with a waveform model, in overlapping chunks (bounded memory).

    The steps: resample ``mixture`` from ``sr`` to ``model_sr``
    (:func:`course_utils.audio.resample`); up-mix mono to the model's channels (a mono
    signal is copied to each); normalise by the song's mean and standard deviation (as
    Demucs does; on the way back the mean, a DC offset, is shared equally by the sources so
    that they still add up to the mixture); run the model on chunks of ``segment`` seconds that overlap by ``overlap``
    seconds (:func:`chunk_bounds`), one chunk at a time; add the chunks' outputs with
    linear cross-fades (:func:`chunk_weights`), divided by the summed weights; undo the
    normalisation; average the channels back to mono if the input was mono; resample back
    to ``sr`` and trim to the input's length. A song no longer than ``segment`` goes through
    in one pass.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, n_sources, channels, time)``, e.g.
        :class:`torchaudio.models.HDemucs`. Its ``sources`` attribute (a list of names) is
        used when present, and its ``audio_channels`` (default 2).
    mixture : np.ndarray, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    sr : int
        Sample rate of ``mixture``.
    model_sr : int
        Sample rate the model was trained at (44100 for the MUSDB18 models).
    segment, overlap : float
        Chunk length and overlap in seconds (at the model's rate), ``0 <= overlap < segment``.
    sources : sequence of str, optional
        Names to return, in this order (e.g. :data:`course_utils.data.STEMS`); default all of
        ``model.sources`` in the model's order.
    normalize : bool
        Standardise the input (the song's statistics) and undo it on the output.
    device : str or torch.device, optional
        Where to run (default: where the model's parameters are).

    Returns
    -------
    np.ndarray, float32, shape ``(n_sources, *mixture.shape)``
        One estimate per source, at ``sr``, in the input's channel layout.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import torch  # about 2 s to import: only the pretrained-model and chunking code needs it

    y = np.asarray(mixture, dtype=np.float32)
    audio.valid_audio(y)
    audio.check_sample_rates(sr)
    audio.check_sample_rates(model_sr)
    segment_s, overlap_s = _positive(segment, "segment"), float(overlap)
    if not 0 <= overlap_s < segment_s:
        raise ValueError(f"overlap must be in [0, segment={segment_s:g}) seconds, got {overlap!r}.")
    names = list(getattr(model, "sources", []))
    if sources is None:
        if not names:
            raise ValueError("The model has no `sources` attribute: pass sources=... with its output names.")
        wanted = names
    else:
        wanted = [sources] if isinstance(sources, str) else list(sources)
        if names:
            missing = [s for s in wanted if s not in names]
            if missing:
                raise ValueError(f"The model separates {names}; it has no {missing}.")
        else:
            names = wanted
    channels = int(getattr(model, "audio_channels", 2))
    mono = y.ndim == 1
    x = y[None] if mono else y
    if x.shape[0] == 1 and channels > 1:
        x = np.repeat(x, channels, axis=0)
    elif x.shape[0] != channels:
        raise ValueError(f"The model takes {channels} channels; the mixture has {x.shape[0]}.")
    x = audio.resample(x, orig_sr=sr, target_sr=model_sr) if sr != model_sr else x
    n = x.shape[-1]
    mean, std = (float(x.mean()), float(x.std())) if normalize else (0.0, 1.0)
    std = std if std > 0 else 1.0
    x = (x - mean) / std

    if device is None:
        params = next(iter(model.parameters()), None)
        device = params.device if params is not None else torch.device("cpu")
    seg = max(1, int(round(segment_s * model_sr)))
    ovl = min(int(round(overlap_s * model_sr)), seg - 1)
    bounds = chunk_bounds(n, segment=seg, overlap=ovl)
    out = np.zeros((len(names), channels, n), dtype=np.float64)
    total = np.zeros(n, dtype=np.float64)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for i, (start, stop) in enumerate(bounds):
                chunk = torch.from_numpy(np.ascontiguousarray(x[:, start:stop])).to(device)[None]
                est = model(chunk)[0].float().cpu().numpy()
                if est.shape != (len(names), channels, stop - start):
                    raise ValueError(f"The model returned shape {est.shape} for a chunk of shape "
                                     f"{tuple(chunk.shape[1:])}; expected {(len(names), channels, stop - start)}.")
                fade_in = min(ovl, stop - start) if i > 0 else 0
                fade_out = min(ovl, stop - start) if i < len(bounds) - 1 else 0
                w = chunk_weights(stop - start, fade_in=fade_in, fade_out=fade_out)
                out[..., start:stop] += est * w
                total[start:stop] += w
    finally:
        model.train(was_training)
    out = out / total * std + mean / len(names)  # the song's offset, shared so the sources still add up
    keep = [names.index(s) for s in wanted]
    out = out[keep].astype(np.float32)
    if mono:
        out = out.mean(axis=1)
    if sr != model_sr:
        out = audio.resample(out, orig_sr=model_sr, target_sr=sr)
    length = y.shape[-1]
    if out.shape[-1] < length:
        out = np.concatenate([out, np.zeros(out.shape[:-1] + (length - out.shape[-1],), np.float32)], axis=-1)
    return np.ascontiguousarray(out[..., :length], dtype=np.float32)


# --------------------------------------------------------------------------------------------
# torchaudio's pretrained Hybrid Demucs

PRETRAINED_HOST = "download.pytorch.org"
"""Where torchaudio downloads its pretrained weights from."""
PRETRAINED_BUNDLE = "HDEMUCS_HIGH_MUSDB_PLUS"
"""The torchaudio pipeline used: Hybrid Demucs (``hdemucs_high``) trained on MUSDB18-HQ's
training *and test* songs plus 150 extra songs (torchaudio's documentation)."""


def pretrained_cache_path(bundle: str = PRETRAINED_BUNDLE) -> Path:
    """Where torchaudio keeps the downloaded weights of ``bundle`` (under ``torch.hub.get_dir()``).

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import torch
    import torchaudio

    key = getattr(getattr(torchaudio.pipelines, bundle), "_model_path", "models/hdemucs_high_trained.pt")
    return Path(torch.hub.get_dir()) / "torchaudio" / key


def can_reach(host: str, *, port: int = 443, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether a TCP connection to ``host:port`` opens within ``timeout`` seconds (name look-up included).

    Returns
    -------
    ok : bool
    reason : str
        What failed, or ``"reachable"``.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art`` (a quick check before a long download).
    """
    result = {}

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result["ok"] = (True, "reachable")
        except OSError as exc:
            result["ok"] = (False, f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return result.get("ok", (False, f"no answer from {host} within {timeout:g} s"))


def load_pretrained_hdemucs(*, bundle: str = PRETRAINED_BUNDLE, timeout: float = 3.0, device=None):
    """torchaudio's pretrained Hybrid Demucs, or None and the reason, without long waits.

    If the weights are not cached yet, a connection to :data:`PRETRAINED_HOST` is tried for
    at most ``timeout`` seconds first; offline this returns at once. Any failure of the
    download or of loading is caught and explained.

    Parameters
    ----------
    bundle : str
        The name of a ``torchaudio.pipelines`` source separation bundle.
    timeout : float
        Seconds to wait for the server.
    device : str or torch.device, optional

    Returns
    -------
    model : torchaudio.models.HDemucs or None
        In evaluation mode; ``model.sources`` names its outputs.
    sample_rate : int
        The rate the model expects (44100).
    message : str
        Where the weights came from, or why there is no model.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    import torchaudio

    spec = getattr(torchaudio.pipelines, bundle, None)
    if spec is None:
        return None, 44100, f"torchaudio {torchaudio.__version__} has no pipeline {bundle!r}."
    sample_rate = int(spec.sample_rate)
    path = pretrained_cache_path(bundle)
    if not path.is_file():
        ok, why = can_reach(PRETRAINED_HOST, timeout=timeout)
        if not ok:
            return None, sample_rate, (f"the weights of {bundle} are not cached ({path}) and {PRETRAINED_HOST} "
                                       f"cannot be reached ({why}): offline, or the network is blocked.")
    try:
        model = spec.get_model()
    except Exception as exc:  # noqa: BLE001 - a download or a file can fail in many ways
        return None, sample_rate, f"loading {bundle} failed: {type(exc).__name__}: {exc}"
    if device is not None:
        model = model.to(device)
    return model.eval(), sample_rate, f"{bundle} loaded from {path}"
