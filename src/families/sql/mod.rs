//! SQL Server database mirroring: per partner the failover-all Agent job and the WMI mirroring
//! alerts, the mirror-state probe, the alias switcher for the front ends with its scheduled task,
//! and the initial client alias (a `.reg` file; the GPO writes the same values).

pub mod ag;
pub mod ag_audit;
pub mod ag_migrate;
pub mod ag_model;
pub mod audit;
pub mod model;
pub mod scripts;

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::escape::win_arg;
use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::model::server::Arch;
use crate::plan::{
    Account, Column, Contribution, Duration, LineSlot, Part, Principal, RegData, RegFile, RegValue,
    RunbookSlot, Section, ServerLine, ServerPrerequisite, ServerRole, ServerVerify, TaskSpec,
    TopoEdge, TopoNode, Topology, Trigger,
};
use model::{Partner, Sql};
pub use scripts::{ALERTS, partner_dir, probe_safe, start_time, tsql_file};

pub const SWITCHER: &str = "Update-SqlAlias.ps1";
pub const CONNECT_TO: &str = r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo";
pub const CONNECT_TO_WOW: &str = r"SOFTWARE\Wow6432Node\Microsoft\MSSQLServer\Client\ConnectTo";
const REG_FILE: &str = "sql-alias";

const ALIAS_RANK: u32 = 30;
const PARTNER_RANK: u32 = 40;

/// Adds everything the `[sql]` section deploys.
///
/// `sharepoint_section`: the general "SharePoint and the SQL alias" section, for a site without
/// `[sharepoint]` (whose own section gives the exact steps instead).
pub fn contribute(
    site: &Farm,
    sql: Option<&Sql>,
    sharepoint_section: bool,
) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if let Some(sql) = sql {
        add_all(site, sql, sharepoint_section, &mut c)?;
    }
    Ok(c)
}

fn add_all(
    site: &Farm,
    sql: &Sql,
    sharepoint_section: bool,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    if let Some(ag) = &sql.ag {
        // An availability group: no failover job, no switcher, no mirroring runbook sections; the
        // drift audit of the replicas is not written yet (no expectations, no collector).
        return ag::add_all(site, sql, ag, plan);
    }
    add_partner_scripts(site, sql, plan)?;
    add_front_end_files(site, sql, plan)?;
    plan.tasks.push(switcher_task(site, sql)?);
    plan.registry.extend(alias_reg_files(site, sql));
    add_runbook(site, sql, plan)?;
    add_partner_lost_section(site, sql, plan)?;
    if sharepoint_section {
        add_sharepoint_section(site, sql, plan)?;
    }
    add_topology(sql, &mut plan.topology);
    add_server_facts(site, sql, plan)?;
    audit::contribute(site, sql, plan)
}

/// The partner whose name the alias takes (way 1 of "SharePoint and the SQL alias"): a default
/// instance named like the alias (its server name or DNS name, without case). A farm configured
/// with `host\instance` or `host,port` asks for another name, so only a default instance counts.
pub fn alias_named_like(site: &Farm, sql: &Sql) -> Option<String> {
    sql.partners
        .iter()
        .filter(|p| p.instance.is_none() && p.port.is_none_or(|port| port == 1433))
        .find(|p| {
            let s = site.server(p.server);
            [s.name.as_str(), p.host.as_str()]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&sql.alias))
        })
        .map(|p| site.server(p.server).name.clone())
}

/// What `validate` says about SharePoint and the alias: which of the two ways the site takes.
pub fn sharepoint_line(site: &Farm, sql: &Sql) -> String {
    if let Some(ag) = &sql.ag {
        return format!(
            "SharePoint: the alias {} points at the availability group listener ({}): SharePoint must open its databases as {} (runbook: SQL Server availability group, step 5)",
            sql.alias,
            ag.alias_data(),
            sql.alias
        );
    }
    match alias_named_like(site, sql) {
        Some(p) => format!(
            "SharePoint: the alias {} is named like the partner {p}: a farm configured with {p} follows failovers unchanged (way 1; runbook: SharePoint and the SQL alias)",
            sql.alias
        ),
        None => format!(
            "SharePoint: the alias {} is a name of its own: SharePoint must open its databases as {} (way 2: a farm configured with a partner's name needs renameserver / Rename-SPServer; runbook: SharePoint and the SQL alias)",
            sql.alias, sql.alias
        ),
    }
}

/// Each partner's databases with role, state, safety and witness (sys.database_mirroring: the
/// witness columns are mirroring_witness_name and mirroring_witness_state_desc).
pub const STATE_QUERY: &str = "SELECT d.name, m.mirroring_role_desc, m.mirroring_state_desc, m.mirroring_safety_level_desc, m.mirroring_witness_name, m.mirroring_witness_state_desc FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE m.mirroring_guid IS NOT NULL ORDER BY d.name";

#[derive(Serialize)]
struct PartnerLostRow {
    server: String,
    target: String,
    /// sqlcmd -Q texts: FORCE_SERVICE_ALLOW_DATA_LOSS, anchor first (T-SQL quoted by escape).
    force: Vec<String>,
    resume: Vec<String>,
    /// With more databases than [`LISTED_UP_TO`]: the commands that run the partner's scripts
    /// instead (`sqlcmd … -i sql\<partner>\force-service.sql`, `…\resume-mirroring.sql`).
    force_script: Option<String>,
    resume_script: Option<String>,
}

/// Databases besides the anchor that "A mirroring partner is lost" lists as one command each;
/// more go into a script per partner (a 2,000-database site would paste 8,000 lines).
const LISTED_UP_TO: usize = 16;

#[derive(Serialize)]
struct PartnerStatementsView {
    site: String,
    partner: String,
    force: bool,
    /// The site's mirrored databases, the anchor first.
    databases: Vec<String>,
}

/// Per partner, with more databases than [`LISTED_UP_TO`] (and no `all_synchronized`):
/// `force-service.sql` and `resume-mirroring.sql`, run by hand there; returns their commands.
fn add_partner_lost_scripts(
    site: &Farm,
    sql: &Sql,
    p: &Partner,
    plan: &mut Contribution,
) -> Result<Option<(String, String)>, crate::Error> {
    let others = sql.databases.iter().filter(|d| **d != sql.anchor).count();
    if sql.all_synchronized || others <= LISTED_UP_TO {
        return Ok(None);
    }
    let databases: Vec<String> = std::iter::once(sql.anchor.clone())
        .chain(sql.databases.iter().filter(|d| **d != sql.anchor).cloned())
        .collect();
    let dir = partner_dir(site, p);
    let mut commands = Vec::new();
    for (name, force, when) in [
        (
            "force-service.sql",
            true,
            "run by hand only when the other partner is lost",
        ),
        (
            "resume-mirroring.sql",
            false,
            "run by hand when the lost partner is back",
        ),
    ] {
        let view = PartnerStatementsView {
            site: site.name.clone(),
            partner: site.server(p.server).name.clone(),
            force,
            databases: databases.clone(),
        };
        let text = crate::render::render("sql/partner-statements.sql", &view)?;
        let path = format!("{dir}/{name}");
        // In master: the login's default database may be one of the mirrored ones.
        let command = format!(
            "sqlcmd -S {} -E -b -d master -f 65001 -i {}",
            p.target(),
            path.replace('/', "\\")
        );
        let deploy = Deploy::Run {
            when: when.into(),
            commands: vec![crate::bundle::RunCommand::any(command.clone())],
        };
        plan.add_file(
            path,
            tsql_file(&text)
                .hosts(vec![site.server(p.server).name.clone()])
                .deploy(deploy),
        )?;
        commands.push(command);
    }
    Ok(Some((commands.remove(0), commands.remove(0))))
}

#[derive(Serialize)]
struct PartnerLostView {
    witness: Option<String>,
    failover_job: bool,
    all_synchronized: bool,
    state_query: &'static str,
    partners: Vec<PartnerLostRow>,
}

/// `ALTER DATABASE … SET PARTNER <what>;` for the anchor, then for each other listed database; with
/// `all_synchronized`, a query that prints the statement for every other database that is the
/// mirror (for forced service) or principal (for resume) there.
fn partner_statements(sql: &Sql, what: &str, role: u8) -> Result<Vec<String>, crate::Error> {
    let ident = |d: &str| {
        crate::escape::tsql_ident(d)
            .map_err(|e| crate::Error::internal(format!("database name {d}: {e}")))
    };
    let mut out = vec![format!(
        "ALTER DATABASE {} SET PARTNER {what};",
        ident(&sql.anchor)?
    )];
    if sql.all_synchronized {
        let anchor = crate::escape::tsql_str(&sql.anchor)
            .map_err(|e| crate::Error::internal(format!("the anchor: {e}")))?;
        out.push(format!(
            "SELECT N'ALTER DATABASE ' + QUOTENAME(d.name) + N' SET PARTNER {what};' FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE m.mirroring_role = {role} AND d.name <> {anchor} ORDER BY d.name"
        ));
    } else {
        for d in sql.databases.iter().filter(|d| **d != sql.anchor) {
            out.push(format!("ALTER DATABASE {} SET PARTNER {what};", ident(d)?));
        }
    }
    Ok(out)
}

/// "A mirroring partner is lost": how to tell, forced service on the survivor (anchor first), its
/// cost, resume and verify, and what the failover job does meanwhile (ALTER DATABASE Database
/// Mirroring (Transact-SQL): FORCE_SERVICE_ALLOW_DATA_LOSS, RESUME, WITNESS; Force Service in a
/// Database Mirroring Session (Transact-SQL)).
fn add_partner_lost_section(
    site: &Farm,
    sql: &Sql,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let force = partner_statements(sql, "FORCE_SERVICE_ALLOW_DATA_LOSS", 2)?;
    let resume = partner_statements(sql, "RESUME", 1)?;
    let mut view = PartnerLostView {
        witness: sql.witness.map(|w| site.server(w).name.clone()),
        failover_job: sql.failover_job,
        all_synchronized: sql.all_synchronized,
        state_query: STATE_QUERY,
        partners: Vec::new(),
    };
    for p in &sql.partners {
        let scripts = add_partner_lost_scripts(site, sql, p, plan)?;
        view.partners.push(PartnerLostRow {
            server: site.server(p.server).name.clone(),
            target: p.target(),
            force: force.clone(),
            resume: resume.clone(),
            force_script: scripts.as_ref().map(|s| s.0.clone()),
            resume_script: scripts.map(|s| s.1),
        });
    }
    plan.runbook.sections.push(Section {
        id: "sql-partner-lost".into(),
        slot: RunbookSlot::SqlPartnerLost,
        text: crate::render::render("sql/partner-lost.md", &view)?,
    });
    Ok(())
}

#[derive(Serialize)]
struct SharePointView {
    alias: String,
    front_ends: String,
    first_partner: String,
    named_like: Option<String>,
    /// The alias's `.reg` files (one per architecture when the front ends mix them) and the
    /// servers that import each.
    reg_files: Vec<RegImport>,
}

#[derive(Serialize)]
struct RegImport {
    file: String,
    hosts: String,
}

/// "SharePoint and the SQL alias": the two ways, and which one the site takes.
fn add_sharepoint_section(
    site: &Farm,
    sql: &Sql,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let view = SharePointView {
        alias: sql.alias.clone(),
        front_ends: site.server_list(&sql.switcher.servers),
        first_partner: site.server(sql.partners[0].server).name.clone(),
        named_like: alias_named_like(site, sql),
        reg_files: alias_reg_files(site, sql)
            .into_iter()
            .map(|f| RegImport {
                file: format!("registry\\{}.reg", f.name),
                hosts: site.server_names(&f.hosts).join(", "),
            })
            .collect(),
    };
    plan.runbook.sections.push(Section {
        id: "sql-sharepoint".into(),
        slot: RunbookSlot::SqlSharePoint,
        text: crate::render::render("sql/sharepoint.md", &view)?,
    });
    Ok(())
}

/// Per server: the partners' and front ends' roles, prerequisites and verify commands.
fn add_server_facts(site: &Farm, sql: &Sql, plan: &mut Contribution) -> Result<(), crate::Error> {
    for p in &sql.partners {
        add_partner_facts(sql, p, plan)?;
    }
    let front_ends = &sql.switcher.servers;
    for &fe in front_ends {
        plan.roles.push(ServerRole {
            server: fe,
            slot: RunbookSlot::SqlJob,
            feature: "sql",
            text: format!(
                "SQL client: alias {} (initially {}); task {} points it at the mirroring principal every {} minute(s)",
                sql.alias,
                sql.partners[0].alias_data(),
                sql.switcher.task_name,
                sql.switcher.interval_minutes
            ),
        });
    }
    // Update-SqlAlias.ps1 needs Windows PowerShell 2.0 ([CmdletBinding()], -WhatIf). 2008 R2 has
    // it built in; 2003 and 2008 get it from the Windows Management Framework (Microsoft KB968929,
    // "Windows Management Framework (Windows PowerShell 2.0, WinRM 2.0, and BITS 4.0)" for
    // Windows XP, Server 2003, Vista and Server 2008).
    // One line per release, naming it (issue 27: the 2003 line spoke of Server 2008).
    use crate::model::Os;
    for (os, why) in [
        (
            Os::W2003,
            "Server 2003 has no PowerShell 2.0 of its own; KB968929 is for Service Pack 2",
        ),
        (
            Os::W2003R2,
            "Server 2003 R2 has no PowerShell 2.0 of its own; KB968929 is for Service Pack 2",
        ),
        (Os::W2008, "Server 2008 ships only PowerShell 1.0"),
    ] {
        let hosts: Vec<usize> = front_ends
            .iter()
            .copied()
            .filter(|&i| site.server(i).os == os)
            .collect();
        if !hosts.is_empty() {
            plan.server_prerequisites.push(ServerPrerequisite {
                hosts,
                feature: "sql",
                text: format!(
                    "Windows PowerShell 2.0 for {SWITCHER} on {}: the Windows Management Framework (KB968929; {why}); check: powershell -Command \"$PSVersionTable.PSVersion\" prints 2 or later",
                    os.label()
                ),
            });
        }
    }
    plan.server_prerequisites.push(ServerPrerequisite {
        hosts: front_ends.clone(),
        feature: "sql",
        text: format!(
            "a login for this server's computer account (or the switcher's account) on both partners: see the SQL Server section, step 3; SharePoint must connect through the alias {}: see \"SharePoint and the SQL alias\"",
            sql.alias
        ),
    });
    let script = win_arg(&site.script_path(SWITCHER))
        .map_err(|e| crate::Error::internal(format!("the switcher's path: {e}")))?;
    plan.server_verifies.push(ServerVerify {
        hosts: front_ends.clone(),
        feature: "sql",
        command: format!(
            "powershell.exe -NoProfile -ExecutionPolicy Bypass -File {script} -WhatIf -Verbose"
        ),
        expect: "each partner's role and what it would do; it changes nothing (exit 0 when the alias already points at the principal)".into(),
        warning: None,
    });
    Ok(())
}

fn add_partner_facts(
    sql: &Sql,
    p: &model::Partner,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let job = crate::escape::tsql_str(&sql.job.name)
        .map_err(|e| crate::Error::internal(format!("the job name: {e}")))?;
    let target = p.target();
    plan.roles.push(ServerRole {
        server: p.server,
        slot: RunbookSlot::SqlJob,
        feature: "sql",
        text: if sql.failover_job {
            format!(
                "SQL Server mirroring partner {target}: Agent job {} every {} minute(s) and the mirroring alerts",
                sql.job.name, sql.job.interval_minutes
            )
        } else {
            format!("SQL Server mirroring partner {target}")
        },
    });
    plan.server_prerequisites.push(ServerPrerequisite {
        hosts: vec![p.server],
        feature: "sql",
        text: "sysadmin on this instance, SQL Server Agent running, Service Broker enabled in msdb (checked below)".into(),
    });
    plan.server_verifies.push(ServerVerify {
        hosts: vec![p.server],
        feature: "sql",
        command: format!(
            "sqlcmd -S {target} -E -b -d master -Q \"SELECT is_broker_enabled FROM sys.databases WHERE name = N'msdb'\""
        ),
        expect: "1".into(),
        warning: None,
    });
    if sql.failover_job {
        plan.server_verifies.push(ServerVerify {
            hosts: vec![p.server],
            feature: "sql",
            command: format!(
                "sqlcmd -S {target} -E -b -d msdb -Q \"SELECT j.name, j.enabled, js.next_run_date, js.next_run_time FROM msdb.dbo.sysjobs AS j JOIN msdb.dbo.sysjobschedules AS js ON js.job_id = j.job_id WHERE j.name = {job}\""
            ),
            expect: "the job, enabled (1), with its next run time".into(),
            warning: None,
        });
    }
    Ok(())
}

fn sqlcmd(target: &str, file: &str) -> String {
    format!("sqlcmd -S {target} -E -b -f 65001 -i {file}")
}

/// Per partner: the failover job, its alerts, and the scripts that pause and resume both, run
/// there with sqlcmd. None with fewer than two databases (nothing to fail over together).
fn add_partner_scripts(
    site: &Farm,
    sql: &Sql,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    if !sql.failover_job {
        return Ok(());
    }
    for (idx, p) in sql.partners.iter().enumerate() {
        let dir = partner_dir(site, p);
        let host = vec![site.server(p.server).name.clone()];
        let files = [
            (
                "mirror-failover-job.sql",
                scripts::job_script(site, sql, idx)?,
            ),
            (
                "mirroring-alerts.sql",
                scripts::alerts_script(site, sql, idx)?,
            ),
            (
                "pause-failover-job.sql",
                scripts::pause_script(site, sql, idx, false)?,
            ),
            (
                "resume-failover-job.sql",
                scripts::pause_script(site, sql, idx, true)?,
            ),
        ];
        for (name, text) in files {
            let path = format!("{dir}/{name}");
            let command = sqlcmd(&p.target(), &path.replace('/', "\\"));
            let by_hand = |when: &str| Deploy::Run {
                when: when.into(),
                commands: vec![crate::bundle::RunCommand::any(command.clone())],
            };
            let deploy = match name {
                "pause-failover-job.sql" => {
                    by_hand("run by hand before planned failovers or patching")
                }
                "resume-failover-job.sql" => by_hand("run by hand afterwards"),
                _ => Deploy::Command(command.clone()),
            };
            plan.add_file(path, tsql_file(&text).hosts(host.clone()).deploy(deploy))?;
        }
    }
    Ok(())
}

/// The mirror-state probe's command line per partner, as the runbook's step 2 prints it: with the
/// switcher's probe database when sqlcmd can take it as a `-v` value, else `<database>` for the
/// operator to fill in.
fn probe_commands(sql: &Sql) -> Vec<crate::bundle::RunCommand> {
    let db = &sql.switcher.probe_database;
    let db = if probe_safe(db) {
        db.as_str()
    } else {
        "<database>"
    };
    sql.partners
        .iter()
        .map(|p| {
            crate::bundle::RunCommand::any(format!(
                "sqlcmd -S {} -E -b -d master -h -1 -i sql\\mirror-state.sql -v dbname={db}",
                p.target()
            ))
        })
        .collect()
}

/// The probe and the switcher script, for the front ends.
fn add_front_end_files(
    site: &Farm,
    sql: &Sql,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let hosts = site.server_names(&sql.switcher.servers);
    plan.add_file(
        "sql/mirror-state.sql",
        Artifact::text(
            ArtifactKind::Tsql,
            Encoding::Utf8,
            Eol::Crlf,
            &scripts::probe_script(site, sql)?,
        )
        .hosts(hosts.clone())
        .deploy(Deploy::Run {
            when: "run by hand, against each partner".into(),
            commands: probe_commands(sql),
        }),
    )?;
    plan.add_file(
        format!("scripts/{SWITCHER}"),
        Artifact::text(
            ArtifactKind::PowerShell,
            Encoding::Utf8,
            Eol::Crlf,
            &scripts::switcher_script(site, sql)?,
        )
        .hosts(hosts)
        .deploy(Deploy::RuntimeScript {
            scripts_dir: site.scripts_dir.clone(),
        }),
    )
}

/// When the switcher's repetition starts: a fixed date in the past (the schedules' default start,
/// midnight), never `site.changed`. Task Scheduler activates a trigger at its StartBoundary
/// ("the date and time when the trigger is activated": Microsoft, Task Scheduler schema,
/// StartBoundary (triggerBaseType) Element), so a `changed` date in the future would stop the
/// alias switcher until then, and every bump of `changed` would rewrite the task (and its GPO
/// item) on every front end. A past start makes the task active as soon as it is registered; the
/// repetition every N minutes runs from there, with no catch-up beyond the one run
/// StartWhenAvailable allows. The legacy (2003) item converts it to UTC like every start.
pub const SWITCHER_START: &str = "2010-01-01T00:00:00";

/// The switcher's scheduled task.
pub fn switcher_task(site: &Farm, sql: &Sql) -> Result<TaskSpec, crate::Error> {
    let sw = &sql.switcher;
    let principal = if sw.runs_as_system() {
        Principal::system()
    } else {
        // A domain account: the password is typed by an administrator at registration
        // (`schtasks /RU … /RP *`); it is never stored in the bundle or in Group Policy.
        Principal {
            account: Account::parse(&sw.run_as),
            logon_type: Some("Password".into()),
            run_level: "HighestAvailable".into(),
        }
    };
    let script = win_arg(&site.script_path(SWITCHER))
        .map_err(|e| crate::Error::internal(format!("the switcher's path: {e}")))?;
    Ok(TaskSpec {
        name: sw.task_name.clone(),
        description: format!(
            "Points the SQL client alias {} at the database mirroring principal (sitebundle, site {}). Exit 0 at the principal (unchanged or switched), 2 no principal reachable, 3 alias not TCP/IP, 4 error, 5 a 32-bit PowerShell could not start the 64-bit one.",
            sql.alias, site.name
        ),
        trigger: Trigger::Repeat {
            start: SWITCHER_START.into(),
            interval: Duration::minutes(sw.interval_minutes.into()),
        },
        command: r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe".into(),
        arguments: format!("-NoProfile -NonInteractive -ExecutionPolicy Bypass -File {script}"),
        working_directory: String::new(),
        principal,
        execution_time_limit: Duration::minutes(5),
        start_when_available: true,
        hosts: sw.servers.clone(),
        feature: "sql",
        origin: "sql.switcher".into(),
    })
}

/// The initial alias on every switcher server, pointing at the first partner: the 64-bit key
/// everywhere, the 32-bit view (Wow6432Node) only on x64 servers, where it exists (on a 32-bit
/// Windows the path would be an ordinary, meaningless key). One `.reg` file per architecture
/// when the front ends mix them (`sql-alias-x64.reg`, `sql-alias-x86.reg`), else `sql-alias.reg`.
pub fn alias_reg_files(site: &Farm, sql: &Sql) -> Vec<RegFile> {
    let (x64, x86): (Vec<usize>, Vec<usize>) = sql
        .switcher
        .servers
        .iter()
        .partition(|&&h| site.server(h).arch == Arch::X64);
    let mixed = !x64.is_empty() && !x86.is_empty();
    [(Arch::X64, x64), (Arch::X86, x86)]
        .into_iter()
        .filter(|(_, hosts)| !hosts.is_empty())
        .map(|(arch, hosts)| alias_reg_file(site, sql, arch, hosts, mixed))
        .collect()
}

/// The registry keys of the alias on a server of this architecture.
pub fn alias_keys(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::X64 => &[CONNECT_TO, CONNECT_TO_WOW],
        Arch::X86 => &[CONNECT_TO],
    }
}

fn alias_reg_file(site: &Farm, sql: &Sql, arch: Arch, hosts: Vec<usize>, mixed: bool) -> RegFile {
    let (data, description) = match &sql.ag {
        None => (
            sql.partners[0].alias_data(),
            format!(
                "SQL client alias {} (initially the first mirroring partner; Update-SqlAlias.ps1 moves it to the principal)",
                sql.alias
            ),
        ),
        Some(ag) => (
            ag.alias_data(),
            format!(
                "SQL client alias {} (the availability group listener {}, which follows the primary)",
                sql.alias, ag.listener.name
            ),
        ),
    };
    let values = alias_keys(arch)
        .iter()
        .map(|key| RegValue {
            key: (*key).to_string(),
            name: sql.alias.clone(),
            data: RegData::Sz(data.clone()),
            hosts: hosts.clone(),
            description: description.clone(),
            // Mirroring: the switcher owns the alias after the first write, so a refresh must
            // not move it back. An availability group's alias never changes: Group Policy may
            // keep it in place.
            apply_once: sql.ag.is_none(),
        })
        .collect();
    let keys = match arch {
        Arch::X64 => "64-bit and 32-bit (Wow6432Node) keys, for x64 servers",
        Arch::X86 => {
            "the only key of a 32-bit Windows (it has no separate 32-bit view), for x86 servers"
        }
    };
    RegFile {
        name: if mixed {
            format!("{REG_FILE}-{}", arch.label())
        } else {
            REG_FILE.into()
        },
        comment: format!(
            "sitebundle (site {}): SQL client alias {}, {keys}.\nImport with the 64-bit regedit /s or reg import.",
            site.name, sql.alias
        ),
        hosts,
        values,
    }
}

#[derive(Serialize)]
struct PartnerRow {
    server: String,
    target: String,
    dir: String,
    start: String,
    namespace: String,
}

#[derive(Serialize)]
struct SqlRunbookView<'a> {
    partners: Vec<PartnerRow>,
    job_name: &'a str,
    owner: &'a str,
    interval: u32,
    alias: &'a str,
    database: &'a str,
    /// The probe's command lines, the same strings as `list` and `plan` print.
    probe_commands: Vec<String>,
    switchers: String,
    task_name: &'a str,
    task_file: String,
    run_as_system: bool,
    /// `site.domain_netbios`, when given.
    netbios: Option<&'a str>,
    /// The front ends' computer accounts (`NETBIOS\host$`), when the site names the domain.
    logins: Vec<String>,
    run_as: &'a str,
    cycle_services: Vec<String>,
    switch_interval: u32,
    all_synchronized: bool,
    databases: &'a [String],
    first_alias: String,
    scripts_dir: &'a str,
    alert_names: Vec<String>,
    gpo_files: bool,
    gpo_tasks: bool,
    gpo_registry: bool,
    anchor: &'a str,
    failover_job: bool,
    retired_alert: String,
    controlled: &'a [String],
    reg_files: Vec<RegRow>,
    any_wow: bool,
    ps2: Vec<Ps2Row>,
    witness: Option<String>,
    state_query: &'static str,
    /// Minutes within which the job has acted twice on each partner (the runbook's test).
    follow_minutes: u32,
}

fn reg_rows(site: &Farm, sql: &Sql) -> Vec<RegRow> {
    alias_reg_files(site, sql)
        .into_iter()
        .map(|f| RegRow {
            file: format!("registry\\{}.reg", f.name),
            wow: f.values.iter().any(|v| v.key == CONNECT_TO_WOW),
            hosts: site.server_list(&f.hosts),
        })
        .collect()
}

fn runbook_view<'a>(site: &'a Farm, sql: &'a Sql) -> SqlRunbookView<'a> {
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
    SqlRunbookView {
        partners,
        job_name: &sql.job.name,
        owner: &sql.job.owner,
        interval: sql.job.interval_minutes,
        alias: &sql.alias,
        database: &sql.switcher.probe_database,
        probe_commands: probe_commands(sql).into_iter().map(|c| c.line).collect(),
        switchers: site.server_list(&sql.switcher.servers),
        task_name: &sql.switcher.task_name,
        task_file: format!("tasks\\{}.xml", sql.switcher.task_name),
        run_as_system: sql.switcher.runs_as_system(),
        netbios: site.domain_netbios.as_deref(),
        logins: match &site.domain_netbios {
            Some(d) => site
                .server_names(&sql.switcher.servers)
                .iter()
                .map(|h| format!("{d}\\{h}$"))
                .collect(),
            None => Vec::new(),
        },
        run_as: &sql.switcher.run_as,
        cycle_services: sql.switcher.cycle_services.clone(),
        switch_interval: sql.switcher.interval_minutes,
        all_synchronized: sql.all_synchronized,
        databases: &sql.databases,
        first_alias: sql.partners[0].alias_data(),
        scripts_dir: &site.scripts_dir,
        alert_names: ALERTS
            .iter()
            .map(|(suffix, _, _)| format!("{} - {suffix}", site.name))
            .collect(),
        gpo_files: site.gpo_has(Preference::Files),
        gpo_tasks: site.gpo_has(Preference::Tasks),
        gpo_registry: site.gpo_has(Preference::Registry),
        anchor: &sql.anchor,
        failover_job: sql.failover_job,
        controlled: &sql.controlled,
        retired_alert: format!("{} - {}", site.name, scripts::RETIRED_ALERTS[0]),
        reg_files: reg_rows(site, sql),
        any_wow: sql
            .switcher
            .servers
            .iter()
            .any(|&h| site.server(h).arch == Arch::X64),
        ps2: ps2_rows(site, sql),
        witness: sql.witness.map(|w| site.server(w).name.clone()),
        state_query: STATE_QUERY,
        follow_minutes: 2 * sql.job.interval_minutes,
    }
}

#[derive(Serialize)]
struct SqlChecklistView {
    anchor: String,
    partners: Vec<String>,
    front_ends: Vec<String>,
    ps2: Vec<Ps2Row>,
}

/// A switcher server that needs Windows PowerShell 2.0 installed.
#[derive(Serialize)]
struct Ps2Row {
    name: String,
    os: &'static str,
    package: &'static str,
}

fn ps2_rows(site: &Farm, sql: &Sql) -> Vec<Ps2Row> {
    sql.switcher
        .servers
        .iter()
        .filter_map(|&h| {
            let s = site.server(h);
            model::powershell_2_package(s.os).map(|package| Ps2Row {
                name: s.name.clone(),
                os: s.os.label(),
                package,
            })
        })
        .collect()
}

/// A `.reg` file of the alias and the front ends that import it.
#[derive(Serialize)]
struct RegRow {
    file: String,
    hosts: String,
    wow: bool,
}

/// The runbook section, two checklist steps, a prerequisite and a link under "On each server".
fn add_runbook(site: &Farm, sql: &Sql, plan: &mut Contribution) -> Result<(), crate::Error> {
    let section = Section {
        id: "sql".into(),
        slot: RunbookSlot::SqlJob,
        text: crate::render::render("sql/runbook.md", &runbook_view(site, sql))?,
    };
    let view = SqlChecklistView {
        anchor: section.anchor(),
        partners: sql
            .partners
            .iter()
            .map(|p| site.server(p.server).name.clone())
            .collect(),
        front_ends: site.server_names(&sql.switcher.servers),
        ps2: ps2_rows(site, sql),
    };
    if !view.ps2.is_empty() {
        plan.runbook.add_checklist_parts(
            "sql/checklist.md",
            &view,
            &[("prerequisite_ps2", Part::Prerequisite, RunbookSlot::SqlJob)],
        )?;
    }
    if sql.failover_job {
        plan.runbook.add_checklist_parts(
            "sql/checklist.md",
            &view,
            &[("step_job", Part::Step, RunbookSlot::SqlJob)],
        )?;
    }
    plan.runbook.add_checklist_parts(
        "sql/checklist.md",
        &view,
        &[
            ("step_logins", Part::Step, RunbookSlot::SqlLogins),
            ("prerequisite", Part::Prerequisite, RunbookSlot::SqlJob),
            ("server_check", Part::ServerCheck, RunbookSlot::SqlJob),
        ],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}

/// The alias and the partners' columns, the switchers' and the alias's edges, the partners' and
/// switchers' lines.
fn add_topology(sql: &Sql, t: &mut Topology) {
    t.columns.push(Column {
        id: "col3".into(),
        rank: ALIAS_RANK,
        kind: "alias".into(),
        title: "SQL client alias".into(),
        fill: "#fef7e0".into(),
    });
    t.columns.push(Column {
        id: "col4".into(),
        rank: PARTNER_RANK,
        kind: "partner".into(),
        title: "SQL mirroring partners".into(),
        fill: "#fce8e6".into(),
    });
    for (n, p) in sql.partners.iter().enumerate() {
        t.server_columns.push((p.server, PARTNER_RANK));
        t.server_lines.push(ServerLine {
            server: p.server,
            slot: LineSlot::SqlPartner,
            text: format!("SQL partner: {}", p.target()),
        });
        t.edges.push(TopoEdge {
            phase: 2,
            from: "alias".into(),
            to: Topology::server_id(p.server),
            label: if n == 0 {
                "initial target"
            } else {
                "after failover"
            }
            .into(),
            show_label: true,
            dashed: n != 0,
        });
    }
    if let Some(w) = sql.witness {
        t.server_columns.push((w, PARTNER_RANK));
        t.server_lines.push(ServerLine {
            server: w,
            slot: LineSlot::SqlPartner,
            text: "SQL mirroring witness (automatic failover with quorum)".into(),
        });
        for p in &sql.partners {
            t.edges.push(TopoEdge {
                phase: 2,
                from: Topology::server_id(w),
                to: Topology::server_id(p.server),
                label: "witness".into(),
                show_label: true,
                dashed: true,
            });
        }
    }
    let mut switchers = sql.switcher.servers.clone();
    switchers.sort();
    for &s in &switchers {
        t.server_lines.push(ServerLine {
            server: s,
            slot: LineSlot::SqlSwitcher,
            text: format!("alias switcher every {} min", sql.switcher.interval_minutes),
        });
        t.edges.push(TopoEdge {
            phase: 1,
            from: Topology::server_id(s),
            to: "alias".into(),
            label: "connects via".into(),
            show_label: true,
            dashed: false,
        });
    }
    t.nodes.push(TopoNode {
        id: "alias".into(),
        column: ALIAS_RANK,
        name: sql.alias.clone(),
        details: vec![format!("{} mirrored databases", sql.databases.len())],
    });
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
