# shellcheck shell=bash
# Sourced by every job_scripts/*.sbatch template: the one implementation of a distopt batch job
# (docs/cluster.md). A template sets its #SBATCH lines, finds this file and calls
#   distopt_job DEFAULT_CONFIG [CONFIG.ini] [--key value ...]        one run
#   distopt_sweep_task PARAMS_FILE [CONFIG.ini] [--key value ...]    one array task
# A job:
#   1. prints the job id, node list, restart count, git commit and the launcher;
#   2. keeps everything of the run in runs/<job id>/ (array: runs/<array job id>_<task id>/) under
#      the submission directory: config.ini (a copy, reused by every attempt), command.txt (each
#      attempt's command line), resolved.ini (the options as distopt resolves them), result.h5,
#      checkpoint.h5;
#   3. checks, before training, that distopt's MPI world size equals SLURM_NTASKS (a launcher
#      without PMI support starts N singletons of size 1 that would each train alone);
#   4. launches with srun (PMIx by default) or, where srun cannot launch Open MPI, mpirun;
#   5. on SIGTERM (#SBATCH --signal=B:TERM@secs before the time limit, which the batch shell
#      passes on to the ranks; --signal=TERM@secs, straight to the ranks under srun; preemption)
#      the ranks finish their round, write the checkpoint and the result file (termination
#      "signal") and exit 0; the job then requeues itself (scontrol requeue, same job id), and the
#      next attempt (SLURM_RESTART_COUNT >= 1) finds runs/<job id>/checkpoint.h5 and continues
#      with --resume, exactly where the run stopped;
#   6. exits with the launcher's status.
#
# Environment (all optional):
#   DISTOPT_ROOT      the repository (configs/, job_scripts/); the templates find it themselves
#   DISTOPT_BIN       the binary (default $DISTOPT_ROOT/build/distopt)
#   DISTOPT_LAUNCH    auto (default: srun, falling back to mpirun if srun cannot launch the
#                     ranks), srun or mpirun
#   DISTOPT_SRUN_MPI  srun's --mpi plugin (default pmix; pmi2 on clusters whose Open MPI was built
#                     with PMI-2; set it empty to use the cluster's MpiDefault)
#   DISTOPT_RUNS_DIR  where runs/<id>/ go (default $SLURM_SUBMIT_DIR/runs)
#   DISTOPT_RUN_ID    the run directory's name (default the job id): resubmitting a stopped run
#                     with DISTOPT_RUN_ID=<old id> resumes it under a new job id
#   DISTOPT_REQUEUE   1 (default): requeue a run stopped by a signal; 0: exit 0 and leave it
#   DISTOPT_NP        ranks outside SLURM (bash job_scripts/X.sbatch runs with mpirun; default 2)

# Timestamped, so the log shows when the signal came and how long a requeue took.
dj_log() { printf 'distopt-job %s: %s\n' "$(date +%T)" "$*"; }
# Fails the job with a message on stderr (the job log) and exit code $2 (default 1).
dj_die() {
  printf 'distopt-job %s: error: %s\n' "$(date +%T)" "$1" >&2
  exit "${2:-1}"
}

# A path as given if it exists relative to the submission directory (the job's cwd), else
# relative to the repository: `sbatch job_scripts/x.sbatch configs/y.ini` works from the
# repository root and from any other directory.
dj_resolve() {
  if [ -e "$1" ]; then
    realpath "$1"
  elif [ -e "$DISTOPT_ROOT/$1" ]; then
    realpath "$DISTOPT_ROOT/$1"
  else
    dj_die "$1: no such file (looked in $(pwd) and $DISTOPT_ROOT)" 2
  fi
}

# The summary's termination ("budget", "target", "signal", "callback") of result file $1, read
# with `distopt info` (no h5py or HDF5 tools needed on the cluster).
dj_termination() {
  "$DISTOPT_BIN" info "$1" 2>/dev/null | sed -n 's/^ *@termination = "\(.*\)"$/\1/p' | head -n 1
}

# Sets DJ_LAUNCH (the launcher command as an array) for launcher $1 (srun or mpirun).
dj_set_launcher() {
  case $1 in
    srun)
      # --kill-on-bad-exit: one rank that dies ends the step instead of leaving the others in a
      # collective until the time limit.
      DJ_LAUNCH=(srun --kill-on-bad-exit=1)
      [ -z "${DISTOPT_SRUN_MPI-pmix}" ] || DJ_LAUNCH+=("--mpi=${DISTOPT_SRUN_MPI-pmix}")
      ;;
    mpirun)
      # Inside an allocation Open MPI's mpirun reads the allocation itself (plm slurm, launching
      # its daemons through srun); -np makes the rank count explicit.
      DJ_LAUNCH=(mpirun -np "$DJ_NTASKS")
      # Outside an allocation (bash job_scripts/X.sbatch on a workstation) allow more ranks than
      # cores, as job_scripts/local.sh does; inside one the allocation is the limit.
      [ -n "${SLURM_JOB_ID:-}" ] || DJ_LAUNCH+=(--oversubscribe)
      # Open MPI refuses to run as root unless told (containers, CI); harmless otherwise.
      [ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
      ;;
    *) dj_die "DISTOPT_LAUNCH=$1: expected auto, srun or mpirun" 2 ;;
  esac
  DJ_LAUNCHER=$1
}

# SIGTERM to the batch shell (#SBATCH --signal=B:TERM@secs before the time limit; preemption):
# pass it on to the ranks, which finish their round, checkpoint and exit 0. Not to srun itself:
# srun answers SIGTERM by killing its tasks. scancel without --batch signals the job's steps,
# i.e. the ranks under srun; mpirun forwards a SIGTERM to every rank.
DJ_STOP=0
DJ_TRAPS=0
DJ_CHILD=""
dj_on_term() {
  DJ_STOP=1
  DJ_TRAPS=$((DJ_TRAPS + 1))
  dj_log "SIGTERM (time limit or preemption): asking the ranks to checkpoint and stop"
  [ -n "$DJ_CHILD" ] || return 0
  if [ "$DJ_LAUNCHER" = srun ]; then
    timeout 30 scancel --signal=TERM "$SLURM_JOB_ID" || dj_log "warning: scancel --signal=TERM failed"
  else
    kill -TERM "$DJ_CHILD" 2>/dev/null || true
  fi
}

# Waits for the launcher started in the background (bash runs a trap only between commands, or
# when it interrupts `wait`: hence the background launch) and returns its exit status.
dj_wait_child() {
  local st n
  while :; do
    n=$DJ_TRAPS
    st=0
    wait "$DJ_CHILD" || st=$?
    # Interrupted by the trap while the launcher still runs: wait again for its real status.
    { [ "$DJ_TRAPS" != "$n" ] && [ "$st" -gt 128 ]; } || return "$st"
  done
}

# Runs `distopt train ... --print-config` with the launcher: prints the resolved options into
# resolved.ini and the log, and checks the world size against the job's task count. In auto mode
# a failing srun (not an input error, exit 2) falls back to mpirun.
dj_preflight() {
  local status=0
  "${DJ_LAUNCH[@]}" "$DISTOPT_BIN" train "$@" --print-config >"$DJ_RUN_DIR/resolved.ini" || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 2 ] && [ "$DJ_AUTO" = 1 ] && [ "$DJ_LAUNCHER" = srun ]; then
    dj_log "srun could not launch distopt (status $status); falling back to mpirun"
    dj_set_launcher mpirun
    status=0
    "${DJ_LAUNCH[@]}" "$DISTOPT_BIN" train "$@" --print-config >"$DJ_RUN_DIR/resolved.ini" || status=$?
  fi
  [ "$status" -eq 0 ] || dj_die "distopt train --print-config failed with status $status (see above)" "$status"
  echo "----- resolved configuration (distopt train --print-config, $DJ_RUN_DIR/resolved.ini)"
  cat "$DJ_RUN_DIR/resolved.ini"
  echo "-----"
  # Exactly one line from rank 0 of one world: N singletons (a launcher without PMI) print N.
  local sizes
  sizes=$(sed -n 's/^# world_size = \([0-9]*\)$/\1/p' "$DJ_RUN_DIR/resolved.ini" | tr '\n' ' ')
  if [ "$sizes" != "$DJ_NTASKS " ]; then
    dj_die "MPI world size check failed: distopt reported world size(s) '${sizes% }' but the job \
has $DJ_NTASKS tasks (SLURM_NTASKS); the launcher '${DJ_LAUNCH[*]}' did not start one MPI job over \
the allocation (for srun, try DISTOPT_SRUN_MPI=pmix|pmi2 or DISTOPT_LAUNCH=mpirun)" 3
  fi
  dj_log "world size $DJ_NTASKS = SLURM_NTASKS: ok"
}

# distopt_job DEFAULT_CONFIG [CONFIG.ini] [--key value ...]
distopt_job() {
  local default_config=$1
  shift
  local config=$default_config
  if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    config=$1
    shift
  fi
  local arg
  for arg in "$@"; do
    case $arg in
      --output | --output=* | --checkpoint | --checkpoint=* | --resume | --resume=* | --overwrite | --overwrite=*)
        dj_die "$arg: the job script chooses the result, checkpoint and resume files (runs/<job id>/)" 2 ;;
    esac
  done

  : "${DISTOPT_ROOT:?the template sets DISTOPT_ROOT before calling distopt_job}"
  DISTOPT_BIN=${DISTOPT_BIN:-$DISTOPT_ROOT/build/distopt}
  [ -x "$DISTOPT_BIN" ] || dj_die "$DISTOPT_BIN: no distopt binary (build it, or set DISTOPT_BIN)" 2

  # ---- identity of the run ----
  local run_id restarts=${SLURM_RESTART_COUNT:-0}
  if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then
    run_id=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
  elif [ -n "${SLURM_JOB_ID:-}" ]; then
    run_id=$SLURM_JOB_ID
  else
    run_id=local-$(date +%Y%m%d-%H%M%S)-$$
  fi
  run_id=${DISTOPT_RUN_ID:-$run_id}
  DJ_NTASKS=${SLURM_NTASKS:-${DISTOPT_NP:-2}}
  DJ_RUN_DIR=${DISTOPT_RUNS_DIR:-${SLURM_SUBMIT_DIR:-$(pwd)}/runs}/$run_id
  mkdir -p "$DJ_RUN_DIR"
  DJ_RUN_DIR=$(realpath "$DJ_RUN_DIR")
  local commit
  commit=$(git -C "$DISTOPT_ROOT" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

  dj_log "job ${SLURM_JOB_ID:-none} (${SLURM_JOB_NAME:-not under SLURM}), run $run_id, attempt $((restarts + 1)) (SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-unset})"
  dj_log "nodes ${SLURM_JOB_NODELIST:-$(hostname -s)}, tasks $DJ_NTASKS, submitted from ${SLURM_SUBMIT_DIR:-$(pwd)}"
  dj_log "git commit $commit ($DISTOPT_ROOT), binary $DISTOPT_BIN"
  dj_log "run directory $DJ_RUN_DIR"

  # ---- the config: copied once, so every attempt of this run trains the same problem ----
  local src
  src=$(dj_resolve "$config")
  if [ ! -e "$DJ_RUN_DIR/config.ini" ]; then
    cp "$src" "$DJ_RUN_DIR/config.ini"
  elif ! cmp -s "$src" "$DJ_RUN_DIR/config.ini"; then
    dj_log "warning: $src changed since the first attempt; this attempt uses the copy $DJ_RUN_DIR/config.ini"
  fi
  dj_log "config $src, extra options: ${*:-(none)}"

  # ---- launcher ----
  local want=${DISTOPT_LAUNCH:-auto}
  DJ_AUTO=0
  if [ "$want" = auto ]; then
    DJ_AUTO=1
    want=mpirun
    # srun only inside a job and only if it has the MPI plugin asked for (empty: the default).
    if [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null 2>&1; then
      if [ -z "${DISTOPT_SRUN_MPI-pmix}" ] ||
        timeout 30 srun --mpi=list 2>&1 | grep -qw -- "${DISTOPT_SRUN_MPI-pmix}"; then
        want=srun
      fi
    fi
  fi
  dj_set_launcher "$want"

  # ---- this attempt: fresh, resumed, or nothing left to do ----
  local out=$DJ_RUN_DIR/result.h5 ckpt=$DJ_RUN_DIR/checkpoint.h5
  local run_args=(--config "$DJ_RUN_DIR/config.ini" "$@" --output "$out" --checkpoint "$ckpt")
  # A first attempt finds an empty run directory. Anything there means the id is not this job's
  # (job ids repeat across clusters sharing a file system, or after a controller reset): refuse
  # rather than resume or skip someone else's run, unless DISTOPT_RUN_ID named it on purpose.
  if [ "$restarts" -eq 0 ] && [ -z "${DISTOPT_RUN_ID:-}" ] && { [ -e "$out" ] || [ -e "$ckpt" ]; }; then
    dj_die "$DJ_RUN_DIR already holds a run, but this is the job's first attempt: set \
DISTOPT_RUN_ID=$run_id to continue that run, or DISTOPT_RUNS_DIR to use another directory" 2
  fi
  local before=""
  [ ! -e "$out" ] || before=$(dj_termination "$out")
  if [ -n "$before" ] && [ "$before" != signal ]; then
    # A restart after the run ended (node failure after the last write, a requeue by hand).
    dj_log "$out is complete (termination $before): nothing to do"
    return 0
  fi
  if [ -e "$ckpt" ]; then
    dj_log "resuming from $ckpt (written by an earlier attempt)"
    run_args+=(--resume "$ckpt")
  fi

  trap dj_on_term TERM
  dj_preflight "${run_args[@]}"
  dj_log "launcher $DJ_LAUNCHER: ${DJ_LAUNCH[*]}"
  {
    printf '# attempt %d, job %s, restart count %s, %s, %s\n' "$((restarts + 1))" "${SLURM_JOB_ID:-none}" \
      "${SLURM_RESTART_COUNT:-unset}" "$(date -Is)" "${SLURM_JOB_NODELIST:-$(hostname -s)}"
    printf '%q ' "${DJ_LAUNCH[@]}" "$DISTOPT_BIN" train "${run_args[@]}"
    printf '\n'
  } >>"$DJ_RUN_DIR/command.txt"

  # ---- the run ----
  local status=0 started term=""
  started=$(date +%s)
  if [ "$DJ_STOP" = 0 ]; then
    "${DJ_LAUNCH[@]}" "$DISTOPT_BIN" train "${run_args[@]}" &
    DJ_CHILD=$!
    dj_wait_child || status=$?
    DJ_CHILD=""
    # A result file written by this attempt says how the run ended (an older one is stale).
    if [ -e "$out" ] && [ "$(stat -c %Y "$out")" -ge "$started" ]; then term=$(dj_termination "$out"); fi
    dj_log "launcher exited with status $status, termination '${term:-no result file}'"
  else
    # The signal came before training started: nothing new to save.
    dj_log "stopped before the run started"
    term=signal
    status=0
  fi

  if [ "$term" = signal ]; then
    # mpirun exits 1 when it forwarded the signal although every rank checkpointed and exited 0.
    [ "$status" -eq 0 ] || dj_log "status $status ignored: the ranks stopped by signal and wrote $ckpt"
    dj_requeue "$run_id" "$ckpt" "$restarts"
    return 0
  fi
  if [ "$DJ_STOP" = 1 ] && [ -z "$term" ]; then
    # SIGTERM came while the ranks were still starting (before distopt could catch it): this
    # attempt saved nothing, and the next one starts from the last checkpoint, if any.
    dj_log "the ranks ended with status $status without a result after SIGTERM: requeueing anyway"
    dj_requeue "$run_id" "$ckpt" "$restarts"
    return 0
  fi
  return "$status"
}

# Puts the running job back in the queue under the same id; its next attempt resumes.
dj_requeue() {
  local run_id=$1 ckpt=$2 restarts=$3
  if [ "${DISTOPT_REQUEUE:-1}" != 1 ] || [ -z "${SLURM_JOB_ID:-}" ]; then
    dj_log "stopped by signal (checkpoint $ckpt); resubmit with DISTOPT_RUN_ID=$run_id to resume"
    return 0
  fi
  dj_log "stopped by signal (checkpoint $ckpt): requeueing job $SLURM_JOB_ID (restart $((restarts + 1)) resumes)"
  # The controller ends this attempt now and the job waits in PENDING under the same id (SLURM
  # holds a requeued job about two minutes before it may start again).
  timeout 60 scontrol requeue "$SLURM_JOB_ID" ||
    dj_log "warning: scontrol requeue $SLURM_JOB_ID failed (already requeued by SLURM, e.g. preempted with \
PreemptMode=REQUEUE? or the cluster forbids requeue); otherwise resubmit with DISTOPT_RUN_ID=$run_id"
}

# distopt_sweep_task PARAMS_FILE [CONFIG.ini] [--key value ...]: array task i runs line i of
# PARAMS_FILE (counting from 0; blank lines and lines starting with # are skipped), whose words
# are extra `--key value` options, after the common ones (the later option wins).
distopt_sweep_task() {
  local params
  params=$(dj_resolve "${1:?usage: sbatch --array=0-N job_scripts/sweep.sbatch PARAMS_FILE [CONFIG.ini] [--key value ...]}")
  shift
  local task=${SLURM_ARRAY_TASK_ID:?not an array task: submit with sbatch --array=0-N}
  local lines=() line
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] || lines+=("$line")
  done <"$params"
  [ "$task" -lt "${#lines[@]}" ] ||
    dj_die "array task $task but $params has only ${#lines[@]} parameter lines (use --array=0-$((${#lines[@]} - 1)))" 2
  local extra
  # Words split on whitespace, no quoting: option values in a sweep are numbers and specs.
  read -r -a extra <<<"${lines[$task]}"
  dj_log "sweep $params, task $task: ${lines[$task]}"
  local config=()
  if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    config=("$1")
    shift
  fi
  distopt_job "${DISTOPT_SWEEP_CONFIG:-configs/fedavg-synthetic.ini}" "${config[@]}" "$@" "${extra[@]}"
}
