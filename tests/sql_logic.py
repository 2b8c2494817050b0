#!/usr/bin/env python3
"""Logic checks of the SQL mirroring artifacts (called by tests/sql.rs).

    sql_logic.py failover JOB.sql [DB ...]   the job step's decision, executed
    sql_logic.py switcher FILE.ps1           the switcher's structure, on its parse tree
    sql_logic.py switcher-selftest FILE.ps1  the switcher check rejects broken variants

failover: the step text is taken from the sp_add_jobstep @command literal and parsed with
sqlfluff (tsql). Its two queries (the count of synchronized/principal databases and the cursor
that picks what to fail over) and its IF condition are translated mechanically to SQLite and run
against a sys.database_mirroring stand-in, for every combination of role/state/safety and for
many multi-database scenarios, and compared with the rule the job step states. DB: the configured
databases (none = all_synchronized).

switcher: on the tree-sitter-powershell tree, the alias is written only by Set-AliasTarget, which
is called once, with $principal, after an `if ($principal -eq $null) { ... exit }` guard;
$principal is only ever $null or a partner whose Get-MirrorRole answer was 'Primary'; the role
query is parameterised; Get-MirrorRole says 'Primary' only for mirroring_role 1; no PS 3+ syntax.

Exit 0 and `ok` on success; exit 1 with the reasons otherwise.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "validators"))
import validate  # noqa: E402


def fail(msgs):
    for m in msgs:
        print(m)
    sys.exit(1)


# ------------------------------------------------------------------------------- failover

def step_text(job_sql: str) -> str:
    linter = validate._tsql_linter()
    steps = []
    for _, batch in validate._sql_batches(validate._normalise_tsql(job_sql)):
        if not batch.strip():
            continue
        tree = linter.parse_string(batch).tree
        for lit in validate._dynamic_sql_literals(tree):
            steps.append(validate._unquote_sql(lit.raw))
    if len(steps) != 2 or steps[0] != steps[1]:
        fail([f"expected the same step text in sp_update_jobstep and sp_add_jobstep, got {len(steps)}"])
    return steps[0]


def to_sqlite(sql: str) -> str:
    sql = re.sub(r"\bN'", "'", sql)
    sql = sql.replace("sys.database_mirroring", "database_mirroring").replace("sys.databases", "databases")
    sql = re.sub(r"\bISNULL\(", "IFNULL(", sql, flags=re.I)
    # `SELECT @v = expr, @w = expr FROM` -> `SELECT expr, expr FROM`
    sql = re.sub(r"@\w+\s*=\s*(?![=])", "", sql.split(" FROM ")[0]) + (" FROM " + sql.split(" FROM ", 1)[1] if " FROM " in sql else "")
    return sql


def failover(job_file: str, configured: list[str]) -> None:
    text = open(job_file, encoding="utf-8").read().replace("\r\n", "\n")
    step = step_text(text)
    tree = validate._tsql_linter().parse_string(step).tree
    if tree is None or list(tree.recursive_crawl("unparsable")):
        fail(["the step does not parse"])
    selects = [" ".join(s.raw.split()) for s in tree.recursive_crawl("select_statement")]
    count_q = next((s for s in selects if "COUNT(*)" in s), None)
    cursor_decl = [c for c in tree.recursive_crawl("declare_segment") if "CURSOR" in c.raw.upper()]
    if count_q is None or len(cursor_decl) != 1:
        fail([f"expected one count query and one cursor, got {count_q!r}, {len(cursor_decl)}"])
    decl = " ".join(cursor_decl[0].raw.split())
    if not re.search(r"CURSOR\s+LOCAL\s+FAST_FORWARD\s+FOR", decl, re.I):
        fail([f"cursor is not LOCAL FAST_FORWARD: {decl[:80]}"])
    cursor_q = decl[re.search(r"\bFOR\b", decl, re.I).end():].strip()
    conds = [" ".join(e.raw.split()) for e in validate._conditions(tree) if "@principal" in e.raw]
    if not conds:
        fail(["no IF condition on @principal"])
    decision = conds[0]
    # FETCH NEXT right before the loop and at the end of its body.
    flat = " ".join(step.split())
    if not re.search(r"OPEN failover_dbs; FETCH NEXT FROM failover_dbs INTO @db; WHILE @@FETCH_STATUS = 0 BEGIN", flat):
        fail(["the loop does not FETCH NEXT right before testing @@FETCH_STATUS"])
    if not re.search(r"FETCH NEXT FROM failover_dbs INTO @db; END;? CLOSE failover_dbs; DEALLOCATE failover_dbs;", flat):
        fail(["the loop body does not end with FETCH NEXT"])
    if "QUOTENAME(@db)" not in step or "SET PARTNER FAILOVER" not in step:
        fail(["the failover statement is not built with QUOTENAME"])

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE databases (database_id INTEGER, name TEXT)")
    db.execute("CREATE TABLE database_mirroring (database_id INTEGER, mirroring_role INTEGER, "
               "mirroring_state INTEGER, mirroring_safety_level INTEGER)")
    count_sql, cursor_sql = to_sqlite(count_q), to_sqlite(cursor_q)

    def load(rows):
        db.execute("DELETE FROM databases")
        db.execute("DELETE FROM database_mirroring")
        for i, (name, role, state, safety) in enumerate(rows, start=1):
            db.execute("INSERT INTO databases VALUES (?, ?)", (i, name))
            db.execute("INSERT INTO database_mirroring VALUES (?, ?, ?, ?)", (i, role, state, safety))

    def run(rows):
        load(rows)
        synced, principal = db.execute(count_sql).fetchone()
        cond = decision.replace("@principal", str(principal)).replace("@synced", str(synced))
        go = db.execute(f"SELECT CASE WHEN {cond} THEN 1 ELSE 0 END").fetchone()[0] == 1
        chosen = sorted(r[0] for r in db.execute(cursor_sql).fetchall()) if go else []
        return synced, principal, go, chosen

    watched = (lambda n: n in configured) if configured else (lambda n: True)
    errors = []
    names = configured[:2] if configured else ["db_a", "db_b"]
    other = "not_configured_db" if configured else None
    roles, states, safeties = [1, 2, None], [0, 1, 2, 3, 4, 5, 6, None], [0, 1, 2, None]
    # 1. Which (role, state, safety) qualifies: exactly (1, 4, 2), when the decision is to act.
    for role, state, safety in itertools.product(roles, states, safeties):
        # the first database is the one under test; the second is a synchronized mirror here,
        # so "some but not all" holds whenever the first counts as principal and synchronized.
        rows = [(names[0], role, state, safety), (names[1], 2, 4, 2)]
        _, _, go, chosen = run(rows)
        expect = role == 1 and state == 4 and safety == 2
        if (names[0] in chosen) != expect:
            errors.append(f"role={role} state={state} safety={safety}: chosen={chosen}, expected {'failover' if expect else 'none'}")
        if names[1] in chosen:
            errors.append("a mirror database was chosen for failover")
    # 2. The decision over whole farms of databases.
    combos = [(1, 4, 2), (2, 4, 2), (1, 0, 2), (2, 1, 2), (1, 4, 1), (None, None, None)]
    pool = (configured or ["db_a", "db_b", "db_c"])[:3]
    for states_of in itertools.product(combos, repeat=len(pool)):
        rows = [(n, *s) for n, s in zip(pool, states_of)]
        if other:
            rows.append((other, 1, 4, 2))  # a principal, synchronized database the site does not list
        synced_w = [r for r in rows if watched(r[0]) and r[2] == 4]
        principal_w = [r for r in synced_w if r[1] == 1]
        act = 0 < len(principal_w) < len(synced_w)
        expect = sorted(r[0] for r in principal_w if r[3] == 2) if act else []
        synced, principal, go, chosen = run(rows)
        if go != act or chosen != expect:
            errors.append(f"{rows}: act={go} chosen={chosen}, expected act={act} chosen={expect}")
    if errors:
        fail(errors[:20] + [f"({len(errors)} failures)"])
    print("ok")


# ------------------------------------------------------------------------------- switcher

def ps_tree(src: bytes):
    parser = validate._ts_parser("powershell")
    return parser.parse(src)


def walk(n):
    yield n
    for c in n.children:
        yield from walk(c)


def text(src, n):
    return src[n.start_byte:n.end_byte].decode("utf-8")


def ancestors(n):
    p = n.parent
    while p is not None:
        yield p
        p = p.parent


def func_name(src, fn):
    name = next((c for c in fn.children if c.type == "function_name"), None)
    return text(src, name) if name is not None else ""


def enclosing_function(src, n):
    for a in ancestors(n):
        if a.type == "function_statement":
            return func_name(src, a)
    return None


def if_condition(src, if_node):
    for c in if_node.children:
        if c.type == "pipeline":
            return " ".join(text(src, c).split())
    return ""


def enclosing_ifs(src, n):
    """Conditions of the if statements whose *then* block holds n."""
    out = []
    for a in ancestors(n):
        if a.type == "if_statement":
            out.append(if_condition(src, a))
    return out


def check_switcher(src: bytes) -> list[str]:
    errs = []
    tree = ps_tree(src)
    if tree.root_node.has_error:
        return ["the script has syntax errors"]
    nodes = list(walk(tree.root_node))
    commands = [n for n in nodes if n.type == "command"]

    def cname(c):
        nm = next((k for k in c.children if k.type == "command_name"), None)
        return text(src, nm) if nm is not None else ""

    writers = {"set-itemproperty", "new-itemproperty", "remove-itemproperty", "set-item", "reg", "reg.exe", "remove-item"}
    for c in commands:
        if cname(c).lower() in writers and enclosing_function(src, c) != "Set-AliasTarget":
            errs.append(f"registry write outside Set-AliasTarget: {text(src, c)[:60]}")
    if re.search(rb"Microsoft\.Win32\.Registry|OpenSubKey|SetValue\(", src):
        errs.append("the registry is written through .NET, bypassing Set-AliasTarget")

    calls = [c for c in commands if cname(c) == "Set-AliasTarget"]
    if len(calls) != 1:
        errs.append(f"Set-AliasTarget must be called exactly once, found {len(calls)}")
    for call in calls:
        args = " ".join(text(src, call).split())
        if args != "Set-AliasTarget -Target $principal":
            errs.append(f"Set-AliasTarget must be given $principal: {args}")
        # Guard: an earlier statement of the same list is `if ($principal -eq $null) { ... exit N }`.
        stmt = call
        while stmt.parent is not None and stmt.parent.type != "statement_list":
            stmt = stmt.parent
        guarded = False
        sib = stmt.prev_named_sibling
        while sib is not None:
            if sib.type == "if_statement" and if_condition(src, sib) == "$principal -eq $null" \
                    and any(k.type == "flow_control_statement" and text(src, k).startswith("exit")
                            for k in walk(sib)) and "else" not in text(src, sib):
                guarded = True
            if any(n.type == "assignment_expression" and text(src, n).startswith("$principal")
                   for n in walk(sib)) and not guarded:
                pass
            sib = sib.prev_named_sibling
        if not guarded:
            errs.append("Set-AliasTarget is not preceded by `if ($principal -eq $null) { ... exit }`")

    for a in (n for n in nodes if n.type == "assignment_expression"):
        lhs = text(src, a.children[0]).strip()
        rhs = " ".join(text(src, a.children[-1]).split())
        if lhs.lower() == "$principal":
            if rhs == "$null":
                continue
            conds = enclosing_ifs(src, a)
            if rhs != "$candidate" or not conds or conds[0] != "$role -eq 'Primary'":
                errs.append(f"$principal = {rhs} is not directly under `if ($role -eq 'Primary')` (under {conds[:1]})")
        if lhs.lower() == "$role":
            if rhs != "Get-MirrorRole -Server $candidate":
                errs.append(f"$role must come from Get-MirrorRole -Server $candidate, not {rhs}")
    # $candidate iterates over the configured partners only.
    for f in (n for n in nodes if n.type == "foreach_statement"):
        t = " ".join(text(src, f).split())
        if t.startswith("foreach ($candidate ") and not t.startswith("foreach ($candidate in $Partners)"):
            errs.append("$candidate must iterate over $Partners")

    # Get-MirrorRole: 'Primary' only for mirroring_role 1; query text is a constant.
    fns = [n for n in nodes if n.type == "function_statement" and func_name(src, n) == "Get-MirrorRole"]
    if len(fns) != 1:
        errs.append("no single Get-MirrorRole function")
    else:
        for n in walk(fns[0]):
            if n.type == "verbatim_string_characters" and text(src, n) == "'Primary'":
                conds = enclosing_ifs(src, n)
                if not conds or conds[0] != "[int]$value -eq 1":
                    errs.append(f"'Primary' returned outside `if ([int]$value -eq 1)` ({conds[:1]})")
            if n.type == "assignment_expression" and text(src, n).startswith("$command.CommandText"):
                rhs = n.children[-1]
                kinds = {k.type for k in walk(rhs)}
                if "variable" in kinds or "expandable_string_literal" in kinds:
                    errs.append("the role query is built from variables (must be a constant with @db)")
                if "mirroring_role" not in text(src, rhs) or "@db" not in text(src, rhs):
                    errs.append("the role query does not read mirroring_role for @db")
        if b"Failover Partner" in src:
            errs.append("the connection must not use Failover Partner (it would follow the mirror)")

    # PowerShell 2.0: no PS 3+ syntax.
    blank = bytearray(src)
    for n in nodes:
        if n.type in ("comment", "verbatim_string_characters", "expandable_string_literal"):
            blank[n.start_byte:n.end_byte] = b" " * (n.end_byte - n.start_byte)
    code = blank.decode("utf-8", "replace")
    for pat, what in [(r"::\s*new\b", "::new()"), (r"(?i)\[ordered\]", "[ordered]"),
                      (r"(?i)\[pscustomobject\]", "[pscustomobject]"), (r"(?i)\s-(not)?in\s", "-in/-notin"),
                      (r"(?i)\$PSItem", "$PSItem"), (r"(?i)-ErrorAction\s+Ignore", "-ErrorAction Ignore"),
                      (r"(?i)\$using:", "$using:")]:
        if re.search(pat, code, re.M):
            errs.append(f"PowerShell 3+ syntax: {what}")
    if b"Set-StrictMode -Version Latest" not in src:
        errs.append("no Set-StrictMode -Version Latest")
    if b"SupportsShouldProcess = $true" not in src:
        errs.append("no -WhatIf support (SupportsShouldProcess)")
    return errs


MUTATIONS = [
    # blind switch (the original write-up's bug): the other partner is written without asking it
    ("        if ($role -eq 'Primary') {\r\n            $principal = $candidate\r\n            break\r\n        }",
     "        $principal = $candidate"),
    ("Set-AliasTarget -Target $principal", "Set-AliasTarget -Target $Partners[1]"),
    ("if ($principal -eq $null) {", "if ($false) {"),
    ("if ([int]$value -eq 1) {", "if ([int]$value -ge 1) {"),
    ("        Set-ItemProperty -Path $keyPath", "        Set-ItemProperty -Path $keyPath"),  # no-op control
    ("    $current = Get-AliasTarget -KeyPath $KeyPaths[0]",
     "    $current = Get-AliasTarget -KeyPath $KeyPaths[0]\r\n    Set-ItemProperty -Path $KeyPaths[1] -Name $Alias -Value 'x'"),
    ("$role = Get-MirrorRole -Server $candidate", "$role = 'Primary'"),
    ("'SELECT m.mirroring_role FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name = @db'",
     "\"SELECT m.mirroring_role FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name = '$Database'\""),
    ("$builder = New-Object System.Data.SqlClient.SqlConnectionStringBuilder",
     "$builder = [System.Data.SqlClient.SqlConnectionStringBuilder]::new()"),
]


def selftest(path):
    src = open(path, "rb").read()
    base = check_switcher(src)
    if base:
        fail(["the real script fails the check:"] + base)
    errs = []
    for i, (old, new) in enumerate(MUTATIONS):
        if old.encode() not in src:
            errs.append(f"mutation {i}: text not found: {old[:60]!r}")
            continue
        got = check_switcher(src.replace(old.encode(), new.encode(), 1))
        if old == new:
            if got:
                errs.append(f"mutation {i} (control) was rejected: {got}")
        elif not got:
            errs.append(f"mutation {i} was not caught: {new[:60]!r}")
    if errs:
        fail(errs)
    print("ok")


def main():
    if len(sys.argv) < 3:
        fail([__doc__])
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "failover":
        failover(path, sys.argv[3:])
    elif mode == "switcher":
        errs = check_switcher(open(path, "rb").read())
        if errs:
            fail(errs)
        print("ok")
    elif mode == "switcher-selftest":
        selftest(path)
    else:
        fail([f"unknown mode {mode}"])


if __name__ == "__main__":
    main()
