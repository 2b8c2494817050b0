#!/usr/bin/env python3
"""Farm timeline: what the generated Windows-side files do together over simulated days.

    farm_timeline.py BUNDLE --arch HOST=x64,HOST=x86 [--then LATER_BUNDLE ...] [--days N]
                     [--seeds S] [--control [no-runonce|value-ids|update]]

Composes, per front end of a built bundle:
- Group Policy: the GPO's Registry preference items (gpo/.../Registry/Registry.xml) applied at
  boot and at every background refresh, with their [MS-GPPREF] semantics (see apply_gpp);
- the alias switcher: scripts/Update-SqlAlias.ps1 executed every interval of its task
  (tasks/<name>.xml <Interval>) by a small interpreter over its tree-sitter-powershell parse
  tree (class PS); only the SQL query (Get-MirrorRole), the event log (Write-AliasEvent) and the
  service restarts are stubbed, because they are .NET calls against other machines;
- the database mirroring principal moving between the partners, and partner outages, at random
  times;
- Windows Update announcing a restart (event 22) at random times: maintenance mode for the
  window of the generated event task (`MaintMode.vbs ON <n>M`), the restart after the
  RebootWarningTimeout Group Policy left in the server's registry (the release's default when none);
- GPO versions (--then): later builds of the site imported over the GPO during the run, each
  while the second partner is principal (mid-failover); a host runs the switcher and applies the
  Registry items of the version it last processed.

Invariants (tests/it/timeline.rs runs this; the controls must break them: --control no-runonce,
the old Update item without FilterRunOnce; --control value-ids, the old run-once id derived from
the value, with a rebuild that changes it):
  I1  within two minutes of a failover, or of a new GPO version reaching a front end, its alias
      (every registry view it has) names the principal exactly as its switcher names it (host,
      instance, port), and it stays there across refreshes until the next failover;
  I2  no Group Policy application (of any version) ever moves an alias away from the principal;
  I6  a registry value an earlier version wrote on a front end and the deployed version no longer
      writes is gone from it once it has applied that version (Delete items; control: the last
      build made without the older bundle);
  I3  every restart (start and end) falls inside a maintenance window;
  I4  a run writes an event only for a switch or when its outcome differs from the host's
      previous run (an outage is logged once, not every minute); a run that ends with the alias
      at the principal, while the principal answers, exits 0;
  I5  no Wow6432Node key ever appears on an x86 server.
Prints the simulated days, hosts, runs and events.

    farm_timeline.py BUNDLE --arch - --wow64 [--control]

runs only the switcher started by a 32-bit PowerShell on 64-bit Windows (see wow64()).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "validators"))
import validate  # noqa: E402

# Group Policy background refresh: "every 90 minutes, with a random offset of 0 to 30 minutes", and
# always at startup (Microsoft, "Group Policy refresh interval for computers",
# https://learn.microsoft.com/en-us/previous-versions/ms813077(v=msdn.10); [MS-GPOD] 4.1 <2>).
# The simulation draws 90 ± 30 (issue 15), which contains the documented 90 + [0, 30].
REFRESH_MIN, REFRESH_SPREAD = 90.0, 30.0
# Minutes a restart takes (shutdown, boot, services up) — sitebundle's RESTART_MINUTES allowance.
RESTART_MAX = 10.0
# Windows Update's restart countdown when no policy value reaches a server (the release default;
# src/families/maint/model.rs os_default_delay).
DEFAULT_DELAY = {"x64": 15, "x86": 5}
WOW = "Wow6432Node"


def fail(msgs):
    for m in msgs:
        print(m)
    sys.exit(1)


# ------------------------------------------------------------------------------ PowerShell

class Exit(Exception):
    def __init__(self, code):
        self.code = code


class Return(Exception):
    def __init__(self, value):
        self.value = value


class Break(Exception):
    pass


class PSError(Exception):
    """A construct the interpreter does not model: the test fails loudly, never guesses."""


class ScriptError(Exception):
    """A terminating error inside the script's world (a cmdlet failing), which its try/catch sees."""


PASS = {"logical_expression", "bitwise_expression", "comparison_expression", "additive_expression",
        "multiplicative_expression", "format_expression", "range_expression", "array_literal_expression",
        "unary_expression", "pipeline", "pipeline_chain", "left_assignment_expression",
        "argument_expression", "logical_argument_expression", "bitwise_argument_expression",
        "comparison_argument_expression", "additive_argument_expression",
        "multiplicative_argument_expression", "format_argument_expression", "range_argument_expression",
        "script_block_body", "script_parameter_default"}


def named(n):
    return [c for c in n.children if c.is_named and c.type != "comment"]


def convert_like(value, like):
    """The right operand converted to the left one's type (about_Comparison_Operators: "the
    right-hand operand is converted to the type of the left-hand operand"); an int that cannot
    take it is an error there, here PSError."""
    if value is None or like is None or isinstance(like, bool):
        return value
    if isinstance(like, str):
        return value if isinstance(value, str) else str(value)
    if isinstance(like, int) and isinstance(value, str):
        try:
            return int(float(value.strip())) if float(value.strip()).is_integer() else float(value.strip())
        except ValueError:
            raise PSError(f"cannot convert {value!r} to a number")
    return value


def compare_scalar(a, op, b):
    """-eq -ne -gt -lt -ge -le on two scalars: b converted to a's type, strings without case."""
    b = convert_like(b, a)
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.lower(), b.lower()
    if op == "-eq":
        return a == b
    if op == "-ne":
        return a != b
    if a is None or b is None:
        raise PSError(f"{op} with $null")
    return {"-gt": a > b, "-lt": a < b, "-ge": a >= b, "-le": a <= b}[op]


def add(a, b):
    """`+` (about_Arithmetic_Operators): the left operand's type decides; a string concatenates the
    right one as text, an array appends, a number adds the right one converted to a number."""
    if isinstance(a, str):
        return a + ("" if b is None else " ".join(map(str, b)) if isinstance(b, list) else str(b))
    if isinstance(a, list):
        return a + (b if isinstance(b, list) else [b])
    if a is None:
        return b
    return a + convert_like(b, a)


class PS:
    """Runs the script's statements on a host; `host` provides the world outside the script."""

    STUBBED = {"Get-MirrorRole", "Write-AliasEvent", "Restart-SharePointServices"}

    def __init__(self, src: bytes):
        self.src = src
        tree = validate._ts_parser("powershell").parse(src)
        if tree.root_node.has_error:
            raise PSError("the script has syntax errors")
        self.root = tree.root_node
        self.functions = {}

    def t(self, n):
        return self.src[n.start_byte:n.end_byte].decode("utf-8")

    # -- running
    def run(self, host, args=None):
        """Runs the script; `args`: the switches it is started with (`whatif`, `verbose`)."""
        args = dict(args or {})
        self.host = host
        self.scopes = [{"true": True, "false": False, "null": None,
                        "whatifpreference": bool(args.pop("whatif", False)),
                        "verbosepreference": "Continue" if args.pop("verbose", False) else "SilentlyContinue",
                        "lastexitcode": 0,
                        # $PSBoundParameters: the parameters given on the command line.
                        "psboundparameters": {k: v for k, v in (args or {}).items()}}]
        self.functions = {}
        try:
            for c in named(self.root):
                if c.type == "param_block":
                    self.bind_params(c, args)
                elif c.type == "statement_list":
                    self.block(c)
        except Exit as e:
            return e.code
        return 0

    def bind_params(self, pb, args, positional=None):
        """Named arguments by name; the positional ones (a function's) in the order the
        parameters are declared (about_Functions: "positional parameters ... in the order in
        which they are declared")."""
        positional = list(positional or [])
        plist = next((c for c in named(pb) if c.type == "parameter_list"), None)
        if plist is None:
            return
        for p in named(plist):
            var = next(c for c in named(p) if c.type == "variable")
            name = self.t(var)[1:]
            default = next((c for c in named(p) if c.type == "script_parameter_default"), None)
            types = [self.t(c) for c in named(p) if c.type == "attribute_list"]
            if name.lower() in args:
                value = args[name.lower()]
            elif positional and not any("[switch]" in x for x in types):
                value = positional.pop(0)
            elif default is not None:
                value = self.eval(default)
            else:
                value = False if any("[switch]" in x for x in types) else None
            if any(x.startswith("[int]") for x in types) and value is not None:
                value = int(value)
            self.scopes[-1][name.lower()] = value

    def block(self, n):
        for s in named(n):
            self.stmt(s)

    def stmt(self, n):
        k = n.type
        if k == "statement_list":
            return self.block(n)
        if k == "function_statement":
            name = self.t(next(c for c in n.children if c.type == "function_name"))
            self.functions[name] = next(c for c in n.children if c.type == "script_block")
            return None
        if k == "if_statement":
            return self.if_(n)
        if k == "foreach_statement":
            return self.foreach(n)
        if k == "try_statement":
            return self.try_(n)
        if k == "flow_control_statement":
            return self.flow(n)
        if k == "pipeline":
            inner = named(n)
            if len(inner) == 1 and inner[0].type == "assignment_expression":
                return self.assign(inner[0])
            return self.eval(n)
        raise PSError(f"statement {k} not modelled: {self.t(n)[:60]}")

    def if_(self, n):
        kids = n.children
        i = 0
        while i < len(kids):
            c = kids[i]
            if c.type in ("if", "elseif"):
                cond = next(x for x in kids[i:] if x.type == "pipeline")
                body = next(x for x in kids[kids.index(cond):] if x.type == "statement_block")
                if self.truthy(self.eval(cond)):
                    return self.block(named(body)[0]) if named(body) else None
                i = kids.index(body) + 1
                continue
            if c.type == "elseif_clauses":
                for e in named(c):
                    cond = next(x for x in e.children if x.type == "pipeline")
                    body = next(x for x in e.children if x.type == "statement_block")
                    if self.truthy(self.eval(cond)):
                        return self.block(named(body)[0]) if named(body) else None
            if c.type == "else_clause":
                body = next(x for x in c.children if x.type == "statement_block")
                return self.block(named(body)[0]) if named(body) else None
            i += 1
        return None

    def foreach(self, n):
        var = self.t(next(c for c in n.children if c.type == "variable"))[1:].lower()
        items = self.eval(next(c for c in n.children if c.type == "pipeline"))
        body = next(c for c in n.children if c.type == "statement_block")
        for item in (items if isinstance(items, list) else [items]):
            self.set(var, item)
            try:
                if named(body):
                    self.block(named(body)[0])
            except Break:
                break

    def try_(self, n):
        body = next(c for c in n.children if c.type == "statement_block")
        catches = next((c for c in n.children if c.type == "catch_clauses"), None)
        fin = next((c for c in n.children if c.type == "finally_clause"), None)
        try:
            if named(body):
                self.block(named(body)[0])
        except ScriptError as e:
            if catches is None:
                raise
            self.set("_", {"exception": {"message": str(e)}})
            blk = next(c for c in named(catches)[0].children if c.type == "statement_block")
            if named(blk):
                self.block(named(blk)[0])
        finally:
            if fin is not None:
                blk = next(c for c in fin.children if c.type == "statement_block")
                if named(blk):
                    self.block(named(blk)[0])

    def flow(self, n):
        word = n.children[0].type
        value = named(n)
        if word == "exit":
            raise Exit(int(self.eval(value[0])) if value else 0)
        if word == "return":
            raise Return(self.eval(value[0]) if value else None)
        if word == "break":
            raise Break()
        if word == "throw":
            # about_Throw: a terminating error whose message is the thrown value, which the
            # enclosing try/catch sees as $_.Exception.Message.
            raise ScriptError(str(self.eval(value[0])) if value else "ScriptHalted")
        raise PSError(f"flow {word}")

    def assign(self, n):
        lhs, op, rhs = n.children[0], n.children[1], n.children[2]
        name = self.t(lhs).strip()
        value = self.eval(rhs)
        if not name.startswith("$") or not re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", name):
            raise PSError(f"assignment to {name} not modelled")
        key = name[1:].lower()
        if self.t(op) == "+=":
            cur = self.get(key)
            value = (cur if isinstance(cur, list) else [cur]) + (value if isinstance(value, list) else [value])
        elif self.t(op) != "=":
            raise PSError(f"operator {self.t(op)}")
        self.set(key, value)

    # -- variables
    def get(self, key):
        if key.startswith("env:"):
            return self.host.env.get(key[4:].upper(), None)
        for s in reversed(self.scopes):
            if key in s:
                return s[key]
        if key == "myinvocation":
            return {"mycommand": {"definition": self.host.script_path}}
        if key == "pscmdlet":
            # $PSCmdlet.ShouldProcess: false under -WhatIf (SupportsShouldProcess).
            return {"shouldprocess": lambda *a: not self.get("whatifpreference")}
        raise PSError(f"variable ${key} is not set (Set-StrictMode -Version Latest)")

    def set(self, key, value):
        self.scopes[-1][key] = value

    @staticmethod
    def truthy(v):
        # about_Booleans: an empty collection is $false, a collection of one item is that item's
        # truth, of two or more $true; an empty string is $false, any other string $true.
        if isinstance(v, list):
            return PS.truthy(v[0]) if len(v) == 1 else len(v) > 1
        return bool(v)

    # -- expressions
    def eval(self, n):
        k = n.type
        kids = named(n)
        if k in PASS and len(kids) == 1 and len(n.children) == 1:
            return self.eval(kids[0])
        if k == "pipeline_chain" and len(kids) == 1:
            return self.eval(kids[0])
        if k == "variable":
            return self.get(self.t(n)[1:].lower())
        if k == "integer_literal":
            return int(self.t(n))
        if k == "string_literal":
            return self.string(n)
        if k == "parenthesized_expression":
            return self.eval(next(c for c in kids if c.type == "pipeline"))
        if k == "array_expression":
            sl = next((c for c in kids if c.type == "statement_list"), None)
            if sl is None:
                return []
            v = self.eval(named(sl)[0])
            return v if isinstance(v, list) else [v]
        if k == "array_literal_expression" and len(kids) > 1:
            return [self.eval(c) for c in kids]
        if k in ("comparison_expression", "comparison_argument_expression"):
            return self.compare(n)
        if k in ("logical_expression", "logical_argument_expression"):
            return self.logical(n)
        if k in ("additive_expression", "additive_argument_expression"):
            a, b = self.eval(kids[0]), self.eval(kids[1])
            if self.t(n.children[1]) != "+":
                raise PSError("only + is modelled")
            return add(a, b)
        if k == "expression_with_unary_operator" and len(n.children) == 1:
            return self.eval(kids[0])
        if k == "expression_with_unary_operator":
            op = self.t(n.children[0])
            v = self.eval(kids[-1])
            if op in ("-not", "!"):
                return not self.truthy(v)
            if op == "-join":
                return "".join(map(str, v))
            if op == "-" and isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v
            raise PSError(f"unary {op}")
        if k in ("multiplicative_expression", "multiplicative_argument_expression"):
            # about_Arithmetic_Operators: * on two numbers (the right converted like +'s).
            a, b = self.eval(kids[0]), self.eval(kids[1])
            if self.t(n.children[1]) != "*" or not isinstance(a, int) or isinstance(a, bool):
                raise PSError("only * on numbers is modelled")
            return a * convert_like(b, a)
        if k == "member_access" and kids[0].type == "type_literal":
            # A static property, e.g. [System.StringComparison]::OrdinalIgnoreCase.
            return self.t(kids[0]) + "::" + self.t(kids[-1])
        if k == "member_access":
            obj = self.eval(kids[0])
            member = kids[-1]
            mname = self.eval(named(member)[0]) if named(member) and named(member)[0].type == "variable" \
                else self.t(member)
            return self.member(obj, mname)
        if k == "element_access":
            return self.eval(kids[0])[int(self.eval(kids[1]))]
        if k == "invokation_expression":
            return self.invoke(n)
        if k == "cast_expression":
            return self.cast(self.t(kids[0]).lower(), self.eval(kids[1]))
        if k == "type_literal":
            return ("type", self.t(n))
        if k == "command":
            return self.command(n)
        if k in PASS and len(kids) == 1:
            return self.eval(kids[0])
        raise PSError(f"expression {k} not modelled: {self.t(n)[:60]}")

    @staticmethod
    def cast(ty, v):
        if True:
            if ty == "[string]":
                return "" if v is None else str(v)
            if ty == "[int]":
                return int(v)
            if ty == "[void]":
                return None
            raise PSError(f"cast {ty}")

    def string(self, n):
        raw = self.t(n)
        if raw.startswith("'"):
            return raw[1:-1].replace("''", "'")
        if raw.startswith('"'):
            # about_Quoting_Rules: in a double-quoted string "variable names preceded by a dollar sign
            # ($) are replaced with the variable's value"; subexpressions and escapes are not modelled.
            body = raw[1:-1]
            if "$(" in body or "`" in body:
                raise PSError(f"double-quoted string {raw[:30]}")

            def var(m):
                name = m.group(1).lower()
                if name.startswith("env:"):
                    return self.host.env.get(name[4:].upper(), "")
                v = self.get(name)
                return " ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else str(v))
            return re.sub(r"\$((?:env:)?[A-Za-z_][A-Za-z0-9_]*)", var, body)
        raise PSError(f"string {raw[:30]}")

    def compare(self, n):
        kids = n.children
        a = self.eval(kids[0])
        op = self.t(kids[1]).lower()
        b = self.eval(kids[2])
        if op == "-join":
            return b.join(map(str, a))
        if op == "-is":
            return False
        if op in ("-match", "-notmatch") and not isinstance(a, str):
            raise PSError(f"{op} on {a!r}")
        if op in ("-match", "-notmatch"):
            # about_Comparison_Operators: -match is a .NET regular expression, case-insensitive;
            # on a scalar it fills the automatic variable $Matches (0: the whole match, then the
            # groups by number) when it matches. Python's re agrees on the patterns used here
            # (anchors, classes, counted repetition, groups).
            m = re.search(str(b), a, re.IGNORECASE)
            if m:
                self.set("matches", {i: g for i, g in enumerate([m.group(0), *m.groups()])})
            return bool(m) == (op == "-match")
        if op not in ("-eq", "-ne", "-gt", "-lt", "-ge", "-le"):
            raise PSError(f"comparison {op}")
        # about_Comparison_Operators: with a collection on the left the operator returns the
        # matching items; otherwise a Boolean.
        if isinstance(a, list):
            return [x for x in a if compare_scalar(x, op, b)]
        return compare_scalar(a, op, b)

    def logical(self, n):
        kids = n.children
        left = self.eval(kids[0])
        op = self.t(kids[1]).lower()
        if op == "-and":
            return self.truthy(left) and self.truthy(self.eval(kids[2]))
        if op == "-or":
            return self.truthy(left) or self.truthy(self.eval(kids[2]))
        raise PSError(f"logical {op}")

    def member(self, obj, name):
        if isinstance(obj, list) and name.lower() == "count":
            return len(obj)
        if isinstance(obj, dict) and name.lower() == "keys" and "keys" not in obj:
            return list(obj.keys())  # a dictionary's Keys ($PSBoundParameters)
        if isinstance(obj, dict):
            for key, v in obj.items():
                if key.lower() == name.lower():
                    return v
            raise PSError(f"no member {name}")
        raise PSError(f"member {name} of {type(obj).__name__}")

    def args(self, n):
        al = next((c for c in named(n) if c.type == "argument_list"), None)
        if al is None:
            return []
        ael = named(al)
        return [self.eval(a) for a in named(ael[0])] if ael else []

    def invoke(self, n):
        kids = named(n)
        target, member = kids[0], kids[1]
        args = self.args(n)
        mname = self.t(member)
        if target.type == "type_literal":
            ty = self.t(target).lower()
            if ty == "[string]" and mname == "Equals":
                a, b = args[0], args[1]
                return a.lower() == b.lower() if "ignorecase" in str(args[2]).lower() else a == b
            if ty == "[system.stringcomparison]":
                return mname
            raise PSError(f"static {ty}::{mname}")
        obj = self.eval(target)
        if isinstance(obj, str):
            if mname == "StartsWith":
                ic = len(args) > 1 and "ignorecase" in str(args[1]).lower()
                return obj.lower().startswith(args[0].lower()) if ic else obj.startswith(args[0])
            if mname == "Substring":
                return obj[args[0]:]
            if mname == "Trim":
                return obj.strip()
            if mname == "ToUpperInvariant":
                # .NET String.ToUpperInvariant: upper case by the invariant culture (ASCII here).
                return obj.upper()
            if mname == "Replace":
                return obj.replace(args[0], args[1])
        if isinstance(obj, dict):
            fn = self.member(obj, mname)
            if callable(fn):
                return fn(*args)
        raise PSError(f"method {mname} on {type(obj).__name__}")

    def command(self, n):
        if any(c.type == "command_invokation_operator" for c in n.children):
            return self.native(n)
        name = self.t(next(c for c in n.children if c.type == "command_name"))
        elems = next((c for c in n.children if c.type == "command_elements"), None)
        named_args, positional, flag = {}, [], None
        if elems is not None:
            for e in named(elems):
                if e.type == "command_argument_sep":
                    continue
                if e.type == "command_parameter":
                    if flag is not None:
                        named_args[flag] = True
                    flag = self.t(e)[1:].rstrip(":").lower()
                    continue
                v = self.t(e) if e.type == "generic_token" else self.eval(e)
                if flag is not None:
                    named_args[flag] = v
                    flag = None
                else:
                    positional.append(v)
            if flag is not None:
                named_args[flag] = True
        if name in self.functions and name not in self.STUBBED:
            return self.call(name, named_args, positional)
        try:
            return self.host.cmdlet(name, named_args, positional)
        except ScriptError:
            # A cmdlet's error is non-terminating: it is written and the command outputs nothing,
            # unless -ErrorAction (or $ErrorActionPreference) is Stop, which makes it terminating
            # (about_Preference_Variables, $ErrorActionPreference; about_CommonParameters).
            pref = next((sc["erroractionpreference"] for sc in reversed(self.scopes)
                         if "erroractionpreference" in sc), "Continue")
            if str(named_args.get("erroraction", pref)).lower() == "stop":
                raise
            return None

    def native(self, n):
        """`& $program $arguments`: runs a program (arrays spread into arguments, as PowerShell passes
        them to a native program); $LASTEXITCODE is its exit code."""
        expr = next(c for c in n.children if c.type == "command_name_expr")
        text = self.t(expr)
        if not re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", text):
            raise PSError(f"call operator with {text}")
        program = self.get(text[1:].lower())
        elems = next((c for c in n.children if c.type == "command_elements"), None)
        argv = []
        for e in named(elems) if elems is not None else []:
            if e.type == "command_argument_sep":
                continue
            # about_Parsing, argument mode: a bare word is a string.
            v = self.t(e) if e.type == "generic_token" else self.eval(e)
            argv.extend(v if isinstance(v, list) else [v])
        self.scopes[0]["lastexitcode"] = self.host.run_program(program, argv, self)
        return None

    def call(self, name, args, positional=()):
        sb = self.functions[name]
        self.scopes.append({})
        try:
            for c in named(sb):
                if c.type == "param_block":
                    self.bind_params(c, args, list(positional))
            body = next((c for c in named(sb) if c.type == "script_block_body"), None)
            if body is not None:
                self.block(named(body)[0])
            return None
        except Return as r:
            return r.value
        finally:
            self.scopes.pop()


# ------------------------------------------------------------------------------ the world

class Host:
    """One front end: its registry, files, event log, and the cmdlets the script calls."""

    def __init__(self, name, arch, sim):
        self.name, self.arch, self.sim = name, arch, sim
        self.registry = {}          # key path (no hive, case-folded) -> {value name (case-folded): data}
        self.files = {}
        self.events = []            # (time, id)
        self.runonce = set()        # FilterRunOnce ids already applied ([MS-GPPREF] 2.2.1.22)
        self.env = {"PROCESSOR_ARCHITECTURE": "AMD64" if arch == "x64" else "x86",
                    "SYSTEMROOT": r"C:\WINDOWS"}
        self.script_path = r"C:\localscripts\Update-SqlAlias.ps1"
        self.programs = []          # (program, arguments) the script started
        self.output = []            # what Write-Output printed
        self.sysnative = True       # %SystemRoot%\SysNative exists (2003 x64: only with KB942589)
        self.up = True
        self.last_outcome = None

    # registry paths: 'HKLM:\SOFTWARE\...' from the script, 'SOFTWARE\...' from the GPO
    def key(self, path):
        p = path.split(":\\", 1)[-1] if path.upper().startswith("HKLM:") else path
        k = p.strip("\\").lower()
        # A 32-bit process on 64-bit Windows (PROCESSOR_ARCHITEW6432 set) sees HKLM\SOFTWARE
        # redirected to HKLM\SOFTWARE\Wow6432Node; a path already under Wow6432Node stays there
        # (Microsoft, "Registry Redirector", learn.microsoft.com/windows/win32/winprog64/registry-redirector).
        if self.env.get("PROCESSOR_ARCHITEW6432") == "AMD64" and k.startswith("software\\") \
                and not k.startswith("software\\wow6432node"):
            k = "software\\wow6432node\\" + k[len("software\\"):]
        return k

    def run_program(self, program, argv, ps):
        """A native program the script starts. Only the 64-bit Windows PowerShell through SysNative
        is modelled: it exists for a 32-bit process on 64-bit Windows when `sysnative` is set
        (Microsoft, "File System Redirector"), and runs the same script in a 64-bit process."""
        self.programs.append((program, argv))
        sysnative = self.env["SYSTEMROOT"] + r"\SysNative\WindowsPowerShell\v1.0\powershell.exe"
        if program.lower() != sysnative.lower() or not self.sysnative:
            raise PSError(f"program {program} not modelled")
        if argv[:6] != ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", self.script_path]:
            raise PSError(f"64-bit PowerShell started with {argv}")
        switches = {a[1:].lower(): True for a in argv[6:]}
        if set(switches) - {"whatif", "verbose"}:
            raise PSError(f"arguments {argv[6:]}")
        saved = dict(self.env)
        self.env = {"PROCESSOR_ARCHITECTURE": "AMD64", "SYSTEMROOT": saved["SYSTEMROOT"]}
        try:
            return PS(ps.src).run(self, switches)
        finally:
            self.env = saved

    def read(self, key, name):
        return self.registry.get(self.key(key), {}).get(name.lower())

    def write(self, key, name, value):
        k = self.key(key)
        if WOW.lower() in k and self.arch == "x86":
            # I5: a 32-bit Windows has no such view; a write there is the bug the arch key prevents.
            self.sim.violation("I5", self.name, f"Wow6432Node key written on an x86 server: {key}")
        self.registry.setdefault(k, {})[name.lower()] = value

    def cmdlet(self, name, a, pos):
        n = name.lower()
        if n == "get-itemproperty":
            v = self.read(a["path"], a["name"])
            if v is None:  # an error, non-terminating unless -ErrorAction Stop (PS.command)
                raise ScriptError(f"Property {a['name']} does not exist at path {a['path']}.")
            return {a["name"]: v}
        if n == "set-itemproperty":
            self.write(a["path"], a["name"], a["value"])
            return None
        if n == "test-path":
            p = a["path"]
            if p.lower() == (self.env["SYSTEMROOT"] + r"\SysNative\WindowsPowerShell\v1.0\powershell.exe").lower():
                # SysNative is visible to 32-bit processes on 64-bit Windows only (Microsoft, "File
                # System Redirector").
                return self.sysnative and self.env.get("PROCESSOR_ARCHITEW6432") == "AMD64"
            return p in self.files if not p.upper().startswith("HKLM:") else self.key(p) in self.registry
        if n == "new-item":
            self.registry.setdefault(self.key(a["path"]), {})
            return {"path": a["path"]}
        if n == "get-content":
            if a["path"] not in self.files:
                raise ScriptError(f"Cannot find path '{a['path']}'")
            return self.files[a["path"]]
        if n == "set-content":
            self.files[a["path"]] = a["value"]
            return None
        if n == "split-path":
            # `Split-Path -Parent <path>`: the parser binds the path to -Parent.
            return a["parent"].rsplit("\\", 1)[0]
        if n == "join-path":
            return pos[0] + "\\" + pos[1]
        if n == "write-output":
            self.output.append(pos[0] if pos else None)
            return None
        if n in ("write-verbose", "write-warning", "set-strictmode"):
            return None
        if n == "get-mirrorrole":
            return self.sim.role_seen_by(self, a["server"])
        if n == "write-aliasevent":
            self.events.append((self.sim.now, int(a["eventid"])))
            return None
        if n == "restart-sharepointservices":
            self.sim.cycles += 1
            return None
        raise PSError(f"cmdlet {name} not modelled")

    def alias_views(self, alias):
        keys = [r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"]
        if self.arch == "x64":
            keys.append(r"SOFTWARE\Wow6432Node\Microsoft\MSSQLServer\Client\ConnectTo")
        return [self.read(k, alias) for k in keys]


def apply_gpp(host, items):
    """Applies the Registry preference items to one host, as the Group Policy Preferences client
    does at each (foreground or background) processing:
    - item-level targeting ([MS-GPPREF] 2.2.1.22): the FilterComputer (NETBIOS name) filters of
      the item's collection, OR-ed, decide whether the item applies to this computer;
    - FilterRunOnce ([MS-GPPREF] 2.2.1.22): the client records the id and applies an item with
      that id once, skipping it at later processing;
    - action ([MS-GPPREF] 2.2.1.17, Registry Properties @action C|R|U|D; GPMC "Configure a
      Registry Item" / Set-GPPrefRegistryValue -Action): Create writes the value only when it does
      not exist, Replace deletes and writes it again, Update writes it (creating it if missing),
      Delete removes it.
    removePolicy ("remove this item when it is no longer applied") acts only when the GPO or item
    leaves the scope, which the timeline does not do."""
    for it in items:
        if host.name.lower() not in it["computers"]:
            continue
        if it["runonce"] is not None:
            if it["runonce"] in host.runonce:
                continue
        k = host.key(it["key"])
        exists = it["name"].lower() in host.registry.get(k, {})
        if it["action"] == "C":
            if not exists:
                host.write(it["key"], it["name"], it["value"])
        elif it["action"] in ("R", "U"):
            host.write(it["key"], it["name"], it["value"])
        elif it["action"] == "D":
            host.registry.get(k, {}).pop(it["name"].lower(), None)
        if it["runonce"] is not None:
            host.runonce.add(it["runonce"])


def read_gpp(bundle, control):
    """The Registry items of a bundle's GPO. `control`: None (as generated); "no-runonce" (the
    old Update item without FilterRunOnce); "value-ids" (the old id derivation: the run-once id
    follows the value, and the item updates); "update" (the generated ids, but action U: the id
    alone must keep the alias)."""
    path = next((os.path.join(d, f) for d, _, fs in os.walk(os.path.join(bundle, "gpo"))
                 for f in fs if f == "Registry.xml"), None)
    if path is None:
        fail(["the bundle has no GPO Registry preferences"])
    root = ET.parse(path).getroot()
    items = []
    for reg in root.iter("Registry"):
        props = reg.find("Properties")
        runonce = reg.find(".//FilterRunOnce")
        item = {
            "action": props.get("action"),
            "key": props.get("key"),
            "name": props.get("name"),
            "value": props.get("value") if props.get("type") in ("REG_SZ", None) or props.get("action") == "D"
            else int(props.get("value"), 16),
            "computers": {f.get("name").lower() for f in reg.iter("FilterComputer")},
            "runonce": None if runonce is None else runonce.get("id"),
        }
        if item["runonce"] is not None and control == "no-runonce":
            item["runonce"], item["action"] = None, "U"
        elif item["runonce"] is not None and control == "value-ids":
            item["runonce"] = "value:" + "\n".join((item["key"], item["name"], str(item["value"]))).lower()
            item["action"] = "U"
        elif item["runonce"] is not None and control == "update":
            item["action"] = "U"
        items.append(item)
    return items


def utf(path):
    b = open(path, "rb").read()
    return b.decode("utf-16") if b[:2] in (b"\xff\xfe", b"\xfe\xff") else b.decode("utf-8")


# ------------------------------------------------------------------------------ simulation

def norm(target):
    """A data source as Test-SameTarget compares them: without spaces, case-folded."""
    return target.replace(" ", "").lower()


class Version:
    """One build of the bundle, as a GPO version: its switcher script (copied by the Files item,
    action Replace, at each refresh), the script's partners and its Registry items."""

    def __init__(self, bundle, control):
        self.bundle = bundle
        self.script = PS(open(os.path.join(bundle, "scripts/Update-SqlAlias.ps1"), "rb").read())
        ps = self.script.t(self.script.root)
        self.alias = re.search(r"\[string\]\$Alias = '([^']*)'", ps).group(1)
        self.partners = re.findall(r"'([^']*)'", re.search(r"\[string\[\]\]\$Partners = @\(([^)]*)\)", ps).group(1))
        self.items = read_gpp(bundle, control)


class Sim:
    def __init__(self, bundles, arch, seed, control, days):
        self.rng = random.Random(seed)
        self.days = days
        bundle = bundles[0]
        self.versions = [Version(b, control) for b in bundles]
        manifest = json.load(open(os.path.join(bundle, "manifest.json")))
        files = {f["path"]: f for f in manifest["files"]}
        front = files["scripts/Update-SqlAlias.ps1"]["hosts"]
        self.hosts = [Host(h, arch[h], self) for h in front]
        self.alias = self.versions[0].alias
        if any(v.alias != self.alias or len(v.partners) != len(self.versions[0].partners) for v in self.versions):
            fail(["the versions must keep the alias name and the number of partners"])
        # The GPO version in SYSVOL; each host runs the switcher of the version it last applied.
        self.deployed = 0
        # What each partner listens on: every endpoint a deployed version names (an administrator
        # who changes a port adds the new one beside the old, as SQL Server Configuration Manager
        # allows ("TCP Port: 1433,1434"), until every front end has the new switcher).
        self.endpoints = [{norm(p)} for p in self.versions[0].partners]
        task = utf(os.path.join(bundle, "tasks/Update-SqlAlias.xml"))
        self.interval = int(re.search(r"<Interval>PT(\d+)M</Interval>", task).group(1))
        self.window = {}
        for path, f in files.items():
            if path.startswith("tasks/") and "MaintMode" in path:
                m = re.search(r"ON (\d+)M", utf(os.path.join(bundle, path)))
                for h in f["hosts"]:
                    self.window[h] = int(m.group(1))
        # 2003 servers: the GPO's legacy task runs WUTriggerMaintMode.vbs <n>M, whose event trigger
        # runs MaintMode.vbs ON <n>M.
        tasks_xml = next((os.path.join(d, f) for d, _, fs in os.walk(os.path.join(bundle, "gpo"))
                          for f in fs if f == "ScheduledTasks.xml"), None)
        if tasks_xml is not None:
            for item in ET.parse(tasks_xml).getroot():
                props = item.find("Properties")
                m = re.search(r"WUTriggerMaintMode\.vbs\S* (\d+)M", (props.get("args") or "") if props is not None else "")
                if m:
                    # Every item names its computers (issue 27).
                    names = [f.get("name") for f in item.iter("FilterComputer")]
                    for name in names:
                        self.window.setdefault(name, int(m.group(1)))
        for h in self.hosts:
            if h.name not in self.window:
                fail([f"no maintenance window found for {h.name} in the bundle"])
        self.principal = 0
        self.reachable = [True] * len(self.versions[0].partners)
        self.last_failover = -1e9
        self.now = 0.0
        self.violations = []
        self.cycles = 0
        self.runs = 0
        self.cache = {}
        self.counts = {"failovers": 0, "outages": 0, "refreshes": 0, "restarts": 0, "switches": 0,
                       "deployments": 0}

    def delay_of(self, h):
        """Windows Update's restart countdown on a host: the policy values Group Policy left in its
        registry (RebootWarningTimeoutEnabled = 1 and RebootWarningTimeout), else the release's
        default."""
        au = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU"
        if h.read(au, "RebootWarningTimeoutEnabled") == 1 and h.read(au, "RebootWarningTimeout") is not None:
            return h.read(au, "RebootWarningTimeout")
        return DEFAULT_DELAY[h.arch]

    def violation(self, inv, host, msg):
        self.violations.append(f"{inv} at t={self.now:.2f} min on {host}: {msg}")

    def role_seen_by(self, host, server):
        i = next((i for i, e in enumerate(self.endpoints) if norm(server) in e), None)
        if i is None or not self.reachable[i]:
            return "unreachable"
        return "Primary" if i == self.principal else "Secondary"

    def target(self, h):
        """The alias a host must hold: the principal as the host's switcher names it."""
        return "DBMSSOCN," + self.versions[h.version].partners[self.principal]

    def at_principal(self, value):
        return value is not None and value.startswith("DBMSSOCN,") \
            and norm(value[len("DBMSSOCN,"):]) in self.endpoints[self.principal]

    # One run of the switcher: executed by the interpreter; runs with the same inputs give the
    # same effects (the script reads nothing else), so each distinct input is interpreted once.
    def run_switcher(self, h):
        prior = json.dumps(h.registry, sort_keys=True)
        world = tuple(tuple(sorted(e)) for e in self.endpoints)
        key = (h.arch, h.version, prior, json.dumps(h.files, sort_keys=True), self.principal,
               tuple(self.reachable), world)
        if key not in self.cache:
            before = (json.loads(json.dumps(h.registry)), dict(h.files), len(h.events))
            code = self.versions[h.version].script.run(h)
            self.cache[key] = (json.loads(json.dumps(h.registry)), dict(h.files),
                               [e[1] for e in h.events[before[2]:]], code)
            h.events = h.events[:before[2]]
        reg, files, events, code = self.cache[key]
        if h.arch == "x86" and any(WOW.lower() in k for k in reg):
            self.violation("I5", h.name, "Wow6432Node key on an x86 server")
        changed = json.dumps(reg, sort_keys=True) != prior
        h.registry = json.loads(json.dumps(reg))
        h.files = dict(files)
        h.events.extend((self.now, e) for e in events)
        self.runs += 1
        if changed:
            self.counts["switches"] += 1
        # I4: an event only for a switch or when the outcome (exit code) differs from the last
        # run's on this host, so an outage is logged once, not every minute.
        outcome = 0 if changed else code
        if events and not changed and outcome == h.last_outcome:
            self.violation("I4", h.name, f"event {events} although the outcome (exit {code}) did not change")
        h.last_outcome = outcome
        views = h.alias_views(self.alias)
        if all(v == self.target(h) for v in views) and self.reachable[self.principal] and code != 0:
            self.violation("I4", h.name, f"alias at the reachable principal but exit {code}")
        return code

    def refresh(self, h):
        """Group Policy processing on a host: the deployed version's Files item replaces the
        switcher script (the host now runs that version), its Registry items apply."""
        before = h.alias_views(self.alias)
        if h.version != self.deployed:
            h.version, h.version_since = self.deployed, self.now
        apply_gpp(h, self.versions[self.deployed].items)
        after = h.alias_views(self.alias)
        self.counts["refreshes"] += 1
        # I6: a value an earlier version wrote on this host and the deployed one no longer writes
        # is gone once the host has applied it (the Delete items of a build after the older bundle).
        def written(items):
            return {(it["key"].lower(), it["name"].lower()) for it in items
                    if it["action"] != "D" and h.name.lower() in it["computers"]}
        current = written(self.versions[self.deployed].items)
        for k in range(self.deployed):
            for key, name in sorted(written(self.versions[k].items) - current):
                if h.read(key, name) is not None:
                    self.violation("I6", h.name, f"retired value {key}\\{name} still there after "
                                                 f"version {self.deployed + 1} applied")
        for b, a in zip(before, after):
            if self.at_principal(b) and a != b:
                self.violation("I2", h.name, f"Group Policy (version {self.deployed + 1}) moved the alias "
                                             f"from the principal {b} to {a}")

    def check_alias(self):
        if self.now < self.last_failover + 2 or not self.reachable[self.principal]:
            return
        for h in self.hosts:
            if not h.up or self.now < h.booted + 2 or self.now < h.version_since + 2:
                continue
            views = h.alias_views(self.alias)
            if any(v != self.target(h) for v in views):
                self.violation("I1", h.name, f"alias {views} is not the principal {self.target(h)} "
                                             f"{self.now - max(self.last_failover, h.version_since):.1f} min after "
                                             f"the failover or the GPO version {h.version + 1}")

    def deploy(self, k):
        """A rebuilt bundle imported over the GPO: SQL Server already listens on the endpoints it
        names; the hosts pick it up at their next Group Policy processing."""
        self.deployed = k
        for i, p in enumerate(self.versions[k].partners):
            self.endpoints[i].add(norm(p))
        self.counts["deployments"] += 1

    def simulate(self):
        end = self.days * 1440.0
        ev = []  # (time, order, kind, host index)
        for i, h in enumerate(self.hosts):
            h.booted, h.version, h.version_since = 0.0, 0, 0.0
            ev.append((0.0, 0, "boot", i))
            ev.append((self.rng.uniform(60, 1440), 3, "wu22", i))
        ev.append((self.rng.expovariate(1 / 240), 2, "failover", -1))
        ev.append((self.rng.expovariate(1 / 600), 2, "outage", -1))
        # Later versions are deployed at even intervals, each while the second partner is the
        # principal (mid-failover): the alias then names a partner the GPO's initial value does not.
        for k in range(1, len(self.versions)):
            ev.append((end * k / len(self.versions) + self.rng.uniform(0, 60), 2, f"deploy{k}", -1))
        t = 0.0
        while t <= end:
            ev.append((t, 4, "tick", -1))
            t += self.interval
        ev.sort()
        import heapq
        heapq.heapify(ev)
        while ev:
            self.now, _, kind, i = heapq.heappop(ev)
            if self.now > end:
                break
            h = self.hosts[i] if i >= 0 else None
            if kind == "boot":
                h.up, h.booted = True, self.now
                self.refresh(h)  # foreground processing at startup
                heapq.heappush(ev, (self.now + REFRESH_MIN + self.rng.uniform(-REFRESH_SPREAD, REFRESH_SPREAD),
                                    1, f"refresh@{self.now}", i))
            elif kind.startswith("refresh@"):
                if h.up and kind == f"refresh@{h.booted}":
                    self.refresh(h)
                    heapq.heappush(ev, (self.now + REFRESH_MIN + self.rng.uniform(-REFRESH_SPREAD, REFRESH_SPREAD),
                                        1, kind, i))
            elif kind.startswith("deploy"):
                if self.principal == 0 or not all(self.reachable):
                    # Fail over first (or wait for the outage to end), then deploy a few minutes later.
                    if self.principal == 0 and all(self.reachable):
                        self.principal, self.last_failover = 1, self.now
                        self.counts["failovers"] += 1
                    heapq.heappush(ev, (self.now + 5, 2, kind, -1))
                else:
                    self.deploy(int(kind[len("deploy"):]))
            elif kind == "failover":
                self.principal = 1 - self.principal
                self.last_failover = self.now
                self.counts["failovers"] += 1
                heapq.heappush(ev, (self.now + self.rng.expovariate(1 / 240), 2, "failover", -1))
            elif kind == "outage":
                who = self.rng.choice([[0], [1], [0, 1]])
                for p in who:
                    self.reachable[p] = False
                self.counts["outages"] += 1
                length = self.rng.uniform(3, 45)
                heapq.heappush(ev, (self.now + length, 2, "recover", -1))
            elif kind == "recover":
                self.reachable = [True] * len(self.reachable)
                self.last_failover = max(self.last_failover, self.now)
                heapq.heappush(ev, (self.now + self.rng.expovariate(1 / 600), 2, "outage", -1))
            elif kind == "wu22":
                if h.up:
                    window_end = self.now + self.window[h.name]
                    start = self.now + self.delay_of(h)
                    stop = start + self.rng.uniform(2, RESTART_MAX)
                    if stop > window_end:
                        self.violation("I3", h.name, f"restart {start:.1f}-{stop:.1f} outside the window "
                                                     f"{self.now:.1f}-{window_end:.1f}")
                    heapq.heappush(ev, (start, 0, "down", i))
                    heapq.heappush(ev, (stop, 0, "boot", i))
                    self.counts["restarts"] += 1
                heapq.heappush(ev, (self.now + self.rng.uniform(360, 1440), 3, "wu22", i))
            elif kind == "down":
                h.up = False
            elif kind == "tick":
                for h2 in self.hosts:
                    if h2.up:
                        self.run_switcher(h2)
                self.check_alias()
            if kind in ("refresh", "boot") or kind.startswith("refresh@"):
                self.check_alias()
        return self.violations


def wow64(bundle, control):
    """The switcher started by a 32-bit PowerShell on 64-bit Windows (PROCESSOR_ARCHITECTURE x86,
    PROCESSOR_ARCHITEW6432 AMD64: Microsoft, "WOW64 Implementation Details"), where HKLM\SOFTWARE is
    redirected to Wow6432Node. With the principal on the second partner and the alias at the
    first in both views, each case must end as stated; --control runs the same cases on the script
    without its relaunch block (the old switcher), which must fail the second case."""
    manifest = json.load(open(os.path.join(bundle, "manifest.json")))
    front = next(f for f in manifest["files"] if f["path"] == "scripts/Update-SqlAlias.ps1")["hosts"]
    sim = Sim([bundle], {h: "x64" for h in front}, 0, None, 1)
    version = sim.versions[0]
    script = version.script
    if control:
        src = script.src.decode("utf-8")
        start = src.index("if ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64') {\r\n    $native")
        end = src.index("    exit $LASTEXITCODE\r\n}\r\n", start) + len("    exit $LASTEXITCODE\r\n}\r\n")
        script = PS((src[:start] + src[end:]).encode("utf-8"))
    sim.principal = 1
    want = "DBMSSOCN," + version.partners[1]
    first = "DBMSSOCN," + version.partners[0]
    native64 = {"PROCESSOR_ARCHITECTURE": "AMD64", "SYSTEMROOT": r"C:\WINDOWS"}
    wow = {"PROCESSOR_ARCHITECTURE": "x86", "PROCESSOR_ARCHITEW6432": "AMD64", "SYSTEMROOT": r"C:\WINDOWS"}
    errs = []
    cases = [
        # (label, host arch, process environment, SysNative exists, switches, exit, alias after)
        ("64-bit process on x64", "x64", native64, True, {}, 0, want),
        ("32-bit process on x64: relaunched in the 64-bit PowerShell", "x64", wow, True, {}, 0, want),
        ("32-bit process on x64, -WhatIf passed on", "x64", wow, True, {"whatif": True}, 0, first),
        ("32-bit process on x64 without SysNative (2003 x64 without KB942589)", "x64", wow, False, {}, 5, first),
        ("32-bit process on x64 given -Database", "x64", wow, True, {"database": "X"}, 5, first),
        ("32-bit Windows", "x86", {"PROCESSOR_ARCHITECTURE": "x86", "SYSTEMROOT": r"C:\WINDOWS"}, True, {}, 0, want),
    ]
    for label, arch, env, sysnative, switches, code, after in cases:
        h = Host(front[0], arch, sim)
        h.version = 0
        h.env = dict(native64 if arch == "x64" else env)
        for key in (["SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo"]
                    + (["SOFTWARE\\Wow6432Node\\Microsoft\\MSSQLServer\\Client\\ConnectTo"] if arch == "x64" else [])):
            h.write(key, version.alias, first)
        h.env, h.sysnative = dict(env), sysnative
        got = script.run(h, switches)
        h.env = dict(native64 if arch == "x64" else env)
        views = h.alias_views(version.alias)
        relaunched = [p for p, _ in h.programs]
        if got != code or any(v != after for v in views):
            errs.append(f"{label}: exit {got} (expected {code}), alias views {views} (expected {after}), "
                        f"programs {relaunched}, output {h.output}")
        if env is wow and code == 0 and len(relaunched) != 1:
            errs.append(f"{label}: started {relaunched}, expected one 64-bit PowerShell")
        if code == 5 and not any(o and "32-bit" in o for o in h.output):
            errs.append(f"{label}: exit 5 without a message: {h.output}")
    print(f"wow64: {len(cases)} cases, {len(errs)} failed")
    for e in errs:
        print("W64: " + e)
    if errs:
        sys.exit(1)
    print("the switcher writes the 64-bit alias from a 32-bit process or exits 5 with a message")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--arch", required=True)
    ap.add_argument("--days", type=float, default=float(os.environ.get("SITEBUNDLE_TIMELINE_DAYS", "3")))
    ap.add_argument("--seeds", type=int, default=int(os.environ.get("SITEBUNDLE_TIMELINE_SEEDS", "4")))
    ap.add_argument("--control", nargs="?", const="no-runonce", default=None,
                    choices=["no-runonce", "value-ids", "update"])
    ap.add_argument("--then", action="append", default=[],
                    help="a later build of the site, deployed over the GPO during the run (repeatable, in order)")
    ap.add_argument("--wow64", action="store_true",
                    help="only the 32-bit-process cases of the switcher (with --control: the old switcher)")
    a = ap.parse_args()
    if a.wow64:
        return wow64(a.bundle, a.control)
    arch = dict(x.split("=") for x in a.arch.split(","))
    total = {"days": 0.0, "runs": 0, "events": 0, "interpreted": 0}
    counts = {}
    violations = []
    for seed in range(a.seeds):
        sim = Sim([a.bundle] + a.then, arch, seed, a.control, a.days)
        violations += sim.simulate()
        total["days"] += a.days
        total["runs"] += sim.runs
        total["events"] += sum(len(h.events) for h in sim.hosts)
        total["interpreted"] += len(sim.cache)
        for k, v in sim.counts.items():
            counts[k] = counts.get(k, 0) + v
    print(f"simulated {total['days']:g} days on {len(sim.hosts)} front ends ({a.seeds} seeds): "
          f"{total['runs']} switcher runs ({total['interpreted']} distinct inputs interpreted), "
          f"{counts['refreshes']} Group Policy applications, {counts['failovers']} failovers, "
          f"{counts['outages']} outages, {counts['restarts']} Windows Update restarts, "
          f"{counts['deployments']} GPO versions deployed, "
          f"{counts['switches']} switches, {total['events']} switcher events")
    by = {}
    for v in violations:
        by.setdefault(v.split()[0], []).append(v)
    for inv, vs in sorted(by.items()):
        print(f"{inv}: {len(vs)} violations, first: {vs[0]}")
    if violations:
        sys.exit(1)
    print("invariants held: I1, I2, I3, I4, I5" + (", I6" if a.then else ""))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:  # an interpreter or simulator bug, not a violation: exit 3
        import traceback
        traceback.print_exc()
        sys.exit(3)
