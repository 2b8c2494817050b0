-- sitebundle: fail over all mirrored databases together.
-- Runs in master as the job owner. If some, but not all, of the synchronized mirrored databases
[% if all_synchronized %]
-- (every mirrored database of this instance)
[% else %]
-- (the databases listed in the queries below)
[% endif %]
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
[% if not all_synchronized %]
  AND d.name IN ([% for db in databases %][[ db | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
[% endif %]
;
PRINT N'Synchronized mirrored databases: ' + CAST(@synced AS nvarchar(10))
    + N'; principal on this server: ' + CAST(@principal AS nvarchar(10)) + N'.';
IF @principal > 0 AND @principal < @synced
BEGIN
    PRINT N'Some, but not all, are principal here: failing over those that are.';
    DECLARE failover_dbs CURSOR LOCAL FAST_FORWARD FOR
        SELECT d.name
        FROM sys.database_mirroring AS m
        JOIN sys.databases AS d ON d.database_id = m.database_id
        WHERE m.mirroring_role = 1
          AND m.mirroring_state = 4
          AND m.mirroring_safety_level = 2
[% if not all_synchronized %]
          AND d.name IN ([% for db in databases %][[ db | tsql_str ]][% if not loop.last %], [% endif %][% endfor %])
[% endif %]
        ORDER BY d.name;
    OPEN failover_dbs;
    FETCH NEXT FROM failover_dbs INTO @db;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET PARTNER FAILOVER;';
        PRINT N'Failing over ' + QUOTENAME(@db) + N'.';
        BEGIN TRY
            EXEC master.sys.sp_executesql @sql;
        END TRY
        BEGIN CATCH
            SET @failed = @failed + 1;
            PRINT N'Failover of ' + QUOTENAME(@db) + N' failed: ' + ERROR_MESSAGE();
        END CATCH;
        FETCH NEXT FROM failover_dbs INTO @db;
    END;
    CLOSE failover_dbs;
    DEALLOCATE failover_dbs;
    IF @failed > 0
        RAISERROR (N'%d database(s) could not be failed over; see the messages above.', 16, 1, @failed);
END
ELSE IF @principal = 0
    PRINT N'No synchronized database is principal here: nothing to do.';
ELSE
    PRINT N'Every synchronized database is principal here: nothing to do.';
