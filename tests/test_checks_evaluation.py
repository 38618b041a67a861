"""The self-checks of 06_evaluation accept right answers and explain wrong ones."""

import numpy as np
import pytest

from course_utils import checks

rng = np.random.default_rng(3)
S = rng.standard_normal(500)
X = 0.7 * S + 0.3 * rng.standard_normal(500)
ALPHA = np.dot(X, S) / np.dot(S, S)


@pytest.mark.parametrize("answer, ok, says", [
    (ALPHA * S, True, "Correct"),
    ((ALPHA * S).astype(np.float32), True, f"{ALPHA:.3f}"),
    (None, False, "still None"),
    (S, False, "reference itself"),
    (X, False, "whole estimate"),
    (np.dot(X, S) / np.dot(X, X) * X, False, "projected the reference onto the estimate"),
    (np.dot(X, S) * S, False, "divide by the reference's energy"),
    (np.dot(X, S) / np.linalg.norm(S) * S, False, "not by the norm"),
    (ALPHA * S[:10], False, "shape"),
    (np.full(500, np.nan), False, "NaN"),
    (ALPHA * S + 0.1, False, "not a multiple"),
])
def test_check_plain_projection(answer, ok, says, capsys):
    assert checks.check_plain_projection(answer, S, X) is ok
    out = capsys.readouterr().out
    assert says in out
    assert out.startswith("Correct: " if ok else "Not yet: ")


def test_check_plain_projection_silent_reference(capsys):
    assert not checks.check_plain_projection(np.zeros(500), np.zeros(500), X)
    assert "silent" in capsys.readouterr().out


@pytest.mark.parametrize("prediction, ok, says", [
    ("SAR", True, "'SAR' falls the most"),
    ("SIR", False, "the measurement says 'SAR'"),
    (None, False, "still None"),
    ("SNR", False, "not one of the options"),
])
def test_check_prediction_picks_the_lowest(prediction, ok, says, capsys):
    assert checks.check_prediction(prediction, {"SIR": -0.1, "SAR": -6.0}, expect="lowest", verdict="falls the most",
                                   hint="Explained by a source?") is ok
    out = capsys.readouterr().out
    assert says in out
    assert "-6.00 dB" in out or prediction in (None, "SNR")


def test_check_plain_projection_uses_the_notebooks_name(capsys):
    assert not checks.check_plain_projection(None, S, X, name="my_target")
    assert "`my_target` is still None" in capsys.readouterr().out


def test_check_plain_decomposition(capsys):
    refs = np.random.default_rng(8).standard_normal((3, 400))
    est = refs[0] + 0.3 * refs[1] + 0.1 * np.random.default_rng(9).standard_normal(400)
    target = est @ refs[0] / (refs[0] @ refs[0]) * refs[0]
    on_all = refs.T @ np.linalg.lstsq(refs.T, est, rcond=None)[0]
    assert checks.check_plain_decomposition((target, on_all - target, est - on_all), refs, est)
    assert "match metrics.decompose" in capsys.readouterr().out
    for wrong, says in [((target, est - target, 0 * est), "all the true sources"),
                        ((refs[0], est - refs[0], 0 * est), "true source alone"),
                        ((target, target, target), "add up"), (None, "still None")]:
        assert not checks.check_plain_decomposition(wrong, refs, est)
        assert says in capsys.readouterr().out
