//! The GPO's runbook section, checklist step and prerequisite.

use serde::Serialize;

use super::backup_id;
use super::items::{GpoItems, ManualTask, Targeting};
use crate::model::Farm;
use crate::model::gpo::{Gpo, Preference};
use crate::plan::{Part, RunbookParts, RunbookSlot, Section};

#[derive(Serialize)]
struct ItemRow {
    kind: &'static str,
    name: String,
    target: String,
}

#[derive(Serialize)]
struct GpoRunbookView<'a> {
    name: &'a str,
    domain: &'a str,
    backup_id: String,
    link_ou: Option<&'a str>,
    scripts_share: &'a str,
    scripts_dir: &'a str,
    files: bool,
    rows: Vec<ItemRow>,
    manual: Vec<ManualTask>,
    event_only_v2: Vec<String>,
    has_legacy: bool,
    /// Tasks that legacy items register on 2008 with `schtasks /Create /XML`.
    registered: Vec<String>,
    task_names: Vec<String>,
    /// The GPO carries Delete items for what an older bundle put on the servers.
    deletes: bool,
    reg_keys: Vec<(String, String)>,
    /// Services whose recovery actions the GPO sets.
    services: Vec<String>,
}

fn describe_targeting(f: &Targeting) -> String {
    let mut parts = Vec::new();
    if !f.os.is_empty() {
        parts.push(f.os_label.clone());
    }
    if !f.computers.is_empty() {
        parts.push(format!("only {}", f.computers.join(", ")));
    }
    if parts.is_empty() {
        "every server in scope".into()
    } else {
        parts.join("; ")
    }
}

/// The runbook section: import, link, verify, roll back.
/// The table of the GPO's items: every task, service, registry and Delete item with its
/// targeting in words.
fn item_rows(plan: &GpoItems) -> Vec<ItemRow> {
    let mut rows = Vec::new();
    for t in &plan.legacy_tasks {
        rows.push(ItemRow {
            kind: if t.registers.is_some() {
                "legacy task running schtasks /Create /XML (2008)"
            } else {
                "legacy task (2003)"
            },
            name: t.name.clone(),
            target: describe_targeting(&t.filters),
        });
    }
    for t in &plan.v2_tasks {
        rows.push(ItemRow {
            kind: "task (2008)",
            name: t.name.clone(),
            target: describe_targeting(&t.filters),
        });
    }
    for r in &plan.services {
        rows.push(ItemRow {
            kind: "service recovery",
            name: r.name.clone(),
            target: describe_targeting(&r.filters),
        });
    }
    for r in &plan.registry {
        rows.push(ItemRow {
            kind: "registry value",
            name: format!("HKLM\\{}\\{}", r.key, r.name),
            target: describe_targeting(&r.filters),
        });
    }
    for d in &plan.deletes {
        rows.push(ItemRow {
            kind: match d.kind {
                "task-v2" => "delete a retired task (2008)",
                "task" => "delete a retired task (2003)",
                _ => "delete a retired registry value",
            },
            name: if d.kind == "registry" {
                format!("HKLM\\{}\\{}", d.key, d.value_name)
            } else {
                d.name.clone()
            },
            target: describe_targeting(&d.filters),
        });
    }
    rows
}

fn section_view<'a>(site: &'a Farm, gpo: &'a Gpo, plan: &GpoItems) -> GpoRunbookView<'a> {
    let rows = item_rows(plan);
    let mut task_names: Vec<String> = plan
        .v2_tasks
        .iter()
        .map(|t| t.name.clone())
        .chain(
            plan.legacy_tasks
                .iter()
                .flat_map(|t| std::iter::once(t.name.clone()).chain(t.registers.clone())),
        )
        .collect();
    task_names.sort();
    task_names.dedup();
    GpoRunbookView {
        name: &gpo.name,
        domain: &gpo.domain,
        backup_id: backup_id(site, gpo),
        link_ou: gpo.link_ou.as_deref(),
        scripts_share: &site.scripts_share,
        scripts_dir: &site.scripts_dir,
        files: gpo.includes(Preference::Files),
        rows,
        deletes: !plan.deletes.is_empty(),
        has_legacy: plan.legacy_tasks.iter().any(|t| t.registers.is_none()),
        registered: plan
            .legacy_tasks
            .iter()
            .filter_map(|t| t.registers.clone())
            .collect(),
        manual: plan.manual.clone(),
        event_only_v2: plan.event_only_v2.clone(),
        task_names,
        reg_keys: plan
            .registry
            .iter()
            .map(|r| (r.key.clone(), r.value_name.clone()))
            .collect(),
        services: plan.services.iter().map(|s| s.name.clone()).collect(),
    }
}

#[derive(Serialize)]
struct GpoChecklistView {
    anchor: String,
    /// Some server runs Server 2003 / 2003 R2 (they need the GPP client-side extensions).
    any_legacy: bool,
}

/// The runbook section (import, link, verify, roll back), its checklist step and prerequisite.
pub fn add(
    site: &Farm,
    gpo: &Gpo,
    items: &GpoItems,
    runbook: &mut RunbookParts,
) -> Result<(), crate::Error> {
    // Sections are joined with one blank line by the README template.
    let text = crate::render::render("gpo/runbook.md", &section_view(site, gpo, items))?;
    let section = Section {
        id: "gpo".into(),
        slot: RunbookSlot::Gpo,
        text: text.trim_end().to_string(),
    };
    let view = GpoChecklistView {
        anchor: section.anchor(),
        any_legacy: site.servers.iter().any(|s| !s.os.has_task_scheduler2()),
    };
    runbook.add_checklist_parts(
        "gpo/checklist.md",
        &view,
        &[
            ("step", Part::Step, RunbookSlot::Gpo),
            ("prerequisite", Part::Prerequisite, RunbookSlot::Gpo),
        ],
    )?;
    runbook.sections.push(section);
    Ok(())
}
