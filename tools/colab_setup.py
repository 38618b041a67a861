"""Install the course into a running Google Colab (or any other ready-made Python): what the
notebooks' setup cell runs after cloning the repository.

    python tools/colab_setup.py

What it does, and why:

1. If a completed install is recorded (the marker file ``.colab-installed`` beside this
   repository's ``pyproject.toml``, written only at the very end, and ``course_utils`` is
   importable from this folder), it says so and stops: a re-run of the cell costs nothing.
2. torch must be there already (Colab ships it, built for its GPU); it is never installed or
   replaced here. If torchaudio is missing, the one of torch's own release is installed
   (torchaudio 2.9.1 for torch 2.9.1: they are released together, and only that one loads).
3. ``pip install -e`` of the course with a constraint file that holds torch, torchaudio and
   the packages the running notebook server itself uses (IPython, ipywidgets, ipykernel,
   jupyter-client, traitlets, tornado, pyzmq) at the versions installed now: pip may add
   what is missing but never swaps the kernel's own packages mid-session. pip runs quietly;
   if it fails, its whole output is printed and this script fails.
4. It checks that ``course_utils`` imports in a fresh interpreter and that torch is the
   version it was, writes the marker, and prints the packages it added or changed.

Only the standard library is used, so that it runs before anything is installed.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = ROOT / ".colab-installed"
KEEP = ("torch", "torchaudio", "ipython", "ipywidgets", "ipykernel", "jupyter-client", "traitlets", "tornado",
        "pyzmq")
"""Installed packages that pip must leave at their versions (the constraint file)."""


class SetupError(RuntimeError):
    """The install could not be completed; the message says what failed and what to do."""


def installed() -> dict[str, str]:
    """Every installed distribution, by its normalised name, with its version."""
    return {d.metadata["Name"].lower().replace("_", "-"): d.version for d in importlib.metadata.distributions()}


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def pip(*args: str) -> None:
    """Run pip quietly; on failure show everything it said."""
    done = subprocess.run([sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError(f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def imports_in_a_fresh_interpreter() -> bool:
    # from another folder, so that it is the installed package that imports, not ./course_utils
    done = subprocess.run([sys.executable, "-c", "import course_utils, course_utils.metrics"],
                          cwd=tempfile.gettempdir(), capture_output=True, text=True)
    return done.returncode == 0


def torchaudio_install(torch_version: str) -> list[str]:
    """pip arguments for the torchaudio built for ``torch_version``: the same release number.

    torch and torchaudio are released together with equal numbers (2.9.1 and 2.9.1), and a
    torchaudio of another patch release does not load (torchaudio 2.11.1 on torch 2.11.0 fails
    with an undefined symbol in ``libtorchaudio.so``). A torch from the PyTorch index carries
    its build in the version (``2.9.1+cu126``); its torchaudio comes from the same index.
    """
    release, _, build = torch_version.partition("+")
    args = [f"torchaudio=={release}"]
    if build:
        args += ["--index-url", f"https://download.pytorch.org/whl/{build}", "--extra-index-url",
                 "https://pypi.org/simple"]
    return args


def main() -> int:
    if MARKER.is_file() and imports_in_a_fresh_interpreter():
        print(f"The course is installed ({MARKER.read_text().strip()}).")
        return 0
    torch = version("torch")
    if torch is None:
        raise SetupError("torch is not installed. This script keeps the torch you have and never installs "
                         "one itself: install torch for your machine first (https://pytorch.org), then re-run.")
    before = installed()
    if version("torchaudio") is None:
        print(f"torchaudio is missing: installing {torchaudio_install(torch)[0]} to match torch {torch} ...")
        pip("install", *torchaudio_install(torch))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.writelines(f"{name}=={v}\n" for name in KEEP if (v := version(name)) is not None)
    pip("install", "-c", constraints.name, "-e", str(ROOT))
    Path(constraints.name).unlink()
    if version("torch") != torch:
        raise SetupError(f"torch changed from {torch} to {version('torch')}: that should not happen; "
                         "restart the runtime (Runtime > Restart session) and run the cell again.")
    if not imports_in_a_fresh_interpreter():
        raise SetupError("The install finished but `import course_utils` fails in a fresh interpreter; "
                         f"run `{sys.executable} -c 'import course_utils'` to see why.")
    after = installed()
    changed = sorted(f"{n}=={v}" for n, v in after.items() if before.get(n) != v)
    MARKER.write_text(f"torch {torch}, torchaudio {version('torchaudio')}, course_utils {version('course-utils')}\n")
    print("Installed:", ", ".join(changed) if changed else "nothing new")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SetupError as error:
        print(f"Course setup failed: {error}", file=sys.stderr)
        sys.exit(1)
