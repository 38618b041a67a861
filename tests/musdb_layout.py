"""A folder in MUSDB18's wav layout, written from the bundled songs, for the tests of the
``musdb-sample`` path: the real ``musdb`` parser reads it, as it reads the sample on Colab.

    python tests/musdb_layout.py OUT        # write it (about 20 s, 60 MB)

Layout (the one ``musdb.DB(root, is_wav=True)`` expects)::

    OUT/train/<Artist - Title>/{mixture,vocals,drums,bass,other}.wav   44.1 kHz stereo, float32
    OUT/test/<Artist - Title>/...

The training folders are named after tracks of musdb's own train and validation lists
(``musdb/configs/mus.yaml``), so that musdb's ``split="train"`` and ``split="valid"`` find
them; the test folders may have any name. Each folder holds one bundled song, resampled from
22050 Hz to 44100 Hz in stereo, with ``mixture.wav`` the exact sum of the stems.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_utils import audio, data  # noqa: E402

SR = 44100
COUNTS = {"train": 4, "valid": 2, "test": 3}  # songs per musdb split: enough for musdb's train/valid split


def musdb_names() -> dict[str, list[str]]:
    """Track names musdb assigns to its validation split, and names it does not (for train/test)."""
    import musdb

    config = yaml.safe_load((Path(musdb.__file__).parent / "configs" / "mus.yaml").read_text())
    return {"valid": list(config["validation_tracks"]), "train": [f"Course Song {i:02d} - Bundled" for i in range(20)],
            "test": [f"Course Test {i:02d} - Bundled" for i in range(20)]}


def write_layout(out: Path, counts: dict[str, int] = COUNTS) -> dict[str, list[str]]:
    """Write the folder; returns the track names per musdb split (train, valid, test)."""
    names = musdb_names()
    written = {}
    for split, count in counts.items():
        tracks = data.load_dataset("bundled", split=split, mono=False)[:count]
        subset = "test" if split == "test" else "train"
        written[split] = names[split][:count]
        for name, track in zip(written[split], tracks):
            folder = out / subset / name
            folder.mkdir(parents=True)
            stems = {s: audio.resample(track.stems[s], orig_sr=track.sr, target_sr=SR) for s in data.STEMS}
            for s, y in stems.items():
                soundfile.write(folder / f"{s}.wav", y.T, SR, subtype="FLOAT")
            soundfile.write(folder / "mixture.wav", data.mixture_from_stems(stems).T, SR, subtype="FLOAT")
    return written


if __name__ == "__main__":
    print(write_layout(Path(sys.argv[1])))
