#!/usr/bin/env bash
# Runs a sweep on a Slurm cluster as SHARDS array tasks, then merges them.
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
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/merge.sbatch" "$out")
echo "shards: job $array (1-$shards); merge: job $merge -> $out/merged"
