#!/usr/bin/env bash
# DADAO (virtual time) events per second against ranks (1, 2, 4) and dimension (d = 10 ... 10000)
# on ring:64, with the ceilings measured in the same run: the single-rank event rate, and raw MPI
# ping-pong round trips of an edge event's message between two ranks. The np 1, 2, 4 runs of a
# dimension follow each other within a repetition (interleaved), so they see the same load;
# /proc/loadavg is recorded before and after every run. Writes docs/data/dadao_scaling.csv and
# docs/data/dadao_pingpong.csv, prints the table (medians over repetitions) and, with --docs,
# rewrites the "DADAO events per second" section of docs/performance.md.
#
# usage: bench/dadao_scaling.sh [BUILD_DIR] [REPS] [--docs]
#   REPS 0: no runs, rebuild the table (and the docs section) from the CSVs already there.
#   environment: DIMS (default "10 100 1000 10000"), RANKS (default "1 2 4"), EVAL_EVERY (10),
#   MPIRUN_ARGS (extra mpirun arguments, e.g. "--mca mpi_yield_when_idle 1"), OUT (CSV prefix,
#   default docs/data/dadao)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
reps=${2:-3}
docs=${3:-}
bin=$build/bench/bench_dadao_scaling
dims=${DIMS:-10 100 1000 10000}
ranks=${RANKS:-1 2 4}
every=${EVAL_EVERY:-10}
out=${OUT:-$root/docs/data/dadao}
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# shellcheck disable=SC2206
mpi=(mpirun --oversubscribe --bind-to none ${MPIRUN_ARGS:-})
# The same event budget at every rank count; fewer units of virtual time at larger d (an event
# costs O(d)), about 1-10 s at one rank.
rounds_for() { case $1 in 10) echo 500 ;; 100) echo 300 ;; 1000) echo 100 ;; *) echo 20 ;; esac; }
iters_for() { case $1 in 10|100) echo 20000 ;; 1000) echo 10000 ;; *) echo 2000 ;; esac; }
runs=$out"_scaling.csv"
pp=$out"_pingpong.csv"
if [ "$reps" -gt 0 ]; then
  "${mpi[@]}" -np 1 "$bin" run ring:64 10 1 1 header </dev/null > "$runs"
  "${mpi[@]}" -np 2 "$bin" pingpong 10 1 header </dev/null > "$pp"
  for rep in $(seq 1 "$reps"); do
    for d in $dims; do
      for np in $ranks; do
        "${mpi[@]}" -np "$np" "$bin" run ring:64 "$d" "$(rounds_for "$d")" "$every" "$rep" </dev/null >> "$runs"
      done
      "${mpi[@]}" -np 2 "$bin" pingpong "$d" "$(iters_for "$d")" "$rep" </dev/null >> "$pp"
    done
  done
else
  reps=$(tail -n +2 "$runs" | cut -d, -f6 | sort -u | wc -l)
fi
table=$(python3 "$root/bench/dadao_scaling_table.py" "$runs" "$pp")
echo "$table"
[ "$docs" = "--docs" ] || exit 0
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(lscpu | sed -n 's/^CPU(s): *//p' | head -1)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
section=$(cat <<TXT
## DADAO events per second

DADAO in virtual time (\`--clock virtual\`) on ring:64, least squares with 20 rows of dimension d
per node, node models gathered every $every units of virtual time (as \`--eval-every $every\`);
$cpu, $cores cores, $(mpirun --version | head -1), \`mpirun --oversubscribe --bind-to none\`${MPIRUN_ARGS:+ $MPIRUN_ARGS},
commit $commit, $(date -u +%Y-%m-%d). Medians over $reps interleaved repetitions (np 1, 2 and 4 of a
dimension run back to back; the ratios are taken within a repetition); *load* is the range of the
1-minute load average over the runs of the row. Raw data: docs/data/dadao_scaling.csv,
docs/data/dadao_pingpong.csv.

Reproduce: \`bench/dadao_scaling.sh BUILD_DIR $reps --docs\`${MPIRUN_ARGS:+ with MPIRUN_ARGS="$MPIRUN_ARGS"}.

$table

How to read it:
- *events* counts gradient and communication events of all nodes (each edge event once); the
  budget is the same at every rank count. ring:64 runs at the paper's λ_c = √(2χ1χ2) ≈ 644
  communication events per unit of virtual time against 64 gradient events, so 91% of the events
  are exchanges. At np 2 two of the 64 edges join the ranks: about 20 cross-rank exchanges per
  unit of virtual time, one every 17 events of a rank (*cross-rank events*).
- *identical models*: the fingerprint of the final node models is the same at every rank count
  (the engine's order changes, the bits do not).
- Ceilings measured in the same run: np 1 (no messages) and the ping-pong rate, raw
  MPI_Send/MPI_Recv round trips of one edge event's message (d + 3 doubles) between the two ranks.
TXT
)
python3 - "$root/docs/performance.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
pat = re.compile(r"^## DADAO events per second\n.*?(?=^## |\Z)", re.S | re.M)
if pat.search(text):
    text = pat.sub(lambda m: section.rstrip() + "\n\n", text)
else:
    text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
open(path, "w").write(text)
PY
