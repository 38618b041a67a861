"""The notebooks' self-checks accept right answers and explain wrong ones."""

import numpy as np
import pytest

from course_utils import checks
from course_utils.data import Track

rng = np.random.default_rng(1)
STEMS = {s: (0.1 * rng.standard_normal(1000)).astype(np.float32) for s in ("vocals", "drums", "bass", "other")}
TRACK = Track("toy", 8000, sum(STEMS.values()).astype(np.float32), STEMS, "test", "toy")


@pytest.mark.parametrize("answer, ok, says", [
    (TRACK.mixture - STEMS["vocals"], True, "Correct"),
    (STEMS["drums"] + STEMS["bass"] + STEMS["other"], True, "Correct"),
    (None, False, "still None"),
    (TRACK.mixture, False, "vocals are still in it"),
    (STEMS["vocals"], False, "vocals alone"),
    (0.5 * (TRACK.mixture - STEMS["vocals"]), False, "scaled by 0.500"),
    ((TRACK.mixture - STEMS["vocals"])[:10], False, "shape"),
])
def test_check_karaoke(answer, ok, says, capsys):
    assert checks.check_karaoke(answer, TRACK) is ok
    assert says in capsys.readouterr().out


def test_check_bass_boost_explains_decibels(capsys):
    right = TRACK.mixture + (10 ** (6 / 20) - 1) * STEMS["bass"]
    assert checks.check_bass_boost(right, TRACK)
    assert not checks.check_bass_boost(TRACK.mixture + 5 * STEMS["bass"], TRACK)
    assert "not 6.0" in capsys.readouterr().out


def test_check_signal_rejects_non_finite(capsys):
    bad = TRACK.mixture.copy()
    bad[3] = np.nan
    assert not checks.check_signal(bad, TRACK.mixture, name="x")
    assert "NaN" in capsys.readouterr().out
