"""Validates sitebundle's `--format json` documents against their JSON Schemas (docs/schemas/).

Usage: json_output_check.py DOC.json...
Each document names its command in `format` (`sitebundle-<command>`); it is checked against
docs/schemas/<command>.schema.json with the jsonschema package (Draft 2020-12), after the schema
itself is checked against the metaschema. Prints one JSON line per document:
{"file": ..., "ok": bool, "errors": [...]}; exits 1 when any document is invalid.
"""

import json
import pathlib
import sys

from jsonschema import Draft202012Validator

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "schemas"


def strict_load(path: str):
    """JSON with duplicate keys and NaN/Infinity refused (Python's json accepts both)."""

    def pairs(items):
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate key in {keys}")
        return dict(items)

    def bad_constant(name):
        raise ValueError(f"{name} is not JSON")

    text = pathlib.Path(path).read_bytes().decode("utf-8")
    return json.loads(text, object_pairs_hook=pairs, parse_constant=bad_constant)


def check(path: str) -> list[str]:
    try:
        doc = strict_load(path)
    except (ValueError, UnicodeDecodeError) as e:
        return [f"not strict JSON: {e}"]
    fmt = doc.get("format", "") if isinstance(doc, dict) else ""
    if not fmt.startswith("sitebundle-"):
        return [f"no sitebundle format: {fmt!r}"]
    schema_path = SCHEMAS / f"{fmt.removeprefix('sitebundle-')}.schema.json"
    if not schema_path.exists():
        return [f"no schema {schema_path.name}"]
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def main() -> int:
    bad = 0
    for path in sys.argv[1:]:
        errors = check(path)
        bad += bool(errors)
        print(json.dumps({"file": path, "ok": not errors, "errors": errors}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
