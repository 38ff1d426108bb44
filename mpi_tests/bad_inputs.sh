#!/usr/bin/env bash
# The table of bad-input cases (issue 11): every line of mpi_tests/bad_inputs/*.cases is run at NP
# ranks through the real binary in a scratch directory and must
#   - end by itself (a 120 s timeout catches a hang; no wall time is asserted),
#   - exit with code 2 and print exactly one line "distopt: error: ..." containing the expected
#     text (which names the culprit),
#   - leave every file of the scratch directory as it was (nothing lost, overwritten or
#     corrupted) and create none (no result, checkpoint, lock or temporary file).
# Case lines:   name | expected text | distopt arguments (shell words, expanded in the scratch dir)
# Blank lines and lines starting with # are skipped. <basename>.setup.sh next to <basename>.cases,
# if present, is sourced once in the scratch directory first to make the fixture files; it sees
# $DISTOPT, $MPIEXEC, $SRC and the function run_distopt ARGS... (the binary at NP ranks).
# Usage: bad_inputs.sh DISTOPT MPIEXEC SOURCE_DIR NP
set -u
DISTOPT=$1
MPIEXEC=$2
SRC=$(cd "$3" && pwd)
NP=${4:-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run_distopt() { timeout 120 "$MPIEXEC" -np "$NP" --oversubscribe "$DISTOPT" "$@"; }
# Every file under the scratch dir with its checksum (the snapshot compared around each case).
snapshot() { find . -path ./.case -prune -o -type f -print0 | sort -z | xargs -0r sha1sum; }
pass=0
fail=0
for cases in "$SRC"/mpi_tests/bad_inputs/*.cases; do
  base=${cases%.cases}
  if [ -f "$base.setup.sh" ]; then
    # shellcheck disable=SC1090
    if ! (set -e; source "$base.setup.sh") </dev/null >setup.log 2>&1; then
      echo "FAIL setup $(basename "$base").setup.sh"; cat setup.log; exit 1
    fi
    rm -f setup.log
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    name=$(sed 's/ *|.*//' <<<"$line")
    want=$(cut -d'|' -f2 <<<"$line" | sed 's/^ *//; s/ *$//')
    args=$(cut -d'|' -f3- <<<"$line")
    before=$(snapshot)
    mkdir -p .case
    eval "run_distopt $args" </dev/null >.case/out 2>.case/err
    rc=$?
    after=$(snapshot)
    lines=$(grep -c '^distopt: error:' .case/err)
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" .case/err &&
       [ "$before" == "$after" ]; then
      pass=$((pass + 1))
      echo "ok   $name (np $NP): $(grep '^distopt: error:' .case/err)"
    else
      fail=$((fail + 1))
      echo "FAIL $name (np $NP): rc=$rc error-lines=$lines (want rc 2, one line containing '$want')"
      [ "$before" == "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/     files: /'
      sed 's/^/     stderr: /' .case/err | head -20
    fi
    rm -rf .case
  done <"$cases"
done
echo "bad inputs at np $NP: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
