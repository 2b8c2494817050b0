//! SQL Server database mirroring (DESIGN §5.4): per partner the failover-all Agent job and the
//! WMI mirroring alerts, the mirror-state probe, the alias switcher for the front ends with its
//! scheduled task, and the initial client alias (.reg file and registry values for Group Policy).
//!
//! The job step is T-SQL rendered from its own template and embedded as one `N'…'` literal with
//! `escape::tsql_text`, which rejects `$(` (sqlcmd variables, Agent tokens) and sqlcmd command lines.

use serde::Serialize;

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;
use crate::model::sql::{Partner, Sql};
use crate::registry::{RegData, RegValue};
use crate::tasks::{Principal, TaskSpec, Trigger, start_boundary};

pub const SWITCHER: &str = "Update-SqlAlias.ps1";
pub const CONNECT_TO: &str = r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo";
pub const CONNECT_TO_WOW: &str = r"SOFTWARE\Wow6432Node\Microsoft\MSSQLServer\Client\ConnectTo";

/// Folder of a partner's scripts in the bundle: `sql/<server>` or `sql/<server>-<instance>`.
pub fn partner_dir(site: &Site, p: &Partner) -> String {
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
pub fn step_text(site: &Site, sql: &Sql, p: &Partner) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct Ctx<'a> {
        site: &'a str,
        partner: String,
        all_synchronized: bool,
        databases: &'a [String],
    }
    crate::render::render(
        "sql/failover-step.sql",
        &Ctx {
            site: &site.name,
            partner: p.target(),
            all_synchronized: sql.all_synchronized,
            databases: &sql.databases,
        },
    )
}

#[derive(Serialize)]
struct JobCtx<'a> {
    site: &'a str,
    partner: String,
    position: usize,
    job: JobView<'a>,
    description: String,
    step_name: &'a str,
    step: String,
    schedule_name: &'a str,
    start_hhmmss: u32,
    /// `HH:MM:SS` built by `format!` from integers: printed with `trusted` in a comment.
    start_label: String,
}

#[derive(Serialize)]
struct JobView<'a> {
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
    (
        "connection lost",
        "Connection with the principal (5) or the mirror (6) lost",
        "SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 5 OR State = 6",
    ),
];

pub fn job_script(site: &Site, sql: &Sql, idx: usize) -> Result<String, crate::Error> {
    let p = &sql.partners[idx];
    let (start_hhmmss, start_label) = start_time(sql, idx);
    let ctx = JobCtx {
        site: &site.name,
        partner: p.target(),
        position: idx + 1,
        job: JobView {
            name: &sql.job.name,
            owner: &sql.job.owner,
            category: &sql.job.category,
            interval_minutes: sql.job.interval_minutes,
            stagger_seconds: sql.job.stagger_seconds,
        },
        description: format!(
            "sitebundle (site {}): if some, but not all, synchronized mirrored databases are principal here, fail over those that are. Partner {} of 2, starts at {}.",
            site.name,
            idx + 1,
            start_label
        ),
        step_name: "Fail over all mirrored databases",
        step: step_text(site, sql, p)?,
        schedule_name: &sql.job.name,
        start_hhmmss,
        start_label,
    };
    crate::render::render("sql/mirror-failover-job.sql", &ctx)
}

pub fn alerts_script(site: &Site, sql: &Sql, idx: usize) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct Ctx<'a> {
        site: &'a str,
        partner: String,
        job_name: &'a str,
        category: &'a str,
        namespace: String,
        alerts: Vec<AlertView>,
    }
    let p = &sql.partners[idx];
    let alerts = ALERTS
        .iter()
        .map(|(suffix, what, query)| AlertView {
            name: format!("{} - {suffix}", site.name),
            what,
            query: (*query).to_string(),
            // One response per minute at most: a flapping connection must not queue the job.
            delay: 60,
        })
        .collect();
    crate::render::render(
        "sql/mirroring-alerts.sql",
        &Ctx {
            site: &site.name,
            partner: p.target(),
            job_name: &sql.job.name,
            category: &sql.job.category,
            namespace: p.wmi_namespace(),
            alerts,
        },
    )
}

/// Database names that may be passed as `-v dbname=…` (letters, digits, `_`, `-`).
pub fn probe_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn probe_script(site: &Site, sql: &Sql) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct Ctx<'a> {
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
        &Ctx {
            site: &site.name,
            example,
            safe_databases: safe,
        },
    )
}

pub fn switcher_script(site: &Site, sql: &Sql) -> Result<String, crate::Error> {
    #[derive(Serialize)]
    struct Ctx<'a> {
        site: &'a str,
        task_name: &'a str,
        interval: u32,
        alias: &'a str,
        partners: Vec<String>,
        database: &'a str,
        /// "true" or "false": printed with `trusted` after `$`.
        cycle_services: &'static str,
    }
    crate::render::render(
        "scripts/Update-SqlAlias.ps1",
        &Ctx {
            site: &site.name,
            task_name: &sql.switcher.task_name,
            interval: sql.switcher.interval_minutes,
            alias: &sql.alias,
            partners: sql.partners.iter().map(Partner::target).collect(),
            database: &sql.switcher.probe_database,
            cycle_services: if sql.switcher.cycle_services {
                "true"
            } else {
                "false"
            },
        },
    )
}

/// The switcher's scheduled task.
pub fn task_specs(site: &Site) -> Vec<TaskSpec> {
    let Some(sql) = &site.sql else {
        return Vec::new();
    };
    let sw = &sql.switcher;
    let principal = if sw.runs_as_system() {
        Principal::system()
    } else {
        // A domain account: the password is typed by an administrator at registration
        // (`schtasks /RU … /RP *`); it is never stored in the bundle or in Group Policy.
        Principal {
            user_id: sw.run_as.clone(),
            logon_type: Some("Password".into()),
            run_level: "HighestAvailable".into(),
        }
    };
    vec![TaskSpec {
        name: sw.task_name.clone(),
        description: format!(
            "Points the SQL client alias {} at the database mirroring principal (sitebundle, site {}). Exit 0 nothing to do, 1 switched, 2 no principal reachable, 3 alias not TCP/IP, 4 error.",
            sql.alias, site.name
        ),
        trigger: Trigger::Repeat {
            start: start_boundary(site, 0, 0, 0),
            interval: format!("PT{}M", sw.interval_minutes),
        },
        command: r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe".into(),
        arguments: format!(
            "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"{}\"",
            site.script_path(SWITCHER)
        ),
        working_directory: String::new(),
        principal,
        execution_time_limit: "PT5M".into(),
        start_when_available: true,
        hosts: sw.servers.clone(),
        feature: "sql",
    }]
}

/// The initial alias on every switcher server: both the 64-bit and the Wow6432Node key, pointing
/// at the first partner.
pub fn reg_values(site: &Site) -> Vec<RegValue> {
    let Some(sql) = &site.sql else {
        return Vec::new();
    };
    let data = sql.partners[0].alias_data();
    [CONNECT_TO, CONNECT_TO_WOW]
        .iter()
        .map(|key| RegValue {
            key: (*key).to_string(),
            name: sql.alias.clone(),
            data: RegData::Sz(data.clone()),
            hosts: sql.switcher.servers.clone(),
            feature: "sql-alias",
            description: format!(
                "SQL client alias {} (initially the first mirroring partner; Update-SqlAlias.ps1 moves it to the principal)",
                sql.alias
            ),
        })
        .collect()
}

fn sqlcmd(target: &str, file: &str) -> String {
    format!("sqlcmd -S {target} -E -b -f 65001 -i {file}")
}

pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let Some(sql) = &site.sql else {
        return Ok(());
    };
    for (idx, p) in sql.partners.iter().enumerate() {
        let dir = partner_dir(site, p);
        let host = vec![site.server(p.server).name.clone()];
        let job = job_script(site, sql, idx)?;
        let path = format!("{dir}/mirror-failover-job.sql");
        bundle.add(
            path.clone(),
            Artifact::text("tsql", Encoding::Utf8, Eol::Crlf, &job)
                .hosts(host.clone())
                .deploy(sqlcmd(&p.target(), &path.replace('/', "\\"))),
        )?;
        let alerts = alerts_script(site, sql, idx)?;
        let path = format!("{dir}/mirroring-alerts.sql");
        bundle.add(
            path.clone(),
            Artifact::text("tsql", Encoding::Utf8, Eol::Crlf, &alerts)
                .hosts(host)
                .deploy(sqlcmd(&p.target(), &path.replace('/', "\\"))),
        )?;
    }
    let hosts = site.server_names(&sql.switcher.servers);
    bundle.add(
        "sql/mirror-state.sql",
        Artifact::text("tsql", Encoding::Utf8, Eol::Crlf, &probe_script(site, sql)?)
            .hosts(hosts.clone())
            .deploy("run by hand: sqlcmd -S <partner> -E -h -1 -i sql\\mirror-state.sql -v dbname=<database>"),
    )?;
    bundle.add(
        crate::helper::script_bundle_path(SWITCHER),
        Artifact::text(
            "powershell",
            Encoding::Utf8,
            Eol::Crlf,
            &switcher_script(site, sql)?,
        )
        .hosts(hosts.clone())
        .deploy(format!(
            "copy to {} (Group Policy Files preference)",
            site.scripts_dir
        )),
    )?;
    let values = reg_values(site);
    let refs: Vec<&RegValue> = values.iter().collect();
    let reg = crate::registry::reg_file(
        &format!(
            "sitebundle (site {}): SQL client alias {}, 64-bit and 32-bit (Wow6432Node) keys.\nImport with the 64-bit regedit /s or reg import.",
            site.name, sql.alias
        ),
        &refs,
    )?;
    bundle.add(
        "registry/sql-alias.reg",
        reg.hosts(hosts)
            .deploy("reg import registry\\sql-alias.reg (or the Group Policy Registry preference)"),
    )?;
    Ok(())
}

#[derive(Serialize)]
struct PartnerRow {
    server: String,
    target: String,
    dir: String,
    start: String,
    namespace: String,
}

/// The runbook section.
pub fn runbook(site: &Site) -> Result<Option<String>, crate::Error> {
    let Some(sql) = &site.sql else {
        return Ok(None);
    };
    #[derive(Serialize)]
    struct Ctx<'a> {
        partners: Vec<PartnerRow>,
        job_name: &'a str,
        owner: &'a str,
        interval: u32,
        alias: &'a str,
        database: &'a str,
        probe_example: bool,
        switchers: String,
        switcher_names: Vec<String>,
        task_name: &'a str,
        task_file: String,
        run_as_system: bool,
        run_as: &'a str,
        cycle_services: bool,
        switch_interval: u32,
        all_synchronized: bool,
        databases: &'a [String],
        first_alias: String,
        scripts_dir: &'a str,
        alert_names: Vec<String>,
        gpo_files: bool,
        gpo_tasks: bool,
        gpo_registry: bool,
    }
    let partners = sql
        .partners
        .iter()
        .enumerate()
        .map(|(i, p)| PartnerRow {
            server: site.server(p.server).name.clone(),
            target: p.target(),
            dir: partner_dir(site, p).replace('/', "\\"),
            start: start_time(sql, i).1,
            namespace: p.wmi_namespace(),
        })
        .collect();
    let ctx = Ctx {
        partners,
        job_name: &sql.job.name,
        owner: &sql.job.owner,
        interval: sql.job.interval_minutes,
        alias: &sql.alias,
        database: &sql.switcher.probe_database,
        probe_example: probe_safe(&sql.switcher.probe_database),
        switchers: site.server_names(&sql.switcher.servers).join(", "),
        switcher_names: site.server_names(&sql.switcher.servers),
        task_name: &sql.switcher.task_name,
        task_file: format!("tasks\\{}.xml", sql.switcher.task_name),
        run_as_system: sql.switcher.runs_as_system(),
        run_as: &sql.switcher.run_as,
        cycle_services: sql.switcher.cycle_services,
        switch_interval: sql.switcher.interval_minutes,
        all_synchronized: sql.all_synchronized,
        databases: &sql.databases,
        first_alias: sql.partners[0].alias_data(),
        scripts_dir: &site.scripts_dir,
        alert_names: ALERTS
            .iter()
            .map(|(suffix, _, _)| format!("{} - {suffix}", site.name))
            .collect(),
        gpo_files: gpo_has(site, crate::model::gpo::Preference::Files),
        gpo_tasks: gpo_has(site, crate::model::gpo::Preference::Tasks),
        gpo_registry: gpo_has(site, crate::model::gpo::Preference::Registry),
    };
    crate::render::render("docs/sql.md", &ctx).map(Some)
}

/// Whether the site's GPO carries this kind of preference item.
fn gpo_has(site: &Site, p: crate::model::gpo::Preference) -> bool {
    site.gpo.as_ref().is_some_and(|g| g.includes(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_charset() {
        assert!(probe_safe("WSS_Content_PartnerPoint"));
        assert!(!probe_safe("a'b"));
        assert!(!probe_safe("a]b"));
        assert!(!probe_safe(""));
    }
}
