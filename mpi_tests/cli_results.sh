#!/usr/bin/env bash
# distopt compare / info / plot on two short runs that differ only in --lr (issue 10).
#   cli_results.sh compare DISTOPT MPIEXEC PYTHON   compare names lr and prints both final losses;
#                                                    info takes both files
#   cli_results.sh plot DISTOPT MPIEXEC PYTHON      plot writes a PNG from the two files
set -u
MODE=$1
DISTOPT=$2
MPIEXEC=${3:-mpirun}
PYTHON=${4:-/usr/bin/python3}
export DISTOPT_PYTHON=$PYTHON  # the interpreter `distopt plot` runs
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail=0
die() { echo "FAIL $*"; fail=1; }

COMMON=(train --agents 4 --rounds 5 --log-format none --problem softmax --data synthetic:fedprox:dim=20)
for lr in 0.1 0.5; do
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" "${COMMON[@]}" --lr $lr --output "lr$lr.h5" \
    >run.txt 2>&1 || { cat run.txt; echo "FAIL run --lr $lr"; exit 1; }
done

if [ "$MODE" = compare ]; then
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" compare lr0.1.h5 lr0.5.h5 >cmp.txt 2>err.txt \
    || { cat err.txt; die "compare exited non-zero"; }
  cat cmp.txt
  grep -Eq '^ +lr +0\.1 +0\.5 *$' cmp.txt || die "compare does not list lr as differing (0.1, 0.5)"
  if grep -Eq '^ +(output|seed|agents) ' cmp.txt; then die "compare lists an option that does not differ"; fi
  # The final losses, formatted as compare prints them (10 significant digits).
  read -r l1 l2 < <("$PYTHON" - <<'PY'
import h5py
print(*("%.10g" % h5py.File(f, "r")["metrics/loss"][-1] for f in ("lr0.1.h5", "lr0.5.h5")))
PY
)
  [ -n "$l1" ] && [ "$l1" != "$l2" ] || die "the two runs' final losses should differ ($l1, $l2)"
  grep -Eq "^ +loss +final +$l1 +$l2 *$" cmp.txt || die "compare does not print the final losses $l1 and $l2"
  grep -Eq '^ +best ' cmp.txt || die "compare prints no best values"
  # Bad input: one line naming the culprit, exit 2.
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" compare lr0.1.h5 >/dev/null 2>err.txt
  rc=$?
  { [ $rc -eq 2 ] && [ "$(grep -c '^distopt: error:' err.txt)" -eq 1 ]; } || die "compare with one file: rc $rc"
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" compare lr0.1.h5 missing.h5 >/dev/null 2>err.txt
  rc=$?
  { [ $rc -eq 2 ] && grep -q '^distopt: error: .*missing.h5' err.txt; } || die "compare with a missing file: rc $rc"
  # info takes several files.
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" info lr0.1.h5 lr0.5.h5 >info.txt 2>err.txt \
    || { cat err.txt; die "info with two files exited non-zero"; }
  [ "$(grep -Ec '^lr0\.(1|5)\.h5$' info.txt)" -eq 2 ] || die "info does not print both files"
elif [ "$MODE" = plot ]; then
  for np in 1 2; do
    rm -f fig.png
    timeout 120 "$MPIEXEC" -np $np --oversubscribe "$DISTOPT" plot lr0.1.h5 lr0.5.h5 --y loss --x grad_evals \
      --out fig.png >plot.txt 2>err.txt || { cat plot.txt err.txt; die "plot exited non-zero (np $np)"; }
    [ -s fig.png ] || die "plot wrote no fig.png (np $np)"
    [ "$(head -c 8 fig.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
      || die "fig.png does not start with the PNG signature (np $np)"
  done
  timeout 120 "$MPIEXEC" -np 2 --oversubscribe "$DISTOPT" plot lr0.1.h5 --y no_such_metric --out x.png >/dev/null 2>err.txt
  rc=$?
  { [ $rc -eq 2 ] && [ "$(grep -c '^distopt: error: --y' err.txt)" -eq 1 ]; } \
    || { cat err.txt; die "plot with an unknown metric: rc $rc (want 2 and one line naming --y)"; }
else
  echo "usage: cli_results.sh compare|plot DISTOPT MPIEXEC PYTHON"
  exit 2
fi
[ $fail -eq 0 ] && echo "all passed"
exit $fail
