#!/usr/bin/env bash
# Bad input through the real binary at 2 ranks: each case must end by itself (a 120 s timeout catches a hang; no wall time is asserted) with exit code 2 and
# exactly one line "distopt: error: ..." that names the culprit; ignored options warn once.
# Usage: cli_errors.sh DISTOPT MPIEXEC [SOURCE_DIR]
set -u
DISTOPT=$1
MPIEXEC=${2:-mpirun}
SRC=${3:-$(cd "$(dirname "$0")/.." && pwd)}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail=0
pass=0

# At 2 ranks, or at NP ranks for `NP=<n> expect ...`.
run2() { timeout 120 "$MPIEXEC" -np "${NP:-2}" --oversubscribe "$DISTOPT" "$@"; }

# record OK(1|0) OK_TEXT FAIL_TEXT: counts the case and prints its line (stderr of err.txt on failure).
record() {
  if [ "$1" -eq 1 ]; then
    pass=$((pass + 1))
    echo "ok   $2"
  else
    fail=$((fail + 1))
    echo "FAIL $3"
    sed 's/^/     stderr: /' err.txt | head -20
  fi
}

# expect NAME EXPECTED_SUBSTRING -- ARGS...
expect() {
  local name=$1 want=$2
  shift 3
  local t0=$(date +%s%N)
  run2 "$@" >out.txt 2>err.txt
  local rc=$?
  local dt=$((($(date +%s%N) - t0) / 1000000))
  local lines=$(grep -c '^distopt: error:' err.txt)
  local ok=0
  [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$want" err.txt && ok=1
  record $ok "$name (np ${NP:-2}, ${dt} ms): $(grep '^distopt: error:' err.txt)" \
    "$name: rc=$rc error-lines=$lines time=${dt}ms (want rc 2, one line containing '$want')"
}

printf "no-such-key = 1\n" > bad.ini
BASE=(train --agents 4 --rounds 2 --log-format none --problem softmax --data synthetic:fedprox:dim=20)

# `distopt train` with no options at all is a working run (default data, model and method).
if ! run2 train --log-format none >/dev/null 2>err.txt; then
  echo "FAIL distopt train with no options"; cat err.txt; exit 1
fi

# A valid run first: its result file serves as an HDF5 file without dataset content.
if ! run2 "${BASE[@]}" --output good.h5 >/dev/null 2>err.txt; then
  echo "FAIL reference run"; cat err.txt; exit 1
fi

expect "missing data file"   "/nonexistent/data.h5"   -- "${BASE[@]}" --data /nonexistent/data.h5
expect "h5 without datasets" "train/X"                -- "${BASE[@]}" --data good.h5
expect "feature mismatch"    "--init"                 -- train --agents 4 --rounds 2 --log-format none --problem logistic --data synthetic:logistic:dim=7 --init good.h5
expect "unknown option"      "--bogus"                -- "${BASE[@]}" --bogus 3
expect "unknown ini key"     "--no-such-key"          -- "${BASE[@]}" --config bad.ini
expect "non-numeric value"   "--lr"                   -- "${BASE[@]}" --lr abc
expect "out-of-range value"  "--lr"                   -- "${BASE[@]}" --lr -1
expect "negative rounds"     "--rounds"               -- "${BASE[@]}" --rounds -5
expect "unknown algorithm"   "--algorithm"            -- "${BASE[@]}" --algorithm nosuch
expect "bad problem"         "--problem"              -- "${BASE[@]}" --problem mlp:abc
expect "bad partition"       "--partition"            -- "${BASE[@]}" --partition dirichlet:-1
expect "bad fmnist classes"  "classes=0,10: class 10 is outside 0..9" -- train --agents 4 --rounds 2 --log-format none --data fmnist:classes=0,10
expect "fewer agents than ranks" "--agents"           -- "${BASE[@]}" --agents 1
expect "unknown command"     "unknown command"        -- nosuchcommand

# Bilevel (issue 9): the same one-line error at every rank count, before any work.
BL=(train --algorithm exact-hypergrad --agents 4 --rounds 2 --log-format none --output none --multitask-train-rows 30)
for np in 1 2 4; do
  NP=$np expect "blocks per iter > blocks"  "--blocks-per-iter"   -- "${BL[@]}" --blocks-per-iter 5
  NP=$np expect "block batch > block rows"  "--block-batch"       -- "${BL[@]}" --block-batch 31
  NP=$np expect "lower not strongly convex" "--bilevel-lower-reg" -- "${BL[@]}" --bilevel-lower-reg 0
  NP=$np expect "bilevel option, gd"        "--blocks-per-iter"   -- "${BASE[@]}" --blocks-per-iter 5
  NP=$np expect "data option, bilevel"      "--data"              -- "${BL[@]}" --data synthetic:logistic
  NP=$np expect "unknown bilevel problem"   "--bilevel-problem"   -- "${BL[@]}" --bilevel-problem nosuch
done
expect "f2sa key to bsvrb1"        "--f2sa-alpha"          -- "${BL[@]}" --algorithm bsvrb1 --f2sa-alpha 0.1
expect "stocbio key to f2sa"       "--stocbio-inner-steps" -- "${BL[@]}" --algorithm f2sa --stocbio-inner-steps 3
expect "stocbio negative steps"    "--stocbio-neumann-steps" -- "${BL[@]}" --algorithm stocbio --stocbio-neumann-steps -1
expect "stocbio zero neumann lr"   "--stocbio-neumann-lr"  -- "${BL[@]}" --algorithm stocbio --stocbio-neumann-lr 0

# reweight (Fashion-MNIST): bad input names its key, as does a key of another problem.
RW=(train --algorithm exact-hypergrad --bilevel-problem reweight --agents 4 --rounds 2 --log-format none --output none)
expect "reweight bad classes"       "--reweight-classes"      -- "${RW[@]}" --reweight-classes 0,12
expect "reweight classes not pair"  "--reweight-classes"      -- "${RW[@]}" --reweight-classes 3
expect "reweight pool"              "--reweight-pool"         -- "${RW[@]}" --reweight-pool 3
expect "reweight too many rows"     "--reweight-train-rows"   -- "${RW[@]}" --reweight-train-rows 20000
expect "reweight temperatures"      "--reweight-temperatures" -- "${RW[@]}" --reweight-temperatures 2,1
expect "reweight lower reg"         "--reweight-lower-reg"    -- "${RW[@]}" --reweight-lower-reg 0
expect "reweight binary data"       "--bilevel-data"          -- "${RW[@]}" --bilevel-data synthetic:logistic
expect "multitask key, reweight"    "--multitask-rank"        -- "${RW[@]}" --multitask-rank 3
expect "reweight key, multitask"    "--reweight-pool"         -- "${BL[@]}" --reweight-pool 7

# hyperclean: bad options name their key (before or while the data are read), and a hyperclean key
# with another problem is an error.
HC=(train --algorithm exact-hypergrad --agents 4 --rounds 1 --log-format none --output none --bilevel-problem hyperclean --hyperclean-train-rows 40 --hyperclean-val-rows 30 --hyperclean-test-rows 50 --hyperclean-pool 7)
expect "hyperclean bad pool"          "--hyperclean-pool"       -- "${HC[@]}" --hyperclean-pool 3
expect "hyperclean bad corruption"    "--hyperclean-corruption" -- "${HC[@]}" --hyperclean-corruption 2
expect "hyperclean too many rows"     "--hyperclean-train-rows" -- "${HC[@]}" --hyperclean-train-rows 59990
expect "hyperclean fewer rows than m" "--hyperclean-train-rows" -- "${HC[@]}" --hyperclean-train-rows 3
expect "hyperclean key, multitask"    "--hyperclean-pool"       -- "${BL[@]}" --hyperclean-pool 7

# No silent loss of results (issue 10): an existing --output or --checkpoint is refused, before
# any work, leaving the file byte for byte unchanged; --overwrite replaces it; --resume continues.
check() {  # check NAME COMMAND...: the command must succeed
  local name=$1 ok=0
  shift
  "$@" >out.txt 2>err.txt && ok=1
  record $ok "$name" "$name"
}
unchanged() {  # unchanged NAME FILE SUM
  if [ "$(sha256sum <"$2")" = "$3" ]; then
    pass=$((pass + 1))
    echo "ok   $1: $2 unchanged"
  else
    fail=$((fail + 1))
    echo "FAIL $1: $2 was modified"
  fi
}
for np in 1 2 4; do
  out=exists-np$np.h5
  ckpt=exists-np$np.ckpt.h5
  NP=$np check "np $np: first run into $out" run2 "${BASE[@]}" --output "$out" --rounds 4 --checkpoint-every 2
  sum=$(sha256sum <"$out")
  cksum=$(sha256sum <"$ckpt")
  NP=$np expect "existing --output"     "--output"     -- "${BASE[@]}" --output "$out"
  unchanged "np $np: existing --output" "$out" "$sum"
  NP=$np expect "existing --checkpoint" "--checkpoint" -- "${BASE[@]}" --output "other-np$np.h5" --checkpoint "$ckpt"
  unchanged "np $np: existing --checkpoint" "$ckpt" "$cksum"
  [ -e "other-np$np.h5" ] && { fail=$((fail + 1)); echo "FAIL np $np: a refused run wrote other-np$np.h5"; }
  NP=$np check "np $np: --resume continues into the same --output" run2 "${BASE[@]}" --output "$out" --rounds 6 --checkpoint-every 2 --resume "$ckpt"
  NP=$np check "np $np: --overwrite replaces --output" run2 "${BASE[@]}" --output "$out" --overwrite
done

# Metric names the run does not produce (issue 10): rejected at the round-0 evaluation, before any
# training round, with one line at every rank count, and no result file.
for np in 1 2 4; do
  NP=$np expect "unknown --target-metric" "'dist_to_opt' is not a metric" -- "${BASE[@]}" --rounds 1000 --target-metric 'dist_to_opt<1e-9' --output tm-np$np.h5
  [ -e "tm-np$np.h5" ] && { fail=$((fail + 1)); echo "FAIL np $np: a rejected --target-metric wrote tm-np$np.h5"; }
  NP=$np expect "unknown --show"          "--show: no metric 'nosuch'"   -- "${BASE[@]}" --rounds 1000 --show loss,nosuch --output show-np$np.h5
  [ -e "show-np$np.h5" ] && { fail=$((fail + 1)); echo "FAIL np $np: a rejected --show wrote show-np$np.h5"; }
done

# Options the method ignores (issue 10): one warning line on rank 0, and the run goes on (exit 0);
# a config whose keys are all used gets none.
warns() {  # warns NAME EXPECTED_WARNING_OR_EMPTY -- ARGS...
  local name=$1 want=$2
  shift 3
  run2 "$@" >out.txt 2>err.txt
  local rc=$? lines=$(grep -c '^distopt: warning:' err.txt)
  local ok=0
  [ "$rc" -eq 0 ] && { { [ -z "$want" ] && [ "$lines" -eq 0 ]; } ||
      { [ -n "$want" ] && [ "$lines" -eq 1 ] && grep -qxF -- "$want" err.txt; }; } && ok=1
  record $ok "$name: ${want:-no warning}" \
    "$name: rc=$rc warning-lines=$lines (want rc 0, '${want:-no warning}')"
}
W=(train --agents 4 --rounds 2 --log-format none --output none)
warns "--prox-mu with fedavg" "distopt: warning: option --prox-mu is ignored by --algorithm fedavg" -- "${W[@]}" --algorithm fedavg --prox-mu 0.1
warns "two ignored options" "distopt: warning: options --econtrol-eta, --graph are ignored by --algorithm gd" -- "${W[@]}" --graph ring --econtrol-eta 0.5
warns "fedprox uses --prox-mu" "" -- "${W[@]}" --algorithm fedprox --prox-mu 0.1
warns "--sam-rho with dfedavg" "distopt: warning: option --sam-rho is ignored by --algorithm dfedavg" -- "${W[@]}" --algorithm dfedavg --sam-rho 0.1
# Every key of these INI files is given, and used (the agents too: not overridden here).
C=(train --rounds 2 --log-format none --output none)
warns "quickstart.ini" "" -- "${C[@]}" --config "$SRC/configs/quickstart.ini"
warns "gossip.ini" "" -- "${C[@]}" --config "$SRC/configs/gossip.ini"
warns "dfedsam-synthetic.ini" "" -- "${C[@]}" --config "$SRC/configs/dfedsam-synthetic.ini"
warns "ef21-topk.ini" "" -- "${C[@]}" --config "$SRC/configs/ef21-topk.ini"
warns "bsvrb2-multitask.ini" "" -- "${C[@]}" --config "$SRC/configs/bsvrb2-multitask.ini"

# --print-config (what the job scripts log and check): the resolved options as INI lines and one
# "# world_size = N" line from rank 0, no training, no file written even if --output exists;
# bad input is still an error; the printed file, given as --config, resolves to the same.
run2 "${BASE[@]}" --lr 0.25 --output exists-np2.h5 --print-config >pc.txt 2>err.txt
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^# world_size = 2$' pc.txt)" -eq 1 ] && grep -qx 'lr = 0.25' pc.txt &&
  grep -qx 'rounds = 2' pc.txt && ! grep -q '^config = ' pc.txt; then
  pass=$((pass + 1))
  echo "ok   --print-config prints the resolved options and world size 2"
else
  fail=$((fail + 1))
  echo "FAIL --print-config: rc $rc"
  head -5 pc.txt err.txt
fi
run2 train --config pc.txt --print-config >pc2.txt 2>err.txt
if cmp -s pc.txt pc2.txt; then
  pass=$((pass + 1))
  echo "ok   --print-config output used as --config resolves to the same options"
else
  fail=$((fail + 1))
  echo "FAIL --print-config output as --config differs:"
  diff pc.txt pc2.txt | head -10
fi
expect "--print-config, unknown option" "--no-such-option" -- "${BASE[@]}" --print-config --no-such-option 1

# fedbuff/fedfix --clock wall with --slow-rank at one rank: every client would be on the slow rank
# (the refusals at any rank count are in bad_inputs/run.cases).
NP=1 expect "--slow-rank at one rank" "--slow-rank: needs at least 2 ranks" -- "${BASE[@]}" --output none --algorithm fedbuff --clock wall --slow-rank 0:4

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
