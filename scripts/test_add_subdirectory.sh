#!/usr/bin/env bash
# scripts/test_add_subdirectory.sh BUILD_DIR: distopt works as a subproject. Configures
# examples/add_subdirectory (add_subdirectory(<distopt source>) and then examples/ against the
# in-tree alias distopt::distopt) in BUILD_DIR/add_subdirectory-check, builds it and runs the
# examples at 2 ranks. The CTest test `install.add_subdirectory` (label install) runs this.
# The subproject build compiles distopt's libraries again, without optimisation (the build type is
# left empty) to keep it short; the compiler and the launcher (ccache) of BUILD_DIR are reused.
set -euo pipefail
if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: $0 BUILD_DIR (a configured distopt build tree)" >&2
  exit 2
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd)
JOBS=${JOBS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
OUT=$BUILD/add_subdirectory-check
fail() { echo "test_add_subdirectory: FAIL: $*" >&2; exit 1; }

launcher=$(sed -n 's/^CMAKE_CXX_COMPILER_LAUNCHER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
native=$(sed -n 's/^DISTOPT_NATIVE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
cmake_args=(-S "$SRC/examples/add_subdirectory" -B "$OUT" -DDISTOPT_SOURCE_DIR="$SRC"
            -DCMAKE_BUILD_TYPE= -DDISTOPT_NATIVE="${native:-ON}")
[ -n "$cxx" ] && cmake_args+=(-DCMAKE_CXX_COMPILER="$cxx")
[ -n "$launcher" ] && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")

echo "== configure $SRC/examples/add_subdirectory -> $OUT"
cmake "${cmake_args[@]}" >"$OUT.configure.log" 2>&1 || { cat "$OUT.configure.log"; fail "configure"; }
echo "== build"
cmake --build "$OUT" -j "$JOBS" >"$OUT.build.log" 2>&1 || { tail -50 "$OUT.build.log"; fail "build"; }
if grep -q "warning:" "$OUT.build.log"; then
  grep "warning:" "$OUT.build.log"
  fail "the subproject build has warnings"
fi
echo "== run examples"
(cd "$OUT/examples" && ctest --output-on-failure --no-tests=error) || fail "an example's output differs from its expected.txt"
echo "test_add_subdirectory: OK"
