:on error exit
-- sitebundle: the availability group [[ ag | tsql_ident ]][% if listener %] and its listener[% else %] (a follower of [[ anchor | tsql_ident ]], no listener)[% endif %] (site [[ site | tsql_str ]]).
-- Run once on the initial primary replica [[ primary.name | tsql_str ]] (SQL Server 2012 or later):
--     sqlcmd -E -b -f 65001 -i <this file> (the runbook gives the exact line)
-- What must exist first (this script checks the first three and stops with an error when one is missing):
--   * Always On availability groups enabled on every replica's instance (SQL Server Configuration
--     Manager, the service's Always On tab, or Enable-SqlAlwaysOn), the service restarted, and every
--     replica a node of one Windows Server Failover Cluster;
--   * a database mirroring endpoint on TCP port [[ endpoint_port ]], STARTED, on every replica, with
--     CONNECT granted on it to the other replicas' SQL Server service accounts;
--   * each database here, ONLINE, in the FULL recovery model, with a full backup taken.
-- Idempotent: a group[% if listener %], a database or a listener[% else %] or a database[% endif %] that is already there is left as it is; a database
-- listed in the site but not yet in the group is added.
-- The statements run inside IF guards, as public scripts do (e.g. stanislav-lion/Users_TestTask,
-- AddDatabaseToAvailabilityGroupOnSecondaryReplica.sql: IF (EXISTS ...) BEGIN ALTER DATABASE ... SET HADR ... END).
SET NOCOUNT ON;
GO
IF ISNULL(CAST(SERVERPROPERTY('IsHadrEnabled') AS int), 0) <> 1
    RAISERROR (N'Always On availability groups are not enabled on this instance: enable them in SQL Server Configuration Manager and restart the service.', 16, 1);
GO
IF NOT EXISTS (SELECT 1 FROM sys.database_mirroring_endpoints AS e JOIN sys.tcp_endpoints AS t ON t.endpoint_id = e.endpoint_id WHERE e.state_desc = N'STARTED' AND t.port = [[ endpoint_port ]])
    RAISERROR (N'No STARTED database mirroring endpoint on TCP port %d: create it (CREATE ENDPOINT ... FOR DATABASE_MIRRORING) and start it first.', 16, 1, [[ endpoint_port ]]);
GO
[% for d in databases %]
IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = [[ d | tsql_str ]] AND state_desc = N'ONLINE' AND recovery_model_desc = N'FULL')
    RAISERROR (N'The database %s must be here, ONLINE, in the FULL recovery model (with a full backup taken) before it can be in the availability group.', 16, 1, [[ d | tsql_str ]]);
GO
[% endfor %]
IF NOT EXISTS (SELECT 1 FROM sys.availability_groups WHERE name = [[ ag | tsql_str ]])
BEGIN
    CREATE AVAILABILITY GROUP [[ ag | tsql_ident ]]
    WITH (AUTOMATED_BACKUP_PREFERENCE = SECONDARY)
    FOR DATABASE [% for d in databases %][[ d | tsql_ident ]][% if not loop.last %], [% endif %][% endfor %]

    REPLICA ON
[% for r in replicas %]
        [[ r.name | tsql_str ]] WITH (ENDPOINT_URL = [[ r.endpoint_url | tsql_str ]], AVAILABILITY_MODE = [[ r.availability_mode | trusted ]], FAILOVER_MODE = [[ r.failover_mode | trusted ]])[% if not loop.last %],[% else %];[% endif %]

[% endfor %]
END
GO
[% for d in databases %]
IF NOT EXISTS (SELECT 1 FROM sys.availability_databases_cluster AS c JOIN sys.availability_groups AS g ON g.group_id = c.group_id WHERE g.name = [[ ag | tsql_str ]] AND c.database_name = [[ d | tsql_str ]])
BEGIN
    ALTER AVAILABILITY GROUP [[ ag | tsql_ident ]] ADD DATABASE [[ d | tsql_ident ]];
END
GO
[% endfor %]
[% if listener %]
IF NOT EXISTS (SELECT 1 FROM sys.availability_group_listeners AS l JOIN sys.availability_groups AS g ON g.group_id = l.group_id WHERE g.name = [[ ag | tsql_str ]])
BEGIN
    ALTER AVAILABILITY GROUP [[ ag | tsql_ident ]]
    ADD LISTENER [[ listener | tsql_str ]] (WITH IP ([% for a in addresses %]([[ a.ip | tsql_str ]], [[ a.mask | tsql_str ]])[% if not loop.last %], [% endif %][% endfor %]), PORT = [[ port ]]);
END
GO
[% endif %]
PRINT [[ next | tsql_str ]];
GO
