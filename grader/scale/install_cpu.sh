#!/usr/bin/env bash
# Make the grading environment, CPU only, in a new virtualenv VENV:
#
#   bash grader/scale/install_cpu.sh VENV
#
# torch and torchvision come from PyTorch's CPU index at the versions of constraints.txt (the
# PyPI wheels of torch pull in several GB of CUDA libraries a grader does not use), then every
# other package of constraints.txt except the CUDA-only ones, at its exact version; `pip check`
# fails the install if anything is missing. Gradescope's setup.sh and the grade-class workflow
# use it. The pinned versions need Python 3.11 or newer (numpy 2.4); PYTHON picks the interpreter.
set -euo pipefail

venv="${1:?usage: bash grader/scale/install_cpu.sh VENV}"
python="${PYTHON:-python3}"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "install_cpu.sh: $("$python" --version 2>&1) is too old: the pinned versions need Python 3.11 or newer" \
         "(on Gradescope, choose the Ubuntu 24.04 base image)" >&2
    exit 1
fi
cd "$source_dir"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# shellcheck disable=SC2046  # two words, torch==X torchvision==Y
"$venv/bin/python" -m pip install --no-deps --index-url https://download.pytorch.org/whl/cpu \
    $("$python" -m grader.gradescope torch-pins)
"$python" -m grader.gradescope requirements > "$venv/cpu-requirements.txt"
"$venv/bin/python" -m pip install setuptools -r "$venv/cpu-requirements.txt"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c 'import torch, torchvision; print("grading environment: torch", torch.__version__, "torchvision", torchvision.__version__)'
