#!/usr/bin/env bash
# Data hyper-cleaning on Fashion-MNIST (docs/results-bilevel.md, "Hyper-cleaning"): the bilevel
# run of configs/bsvrb2-hyperclean.ini at np 2, then the test accuracy of the models its learned
# weights give (per block and pooled into one model) against the same models with every weight 1
# (the noisy labels directly) and with the ideal weights, and against one model trained on the
# clean validation rows only. Writes bench/results/hyperclean-run.h5, the tables
# docs/data/hyperclean-{per-block,pooled,baselines}.csv and docs/figures/hyperclean.png. About 45
# minutes on 2 cores under load.
# Usage: bench/bench_hyperclean.sh [build dir, default build]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
out="$here/results"
tables="$root/docs/data"
cfg="$root/configs/bsvrb2-hyperclean.ini"
mkdir -p "$out" "$tables" "$root/docs/figures"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none)
uptime
"${mpi[@]}" -np 2 "$build/distopt" train --config "$cfg" --eval-every 2000 \
  --output "$out/hyperclean-run.h5" --overwrite
"${mpi[@]}" -np 2 "$build/bench/bench_hyperclean" evaluate "$cfg" "$out/hyperclean-run.h5" \
  > "$tables/hyperclean-per-block.csv"
"${mpi[@]}" -np 1 "$build/bench/bench_hyperclean" evaluate "$cfg" "$out/hyperclean-run.h5" pooled \
  > "$tables/hyperclean-pooled.csv"
"${mpi[@]}" -np 1 "$build/bench/bench_hyperclean" baselines "$cfg" > "$tables/hyperclean-baselines.csv"
/usr/bin/python3 "$here/plot_hyperclean.py" "$out/hyperclean-run.h5" "$root/docs/figures/hyperclean.png"
uptime
cat "$tables"/hyperclean-*.csv
