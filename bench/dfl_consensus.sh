#!/usr/bin/env bash
# Consensus distance, accuracy and bytes per edge of dfedavg / dfedsam against the gossip steps Q
# (docs/results-federated.md "Decentralized federated learning"), on configs/dfedsam-synthetic.ini.
# Usage: bench/dfl_consensus.sh [DISTOPT] [NP] [ROUNDS]   (prints a Markdown table; load first)
set -eu
DISTOPT=${1:-build/distopt}
NP=${2:-2}
ROUNDS=${3:-200}
SRC=$(cd "$(dirname "$0")/.." && pwd)
echo "loadavg before: $(cat /proc/loadavg)"
echo "| method | Q | consensus | test_accuracy | loss | bytes_per_edge_round | bytes_peer |"
echo "|---|---|---|---|---|---|---|"
for algo in dfedavg dfedsam; do
  for Q in 1 2 4 8; do
    line=$(mpirun -np "$NP" --oversubscribe "$DISTOPT" train --config "$SRC/configs/dfedsam-synthetic.ini" \
      --algorithm "$algo" --gossip-steps "$Q" --rounds "$ROUNDS" --eval-every "$ROUNDS" \
      --output none --log-format json </dev/null 2>/dev/null | grep '"round":'"$ROUNDS"',')
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("| %s | %s | %.4g | %.4f | %.4f | %d | %d |" % (sys.argv[2], sys.argv[3], r["consensus"],
      r["test_accuracy"], r["loss"], r["bytes_per_edge_round"], r["bytes_peer"]))' "$line" "$algo" "$Q"
  done
done
echo "loadavg after: $(cat /proc/loadavg)"
