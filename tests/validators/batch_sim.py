"""A small cmd.exe emulator for the subset of batch the generated helpers use, so their exit codes
can be tested on Linux. External programs (tasklist, find, taskkill) are stubbed per scenario.

Usage: python batch_sim.py SCRIPT.cmd SCENARIOS.json
SCENARIOS.json: [{"name": ..., "args": [...], "running": ["w3wp.exe"], "taskkill_rc": 0}, ...]
Prints one JSON line per scenario: {"name", "exit", "trace"} and exits 0; exits 2 on a construct it
does not understand (so a generator change that leaves the subset is noticed, not mis-simulated).

Supported: @echo off, REM, setlocal/endlocal, labels, goto, `if "%~1"=="" goto X`, `set "a=b"`,
`if errorlevel N goto X`, `"…\\tasklist.exe" /FO CSV /NH /FI "IMAGENAME eq x" >"file" 2>NUL`,
`"…\\find.exe" /I "string" "file" >NUL`, `del "file" 2>NUL`, the older pipeline
`"…\\tasklist.exe" /NH /FI "IMAGENAME eq x" 2>NUL | "…\\find.exe" /I "x" >NUL`,
`"…\\taskkill.exe" /F /IM "x"`, `exit /b N` / `exit /b %errorlevel%`, echo,
`if [not] "a"=="b" exit /b N`, `if not errorlevel N exit /b M`, `"…\\net.exe" start "svc"`,
`"…\\sc.exe" query "svc" | "…\\find.exe" "STRING" >NUL`.

tasklist and find are modelled on their output, not on their meaning: tasklist prints what
Windows prints (the table format cuts an image name to 25 characters: sensu-plugins-windows#86;
the CSV format quotes the whole name, first on the line; "INFO: No tasks are running which match
the specified criteria." when none match, exit 0; scenario `tasklist_rc` for a failure), and find
searches that text as find.exe does (substring; /I ignores case; `""` in the search string is one
quote; exit 0 found, 1 not found, 2 file missing). net start exits 0 when it started the service
and non-zero otherwise (2, also, as observed but not documented by Microsoft, for "The requested
service has already been started", NET HELPMSG 2182): the script then asks sc query; sc query prints "        STATE              : 4  RUNNING" (or 1 STOPPED, 2 START_PENDING) and find
searches that text (case-sensitive without /I). Scenario keys: args, running (image names),
taskkill_rc, tasklist_rc, net_start_rc, service_state (the state sc query shows after net start).
"""
import json
import re
import sys


class Unsupported(Exception):
    pass


def expand(line, args, env, errorlevel):
    def arg(m):
        i = int(m.group(2))
        if i == 0:
            return "killProc.cmd"
        v = args[i - 1] if i - 1 < len(args) else ""
        return v.strip('"') if m.group(1) == "~" else v
    line = re.sub(r"%(~nx|~)?([0-9])", lambda m: arg(m) if m.group(1) != "~nx" else "killProc.cmd", line)
    def var(m):
        name = m.group(1)
        if name.lower() == "errorlevel":
            return str(errorlevel)
        return env.get(name.lower(), "")
    return re.sub(r"%([A-Za-z_][A-Za-z0-9_]*)%", var, line)


def tasklist_output(scenario, image, csv):
    """What tasklist prints for /FI "IMAGENAME eq image" (/NH): matching processes (case-insensitive
    equality), in CSV or in the table format that cuts names to 25 characters."""
    rows = [p for p in scenario.get("running", []) if p.lower() == image.lower()]
    if not rows:
        return "INFO: No tasks are running which match the specified criteria.\r\n"
    if csv:
        return "".join(f'"{p}","{1000 + i}","Services","0","1,234 K"\r\n' for i, p in enumerate(rows))
    return "".join(f"{p[:25]:<25} {1000 + i:>8} Services                   0      1,234 K\r\n" for i, p in enumerate(rows))


def run(script, scenario):
    lines = script.split("\r\n")
    labels = {}
    for i, l in enumerate(lines):
        s = l.strip()
        if s.startswith(":") and not s.startswith("::"):
            labels[s[1:].lower()] = i
    env = {"systemroot": r"C:\Windows", "temp": r"C:\Windows\TEMP", "random": "4242"}
    files = {}
    args = scenario.get("args", [])
    errorlevel = 0
    trace = []
    pc = 0
    steps = 0
    while pc < len(lines):
        steps += 1
        if steps > 1000:
            raise Unsupported("loop")
        raw = lines[pc].strip()
        pc += 1
        if not raw or raw.startswith(":") or raw.upper().startswith("REM") or raw.lower() == "@echo off":
            continue
        line = expand(raw, args, env, errorlevel)
        low = line.lower()
        if low.startswith("setlocal") or low.startswith("endlocal"):
            continue
        m = re.fullmatch(r'if "(.*)"=="(.*)" goto (\w+)', line, re.I)
        if m:
            if m.group(1) == m.group(2):
                pc = labels[m.group(3).lower()]
            continue
        m = re.fullmatch(r'set "(\w+)=(.*)"', line, re.I)
        if m:
            env[m.group(1).lower()] = m.group(2)
            continue
        m = re.fullmatch(r'if (not )?"(.*)"=="(.*)" exit /b (\d+)', line, re.I)
        if m:
            if (m.group(2) == m.group(3)) != bool(m.group(1)):
                return int(m.group(4)), trace
            continue
        m = re.fullmatch(r"if not errorlevel (\d+) exit /b (\d+)", line, re.I)
        if m:
            if errorlevel < int(m.group(1)):
                return int(m.group(2)), trace
            continue
        m = re.fullmatch(r'"[^"]*\\net\.exe" start "([^"]*)"', line, re.I)
        if m:
            errorlevel = scenario.get("net_start_rc", 0)
            trace.append(f"net start {m.group(1)} -> {errorlevel}")
            continue
        m = re.fullmatch(r'"[^"]*\\sc\.exe" query "([^"]*)" \| "[^"]*\\find\.exe" "([^"]*)" >NUL', line, re.I)
        if m:
            codes = {"STOPPED": 1, "START_PENDING": 2, "RUNNING": 4}
            state = scenario.get("service_state", "RUNNING")
            out = f"SERVICE_NAME: {m.group(1)}\r\n        STATE              : {codes[state]}  {state}\r\n"
            errorlevel = 0 if m.group(2) in out else 1
            trace.append(f"sc query {m.group(1)} | find {m.group(2)} -> {errorlevel}")
            continue
        m = re.fullmatch(r"if errorlevel (\d+) goto (\w+)", line, re.I)
        if m:
            if errorlevel >= int(m.group(1)):
                pc = labels[m.group(2).lower()]
            continue
        m = re.fullmatch(r'"[^"]*\\tasklist\.exe" /NH /FI "IMAGENAME eq ([^"]*)" 2>NUL \| "[^"]*\\find\.exe" /I "([^"]*)" >NUL', line, re.I)
        if m:
            out = tasklist_output(scenario, m.group(1), csv=False)
            errorlevel = 0 if m.group(2).lower() in out.lower() else 1
            trace.append(f"tasklist|find -> {errorlevel}")
            continue
        m = re.fullmatch(r'"[^"]*\\tasklist\.exe" /FO CSV /NH /FI "IMAGENAME eq ([^"]*)" >"([^"]+)" 2>NUL', line, re.I)
        if m:
            errorlevel = scenario.get("tasklist_rc", 0)
            files[m.group(2).lower()] = "" if errorlevel else tasklist_output(scenario, m.group(1), csv=True)
            trace.append(f"tasklist csv -> {errorlevel}")
            continue
        m = re.fullmatch(r'"[^"]*\\find\.exe" /I "((?:[^"]|"")*)" "([^"]+)" >NUL', line, re.I)
        if m:
            needle = m.group(1).replace('""', '"')
            text = files.get(m.group(2).lower())
            errorlevel = 2 if text is None else (0 if needle.lower() in text.lower() else 1)
            trace.append(f"find {needle} -> {errorlevel}")
            continue
        m = re.fullmatch(r'del "([^"]+)" 2>NUL', line, re.I)
        if m:
            files.pop(m.group(1).lower(), None)
            continue
        m = re.fullmatch(r'"[^"]*\\taskkill\.exe" /F /IM "([^"]*)"', line, re.I)
        if m:
            errorlevel = scenario.get("taskkill_rc", 0)
            trace.append(f"taskkill {m.group(1)} -> {errorlevel}")
            continue
        m = re.fullmatch(r"exit /b (\d+)", line, re.I)
        if m:
            return int(m.group(1)), trace
        if low.startswith("echo "):
            trace.append(line)
            continue
        raise Unsupported(f"line {pc}: {raw}")
    return errorlevel, trace


def main():
    script = open(sys.argv[1], "rb").read().decode("utf-8")
    scenarios = json.load(open(sys.argv[2]))
    try:
        for sc in scenarios:
            code, trace = run(script, sc)
            print(json.dumps({"name": sc["name"], "exit": code, "trace": trace}))
    except Unsupported as e:
        print(f"batch_sim: unsupported construct: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
