# shellcheck shell=bash
# Sourced (not run): brings up and tears down a private one-node SLURM cluster on this machine, for
# tests of the job scripts under a real slurmctld/slurmd/munged (as root, no systemd, no cgroups,
# nothing written outside one temporary directory). It follows /work/shared/notes/slurm-local.md:
# a private munge key and socket, free ports, daemons started with -D under setsid (so their death
# shows in their PID and a `timeout` around the caller cannot kill them before teardown), bounded
# polls, and a teardown by the PIDs started here plus a sweep of every process tagged with
# SLURM_CI_TAG.
#
#   source job_scripts/lib/local_cluster.sh
#   lc_start                 # sets LC_BASE, SLURM_CONF, LC_CPUS; returns non-zero on failure
#   lc_sbatch ARGS...        # sbatch --parsable with the cluster's environment; prints the job id
#   lc_wait_state JOBID 'COMPLETED|FAILED' SECONDS
#   lc_teardown              # idempotent; call it from an EXIT trap
#
# Requires: slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge (Debian), root.

LC_PIDS=()   # munged slurmctld slurmd, in start order
LC_BASE=""

lc_log() { echo "local_cluster: $*" >&2; }

# True if nothing listens on TCP port $1 (ss from iproute2, else bash's /dev/tcp probe).
lc_port_free() {
  if command -v ss >/dev/null 2>&1; then
    ! ss -Hltn "sport = :$1" | grep -q .
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Polls "$@" (a command) every 0.2 s until it succeeds or $1 seconds pass.
lc_poll() {
  local secs=$1
  shift
  local end=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}

# Client commands retry for 60 s when the controller is unreachable: always bound them.
lc_slurm() { timeout -k 5 20 "$@"; }

lc_munge_ok() { munge -n -S "$LC_BASE/munge/munge.sock" 2>/dev/null | unmunge -S "$LC_BASE/munge/munge.sock" 2>/dev/null | grep -q 'STATUS: *Success'; }
lc_ctld_ok() { grep -q 'Running as primary controller' "$LC_BASE/log/slurmctld.log" 2>/dev/null; }
lc_node_idle() { [ "$(lc_slurm sinfo -h -n "$LC_HOST" -o %T 2>/dev/null)" = idle ]; }
lc_alive() { kill -0 "$1" 2>/dev/null; }

lc_start() {
  LC_BASE=$(mktemp -d /tmp/distopt-slurm.XXXXXX)
  LC_HOST=$(hostname -s)
  # Every daemon and every job inherits the tag: the teardown sweep finds strays by it.
  export SLURM_CI_TAG="$LC_BASE"
  export SLURM_CONF="$LC_BASE/etc/slurm.conf"
  mkdir -p "$LC_BASE"/{etc,state,spool,log,tmp,munge}
  # munged refuses a socket directory that is not o+x, even for root.
  chmod 755 "$LC_BASE" "$LC_BASE/munge"
  dd if=/dev/urandom of="$LC_BASE/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$LC_BASE/munge/munge.key"

  setsid munged -F --key-file="$LC_BASE/munge/munge.key" --socket="$LC_BASE/munge/munge.sock" \
    --pid-file="$LC_BASE/munge/munged.pid" --log-file="$LC_BASE/log/munged.log" \
    --seed-file="$LC_BASE/munge/seed" </dev/null >>"$LC_BASE/log/munged.out" 2>&1 &
  LC_PIDS+=($!)
  lc_poll 10 lc_munge_ok || { lc_log "munged did not answer"; return 2; }

  # Two consecutive free ports (controller, slurmd), away from the defaults another cluster uses.
  local port=16817
  until lc_port_free "$port" && lc_port_free $((port + 1)); do
    port=$((port + 2))
    [ "$port" -lt 17817 ] || { lc_log "no free port pair"; return 3; }
  done
  local cpus mem
  # CPUs as the machine has (at least 2, so 2-task jobs fit; config_overrides allows more).
  cpus=$(nproc)
  [ "$cpus" -ge 2 ] || cpus=2
  export LC_CPUS=$cpus
  mem=$(awk '/MemAvailable/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
  cat >"$SLURM_CONF" <<EOF
ClusterName=ci
SlurmctldHost=$LC_HOST(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$LC_BASE/munge/munge.sock
StateSaveLocation=$LC_BASE/state
SlurmdSpoolDir=$LC_BASE/spool
TmpFS=$LC_BASE/tmp
SlurmctldPidFile=$LC_BASE/slurmctld.pid
SlurmdPidFile=$LC_BASE/slurmd.pid
SlurmctldLogFile=$LC_BASE/log/slurmctld.log
SlurmdLogFile=$LC_BASE/log/slurmd.log
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
# Short waits so time-limit and requeue tests do not idle: SIGKILL 5 s after the time limit's
# SIGTERM, and the node is free again as soon as the job's processes are gone.
KillWait=5
MinJobAge=300
NodeName=$LC_HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$LC_HOST Default=YES MaxTime=30 State=UP
EOF

  setsid slurmctld -D -i </dev/null >>"$LC_BASE/log/slurmctld.out" 2>&1 &
  LC_PIDS+=($!)
  lc_poll 15 lc_ctld_ok || { lc_log "slurmctld did not start"; return 3; }
  lc_alive "${LC_PIDS[1]}" || { lc_log "slurmctld died"; return 3; }
  setsid slurmd -D </dev/null >>"$LC_BASE/log/slurmd.out" 2>&1 &
  LC_PIDS+=($!)
  lc_poll 15 lc_node_idle || { lc_log "node $LC_HOST not idle"; return 4; }
  lc_alive "${LC_PIDS[2]}" || { lc_log "slurmd died"; return 4; }
  lc_log "cluster up in $LC_BASE (ports $port, $((port + 1)))"
}

# sbatch with the job's files under the cluster's directory: Open MPI and PMIx put their session
# files under TMPDIR (sbatch exports the whole environment by default).
lc_sbatch() { TMPDIR="$LC_BASE/tmp" lc_slurm sbatch --parsable "$@"; }

lc_job_field() { lc_slurm scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# Waits until job $1's JobState matches the ERE $2, at most $3 seconds; prints the state.
lc_wait_state() {
  local end=$((SECONDS + $3)) st=""
  while :; do
    st=$(lc_job_field "$1" JobState)
    if [[ "$st" =~ ^($2)$ ]]; then
      echo "$st"
      return 0
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      echo "${st:-unknown}"
      return 1
    fi
    sleep 1
  done
}

lc_print_logs() {
  [ -n "$LC_BASE" ] && [ -d "$LC_BASE/log" ] || return 0
  local f
  for f in "$LC_BASE"/log/*; do
    echo "----- $f (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}

# Stops what lc_start started: first the jobs (killing the daemons under a running job leaves
# slurmstepd behind), then slurmd, slurmctld, munged by their PIDs, then KILL anything still
# carrying the tag (an orphaned mpirun or slurmstepd).
lc_teardown() {
  [ -n "$LC_BASE" ] || return 0
  if [ "${#LC_PIDS[@]}" -ge 2 ] && lc_alive "${LC_PIDS[1]}"; then
    lc_slurm scancel --user=root >/dev/null 2>&1 || true
    local end=$((SECONDS + 30))
    while [ -n "$(lc_slurm squeue -h -o %i 2>/dev/null)" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.5; done
  fi
  local i pid
  for ((i = ${#LC_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${LC_PIDS[$i]}
    lc_alive "$pid" || continue
    kill -TERM "$pid" 2>/dev/null || true
    local end=$((SECONDS + 10))
    while lc_alive "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
    lc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  LC_PIDS=()
  local p
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" != "$$" ] || continue
    # (processes may vanish while this loop runs, and kernel threads have no readable environ)
    if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CI_TAG=$LC_BASE"; then
      lc_log "killing stray process $pid: $({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
