//! The bundle's own documentation: the runbook (`README.md`), made only from the plan: the
//! numbered checklist, "Before you start", the file table (files that deploy together, like a GPO
//! backup, on one row), the runtime scripts, then every contributed section in deployment order.

use serde::Serialize;

use crate::bundle::Bundle;
use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::plan::{Item, Part, Plan, RunbookParts, RunbookSlot, Section, ServerPlan};

/// Bundle path of the runbook.
pub const PATH: &str = "README.md";

/// From this many groups of servers on, "On each server" shows what several groups share once,
/// in parts ([`super::server_parts`]); below it, each group has its whole view, which a farm of a
/// few servers reads best.
pub const PARTS_FROM_GROUPS: usize = 9;

/// One subsection of "On each server" (`runbook/server.md`).
#[derive(Serialize)]
struct One<'a> {
    s: ServerPlan,
    /// The heading: the server's name, the group's names written short and its size, or the part.
    heading: String,
    /// The Windows releases of its servers.
    os: String,
    /// Every name of a group of several (empty for one server, and for a part).
    members: Vec<&'a str>,
    /// A part: its servers written short, and how many.
    part: bool,
    on: String,
    count: usize,
    many: bool,
}

#[derive(Serialize)]
struct PartLink {
    number: usize,
    anchor: String,
}

#[derive(Serialize)]
struct IndexRow<'a> {
    names: Vec<&'a str>,
    parts: Vec<PartLink>,
}

#[derive(Serialize)]
struct Header<'a> {
    gpo: bool,
    parts: bool,
    groups: usize,
    rows: Vec<IndexRow<'a>>,
}

/// "On each server": the plan's per-server view, one subsection per group of servers that get
/// the same (their views equal but for the name: [`groups`]), each rendered on its own
/// (`runbook/server.md`) so that no view of the whole site is held at once, on every core; from
/// [`PARTS_FROM_GROUPS`] groups on, in parts with an index. `sitebundle plan --server NAME` keeps
/// the view of one server.
fn servers_section(site: &Farm, plan: &Plan, files: &Bundle) -> Result<Section, crate::Error> {
    let views = plan.per_server(site, files);
    let groups = groups(site, &views)?;
    let names = |group: &[usize]| -> Vec<&str> {
        group
            .iter()
            .map(|&i| site.server(i).name.as_str())
            .collect()
    };
    let gpo = plan.gpo_coverage().is_some();
    let (header, parts) = if groups.len() >= PARTS_FROM_GROUPS {
        in_parts(site, &groups, &views, gpo)?
    } else {
        let header = Header {
            gpo,
            parts: false,
            groups: groups.len(),
            rows: Vec::new(),
        };
        (header, group_subsections(&groups, &views, names)?)
    };
    let header = crate::render::render("runbook/servers.md", &header)?;
    let mut text =
        String::with_capacity(header.len() + parts.iter().map(String::len).sum::<usize>());
    text.push_str(&header);
    parts.iter().for_each(|p| text.push_str(p));
    drop(parts);
    text.truncate(text.trim_end().len());
    text.push('\n');
    Ok(Section {
        id: "servers".into(),
        slot: RunbookSlot::Servers,
        text,
    })
}

/// "On each server" in parts: the index (one row per group: its names and its parts' links) and
/// the parts' texts.
fn in_parts<'a>(
    site: &'a Farm,
    groups: &[Vec<usize>],
    views: &crate::plan::ServerPlans,
    gpo: bool,
) -> Result<(Header<'a>, Vec<String>), crate::Error> {
    let group_views: Vec<ServerPlan> = groups
        .iter()
        .map(|g| views.get(g[0]))
        .collect::<Result<_, _>>()?;
    let (parts, of_group) = super::server_parts::parts(&group_views)?;
    let subsections = part_subsections(site, groups, &parts)?;
    let rows = groups
        .iter()
        .zip(&of_group)
        .map(|(g, ps)| IndexRow {
            names: g.iter().map(|&i| site.server(i).name.as_str()).collect(),
            parts: sorted(ps)
                .iter()
                .map(|&p| PartLink {
                    number: p + 1,
                    anchor: crate::render::anchor(&subsections[p].0),
                })
                .collect(),
        })
        .collect();
    let header = Header {
        gpo,
        parts: true,
        groups: groups.len(),
        rows,
    };
    Ok((header, subsections.into_iter().map(|(_, t)| t).collect()))
}

fn sorted(parts: &[usize]) -> Vec<usize> {
    let mut v = parts.to_vec();
    v.sort_unstable();
    v
}

/// One subsection per group, each with the group's whole view, rendered on every core.
fn group_subsections<'a>(
    groups: &[Vec<usize>],
    views: &crate::plan::ServerPlans,
    names: impl Fn(&[usize]) -> Vec<&'a str> + Sync,
) -> Result<Vec<String>, crate::Error> {
    crate::parallel::map_ranges(groups.len(), |range| {
        let mut text = String::new();
        for group in &groups[range] {
            let names = names(group);
            let (heading, members) = match names.len() {
                1 => (names[0].to_string(), Vec::new()),
                n => (
                    format!("{}: {n} servers", crate::render::name_ranges(&names, "–")),
                    names,
                ),
            };
            let s = views.get(group[0])?;
            let one = One {
                os: s.os.to_string(),
                many: !members.is_empty(),
                count: members.len().max(1),
                s,
                heading,
                members,
                part: false,
                on: String::new(),
            };
            text.push_str(&crate::render::render("runbook/server.md", &one)?);
        }
        Ok::<_, crate::Error>(text)
    })
}

/// One subsection per part: its heading (for the index's links) and its text.
fn part_subsections(
    site: &Farm,
    groups: &[Vec<usize>],
    parts: &[super::server_parts::Part],
) -> Result<Vec<(String, String)>, crate::Error> {
    let out = crate::parallel::map_ranges(parts.len(), |range| {
        range
            .map(|p| {
                let part = &parts[p];
                let mut servers: Vec<usize> = part
                    .groups
                    .iter()
                    .flat_map(|&g| groups[g].iter().copied())
                    .collect();
                servers.sort_unstable();
                let names: Vec<&str> = servers
                    .iter()
                    .map(|&i| site.server(i).name.as_str())
                    .collect();
                let mut releases: Vec<&str> = Vec::new();
                for &i in &servers {
                    let os = site.server(i).os.label();
                    if !releases.contains(&os) {
                        releases.push(os);
                    }
                }
                let os = releases.join(", ");
                let heading = match names.len() {
                    1 => format!("Part {}: {}", p + 1, names[0]),
                    n => format!("Part {}: {n} servers", p + 1),
                };
                let one = One {
                    s: part.view.clone(),
                    heading: heading.clone(),
                    os: os.clone(),
                    members: Vec::new(),
                    part: true,
                    on: crate::render::name_ranges(&names, "–"),
                    count: names.len(),
                    many: names.len() > 1,
                };
                let text = crate::render::render("runbook/server.md", &one)?;
                Ok((format!("{heading} ({os})"), text))
            })
            .collect::<Result<Vec<_>, crate::Error>>()
    })?;
    Ok(out.into_iter().flatten().collect())
}

/// The servers in groups whose views are equal but for the name, address and DNS name (the
/// same release, files, tasks, values, services, roles, prerequisites and commands), in the
/// site's order of their first server. Views are compared by the SHA-256 of their JSON, computed
/// on every core (a 10,000-server site holds no view of the whole site at once).
pub fn groups(
    site: &Farm,
    views: &crate::plan::ServerPlans,
) -> Result<Vec<Vec<usize>>, crate::Error> {
    use sha2::Digest;
    let digests = crate::parallel::map_ranges(site.servers.len(), |range| {
        range
            .map(|idx| {
                let mut v = views.get(idx)?;
                v.name.clear();
                v.address = None;
                v.fqdn = None;
                let json = serde_json::to_vec(&v)
                    .map_err(|e| crate::Error::internal(format!("the view of a server: {e}")))?;
                Ok(sha2::Sha256::digest(&json).into())
            })
            .collect::<Result<Vec<[u8; 32]>, crate::Error>>()
    })?;
    let mut index: std::collections::HashMap<[u8; 32], usize> = Default::default();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (idx, d) in digests.into_iter().flatten().enumerate() {
        match index.get(&d) {
            Some(&g) => groups[g].push(idx),
            None => {
                index.insert(d, groups.len());
                groups.push(vec![idx]);
            }
        }
    }
    Ok(groups)
}

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
struct RunbookView<'a> {
    site: &'a str,
    description: &'a str,
    scripts_dir: &'a str,
    scripts_share: &'a str,
    files: Vec<FileRow>,
    steps: Vec<Item>,
    prerequisites: Vec<Item>,
    has_scripts: bool,
    gpo_files: bool,
    topology: bool,
}

#[derive(Serialize)]
struct ChecklistView<'a> {
    scripts_dir: &'a str,
    scripts_share: &'a str,
    gpo_files: bool,
    gpo_tasks: bool,
    gpo_registry: bool,
    has_reg: bool,
    checks: Vec<Item>,
}

/// How the file table says a file is deployed: the GPO's part first when it has one.
fn table_deploy(site: &Farm, deploy: &Deploy) -> String {
    let text = match deploy {
        Deploy::TaskXml { command } if site.gpo_has(Preference::Tasks) => {
            format!("registered by the GPO; outside its scope: {command}")
        }
        Deploy::RuntimeScript { .. } if site.gpo_has(Preference::Files) => {
            "put on the scripts share; the GPO copies it (see Runtime scripts)".to_string()
        }
        Deploy::RuntimeScript { scripts_dir } => {
            format!("copy to {scripts_dir} (see Runtime scripts)")
        }
        Deploy::RegFile { command } if site.gpo_has(Preference::Registry) => {
            format!("written by the GPO; outside its scope: {command}")
        }
        Deploy::RegFile { command } => command.clone(),
        // The exact command (PowerShell, in the bundle folder), as the Group Policy section has it.
        Deploy::GpoImport { command } => format!("PowerShell: {command}"),
        other => other.summary(),
    };
    if text.is_empty() {
        "review only".into()
    } else {
        text
    }
}

/// The file table: consecutive files deployed the same way to the same hosts under one folder
/// (a GPO backup) share one row.
fn file_rows(site: &Farm, files: &Bundle) -> Vec<FileRow> {
    let mut rows: Vec<FileRow> = Vec::new();
    let mut group_dir: Option<String> = None;
    for (path, a) in &files.files {
        let deploy = table_deploy(site, &a.deploy);
        // Written short (`web01–web40`): the manifest keeps every name.
        let labels = a.hosts.labels();
        let hosts =
            crate::render::name_ranges(&labels.iter().map(String::as_str).collect::<Vec<_>>(), "–");
        let kind = a.kind.as_str();
        // Files of a GPO backup (gpo/{GUID}/…) deploy together with one command.
        let dir = matches!(a.deploy, Deploy::GpoImport { .. })
            .then(|| {
                path.strip_prefix("gpo/")
                    .and_then(|rest| rest.split_once('/'))
            })
            .flatten()
            .map(|(guid, _)| format!("gpo/{guid}/"));
        if let (Some(d), Some(last)) = (&dir, rows.last_mut())
            && group_dir.as_ref() == Some(d)
            && last.deploy == deploy
            && last.hosts == hosts
        {
            last.files.push(base(path));
            if !last.kind.split(", ").any(|k| k == kind) {
                last.kind = format!("{}, {kind}", last.kind);
            }
            continue;
        }
        group_dir = dir.clone();
        let (path, files) = match dir {
            Some(d) => (d, vec![base(path)]),
            None => (path.clone(), Vec::new()),
        };
        rows.push(FileRow {
            path,
            files,
            kind: kind.to_string(),
            hosts,
            deploy,
        });
    }
    rows
}

fn base(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The runbook's own checklist parts: copying the runtime scripts (and, with a GPO that copies
/// them, the share's permissions), and checking each server (`checks`: the contributed links,
/// sorted).
fn own_parts(
    site: &Farm,
    plan: &Plan,
    has_scripts: bool,
    checks: &[Item],
) -> Result<RunbookParts, crate::Error> {
    let view = ChecklistView {
        scripts_dir: &site.scripts_dir,
        scripts_share: &site.scripts_share,
        gpo_files: site.gpo_has(Preference::Files),
        gpo_tasks: site.gpo_has(Preference::Tasks),
        gpo_registry: site.gpo_has(Preference::Registry),
        has_reg: !plan.registry.is_empty(),
        checks: checks.to_vec(),
    };
    let mut parts = Vec::new();
    if has_scripts {
        parts.push(("step_scripts", Part::Step, RunbookSlot::Scripts));
        if view.gpo_files {
            parts.push((
                "prerequisite_scripts",
                Part::Prerequisite,
                RunbookSlot::Scripts,
            ));
        }
    }
    if !view.checks.is_empty() {
        parts.push(("step_servers", Part::Step, RunbookSlot::Servers));
    }
    let mut out = RunbookParts::default();
    out.add_checklist_parts("runbook/checklist.md", &view, &parts)?;
    Ok(out)
}

/// `README.md`, the runbook: `files` is every other file of the bundle (the file table) and
/// `emitted` the runbook pieces the emitters returned (the GPO, the collectors).
pub fn emit(
    site: &Farm,
    plan: &Plan,
    files: &Bundle,
    emitted: &RunbookParts,
) -> Result<Artifact, crate::Error> {
    let has_scripts = files
        .files
        .values()
        .any(|a| matches!(a.deploy, Deploy::RuntimeScript { .. }));
    let mut parts = plan.runbook.clone();
    parts.extend(emitted.clone());
    let checks = parts.sorted().server_checks;
    parts.extend(own_parts(site, plan, has_scripts, &checks)?);
    if !site.servers.is_empty() {
        parts.sections.push(servers_section(site, plan, files)?);
    }
    let parts = parts.sorted();
    let view = RunbookView {
        site: &site.name,
        description: &site.description,
        scripts_dir: &site.scripts_dir,
        scripts_share: &site.scripts_share,
        files: file_rows(site, files),
        steps: parts.steps,
        prerequisites: parts.prerequisites,
        has_scripts,
        gpo_files: site.gpo_has(Preference::Files),
        topology: files.files.contains_key(super::topology::MD_PATH),
    };
    let mut text = crate::render::render("runbook/README.md", &view)?;
    append_sections(&mut text, &parts.sections);
    Ok(Artifact::text(
        ArtifactKind::Runbook,
        Encoding::Utf8,
        Eol::Lf,
        text,
    ))
}

/// The contributed sections after the runbook's own part, each after a blank line. Each was
/// rendered from its own template with the escaping filters of Markdown, so it is appended as is
/// (not passed through the template: the per-server section of a large site is tens of MB).
fn append_sections(text: &mut String, sections: &[Section]) {
    text.reserve(sections.iter().map(|s| s.text.len() + 2).sum());
    for s in sections {
        text.push('\n');
        text.push_str(&s.text);
        text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use crate::render::anchor;

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
