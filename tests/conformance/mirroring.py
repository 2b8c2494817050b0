"""Conformance table of the mirroring state machine of tests/sql_mirroring_sim.py (class Sim: the
states a partner's catalog shows, the ALTER DATABASE ... SET PARTNER errors, automatic failover,
quorum, forced service, RESUME, a DBA's manual failover).

Each case builds a Sim with partners A (0) and B (1) and the databases `dbs` (name, principal
partner, safety 1 OFF / 2 FULL, witness, and optionally lag: seconds until SYNCHRONIZED,
suspended), sets which partners and the witness are up, runs `do` (a list of steps: the job's ALTER
on a partner, a partner lost, forced service, RESUME, a manual failover) and returns what the case
asks: each database's state as sys.database_mirroring names it, its principal, the ALTER's error
number.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import sql_logic as L  # noqa: E402
import sql_mirroring_sim as M  # noqa: E402

MODEL = "mirroring state machine (tests/sql_mirroring_sim.py, class Sim)"

SQL = "https://learn.microsoft.com/en-us/sql/"
STATES = SQL + "database-engine/database-mirroring/mirroring-states-sql-server"
ROLES = SQL + "database-engine/database-mirroring/role-switching-during-a-database-mirroring-session-sql-server"
ALTER = SQL + "t-sql/statements/alter-database-transact-sql-database-mirroring"
ERRORS = SQL + "relational-databases/errors-events/database-engine-events-and-errors-1000-to-1999"
QUORUM = SQL + "database-engine/database-mirroring/quorum-how-a-witness-affects-database-availability-database-mirroring"
FORCED = SQL + "database-engine/database-mirroring/role-switching-during-a-database-mirroring-session-sql-server"


def sim(case):
    s = M.Sim(None, [], "anchor", [], "full", 1, False)
    s.now = 1000
    s.dbs = []
    for name, principal, safety, witness, *rest in case["dbs"]:
        d = M.Db(name, principal, safety, witness)
        opts = rest[0] if rest else {}
        d.sync_at = s.now + opts.get("lag", 0)
        d.suspended = opts.get("suspended", False)
        s.dbs.append(d)
    s.anchor = s.dbs[0].name
    s.up = list(case.get("up", [True, True]))
    s.witness_up = case.get("witness_up", True)
    return s


def run(case):
    s = sim(case)
    errors = []
    for step in case.get("do", []):
        kind, *args = step
        if kind == "alter":  # the job on partner p: ALTER DATABASE [name] SET PARTNER action
            p, name, action = args
            env = M.Env(s, p)
            env.read_at = (s.now, s.snapshot())
            try:
                s.job_alter(env, name, action)
                errors.append(None)
            except L.SqlError as e:
                errors.append(e.number)
        elif kind == "lose":
            s.partner_down(args[0], 600)
        elif kind == "force":
            s.force(args[0])
        elif kind == "resume":
            s.resume_db(args[0])
        elif kind == "manual":
            s.manual(s.db(args[0]), "manual failover by a DBA")
    out = {}
    for d in s.dbs:
        out[d.name] = [M.L.STATE_DESC[s.state(d)], "AB"[d.principal]]
    if case.get("do") and any(k[0] == "alter" for k in case["do"]):
        out["errors"] = errors
    return out


CASES = [
    dict(id="synchronized", dbs=[("db", 0, 2, False)], expect={"db": ["SYNCHRONIZED", "A"]},
         source=STATES, quote="SYNCHRONIZED: When the mirror server becomes sufficiently caught up to the "
                              "principal server, the mirroring state changes to SYNCHRONIZED."),
    dict(id="synchronizing", dbs=[("db", 0, 2, False, {"lag": 30})], expect={"db": ["SYNCHRONIZING", "A"]},
         misreading={"db": ["SYNCHRONIZED", "A"]},
         source=STATES, quote="SYNCHRONIZING: The contents of the mirror database are lagging behind the contents "
                              "of the principal database."),
    dict(id="suspended", dbs=[("db", 0, 2, False, {"suspended": True})], expect={"db": ["SUSPENDED", "A"]},
         source=STATES, quote="SUSPENDED: The mirror copy of the database is not available."),
    dict(id="disconnected", dbs=[("db", 0, 2, False)], up=[True, False], expect={"db": ["DISCONNECTED", "A"]},
         misreading={"db": ["SYNCHRONIZED", "A"]},
         source=STATES, quote="DISCONNECTED: The partner has lost communication with the other partner."),
    dict(id="manual-failover", dbs=[("db", 0, 2, False)], do=[("alter", 0, "db", "FAILOVER")],
         expect={"db": ["SYNCHRONIZING", "B"], "errors": [None]},
         source=ROLES, quote="Manual failover ... requires high-safety mode and the partners connected and the "
                             "database already synchronized; the mirror becomes the principal (and resynchronizes)."),
    dict(id="failover-not-synchronized", dbs=[("db", 0, 2, False, {"lag": 30})],
         do=[("alter", 0, "db", "FAILOVER")], expect={"db": ["SYNCHRONIZING", "A"], "errors": [1422]},
         misreading={"db": ["SYNCHRONIZING", "B"], "errors": [None]},
         source=ERRORS, quote="1422: The mirror server instance is not caught up to the recent changes to database "
                              "\"%.*ls\". Unable to fail over."),
    dict(id="failover-safety-off", dbs=[("db", 0, 1, False)], do=[("alter", 0, "db", "FAILOVER")],
         expect={"db": ["SYNCHRONIZED", "A"], "errors": [1477]}, misreading={"db": ["SYNCHRONIZED", "B"],
                                                                          "errors": [None]},
         source=ERRORS, quote="1477: The database mirroring safety level must be FULL to manually failover "
                              "database \"%.*ls\". Set safety level to FULL and retry."),
    dict(id="failover-on-the-mirror", dbs=[("db", 0, 2, False)], do=[("alter", 1, "db", "FAILOVER")],
         expect={"db": ["SYNCHRONIZED", "A"], "errors": [1470]},
         source=ALTER + " (FAILOVER) and " + ERRORS,
         quote="FAILOVER ... can be specified only on the principal server; 1470: The alter database for this "
               "partner config values may only be initiated on the current principal server (the number for "
               "FAILOVER on the mirror is not documented: the model uses 1470)"),
    dict(id="failover-partner-down", dbs=[("db", 0, 2, False)], up=[True, False],
         do=[("alter", 0, "db", "FAILOVER")], expect={"db": ["DISCONNECTED", "A"], "errors": [1447]},
         source=ERRORS, quote="1447: ALTER DATABASE \"%.*ls\" command cannot be executed until both partner server "
                              "instances are up, running, and connected."),
    dict(id="safety-off-on-the-mirror", dbs=[("db", 0, 2, False)], do=[("alter", 1, "db", "SAFETY OFF")],
         expect={"db": ["SYNCHRONIZED", "A"], "errors": [1470]},
         source=ALTER + " (SAFETY) and " + ERRORS,
         quote="SAFETY ... can be specified only on the principal; 1470: The alter database for this partner config "
               "values may only be initiated on the current principal server."),
    dict(id="busy", dbs=[("db", 0, 2, False)], do=[("alter", 0, "db", "FAILOVER"), ("alter", 1, "db", "FAILOVER")],
         expect={"db": ["SYNCHRONIZING", "B"], "errors": [None, 1404]},
         source=ERRORS, quote="1404: The command failed because the database mirror is busy. Reissue the command "
                              "later."),
    dict(id="automatic-failover-with-witness", dbs=[("db", 0, 2, True)], do=[("lose", 0)],
         expect={"db": ["DISCONNECTED", "B"]}, misreading={"db": ["DISCONNECTED", "A"]},
         source=ROLES, quote="Automatic failover: requires high-safety mode and a witness; when the principal is "
                             "lost and the database synchronized, the mirror and the witness form quorum and the "
                             "mirror takes over the principal role."),
    dict(id="no-automatic-failover-without-witness", dbs=[("db", 0, 2, False)], do=[("lose", 0)],
         expect={"db": ["DISCONNECTED", "A"]}, misreading={"db": ["DISCONNECTED", "B"]},
         source=ROLES, quote="Without a witness only manual failover or forced service is possible."),
    dict(id="no-automatic-failover-unsynchronized", dbs=[("db", 0, 2, True, {"lag": 30})], do=[("lose", 0)],
         expect={"db": ["DISCONNECTED", "A"]},
         source=ROLES, quote="automatic failover ... occurs only if the database is synchronized"),
    dict(id="no-automatic-failover-safety-off", dbs=[("db", 0, 1, True)], do=[("lose", 0)],
         expect={"db": ["DISCONNECTED", "A"]},
         source=ROLES, quote="automatic failover requires high-safety mode (SAFETY FULL)"),
    dict(id="quorum-lost", dbs=[("db", 0, 2, True)], up=[True, False], witness_up=False,
         expect={"db": ["DISCONNECTED", "A"]},
         source=QUORUM, quote="If a witness is set for the session but is currently disconnected, the loss of the "
                              "mirror server causes the principal server to go down (it serves the database only "
                              "with quorum)."),
    dict(id="forced-service", dbs=[("db", 0, 2, False)], up=[False, True], do=[("force", 1)],
         expect={"db": ["SUSPENDED", "B"]}, misreading={"db": ["SYNCHRONIZED", "B"]},
         source=FORCED, quote="Forced service (with possible data loss) ... the mirror server becomes the principal "
                              "and mirroring is suspended."),
    dict(id="forced-service-needs-the-principal-down", dbs=[("db", 0, 2, False)], do=[("force", 1)],
         expect={"db": ["SYNCHRONIZED", "A"]},
         source=ALTER + " (FORCE_SERVICE_ALLOW_DATA_LOSS)",
         quote="Forces database service to the mirror database after the principal server fails ... only on the "
               "mirror server, when the principal server is disconnected."),
    dict(id="resume-needs-the-partner", dbs=[("db", 1, 2, False, {"suspended": True})], up=[False, True],
         do=[("resume", "db")], expect={"db": ["SUSPENDED", "B"]},
         source=ALTER + " (RESUME)", quote="RESUME: resumes a suspended session (the partners must be connected to "
                                           "exchange the log; a SUSPENDED session never clears by itself)."),
    dict(id="manual-failover-safety-off-refused", dbs=[("db", 0, 1, False)], do=[("manual", "db")],
         expect={"db": ["SYNCHRONIZED", "A"]},
         source=ROLES, quote="Manual failover requires high-safety mode (SAFETY FULL)."),
]
