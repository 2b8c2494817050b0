:on error exit
[% if enabled %]
-- sitebundle: resume the failover-all job and its alerts (site [[ site | tsql_str ]]).
-- Partner [[ partner | tsql_str ]]. Run on that server after planned failovers or patching:
--     sqlcmd -S <server> -E -b -f 65001 -i resume-failover-job.sql
[% else %]
-- sitebundle: pause the failover-all job and its alerts (site [[ site | tsql_str ]]).
-- Partner [[ partner | tsql_str ]]. Run on both partners before planned failovers or patching, so
-- the job does not move databases while you work:
--     sqlcmd -S <server> -E -b -f 65001 -i pause-failover-job.sql
-- resume-failover-job.sql enables them again; re-running mirror-failover-job.sql keeps them paused.
[% endif %]
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
USE [msdb];
GO
DECLARE @rc int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = [[ job_name | tsql_str ]])
        RAISERROR (N'The job %s does not exist on this server.', 16, 1, [[ job_name | tsql_str ]]);
    EXEC @rc = msdb.dbo.sp_update_job
        @job_name = [[ job_name | tsql_str ]],
        @enabled = [% if enabled %]1[% else %]0[% endif %];
    IF @rc <> 0 RAISERROR (N'sp_update_job failed (%d).', 16, 1, @rc);
[% for a in alerts %]
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = [[ a | tsql_str ]])
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = [[ a | tsql_str ]],
            @enabled = [% if enabled %]1[% else %]0[% endif %];
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END;
[% endfor %]
    COMMIT TRANSACTION;
    PRINT N'The failover job and its alerts are [% if enabled %]enabled[% else %]disabled[% endif %].';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
