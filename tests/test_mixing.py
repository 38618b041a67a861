"""The bundled set's mixing desk, measured as a listener would hear it (tools/measure_dataset.py):
panning, the room's decay and the stem images that add up (course_utils.mixing, at load time),
EQ and compression (tools/mixing.py's channel strip, when the set is made)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import measure_dataset as measure  # noqa: E402
import mixing as strip  # noqa: E402

from course_utils import mixing  # noqa: E402

SR = 22050


def noise(seconds=1.0, seed=0):
    return np.random.default_rng(seed).standard_normal(int(seconds * SR))


@pytest.mark.parametrize("position", [-1.0, -0.4, 0.0, 0.7])
def test_constant_power_pan_and_its_level_difference(position):
    x = noise()
    y = mixing.pan(x, position)
    np.testing.assert_allclose(y[0] ** 2 + y[1] ** 2, 2 * x**2, rtol=1e-12)
    theta = np.pi * (position + 1) / 4
    if position > -1:
        assert measure.level_difference_db(y) == pytest.approx(20 * np.log10(np.cos(theta) / np.sin(theta)))
    with pytest.raises(ValueError, match="position"):
        mixing.pan(x, 1.5)


@pytest.mark.parametrize("t60", [0.4, 1.2])
def test_the_room_decays_in_its_t60(t60):
    impulse = mixing.room(sr=SR, t60=t60, seed=1)
    assert impulse.shape[0] == 2 and np.allclose(np.sum(impulse**2, axis=-1), 1)
    assert abs(np.corrcoef(impulse)[0, 1]) < 0.1  # the two ears hear decorrelated reverb
    assert measure.decay_time(impulse[0], sr=SR) == pytest.approx(t60, rel=0.2)
    np.testing.assert_array_equal(mixing.room(sr=SR, t60=t60, seed=1), impulse)  # a seed repeats it


def test_shelves_boost_and_cut_their_band():
    x = noise(2.0)
    y = strip.shelf_eq(x, sr=SR, low_db=6.0, high_db=-6.0)
    f = np.fft.rfftfreq(x.size, 1 / SR)
    ratio = np.abs(np.fft.rfft(y)) ** 2 / np.abs(np.fft.rfft(x)) ** 2
    assert 10 * np.log10(np.mean(ratio[(f > 20) & (f < 60)])) == pytest.approx(6.0, abs=1.0)
    assert 10 * np.log10(np.mean(ratio[f > 9000])) == pytest.approx(-6.0, abs=1.0)
    assert 10 * np.log10(np.mean(ratio[(f > 900) & (f < 1100)])) == pytest.approx(0.0, abs=0.5)


def test_compression_turns_loud_passages_down_and_leaves_quiet_ones():
    x = noise(2.0) * np.where(np.arange(2 * SR) < SR, 0.01, 0.5)  # quiet second, loud second
    y = strip.compress(x, sr=SR, threshold_db=-20.0, ratio=4.0)
    quiet = 20 * np.log10(np.std(y[SR // 2:SR]) / np.std(x[SR // 2:SR]))
    loud = 20 * np.log10(np.std(y[SR + SR // 2:]) / np.std(x[SR + SR // 2:]))
    assert quiet == pytest.approx(0.0, abs=0.1)
    assert loud == pytest.approx(-(20 * np.log10(0.5) + 20) * (1 - 1 / 4), abs=1.5)  # about -10 dB
    with pytest.raises(ValueError, match="ratio"):
        strip.compress(x, sr=SR, ratio=0.5)


def test_the_stem_images_add_up_to_a_stereo_mixture():
    strips = {"vocals": noise(1.5, 1), "bass": noise(1.5, 2), "drums": noise(1.5, 3)}
    settings = {"t60": 0.6, "seed": 4, "stems": {"vocals": {"position": 0.0, "send_db": -10.0},
                                                  "bass": {"position": -0.2, "send_db": -30.0},
                                                  "drums": {"position": 0.3, "send_db": -60.0}}}
    out = mixing.render(strips, settings, sr=SR)
    assert set(out) == {"vocals", "bass", "drums", "mixture"}
    assert all(x.shape == (2, strips["vocals"].size) and x.dtype == np.float32 for x in out.values())
    np.testing.assert_allclose(out["mixture"], out["vocals"] + out["bass"] + out["drums"], atol=1e-5)
    assert measure.level_difference_db(out["bass"]) > 0.5  # panned left
    assert measure.level_difference_db(out["drums"]) < -0.5  # panned right
    assert abs(measure.level_difference_db(out["vocals"])) < 0.5  # in the centre
    # the wet part is the strip convolved with the room, scaled by the send
    wet = out["vocals"] - mixing.pan(strips["vocals"], 0.0)
    impulse = mixing.room(sr=SR, t60=0.6, seed=4)
    n = strips["vocals"].size
    expected = 10 ** (-10 / 20) * signal.fftconvolve(strips["vocals"], impulse[1])[:n]  # direct: 25 s
    body = slice(0, n - int(mixing.TAIL_FADE * SR) - 1)  # the last 50 ms fade out
    np.testing.assert_allclose(wet[1, body], expected[body], atol=1e-4)
    assert np.all(out["mixture"][:, -1] == 0)
    # linear: scaling the strips scales the mix (the generator sets the level this way)
    half = mixing.render({k: v / 2 for k, v in strips.items()}, settings, sr=SR)
    np.testing.assert_allclose(half["mixture"], out["mixture"] / 2, atol=1e-5)


def test_a_channel_strip_is_eq_then_compression():
    x = noise(1.0)
    y = strip.channel_strip(x, sr=SR, low_db=3.0, high_db=-2.0, threshold_db=-25.0, ratio=4.0)
    np.testing.assert_allclose(y, strip.compress(strip.shelf_eq(x, sr=SR, low_db=3.0, high_db=-2.0), sr=SR,
                                                 threshold_db=-25.0, ratio=4.0))
    np.testing.assert_allclose(strip.channel_strip(x, sr=SR), x, atol=1e-12)  # flat and uncompressed: unchanged
