"""The notebooks' self-checks accept right answers and explain wrong ones."""

import numpy as np
import pytest

from course_utils import checks, data
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


def test_check_remix_wants_every_gain_right(capsys):
    track = data.load_dataset("bundled", split="test")[0]

    def remix(track, gains_db):
        return sum(10 ** (gains_db.get(s, 0.0) / 20) * track.stems[s].astype(np.float64) for s in data.STEMS)

    assert checks.check_remix(remix, track)
    assert "every gain right" in capsys.readouterr().out
    for wrong, says in [(lambda t, g: sum(10 ** (g[s] / 20) * t.stems[s] for s in g) if g else 0 * t.mixture,
                         "keeps 0 dB"),
                        (lambda t, g: sum(10 ** (g.get(s, 0.0) / 10) * t.stems[s] for s in data.STEMS), "10 ** (dB / 20)"),
                        (lambda t, g: t.mixture[:10], "shape"), (None, "replace None")]:
        assert not checks.check_remix(wrong, track)
        assert says in capsys.readouterr().out


def test_a_data_claim_is_asserted_on_the_bundled_songs_and_reported_on_other_data(capsys):
    assert checks.data_claim(True, "the bass sits on the kick", dataset="bundled")
    assert capsys.readouterr().out == ""  # on the bundled songs it is a silent assert
    with pytest.raises(AssertionError, match="bundled songs no longer show it: the bass sits on the kick"):
        checks.data_claim(False, "the bass sits on the kick", dataset="bundled")
    assert not checks.data_claim(False, "the bass sits on the kick", dataset="musdb-sample")
    assert "does NOT hold here" in capsys.readouterr().out
    assert checks.data_claim(True, "the bass sits on the kick", dataset="musdb-sample")
    assert "holds here too: the bass sits on the kick" in capsys.readouterr().out
