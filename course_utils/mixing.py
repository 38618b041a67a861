"""The bundled set's stereo mix: mono channel strips in, stereo stem images out.

A produced mix places every instrument between the speakers and lets them share one room. The
bundled set stores each stem as a mono channel strip (already equalised and compressed when the
set was made) and each song's placement in its ``mix.json``; :func:`render` turns them into
stereo stem images at load time, deterministically:

- :func:`pan`: constant-power panning of the strip (``position`` -1 left, 0 centre, +1 right),
  unity gain in the centre;
- :func:`room`: the song's stereo room impulse response, decorrelated noise decaying by 60 dB
  in ``t60`` seconds, its highs dying faster, drawn from the song's seed;
- each stem's image is its panned strip plus its send (``send_db``) into the room, faded out
  over the last :data:`TAIL_FADE` seconds, so the images add up to the mixture exactly, as
  MUSDB18's stems do.

Everything here is linear in the strips: scaling a song's strips scales its mix. Used by
:func:`course_utils.data.load_dataset`; taught in ``00_introduction``.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal

from . import audio

__all__ = ["pan", "room", "render"]

TAIL_FADE = 0.05  # seconds: the song ends inside the room's tail, faded out over this time


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan of a mono signal, unity gain in the centre.

    Parameters
    ----------
    x : np.ndarray, shape ``(n,)``
    position : float in [-1, 1]
        -1 hard left, 0 centre (both channels equal ``x``, so the mono downmix of a centred
        stem is the stem), +1 hard right.

    Returns
    -------
    np.ndarray, shape ``(2, n)``
        ``left**2 + right**2 == 2 x**2`` whatever the position; the level difference is
        ``20 log10(cot(pi (position + 1) / 4))`` dB.
    """
    if not -1 <= position <= 1:
        raise ValueError(f"position must be in [-1, 1], got {position!r}.")
    theta = np.pi * (position + 1) / 4
    return np.sqrt(2) * np.stack([np.cos(theta) * x, np.sin(theta) * x])


def room(*, sr: int, t60: float, seed: int, predelay: float = 0.012) -> np.ndarray:
    """A stereo room impulse response whose energy decays by 60 dB in ``t60`` seconds.

    Two independent noises (a real room's two ears hear decorrelated reflections), after
    ``predelay`` seconds of silence and lasting ``1.5 * t60``; above 4 kHz the decay is twice as
    fast, as air and walls absorb the highs. Normalised to unit energy per channel.

    Returns
    -------
    np.ndarray, float64, shape ``(2, n)``
    """
    if t60 <= 0:
        raise ValueError(f"t60 must be positive, got {t60!r}.")
    rng = np.random.default_rng(seed)
    n = int(round(1.5 * t60 * sr))
    t = np.arange(n) / sr
    sos = scipy.signal.butter(2, 4000, fs=sr, output="sos")
    out = np.zeros((2, n + int(predelay * sr)))
    decay = 10 ** (-3 * t / t60)  # amplitude; energy is 60 dB down at t60
    for c in range(2):
        noise = rng.standard_normal(n)
        low = scipy.signal.sosfilt(sos, noise)
        out[c, -n:] = low * decay + (noise - low) * decay**2
    return out / np.sqrt(np.sum(out**2, axis=-1, keepdims=True))


def render(strips: dict[str, np.ndarray], settings: dict, *, sr: int) -> dict[str, np.ndarray]:
    """Mix mono channel strips into stereo stem images that add up to the stereo mixture.

    Parameters
    ----------
    strips : dict of str to np.ndarray, each shape ``(n,)``
    settings : dict
        A song's ``mix.json``: ``{"t60": seconds, "seed": int, "stems": {name: {"position":
        float, "send_db": float}}}``; every strip must have an entry.
    sr : int

    Returns
    -------
    dict of str to np.ndarray, each float32 of shape ``(2, n)``: one image per strip, plus
    ``"mixture"``, their sum.
    """
    impulse = room(sr=sr, t60=float(settings["t60"]), seed=int(settings["seed"]))
    n = audio.valid_array(next(iter(strips.values())), name="strip", ndim=1).size
    size = scipy.fft.next_fast_len(n + impulse.shape[-1] - 1, real=True)
    response = scipy.fft.rfft(impulse, size, axis=-1)  # one transform of the room, shared by the stems
    fade = np.minimum(1.0, (n - 1 - np.arange(n)) / (TAIL_FADE * sr))  # the room's tail must not stop with a click
    images = {}
    for name, strip in strips.items():
        strip = audio.valid_array(strip, name=name, ndim=1).astype(np.float64)
        if strip.size != n:
            raise ValueError(f"strip {name!r} has {strip.size} samples, the others {n}.")
        stem = settings["stems"][name]
        wet = scipy.fft.irfft(scipy.fft.rfft(strip, size) * response, size, axis=-1)[:, :n]
        image = pan(strip, float(stem["position"])) + 10 ** (stem["send_db"] / 20) * wet
        images[name] = (image * fade).astype(np.float32)
    images["mixture"] = np.sum(list(images.values()), axis=0, dtype=np.float64).astype(np.float32)
    return images
