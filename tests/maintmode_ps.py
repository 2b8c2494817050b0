#!/usr/bin/env python3
"""MaintMode.ps1 executed (issue 31): the generated script run by the PowerShell interpreter of
farm_timeline.py (its tree-sitter parse tree) with each case's arguments; the event it writes
(Write-EventLog for method "wsh", eventcreate.exe for "eventcreate") and its exit code must be the
case's. The cases follow the script's documented contract (MaintMode.vbs's): ON needs a duration
of 5 to 1440 minutes written NNM or NH, OFF takes an optional one, anything else is exit 1; an
event log that refuses the entry is exit 2.

    maintmode_ps.py SCRIPT wsh|eventcreate [--control]

The script must be built with the event text "MM {action} {duration} {minutes}" (and, for
eventcreate, source "MaintMode" and ID 100).

--control runs the cases on the script with its duration bounds removed, which must fail;
--control-agent on the script that never asks the SCOM agent (the event only), which must fail.
"""
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import farm_timeline as ft  # noqa: E402


AGENT_DLL = r"C:\Program Files\Microsoft Monitoring Agent\Agent\MaintenanceMode.dll"


class Host(ft.Host):
    """A 2019 server: the Application log (Write-EventLog) and eventcreate.exe recorded; with
    `agent` "2016+" the SCOM agent's MaintenanceMode.dll is there (Microsoft, "Suspend monitoring
    temporarily by using maintenance mode": SCOM 2016 and later agents), "broken" the same with a
    cmdlet that fails, None an older agent or none."""

    def __init__(self, refuse, agent=None):
        super().__init__("web3", "x64", None)
        self.env["PROGRAMFILES"] = r"C:\Program Files"
        self.written = []
        self.agent_calls = []
        self.imported = False
        self.refuse = refuse
        self.agent = agent
        if agent:
            self.files[AGENT_DLL] = b"MZ"

    def cmdlet(self, name, a, pos):
        n = name.lower()
        if n == "import-module":
            path = a.get("name") or (pos[0] if pos else None)
            if path != AGENT_DLL or path not in self.files:
                raise ft.ScriptError(f"Import-Module: {path} not found")
            self.imported = True
            return None
        if n == "start-scomagentmaintenancemode":
            if not self.imported:
                raise ft.PSError("Start-SCOMAgentMaintenanceMode without its module")
            if self.agent == "broken":
                raise ft.ScriptError("the agent refused the request")
            # "The minimum duration value accepted is five (5) minutes."
            if float(a["duration"]) < 5:
                raise ft.ScriptError("Duration below 5 minutes")
            self.agent_calls.append((float(a["duration"]), a.get("reason"), a.get("comments")))
            return None
        if n == "write-eventlog":
            if self.refuse:
                raise ft.ScriptError("the event log refused the entry")
            self.written.append((a.get("source"), a.get("eventid"), a.get("message")))
            return None
        return super().cmdlet(name, a, pos)

    def run_program(self, program, argv, ps):
        self.programs.append((program, argv))
        if not program.lower().endswith("\\system32\\eventcreate.exe"):
            raise ft.PSError(f"program {program} not modelled")
        if self.refuse:
            return 1
        # eventcreate /L APPLICATION /T INFORMATION /SO <source> /ID <id> /D <text>
        opts = {argv[i].upper(): argv[i + 1] for i in range(0, len(argv) - 1, 2)}
        self.written.append((opts.get("/SO"), int(opts.get("/ID")), opts.get("/D")))
        return 0


# (arguments, event log refuses, exit code, the event's text or None)
CASES = [
    ({"action": "ON", "duration": "20M"}, False, 0, "MM ON 20M 20"),
    ({"action": "on", "duration": "2h"}, False, 0, "MM ON 2H 120"),
    ({"action": " off "}, False, 0, "MM OFF 0M 0"),
    ({"action": "OFF", "duration": "30M"}, False, 0, "MM OFF 30M 30"),
    ({"action": "ON"}, False, 1, None),
    ({"action": "START", "duration": "20M"}, False, 1, None),
    ({"action": "ON", "duration": "4M"}, False, 1, None),
    ({"action": "ON", "duration": "5M"}, False, 0, "MM ON 5M 5"),
    ({"action": "ON", "duration": "1440M"}, False, 0, "MM ON 1440M 1440"),
    ({"action": "ON", "duration": "25H"}, False, 1, None),
    ({"action": "ON", "duration": "20"}, False, 1, None),
    ({"action": "ON", "duration": "20M"}, True, 2, None),
]


# (arguments, agent, exit code, the agent's calls as (minutes, text)); the event is always written.
AGENT_CASES = [
    ({"action": "ON", "duration": "20M"}, "2016+", 0, [(20.0, "MM ON 20M 20")]),
    ({"action": "ON", "duration": "2H"}, "2016+", 0, [(120.0, "MM ON 2H 120")]),
    ({"action": "OFF"}, "2016+", 0, []),
    ({"action": "ON", "duration": "20M"}, None, 0, []),
    ({"action": "ON", "duration": "20M"}, "broken", 3, []),
]


def run_agent(src):
    failures = []
    for args, agent, code, calls in AGENT_CASES:
        host = Host(False, agent)
        got = ft.PS(src).run(host, dict(args))
        seen = [(m, c) for m, _, c in host.agent_calls]
        reasons = {r for _, r, _ in host.agent_calls}
        if got != code or seen != calls or len(host.written) != 1 or reasons - {"PlannedOperatingSystemReconfiguration"}:
            failures.append(f"{args} agent={agent}: exit {got}, agent calls {host.agent_calls}, events "
                            f"{host.written}; expected exit {code}, calls {calls}, one event")
    return failures


def run(src, method):
    failures = run_agent(src)
    for args, refuse, code, text in CASES:
        host = Host(refuse)
        got = ft.PS(src).run(host, dict(args))
        events = host.written
        want = [] if text is None else [text]
        if got != code or [e[2] for e in events] != want:
            failures.append(f"{args} refuse={refuse}: exit {got} events {events}, expected exit {code} {want}")
        source = ("WSH", 4) if method == "wsh" else ("MaintMode", 100)
        if events and events[0][:2] != source:
            failures.append(f"{args}: source/id {events[0][:2]}, expected {source}")
    return failures


def main():
    script, method = sys.argv[1], sys.argv[2]
    src = open(script, "rb").read()
    if "--control" in sys.argv:
        old = b"if ($n -lt $MinMinutes -or $n -gt $MaxMinutes) { return -1 }"
        if old not in src:
            print("the control's edit does not apply")
            sys.exit(3)
        src = src.replace(old, b"")
    if "--control-agent" in sys.argv:
        # The old script: the event only, never the agent's own maintenance mode.
        old = b"Start-SCOMAgentMaintenanceMode -Duration $Minutes"
        if old not in src:
            print("the control's edit does not apply")
            sys.exit(3)
        src = src.replace(old, b"Write-Verbose -Message $Minutes")
    failures = run(src, method)
    print(f"MaintMode.ps1 ({method}): {len(CASES) + len(AGENT_CASES)} cases, {len(failures)} failed")
    for f in failures:
        print("  " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.exit(3)
