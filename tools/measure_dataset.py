"""Listen to the bundled set with numbers: what a listener would notice, measured from the files.

    python tools/measure_dataset.py [--split test] [--json PATH] [--readme]

For every song it measures, from the shipped stems:

- **unvoiced**: the fraction of the vocals' active frames that are unvoiced or sibilant, i.e.
  noise-like (spectral flatness above 0.3) or with more than 20 % of their energy above 4 kHz.
  Sung words have consonants (plosives, fricatives, sibilants); a choir pad has none.
- **vibrato**: rate (Hz) and depth (cents, the amplitude of the pitch oscillation) of the
  vocals' F0 (librosa's pYIN), in every voiced run of 0.4 s or more: the F0 in cents minus its
  0.25 s moving median, whose strongest component between 3 and 9 Hz is the rate; depth is
  sqrt(2) times its standard deviation. Singers: about 5-7 Hz and 30-100 cents; pYIN's own
  jitter on a steady tone reads as about 10 cents.
- **ILD**: each stem's inter-channel level difference in dB, ``20 log10(rms(left) / rms(right))``
  (0 for a mono stem): the panning spread of the mix.
- **T60**: the reverberation time of the mixture, estimated blindly from its free decays:
  stretches of at least 120 ms where the energy envelope (10 ms frames) falls steadily, from at
  most 20 dB below the song's peak, each fitted with a line; T60 is ``60 / slope``, the median
  over stretches. A dry mix of plucked and released notes shows the notes' own decays.
- **peak**: the largest absolute sample of any file (1.0 would clip).
- **overlap**: in time, the fraction of the mixture's active frames in which two or more stems
  are active (within 40 dB of their own peak); in frequency, the fraction of the mixture's energy
  in time-frequency bins where the loudest stem holds less than 90 % of the stems' power.

``--readme`` writes the summary table into ``data/README.md`` between its ``measures`` markers
and every song's measures to ``data/measures.json``, so that the numbers there are computed, not
typed (the test recomputes songs against the JSON and the table against the JSON). ``tests/test_measure_dataset.py`` checks each
measure on signals whose answer is known.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import librosa
import numpy as np
import scipy.ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_utils import data  # noqa: E402

N_FFT, HOP = 1024, 256
START, END = "<!-- measures:start -->", "<!-- measures:end -->"
MEASURES = ROOT / "data" / "measures.json"


def _power(x: np.ndarray) -> np.ndarray:
    return np.abs(librosa.stft(np.asarray(x, dtype=np.float64), n_fft=N_FFT, hop_length=HOP)) ** 2


def unvoiced_fraction(vocals: np.ndarray, *, sr: int) -> float:
    """Fraction of the active frames of a mono vocal stem that are noise-like or sibilant."""
    P = _power(vocals)
    energy = P.sum(axis=0)
    active = energy > 1e-4 * energy.max()
    flatness = librosa.feature.spectral_flatness(S=np.sqrt(P))[0]
    high = P[librosa.fft_frequencies(sr=sr, n_fft=N_FFT) > 4000].sum(axis=0) / np.maximum(energy, 1e-30)
    return float(np.mean((flatness > 0.3) | (high > 0.2), where=active)) if active.any() else float("nan")


def vibrato(vocals: np.ndarray, *, sr: int) -> tuple[float, float]:
    """Median vibrato rate (Hz) and depth (cents) over the voiced runs of 0.4 s or more."""
    f0, voiced, _ = librosa.pyin(np.asarray(vocals, dtype=np.float64), fmin=70, fmax=1100, sr=sr,
                                 frame_length=2048, hop_length=HOP)
    rate = sr / HOP
    cents = 1200 * np.log2(np.where(voiced, f0, 1.0) / 440)
    frames = np.flatnonzero(voiced)
    rates, depths = [], []
    for run in np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1):
        if len(run) < 0.4 * rate:
            continue
        c = cents[run]
        wobble = c - scipy.ndimage.median_filter(c, size=int(0.25 * rate) | 1, mode="nearest")
        spectrum = np.abs(np.fft.rfft(wobble * np.hanning(len(wobble)), n=2048))
        freqs = np.fft.rfftfreq(2048, 1 / rate)
        band = (freqs >= 3) & (freqs <= 9)
        rates.append(freqs[band][np.argmax(spectrum[band])])
        depths.append(np.sqrt(2) * wobble.std())
    if not rates:
        return float("nan"), float("nan")
    return float(np.median(rates)), float(np.median(depths))


def level_difference_db(stem: np.ndarray) -> float:
    """``20 log10(rms(left) / rms(right))`` of a stereo stem; 0 for mono."""
    stem = np.asarray(stem, dtype=np.float64)
    if stem.ndim == 1 or stem.shape[0] == 1:
        return 0.0
    rms = np.sqrt(np.mean(stem[:2] ** 2, axis=-1))
    return float(20 * np.log10(rms[0] / rms[1]))


def decay_time(mixture: np.ndarray, *, sr: int, min_length: float = 0.12) -> float:
    """Blind T60 (s) of a signal: the median over its free decays of ``60 / slope``."""
    x = np.asarray(mixture, dtype=np.float64)
    x = x.mean(axis=0) if x.ndim == 2 else x
    hop = int(0.01 * sr)
    frames = np.lib.stride_tricks.sliding_window_view(x, 2 * hop)[::hop]
    level = 10 * np.log10(np.mean(frames**2, axis=-1) + 1e-20)
    level = scipy.ndimage.uniform_filter1d(level, 3)  # smooth over 30 ms: single-frame ripple is not a rise
    falling = np.diff(level) < 0
    times = np.arange(len(level)) * hop / sr
    t60 = []
    starts = np.flatnonzero(np.diff(np.concatenate([[0], falling.astype(int)])) == 1)
    for start in starts:
        stop = start
        while stop < len(falling) and falling[stop]:
            stop += 1
        if (stop - start) * hop / sr < min_length or level[start] < level.max() - 20:
            continue
        slope = np.polyfit(times[start:stop + 1], level[start:stop + 1], 1)[0]
        if slope < 0:
            t60.append(-60 / slope)
    return float(np.median(t60)) if t60 else float("nan")


def overlap(stems: dict[str, np.ndarray]) -> tuple[float, float]:
    """Time overlap (fraction of active frames with two or more active stems) and frequency
    overlap (fraction of the mixture's energy in bins that no stem holds 90 % of)."""
    powers = np.stack([_power(np.asarray(s).mean(axis=0) if np.ndim(s) == 2 else s) for s in stems.values()])
    frame = powers.sum(axis=1)  # (n_stems, n_frames)
    active = frame > 1e-4 * frame.max(axis=1, keepdims=True)
    any_active = active.any(axis=0)
    in_time = float(np.mean(active.sum(axis=0) >= 2, where=any_active))
    total = powers.sum(axis=0)
    shared = powers.max(axis=0) < 0.9 * total
    in_freq = float(total[shared].sum() / total.sum())
    return in_time, in_freq


def measure(track) -> dict:
    """Every measure of one song."""
    vocals = track.stems["vocals"]
    mono_vocals = vocals.mean(axis=0) if vocals.ndim == 2 else vocals
    rate, depth = vibrato(mono_vocals, sr=track.sr)
    in_time, in_freq = overlap(track.stems)
    return {"song": track.name, "unvoiced": unvoiced_fraction(mono_vocals, sr=track.sr),
            "vibrato_hz": rate, "vibrato_cents": depth,
            **{f"ild_{s}_db": level_difference_db(x) for s, x in track.stems.items()},
            "t60_s": decay_time(track.mixture, sr=track.sr),
            "peak": float(max(np.abs(x).max() for x in [track.mixture, *track.stems.values()])),
            "overlap_time": in_time, "overlap_freq": in_freq}


def summary(rows: list[dict]) -> str:
    """The README's table: median and range of every measure over the songs."""
    keys = [k for k in rows[0] if k != "song"]
    lines = [f"Measured by `python tools/measure_dataset.py --readme` on {len(rows)} songs "
             "(median, and range over the songs):", "",
             "| measure | median | min | max |", "|---|---:|---:|---:|"]
    for key in keys:
        values = np.array([r[key] for r in rows], dtype=float)
        ok = values[np.isfinite(values)]
        cells = [f"{f(ok):.3g}" if ok.size else "n/a" for f in (np.median, np.min, np.max)]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=data.SPLITS, help="one split only (default: all)")
    parser.add_argument("--json", type=Path, help="write every song's measures there")
    parser.add_argument("--readme", action="store_true",
                        help="write the summary into data/README.md and every song's measures to data/measures.json")
    args = parser.parse_args(argv)
    tracks = [t for split in ([args.split] if args.split else data.SPLITS)
              for t in data.load_dataset("bundled", split=split, mono=False)]
    rows = [measure(t) for t in tracks]
    table = summary(rows)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.readme:
        MEASURES.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        readme = ROOT / "data" / "README.md"
        text = readme.read_text(encoding="utf-8")
        if START not in text:
            raise SystemExit(f"{readme} has no {START} ... {END} markers")
        text = re.sub(f"{re.escape(START)}.*?{re.escape(END)}", f"{START}\n{table}\n{END}", text, flags=re.S)
        readme.write_text(text, encoding="utf-8")
    return rows


if __name__ == "__main__":
    main()
