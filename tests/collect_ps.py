#!/usr/bin/env python3
"""Runs the PowerShell collector of Windows Server 2012 R2 and later (collect/windows/*.ps1)
with the PowerShell interpreter of farm_timeline.py (its tree-sitter-powershell parse tree) on a
server whose cmdlets answer from a machine description: the faked cmdlet layer. What the script
writes lands under OUTPUT_ROOT.

    collect_ps.py SCRIPT MACHINE.json OUTPUT_ROOT

MACHINE.json:

    {"env": {"COMPUTERNAME": ..., "SystemRoot": ..., "SystemDrive": ...},
     "version": "10.0.17763",
     "tasks": [{"path": "\\\\", "name": ..., "xml": ...}],          every registered task
     "registry": {"KEY|NAME": ["DWord", 4] or ["String", "text"]},  below HKLM
     "files": {"C:\\\\path": {"size": n, "sha256": "hex"}},
     "qfailure": {"NAME": "what sc.exe qfailure NAME prints"}}

The script runs as C:\\bundle\\collect\\windows\\<its name>, without -Output, so it writes
C:\\bundle\\collected\\<COMPUTERNAME>\\, which is OUTPUT_ROOT/bundle/collected/<COMPUTERNAME>/.
Prints what the script wrote with Write-Output; exit status is the script's (3 when the script
does something the model does not know: that fails the test, it is never skipped).

The cmdlets, as Microsoft documents them (each modelled only as far as the collector uses it):
- Get-ScheduledTask without arguments: the registered tasks, objects with TaskName and TaskPath
  (ScheduledTasks module, "Get-ScheduledTask", MicrosoftDocs/windows-powershell-docs,
  docset/winserver2019-ps/scheduledtasks/Get-ScheduledTask.md; the root folder is "\\").
- Export-ScheduledTask -TaskName N -TaskPath P: "exports the definition of a scheduled task into
  an XML string" (OUTPUTS: String), an error when there is no such task
  (docset/winserver2019-ps/scheduledtasks/Export-ScheduledTask.md).
- Set-Content / Add-Content -LiteralPath -Value -Encoding Unicode: each item of -Value is written
  followed by a newline (the -NoNewline parameter's text: without it newlines are inserted);
  "Unicode: Encodes in UTF-16 format using the little-endian byte order", and in Windows
  PowerShell "any Unicode encoding, except UTF7, always creates a BOM"
  (about_Character_Encoding, view=powershell-5.1). Add-Content appends to the existing text
  (the BOM once, at the start). Any other -Encoding is refused here: the collector must name it.
- New-Item -ItemType Directory -Force: creates the folder and its parents.
- Remove-Item -Path FOLDER\\*.xml: removes the matching files (none is not an error).
- Get-CimInstance -ClassName Win32_OperatingSystem: its Version ("10.0.17763").
- Get-ItemProperty -LiteralPath HKLM:\\KEY -Name N: an object with the property N, an error when
  the value is not there; Get-Item -LiteralPath HKLM:\\KEY: the key, whose
  GetValueKind(N) is a RegistryValueKind (String, DWord, ...; .NET RegistryKey.GetValueKind);
  Get-Item on a file: its Length.
- Test-Path -LiteralPath P -PathType Leaf; Get-FileHash -LiteralPath P -Algorithm SHA256: an
  object whose Hash is upper-case hex (Get-FileHash, Microsoft.PowerShell.Utility).
- `& C:\\Windows\\System32\\sc.exe qfailure NAME`: what sc prints, captured as lines (PowerShell
  returns a native program's standard output as an array of lines).
- [Environment]::ExpandEnvironmentVariables: %NAME% replaced by the variable's value, names
  without case, unknown names left as they are (.NET Environment.ExpandEnvironmentVariables).
- Int32.ToString('x'): lower-case hex, a negative number as its two's complement.
"""
import fnmatch
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import farm_timeline as ft  # noqa: E402

BUNDLE = "C:\\bundle"


class PS(ft.PS):
    """The interpreter with the .NET calls the collector makes."""

    def invoke(self, n):
        kids = ft.named(n)
        target, member = kids[0], kids[1]
        mname = self.t(member)
        if target.type == "type_literal" and self.t(target).lower() == "[environment]" \
                and mname == "ExpandEnvironmentVariables":
            text = self.args(n)[0]
            return re.sub(r"%([^%]+)%", lambda m: self.host.env.get(m.group(1).upper(), m.group(0)), text)
        if target.type != "type_literal" and mname == "ToString":
            obj = self.eval(target)
            if isinstance(obj, int) and not isinstance(obj, bool) and self.args(n) == ["x"]:
                return format(obj & 0xFFFFFFFF, "x")
        return super().invoke(n)

    def native(self, n):
        expr = next(c for c in n.children if c.type == "command_name_expr")
        text = self.t(expr)
        if not re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", text):
            raise ft.PSError(f"call operator with {text}")
        program = self.get(text[1:].lower())
        elems = next((c for c in n.children if c.type == "command_elements"), None)
        argv = []
        for e in ft.named(elems) if elems is not None else []:
            if e.type == "command_argument_sep":
                continue
            v = self.t(e) if e.type == "generic_token" else self.eval(e)
            argv.extend(v if isinstance(v, list) else [v])
        code, lines = self.host.run_native(program, argv)
        self.scopes[0]["lastexitcode"] = code
        return lines


class Server(ft.Host):
    def __init__(self, machine, script_name):
        super().__init__(machine["env"]["COMPUTERNAME"], "x64", None)
        self.env = {k.upper(): v for k, v in machine["env"].items()}
        self.m = machine
        self.script_path = BUNDLE + "\\collect\\windows\\" + script_name
        self.dirs = set()
        self.written = {}  # normalised Windows path (lower case) -> (path as written, text)

    @staticmethod
    def norm(path):
        parts = []
        for p in path.replace("/", "\\").split("\\"):
            if p == "..":
                parts.pop()
            elif p not in ("", "."):
                parts.append(p)
        return "\\".join(parts)

    def write_text(self, a, append):
        if str(a.get("encoding", "")).lower() != "unicode":
            raise ft.PSError(f"{a.get('literalpath')}: written without -Encoding Unicode")
        path = self.norm(a["literalpath"])
        parent = path.rsplit("\\", 1)[0].lower()
        if parent not in self.dirs:
            raise ft.ScriptError(f"Could not find a part of the path '{path}'")
        value = a.get("value")
        items = value if isinstance(value, list) else [value]
        text = "".join(("" if v is None else str(v)) + "\r\n" for v in items)
        old = self.written.get(path.lower(), (path, ""))[1] if append else ""
        self.written[path.lower()] = (path, old + text)

    def cmdlet(self, name, a, pos):
        n = name.lower()
        m = self.m
        if n == "new-item":
            if a.get("itemtype") != "Directory" or a.get("force") is not True:
                raise ft.PSError(f"New-Item {a}")
            path = self.norm(a["path"])
            parts = path.split("\\")
            for i in range(1, len(parts) + 1):
                self.dirs.add("\\".join(parts[:i]).lower())
            return {"fullname": path}
        if n == "get-ciminstance":
            if a.get("classname") != "Win32_OperatingSystem":
                raise ft.PSError(f"Get-CimInstance {a}")
            return {"version": m["version"]}
        if n in ("set-content", "add-content"):
            self.write_text(a, n == "add-content")
            return None
        if n == "remove-item":
            pattern = self.norm(a["path"]).lower()
            for k in [k for k in self.written if fnmatch.fnmatchcase(k, pattern)]:
                del self.written[k]
            return None
        if n == "get-scheduledtask":
            if a or pos:
                raise ft.PSError(f"Get-ScheduledTask with arguments {a} {pos}")
            return [{"taskname": t["name"], "taskpath": t["path"]} for t in m["tasks"]]
        if n == "export-scheduledtask":
            for t in m["tasks"]:
                if t["name"].lower() == a["taskname"].lower() and t["path"] == a["taskpath"]:
                    return t["xml"]
            raise ft.ScriptError(f"The system cannot find the file specified ({a['taskname']})")
        if n == "get-itemproperty":
            key = a["literalpath"]
            v = self.reg(key, a["name"])
            if v is None:
                raise ft.ScriptError(f"Property {a['name']} does not exist at path {key}.")
            return {a["name"]: v[1]}
        if n == "get-item":
            path = a["literalpath"]
            if path.upper().startswith("HKLM:\\"):
                def kind(value_name, key=path):
                    v = self.reg(key, value_name)
                    if v is None:
                        raise ft.ScriptError(f"The specified registry key does not exist ({value_name})")
                    return v[0]
                return {"getvaluekind": kind}
            f = self.file(path)
            if f is None:
                raise ft.ScriptError(f"Cannot find path '{path}'")
            return {"length": f["size"]}
        if n == "test-path":
            if a.get("pathtype") != "Leaf":
                raise ft.PSError(f"Test-Path {a}")
            return self.file(a["literalpath"]) is not None
        if n == "get-filehash":
            if a.get("algorithm") != "SHA256":
                raise ft.PSError(f"Get-FileHash {a}")
            f = self.file(a["literalpath"])
            if f is None:
                raise ft.ScriptError(f"Cannot find path '{a['literalpath']}'")
            return {"algorithm": "SHA256", "hash": f["sha256"].upper(), "path": a["literalpath"]}
        if n == "join-path":
            return pos[0].rstrip("\\") + "\\" + pos[1]
        if n == "write-warning":
            self.output.append("WARNING: " + str(pos[0] if pos else ""))
            return None
        return super().cmdlet(name, a, pos)

    def reg(self, key, name):
        k = key.split(":\\", 1)[1].lower()
        for kn, v in self.m["registry"].items():
            rk, rn = kn.split("|", 1)
            if rk.lower() == k and rn.lower() == name.lower():
                return v
        return None

    def file(self, path):
        for p, f in self.m["files"].items():
            if p.lower() == path.lower():
                return f
        return None

    def run_native(self, program, argv):
        sc = self.env["SYSTEMROOT"] + "\\System32\\sc.exe"
        if program.lower() != sc.lower() or len(argv) != 2 or argv[0] != "qfailure":
            raise ft.PSError(f"program {program} {argv} not modelled")
        out = self.m["qfailure"].get(argv[1])
        if out is None:
            return 1060, ["[SC] OpenService FAILED 1060:", "", "The specified service does not exist as an installed service.", ""]
        return 0, out.replace("\r\n", "\n").split("\n")


def main():
    script, machine_path, root = sys.argv[1], sys.argv[2], sys.argv[3]
    src = open(script, "rb").read()
    machine = json.load(open(machine_path, encoding="utf-8"))
    host = Server(machine, os.path.basename(script))
    code = PS(src).run(host, {})
    for path, text in host.written.values():
        rel = path.split("\\")[1:]  # drop the drive
        out = os.path.join(root, *rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(b"\xff\xfe" + text.encode("utf-16-le"))
    for line in host.output:
        print(line)
    sys.exit(code)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.exit(3)
