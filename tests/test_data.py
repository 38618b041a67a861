"""Loaders: the bundled set (checksums, splits, the mixture model) and the MUSDB18 path."""

import shutil
import urllib.error

import numpy as np
import pytest
import soundfile

from course_utils import data

SR = 22050


@pytest.fixture(scope="module")
def bundled():
    return {split: data.load_dataset("bundled", split=split) for split in data.SPLITS}


def test_split_sizes_and_track_layout(bundled):
    assert {s: len(t) for s, t in bundled.items()} == {"train": 30, "valid": 5, "test": 5}
    names = [t.name for ts in bundled.values() for t in ts]
    assert len(set(names)) == 40  # no song in two splits
    for track in (t for ts in bundled.values() for t in ts):
        assert track.sr == SR and track.mixture.dtype == np.float32 and track.mixture.ndim == 1
        assert set(track.stems) == set(data.STEMS)
        assert all(s.shape == track.mixture.shape for s in track.stems.values())
        assert 8.0 <= track.duration <= 10.0
        assert track.sources.shape == (4, track.mixture.size)


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
    assert data.verify_bundled() == len(rows) == 40 * 5


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
    assert len(data.load_dataset("bundled", split="valid", root=bundled_copy)) == 5


def test_missing_file_and_missing_manifest_are_reported(bundled_copy):
    victim = next((bundled_copy / "train").glob("*/bass.flac"))
    victim.unlink()
    with pytest.raises(data.DataError, match="missing: .*bass.flac"):
        data.verify_bundled(root=bundled_copy)
    (bundled_copy / "manifest.csv").unlink()
    with pytest.raises(data.DataError, match="manifest"):
        data.load_dataset("bundled", split="train", root=bundled_copy)


def write_musdb_wav_folder(root, songs, *, sr=44100, seconds=1.0):
    """A small folder in MUSDB18's wav layout; returns the stems written, per song."""
    rng = np.random.default_rng(0)
    written = {}
    for subset, name in songs:
        folder = root / subset / name
        folder.mkdir(parents=True)
        stems = {s: (0.05 * rng.standard_normal((int(sr * seconds), 2))).astype(np.float32) for s in data.STEMS}
        for s, y in stems.items():
            soundfile.write(folder / f"{s}.wav", y, sr, subtype="FLOAT")
        soundfile.write(folder / "mixture.wav", sum(stems.values()), sr, subtype="FLOAT")
        written[name] = stems
    return written


def test_musdb_loader_reads_the_wav_layout(tmp_path):
    written = write_musdb_wav_folder(tmp_path, [("test", "Artist - Song A"), ("test", "Artist - Song B"),
                                                ("train", "Artist - Song C")])
    tracks = data.load_dataset("musdb-sample", split="test", root=tmp_path, is_wav=True, mono=False)
    assert [t.name for t in tracks] == ["Artist - Song A", "Artist - Song B"]
    a = tracks[0]
    assert a.sr == 44100 and a.mixture.shape == (2, 44100) and a.dataset == "musdb-sample"
    # musdb decodes through ffmpeg at 16 bits: one quantisation step of tolerance
    np.testing.assert_allclose(a.stems["bass"], written["Artist - Song A"]["bass"].T, atol=1 / 32768)
    mono = data.load_dataset("musdb-sample", split="test", root=tmp_path, is_wav=True, sr=22050)[0]
    assert mono.mixture.shape == (22050,) and mono.sr == 22050
    np.testing.assert_allclose(mono.mixture, data.mixture_from_stems(mono.stems), atol=1e-4)
    train = data.load_dataset("musdb-sample", split="train", root=tmp_path, is_wav=True)
    assert [t.name for t in train] == ["Artist - Song C"]


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
