"""Tests for course_utils.phase: copying phase, phase error, spectral convergence, (fast) Griffin-Lim."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_utils import phase, spectral

SR = 22050
N = 11025  # half a second: 44 frames of 256 samples (n is a multiple of the hop)


def _tone(n=N, seed=0):
    """A little "music": two harmonic notes with vibrato and a noise burst, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    y = np.zeros(n)
    for f0, start in ((220.0, 0.0), (330.0, 0.2)):
        inst = f0 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
        ph = 2 * np.pi * np.cumsum(inst) / SR
        env = (t >= start) * np.exp(-2 * np.clip(t - start, 0, None))
        y += env * sum(np.sin(k * ph) / k for k in range(1, 6))
    burst = (t > 0.3) & (t < 0.33)
    y[burst] += 0.5 * rng.standard_normal(burst.sum())
    return (0.3 * y).astype(np.float32)


@pytest.fixture(scope="module")
def y():
    return _tone()


@pytest.fixture(scope="module")
def S(y):
    return np.abs(spectral.stft(y))


def _snr(ref, est):
    return 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref - est).astype(np.float64) ** 2))


# ---------------------------------------------------------------------------------------------
# with_phase and phase_error


def test_with_phase_copies_phase_and_keeps_magnitude(y):
    X = spectral.stft(y)
    M = np.full(X.shape, 0.5, dtype=np.float32)
    Z = phase.with_phase(M, X)
    assert Z.dtype == np.complex64 and Z.shape == X.shape
    np.testing.assert_allclose(np.abs(Z), 0.5, rtol=1e-5)
    big = np.abs(X) > 1e-3 * np.abs(X).max()
    np.testing.assert_allclose(np.angle(Z)[big], np.angle(X)[big], atol=1e-4)


def test_with_phase_true_phase_is_perfect(y):
    X = spectral.stft(y)
    y_hat = spectral.istft(phase.with_phase(np.abs(X), X), length=len(y))
    assert _snr(y, y_hat) > 80


def test_with_phase_broadcasts_and_zero_phase_source():
    X = np.array([[1j, -1.0], [0.0, 2.0 + 0j]], dtype=np.complex64)  # (n_freq=2, n_frames=2)
    M = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))]).astype(np.float32)  # two "sources"
    Z = phase.with_phase(M, X)
    assert Z.shape == (2, 2, 2)
    np.testing.assert_allclose(Z[1], [[2j, -2], [2, 2]], atol=1e-6)  # a zero bin gets phase 0


@pytest.mark.parametrize("mag, src, says", [
    (np.ones((3, 4), np.complex64), np.ones((3, 4), np.complex64), "must be real"),
    (-np.ones((3, 4)), np.ones((3, 4), np.complex64), "non-negative"),
    (np.ones((3, 4)), np.ones((3, 4)), "complex STFT"),
    (np.ones((3, 4)), np.ones((3, 5), np.complex64), "does not broadcast"),
    (np.ones(4), np.ones(4, np.complex64), "n_freq, n_frames"),
    (np.full((3, 4), np.nan), np.ones((3, 4), np.complex64), "NaN"),
])
def test_with_phase_validates(mag, src, says):
    with pytest.raises(ValueError, match=says):
        phase.with_phase(mag, src)


def test_phase_error_values():
    ref = np.array([1 + 0j, 1j, -1, 2 * np.exp(0.3j), 0], dtype=np.complex64)[:, None]
    est = np.array([1 + 0j, -1j, 1j, 5 * np.exp(-0.2j), 1], dtype=np.complex64)[:, None]
    err = phase.phase_error(est, ref)
    assert err.dtype == np.float32 and err.shape == (5, 1)
    np.testing.assert_allclose(err[:, 0], [0, np.pi, np.pi / 2, 0.5, 0], atol=1e-5)
    assert (err >= 0).all() and (err <= np.pi + 1e-6).all()
    with pytest.raises(ValueError, match="complex"):
        phase.phase_error(np.ones(3), ref)


# ---------------------------------------------------------------------------------------------
# spectral_convergence


def test_spectral_convergence_values(y, S):
    assert phase.spectral_convergence(S, y) < -80                       # the signal itself
    assert phase.spectral_convergence(S, np.zeros_like(y)) == pytest.approx(0.0, abs=1e-9)  # ratio 1
    assert phase.spectral_convergence(S, 0.5 * y) == pytest.approx(20 * np.log10(0.5), abs=1e-3)
    assert phase.spectral_convergence(S, 0.5 * y, db=False) == pytest.approx(0.5, abs=1e-4)
    assert phase.spectral_convergence(S, -y) < -80                      # a sign flip is inaudible


def test_spectral_convergence_of_an_stft_resynthesises_it(y, S):
    rng = np.random.default_rng(0)
    X = S * np.exp(2j * np.pi * rng.random(S.shape)).astype(np.complex64)  # not a consistent STFT
    direct = phase.spectral_convergence(S, X, length=len(y))
    via_signal = phase.spectral_convergence(S, spectral.istft(X, length=len(y)))
    assert direct == pytest.approx(via_signal, abs=1e-6)
    assert -20 < direct < -1                                            # random phase: clearly off


def test_spectral_convergence_per_source_and_silence(y, S):
    ys = np.stack([y, 0.5 * y, y])
    Ss = np.stack([S, S, np.zeros_like(S)])
    with np.errstate(all="ignore"):
        sc = phase.spectral_convergence(Ss, ys)
    assert sc.shape == (3,)
    assert sc[0] < -80 and sc[1] == pytest.approx(-6.0206, abs=1e-3) and np.isnan(sc[2])


def test_spectral_convergence_validates(y, S):
    with pytest.raises(ValueError, match="frames"):
        phase.spectral_convergence(S, y[:-2000])
    with pytest.raises(ValueError, match="shaped like the magnitude"):
        phase.spectral_convergence(S, np.ones((S.shape[0], 3), np.complex64))
    with pytest.raises(ValueError, match="frequency bins"):
        phase.spectral_convergence(S, y, n_fft=512)
    with pytest.raises(ValueError, match="pad_mode"):
        phase.spectral_convergence(S, y, pad_mode="edge")


# ---------------------------------------------------------------------------------------------
# griffin_lim


def test_griffin_lim_shapes_and_length(y, S):
    out = phase.griffin_lim(S, n_iter=2)
    assert out.dtype == np.float32 and out.shape == (256 * (S.shape[-1] - 1),)
    assert phase.griffin_lim(S, n_iter=2, length=len(y) + 100).shape == (len(y) + 100,)
    with pytest.raises(ValueError, match="frames"):
        phase.griffin_lim(S, n_iter=1, length=len(y) // 2)


def test_griffin_lim_convergence_never_increases(y, S):
    _, history = phase.griffin_lim(S, n_iter=40, length=len(y), return_history=True)
    assert history.shape == (41,)
    assert np.all(np.diff(history) <= 1e-3)          # monotone, up to float32 rounding
    assert history[-1] < history[0] - 10             # and it really converges (> 10 dB)


def test_griffin_lim_history_is_the_convergence_of_each_output(y, S):
    _, history = phase.griffin_lim(S, n_iter=6, momentum=0.9, length=len(y), return_history=True)
    for k in (0, 1, 6):
        out = phase.griffin_lim(S, n_iter=k, momentum=0.9, length=len(y))
        assert history[k] == pytest.approx(phase.spectral_convergence(S, out), abs=1e-4)


def test_griffin_lim_from_the_true_phase_is_near_perfect(y, S):
    X = spectral.stft(y)
    out0, h0 = phase.griffin_lim(S, n_iter=0, init_phase=np.angle(X), length=len(y), return_history=True)
    assert _snr(y, out0) > 80 and h0[0] < -80
    out = phase.griffin_lim(S, n_iter=20, init_phase=X, length=len(y))  # complex: its phase is used
    assert _snr(y, out) > 50


def test_fast_griffin_lim_converges_faster(y, S):
    _, gl = phase.griffin_lim(S, n_iter=50, length=len(y), return_history=True)
    _, fgl = phase.griffin_lim(S, n_iter=50, momentum=0.99, length=len(y), return_history=True)
    assert fgl[-1] < gl[-1] - 3                      # at least 3 dB lower after the same 50 iterations
    assert fgl[1] == pytest.approx(gl[1])            # the first step has no previous iterate


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("momentum", [0.0, 0.99])
def test_griffin_lim_matches_librosa(y, S, momentum):
    librosa = pytest.importorskip("librosa")
    ours = phase.griffin_lim(S, n_iter=16, momentum=momentum, random_state=3, length=len(y))
    ref = librosa.griffinlim(S, n_iter=16, momentum=momentum, random_state=3, length=len(y), n_fft=1024,
                             hop_length=256, window="hann", center=True)
    assert np.abs(ref).max() > 0.05
    assert _rel(ours, ref) < 1e-4          # same seed, same initial phase: float32 rounding apart
    # A zero initial phase leaves bins near zero whose phase rounding decides; librosa in
    # float32 and in float64 differ by about 1e-3 there too.
    zeros = phase.griffin_lim(S, n_iter=16, momentum=momentum, init_phase="zeros", length=len(y))
    ref0 = librosa.griffinlim(S, n_iter=16, momentum=momentum, init=None, length=len(y))
    assert _rel(zeros, ref0) < 5e-3


@pytest.mark.parametrize("momentum", [0.0, 0.99])
def test_griffin_lim_matches_torchaudio_with_reflect_padding(y, S, momentum):
    torch = pytest.importorskip("torch")
    torchaudio = pytest.importorskip("torchaudio")
    gl = torchaudio.transforms.GriffinLim(n_fft=1024, hop_length=256, win_length=1024, power=1.0, n_iter=16,
                                          momentum=momentum, rand_init=False, length=len(y))
    ref = gl(torch.from_numpy(S)).numpy()
    ours = phase.griffin_lim(S, n_iter=16, momentum=momentum, init_phase="zeros", length=len(y),
                             pad_mode="reflect")
    assert _rel(ours, ref) < 5e-3
    # the course's zero padding is a different algorithm at the edges
    course = phase.griffin_lim(S, n_iter=16, momentum=momentum, init_phase="zeros", length=len(y))
    assert _rel(course, ref) > 10 * _rel(ours, ref)


def test_griffin_lim_random_state(S):
    a = phase.griffin_lim(S, n_iter=2, random_state=1)
    assert np.array_equal(a, phase.griffin_lim(S, n_iter=2, random_state=1))
    assert not np.allclose(a, phase.griffin_lim(S, n_iter=2, random_state=2))
    g = phase.griffin_lim(S, n_iter=2, random_state=np.random.default_rng(1))
    assert g.shape == a.shape and not np.allclose(a, g)  # a Generator draws other numbers than a seed
    with pytest.raises(ValueError, match="random_state"):
        phase.griffin_lim(S, n_iter=1, random_state="seed")


def test_griffin_lim_batch_equals_one_by_one(y, S):
    S2 = np.stack([S, 0.2 * S[:, ::-1]])             # two different magnitudes
    phi = np.random.default_rng(0).uniform(-np.pi, np.pi, S2.shape)
    both = phase.griffin_lim(S2, n_iter=5, init_phase=phi, length=len(y))
    for i in range(2):
        one = phase.griffin_lim(S2[i], n_iter=5, init_phase=phi[i], length=len(y))
        np.testing.assert_allclose(both[i], one, atol=1e-6)


@pytest.mark.parametrize("kwargs, error, says", [
    (dict(n_iter=-1), ValueError, "n_iter"),
    (dict(n_iter=1.5), ValueError, "n_iter"),
    (dict(momentum=-0.1), ValueError, "momentum"),
    (dict(init_phase="mixture"), ValueError, "init_phase"),
    (dict(init_phase=np.zeros((3, 3))), ValueError, "broadcast"),
    (dict(pad_mode="edge"), ValueError, "pad_mode"),
    (dict(n_fft=2048), ValueError, "frequency bins"),
])
def test_griffin_lim_validates(S, kwargs, error, says):
    with pytest.raises(error, match=says):
        phase.griffin_lim(S, **{"n_iter": 1, **kwargs})


def test_griffin_lim_warns_for_large_momentum(S):
    with pytest.warns(UserWarning, match="momentum"):
        phase.griffin_lim(S, n_iter=1, momentum=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        phase.griffin_lim(S, n_iter=1, momentum=0.99)


# ---------------------------------------------------------------------------------------------
# The self-checks of 03_phase_reconstruction (course_utils.checks)


def test_check_griffin_lim_step(y, S, capsys):
    from course_utils import checks

    n = len(y)
    X0 = phase.with_phase(S, np.exp(1j * np.random.default_rng(0).uniform(-np.pi, np.pi, S.shape)))
    T = spectral.stft(spectral.istft(X0, length=n))
    right = S * np.exp(1j * np.angle(T))
    cases = [
        (right, True, "Correct"),
        (right.astype(np.complex128) * (1 + 1e-6), True, "Correct"),
        (None, False, "still None"),
        (T, False, "consistent spectrogram"),
        (X0, False, "equals the spectrogram you started from"),
        (2 * right, False, "not the target magnitude"),
        (np.conj(right), False, "wrong sign"),
        (spectral.istft(right, length=n), False, "looks like a signal"),
        (np.abs(right), False, "is real"),
        (S * np.exp(1j * np.angle(T) + 0.5j), False, "phase is not the phase"),
    ]
    for answer, ok, says in cases:
        assert checks.check_griffin_lim_step(answer, X0, S, length=n) is ok
        assert says in capsys.readouterr().out


def test_check_prediction_picks_the_highest(capsys):
    from course_utils import checks

    measured = {"mixture phase": 9.5, "Griffin-Lim": 8.0}
    kw = dict(expect="highest", verdict="gives the higher SDR", hint="Whose phase?")
    assert checks.check_prediction("mixture phase", measured, **kw)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_prediction("Griffin-Lim", measured, **kw)
    assert "'mixture phase' gives the higher SDR (mixture phase: 9.50 dB, Griffin-Lim: 8.00 dB). Whose phase?" \
        in capsys.readouterr().out
    assert not checks.check_prediction(None, measured, **kw)
    assert "still None" in capsys.readouterr().out
    assert not checks.check_prediction("true phase", measured, **kw)
    assert "not one of the options" in capsys.readouterr().out
    with pytest.raises(ValueError, match="expect"):
        checks.check_prediction("Griffin-Lim", measured, expect="best", verdict="", hint="")


def test_check_spectral_convergence(capsys):
    from course_utils import checks

    rng = np.random.default_rng(12)
    y = rng.standard_normal((2, 6000)).astype(np.float32)
    A = np.abs(spectral.stft(y)) * rng.uniform(0.5, 1.5, size=(2, 513, 1))  # a target no signal has exactly
    right = phase.spectral_convergence(A, y)
    assert checks.check_spectral_convergence(right, A, y)
    assert "Correct" in capsys.readouterr().out
    ratio = 10 ** (right / 20)
    for wrong, says in [(ratio, "in dB"), (10 * np.log10(ratio), "20 log10"), (right[:1], "one value per source"),
                        (None, "still None")]:
        assert not checks.check_spectral_convergence(wrong, A, y)
        assert says in capsys.readouterr().out


def test_check_prediction_names_the_notebooks_variable(capsys):
    from course_utils import checks

    assert not checks.check_prediction(None, {"a": 1.0, "b": 2.0}, expect="highest", verdict="wins", hint="",
                                       name="louder")
    assert "`louder` is still None" in capsys.readouterr().out
