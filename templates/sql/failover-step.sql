[# N'a', N'b', …: the names as T-SQL strings, for IN lists; built only from tsql_str, so printing it with `trusted` is safe. #]
[% macro sql_list(names) %][% for db in names %][[ db | tsql_str ]][% if not loop.last %], [% endif %][% endfor %][% endmacro %]
-- sitebundle: every mirrored database follows the anchor database [[ anchor | tsql_str ]].
-- Runs in master as the job owner (sysadmin), on both partners. The anchor decides the direction, so
-- the two partners can never push databases at each other: where the anchor is the mirror, every
[% if all_synchronized %]
-- mirrored database of this instance
[% else %]
-- database listed in the cursor below
[% endif %]
-- that is principal here is failed over to the anchor's principal, one at a time; where the anchor
-- is principal, none is. Each database is read afresh (its own role, state, safety and witness, and
-- the anchor's role, in one query) right before the decision and its ALTER DATABASE; a database that
-- is already on the anchor's side is never touched.
[% if controlled %]
-- High-performance databases moved by a controlled failover ([[ sql_list(controlled) | trusted ]]):
-- where the anchor is the mirror, such a database that is principal here in safety OFF is set to
-- safety FULL and follows at a later run once SYNCHRONIZED; where the anchor is principal, such a
-- database that is principal, SYNCHRONIZED and in safety FULL is set back to safety OFF, never while
-- it has a witness ("whenever you set SAFETY to OFF, we strongly recommend that you ensure that
-- WITNESS is set to OFF", ALTER DATABASE Database Mirroring (Transact-SQL)).
[% endif %]
-- Logging: every ALTER DATABASE is written to the SQL Server error log and the Application log (WITH
-- LOG); a database's other outcomes (waiting, cannot converge, SUSPENDED, an error) only when they
-- change, kept per database in msdb.dbo.sitebundle_mirroring_outcome (created by the installer).
-- Every logged text fits the error log's 440 bytes ("Errors logged in the error log are currently
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
WHERE d.name = [[ anchor | tsql_str ]];
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = [[ anchor | tsql_str ]])
    PRINT N'The anchor database does not exist on this server: nothing to do.';
ELSE IF @anchor_role IS NULL
BEGIN
    -- The anchor is here but its row is NULL: the owner is not sysadmin (a mirror database's row
    -- is NULL to others), or mirroring was removed. An error, never "nothing to do".
    SET @last = NULL;
    SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = [[ anchor | tsql_str ]];
    IF @last IS NULL
    BEGIN
        RAISERROR (N'sitebundle failover job: the anchor database is on this server but its mirroring role is not visible: the job owner is not sysadmin, or mirroring was removed. Nothing was done.', 16, 1) WITH LOG;
        INSERT INTO msdb.dbo.sitebundle_mirroring_outcome (database_name, outcome, changed) VALUES ([[ anchor | tsql_str ]], N'anchor role not visible', GETDATE());
    END
    ELSE
        RAISERROR (N'sitebundle failover job: the anchor database''s mirroring role is not visible (owner not sysadmin, or mirroring removed). Nothing was done.', 16, 1);
END
ELSE
BEGIN
    DELETE FROM msdb.dbo.sitebundle_mirroring_outcome WHERE database_name = [[ anchor | tsql_str ]];
    DECLARE follow_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role IS NOT NULL
          AND d.name <> [[ anchor | tsql_str ]]
[% if not all_synchronized %]
          AND d.name IN ([[ sql_list(databases) | trusted ]])
[% endif %]
        ORDER BY d.name;
    OPEN follow_dbs;
    FETCH NEXT FROM follow_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @name = CASE WHEN LEN(@db) > 50 THEN LEFT(@db, 47) + N'...' ELSE @db END;
[% if controlled %]
        SET @hp = CASE WHEN @db IN ([[ sql_list(controlled) | trusted ]]) THEN 1 ELSE 0 END;
[% else %]
        SET @hp = 0;
[% endif %]
        SET @action = NULL;
        SET @outcome = N'in step';
        SET @role = NULL;
        SET @anchor_role = NULL;
        -- The fresh read: this database and the anchor, in one query, right before the decision.
        SELECT @role = m.mirroring_role, @state = m.mirroring_state, @state_desc = m.mirroring_state_desc,
               @safety = m.mirroring_safety_level, @witness = ISNULL(m.mirroring_witness_name, N''),
               @anchor_role = (SELECT a.mirroring_role
                               FROM sys.database_mirroring AS a
                               JOIN sys.databases AS ad ON ad.database_id = a.database_id
                               WHERE ad.name = [[ anchor | tsql_str ]])
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE d.name = @db;
        IF @role = 1 AND @state = 0
            SET @outcome = N'suspended';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 2 AND @state = 4
            SET @action = N'FAILOVER';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1 AND @hp = 1
            SET @action = N'SAFETY FULL';
        ELSE IF @anchor_role = 2 AND @role = 1 AND @safety = 1
            SET @outcome = N'cannot converge';
        ELSE IF @anchor_role = 2 AND @role = 1
            SET @outcome = N'waiting';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @hp = 1 AND @witness <> N''
            SET @outcome = N'witness';
        ELSE IF @anchor_role = 1 AND @role = 1 AND @safety = 2 AND @state = 4 AND @hp = 1
            SET @action = N'SAFETY OFF';
        IF @action IS NOT NULL
        BEGIN
            SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER ' + @action + N';';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                IF @action = N'FAILOVER'
                BEGIN
                    SET @outcome = N'in step';
                    RAISERROR (N'sitebundle failover job: failed over %s to follow the anchor database.', 10, 1, @name) WITH LOG;
                END
                ELSE IF @action = N'SAFETY FULL'
                BEGIN
                    SET @outcome = N'waiting';
                    RAISERROR (N'sitebundle failover job: set %s to safety FULL for a controlled failover; it follows the anchor once SYNCHRONIZED.', 10, 1, @name) WITH LOG;
                END
                ELSE
                BEGIN
                    SET @outcome = N'in step';
                    RAISERROR (N'sitebundle failover job: set %s back to safety OFF after its controlled failover.', 10, 1, @name) WITH LOG;
                END;
            END TRY
            BEGIN CATCH
                SET @err = ERROR_NUMBER();
                SET @msg = LEFT(ERROR_MESSAGE(), 100);
                SET @failed = @failed + 1;
                SET @outcome = N'error ' + CAST(@err AS nvarchar(11)) + N' ' + @action;
            END CATCH;
        END;
        -- Log an outcome only when it changes (the ALTERs above are always logged).
        SET @last = NULL;
        SELECT @last = o.outcome FROM msdb.dbo.sitebundle_mirroring_outcome AS o WHERE o.database_name = @db;
        IF ISNULL(@last, N'in step') <> @outcome
        BEGIN
            IF @outcome LIKE N'error%'
                RAISERROR (N'sitebundle failover job: %s of %s failed, error %d: %s', 10, 1, @action, @name, @err, @msg) WITH LOG;
            ELSE IF @action IS NOT NULL
                PRINT N'Outcome recorded after the ALTER.';
            ELSE IF @outcome = N'suspended'
            BEGIN
                SET @sql = N'ALTER DATABASE ' + QUOTENAME(@name) + N' SET PARTNER RESUME;';
                RAISERROR (N'sitebundle failover job: %s is SUSPENDED until resumed; on this server run %s', 10, 1, @name, @sql) WITH LOG;
            END
            ELSE IF @outcome = N'cannot converge'
                RAISERROR (N'sitebundle failover job: cannot converge: %s is principal here in safety OFF (no failover without data loss); move it by hand (runbook).', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N'waiting'
                RAISERROR (N'sitebundle failover job: %s cannot follow the anchor yet: it is principal here and %s (safety level %d); it follows once SYNCHRONIZED in safety FULL.', 10, 1, @name, @state_desc, @safety) WITH LOG;
            ELSE IF @outcome = N'witness'
                RAISERROR (N'sitebundle failover job: %s stays in safety FULL: it has a witness, and safety OFF needs WITNESS OFF first.', 10, 1, @name) WITH LOG;
            ELSE
                RAISERROR (N'sitebundle failover job: %s needs nothing more from this server (it was: %s).', 10, 1, @name, @last) WITH LOG;
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
        RAISERROR (N'%d ALTER DATABASE statement(s) failed; see the messages above.', 16, 1, @failed);
END
