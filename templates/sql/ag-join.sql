:on error exit
-- sitebundle: join the secondary replica [[ replica.name | tsql_str ]] to the availability group [[ ag | tsql_ident ]] (site [[ site | tsql_str ]]).
-- Run on that replica after [[ create_file | trusted ]] ran on the primary [[ primary | tsql_str ]]:
--     sqlcmd -E -b -f 65001 -i <this file> (the runbook gives the exact line)
-- Before: each database restored here WITH NORECOVERY from the primary's latest full backup and every
-- log backup after it (the group is created with manual seeding); Always On enabled on this instance
-- and its database mirroring endpoint STARTED on TCP port [[ endpoint_port ]].
-- JOIN and SET HADR are run on the secondary ("the JOIN, FAILOVER, and FORCE_FAILOVER_ALLOW_DATA_LOSS
-- arguments are supported only on secondary replicas", ALTER AVAILABILITY GROUP (Transact-SQL)).
-- Idempotent: a replica or a database that has already joined is left as it is.
SET NOCOUNT ON;
GO
IF ISNULL(CAST(SERVERPROPERTY('IsHadrEnabled') AS int), 0) <> 1
    RAISERROR (N'Always On availability groups are not enabled on this instance: enable them in SQL Server Configuration Manager and restart the service.', 16, 1);
GO
IF NOT EXISTS (SELECT 1 FROM sys.database_mirroring_endpoints AS e JOIN sys.tcp_endpoints AS t ON t.endpoint_id = e.endpoint_id WHERE e.state_desc = N'STARTED' AND t.port = [[ endpoint_port ]])
    RAISERROR (N'No STARTED database mirroring endpoint on TCP port %d: create it (CREATE ENDPOINT ... FOR DATABASE_MIRRORING) and start it first.', 16, 1, [[ endpoint_port ]]);
GO
IF NOT EXISTS (SELECT 1 FROM sys.dm_hadr_availability_replica_states AS s JOIN sys.availability_groups AS g ON g.group_id = s.group_id WHERE g.name = [[ ag | tsql_str ]] AND s.is_local = 1)
BEGIN
    ALTER AVAILABILITY GROUP [[ ag | tsql_ident ]] JOIN;
END
GO
[% for d in databases %]
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = [[ d | tsql_str ]])
    RAISERROR (N'The database %s is not here: restore it WITH NORECOVERY from the primary''s full and log backups first.', 16, 1, [[ d | tsql_str ]]);
ELSE IF EXISTS (SELECT 1 FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name = [[ d | tsql_str ]] AND m.mirroring_guid IS NOT NULL)
    RAISERROR (N'The database %s is still in a database mirroring session: end it on the principal first (ALTER DATABASE ... SET PARTNER OFF; the bundle''s mirroring-off.sql when the group replaces mirroring).', 16, 1, [[ d | tsql_str ]]);
ELSE IF EXISTS (SELECT 1 FROM sys.databases WHERE name = [[ d | tsql_str ]] AND replica_id IS NULL)
BEGIN
    ALTER DATABASE [[ d | tsql_ident ]] SET HADR AVAILABILITY GROUP = [[ ag | tsql_ident ]];
END
GO
[% endfor %]
PRINT [[ next | tsql_str ]];
GO
