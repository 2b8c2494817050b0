#!/usr/bin/env bash
# Runs the whole test suite. Creates the validator venv (.venv) from tests/validators/requirements.txt
# when it is missing or incomplete, checks the system tools the tests use, then runs cargo test.
set -euo pipefail
cd "$(dirname "$0")"

venv_ok() {
  [ -x .venv/bin/python ] && .venv/bin/python -c 'import sqlfluff, tree_sitter, tree_sitter_powershell, tree_sitter_batch, lxml, xmlschema, ASPPY' 2>/dev/null
}
if ! venv_ok; then
  echo "test.sh: creating the validator venv in .venv"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/validators/requirements.txt
fi
if ! command -v tclsh >/dev/null 2>&1; then
  echo "test.sh: tclsh is needed for the iRule and tmsh tests (Debian: apt-get install tcl)" >&2
  exit 2
fi

if ! command -v curl >/dev/null 2>&1; then
  echo "test.sh: curl is needed for the F5 monitor pre-flight test (Debian: apt-get install curl)" >&2
  exit 2
fi

echo "test.sh: validator self-test"
.venv/bin/python tests/validators/test_validate.py
# Tests that execute generated VBScript must run, never skip.
export SITEBUNDLE_REQUIRE_VBS=1
echo "test.sh: cargo test"
cargo test --locked
