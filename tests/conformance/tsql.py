"""Conformance table of the T-SQL interpreter over SQLite (tests/sql_logic.py: Program, Ctx,
StaticEnv, new_catalog/load_catalog), the one that executes the generated failover job step.

Each case is a T-SQL batch run by the interpreter itself (sql_logic.Program(...).run on a
StaticEnv over sql_logic.new_catalog), on the catalog rows `rows` (name, mirroring_role,
mirroring_state, mirroring_safety_level[, witness]); the result is what `result` picks: the
variables after the batch, the messages (severity, text, caught), whether the step failed, the
ALTERs it issued. The expected value comes from the cited document.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import sql_logic as L  # noqa: E402

MODEL = "T-SQL interpreter (tests/sql_logic.py)"

LEARN = "https://learn.microsoft.com/en-us/sql/"
ROWS = [("SharePoint_Config", 1, 4, 2), ("WSS_Content", 2, 2, 2), ("Search_DB", None, None, None)]


def run(case):
    cat = L.new_catalog()
    L.load_catalog(cat, case.get("rows", ROWS))
    env = L.StaticEnv(cat)
    ctx = L.drive(L.Program(case["sql"]).run(env))
    want = case["result"]
    if want == "vars":
        return {k: ctx.vars[k] for k in case["expect"]}
    if want == "messages":
        return [[sev, text] for _, sev, text, _ in ctx.messages]
    if want == "failed":
        return ctx.step_failed
    if want == "altered":
        return env.altered
    raise ValueError(want)


CASES = [
    dict(id="declare-null", result="vars",
         sql="DECLARE @x INT; DECLARE @s NVARCHAR(20);",
         expect={"x": None, "s": None},
         source=LEARN + "t-sql/language-elements/declare-local-variable-transact-sql",
         quote="After declaration, all variables are initialized as NULL, unless a value is provided as part of "
               "the declaration."),
    dict(id="declare-initialised", result="vars",
         sql="DECLARE @x INT = 5; DECLARE @y INT; SET @y = @x + 1;",
         expect={"x": 5, "y": 6}, misreading={"x": None, "y": None},
         source=LEARN + "t-sql/language-elements/declare-local-variable-transact-sql",
         quote="= value: Assigns a value to the variable in-line. (The interpreter left such a variable NULL: fixed.)"),
    dict(id="select-assign-no-row", result="vars",
         sql="DECLARE @id INT; SET @id = 7; SELECT @id = database_id FROM sys.databases WHERE name = N'nothing';",
         expect={"id": 7}, misreading={"id": None},
         source=LEARN + "t-sql/language-elements/select-local-variable-transact-sql",
         quote="If the SELECT statement returns no rows, the variable retains its present value."),
    dict(id="select-assign-last-row", result="vars",
         sql="DECLARE @n NVARCHAR(128); SELECT @n = name FROM sys.databases ORDER BY database_id;",
         expect={"n": "Search_DB"}, misreading={"n": "SharePoint_Config"},
         source=LEARN + "t-sql/language-elements/select-local-variable-transact-sql",
         quote="If the SELECT statement returns more than one value, the variable is assigned the last value that "
               "is returned."),
    dict(id="concat-null-yields-null", result="vars",
         sql="DECLARE @s NVARCHAR(40); SET @s = N'abc' + NULL;",
         expect={"s": None}, misreading={"s": "abc"},
         source=LEARN + "t-sql/statements/set-concat-null-yields-null-transact-sql",
         quote="When SET CONCAT_NULL_YIELDS_NULL is ON, concatenating a null value with a string yields a NULL "
               "result."),
    dict(id="concat-string-variables", result="vars",
         sql="DECLARE @a NVARCHAR(10), @b NVARCHAR(10), @c NVARCHAR(20); SET @a = N'ab'; SET @b = N'cd'; "
             "SET @c = @a + @b;",
         expect={"c": "abcd"}, misreading={"c": 0},
         source=LEARN + "t-sql/language-elements/string-concatenation-transact-sql",
         quote="An operator in a string expression that concatenates two or more character or binary strings. "
               "(The interpreter added two string variables as numbers: fixed.)"),
    dict(id="plus-numbers-beside-a-string", result="vars",
         sql="DECLARE @n INT, @t NVARCHAR(20); SET @n = 4; SET @t = CASE WHEN @n + 1 = 5 THEN N'five' ELSE N'no' END;",
         expect={"t": "five"}, misreading={"t": "no"},
         source=LEARN + "t-sql/language-elements/add-transact-sql",
         quote="+ (Addition): adds two numbers (a string literal elsewhere in the expression does not make it a "
               "concatenation)"),
    dict(id="if-exists", result="vars",
         sql="DECLARE @r INT; SET @r = 0; IF EXISTS (SELECT 1 FROM sys.databases WHERE name = N'WSS_Content') "
             "SET @r = 1; IF EXISTS (SELECT 1 FROM sys.databases WHERE name = N'nothing') SET @r = @r + 10;",
         expect={"r": 1}, misreading={"r": 11},
         source=LEARN + "t-sql/language-elements/exists-transact-sql",
         quote="EXISTS: Returns TRUE if a subquery contains any rows."),
    dict(id="isnull", result="vars",
         sql="DECLARE @w NVARCHAR(100); SELECT @w = ISNULL(m.mirroring_witness_name, N'') FROM "
             "sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id "
             "WHERE d.name = N'SharePoint_Config';",
         expect={"w": ""}, misreading={"w": None},
         source=LEARN + "t-sql/functions/isnull-transact-sql",
         quote="Replaces NULL with the specified replacement value."),
    dict(id="coalesce", result="vars",
         sql="DECLARE @v INT; SET @v = COALESCE(NULL, NULL, 3, 4);",
         expect={"v": 3},
         source=LEARN + "t-sql/language-elements/coalesce-transact-sql",
         quote="Evaluates the arguments in order and returns the current value of the first expression that "
               "initially doesn't evaluate to NULL."),
    dict(id="null-comparison-unknown", result="vars",
         sql="DECLARE @x INT, @r INT; IF @x = NULL SET @r = 1; ELSE SET @r = 0;",
         expect={"r": 0}, misreading={"r": 1},
         source=LEARN + "t-sql/statements/set-ansi-nulls-transact-sql",
         quote="When ANSI_NULLS is ON, a SELECT statement that uses WHERE column_name = NULL returns zero rows "
               "even if there are null values in column_name."),
    dict(id="compare-case-insensitive", result="vars",
         sql="DECLARE @r INT; IF N'SHAREPOINT_CONFIG' = N'SharePoint_Config' SET @r = 1; ELSE SET @r = 0;",
         expect={"r": 1}, misreading={"r": 0},
         source=LEARN + "relational-databases/collations/collation-and-unicode-support",
         quote="Default server collation for English (United States) is SQL_Latin1_General_CP1_CI_AS; _CI: "
               "case-insensitive. (The interpreter compared case-sensitively: fixed.)"),
    dict(id="catalog-name-case-insensitive", result="vars",
         sql="DECLARE @role INT; SELECT @role = m.mirroring_role FROM sys.database_mirroring AS m JOIN "
             "sys.databases AS d ON d.database_id = m.database_id WHERE d.name = N'sharepoint_config';",
         expect={"role": 1}, misreading={"role": None},
         source=LEARN + "relational-databases/collations/set-or-change-the-server-collation",
         quote="The server collation acts as the default collation for all system databases (sys.databases.name "
               "is compared in it, case-insensitively by default)."),
    dict(id="compare-trailing-spaces", result="vars",
         sql="DECLARE @r INT; IF N'abc' = N'abc   ' SET @r = 1; ELSE SET @r = 0;",
         expect={"r": 1}, misreading={"r": 0},
         source="https://support.microsoft.com/kb/316626 (How SQL Server compares strings with trailing spaces)",
         quote="SQL Server follows the ANSI/ISO SQL-92 specification ... on how to compare strings with spaces: "
               "the shorter string is padded with spaces before the comparison."),
    dict(id="len-trailing-spaces", result="vars",
         sql="DECLARE @n INT; SET @n = LEN(N'ab  ');",
         expect={"n": 2}, misreading={"n": 4},
         source=LEARN + "t-sql/functions/len-transact-sql",
         quote="Returns the number of characters of the specified string expression, excluding trailing spaces."),
    dict(id="quotename", result="vars",
         sql="DECLARE @q NVARCHAR(40); SET @q = QUOTENAME(N'abc[]def');",
         expect={"q": "[abc[]]def]"}, misreading={"q": "[abc[]def]"},
         source=LEARN + "t-sql/functions/quotename-transact-sql",
         quote="SELECT QUOTENAME('abc[]def'); Here is the result set: [abc[]]def]"),
    dict(id="left", result="vars",
         sql="DECLARE @s NVARCHAR(10); SET @s = LEFT(N'abcdef', 3);",
         expect={"s": "abc"},
         source=LEARN + "t-sql/functions/left-transact-sql",
         quote="Returns the left part of a character string with the specified number of characters."),
    dict(id="integer-division", result="vars",
         sql="DECLARE @q INT; SET @q = 7 / 2;",
         expect={"q": 3}, misreading={"q": 3.5},
         source=LEARN + "t-sql/language-elements/divide-transact-sql",
         quote="If an integer dividend is divided by an integer divisor, the result is an integer that has any "
               "fractional part of the result truncated."),
    dict(id="mirroring-columns-principal", result="vars",
         sql="DECLARE @role INT, @state INT, @desc NVARCHAR(60), @safety INT; SELECT @role = m.mirroring_role, "
             "@state = m.mirroring_state, @desc = m.mirroring_state_desc, @safety = m.mirroring_safety_level "
             "FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id "
             "WHERE d.name = N'SharePoint_Config';",
         expect={"role": 1, "state": 4, "desc": "SYNCHRONIZED", "safety": 2},
         source=LEARN + "relational-databases/system-catalog-views/sys-database-mirroring-transact-sql",
         quote="mirroring_role 1 = Principal; mirroring_state 4 = Synchronized; mirroring_safety_level 2 = Full "
               "[synchronous]"),
    dict(id="mirroring-columns-mirror", result="vars",
         sql="DECLARE @role INT, @desc NVARCHAR(60); SELECT @role = m.mirroring_role, @desc = "
             "m.mirroring_state_desc FROM sys.database_mirroring AS m JOIN sys.databases AS d ON "
             "d.database_id = m.database_id WHERE d.name = N'WSS_Content';",
         expect={"role": 2, "desc": "SYNCHRONIZING"}, misreading={"role": 2, "desc": "SYNCHRONIZED"},
         source=LEARN + "relational-databases/system-catalog-views/sys-database-mirroring-transact-sql",
         quote="mirroring_role 2 = Mirror; mirroring_state 2 = Synchronizing"),
    dict(id="mirroring-columns-not-mirrored", result="vars",
         sql="DECLARE @role INT, @state INT; SET @role = 9; SET @state = 9; SELECT @role = m.mirroring_role, "
             "@state = m.mirroring_state FROM sys.database_mirroring AS m JOIN sys.databases AS d ON "
             "d.database_id = m.database_id WHERE d.name = N'Search_DB';",
         expect={"role": None, "state": None}, misreading={"role": 9, "state": 9},
         source=LEARN + "relational-databases/system-catalog-views/sys-database-mirroring-transact-sql",
         quote="Contains one row for each database in the instance of SQL Server. ... NULL = Database is "
               "inaccessible or is not mirrored."),
    dict(id="raiserror-format", result="messages",
         sql="RAISERROR (N'This is message %s %d.', 10, 1, N'number', 5);",
         expect=[[10, "This is message number 5."]],
         source=LEARN + "t-sql/language-elements/raiserror-transact-sql",
         quote="RAISERROR (N'This is message %s %d.', 10, 1, N'number', 5); ... This is message number 5."),
    dict(id="raiserror-10-not-caught", result="vars",
         sql="DECLARE @caught INT; SET @caught = 0; BEGIN TRY RAISERROR (N'info', 10, 1); END TRY "
             "BEGIN CATCH SET @caught = 1; END CATCH",
         expect={"caught": 0}, misreading={"caught": 1},
         source=LEARN + "t-sql/language-elements/try-catch-transact-sql",
         quote="Errors that have a severity of 10 or lower are considered warnings or informational messages, "
               "and aren't handled by TRY...CATCH blocks."),
    dict(id="raiserror-16-caught", result="vars",
         sql="DECLARE @n INT, @m NVARCHAR(200); BEGIN TRY RAISERROR (N'boom %s', 16, 1, N'x'); END TRY "
             "BEGIN CATCH SET @n = ERROR_NUMBER(); SET @m = ERROR_MESSAGE(); END CATCH",
         expect={"n": 50000, "m": "boom x"}, misreading={"n": None, "m": None},
         source=LEARN + "t-sql/language-elements/raiserror-transact-sql",
         quote="A RAISERROR severity of 11 to 19 executed in the TRY block of a TRY...CATCH construct causes "
               "control to transfer to the associated CATCH block. ... msg_str ... the error number is 50000."),
    dict(id="raiserror-16-continues", result="vars",
         sql="DECLARE @after INT; RAISERROR (N'boom', 16, 1); SET @after = 1;",
         expect={"after": 1}, misreading={"after": None},
         source=LEARN + "t-sql/language-elements/throw-transact-sql",
         quote="THROW: 'If a TRY...CATCH construct isn't available, the statement batch is terminated.' "
               "RAISERROR has no such rule (paraphrase): outside TRY the next statement runs."),
    dict(id="fetch-status", result="vars",
         sql="DECLARE @n NVARCHAR(128), @count INT, @last INT; SET @count = 0; DECLARE c CURSOR LOCAL FAST_FORWARD "
             "FOR SELECT name FROM sys.databases; OPEN c; FETCH NEXT FROM c INTO @n; WHILE @@FETCH_STATUS = 0 "
             "BEGIN SET @count = @count + 1; FETCH NEXT FROM c INTO @n; END; SET @last = @@FETCH_STATUS; "
             "CLOSE c; DEALLOCATE c;",
         expect={"count": 3, "last": -1}, misreading={"count": 3, "last": 0},
         source=LEARN + "t-sql/functions/fetch-status-transact-sql",
         quote="0 The FETCH statement was successful. -1 The FETCH statement failed or the row was beyond the "
               "result set."),
    dict(id="alter-quotename", result="altered",
         sql="DECLARE @db SYSNAME, @sql NVARCHAR(400); SET @db = N'odd]name'; SET @sql = N'ALTER DATABASE ' + "
             "QUOTENAME(@db) + N' SET PARTNER FAILOVER;'; EXEC master.sys.sp_executesql @sql;",
         expect=["odd]name"],
         source=LEARN + "t-sql/functions/quotename-transact-sql",
         quote="Returns a Unicode string with the delimiters added to make the input string a valid SQL Server "
               "delimited identifier (a ] in the name is doubled, so the ALTER names the database itself)."),
]
