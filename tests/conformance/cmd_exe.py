"""Conformance table of the cmd.exe models: tests/validators/batch_sim.py (run: killProc.cmd and
the service helpers, with tasklist/find/net/sc stubbed) and tests/validators/collect_sim.py (Cmd:
the Windows collectors).

A batch_sim case is a script (lines joined with CRLF) and a scenario; the result is its exit code
and trace. A collect_sim case is a script run by Cmd in a temporary root; the result is what it
wrote to C:\\bundle\\out.txt (the lines), or its exit code.
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "validators"))
import batch_sim  # noqa: E402
import collect_sim  # noqa: E402

MODEL = "cmd.exe models (tests/validators/batch_sim.py, tests/validators/collect_sim.py)"

IF = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/if"
FOR = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/for"
FIND = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/find"
CALL = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/call"
PARSE = "https://stackoverflow.com/a/4095133 (dbenham, jeb: How does CMD.EXE parse scripts?)"
TOOL = r'"C:\Windows\system32\{}.exe"'


def run(case):
    if case["model"] == "batch_sim":
        code, trace = batch_sim.run("\r\n".join(case["script"]), case.get("scenario", {}))
        return {"exit": code, "trace": trace} if case.get("trace") else {"exit": code}
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "case.cmd")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\r\n".join(case["script"]) + "\r\n")
        machine = {"env": {"COMPUTERNAME": "WEB1"}, "ver": "Microsoft Windows [Version 5.2.3790]",
                   "files": {}, "reg": case.get("reg", {})}
        os.makedirs(os.path.join(root, "bundle"))
        code = collect_sim.Cmd(path, machine, root).run(case.get("args", []))
        out = os.path.join(root, "bundle", "out.txt")
        text = open(out, encoding="utf-8", newline="").read() if os.path.exists(out) else ""
        return {"exit": code, "out": text.split("\r\n")[:-1]}


def bs(lines, scenario, expect, **kw):
    return dict(model="batch_sim", script=["@echo off"] + lines, scenario=scenario, expect=expect, **kw)


def cs(lines, expect, **kw):
    return dict(model="collect_sim", script=["@echo off"] + lines, expect=expect, **kw)


OUT = r'>>"C:\bundle\out.txt"'
FIND_EXE = TOOL.format("find")
TASKLIST = TOOL.format("tasklist")

CASES = [
    dict(id="if-errorlevel-is-at-least",
         **bs([TOOL.format("net") + ' start "W3SVC"', "if errorlevel 1 goto failed", "exit /b 0", ":failed",
               "exit /b 7"], {"net_start_rc": 2}, {"exit": 7}, misreading={"exit": 0}),
         source=IF, quote="errorlevel <number>: Specifies a true condition only if the previous program run by "
                          "Cmd.exe returned an exit code equal to or greater than number."),
    dict(id="if-errorlevel-zero-not-taken",
         **bs([TOOL.format("net") + ' start "W3SVC"', "if errorlevel 1 goto failed", "exit /b 0", ":failed",
               "exit /b 7"], {"net_start_rc": 0}, {"exit": 0}),
         source=IF, quote="(the same rule: an exit code 0 is not equal to or greater than 1)"),
    dict(id="if-not-errorlevel",
         **bs([TOOL.format("net") + ' start "W3SVC"', "if not errorlevel 1 exit /b 5", "exit /b 0"],
              {"net_start_rc": 0}, {"exit": 5}),
         source=IF, quote="not: Specifies that the command should be carried out only if the condition is false."),
    dict(id="net-start-already-started",
         **bs([TOOL.format("net") + ' start "W3SVC"', "if errorlevel 1 goto failed", "exit /b 0", ":failed",
               "exit /b 9"],
              {"net_start_rc": 2}, {"exit": 9}, misreading={"exit": 0}),
         source="public transcripts of `net start` on a running service (code index, find_string 'More help is "
                "available by typing NET HELPMSG 2182': ten hits, among them a Microsoft KB article on IIS 4.0 "
                "services; the index gives them without repository and path); the exit code 2 is observed, not "
                "documented (batch_sim's docstring): the case checks only that it is an error",
         quote="net start of a service that is running is an error (NET HELPMSG 2182), not a success"),
    dict(id="exit-b-errorlevel",
         **bs([TOOL.format("taskkill") + ' /F /IM "w3wp.exe"', "exit /b %errorlevel%"], {"taskkill_rc": 128},
              {"exit": 128}),
         source="https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/exit",
         quote="/b <exitcode>: Specifies the exit code; %errorlevel% expands to the last program's exit code."),
    dict(id="find-found-ignore-case",
         **bs([TASKLIST + ' /FO CSV /NH /FI "IMAGENAME eq w3wp.exe" >"%TEMP%\\t.csv" 2>NUL',
               FIND_EXE + ' /I """W3WP.EXE""" "%TEMP%\\t.csv" >NUL', "exit /b %errorlevel%"],
              {"running": ["w3wp.exe"]}, {"exit": 0}, misreading={"exit": 1}),
         source=FIND, quote="/i Specifies that the search is not case-sensitive. (find exits 0 when the string is "
                            "found: ss64.com/nt/find.html 'FIND will return an ErrorLevel as follows: 0 String found')"),
    dict(id="find-not-found",
         **bs([TASKLIST + ' /FO CSV /NH /FI "IMAGENAME eq w3wp.exe" >"%TEMP%\\t.csv" 2>NUL',
               FIND_EXE + ' /I """w3wp.exe""" "%TEMP%\\t.csv" >NUL', "exit /b %errorlevel%"],
              {"running": []}, {"exit": 1}, misreading={"exit": 0}),
         source="https://ss64.com/nt/find.html",
         quote="1 String not found. (tasklist with no match prints 'INFO: No tasks are running which match the "
               "specified criteria.', which does not hold the image name)"),
    dict(id="find-missing-file",
         **bs([FIND_EXE + ' /I "x" "%TEMP%\\none.csv" >NUL', "exit /b %errorlevel%"], {}, {"exit": 2},
              misreading={"exit": 1}),
         source="https://ss64.com/nt/find.html",
         quote="2 If any files in the list do not exist or if no files match a wildcard mask."),
    dict(id="sc-query-find-case-sensitive",
         **bs([TOOL.format("sc") + ' query "W3SVC" | ' + FIND_EXE + ' "running" >NUL', "exit /b %errorlevel%"],
              {"service_state": "RUNNING"}, {"exit": 1}, misreading={"exit": 0}),
         source=FIND, quote="find without /i is case-sensitive (/i 'Specifies that the search is not "
                            "case-sensitive'); sc query writes the state in capitals ('STATE : 4 RUNNING')"),
    dict(id="tilde-strips-quotes",
         **bs(['if "%~1"=="" goto none', "exit /b 3", ":none", "exit /b 4"], {"args": ['""']}, {"exit": 4},
              misreading={"exit": 3}),
         source=CALL, quote="%~1 Expands %1 and removes surrounding quotation marks."),
    dict(id="if-string-case-sensitive",
         **bs(['set "a=Web"', 'if "%a%"=="web" exit /b 1', "exit /b 0"], {}, {"exit": 0},
              misreading={"exit": 1}),
         source=IF, quote="/i Forces string comparisons to ignore case (without it they do not)."),
    dict(id="for-f-tokens-rest",
         **cs(['for /f "tokens=1,2* delims=," %%a in ("one,two,three,four") do echo %%a %%b %%c' + OUT],
              {"exit": 0, "out": ["one two three,four"]}, misreading={"exit": 0, "out": ["one two three"]}),
         source=FOR, quote="If the last character in the tokens= string is an asterisk (*), an additional variable "
                           "is allocated and receives the remaining text on the line after the last token that is "
                           "parsed."),
    dict(id="for-f-delims-collapse",
         **cs(['for /f "tokens=2 delims=," %%a in ("one,,two") do echo %%a' + OUT],
              {"exit": 0, "out": ["two"]}, misreading={"exit": 0, "out": [""]}),
         source=PARSE, quote="FOR /F: consecutive delimiters count as one; leading delimiters are skipped."),
    dict(id="for-f-default-eol",
         **cs(['for /f "tokens=1" %%a in (";comment") do echo %%a' + OUT, 'echo end' + OUT],
              {"exit": 0, "out": ["end"]}, misreading={"exit": 0, "out": [";comment", "end"]}),
         source=FOR, quote="eol=<c>: Specifies an end of line character (just one character); the default is a "
                           "semicolon: a line that begins with it is skipped. (collect_sim read such lines: fixed.)"),
    dict(id="for-f-missing-token-skips",
         **cs(['for /f "tokens=3" %%a in ("one two") do echo %%a' + OUT, 'echo end' + OUT],
              {"exit": 0, "out": ["end"]}, misreading={"exit": 0, "out": ["", "end"]}),
         source=PARSE, quote="the body is not run for a line that has none of the requested tokens"),
    dict(id="undefined-variable-empty",
         **cs(['echo [%NOPE%]' + OUT], {"exit": 0, "out": ["[]"]}, misreading={"exit": 0, "out": ["[%NOPE%]"]}),
         source=PARSE, quote="Phase 1 (batch): an undefined %var% is removed (replaced by nothing)."),
    dict(id="double-percent",
         **cs(['echo 100%%' + OUT], {"exit": 0, "out": ["100%"]}),
         source=PARSE, quote="Phase 1 (batch): %% is replaced by a single %."),
    dict(id="set-quoted",
         **cs(['set "X=a b"', 'echo [%X%]' + OUT], {"exit": 0, "out": ["[a b]"]},
              misreading={"exit": 0, "out": ['["a b"]']}),
         source="https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/set_1",
         quote='set "<variable>=<string>": the quotes delimit the assignment and are not part of the value '
               "(ss64.com/nt/set.html)"),
    dict(id="exit-b-code",
         **cs(["exit /b 3", "echo not reached" + OUT], {"exit": 3, "out": []}),
         source="https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/exit",
         quote="/b Exits the current batch script instead of exiting Cmd.exe. <exitcode> Specifies a numeric "
               "number."),
    dict(id="findstr-begins-with",
         **cs(['rem :: marker one', 'rem x :: marker two',
               'findstr /b /c:"rem :: marker" "%~f0"' + OUT], {"exit": 0, "out": ["rem :: marker one"]},
              misreading={"exit": 0, "out": ["rem :: marker one", "rem x :: marker two"]}),
         source="https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/findstr",
         quote='/b Matches the text pattern if it is at the beginning of a line. /c:<string> Uses the specified '
               'text as a literal search string.'),
    dict(id="reg-query-missing-value",
         **cs(['reg query "HKLM\\SOFTWARE\\None" /v "X"' + OUT], {"exit": 0, "out": [
             "", "ERROR: The system was unable to find the specified registry key or value."]}),
         source="public transcripts of reg query of a missing key or value (code index; given without repository "
                "and path): the message on its own line after an empty one",
         quote="ERROR: The system was unable to find the specified registry key or value."),
]
