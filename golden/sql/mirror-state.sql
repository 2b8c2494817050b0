:on error exit
-- sitebundle: mirror-state probe (site N'partnerpoint').
-- Prints one line: Primary, Secondary or unknown, for the database named by the sqlcmd
-- variable dbname on the server it runs against:
--     sqlcmd -S <server> -E -b -d master -h -1 -i mirror-state.sql -v dbname=SharePoint_Config
-- ALLOWED VALUES of dbname: letters, digits, `_` and `-` only. sqlcmd pastes the value into the
-- text below before SQL Server reads it (a quote would end the literal), so never pass a value
-- you did not type yourself. The databases of this site: SharePoint_Config, SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37, WSS_Content_PartnerPoint, WSS_Content_ECTS, WSS_Search_SHAREPOINT3.
-- Primary: the database is the principal here. Secondary: it is the mirror here (only visible
-- to sysadmin). unknown: not mirrored, not visible to this login, or no such database.
-- A login needs VIEW ANY DATABASE (or ALTER ANY DATABASE / CREATE DATABASE) to see the row.
SET NOCOUNT ON;
DECLARE @db nvarchar(256), @state nvarchar(9);
SET @db = N'$(dbname)';
SELECT @state = CASE m.mirroring_role WHEN 1 THEN N'Primary' WHEN 2 THEN N'Secondary' ELSE N'unknown' END
FROM sys.database_mirroring AS m
JOIN sys.databases AS d ON d.database_id = m.database_id
WHERE d.name = @db;
PRINT ISNULL(@state, N'unknown');
GO
