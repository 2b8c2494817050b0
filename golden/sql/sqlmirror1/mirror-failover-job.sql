:on error exit
-- sitebundle: failover-all job for SQL Server database mirroring (site N'partnerpoint').
-- Partner N'sqlmirror1.campus.example.edu,1433' (1 of 2). Run on that server:
--     sqlcmd -S <server> -E -b -f 65001 -i mirror-failover-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job N'SP Mirroring - fail over all databases':
-- category created if missing, one T-SQL step in master, a schedule every 1 minute(s)
-- starting at 00:00:00 (the partners are staggered by 30 seconds).
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2008 or later.
SET NOCOUNT ON;
SET XACT_ABORT ON;
GO
-- The job owner must be sysadmin on this instance, checked before anything is changed. The step
-- runs as its owner: on the partner where a database is the mirror, sys.database_mirroring shows its
-- row only to sysadmin ("To see non-NULL values on a mirror database, you must be a member of the
-- sysadmin fixed server role", sys.database_mirroring (Transact-SQL)), and RAISERROR ... WITH LOG
-- needs sysadmin or ALTER TRACE (RAISERROR (Transact-SQL), option LOG). IS_SRVROLEMEMBER gives 1
-- for a member, 0 for a login that is not, NULL for an unknown login (IS_SRVROLEMEMBER
-- (Transact-SQL)); a Windows login may be a member through a Windows group.
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', N'sa'), 0) <> 1
    RAISERROR (N'Failover job not installed, nothing changed: its owner %s is not sysadmin on this instance (or is no login here). The job runs as its owner and sees the mirror side only as sysadmin: set sql.job.owner to a sysadmin login.', 16, 1, N'sa');
GO
USE [msdb];
GO
DECLARE @rc int, @job_id uniqueidentifier, @schedule_id int, @msg nvarchar(2048);
SET @rc = 0;
BEGIN TRY
    BEGIN TRANSACTION;

    -- The step's last outcome per database: it logs a database's state only when it changes.
    -- Created when missing, kept across re-runs; rollback: DROP TABLE msdb.dbo.sitebundle_mirroring_outcome.
    IF OBJECT_ID(N'msdb.dbo.sitebundle_mirroring_outcome', N'U') IS NULL
        CREATE TABLE msdb.dbo.sitebundle_mirroring_outcome (
            database_name sysname NOT NULL PRIMARY KEY,
            outcome nvarchar(40) NOT NULL,
            changed datetime NOT NULL
        );

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
            @description = N'sitebundle (site partnerpoint): where the anchor database SharePoint_Config is the mirror, fail over every database that is principal here, so that all follow it. Partner 1 of 2, starts at 00:00:00.',
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
            @description = N'sitebundle (site partnerpoint): where the anchor database SharePoint_Config is the mirror, fail over every database that is principal here, so that all follow it. Partner 1 of 2, starts at 00:00:00.',
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
-- Runs in master as the job owner (sysadmin), on both partners. The anchor decides the direction, so
-- the two partners can never push databases at each other: where the anchor is the mirror, every
-- database listed in the cursor below
-- that is principal here is failed over to the anchor''s principal, one at a time; where the anchor
-- is principal, none is. Each database is read afresh (its own role, state, safety and witness, and
-- the anchor''s role, in one query) right before the decision and its ALTER DATABASE; a database that
-- is already on the anchor''s side is never touched.
-- Logging: every ALTER DATABASE is written to the SQL Server error log and the Application log (WITH
-- LOG); a database''s other outcomes (waiting, cannot converge, SUSPENDED, an error) only when they
-- change, kept per database in msdb.dbo.sitebundle_mirroring_outcome (created by the installer).
-- Every logged text fits the error log''s 440 bytes ("Errors logged in the error log are currently
-- limited to a maximum of 440 bytes", RAISERROR (Transact-SQL), option LOG): names longer than 50
-- characters are shortened with an ellipsis, server messages cut to 100 characters.
SET NOCOUNT ON;
DECLARE @anchor_role int, @db sysname, @name nvarchar(50), @sql nvarchar(max), @role int, @state int,
        @state_desc nvarchar(60), @safety int, @witness nvarchar(128), @hp int, @action nvarchar(20),
        @outcome nvarchar(40), @last nvarchar(40), @err int, @msg nvarchar(100), @failed int;
SET @failed = 0;
SELECT @anchor_role = m.mirroring_role
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = N''SharePoint_Config'';
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = N''SharePoint_Config'')
    PRINT N''The anchor database does not exist on this server: nothing to do.'';
ELSE IF @anchor_role IS NULL
BEGIN
    -- The anchor is here but its row is NULL: the owner is not sysadmin (a mirror database''s row
    -- is NULL to others), or mirroring was removed. An error, never "nothing to do".
    SET @last = NULL;
    SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = N''SharePoint_Config'';
    IF @last IS NULL
    BEGIN
        RAISERROR (N''sitebundle failover job: the anchor database is on this server but its mirroring role is not visible: the job owner is not sysadmin, or mirroring was removed. Nothing was done.'', 16, 1) WITH LOG;
        INSERT INTO msdb.dbo.sitebundle_mirroring_outcome (database_name, outcome, changed) VALUES (N''SharePoint_Config'', N''anchor role not visible'', GETDATE());
    END
    ELSE
        RAISERROR (N''sitebundle failover job: the anchor database''''s mirroring role is not visible (owner not sysadmin, or mirroring removed). Nothing was done.'', 16, 1);
END
ELSE
BEGIN
    DELETE FROM msdb.dbo.sitebundle_mirroring_outcome WHERE database_name = N''SharePoint_Config'';
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role IS NOT NULL
          AND d.name <> N''SharePoint_Config''
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN follow_dbs;
    FETCH NEXT FROM follow_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @name = CASE WHEN LEN(@db) > 50 THEN LEFT(@db, 47) + N''...'' ELSE @db END;
        SET @hp = 0;
        SET @action = NULL;
        SET @outcome = N''in step'';
        SET @role = NULL;
        SET @anchor_role = NULL;
        -- The fresh read: this database and the anchor, in one query, right before the decision.
        SELECT @role = m.mirroring_role, @state = m.mirroring_state, @state_desc = m.mirroring_state_desc,
               @safety = m.mirroring_safety_level, @witness = ISNULL(m.mirroring_witness_name, N''''),
               @anchor_role = (SELECT a.mirroring_role
                               FROM sys.database_mirroring AS a
                               JOIN sys.databases AS ad ON ad.database_id = a.database_id
                               WHERE ad.name = N''SharePoint_Config'')
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE d.name = @db;
        IF @role = 1 AND @state = 0
            SET @outcome = N''suspended'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 2 AND @state = 4
            SET @action = N''FAILOVER'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1 AND @hp = 1
            SET @action = N''SAFETY FULL'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1
            SET @outcome = N''cannot converge'';
        ELSE IF @anchor_role = 2 AND @role = 1
            SET @outcome = N''waiting'';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @hp = 1 AND @witness <> N''''
            SET @outcome = N''witness'';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @state = 4 AND @hp = 1
            SET @action = N''SAFETY OFF'';
        IF @action IS NOT NULL
        BEGIN
            SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER '' + @action + N'';'';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                IF @action = N''FAILOVER''
                BEGIN
                    SET @outcome = N''in step'';
                    RAISERROR (N''sitebundle failover job: failed over %s to follow the anchor database.'', 10, 1, @name) WITH LOG;
                END
                ELSE IF @action = N''SAFETY FULL''
                BEGIN
                    SET @outcome = N''waiting'';
                    RAISERROR (N''sitebundle failover job: set %s to safety FULL for a controlled failover; it follows the anchor once SYNCHRONIZED.'', 10, 1, @name) WITH LOG;
                END
                ELSE
                BEGIN
                    SET @outcome = N''in step'';
                    RAISERROR (N''sitebundle failover job: set %s back to safety OFF after its controlled failover.'', 10, 1, @name) WITH LOG;
                END;
            END TRY
            BEGIN CATCH
                SET @err = ERROR_NUMBER();
                SET @msg = LEFT(ERROR_MESSAGE(), 100);
                SET @failed = @failed + 1;
                SET @outcome = N''error '' + CAST(@err AS nvarchar(11)) + N'' '' + @action;
            END CATCH;
        END;
        -- Log an outcome only when it changes (the ALTERs above are always logged).
        SET @last = NULL;
        SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = @db;
        IF ISNULL(@last, N''in step'') <> @outcome
        BEGIN
            IF @outcome LIKE N''error%''
                RAISERROR (N''sitebundle failover job: %s of %s failed, error %d: %s'', 10, 1, @action, @name, @err, @msg) WITH LOG;
            ELSE IF @action IS NOT NULL
                PRINT N''Outcome recorded after the ALTER.'';
            ELSE IF @outcome = N''suspended''
            BEGIN
                SET @sql = N''ALTER DATABASE '' + QUOTENAME(@name) + N'' SET PARTNER RESUME;'';
                RAISERROR (N''sitebundle failover job: %s is SUSPENDED until resumed; on this server run %s'', 10, 1, @name, @sql) WITH LOG;
            END
            ELSE IF @outcome = N''cannot converge''
                RAISERROR (N''sitebundle failover job: cannot converge: %s is principal here in safety OFF (no failover without data loss); move it by hand (runbook).'', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N''waiting''
                RAISERROR (N''sitebundle failover job: %s cannot follow the anchor yet: it is principal here and %s (safety level %d); it follows once SYNCHRONIZED in safety FULL.'', 10, 1, @name, @state_desc, @safety) WITH LOG;
            ELSE IF @outcome = N''witness''
                RAISERROR (N''sitebundle failover job: %s stays in safety FULL: it has a witness, and safety OFF needs WITNESS OFF first.'', 10, 1, @name) WITH LOG;
            ELSE
                RAISERROR (N''sitebundle failover job: %s needs nothing more from this server (it was: %s).'', 10, 1, @name, @last) WITH LOG;
            IF @last IS NULL
                INSERT INTO msdb.dbo.sitebundle_mirroring_outcome (database_name, outcome, changed) VALUES (@db, @outcome, GETDATE());
            ELSE
                UPDATE msdb.dbo.sitebundle_mirroring_outcome SET outcome = @outcome, changed = GETDATE() WHERE database_name = @db;
        END;
        FETCH NEXT FROM follow_dbs INTO @db;
    END;
    CLOSE follow_dbs;
    DEALLOCATE follow_dbs;
    IF @failed > 0
        RAISERROR (N''%d ALTER DATABASE statement(s) failed; see the messages above.'', 16, 1, @failed);
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
-- Runs in master as the job owner (sysadmin), on both partners. The anchor decides the direction, so
-- the two partners can never push databases at each other: where the anchor is the mirror, every
-- database listed in the cursor below
-- that is principal here is failed over to the anchor''s principal, one at a time; where the anchor
-- is principal, none is. Each database is read afresh (its own role, state, safety and witness, and
-- the anchor''s role, in one query) right before the decision and its ALTER DATABASE; a database that
-- is already on the anchor''s side is never touched.
-- Logging: every ALTER DATABASE is written to the SQL Server error log and the Application log (WITH
-- LOG); a database''s other outcomes (waiting, cannot converge, SUSPENDED, an error) only when they
-- change, kept per database in msdb.dbo.sitebundle_mirroring_outcome (created by the installer).
-- Every logged text fits the error log''s 440 bytes ("Errors logged in the error log are currently
-- limited to a maximum of 440 bytes", RAISERROR (Transact-SQL), option LOG): names longer than 50
-- characters are shortened with an ellipsis, server messages cut to 100 characters.
SET NOCOUNT ON;
DECLARE @anchor_role int, @db sysname, @name nvarchar(50), @sql nvarchar(max), @role int, @state int,
        @state_desc nvarchar(60), @safety int, @witness nvarchar(128), @hp int, @action nvarchar(20),
        @outcome nvarchar(40), @last nvarchar(40), @err int, @msg nvarchar(100), @failed int;
SET @failed = 0;
SELECT @anchor_role = m.mirroring_role
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = N''SharePoint_Config'';
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = N''SharePoint_Config'')
    PRINT N''The anchor database does not exist on this server: nothing to do.'';
ELSE IF @anchor_role IS NULL
BEGIN
    -- The anchor is here but its row is NULL: the owner is not sysadmin (a mirror database''s row
    -- is NULL to others), or mirroring was removed. An error, never "nothing to do".
    SET @last = NULL;
    SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = N''SharePoint_Config'';
    IF @last IS NULL
    BEGIN
        RAISERROR (N''sitebundle failover job: the anchor database is on this server but its mirroring role is not visible: the job owner is not sysadmin, or mirroring was removed. Nothing was done.'', 16, 1) WITH LOG;
        INSERT INTO msdb.dbo.sitebundle_mirroring_outcome (database_name, outcome, changed) VALUES (N''SharePoint_Config'', N''anchor role not visible'', GETDATE());
    END
    ELSE
        RAISERROR (N''sitebundle failover job: the anchor database''''s mirroring role is not visible (owner not sysadmin, or mirroring removed). Nothing was done.'', 16, 1);
END
ELSE
BEGIN
    DELETE FROM msdb.dbo.sitebundle_mirroring_outcome WHERE database_name = N''SharePoint_Config'';
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role IS NOT NULL
          AND d.name <> N''SharePoint_Config''
          AND d.name IN (N''SharePoint_Config'', N''SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37'', N''WSS_Content_PartnerPoint'', N''WSS_Content_ECTS'', N''WSS_Search_SHAREPOINT3'')
        ORDER BY d.name;
    OPEN follow_dbs;
    FETCH NEXT FROM follow_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @name = CASE WHEN LEN(@db) > 50 THEN LEFT(@db, 47) + N''...'' ELSE @db END;
        SET @hp = 0;
        SET @action = NULL;
        SET @outcome = N''in step'';
        SET @role = NULL;
        SET @anchor_role = NULL;
        -- The fresh read: this database and the anchor, in one query, right before the decision.
        SELECT @role = m.mirroring_role, @state = m.mirroring_state, @state_desc = m.mirroring_state_desc,
               @safety = m.mirroring_safety_level, @witness = ISNULL(m.mirroring_witness_name, N''''),
               @anchor_role = (SELECT a.mirroring_role
                               FROM sys.database_mirroring AS a
                               JOIN sys.databases AS ad ON ad.database_id = a.database_id
                               WHERE ad.name = N''SharePoint_Config'')
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE d.name = @db;
        IF @role = 1 AND @state = 0
            SET @outcome = N''suspended'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 2 AND @state = 4
            SET @action = N''FAILOVER'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1 AND @hp = 1
            SET @action = N''SAFETY FULL'';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1
            SET @outcome = N''cannot converge'';
        ELSE IF @anchor_role = 2 AND @role = 1
            SET @outcome = N''waiting'';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @hp = 1 AND @witness <> N''''
            SET @outcome = N''witness'';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @state = 4 AND @hp = 1
            SET @action = N''SAFETY OFF'';
        IF @action IS NOT NULL
        BEGIN
            SET @sql = N''ALTER DATABASE '' + QUOTENAME(@db) + N'' SET PARTNER '' + @action + N'';'';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                IF @action = N''FAILOVER''
                BEGIN
                    SET @outcome = N''in step'';
                    RAISERROR (N''sitebundle failover job: failed over %s to follow the anchor database.'', 10, 1, @name) WITH LOG;
                END
                ELSE IF @action = N''SAFETY FULL''
                BEGIN
                    SET @outcome = N''waiting'';
                    RAISERROR (N''sitebundle failover job: set %s to safety FULL for a controlled failover; it follows the anchor once SYNCHRONIZED.'', 10, 1, @name) WITH LOG;
                END
                ELSE
                BEGIN
                    SET @outcome = N''in step'';
                    RAISERROR (N''sitebundle failover job: set %s back to safety OFF after its controlled failover.'', 10, 1, @name) WITH LOG;
                END;
            END TRY
            BEGIN CATCH
                SET @err = ERROR_NUMBER();
                SET @msg = LEFT(ERROR_MESSAGE(), 100);
                SET @failed = @failed + 1;
                SET @outcome = N''error '' + CAST(@err AS nvarchar(11)) + N'' '' + @action;
            END CATCH;
        END;
        -- Log an outcome only when it changes (the ALTERs above are always logged).
        SET @last = NULL;
        SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = @db;
        IF ISNULL(@last, N''in step'') <> @outcome
        BEGIN
            IF @outcome LIKE N''error%''
                RAISERROR (N''sitebundle failover job: %s of %s failed, error %d: %s'', 10, 1, @action, @name, @err, @msg) WITH LOG;
            ELSE IF @action IS NOT NULL
                PRINT N''Outcome recorded after the ALTER.'';
            ELSE IF @outcome = N''suspended''
            BEGIN
                SET @sql = N''ALTER DATABASE '' + QUOTENAME(@name) + N'' SET PARTNER RESUME;'';
                RAISERROR (N''sitebundle failover job: %s is SUSPENDED until resumed; on this server run %s'', 10, 1, @name, @sql) WITH LOG;
            END
            ELSE IF @outcome = N''cannot converge''
                RAISERROR (N''sitebundle failover job: cannot converge: %s is principal here in safety OFF (no failover without data loss); move it by hand (runbook).'', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N''waiting''
                RAISERROR (N''sitebundle failover job: %s cannot follow the anchor yet: it is principal here and %s (safety level %d); it follows once SYNCHRONIZED in safety FULL.'', 10, 1, @name, @state_desc, @safety) WITH LOG;
            ELSE IF @outcome = N''witness''
                RAISERROR (N''sitebundle failover job: %s stays in safety FULL: it has a witness, and safety OFF needs WITNESS OFF first.'', 10, 1, @name) WITH LOG;
            ELSE
                RAISERROR (N''sitebundle failover job: %s needs nothing more from this server (it was: %s).'', 10, 1, @name, @last) WITH LOG;
            IF @last IS NULL
                INSERT INTO msdb.dbo.sitebundle_mirroring_outcome (database_name, outcome, changed) VALUES (@db, @outcome, GETDATE());
            ELSE
                UPDATE msdb.dbo.sitebundle_mirroring_outcome SET outcome = @outcome, changed = GETDATE() WHERE database_name = @db;
        END;
        FETCH NEXT FROM follow_dbs INTO @db;
    END;
    CLOSE follow_dbs;
    DEALLOCATE follow_dbs;
    IF @failed > 0
        RAISERROR (N''%d ALTER DATABASE statement(s) failed; see the messages above.'', 16, 1, @failed);
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
        -- No @enabled: a disabled schedule stays disabled.
        EXEC @rc = msdb.dbo.sp_update_schedule
            @schedule_id = @schedule_id,
            @owner_login_name = N'sa',
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
