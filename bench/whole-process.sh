#!/usr/bin/env bash
# Whole-process figures for `sitebundle build` against `cp -r` of the same tree, in one table: rebuild
# of an unchanged site, rebuild with one server changed, fresh build, `cp -r` into an existing and
# into a new folder, the ratio to `cp -r`, CPU time (user + system) and peak memory, for the
# reference site and synthetic sites (`sitebundle synth N`). Medians of RUNS runs (default 10) after
# a warm-up. Needs python3 and GNU time (Debian: apt-get install time). Run from anywhere:
#   bench/whole-process.sh                      # reference, 1,000, 10,000 and 50,000 servers
#   RUNS=5 bench/whole-process.sh reference 1000
# The work folder is on the same file system as the repository (TMPDIR to choose another).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/sitebundle
work=$(mktemp -d "${TMPDIR:-$PWD}/.whole-process.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then set -- reference 1000 10000 50000; fi
python3 bench/measure.py "$bin" "$work" "${RUNS:-10}" "$@"
