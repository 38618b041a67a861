"""Tests for course_utils.masks (notebook 02_masking) and its self-checks in course_utils.checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_utils import checks, masks, methods, metrics, spectral
from course_utils.data import STEMS, Track

N_FFT = spectral.N_FFT
HOP = spectral.HOP_LENGTH
N = 16 * N_FFT
T = np.arange(N)
INTERIOR = slice(N_FFT, N - N_FFT)  # samples covered only by frames that lie inside the signal


def tone(k, *, amp=1.0, phase=0.0):
    """A sinusoid exactly on STFT bin ``k`` (so, away from the edges, it fills bins k-1..k+1 only)."""
    return (amp * np.cos(2 * np.pi * k * T / N_FFT + phase)).astype(np.float32)


@pytest.fixture(scope="module")
def random_spectra():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((4, 33, 20)) + 1j * rng.standard_normal((4, 33, 20))).astype(np.complex64)


# --------------------------------------------------------------------------------------------
# Ideal binary mask


def test_ibm_is_one_hot_and_gives_each_bin_to_the_loudest_source():
    mags = np.array([[3.0, 1.0, 2.0, 0.0],
                     [1.0, 5.0, 2.0, 0.0],
                     [2.5, 4.0, 0.5, 0.0]])[:, None, :]  # (3 sources, 1 freq, 4 frames)
    M = masks.ideal_binary_mask(mags)
    assert M.dtype == np.float32 and M.shape == mags.shape
    expected = np.array([[1, 0, 1, 1],   # a tie (frame 2) and silence (frame 3) go to the first source
                         [0, 1, 0, 0],
                         [0, 0, 0, 0]], dtype=np.float32)[:, None, :]
    np.testing.assert_array_equal(M, expected)
    # source 0 owns frame 0 with 3.0 although the others sum to 3.5: winner takes all
    np.testing.assert_array_equal(M.sum(axis=0), 1.0)


def test_ibm_separates_disjoint_sinusoids_exactly():
    x1, x2 = tone(20, amp=0.5), tone(100, amp=0.3, phase=1.0)
    sources = np.stack([x1, x2])
    est = masks.oracle_estimates(sources, kind="ibm")
    assert est.shape == sources.shape and est.dtype == np.float32
    # exact wherever every frame lies inside the signal (the zero padding at the edges leaks)
    np.testing.assert_allclose(est[:, INTERIOR], sources[:, INTERIOR], rtol=0, atol=1e-5)


def test_ibm_hands_a_shared_bin_entirely_to_the_louder_source():
    sources = np.stack([tone(40, amp=1.0), tone(40, amp=0.5, phase=np.pi / 2)])
    est = masks.oracle_estimates(sources, kind="ibm")
    mixture = sources.sum(axis=0)
    np.testing.assert_allclose(est[0, INTERIOR], mixture[INTERIOR], atol=1e-5)
    np.testing.assert_allclose(est[1, INTERIOR], 0.0, atol=1e-5)


# --------------------------------------------------------------------------------------------
# Ratio masks


def test_irm_values_by_hand():
    mags = np.array([3.0, 1.0])[:, None, None]
    np.testing.assert_allclose(masks.ideal_ratio_mask(mags)[:, 0, 0], [0.75, 0.25], atol=1e-7)
    np.testing.assert_allclose(masks.ideal_ratio_mask(mags, power=2)[:, 0, 0], [0.9, 0.1], atol=1e-7)
    np.testing.assert_allclose(masks.wiener_like_mask(mags), masks.ideal_ratio_mask(mags, power=2))
    np.testing.assert_allclose(masks.ideal_ratio_mask(mags, power=0.5)[:, 0, 0],
                               [np.sqrt(3) / (np.sqrt(3) + 1), 1 / (np.sqrt(3) + 1)], atol=1e-7)
    # complex input: only the magnitude counts
    S = np.array([3.0 * np.exp(1j), -1.0j])[:, None, None]
    np.testing.assert_allclose(masks.ideal_ratio_mask(S)[:, 0, 0], [0.75, 0.25], atol=1e-7)


def test_large_exponent_tends_to_the_binary_mask():
    mags = np.array([2.0, 1.0, 0.5])[:, None, None]
    np.testing.assert_allclose(masks.ideal_ratio_mask(mags, power=30)[:, 0, 0], [1, 0, 0], atol=1e-8)
    np.testing.assert_allclose(masks.ideal_ratio_mask(mags, power=3)[:, 0, 0], np.array([8, 1, 0.125]) / 9.125,
                               atol=1e-7)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 3.0])
def test_ratio_masks_lie_in_unit_interval_and_sum_to_one(random_spectra, power):
    M = masks.ideal_ratio_mask(random_spectra, power=power)
    assert M.shape == random_spectra.shape and M.dtype == np.float32
    assert M.min() >= 0 and M.max() <= 1
    np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-6)


def test_masks_work_on_multichannel_spectra(random_spectra):
    S = random_spectra.reshape(4, 3, 11, 20)  # (n_sources, n_channels, n_freq, n_frames)
    for kind in masks.ORACLES:
        M = masks.oracle_mask(S, kind=kind, clip=None)
        assert M.shape == S.shape
        np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-5)


def test_silent_bins_are_shared_equally_without_nan():
    S = np.zeros((4, 5, 6), dtype=np.complex64)
    for kind in ("irm", "wiener", "psm"):
        M = masks.oracle_mask(S, kind=kind)
        assert np.isfinite(M).all()
        np.testing.assert_allclose(M, 0.25)
    M = masks.ideal_binary_mask(S)
    np.testing.assert_array_equal(M.sum(axis=0), 1.0)
    est = masks.oracle_estimates(np.zeros((4, 3000), dtype=np.float32), kind="irm")
    assert np.isfinite(est).all() and not est.any()


# --------------------------------------------------------------------------------------------
# Phase-sensitive mask


def test_psm_is_cos_of_phase_difference_times_magnitude_ratio(random_spectra):
    Y = random_spectra.sum(axis=0)
    M = masks.phase_sensitive_mask(random_spectra, Y, clip=None)
    expected = np.abs(random_spectra) / np.abs(Y) * np.cos(np.angle(random_spectra) - np.angle(Y))
    np.testing.assert_allclose(M, expected, rtol=1e-4, atol=1e-5)
    assert M.min() < 0 and M.max() > 1  # unclipped values leave [0, 1] ...
    np.testing.assert_allclose(M.sum(axis=0), 1.0, atol=1e-5)  # ... but still sum to 1
    clipped = masks.phase_sensitive_mask(random_spectra, Y)
    np.testing.assert_array_equal(clipped, np.clip(M, 0, 1))
    np.testing.assert_array_equal(masks.phase_sensitive_mask(random_spectra, clip=None), M)  # Y defaults to the sum


def test_psm_in_quadrature_equals_the_wiener_mask_and_clips_in_opposition():
    k, bins = 40, slice(39, 42)
    frames = slice(N_FFT // HOP, -(N_FFT // HOP))

    def psm_values(phase):
        S = spectral.stft(np.stack([tone(k, amp=1.0), tone(k, amp=0.5, phase=phase)]))
        return masks.phase_sensitive_mask(S, clip=None)[:, bins, frames]

    # a quarter period apart, the two tones are orthogonal: PSM = |X1|^2 / (|X1|^2 + |X2|^2)
    quadrature = psm_values(np.pi / 2)
    np.testing.assert_allclose(quadrature[0], 1 / 1.25, atol=1e-4)
    np.testing.assert_allclose(quadrature[1], 0.25 / 1.25, atol=1e-4)
    # in opposition the mixture is 0.5 * tone: the louder source gets 1 / 0.5 = 2, the other -1
    opposed = psm_values(np.pi)
    np.testing.assert_allclose(opposed[0], 2.0, atol=1e-3)
    np.testing.assert_allclose(opposed[1], -1.0, atol=1e-3)


# --------------------------------------------------------------------------------------------
# From masks to signals


@pytest.mark.parametrize("kind, kw", [("ibm", {}), ("irm", {}), ("irm", {"power": 0.5}), ("wiener", {}),
                                      ("psm", {"clip": None})])
def test_masks_that_sum_to_one_give_estimates_that_sum_to_the_mixture(kind, kw):
    rng = np.random.default_rng(3)
    sources = (0.2 * rng.standard_normal((4, 5000))).astype(np.float32)
    est = masks.oracle_estimates(sources, kind=kind, **kw)
    assert est.shape == (4, 5000) and est.dtype == np.float32
    np.testing.assert_allclose(est.sum(axis=0), sources.sum(axis=0), atol=2e-5)


def test_clipped_psm_does_not_sum_to_the_mixture():
    rng = np.random.default_rng(3)
    sources = (0.2 * rng.standard_normal((4, 5000))).astype(np.float32)
    est = masks.oracle_estimates(sources, kind="psm")
    assert np.abs(est.sum(axis=0) - sources.sum(axis=0)).max() > 1e-2


def test_apply_mask_of_ones_returns_the_mixture_and_checks_shapes():
    rng = np.random.default_rng(4)
    y = (0.3 * rng.standard_normal(4000)).astype(np.float32)
    Y = spectral.stft(y)
    out = masks.apply_mask(np.ones((2,) + Y.shape, dtype=np.float32), Y, length=len(y))
    assert out.shape == (2, len(y))
    np.testing.assert_allclose(out, np.stack([y, y]), atol=1e-5)
    np.testing.assert_allclose(masks.apply_mask(np.full(Y.shape, 0.5), Y, length=len(y)), 0.5 * y, atol=1e-5)
    with pytest.raises(ValueError, match="does not end in"):
        masks.apply_mask(np.ones((2, 10, Y.shape[1])), Y)
    with pytest.raises(ValueError, match="complex STFT"):
        masks.apply_mask(np.ones(Y.shape), np.abs(Y))
    with pytest.raises(ValueError, match="real mask"):
        masks.apply_mask(np.ones(Y.shape, dtype=complex), Y)


def test_oracle_estimates_accepts_a_track_or_its_sources():
    rng = np.random.default_rng(5)
    stems = {s: (0.1 * rng.standard_normal(4000)).astype(np.float32) for s in STEMS}
    track = Track("toy", 8000, sum(stems.values()).astype(np.float32), stems, "test", "toy")
    for kind in masks.ORACLES:
        np.testing.assert_allclose(masks.oracle_estimates(track, kind=kind),
                                   masks.oracle_estimates(track.sources, kind=kind), atol=1e-6)
    assert all(x is track.mixture for x in methods.mixture()(track).values())


@pytest.mark.parametrize("call, match", [
    (lambda: masks.ideal_binary_mask(np.ones((3, 4))), "stacked on the first axis"),
    (lambda: masks.ideal_ratio_mask(np.ones((2, 3, 4)), power=0), "power must be a positive number"),
    (lambda: masks.ideal_ratio_mask(np.full((2, 3, 4), np.nan)), "NaN"),
    (lambda: masks.phase_sensitive_mask(np.ones((2, 3, 4))), "complex STFTs"),
    (lambda: masks.phase_sensitive_mask(np.ones((2, 3, 4), complex), np.ones((3, 5), complex)), "Y has shape"),
    (lambda: masks.phase_sensitive_mask(np.ones((2, 3, 4), complex), clip=(1, 0)), "low < high"),
    (lambda: masks.oracle_mask(np.ones((2, 3, 4)), kind="ideal"), "kind must be one of"),
    (lambda: masks.oracle_mask(np.ones((2, 3, 4)), kind="ibm", power=2), "power applies"),
    (lambda: masks.oracle_estimates(np.ones((2, 3000), np.float32), kind="oracle"), "kind must be one of"),
    (lambda: masks.oracle_estimates(np.ones(3000, np.float32)), "Give a Track"),
    (lambda: masks.oracle_estimates(np.ones((2, 3000), np.float32), mixture=np.ones(10)), "mixture has shape"),
])
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# Oracle evaluation


@pytest.fixture(scope="module")
def toy_tracks():
    """Two 4-source songs of pure tones on distinct bins (disjoint) plus a little shared noise."""
    rng = np.random.default_rng(6)
    tracks = []
    for i, bins in enumerate([(10, 30, 60, 90), (15, 45, 75, 120)]):
        stems = {s: (tone(k, amp=0.2 + 0.05 * j, phase=j) + 0.01 * rng.standard_normal(N)).astype(np.float32)
                 for j, (s, k) in enumerate(zip(STEMS, bins))}
        tracks.append(Track(f"toy{i}", 8000, sum(stems.values()).astype(np.float32), stems, "test", "toy"))
    return tracks


ORACLE_METHODS = {"mixture": methods.mixture(), **{kind: methods.oracle(kind) for kind in masks.ORACLES}}


@pytest.fixture(scope="module")
def toy_sdr(toy_tracks):
    scores = metrics.evaluate(toy_tracks, ORACLE_METHODS, definition="sources", duration=1.5,
                              filter_length=64)  # short filters: fast
    return metrics.summarise(scores, metric="SDR")


def test_oracle_scores_on_disjoint_tones(toy_sdr):
    assert list(toy_sdr.index) == list(ORACLE_METHODS) and list(toy_sdr.columns) == list(STEMS)
    # each source is weaker than the other three together: the mixture scores below 0 dB
    assert (toy_sdr.loc["mixture"] < 0).all()
    # nearly disjoint sources: every oracle mask separates them far above the baseline
    for method in masks.ORACLES:
        assert (toy_sdr.loc[method] > 20).all(), method


def test_oracle_settings_are_passed_on(toy_tracks):
    track = toy_tracks[0]
    for power in (0.5, 2.0):
        np.testing.assert_array_equal(methods.oracle("irm", power=power)(track)["bass"],
                                      masks.oracle_estimates(track, kind="irm", power=power)[2])
    with pytest.raises(ValueError, match="kind must be one of"):
        masks.oracle_estimates(track, kind="mixture")


def test_every_oracle_mask_beats_the_mixture_on_a_bundled_song():
    from course_utils import data

    track = data.load_dataset("bundled", split="test")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no source should be silent in 2 s of a song
        scores = metrics.evaluate([track], ORACLE_METHODS, definition="sources", duration=2.0, filter_length=128)
    sdr = metrics.summarise(scores, metric="SDR")
    for method in masks.ORACLES:
        assert (sdr.loc[method] > sdr.loc["mixture"] + 5).all(), method


# --------------------------------------------------------------------------------------------
# Self-checks of the notebook's exercises


@pytest.fixture(scope="module")
def two_sources():
    rng = np.random.default_rng(7)
    V = (rng.standard_normal((9, 12)) + 1j * rng.standard_normal((9, 12))).astype(np.complex64)
    A = (rng.standard_normal((9, 12)) + 1j * rng.standard_normal((9, 12))).astype(np.complex64)
    V[:, 0] = A[:, 0] = 0  # a silent frame
    return V, A


def test_check_two_source_irm(two_sources, capsys):
    V, A = two_sources
    eps = 1e-12
    right = np.abs(V) / (np.abs(V) + np.abs(A) + eps)
    assert checks.check_two_source_irm(right, V, A)
    assert "Correct" in capsys.readouterr().out
    with np.errstate(invalid="ignore"):
        unguarded = np.abs(V) / (np.abs(V) + np.abs(A))  # 0 / 0 in the silent frame
    cases = [
        (None, "still None"),
        (right[:, :5], "shape"),
        (unguarded, "NaN"),
        (np.abs(A) / (np.abs(V) + np.abs(A) + eps), "accompaniment"),
        (np.abs(V) ** 2 / (np.abs(V) ** 2 + np.abs(A) ** 2 + eps), "Wiener-like"),
        (np.abs(V) / (np.abs(V + A) + eps), "|V + A|"),
        (V / (V + A + eps), "complex"),
        (np.ones_like(right), "differs"),
    ]
    for answer, says in cases:
        assert checks.check_two_source_irm(answer, V, A) is False
        assert says in capsys.readouterr().out, says


def test_check_ibm_owner(capsys):
    mags = np.array([[0.9, 0.1, 0.2],
                     [0.5, 0.2, 0.7],
                     [0.4, 0.6, 0.1],
                     [0.3, 0.1, 0.3]])
    assert checks.check_ibm_owner(["vocals", "bass", "drums"], mags)
    assert checks.check_ibm_owner([0, 2, 1], mags)  # indices in STEMS order work too
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_ibm_owner(["drums", "bass", "drums"], mags)
    out = capsys.readouterr().out
    assert "bin 0" in out and "vocals" in out and "together" in out  # 0.9 < 0.5 + 0.4 + 0.3
    assert not checks.check_ibm_owner(None, mags)
    assert not checks.check_ibm_owner(["vocals"], mags)
    assert not checks.check_ibm_owner(["vocals", "bass", "flute"], mags)
    assert "flute" in capsys.readouterr().out



def test_check_ibm_vs_rest(capsys):
    rng = np.random.default_rng(11)
    S = (rng.standard_normal((4, 20, 30)) + 1j * rng.standard_normal((4, 20, 30))).astype(np.complex64)
    Y = S.sum(axis=0)
    right = (np.abs(S) > np.abs(Y[None] - S)).astype(np.float32)
    assert checks.check_ibm_vs_rest(right, S)
    assert "beats the rest of the mixture" in capsys.readouterr().out
    mag = np.abs(S)
    for wrong, says in [(masks.ideal_binary_mask(S), "loudest-source IBM"),
                        ((mag > mag.sum(axis=0) - mag).astype(np.float32), "as complex STFTs"),
                        ((mag > 0.5 * np.abs(Y)).astype(np.float32), "third variant"),
                        (right[:2], "one mask per source"), (None, "still None")]:
        assert not checks.check_ibm_vs_rest(wrong, S)
        assert says in capsys.readouterr().out


def test_the_multichannel_wiener_filter_uses_where_the_sources_sit():
    from course_utils import mixing

    rng = np.random.default_rng(0)
    noises = [(0.1 * rng.standard_normal(2 * 22050)).astype(np.float32) for _ in range(2)]
    S = np.stack([mixing.pan(noises[0], -0.5), mixing.pan(noises[1], 0.5)])   # (2 sources, 2 channels, n)
    y = S.sum(axis=0)
    Y, X = spectral.stft(y), spectral.stft(S)
    M = np.abs(X) / np.maximum(np.abs(X).sum(axis=0), masks.EPS)               # ratio masks, channel by channel
    masked = masks.apply_mask(M, Y, length=y.shape[-1])
    refined = {k: spectral.istft(masks.multichannel_wiener(M * np.abs(Y), Y, iterations=k), length=y.shape[-1])
               for k in (0, 1)}
    # no iteration: the magnitudes with the mixture's phase, i.e. the masks themselves
    np.testing.assert_allclose(refined[0], masked, atol=1e-5)
    # one EM iteration learns each source's spatial covariance (rank one for a panned source) and
    # cancels the other source where their spectra overlap: far better than the masks (7 dB here)
    sdr = {k: metrics.bss_eval(S, v.astype(np.float32), images=True).sdr for k, v in refined.items()}
    assert (sdr[0] < 8).all() and (sdr[1] > sdr[0] + 4).all(), sdr
    with pytest.raises(ValueError, match="do not match"):
        masks.multichannel_wiener(M[:, 0], Y)


def test_per_channel_and_at_rate_adapt_a_mono_method_to_stereo_at_another_rate():
    from course_utils import audio, mixing

    rng = np.random.default_rng(1)
    stems = {s: mixing.pan((0.1 * rng.standard_normal(44100)).astype(np.float32), p)
             for s, p in zip(STEMS, (-0.5, 0.0, 0.2, 0.7))}
    track = Track("stereo", 44100, sum(stems.values()), stems, "test", "synthetic")
    seen = []

    def left_half(t):                              # a mono method that records what it is given
        seen.append((t.sr, t.mixture.shape))
        return {"vocals": 0.5 * t.mixture}

    out = methods.at_rate(methods.per_channel(left_half), sr=22050)(track)["vocals"]
    assert seen == [(22050, (22050,)), (22050, (22050,))]     # run at 22050 Hz, one channel at a time
    assert out.shape == track.mixture.shape
    # half the mixture, down to 22050 Hz and back: what survives is the band below 11 kHz
    expected = 0.5 * audio.resample(audio.resample(track.mixture, orig_sr=44100, target_sr=22050),
                                    orig_sr=22050, target_sr=44100)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert methods.per_channel(left_half)(Track("mono", 44100, track.mixture[0], {s: v[0] for s, v in stems.items()},
                                                "test", "synthetic"))["vocals"].shape == (44100,)
