[# The job records of the SQL collectors (collect-sql.sql, collect-ag.sql): the jobs whose names start with job_prefix. #]
[% from "sql/collect-macros.sql" import esc, tab %]
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

