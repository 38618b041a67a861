"""The U-Net and its Separator: shapes, mask range, chunked inference, checkpoints, the shipped model."""

import numpy as np
import pytest
import torch

from course_utils import data, masks, metrics, models, spectral, training

SR = 22050


def small_unet(**kw):
    torch.manual_seed(0)
    cfg = dict(width=4, depth=3, n_bins=64)
    cfg.update(kw)
    return models.UNet(**cfg).eval()


@pytest.fixture(scope="module")
def test_tracks():
    return data.load_dataset("bundled", split="test")


# -- the network ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n_sources", [1, 3])
def test_masks_have_the_input_shape_per_source_and_lie_in_0_1(n_sources):
    model = small_unet(n_sources=n_sources)
    x = torch.rand(2, 513, 50) * 10  # 50 frames: not a multiple of 2**depth
    with torch.no_grad():
        m = model(x)
    assert m.shape == (2, n_sources, 513, 50)
    assert float(m.min()) >= 0 and float(m.max()) <= 1
    # bins above the model's range repeat the top bin's mask (the "edge value")
    torch.testing.assert_close(m[..., 64:, :], m[..., 63:64, :].expand(-1, -1, 513 - 64, -1))
    assert not torch.allclose(m[..., 10, :], m[..., 63, :])  # below it, bins differ


def test_parameter_count_follows_the_layer_formula():
    width, depth, k = 4, 3, 5
    model = models.UNet(width=width, depth=depth, kernel_size=k, n_bins=64)
    ch = [1] + [width * 2**i for i in range(depth)]
    conv = sum(k * k * ch[i] * ch[i + 1] + ch[i + 1] for i in range(depth))  # weights + biases
    bn = 2 * sum(ch[1:]) + 2 * sum(ch[1:-1])  # encoder and decoder batch norms (scale + shift)
    up = sum(k * k * (ch[i + 1] * (1 if i == depth - 1 else 2)) * (ch[i] if i else 1) + (ch[i] if i else 1)
             for i in range(depth))
    assert models.count_parameters(model) == conv + bn + up
    table = models.layer_table(model, n_frames=40)
    assert table["parameters"].sum() == models.count_parameters(model)
    assert list(table["channels"]) == [1, 4, 8, 16, 8, 4, 1]
    assert list(table["freq"]) == [64, 32, 16, 8, 16, 32, 64]
    assert table["frames"].iloc[0] == 40 and table["frames"].iloc[-1] == 40


def test_input_normalisation_is_log_magnitude_standardised_per_bin():
    model = small_unet()
    mean, scale = np.linspace(-2, 1, 64), np.linspace(0.5, 2, 64)
    model.set_input_statistics(mean, scale)
    mag = torch.rand(1, 513, 8) * 5
    expected = (np.log(mag.numpy()[0, :64] + models.LOG_EPS) - mean[:, None]) / scale[:, None]
    np.testing.assert_allclose(model.normalize(mag)[0].numpy(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        model.set_input_statistics(mean[:10], scale[:10])
    with pytest.raises(ValueError, match="positive"):
        model.set_input_statistics(mean, -scale)


def test_invalid_configurations_and_inputs_are_refused_with_clear_errors():
    with pytest.raises(ValueError, match="divisible"):
        models.UNet(depth=4, n_bins=40)
    with pytest.raises(ValueError, match="odd"):
        models.UNet(kernel_size=4)
    with pytest.raises(ValueError, match="dropout"):
        models.UNet(dropout=1.5)
    model = small_unet()
    with pytest.raises(ValueError, match="at least n_bins"):
        model(torch.rand(1, 32, 16))
    with pytest.raises(ValueError, match="batch, n_freq, n_frames"):
        model(torch.rand(513, 16))
    with pytest.raises(ValueError, match="targets"):
        models.Separator(model, targets=("vocals", "drums"))


def test_context_bounds_the_receptive_field():
    """No input frame farther than ``model.context`` from an output frame changes its mask."""
    for depth, k in [(3, 5), (2, 3)]:
        model = small_unet(depth=depth, kernel_size=k, width=2)
        reach = 0
        for centre in range(80, 80 + 2**depth):  # every position on the stride grid
            x = (torch.rand(1, 65, 160) + 0.1).requires_grad_(True)
            model(x)[0, 0, :, centre].sum().backward()
            used = torch.nonzero(x.grad[0].abs().sum(0)).flatten()
            reach = max(reach, centre - int(used.min()), int(used.max()) - centre)
        assert 0 < reach <= model.context


# -- the separator -------------------------------------------------------------------------------


def test_separator_forward_and_separate_agree_and_keep_the_length():
    sep = models.Separator(small_unet(), targets="vocals")
    rng = np.random.default_rng(0)
    y = rng.standard_normal(SR).astype(np.float32) * 0.1
    est = sep.separate(y)
    assert est.shape == (1, y.size) and est.dtype == np.float32
    with torch.no_grad():
        batch = sep(torch.from_numpy(y)[None])
    np.testing.assert_allclose(batch[0].numpy(), est, atol=1e-5)
    # a mask of ones would give back the mixture: the estimate is the masked mixture
    _, M = sep.separate(y, return_masks=True)
    np.testing.assert_allclose(est[0], spectral.istft(M[0] * spectral.stft(y), length=y.size), atol=1e-5)


def test_chunked_separation_equals_one_pass_and_bounds_the_chunk_size(test_tracks):
    model = small_unet(width=2)  # context 32 frames, stride grid 8
    sep = models.Separator(model)
    mixture = test_tracks[0].mixture[: 3 * SR]  # 259 frames
    seen = []
    hook = model.register_forward_pre_hook(lambda _, args: seen.append(args[0].shape[-1]))
    one_pass, M1 = sep.separate(mixture, chunk_frames=10**6, return_masks=True)
    assert seen == [M1.shape[-1] + (-M1.shape[-1] % 8)]
    seen.clear()
    for chunk in (96, 100, 136):
        chunked, M2 = sep.separate(mixture, chunk_frames=chunk, return_masks=True)
        assert len(seen) > 3 and max(seen) <= chunk
        seen.clear()
        np.testing.assert_allclose(M2, M1, atol=2e-6)
        np.testing.assert_allclose(chunked, one_pass, atol=1e-5)
    hook.remove()
    for chunk in (96, 100, 136, 1000):  # the kept parts tile the song; chunks sit on the stride grid
        windows = sep.chunk_windows(264, chunk)
        kept = np.concatenate([np.arange(a, b) for _, _, a, b in windows])
        np.testing.assert_array_equal(kept, np.arange(264))
        for start, stop, a, b in windows:
            assert start % 8 == 0 and stop - start <= chunk and start <= a < b <= stop
            assert (a - start >= 32 or start == 0) and (stop - b >= 32 or stop == 264)
    with pytest.raises(ValueError, match="context"):
        sep.separate(mixture, chunk_frames=70)


def test_wiener_and_griffin_lim_options():
    sep = models.Separator(small_unet())
    y = np.random.default_rng(1).standard_normal(SR // 2).astype(np.float32) * 0.1
    Y = spectral.stft(y)
    _, M = sep.separate(y, return_masks=True)
    _, W = sep.separate(y, wiener=True, return_masks=True)
    # one target and the residual (1 - M): the Wiener-like mask is M^2 / (M^2 + (1 - M)^2)
    expected = masks.wiener_like_mask(np.stack([M[0] * np.abs(Y), (1 - M[0]) * np.abs(Y)]))[0]
    np.testing.assert_allclose(W[0], expected, atol=1e-6)
    gl = sep.separate(y, phase="griffin-lim", n_iter=2)
    assert gl.shape == (1, y.size) and np.isfinite(gl).all()
    with pytest.raises(ValueError, match="phase"):
        sep.separate(y, phase="oracle")
    with pytest.raises(ValueError, match="mono"):
        sep.separate(np.zeros((2, 100), np.float32))


# -- checkpoints ---------------------------------------------------------------------------------


def test_checkpoint_round_trip_float32_exact_and_float16_close(tmp_path):
    model = small_unet(n_sources=2)
    model.set_input_statistics(np.full(64, -1.0), np.full(64, 2.0))
    x = torch.rand(1, 513, 40)
    with torch.no_grad():
        expected = model(x)
    p32 = models.save(tmp_path / "m32.pt", model, targets=("vocals", "bass"), note="hello")
    p16 = models.save(tmp_path / "m16.pt", model, targets=("vocals", "bass"), half=True)
    sep, meta = models.load(p32)
    assert sep.targets == ("vocals", "bass") and meta == {"note": "hello"}
    assert sep.model.config == model.config and not sep.model.training
    with torch.no_grad():
        torch.testing.assert_close(sep.model(x), expected, rtol=0, atol=0)
        half, _ = models.load(p16)
        torch.testing.assert_close(half.model(x), expected, rtol=0, atol=5e-3)
    assert p16.stat().st_size < 0.7 * p32.stat().st_size
    with pytest.raises(FileNotFoundError):
        models.load(tmp_path / "missing.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        models.load(tmp_path / "other.pt")


def test_shipped_checkpoints_respect_the_size_rules_and_name_their_command_and_log():
    files = sorted(models.CHECKPOINT_DIR.iterdir())
    assert all(f.stat().st_size <= 2_000_000 for f in files), [(f.name, f.stat().st_size) for f in files]
    assert sum(f.stat().st_size for f in files) <= 10_000_000
    shipped = models.available_pretrained()
    assert shipped[0] == "vocals" and set(shipped) <= set(data.STEMS)
    for target in shipped:
        sep, meta = models.pretrained(target)
        assert sep.targets == (target,) and sep.model.config == models.UNet().config
        assert meta["command"].startswith("python -m course_utils.training --target " + target)
        assert (models.CHECKPOINT_DIR / meta["log"]).is_file()
    with pytest.raises(FileNotFoundError, match="shipped"):
        models.pretrained("kazoo")


def test_shipped_vocals_model_beats_the_mixture_on_every_test_song_by_a_clear_margin(test_tracks):
    sep, _ = models.pretrained("vocals")
    gains = []
    for track in test_tracks:
        vocals = track.stems["vocals"]
        refs = np.stack([vocals, track.mixture - vocals])  # vocals' SDR is the same as against all stems
        model_sdr = metrics.bss_eval(refs, sep.separate(track.mixture)).sdr[0]
        mixture_sdr = metrics.bss_eval(refs, track.mixture[None]).sdr[0]
        gains.append(model_sdr - mixture_sdr)
    assert min(gains) > 8.0, gains


def test_checkpoint_readme_table_is_what_the_training_logs_say():
    """The numbers in course_utils/checkpoints/README.md are read off the logs, not remembered."""
    readme = (models.CHECKPOINT_DIR / "README.md").read_text()
    from course_utils import waveform

    names = [f"unet_{target}" for target in models.available_pretrained()]
    for name in names + [waveform.PRETRAINED, waveform.PRETRAINED_ABLATION]:
        log = training.TrainingLog.load(models.CHECKPOINT_DIR / f"{name}.log.json")
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}.pt`"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        size_mb = (models.CHECKPOINT_DIR / f"{name}.pt").stat().st_size / 1e6
        assert cells[1] == f"{size_mb:.2f} MB"
        assert cells[2].startswith(f"{log.best_epoch} / {len(log.epochs)}")
        assert cells[3] == f"{log.best_sdr:.2f}"


def test_the_unet_method_separates_stereo_channel_by_channel_and_the_wiener_filter_helps():
    from course_utils import methods

    stereo = [data.excerpt(t, duration=4.0) for t in data.load_dataset("bundled", split="test", mono=False)[:2]]
    plain, filtered = methods.unet(), methods.unet(multichannel_wiener=1)
    left = data.Track("left", SR, stereo[0].mixture[0], {s: v[0] for s, v in stereo[0].stems.items()}, "test", "bundled")
    estimates = plain(stereo[0])
    assert all(e.shape == stereo[0].mixture.shape for e in estimates.values())
    np.testing.assert_allclose(estimates["vocals"][0], plain(left)["vocals"], atol=1e-6)   # the left channel alone
    # zero EM iterations: the masked magnitudes with the mixture's phase, the plain masks again
    unfiltered = methods.unet(multichannel_wiener=0)(stereo[0])
    np.testing.assert_allclose(unfiltered["bass"], estimates["bass"], atol=2e-4)
    scores = metrics.evaluate(stereo, {"masks": plain, "wiener": filtered}, definition="v4")
    sdr = metrics.summarise(scores, metric="SDR")
    assert sdr.loc["wiener"].mean() > sdr.loc["masks"].mean() + 0.2, sdr   # the spatial model adds, on average
    with pytest.raises(ValueError, match="all four stems"):
        methods.unet(stems=["vocals"], multichannel_wiener=1)
