"""benchmarks/run_all.py: runs benchmark scripts, reads their results, writes one table with the machine."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import run_all  # noqa: E402

STUB = '''
import argparse, json, sys
parser = argparse.ArgumentParser()
parser.add_argument("--json")
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()
rows = [{"figure": "speed-up", "value": 12.5, "unit": "x", "kind": "ratio"},
        {"figure": "wall time", "value": 2.0, "unit": "s", "kind": "time", "note": "quick" if args.quick else "full"},
        {"figure": "throughput", "value": 30.0, "unit": "items/s", "kind": "rate"}]
json.dump({"name": "stub", "ok": True, "rows": rows}, open(args.json, "w"))
'''

BROKEN = '''
import sys
print("something went wrong", file=sys.stderr)
sys.exit(3)
'''


def test_harness_runs_every_script_and_writes_the_table_with_the_machine(tmp_path):
    (tmp_path / "bench_stub.py").write_text(STUB)
    (tmp_path / "bench_broken.py").write_text(BROKEN)
    (tmp_path / "helper.py").write_text("raise SystemExit('not a benchmark: never run')")
    out = tmp_path / "results.md"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--bench-dir",
                          str(tmp_path), "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # the broken benchmark fails the run, after the others ran
    md = out.read_text()
    for key in ("| CPU |", "| cores |", "| torch |", "| load average", "calibration workload"):
        assert key in md, key
    assert "QUICK smoke run" in md
    rows = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[1:-1]]
            for line in md.splitlines() if line.startswith("| stub") or line.startswith("| broken")}
    assert rows["speed-up"][2] == "12.5" and rows["speed-up"][4] == ""  # a ratio needs no calibration
    calibration = float(md.split("| calibration workload | ")[1].split(" s |")[0])
    # (the calibration is printed to 3 decimals, the normalised values to 3 significant digits)
    assert float(rows["wall time"][4]) == pytest.approx(2.0 / calibration, rel=0.02)  # time / calibration
    assert float(rows["throughput"][4]) == pytest.approx(30.0 * calibration, rel=0.02)  # rate * calibration
    assert rows["wall time"][5] == "quick"  # --quick reached the script
    assert "FAILED" in rows["(no results)"][5] and "exit 3" in rows["(no results)"][5]
    assert "speed-up" in run.stdout  # the table is printed too


def test_only_selects_benchmarks_and_rejects_unknown_names(tmp_path):
    (tmp_path / "bench_stub.py").write_text(STUB)
    (tmp_path / "bench_broken.py").write_text(BROKEN)
    out = tmp_path / "results.md"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--bench-dir",
                          str(tmp_path), "--out", str(out), "--only", "stub"], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "broken" not in out.read_text()
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--bench-dir", str(tmp_path),
                          "--only", "nope"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "no benchmark ['nope']" in run.stderr


def test_unet_report_is_adapted():
    report = {"parameters": 612905, "speed": {"train_examples_per_s": 40.5, "inference_examples_per_s": 300.0,
                                              "song_realtime_factor": 25.0},
              "training": {"seconds": 95.0, "epochs": 31, "stopped": "early stopping"},
              "time_to_target": {"epoch": 12, "seconds": 40.2, "test_sdr": 8.9}, "judged_target": "vocals",
              "results": {"vocals": {"model_median": 9.1, "mixture_median": -4.0, "irm_median": 11.0,
                                     "fraction_of_irm": 0.83}},
              "memory": {"peak_rss_mb": 900.0}, "target_met": True, "device": "cpu", "quick": False}
    adapted = run_all.adapt_unet(report)
    figures = {r["figure"]: r for r in adapted["rows"]}
    assert figures["training throughput"]["value"] == 40.5 and figures["training throughput"]["kind"] == "rate"
    assert figures["time to target quality"]["value"] == 40.2 and figures["target met"]["value"] == "yes"
    assert figures["vocals: fraction of the ideal ratio mask's SDR"]["kind"] == "ratio"
    assert all(r["kind"] in run_all.KINDS for r in adapted["rows"])
    quick = dict(report, time_to_target=None, target_met=False)
    figures = {r["figure"]: r for r in run_all.adapt_unet(quick)["rows"]}
    assert figures["time to target quality"]["value"] is None and "not reached" in figures["time to target quality"]["note"]


def test_every_benchmark_script_takes_json_and_quick():
    scripts = run_all.discover(ROOT / "benchmarks")
    assert {run_all.bench_name(s) for s in scripts} >= {"metrics", "grading", "unet", "notebooks", "waveform"}
    for script in scripts:
        text = script.read_text()
        assert '"--json"' in text and '"--quick"' in text, script.name


def test_the_committed_results_name_their_machine():
    md = (ROOT / "benchmarks" / "results.md").read_text()
    assert md.startswith("# Benchmark results") and "| CPU |" in md and "| torch |" in md
    assert "| benchmark | figure | value | unit | per calibration unit | note |" in md
