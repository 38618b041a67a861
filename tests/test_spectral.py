"""Tests for course_utils.spectral: one STFT convention across numpy, librosa and torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course_utils import spectral
from course_utils.audio import AudioError

SR = 22050
N = 5000  # not a multiple of any hop below, so the last frame is partial
PAIRS = list(itertools.product(spectral.BACKENDS, repeat=2))
# (n_fft, hop_length, win_length): the course default, a shorter window, 50 % overlap
SETTINGS = [(1024, None, None), (1024, None, 512), (512, 256, None)]
SETTING_IDS = ["default", "win<n_fft", "hop=n_fft/2"]


@pytest.fixture(scope="module")
def signal():
    rng = np.random.default_rng(2024)
    return rng.uniform(-0.3, 0.3, (2, N)).astype(np.float32)


def _hop(n_fft, hop, win):
    return hop if hop is not None else (win or n_fft) // 4


def test_constants():
    assert spectral.N_FFT == 1024 and spectral.HOP_LENGTH == 256
    assert set(spectral.BACKENDS) == {"numpy", "librosa", "torch"}


@pytest.mark.parametrize("n_fft, hop, win", SETTINGS, ids=SETTING_IDS)
@pytest.mark.parametrize("a, b", [p for p in PAIRS if p[0] < p[1]])
def test_stft_backends_agree(signal, a, b, n_fft, hop, win):
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win)
    Sa = spectral.stft(signal, backend=a, **kw)
    Sb = spectral.stft(signal, backend=b, **kw)
    expected = (2, n_fft // 2 + 1, 1 + N // _hop(n_fft, hop, win))
    assert Sa.shape == Sb.shape == expected
    assert Sa.dtype == Sb.dtype == np.complex64
    assert np.abs(Sa).max() > 1.0  # a real signal, not zeros
    np.testing.assert_allclose(Sa, Sb, rtol=0, atol=1e-5)


@pytest.mark.parametrize("n", [1023, 1024, 1025, 1151, 1152, 1153])
@pytest.mark.parametrize("backend", spectral.BACKENDS)
def test_stft_frame_count(backend, n):
    # centred frames: 1 + n // hop, whatever the remainder (hop = 128 here)
    y = np.linspace(-0.5, 0.5, n, dtype=np.float32)
    S = spectral.stft(y, n_fft=512, backend=backend)
    assert S.shape == (257, 1 + n // 128)
    np.testing.assert_allclose(spectral.istft(S, length=n, backend=backend), y, atol=1e-5)


@pytest.mark.parametrize("backend", spectral.BACKENDS)
def test_stft_matches_a_direct_dft(signal, backend):
    # frame t is centred on sample t * hop: a plain DFT of the windowed, zero-padded signal
    n_fft, hop = 512, 128
    S = spectral.stft(signal[0], n_fft=n_fft, hop_length=hop, backend=backend)
    padded = np.pad(signal[0].astype(np.float64), n_fft // 2)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    for t in (0, 7, S.shape[-1] - 1):
        frame = padded[t * hop:t * hop + n_fft] * w
        np.testing.assert_allclose(S[:, t], np.fft.rfft(frame), rtol=0, atol=1e-5)


@pytest.mark.parametrize("n_fft, hop, win", SETTINGS, ids=SETTING_IDS)
@pytest.mark.parametrize("fwd, inv", PAIRS)
def test_istft_reconstructs(signal, fwd, inv, n_fft, hop, win):
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win)
    S = spectral.stft(signal, backend=fwd, **kw)
    y = spectral.istft(S, length=N, backend=inv, **kw)
    assert y.shape == signal.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, signal, rtol=0, atol=1e-5)


@pytest.mark.parametrize("backend", spectral.BACKENDS)
def test_istft_infers_n_fft_and_default_length(signal, backend):
    S = spectral.stft(signal[0], n_fft=512)
    y = spectral.istft(S, backend=backend)  # n_fft from the shape, hop = 512 // 4
    assert y.shape == (128 * (S.shape[-1] - 1),)  # librosa's length without length=
    np.testing.assert_allclose(y, signal[0, :y.size], rtol=0, atol=1e-5)


@pytest.mark.filterwarnings("ignore:The length of signal is shorter than the length parameter")
@pytest.mark.parametrize("backend", spectral.BACKENDS)
def test_istft_pads_to_length(signal, backend):
    S = spectral.stft(signal[0], n_fft=512, backend=backend)
    y = spectral.istft(S, length=N + 300, backend=backend)
    assert y.shape == (N + 300,)
    np.testing.assert_allclose(y[:N], signal[0], atol=1e-5)
    # past the last frame's window (centre (n_frames - 1) * hop, plus n_fft / 2): zeros
    covered = (S.shape[-1] - 1) * 128 + 256
    assert covered < N + 300
    np.testing.assert_array_equal(y[covered:], 0)


def test_stft_keeps_leading_dimensions(signal):
    batch = np.stack([signal, 0.5 * signal, -signal])  # (3, 2, N)
    S = spectral.stft(batch, n_fft=512)
    assert S.shape == (3, 2, 257, 1 + N // 128)
    np.testing.assert_allclose(S[1], 0.5 * S[0], atol=1e-6)
    np.testing.assert_allclose(S[2, 1], spectral.stft(-signal[1], n_fft=512), atol=1e-6)
    np.testing.assert_allclose(spectral.istft(S, length=N), batch, atol=1e-5)


def test_stft_sine_peaks_at_its_bin():
    n_fft = 1024
    k = 40  # exactly on bin 40
    t = np.arange(SR) / SR
    y = np.sin(2 * np.pi * k * SR / n_fft * t).astype(np.float32)
    S = np.abs(spectral.stft(y, n_fft=n_fft))
    mid = S[:, S.shape[1] // 2]
    assert np.argmax(mid) == k
    freqs = spectral.frequencies(sr=SR, n_fft=n_fft)
    assert freqs[np.argmax(mid)] == pytest.approx(k * SR / n_fft)
    # a unit sine on a bin: |X| = sum(w) / 2 = n_fft / 4 for the periodic Hann window
    assert mid[k] == pytest.approx(n_fft / 4, rel=1e-4)


# ----------------------------------------------------------------------- torch


def test_torch_input_returns_tensor_and_gradient_flows(signal):
    x = torch.tensor(signal, requires_grad=True)
    S = spectral.stft(x, n_fft=512)
    assert isinstance(S, torch.Tensor) and S.is_complex()
    assert tuple(S.shape) == (2, 257, 1 + N // 128)
    np.testing.assert_allclose(S.detach().numpy(), spectral.stft(signal, n_fft=512), atol=1e-5)
    S.abs().sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_torch_istft_round_trip_keeps_tensor(signal):
    x = torch.tensor(signal, dtype=torch.float64)
    S = spectral.stft(x, n_fft=512, hop_length=256)
    assert S.dtype == torch.complex128
    y = spectral.istft(S, hop_length=256, length=N)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float64
    torch.testing.assert_close(y, x, rtol=0, atol=1e-9)


# ----------------------------------------------------------- axes and windows


@pytest.mark.parametrize("sr, n_fft", [(22050, 1024), (44100, 2048), (8000, 256)])
def test_frequencies(sr, n_fft):
    f = spectral.frequencies(sr=sr, n_fft=n_fft)
    assert f.shape == (n_fft // 2 + 1,)
    assert f[0] == 0 and f[-1] == pytest.approx(sr / 2)
    np.testing.assert_allclose(np.diff(f), sr / n_fft)


def test_frequencies_default_n_fft():
    assert spectral.frequencies(sr=22050).shape == (spectral.N_FFT // 2 + 1,)


@pytest.mark.parametrize("sr, hop", [(22050, 256), (44100, 512), (16000, 160)])
def test_frame_times(sr, hop):
    t = spectral.frame_times(20, sr=sr, hop_length=hop)
    assert t.shape == (20,) and t[0] == 0
    np.testing.assert_allclose(np.diff(t), hop / sr)
    assert t[-1] == pytest.approx(19 * hop / sr)


def test_frame_times_locate_a_click():
    # centred frames: the frame whose time is nearest a click holds the most energy
    hop, click = 256, 5000
    y = np.zeros(SR, dtype=np.float32)
    y[click] = 1.0
    S = np.abs(spectral.stft(y, n_fft=1024, hop_length=hop))
    t = spectral.frame_times(S.shape[1], sr=SR, hop_length=hop)
    assert np.argmin(np.abs(t - click / SR)) == np.argmax(S.sum(axis=0))


def test_window_samples():
    w = spectral.window_samples(n_fft=8)
    np.testing.assert_allclose(w, 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 8), atol=1e-7)
    short = spectral.window_samples(n_fft=16, win_length=8)
    assert short.shape == (16,) and short.dtype == np.float32
    np.testing.assert_array_equal(short[:4], 0)
    np.testing.assert_array_equal(short[12:], 0)
    np.testing.assert_allclose(short[4:12], w, atol=1e-7)


# ------------------------------------------------------------- amplitude_to_db


def test_amplitude_to_db_max_is_zero_and_factor_ten_is_20_db():
    S = np.array([[2.0, 0.2], [0.02, 2.0]])
    db = spectral.amplitude_to_db(S)
    assert db.dtype == np.float32 and db.shape == S.shape
    np.testing.assert_allclose(db, [[0.0, -20.0], [-40.0, 0.0]], atol=1e-4)


def test_amplitude_to_db_top_db_floor():
    S = np.logspace(0, -6, 13)[None, :]  # 0 dB down to -120 dB in 10 dB steps
    db = spectral.amplitude_to_db(S, top_db=50.0)
    assert db.max() == pytest.approx(0.0) and db.min() == pytest.approx(-50.0)
    np.testing.assert_allclose(db[0, :6], -10 * np.arange(6), atol=1e-4)
    np.testing.assert_allclose(db[0, 6:], -50.0, atol=1e-4)
    assert spectral.amplitude_to_db(S).min() == pytest.approx(-80.0)  # default top_db
    no_floor = spectral.amplitude_to_db(S, top_db=None)
    assert no_floor.min() == pytest.approx(-100.0, abs=1e-3)  # amin=1e-5 stops it


def test_amplitude_to_db_top_db_is_below_the_maximum_not_below_ref():
    S = np.array([[1.0, 0.1, 1e-3]])
    db = spectral.amplitude_to_db(S, ref=0.1, top_db=30.0)  # max +20 dB, floor -10 dB
    np.testing.assert_allclose(db, [[20.0, 0.0, -10.0]], atol=1e-4)


def test_amplitude_to_db_ref_and_complex_input():
    S = np.array([[1.0, 0.1]])
    np.testing.assert_allclose(spectral.amplitude_to_db(S, ref=0.1), [[20.0, 0.0]], atol=1e-4)
    np.testing.assert_allclose(spectral.amplitude_to_db(np.array([[3j, 0.3 + 0j]])), [[0.0, -20.0]], atol=1e-4)


def test_amplitude_to_db_silence_is_finite():
    db = spectral.amplitude_to_db(np.zeros((3, 4)))
    assert np.isfinite(db).all()
    np.testing.assert_array_equal(db, 0.0)


# -------------------------------------------------------------- invalid input


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_fft=512, win_length=1024), "win_length"),
    (dict(n_fft=512, win_length=0), "win_length"),
    (dict(n_fft=512, hop_length=0), "hop_length"),
    (dict(n_fft=512, hop_length=-4), "hop_length"),
    (dict(backend="scipy"), "backend"),
])
def test_stft_invalid_arguments(signal, kwargs, match):
    with pytest.raises(ValueError, match=match):
        spectral.stft(signal, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(win_length=1024), "win_length"),
    (dict(hop_length=0), "hop_length"),
    (dict(backend="scipy"), "backend"),
])
def test_istft_invalid_arguments(signal, kwargs, match):
    S = spectral.stft(signal, n_fft=512)
    with pytest.raises(ValueError, match=match):
        spectral.istft(S, **kwargs)


@pytest.mark.parametrize("bad", [np.array([0.1, np.nan, 0.2] * 400), np.array([0.0, np.inf] * 600), np.zeros(0)])
@pytest.mark.parametrize("backend", spectral.BACKENDS)
def test_stft_rejects_non_finite_or_empty(bad, backend):
    with pytest.raises(AudioError, match="non-finite|empty"):
        spectral.stft(bad.astype(np.float32), backend=backend)


def test_stft_rejects_too_short_without_centering():
    with pytest.raises(AudioError, match="shorter than n_fft"):
        spectral.stft(np.zeros(100, dtype=np.float32), n_fft=512, center=False)
