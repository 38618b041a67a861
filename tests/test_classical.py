"""Tests for course_utils.classical (notebook 04_classical_separation) and its self-checks."""

from __future__ import annotations

import sys

import librosa
import numpy as np
import pytest
import scipy.signal

from course_utils import checks, classical, masks, spectral

SR = 8000
N_FFT = spectral.N_FFT
HOP = spectral.HOP_LENGTH


def energy(x) -> float:
    return float(np.sum(np.abs(np.asarray(x, dtype=np.complex128)) ** 2))


@pytest.fixture(scope="module")
def random_magnitude():
    rng = np.random.default_rng(0)
    return rng.gamma(0.5, 1.0, size=(65, 120)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# HPSS


@pytest.fixture(scope="module")
def sine_and_clicks():
    n = 4 * SR
    t = np.arange(n) / SR
    sine = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    clicks = np.zeros(n, dtype=np.float32)
    clicks[SR // 4::SR // 4] = 1.0  # four clicks a second
    return sine, clicks


def test_hpss_puts_a_sine_in_harmonic_and_clicks_in_percussive(sine_and_clicks):
    sine, clicks = sine_and_clicks
    X_sine, X_clicks = spectral.stft(sine), spectral.stft(clicks)
    Y = X_sine + X_clicks
    M_h, M_p = classical.hpss(Y, mask=True)
    sine_in_harmonic = energy(M_h * X_sine) / energy(X_sine)
    clicks_in_percussive = energy(M_p * X_clicks) / energy(X_clicks)
    assert sine_in_harmonic > 0.9
    assert clicks_in_percussive > 0.9
    # and the other way round they are mostly rejected
    assert energy(M_p * X_sine) / energy(X_sine) < 0.1
    assert energy(M_h * X_clicks) / energy(X_clicks) < 0.1


def test_hpss_filters_equal_a_numpy_median_with_mirrored_edges(random_magnitude):
    S = random_magnitude
    H, P = classical.hpss_filters(S, kernel_size=(7, 5))
    windows = np.lib.stride_tricks.sliding_window_view
    H_np = np.median(windows(np.pad(S, ((0, 0), (3, 3)), mode="symmetric"), 7, axis=1), axis=-1)
    P_np = np.median(windows(np.pad(S, ((2, 2), (0, 0)), mode="symmetric"), 5, axis=0), axis=-1)
    np.testing.assert_array_equal(H, H_np)
    np.testing.assert_array_equal(P, P_np)


@pytest.mark.parametrize("kw", [
    {}, {"power": np.inf}, {"power": 1.0}, {"margin": 2.0}, {"margin": (1.0, 3.0)}, {"kernel_size": (17, 9)},
])
def test_hpss_masks_are_the_softmasks_of_the_median_filters(random_magnitude, kw):
    """classical.hpss is librosa's; its masks are the formula of the docstring on hpss_filters."""
    p, margin = kw.get("power", 2.0), kw.get("margin", 1.0)
    m_h, m_p = (margin, margin) if np.isscalar(margin) else margin
    H, P = (x.astype(np.float64) for x in classical.hpss_filters(random_magnitude,
                                                                 kernel_size=kw.get("kernel_size", 31)))
    if np.isinf(p):
        want = (H > m_h * P), (P > m_p * H)
    else:
        want = H**p / (H**p + (m_h * P) ** p), P**p / (P**p + (m_p * H) ** p)
    for got, expected in zip(classical.hpss(random_magnitude, mask=True, **kw), want):
        assert got.dtype == np.float32  # numbers, also for the hard masks
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_hpss_of_a_complex_stft_keeps_the_phase():
    rng = np.random.default_rng(3)
    y = rng.standard_normal(SR).astype(np.float32)
    Y = spectral.stft(y)
    H, P = classical.hpss(Y)
    H_lr, P_lr = librosa.decompose.hpss(Y)
    np.testing.assert_allclose(H, H_lr, atol=1e-5)
    np.testing.assert_allclose(P, P_lr, atol=1e-5)
    assert np.iscomplexobj(H)
    np.testing.assert_allclose(H + P, Y, atol=1e-5)  # soft masks with margin 1 sum to one


def test_hpss_soft_masks_sum_to_one_hard_masks_are_binary_margin_leaves_a_residual(random_magnitude):
    S = random_magnitude.copy()
    S[:, :3] = 0  # silent frames: soft masks split them 0.5 / 0.5
    M_h, M_p = classical.hpss(S, mask=True)
    np.testing.assert_allclose(M_h + M_p, 1.0, atol=1e-6)
    B_h, B_p = classical.hpss(S, mask=True, power=np.inf)
    assert set(np.unique(B_h)) <= {0.0, 1.0} and set(np.unique(B_p)) <= {0.0, 1.0}
    assert np.all(B_h + B_p <= 1)
    R_h, R_p = classical.hpss(S, mask=True, margin=3.0)
    assert np.all(R_h + R_p <= 1 + 1e-6) and float(np.mean(R_h + R_p)) < 0.9
    # integer input is computed in floating point
    I_h, I_p = classical.hpss(np.round(10 * S).astype(int), mask=True)
    assert I_h.dtype.kind == "f" and np.allclose(I_h + I_p, 1.0)


@pytest.mark.parametrize("bad, match", [
    (np.ones((4, 5)) * (1 + 1j), "complex"),
    (-np.ones((4, 5)), "non-negative"),
    (np.ones(5), "shape"),
    (np.full((4, 5), np.nan), "NaN"),
])
def test_hpss_filters_reject_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        classical.hpss_filters(bad)


def test_hpss_rejects_bad_parameters(random_magnitude):
    with pytest.raises(ValueError, match="kernel_size"):
        classical.hpss(random_magnitude, kernel_size=0)
    with pytest.raises(ValueError, match="margin"):
        classical.hpss(random_magnitude, margin=0.5)
    with pytest.raises(ValueError, match="power"):
        classical.hpss(random_magnitude, power=0)


# --------------------------------------------------------------------------------------------
# REPET


def test_beat_spectrum_equals_its_definition(random_magnitude):
    S = random_magnitude[:, :40].astype(np.float64)
    P = S**2
    T = P.shape[1]
    direct = np.array([np.mean(np.sum(P[:, :T - lag] * P[:, lag:], axis=1) / (T - lag)) for lag in range(T)])
    b = classical.beat_spectrum(S)
    np.testing.assert_allclose(b, direct / direct[0], rtol=1e-9)
    assert b[0] == 1.0
    np.testing.assert_array_equal(classical.beat_spectrum(np.zeros((3, 10))), 0.0)


def repeating_spectrogram(period=23, n_rep=6, n_freq=40, seed=1):
    rng = np.random.default_rng(seed)
    pattern = rng.gamma(0.5, 1.0, size=(n_freq, period))
    return np.tile(pattern, n_rep) * (1 + 0.05 * rng.random((n_freq, period * n_rep))), pattern


@pytest.mark.parametrize("period", [9, 23, 31])
def test_repeating_period_finds_the_period_of_a_repeating_pattern(period):
    S, _ = repeating_spectrogram(period=period)
    b = classical.beat_spectrum(S)
    # the beat spectrum peaks at the period and at each of its multiples
    multiples = np.arange(period, len(b) - period, period)
    others = np.setdiff1d(np.arange(1, len(b) - period), np.concatenate([multiples - 1, multiples, multiples + 1]))
    assert b[multiples].min() > 1.5 * b[others].max()
    # searched up to just below twice the period, the highest peak is the period itself
    assert classical.repeating_period(b, min_period=5, max_period=2 * period - 1) == period


def test_repet_finds_the_period_of_a_repeating_waveform():
    """A noise burst pattern repeating every 20 frames (whole hops) gives a 20-frame period."""
    rng = np.random.default_rng(2)
    period_frames = 20
    pattern = rng.standard_normal(period_frames * HOP) * np.repeat(rng.random(period_frames) ** 4, HOP)
    y = np.tile(pattern, 8).astype(np.float32)
    S = np.abs(spectral.stft(y))
    result = classical.repet(S, sr=SR, hop_length=HOP, min_period=0.3)
    assert result.period == period_frames
    assert result.background.shape == S.shape
    np.testing.assert_allclose(result.background + result.foreground, 1.0)


def test_repeating_model_keeps_the_pattern_and_leaves_out_a_one_off_event():
    S, pattern = repeating_spectrogram(period=10, n_rep=7)
    voice = np.zeros_like(S)
    voice[5:15, 32:36] = 50.0  # a loud event in the 4th repetition only
    mix = S + voice
    W = classical.repeating_model(mix, period=10)
    assert np.all(W <= mix + 1e-12)
    # the median over the 7 repetitions ignores the one-off event
    np.testing.assert_allclose(W[5:15, 32:36], S[5:15, 32:36], rtol=0.1)
    background = classical.repeating_mask(mix, W)
    assert float(background[5:15, 32:36].max()) < 0.1  # the event goes to the foreground
    assert float(np.median(background)) > 0.9  # the rest stays in the background


def test_repeating_model_handles_a_last_partial_period():
    S, pattern = repeating_spectrogram(period=10, n_rep=5)
    S = S[:, :45]  # 4.5 periods: the last one is padded with NaN, which the median skips
    W = classical.repeating_model(S, period=10)
    assert np.isfinite(W).all() and W.shape == S.shape


def test_repet_high_pass_sends_low_bins_to_the_background():
    S, _ = repeating_spectrogram(period=12, n_rep=6, n_freq=N_FFT // 2 + 1)
    S[:, 30] += 100  # a non-repeating frame, in every bin
    cut = classical.high_pass_bins(sr=SR, cutoff=100.0)
    assert cut == int(np.argmin(np.abs(np.fft.rfftfreq(N_FFT, 1 / SR) - 100.0)))
    result = classical.repet(S, sr=SR, hop_length=HOP, period=12 * HOP / SR)
    assert result.period == 12
    np.testing.assert_array_equal(result.background[:cut], 1.0)
    assert float(result.foreground[cut:, 30].mean()) > 0.9
    unfiltered = classical.repet(S, sr=SR, hop_length=HOP, period=12 * HOP / SR, high_pass=None)
    assert float(unfiltered.foreground[:cut, 30].mean()) > 0.9


def test_repet_rejects_bad_parameters(random_magnitude):
    with pytest.raises(ValueError, match="longer than"):
        classical.repeating_model(random_magnitude, period=500)
    with pytest.raises(ValueError, match="No lag"):
        classical.repeating_period(np.ones(10), min_period=20, max_period=30)
    with pytest.raises(ValueError, match="period"):
        classical.repet(random_magnitude, sr=SR, period=-1.0)
    with pytest.raises(ValueError, match="match"):
        classical.repeating_mask(random_magnitude, random_magnitude[:, :5])


# --------------------------------------------------------------------------------------------
# REPET-SIM


def test_cosine_similarity_values():
    S = np.array([[1.0, 0.0, 2.0, 0.0],
                  [0.0, 1.0, 2.0, 0.0]])
    C = classical.cosine_similarity(S)
    expected = np.array([[1, 0, 1 / np.sqrt(2), 0],
                         [0, 1, 1 / np.sqrt(2), 0],
                         [1 / np.sqrt(2), 1 / np.sqrt(2), 1, 0],
                         [0, 0, 0, 0]])  # a silent frame is similar to nothing
    np.testing.assert_allclose(C, expected, atol=1e-12)


@pytest.mark.parametrize("width, k", [(3, None), (5, 4), (1, 7)])
def test_repet_sim_knn_model_equals_librosa_nn_filter(random_magnitude, width, k):
    S = random_magnitude.astype(np.float64)
    ours = classical.repet_sim_model(S, width=width, k=k)
    theirs = np.minimum(S, librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine",
                                                       mode="affinity", width=width, k=k))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_similar_frames_knn_respects_width_and_picks_the_most_similar():
    rng = np.random.default_rng(4)
    C = rng.random((30, 30))
    C = (C + C.T) / 2
    nb = classical.similar_frames(C, width=4, k=5)
    for i, idx in enumerate(nb):
        assert len(idx) == 5 and np.all(np.abs(idx - i) >= 4)
        allowed = [j for j in range(30) if abs(j - i) >= 4]
        assert set(idx) == set(sorted(allowed, key=lambda j: -C[i, j])[:5])


def test_similar_frames_peaks_are_local_maxima_spaced_by_width():
    row = np.array([1.0, 0.2, 0.1, 0.9, 0.95, 0.3, 0.1, 0.0, 0.8, 0.1, 0.5])
    C = np.tile(row, (11, 1))
    C[0] = row  # frame 0: itself (1.0) first, then 0.95 at 4, then 0.8 at 8 (0.9 at 3 is within 2 of 4)
    picks = classical.similar_frames(C, width=2, selection="peaks")[0]
    np.testing.assert_array_equal(picks, [4, 8])
    assert len(classical.similar_frames(C, width=2, k=1, selection="peaks")[0]) == 1


def test_repet_sim_separates_a_one_off_event_from_a_repeating_background():
    S, _ = repeating_spectrogram(period=15, n_rep=8)
    mix = S.copy()
    mix[5:15, 50:53] += 50.0
    for selection in classical.SELECTIONS:
        bg, fg = classical.repet_sim(mix, sr=SR, hop_length=HOP, min_distance=5 * HOP / SR,
                                     selection=selection, high_pass=None)
        np.testing.assert_allclose(bg + fg, 1.0)
        assert float(fg[5:15, 50:53].min()) > 0.9, selection
        assert float(np.median(bg)) > 0.8, selection


def test_repet_sim_rejects_bad_parameters(random_magnitude):
    with pytest.raises(ValueError, match="width"):
        classical.repet_sim_model(random_magnitude, width=100)
    with pytest.raises(ValueError, match="selection"):
        classical.repet_sim(random_magnitude, sr=SR, selection="nearest")
    with pytest.raises(ValueError, match="square"):
        classical.similar_frames(np.ones((3, 4)), width=1)


# --------------------------------------------------------------------------------------------
# NMF


def test_kl_divergence_values():
    assert classical._kl(np.array([1.0, 2.0]), np.array([2.0, 1.0])) == pytest.approx(np.log(2))
    assert classical._kl(np.ones((3, 3)), np.ones((3, 3))) == 0.0
    # a zero bin of V contributes V_hat
    assert classical._kl(np.array([0.0, 1.0]), np.array([0.5, 1.0])) == pytest.approx(0.5)
    assert classical._kl(np.array([1.0]), np.array([0.0])) == np.inf


def test_nmf_updates_never_increase_the_kl_cost(random_magnitude):
    W, H, cost = classical.nmf(random_magnitude, n_components=6, n_iter=150)
    assert cost.shape == (151,)
    assert np.all(np.diff(cost) <= 1e-12 * cost[:-1])
    assert cost[-1] < 0.6 * cost[0]
    assert W.min() >= 0 and H.min() >= 0
    assert classical._kl(random_magnitude.astype(np.float64), W @ H) == pytest.approx(cost[-1])


def test_nmf_reconstructs_a_low_rank_matrix():
    rng = np.random.default_rng(0)
    V = rng.random((40, 3)) @ rng.random((3, 60))
    W, H, cost = classical.nmf(V, n_components=3, n_iter=500)
    assert np.linalg.norm(W @ H - V) / np.linalg.norm(V) < 1e-3
    assert np.all(np.diff(cost) <= 1e-12 * cost[:-1])


def test_nmf_with_fixed_templates_only_updates_activations(random_magnitude):
    W0 = classical.nmf(random_magnitude, n_components=4, n_iter=5)[0]
    W, H, cost = classical.nmf(random_magnitude, W=W0, n_iter=20, update_W=False)
    np.testing.assert_array_equal(W, W0)
    assert np.all(np.diff(cost) <= 1e-12 * cost[:-1])


def test_nmf_is_seeded(random_magnitude):
    a = classical.nmf(random_magnitude, n_components=3, n_iter=3, random_state=7)
    b = classical.nmf(random_magnitude, n_components=3, n_iter=3, random_state=7)
    np.testing.assert_array_equal(a[0], b[0])


def test_nmf_rejects_bad_parameters(random_magnitude):
    with pytest.raises(ValueError, match="rank"):
        classical.nmf(random_magnitude)
    with pytest.raises(ValueError, match="disagree"):
        classical.nmf(random_magnitude, n_components=3, W=np.ones((65, 4)))
    with pytest.raises(ValueError, match="rows"):
        classical.nmf(random_magnitude, W=np.ones((10, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        classical.nmf(-random_magnitude, n_components=2)


def test_learn_templates_have_unit_sum_columns(random_magnitude):
    W = classical.learn_templates(random_magnitude, n_components=5, n_iter=10)
    assert W.shape == (65, 5)
    np.testing.assert_allclose(W.sum(axis=0), 1.0)


def test_supervised_nmf_separates_two_toy_sources():
    """Two sources with overlapping but different spectra; templates learned on other examples."""
    rng = np.random.default_rng(5)
    n_freq = 50
    f = np.arange(n_freq)
    shapes_a = np.stack([np.exp(-0.5 * ((f - c) / 3) ** 2) for c in (10, 20)], axis=1)  # two "notes"
    shapes_b = np.stack([np.exp(-f / w) for w in (8, 25)], axis=1)  # two broadband decays
    train_a = shapes_a @ rng.random((2, 200))
    train_b = shapes_b @ rng.random((2, 200))
    templates = [classical.learn_templates(v, n_components=2, n_iter=300) for v in (train_a, train_b)]
    true_a = shapes_a @ rng.random((2, 80))
    true_b = shapes_b @ rng.random((2, 80))
    mix = true_a + true_b
    M, H, cost = classical.supervised_nmf(mix, templates, n_iter=300)
    assert M.shape == (2, n_freq, 80) and H.shape == (4, 80)
    np.testing.assert_allclose(M.sum(axis=0), 1.0)
    for mask, truth in zip(M, (true_a, true_b)):
        assert np.linalg.norm(mask * mix - truth) / np.linalg.norm(truth) < 0.05
    # without the right templates (swapped), the estimate is far off
    swapped = classical.supervised_nmf(mix, templates[::-1], n_iter=50)[0]
    assert np.linalg.norm(swapped[0] * mix - true_a) / np.linalg.norm(true_a) > 0.5


# --------------------------------------------------------------------------------------------
# nussl import


def test_import_nussl_reports_a_missing_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nussl", None)  # makes `import nussl` fail as if not installed
    module, reason = classical.import_nussl()
    assert module is None
    assert "install_nussl.sh" in reason
    # the SciPy window names nussl needs are in place either way
    assert all(hasattr(scipy.signal, name) for name in ("hamming", "hann", "blackman"))


@pytest.mark.parametrize("error, says", [
    (ModuleNotFoundError("No module named 'jams'", name="jams"), "dependency 'jams' is missing"),
    (AttributeError("module 'scipy.signal' has no attribute 'gone'"), "does not import here: AttributeError"),
])
def test_import_nussl_explains_a_broken_install(monkeypatch, error, says):
    import importlib

    def fail(name, *args, **kwargs):
        raise error

    monkeypatch.setattr(importlib, "import_module", fail)
    module, reason = classical.import_nussl()
    assert module is None and says in reason


# --------------------------------------------------------------------------------------------
# Self-checks of the notebook's exercises


def test_check_percussive_filter(random_magnitude, capsys):
    S = random_magnitude
    right = classical.hpss_filters(S, kernel_size=17)[1]
    assert checks.check_percussive_filter(right, S, kernel_size=17)
    assert not checks.check_percussive_filter(None, S, kernel_size=17)
    assert not checks.check_percussive_filter(classical.hpss_filters(S, kernel_size=17)[0], S, kernel_size=17)
    assert "along time" in capsys.readouterr().out
    import scipy.ndimage

    assert not checks.check_percussive_filter(scipy.ndimage.uniform_filter(S, size=(17, 1)), S, kernel_size=17)
    assert "median" in capsys.readouterr().out
    zero_padded = scipy.ndimage.median_filter(S, size=(17, 1), mode="constant")
    assert not checks.check_percussive_filter(zero_padded, S, kernel_size=17)
    assert "edges" in capsys.readouterr().out


def test_check_repet_mask(capsys):
    S, _ = repeating_spectrogram(period=10, n_rep=6)
    S[3:8, 22:25] += 20
    right = classical.repeating_mask(S, classical.repeating_model(S, period=10))
    assert checks.check_repet_mask(right, S, period=10)
    assert not checks.check_repet_mask(1 - right, S, period=10)
    assert "foreground" in capsys.readouterr().out
    segments = S.reshape(S.shape[0], 6, 10)
    uncapped = np.tile(np.median(segments, axis=1), 6) / S
    assert not checks.check_repet_mask(uncapped, S, period=10)
    assert "min" in capsys.readouterr().out
    mean_model = np.minimum(np.tile(segments.mean(axis=1), 6), S) / S
    assert not checks.check_repet_mask(mean_model, S, period=10)
    assert "median" in capsys.readouterr().out
    assert not checks.check_repet_mask(None, S, period=10)


def test_check_kl_update(random_magnitude, capsys):
    V = random_magnitude.astype(np.float64)
    W, H, _ = classical.nmf(V, n_components=3, n_iter=2)
    right = H * (W.T @ (V / (W @ H))) / W.sum(axis=0)[:, None]
    assert checks.check_kl_update(right, V, W, H)
    assert not checks.check_kl_update(H * (W.T @ (V / (W @ H))), V, W, H)
    assert "denominator" in capsys.readouterr().out
    euclid = H * (W.T @ V) / (W.T @ W @ H)
    assert not checks.check_kl_update(euclid, V, W, H)
    assert "Euclidean" in capsys.readouterr().out
    assert not checks.check_kl_update(None, V, W, H)


def test_check_beat_spectrum_with_loops(capsys):
    S = np.abs(np.random.default_rng(4).standard_normal((30, 80)))
    P, n = S**2, S.shape[1]
    sums = np.array([np.mean(np.sum(P[:, :n - lag] * P[:, lag:], axis=1)) for lag in range(n)])
    unbiased = sums / np.arange(n, 0, -1)
    assert checks.check_beat_spectrum(unbiased / unbiased[0], S)
    np.testing.assert_allclose(unbiased / unbiased[0], classical.beat_spectrum(S), atol=1e-9)
    for wrong, says in [(unbiased, "divide by b[0]"), (sums / sums[0], "n_frames - l"), (None, "still None"),
                        (unbiased[:10], "shape")]:
        assert not checks.check_beat_spectrum(wrong, S)
        assert says in capsys.readouterr().out
