#!/usr/bin/env bash
# Whole-process figures for `sitebundle build`: wall time (hyperfine) and peak memory (GNU time)
# for the reference site and synthetic sites, against `cp -r` of the same output tree as the floor.
# Needs: hyperfine and time (Debian: apt-get install hyperfine time). Run from the repository root.
set -euo pipefail
cargo build --release -q
bin=$PWD/target/release/sitebundle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp site.toml "$work/reference.toml"
for n in 100 1000 10000; do "$bin" synth "$n" > "$work/s$n.toml"; done
printf '%-12s %10s %10s %8s %8s %10s\n' site files bytes build_ms cp_ms peak_MB
for s in reference s100 s1000 s10000; do
  "$bin" build -q "$work/$s.toml" -o "$work/$s.out"
  files=$(find "$work/$s.out" -type f | wc -l)
  bytes=$(find "$work/$s.out" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")
  hyperfine -N --warmup 2 --runs 10 --export-json "$work/b.json" "$bin build -q $work/$s.toml -o $work/$s.out" >/dev/null 2>&1
  hyperfine --warmup 2 --runs 10 --prepare "rm -rf $work/$s.cp" --export-json "$work/c.json" "cp -r $work/$s.out $work/$s.cp" >/dev/null 2>&1
  b=$(python3 -c "import json;print(round(json.load(open('$work/b.json'))['results'][0]['mean']*1000,1))")
  c=$(python3 -c "import json;print(round(json.load(open('$work/c.json'))['results'][0]['mean']*1000,1))")
  mem=$(/usr/bin/time -f %M "$bin" build -q "$work/$s.toml" -o "$work/$s.out" 2>&1 >/dev/null | tail -1)
  printf '%-12s %10s %10s %8s %8s %10s\n' "$s" "$files" "$bytes" "$b" "$c" "$((mem / 1024))"
done
