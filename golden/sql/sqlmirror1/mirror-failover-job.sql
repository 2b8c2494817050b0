:on error exit
-- sitebundle: failover-all job for SQL Server database mirroring (site N'partnerpoint').
-- Partner N'sqlmirror1.campus.example.edu,1433' (1 of 2). Run on that server:
--     sqlcmd -S <server> -E -b -f 65001 -i mirror-failover-job.sql
-- Creates or updates (in place, keeping its history) the SQL Server Agent job N'SP Mirroring - fail over all databases':
-- category created if missing, one T-SQL step in master, a schedule every 1 minute(s)
-- starting at 00:00:00 (the partners are staggered by 30 seconds).
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2008 or later.
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
USE [msdb];
GO
DECLARE @rc int, @job_id uniqueidentifier, @schedule_id int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;

    IF NOT EXISTS (SELECT 1 FROM msdb.dbo.syscategories WHERE name = N'Database Mirroring' AND category_class = 1)
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_category @class = N'JOB', @type = N'LOCAL', @name = N'Database Mirroring';
        IF @rc <> 0 RAISERROR (N'sp_add_category failed (%d).', 16, 1, @rc);
        PRINT N'Created the job category.';
    END;

    SELECT @job_id = job_id FROM msdb.dbo.sysjobs WHERE name = N'SP Mirroring - fail over all databases';
    IF @job_id IS NULL
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_job
            @job_name = N'SP Mirroring - fail over all databases',
            @enabled = 1,
            @description = N'sitebundle (site partnerpoint): if some, but not all, synchronized mirrored databases are principal here, fail over those that are. Partner 1 of 2, starts at 00:00:00.',
            @category_name = N'Database Mirroring',
            @owner_login_name = N'sa',
            @job_id = @job_id OUTPUT;
        IF @rc <> 0 RAISERROR (N'sp_add_job failed (%d).', 16, 1, @rc);
        EXEC @rc = msdb.dbo.sp_add_jobserver @job_id = @job_id, @server_name = N'(local)';
        IF @rc <> 0 RAISERROR (N'sp_add_jobserver failed (%d).', 16, 1, @rc);
        PRINT N'Created the job.';
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_job
            @job_id = @job_id,
            @enabled = 1,
            @description = N'sitebundle (site partnerpoint): if some, but not all, synchronized mirrored databases are principal here, fail over those that are. Partner 1 of 2, starts at 00:00:00.',
            @category_name = N'Database Mirroring',
            @owner_login_name = N'sa';
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
            @step_id = 1,
            @step_name = N'Fail over all mirrored databases',
            @subsystem = N'TSQL',
            @database_name = N'master',
            @command = N'-- sitebundle: fail over all mirrored databases together.
-- Runs in master as the job owner. If some, but not all, of the synchronized mirrored databases
-- (the databases listed in the queries below)
-- are principal here, fail over the ones that are principal (mirroring_role = 1), synchronized
-- (mirroring_state = 4) and in safety FULL (mirroring_safety_level = 2), so that all of them end
-- up on one partner. Prints what it decided; fails the step if a failover fails.
SET NOCOUNT ON;
DECLARE @synced int, @principal int, @failed int, @db sysname, @sql nvarchar(max);
SET @failed = 0;
SELECT @synced = COUNT(*),
       @principal = ISNULL(SUM(CASE WHEN m.mirroring_role = 1 THEN 1 ELSE 0 END), 0)
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE m.mirroring_state = 4
  AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
;
PRINT N''Synchronized mirrored databases: '' + CAST(@synced AS nvarchar(10))
    + N''; principal on this server: '' + CAST(@principal AS nvarchar(10)) + N''.'';
IF @principal > 0 AND @principal < @synced
BEGIN
    PRINT N''Some, but not all, are principal here: failing over those that are.'';
    DECLARE failover_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN failover_dbs;
    FETCH NEXT FROM failover_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER FAILOVER;'';
        PRINT N''Failing over '' + QUOTENAME(@db) + N''.'';
        BEGIN TRY
            EXEC master.sys.sp_executesql @sql;
        END TRY
        BEGIN CATCH
            SET @failed = @failed + 1;
            PRINT N''Failover of '' + QUOTENAME(@db) + N'' failed: '' + ERROR_MESSAGE();
        END CATCH;
        FETCH NEXT FROM failover_dbs INTO @db;
    END;
    CLOSE failover_dbs;
    DEALLOCATE failover_dbs;
    IF @failed > 0
        RAISERROR (N''%d database(s) could not be failed over; see the messages above.'', 16, 1, @failed);
END
ELSE IF @principal = 0
    PRINT N''No synchronized database is principal here: nothing to do.'';
ELSE
    PRINT N''Every synchronized database is principal here: nothing to do.'';
',
            @on_success_action = 1,
            @on_fail_action = 2,
            @retry_attempts = 0;
        IF @rc <> 0 RAISERROR (N'sp_update_jobstep failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_jobstep
            @job_id = @job_id,
            @step_id = 1,
            @step_name = N'Fail over all mirrored databases',
            @subsystem = N'TSQL',
            @database_name = N'master',
            @command = N'-- sitebundle: fail over all mirrored databases together.
-- Runs in master as the job owner. If some, but not all, of the synchronized mirrored databases
-- (the databases listed in the queries below)
-- are principal here, fail over the ones that are principal (mirroring_role = 1), synchronized
-- (mirroring_state = 4) and in safety FULL (mirroring_safety_level = 2), so that all of them end
-- up on one partner. Prints what it decided; fails the step if a failover fails.
SET NOCOUNT ON;
DECLARE @synced int, @principal int, @failed int, @db sysname, @sql nvarchar(max);
SET @failed = 0;
SELECT @synced = COUNT(*),
       @principal = ISNULL(SUM(CASE WHEN m.mirroring_role = 1 THEN 1 ELSE 0 END), 0)
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE m.mirroring_state = 4
  AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
;
PRINT N''Synchronized mirrored databases: '' + CAST(@synced AS nvarchar(10))
    + N''; principal on this server: '' + CAST(@principal AS nvarchar(10)) + N''.'';
IF @principal > 0 AND @principal < @synced
BEGIN
    PRINT N''Some, but not all, are principal here: failing over those that are.'';
    DECLARE failover_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN failover_dbs;
    FETCH NEXT FROM failover_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER FAILOVER;'';
        PRINT N''Failing over '' + QUOTENAME(@db) + N''.'';
        BEGIN TRY
            EXEC master.sys.sp_executesql @sql;
        END TRY
        BEGIN CATCH
            SET @failed = @failed + 1;
            PRINT N''Failover of '' + QUOTENAME(@db) + N'' failed: '' + ERROR_MESSAGE();
        END CATCH;
        FETCH NEXT FROM failover_dbs INTO @db;
    END;
    CLOSE failover_dbs;
    DEALLOCATE failover_dbs;
    IF @failed > 0
        RAISERROR (N''%d database(s) could not be failed over; see the messages above.'', 16, 1, @failed);
END
ELSE IF @principal = 0
    PRINT N''No synchronized database is principal here: nothing to do.'';
ELSE
    PRINT N''Every synchronized database is principal here: nothing to do.'';
',
            @on_success_action = 1,
            @on_fail_action = 2,
            @retry_attempts = 0;
        IF @rc <> 0 RAISERROR (N'sp_add_jobstep failed (%d).', 16, 1, @rc);
    END;

    SELECT @schedule_id = s.schedule_id
    FROM msdb.dbo.sysschedules AS s
    JOIN msdb.dbo.sysjobschedules AS js ON js.schedule_id = s.schedule_id
    WHERE js.job_id = @job_id AND s.name = N'SP Mirroring - fail over all databases';
    IF @schedule_id IS NULL
    BEGIN
        EXEC @rc = msdb.dbo.sp_add_schedule
            @schedule_name = N'SP Mirroring - fail over all databases',
            @enabled = 1,
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = 1,
            @active_start_time = 0,
            @active_end_time = 235959,
            @schedule_id = @schedule_id OUTPUT;
        IF @rc <> 0 RAISERROR (N'sp_add_schedule failed (%d).', 16, 1, @rc);
        -- Attach by id: schedule names are not unique.
        EXEC @rc = msdb.dbo.sp_attach_schedule @job_id = @job_id, @schedule_id = @schedule_id;
        IF @rc <> 0 RAISERROR (N'sp_attach_schedule failed (%d).', 16, 1, @rc);
    END
    ELSE
    BEGIN
        EXEC @rc = msdb.dbo.sp_update_schedule
            @schedule_id = @schedule_id,
            @enabled = 1,
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = 1,
            @active_start_time = 0,
            @active_end_time = 235959;
        IF @rc <> 0 RAISERROR (N'sp_update_schedule failed (%d).', 16, 1, @rc);
    END;

    COMMIT TRANSACTION;
    PRINT N'Job ready: every ' + CAST(1 AS nvarchar(10)) + N' minute(s) from ' + N'00:00:00' + N'.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Failover job not installed, nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
