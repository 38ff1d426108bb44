#!/usr/bin/env bash
# dfedavg / dfedsam with Q = 1 and 4 gossip steps on configs/dfedsam-fmnist.ini, and FedAvg with
# every client every round (the same local work, a server instead of the ring) as the centralised
# reference (docs/results-federated.md "Decentralized federated learning").
# Usage: bench/dfl_fmnist.sh [DISTOPT] [NP] [ROUNDS]   (prints a Markdown table; load first)
set -eu
DISTOPT=${1:-build/distopt}
NP=${2:-2}
ROUNDS=${3:-100}
SRC=$(cd "$(dirname "$0")/.." && pwd)
echo "loadavg before: $(cat /proc/loadavg)"
echo "| method | Q | test_accuracy of x̄ | loss of x̄ | consensus | bytes_per_edge_round | wall_time s |"
echo "|---|---|---|---|---|---|---|"
run() {  # label Q args...
  local label=$1 q=$2
  shift 2
  line=$(mpirun -np "$NP" --oversubscribe "$DISTOPT" train --config "$SRC/configs/dfedsam-fmnist.ini" \
    --rounds "$ROUNDS" --eval-every "$ROUNDS" --output none --log-format json "$@" </dev/null \
    2>/dev/null | grep '"round":'"$ROUNDS"',')
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("| %s | %s | %.4f | %.4f | %s | %s | %.0f |" % (sys.argv[2], sys.argv[3], r["test_accuracy"],
      r["loss"], "%.4g" % r["consensus"] if "consensus" in r else "-",
      "%d" % r["bytes_per_edge_round"] if "bytes_per_edge_round" in r else "-", r["wall_time"]))' \
    "$line" "$label" "$q"
}
for algo in dfedavg dfedsam; do
  for Q in 1 4; do run "$algo" "$Q" --algorithm "$algo" --gossip-steps "$Q"; done
done
run "fedavg (all clients)" "-" --algorithm fedavg --participation 1
echo "loadavg after: $(cat /proc/loadavg)"
