[# The failover-all job of database mirroring: sql/agent-job.sql with its texts. #]
[% extends "sql/agent-job.sql" %]
[% block header %]
-- sitebundle: failover-all job for SQL Server database mirroring (site [[ site | tsql_str ]]).
-- Partner [[ partner | tsql_str ]] ([[ position ]] of 2). Run on that server:
--     sqlcmd -S <server> -E -b -f 65001 -i mirror-failover-job.sql
-- Creates or updates (in place, keeping its history and its enabled or disabled state) the SQL
-- Server Agent job [[ job.name | tsql_str ]]:
-- category created if missing, one T-SQL step in master, a schedule every [[ job.interval_minutes ]] minute(s)
-- starting at [[ start_label | trusted ]] (the partners are staggered by [[ job.stagger_seconds ]] seconds).
-- Any error rolls everything back and ends sqlcmd with a non-zero exit code.
-- Needs sysadmin. SQL Server 2008 or later.
[% endblock %]
[% block owner %]
-- runs as its owner: on the partner where a database is the mirror, sys.database_mirroring shows its
-- row only to sysadmin ("To see non-NULL values on a mirror database, you must be a member of the
-- sysadmin fixed server role", sys.database_mirroring (Transact-SQL)), and RAISERROR ... WITH LOG
-- needs sysadmin or ALTER TRACE (RAISERROR (Transact-SQL), option LOG). IS_SRVROLEMEMBER gives 1
-- for a member, 0 for a login that is not, NULL for an unknown login (IS_SRVROLEMEMBER
-- (Transact-SQL)); a Windows login may be a member through a Windows group.
IF ISNULL(IS_SRVROLEMEMBER(N'sysadmin', [[ job.owner | tsql_str ]]), 0) <> 1
    RAISERROR (N'Failover job not installed, nothing changed: its owner %s is not sysadmin on this instance (or is no login here). The job runs as its owner and sees the mirror side only as sysadmin: set sql.job.owner to a sysadmin login.', 16, 1, [[ job.owner | tsql_str ]]);
[% endblock %]
[% block outcome_table %]
    -- The step's last outcome per database: it logs a database's state only when it changes.
    -- Created when missing, kept across re-runs; rollback: DROP TABLE msdb.dbo.sitebundle_mirroring_outcome.
    IF OBJECT_ID(N'msdb.dbo.sitebundle_mirroring_outcome', N'U') IS NULL
        CREATE TABLE msdb.dbo.sitebundle_mirroring_outcome (
            database_name sysname NOT NULL PRIMARY KEY,
[% endblock %]
[% block paused %]
        -- No @enabled: a job a DBA disabled (pause-failover-job.sql) stays disabled.
[% endblock %]
[% block not_installed %]
    RAISERROR (N'Failover job not installed, nothing changed: %s', 16, 1, @msg);
[% endblock %]
