:on error exit
-- sitebundle: failover-all job for SQL Server database mirroring (site N'partnerpoint').
-- Partner N'sqlmirror2.campus.example.edu,1433' (2 of 2). Run on that server:
--     sqlcmd -S <server> -E -b -f 65001 -i mirror-failover-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job N'SP Mirroring - fail over all databases':
-- category created if missing, one T-SQL step in master, a schedule every 1 minute(s)
-- starting at 00:00:30 (the partners are staggered by 30 seconds).
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
            @description = N'sitebundle (site partnerpoint): where the anchor database SharePoint_Config is the mirror, fail over every database that is principal here, so that all follow it. Partner 2 of 2, starts at 00:00:30.',
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
        -- No @enabled: a job a DBA disabled (pause-failover-job.sql) stays disabled.
        EXEC @rc = msdb.dbo.sp_update_job
            @job_id = @job_id,
            @description = N'sitebundle (site partnerpoint): where the anchor database SharePoint_Config is the mirror, fail over every database that is principal here, so that all follow it. Partner 2 of 2, starts at 00:00:30.',
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
            @command = N'-- sitebundle: every mirrored database follows the anchor database N''SharePoint_Config''.
-- Runs in master as the job owner, on both partners. The anchor decides the direction, so the two
-- partners can never push databases at each other: where the anchor is the mirror, every database
-- (the databases listed in the query below)
-- that is principal here is failed over to the anchor''s principal, one at a time; where the anchor
-- is principal (or not mirrored here), nothing is done. Right before its ALTER DATABASE, each
-- database is read again: it is failed over only if it is still principal, SYNCHRONIZED and in
-- safety FULL, and the anchor still the mirror here. Every failover and every database that cannot
-- follow yet is written to the SQL Server error log and the Application event log (WITH LOG).
SET NOCOUNT ON;
DECLARE @anchor_role int, @db sysname, @sql nvarchar(max), @ready int, @state int, @safety int,
        @failed int, @moved int, @waiting int, @msg nvarchar(2048);
SET @failed = 0;
SET @moved = 0;
SET @waiting = 0;
SELECT @anchor_role = m.mirroring_role
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = N''SharePoint_Config'';
IF @anchor_role IS NULL OR @anchor_role NOT IN (1, 2)
    PRINT N''The anchor database is not mirrored on this server: nothing to do.'';
ELSE IF @anchor_role = 1
    PRINT N''The anchor database is principal here: nothing to do (the other partner follows it).'';
ELSE
BEGIN
    PRINT N''The anchor database is the mirror here: every database that is principal here follows it.'';
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN follow_dbs;
    FETCH NEXT FROM follow_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SELECT @ready = COUNT(*)
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE d.name = @db
          AND m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
          AND EXISTS (SELECT 1
                      FROM sys.database_mirroring AS a
                      JOIN sys.databases AS ad ON ad.database_id = a.database_id
                      WHERE ad.name = N''SharePoint_Config'' AND a.mirroring_role = 2);
        IF @ready = 1
        BEGIN
            SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER FAILOVER;'';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                SET @moved = @moved + 1;
                RAISERROR (N''sitebundle failover job: failed over %s to follow the anchor database.'', 10, 1, @db) WITH LOG;
            END TRY
            BEGIN CATCH
                SET @failed = @failed + 1;
                SET @msg = ERROR_MESSAGE();
                RAISERROR (N''sitebundle failover job: the failover of %s failed: %s'', 10, 1, @db, @msg) WITH LOG;
            END CATCH;
        END
        ELSE
        BEGIN
            SET @waiting = @waiting + 1;
            SELECT @state = m.mirroring_state, @safety = m.mirroring_safety_level
            FROM sys.database_mirroring AS m
            JOIN sys.databases AS d ON d.database_id = m.database_id
            WHERE d.name = @db;
            IF @safety = 1
                RAISERROR (N''sitebundle failover job: cannot converge: %s is principal here in high-performance mode (safety OFF), which cannot be failed over without data loss; fail it over by hand (runbook, SQL Server section).'', 10, 1, @db) WITH LOG;
            ELSE
                RAISERROR (N''sitebundle failover job: %s cannot follow the anchor yet: it is principal here but not SYNCHRONIZED (mirroring_state %d); it follows once it is.'', 10, 1, @db, @state) WITH LOG;
        END;
        FETCH NEXT FROM follow_dbs INTO @db;
    END;
    CLOSE follow_dbs;
    DEALLOCATE follow_dbs;
    PRINT N''Failed over: '' + CAST(@moved AS nvarchar(10)) + N''; waiting: ''
        + CAST(@waiting AS nvarchar(10)) + N''; failed: '' + CAST(@failed AS nvarchar(10)) + N''.'';
    IF @failed > 0
        RAISERROR (N''%d database(s) could not be failed over; see the messages above.'', 16, 1, @failed);
END
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
            @command = N'-- sitebundle: every mirrored database follows the anchor database N''SharePoint_Config''.
-- Runs in master as the job owner, on both partners. The anchor decides the direction, so the two
-- partners can never push databases at each other: where the anchor is the mirror, every database
-- (the databases listed in the query below)
-- that is principal here is failed over to the anchor''s principal, one at a time; where the anchor
-- is principal (or not mirrored here), nothing is done. Right before its ALTER DATABASE, each
-- database is read again: it is failed over only if it is still principal, SYNCHRONIZED and in
-- safety FULL, and the anchor still the mirror here. Every failover and every database that cannot
-- follow yet is written to the SQL Server error log and the Application event log (WITH LOG).
SET NOCOUNT ON;
DECLARE @anchor_role int, @db sysname, @sql nvarchar(max), @ready int, @state int, @safety int,
        @failed int, @moved int, @waiting int, @msg nvarchar(2048);
SET @failed = 0;
SET @moved = 0;
SET @waiting = 0;
SELECT @anchor_role = m.mirroring_role
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = N''SharePoint_Config'';
IF @anchor_role IS NULL OR @anchor_role NOT IN (1, 2)
    PRINT N''The anchor database is not mirrored on this server: nothing to do.'';
ELSE IF @anchor_role = 1
    PRINT N''The anchor database is principal here: nothing to do (the other partner follows it).'';
ELSE
BEGIN
    PRINT N''The anchor database is the mirror here: every database that is principal here follows it.'';
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN follow_dbs;
    FETCH NEXT FROM follow_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SELECT @ready = COUNT(*)
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE d.name = @db
          AND m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
          AND EXISTS (SELECT 1
                      FROM sys.database_mirroring AS a
                      JOIN sys.databases AS ad ON ad.database_id = a.database_id
                      WHERE ad.name = N''SharePoint_Config'' AND a.mirroring_role = 2);
        IF @ready = 1
        BEGIN
            SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER FAILOVER;'';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                SET @moved = @moved + 1;
                RAISERROR (N''sitebundle failover job: failed over %s to follow the anchor database.'', 10, 1, @db) WITH LOG;
            END TRY
            BEGIN CATCH
                SET @failed = @failed + 1;
                SET @msg = ERROR_MESSAGE();
                RAISERROR (N''sitebundle failover job: the failover of %s failed: %s'', 10, 1, @db, @msg) WITH LOG;
            END CATCH;
        END
        ELSE
        BEGIN
            SET @waiting = @waiting + 1;
            SELECT @state = m.mirroring_state, @safety = m.mirroring_safety_level
            FROM sys.database_mirroring AS m
            JOIN sys.databases AS d ON d.database_id = m.database_id
            WHERE d.name = @db;
            IF @safety = 1
                RAISERROR (N''sitebundle failover job: cannot converge: %s is principal here in high-performance mode (safety OFF), which cannot be failed over without data loss; fail it over by hand (runbook, SQL Server section).'', 10, 1, @db) WITH LOG;
            ELSE
                RAISERROR (N''sitebundle failover job: %s cannot follow the anchor yet: it is principal here but not SYNCHRONIZED (mirroring_state %d); it follows once it is.'', 10, 1, @db, @state) WITH LOG;
        END;
        FETCH NEXT FROM follow_dbs INTO @db;
    END;
    CLOSE follow_dbs;
    DEALLOCATE follow_dbs;
    PRINT N''Failed over: '' + CAST(@moved AS nvarchar(10)) + N''; waiting: ''
        + CAST(@waiting AS nvarchar(10)) + N''; failed: '' + CAST(@failed AS nvarchar(10)) + N''.'';
    IF @failed > 0
        RAISERROR (N''%d database(s) could not be failed over; see the messages above.'', 16, 1, @failed);
END
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
            @owner_login_name = N'sa',
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = 1,
            @active_start_time = 30,
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
            @owner_login_name = N'sa',
            @freq_type = 4,
            @freq_interval = 1,
            @freq_subday_type = 4,
            @freq_subday_interval = 1,
            @active_start_time = 30,
            @active_end_time = 235959;
        IF @rc <> 0 RAISERROR (N'sp_update_schedule failed (%d).', 16, 1, @rc);
    END;

    COMMIT TRANSACTION;
    PRINT N'Job ready: every ' + CAST(1 AS nvarchar(10)) + N' minute(s) from ' + N'00:00:30' + N'.';
END TRY
BEGIN CATCH
    IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
    SET @msg = ERROR_MESSAGE();
    RAISERROR (N'Failover job not installed, nothing changed: %s', 16, 1, @msg);
END CATCH;
GO
