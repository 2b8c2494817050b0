#!/usr/bin/env python3
"""Logic checks of the SQL mirroring artifacts (called by tests/sql.rs).

    sql_logic.py failover JOB.sql [DB ...] [--controlled=DB,...]   the job step's decision, executed
    sql_logic.py failover-selftest JOB.sql [DB ...] [--controlled=DB,...]   ... rejects mutated steps
    sql_logic.py simulate JOB_A.sql JOB_B.sql [--seeds N] [--seed S] [--control old] [--bound SECS]
    sql_logic.py switcher FILE.ps1           the switcher's structure, on its parse tree
    sql_logic.py switcher-selftest FILE.ps1  the switcher check rejects broken variants

failover: the step text is taken from the sp_add_jobstep @command literal and parsed with
sqlfluff (tsql). Its two queries (the count of synchronized/principal databases and the cursor
that picks what to fail over) and its IF condition are translated mechanically to SQLite and run
against a sys.database_mirroring stand-in, for every combination of role/state/safety and for
many multi-database scenarios, and compared with the rule the job step states. DB: the configured
databases (none = all_synchronized). Controlled-failover mode (sql.high_performance =
"controlled-failover") is recognised by the restore cursor in the `@anchor_role = 1` branch; its
list comes from the parse tree and, with --controlled, must be the given one. A listed database
is then failed over, set to SAFETY FULL (anchor mirror here, principal here in safety OFF) or back
to SAFETY OFF (anchor principal here, principal SYNCHRONIZED in FULL) exactly as specified.

switcher: on the tree-sitter-powershell tree, the alias is written only by Set-AliasTarget, which
is called once, with $principal, after an `if ($principal -eq $null) { ... exit }` guard;
$principal is only ever $null or a partner whose Get-MirrorRole answer was 'Primary'; the role
query is parameterised; Get-MirrorRole says 'Primary' only for mirroring_role 1; no PS 3+ syntax.

Exit 0 and `ok` on success; exit 1 with the reasons otherwise.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import random
import re
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "validators"))
import validate  # noqa: E402


def fail(msgs):
    for m in msgs:
        print(m)
    sys.exit(1)


# ------------------------------------------------------------------------------- failover
#
# The job step is executed, not re-implemented: a small interpreter walks the sqlfluff (tsql)
# parse tree of the step (DECLARE, SET, SELECT @v = ..., IF/ELSE IF/ELSE, BEGIN/END, cursors,
# WHILE, TRY/CATCH, EXEC sp_executesql, RAISERROR, PRINT) and hands every query, condition and
# expression, translated token by token to SQLite (to_sqlite), to SQLite, on a
# sys.database_mirroring / sys.databases stand-in. Anything else in the step is an error.

class SqlError(Exception):
    """An error SQL Server raises; number: its error number (ERROR_NUMBER() in the CATCH)."""

    def __init__(self, text, number=50000):
        super().__init__(text)
        self.number = number


class Unsupported(Exception):
    pass


_BATCH_TREES = {}
_STEPS = {}  # job text -> (step literal as written, step text), see failover_selftest


def step_text(job_sql: str) -> str:
    return step_literal(job_sql)[1]


def step_literal(job_sql: str):
    if job_sql in _STEPS:
        return _STEPS[job_sql]
    linter = validate._tsql_linter()
    steps, raws = [], []
    for _, batch in validate._sql_batches(validate._normalise_tsql(job_sql)):
        if not batch.strip():
            continue
        tree = _BATCH_TREES.get(batch)  # the self-test parses many variants of the same file
        if tree is None:
            tree = _BATCH_TREES[batch] = linter.parse_string(batch).tree
        for lit in validate._dynamic_sql_literals(tree):
            steps.append(validate._unquote_sql(lit.raw))
            raws.append(lit.raw)
    if len(steps) != 2 or steps[0] != steps[1] or raws[0] != raws[1]:
        raise Unsupported(f"expected the same step text in sp_update_jobstep and sp_add_jobstep, got {len(steps)}")
    _STEPS[job_sql] = (raws[0], steps[0])
    return _STEPS[job_sql]


def norm(seg) -> str:
    return " ".join(seg.raw.split())


_KIDS = {}  # id -> (segment, its code children); the segment is kept so that its id stays its own


def kids(seg):
    hit = _KIDS.get(id(seg))
    if hit is None or hit[0] is not seg:
        hit = _KIDS[id(seg)] = (seg, [c for c in seg.segments if c.is_code and not c.is_type("statement_terminator")])
    return hit[1]


def to_sqlite(seg, types=None) -> str:
    """T-SQL -> SQLite, token by token: `N'x'` -> `'x'`, `@v` -> bound parameter `:v`,
    `@@FETCH_STATUS` -> `:__fetch_status`, `sys.` dropped from the two catalog views, string `+`
    -> `||`, ISNULL -> IFNULL, ERROR_MESSAGE() -> a bound parameter. (`SELECT @x = expr`
    assignments are split off by the caller.) `types`: the declared variables, name -> "str" or
    "num" (Program.types).

    `+` is concatenation when an operand is a string ("+ (String Concatenation) (Transact-SQL)"),
    addition otherwise: decided by the tokens on each side (a string literal or a variable declared
    as a character type is a string; a number or a numeric variable is a number); when a side is
    neither (a parenthesis, a function), by whether the expression holds any string. A string next
    to a number would be an implicit conversion ("Data type precedence"): not modelled, an error.

    Strings compare as under the default server collation, SQL_Latin1_General_CP1_CI_AS: case
    insensitive ("Collation and Unicode support"), and trailing spaces ignored ("SQL Server follows
    the ANSI/ISO SQL-92 specification ... on how to compare strings with spaces", KB 316626): every
    string literal and string variable carries the TSQL collation (new_catalog), as do the
    catalog's text columns."""
    types = types or {}
    leaves = list(seg.raw_segments)
    code = [l for l in leaves if l.is_code]

    def kind(l):
        if l is None:
            return None
        if l.is_type("quoted_literal"):
            return "str"
        if l.is_type("numeric_literal"):
            return "num"
        if l.raw.startswith("@") and not l.raw.startswith("@@"):
            return types.get(l.raw[1:].lower())
        return None

    has_str = any(kind(l) == "str" for l in code)
    out = []
    for i, l in enumerate(leaves):
        if not l.is_code:
            out.append(" ")
            continue
        r = l.raw
        if l.is_type("quoted_literal"):
            r = (r[1:] if r[:1] in "Nn" else r) + " COLLATE TSQL"
        elif r.startswith("@@"):
            r = ":__" + r[2:].lower()
        elif r.startswith("@"):
            r = ":" + r[1:].lower() + (" COLLATE TSQL" if kind(l) == "str" else "")
        elif r == "+":
            j = next(n for n, c in enumerate(code) if c is l)
            sides = {kind(code[j - 1]) if j > 0 else None, kind(code[j + 1]) if j + 1 < len(code) else None}
            if sides == {"str", "num"}:
                raise Unsupported(f"`+` between a string and a number (implicit conversion): {norm(seg)[:60]}")
            if "str" in sides or (has_str and "num" not in sides):
                r = "||"
        out.append(r)
    s = "".join(out)
    s = re.sub(r"\bsys\s*\.\s*(database_mirroring|databases)\b", r"\1", s, flags=re.I)
    s = re.sub(r"\bISNULL\s*\(", "IFNULL(", s, flags=re.I)
    s = re.sub(r"\bERROR_MESSAGE\s*\(\s*\)", ":__error_message", s, flags=re.I)
    s = re.sub(r"\bERROR_NUMBER\s*\(\s*\)", ":__error_number", s, flags=re.I)
    s = re.sub(r"\bGETDATE\s*\(\s*\)", "CURRENT_TIMESTAMP", s, flags=re.I)
    s = re.sub(r"\bmsdb\s*\.\s*dbo\s*\.\s*", "", s, flags=re.I)
    # LEFT and LEN: T-SQL's, under names SQLite does not reserve (LEFT is a join keyword there).
    s = re.sub(r"\bLEFT\s*\(", "T_LEFT(", s, flags=re.I)
    s = re.sub(r"\bLEN\s*\(", "T_LEN(", s, flags=re.I)
    return s


def quotename(x):
    return None if x is None else "[" + str(x).replace("]", "]]") + "]"


def t_left(x, n):
    return None if x is None or n is None else str(x)[:max(0, int(n))]


def t_len(x):  # T-SQL LEN ignores trailing spaces
    return None if x is None else len(str(x).rstrip(" "))


# sys.database_mirroring.mirroring_state_desc for mirroring_state (sys.database_mirroring
# (Transact-SQL): 0 Suspended, 1 Disconnected from the other partner, 2 Synchronizing, 3 Pending
# Failover, 4 Synchronized).
STATE_DESC = {0: "SUSPENDED", 1: "DISCONNECTED", 2: "SYNCHRONIZING", 3: "PENDING_FAILOVER", 4: "SYNCHRONIZED"}
OUTCOME_TABLE = "sitebundle_mirroring_outcome"
# The installer's table (mirror-failover-job.sql), checked against the job file by outcome_ddl.
OUTCOME_COLUMNS = ["database_name", "outcome", "changed"]


def tsql_collate(a, b):
    """SQL_Latin1_General_CP1_CI_AS as far as the steps compare: case-insensitive, trailing
    spaces ignored (see to_sqlite)."""
    x, y = a.rstrip(" ").casefold(), b.rstrip(" ").casefold()
    return (x > y) - (x < y)


def tsql_connection():
    """An in-memory SQLite database with what to_sqlite's output needs: the TSQL collation and
    QUOTENAME, T_LEFT, T_LEN."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.create_collation("TSQL", tsql_collate)
    db.create_function("QUOTENAME", 1, quotename, deterministic=True)
    db.create_function("T_LEFT", 2, t_left, deterministic=True)
    db.create_function("T_LEN", 1, t_len, deterministic=True)
    return db


def new_catalog():
    db = tsql_connection()
    db.execute("CREATE TABLE databases (database_id INTEGER, name TEXT COLLATE TSQL)")
    db.execute("CREATE TABLE database_mirroring (database_id INTEGER, mirroring_role INTEGER, "
               "mirroring_state INTEGER, mirroring_safety_level INTEGER, mirroring_state_desc TEXT COLLATE TSQL, "
               "mirroring_witness_name TEXT COLLATE TSQL)")
    db.execute(f"CREATE TABLE {OUTCOME_TABLE} (database_name TEXT COLLATE TSQL PRIMARY KEY, "
               "outcome TEXT COLLATE TSQL NOT NULL, changed TEXT NOT NULL)")
    return db


def load_catalog(db, rows):
    """rows: (name, role, state, safety[, witness name]); NULL role: not mirrored / not visible."""
    db.execute("DELETE FROM databases")
    db.execute("DELETE FROM database_mirroring")
    db.executemany("INSERT INTO databases VALUES (?, ?)", [(i, r[0]) for i, r in enumerate(rows, 1)])
    db.executemany("INSERT INTO database_mirroring VALUES (?, ?, ?, ?, ?, ?)",
                   [(i, r[1], r[2], r[3], STATE_DESC.get(r[2]), (r[4] if len(r) > 4 else "") or None)
                    for i, r in enumerate(rows, 1)])


ALTER_RE = re.compile(r"^ALTER DATABASE \[((?:[^\]]|\]\])+)\] SET PARTNER (FAILOVER|SAFETY FULL|SAFETY OFF);$")


class Program:
    """A parsed job step, ready to be executed many times."""

    def __init__(self, step: str):
        self.step = step
        self.tree = validate._tsql_linter().parse_string(step).tree
        if self.tree is None or list(self.tree.recursive_crawl("unparsable")):
            raise Unsupported("the step does not parse")
        batch = next(self.tree.recursive_crawl("batch"))
        self.stmts = [c for c in kids(batch) if c.is_type("statement")]
        self._sql = {}
        # The declared variables' kinds (to_sqlite): character types are strings, others numbers.
        self.types = {}
        for d in self.tree.recursive_crawl("declare_segment"):
            name = None
            for c in kids(d):
                if c.is_type("parameter"):
                    name = c.raw[1:].lower()
                elif c.is_type("data_type") and name is not None:
                    self.types[name] = "str" if re.search(r"CHAR|SYSNAME|TEXT", c.raw, re.I) else "num"
                    name = None

    def sql(self, seg, kind):
        key = (id(seg), kind)
        s = self._sql.get(key)
        if s is None:
            if kind == "cond":
                s = f"SELECT CASE WHEN ({to_sqlite(seg, self.types)}) THEN 1 ELSE 0 END"
            elif kind == "expr":
                s = f"SELECT {to_sqlite(seg, self.types)}"
            elif kind == "select":  # (sql, [assigned variable names])
                clause = next(c for c in kids(seg) if c.is_type("select_clause"))
                targets, exprs = [], []
                for el in (c for c in kids(clause) if c.is_type("select_clause_element")):
                    asg = next((c for c in kids(el) if c.is_type("select_variable_assignment")), None)
                    if asg is not None:
                        targets.append(next(c for c in kids(asg) if c.is_type("parameter")).raw[1:].lower())
                        exprs.append(to_sqlite(next(c for c in kids(asg) if c.is_type("expression")), self.types))
                    else:
                        exprs.append(to_sqlite(el, self.types))
                rest = " ".join(to_sqlite(c, self.types) for c in kids(seg) if c is not clause)
                s = (f"SELECT {', '.join(exprs)} {rest}", targets)
            self._sql[key] = s
        return s

    def run(self, env):
        """Generator: executes the step; yields the seconds the environment asks to wait."""
        ctx = Ctx(self, env)
        yield from ctx.block(self.stmts)
        return ctx


class Ctx:
    def __init__(self, prog, env):
        self.prog, self.env = prog, env
        self.vars = {"__fetch_status": -1, "__error_message": None, "__error_number": None}
        self.cursors = {}
        self.cursor_defs = {}
        self.in_try = 0
        self.row = None  # the current cursor row (for the messages)
        self.messages = []  # (row, severity, text, with_log)
        self.step_failed = False

    def q(self, sql):
        self.env.before_query()
        on_read = getattr(self.env, "on_read", None)  # the adversarial simulation: a catalog read
        if on_read is not None and "database_mirroring" in sql:
            on_read()
        return self.env.catalog.execute(sql, self.vars).fetchall()

    def value(self, seg):
        return self.q(self.prog.sql(seg, "expr"))[0][0]

    def cond(self, seg):
        return self.q(self.prog.sql(seg, "cond"))[0][0] == 1

    def block(self, stmts):
        for s in stmts:
            yield from self.stmt(s)

    def stmt(self, seg):
        between = getattr(self.env, "between", None)  # the adversarial simulation's hook
        if between is not None:
            between()
        if seg.is_type("statement"):
            inner = kids(seg)
            if len(inner) != 1:
                raise Unsupported(f"statement: {norm(seg)[:60]}")
            seg = inner[0]
        t = seg.get_type()
        k = kids(seg)
        if t == "set_segment":
            return
        if t == "declare_segment":
            curdef = next((c for c in k if c.is_type("cursor_definition")), None)
            if curdef is not None:
                name = next(c for c in k if c.is_type("naked_identifier")).raw.lower()
                self.cursor_defs[name] = next(c for c in kids(curdef) if c.is_type("select_statement"))
            else:
                # DECLARE @v type [= expr], ...: NULL unless initialised ("DECLARE @local_variable
                # (Transact-SQL)": "= value Assigns a value to the variable in-line"; "After
                # declaration, all variables are initialized as NULL, unless a value is provided
                # as part of the declaration").
                name = None
                for c in k:
                    if c.is_type("parameter"):
                        name = c.raw[1:].lower()
                        self.vars[name] = None
                    elif c.is_type("expression") and name is not None:
                        self.vars[name] = self.value(c)
            return
        if t == "set_local_variable_segment":
            name = next(c for c in k if c.is_type("parameter")).raw[1:].lower()
            self.vars[name] = self.value(next(c for c in k if c.is_type("expression")))
            return
        if t == "select_statement":
            sql, targets = self.prog.sql(seg, "select")
            rows = self.q(sql)
            if rows and targets:  # T-SQL: no row leaves the variables unchanged; else the last row
                for name, v in zip(targets, rows[-1]):
                    self.vars[name] = v
            return
        if t == "if_then_statement":
            for cond, body in if_branches(seg):
                if cond is None or self.cond(cond):
                    yield from self.stmt(body)
                    return
            return
        if t == "begin_end_block":
            yield from self.block([c for c in k if c.is_type("statement")])
            return
        if t == "while_statement":
            cond = next(c for c in k if c.is_type("expression"))
            body = next(c for c in k if c.is_type("statement"))
            n = 0
            while self.cond(cond):
                n += 1
                if n > 10000:
                    raise Unsupported(f"the loop `WHILE {norm(cond)}` does not end")
                yield from self.stmt(body)
            return
        if t == "open_cursor_statement":
            name = next(c for c in k if c.is_type("naked_identifier")).raw.lower()
            rows = self.q(self.prog.sql(self.cursor_defs[name], "select")[0])
            self.cursors[name] = [rows, 0]
            self.env.on_open(rows)
            return
        if t == "fetch_cursor_statement":
            name = next(c for c in k if c.is_type("naked_identifier")).raw.lower()
            targets = [c.raw[1:].lower() for c in k if c.is_type("parameter")]
            rows, i = self.cursors[name]
            if i < len(rows):
                self.cursors[name][1] = i + 1
                for n, v in zip(targets, rows[i]):
                    self.vars[n] = v
                self.vars["__fetch_status"] = 0
                self.row = rows[i][0]
                w = self.env.on_fetch(self.row)
                if w:
                    yield w
            else:
                self.vars["__fetch_status"] = -1
                self.row = None
            return
        if t in ("close_cursor_statement", "deallocate_cursor_statement"):
            return
        if t in ("insert_statement", "update_statement", "delete_statement"):
            self.q(to_sqlite(seg, self.prog.types))
            return
        if t == "execute_script_statement":
            obj = next(c for c in k if c.is_type("object_reference"))
            if obj.raw.lower().split(".")[-1] != "sp_executesql":
                raise Unsupported(f"EXEC of {obj.raw}")
            sql = self.value(next(c for c in k if c.is_type("expression")))
            m = ALTER_RE.match(sql or "")
            if not m:
                raise Unsupported(f"dynamic SQL not understood: {sql!r}")
            # raises SqlError when it fails
            w = self.env.alter(m.group(1).replace("]]", "]"), m.group(2))
            if w:
                yield w
            return
        if t == "try_catch":
            tried, caught, in_catch = [], [], False
            for c in k:
                if c.is_type("keyword") and c.raw.upper() == "CATCH":
                    in_catch = True
                elif c.is_type("statement"):
                    (caught if in_catch else tried).append(c)
            self.in_try += 1
            try:
                yield from self.block(tried)
            except SqlError as e:
                self.in_try -= 1
                self.vars["__error_message"] = str(e)
                self.vars["__error_number"] = e.number
                yield from self.block(caught)
            else:
                self.in_try -= 1
            return
        if t == "raiserror_statement":
            br = next(c for c in k if c.is_type("bracketed"))
            items = [c for c in kids(br) if c.get_type() not in ("start_bracket", "end_bracket", "comma")]
            fmt = validate._unquote_sql(items[0].raw)
            severity = int(items[1].raw)
            args = [self.vars[a.raw[1:].lower()] if a.raw.startswith("@")
                    else validate._unquote_sql(a.raw) if re.match(r"^[Nn]?'", a.raw) else a.raw for a in items[3:]]
            it = iter(args)
            text = re.sub(r"%[sd]", lambda _m: str(next(it)), fmt)
            with_log = "WITH LOG" in " ".join(x.raw.upper() for x in k[2:])
            self.messages.append((self.row, severity, text, with_log))
            if severity >= 11:
                if self.in_try:
                    raise SqlError(text, 50000)
                self.step_failed = True
            return
        if t == "print_statement":
            return
        raise Unsupported(f"statement type {t}: {norm(seg)[:60]}")


def if_branches(seg):
    """[(condition expression or None for ELSE, statement)] of an IF / ELSE IF / ELSE chain."""
    ks = kids(seg)
    out, i = [], 0
    while i < len(ks):
        c = ks[i]
        if c.is_type("if_clause"):
            out.append((next(x for x in kids(c) if x.is_type("expression")), ks[i + 1]))
            i += 2
        elif c.is_type("keyword") and c.raw.upper() == "ELSE":
            i += 1
        else:
            out.append((None, c))
            i += 1
    return out


def drive(gen):
    """Runs an interpreter generator to its end with no waiting; returns its context."""
    try:
        while True:
            next(gen)
    except StopIteration as e:
        return e.value


class StaticEnv:
    """One partner frozen in time: the ALTERs are recorded, not applied."""

    def __init__(self, catalog):
        self.catalog = catalog
        self.altered = []
        self.safety = []  # (name, "SAFETY FULL" / "SAFETY OFF")

    def before_query(self):
        pass

    def on_open(self, rows):
        pass

    def on_fetch(self, row):
        return 0

    def alter(self, name, action="FAILOVER"):
        if action == "FAILOVER":
            self.altered.append(name)
        else:
            self.safety.append((name, action))
        return 0


def find_all(seg, *types):
    return list(seg.recursive_crawl(*types))


def literals(seg):
    return [validate._unquote_sql(l.raw) for l in seg.raw_segments if l.is_type("quoted_literal")]


def in_lists(text):
    """The N'..' names of every `IN (N'a', N'b')` list in a normalised statement."""
    return [[x.replace("''", "'") for x in re.findall(r"N'((?:[^']|'')*)'", m.group(1))]
            for m in re.finditer(r"\bIN \(((?:N'(?:[^']|'')*'(?:, )?)+)\)", text)]


SQL_SET = "SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER ' + @action + N';'"
FRESH_READ = re.compile(
    r"^SELECT @role = m\.mirroring_role, @state = m\.mirroring_state, @state_desc = m\.mirroring_state_desc, "
    r"@safety = m\.mirroring_safety_level, @witness = ISNULL\(m\.mirroring_witness_name, N''\), "
    r"@anchor_role = \(SELECT a\.mirroring_role FROM sys\.database_mirroring AS a JOIN sys\.databases AS ad "
    r"ON ad\.database_id = a\.database_id WHERE ad\.name = N'((?:[^']|'')*)'\) FROM sys\.database_mirroring AS m "
    r"JOIN sys\.databases AS d ON d\.database_id = m\.database_id WHERE d\.name = @db$")


def structure(prog: Program):
    """The step's shape on its parse tree. Returns (errors, anchor, configured list or None,
    controlled list or None). The decision itself is checked by executing it (check_failover); the
    tree gives the lists and asserts what execution cannot see: the only EXEC is the ALTER built
    with QUOTENAME(@db) under `IF @action IS NOT NULL`, and the fresh read of the database and the
    anchor (one query) is the last catalog read before the decision, in the same loop iteration."""
    errs = []
    stmts = [kids(s)[0] for s in prog.stmts]
    anchor_q = [s for s in stmts if s.is_type("select_statement") and norm(s).startswith("SELECT @anchor_role = ")]
    if len(anchor_q) != 1:
        return [f"expected one top-level `SELECT @anchor_role = ...`, got {len(anchor_q)}"], None, None, None
    m = re.search(r"WHERE d\.name = N'((?:[^']|'')*)'$", norm(anchor_q[0]))
    anchor = m.group(1).replace("''", "'") if m else None
    if anchor is None:
        errs.append(f"query 1 does not read the anchor's mirroring_role by name: {norm(anchor_q[0])}")
    cursors = [s for s in find_all(prog.tree, "declare_segment") if find_all(s, "cursor_definition")]
    if len(cursors) != 1:
        return errs + [f"expected one cursor, got {len(cursors)}"], anchor, None, None
    cq = norm(cursors[0])
    if not cq.startswith("DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR SELECT d.name FROM sys.database_mirroring AS m ") \
            or "WHERE m.mirroring_role IS NOT NULL AND d.name <> N'" not in cq:
        errs.append(f"the cursor is not LOCAL FAST_FORWARD over the mirrored databases but the anchor: {cq[:120]}")
    lists = in_lists(cq)
    configured = lists[0] if lists else None
    hp_sets = [norm(s) for s in find_all(prog.tree, "set_local_variable_segment") if norm(s).startswith("SET @hp = ")]
    controlled = None
    if len(hp_sets) != 1:
        errs.append(f"expected one `SET @hp = ...`, got {len(hp_sets)}")
    elif hp_sets[0] != "SET @hp = 0":
        hl = in_lists(hp_sets[0])
        if not hl or not re.fullmatch(r"SET @hp = CASE WHEN @db IN \(.*\) THEN 1 ELSE 0 END", hp_sets[0]):
            errs.append(f"not SET @hp = CASE WHEN @db IN (...) THEN 1 ELSE 0 END: {hp_sets[0][:90]}")
        else:
            controlled = hl[0]
    execs = find_all(prog.tree, "execute_script_statement")
    if [norm(e) for e in execs] != ["EXEC master.sys.sp_executesql @sql"]:
        errs.append(f"the only EXEC must be `EXEC master.sys.sp_executesql @sql`: {[norm(e)[:60] for e in execs]}")
    sets = [norm(s) for s in find_all(prog.tree, "set_local_variable_segment") if norm(s).startswith("SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db)")]
    if sets != [SQL_SET]:
        errs.append(f"@sql is not built once as {SQL_SET}: {sets}")
    gates = [s for s in find_all(prog.tree, "if_then_statement") if norm(s).startswith("IF @action IS NOT NULL BEGIN SET @sql")]
    if len(gates) != 1 or not execs or execs[0] not in find_all(gates[0], "execute_script_statement"):
        errs.append("the ALTER is not inside `IF @action IS NOT NULL`")
    # In the loop body: the fresh read, then nothing that reads the catalog or waits until the ALTER.
    loop = find_all(prog.tree, "while_statement")
    body = []
    if len(loop) == 1:
        blk = next(c for c in kids(loop[0]) if c.is_type("statement"))
        bb = kids(blk)[0] if kids(blk) else None
        body = [kids(x)[0] for x in kids(bb) if x.is_type("statement")] if bb is not None and bb.is_type("begin_end_block") else []
    reads = [i for i, x in enumerate(body) if x.is_type("select_statement") and FRESH_READ.match(norm(x))]
    gate_at = [i for i, x in enumerate(body) if gates and x is gates[0]]
    if len(reads) != 1 or len(gate_at) != 1 or reads[0] > gate_at[0]:
        errs.append("the loop body lacks the fresh read of the database and the anchor (one query) before the ALTER")
    else:
        fm = FRESH_READ.match(norm(body[reads[0]]))
        if fm.group(1).replace("''", "'") != anchor:
            errs.append("the fresh read asks for another anchor")
        between = body[reads[0] + 1:gate_at[0]]
        if any(find_all(x, "select_statement", "fetch_cursor_statement", "execute_script_statement") for x in between):
            errs.append("a query, FETCH or EXEC between the fresh read and the ALTER")
    return errs, anchor, configured, controlled


class FailingEnv(StaticEnv):
    """Every ALTER fails with one of SQL Server's longest mirroring messages, error 1457
    ("Synchronization of the mirror database, '%.*ls', was interrupted, ...", Database engine
    events and errors 1000-1999), to hold the logged text to its 440 bytes."""

    def alter(self, name, action="FAILOVER"):
        super().alter(name, action)
        raise SqlError(f"Synchronization of the mirror database, '{name}', was interrupted, leaving the database in an "
                       "inconsistent state. The ALTER DATABASE command failed. Ensure that the principal database, if "
                       "available, is back up and online, and then reconnect the mirror server instance and allow the "
                       "mirror database to finish synchronizing.", 1457)


ROLES, STATES, SAFETIES = [1, 2, None], [0, 1, 2, 3, 4, None], [0, 1, 2, None]
# The anchor's role decides; its own state and safety only vary (a mutation reading them shows).
ANCHORS = [(1, 4, 2), (2, 4, 2), (None, None, None), (1, 0, 1), (2, 2, 1), (2, None, 0)]
WITNESS = "TCP://witness.example.com:5022"
ACTION_TEXT = {"FAILOVER": "failed over", "SAFETY FULL": "to safety FULL", "SAFETY OFF": "back to safety OFF"}
LOG_LIMIT = 440  # bytes (RAISERROR (Transact-SQL), option LOG); the error log's text is UTF-16


_PROGRAMS = {}


def program(step):
    p = _PROGRAMS.get(step)
    if p is None:
        p = _PROGRAMS[step] = Program(step)
    return p


def logged(ctx):
    return [(r, sev, t) for r, sev, t, w in ctx.messages if w]


def status_expected(a, d, n, hp_n, witness):
    """The status message (a phrase of it) a database gets on its first run, or None."""
    r, s, f = d
    if r != 1 or a[0] not in (1, 2):
        return None
    if s == 0:
        return "SET PARTNER RESUME"
    if a[0] == 2 and not (s == 4 and f == 2) and not (f == 1 and hp_n):
        return "cannot converge" if f == 1 else "cannot follow the anchor yet"
    if a[0] == 1 and hp_n and f == 2 and witness:
        return "it has a witness"
    return None


def check_step(step: str, configured: list[str], controlled: list[str] | None, structural=True, stop_at=0):
    """Executes the step for every (anchor role, state, safety) x (role, state, safety) given to a
    listed database (and to a high-performance one, with and without a witness): failover iff the
    anchor is the mirror here and the database principal, SYNCHRONIZED, safety FULL; SAFETY FULL iff
    anchor mirror, principal, safety OFF, not SUSPENDED, high-performance; SAFETY OFF iff anchor
    principal, principal SYNCHRONIZED FULL, high-performance, no witness; nothing else. A NULL
    anchor role fails the step, logged. Status messages name the real state and are logged once: a
    second run on the same outcome table logs only ALTERs. A failing ALTER (error 1457) is logged
    with its number and fails the step. Every logged text fits 440 bytes."""
    try:
        prog = program(step)
    except Unsupported as e:
        return [str(e)]
    errs, anchor, listed, hp = structure(prog)
    if errs and structural:
        return errs
    if not structural:
        anchor = anchor or (configured[0] if configured else None)
        listed = configured or None
        hp = controlled
    if sorted(listed or []) != sorted(configured):
        return [f"the step's database list {listed} is not the configured one {configured}"]
    if sorted(hp or []) != sorted(controlled or []):
        return [f"the step's high-performance list {hp} is not the configured one {controlled}"]
    watched = (lambda n: n in configured) if configured else (lambda n: True)
    others = [n for n in configured if n != anchor and n not in (hp or [])] or ["db_a"]
    plain = others[0]
    hp_db = (hp or [None])[0]
    extra = "not_configured_db" if configured else "db_b"
    errors = []
    counts = {"FAILOVER": 0, "SAFETY FULL": 0, "SAFETY OFF": 0, "status": 0, "error": 0}
    cat = new_catalog()
    try:
        for a, d in itertools.product(ANCHORS, itertools.product(ROLES, STATES, SAFETIES)):
            for witness in ([""] if hp_db is None else ["", WITNESS]):
                if stop_at and len(errors) >= stop_at:
                    break
                rows = [(anchor, *a), (plain, *d, witness), (extra, 1, 4, 2)]
                if hp_db:
                    rows.insert(2, (hp_db, *d, witness))
                load_catalog(cat, rows)
                cat.execute(f"DELETE FROM {OUTCOME_TABLE}")
                where = f"anchor={a} db={d} witness={bool(witness)}"
                errors += one_case(prog, cat, rows, a, watched, hp or [], where, counts)
    except (Unsupported, sqlite3.Error) as e:
        errors.append(f"the step cannot be executed: {e}")
    need = ["FAILOVER", "status", "error"] + (["SAFETY FULL", "SAFETY OFF"] if hp_db else [])
    if not errors and any(counts[k] == 0 for k in need):
        errors.append(f"a branch was never taken: {counts}")
    return errors[:20] + ([f"({len(errors)} failures)"] if errors else [])


def one_case(prog, cat, rows, a, watched, hp, where, counts):
    errors = []
    env = StaticEnv(cat)
    ctx = drive(prog.run(env))
    fo, safety = set(), set()
    for n, r, s, f, *w in rows[1:]:
        if not watched(n) or a[0] not in (1, 2):
            continue
        if a[0] == 2 and (r, s, f) == (1, 4, 2):
            fo.add(n)
        if a[0] == 2 and r == 1 and f == 1 and s != 0 and n in hp:
            safety.add((n, "SAFETY FULL"))
        if a[0] == 1 and (r, s, f) == (1, 4, 2) and n in hp and not (w and w[0]):
            safety.add((n, "SAFETY OFF"))
    if set(env.altered) != fo or len(env.altered) != len(set(env.altered)):
        errors.append(f"{where}: failed over {env.altered}, expected {sorted(fo)}")
    if set(env.safety) != safety or len(env.safety) != len(set(env.safety)):
        errors.append(f"{where}: SET PARTNER {env.safety}, expected {sorted(safety)}")
    acts = [(n, "FAILOVER") for n in env.altered] + env.safety
    for n, act in acts:
        counts[act] += 1
        if not any(r == n and ACTION_TEXT[act] in t for r, _, t in logged(ctx)):
            errors.append(f"{where}: no RAISERROR ... WITH LOG `{ACTION_TEXT[act]}` for {n}")
    null_logged = any(sev >= 11 and "not visible" in t for _, sev, t in logged(ctx))
    if (a[0] is None) != (ctx.step_failed and null_logged and not acts):
        errors.append(f"{where}: anchor role {a[0]}: step failed={ctx.step_failed}, logged={null_logged}, ALTERs {acts}")
    acted = {n for n, _ in acts}
    for n, r, s, f, *w in rows[1:]:
        want = status_expected(a, (r, s, f), n, n in hp, w and w[0]) if watched(n) and n not in acted else None
        got = [t for row, _, t in logged(ctx) if row == n]
        if want is not None:
            counts["status"] += 1
            if not any(want in t for t in got):
                errors.append(f"{where}: no `{want}` message WITH LOG for {n}: {got}")
            if want == "cannot follow the anchor yet" and f"here and {STATE_DESC.get(s)} (" not in " ".join(got):
                errors.append(f"{where}: the message for {n} does not name its state {STATE_DESC.get(s)}: {got}")
        elif n not in acted and got:
            errors.append(f"{where}: unexpected message for {n}: {got}")
    for _, _, t in logged(ctx):
        if len(t.encode("utf-16-le")) > LOG_LIMIT:
            errors.append(f"{where}: a logged text of {len(t.encode('utf-16-le'))} bytes (over {LOG_LIMIT}): {t[:80]}")
    # Quiet: the same state again logs only the ALTERs (StaticEnv does not apply them).
    ctx2 = drive(prog.run(StaticEnv(cat)))
    again = [(r, t) for r, _, t in logged(ctx2) if not any(x in t for x in ACTION_TEXT.values())
             and not (a[0] is None)]
    if again:
        errors.append(f"{where}: logged again on an unchanged state: {again}")
    if a[0] is None and (not ctx2.step_failed or logged(ctx2)):
        errors.append(f"{where}: a NULL anchor role: the second run must fail again without logging again")
    if acts:  # the same ALTERs failing: logged with the error number, the step fails; once
        cat.execute(f"DELETE FROM {OUTCOME_TABLE}")
        for k in range(2):
            ctx3 = drive(prog.run(FailingEnv(cat)))
            errs3 = [t for _, _, t in logged(ctx3) if "failed, error 1457" in t]
            if not ctx3.step_failed or len(errs3) != (len(acts) if k == 0 else 0):
                errors.append(f"{where}: failing ALTERs (run {k + 1}): step failed={ctx3.step_failed}, logged {errs3}")
            for t in errs3:
                counts["error"] += 1
                if len(t.encode("utf-16-le")) > LOG_LIMIT:
                    errors.append(f"{where}: a logged error of {len(t.encode('utf-16-le'))} bytes: {t[:80]}")
    return errors


def split_controlled(args):
    """[DB ...] [--controlled=DB,DB] -> (configured, controlled or None)."""
    dbs, hp = [], None
    for x in args:
        if x.startswith("--controlled="):
            hp = [n for n in x.split("=", 1)[1].split(",") if n]
        else:
            dbs.append(x)
    return dbs, hp


def outcome_ddl(job_text):
    """The installer creates the outcome table in msdb if it is missing, with the columns the
    step uses, before the job exists (the step reads it from its first run)."""
    m = re.search(r"IF OBJECT_ID\(N'msdb\.dbo\.sitebundle_mirroring_outcome', N'U'\) IS NULL\n\s*"
                  r"CREATE TABLE msdb\.dbo\.sitebundle_mirroring_outcome \(\n((?:.*\n)*?)\s*\);", job_text)
    if not m:
        return ["the installer does not create msdb.dbo.sitebundle_mirroring_outcome when it is missing"]
    cols = [c.strip().split()[0] for c in m.group(1).split(",\n") if c.strip() and not c.strip().startswith("CONSTRAINT")]
    errs = [] if cols == OUTCOME_COLUMNS else [f"the outcome table's columns {cols} are not {OUTCOME_COLUMNS}"]
    if job_text.find("sitebundle_mirroring_outcome (") > job_text.find("sp_add_job\n"):
        errs.append("the outcome table is created after the job")
    return errs


def failover(job_file: str, args: list[str]) -> None:
    configured, controlled = split_controlled(args)
    text = open(job_file, encoding="utf-8").read().replace("\r\n", "\n")
    errs = outcome_ddl(text)
    try:
        step = step_text(text)
    except Unsupported as e:
        fail([str(e)])
    errs += check_step(step, configured, controlled)
    if errs:
        fail(errs)
    print("ok")


# Mutations of the step text (as the step reads, quotes not doubled); each must be caught by
# executing it (structural=False: the tree's checks are not what catches it).
FAILOVER_MUTATIONS = [
    ("fails over an unsynchronized database", "AND @safety = 2 AND @state = 4\n            SET @action = N'FAILOVER'",
     "AND @safety = 2\n            SET @action = N'FAILOVER'"),
    ("fails over where the anchor is principal", "ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 2 AND @state = 4",
     "ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @state = 4"),
    ("logs every run (no outcome compare)", "IF ISNULL(@last, N'in step') <> @outcome", "IF 1 = 1"),
    ("the fresh read reads every row", "        WHERE d.name = @db;\n        IF @role = 1", "        WHERE 1 = 1;\n        IF @role = 1"),
    ("SUSPENDED treated as waiting", "        IF @role = 1 AND @state = 0\n            SET @outcome = N'suspended';\n        ELSE IF",
     "        IF"),
    ("failover not logged", "to follow the anchor database.', 10, 1, @name) WITH LOG;", "to follow the anchor database.', 10, 1, @name);"),
    ("server message not cut", "SET @msg = LEFT(ERROR_MESSAGE(), 100);", "SET @msg = ERROR_MESSAGE();"),
    ("a failed ALTER does not fail the step", "    IF @failed > 0\n", "    IF @failed > 1000\n"),
    ("NULL anchor role is nothing to do", "ELSE IF @anchor_role IS NULL\n", "ELSE IF 1 = 0\n"),
]
CONTROLLED_MUTATIONS = [
    ("SAFETY FULL on any database", "AND @safety = 1 AND @hp = 1\n            SET @action = N'SAFETY FULL'",
     "AND @safety = 1\n            SET @action = N'SAFETY FULL'"),
    ("SAFETY OFF with a witness", "        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @hp = 1 AND @witness <> N''\n            SET @outcome = N'witness';\n", ""),
    ("SAFETY OFF before SYNCHRONIZED", "AND @safety = 2 AND @state = 4 AND @hp = 1\n            SET @action = N'SAFETY OFF'",
     "AND @safety = 2 AND @hp = 1\n            SET @action = N'SAFETY OFF'"),
    ("SAFETY FULL where the anchor is principal", "ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1 AND @hp = 1",
     "ELSE IF @role = 1 AND @safety = 1 AND @hp = 1"),
]


def failover_selftest(job_file: str, args: list[str]) -> None:
    configured, controlled = split_controlled(args)
    text = open(job_file, encoding="utf-8").read().replace("\r\n", "\n")
    step = step_text(text)
    base = check_step(step, configured, controlled) + outcome_ddl(text)
    if base:
        fail(["the real job fails the check:"] + base)
    errs = []
    for what, old, new in FAILOVER_MUTATIONS + (CONTROLLED_MUTATIONS if controlled else []):
        if old not in step:
            errs.append(f"mutation `{what}`: text not found: {old!r}")
            continue
        got = check_step(step.replace(old, new, 1), configured, controlled, structural=False, stop_at=1)
        if not got:
            errs.append(f"mutation `{what}` was not caught by execution")
        else:
            print(f"mutation `{what}` caught by execution: {got[0][:110]}")
    if errs:
        fail(errs)
    print("ok")


def owner_check(job_file: str, owner: str) -> None:
    """The installer's owner check, executed: the batch that calls IS_SRVROLEMEMBER runs before any
    batch that changes something, and stops the script (severity 16 outside TRY, with sqlcmd's
    `:on error exit`) unless IS_SRVROLEMEMBER(N'sysadmin', owner) is 1; it passes for 1. The
    function's answer is the input: 1 member, 0 not a member, NULL no such login
    (IS_SRVROLEMEMBER (Transact-SQL))."""
    text = open(job_file, encoding="utf-8").read().replace("\r\n", "\n")
    errs = []
    if not text.startswith(":on error exit\n"):
        errs.append("the script does not start with `:on error exit` (sqlcmd would go on after the error)")
    batches = [b for _, b in validate._sql_batches(validate._normalise_tsql(text)) if b.strip()]
    checks = [i for i, b in enumerate(batches) if "IS_SRVROLEMEMBER" in b]
    changes = [i for i, b in enumerate(batches) if re.search(r"\b(EXEC|BEGIN TRANSACTION|CREATE|INSERT|UPDATE)\b", b)]
    if len(checks) != 1:
        fail(errs + [f"expected one batch calling IS_SRVROLEMEMBER, got {len(checks)}"])
    if changes and changes[0] < checks[0]:
        errs.append("a batch changes something before the owner check")
    prog = Program(batches[checks[0]])
    for member, want_fail in [(1, False), (0, True), (None, True)]:
        cat = new_catalog()
        asked = []

        def is_srvrolemember(role, login, member=member):
            asked.append((role, login))
            return member
        cat.create_function("IS_SRVROLEMEMBER", 2, is_srvrolemember)
        ctx = drive(prog.run(StaticEnv(cat)))
        if asked != [("sysadmin", owner)]:
            errs.append(f"IS_SRVROLEMEMBER was asked {asked}, expected [('sysadmin', {owner!r})]")
        named = any(sev >= 11 and owner in t and "sysadmin" in t for _, sev, t, _ in ctx.messages)
        if ctx.step_failed != want_fail or (want_fail and not named):
            errs.append(f"owner role {member}: script stopped={ctx.step_failed} (expected {want_fail}), "
                        f"message naming the owner: {named}: {ctx.messages}")
        else:
            print(f"owner {owner!r} sysadmin={member}: " + ("stops: " + ctx.messages[0][2][:100] if want_fail else "passes"))
    if errs:
        fail(errs)
    print("ok")



# ------------------------------------------------------------------------------- simulate
#
# Two partners A, B; each database: principal partner, state (lagging until sync_at), safety.
# A partner's sys.database_mirroring: role 1 where it is principal, 2 where mirror; state
# DISCONNECTED (1) when the other partner is down, else SYNCHRONIZING (2) / SUSPENDED (0) while
# lagging, SYNCHRONIZED (4) otherwise; safety FULL (2) or OFF (1). Each partner's job step is
# executed by the interpreter above on that partner's view at the tick it runs.

SYNCED, SYNCING, SUSPENDED, DISCONNECTED = 4, 2, 0, 1
OLD_JOB = os.path.join(HERE, "fixtures", "sql", "old-failover-job.sql")
DEFAULT_SEED = 20261125
RUN_MAX = 90  # a job run's own duration (its waits between fetches), seconds


def schedule_of(job_text):
    kind = re.search(r"@freq_subday_type = (\d+)", job_text)
    n = re.search(r"@freq_subday_interval = (\d+)", job_text)
    start = re.search(r"@active_start_time = (\d+)", job_text)
    unit = {2: 1, 4: 60, 8: 3600}[int(kind.group(1))]
    interval = int(n.group(1)) * unit
    hhmmss = int(start.group(1))
    off = (hhmmss // 10000) * 3600 + (hhmmss // 100 % 100) * 60 + hhmmss % 100
    return interval, off % interval


class DbState:
    def __init__(self, name, principal, safety):
        self.name, self.principal, self.safety = name, principal, safety
        self.sync_at, self.lag_state = 0, SYNCED

    def state(self, t):
        return SYNCED if t >= self.sync_at else self.lag_state


class PartnerEnv:
    def __init__(self, sim, p):
        self.sim, self.p = sim, p
        self.catalog = new_catalog()
        self.loaded = None
        self.run = None

    def view(self):
        s = self.sim
        other_down = s.down_until[1 - self.p] > s.now
        return tuple((d.name, 1 if d.principal == self.p else 2,
                      DISCONNECTED if other_down else d.state(s.now), d.safety) for d in s.dbs)

    def before_query(self):
        v = self.view()
        if v != self.loaded:
            load_catalog(self.catalog, v)
            self.loaded = v

    def on_open(self, rows):
        self.run.gap = max(1, self.run.duration // max(1, len(rows)))

    def on_fetch(self, row):
        return self.sim.rng.randint(1, self.run.gap)

    def alter(self, name, action="FAILOVER"):
        return self.sim.job_alter(self.p, name, action)


class Run:
    def __init__(self, rid, p, start, duration):
        self.rid, self.p, self.start, self.duration = rid, p, start, duration
        self.gap, self.dead, self.gen = 1, False, None


class Sim:
    def __init__(self, prog, names, anchor, sched, seed, control, hp=None, bound=None):
        self.prog, self.sched, self.seed = prog, sched, seed
        self.hp, self.bound = list(hp or []), bound
        rng = self.rng = random.Random(seed)
        if self.hp:  # controlled failover: the high-performance databases are always there
            names = [x for x in self.hp if x != anchor] + [x for x in names if x != anchor and x not in self.hp]
            n = rng.randint(max(2, 1 + len(self.hp)), max(2, 1 + len(self.hp), min(6, 1 + len(names))))
        else:
            n = rng.randint(2, min(6, len(names)) if names else 6)  # listed: only the listed databases
        self.names = ([anchor] + [x for x in names if x != anchor])[:n]
        self.names += [f"db{i}" for i in range(1, n - len(self.names) + 1)]
        home = rng.randint(0, 1)
        self.off = None
        if self.hp:  # a safety OFF database that is not in the list (it cannot converge)
            plain = [x for x in self.names[1:] if x not in self.hp]
            if rng.random() < 0.15 and plain:
                self.off = rng.choice(plain)
        elif rng.random() < 0.15 and n > 1:
            self.off = rng.choice(self.names[1:])
        self.dbs = [DbState(x, home, 1 if x == self.off or x in self.hp else 2) for x in self.names]
        if self.off and rng.random() < 0.6:
            next(d for d in self.dbs if d.name == self.off).principal = 1 - home
        for d in self.dbs:  # a high-performance database may start on the other partner
            if d.name in self.hp and rng.random() < 0.3:
                d.principal = 1 - home
        self.safety_log = [(0, d.name, d.safety, "initial") for d in self.dbs]
        self.stale = []
        self.dist_lag_iv = []  # the disturbances' lags only (not the job's own)
        self.safety_alters = {"SAFETY FULL": 0, "SAFETY OFF": 0}
        self.latency = None
        self.T = rng.randint(1800, 3600)
        self.phase = rng.randint(0, 59)
        k = rng.randint(1, 6)
        kinds = ["partner_down", "auto_failover", "manual_failover", "fall_behind", "alert"]
        self.events = sorted((rng.randint(60, self.T - 900), rng.choice(kinds), rng.randint(0, 1),
                              rng.choice(self.names)) for _ in range(k))
        if self.hp:  # the same events; the horizon is extended so that I1' can always be checked
            self.T += self.bound
        self.now = 0
        self.down_until = [0, 0]
        self.down_iv = []  # (start, end)
        self.lag_iv = []  # (start, end)
        self.moves = [(0, d.name, d.principal, "initial") for d in self.dbs]
        self.envs = [PartnerEnv(self, 0), PartnerEnv(self, 1)]
        self.heap, self.seq, self.rid = [], 0, 0
        self.timeline = []
        self.violations = {"I1": [], "I2": [], "I3": [], "OFF": [], "HP": []}
        self.seg_moves = {}
        self.steps = self.runs = self.alters = self.cannot_converge = 0

    def log(self, msg):
        self.timeline.append(f"t={self.now:5d} {msg}")

    def push(self, t, kind, arg=None):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, arg))

    def db(self, name):
        return next(d for d in self.dbs if d.name == name)

    def lag(self, d, secs, state=SYNCING, job=False):
        d.sync_at = max(d.sync_at, self.now + secs)
        d.lag_state = state
        self.lag_iv.append((self.now, d.sync_at))
        if not job:
            self.dist_lag_iv.append((self.now, d.sync_at))

    def move(self, d, to, why):
        d.principal = to
        self.moves.append((self.now, d.name, to, why))
        self.log(f"{d.name} principal -> {'AB'[to]} ({why})")

    def alerts(self):
        for p in (0, 1):
            if self.down_until[p] <= self.now:
                self.push(self.now + self.rng.randint(1, 5), "start", (p, "alert"))

    def both_up(self):
        return self.down_until[0] <= self.now and self.down_until[1] <= self.now

    # ---- disturbances
    def disturb(self, ev):
        _, kind, p, name = ev
        if kind != "alert":
            self.seg_moves = {}
        d = self.db(name)
        if kind == "partner_down":
            if self.down_until[1 - p] > self.now or self.down_until[p] > self.now:
                self.log(f"{kind} {'AB'[p]}: skipped (a partner is already down)")
                return
            secs = self.rng.randint(30, 300)
            self.log(f"DISTURBANCE partner {'AB'[p]} down for {secs}s")
            self.down_until[p] = self.now + secs
            self.down_iv.append((self.now, self.now + secs))
            run = self.envs[p].run
            if run:
                run.dead = True
                self.envs[p].run = None
            moved = False
            for x in self.dbs:  # witness: automatic failover of the synchronized FULL databases
                if x.principal == p and x.safety == 2 and x.state(self.now) == SYNCED:
                    self.move(x, 1 - p, "automatic failover, principal partner down")
                    moved = True
            if moved:
                self.push(self.now + self.rng.randint(1, 5), "start", (1 - p, "alert state 8"))
            self.push(self.now + secs, "up", p)
        elif kind in ("auto_failover", "manual_failover"):
            ok = self.both_up() and d.safety == 2 and d.state(self.now) == SYNCED
            self.log(f"DISTURBANCE {kind} of {name}" + ("" if ok else ": refused (not SYNCHRONIZED/FULL or a partner down)"))
            if ok:
                self.move(d, 1 - d.principal, kind.replace("_", " "))
                self.lag(d, self.rng.randint(5, 60) if kind == "auto_failover" else self.rng.randint(1, 10))
                self.alerts()
        elif kind == "fall_behind":
            if self.both_up():
                secs = self.rng.randint(5, 120)
                st = SUSPENDED if self.rng.random() < 0.3 else SYNCING
                self.log(f"DISTURBANCE {name} mirror behind: {'SUSPENDED' if st == SUSPENDED else 'SYNCHRONIZING'} for {secs}s")
                self.lag(d, secs, st)
        elif kind == "alert":
            self.log(f"alert fires on {'AB'[p]}")
            if self.down_until[p] <= self.now:
                self.push(self.now, "start", (p, "alert"))

    # ---- the job
    def job_safety(self, p, name, action):
        """ALTER DATABASE ... SET PARTNER SAFETY FULL / OFF, run by the job on partner p. Model: the
        server accepts it on the principal only (whatever the other partner's state); FULL on a
        database in OFF makes the mirror catch up: SYNCHRONIZING for 1-20 s, then SYNCHRONIZED; OFF
        takes effect at once."""
        d = self.db(name)
        self.safety_alters[action] += 1
        if name not in self.hp:
            self.violations["HP"].append(f"{'AB'[p]} {action} on {name}, not a high-performance database")
        if d.principal != p:
            self.log(f"{'AB'[p]} {action} {name}: error, not principal here")
            raise SqlError(f"{name} is not principal here")
        new = 2 if action == "SAFETY FULL" else 1
        if new != d.safety:
            d.safety = new
            self.safety_log.append((self.now, name, new, f"job on {'AB'[p]}"))
            self.log(f"{name} {action} (job on {'AB'[p]})")
            if new == 2:
                self.lag(d, self.rng.randint(1, 20), job=True)
        # Stale: decided on a view that no longer holds (the restore cursor is read once, at OPEN,
        # not again right before each ALTER): counted and reported, not an invariant.
        anchor_here = self.db(self.names[0]).principal == p
        if (action == "SAFETY OFF") != anchor_here:
            self.stale.append(f"t={self.now} {'AB'[p]} {action} {name} while the anchor is "
                              f"{'principal' if anchor_here else 'the mirror'} there")
        return self.rng.randint(1, 5)

    def job_alter(self, p, name, action="FAILOVER"):
        if action != "FAILOVER":
            return self.job_safety(p, name, action)
        d = self.db(name)
        self.alters += 1
        ok_state = self.both_up() and d.state(self.now) == SYNCED and d.safety == 2
        if not ok_state:
            self.violations["I3"].append(f"{'AB'[p]} ALTER {name} while state={d.state(self.now)} safety={d.safety} both_up={self.both_up()}")
            if name == self.off:
                self.violations["OFF"].append(f"{'AB'[p]} tried to fail over {name} (safety OFF)")
            self.log(f"{'AB'[p]} ALTER {name}: REFUSED by the server (I3 violation)")
            raise SqlError(f"cannot fail over {name}: not SYNCHRONIZED/FULL")
        if d.principal != p:
            self.log(f"{'AB'[p]} ALTER {name}: error, not principal here")
            raise SqlError(f"{name} is not principal here")
        self.move(d, 1 - p, f"job on {'AB'[p]}")
        c = self.seg_moves.get(name, 0) + 1
        self.seg_moves[name] = c
        if c > 1:
            self.violations["I2"].append(f"{name} moved {c} times since the last disturbance")
        self.lag(d, self.rng.randint(1, 10), job=bool(self.hp))
        self.alerts()
        return self.rng.randint(1, 20)

    def start(self, p, why):
        env = self.envs[p]
        if self.down_until[p] > self.now or env.run is not None:
            return
        self.rid += 1
        self.runs += 1
        run = env.run = Run(self.rid, p, self.now, self.rng.randint(1, RUN_MAX))
        run.why = why
        run.gen = self.prog.run(env)
        self.advance(run)

    def advance(self, run):
        env = self.envs[run.p]
        try:
            w = next(run.gen)
            self.push(self.now + w, "resume", run)
        except StopIteration as e:
            ctx = e.value
            env.run = None
            for row, _, text, _ in ctx.messages:
                if row in self.hp and "cannot converge" in text:
                    self.violations["HP"].append(f"{'AB'[run.p]} message for {row}: {text}")
                if row == self.off:
                    if "cannot converge" in text:
                        self.cannot_converge += 1
                    elif "SUSPENDED" not in text and "needs nothing more" not in text:
                        self.violations["OFF"].append(f"{'AB'[run.p]} message for {row}: {text}")
                self.log(f"{'AB'[run.p]} run#{run.rid} ({run.why}): {text[:110]}")

    def simulate(self):
        interval, _ = self.sched[0]
        for i, (iv, off) in enumerate(self.sched):
            t = (off - self.phase) % iv
            while t < self.T:
                self.push(t, "start", (i, "schedule"))
                t += iv
        for ev in self.events:
            self.push(ev[0], "event", ev)
        while self.heap:
            t, _, kind, arg = heapq.heappop(self.heap)
            if t > self.T:
                break
            self.now = t
            self.steps += 1
            if kind == "event":
                self.disturb(arg)
            elif kind == "start":
                self.start(*arg)
            elif kind == "resume":
                if not arg.dead:
                    self.advance(arg)
            elif kind == "up":
                self.log(f"partner {'AB'[arg]} back; every database resynchronizes")
                for d in self.dbs:
                    self.lag(d, self.rng.randint(5, 60))
        if self.hp:
            self.check_i1_hp()
        else:
            self.check_i1(interval)

    def check_i1_hp(self):
        """I1': from the first moment after the last disturbance at which both partners are up and
        no disturbance's resynchronization is under way, within self.bound seconds every database
        is principal on the anchor's principal partner and every high-performance database is back
        to safety OFF; and nothing moves or changes safety after that."""
        if self.off:
            return
        last = self.events[-1][0]
        ivs = self.dist_lag_iv + self.down_iv
        cands = sorted({last} | {e for _, e in ivs if e >= last})
        quiet = next((c for c in cands if not any(s <= c < e for s, e in ivs)), None)
        changes = [t for t, *_ in self.moves + self.safety_log if quiet is not None and t >= quiet]
        if quiet is not None:
            self.latency = max(changes, default=quiet) - quiet
        if quiet is None or quiet + self.bound > self.T:
            self.unchecked = True
            return
        at = quiet + self.bound
        where, safety = {}, {}
        for t, name, p, _ in self.moves:
            if t <= at:
                where[name] = p
        for t, name, v, _ in self.safety_log:
            if t <= at:
                safety[name] = v
        anchor_p = where[self.names[0]]
        late = [("move", t, n) for t, n, *_ in self.moves if t > at] + \
               [("safety", t, n) for t, n, *_ in self.safety_log if t > at]
        bad = [n for n, p in where.items() if p != anchor_p] + [n for n in self.hp if safety.get(n) != 1]
        if bad or late:
            self.violations["I1"].append(
                f"quiet (both up, no disturbance lag) from t={quiet}; at t={at}: "
                + ", ".join(f"{n}@{'AB'[p]}/{'FULL' if safety[n] == 2 else 'OFF'}" for n, p in where.items())
                + (f"; changes after: {late[:6]}" if late else ""))

    def check_i1(self, interval):
        if self.off:
            return
        window = 2 * interval + abs(self.sched[1][1] - self.sched[0][1])
        last = self.events[-1][0]
        cands = sorted({last} | {e for _, e in self.lag_iv + self.down_iv if e >= last})
        quiet = next((c for c in cands if not any(s <= c < e for s, e in self.lag_iv + self.down_iv)), None)
        if quiet is None or quiet + window > self.T:
            self.unchecked = True
            return
        at = quiet + window
        where = {}
        for t, name, p, _ in self.moves:
            if t <= at:
                where[name] = p
        late = [m for m in self.moves if m[0] > at]
        if len(set(where.values())) != 1 or late:
            self.violations["I1"].append(
                f"quiet (both up, all SYNCHRONIZED/FULL) from t={quiet}; at t={at}: "
                + ", ".join(f"{n}@{'AB'[p]}" for n, p in where.items())
                + (f"; moves after: {[(t, n, 'AB'[p]) for t, n, p, _ in late][:6]}" if late else ""))


def hp_bound(sched, n_dbs):
    """I1' bound (controlled failover), in seconds after the quiet point Q (the last disturbance
    over, both partners up, no disturbance's resynchronization under way; the job's own lags are
    inside the bound). A run lasts at most run = RUN_MAX (its waits between fetches) + 20 s per
    ALTER (at most one per database); a partner starts its next run at its first schedule tick
    (every `interval`) after its current run ends. Worst case, in sequence:
      R1, on the partner M where the anchor is the mirror, starts by Q + run + interval (the run in
         progress at Q may have read an older view); during R1 (<= run): every other database is
         failed over, each high-performance one is set to safety FULL;
      the mirror catches up: <= 20 s;
      R2, on M, starts by end of R1 + 20 + interval and fails it over during it (<= run);
      R3, on the anchor's partner, starts by that failover + run + interval (the run in progress
         there may be an older one; the failover's own lag, <= 10 s, is shorter than a run) and
         sets it back to safety OFF during it (<= run).
    Total: 5 * run + 3 * interval + 20."""
    iv = sched[0][0]
    run = RUN_MAX + 20 * n_dbs
    return 5 * run + 3 * iv + 20


def simulate(argv):
    ap = argparse.ArgumentParser(prog="sql_logic.py simulate")
    ap.add_argument("job_a")
    ap.add_argument("job_b")
    ap.add_argument("--seeds", type=int, default=2000, help="number of sequences (seeds SEED..SEED+N-1)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--control", choices=["old"])
    ap.add_argument("--control-job", default=OLD_JOB)
    ap.add_argument("--bound", type=int, help="I1' bound in seconds (controlled failover; default: see HP_BOUND)")
    a = ap.parse_args(argv)
    t0, c0 = time.time(), time.process_time()
    texts = [open(f, encoding="utf-8").read().replace("\r\n", "\n") for f in (a.job_a, a.job_b)]
    steps = [step_text(t) for t in texts]
    if steps[0] != steps[1]:
        fail(["the two partners' steps differ"])
    new = Program(steps[0])
    errs, anchor, listed, hp = structure(new)
    if errs:
        fail(["the step fails the structural check:"] + errs)
    sched = [schedule_of(t) for t in texts]
    if a.control:
        hp = None
    bound = None
    if hp:
        bound = a.bound or hp_bound(sched, min(6, len(listed or [])) or 6)
    prog = new
    if a.control:
        old_text = open(a.control_job, encoding="utf-8").read().replace("\r\n", "\n")
        prog = Program(step_text(old_text))
        sched = [schedule_of(old_text), (schedule_of(old_text)[0], (schedule_of(old_text)[1] + 30) % 60)]
    names = listed or []
    totals = {"sim_seconds": 0, "steps": 0, "runs": 0, "alters": 0, "cannot_converge": 0, "unchecked": 0, "off": 0}
    first = {}
    counts = {k: 0 for k in ("I1", "I2", "I3", "OFF", "HP")}
    safety_alters = {"SAFETY FULL": 0, "SAFETY OFF": 0}
    latencies, stale = [], []
    for i in range(a.seeds):
        seed = a.seed + i
        s = Sim(prog, names, anchor, sched, seed, a.control, hp, bound)
        s.simulate()
        if s.stale:
            stale.append((seed, s.stale))
        for k in safety_alters:
            safety_alters[k] += s.safety_alters[k]
        if s.latency is not None and not s.off:
            latencies.append((s.latency, seed))
        totals["sim_seconds"] += s.T
        totals["steps"] += s.steps
        totals["runs"] += s.runs
        totals["alters"] += s.alters
        totals["cannot_converge"] += s.cannot_converge
        totals["unchecked"] += getattr(s, "unchecked", False)
        totals["off"] += bool(s.off)
        for k, v in s.violations.items():
            if v:
                counts[k] += 1
                first.setdefault(k, (seed, s, v[0]))
    wall, cpu = time.time() - t0, time.process_time() - c0
    rule = "old (control: " + os.path.relpath(a.control_job, os.getcwd()) + ")" if a.control else "new (anchor " + str(anchor) + ")"
    print(f"simulate: rule {rule}; seeds {a.seed}..{a.seed + a.seeds - 1}; {a.seeds} sequences; "
          f"{totals['sim_seconds']} simulated seconds; {totals['steps']} steps; {totals['runs']} job runs; "
          f"{totals['alters']} ALTERs; wall {wall:.1f}s, cpu {cpu:.1f}s")
    print(f"  {totals['off']} sequences with a safety OFF database (I1 not expected; `cannot converge` "
          f"raised {totals['cannot_converge']} times); I1 not checkable in {totals['unchecked']}")
    if hp:
        latencies.sort()
        q = latencies[int(0.99 * (len(latencies) - 1))][0] if latencies else None
        print(f"  controlled failover of {hp}: ALTERs issued: {safety_alters['SAFETY FULL']} SET PARTNER SAFETY FULL, "
              f"{safety_alters['SAFETY OFF']} SAFETY OFF; I1' bound {bound}s after the quiet point; "
              f"last change after it: max {latencies[-1][0] if latencies else None}s (seed "
              f"{latencies[-1][1] if latencies else None}), p99 {q}s")
        print(f"  stale SAFETY ALTERs (decided before the anchor moved; extra FULL/OFF round trip, no "
              f"failover): {sum(len(x) for _, x in stale)} in {len(stale)} sequences"
              + (f", first: seed {stale[0][0]}: {stale[0][1][0]}" if stale else ""))
    for k in ("I1", "I2", "I3", "OFF", "HP"):
        print(f"  {k}: violated in {counts[k]} sequences")
    for k in ("I2", "I1", "I3", "OFF", "HP"):
        if k in first:
            seed, s, v = first[k]
            print(f"first {k} counterexample: seed {seed} ({len(s.names)} databases {s.names}, {s.T}s, "
                  f"safety OFF: {s.off}): {v}")
            print("  events: " + "; ".join(f"t={t} {kind} {'AB'[p]} {n}" for t, kind, p, n in s.events))
            for line in s.timeline[:80]:
                print("  " + line)
    if a.control:
        if counts["I1"] and counts["I2"]:
            print("control: the old rule violates I1 and I2 (both counterexamples found)")
            return
        fail(["control: the old rule was expected to violate I1 and I2"])
    if any(counts.values()) or totals["cannot_converge"] == 0:
        fail(["invariants violated (or the cannot-converge branch never taken)"])
    if hp and min(safety_alters.values()) == 0:
        fail([f"the controlled failover was never exercised: {safety_alters}"])
    print("invariants held: I1, I2, I3 and the safety OFF checks"
          + (" (I1 as I1': including the high-performance databases back to safety OFF)" if hp else ""))


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
    elif mode == "failover-selftest":
        failover_selftest(path, sys.argv[3:])
    elif mode == "simulate":
        simulate(sys.argv[2:])
    elif mode == "owner-check":
        owner_check(path, sys.argv[3])
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
