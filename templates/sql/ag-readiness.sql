:on error exit
-- sitebundle: readiness of the replica [[ replica | tsql_str ]] in the availability group [[ ag | tsql_ident ]] (site [[ site | tsql_str ]]).
-- Changes nothing. Prints: Always On enabled (SERVERPROPERTY('IsHadrEnabled') = 1), the mirroring
-- endpoints, each replica's role and synchronization health (sys.dm_hadr_availability_replica_states:
-- a secondary sees only its own row), each local database's synchronization state
-- (sys.dm_hadr_database_replica_states), then one verdict line: whether a planned failover
-- (ALTER AVAILABILITY GROUP ... FAILOVER) may be run HERE. FAILOVER is "supported only on a
-- synchronous-commit secondary replica that is currently synchronized with the primary replica"
-- (ALTER AVAILABILITY GROUP (Transact-SQL)): every database of the group SYNCHRONIZED here and none suspended.
SET NOCOUNT ON;
GO
SELECT CAST(SERVERPROPERTY('IsHadrEnabled') AS int) AS is_hadr_enabled;
SELECT e.name, e.state_desc, e.role_desc, t.port FROM sys.database_mirroring_endpoints AS e JOIN sys.tcp_endpoints AS t ON t.endpoint_id = e.endpoint_id;
SELECT r.replica_server_name, r.availability_mode_desc, r.failover_mode_desc, s.role_desc, s.connected_state_desc, s.synchronization_health_desc FROM sys.dm_hadr_availability_replica_states AS s JOIN sys.availability_replicas AS r ON r.replica_id = s.replica_id JOIN sys.availability_groups AS g ON g.group_id = s.group_id WHERE g.name = [[ ag | tsql_str ]] ORDER BY r.replica_server_name;
SELECT DB_NAME(d.database_id) AS database_name, d.synchronization_state_desc, d.synchronization_health_desc, d.is_suspended, d.suspend_reason_desc FROM sys.dm_hadr_database_replica_states AS d JOIN sys.availability_groups AS g ON g.group_id = d.group_id WHERE g.name = [[ ag | tsql_str ]] AND d.is_local = 1 ORDER BY database_name;
GO
DECLARE @hadr int, @role nvarchar(60), @mode nvarchar(60), @joined int, @synchronized int;
SET @hadr = ISNULL(CAST(SERVERPROPERTY('IsHadrEnabled') AS int), 0);
SELECT @role = s.role_desc, @mode = r.availability_mode_desc FROM sys.dm_hadr_availability_replica_states AS s JOIN sys.availability_replicas AS r ON r.replica_id = s.replica_id JOIN sys.availability_groups AS g ON g.group_id = s.group_id WHERE g.name = [[ ag | tsql_str ]] AND s.is_local = 1;
SELECT @joined = COUNT(*), @synchronized = ISNULL(SUM(CASE WHEN d.synchronization_state_desc = N'SYNCHRONIZED' AND d.is_suspended = 0 THEN 1 ELSE 0 END), 0) FROM sys.dm_hadr_database_replica_states AS d JOIN sys.availability_groups AS g ON g.group_id = d.group_id WHERE g.name = [[ ag | tsql_str ]] AND d.is_local = 1;
IF @hadr <> 1
    PRINT N'NOT READY: Always On availability groups are not enabled on this instance.';
ELSE IF @role IS NULL
    PRINT N'NOT READY: this instance is not a joined replica of the group (run its ag-create.sql or ag-join.sql).';
ELSE IF @role = N'PRIMARY'
    PRINT N'PRIMARY: this replica is the primary; a planned failover is run on the secondary that is to become primary.';
ELSE IF @role <> N'SECONDARY'
    PRINT N'NOT READY: the replica is RESOLVING; only a forced failover (with data loss) is possible now.';
ELSE IF @mode <> N'SYNCHRONOUS_COMMIT'
    PRINT N'NOT READY for a planned failover: this secondary is asynchronous-commit; only a forced failover (with data loss) can make it primary.';
ELSE IF @joined < [[ database_count ]]
    PRINT N'NOT READY for a planned failover: not every database of the group has joined here (run ag-join.sql).';
ELSE IF @synchronized < @joined
    PRINT N'NOT READY for a planned failover: a database is not SYNCHRONIZED or is suspended here (see the rows above).';
ELSE
    PRINT N'READY: a planned failover (ALTER AVAILABILITY GROUP ... FAILOVER;) may be run on this replica.';
GO
