[# N'a', N'b', …: the names as T-SQL strings, for IN lists; built only from tsql_str, so printing it with `trusted` is safe. #]
[% macro sql_list(names) %][% for db in names %][[ db | tsql_str ]][% if not loop.last %], [% endif %][% endfor %][% endmacro %]
-- sitebundle: every mirrored database follows the anchor database [[ anchor | tsql_str ]].
-- Runs in master as the job owner, on both partners. The anchor decides the direction, so the two
-- partners can never push databases at each other: where the anchor is the mirror, every database
[% if all_synchronized %]
-- (every mirrored database of this instance)
[% else %]
-- (the databases listed in the query below)
[% endif %]
-- that is principal here is failed over to the anchor's principal, one at a time; where the anchor
-- is principal (or not mirrored here), nothing is done. Right before its ALTER DATABASE, each
-- database is read again: it is failed over only if it is still principal, SYNCHRONIZED and in
-- safety FULL, and the anchor still the mirror here. Every failover and every database that cannot
-- follow yet is written to the SQL Server error log and the Application event log (WITH LOG).
[% if controlled %]
-- High-performance databases moved by a controlled failover ([[ sql_list(controlled) | trusted ]]):
-- where the anchor is the mirror, such a database that is principal in safety OFF is set to safety
-- FULL and follows at a later run once SYNCHRONIZED; where the anchor is principal, such a database
-- that is principal, SYNCHRONIZED and in safety FULL is set back to safety OFF.
[% endif %]
SET NOCOUNT ON;
DECLARE @anchor_role int, @db sysname, @sql nvarchar(max), @ready int, @state int, @safety int,
        @failed int, @moved int, @waiting int, @msg nvarchar(2048);
SET @failed = 0;
SET @moved = 0;
SET @waiting = 0;
SELECT @anchor_role = m.mirroring_role
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = [[ anchor | tsql_str ]];
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = [[ anchor | tsql_str ]])
    PRINT N'The anchor database does not exist on this server: nothing to do.';
ELSE IF @anchor_role IS NULL OR @anchor_role NOT IN (1, 2)
    RAISERROR (N'sitebundle failover job: the anchor database is on this server but its mirroring role is not visible: the job owner is not sysadmin, or mirroring was removed. Nothing was done.', 16, 1) WITH LOG;
ELSE IF @anchor_role = 1
[% if controlled %]
BEGIN
    PRINT N'The anchor database is principal here: nothing to move (the other partner follows it).';
    DECLARE restore_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
          AND d.name IN ([[ sql_list(controlled) | trusted ]])
        ORDER BY d.name;
    OPEN restore_dbs;
    FETCH NEXT FROM restore_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER SAFETY OFF;';
        BEGIN TRY
            EXEC master.sys.sp_executesql @sql;
            RAISERROR (N'sitebundle failover job: set %s back to high-performance mode (safety OFF) after its controlled failover.', 10, 1, @db) WITH LOG;
        END TRY
        BEGIN CATCH
            SET @msg = ERROR_MESSAGE();
            RAISERROR (N'sitebundle failover job: could not set %s back to safety OFF: %s', 10, 1, @db, @msg) WITH LOG;
        END CATCH;
        FETCH NEXT FROM restore_dbs INTO @db;
    END;
    CLOSE restore_dbs;
    DEALLOCATE restore_dbs;
END
[% else %]
    PRINT N'The anchor database is principal here: nothing to do (the other partner follows it).';
[% endif %]
ELSE
BEGIN
    PRINT N'The anchor database is the mirror here: every database that is principal here follows it.';
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
[% if not all_synchronized %]
          AND d.name IN ([[ sql_list(databases) | trusted ]])
[% endif %]
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
                      WHERE ad.name = [[ anchor | tsql_str ]] AND a.mirroring_role = 2);
        IF @ready = 1
        BEGIN
            SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER FAILOVER;';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                SET @moved = @moved + 1;
                RAISERROR (N'sitebundle failover job: failed over %s to follow the anchor database.', 10, 1, @db) WITH LOG;
            END TRY
            BEGIN CATCH
                SET @failed = @failed + 1;
                SET @msg = ERROR_MESSAGE();
                RAISERROR (N'sitebundle failover job: the failover of %s failed: %s', 10, 1, @db, @msg) WITH LOG;
            END CATCH;
        END
        ELSE
        BEGIN
            SET @waiting = @waiting + 1;
            SELECT @state = m.mirroring_state, @safety = m.mirroring_safety_level
            FROM sys.database_mirroring AS m
            JOIN sys.databases AS d ON d.database_id = m.database_id
            WHERE d.name = @db;
[% if controlled %]
            IF @safety = 1 AND @db IN ([[ sql_list(controlled) | trusted ]])
            BEGIN
                SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER SAFETY FULL;';
                BEGIN TRY
                    EXEC master.sys.sp_executesql @sql;
                    RAISERROR (N'sitebundle failover job: set %s to safety FULL for a controlled failover; it follows the anchor once SYNCHRONIZED.', 10, 1, @db) WITH LOG;
                END TRY
                BEGIN CATCH
                    SET @msg = ERROR_MESSAGE();
                    RAISERROR (N'sitebundle failover job: could not set %s to safety FULL: %s', 10, 1, @db, @msg) WITH LOG;
                END CATCH;
            END
            ELSE IF @safety = 1
[% else %]
            IF @safety = 1
[% endif %]
                RAISERROR (N'sitebundle failover job: cannot converge: %s is principal here in high-performance mode (safety OFF), which cannot be failed over without data loss; fail it over by hand (runbook, SQL Server section).', 10, 1, @db) WITH LOG;
            ELSE
                RAISERROR (N'sitebundle failover job: %s cannot follow the anchor yet: it is principal here but not SYNCHRONIZED (mirroring_state %d); it follows once it is.', 10, 1, @db, @state) WITH LOG;
        END;
        FETCH NEXT FROM follow_dbs INTO @db;
    END;
    CLOSE follow_dbs;
    DEALLOCATE follow_dbs;
    PRINT N'Failed over: ' + CAST(@moved AS nvarchar(10)) + N'; waiting: '
        + CAST(@waiting AS nvarchar(10)) + N'; failed: ' + CAST(@failed AS nvarchar(10)) + N'.';
    IF @failed > 0
        RAISERROR (N'%d database(s) could not be failed over; see the messages above.', 16, 1, @failed);
END
