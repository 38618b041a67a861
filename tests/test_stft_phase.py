"""Tests for what 01_stft_and_phase adds: window envelopes and COLA, phase deviation and
instantaneous frequency (course_utils.spectral), and the notebook's self-checks."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.signal

from course_utils import checks, spectral

SR = 22050


# ------------------------------------------------------------------ window_envelope


@pytest.mark.parametrize("n_fft, hop, n_frames, win", [(512, 128, 7, None), (1024, 256, 10, None),
                                                       (1024, 384, 5, None), (1024, 256, 6, 512)])
def test_window_envelope_power_2_is_librosas_window_sumsquare(n_fft, hop, n_frames, win):
    ours = spectral.window_envelope("hann", n_fft=n_fft, hop_length=hop, n_frames=n_frames, win_length=win, power=2)
    theirs = librosa.filters.window_sumsquare(window="hann", n_frames=n_frames, hop_length=hop, win_length=win,
                                              n_fft=n_fft)
    assert ours.shape == theirs.shape == (n_fft + hop * (n_frames - 1),)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_window_envelope_values_of_hann():
    # periodic Hann: sum of shifted copies = n_fft / (2 hop); of squares = 3 n_fft / (8 hop)
    env1 = spectral.window_envelope(n_fft=1024, hop_length=256, n_frames=12)
    env2 = spectral.window_envelope(n_fft=1024, hop_length=256, n_frames=12, power=2)
    assert env1.dtype == np.float64
    middle = slice(1024, 12 * 256)  # every sample here is covered by 4 frames
    np.testing.assert_allclose(env1[middle], 2.0, atol=1e-6)
    np.testing.assert_allclose(env2[middle], 1.5, atol=1e-6)
    # one frame: the window itself
    np.testing.assert_allclose(spectral.window_envelope(n_fft=64, hop_length=16, n_frames=1),
                               spectral.window_samples(n_fft=64), atol=0)


def test_window_envelope_leaves_gaps_when_the_hop_exceeds_the_window():
    env = spectral.window_envelope(n_fft=8, hop_length=12, n_frames=3)
    w = spectral.window_samples(n_fft=8)
    assert env.shape == (8 + 2 * 12,)
    np.testing.assert_allclose(env[12:20], w, atol=0)
    np.testing.assert_array_equal(env[8:12], 0)  # no frame covers these samples
    np.testing.assert_array_equal(env[20:24], 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_frames=0), "n_frames"),
    (dict(n_frames=2.5), "n_frames"),
    (dict(n_frames=4, power=0), "power"),
    (dict(n_frames=4, hop_length=0), "hop_length"),
    (dict(n_frames=4, win_length=2048), "win_length"),
])
def test_window_envelope_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spectral.window_envelope("hann", n_fft=1024, **kwargs)


# ------------------------------------------------------------------- cola_deviation


@pytest.mark.parametrize("hop", [128, 256, 512])
def test_cola_deviation_is_zero_for_hann_at_n_fft_over_2_or_4(hop):
    assert spectral.cola_deviation("hann", n_fft=1024, hop_length=hop) < 1e-6


def test_cola_deviation_values():
    # Hann, hop 3N/4: the sum dips to 1 - cos(pi/4)... (max - min) / mean = 3/4 * sqrt 2 = 1.06
    assert spectral.cola_deviation("hann", n_fft=1024, hop_length=768) == pytest.approx(0.75 * np.sqrt(2), rel=1e-5)
    # squared Hann at hop N/2: sin^4 + cos^4 runs from 1/2 to 1, mean 3/4: ripple 2/3
    assert spectral.cola_deviation("hann", n_fft=1024, hop_length=512, power=2) == pytest.approx(2 / 3, rel=1e-5)
    assert spectral.cola_deviation("hann", n_fft=1024, hop_length=256, power=2) < 1e-6
    # a hop longer than the window: the envelope reaches zero, ripple = max / mean = hop / sum(w) * max(w)
    assert spectral.cola_deviation("hann", n_fft=1024, hop_length=1536) == pytest.approx(3.0, rel=1e-5)
    # Blackman needs three overlapping frames; Hamming is COLA at N/2
    assert spectral.cola_deviation("blackman", n_fft=1536, hop_length=512) < 1e-6
    assert spectral.cola_deviation("blackman", n_fft=1536, hop_length=768) > 0.3
    assert spectral.cola_deviation("hamming", n_fft=1024, hop_length=512) < 1e-6


def test_cola_deviation_predicts_plain_overlap_add():
    # overlap-adding the inverse DFTs of a constant signal's frames gives back the envelope itself
    n_fft, hop = 512, 384
    Y = spectral.stft(np.ones(20 * n_fft, dtype=np.float32), n_fft=n_fft, hop_length=hop, center=False)
    frames = np.fft.irfft(Y.T, n=n_fft)
    out = np.zeros(n_fft + hop * (len(frames) - 1))
    for m, frame in enumerate(frames):
        out[m * hop:m * hop + n_fft] += frame
    np.testing.assert_allclose(out, spectral.window_envelope(n_fft=n_fft, hop_length=hop, n_frames=len(frames)),
                               atol=1e-5)
    middle = out[2 * n_fft:-2 * n_fft]
    ripple = (middle.max() - middle.min()) / middle.mean()
    assert ripple == pytest.approx(spectral.cola_deviation(n_fft=n_fft, hop_length=hop), rel=1e-3)


# ------------------------------------------------- phase_deviation, instantaneous_frequency


def sine(freq, *, seconds=1.0, phase=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


@pytest.mark.parametrize("freq, n_fft, hop", [(440.0, 1024, 256), (1000.3, 1024, 256), (97.0, 4096, 1024),
                                              (3000.7, 512, 128), (440.0, 1024, 128)])
def test_instantaneous_frequency_of_a_sine(freq, n_fft, hop):
    Y = spectral.stft(sine(freq), n_fft=n_fft, hop_length=hop)
    f = spectral.instantaneous_frequency(Y, sr=SR, hop_length=hop)
    assert f.shape == Y.shape and f.dtype == np.float64
    k = int(round(freq * n_fft / SR))
    inner = f[k - 1:k + 2, 5:-5]  # the bins next to the sine, away from the signal's edges
    np.testing.assert_allclose(inner, freq, atol=0.1)
    # the bin spacing is far coarser than that precision
    assert SR / n_fft > 5


def test_instantaneous_frequency_first_frame_is_nan_and_batches_work():
    Y = spectral.stft(np.stack([sine(440.0), sine(660.0)]))
    f = spectral.instantaneous_frequency(Y, sr=SR)
    assert f.shape == Y.shape
    assert np.isnan(f[..., 0]).all() and np.isfinite(f[..., 1:]).all()
    np.testing.assert_allclose(f[0, 20, 10:-10], 440.0, atol=0.1)   # 440 Hz is near bin 20.4
    np.testing.assert_allclose(f[1, 31, 10:-10], 660.0, atol=0.1)   # 660 Hz is near bin 30.7


@pytest.mark.parametrize("position", [40.0, 40.5, 40.25])
def test_phase_deviation_values(position):
    # a sine at `position` bins turns 2 pi * position * hop / n_fft per frame; bin k expects
    # 2 pi * k * hop / n_fft, so it deviates by 2 pi * (position - k) * hop / n_fft = (position - k) * pi / 2
    n_fft, hop = 1024, 256
    d = spectral.phase_deviation(spectral.stft(sine(position * SR / n_fft)), hop_length=hop)
    for k in (39, 40, 41):
        np.testing.assert_allclose(d[k, 5:-5], (position - k) * np.pi / 2, atol=1e-3)
    assert np.isnan(d[:, 0]).all()
    assert np.nanmin(d) >= -np.pi and np.nanmax(d) < np.pi


def test_phase_deviation_matches_the_textbook_formula():
    rng = np.random.default_rng(3)
    Y = spectral.stft(rng.standard_normal(4000).astype(np.float32), n_fft=256, hop_length=64)
    phi = np.angle(Y).astype(np.float64)
    k = np.arange(Y.shape[0])[:, None]
    expected = np.diff(phi, axis=1) - 2 * np.pi * k * 64 / 256
    got = spectral.phase_deviation(Y, hop_length=64)[:, 1:]
    gap = np.angle(np.exp(1j * (got - expected)))  # equal modulo 2 pi
    np.testing.assert_allclose(gap, 0.0, atol=1e-4)


def test_noise_phase_is_not_steady():
    # a random phase gives instantaneous frequencies spread over +-sr / (2 hop) around each bin
    rng = np.random.default_rng(0)
    Y = np.exp(1j * rng.uniform(-np.pi, np.pi, (513, 200)))
    f = spectral.instantaneous_frequency(Y, sr=SR, hop_length=256)[:, 1:]
    offset = f - spectral.frequencies(sr=SR)[:, None]
    assert np.abs(offset).max() <= SR / (2 * 256) + 1e-9
    assert offset.std() == pytest.approx(SR / (2 * 256) / np.sqrt(3), rel=0.05)  # uniform


@pytest.mark.parametrize("call, match", [
    (lambda: spectral.phase_deviation(np.abs(spectral.stft(sine(440.0)))), "complex"),
    (lambda: spectral.phase_deviation(np.ones(10, dtype=np.complex64)), "shape"),
    (lambda: spectral.phase_deviation(spectral.stft(sine(440.0)), n_fft=2048), "bins"),
    (lambda: spectral.phase_deviation(spectral.stft(sine(440.0)), hop_length=0), "hop_length"),
    (lambda: spectral.instantaneous_frequency(spectral.stft(sine(440.0)), sr=0), "sr"),
])
def test_phase_helpers_invalid(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------- self-checks


@pytest.mark.parametrize("hz, ms, ok, says", [
    (44100 / 2048, 1000 * 512 / 44100, True, "21.53 Hz per bin and 11.61 ms per hop"),
    (21.5, 11.6, True, "Correct"),                     # sensible rounding is accepted
    (None, 11.6, False, "None"),
    (44100 / 1025, 11.61, False, "sr / n_fft apart"),  # divided by the number of bins
    (2048 / 44100, 11.61, False, "upside down"),
    (21.53, 512 / 44100, False, "in seconds"),
    (21.53, 1000 * 2048 / 44100, False, "window's duration"),
    (44100 / 512, 11.61, False, "not on the hop"),
    (30.0, 20.0, False, "is off"),
])
def test_check_resolution(hz, ms, ok, says, capsys):
    assert checks.check_resolution(hz, ms, sr=44100, n_fft=2048, hop_length=512) is ok
    out = capsys.readouterr().out
    assert out.startswith("Correct" if ok else "Not yet") and says in out


@pytest.mark.parametrize("hop, ok, says", [
    (512, True, "largest COLA hop"),
    (512.0, True, "Correct"),
    (384, False, "a larger hop does too"),
    (768, False, "single cosine"),
    (600, False, "ripple"),
    (None, False, "None"),
    (0, False, "between 1 and"),
    (2000, False, "between 1 and"),
    (2.5, False, "whole number"),
])
def test_check_cola_hop(hop, ok, says, capsys):
    assert checks.check_cola_hop(hop, window="blackman", n_fft=1536) is ok
    assert says in capsys.readouterr().out


def test_check_cola_hop_for_hann_is_half_the_window(capsys):
    assert checks.check_cola_hop(512, window="hann", n_fft=1024)
    assert not checks.check_cola_hop(256, window="hann", n_fft=1024)
    assert "larger hop" in capsys.readouterr().out


@pytest.mark.parametrize("answer, ok, says", [
    (1 + 100000 // 256, True, "391 frames"),
    (391.0, True, "Correct"),
    (100000 // 256, False, "one short"),
    (1 + (100000 - 1024) // 256, False, "center=False"),
    (100000 / 256, False, "whole number"),
    (400, False, "off by +9"),
    (None, False, "None"),
    ("many", False, "whole number"),
])
def test_check_n_frames(answer, ok, says, capsys):
    assert checks.check_n_frames(answer, n_samples=100000, n_fft=1024, hop_length=256) is ok
    assert says in capsys.readouterr().out


def test_check_n_frames_agrees_with_stft_for_both_centerings(capsys):
    for n in (1023, 1024, 5000):
        assert checks.check_n_frames(1 + n // 128, n_samples=n, n_fft=512, hop_length=128)
        assert checks.check_n_frames(1 + (n - 512) // 128, n_samples=n, n_fft=512, hop_length=128, center=False)
    # a length that is a multiple of the hop: n // hop is one short
    assert not checks.check_n_frames(1024 // 128, n_samples=1024, n_fft=512, hop_length=128)
    assert "one short" in capsys.readouterr().out


def test_check_stft_accepts_a_hand_stft_and_names_the_usual_mistakes(capsys):
    y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    window = scipy.signal.get_window("hann", 1024)

    def frames(x, n_fft, hop):
        return np.stack([x[t * hop:t * hop + n_fft] for t in range(1 + (len(x) - n_fft) // hop)])

    def right(y, n_fft=1024, hop_length=256):
        return np.fft.rfft(frames(np.pad(y, n_fft // 2), n_fft, hop_length) * window, axis=-1).T

    assert checks.check_stft(right, y)
    assert "equals spectral.stft" in capsys.readouterr().out
    for wrong, says in [
        (lambda y, n_fft, hop_length: right(y, n_fft, hop_length).T, "put frequencies first"),
        (lambda y, n_fft, hop_length: np.fft.rfft(frames(y, n_fft, hop_length) * window, axis=-1).T, "n_fft // 2 zeros"),
        (lambda y, n_fft, hop_length: np.fft.rfft(frames(np.pad(y, n_fft // 2), n_fft, hop_length), axis=-1).T,
         "Hann window"),
        (None, "replace None"),
    ]:
        assert not checks.check_stft(wrong, y)
        assert says in capsys.readouterr().out
