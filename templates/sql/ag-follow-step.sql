-- sitebundle: the follower availability groups follow the anchor group [[ anchor | tsql_str ]] (site [[ site | tsql_str ]]).
-- Runs in master as the job owner (sysadmin), on every replica; it acts only on the replica where
-- the anchor group is PRIMARY, as the mirroring job acts only where its anchor database is the
-- mirror: one direction, so that the replicas never push groups at each other. There, each follower
-- group in which this replica is a SECONDARY is failed over to it, one at a time, with a planned
-- failover (ALTER AVAILABILITY GROUP ... FAILOVER; never FORCE_FAILOVER_ALLOW_DATA_LOSS), and only
-- when the failover loses nothing. FAILOVER is run on the secondary that is to become primary and
-- "is supported only on a synchronous-commit secondary replica that is currently synchronized with
-- the primary replica" (ALTER AVAILABILITY GROUP (Transact-SQL), FAILOVER). So, right before the
-- decision, one query reads this replica's row in the group and the anchor's role afresh:
--   * role_desc SECONDARY and connected_state_desc CONNECTED (sys.dm_hadr_availability_replica_states;
--     on a secondary the view holds only the local replica's row),
--   * availability_mode_desc SYNCHRONOUS_COMMIT (sys.availability_replicas),
--   * every database of the group joined here and failover-ready: is_database_joined = 1 and
--     is_failover_ready = 1, "the database is marked synchronized in the cluster. The database is
--     ready for a failover" (sys.dm_hadr_database_replica_cluster_states), and locally SYNCHRONIZED
--     and not suspended (sys.dm_hadr_database_replica_states).
-- Otherwise it logs why not: not joined here, RESOLVING, asynchronous-commit (only a forced
-- failover, with data loss, could move it: the runbook says how), disconnected from the primary, or
-- a database not yet synchronized (it follows once synchronized).
-- Logging: every FAILOVER is written to the SQL Server error log and the Application log (WITH LOG);
-- a group's other outcomes only when they change, kept per group in msdb.dbo.sitebundle_ag_outcome
-- (created by the installer). Names longer than 50 characters are shortened, server messages cut to
-- 100 characters, so that every logged text fits the error log's 440 bytes (RAISERROR, option LOG).
SET NOCOUNT ON;
DECLARE @anchor_role nvarchar(60), @ag sysname, @name nvarchar(50), @sql nvarchar(max),
        @role nvarchar(60), @mode nvarchar(60), @connected nvarchar(60), @dbs int, @ready int,
        @action nvarchar(20), @outcome nvarchar(40), @last nvarchar(40), @err int, @msg nvarchar(100),
        @failed int;
SET @failed = 0;
SELECT @anchor_role = s.role_desc
FROM sys.dm_hadr_availability_replica_states AS s
JOIN sys.availability_groups AS g ON g.group_id = s.group_id
WHERE g.name = [[ anchor | tsql_str ]] AND s.is_local = 1;
IF @anchor_role IS NULL
BEGIN
    -- Always On is off here, or this instance is no joined replica of the anchor group: an error,
    -- logged once, never "nothing to do".
    SET @last = NULL;
    SELECT @last = o.outcome FROM msdb.dbo.sitebundle_ag_outcome AS o WHERE o.group_name = [[ anchor | tsql_str ]];
    IF @last IS NULL
    BEGIN
        RAISERROR (N'sitebundle follower job: this instance is no joined replica of the anchor availability group (or Always On is not enabled). Nothing was done.', 16, 1) WITH LOG;
        INSERT INTO msdb.dbo.sitebundle_ag_outcome (group_name, outcome, changed) VALUES ([[ anchor | tsql_str ]], N'anchor not here', GETDATE());
    END
    ELSE
        RAISERROR (N'sitebundle follower job: this instance is no joined replica of the anchor availability group (logged before). Nothing was done.', 16, 1);
END
ELSE IF @anchor_role <> N'PRIMARY'
BEGIN
    -- The job on the anchor's primary moves the followers. The outcomes are forgotten here, so
    -- that they are logged afresh when this replica becomes the anchor's primary.
    DELETE FROM msdb.dbo.sitebundle_ag_outcome;
    PRINT N'The anchor group is not primary on this replica: nothing to do here.';
END
ELSE
BEGIN
    DELETE FROM msdb.dbo.sitebundle_ag_outcome WHERE group_name = [[ anchor | tsql_str ]];
    DECLARE follower_groups CURSOR LOCAL FAST_FORWARD FOR
[% for f in followers %]
        SELECT [[ f | tsql_str ]] AS group_name[% if not loop.last %] UNION ALL[% endif %]

[% endfor %]
        ORDER BY group_name;
    OPEN follower_groups;
    FETCH NEXT FROM follower_groups INTO @ag;
    WHILE @@FETCH_STATUS = 0
    BEGIN
        SET @name = CASE WHEN LEN(@ag) > 50 THEN LEFT(@ag, 47) + N'...' ELSE @ag END;
        SET @action = NULL;
        SET @outcome = N'in step';
        SET @role = NULL;
        SET @mode = NULL;
        SET @connected = NULL;
        SET @dbs = 0;
        SET @ready = 0;
        SET @anchor_role = NULL;
        -- The fresh read: this replica in the group, its databases and the anchor's role, in one
        -- query, right before the decision.
        SELECT @role = s.role_desc, @mode = r.availability_mode_desc, @connected = s.connected_state_desc,
               @dbs = (SELECT COUNT(*) FROM sys.dm_hadr_database_replica_cluster_states AS c
                       WHERE c.replica_id = s.replica_id),
               @ready = (SELECT COUNT(*) FROM sys.dm_hadr_database_replica_cluster_states AS c
                         JOIN sys.dm_hadr_database_replica_states AS d
                           ON d.replica_id = c.replica_id AND d.group_database_id = c.group_database_id
                         WHERE c.replica_id = s.replica_id AND c.is_database_joined = 1
                           AND c.is_failover_ready = 1 AND d.is_local = 1
                           AND d.synchronization_state_desc = N'SYNCHRONIZED' AND d.is_suspended = 0),
               @anchor_role = (SELECT a.role_desc
                               FROM sys.dm_hadr_availability_replica_states AS a
                               JOIN sys.availability_groups AS ag ON ag.group_id = a.group_id
                               WHERE ag.name = [[ anchor | tsql_str ]] AND a.is_local = 1)
        FROM sys.dm_hadr_availability_replica_states AS s
        JOIN sys.availability_replicas AS r ON r.replica_id = s.replica_id
        JOIN sys.availability_groups AS g ON g.group_id = s.group_id
        WHERE g.name = @ag AND s.is_local = 1;
        IF @role IS NULL
            SET @outcome = N'not joined';
        ELSE IF ISNULL(@anchor_role, N'') <> N'PRIMARY' OR @role = N'PRIMARY'
            SET @outcome = N'in step';
        ELSE IF @role <> N'SECONDARY'
            SET @outcome = N'resolving';
        ELSE IF @mode <> N'SYNCHRONOUS_COMMIT'
            SET @outcome = N'asynchronous';
        ELSE IF @connected <> N'CONNECTED'
            SET @outcome = N'disconnected';
        ELSE IF @dbs = 0 OR @ready < @dbs
            SET @outcome = N'waiting';
        ELSE
            SET @action = N'FAILOVER';
        IF @action IS NOT NULL
        BEGIN
            SET @sql = N'ALTER AVAILABILITY GROUP ' + QUOTENAME(@ag) + N' FAILOVER;';
            BEGIN TRY
                EXEC master.sys.sp_executesql @sql;
                SET @outcome = N'in step';
                RAISERROR (N'sitebundle follower job: failed over the availability group %s to this replica, to follow the anchor group.', 10, 1, @name) WITH LOG;
            END TRY
            BEGIN CATCH
                SET @err = ERROR_NUMBER();
                SET @msg = LEFT(ERROR_MESSAGE(), 100);
                SET @failed = @failed + 1;
                SET @outcome = N'error ' + CAST(@err AS nvarchar(11));
            END CATCH;
        END;
        -- Log an outcome only when it changes (a FAILOVER is always logged above).
        SET @last = NULL;
        SELECT @last = o.outcome FROM msdb.dbo.sitebundle_ag_outcome AS o WHERE o.group_name = @ag;
        IF ISNULL(@last, N'in step') <> @outcome
        BEGIN
            IF @outcome LIKE N'error%'
                RAISERROR (N'sitebundle follower job: FAILOVER of %s failed, error %d: %s', 10, 1, @name, @err, @msg) WITH LOG;
            ELSE IF @action IS NOT NULL
                PRINT N'Outcome recorded after the FAILOVER.';
            ELSE IF @outcome = N'not joined'
                RAISERROR (N'sitebundle follower job: this replica has not joined the availability group %s (run its ag-create or ag-join script); it cannot follow the anchor group.', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N'resolving'
                RAISERROR (N'sitebundle follower job: the availability group %s is RESOLVING on this replica; it follows the anchor group once the cluster has made it SECONDARY.', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N'asynchronous'
                RAISERROR (N'sitebundle follower job: cannot converge: this replica is an asynchronous-commit secondary of %s (no failover without data loss); move it by hand (runbook).', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N'disconnected'
                RAISERROR (N'sitebundle follower job: %s cannot follow the anchor group yet: this replica is DISCONNECTED from its primary; it follows once connected and synchronized.', 10, 1, @name) WITH LOG;
            ELSE IF @outcome = N'waiting'
                RAISERROR (N'sitebundle follower job: %s cannot follow the anchor group yet: %d of its %d databases are synchronized and failover-ready here; it follows once all are.', 10, 1, @name, @ready, @dbs) WITH LOG;
            ELSE
                RAISERROR (N'sitebundle follower job: %s needs nothing more from this replica (it was: %s).', 10, 1, @name, @last) WITH LOG;
            IF @last IS NULL
                INSERT INTO msdb.dbo.sitebundle_ag_outcome (group_name, outcome, changed) VALUES (@ag, @outcome, GETDATE());
            ELSE
                UPDATE msdb.dbo.sitebundle_ag_outcome SET outcome = @outcome, changed = GETDATE() WHERE group_name = @ag;
        END;
        FETCH NEXT FROM follower_groups INTO @ag;
    END;
    CLOSE follower_groups;
    DEALLOCATE follower_groups;
    IF @failed > 0
        RAISERROR (N'%d ALTER AVAILABILITY GROUP statement(s) failed; see the messages above.', 16, 1, @failed);
END
