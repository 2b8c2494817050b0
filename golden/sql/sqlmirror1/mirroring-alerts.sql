:on error exit
-- sitebundle: WMI alerts on database mirroring state changes (site N'partnerpoint').
-- Partner N'sqlmirror1.campus.example.edu,1433'. Run on that server after mirror-failover-job.sql:
--     sqlcmd -S <server> -E -b -f 65001 -i mirroring-alerts.sql
-- Each alert starts the job N'SP Mirroring - fail over all databases' when DATABASE_MIRRORING_STATE_CHANGE reports
-- State 7 (manual failover) or State 8 (automatic failover) of the anchor database (its DatabaseName,
-- when the name can be written in WQL; else of any database): a failover of the anchor away from
-- this server is what makes the job act here, and it then acts at once instead of at its next
-- scheduled run. The job's own failovers of the other databases do not start it again. Connection-lost states (5, 6) are not alerted: nothing can be failed over
-- then. Existing alerts of these names are updated in place (operator notifications added by hand
-- and a disabled state are kept); a new alert is created enabled. The connection-lost alert of
-- earlier versions is removed.
-- Prerequisite: Service Broker enabled in msdb (SQL Server Agent receives WMI events through it):
--   SELECT is_broker_enabled FROM sys.databases WHERE name = N'msdb';  -- must be 1
--   (enable with Agent stopped: ALTER DATABASE msdb SET ENABLE_BROKER;)
-- Needs sysadmin. SQL Server 2008 or later.
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
USE [msdb];
GO
DECLARE @rc int, @msg nvarchar(2048);
SET @rc = 0;
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = N'msdb' AND is_broker_enabled = 1)
    RAISERROR (N'Warning: Service Broker is disabled in msdb, so these WMI alerts will never fire. Stop SQL Server Agent, run ALTER DATABASE msdb SET ENABLE_BROKER; and start Agent again.', 10, 1);
BEGIN TRY
    BEGIN TRANSACTION;
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = N'SP Mirroring - fail over all databases')
        RAISERROR (N'The job %s does not exist: run mirror-failover-job.sql on this server first.', 16, 1, N'SP Mirroring - fail over all databases');
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.syscategories WHERE name = N'Database Mirroring' AND category_class = 2)
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_category @class = N'ALERT', @type = N'NONE', @name = N'Database Mirroring';
        IF @rc <> 0 RAISERROR (N'sp_add_category failed (%d).', 16, 1, @rc);
    END;

    -- Manual failover (State 7)
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = N'partnerpoint - manual failover')
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = N'partnerpoint - manual failover',
            @delay_between_responses = 60,
            @include_event_description_in = 0,
            @category_name = N'Database Mirroring',
            @wmi_namespace = N'\\.\root\Microsoft\SqlServer\ServerEvents\MSSQLSERVER',
            @wmi_query = N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 7 AND DatabaseName = ''SharePoint_Config''',
            @job_name = N'SP Mirroring - fail over all databases';
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_alert
            @name = N'partnerpoint - manual failover',
            @enabled = 1,
            @message_id = 0,
            @severity = 0,
            @delay_between_responses = 60,
            @include_event_description_in = 0,
            @category_name = N'Database Mirroring',
            @wmi_namespace = N'\\.\root\Microsoft\SqlServer\ServerEvents\MSSQLSERVER',
            @wmi_query = N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 7 AND DatabaseName = ''SharePoint_Config''',
            @job_name = N'SP Mirroring - fail over all databases';
        IF @rc <> 0 RAISERROR (N'sp_add_alert failed (%d).', 16, 1, @rc);
    END;

    -- Automatic failover (State 8)
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = N'partnerpoint - automatic failover')
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = N'partnerpoint - automatic failover',
            @delay_between_responses = 60,
            @include_event_description_in = 0,
            @category_name = N'Database Mirroring',
            @wmi_namespace = N'\\.\root\Microsoft\SqlServer\ServerEvents\MSSQLSERVER',
            @wmi_query = N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 8 AND DatabaseName = ''SharePoint_Config''',
            @job_name = N'SP Mirroring - fail over all databases';
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_alert
            @name = N'partnerpoint - automatic failover',
            @enabled = 1,
            @message_id = 0,
            @severity = 0,
            @delay_between_responses = 60,
            @include_event_description_in = 0,
            @category_name = N'Database Mirroring',
            @wmi_namespace = N'\\.\root\Microsoft\SqlServer\ServerEvents\MSSQLSERVER',
            @wmi_query = N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 8 AND DatabaseName = ''SharePoint_Config''',
            @job_name = N'SP Mirroring - fail over all databases';
        IF @rc <> 0 RAISERROR (N'sp_add_alert failed (%d).', 16, 1, @rc);
    END;

    -- Retired: N'partnerpoint - connection lost' (an alert of earlier versions that could not lead to an action).
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = N'partnerpoint - connection lost')
    BEGIN
        EXEC @rc = msdb.dbo.sp_delete_alert @name = N'partnerpoint - connection lost';
        IF @rc <> 0 RAISERROR (N'sp_delete_alert failed (%d).', 16, 1, @rc);
    END;

    COMMIT TRANSACTION;
    PRINT N'Mirroring alerts ready on namespace ' + N'\\.\root\Microsoft\SqlServer\ServerEvents\MSSQLSERVER' + N'.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Mirroring alerts not installed, nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
