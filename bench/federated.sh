#!/usr/bin/env bash
# Federated benchmark on Fashion-MNIST (docs/results-federated.md): test accuracy against rounds for
# FedAvg, FedProx, SCAFFOLD, FedDyn and FedSpeed with 100 clients (Dirichlet 0.3 and IID), 10%
# participation, batch 50, for softmax regression and the MLP 784-200-10, plus a small FedSpeed
# grid over (lambda, rho, alpha) of the printed Algorithm 1 (--fedspeed-server active). Every run is
# `distopt train --config configs/<method>-fmnist.ini` with the overrides printed in its log file;
# the metric stream (JSON lines) is kept in OUT. Run names: fedspeed-active (configs/
# fedspeed-active-fmnist.ini, the printed Algorithm 1) and fedspeed-all (configs/fedspeed-fmnist.ini,
# the default: the authors' code); runs named fedspeed or fedspeed-sim (before issue 13) are not
# reused.
#
# usage: bench/federated.sh [BUILD_DIR] [OUT_DIR] [NP]
#   BUILD_DIR defaults to build-bench, OUT_DIR to BUILD_DIR/federated-runs, NP (ranks) to 2.
#   SOFTMAX_ROUNDS / MLP_ROUNDS (environment) override the budgets (200 / 100).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
out=${2:-$build/federated-runs}
np=${3:-2}
softmax_rounds=${SOFTMAX_ROUNDS:-200}
mlp_rounds=${MLP_ROUNDS:-100}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDISTOPT_NATIVE=ON >/dev/null
cmake --build "$build" --target distopt -j2 >/dev/null

# run NAME METHOD [--key value ...]: one run, metrics to OUT/NAME.jsonl (skipped if present).
run() {
  local name=$1 method=$2
  shift 2
  local log=$out/$name.jsonl
  if [[ -s $log ]] && grep -q '"round"' "$log"; then return; fi
  local cmd=(mpirun -np "$np" --oversubscribe "$build/distopt" train --config "$root/configs/$method-fmnist.ini"
             --log-format json --output "$out/$name.h5" --overwrite "$@")
  echo "${cmd[*]}" >"$out/$name.cmd"
  echo "[$(date +%H:%M:%S)] $name"
  "${cmd[@]}" >"$log.tmp" 2>"$out/$name.err"
  mv "$log.tmp" "$log"
}

methods=(fedavg fedprox scaffold feddyn fedspeed-active fedspeed)
for model in softmax mlp; do
  if [[ $model == softmax ]]; then
    extra=(--problem softmax --rounds "$softmax_rounds" --eval-every 5)
  else
    extra=(--problem mlp:200 --rounds "$mlp_rounds" --eval-every 10)
  fi
  for part in dirichlet:0.3 iid; do
    tag=${part%%:*}
    for m in "${methods[@]}"; do
      name=$m
      [[ $m == fedspeed ]] && name=fedspeed-all
      run "$model-$tag-$name" "$m" "${extra[@]}" --partition "$part"
    done
  done
done

# FedSpeed grid (Dirichlet 0.3), printed Algorithm 1: softmax over lambda x rho x alpha, MLP over a
# few points.
for lam in 0.1 0.3 1 10 100; do
  for rho in 0.01 0.1; do
    for alpha in 0.5 0.9; do
      run "grid-softmax-l$lam-r$rho-a$alpha" fedspeed-active --problem softmax --rounds "$softmax_rounds" \
        --eval-every 5 --partition dirichlet:0.3 --fedspeed-lambda $lam --fedspeed-rho $rho --fedspeed-alpha $alpha
    done
  done
done
for cfg in "0.1 0.1 0.9" "0.3 0.1 0.9" "1 0.1 0.9" "100 0.1 0.9" "10 0.01 0.5"; do
  read -r lam rho alpha <<<"$cfg"
  run "grid-mlp-l$lam-r$rho-a$alpha" fedspeed-active --problem mlp:200 --rounds "$mlp_rounds" --eval-every 10 \
    --partition dirichlet:0.3 --fedspeed-lambda $lam --fedspeed-rho $rho --fedspeed-alpha $alpha
done

# Debian's python3 has python3-matplotlib (a pyenv python earlier in PATH may not).
"${PYTHON:-/usr/bin/python3}" "$root/bench/plot_federated.py" "$out" "$root/docs/figures"
