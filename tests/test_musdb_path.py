"""The MUSDB18 path of the course, offline: a folder in MUSDB18's wav layout written from the
bundled songs (tests/musdb_layout.py), read by the real ``musdb`` parser through
``data.load_dataset``, and the notebooks run on it with ``COURSE_DATASET=musdb-sample``."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from course_utils import audio, data

from musdb_layout import COUNTS, SR, write_layout

ROOT = Path(__file__).resolve().parent.parent
# The notebooks that take the switch so far (issue 15 brings the others).
SWITCHED = ["00_introduction", "02_masking", "06_evaluation"]


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


@pytest.mark.parametrize("name", SWITCHED)
def test_notebook_runs_on_the_musdb_layout(name, musdb_root, monkeypatch):
    root, names = musdb_root
    monkeypatch.setenv(data.DATASET_ENV, "musdb-sample")
    monkeypatch.setenv(data.MUSDB_CACHE_ENV, str(root))
    monkeypatch.setenv("COURSE_FAST", "1")
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert any(song in printed for split in names.values() for song in split), "it worked on the layout's songs"
