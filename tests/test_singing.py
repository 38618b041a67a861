"""tools/singing.py, the bundled set's singing voice: words (consonants), vibrato and vowel formants,
measured as a listener would hear them (tools/measure_dataset.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import measure_dataset as measure  # noqa: E402
import singing  # noqa: E402

SR = singing.SR


@pytest.fixture(scope="module", params=["low", "high"])
def demo(request):
    notes, duration = singing.demo_notes(seed=3, voice=request.param)
    return request.param, notes, duration, singing.sing(notes, duration=duration, voice=request.param, seed=3)


def test_a_demo_line_is_a_finite_signal_of_its_length_and_a_seed_repeats_it(demo):
    voice, notes, duration, y = demo
    assert y.dtype == np.float32 and y.shape == (round(duration * SR),)
    assert np.isfinite(y).all() and np.abs(y).max() == pytest.approx(0.5)
    np.testing.assert_array_equal(singing.sing(notes, duration=duration, voice=voice, seed=3), y)
    assert not np.array_equal(singing.sing(notes, duration=duration, voice=voice, seed=4), y)


def test_it_sings_consonants_and_a_vibrato(demo):
    _, _, _, y = demo
    assert 0.02 < measure.unvoiced_fraction(y, sr=SR) < 0.3  # a choir pad measures 0
    rate, depth = measure.vibrato(y, sr=SR)
    # drawn 40-80 cents, read lower: it grows in after 100 ms of each note and pYIN smooths it;
    # a choir pad reads about 8 cents of tracker jitter
    assert 4 < rate < 7 and 20 < depth < 100


def band_energy(y, low, high):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    return spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum()


@pytest.mark.parametrize("voice", ["low", "high"])
def test_vowels_have_their_formants(voice):
    def vowel(v):
        y = singing.sing([singing.Note(0.1, 1.6, 43.0, (v,))], duration=1.7, voice=voice)  # G2: dense harmonics
        return y[int(0.4 * SR):int(1.4 * SR)]

    a, i = vowel("a"), vowel("i")
    assert band_energy(a, 550, 1000) > 3 * band_energy(i, 550, 1000)  # /a/: a high F1 (about 730-850 Hz)
    assert band_energy(i, 2000, 3400) > 3 * band_energy(a, 2000, 3400)  # /i/: a high F2 (2290-2790 Hz)


def test_a_sibilant_is_mostly_above_4_khz():
    y = singing.sing([singing.Note(0.3, 1.0, 55.0, ("s", "a"))], duration=1.2)
    s = y[int(0.3 * SR - 0.08 * SR):int(0.3 * SR - 0.01 * SR)]  # the /s/ just before the note
    assert band_energy(s, 4000, SR / 2) > 0.6
    assert band_energy(y[int(0.5 * SR):int(0.9 * SR)], 4000, SR / 2) < 0.05  # the vowel is not


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="voice"):
        singing.sing([], duration=1.0, voice="alto")
    with pytest.raises(ValueError, match="no vowel"):
        singing.sing([singing.Note(0.1, 0.5, 60.0, ("s", "t"))], duration=1.0)
    assert set(p for word in singing.LYRICS for syllable in word for p in syllable) <= set(singing.PHONEMES)
