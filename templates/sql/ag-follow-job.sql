[# The follower job of the availability groups: sql/agent-job.sql with its texts. #]
[% extends "sql/agent-job.sql" %]
[% block header %]
-- sitebundle: the follower job of the availability groups (site [[ site | tsql_str ]]): the groups
-- [[ followers | trusted ]] follow the anchor group [[ anchor | tsql_ident ]].
-- Replica [[ replica | tsql_str ]] ([[ position ]] of [[ replicas ]]). Run on that server, after its ag-create or ag-join scripts:
--     sqlcmd -S <server> -E -b -f 65001 -i ag-follow-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job [[ job.name | tsql_str ]]:
-- category created if missing, one T-SQL step in master, a schedule every [[ job.interval_minutes ]] minute(s).
-- The same job runs on every replica; only where the anchor group is primary does it act.
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2012 or later.
[% endblock %]
[% block owner %]
-- runs as its owner: ALTER AVAILABILITY GROUP needs ALTER AVAILABILITY GROUP on the group, CONTROL
-- AVAILABILITY GROUP, ALTER ANY AVAILABILITY GROUP or CONTROL SERVER (ALTER AVAILABILITY GROUP
-- (Transact-SQL), Permissions), the sys.dm_hadr views VIEW SERVER STATE, and RAISERROR ... WITH LOG
-- sysadmin or ALTER TRACE (RAISERROR (Transact-SQL), option LOG). IS_SRVROLEMEMBER gives 1
-- for a member, 0 for a login that is not, NULL for an unknown login (IS_SRVROLEMEMBER
-- (Transact-SQL)); a Windows login may be a member through a Windows group.
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', [[ job.owner | tsql_str ]]), 0) <> 1
    RAISERROR (N'Follower job not installed, nothing changed: its owner %s is not sysadmin on this instance (or is no login here). The job runs as its owner and fails groups over: set sql.job.owner to a sysadmin login.', 16, 1, [[ job.owner | tsql_str ]]);
[% endblock %]
[% block outcome_table %]
    -- The step's last outcome per group: it logs a group's state only when it changes.
    -- Created when missing, kept across re-runs; rollback: DROP TABLE msdb.dbo.sitebundle_ag_outcome.
    IF OBJECT_ID(N'msdb.dbo.sitebundle_ag_outcome', N'U') IS NULL
        CREATE TABLE msdb.dbo.sitebundle_ag_outcome (
            group_name sysname NOT NULL PRIMARY KEY,
[% endblock %]
[% block paused %]
        -- No @enabled: a job a DBA paused (the runbook's sp_update_job @enabled = 0) stays disabled.
[% endblock %]
[% block not_installed %]
    RAISERROR (N'Follower job not installed, nothing changed: %s', 16, 1, @msg);
[% endblock %]
