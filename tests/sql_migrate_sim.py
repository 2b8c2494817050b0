#!/usr/bin/env python3
"""The move from database mirroring into an availability group, executed (issue 31; called by
tests/it/sql_ag.rs). The generated scripts are run batch by batch, as `sqlcmd -b` with
`:on error exit` runs them (the first batch that raises an error of severity 11 or more ends the
run), by tests/sql_logic.py's interpreter (sqlfluff parse tree, queries translated to SQLite)
against stand-ins of the catalog views and msdb tables they read.

    sql_migrate_sim.py off FILE.sql N [--seeds K] [--control naive]
    sql_migrate_sim.py off-selftest FILE.sql N
    sql_migrate_sim.py retire FILE.sql MIRROR_JOB.sql MIRROR_ALERTS.sql AG_JOB.sql
    sql_migrate_sim.py retire-selftest FILE.sql MIRROR_JOB.sql MIRROR_ALERTS.sql AG_JOB.sql

off: mirroring-off.sql on the principal. Rules, from Microsoft's pages:
  M1 SET PARTNER OFF "removes a database mirroring session and removes mirroring from the
     database" and may be run on either partner; the copy on the mirror stays RESTORING
     (ALTER DATABASE Database Mirroring (Transact-SQL), PARTNER OFF; "If mirroring has been removed
     and the mirror database is still in the RECOVERING state, you can restart mirroring",
     Prepare a Mirror Database for Mirroring). On a database that is not mirrored it fails.
  M2 sys.database_mirroring has a row for every database: mirroring_role 1 principal, 2 mirror;
     mirroring_state 0 suspended, 1 disconnected, 2 synchronizing, 4 synchronized;
     mirroring_safety_level 1 OFF, 2 FULL; mirroring_guid NULL when not mirrored (or
     inaccessible) (sys.database_mirroring (Transact-SQL)). A mirror database is RESTORING in
     sys.databases.state_desc.
  M3 a manual failover swaps the roles of a SYNCHRONIZED session in safety FULL (SET PARTNER
     FAILOVER); a session falls back to SYNCHRONIZING when the mirror falls behind, and safety can
     be set OFF at any time on the principal.
The guard (exhaustive, no disturbance): the run changes nothing unless Always On is enabled
(SERVERPROPERTY('IsHadrEnabled') = 1) and every database is principal here or already out of
mirroring and ONLINE here, and every principal here is SYNCHRONIZED with safety FULL.
Over time (--seeds random runs, a disturbance between any two statements: failovers, the mirror
falling behind or catching up, safety set OFF or FULL):
  I1 every SET PARTNER OFF runs on a database that is, at that moment, principal here,
     SYNCHRONIZED, safety FULL (its mirror holds every committed transaction, and the copy that
     stays online is here, where ag-create.sql runs next); in half of the runs the disturbance may
     also come between a statement's check and its ALTER DATABASE, which no script can prevent
     (ALTER DATABASE cannot run inside a transaction): there I1 is not asked, I2 is;
  I2 a run that ends without an error has left every database out of mirroring and ONLINE here;
  I3 a run stopped by the guard has changed nothing.
--control naive: the guard and the per-database checks removed (PARTNER OFF on each database, as
a hand-written script would): I1 must break.

retire: mirroring-retire.sql on a partner whose msdb holds what the site's mirroring bundle
installed (the job named and described as MIRROR_JOB.sql creates it, the alerts MIRROR_ALERTS.sql
creates, including the retired one it deletes), the availability group's follower job (AG_JOB.sql),
the group's alerts and a job and an alert of someone else's. R1: afterwards the mirroring job and
alerts are gone and nothing else is; R2: a second run changes nothing and succeeds.
retire-selftest: mutated scripts (a prefix that also matches the follower job; a loop that never
reads the next job; an alert left out) are rejected.

Exit 0 and `ok` on success; exit 1 with the reasons otherwise. A violation fails.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "validators"))
sys.path.insert(0, HERE)
import sql_logic  # noqa: E402
import validate  # noqa: E402
import sql_ag_sim  # noqa: E402
from sql_ag_sim import fail, read  # noqa: E402


def batches(text):
    """The script's batches as sqlcmd sends them: GO-separated, sqlcmd commands (`:on error exit`)
    and comment-only batches left out."""
    out = []
    for _, b in validate._sql_batches(text):
        b = "\n".join(l for l in b.split("\n") if not l.startswith(":"))
        code = "\n".join(l for l in b.split("\n") if l.strip() and not l.strip().startswith("--"))
        if code.strip():
            out.append(b)
    return out


def new_db(props):
    db = sql_logic.tsql_connection()
    db.create_function("SERVERPROPERTY", 1, lambda name: props.get(name))
    return db


class Stop(Exception):
    """sqlcmd -b with `:on error exit`: an error of severity 11 or more ends the run."""


class Ctx(sql_ag_sim.Ctx):
    """The interpreter with PRINT recorded (sql_ag_sim.Ctx), RAISERROR ending the run, and the
    statements these scripts add: ALTER DATABASE … SET PARTNER OFF and EXEC
    msdb.dbo.sp_delete_alert/sp_delete_job."""

    def stmt(self, seg):
        inner = seg
        if seg.is_type("statement"):
            k = sql_logic.kids(seg)
            inner = k[0] if len(k) == 1 else seg
        t = inner.get_type()
        k = sql_logic.kids(inner)
        if t == "alter_database_statement":
            words = [c.raw.upper() for c in k]
            name = next(c for c in k if c.is_type("database_reference")).raw
            if words[-3:] != ["SET", "PARTNER", "OFF"] or not name.startswith("["):
                raise sql_logic.Unsupported(f"ALTER DATABASE not modelled: {inner.raw[:60]}")
            if getattr(self.env, "race", False):
                self.env.between()  # a change between the statement's check and its act
            self.env.partner_off(name[1:-1].replace("]]", "]"))
            return
        if t == "execute_script_statement":
            proc = next(c for c in k if c.is_type("object_reference")).raw.lower().split(".")[-1]
            args, name = {}, None
            for c in k:
                if c.is_type("parameter"):
                    name = c.raw[1:].lower()
                elif c.is_type("expression") and name is not None:
                    args[name] = self.value(c)
                    name = None
            self.env.procedure(proc, args)
            return
        yield from super().stmt(seg)
        if self.step_failed:
            raise Stop(self.messages[-1][2])


def run_script(text, env):
    """Runs every batch in order; returns (ended by an error?, printed lines, messages)."""
    printed, messages = [], []
    for b in batches(text):
        try:
            prog = sql_logic.program(b)  # parsed once per text
        except sql_logic.Unsupported as e:
            raise sql_logic.Unsupported(f"a batch does not parse: {e}: {b[:80]!r}")
        ctx = Ctx(prog, env)
        try:
            sql_logic.drive(ctx.block(prog.stmts))
        except Stop:
            return True, printed + ctx.printed, messages + ctx.messages
        except sql_logic.SqlError as e:
            return True, printed + ctx.printed, messages + [(None, 16, str(e), False)]
        printed += ctx.printed
        messages += ctx.messages
    return False, printed, messages


# ------------------------------------------------------------------------------ mirroring-off

# One database as the principal's instance sees it: (mirrored, role here, state, safety, state_desc
# here). Role "P": principal here, "M": mirror here (RESTORING here).
CASES = [
    ("principal, synchronized, FULL", (True, 1, 4, 2, "ONLINE")),
    ("principal, synchronizing", (True, 1, 2, 2, "ONLINE")),
    ("principal, safety OFF", (True, 1, 4, 1, "ONLINE")),
    ("principal, suspended", (True, 1, 0, 2, "ONLINE")),
    ("principal, disconnected", (True, 1, 1, 2, "ONLINE")),
    ("mirror here", (True, 2, 4, 2, "RESTORING")),
    ("out of mirroring, online", (False, None, None, None, "ONLINE")),
    ("out of mirroring, restoring", (False, None, None, None, "RESTORING")),
    ("absent", None),
]


class Pair:
    """The principal's instance (this side) of N mirrored databases, and the session state that
    both partners share. `dbs[name]` is a dict: mirrored, here ('P' principal, 'M' mirror),
    state, safety, desc (this side's state_desc); None when the database is not here."""

    def __init__(self, names, hadr=1):
        self.names = names
        self.props = {"IsHadrEnabled": hadr}
        self.catalog = new_db(self.props)
        self.catalog.execute("CREATE TABLE databases (database_id INTEGER, name TEXT COLLATE TSQL, "
                             "state_desc TEXT COLLATE TSQL)")
        self.catalog.execute("CREATE TABLE database_mirroring (database_id INTEGER, mirroring_guid TEXT, "
                             "mirroring_role INTEGER, mirroring_state INTEGER, mirroring_safety_level INTEGER)")
        self.dbs = {}
        self.offs = []  # (database, its state when PARTNER OFF ran)
        self.violations = []
        self.races = 0
        self.rng = None
        self.p = 0.0
        self.race = False

    def set(self, name, case):
        if case is None:
            self.dbs[name] = None
            return
        mirrored, role, state, safety, desc = case
        self.dbs[name] = {"mirrored": mirrored, "here": {1: "P", 2: "M"}.get(role), "state": state,
                          "safety": safety, "desc": desc}

    def sync(self):
        c = self.catalog
        c.execute("DELETE FROM databases")
        c.execute("DELETE FROM database_mirroring")
        for i, n in enumerate(self.names, 1):
            d = self.dbs[n]
            if d is None:
                continue
            c.execute("INSERT INTO databases VALUES (?, ?, ?)", (i, n, d["desc"]))
            if d["mirrored"]:
                c.execute("INSERT INTO database_mirroring VALUES (?, ?, ?, ?, ?)",
                          (i, f"guid-{i}", 1 if d["here"] == "P" else 2, d["state"], d["safety"]))
            else:
                c.execute("INSERT INTO database_mirroring VALUES (?, NULL, NULL, NULL, NULL)", (i,))

    # the interpreter's hooks
    def before_query(self):
        self.sync()

    def between(self):
        if self.rng is not None and self.rng.random() < self.p:
            self.disturb()

    def on_open(self, rows):
        pass

    def on_fetch(self, row):
        return 0

    def procedure(self, proc, args):
        raise sql_logic.Unsupported(f"EXEC {proc} in mirroring-off.sql")

    def partner_off(self, name):
        d = self.dbs.get(name)
        if d is None or not d["mirrored"]:
            raise sql_logic.SqlError(f"database {name} is not configured for database mirroring", 1416)
        self.offs.append((name, dict(d)))
        if not (d["here"] == "P" and d["state"] == 4 and d["safety"] == 2):
            if self.race:
                self.races += 1
            else:
                self.violations.append(f"I1: SET PARTNER OFF of {name} while {d}")
        d["mirrored"] = False  # M1: the copy here stays as it is (ONLINE or RESTORING)
        d["state"] = d["safety"] = None
        d["here"] = None

    def disturb(self):
        """M3: one change of the session by someone else, between two statements."""
        live = [n for n in self.names if self.dbs[n] is not None and self.dbs[n]["mirrored"]]
        if not live:
            return
        d = self.dbs[self.rng.choice(live)]
        what = self.rng.choice(["failover", "behind", "caught up", "safety off", "safety full"])
        if what == "failover" and d["state"] == 4 and d["safety"] == 2:
            d["here"] = "M" if d["here"] == "P" else "P"
            d["desc"] = "RESTORING" if d["here"] == "M" else "ONLINE"
        elif what == "behind":
            d["state"] = 2
        elif what == "caught up" and d["safety"] == 2:
            d["state"] = 4
        elif what == "safety off":
            d["safety"] = 1
        elif what == "safety full":
            d["safety"] = 2

    def operator_fixes(self):
        """What the stop message asks for, before the next run: every session still mirrored
        back to principal here, SAFETY FULL, SYNCHRONIZED (a failback where needed)."""
        for d in self.dbs.values():
            if d is not None and d["mirrored"]:
                d.update(here="P", state=4, safety=2, desc="ONLINE")

    def all_out_and_online(self):
        return all(d is not None and not d["mirrored"] and d["desc"] == "ONLINE" for d in self.dbs.values())


def guard_rule(hadr, cases):
    if hadr != 1:
        return "STOP"
    for c in cases:
        if c is None:
            return "STOP"
        mirrored, role, state, safety, desc = c
        if mirrored and role != 1:
            return "STOP"
        if not mirrored and desc != "ONLINE":
            return "STOP"
        if mirrored and (state != 4 or safety != 2):
            return "STOP"
    return "GO"


def check_guard(text, n, stop_at=1):
    """Every combination of N databases' states and Always On on/off: the run changes nothing
    (no PARTNER OFF, an error) exactly when the rule says STOP; otherwise every database ends out
    of mirroring and ONLINE here."""
    names = [f"DB{i}" for i in range(n)]
    bad = []
    import itertools
    combos = [(h, cs) for h in (1, 0) for cs in itertools.product([c for _, c in CASES], repeat=n)]
    for hadr, cs in combos:
        pair = Pair(names, hadr)
        for name, c in zip(names, cs):
            pair.set(name, c)
        try:
            failed, printed, _ = run_script(text, pair)
        except (sql_logic.Unsupported, sqlite3.Error) as e:
            return [f"cannot execute: {e}"]
        want = guard_rule(hadr, cs)
        got = "STOP" if failed and not pair.offs else ("GO" if not failed and pair.all_out_and_online() else "OTHER")
        if got != want or pair.violations:
            label = [next(l for l, c in CASES if c == x) for x in cs]
            bad.append(f"IsHadrEnabled={hadr} databases={label}: the run did {got} "
                       f"(PARTNER OFF of {[o[0] for o in pair.offs]}), the rule says {want}; {pair.violations}")
            if len(bad) >= stop_at:
                break
    return bad


def over_time(text, n, seeds, p=0.05):
    """(I1/I2/I3 violations, stats) over random runs with disturbances between statements; in
    every other run also between a statement's check and its ALTER DATABASE (ALTER DATABASE "must
    run in autocommit mode ... and is not allowed in an explicit or implicit transaction", ALTER
    DATABASE (Transact-SQL): no script can make the two atomic). In those runs a PARTNER OFF may
    meet a changed session (counted as a race, not an I1 violation); I2 then says such a run never
    ends without an error when it left a database RESTORING here."""
    names = [f"DB{i}" for i in range(n)]
    bad = []
    stats = {"runs": 0, "stopped by the guard": 0, "stopped later": 0, "finished": 0, "PARTNER OFF": 0, "races": 0}
    good = next(c for l, c in CASES if l == "principal, synchronized, FULL")
    for seed in range(seeds):
        rng = random.Random(seed)
        pair = Pair(names)
        for name in names:  # mostly ready, sometimes not
            pair.set(name, good if rng.random() < 0.8 else rng.choice([c for _, c in CASES[:6]]))
        pair.rng, pair.p, pair.race = rng, p, seed % 2 == 1
        for attempt in range(3):  # the operator runs it again after a stop
            stats["runs"] += 1
            before = len(pair.offs)
            try:
                failed, printed, _ = run_script(text, pair)
            except (sql_logic.Unsupported, sqlite3.Error) as e:
                return [f"cannot execute: {e}"], stats
            stats["PARTNER OFF"] += len(pair.offs) - before
            guard_stop = failed and printed[:1] != ["READY: ending database mirroring of every database here."]
            if failed and guard_stop:
                stats["stopped by the guard"] += 1
                if len(pair.offs) != before:
                    bad.append(f"seed {seed}: I3 the guard stopped the run after PARTNER OFF of {pair.offs[before:]}")
            elif failed:
                stats["stopped later"] += 1
            else:
                stats["finished"] += 1
                if not pair.all_out_and_online():
                    bad.append(f"seed {seed}: I2 the run ended without an error, databases {pair.dbs}")
                break
            pair.operator_fixes()
        bad.extend(f"seed {seed}: {v}" for v in pair.violations)
        stats["races"] += pair.races
    return bad, stats


def naive(text, names_in_script):
    """The control: PARTNER OFF on every database, no guard, no per-database check."""
    return "\n".join(f"ALTER DATABASE [{n}] SET PARTNER OFF;\nGO" for n in names_in_script) + "\n"


def script_names(text):
    return [m.replace("]]", "]") for m in re.findall(r"ALTER DATABASE \[((?:[^\]]|\]\])+)\] SET PARTNER OFF;", text)]


def rename(text, n):
    """The script's databases renamed DB0…DB(n-1), as the stand-in names them."""
    names = script_names(text)
    if len(names) != n:
        fail([f"the script has {len(names)} PARTNER OFF statements, expected {n}"])
    for i, name in enumerate(names):
        q = name.replace("'", "''")
        text = text.replace(f"N'{q}'", f"N'DB{i}'").replace(f"[{name.replace(']', ']]')}]", f"[DB{i}]")
    return text


def off(path, n, seeds, control):
    text = rename(read(path), n)
    if control == "naive":
        text = naive(text, [f"DB{i}" for i in range(n)])
        bad, stats = over_time(text, n, seeds)
        i1 = [b for b in bad if "I1" in b]
        if not i1:
            fail([f"control naive: I1 was never violated (the simulation cannot fail): {stats}"])
        print(f"ok (control fails as it should: I1 violated {len(i1)} times; first: {i1[0]})")
        return
    bad = check_guard(text, n, stop_at=5)
    if bad:
        fail(bad)
    bad, stats = over_time(text, n, seeds)
    summary = ", ".join(f"{v} {k}" for k, v in stats.items())
    if bad:
        fail(bad[:5] + [summary])
    if stats["finished"] < seeds // 2 or stats["stopped by the guard"] == 0 or stats["stopped later"] == 0:
        fail(["too few runs of each outcome for the simulation to prove anything: " + summary])
    print(f"ok ({len(CASES)}^{n} x 2 guard cases; {summary})")


# Each mutation is a plausible wrong script; the checks must reject every one.
OFF_MUTATIONS = [
    ("no Always On check", r"IF @hadr <> 1\n[^\n]*\nELSE IF", "IF"),
    ("SYNCHRONIZING accepted", r"WHEN m\.mirroring_state = 4 AND", "WHEN"),
    ("safety OFF accepted", r"AND m\.mirroring_safety_level = 2 THEN", "THEN"),
    ("a mirror here accepted", r"\) AND m\.mirroring_role = 1;", ");"),
    ("the per-database check only asks for a session", r"AND m\.mirroring_role = 1 AND m\.mirroring_state = 4 AND m\.mirroring_safety_level = 2\)\n",
     "AND m.mirroring_guid IS NOT NULL)\n"),
    ("no final check", r"IF @out < \d+\n    RAISERROR \(N'Not finished[^\n]*\nELSE\n", ""),
]


def off_selftest(path, n):
    text = rename(read(path), n)
    msgs = []
    if check_guard(text, n) or over_time(text, n, 20)[0]:
        msgs.append("the unmutated script fails the check")
    for label, pat, rep in OFF_MUTATIONS:
        mutated, k = re.subn(pat, rep, text, count=1)
        if k != 1:
            msgs.append(f"mutation not applicable (the script changed?): {label}")
        elif not check_guard(mutated, n) and not over_time(mutated, n, 200, p=0.15)[0]:
            msgs.append(f"mutation not caught: {label}")
    if msgs:
        fail(msgs)
    print(f"ok ({len(OFF_MUTATIONS)} mutations rejected)")


# ------------------------------------------------------------------------------ retire

def literal(text, pattern):
    m = re.search(pattern + r"N'((?:[^']|'')*)'", text)
    if not m:
        fail([f"no {pattern!r} in the script"])
    return m.group(1).replace("''", "'")


class Msdb(sql_logic.StaticEnv):
    def __init__(self, jobs, alerts):
        super().__init__(new_db({}))
        self.catalog.execute("CREATE TABLE sysjobs (job_id TEXT, name TEXT COLLATE TSQL, description TEXT COLLATE TSQL)")
        self.catalog.execute("CREATE TABLE sysalerts (id INTEGER, name TEXT COLLATE TSQL)")
        self.catalog.executemany("INSERT INTO sysjobs VALUES (?, ?, ?)",
                                 [(f"{i:08d}-0000-0000-0000-000000000000", n, d) for i, (n, d) in enumerate(jobs, 1)])
        self.catalog.executemany("INSERT INTO sysalerts VALUES (?, ?)", list(enumerate(alerts, 1)))

    def partner_off(self, name):
        raise sql_logic.Unsupported("ALTER DATABASE in mirroring-retire.sql")

    def procedure(self, proc, args):
        # sp_delete_alert: "@name = 'name' The name of the alert"; sp_delete_job: "@job_id …
        # The identification number of the job to be deleted" (msdb stored procedures); each
        # fails when the object does not exist (error 14262).
        c = self.catalog
        if proc == "sp_delete_alert":
            n = c.execute("DELETE FROM sysalerts WHERE name = ?", (args["name"],)).rowcount
        elif proc == "sp_delete_job":
            n = c.execute("DELETE FROM sysjobs WHERE job_id = ?", (args["job_id"],)).rowcount
        else:
            raise sql_logic.Unsupported(f"EXEC {proc}")
        if n != 1:
            raise sql_logic.SqlError(f"{proc}: the object does not exist", 14262)

    def state(self):
        return (sorted(r[0] for r in self.catalog.execute("SELECT name FROM sysjobs")),
                sorted(r[0] for r in self.catalog.execute("SELECT name FROM sysalerts")))


def retire_world(job_sql, alerts_sql, ag_job_sql):
    mirror_job = (literal(job_sql, r"sp_add_job\s+@job_name = "), literal(job_sql, r"@description = "))
    mirror_alerts = re.findall(r"sp_add_alert\s+@name = N'((?:[^']|'')*)'", alerts_sql)
    mirror_alerts += re.findall(r"sp_delete_alert @name = N'((?:[^']|'')*)'", alerts_sql)  # retired ones
    mirror_alerts = sorted({a.replace("''", "'") for a in mirror_alerts})
    site = re.match(r"sitebundle \(site (.*?)\):", mirror_job[1]).group(1)
    # The follower job as this site's bundle would describe it (AG_JOB.sql may be another site's).
    ag_desc = re.sub(r"^sitebundle \(site .*?\):", f"sitebundle (site {site}):", literal(ag_job_sql, r"@description = "))
    ag_job = (literal(ag_job_sql, r"sp_add_job\s+@job_name = "), ag_desc)
    others_jobs = [ag_job, ("DatabaseBackup - USER_DATABASES - LOG", "Source: https://ola.hallengren.com")]
    others_alerts = [f"{site} - role change (1480)", "Severity 017"]
    return mirror_job, mirror_alerts, others_jobs, others_alerts


def check_retire(text, world):
    mirror_job, mirror_alerts, others_jobs, others_alerts = world
    msdb = Msdb([mirror_job] + others_jobs, mirror_alerts + others_alerts)
    want = (sorted(j[0] for j in others_jobs), sorted(others_alerts))
    for run in (1, 2):
        try:
            failed, printed, msgs = run_script(text, msdb)
        except (sql_logic.Unsupported, sqlite3.Error) as e:
            return [f"run {run}: cannot execute: {e}"]
        if failed:
            return [f"run {run}: ended with an error: {msgs[-1:]}"]
        if msdb.state() != want:
            return [f"R{run}: after run {run} msdb holds jobs/alerts {msdb.state()}, expected {want}"]
    return []


def retire(path, job, alerts, ag_job, selftest=False):
    text = read(path)
    world = retire_world(read(job), read(alerts), read(ag_job))
    if not selftest:
        bad = check_retire(text, world)
        if bad:
            fail(bad)
        print(f"ok (deleted the job {world[0][0]!r} and {len(world[1])} alerts; kept {len(world[2])} jobs, {len(world[3])} alerts)")
        return
    msgs = []
    if check_retire(text, world):
        msgs.append("the unmutated script fails the check")
    mutations = [
        ("a prefix that also matches the follower job", r"(N'sitebundle \(site [^)]*\): where) the anchor database'", r"\1'"),
        ("the loop never reads the next job", r"    SET @job = NULL;\n", ""),
        ("an alert left out", r"IF EXISTS \(SELECT 1 FROM msdb\.dbo\.sysalerts[^\n]*\nBEGIN\n[^\n]*\n[^\n]*\nEND\nGO\n", ""),
    ]
    for label, pat, rep in mutations:
        mutated, k = re.subn(pat, rep, text)
        if k < 1:
            msgs.append(f"mutation not applicable (the script changed?): {label}")
        elif not check_retire(mutated, world):
            msgs.append(f"mutation not caught: {label}")
    if msgs:
        fail(msgs)
    print(f"ok ({len(mutations)} mutations rejected)")


def main(argv):
    cmd = argv[0] if argv else ""
    if cmd == "off":
        seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 200
        control = argv[argv.index("--control") + 1] if "--control" in argv else None
        off(argv[1], int(argv[2]), seeds, control)
    elif cmd == "off-selftest":
        off_selftest(argv[1], int(argv[2]))
    elif cmd in ("retire", "retire-selftest"):
        retire(argv[1], argv[2], argv[3], argv[4], selftest=cmd == "retire-selftest")
    else:
        fail([__doc__])


if __name__ == "__main__":
    main(sys.argv[1:])
