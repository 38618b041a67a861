"""The course's separation methods, each a function ``method(track) -> {stem: estimate}``.

That one signature is what :func:`course_utils.metrics.evaluate` scores and what the
leaderboard runs: a method takes a :class:`course_utils.data.Track` and returns estimates of
some of its stems (:data:`course_utils.data.STEMS`, or the two-stem outputs
``"accompaniment"`` and ``"non-drums"``), each shaped like ``track.mixture``. Every function
here *builds* such a method (settings in, method out):

- :func:`mixture`: no separation, every stem estimated by the mixture (the baseline, 02);
- :func:`oracle`: an oracle mask computed from the true stems (02);
- :func:`pan`: masks from where each stem sits in a stereo mix (02, section 6);
- :func:`hpss`, :func:`repet`, :func:`repet_sim`, :func:`nmf`: the classical methods (04),
  masks from the mixture's magnitude applied to its STFT; :func:`blind_nmf` and
  :func:`score_informed`, NMF without training data (04, section 4.3);
- :func:`unet`: the shipped U-Nets (05);
- :func:`waveform`: the shipped waveform model, a tiny Demucs (08);
- :func:`demucs`: a pretrained waveform model such as Hybrid Demucs (07).

Two wrappers adapt a method to other data: :func:`per_channel` runs a mono method on each
channel of a stereo track, :func:`at_rate` runs a method at its own sample rate and brings the
estimates back to the track's (05: the course's 22050 Hz methods scored on MUSDB18's 44.1 kHz
stereo, as its published numbers are).

A method of your own is any function with the same signature, e.g.
``lambda track: {"bass": my_filter(track.mixture)}``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import audio, classical, masks, spatial, spectral, state_of_the_art
from .data import STEMS

__all__ = ["per_channel", "at_rate", "mixture", "oracle", "pan", "hpss", "repet", "repet_sim", "learn_nmf_templates", "nmf", "blind_nmf", "score_informed", "unet", "waveform", "demucs"]


def _masked(track, masks_fn) -> np.ndarray:
    """``masks_fn(|Y|, sr)``'s masks applied to the mixture's STFT ``Y``: the estimates, stacked."""
    Y = spectral.stft(track.mixture)
    return masks.apply_mask(np.stack(masks_fn(np.abs(Y), track.sr)), Y, length=track.mixture.shape[-1])


def _vocals_over_background(track, masks_fn) -> dict:
    """Masks ``(background, foreground)`` from ``masks_fn``: the foreground is the vocals."""
    background, foreground = _masked(track, masks_fn)
    return {"vocals": foreground, "accompaniment": background}


def per_channel(method):
    """A mono method applied to each channel of a stereo track, the estimates stacked.

    Parameters
    ----------
    method : callable
        ``method(track) -> {stem: estimate}`` for mono tracks.

    Returns
    -------
    callable
        The same for a track of any channel count; a mono track goes to ``method`` unchanged.

    Notes
    -----
    Used in ``05_unet_separation``.
    """
    def separate(track):
        if track.mixture.ndim == 1:
            return method(track)
        channels = [method(dataclasses.replace(track, mixture=track.mixture[c],
                                               stems={s: v[c] for s, v in track.stems.items()}))
                    for c in range(track.mixture.shape[0])]
        return {name: np.stack([estimates[name] for estimates in channels]) for name in channels[0]}
    return separate


def at_rate(method, *, sr: int):
    """A method run at the sample rate ``sr``, its estimates resampled back to the track's rate.

    Parameters
    ----------
    method : callable
        ``method(track) -> {stem: estimate}`` that expects tracks at ``sr`` (the shipped U-Nets:
        :data:`course_utils.data.COURSE_SR`).
    sr : int

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for a track at any rate; each estimate has the
        track's shape (resampled with :func:`course_utils.audio.resample`, cut or zero-padded to
        its length).

    Notes
    -----
    Used in ``05_unet_separation``.
    """
    def separate(track):
        if track.sr == sr:
            return method(track)
        at_sr = lambda y: audio.resample(y, orig_sr=track.sr, target_sr=sr)
        there = dataclasses.replace(track, sr=sr, mixture=at_sr(track.mixture),
                                    stems={s: at_sr(v) for s, v in track.stems.items()})
        n = track.mixture.shape[-1]
        back = {name: audio.resample(e, orig_sr=sr, target_sr=track.sr)[..., :n] for name, e in method(there).items()}
        return {name: np.pad(e, [(0, 0)] * (e.ndim - 1) + [(0, n - e.shape[-1])]) for name, e in back.items()}
    return separate


def mixture():
    """No separation: every stem's estimate is the mixture itself.

    Returns
    -------
    callable
        ``method(track) -> {stem: track.mixture for every stem}``.

    Notes
    -----
    Taught in ``02_masking``.
    """
    return lambda track: {s: track.mixture for s in STEMS}


def oracle(kind: str = "irm", **options):
    """An oracle mask, computed from the true stems (:func:`course_utils.masks.oracle_estimates`).

    Parameters
    ----------
    kind : {"ibm", "irm", "wiener", "psm"}
    **options
        ``power``, ``clip``, ``eps`` and the STFT settings of ``oracle_estimates``.

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for the four stems.

    Notes
    -----
    Taught in ``02_masking``.
    """
    if kind not in masks.ORACLES:
        raise ValueError(f"kind must be one of {masks.ORACLES}, got {kind!r}.")
    return lambda track: dict(zip(STEMS, masks.oracle_estimates(track, kind=kind, **options)))


def pan(*, width: float = 0.1):
    """Pan masks of a stereo track (:func:`course_utils.spatial.pan_masks`).

    Each stem's position is measured on the true stem (:func:`course_utils.spatial.position`):
    the method is told *where* each source sits (four numbers), never what it sounds like, and
    separates with the channels' level difference alone.

    Parameters
    ----------
    width : float
        The masks' width in pan-index units.

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for the four stems, each ``(2, n_samples)``; the
        track must be stereo (``load_dataset(..., mono=False)``).

    Notes
    -----
    Taught in ``02_masking``.
    """
    def separate(track):
        Y = spectral.stft(track.mixture)
        positions = spatial.position(spectral.stft(track.sources))
        pan_masks = spatial.pan_masks(Y, positions, width=width)              # (4, n_freq, n_frames)
        both_channels = np.broadcast_to(pan_masks[:, None], (len(STEMS),) + Y.shape)
        return dict(zip(STEMS, masks.apply_mask(both_channels, Y, length=track.mixture.shape[-1])))
    return separate


def hpss(*, power: float = 2.0, kernel_size=31):
    """Harmonic-percussive separation: the percussive part estimates the drums.

    Parameters
    ----------
    power : float
        Soft-mask exponent (``np.inf``: hard masks), as :func:`course_utils.classical.hpss`.
    kernel_size : int or (int, int)

    Returns
    -------
    callable
        ``method(track) -> {"drums": percussive, "non-drums": harmonic}``.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    def separate(track):
        harmonic, percussive = _masked(track, lambda S, sr: classical.hpss(S, mask=True, power=power,
                                                                          kernel_size=kernel_size))
        return {"drums": percussive, "non-drums": harmonic}

    return separate


def repet(**options):
    """REPET: the repeating background is the accompaniment, the rest the vocals.

    Parameters
    ----------
    **options
        Keyword arguments of :func:`course_utils.classical.repet` (``period``, ...).

    Returns
    -------
    callable
        ``method(track) -> {"vocals": foreground, "accompaniment": background}``.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    def masks_fn(S, sr):
        result = classical.repet(S, sr=sr, **options)
        return result.background, result.foreground

    return lambda track: _vocals_over_background(track, masks_fn)


def repet_sim(*, selection: str = "peaks", **options):
    """REPET-SIM: the background repeats among similar frames anywhere in the song.

    Parameters
    ----------
    selection : {"knn", "peaks"}
        How similar frames are picked (:func:`course_utils.classical.similar_frames`).
    **options
        Other keyword arguments of :func:`course_utils.classical.repet_sim`.

    Returns
    -------
    callable
        ``method(track) -> {"vocals": foreground, "accompaniment": background}``.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    return lambda track: _vocals_over_background(
        track, lambda S, sr: classical.repet_sim(S, sr=sr, selection=selection, **options))


def learn_nmf_templates(tracks, *, n_components: int = 16, n_iter: int = 50, frame_step: int = 8,
                        silence: float = 1e-3, random_state: int = 0) -> dict[str, np.ndarray]:
    """Spectral templates per stem for supervised NMF, learned on training tracks.

    Every ``frame_step``-th STFT frame of each training stem is kept, frames quieter than
    ``silence`` times the loudest are dropped, and :func:`course_utils.classical.learn_templates`
    factorises what is left.

    Parameters
    ----------
    tracks : sequence of course_utils.data.Track
        Training songs (mono).
    n_components : int
        Templates per stem.
    n_iter : int
        NMF iterations.
    frame_step : int
        Use every ``frame_step``-th frame (fewer, less redundant frames: faster).
    silence : float
        Relative level below which a frame counts as silent.
    random_state : int

    Returns
    -------
    dict of str to np.ndarray, each shaped ``(n_freq, n_components)``
        One template matrix per stem of :data:`course_utils.data.STEMS`.

    Notes
    -----
    Taught in ``04_classical_separation``; used by the leaderboard of ``07_tools_and_state_of_the_art``.
    """
    tracks = list(tracks)
    if not tracks:
        raise ValueError("tracks is empty: NMF templates need training songs.")
    templates = {}
    for stem in STEMS:
        V = np.concatenate([np.abs(spectral.stft(t.stems[stem]))[:, ::frame_step] for t in tracks], axis=1)
        energy = V.sum(axis=0)
        V = V[:, energy > silence * energy.max()]
        templates[stem] = classical.learn_templates(V, n_components=n_components, n_iter=n_iter,
                                                    random_state=random_state)
    return templates


def nmf(templates: dict, *, n_iter: int = 50):
    """Supervised NMF with fixed templates per stem (:func:`course_utils.classical.supervised_nmf`).

    Parameters
    ----------
    templates : dict of str to np.ndarray
        One ``(n_freq, n_components)`` matrix per stem of :data:`course_utils.data.STEMS`
        (:func:`learn_nmf_templates`).
    n_iter : int
        Iterations of the activations' updates per song.

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for the four stems.

    Notes
    -----
    Taught in ``04_classical_separation``.
    """
    missing = set(STEMS) - set(templates)
    if missing:
        raise ValueError(f"templates lacks the stems {sorted(missing)}.")
    bank = [templates[s] for s in STEMS]

    def separate(track):
        return dict(zip(STEMS, _masked(track, lambda S, sr: classical.supervised_nmf(S, bank, n_iter=n_iter)[0])))

    return separate


def blind_nmf(*, n_components: int = 64, n_iter: int = 50, power: float = 1.0, random_state: int = 0):
    """Blind NMF: the mixture's magnitude factorised with no templates and no score
    (:func:`course_utils.classical.nmf`), the components grouped into stems by the oracle
    grouping (:func:`course_utils.classical.oracle_grouping`).

    The factorisation is blind, the grouping is not: each component goes to the stem whose
    true spectrogram it resembles most, so the method looks at the true stems (as
    :func:`oracle` does) and is an upper bound of what clustering the components could reach.

    Parameters
    ----------
    n_components : int
        The rank of the factorisation, shared by all four stems.
    n_iter : int
        Iterations (templates and activations both updated).
    power : float
        Exponent of the ratio masks (:func:`course_utils.classical.component_masks`).
    random_state : int
        Seeds the factorisation's random start.

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for the four stems; a stereo track is factorised
        channel by channel. The masks sum to 1, so the estimates add up to the mixture.

    Notes
    -----
    Taught in ``04_classical_separation``, section 4.3.
    """
    def separate(track):
        sources = np.abs(spectral.stft(track.sources))                        # (4, n_freq, n_frames): the oracle's

        def masks_fn(S, sr):
            W, H, _ = classical.nmf(S, n_components=n_components, n_iter=n_iter, random_state=random_state)
            labels = classical.oracle_grouping(W, H, sources)
            return classical.component_masks(W, H, labels, n_sources=len(STEMS), power=power)

        return dict(zip(STEMS, _masked(track, masks_fn)))

    return per_channel(separate)


def score_informed(*, stems=STEMS, shift_s: float = 0.0, drop_every: int = 0, **options):
    """Score-informed NMF (:func:`course_utils.scores.score_informed_nmf`) with each song's own
    scores (``track.info["score"]``, the bundled set's MIDI files), all four stems modelled.

    Parameters
    ----------
    stems : sequence of str
        The stems to return (every stem of the score is modelled whatever this says).
    shift_s, drop_every
        Make the score slightly wrong first (:func:`course_utils.scores.perturbed`).
    **options
        For :func:`course_utils.scores.score_informed_nmf` (``n_iter``, tolerances, ``power``).

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}``; it raises for a track without scores.

    Notes
    -----
    Taught in ``04_classical_separation``, section 5.
    """
    from . import scores

    def separate(track):
        paths = track.info.get("score")
        if not paths:
            raise ValueError(f"{track.name} has no score: score-informed separation needs the bundled set's MIDI.")
        notes = {s: scores.perturbed(scores.read_notes(paths[s]), shift_s=shift_s, drop_every=drop_every)
                 for s in STEMS}
        estimates = _masked(track, lambda S, sr: scores.score_informed_nmf(S, notes, sr=sr, **options)[0])
        return {s: x for s, x in zip(STEMS, estimates) if s in stems}

    return per_channel(separate)


def unet(*, stems=STEMS, device=None, multichannel_wiener: int | None = None):
    """The shipped U-Nets of notebook 05, one checkpoint per stem, loaded at the first call.

    A stereo track is separated channel by channel: each channel's magnitude goes through the
    networks, and each channel is masked with its own masks.

    Parameters
    ----------
    stems : sequence of str
        The stems to separate (those with a shipped checkpoint).
    device : str or torch.device, optional
    multichannel_wiener : int, optional
        Refine the four stems' magnitude estimates with a multichannel Wiener filter and this
        many EM iterations (:func:`course_utils.masks.multichannel_wiener`, as Open-Unmix);
        needs all four stems. None (default): the masks applied to the mixture.

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}``, each estimate shaped like ``track.mixture``.

    Notes
    -----
    Taught in ``05_unet_separation``.
    """
    from . import models  # torch takes about 2 s to import: only when the U-Nets are asked for

    stems = [s for s in stems if s in models.available_pretrained()]
    if multichannel_wiener is not None and sorted(stems) != sorted(STEMS):
        raise ValueError(f"the multichannel Wiener filter models all four stems; got {stems}.")
    separators = {}

    masked = per_channel(lambda t: {s: sep.separate(t.mixture)[0] for s, sep in separators.items()})

    def separate(track):
        if not separators:
            separators.update({s: models.pretrained(s, device=device)[0] for s in stems})
        if multichannel_wiener is None:
            return masked(track)
        channels = track.mixture.reshape(-1, track.mixture.shape[-1])       # (n_channels, n): mono is one channel
        Y = spectral.stft(channels)                                          # (n_channels, n_freq, n_frames)
        magnitudes = np.stack([[sep.masks(np.abs(Y_c))[0] * np.abs(Y_c) for Y_c in Y] for sep in separators.values()])
        X = masks.multichannel_wiener(magnitudes, Y, iterations=multichannel_wiener)
        estimates = spectral.istft(X, length=track.mixture.shape[-1]).astype(np.float32)
        return dict(zip(separators, estimates.reshape((len(separators),) + track.mixture.shape)))

    return separate


def waveform(name: str | None = None, *, stems=STEMS, device=None):
    """A shipped waveform model of notebook 08 (:func:`course_utils.waveform.pretrained`), loaded
    at the first call; one model gives all four stems. A stereo track is separated channel by channel.

    Parameters
    ----------
    name : str, optional
        Which checkpoint (default :data:`course_utils.waveform.PRETRAINED`).
    stems : sequence of str
        The stems to return.
    device : str or torch.device, optional

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}``, each estimate shaped like ``track.mixture``.

    Notes
    -----
    Taught in ``08_waveform_separation``; used by the leaderboard of ``07_tools_and_state_of_the_art``.
    """
    loaded = []

    def separate(track):
        if not loaded:
            from . import waveform as wave  # torch takes about 2 s to import: only when asked for

            loaded.append(wave.pretrained(name or wave.PRETRAINED, device=device)[0])
        estimates = loaded[0].separate(track.mixture)
        return {s: x for s, x in zip(loaded[0].targets, estimates) if s in stems}

    return per_channel(separate)


def demucs(model, **options):
    """A pretrained waveform model (Hybrid Demucs) run in overlapping chunks.

    Parameters
    ----------
    model : torch.nn.Module
        With ``sources`` naming its outputs (e.g. from
        :func:`course_utils.state_of_the_art.load_pretrained_hdemucs`).
    **options
        Keyword arguments of :func:`course_utils.state_of_the_art.separate_waveform`
        (``segment``, ``overlap``, ``model_sr``, ...).

    Returns
    -------
    callable
        ``method(track) -> {stem: estimate}`` for the four stems.

    Notes
    -----
    Taught in ``07_tools_and_state_of_the_art``.
    """
    def separate(track):
        est = state_of_the_art.separate_waveform(model, track.mixture, sr=track.sr, sources=STEMS, **options)
        return dict(zip(STEMS, est))

    return separate
