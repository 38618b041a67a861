"""Tests for course_utils.metrics: the projection, BSS Eval against museval and mir_eval,
SI-SDR, frame-wise v4 scores, silence handling, evaluate/summarise, and input errors."""

from __future__ import annotations

import warnings

import museval  # needs ffmpeg and ffprobe on PATH (the Makefile's setup installs them)
import numpy as np
import pytest
import scipy.signal

from course_utils import _bsseval, metrics, repro
from course_utils.data import STEMS, Track
from course_utils.metrics import SilenceWarning

SR = 8000
FRAME_SR = 4000  # the frame-wise tests: 1 s frames of 4000 samples
TOL_DB = 0.01  # agreement with museval / mir_eval in the matching mode, frame by frame too


def make_sources(n_src, n_ch, n, *, seed):
    """Music-like sources: harmonic tones with envelopes plus band-passed noise, per channel
    a different gain and a small delay (panning)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    refs = np.zeros((n_src, n_ch, n))
    for j in range(n_src):
        f0 = 80 * 2 ** (rng.integers(0, 30) / 12)
        tone = sum(rng.uniform(0.3, 1) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
                   for k in range(1, 7))
        tone *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t) ** 2
        lo = rng.uniform(0.02, 0.4)
        b, a = scipy.signal.butter(2, [lo, lo + rng.uniform(0.1, 0.5)], btype="band")
        noise = scipy.signal.lfilter(b, a, rng.standard_normal(n))
        mono = tone + rng.uniform(0.2, 1) * noise
        for c in range(n_ch):  # plus a little noise of each channel's own (a recording's floor)
            refs[j, c] = rng.uniform(0.4, 1) * np.roll(mono, c * rng.integers(0, 5)) + 0.02 * rng.standard_normal(n)
    return refs


def make_estimates(refs, *, noise, seed):
    """Estimates = own source through a short random filter + leakage of the others + noise."""
    rng = np.random.default_rng(seed + 1)
    ests = np.zeros_like(refs)
    for j in range(len(refs)):
        taps = rng.normal(0, 0.3, 6)
        taps[0] = 1.0
        ests[j] = scipy.signal.lfilter(taps, [1.0], refs[j], axis=-1)
        for k in range(len(refs)):
            if k != j:
                ests[j] += rng.uniform(0.05, 0.4) * refs[k]
        ests[j] += noise * refs[j].std() * rng.standard_normal(refs[j].shape)
    return ests


@pytest.fixture(autouse=True)
def one_blas_thread():
    """museval and mir_eval solve big systems; on a busy machine OpenBLAS threads slow them
    down many times over (the metrics module limits itself the same way)."""
    with repro.one_blas_thread():
        yield


def museval_layout(x):
    """(n_src, n_ch, n) -> museval's (n_src, n, n_ch)."""
    return np.ascontiguousarray(x.transpose(0, 2, 1))


# (n_sources, n_channels, n_samples, noise level relative to each source)
CASES = [(2, 1, 6000, 0.05), (3, 1, 8000, 0.3), (4, 1, 5000, 1.0), (2, 2, 7000, 0.6)]
CASE_IDS = [f"{s}src-{c}ch-{n}-noise{x}" for s, c, n, x in CASES]


@pytest.fixture(scope="module", params=CASES, ids=CASE_IDS)
def case(request):
    n_src, n_ch, n, noise = request.param
    refs = make_sources(n_src, n_ch, n, seed=n)
    ests = make_estimates(refs, noise=noise, seed=n)
    return refs, ests


# --------------------------------------------------------------------------------------------
# The projection of the lecture


def test_plain_projection_is_the_lecture_formula():
    rng = np.random.default_rng(0)
    n = 4000
    s = make_sources(1, 1, n, seed=1)[0, 0]
    other = rng.standard_normal(n)
    other -= (other @ s) / (s @ s) * s  # exactly orthogonal to s: the lecture's case
    est = 0.8 * s + 0.3 * other + 0.1 * rng.standard_normal(n)
    s_target, e_interf, e_artif = metrics.decompose(np.stack([s, other]), est, index=0, filter_length=1)
    np.testing.assert_allclose(s_target, (est @ s) / (s @ s) * s, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(e_interf, (est @ other) / (other @ other) * other, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s_target + e_interf + e_artif, est, rtol=0, atol=1e-12)
    assert abs(e_artif @ s) < 1e-8 * (s @ s) and abs(e_artif @ other) < 1e-8 * (other @ other)


def check_terms(refs, ests, j, filter_length):
    n = refs.shape[-1]
    terms = metrics.decompose(refs, ests[j], index=j, filter_length=filter_length)
    assert all(t.shape == ests[j].shape[:-1] + (n + filter_length - 1,) for t in terms)
    padded = np.pad(ests[j], [(0, 0)] * (ests.ndim - 2) + [(0, filter_length - 1)])
    np.testing.assert_allclose(sum(terms), padded, rtol=0, atol=1e-12)
    s_target, e_interf, e_artif = terms
    sdr = 10 * np.log10(np.sum(s_target**2) / np.sum((e_interf + e_artif) ** 2))
    sir = 10 * np.log10(np.sum(s_target**2) / np.sum(e_interf**2))
    sar = 10 * np.log10(np.sum((s_target + e_interf) ** 2) / np.sum(e_artif**2))
    res = metrics.bss_eval(refs, ests, filter_length=filter_length)
    np.testing.assert_allclose([sdr, sir, sar], [res.sdr[j], res.sir[j], res.sar[j]], atol=1e-8)


def test_terms_sum_to_the_estimate_and_give_the_scores(case):
    refs, ests = case
    for j in range(len(refs)):
        check_terms(refs, ests, j, filter_length=1)


def test_terms_with_bss_evals_512_taps():
    refs = make_sources(2, 1, 5000, seed=14)[:, 0]  # mono: shapes (n_samples,)
    ests = make_estimates(refs[:, None], noise=0.3, seed=14)[:, 0]
    check_terms(refs, ests, 1, filter_length=512)


def test_decompose_keeps_float32_and_the_shape_of_a_mono_estimate():
    refs = make_sources(2, 1, 3000, seed=3)[:, 0].astype(np.float32)
    ests = make_estimates(refs[:, None], noise=0.1, seed=3)[:, 0].astype(np.float32)
    terms = metrics.decompose(refs, ests[1], index=1, filter_length=16)
    assert all(t.dtype == np.float32 and t.shape == (3000 + 15,) for t in terms)
    np.testing.assert_allclose(sum(terms)[:3000], ests[1], atol=1e-5)


# --------------------------------------------------------------------------------------------
# Agreement with museval and mir_eval


def test_sources_mode_matches_museval_and_mir_eval(case):
    refs, ests = case
    ours = metrics.bss_eval(refs, ests)
    sdr, _, sir, sar, _ = museval.metrics.bss_eval(
        museval_layout(refs), museval_layout(ests), window=np.inf, hop=np.inf,
        compute_permutation=False, bsseval_sources_version=True)
    np.testing.assert_allclose(ours.sdr, sdr[:, 0], atol=TOL_DB, rtol=0)
    np.testing.assert_allclose(ours.sir, sir[:, 0], atol=TOL_DB, rtol=0)
    np.testing.assert_allclose(ours.sar, sar[:, 0], atol=TOL_DB, rtol=0)
    assert np.isnan(ours.isr).all() and ours.sdr.shape == (len(refs),)
    if refs.shape[1] == 1:  # mir_eval's bss_eval_sources is single-channel
        import mir_eval

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mir_eval.separation is deprecated in favour of museval
            m_sdr, m_sir, m_sar, _ = mir_eval.separation.bss_eval_sources(refs[:, 0], ests[:, 0],
                                                                         compute_permutation=False)
        mono = metrics.bss_eval(refs[:, 0], ests[:, 0])
        np.testing.assert_allclose([mono.sdr, mono.sir, mono.sar], [m_sdr, m_sir, m_sar], atol=TOL_DB, rtol=0)
        # and the scores are not all alike, so the agreement says something
        assert np.ptp(mono.sdr) > 0.5 or len(refs) == 2


def test_images_mode_and_short_filters_match_museval():
    refs = make_sources(2, 2, 6000, seed=11)
    ests = make_estimates(refs, noise=0.3, seed=11)
    for filter_length in (1, 512):
        ours = metrics.bss_eval(refs, ests, filter_length=filter_length, images=True)
        sdr, isr, sir, sar, _ = museval.metrics.bss_eval(
            museval_layout(refs), museval_layout(ests), window=np.inf, hop=np.inf,
            compute_permutation=False, filters_len=filter_length)
        for a, b in zip((ours.sdr, ours.isr, ours.sir, ours.sar), (sdr, isr, sir, sar)):
            np.testing.assert_allclose(a, b[:, 0], atol=TOL_DB, rtol=0)
    # the images SDR is the plain SNR of the estimate against its reference
    np.testing.assert_allclose(ours.sdr, metrics.snr(refs.reshape(2, -1), ests.reshape(2, -1)), atol=1e-9)


def test_fewer_estimates_than_references():
    refs = make_sources(3, 1, 5000, seed=5)[:, 0]
    ests = make_estimates(refs[:, None], noise=0.2, seed=5)[:, 0]
    all_three = metrics.bss_eval(refs, ests)
    first_two = metrics.bss_eval(refs, ests[:2])
    np.testing.assert_allclose(first_two.sdr, all_three.sdr[:2], atol=1e-9)
    np.testing.assert_allclose(first_two.sir, all_three.sir[:2], atol=1e-9)


# --------------------------------------------------------------------------------------------
# Frame-wise BSS Eval v4


@pytest.fixture(scope="module")
def stereo_track():
    n = int(3.6 * FRAME_SR)  # 3 full frames and a partial one, which museval drops
    refs = make_sources(3, 2, n, seed=21)
    pause = slice(int(0.9 * FRAME_SR), int(2.1 * FRAME_SR))
    refs[1, :, pause] = 0  # source 1 pauses: frame 1 is silent
    ests = make_estimates(refs, noise=0.3, seed=21)
    ests[1, :, pause] *= 0.01  # its estimate does not quite
    with repro.one_blas_thread():
        official = museval.evaluate(museval_layout(refs), museval_layout(ests), win=FRAME_SR, hop=FRAME_SR)
    return refs, ests, official


def test_frames_match_museval_evaluate(stereo_track):
    refs, ests, (sdr, isr, sir, sar) = stereo_track
    with pytest.warns(SilenceWarning, match=r"reference 'source1'.*starting at 1 s"):
        ours = metrics.bss_eval_frames(refs, ests, sr=FRAME_SR)
    assert ours.sdr.shape == (3, 3) and ours.images
    np.testing.assert_array_equal(ours.times, [0.0, 1.0, 2.0])
    for a, b in zip((ours.sdr, ours.isr, ours.sir, ours.sar), (sdr, isr, sir, sar)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(a[:, 1]).all() and np.isfinite(a[:, [0, 2]]).all()
        np.testing.assert_allclose(np.nanmedian(a, axis=1), np.nanmedian(b, axis=1), atol=TOL_DB, rtol=0)
        np.testing.assert_allclose(a, b, atol=TOL_DB, rtol=0)  # frame by frame, too


def test_museval_backend_is_museval_evaluate(stereo_track):
    refs, ests, official = stereo_track
    with pytest.warns(SilenceWarning):
        wrapped = metrics.bss_eval_frames(refs, ests, sr=FRAME_SR, backend="museval")
    for a, b in zip((wrapped.sdr, wrapped.isr, wrapped.sir, wrapped.sar), official):
        np.testing.assert_array_equal(a, b)


def test_silent_frames_are_skipped_by_the_median(stereo_track):
    refs, ests, _ = stereo_track
    with pytest.warns(SilenceWarning):
        frames = metrics.bss_eval_frames(refs, ests, sr=FRAME_SR)
    agg = frames.median()
    assert agg.sdr.shape == (3,) and agg.times is None
    np.testing.assert_allclose(agg.sdr, np.mean(frames.sdr[:, [0, 2]], axis=1))  # median of 2 = mean
    assert np.isfinite(agg.sdr).all() and np.isfinite(agg.sar).all()


def test_sources_mode_frames_and_a_signal_shorter_than_a_frame():
    refs = make_sources(2, 1, 3000, seed=8)
    ests = make_estimates(refs, noise=0.2, seed=8)
    frames = metrics.bss_eval_frames(refs, ests, sr=SR, images=False)  # 3000 < 8000: one frame
    whole = metrics.bss_eval(refs, ests)
    assert frames.sdr.shape == (2, 1)
    np.testing.assert_allclose(frames.sdr[:, 0], whole.sdr, atol=1e-9)
    np.testing.assert_allclose(frames.sar[:, 0], whole.sar, atol=1e-9)


def test_overlapping_frames_match_museval():
    refs = make_sources(2, 1, 3 * FRAME_SR + 700, seed=15)
    ests = make_estimates(refs, noise=0.4, seed=15)
    ours = metrics.bss_eval_frames(refs, ests, sr=FRAME_SR, hop_length=FRAME_SR // 2)
    sdr, isr, sir, sar, _ = museval.metrics.bss_eval(museval_layout(refs), museval_layout(ests), window=FRAME_SR,
                                                     hop=FRAME_SR // 2, compute_permutation=False)
    assert ours.sdr.shape == (2, 5)
    np.testing.assert_allclose(ours.times, [0, 0.5, 1, 1.5, 2])
    for a, b in zip((ours.sdr, ours.isr, ours.sir, ours.sar), (sdr, isr, sir, sar)):
        np.testing.assert_allclose(a, b, atol=TOL_DB, rtol=0)


def test_block_levinson_solves_the_gram_system():
    rng = np.random.default_rng(16)
    for m, L in [(1, 40), (3, 64)]:
        u = scipy.signal.lfilter([1, 0.5], [1, -0.6], rng.standard_normal((m, 3000)), axis=-1)
        r = _bsseval.lag_correlations(u, u[:0], L - 1)
        rhs = rng.standard_normal((m * L, 2))
        gram = _bsseval.block_toeplitz(r)
        for p, q in [(3, 1), (L - 1, 0)]:  # G holds <u_a delayed by p, u_b delayed by q>
            a, b = 0, m - 1
            direct = np.dot(np.pad(u[a], (p, L - p)), np.pad(u[b], (q, L - q)))
            assert gram[a * L + p, b * L + q] == pytest.approx(direct, rel=1e-10)
        np.testing.assert_allclose(_bsseval.levinson(r, rhs), np.linalg.solve(gram, rhs), rtol=1e-7, atol=1e-9)


def test_dependent_references_warn_and_still_score():
    refs = make_sources(2, 1, 3000, seed=17)[:, 0]
    refs[1] = 0.5 * refs[0]  # a scaled copy: the delayed references are linearly dependent
    ests = make_estimates(refs[:, None], noise=0.3, seed=17)[:, 0]
    with pytest.warns(RuntimeWarning, match="linearly dependent"):
        res = metrics.bss_eval(refs, ests)
    assert np.isfinite(res.sdr).all()


# --------------------------------------------------------------------------------------------
# Perfect estimates and silence


def test_perfect_estimate_scores_very_high_or_inf():
    refs = make_sources(3, 1, 4000, seed=4)
    res = metrics.bss_eval(refs, refs)
    assert np.all(res.sdr > 100) and np.all(res.sir > 100) and np.all(res.sar > 100)
    images = metrics.bss_eval(refs, refs, images=True)
    assert np.all(images.sdr == np.inf)
    frames = metrics.bss_eval_frames(refs, refs, sr=1000)
    assert np.all(frames.sdr == np.inf) and np.all(frames.median().sdr == np.inf)
    assert metrics.si_sdr(refs[0, 0], refs[0, 0]) == np.inf and metrics.snr(refs[0, 0], refs[0, 0]) == np.inf


def test_silent_reference_is_nan_with_a_warning_naming_it():
    refs = make_sources(3, 2, 4000, seed=9)
    ests = make_estimates(refs, noise=0.2, seed=9)
    refs[2] = 0.0
    names = ("vocals", "drums", "bass")
    with pytest.warns(SilenceWarning, match="'bass'"):
        res = metrics.bss_eval(refs, ests, names=names)
    assert np.isnan(res.sdr[2]) and np.isnan(res.sir[2]) and np.isnan(res.sar[2])
    # a silent reference spans nothing: the other sources score as if it were not there
    without = metrics.bss_eval(refs[:2], ests[:2])
    np.testing.assert_allclose(res.sdr[:2], without.sdr, atol=1e-9)
    np.testing.assert_allclose(res.sir[:2], without.sir, atol=1e-9)
    with pytest.warns(SilenceWarning, match="'bass'"):
        frames = metrics.bss_eval_frames(refs, ests, sr=2000, names=names)
    assert np.isnan(frames.sdr[2]).all() and np.isfinite(frames.sdr[:2]).all()


def test_silent_reference_with_the_museval_backend_does_not_crash():
    refs = make_sources(3, 1, 4000, seed=10)
    ests = make_estimates(refs, noise=0.2, seed=10)
    refs[0] = 0.0
    ests[2] = 0.0  # a silent estimate, too
    with pytest.warns(SilenceWarning) as record:
        official = metrics.bss_eval_frames(refs, ests, sr=2000, backend="museval")
    messages = " ".join(str(w.message) for w in record)
    assert "Reference 'source0'" in messages and "Estimate 'source2'" in messages
    with pytest.warns(SilenceWarning):
        ours = metrics.bss_eval_frames(refs, ests, sr=2000)
    assert np.isnan(official.sdr[[0, 2]]).all() and np.isnan(ours.sdr[[0, 2]]).all()
    np.testing.assert_allclose(ours.sir[1], official.sir[1], atol=TOL_DB)
    np.testing.assert_allclose(ours.sar[1], official.sar[1], atol=TOL_DB)


# --------------------------------------------------------------------------------------------
# SI-SDR and SNR


def test_si_sdr_is_scale_invariant_and_snr_is_not():
    refs = make_sources(1, 2, 4000, seed=12)[0]
    est = make_estimates(refs[None], noise=0.5, seed=12)[0]
    base = metrics.si_sdr(refs, est)
    assert base.shape == (2,)
    for gain in (0.01, 0.5, 3.0, -2.0):
        np.testing.assert_allclose(metrics.si_sdr(refs, gain * est), base, atol=1e-9)
    assert abs(metrics.snr(refs[0], 0.5 * est[0]) - metrics.snr(refs[0], est[0])) > 1.0


@pytest.mark.parametrize("target_db", [-5.0, 0.0, 12.0, 30.0])
def test_si_sdr_and_snr_known_values(target_db):
    rng = np.random.default_rng(int(target_db) + 50)
    s = make_sources(1, 1, 8000, seed=13)[0, 0]
    noise = rng.standard_normal(s.size)
    noise -= (noise @ s) / (s @ s) * s  # orthogonal to s
    noise *= np.sqrt((s @ s) / (noise @ noise) / 10 ** (target_db / 10))
    assert metrics.si_sdr(s, s + noise) == pytest.approx(target_db, abs=1e-9)
    assert metrics.snr(s, s + noise) == pytest.approx(target_db, abs=1e-9)
    assert metrics.si_sdr(s, 7.0 * (s + noise)) == pytest.approx(target_db, abs=1e-9)


def test_si_sdr_of_a_silent_reference_is_nan_with_a_warning():
    refs = np.stack([make_sources(1, 1, 1000, seed=1)[0, 0], np.zeros(1000)])
    with pytest.warns(SilenceWarning, match="index 1"):
        out = metrics.si_sdr(refs, refs + 0.1)
    assert np.isfinite(out[0]) and np.isnan(out[1])


# --------------------------------------------------------------------------------------------
# Tables


def test_evaluate_and_summarise_are_the_frame_wise_v4_medians():
    tracks = []
    for seed in (31, 32, 33):
        refs = make_sources(4, 1, 2 * FRAME_SR + 100, seed=seed)[:, 0].astype(np.float32)
        if seed == 33:
            refs[0, :FRAME_SR] = 0  # frame 0 of the vocals of song 33 is silent
        stems = dict(zip(STEMS, refs))
        tracks.append(Track(f"song{seed}", FRAME_SR, refs.sum(axis=0), stems, "test", "toy"))
    estimates = {t.name: make_estimates(t.sources[:, None].astype(np.float64), noise=0.3, seed=1)[:, 0]
                 for t in tracks}
    method = {"noisy": lambda t: dict(zip(STEMS, estimates[t.name]))}
    with pytest.warns(SilenceWarning):
        scores = metrics.evaluate(tracks, method, definition="v4")
    assert list(scores.columns) == ["track", "method", "source", "metric", "value", "definition", "seconds"]
    assert len(scores) == 3 * 4 * 4 and set(scores["metric"]) == {"SDR", "SIR", "SAR", "ISR"}
    table = metrics.summarise(scores)
    assert table.attrs["caption"] == "median over 3 songs; " + metrics.DEFINITIONS["v4"] + "; dB"
    per_track = []
    for t in tracks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SilenceWarning)
            per_track.append(np.nanmedian(metrics.bss_eval_frames(t.sources, estimates[t.name], sr=FRAME_SR).sdr, axis=1))
    np.testing.assert_allclose(table["SDR"].loc["noisy"].to_numpy(), np.median(per_track, axis=0), atol=1e-9)
    # per-frame rows reduce to the same table
    with pytest.warns(SilenceWarning):
        frames = metrics.evaluate(tracks, method, definition="v4", per_frame=True)
    assert "time" in frames.columns and frames["value"].isna().any()
    np.testing.assert_allclose(metrics.summarise(frames, metric="SDR"), table["SDR"], atol=1e-9)


# --------------------------------------------------------------------------------------------
# Agreement with museval on a near-mono stereo stem


def test_a_near_mono_bass_agrees_with_museval_to_a_hundredth_of_a_db():
    """A band-limited bass whose two channels are almost equal makes the Gram system nearly
    singular: the solve must still give museval's numbers (it once differed by 0.07 dB)."""
    n = int(3.5 * SR)
    refs = make_sources(4, 2, n, seed=5)
    sos = scipy.signal.butter(6, 400, fs=SR, output="sos")
    refs[1, 0] = scipy.signal.sosfilt(sos, refs[1, 0])  # a bass: nothing above 400 Hz ...
    refs[1, 1] = 0.98 * refs[1, 0] + 1e-4 * np.random.default_rng(3).standard_normal(n)  # ... and near mono
    ests = make_estimates(refs, noise=0.3, seed=5)
    official = museval.evaluate(museval_layout(refs), museval_layout(ests), win=SR, hop=SR)
    ours = metrics.bss_eval_frames(refs, ests, sr=SR)
    for a, b in zip((ours.sdr, ours.isr, ours.sir, ours.sar), official):
        np.testing.assert_allclose(a, b, atol=TOL_DB, rtol=0)  # every frame, every metric
    m_sdr, _, m_sir, m_sar, _ = museval.metrics.bss_eval(
        museval_layout(refs), museval_layout(ests), window=np.inf, hop=np.inf, compute_permutation=False,
        filters_len=metrics.FILTER_LENGTH, framewise_filters=False, bsseval_sources_version=True)
    whole = metrics.bss_eval(refs, ests)
    np.testing.assert_allclose([whole.sdr, whole.sir, whole.sar], [m_sdr[:, 0], m_sir[:, 0], m_sar[:, 0]],
                               atol=TOL_DB, rtol=0)


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "refs_shape, ests_shape, match",
    [
        ((2, 1000), (2, 900), "samples"),
        ((2, 2, 1000), (2, 1, 1000), "channels"),
        ((2, 1000), (3, 1000), "more estimates"),
        ((2, 1000), (2, 2, 1000), "dimensions"),
        ((1000,), (1000,), "n_sources"),
        ((2, 0), (2, 0), "empty"),
    ],
)
def test_bad_shapes_raise(refs_shape, ests_shape, match):
    with pytest.raises(ValueError, match=match):
        metrics.bss_eval(np.ones(refs_shape), np.ones(ests_shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_samples_raise(bad):
    refs = make_sources(2, 1, 1000, seed=2)[:, 0]
    ests = refs.copy()
    ests[1, 10] = bad
    with pytest.raises(ValueError, match="non-finite"):
        metrics.bss_eval(refs, ests)
    with pytest.raises(ValueError, match="non-finite"):
        metrics.bss_eval_frames(ests, refs, sr=SR)
    with pytest.raises(ValueError, match="non-finite"):
        metrics.si_sdr(refs[1], ests[1])


def test_other_bad_arguments_raise():
    refs = make_sources(2, 1, 1000, seed=2)[:, 0]
    with pytest.raises(ValueError, match="index"):
        metrics.decompose(refs, refs[0], index=2)
    with pytest.raises(ValueError, match="shape"):
        metrics.decompose(refs, refs[0, :500], index=0)
    with pytest.raises(ValueError, match="filter_length"):
        metrics.bss_eval(refs, refs, filter_length=0)
    with pytest.raises(ValueError, match="backend"):
        metrics.bss_eval_frames(refs, refs, sr=SR, backend="matlab")
    with pytest.raises(ValueError, match="shape"):
        metrics.si_sdr(refs[0], refs[0, :999])
    with pytest.raises(ValueError, match="real-valued"):
        metrics.snr(refs[0].astype(complex), refs[0])
    with pytest.raises(ValueError, match="columns"):
        metrics.summarise(__import__("pandas").DataFrame({"x": [1]}))
