//! What `sitebundle audit` expects on each availability group replica (read from the output of
//! `collect/sql/collect-ag.sql`): per group of the site its backup preference, its replicas with
//! their endpoint, availability and failover modes, the anchor's listener with its port and
//! addresses, its databases (sys.availability_databases_cluster); the alerts on 1480, 35264 and
//! 35265 and whether those messages are written to the Application log (without it the alerts
//! never fire: templates/sql/ag-alerts.sql); the follower job when there are follower groups.
//! The local replica's role and health are state, not configuration: a failover moves the role.
//! Values as the catalog views give them (Microsoft Learn, sys.availability_replicas:
//! availability_mode_desc SYNCHRONOUS_COMMIT / ASYNCHRONOUS_COMMIT, failover_mode_desc AUTOMATIC /
//! MANUAL; sys.availability_groups: automated_backup_preference_desc SECONDARY;
//! sys.availability_group_listener_ip_addresses: ip_address, ip_subnet_mask).

use super::ag::{AG_ALERTS, follow_job_description, follow_step_text, replica_name};
use super::ag_model::{Ag, ENDPOINT_PORT};
use super::audit::{AgentJob, add_collector_file, agent_job_objects, alert_prefix};
use super::model::Sql;
use super::scripts::partner_dir;
use crate::model::Farm;
use crate::plan::{Compare, Contribution, Expected, Field, Scope, SqlTarget};

const COLLECTOR: &str = "collect/sql/collect-ag.sql";

/// The SQL expectations of every replica and the collector.
pub fn contribute(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let mut objects = group_objects(site, sql, ag);
    objects.extend(alert_objects(site));
    if !ag.followers.is_empty() {
        objects.extend(agent_job_objects(&AgentJob {
            job: &ag.job,
            description: follow_job_description(site, ag),
            step_name: super::ag::FOLLOW_STEP_NAME,
            step: follow_step_text(site, ag)?,
            start_hhmmss: 0,
        }));
    }
    for p in &sql.partners {
        plan.audit.sql.push(SqlTarget {
            name: partner_dir(site, p).trim_start_matches("sql/").to_string(),
            server: p.server,
            objects: objects.clone(),
            scopes: scopes(site, sql, ag),
        });
    }
    let text = crate::render::render("sql/collect-ag.sql", &collect_view(site, sql, ag))?;
    add_collector_file(
        site,
        sql,
        plan,
        COLLECTOR,
        &text,
        "any machine with sqlcmd, as a sysadmin of the replica (or SQLAgentReaderRole in msdb, VIEW ANY DEFINITION and VIEW SERVER STATE)",
    )
}

/// The anchor and the follower groups: (name, databases).
fn groups<'a>(sql: &'a Sql, ag: &'a Ag) -> Vec<(&'a str, &'a [String])> {
    let mut v = vec![(ag.name.as_str(), sql.databases.as_slice())];
    v.extend((ag.followers.iter()).map(|f| (f.name.as_str(), f.databases.as_slice())));
    v
}

fn group_objects(site: &Farm, sql: &Sql, ag: &Ag) -> Vec<Expected> {
    let mut out = Vec::new();
    for (g, databases) in groups(sql, ag) {
        out.push(Expected::new(
            "ag",
            g,
            vec![Field::exact("backup_preference", "SECONDARY")],
        ));
        out.push(Expected::new(
            "agrole",
            g,
            vec![
                Field::new("role", "PRIMARY or SECONDARY", Compare::Observed),
                Field::new(
                    "health",
                    "HEALTHY",
                    Compare::State {
                        accepted: vec!["HEALTHY".into()],
                    },
                ),
            ],
        ));
        for (p, m) in sql.partners.iter().zip(&ag.replicas) {
            out.push(Expected::new(
                "replica",
                format!("{g} / {}", replica_name(site, p)),
                vec![
                    Field::new(
                        "endpoint_url",
                        format!("TCP://{}:{ENDPOINT_PORT}", p.host),
                        Compare::NoCase,
                    ),
                    Field::exact("availability_mode", m.commit.keyword()),
                    Field::exact("failover_mode", m.failover.keyword()),
                ],
            ));
        }
        for d in databases {
            out.push(Expected::new("agdatabase", format!("{g} / {d}"), vec![]));
        }
    }
    let l = &ag.listener;
    out.push(Expected::new(
        "listener",
        format!("{} / {}", ag.name, l.name),
        vec![Field::exact("port", l.port.to_string())],
    ));
    for (ip, mask) in &l.addresses {
        out.push(Expected::new(
            "listenerip",
            format!("{} / {} / {ip}", ag.name, l.name),
            vec![Field::exact("mask", mask)],
        ));
    }
    out
}

/// The alerts of ag-alerts.sql and their messages, event-logged.
fn alert_objects(site: &Farm) -> Vec<Expected> {
    let mut out = Vec::new();
    for (id, suffix, _) in AG_ALERTS {
        out.push(Expected::new(
            "agalert",
            format!("{}{suffix}", alert_prefix(site)),
            vec![
                Field::exact("enabled", "1"),
                Field::exact("message_id", id.to_string()),
                Field::exact("severity", "0"),
                Field::exact("delay", "60"),
                Field::exact("include_event_description", "1"),
            ],
        ));
        out.push(Expected::new(
            "message",
            id.to_string(),
            vec![Field::exact("is_event_logged", "1")],
        ));
    }
    out
}

/// Found objects of these kinds and prefixes that the site does not have are extra: another
/// replica or database in one of the site's groups, another listener address, another alert or
/// job named like ours.
fn scopes(site: &Farm, sql: &Sql, ag: &Ag) -> Vec<Scope> {
    let scope = |kind: &str, prefix: String| Scope {
        kind: kind.into(),
        prefix,
    };
    let mut v = vec![scope("agalert", alert_prefix(site))];
    if !ag.followers.is_empty() {
        v.push(scope("job", ag.job.name.clone()));
    }
    for (g, _) in groups(sql, ag) {
        v.push(scope("replica", format!("{g} / ")));
        v.push(scope("agdatabase", format!("{g} / ")));
        v.push(scope("listener", format!("{g} / ")));
        v.push(scope("listenerip", format!("{g} / ")));
    }
    v
}

fn collect_view(site: &Farm, sql: &Sql, ag: &Ag) -> serde_json::Value {
    let alert_prefix = alert_prefix(site);
    let job_prefix = if ag.followers.is_empty() {
        String::new()
    } else {
        ag.job.name.clone()
    };
    serde_json::json!({
        "site": site.name,
        "job_prefix_len": job_prefix.chars().count(),
        "job_prefix": job_prefix,
        "alert_prefix_len": alert_prefix.chars().count(),
        "alert_prefix": alert_prefix,
        "messages": AG_ALERTS.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        "groups": groups(sql, ag).iter().map(|(g, _)| *g).collect::<Vec<_>>(),
    })
}
