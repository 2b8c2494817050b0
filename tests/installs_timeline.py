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

Servers named by --modern run Windows Server 2016 or later (issue 31), where the Update
Orchestrator restarts the server and no document says event 22 comes first (docs/modern-targets.md
section 3), so the simulation never logs it there. Their restart after an install follows
"Manage device restarts after updates" (MicrosoftDocs/windows-itpro-docs
windows/deployment/update/waas-restart.md): with AlwaysAutoRebootAtScheduledTime 1, "a restart
timer (between 15 and 180 minutes) that will start immediately after Windows Update installs
important updates" (AlwaysAutoRebootAtScheduledTimeMinutes); without it, Windows "attempts to
automatically restart outside of active hours" (8 AM to 5 PM by default) within seven days, at a
time the simulation draws; RebootWarningTimeout ("Delay Restart for scheduled installations")
does not apply to them (same page's table). Their maintenance mode comes only from the GPO's
TaskV2 items that run MaintMode.ps1 ON <n>M on a calendar trigger (ScheduleByWeek on the listed
DaysOfWeek, ScheduleByDay every DaysInterval days, at the StartBoundary's time: the Task Scheduler
schema reference, taskschedulerschema-*-element.md; not run when the server is down at that time,
StartWhenAvailable false); SCOM acts on the request up to SCOM_LAG minutes later and keeps the
server in maintenance mode for n minutes from the call, across restarts ("Suspend monitoring
temporarily by using maintenance mode": the agent's rule runs every 4-5 minutes). Invariant:
  J2  every Windows Update install on a --modern server, and the restart after it (its start and
      its end), fall inside a maintenance window.
Controls (must fail J2): no-clock (the calendar maintenance tasks removed: what sitebundle
generated before issue 31), no-timer (the AlwaysAutoRebootAtScheduledTime values removed).
"""
from __future__ import annotations

import argparse
import heapq
import os
import random
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from farm_timeline import REFRESH_MIN, REFRESH_SPREAD, RESTART_MAX, apply_gpp, read_gpp  # noqa: E402

AU = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU"
WEEK = 7 * 1440
# Minutes SCOM's agent may take to act on a maintenance-mode request (its rule runs every 5 minutes
# before SCOM 2019, every 4 from 2019: docs/modern-targets.md section 5).
SCOM_LAG = 5
# Active hours when no policy sets them: "By default, active hours are from 8 AM to 5 PM"
# (waas-restart.md).
ACTIVE_HOURS = (8, 17)
TIMER = ("AlwaysAutoRebootAtScheduledTime", "AlwaysAutoRebootAtScheduledTimeMinutes")
XML_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class Host:
    """A server's registry as Group Policy leaves it, and its Windows Update state."""

    def __init__(self, name, default_delay, modern=False):
        self.name = name
        self.default_delay = default_delay
        self.modern = modern
        self.windows = []            # (from, to): SCOM maintenance mode
        self.install_start = None
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

    def modern_restart_at(self, now, rng):
        """When a 2016+ server restarts after installs that end at `now` (waas-restart.md)."""
        if self.read(TIMER[0]) == 1 and self.read("NoAutoRebootWithLoggedOnUsers") != 1:
            minutes = self.read(TIMER[1])
            return now + min(max(15 if minutes is None else minutes, 15), 180)
        # Outside active hours, within seven days, at a time of Windows' choosing.
        while True:
            t = now + rng.uniform(1, 7 * 1440)
            if not ACTIVE_HOURS[0] <= (t % 1440) / 60 < ACTIVE_HOURS[1]:
                return t

    def in_maintenance(self, t):
        return any(a <= t <= b for a, b in self.windows)


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
    elif control == "no-timer":
        items = [it for it in items if it["name"] not in TIMER]
    return items


def clock_tasks(bundle, control):
    """The GPO's TaskV2 items that start maintenance mode on a calendar trigger: a list of
    (computers, days, minute of day, window minutes), days a set of 1 (Sunday) ... 7 (Saturday)."""
    path = next((os.path.join(d, f) for d, _, fs in os.walk(os.path.join(bundle, "gpo"))
                 for f in fs if f == "ScheduledTasks.xml"), None)
    if path is None or control == "no-clock":
        return []
    out = []
    for item in ET.parse(path).getroot().iter("TaskV2"):
        args = " ".join(a.text or "" for a in item.iter("Arguments"))
        m = re.search(r"MaintMode\.ps1\S* ON (\d+)M\b", args)
        cal = item.find(".//CalendarTrigger")
        if m is None or cal is None:
            continue
        start = cal.find("StartBoundary").text
        minute = int(start[11:13]) * 60 + int(start[14:16])
        by_week, by_day = cal.find("ScheduleByWeek"), cal.find("ScheduleByDay")
        if by_week is not None:
            if by_week.findtext("WeeksInterval", "1") != "1":
                raise SystemExit(f"unmodelled WeeksInterval in {item.get('name')}")
            days = {XML_DAYS.index(d.tag) + 1 for d in by_week.find("DaysOfWeek")}
        elif by_day is not None and by_day.findtext("DaysInterval", "1") == "1":
            days = set(range(1, 8))
        else:
            raise SystemExit(f"unmodelled calendar trigger in {item.get('name')}")
        computers = {f.get("name").lower() for f in item.iter("FilterComputer")}
        out.append((computers, days, minute, int(m.group(1))))
    return out


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
    def __init__(self, items, keep, delays, seed, weeks, modern=(), clock=()):
        self.rng = random.Random(seed)
        self.items = items
        self.keep = keep
        self.clock = clock
        self.end = weeks * WEEK
        names = sorted({c for it in items for c in it["computers"]} | {h for s in keep.values() for h in s})
        self.hosts = {n: Host(n, delays.get(n, 15), n in modern) for n in names}
        self.allow = install_allowance(items, [h.default_delay for h in self.hosts.values()]
                                       + [it["value"] for it in items if it["name"] == "RebootWarningTimeout"])
        self.violations = []
        self.counts = {"installs": 0, "missed": 0, "rescheduled": 0, "outages": 0, "refreshes": 0,
                       "clock-windows": 0}
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
        h.install_start = self.now
        self.counts["installs"] += 1
        self.check()
        self.check_window(h, "install starts")
        length = self.rng.uniform(5, max(5.0, self.allow))
        if h.modern:
            self.push(h.modern_restart_at(self.now + length, self.rng), "restart", h, h.boot_id)
        else:
            self.push(self.now + length + h.delay(), "restart", h, h.boot_id)

    def check_window(self, h, what):
        """J2: a --modern server's install and restart inside a maintenance window."""
        if h.modern and not h.in_maintenance(self.now):
            self.violations.append(
                f"J2 at {self.now / 1440:.3f} days (day {int(self.now // 1440) % 7 + 1}, "
                f"{int(self.now % 1440) // 60:02d}:{int(self.now % 60):02d}): {h.name} {what} outside "
                f"every maintenance window")

    def fire_clock_tasks(self):
        """The calendar maintenance tasks due this minute, on the servers that are up."""
        weekday = int(self.now // 1440) % 7 + 1
        for computers, days, minute, window in self.clock:
            if weekday not in days or int(self.now % 1440) != minute:
                continue
            for name in computers:
                h = self.hosts.get(name)
                if h is not None and h.up:
                    h.windows.append((self.now + SCOM_LAG, self.now + window))
                    self.counts["clock-windows"] += 1

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
        for t in sorted({d * 1440 + m for _, days, m, _ in self.clock for d in range(7 * (self.end // WEEK + 1))
                         if (d % 7) + 1 in days}):
            if t <= self.end:
                self.push(t, "clock", None)
        while self.q:
            self.now, _, kind, h, data = heapq.heappop(self.q)
            if self.now > self.end:
                break
            if kind == "hour":
                self.hour()
            elif kind == "clock":
                self.fire_clock_tasks()
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
                self.check_window(h, "restart starts")
                self.push(self.now + self.rng.uniform(2, RESTART_MAX), "restart-end", h)
            elif kind == "restart-end":
                self.check_window(h, "restart ends")
                self.boot(h)
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
    ap.add_argument("--modern", default="", help="HOST,...: Windows Server 2016 or later")
    ap.add_argument("--control", choices=["same-time", "no-reschedule", "no-clock", "no-timer"])
    a = ap.parse_args()
    keep = {}
    for k in a.keep:
        name, hosts = k.split("=", 1)
        keep[name] = [x.lower() for x in hosts.split(",")]
    delays = {k.lower(): int(v) for k, v in (x.split("=") for x in a.delay.split(",") if x)}
    modern = {x.lower() for x in a.modern.split(",") if x}
    items = au_items(a.bundle, a.control)
    clock = clock_tasks(a.bundle, a.control)
    violations, counts = [], {}
    for seed in range(a.seeds):
        sim = Sim(items, keep, delays, seed, a.weeks, modern, clock)
        violations += sim.run()
        for k, v in sim.counts.items():
            counts[k] = counts.get(k, 0) + v
    print(f"simulated {a.weeks * a.seeds} weeks on {len(sim.hosts)} servers ({a.seeds} seeds, "
          f"{len(modern)} on 2016 or later, {len(clock)} calendar maintenance tasks), "
          f"{len(keep)} sets to keep up, a wave's installs take up to {sim.allow:.0f} minutes; counts: "
          + " ".join(f"{k}={v}" for k, v in counts.items()))
    failed = False
    for inv in ("J1", "J2"):
        found = [v for v in violations if v.startswith(inv + " ")]
        if found:
            print(f"{inv}: {len(found)} violations, first: {found[0]}")
            failed = True
    if failed:
        sys.exit(1)
    print("invariants held: J1" + (", J2" if modern else ""))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.exit(3)
