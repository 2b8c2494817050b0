#!/usr/bin/env python3
"""Offline validators for the artifacts that sitebundle generates.

Usage:
    python validate.py [--xsd PATH] [--marker WORD] FILE_OR_DIR...

Every file named on the command line, and every file found by walking the named
directories, is checked by a parser for its format, chosen by extension, all in this one
process (sqlfluff takes about a second to start, so tests should call this script once per
batch of files, not once per file). For each file one JSON object is printed on stdout:

    {"path": ..., "kind": ..., "ok": true|false, "errors": ["line:col: message", ...]}

followed by a summary line `validate: N passed, M failed`. Exit status: 0 when every file
passed, 1 when any failed, 2 on a usage error (bad option, path that does not exist).
Files without a checker are reported with kind "unchecked" and ok true, so the caller can
assert that every artifact it cares about was really checked.

Two checks are done in Rust instead, where a crate or a few lines do them well
(tests/it/checks/, merged into these verdicts by tests/it/common.rs): `.reg` files (the
Registry Editor 5.00 format and its marker rule; reported here as "unchecked") and the AS3
declaration against F5's JSON Schema (as3.json is parsed and marker-checked here, kind "as3").

`--marker WORD` adds the hostile-input safety check (ARCHITECTURE.md, escaping rule): wherever WORD
occurs in a file it must sit in a data position of the parse tree (string literal,
quoted identifier, XML text or attribute value, comment...), never in code. The exact
rule per format is documented on each checker below.

Requirements: requirements.txt beside this file; `tclsh` (8.6) on PATH for .tcl/.conf. The
Task Scheduler XSD defaults to the repository's tests/schemas/task-scheduler.xsd.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

# The schemas live in the repository (tests/schemas/).
DEFAULT_XSD = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas", "task-scheduler.xsd")
)
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
MAX_ERRORS_PER_FILE = 50  # keep reports readable when a file is badly broken

UTF8_BOM = b"\xef\xbb\xbf"
UTF16LE_BOM = b"\xff\xfe"
UTF16BE_BOM = b"\xfe\xff"


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    """Outcome of validating one file."""

    path: str
    kind: str
    errors: list[str] = field(default_factory=list)

    def error(self, msg: str, line: int | None = None, col: int | None = None) -> None:
        if line is not None:
            msg = f"{line}:{col}: {msg}" if col is not None else f"{line}: {msg}"
        if msg in self.errors:
            return  # the same finding reached by two paths (e.g. oneOf branches)
        if len(self.errors) == MAX_ERRORS_PER_FILE:
            self.errors.append("(further errors suppressed)")
        if len(self.errors) > MAX_ERRORS_PER_FILE:
            return
        self.errors.append(msg)

    def to_json(self) -> str:
        return json.dumps(
            {"path": self.path, "kind": self.kind, "ok": not self.errors, "errors": self.errors}
        )


class LineIndex:
    """Maps character offsets in a text to 1-based (line, column)."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def marker_spans(text: str, marker: str | None) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of the marker in text (case-sensitive)."""
    if not marker:
        return []
    return [(m.start(), m.end()) for m in re.finditer(re.escape(marker), text)]


def check_line_endings(res: Result, text: str, what: str) -> None:
    """Require CRLF throughout: every LF preceded by CR, and no CR on its own."""
    idx = None
    for m in re.finditer(r"\r\n|\n|\r", text):
        if m.group() != "\r\n":
            idx = idx or LineIndex(text)
            line, _ = idx.pos(m.start())
            kind = "LF without CR" if m.group() == "\n" else "CR without LF"
            res.error(f"{what} must use CRLF line endings: {kind}", line)
            return  # one report is enough; the generator gets it wrong everywhere or nowhere


def decode_utf8(res: Result, data: bytes, allow_bom: bool = True) -> str | None:
    if data.startswith(UTF8_BOM):
        if not allow_bom:
            res.error("file starts with a UTF-8 BOM")
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        res.error(f"not valid UTF-8 at byte {e.start}")
        return None


def _ts_col(src: bytes, point) -> tuple[int, int]:
    """1-based line and character column of a tree-sitter point (which counts bytes)."""
    row, col = point
    start = 0
    for _ in range(row):
        start = src.index(b"\n", start) + 1
    return row + 1, len(src[start : start + col].decode("utf-8", "replace")) + 1


def byte_pos(src: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset in UTF-8 source."""
    start = src.rfind(b"\n", 0, offset) + 1
    return src.count(b"\n", 0, offset) + 1, len(src[start:offset].decode("utf-8", "replace")) + 1


def ts_walk(root):
    """Iterative pre-order walk of a tree-sitter tree (no recursion-depth limit)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def ts_syntax_errors(res: Result, root, src: bytes) -> None:
    """Report every ERROR and MISSING node of a tree-sitter tree with line:col."""
    for node in ts_walk(root):
        if node.type == "ERROR":
            line, col = _ts_col(src, node.start_point)
            snippet = src[node.start_byte : node.end_byte][:40].decode("utf-8", "replace")
            res.error(f"syntax error near {snippet!r}", line, col)
        elif node.is_missing:
            line, col = _ts_col(src, node.start_point)
            res.error(f"missing {node.type!r}", line, col)


# --------------------------------------------------------------------------------------
# T-SQL (sqlfluff, dialect tsql)
# --------------------------------------------------------------------------------------
#
# A .sql file is a sqlcmd script: GO lines separate batches, lines starting with ':' are
# sqlcmd commands. Both are handled here; each batch is parsed by sqlfluff in-process.
# sqlfluff's tsql lexer does not know two things T-SQL allows, so the text is normalised
# first without changing any offset (see _normalise_tsql).
#
# Beyond "parses", three checks catch what sqlfluff lets through:
#  * a bare word where a statement may start (`PRINT 1 oops;`) is read by sqlfluff as a
#    procedure call without EXEC; SQL Server allows that only as a batch's first statement.
#  * boolean contexts (IF, WHILE, WHERE, HAVING, ON, searched CASE WHEN) must contain a
#    predicate: sqlfluff's grammar takes any expression there, so the original write-up's lost
#    operator `WHILE (@@fetch_status  -1)` parses as arithmetic; SQL Server rejects it.
#  * string literals that SQL Server executes later (sp_add_jobstep/sp_update_jobstep
#    @command with the TSQL subsystem, sp_executesql's statement, EXEC (N'...')) are
#    unescaped and parsed as T-SQL too, and the marker rule applies inside them.
#
# Marker rule: every occurrence must be inside a string literal, a quoted identifier
# ([..] or "..") or a comment; inside dynamic SQL (above) the same holds one level down;
# never on a sqlcmd command line, and never inside a sqlcmd variable reference $(...).

_SQLCMD_LINE = re.compile(r"^[ \t]*(?::|!!)", re.M)
_SQLCMD_COMMANDS = {
    "on", "setvar", "r", "connect", "out", "error", "exit", "quit", "reset", "ed",
    "list", "listvar", "serverlist", "xml", "perftrace", "help",
}
_GO_LINE = re.compile(r"^[ \t]*go(?:[ \t]+\d+)?[ \t]*\r?$", re.I | re.M)
_PREDICATE_KEYWORDS = {"EXISTS", "IN", "LIKE", "BETWEEN", "IS"}
_PREDICATE_FUNCTIONS = {"UPDATE", "CONTAINS", "FREETEXT"}
_DATA_SQL_TYPES = ("quoted_literal", "quoted_identifier", "comment")
_JOBSTEP_PROCS = {"sp_add_jobstep", "sp_update_jobstep"}
# sqlfluff 4.5 parses `ALTER DATABASE x SET PARTNER FAILOVER` as ALTER .. SET PARTNER plus a
# procedure call `FAILOVER`; these one-word mirroring actions are let through.
_PARTNER_ACTIONS = {"FAILOVER", "RESUME", "SUSPEND", "FORCE_SERVICE_ALLOW_DATA_LOSS"}

_sql_linter = None


def _tsql_linter():
    """One sqlfluff Linter for the whole run (its start-up is the slow part)."""
    global _sql_linter
    if _sql_linter is None:
        from sqlfluff.core import FluffConfig, Linter

        _sql_linter = Linter(
            config=FluffConfig(
                overrides={
                    "dialect": "tsql",
                    # The default templater is Jinja: it would render `{{ }}` and `{% %}`
                    # inside string literals. We validate the bytes as they are.
                    "templater": "raw",
                    # The CLI silently skips files over 20,000 bytes unless this is 0.
                    "large_file_skip_byte_limit": 0,
                    # sqlfluff gives up on a batch of more than 100,000 parse nodes
                    # (about 150 KB of T-SQL); generated input is trusted, so no limit.
                    "max_parse_nodes": 0,
                }
            )
        )
    return _sql_linter


def _normalise_tsql(text: str) -> str:
    """Rewrite what sqlfluff's lexer cannot read, keeping every offset unchanged.

    Follows T-SQL's own lexing (strings '..' with '', comments -- and nested /* */,
    identifiers [..] with ]] and ".." with "") so that nothing inside a string literal
    or comment is touched. Inside a [bracketed] identifier, `]]` becomes `__` and `[`
    becomes `_` (sqlfluff's lexer accepts neither); inside a "quoted" identifier a
    backslash becomes `_` (sqlfluff reads backslash as an escape there, T-SQL does not).
    """
    out = list(text)
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "-" and nxt == "-":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            i += 1
            while i < n:
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif c == "[":
            j = i + 1
            while j < n:
                if text[j] == "]":
                    if j + 1 < n and text[j + 1] == "]":
                        out[j] = out[j + 1] = "_"
                        j += 2
                        continue
                    break
                if text[j] == "[":
                    out[j] = "_"
                j += 1
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                if text[j] == "\\":
                    out[j] = "_"
                j += 1
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _sql_batches(text: str) -> list[tuple[int, str]]:
    """Split on sqlcmd GO lines: (offset of the batch in the file, batch text)."""
    batches, start = [], 0
    for m in _GO_LINE.finditer(text):
        batches.append((start, text[start : m.start()]))
        start = m.end()
    batches.append((start, text[start:]))
    return batches


def _sql_leaves(tree):
    """(start, end, segment) of every raw (leaf) segment, offsets within the batch."""
    for seg in tree.raw_segments:
        sl = seg.pos_marker.source_slice
        if sl.stop > sl.start:  # skip zero-length meta segments (indent/dedent)
            yield sl.start, sl.stop, seg


def _code_children(seg):
    return [c for c in seg.segments if c.is_code]


def _has_predicate(seg) -> bool:
    """Does an expression chunk contain a comparison or a predicate keyword?

    Descends into nested expressions and parentheses, not into subqueries, function
    arguments or CASE expressions (a comparison there does not make the outer
    expression boolean).
    """
    if seg.is_type("comparison_operator"):
        return True
    if seg.is_type("keyword") and seg.raw.upper() in _PREDICATE_KEYWORDS:
        return True
    if seg.is_type("function"):
        name = next((c for c in seg.segments if c.is_type("function_name")), None)
        return bool(name and name.raw.upper() in _PREDICATE_FUNCTIONS)
    if seg.is_type("expression", "bracketed"):
        return any(_has_predicate(c) for c in seg.segments)
    return False


def _condition_ok(expr) -> bool:
    """Each operand of top-level AND/OR in a condition must carry a predicate."""
    if expr.is_type("bracketed"):
        inner = _code_children(expr)
        inner = [c for c in inner if not c.is_type("start_bracket", "end_bracket")]
        if len(inner) == 1 and inner[0].is_type("expression"):
            return _condition_ok(inner[0])
    chunks, cur = [], []
    for c in _code_children(expr) if expr.is_type("expression") else [expr]:
        if c.is_type("binary_operator") and c.raw.upper() in ("AND", "OR"):
            chunks.append(cur)
            cur = []
        else:
            cur.append(c)
    chunks.append(cur)
    for chunk in chunks:
        if any(_has_predicate(c) for c in chunk):
            continue
        # `NOT (a = 1 OR b = 2)`, `(a = 1)`: look inside the single parenthesised operand.
        rest = [c for c in chunk if not (c.is_type("keyword") and c.raw.upper() == "NOT")]
        if len(rest) == 1 and rest[0].is_type("bracketed", "expression"):
            if _condition_ok(rest[0]):
                continue
        return False
    return True


def _conditions(tree):
    """Yield the condition expressions of IF, WHILE, WHERE, HAVING, ON, CASE WHEN."""
    for seg in tree.recursive_crawl(
        "if_clause", "while_statement", "where_clause", "having_clause",
        "join_on_condition", "case_expression",
    ):
        if seg.is_type("case_expression"):
            kids = _code_children(seg)
            # A simple CASE (`CASE x WHEN 1 ...`) compares values; only a searched CASE
            # (`CASE WHEN cond ...`) has boolean WHEN conditions.
            if len(kids) > 1 and kids[1].is_type("when_clause"):
                for when in (k for k in kids if k.is_type("when_clause")):
                    expr = next((c for c in when.segments if c.is_type("expression")), None)
                    if expr is not None:
                        yield expr
            continue
        expr = next((c for c in seg.segments if c.is_type("expression")), None)
        if expr is not None:
            yield expr


def _dynamic_sql_literals(tree):
    """Yield string literal segments whose content SQL Server will execute as T-SQL."""
    for stmt in tree.recursive_crawl("execute_script_statement"):
        kids = _code_children(stmt)
        obj = next((k for k in kids if k.is_type("object_reference")), None)
        proc = ""
        if obj is not None:
            parts = [s.raw.strip("[]\"").lower() for s in obj.raw_segments if s.is_code]
            proc = parts[-1] if parts else ""
        leaves = [s for s in stmt.raw_segments if s.is_code]
        named = {}  # parameter name -> literal segment (only single-literal values)
        for i, leaf in enumerate(leaves):
            if leaf.is_type("parameter") and i + 2 < len(leaves) and leaves[i + 1].raw == "=":
                value = leaves[i + 2]
                after = leaves[i + 3] if i + 3 < len(leaves) else None
                if value.is_type("quoted_literal") and (after is None or after.raw in (",", ";")):
                    named[leaf.raw.lower()] = value
        if proc in _JOBSTEP_PROCS:
            subsystem = named.get("@subsystem")
            if subsystem is None or _unquote_sql(subsystem.raw).upper() == "TSQL":
                if "@command" in named:
                    yield named["@command"]
        elif proc == "sp_executesql":
            if "@stmt" in named:
                yield named["@stmt"]
            elif obj is not None:
                # positional first argument: the first literal right after the name
                rest = leaves[leaves.index(obj.raw_segments[-1]) + 1 :]
                if rest and rest[0].is_type("quoted_literal") and (
                    len(rest) == 1 or rest[1].raw in (",", ";")
                ):
                    yield rest[0]
        elif obj is None:
            # EXEC ( N'...' ) with a single literal
            inner = [l for l in leaves if l.raw not in ("(", ")") and not l.is_type("keyword")]
            if len(inner) == 1 and inner[0].is_type("quoted_literal"):
                yield inner[0]


def _unquote_sql(raw: str) -> str:
    body = raw[1:] if raw[:1] in "Nn" else raw
    return body[1:-1].replace("''", "'")


# --------------------------------------------------------------------------------------
# Availability group statements: a grammar of our own, because sqlfluff has none
# --------------------------------------------------------------------------------------
#
# sqlfluff 4.5.0 (dialect tsql) cannot parse these statements. `sqlfluff parse --dialect tsql`
# reports CREATE AVAILABILITY GROUP ... REPLICA ON ..., ALTER AVAILABILITY GROUP [ag] ADD LISTENER
# / JOIN / ADD DATABASE / FAILOVER / FORCE_FAILOVER_ALLOW_DATA_LOSS and ALTER DATABASE [db] SET HADR
# AVAILABILITY GROUP = [ag] as "unparsable", and it reads SET HADR SUSPEND / RESUME wrongly, as
# ALTER DATABASE .. SET HADR followed by a procedure call SUSPEND (docs/modern-targets.md 6.5; the
# test AG_SQLFLUFF_FAILS in tests/validators/test_validate.py shows it on this sqlfluff). So each batch
# is scanned for them first: every CREATE AVAILABILITY GROUP, ALTER AVAILABILITY GROUP and ALTER
# DATABASE .. SET HADR is parsed here by a recursive-descent parser of exactly the forms sitebundle
# generates, written from Microsoft's syntax (CREATE AVAILABILITY GROUP (Transact-SQL), ALTER
# AVAILABILITY GROUP (Transact-SQL), ALTER DATABASE (Transact-SQL) SET HADR: MicrosoftDocs/sql-docs,
# quoted in docs/modern-targets.md 6.1), and then replaced, keeping every offset and line, by
# `PRINT 0;` so that sqlfluff parses the IF / BEGIN / END around it and the rest of the batch.
# Anything outside these forms fails (an unknown option, a missing comma or parenthesis, a missing
# `;`, a duplicate or missing replica option, automatic failover on an asynchronous replica). The
# marker rule holds inside them: a marker must lie inside a string literal or a [quoted] identifier.
#
#   create  := CREATE AVAILABILITY GROUP name [WITH ( agopt {, agopt} )]
#              FOR DATABASE name {, name} REPLICA ON replica {, replica} ;
#   agopt   := AUTOMATED_BACKUP_PREFERENCE = (PRIMARY|SECONDARY_ONLY|SECONDARY|NONE)
#            | FAILURE_CONDITION_LEVEL = 1..5 | HEALTH_CHECK_TIMEOUT = number
#   replica := string WITH ( ropt {, ropt} )   -- ENDPOINT_URL, AVAILABILITY_MODE, FAILOVER_MODE required
#   ropt    := ENDPOINT_URL = 'TCP://host:port' | AVAILABILITY_MODE = (SYNCHRONOUS_COMMIT|ASYNCHRONOUS_COMMIT)
#            | FAILOVER_MODE = (AUTOMATIC|MANUAL) | BACKUP_PRIORITY = 0..100 | SESSION_TIMEOUT = number
#   alter   := ALTER AVAILABILITY GROUP name ( JOIN | FAILOVER | FORCE_FAILOVER_ALLOW_DATA_LOSS
#              | (ADD|REMOVE) DATABASE name | ADD LISTENER string ( WITH IP ( ip {, ip} ) [, PORT = 1..65535] ) ) ;
#   ip      := ( 'a.b.c.d' , 'mask' )
#   hadr    := ALTER DATABASE name SET HADR ( AVAILABILITY GROUP = name | OFF | SUSPEND | RESUME ) ;

_AG_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<comment>--[^\n]*|/\*.*?\*/)|(?P<str>[Nn]?'(?:[^']|'')*')"
    r"|(?P<ident>\[(?:[^\]]|\]\])*\])|(?P<word>[A-Za-z_@#][\w@$#]*)|(?P<num>\d+)"
    r"|(?P<punct>[(),;=.])|(?P<other>.)",
    re.S,
)
_AG_RESERVED = {
    "CREATE", "ALTER", "AVAILABILITY", "GROUP", "WITH", "FOR", "DATABASE", "REPLICA", "ON",
    "SET", "HADR", "ADD", "REMOVE", "LISTENER", "JOIN", "FAILOVER", "IP", "PORT", "OFF",
    "FORCE_FAILOVER_ALLOW_DATA_LOSS", "SUSPEND", "RESUME", "BEGIN", "END", "IF", "ELSE",
}
_AG_STARTS = (("CREATE", "AVAILABILITY", "GROUP"), ("ALTER", "AVAILABILITY", "GROUP"))
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_ENDPOINT_URL = re.compile(r"^TCP://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:(\d{1,5})$")


class _AgError(Exception):
    def __init__(self, msg, tok):
        super().__init__(msg)
        self.tok = tok


def _ag_tokens(text):
    """(kind, text, start, end) of every token outside whitespace and comments."""
    out = []
    for m in _AG_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), m.start(), m.end()))
    return out


class _AgParser:
    def __init__(self, toks, i):
        self.toks, self.i = toks, i

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "", -1, -1)

    def fail(self, what):
        tok = self.peek()
        got = repr(tok[1]) if tok[0] != "eof" else "the end of the batch"
        raise _AgError(f"expected {what}, found {got}", tok)

    def word(self, *words):
        tok = self.peek()
        if tok[0] == "word" and tok[1].upper() in words:
            self.i += 1
            return tok[1].upper()
        self.fail(" or ".join(words))

    def is_word(self, *words):
        tok = self.peek()
        return tok[0] == "word" and tok[1].upper() in words

    def punct(self, p):
        tok = self.peek()
        if tok[0] == "punct" and tok[1] == p:
            self.i += 1
            return
        self.fail(repr(p))

    def is_punct(self, p):
        tok = self.peek()
        return tok[0] == "punct" and tok[1] == p

    def name(self):
        tok = self.peek()
        if tok[0] == "ident" or (tok[0] == "word" and tok[1].upper() not in _AG_RESERVED
                                 and not tok[1].startswith(("@", "#"))):
            self.i += 1
            return tok[1]
        self.fail("a name")

    def string(self):
        tok = self.peek()
        if tok[0] == "str":
            self.i += 1
            return _unquote_sql(tok[1])
        self.fail("a string literal")

    def number(self, lo, hi):
        tok = self.peek()
        if tok[0] == "num" and lo <= int(tok[1]) <= hi:
            self.i += 1
            return int(tok[1])
        self.fail(f"a number from {lo} to {hi}")

    def listed(self, item):
        """item {, item}"""
        out = [item()]
        while self.is_punct(","):
            self.i += 1
            out.append(item())
        return out

    # -- statements -----------------------------------------------------------------
    def statement(self):
        if self.is_word("CREATE"):
            self.create()
        elif self.peek(1)[1].upper() == "AVAILABILITY":
            self.alter_ag()
        else:
            self.set_hadr()
        self.punct(";")

    def create(self):
        self.word("CREATE"), self.word("AVAILABILITY"), self.word("GROUP"), self.name()
        if self.is_word("WITH"):
            self.word("WITH")
            self.punct("(")
            self.options(self.ag_option)
            self.punct(")")
        self.word("FOR"), self.word("DATABASE")
        self.listed(self.name)
        self.word("REPLICA"), self.word("ON")
        self.listed(self.replica)

    def options(self, one):
        seen = set()
        for key in self.listed(one):
            if key in seen:
                raise _AgError(f"{key} is given twice", self.toks[self.i - 1])
            seen.add(key)
        return seen

    def ag_option(self):
        key = self.word("AUTOMATED_BACKUP_PREFERENCE", "FAILURE_CONDITION_LEVEL",
                        "HEALTH_CHECK_TIMEOUT")
        self.punct("=")
        if key == "AUTOMATED_BACKUP_PREFERENCE":
            self.word("PRIMARY", "SECONDARY_ONLY", "SECONDARY", "NONE")
        elif key == "FAILURE_CONDITION_LEVEL":
            self.number(1, 5)
        else:
            self.number(1, 2**31 - 1)
        return key

    def replica(self):
        start = self.peek()
        self.string()
        self.word("WITH")
        self.punct("(")
        self.modes = {}
        seen = self.options(self.replica_option)
        self.punct(")")
        missing = {"ENDPOINT_URL", "AVAILABILITY_MODE", "FAILOVER_MODE"} - seen
        if missing:
            raise _AgError(f"replica without {', '.join(sorted(missing))}", start)
        if self.modes["FAILOVER_MODE"] == "AUTOMATIC" and \
                self.modes["AVAILABILITY_MODE"] != "SYNCHRONOUS_COMMIT":
            raise _AgError("FAILOVER_MODE = AUTOMATIC needs AVAILABILITY_MODE = "
                           "SYNCHRONOUS_COMMIT", start)

    def replica_option(self):
        key = self.word("ENDPOINT_URL", "AVAILABILITY_MODE", "FAILOVER_MODE",
                        "BACKUP_PRIORITY", "SESSION_TIMEOUT")
        self.punct("=")
        if key == "ENDPOINT_URL":
            tok = self.peek()
            m = _ENDPOINT_URL.match(self.string())
            if not m or not 1 <= int(m.group(2)) <= 65535:
                raise _AgError("ENDPOINT_URL is not 'TCP://system-address:port'", tok)
        elif key == "AVAILABILITY_MODE":
            self.modes[key] = self.word("SYNCHRONOUS_COMMIT", "ASYNCHRONOUS_COMMIT")
        elif key == "FAILOVER_MODE":
            self.modes[key] = self.word("AUTOMATIC", "MANUAL")
        elif key == "BACKUP_PRIORITY":
            self.number(0, 100)
        else:
            self.number(5, 2**31 - 1)
        return key

    def alter_ag(self):
        self.word("ALTER"), self.word("AVAILABILITY"), self.word("GROUP"), self.name()
        action = self.word("JOIN", "FAILOVER", "FORCE_FAILOVER_ALLOW_DATA_LOSS", "ADD", "REMOVE")
        if action == "REMOVE" or (action == "ADD" and self.is_word("DATABASE")):
            self.word("DATABASE")
            self.name()
        elif action == "ADD":
            self.word("LISTENER")
            self.string()
            self.punct("(")
            self.word("WITH"), self.word("IP")
            self.punct("(")
            self.listed(self.ip_pair)
            self.punct(")")
            if self.is_punct(","):
                self.punct(",")
                self.word("PORT")
                self.punct("=")
                self.number(1, 65535)
            self.punct(")")

    def ip_pair(self):
        self.punct("(")
        for what in ("an IPv4 address", "a subnet mask"):
            tok = self.peek()
            if not _IPV4.match(self.string()):
                raise _AgError(f"{what} expected in the listener's WITH IP", tok)
            if what == "an IPv4 address":
                self.punct(",")
        self.punct(")")

    def set_hadr(self):
        self.word("ALTER"), self.word("DATABASE"), self.name()
        self.word("SET"), self.word("HADR")
        if self.is_word("AVAILABILITY"):
            self.word("AVAILABILITY"), self.word("GROUP")
            self.punct("=")
            self.name()
        else:
            self.word("OFF", "SUSPEND", "RESUME")


def _ag_statement_at(toks, i):
    words = tuple(t[1].upper() if t[0] == "word" else None for t in toks[i : i + 5])
    if words[:3] in _AG_STARTS:
        return True
    return (len(words) == 5 and words[:2] == ("ALTER", "DATABASE") and words[3:] == ("SET", "HADR")
            and toks[i + 2][0] in ("ident", "word"))


def _ag_statements(res, batch, report, marker):
    """Check and take out the AG statements of one batch (see above); the batch for sqlfluff.

    report(msg, offset_in_batch): reports an error at that place.
    """
    toks = _ag_tokens(batch)
    out = list(batch)
    i = 0
    while i < len(toks):
        if not _ag_statement_at(toks, i):
            i += 1
            continue
        parser = _AgParser(toks, i)
        try:
            parser.statement()
            end = toks[parser.i - 1][3]
        except _AgError as e:
            report(f"availability group statement: {e}", e.tok[2] if e.tok[2] >= 0 else
                   toks[i][2])
            j = next((k for k in range(i, len(toks)) if toks[k][1] == ";"), len(toks) - 1)
            parser.i, end = j + 1, toks[j][3]
        start = toks[i][2]
        data = [(s, e) for kind, _, s, e in toks[i : parser.i] if kind in ("str", "ident")]
        for ms, me in marker_spans(batch[start:end], marker):
            if not any(s <= start + ms and start + me <= e for s, e in data):
                report("marker outside a string literal or quoted identifier in an "
                       "availability group statement", start + ms)
        for k in range(start, end):
            if out[k] not in "\r\n":
                out[k] = " "
        if "\n" in batch[start : start + 8] or end - start < 8:
            report("availability group statement: its first line is too short to stand in "
                   "for it (write CREATE/ALTER ... on one line)", start)
        else:
            out[start : start + 8] = list("PRINT 0;")
        i = parser.i
    return "".join(out)


def _check_tsql_text(res, text, marker, base_line=0, where=""):
    """Parse a whole sqlcmd script (or dynamic SQL), reporting with original line numbers."""
    idx = LineIndex(text)
    # sqlcmd command lines: blank them out (keeping offsets) after checking them.
    chars = list(text)
    for m in _SQLCMD_LINE.finditer(text):
        end = text.find("\n", m.start())
        end = len(text) if end < 0 else end
        line_text = text[m.start() : end]
        line, _ = idx.pos(m.start())
        stripped = line_text.strip()
        if where:
            res.error(f"{where}sqlcmd command line inside dynamic SQL", base_line + line)
        elif stripped.startswith("!!"):
            res.error("sqlcmd shell escape (!!) is not allowed", base_line + line)
        else:
            word = re.match(r":\s*(\w*|!!)", stripped).group(1).lower()
            if word not in _SQLCMD_COMMANDS:
                res.error(f"unknown sqlcmd command {stripped[:30]!r}", base_line + line)
        if marker and marker in line_text:
            res.error(f"{where}marker on a sqlcmd command line", base_line + line)
        for k in range(m.start(), end):
            if chars[k] not in "\r\n":
                chars[k] = " "
    # sqlfluff turns CRLF into LF before lexing and reports offsets in that text, so a CR would
    # shift every later offset by one (the marker check would look at the wrong leaf): CR before
    # LF becomes a space, which keeps the offsets and changes no token.
    clean = _normalise_tsql("".join(chars).replace("\r\n", " \n"))
    if marker and not where:  # (dynamic SQL is part of the outer text: checked there)
        for m in re.finditer(r"\$\([^)\r\n]*\)?", text):
            if marker in m.group():
                line, col = idx.pos(m.start())
                res.error(f"{where}marker inside a sqlcmd variable reference $(...)",
                          base_line + line, col)

    linter = _tsql_linter()
    for start, batch in _sql_batches(clean):
        if not batch.strip():
            continue
        line0 = idx.pos(start)[0] - 1  # lines before this batch

        def report(msg, offset, start=start):
            line, col = idx.pos(start + offset)
            res.error(f"{where}{msg}", base_line + line, col)

        batch = _ag_statements(res, batch, report, marker)
        parsed = linter.parse_string(batch)
        for v in parsed.violations:
            line = v.line_no + line0 + base_line if v.line_no else None
            # desc() may repeat the batch-relative position: drop it, we give our own.
            desc = re.sub(r"^Line \d+, Position \d+: ", "", v.desc())
            res.error(f"{where}{desc}", line, v.line_pos if line else None)
        variant = parsed.parsed_variants[0] if parsed.parsed_variants else None
        tree = variant.tree if variant is not None else None
        if tree is None:
            if not parsed.violations:
                res.error(f"{where}sqlfluff produced no parse tree", line0 + base_line + 1)
            continue
        unparsable = list(tree.recursive_crawl("unparsable"))
        if unparsable and not parsed.violations:
            for seg in unparsable:
                res.error(f"{where}unparsable section {seg.raw[:40]!r}",
                          seg.pos_marker.line_no + line0 + base_line, seg.pos_marker.line_pos)
        if unparsable:
            continue  # the semantic checks below need a clean tree
        code_leaves = [l for l in tree.raw_segments if l.is_code]
        previous = {id(b): a for a, b in zip(code_leaves, code_leaves[1:])}
        for stmt in tree.recursive_crawl("execute_script_statement"):
            head = next((l for l in stmt.raw_segments if l.is_code), None)
            if head is None or head.raw.upper() in ("EXEC", "EXECUTE") or head is code_leaves[0]:
                continue
            prev = previous.get(id(head))
            if prev is not None and prev.raw.upper() == "PARTNER" \
                    and head.raw.upper() in _PARTNER_ACTIONS:
                continue  # sqlfluff has no grammar for ALTER DATABASE .. SET PARTNER FAILOVER
            pm = head.pos_marker
            res.error(
                f"{where}bare word {head.raw[:30]!r} read as a procedure call without "
                "EXEC (only valid as the first statement of a batch; lost keyword or "
                "operator?)", pm.line_no + line0 + base_line, pm.line_pos,
            )
        for expr in _conditions(tree):
            if not _condition_ok(expr):
                pm = expr.pos_marker
                res.error(
                    f"{where}condition {expr.raw[:40]!r} has no comparison or predicate "
                    "(lost operator?)", pm.line_no + line0 + base_line, pm.line_pos,
                )
        dynamic = []
        for lit in _dynamic_sql_literals(tree):
            sl = lit.pos_marker.source_slice
            dynamic.append((sl.start, sl.stop))
            lit_line = lit.pos_marker.line_no + line0 + base_line
            # Parse the executed text; its own line numbers are relative to the literal.
            inner = _unquote_sql(lit.raw)
            _check_tsql_text(res, inner, marker, lit_line - 1,
                             where=f"{where}dynamic SQL at line {lit_line}: ")
        if marker:
            _sql_marker_check(res, tree, batch, start, marker, idx, base_line, where, dynamic)


def _sql_marker_check(res, tree, batch, offset, marker, idx, base_line, where, dynamic):
    leaves = list(_sql_leaves(tree))
    starts = [s for s, _, _ in leaves]
    for ms, me in marker_spans(batch, marker):
        if any(ds <= ms and me <= de for ds, de in dynamic):
            continue  # checked one level down, inside the dynamic SQL
        i = bisect.bisect_right(starts, ms) - 1
        ok = False
        if i >= 0:
            s, e, seg = leaves[i]
            ok = me <= e and seg.is_type(*_DATA_SQL_TYPES)
        if not ok:
            line, col = idx.pos(offset + ms)
            what = f"{seg.get_type()} {seg.raw[:30]!r}" if i >= 0 else "code"
            res.error(f"{where}marker outside a string literal, quoted identifier or comment "
                      f"(in {what})", base_line + line, col)


def check_sql(res: Result, data: bytes, marker: str | None) -> None:
    if data.startswith(UTF16LE_BOM):
        try:
            text = data[2:].decode("utf-16-le")
        except UnicodeDecodeError:
            res.error("invalid UTF-16LE")
            return
    else:
        text = decode_utf8(res, data)
        if text is None:
            return
    _check_tsql_text(res, text, marker)


# --------------------------------------------------------------------------------------
# PowerShell (tree-sitter-powershell)
# --------------------------------------------------------------------------------------
#
# Syntax: any ERROR or MISSING node fails. Two checks for what the grammar does not know
# but Windows PowerShell does:
#  * PowerShell treats the typographic quotes U+2018..U+201B as single quotes and
#    U+201C..U+201E as double quotes; tree-sitter reads them as ordinary characters. A
#    single-quoted string whose run of quote characters has odd length therefore ends
#    early in PowerShell (an injection an ASCII-only `'`->`''` escaper misses).
#  * Windows PowerShell 5.1 reads a script without BOM as ANSI (cp1252): UTF-8 bytes of
#    non-ASCII text can then turn into those very quote characters. Non-ASCII content
#    requires a UTF-8 BOM.
#
# Marker rule: inside a verbatim (single-quoted) string or here-string, or a comment.
# Not in an expandable ("...") string, even in its plain text, nor anywhere else.

_PS_SQUOTES = "'\u2018\u2019\u201a\u201b"
_PS_DQUOTES = "\u201c\u201d\u201e"
_PS_DATA = ("verbatim_string_characters", "verbatim_here_string_characters", "comment")
_parsers: dict[str, object] = {}


def _ts_parser(name: str):
    if name not in _parsers:
        from tree_sitter import Language, Parser

        if name == "powershell":
            import tree_sitter_powershell as mod
        else:
            import tree_sitter_batch as mod
        _parsers[name] = Parser(Language(mod.language()))
    return _parsers[name]


def check_ps1(res: Result, data: bytes, marker: str | None) -> None:
    has_bom = data.startswith(UTF8_BOM)
    if data.startswith(UTF16LE_BOM):
        try:
            src = data[2:].decode("utf-16-le").encode("utf-8")
        except UnicodeDecodeError:
            res.error("invalid UTF-16LE")
            return
        has_bom = True
    else:
        src = data[3:] if has_bom else data
        try:
            src.decode("utf-8")
        except UnicodeDecodeError as e:
            res.error(f"not valid UTF-8 at byte {e.start}")
            return
    if not has_bom and any(b > 0x7F for b in src):
        off = next(i for i, b in enumerate(src) if b > 0x7F)
        res.error("non-ASCII text without a UTF-8 BOM (Windows PowerShell 5.1 would read "
                  "it as ANSI)", src.count(b"\n", 0, off) + 1)
    tree = _ts_parser("powershell").parse(src)
    ts_syntax_errors(res, tree.root_node, src)

    for node in ts_walk(tree.root_node):
        if node.type == "verbatim_string_characters":
            body = src[node.start_byte + 1 : node.end_byte - 1].decode("utf-8")
            for m in re.finditer(f"[{_PS_SQUOTES}]+", body):
                if len(m.group()) % 2:
                    line, col = _ts_col(src, node.start_point)
                    res.error("single-quoted string contains an undoubled quote character "
                              f"{m.group()!r} (PowerShell ends the string there)", line, col)
                    break
        elif node.type == "verbatim_here_string_characters":
            body = src[node.start_byte : node.end_byte].decode("utf-8")
            if re.search(f"\n[{_PS_SQUOTES[1:]}]@", body):
                line, col = _ts_col(src, node.start_point)
                res.error("here-string contains a line starting with a typographic quote and "
                          "@ (PowerShell ends the here-string there)", line, col)
        elif node.type in ("expandable_string_literal", "expandable_here_string_literal"):
            body = src[node.start_byte : node.end_byte].decode("utf-8")
            if any(q in body for q in _PS_DQUOTES):
                line, col = _ts_col(src, node.start_point)
                res.error("double-quoted string contains a typographic double quote "
                          "(PowerShell treats it as the closing quote)", line, col)

    if marker:
        bmarker = marker.encode("utf-8")
        pos = src.find(bmarker)
        while pos >= 0:
            node = tree.root_node.descendant_for_byte_range(pos, pos + len(bmarker))
            chain, n = [], node
            while n is not None:
                chain.append(n.type)
                n = n.parent
            if node.type not in _PS_DATA:
                line, col = byte_pos(src, pos)
                inside = next((t for t in chain if t.startswith("expandable")), node.type)
                res.error(f"marker outside a single-quoted string or comment (in {inside})",
                          line, col)
            pos = src.find(bmarker, pos + 1)


# --------------------------------------------------------------------------------------
# Batch (.cmd/.bat, tree-sitter-batch)
# --------------------------------------------------------------------------------------
#
# Syntax: ERROR/MISSING nodes fail; CRLF line endings required (cmd.exe misreads labels
# in LF files); every `goto X` / `call :X` must name a label that exists (the original write-up's
# killProc.bat jumped to labels it never defined).
#
# Marker rule: batch has no safe data position (%...% expansion, ^, &, | work inside
# echo text and quotes), so the marker may only appear in REM / :: comment lines, and
# not between percent signs there either (percent expansion happens before REM).

_GOTO = re.compile(r"^(?:goto\s*:?|call\s+:)\s*([^\s&|<>]+)", re.I)


def check_batch(res: Result, data: bytes, marker: str | None) -> None:
    text = decode_utf8(res, data, allow_bom=False)
    if text is None:
        return
    check_line_endings(res, text, "batch files")
    src = text.encode("utf-8")
    tree = _ts_parser("batch").parse(src)
    ts_syntax_errors(res, tree.root_node, src)

    labels, jumps = set(), []
    for node in ts_walk(tree.root_node):
        raw = src[node.start_byte : node.end_byte].decode("utf-8")
        if node.type == "label":
            labels.add(raw[1:].split()[0].lower() if raw[1:].split() else "")
        elif node.type in ("goto_stmt", "call_stmt"):
            m = _GOTO.match(raw)
            if m and "%" not in m.group(1) and "!" not in m.group(1):
                jumps.append((m.group(1).lower().lstrip(":"), node))
    for target, node in jumps:
        if target != "eof" and target not in labels:
            line, col = _ts_col(src, node.start_point)
            res.error(f"jump to undefined label :{target}", line, col)

    if marker:
        bmarker = marker.encode("utf-8")
        pos = src.find(bmarker)
        while pos >= 0:
            node = tree.root_node.descendant_for_byte_range(pos, pos + len(bmarker))
            line, col = byte_pos(src, pos)
            if node.type != "comment":
                res.error(f"marker outside a REM/:: comment (in {node.type})", line, col)
            else:
                comment = src[node.start_byte : node.end_byte].decode("utf-8")
                if re.search(f"%[^%]*{re.escape(marker)}[^%]*%", comment):
                    res.error("marker inside %...% in a comment (expanded before REM)",
                              line, col)
            pos = src.find(bmarker, pos + 1)


# --------------------------------------------------------------------------------------
# XML (lxml): Task Scheduler XML, SVG, GPP and other XML
# --------------------------------------------------------------------------------------
#
# Encoding: UTF-16 must carry a BOM (the XML spec requires it; libxml2 guesses without
# one), declare encoding="UTF-16" and use CRLF; a UTF-8 file must not declare another
# encoding. Task Scheduler XML (root {task ns}Task) must be UTF-16LE with BOM (what
# `schtasks /create /xml` reliably takes), must validate against the XSD,
# and the text of each EventTrigger Subscription must itself parse as XML.
#
# Marker rule: in element text, attribute values, comments only; never in element,
# attribute or processing-instruction names, nor elsewhere (DOCTYPE). Inside a Task's
# Subscription the same rule applies to the inner QueryList, and in its XPath (Select,
# Suppress) the marker must be inside a quoted XPath literal. In SVG, text of <script>
# and <style> and on* attribute values are code, not data.

_XML_DECL = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']""")
_xsd_cache: dict[str, object] = {}


def _xml_parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


def _xml_decode(res: Result, data: bytes) -> tuple[str | None, str]:
    """Decode per BOM and check the declared encoding. Returns (text, actual encoding)."""
    if data.startswith(UTF16LE_BOM):
        actual, body = "utf-16le", data[2:]
    elif data.startswith(UTF16BE_BOM):
        actual, body = "utf-16be", data[2:]
    elif data.startswith(b"<\x00") or data.startswith(b"\x00<"):
        res.error("UTF-16 without a byte order mark")
        return None, "utf-16"
    else:
        actual, body = "utf-8", data[3:] if data.startswith(UTF8_BOM) else data
    try:
        text = body.decode(actual)
    except UnicodeDecodeError as e:
        res.error(f"not valid {actual} at byte {e.start}")
        return None, actual
    m = _XML_DECL.match(text)
    declared = m.group(1).lower().replace("_", "-") if m else None
    if actual.startswith("utf-16"):
        if declared != "utf-16":
            res.error(f'UTF-16 file must declare encoding="UTF-16" (declares {declared!r})', 1)
        check_line_endings(res, text, "UTF-16 XML")
    elif declared not in (None, "utf-8"):
        res.error(f"file is UTF-8 but declares encoding={m.group(1)!r}", 1)
    return text, actual


def _xml_parse(res: Result, data: bytes, line0: int = 0, where: str = ""):
    from lxml import etree

    try:
        return etree.fromstring(data, _xml_parser()).getroottree()
    except etree.XMLSyntaxError as e:
        line = (e.lineno or 1) + line0
        res.error(f"{where}not well-formed: {e.msg}", line)
        return None


def _xml_marker_check(res, doc, text, marker, where="", svg=False, xpath_tags=(),
                      line0=0, task=False):
    from lxml import etree

    data_hits = name_hits = 0
    root = doc.getroot()
    # the root element plus comments and processing instructions around it
    tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    for el in (node for top in tops for node in top.iter()):
        line = line0 or el.sourceline or None
        if isinstance(el, etree._Entity):
            if marker in el.name:
                name_hits += 1
                res.error(f"{where}marker in an entity reference", line)
        elif isinstance(el, etree._Comment):
            data_hits += (el.text or "").count(marker)
        elif isinstance(el, etree._ProcessingInstruction):
            if marker in el.target:
                name_hits += el.target.count(marker)
                res.error(f"{where}marker in a processing-instruction name", line)
            data_hits += (el.text or "").count(marker)
        else:
            local = etree.QName(el).localname
            if marker in el.tag:
                name_hits += local.count(marker)
                res.error(f"{where}marker in an element name", line)
            for name, value in el.attrib.items():
                if marker in name:
                    name_hits += etree.QName(name).localname.count(marker)
                    res.error(f"{where}marker in an attribute name", line)
                if marker in value:
                    data_hits += value.count(marker)
                    attr = etree.QName(name).localname.lower()
                    if svg and (attr.startswith("on") or (
                            attr == "href" and value.strip().lower().startswith("javascript:"))):
                        res.error(f"{where}marker in SVG script attribute {name}", line)
            for prefix in el.nsmap:
                if prefix and marker in prefix:
                    name_hits += 1
                    res.error(f"{where}marker in a namespace prefix", line)
            if el.text and marker in el.text:
                data_hits += el.text.count(marker)
                if svg and local.lower() in ("script", "style"):
                    res.error(f"{where}marker inside SVG <{local}>", line)
                if local in xpath_tags and not _xpath_marker_quoted(el.text, marker):
                    res.error(f"{where}marker outside a quoted literal in XPath <{local}>",
                              line)
                if task and local == "Arguments" and not _cmdline_marker_quoted(el.text, marker):
                    res.error(f"{where}marker in task <Arguments> outside a double-quoted "
                              "argument, or inside %...%", line)
        if el.tail:
            data_hits += el.tail.count(marker)
    # Occurrences the walk did not see are in the prolog/DOCTYPE: not data.
    raw_hits = text.count(marker)
    if name_hits == 0 and raw_hits > data_hits:
        res.error(f"{where}marker outside element text, attribute values and comments")


def _xpath_marker_quoted(xpath: str, marker: str) -> bool:
    """True when every marker in an XPath expression is inside a '...' or "..." literal."""
    spans, i = [], 0
    while i < len(xpath):
        if xpath[i] in "'\"":
            j = xpath.find(xpath[i], i + 1)
            j = len(xpath) if j < 0 else j
            spans.append((i + 1, j))
            i = j + 1
        else:
            i += 1
    return all(any(s <= ms and me <= e for s, e in spans) for ms, me in marker_spans(xpath, marker))


def _cmd_c_unwrap(cmdline: str) -> str:
    """The command line as cmd.exe sees it after `/c` (or `/s /c`, `/k`): when the text after the
    switch starts with a quote, cmd strips the first and the last quote (`cmd /?`, "old behavior";
    always with /s, and with exactly two quotes unless the quoted text is a plain executable path:
    this checker assumes the stripping then too, the stricter reading). This is the
    `/c ""path of script" arg"` idiom that runs a quoted script path with arguments; `/c "x&y"`
    runs `x&y` unquoted. Other command lines are returned unchanged."""
    m = re.match(r"\s*((?:/[sSqQdD]\s+)*)/[cCkK]\s+", cmdline)
    if not m:
        return cmdline
    rest = cmdline[m.end():]
    if not rest.startswith('"') or rest.count('"') < 2:
        return cmdline
    last = rest.rfind('"')
    return cmdline[: m.end()] + rest[1:last] + rest[last + 1 :]


def _cmdline_marker_quoted(cmdline: str, marker: str) -> bool:
    """True when every marker in a command line is inside a "..." argument and not in a
    %variable% (Task Scheduler expands environment variables in <Arguments>). cmd.exe's
    outer-quote rule for `/c ""..." ..."` is applied first."""
    cmdline = _cmd_c_unwrap(cmdline)
    spans = [(m.start(1), m.end(1)) for m in re.finditer(r'"([^"]*)"', cmdline)]
    for ms, me in marker_spans(cmdline, marker):
        if not any(s <= ms and me <= e for s, e in spans):
            return False
        if cmdline[:ms].count("%") % 2:  # an odd number of % before it: inside %var%
            return False
    return True


def _task_schema(res: Result, xsd_path: str):
    from lxml import etree

    if xsd_path not in _xsd_cache:
        if not os.path.isfile(xsd_path):
            _xsd_cache[xsd_path] = None
        else:
            _xsd_cache[xsd_path] = etree.XMLSchema(etree.parse(xsd_path))
    schema = _xsd_cache[xsd_path]
    if schema is None:
        res.error(f"Task Scheduler XSD not found: {xsd_path}")
    return schema


def check_xml(res: Result, data: bytes, marker: str | None, xsd_path: str) -> None:
    from lxml import etree

    text, actual = _xml_decode(res, data)
    if text is None:
        return
    doc = _xml_parse(res, data)
    if doc is None:
        return
    root = doc.getroot()
    svg = res.kind == "svg"
    xpath_tags = ()
    if root.tag == f"{{{TASK_NS}}}Task":
        res.kind = "task"
        xpath_tags = ("Select", "Suppress")
        if actual != "utf-16le":
            res.error("Task XML must be UTF-16LE with BOM (schtasks /create /xml)")
        schema = _task_schema(res, xsd_path)
        if schema is not None and not schema.validate(doc):
            for err in schema.error_log:
                res.error(f"XSD: {err.message}", err.line)
        for sub in root.iter(f"{{{TASK_NS}}}Subscription"):
            inner_text = sub.text or ""
            where = "Subscription: "
            inner = _xml_parse(res, inner_text.encode("utf-8"), sub.sourceline - 1, where)
            if inner is not None:
                if etree.QName(inner.getroot()).localname != "QueryList":
                    res.error(f"{where}root element is not QueryList", sub.sourceline)
                if marker:
                    _xml_marker_check(res, inner, inner_text, marker, where,
                                      xpath_tags=xpath_tags, line0=sub.sourceline)
    if marker:
        _xml_marker_check(res, doc, text, marker, svg=svg, task=res.kind == "task")


# --------------------------------------------------------------------------------------
# JSON (strict parse) and the marker rule of the AS3 declaration
# --------------------------------------------------------------------------------------
#
# Any .json must parse (strict: no NaN/Infinity, no duplicate keys, no BOM). A file named
# as3.json is reported with kind "as3"; its validation against F5's AS3 JSON Schema is done in
# Rust (tests/it/checks/as3.rs, the jsonschema crate), which adds its errors to this verdict.
#
# Marker rule: only in string values, never in keys.


def _strict_json(text: str):
    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            dup = {k for k in keys if keys.count(k) > 1}
            raise ValueError(f"duplicate key(s) {sorted(dup)}")
        return dict(items)

    def bad_constant(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=pairs, parse_constant=bad_constant)


_AS3_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,189}")


def check_json(res: Result, data: bytes, marker: str | None) -> None:
    text = decode_utf8(res, data, allow_bom=False)
    if text is None:
        return
    try:
        doc = _strict_json(text)
    except json.JSONDecodeError as e:
        res.error(e.msg, e.lineno, e.colno)
        return
    except ValueError as e:
        res.error(str(e))
        return
    if os.path.basename(res.path) == "as3.json":
        res.kind = "as3"  # the schema check is tests/it/checks/as3.rs
    if marker:
        def walk(node, path):
            if isinstance(node, dict):
                for k, v in node.items():
                    # With --marker-names-ok, an AS3 object name (a user-chosen pool or
                    # virtual server name) may be a key when it is a plain AS3 name.
                    if marker in k and not (_MARKER_NAMES_OK and _AS3_NAME.fullmatch(k)):
                        res.error(f"marker in an object key at {path}")
                    walk(v, f"{path}.{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{path}[{i}]")

        walk(doc, "$")


# --------------------------------------------------------------------------------------
# Tcl iRules (.tcl) and tmsh merge files (.conf)
# --------------------------------------------------------------------------------------
#
# Completeness is decided by tclsh itself (`info complete`, one tclsh process for all
# files): the text is cut into top-level commands line by line and an incomplete
# command is reported at the line where it starts. The words of every command are read by
# tclsh too (tcl_scan.tcl, one tclsh for the run, brace/quote/bracket groups ending where
# `info complete` says), which finds what `info complete` accepts but Tcl rejects at run time
# (characters after a close-brace or close-quote, a stray `}`), descending into script bodies.
#
# Marker rule, iRules: the marker must be in a data position, i.e. inside a braced word
# that is passed as data (not the body of when/if/switch/foreach/while/for/proc/catch/
# eval/after, nor an expression), or inside a double-quoted word (not the command name)
# outside any [command] or $variable substitution, or in a comment. Script bodies and
# expressions are scanned recursively by the same rule.
# tmsh (.conf): every braced word is a nested block and is scanned recursively; the
# marker may only sit in a double-quoted word that is not the first word of its line
# (a property value such as description "..."), or in a comment. The body of
# `ltm rule NAME { ... }` is scanned by the iRule rule.

_TCL_SCRIPT = r"""
# Reads file paths from stdin, one per line, and reports for each file the first
# top-level command that `info complete` says is unfinished. Output, one line per file:
# "<index> OK" or "<index> ERR <line> <message>".
set i 0
while {[gets stdin path] >= 0} {
    if {[catch {
        set f [open $path r]
        fconfigure $f -encoding utf-8 -translation auto
        set text [read $f]
        close $f
    } err]} {
        puts "$i ERR 0 [string map {"\n" " "} $err]"
        incr i
        continue
    }
    set cmd ""
    set start 0
    set lineno 0
    foreach line [split $text "\n"] {
        incr lineno
        if {$cmd eq ""} { set start $lineno }
        append cmd $line "\n"
        if {[info complete $cmd]} { set cmd "" }
    }
    if {[string trim $cmd] ne ""} {
        puts "$i ERR $start incomplete command (unbalanced braces, brackets or quotes)"
    } else {
        puts "$i OK"
    }
    incr i
}
"""


def run_tclsh_complete(paths: list[str]) -> dict[int, tuple[int, str] | None]:
    """Run one tclsh over all files: index -> None (complete) or (line, message)."""
    if not paths:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".tcl", delete=False) as f:
        f.write(_TCL_SCRIPT)
        script = f.name
    try:
        out = subprocess.run(
            ["tclsh", script], input="".join(p + "\n" for p in paths),
            capture_output=True, text=True, check=False,
        )
    except FileNotFoundError:
        return {i: (0, "tclsh not found on PATH") for i in range(len(paths))}
    finally:
        os.unlink(script)
    results: dict[int, tuple[int, str] | None] = {}
    for line in out.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 2 and parts[1] == "OK":
            results[int(parts[0])] = None
        elif len(parts) == 4 and parts[1] == "ERR":
            results[int(parts[0])] = (int(parts[2]), parts[3])
    for i in range(len(paths)):
        results.setdefault(i, (0, f"tclsh gave no result: {out.stderr.strip()[:200]}"))
    return results


_TCL_SCAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcl_scan.tcl")
_tcl_scan_proc = None


def _tcl_scan():
    """One tclsh running tcl_scan.tcl for the whole run (started on first use)."""
    global _tcl_scan_proc
    if _tcl_scan_proc is None or _tcl_scan_proc.poll() is not None:
        _tcl_scan_proc = subprocess.Popen(
            ["tclsh", _TCL_SCAN], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    return _tcl_scan_proc


@dataclass
class TclWord:
    kind: str  # "bare", "brace" or "quote"
    start: int  # offset of the first character of the word
    end: int  # offset after the last character
    cstart: int  # content span (without braces/quotes)
    cend: int
    subs: list = field(default_factory=list)  # ("cmd", s, e, commands) / ("var", s, e)

    def content(self, text: str) -> str:
        return text[self.cstart : self.cend]


def _tcl_word(w: dict) -> TclWord:
    subs = [("cmd", s[1], s[2], _tcl_cmds(s[3])) if s[0] == "cmd" else ("var", s[1], s[2])
            for s in w["subs"]]
    return TclWord(w["k"], w["s"], w["e"], w["cs"], w["ce"], subs)


def _tcl_cmds(cmds: list) -> list[list[TclWord]]:
    return [[_tcl_word(w) for w in words] for words in cmds]


class TclScanner:
    """Tcl's word syntax (the dodekalogue), read by tclsh itself (tcl_scan.tcl: every brace,
    quote and bracket group ends where Tcl's parser says, `info complete`): commands, words,
    substitutions and comments with their offsets. It never evaluates anything."""

    def __init__(self, text: str):
        # Tcl 8.6 strings hold 16-bit units: characters beyond U+FFFF (never Tcl syntax) are
        # sent as U+FFFD so that offsets stay character offsets on both sides.
        self.t = text
        self.errors: list[tuple[int, str]] = []  # (offset, message)
        self.comments: list[tuple[int, int]] = []
        sent = re.sub("[\U00010000-\U0010FFFF]", "\uFFFD", text)
        self._call(f"load {len(sent)}", sent)

    def _call(self, request: str, payload: str = "") -> dict:
        p = _tcl_scan()
        p.stdin.write((request + "\n" + payload).encode("utf-8", "surrogatepass"))
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"tcl_scan.tcl stopped (exit {p.wait()})")
        answer = json.loads(line)
        self.errors.extend((o, m) for o, m in answer.get("errors", []))
        self.comments.extend((s, e) for s, e in answer.get("comments", []))
        return answer

    def script(self, i: int, end: int, close: str | None = None):
        """Commands in t[i:end]; stop at an unmatched `close` (for `[...]`)."""
        a = self._call(f"script {i} {end} {close or '-'}")
        return _tcl_cmds(a["r"]), a["next"]

    def list_words(self, i: int, end: int) -> list[TclWord]:
        """t[i:end] as a Tcl list (newlines are plain separators)."""
        return [_tcl_word(w) for w in self._call(f"list {i} {end}")["r"]]

    def word(self, i: int, end: int, close: str | None, in_list: bool | None = False):
        """One word at t[i]. in_list: True for list elements (`;` is ordinary), None inside an
        expression (no check for characters after a close-quote)."""
        assert close is None
        mode = "cmd" if in_list is False else "list" if in_list else "expr"
        a = self._call(f"word {i} {end} {mode}")
        return _tcl_word(a["r"]), a["next"]

    def _subst(self, j: int, end: int, subs: list) -> int:
        """At t[j]: record a [command] or $variable substitution and return the offset
        after it, or j + 1 for an ordinary character."""
        a = self._call(f"subst {j} {end}")
        subs.extend(_tcl_word({"k": "", "s": 0, "e": 0, "cs": 0, "ce": 0, "subs": a["r"]}).subs)
        return a["next"]


# Which arguments of a Tcl/iRule command are scripts ("script") or expressions ("expr").
def _tcl_roles(scanner: TclScanner, words: list[TclWord]) -> list[str]:
    t = scanner.t
    names = [w.content(t) if w.kind != "quote" else None for w in words]
    cmd = names[0]
    roles = ["name"] + ["data"] * (len(words) - 1)
    n = len(words)
    if cmd == "when" and n >= 3:
        roles[-1] = "script"
    elif cmd in ("if", "elseif"):
        i = 1
        while i < n:
            roles[i] = "expr"
            i += 1
            if i < n and names[i] == "then":
                i += 1
            if i < n:
                roles[i] = "script"
                i += 1
            if i < n and names[i] == "elseif":
                i += 1
                continue
            if i < n and names[i] == "else":
                i += 1
            if i < n:
                roles[i] = "script"
            break
    elif cmd == "while" and n == 3:
        roles[1:] = ["expr", "script"]
    elif cmd == "for" and n == 5:
        roles[1:] = ["script", "expr", "script", "script"]
    elif cmd == "foreach" and n >= 4:
        roles[-1] = "script"
    elif cmd == "proc" and n == 4:
        roles[3] = "script"
    elif cmd == "catch" and n >= 2:
        roles[1] = "script"
    elif cmd == "eval":
        roles[1:] = ["script"] * (n - 1)
    elif cmd == "uplevel" and n >= 2:
        roles[-1] = "script"
    elif cmd == "after" and n >= 3 and names[1] not in ("cancel", "info"):
        roles[2:] = ["script"] * (n - 2)
    elif cmd == "expr":
        roles[1:] = ["expr"] * (n - 1)
    elif cmd == "switch":
        i = 1
        while i < n and names[i] and names[i].startswith("-"):
            i += 2 if names[i] in ("-matchvar", "-indexvar") else 1
            if names[i - 1] == "--":
                break
        rest = list(range(i + 1, n))
        if len(rest) == 1:
            roles[rest[0]] = "switch-body"
        else:
            for k, wi in enumerate(rest):
                roles[wi] = "script" if k % 2 else "data"
    return roles


class TclMarkerCheck:
    """Collects the data spans of a Tcl or tmsh text by the rules described above."""

    def __init__(self, text: str, tmsh: bool):
        self.scanner = TclScanner(text)
        self.data: list[tuple[int, int]] = []
        self.tmsh = tmsh

    def run(self):
        cmds, _ = self.scanner.script(0, len(self.scanner.t))
        self._script(cmds, self.tmsh, top=True)
        self.data.extend(self.scanner.comments)

    def _script(self, cmds, tmsh: bool, top: bool = False):
        t = self.scanner.t
        for words in cmds:
            first = words[0]
            if first.kind == "bare" and first.content(t).startswith("}"):
                self.scanner.errors.append((first.start, "unbalanced close-brace"))
            if tmsh:
                is_rule = top and len(words) >= 4 and [w.content(t) for w in words[:2]] == ["ltm", "rule"]
                for i, w in enumerate(words):
                    if w.kind == "brace":
                        if is_rule and i == len(words) - 1:
                            self._script_span(w, tmsh=False)
                        else:
                            self._script_span(w, tmsh=True)
                    else:
                        self._word(w, data=(w.kind == "quote" and i > 0))
                continue
            roles = _tcl_roles(self.scanner, words)
            for w, role in zip(words, roles):
                if role == "name":
                    self._word(w, data=False)
                elif role == "script" and w.kind == "brace":
                    self._script_span(w, tmsh=False)
                elif role == "expr" and w.kind == "brace":
                    self._expr(w.cstart, w.cend)
                elif role == "switch-body" and w.kind == "brace":
                    items = self.scanner.list_words(w.cstart, w.cend)
                    for k, item in enumerate(items):
                        if k % 2 and item.kind == "brace":
                            self._script_span(item, tmsh=False)
                        elif item.kind == "brace":
                            self.data.append((item.cstart, item.cend))
                        elif item.kind == "quote":
                            self._word(item, data=True)
                elif w.kind == "brace":
                    self.data.append((w.cstart, w.cend))  # braces quote: data
                else:
                    # a quoted word is data only as a plain argument; as a script,
                    # expression or switch body its text is evaluated
                    self._word(w, data=(w.kind == "quote" and role == "data"))

    def _script_span(self, w: TclWord, tmsh: bool):
        cmds, _ = self.scanner.script(w.cstart, w.cend)
        self._script(cmds, tmsh)

    def _word(self, w: TclWord, data: bool):
        """Quoted/bare word: literal stretches are data if `data`; recurse into [..]."""
        pos = w.cstart
        for sub in w.subs:
            if data and sub[1] > pos:
                self.data.append((pos, sub[1]))
            if sub[0] == "cmd":
                self._script(sub[3], tmsh=False)
            pos = max(pos, sub[2])
        if data and w.cend > pos:
            self.data.append((pos, w.cend))

    def _expr(self, i: int, end: int):
        """A Tcl expression: "strings" (minus substitutions) and {braced} are data."""
        t, sc = self.scanner.t, self.scanner
        while i < end:
            c = t[i]
            if c in '"{':
                w, i = sc.word(i, end, None, in_list=None)
                if w.kind == "brace":
                    self.data.append((w.cstart, w.cend))
                else:
                    self._word(w, data=True)
            elif c in "[$":
                subs: list = []
                i = sc._subst(i, end, subs)
                for sub in subs:
                    if sub[0] == "cmd":
                        self._script(sub[3], tmsh=False)
            elif c == "\\":
                i += 2
            else:
                i += 1


def check_tcl(res: Result, data: bytes, marker: str | None, complete) -> None:
    """Shared by .tcl and .conf; `complete` is this file's tclsh result."""
    text = decode_utf8(res, data, allow_bom=False)
    if text is None:
        return
    text = text.replace("\r\n", "\n")
    if complete is not None:
        line, msg = complete
        res.error(msg, line or None)
    check = TclMarkerCheck(text, tmsh=(res.kind == "tmsh"))
    check.run()
    idx = LineIndex(text)
    for off, msg in check.scanner.errors:
        if msg.startswith("missing") and complete is not None:
            continue  # already reported by tclsh
        res.error(msg, *idx.pos(off))
    if marker:
        spans = sorted(check.data)
        for ms, me in marker_spans(text, marker):
            if _MARKER_NAMES_OK and _tmsh_name_word(text, ms, me, tcl=(res.kind == "tcl")):
                continue
            if not any(s <= ms and me <= e for s, e in spans):
                rule = ("a double-quoted property value or comment" if res.kind == "tmsh"
                        else "a braced/double-quoted data word or comment")
                res.error(f"marker outside {rule}", *idx.pos(ms))


# With --marker-names-ok (see validate_files), in tmsh the marker may also stand in a bare
# word made of name characters only (letters, digits, `_`, `.`, `-`, with `/partition/` path
# parts and a `:port`), such as `ltm pool /Common/NAME {` or `pool /Common/NAME`. Such a word
# cannot start a command, open or close a block, or substitute anything. As the first word of a
# line it must be a full path (`/Common/node:80 {` in a members list), because a bare first word is
# a property name or a command.
# The same holds for an argument word of an iRule command (`pool /Common/NAME`), in .tcl files
# and in rule bodies of .conf files, except as the first word of a line (a command name) or in a
# line whose command evaluates its arguments as script or expression.
_TMSH_NAME = re.compile(r"/?[A-Za-z0-9_.:\-]+(?:/[A-Za-z0-9_.:\-]+)*")
_TCL_EVALUATING = {"eval", "uplevel", "after", "if", "elseif", "while", "for", "foreach", "expr",
                   "catch", "proc", "namespace", "interp", "subst", "switch", "try", "apply",
                   "when", "return"}


def _tmsh_name_word(text: str, ms: int, me: int, tcl: bool = False) -> bool:
    start = ms
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = me
    while end < len(text) and not text[end].isspace():
        end += 1
    word = text[start:end]
    if not _TMSH_NAME.fullmatch(word):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start].split()
    if before and before[0].strip("{}") in _TCL_EVALUATING:
        return False
    if tcl:
        return bool(before)
    return bool(before) or word.startswith("/")


# --------------------------------------------------------------------------------------
# VBScript (.vbs): a structural checker of our own
# --------------------------------------------------------------------------------------
#
# There is no usable offline VBScript parser. This one masks string literals ("..." with
# "" escapes), date literals (#...#) and comments (' and REM), joins `_` continuation
# lines, splits statements on `:`, and checks that blocks are balanced and properly
# nested: If...Then (block form: nothing after Then) / ElseIf / Else / End If,
# Do / Loop, For [Each] / Next, While / Wend, Sub, Function, Property, Class, With,
# Select Case / Case / End Select. `Option Explicit` must be the first statement.
#
# Marker rule: inside a string literal or a comment.

_VB_OPENERS = {
    "sub": "Sub", "function": "Function", "property": "Property", "class": "Class",
    "with": "With", "select": "Select", "if": "If", "do": "Do", "for": "For", "while": "While",
}
_VB_CLOSERS = {"loop": "Do", "next": "For", "wend": "While"}


def _vb_mask(line: str):
    """Split a physical line into masked code and a per-character class string:
    'c' code, 's' string literal, 'm' comment. Returns (code, classes, error)."""
    code, cls, i, n = [], [], 0, len(line)
    stmt_start = True  # REM is a comment only at the start of a statement
    while i < n:
        ch = line[i]
        if ch == '"':
            j = i + 1
            while j < n:
                if line[j] == '"':
                    if j + 1 < n and line[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                return "".join(code), "".join(cls) + "s" * (n - i), "unterminated string literal"
            code.append('"' + " " * (j - i - 1) + '"')
            cls.append("c" + "s" * (j - i - 1) + "c")
            i = j + 1
            stmt_start = False
            continue
        if ch == "#":
            j = line.find("#", i + 1)
            j = n - 1 if j < 0 else j
            code.append("#" + " " * (j - i - 1) + "#")
            cls.append("c" * (j - i + 1))
            i = j + 1
            continue
        if ch == "'" or (stmt_start and re.match(r"rem(\s|$)", line[i:], re.I)):
            cls.append("m" * (n - i))
            break
        if ch == ":":
            stmt_start = True
        elif not ch.isspace():
            stmt_start = False
        code.append(ch)
        cls.append("c")
        i += 1
    return "".join(code), "".join(cls), None


def check_vbs(res: Result, data: bytes, marker: str | None) -> None:
    if data.startswith(UTF16LE_BOM):
        text = data[2:].decode("utf-16-le", "replace")
    else:
        text = decode_utf8(res, data)
        if text is None:
            return
    lines = text.replace("\r\n", "\n").split("\n")

    # 1. mask strings/comments per physical line, join continuations into logical lines
    logical: list[tuple[int, str]] = []  # (first physical line number, code)
    pending, pending_line = "", 0
    for n, line in enumerate(lines, start=1):
        code, cls, err = _vb_mask(line)
        if err:
            res.error(err, n)
        if marker:
            for ms, me in marker_spans(line, marker):
                if not all(c in "sm" for c in cls[ms:me]) or me > len(cls):
                    res.error("marker outside a string literal or comment", n, ms + 1)
        if not pending:
            pending_line = n
        m = re.search(r"\s_\s*$", code)
        if m:
            pending += code[: m.start()] + " "
            continue
        logical.append((pending_line, pending + code))
        pending = ""
    if pending:
        res.error("line continuation at end of file", pending_line)

    # 2. statements and block structure
    stack: list[tuple[str, int]] = []
    first_statement = True

    def close(kind: str, n: int, closer: str):
        if stack and stack[-1][0] == kind:
            stack.pop()
            return
        if any(k == kind for k, _ in stack):
            while stack[-1][0] != kind:
                k, ln = stack.pop()
                res.error(f"{k} opened at line {ln} is not closed before {closer}", n)
            stack.pop()
        else:
            top = f" (innermost open block: {stack[-1][0]} at line {stack[-1][1]})" if stack else ""
            res.error(f"{closer} without a matching {kind}{top}", n)

    def statement(stmt: str, n: int, rest_of_line: list[str]):
        nonlocal first_statement
        s = stmt.strip()
        if not s:
            return
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s.lower())
        if first_statement:
            first_statement = False
            if words[:2] != ["option", "explicit"]:
                res.error("the first statement must be Option Explicit", n)
        w0 = words[0] if words else ""
        w1 = words[1] if len(words) > 1 else ""
        # Public/Private/Default prefixes on Sub/Function/Property
        k = 0
        while k < len(words) and words[k] in ("public", "private", "default") and len(words) > k + 1:
            k += 1
        head = words[k] if words else ""
        if w0 == "if":
            full = " ".join([s] + rest_of_line)
            rest_of_line.clear()  # a single-line If owns the rest of the line
            m = re.search(r"\bthen\b(.*)$", full, re.I)
            if not m:
                res.error("If without Then", n)
            elif not m.group(1).strip():
                stack.append(("If", n))
        elif w0 == "elseif":
            if not stack or stack[-1][0] != "If":
                res.error("ElseIf outside an If block", n)
        elif w0 == "else":
            if not stack or stack[-1][0] != "If":
                res.error("Else outside an If block", n)
            after = re.sub(r"^\s*else\b", "", s, flags=re.I)
            if after.strip():
                statement(after, n, rest_of_line)
        elif w0 == "end":
            target = {"if": "If", "sub": "Sub", "function": "Function", "property": "Property",
                      "class": "Class", "with": "With", "select": "Select"}.get(w1)
            if target is None:
                res.error(f"unknown End statement {s[:30]!r}", n)
            else:
                close(target, n, f"End {target}")
        elif w0 in _VB_CLOSERS:
            close(_VB_CLOSERS[w0], n, w0.capitalize())
        elif w0 == "select" and w1 == "case":
            stack.append(("Select", n))
        elif w0 == "case":
            if not stack or stack[-1][0] != "Select":
                res.error("Case outside Select Case", n)
        elif w0 == "exit":
            pass
        elif head in ("sub", "function", "property", "class") and (k > 0 or w0 == head):
            if head != "class" and any(kk in ("Sub", "Function", "Property") for kk, _ in stack):
                res.error(f"{head.capitalize()} inside another procedure", n)
            stack.append((_VB_OPENERS[head], n))
        elif w0 in ("do", "for", "while", "with"):
            stack.append((_VB_OPENERS[w0], n))

    for n, code in logical:
        parts = code.split(":")
        while parts:
            stmt = parts.pop(0)
            statement(stmt, n, parts)
    for kind, n in stack:
        res.error(f"{kind} opened here is never closed", n)
    if first_statement:
        res.error("empty script: the first statement must be Option Explicit")


# --------------------------------------------------------------------------------------
# Runbook code blocks (--runbook README.md ...)
# --------------------------------------------------------------------------------------
#
# Every fenced code block of a generated runbook is checked by the parser of the language its
# info string names, with findings at the README's own line numbers:
#   cmd         an elevated Windows command prompt: tree-sitter-batch (check_batch, on the block
#               with CRLF line endings), and the query of every `sqlcmd … -Q "…"` line as T-SQL
#               (sqlfluff, _check_tsql_text);
#   powershell  tree-sitter-powershell (check_ps1);
#   sh          the BIG-IP's bash shell: `bash -n` (bash's own parser), and every tmsh command
#               in it (`tmsh ARGS` or each `;`-separated command of `tmsh -c '…'`) as tmsh:
#               a Tcl list (tmsh's braces and quotes are Tcl's; tclsh decides, as for the merge
#               file) whose first word is a tmsh verb;
#   text        output or prose shown as is: declared, not parsed.
# A block without an info string, or with another one, fails.

RUNBOOK_LANGS = ("cmd", "powershell", "sh", "text")
# tmsh verbs the runbook may use (F5, "Traffic Management Shell (tmsh) Reference Guide": the
# commands create, delete, list, load, modify, save, show, cd, run, reset-stats).
_TMSH_VERBS = {"create", "delete", "list", "load", "modify", "save", "show", "cd", "run",
               "reset-stats"}
_SQLCMD_Q = re.compile(r'(?:^|\s)sqlcmd(?:\.exe)?\s.*?-Q\s+"(.*)"', re.I)
_FENCE = re.compile(r"^ {0,4}```(.*)$")


def runbook_blocks(text: str):
    """(fence line, info string, body lines) of every fenced block; an unclosed fence is a block
    to the end of the text."""
    blocks, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        # A fence inside a list item is indented; its body carries the same indentation
        # (CommonMark 4.5: up to the fence's indentation is removed from each content line).
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        j = i + 1
        while j < len(lines) and not lines[j].lstrip(" ").startswith("```"):
            j += 1
        body = [l[indent:] if l[:indent].strip() == "" else l.lstrip(" ") for l in lines[i + 1 : j]]
        blocks.append((i + 1, m.group(1).strip(), body))
        i = j + 1
    return blocks


def _shift(errors: list[str], base: int, lang: str, col0: int = 0) -> list[str]:
    """Findings of a block's checker ("L:C: msg" or "L: msg", 1-based in the block) at the
    README's line numbers (and columns, for a text that starts at column col0 + 1)."""
    out = []
    for e in errors:
        m = re.match(r"(\d+)(?::(\d+))?: (.*)", e, re.S)
        if not m:
            out.append(f"{base}: [{lang}] {e}")
            continue
        col = f":{int(m.group(2)) + col0}" if m.group(2) else ""
        out.append(f"{base + int(m.group(1))}{col}: [{lang}] {m.group(3)}")
    return out


def _tmsh_commands(line: str) -> list[str]:
    """The tmsh commands of one shell line: `tmsh [-q] ARGS…` and the `;`-separated commands of
    `tmsh -c '…'`, split into words as bash does (shlex, POSIX mode)."""
    import shlex
    try:
        lex = shlex.shlex(line, posix=True, punctuation_chars="|;&")
        lex.whitespace_split = True
        words = list(lex)
    except ValueError:
        return []  # unbalanced quotes: bash -n reports it
    cmds, i = [], 0
    while i < len(words):
        if words[i] != "tmsh":
            i += 1
            continue
        j = i + 1
        while j < len(words) and words[j] == "-q":
            j += 1
        if j + 1 < len(words) and words[j] == "-c":
            cmds.extend(c.strip() for c in words[j + 1].split(";") if c.strip())
            i = j + 2
            continue
        k = j
        while k < len(words) and words[k] not in ("|", ";", "&&", "||", "&"):
            k += 1
        cmds.append(" ".join(words[j:k]))
        i = k
    return cmds


_TMSH_LIST_SCRIPT = r"""
fconfigure stdin -encoding utf-8
while {[gets stdin l] >= 0} {
    if {![info complete $l] || ![string is list $l]} { puts "ERR unbalanced braces or quotes"
    } else { puts "OK [lindex $l 0]" }
}
"""


def _check_tmsh_lines(cmds: list[str]) -> list[str | None]:
    """One tclsh over every tmsh command: None when it is a Tcl list starting with a tmsh verb,
    else the message."""
    if not cmds:
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".tcl", delete=False) as f:
        f.write(_TMSH_LIST_SCRIPT)
        script = f.name
    try:
        out = subprocess.run(["tclsh", script], input="".join(c.replace("\n", " ") + "\n"
                                                            for c in cmds),
                             capture_output=True, text=True, check=False).stdout.splitlines()
    finally:
        os.unlink(script)
    verdicts = []
    for i in range(len(cmds)):
        ans = out[i] if i < len(out) else "ERR tclsh gave no answer"
        if ans.startswith("ERR"):
            verdicts.append(ans[4:])
        elif ans[3:] not in _TMSH_VERBS:
            verdicts.append(f"not a tmsh command: {ans[3:]!r}")
        else:
            verdicts.append(None)
    return verdicts


def _check_sh_block(res: Result, base: int, body: list[str]) -> list[tuple[int, str]]:
    """bash -n over the block; returns the tmsh commands to check, with their README lines."""
    out = subprocess.run(["bash", "-n"], input="\n".join(body) + "\n", capture_output=True,
                         text=True, check=False)
    found = False
    for m in re.finditer(r"line (\d+): (.*)", out.stderr):
        res.error(f"[sh] bash: {m.group(2)}", base + int(m.group(1)))
        found = True
    if out.returncode and not found:
        res.error(f"[sh] bash -n failed: {out.stderr.strip()[:200]}", base + 1)
    return [(base + n, c) for n, line in enumerate(body, 1) for c in _tmsh_commands(line)]


def _check_cmd_block(res: Result, base: int, body: list[str]) -> int:
    """check_batch over the block, T-SQL over each `sqlcmd -Q` query; returns the number of
    queries."""
    sub = Result("", "batch")
    check_batch(sub, ("\r\n".join(body) + "\r\n").encode("utf-8"), None)
    res.errors.extend(_shift(sub.errors, base, "cmd"))
    queries = 0
    for n, line in enumerate(body, 1):
        m = _SQLCMD_Q.search(line)
        if m:
            queries += 1
            sub = Result("", "sql")
            _check_tsql_text(sub, m.group(1), None)
            res.errors.extend(_shift(sub.errors, base + n - 1, "cmd/sqlcmd -Q", m.start(1)))
    return queries


def check_runbook(res: Result, text: str) -> dict[str, int]:
    """Checks every block of a runbook; returns the number of blocks per info string (and of
    tmsh commands)."""
    counts: dict[str, int] = {}
    tmsh: list[tuple[int, str]] = []
    queries = 0
    for base, info, body in runbook_blocks(text):
        lang = info.split()[0] if info else ""
        counts[lang or "(none)"] = counts.get(lang or "(none)", 0) + 1
        if lang not in RUNBOOK_LANGS:
            what = "has no info string" if not lang else f"has info string {lang!r}"
            res.error(f"code block {what}: name its language ({', '.join(RUNBOOK_LANGS)})", base)
        elif lang == "cmd":
            queries += _check_cmd_block(res, base, body)
        elif lang == "powershell":
            sub = Result("", "ps1")
            check_ps1(sub, (UTF8_BOM + "\n".join(body).encode("utf-8")), None)
            res.errors.extend(_shift(sub.errors, base, "powershell"))
        elif lang == "sh":
            tmsh.extend(_check_sh_block(res, base, body))
    for (line, cmd), verdict in zip(tmsh, _check_tmsh_lines([c for _, c in tmsh])):
        if verdict:
            res.error(f"[tmsh] {verdict}: {cmd[:80]}", line)
    counts["tmsh commands"] = len(tmsh)
    counts["sqlcmd -Q queries"] = queries
    return counts


def runbook_main(paths: list[str]) -> int:
    failed = 0
    for p in paths:
        res = Result(p, "runbook")
        with open(p, encoding="utf-8") as f:
            counts = check_runbook(res, f.read())
        failed += bool(res.errors)
        print(json.dumps({"path": p, "kind": "runbook", "ok": not res.errors,
                          "errors": res.errors, "blocks": counts}))
    print(f"validate: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


# --------------------------------------------------------------------------------------
# Dispatch and command line
# --------------------------------------------------------------------------------------

KINDS = {
    ".sql": "sql", ".ps1": "ps1", ".cmd": "batch", ".bat": "batch", ".xml": "xml",
    ".json": "json", ".tcl": "tcl", ".conf": "tmsh", ".svg": "svg", ".vbs": "vbs",
}


def collect(paths: list[str]) -> list[str]:
    files = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames.sort()
                files.extend(os.path.join(dirpath, f) for f in sorted(filenames))
        else:
            files.append(p)
    return sorted(dict.fromkeys(files))


# `--marker-names-ok`: the caller knows the marker stands in a value made of name characters only
# (a user-chosen object name such as a pool or node): such a value cannot carry injection syntax,
# and in tmsh and AS3 a name must stand in a name position. Off by default, because a marker in a
# name position is otherwise the sign of an injection (a value that broke out and made a new
# object). Only the tmsh and AS3 checks relax; everywhere else the marker rule stays strict.
_MARKER_NAMES_OK = False


def validate_files(files, marker=None, xsd=DEFAULT_XSD, marker_names_ok=False):
    global _MARKER_NAMES_OK
    _MARKER_NAMES_OK = marker_names_ok
    """Validate files; returns a list of Result in the order given."""
    results = [Result(f, KINDS.get(os.path.splitext(f)[1].lower(), "unchecked")) for f in files]
    tcl_files = [r for r in results if r.kind in ("tcl", "tmsh")]
    complete = run_tclsh_complete([r.path for r in tcl_files])
    tcl_result = {id(r): complete[i] for i, r in enumerate(tcl_files)}
    for res in results:
        if res.kind == "unchecked":
            continue
        try:
            with open(res.path, "rb") as f:
                data = f.read()
        except OSError as e:
            res.error(f"cannot read: {e.strerror}")
            continue
        try:
            if res.kind == "sql":
                check_sql(res, data, marker)
            elif res.kind == "ps1":
                check_ps1(res, data, marker)
            elif res.kind == "batch":
                check_batch(res, data, marker)
            elif res.kind in ("xml", "svg"):
                check_xml(res, data, marker, xsd)
            elif res.kind == "json":
                check_json(res, data, marker)
            elif res.kind in ("tcl", "tmsh"):
                check_tcl(res, data, marker, tcl_result[id(res)])
            elif res.kind == "vbs":
                check_vbs(res, data, marker)
        except Exception as e:  # a validator bug must fail the file, not the run
            res.error(f"validator crashed: {type(e).__name__}: {e}")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Validate sitebundle artifacts with real parsers (one JSON line per file)."
    )
    ap.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    ap.add_argument("--runbook", action="store_true",
                    help="the paths are generated runbooks (README.md): check every fenced code "
                         "block with the parser of its info string's language")
    ap.add_argument("--xsd", default=DEFAULT_XSD, help="Task Scheduler XSD (default: %(default)s)")
    ap.add_argument("--marker", help="hostile-input marker word that must only appear as data")
    ap.add_argument("--marker-names-ok", action="store_true",
                    help="the marker stands in a value of name characters only: allow it as a "
                         "tmsh object name or AS3 object key (everything else stays strict)")
    args = ap.parse_args(argv)  # exits 2 on a usage error
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print(f"validate: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.runbook:
        return runbook_main(args.paths)
    if args.marker is not None and not re.fullmatch(r"\w+", args.marker):
        print("validate: --marker must be a non-empty word (letters, digits, _)", file=sys.stderr)
        return 2
    results = validate_files(collect(args.paths), args.marker, args.xsd, args.marker_names_ok)
    failed = sum(1 for r in results if r.errors)
    for r in results:
        print(r.to_json())
    print(f"validate: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
