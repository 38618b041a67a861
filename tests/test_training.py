"""Training: the remixing dataset, the loss, one step, the loop (best model, early stopping,
determinism, resuming), validation SDR and the command line."""

import json

import numpy as np
import pytest
import torch

from course_utils import data, masks, metrics, models, training

SR = 22050


def fake_tracks(n=3, seconds=1.0, seed=0):
    """Small random "songs" (noise stems of distinct levels), fast to train on."""
    rng = np.random.default_rng(seed)
    tracks = []
    for i in range(n):
        stems = {s: (rng.standard_normal(int(seconds * SR)) * 0.05 * (k + 1)).astype(np.float32)
                 for k, s in enumerate(data.STEMS)}
        tracks.append(data.Track(f"fake_{i}", SR, data.mixture_from_stems(stems), stems, "train", "fake"))
    return tracks


def tiny_separator(tracks, *, dropout=0.5, targets=("vocals",)):
    torch.manual_seed(0)
    model = models.UNet(n_sources=len(targets), width=2, depth=2, n_bins=32, dropout=dropout)
    model.set_input_statistics(*training.input_statistics(tracks, n_bins=32))
    return models.Separator(model, targets=targets)


# -- the dataset ---------------------------------------------------------------------------------


def test_items_are_seeded_remixes_whose_mixture_is_the_sum_of_the_gained_stems():
    tracks = fake_tracks()
    ds = training.RemixDataset(tracks, targets=("vocals", "bass"), n_frames=16, examples_per_epoch=40,
                               p_incoherent=0.5, gain_db=6.0, seed=3)
    mixture, targets = ds[5]
    assert mixture.shape == (15 * 256,) and targets.shape == (2, 15 * 256) and mixture.dtype == torch.float32
    # rebuild item 5 by hand from its draws
    d = ds.draw(5)
    stems = [tracks[s].stems[name][o:o + ds.n_samples] * g
             for name, s, o, g in zip(data.STEMS, d["songs"], d["offsets"], d["gains"])]
    np.testing.assert_allclose(mixture.numpy(), np.sum(stems, axis=0), atol=1e-6)
    np.testing.assert_allclose(targets.numpy(), np.stack([stems[0], stems[2]]), atol=1e-6)
    # seeded: same item again, a different one in another epoch
    torch.testing.assert_close(ds[5][0], mixture)
    ds.set_epoch(1)
    assert not torch.allclose(ds[5][0], mixture)
    draws = [ds.draw(i) for i in range(len(ds))]
    gains_db = 20 * np.log10(np.concatenate([d["gains"] for d in draws]))
    assert gains_db.min() >= -6 and gains_db.max() <= 6 and gains_db.std() > 2
    coherent = [d for d in draws if not d["incoherent"]]
    incoherent = [d for d in draws if d["incoherent"]]
    assert 8 < len(incoherent) < 32
    assert all(len(set(d["songs"])) == 1 and len(set(d["offsets"])) == 1 for d in coherent)
    assert any(len(set(d["songs"])) > 1 for d in incoherent)
    with pytest.raises(IndexError):
        ds[40]


def test_pitch_shifting_resamples_each_stem_and_keeps_coherent_mixtures_together():
    tracks = fake_tracks(seconds=2.0)
    ds = training.RemixDataset(tracks, targets=("vocals",), n_frames=16, examples_per_epoch=30,
                               p_incoherent=0.5, pitch_semitones=2.0, seed=0)
    draws = [ds.draw(i) for i in range(len(ds))]
    rates = np.concatenate([d["rates"] for d in draws])
    assert 2 ** (-2 / 12) <= rates.min() < 0.95 and 1.05 < rates.max() <= 2 ** (2 / 12)
    assert all(len(set(d["rates"])) == 1 for d in draws if not d["incoherent"])
    i = next(i for i, d in enumerate(draws) if d["incoherent"])
    d = draws[i]
    expected = []
    for k, name in enumerate(data.STEMS):  # linear interpolation at positions t * rate
        x = tracks[d["songs"][k]].stems[name][d["offsets"][k]:]
        expected.append(np.interp(np.arange(ds.n_samples) * d["rates"][k], np.arange(x.size), x) * d["gains"][k])
    mixture, target = ds[i]
    np.testing.assert_allclose(mixture.numpy(), np.sum(expected, axis=0), atol=1e-5)
    np.testing.assert_allclose(target[0].numpy(), expected[0], atol=1e-5)


def test_dataset_refuses_bad_settings():
    tracks = fake_tracks()
    with pytest.raises(ValueError, match="targets"):
        training.RemixDataset(tracks, targets=("voice",))
    with pytest.raises(ValueError, match="do not fit"):
        training.RemixDataset(tracks, n_frames=1000)
    with pytest.raises(ValueError, match="p_incoherent"):
        training.RemixDataset(tracks, p_incoherent=2)
    with pytest.raises(ValueError, match="pitch_semitones"):
        training.RemixDataset(tracks, pitch_semitones=-1)


def test_masked_l1_is_the_mean_absolute_error_of_the_masked_magnitude():
    rng = np.random.default_rng(0)
    M, Y, X = rng.random((2, 3, 5, 7)), rng.random((2, 5, 7)), rng.random((2, 3, 5, 7))
    loss = training.masked_l1(*(torch.from_numpy(a) for a in (M, Y, X)))
    assert float(loss) == pytest.approx(np.mean(np.abs(M * Y[:, None] - X)))


# -- the loop ------------------------------------------------------------------------------------


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    tracks = fake_tracks()
    sep = tiny_separator(tracks, dropout=0.0)
    ds = training.RemixDataset(tracks, n_frames=32, examples_per_epoch=8)
    mixture, targets = next(iter(torch.utils.data.DataLoader(ds, batch_size=8)))
    Y, X = sep.stft(mixture).abs(), sep.stft(targets).abs()
    opt = torch.optim.Adam(sep.model.parameters(), lr=1e-2)
    sep.model.train()
    before = training.masked_l1(sep.model(Y), Y, X)
    opt.zero_grad()
    before.backward()
    opt.step()
    after = training.masked_l1(sep.model(Y), Y, X)
    assert after.item() < before.item()


def run(tmp_path, name, *, epochs=2, resume=False, frozen=False, **kw):
    tracks = fake_tracks()
    sep = tiny_separator(tracks)
    if frozen:  # nothing can change: no gradient step, no batch-norm statistics update
        kw["lr"] = 0.0
        for m in sep.model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = 0.0
    ds = training.RemixDataset(tracks, n_frames=32, examples_per_epoch=8, seed=1)
    log = training.train(sep, ds, tracks[:1], epochs=epochs, batch_size=4, seed=1, valid_duration=0.5,
                         device="cpu", progress=False, state_path=tmp_path / f"{name}.state", resume=resume, **kw)
    return sep, log


def test_training_is_deterministic_keeps_the_best_model_and_resumes_exactly(tmp_path):
    sep_a, log_a = run(tmp_path, "a", epochs=3, best_path=tmp_path / "best.pt")
    sep_b, log_b = run(tmp_path, "b", epochs=3)
    for k, v in sep_a.model.state_dict().items():
        torch.testing.assert_close(sep_b.model.state_dict()[k], v, rtol=0, atol=0)
    assert [e["train_loss"] for e in log_a.epochs] == [e["train_loss"] for e in log_b.epochs]
    assert len(log_a.epochs) == 3 and len(log_a.steps) == 6 and log_a.stopped == "epochs"
    # the best epoch's weights are the ones kept and written
    best = max(log_a.epochs, key=lambda e: e["valid_sdr"])
    assert log_a.best_epoch == best["epoch"]
    saved, meta = models.load(tmp_path / "best.pt")
    assert meta["epoch"] == best["epoch"]
    for k, v in saved.model.state_dict().items():
        torch.testing.assert_close(sep_a.model.state_dict()[k], v)
    # interrupted after 1 epoch, resumed to 3: the same run
    def interrupt(log, event):
        if event == "epoch":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "c", epochs=3, callbacks=[interrupt])
    sep_c, log_c = run(tmp_path, "c", epochs=3, resume=True)
    assert [e["train_loss"] for e in log_c.epochs] == [e["train_loss"] for e in log_a.epochs]
    for k, v in sep_a.model.state_dict().items():
        torch.testing.assert_close(sep_c.model.state_dict()[k], v, rtol=0, atol=0)


def test_early_stopping_time_limit_and_callbacks(tmp_path):
    events = []
    _, log = run(tmp_path, "d", epochs=6, frozen=True, patience=2, ema=None,  # averaging would round: no change at all
                 callbacks=[lambda log, ev: events.append(ev)])
    assert log.stopped == "early stopping" and len(log.epochs) == 3  # nothing improves after epoch 1
    assert events.count("epoch") == 3 and events.count("step") == 6
    _, log = run(tmp_path, "e", epochs=50, time_limit=1e-9)
    assert log.stopped == "time limit" and len(log.epochs) == 1


def test_live_plot_draws_headless():
    log = training.TrainingLog(steps=[dict(step=i + 1, epoch=1, loss=1 / (i + 1), time=i) for i in range(20)],
                               epochs=[dict(epoch=1, valid_sdr=3.0)], best_epoch=1)
    plot = training.LiveLossPlot(every=5)
    plot(log, "step")  # step 20 is a multiple of 5: draws
    plot(log, "epoch")
    ax_loss, ax_sdr = plot.fig.axes[:2]
    assert ax_loss.get_ylabel() and ax_sdr.get_ylabel() == "SDR (dB)" and len(ax_loss.lines) == 2


def test_amp_is_refused_on_the_cpu():
    tracks = fake_tracks()
    with pytest.raises(ValueError, match="CUDA"):
        training.train(tiny_separator(tracks), training.RemixDataset(tracks, n_frames=16, examples_per_epoch=4),
                       epochs=1, batch_size=2, device="cpu", amp=True, progress=False)


# -- validation and the command line -------------------------------------------------------------


def test_validation_sdr_against_target_and_rest_equals_bss_eval_against_all_stems():
    track = data.load_dataset("bundled", split="valid")[0]
    n = 3 * SR
    sources, mixture = track.sources[:, :n], track.mixture[:n]
    estimate = masks.oracle_estimates(sources, kind="irm", mixture=mixture)[:1]
    full = metrics.bss_eval(sources, estimate).sdr[0]
    assert training.target_sdr(track, estimate[0], target="vocals") == pytest.approx(full, abs=1e-6)
    with pytest.raises(ValueError, match="no stem"):
        training.target_sdr(track, estimate[0], target="voice")


def test_command_line_trains_and_writes_a_small_checkpoint_with_its_command_and_log(tmp_path, capsys):
    out = tmp_path / "unet.pt"
    args = ["--target", "vocals", "--out", str(out), "--width", "2", "--depth", "2", "--n-bins", "32",
            "--n-frames", "16", "--batch-size", "2", "--examples-per-epoch", "4", "--epochs", "1", "--half",
            "--quiet"]
    log = training.main(args)
    sep, meta = models.load(out)
    assert sep.targets == ("vocals",) and meta["command"] == "python -m course_utils.training " + " ".join(args)
    assert meta["best_epoch"] == 1 and np.isfinite(meta["valid_sdr"])
    saved = json.loads((tmp_path / meta["log"]).read_text())
    assert saved["epochs"][0]["valid_sdr"] == pytest.approx(log.best_sdr)
    assert "validation SDR" in capsys.readouterr().out


# -- the notebook's self-checks ------------------------------------------------------------------


def test_self_checks_of_notebook_05_accept_right_answers_and_explain_wrong_ones(capsys):
    from course_utils import checks

    true = models.count_parameters(models.UNet(width=16, depth=4))
    assert checks.check_unet_parameters(true, width=16, depth=4)
    ch = [1, 16, 32, 64, 128]
    biases = sum(ch[1:]) + sum(ch[1:-1]) + 1
    assert not checks.check_unet_parameters(true - biases, width=16, depth=4)
    assert "biases" in capsys.readouterr().out
    assert not checks.check_unet_parameters(None, width=16, depth=4)

    assert checks.check_masked_loss(lambda M, Y, X: ((M * Y[:, None] - X) ** 2).mean())
    assert not checks.check_masked_loss(lambda M, Y, X: ((M * Y[:, None] - X) ** 2).sum())
    assert "mean" in capsys.readouterr().out
    assert not checks.check_masked_loss(training.masked_l1)
    assert "L1" in capsys.readouterr().out
    assert not checks.check_masked_loss(lambda M, Y, X: 1 / 0)  # a crash is reported, not raised

    soft = np.random.default_rng(0).random((5, 7))
    assert checks.check_binary_mask(soft > 0.5, soft) and checks.check_binary_mask((soft > 0.5) * 1.0, soft)
    assert not checks.check_binary_mask(soft < 0.5, soft)
    assert "wrong way round" in capsys.readouterr().out
    assert not checks.check_binary_mask(soft, soft)


def test_defaults_are_the_one_source_of_the_signatures_defaults():
    import inspect

    d = training.DEFAULTS
    for fn, names in ((training.train, ("epochs", "batch_size", "lr", "weight_decay", "patience", "ema", "time_limit",
                                        "seed")),
                      (training.RemixDataset, ("n_frames", "examples_per_epoch", "p_incoherent", "gain_db",
                                               "pitch_semitones", "seed")),
                      (training.build_separator, ("target", "n_bins"))):
        params = inspect.signature(fn).parameters
        assert {k: params[k].default for k in names} == {k: d[k] for k in names}, fn.__name__
    args = vars(training._parser().parse_args(["--out", "model.pt"]))
    assert {k: args[k] for k in ("epochs", "lr", "ema", "patience", "time_limit", "seed")} == \
        {k: d[k] for k in ("epochs", "lr", "ema", "patience", "time_limit", "seed")}
