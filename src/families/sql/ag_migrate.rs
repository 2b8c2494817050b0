//! `from_mirroring = true`: the anchor group's databases move into the availability group from
//! database mirroring between the first two replicas (the first the principal), as
//! docs/modern-targets.md 6.7 describes. Per former partner `mirroring-retire.sql` (the mirroring
//! bundle's failover job and alerts deleted), on the principal `mirroring-off.sql` (a checked
//! `SET PARTNER OFF` per database); the mirror copies stay RESTORING and `ag-join.sql` joins them
//! without a restore.

use serde::Serialize;

use super::ag_model::Ag;
use super::model::Sql;
use super::scripts::{mirroring_alert_names, mirroring_job_prefix, partner_dir, tsql_file};
use crate::bundle::Deploy;
use crate::model::Farm;
use crate::plan::Contribution;

/// The two former mirroring partners: the principal (replica 0) and the mirror (replica 1).
const PARTNERS: [usize; 2] = [0, 1];

fn retire_path(site: &Farm, sql: &Sql, idx: usize) -> String {
    format!(
        "{}/mirroring-retire.sql",
        partner_dir(site, &sql.partners[idx])
    )
}

fn off_path(site: &Farm, sql: &Sql) -> String {
    format!("{}/mirroring-off.sql", partner_dir(site, &sql.partners[0]))
}

fn server_name(site: &Farm, sql: &Sql, idx: usize) -> String {
    super::ag::replica_name(site, &sql.partners[idx])
}

fn retire_script(site: &Farm, sql: &Sql, ag: &Ag, idx: usize) -> Result<String, crate::Error> {
    let next = match idx {
        0 => "Done. Next: mirroring-retire.sql on the other partner, then mirroring-off.sql here.",
        _ => "Done. Next: mirroring-off.sql on the principal.",
    };
    crate::render::render(
        "sql/mirroring-retire.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": ag.name,
            "replica": server_name(site, sql, idx),
            "partners": format!("{} and {}", server_name(site, sql, 0), server_name(site, sql, 1)),
            "alerts": mirroring_alert_names(site),
            "job_prefix": mirroring_job_prefix(site),
            "next": next,
        }),
    )
}

fn off_script(site: &Farm, sql: &Sql, ag: &Ag) -> Result<String, crate::Error> {
    let create = format!("{}/ag-create.sql", partner_dir(site, &sql.partners[0]));
    crate::render::render(
        "sql/mirroring-off.sql",
        &serde_json::json!({
            "site": site.name,
            "ag": ag.name,
            "replica": server_name(site, sql, 0),
            "mirror": server_name(site, sql, 1),
            "databases": sql.databases,
            "count": sql.databases.len(),
            "create_file": create.replace('/', "\\"),
            "next": "Done: mirroring has ended for every database here. Next: ag-create.sql on this server.",
        }),
    )
}

/// The migration's scripts, when the group replaces database mirroring.
pub fn add_files(
    site: &Farm,
    sql: &Sql,
    ag: &Ag,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    if !ag.from_mirroring {
        return Ok(());
    }
    let mut files = Vec::new();
    for idx in PARTNERS {
        files.push((
            idx,
            retire_path(site, sql, idx),
            retire_script(site, sql, ag, idx)?,
        ));
    }
    files.push((0, off_path(site, sql), off_script(site, sql, ag)?));
    for (idx, path, text) in files {
        let p = &sql.partners[idx];
        let command = super::ag::sqlcmd_file(p, &path);
        let host = vec![site.server(p.server).name.clone()];
        plan.add_file(
            path,
            tsql_file(&text)
                .hosts(host)
                .deploy(Deploy::Command(command)),
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
pub struct MigrationView {
    /// The mirroring principal (the group's initial primary) and the mirror.
    principal: String,
    mirror: String,
    /// `sqlcmd … -i …mirroring-retire.sql` on each former partner.
    retire: Vec<String>,
    /// `sqlcmd … -i …mirroring-off.sql` on the principal.
    off: String,
    /// The alias switcher's task the mirroring bundle registered on the front ends.
    switcher_task: String,
    /// The alerts and the job prefix the retire script deletes.
    alerts: Vec<String>,
    job_prefix: String,
}

/// What the runbook's migration steps print; None without `from_mirroring`.
pub fn view(site: &Farm, sql: &Sql, ag: &Ag) -> Option<MigrationView> {
    ag.from_mirroring.then(|| MigrationView {
        principal: site.server(sql.partners[0].server).name.clone(),
        mirror: site.server(sql.partners[1].server).name.clone(),
        retire: PARTNERS
            .iter()
            .map(|&i| super::ag::sqlcmd_file(&sql.partners[i], &retire_path(site, sql, i)))
            .collect(),
        off: super::ag::sqlcmd_file(&sql.partners[0], &off_path(site, sql)),
        switcher_task: sql.switcher.task_name.clone(),
        alerts: mirroring_alert_names(site),
        job_prefix: mirroring_job_prefix(site),
    })
}
