"""course_utils.state_of_the_art: the published tables as data, chunked waveform inference, loading offline."""

import numpy as np
import pytest
import torch
import torchaudio

from course_utils import audio, checks, data
from course_utils import state_of_the_art as sota


# --------------------------------------------------------------------------------------------
# Published tables


def test_tables_hold_the_lecture_notes_numbers_and_cite_their_sections():
    lb = sota.leaderboard_table().set_index("model")
    assert lb.loc["Sparse HT Demucs (fine tuned)", "sdr"] == 9.20 and lb.loc["Hybrid Demucs", "bass"] == 8.67
    assert list(lb["rank"]) == list(range(1, 8)) and lb["sdr"].is_monotonic_decreasing
    assert "Extra (Private) Datasets" in lb.attrs["source"] and "Yang" in lb.attrs["source"]
    demucs = sota.demucs_table().set_index("model")
    assert demucs.loc["Wave-U-Net", "sdr"] == 3.2 and demucs.loc["Spleeter", "extra_data"] == "25k songs"
    assert "Library: Demucs" in demucs.attrs["source"]


def test_published_results_merge_the_two_tables_one_row_per_model():
    df = sota.published_results()
    assert df.index.is_unique and len(df) == 13  # 8 + 7 rows, 3 models in both, 1 result after the notes
    both = df[df.tables.str.contains(";")]
    assert set(both.index) == {"Band-Split RNN", "Hybrid Demucs", "Hybrid Transformer Demucs (f.t.)"}
    assert np.allclose(both.sdr.round(1), both.sdr_demucs_table)  # the tables agree on shared models
    assert df.loc["Hybrid Transformer Demucs (f.t.)", "extra_songs"] == "800 songs"
    assert df.loc["Band-Split RNN", "vocals"] == 10.21 and np.isnan(df.loc["Open-Unmix", "vocals"])
    assert df.extra_data.dtype == bool and set(df.domain) == {"waveform", "spectrogram", "hybrid"}
    assert df.year.between(2018, 2023).all() and df.year.is_monotonic_increasing


def test_the_notes_mixed_row_is_corrected_from_the_paper_and_a_later_result_is_added():
    lb = sota.leaderboard_table().set_index("model")
    ft = lb.loc["Hybrid Transformer Demucs (f.t.)"]
    assert (ft.bass, ft.other) == (10.39, 6.32) and "9.78" in ft.corrected and "6.42" in ft.corrected
    # the paper's four stems average to its published 9.00; the notes' mixed row did not (8.87)
    assert np.mean([ft[s] for s in sota.SOURCES]) == pytest.approx(ft.sdr, abs=0.005)
    printed = dict(zip(["rank", "model", "sdr", *sota.SOURCES], sota.LEADERBOARD[1][:7]))
    assert np.mean([printed[s] for s in sota.SOURCES]) == pytest.approx(8.87, abs=0.005)
    assert (lb.drop(index="Hybrid Transformer Demucs (f.t.)").corrected == "").all()
    df = sota.published_results()
    assert df.loc["BS-RoFormer", "sdr"] == 9.80 and not df.loc["BS-RoFormer", "extra_data"]
    assert df.loc["BS-RoFormer", "test_set"] == "MUSDB18-HQ"
    assert df.loc["BS-RoFormer", "sdr"] > df[df.extra_data].sdr.max()   # no extra data, above every extra-data row


def test_model_sizes_are_cited_and_the_hybrid_demucs_count_is_torchaudios():
    sizes = sota.model_sizes()
    assert sizes.parameters.is_monotonic_increasing and sizes.parameters_from.str.len().min() > 20
    network = torchaudio.models.hdemucs_high(sources=["drums", "bass", "other", "vocals"])
    assert sum(p.numel() for p in network.parameters()) == sizes.loc["Hybrid Demucs", "parameters"]
    assert sizes.loc["Hybrid Transformer Demucs (f.t.)", "networks"] == 4


def test_ablation_costs_and_extra_data_gains():
    abl = sota.ablation()
    assert abl.loc["Reference", "sdr_lost"] == 0 and abl.index[0] == "no BiLSTM"
    assert abl.loc["no BiLSTM", "sdr_lost"] == pytest.approx(0.88)
    assert np.isnan(abl.loc["MSE loss", "valid_l1"]) and abl.sdr_lost.is_monotonic_decreasing
    gains = sota.extra_data_gains()
    assert gains.loc["Band-Split RNN: semi-supervised extra data", "drums"] == pytest.approx(1.57)
    assert (gains > 0).all().all()


# --------------------------------------------------------------------------------------------
# Chunks and weights


def test_chunk_bounds_cover_the_signal_with_the_given_overlap():
    assert sota.chunk_bounds(100, segment=30, overlap=10) == [(0, 30), (20, 50), (40, 70), (60, 90), (80, 100)]
    assert sota.chunk_bounds(5, segment=30, overlap=10) == [(0, 5)]
    assert sota.chunk_bounds(30, segment=30, overlap=0) == [(0, 30)]
    for n in (1, 29, 31, 57, 1000):
        bounds = sota.chunk_bounds(n, segment=30, overlap=7)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(b[0] - a[0] == 23 and a[1] - b[0] == 7 for a, b in zip(bounds, bounds[1:]))
    with pytest.raises(ValueError, match="overlap"):
        sota.chunk_bounds(100, segment=30, overlap=30)
    with pytest.raises(ValueError, match="segment"):
        sota.chunk_bounds(100, segment=0, overlap=0)


def test_chunk_weights_ramp_and_crossfades_sum_to_one():
    w = sota.chunk_weights(10, fade_in=4, fade_out=3)
    assert w.shape == (10,) and np.all(w > 0) and np.all(w <= 1) and np.all(w[4:7] == 1)
    down, up = sota.chunk_weights(8, fade_in=0, fade_out=4)[-4:], sota.chunk_weights(8, fade_in=4, fade_out=0)[:4]
    assert np.allclose(down + up, 1)
    with pytest.raises(ValueError, match="fade_in"):
        sota.chunk_weights(5, fade_in=6, fade_out=0)


# --------------------------------------------------------------------------------------------
# Chunked inference


class PerSourceGain(torch.nn.Module):
    """A linear, local stand-in model: each source is the input times a gain (with a learnable
    parameter, so it has a device)."""

    sources = ["drums", "bass", "other", "vocals"]
    audio_channels = 2

    def __init__(self):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor([0.1, 0.2, 0.3, 0.4]))
        self.calls = []

    def forward(self, x):
        self.calls.append(tuple(x.shape))
        return self.gain[None, :, None, None] * x[:, None]


def tones(seconds, sr, channels=None):
    """Band-limited test music: a few harmonics (resampling round trips keep them)."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * f * t + k) / (k + 1) for k, f in enumerate((110, 220, 440, 1320)))
    y = (0.2 * y * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t))).astype(np.float32)
    return y if channels is None else np.stack([y, 0.5 * y])


def test_chunked_equals_one_pass_exactly_for_a_local_model_and_memory_is_one_chunk():
    model = PerSourceGain()
    y = tones(3.0, 44100, channels=2)
    one = sota.separate_waveform(model, y, sr=44100, segment=10.0)
    model.calls.clear()
    chunked = sota.separate_waveform(model, y, sr=44100, segment=1.0, overlap=0.3)
    assert one.shape == chunked.shape == (4, 2, y.shape[-1]) and chunked.dtype == np.float32
    assert np.abs(chunked - one).max() < 1e-6
    g, m = np.array([0.1, 0.2, 0.3, 0.4])[:, None, None], y.mean()
    assert np.allclose(one, g * (y - m) + m / 4, atol=1e-6)  # normalisation undone; the offset is shared
    assert len(model.calls) == 4 and max(c[-1] for c in model.calls) == 44100  # one chunk at a time, 1 s each


def test_mono_22050_is_resampled_upmixed_and_returned_in_the_asked_order():
    model = PerSourceGain()
    y = tones(2.0, 22050)
    est = sota.separate_waveform(model, y, sr=22050, segment=0.7, overlap=0.2, sources=data.STEMS)
    assert est.shape == (4, y.size)
    gains = dict(zip(model.sources, [0.1, 0.2, 0.3, 0.4]))
    for stem, e in zip(data.STEMS, est):  # band-limited input: the 22050 -> 44100 -> 22050 round trip is clean
        inner = slice(200, -200)
        assert np.abs(e[inner] - gains[stem] * y[inner]).max() < 2e-3 * np.abs(y).max(), stem
    assert model.calls[0][1] == 2  # the model saw stereo
    with pytest.raises(ValueError, match="no \\['piano'\\]"):
        sota.separate_waveform(model, y, sr=22050, sources=["piano"])
    with pytest.raises(ValueError, match="channels"):
        sota.separate_waveform(model, np.zeros((3, 100), np.float32), sr=44100)


def test_hdemucs_low_with_random_weights_runs_in_chunks_and_one_chunk_is_one_call():
    torch.manual_seed(0)
    model = torchaudio.models.hdemucs_low(sources=["drums", "bass", "other", "vocals"]).eval()
    y = tones(0.75, 22050)
    one = sota.separate_waveform(model, y, sr=22050, segment=5.0, sources=data.STEMS)
    chunked = sota.separate_waveform(model, y, sr=22050, segment=0.5, overlap=0.1, sources=data.STEMS)
    assert one.shape == chunked.shape == (4, y.size) and chunked.dtype == np.float32 and np.isfinite(chunked).all()
    # a song shorter than a chunk is exactly one call of the network, after the same preprocessing
    x = audio.resample(np.stack([y, y]), orig_sr=22050, target_sr=44100)
    mean, std = x.mean(), x.std()
    with torch.inference_mode():
        direct = model(torch.from_numpy((x - mean) / std)[None])[0].numpy() * std + mean / 4
    direct = audio.resample(direct.mean(axis=1), orig_sr=44100, target_sr=22050)[:, : y.size]
    order = [model.sources.index(s) for s in data.STEMS]
    assert np.abs(one - direct[order]).max() < 1e-5 * np.abs(one).max() + 1e-7


def test_load_pretrained_returns_quickly_with_a_reason_when_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # nothing cached
    monkeypatch.setattr(sota, "can_reach", lambda host, **kw: (False, "no network in this test"))
    model, sr, why = sota.load_pretrained_hdemucs()
    assert model is None and sr == 44100 and "no network in this test" in why and "not cached" in why


def test_load_pretrained_reports_a_failing_download(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(sota, "can_reach", lambda host, **kw: (True, "reachable"))

    def fail():
        raise OSError("connection reset")

    monkeypatch.setattr(torchaudio.pipelines.HDEMUCS_HIGH_MUSDB_PLUS, "get_model", fail)
    model, _, why = sota.load_pretrained_hdemucs()
    assert model is None and "connection reset" in why


def test_can_reach_gives_up_within_its_timeout():
    import time

    start = time.perf_counter()
    ok, why = sota.can_reach("host.invalid", timeout=1.0)
    assert not ok and why and time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------------------------
# Self-checks


def test_exercise_checks_accept_the_solutions_and_reject_mistakes(capsys):
    lb = sota.leaderboard_table().set_index("model")
    stems = list(sota.SOURCES)
    gain = lb.loc["Band-Split RNN (semi-sup.)", stems] - lb.loc["Band-Split RNN", stems]
    assert checks.check_extra_data_gain(gain) and not checks.check_extra_data_gain(-gain)
    assert not checks.check_extra_data_gain(None) and "sign" in capsys.readouterr().out
    assert checks.check_chunk_bounds([(0, 30), (20, 50), (40, 70), (60, 90), (80, 100)], n_samples=100, segment=30,
                                   overlap=10)
    assert not checks.check_chunk_bounds([(0, 30), (30, 60), (60, 90), (90, 100)], n_samples=100, segment=30, overlap=10)
    assert "20 samples apart" in capsys.readouterr().out
    import pandas as pd

    scores = pd.DataFrame({"track": ["a", "b"], "method": "mine", "source": "bass", "metric": "SDR",
                           "value": [1.0, 2.0]})
    assert checks.check_leaderboard_method(scores, method="mine")
    assert not checks.check_leaderboard_method(scores, method="other")


def test_check_largest_gap(capsys):
    import pandas as pd

    columns = pd.MultiIndex.from_product([["SDR"], ["vocals", "drums"]], names=["metric", "source"])
    table = pd.DataFrame([[-5.0, -5.0], [2.0, np.nan], [np.nan, 1.0], [12.0, 10.0]], columns=columns,
                         index=["mixture", "REPET", "HPSS", "oracle IRM"])
    assert checks.check_largest_gap(("REPET", "vocals"), table)  # 10 dB below, against HPSS's 9
    assert "10.0 dB below" in capsys.readouterr().out
    for wrong, says in [(("HPSS", "drums"), "another pair is further"), (("mixture", "vocals"), "not a course method"),
                        ("REPET", "a pair"), (None, "still None")]:
        assert not checks.check_largest_gap(wrong, table)
        assert says in capsys.readouterr().out
