[# An Agent job installed the same way for every job the bundle ships (sql/mirror-failover-job.sql, sql/ag-follow-job.sql): owner check, category, create or update in place keeping a paused job paused, one T-SQL step, one schedule; the blocks are what differs. #]
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
[% block header %]
-- sitebundle: failover-all job for SQL Server database mirroring (site [[ site | tsql_str ]]).
-- Partner [[ partner | tsql_str ]] ([[ position ]] of 2). Run on that server:
--     sqlcmd -S <server> -E -b -f 65001 -i mirror-failover-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job [[ job.name | tsql_str ]]:
-- category created if missing, one T-SQL step in master, a schedule every [[ job.interval_minutes ]] minute(s)
-- starting at [[ start_label | trusted ]] (the partners are staggered by [[ job.stagger_seconds ]] seconds).
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2008 or later.
[% endblock %]
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
-- The job owner must be sysadmin on this instance, checked before anything is changed. The step
[% block owner %]
-- runs as its owner: on the partner where a database is the mirror, sys.database_mirroring shows its
-- row only to sysadmin ("To see non-NULL values on a mirror database, you must be a member of the
-- sysadmin fixed server role", sys.database_mirroring (Transact-SQL)), and RAISERROR ... WITH LOG
-- needs sysadmin or ALTER TRACE (RAISERROR (Transact-SQL), option LOG). IS_SRVROLEMEMBER gives 1
-- for a member, 0 for a login that is not, NULL for an unknown login (IS_SRVROLEMEMBER
-- (Transact-SQL)); a Windows login may be a member through a Windows group.
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', [[ job.owner | tsql_str ]]), 0) <> 1
    RAISERROR (N'Failover job not installed, nothing changed: its owner %s is not sysadmin on this instance (or is no login here). The job runs as its owner and sees the mirror side only as sysadmin: set sql.job.owner to a sysadmin login.', 16, 1, [[ job.owner | tsql_str ]]);
[% endblock %]
GO
USE [msdb];
GO
DECLARE @rc int, @job_id uniqueidentifier, @schedule_id int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;

[% block outcome_table %]
    -- The step's last outcome per database: it logs a database's state only when it changes.
    -- Created when missing, kept across re-runs; rollback: DROP TABLE msdb.dbo.sitebundle_mirroring_outcome.
    IF OBJECT_ID(N'msdb.dbo.sitebundle_mirroring_outcome', N'U') IS NULL
        CREATE TABLE msdb.dbo.sitebundle_mirroring_outcome (
            database_name sysname NOT NULL PRIMARY KEY,
[% endblock %]
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
[% block paused %]
        -- No @enabled: a job a DBA disabled (pause-failover-job.sql) stays disabled.
[% endblock %]
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
[% block not_installed %]
    RAISERROR (N'Failover job not installed, nothing changed: %s', 16, 1, @msg);
[% endblock %]
END CATCH;
GO
