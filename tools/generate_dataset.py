#!/usr/bin/env python3
"""Generate the course's bundled multitrack dataset (vocals, drums, bass, other), second edition.

What it does
------------
Composes short songs from a seed, sings their vocals, renders their instruments with General
MIDI soundfonts, and mixes them in stereo, so that the stems share tempo, key and chords like
the stems of a produced recording do. For each song a seeded random generator draws:

* a style (pop, rock, ballad, funk, waltz, shuffle, electronic) that sets the drum groove, the
  bass rhythm, the comping pattern, swing and the instruments;
* a tempo (80-160 bpm, range depending on the style), a key (12 tonics, major or natural
  minor) and a looping diatonic progression of 4 chords;
* GM programs per stem (drum kit, bass, comping instrument) and a singer (a low or a high
  voice of ``tools/singing.py``), with a harmony on the other voice in about half the songs;
* the notes: drum groove with per-bar variations and fills at phrase ends, a bass line on chord
  roots with fifths/octaves/approach notes, comping voicings in the middle register with voice
  leading, and a lead melody on chord tones with passing notes, sung in phrases separated by
  rests (roughly C4-C6 for the high voice, an octave lower for the low one) on syllables of
  public-domain verse; the harmony sings a diatonic third below the lead on some phrases;
* velocity and timing humanisation, a per-song stem balance, and the song's mix: an EQ and
  compressor per stem, a pan position, a send into a shared room of T60 0.5-1.6 s.

Held-out songs (valid and test) sound like no training song: they are played by a second
soundfont (MuseScore_General instead of FluidR3_GM), draw their kits and programs first from
:data:`RESERVED` (which training songs never use), and are sung by other singers
(``low-dark``, ``high-bright``: other vocal-tract lengths, vibrato and breathiness).

Each instrument stem is written as a MIDI file with pretty_midi (kept: it is the song's score)
and rendered dry by the ``fluidsynth`` command-line program at 44.1 kHz in 32-bit float,
summed to mono, low-pass filtered and decimated to 22050 Hz; the vocals are sung directly at
22050 Hz. Every stem is cut to the song length (8.0-8.6 s, a whole number of bars where one
fits) with a 20 ms fade-out and goes through its channel strip (``tools/mixing.py``); the
strips are balanced and scaled by ONE common gain per song, chosen so that the loudest of the
strips, their stereo images and the stereo mixture (rendered by ``course_utils.mixing``, the
code the loader runs) peaks at -1 dBFS, and quantised to int16.

Size: to fit the 80 songs in the repository's 64 MB data budget the strips are stored mono,
the stereo images are rendered at load time from ``mix.json`` (pan and room are linear and take
milliseconds), no mixture is stored (it is the sum of the images), and the strips are quantised
on a grid of 8 int16 steps (``--quant-step 8``: 13 significant bits, quantisation noise about
-83 dBFS); FLAC stores the always-zero low bits for free.

Output::

    OUT/{train,valid,test}/song_XXX/{vocals,drums,bass,other}.flac   mono strips, 16-bit, 22050 Hz
    OUT/{train,valid,test}/song_XXX/{vocals,drums,bass,other}.mid    the score (vocals: lead and
                                                                     harmony, lyrics per note)
    OUT/{train,valid,test}/song_XXX/mix.json                         the mix (see course_utils.mixing)
    OUT/manifest.csv   file,split,song,stem,kind,duration_s,sample_rate,sha256
    OUT/songs.csv      song,split,tempo_bpm,key,style,programs,soundfont,voice,backing_voice,t60_s

Splits are decided by index: song_000-song_063 train, song_064-song_071 valid, song_072-song_079
test (for the default 80 songs; in general the last ``2 * n_heldout`` songs are valid then test).

Requirements
------------
* Debian/Ubuntu packages: ``apt-get install fluidsynth fluid-soundfont-gm
  musescore-general-soundfont`` (the ``fluidsynth`` program, tested with 2.3.1,
  /usr/share/sounds/sf2/FluidR3_GM.sf2 and /usr/share/sounds/sf3/MuseScore_General.sf3).
* Python >= 3.9 with ``pip install pretty_midi soundfile numpy scipy`` and the course's package
  (``course_utils``) importable from the repository.

How to run
----------
::

    python tools/generate_dataset.py --out data/bundled --seed 2026

(``make dataset`` does exactly this.) The output folder is replaced. The run is
deterministic: the same seed gives the same notes, scores and vocals, and on the same
fluidsynth/soundfont/libsndfile versions byte-identical FLAC files (compare the sha256 column
of manifest.csv; ``tests/test_generate_dataset.py`` rebuilds scores and vocals). About 5
minutes on 2 CPU cores (each held-out render spends 7 s decompressing the .sf3 soundfont).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import mixing as strip  # noqa: E402  (tools/mixing.py: EQ and compression)
import singing  # noqa: E402
from course_utils import mixing  # noqa: E402  (pan and room, shared with the loader)

SR = 22050  # output sample rate
RENDER_SR = 44100  # fluidsynth renders at this rate; we decimate by 2
SOUNDFONTS = {  # the training songs use one, the held-out (valid and test) songs the other
    "train": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "heldout": "/usr/share/sounds/sf3/MuseScore_General.sf3",
}
STEMS = ("vocals", "drums", "bass", "other")
RENDERED = ("drums", "bass", "other")  # by fluidsynth; the vocals are sung by tools/singing.py
PEAK_DBFS = -1.0
# Strips are quantised to multiples of QUANT_STEP (int16 units): 8 = 13 significant bits
# (quantisation noise about -83 dBFS). FLAC stores the 3 always-zero low bits for free
# ("wasted bits"); without this the 80 songs do not fit the 64 MB budget.
QUANT_STEP = 8
DURATION_RANGE = (8.0, 8.6)  # seconds; a whole number of bars when one fits
FADE_S = 0.02
REFERENCE_RMS = 0.1  # every dry stem enters its channel strip at this active RMS (-20 dBFS)
# Identical synthesis settings for every stem: dry (the room is added by the mix), chorus off.
FLUIDSYNTH_SETTINGS = {
    "synth.chorus.active": "0",
    "synth.reverb.active": "0",
    "synth.cpu-cores": "1",
    "synth.polyphony": "256",
}
FLUIDSYNTH_GAIN = "0.5"
VOCALS_PROGRAM = 53  # "Voice Oohs": only a label in vocals.mid; the voice is sung, not rendered
TRAIN_VOICES = {"low": "low", "high": "high"}  # names in singing.VOICES
HELDOUT_VOICES = {"low": "low-dark", "high": "high-bright"}
VOICE_SHIFT = {"low": -12, "high": 0}  # semitones from the melody's C4-C6 register
BACKING_DB = -8.0  # the harmony under the lead
# Programs and kits that only the held-out songs play (on top of their other soundfont)
RESERVED = {
    "drums": {8, 25, 40},  # Room, TR-808 and Brush kits
    "bass": {34, 37, 39, 58},  # picked, slap 2, synth 2, tuba
    "other": {1, 5, 21, 26, 30, 46, 81},  # bright piano, e-piano 2, accordion, jazz guitar,
    # distortion guitar, harp, saw lead
}

NOTE_NAMES_SHARP = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
NOTE_NAMES_FLAT = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]  # natural minor: every chord stays diatonic

# Progressions as 0-based scale degrees (I = 0); all chords are built by
# stacking scale thirds, so they are diatonic by construction.
PROGRESSIONS = {
    "major": [
        [0, 4, 5, 3],  # I-V-vi-IV
        [0, 5, 3, 4],  # I-vi-IV-V
        [5, 3, 0, 4],  # vi-IV-I-V
        [0, 3, 4, 3],  # I-IV-V-IV
        [0, 3, 5, 4],  # I-IV-vi-V
        [1, 4, 0, 5],  # ii-V-I-vi
        [0, 2, 3, 4],  # I-iii-IV-V
        [3, 0, 4, 5],  # IV-I-V-vi
    ],
    "minor": [
        [0, 5, 2, 6],  # i-VI-III-VII
        [0, 3, 6, 2],  # i-iv-VII-III
        [0, 6, 5, 6],  # i-VII-VI-VII
        [0, 3, 4, 0],  # i-iv-v-i
        [0, 5, 3, 4],  # i-VI-iv-v
        [0, 3, 5, 6],  # i-iv-VI-VII
        [0, 2, 6, 3],  # i-III-VII-iv
        [5, 6, 0, 4],  # VI-VII-i-v
    ],
}
ROMAN_MAJOR = ["I", "ii", "iii", "IV", "V", "vi", "vii°"]
ROMAN_MINOR = ["i", "ii°", "III", "iv", "v", "VI", "VII"]

# GM percussion keys
KICK, STICK, SNARE, CLAP, HH_CLOSED, HH_PEDAL, HH_OPEN = 36, 37, 38, 39, 42, 44, 46
CRASH, RIDE, TAMB = 49, 51, 54
TOMS = [50, 48, 47, 45, 43, 41]  # high to low

DRUM_KIT_NAMES = {0: "Standard Kit", 8: "Room Kit", 16: "Power Kit", 24: "Electronic Kit",
                  25: "TR-808 Kit", 32: "Jazz Kit", 40: "Brush Kit"}


@dataclass
class Style:
    """Everything a style decides (ranges and alternatives; the song draws from them)."""

    name: str
    tempo: tuple  # (min, max) bpm
    beats_per_bar: int
    swing8: tuple  # (min, max) amount of 8th-note swing (1 = triplet shuffle)
    swing16: tuple  # (min, max) amount of 16th-note swing
    kits: list
    bass_programs: list
    comping: list  # (program, pattern name)
    drum_grooves: list  # dicts: drum key -> step string (16th grid)
    bass_patterns: list  # lists of (onset_beat, dur_beats, role)
    melody_cells: list  # rhythm cells in beats


# Step strings: one char per 16th. 'X' accent, 'x' normal, 'g' ghost, 'o' open hat.
STYLES = {
    "pop": Style(
        "pop", (92, 126), 4, (0, 0), (0, 0.15), [0, 8], [33, 34, 35],
        [(0, "pop_sync"), (1, "pop_sync"), (4, "quarters"), (25, "strum8"), (24, "strum8"),
         (0, "arp8")],
        [
            {KICK: "x.......x.x.....", SNARE: "....X.......X...", HH_CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x......xx.......", SNARE: "....X.......X...", HH_CLOSED: "x.x.x.x.x.x.x.x.",
             TAMB: "....x.......x..."},
        ],
        [
            [(0, .5, "R"), (.5, .5, "R"), (1, .5, "R"), (1.5, .5, "R"), (2, .5, "R"),
             (2.5, .5, "R"), (3, .5, "R"), (3.5, .5, "A")],
            [(0, 1.5, "R"), (1.5, .5, "R"), (2, 1, "5"), (3, .5, "8"), (3.5, .5, "A")],
        ],
        [[1], [.5, .5], [1.5, .5], [2], [.5, 1, .5]],
    ),
    "rock": Style(
        "rock", (110, 156), 4, (0, 0), (0, 0), [16, 0, 8], [34, 33],
        [(29, "power8"), (30, "power8"), (18, "sustain"), (27, "strum8"), (29, "power_sync")],
        [
            {KICK: "x.....x.x.......", SNARE: "....X.......X...", HH_CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x.......x.x.....", SNARE: "....X.......X...", RIDE: "x.x.x.x.x.x.x.x."},
            {KICK: "x.x.....x.x.....", SNARE: "....X.......X...", HH_OPEN: "x.x.x.x.x.x.x.x."},
        ],
        [
            [(0, .5, "R"), (.5, .5, "R"), (1, .5, "R"), (1.5, .5, "R"), (2, .5, "R"),
             (2.5, .5, "R"), (3, .5, "R"), (3.5, .5, "R")],
            [(0, .5, "R"), (.5, .5, "R"), (1, .5, "8"), (1.5, .5, "R"), (2, .5, "R"),
             (2.5, .5, "5"), (3, .5, "8"), (3.5, .5, "A")],
        ],
        [[1], [.5, .5], [1, 1], [2], [1.5, .5]],
    ),
    "ballad": Style(
        "ballad", (80, 96), 4, (0, 0), (0, 0.2), [0, 8, 40], [35, 33, 32],
        [(0, "arp8"), (4, "arp8"), (24, "arp8"), (46, "arp8"), (48, "sustain"), (49, "sustain"),
         (89, "sustain"), (0, "half")],
        [
            {KICK: "x.........x.....", STICK: "....x.......x...", HH_CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x.......x.......", SNARE: "....x.......x...", RIDE: "x...x...x...x..."},
        ],
        [
            [(0, 2, "R"), (2, 2, "5")],
            [(0, 3, "R"), (3, 1, "A")],
            [(0, 1.5, "R"), (1.5, .5, "5"), (2, 2, "8")],
        ],
        [[1], [.5, .5], [1.5, .5], [2], [.75, .25], [.5, .5, 1]],
    ),
    "funk": Style(
        "funk", (90, 116), 4, (0, 0), (0, 0.35), [0, 8], [36, 37, 33],
        [(28, "stabs16"), (27, "stabs16"), (7, "stabs16"), (4, "pop_sync"), (5, "stabs16"),
         (16, "pop_sync")],
        [
            {KICK: "x..x......x..x..", SNARE: "....X..g.g..X..g", HH_CLOSED: "xxxxxxxxxxxxxx.x",
             HH_OPEN: "..............o."},
            {KICK: "x.x.......xx....", SNARE: "....X.g.....X.g.", HH_CLOSED: "x.x.x.x.x.x.x.x."},
        ],
        [
            [(0, .4, "R"), (.75, .2, "R"), (1.5, .25, "8"), (1.75, .25, "R"), (2.5, .25, "5"),
             (2.75, .25, "7"), (3, .5, "8"), (3.5, .25, "R"), (3.75, .25, "A")],
            [(0, .5, "R"), (.5, .25, "8"), (1, .25, "R"), (1.75, .5, "R"), (2.5, .25, "8"),
             (3, .25, "5"), (3.25, .25, "R"), (3.75, .25, "A")],
        ],
        [[.5, .5], [.75, .25], [.25, .25, .5], [1], [.5, 1, .5]],
    ),
    "waltz": Style(
        "waltz", (100, 156), 3, (0, 0), (0, 0), [0, 40, 32], [32, 35, 58],
        [(0, "waltz23"), (21, "waltz23"), (6, "waltz23"), (48, "sustain"), (24, "arp8"),
         (0, "arp8")],
        [
            {KICK: "x...........", STICK: "....x...x...", HH_CLOSED: "x.x.x.x.x.x."},
            {KICK: "x...........", SNARE: "....x...x...", RIDE: "x...x...x..."},
        ],
        [
            [(0, 2.5, "R"), (2, 1, "5")],
            [(0, 1, "R"), (1, 1, "5"), (2, 1, "8")],
            [(0, 2.8, "R")],
        ],
        [[1], [2], [.5, .5], [1.5, .5], [3]],
    ),
    "shuffle": Style(
        "shuffle", (88, 132), 4, (1, 1), (0, 0), [32, 40, 0], [32, 33],
        [(0, "backbeat"), (16, "backbeat"), (17, "shuffle8"), (26, "backbeat"), (4, "shuffle8"),
         (0, "shuffle8")],
        [
            {KICK: "x.......x.....x.", SNARE: "....x.......x...", RIDE: "x...x.x.x...x.x."},
            {KICK: "x.....x.x.......", SNARE: "....x.......x...", HH_CLOSED: "x.x.x.x.x.x.x.x."},
        ],
        [
            [(0, 1, "R"), (1, 1, "3"), (2, 1, "5"), (3, 1, "6")],
            [(0, .5, "R"), (.5, .5, "R"), (1, .5, "3"), (1.5, .5, "3"), (2, .5, "5"),
             (2.5, .5, "5"), (3, .5, "6"), (3.5, .5, "5")],
        ],
        [[1], [.5, .5], [1.5, .5], [2], [1, .5, .5]],
    ),
    "electronic": Style(
        "electronic", (118, 140), 4, (0, 0), (0, 0), [24, 25], [38, 39],
        [(90, "offbeat"), (81, "offbeat"), (89, "sustain"), (88, "sustain"), (80, "arp16"),
         (62, "offbeat")],
        [
            {KICK: "x...x...x...x...", CLAP: "....x.......x...", HH_OPEN: "..o...o...o...o.",
             HH_CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x...x...x...x...", CLAP: "....x.......x...", HH_CLOSED: "xxxxxxxxxxxxxxxx"},
        ],
        [
            [(.5, .4, "R"), (1.5, .4, "R"), (2.5, .4, "R"), (3.5, .4, "R")],
            [(0, .25, "R"), (.25, .25, "R"), (.5, .25, "8"), (.75, .25, "R"), (1, .25, "R"),
             (1.25, .25, "R"), (1.5, .25, "8"), (1.75, .25, "R"), (2, .25, "R"),
             (2.25, .25, "R"), (2.5, .25, "8"), (2.75, .25, "R"), (3, .25, "R"),
             (3.25, .25, "R"), (3.5, .25, "8"), (3.75, .25, "A")],
        ],
        [[1], [.5, .5], [1.5, .5], [2], [.5, 1, .5]],
    ),
}

# Comping patterns: lists of (onset_beat, dur_beats, kind). kind: "C" chord,
# "P" power chord, ("a", i) i-th note of the arpeggio order.
COMP_PATTERNS = {
    "pop_sync": [(0, 1.4, "C"), (1.5, 1, "C"), (2.5, 1.4, "C"), (3.5, .5, "C")],
    "quarters": [(0, .9, "C"), (1, .9, "C"), (2, .9, "C"), (3, .9, "C")],
    "strum8": [(i * .5, .45, "C") for i in range(8)],
    "arp8": [(i * .5, .9, ("a", i)) for i in range(8)],
    "arp16": [(i * .25, .3, ("a", i)) for i in range(16)],
    "power8": [(i * .5, .45, "P") for i in range(8)],
    "power_sync": [(0, 1.4, "P"), (1.5, 1, "P"), (2.5, .45, "P"), (3, .45, "P"), (3.5, .45, "P")],
    "sustain": [(0, 4, "C")],
    "half": [(0, 2, "C"), (2, 2, "C")],
    "stabs16": [(0, .2, "C"), (.75, .2, "C"), (1.5, .2, "C"), (2.25, .2, "C"), (2.5, .2, "C"),
                (3.25, .2, "C"), (3.75, .2, "C")],
    "waltz23": [(1, .8, "C"), (2, .8, "C")],
    "backbeat": [(1, .6, "C"), (3, .6, "C"), (3.5, .4, "C")],
    "shuffle8": [(i * .5, .4, "C") for i in range(8)],
    "offbeat": [(.5, .3, "C"), (1.5, .3, "C"), (2.5, .3, "C"), (3.5, .3, "C")],
}


# ----------------------------------------------------------------------------
# Composition
# ----------------------------------------------------------------------------

@dataclass
class Song:
    name: str
    split: str
    style: Style
    tempo: float
    tonic: int
    mode: str
    progression: list
    chord_beats: float
    n_bars: int
    duration: float
    swing8: float
    swing16: float
    programs: dict
    notes: dict = field(default_factory=dict)  # stem -> list of (start_s, end_s, pitch, vel)
    balance_db: dict = field(default_factory=dict)

    @property
    def spb(self):
        return 60.0 / self.tempo

    @property
    def bpb(self):
        return self.style.beats_per_bar

    @property
    def scale(self):
        return MAJOR if self.mode == "major" else MINOR

    @property
    def key_name(self):
        names = NOTE_NAMES_FLAT if self.tonic in (1, 3, 5, 8, 10) else NOTE_NAMES_SHARP
        if self.mode == "minor" and self.tonic in (1, 6, 8):  # C#m, F#m, G#m
            names = NOTE_NAMES_SHARP
        if self.mode == "major" and self.tonic == 6:
            names = NOTE_NAMES_FLAT  # Gb major
        return f"{names[self.tonic]} {self.mode}"

    def degree_pc(self, degree):
        """Pitch class of a scale degree (any integer, wraps around)."""
        return (self.tonic + self.scale[degree % 7]) % 12

    def chord_degree(self, beat):
        idx = int(math.floor(beat / self.chord_beats + 1e-9)) % len(self.progression)
        return self.progression[idx]

    def chord_pcs(self, beat, seventh=False):
        d = self.chord_degree(beat)
        steps = [0, 2, 4, 6] if seventh else [0, 2, 4]
        return [self.degree_pc(d + s) for s in steps]

    def time(self, beat):
        """Beat position -> seconds, with swing applied."""
        b = math.floor(beat + 1e-9)
        f = beat - b
        if self.swing8 and abs(f - 0.5) < 1e-6:
            f = 0.5 + self.swing8 / 6.0
        elif self.swing16 and (abs(f - 0.25) < 1e-6 or abs(f - 0.75) < 1e-6):
            f = f + self.swing16 / 12.0
        return (b + f) * self.spb


def _split_at_changes(song, beat, dur):
    """Split the span [beat, beat + dur) at chord changes: list of (beat, dur)."""
    segs, end = [], beat + dur
    while beat < end - 1e-6:
        nxt = (math.floor(beat / song.chord_beats + 1e-9) + 1) * song.chord_beats
        segs.append((beat, min(end, nxt) - beat))
        beat = min(end, nxt)
    return segs


def _humanise(rng, t, sd=0.005):
    return max(0.0, t + float(np.clip(rng.normal(0, sd), -0.015, 0.015)))


def _vel(rng, base, sd=6.0):
    return int(np.clip(round(base + rng.normal(0, sd)), 1, 127))


def _nearest_pitch(pc, target):
    """The pitch with pitch class pc nearest to target."""
    p = target + ((pc - target) % 12)
    return p - 12 if p - target > 6 else p


def compose_drums(song: Song, rng):
    st, bpb = song.style, song.bpb
    steps = bpb * 4
    main = st.drum_grooves[int(rng.integers(len(st.drum_grooves)))]
    alt = st.drum_grooves[int(rng.integers(len(st.drum_grooves)))]
    phrase_bars = 2 if song.n_bars <= 4 else 4
    fill_beats = 2 if (song.tempo >= 120 and rng.random() < 0.5) else 1
    fill_kind = ["snare16", "toms16", "snare_tom", "toms8"][int(rng.integers(4))]
    triplet_fill = song.swing8 > 0.5 or bpb == 3
    base_vel = rng.uniform(80, 100)
    notes = []

    def hit(beat, key, vel, dur=0.3):
        t = _humanise(rng, song.time(beat))
        if t < song.duration:
            notes.append((t, t + dur, key, _vel(rng, vel)))

    for bar in range(song.n_bars):
        b0 = bar * bpb
        groove = alt if (bar % 2 == 1 and rng.random() < 0.35) else main
        is_fill = (bar + 1) % phrase_bars == 0 or bar == song.n_bars - 1
        fill_start = bpb - fill_beats if is_fill else bpb + 1
        for key, pattern in groove.items():
            for s, ch in enumerate(pattern[:steps]):
                if ch == ".":
                    continue
                beat = s / 4
                if beat >= fill_start and key != KICK:
                    continue
                if beat >= fill_start and key == KICK and beat > fill_start:
                    continue
                vel = {"X": base_vel + 12, "x": base_vel, "g": base_vel - 45, "o": base_vel}[ch]
                k = key
                if key in (HH_CLOSED, RIDE, HH_OPEN, TAMB):
                    vel -= 0 if s % 4 == 0 else 14  # accent the beats
                    if key == HH_CLOSED and s == steps - 2 and rng.random() < 0.25:
                        k = HH_OPEN  # an open hat before the next bar now and then
                hit(b0 + beat, k, vel, 0.6 if k == HH_OPEN else 0.3)
            # occasional extra kick on a free 16th
        if rng.random() < 0.3 and KICK in groove:
            free = [s for s, ch in enumerate(groove[KICK][:steps])
                    if ch == "." and s % 2 == 1 and s / 4 < fill_start]
            if free:
                s = free[int(rng.integers(len(free)))]
                hit(b0 + s / 4, KICK, base_vel - 15)
        if bar == 0 or ((bar % phrase_bars) == 0):
            hit(b0, CRASH, base_vel + 5, 1.5)
        if is_fill:
            fb = b0 + fill_start
            if triplet_fill:
                n = int(fill_beats * 3)
                pos = [fb + i / 3 for i in range(n)]
            elif fill_kind in ("snare16", "toms16") or song.tempo < 130:
                n = int(fill_beats * 4)
                pos = [fb + i / 4 for i in range(n)]
            else:
                n = int(fill_beats * 2)
                pos = [fb + i / 2 for i in range(n)]
            for i, p in enumerate(pos):
                frac = i / max(1, len(pos) - 1)
                if fill_kind == "snare16" or (fill_kind == "snare_tom" and frac < 0.5):
                    key = SNARE
                else:
                    key = TOMS[min(len(TOMS) - 1, int(frac * len(TOMS)))]
                hit(p, key, base_vel - 20 + 35 * frac)
    return notes


def _roles_to_pitch(song: Song, role, beat, next_beat, root_pitch_of):
    d = song.chord_degree(beat)
    root = root_pitch_of(song.degree_pc(d))
    if role == "R":
        return root
    if role == "8":
        return root + 12
    if role == "A":  # approach the next chord's root from a step below/above
        nd = song.chord_degree(next_beat)
        nroot = root_pitch_of(song.degree_pc(nd))
        if nd == d:
            return _nearest_pitch(song.degree_pc(d + 4), root + 7)
        return nroot - 1 if nroot > root else nroot + 1  # chromatic approach
    step = {"3": 2, "5": 4, "6": 5, "7": 6}[role]
    pc = song.degree_pc(d + step)
    return root + ((pc - root) % 12)


def compose_bass(song: Song, rng):
    st, bpb = song.style, song.bpb
    pats = st.bass_patterns
    main = pats[int(rng.integers(len(pats)))]
    alt = pats[int(rng.integers(len(pats)))]
    low = int(rng.integers(31, 37))  # lowest root: G1..C2

    def root_pitch_of(pc):
        return low + ((pc - low) % 12)

    base_vel = rng.uniform(85, 105)
    notes = []
    for bar in range(song.n_bars):
        pat = alt if rng.random() < 0.25 else main
        for on, dur, role in pat:
            beat = bar * bpb + on
            if role == "A" and rng.random() < 0.3:
                role = "R"
            # a long note that spans a chord change is played again on the new chord
            for k, (sb, sd) in enumerate(_split_at_changes(song, beat, dur)):
                p = _roles_to_pitch(song, role, sb, beat + dur, root_pitch_of)
                t0 = _humanise(rng, song.time(sb), 0.004)
                t1 = song.time(sb + sd) - 0.02
                if t0 < song.duration:
                    acc = 8 if abs(sb - round(sb)) < 1e-6 else 0
                    notes.append((t0, max(t0 + 0.06, t1), int(p), _vel(rng, base_vel + acc)))
    return notes


def _voicing(pcs, prev_center, low=50, high=76):
    """Close-position voicing of pcs (bottom note >= low) whose centre is nearest prev_center."""
    best, best_cost = None, None
    n = len(pcs)
    for inv in range(n):
        order = pcs[inv:] + pcs[:inv]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pc in order[1:]:
                v.append(v[-1] + ((pc - v[-1]) % 12 or 12))
            if v[-1] > high:
                continue
            cost = abs(np.mean(v) - prev_center)
            if best_cost is None or cost < best_cost:
                best, best_cost = v, cost
    return best


def compose_other(song: Song, rng):
    st, bpb = song.style, song.bpb
    program, pat_name = song.programs["other_pattern"]
    pattern = COMP_PATTERNS[pat_name]
    seventh = st.name in ("funk", "ballad") or (st.name in ("pop", "shuffle") and rng.random() < .3)
    center = rng.uniform(59, 65)
    base_vel = rng.uniform(70, 88)
    arp_orders = [[0, 1, 2, 3, 2, 1, 2, 3], [0, 2, 1, 3, 2, 3, 1, 2], [0, 1, 2, 1, 3, 2, 1, 2]]
    arp = arp_orders[int(rng.integers(len(arp_orders)))]
    notes = []
    prev_center = center
    voicing_cache = {}
    for bar in range(song.n_bars):
        for on, dur, kind in pattern:
            if on >= bpb:
                continue
            beat = bar * bpb + on
            dur = min(dur, bpb - on) if pat_name in ("sustain", "half") else dur
            # a chord change inside a held chord: play the new chord at the change
            # (a single arpeggio note is cut at the change instead)
            segs = _split_at_changes(song, beat, dur)
            if isinstance(kind, tuple):
                segs = segs[:1]
            for sb, sd in segs:
                pcs = song.chord_pcs(sb, seventh)
                key = (tuple(pcs), round(prev_center, 1))
                v = voicing_cache.get(key) or _voicing(pcs, prev_center)
                voicing_cache[key] = v
                prev_center = 0.7 * np.mean(v) + 0.3 * center
                t0 = _humanise(rng, song.time(sb), 0.006)
                t1 = song.time(sb + sd) - 0.01
                if t0 >= song.duration:
                    continue
                acc = 8 if abs(on - round(on)) < 1e-6 else 0
                if kind == "P":
                    root = _nearest_pitch(song.degree_pc(song.chord_degree(sb)), 52)
                    chord = [root, root + 7, root + 12]
                elif isinstance(kind, tuple):
                    idx = arp[kind[1] % len(arp)] % len(v)
                    chord = [v[idx] + (12 if (kind[1] % 8 == 3 and len(v) == 3) else 0)]
                else:
                    chord = v
                for i, p in enumerate(chord):
                    # strummed chords: a few ms between strings
                    ts = t0 + (0.008 * i if pat_name in ("strum8", "power8") else 0.0)
                    notes.append((ts, max(ts + 0.05, t1), int(p), _vel(rng, base_vel + acc - 3 * i)))
    return notes


def compose_vocals(song: Song, rng, *, shift: int = 0):
    """The lead melody, roughly C4-C6 moved by ``shift`` semitones (-12 for a low voice)."""
    st, bpb = song.style, song.bpb
    total = song.n_bars * bpb
    center = int(rng.integers(65, 75)) + shift
    lo, hi = max(60 + shift, center - 9), min(84 + shift, center + 10)
    scale_pitches = [p for p in range(lo, hi + 1) if (p - song.tonic) % 12 in song.scale]
    fast = song.tempo >= 126
    cells = [c for c in st.melody_cells if not (fast and min(c) < 0.5)]
    min_note_s = 0.16
    base_vel = rng.uniform(85, 105)

    for _attempt in range(50):
        notes = []
        beat = float(rng.choice([0.0, 0.0, 0.5, 1.0]))
        prev = _nearest_pitch(song.chord_pcs(beat)[int(rng.integers(3))], center)
        prev = int(np.clip(prev, lo, hi))
        direction = 1 if rng.random() < 0.5 else -1
        while beat < total - 0.5:
            phrase_bars = int(rng.choice([1, 2, 2]))
            phrase_len = phrase_bars * bpb - float(rng.choice([0.5, 1.0, 1.0]))
            rest = float(rng.choice([1.0, 1.5, 2.0, bpb]))
            end = min(beat + phrase_len, total)
            rhythm = []
            pos = beat
            while pos < end - 1e-6:
                cell = cells[int(rng.integers(len(cells)))]
                for d in cell:
                    if pos >= end - 1e-6:
                        break
                    d = min(d, end - pos)
                    rhythm.append((pos, d))
                    pos += d
            # lengthen the last note of the phrase a bit, if it is short
            if rhythm and rhythm[-1][1] < 1 and end < total:
                p0, d0 = rhythm[-1]
                rhythm[-1] = (p0, d0 + 0.5)
                pos = p0 + d0 + 0.5
            for i, (p, d) in enumerate(rhythm):
                chord = song.chord_pcs(p)
                strong = abs(p - round(p)) < 1e-6 and (round(p) % 2 == 0 or d >= 1)
                if strong or i == 0 or i == len(rhythm) - 1:
                    cands = [q for q in range(lo, hi + 1) if q % 12 in chord and abs(q - prev) <= 7]
                    if not cands:
                        cands = [q for q in range(lo, hi + 1) if q % 12 in chord]
                    w = np.array([1.0 / (1 + abs(q - prev)) + (0.3 if q == prev else 0)
                                  for q in cands])
                    pitch = int(cands[int(rng.choice(len(cands), p=w / w.sum()))])
                else:
                    if rng.random() < 0.2:
                        direction = -direction
                    k = scale_pitches.index(min(scale_pitches, key=lambda q: abs(q - prev)))
                    k += direction * int(rng.choice([1, 1, 2]))
                    if k < 0 or k >= len(scale_pitches):
                        direction = -direction
                        k = int(np.clip(k, 0, len(scale_pitches) - 1))
                    pitch = scale_pitches[k]
                if pitch > center + 6:
                    direction = -1
                elif pitch < center - 6:
                    direction = 1
                t0 = _humanise(rng, song.time(p), 0.006)
                t1 = song.time(p + d) - 0.03
                if t0 >= song.duration:
                    break
                arc = 8 * math.sin(math.pi * (i + 0.5) / len(rhythm))
                notes.append((t0, max(t0 + min_note_s, t1), pitch, _vel(rng, base_vel + arc)))
                prev = pitch
            beat = pos + rest
        sung = sum(min(e, song.duration) - s for s, e, _, _ in notes)
        has_rest = any(notes[i + 1][0] - notes[i][1] > 0.4 for i in range(len(notes) - 1))
        if 0.5 <= sung / song.duration <= 0.88 and has_rest:
            return notes
    raise RuntimeError(f"{song.name}: could not compose a melody with rests covering half the song")


def phrases(notes, gap=0.3):
    """Split time-ordered notes into phrases at rests of ``gap`` seconds or more."""
    out = []
    for note in notes:
        if not out or note[0] - out[-1][-1][1] >= gap:
            out.append([])
        out[-1].append(note)
    return out


def compose_backing(song: Song, lead, rng, *, shift: int):
    """A harmony a diatonic third below the lead on some of its phrases (at least one), moved by ``shift``."""
    parts = phrases(lead)
    chosen = [k for k in range(len(parts)) if rng.random() < 0.5] or [int(rng.integers(len(parts)))]
    pcs = [(song.tonic + d) % 12 for d in song.scale]
    notes = []
    for k in chosen:
        for s, e, p, v in parts[k]:
            below = max(q for q in range(p - 5, p) if q % 12 in pcs and p - q >= 3)  # a third below
            notes.append((s, e, below + shift, v))
    return sorted(notes)


def _pick(rng, options, reserved, heldout):
    """Draw from ``options``: held-out songs prefer the reserved ones, training songs never take them."""
    pool = [o for o in options if (_key(o) in reserved) == heldout]
    if not pool:
        if not heldout:
            raise ValueError(f"every option of {options} is reserved for the held-out songs")
        pool = list(options)
    return pool[int(rng.integers(len(pool)))]


def _key(option):
    return option[0] if isinstance(option, tuple) else option


def plan_songs(n_songs, seed, n_heldout):
    """Draw the per-song parameters. Returns a list of Song (notes not yet composed)."""
    import pretty_midi

    n_train = n_songs - 2 * n_heldout
    splits = ["train"] * n_train + ["valid"] * n_heldout + ["test"] * n_heldout
    # Styles: concatenated random permutations, restarted per split, so every
    # split (even the 5-song ones) gets distinct styles.
    style_rng = np.random.default_rng([seed, 7])
    names = list(STYLES)
    styles = []
    for split, count in (("train", n_train), ("valid", n_heldout), ("test", n_heldout)):
        seq = []
        while len(seq) < count:
            seq += [names[i] for i in style_rng.permutation(len(names))]
        styles += seq[:count]
    # Keys: both modes in every split, tonics spread.
    songs = []
    for i in range(n_songs):
        rng = np.random.default_rng([seed, 1000 + i])
        st = STYLES[styles[i]]
        tempo = int(rng.integers(st.tempo[0], st.tempo[1] + 1))
        tonic = int(rng.integers(12))
        mode = "major" if (i % 2 == 0) ^ (rng.random() < 0.3) else "minor"
        prog = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
        bar_s = st.beats_per_bar * 60.0 / tempo
        lo, hi = DURATION_RANGE
        fits = [k for k in range(1, 20) if lo <= k * bar_s <= hi]
        if fits:
            n_bars = int(rng.choice(fits))
            duration = round(n_bars * bar_s, 3)
        else:
            duration = round(float(rng.uniform(lo, hi)), 2)
            n_bars = int(math.ceil(duration / bar_s))
        chord_beats = st.beats_per_bar
        if n_bars < 4 and st.beats_per_bar == 4:
            chord_beats = 2  # slow songs: two chords per bar so the loop is heard
        heldout = splits[i] != "train"
        lead_kind = "low" if rng.random() < 0.5 else "high"
        voices = HELDOUT_VOICES if heldout else TRAIN_VOICES
        kit = int(_pick(rng, st.kits, RESERVED["drums"], heldout))
        bass_prog = int(_pick(rng, st.bass_programs, RESERVED["bass"], heldout))
        other = _pick(rng, st.comping, RESERVED["other"], heldout)
        programs = {
            "vocals": VOCALS_PROGRAM, "drums": kit, "bass": bass_prog, "other": other[0],
            "other_pattern": other,
        }
        song = Song(
            name=f"song_{i:03d}", split=splits[i], style=st, tempo=tempo, tonic=tonic, mode=mode,
            progression=prog, chord_beats=chord_beats, n_bars=n_bars, duration=duration,
            swing8=float(rng.uniform(*st.swing8)), swing16=float(rng.uniform(*st.swing16)),
            programs=programs,
        )
        song.voice = voices[lead_kind]
        song.backing_voice = voices["high" if lead_kind == "low" else "low"] if rng.random() < 0.45 else None
        song.soundfont = "heldout" if heldout else "train"
        song.balance_db = {
            "vocals": float(rng.uniform(-1.5, 2.5)),
            "drums": float(rng.uniform(-1.5, 1.5)),
            "bass": float(rng.uniform(-2.5, 0.5)),
            "other": float(rng.uniform(-3.0, 0.0)),
        }
        # Independent streams per stem, so changing one stem's code does not
        # change the notes of the others.
        song.notes = {
            "drums": compose_drums(song, np.random.default_rng([seed, 1000 + i, 1])),
            "bass": compose_bass(song, np.random.default_rng([seed, 1000 + i, 2])),
            "other": compose_other(song, np.random.default_rng([seed, 1000 + i, 3])),
            "vocals": compose_vocals(song, np.random.default_rng([seed, 1000 + i, 4]),
                                     shift=VOICE_SHIFT[singing.VOICES[song.voice].kind]),
        }
        if song.backing_voice:
            lead_shift = VOICE_SHIFT[singing.VOICES[song.voice].kind]
            song.notes["backing"] = compose_backing(
                song, song.notes["vocals"], np.random.default_rng([seed, 1000 + i, 5]),
                shift=VOICE_SHIFT[singing.VOICES[song.backing_voice].kind] - lead_shift)
        song.syllables = sing_syllables(song, np.random.default_rng([seed, 1000 + i, 6]))
        song.mix = draw_mix(np.random.default_rng([seed, 1000 + i, 7]), seed=seed * 1000 + i)
        song.program_names = {
            "vocals": f"{song.voice} voice" + (f" + {song.backing_voice} backing" if song.backing_voice else ""),
            "drums": DRUM_KIT_NAMES.get(kit, f"Drum Kit {kit}"),
            "bass": pretty_midi.program_to_instrument_name(bass_prog),
            "other": pretty_midi.program_to_instrument_name(other[0]),
        }
        songs.append(song)
    return songs


def progression_name(song: Song):
    roman = ROMAN_MAJOR if song.mode == "major" else ROMAN_MINOR
    return "-".join(roman[d] for d in song.progression)


# ----------------------------------------------------------------------------
# Words and mix
# ----------------------------------------------------------------------------

def sing_syllables(song: Song, rng):
    """One syllable per lead note, the text running on from a random line; the harmony shares them."""
    text = singing.syllables(rng=rng)
    return [next(text) for _ in song.notes["vocals"]]


def draw_mix(rng, *, seed):
    """One song's channel strips (EQ, compression) and its placement (pan, room send) per stem."""
    side = 1 if rng.random() < 0.5 else -1
    return {
        "t60": round(float(rng.uniform(0.5, 1.6)), 3), "seed": int(seed),
        "stems": {
            "vocals": {"position": round(float(rng.uniform(-0.08, 0.08)), 3),
                       "send_db": round(float(rng.uniform(-14, -8)), 1)},
            "drums": {"position": round(float(rng.uniform(-0.25, 0.25)), 3),
                      "send_db": round(float(rng.uniform(-22, -14)), 1)},
            "bass": {"position": round(float(rng.uniform(-0.1, 0.1)), 3),
                     "send_db": round(float(rng.uniform(-34, -26)), 1)},
            "other": {"position": round(side * float(rng.uniform(0.3, 0.75)), 3),
                      "send_db": round(float(rng.uniform(-18, -10)), 1)},
        },
        "strips": {  # applied when the set is made: the stored stems are these strips' outputs
            "vocals": {"low_db": -3.0, "high_db": round(float(rng.uniform(1, 3)), 1), "threshold_db": -24.0,
                       "ratio": 3.0},
            "drums": {"low_db": round(float(rng.uniform(0, 3)), 1), "high_db": round(float(rng.uniform(0, 2)), 1),
                      "threshold_db": -22.0, "ratio": round(float(rng.uniform(2, 4)), 1)},
            "bass": {"low_db": round(float(rng.uniform(0, 2)), 1), "high_db": round(float(rng.uniform(-3, 0)), 1),
                     "threshold_db": -24.0, "ratio": 4.0},
            "other": {"low_db": round(float(rng.uniform(-4, -1)), 1), "high_db": round(float(rng.uniform(-1, 2)), 1),
                      "threshold_db": None, "ratio": 1.0},
        },
    }


# ----------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------

def _syllable_text(syllable):
    return "-".join(syllable)


def write_midi(song: Song, stem: str, path: str):
    """The score of one stem: its notes (vocals: the lead and the harmony, with the lyrics' syllables)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=float(song.tempo), resolution=960)
    parts = [("lead" if stem == "vocals" else stem, song.notes[stem])]
    if stem == "vocals" and song.backing_voice:
        parts.append(("backing", song.notes["backing"]))
    for name, notes in parts:
        inst = pretty_midi.Instrument(program=song.programs[stem], is_drum=(stem == "drums"), name=name)
        inst.control_changes.append(pretty_midi.ControlChange(91, 0, 0.0))  # no reverb send: the mix adds the room
        inst.control_changes.append(pretty_midi.ControlChange(93, 0, 0.0))  # no chorus
        for s, e, p, v in sorted(notes):
            inst.notes.append(pretty_midi.Note(velocity=int(v), pitch=int(p), start=float(s),
                                               end=float(min(e, song.duration + 1.0))))
        # A silent event after the song end keeps fluidsynth rendering the tails.
        inst.control_changes.append(pretty_midi.ControlChange(110, 0, song.duration + 1.5))
        pm.instruments.append(inst)
    if stem == "vocals":
        pm.lyrics = [pretty_midi.Lyric(_syllable_text(syl), float(s))
                     for syl, (s, _, _, _) in zip(song.syllables, song.notes["vocals"])]
    pm.write(path)


def render_midi(mid_path: str, wav_path: str, sf2: str):
    cmd = ["fluidsynth", "-n", "-i", "-q", "-g", FLUIDSYNTH_GAIN, "-r", str(RENDER_SR),
           "-C", "0", "-R", "0", "-O", "float", "-T", "wav", "-F", wav_path]
    for k, v in FLUIDSYNTH_SETTINGS.items():
        cmd += ["-o", f"{k}={v}"]
    cmd += [sf2, mid_path]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not os.path.exists(wav_path):
        raise RuntimeError(f"fluidsynth failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")


def _lowpass_fir(cutoff_hz=10500.0, fs=RENDER_SR, n_taps=255):
    """Windowed-sinc (Blackman) low-pass FIR, unit DC gain, shape (n_taps,)."""
    fc = cutoff_hz / fs  # cycles per sample
    n = np.arange(n_taps) - (n_taps - 1) / 2
    h = 2 * fc * np.sinc(2 * fc * n) * np.blackman(n_taps)
    return h / h.sum()


_LOWPASS = _lowpass_fir()


def to_output_rate(x):
    """(n,) float at 44.1 kHz -> (ceil(n/2),) at 22.05 kHz: anti-alias low-pass, keep every 2nd."""
    return np.convolve(x, _LOWPASS, mode="same")[::2]


def render_stem(song: Song, stem: str, folder: str, soundfonts: dict, tmpdir: str):
    """A dry stem at SR: fluidsynth plays its score (written to ``folder``), the singer sings the vocals."""
    import soundfile as sf

    mid = os.path.join(folder, f"{stem}.mid")
    write_midi(song, stem, mid)
    if stem == "vocals":
        return sing_vocals(song)
    wav = os.path.join(tmpdir, f"{song.name}_{stem}.wav")
    render_midi(mid, wav, soundfonts[song.soundfont])
    x, sr = sf.read(wav, dtype="float64", always_2d=True)
    if sr != RENDER_SR:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, expected {RENDER_SR}")
    os.remove(wav)
    return to_output_rate(x.mean(axis=1))


def _sung(notes, syllables):
    return [singing.Note(s, e, float(p), syl) for (s, e, p, _), syl in zip(notes, syllables)]


def sing_vocals(song: Song):
    """The vocals stem, dry: the lead, plus the harmony BACKING_DB under it in songs that have one."""
    seed = int(song.name.split("_")[1])
    lead = singing.sing(_sung(song.notes["vocals"], song.syllables), duration=song.duration + 0.5,
                        voice=song.voice, seed=seed).astype(np.float64)
    if not song.backing_voice:
        return lead
    by_start = {s: syl for (s, _, _, _), syl in zip(song.notes["vocals"], song.syllables)}
    harmony = [by_start[s] for s, _, _, _ in song.notes["backing"]]
    backing = singing.sing(_sung(song.notes["backing"], harmony), duration=song.duration + 0.5,
                           voice=song.backing_voice, seed=seed + 10_000)
    return lead + 10 ** (BACKING_DB / 20) * backing


def active_rms(x, frame=2205):
    n = len(x) // frame
    fr = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)
    active = fr > fr.max() * 10 ** (-40 / 20)
    return float(np.sqrt(np.mean(fr[active] ** 2)))


def channel_strips(song: Song, raw: dict):
    """Dry renders -> float channel-strip outputs at the song's balance, before the common gain."""
    n = int(round(song.duration * SR))
    fade = np.ones(n)
    nf = int(FADE_S * SR)
    fade[-nf:] = np.linspace(1.0, 0.0, nf)
    strips = {}
    for stem in STEMS:
        x = np.pad(raw[stem][:n], (0, max(0, n - len(raw[stem]))))
        if not np.any(x):
            raise RuntimeError(f"{song.name}: stem {stem} rendered silent")
        x = x * fade * REFERENCE_RMS / active_rms(x)
        y = strip.channel_strip(x, sr=SR, **song.mix["strips"][stem])
        strips[stem] = y * 10 ** (song.balance_db[stem] / 20) * REFERENCE_RMS / active_rms(y)
    return strips


def level_song(song: Song, strips: dict, quant_step: int = QUANT_STEP):
    """ONE gain for the song: the loudest of its strips, stereo stem images and mixture peaks at PEAK_DBFS.

    The mix is linear in the strips, so the gain found on the float strips holds for the stored
    int16 ones up to the quantisation. Returns stem -> int16 strip.
    """
    images = mixing.render(strips, song.mix, sr=SR)
    peak = max(float(np.max(np.abs(x))) for x in [*images.values(), *strips.values()])
    common = 10 ** (PEAK_DBFS / 20) / peak
    song.mix["strip_gain"] = float(common)  # recorded, so that a test can rebuild a strip without the others
    out = {}
    for stem in STEMS:
        q = np.round(strips[stem] * common * 32767.0 / quant_step) * quant_step
        assert np.all(np.abs(q) <= 32767), f"{song.name}/{stem} overflows int16"
        out[stem] = q.astype(np.int16)
    return out


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _json(obj, path):
    import json

    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="data/bundled", help="output folder (replaced)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("--n-songs", type=int, default=80, help="number of songs (default 80)")
    parser.add_argument("--n-heldout", type=int, default=8,
                        help="songs in each of valid and test (default 8)")
    parser.add_argument("--soundfont", default=SOUNDFONTS["train"],
                        help="soundfont of the training songs (default %(default)s)")
    parser.add_argument("--heldout-soundfont", default=SOUNDFONTS["heldout"],
                        help="soundfont of the valid and test songs (default %(default)s)")
    parser.add_argument("--quant-step", type=int, default=QUANT_STEP, choices=[1, 2, 4, 8, 16],
                        help="strips are multiples of this many int16 units (default %(default)s "
                             "= 13-bit resolution; 1 = full 16 bit, about 40%% larger files)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="parallel renders (does not change the output)")
    args = parser.parse_args(argv)

    try:
        import pretty_midi  # noqa: F401
        import soundfile as sf
    except ImportError as e:
        sys.exit(f"missing Python package ({e}); run: pip install pretty_midi soundfile numpy scipy")
    if shutil.which("fluidsynth") is None:
        sys.exit("the fluidsynth program is missing; run: apt-get install fluidsynth")
    soundfonts = {"train": args.soundfont, "heldout": args.heldout_soundfont}
    for path, package in ((args.soundfont, "fluid-soundfont-gm"), (args.heldout_soundfont, "musescore-general-soundfont")):
        if not os.path.exists(path):
            sys.exit(f"soundfont {path} missing; run: apt-get install {package}")
    if args.n_songs - 2 * args.n_heldout < 1:
        sys.exit("need at least one training song")

    t_start = time.time()
    songs = plan_songs(args.n_songs, args.seed, args.n_heldout)
    if os.path.exists(args.out):
        # only ever replace a folder that this script wrote (or an empty one)
        if os.listdir(args.out) and not os.path.exists(os.path.join(args.out, "manifest.csv")):
            sys.exit(f"{args.out} exists and is not a dataset folder written by this script; "
                     "refusing to replace it")
        shutil.rmtree(args.out)
    folders = {song.name: os.path.join(args.out, song.split, song.name) for song in songs}
    for folder in folders.values():
        os.makedirs(folder)

    manifest, song_rows = [], []

    def record(path, song, stem, kind, n=None):
        rel = os.path.relpath(path, args.out).replace(os.sep, "/")
        manifest.append([rel, song.split, song.name, stem, kind, "" if n is None else f"{n / SR:.6f}",
                         "" if n is None else SR, sha256_of(path)])

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(1, args.jobs)) as pool:
        # render a few songs ahead of the one being mixed (bounded memory)
        futures, ahead = {}, max(2, args.jobs)

        def submit(k):
            if k < len(songs):
                for stem in STEMS:
                    futures[(k, stem)] = pool.submit(render_stem, songs[k], stem, folders[songs[k].name],
                                                     soundfonts, tmp)

        for k in range(ahead):
            submit(k)
        for i, song in enumerate(songs):
            raw = {stem: futures.pop((i, stem)).result() for stem in STEMS}
            submit(i + ahead)
            out = level_song(song, channel_strips(song, raw), args.quant_step)
            folder = folders[song.name]
            for stem in STEMS:
                path = os.path.join(folder, f"{stem}.flac")
                sf.write(path, out[stem], SR, subtype="PCM_16", format="FLAC", compression_level=1.0)
                record(path, song, stem, "audio", len(out[stem]))
                record(os.path.join(folder, f"{stem}.mid"), song, stem, "score")
            _json(song.mix, os.path.join(folder, "mix.json"))
            record(os.path.join(folder, "mix.json"), song, "", "mix")
            programs = "; ".join(f"{s}={song.program_names[s]}" for s in STEMS)
            song_rows.append([song.name, song.split, song.tempo, song.key_name, song.style.name, programs,
                              os.path.basename(soundfonts[song.soundfont]), song.voice, song.backing_voice or "",
                              song.mix["t60"]])
            print(f"{song.name} {song.split:5s} {song.style.name:10s} {song.tempo:3d} bpm "
                  f"{song.key_name:9s} {progression_name(song):16s} {song.duration:5.2f} s  "
                  f"{programs}", flush=True)

    manifest.sort(key=lambda r: r[0])
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "split", "song", "stem", "kind", "duration_s", "sample_rate", "sha256"])
        w.writerows(manifest)
    with open(os.path.join(args.out, "songs.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["song", "split", "tempo_bpm", "key", "style", "programs", "soundfont", "voice",
                    "backing_voice", "t60_s"])
        w.writerows(song_rows)
    print(f"wrote {len(songs)} songs ({len(manifest)} files) to {args.out} "
          f"in {time.time() - t_start:.1f} s")


if __name__ == "__main__":
    main()
