[# esc(x): the T-SQL expression x (written in this template, never a site value, hence `trusted`) as
   one field of the collector's format: NULL → empty, \ → \\, tab → \t, CR → \r, LF → \n. #]
[% macro esc(x) %]REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), [[ x | trusted ]]), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n')[% endmacro %]
[% macro tab() %] + NCHAR(9) + [% endmacro %]
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

SELECT N'job'[[ tab() | trusted ]][[ esc("j.name") | trusted ]][[ tab() | trusted ]][[ esc("j.enabled") | trusted ]][[ tab() | trusted ]][[ esc("SUSER_SNAME(j.owner_sid)") | trusted ]][[ tab() | trusted ]][[ esc("c.name") | trusted ]][[ tab() | trusted ]][[ esc("j.description") | trusted ]][[ tab() | trusted ]]N'.'
FROM msdb.dbo.sysjobs AS j
LEFT JOIN msdb.dbo.syscategories AS c ON c.category_id = j.category_id
WHERE LEFT(j.name, [[ job_prefix_len ]]) = [[ job_prefix | tsql_str ]]
ORDER BY j.name;

SELECT N'jobserver'[[ tab() | trusted ]][[ esc("j.name") | trusted ]][[ tab() | trusted ]][[ esc("s.server_id") | trusted ]][[ tab() | trusted ]]N'.'
FROM msdb.dbo.sysjobservers AS s
JOIN msdb.dbo.sysjobs AS j ON j.job_id = s.job_id
WHERE LEFT(j.name, [[ job_prefix_len ]]) = [[ job_prefix | tsql_str ]]
ORDER BY j.name, s.server_id;

SELECT N'step'[[ tab() | trusted ]][[ esc("j.name") | trusted ]][[ tab() | trusted ]][[ esc("st.step_id") | trusted ]][[ tab() | trusted ]][[ esc("st.step_name") | trusted ]][[ tab() | trusted ]][[ esc("st.subsystem") | trusted ]][[ tab() | trusted ]][[ esc("st.database_name") | trusted ]][[ tab() | trusted ]][[ esc("st.on_success_action") | trusted ]][[ tab() | trusted ]][[ esc("st.on_fail_action") | trusted ]][[ tab() | trusted ]][[ esc("st.retry_attempts") | trusted ]][[ tab() | trusted ]][[ esc("st.command") | trusted ]][[ tab() | trusted ]]N'.'
FROM msdb.dbo.sysjobsteps AS st
JOIN msdb.dbo.sysjobs AS j ON j.job_id = st.job_id
WHERE LEFT(j.name, [[ job_prefix_len ]]) = [[ job_prefix | tsql_str ]]
ORDER BY j.name, st.step_id;

SELECT N'schedule'[[ tab() | trusted ]][[ esc("j.name") | trusted ]][[ tab() | trusted ]][[ esc("s.name") | trusted ]][[ tab() | trusted ]][[ esc("s.enabled") | trusted ]][[ tab() | trusted ]][[ esc("s.freq_type") | trusted ]][[ tab() | trusted ]][[ esc("s.freq_interval") | trusted ]][[ tab() | trusted ]][[ esc("s.freq_subday_type") | trusted ]][[ tab() | trusted ]][[ esc("s.freq_subday_interval") | trusted ]][[ tab() | trusted ]][[ esc("s.active_start_time") | trusted ]][[ tab() | trusted ]][[ esc("s.active_end_time") | trusted ]][[ tab() | trusted ]]N'.'
FROM msdb.dbo.sysjobschedules AS js
JOIN msdb.dbo.sysschedules AS s ON s.schedule_id = js.schedule_id
JOIN msdb.dbo.sysjobs AS j ON j.job_id = js.job_id
WHERE LEFT(j.name, [[ job_prefix_len ]]) = [[ job_prefix | tsql_str ]]
ORDER BY j.name, s.name, s.schedule_id;

-- The columns of sp_help_alert's result set (SQL Server 2005 and later).
CREATE TABLE #sb_alerts (
    id int NULL, name nvarchar(128) NULL, event_source nvarchar(100) NULL,
    event_category_id int NULL, event_id int NULL, message_id int NULL, severity int NULL,
    enabled tinyint NULL, delay_between_responses int NULL, last_occurrence_date int NULL,
    last_occurrence_time int NULL, last_response_date int NULL, last_response_time int NULL,
    notification_message nvarchar(512) NULL, include_event_description tinyint NULL,
    database_name nvarchar(128) NULL, event_description_keyword nvarchar(100) NULL,
    occurrence_count int NULL, count_reset_date int NULL, count_reset_time int NULL,
    job_id uniqueidentifier NULL, job_name nvarchar(128) NULL, has_notification int NULL,
    flags int NULL, performance_condition nvarchar(512) NULL, category_name nvarchar(128) NULL,
    wmi_namespace nvarchar(max) NULL, wmi_query nvarchar(max) NULL, type int NULL
);
INSERT INTO #sb_alerts EXEC msdb.dbo.sp_help_alert;

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
