#!/usr/bin/env bash
# The default experiment: installs what is missing, builds, and runs configs/quickstart.ini on 2
# ranks (a synthetic federated dataset generated on the fly; no download). Extra arguments are
# passed to `distopt train`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --overwrite: each run of this script replaces results/quickstart.h5 (the config names it).
exec mpirun -np 2 --oversubscribe build/distopt train --config configs/quickstart.ini --overwrite "$@"
