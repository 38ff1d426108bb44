#!/usr/bin/env bash
# Peak resident memory per rank of a Fashion-MNIST FedSpeed run on the MLP 784-200-10 (issue 12
# item 3; docs/performance.md, "Memory"): the options of configs/fedspeed-active-fmnist.ini (100
# clients, Dirichlet(0.3), 10% participation, 2 local epochs of batch 50), spelled out so that an
# older binary can run them too, with --problem mlp:200 and a few rounds (the peak is reached by the end of the first evaluation), at --precision float32 and
# float64, 1 and 2 ranks. Every rank runs under /usr/bin/time -v; its "Maximum resident set size"
# is printed per rank. BASELINE (optional) is another distopt binary run the same way without
# --precision (a build from before --precision existed: everything float64), for comparison.
#
# usage: bench/memory_fmnist.sh [DISTOPT] [BASELINE]
#   DISTOPT defaults to build/distopt; ROUNDS (environment) to 3, NPS to "1 2".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
distopt=$(realpath "${1:-$root/build/distopt}")
baseline=${2:-}
rounds=${ROUNDS:-3}
nps=${NPS:-1 2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure LABEL NP BINARY [--key value ...]: one run, one table row per rank.
measure() {
  local label=$1 np=$2 bin=$3
  shift 3
  rm -f "$work"/rss.*
  # Each rank execs /usr/bin/time around the binary; Open MPI gives the rank in the environment.
  mpirun -np "$np" --oversubscribe --bind-to none sh -c \
    'exec /usr/bin/time -v -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$@"' "$work" \
    "$bin" train --algorithm fedspeed --fedspeed-server active --problem mlp:200 --data fmnist \
    --partition dirichlet:0.3 --agents 100 --participation 0.1 --local-epochs 2 --batch-size 50 \
    --lr 0.05 --lr-decay 0.998 --lr-global 1 --server-opt sgd --fedspeed-lambda 10 \
    --fedspeed-rho 0.1 --fedspeed-alpha 0.9 --fedspeed-normalize true --seed 1 \
    --rounds "$rounds" --eval-every "$rounds" --output none --log-format none "$@" >/dev/null
  for f in "$work"/rss.*; do
    local kb
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$f")
    printf '| %-22s | %2d | %4s | %12.1f |\n' "$label" "$np" "${f##*.}" "$(echo "$kb / 1024" | bc -l)"
  done
}

echo "# $(uname -n), $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
echo "| run                    | np | rank | peak RSS MiB |"
echo "|------------------------|----|------|--------------|"
for np in $nps; do
  [ -n "$baseline" ] && measure "baseline (float64)" "$np" "$(realpath "$baseline")"
  measure "--precision float64" "$np" "$distopt" --precision float64
  measure "--precision float32" "$np" "$distopt" --precision float32
done
echo "# $(uptime | sed 's/.*load average/load average/') at the end"
