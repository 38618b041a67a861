"""course_utils.metrics.evaluate and summarise: the one way the course scores methods on songs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import masks, methods, metrics
from course_utils.data import STEMS, Track

SR = 8000


def toy_track(name: str, *, seed: int, channels: int = 1) -> Track:
    rng = np.random.default_rng(seed)
    n = 3 * SR
    t = np.arange(n) / SR
    mono = {"vocals": 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)),
            "drums": 0.2 * rng.standard_normal(n) * (np.sin(2 * np.pi * 2 * t) > 0.9),
            "bass": 0.4 * np.sin(2 * np.pi * 55 * t),
            "other": 0.1 * rng.standard_normal(n)}
    mono = {k: v + 0.01 * rng.standard_normal(n) for k, v in mono.items()}  # broadband: no pure tones
    if channels == 1:
        stems = {k: v.astype(np.float32) for k, v in mono.items()}
    else:  # panned: a different gain per channel, plus a little of each channel's own noise
        stems = {k: np.stack([g * v + 0.01 * rng.standard_normal(n) for g in (0.9, 0.6)]).astype(np.float32)
                 for k, v in mono.items()}
    return Track(name, SR, sum(stems.values()).astype(np.float32), stems, "test", "toy")


@pytest.fixture(scope="module")
def tracks():
    return [toy_track("a", seed=1), toy_track("b", seed=2)]


IRM = methods.oracle("irm")
FAST = dict(filter_length=32)  # short filters: the tests are about the bookkeeping


def test_sources_rows_are_bss_eval_of_each_method_output(tracks):
    vocals_only = {"vocals only": lambda t: {"vocals": IRM(t)["vocals"]}}
    scores = metrics.evaluate(tracks, {"IRM": IRM, **vocals_only}, definition="sources", **FAST)
    assert list(scores.columns) == ["track", "method", "source", "metric", "value", "definition", "seconds"]
    assert set(scores["definition"]) == {"sources, 32 taps"} and (scores["seconds"] >= 0).all()
    direct = metrics.bss_eval(tracks[1].sources, masks.oracle_estimates(tracks[1], kind="irm"), names=STEMS,
                              filter_length=32)
    rows = scores[(scores.method == "IRM") & (scores.track == "b")].set_index(["source", "metric"])["value"]
    for metric in ("SDR", "SIR", "SAR"):
        np.testing.assert_allclose(rows.xs(metric, level="metric").loc[list(STEMS)],
                                   getattr(direct, metric.lower()), rtol=1e-12)
    # a stem's SDR depends only on its estimate and its truth, not on the other estimates
    sdr = scores[scores.metric == "SDR"].set_index(["method", "track", "source"])["value"]
    np.testing.assert_allclose(sdr.loc["vocals only"].to_numpy(), sdr.loc["IRM"].xs("vocals", level="source"),
                               rtol=1e-9)


def test_two_stem_outputs_are_scored_against_the_rest_of_the_mixture(tracks):
    track = tracks[0]
    vocals = IRM(track)["vocals"]
    method = {"karaoke": lambda t: {"vocals": vocals, "accompaniment": t.mixture - vocals}}
    scores = metrics.evaluate([track], method, definition="sources", **FAST)
    sdr = scores[scores.metric == "SDR"].set_index("source")["value"]
    rest = sum(track.stems[s].astype(np.float64) for s in STEMS if s != "vocals")
    expected = metrics.bss_eval(np.stack([rest, track.stems["vocals"]]), (track.mixture - vocals)[None],
                                filter_length=32).sdr[0]
    assert sdr["accompaniment"] == pytest.approx(expected, rel=1e-12)
    assert metrics.TWO_STEM == {"accompaniment": "vocals", "non-drums": "drums"}


def test_si_sdr_and_v4_definitions_on_a_stereo_track():
    track = toy_track("stereo", seed=3, channels=2)
    estimate = IRM(track)
    assert estimate["bass"].shape == track.mixture.shape == (2, 3 * SR)
    si = metrics.evaluate([track], {"IRM": IRM}, definition="si-sdr")
    assert set(si["metric"]) == {"SI-SDR"} and set(si["definition"]) == {"si-sdr"}
    joined = metrics.si_sdr(track.stems["bass"].ravel(), estimate["bass"].ravel())  # both channels at once
    assert si.set_index("source")["value"]["bass"] == pytest.approx(joined, rel=1e-12)
    v4 = metrics.evaluate([track], {"IRM": IRM}, definition="v4", **FAST)
    expected = metrics.bss_eval_frames(track.sources, np.stack([estimate[s] for s in STEMS]), sr=SR,
                                       filter_length=32).median()
    got = v4.set_index(["source", "metric"])["value"]
    np.testing.assert_allclose(got.xs("ISR", level="metric").loc[list(STEMS)], expected.isr, rtol=1e-12)
    assert metrics.summarise(v4).attrs["caption"].endswith(metrics.DEFINITIONS["v4"] + ", 32 taps; dB")


def test_summarise_medians_layout_and_nan_where_no_estimate(tracks):
    chosen = {"mixture": methods.mixture(), "IRM": IRM, "half bass": lambda t: {"bass": 0.5 * t.mixture}}
    scores = metrics.evaluate(tracks, chosen, definition="sources", duration=2.0, **FAST)
    assert scores.groupby("track").size().to_dict() == {"a": 27, "b": 27}  # (4 + 4 + 1) stems x 3 metrics
    table = metrics.summarise(scores)
    assert list(table.index) == ["mixture", "IRM", "half bass"]
    assert list(table.columns) == [(m, s) for m in ("SDR", "SIR", "SAR") for s in STEMS]
    assert table.loc["half bass", "SDR"].isna().tolist() == [True, True, False, True]
    expected = scores[(scores.method == "IRM") & (scores.source == "drums") & (scores.metric == "SIR")]["value"]
    assert table.loc["IRM", ("SIR", "drums")] == pytest.approx(expected.median())
    assert table.attrs["n_tracks"] == 2 and table.attrs["tracks"] == ["a", "b"]
    sdr = metrics.summarise(scores, metric="SDR", sources=["bass", "vocals"])
    assert list(sdr.columns) == ["bass", "vocals"]
    # a gain does not change the "sources" SDR: half the mixture scores as the mixture
    assert sdr.loc["half bass", "bass"] == pytest.approx(sdr.loc["mixture", "bass"], abs=1e-6)
    assert metrics.caption(scores) == table.attrs["caption"] == sdr.attrs["caption"]


def test_bad_input_is_named(tracks):
    track = tracks[0]
    with pytest.raises(TypeError):
        metrics.evaluate(tracks, {"IRM": IRM})  # the definition must be named
    with pytest.raises(ValueError, match="definition must be one of"):
        metrics.evaluate(tracks, {"IRM": IRM}, definition="SDR")
    with pytest.raises(ValueError, match="unknown stems"):
        metrics.evaluate([track], {"bad": lambda t: {"piano": t.mixture}}, definition="sources")
    with pytest.raises(ValueError, match="must return"):
        metrics.evaluate([track], {"bad": lambda t: t.mixture}, definition="sources")
    with pytest.raises(ValueError, match="shape"):
        metrics.evaluate([track], {"bad": lambda t: {"bass": t.mixture[:10]}}, definition="sources")
    with pytest.raises(ValueError, match="non-finite"):
        metrics.evaluate([track], {"bad": lambda t: {"bass": t.mixture * np.nan}}, definition="sources")
    with pytest.raises(ValueError, match="unique"):
        metrics.evaluate([track, track], {"IRM": IRM}, definition="sources")
    with pytest.raises(ValueError, match="empty"):
        metrics.evaluate([], {"IRM": IRM}, definition="sources")
    with pytest.raises(ValueError, match="non-empty dict"):
        metrics.evaluate([track], {}, definition="sources")
    with pytest.raises(ValueError, match="per_frame"):
        metrics.evaluate([track], {"IRM": IRM}, definition="sources", per_frame=True)
    mixed = pd.concat([metrics.evaluate([track], {"IRM": IRM}, definition=d, duration=1.0, **FAST)
                       for d in ("sources", "si-sdr")])
    with pytest.raises(ValueError, match="mixes metric definitions"):
        metrics.summarise(mixed)
    with pytest.raises(ValueError, match="No metric"):
        metrics.summarise(mixed[mixed.definition == "si-sdr"], metric="SDR")
