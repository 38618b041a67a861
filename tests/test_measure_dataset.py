"""tools/measure_dataset.py: each listener's measure on a signal whose answer is known, and the
data README's numbers recomputed from the files."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import measure_dataset as m  # noqa: E402

from course_utils import data  # noqa: E402

SR = 22050
T = np.arange(int(2.0 * SR)) / SR


def sung(f0):
    """A harmonic tone following the pitch curve ``f0`` (Hz per sample)."""
    phase = 2 * np.pi * np.cumsum(f0) / SR
    return 0.2 * sum(np.sin(k * phase) / k for k in range(1, 8))


def test_vibrato_rate_and_depth_of_a_known_vibrato():
    rate, depth = m.vibrato(sung(330 * 2 ** (60 / 1200 * np.sin(2 * np.pi * 5.5 * T))), sr=SR)
    assert rate == pytest.approx(5.5, abs=0.3)
    assert 45 < depth < 70  # +-60 cents; pYIN's smoothing reads it about 10 % low
    _, steady = m.vibrato(sung(np.full(T.size, 330.0)), sr=SR)
    assert steady < 15  # a steady tone: only the tracker's jitter


def test_unvoiced_fraction_counts_the_noisy_frames():
    tone = sung(np.full(T.size, 330.0))
    assert m.unvoiced_fraction(tone, sr=SR) == 0.0
    hiss = tone.copy()
    hiss[int(0.5 * SR):int(0.8 * SR)] = 0.3 * np.random.default_rng(0).standard_normal(int(0.3 * SR))
    assert m.unvoiced_fraction(hiss, sr=SR) == pytest.approx(0.15, abs=0.03)  # 0.3 s of 2 s


def test_level_difference_of_a_panned_stem():
    tone = sung(np.full(T.size, 220.0))
    assert m.level_difference_db(np.stack([tone, 0.5 * tone])) == pytest.approx(20 * np.log10(2))
    assert m.level_difference_db(tone) == 0.0


def test_decay_time_of_exponentially_decaying_bursts():
    rng = np.random.default_rng(1)
    x = np.zeros(int(4.5 * SR))
    n = int(1.2 * SR)
    for start in (0.2, 1.6, 3.0):
        i = int(start * SR)
        x[i:i + n] += rng.standard_normal(n) * 10 ** (-3 * np.arange(n) / SR / 0.6)  # -60 dB in 0.6 s
    assert m.decay_time(x, sr=SR) == pytest.approx(0.6, rel=0.15)


def test_overlap_in_time_and_frequency():
    low, high = sung(np.full(T.size, 110.0)), sung(np.full(T.size, 1760.0))
    half = T.size // 2
    apart = {"a": np.where(T < 1.0, low, 0.0), "b": np.where(T >= 1.0, high, 0.0)}
    in_time, in_freq = m.overlap(apart)
    assert in_time < 0.05 and in_freq < 0.05
    together = {"a": low[:half], "b": low[:half].copy()}  # the same sound twice: every bin is shared
    assert m.overlap(together) == pytest.approx((1.0, 1.0))


def test_the_data_readme_numbers_are_computed_from_the_files():
    rows = json.loads((ROOT / "data" / "measures.json").read_text())
    assert len(rows) == sum(len(data.load_dataset("bundled", split=s, verify=False)) for s in data.SPLITS)
    shipped = {r["song"]: r for r in rows}
    for split in ("train", "test"):
        track = data.load_dataset("bundled", split=split, mono=False, verify=False)[0]
        again = m.measure(track)
        for key, value in again.items():
            if key != "song":
                assert value == pytest.approx(shipped[track.name][key], rel=1e-6, abs=1e-9, nan_ok=True), key
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    table = re.search(f"{re.escape(m.START)}\n(.*)\n{re.escape(m.END)}", readme, re.S).group(1)
    assert table == m.summary(rows), "run `python tools/measure_dataset.py --readme`"
    assert max(r["peak"] for r in rows) < 1.0  # nothing clips
