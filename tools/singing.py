"""A small singing voice for the bundled set: syllables of text sung on a melody.

    python tools/singing.py --demo demo.wav [--voice low|high] [--seed 0]

The voice is a source-filter synthesiser written with NumPy and SciPy only, so that the set
stays free to redistribute and reproducible from a seed:

- **Source.** The glottal pulse train as a sum of harmonics of the sung F0 (no aliasing),
  falling by 12 dB per octave, with a little jitter and shimmer, plus breath noise.
- **Filter.** Every phoneme has five formants (frequency and bandwidth). A vowel's harmonics
  are weighted by the magnitude response of its formant resonators at their frequencies;
  between phonemes the formants glide over 40 ms, so the vowel colour moves as in speech.
  The vowel formants are Peterson & Barney's (1952) averages for men (the "low" voice) and
  women (the "high" voice).
- **Consonants.** Plosives (p t k b d g) are a closure (silence, or a low voicing bar for the
  voiced ones) and a burst of noise shaped around the place of articulation; fricatives
  (s sh f h z v) are shaped noise, sibilants with most of their energy above 4 kHz; nasals and
  liquids (m n l r) are voiced with their own formants. A syllable's onset consonants come just
  before its note, so that its vowel lands on the beat, as singers place them.
- **Melody.** Each note's F0 glides from the previous note over 60 ms (portamento), and after
  100 ms grows a vibrato of 5-6.5 Hz and 40-80 cents (drawn per phrase). Breaths, low shaped
  noise, sit in the rests between phrases.

Text comes from :data:`LYRICS`, lines of public-domain verse written in the voice's phonemes
(:data:`PHONEMES`), one word per tuple of syllables. :func:`sing` renders notes and syllables;
``tests/test_singing.py`` checks with ``tools/measure_dataset.py`` that the result has
consonants, vibrato and the formants of its vowels.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

SR = 22050
FRAME = 110  # samples per control frame (5 ms at 22050 Hz): formants and amplitudes move per frame

# Five formants (Hz) and their bandwidths (Hz) per vowel and voice: Peterson & Barney (1952)
# F1-F3 averages; F4, F5 and the bandwidths are typical values.
_VOWELS = {
    "low": {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010), "o": (570, 840, 2410),
            "u": (300, 870, 2240), "@": (500, 1500, 2500)},
    "high": {"a": (850, 1220, 2810), "e": (610, 2330, 2990), "i": (310, 2790, 3310), "o": (590, 920, 2710),
             "u": (370, 950, 2670), "@": (600, 1700, 2800)},
}
_HIGH_FORMANTS = {"low": (3400, 4300), "high": (3900, 4800)}
_BANDWIDTHS = (70, 90, 130, 180, 250)
# voiced consonants' formants (F1-F3), as a fraction of the voice's vowel space
_VOICED_CONSONANTS = {"m": (270, 1100, 2200), "n": (270, 1600, 2500), "l": (360, 1300, 2700),
                      "r": (350, 1100, 1600)}
# noise of the unvoiced sounds: (low, high) band edges in Hz and level in dB below the vowel
_NOISES = {"s": (4200, 10000, -12), "sh": (1800, 6500, -12), "f": (1200, 9000, -20), "h": (300, 4500, -22),
           "z": (4200, 10000, -16), "v": (1200, 9000, -24),
           "p": (400, 2500, -10), "t": (3000, 8500, -10), "k": (1500, 3500, -10),
           "b": (300, 2000, -16), "d": (2500, 7000, -15), "g": (1200, 3000, -15)}
PLOSIVES = ("p", "t", "k", "b", "d", "g")
FRICATIVES = ("s", "sh", "f", "h", "z", "v")
VOICED = ("b", "d", "g", "z", "v", "m", "n", "l", "r")
VOWELS = tuple(_VOWELS["low"])
PHONEMES = VOWELS + tuple(_VOICED_CONSONANTS) + PLOSIVES + FRICATIVES
"""Every phoneme the voice knows: vowels, nasals and liquids, plosives, fricatives."""

LYRICS = (
    # "Twinkle, twinkle, little star, how I wonder what you are" (Jane Taylor, 1806)
    [("t", "v", "i", "n"), ("k", "@", "l")], [("t", "v", "i", "n"), ("k", "@", "l")],
    [("l", "i"), ("t", "@", "l")], [("s", "t", "a", "r")], [("h", "a", "u")], [("a",)],
    [("v", "a", "n"), ("d", "@", "r")], [("v", "o", "t")], [("i", "u")], [("a", "r")],
    # "Row, row, row your boat, gently down the stream" (traditional)
    [("r", "o")], [("r", "o")], [("r", "o")], [("i", "o", "r")], [("b", "o", "t")],
    [("d", "sh", "e", "n", "t"), ("l", "i")], [("d", "a", "u", "n")], [("d", "@")], [("s", "t", "r", "i", "m")],
    # "Mary had a little lamb, its fleece was white as snow" (Sarah Josepha Hale, 1830)
    [("m", "e"), ("r", "i")], [("h", "a", "d")], [("@",)], [("l", "i"), ("t", "@", "l")], [("l", "a", "m")],
    [("i", "t", "s")], [("f", "l", "i", "s")], [("v", "o", "z")], [("v", "a", "i", "t")], [("a", "z")],
    [("s", "n", "o")],
    # "Hickory, dickory, dock, the mouse ran up the clock" (traditional)
    [("h", "i"), ("k", "@"), ("r", "i")], [("d", "i"), ("k", "@"), ("r", "i")], [("d", "o", "k")], [("d", "@")],
    [("m", "a", "u", "s")], [("r", "a", "n")], [("a", "p")], [("d", "@")], [("k", "l", "o", "k")],
    # "Jack and Jill went up the hill to fetch a pail of water" (traditional)
    [("d", "sh", "a", "k")], [("a", "n", "d")], [("d", "sh", "i", "l")], [("v", "e", "n", "t")], [("a", "p")],
    [("d", "@")], [("h", "i", "l")], [("t", "u")], [("f", "e", "t", "sh")], [("@",)], [("p", "e", "i", "l")],
    [("o", "v")], [("v", "o"), ("t", "@", "r")],
)
"""Five lines of public-domain verse, word by word: each word a list of syllables, each syllable
a tuple of :data:`PHONEMES` (a rough transcription: "w" sung as "v", diphthongs as two vowels)."""


@dataclass(frozen=True)
class Voice:
    """A singer: formant table (``kind``), vocal-tract scaling, vibrato ranges and breathiness.

    ``formant_scale`` multiplies every formant (a shorter tract sounds brighter); each phrase
    draws its vibrato rate (Hz) and depth (cents) from the ranges; ``breath`` is the level of
    the noise under the voicing, relative to the voice.
    """

    kind: str
    formant_scale: float = 1.0
    vibrato_rate: tuple[float, float] = (5.0, 6.5)
    vibrato_depth: tuple[float, float] = (40.0, 80.0)
    breath: float = 0.015


VOICES = {
    "low": Voice("low"), "high": Voice("high"),
    # other singers, heard only in the held-out songs: another tract length, another vibrato
    "low-dark": Voice("low", formant_scale=0.94, vibrato_rate=(4.3, 5.0), vibrato_depth=(70.0, 110.0),
                      breath=0.04),
    "high-bright": Voice("high", formant_scale=1.05, vibrato_rate=(6.5, 7.3), vibrato_depth=(25.0, 50.0),
                         breath=0.03),
}
"""The voices by name: ``low`` and ``high`` sing in the training songs, the others only in the held-out ones."""


@dataclass(frozen=True)
class Note:
    """One sung note: start and end in seconds, MIDI pitch, and the syllable it carries."""

    start: float
    end: float
    pitch: float
    syllable: tuple[str, ...]


def syllables(*, rng: np.random.Generator):
    """An endless stream of syllables of :data:`LYRICS`, from a random line onwards."""
    flat = [s for word in LYRICS for s in word]
    i = int(rng.integers(len(flat)))
    while True:
        yield flat[i % len(flat)]
        i += 1


def _split(syllable: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Onset consonants, vowels (the nucleus) and coda consonants of a syllable."""
    vowels = [i for i, p in enumerate(syllable) if p in VOWELS]
    if not vowels:
        raise ValueError(f"syllable {syllable} has no vowel")
    return syllable[:vowels[0]], syllable[vowels[0]:vowels[-1] + 1], syllable[vowels[-1] + 1:]


def _durations(onset, coda) -> tuple[list[float], list[float]]:
    """Seconds of each onset and coda consonant."""
    def length(p):
        return 0.07 if p in PLOSIVES else 0.09 if p in FRICATIVES else 0.06
    return [length(p) for p in onset], [length(p) for p in coda]


def _formants(phoneme: str, voice: "Voice") -> np.ndarray:
    """Five formant frequencies (Hz) of a vowel or voiced consonant."""
    table = _VOWELS[voice.kind]
    low = table.get(phoneme) or _VOICED_CONSONANTS.get(phoneme) or table["@"]
    scale = 1.0 if phoneme in VOWELS or voice.kind == "low" else 1.12  # shorter vocal tract: higher formants
    return voice.formant_scale * np.array([*(f * scale for f in low), *_HIGH_FORMANTS[voice.kind]], dtype=float)


def _envelope(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Magnitude response at ``freqs`` of five cascaded two-pole resonators (unit gain at 0 Hz)."""
    out = np.ones_like(freqs)
    for f, bw in zip(formants, _BANDWIDTHS):
        r = np.exp(-np.pi * bw / SR)
        theta = 2 * np.pi * f / SR
        z = np.exp(1j * 2 * np.pi * freqs / SR)
        pole = (1 - 2 * r * np.cos(theta) + r * r) / np.abs((1 - r * np.exp(1j * theta) / z) *
                                                            (1 - r * np.exp(-1j * theta) / z))
        out = out * pole
    return out


def _band_noise(n: int, low: float, high: float, rng) -> np.ndarray:
    sos = scipy.signal.butter(4, [low, min(high, 0.48 * SR)], btype="band", fs=SR, output="sos")
    x = scipy.signal.sosfilt(sos, rng.standard_normal(n + 256))[256:]
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def sing(notes: list[Note], *, duration: float, voice: str | Voice = "low", seed: int = 0) -> np.ndarray:
    """Render a sung line: one float32 mono signal of ``duration`` seconds at :data:`SR`.

    Parameters
    ----------
    notes : list of Note
        In time order, not overlapping; each carries one syllable (its vowel is held for the
        note, onset consonants come just before ``start``, coda consonants just before ``end``).
        A gap of 0.3 s or more between notes ends a phrase: a breath fills it.
    duration : float
    voice : str or Voice
        A name in :data:`VOICES` (``"low"``, ``"high"``: a male or a female voice) or a Voice.
    seed : int

    Returns
    -------
    np.ndarray, float32, shape ``(round(duration * SR),)``, peak 0.5
    """
    if not isinstance(voice, Voice):
        if voice not in VOICES:
            raise ValueError(f"voice must be one of {list(VOICES)} or a Voice, got {voice!r}.")
        voice = VOICES[voice]
    rng = np.random.default_rng(seed)
    n = int(round(duration * SR))
    n_frames = n // FRAME + 2
    t_frames = np.arange(n_frames) * FRAME / SR
    # control tracks, per frame: F0 (Hz), voiced amplitude, noise amplitude and band, formants
    f0 = np.full(n_frames, np.nan)
    voiced = np.zeros(n_frames)
    formants = np.tile(_formants("@", voice), (n_frames, 1))
    target = np.zeros(n_frames, dtype=bool)  # frames whose formants are set (others glide)
    noise = np.zeros(n)

    def frames(a, b):
        return slice(max(int(a * SR / FRAME), 0), min(int(np.ceil(b * SR / FRAME)), n_frames))

    previous_pitch, previous_end = None, -1.0
    vib_rate, vib_depth = 5.5, 60.0
    for note in notes:
        onset, nucleus, coda = _split(note.syllable)
        onset_s, coda_s = _durations(onset, coda)
        if note.start - previous_end >= 0.3 or previous_pitch is None:  # a new phrase
            vib_rate, vib_depth = rng.uniform(*voice.vibrato_rate), rng.uniform(*voice.vibrato_depth)
            if previous_pitch is not None:  # a breath in the rest before it
                b0, b1 = previous_end + 0.05, note.start - sum(onset_s) - 0.05
                if b1 - b0 > 0.1:
                    i0, i1 = int(b0 * SR), min(int(b1 * SR), n)
                    breath = _band_noise(i1 - i0, 500, 4000, rng) * np.hanning(i1 - i0) * 10 ** (-40 / 20)
                    noise[i0:i1] += breath
            glide_from = note.pitch
        else:
            glide_from = previous_pitch
        vowel_start, vowel_end = note.start, note.end - sum(coda_s)
        sl = frames(vowel_start, vowel_end)
        t = t_frames[sl] - vowel_start
        pitch = note.pitch + (glide_from - note.pitch) * np.exp(-t / 0.02) * (t < 0.06)
        grow = np.clip((t - 0.1) / 0.1, 0, 1)
        cents = grow * vib_depth * np.sin(2 * np.pi * vib_rate * t + rng.uniform(0, 2 * np.pi))
        f0[sl] = 440 * 2 ** ((pitch - 69) / 12 + cents / 1200)
        level = np.clip(t / 0.03, 0, 1) * np.clip((vowel_end - vowel_start - t) / 0.05, 0, 1)
        voiced[sl] = np.maximum(voiced[sl], level)
        # the nucleus: one vowel, or two (a diphthong) sharing the note
        bounds = np.linspace(vowel_start, vowel_end, len(nucleus) + 1)
        for v, a, b in zip(nucleus, bounds[:-1], bounds[1:]):
            fs = frames(a + 0.02, b - 0.02)
            formants[fs] = _formants(v, voice)
            target[fs] = True
        # consonants: onsets before the vowel, codas at the end of the note
        for phonemes, lengths, start in ((onset, onset_s, vowel_start - sum(onset_s)),
                                         (coda, coda_s, vowel_end)):
            for p, length in zip(phonemes, lengths):
                a, b = start, start + length
                start = b
                fs = frames(a, b)
                if p in _VOICED_CONSONANTS:
                    formants[fs] = _formants(p, voice)
                    target[fs] = True
                    f0[fs] = 440 * 2 ** ((note.pitch - 69) / 12)
                    voiced[fs] = 0.5
                    continue
                i0, i1 = max(int(a * SR), 0), min(int(b * SR), n)
                if i1 <= i0:
                    continue
                lo, hi, db = _NOISES[p]
                m = i1 - i0
                if p in PLOSIVES:  # closure, then a burst that decays into aspiration
                    env = np.zeros(m)
                    burst = int(0.55 * m)
                    env[burst:] = np.exp(-np.arange(m - burst) / (0.012 * SR))
                else:
                    env = np.sin(np.pi * np.arange(m) / m) ** 0.5
                noise[i0:i1] += _band_noise(m, lo, hi, rng) * env * 10 ** (db / 20) * 0.3
                if p in VOICED:  # a voicing bar under the noise
                    f0[fs] = 440 * 2 ** ((note.pitch - 69) / 12)
                    voiced[fs] = np.maximum(voiced[fs], 0.25)
                    formants[fs] = _formants("u", voice)
                    target[fs] = True
        previous_pitch, previous_end = note.pitch, note.end
    # formants glide between targets over about 40 ms
    idx = np.flatnonzero(target)
    if idx.size:
        for k in range(formants.shape[1]):
            formants[:, k] = np.interp(np.arange(n_frames), idx, formants[idx, k])
        formants = scipy.ndimage.uniform_filter1d(formants, size=9, axis=0)
    # the source: harmonics of F0, per-sample phase; amplitudes from the formant envelope per frame
    known = np.flatnonzero(~np.isnan(f0))  # unvoiced frames take the F0 of their neighbours
    f0_all = np.interp(np.arange(n_frames), known, f0[known]) if known.size else np.full(n_frames, 200.0)
    jitter = 1 + 0.004 * scipy.ndimage.uniform_filter1d(rng.standard_normal(n_frames), 5)
    f0_samples = np.interp(np.arange(n) / FRAME, np.arange(n_frames), f0_all * jitter)
    phase = 2 * np.pi * np.cumsum(f0_samples) / SR
    amp_frames = voiced * (1 + 0.05 * scipy.ndimage.uniform_filter1d(rng.standard_normal(n_frames), 5))
    amp = np.interp(np.arange(n) / FRAME, np.arange(n_frames), amp_frames)
    out = np.zeros(n)
    k_max = int(0.45 * SR / max(np.nanmin(f0_all), 50))
    for k in range(1, k_max + 1):
        freqs_frames = k * f0_all
        gain_frames = np.where(freqs_frames < 0.45 * SR,
                               _envelope(freqs_frames, formants.T) / k ** 1.0, 0.0)  # -12 dB/oct source, +6 lips
        gain = np.interp(np.arange(n) / FRAME, np.arange(n_frames), gain_frames)
        out += gain * np.sin(k * phase)
    out *= amp
    # breathiness (noise under the voicing) and the consonants, both relative to the voice's level
    rms = np.sqrt(np.mean(out**2) + 1e-12)
    out = out + voice.breath * rms * amp * _band_noise(n, 300, 3500, rng) + noise * rms / 0.3
    peak = np.max(np.abs(out))
    return (0.5 * out / peak).astype(np.float32) if peak > 0 else out.astype(np.float32)


def demo_notes(*, seed: int = 0, voice: str = "low") -> tuple[list[Note], float]:
    """Two sung phrases of eight notes each on a C major arpeggio melody: notes and duration."""
    rng = np.random.default_rng(seed)
    text = syllables(rng=rng)
    base = 48 if VOICES[voice].kind == "low" else 60
    degrees = [0, 4, 7, 9, 7, 4, 2, 0]
    notes, t = [], 0.3
    for phrase in range(2):
        for d in degrees:
            length = float(rng.choice([0.3, 0.45, 0.6]))
            notes.append(Note(t, t + length - 0.02, base + 7 + d, next(text)))
            t += length
        t += 0.6  # a rest: a breath
    return notes, t + 0.2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", required=True, help="write a demo phrase to this WAV file")
    parser.add_argument("--voice", default="low", choices=list(VOICES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import soundfile

    notes, duration = demo_notes(seed=args.seed, voice=args.voice)
    soundfile.write(args.demo, sing(notes, duration=duration, voice=args.voice, seed=args.seed), SR)
    print(f"{args.demo}: {len(notes)} notes, {duration:.1f} s, {args.voice} voice")


if __name__ == "__main__":
    main()
