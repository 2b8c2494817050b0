#!/usr/bin/env python3
"""Logic checks of the availability group artifacts (issue 31; called by tests/it/sql_ag.rs).

    sql_ag_sim.py readiness FILE.sql N           the verdict of ag-readiness.sql, executed
    sql_ag_sim.py readiness-selftest FILE.sql N  ... the check rejects mutated verdicts (controls)
    sql_ag_sim.py converge FILE.sql N [--seeds K] [--control]
                                                 a 3-replica AG over time: planned failovers taken
                                                 only on READY lose nothing and always succeed
    sql_ag_sim.py alerts FILE.sql                ag-alerts.sql: each alert's message is written to
                                                 the Application log before the alert exists
    sql_ag_sim.py follow JOB.sql                 ag-follow-job.sql's step, executed over every state
                                                 of the anchor and a follower group on this replica
    sql_ag_sim.py follow-selftest JOB.sql        ... mutated steps (controls) are rejected
    sql_ag_sim.py follow-converge JOB.sql [--seeds K] [--control ignore-sync|no-job]
                                                 anchor + followers on 2-3 replicas over time: I1, I2

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
    # The interpreter writes string literals and variables COLLATE TSQL (SQL Server's default
    # case-insensitive collation, tests/sql_logic.py), and may call its helper functions.
    db = sql_logic.tsql_connection()
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




# ------------------------------------------------------------------------------ follower job
#
# ag-follow-job.sql's step (the sp_add_jobstep @command) executed by the interpreter of
# tests/sql_logic.py against a stand-in of one replica's Always On views. Rules of the stand-in and
# of the decision, each from Microsoft Learn (MicrosoftDocs/sql-docs):
#   F1 "the JOIN, FAILOVER, and FORCE_FAILOVER_ALLOW_DATA_LOSS arguments are supported only on
#      secondary replicas"; FAILOVER "is supported only on a synchronous-commit secondary replica
#      that is currently synchronized with the primary replica" (ALTER AVAILABILITY GROUP
#      (Transact-SQL), FAILOVER): the job may fail a follower over to this replica only where it is
#      its SECONDARY, SYNCHRONOUS_COMMIT (sys.availability_replicas.availability_mode_desc), and
#      every database of the group is synchronized here.
#   F2 sys.dm_hadr_database_replica_cluster_states: one row per (replica, database of the group);
#      is_failover_ready "1 = The database is marked synchronized in the cluster. The database is
#      ready for a failover"; is_database_joined "0 = Database is not joined to the availability
#      group on this availability replica". Both must be 1 for every database of the group.
#   F3 sys.dm_hadr_database_replica_states: synchronization_state_desc NOT SYNCHRONIZING /
#      SYNCHRONIZING / SYNCHRONIZED ("A synchronous-commit secondary database shows synchronized
#      when the local cache says the database is failover ready"), is_suspended: the local state
#      must be SYNCHRONIZED and not suspended too (the two views may disagree for a moment; the job
#      is conservative and needs both).
#   F4 sys.dm_hadr_availability_replica_states.connected_state_desc: "Whether a secondary replica
#      is currently connected to the primary replica: DISCONNECTED, CONNECTED"; on a secondary the
#      view returns only local information (R4 above).
#   F5 The job acts only where the anchor group is PRIMARY (the design of the mirroring job, which
#      acts only where the anchor database is the mirror: one direction, so that the replicas
#      never push groups at each other); it never issues FORCE_FAILOVER_ALLOW_DATA_LOSS.

FOLLOW_ALTER = re.compile(r"^ALTER AVAILABILITY GROUP \[((?:[^\]]|\]\])+)\] (FAILOVER|FORCE_FAILOVER_ALLOW_DATA_LOSS);$")
AG_OUTCOME = "sitebundle_ag_outcome"


def follow_catalog():
    db = new_catalog({"IsHadrEnabled": 1})
    db.execute("DROP TABLE sys.dm_hadr_database_replica_states")
    db.execute("CREATE TABLE sys.dm_hadr_database_replica_states (database_id INTEGER, "
               "group_id INTEGER, replica_id INTEGER, group_database_id INTEGER, is_local INTEGER, "
               "synchronization_state_desc TEXT, synchronization_health_desc TEXT, "
               "is_suspended INTEGER, suspend_reason_desc TEXT)")
    db.execute("CREATE TABLE sys.dm_hadr_database_replica_cluster_states (replica_id INTEGER, "
               "group_database_id INTEGER, database_name TEXT, is_failover_ready INTEGER, "
               "is_database_joined INTEGER)")
    db.execute(f"CREATE TABLE {AG_OUTCOME} (group_name TEXT COLLATE TSQL PRIMARY KEY, "
               "outcome TEXT COLLATE TSQL NOT NULL, changed TEXT NOT NULL)")
    return db


def load_local(db, groups):
    """groups: [(name, role or None, mode, connected, [db]) ...] as this replica sees them; a db:
    None (not joined here) or (synchronization_state_desc, is_suspended, is_failover_ready)."""
    for t in ("availability_groups", "availability_replicas", "dm_hadr_availability_replica_states",
              "dm_hadr_database_replica_states", "dm_hadr_database_replica_cluster_states"):
        db.execute(f"DELETE FROM sys.{t}")
    for gi, (name, role, mode, connected, dbs) in enumerate(groups, 1):
        rid = gi * 10
        db.execute("INSERT INTO sys.availability_groups VALUES (?, ?)", (gi, name))
        db.execute("INSERT INTO sys.availability_replicas VALUES (?, ?, 'here', ?, 'AUTOMATIC'), "
                   "(?, ?, 'there', 'SYNCHRONOUS_COMMIT', 'AUTOMATIC')", (rid, gi, mode, rid + 1, gi))
        if role is None:  # not joined here: no replica state row (F4)
            continue
        db.execute("INSERT INTO sys.dm_hadr_availability_replica_states VALUES (?, ?, 1, ?, ?, 'HEALTHY')",
                   (rid, gi, role, "CONNECTED" if connected else "DISCONNECTED"))
        for k, st in enumerate(dbs):
            gdb = gi * 100 + k
            if st is None:
                db.execute("INSERT INTO sys.dm_hadr_database_replica_cluster_states VALUES (?, ?, ?, 0, 0)",
                           (rid, gdb, f"{name}_db{k}"))
                continue
            state, suspended, ready = st
            db.execute("INSERT INTO sys.dm_hadr_database_replica_cluster_states VALUES (?, ?, ?, ?, 1)",
                       (rid, gdb, f"{name}_db{k}", ready))
            db.execute("INSERT INTO sys.dm_hadr_database_replica_states VALUES (?, ?, ?, ?, 1, ?, 'HEALTHY', ?, NULL)",
                       (gdb, gi, rid, gdb, state, suspended))


class FollowCtx(sql_logic.Ctx):
    """The interpreter, with the cursor over a UNION ALL of names and the AG's ALTER."""

    def stmt(self, seg):
        inner = seg
        if seg.is_type("statement"):
            k = sql_logic.kids(seg)
            inner = k[0] if len(k) == 1 else seg
        k = sql_logic.kids(inner)
        if inner.is_type("declare_segment"):
            curdef = next((c for c in k if c.is_type("cursor_definition")), None)
            if curdef is not None:
                name = next(c for c in k if c.is_type("naked_identifier")).raw.lower()
                q = next(c for c in sql_logic.kids(curdef) if c.is_type("select_statement", "set_expression"))
                self.cursor_defs[name] = q
                return
        if inner.is_type("open_cursor_statement"):
            name = next(c for c in k if c.is_type("naked_identifier")).raw.lower()
            rows = self.q(sql_logic.to_sqlite(self.cursor_defs[name], self.prog.types))
            self.cursors[name] = [rows, 0]
            self.env.on_open(rows)
            return
        if inner.is_type("print_statement"):
            return
        if inner.is_type("execute_script_statement"):
            obj = next(c for c in k if c.is_type("object_reference"))
            if obj.raw.lower().split(".")[-1] != "sp_executesql":
                raise sql_logic.Unsupported(f"EXEC of {obj.raw}")
            sql = self.value(next(c for c in k if c.is_type("expression")))
            m = FOLLOW_ALTER.match(sql or "")
            if not m:
                raise sql_logic.Unsupported(f"dynamic SQL not understood: {sql!r}")
            self.env.alter(m.group(1).replace("]]", "]"), m.group(2))  # raises SqlError on failure
            return
        yield from super().stmt(seg)


class FollowEnv(sql_logic.StaticEnv):
    def __init__(self, catalog, fail_with=None):
        super().__init__(catalog)
        self.forced = []
        self.fail_with = fail_with

    def alter(self, name, action="FAILOVER"):
        (self.altered if action == "FAILOVER" else self.forced).append(name)
        if self.fail_with:
            raise sql_logic.SqlError(self.fail_with, 41142)
        return 0


def run_step(prog, env):
    ctx = FollowCtx(prog, env)
    sql_logic.drive(ctx.block(prog.stmts))
    return ctx


def job_step(path):
    text = read(path)
    return sql_logic.step_text(text)


def follow_names(step):
    anchor = re.search(r"WHERE g\.name = N'((?:[^']|'')*)' AND s\.is_local = 1;", step)
    followers = re.findall(r"SELECT N'((?:[^']|'')*)' AS group_name", step)
    if not anchor or not followers:
        fail(["the step names no anchor group or no follower group"])
    return anchor.group(1).replace("''", "'"), [f.replace("''", "'") for f in followers]


FOLLOW_DBS = [None, ("SYNCHRONIZED", 0, 1), ("SYNCHRONIZED", 0, 0), ("SYNCHRONIZED", 1, 0),
              ("SYNCHRONIZING", 0, 0), ("SYNCHRONIZING", 0, 1), ("NOT SYNCHRONIZING", 1, 0),
              ("NOT SYNCHRONIZING", 0, 0)]
READY_DB = ("SYNCHRONIZED", 0, 1)


def follow_expected(anchor_role, f):
    """F1-F5: whether the job fails follower f = (name, role, mode, connected, dbs) over here."""
    _, role, mode, connected, dbs = f
    return (anchor_role == "PRIMARY" and role == "SECONDARY" and mode == "SYNCHRONOUS_COMMIT"
            and connected and len(dbs) > 0 and all(d == READY_DB for d in dbs))


def follow_cases(followers):
    """(anchor role, [follower states]): the first follower over every state, the others ready
    secondaries or primaries (the decision must be per group)."""
    a, b = followers[0], followers[1:]
    states = [(role, mode, conn, dbs) for role in ("SECONDARY", None, "PRIMARY", "RESOLVING")
              for mode in MODES for conn in (True, False)
              for dbs in itertools.product(FOLLOW_DBS, repeat=2)]
    for anchor_role in (None, "SECONDARY", "RESOLVING", "PRIMARY"):
        pick = states if anchor_role == "PRIMARY" else states[::7]
        for i, (role, mode, conn, dbs) in enumerate(pick):
            others = [(n, "SECONDARY" if (i + j) % 3 else "PRIMARY", MODES[0], True, [READY_DB])
                      for j, n in enumerate(b)]
            yield anchor_role, [(a, role, mode, conn, list(dbs))] + others


def follow_check(step, anchor, followers, stop_at=5):
    try:
        prog = sql_logic.Program(step)
    except sql_logic.Unsupported as e:
        return [f"the step does not parse: {e}"]
    cat = follow_catalog()
    bad, counts = [], {"FAILOVER": 0, "status": 0, "error": 0}
    try:
        for anchor_role, fs in follow_cases(followers):
            if len(bad) >= stop_at:
                break
            bad += follow_one(prog, cat, anchor, anchor_role, fs, counts)
    except (sql_logic.Unsupported, sqlite3.Error) as e:
        return [f"the step cannot be executed: {e}"]
    if not bad and min(counts.values()) == 0:
        bad.append(f"a branch was never taken: {counts}")
    return bad[:stop_at]


def logged_of(ctx):
    return [(sev, t) for _, sev, t, w in ctx.messages if w]


def follow_one(prog, cat, anchor, anchor_role, fs, counts):
    """One state, run three times: a first run (from no recorded outcome), the same state again
    (quiet: only FAILOVERs are logged again), and with every FAILOVER failing."""
    anchor_row = (anchor, anchor_role, MODES[0], True, [READY_DB])
    load_local(cat, [anchor_row] + fs)
    cat.execute(f"DELETE FROM {AG_OUTCOME}")
    where = f"anchor {anchor_role}, followers {fs}"
    bad = []
    env = FollowEnv(cat)
    ctx = run_step(prog, env)
    want = sorted(f[0] for f in fs if follow_expected(anchor_role, f))
    if env.forced:
        bad.append(f"{where}: FORCE_FAILOVER_ALLOW_DATA_LOSS issued for {env.forced} (I1)")
    if sorted(env.altered) != want:
        bad.append(f"{where}: FAILOVER of {sorted(env.altered)}, the rule says {want}")
    logs = logged_of(ctx)
    for n in env.altered:
        counts["FAILOVER"] += 1
        if not any("failed over" in t and n in t for _, t in logs):
            bad.append(f"{where}: the FAILOVER of {n} is not logged WITH LOG")
    if anchor_role is None:
        if not ctx.step_failed or not any(sev >= 11 for sev, _ in logs):
            bad.append(f"{where}: no anchor here must fail the step, logged")
    elif anchor_role == "PRIMARY":
        for f in fs:
            status = f[1] != "PRIMARY" and f[0] not in env.altered
            got = [t for _, t in logs if f[0] in t and "failed over" not in t]
            if status:
                counts["status"] += 1
            if status != bool(got) or len(got) > 1:
                bad.append(f"{where}: {f[0]}: expected {'one' if status else 'no'} status line WITH LOG, got {got}")
    elif logs:
        bad.append(f"{where}: the anchor is not primary here, yet it logged {logs}")
    for _, t in logs:
        if len(t.encode("utf-16-le")) > 440:
            bad.append(f"{where}: a logged text over 440 bytes: {t[:80]}")
    ctx2 = run_step(prog, FollowEnv(cat))
    again = [t for sev, t in logged_of(ctx2) if "failed over" not in t]
    if again:
        bad.append(f"{where}: logged again on an unchanged state: {again}")
    if env.altered:
        cat.execute(f"DELETE FROM {AG_OUTCOME}")
        for k in range(2):
            ctx3 = run_step(prog, FollowEnv(cat, "Failed to fail over the availability group (stand-in error)."))
            errs = [t for _, t in logged_of(ctx3) if "failed, error 41142" in t]
            counts["error"] += len(errs)
            if not ctx3.step_failed or len(errs) != (len(env.altered) if k == 0 else 0):
                bad.append(f"{where}: failing FAILOVERs (run {k + 1}): step failed={ctx3.step_failed}, logged {errs}")
    return bad


def follow(path):
    step = job_step(path)
    anchor, followers = follow_names(step)
    bad = follow_check(step, anchor, followers)
    if bad:
        fail(bad)
    print(f"ok (anchor {anchor}, followers {followers})")


# Each mutation is a plausible wrong step; executing it must break a rule above.
FOLLOW_MUTATIONS = [
    ("ignores synchronization (the control of I1)",
     "AND c.is_failover_ready = 1 AND d.is_local = 1\n                           AND d.synchronization_state_desc = N'SYNCHRONIZED' AND d.is_suspended = 0",
     "AND d.is_local = 1"),
    ("trusts the cluster's failover-ready mark alone", " AND d.synchronization_state_desc = N'SYNCHRONIZED' AND d.is_suspended = 0", ""),
    ("trusts the local state alone", "AND c.is_failover_ready = 1 AND d.is_local = 1", "AND d.is_local = 1"),
    ("asynchronous secondaries failed over", "        ELSE IF @mode <> N'SYNCHRONOUS_COMMIT'\n            SET @outcome = N'asynchronous';\n", ""),
    ("disconnected secondaries failed over", "        ELSE IF @connected <> N'CONNECTED'\n            SET @outcome = N'disconnected';\n", ""),
    ("acts where the anchor is not primary", "ELSE IF @anchor_role <> N'PRIMARY'\n", "ELSE IF 1 = 0\n"),
    ("forced failover", "N' FAILOVER;'", "N' FORCE_FAILOVER_ALLOW_DATA_LOSS;'"),
    ("logs every run", "IF ISNULL(@last, N'in step') <> @outcome", "IF 1 = 1"),
    ("a failed FAILOVER does not fail the step", "    IF @failed > 0\n", "    IF @failed > 1000\n"),
    ("no anchor here is nothing to do", "IF @anchor_role IS NULL\nBEGIN", "IF 1 = 0\nBEGIN"),
]


def follow_selftest(path):
    step = job_step(path)
    anchor, followers = follow_names(step)
    msgs = []  # the unmutated step passes `follow` (the caller runs both)
    for label, old, new in FOLLOW_MUTATIONS:
        if old not in step:
            msgs.append(f"mutation not applicable (the step changed?): {label}")
            continue
        got = follow_check(step.replace(old, new, 1), anchor, followers, stop_at=1)
        if not got:
            msgs.append(f"mutation not caught: {label}")
        else:
            print(f"mutation `{label}` caught: {got[0][:140]}")
    if msgs:
        fail(msgs)
    print("ok")


# ------------------------------------------------------------------------------ follower convergence
#
# An anchor group and its followers on 2 or 3 replicas (0 and 1 synchronous-commit with automatic
# failover; 2, when there, asynchronous-commit with manual failover), minute by minute. Each
# replica's job step runs every minute on that replica's own view (the stand-in above, loaded from
# the world). Rules of the world, with their sources (Microsoft Learn):
#   W1 Synchronous commit: the primary hardens a commit only once every connected, synchronizing
#      synchronous-commit secondary has hardened it, so such a secondary stays SYNCHRONIZED;
#      an asynchronous-commit secondary, or one that is behind, is SYNCHRONIZING; a suspended or
#      disconnected one NOT SYNCHRONIZING ("Differences between availability modes for an Always On
#      availability group"; sys.dm_hadr_database_replica_states). is_failover_ready is 1 exactly
#      when the database is SYNCHRONIZED (F2).
#   W2 Automatic failover: when the primary replica is lost, the cluster fails a group over to a
#      secondary with FAILOVER_MODE = AUTOMATIC that is synchronous-commit and SYNCHRONIZED
#      ("Failover and failover modes (Always On availability groups)": automatic failover needs a
#      synchronized synchronous-commit secondary with automatic failover); without one the group
#      has no primary (RESOLVING) until its primary comes back. A group also fails over alone
#      (automatic failover on its own health: "flexible failover policy", the same page).
#   W3 Planned manual failover (FAILOVER) succeeds only on a synchronous-commit secondary that is
#      synchronized, without data loss (F1); the old primary becomes a secondary.
#   W4 SET HADR SUSPEND on a secondary database stops its data movement; after RESUME it catches
#      up (SYNCHRONIZING, then SYNCHRONIZED) (ALTER DATABASE SET HADR).
# Disturbances (the first 150 minutes): commits, a replica down and back, the anchor failed over
# alone (automatic on its health, or by an operator following the runbook: only on READY), a
# follower failed over by hand, a follower database suspended (lagging) and resumed. Then every
# replica is up and everything resumed, and commits go on.
# Invariants: (I1) the job never issues FAILOVER for a follower where its replica is not a
# connected, synchronized synchronous-commit secondary (no data loss), and never a forced
# failover; (I2) once every replica is up and every synchronous-commit secondary of every group
# SYNCHRONIZED for 5 minutes (5 job runs), every follower is primary on the anchor group's primary
# replica (the alias's listener reaches every database). Controls: --control ignore-sync (the step without its
# synchronization conditions) must break I1; --control no-job (no follower job) must break I2.

QUIET, SETTLE, LIMIT = 150, 5, 600  # disturbances end; minutes all synchronized before I2; bound
SYNC, ASYNC = "SYNCHRONOUS_COMMIT", "ASYNCHRONOUS_COMMIT"


class World:
    def __init__(self, rnd, groups, n_replicas):
        self.rnd = rnd
        self.groups = groups
        self.modes = [SYNC, SYNC, ASYNC][:n_replicas]
        self.up = [True] * n_replicas
        self.primary = {g: 0 for g in groups}
        self.ndb = {g: rnd.randint(1, 2) for g in groups}
        # lsn[g][replica][db]; suspended[g][replica][db]
        self.lsn = {g: [[0] * self.ndb[g] for _ in self.modes] for g in groups}
        self.susp = {g: [[False] * self.ndb[g] for _ in self.modes] for g in groups}
        self.version = 0

    def connected(self, g, r):
        p = self.primary[g]
        return p is not None and self.up[p] and self.up[r]

    def db_state(self, g, r, k):
        p = self.primary[g]
        if self.susp[g][r][k] or not self.connected(g, r):
            return ("NOT SYNCHRONIZING", 1 if self.susp[g][r][k] else 0, 0)
        if self.modes[r] == SYNC and self.lsn[g][r][k] == self.lsn[g][p][k]:
            return ("SYNCHRONIZED", 0, 1)  # W1, F2
        return ("SYNCHRONIZING", 0, 0)

    def synchronized(self, g, r):
        return self.modes[r] == SYNC and self.connected(g, r) and r != self.primary[g] and \
            all(self.db_state(g, r, k) == READY_DB for k in range(self.ndb[g]))

    def view(self, r):
        out = []
        for g in self.groups:
            p = self.primary[g]
            role = "RESOLVING" if p is None else "PRIMARY" if p == r else "SECONDARY"
            dbs = [] if role == "PRIMARY" else [self.db_state(g, r, k) for k in range(self.ndb[g])]
            out.append((g, role, self.modes[r], self.connected(g, r) or role == "PRIMARY", dbs))
        return out

    def failover(self, g, r):
        self.primary[g] = r
        self.version += 1

    def commit(self, g):
        p = self.primary[g]
        if p is None or not self.up[p]:
            return
        k = self.rnd.randrange(self.ndb[g])
        self.lsn[g][p][k] += 1
        for r, m in enumerate(self.modes):  # W1
            if r != p and m == SYNC and self.connected(g, r) and not self.susp[g][r][k] \
                    and self.lsn[g][r][k] == self.lsn[g][p][k] - 1:
                self.lsn[g][r][k] += 1

    def catch_up(self):
        for g in self.groups:
            p = self.primary[g]
            for r in range(len(self.modes)):
                if r == p or not self.connected(g, r):
                    continue
                for k in range(self.ndb[g]):
                    if not self.susp[g][r][k]:  # the log is sent faster than it is made
                        self.lsn[g][r][k] = min(self.lsn[g][p][k], self.lsn[g][r][k] + 3)

    def all_synchronized(self):
        return all(self.up) and all(self.synchronized(g, r) for g in self.groups
                                    for r in range(len(self.modes))
                                    if self.modes[r] == SYNC and r != self.primary[g])

    def lose(self, r):
        self.up[r] = False
        for g in self.groups:  # W2
            if self.primary[g] == r:
                target = next((s for s in range(len(self.modes)) if s != r and self.modes[s] == SYNC
                               and self.up[s] and all(self.susp[g][s][k] is False and
                                                      self.lsn[g][s][k] == self.lsn[g][r][k]
                                                      for k in range(self.ndb[g]))), None)
                self.primary[g] = target
                self.lost_from = getattr(self, "lost_from", {})
                self.lost_from[g] = r

    def back(self, r):
        self.up[r] = True
        for g in self.groups:
            if self.primary[g] is None and getattr(self, "lost_from", {}).get(g) == r:
                self.primary[g] = r


class ConvergeEnv(FollowEnv):
    def __init__(self, world, r, catalog, problems, tick):
        super().__init__(catalog)
        self.world, self.r, self.problems, self.tick = world, r, problems, tick
        self.loaded = None

    def before_query(self):
        v = self.world.version, tuple(map(tuple, ((g, ro, m, c, tuple(d)) for g, ro, m, c, d in self.world.view(self.r))))
        if v != self.loaded:
            load_local(self.catalog, self.world.view(self.r))
            self.loaded = v

    def alter(self, name, action="FAILOVER"):
        w, r = self.world, self.r
        if action != "FAILOVER":
            self.problems.append(f"minute {self.tick}: replica {r} issued {action} for {name} (I1)")
            raise sql_logic.SqlError("forced", 41142)
        if not w.synchronized(name, r):  # W3: SQL Server refuses it; the job must not ask (I1)
            self.problems.append(f"minute {self.tick}: replica {r} issued FAILOVER for {name} while not a "
                                 f"connected synchronized synchronous secondary ({w.view(r)}) (I1)")
            raise sql_logic.SqlError("not synchronized", 41142)
        p = w.primary[name]
        if w.lsn[name][r] != w.lsn[name][p]:
            self.problems.append(f"minute {self.tick}: data lost failing {name} over to replica {r} (I1)")
        w.failover(name, r)
        self.altered.append(name)


def follow_converge(path, seeds, control):
    step = job_step(path)
    anchor, followers = follow_names(step)
    if control == "ignore-sync":
        old, new = FOLLOW_MUTATIONS[0][1], FOLLOW_MUTATIONS[0][2]
        step = step.replace(old, new, 1).replace(
            "        ELSE IF @connected <> N'CONNECTED'\n            SET @outcome = N'disconnected';\n", "")
    prog = sql_logic.Program(step)
    cat = follow_catalog()
    groups = [anchor] + followers
    i1 = i2 = 0
    first = None
    stats = {"job FAILOVERs": 0, "anchor-only failovers": 0, "replica losses": 0, "manual follower moves": 0}
    for seed in range(seeds):
        rnd = random.Random(seed)
        w = World(rnd, groups, 2 + seed % 2)
        cat.execute(f"DELETE FROM {AG_OUTCOME}")
        problems = []
        settled = None
        for tick in range(LIMIT):
            disturb = tick < QUIET
            if not disturb and settled is None and w.all_synchronized():
                settled = tick
            if settled is not None and tick >= settled + SETTLE:
                break
            for _ in range(3):
                w.commit(rnd.choice(groups))
            ev = rnd.random() if disturb else 1.0
            n = len(w.modes)
            if ev < 0.03:
                r = rnd.randrange(n)
                if w.up[r] and sum(w.up) > 1:
                    w.lose(r)
                    stats["replica losses"] += 1
            elif ev < 0.10:
                r = rnd.randrange(n)
                if not w.up[r]:
                    w.back(r)
            elif ev < 0.16:  # the anchor alone: automatic on its health (W2) or planned (W3)
                target = next((s for s in range(n) if w.synchronized(anchor, s)), None)
                if target is not None:
                    w.failover(anchor, target)
                    stats["anchor-only failovers"] += 1
            elif ev < 0.20:  # a follower moved by hand, on READY only (W3)
                f = rnd.choice(followers)
                target = next((s for s in range(n) if w.synchronized(f, s)), None)
                if target is not None:
                    w.failover(f, target)
                    stats["manual follower moves"] += 1
            elif ev < 0.26:  # a follower database lagging: suspended on a secondary (W4)
                f = rnd.choice(followers)
                r = rnd.randrange(n)
                k = rnd.randrange(w.ndb[f])
                w.susp[f][r][k] = not w.susp[f][r][k]
            if tick == QUIET:
                for r in range(n):
                    if not w.up[r]:
                        w.back(r)
                for g in groups:
                    w.susp[g] = [[False] * w.ndb[g] for _ in w.modes]
            w.catch_up()
            w.version += 1
            if control != "no-job":
                for r in rnd.sample(range(n), n):
                    if not w.up[r]:
                        continue
                    env = ConvergeEnv(w, r, cat, problems, tick)
                    try:
                        run_step(prog, env)
                    except (sql_logic.Unsupported, sqlite3.Error) as e:
                        fail([f"the step cannot be executed: {e}"])
                    stats["job FAILOVERs"] += len(env.altered)
            if problems:
                break
        if problems:
            i1 += 1
            first = first or f"seed {seed}: {problems[0]}"
            continue
        if settled is None:
            fail([f"seed {seed}: the replicas never synchronized in {LIMIT} minutes (the simulation is wrong)"])
        home = w.primary[anchor]
        away = [f for f in followers if w.primary[f] != home]
        if home is None or away:
            i2 += 1
            first = first or (f"seed {seed}: {SETTLE} minutes after every replica synchronized, the anchor is primary on "
                              f"replica {home} but {away} on {[w.primary[f] for f in away]} (I2)")
    summary = (f"{seeds} sequences of {QUIET} disturbed minutes on 2-3 replicas; " +
               ", ".join(f"{v} {k}" for k, v in stats.items()))
    if control:
        want = "I1" if control == "ignore-sync" else "I2"
        got = i1 if want == "I1" else i2
        if not got:
            fail([f"control {control}: {want} was never violated (the simulation cannot fail): {summary}"])
        print(f"ok (control fails as it should: {want} violated in {got} of {seeds} sequences; first: {first})")
        return
    if i1 or i2:
        fail([f"I1 violated in {i1}, I2 in {i2} of {seeds} sequences; first: {first}", summary])
    if stats["anchor-only failovers"] < seeds or stats["job FAILOVERs"] < seeds:
        fail(["too few anchor failovers or job FAILOVERs for the simulation to prove anything: " + summary])
    print(f"ok ({summary})")


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
    elif cmd == "follow":
        follow(argv[1])
    elif cmd == "follow-selftest":
        follow_selftest(argv[1])
    elif cmd == "follow-converge":
        seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 30
        control = argv[argv.index("--control") + 1] if "--control" in argv else None
        follow_converge(argv[1], seeds, control)
    else:
        fail([__doc__])


if __name__ == "__main__":
    main(sys.argv[1:])
