//! The bundle's own documentation: the runbook (`README.md`).
//!
//! Each feature writes its own runbook section from its own template (`templates/docs/<feature>.md`)
//! through its `runbook(site)` function; this module orders the sections in deployment order
//! (SQL jobs on both partners → alerts → F5 → Group Policy → per-server checks), puts a numbered
//! checklist linking to them on top, and adds the file table (files that deploy together, like a
//! GPO backup, on one row).

use serde::Serialize;

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;
use crate::model::gpo::Preference;

#[derive(Serialize)]
struct FileRow {
    /// The file, or the folder of a group of files that deploy together.
    path: String,
    /// For a group: the file names inside `path`.
    files: Vec<String>,
    kind: String,
    hosts: String,
    deploy: String,
}

#[derive(Serialize)]
struct Section {
    /// `sql`, `f5`, `gpo`, `kill`, `maint`.
    family: &'static str,
    /// The GitHub/GitLab anchor of the section's heading.
    anchor: String,
    text: String,
}

#[derive(Serialize)]
struct Ctx<'a> {
    site: &'a str,
    description: &'a str,
    scripts_dir: &'a str,
    scripts_share: &'a str,
    files: Vec<FileRow>,
    /// Rendered Markdown sections, in deployment order. Each was rendered from its own template with
    /// the same escaping discipline, so it is inserted as is.
    sections: Vec<Section>,
    /// The numbered checklist: one family name per step, in order.
    steps: Vec<&'static str>,
    /// Anchor of each family's section, by family name.
    anchors: std::collections::BTreeMap<&'static str, String>,
    has_scripts: bool,
    has_reg: bool,
    /// Some server runs Server 2003 / 2003 R2.
    any_legacy: bool,
    gpo_files: bool,
    gpo_tasks: bool,
    gpo_registry: bool,
    sql_partners: Vec<String>,
    sql_front_ends: Vec<String>,
    topology: bool,
}

/// The anchor GitHub and GitLab give a heading: lower case, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Every feature's runbook section, in deployment order.
fn sections(site: &Site) -> Result<Vec<Section>, crate::Error> {
    let all = [
        ("sql", crate::sql::runbook(site)?),
        ("f5", crate::f5::runbook(site)?),
        ("scenarios", crate::scenarios::runbook(site)?),
        ("gpo", crate::gpo::runbook(site)?),
        ("kill", crate::helper::runbook(site)?),
        ("maint", crate::maint::runbook(site)?),
    ];
    Ok(all
        .into_iter()
        .filter_map(|(family, text)| {
            let text = text?;
            let heading = text
                .lines()
                .find_map(|l| l.strip_prefix("## "))
                .unwrap_or(family)
                .to_string();
            Some(Section {
                family,
                anchor: anchor(&heading),
                text,
            })
        })
        .collect())
}

/// The file table: consecutive files deployed the same way to the same hosts under one folder
/// (a GPO backup) share one row.
fn file_rows(site: &Site, bundle: &Bundle) -> Vec<FileRow> {
    let gpo = |p: Preference| site.gpo.as_ref().is_some_and(|g| g.includes(p));
    let mut rows: Vec<FileRow> = Vec::new();
    let mut group_dir: Option<String> = None;
    for (path, a) in &bundle.files {
        let mut deploy = a.deploy.clone();
        if a.kind == "task-xml" && gpo(Preference::Tasks) {
            deploy = format!("registered by the GPO; outside its scope: {deploy}");
        }
        if path.starts_with("scripts/") {
            deploy = if gpo(Preference::Files) {
                "put on the scripts share; the GPO copies it (see Runtime scripts)".to_string()
            } else {
                format!("copy to {} (see Runtime scripts)", site.scripts_dir)
            };
        }
        if a.kind == "reg" {
            let by_hand = deploy
                .split(" (or the Group Policy")
                .next()
                .unwrap_or_default()
                .to_string();
            deploy = if gpo(Preference::Registry) {
                format!("written by the GPO; outside its scope: {by_hand}")
            } else {
                by_hand
            };
        }
        if path.starts_with("gpo/") {
            // The exact command (PowerShell, in the bundle folder), as the Group Policy section has it.
            deploy = format!(
                "PowerShell: {}",
                deploy.replace("<bundle>\\gpo", "\"$PWD\\gpo\"")
            );
        }
        if deploy.is_empty() {
            deploy = "review only".into();
        }
        let hosts = a.hosts.join(", ");
        // Files of a GPO backup (gpo/{GUID}/…) deploy together with one command.
        let dir = path
            .strip_prefix("gpo/")
            .and_then(|rest| rest.split_once('/'))
            .map(|(guid, _)| format!("gpo/{guid}/"));
        if let (Some(d), Some(last)) = (&dir, rows.last_mut())
            && group_dir.as_ref() == Some(d)
            && last.deploy == deploy
            && last.hosts == hosts
        {
            last.files.push(base(path));
            if !last.kind.split(", ").any(|k| k == a.kind) {
                last.kind = format!("{}, {}", last.kind, a.kind);
            }
            continue;
        }
        group_dir = dir.clone();
        rows.push(match dir {
            Some(d) => FileRow {
                files: vec![base(path)],
                path: d,
                kind: a.kind.to_string(),
                hosts,
                deploy,
            },
            None => FileRow {
                path: path.clone(),
                files: Vec::new(),
                kind: a.kind.to_string(),
                hosts,
                deploy,
            },
        });
    }
    rows
}

fn base(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let sections = sections(site)?;
    let has = |f: &str| sections.iter().any(|s| s.family == f);
    let has_scripts = bundle.files.keys().any(|p| p.starts_with("scripts/"));
    let mut steps = Vec::new();
    if has("sql") {
        steps.extend(["sql-job", "sql-logins"]);
    }
    if has("f5") {
        steps.push("f5");
    }
    if has_scripts {
        steps.push("scripts");
    }
    if has("gpo") {
        steps.push("gpo");
    }
    if has("sql") || has("kill") || has("maint") {
        steps.push("servers");
    }
    let gpo = |p: Preference| site.gpo.as_ref().is_some_and(|g| g.includes(p));
    let ctx = Ctx {
        site: &site.name,
        description: &site.description,
        scripts_dir: &site.scripts_dir,
        scripts_share: &site.scripts_share,
        files: file_rows(site, bundle),
        anchors: sections
            .iter()
            .map(|s| (s.family, s.anchor.clone()))
            .collect(),
        sections,
        steps,
        has_scripts,
        has_reg: bundle.files.keys().any(|p| p.ends_with(".reg")),
        any_legacy: site.servers.iter().any(|s| !s.os.has_task_scheduler2()),
        gpo_files: gpo(Preference::Files),
        gpo_tasks: gpo(Preference::Tasks),
        gpo_registry: gpo(Preference::Registry),
        sql_partners: site
            .sql
            .as_ref()
            .map(|s| {
                s.partners
                    .iter()
                    .map(|p| site.server(p.server).name.clone())
                    .collect()
            })
            .unwrap_or_default(),
        sql_front_ends: site
            .sql
            .as_ref()
            .map(|s| site.server_names(&s.switcher.servers))
            .unwrap_or_default(),
        topology: bundle.files.contains_key("topology.md"),
    };
    let text = crate::render::render("docs/README.md", &ctx)?;
    bundle.add(
        "README.md",
        Artifact::text("runbook", Encoding::Utf8, Eol::Lf, &text),
    )
}

#[cfg(test)]
mod tests {
    use super::anchor;

    #[test]
    fn anchors_follow_github() {
        assert_eq!(anchor("F5 BIG-IP"), "f5-big-ip");
        assert_eq!(
            anchor("Group Policy: scripts, scheduled tasks and registry values"),
            "group-policy-scripts-scheduled-tasks-and-registry-values"
        );
        assert_eq!(
            anchor("Server 2008 / 2008 R2: the event task"),
            "server-2008--2008-r2-the-event-task"
        );
    }
}
