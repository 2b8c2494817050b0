:on error exit
-- sitebundle: retire database mirroring's failover job and alerts on [[ replica | tsql_str ]], before its databases move into the availability group [[ ag | tsql_ident ]] (site [[ site | tsql_str ]]).
-- Run on each former mirroring partner ([[ partners | tsql_str ]]), before mirroring-off.sql:
--     sqlcmd -E -b -f 65001 -i <this file> (the runbook gives the exact line)
-- The site's mirroring bundle installed them: the alerts [% for a in alerts %][[ a | tsql_str ]][% if not loop.last %], [% endif %][% endfor %] and the
-- failover-all job, found by its description (it starts [[ job_prefix | tsql_str ]], whatever its name).
-- Without this the job would keep acting on database mirroring while it is being removed. It
-- changes nothing else; a second run finds nothing to delete.
SET NOCOUNT ON;
GO
[% for a in alerts %]
IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = [[ a | tsql_str ]])
BEGIN
    EXEC msdb.dbo.sp_delete_alert @name = [[ a | tsql_str ]];
    PRINT N'Deleted the alert ' + [[ a | tsql_str ]] + N'.';
END
GO
[% endfor %]
DECLARE @job uniqueidentifier, @name sysname;
SELECT @job = job_id, @name = name FROM msdb.dbo.sysjobs WHERE LEFT(description, LEN([[ job_prefix | tsql_str ]])) = [[ job_prefix | tsql_str ]];
WHILE @job IS NOT NULL
BEGIN
    EXEC msdb.dbo.sp_delete_job @job_id = @job;
    PRINT N'Deleted the job ' + @name + N'.';
    SET @job = NULL;
    SELECT @job = job_id, @name = name FROM msdb.dbo.sysjobs WHERE LEFT(description, LEN([[ job_prefix | tsql_str ]])) = [[ job_prefix | tsql_str ]];
END
GO
PRINT [[ next | tsql_str ]];
GO
