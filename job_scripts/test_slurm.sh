#!/usr/bin/env bash
# The job scripts under a real SLURM (CTest `slurm`): brings up a private one-node cluster
# (job_scripts/lib/local_cluster.sh), submits the project's own templates with sbatch from a
# scratch submission directory, and checks their result files against direct mpirun runs of the
# same options (--reduction ordered: /model/x is bitwise the same under any launcher):
#   (a) single runs: federated.sbatch (checked bitwise, plus the log and runs/<job id>/), and the
#       compression, gossip and bilevel templates (each completes with world size 2);
#   (b) a 3-task array: sweep.sbatch with job_scripts/sweeps/fedavg-lr.txt, each task's result
#       bitwise equal to a direct run with its line's --lr;
#   (c) a run longer than its time limit (--time=1, --signal=B:TERM@25): the ranks checkpoint on
#       the signal, the job requeues itself and resumes (same job id, SLURM_RESTART_COUNT >= 1)
#       until it finishes, and the result equals an uninterrupted run bitwise;
#   (d) the same with the mpirun launcher (the fallback) and a SIGTERM to the batch shell;
#   and a launcher that starts too few ranks fails the job before training (world-size check).
# Usage: test_slurm.sh DISTOPT [MPIEXEC] [PYTHON]. Exit 77 (skip) if not root or SLURM, munge or
# h5py are missing. Never asserts a wall time; every wait is bounded.
set -euo pipefail
DISTOPT=$(realpath "${1:?usage: test_slurm.sh DISTOPT [MPIEXEC] [PYTHON]}")
MPIEXEC=${2:-mpirun}
PYTHON=${3:-/usr/bin/python3}
REPO=$(realpath "$(dirname "$0")/..")

# ---- skip (77) only when this machine cannot run the test at all ----
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: the local SLURM cluster needs root"
  exit 77
fi
for c in slurmctld slurmd munged munge unmunge sbatch scontrol squeue sinfo srun scancel; do
  command -v "$c" >/dev/null 2>&1 || {
    echo "SKIP: $c missing (apt-get install slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge)"
    exit 77
  }
done
"$PYTHON" -c 'import h5py, numpy' 2>/dev/null || {
  echo "SKIP: $PYTHON has no h5py/numpy"
  exit 77
}

T0=$SECONDS
# The whole test stays below this (CTest's TIMEOUT is larger), so the EXIT trap always gets to
# tear the cluster down before CTest would kill the script.
DEADLINE=$((SECONDS + ${DISTOPT_SLURM_TEST_BUDGET:-1000}))
# Seconds left, at least 1 (timeout 0 would mean no limit).
left() {
  local s=$((DEADLINE - SECONDS))
  echo $((s > 0 ? s : 1))
}

source "$REPO/job_scripts/lib/local_cluster.sh"
WORK=$(mktemp -d /tmp/distopt-slurm-test.XXXXXX)
SUBMIT=$WORK/submit
REF=$WORK/ref
mkdir -p "$SUBMIT" "$REF"
PASSED=0
on_exit() {
  local rc=$?
  lc_teardown
  if [ "$PASSED" = 1 ]; then
    rm -rf "$WORK" "$LC_BASE"
  else
    echo "===== FAILED (status $rc): job logs, then daemon logs"
    local f
    for f in "$SUBMIT"/*.out; do
      [ -e "$f" ] || continue
      echo "----- $f"
      tail -n 80 "$f"
    done
    lc_print_logs
    echo "kept $WORK and $LC_BASE"
  fi
}
trap on_exit EXIT
# A TERM/INT (ctest, timeout) ends the script through the EXIT trap, which tears down.
trap 'exit 143' TERM INT

fail() {
  echo "FAIL: $*"
  exit 1
}
ok() { echo "ok   $*"; }

# ---- helpers ----
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
COMMON=(--reduction ordered --log-format none)
# A direct run, the reference: ref NAME CONFIG [options]
ref() {
  local name=$1 config=$2
  shift 2
  timeout -k 10 "$(left)" "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" train --config "$REPO/$config" \
    "$@" "${COMMON[@]}" --output "$REF/$name.h5" >"$REF/$name.log" 2>&1 ||
    { cat "$REF/$name.log"; fail "reference run $name"; }
}
# same_x A.h5 B.h5: /model/x bitwise equal (dtype, shape and bytes).
same_x() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py
a, b = (h5py.File(f, "r")["model/x"][()] for f in sys.argv[1:3])
sys.exit(0 if a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() else 1)
PY
}
# attr FILE GROUP NAME: an attribute as text.
attr() {
  "$PYTHON" - "$@" <<'PY'
import sys, h5py
v = h5py.File(sys.argv[1], "r")[sys.argv[2]].attrs[sys.argv[3]]
print(v.decode() if isinstance(v, bytes) else v)
PY
}
# wait_done JOB: waits for a final state (bounded), fails unless COMPLETED with exit code 0:0.
wait_done() {
  local st
  st=$(lc_wait_state "$1" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED' "$(left)") ||
    fail "job $1 did not finish in time (state $st)"
  { [ "$st" = COMPLETED ] && [ "$(lc_job_field "$1" ExitCode)" = 0:0 ]; } ||
    fail "job $1: state $st, exit code $(lc_job_field "$1" ExitCode) (want COMPLETED 0:0)"
}
# check_run LOG RUN_DIR NAME [LAUNCHER]: the log and the run directory hold what every job must
# leave; the run was launched with LAUNCHER (default srun).
check_run() {
  local log=$1 dir=$2 name=$3 launcher=${4:-srun}
  [ -f "$log" ] || fail "$name: no log $log in the submission directory"
  local want
  for want in 'distopt-job .*: job [0-9]+ ' 'nodes [^ ]+, tasks 2' 'git commit [0-9a-f]{7,}|git commit unknown' \
    '^# world_size = 2$' '^algorithm = ' 'world size 2 = SLURM_NTASKS: ok' "launcher $launcher: $launcher"; do
    grep -Eq -- "$want" "$log" || fail "$name: log $log lacks /$want/"
  done
  for f in result.h5 checkpoint.h5 config.ini command.txt resolved.ini; do
    [ "$f" = checkpoint.h5 ] && continue  # written only on a signal (or --checkpoint-every)
    [ -s "$dir/$f" ] || fail "$name: $dir/$f missing"
  done
  [ "$(attr "$dir/result.h5" config world_size)" = 2 ] || fail "$name: result world_size is not 2"
}

# wait_requeued JOB NAME: waits (bounded) for a job that may be requeued, until it ends, and
# fails unless it COMPLETED with exit code 0:0. SLURM holds a requeued job for 121 s (its
# BeginTime); it is released sooner (StartTime=now), as an administrator could, but only 3 s
# after the requeue: slurmd refuses a job credential created in the second in which the previous
# attempt's credential was revoked ("Job credential revoked", the job then FAILS), which is
# what the hold protects against.
wait_requeued() {
  local job=$1 name=$2 st held=""
  while :; do
    st=$(lc_job_field "$job" JobState)
    case $st in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED) break ;;
    esac
    if [ "$st" = PENDING ] && [ "$(lc_job_field "$job" Reason)" = BeginTime ]; then
      [ -n "$held" ] || held=$SECONDS
      if [ $((SECONDS - held)) -ge 3 ]; then
        echo "$name job $job requeued (restart $(lc_job_field "$job" Restarts)): releasing the 121 s requeue hold"
        lc_slurm scontrol update JobId="$job" StartTime=now || true
        held=""
      fi
    else
      held=""
    fi
    [ "$SECONDS" -lt "$DEADLINE" ] || fail "$name job $job did not finish in time (state $st)"
    sleep 1
  done
  { [ "$st" = COMPLETED ] && [ "$(lc_job_field "$job" ExitCode)" = 0:0 ]; } ||
    fail "$name job $job: state $st, exit code $(lc_job_field "$job" ExitCode) (want COMPLETED 0:0)"
}

# ---- the cluster ----
lc_start || fail "local SLURM cluster did not come up (status $?)"
cd "$SUBMIT"
# The job scripts must find the repository themselves (from the submitted path); the binary is
# this build's.
unset DISTOPT_ROOT DISTOPT_LAUNCH DISTOPT_SRUN_MPI DISTOPT_RUNS_DIR DISTOPT_RUN_ID DISTOPT_REQUEUE
export DISTOPT_BIN=$DISTOPT

# ---- (a) and (b) submitted together; the references run while they wait for the node ----
FED=configs/fedavg-synthetic.ini
JA=$(lc_sbatch --ntasks=2 --time=5 "$REPO/job_scripts/federated.sbatch" --rounds 20 "${COMMON[@]}") ||
  fail "sbatch federated.sbatch"
JB=$(lc_sbatch --array=0-2 --ntasks=2 --time=5 "$REPO/job_scripts/sweep.sbatch" \
  "$REPO/job_scripts/sweeps/fedavg-lr.txt" --rounds 10 "${COMMON[@]}") || fail "sbatch sweep.sbatch"
declare -A SMOKE=([compression]="--rounds 20 --eval-every 10" [gossip]="--time 10" [bilevel]="--rounds 100 --eval-every 50")
declare -A JS=()
for fam in compression gossip bilevel; do
  # shellcheck disable=SC2206
  opts=(${SMOKE[$fam]})
  JS[$fam]=$(lc_sbatch --ntasks=2 --time=5 "$REPO/job_scripts/$fam.sbatch" "${opts[@]}" "${COMMON[@]}") ||
    fail "sbatch $fam.sbatch"
done
# A launcher that starts 1 rank for a 2-task job (an srun whose MPI plugin Open MPI does not
# speak starts singletons of world size 1): the world-size check must fail the job, before
# training.
mkdir -p "$WORK/shim"
cat >"$WORK/shim/srun" <<SHIM
#!/bin/bash
[ "\${1:-}" = --mpi=list ] && exec $(command -v srun) "\$@"
while [[ "\${1:-}" == --* ]]; do shift; done
exec mpirun -np 1 "\$@"
SHIM
chmod +x "$WORK/shim/srun"
JW=$(PATH="$WORK/shim:$PATH" lc_sbatch --ntasks=2 --time=5 --job-name=wrong-size "$REPO/job_scripts/federated.sbatch" \
  --rounds 5 "${COMMON[@]}") || fail "sbatch wrong-size"
echo "submitted: federated $JA, sweep array $JB (3 tasks), compression ${JS[compression]}, gossip ${JS[gossip]}, bilevel ${JS[bilevel]}"

ref a "$FED" --rounds 20
LRS=()
while read -r line; do LRS+=("${line#--lr }"); done < <(grep -Ev '^[[:space:]]*(#|$)' "$REPO/job_scripts/sweeps/fedavg-lr.txt")
[ "${#LRS[@]}" -eq 3 ] || fail "fedavg-lr.txt should have 3 parameter lines"
for i in 0 1 2; do ref "b$i" "$FED" --rounds 10 --lr "${LRS[$i]}"; done

wait_done "$JA"
check_run "$SUBMIT/distopt-federated-$JA.out" "$SUBMIT/runs/$JA" "(a) federated.sbatch"
same_x "$SUBMIT/runs/$JA/result.h5" "$REF/a.h5" || fail "(a) /model/x differs from the direct mpirun run"
ok "(a) federated.sbatch: job $JA, runs/$JA/ complete, /model/x bitwise equal to mpirun"

for i in 0 1 2; do
  wait_done "${JB}_$i"
  check_run "$SUBMIT/distopt-sweep-${JB}_$i.out" "$SUBMIT/runs/${JB}_$i" "(b) sweep task $i"
  [ "$(attr "$SUBMIT/runs/${JB}_$i/result.h5" config lr)" = "${LRS[$i]}" ] ||
    fail "(b) task $i: lr is $(attr "$SUBMIT/runs/${JB}_$i/result.h5" config lr), want ${LRS[$i]}"
  same_x "$SUBMIT/runs/${JB}_$i/result.h5" "$REF/b$i.h5" || fail "(b) task $i: /model/x differs from mpirun --lr ${LRS[$i]}"
  ok "(b) sweep task ${JB}_$i: --lr ${LRS[$i]}, /model/x bitwise equal to mpirun"
done
for fam in compression gossip bilevel; do
  j=${JS[$fam]}
  wait_done "$j"
  check_run "$SUBMIT/distopt-$fam-$j.out" "$SUBMIT/runs/$j" "(a) $fam.sbatch"
  [ "$(attr "$SUBMIT/runs/$j/result.h5" summary termination)" != signal ] || fail "(a) $fam: stopped by signal"
  ok "(a) $fam.sbatch: job $j completed, world size 2"
done
st=$(lc_wait_state "$JW" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL' "$(left)") || fail "job $JW did not finish"
{ [ "$st" = FAILED ] && [ "$(lc_job_field "$JW" ExitCode)" = 3:0 ]; } ||
  fail "wrong-size job $JW: state $st, exit code $(lc_job_field "$JW" ExitCode) (want FAILED 3:0)"
grep -q "MPI world size check failed: distopt reported world size(s) '1' but the job has 2 tasks" \
  "$SUBMIT/wrong-size-$JW.out" || fail "wrong-size job $JW: no world-size message in its log"
[ ! -e "$SUBMIT/runs/$JW/result.h5" ] || fail "wrong-size job $JW trained anyway"
ok "world-size check: job $JW with 1 rank for 2 tasks failed before training (exit 3) with the message"

# A first attempt whose runs/<job id>/ is taken (job ids repeat across clusters) must refuse.
JX=$(lc_sbatch --ntasks=2 --time=5 --hold --job-name=taken "$REPO/job_scripts/federated.sbatch" --rounds 5 "${COMMON[@]}") ||
  fail "sbatch taken"
mkdir -p "$SUBMIT/runs/$JX"
cp "$SUBMIT/runs/$JA/result.h5" "$SUBMIT/runs/$JX/result.h5"
lc_slurm scontrol release "$JX" || fail "scontrol release $JX"
st=$(lc_wait_state "$JX" 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL' "$(left)") || fail "job $JX did not finish"
{ [ "$st" = FAILED ] && [ "$(lc_job_field "$JX" ExitCode)" = 2:0 ]; } ||
  fail "job $JX with a taken run directory: state $st, exit code $(lc_job_field "$JX" ExitCode) (want FAILED 2:0)"
grep -q "already holds a run, but this is the job's first attempt" "$SUBMIT/taken-$JX.out" ||
  fail "job $JX: no message about the taken run directory"
ok "job $JX refused the run directory it found taken (exit 2)"
echo "single runs and array: $((SECONDS - T0)) s"

# ---- (c) killed by its time limit, requeued, resumed ----
# SLURM tests time limits every 30 s, and --signal=B:TERM@25 with --time=1 fires at the first
# test at least 5 s after the start: 5-35 s into the job (measured: 26-31 s). The first attempt
# must still be training then, so the run is made to last about CAL_S seconds at this machine's
# current speed: a short calibration, then the uninterrupted reference (which measures the real
# length; made longer if it was too short), then the job, one after the other (MPI ranks that
# share the cores with another run slow down many times over). Heavier rounds (--local-steps
# 100) make the length depend less on how busy the machine is.
CAL_S=${DISTOPT_SLURM_TEST_RUN_S:-45}
LONG=(--local-steps 100)
rounds_for() {  # rounds_for RESULT.h5 SECONDS: rounds that take SECONDS at RESULT's speed
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py
s = h5py.File(sys.argv[1], "r")["summary"].attrs
r = int(float(sys.argv[2]) * int(s["rounds_done"]) / max(float(s["wall_time"]), 1e-3))
print(max(200, min(400000, r // 100 * 100)))
PY
}
ref cal "$FED" --rounds 300 --eval-every 300 "${LONG[@]}"
ROUNDS=$(rounds_for "$REF/cal.h5" "$CAL_S")
for try in 1 2 3; do
  ref c "$FED" --rounds "$ROUNDS" --eval-every $((ROUNDS / 20)) "${LONG[@]}"
  wall=$(attr "$REF/c.h5" summary wall_time)
  echo "(c) reference: $ROUNDS rounds in $wall s"
  "$PYTHON" -c "import sys; sys.exit(0 if $wall >= 0.8 * $CAL_S else 1)" && break
  [ "$try" -lt 3 ] || fail "(c) could not make a run of $CAL_S s"
  ROUNDS=$(rounds_for "$REF/c.h5" "$CAL_S")
  rm -f "$REF/c.h5"
done
for try in 1 2; do
  JC=$(lc_sbatch --ntasks=2 --time=1 --signal=B:TERM@25 "$REPO/job_scripts/federated.sbatch" \
    --rounds "$ROUNDS" --eval-every $((ROUNDS / 20)) "${LONG[@]}" "${COMMON[@]}") || fail "sbatch the time-limit job"
  echo "(c) job $JC: $ROUNDS rounds, --time=1 --signal=B:TERM@25"
  wait_requeued "$JC" "(c)"
  restarts=$(lc_job_field "$JC" Restarts)
  [ "$restarts" -eq 0 ] || break
  # The machine sped up so much that the run ended before the signal: once more, 3x longer.
  [ "$try" -eq 1 ] || fail "(c) job $JC finished without being stopped by its time limit, twice"
  echo "(c) job $JC finished before the time limit's signal: again with a run 3x longer"
  ROUNDS=$((ROUNDS * 3))
  rm -f "$REF/c.h5"
  ref c "$FED" --rounds "$ROUNDS" --eval-every $((ROUNDS / 20)) "${LONG[@]}"
done
LOG=$SUBMIT/distopt-federated-$JC.out
check_run "$LOG" "$SUBMIT/runs/$JC" "(c) time-limit job"
for want in "attempt 1 \(SLURM_RESTART_COUNT=unset\)" "termination 'signal'" "requeueing job $JC" \
  "attempt 2 \(SLURM_RESTART_COUNT=1\)" "resuming from $SUBMIT/runs/$JC/checkpoint.h5" "termination 'budget'"; do
  grep -Eq -- "$want" "$LOG" || fail "(c) log $LOG lacks /$want/"
done
[ -s "$SUBMIT/runs/$JC/checkpoint.h5" ] || fail "(c) no checkpoint in runs/$JC/"
[ "$(grep -c '^# attempt' "$SUBMIT/runs/$JC/command.txt")" -eq $((restarts + 1)) ] ||
  fail "(c) runs/$JC/command.txt should record $((restarts + 1)) attempts"
[ "$(attr "$SUBMIT/runs/$JC/result.h5" summary rounds_done)" = "$ROUNDS" ] || fail "(c) rounds_done is not $ROUNDS"
same_x "$SUBMIT/runs/$JC/result.h5" "$REF/c.h5" || fail "(c) resumed /model/x differs from the uninterrupted run"
ok "(c) job $JC: stopped by its time limit, requeued $restarts time(s) (Restarts=$restarts), resumed, /model/x bitwise equal to the uninterrupted run"
grep -E 'distopt-job .*(attempt|termination|requeueing|resuming)' "$LOG" | sed 's/^/     /'

# ---- (d) the mpirun launcher, stopped by a SIGTERM to the batch shell (what B:TERM does) ----
RD=$((ROUNDS / 4 / 100 * 100 + 100))
JD=$(DISTOPT_LAUNCH=mpirun lc_sbatch --ntasks=2 --time=5 "$REPO/job_scripts/federated.sbatch" \
  --rounds "$RD" --eval-every $((RD / 10)) "${LONG[@]}" "${COMMON[@]}") || fail "sbatch the mpirun job"
LOG=$SUBMIT/distopt-federated-$JD.out
end=$((SECONDS + $(left)))
until grep -q 'launcher mpirun: mpirun' "$LOG" 2>/dev/null; do
  [ "$SECONDS" -lt "$end" ] || fail "(d) job $JD did not start its run"
  sleep 0.5
done
sleep 2
lc_slurm scancel --batch --signal=TERM "$JD" || fail "(d) scancel --batch --signal=TERM $JD"
wait_requeued "$JD" "(d)"
check_run "$LOG" "$SUBMIT/runs/$JD" "(d) mpirun job" mpirun
for want in "SIGTERM \(time limit or preemption\)" "termination 'signal'" "requeueing job $JD" \
  "attempt 2 \(SLURM_RESTART_COUNT=1\)" "resuming from" "termination 'budget'"; do
  grep -Eq -- "$want" "$LOG" || fail "(d) log $LOG lacks /$want/"
done
ref d "$FED" --rounds "$RD" --eval-every $((RD / 10)) "${LONG[@]}"
same_x "$SUBMIT/runs/$JD/result.h5" "$REF/d.h5" || fail "(d) resumed /model/x differs from the uninterrupted run"
ok "(d) job $JD (mpirun): SIGTERM to the batch shell, checkpoint, requeued, resumed, /model/x bitwise equal"

PASSED=1
echo "slurm test passed in $((SECONDS - T0)) s"
