#!/usr/bin/env python3
"""Self-test of validate.py: it must accept a good sample and reject a broken one of every
kind, and the --marker check must tell data from code.

Run: python tests/validators/test_validate.py   (with the packages of requirements.txt and
tclsh on PATH). Prints one line per failed case and `N passed, M failed` at the end; exits 1
on any failure.

The Task Scheduler XSD is the repository's tests/schemas/task-scheduler.xsd. The checks done in
Rust (.reg files, the AS3 schema) have their cases in tests/it/checks/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ beside the sources
import validate  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
SCHEMAS = os.path.join(REPO, "tests", "schemas")
XSD = os.path.join(SCHEMAS, "task-scheduler.xsd")

CASES: list[dict] = []


def case(name, filename, content, ok, marker=None, expect=None, names_ok=False):
    """Register a sample. `content` is str (written as UTF-8) or bytes. `expect` is a
    substring that must appear in one of the errors of a rejected file."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    CASES.append(dict(name=name, filename=filename, content=content, ok=ok,
                      marker=marker, expect=expect, names_ok=names_ok))


def crlf(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def utf16(s: str, bom: bool = True) -> bytes:
    return (b"\xff\xfe" if bom else b"") + s.encode("utf-16-le")


# ---------------------------------------------------------------------------- T-SQL

SQL_GOOD = r""":on error exit
:setvar JobOwner "sa"
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
USE [master];
GO
/* failover-all, as the generator is meant to write it */
DECLARE @name sysname, @principal int, @total int, @sql nvarchar(max);
SELECT @total = COUNT(*) FROM sys.database_mirroring
 WHERE mirroring_guid IS NOT NULL AND mirroring_state = 4 AND mirroring_safety_level = 2;
DECLARE c CURSOR LOCAL FAST_FORWARD FOR
  SELECT d.name FROM sys.databases AS d
  JOIN sys.database_mirroring AS m ON m.database_id = d.database_id
  WHERE m.mirroring_role = 1 AND m.mirroring_state = 4;
OPEN c;
FETCH NEXT FROM c INTO @name;
WHILE @@FETCH_STATUS = 0
BEGIN
  PRINT N'Failing over ' + QUOTENAME(@name);
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(@name) + N' SET PARTNER FAILOVER';
  EXEC (@sql);
  FETCH NEXT FROM c INTO @name;
END
CLOSE c;
DEALLOCATE c;
ALTER DATABASE [odd]]name[x] SET PARTNER FAILOVER;
SELECT N'probe for $(dbname)' AS [Result]]col];
go
"""
case("sql good script (GO, :commands, cursor, ]] identifiers)", "a.sql", SQL_GOOD, True)

# The T-SQL 2008 constructs the generator needs, one file each (also a record of what
# sqlfluff 4.5.0 parses).
TSQL_CONSTRUCTS = {
    "exec_named_params": "DECLARE @jobId uniqueidentifier;\nEXEC msdb.dbo.sp_add_job @job_name = N'Failover all', @enabled = 1, @owner_login_name = N'sa', @job_id = @jobId OUTPUT;\n",
    "exec_return_code": "DECLARE @rc int;\nEXEC @rc = msdb.dbo.sp_add_category @class = N'JOB', @type = N'LOCAL', @name = N'Mirroring';\n",
    "if_not_exists_begin_end": "IF NOT EXISTS (SELECT 1 FROM msdb.dbo.syscategories WHERE name = N'Mirroring' AND category_class = 1)\nBEGIN\n  EXEC msdb.dbo.sp_add_category @class = N'JOB', @type = N'LOCAL', @name = N'Mirroring';\nEND\nELSE\nBEGIN\n  PRINT N'exists';\nEND\n",
    "cursor_local_fast_forward": "DECLARE @n sysname;\nDECLARE c CURSOR LOCAL FAST_FORWARD FOR SELECT name FROM sys.databases;\nOPEN c;\nFETCH NEXT FROM c INTO @n;\nWHILE @@FETCH_STATUS = 0\nBEGIN\n  FETCH NEXT FROM c INTO @n;\nEND\nCLOSE c;\nDEALLOCATE c;\n",
    "raiserror": "RAISERROR (N'Failover of %s failed', 16, 1, N'db');\nRAISERROR (N'progress', 0, 1) WITH NOWAIT;\n",
    "try_catch": "BEGIN TRY\n  BEGIN TRANSACTION;\n  SELECT 1;\n  COMMIT TRANSACTION;\nEND TRY\nBEGIN CATCH\n  IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;\n  DECLARE @msg nvarchar(2048);\n  SET @msg = ERROR_MESSAGE();\n  RAISERROR (@msg, 16, 1);\nEND CATCH\n",
    "set_xact_abort": "SET XACT_ABORT ON;\nSET NOCOUNT ON;\n",
    "begin_transaction": "BEGIN TRANSACTION;\nCOMMIT TRANSACTION;\nBEGIN TRAN t1;\nROLLBACK TRAN t1;\n",
    "goto_label": "DECLARE @rc int;\nSET @rc = 0;\nIF (@@ERROR <> 0 OR @rc <> 0) GOTO QuitWithRollback;\nQuitWithRollback:\nPRINT N'x';\n",
    "sp_add_jobstep_dynamic": "EXEC msdb.dbo.sp_add_jobstep @job_name = N'j', @step_name = N's', @subsystem = N'TSQL', @database_name = N'master', @command = N'DECLARE @n sysname;\nIF EXISTS (SELECT 1 FROM sys.database_mirroring WHERE mirroring_role = 1)\n  PRINT N''principal'';', @on_success_action = 1;\n",
    "sp_add_alert_wmi": "EXEC msdb.dbo.sp_add_alert @name = N'Mirroring failover', @wmi_namespace = N'\\\\.\\root\\Microsoft\\SqlServer\\ServerEvents\\MSSQLSERVER', @wmi_query = N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 7 OR State = 8', @job_name = N'j';\n",
    "case_probe": "SELECT CASE WHEN m.mirroring_role = 1 THEN N'Primary' WHEN m.mirroring_role = 2 THEN N'Secondary' ELSE N'unknown' END\nFROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id\nWHERE d.name = N'$(dbname)';\n",
}
for key, sql in TSQL_CONSTRUCTS.items():
    case(f"sql construct {key}", f"construct_{key}.sql", sql, True)

case("sql lost operator WHILE (@@fetch_status  -1)", "b.sql",
     "DECLARE c CURSOR LOCAL FAST_FORWARD FOR SELECT 1;\nOPEN c;\nWHILE (@@fetch_status  -1)\nBEGIN\n  PRINT 1;\nEND\n",
     False, expect="3:7: condition")
case("sql lost operator inside a job step @command", "b2.sql",
     "EXEC msdb.dbo.sp_add_jobstep @job_name = N'j', @step_name = N's', @command = N'\nWHILE (@@fetch_status  -1)\n  FETCH NEXT FROM c;';\n",
     False, expect="dynamic SQL at line 1: condition")
case("sql unparsable (lost operator in WHERE)", "c.sql",
     "GO\nSELECT name FROM sys.databases\nWHERE database_id  1;\n", False, expect="3:")
case("sql unquoted sqlcmd variable", "d.sql", "SELECT $(x);\n", False, expect="unparsable")
case("sql stray word after a statement (read as EXEC by sqlfluff)", "c2.sql",
     "FETCH NEXT FROM c INTO @name oops;\n", False, expect="bare word 'oops'")
case("sql unknown sqlcmd command", "e.sql", ":frobnicate\nSELECT 1;\n", False,
     expect="unknown sqlcmd command")
case("sql marker inside N'...' passes", "m1.sql",
     "PRINT N'x''; DROP DATABASE y; -- MARKER';\n", True, marker="MARKER")
case("sql marker in [identifier]] with escape] and comment passes", "m2.sql",
     "-- MARKER\nSELECT 1 AS [a]]MARKER];\n", True, marker="MARKER")
case("sql marker as bare identifier fails", "m3.sql",
     "SELECT N'x'; DROP DATABASE MARKER; --';\n", False, marker="MARKER",
     expect="marker outside a string literal")
case("sql marker inside N'...' after CRLF lines passes", "m1c.sql",
     "SELECT 1;\r\nSELECT 2;\r\nSELECT 3;\r\nPRINT N'MARKER';\r\n", True, marker="MARKER")
case("sql marker as bare identifier after CRLF lines fails", "m3c.sql",
     "PRINT N'aaaaaaaaaa';\r\nPRINT N'b';\r\nDROP DATABASE MARKER;\r\n", False, marker="MARKER",
     expect="marker outside a string literal")
case("sql marker in sqlcmd variable fails", "m4.sql",
     "PRINT N'$(MARKER)';\n", False, marker="MARKER", expect="sqlcmd variable")
case("sql marker as code inside job step @command fails", "m5.sql",
     "EXEC msdb.dbo.sp_add_jobstep @job_name = N'j', @step_name = N's', @command = N'ALTER DATABASE MARKER SET PARTNER FAILOVER';\n",
     False, marker="MARKER", expect="dynamic SQL")
case("sql marker as data inside job step @command passes", "m6.sql",
     "EXEC msdb.dbo.sp_add_jobstep @job_name = N'j', @step_name = N's', @command = N'ALTER DATABASE [MARKER] SET PARTNER FAILOVER; PRINT N''MARKER'';';\n",
     True, marker="MARKER")
case("sql marker on a sqlcmd line fails", "m7.sql",
     ":setvar x MARKER\nSELECT 1;\n", False, marker="MARKER", expect="sqlcmd command line")

# Availability group statements: sqlfluff has no grammar for them (AG_SQLFLUFF_FAILS below shows
# it), validate.py parses exactly the generated forms with its own grammar. The good script is the
# shape ag-create.sql / ag-join.sql use; each broken one differs from it in one place.
AG_GOOD = r""":on error exit
SET NOCOUNT ON;
GO
IF NOT EXISTS (SELECT 1 FROM sys.availability_groups WHERE name = N'SPAG')
BEGIN
    CREATE AVAILABILITY GROUP [SPAG]
    WITH (AUTOMATED_BACKUP_PREFERENCE = SECONDARY)
    FOR DATABASE [WSS_Content], [SharePoint_Config]
    REPLICA ON
        N'sqla' WITH (ENDPOINT_URL = N'TCP://sqla.corp.example.com:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, FAILOVER_MODE = AUTOMATIC),
        N'sqlb\SP' WITH (ENDPOINT_URL = N'TCP://sqlb.corp.example.com:5022', AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL);
END
GO
IF NOT EXISTS (SELECT 1 FROM sys.availability_group_listeners)
BEGIN
    ALTER AVAILABILITY GROUP [SPAG]
    ADD LISTENER N'spsql' (WITH IP ((N'10.1.0.50', N'255.255.255.0'), (N'10.2.0.50', N'255.255.255.0')), PORT = 1433);
END
GO
ALTER AVAILABILITY GROUP [SPAG] ADD DATABASE [WSS_Content];
ALTER AVAILABILITY GROUP [SPAG] JOIN;
ALTER AVAILABILITY GROUP [SPAG] FAILOVER;
ALTER AVAILABILITY GROUP [SPAG] FORCE_FAILOVER_ALLOW_DATA_LOSS;
GO
IF EXISTS (SELECT 1 FROM sys.databases WHERE name = N'WSS_Content' AND replica_id IS NULL)
BEGIN
    ALTER DATABASE [WSS_Content] SET HADR AVAILABILITY GROUP = [SPAG];
END
GO
ALTER DATABASE [WSS_Content] SET HADR SUSPEND;
ALTER DATABASE [WSS_Content] SET HADR RESUME;
GO
"""
case("sql availability group statements (own grammar) pass", "ag.sql", AG_GOOD, True)
case("sql availability group statements inside EXEC (N'...') pass", "ag-dyn.sql",
     "EXEC (N'ALTER AVAILABILITY GROUP [SPAG] JOIN;');\n", True)
for label, old, new, expect in [
    ("missing comma between replicas", "FAILOVER_MODE = AUTOMATIC),", "FAILOVER_MODE = AUTOMATIC)",
     "expected ';'"),
    ("unbalanced parenthesis in WITH IP", "N'255.255.255.0')), PORT", "N'255.255.255.0'), PORT",
     "expected"),
    ("unknown replica option", "FAILOVER_MODE = MANUAL)", "FAILOVER_MODE = MANUAL, READ_SCALE = ON)",
     "expected ENDPOINT_URL"),
    ("unknown database option", "SET HADR SUSPEND;", "SET HADR PAUSE;", "expected OFF or SUSPEND"),
    ("missing semicolon", "[SPAG] JOIN;", "[SPAG] JOIN", "expected ';'"),
    ("automatic failover on an asynchronous replica", "ASYNCHRONOUS_COMMIT, FAILOVER_MODE = MANUAL",
     "ASYNCHRONOUS_COMMIT, FAILOVER_MODE = AUTOMATIC", "needs AVAILABILITY_MODE"),
    ("replica without FAILOVER_MODE", ", FAILOVER_MODE = MANUAL)", ")", "replica without"),
    ("an option given twice", "FAILOVER_MODE = MANUAL)", "FAILOVER_MODE = MANUAL, FAILOVER_MODE = MANUAL)",
     "given twice"),
    ("a listener address that is not IPv4", "N'10.2.0.50'", "N'10.2.0'", "IPv4 address"),
    ("an endpoint URL without port", "sqla.corp.example.com:5022'", "sqla.corp.example.com'",
     "ENDPOINT_URL"),
]:
    assert old in AG_GOOD, label
    case(f"sql availability group: {label} fails", "agbad.sql", AG_GOOD.replace(old, new, 1),
         False, expect=expect)
case("sql marker as data in an availability group statement passes", "agm1.sql",
     "ALTER AVAILABILITY GROUP [MARKER]] x] ADD DATABASE [a MARKER];\n", True, marker="MARKER")
case("sql marker as code in an availability group statement fails", "agm2.sql",
     "ALTER AVAILABILITY GROUP MARKER JOIN;\n", False, marker="MARKER",
     expect="marker outside a string literal or quoted identifier in an availability group")

# What sqlfluff itself says about each AG statement form (the reason for the grammar above): each
# must come back unparsable, or, for SET HADR SUSPEND/RESUME, with a bare procedure call.
AG_SQLFLUFF_FAILS = [
    "CREATE AVAILABILITY GROUP [SPAG] WITH (AUTOMATED_BACKUP_PREFERENCE = SECONDARY) FOR DATABASE [a] "
    "REPLICA ON N'sqla' WITH (ENDPOINT_URL = N'TCP://sqla:5022', AVAILABILITY_MODE = SYNCHRONOUS_COMMIT, "
    "FAILOVER_MODE = AUTOMATIC);",
    "ALTER AVAILABILITY GROUP [SPAG] ADD LISTENER N'spsql' (WITH IP ((N'10.1.0.50', N'255.255.255.0')), PORT = 1433);",
    "ALTER AVAILABILITY GROUP [SPAG] JOIN;",
    "ALTER AVAILABILITY GROUP [SPAG] ADD DATABASE [a];",
    "ALTER AVAILABILITY GROUP [SPAG] FAILOVER;",
    "ALTER AVAILABILITY GROUP [SPAG] FORCE_FAILOVER_ALLOW_DATA_LOSS;",
    "ALTER DATABASE [a] SET HADR AVAILABILITY GROUP = [SPAG];",
    "ALTER DATABASE [a] SET HADR SUSPEND;",
    "ALTER DATABASE [a] SET HADR RESUME;",
]


def run_ag_sqlfluff() -> tuple[int, int]:
    """sqlfluff alone cannot parse the AG statements: if it ever can, the grammar can go."""
    passed = failed = 0
    linter = validate._tsql_linter()
    for stmt in AG_SQLFLUFF_FAILS:
        parsed = linter.parse_string(stmt)
        tree = parsed.parsed_variants[0].tree if parsed.parsed_variants else None
        wrong = tree is None or parsed.violations or any(tree.recursive_crawl("unparsable")) \
            or any(tree.recursive_crawl("execute_script_statement"))
        if wrong:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: sqlfluff now parses {stmt[:50]!r}: revisit the AG grammar in validate.py")
    return passed, failed

# ---------------------------------------------------------------------------- PowerShell

PS_GOOD = """\ufeff#Requires -Version 2.0
[CmdletBinding(SupportsShouldProcess = $true)]
param([string]$Database = 'WSS_Content')
Set-StrictMode -Version Latest
$key = 'HKLM:\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo'
function Test-Principal {
    param([string]$Server)
    try {
        $conn = New-Object System.Data.SqlClient.SqlConnection "Server=$Server;Integrated Security=SSPI"
        $conn.Open()
    } catch {
        return $false
    } finally {
        if ($conn) { $conn.Dispose() }
    }
    return $true
}
$note = @'
it's verbatim — café
'@
if ($PSCmdlet.ShouldProcess($key)) { Set-ItemProperty -Path $key -Name 'x' -Value 'DBMSSOCN,host' }
exit 0
"""
case("ps1 good (BOM, here-string, try/catch)", "a.ps1", PS_GOOD, True)
case("ps1 unbalanced braces", "b.ps1", "function f {\n  if ($x) {\n    1\n}\n", False,
     expect="missing '}'")
case("ps1 non-ASCII without BOM", "c.ps1", "Write-Host 'café'\n", False, expect="BOM")
case("ps1 typographic quote ends a single-quoted string", "d.ps1",
     "\ufeffWrite-Host 'it\u2019s'; Get-Date\n", False, expect="undoubled quote")
case("ps1 marker in single quotes, here-string and comment passes", "m1.ps1",
     "# MARKER\nWrite-Host 'a''; MARKER'\n$h = @'\nMARKER\n'@\n", True, marker="MARKER")
case("ps1 marker in $( ) sub-expression fails", "m2.ps1",
     'Write-Host "$(MARKER)"\n', False, marker="MARKER", expect="expandable")
case("ps1 marker in expandable string text fails", "m3.ps1",
     'Write-Host "plain MARKER"\n', False, marker="MARKER", expect="marker outside")
case("ps1 marker as command fails", "m4.ps1", "MARKER -x\n", False, marker="MARKER",
     expect="command_name")

# ---------------------------------------------------------------------------- batch

BAT_GOOD = crlf("""@echo off
setlocal EnableExtensions
REM killProc.cmd: exit 0 when not running, taskkill's code when it was, 100 without a name
if "%~1"=="" goto usage
tasklist /FI "IMAGENAME eq %~1" | find /I "%~1" >NUL
if errorlevel 1 exit /b 0
taskkill /f /im "%~1"
exit /b %errorlevel%
:usage
:: no image name given
echo usage: killProc.cmd IMAGE
call :log missing
exit /b 100
:log
echo %~1
goto :eof
""")
case("cmd good (labels, goto :eof, pipes, if errorlevel)", "a.cmd", BAT_GOOD, True)
case("cmd LF line endings", "b.cmd", BAT_GOOD.replace("\r\n", "\n"), False, expect="CRLF")
case("cmd unbalanced parenthesis", "c.cmd", crlf("if exist x (\necho a\n"), False,
     expect="syntax error")
case("cmd goto undefined label", "d.bat", crlf("@echo off\ngoto error\n:end\n"), False,
     expect="undefined label :error")
case("cmd marker in REM passes", "m1.cmd", crlf("@echo off\nREM MARKER\n:: MARKER too\n"),
     True, marker="MARKER")
case("cmd marker in echo text fails", "m2.cmd", crlf("@echo off\necho MARKER\n"), False,
     marker="MARKER", expect="outside a REM")
case("cmd marker in %var% inside REM fails", "m3.cmd", crlf("REM %MARKER%\n"), False,
     marker="MARKER", expect="%...%")

# ---------------------------------------------------------------------------- XML / Task

TASK = """<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Maintenance mode after Windows Update event 22 (PLACE)</Description>
  </RegistrationInfo>
  <Triggers>
    <EventTrigger>
      <Enabled>true</Enabled>
      <Subscription>&lt;QueryList&gt;&lt;Query Id="0" Path="System"&gt;&lt;Select Path="System"&gt;*[System[Provider[@Name='Microsoft-Windows-WindowsUpdateClient'] and EventID=22]]&lt;/Select&gt;&lt;/Query&gt;&lt;/QueryList&gt;</Subscription>
    </EventTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT1H</ExecutionTimeLimit>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>cscript.exe</Command>
      <Arguments>//nologo "C:\\localscripts\\MaintMode.vbs" ON 20M</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def task(text=TASK, place="here"):
    return utf16(crlf(text.replace("PLACE", place)))


case("task xml good (UTF-16LE BOM, CRLF, XSD, Subscription)", "a.xml", task(), True)
case("task xml element out of XSD order", "b.xml",
     task(TASK.replace("<Enabled>true</Enabled>\n      <Subscription>", "<Subscription>")
          .replace("</Subscription>", "</Subscription>\n      <Enabled>true</Enabled>")),
     False, expect="XSD")
case("task xml UTF-16 without BOM", "c.xml", utf16(crlf(TASK), bom=False), False,
     expect="without a byte order mark")
case("task xml UTF-16 declaring UTF-8", "d.xml",
     utf16(crlf(TASK.replace('encoding="UTF-16"', 'encoding="UTF-8"'))), False,
     expect='declare encoding="UTF-16"')
case("task xml UTF-16 with LF", "e.xml", utf16(TASK), False, expect="CRLF")
case("task xml as UTF-8", "f.xml", TASK.replace("UTF-16", "UTF-8"), False,
     expect="UTF-16LE with BOM")
case("task xml Subscription not XML", "g.xml",
     task(TASK.replace("&lt;/QueryList&gt;", "")), False, expect="Subscription")
case("xml not well-formed", "h.xml", "<a><b></a>\n", False, expect="not well-formed")
case("xml good (GPP-like, UTF-8)", "i.xml",
     crlf('<?xml version="1.0" encoding="utf-8"?>\n<Files clsid="{215B2E53-57CE-475c-80FE-9EEC14635851}"><File name="x"/></Files>\n'),
     True)
case("task xml marker in text passes", "m1.xml", task(place="MARKER"), True, marker="MARKER")
case("task xml marker in a quoted command-line argument passes", "m1b.xml",
     task(TASK.replace("C:\\localscripts", "%SystemDrive%\\MARKER")), True,
     marker="MARKER")
case("task xml marker in an unquoted command-line argument fails", "m1c.xml",
     task(TASK.replace("ON 20M", "ON MARKER")), False, marker="MARKER", expect="<Arguments>")
case("task xml marker in a cmd /c \"\"path\" arg\" script path passes", "m1d.xml",
     task(TASK.replace('//nologo "C:\\localscripts\\MaintMode.vbs" ON 20M',
                       '/c ""%SystemDrive%\\MARKER dir\\killProc.cmd" x.exe"')), True,
     marker="MARKER")
case("task xml marker unquoted after cmd /c unwrapping fails", "m1e.xml",
     task(TASK.replace('//nologo "C:\\localscripts\\MaintMode.vbs" ON 20M',
                       '/c ""C:\\dir\\killProc.cmd" MARKER"')), False,
     marker="MARKER", expect="<Arguments>")
case("task xml marker in cmd /c \"x&y\" fails (cmd strips the quotes)", "m1f.xml",
     task(TASK.replace('//nologo "C:\\localscripts\\MaintMode.vbs" ON 20M',
                       '/c "MARKER&amp;calc"')), False,
     marker="MARKER", expect="<Arguments>")
case("xml marker as element name fails", "m2.xml", "<a><MARKER/></a>\n", False,
     marker="MARKER", expect="element name")
case("xml marker as attribute name fails", "m3.xml", '<a MARKER="1"/>\n', False,
     marker="MARKER", expect="attribute name")
case("xml marker in attribute value and comment passes", "m4.xml",
     '<a b="MARKER"><!-- MARKER --></a>\n', True, marker="MARKER")
case("task xml marker unquoted in Subscription XPath fails", "m5.xml",
     task(TASK.replace("EventID=22", "EventID=MARKER")), False, marker="MARKER",
     expect="XPath")
case("xml marker in a DOCTYPE fails", "m6.xml",
     '<!DOCTYPE a [<!ENTITY MARKER "x">]>\n<a/>\n', False, marker="MARKER",
     expect="outside element text")

# ---------------------------------------------------------------------------- SVG

case("svg good", "a.svg",
     '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text x="1" y="5">pool</text></svg>\n',
     True)
case("svg not well-formed", "b.svg", '<svg xmlns="http://www.w3.org/2000/svg"><g></svg>\n',
     False, expect="not well-formed")
case("svg marker in text passes", "m1.svg",
     '<svg xmlns="http://www.w3.org/2000/svg"><title>MARKER</title></svg>\n', True,
     marker="MARKER")
case("svg marker in script fails", "m2.svg",
     '<svg xmlns="http://www.w3.org/2000/svg"><script>MARKER()</script></svg>\n', False,
     marker="MARKER", expect="script")

# ---------------------------------------------------------------------------- JSON
# (The AS3 schema cases are in tests/it/checks/as3.rs.)

case("json good", "manifest.json", '{"files": [{"path": "a", "bytes": 1}]}\n', True)
case("json trailing comma", "b.json", '{"a": 1,}\n', False, expect="1:9")
case("json duplicate key", "c.json", '{"a": 1, "a": 2}\n', False, expect="duplicate")
case("json marker in value passes", "m1.json", '{"a": "MARKER"}\n', True, marker="MARKER")
case("json marker in a plain name key passes with --marker-names-ok", "m3.json",
     '{"pool_MARKER": {"a": "MARKER"}}\n', True, marker="MARKER", names_ok=True)
case("json marker in a key with a space fails even with --marker-names-ok", "m4.json",
     '{"pool MARKER": 1}\n', False, marker="MARKER", expect="object key", names_ok=True)
case("json marker in key fails", "m2.json", '{"MARKER": 1}\n', False, marker="MARKER",
     expect="object key")

# ---------------------------------------------------------------------------- Tcl iRule

IRULE = """# Send /ECTS/ (any case, percent-decoded) to the admin pool; always select a pool.
when CLIENT_ACCEPTED {
    set default_pool [LB::server pool]
}
when HTTP_REQUEST {
    set path [string tolower [URI::decode [HTTP::path]]]
    switch -glob -- $path {
        "/ects" -
        "/ects/*" { pool /Common/WSS_partner_admin }
        default { pool $default_pool }
    }
    if { $path eq "PLACE" } {
        log local0. "matched PLACE"
    } elseif {[string length $path] > 100} {
        log local0. {long path PLACE}
    } else {
        set note {PLACE}
    }
}
"""
case("tcl good iRule", "a.tcl", IRULE, True)
case("tcl missing close-brace", "b.tcl", IRULE.rstrip().rstrip("}") + "\n", False,
     expect="incomplete command")
case("tcl extra characters after close-brace", "c.tcl",
     "when HTTP_REQUEST {\n  if {1}{ pool a }\n}\n", False, expect="2:9: extra characters")
case("tcl marker in quoted/braced data passes", "m1.tcl", IRULE.replace("PLACE", "MARKER"),
     True, marker="MARKER")
case("tcl marker as command fails", "m2.tcl", "when HTTP_REQUEST {\n  MARKER\n}\n", False,
     marker="MARKER", expect="2:3: marker outside")
case("tcl marker in command substitution fails", "m3.tcl",
     'when HTTP_REQUEST {\n  log local0. "x [MARKER] y"\n}\n', False, marker="MARKER",
     expect="marker outside")
case("tcl marker in a braced script body fails", "m4.tcl",
     "when HTTP_REQUEST {\n  if {1} {MARKER}\n}\n", False, marker="MARKER",
     expect="marker outside")

case("tcl marker in a quoted script (eval) fails", "m5.tcl",
     'when HTTP_REQUEST {\n  eval "log local0. MARKER"\n}\n', False, marker="MARKER",
     expect="marker outside")
case("tcl marker in $(..) array-element substitution fails", "m5b.tcl",
     'when HTTP_REQUEST {\n  log local0. "a $(MARKER) b"\n}\n', False, marker="MARKER",
     expect="marker outside")
case("tcl marker in a parenthesised expression string passes", "m6.tcl",
     'when HTTP_REQUEST {\n  if {([HTTP::path] eq "MARKER")} { pool a }\n}\n', True,
     marker="MARKER")
# Groups end where Tcl's parser says (tcl_scan.tcl asks tclsh): a quote inside braces and a
# brace inside quotes are plain characters, an escaped brace does not close.
case("tcl quote in braces and brace in quotes are plain", "q1.tcl",
     'when HTTP_REQUEST {\n  set a {x " y}\n  set b "x { y"\n  log local0. "[string length "}"]"\n}\n',
     True)
case("tcl escaped close-brace does not close the body", "q2.tcl",
     'when HTTP_REQUEST {\n  set a 1 \\}\n', False, expect="incomplete")
case("tcl extra characters after close-quote in a body", "q3.tcl",
     'when HTTP_REQUEST {\n  set a "x"y\n}\n', False, expect="extra characters after close-quote")

# ---------------------------------------------------------------------------- tmsh .conf

CONF = """ltm monitor http /Common/mon_wss {
    defaults-from /Common/http
    description "PLACE"
}
ltm node /Common/sharepoint2 {
    address 10.1.0.2
}
ltm pool /Common/WSS_partner {
    members {
        /Common/sharepoint2:80 {
            address 10.1.0.2
            priority-group 1
        }
    }
    min-active-members 1
    monitor /Common/mon_wss
}
ltm rule /Common/ects_admin {
when HTTP_REQUEST {
    log local0. "PLACE"
}
}
"""
case("tmsh good merge file", "a.conf", CONF, True)
case("tmsh missing close-brace", "b.conf", CONF.replace("    monitor /Common/mon_wss\n}", "    monitor /Common/mon_wss\n"),
     False, expect="incomplete command")
case("tmsh marker in quoted property value passes", "m1.conf", CONF.replace("PLACE", "MARKER"),
     True, marker="MARKER")
case("tmsh marker as an object name fails", "m2.conf",
     CONF + "ltm pool /Common/MARKER {\n}\n", False, marker="MARKER", expect="marker outside")
case("tmsh marker as an object name passes with --marker-names-ok", "m3.conf",
     CONF + "ltm pool /Common/xMARKER.y-z {\n    members {\n        /Common/MARKER:80 {\n"
     "            address 10.1.0.9\n        }\n    }\n}\nltm virtual /Common/v {\n"
     "    pool /Common/xMARKER.y-z\n}\n", True, marker="MARKER", names_ok=True)
case("tmsh marker in an IPv6 destination passes with --marker-names-ok", "m3b.conf",
     CONF + "ltm virtual /MARKER/v6 {\n    destination /MARKER/2001:db8::80.80\n}\n", True,
     marker="MARKER", names_ok=True)
case("irule marker as a pool argument passes with --marker-names-ok", "m6.tcl",
     "when HTTP_REQUEST {\n    pool /MARKER/api_pool\n}\n", True, marker="MARKER", names_ok=True)
case("irule marker as a command name fails even with --marker-names-ok", "m7.tcl",
     "when HTTP_REQUEST {\n    MARKER /x\n}\n", False, marker="MARKER", expect="marker outside",
     names_ok=True)
case("irule marker as an eval argument fails even with --marker-names-ok", "m8.tcl",
     "when HTTP_REQUEST {\n    eval MARKER\n}\n", False, marker="MARKER", expect="marker outside",
     names_ok=True)
case("tmsh marker as a bare first word fails even with --marker-names-ok", "m4.conf",
     CONF.replace("    min-active-members 1", "    MARKER 1"), False, marker="MARKER",
     expect="marker outside", names_ok=True)
case("tmsh marker in a word with [ ] fails even with --marker-names-ok", "m5.conf",
     CONF.replace("    min-active-members 1", "    min-active-members [MARKER]"), False,
     marker="MARKER", expect="marker outside", names_ok=True)

# (.reg files are checked in Rust: their cases are in tests/it/checks/reg.rs.)

# ---------------------------------------------------------------------------- VBScript

VBS = '''' MaintMode.vbs ON|OFF <duration>
Option Explicit
Dim shell, args, mode, i
Set shell = CreateObject("WScript.Shell")
Set args = WScript.Arguments
If args.Count < 2 Then WScript.Quit 2
mode = UCase(args(0)) : If mode = "ON" Then mode = "1" Else mode = "0"
If mode = "1" Then
    WriteEvent "Maintenance ""PLACE"" on: " & _
        args(1)
ElseIf mode = "0" Then
    WriteEvent "off"
Else
    WScript.Quit 3
End If
For i = 0 To 2
    Do While False
    Loop
Next
Select Case mode
    Case "1"
        REM nothing more
    Case Else
End Select
With shell
    .LogEvent 4, "x"
End With
Sub WriteEvent(text)
    Dim rc
    rc = shell.Run("eventcreate /T INFORMATION /ID 100 /L APPLICATION /SO MaintMode /D """ & text & """", 0, True)
    If rc <> 0 Then
        WScript.Quit rc
    End If
End Sub
'''
case("vbs good", "a.vbs", crlf(VBS), True)
case("vbs missing End If", "b.vbs", VBS.replace("        WScript.Quit rc\n    End If\n", "        WScript.Quit rc\n"),
     False, expect="If opened at line 31 is not closed")
case("vbs missing Option Explicit", "c.vbs", VBS.replace("Option Explicit\n", ""), False,
     expect="Option Explicit")
case("vbs Loop without Do", "d.vbs", "Option Explicit\nLoop\n", False, expect="Loop without")
case("vbs unterminated string", "e.vbs", 'Option Explicit\nx = "abc\n', False,
     expect="unterminated")
case("vbs marker in string and comment passes", "m1.vbs",
     VBS.replace("PLACE", "MARKER") + "' MARKER\n", True, marker="MARKER")
case("vbs marker in code fails", "m2.vbs", 'Option Explicit\nDim s\ns = "a" & MARKER\n',
     False, marker="MARKER", expect="3:11: marker outside")

# ---------------------------------------------------------------------------- other

case("unchecked kind is reported, ok", "README.md", "# runbook\n", True)


# ---------------------------------------------------------------------------- runner


def run_cases(tmp: str) -> tuple[int, int]:
    passed = failed = 0
    groups: dict[tuple, list] = {}
    for i, c in enumerate(CASES):
        path = os.path.join(tmp, f"case{i:03d}", c["filename"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(c["content"])
        groups.setdefault((c["marker"], c["names_ok"]), []).append((path, c))
    for (marker, names_ok), items in groups.items():
        results = validate.validate_files([p for p, _ in items], marker, XSD, names_ok)
        for res, (_, c) in zip(results, items):
            ok = not res.errors
            problem = None
            if ok != c["ok"]:
                problem = f"expected {'pass' if c['ok'] else 'fail'}, got {res.errors or 'pass'}"
            elif not ok and c["expect"] and not any(c["expect"] in e for e in res.errors):
                problem = f"errors lack {c['expect']!r}: {res.errors}"
            if problem:
                failed += 1
                print(f"FAIL {c['name']} [{res.kind}]: {problem}")
            else:
                passed += 1
    return passed, failed


def run_cli(tmp: str) -> tuple[int, int]:
    """The command-line contract: JSON lines, summary, exit codes, missing XSD."""
    passed = failed = 0
    script = os.path.join(HERE, "validate.py")

    def check(name, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print(f"FAIL cli: {name} {detail}")

    d = os.path.join(tmp, "cli")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "ok.json"), "w") as f:
        f.write("{}\n")
    with open(os.path.join(d, "sub", "notes.txt"), "w") as f:
        f.write("x\n")
    p = subprocess.run([sys.executable, script, d], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    objs = [json.loads(line) for line in lines[:-1]]
    check("exit 0 when all pass", p.returncode == 0, p.stderr)
    check("summary line", lines[-1] == "validate: 2 passed, 0 failed", lines[-1:])
    check("unchecked listed", any(o["kind"] == "unchecked" and o["ok"] for o in objs), objs)
    check("json fields", all(set(o) == {"path", "kind", "ok", "errors"} for o in objs), objs)

    with open(os.path.join(d, "task.xml"), "wb") as f:
        f.write(task())
    p = subprocess.run([sys.executable, script, "--xsd", os.path.join(d, "missing.xsd"), d],
                       capture_output=True, text=True)
    check("exit 1 on failure", p.returncode == 1, p.stdout)
    check("missing XSD is an error, not a skip", "XSD not found" in p.stdout, p.stdout)

    p = subprocess.run([sys.executable, script, os.path.join(d, "nope")], capture_output=True,
                       text=True)
    check("exit 2 on missing path", p.returncode == 2, p.stderr)
    p = subprocess.run([sys.executable, script], capture_output=True, text=True)
    check("exit 2 without arguments", p.returncode == 2, p.stderr)
    return passed, failed


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        passed, failed = run_cases(tmp)
        t1 = time.perf_counter()
        p2, f2 = run_cli(tmp)
        p3, f3 = run_ag_sqlfluff()
    passed, failed = passed + p2 + p3, failed + f2 + f3
    print(f"({len(CASES)} samples validated in {t1 - t0:.2f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
