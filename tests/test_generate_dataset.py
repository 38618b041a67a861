"""tools/generate_dataset.py rebuilds the shipped songs from the seed: the scores byte for byte,
the sung vocals sample for sample, and (where fluidsynth and the soundfonts are installed) a
rendered stem too."""

from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import generate_dataset as gen  # noqa: E402

from course_utils import audio, data  # noqa: E402


@pytest.fixture(scope="module")
def songs():
    return {s.name: s for s in gen.plan_songs(80, 2026, 8)}


@pytest.fixture(scope="module")
def shipped():
    return {t.name: t for split in data.SPLITS for t in data.load_dataset("bundled", split=split)}


def _stored(track, stem):
    y, _ = audio.load(data.bundled_root() / track.split / track.name / f"{stem}.flac")
    return np.round(y * 32768).astype(np.int32)


def test_the_plan_matches_the_shipped_songs(songs, shipped):
    assert sorted(songs) == sorted(shipped)
    for name, song in songs.items():
        info = shipped[name].info
        assert (song.split, str(song.tempo), song.key_name, song.style.name) == \
            (shipped[name].split, info["tempo_bpm"], info["key"], info["style"])
        assert abs(shipped[name].duration - song.duration) < 1e-3


@pytest.mark.parametrize("name", ["song_003", "song_070"])  # a training song and a test song
def test_scores_are_rebuilt_byte_for_byte(songs, shipped, name, tmp_path):
    for stem in data.STEMS:
        gen.write_midi(songs[name], stem, str(tmp_path / f"{stem}.mid"))
        assert filecmp.cmp(tmp_path / f"{stem}.mid", shipped[name].info["score"][stem], shallow=False), stem


@pytest.mark.parametrize("name", ["song_003", "song_070"])
def test_the_sung_vocals_are_rebuilt_sample_for_sample(songs, shipped, name):
    song, track = songs[name], shipped[name]
    song.mix = track.info["mix"]  # the stored gain; the strip needs no other stem
    dry = gen.sing_vocals(song)
    strips = gen.channel_strips(song, {stem: dry for stem in data.STEMS})  # only the vocals strip is used
    rebuilt = np.round(strips["vocals"] * song.mix["strip_gain"] * 32767.0 / gen.QUANT_STEP) * gen.QUANT_STEP
    np.testing.assert_array_equal(rebuilt.astype(np.int32), _stored(track, "vocals"))


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not all(map(Path.exists, map(Path, gen.SOUNDFONTS.values()))),
                    reason="needs fluidsynth and both soundfonts (apt-get install fluidsynth fluid-soundfont-gm "
                           "musescore-general-soundfont)")
def test_a_rendered_stem_is_rebuilt_where_fluidsynth_matches(songs, shipped):
    song, track = songs["song_003"], shipped["song_003"]
    song.mix = track.info["mix"]
    with tempfile.TemporaryDirectory() as tmp:
        raw = {stem: gen.render_stem(song, stem, tmp, gen.SOUNDFONTS, tmp) for stem in data.STEMS}
    strips = gen.channel_strips(song, raw)
    rebuilt = np.round(strips["bass"] * song.mix["strip_gain"] * 32767.0 / gen.QUANT_STEP) * gen.QUANT_STEP
    np.testing.assert_array_equal(rebuilt.astype(np.int32), _stored(track, "bass"))
