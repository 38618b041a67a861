"""Tests for course_utils.plotting (Agg backend): labels, extents, colours, legends."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from course_utils import plotting, spectral  # noqa: E402

SR = 22050


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def sine(freq, seconds=1.0, amplitude=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def row_at(ax, freq):
    """The image row drawn at ``freq`` Hz, through the image's extent (what a reader sees)."""
    im = ax.images[0]
    n_rows = im.get_array().shape[0]
    _, _, bottom, top = im.get_extent()
    return int((freq - bottom) / (top - bottom) * n_rows)


# --------------------------------------------------------------------- waveform


def test_waveform_axes_and_data():
    y = sine(440, seconds=0.5)
    ax = plotting.waveform(y, sr=SR, title="A sine")
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Amplitude"
    assert ax.get_title() == "A sine"
    (line,) = ax.get_lines()
    x, data = line.get_data()
    np.testing.assert_allclose(data, y)
    assert x[0] == 0 and x[-1] == pytest.approx((y.size - 1) / SR)
    np.testing.assert_allclose(ax.get_xlim(), (0, (y.size - 1) / SR))
    assert ax.get_legend() is None


def test_waveform_source_label_gives_legend_and_colour():
    ax = plotting.waveform(sine(440), sr=SR, label="vocals")
    (line,) = ax.get_lines()
    assert to_rgb(line.get_color()) == pytest.approx(to_rgb(plotting.SOURCE_COLORS["vocals"]))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["vocals"]


def test_waveform_draws_into_given_axes():
    fig, (a, b) = plt.subplots(2)
    assert plotting.waveform(sine(440), sr=SR, ax=b) is b
    assert len(a.get_lines()) == 0 and len(b.get_lines()) == 1


# ------------------------------------------------------------------ spectrogram


@pytest.mark.parametrize("n_fft, hop", [(1024, None), (512, 128), (2048, 1024)])
def test_spectrogram_extent_and_labels(n_fft, hop):
    y = sine(1000, seconds=1.3)
    ax = plotting.spectrogram(y, sr=SR, n_fft=n_fft, hop_length=hop)
    hop = hop or n_fft // 4
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Frequency (Hz)"
    im = ax.images[0]
    left, right, bottom, top = im.get_extent()
    duration = y.size / SR
    assert left == 0 and bottom == 0
    assert abs(right - duration) <= hop / SR
    assert top == pytest.approx(SR / 2)
    assert im.get_array().shape == (n_fft // 2 + 1, 1 + y.size // hop)
    assert ax.get_ylim() == pytest.approx((0, SR / 2))


def test_spectrogram_levels_and_colorbar():
    y = sine(1000, seconds=1.0)
    ax = plotting.spectrogram(y, sr=SR, top_db=70.0)
    im = ax.images[0]
    assert im.colorbar is not None
    assert im.colorbar.ax.get_ylabel() == "Level (dB)"
    assert im.get_clim() == pytest.approx((-70.0, 0.0))
    values = np.asarray(im.get_array())
    assert values.max() == pytest.approx(0.0, abs=1e-4)  # the loudest bin is 0 dB
    # the loudest row is the sine's frequency
    assert abs(np.argmax(values.max(axis=1)) * SR / 1024 - 1000) <= SR / 1024


def test_spectrogram_shared_ref_and_fmax():
    y = sine(1000, seconds=1.0, amplitude=0.5)
    S_max = np.abs(spectral.stft(y)).max()
    ax = plotting.spectrogram(0.1 * y, sr=SR, ref=S_max, fmax=4000, colorbar=False)
    values = np.asarray(ax.images[0].get_array())
    assert values.max() == pytest.approx(-20.0, abs=1e-3)  # a tenth of the reference level
    assert ax.get_ylim() == pytest.approx((0, 4000))
    assert ax.images[0].colorbar is None


# ------------------------------------------------------------------------- mask


def test_mask_limits_and_labels():
    rng = np.random.default_rng(3)
    M = rng.uniform(0, 1, (513, 40))
    ax = plotting.mask(M, sr=SR, hop_length=256, title="IRM")
    im = ax.images[0]
    assert im.get_clim() == (0, 1)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Frequency (Hz)"
    assert im.colorbar.ax.get_ylabel() == "Mask value"
    np.testing.assert_allclose(im.get_extent(), (0, 40 * 256 / SR, 0, SR / 2))
    np.testing.assert_array_equal(im.get_array(), M)
    assert ax.get_title() == "IRM"


def test_tf_image_without_colorbar():
    ax = plotting.tf_image(np.zeros((257, 10)), sr=16000, hop_length=128)
    assert ax.images[0].colorbar is None
    np.testing.assert_allclose(ax.images[0].get_extent(), (0, 10 * 128 / 16000, 0, 8000))


# -------------------------------------------------------------- dominant_source


@pytest.fixture
def two_sines():
    return np.stack([sine(200), sine(3000)])


@pytest.mark.parametrize("names", [["vocals", "drums"], ["bass", "other"], None])
def test_dominant_source_colours(two_sines, names):
    ax = plotting.dominant_source(two_sines, sr=SR, names=names)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Frequency (Hz)"
    rgb = np.asarray(ax.images[0].get_array())
    n_frames = 1 + two_sines.shape[1] // 256
    assert rgb.shape == (513, n_frames, 3)
    if names is None:
        colors = [to_rgb("C0"), to_rgb("C1")]
    else:
        colors = [to_rgb(plotting.SOURCE_COLORS[n]) for n in names]
    middle = slice(n_frames // 4, 3 * n_frames // 4)
    for freq, own, other in [(200, colors[0], colors[1]), (3000, colors[1], colors[0])]:
        pixels = rgb[row_at(ax, freq), middle]
        # the loudest bins of a source: its own colour at (nearly) full strength
        np.testing.assert_allclose(pixels, np.broadcast_to(own, pixels.shape), atol=0.05)
        assert np.linalg.norm(pixels - other, axis=-1).min() > 0.3
    # far from both sines, nothing is loud: white
    np.testing.assert_allclose(rgb[row_at(ax, 8000), middle], 1.0, atol=1e-6)


def test_dominant_source_legend_and_extent(two_sines):
    ax = plotting.dominant_source(two_sines, sr=SR, names=["vocals", "accompaniment"], fmax=5000)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["vocals", "accompaniment"]
    patch_colors = [to_rgb(h.get_facecolor()) for h in legend.legend_handles]
    assert patch_colors[0] == pytest.approx(to_rgb(plotting.SOURCE_COLORS["vocals"]))
    assert patch_colors[1] == pytest.approx(to_rgb(plotting.SOURCE_COLORS["accompaniment"]))
    left, right, bottom, top = ax.images[0].get_extent()
    assert (left, bottom) == (0, 0) and top == pytest.approx(SR / 2)
    assert abs(right - two_sines.shape[1] / SR) <= 256 / SR
    assert ax.get_ylim() == pytest.approx((0, 5000))
    assert ax.get_title() == "Dominant source per time-frequency bin"


def test_dominant_source_default_names(two_sines):
    ax = plotting.dominant_source(two_sines, sr=SR)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["source 0", "source 1"]


@pytest.mark.parametrize("names", [["vocals"], ["a", "b", "c"]])
def test_dominant_source_names_mismatch(two_sines, names):
    with pytest.raises(ValueError, match="2 sources but"):
        plotting.dominant_source(two_sines, sr=SR, names=names)


def test_dominant_source_fades_quiet_bins(two_sines):
    # source B 40 dB quieter: its bins keep B's hue but are drawn paler, in proportion
    quiet = np.stack([two_sines[0], 0.01 * two_sines[1]])
    ax = plotting.dominant_source(quiet, sr=SR, names=["vocals", "drums"], top_db=60.0)
    rgb = np.asarray(ax.images[0].get_array())
    n_frames = rgb.shape[1]
    pixel = rgb[row_at(ax, 3000), n_frames // 2]
    drums = np.array(to_rgb(plotting.SOURCE_COLORS["drums"]))
    strength = (1 - pixel) / (1 - drums)  # the blend toward white is the same in every channel
    np.testing.assert_allclose(strength, strength[0], atol=1e-6)
    assert strength[0] == pytest.approx(1 - 40 / 60, abs=0.05)
