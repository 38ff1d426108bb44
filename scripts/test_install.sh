#!/usr/bin/env bash
# scripts/test_install.sh BUILD_DIR: the installed package works for a user.
#   1. cmake --install BUILD_DIR into a temporary prefix; check headers, libraries, binary and
#      the CMake package files are there, and that the installed binary runs;
#   2. configure examples/ (a separate project: find_package(distopt 0.2 REQUIRED), links
#      distopt::distopt) against that prefix only, build it;
#   3. run every example at 2 ranks and check its output (examples/<name>/expected.txt) with ctest;
#   4. bitwise acceptance of a user objective: `custom_objective train --problem user-logistic`
#      (the example's own objective through distopt::cli_main) must write the same /model/x, bit
#      for bit, as the installed `distopt train --problem logistic` with the same options, for gd,
#      sgd and fedspeed at 1 and 2 ranks (compared by `custom_objective compare`).
# The CTest test `install` (label install) runs this. KEEP_TMP=1 keeps the temporary directory.
set -euo pipefail
if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: $0 BUILD_DIR (a configured and built distopt build tree)" >&2
  exit 2
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd)
JOBS=${JOBS:-2}
# Open MPI refuses to run as root unless told; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/distopt-install.XXXXXX")
if [ "${KEEP_TMP:-0}" = 1 ]; then
  echo "test_install: keeping $TMP"
else
  trap 'rm -rf "$TMP"' EXIT
fi
PREFIX=$TMP/prefix
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }

echo "== install $BUILD -> $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" || { cat "$TMP/install.log"; fail "cmake --install"; }

# A compiler launcher (ccache) of the main build is reused; nothing else is inherited from it.
launcher=$(sed -n 's/^CMAKE_CXX_COMPILER_LAUNCHER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")

libdir=""
for d in lib lib64 lib/x86_64-linux-gnu; do
  [ -f "$PREFIX/$d/cmake/distopt/distoptConfig.cmake" ] && libdir=$d
done
[ -n "$libdir" ] || fail "no <prefix>/lib*/cmake/distopt/distoptConfig.cmake"
for f in include/distopt/version.hpp include/distopt/core/version.hpp \
         include/distopt/comm/communicator.hpp bin/distopt \
         "$libdir/libdistopt_core.a" "$libdir/libdistopt_run.a" \
         "$libdir/cmake/distopt/distoptConfigVersion.cmake" "$libdir/cmake/distopt/distoptTargets.cmake"; do
  [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done
# Every header of the source tree is installed.
missing=$(cd "$SRC/include" && find distopt -name '*.hpp' | while read -r h; do
  [ -f "$PREFIX/include/$h" ] || echo "$h"; done)
[ -z "$missing" ] || fail "headers not installed: $missing"
# The installed headers are self-sufficient: nothing refers back to the source or build tree.
if grep -rlF -e "$SRC/" -e "$BUILD/" "$PREFIX/$libdir/cmake/distopt" >/dev/null; then
  grep -rnF -e "$SRC/" -e "$BUILD/" "$PREFIX/$libdir/cmake/distopt" | head
  fail "the installed CMake package refers to the source or build tree"
fi
"$PREFIX/bin/distopt" --version | tee "$TMP/version.txt"
grep -Eq '^distopt [0-9]+\.[0-9]+\.[0-9]+ \(' "$TMP/version.txt" || fail "distopt --version"

echo "== configure examples/ against $PREFIX"
cmake_args=(-S "$SRC/examples" -B "$TMP/examples" -DCMAKE_PREFIX_PATH="$PREFIX"
            -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -Ddistopt_DIR="$PREFIX/$libdir/cmake/distopt")
[ -n "$cxx" ] && cmake_args+=(-DCMAKE_CXX_COMPILER="$cxx")
[ -n "$launcher" ] && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
cmake "${cmake_args[@]}" >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log"; fail "configure examples"; }
grep -q "distopt examples" "$TMP/configure.log" && grep "distopt examples" "$TMP/configure.log"
# The examples must have used the installed package, not the build tree.
found=$(sed -n 's/^distopt_DIR:[A-Z]*=//p' "$TMP/examples/CMakeCache.txt")
[ "$found" = "$PREFIX/$libdir/cmake/distopt" ] || fail "examples found distopt in '$found'"

echo "== build examples"
cmake --build "$TMP/examples" -j "$JOBS" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "build examples"; }
if grep -q "warning:" "$TMP/build.log"; then
  grep "warning:" "$TMP/build.log"
  fail "the examples compile with warnings"
fi

# The whole package links: the distopt app itself (every layer, the run/ entry points), built from
# apps/distopt.cpp against the installed targets, must run.
echo "== build apps/distopt.cpp against the installed package"
mkdir -p "$TMP/app"
cat >"$TMP/app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(distopt_app_check LANGUAGES CXX)
find_package(distopt 0.2 REQUIRED)
add_executable(distopt_app "$SRC/apps/distopt.cpp")
target_link_libraries(distopt_app PRIVATE distopt::distopt)
CMAKE
cmake_args[1]="$TMP/app"; cmake_args[3]="$TMP/app/build"
cmake "${cmake_args[@]}" >"$TMP/app.log" 2>&1 && cmake --build "$TMP/app/build" >>"$TMP/app.log" 2>&1 \
  || { tail -40 "$TMP/app.log"; fail "apps/distopt.cpp against the installed package"; }
mpiexec -n 2 --oversubscribe "$TMP/app/build/distopt_app" --version >"$TMP/app.out" 2>&1 \
  || { cat "$TMP/app.out"; fail "the app built against the installed package does not run"; }
cmp -s "$TMP/app.out" "$TMP/version.txt" || { cat "$TMP/app.out"; fail "app --version differs from bin/distopt"; }

echo "== run examples"
(cd "$TMP/examples" && ctest --output-on-failure --no-tests=error) || fail "an example's output differs from its expected.txt"

echo "== user-logistic (examples/custom_objective) against the built-in logistic, bit for bit"
user_cli="$TMP/examples/custom_objective"
mkdir -p "$TMP/bitwise"
common=(--data synthetic:logistic:n=4000,dim=20 --agents 4 --rounds 30 --seed 3 --log-format none)
methods=("gd --lr 1" "sgd --batch-size 32 --lr 0.5" "fedspeed --batch-size 32 --participation 0.5 --local-steps 5")
for np in 1 2; do
  for m in "${methods[@]}"; do
    read -r -a margs <<<"$m"
    tag="np$np-${margs[0]}"
    mpiexec -n "$np" --oversubscribe "$PREFIX/bin/distopt" train --problem logistic --algorithm "${margs[@]}" \
      "${common[@]}" --output "$TMP/bitwise/$tag-builtin.h5" >"$TMP/bitwise/$tag.log" 2>&1 \
      || { cat "$TMP/bitwise/$tag.log"; fail "distopt train ($tag)"; }
    mpiexec -n "$np" --oversubscribe "$user_cli" train --problem user-logistic --algorithm "${margs[@]}" \
      "${common[@]}" --output "$TMP/bitwise/$tag-user.h5" >>"$TMP/bitwise/$tag.log" 2>&1 \
      || { cat "$TMP/bitwise/$tag.log"; fail "custom_objective train ($tag)"; }
    verdict=$("$user_cli" compare "$TMP/bitwise/$tag-builtin.h5" "$TMP/bitwise/$tag-user.h5") \
      || { echo "$tag: $verdict"; fail "user-logistic differs from logistic ($tag)"; }
    echo "$tag: $verdict"
  done
done
# The comparison is not vacuous: two different runs must differ.
if "$user_cli" compare "$TMP/bitwise/np1-gd-builtin.h5" "$TMP/bitwise/np1-sgd-builtin.h5" >/dev/null; then
  fail "custom_objective compare does not tell different models apart"
fi
# distopt plot finds the installed distopt_plot.py beside bin/distopt (not the build tree's copy).
[ -x "$PREFIX/bin/distopt_plot.py" ] || fail "bin/distopt_plot.py is not installed"
if /usr/bin/python3 -c 'import matplotlib, h5py' 2>/dev/null; then
  DISTOPT_PYTHON=/usr/bin/python3 "$PREFIX/bin/distopt" plot "$TMP/bitwise/np1-gd-builtin.h5" \
    "$TMP/bitwise/np1-sgd-builtin.h5" --y loss --out "$TMP/plot.png" || fail "the installed distopt plot"
  [ "$(head -c 8 "$TMP/plot.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
    || fail "the installed distopt plot wrote no PNG"
fi
echo "test_install: OK"
