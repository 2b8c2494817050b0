:on error exit
-- sitebundle: pause the failover-all job and its alerts (site N'partnerpoint').
-- Partner N'sqlmirror2.campus.example.edu,1433'. Run on both partners before planned failovers or patching, so
-- the job does not move databases while you work. It then waits for a run under way to finish (up
-- to 60 seconds) or stops it, and says which:
--     sqlcmd -S <server> -E -b -f 65001 -i pause-failover-job.sql
-- resume-failover-job.sql enables them again; re-running mirror-failover-job.sql keeps them paused.
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
USE [msdb];
GO
DECLARE @rc int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = N'SP Mirroring - fail over all databases')
        RAISERROR (N'The job %s does not exist on this server.', 16, 1, N'SP Mirroring - fail over all databases');
    EXEC @rc = msdb.dbo.sp_update_job
        @job_name = N'SP Mirroring - fail over all databases',
        @enabled = 0;
    IF @rc <> 0 RAISERROR (N'sp_update_job failed (%d).', 16, 1, @rc);
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = N'partnerpoint - manual failover')
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = N'partnerpoint - manual failover',
            @enabled = 0;
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END;
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = N'partnerpoint - automatic failover')
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = N'partnerpoint - automatic failover',
            @enabled = 0;
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END;
    COMMIT TRANSACTION;
    PRINT N'The failover job and its alerts are disabled.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
-- A run already under way goes on with what it decided: wait for it to finish (up to 60 seconds),
-- then stop it. Running: a row of the current SQL Server Agent session (the latest of
-- msdb.dbo.syssessions) in msdb.dbo.sysjobactivity with a start and no stop (what
-- sp_help_jobactivity reports); sp_stop_job ends it. This says which it did.
DECLARE @waited int, @rc int, @msg nvarchar(2048);
SET @waited = 0;
WHILE @waited < 60 AND EXISTS (
    SELECT 1
    FROM msdb.dbo.sysjobactivity AS a
    JOIN msdb.dbo.sysjobs AS j ON j.job_id = a.job_id
    WHERE j.name = N'SP Mirroring - fail over all databases'
      AND a.session_id = (SELECT MAX(s.session_id) FROM msdb.dbo.syssessions AS s)
      AND a.start_execution_date IS NOT NULL
      AND a.stop_execution_date IS NULL)
BEGIN
    WAITFOR DELAY '00:00:05';
    SET @waited = @waited + 5;
END;
IF EXISTS (
    SELECT 1
    FROM msdb.dbo.sysjobactivity AS a
    JOIN msdb.dbo.sysjobs AS j ON j.job_id = a.job_id
    WHERE j.name = N'SP Mirroring - fail over all databases'
      AND a.session_id = (SELECT MAX(s.session_id) FROM msdb.dbo.syssessions AS s)
      AND a.start_execution_date IS NOT NULL
      AND a.stop_execution_date IS NULL)
BEGIN
    BEGIN TRY
        EXEC @rc = msdb.dbo.sp_stop_job @job_name = N'SP Mirroring - fail over all databases';
        PRINT N'A run was still under way after 60 seconds: stopped it (sp_stop_job). Check the job history and the error log for what it did.';
    END TRY
    BEGIN CATCH
        SET @msg = ERROR_MESSAGE();
        PRINT N'The run ended while it was being stopped: ' + @msg;
    END CATCH;
END
ELSE IF @waited > 0
    PRINT N'Waited ' + CAST(@waited AS nvarchar(10)) + N' seconds for the run under way to finish; it has.';
ELSE
    PRINT N'No run of the job was under way.';
GO
