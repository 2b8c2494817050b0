//! What the site's GPO carries, computed once over every task, registry value, service setting
//! and runtime script of the plan: its preference items with their targeting
//! ([`items::GpoItems`]) and what it delivers to which server ([`GpoCoverage`]). These are facts
//! about Group Policy and Task Scheduler, not about a family: a family that adds a task gets its
//! GPO items, their targeting and the legacy item limits without asking. The GPO emitter
//! (`emit::gpo`) only writes them out.

pub mod items;

use uuid::Uuid;

use crate::bundle::{Bundle, Deploy};
use crate::model::Farm;
use crate::model::gpo::Gpo;
use crate::plan::{GpoCoverage, RegValue, TaskSpec};
use items::{GpoItems, Script};

/// The GPO's part of the plan: its items and what they deliver.
#[derive(Debug, Clone)]
pub struct GpoPlan {
    pub items: GpoItems,
    pub coverage: GpoCoverage,
    /// What an older bundle put on servers that this plan does not, which the GPO deletes
    /// (Delete items, [MS-GPPREF] action D): tasks and registry values, by server.
    pub retiring: Vec<crate::check::Retired>,
}

/// The GPO's items and coverage, when the site has a `[gpo]` section; `previous` is what an older
/// bundle put on the servers, whose items this plan lacks become Delete items.
pub fn plan(
    site: &Farm,
    plan: &super::Plan,
    previous: &[crate::check::Retired],
) -> Result<Option<GpoPlan>, crate::Error> {
    let Some(gpo) = &site.gpo else {
        return Ok(None);
    };
    let (files, tasks, services) = (&plan.files, &plan.tasks, &plan.services);
    let values: Vec<RegValue> = plan.reg_values().cloned().collect();
    let scripts = deployed_scripts(site, files, tasks);
    let mut items = items::build(site, gpo, &scripts, tasks, &values, services)?;
    let retiring = items::add_deletes(site, gpo, &retiring(site, plan, previous)?, &mut items)?;
    let coverage = coverage(site, gpo, &items, tasks);
    Ok(Some(GpoPlan {
        items,
        coverage,
        retiring,
    }))
}

/// What the previous bundle put on the servers (its items and those it was already deleting)
/// that this plan does not: tasks and registry values, by server. Other kinds (a 2003 event
/// trigger) have no Group Policy preference and stay with `sitebundle diff`'s commands.
pub fn retiring(
    site: &Farm,
    plan: &super::Plan,
    previous: &[crate::check::Retired],
) -> Result<Vec<crate::check::Retired>, crate::Error> {
    if previous.is_empty() {
        return Ok(Vec::new());
    }
    let now = super::inventory::items(plan)?;
    Ok(previous
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "task" | "registry"))
        .filter(|r| !super::inventory::has(site, &now, &r.host, &r.kind, &r.name))
        .cloned()
        .collect())
}

/// What the GPO delivers to which server, for the per-server view: TaskV2 items reach the
/// task's 2008 hosts, legacy items its 2003 hosts.
fn coverage(site: &Farm, gpo: &Gpo, items: &GpoItems, specs: &[TaskSpec]) -> GpoCoverage {
    let hosts_of = |name: &str, v2: bool| -> Vec<usize> {
        specs
            .iter()
            .filter(|t| t.name == name)
            .flat_map(|t| t.hosts.iter().copied())
            .filter(|&h| site.server(h).os.has_task_scheduler2() == v2)
            .collect()
    };
    let mut tasks: Vec<(String, Vec<usize>)> = Vec::new();
    for t in &items.v2_tasks {
        tasks.push((t.name.clone(), hosts_of(&t.name, true)));
    }
    for t in &items.legacy_tasks {
        match &t.registers {
            // `gpo.tasks_2008 = "schtasks-xml"`: the item registers the 2008 task from its XML.
            Some(task) => tasks.push((task.clone(), hosts_of(task, true))),
            None => tasks.push((t.name.clone(), hosts_of(&t.name, false))),
        }
    }
    GpoCoverage {
        name: gpo.name.clone(),
        files: items.files.iter().map(|f| f.name.clone()).collect(),
        tasks,
        registry: !items.registry.is_empty(),
        services: !items.services.is_empty(),
    }
}

/// The runtime scripts among the files (those deployed to the servers' scripts folder).
pub fn runtime_scripts(files: &Bundle) -> Vec<Script> {
    runtime_files(files).map(|(p, h)| script(&p, h)).collect()
}

/// The runtime scripts' paths (in path order) and the servers that get each.
fn runtime_files(files: &Bundle) -> impl Iterator<Item = (String, Vec<String>)> + '_ {
    files
        .files
        .iter()
        .filter(|(_, a)| matches!(a.deploy, Deploy::RuntimeScript { .. }))
        .map(|(path, a)| (path.clone(), a.hosts.servers().to_vec()))
}

fn script(path: &str, hosts: Vec<String>) -> Script {
    Script {
        file: path.rsplit('/').next().unwrap_or(path).to_string(),
        hosts,
    }
}

/// Every file deployed to the servers' scripts folder, in path order: the runtime scripts and,
/// when 2008 tasks are registered from copies of their XML ([`registers_xml_copies`]), those
/// copies (the tasks emitter writes them). What the GPO's Files preference copies and what the
/// collectors hash.
pub fn deployed_scripts(site: &Farm, files: &Bundle, tasks: &[TaskSpec]) -> Vec<Script> {
    let mut paths: Vec<(String, Vec<String>)> = runtime_files(files).collect();
    if registers_xml_copies(site) {
        for t in tasks {
            let hosts = task_xml_hosts(site, t);
            if !hosts.is_empty() {
                paths.push((xml_copy_path(t), hosts));
            }
        }
    }
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    paths.into_iter().map(|(p, h)| script(&p, h)).collect()
}

/// `gpo.tasks_2008 = "schtasks-xml"` with tasks in the GPO: 2008 tasks are registered by
/// `schtasks /Create /XML` items from copies of their XML that the Files preference brings.
pub fn registers_xml_copies(site: &Farm) -> bool {
    site.gpo.as_ref().is_some_and(|g| {
        g.includes(crate::model::gpo::Preference::Tasks)
            && g.tasks_2008 == crate::model::gpo::Tasks2008::SchtasksXml
    })
}

/// Bundle path of the copy of a task's XML that the GPO brings to the scripts folder.
pub fn xml_copy_path(t: &TaskSpec) -> String {
    format!("scripts/{}.xml", t.name)
}

/// Names of a task's hosts that run Task Scheduler 2.0 (those that get its XML).
pub fn task_xml_hosts(site: &Farm, t: &TaskSpec) -> Vec<String> {
    t.hosts
        .iter()
        .filter(|&&h| site.server(h).os.has_task_scheduler2())
        .map(|&h| site.server(h).name.clone())
        .collect()
}

/// A braced, upper-case GUID derived from the site and an identity (UUID v5).
pub fn guid(site: &str, identity: &str) -> String {
    let ns = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://sitebundle.invalid/gpo");
    let id = Uuid::new_v5(&ns, format!("{site}\n{identity}").as_bytes());
    format!("{{{}}}", id.to_string().to_ascii_uppercase())
}
