//! Service recovery: `[[recovery]]` entries make the service controller restart a failed service
//! (the "Recovery" tab of services.msc). The GPO carries them as Services preference items; the
//! runbook gives the `sc failure` command for servers outside its scope.

pub mod model;

use serde::Serialize;

use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::plan::{
    Contribution, LineSlot, Part, RunbookSlot, Section, ServerLine, ServiceRecovery,
};
use model::Recovery;

/// Adds the recovery settings, the runbook section and the servers' lines.
pub fn contribute(site: &Farm, entries: &[Recovery]) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if !entries.is_empty() {
        add_all(site, entries, &mut c)?;
    }
    Ok(c)
}

fn add_all(site: &Farm, entries: &[Recovery], plan: &mut Contribution) -> Result<(), crate::Error> {
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
fn add_server_lines(site: &Farm, entries: &[Recovery], plan: &mut Contribution) {
    for server in 0..site.servers.len() {
        let services: Vec<&str> = entries
            .iter()
            .filter(|r| r.servers.contains(&server))
            .map(|r| r.service.as_str())
            .collect();
        if !services.is_empty() {
            plan.topology.server_lines.push(ServerLine {
                server,
                slot: LineSlot::Recovery,
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
fn add_runbook(
    site: &Farm,
    entries: &[Recovery],
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let rows = entries
        .iter()
        .map(|r| RecoveryRow {
            service: r.service.clone(),
            hosts: site.server_list(&r.servers),
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
        slot: RunbookSlot::Recovery,
        text: crate::render::render("recovery/runbook.md", &view)?,
    };
    plan.runbook.add_checklist_parts(
        "recovery/checklist.md",
        &serde_json::json!({ "anchor": section.anchor() }),
        &[("server_check", Part::ServerCheck, RunbookSlot::Recovery)],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}
