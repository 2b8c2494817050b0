[# The parameters of job step 1, shared by sp_update_jobstep and sp_add_jobstep; built only from escaped values, so `trusted` is safe. #]
[% macro step_params() %]
            @step_id = 1,
            @step_name = [[ step_name | tsql_str ]],
            @subsystem = N'TSQL',
            @database_name = N'master',
            @command = [[ step | tsql_text ]],
            @on_success_action = 1,
            @on_fail_action = 2,
            @retry_attempts = 0;
[% endmacro %]
:on error exit
-- sitebundle: the follower job of the availability groups (site [[ site | tsql_str ]]): the groups
-- [[ followers | trusted ]] follow the anchor group [[ anchor | tsql_ident ]].
-- Replica [[ replica | tsql_str ]] ([[ position ]] of [[ replicas ]]). Run on that server, after its ag-create or ag-join scripts:
--     sqlcmd -S <server> -E -b -f 65001 -i ag-follow-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job [[ job.name | tsql_str ]]:
-- category created if missing, one T-SQL step in master, a schedule every [[ job.interval_minutes ]] minute(s).
-- The same job runs on every replica; only where the anchor group is primary does it act.
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2012 or later.
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
-- The job owner must be sysadmin on this instance, checked before anything is changed. The step
-- runs as its owner: ALTER AVAILABILITY GROUP needs ALTER AVAILABILITY GROUP on the group, CONTROL
-- AVAILABILITY GROUP, ALTER ANY AVAILABILITY GROUP or CONTROL SERVER (ALTER AVAILABILITY GROUP
-- (Transact-SQL), Permissions), the sys.dm_hadr views VIEW SERVER STATE, and RAISERROR ... WITH LOG
-- sysadmin or ALTER TRACE (RAISERROR (Transact-SQL), option LOG). IS_SRVROLEMEMBER gives 1
-- for a member, 0 for a login that is not, NULL for an unknown login (IS_SRVROLEMEMBER
-- (Transact-SQL)); a Windows login may be a member through a Windows group.
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', [[ job.owner | tsql_str ]]), 0) <> 1
    RAISERROR (N'Follower job not installed, nothing changed: its owner %s is not sysadmin on this instance (or is no login here). The job runs as its owner and fails groups over: set sql.job.owner to a sysadmin login.', 16, 1, [[ job.owner | tsql_str ]]);
GO
USE [msdb];
GO
DECLARE @rc int, @job_id uniqueidentifier, @schedule_id int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;

    -- The step's last outcome per group: it logs a group's state only when it changes.
    -- Created when missing, kept across re-runs; rollback: DROP TABLE msdb.dbo.sitebundle_ag_outcome.
    IF OBJECT_ID(N'msdb.dbo.sitebundle_ag_outcome', N'U') IS NULL
        CREATE TABLE msdb.dbo.sitebundle_ag_outcome (
            group_name sysname NOT NULL PRIMARY KEY,
            outcome nvarchar(40) NOT NULL,
            changed datetime NOT NULL
        );

    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.syscategories WHERE name = [[ job.category | tsql_str ]] AND category_class = 1)
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_category @class = N'JOB', @type = N'LOCAL', @name = [[ job.category | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_add_category failed (%d).', 16, 1, @rc);
        PRINT N'Created the job category.';
    END;

    SELECT @job_id = job_id FROM msdb.dbo.sysjobs WHERE name = [[ job.name | tsql_str ]];
    IF @job_id IS NULL
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_job
            @job_name = [[ job.name | tsql_str ]],
            @enabled = 1,
            @description = [[ description | tsql_str ]],
            @category_name = [[ job.category | tsql_str ]],
            @owner_login_name = [[ job.owner | tsql_str ]],
            @job_id = @job_id OUTPUT;
        IF @rc <> 0 RAISERROR (N'sp_add_job failed (%d).', 16, 1, @rc);
        EXEC @rc = msdb.dbo.sp_add_jobserver @job_id = @job_id, @server_name = N'(local)';
        IF @rc <> 0 RAISERROR (N'sp_add_jobserver failed (%d).', 16, 1, @rc);
        PRINT N'Created the job.';
    END
    ELSE
    BEGIN
        -- No @enabled: a job a DBA paused (the runbook's sp_update_job @enabled = 0) stays disabled.
        EXEC @rc = msdb.dbo.sp_update_job
            @job_id = @job_id,
            @description = [[ description | tsql_str ]],
            @category_name = [[ job.category | tsql_str ]],
            @owner_login_name = [[ job.owner | tsql_str ]];
        IF @rc <> 0 RAISERROR (N'sp_update_job failed (%d).', 16, 1, @rc);
        IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysjobservers WHERE job_id = @job_id)
        BEGIN
            EXEC @rc = msdb.dbo.sp_add_jobserver @job_id = @job_id, @server_name = N'(local)';
            IF @rc <> 0 RAISERROR (N'sp_add_jobserver failed (%d).', 16, 1, @rc);
        END;
        PRINT N'Updated the existing job in place (its history is kept).';
    END;

    IF EXISTS (SELECT 1 FROM msdb.dbo.sysjobsteps WHERE job_id = @job_id AND step_id = 1)
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_jobstep
            @job_id = @job_id,
[[ step_params() | trusted ]]        IF @rc <> 0 RAISERROR (N'sp_update_jobstep failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_jobstep
            @job_id = @job_id,
[[ step_params() | trusted ]]        IF @rc <> 0 RAISERROR (N'sp_add_jobstep failed (%d).', 16, 1, @rc);
    END;

    SELECT @schedule_id = s.schedule_id
    FROM msdb.dbo.sysschedules AS s
    JOIN msdb.dbo.sysjobschedules AS js ON js.schedule_id = s.schedule_id
    WHERE js.job_id = @job_id AND s.name = [[ schedule_name | tsql_str ]];
    IF @schedule_id IS NULL
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_schedule
            @schedule_name = [[ schedule_name | tsql_str ]],
            @enabled = 1,
            @owner_login_name = [[ job.owner | tsql_str ]],
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = [[ job.interval_minutes ]],
            @active_start_time = [[ start_hhmmss ]],
            @active_end_time = 235959,
            @schedule_id = @schedule_id OUTPUT;
        IF @rc <> 0 RAISERROR (N'sp_add_schedule failed (%d).', 16, 1, @rc);
        -- Attach by id: schedule names are not unique.
        EXEC @rc = msdb.dbo.sp_attach_schedule @job_id = @job_id, @schedule_id = @schedule_id;
        IF @rc <> 0 RAISERROR (N'sp_attach_schedule failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        -- No @enabled: a disabled schedule stays disabled.
        EXEC @rc = msdb.dbo.sp_update_schedule
            @schedule_id = @schedule_id,
            @owner_login_name = [[ job.owner | tsql_str ]],
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = [[ job.interval_minutes ]],
            @active_start_time = [[ start_hhmmss ]],
            @active_end_time = 235959;
        IF @rc <> 0 RAISERROR (N'sp_update_schedule failed (%d).', 16, 1, @rc);
    END;

    COMMIT TRANSACTION;
    PRINT N'Job ready: every ' + CAST([[ job.interval_minutes ]] AS nvarchar(10)) + N' minute(s) from ' + [[ start_label | tsql_str ]] + N'.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Follower job not installed, nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
