[% from "sql/collect-macros.sql" import esc, tab %]
-- sitebundle: read-only collector for `sitebundle audit` (site [[ site | tsql_str ]]), availability group mode.
-- Run on each replica, as a login that can read msdb's job and alert tables and the Always On
-- catalog views (sysadmin, or SQLAgentReaderRole in msdb plus VIEW ANY DEFINITION and VIEW SERVER
-- STATE), with the output in collected\sql\<replica>.txt:
--     sqlcmd -S <replica> -E -d msdb -h -1 -y 0 -f 65001 -i collect\sql\collect-ag.sql -o collected\sql\<replica>.txt
-- It changes nothing on the server. Output as collect-sql.sql's: one record per line, tab-separated
-- fields, \ \t \r \n escaped, each record ending with the field ".", a header first and "end" last.
-- Records: [% if job_prefix %]job, jobserver, step, schedule (of the jobs whose names start with
-- [[ job_prefix | tsql_str ]]), [% endif %]agalert (the alerts whose names start with [[ alert_prefix | tsql_str ]], with their
-- message ids), message (whether 1480, 35264 and 35265 are written to the Application log),
-- and of the site's groups ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %]): ag, replica, listener,
-- listenerip, agdatabase and agrole (this replica's role and health: state, not configuration).
-- Columns: sys.availability_groups, sys.availability_replicas, sys.availability_group_listeners,
-- sys.availability_group_listener_ip_addresses, sys.availability_databases_cluster,
-- sys.dm_hadr_availability_replica_states, sys.messages (Microsoft Learn, each view's page).
SET NOCOUNT ON;
SELECT N'sitebundle-collect'[[ tab() | trusted ]]N'sql'[[ tab() | trusted ]]N'1'[[ tab() | trusted ]][[ esc("@@SERVERNAME") | trusted ]][[ tab() | trusted ]][[ esc("SERVERPROPERTY('ProductVersion')") | trusted ]][[ tab() | trusted ]]N'.';

[% if job_prefix %]
[% include "sql/collect-jobs.sql" %]
[% endif %]
[% include "sql/collect-alerts-table.sql" %]

SELECT N'agalert'[[ tab() | trusted ]][[ esc("a.name") | trusted ]][[ tab() | trusted ]][[ esc("a.enabled") | trusted ]][[ tab() | trusted ]][[ esc("a.message_id") | trusted ]][[ tab() | trusted ]][[ esc("a.severity") | trusted ]][[ tab() | trusted ]][[ esc("a.delay_between_responses") | trusted ]][[ tab() | trusted ]][[ esc("a.include_event_description") | trusted ]][[ tab() | trusted ]]N'.'
FROM #sb_alerts AS a
WHERE LEFT(a.name, [[ alert_prefix_len ]]) = [[ alert_prefix | tsql_str ]]
ORDER BY a.name;

DROP TABLE #sb_alerts;

SELECT N'message'[[ tab() | trusted ]][[ esc("m.message_id") | trusted ]][[ tab() | trusted ]][[ esc("m.is_event_logged") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.messages AS m
WHERE m.language_id = 1033 AND m.message_id IN ([% for m in messages %][[ m ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY m.message_id;

SELECT N'ag'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("g.automated_backup_preference_desc") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.availability_groups AS g
WHERE g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name;

SELECT N'replica'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("r.replica_server_name") | trusted ]][[ tab() | trusted ]][[ esc("r.endpoint_url") | trusted ]][[ tab() | trusted ]][[ esc("r.availability_mode_desc") | trusted ]][[ tab() | trusted ]][[ esc("r.failover_mode_desc") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.availability_replicas AS r
JOIN sys.availability_groups AS g ON g.group_id = r.group_id
WHERE g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name, r.replica_server_name;

SELECT N'listener'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("l.dns_name") | trusted ]][[ tab() | trusted ]][[ esc("l.port") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.availability_group_listeners AS l
JOIN sys.availability_groups AS g ON g.group_id = l.group_id
WHERE g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name, l.dns_name;

SELECT N'listenerip'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("l.dns_name") | trusted ]][[ tab() | trusted ]][[ esc("i.ip_address") | trusted ]][[ tab() | trusted ]][[ esc("i.ip_subnet_mask") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.availability_group_listener_ip_addresses AS i
JOIN sys.availability_group_listeners AS l ON l.listener_id = i.listener_id
JOIN sys.availability_groups AS g ON g.group_id = l.group_id
WHERE g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name, l.dns_name, i.ip_address;

SELECT N'agdatabase'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("c.database_name") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.availability_databases_cluster AS c
JOIN sys.availability_groups AS g ON g.group_id = c.group_id
WHERE g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name, c.database_name;

SELECT N'agrole'[[ tab() | trusted ]][[ esc("g.name") | trusted ]][[ tab() | trusted ]][[ esc("s.role_desc") | trusted ]][[ tab() | trusted ]][[ esc("s.synchronization_health_desc") | trusted ]][[ tab() | trusted ]]N'.'
FROM sys.dm_hadr_availability_replica_states AS s
JOIN sys.availability_groups AS g ON g.group_id = s.group_id
WHERE s.is_local = 1 AND g.name IN ([% for g in groups %][[ g | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
ORDER BY g.name;

SELECT N'end'[[ tab() | trusted ]]N'.';
