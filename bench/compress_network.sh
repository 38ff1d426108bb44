#!/usr/bin/env bash
# Compression on a shaped link (issue 12 item 5; docs/performance.md, "Compression on a shaped
# link"): ranks in network namespaces, one rank per namespace "host", joined by veth links shaped
# with tc tbf (scripts/netns_cluster.sh RATE=...), over Open MPI's TCP transport. For each link
# rate, rank count and problem, `bench_compress step` prints the median step time of sgd (one
# worker per rank, Fashion-MNIST, batch 32) for dense, Top-1% + EF21, PowerSGD rank 1 and 4 and
# QSGD (16 levels), with the local-gradient and raw-MPI_Allreduce ceilings of the same run.
# Root only (network namespaces).
#
# usage: bench/compress_network.sh [BUILD_DIR] [OUT_CSV]
#   BUILD_DIR defaults to build (bench_compress must be built there), OUT_CSV to
#   docs/data/compress_network.csv. Environment:
#   RATES     link rates, "none" = unshaped veth (default "none 1gbit 100mbit")
#   NPS       rank counts, one rank per host (default "2 4")
#   PROBLEMS  --problem specs (default "mlp:200 mlp:12000": d = 159010 and 9540010)
#   STEPS     timed steps per configuration (default 10; 4 for d > 1e6 at 100mbit)
#   CONFIGS   bench_compress step's configuration list (default: its five)
# This machine's kernel has no sch_netem, so no delay is added: the links differ in bandwidth only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=${2:-$root/docs/data/compress_network.csv}
rates=${RATES:-none 1gbit 100mbit}
nps=${NPS:-2 4}
problems=${PROBLEMS:-mlp:200 mlp:12000}
bin=$build/bench/bench_compress
[ -x "$bin" ] || { echo "compress_network: $bin not built" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
nc=$root/scripts/netns_cluster.sh
prefix=cn$$
export NETNS_CLUSTER_DIR=${TMPDIR:-/tmp}/netns-cluster.$prefix MPI_TIMEOUT=${MPI_TIMEOUT:-1800}
trap '"$nc" down "$prefix" >/dev/null 2>&1 || true' EXIT
header=0
: >"$out.tmp"
for rate in $rates; do
  for np in $nps; do
    if [ "$rate" = none ]; then RATE='' "$nc" up "$np" "$prefix" >/dev/null
    else RATE=$rate "$nc" up "$np" "$prefix" >/dev/null; fi
    for problem in $problems; do
      steps=${STEPS:-10}
      if [ -z "${STEPS:-}" ] && [ "$rate" = 100mbit ] && [ "$problem" = mlp:12000 ]; then steps=4; fi
      load=$(cut -d' ' -f1 /proc/loadavg)
      echo "compress_network: rate=$rate np=$np $problem steps=$steps load=$load" >&2
      "$nc" run "$prefix" -- -np "$np" "$bin" step "$problem" "$steps" 32 "${CONFIGS:-}" \
        </dev/null >"$out.run"
      if [ $header = 0 ]; then echo "rate,load1,$(head -1 "$out.run")" >>"$out.tmp"; header=1; fi
      tail -n +2 "$out.run" | sed "s/^/$rate,$load,/" >>"$out.tmp"
      tail -n +2 "$out.run" >&2
    done
    "$nc" down "$prefix" >/dev/null
  done
done
rm -f "$out.run"
mv "$out.tmp" "$out"
echo "compress_network: wrote $out" >&2
