"""The BSS Eval engine behind :mod:`course_utils.metrics` (private: use the public functions there).

What it computes is BSS Eval (Vincent, Gribonval & Févotte 2006) as ``museval`` v4 and
``mir_eval`` compute it; how it computes it is what makes it some 15 times faster than
museval on the same numbers:

- the correlations of every delayed reference with every other and with the estimates come
  from FFTs of short blocks (:func:`lag_correlations`);
- the Gram system (all sources, channels and delays) is block Toeplitz and is solved once for
  all estimates by the block Levinson recursion, refined and checked, with Cholesky and
  museval's own LU as fall-backs (:func:`solve_gram`);
- the projections of all frames are formed together by overlap-add FFT convolution and the
  energies of the decomposition's terms are taken frame by frame from them, streaming frames
  longer than the memory budget (:func:`frame_energies`).

Arrays here are float64 ``(n_sources, n_channels, n_samples)``; :func:`check_sources` makes them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.linalg

from .audio import valid_array
from .repro import one_blas_thread

FILTER_LENGTH = 512
"""BSS Eval's distortion-filter length in taps (as in BSS Eval v3/v4, museval and mir_eval)."""
CHUNK_BYTES = 64 * 2**20  # working memory per vectorised step (the spectra of a batch of blocks)
# FFT threads: all cores, unless COURSE_FFT_WORKERS says otherwise (the batch grader sets 1:
# its sandboxes allow no second thread)
WORKERS = int(os.environ.get("COURSE_FFT_WORKERS", "-1"))


class SilenceWarning(RuntimeWarning):
    """A source or frame could not be scored because a signal is silent there (scored NaN)."""


# --------------------------------------------------------------------------------------------
# Input checks


def check_sources(references, estimates) -> tuple[np.ndarray, np.ndarray]:
    """Validate a reference set and an estimate set; return float64 ``(n, n_channels, n_samples)``."""
    refs = valid_array(references, name="references", real=True)
    ests = valid_array(estimates, name="estimates", real=True)
    if refs.ndim not in (2, 3):
        raise ValueError(
            "references must have shape (n_sources, n_samples) or (n_sources, n_channels, n_samples), "
            f"got shape {refs.shape}."
        )
    if ests.ndim != refs.ndim:
        raise ValueError(
            f"estimates (shape {ests.shape}) must have the same number of dimensions as references "
            f"(shape {refs.shape}): sources on the first axis, one estimate per reference."
        )
    if ests.shape[0] > refs.shape[0]:
        raise ValueError(
            f"There are more estimates ({ests.shape[0]}) than references ({refs.shape[0]}); "
            "every estimate needs its reference at the same index."
        )
    if ests.shape[-1] != refs.shape[-1]:
        raise ValueError(
            f"references have {refs.shape[-1]} samples but estimates have {ests.shape[-1]}: "
            "trim or zero-pad the estimates to the references' length first."
        )
    if ests.shape[1:-1] != refs.shape[1:-1]:
        raise ValueError(
            f"references have {refs.shape[1]} channels but estimates have {ests.shape[1]} "
            f"(shapes {refs.shape} and {ests.shape})."
        )
    refs = np.asarray(refs, dtype=np.float64).reshape(refs.shape[0], -1, refs.shape[-1])
    ests = np.asarray(ests, dtype=np.float64).reshape(ests.shape[0], -1, ests.shape[-1])
    return refs, ests


def check_filter_length(filter_length, n_samples: int) -> int:
    if int(filter_length) != filter_length or not 1 <= filter_length <= n_samples:
        raise ValueError(
            f"filter_length must be an integer between 1 and the number of samples ({n_samples}), "
            f"got {filter_length!r}."
        )
    return int(filter_length)


def take(arr: np.ndarray, index) -> np.ndarray:
    """``arr[index]`` for a list of indices: a view when they are consecutive."""
    index = list(index)
    if index == list(range(index[0], index[0] + len(index))):
        return arr[index[0]:index[0] + len(index)]
    return arr[index]


def source_names(names, n: int) -> tuple:
    if names is None:
        return tuple(f"source{i}" for i in range(n))
    names = tuple(str(s) for s in names)
    if len(names) < n:
        raise ValueError(f"Got {len(names)} names for {n} sources: {names}.")
    return names[:n]


def safe_db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``10 log10(num / den)``: ``inf`` for a zero denominator, NaN for 0/0."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    out = np.full(num.shape, np.nan)
    pos = den > 0
    with np.errstate(divide="ignore"):
        out[pos] = 10 * np.log10(num[pos] / den[pos])
    out[(den == 0) & (num > 0)] = np.inf
    return out


# --------------------------------------------------------------------------------------------
# The projection machinery (BSS Eval's distortion filters)


def segments(sig: np.ndarray, first: int, count: int, step: int, length: int) -> np.ndarray:
    """``sig[:, first + i step : first + i step + length]`` for ``i < count``, zero outside the
    signal: shape ``(n_signals, count, length)``, a view when no zeros are needed."""
    n = sig.shape[1]
    end = first + (count - 1) * step + length
    if first < 0 or end > n:
        span = np.zeros((sig.shape[0], end - first))
        lo, hi = max(first, 0), min(end, n)
        if hi > lo:
            span[:, lo - first:hi - first] = sig[:, lo:hi]
        sig, first = span, 0
    return np.lib.stride_tricks.sliding_window_view(sig, length, axis=1)[:, first:first + (count - 1) * step + 1:step]


def lag_correlations(u: np.ndarray, x: np.ndarray, max_lag: int) -> np.ndarray:
    """Cross-correlations at lags ``-max_lag..max_lag``, by FFTs of short blocks.

    Returns ``r`` of shape ``(n_u, n_u + n_x, 2 max_lag + 1)`` with
    ``r[a, b, m + max_lag] = sum_t u[a, t] v[b, t + m]`` where ``v`` stacks ``u`` and ``x``
    (signals zero outside ``[0, n)``). Each block of ``u`` is correlated with the matching
    stretch of ``v`` widened by ``max_lag`` on both sides; the cross-spectra are summed over
    blocks (one small matrix product per frequency) and brought back with one inverse FFT
    per pair.
    """
    n_u, n = u.shape
    n_v = n_u + x.shape[0]
    span = 2 * max_lag
    n_fft = max(32768, 1 << int(np.ceil(np.log2(8 * span + 1))))
    n_fft = min(n_fft, scipy.fft.next_fast_len(n + span, real=True))
    block = n_fft - span
    n_blocks = -(-n // block)
    n_freq = n_fft // 2 + 1
    step = max(1, CHUNK_BYTES // (16 * n_freq * (n_u + n_v)))
    cross = np.zeros((n_freq, n_u, n_v), dtype=np.complex128)
    for b0 in range(0, n_blocks, step):
        nk = min(step, n_blocks - b0)
        uf = scipy.fft.rfft(segments(u, b0 * block, nk, block, block), n=n_fft, axis=-1, workers=WORKERS)
        vf = np.concatenate([scipy.fft.rfft(segments(sig, b0 * block - max_lag, nk, block, block + span),
                                            n=n_fft, axis=-1, workers=WORKERS) for sig in (u, x)])
        np.conjugate(uf, out=uf)
        cross += np.matmul(uf.transpose(2, 0, 1), vf.transpose(2, 1, 0))
    r = scipy.fft.irfft(cross, n=n_fft, axis=0, workers=WORKERS)[: span + 1]  # lags -max_lag..max_lag
    return np.ascontiguousarray(r.transpose(1, 2, 0))


def block_toeplitz(r: np.ndarray) -> np.ndarray:
    """The Gram matrix ``G[(a, p), (b, q)] = r[a, b, p - q + L - 1]`` of delayed signals.

    ``r`` of shape ``(n, n, 2L - 1)`` from :func:`lag_correlations`: ``G`` holds the inner
    products of signal ``a`` delayed by ``p`` samples with signal ``b`` delayed by ``q``.
    """
    n = r.shape[0]
    L = (r.shape[-1] + 1) // 2
    # windows[a, b, i, q] = r[a, b, 2L - 2 - i - q]; p = L - 1 - i gives r[a, b, L - 1 + p - q]
    windows = np.lib.stride_tricks.sliding_window_view(r[:, :, ::-1], L, axis=-1)[:, :, ::-1]
    return windows.transpose(0, 2, 1, 3).reshape(n * L, n * L)


def levinson(r: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the Gram system of :func:`block_toeplitz` by the block Levinson recursion.

    Taken with the delays outermost, the Gram matrix of delayed signals is block Toeplitz:
    block ``(p, q)`` is ``R(p - q)`` with ``R(d)[a, b] = r[a, b, d + L - 1]``. The
    Whittle-Wiggins-Robinson recursion grows forward and backward solutions one delay at a
    time, ``O(L² m³)`` operations instead of Cholesky's ``O(L³ m³)``.

    ``r`` of shape ``(m, m, 2L - 1)``, ``rhs`` of shape ``(m L, k)`` ordered like the Gram
    matrix (signal outermost); returns the solution in the same order.
    """
    m = r.shape[0]
    L = (r.shape[-1] + 1) // 2
    k = rhs.shape[1]
    # blocks side by side, lag decreasing: cols[:, j m:(j + 1) m] = R(L - 1 - j), so that the
    # last block row R(n), ..., R(1) and the first R(-1), ..., R(-n) are column slices
    cols = np.ascontiguousarray(r[:, :, ::-1].transpose(0, 2, 1)).reshape(m, (2 * L - 1) * m)
    y = rhs.reshape(m, L, k).transpose(1, 0, 2)  # (delay, signal, k)
    eye = np.eye(m)
    r0_inv = np.linalg.inv(r[:, :, L - 1])
    # with T_n the leading n x n blocks: T_n fwd = first block column of the identity,
    # T_n bwd = its last block column, T_n x = y[:n]
    fwd, bwd, fwd_new, bwd_new = (np.zeros((L * m, m)) for _ in range(4))
    fwd[:m] = bwd[:m] = r0_inv
    x = np.zeros((L * m, k))
    x[:m] = r0_inv @ y[0]
    for n in range(1, L):
        nm = n * m
        last_row = cols[:, (L - 1 - n) * m:(L - 1) * m]  # R(n), ..., R(1)
        first_row = cols[:, L * m:(L + n) * m]  # R(-1), ..., R(-n)
        err_f = last_row @ fwd[:nm]  # T_{n+1} [fwd; 0] = [I; 0; err_f]
        err_b = first_row @ bwd[:nm]  # T_{n+1} [0; bwd] = [err_b; 0; I]
        alpha = np.linalg.solve(eye - err_b @ err_f, eye)
        gamma = np.linalg.solve(eye - err_f @ err_b, eye)
        fwd_new[:nm] = fwd[:nm] @ alpha
        fwd_new[nm:nm + m] = 0
        fwd_new[m:nm + m] -= bwd[:nm] @ (err_f @ alpha)
        bwd_new[m:nm + m] = bwd[:nm] @ gamma
        bwd_new[:m] = 0
        bwd_new[:nm] -= fwd[:nm] @ (err_b @ gamma)
        x[:nm + m] += bwd_new[:nm + m] @ (y[n] - last_row @ x[:nm])  # T_{n+1} [x; 0] = [y[:n]; theta]
        fwd, fwd_new = fwd_new, fwd
        bwd, bwd_new = bwd_new, bwd
    return x.reshape(L, m, k).transpose(1, 0, 2).reshape(m * L, k)


def solve_gram(r: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``G c = rhs`` for the Gram matrix ``G`` of delayed signals (correlations ``r``).

    Large systems go through the block Levinson recursion plus one step of iterative
    refinement (the recursion is only weakly stable: on an ill-conditioned ``G``, such as a
    band-limited bass whose two channels are almost equal, its first solution is off by far
    more than rounding), accepted only if its backward error is as small as Cholesky's; else
    Cholesky; for a singular ``G`` (Cholesky fails), museval's LU with a tiny ridge.
    """
    m = r.shape[0]
    L = (r.shape[-1] + 1) // 2
    gram = block_toeplitz(r)
    if m * L >= 1024:  # below that Cholesky is as fast
        try:
            with np.errstate(all="ignore"):
                sol = levinson(r, rhs)
                sol += levinson(r, rhs - gram @ sol)
                error = np.linalg.norm(gram @ sol - rhs)
                scale = np.linalg.norm(gram) * np.linalg.norm(sol) + np.linalg.norm(rhs)
            if np.isfinite(error) and error <= 1e-14 * scale:
                return sol
        except np.linalg.LinAlgError:
            pass
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram, lower=True, check_finite=False), rhs,
                                      check_finite=False)
    except np.linalg.LinAlgError:
        warnings.warn(
            "The delayed references are (numerically) linearly dependent: e.g. band-limited "
            "signals, or one source a filtered copy of another. Projections are still defined, "
            "but frame-wise scores (museval's too) depend on rounding there.",
            RuntimeWarning, stacklevel=4,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        try:  # museval's choice: LU with a tiny ridge
            return scipy.linalg.solve(gram + np.finfo(float).eps * np.eye(len(gram)), rhs, check_finite=False)
        except np.linalg.LinAlgError:
            return scipy.linalg.lstsq(gram, rhs, check_finite=False)[0]


@dataclass
class Filters:
    basis: np.ndarray  # flat indices (source * n_channels + channel) of the non-silent reference channels
    full: np.ndarray  # (n_basis, L, n_est, n_channels): each estimate from all sources
    own: np.ndarray  # (n_basis, L, n_est, n_channels): each estimate from its own source (zero elsewhere)


def distortion_filters(refs: np.ndarray, ests: np.ndarray, est_index, filter_length: int) -> Filters:
    """Least-squares distortion filters of BSS Eval, fitted on the whole signals.

    ``refs`` (n_src, n_ch, n), ``ests`` (n_est, n_ch, n); filters are fitted for the estimates in
    ``est_index`` (estimate ``j`` against reference ``j``). One Gram matrix of all delayed
    reference channels, one solve for all estimates and channels; then one small solve per
    estimate against its own source's channels.
    """
    n_src, n_ch, n = refs.shape
    L = filter_length
    flat_refs = refs.reshape(n_src * n_ch, n)
    basis = np.flatnonzero(np.any(flat_refs != 0, axis=1))  # silent channels span nothing
    est_index = list(est_index)
    n_x = len(est_index) * n_ch
    u = flat_refs if len(basis) == len(flat_refs) else flat_refs[basis]
    r = lag_correlations(u, take(ests, est_index).reshape(n_x, n), L - 1)
    nb = len(basis)
    rhs = r[:, nb:, L - 1:].transpose(0, 2, 1)  # (nb, L, n_x): <ref delayed by p, estimate>
    full = solve_gram(r[:, :nb], rhs.reshape(nb * L, n_x)).reshape(nb, L, len(est_index), n_ch)
    own = np.zeros_like(full)
    for k, j in enumerate(est_index):
        rows = np.flatnonzero(basis // n_ch == j)
        if rows.size:
            d = rhs[rows][:, :, k * n_ch:(k + 1) * n_ch].reshape(rows.size * L, n_ch)
            own[rows, :, k] = solve_gram(r[np.ix_(rows, rows)], d).reshape(rows.size, L, n_ch)
    return Filters(basis=basis, full=full, own=own)


def frame_energies(refs, ests, filters: Filters, est_index, starts, width: int, filter_length: int,
                    images: bool) -> dict:
    """Energies of the decomposition's terms in each frame.

    As in museval (v4): every frame ``[start, start + width)`` of the references is filtered
    with the whole-signal filters, and the output runs on for the filters' tail of
    ``filter_length - 1`` samples past the frame, where the estimate counts as zero. The
    filtering is by overlap-add FFT convolution of short blocks, all frames, estimates and
    channels at once (one small matrix product per frequency); frames longer than the
    memory budget are streamed block by block. Returns arrays ``(n_est, n_frames)`` keyed by
    the term: ``"s"`` is ``||s_true||²``, ``"x-p"`` is ``||estimate - projection on all
    sources||²``, ``"pj"`` the squared projection on the own source, and so on.
    """
    n_src, n_ch, n = refs.shape
    L = filter_length
    basis = filters.basis
    nb = len(basis)
    n_est = len(est_index)
    n_x = n_est * n_ch
    # one filter bank: projections on all sources, then on the own source
    n_out = 2 * n_x
    bank = np.concatenate([filters.full, filters.own], axis=2).reshape(nb, L, n_out)
    # blocks of at most 16384 samples' FFT, as few per frame as that allows, evenly sized
    n_blocks = -(-width // (max(16384, 1 << int(np.ceil(np.log2(4 * L)))) - L + 1))  # per frame
    n_fft = scipy.fft.next_fast_len(-(-width // n_blocks) + L - 1, real=True)
    block = n_fft - L + 1
    n_freq = n_fft // 2 + 1
    bank_f = np.ascontiguousarray(scipy.fft.rfft(bank, n=n_fft, axis=1, workers=WORKERS).transpose(1, 0, 2))
    flat_refs = refs.reshape(n_src * n_ch, n)
    basis_sig = flat_refs if nb == len(flat_refs) else flat_refs[basis]
    x_sig = take(ests, est_index).reshape(n_x, n)
    s_sig = take(refs, est_index).reshape(n_x, n)
    n_frames = len(starts)
    keys = ("s", "x-s", "pj-s", "pj", "p-pj", "p", "x-p") if images else ("pj", "x-pj", "p-pj", "p", "x-p")
    out = {key: np.zeros((n_frames, n_est)) for key in keys}

    def energy(z):  # (n_x, frames, samples) -> (frames, n_est): sum over channels and time
        e = np.einsum("kft,kft->fk", z, z)
        return e.reshape(len(e), n_est, n_ch).sum(-1)

    def gather(sig, frame_starts, first, length):  # (n_sig, frames, length), zero past a frame's end
        seg = np.zeros((len(sig), len(frame_starts), length))
        stop = min(first + length, width)
        if stop > first:
            for i, start in enumerate(frame_starts):
                seg[:, i, :stop - first] = sig[:, start + first:start + stop]
        return seg

    per_step = max(1, CHUNK_BYTES // (16 * n_freq * (nb + n_out)))  # blocks per step
    frames_per_step = max(1, per_step // n_blocks)
    blocks_per_step = min(n_blocks, per_step)
    for f0 in range(0, n_frames, frames_per_step):
        frame_starts = np.asarray(starts[f0:f0 + frames_per_step])
        nf = len(frame_starts)
        fs = slice(f0, f0 + nf)
        carry = np.zeros((n_out, nf, L - 1))  # the filters' ring from the previous blocks
        for b0 in range(0, n_blocks, blocks_per_step):
            b1 = min(b0 + blocks_per_step, n_blocks)
            nk = b1 - b0
            last = b1 == n_blocks
            stop = nk * block + (L - 1 if last else 0)  # samples complete after this step
            blocks = gather(basis_sig, frame_starts, b0 * block, nk * block).reshape(nb, nf * nk, block)
            spec = scipy.fft.rfft(blocks, n=n_fft, axis=-1, workers=WORKERS)
            y_f = np.matmul(spec.transpose(2, 1, 0), bank_f)  # (freq, frames * blocks, n_out)
            y = scipy.fft.irfft(np.ascontiguousarray(y_f.transpose(2, 1, 0)), n=n_fft, axis=-1,
                                workers=WORKERS).reshape(n_out, nf, nk, n_fft)
            buf = np.zeros((n_out, nf, nk + 1, block))  # overlap-add
            buf[:, :, :nk] = y[..., :block]
            buf[:, :, 1:, :L - 1] += y[..., block:]
            buf = buf.reshape(n_out, nf, (nk + 1) * block)
            buf[:, :, :L - 1] += carry
            carry = buf[:, :, nk * block:nk * block + L - 1].copy()
            p, pj = buf[:n_x, :, :stop], buf[n_x:, :, :stop]
            x = gather(x_sig, frame_starts, b0 * block, stop)
            out["p"][fs] += energy(p)
            out["pj"][fs] += energy(pj)
            out["p-pj"][fs] += energy(p - pj)
            out["x-p"][fs] += energy(x - p)
            if images:
                s = gather(s_sig, frame_starts, b0 * block, stop)
                out["s"][fs] += energy(s)
                out["x-s"][fs] += energy(x - s)
                out["pj-s"][fs] += energy(pj - s)
            else:
                out["x-pj"][fs] += energy(x - pj)
    return {key: value.T for key, value in out.items()}


def ratios(e: dict, images: bool) -> tuple:
    """(sdr, sir, sar, isr) in dB from the energies, as in BSS Eval's ``_bss_crit``."""
    if images:
        return (safe_db(e["s"], e["x-s"]), safe_db(e["pj"], e["p-pj"]), safe_db(e["p"], e["x-p"]),
                safe_db(e["s"], e["pj-s"]))
    return (safe_db(e["pj"], e["x-pj"]), safe_db(e["pj"], e["p-pj"]), safe_db(e["p"], e["x-p"]),
            np.full(e["p"].shape, np.nan))


def silent_sources(refs, ests, names) -> tuple[np.ndarray, np.ndarray]:
    """Sources whose reference or estimate is all zeros: warned about, scored NaN."""
    dead_ref = ~np.any(refs != 0, axis=(1, 2))
    dead_est = np.zeros(len(refs), dtype=bool)
    dead_est[: len(ests)] = ~np.any(ests != 0, axis=(1, 2))
    dead_est &= ~dead_ref
    for j in np.flatnonzero(dead_ref[: len(ests)]):
        warnings.warn(f"Reference {names[j]!r} (source {j}) is silent (all zeros): its scores are NaN.",
                      SilenceWarning, stacklevel=3)
    for j in np.flatnonzero(dead_est):
        warnings.warn(f"Estimate {names[j]!r} (source {j}) is silent (all zeros): its scores are NaN.",
                      SilenceWarning, stacklevel=3)
    return dead_ref, dead_est


def frame_starts(n: int, width: int, hop: int) -> np.ndarray:
    """Frame starts as museval's ``Framing``: full frames only (a last partial one is dropped);
    one frame of the whole signal when it is shorter than a frame."""
    if width >= n:
        return np.array([0])
    return np.arange((n - width + hop) // hop) * hop


def silent_frames(refs, ests, dead_ref, dead_est, starts, width, names, sr) -> np.ndarray:
    """museval's rule: a frame where any reference or estimate is silent is NaN for every source.

    Sources that are silent throughout are left out of the rule (they are NaN already)."""
    n = refs.shape[-1]
    stops = np.minimum(starts + width, n) if width < n else np.array([n])
    bad = np.zeros(len(starts), dtype=bool)
    causes = []
    for kind, sig, dead in (("reference", refs, dead_ref), ("estimate", ests, dead_est)):
        for j in range(len(sig)):
            if dead[j]:
                continue
            counts = np.concatenate([[0], np.cumsum(np.any(sig[j] != 0, axis=0))])
            silent = counts[stops] - counts[starts] == 0
            if silent.any():
                bad |= silent
                causes.append(f"{kind} {names[j]!r} silent in {int(silent.sum())}")
    if bad.any():
        shown = ", ".join(f"{s / sr:g}" for s in starts[bad][:12]) + (" ..." if bad.sum() > 12 else "")
        warnings.warn(
            f"{int(bad.sum())} of {len(starts)} frames are NaN for every source ({'; '.join(causes)} "
            f"frames); frames starting at {shown} s. Medians skip them.",
            SilenceWarning, stacklevel=3,
        )
    return bad


def scores(refs, ests, names, starts, width, filter_length, images) -> tuple:
    """Scores (sdr, sir, sar, isr), each ``(n_est, n_frames)``, NaN for silent sources."""
    n_est = len(ests)
    dead_ref, dead_est = silent_sources(refs, ests, names)
    scored = [j for j in range(n_est) if not (dead_ref[j] or dead_est[j])]
    result = tuple(np.full((n_est, len(starts)), np.nan) for _ in range(4))
    if scored:
        with one_blas_thread():
            filters = distortion_filters(refs, ests, scored, filter_length)
            energies = frame_energies(refs, ests, filters, scored, starts, width, filter_length, images)
        for out, values in zip(result, ratios(energies, images)):
            out[scored] = values
    return result, dead_ref, dead_est


def museval_frames(refs, ests, dead_ref, dead_est, width, hop, filter_length, images, n_frames):
    """museval's frame-wise scores for our layout; silent sources handled as in our path."""
    n_est = len(ests)
    if np.all(dead_ref[:n_est] | dead_est[:n_est]):
        return tuple(np.full((n_est, n_frames), np.nan) for _ in range(4))
    import museval  # needs ffmpeg on PATH at import

    keep = np.flatnonzero(~dead_ref)  # a silent reference spans nothing: leave it out
    stand_in = ests.copy() if n_est == len(refs) else np.concatenate([ests, refs[n_est:]])
    stand_in[:n_est][dead_est[:n_est]] = refs[:n_est][dead_est[:n_est]]  # museval raises on silence
    r = refs[keep].transpose(0, 2, 1)
    e = stand_in[keep].transpose(0, 2, 1)
    with one_blas_thread():
        if images and filter_length == FILTER_LENGTH:
            scores = museval.evaluate(r, e, win=width, hop=hop)
        else:
            sdr, isr, sir, sar, _ = museval.metrics.bss_eval(
                r, e, window=width, hop=hop, compute_permutation=False, filters_len=filter_length,
                framewise_filters=False, bsseval_sources_version=not images)
            scores = (sdr, isr, sir, sar)
    out = []
    for values in (scores[0], scores[2], scores[3], scores[1]):  # sdr, sir, sar, isr
        full = np.full((len(refs), values.shape[1]), np.nan)
        full[keep] = values
        full[dead_est] = np.nan
        out.append(full[:n_est])
    return tuple(out)



def project(refs: np.ndarray, filters: Filters, est: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One estimate's projections, as signals: on its own source, on all sources, and itself.

    ``refs`` (n_src, n_ch, n), ``est`` (n_ch, n), ``filters`` fitted for that one estimate by
    :func:`distortion_filters`. Each is ``(n_ch, n + L - 1)``: the filters ring on past the end,
    where the estimate counts as zero.
    """
    n_src, n_ch, n = refs.shape
    L = filters.full.shape[1]
    n_out = n + L - 1
    n_fft = scipy.fft.next_fast_len(n_out, real=True)
    basis_f = scipy.fft.rfft(refs.reshape(n_src * n_ch, n)[filters.basis], n=n_fft, axis=-1, workers=WORKERS)
    p, pj = (scipy.fft.irfft(np.einsum("bfc,bf->cf", scipy.fft.rfft(c[:, :, 0], n=n_fft, axis=1), basis_f),
                             n=n_fft, axis=-1, workers=WORKERS)[:, :n_out]
             for c in (filters.full, filters.own))
    x_pad = np.zeros((n_ch, n_out))
    x_pad[:, :n] = est
    return pj, p, x_pad
