"""Blind NMF (course_utils.classical.oracle_grouping, component_masks; methods.blind_nmf)."""

import dataclasses

import numpy as np
import pytest

from course_utils import classical, data, methods, metrics, spectral

SR = 22050


def tone(f0, n, *, partials=5):
    t = np.arange(n) / SR
    return sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, partials + 1))


def two_sources(n=2 * SR):
    """A low harmonic tone (partials up to 550 Hz) and a band of noise between 3 and 6 kHz,
    each switched on and off at its own times: disjoint spectra."""
    rng = np.random.default_rng(0)
    t = np.arange(n) / SR
    low = tone(110, n) * (np.sin(2 * np.pi * 1.5 * t) > -0.3)
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * ((np.fft.rfftfreq(n, 1 / SR) > 3000)
                                                                & (np.fft.rfftfreq(n, 1 / SR) < 6000)), n)
    high = 3 * noise * (np.sin(2 * np.pi * 2.5 * t + 1) > 0)
    return np.stack([low, high]).astype(np.float32)


def test_oracle_grouping_gives_each_component_the_source_it_comes_from():
    sources = two_sources()
    X = np.abs(spectral.stft(sources))
    W, H, _ = classical.nmf(X.sum(axis=0), n_components=6, n_iter=100)
    labels = classical.oracle_grouping(W, H, X)
    assert labels.shape == (6,) and set(labels) == {0, 1}              # one source each, both sources used
    low_band = spectral.frequencies(sr=SR) < 1000
    low_share = W[low_band].sum(axis=0) / W.sum(axis=0)                 # where each template's energy lies
    assert np.array_equal(labels, np.where(low_share > 0.5, 0, 1)), (labels, low_share.round(2))
    assert np.array_equal(classical.oracle_grouping(W, H, X[::-1]), 1 - labels)   # follows the sources


def test_component_masks_sum_to_one_and_follow_the_labels():
    rng = np.random.default_rng(1)
    W, H = rng.uniform(size=(20, 5)), rng.uniform(size=(5, 30))
    labels = np.array([2, 0, 2, 0, 0])                                  # source 1 gets no component
    M = classical.component_masks(W, H, labels, n_sources=3, power=1.0)
    assert M.shape == (3, 20, 30) and np.allclose(M.sum(axis=0), 1)
    assert np.allclose(M[0], (W[:, [1, 3, 4]] @ H[[1, 3, 4]]) / (W @ H)) and M[1].max() < 1e-6
    with pytest.raises(ValueError, match="labels"):
        classical.component_masks(W, H, np.array([0, 1, 3, 0, 0]), n_sources=3)


def test_blind_nmf_separates_two_disjoint_sources_and_its_estimates_add_up_to_the_mixture():
    sources = two_sources()
    track = data.Track(name="toy", sr=SR, mixture=sources.sum(axis=0), split="test", dataset="toy",
                       stems={"vocals": sources[1], "drums": 0 * sources[0], "bass": sources[0],
                              "other": 0 * sources[0]})
    estimates = methods.blind_nmf(n_components=8, n_iter=100)(track)
    assert list(estimates) == list(data.STEMS)
    assert all(e.shape == track.mixture.shape and e.dtype == np.float32 for e in estimates.values())
    assert np.allclose(sum(estimates.values()), track.mixture, atol=1e-4)   # masks sum to 1
    sdr = metrics.bss_eval(sources[[0, 1]], np.stack([estimates["bass"], estimates["vocals"]])).sdr
    assert sdr.min() > 15, sdr
    stereo = dataclasses.replace(track, mixture=np.stack([track.mixture, 0.5 * track.mixture]),
                                 stems={s: np.stack([v, 0.5 * v]) for s, v in track.stems.items()})
    both = methods.blind_nmf(n_components=8, n_iter=20)(stereo)
    assert both["bass"].shape == (2, track.mixture.size)
    assert np.allclose(sum(both.values()), stereo.mixture, atol=1e-4)
