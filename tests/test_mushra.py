"""Tests for course_utils.mushra: stimuli, the rating widgets, the ratings file and the analysis.

Every rating here is made up by the test to drive the code ("test input", also the ``source``
column of every file written): none is a listening result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils import data, listening, methods, metrics, mushra

SR = 16000
TEST_INPUT = "test input"


def tone(f, t, *, harmonics=6):
    return sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, harmonics + 1))


@pytest.fixture(scope="module")
def track():
    rng = np.random.default_rng(3)
    t = np.arange(int(2.0 * SR)) / SR
    stems = {
        "vocals": 0.2 * tone(220 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t)), t, harmonics=20),
        "drums": 0.3 * rng.standard_normal(t.size) * (np.mod(t, 0.25) < 0.03),
        "bass": 0.3 * np.sin(2 * np.pi * 55 * t),
        "other": 0.1 * (tone(330, t) + tone(392, t)),
    }
    stems = {k: v.astype(np.float32) for k, v in stems.items()}
    return data.Track(name="test song", sr=SR, mixture=data.mixture_from_stems(stems), stems=stems,
                      split="test", dataset="test")


def noisy(level, seed):
    """A method: the true vocals plus white noise ``level`` times their RMS (worse for larger levels)."""
    def separate(tr):
        v = tr.stems["vocals"]
        n = np.random.default_rng(seed).standard_normal(v.shape).astype(np.float32)
        return {"vocals": v + level * np.sqrt(np.mean(v ** 2)) * n}
    return separate


METHODS = {"slightly noisy": noisy(0.05, 1), "very noisy": noisy(0.5, 2), "mixture": methods.mixture()}


@pytest.fixture(scope="module")
def stim(track):
    return mushra.stimuli(track, stem="vocals", methods=METHODS, duration=1.5, offset=0.5, seed=7)


def test_stimuli_are_blind_seeded_and_at_one_level(track, stim):
    names = set(stim.methods.values())
    assert names == {mushra.REFERENCE, mushra.ANCHOR, *METHODS}
    assert list(stim.signals) == list("ABCDE") == list(stim.methods)
    again = mushra.stimuli(track, stem="vocals", methods=METHODS, duration=1.5, offset=0.5, seed=7)
    assert again.methods == stim.methods
    orders = {tuple(mushra.stimuli(track, stem="vocals", methods=METHODS, duration=1.5, offset=0.5,
                                   seed=s).methods.values()) for s in range(6)}
    assert len(orders) > 1, "the seed changes the order"
    clip = data.excerpt(track, duration=1.5, offset=0.5)
    raw = {mushra.REFERENCE: clip.stems["vocals"],
           mushra.ANCHOR: mushra.low_pass_anchor(clip.stems["vocals"], sr=SR),
           **{name: m(clip)["vocals"] for name, m in METHODS.items()}}
    gain = listening.playback_gain(list(raw.values()))
    assert stim.gain == pytest.approx(gain)
    for name, x in raw.items():
        np.testing.assert_allclose(stim.signals[stim.label_of(name)], gain * x, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(stim.signals[stim.label_of(mushra.REFERENCE)], stim.reference)
    peak = max(np.abs(x).max() for x in stim.signals.values())
    assert peak == pytest.approx(10 ** (listening.HEADROOM_DB / 20), rel=1e-5)
    np.testing.assert_allclose(stim.references[1], gain * clip.stems["drums"], rtol=1e-6, atol=1e-7)
    assert stim.excerpt == "test song (0.5-2.0 s)"


def test_players_name_the_labels_not_the_methods(stim):
    markup = stim.players().data
    for label in ["Reference", *stim.signals]:
        assert f">{label}</div>" in markup
    for name in ("hidden reference", "anchor", "noisy", "mixture"):
        assert name not in markup
    assert markup.count("<audio") == len(stim.signals) + 1


def test_anchor_is_low_passed_at_3_5_khz(stim):
    x = np.random.default_rng(0).standard_normal(SR * 2).astype(np.float32)
    y = mushra.low_pass_anchor(x, sr=SR)
    f = np.fft.rfftfreq(x.size, 1 / SR)
    X, Y = (np.abs(np.fft.rfft(s)) ** 2 for s in (x, y))
    above = 10 * np.log10(Y[f > 4000].sum() / X[f > 4000].sum())
    below = 10 * np.log10(Y[f < 3000].sum() / X[f < 3000].sum())
    assert above < -40 and abs(below) < 0.1, (above, below)
    ref, anchor = stim.reference, stim.signals[stim.label_of(mushra.ANCHOR)]
    fr = np.fft.rfftfreq(ref.size, 1 / SR)
    R, A = (np.abs(np.fft.rfft(s * np.hanning(s.size))) ** 2 for s in (ref, anchor))   # window: no edge leakage
    assert A[fr > 3500].sum() < 0.1 * R[fr > 3500].sum()      # the slope starts at the cut-off
    assert A[fr > 4000].sum() < 1e-3 * R[fr > 4000].sum()          # 30 dB down
    assert A[fr < 3000].sum() > 0.95 * R[fr < 3000].sum()
    with pytest.raises(ValueError):
        mushra.low_pass_anchor(x, sr=6000)


def test_metrics_are_those_of_the_arrays_heard(stim):
    table = mushra.stimulus_metrics(stim)
    assert list(table.index) == list(stim.signals)
    for label, x in stim.signals.items():
        direct = metrics.bss_eval(stim.references, x[None])
        assert table.loc[label, "method"] == stim.methods[label]
        for metric, value in (("SDR", direct.sdr[0]), ("SAR", direct.sar[0]),
                              ("SI-SDR", metrics.si_sdr(stim.reference, x))):
            assert table.loc[label, metric] == pytest.approx(value, rel=1e-9), (label, metric)
    by = table.set_index("method")
    assert by.loc["slightly noisy", "SI-SDR"] > by.loc["very noisy", "SI-SDR"] + 10
    assert by.loc["mixture", "SAR"] > 60, "the mixture lies in the span of the sources: no artifact"
    assert np.isinf(by.loc[mushra.REFERENCE, "SI-SDR"])


def test_sliders_and_save_write_what_was_set(stim, tmp_path):
    path = tmp_path / "mushra test input.csv"
    test = mushra.rating_ui(stim, path=path, source=TEST_INPUT)
    assert set(test.sliders) == set(stim.signals)
    test.save_button.click()
    assert not path.exists() and "Not saved" in test.status.value, "unmoved sliders are not saved"
    chosen = dict(zip(stim.signals, (12, 97, 0, 55, 71)))
    for label, value in chosen.items():
        test.sliders[label].value = 50 if value == 0 else 0   # a 0 must be moved there too
        test.sliders[label].value = value
    test.save_button.click()
    assert path.exists() and "Saved 5 ratings" in test.status.value
    saved = mushra.load_ratings(path, stim=stim)
    assert list(saved.columns) == list(mushra.COLUMNS)
    assert dict(zip(saved["label"], saved["rating"])) == chosen
    assert dict(zip(saved["label"], saved["method"])) == stim.methods
    for name in stim.methods.values():
        assert saved.set_index("method").loc[name, "rating"] == chosen[stim.label_of(name)]
    assert set(saved["source"]) == {TEST_INPUT} and set(saved["seed"]) == {7}
    assert set(saved["excerpt"]) == {stim.excerpt} and set(saved["stem"]) == {"vocals"}
    assert saved["time"].nunique() == 1
    pd.testing.assert_frame_equal(saved, test.saved.reset_index(drop=True), check_dtype=False)


def test_load_ratings_keeps_only_this_trial(track, stim, tmp_path):
    path = tmp_path / "test input.csv"
    mushra.save_ratings(stim, {label: 50 for label in stim.signals}, path=path, source=TEST_INPUT)
    other = mushra.stimuli(track, stem="vocals", methods=METHODS, duration=1.5, offset=0.5, seed=8)
    assert mushra.load_ratings(path, stim=other).empty, "another seed is another trial"
    table = pd.read_csv(path)
    table.loc[0, "method"], table.loc[1, "method"] = table.loc[1, "method"], table.loc[0, "method"]
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match="do not name"):
        mushra.load_ratings(path, stim=stim)
    with pytest.raises(ValueError, match="every stimulus"):
        mushra.save_ratings(stim, {"A": 10}, path=path, source=TEST_INPUT)
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        mushra.save_ratings(stim, {label: 101 for label in stim.signals}, path=path, source=TEST_INPUT)


def hand_table(values):
    """A stimulus_metrics-like table: the hidden reference plus one row per (method, SDR, SI-SDR, SAR)."""
    rows = {"R": {"method": mushra.REFERENCE, "SDR": np.inf, "SI-SDR": np.inf, "SAR": np.inf}}
    rows.update({chr(ord("A") + i): {"method": m, "SDR": a, "SI-SDR": b, "SAR": c}
                 for i, (m, a, b, c) in enumerate(values)})
    return pd.DataFrame.from_dict(rows, orient="index")


def made_up_ratings(by_method, *, reference=100.0):
    """Test input in the ratings file's columns: the hidden reference plus ``{method: rating}``."""
    rows = [("x", "vocals", "?", m, r, "t", 0, TEST_INPUT) for m, r in {mushra.REFERENCE: reference, **by_method}.items()]
    return pd.DataFrame(rows, columns=list(mushra.COLUMNS))


def test_spearman_perfect_reversed_and_by_hand():
    scores = hand_table([("p", 1.0, 4.0, 30.0), ("q", 2.0, 3.0, 10.0), ("r", 3.0, 2.0, 20.0), ("s", 4.0, 1.0, np.inf)])
    # test input: ratings rising with SDR, i.e. falling with SI-SDR
    rho = mushra.rank_correlation(made_up_ratings({"p": 10, "q": 20, "r": 35, "s": 80}), scores)
    assert rho.loc["SDR", "spearman rho"] == pytest.approx(1.0)
    assert rho.loc["SI-SDR", "spearman rho"] == pytest.approx(-1.0)
    assert (rho["stimuli"] == 4).all(), "the hidden reference is left out"
    # by hand: SAR ranks p, q, r, s = 3, 1, 2, 4 against rating ranks 1, 2, 3, 4;
    # d = 2, -1, -1, 0, so rho = 1 - 6 * 6 / (4 * 15) = 0.4
    assert rho.loc["SAR", "spearman rho"] == pytest.approx(0.4)
    # two listeners (test input): their mean per stimulus is what is ranked
    two = pd.concat([made_up_ratings({"p": 10, "q": 40, "r": 30, "s": 80}),
                     made_up_ratings({"p": 10, "q": 0, "r": 40, "s": 80})])
    assert mushra.rank_correlation(two, scores).loc["SDR", "spearman rho"] == pytest.approx(1.0)
    # by hand: SDR ranks 1, 2, 3, 4 against ratings 10, 30, 20, 40 (ranks 1, 3, 2, 4): 1 - 6 * 2 / 60 = 0.8
    assert mushra.rank_correlation(made_up_ratings({"p": 10, "q": 30, "r": 20, "s": 40}),
                                   scores).loc["SDR", "spearman rho"] == pytest.approx(0.8)
    with pytest.raises(ValueError, match="No rating"):
        mushra.rank_correlation(made_up_ratings({"p": 10, "q": 30}), scores)


def test_metric_agreement_and_post_screening():
    scores = hand_table([("p", 1.0, 4.0, 1.0), ("q", 2.0, 3.0, 3.0), ("r", 3.0, 2.0, 2.0), ("s", 4.0, 1.0, 4.0)])
    agree = mushra.metric_agreement(scores)
    assert agree.loc["SDR", "SI-SDR"] == pytest.approx(-1.0)
    assert agree.loc["SDR", "SAR"] == pytest.approx(0.8)
    assert np.allclose(np.diag(agree), 1.0)
    good = made_up_ratings({mushra.ANCHOR: 20, "p": 50})
    assert mushra.post_screening(good) == []
    bad = made_up_ratings({mushra.ANCHOR: 95, "p": 50}, reference=80)
    problems = mushra.post_screening(bad)
    assert len(problems) == 2 and "< 90" in problems[0] and "anchor" in problems[1]


def test_ratings_of_other_stimuli_are_refused(stim):
    scores = mushra.stimulus_metrics(stim)
    ratings = made_up_ratings({name: 50 for name in stim.methods.values() if name != mushra.REFERENCE})
    with pytest.raises(ValueError, match="excerpt"):
        mushra.rank_correlation(ratings, scores)


def test_plot_ratings(stim, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = mushra.stimulus_metrics(stim)
    by_method = {name: r for name, r in zip(scores["method"], (10, 30, 50, 70, 90))}
    ratings = made_up_ratings(by_method).assign(excerpt=stim.excerpt)
    fig = mushra.plot_ratings(ratings, scores, title="test input, not a listening result")
    rho = mushra.rank_correlation(ratings, scores)["spearman rho"]
    axes = fig.axes
    assert [ax.get_xlabel() for ax in axes] == [f"{m} (dB)" for m in mushra.METRICS]
    for ax, metric in zip(axes, mushra.METRICS):
        assert f"{rho[metric]:.2f}" in ax.get_title()
        assert ax.get_xlim()[1] < mushra.CEILING_DB + 20, "the mixture's huge SAR sits at the edge"
    texts = [t.get_text() for t in axes[2].texts]
    assert any(t.startswith("mixture\n(") for t in texts)
    plt.close(fig)
