"""Spatial cues and pan masks (course_utils.spatial, methods.pan), on signals panned by the
course's own mixing law, where the right answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import metrics, methods, mixing, spatial, spectral
from course_utils.data import STEMS, Track

SR = 22050


def noise(seed, n=SR):
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize("p", [-1.0, -0.6, 0.0, 0.25, 0.9])
def test_a_panned_source_gives_its_position_back_in_every_bin(p):
    X = spectral.stft(mixing.pan(noise(0), p))
    loud = np.abs(X).sum(axis=0) > 1e-3 * np.abs(X).max()
    assert np.allclose(spatial.pan_index(X)[loud], p, atol=1e-4)
    assert spatial.position(X) == pytest.approx(p, abs=1e-4)
    if abs(p) < 1:   # a dry pan: no phase difference between the channels
        assert np.abs(spatial.phase_difference(X)[loud]).max() < 1e-3


def test_a_delay_between_the_channels_shows_in_the_phase_difference_only():
    x = noise(1)
    delayed = np.stack([x, np.roll(x, 3)])                    # right channel 3 samples late
    X = spectral.stft(delayed)
    k = np.arange(X.shape[1])[:, None]
    expected = np.angle(np.exp(2j * np.pi * k * 3 / spectral.N_FFT))   # e^{+i w d}: left leads by 3 samples
    mid = slice(8, -8)
    gap = np.angle(np.exp(1j * (spatial.phase_difference(X)[:200, mid] - expected[:200])))
    assert np.median(np.abs(gap)) < 0.05
    assert np.median(np.abs(spatial.pan_index(X)[:, mid])) < 0.03          # and no level difference


def test_pan_masks_sum_to_one_and_split_sources_at_the_same_place_evenly():
    Y = spectral.stft(mixing.pan(noise(2), -0.5) + mixing.pan(noise(3), 0.5))
    M = spatial.pan_masks(Y, [-0.5, 0.5, 0.5], width=0.1)
    assert M.shape == (3,) + Y.shape[1:] and M.dtype == np.float32
    assert np.allclose(M.sum(axis=0), 1, atol=1e-5)
    assert np.array_equal(M[1], M[2])
    with pytest.raises(ValueError, match="width"):
        spatial.pan_masks(Y, [0.0], width=0)
    with pytest.raises(ValueError, match="stereo"):
        spatial.pan_index(spectral.stft(noise(2)))


def tone(f, n=2 * SR):
    return (0.1 * np.sin(2 * np.pi * f * np.arange(n) / SR)).astype(np.float32)


def stereo_track(positions):
    # four tones far apart in frequency: each bin has one owner (what pan masks assume of music)
    stems = {s: mixing.pan(tone(f), p) for s, f, p in zip(STEMS, (220, 550, 1300, 3100), positions)}
    return Track("panned", SR, sum(stems.values()), stems, "test", "synthetic")


def test_the_pan_method_separates_sources_far_apart_and_not_sources_together():
    apart = stereo_track([-0.9, -0.3, 0.3, 0.9])
    together = stereo_track([0.0, 0.0, 0.0, 0.9])            # vocals, drums and bass in the centre
    pan = methods.pan(width=0.05)
    scores = {name: metrics.summarise(metrics.evaluate([t], {"pan": pan}, definition="sources"), metric="SDR").loc["pan"]
              for name, t in (("apart", apart), ("together", together))}
    # the pan alone takes them apart when they sit apart ...
    assert (scores["apart"] > 8).all(), scores["apart"]
    # ... and cannot split the three that share the centre: one mask, one estimate for all three
    centre = pan(together)
    assert np.array_equal(centre["vocals"], centre["drums"]) and np.array_equal(centre["vocals"], centre["bass"])
    # each estimate is a third of the three centre tones: one tone of its own against two others, 10 log10(1/2) dB
    assert np.allclose(scores["together"][["vocals", "drums", "bass"]], 10 * np.log10(1 / 2), atol=0.2)
    assert scores["together"]["other"] > 8
