"""Tests for course_utils.audio: validation, I/O, resampling, mono, peak and loudness levels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile

from course_utils import audio
from course_utils.audio import AudioError

PCM16_TOL = 1 / 32768 + 1e-7  # one 16-bit step (float32 rounding on top)


def sine(freq, *, sr, seconds, amplitude=1.0, phase=0.0):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---------------------------------------------------------------- valid_audio


@pytest.mark.parametrize(
    "y, match",
    [
        ([0.0, 0.1, 0.2], "numpy.ndarray, got list"),
        (np.zeros(100, dtype=np.int16), "floating-point.*int16"),
        (np.zeros((2, 2, 100), dtype=np.float32), r"shape \(n_samples,\) or \(n_channels, n_samples\).*\(2, 2, 100\)"),
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros((2, 0), dtype=np.float32), "empty"),
        (np.array([0.0, np.nan, 0.1, np.nan], dtype=np.float32), "2 non-finite"),
        (np.array([0.0, np.inf, -np.inf], dtype=np.float32), "2 non-finite"),
    ],
    ids=["list", "int16", "3d", "empty-1d", "empty-2d", "nan", "inf"],
)
def test_valid_audio_rejects(y, match):
    with pytest.raises(AudioError, match=match):
        audio.valid_audio(y)


def test_audio_error_is_value_error():
    assert issubclass(AudioError, ValueError)


def test_valid_audio_mono_rejects_2d():
    with pytest.raises(AudioError, match=r"mono.*\(2, 10\)"):
        audio.valid_audio(np.zeros((2, 10), dtype=np.float32), mono=True)


@pytest.mark.parametrize("shape", [(100,), (1, 100), (2, 100)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_valid_audio_accepts_float(shape, dtype, rng):
    y = rng.uniform(-1, 1, shape).astype(dtype)
    assert audio.valid_audio(y) is None
    if len(shape) == 1:
        assert audio.valid_audio(y, mono=True) is None


# ---------------------------------------------------------- check_sample_rates


def test_check_sample_rates_returns_rate():
    assert audio.check_sample_rates(22050) == 22050
    assert audio.check_sample_rates(44100, 44100, 44100) == 44100
    assert type(audio.check_sample_rates(44100.0)) is int


def test_check_sample_rates_mismatch_names_both():
    with pytest.raises(AudioError) as err:
        audio.check_sample_rates(44100, 22050)
    assert "44100" in str(err.value) and "22050" in str(err.value)
    assert "resample" in str(err.value)


@pytest.mark.parametrize("bad", [0, -22050, 22050.5])
def test_check_sample_rates_rejects_non_positive_or_fractional(bad):
    with pytest.raises(AudioError, match="positive integer"):
        audio.check_sample_rates(bad)


# ------------------------------------------------------------------ load/save


@pytest.mark.parametrize("ext", ["wav", "flac"])
@pytest.mark.parametrize("channels", [1, 2])
def test_save_load_round_trip(tmp_path, rng, ext, channels):
    sr = 22050
    shape = (1000,) if channels == 1 else (channels, 1000)
    y = rng.uniform(-0.99, 0.99, shape).astype(np.float32)
    path = audio.save(tmp_path / f"clip.{ext}", y, sr=sr)
    assert path == tmp_path / f"clip.{ext}" and path.exists()
    info = soundfile.info(str(path))
    assert info.channels == channels and info.samplerate == sr and info.frames == 1000
    assert info.subtype == "PCM_16"

    z, z_sr = audio.load(path)
    assert z_sr == sr
    assert z.dtype == np.float32
    assert z.shape == y.shape  # (n,) for a mono file, (2, n) for stereo
    assert z.flags.c_contiguous
    np.testing.assert_allclose(z, y, rtol=0, atol=PCM16_TOL)


def test_load_mono_averages_channels(tmp_path, rng):
    y = rng.uniform(-0.9, 0.9, (2, 500)).astype(np.float32)
    audio.save(tmp_path / "stereo.wav", y, sr=8000)
    z, sr = audio.load(tmp_path / "stereo.wav", mono=True)
    assert sr == 8000 and z.shape == (500,)
    np.testing.assert_allclose(z, y.mean(axis=0), rtol=0, atol=PCM16_TOL)


def test_load_accepts_str_path(tmp_path):
    y = sine(440, sr=8000, seconds=0.1, amplitude=0.5)
    audio.save(str(tmp_path / "s.flac"), y, sr=8000)
    z, sr = audio.load(str(tmp_path / "s.flac"))
    assert sr == 8000
    np.testing.assert_allclose(z, y, rtol=0, atol=PCM16_TOL)


@pytest.mark.parametrize("channels", [1, 2])
def test_load_resamples(tmp_path, channels):
    y = sine(440, sr=44100, seconds=1.0, amplitude=0.5)
    if channels == 2:
        y = np.stack([y, 0.5 * y])
    audio.save(tmp_path / "x.wav", y, sr=44100)
    z, sr = audio.load(tmp_path / "x.wav", sr=22050)
    assert sr == 22050
    assert z.shape == y.shape[:-1] + (22050,)
    assert z.dtype == np.float32
    # the resampled file matches the same sine generated at the new rate (away from edges)
    ref = sine(440, sr=22050, seconds=1.0, amplitude=0.5)
    ref = ref if channels == 1 else np.stack([ref, 0.5 * ref])
    np.testing.assert_allclose(z[..., 500:-500], ref[..., 500:-500], atol=2e-3)


def test_save_refuses_clipping(tmp_path):
    y = np.array([0.0, 0.5, -1.2, 0.3], dtype=np.float32)
    with pytest.raises(AudioError, match=r"1\.200.*clip"):
        audio.save(tmp_path / "loud.wav", y, sr=8000)
    assert not (tmp_path / "loud.wav").exists()


def test_save_allows_full_scale_and_float_beyond(tmp_path):
    y = np.array([1.0, -1.0, 0.0, 0.5], dtype=np.float32)
    audio.save(tmp_path / "full.wav", y, sr=8000)  # exactly 1.0 is allowed
    loud = np.array([0.0, 1.5, -2.0, 0.25], dtype=np.float32)
    audio.save(tmp_path / "float.wav", loud, sr=8000, subtype="FLOAT")
    z, _ = audio.load(tmp_path / "float.wav")
    np.testing.assert_array_equal(z, loud)


def test_save_validates_input(tmp_path):
    with pytest.raises(AudioError):
        audio.save(tmp_path / "bad.wav", np.array([0.0, np.nan], dtype=np.float32), sr=8000)
    with pytest.raises(AudioError):
        audio.save(tmp_path / "bad.wav", np.zeros(10, dtype=np.float32), sr=0)


# ------------------------------------------------------------------- resample


def _peak_frequency(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)], sr / len(y)


@pytest.mark.parametrize("target", [22050, 16000, 48000])
def test_resample_keeps_frequency_and_length(target):
    orig, n = 44100, 44100
    y = sine(440, sr=orig, seconds=1.0, amplitude=0.8)
    out = audio.resample(y, orig_sr=orig, target_sr=target)
    assert out.dtype == np.float32
    assert out.shape == (n * target // orig,)
    assert n * target % orig == 0  # the length ratio is exact here
    freq, bin_hz = _peak_frequency(out, target)
    assert abs(freq - 440) <= bin_hz
    # the amplitude is kept too (polyphase low-pass leaves 440 Hz alone)
    assert np.max(np.abs(out[1000:-1000])) == pytest.approx(0.8, abs=0.01)


@pytest.mark.parametrize("n", [1000, 1001, 1003])
def test_resample_length_rounds_up(n):
    # like librosa and scipy: ceil(n * target / orig) samples
    out = audio.resample(np.full(n, 0.1, dtype=np.float32), orig_sr=44100, target_sr=48000)
    assert out.shape == (math.ceil(n * 48000 / 44100),)


def test_resample_multichannel_along_last_axis():
    a = sine(440, sr=44100, seconds=0.5, amplitude=0.5)
    y = np.stack([a, -a])
    out = audio.resample(y, orig_sr=44100, target_sr=22050)
    assert out.shape == (2, a.size // 2)
    np.testing.assert_allclose(out[0], audio.resample(a, orig_sr=44100, target_sr=22050), atol=1e-6)
    np.testing.assert_allclose(out[1], -out[0], atol=1e-6)


def test_resample_same_rate_returns_copy(rng):
    y = rng.uniform(-1, 1, (2, 100)).astype(np.float32)
    out = audio.resample(y, orig_sr=22050, target_sr=22050)
    np.testing.assert_array_equal(out, y)
    assert out is not y and not np.shares_memory(out, y)
    out[0, 0] = 5.0
    assert y[0, 0] != 5.0


def test_resample_rejects_bad_rates_and_audio():
    y = np.zeros(100, dtype=np.float32)
    with pytest.raises(AudioError):
        audio.resample(y, orig_sr=0, target_sr=22050)
    with pytest.raises(AudioError):
        audio.resample(y, orig_sr=44100, target_sr=-1)
    with pytest.raises(AudioError):
        audio.resample(np.zeros(100, dtype=np.int16), orig_sr=44100, target_sr=22050)


# -------------------------------------------------------------------- to_mono


def test_to_mono_averages_exactly(rng):
    y = rng.uniform(-1, 1, (2, 300)).astype(np.float32)
    m = audio.to_mono(y)
    assert m.shape == (300,) and m.dtype == np.float32
    np.testing.assert_allclose(m, (y[0].astype(np.float64) + y[1]) / 2, rtol=0, atol=1e-7)
    three = rng.uniform(-1, 1, (3, 50)).astype(np.float32)
    np.testing.assert_allclose(audio.to_mono(three), three.sum(axis=0) / 3, atol=1e-6)


def test_to_mono_keeps_mono(rng):
    y = rng.uniform(-1, 1, 300).astype(np.float32)
    np.testing.assert_array_equal(audio.to_mono(y), y)
    np.testing.assert_array_equal(audio.to_mono(y[None]), y)  # (1, n) -> (n,)


# ------------------------------------------------------------- the one validator


@pytest.mark.parametrize("x, kwargs, says", [
    (np.array([True, False]), {}, "X must be a numeric array, got dtype bool"),
    (np.array(["a"]), {}, "numeric array"),
    (np.ones(3, complex), {"real": True}, "X must be real-valued"),
    (np.ones((2, 3)), {"ndim": 1, "shape": "(n_samples,)"}, r"X must have 1 dimensions \(n_samples,\), got shape \(2, 3\)"),
    (np.ones(3), {"min_ndim": 2}, "at least 2 dimensions"),
    (np.ones((2, 0)), {}, r"X is empty \(shape \(2, 0\)\)"),
    (np.array([1.0, np.nan, np.inf]), {}, "X holds 2 non-finite"),
    (np.array([1.0, -0.5]), {"nonnegative": True}, "non-negative .* down to -0.5"),
])
def test_valid_array_names_the_argument_and_the_problem(x, kwargs, says):
    with pytest.raises(ValueError, match=says):
        audio.valid_array(x, name="X", **kwargs)


def test_valid_array_returns_the_array_and_raises_the_given_error():
    out = audio.valid_array([[1, 2], [3, 4]], name="X", ndim=2, real=True, nonnegative=True)
    assert isinstance(out, np.ndarray) and out.dtype.kind == "i"
    assert np.iscomplexobj(audio.valid_array(np.ones(2, complex), name="X"))  # complex is fine unless real=True
    with pytest.raises(AudioError, match="Audio is empty"):
        audio.valid_audio(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="S must be non-negative"):
        audio.valid_magnitude(-np.ones((2, 3)))
    with pytest.raises(ValueError, match="real-valued"):
        audio.valid_magnitude(np.ones((2, 3), complex))


@pytest.mark.parametrize("value, minimum, says", [
    (True, 1, "positive integer"), (2.5, 1, "positive integer"), (0, 1, "positive integer"),
    (2, 3, "an integer >= 3"), ("4", 1, "positive integer"),
])
def test_valid_int_refuses_what_is_not_a_whole_number_in_range(value, minimum, says):
    with pytest.raises(ValueError, match=says):
        audio.valid_int(value, name="n", minimum=minimum)


def test_valid_int_accepts_numpy_and_whole_floats():
    assert audio.valid_int(np.int64(5), name="n") == 5 and audio.valid_int(4.0, name="n") == 4
