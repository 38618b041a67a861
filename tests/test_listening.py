"""Tests for course_utils.listening: playback gain and the embedded-WAV HTML players."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
import soundfile
from IPython.display import HTML

from course_utils import listening
from course_utils.audio import AudioError

SR = 8000
MINUS_1_DB = 10 ** (-1 / 20)
DATA_URI = re.compile(r'src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def decode_players(html_text: str):
    """Every embedded WAV in ``html_text``, as (samples, sr); samples shaped like the course's."""
    out = []
    for payload in DATA_URI.findall(html_text):
        data, sr = soundfile.read(io.BytesIO(base64.b64decode(payload)), dtype="float64", always_2d=True)
        out.append((data.T[0] if data.shape[1] == 1 else data.T, sr))
    return out


# ---------------------------------------------------------------- playback_gain


def test_headroom_constant():
    assert listening.HEADROOM_DB == -1.0


def test_playback_gain_puts_peak_at_minus_1_dbfs(rng):
    y = rng.uniform(-0.3, 0.3, 1000)
    g = listening.playback_gain([y])
    assert np.max(np.abs(g * y)) == pytest.approx(MINUS_1_DB, rel=1e-9)


def test_playback_gain_one_gain_for_a_group(rng):
    mix = rng.uniform(-0.8, 0.8, (2, 1000))
    stem = 0.25 * mix[0]
    g = listening.playback_gain([stem, mix])
    assert np.max(np.abs(g * mix)) == pytest.approx(MINUS_1_DB, rel=1e-9)  # the loudest one decides
    assert np.max(np.abs(g * stem)) / np.max(np.abs(g * mix)) == pytest.approx(
        np.max(np.abs(stem)) / np.max(np.abs(mix)))
    assert g == listening.playback_gain([mix, stem])  # order does not matter


@pytest.mark.parametrize("headroom", [0.0, -6.0, -20.0])
def test_playback_gain_headroom(headroom):
    y = np.array([0.0, 0.5, -0.25])
    assert 0.5 * listening.playback_gain([y], headroom_db=headroom) == pytest.approx(10 ** (headroom / 20))


def test_playback_gain_silence_and_cap():
    assert listening.playback_gain([np.zeros(100), np.zeros((2, 50))]) == 1.0
    assert listening.playback_gain([np.full(100, 1e-3)]) == 10.0  # 20 dB at most
    assert listening.playback_gain([np.full(100, 0.09)]) == pytest.approx(MINUS_1_DB / 0.09)  # below the cap


def test_playback_gain_attenuates_loud_signals():
    assert listening.playback_gain([np.array([0.0, 4.0])]) == pytest.approx(MINUS_1_DB / 4)


# ------------------------------------------------------------------ player_html


def test_player_html_embeds_scaled_wav(rng):
    y = rng.uniform(-0.4, 0.4, 800).astype(np.float32)
    text = listening.player_html(y, sr=SR, label="mixture", gain=2.0)
    assert text.count("<audio") == 1 and "mixture" in text
    ((samples, sr),) = decode_players(text)
    assert sr == SR and samples.shape == y.shape
    np.testing.assert_allclose(samples, 2.0 * y, rtol=0, atol=1e-3)


def test_player_html_stereo(rng):
    y = rng.uniform(-0.5, 0.5, (2, 400)).astype(np.float32)
    ((samples, sr),) = decode_players(listening.player_html(y, sr=SR))
    assert samples.shape == (2, 400)
    np.testing.assert_allclose(samples, y, rtol=0, atol=1e-3)


def test_player_html_escapes_label():
    text = listening.player_html(np.full(10, 0.1, dtype=np.float32), sr=SR, label="<b>loud</b> & clear")
    assert "&lt;b&gt;loud&lt;/b&gt; &amp; clear" in text
    assert "<b>" not in text


def test_player_html_without_label_has_no_caption():
    text = listening.player_html(np.full(10, 0.1, dtype=np.float32), sr=SR)
    assert "font-weight:600" not in text and text.count("<audio") == 1


def test_player_html_refuses_clipping():
    y = np.array([0.0, 0.5, -0.6], dtype=np.float32)
    with pytest.raises(AudioError, match=r"'vocals' would clip \(peak 1\.20\)"):
        listening.player_html(y, sr=SR, label="vocals", gain=2.0)
    ((samples, _),) = decode_players(listening.player_html(y[:2], sr=SR, gain=2.0))  # exactly full scale is fine
    np.testing.assert_allclose(samples, [0.0, 1.0], atol=1e-3)


def test_player_html_validates():
    with pytest.raises(AudioError):
        listening.player_html(np.array([0.0, np.nan], dtype=np.float32), sr=SR)
    with pytest.raises(AudioError):
        listening.player_html(np.zeros(10, dtype=np.float32), sr=0)


# ---------------------------------------------------------------------- players


@pytest.fixture
def group(rng):
    mixture = rng.uniform(-0.6, 0.6, 1200).astype(np.float32)
    return {"mixture": mixture, "vocals <b>lead</b>": 0.2 * mixture, "silence": np.zeros(1200, np.float32)}


def test_players_html_structure(group):
    out = listening.players(group, sr=SR, title="Song <1>")
    assert isinstance(out, HTML)
    text = out.data
    assert text.count("<audio") == len(group)
    assert "mixture" in text and "silence" in text
    assert "vocals &lt;b&gt;lead&lt;/b&gt;" in text and "<b>lead" not in text
    assert "Song &lt;1&gt;" in text
    labels = [text.index(label) for label in ("mixture", "vocals &lt;b&gt;", "silence")]
    assert labels == sorted(labels)  # shown in the dict's order


def test_players_same_gain_keeps_relative_levels(group):
    decoded = decode_players(listening.players(group, sr=SR).data)
    assert len(decoded) == 3
    g = listening.playback_gain(list(group.values()))
    for (samples, sr), y in zip(decoded, group.values()):
        assert sr == SR
        assert np.max(np.abs(samples)) <= 1.0
        np.testing.assert_allclose(samples, g * y, rtol=0, atol=1e-3)
    assert np.max(np.abs(decoded[0][0])) == pytest.approx(MINUS_1_DB, abs=1e-3)
    assert np.max(np.abs(decoded[1][0])) == pytest.approx(0.2 * MINUS_1_DB, abs=1e-3)
    np.testing.assert_array_equal(decoded[2][0], 0)


def test_players_separate_gains(group):
    decoded = decode_players(listening.players(group, sr=SR, same_gain=False).data)
    assert np.max(np.abs(decoded[0][0])) == pytest.approx(MINUS_1_DB, abs=1e-3)
    assert np.max(np.abs(decoded[1][0])) == pytest.approx(MINUS_1_DB, abs=1e-3)  # the quiet stem, brought up
    np.testing.assert_allclose(decoded[1][0], decoded[0][0], atol=1e-3)  # same shape, same level now
    np.testing.assert_array_equal(decoded[2][0], 0)


def test_players_separate_gains_are_capped(group):
    # a stem 40 dB down is brought up by 20 dB at most, even on its own
    quiet = {"mixture": group["mixture"], "residual": 0.01 * group["mixture"]}
    decoded = decode_players(listening.players(quiet, sr=SR, same_gain=False).data)
    np.testing.assert_allclose(decoded[1][0], 10 * quiet["residual"], rtol=0, atol=1e-3)


def test_players_headroom(group):
    decoded = decode_players(listening.players({"m": group["mixture"]}, sr=SR, headroom_db=-6.0).data)
    assert np.max(np.abs(decoded[0][0])) == pytest.approx(10 ** (-6 / 20), abs=1e-3)


def test_players_loud_input_is_brought_down():
    y = np.array([0.0, 3.0, -1.5, 0.75] * 50, dtype=np.float32)  # beyond full scale
    ((samples, _),) = decode_players(listening.players({"loud": y}, sr=SR).data)
    np.testing.assert_allclose(samples, y * MINUS_1_DB / 3.0, atol=1e-3)


def test_players_empty_raises():
    with pytest.raises(ValueError, match="at least one"):
        listening.players({}, sr=SR)
