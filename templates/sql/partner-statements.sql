[# A mirroring partner is lost (runbook, sql/partner-lost.md): forced service on the surviving
   partner, or resuming the sessions there once the lost one is back, for a site with more
   databases than the runbook lists line by line. Each statement on its own, the anchor first; one
   that fails does not stop the others (as pasted lines would not), and the script ends in error
   when any failed. ALTER DATABASE Database Mirroring (Transact-SQL): SET PARTNER
   FORCE_SERVICE_ALLOW_DATA_LOSS, RESUME; TRY...CATCH (Transact-SQL). #]
:on error exit
[% if force %]
-- sitebundle: forced service on partner [[ partner | tsql_str ]] (site [[ site | tsql_str ]]), its
-- databases principal there, possibly losing what the lost partner had not sent. Only when the
-- other partner is really down: see the runbook, "A mirroring partner is lost".
[% else %]
-- sitebundle: resume mirroring on partner [[ partner | tsql_str ]] (site [[ site | tsql_str ]]),
-- after the lost partner is back: see the runbook, "A mirroring partner is lost".
[% endif %]
SET NOCOUNT ON;
GO
DECLARE @failed int;
SET @failed = 0;
[% for d in databases %]
BEGIN TRY
    ALTER DATABASE [[ d | tsql_ident ]] SET PARTNER [% if force %]FORCE_SERVICE_ALLOW_DATA_LOSS[% else %]RESUME[% endif %];
END TRY
BEGIN CATCH
    SET @failed = @failed + 1;
    PRINT [[ d | tsql_str ]] + N': ' + ERROR_MESSAGE();
END CATCH;
[% endfor %]
IF @failed > 0
    RAISERROR(N'%d statements failed (printed above)', 16, 1, @failed);
GO
