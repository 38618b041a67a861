"""course_utils.leaderboard: every method, the same songs, the same metrics; tables, figure and files."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from course_utils import data, leaderboard, masks


@pytest.fixture(scope="module")
def tracks():
    return [leaderboard.excerpt(t, duration=3.0, offset=1.0) for t in data.load_dataset("bundled", split="test")[:2]]


@pytest.fixture(scope="module")
def scores(tracks):
    methods = leaderboard.default_methods(unet=False)
    methods = {k: methods[k] for k in ("mixture", "HPSS", "REPET", "oracle IRM")}
    methods["half mixture"] = lambda t: {"vocals": 0.5 * t.mixture, "bass": 0.5 * t.mixture}
    return leaderboard.leaderboard(tracks, methods=methods)


def test_excerpt_cuts_mixture_and_stems_alike():
    track = data.load_dataset("bundled", split="test")[0]
    cut = leaderboard.excerpt(track, duration=1.5, offset=0.5)
    assert cut.mixture.shape == (int(1.5 * track.sr),) and cut.name == track.name
    assert np.array_equal(cut.stems["bass"], track.stems["bass"][track.sr // 2: track.sr // 2 + cut.mixture.size])
    assert leaderboard.excerpt(track, duration=None) is track
    with pytest.raises(ValueError, match="past the end"):
        leaderboard.excerpt(track, duration=1.0, offset=1e4)


def test_tidy_table_has_every_method_stem_metric_and_nan_nowhere_it_should_not(scores, tracks):
    assert list(scores.columns) == ["track", "method", "kind", "source", "metric", "value", "seconds"]
    assert list(dict.fromkeys(scores.method)) == ["mixture", "HPSS", "REPET", "oracle IRM", "half mixture"]
    assert set(scores.metric) == {"SDR", "SIR", "SAR"} and set(scores.track) == {t.name for t in tracks}
    kinds = scores.drop_duplicates("method").set_index("method").kind
    assert kinds["HPSS"] == "classical" and kinds["oracle IRM"] == "oracle" and kinds["half mixture"] == "other"
    assert set(scores[scores.method == "HPSS"].source) == {"drums"}
    assert set(scores[scores.method == "REPET"].source) == {"vocals"}
    assert (scores.seconds >= 0).all()


def test_scores_are_those_of_notebook_02(scores, tracks):
    ours = scores[(scores.method == "oracle IRM")].set_index(["track", "source", "metric"]).value
    reference = masks.evaluate_oracles(tracks, methods=["irm"]).set_index(["track", "source", "metric"]).value
    assert np.allclose(ours.loc[reference.index], reference, rtol=1e-9)


def test_a_scaled_estimate_has_the_sdr_of_the_unscaled_one(scores):
    sdr = scores[scores.metric == "SDR"].set_index(["method", "track", "source"]).value
    half, mix = sdr.loc["half mixture"], sdr.loc["mixture"]
    assert np.allclose(half, mix.loc[half.index], atol=1e-6)  # BSS Eval ignores a gain


def test_median_table_nan_where_no_estimate_and_the_oracle_beats_the_baseline(scores):
    table = leaderboard.median_table(scores)
    assert list(table.index) == ["mixture", "HPSS", "REPET", "oracle IRM", "half mixture"]
    assert list(table.columns.get_level_values(0).unique()) == ["SDR", "SIR", "SAR"]
    assert table.attrs["n_tracks"] == 2
    sdr = table["SDR"]
    assert sdr.loc["HPSS"].isna().tolist() == [True, False, True, True]
    assert (sdr.loc["oracle IRM"] > sdr.loc["mixture"]).all()
    assert sdr.loc["HPSS", "drums"] > sdr.loc["mixture", "drums"]
    expected = scores[(scores.method == "REPET") & (scores.metric == "SIR")].value.median()
    assert table.loc["REPET", ("SIR", "vocals")] == pytest.approx(expected)


def test_markdown_csv_and_plot(scores, tmp_path, monkeypatch):
    table = leaderboard.median_table(scores)
    md = leaderboard.to_markdown(table, caption="caption line")
    lines = md.splitlines()
    assert lines[0] == "caption line" and lines[2].startswith("| method | SDR vocals |")
    hpss = next(line for line in lines if line.startswith("| HPSS "))
    assert hpss.count("–") == 9  # 12 cells, 3 with numbers
    mixture = next(line for line in lines if line.startswith("| mixture "))
    assert mixture.count("≥ 100") == 4  # the mixture's SAR: no artifacts
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "out"))
    assert leaderboard.build_dir() == tmp_path / "out"
    paths = leaderboard.write(table, scores, name="lb", caption="caption line")
    assert paths["md"].read_text(encoding="utf-8") == md
    back = pd.read_csv(paths["csv"])
    assert len(back) == len(scores) and np.allclose(back.value, scores.value)
    fig = leaderboard.plot(scores)
    assert len(fig.axes) == 4 and [a.get_title() for a in fig.axes] == list(data.STEMS)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(table.index)


def test_bad_methods_are_named(tracks):
    with pytest.raises(ValueError, match="unknown stems"):
        leaderboard.leaderboard(tracks[:1], methods={"bad": lambda t: {"piano": t.mixture}})
    with pytest.raises(ValueError, match="must return"):
        leaderboard.leaderboard(tracks[:1], methods={"bad": lambda t: t.mixture})
    with pytest.raises(ValueError, match="unique"):
        leaderboard.leaderboard([tracks[0], tracks[0]], methods={"m": lambda t: {"vocals": t.mixture}})


def test_default_methods_nmf_and_unet(tracks):
    train = [leaderboard.excerpt(t, duration=3.0) for t in data.load_dataset("bundled", split="train")[:2]]
    templates = leaderboard.learn_nmf_templates(train, n_components=4, n_iter=5)
    assert set(templates) == set(data.STEMS)
    assert templates["bass"].shape == (513, 4) and np.allclose(templates["bass"].sum(axis=0), 1)
    methods = leaderboard.default_methods(nmf_templates=templates, nmf_iter=5)
    assert list(methods) == [m for m in leaderboard.METHODS if m != "Hybrid Demucs"]
    assert "NMF" not in leaderboard.default_methods(unet=False)
    track = leaderboard.excerpt(tracks[0], duration=1.0)
    for name in ("NMF", "U-Net"):
        out = methods[name](track)
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

    methods = leaderboard.default_methods(unet=False, demucs_model=Gain(), demucs_kwargs=dict(segment=0.5, overlap=0.1))
    out = methods["Hybrid Demucs"](tracks[0])
    assert list(out) == list(data.STEMS)
    error = sum(out.values()) - tracks[0].mixture  # the four quarters add up to the mixture, up to resampling
    snr = 10 * np.log10(np.sum(tracks[0].mixture.astype(np.float64) ** 2) / np.sum(error.astype(np.float64) ** 2))
    assert snr > 25, snr
