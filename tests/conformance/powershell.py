"""Conformance table of the PowerShell interpreter of tests/farm_timeline.py (class PS, over the
tree-sitter-powershell tree, with the cmdlets of class Host), the one that runs the generated alias
switcher.

Each case is a script run by farm_timeline.PS(...).run on a farm_timeline.Host (a front end with an
empty registry unless `registry` says otherwise); the result is what Write-Output wrote and the exit
code.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import farm_timeline as F  # noqa: E402

MODEL = "PowerShell interpreter (tests/farm_timeline.py, classes PS and Host)"

ABOUT = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/"
CMP = ABOUT + "about_comparison_operators"
BOOL = ABOUT + "about_booleans"
KEY = r"HKLM:\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo"


class World:
    """What Host needs from the simulation around it (time, the violation log)."""
    now = 0

    def violation(self, inv, host, msg):
        raise AssertionError(msg)


def run(case):
    host = F.Host("WEB1", "x64", World())
    for name, value in case.get("registry", {}).items():
        host.write(KEY, name, value)
    code = F.PS(case["ps"].encode()).run(host)
    return {"exit": code, "out": host.output}


def ps(text, out, exit=0, **kw):
    return dict(ps=text, expect={"exit": exit, "out": out}, **kw)


CASES = [
    dict(id="eq-on-array-filters",
         **ps("Write-Output (@(1, 2, 3, 2) -eq 2)", [[2, 2]]), misreading={"exit": 0, "out": [False]},
         source=CMP, quote="When the input of an operator is a collection, the comparison operators return any "
                           "matching values of the collection. (The interpreter returned a Boolean: fixed.)"),
    dict(id="ne-on-array-filters",
         **ps("Write-Output (@('a', 'b') -ne 'A')", [["b"]]), misreading={"exit": 0, "out": [True]},
         source=CMP, quote="-ne on a collection: the items that are not equal (equality ignores case)"),
    dict(id="eq-ignores-case",
         **ps("Write-Output ('SQLMIRROR1' -eq 'sqlmirror1')", [True]), misreading={"exit": 0, "out": [False]},
         source=CMP, quote="By default, all comparison operators are case-insensitive."),
    dict(id="eq-null",
         **ps("$x = $null\nWrite-Output ($x -eq $null)", [True]),
         source=CMP, quote="$null -eq ... : a variable that holds $null is equal to $null"),
    dict(id="eq-right-converted-to-int",
         **ps("Write-Output (1 -eq '1.0')", [True]), misreading={"exit": 0, "out": [False]},
         source=CMP, quote="1 -eq '1.0' returns True: the right-hand operand is converted to the type of the "
                           "left-hand one. (The interpreter compared without conversion: fixed.)"),
    dict(id="eq-right-converted-to-string",
         **ps("Write-Output ('1.0' -eq 1)", [False]), misreading={"exit": 0, "out": [True]},
         source=CMP, quote="'1.0' -eq 1 returns False: 1 is converted to the string '1'."),
    dict(id="gt-strings-ignore-case",
         **ps("Write-Output ('a' -gt 'B')", [False]), misreading={"exit": 0, "out": [True]},
         source=CMP, quote="-gt on strings compares them case-insensitively ('a' sorts before 'B'). (The "
                           "interpreter compared code points: fixed.)"),
    dict(id="gt-string-left",
         **ps("Write-Output ('10' -gt 9)", [False]), misreading={"exit": 0, "out": [True]},
         source=CMP, quote="the right operand is converted to the left one's type: '10' -gt '9' is a string "
                           "comparison"),
    dict(id="one-item-array-is-its-item",
         **ps("if (@(0)) { Write-Output 'yes' } else { Write-Output 'no' }", ["no"]),
         misreading={"exit": 0, "out": ["yes"]},
         source=BOOL, quote="Collections of exactly one item evaluate to the value of that item. (The "
                            "interpreter took any non-empty array as true: fixed.)"),
    dict(id="two-item-array-is-true",
         **ps("if (@(0, 0)) { Write-Output 'yes' } else { Write-Output 'no' }", ["yes"]),
         source=BOOL, quote="Collections with more than one item always evaluate to $true."),
    dict(id="empty-string-false",
         **ps("if ('') { Write-Output 'yes' } else { Write-Output 'no' }\nif ('False') { Write-Output 'yes' }",
              ["no", "yes"]),
         source=BOOL, quote="Empty strings evaluate to $false; any other string, even 'False', to $true."),
    dict(id="plus-left-string",
         **ps("Write-Output ('a' + 1)", ["a1"]),
         source=ABOUT + "about_arithmetic_operators",
         quote="If the first operand is a string, the second is converted to a string and concatenated."),
    dict(id="plus-left-number",
         **ps("Write-Output (1 + '2')", [3]), misreading={"exit": 0, "out": ["12"]},
         source=ABOUT + "about_arithmetic_operators",
         quote="If the first operand is a number, the string '2' is converted to a number: 1 + '2' is 3."),
    dict(id="plus-equals-appends",
         **ps("$a = @('x')\n$a += 'y'\nWrite-Output $a.Count", [2]),
         source=ABOUT + "about_assignment_operators",
         quote="+= on an array adds the value to the array."),
    dict(id="join",
         **ps("$s = @('SPAdmin', 'SPTimerV3')\nWrite-Output ($s -join ', ')", ["SPAdmin, SPTimerV3"]),
         source=ABOUT + "about_join", quote="-join: Combines the elements into a single string, with the "
                                            "delimiter between them."),
    dict(id="double-quoted-expands-variables",
         **ps("$name = 'SPSQL'\nWrite-Output \"alias $name\"", ["alias SPSQL"]),
         misreading={"exit": 0, "out": ["alias $name"]},
         source=ABOUT + "about_quoting_rules",
         quote="When you enclose a string in double quotation marks, variable names preceded by a dollar sign "
               "are replaced with the variable's value. (The interpreter expanded only $env: fixed.)"),
    dict(id="single-quoted-literal",
         **ps("$name = 'SPSQL'\nWrite-Output 'alias $name'", ["alias $name"]),
         source=ABOUT + "about_quoting_rules",
         quote="When you enclose a string in single quotation marks, the string is passed exactly as you type it."),
    dict(id="missing-value-silently",
         **ps("$v = Get-ItemProperty -Path '" + KEY + "' -Name 'SPSQL' -ErrorAction SilentlyContinue\n"
              "Write-Output ($v -eq $null)", [True]),
         source=ABOUT + "about_commonparameters",
         quote="-ErrorAction SilentlyContinue: the error message isn't displayed and execution continues."),
    dict(id="missing-value-stop-is-caught",
         **ps("try {\n  $v = Get-ItemProperty -Path '" + KEY + "' -Name 'SPSQL' -ErrorAction Stop\n"
              "  Write-Output 'read'\n} catch {\n  Write-Output 'caught'\n}", ["caught"]),
         misreading={"exit": 0, "out": ["read"]},
         source=ABOUT + "about_commonparameters",
         quote="-ErrorAction Stop: displays the error message and stops executing (a terminating error, which "
               "catch receives). (The interpreter never raised for a missing value: fixed.)"),
    dict(id="non-terminating-not-caught",
         **ps("try {\n  $c = Get-Content -Path 'C:\\none.state'\n  Write-Output 'went on'\n} catch {\n"
              "  Write-Output 'caught'\n}", ["went on"]),
         misreading={"exit": 0, "out": ["caught"]},
         source=ABOUT + "about_try_catch_finally",
         quote="A catch block handles terminating errors; with $ErrorActionPreference 'Continue' (the default) a "
               "missing file is a non-terminating error. (The interpreter always threw: fixed.)"),
    dict(id="preference-stop-is-caught",
         **ps("$ErrorActionPreference = 'Stop'\ntry {\n  $c = Get-Content -Path 'C:\\none.state'\n"
              "  Write-Output 'went on'\n} catch {\n  Write-Output 'caught'\n}", ["caught"]),
         source=ABOUT + "about_preference_variables",
         quote="$ErrorActionPreference Stop: displays the error message and stops executing."),
    dict(id="finally-runs",
         **ps("try {\n  Write-Output 'a'\n} finally {\n  Write-Output 'b'\n}", ["a", "b"]),
         source=ABOUT + "about_try_catch_finally", quote="a Finally block runs every time the script runs the Try "
                                                         "block"),
    dict(id="test-path-missing",
         **ps("Write-Output (Test-Path -Path 'C:\\none.state')", [False]),
         source="https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.management/test-path",
         quote="It returns $true if all elements exist and $false if any are missing."),
    dict(id="exit-code",
         **ps("Write-Output 'x'\nexit 3\nWrite-Output 'y'", ["x"], exit=3),
         source=ABOUT + "about_language_keywords",
         quote="exit: Causes PowerShell to exit a script ... the exit code is the number given."),
    # Added with MaintMode.ps1 (issue 31), each from the same documents.
    dict(id="match-fills-matches",
         **ps("if ('20m' -match '^([0-9]+)([MH])$') { Write-Output $Matches[1] }", ["20"]),
         misreading={"exit": 0, "out": []},
         source=CMP, quote="-match is case-insensitive by default; when the input is scalar, a match populates "
                           "the $Matches automatic variable (group 1 is $Matches[1])"),
    dict(id="notmatch-true-without-match",
         **ps("Write-Output ('20' -notmatch '^[0-9]+M$')", [True]), misreading={"exit": 0, "out": [False]},
         source=CMP, quote="-notmatch returns True when the string does not match the regular expression"),
    dict(id="function-positional-parameter",
         **ps("function F {\n    param([string]$a, [string]$b)\n    Write-Output ($a + '-' + $b)\n}\nF x y", ["x-y"]),
         misreading={"exit": 0, "out": ["-"]},
         source=ABOUT + "about_functions", quote="positional parameters are assigned in the order in which they are declared"),
    dict(id="multiply-int",
         **ps("$n = 2\nWrite-Output ($n * 60)", [120]),
         source=ABOUT + "about_arithmetic_operators", quote="* multiplies numbers"),
    dict(id="throw-caught",
         **ps("try { throw 'boom' } catch { Write-Output $_.Exception.Message }", ["boom"]),
         misreading={"exit": 0, "out": []},
         source=ABOUT + "about_throw", quote="The throw keyword causes a terminating error; a catch block handles it"),

]
