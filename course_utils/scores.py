"""Score-informed separation: NMF whose templates and activations the score constrains.

The bundled songs ship the MIDI score of every stem (``track.info["score"]``). Where the score
says no note of a pitch sounds, that pitch's activation starts at zero; a template starts as a
harmonic comb at the pitch's partials, zero between them. Lee and Seung's multiplicative
updates (:func:`course_utils.classical.nmf`) multiply, so a zero stays zero: the factorisation
learns the timbre and the loudness inside the score's constraints and cannot put a pitch where
the score has none. Each stem's masks come from its own components, as in supervised NMF.
Drums get one component per drum sound of their score, a flat template (any spectrum) active
only around its hits. This is the method of Ewert and Müller (ICASSP 2012), as taught in
Meinard Müller's *Fundamentals of Music Processing*, chapter 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import classical, spectral

__all__ = ["Note", "read_notes", "perturbed", "harmonic_templates", "note_activations", "score_informed_nmf"]


@dataclass(frozen=True)
class Note:
    """One note of a score: MIDI pitch, start and end in seconds, and whether it is a drum hit."""

    pitch: int
    start: float
    end: float
    drum: bool = False


def read_notes(path) -> list[Note]:
    """Every note of a MIDI file (all its instruments), sorted by start."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(Path(path)))
    return sorted((Note(n.pitch, float(n.start), float(n.end), inst.is_drum)
                   for inst in midi.instruments for n in inst.notes), key=lambda n: (n.start, n.pitch))


def perturbed(notes, *, shift_s: float = 0.0, drop_every: int = 0) -> list[Note]:
    """A slightly wrong score: every note ``shift_s`` later (earlier if negative), and every
    ``drop_every``-th note missing (0: none)."""
    kept = [n for i, n in enumerate(notes) if not (drop_every and i % drop_every == drop_every - 1)]
    return [Note(n.pitch, n.start + shift_s, n.end + shift_s, n.drum) for n in kept]


def _frequency(pitch) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69) / 12)


def harmonic_templates(pitches, *, sr: int, n_fft: int = spectral.N_FFT, n_harmonics: int = 16,
                       tolerance: float = 0.5) -> np.ndarray:
    """Initial templates: for each pitch, a comb of its partials.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches.
    sr, n_fft : int
        The STFT's rate and frame length.
    n_harmonics : int
        Partials per template (those below the Nyquist frequency).
    tolerance : float
        Half-width of each tooth in semitones; at least one bin on either side, so that the
        teeth of a low note still cover their partials.

    Returns
    -------
    np.ndarray, float64, shape ``(n_fft // 2 + 1, len(pitches))``
        Partial ``h`` weighs ``1 / h`` over its tooth, every other bin is 0; columns sum to 1.
    """
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    bin_hz = sr / n_fft
    W = np.zeros((freqs.size, len(pitches)))
    for k, f0 in enumerate(_frequency(list(pitches))):
        for h in range(1, n_harmonics + 1):
            centre = h * f0
            if centre >= sr / 2:
                break
            width = max(centre * (2 ** (tolerance / 12) - 1), 1.5 * bin_hz)
            W[np.abs(freqs - centre) <= width, k] = np.maximum(W[np.abs(freqs - centre) <= width, k], 1.0 / h)
    return W / np.maximum(W.sum(axis=0, keepdims=True), classical.EPS)


def note_activations(notes, components, *, n_frames: int, sr: int, hop_length: int = spectral.HOP_LENGTH,
                     onset_tolerance: float = 0.1, offset_tolerance: float = 0.2) -> np.ndarray:
    """Initial activations: 1 where the score lets a component sound, 0 elsewhere.

    Parameters
    ----------
    notes : sequence of Note
    components : sequence of int
        The MIDI pitch of each component (row), in order.
    n_frames, sr, hop_length : int
        The STFT's frames.
    onset_tolerance, offset_tolerance : float
        Seconds before a note's start and after its end where it may still sound (timing
        errors of the score, release and reverb).

    Returns
    -------
    np.ndarray, float64, shape ``(len(components), n_frames)``
    """
    row = {pitch: i for i, pitch in enumerate(components)}
    H = np.zeros((len(components), n_frames))
    for note in notes:
        if note.pitch not in row:
            continue
        first = max(int(np.floor((note.start - onset_tolerance) * sr / hop_length)), 0)
        last = min(int(np.ceil((note.end + offset_tolerance) * sr / hop_length)), n_frames - 1)
        H[row[note.pitch], first:last + 1] = 1.0
    return H


def score_informed_nmf(V, scores: dict, *, sr: int, n_fft: int = spectral.N_FFT,
                       hop_length: int = spectral.HOP_LENGTH, n_iter: int = 50, power: float = 2.0,
                       onset_tolerance: float = 0.1, offset_tolerance: float = 0.2):
    """Separate the stems of a mixture with NMF constrained by their scores.

    Parameters
    ----------
    V : np.ndarray, shape ``(n_freq, n_frames)``
        The mixture's magnitude spectrogram.
    scores : dict of str to sequence of Note
        Each stem's notes (:func:`read_notes`); a stem whose notes are drum hits gets one flat
        template per drum sound instead of a harmonic comb per pitch.
    sr, n_fft, hop_length : int
    n_iter : int
        NMF iterations (templates and activations both updated).
    power : float
        Exponent of the ratio masks built from the stems' models.
    onset_tolerance, offset_tolerance : float
        As for :func:`note_activations`.

    Returns
    -------
    masks : np.ndarray, float64, shape ``(n_stems, n_freq, n_frames)``
        In the order of ``scores``; they sum to 1 over the stems.
    W, H : np.ndarray
        The learned templates and activations, the stems' blocks in order, then one residual
        component that belongs to no stem.
    blocks : dict of str to slice
        Which components (columns of ``W``, rows of ``H``) belong to each stem.

    Notes
    -----
    Taught in ``04_classical_separation``, section 5.
    """
    V = classical._magnitude(V, "V")
    if not scores:
        raise ValueError("scores is empty: give the notes of at least one stem.")
    templates, activations, blocks, start = [], [], {}, 0
    for stem, notes in scores.items():
        notes = list(notes)
        components = sorted({n.pitch for n in notes})
        drum = bool(notes) and all(n.drum for n in notes)
        W = (np.full((V.shape[0], len(components)), 1.0 / V.shape[0]) if drum
             else harmonic_templates(components, sr=sr, n_fft=n_fft))
        templates.append(W)
        activations.append(note_activations(notes, components, n_frames=V.shape[1], sr=sr, hop_length=hop_length,
                                            onset_tolerance=onset_tolerance, offset_tolerance=offset_tolerance))
        blocks[stem] = slice(start, start + len(components))
        start += len(components)
    # one more component, flat and active everywhere, that belongs to no stem: it takes what the
    # score explains nowhere (reverb tails, breaths), so that no bin's model is 0 where V is not
    # (the KL update divides by the model there)
    templates.append(np.full((V.shape[0], 1), 1.0 / V.shape[0]))
    activations.append(np.ones((1, V.shape[1])))
    scale = V.mean() / max(np.concatenate(activations).mean(), classical.EPS)
    W, H, _ = classical.nmf(V, W=np.concatenate(templates, axis=1), H=np.concatenate(activations) * scale,
                            n_iter=n_iter)
    models = np.stack([W[:, b] @ H[b] for b in blocks.values()])  # the residual is in no stem's mask
    P = models ** power
    masks = (P + classical.EPS) / (P.sum(axis=0) + len(P) * classical.EPS)
    return masks, W, H, blocks
