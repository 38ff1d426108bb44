#!/usr/bin/env bash
# What `distopt train` prints (issue 10): the table fits in 80 columns for each family's config,
# --show adds columns, the progress line appears (and is erased) on a terminal and never in a
# pipe, and `distopt data` writes the rows `distopt train` generates from the same spec.
# Usage: cli_progress.sh DISTOPT MPIEXEC SOURCE_DIR
set -u
DISTOPT=$1
MPIEXEC=${2:-mpirun}
SRC=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail=0
pass=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f err.txt ] && sed 's/^/     stderr: /' err.txt | head -10; }
run() { timeout 120 "$MPIEXEC" -np "${NP:-2}" --oversubscribe "$DISTOPT" "$@"; }

# ---- the default table of one config per family fits in 80 columns ----
for cfg in fedavg-synthetic ef21-topk gossip dadao bsvrb2-multitask; do
  budget=(--rounds 3)
  grep -q '^time' "$SRC/configs/$cfg.ini" && budget=(--time 3)
  if run train --config "$SRC/configs/$cfg.ini" "${budget[@]}" --eval-every 1 --output none \
      >out.txt 2>err.txt; then
    # The table: every line before the closing "done:" message.
    w=$(sed '/^done:/,$d' out.txt | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
    rows=$(sed '/^done:/,$d' out.txt | wc -l)
    if [ "$w" -le 80 ] && [ "$rows" -eq 5 ]; then ok "$cfg: table $w columns wide"; else
      bad "$cfg: table $w columns wide, $rows lines (want <= 80, 5)"; cat out.txt; fi
    if grep -q '^distopt: warning' err.txt; then bad "$cfg: unexpected warning"; fi
  else
    bad "$cfg: run failed"
  fi
done

# ---- --show adds method-specific columns (in its order, after the defaults) ----
show_case() {  # show_case NAME WANT_IN_HEADER ARGS...
  local name=$1 want=$2
  shift 2
  if run "$@" >out.txt 2>err.txt && head -1 out.txt | grep -Eq -- "$want"; then ok "$name"
  else bad "$name: header '$(head -1 out.txt)' lacks '$want'"; fi
}
show_case "--show upper_value,time_block_kernels (bilevel)" "wall_time +upper_value +time_block_kernels$" \
  train --config "$SRC/configs/bsvrb2-multitask.ini" --rounds 2 --output none --show upper_value,time_block_kernels
show_case "--show comm_events,bytes_mpi (gossip)" "wall_time +comm_events +bytes_mpi$" \
  train --config "$SRC/configs/gossip.ini" --rounds 2 --output none --show comm_events,bytes_mpi
show_case "--show client_drift (federated)" "wall_time +client_drift$" \
  train --config "$SRC/configs/fedavg-synthetic.ini" --rounds 2 --output none --show client_drift

# ---- the progress line: never in a pipe, shown and erased on a terminal ----
LONG=(train --algorithm gd --agents 4 --rounds 400 --eval-every 200 --output none)
if run "${LONG[@]}" >out.txt 2>err.txt && ! grep -q $'\r' out.txt; then ok "pipe: no carriage return"
else bad "pipe: carriage return in the output (or the run failed)"; fi
NP=1 run "${LONG[@]}" --progress always >out.txt 2>err.txt
if grep -q $'\rround 1/400' out.txt; then ok "--progress always: the line appears in a pipe"
else bad "--progress always: no progress line"; fi

# A pseudo-terminal: script(1) from util-linux if present, else python3's pty module. The terminal
# turns "\n" into "\r\n", so lines are rendered as a terminal would show them: each '\r' returns
# to column 0 and overwrites. A line left on screen would show "rounds/s" in the rendering.
on_tty() {  # on_tty OUTFILE CMD...
  local out=$1
  shift
  if command -v script >/dev/null; then
    timeout 120 script -qec "$(printf '%q ' "$@")" /dev/null >"$out" 2>&1
  else
    timeout 120 python3 -c 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)' "$@" >"$out" 2>&1
  fi
}
render() {  # what a terminal shows of file $1
  python3 -c '
import sys
for raw in open(sys.argv[1], "rb").read().decode("utf-8", "replace").split("\n"):
    screen = ""
    for part in raw.split("\r"):
        screen = part + screen[len(part):]
    print(screen.rstrip())' "$1"
}
for np in 1 2; do
  on_tty tty.txt "$MPIEXEC" -np $np --oversubscribe "$DISTOPT" "${LONG[@]}"
  render tty.txt >screen.txt
  if grep -q $'\rround [0-9]*/400 ' tty.txt && ! grep -q 'rounds/s' screen.txt &&
      grep -q '^ *400 ' screen.txt && grep -q '^done: 400 rounds' screen.txt; then
    ok "np $np terminal: the line appears and is erased ($(grep -o $'\rround [0-9]*/400' tty.txt | wc -l) draws)"
  else
    bad "np $np terminal: progress line missing or left on screen"
    sed 's/^/     screen: /' screen.txt | head -20
  fi
done
on_tty tty.txt "$MPIEXEC" -np 1 "$DISTOPT" "${LONG[@]}" --progress never
if ! grep -q 'rounds/s' tty.txt && grep -q '^done: 400' <(render tty.txt); then ok "terminal, --progress never: no line"
else bad "terminal, --progress never: a progress line"; fi
on_tty tty.txt "$MPIEXEC" -np 1 "$DISTOPT" "${LONG[@]}" --log-format json
if ! grep -q 'rounds/s' tty.txt; then ok "terminal, --log-format json: no line"
else bad "terminal, --log-format json: a progress line"; fi

# ---- one default seed: `distopt data` writes the rows `distopt train` generates ----
trajectory() {  # the JSON rows of a short run, without the wall clock
  run train --problem least-squares --rounds 5 --log-format json --output none "$@" 2>err.txt |
    grep -v '^{"message"' | sed 's/,"wall_time":[^,}]*//'
}
NP=1 run data --synthetic least-squares --output ls.h5 >/dev/null 2>err.txt
trajectory --data ls.h5 >from-file.txt
trajectory --data synthetic:least-squares >generated.txt
if [ -s from-file.txt ] && cmp -s from-file.txt generated.txt; then
  ok "data --synthetic S then train --data FILE == train --data synthetic:S (default seed)"
else
  bad "data file and generated data differ at the default seed"
  diff from-file.txt generated.txt | head -5
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
