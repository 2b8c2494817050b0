#!/usr/bin/env python3
"""Windows Update installs in waves over simulated weeks (issue 27).

    installs_timeline.py BUNDLE --keep NAME=host,host [--keep ...] --delay HOST=MIN,...
                         [--weeks N] [--seeds S] [--control same-time|no-reschedule]

Every server named by the GPO's Automatic Updates values (gpo/.../Registry/Registry.xml, the
items under ...\\WindowsUpdate\\AU) applies them with their [MS-GPPREF] semantics (farm_timeline's
apply_gpp) at boot and at every background refresh, then:
- Automatic Updates installs at the hour its registry schedules (AUOptions 4: ScheduledInstallDay
  0 every day, 1 Sunday ... 7 Saturday; ScheduledInstallTime 0-23; Microsoft KB 328010 and wuapi.h
  AutomaticUpdatesScheduledInstallationDay), for a random time no longer than the runbook allows a
  wave (the gap between two waves less the restart delay and the restart);
- then restarts after the countdown: RebootWarningTimeout when RebootWarningTimeoutEnabled is 1,
  else the release's default (--delay), and is down for up to RESTART_MAX minutes;
- a scheduled install missed because the server was down runs one minute after the next boot when
  "Reschedule Automatic Updates scheduled installations" is not configured, RescheduleWaitTime
  minutes after it when enabled, and at the next scheduled install when disabled
  (RescheduleWaitTimeEnabled 0) (the policy's ADMX explanation text, wuau.adm/WindowsUpdate.admx);
- the environment fights back: on every install day, one server chosen at random may go down
  (unplanned) shortly before its own wave and come back during it.

From the start of an install to the end of its restart a server is counted unavailable: installs
stop services (a SQL Server update stops the instance while it installs) and may restart at any
point. Invariant:
  J1  no set of --keep servers (the SQL partners, a pool's members) is ever entirely unavailable
      because of Windows Update installs (sets with an unplanned outage among them are not counted:
      no schedule can prevent those).
Controls (must fail J1): same-time (every server gets the first wave's schedule: Windows Update
without waves), no-reschedule (the RescheduleWaitTimeEnabled values removed).
"""
from __future__ import annotations

import argparse
import heapq
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from farm_timeline import REFRESH_MIN, REFRESH_SPREAD, RESTART_MAX, apply_gpp, read_gpp  # noqa: E402

AU = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU"
WEEK = 7 * 1440


class Host:
    """A server's registry as Group Policy leaves it, and its Windows Update state."""

    def __init__(self, name, default_delay):
        self.name = name
        self.default_delay = default_delay
        self.registry = {}
        self.runonce = set()
        self.up = True
        self.state = "idle"          # idle | installing | restarting
        self.outage = False          # down for an unplanned reason
        self.missed = False
        self.boot_id = 0

    def key(self, path):
        return path.strip("\\").lower()

    def read(self, name):
        return self.registry.get(self.key(AU), {}).get(name.lower())

    def write(self, key, name, value):
        self.registry.setdefault(self.key(key), {})[name.lower()] = value

    def schedule(self):
        """(day, hour) of the scheduled install, or None when Automatic Updates does not install
        on a schedule."""
        if self.read("NoAutoUpdate") == 1 or self.read("AUOptions") != 4:
            return None
        # Option 4 without a schedule: "every day at 3:00 AM" (the policy's explanation text).
        day = self.read("ScheduledInstallDay")
        hour = self.read("ScheduledInstallTime")
        return (0 if day is None else day, 3 if hour is None else hour)

    def delay(self):
        if self.read("RebootWarningTimeoutEnabled") == 1 and self.read("RebootWarningTimeout") is not None:
            return self.read("RebootWarningTimeout")
        return self.default_delay


def due(schedule, t):
    """Whether minute t (from Sunday 00:00) is the scheduled hour."""
    if schedule is None or t % 60:
        return False
    day, hour = schedule
    weekday = int(t // 1440) % 7 + 1
    return (day == 0 or day == weekday) and int(t % 1440) // 60 == hour


def au_items(bundle, control):
    items = [it for it in read_gpp(bundle, None) if it["key"].lower() == AU.lower()]
    if not items:
        print("the bundle's GPO writes no Automatic Updates values", file=sys.stderr)
        sys.exit(3)
    if control == "same-time":
        first = {}
        for it in items:
            if it["name"] in ("ScheduledInstallDay", "ScheduledInstallTime"):
                first.setdefault(it["name"], it["value"])
        for it in items:
            if it["name"] in first:
                it["value"] = first[it["name"]]
    elif control == "no-reschedule":
        items = [it for it in items if it["name"] != "RescheduleWaitTimeEnabled"]
    return items


def install_allowance(items, delays):
    """Minutes a wave may install: the shortest gap between two distinct scheduled hours of the GPO
    (a week with a single schedule), less the longest restart delay and RESTART_MAX."""
    hours = sorted({(d, h) for d, h in schedules(items)})
    starts = sorted({(0 if d == 0 else d - 1) * 1440 + h * 60 for d, h in hours})
    period = 1440 if any(d == 0 for d, _ in hours) else WEEK
    gaps = [b - a for a, b in zip(starts, starts[1:])] + [starts[0] + period - starts[-1]]
    # One schedule for every server (the control without waves): installs of up to three hours.
    return min(min(gaps), 180 + max(delays) + RESTART_MAX) - max(delays) - RESTART_MAX


def schedules(items):
    by_host = {}
    for it in items:
        for c in it["computers"]:
            by_host.setdefault(c, {})[it["name"]] = it["value"]
    return [(v.get("ScheduledInstallDay", 0), v.get("ScheduledInstallTime", 3)) for v in by_host.values()]


class Sim:
    def __init__(self, items, keep, delays, seed, weeks):
        self.rng = random.Random(seed)
        self.items = items
        self.keep = keep
        self.end = weeks * WEEK
        names = sorted({c for it in items for c in it["computers"]} | {h for s in keep.values() for h in s})
        self.hosts = {n: Host(n, delays.get(n, 15)) for n in names}
        self.allow = install_allowance(items, [h.default_delay for h in self.hosts.values()]
                                       + [it["value"] for it in items if it["name"] == "RebootWarningTimeout"])
        self.violations = []
        self.counts = {"installs": 0, "missed": 0, "rescheduled": 0, "outages": 0, "refreshes": 0}
        self.q = []
        self.now = 0.0

    def push(self, t, kind, host, data=None):
        heapq.heappush(self.q, (t, len(self.q), kind, host, data))

    def unavailable(self, h):
        return not h.up or h.state != "idle"

    def check(self):
        for what, members in self.keep.items():
            hs = [self.hosts[m] for m in members]
            if len(hs) < 2 or not all(self.unavailable(h) for h in hs):
                continue
            if any(h.outage for h in hs):
                continue
            self.violations.append(
                f"J1 at {self.now / 1440:.3f} days: {what} all unavailable for Windows Update "
                f"({', '.join(h.name + ' ' + (h.state if h.up else 'down') for h in hs)})")

    def boot(self, h):
        h.up, h.state, h.outage = True, "idle", False
        h.boot_id += 1
        apply_gpp(h, self.items)  # foreground processing at startup
        self.counts["refreshes"] += 1
        self.push(self.now + REFRESH_MIN + self.rng.uniform(-REFRESH_SPREAD, REFRESH_SPREAD), "refresh", h, h.boot_id)
        if h.missed:
            h.missed = False
            enabled = h.read("RescheduleWaitTimeEnabled")
            if enabled is None:
                self.push(self.now + 1, "install", h, h.boot_id)
                self.counts["rescheduled"] += 1
            elif enabled == 1:
                self.push(self.now + (h.read("RescheduleWaitTime") or 1), "install", h, h.boot_id)
                self.counts["rescheduled"] += 1

    def install(self, h):
        if not h.up or h.state != "idle":
            return
        h.state = "installing"
        self.counts["installs"] += 1
        self.check()
        length = self.rng.uniform(5, max(5.0, self.allow))
        self.push(self.now + length + h.delay(), "restart", h, h.boot_id)

    def hour(self):
        for h in self.hosts.values():
            if due(h.schedule(), self.now):
                if h.up:
                    self.install(h)
                else:
                    h.missed = True
                    self.counts["missed"] += 1
        if self.now % 1440 == 0:
            self.adversary()

    def adversary(self):
        """On a day with installs, one server may go down shortly before its own scheduled hour
        and come back during its wave."""
        day_start = self.now
        due_today = [(t, h) for h in self.hosts.values()
                     for t in range(int(day_start), int(day_start) + 1440, 60) if due(h.schedule(), t)]
        if not due_today or self.rng.random() < 0.4:
            return
        t, h = self.rng.choice(due_today)
        start = t - self.rng.uniform(1, 50)
        back = t + self.rng.uniform(20, max(21.0, self.allow))
        if start > self.now:
            self.push(start, "outage", h, None)
            self.push(back, "outage-end", h, None)

    def run(self):
        for h in self.hosts.values():
            self.push(self.rng.uniform(0, 30), "boot", h)
            h.up = False
        t = 0
        while t <= self.end:
            self.push(t, "hour", None)
            t += 60
        while self.q:
            self.now, _, kind, h, data = heapq.heappop(self.q)
            if self.now > self.end:
                break
            if kind == "hour":
                self.hour()
            elif kind == "boot":
                self.boot(h)
            elif kind == "refresh" and h.up and data == h.boot_id:
                apply_gpp(h, self.items)
                self.counts["refreshes"] += 1
                self.push(self.now + REFRESH_MIN + self.rng.uniform(-REFRESH_SPREAD, REFRESH_SPREAD), "refresh", h, data)
            elif kind == "install" and data == h.boot_id:
                self.install(h)
            elif kind == "restart" and data == h.boot_id and h.up:
                h.up, h.state = False, "restarting"
                self.check()
                self.push(self.now + self.rng.uniform(2, RESTART_MAX), "boot", h)
            elif kind == "outage" and h.up:
                h.up, h.outage, h.state = False, True, "idle"
                h.boot_id += 1  # an install in progress is lost; its restart never comes
                self.counts["outages"] += 1
            elif kind == "outage-end" and h.outage:
                self.boot(h)
        return self.violations


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--keep", action="append", default=[], help="NAME=host,host: one of them must stay up")
    ap.add_argument("--delay", default="", help="HOST=MIN,...: the release's default restart delay")
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--control", choices=["same-time", "no-reschedule"])
    a = ap.parse_args()
    keep = {}
    for k in a.keep:
        name, hosts = k.split("=", 1)
        keep[name] = [x.lower() for x in hosts.split(",")]
    delays = {k.lower(): int(v) for k, v in (x.split("=") for x in a.delay.split(",") if x)}
    items = au_items(a.bundle, a.control)
    violations, counts = [], {}
    for seed in range(a.seeds):
        sim = Sim(items, keep, delays, seed, a.weeks)
        violations += sim.run()
        for k, v in sim.counts.items():
            counts[k] = counts.get(k, 0) + v
    print(f"simulated {a.weeks * a.seeds} weeks on {len(sim.hosts)} servers ({a.seeds} seeds), "
          f"{len(keep)} sets to keep up, a wave's installs take up to {sim.allow:.0f} minutes; counts: "
          + " ".join(f"{k}={v}" for k, v in counts.items()))
    if violations:
        print(f"J1: {len(violations)} violations, first: {violations[0]}")
        sys.exit(1)
    print("invariant held: J1")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.exit(3)
