#!/usr/bin/env bash
# Guards against loss and resume (issue 11) that the bad-input table cannot express:
#   - a second run on an output a running run holds is refused at start (exit 2, names the path);
#   - a stale lock file (left by a killed run) does not block, and a run removes its lock file;
#   - a run whose loss becomes NaN/inf ends with termination "diverged", exit code 3, a message
#     naming the round, and its result file written;
#   - a resume with a changed --rounds continues exactly: the model equals an uninterrupted run's;
#   - a full disk (a 64 KiB tmpfs, only where mount is permitted) is named as the cause and
#     leaves no .tmp file.
# No wall time is asserted; the lock case waits for the first run's lock file, however long.
# Usage: cli_guards.sh DISTOPT MPIEXEC [NP]
set -u
DISTOPT=$1
MPIEXEC=${2:-mpirun}
NP=${3:-2}
WORK=$(mktemp -d)
MNT=""
cleanup() {
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { timeout 300 "$MPIEXEC" -np "$NP" --oversubscribe "$DISTOPT" "$@"; }
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; sed 's/^/     /' "${2:-/dev/null}" | head -20; }
BASE=(train --agents 4 --log-format none)

# ---- lock: a run long enough to be caught holding its output -------------------------------
# Started directly (not through the run function) so that $! is timeout, which forwards SIGTERM.
timeout 300 "$MPIEXEC" -np "$NP" --oversubscribe "$DISTOPT" "${BASE[@]}" --rounds 100000000 \
  --output held.h5 >first.out 2>first.err &
first=$!
for _ in $(seq 1 1200); do
  [ -e held.h5.lock ] && break
  kill -0 "$first" 2>/dev/null || break
  sleep 0.1
done
if [ -e held.h5.lock ]; then
  run "${BASE[@]}" --rounds 1 --output held.h5 >second.out 2>second.err
  rc=$?
  if [ "$rc" -eq 2 ] && [ "$(grep -c '^distopt: error:' second.err)" -eq 1 ] &&
     grep -q -- '--output: held.h5 is in use by another run' second.err; then
    ok "second run on a held output refused: $(grep '^distopt: error:' second.err)"
  else
    bad "second run on a held output: rc=$rc" second.err
  fi
else
  bad "first run never took its lock" first.err
fi
# SIGTERM to mpirun is forwarded: the first run checkpoints and ends (or mpirun kills it after
# its grace period, which may leave held.h5.lock behind). Either way the path is free again.
kill -TERM "$first" 2>/dev/null
wait "$first"
# mpirun may return before its last rank has exited and released the lock: retry for a while.
for _ in $(seq 1 30); do
  grep -q 'is in use by another run' third.err 2>/dev/null || [ ! -e third.err ] || sleep 1
  run "${BASE[@]}" --rounds 1 --output held.h5 --overwrite >third.out 2>third.err && break
  grep -q 'is in use by another run' third.err || break
done
if [ -s held.h5 ] && ! grep -q '^distopt: error:' third.err; then
  ok "the output is free once the holding run ended"
else
  bad "the output stayed blocked after the holding run ended" third.err
fi

# ---- a stale lock file does not block ------------------------------------------------------
touch stale.h5.lock
if run "${BASE[@]}" --rounds 1 --output stale.h5 >stale.out 2>&1 && [ -f stale.h5 ] &&
   [ ! -e stale.h5.lock ]; then
  ok "stale lock file does not block (and is removed)"
else
  bad "stale lock file blocked the run" stale.out
fi

# ---- divergence ----------------------------------------------------------------------------
run "${BASE[@]}" --rounds 20 --lr 1e308 --output div.h5 >div.out 2>div.err
rc=$?
if [ "$rc" -eq 3 ] && grep -q 'distopt: diverged: the loss is .* at round [0-9]' div.err &&
   [ -f div.h5 ] && "$DISTOPT" info div.h5 2>&1 | grep -q 'diverged'; then
  ok "divergence: exit 3, $(grep '^distopt: diverged' div.err)"
else
  bad "divergence: rc=$rc (want 3, a 'diverged' line and div.h5 saying diverged)" div.err
  "$DISTOPT" info div.h5 2>&1 | head -20
fi

# ---- resume with more rounds equals an uninterrupted run -----------------------------------
# The JSON rows carry every metric at full precision; those of rounds 5..8 must be equal (all but
# wall_time, and bytes_mpi, which counts this process's own MPI calls).
R=(train --agents 4 --log-format json --algorithm fedavg --lr 0.05 --reduction ordered)
run "${R[@]}" --rounds 8 --output whole.h5 >whole.json 2>whole.err &&
  run "${R[@]}" --rounds 4 --checkpoint-every 2 --output part.h5 >/dev/null 2>part.err &&
  run "${R[@]}" --rounds 8 --resume part.ckpt.h5 --output resumed.h5 >resumed.json 2>resumed.err
rc=$?
rows() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        if r.get("round", -1) > 4:
            print({k: v for k, v in r.items() if k not in ("wall_time", "bytes_mpi")})' "$1"
}
if [ "$rc" -eq 0 ] && [ "$(rows whole.json | wc -l)" -eq 4 ] &&
   [ "$(rows whole.json)" == "$(rows resumed.json)" ]; then
  ok "resume with --rounds 4 -> 8 equals the uninterrupted run"
else
  bad "resume: rc=$rc, or rows 5..8 differ from the uninterrupted run" resumed.err
  diff <(rows whole.json) <(rows resumed.json) | head -5
fi

# ---- a full disk ---------------------------------------------------------------------------
mkdir full
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
  MNT=$PWD/full
  run "${BASE[@]}" --rounds 3 --problem softmax --data synthetic:fedprox:dim=2000 --output full/r.h5 \
    >full.out 2>full.err
  rc=$?
  left=$(find full -name '*.tmp' -o -name '*.lock' | head -1)
  if [ "$rc" -eq 2 ] && grep -q '^distopt: error: .*no space left on device' full.err && [ -z "$left" ]; then
    ok "full disk named: $(grep '^distopt: error:' full.err)"
  else
    bad "full disk: rc=$rc (want 2, 'no space left on device', no .tmp left: '$left')" full.err
  fi
  umount "$MNT" && MNT=""
else
  echo "skip full-disk case: cannot mount a tmpfs here"
fi

echo "cli guards at np $NP: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
