"""Tests for course_utils.repro (fast mode, seeding, device, setup) and course_utils.project
(the setup cell every notebook opens with, which calls repro.setup, and the Colab links)."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from course_utils import project, repro


@pytest.fixture
def no_gpu(monkeypatch):
    """Pretend there is no CUDA GPU, whatever machine the tests run on."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv(repro.FAST_ENV, raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)


# -------------------------------------------------------------------- fast mode


def test_fast_env_name():
    assert repro.FAST_ENV == "COURSE_FAST"


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_fast_mode_on(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    assert repro.fast_mode() is True


@pytest.mark.parametrize("value", ["", "0", "false", "False", "no", "off", " 0 "])
def test_fast_mode_off(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    assert repro.fast_mode() is False


def test_fast_mode_unset_is_off(clean_env):
    assert repro.fast_mode() is False


@pytest.mark.parametrize("value", ["maybe", "2", "fast", "tru"])
def test_fast_mode_typo_raises(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    with pytest.raises(ValueError, match="COURSE_FAST"):
        repro.fast_mode()


@pytest.mark.parametrize("value, expected", [("1", 5), ("0", 100), (None, 100)])
def test_choose(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("COURSE_FAST", raising=False)
    else:
        monkeypatch.setenv("COURSE_FAST", value)
    assert repro.choose(full=100, fast=5) == expected


def test_choose_any_values(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "on")
    assert repro.choose(full=["a", "b", "c"], fast=["a"]) == ["a"]
    monkeypatch.setenv("COURSE_FAST", "bogus")
    with pytest.raises(ValueError):
        repro.choose(full=1, fast=2)


# ---------------------------------------------------------------------- seeding


def _draws():
    return random.random(), np.random.rand(5), torch.rand(5)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_seed_everything_repeats_draws(seed):
    repro.seed_everything(seed)
    a = _draws()
    repro.seed_everything(seed)
    b = _draws()
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])


def test_seed_everything_different_seeds_differ():
    repro.seed_everything(0)
    a = _draws()
    repro.seed_everything(1)
    b = _draws()
    assert a[0] != b[0]
    assert not np.array_equal(a[1], b[1])
    assert not torch.equal(a[2], b[2])


def test_seed_everything_default_is_zero():
    repro.seed_everything()
    a = _draws()
    repro.seed_everything(0)
    b = _draws()
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])


def test_seed_everything_seeds_model_init():
    repro.seed_everything(3)
    w1 = torch.nn.Linear(4, 4).weight.detach().clone()
    repro.seed_everything(3)
    w2 = torch.nn.Linear(4, 4).weight.detach().clone()
    assert torch.equal(w1, w2)


# ----------------------------------------------------------------------- device


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_pick_device_is_cpu_here(clean_env):
    assert repro.pick_device() == torch.device("cpu")


def test_pick_device_without_gpu(no_gpu):
    device = repro.pick_device()
    assert isinstance(device, torch.device) and device.type == "cpu"
    assert repro.pick_device(prefer="cpu") == torch.device("cpu")


@pytest.mark.parametrize("prefer", ["cuda", "cuda:0"])
def test_pick_device_cuda_without_gpu_raises(no_gpu, prefer):
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        repro.pick_device(prefer=prefer)


def test_pick_device_prefers_gpu_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert repro.pick_device() == torch.device("cuda")
    assert repro.pick_device(prefer="cpu") == torch.device("cpu")


def test_course_device_env(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert repro.pick_device() == torch.device("cpu")  # the variable wins over the GPU
    assert repro.pick_device(prefer="cuda") == torch.device("cuda")  # an explicit prefer wins over it
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="'cuda'"):
        repro.pick_device()


# ------------------------------------------------------------------------ setup


@pytest.mark.parametrize("fast", ["1", "0"])
def test_setup_returns_device_and_fast(no_gpu, monkeypatch, capsys, fast):
    monkeypatch.setenv("COURSE_FAST", fast)
    result = repro.setup(seed=7)
    device, is_fast = result
    assert isinstance(result, repro.Setup)
    assert device == torch.device("cpu") and result.device is device
    assert is_fast is (fast == "1") and result.fast is is_fast
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    assert f"fast mode: {'on' if fast == '1' else 'off'}" in lines[0]
    assert "device: cpu" in lines[0] and "seed: 7" in lines[0]
    assert lines[0].startswith("course_utils ")


def test_setup_seeds(no_gpu, clean_env):
    repro.setup(seed=11, verbose=False)
    a = _draws()
    repro.seed_everything(11)
    b = _draws()
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])


def test_setup_quiet(no_gpu, clean_env, capsys):
    assert repro.setup(verbose=False) == (torch.device("cpu"), False)
    assert capsys.readouterr().out == ""


def test_setup_rejects_bad_fast_flag(no_gpu, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="COURSE_FAST"):
        repro.setup(verbose=False)


# ---------------------------------------------------------------------- project


def test_setup_cell_text():
    cell = project.SETUP_CELL
    assert f'"{project.REPOSITORY}", "/content/course"' in cell  # cloned from the one URL, to one folder
    assert "%%capture" not in cell
    compile(cell, "setup", "exec")
    assert cell.startswith("# Setup:")  # how tools/sync_notebooks.py recognises it
    assert cell.rstrip().endswith("DEVICE, FAST = repro.setup(seed=0)")
    assert "{" not in cell and "}" not in cell  # the f-string's braces were rendered


def test_setup_cell_runs_outside_colab(no_gpu, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def refuse(*args, **kwargs):
        raise AssertionError(f"the setup cell ran a command outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    namespace = {}
    exec(compile(project.SETUP_CELL, "setup", "exec"), namespace)
    assert namespace["DEVICE"] == torch.device("cpu")
    assert namespace["FAST"] is True
    assert "fast mode: on" in capsys.readouterr().out


@pytest.mark.parametrize("notebook", ["notebooks/00_introduction.ipynb", "notebooks/homework/hw1.ipynb"])
def test_colab_url(notebook):
    owner_repo = project.REPOSITORY.removeprefix("https://github.com/")
    assert owner_repo.count("/") == 1 and not owner_repo.endswith("/")
    expected = f"https://colab.research.google.com/github/{owner_repo}/blob/main/{notebook}"
    assert project.colab_url(notebook) == expected


def test_colab_url_follows_repository(monkeypatch):
    monkeypatch.setattr(project, "REPOSITORY", "https://github.com/someone/fork")
    assert (project.colab_url("notebooks/01_stft_and_phase.ipynb")
            == "https://colab.research.google.com/github/someone/fork/blob/main/notebooks/01_stft_and_phase.ipynb")


def test_colab_badge():
    badge = project.colab_badge("notebooks/02_masking.ipynb")
    assert badge == ("[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"({project.colab_url('notebooks/02_masking.ipynb')})")
