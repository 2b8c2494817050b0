:on error exit
-- sitebundle: pause the failover-all job and its alerts (site N'partnerpoint').
-- Partner N'sqlmirror1.campus.example.edu,1433'. Run on both partners before planned failovers or patching, so
-- the job does not move databases while you work:
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
