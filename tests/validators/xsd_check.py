#!/usr/bin/env python3
"""XSD validation with lxml, for the Rust tests (tests/it/checks/gpo.rs): the one part of the GPO
structure check that no Rust crate does.

Usage: python xsd_check.py --xsd SCHEMA FILE... [--xsd SCHEMA FILE...]

Each FILE is validated against the schema named before it; one JSON line per file,
{"path": ..., "ok": bool, "error": "line:col: message" | null}. Exit status 0 when all pass,
1 when any fails, 2 on a usage error.
"""

from __future__ import annotations

import json
import sys

from lxml import etree


def main(argv: list[str]) -> int:
    schema = None
    bad = 0
    for arg in argv:
        if arg == "--xsd":
            schema = "next"
        elif schema == "next":
            schema = etree.XMLSchema(etree.parse(arg))
        elif schema is None:
            print("xsd_check: --xsd SCHEMA must come before the files", file=sys.stderr)
            return 2
        else:
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            try:
                ok = schema.validate(etree.parse(arg, parser))
                err = None if ok else schema.error_log.last_error
                error = None if ok else f"{err.line}:{err.column}: {err.message}"
            except etree.XMLSyntaxError as e:
                ok, error = False, f"not well-formed: {e}"
            bad += not ok
            print(json.dumps({"path": arg, "ok": ok, "error": error}))
    if schema in (None, "next"):
        print("usage: xsd_check.py --xsd SCHEMA FILE... [--xsd SCHEMA FILE...]", file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
