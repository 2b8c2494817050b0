#!/usr/bin/env bash
# Seeds the fuzz corpus from the project's own sites (the reference site, every fixture, every bad
# site and the `init` starter) and writes the libFuzzer dictionary corpus/site.dict: TOML syntax
# plus every key of the site model, read from `sitebundle schema` (so new families' keys are in it
# with no change here). Idempotent; libFuzzer adds what it finds beside the seeds.
set -euo pipefail
cd "$(dirname "$0")"
dir=corpus/parse_and_build
mkdir -p "$dir"
for f in ../site.toml ../src/init_site.toml ../tests/fixtures/*.toml ../tests/bad/*.toml; do
  cp "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
dict=corpus/site.dict
{
  printf '%s\n' '"[["' '"]]"' '"["' '"]"' '"{"' '"}"' '"="' '","' '"\x0a"' '"\x22\x22\x22"' "\"'''\"" \
    '"\x5cu0000"' '"1979-05-27T07:32:00Z"' '"inf"' '"nan"' '"0x"' '"true"'
  (cd .. && cargo run -q -- schema) | grep -o '"[a-z_][a-z0-9_]*": {' | sed 's/: {$//' | sort -u
} > "$dict"
echo "corpus fuzz/$dir now has $(ls "$dir" | wc -l) files (seeds included); dictionary fuzz/$dict has $(wc -l < "$dict") entries"
