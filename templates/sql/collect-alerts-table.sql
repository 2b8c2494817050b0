[# The SQL collectors' copy of sp_help_alert's result set (collect-sql.sql, collect-ag.sql). #]
-- The columns of sp_help_alert's result set (SQL Server 2005 and later).
CREATE TABLE #sb_alerts (
    id int NULL, name nvarchar(128) NULL, event_source nvarchar(100) NULL,
    event_category_id int NULL, event_id int NULL, message_id int NULL, severity int NULL,
    enabled tinyint NULL, delay_between_responses int NULL, last_occurrence_date int NULL,
    last_occurrence_time int NULL, last_response_date int NULL, last_response_time int NULL,
    notification_message nvarchar(512) NULL, include_event_description tinyint NULL,
    database_name nvarchar(128) NULL, event_description_keyword nvarchar(100) NULL,
    occurrence_count int NULL, count_reset_date int NULL, count_reset_time int NULL,
    job_id uniqueidentifier NULL, job_name nvarchar(128) NULL, has_notification int NULL,
    flags int NULL, performance_condition nvarchar(512) NULL, category_name nvarchar(128) NULL,
    wmi_namespace nvarchar(max) NULL, wmi_query nvarchar(max) NULL, type int NULL
);
INSERT INTO #sb_alerts EXEC msdb.dbo.sp_help_alert;
