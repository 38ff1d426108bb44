#!/usr/bin/env bash
# Installs every Debian package distopt needs (SLURM and munge only for the CTest `slurm`, which
# runs the job scripts on a private one-node cluster). Idempotent: packages already present are skipped,
# and apt-get runs only when something is missing.
set -euo pipefail
PKGS=(build-essential cmake pkg-config git
      libopenmpi-dev openmpi-bin
      libeigen3-dev libboost-program-options-dev libhdf5-dev zlib1g-dev
      libgtest-dev libbenchmark-dev
      dataset-fashion-mnist
      doxygen graphviz
      python3 python3-matplotlib python3-h5py python3-numpy
      slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge

      # The fuzz tests (scripts/fuzz.sh): clang 14 and its runtimes (libFuzzer, ASan, UBSan),
      # which clang only recommends (not installed with --no-install-recommends).
      clang libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
