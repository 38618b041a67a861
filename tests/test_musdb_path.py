"""The MUSDB18 path of the course, offline: a folder in MUSDB18's wav layout written from the
bundled songs (tests/musdb_layout.py), read by the real ``musdb`` parser through
``data.load_dataset``, and the notebooks run on it with ``COURSE_DATASET=musdb-sample``."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient.exceptions import CellExecutionError

from course_utils import audio, data
from course_utils.execution import notebook_client

from musdb_layout import COUNTS, SR, write_layout

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))   # 00-08: every one takes the switch


@pytest.fixture(scope="session")
def musdb_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("musdb18-wav")
    return root, write_layout(root)


def test_the_layout_is_read_by_musdb_with_its_train_valid_split(musdb_root):
    root, names = musdb_root
    for split, count in COUNTS.items():
        tracks = data.load_dataset("musdb-sample", split=split, root=root, mono=False)
        assert sorted(t.name for t in tracks) == sorted(names[split]) and len(tracks) == count
    track = data.load_dataset("musdb-sample", split="test", root=root, mono=False)[0]
    assert track.sr == SR and track.mixture.shape[0] == 2
    np.testing.assert_allclose(track.mixture, data.mixture_from_stems(track.stems), atol=1e-4)
    bundled = data.load_dataset("bundled", split="test", mono=False)[0]
    resampled = audio.resample(bundled.stems["vocals"], orig_sr=bundled.sr, target_sr=SR)
    np.testing.assert_allclose(track.stems["vocals"], resampled, atol=1 / 32768)  # musdb decodes at 16 bits
    mono = data.load_dataset("musdb-sample", split="test", root=root, sr=22050)[0]
    assert mono.sr == 22050 and mono.mixture.shape == (track.mixture.shape[1] // 2,)
    # back at 22050 Hz and down-mixed, the vocals are the bundled mono vocals (up to two resamplings)
    reference = bundled.stems["vocals"].mean(axis=0)
    error = np.sum((mono.stems["vocals"] - reference) ** 2) / np.sum(reference ** 2)
    assert error < 1e-4


def test_the_switch_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    assert data.selected_dataset() == "bundled"
    monkeypatch.setenv(data.DATASET_ENV, "musdb-sample")
    assert data.selected_dataset() == "musdb-sample"
    monkeypatch.setenv(data.DATASET_ENV, "musdb-full")
    with pytest.raises(ValueError, match="COURSE_DATASET"):
        data.selected_dataset()


def execute(name):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    notebook_client(nb, cwd=path.parent).execute()
    return nb


def test_there_are_nine_notebooks():
    assert len(NOTEBOOKS) == 9 and NOTEBOOKS[0].startswith("00") and NOTEBOOKS[-1].startswith("08")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_musdb_layout(name, musdb_root, monkeypatch):
    root, names = musdb_root
    monkeypatch.setenv(data.DATASET_ENV, "musdb-sample")
    monkeypatch.setenv(data.MUSDB_CACHE_ENV, str(root))
    monkeypatch.setenv("COURSE_FAST", "1")
    nb = execute(name)
    printed = "".join(o.get("text", "") + "".join(o.get("data", {}).get(kind, "") for kind in ("text/plain", "text/html"))
                      for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert any(song in printed for split in names.values() for song in split), "it worked on the layout's songs"


def test_offline_a_notebook_on_musdb_stops_at_its_data_cell_and_says_why(tmp_path, monkeypatch):
    cache = tmp_path / "musdb-cache"                       # no sample cached: it would have to be downloaded
    monkeypatch.setenv(data.DATASET_ENV, "musdb-sample")
    monkeypatch.setenv(data.MUSDB_CACHE_ENV, str(cache))
    monkeypatch.setenv("COURSE_FAST", "1")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")      # a closed port: every download is refused, as offline
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    path = ROOT / "notebooks" / "01_stft_and_phase.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, cwd=path.parent)
    with pytest.raises(CellExecutionError) as stopped:
        client.execute()
    assert stopped.value.ename == "DataError"
    assert "cannot be downloaded here" in stopped.value.evalue and "DATASET = 'bundled'" in stopped.value.evalue
    code = [c for c in nb.cells if c.cell_type == "code"]
    ran = [c for c in code if c.get("execution_count")]
    assert "load_dataset(DATASET" in ran[-1].source      # it stopped at the first cell that loads data
    assert len(ran) < len(code) // 2                        # and ran nothing after it
    assert not any(cache.rglob("*.mp4")) and not any(cache.rglob("*.wav"))   # and downloaded nothing
