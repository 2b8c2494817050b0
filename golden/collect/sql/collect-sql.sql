-- sitebundle: read-only collector for `sitebundle audit` (site N'partnerpoint').
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
-- N'SP Mirroring - fail over all databases'), alert, notification (of the alerts whose names start with
-- N'partnerpoint - ') and database (the site's databases and every mirrored one).
SET NOCOUNT ON;
SELECT N'sitebundle-collect' + NCHAR(9) + N'sql' + NCHAR(9) + N'1' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), @@SERVERNAME), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), SERVERPROPERTY('ProductVersion')), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.';

SELECT N'job' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.enabled), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), SUSER_SNAME(j.owner_sid)), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), c.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.description), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM msdb.dbo.sysjobs AS j
LEFT JOIN msdb.dbo.syscategories AS c ON c.category_id = j.category_id
WHERE LEFT(j.name, 38) = N'SP Mirroring - fail over all databases'
ORDER BY j.name;

SELECT N'jobserver' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.server_id), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM msdb.dbo.sysjobservers AS s
JOIN msdb.dbo.sysjobs AS j ON j.job_id = s.job_id
WHERE LEFT(j.name, 38) = N'SP Mirroring - fail over all databases'
ORDER BY j.name, s.server_id;

SELECT N'step' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.step_id), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.step_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.subsystem), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.database_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.on_success_action), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.on_fail_action), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.retry_attempts), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), st.command), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM msdb.dbo.sysjobsteps AS st
JOIN msdb.dbo.sysjobs AS j ON j.job_id = st.job_id
WHERE LEFT(j.name, 38) = N'SP Mirroring - fail over all databases'
ORDER BY j.name, st.step_id;

SELECT N'schedule' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), j.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.enabled), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.freq_type), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.freq_interval), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.freq_subday_type), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.freq_subday_interval), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.active_start_time), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), s.active_end_time), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM msdb.dbo.sysjobschedules AS js
JOIN msdb.dbo.sysschedules AS s ON s.schedule_id = js.schedule_id
JOIN msdb.dbo.sysjobs AS j ON j.job_id = js.job_id
WHERE LEFT(j.name, 38) = N'SP Mirroring - fail over all databases'
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

SELECT N'alert' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.enabled), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.job_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.delay_between_responses), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.category_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.wmi_namespace), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.wmi_query), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM #sb_alerts AS a
WHERE LEFT(a.name, 15) = N'partnerpoint - '
ORDER BY a.name;

SELECT N'notification' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), a.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), o.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), n.notification_method), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM msdb.dbo.sysnotifications AS n
JOIN msdb.dbo.sysalerts AS a ON a.id = n.alert_id
JOIN msdb.dbo.sysoperators AS o ON o.id = n.operator_id
WHERE LEFT(a.name, 15) = N'partnerpoint - '
ORDER BY a.name, o.name;

DROP TABLE #sb_alerts;

SELECT N'database' + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), d.name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), m.mirroring_role_desc), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), m.mirroring_state_desc), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), m.mirroring_safety_level_desc), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), m.mirroring_partner_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + REPLACE(REPLACE(REPLACE(REPLACE(ISNULL(CONVERT(nvarchar(max), m.mirroring_witness_name), N''), N'\', N'\\'), NCHAR(9), N'\t'), NCHAR(13), N'\r'), NCHAR(10), N'\n') + NCHAR(9) + N'.'
FROM sys.databases AS d
JOIN sys.database_mirroring AS m ON m.database_id = d.database_id
WHERE m.mirroring_guid IS NOT NULL
   OR d.name IN (N'SharePoint_Config', N'SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37', N'WSS_Content_PartnerPoint', N'WSS_Content_ECTS', N'WSS_Search_SHAREPOINT3')
ORDER BY d.name;

SELECT N'end' + NCHAR(9) + N'.';
