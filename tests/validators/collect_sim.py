#!/usr/bin/env python3
"""Runs a Windows collector of the bundle (collect/windows/<server>.cmd) in a model of cmd.exe.

Usage: collect_sim.py SCRIPT MACHINE.json OUTPUT_ROOT

The model covers the cmd.exe features the collector uses, with cmd's own rules (the phases are
those of "How does the Windows Command Interpreter (CMD.EXE) parse scripts?", dbenham and jeb,
https://stackoverflow.com/a/4095133): percent expansion (%VAR%, %~1, %~dp0, %~n0, %~f0,
%~z2, %% in a script) before a line is split into commands; FOR /F over a command's output or a
quoted string with "tokens=", "delims=" and "eol=" (default delimiters space and tab; the last
token `*` takes the rest of the line; a line starting with the eol character, `;` by default, is
skipped), FOR over a quoted set with %%~N; FOR variables substituted after
percent expansion (so their values are never parsed again, except after CALL, which expands
percent signs once more); parenthesised blocks; IF [NOT] EXIST, IF "a"=="b"; SET "N=V";
redirections >, >>, 2>nul, 2>&1, 1>&2 before or after a command; CALL :label with arguments;
EXIT /B. The tools the collector runs print what the machine description says they print:
`ver`, `set NAME`, `schtasks`, `reg query`, `certutil -hashfile`, `eventtriggers /query`,
`sc qfailure NAME` (from "qfailure": {"NAME": "output"}),
`findstr /b /c:"text" file` (over the real script). MACHINE.json:

    {"env": {...}, "ver": "...", "schtasks_csv": "...", "tasks_xml": {"name": "..."},
     "reg": {"HKLM\\\\key|name": "output"}, "files": {"C:\\\\path": {"size": n, "sha256": hex,
     "sha1": hex}}, "eventtriggers": "...", "v2": true}

Prints nothing on success; exit status is the script's.
"""
import json
import os
import re
import shlex
import sys


class Exit(Exception):
    def __init__(self, code):
        self.code = code


class Cmd:
    def __init__(self, script, machine, root):
        self.script = os.path.abspath(script)
        with open(script, encoding="utf-8") as f:
            self.lines = f.read().replace("\r\n", "\n").split("\n")
        self.m = machine
        self.env = {k.upper(): v for k, v in machine["env"].items()}
        self.root = root
        # The script runs from <bundle>\collect\windows\<server>.cmd; paths are mapped to ROOT.
        self.win_script = "C:\\bundle\\collect\\windows\\" + os.path.basename(script)

    # ---- paths: C:\bundle\... lives under ROOT -------------------------------------------
    def host(self, win):
        win = win.replace("\\\\", "\\")
        parts = [p for p in win.split("\\") if p not in ("",)]
        out = []
        for p in parts[1:]:
            if p == "..":
                out.pop()
            elif p != ".":
                out.append(p)
        return os.path.join(self.root, *out)

    # ---- expansion --------------------------------------------------------------------------
    def expand(self, line, args):
        def arg(m):
            mod, n = m.group(1), int(m.group(2))
            if n == 0:
                v = self.win_script
            else:
                v = args[n - 1] if n - 1 < len(args) else ""
            if not mod:
                return v
            bare = v.strip('"')
            if mod == "~":
                return bare
            if mod == "~dp":
                return bare.rsplit("\\", 1)[0] + "\\"
            if mod == "~n":
                return bare.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
            if mod == "~f":
                return bare
            if mod == "~z":
                f = self.m["files"].get(bare)
                return str(f["size"]) if f else ""
            raise ValueError(mod)

        out, i = [], 0
        while i < len(line):
            if line.startswith("%%", i):
                out.append("%")
                i += 2
                continue
            m = re.compile(r"%(~dp|~n|~f|~z|~)?([0-9])").match(line, i)
            if m:
                out.append(arg(m))
                i = m.end()
                continue
            m = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%").match(line, i)
            if m:
                out.append(self.env.get(m.group(1).upper(), ""))
                i = m.end()
                continue
            out.append(line[i])
            i += 1
        return "".join(out)

    # ---- program structure -------------------------------------------------------------------
    def logical(self, start):
        """The logical line at `start` (a block up to its closing paren joined) and the next index."""
        text = self.lines[start]
        i = start + 1
        depth = text.count("(") - text.count(")") if text.rstrip().endswith("(") else 0
        parts = [text]
        while depth > 0:
            nxt = self.lines[i]
            parts.append(nxt)
            i += 1
            if nxt.strip() == ")":
                depth -= 1
            elif nxt.rstrip().endswith("("):
                depth += 1
        return parts, i

    def run(self, args):
        return self.run_from(0, args)

    def run_from(self, pc, args):
        try:
            while pc < len(self.lines):
                text = self.lines[pc].strip()
                if not text or text.startswith(":") or text.lower().startswith("rem ") or text == "@echo off":
                    pc += 1
                    continue
                parts, pc = self.logical(pc)
                self.execute_lines(parts, args)
            return 0
        except Exit as e:
            return e.code

    def execute_lines(self, parts, args):
        first = self.expand(parts[0].strip(), args)
        if len(parts) == 1:
            self.command(first, args)
            return
        body = [self.expand(p.strip(), args) for p in parts[1:-1]]
        head = first[:-1].rstrip()
        self.compound(head, body, args)

    def compound(self, head, body, args):
        """`if … (` or `for … do (` with its block."""
        def block():
            i = 0
            while i < len(body):
                line = body[i]
                if line.endswith("("):
                    depth, j = 1, i + 1
                    while depth:
                        if body[j] == ")":
                            depth -= 1
                        elif body[j].endswith("("):
                            depth += 1
                        j += 1
                    self.compound(line[:-1].rstrip(), body[i + 1:j - 1], args)
                    i = j
                else:
                    self.command(line, args)
                    i += 1
        if head.lower().startswith("if "):
            if self.condition(head[3:])[0]:
                block()
        elif head.lower().startswith("for "):
            self.for_loop(head, lambda subst: [self.compound_sub(subst, body, args)])
        else:
            raise ValueError(head)

    def compound_sub(self, subst, body, args):
        lines = [subst(b) for b in body]
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.endswith("("):
                depth, j = 1, i + 1
                while depth:
                    if lines[j] == ")":
                        depth -= 1
                    elif lines[j].endswith("("):
                        depth += 1
                    j += 1
                self.compound(line[:-1].rstrip(), lines[i + 1:j - 1], args)
                i = j
            else:
                self.command(line, args)
                i += 1

    # ---- FOR ----------------------------------------------------------------------------------
    def for_loop(self, head, each):
        # After percent expansion a script's %%A is %A.
        m = re.match(r'for\s+/f\s+"([^"]*)"\s+%([A-Za-z])\s+in\s+\((.*)\)\s*do\s*$', head, re.I) or \
            re.match(r'for\s+/f\s+"([^"]*)"\s+%([A-Za-z])\s+in\s+\((.*)\)\s+do\s+(.*)$', head, re.I)
        if m:
            opts, var, source = m.group(1), m.group(2), m.group(3).strip()
            tail = m.group(4) if m.lastindex and m.lastindex >= 4 else None
            if source.startswith("'"):
                text = self.capture(source[1:-1])
                rows = text.replace("\r\n", "\n").split("\n")
            else:
                rows = [source[1:-1]]
            # eol: "Specifies an end of line character (just one character)", by default `;`: a line
            # whose first token starts with it is skipped (Microsoft, "for"; dbenham's notes above).
            tokens, delims, eol = "1", " \t", ";"
            for o in re.findall(r"(tokens|delims|eol)=([^ ]*)", opts):
                if o[0] == "tokens":
                    tokens = o[1]
                elif o[0] == "eol":
                    eol = o[1][:1]
                else:
                    delims = o[1] if o[1] else ""
            for row in rows:
                if not row:
                    continue
                if eol and (row.lstrip(delims) if delims else row).startswith(eol):
                    continue
                values = split_tokens(row, tokens, delims)
                if values is None:
                    continue
                names = [chr(ord(var) + k) for k in range(len(values))]
                env = dict(zip(names, values))
                subst = lambda s, env=env: substitute(s, env)
                if tail is not None:
                    self.command(subst(tail), [])
                else:
                    each(subst)
            return
        m = re.match(r'for\s+%([A-Za-z])\s+in\s+\((.*)\)\s+do\s+(.*)$', head, re.I)
        if m:
            var, items, tail = m.group(1), m.group(2).strip(), m.group(3)
            for item in [items]:
                self.command(substitute(tail, {var: item}), [])
            return
        raise ValueError(head)

    # ---- commands -----------------------------------------------------------------------------
    def condition(self, text):
        neg = False
        t = text.strip()
        if t.lower().startswith("not "):
            neg, t = True, t[4:].strip()
        if t.lower().startswith("exist "):
            path, rest = quoted(t[6:].strip())
            ok = os.path.exists(self.host(path))
        else:
            m = re.match(r'"([^"]*)"=="([^"]*)"\s*(.*)$', t)
            ok, rest = m.group(1) == m.group(2), m.group(3)
        return (ok != neg), rest

    def command(self, line, args):
        line = line.strip()
        low = line.lower()
        if low.startswith("if "):
            ok, rest = self.condition(line[3:])
            if ok:
                self.command(rest, args)
            return
        if low.startswith("for "):
            self.for_loop(line, None)
            return
        if low.startswith("setlocal"):
            return
        if low.startswith("set \""):
            name, value = line[5:line.rindex('"')].split("=", 1)
            self.env[name.upper()] = value
            return
        if low.startswith("exit /b"):
            raise Exit(int(line.split()[-1]))
        if low.startswith("call :"):
            label, *rest = split_args(line[5:])
            call_args = [self.expand(a, args) for a in rest]
            self.call(label, call_args)
            return
        cmd, redirects = parse_redirects(line)
        out = self.capture(cmd)
        for target, append in redirects:
            if target.lower() in ("nul", "&1", "&2"):
                continue
            path = self.host(target)
            with open(path, "a" if append else "w", encoding="utf-8", newline="") as f:
                f.write(out)

    def call(self, label, args):
        target = next(i for i, l in enumerate(self.lines) if l.strip().lower() == label.lower())
        sub = Cmd.__new__(Cmd)
        sub.__dict__.update(self.__dict__)
        code = sub.run_from(target + 1, args)
        self.env = sub.env
        return code

    def capture(self, cmd):
        """What a command prints on stdout (stderr redirected with 2>&1 is included by the callers
        that ask for it; the tools here print their errors on stdout for simplicity)."""
        words = split_args(cmd)
        if not words:
            return ""
        prog = words[0].lower()
        m = self.m
        if prog == "echo":
            return cmd.strip()[5:] + "\r\n"
        if prog == "ver":
            return "\r\n" + m["ver"] + "\r\n"
        if prog == "set":
            name = words[1].upper()
            return "".join(f"{k}={v}\r\n" for k, v in sorted(m["env"].items()) if k.upper().startswith(name))
        if prog == "mkdir":
            os.makedirs(self.host(words[1].strip('"')), exist_ok=True)
            return ""
        if prog == "del":
            p = self.host(words[1].strip('"'))
            if os.path.exists(p):
                os.remove(p)
            return ""
        if prog == "findstr":
            needle = re.search(r'/c:"([^"]*)"', cmd).group(1)
            with open(self.script, encoding="utf-8") as f:
                return "".join(l for l in f.read().replace("\r\n", "\n").splitlines(True) if l.startswith(needle)).replace("\n", "\r\n")
        if prog == "schtasks":
            if "/XML" in [w.upper() for w in words]:
                name = words[words.index("/TN") + 1].strip('"')
                return m["tasks_xml"].get(name, "")
            return m["schtasks_csv"]
        if prog == "reg":
            key = words[2].strip('"')
            name = words[4].strip('"')
            return m["reg"].get(f"{key}|{name}", "\r\nERROR: The system was unable to find the specified registry key or value.\r\n")
        if prog == "certutil":
            path = words[2].strip('"')
            algo = words[3] if len(words) > 3 else None
            f = m["files"].get(path)
            if not f:
                return "CertUtil: -hashfile command FAILED: 0x80070002 (WIN32: 2)\r\nCertUtil: The system cannot find the file specified.\r\n"
            if algo:
                digest, label = f["sha256"], "SHA256"
            else:
                digest, label = f["sha1"], "SHA-1"
            spaced = " ".join(digest[i:i + 2] for i in range(0, len(digest), 2))
            return f"{label} hash of file {path}:\r\n{spaced}\r\nCertUtil: -hashfile command completed successfully.\r\n"
        if prog == "eventtriggers":
            return m["eventtriggers"]
        if prog == "sc" and words[1].lower() == "qfailure":
            # sc qfailure of a service that is not installed: error 1060 on stdout (Microsoft,
            # "System Error Codes (1000-1299)": ERROR_SERVICE_DOES_NOT_EXIST 1060).
            return m.get("qfailure", {}).get(words[2].strip('"'), "[SC] OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n\r\n")
        raise ValueError(f"unmodelled command: {cmd}")


def quoted(text):
    assert text.startswith('"'), text
    end = text.index('"', 1)
    return text[1:end], text[end + 1:].strip()


def split_args(text):
    out, cur, q = [], "", False
    for c in text.strip():
        if c == '"':
            q = not q
            cur += c
        elif c in " \t" and not q:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
    if cur:
        out.append(cur)
    return out


def parse_redirects(line):
    """(command without redirections, [(target, append)]), redirections before or after it."""
    redirects = []
    pattern = re.compile(r'\s*(2>&1|1>&2|2>nul|>>|>)\s*("[^"]*"|[^\s"]+)?')
    rest, out = line, ""
    i = 0
    q = False
    while i < len(rest):
        c = rest[i]
        if c == '"':
            q = not q
        if not q and (c == ">" or (c in "12" and rest[i + 1:i + 2] == ">")):
            m = pattern.match(rest, i)
            op, target = m.group(1), m.group(2)
            if op in ("2>&1", "1>&2"):
                pass
            elif op == "2>nul":
                pass
            else:
                redirects.append((target.strip('"'), op == ">>"))
            i = m.end()
            continue
        out += c
        i += 1
    return out.strip(), redirects


def split_tokens(row, tokens, delims):
    if delims:
        parts = [p for p in re.split("[" + re.escape(delims) + "]+", row.lstrip(delims))]
    else:
        parts = [row]
    specs = tokens.split(",")
    rest = specs[-1].endswith("*")
    nums = [int(s.rstrip("*")) for s in specs if s.rstrip("*")]
    values = []
    for n in nums:
        values.append(parts[n - 1] if n - 1 < len(parts) else "")
    if rest:
        # The rest of the line after the last numbered token, delimiters kept.
        last = nums[-1] if nums else 0
        pos, count = 0, 0
        s = row.lstrip(delims) if delims else row
        while count < last and pos < len(s):
            while pos < len(s) and s[pos] not in delims:
                pos += 1
            while pos < len(s) and s[pos] in delims:
                pos += 1
            count += 1
        values.append(s[pos:])
    if not values or values[0] == "":
        return None
    return values


def substitute(text, env):
    def rep(m):
        mod, var = m.group(1), m.group(2)
        if var not in env:
            return m.group(0)
        v = env[var]
        return v.strip('"') if mod else v
    return re.sub(r"%(~)?([A-Za-z])", rep, text)


def main():
    script, machine_path, root = sys.argv[1:4]
    with open(machine_path, encoding="utf-8") as f:
        machine = json.load(f)
    os.makedirs(os.path.join(root, "collect", "windows"), exist_ok=True)
    sys.exit(Cmd(script, machine, root).run([]))


if __name__ == "__main__":
    main()
