#!/usr/bin/env python3
"""Adversarial simulation of two SQL Server 2008 mirroring partners running the generated failover
job step (executed by the T-SQL interpreter of sql_logic.py on each partner's own catalog).

    sql_mirroring_sim.py JOB_A.sql JOB_B.sql [--runs N] [--seed S] [--witness] [--control]

What the server does here, each rule with its source:
  * Automatic failover only with a witness that still sees the mirror (quorum), for a database
    SYNCHRONIZED in safety FULL: "When the principal server is lost, the session automatically fails
    over if the database is synchronized and the mirror server instance and witness are still
    connected to each other" (ALTER DATABASE Database Mirroring (Transact-SQL), SAFETY). No witness:
    no automatic failover.
  * Quorum: "If a witness is set for a session, quorum is required to serve the database" (same
    page, WITNESS); "If a witness is set for the session but is currently disconnected, the loss of
    the mirror server causes the principal server to go down": the principal then serves nothing
    (its databases DISCONNECTED) until the mirror or the witness returns.
  * Forced service (the runbook's "A partner is lost", done by the simulated DBA after a delay, anchor
    first): only on the mirror, principal down, witness off or connected to the mirror; "Forcing
    service suspends the session": the database stays SUSPENDED until `SET PARTNER RESUME` (run by the
    DBA after another delay once the partner is back); a SUSPENDED session never clears by itself.
  * ALTER DATABASE errors, by number (Database engine events and errors 1000-1999): 1470 a partner
    option (SAFETY) issued where the database is not the principal ("may only be initiated on the
    current principal server"; FAILOVER on the mirror is modelled with the same number: "You can
    specify FAILOVER only on the principal server", the page does not give its number); 1447 the
    partners are not both up and connected; 1477 FAILOVER with safety OFF ("The database mirroring
    safety level must be FULL to manually failover"); 1422 FAILOVER while not SYNCHRONIZED ("The
    mirror server instance is not caught up ... Unable to fail over"); 1404 a role change already
    under way ("the database mirror is busy").
  * Alerts (mirroring-alerts.sql): a manual (7) or automatic (8) failover of the anchor starts the
    job on each partner that is up after a response delay of 5-40 s (Agent's WMI polling), at most
    one response per 60 s (@delay_between_responses = 60).
  * The adversary: between any two statements of a running step, with a small probability, the
    anchor or the database being worked on changes (a manual failover by someone else, the mirror
    falling behind, a suspended session).

Invariants (a violation FAILS the run; the b4f7979 step with --control must fail):
  SIDE   every ALTER the job issues is justified by the step's last read of the catalog, made with
         no time passing since (no wait between the read and the ALTER): FAILOVER and SAFETY FULL only
         where the anchor was the mirror and the database principal (FAILOVER: SYNCHRONIZED, FULL),
         SAFETY OFF only where the anchor was principal. A stale decision is a violation.
  WITNESS never SAFETY OFF on a database that has a witness.
  LOG    per partner and database, never the same logged outcome twice in a row (a status is logged
         once per change; ALTERs are logged each).
A change of the anchor alone between the step's read and its ALTER (the adversary striking at that
boundary) cannot be excluded by any T-SQL: it is counted as a race and reported, and the next run
repairs it (the database follows the anchor again).
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sql_logic as L  # noqa: E402

SYNCED, SYNCING, SUSPENDED, DISCONNECTED = 4, 2, 0, 1
WITNESS_NAME = "TCP://witness.example.com:5022"
ACTIONS = ("failed over", "to safety FULL", "back to safety OFF", "back to high-performance mode")
STATUS_KEYS = ["needs nothing more", "SUSPENDED", "cannot converge", "cannot follow", "has a witness", "failed",
               "not visible"]


class Db:
    def __init__(self, name, principal, safety, witness):
        self.name, self.principal, self.safety, self.witness = name, principal, safety, witness
        self.sync_at = 0  # SYNCHRONIZING until then
        self.suspended = False  # until RESUME
        self.busy_until = 0  # a role change under way


class Env:
    """One partner's view, as its job step sees it."""

    def __init__(self, sim, p):
        self.sim, self.p = sim, p
        self.catalog = L.new_catalog()
        self.run = None
        self.read_at = None  # (time, snapshot) of the step's last catalog read

    def view(self):
        s = self.sim
        rows = []
        for d in s.dbs:
            rows.append((d.name, 1 if d.principal == self.p else 2, s.state(d), d.safety,
                         WITNESS_NAME if d.witness else ""))
        return rows

    def before_query(self):
        L.load_catalog(self.catalog, self.view())

    def on_read(self):
        self.read_at = (self.sim.now, self.sim.snapshot())

    def between(self):
        self.sim.adversary(self)

    def on_open(self, rows):
        pass

    def on_fetch(self, row):
        self.current = row
        return self.sim.rng.randint(0, 3)

    def alter(self, name, action="FAILOVER"):
        return self.sim.job_alter(self, name, action)


class Sim:
    def __init__(self, prog, names, anchor, hp, witness, seed, control):
        self.prog, self.anchor, self.hp, self.control = prog, anchor, list(hp or []), control
        self.rng = rng = random.Random(seed)
        self.seed = seed
        self.has_witness = witness != "none"
        self.p_adversary = 0.01
        home = rng.randint(0, 1)
        n = rng.randint(2, max(2, min(6, len(names) or 6)))
        names = ([anchor] + [x for x in names if x != anchor])[:n] if names else [anchor] + [f"db{i}" for i in range(1, n)]
        names += [x for x in self.hp if x not in names]
        self.dbs = []
        for x in names:
            hp_db = x in self.hp
            off = hp_db or (x != anchor and rng.random() < 0.1)  # a plain safety OFF database: cannot converge
            # A witness: "full" on the safety FULL databases (validate refuses one with controlled
            # failover), "all" on every one (set by hand: the job must then leave safety FULL alone).
            has_w = witness == "all" or (witness == "full" and not off)
            d = Db(x, home if rng.random() < 0.85 else 1 - home, 1 if off else 2, has_w)
            self.dbs.append(d)
        self.now = 0
        self.T = rng.randint(1800, 3600)
        self.up = [True, True]
        self.witness_up = True
        self.heap, self.seq = [], 0
        self.envs = [Env(self, 0), Env(self, 1)]
        self.last_alert = [-999, -999]
        self.stats = {k: 0 for k in ("runs", "job_failovers", "safety_full", "safety_off", "auto_failovers",
                                     "outages", "witness_outages", "quorum_losses", "forced_services", "resumes",
                                     "suspends", "adversary", "races", "alter_errors", "logged")}
        self.errors_by_number = {}
        self.violations = {"SIDE": [], "WITNESS": [], "LOG": []}
        self.last_logged = {}  # (partner, db) -> status key of the last logged entry
        self.timeline = []

    # ---- state
    def db(self, name):
        return next(d for d in self.dbs if d.name == name)

    def connected(self):
        return self.up[0] and self.up[1]

    def serving(self, d):
        """Quorum: with a witness, the principal serves only while it sees the mirror or the witness."""
        return self.up[d.principal] and (not d.witness or self.up[1 - d.principal] or self.witness_up)

    def state(self, d):
        if d.suspended:
            return SUSPENDED
        if not self.connected() or not self.serving(d):
            return DISCONNECTED
        return SYNCED if self.now >= d.sync_at else SYNCING

    def snapshot(self):
        return {d.name: (d.principal, self.state(d), d.safety, d.witness) for d in self.dbs}

    def log(self, msg):
        self.timeline.append(f"t={self.now:5d} {msg}")

    def push(self, t, kind, arg=None):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, arg))

    def lag(self, d, lo, hi):
        d.sync_at = max(d.sync_at, self.now + self.rng.randint(lo, hi))

    def move(self, d, why):
        d.principal = 1 - d.principal
        d.busy_until = self.now + 1
        self.lag(d, 1, 10)
        self.log(f"{d.name} principal -> {'AB'[d.principal]} ({why})")
        if d.name == self.anchor:
            self.alert(why)

    def alert(self, why):
        for p in (0, 1):
            if self.up[p] and self.now - self.last_alert[p] >= 60:
                self.last_alert[p] = self.now
                self.push(self.now + self.rng.randint(5, 40), "start", (p, f"alert ({why})"))

    # ---- disturbances
    def disturb(self):
        kind = self.rng.choice(["partner_down", "partner_down", "witness_down", "manual_anchor", "manual_db",
                                "fall_behind", "suspend"])
        d = self.rng.choice(self.dbs)
        if kind == "partner_down" and self.connected():
            p = self.rng.randint(0, 1)
            secs = self.rng.randint(60, 900)
            self.partner_down(p, secs)
        elif kind == "witness_down" and self.has_witness and self.witness_up:
            self.witness_down()
        elif kind == "manual_anchor":
            self.manual(self.db(self.anchor), "manual failover by a DBA")
        elif kind == "manual_db":
            self.manual(d, "manual failover by a DBA")
        elif kind == "fall_behind" and self.connected():
            self.lag(d, 5, 300)
            self.log(f"{d.name} mirror falls behind")
        elif kind == "suspend" and self.connected() and not d.suspended:
            self.suspend(d)

    def partner_down(self, p, secs):
        """Partner p is lost for secs seconds: automatic failover of what it was principal for
        (witness connected, SYNCHRONIZED, safety FULL), and the DBA's forced service later."""
        self.up[p] = False
        self.stats["outages"] += 1
        self.log(f"partner {'AB'[p]} down for {secs}s")
        if self.envs[p].run:
            self.envs[p].run.dead = True
            self.envs[p].run = None
        self.push(self.now + secs, "up", p)
        if not self.witness_up:
            self.stats["quorum_losses"] += sum(1 for x in self.dbs if x.witness and x.principal != p)
        for x in self.dbs:
            if x.principal == p:
                if x.witness and self.witness_up and x.safety == 2 and self.now >= x.sync_at and not x.suspended:
                    self.move(x, "automatic failover")
                    self.stats["auto_failovers"] += 1
        stuck = [x for x in self.dbs if x.principal == p]
        if stuck:  # the DBA forces service on the survivor (runbook), anchor first
            self.push(self.now + self.rng.randint(60, 600), "force", 1 - p)

    def witness_down(self):
        secs = self.rng.randint(60, 900)
        self.witness_up = False
        self.stats["witness_outages"] += 1
        self.log(f"witness down for {secs}s")
        if not self.connected():
            self.stats["quorum_losses"] += sum(1 for x in self.dbs if x.witness and self.up[x.principal])
        self.push(self.now + secs, "witness_up")

    def manual(self, d, why):
        if self.connected() and self.serving(d) and d.safety == 2 and self.state(d) == SYNCED:
            self.move(d, why)

    def suspend(self, d):
        d.suspended = True
        self.stats["suspends"] += 1
        self.log(f"{d.name} SUSPENDED")
        self.push(self.now + self.rng.randint(120, 1800), "resume_db", d.name)

    def force(self, survivor):
        """FORCE_SERVICE_ALLOW_DATA_LOSS on the survivor, anchor first, for each database still the
        mirror there while its principal is down (and the witness off or connected)."""
        if not self.up[survivor] or self.up[1 - survivor]:
            return
        order = sorted(self.dbs, key=lambda x: x.name != self.anchor)
        for d in order:
            if d.principal != survivor:
                d.principal = survivor
                d.suspended = True
                self.stats["forced_services"] += 1
                self.log(f"{d.name} FORCE_SERVICE_ALLOW_DATA_LOSS on {'AB'[survivor]}: principal, SUSPENDED")

    def resume_db(self, name):
        d = self.db(name)
        if not d.suspended:
            return
        if not self.connected():  # RESUME needs the partner: try again later
            self.push(self.now + self.rng.randint(60, 300), "resume_db", name)
            return
        d.suspended = False
        self.lag(d, 5, 120)
        self.stats["resumes"] += 1
        self.log(f"{d.name} SET PARTNER RESUME")

    # ---- the adversary, between two statements of a running step
    def adversary(self, env):
        if self.rng.random() >= self.p_adversary:
            return
        self.stats["adversary"] += 1
        kind = self.rng.choice(["anchor", "fall_behind", "suspend", "manual_db"])
        run_db = getattr(env, "current", None)
        d = self.db(run_db) if run_db and any(x.name == run_db for x in self.dbs) else self.rng.choice(self.dbs)
        if kind == "anchor":
            self.manual(self.db(self.anchor), "manual failover between two statements")
        elif kind == "fall_behind" and self.connected():
            self.lag(d, 5, 60)
        elif kind == "suspend" and self.connected() and not d.suspended:
            self.suspend(d)
        elif kind == "manual_db":
            self.manual(d, "manual failover between two statements")

    # ---- the job's ALTERs
    def job_alter(self, env, name, action):
        p, d = env.p, self.db(name)
        self.check_side(env, d, action)
        err = None
        if d.principal != p:
            err = (1470, f'The alter database for this partner config values may only be initiated on the current principal server for database "{name}".')
        elif self.now < d.busy_until:
            err = (1404, "The command failed because the database mirror is busy. Reissue the command later.")
        elif not self.connected() or not self.serving(d) or d.suspended:
            err = (1447, f'ALTER DATABASE "{name}" command cannot be executed until both partner server instances are up, running, and connected. Start the partner and reissue the command.')
        elif action == "FAILOVER" and d.safety != 2:
            err = (1477, f'The database mirroring safety level must be FULL to manually failover database "{name}". Set safety level to FULL and retry.')
        elif action == "FAILOVER" and self.state(d) != SYNCED:
            err = (1422, f'The mirror server instance is not caught up to the recent changes to database "{name}". Unable to fail over.')
        if err:
            self.stats["alter_errors"] += 1
            self.errors_by_number[err[0]] = self.errors_by_number.get(err[0], 0) + 1
            self.log(f"{'AB'[p]} {action} {name}: error {err[0]}")
            raise L.SqlError(err[1], err[0])
        if action == "FAILOVER":
            self.stats["job_failovers"] += 1
            self.move(d, f"job on {'AB'[p]}")
        elif action == "SAFETY FULL":
            self.stats["safety_full"] += 1
            d.safety = 2
            self.lag(d, 1, 20)
            self.log(f"{name} SAFETY FULL (job on {'AB'[p]})")
        else:
            self.stats["safety_off"] += 1
            d.safety = 1
            self.log(f"{name} SAFETY OFF (job on {'AB'[p]})")
        return self.rng.randint(1, 5)

    def check_side(self, env, d, action):
        p = env.p
        at, snap = env.read_at if env.read_at else (None, {})
        where = f"t={self.now} {'AB'[p]} {action} {d.name}"
        if d.witness and action == "SAFETY OFF":
            self.violations["WITNESS"].append(f"{where}: the database has a witness")
        if at is None or at != self.now:
            self.violations["SIDE"].append(f"{where}: decided on a read made at t={at} (stale)")
            return
        a_p = snap[self.anchor][0]
        me = snap.get(d.name)
        ok = me is not None and me[0] == p
        if action in ("FAILOVER", "SAFETY FULL"):
            ok = ok and a_p != p
            if action == "FAILOVER":
                ok = ok and me[1] == SYNCED and me[2] == 2
        else:
            ok = ok and a_p == p
        if not ok:
            self.violations["SIDE"].append(f"{where}: against the anchor's side as last read "
                                           f"(anchor principal on {'AB'[a_p]}, {d.name}: {me})")
        elif self.db(self.anchor).principal != a_p:
            self.stats["races"] += 1
            self.log(f"{where}: race: the anchor moved after the read")

    # ---- runs
    def start(self, p, why):
        env = self.envs[p]
        if not self.up[p] or env.run is not None:
            return
        self.stats["runs"] += 1
        run = env.run = type("Run", (), {})()
        run.p, run.why, run.dead = p, why, False
        env.read_at = None
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
            for row, sev, text, with_log in ctx.messages:
                if with_log:
                    self.logged(run.p, row, text)

    def logged(self, p, row, text):
        self.stats["logged"] += 1
        if any(a in text for a in ACTIONS):
            self.last_logged[(p, row)] = None
            return
        key = next((k for k in STATUS_KEYS if k in text), text)
        if key == "failed" and "failed, error " in text:  # the step's outcome: the ALTER and the error number
            key = text[:text.index(":", text.index("failed, error "))]
        if self.last_logged.get((p, row)) == key:
            self.violations["LOG"].append(f"t={self.now} {'AB'[p]} logged `{key}` again for {row}: {text[:90]}")
        self.last_logged[(p, row)] = key

    def simulate(self, sched):
        for i, (iv, off) in enumerate(sched):
            t = off
            while t < self.T:
                self.push(t, "start", (i, "schedule"))
                t += iv
        t = self.rng.randint(30, 300)
        while t < self.T:
            self.push(t, "disturb")
            t += self.rng.randint(60, 900)
        while self.heap:
            t, _, kind, arg = heapq.heappop(self.heap)
            if t > self.T:
                break
            self.now = t
            if kind == "disturb":
                self.disturb()
            elif kind == "start":
                self.start(*arg)
            elif kind == "resume":
                if not arg.dead:
                    self.advance(arg)
            elif kind == "up":
                self.up[arg] = True
                self.log(f"partner {'AB'[arg]} back")
                for d in self.dbs:
                    self.lag(d, 5, 60)
                    if d.suspended:
                        self.push(self.now + self.rng.randint(30, 600), "resume_db", d.name)
            elif kind == "witness_up":
                self.witness_up = True
            elif kind == "force":
                self.force(arg)
            elif kind == "resume_db":
                self.resume_db(arg)


def main(argv):
    ap = argparse.ArgumentParser(prog="sql_mirroring_sim.py")
    ap.add_argument("job_a")
    ap.add_argument("job_b")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--witness", choices=["none", "full", "all"], default="none",
                    help="full: the safety FULL databases have a witness; all: every database has one")
    ap.add_argument("--control", action="store_true", help="the jobs are the old (control) step: it must fail")
    ap.add_argument("--expect-violation", default="LOG", help="with --control: the invariants it must violate")
    ap.add_argument("--anchor")
    ap.add_argument("--databases", default="")
    ap.add_argument("--controlled", default="")
    a = ap.parse_args(argv)
    t0 = time.time()
    texts = [open(f, encoding="utf-8").read().replace("\r\n", "\n") for f in (a.job_a, a.job_b)]
    steps = [L.step_text(t) for t in texts]
    prog = L.Program(steps[0])
    sched = [L.schedule_of(t) for t in texts]
    names = [x for x in a.databases.split(",") if x]
    hp = [x for x in a.controlled.split(",") if x]
    anchor = a.anchor or names[0]
    totals, viol, first, errnums = {}, {"SIDE": 0, "WITNESS": 0, "LOG": 0}, {}, {}
    for i in range(a.runs):
        s = Sim(prog, names, anchor, hp, a.witness, a.seed + i, a.control)
        s.simulate(sched)
        for k, v in s.stats.items():
            totals[k] = totals.get(k, 0) + v
        for k, v in s.errors_by_number.items():
            errnums[k] = errnums.get(k, 0) + v
        for k, v in s.violations.items():
            if v:
                viol[k] += 1
                first.setdefault(k, (s.seed, v[0], s.timeline[-40:]))
    print(f"adversarial simulation: {'control (old step)' if a.control else 'generated step'}; anchor {anchor}; "
          f"witness {a.witness}; controlled {hp}; seeds {a.seed}..{a.seed + a.runs - 1}; "
          f"wall {time.time() - t0:.1f}s")
    print("  " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    print("  ALTER errors by number: " + ", ".join(f"{k}: {v}" for k, v in sorted(errnums.items())))
    for k, v in viol.items():
        print(f"  {k}: violated in {v} of {a.runs} runs")
    for k, (seed, v, tl) in first.items():
        print(f"first {k} violation: seed {seed}: {v}")
        for line in tl[-12:]:
            print("    " + line)
    if a.control:
        want = [k for k in a.expect_violation.split(",") if k]
        if all(viol[k] for k in want):
            print("control: the old step violates " + ", ".join(k for k, v in viol.items() if v))
            return 0
        print(f"control: the old step was expected to violate {want}")
        return 1
    if any(viol.values()):
        print("invariants violated")
        return 1
    print("invariants held: SIDE, WITNESS, LOG")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
