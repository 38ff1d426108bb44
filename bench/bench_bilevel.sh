#!/usr/bin/env bash
# Bilevel benchmarks on `reweight` (m = 100 blocks, the problem of configs/bsvrb1-reweight.ini):
#   tune     step-size grid of every method at I = 10, B = 32 -> bench/results/bilevel-tune.csv,
#            the chosen settings -> bench/results/bilevel-tuned.txt
#   speedup  iterations / time / oracle calls / bytes to F <= TARGET for I in {1,5,10,25},
#            B in {8,32,128}, every method at its tuned setting -> bench/results/bilevel-speedup.csv
#   split    cost split of bsvrb1/bsvrb2 at I = 10, B = 32, np 1, 2, 4, reweight-pool 4 and 2,
#            3 repetitions -> bench/results/bilevel-split.csv; the MPI / GEMM ceilings of the same
#            sizes (build/bench/bench_bilevel) -> bench/results/bilevel-ceiling.csv
#   plot     docs/figures/bilevel-speedup.png, docs/figures/bilevel-split.png and the Markdown
#            tables (stdout) from the CSVs
# Load averages before/after every phase go to bench/results/bilevel-load.txt.
#   retune   every "> cap" configuration of the speedup phase again with the x step ÷ 3 and ÷ 10
#            -> bench/results/bilevel-retune.csv (run it after speedup; not in the default phases)
#   yield    the np 2 split with Open MPI yielding while it waits (not in the default phases)
#   stratified  the np 2 and 4 split, uniform vs --block-sampling stratified, both yielding
#            (not in the default phases)
# Usage: bench/bench_bilevel.sh [build dir, default build] [phases, default "tune speedup split plot"]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${1:-$root/build}"
shift || true
phases="${*:-tune speedup split plot}"
bin="$build/distopt"
out="$here/results"
runs="${BILEVEL_RUNS:-/tmp/distopt-bilevel-runs}"
py=/usr/bin/python3   # has h5py
plot="$here/plot_bilevel.py"
target=0.580          # F(x0) = 0.6119 on this problem; see docs/results-bilevel.md
mkdir -p "$out" "$root/docs/figures" "$runs"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none)
# The config's problem without its method-specific keys (bsvrb-tau is an error for f2sa/stocbio).
base="$runs/reweight-base.ini"
grep -v -e '^#' -e '^algorithm' -e '^lr' -e '^bsvrb-tau' -e '^output' -e '^rounds' -e '^eval-every' \
  "$root/configs/bsvrb1-reweight.ini" > "$base"
load() { echo "$1 $(date -u +%FT%TZ) $(uptime)" >> "$out/bilevel-load.txt"; }

# run NP METHOD I B CAP EVAL TAG ARGS... : one run to the target, one CSV line on stdout.
run() {
  local np=$1 method=$2 I=$3 B=$4 cap=$5 ev=$6 tag=$7; shift 7
  local h5="$runs/$tag.h5"
  rm -f "$h5"
  "${mpi[@]}" -np "$np" "$bin" train --config "$base" --algorithm "$method" \
    --blocks-per-iter "$I" --block-batch "$B" --rounds "$cap" --eval-every "$ev" \
    --target-metric "loss<$target" --output "$h5" "$@" < /dev/null > "$runs/$tag.log" 2>&1 || true
  "$py" "$plot" row "$h5" "$target" "$method,$I,$B,$cap,$ev,\"$*\""
}

# ---- step-size grids at I = 10, B = 32 (np 2), cap 2000 iterations, F every 25 ----
grid() {
  case $1 in
    bsvrb1)
      for lr in 100 300 1000 3000 10000 30000 100000; do
        for tau in 0.5 1; do echo "--lr $lr --bsvrb-tau $tau"; done
      done ;;
    bsvrb2)  # tau 1 (v2's default) stayed above 0.585 for lr 100..10000 in a first run
      for lr in 100 300 1000 3000 10000; do
        for tau in 0.25 0.5; do echo "--lr $lr --bsvrb-tau $tau"; done
      done ;;
    f2sa)
      for xi in 300 1000 3000 10000; do
        for lam in "--f2sa-lambda0 3 --f2sa-lambda-max 3" "--f2sa-lambda0 10 --f2sa-lambda-max 10" \
                   "--f2sa-lambda0 30 --f2sa-lambda-max 30" \
                   "--f2sa-lambda0 1 --f2sa-lambda-step 0.1 --f2sa-lambda-max 10"; do
          echo "--f2sa-xi $xi --f2sa-alpha 0.05 --f2sa-gamma 0.1 --f2sa-inner-steps 10 $lam"
        done
      done ;;
    stocbio)
      for lr in 1000 3000 10000 30000; do echo "--lr $lr"; done ;;
  esac
}
methods="bsvrb1 bsvrb2 f2sa stocbio"
header="method,I,B,cap,eval_every,args,reached,iters,steps_time,wall_time,grad_evals,hvp_evals,jvp_evals,hessian_evals,bytes_up,loss_at_stop,min_loss"

if [[ " $phases " == *" tune "* ]]; then
  load "tune-before"
  # TUNE_METHODS="..." tunes a subset; TUNE_APPEND=1 appends to the existing CSV.
  [ "${TUNE_APPEND:-0}" = 1 ] || echo "$header" > "$out/bilevel-tune.csv"
  n=0
  for m in ${TUNE_METHODS:-$methods}; do
    while read -r args; do
      n=$((n + 1))
      # shellcheck disable=SC2086
      run 2 "$m" 10 32 2000 25 "tune-$m-$n-$RANDOM" $args >> "$out/bilevel-tune.csv"
    done < <(grid "$m")
  done
  "$py" "$plot" choose "$out/bilevel-tune.csv" > "$out/bilevel-tuned.txt"
  load "tune-after"
fi

if [[ " $phases " == *" speedup "* ]]; then
  load "speedup-before"
  # SPEEDUP_METHODS="..." runs a subset; SPEEDUP_APPEND=1 appends to the existing CSV.
  [ "${SPEEDUP_APPEND:-0}" = 1 ] || echo "$header" > "$out/bilevel-speedup.csv"
  for m in ${SPEEDUP_METHODS:-$methods}; do
    args=$(awk -F'\t' -v m="$m" '$1 == m { print $2 }' "$out/bilevel-tuned.txt")
    for B in 8 32 128; do
      for I in 1 5 10 25; do
        ev=$(( 250 / I > 25 ? 250 / I : 25 ))   # 250, 50, 25, 25
        case $I in 1) cap=10000 ;; 5) cap=4000 ;; 10) cap=2000 ;; *) cap=1000 ;; esac
        # shellcheck disable=SC2086
        run 2 "$m" "$I" "$B" "$cap" "$ev" "speedup-$m-I$I-B$B" $args >> "$out/bilevel-speedup.csv"
      done
    done
  done
  load "speedup-after"
fi

if [[ " $phases " == *" split "* ]]; then
  load "split-before"
  echo "method,pool,np,rep,rounds,time_block_kernels,time_aggregation,time_steps,bytes_up" \
    > "$out/bilevel-split.csv"
  echo "kind,np,I,B,d,bytes_per_rank,median_us" > "$out/bilevel-ceiling.csv"
  for np in 1 2 4; do
    for rep in 1 2 3; do
      for pool in 4 2; do
        rounds=2000; [ "$pool" -eq 2 ] && rounds=400
        for m in bsvrb1 bsvrb2; do
          args=$(awk -F'\t' -v m="$m" '$1 == m { print $2 }' "$out/bilevel-tuned.txt")
          h5="$runs/split-$m-p$pool-np$np-$rep.h5"
          rm -f "$h5"
          # shellcheck disable=SC2086
          "${mpi[@]}" -np "$np" "$bin" train --config "$base" --algorithm "$m" \
            --reweight-pool "$pool" --blocks-per-iter 10 --block-batch 32 --rounds "$rounds" \
            --eval-every "$rounds" --output "$h5" $args > "$runs/split.log" 2>&1
          "$py" "$plot" split-row "$h5" "$m,$pool,$np,$rep,$rounds" >> "$out/bilevel-split.csv"
        done
      done
    done
    "${mpi[@]}" -np "$np" "$build/bench/bench_bilevel" 10 32 2000 50 197 | grep -v '^#' \
      >> "$out/bilevel-ceiling.csv"
  done
  load "split-after"
fi

if [[ " $phases " == *" plot "* ]]; then
  "$py" "$plot" plot "$out" "$root/docs/figures" "$target"
fi

# ---- retune: every speedup configuration that stayed above the target, again with the x step
# divided by 3 and by 10 (lr for bsvrb*/stocbio, f2sa-xi for f2sa), the rest as tuned ----
if [[ " $phases " == *" retune "* ]]; then
  load "retune-before"
  echo "$header" > "$out/bilevel-retune.csv"
  while IFS=, read -r m I B cap ev; do
    args=$(awk -F'\t' -v m="$m" '$1 == m { print $2 }' "$out/bilevel-tuned.txt")
    for div in 3 10; do
      new=$("$py" -c 'import sys
a = sys.argv[1].split(); k = "--f2sa-xi" if sys.argv[2] == "f2sa" else "--lr"
i = a.index(k); a[i + 1] = "%g" % (float(a[i + 1]) / float(sys.argv[3])); print(" ".join(a))' \
        "$args" "$m" "$div")
      # shellcheck disable=SC2086
      run 2 "$m" "$I" "$B" "$cap" "$ev" "retune-$m-I$I-B$B-d$div" $new >> "$out/bilevel-retune.csv"
    done
  done < <("$py" -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["reached"] != "yes": print(",".join(r[k] for k in ("method", "I", "B", "cap", "eval_every")))' \
    "$out/bilevel-speedup.csv")
  load "retune-after"
fi

# ---- yield: the np 2 cost split again with Open MPI yielding the core while it waits
# (mpi_yield_when_idle 1; Open MPI enables it by itself only when np > cores, i.e. at np 4 here)
# -> appended to bench/results/bilevel-split.csv with method "<name>+yield" ----
if [[ " $phases " == *" yield "* ]]; then
  load "yield-before"
  for rep in 1 2 3; do
    for pool in 4 2; do
      rounds=2000; [ "$pool" -eq 2 ] && rounds=400
      for m in bsvrb1 bsvrb2; do
        args=$(awk -F'\t' -v m="$m" '$1 == m { print $2 }' "$out/bilevel-tuned.txt")
        h5="$runs/yield-$m-p$pool-$rep.h5"
        rm -f "$h5"
        # shellcheck disable=SC2086
        "${mpi[@]}" --mca mpi_yield_when_idle 1 -np 2 "$bin" train --config "$base" \
          --algorithm "$m" --reweight-pool "$pool" --blocks-per-iter 10 --block-batch 32 \
          --rounds "$rounds" --eval-every "$rounds" --output "$h5" $args < /dev/null \
          > "$runs/yield.log" 2>&1
        "$py" "$plot" split-row "$h5" "$m+yield,$pool,2,$rep,$rounds" >> "$out/bilevel-split.csv"
      done
    done
  done
  load "yield-after"
fi

# ---- stratified: the np 2 and np 4 cost split with uniform and with stratified block sampling
# (--block-sampling stratified: every rank its share of the I blocks, so no rank waits for a
# rank with more sampled blocks), both with Open MPI yielding the core while it waits, measured
# back to back at the same load -> appended to bench/results/bilevel-split.csv with method
# "<name>+yield+<sampling>" ----
if [[ " $phases " == *" stratified "* ]]; then
  load "stratified-before"
  for np in 2 4; do
    for rep in 1 2 3; do
      for pool in 4 2; do
        rounds=2000; [ "$pool" -eq 2 ] && rounds=400
        for m in bsvrb1 bsvrb2; do
          for sampling in uniform stratified; do
            args=$(awk -F'\t' -v m="$m" '$1 == m { print $2 }' "$out/bilevel-tuned.txt")
            h5="$runs/strat-$m-p$pool-np$np-$sampling-$rep.h5"
            rm -f "$h5"
            # shellcheck disable=SC2086
            "${mpi[@]}" --mca mpi_yield_when_idle 1 -np "$np" "$bin" train --config "$base" \
              --algorithm "$m" --reweight-pool "$pool" --blocks-per-iter 10 --block-batch 32 \
              --block-sampling "$sampling" --rounds "$rounds" --eval-every "$rounds" \
              --output "$h5" $args < /dev/null > "$runs/stratified.log" 2>&1
            "$py" "$plot" split-row "$h5" "$m+yield+$sampling,$pool,$np,$rep,$rounds" \
              >> "$out/bilevel-split.csv"
          done
        done
      done
    done
  done
  load "stratified-after"
fi
