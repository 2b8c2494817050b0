#!/usr/bin/env python3
"""Logic checks of the availability group artifacts (issue 31; called by tests/it/sql_ag.rs).

    sql_ag_sim.py readiness FILE.sql N           the verdict of ag-readiness.sql, executed
    sql_ag_sim.py readiness-selftest FILE.sql N  ... the check rejects mutated verdicts (controls)
    sql_ag_sim.py converge FILE.sql N [--seeds K] [--control]
                                                 a 3-replica AG over time: planned failovers taken
                                                 only on READY lose nothing and always succeed
    sql_ag_sim.py alerts FILE.sql                ag-alerts.sql: each alert's message is written to
                                                 the Application log before the alert exists

readiness: the last batch of ag-readiness.sql (DECLARE, SELECT @v = ..., IF / ELSE IF / PRINT) is
executed by tests/sql_logic.py's interpreter (sqlfluff parse tree, queries translated to SQLite)
against a stand-in of the Always On catalog views, the schema `sys` attached in SQLite, for every
combination of: Always On enabled, the local replica's role (none, PRIMARY, SECONDARY, RESOLVING)
and availability mode, and each of the N databases' local state (absent, SYNCHRONIZED,
SYNCHRONIZING, NOT SYNCHRONIZING, REVERTING, INITIALIZING; suspended or not), with a second group
on the instance that is always ready (the verdict must be about this group only). The verdict
printed (READY / PRIMARY / NOT READY) must be the rule's:

  R1 FAILOVER is "supported only on a synchronous-commit secondary replica that is currently
     synchronized with the primary replica" (ALTER AVAILABILITY GROUP (Transact-SQL), FAILOVER;
     docs/modern-targets.md 6.1): READY iff Always On is enabled, the local replica is SECONDARY,
     SYNCHRONOUS_COMMIT, and each of the group's N databases is joined here, SYNCHRONIZED and not
     suspended ("A synchronous-commit secondary database shows synchronized when the local cache
     says the database is failover ready", sys.dm_hadr_database_replica_states).
  R2 "the JOIN, FAILOVER, and FORCE_FAILOVER_ALLOW_DATA_LOSS arguments are supported only on
     secondary replicas" (same page): a PRIMARY replica is never READY; it says PRIMARY.
  R3 Without Always On (SERVERPROPERTY('IsHadrEnabled') 0 or NULL) the catalog views are empty:
     NOT READY.
  R4 "When queried on a server instance that is hosting a secondary replica ... this dynamic
     management view returns only local information" (sys.dm_hadr_availability_replica_states):
     the stand-in gives a secondary only its own replica row.

Exit 0 and `ok` on success; exit 1 with the reasons otherwise. A violation fails.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "validators"))
sys.dont_write_bytecode = True
import sql_logic  # noqa: E402
import validate  # noqa: E402


def fail(msgs):
    for m in msgs:
        print(m)
    sys.exit(1)


def read(path):
    with open(path, encoding="utf-8-sig") as f:
        return f.read().replace("\r\n", "\n")


def last_batch(text):
    batches = [b for _, b in validate._sql_batches(text) if b.strip()]
    return batches[-1]


def group_name(text):
    m = re.search(r"g\.name = N'((?:[^']|'')*)'", text)
    if not m:
        fail(["no `g.name = N'...'` in the readiness script"])
    return m.group(1).replace("''", "'")


# ------------------------------------------------------------------------------ stand-in

DB_STATES = [
    None,  # not joined here (no local row)
    ("SYNCHRONIZED", 0),
    ("SYNCHRONIZED", 1),
    ("SYNCHRONIZING", 0),
    ("NOT SYNCHRONIZING", 1),
    ("REVERTING", 0),
    ("INITIALIZING", 0),
]
ROLES = [None, "PRIMARY", "SECONDARY", "RESOLVING"]
MODES = ["SYNCHRONOUS_COMMIT", "ASYNCHRONOUS_COMMIT"]


def new_catalog(props):
    """props: SERVERPROPERTY's answers (a dict the caller changes)."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    # The interpreter writes string literals and variables COLLATE TSQL (SQL Server's default
    # case-insensitive collation, tests/sql_logic.py), and may call its helper functions.
    db.create_collation("TSQL", sql_logic.tsql_collate)
    db.create_function("QUOTENAME", 1, sql_logic.quotename, deterministic=True)
    db.create_function("T_LEFT", 2, sql_logic.t_left, deterministic=True)
    db.create_function("T_LEN", 1, sql_logic.t_len, deterministic=True)
    db.execute("ATTACH DATABASE ':memory:' AS sys")
    db.execute("CREATE TABLE sys.availability_groups (group_id INTEGER, name TEXT)")
    db.execute("CREATE TABLE sys.availability_replicas (replica_id INTEGER, group_id INTEGER, "
               "replica_server_name TEXT, availability_mode_desc TEXT, failover_mode_desc TEXT)")
    db.execute("CREATE TABLE sys.dm_hadr_availability_replica_states (replica_id INTEGER, "
               "group_id INTEGER, is_local INTEGER, role_desc TEXT, connected_state_desc TEXT, "
               "synchronization_health_desc TEXT)")
    db.execute("CREATE TABLE sys.dm_hadr_database_replica_states (database_id INTEGER, "
               "group_id INTEGER, replica_id INTEGER, is_local INTEGER, "
               "synchronization_state_desc TEXT, synchronization_health_desc TEXT, "
               "is_suspended INTEGER, suspend_reason_desc TEXT)")
    db.create_function("SERVERPROPERTY", 1, lambda name: props.get(name))
    return db


class Catalog:
    """A stand-in of one instance's Always On views (see R3, R4)."""

    def __init__(self, ag):
        self.ag = ag
        self.props = {}
        self.db = new_catalog(self.props)

    def load(self, hadr, role, mode, dbs, other_role="SECONDARY"):
        """dbs: per database of the group, None (not joined) or (state, is_suspended)."""
        d = self.db
        self.props["IsHadrEnabled"] = hadr
        for t in ("availability_groups", "availability_replicas",
                  "dm_hadr_availability_replica_states", "dm_hadr_database_replica_states"):
            d.execute(f"DELETE FROM sys.{t}")
        if hadr != 1:
            return  # R3
        # the group, and another group on the same instance that is always ready
        d.execute("INSERT INTO sys.availability_groups VALUES (1, ?), (2, ?)", (self.ag, self.ag + "_other"))
        d.execute("INSERT INTO sys.availability_replicas VALUES "
                  "(10, 1, 'here', ?, 'AUTOMATIC'), (11, 1, 'there', 'SYNCHRONOUS_COMMIT', 'AUTOMATIC'), "
                  "(20, 2, 'here', 'SYNCHRONOUS_COMMIT', 'AUTOMATIC')", (mode,))
        d.execute("INSERT INTO sys.dm_hadr_availability_replica_states VALUES "
                  "(20, 2, 1, ?, 'CONNECTED', 'HEALTHY')", (other_role,))
        for k in range(5):  # the other group's databases: all synchronized here
            d.execute("INSERT INTO sys.dm_hadr_database_replica_states VALUES "
                      "(?, 2, 20, 1, 'SYNCHRONIZED', 'HEALTHY', 0, NULL)", (100 + k,))
        if role is None:
            return
        d.execute("INSERT INTO sys.dm_hadr_availability_replica_states VALUES "
                  "(10, 1, 1, ?, 'CONNECTED', 'HEALTHY')", (role,))
        if role == "PRIMARY":  # R4: only a primary sees the other replicas
            d.execute("INSERT INTO sys.dm_hadr_availability_replica_states VALUES "
                      "(11, 1, 0, 'SECONDARY', 'CONNECTED', 'HEALTHY')")
        for i, st in enumerate(dbs):
            if st is None:
                continue
            state, suspended = st
            d.execute("INSERT INTO sys.dm_hadr_database_replica_states VALUES "
                      "(?, 1, 10, 1, ?, 'HEALTHY', ?, NULL)", (i + 1, state, suspended))
            if role == "PRIMARY":
                d.execute("INSERT INTO sys.dm_hadr_database_replica_states VALUES "
                          "(?, 1, 11, 0, 'SYNCHRONIZED', 'HEALTHY', 0, NULL)", (i + 1,))


def expected(hadr, role, mode, dbs):
    if hadr != 1 or role is None:
        return "NOT READY"  # R3
    if role == "PRIMARY":
        return "PRIMARY"  # R2
    ready = (role == "SECONDARY" and mode == "SYNCHRONOUS_COMMIT"
             and all(st is not None and st[0] == "SYNCHRONIZED" and st[1] == 0 for st in dbs))
    return "READY" if ready else "NOT READY"  # R1


# ------------------------------------------------------------------------------ interpreter


class Env(sql_logic.StaticEnv):
    pass


class Ctx(sql_logic.Ctx):
    """The mirroring interpreter, with PRINT recorded (the verdict is what the script prints)."""

    def __init__(self, prog, env):
        super().__init__(prog, env)
        self.printed = []

    def stmt(self, seg):
        inner = seg
        if seg.is_type("statement"):
            k = sql_logic.kids(seg)
            inner = k[0] if len(k) == 1 else seg
        if inner.is_type("print_statement"):
            expr = next(c for c in sql_logic.kids(inner) if not c.is_type("keyword"))
            self.printed.append(self.value(expr))
            return
        yield from super().stmt(seg)


def verdict(prog, catalog):
    env = Env(catalog.db)
    ctx = Ctx(prog, env)
    sql_logic.drive(ctx.block(prog.stmts))
    if len(ctx.printed) != 1:
        return f"printed {len(ctx.printed)} lines: {ctx.printed!r}"
    line = ctx.printed[0]
    for v in ("NOT READY", "READY", "PRIMARY"):
        if line.startswith(v):
            return v
    return f"unknown verdict {line!r}"


def check(batch, ag, n, stop_at=1):
    """Every combination; returns the violations (at most stop_at)."""
    try:
        prog = sql_logic.Program(batch)
    except sql_logic.Unsupported as e:
        return [f"the verdict batch cannot be executed: {e}"]
    cat = Catalog(ag)
    bad = []
    cases = [(h, None, MODES[0], (None,) * n) for h in (0, None)]
    cases += [(1, r, m, dbs) for r in ROLES for m in MODES
              for dbs in itertools.product(DB_STATES, repeat=n)]
    for hadr, role, mode, dbs in cases:
        cat.load(hadr, role, mode, dbs)
        try:
            got = verdict(prog, cat)
        except (sql_logic.Unsupported, sqlite3.Error) as e:
            return [f"cannot execute: {e}"]
        want = expected(hadr, role, mode, dbs)
        if got != want:
            bad.append(f"IsHadrEnabled={hadr} role={role} mode={mode} databases={dbs}: "
                       f"the script says {got}, the rule says {want}")
            if len(bad) >= stop_at:
                break
    return bad


def readiness(path, n):
    text = read(path)
    bad = check(last_batch(text), group_name(text), n, stop_at=5)
    if bad:
        fail(bad)
    print("ok")


# Each mutation is an older or plausible wrong verdict; the check must reject every one.
MUTATIONS = [
    ("no asynchronous-commit branch", r"ELSE IF @mode <> N'SYNCHRONOUS_COMMIT'\n[^\n]*\n", ""),
    ("SYNCHRONIZING counted as ready", r"synchronization_state_desc = N'SYNCHRONIZED'",
     "synchronization_state_desc IN (N'SYNCHRONIZED', N'SYNCHRONIZING')"),
    ("suspended databases counted as ready", r" AND d\.is_suspended = 0", ""),
    ("databases not joined here ignored", r"ELSE IF @joined < \d+\n[^\n]*\n", ""),
    ("the other group's databases counted", r"(FROM sys\.dm_hadr_database_replica_states AS d JOIN "
     r"sys\.availability_groups AS g ON g\.group_id = d\.group_id) WHERE g\.name = N'[^']*' AND", r"\1 WHERE"),
    ("RESOLVING treated as a secondary", r"ELSE IF @role <> N'SECONDARY'\n[^\n]*\n", ""),
]


def readiness_selftest(path, n):
    text = read(path)
    batch, ag = last_batch(text), group_name(text)
    msgs = []
    if check(batch, ag, n):
        msgs.append("the unmutated verdict fails the check")
    for label, pat, rep in MUTATIONS:
        mutated, k = re.subn(pat, rep, batch, count=1)
        if k != 1:
            msgs.append(f"mutation not applicable (the script changed?): {label}")
        elif not check(mutated, ag, n):
            msgs.append(f"mutation not caught: {label}")
    if msgs:
        fail(msgs)
    print("ok")


# ------------------------------------------------------------------------------ convergence
#
# A 3-replica group over time (replica 0 the initial primary, 1 synchronous, 2 asynchronous, as
# tests/fixtures/ag-2019.toml). Each replica hardens log up to an LSN per database. Rules, each
# from Microsoft's pages quoted in docs/modern-targets.md 6.1 and 6.2:
#   C1 a synchronous-commit secondary that is connected and not suspended hardens every commit
#      before the primary acknowledges it: SYNCHRONIZED; an asynchronous one, or one that is
#      behind, is SYNCHRONIZING; a suspended or disconnected one is NOT SYNCHRONIZING
#      (sys.dm_hadr_database_replica_states; "Availability Modes").
#   C2 FAILOVER succeeds only on a synchronous-commit secondary that is synchronized, without
#      data loss; the former primary becomes a secondary (ALTER AVAILABILITY GROUP, FAILOVER).
#   C3 "While a secondary database is suspended, the send queue of the corresponding primary
#      database will accumulate unsent transaction log records" (SET HADR): a resumed secondary
#      catches up (SYNCHRONIZING, then SYNCHRONIZED under synchronous commit).
# The operator follows the runbook: run ag-readiness.sql on the target, FAILOVER only on READY.
# Invariants: every FAILOVER taken is accepted (C2) and loses no committed transaction; after
# the disturbances stop, the group converges: every synchronous secondary SYNCHRONIZED, the
# asynchronous one SYNCHRONIZING or caught up. Control (--control): the operator trusts the
# replica's own role only (a secondary is "ready"); that must break an invariant.


class Replica:
    def __init__(self, rid, mode, n):
        self.rid, self.mode = rid, mode
        self.lsn = [0] * n
        self.connected, self.suspended = True, [False] * n


def db_state(prim, r, i):
    if r.suspended[i] or not r.connected:
        return ("NOT SYNCHRONIZING", 1 if r.suspended[i] else 0)
    if r.mode == "SYNCHRONOUS_COMMIT" and r.lsn[i] == prim.lsn[i]:
        return ("SYNCHRONIZED", 0)
    return ("SYNCHRONIZING", 0)


def converge(path, n, seeds, control):
    text = read(path)
    prog = sql_logic.Program(last_batch(text))
    cat = Catalog(group_name(text))
    problems = []
    failovers = refused = 0
    for seed in range(seeds):
        rnd = random.Random(seed)
        reps = [Replica(0, "SYNCHRONOUS_COMMIT", n), Replica(1, "SYNCHRONOUS_COMMIT", n),
                Replica(2, "ASYNCHRONOUS_COMMIT", n)]
        primary = 0
        for step in range(300):
            prim = reps[primary]
            ev = rnd.random() if step < 250 else 1.0  # the last 50 steps: no disturbance
            if ev < 0.35:  # a commit on a database; synchronous, connected replicas harden it (C1)
                i = rnd.randrange(n)
                prim.lsn[i] += 1
                for r in reps:
                    if r is not prim and r.mode == "SYNCHRONOUS_COMMIT" and r.connected and not r.suspended[i] \
                            and r.lsn[i] == prim.lsn[i] - 1:
                        r.lsn[i] = prim.lsn[i]
            elif ev < 0.39:
                r = reps[rnd.randrange(3)]
                if r is not prim:
                    r.connected = not r.connected
            elif ev < 0.42:
                r = reps[rnd.randrange(3)]
                if r is not prim:
                    i = rnd.randrange(n)
                    r.suspended[i] = not r.suspended[i]
            elif ev < 0.55:  # the operator tries a planned failover to a random secondary
                target = rnd.choice([r for r in reps if r is not prim])
                states = [db_state(prim, target, i) for i in range(n)]
                if control:
                    ready = True
                else:
                    cat.load(1, "SECONDARY", target.mode, states)
                    ready = verdict(prog, cat) == "READY"
                if ready:
                    ok = target.mode == "SYNCHRONOUS_COMMIT" and all(s == ("SYNCHRONIZED", 0) for s in states)
                    if not ok:  # C2: SQL Server refuses it
                        problems.append(f"seed {seed} step {step}: FAILOVER to replica {target.rid} "
                                        f"taken on READY but refused by SQL Server ({states})")
                        break
                    if target.lsn != prim.lsn:
                        problems.append(f"seed {seed} step {step}: data lost in a planned failover")
                        break
                    primary, failovers = target.rid, failovers + 1
                else:
                    refused += 1
            else:  # log flows to every connected, resumed secondary (C3)
                for r in reps:
                    if r is prim or not r.connected:
                        continue
                    for i in range(n):
                        if not r.suspended[i] and r.lsn[i] < prim.lsn[i]:
                            r.lsn[i] += 1
            if step == 250:  # disturbances end: reconnect and resume everything
                for r in reps:
                    r.connected, r.suspended = True, [False] * n
        else:
            prim = reps[primary]
            for r in reps:
                if r is prim:
                    continue
                for i in range(n):
                    st = db_state(prim, r, i)
                    good = st == ("SYNCHRONIZED", 0) if r.mode == "SYNCHRONOUS_COMMIT" \
                        else st[0] == "SYNCHRONIZING" or r.lsn[i] == prim.lsn[i]
                    if not good:
                        problems.append(f"seed {seed}: replica {r.rid} database {i} did not converge ({st})")
        if problems:
            break
    if control:
        if not problems:
            fail(["control: trusting the role alone broke no invariant (the simulation cannot fail)"])
        print("ok (control fails as it should: " + problems[0] + ")")
        return
    if problems:
        fail(problems)
    if failovers < seeds or refused < seeds:
        fail([f"{failovers} planned failovers taken and {refused} refused by the verdict in {seeds} "
              "runs: too few of either for the simulation to prove anything"])
    print(f"ok ({failovers} planned failovers on READY, {refused} attempts stopped by NOT READY)")


# ------------------------------------------------------------------------------ alerts
#
# SQL Server Agent raises a message alert from the Windows Application log; 1480, 35264 and 35265
# are "Event logged: No" by default (Database engine events and errors); sp_altermessage
# @parameter = 'WITH_LOG', @parameter_value = 'true' writes the message to the log from then on
# (sp_altermessage (Transact-SQL)). The script's statements are executed in order on that model:
# an alert on a message that is not logged at the moment it is created fails, and at the end each
# of the three messages must be logged and alerted.

ALERT_IDS = {1480, 35264, 35265}


def alerts(path):
    text = read(path)
    logged, alerted, msgs = set(), set(), []
    linter = validate._tsql_linter()
    for _, batch in validate._sql_batches(text):
        if not batch.strip() or batch.strip().startswith(":"):
            continue
        clean = "\n".join("" if l.lstrip().startswith(":") else l for l in batch.split("\n"))
        tree = linter.parse_string(clean).tree
        for stmt in tree.recursive_crawl("execute_script_statement"):
            leaves = [l for l in stmt.raw_segments if l.is_code]
            obj = next((c for c in stmt.segments if c.is_type("object_reference")), None)
            proc = obj.raw.split(".")[-1].lower() if obj is not None else ""
            params = {}
            for i, l in enumerate(leaves):
                if l.is_type("parameter") and i + 2 < len(leaves) and leaves[i + 1].raw == "=":
                    params[l.raw.lower()] = leaves[i + 2].raw
            if proc == "sp_altermessage":
                if validate._unquote_sql(params.get("@parameter", "''")).upper() == "WITH_LOG" and \
                        validate._unquote_sql(params.get("@parameter_value", "''")).lower() == "true":
                    logged.add(int(params["@message_id"]))
            elif proc == "sp_add_alert":
                mid = int(params.get("@message_id", "0"))
                if mid in ALERT_IDS and mid not in logged:
                    msgs.append(f"the alert on {mid} is created while {mid} is not written to the "
                                "Application log: it can never fire")
                alerted.add(mid)
    for mid in sorted(ALERT_IDS - alerted):
        msgs.append(f"no alert on {mid}")
    for mid in sorted(ALERT_IDS - logged):
        msgs.append(f"{mid} is not written to the Application log (no sp_altermessage WITH_LOG)")
    if msgs:
        fail(msgs)
    print("ok")


def main(argv):
    cmd = argv[0] if argv else ""
    if cmd == "readiness":
        readiness(argv[1], int(argv[2]))
    elif cmd == "readiness-selftest":
        readiness_selftest(argv[1], int(argv[2]))
    elif cmd == "converge":
        seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 20
        converge(argv[1], int(argv[2]), seeds, "--control" in argv)
    elif cmd == "alerts":
        alerts(argv[1])
    else:
        fail([__doc__])


if __name__ == "__main__":
    main(sys.argv[1:])
