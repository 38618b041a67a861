"""Loaders: the bundled set (checksums, splits, the mixture model) and the MUSDB18 path."""

import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import soundfile

from course_utils import data

SR = 22050


@pytest.fixture(scope="module")
def bundled():
    return {split: data.load_dataset("bundled", split=split) for split in data.SPLITS}


def test_the_data_folder_fits_its_budget():
    # issue 14's budget for data/ (the bundled songs, their scores and mixes, the manifest, the notes)
    folder = Path(data.__file__).resolve().parent.parent / "data"
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert 30 * 2**20 < size <= 64 * 2**20


def test_split_sizes_and_track_layout(bundled):
    assert {s: len(t) for s, t in bundled.items()} == {"train": 64, "valid": 8, "test": 8}
    names = [t.name for ts in bundled.values() for t in ts]
    assert len(set(names)) == 80  # no song in two splits
    for track in (t for ts in bundled.values() for t in ts):
        assert track.sr == SR and track.mixture.dtype == np.float32 and track.mixture.ndim == 1
        assert set(track.stems) == set(data.STEMS)
        assert all(s.shape == track.mixture.shape for s in track.stems.values())
        assert 7.0 <= track.duration <= 9.0
        assert track.sources.shape == (4, track.mixture.size)


@pytest.fixture(scope="module")
def stereo():
    return data.load_dataset("bundled", split="test", mono=False)


def test_stereo_images_add_up_to_the_mixture_and_mono_is_their_downmix(stereo, bundled):
    for track, mono in zip(stereo, bundled["test"]):
        assert track.mixture.shape == (2, mono.mixture.size)
        np.testing.assert_allclose(track.mixture, data.mixture_from_stems(track.stems), atol=1e-6)
        np.testing.assert_allclose(mono.stems["other"], track.stems["other"].mean(axis=0), atol=1e-6)
        assert np.abs(track.mixture).max() < 1.0
        # the comping sits to one side, vocals and bass near the centre
        level = {s: 20 * np.log10(np.std(x[0]) / np.std(x[1])) for s, x in track.stems.items()}
        assert abs(level["other"]) > 2 and abs(level["vocals"]) < 2 and abs(level["bass"]) < 2, level


def test_every_song_ships_its_score_with_the_sung_syllables(bundled):
    import pretty_midi

    for track in bundled["test"][:3]:
        assert set(track.info["score"]) == set(data.STEMS)
        score = pretty_midi.PrettyMIDI(str(track.info["score"]["vocals"]))
        lead = next(i for i in score.instruments if i.name == "lead")
        assert len(score.lyrics) == len(lead.notes) > 5
        assert all(abs(lyric.time - note.start) < 1e-3 for lyric, note in zip(score.lyrics, lead.notes))
        bass = pretty_midi.PrettyMIDI(str(track.info["score"]["bass"])).instruments[0]
        assert all(28 <= n.pitch <= 64 for n in bass.notes)


def test_held_out_songs_use_timbres_no_training_song_uses(bundled):
    def timbres(tracks):
        return {(t.info["soundfont"], p) for t in tracks for p in t.info["programs"].split("; ")}

    train = timbres(bundled["train"])
    for split in ("valid", "test"):
        assert not timbres(bundled[split]) & train
        assert {t.info["voice"] for t in bundled[split]} & {t.info["voice"] for t in bundled["train"]} == set()


def test_mixture_is_exactly_the_sum_of_the_stems_and_does_not_clip(bundled):
    for track in (t for ts in bundled.values() for t in ts):
        np.testing.assert_allclose(track.mixture, data.mixture_from_stems(track.stems), atol=1e-6)
        assert np.abs(track.mixture).max() < 1.0


def test_no_stem_is_silent_and_vocals_sing_at_least_a_third_of_the_time(bundled):
    for track in (t for ts in bundled.values() for t in ts):
        for name, stem in track.stems.items():
            rms_db = 10 * np.log10(np.mean(stem.astype(np.float64) ** 2))
            assert rms_db > -45, f"{track.name}/{name} is nearly silent ({rms_db:.1f} dBFS)"
        frames = track.stems["vocals"][: track.mixture.size // 2205 * 2205].reshape(-1, 2205)
        active = np.mean(np.sqrt((frames**2).mean(axis=1)) > 1e-3)
        assert active > 1 / 3, f"{track.name}: vocals active in only {active:.0%} of 100 ms frames"


def test_songs_differ(bundled):
    infos = [t.info for ts in bundled.values() for t in ts]
    tempos = [float(i["tempo_bpm"]) for i in infos]
    assert min(tempos) >= 80 and max(tempos) <= 160 and max(tempos) - min(tempos) > 40
    assert len({i["key"] for i in infos}) >= 5 and len({i["style"] for i in infos}) >= 3


def test_load_time_resampling_and_channels(bundled):
    (track,) = data.load_dataset("bundled", split="test", sr=16000)[:1]
    reference = bundled["test"][0]
    assert track.sr == 16000
    assert abs(track.mixture.size - reference.mixture.size * 16000 / SR) <= 1


def test_every_checksum_verifies():
    rows = (data.bundled_root() / "manifest.csv").read_text().strip().splitlines()[1:]
    assert data.verify_bundled() == len(rows) == 80 * (4 + 4 + 1)  # per song: 4 strips, 4 scores, mix.json


@pytest.fixture
def bundled_copy(tmp_path):
    root = tmp_path / "bundled"
    shutil.copytree(data.bundled_root(), root)
    return root


def test_corrupt_file_is_named_with_how_to_restore(bundled_copy):
    victim = next((bundled_copy / "test").glob("*/vocals.flac"))
    y, sr = soundfile.read(victim)
    soundfile.write(victim, y * 0.5, sr)
    with pytest.raises(data.DataError) as err:
        data.load_dataset("bundled", split="test", root=bundled_copy)
    relative = victim.relative_to(bundled_copy).as_posix()
    assert relative in str(err.value) and "checksum" in str(err.value) and "git checkout" in str(err.value)
    # the other splits are untouched and still load
    assert len(data.load_dataset("bundled", split="valid", root=bundled_copy)) == 8


def test_missing_file_and_missing_manifest_are_reported(bundled_copy):
    victim = next((bundled_copy / "train").glob("*/bass.flac"))
    victim.unlink()
    with pytest.raises(data.DataError, match="missing: .*bass.flac"):
        data.verify_bundled(root=bundled_copy)
    (bundled_copy / "manifest.csv").unlink()
    with pytest.raises(data.DataError, match="manifest"):
        data.load_dataset("bundled", split="train", root=bundled_copy)


def test_musdb_offline_error_points_to_the_bundled_set(tmp_path, monkeypatch):
    import musdb

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(musdb, "DB", no_network)
    with pytest.raises(data.DataError, match="offline.*bundled"):
        data.load_dataset("musdb-sample", split="test", root=tmp_path / "cache")


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="Unknown dataset"):
        data.load_dataset("musdb-full")
    with pytest.raises(ValueError, match="Unknown split"):
        data.load_dataset("bundled", split="validation")


def test_excerpt_cuts_mixture_and_stems_alike(bundled):
    track = bundled["test"][0]
    cut = data.excerpt(track, duration=1.5, offset=0.5)
    assert cut.mixture.shape == (int(1.5 * track.sr),) and cut.name == track.name
    assert np.array_equal(cut.stems["bass"], track.stems["bass"][track.sr // 2: track.sr // 2 + cut.mixture.size])
    assert data.excerpt(track, duration=None) is track
    with pytest.raises(ValueError, match="past the end"):
        data.excerpt(track, duration=1.0, offset=1e4)
    with pytest.raises(ValueError, match="positive"):
        data.excerpt(track, duration=0)
