#!/usr/bin/env bash
# Install nussl 1.1.9 into the current Python environment: an OPTIONAL extra.
#
# nussl (the Northwestern University Source Separation Library) is deprecated upstream since
# December 2024. Only tests/test_nussl_crosscheck.py and one optional cell of notebook
# 04_classical_separation use it; both skip with a message when it is missing. Nothing else
# depends on it.
#
# Why not `pip install nussl`: its dependency soxbindings has no wheel for current Pythons and
# needs the libsox-dev headers to build. nussl itself never needs it for what the course calls,
# so this script installs nussl without dependencies, then every other dependency it declares.
# The versions of everything already installed are held fixed (a constraints file written from
# `pip freeze`), so numpy, scipy, librosa, torch, ... stay as they are; only new packages are
# added (jams, zarr, tensorboard, gpytorch, pytorch-ignite, norbert, pyloudnorm, sox, ...).
# `import nussl` also needs three SciPy names that SciPy 1.13 moved: import it through
# `course_utils.classical.import_nussl()`, which puts them back first.
#
# Usage (from the repository):  bash tools/install_nussl.sh            # uses .venv if present
#                               PYTHON=/path/to/python bash tools/install_nussl.sh
# Afterwards `pip check` reports "nussl 1.1.9 requires soxbindings": expected, and harmless here.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
echo "Installing nussl 1.1.9 into $("$PYTHON" -c 'import sys; print(sys.prefix)')"

constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
"$PYTHON" -m pip freeze --exclude-editable > "$constraints"

"$PYTHON" -m pip install --no-deps "nussl==1.1.9"

# nussl's declared dependencies (no extras), minus soxbindings, read from its metadata
mapfile -t deps < <("$PYTHON" - <<'EOF'
from importlib.metadata import requires
from packaging.requirements import Requirement

for line in requires("nussl") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # an extra (docs, tests, melodia)
    if req.name.lower() != "soxbindings":
        print(str(req).split(";")[0].strip())
EOF
)
echo "Dependencies: ${deps[*]}"
"$PYTHON" -m pip install -c "$constraints" "${deps[@]}"

"$PYTHON" - <<'EOF'
import sys

from course_utils.classical import import_nussl

module, reason = import_nussl()
print(reason)
sys.exit(0 if module is not None else 1)
EOF
