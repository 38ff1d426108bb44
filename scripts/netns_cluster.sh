#!/usr/bin/env bash
# A "cluster" of N test hosts on one machine, made of network namespaces, for running Open MPI
# jobs over real TCP (root only; nothing leaves the machine). Each host I is a netns PREFIXhI with
# one interface eth0 = SUBNET.I/24, cabled by a veth pair (root side PREFIXvI) to a bridge PREFIXbr.
# The root netns gets no address on any of them (not even an IPv6 link-local one), so parallel
# clusters may use the same SUBNET. Background and measurements: docs/troubleshooting.md
# ("Running across hosts").
#
#   netns_cluster.sh up N PREFIX            make hosts PREFIXh1..PREFIXhN, write the hostfile and the
#                                           launch agent into the state dir (printed)
#   netns_cluster.sh run PREFIX -- ARGS...  mpirun ARGS... inside host 1 (hostname PREFIXh1) over
#                                           TCP, bounded by MPI_TIMEOUT; exits with mpirun's code
#   netns_cluster.sh exec PREFIX I -- CMD.. CMD inside host I, with hostname PREFIXhI
#   netns_cluster.sh rx PREFIX I            bytes host I has sent into the bridge so far
#   netns_cluster.sh down PREFIX            stop every process in the hosts (TERM, then KILL), delete
#                                           the netns, veths, bridge and state dir; idempotent
#   netns_cluster.sh leftovers PREFIX       print what of the cluster still exists; exit 1 if anything
#
# PREFIX: a lower-case letter, then up to 9 letters/digits (interface names stay <= 15 chars); make
# it unique per run, e.g. "ci$$". N: 1..99.
# Environment:
#   NETNS_CLUSTER_DIR  state dir (default ${TMPDIR:-/tmp}/netns-cluster.PREFIX); give the same to
#                      every subcommand. Holds hostfile, nsagent, env and tmp/ (Open MPI's session
#                      dirs: orte_tmpdir_base), so no /tmp/ompi.* is left behind.
#   SLOTS              slots per host in the hostfile (up; default 1)
#   SUBNET             first three octets of the hosts' /24 (up; default 10.77.0)
#   RATE               optional link shaping (up), e.g. RATE=1gbit or RATE=100mbit: on both ends of
#                      every host's veth (eth0 egress in the host, PREFIXvI egress on the bridge
#                      side) `tc qdisc add dev DEV root handle 1: tbf rate RATE burst BURST latency
#                      50ms`, so each host's link to the switch runs at RATE in each direction
#                      (BURST default 256kb: veth hands tbf 64 KB GSO packets, and with a 64kb
#                      burst 1gbit gave only 450-650 Mbit/s). Tested with one TCP stream of 50 MB
#                      between two hosts: RATE=100mbit 95.7 Mbit/s, RATE=1gbit 884-919 Mbit/s
#                      (unshaped: about 3.9 Gbit/s on this 2-core VM).
#                      Latency would be `netem delay D` as the root qdisc with the tbf as its child
#                      (parent 1:1), but this machine's kernel has no sch_netem, so it is not offered.
#   MPIEXEC            mpirun to use (run; default mpirun)
#   MPI_TIMEOUT        seconds before run's mpirun gets SIGTERM (then SIGKILL 10 s later; default 300)
#
# run passes Open MPI's settings as OMPI_MCA_* environment variables, so any `--mca NAME VALUE`
# in ARGS overrides them (giving the same --mca twice on the command line would be an error):
#   plm_rsh_agent=DIR/nsagent plm_rsh_no_tree_spawn=1 pml=ob1 btl=tcp,vader,self
#   btl_tcp_if_include=oob_tcp_if_include=SUBNET.0/24 orte_tmpdir_base=DIR/tmp
# and --hostfile DIR/hostfile (hosts are named PREFIXh1..N; the agent maps a name to its netns
# and, like ssh, hands the pre-quoted orted words to `sh -c`, after `unshare --uts` + hostname so
# that every host has its own hostname: vader's /dev/shm segment names contain it).
set -euo pipefail

die() { echo "netns_cluster: $*" >&2; exit 2; }

check_prefix() {
  [[ ${1:-} =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "PREFIX must be a lower-case letter and up to 9 letters/digits (got '${1:-}')"
}
state_dir() { echo "${NETNS_CLUSTER_DIR:-${TMPDIR:-/tmp}/netns-cluster.$1}"; }
# The hosts of PREFIX that exist, one netns name a line.
hosts_of() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1h[0-9]+\$" || true; }
# Its root-side veths and bridge that exist (exact names: prefix "ab" must not match "abv1"'s).
links_of() { ls /sys/class/net 2>/dev/null | grep -E "^$1(v[0-9]+|br)\$" || true; }

# shape DEV [NS]: RATE on DEV's egress (in netns NS if given).
shape() {
  local dev=$1 ns=${2:-} tc=(tc)
  [ -n "$ns" ] && tc=(ip netns exec "$ns" tc)
  "${tc[@]}" qdisc add dev "$dev" root handle 1: tbf rate "$RATE" burst "${BURST:-256kb}" latency 50ms
}

cmd_up() {
  [ $# -eq 2 ] || die "usage: up N PREFIX"
  local n=$1 p=$2
  [[ $n =~ ^[1-9][0-9]?$ ]] || die "N must be 1..99 (got '$n')"
  check_prefix "$p"
  local d subnet=${SUBNET:-10.77.0} slots=${SLOTS:-1}
  [[ $subnet =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "SUBNET must be three octets, e.g. 10.77.0 (got '$subnet')"
  [[ $slots =~ ^[1-9][0-9]*$ ]] || die "SLOTS must be a positive integer (got '$slots')"
  d=$(state_dir "$p")
  [ -z "$(hosts_of "$p")" ] || die "hosts of '$p' exist already (netns_cluster.sh down $p)"
  [ ! -e "$d" ] || die "state dir $d exists already"
  [ -z "$(links_of "$p")" ] || die "links of '$p' exist already: $(links_of "$p" | tr '\n' ' ')"
  [ -z "${DELAY:-}" ] || die "DELAY is not supported (needs sch_netem; see the comment at the top)"
  mkdir -p "$d/tmp"
  echo "$p" > "$d/.netns-cluster"
  # Half-built clusters are removed again.
  UP_PREFIX=$p
  trap 'rc=$?; [ $rc -eq 0 ] || cmd_down "$UP_PREFIX" >/dev/null 2>&1 || true; exit $rc' EXIT
  ip link add "${p}br" type bridge
  ip link set dev "${p}br" addrgenmode none      # no IPv6 link-local address in the root netns
  ip link set dev "${p}br" up
  local i ns
  : > "$d/hostfile"
  for ((i = 1; i <= n; i++)); do
    ns=${p}h$i
    ip netns add "$ns"
    ip link add "${p}v$i" type veth peer name eth0 netns "$ns"
    ip link set dev "${p}v$i" addrgenmode none
    ip link set dev "${p}v$i" master "${p}br" up
    ip -n "$ns" addr add "$subnet.$i/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    if [ -n "${RATE:-}" ]; then
      shape "${p}v$i"
      shape eth0 "$ns"
    fi
    echo "$ns slots=$slots" >> "$d/hostfile"
  done
  # The ssh stand-in: Open MPI calls `nsagent [ssh options] HOST WORD...`, the WORDs quoted for a
  # remote shell, so (like ssh) join them and give them to sh -c, inside HOST's netns, with its
  # own UTS namespace and hostname.
  cat > "$d/nsagent" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
ns=\$1; shift
case "\$ns" in ${p}h[0-9]*) ;; *) echo "nsagent: '\$ns' is not a host of cluster ${p}" >&2; exit 255 ;; esac
[ -e "/run/netns/\$ns" ] || { echo "nsagent: no netns '\$ns'" >&2; exit 255; }
exec ip netns exec "\$ns" unshare --uts sh -c 'hostname "\$0" && exec sh -c "\$1"' "\$ns" "\$*"
EOF
  chmod 755 "$d/nsagent"
  printf 'N=%s\nSUBNET=%s\n' "$n" "$subnet" > "$d/env"
  trap - EXIT
  echo "$d"
}

load_state() {
  check_prefix "$1"
  D=$(state_dir "$1")
  [ -f "$D/.netns-cluster" ] && [ "$(cat "$D/.netns-cluster")" = "$1" ] || die "no cluster '$1' (state dir $D)"
  # shellcheck disable=SC1091
  . "$D/env"
}

cmd_run() {
  local p=${1:-}
  shift || true
  [ "${1:-}" = "--" ] && shift
  load_state "$p"
  [ -e "/run/netns/${p}h1" ] || die "host ${p}h1 does not exist"
  if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
  export OMPI_MCA_plm_rsh_agent="$D/nsagent" OMPI_MCA_plm_rsh_no_tree_spawn=1 \
    OMPI_MCA_pml=ob1 OMPI_MCA_btl=tcp,vader,self \
    OMPI_MCA_btl_tcp_if_include="$SUBNET.0/24" OMPI_MCA_oob_tcp_if_include="$SUBNET.0/24" \
    OMPI_MCA_orte_tmpdir_base="$D/tmp"
  # mpirun runs in host 1 with hostname PREFIXh1, so host 1 is "local" and needs no orted.
  exec timeout -k 10 "${MPI_TIMEOUT:-300}" ip netns exec "${p}h1" unshare --uts \
    sh -c 'hostname "$0" && exec "$@"' "${p}h1" "${MPIEXEC:-mpirun}" --hostfile "$D/hostfile" "$@"
}

cmd_exec() {
  [ $# -ge 3 ] || die "usage: exec PREFIX I -- CMD..."
  local p=$1 i=$2
  shift 2
  [ "${1:-}" = "--" ] && shift
  check_prefix "$p"
  [ -e "/run/netns/${p}h$i" ] || die "no host ${p}h$i"
  exec ip netns exec "${p}h$i" unshare --uts sh -c 'hostname "$0" && exec "$@"' "${p}h$i" "$@"
}

cmd_rx() {
  [ $# -eq 2 ] || die "usage: rx PREFIX I"
  check_prefix "$1"
  cat "/sys/class/net/$1v$2/statistics/rx_bytes"
}

# The PIDs whose network namespace is NS (checked again by inode, so a PID reused in between is
# left alone).
pids_in() {
  local ns=$1 ino pid
  ino=$(stat -L -c %i "/run/netns/$ns" 2>/dev/null) || return 0
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ino" ] && echo "$pid"
  done
  return 0
}

cmd_down() {
  [ $# -eq 1 ] || die "usage: down PREFIX"
  local p=$1 ns pids t
  check_prefix "$p"
  set +e
  local hosts
  hosts=$(hosts_of "$p")
  # TERM everything in the hosts (mpirun then stops its job and removes its session dir), wait up
  # to 3 s, then KILL what is left and wait until it is gone.
  for ns in $hosts; do
    pids=$(pids_in "$ns")
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
  done
  for sig in TERM KILL; do
    for ((t = 0; t < 30; t++)); do
      pids=""
      for ns in $hosts; do pids="$pids $(pids_in "$ns")"; done
      [ -z "${pids// /}" ] && break
      [ $sig = KILL ] && kill -KILL $pids 2>/dev/null
      sleep 0.1
    done
  done
  for ns in $hosts; do ip netns del "$ns"; done
  # Deleting a netns deletes its veth pairs too, but not at once: delete what is still there
  # (ignoring the ones that vanish meanwhile), then wait up to 3 s until they are all gone.
  local l
  for ((t = 0; t < 30; t++)); do
    l=$(links_of "$p")
    [ -z "$l" ] && break
    for l in $l; do ip link del "$l" 2>/dev/null; done
    sleep 0.1
  done
  local d
  d=$(state_dir "$p")
  if [ -f "$d/.netns-cluster" ] && [ "$(cat "$d/.netns-cluster")" = "$p" ]; then rm -rf "$d"; fi
  set -e
  cmd_leftovers "$p" >&2
}

cmd_leftovers() {
  [ $# -eq 1 ] || die "usage: leftovers PREFIX"
  local p=$1 found=0 x d
  check_prefix "$p"
  for x in $(hosts_of "$p"); do echo "left: netns $x"; found=1; done
  for x in $(links_of "$p"); do echo "left: link $x"; found=1; done
  for x in $(ls /tmp 2>/dev/null | grep -E "^ompi\.${p}h[0-9]+\." || true); do
    echo "left: /tmp/$x"; found=1
  done
  d=$(state_dir "$p")
  [ -e "$d" ] && { echo "left: state dir $d"; found=1; }
  return $found
}

[ $# -ge 1 ] || die "usage: netns_cluster.sh up|run|exec|rx|down|leftovers ... (see the comment at the top)"
sub=$1
shift
case "$sub" in
  up) cmd_up "$@" ;;
  run) cmd_run "$@" ;;
  exec) cmd_exec "$@" ;;
  rx) cmd_rx "$@" ;;
  down) cmd_down "$@" ;;
  leftovers) cmd_leftovers "$@" ;;
  *) die "unknown subcommand '$sub' (up, run, exec, rx, down, leftovers)" ;;
esac
