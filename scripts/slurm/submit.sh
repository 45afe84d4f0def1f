#!/usr/bin/env bash
# Runs plain sweeps on a Slurm cluster as SHARDS array tasks, then merges them (for the main job,
# `convsweep replicate --slurm N` submits shards, merge and package itself).
#   scripts/slurm/submit.sh SHARDS OUT SWEEP.yaml [MORE.yaml ...]
# e.g. CONVSWEEP=$PWD/.build/release/convsweep scripts/slurm/submit.sh 8 results/full sweeps/full/*.yaml
# Settings for every shard: CONVSWEEP_RUN_ARGS="--runs 2000 --seed 7" scripts/slurm/submit.sh …
set -euo pipefail
shards=${1:?usage: submit.sh SHARDS OUT SWEEP.yaml [MORE.yaml ...]}
out=${2:?usage: submit.sh SHARDS OUT SWEEP.yaml [MORE.yaml ...]}
shift 2
[ "$#" -ge 1 ] || { echo "submit.sh: give at least one sweep file" >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
array=$(sbatch --parsable --export=ALL --array="1-$shards" "$here/run-shards.sbatch" "$out" "$@")
# --kill-on-invalid-dep: a failed shard cancels the merge instead of leaving it pending forever.
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" --kill-on-invalid-dep=yes "$here/merge.sbatch" "$out") \
    || { scancel "$array"; echo "submit.sh: the merge job was refused; the shards were cancelled" >&2; exit 1; }
echo "shards: job $array (1-$shards); merge: job $merge -> $out/merged"
echo "a failed shard cancels the merge; submit the same command again to resume every shard's directory"
