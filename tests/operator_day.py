#!/usr/bin/env python3
"""An operator's day: the blocks of a generated runbook applied, in order, to a model of the farm.

    operator_day.py README.md FARM.json [--inject LINE:BLOCKFILE ...]

FARM.json (written by tests/it/runbook_checker.rs from the resolved site):
    {"nodes": {"<server>": ["<tmsh node name>", ...]},
     "pools": [{"names": ["/P/pool", "/P/sitebundle/pool"], "members": [["<server>", port], ...]}],
     "partners": [{"server": "<server>", "targets": ["<sqlcmd -S value>", ...], "services": [...]}],
     "databases": [...], "probe_database": "<db>",
     "front_ends": ["<server>", ...], "switcher_task": "<task name>", "servers": ["<server>", ...]}

The model (state, and the rule each command follows):
  F5 (BIG-IP LTM)
    node state user-up|user-down, session user-enabled|user-disabled; pool member the same.
    A pool member takes new connections only when it and its node are enabled and not forced
    offline: "Disabled: allows only persistent or active connections; Forced Offline: allows only
    active connections" (F5 K13310, "Disabling nodes or pool members for maintenance"); a node's
    state applies to every pool member on that node (same article: "When you disable or force a
    node offline, all pool members that use the node are also affected"). A pool with no member
    that takes new connections is unavailable to new clients (F5, "BIG-IP Local Traffic Manager:
    Concepts", Pools: "the pool is marked down when all of its members are down").
  SQL Server database mirroring, per database: the principal partner; per partner: up or down.
    SET PARTNER FAILOVER "can be issued only on the principal server", needs the session
    SYNCHRONIZED, and swaps the roles; SET PARTNER FORCE_SERVICE_ALLOW_DATA_LOSS "can be issued only
    on the mirror server" and only while the principal is disconnected: the mirror becomes principal,
    the session SUSPENDED; RESUME resumes a suspended session; SAFETY FULL|OFF is set on the
    principal (Microsoft, "ALTER DATABASE Database Mirroring (Transact-SQL)",
    https://learn.microsoft.com/sql/t-sql/statements/alter-database-transact-sql-database-mirroring).
  Front ends: where the SQL client alias points (a partner). The alias switcher's task, when
    enabled, runs every interval and sets the alias to the principal of the probe database
    (tests/farm_timeline.py, invariant I1): the model lets it run between blocks (an operator does
    not paste two blocks within the same minute). gpupdate leaves the alias alone (its Registry item
    is run-once: farm_timeline.py, invariant I2). `reg import` of the alias file sets it to the first
    partner (the value the .reg file holds: the runbook's step 3).
  Tasks per server: enabled or disabled (schtasks /Create, /Change /Enable|/Disable, /Delete).
  Transient: iisreset and a net stop/start pair of IIS take the server's pool members down while it
    runs: checked with that one server down.

Invariants after every block (a violation fails the run, exit 1):
  V1  every pool with members on two nodes or more has a member that takes new connections (a
      pool on one node is down whenever that node is, whatever the runbook does);
  V2  never both SQL Server partners down;
  V3  no front end's alias at a partner that is up and is the mirror of the probe database;
  V4  every command is understood: read-only, modelled, or declared as changing nothing the model
      holds (deploying a file, a job, a login); anything else fails the run (never ignored);
  V5  a state-changing command is not sent to a server that is down (a block that mixes the cases
      of "which partner survived" would).

Blocks: every fenced block of the runbook in order, except the "A mirroring partner is lost"
section, which is played as its own day per lost partner (start: that partner principal and down),
where a block whose first line is `REM <server> survives:`/`survived:` applies only when <server>
is the survivor. Prints one line per day and exits 0 when no invariant broke.
"""
from __future__ import annotations

import json
import re
import shlex
import sys

DISASTER = "## A mirroring partner is lost"
DISASTER_SUBSECTIONS = {"### Forced failover (disaster recovery: data loss)"}


class Violation(Exception):
    pass


def blocks(md: str):
    """(line, section heading, info, body lines) of every fenced block."""
    out, lines, section, top, i = [], md.split("\n"), "", "", 0
    while i < len(lines):
        if lines[i].startswith("## "):
            section = top = lines[i].strip()
        elif lines[i].startswith("### "):
            # A disaster subsection (an availability group's forced failover) is played like the
            # mirroring one: only on the days a partner is lost.
            section = DISASTER if lines[i].strip() in DISASTER_SUBSECTIONS else top
        if lines[i].lstrip(" ").startswith("```"):
            # Fences inside list items are indented (their body by as much).
            indent = len(lines[i]) - len(lines[i].lstrip(" "))
            j = i + 1
            while j < len(lines) and not lines[j].lstrip(" ").startswith("```"):
                j += 1
            body = [l[indent:] for l in lines[i + 1 : j]]
            out.append((i + 1, section, lines[i].strip()[3:].strip(), body))
            i = j
        i += 1
    return out


class Farm:
    def __init__(self, farm: dict, lost: str | None = None):
        self.f = farm
        self.node_of = {n: s for s, names in farm["nodes"].items() for n in names}
        self.node = {s: {"state": "user-up", "session": "user-enabled"} for s in farm["nodes"]}
        self.pool_of = {n: i for i, p in enumerate(farm["pools"]) for n in p["names"]}
        self.member = {(i, s, port): {"state": "user-up", "session": "user-enabled"}
                       for i, p in enumerate(farm["pools"]) for s, port in p["members"]}
        self.partner_of = {t.lower(): p["server"] for p in farm["partners"] for t in p["targets"]}
        self.partners = [p["server"] for p in farm["partners"]]
        self.sql_services = {p["server"]: {svc.lower() for svc in p["services"]}
                             for p in farm["partners"]}
        first = self.partners[0] if self.partners else None
        start = lost or first
        dbs = farm["databases"] + [farm["probe_database"]] * bool(farm["probe_database"])
        self.principal = {d: start for d in dbs}
        self.suspended = {d: False for d in dbs}
        self.down: set[str] = {lost} if lost else set()
        self.alias = {fe: start for fe in farm["front_ends"]}
        self.tasks = {(s, farm["switcher_task"]): True for s in farm["front_ends"]}
        self.transient: set[str] = set()

    # -- invariants ----------------------------------------------------------------------------
    def takes_connections(self, i, s, port) -> bool:
        m, n = self.member[(i, s, port)], self.node[s]
        return (s not in self.transient and s not in self.down
                and all(x["state"] == "user-up" and x["session"] == "user-enabled" for x in (m, n)))

    def check(self, where: str):
        for i, p in enumerate(self.f["pools"]):
            if len({s for s, _ in p["members"]}) < 2:
                continue  # a pool on one node goes down with it: the site's choice, not a block's
            if not any(self.takes_connections(i, s, port) for s, port in p["members"]):
                raise Violation(f"{where}: V1 pool {p['names'][0]} has no member that takes new "
                                "connections")
        if self.partners and all(p in self.down for p in self.partners):
            raise Violation(f"{where}: V2 both SQL Server partners are down")
        probe = self.f["probe_database"]
        for fe, target in sorted(self.alias.items()):
            if probe and target not in self.down and self.principal.get(probe) != target:
                raise Violation(f"{where}: V3 the alias on {fe} points at {target}, the mirror of "
                                f"{probe}")

    def between_blocks(self):
        """The alias switcher's scheduled run on every front end where its task is enabled."""
        probe = self.f["probe_database"]
        p = self.principal.get(probe)
        if p and p not in self.down:
            for fe in self.alias:
                if self.tasks.get((fe, self.f["switcher_task"])):
                    self.alias[fe] = p


class Day:
    """Interprets the commands of blocks against a Farm."""

    def __init__(self, farm: Farm):
        self.farm = farm
        self.scope: list[str] = []  # servers a `REM on …` line or a `### server` heading names

    def fail(self, line, msg):
        raise Violation(f"line {line}: V4 {msg}")

    # -- cmd -------------------------------------------------------------------------------
    def cmd(self, line, text):
        if re.match(r"REM\b", text, re.I):
            m = re.match(r"REM on (.+?)(?::|$)", text)
            if m:
                self.scope = [s.strip() for s in m.group(1).split(",")]
            return  # a comment: prose, never split as a command
        try:
            w = shlex.split(text.replace("\\", "\\\\"), posix=True)
        except ValueError:
            self.fail(line, f"cannot split {text!r}")
        if not w:
            return
        head = w[0].lower().rsplit("\\", 1)[-1]
        fn = {
            "sqlcmd": self.sqlcmd, "schtasks": self.schtasks, "reg": self.reg, "net": self.net,
            "powershell.exe": self.ps_exe, "iisreset": self.iisreset,
        }.get(head)
        if fn:
            return fn(line, w)
        # Read-only, or changing nothing the model holds (each named with what it changes).
        if head in ("dir", "gpupdate", "xcopy", "eventtriggers", "cscript"):
            return  # files, policy refresh (run-once alias item), event triggers, maintenance mode
        if head == "sc" and w[1].lower() in ("qfailure", "failure", "query"):
            return  # service recovery settings
        if head == "appcmd.exe" and w[1].lower() in ("list", "set"):
            return  # IIS authentication providers: no availability state
        if head == "stsadm.exe" and "renameserver" in [x.lower() for x in w]:
            return  # SharePoint's name for its database server: the alias keeps pointing
        if head == "stsadm.exe" and {"addzoneurl", "addalternatedomain", "enumalternatedomains"} & {
                x.lower() for x in w}:
            return  # SharePoint's alternate access mappings: URLs, no availability state
        self.fail(line, f"command not in the model: {text[:80]!r}")

    def sqlcmd(self, line, w):
        target = w[w.index("-S") + 1].lower() if "-S" in w else None
        server = self.farm.partner_of.get(target or "")
        if "-i" in w:
            script = w[w.index("-i") + 1].rsplit("\\", 1)[-1].lower()
            if script in ("mirror-state.sql", "collect-sql.sql", "collect-ag.sql", "ag-readiness.sql"):
                return  # read-only
            if script in ("ag-create.sql", "ag-join.sql", "ag-alerts.sql") or \
                    re.fullmatch(r"ag-(create|join)-.+\.sql", script):
                self.up(line, server, target)
                return  # a group (the anchor or a follower), its join and alerts: no primary moves
            if script == "mirroring-retire.sql":
                self.up(line, server, target)
                return  # deletes the mirroring bundle's Agent job and alerts: the model runs neither
            if script == "mirroring-off.sql":
                # Ends database mirroring where every database is principal (the script checks it,
                # tests/sql_migrate_sim.py): the databases stay online on the same server, so the
                # front ends' alias keeps reaching them; the group created next makes it primary.
                self.up(line, server, target)
                return
            if script == "ag-follow-job.sql":
                self.up(line, server, target)
                return  # the follower groups' Agent job: the model does not run the job
            if script in ("force-service.sql", "resume-mirroring.sql"):
                # One ALTER DATABASE … SET PARTNER per database of the site, each on its own
                # (templates/sql/partner-statements.sql: TRY…CATCH around each statement).
                self.up(line, server, target)
                what = "FORCE_SERVICE_ALLOW_DATA_LOSS" if script == "force-service.sql" else "RESUME"
                for db in list(self.farm.principal):
                    self.partner_action(line, server, db, what)
                return
            if script in ("mirror-failover-job.sql", "mirroring-alerts.sql",
                          "pause-failover-job.sql", "resume-failover-job.sql"):
                self.up(line, server, target)
                return  # the Agent job and alerts: the model does not run the job
            self.fail(line, f"sqlcmd script not in the model: {script}")
        q = w[w.index("-Q") + 1] if "-Q" in w else None
        if q is None:
            self.fail(line, "sqlcmd without -i or -Q")
        self.tsql(line, server, target, q)

    def up(self, line, server, target):
        if server is None:
            self.fail(line, f"sqlcmd -S {target}: not a partner of the site")
        if server in self.farm.down:
            raise Violation(f"line {line}: V5 a change sent to {server}, which is down")

    def tsql(self, line, server, target, q):
        s = " ".join(q.split())
        m = re.fullmatch(r"ALTER DATABASE \[(.+?)\] SET PARTNER (FAILOVER|FORCE_SERVICE_ALLOW_DATA_LOSS|"
                         r"RESUME|SUSPEND|SAFETY (?:FULL|OFF));?", s)
        if m:
            self.up(line, server, target)
            return self.partner_action(line, server, m.group(1), m.group(2))
        m = re.fullmatch(r"ALTER AVAILABILITY GROUP \[(.+?)\] (FAILOVER|FORCE_FAILOVER_ALLOW_DATA_LOSS);?", s)
        if m:
            self.up(line, server, target)
            return self.ag_action(line, server, m.group(2))
        m = re.fullmatch(r"ALTER DATABASE \[(.+?)\] SET HADR (SUSPEND|RESUME);?", s)
        if m:
            self.up(line, server, target)
            if m.group(1) not in self.farm.suspended:
                self.fail(line, f"database {m.group(1)} is not in the site's group")
            self.farm.suspended[m.group(1)] = m.group(2) == "SUSPEND"
            return
        if re.match(r"SELECT\b", s) and not re.search(r"\b(INTO|INSERT|UPDATE|DELETE)\b", s):
            return  # read-only query
        if re.match(r"EXEC (msdb\.dbo\.sp_help_jobhistory|sys\.xp_readerrorlog)\b", s):
            return  # read-only
        if re.fullmatch(r"EXEC msdb\.dbo\.sp_update_job @job_name = N'(?:[^']|'')*', @enabled = [01];", s):
            self.up(line, server, target)
            return  # the follower job paused or resumed: the model does not run the job
        if re.match(r"(EXEC msdb\.dbo\.sp_delete_(job|alert)|IF NOT EXISTS \(SELECT .*CREATE LOGIN|"
                    r"IF OBJECT_ID\(N'msdb\.dbo\.sitebundle_mirroring_outcome')", s):
            self.up(line, server, target)
            return  # the job, alerts, logins, outcome table: nothing the model holds
        self.fail(line, f"T-SQL not in the model: {s[:80]!r}")

    def ag_action(self, line, server, action):
        """An availability group's failover, run on the replica that is to become primary
        (Microsoft, "ALTER AVAILABILITY GROUP": FAILOVER "is supported only on a synchronous-commit
        secondary replica that is currently synchronized with the primary replica";
        FORCE_FAILOVER_ALLOW_DATA_LOSS when the primary is lost). The listener, like the alias
        here, follows the primary; the other databases are suspended after a forced failover."""
        f = self.farm
        primary = next(iter(f.principal.values()), None)
        if action == "FAILOVER":
            if server == primary or primary in f.down or any(f.suspended.values()):
                raise Violation(f"line {line}: V5 FAILOVER on {server}, which is not a synchronized "
                                "secondary of a primary that is up")
            f.principal = {d: server for d in f.principal}
            f.alias = {fe: server for fe in f.alias}  # the listener moves with the primary
        else:
            if primary not in f.down:
                raise Violation(f"line {line}: V5 FORCE_FAILOVER on {server} while the primary "
                                f"{primary} is up")
            f.principal = {d: server for d in f.principal}
            f.suspended = {d: True for d in f.suspended}
            f.alias = {fe: server for fe in f.alias}

    def partner_action(self, line, server, db, action):
        f = self.farm
        if db not in f.principal:
            self.fail(line, f"database {db} is not mirrored by the site")
        other = next(p for p in f.partners if p != server)
        if action == "FAILOVER":
            if f.principal[db] != server or f.suspended[db] or other in f.down:
                raise Violation(f"line {line}: V5 FAILOVER of {db} on {server}, which is not its "
                                "principal with a synchronized mirror")
            f.principal[db] = other
        elif action == "FORCE_SERVICE_ALLOW_DATA_LOSS":
            if f.principal[db] == server or other not in f.down:
                raise Violation(f"line {line}: V5 FORCE_SERVICE on {server} for {db} while its "
                                "principal is connected")
            f.principal[db], f.suspended[db] = server, True
        elif action == "RESUME":
            if other in f.down:
                return  # stays suspended until the partner is back
            f.suspended[db] = False
        elif action == "SUSPEND":
            f.suspended[db] = True
        elif f.principal[db] != server:  # SAFETY
            raise Violation(f"line {line}: V5 SET PARTNER SAFETY on {server}, the mirror of {db}")

    def schtasks(self, line, w):
        flags = [x.lower() for x in w]
        tn = w[flags.index("/tn") + 1] if "/tn" in flags else None
        op = flags[1]
        if op == "/query":
            return
        if op == "/create":
            # Registering a task enables it; without a named server, on the servers it is for
            # (the switcher's: the front ends outside the GPO's scope).
            for s in self.scope or self.farm.f["front_ends"]:
                self.farm.tasks[(s, tn)] = True
            return
        if op == "/run" and tn != self.farm.f["switcher_task"]:
            return  # kill a process, SCOM maintenance mode: no availability state
        servers = self.servers(line)
        if op == "/change" and ("/disable" in flags or "/enable" in flags):
            for s in servers:
                self.farm.tasks[(s, tn)] = "/enable" in flags
        elif op == "/delete":
            for s in servers:
                self.farm.tasks[(s, tn)] = False
        elif op == "/run":
            for s in servers:
                self.switch(s)
        else:
            self.fail(line, f"schtasks {op} not in the model")

    def servers(self, line):
        if not self.scope:
            self.fail(line, "a server-side change without a server (no `REM on …` or heading)")
        return self.scope

    def switch(self, fe):
        p = self.farm.principal.get(self.farm.f["probe_database"])
        if fe in self.farm.alias and p and p not in self.farm.down:
            self.farm.alias[fe] = p

    def reg(self, line, w):
        op = w[1].lower()
        if op == "query":
            return
        if op == "import" and "sql-alias" in w[2].lower():
            for s in self.scope or self.farm.f["front_ends"]:
                if s in self.farm.alias:
                    self.farm.alias[s] = self.farm.partners[0]
            return
        if op == "import" and re.fullmatch(r"registry\\wu-installs-wave\d+(-restart)?\.reg", w[2], re.I):
            # Windows Update policy values (a wave's install hour, its restart timer): nothing the
            # model holds; the block must still name its servers.
            self.servers(line)
            return
        self.fail(line, f"reg {op} not in the model")

    def ps_exe(self, line, w):
        script = next((x for x in w if x.lower().endswith(".ps1")), "")
        if script.lower().endswith("update-sqlalias.ps1"):
            if "-WhatIf" not in w:
                for s in self.servers(line):
                    self.switch(s)
            return
        self.fail(line, f"powershell.exe script not in the model: {script}")

    def net(self, line, w):
        op, svc = w[1].lower(), " ".join(w[2:]).strip('"').lower()
        if any(svc in svcs for svcs in self.farm.sql_services.values()):
            for s in self.servers(line):
                if svc in self.farm.sql_services.get(s, ()):
                    (self.farm.down.add if op == "stop" else self.farm.down.discard)(s)
            return
        if svc in ("sptimerv3", "sptimerv4"):
            return  # the SharePoint timer service: background jobs, the members keep serving
        if svc in ("w3svc", "iisadmin"):
            for s in self.servers(line):
                (self.farm.transient.add if op == "stop" else self.farm.transient.discard)(s)
            return
        self.fail(line, f"net {op} {svc}: service not in the model")

    def iisreset(self, line, w):
        # One server at a time (each front end runs its own): its pool members down meanwhile.
        for s in self.scope or list(self.farm.f["nodes"]):
            self.farm.transient.add(s)
            try:
                self.farm.check(f"line {line} (iisreset on {s})")
            finally:
                self.farm.transient.discard(s)

    # -- BIG-IP ----------------------------------------------------------------------------
    def sh(self, line, text):
        # `name=$(COMMAND)`: the command's output kept for the lines after (read it as COMMAND).
        m = re.fullmatch(r"([A-Za-z_]\w*)=\$\((.*)\)", text.strip())
        if m:
            return self.sh(line, m.group(2))
        # `for v in WORDS; do BODY; done` (bash, "Looping Constructs"): BODY once per word, with
        # `$v` replaced by it.
        m = re.fullmatch(r"for ([A-Za-z_]\w*) in (.*?)\s*; do (.*); done", text.strip())
        if m:
            var, words, body = m.groups()
            for word in shlex.split(words):
                self.sh(line, re.sub(r"\$\{?%s\}?(?!\w)" % var, shlex.quote(word), body))
            return
        try:
            lex = shlex.shlex(text, posix=True, punctuation_chars="|;&>")
            lex.whitespace_split = True
            w = list(lex)
        except ValueError:
            self.fail(line, f"cannot split {text!r}")
        if not w:
            return
        # Each command of a pipeline or list: tmsh (below), curl (an HTTP request) and grep (a
        # filter) are read-only; anything else fails.
        segments, cur = [], []
        for x in w:
            if x in ("|", ";", "&&", "||"):
                segments.append(cur)
                cur = []
            else:
                cur.append(x)
        segments.append(cur)
        for seg in segments[1:]:
            if seg and seg[0] not in ("grep", "curl"):
                self.fail(line, f"shell command not in the model: {' '.join(seg)[:80]!r}")
        w = segments[0]
        if w and w[0] in ("curl", "printf"):
            return  # an HTTP request, or printing a kept output: read-only
        if not w or w[0] != "tmsh":
            self.fail(line, f"shell command not in the model: {text[:80]!r}")
        args = w[1:]
        while args and args[0] == "-q":
            args = args[1:]
        if args[:1] == ["-c"]:
            for c in args[1].split(";"):
                self.tmsh(line, c.split())
            if len(args) > 2 and args[2] != ">":
                self.fail(line, f"tmsh -c followed by {args[2:]}")
        else:
            end = next((i for i, x in enumerate(args) if x == ">"), len(args))
            self.tmsh(line, args[:end])

    def tmsh(self, line, w):
        if not w:
            return
        verb = w[0]
        if verb in ("list", "show", "cd"):
            return  # read-only
        if verb == "save" or (verb == "load" and "merge" in w):
            return  # configuration saved / merged: objects as the merge file says, states kept
        if verb == "delete" and w[1:3] == ["sys", "connection"]:
            return  # established connections reset: no availability state
        if verb == "create" and w[1:3] == ["ltm", "profile"]:
            return  # an SSL profile: no availability state
        if verb == "modify" and w[1:3] == ["ltm", "virtual"]:
            rest = set(w[4:]) - {"persist", "none", "replace-all-with", "{", "}", "profiles", "add",
                                 "delete"}
            if all(not r.startswith(("disabled", "enabled", "pool")) for r in rest):
                return  # persistence and profiles of a virtual server
        if verb == "modify" and w[1:3] == ["ltm", "node"] and len(w) > 3:
            return self.set_states(line, self.node_state(line, w[3]), w[4:])
        if verb == "modify" and w[1:3] == ["ltm", "pool"] and len(w) > 6 \
                and w[4:6] == ["members", "modify"]:
            return self.pool_members(line, w[3], w[6:])
        if verb == "modify" and w[1:3] == ["ltm", "pool"] and len(w) > 6 \
                and w[4:6] == ["members", "replace-all-with"]:
            return self.replace_members(line, w[3], w[6:])
        self.fail(line, f"tmsh command not in the model: {' '.join(w)[:80]!r}")

    def node_state(self, line, name):
        s = self.farm.node_of.get(name)
        if s is None:
            self.fail(line, f"no node {name} on this site")
        return self.farm.node[s]

    def set_states(self, line, obj, words):
        if len(words) % 2 or not words:
            self.fail(line, f"tmsh properties not in the model: {words}")
        for k, v in zip(words[::2], words[1::2]):
            ok = {"state": ("user-up", "user-down"), "session": ("user-enabled", "user-disabled")}
            if v not in ok.get(k, ()):
                self.fail(line, f"tmsh property not in the model: {k} {v}")
            obj[k] = v

    def pool_members(self, line, pool, w):
        i = self.farm.pool_of.get(pool)
        if i is None:
            self.fail(line, f"no pool {pool} on this site")
        # { MEMBER { k v ... } MEMBER { ... } }
        if w[:1] != ["{"] or w[-1:] != ["}"]:
            self.fail(line, "members modify { … } expected")
        body, j = w[1:-1], 0
        while j < len(body):
            name = body[j]
            if body[j + 1] != "{":
                self.fail(line, "member { … } expected")
            k = body.index("}", j)
            node, _, port = name.rpartition(":")
            s = self.farm.node_of.get(node)
            if s is None or (i, s, int(port)) not in self.farm.member:
                self.fail(line, f"no member {name} in {pool}")
            self.set_states(line, self.farm.member[(i, s, int(port))], body[j + 2 : k])
            j = k + 1

    def replace_members(self, line, pool, w):
        """`members replace-all-with { MEMBER { address A priority-group N } ... }`: the pool's
        members become exactly the list (F5 tmsh reference, `ltm pool`: members [add | delete |
        modify | replace-all-with]). A member of the site the list leaves out would leave the pool,
        so it fails the run; a member the site does not have fails as unknown. Named members keep
        their states: no F5 source says what replace-all-with does to them, and keeping a disabled
        member disabled is the case in which V1 is hardest to keep."""
        i = self.farm.pool_of.get(pool)
        if i is None:
            self.fail(line, f"no pool {pool} on this site")
        if w[:1] != ["{"] or w[-1:] != ["}"]:
            self.fail(line, "members replace-all-with { … } expected")
        body, j, named = w[1:-1], 0, set()
        while j < len(body):
            name = body[j]
            if j + 1 >= len(body) or body[j + 1] != "{":
                self.fail(line, "member { … } expected")
            k = body.index("}", j)
            props = body[j + 2 : k]
            if len(props) % 2 or any(key not in ("address", "priority-group") for key in props[::2]):
                self.fail(line, f"member properties not in the model: {props}")
            node, _, port = name.rpartition(":")
            s = self.farm.node_of.get(node)
            if s is None or (i, s, int(port)) not in self.farm.member:
                self.fail(line, f"no member {name} in {pool}")
            named.add((s, int(port)))
            j = k + 1
        left_out = [f"{s}:{port}" for s, port in self.farm.f["pools"][i]["members"]
                    if (s, port) not in named]
        if left_out:
            self.fail(line, f"replace-all-with leaves out {', '.join(left_out)} of {pool}")

    # -- a block ---------------------------------------------------------------------------
    def block(self, line, info, body):
        self.scope = list(self.heading_scope)
        # A line ending in a backslash continues on the next (bash, "Escape Character").
        joined = []
        for n, text in enumerate(body, 1):
            if joined and joined[-1][1].endswith("\\") and info == "sh":
                joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + text)
            else:
                joined.append((n, text))
        for n, text in joined:
            if not text.strip():
                continue
            if info == "cmd":
                self.cmd(line + n, text)
            elif info == "sh":
                self.sh(line + n, text)
            elif info == "powershell":
                if text.lstrip().startswith("#"):
                    continue  # a comment
                if re.match(r"(Rename-SPServer|New-SPAlternateURL|Set-SPAlternateURL|Get-SPAlternateURL|Get-SPDatabase) ", text):
                    continue  # SharePoint's database server name and URLs: no availability state
                if read_only_ps(text):
                    continue  # a server's verify commands on 2012 R2 and later: they only read
                if not re.match(r"(Import-Module GroupPolicy|Import-GPO |New-GPLink )", text):
                    self.fail(line + n, f"PowerShell not in the model: {text[:80]!r}")
                # the GPO is imported and linked: it delivers what the per-server steps verify
            elif info != "text":
                self.fail(line + n, f"a block in {info!r} is not in the model")
        self.farm.check(f"after the block at line {line}")
        self.farm.between_blocks()
        self.farm.check(f"after the block at line {line} and the switcher's run")

    heading_scope: list[str] = []


def read_only_ps(text: str) -> bool:
    """A verify command of a server of 2012 R2 and later (src/plan/verify_ps.rs): a getter of the
    ScheduledTasks module, the registry provider or Get-FileHash, piped only into Select-Object;
    `sc.exe qfailure`; `gpupdate /force` (the alias item is run-once: it changes nothing here)."""
    t = text.strip()
    if t == "gpupdate /force" or re.fullmatch(r"sc\.exe qfailure '[^']*'", t):
        return True
    stages = [x.strip() for x in t.split("|")]
    return bool(re.match(r"(Get-ScheduledTask|Get-ScheduledTaskInfo|Get-ItemProperty|Get-FileHash) ", stages[0])) \
        and all(x.startswith("Select-Object ") for x in stages[1:])


def play(md: str, farm_json: dict, lost: str | None) -> int:
    farm = Farm(farm_json, lost)
    day = Day(farm)
    farm.check("at the start")
    n = 0
    chosen = None
    lines = md.split("\n")
    for line, section, info, body in blocks(md):
        if (section == DISASTER) != (lost is not None):
            continue
        heading = next((lines[k] for k in range(line - 1, -1, -1) if lines[k].startswith("#")), "")
        m = re.match(r"### (.+?) \(", heading)
        names = [s.strip() for s in m.group(1).split(":")[0].split(",")] if m else []
        day.heading_scope = names if all(s in farm_json["servers"] for s in names) else []
        if lost is not None and body:
            m = re.match(r"REM (\S+) (survives|survived|came back):", body[0])
            if m and m.group(1) == lost:
                continue  # the other case's block, or the lost server's own (it stays down)
            if m and m.group(2) == "survives":
                # Alternatives (an availability group: any surviving replica can become the
                # primary): the operator runs one, the first survivor's here.
                chosen = chosen or m.group(1)
                if m.group(1) != chosen:
                    continue
        day.block(line, info, body)
        n += 1
    return n


def main(argv):
    md = open(argv[1], encoding="utf-8").read()
    farm = json.load(open(argv[2], encoding="utf-8"))
    try:
        n = play(md, farm, None)
        print(f"day: {n} blocks applied, invariants held")
        for lost in [p["server"] for p in farm["partners"]]:
            n = play(md, farm, lost)
            print(f"{lost} lost: {n} blocks applied, invariants held")
    except Violation as v:
        print(f"VIOLATION {v}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
