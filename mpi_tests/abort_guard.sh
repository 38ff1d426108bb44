#!/usr/bin/env bash
# Passes when, in both modes of abort_guard.cpp, the 2-rank job ends by itself, non-zero, with the
# guard's line naming rank 1 (and, for an uncaught exception, its message).
MPIEXEC=$1
PROG=$2
fail=0
check() {  # mode, expected line (fixed string)
  local out rc
  out=$(timeout 80 "$MPIEXEC" -np 2 --oversubscribe "$PROG" "$1" 2>&1)
  rc=$?
  echo "$out"
  if [ "$rc" -eq 124 ]; then echo "FAIL ($1): the job hung"; fail=1; return; fi
  if [ "$rc" -eq 0 ]; then echo "FAIL ($1): exit code 0 after an escaped exception"; fail=1; return; fi
  if grep -q 'the guard did not abort' <<<"$out"; then echo "FAIL ($1): unwound past the guard"; fail=1; return; fi
  grep -qF "$2" <<<"$out" || { echo "FAIL ($1): no line '$2'"; fail=1; return; }
  echo "abort guard ($1): job ended with code $rc and the line '$2'"
}
check uncaught 'distopt: rank 1: uncaught exception: boom from the last rank'
check unwind 'distopt: rank 1: exception escaped the MPI environment'
exit $fail
