#!/usr/bin/env bash
# Every federated method on one Fashion-MNIST setup (docs/results-federated.md, "All methods on one
# setup"): synchronous (fedavg, scaffold, feddyn, fedspeed in both forms), asynchronous (fedbuff,
# fedfix) and decentralized (dfedavg, dfedsam, dfedsam-mgs), with heterogeneous client speeds so
# that accuracy can be read against rounds, simulated time (metric virtual_time) and bytes.
#
# usage: bench/federated_compare.sh DISTOPT OUTDIR NP MODEL ROUNDS EVAL_EVERY [EXTRA...]
#   MODEL       --problem (mlp:200, cnn:lenet5, ...)
#   ROUNDS      rounds of the synchronous methods; the others get budgets of about the same
#               number of local runs (client trainings), see "budgets" below
#   EVAL_EVERY  evaluation interval in rounds (the asynchronous methods' interval is scaled so
#               that they are evaluated about as often)
#   EXTRA       further options for every run (e.g. --precision float64)
# Writes OUTDIR/<method>.jsonl (the metric rows), OUTDIR/<method>.cmd (the exact command) and
# OUTDIR/<method>.h5; a method whose .jsonl exists is skipped. Plot and tabulate with
# bench/plot_federated_compare.py OUTDIR.
#
# Common setup: 100 clients, Dirichlet(0.3) label split, 2 local epochs of batch 50 at lr 0.05
# (×0.998 per round or server version), client speeds lognormal(0, 0.5) in local steps per unit of
# simulated time (--client-speed; a client's run of K_i steps takes K_i/s_i), server SGD with
# step 1. Budgets, in local runs: a synchronous round trains 10 clients; fedbuff aggregates
# K = 10 arrivals per server version with 20 clients in flight (so ROUNDS versions have the same
# local runs); fedfix lets all 100 clients work and aggregates every Δt = 8 units (at these speeds
# about 30 arrivals and 56 dispatches per interval, measured), so it gets ROUNDS/5 intervals; a decentralized round trains
# all 100 clients, so ROUNDS/10 rounds. Every budget is printed in the .cmd file.
set -euo pipefail
[ $# -ge 6 ] || { sed -n 2,25p "$0" >&2; exit 2; }
distopt=$1 out=$2 np=$3 model=$4 rounds=$5 every=$6
shift 6
root=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
common=(--problem "$model" --precision auto --data fmnist --partition dirichlet:0.3 --agents 100
        --local-epochs 2 --batch-size 50 --lr 0.05 --lr-decay 0.998 --lr-global 1
        --client-speed lognormal:0,0.5 --seed 1 --log-format json "$@")
div() { local v=$(( $1 / $2 )); [ "$v" -ge 1 ] || v=1; echo "$v"; }

run() {  # name config-or-empty rounds eval-every args...
  local name=$1 cfg=$2 r=$3 e=$4
  shift 4
  [ -s "$out/$name.jsonl" ] && { echo "federated_compare: $name exists, skipped" >&2; return 0; }
  local cmd=(mpirun -np "$np" --oversubscribe "$distopt" train)
  [ -n "$cfg" ] && cmd+=(--config "$root/configs/$cfg")
  cmd+=("${common[@]}" --rounds "$r" --eval-every "$e" "$@" --output "$out/$name.h5" --overwrite)
  printf '%q ' "${cmd[@]}" >"$out/$name.cmd"
  echo >>"$out/$name.cmd"
  echo "federated_compare: $name (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  local t0=$SECONDS
  "${cmd[@]}" </dev/null | grep '^{' >"$out/$name.jsonl.tmp"
  mv "$out/$name.jsonl.tmp" "$out/$name.jsonl"
  echo "federated_compare: $name took $((SECONDS - t0)) s" >&2
}

sync=(--participation 0.1)
run fedavg fedavg-fmnist.ini "$rounds" "$every" "${sync[@]}"
run scaffold scaffold-fmnist.ini "$rounds" "$every" "${sync[@]}"
run feddyn feddyn-fmnist.ini "$rounds" "$every" "${sync[@]}"
run fedspeed fedspeed-fmnist.ini "$rounds" "$every" "${sync[@]}"
run fedspeed-active fedspeed-active-fmnist.ini "$rounds" "$every" "${sync[@]}"
run fedbuff "" "$rounds" "$every" --algorithm fedbuff --buffer-size 10 --concurrency 20
run fedfix "" "$(div "$rounds" 5)" "$(div "$every" 5)" --algorithm fedfix --aggregation-interval 8
dfl=(--graph ring --weighting uniform)
run dfedavg "" "$(div "$rounds" 10)" "$(div "$every" 10)" --algorithm dfedavg "${dfl[@]}"
run dfedsam "" "$(div "$rounds" 10)" "$(div "$every" 10)" --algorithm dfedsam --sam-rho 0.01 "${dfl[@]}"
run dfedsam-mgs "" "$(div "$rounds" 10)" "$(div "$every" 10)" --algorithm dfedsam --sam-rho 0.01 \
  --gossip-steps 4 "${dfl[@]}"
echo "federated_compare: done ($out)" >&2
