#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (choose the
# Ubuntu 24.04 base image: the pinned versions need Python 3.11 or newer). Made by
# `nox -s gradescope -- OUT.zip` (grader/gradescope.py); it lands in /autograder/source.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip ca-certificates
bash "$source_dir/grader/scale/install_cpu.sh" /autograder/venv
# run_autograder grades as this user, who cannot write the checks, the grader or the results.
id -u d2l-grader >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin d2l-grader
chmod -R go-w "$source_dir" /autograder/venv
