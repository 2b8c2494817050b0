:on error exit
-- sitebundle: WMI alerts on database mirroring state changes (site [[ site | tsql_str ]]).
-- Partner [[ partner | tsql_str ]]. Run on that server after mirror-failover-job.sql:
--     sqlcmd -S <server> -E -b -f 65001 -i mirroring-alerts.sql
-- Each alert starts the job [[ job_name | tsql_str ]] when DATABASE_MIRRORING_STATE_CHANGE reports
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
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = [[ job_name | tsql_str ]])
        RAISERROR (N'The job %s does not exist: run mirror-failover-job.sql on this server first.', 16, 1, [[ job_name | tsql_str ]]);
    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.syscategories WHERE name = [[ category | tsql_str ]] AND category_class = 2)
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_category @class = N'ALERT', @type = N'NONE', @name = [[ category | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_add_category failed (%d).', 16, 1, @rc);
    END;
[% for a in alerts %]

    -- [[ a.what | trusted ]]
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = [[ a.name | tsql_str ]])
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_alert
            @name = [[ a.name | tsql_str ]],
            @delay_between_responses = [[ a.delay ]],
            @include_event_description_in = 0,
            @category_name = [[ category | tsql_str ]],
            @wmi_namespace = [[ namespace | tsql_str ]],
            @wmi_query = [[ a.query | tsql_str ]],
            @job_name = [[ job_name | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_update_alert failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_alert
            @name = [[ a.name | tsql_str ]],
            @enabled = 1,
            @message_id = 0,
            @severity = 0,
            @delay_between_responses = [[ a.delay ]],
            @include_event_description_in = 0,
            @category_name = [[ category | tsql_str ]],
            @wmi_namespace = [[ namespace | tsql_str ]],
            @wmi_query = [[ a.query | tsql_str ]],
            @job_name = [[ job_name | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_add_alert failed (%d).', 16, 1, @rc);
    END;
[% endfor %]
[% for r in retired %]

    -- Retired: [[ r | tsql_str ]] (an alert of earlier versions that could not lead to an action).
    IF EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = [[ r | tsql_str ]])
    BEGIN
        EXEC @rc = msdb.dbo.sp_delete_alert @name = [[ r | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_delete_alert failed (%d).', 16, 1, @rc);
    END;
[% endfor %]

    COMMIT TRANSACTION;
    PRINT N'Mirroring alerts ready on namespace ' + [[ namespace | tsql_str ]] + N'.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Mirroring alerts not installed, nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
