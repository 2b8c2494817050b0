[% from "sql/collect-macros.sql" import esc, tab %]
-- sitebundle: read-only collector for `sitebundle audit` (site [[ site | tsql_str ]]).
-- Run on each database mirroring partner, as a login that can read msdb's job and alert tables
-- (sysadmin, or SQLAgentReaderRole in msdb plus VIEW ANY DEFINITION), with the output in
-- collected\sql\<partner>.txt:
--     sqlcmd -S <partner> -E -d msdb -h -1 -y 0 -f 65001 -i collect\sql\collect-sql.sql -o collected\sql\<partner>.txt
-- It changes nothing on the server (the alert list goes through a temporary table in tempdb, the
-- way SQL Server Management Objects read sp_help_alert).
-- Output: one record per line, fields separated by a tab; inside a field \ is written \\, a tab
-- \t, CR \r and LF \n; every record ends with the field "." so that padding sqlcmd adds after it
-- is told apart from data. The first record is the header, the last one "end": a file without it
-- was cut short.
-- Records: job, jobserver, step, schedule (of the jobs whose names start with
-- [[ job_prefix | tsql_str ]]), alert, notification (of the alerts whose names start with
-- [[ alert_prefix | tsql_str ]]) and database (the site's databases and every mirrored one).
SET NOCOUNT ON;
SELECT N'sitebundle-collect'[[ tab() | trusted ]]N'sql'[[ tab() | trusted ]]N'1'[[ tab() | trusted ]][[ esc("@@SERVERNAME") | trusted ]][[ tab() | trusted ]][[ esc("SERVERPROPERTY('ProductVersion')") | trusted ]][[ tab() | trusted ]]N'.';

[% include "sql/collect-jobs.sql" %]
[% include "sql/collect-alerts-table.sql" %]

SELECT N'alert'[[ tab() | trusted ]][[ esc("a.name") | trusted ]][[ tab() | trusted ]][[ esc("a.enabled") | trusted ]][[ tab() | trusted ]][[ esc("a.job_name") | trusted ]][[ tab() | trusted ]][[ esc("a.delay_between_responses") | trusted ]][[ tab() | trusted ]][[ esc("a.category_name") | trusted ]][[ tab() | trusted ]][[ esc("a.wmi_namespace") | trusted ]][[ tab() | trusted ]][[ esc("a.wmi_query") | trusted ]][[ tab() | trusted ]]N'.'
FROM #sb_alerts AS a
WHERE LEFT(a.name, [[ alert_prefix_len ]]) = [[ alert_prefix | tsql_str ]]
ORDER BY a.name;

SELECT N'notification'[[ tab() | trusted ]][[ esc("a.name") | trusted ]][[ tab() | trusted ]][[ esc("o.name") | trusted ]][[ tab() | trusted ]][[ esc("n.notification_method") | trusted ]][[ tab() | trusted ]]N'.'
FROM msdb.dbo.sysnotifications AS n
JOIN msdb.dbo.sysalerts AS a ON a.id = n.alert_id
JOIN msdb.dbo.sysoperators AS o ON o.id = n.operator_id
WHERE LEFT(a.name, [[ alert_prefix_len ]]) = [[ alert_prefix | tsql_str ]]
ORDER BY a.name, o.name;

DROP TABLE #sb_alerts;

SELECT N'database'[[ tab() | trusted ]][[ esc("d.name") | trusted ]][[ tab() | trusted ]][[ esc("m.mirroring_role_desc") | trusted ]][[ tab() | trusted ]][[ esc("m.mirroring_state_desc") | trusted ]][[ tab() | trusted ]][[ esc("m.mirroring_safety_level_desc") | trusted ]][[ tab() | trusted ]][[ esc("m.mirroring_partner_name") | trusted ]][[ tab() | trusted ]][[ esc("m.mirroring_witness_name") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.databases AS d
JOIN sys.database_mirroring AS m ON m.database_id = d.database_id
WHERE m.mirroring_guid IS NOT NULL[% if databases %]

   OR d.name IN ([% for d in databases %][[ d | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])[% endif %]

ORDER BY d.name;

SELECT N'end'[[ tab() | trusted ]]N'.';
