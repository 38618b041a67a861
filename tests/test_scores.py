"""Score-informed NMF (course_utils.scores): the constraints, and what it does with a score."""

import warnings

import numpy as np
import pretty_midi
import pytest

from course_utils import data, methods, metrics, spectral
from course_utils.scores import Note, harmonic_templates, note_activations, perturbed, read_notes, score_informed_nmf

SR = 22050


def test_a_template_is_a_comb_at_the_pitchs_partials():
    W = harmonic_templates([69, 28], sr=SR)                      # A4 (440 Hz) and E1 (41.2 Hz)
    freqs = np.arange(W.shape[0]) * SR / spectral.N_FFT
    a4 = W[:, 0]
    assert np.isclose(a4.sum(), 1) and np.isclose(W[:, 1].sum(), 1)
    nearest = np.round(freqs[a4 > 0] / 440)                      # every non-zero bin sits on a partial,
    width = np.maximum(440 * nearest * (2 ** (0.5 / 12) - 1), 1.5 * SR / spectral.N_FFT)  # half a semitone off at most
    assert np.all(np.abs(freqs[a4 > 0] - 440 * nearest) <= width)
    assert set(nearest.astype(int)) == set(range(1, 17))         # 16 partials below the Nyquist frequency
    assert a4[np.argmin(np.abs(freqs - 440))] > a4[np.argmin(np.abs(freqs - 880))]  # weights fall as 1/h
    assert (a4 == 0).mean() > 0.6                                # zero between the teeth (67 % of the bins)
    low = np.flatnonzero(W[:, 1] > 0)
    assert low[0] <= 2 and np.all(np.diff(low) <= 2)             # a low note's teeth cover whole bins


def test_activations_are_one_only_where_the_score_lets_the_note_sound():
    notes = [Note(60, 1.0, 1.5), Note(64, 2.0, 2.2), Note(99, 0.0, 3.0)]   # 99: no component for it
    hop = spectral.HOP_LENGTH
    H = note_activations(notes, [60, 64], n_frames=300, sr=SR, hop_length=hop, onset_tolerance=0.1,
                         offset_tolerance=0.2)
    frames = np.arange(300) * hop / SR
    allowed = (frames >= 0.9 - hop / SR) & (frames <= 1.7 + hop / SR)
    assert H.shape == (2, 300) and set(np.unique(H)) == {0.0, 1.0}
    assert np.all(H[0][~allowed] == 0) and H[0][(frames >= 0.9) & (frames <= 1.7)].min() == 1
    assert H[1].sum() == pytest.approx((0.5 * SR / hop), abs=2)


def test_a_wrong_score_is_shifted_and_thinned():
    notes = [Note(60 + i, float(i), i + 0.5) for i in range(8)]
    wrong = perturbed(notes, shift_s=0.05, drop_every=4)
    assert [n.pitch for n in wrong] == [60, 61, 62, 64, 65, 66]
    assert all(np.isclose(w.start - n.start, 0.05) for w, n in zip(wrong[:3], notes[:3]))


def tone(pitch, start, end, n):
    t = np.arange(n) / SR
    f0 = 440 * 2 ** ((pitch - 69) / 12)
    envelope = ((t >= start) & (t < end)).astype(float)
    return envelope * sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 6))


def test_two_notes_are_separated_by_their_scores_and_the_zeros_stay_zero():
    n = 2 * SR
    a, b = tone(60, 0.0, 1.2, n), tone(67, 0.6, 2.0, n)
    Y = spectral.stft(a + b)
    scores = {"low": [Note(60, 0.0, 1.2)], "high": [Note(67, 0.6, 2.0)]}
    masks, W, H, blocks = score_informed_nmf(np.abs(Y), scores, sr=SR, n_iter=50)
    assert masks.shape == (2, *Y.shape) and np.allclose(masks.sum(axis=0), 1)
    H0 = note_activations(scores["high"], [67], n_frames=Y.shape[1], sr=SR)
    assert np.all(H[blocks["high"]][H0 == 0] == 0)              # multiplicative updates keep the score's zeros
    estimates = spectral.istft(masks * Y, length=n)
    sdr = metrics.bss_eval(np.stack([a, b]), estimates).sdr
    assert sdr.min() > 12, sdr


def test_read_notes_reads_every_instrument_of_a_bundled_score():
    track = data.load_dataset("bundled", split="test")[0]
    path = track.info["score"]["vocals"]
    midi = pretty_midi.PrettyMIDI(str(path))
    notes = read_notes(path)
    assert len(notes) == sum(len(i.notes) for i in midi.instruments) > 5
    assert notes == sorted(notes, key=lambda x: (x.start, x.pitch)) and not any(x.drum for x in notes)
    assert all(x.drum for x in read_notes(track.info["score"]["drums"]))


@pytest.fixture(scope="module")
def medians():
    tracks = data.load_dataset("bundled", split="test", sr=data.COURSE_SR)[:2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.SilenceWarning)
        scores = metrics.evaluate(tracks, {"mixture": methods.mixture(), "score": methods.score_informed(),
                                           "late": methods.score_informed(shift_s=0.15)}, definition="sources")
    return metrics.summarise(scores, metric="SDR")


def test_the_score_separates_every_stem_of_a_song(medians):
    assert (medians.loc["score"] > medians.loc["mixture"] + 3).all(), medians


def test_a_score_150_ms_late_separates_worse(medians):
    assert (medians.loc["late"] < medians.loc["score"] - 0.5).all(), medians
