#!/usr/bin/env bash
# Grade a class on a Slurm cluster: one array task per shard, then merge the shards.
#
#   cd path/to/this/repository        # the tasks run from the directory sbatch was called in
#   sbatch --array=0-7 grader/scale/slurm_grade.sh SUBMISSIONS OUT [batch options...]
#   sbatch --dependency=afterok:JOBID --wrap \
#       ".nox/_env/bin/python -m grader merge OUT/shard-*-of-8 --out OUT/merged"
#
# --array=0-(N-1) makes N shards: task I grades shard I/N (`grader batch --shard I/N`, a
# stable hash of each student id) into OUT/shard-I-of-N, with one grade process per CPU of
# the task. Options after OUT go to `grader batch` (e.g. --exercises softmax dropout).
# D2L_PYTHON is the interpreter that has the grading environment (default .nox/_env/bin/python,
# made by `python3 -m nox -s tests` or `bash grader/scale/install_cpu.sh .nox/_env`).
#SBATCH --job-name=d2l-grade
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=3G
#SBATCH --time=02:00:00
#SBATCH --output=d2l-grade-%A_%a.log
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: sbatch --array=0-(N-1) $0 SUBMISSIONS OUT [grader batch options...]" >&2
    exit 64
fi
if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
    echo "$0: run me as a Slurm job array (sbatch --array=0-(N-1) ...): SLURM_ARRAY_TASK_ID is not set" >&2
    exit 64
fi
count="${SLURM_ARRAY_TASK_COUNT:-$(( SLURM_ARRAY_TASK_MAX + 1 ))}"
if [[ "${SLURM_ARRAY_TASK_MIN:-0}" != 0 || "$count" != $(( SLURM_ARRAY_TASK_MAX + 1 )) ]]; then
    echo "$0: the array must be 0-(N-1) without gaps or steps (it is ${SLURM_ARRAY_TASK_MIN}-${SLURM_ARRAY_TASK_MAX}," \
         "$count tasks): each task grades one of N shards" >&2
    exit 64
fi
submissions="$1"
out="$2"
shift 2
index="$SLURM_ARRAY_TASK_ID"
cd "${SLURM_SUBMIT_DIR:?}"
exec "${D2L_PYTHON:-.nox/_env/bin/python}" -m grader batch "$submissions" --shard "$index/$count" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "$out/shard-$index-of-$count" "$@"
