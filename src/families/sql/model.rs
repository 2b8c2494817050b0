//! `[sql]`: SQL Server 2008 database mirroring for the farm's databases (docs/background.md; "SharePoint and
//! Mirrored Databases"): the mirror pair, the client alias the front ends use, the failover-all
//! Agent job, its WMI alerts and the alias switcher on the front ends.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::escape;
use crate::model::{Ctx, Names};

/// Database mirroring between two SQL Server partners and the client alias that follows the principal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSql {
    /// "mirroring" (default): database mirroring between two partners. "availability-group": an
    /// Always On availability group (SQL Server 2012 and later): the partners are its replicas,
    /// `[sql.availability_group]` names it and its listener, the alias points at the listener and
    /// no alias switcher or failover job is generated.
    #[serde(default)]
    pub mode: super::ag_model::Mode,
    /// The availability group and its listener (`mode = "availability-group"` only): one table
    /// `[sql.availability_group]`, or several `[[sql.availability_group]]` on the same replicas,
    /// the first the anchor (its databases are `databases`, its listener the alias's target) and
    /// each further one a follower with its own `databases`, kept on the anchor's primary by an
    /// Agent job.
    #[serde(default)]
    pub availability_group: Option<super::ag_model::RawGroups>,
    /// Name of the SQL Server client alias the front ends connect through (registry value under
    /// `HKLM\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo`), e.g. "SPSQL". Letters, digits, `_`,
    /// `-`, `.`; at most 64 characters.
    pub alias: String,
    /// The two mirroring partners, in order: the first is where the alias points initially, and its
    /// Agent job starts at second 0 of each interval; the second starts `job.stagger_seconds` later.
    pub partner: Vec<RawPartner>,
    /// The mirrored databases the job watches and fails over together. Leave out and set
    /// `all_synchronized = true` to treat every mirrored database of the server as one group.
    #[serde(default)]
    pub databases: Option<Vec<String>>,
    /// Watch every mirrored database on the partner instead of a list. Default false.
    #[serde(default)]
    pub all_synchronized: bool,
    /// The database the others follow: on the partner where it is the mirror, the failover job
    /// fails every database that is principal there over to the other partner; where it is
    /// principal, the job does nothing. One fixed direction, so the two partners never push
    /// databases at each other. Fail this database over (by hand or by the witness) and the others
    /// follow. Default: the switcher's probe database.
    #[serde(default)]
    pub anchor_database: Option<String>,
    /// What the failover job does with a database that is principal where the anchor is the
    /// mirror but runs in high-performance mode (safety OFF, which cannot be failed over without
    /// data loss). "report" (default): it only logs that the database cannot converge (the job
    /// output, the SQL Server error log and the Application log), and the runbook shows the
    /// controlled failover by hand; nothing about the database's performance changes behind the
    /// DBA's back. "controlled-failover": for the databases in `high_performance_databases`, the
    /// job sets safety FULL (synchronous commit: slower writes until the move), fails the database
    /// over at a later run once it is SYNCHRONIZED, and the job on the other partner sets safety OFF
    /// again; other safety-OFF databases are reported.
    #[serde(default)]
    pub high_performance: HighPerformance,
    /// The databases that run in high-performance mode (safety OFF) and that the job may move with
    /// a controlled failover (`high_performance = "controlled-failover"`). Each must be one of
    /// `databases` (any mirrored database with `all_synchronized`).
    #[serde(default)]
    pub high_performance_databases: Vec<String>,
    /// The mirroring witness, a server from `[[server]]` (e.g. "sqlwitness"), when the sessions have
    /// one: drawn in the topology, checked by the runbook's verify query, and named in the runbook's
    /// "A mirroring partner is lost". Without a witness nothing fails over by itself when the
    /// principal's server is lost. A third server, not a partner. Not with `high_performance =
    /// "controlled-failover"`, which sets safety OFF again: a database in safety OFF should have no
    /// witness.
    #[serde(default)]
    pub witness: Option<String>,
    /// The failover-all SQL Server Agent job.
    #[serde(default)]
    pub job: RawJob,
    /// The alias switcher that runs as a scheduled task on the front ends.
    pub switcher: RawSwitcher,
}

/// What the failover job does with a principal in high-performance mode (see
/// `RawSql::high_performance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HighPerformance {
    /// Log that the database cannot converge; move it by hand (the runbook says how).
    #[default]
    Report,
    /// Set safety FULL, fail over once SYNCHRONIZED, set safety OFF again on the new principal.
    ControlledFailover,
}

/// One mirroring partner.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPartner {
    /// Server name from `[[server]]`. Clients reach it by its `fqdn` when set, else by its name.
    pub server: String,
    /// Named instance (e.g. "SHAREPOINT"); leave out for the default instance (MSSQLSERVER).
    /// Letters, digits and `_`, starting with a letter, at most 16 characters.
    #[serde(default)]
    pub instance: Option<String>,
    /// TCP port (1-65535). Leave out for the default instance's 1433 or a named instance's
    /// dynamic port (resolved through SQL Browser); an explicit port is more robust.
    #[serde(default)]
    pub port: Option<u32>,
    /// Availability group replicas only: "synchronous" (default) or "asynchronous" commit.
    #[serde(default)]
    pub commit: Option<super::ag_model::Commit>,
    /// Availability group replicas only: "automatic" (default; needs synchronous commit) or
    /// "manual" failover.
    #[serde(default)]
    pub failover: Option<super::ag_model::Failover>,
}

/// The failover-all Agent job, installed on both partners.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    /// Job name (msdb sysname). Letters, digits, space, `_`, `-`, `.`, `(`, `)`; at most 128.
    /// Default "Mirroring - fail over all databases".
    #[serde(default = "default_job_name")]
    pub name: String,
    /// Login that owns the job; it must be sysadmin to see mirror-side state and to fail over.
    /// Default "sa" (if sa is renamed or disabled, give the login that replaces it).
    #[serde(default = "default_owner")]
    pub owner: String,
    /// Job category, created if missing. Default "Database Mirroring".
    #[serde(default = "default_category")]
    pub category: String,
    /// Run every this many minutes (1-720). Default 1.
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
    /// Seconds between the two partners' runs (0 to interval*60-1): the first partner starts at
    /// 00:00:00, the second at this many seconds later. This only spreads the load: runs can still
    /// overlap (a run can last longer, alerts start runs at any time), and the anchor rule is what
    /// keeps the partners from deciding against each other. Default 30.
    #[serde(default = "default_stagger")]
    pub stagger_seconds: u32,
}

impl Default for RawJob {
    fn default() -> Self {
        RawJob {
            name: default_job_name(),
            owner: default_owner(),
            category: default_category(),
            interval_minutes: default_interval(),
            stagger_seconds: default_stagger(),
        }
    }
}

pub(super) fn default_job_name() -> String {
    "Mirroring - fail over all databases".into()
}
fn default_owner() -> String {
    "sa".into()
}
pub(super) fn default_category() -> String {
    "Database Mirroring".into()
}
fn default_interval() -> u32 {
    1
}
fn default_stagger() -> u32 {
    30
}
fn default_task_name() -> String {
    "Update-SqlAlias".into()
}
fn default_run_as() -> String {
    "SYSTEM".into()
}

/// The alias switcher (`Update-SqlAlias.ps1`) and its scheduled task.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSwitcher {
    /// Servers (front ends) that get the alias, the switcher script and its task.
    pub servers: Vec<String>,
    /// Run the switcher every this many minutes (1-1440). Default 1.
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
    /// Account the task runs as. "SYSTEM" (default) reaches SQL Server as the computer account
    /// DOMAIN\HOST$ (grant that login VIEW ANY DATABASE) and needs no password; a domain account
    /// `DOMAIN\user` must be registered by an administrator who types its password
    /// (`schtasks /RU DOMAIN\user /RP *`), never through Group Policy. No password is ever stored.
    #[serde(default = "default_run_as")]
    pub run_as: String,
    /// After a switch, restart IIS (`iisreset /noforce`) and these SharePoint services so they
    /// reconnect at once: `true` for the services the original write-up cycled (SPAdmin,
    /// SPTimerV3, SPSearch, OSearch; each only if it is running), or a list of service names
    /// (as `sc query` shows them). Default `false`: connections recover on their own, and a
    /// restart recompiles every ASP.NET page.
    #[serde(default)]
    pub cycle_services: CycleServices,
    /// Database whose role decides where the alias points. Default: the first of `sql.databases`;
    /// required with `all_synchronized`.
    #[serde(default)]
    pub probe_database: Option<String>,
    /// Scheduled task name. Default "Update-SqlAlias".
    #[serde(default = "default_task_name")]
    pub task_name: String,
}

/// `cycle_services`: on/off with the write-up's services, or a list of services.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CycleServices {
    /// `true`: the write-up's services; `false`: no cycling.
    Switch(bool),
    /// The services to restart after IIS (service names, e.g. "SPTimerV3").
    List(Vec<String>),
}

impl Default for CycleServices {
    fn default() -> Self {
        CycleServices::Switch(false)
    }
}

/// The services the original write-up's `cycleServices` restarted after `iisreset` (WSS 3.0
/// administration, timer and search, and the Office SharePoint Server search).
pub const WRITE_UP_SERVICES: &[&str] = &["SPAdmin", "SPTimerV3", "SPSearch", "OSearch"];

/// The services to cycle (empty: no cycling), each checked: a plain service name that the
/// switcher script can carry as a PowerShell string.
fn resolve_cycle_services(c: &CycleServices, ctx: &mut Ctx) -> (Vec<String>, bool) {
    let list = match c {
        CycleServices::Switch(false) => return (Vec::new(), true),
        CycleServices::Switch(true) => {
            return (
                WRITE_UP_SERVICES.iter().map(|s| s.to_string()).collect(),
                true,
            );
        }
        CycleServices::List(l) => l,
    };
    let mut ok = true;
    if list.is_empty() {
        ctx.error(
            "sql.switcher.cycle_services",
            "an empty list of services to cycle",
            "use `cycle_services = false` for no cycling, `true` for the write-up's services, or list service names",
        );
        ok = false;
    }
    for (i, name) in list.iter().enumerate() {
        let path = format!("sql.switcher.cycle_services[{i}]");
        ok &= ctx.check(
            &path,
            crate::model::check_plain_name(name, 80, false, "service name"),
            "a service name as `sc query` prints it, e.g. \"SPTimerV3\"",
        ) && ctx.safe_for(
            &path,
            name,
            &[
                ("PowerShell", crate::escape::ps_str),
                ("the runbook", crate::escape::md),
            ],
        );
    }
    ctx.unique(
        "service to cycle",
        list.iter()
            .enumerate()
            .map(|(i, n)| (format!("sql.switcher.cycle_services[{i}]"), n.as_str())),
    );
    (list.clone(), ok)
}

/// A resolved partner.
#[derive(Debug, Clone)]
pub struct Partner {
    pub server: usize,
    /// Host name clients use (fqdn or name).
    pub host: String,
    pub instance: Option<String>,
    pub port: Option<u32>,
}

impl Partner {
    /// `host[\instance][,port]`: the data source for sqlcmd -S, SqlClient and the alias.
    pub fn target(&self) -> String {
        let mut s = self.host.clone();
        if let Some(i) = &self.instance {
            s.push('\\');
            s.push_str(i);
        }
        if let Some(p) = self.port {
            s.push_str(&format!(",{p}"));
        }
        s
    }
    /// The alias registry data: `DBMSSOCN,host[\instance][,port]` (TCP/IP).
    pub fn alias_data(&self) -> String {
        format!("DBMSSOCN,{}", self.target())
    }
    /// The WMI namespace of this instance's server events.
    pub fn wmi_namespace(&self) -> String {
        format!(
            r"\\.\root\Microsoft\SqlServer\ServerEvents\{}",
            self.instance.as_deref().unwrap_or("MSSQLSERVER")
        )
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub owner: String,
    pub category: String,
    pub interval_minutes: u32,
    pub stagger_seconds: u32,
}

impl Job {
    /// The job of an availability group site: never generated (`Sql::failover_job` is false).
    pub fn unused() -> Job {
        Job {
            name: default_job_name(),
            owner: default_owner(),
            category: default_category(),
            interval_minutes: default_interval(),
            stagger_seconds: default_stagger(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Switcher {
    pub servers: Vec<usize>,
    pub interval_minutes: u32,
    pub run_as: String,
    /// Services restarted after IIS following a switch; empty: no cycling.
    pub cycle_services: Vec<String>,
    pub probe_database: String,
    pub task_name: String,
}

impl Switcher {
    /// An availability group site: only the front ends (they get the alias); no switcher task.
    pub fn front_ends_only(servers: Vec<usize>, probe_database: String) -> Switcher {
        Switcher {
            servers,
            interval_minutes: default_interval(),
            run_as: default_run_as(),
            cycle_services: Vec::new(),
            probe_database,
            task_name: default_task_name(),
        }
    }
    pub fn runs_as_system(&self) -> bool {
        self.run_as.eq_ignore_ascii_case("SYSTEM")
    }
}

/// The resolved `[sql]` section.
#[derive(Debug, Clone)]
pub struct Sql {
    pub alias: String,
    /// Exactly two.
    pub partners: Vec<Partner>,
    /// Empty when `all_synchronized`.
    pub databases: Vec<String>,
    pub all_synchronized: bool,
    /// The database the others follow (see `RawSql::anchor_database`).
    pub anchor: String,
    /// Whether the failover job is generated: not for a site with fewer than two listed databases
    /// (a warning says why).
    pub failover_job: bool,
    /// Databases the job moves with a controlled failover (empty in "report" mode).
    pub controlled: Vec<String>,
    /// The witness's server, when the sessions have one.
    pub witness: Option<usize>,
    pub job: Job,
    pub switcher: Switcher,
    /// `mode = "availability-group"`: the group, its listener and the replicas' modes (None:
    /// database mirroring).
    pub ag: Option<super::ag_model::Ag>,
}

/// An alias name: letters, digits, `_`, `-`, `.`, starting with a letter, 1-64 characters.
pub fn check_alias(s: &str) -> Result<(), String> {
    crate::model::check_plain_name(s, 64, true, "alias name")
}

/// A SQL Server instance name: letters, digits, `_`, starting with a letter, 1-16 characters.
pub fn check_instance(s: &str) -> Result<(), String> {
    if s.eq_ignore_ascii_case("MSSQLSERVER") {
        return Err(
            "MSSQLSERVER is the default instance's name; leave `instance` out for it".into(),
        );
    }
    let ok = !s.is_empty()
        && s.len() <= 16
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a valid instance name: use 1-16 letters, digits and `_`, starting with a letter"
        ))
    }
}

/// Names of Agent objects (job, category): a plain charset so that they are also safe in the
/// runbook's command lines. At most 128 characters (sysname).
pub fn check_agent_name(s: &str, what: &str, backslash: bool) -> Result<(), String> {
    let ok = !s.trim().is_empty()
        && s.chars().count() <= 128
        && s.trim() == s
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | '.' | '(' | ')')
                || (backslash && c == '\\')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a usable {what}: use 1-128 letters, digits, spaces, `_`, `-`, `.`, `(`, `)`{}, without leading or trailing spaces",
            if backslash { ", `\\`" } else { "" }
        ))
    }
}

/// The task's account: SYSTEM or `DOMAIN\user`.
pub fn check_run_as(s: &str) -> Result<(), String> {
    if s.eq_ignore_ascii_case("SYSTEM") {
        return Ok(());
    }
    let Some((dom, user)) = s.split_once('\\') else {
        return Err(format!(
            "`{s}` must be \"SYSTEM\" or a domain account `DOMAIN\\user`"
        ));
    };
    let part = |p: &str, max: usize| {
        !p.is_empty()
            && p.len() <= max
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if part(dom, 15) && part(user, 20) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a plain DOMAIN\\user account (letters, digits, `_`, `-`, `.`; domain at most 15, user at most 20 characters)"
        ))
    }
}

const SYSTEM_DBS: &[&str] = &["master", "model", "msdb", "tempdb"];

/// A database name: anything SQL Server takes that can be quoted in T-SQL, PowerShell and the
/// runbook (no `$(` for sqlcmd, no line breaks, no backtick for the runbook), not a system database.
pub(super) fn check_database(ctx: &mut Ctx, path: &str, name: &str) -> bool {
    if SYSTEM_DBS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        ctx.error(
            path,
            format!("`{name}` is a system database and cannot be mirrored"),
            "list the SharePoint databases only",
        );
        return false;
    }
    if name.trim() != name {
        ctx.error(
            path,
            format!("database name `{name}` has leading or trailing spaces"),
            "SQL Server trims trailing spaces from names; write the name as it is",
        );
        return false;
    }
    ctx.safe_for(
        path,
        name,
        &[
            ("a T-SQL identifier", escape::tsql_ident),
            ("a T-SQL string", escape::tsql_str),
            ("the runbook", escape::md_code),
        ],
    )
}

pub fn resolve(
    raw: &RawSql,
    ctx: &mut Ctx,
    names: &Names,
    site: &[crate::model::Server],
) -> Option<Sql> {
    let mut ok = ctx.check(
        "sql.alias",
        check_alias(&raw.alias),
        "e.g. `alias = \"SPSQL\"`",
    );
    let (partners, partners_ok) = resolve_partners(raw, ctx, names, site);
    ok &= partners_ok;
    let (databases, databases_ok) = resolve_databases(raw, ctx);
    ok &= databases_ok;
    if raw.mode == super::ag_model::Mode::AvailabilityGroup {
        let (front_ends, front_ends_ok) = resolve_switcher_servers(&raw.switcher, ctx, names);
        let shared = super::ag_model::Shared {
            partners,
            databases,
            front_ends,
        };
        let sql = super::ag_model::resolve(raw, ctx, names, shared);
        return sql.filter(|_| ok && front_ends_ok);
    }
    super::ag_model::reject_ag_keys(raw, ctx);
    let j = &raw.job;
    ok &= check_job(j, ctx);
    let s = &raw.switcher;
    let (servers, servers_ok) = resolve_switcher_servers(s, ctx, names);
    ok &= servers_ok;
    ok &= check_switcher_settings(s, ctx);
    let (cycle_services, cycle_ok) = resolve_cycle_services(&s.cycle_services, ctx);
    ok &= cycle_ok;
    warn_powershell_2(s, ctx, names, site);
    let (probe, probe_ok) = resolve_probe(raw, ctx, &databases);
    ok &= probe_ok;
    let (anchor, anchor_ok) = resolve_anchor(raw, ctx, &databases, &probe);
    ok &= anchor_ok;
    let (controlled, controlled_ok) = resolve_high_performance(raw, ctx, &databases, &anchor);
    ok &= controlled_ok;
    let (witness, witness_ok) = resolve_witness(raw, ctx, names, &partners);
    ok &= witness_ok;
    let failover_job = raw.all_synchronized || databases.len() >= 2;
    if !failover_job && databases_ok {
        ctx.warn(crate::diag::Code::SqlOneDatabase,
            "sql.databases",
            "with one mirrored database there is nothing to fail over together: no failover job is generated",
            "list every mirrored database of the farm (content, configuration, service databases), or use `all_synchronized = true`; the alias switcher is generated either way",
        );
    }

    ok.then(|| Sql {
        alias: raw.alias.clone(),
        partners,
        databases,
        all_synchronized: raw.all_synchronized,
        anchor,
        failover_job,
        controlled,
        witness,
        job: Job {
            name: j.name.clone(),
            owner: j.owner.clone(),
            category: j.category.clone(),
            interval_minutes: j.interval_minutes,
            stagger_seconds: j.stagger_seconds,
        },
        switcher: Switcher {
            servers,
            interval_minutes: s.interval_minutes,
            run_as: s.run_as.clone(),
            cycle_services,
            probe_database: probe,
            task_name: s.task_name.clone(),
        },
        ag: None,
    })
}

/// The witness: a known server that is not a partner, and not with controlled failover, which
/// sets safety OFF ("whenever you set SAFETY to OFF, we strongly recommend that you ensure that
/// WITNESS is set to OFF", ALTER DATABASE Database Mirroring (Transact-SQL)). Both errors are
/// located at `sql.witness`; `validate` and `build` resolve the same way.
fn resolve_witness(
    raw: &RawSql,
    ctx: &mut Ctx,
    names: &Names,
    partners: &[Partner],
) -> (Option<usize>, bool) {
    let Some(w) = &raw.witness else {
        return (None, true);
    };
    let Some(idx) = ctx.lookup_server("sql.witness", w, names) else {
        return (None, false);
    };
    let mut ok = true;
    if partners.iter().any(|p| p.server == idx) {
        ctx.error(
            "sql.witness",
            format!("`{w}` is one of the mirroring partners"),
            "the witness is a third server, so that it can form a quorum with either partner when the other is lost",
        );
        ok = false;
    }
    if raw.high_performance == HighPerformance::ControlledFailover {
        ctx.error(
            "sql.witness",
            "a witness with `high_performance = \"controlled-failover\"`, which sets safety OFF again on the high-performance databases; a database in safety OFF should have no witness (ALTER DATABASE Database Mirroring: whenever you set SAFETY to OFF, ensure that WITNESS is set to OFF)",
            "remove `witness`, or use `high_performance = \"report\"` (the job then only reports the safety OFF databases)",
        );
        ok = false;
    }
    (Some(idx), ok)
}

/// The two mirroring partners: known servers, valid instances and ports, not the same instance.
fn resolve_partners(
    raw: &RawSql,
    ctx: &mut Ctx,
    names: &Names,
    site: &[crate::model::Server],
) -> (Vec<Partner>, bool) {
    let mut ok = true;
    let mut partners = Vec::new();
    if raw.mode == super::ag_model::Mode::Mirroring && raw.partner.len() != 2 {
        ctx.error(
            "sql.partner",
            format!(
                "database mirroring has exactly two partners; {} given",
                raw.partner.len()
            ),
            "add two [[sql.partner]] tables (a witness needs no entry here)",
        );
        ok = false;
    }
    for (i, p) in raw.partner.iter().enumerate() {
        let path = format!("sql.partner[{i}]");
        let server = ctx.lookup_server(&format!("{path}.server"), &p.server, names);
        if let Some(inst) = &p.instance {
            ok &= ctx.check(
                &format!("{path}.instance"),
                check_instance(inst),
                "e.g. `instance = \"SHAREPOINT\"`",
            );
        }
        if let Some(port) = p.port {
            if !(1..=65535).contains(&port) {
                ctx.error(
                    &format!("{path}.port"),
                    format!("port {port} is outside 1-65535"),
                    "e.g. `port = 1433`",
                );
                ok = false;
            }
        }
        match server {
            Some(idx) => partners.push(Partner {
                server: idx,
                host: site[idx].dns_name().to_string(),
                instance: p.instance.clone(),
                port: p.port,
            }),
            None => ok = false,
        }
    }
    let mirroring = raw.mode == super::ag_model::Mode::Mirroring;
    if mirroring
        && raw.partner.len() == 2
        && partners.len() == 2
        && partners[0].server == partners[1].server
    {
        let same_instance = partners[0].instance.as_deref().map(str::to_ascii_lowercase)
            == partners[1].instance.as_deref().map(str::to_ascii_lowercase);
        if same_instance {
            ctx.error(
                "sql.partner[1].server",
                format!(
                    "both partners are `{}`; a database cannot mirror to itself",
                    raw.partner[1].server
                ),
                "the two partners must be different servers (or different instances)",
            );
            ok = false;
        }
    }
    (partners, ok)
}

/// The databases kept together (`databases`, or none with `all_synchronized`).
fn resolve_databases(raw: &RawSql, ctx: &mut Ctx) -> (Vec<String>, bool) {
    let mut ok = true;
    let mut databases = Vec::new();
    match (&raw.databases, raw.all_synchronized) {
        (Some(_), true) => {
            ctx.error(
                "sql.all_synchronized",
                "`databases` and `all_synchronized = true` exclude each other",
                "keep the list, or remove it to watch every mirrored database",
            );
            ok = false;
        }
        (None, false) => {
            ctx.error(
                "sql.alias",
                "[sql] needs `databases = [...]` or `all_synchronized = true`",
                "list the mirrored databases that must stay together on one partner",
            );
            ok = false;
        }
        (Some(list), false) if list.is_empty() => {
            ctx.error(
                "sql.databases",
                "the database list is empty",
                "list the mirrored databases, or use `all_synchronized = true`",
            );
            ok = false;
        }
        _ => {}
    }
    if let Some(list) = &raw.databases {
        for (i, d) in list.iter().enumerate() {
            ok &= check_database(ctx, &format!("sql.databases[{i}]"), d);
            databases.push(d.clone());
        }
        ctx.unique(
            "database",
            list.iter()
                .enumerate()
                .map(|(i, d)| (format!("sql.databases[{i}]"), d.as_str())),
        );
    }
    (databases, ok)
}

/// The failover job's names, interval and stagger.
pub(super) fn check_job(j: &RawJob, ctx: &mut Ctx) -> bool {
    let mut ok = true;
    ok &= ctx.check(
        "sql.job.name",
        check_agent_name(&j.name, "job name", false),
        "e.g. `name = \"Mirroring - fail over all databases\"`",
    );
    ok &= ctx.check(
        "sql.job.owner",
        check_agent_name(&j.owner, "login name", true),
        "e.g. `owner = \"sa\"`",
    );
    ok &= ctx.check(
        "sql.job.category",
        check_agent_name(&j.category, "category name", false),
        "e.g. `category = \"Database Mirroring\"`",
    );
    if !(1..=720).contains(&j.interval_minutes) {
        ctx.error(
            "sql.job.interval_minutes",
            format!("interval_minutes = {} is outside 1-720", j.interval_minutes),
            "the job should run every minute or every few minutes",
        );
        ok = false;
    } else if j.stagger_seconds >= j.interval_minutes * 60 {
        ctx.error(
            "sql.job.stagger_seconds",
            format!(
                "stagger_seconds = {} is not inside the {}-second interval",
                j.stagger_seconds,
                j.interval_minutes * 60
            ),
            "the second partner must start within one interval of the first, e.g. half of it",
        );
        ok = false;
    }
    ok
}

/// The front ends that run the alias switcher, each once, in name order.
fn resolve_switcher_servers(s: &RawSwitcher, ctx: &mut Ctx, names: &Names) -> (Vec<usize>, bool) {
    let mut ok = true;
    if s.servers.is_empty() {
        ctx.error(
            "sql.switcher.servers",
            "the alias switcher needs at least one server",
            "list the front ends, e.g. `servers = [\"sharepoint2\", \"sharepoint3\"]`",
        );
        ok = false;
    }
    let (servers, good) = ctx.server_list("sql.switcher.servers", &s.servers, names);
    (servers, ok && good)
}

/// A switcher server whose release does not ship Windows PowerShell 2.0: the task runs
/// `powershell.exe` every interval and fails until it is installed. 2008 R2 includes 2.0; 2003
/// and 2008 get it from the Windows Management Framework Core package KB968930 (Microsoft KB
/// 968929, "Windows Management Framework (Windows PowerShell 2.0, WinRM 2.0, and BITS 4.0)" for
/// Windows XP, Server 2003, Vista and Server 2008); 2008's own optional feature is 1.0.
fn warn_powershell_2(s: &RawSwitcher, ctx: &mut Ctx, names: &Names, site: &[crate::model::Server]) {
    for (i, name) in s.servers.iter().enumerate() {
        let Some(server) = names.find(name).map(|idx| &site[idx]) else {
            continue;
        };
        if let Some(package) = powershell_2_package(server.os) {
            ctx.warn_about(
                crate::diag::Code::SqlSwitcherNeedsPowershell2,
                &format!("sql.switcher.servers[{i}]"),
                &server.name,
                format!(
                    "`{name}` runs {}, which has no Windows PowerShell 2.0 by default: the alias switcher's task fails there until it is installed",
                    server.os.label()
                ),
                format!("install {package} on `{name}` before deploying (the runbook lists it under prerequisites), or run the switcher only on 2008 R2 front ends"),
            );
        }
    }
}

/// What installs Windows PowerShell 2.0 on a release that lacks it (None: built in).
pub fn powershell_2_package(os: crate::model::Os) -> Option<&'static str> {
    use crate::model::Os;
    match os {
        Os::W2003 | Os::W2003R2 => Some(
            "the Windows Management Framework, KB968929 (or its Core package KB968930: Windows PowerShell 2.0; needs Service Pack 2 and .NET Framework 2.0 SP1)",
        ),
        Os::W2008 => Some(
            "the Windows Management Framework, KB968929 (or its Core package KB968930: Windows PowerShell 2.0; needs Service Pack 2; the built-in Windows PowerShell feature is 1.0)",
        ),
        // 2008 R2 has 2.0 built in; 2012 R2 has 4.0, 2016 and later 5.1.
        _ => None,
    }
}

/// The alias switcher's interval, account and task name.
fn check_switcher_settings(s: &RawSwitcher, ctx: &mut Ctx) -> bool {
    let mut ok = true;
    if !(1..=1440).contains(&s.interval_minutes) {
        ctx.error(
            "sql.switcher.interval_minutes",
            format!(
                "interval_minutes = {} is outside 1-1440",
                s.interval_minutes
            ),
            "e.g. `interval_minutes = 1`",
        );
        ok = false;
    }
    ok &= ctx.check(
        "sql.switcher.run_as",
        check_run_as(&s.run_as),
        "\"SYSTEM\" (the default) needs no password; see the runbook for a domain account",
    );
    ok &= ctx.check(
        "sql.switcher.task_name",
        crate::model::check_task_name(&s.task_name),
        "e.g. `task_name = \"Update-SqlAlias\"`",
    );
    ok
}

/// The database the others follow: `anchor_database`, else the probe database. It must be one of
/// the listed databases (any mirrored database with `all_synchronized`).
fn resolve_anchor(
    raw: &RawSql,
    ctx: &mut Ctx,
    databases: &[String],
    probe: &str,
) -> (String, bool) {
    let Some(a) = &raw.anchor_database else {
        return (probe.to_string(), true);
    };
    let path = "sql.anchor_database";
    if let Some(listed) = databases.iter().find(|d| d.eq_ignore_ascii_case(a)) {
        // The spelling of the list: one name, one spelling, in every generated file.
        return (listed.clone(), true);
    }
    if !databases.is_empty() {
        let close = crate::diag::suggest_all(a, databases.iter().map(String::as_str));
        let help = match crate::diag::did_you_mean(&close) {
            Some(s) => format!("{s} The anchor is one of sql.databases"),
            None => format!("use one of sql.databases: {}", databases.join(", ")),
        };
        ctx.error(path, format!("`{a}` is not one of sql.databases"), help);
        return (a.clone(), false);
    }
    (a.clone(), check_database(ctx, path, a))
}

/// The databases moved with a controlled failover: `high_performance_databases`, which only
/// "controlled-failover" mode uses; each one of the listed databases, never the anchor (the
/// direction would wait on its own safety change).
fn resolve_high_performance(
    raw: &RawSql,
    ctx: &mut Ctx,
    databases: &[String],
    anchor: &str,
) -> (Vec<String>, bool) {
    let list = &raw.high_performance_databases;
    let controlled = raw.high_performance == HighPerformance::ControlledFailover;
    if !controlled {
        if !list.is_empty() {
            ctx.warn(crate::diag::Code::SqlUnusedHighPerformanceList,
                "sql.high_performance_databases",
                "these databases are only used with `high_performance = \"controlled-failover\"`",
                "set `high_performance = \"controlled-failover\"` to let the job move them, or remove the list",
            );
        }
        return (Vec::new(), true);
    }
    let mut ok = true;
    let mut out = Vec::new();
    for (i, name) in list.iter().enumerate() {
        let path = format!("sql.high_performance_databases[{i}]");
        if name.eq_ignore_ascii_case(anchor) {
            ctx.error(
                &path,
                format!("`{name}` is the anchor database, which must run in safety FULL"),
                "the others follow the anchor's failovers: keep the anchor in high-safety mode, or choose another anchor with `sql.anchor_database`",
            );
            ok = false;
            continue;
        }
        let listed = databases.iter().find(|d| d.eq_ignore_ascii_case(name));
        match listed {
            Some(d) => out.push(d.clone()),
            None if databases.is_empty() => {
                ok &= check_database(ctx, &path, name);
                out.push(name.clone());
            }
            None => {
                let close = crate::diag::suggest_all(name, databases.iter().map(String::as_str));
                let help = match crate::diag::did_you_mean(&close) {
                    Some(d) => format!("{d} List databases of sql.databases"),
                    None => format!("use databases of sql.databases: {}", databases.join(", ")),
                };
                ctx.error(&path, format!("`{name}` is not one of sql.databases"), help);
                ok = false;
            }
        }
    }
    if list.is_empty() {
        ctx.error(
            "sql.high_performance",
            "controlled failover needs the list of high-performance databases",
            "add `high_performance_databases = [\"...\"]`: the job sets safety OFF again only on those",
        );
        ok = false;
    }
    ctx.unique(
        "high-performance database",
        list.iter()
            .enumerate()
            .map(|(i, n)| (format!("sql.high_performance_databases[{i}]"), n.as_str())),
    );
    (out, ok)
}

/// The database the alias switcher probes: `probe_database`, else the first listed database.
fn resolve_probe(raw: &RawSql, ctx: &mut Ctx, databases: &[String]) -> (String, bool) {
    let s = &raw.switcher;
    let mut ok = true;
    let probe = match (&s.probe_database, databases.first()) {
        (Some(p), _) => {
            let in_list = databases.is_empty() || databases.iter().any(|d| d == p);
            if !in_list {
                ctx.error(
                    "sql.switcher.probe_database",
                    format!("`{p}` is not one of sql.databases"),
                    "probe one of the databases the failover job keeps together",
                );
                ok = false;
            } else if raw.all_synchronized {
                ok &= check_database(ctx, "sql.switcher.probe_database", p);
            }
            if !p.is_ascii() {
                ctx.error(
                    "sql.switcher.probe_database",
                    format!("`{p}` has non-ASCII characters"),
                    "the switcher script is ASCII (Windows PowerShell reads a file without BOM as ANSI); probe a database with an ASCII name",
                );
                ok = false;
            }
            p.clone()
        }
        (None, Some(first)) => {
            if !first.is_ascii() {
                ctx.error(
                    "sql.databases[0]",
                    format!(
                        "`{first}`, the switcher's default probe database, has non-ASCII characters"
                    ),
                    "set `sql.switcher.probe_database` to a database with an ASCII name",
                );
                ok = false;
            }
            first.clone()
        }
        (None, None) => {
            if raw.all_synchronized {
                ctx.error(
                    "sql.all_synchronized",
                    "with `all_synchronized = true` the switcher needs `probe_database`",
                    "set `sql.switcher.probe_database` to a mirrored database, e.g. \"SharePoint_Config\"",
                );
            }
            ok = false;
            String::new()
        }
    };
    (probe, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_alias("SPSQL").is_ok());
        assert!(check_alias("sp sql").is_err());
        assert!(check_alias("a,b").is_err());
        assert!(check_instance("SHAREPOINT").is_ok());
        assert!(check_instance("MSSQLSERVER").is_err());
        assert!(check_instance("a\\b").is_err());
        assert!(check_agent_name("Mirroring - fail over (all)", "job name", false).is_ok());
        assert!(check_agent_name("x'; DROP", "job name", false).is_err());
        assert!(check_agent_name("$(x)", "job name", false).is_err());
        assert!(check_agent_name("CAMPUS\\sqlagent", "login", true).is_ok());
        assert!(check_run_as("SYSTEM").is_ok());
        assert!(check_run_as("CAMPUS\\svc-alias").is_ok());
        assert!(check_run_as("svc").is_err());
        assert!(check_run_as("CAMPUS\\a b").is_err());
    }

    #[test]
    fn partner_strings() {
        let p = Partner {
            server: 0,
            host: "sqlmirror1".into(),
            instance: Some("SP".into()),
            port: Some(1433),
        };
        assert_eq!(p.alias_data(), "DBMSSOCN,sqlmirror1\\SP,1433");
        assert!(p.wmi_namespace().ends_with("ServerEvents\\SP"));
        let d = Partner {
            instance: None,
            port: None,
            ..p
        };
        assert_eq!(d.target(), "sqlmirror1");
        assert!(d.wmi_namespace().ends_with("ServerEvents\\MSSQLSERVER"));
    }
}
