:on error exit
-- sitebundle: SQL Server Agent alerts on the availability group [[ ag | tsql_ident ]] (site [[ site | tsql_str ]]), replica [[ replica | tsql_str ]].
-- Run on every replica (alerts live in each instance's msdb, and the roles move between replicas).
-- 1480 (a database changes roles), 35264 (data movement suspended) and 35265 (data movement resumed)
-- are severity 10 and not written to the Windows Application log by default ("Event logged: No",
-- Database engine events and errors; Microsoft's SCOM Always On monitoring page: "By default, SQL Server
-- may not fire these events in the application log. To enable them, run sp_altermessage ...").
-- SQL Server Agent raises an alert from the Application log, so each message is first set WITH_LOG.
-- Existing alerts of these names are kept as they are (with the operator notifications added by hand);
-- missing ones are created enabled. Add notifications with msdb.dbo.sp_add_notification.
SET NOCOUNT ON;
GO
[% for a in alerts %]
EXEC sys.sp_altermessage @message_id = [[ a.message_id ]], @parameter = 'WITH_LOG', @parameter_value = 'true';
GO
[% endfor %]
USE [msdb];
GO
DECLARE @rc int;
SET @rc = 0;
[% for a in alerts %]
-- [[ a.what | trusted ]]
IF NOT EXISTS (SELECT 1 FROM msdb.dbo.sysalerts WHERE name = [[ a.name | tsql_str ]])
BEGIN
    EXEC @rc = msdb.dbo.sp_add_alert
        @name = [[ a.name | tsql_str ]],
        @message_id = [[ a.message_id ]],
        @severity = 0,
        @enabled = 1,
        @delay_between_responses = 60,
        @include_event_description_in = 1;
    IF @rc <> 0 RAISERROR (N'sp_add_alert failed (%d).', 16, 1, @rc);
END
[% endfor %]
GO
SELECT m.message_id, m.is_event_logged, a.name AS alert_name, a.enabled FROM sys.messages AS m LEFT JOIN msdb.dbo.sysalerts AS a ON a.message_id = m.message_id WHERE m.language_id = 1033 AND m.message_id IN ([% for a in alerts %][[ a.message_id ]][% if not loop.last %], [% endif %][% endfor %]) ORDER BY m.message_id;
GO
