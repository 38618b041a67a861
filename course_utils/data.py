"""Datasets: the bundled multitrack set (offline, default) and the MUSDB18 7-second sample.

Both come through one function, :func:`load_dataset`, as a list of :class:`Track`; code
downstream does not care which one it got. Taught in ``00_introduction``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import audio, mixing

__all__ = ["STEMS", "DATASETS", "SPLITS", "COURSE_SR", "DataError", "Track", "excerpt", "load_dataset", "selected_dataset",
           "bundled_root", "verify_bundled", "mixture_from_stems"]

STEMS = ("vocals", "drums", "bass", "other")
"""The four sources of every track, in the order used for arrays of sources."""
DATASETS = ("bundled", "musdb-sample")
SPLITS = ("train", "valid", "test")
COURSE_SR = 22050
"""The bundled set's rate, and the rate of the shipped models. Notebooks whose window sizes are
counted in samples (01, 03-05, 07) load MUSDB18 (44.1 kHz) resampled to it, so that a window of
1024 samples lasts the same 46 ms on both datasets."""
MUSDB_CACHE_ENV = "COURSE_MUSDB_DIR"
DATASET_ENV = "COURSE_DATASET"
RESTORE_HINT = ("Restore the bundled data with `git checkout -- data/` in the course repository "
                "(or clone it again).")


class DataError(RuntimeError):
    """A dataset that cannot be loaded, with what failed and what to do about it."""


@dataclass
class Track:
    """One song: its mixture and its stems, all with the same shape.

    Attributes
    ----------
    name : str
    sr : int
    mixture : np.ndarray, float32, shape ``(n_samples,)`` or ``(n_channels, n_samples)``
    stems : dict[str, np.ndarray]
        One entry per name in :data:`STEMS`, each shaped like ``mixture``.
    split : str
    dataset : str
    """

    name: str
    sr: int
    mixture: np.ndarray
    stems: dict[str, np.ndarray]
    split: str
    dataset: str
    info: dict = field(default_factory=dict)

    @property
    def sources(self) -> np.ndarray:
        """The stems stacked in :data:`STEMS` order, shape ``(4, *mixture.shape)``."""
        return np.stack([self.stems[s] for s in STEMS])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.mixture.shape[-1] / self.sr

    def __repr__(self) -> str:
        return (f"Track({self.name!r}, dataset={self.dataset!r}, split={self.split!r}, sr={self.sr}, "
                f"shape={self.mixture.shape}, {self.duration:.1f} s)")


def excerpt(track: Track, *, duration: float | None, offset: float = 0.0) -> Track:
    """A track cut to ``duration`` seconds from ``offset`` (the whole track for ``duration=None``).

    Parameters
    ----------
    track : Track
    duration : float or None
    offset : float

    Returns
    -------
    Track
        A copy whose mixture and stems are ``(..., n)`` slices (views) of the original's.

    Notes
    -----
    Used wherever a notebook scores or plays a few seconds of a song (02, 04, 07).
    """
    if duration is None and offset == 0:
        return track
    if offset < 0 or (duration is not None and not duration > 0):
        raise ValueError(f"offset must be >= 0 and duration positive (or None), got {offset!r}, {duration!r}.")
    start = int(round(offset * track.sr))
    stop = None if duration is None else start + int(round(duration * track.sr))
    if start >= track.mixture.shape[-1]:
        raise ValueError(f"offset {offset} s is past the end of {track.name} ({track.duration:.1f} s).")
    return dataclasses.replace(track, mixture=track.mixture[..., start:stop],
                               stems={k: v[..., start:stop] for k, v in track.stems.items()})


def mixture_from_stems(stems) -> np.ndarray:
    """Sum the sources: the mixture model ``y(t) = sum_i x_i(t)``.

    Parameters
    ----------
    stems : dict of np.ndarray or np.ndarray, shape ``(n_sources, ...)``

    Returns
    -------
    np.ndarray, float32, the shape of one source
    """
    arrays = list(stems.values()) if isinstance(stems, dict) else list(stems)
    return np.sum(arrays, axis=0, dtype=np.float64).astype(np.float32)


def bundled_root() -> Path:
    """Folder of the bundled set: ``$COURSE_DATA_DIR`` if set, else ``data/bundled`` in the repository."""
    env = os.environ.get("COURSE_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data" / "bundled"


def _read_manifest(root: Path) -> list[dict]:
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise DataError(f"The bundled dataset's manifest {manifest} is missing. {RESTORE_HINT}")
    with manifest.open(newline="") as f:
        return list(csv.DictReader(f))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_bundled(*, root: Path | None = None, split: str | None = None) -> int:
    """Check the bundled files against the manifest's SHA-256 checksums.

    Parameters
    ----------
    root : Path, optional
        Default :func:`bundled_root`.
    split : str, optional
        Check only this split.

    Returns
    -------
    int
        The number of files checked.

    Raises
    ------
    DataError
        Naming every missing or corrupt file, and how to restore them.
    """
    root = bundled_root() if root is None else Path(root)
    rows = [r for r in _read_manifest(root) if split is None or r["split"] == split]
    missing = [r["file"] for r in rows if not (root / r["file"]).is_file()]
    corrupt = [r["file"] for r in rows if r["file"] not in missing and _sha256(root / r["file"]) != r["sha256"]]
    if missing or corrupt:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if corrupt:
            parts.append(f"checksum mismatch (corrupt or modified): {', '.join(corrupt)}")
        raise DataError(f"Bundled dataset in {root} is damaged; {'; '.join(parts)}. {RESTORE_HINT}")
    return len(rows)


def _finish(y: np.ndarray, file_sr: int, *, sr: int | None, mono: bool) -> np.ndarray:
    if mono and y.ndim == 2:
        y = audio.to_mono(y)
    if sr is not None and sr != file_sr:
        y = audio.resample(y, orig_sr=file_sr, target_sr=sr)
    return y


def _load_bundled(split: str, *, sr: int | None, mono: bool, root: Path | None, verify: bool) -> list[Track]:
    root = bundled_root() if root is None else Path(root)
    if verify:
        verify_bundled(root=root, split=split)
    rows = [r for r in _read_manifest(root) if r["split"] == split]
    info = {}
    songs_csv = root / "songs.csv"
    if songs_csv.is_file():
        with songs_csv.open(newline="") as f:
            info = {r["song"]: r for r in csv.DictReader(f)}
    tracks = []
    for song in sorted({r["song"] for r in rows}):
        files = {(r["kind"], r["stem"]): root / r["file"] for r in rows if r["song"] == song}
        lacking = [s for s in STEMS if ("audio", s) not in files] + ([] if ("mix", "") in files else ["mix.json"])
        if lacking:
            raise DataError(f"Song {song} lacks {lacking} in the manifest. " + RESTORE_HINT)
        strips = {}
        for stem in STEMS:
            strips[stem], file_sr = audio.load(files["audio", stem])
        settings = json.loads(files["mix", ""].read_text())
        images = mixing.render(strips, settings, sr=file_sr)
        signals = {k: _finish(v, file_sr, sr=sr, mono=mono) for k, v in images.items()}
        extra = {"mix": settings, "score": {s: files["score", s] for s in STEMS if ("score", s) in files}}
        tracks.append(Track(song, sr or file_sr, signals["mixture"], {s: signals[s] for s in STEMS}, split,
                            "bundled", {**info.get(song, {}), **extra}))
    return tracks


def _musdb_db(split: str, *, root, download: bool, is_wav: bool):
    try:
        import musdb
    except Exception as exc:  # stempeg raises at import time when ffmpeg is missing
        raise DataError(
            f"The MUSDB18 loader needs the `musdb` package and the ffmpeg/ffprobe programs ({exc}). "
            "Install ffmpeg (apt-get install ffmpeg, conda install ffmpeg or brew install ffmpeg). "
            "The bundled set works without it: load_dataset('bundled', ...)."
        ) from exc
    subsets, musdb_split = ("test", None) if split == "test" else ("train", split)
    if root is None:
        root = Path(os.environ.get(MUSDB_CACHE_ENV, Path.home() / ".cache" / "course_utils" / "musdb18-sample"))
    # a folder of decoded stems (MUSDB18's wav layout) is read as such, with no download
    is_wav = is_wav or any(Path(root).glob("*/*/mixture.wav"))
    try:
        return musdb.DB(root=str(root), subsets=subsets, split=musdb_split, download=download and not is_wav,
                        is_wav=is_wav)
    except OSError as exc:  # URLError is an OSError: no network, or the server is away
        raise DataError(
            f"The MUSDB18 7-second sample cannot be downloaded here ({exc}): this machine looks offline. "
            f"A notebook stops at this cell. The bundled set is on disk and needs no network: set "
            f"DATASET = 'bundled' at the top of the notebook (or unset ${DATASET_ENV}), or call "
            f"load_dataset('bundled', split=...). Where the network allows, the sample is cached in {root}."
        ) from exc


def _load_musdb(split: str, *, sr: int | None, mono: bool, root, download: bool, is_wav: bool) -> list[Track]:
    db = _musdb_db(split, root=root, download=download, is_wav=is_wav)
    if len(db.tracks) == 0:
        raise DataError(f"No MUSDB18 tracks for split {split!r} under {db.root}. "
                        "The bundled set is available: load_dataset('bundled', ...).")
    tracks = []
    for t in db.tracks:
        file_sr = int(t.rate)
        mixture = _finish(t.audio.T.astype(np.float32), file_sr, sr=sr, mono=mono)
        stems = {s: _finish(t.targets[s].audio.T.astype(np.float32), file_sr, sr=sr, mono=mono) for s in STEMS}
        tracks.append(Track(t.name, sr or file_sr, mixture, stems, split, "musdb-sample"))
    return tracks


def selected_dataset() -> str:
    """The dataset a notebook works on: ``$COURSE_DATASET`` if set, else ``"bundled"``.

    Every notebook's ``DATASET`` starts from it, so that one environment variable (the tests,
    an instructor's Colab) switches the whole course to the MUSDB18 sample.
    """
    name = os.environ.get(DATASET_ENV, "bundled")
    if name not in DATASETS:
        raise ValueError(f"${DATASET_ENV}={name!r} is not a dataset; choose one of {DATASETS}.")
    return name


def load_dataset(name: str = "bundled", *, split: str = "train", sr: int | None = None, mono: bool = True,
                 root=None, verify: bool = True, download: bool = True, is_wav: bool = False) -> list[Track]:
    """Load every track of one split of a dataset.

    Parameters
    ----------
    name : {"bundled", "musdb-sample"}
        ``"bundled"``: the course's own set in ``data/`` (22050 Hz stereo, offline; its stem
        images are rendered from the stored channel strips by :func:`course_utils.mixing.render`,
        and ``track.info`` holds the song's mix settings and the paths of its scores).
        ``"musdb-sample"``: the 7-second MUSDB18 excerpts (44100 Hz stereo), downloaded once
        through the ``musdb`` package and cached (``$COURSE_MUSDB_DIR`` or
        ``~/.cache/course_utils/musdb18-sample``).
    split : {"train", "valid", "test"}
    sr : int, optional
        Resample to this rate at load time.
    mono : bool
        Average channels at load time (the course works in mono by default).
    root : path, optional
        Read from this folder instead (for MUSDB18: a folder in its layout).
    verify : bool
        Bundled set only: check the files' checksums first.
    download : bool
        MUSDB18 only: fetch the sample when it is not cached.
    is_wav : bool
        MUSDB18 only: ``root`` holds ``{train,test}/<song>/{mixture,vocals,...}.wav`` folders
        (detected by itself when such files are there).

    Returns
    -------
    list of Track
        Sorted by name. ``track.mixture`` has shape ``(n_samples,)`` when ``mono`` else
        ``(n_channels, n_samples)``; ``track.stems`` maps each of :data:`STEMS` to an array of
        that shape.

    Raises
    ------
    DataError
        With what failed (a missing or corrupt file, no network) and what to do.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {DATASETS}.")
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; choose one of {SPLITS}.")
    if name == "bundled":
        return _load_bundled(split, sr=sr, mono=mono, root=root, verify=verify)
    return _load_musdb(split, sr=sr, mono=mono, root=root, download=download, is_wav=is_wav)
