//! The SQL family's generated scripts: per partner the failover-all Agent job and the WMI
//! mirroring alerts, the mirror-state probe, and the alias switcher for the front ends.
//!
//! The job step is T-SQL rendered from its own template and embedded as one `N'…'` literal with
//! `escape::tsql_text`, which rejects `$(` (sqlcmd variables, Agent tokens) and sqlcmd command lines.

use serde::Serialize;

use super::model::{Partner, Sql};
use crate::model::Farm;

/// A T-SQL script of the bundle as sqlcmd reads it (`-f 65001`): UTF-8, CRLF.
pub fn tsql_file(text: &str) -> crate::bundle::Artifact {
    use crate::bundle::{Artifact, ArtifactKind, Encoding, Eol};
    Artifact::text(ArtifactKind::Tsql, Encoding::Utf8, Eol::Crlf, text)
}

/// Folder of a partner's scripts in the bundle: `sql/<server>` or `sql/<server>-<instance>`.
pub fn partner_dir(site: &Farm, p: &Partner) -> String {
    let name = &site.server(p.server).name;
    match &p.instance {
        Some(i) => format!("sql/{name}-{i}"),
        None => format!("sql/{name}"),
    }
}

/// `active_start_time` of partner `idx` (0 or 1) as HHMMSS, and as `HH:MM:SS`.
pub fn start_time(sql: &Sql, idx: usize) -> (u32, String) {
    let secs = if idx == 0 { 0 } else { sql.job.stagger_seconds };
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    (h * 10000 + m * 100 + s, format!("{h:02}:{m:02}:{s:02}"))
}

/// The job step's T-SQL (plain text; the job script quotes it).
pub fn step_text(site: &Farm, sql: &Sql, p: &Partner) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct StepView<'a> {
        site: &'a str,
        partner: String,
        all_synchronized: bool,
        databases: &'a [String],
        anchor: &'a str,
        controlled: &'a [String],
    }
    crate::render::render(
        "sql/failover-step.sql",
        &StepView {
            site: &site.name,
            partner: p.target(),
            all_synchronized: sql.all_synchronized,
            databases: &sql.databases,
            anchor: &sql.anchor,
            controlled: &sql.controlled,
        },
    )
}

#[derive(Serialize)]
struct JobView<'a> {
    site: &'a str,
    partner: String,
    position: usize,
    job: JobSettingsView<'a>,
    description: String,
    step_name: &'a str,
    step: String,
    schedule_name: &'a str,
    start_hhmmss: u32,
    /// `HH:MM:SS` built by `format!` from integers: printed with `trusted` in a comment.
    start_label: String,
}

#[derive(Serialize)]
struct JobSettingsView<'a> {
    name: &'a str,
    owner: &'a str,
    category: &'a str,
    interval_minutes: u32,
    stagger_seconds: u32,
}

#[derive(Serialize)]
struct AlertView {
    name: String,
    /// Fixed text from this module (no site value): printed with `trusted` in a comment.
    what: &'static str,
    query: String,
    delay: u32,
}

/// The WMI alerts of one partner: (name suffix, comment, WQL).
pub const ALERTS: &[(&str, &str, &str)] = &[
    (
        "manual failover",
        "Manual failover (State 7)",
        "SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 7",
    ),
    (
        "automatic failover",
        "Automatic failover (State 8)",
        "SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 8",
    ),
];

/// Alerts of earlier versions that the alerts script removes (name suffixes): connection-lost
/// states cannot lead to a failover.
pub const RETIRED_ALERTS: &[&str] = &["connection lost"];

pub fn job_script(site: &Farm, sql: &Sql, idx: usize) -> Result<String, crate::Error> {
    let p = &sql.partners[idx];
    let (start_hhmmss, start_label) = start_time(sql, idx);
    let ctx = JobView {
        site: &site.name,
        partner: p.target(),
        position: idx + 1,
        job: JobSettingsView {
            name: &sql.job.name,
            owner: &sql.job.owner,
            category: &sql.job.category,
            interval_minutes: sql.job.interval_minutes,
            stagger_seconds: sql.job.stagger_seconds,
        },
        description: mirroring_job_description(site, sql, idx, &start_label),
        step_name: MIRRORING_STEP_NAME,
        step: step_text(site, sql, p)?,
        schedule_name: &sql.job.name,
        start_hhmmss,
        start_label,
    };
    crate::render::render("sql/mirror-failover-job.sql", &ctx)
}

pub fn alerts_script(site: &Farm, sql: &Sql, idx: usize) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct AlertsView<'a> {
        site: &'a str,
        partner: String,
        job_name: &'a str,
        category: &'a str,
        namespace: String,
        alerts: Vec<AlertView>,
        retired: Vec<String>,
    }
    let p = &sql.partners[idx];
    let alerts = ALERTS
        .iter()
        .map(|(suffix, what, query)| AlertView {
            name: format!("{} - {suffix}", site.name),
            what,
            query: alert_query(sql, query),
            // One response per minute at most: a flapping connection must not queue the job.
            delay: 60,
        })
        .collect();
    crate::render::render(
        "sql/mirroring-alerts.sql",
        &AlertsView {
            site: &site.name,
            partner: p.target(),
            job_name: &sql.job.name,
            category: &sql.job.category,
            namespace: p.wmi_namespace(),
            alerts,
            retired: RETIRED_ALERTS
                .iter()
                .map(|suffix| format!("{} - {suffix}", site.name))
                .collect(),
        },
    )
}

/// The failover-all job's description on partner `idx` (its start time `HH:MM:SS`).
pub fn mirroring_job_description(site: &Farm, sql: &Sql, idx: usize, start: &str) -> String {
    format!(
        "sitebundle (site {}): where the anchor database {} is the mirror, fail over every database that is principal here, so that all follow it. Partner {} of 2, starts at {start}.",
        site.name,
        sql.anchor,
        idx + 1
    )
}

pub const MIRRORING_STEP_NAME: &str = "Fail over all mirrored databases";

/// Every alert name the site's mirroring bundles may have created on a partner: the current
/// ones and the retired ones.
pub fn mirroring_alert_names(site: &Farm) -> Vec<String> {
    (ALERTS.iter().map(|(suffix, _, _)| *suffix))
        .chain(RETIRED_ALERTS.iter().copied())
        .map(|suffix| format!("{} - {suffix}", site.name))
        .collect()
}

/// How the failover-all job's description starts (job_script), whatever the job's name.
pub fn mirroring_job_prefix(site: &Farm) -> String {
    format!("sitebundle (site {}): where the anchor database", site.name)
}

/// ` AND DatabaseName = '<anchor>'`: the job acts only after the anchor moved, so a failover of
/// another database (the job's own included) need not start it. DATABASE_MIRRORING_STATE_CHANGE
/// carries DatabaseName (WMI Provider for Server Events, its event properties). None when the
/// name has characters a WQL string would need escaped: the alerts then watch every database.
pub fn anchor_filter(anchor: &str) -> Option<String> {
    let plain = !anchor.is_empty()
        && anchor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    plain.then(|| format!(" AND DatabaseName = '{anchor}'"))
}

/// The WQL of an alert of [`ALERTS`], filtered on the anchor where [`anchor_filter`] can.
pub fn alert_query(sql: &Sql, query: &str) -> String {
    match anchor_filter(&sql.anchor) {
        Some(f) => format!("{query}{f}"),
        None => query.to_string(),
    }
}

/// Database names that may be passed as `-v dbname=…` (letters, digits, `_`, `-`).
pub fn probe_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn probe_script(site: &Farm, sql: &Sql) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct ProbeView<'a> {
        site: &'a str,
        /// Only names that pass `probe_safe` (plain charset): printed with `trusted` in comments.
        example: String,
        safe_databases: Vec<&'a str>,
    }
    let safe: Vec<&str> = sql
        .databases
        .iter()
        .map(String::as_str)
        .filter(|d| probe_safe(d))
        .collect();
    let example = if probe_safe(&sql.switcher.probe_database) {
        sql.switcher.probe_database.clone()
    } else {
        "SharePoint_Config".into()
    };
    crate::render::render(
        "sql/mirror-state.sql",
        &ProbeView {
            site: &site.name,
            example,
            safe_databases: safe,
        },
    )
}

pub fn switcher_script(site: &Farm, sql: &Sql) -> Result<String, crate::Error> {
    let default_services: Vec<String> = super::model::WRITE_UP_SERVICES
        .iter()
        .map(|s| s.to_string())
        .collect();
    #[derive(Serialize)]
    struct SwitcherView<'a> {
        site: &'a str,
        task_name: &'a str,
        interval: u32,
        alias: &'a str,
        partners: Vec<String>,
        database: &'a str,
        /// "true" or "false": printed with `trusted` after `$`.
        cycle_services: &'static str,
        services: &'a [String],
    }
    crate::render::render(
        "sql/Update-SqlAlias.ps1",
        &SwitcherView {
            site: &site.name,
            task_name: &sql.switcher.task_name,
            interval: sql.switcher.interval_minutes,
            alias: &sql.alias,
            partners: sql.partners.iter().map(Partner::target).collect(),
            database: &sql.switcher.probe_database,
            cycle_services: if sql.switcher.cycle_services.is_empty() {
                "false"
            } else {
                "true"
            },
            // Without cycling, -CycleServices by hand restarts the write-up's services.
            services: if sql.switcher.cycle_services.is_empty() {
                &default_services
            } else {
                &sql.switcher.cycle_services
            },
        },
    )
}

/// `pause-failover-job.sql` (`enabled = false`) or `resume-failover-job.sql` (`true`): disables or
/// enables the job and its alerts on one partner, before and after planned failovers or patching.
pub fn pause_script(
    site: &Farm,
    sql: &Sql,
    idx: usize,
    enabled: bool,
) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct PauseView<'a> {
        site: &'a str,
        partner: String,
        job_name: &'a str,
        alerts: Vec<String>,
        enabled: bool,
    }
    crate::render::render(
        "sql/pause-failover-job.sql",
        &PauseView {
            site: &site.name,
            partner: sql.partners[idx].target(),
            job_name: &sql.job.name,
            alerts: ALERTS
                .iter()
                .map(|(suffix, _, _)| format!("{} - {suffix}", site.name))
                .collect(),
            enabled,
        },
    )
}
