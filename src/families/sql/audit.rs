//! What `sitebundle audit` expects on each mirroring partner (read from the output of
//! `collect/sql/collect-sql.sql`), the alias values the switcher may leave behind (state, not
//! drift), and the SQL collector itself.
//!
//! Fields are the catalog columns the install scripts set (msdb.dbo.sysjobs, sysjobsteps,
//! sysschedules, sp_help_alert; sys.database_mirroring), in the collector's text form. Live state
//! (a database's role, mirroring state and partner after a failover) is `Observed`; the safety
//! level is compared, as high-performance mode (safety OFF) cannot be failed over by the job
//! (sys.database_mirroring: mirroring_safety_level_desc FULL / OFF,
//! https://learn.microsoft.com/en-us/sql/relational-databases/system-catalog-views/sys-database-mirroring-transact-sql).

use serde::Serialize;

use super::model::Sql;
use super::scripts::tsql_file;
use super::scripts::{ALERTS, alert_query, partner_dir, start_time, step_text};
use super::{CONNECT_TO, CONNECT_TO_WOW};
use crate::bundle::{Deploy, RunCommand};
use crate::model::Farm;
use crate::plan::{Collector, Compare, Contribution, Expected, Field, LiveValue, Scope, SqlTarget};

const COLLECTOR: &str = "collect/sql/collect-sql.sql";

/// Adds the SQL expectations, the alias's accepted values and the collector.
pub fn contribute(site: &Farm, sql: &Sql, plan: &mut Contribution) -> Result<(), crate::Error> {
    for idx in 0..sql.partners.len() {
        let target = partner_target(site, sql, idx)?;
        plan.audit.sql.push(target);
    }
    let accepted: Vec<String> = sql.partners.iter().map(|p| p.alias_data()).collect();
    for key in [CONNECT_TO, CONNECT_TO_WOW] {
        plan.audit.live_values.push(LiveValue {
            key: key.into(),
            name: sql.alias.clone(),
            accepted: accepted.clone(),
        });
    }
    add_collector(site, sql, plan)
}

pub fn alert_prefix(site: &Farm) -> String {
    format!("{} - ", site.name)
}

fn partner_target(site: &Farm, sql: &Sql, idx: usize) -> Result<SqlTarget, crate::Error> {
    let p = &sql.partners[idx];
    let mut objects = Vec::new();
    if sql.failover_job {
        objects.extend(job_objects(site, sql, idx)?);
        objects.extend(alert_objects(site, sql, idx));
    }
    objects.extend(database_objects(sql));
    let name = partner_dir(site, p).trim_start_matches("sql/").to_string();
    Ok(SqlTarget {
        name,
        server: p.server,
        objects,
        scopes: vec![
            Scope {
                kind: "job".into(),
                prefix: sql.job.name.clone(),
            },
            Scope {
                kind: "alert".into(),
                prefix: alert_prefix(site),
            },
        ],
    })
}

/// The job, its job server, its one step and its schedule, as the install script leaves them.
fn job_objects(site: &Farm, sql: &Sql, idx: usize) -> Result<Vec<Expected>, crate::Error> {
    let p = &sql.partners[idx];
    let (start, start_label) = start_time(sql, idx);
    Ok(agent_job_objects(&AgentJob {
        job: &sql.job,
        description: super::scripts::mirroring_job_description(site, sql, idx, &start_label),
        step_name: super::scripts::MIRRORING_STEP_NAME,
        step: step_text(site, sql, p)?,
        start_hhmmss: start,
    }))
}

/// An Agent job as templates/sql/agent-job.sql installs it (the mirroring job, the follower job).
pub struct AgentJob<'a> {
    pub job: &'a super::model::Job,
    pub description: String,
    pub step_name: &'a str,
    pub step: String,
    /// `active_start_time` as HHMMSS.
    pub start_hhmmss: u32,
}

pub fn agent_job_objects(j: &AgentJob) -> Vec<Expected> {
    let job = j.job;
    vec![
        Expected::new(
            "job",
            &job.name,
            vec![
                Field::exact("enabled", "1"),
                Field::new("owner", &job.owner, Compare::NoCase),
                Field::new("category", &job.category, Compare::NoCase),
                Field::exact("description", j.description.clone()),
            ],
        ),
        // server_id 0 is the local server (sp_add_jobserver @server_name = N'(local)').
        Expected::new("jobserver", &job.name, vec![Field::exact("server_id", "0")]),
        Expected::new(
            "step",
            format!("{} / 1", job.name),
            vec![
                Field::exact("step_name", j.step_name),
                Field::new("subsystem", "TSQL", Compare::NoCase),
                Field::new("database", "master", Compare::NoCase),
                Field::exact("on_success_action", "1"),
                Field::exact("on_fail_action", "2"),
                Field::exact("retry_attempts", "0"),
                Field::new("command", j.step.clone(), Compare::Text),
            ],
        ),
        Expected::new(
            "schedule",
            &job.name,
            vec![
                Field::exact("enabled", "1"),
                Field::exact("freq_type", "4"),
                Field::exact("freq_interval", "1"),
                Field::exact("freq_subday_type", "4"),
                Field::exact("freq_subday_interval", job.interval_minutes.to_string()),
                Field::exact("active_start_time", j.start_hhmmss.to_string()),
                Field::exact("active_end_time", "235959"),
            ],
        ),
    ]
}

fn alert_objects(site: &Farm, sql: &Sql, idx: usize) -> Vec<Expected> {
    ALERTS
        .iter()
        .map(|(suffix, _, query)| {
            Expected::new(
                "alert",
                format!("{}{suffix}", alert_prefix(site)),
                vec![
                    Field::exact("enabled", "1"),
                    Field::new("job", &sql.job.name, Compare::NoCase),
                    Field::exact("delay", "60"),
                    Field::new("category", &sql.job.category, Compare::NoCase),
                    Field::new(
                        "wmi_namespace",
                        sql.partners[idx].wmi_namespace(),
                        Compare::NoCase,
                    ),
                    Field::exact("wmi_query", alert_query(sql, query)),
                ],
            )
        })
        .collect()
}

/// Every database of the site: mirrored in safety FULL (safety OFF for the controlled
/// high-performance ones is their normal state between failovers, hence observed).
fn database_objects(sql: &Sql) -> Vec<Expected> {
    sql.databases
        .iter()
        .map(|db| {
            let safety = if sql.controlled.contains(db) {
                Field::new("safety", "FULL", Compare::Observed)
            } else {
                Field::exact("safety", "FULL")
            };
            Expected::new(
                "database",
                db,
                vec![
                    safety,
                    Field::new("role", "PRINCIPAL or MIRROR", Compare::Observed),
                    Field::new(
                        "state",
                        "SYNCHRONIZED",
                        Compare::State {
                            accepted: vec!["SYNCHRONIZED".into()],
                        },
                    ),
                    Field::new("partner", "the other partner", Compare::Observed),
                ],
            )
        })
        .collect()
}

#[derive(Serialize)]
struct CollectView<'a> {
    site: &'a str,
    job_prefix: &'a str,
    job_prefix_len: usize,
    alert_prefix: String,
    alert_prefix_len: usize,
    databases: &'a [String],
}

fn add_collector(site: &Farm, sql: &Sql, plan: &mut Contribution) -> Result<(), crate::Error> {
    let alert_prefix = alert_prefix(site);
    let view = CollectView {
        site: &site.name,
        job_prefix: &sql.job.name,
        job_prefix_len: sql.job.name.chars().count(),
        alert_prefix_len: alert_prefix.chars().count(),
        alert_prefix,
        databases: &sql.databases,
    };
    let text = crate::render::render("sql/collect-sql.sql", &view)?;
    add_collector_file(
        site,
        sql,
        plan,
        COLLECTOR,
        &text,
        "any machine with sqlcmd, as a sysadmin of the partner (or SQLAgentReaderRole in msdb)",
    )
}

/// The SQL collector `path` (`collect/sql/<file>.sql`) run on every partner or replica, its
/// output `collected/sql/<folder>.txt`.
pub fn add_collector_file(
    site: &Farm,
    sql: &Sql,
    plan: &mut Contribution,
    path: &str,
    text: &str,
    run_on: &str,
) -> Result<(), crate::Error> {
    let script = path.replace('/', "\\");
    let hosts: Vec<String> = sql
        .partners
        .iter()
        .map(|p| site.server(p.server).name.clone())
        .collect();
    // One exact command per partner, shared by the file's deployment (`list`, `plan`, the
    // runbook's per-server steps) and the Audit table.
    let commands: Vec<(String, String)> = sql
        .partners
        .iter()
        .map(|p| {
            let folder = partner_dir(site, p).trim_start_matches("sql/").to_string();
            let line = format!(
                "sqlcmd -S {} -E -d msdb -h -1 -y 0 -f 65001 -i {script} -o collected\\sql\\{folder}.txt",
                p.target()
            );
            (folder, line)
        })
        .collect();
    plan.add_file(
        path,
        tsql_file(text).hosts(hosts.clone()).deploy(Deploy::Run {
            when: "read-only, for sitebundle audit, from any machine with sqlcmd".into(),
            commands: hosts
                .iter()
                .zip(&commands)
                .map(|(h, (_, line))| RunCommand {
                    host: Some(h.clone()),
                    line: line.clone(),
                })
                .collect(),
        }),
    )?;
    for (p, (folder, line)) in sql.partners.iter().zip(commands) {
        plan.audit.collectors.push(Collector {
            source: format!("SQL Server {}", p.target()),
            run_on: run_on.into(),
            command: line,
            output: format!("sql/{folder}.txt"),
        });
    }
    Ok(())
}
