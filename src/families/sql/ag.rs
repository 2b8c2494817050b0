//! What `[sql]` deploys in `mode = "availability-group"`: per replica the T-SQL scripts (the
//! group and its listener on the initial primary, the join on each secondary, the alerts and the
//! readiness check on every replica), the alias on the front ends pointing at the listener (no
//! alias switcher: the listener follows the primary), the runbook section with the order of
//! deployment, planned and forced failover and pause/resume. Syntax and rules with their sources:
//! docs/modern-targets.md section 6.

use serde::Serialize;

use super::ag_model::{Ag, Commit, ENDPOINT_PORT, Failover, Follower};
use super::model::{Partner, Sql};
use super::partner_dir;
use super::scripts::tsql_file;
use crate::bundle::{Deploy, RunCommand};
use crate::model::Farm;
use crate::plan::{
    Column, Contribution, LineSlot, Part, RunbookSlot, Section, ServerLine, ServerPrerequisite,
    ServerRole, ServerVerify, TopoEdge, TopoNode, Topology,
};

/// The alerts on every replica: (message id, name suffix, comment). 1480: a database changes
/// roles; 35264/35265: data movement suspended/resumed (docs/modern-targets.md 6.3).
pub const AG_ALERTS: &[(u32, &str, &str)] = &[
    (
        1480,
        "AG role change (1480)",
        "A database changes roles (1480)",
    ),
    (
        35264,
        "AG data movement suspended (35264)",
        "Data movement suspended (35264)",
    ),
    (
        35265,
        "AG data movement resumed (35265)",
        "Data movement resumed (35265)",
    ),
];

pub fn add_all(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    add_replica_scripts(site, sql, ag, plan)?;
    super::ag_migrate::add_files(site, sql, ag, plan)?;
    plan.registry.extend(super::alias_reg_files(site, sql));
    add_runbook(site, sql, ag, plan)?;
    add_topology(site, sql, ag, &mut plan.topology);
    add_server_facts(sql, ag, plan);
    super::ag_audit::contribute(site, sql, ag, plan)
}

fn internal(what: &str) -> impl Fn(crate::escape::Unsafe) -> crate::Error + '_ {
    move |e| crate::Error::internal(format!("{what}: {e}"))
}

/// The replica name of `REPLICA ON`: the computer name, with `\instance` for a named instance.
pub(super) fn replica_name(site: &Farm, p: &Partner) -> String {
    let name = &site.server(p.server).name;
    match &p.instance {
        Some(i) => format!("{name}\\{i}"),
        None => name.clone(),
    }
}

pub(super) fn sqlcmd_file(p: &Partner, path: &str) -> String {
    format!(
        "sqlcmd -S {} -E -b -f 65001 -i {}",
        p.target(),
        path.replace('/', "\\")
    )
}

#[derive(Serialize)]
struct ReplicaSpec {
    name: String,
    endpoint_url: String,
    /// `SYNCHRONOUS_COMMIT` / `ASYNCHRONOUS_COMMIT` (fixed keywords from this module: `trusted`).
    availability_mode: &'static str,
    /// `AUTOMATIC` / `MANUAL` (fixed keywords: `trusted`).
    failover_mode: &'static str,
}

#[derive(Serialize)]
struct Address {
    ip: String,
    mask: String,
}

fn replica_specs(site: &Farm, sql: &Sql, ag: &Ag) -> Vec<ReplicaSpec> {
    sql.partners
        .iter()
        .zip(&ag.replicas)
        .map(|(p, m)| ReplicaSpec {
            name: replica_name(site, p),
            endpoint_url: format!("TCP://{}:{ENDPOINT_PORT}", p.host),
            availability_mode: m.commit.keyword(),
            failover_mode: m.failover.keyword(),
        })
        .collect()
}

/// One group's view for the create and join scripts: the anchor (with its listener) or a follower.
struct GroupView<'a> {
    name: &'a str,
    databases: &'a [String],
    /// The anchor has the listener; a follower none.
    listener: Option<&'a super::ag_model::Listener>,
}

impl<'a> GroupView<'a> {
    fn anchor(sql: &'a Sql, ag: &'a Ag) -> Self {
        GroupView {
            name: &ag.name,
            databases: &sql.databases,
            listener: Some(&ag.listener),
        }
    }
    fn follower(f: &'a Follower) -> Self {
        GroupView {
            name: &f.name,
            databases: &f.databases,
            listener: None,
        }
    }
    /// The script names: `ag-create.sql` / `ag-join.sql` for the anchor, with `-<group>` for a follower.
    fn file(&self, what: &str) -> String {
        match self.listener {
            Some(_) => format!("ag-{what}.sql"),
            None => format!("ag-{what}-{}.sql", self.name),
        }
    }
}

fn create_script(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    g: &GroupView,
    path: &str,
) -> Result<String, crate::Error> {
    let p = &sql.partners[0];
    let next = match g.listener {
        Some(_) => "Done. Next: ag-join.sql on each secondary replica, then ag-alerts.sql and ag-readiness.sql on every replica.".to_string(),
        None => format!("Done. Next: {} on each secondary replica.", g.file("join")),
    };
    crate::render::render(
        "sql/ag-create.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": g.name,
            "anchor": ag.name,
            "primary": { "name": replica_name(site, p), "target": p.target() },
            "path": path,
            "endpoint_port": ENDPOINT_PORT,
            "databases": g.databases,
            "replicas": replica_specs(site, sql, ag),
            "listener": g.listener.map(|l| l.name.clone()),
            "addresses": g.listener.map(|l| l.addresses.iter()
                .map(|(ip, mask)| Address { ip: ip.clone(), mask: mask.clone() })
                .collect::<Vec<_>>()).unwrap_or_default(),
            "port": g.listener.map_or(0, |l| l.port),
            "next": next,
        }),
    )
}

fn join_script(site: &Farm, sql: &Sql, g: &GroupView, idx: usize) -> Result<String, crate::Error> {
    let p = &sql.partners[idx];
    let next = match g.listener {
        Some(_) => "Done. Next: ag-alerts.sql and ag-readiness.sql on this replica.".to_string(),
        None => "Done. Next: ag-follow-job.sql on this replica, once every group has joined."
            .to_string(),
    };
    crate::render::render(
        "sql/ag-join.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": g.name,
            "primary": replica_name(site, &sql.partners[0]),
            "replica": { "name": replica_name(site, p), "target": p.target() },
            "endpoint_port": ENDPOINT_PORT,
            "databases": g.databases,
            "create_file": g.file("create"),
            "next": next,
        }),
    )
}

fn alerts_script(site: &Farm, ag: &Ag, p: &Partner) -> Result<String, crate::Error> {
    let alerts: Vec<_> = AG_ALERTS
        .iter()
        .map(|(id, suffix, what)| {
            serde_json::json!({
                "message_id": id,
                "name": format!("{} - {suffix}", site.name),
                "what": what,
            })
        })
        .collect();
    crate::render::render(
        "sql/ag-alerts.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": ag.name,
            "replica": replica_name(site, p),
            "alerts": alerts,
        }),
    )
}

fn readiness_script(site: &Farm, sql: &Sql, ag: &Ag, p: &Partner) -> Result<String, crate::Error> {
    crate::render::render(
        "sql/ag-readiness.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": ag.name,
            "replica": replica_name(site, p),
            "database_count": sql.databases.len(),
        }),
    )
}

/// The script file names of replica `idx`: (create or join, alerts, readiness), bundle paths.
fn script_paths(site: &Farm, sql: &Sql, idx: usize) -> [String; 3] {
    let dir = partner_dir(site, &sql.partners[idx]);
    let first = if idx == 0 {
        "ag-create.sql"
    } else {
        "ag-join.sql"
    };
    [
        format!("{dir}/{first}"),
        format!("{dir}/ag-alerts.sql"),
        format!("{dir}/ag-readiness.sql"),
    ]
}

/// Replica `idx`'s script of a follower group (create on the initial primary, join elsewhere)
/// and its follower job installer, bundle paths.
fn follower_paths(site: &Farm, sql: &Sql, f: &Follower, idx: usize) -> String {
    let dir = partner_dir(site, &sql.partners[idx]);
    let g = GroupView::follower(f);
    format!("{dir}/{}", g.file(if idx == 0 { "create" } else { "join" }))
}

fn job_path(site: &Farm, sql: &Sql, idx: usize) -> String {
    format!(
        "{}/ag-follow-job.sql",
        partner_dir(site, &sql.partners[idx])
    )
}

fn add_replica_scripts(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    for (idx, p) in sql.partners.iter().enumerate() {
        let [first, alerts, readiness] = script_paths(site, sql, idx);
        let anchor = GroupView::anchor(sql, ag);
        let first_text = if idx == 0 {
            create_script(site, sql, ag, &anchor, &first.replace('/', "\\"))?
        } else {
            join_script(site, sql, &anchor, idx)?
        };
        let mut files = vec![
            (first.clone(), first_text, sqlcmd_file(p, &first)),
            (
                alerts.clone(),
                alerts_script(site, ag, p)?,
                sqlcmd_file(p, &alerts),
            ),
            (
                readiness.clone(),
                readiness_script(site, sql, ag, p)?,
                sqlcmd_file(p, &readiness),
            ),
        ];
        for f in &ag.followers {
            let path = follower_paths(site, sql, f, idx);
            let g = GroupView::follower(f);
            let text = if idx == 0 {
                create_script(site, sql, ag, &g, &path.replace('/', "\\"))?
            } else {
                join_script(site, sql, &g, idx)?
            };
            let command = sqlcmd_file(p, &path);
            files.push((path, text, command));
        }
        if !ag.followers.is_empty() {
            let path = job_path(site, sql, idx);
            let command = sqlcmd_file(p, &path);
            files.push((path, follow_job_script(site, sql, ag, idx)?, command));
        }
        add_files(site, p, &readiness, files, plan)?;
    }
    Ok(())
}

fn add_files(
    site: &Farm,
    p: &Partner,
    readiness: &str,
    files: Vec<(String, String, String)>,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let host = vec![site.server(p.server).name.clone()];
    for (path, text, command) in files {
        // The readiness check is run by hand, to verify; the others deploy.
        let deploy = if path == readiness {
            Deploy::Run {
                when: "run by hand to verify".into(),
                commands: vec![RunCommand {
                    host: Some(site.server(p.server).name.clone()),
                    line: command,
                }],
            }
        } else {
            Deploy::Command(command)
        };
        plan.add_file(path, tsql_file(&text).hosts(host.clone()).deploy(deploy))?;
    }
    Ok(())
}

/// The follower job's step (the same on every replica).
pub fn follow_step_text(site: &Farm, ag: &Ag) -> Result<String, crate::Error> {
    let names: Vec<&str> = ag.followers.iter().map(|f| f.name.as_str()).collect();
    crate::render::render(
        "sql/ag-follow-step.sql",
        &serde_json::json!({ "site": site.name, "anchor": ag.name, "followers": names }),
    )
}

/// The follower job's description (the same on every replica).
pub fn follow_job_description(site: &Farm, ag: &Ag) -> String {
    format!(
        "sitebundle (site {}): where the availability group {} is primary, fail the follower groups over to this replica once synchronized, so that all follow it.",
        site.name, ag.name
    )
}

pub const FOLLOW_STEP_NAME: &str = "Fail the follower groups over to the anchor group's primary";

fn follow_job_script(site: &Farm, sql: &Sql, ag: &Ag, idx: usize) -> Result<String, crate::Error> {
    let idents = ag
        .followers
        .iter()
        .map(|f| crate::escape::tsql_ident(&f.name).map_err(internal("a follower group's name")))
        .collect::<Result<Vec<_>, _>>()?;
    crate::render::render(
        "sql/ag-follow-job.sql",
        &serde_json::json!({
            "site": site.name,
            "anchor": ag.name,
            "followers": idents.join(", "),
            "replica": replica_name(site, &sql.partners[idx]),
            "position": idx + 1,
            "replicas": sql.partners.len(),
            "job": {
                "name": ag.job.name,
                "owner": ag.job.owner,
                "category": ag.job.category,
                "interval_minutes": ag.job.interval_minutes,
            },
            "description": follow_job_description(site, ag),
            "step_name": FOLLOW_STEP_NAME,
            "step": follow_step_text(site, ag)?,
            "schedule_name": ag.job.name,
            "start_hhmmss": 0,
            "start_label": "00:00:00",
        }),
    )
}

#[derive(Serialize)]
struct ReplicaRow {
    server: String,
    target: String,
    dir: String,
    commit: &'static str,
    failover: &'static str,
    create: String,
    join: String,
    alerts: String,
    readiness: String,
}

#[derive(Serialize)]
struct RegRow {
    file: String,
    hosts: String,
}

#[derive(Serialize)]
struct AgRunbookView {
    ag: String,
    listener: String,
    port: u32,
    addresses: Vec<String>,
    multi_subnet: bool,
    alias: String,
    alias_data: String,
    databases: Vec<String>,
    front_ends: String,
    endpoint_port: u32,
    replicas: Vec<ReplicaRow>,
    primary: ReplicaRow,
    secondaries: Vec<ReplicaRow>,
    synchronous: Vec<ReplicaRow>,
    asynchronous: Vec<ReplicaRow>,
    reg_files: Vec<RegRow>,
    failover: String,
    force: String,
    suspend: Vec<String>,
    resume: Vec<String>,
    /// The follower groups (empty with one group) and their job.
    followers: Vec<FollowerRow>,
    job_name: String,
    job_interval: u32,
    job_files: Vec<TargetFile>,
    pause: String,
    resume_job: String,
    roles_query: String,
    /// The steps from database mirroring (`from_mirroring`), else None.
    migration: Option<super::ag_migrate::MigrationView>,
}

#[derive(Serialize)]
struct TargetFile {
    target: String,
    file: String,
}

#[derive(Serialize)]
struct FollowerRow {
    name: String,
    databases: Vec<String>,
    /// Its create script on the initial primary (Windows path).
    create: String,
    /// Its join script on each secondary.
    joins: Vec<TargetFile>,
}

/// The followers' rows of the runbook.
fn follower_rows(site: &Farm, sql: &Sql, ag: &Ag) -> Vec<FollowerRow> {
    ag.followers
        .iter()
        .map(|f| FollowerRow {
            name: f.name.clone(),
            databases: f.databases.clone(),
            create: follower_paths(site, sql, f, 0).replace('/', "\\"),
            joins: (1..sql.partners.len())
                .map(|idx| TargetFile {
                    target: sql.partners[idx].target(),
                    file: follower_paths(site, sql, f, idx).replace('/', "\\"),
                })
                .collect(),
        })
        .collect()
}

/// `sp_update_job … @enabled = n` of the follower job, and the query that lists every group's
/// role on a replica.
fn job_statements(ag: &Ag) -> Result<(String, String, String), crate::Error> {
    let job = crate::escape::tsql_str(&ag.job.name).map_err(internal("the job's name"))?;
    let mut names = vec![crate::escape::tsql_str(&ag.name).map_err(internal("the group's name"))?];
    for f in &ag.followers {
        names.push(crate::escape::tsql_str(&f.name).map_err(internal("a follower's name"))?);
    }
    Ok((
        format!("EXEC msdb.dbo.sp_update_job @job_name = {job}, @enabled = 0;"),
        format!("EXEC msdb.dbo.sp_update_job @job_name = {job}, @enabled = 1;"),
        format!(
            "SELECT g.name, s.role_desc, s.synchronization_health_desc FROM sys.dm_hadr_availability_replica_states AS s JOIN sys.availability_groups AS g ON g.group_id = s.group_id WHERE s.is_local = 1 AND g.name IN ({}) ORDER BY g.name;",
            names.join(", ")
        ),
    ))
}

fn replica_rows(site: &Farm, sql: &Sql, ag: &Ag) -> Vec<ReplicaRow> {
    sql.partners
        .iter()
        .zip(&ag.replicas)
        .enumerate()
        .map(|(idx, (p, m))| {
            let [first, alerts, readiness] =
                script_paths(site, sql, idx).map(|s| s.replace('/', "\\"));
            ReplicaRow {
                server: site.server(p.server).name.clone(),
                target: p.target(),
                dir: partner_dir(site, p).replace('/', "\\"),
                commit: match m.commit {
                    Commit::Synchronous => "synchronous",
                    Commit::Asynchronous => "asynchronous",
                },
                failover: match m.failover {
                    Failover::Automatic => "automatic",
                    Failover::Manual => "manual",
                },
                create: first.clone(),
                join: first,
                alerts,
                readiness,
            }
        })
        .collect()
}

/// `ALTER DATABASE [db] SET HADR <what>;` for every database of the group.
fn hadr_statements(sql: &Sql, what: &str) -> Result<Vec<String>, crate::Error> {
    sql.databases
        .iter()
        .map(|d| {
            let ident = crate::escape::tsql_ident(d).map_err(internal("a database name"))?;
            Ok(format!("ALTER DATABASE {ident} SET HADR {what};"))
        })
        .collect()
}

fn runbook_view(site: &Farm, sql: &Sql, ag: &Ag) -> Result<AgRunbookView, crate::Error> {
    let (pause, resume_job, roles_query) = job_statements(ag)?;
    let ident = crate::escape::tsql_ident(&ag.name).map_err(internal("the group's name"))?;
    let split = |pick: Commit| {
        replica_rows(site, sql, ag)
            .into_iter()
            .zip(&ag.replicas)
            .filter(|(_, m)| m.commit == pick)
            .map(|(r, _)| r)
            .collect()
    };
    let mut secondaries = replica_rows(site, sql, ag);
    let primary = secondaries.remove(0);
    Ok(AgRunbookView {
        ag: ag.name.clone(),
        listener: ag.listener.name.clone(),
        port: ag.listener.port,
        addresses: ag
            .listener
            .addresses
            .iter()
            .map(|(ip, mask)| format!("{ip} {mask}"))
            .collect(),
        multi_subnet: ag.multi_subnet(),
        alias: sql.alias.clone(),
        alias_data: ag.alias_data(),
        databases: sql.databases.clone(),
        front_ends: site.server_list(&sql.switcher.servers),
        endpoint_port: ENDPOINT_PORT,
        replicas: replica_rows(site, sql, ag),
        primary,
        secondaries,
        synchronous: split(Commit::Synchronous),
        asynchronous: split(Commit::Asynchronous),
        reg_files: super::alias_reg_files(site, sql)
            .into_iter()
            .map(|f| RegRow {
                file: format!("registry\\{}.reg", f.name),
                hosts: site.server_list(&f.hosts),
            })
            .collect(),
        failover: format!("ALTER AVAILABILITY GROUP {ident} FAILOVER;"),
        force: format!("ALTER AVAILABILITY GROUP {ident} FORCE_FAILOVER_ALLOW_DATA_LOSS;"),
        suspend: hadr_statements(sql, "SUSPEND")?,
        resume: hadr_statements(sql, "RESUME")?,
        followers: follower_rows(site, sql, ag),
        job_name: ag.job.name.clone(),
        job_interval: ag.job.interval_minutes,
        job_files: (0..sql.partners.len())
            .map(|idx| TargetFile {
                target: sql.partners[idx].target(),
                file: job_path(site, sql, idx).replace('/', "\\"),
            })
            .collect(),
        pause,
        resume_job,
        roles_query,
        migration: super::ag_migrate::view(site, sql, ag),
    })
}

fn add_runbook(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let section = Section {
        id: "sql".into(),
        slot: RunbookSlot::SqlJob,
        text: crate::render::render("sql/ag-runbook.md", &runbook_view(site, sql, ag)?)?,
    };
    let names = |ps: &[Partner]| -> Vec<String> {
        ps.iter()
            .map(|p| site.server(p.server).name.clone())
            .collect()
    };
    let view = serde_json::json!({
        "anchor": section.anchor(),
        "ag": ag.name,
        "primary": site.server(sql.partners[0].server).name,
        "secondaries": names(&sql.partners[1..]),
        "partners": names(&sql.partners),
        "front_ends": site.server_names(&sql.switcher.servers),
        "multi_subnet": ag.multi_subnet(),
        "followers": ag.followers.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        "from_mirroring": ag.from_mirroring,
    });
    plan.runbook.add_checklist_parts(
        "sql/ag-checklist.md",
        &view,
        &[
            ("step_ag", Part::Step, RunbookSlot::SqlJob),
            ("step_ag_logins", Part::Step, RunbookSlot::SqlLogins),
            ("step_ag_alias", Part::Step, RunbookSlot::SqlSharePoint),
            ("prerequisite_ag", Part::Prerequisite, RunbookSlot::SqlJob),
            ("server_check_ag", Part::ServerCheck, RunbookSlot::SqlJob),
        ],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}

/// Per replica: its role, prerequisites and the Always On check; per front end: the alias.
fn add_server_facts(sql: &Sql, ag: &Ag, plan: &mut Contribution) {
    for (p, m) in sql.partners.iter().zip(&ag.replicas) {
        let target = p.target();
        plan.roles.push(ServerRole {
            server: p.server,
            slot: RunbookSlot::SqlJob,
            feature: "sql",
            text: format!(
                "SQL Server availability group {} replica {target}: {} commit, {} failover; alerts on 1480, 35264, 35265",
                ag.name,
                if m.commit == Commit::Synchronous { "synchronous" } else { "asynchronous" },
                if m.failover == Failover::Automatic { "automatic" } else { "manual" },
            ),
        });
        plan.server_prerequisites.push(ServerPrerequisite {
            hosts: vec![p.server],
            feature: "sql",
            text: format!("Always On availability groups enabled for this instance (SQL Server Configuration Manager), this server a node of the group's Windows Server Failover Cluster, a database mirroring endpoint started on TCP {ENDPOINT_PORT}, SQL Server Agent running, sysadmin"),
        });
        plan.server_verifies.push(ServerVerify {
            hosts: vec![p.server],
            feature: "sql",
            command: format!(
                "sqlcmd -S {target} -E -b -d master -Q \"SELECT CAST(SERVERPROPERTY('IsHadrEnabled') AS int)\""
            ),
            expect: "1".into(),
            warning: None,
        });
    }
    for &fe in &sql.switcher.servers {
        plan.roles.push(ServerRole {
            server: fe,
            slot: RunbookSlot::SqlJob,
            feature: "sql",
            text: format!(
                "SQL client: alias {} pointing at the availability group listener ({})",
                sql.alias,
                ag.alias_data()
            ),
        });
    }
}

/// The alias, the listener's replicas and the front ends' edges.
fn add_topology(site: &Farm, sql: &Sql, ag: &Ag, t: &mut Topology) {
    const ALIAS_RANK: u32 = 30;
    const REPLICA_RANK: u32 = 40;
    t.columns.push(Column {
        id: "col3".into(),
        rank: ALIAS_RANK,
        kind: "alias".into(),
        title: "SQL client alias".into(),
        fill: "#fef7e0".into(),
    });
    t.columns.push(Column {
        id: "col4".into(),
        rank: REPLICA_RANK,
        kind: "partner".into(),
        title: "SQL availability group replicas".into(),
        fill: "#fce8e6".into(),
    });
    for (n, (p, m)) in sql.partners.iter().zip(&ag.replicas).enumerate() {
        t.server_columns.push((p.server, REPLICA_RANK));
        t.server_lines.push(ServerLine {
            server: p.server,
            slot: LineSlot::SqlPartner,
            text: format!(
                "AG replica: {} ({})",
                p.target(),
                if m.commit == Commit::Synchronous {
                    "sync"
                } else {
                    "async"
                }
            ),
        });
        t.edges.push(TopoEdge {
            phase: 2,
            from: "alias".into(),
            to: Topology::server_id(p.server),
            label: if n == 0 {
                "listener: initial primary"
            } else {
                "listener: after failover"
            }
            .into(),
            show_label: true,
            dashed: n != 0,
        });
    }
    let mut front_ends = sql.switcher.servers.clone();
    front_ends.sort();
    for &s in &front_ends {
        t.edges.push(TopoEdge {
            phase: 1,
            from: Topology::server_id(s),
            to: "alias".into(),
            label: "connects via".into(),
            show_label: true,
            dashed: false,
        });
    }
    let _ = site;
    t.nodes.push(TopoNode {
        id: "alias".into(),
        column: ALIAS_RANK,
        name: sql.alias.clone(),
        details: vec![
            format!("listener {},{}", ag.listener.name, ag.listener.port),
            format!("{} databases", sql.databases.len()),
        ],
    });
}
