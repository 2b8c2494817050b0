:on error exit
-- sitebundle: end database mirroring on the principal [[ replica | tsql_str ]] so that its databases can move into the availability group [[ ag | tsql_ident ]] (site [[ site | tsql_str ]]).
-- Run once on [[ replica | tsql_str ]], the mirroring principal and the group's initial primary, after
-- mirroring-retire.sql on both partners and before [[ create_file | trusted ]]:
--     sqlcmd -E -b -f 65001 -i <this file> (the runbook gives the exact line)
-- It changes nothing unless Always On is enabled here and every database is the principal here,
-- SYNCHRONIZED, with safety FULL (its mirror then holds every committed transaction), or is
-- already out of mirroring and ONLINE here (a second run). Then, per database that still is:
-- ALTER DATABASE ... SET PARTNER OFF (removes the mirroring session; ALTER DATABASE Database
-- Mirroring (Transact-SQL)). The mirror copies on [[ mirror | tsql_str ]] stay RESTORING, as copies restored
-- WITH NORECOVERY are, and ag-join.sql joins them to the group as they are.
-- From here until ag-join.sql ran on [[ mirror | tsql_str ]]: no log backup of these databases on this server
-- (pause the log backup job); a log backup taken in between must be restored on [[ mirror | tsql_str ]] WITH
-- NORECOVERY before the join. The last batch checks that every database is out of mirroring and
-- ONLINE here: a failover in between stops it, and a second run finishes the rest.
SET NOCOUNT ON;
GO
DECLARE @hadr int, @principal int, @ready int, @out int;
SET @hadr = ISNULL(CAST(SERVERPROPERTY('IsHadrEnabled') AS int), 0);
SELECT @principal = COUNT(*), @ready = ISNULL(SUM(CASE WHEN m.mirroring_state = 4 AND m.mirroring_safety_level = 2 THEN 1 ELSE 0 END), 0) FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name IN ([% for d in databases %][[ d | tsql_str ]][% if not loop.last %], [% endif %][% endfor %]) AND m.mirroring_role = 1;
SELECT @out = COUNT(*) FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name IN ([% for d in databases %][[ d | tsql_str ]][% if not loop.last %], [% endif %][% endfor %]) AND m.mirroring_guid IS NULL AND d.state_desc = N'ONLINE';
IF @hadr <> 1
    RAISERROR (N'Nothing changed: Always On availability groups are not enabled on this instance. Enable them (and restart the service) first: the group is created right after mirroring ends.', 16, 1);
ELSE IF @principal + @out < [[ count ]]
    RAISERROR (N'Nothing changed: every database must be the mirroring principal here (or already out of mirroring and ONLINE here). Fail them over to this server first, then run this again.', 16, 1);
ELSE IF @ready < @principal
    RAISERROR (N'Nothing changed: a database is not SYNCHRONIZED with safety FULL here, so its mirror may lack committed transactions. Set SAFETY FULL, wait until it is SYNCHRONIZED, and run this again.', 16, 1);
ELSE
    PRINT N'READY: ending database mirroring of every database here.';
GO
[% for d in databases %]
IF EXISTS (SELECT 1 FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name = [[ d | tsql_str ]] AND m.mirroring_role = 1 AND m.mirroring_state = 4 AND m.mirroring_safety_level = 2)
    ALTER DATABASE [[ d | tsql_ident ]] SET PARTNER OFF;
GO
[% endfor %]
DECLARE @out int;
SELECT @out = COUNT(*) FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name IN ([% for d in databases %][[ d | tsql_str ]][% if not loop.last %], [% endif %][% endfor %]) AND m.mirroring_guid IS NULL AND d.state_desc = N'ONLINE';
IF @out < [[ count ]]
    RAISERROR (N'Not finished: a database is still mirrored, or not ONLINE here (a failover meanwhile?). See sys.database_mirroring; fail it back to this server and run this again.', 16, 1);
ELSE
    PRINT [[ next | tsql_str ]];
GO
