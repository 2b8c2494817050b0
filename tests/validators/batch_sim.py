"""A small cmd.exe emulator for the subset of batch the generated helpers use, so their exit codes
can be tested on Linux. External programs (tasklist, find, taskkill) are stubbed per scenario.

Usage: python batch_sim.py SCRIPT.cmd SCENARIOS.json
SCENARIOS.json: [{"name": ..., "args": [...], "running": ["w3wp.exe"], "taskkill_rc": 0}, ...]
Prints one JSON line per scenario: {"name", "exit", "trace"} and exits 0; exits 2 on a construct it
does not understand (so a generator change that leaves the subset is noticed, not mis-simulated).

Supported: @echo off, REM, setlocal/endlocal, labels, goto, `if "%~1"=="" goto X`, `set "a=b"`,
`if errorlevel N goto X`, pipelines `"…\\tasklist.exe" … | "…\\find.exe" /I "x" >NUL`,
`"…\\taskkill.exe" /F /IM "x"`, `exit /b N` / `exit /b %errorlevel%`, echo.
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


def run(script, scenario):
    lines = script.split("\r\n")
    labels = {}
    for i, l in enumerate(lines):
        s = l.strip()
        if s.startswith(":") and not s.startswith("::"):
            labels[s[1:].lower()] = i
    env = {"systemroot": r"C:\Windows"}
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
        m = re.fullmatch(r"if errorlevel (\d+) goto (\w+)", line, re.I)
        if m:
            if errorlevel >= int(m.group(1)):
                pc = labels[m.group(2).lower()]
            continue
        m = re.fullmatch(r'"[^"]*\\tasklist\.exe" /NH /FI "IMAGENAME eq ([^"]*)" 2>NUL \| "[^"]*\\find\.exe" /I "([^"]*)" >NUL', line, re.I)
        if m:
            running = [p.lower() for p in scenario.get("running", [])]
            found = m.group(1).lower() in running and m.group(2).lower() == m.group(1).lower()
            errorlevel = 0 if found else 1
            trace.append(f"tasklist|find -> {errorlevel}")
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
