//! Service recovery: `[[recovery]]` entries make the service controller restart a failed service
//! (the "Recovery" tab of services.msc). The GPO carries them as Services preference items; the
//! runbook gives the `sc failure` command for servers outside its scope.

pub mod model;

use serde::Serialize;

use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::plan::{Part, Plan, Section, ServerLine, ServiceRecovery};
use model::Recovery;

/// Where the family's pieces go among the others' in the runbook and the topology.
const SECTION_ORDER: u32 = 55;
const SERVER_CHECK_ORDER: u32 = 40;
const SERVER_LINE_ORDER: u32 = 50;

/// Adds the recovery settings, the runbook section and the servers' lines.
pub fn contribute(site: &Farm, entries: &[Recovery], plan: &mut Plan) -> Result<(), crate::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    plan.services
        .extend(entries.iter().map(|r| settings(site, r)));
    add_runbook(site, entries, plan)?;
    add_server_lines(site, entries, plan);
    Ok(())
}

fn settings(site: &Farm, r: &Recovery) -> ServiceRecovery {
    ServiceRecovery {
        service: r.service.clone(),
        restarts: 3,
        restart_delay_ms: r.restart_after_seconds * 1000,
        reset_after_seconds: r.reset_after_days * 86_400,
        hosts: r.servers.clone(),
        description: format!(
            "Restart {} {} s after each failure (sitebundle, site {})",
            r.service, r.restart_after_seconds, site.name
        ),
    }
}

/// "restarts X on failure" in each server's box.
fn add_server_lines(site: &Farm, entries: &[Recovery], plan: &mut Plan) {
    for server in 0..site.servers.len() {
        let services: Vec<&str> = entries
            .iter()
            .filter(|r| r.servers.contains(&server))
            .map(|r| r.service.as_str())
            .collect();
        if !services.is_empty() {
            plan.topology.server_lines.push(ServerLine {
                server,
                order: SERVER_LINE_ORDER,
                text: format!("restarts {} on failure", services.join(", ")),
            });
        }
    }
}

#[derive(Serialize)]
struct RecoveryRow {
    service: String,
    hosts: String,
    delay_seconds: u32,
    delay_ms: u32,
    reset_days: u32,
    reset_seconds: u32,
}

#[derive(Serialize)]
struct RecoveryRunbookView {
    rows: Vec<RecoveryRow>,
    /// The GPO sets the recovery actions (then the sc commands are for servers outside it).
    gpo_services: bool,
}

/// The runbook section and its link under "On each server".
fn add_runbook(site: &Farm, entries: &[Recovery], plan: &mut Plan) -> Result<(), crate::Error> {
    let rows = entries
        .iter()
        .map(|r| RecoveryRow {
            service: r.service.clone(),
            hosts: site.server_names(&r.servers).join(", "),
            delay_seconds: r.restart_after_seconds,
            delay_ms: r.restart_after_seconds * 1000,
            reset_days: r.reset_after_days,
            reset_seconds: r.reset_after_days * 86_400,
        })
        .collect();
    let view = RecoveryRunbookView {
        rows,
        gpo_services: site.gpo_has(Preference::Services),
    };
    let section = Section {
        id: "recovery".into(),
        order: SECTION_ORDER,
        text: crate::render::render("recovery/runbook.md", &view)?,
    };
    plan.add_checklist_parts(
        "recovery/checklist.md",
        &serde_json::json!({ "anchor": section.anchor() }),
        &[("server_check", Part::ServerCheck, SERVER_CHECK_ORDER)],
    )?;
    plan.sections.push(section);
    Ok(())
}
