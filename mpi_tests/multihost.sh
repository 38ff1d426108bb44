#!/usr/bin/env bash
# One distopt training job across 2 "hosts" (network namespaces on this machine, Open MPI over TCP
# through veth + bridge; scripts/netns_cluster.sh), with 1 and with 2 ranks per host, against the
# one-host runs of the same options at the same rank counts. Checks:
#   - /model/x and every metric but wall_time are bitwise equal to the one-host run at the same
#     rank count (--reduction ordered);
#   - across rank counts (1, 2, 4): /model/x and every metric but wall_time and bytes_mpi are
#     bitwise equal (--reduction ordered sums the metrics in agent and test-block order too);
#   - each rank ran in the netns of the host it names (hostname = netns name, netns inode), the
#     ranks were spread 1+1 and 2+2 over 2 distinct hostnames;
#   - traffic crossed the veths: each host sent at least rounds * d * 8 bytes into the bridge (a
#     dense d-vector of doubles per round: FedAvg with every client active must exchange that);
#   - afterwards nothing is left: netns, veths, bridge, /tmp/ompi.<our hosts>*, the temp dir.
# Exit 77 (skip) only when not root or a network namespace cannot be created.
# Usage: multihost.sh DISTOPT MPIEXEC NETNS_CLUSTER_SH    (env MPI_TIMEOUT, default 120 s per job)
set -u
DISTOPT=$1
MPIEXEC=${2:-mpirun}
CLUSTER=$3
PY=${PYTHON:-/usr/bin/python3}
export MPI_TIMEOUT=${MPI_TIMEOUT:-120} MPIEXEC
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

[ "$(id -u)" -eq 0 ] || { echo "SKIP: not root (network namespaces need root)"; exit 77; }
P=dmh$$                       # per-run prefix: hosts ${P}h1 ${P}h2, veths ${P}v1 ${P}v2, bridge ${P}br
if ! { ip netns add "${P}x" && ip netns del "${P}x"; } 2>/dev/null; then
  echo "SKIP: cannot create a network namespace"; exit 77
fi
W=$(mktemp -d)
export NETNS_CLUSTER_DIR=$W/cluster
cleanup() { bash "$CLUSTER" down "$P" >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
fail=0
die() { echo "FAIL $*"; fail=1; }

ROUNDS=30
COMMON=(train --algorithm fedavg --problem softmax --data synthetic:fedprox:alpha=1,beta=1
        --partition natural --agents 8 --participation 1 --local-steps 5 --batch-size 10 --lr 0.01
        --rounds $ROUNDS --eval-every 5 --reduction ordered --log-format none)

# One-host runs (plain mpirun in the root netns, default transports).
for np in 1 2 4; do
  timeout -k 10 "$MPI_TIMEOUT" "$MPIEXEC" -np $np --oversubscribe --mca orte_tmpdir_base "$W" \
    "$DISTOPT" "${COMMON[@]}" \
    --output "$W/one-np$np.h5" >"$W/one-np$np.txt" 2>&1 &
  wait $! || { cat "$W/one-np$np.txt"; echo "FAIL one-host run at np $np"; exit 1; }
done

# Each rank says where it runs, then becomes distopt (exec: same process, same MPI rank).
cat >"$W/where.sh" <<'EOF'
#!/bin/sh
echo "where rank=$OMPI_COMM_WORLD_RANK host=$(hostname) netns=$(stat -L -c %i /proc/self/ns/net)" >&2
exec "$@"
EOF
chmod 755 "$W/where.sh"

SLOTS=2 bash "$CLUSTER" up 2 "$P" >/dev/null || { echo "FAIL netns_cluster.sh up"; exit 1; }
ino1=$(stat -L -c %i "/run/netns/${P}h1")
ino2=$(stat -L -c %i "/run/netns/${P}h2")

# run_multi NAME NP MAP-ARGS...: the job over the two hosts; checks placement and veth traffic.
run_multi() {
  local name=$1 np=$2 ppn=$3
  shift 3
  local a1 a2 b1 b2 rc
  a1=$(bash "$CLUSTER" rx "$P" 1); a2=$(bash "$CLUSTER" rx "$P" 2)
  bash "$CLUSTER" run "$P" -- -np "$np" "$@" "$W/where.sh" "$DISTOPT" "${COMMON[@]}" \
    --output "$W/$name.h5" >"$W/$name.txt" 2>&1 &
  wait $!
  rc=$?
  b1=$(bash "$CLUSTER" rx "$P" 1); b2=$(bash "$CLUSTER" rx "$P" 2)
  if [ $rc -ne 0 ]; then cat "$W/$name.txt"; die "$name: mpirun exited $rc"; return; fi
  grep '^where ' "$W/$name.txt" | sort
  # Every rank 0..np-1 once; ppn ranks per host; host name and netns agree.
  local ranks hosts bad
  ranks=$(grep -c '^where ' "$W/$name.txt")
  [ "$ranks" -eq "$np" ] || die "$name: $ranks ranks reported where they run, want $np"
  [ "$(grep '^where ' "$W/$name.txt" | sed 's/.*rank=\([0-9]*\).*/\1/' | sort -un | wc -l)" -eq "$np" ] \
    || die "$name: rank numbers repeat"
  hosts=$(grep '^where ' "$W/$name.txt" | sed 's/.*host=\([^ ]*\).*/\1/' | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
  [ "$hosts" = "${P}h1x$ppn ${P}h2x$ppn " ] || die "$name: ranks per host '$hosts', want ${P}h1x$ppn ${P}h2x$ppn"
  bad=$(grep '^where ' "$W/$name.txt" | grep -v -e "host=${P}h1 netns=$ino1\$" -e "host=${P}h2 netns=$ino2\$")
  [ -z "$bad" ] || die "$name: a rank's hostname and netns disagree: $bad"
  # Traffic over the veths: rx of the bridge-side end = what the host sent.
  local min=$((ROUNDS * D * 8)) s1=$((b1 - a1)) s2=$((b2 - a2))
  echo "$name: h1 sent $s1 bytes, h2 sent $s2 bytes over the veths (each must be >= $min)"
  [ $s1 -ge $min ] && [ $s2 -ge $min ] || die "$name: too little traffic crossed the veths"
}

D=$("$PY" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['model/x'].shape[0])" "$W/one-np1.h5")
[ "$D" -gt 100 ] || die "model dimension $D is too small for the traffic bound"
run_multi multi-2x1 2 1 --map-by ppr:1:node
run_multi multi-2x2 4 2 --map-by ppr:2:node

# Bitwise comparisons of the result files.
[ $fail -eq 0 ] && { "$PY" - "$W" <<'PY' || fail=1; }
import sys, h5py, numpy as np
w = sys.argv[1]
f = {n: h5py.File(f"{w}/{n}.h5", "r") for n in ["one-np1", "one-np2", "one-np4", "multi-2x1", "multi-2x2"]}
bad = []
def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
def metrics(n):
    return {k: f[n]["metrics"][k][()] for k in f[n]["metrics"]}
# Same rank count, one host against two: the model and every metric but wall_time.
for multi, one in [("multi-2x1", "one-np2"), ("multi-2x2", "one-np4")]:
    if int(f[multi]["config"].attrs["world_size"]) != int(f[one]["config"].attrs["world_size"]):
        bad.append(f"{multi}: world_size differs from {one}")
    if not same(f[multi]["model/x"][()], f[one]["model/x"][()]):
        bad.append(f"{multi}: /model/x differs from {one}")
    m, o = metrics(multi), metrics(one)
    if sorted(m) != sorted(o):
        bad.append(f"{multi}: metric names differ from {one}")
    for k in sorted(set(m) & set(o) - {"wall_time"}):
        if not same(m[k], o[k]):
            bad.append(f"{multi}: metric {k} differs from {one}")
    print(f"{multi} == {one}: /model/x ({f[one]['model/x'].shape[0]} values) and {len(m) - 1} metrics bitwise")
# Across rank counts: the model and every metric bitwise (--reduction ordered sums the metrics in
# agent and test-block order too), except what measures the machine.
ref = metrics("one-np1")
x1 = f["one-np1"]["model/x"][()]
for n in ["one-np2", "one-np4", "multi-2x1", "multi-2x2"]:
    if not same(f[n]["model/x"][()], x1):
        bad.append(f"{n}: /model/x differs from one-np1")
    m = metrics(n)
    for k in sorted(set(m) & set(ref) - {"wall_time", "bytes_mpi"}):
        if not same(m[k], ref[k]):
            bad.append(f"{n}: metric {k} differs from one-np1")
print("across np 1, 2, 4: /model/x and every metric but wall_time and bytes_mpi bitwise")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PY

# Teardown, then nothing may be left.
bash "$CLUSTER" down "$P" || die "netns_cluster.sh down left something"
rm -rf "$W"
left=$(bash "$CLUSTER" leftovers "$P")
[ -z "$left" ] || die "left behind: $left"
[ ! -e "$W" ] || die "left behind: $W"
trap - EXIT
[ $fail -eq 0 ] && echo "multihost: OK" || echo "multihost: FAILED"
exit $fail
