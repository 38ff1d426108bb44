#!/usr/bin/env bash
# A rank killed with SIGKILL mid-run (issue 11): the job must end by itself (a `timeout` catches a
# hang; no duration is asserted), non-zero, and --resume from the last complete checkpoint must
# give a /model/x bitwise equal to an uninterrupted run of the same options.
# Usage: sigkill_resume.sh DISTOPT MPIEXEC PYTHON [NP]
#
# Only processes this script started are signalled: the rank processes are found as the children
# of the mpirun it launched (pgrep -P), one of them gets SIGKILL.
set -u
DISTOPT=$(realpath "$1")  # absolute: the script works in a temporary directory
MPIEXEC=$2
PYTHON=${3:-/usr/bin/python3}
NP=${4:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
HANG=300  # seconds before a run counts as hung (only a hang check, never a pass condition)

# A run long enough that a kill lands after the first checkpoint and before the end on any
# machine: ROUNDS doubles if a run finished before it could be killed.
opts() {
  echo train --agents 8 --problem softmax --data synthetic:fedprox:dim=30 --seed 7 \
       --rounds "$ROUNDS" --eval-every 50 --checkpoint-every 20 --log-format json
}
launch() { timeout "$HANG" "$MPIEXEC" -np "$NP" --oversubscribe "$DISTOPT" $(opts) "$@"; }

ROUNDS=600
killed=0
for attempt in 1 2 3 4 5; do
  rm -f killed.* ref.* resumed.*
  # timeout itself in the background (no subshell), so $! is its pid and mpirun its child.
  timeout "$HANG" "$MPIEXEC" -np "$NP" --oversubscribe "$DISTOPT" $(opts) --output killed.h5 \
    >killed.out 2>killed.err &
  tpid=$!
  # Wait for the first complete checkpoint (written to a temporary name, renamed when complete)
  # and for all NP rank processes, the children of the mpirun started above.
  mpirun_pid="" ranks=""
  while kill -0 "$tpid" 2>/dev/null; do
    [ -z "$mpirun_pid" ] && mpirun_pid=$(pgrep -P "$tpid" | head -1)
    [ -n "$mpirun_pid" ] && ranks=$(pgrep -P "$mpirun_pid" | sort -n | tr '\n' ' ')
    [ -e killed.ckpt.h5 ] && [ "$(wc -w <<<"$ranks")" -eq "$NP" ] && break
    sleep 0.05
  done
  victim=$(awk '{print $NF}' <<<"$ranks")  # the last rank process started
  if [ -n "$victim" ] && [ -e killed.ckpt.h5 ] && kill -KILL "$victim" 2>/dev/null; then
    wait "$tpid"
    rc=$?
    # A finished result file means the run ended before the kill took effect.
    if [ ! -e killed.h5 ]; then
      killed=1
      break
    fi
    echo "attempt $attempt: the run finished before the kill took effect; more rounds"
  else
    wait "$tpid"
    echo "attempt $attempt: the run ended (rc $?) before a rank could be killed; more rounds"
  fi
  ROUNDS=$((ROUNDS * 2))
done
if [ "$killed" -ne 1 ]; then echo "FAIL: never managed to kill a rank mid-run"; exit 1; fi
echo "np $NP: SIGKILL to rank process $victim (rank processes: $ranks) of mpirun $mpirun_pid," \
     "a run of $ROUNDS rounds"
fail=0
if [ "$rc" -eq 124 ]; then
  echo "FAIL: the job hung after one rank was killed"; sed 's/^/  stderr: /' killed.err | tail -20
  exit 1
fi
if [ "$rc" -eq 0 ]; then echo "FAIL: exit code 0 after a rank was killed"; fail=1; fi
echo "ok   the job ended by itself with exit code $rc"

cp killed.ckpt.h5 last.ckpt.h5  # what --resume reads; the copy keeps it apart from new checkpoints
if ! launch --output resumed.h5 --resume last.ckpt.h5 >resumed.out 2>resumed.err; then
  echo "FAIL: --resume from the last checkpoint"; sed 's/^/  stderr: /' resumed.err | tail -20
  exit 1
fi
# It really continued (a resume that started over would also match the reference): rank 0 says
# where, a round after the start and before the end.
at=$(grep -o 'resumed from last.ckpt.h5 at round [0-9]*' resumed.out | grep -o '[0-9]*$')
if [ -z "$at" ] || [ "$at" -le 0 ] || [ "$at" -ge "$ROUNDS" ]; then
  echo "FAIL: the resumed run did not continue from the checkpoint:"; head -3 resumed.out
  exit 1
fi
echo "ok   --resume continued from round $at of $ROUNDS"
if ! launch --output ref.h5 >ref.out 2>ref.err; then
  echo "FAIL: uninterrupted reference run"; sed 's/^/  stderr: /' ref.err | tail -20
  exit 1
fi
"$PYTHON" - <<'PY' || fail=1
import sys
import h5py
import numpy as np
with h5py.File("ref.h5", "r") as r, h5py.File("resumed.h5", "r") as s:
    a, b = r["/model/x"][...], s["/model/x"][...]
    if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
        print("FAIL: /model/x of the resumed run differs from the uninterrupted run:",
              "max |diff|", float(np.max(np.abs(a - b))) if a.shape == b.shape else "shapes differ")
        sys.exit(1)
    print(f"ok   /model/x ({a.size} values, {a.dtype}) bitwise equal to the uninterrupted run")
PY
exit $fail
