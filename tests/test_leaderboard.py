"""course_utils.leaderboard (the course's methods, tables, figure, files) and course_utils.methods,
scored through course_utils.metrics.evaluate."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from course_utils import data, leaderboard, masks, methods, metrics


@pytest.fixture(scope="module")
def tracks():
    return [data.excerpt(t, duration=3.0, offset=1.0) for t in data.load_dataset("bundled", split="test")[:2]]


@pytest.fixture(scope="module")
def scores(tracks):
    chosen = leaderboard.default_methods(unet=False)
    chosen = {k: chosen[k] for k in ("mixture", "HPSS", "REPET", "oracle IRM")}
    chosen["half mixture"] = lambda t: {"vocals": 0.5 * t.mixture, "bass": 0.5 * t.mixture}
    return metrics.evaluate(tracks, chosen, definition="sources")


def test_the_course_methods_estimate_the_stems_they_should(scores, tracks):
    assert list(dict.fromkeys(scores.method)) == ["mixture", "HPSS", "REPET", "oracle IRM", "half mixture"]
    assert set(scores[scores.method == "HPSS"].source) == {"drums", "non-drums"}
    assert set(scores[scores.method == "REPET"].source) == {"vocals", "accompaniment"}
    assert set(scores[scores.method == "oracle IRM"].source) == set(data.STEMS)


def test_oracle_scores_are_bss_eval_of_the_oracle_estimates(scores, tracks):
    ours = scores[(scores.method == "oracle IRM") & (scores.track == tracks[1].name)].set_index(["source", "metric"])
    estimates = masks.oracle_estimates(tracks[1], kind="irm")
    direct = metrics.bss_eval(tracks[1].sources, estimates, names=data.STEMS).to_dataframe()
    np.testing.assert_allclose(ours.value.loc[list(zip(direct.source, direct.metric))], direct.value, rtol=1e-9)


def test_masking_methods_split_the_mixture_exactly(tracks):
    track = tracks[0]
    for method in (methods.hpss(), methods.repet(), methods.repet_sim()):
        out = method(track)
        np.testing.assert_allclose(sum(out.values()), track.mixture, atol=2e-5)  # the two masks sum to 1
    with pytest.raises(ValueError, match="kind must be one of"):
        methods.oracle("ideal")


def test_a_scaled_estimate_has_the_sdr_of_the_unscaled_one(scores):
    sdr = scores[scores.metric == "SDR"].set_index(["method", "track", "source"]).value
    half, mix = sdr.loc["half mixture"], sdr.loc["mixture"]
    assert np.allclose(half, mix.loc[half.index], atol=1e-6)  # BSS Eval ignores a gain


def test_summary_nan_where_no_estimate_and_the_oracle_beats_the_baseline(scores):
    table = metrics.summarise(scores, sources=data.STEMS)
    assert list(table.index) == ["mixture", "HPSS", "REPET", "oracle IRM", "half mixture"]
    assert list(table.columns.get_level_values(0).unique()) == ["SDR", "SIR", "SAR"]
    assert table.attrs["n_tracks"] == 2
    sdr = table["SDR"]
    assert sdr.loc["HPSS"].isna().tolist() == [True, False, True, True]
    assert (sdr.loc["oracle IRM"] > sdr.loc["mixture"]).all()
    assert sdr.loc["HPSS", "drums"] > sdr.loc["mixture", "drums"]
    expected = scores[(scores.method == "REPET") & (scores.source == "vocals") & (scores.metric == "SIR")].value.median()
    assert table.loc["REPET", ("SIR", "vocals")] == pytest.approx(expected)


def test_markdown_csv_and_plot(scores, tmp_path, monkeypatch):
    table = metrics.summarise(scores, sources=data.STEMS)
    md = leaderboard.to_markdown(table)
    lines = md.splitlines()
    assert lines[0] == "median over 2 songs; " + metrics.DEFINITIONS["sources"] + "; dB"
    assert lines[2].startswith("| method | SDR vocals |")
    assert leaderboard.to_markdown(table, caption="caption line").splitlines()[0] == "caption line"
    hpss = next(line for line in lines if line.startswith("| HPSS "))
    assert hpss.count("–") == 9  # 12 cells, 3 with numbers
    mixture = next(line for line in lines if line.startswith("| mixture "))
    assert mixture.count("≥ 100") == 4  # the mixture's SAR: no artifacts
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "out"))
    assert leaderboard.build_dir() == tmp_path / "out"
    paths = leaderboard.write(table, scores, name="lb")
    assert paths["md"].read_text(encoding="utf-8") == md
    back = pd.read_csv(paths["csv"])
    assert len(back) == len(scores) and np.allclose(back.value, scores.value)
    fig = leaderboard.plot(scores)
    assert len(fig.axes) == 4 and [a.get_title() for a in fig.axes] == list(data.STEMS)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(table.index)
    assert fig._suptitle.get_text().endswith(metrics.DEFINITIONS["sources"])


def test_default_methods_nmf_and_unet(tracks):
    train = [data.excerpt(t, duration=3.0) for t in data.load_dataset("bundled", split="train")[:2]]
    templates = methods.learn_nmf_templates(train, n_components=4, n_iter=5)
    assert set(templates) == set(data.STEMS)
    assert templates["bass"].shape == (513, 4) and np.allclose(templates["bass"].sum(axis=0), 1)
    chosen = leaderboard.default_methods(nmf_templates=templates, nmf_iter=5)
    assert list(chosen) == [m for m in leaderboard.METHODS if m != "Hybrid Demucs"]
    assert "NMF" not in leaderboard.default_methods(unet=False)
    track = data.excerpt(tracks[0], duration=1.0)
    for name in ("NMF", "U-Net"):
        out = chosen[name](track)
        assert list(out) == list(data.STEMS) and all(x.shape == track.mixture.shape for x in out.values()), name
    with pytest.raises(ValueError, match="lacks the stems"):
        leaderboard.default_methods(nmf_templates={"vocals": templates["vocals"]})


def test_demucs_method_goes_through_chunked_inference(tracks):
    import torch

    class Gain(torch.nn.Module):
        sources, audio_channels = ["drums", "bass", "other", "vocals"], 2

        def __init__(self):
            super().__init__()
            self.g = torch.nn.Parameter(torch.tensor([0.25, 0.25, 0.25, 0.25]))

        def forward(self, x):
            return self.g[None, :, None, None] * x[:, None]

    chosen = leaderboard.default_methods(unet=False, demucs_model=Gain(), demucs_kwargs=dict(segment=0.5, overlap=0.1))
    out = chosen["Hybrid Demucs"](tracks[0])
    assert list(out) == list(data.STEMS)
    error = sum(out.values()) - tracks[0].mixture  # the four quarters add up to the mixture, up to resampling
    snr = 10 * np.log10(np.sum(tracks[0].mixture.astype(np.float64) ** 2) / np.sum(error.astype(np.float64) ** 2))
    assert snr > 25, snr
