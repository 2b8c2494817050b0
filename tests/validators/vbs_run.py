#!/usr/bin/env python3
"""Runs generated VBScript in a harness: ASPPY's VBScript interpreter (pip package `asppy`, pure
Python) with fake WScript, WScript.Shell (Exec, LogEvent, ExpandEnvironmentStrings) and
Scripting.FileSystemObject objects, so a script's logic (argument checks, exit codes, the commands it
runs, the events it writes) can be tested without Windows.

Input (stdin): a JSON list of cases {"script": path, "args": [...], "exec": [[substring, output or
[outputs, one per call], exit code or [codes, one per call]], ...], "logevent": true|false, "exists": true|false}.
Output (stdout): a JSON list of results {"code": exit code or null, "error": text or null,
"exec": [command lines], "events": [[type, text]], "echo": [lines]}.

ASPPY is not Microsoft's engine: this checks logic, not every VBScript corner. Exits 3 when ASPPY
is not installed.
"""
import json
import sys

try:
    import ASPPY.runner_vm as rv
    from ASPPY import server_object as so
except ImportError:
    print("ASPPY (pip install asppy) is not installed", file=sys.stderr)
    sys.exit(3)

ENV = {"%SYSTEMROOT%": "C:\\WINDOWS", "%SYSTEMDRIVE%": "C:"}


class QuitSignal(BaseException):
    """WScript.Quit: a BaseException, so the interpreter's error handling cannot swallow it."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Stream:
    def __init__(self, text):
        self.lines = text.split("\n") if text else []
        self.pos = 0

    @property
    def AtEndOfStream(self):
        return self.pos >= len(self.lines)

    def ReadLine(self):
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def ReadAll(self):
        rest = "\n".join(self.lines[self.pos:])
        self.pos = len(self.lines)
        return rest


class ExecObj:
    def __init__(self, out, rc):
        self.StdOut = Stream(out)
        self.StdErr = Stream("")
        self.Status = 1  # finished
        self.ExitCode = rc

    def Terminate(self):
        pass


class Args:
    def __init__(self, a):
        self.a = a

    @property
    def Count(self):
        return len(self.a)

    def __call__(self, i):
        return self.a[int(i)]

    def Item(self, i):
        return self.a[int(i)]


class Case:
    def __init__(self, spec):
        self.spec = spec
        self.execs, self.events, self.echo = [], [], []
        self.calls = {}

    # WScript
    def wscript(self):
        case = self

        class WScript:
            Arguments = Args(case.spec.get("args", []))

            def Echo(self, *a):
                case.echo.append(" ".join(str(x) for x in a))

            def Quit(self, code=0):
                raise QuitSignal(int(code))

            def Sleep(self, ms):
                pass

            def CreateObject(self, p):
                return case.make(p)

        return WScript()

    def make(self, progid):
        p = str(progid).lower()
        case = self
        if p == "wscript.shell":

            class Shell:
                def ExpandEnvironmentStrings(self, s):
                    out, i = "", 0
                    s = str(s)
                    while i < len(s):
                        j = s.find("%", i + 1) if s[i] == "%" else -1
                        if j > 0 and s[i:j + 1].upper() in ENV:
                            out += ENV[s[i:j + 1].upper()]
                            i = j + 1
                        else:
                            out += s[i]
                            i += 1
                    return out

                def Exec(self, cmd):
                    cmd = str(cmd)
                    case.execs.append(cmd)
                    for pat, out, rc in case.spec.get("exec", []):
                        if pat in cmd:
                            n = case.calls.get(pat, 0)
                            case.calls[pat] = n + 1
                            if isinstance(out, list):
                                out = out[min(n, len(out) - 1)]
                            if isinstance(rc, list):
                                rc = rc[min(n, len(rc) - 1)]
                            return ExecObj(out, rc)
                    raise Exception("unexpected command: " + cmd)

                def LogEvent(self, t, text):
                    case.events.append([int(t), str(text)])
                    return bool(case.spec.get("logevent", True))

            return Shell()
        if p == "scripting.filesystemobject":

            class File:
                def WriteLine(self, s):
                    pass

                def Close(self):
                    pass

            class Fso:
                def FileExists(self, path):
                    return bool(case.spec.get("exists", True))

                def CreateTextFile(self, path, overwrite=True):
                    return File()

            return Fso()
        if p == "vbscript.regexp":
            return so.VBScriptRegExp()
        raise Exception("CreateObject: unknown " + p)

    def run(self):
        text = open(self.spec["script"], encoding="utf-8").read()
        case = self
        ws = self.wscript()
        orig = rv._build_globals_env

        def env(ctx):
            e = orig(ctx)
            e["WSCRIPT"] = ws
            e["CREATEOBJECT"] = case.make
            e["CreateObject"] = case.make
            return e

        class Srv:
            _current_path = None

            def CreateObject(self, p):
                return case.make(p)

            def MapPath(self, p):
                return str(p)

        rv._build_globals_env = env
        code, error = None, None
        try:
            res = rv.render_asp_vm("<%\n" + text + "\n%>", server=Srv())
            body = getattr(res, "body", b"") or b""
            if b"runtime error" in body or b"error '" in body:
                error = body.decode("utf-8", "replace")[:600]
            else:
                error = "the script ended without WScript.Quit"
        except QuitSignal as q:
            code = q.code
        finally:
            rv._build_globals_env = orig
        return {"code": code, "error": error, "exec": self.execs, "events": self.events,
                "echo": self.echo}


def main():
    cases = json.load(sys.stdin)
    print(json.dumps([Case(c).run() for c in cases]))


if __name__ == "__main__":
    main()
