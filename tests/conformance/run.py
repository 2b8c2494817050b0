#!/usr/bin/env python3
"""Runs the conformance tables of the home-made models the tests rely on (tests/conformance/*.py):
every case through the model itself, compared with the result its cited source gives.

    run.py [TABLE ...]                 runs the tables (all by default); exit 1 on any disagreement
    run.py --control                   every case's `misreading` (the plausible wrong reading) and a
                                       generic wrong value must be rejected by the comparison; exit 1
                                       if one is accepted or a table has no misreading case
    run.py --override ID=JSON [...]    runs with case ID expecting JSON instead (the runner's own
                                       control: tests/it/conformance.rs expects exit 1)
    run.py --markdown                  the tables as Markdown (case count and sources)

A table is a module with MODEL (its name and file), CASES (dicts: id, expect, source, quote, the
model's inputs, optionally misreading) and run(case) -> the model's answer (JSON-comparable).
"""
import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TABLES = ["tsql", "cmd_exe", "powershell", "gpp", "mirroring"]


def canon(v):
    """JSON-comparable: tuples become lists, so a model's tuple equals a table's list."""
    return json.loads(json.dumps(v))


def check(table, overrides):
    mod = importlib.import_module(table)
    errors, n = [], 0
    for case in mod.CASES:
        n += 1
        expect = overrides.pop(case["id"], case["expect"])
        for key in ("id", "source", "quote"):
            if not case.get(key):
                errors.append(f"{table}/{case.get('id')}: no {key}")
        try:
            got = canon(mod.run(case))
        except Exception as e:  # a model that cannot run a case disagrees with it
            got = f"{type(e).__name__}: {e}"
        if got != canon(expect):
            errors.append(f"{table}/{case['id']}: the model gives {got!r}, {case['source']} gives {expect!r}"
                          f" ({case['quote'][:120]})")
    return mod, n, errors


def control(table):
    """The comparison rejects each case's misreading and a generic wrong value."""
    mod = importlib.import_module(table)
    errors, misreadings = [], 0
    for case in mod.CASES:
        got = canon(mod.run(case))
        wrongs = [{"wrong": case["expect"]}]
        if "misreading" in case:
            misreadings += 1
            wrongs.append(case["misreading"])
        for wrong in wrongs:
            if canon(wrong) == canon(case["expect"]) or got == canon(wrong):
                errors.append(f"{table}/{case['id']}: the wrong expectation {wrong!r} is accepted")
    if misreadings == 0:
        errors.append(f"{table}: no case with a misreading")
    return len(mod.CASES), misreadings, errors


def markdown(tables):
    for t in tables:
        mod = importlib.import_module(t)
        print(f"### {mod.MODEL}: {len(mod.CASES)} cases\n")
        print("| case | expected | source |\n|---|---|---|")
        for c in mod.CASES:
            print(f"| {c['id']} | `{json.dumps(c['expect'])[:60]}` | {c['source']} |")
        print()


def main(argv):
    overrides, tables, mode = {}, [], "run"
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--override":
            k, v = argv[i + 1].split("=", 1)
            overrides[k] = json.loads(v)
            i += 2
            continue
        if a in ("--control", "--markdown"):
            mode = a[2:]
        else:
            tables.append(a)
        i += 1
    tables = tables or TABLES
    if mode == "markdown":
        markdown(tables)
        return 0
    failed = []
    for t in tables:
        if mode == "control":
            n, mis, errors = control(t)
            print(f"control {t}: {n} cases, {mis} misreadings, wrong expectations accepted: {len(errors)}")
        else:
            mod, n, errors = check(t, overrides)
            print(f"{mod.MODEL}: {n} cases, {n - len(errors)} agree")
        failed += errors
    if overrides:
        failed.append(f"no such case: {sorted(overrides)}")
    for e in failed:
        print("FAIL " + e)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
