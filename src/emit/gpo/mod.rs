//! The Group Policy object of the site, as a GPO backup that `Import-GPO` (or GPMC's "Import
//! Settings") brings into the domain. It carries Group Policy Preferences:
//!
//! * `Files.xml`: every runtime script of the bundle (`scripts/…`, whichever family made it) from
//!   `site.scripts_share` to `site.scripts_dir`;
//! * `ScheduledTasks.xml`: for every [`TaskSpec`] a legacy `Task` (Task Scheduler 1.0) targeted at
//!   Server 2003 / 2003 R2 and a `TaskV2` targeted at 2008 / 2008 R2;
//! * `Registry.xml`: every [`RegValue`].
//!
//! Every item names the servers it is for (item-level targeting by computer name), in addition to
//! the OS filter of a task item: the GPO's OU may hold machines that are not the farm's.
//!
//! Item actions (justified in the runbook): Files use **Replace** — GPP's Update on a file only
//! refreshes its attributes and never copies a changed script over an existing one, so a fixed
//! script would never reach the servers; Replace re-copies the few small scripts at each refresh.
//! Tasks and registry values use **Update** — the task is modified in place (its run history and
//! last result survive the 90-minute background refresh instead of being deleted and recreated
//! each time) and a registry value is simply written.
//!
//! Identifiers: every `uid`, the GPO ID and the backup ID are UUID v5 of a stable identity under
//! the site's name; every `changed` and the backup time come from `site.changed`. Never a
//! password: run-as accounts are SYSTEM or an NT AUTHORITY service account; a task whose principal
//! is anything else is left out of the GPO and listed in the runbook for manual registration.

mod backup;
pub mod items;
mod runbook;

use uuid::Uuid;

use crate::bundle::{Bundle, Deploy};
use crate::model::Farm;
use crate::model::gpo::{Gpo, Preference};
use crate::plan::{GpoCoverage, Plan};
pub use backup::add as add_backup;
pub use items::{GpoItems, Script, gpp_account, iso_duration_secs};

/// Adds the GPO backup, its runbook section, checklist step and prerequisite, when the site has a
/// `[gpo]` section.
pub fn emit(site: &Farm, plan: &mut Plan) -> Result<(), crate::Error> {
    let Some(gpo) = &site.gpo else {
        return Ok(());
    };
    let values: Vec<_> = plan.reg_values().cloned().collect();
    let mut items = items::build(
        site,
        gpo,
        &runtime_scripts(&plan.files),
        &plan.tasks,
        &values,
        &plan.services,
    )?;
    let retiring = retiring(site, plan)?;
    plan.retiring = items::add_deletes(site, gpo, &retiring, &mut items)?;
    add_backup(site, gpo, &items, &mut plan.files)?;
    plan.gpo = Some(coverage(site, gpo, &items, &plan.tasks));
    add_legacy_prerequisite(site, plan);
    runbook::add(site, gpo, &items, plan)
}

/// What the previous bundle put on the servers (plan.previous: its items and those it was already
/// deleting) that this plan does not: tasks and registry values, by server. Other kinds (a 2003
/// event trigger) have no Group Policy preference and stay with `sitebundle diff`'s commands.
fn retiring(site: &Farm, plan: &Plan) -> Result<Vec<crate::check::Retired>, crate::Error> {
    if plan.previous.is_empty() {
        return Ok(Vec::new());
    }
    let now = crate::emit::inventory::host_items(site, plan)?;
    let kept = |r: &crate::check::Retired| {
        now.iter().any(|(host, items)| {
            host.eq_ignore_ascii_case(&r.host)
                && items
                    .iter()
                    .any(|i| i.kind == r.kind && i.name.eq_ignore_ascii_case(&r.name))
        })
    };
    Ok(plan
        .previous
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "task" | "registry") && !kept(r))
        .cloned()
        .collect())
}

/// Server 2003 applies preferences only with the Group Policy Preference client-side
/// extensions (Microsoft KB943729, "Information about new Group Policy preferences in Windows
/// Server 2008", which lists the CSE downloads for XP/2003/Vista; they need XmlLite, KB915865).
fn add_legacy_prerequisite(site: &Farm, plan: &mut Plan) {
    let hosts: Vec<usize> = (0..site.servers.len())
        .filter(|&i| !site.server(i).os.has_task_scheduler2())
        .collect();
    if !hosts.is_empty() {
        plan.server_prerequisites.push(crate::plan::ServerPrerequisite {
            hosts,
            feature: "gpo",
            text: "the Group Policy Preference client-side extensions (KB943729, with XmlLite KB915865): without them Server 2003 ignores the GPO's preference items".into(),
        });
    }
}

/// What the GPO delivers to which server, for the per-server view: TaskV2 items reach the
/// task's 2008 hosts, legacy items its 2003 hosts.
fn coverage(
    site: &Farm,
    gpo: &Gpo,
    items: &GpoItems,
    specs: &[crate::plan::TaskSpec],
) -> GpoCoverage {
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
    files
        .files
        .iter()
        .filter(|(_, a)| matches!(a.deploy, Deploy::RuntimeScript { .. }))
        .map(|(path, a)| Script {
            file: path.rsplit('/').next().unwrap_or(path).to_string(),
            hosts: a.hosts.clone(),
        })
        .collect()
}

/// Client-side extension and tool-extension GUIDs of each preference ([MS-GPPREF] 1.9): a GPO
/// whose extension list lacks the CSE GUID has its preference file silently ignored.
pub fn extension_pair(p: Preference) -> (&'static str, &'static str) {
    match p {
        Preference::Files => (
            "{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}",
            "{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}",
        ),
        Preference::Tasks => (
            "{AADCED64-746C-4633-A97C-D61349046527}",
            "{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}",
        ),
        Preference::Registry => (
            "{B087BE9D-ED37-454F-AF9C-04291E351182}",
            "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}",
        ),
        Preference::Services => (
            "{91FBB303-0CD5-4055-BF42-E512A681B325}",
            "{CC5746A9-9B74-4be5-AE2E-64379C86E0E4}",
        ),
    }
}

/// Folder and file of a preference inside `…\Machine\Preferences\`.
pub fn preference_file(p: Preference) -> (&'static str, &'static str) {
    match p {
        Preference::Files => ("Files", "Files.xml"),
        Preference::Tasks => ("ScheduledTasks", "ScheduledTasks.xml"),
        Preference::Registry => ("Registry", "Registry.xml"),
        Preference::Services => ("Services", "Services.xml"),
    }
}

/// `[{0…0}{tool}…][{CSE}{tool}]…` as GPMC writes gPCMachineExtensionNames ([MS-GPOL] 2.2.4): a
/// leading group with every tool GUID, then one pair per preference, all sorted, upper case.
pub fn machine_extension_names(present: &[Preference]) -> String {
    let mut pairs: Vec<(String, String)> = present
        .iter()
        .map(|&p| {
            let (cse, tool) = extension_pair(p);
            (cse.to_ascii_uppercase(), tool.to_ascii_uppercase())
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    if pairs.is_empty() {
        return String::new();
    }
    let mut tools: Vec<&str> = pairs.iter().map(|(_, t)| t.as_str()).collect();
    tools.sort();
    tools.dedup();
    let mut out = format!(
        "[{{00000000-0000-0000-0000-000000000000}}{}]",
        tools.concat()
    );
    for (cse, tool) in &pairs {
        out.push_str(&format!("[{cse}{tool}]"));
    }
    out
}

/// A braced, upper-case GUID derived from the site and an identity (UUID v5).
pub fn guid(site: &str, identity: &str) -> String {
    let ns = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://sitebundle.invalid/gpo");
    let id = Uuid::new_v5(&ns, format!("{site}\n{identity}").as_bytes());
    format!("{{{}}}", id.to_string().to_ascii_uppercase())
}

/// The GPO ID recorded in the backup (Import-GPO creates the target with its own ID).
pub fn gpo_id(site: &Farm, gpo: &Gpo) -> String {
    guid(&site.name, &format!("gpo-id\n{}", gpo.name))
}

/// The backup ID: the backup's folder name and the value of `Import-GPO -BackupId`.
pub fn backup_id(site: &Farm, gpo: &Gpo) -> String {
    guid(&site.name, &format!("gpo-backup\n{}", gpo.name))
}

/// Bundle folder of the backup: `gpo/{BackupId}`.
pub fn backup_dir(site: &Farm, gpo: &Gpo) -> String {
    format!("gpo/{}", backup_id(site, gpo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Principal;

    #[test]
    fn extension_names_are_sorted_pairs() {
        let all =
            machine_extension_names(&[Preference::Registry, Preference::Files, Preference::Tasks]);
        assert_eq!(
            all,
            "[{00000000-0000-0000-0000-000000000000}{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]\
             [{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}]\
             [{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]\
             [{B087BE9D-ED37-454F-AF9C-04291E351182}{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]"
        );
        assert_eq!(machine_extension_names(&[]), "");
    }

    #[test]
    fn guids_are_stable_and_distinct() {
        let a = guid("site", "file\nx.cmd");
        assert_eq!(a, guid("site", "file\nx.cmd"));
        assert_ne!(a, guid("site", "file\ny.cmd"));
        assert_ne!(a, guid("other", "file\nx.cmd"));
        assert!(a.starts_with('{') && a.ends_with('}') && a.len() == 38);
        assert_eq!(a, a.to_ascii_uppercase());
    }

    #[test]
    fn durations() {
        assert_eq!(iso_duration_secs("PT10M"), Some(600));
        assert_eq!(iso_duration_secs("PT1H30M"), Some(5400));
        assert_eq!(iso_duration_secs("P1D"), Some(86400));
        assert_eq!(iso_duration_secs("P1DT1S"), Some(86401));
        assert_eq!(iso_duration_secs("PT"), None);
        assert_eq!(iso_duration_secs("10M"), None);
        assert_eq!(iso_duration_secs("PT5X"), None);
    }

    #[test]
    fn accounts() {
        let mut p = Principal::system();
        assert_eq!(gpp_account(&p).unwrap(), Some("NT AUTHORITY\\System"));
        p.user_id = "S-1-5-20".into();
        assert_eq!(
            gpp_account(&p).unwrap(),
            Some("NT AUTHORITY\\NetworkService")
        );
        p.user_id = "CAMPUS\\svc-alias".into();
        p.logon_type = Some("S4U".into());
        assert_eq!(gpp_account(&p).unwrap(), None);
        p.logon_type = Some("Password".into());
        let e = gpp_account(&p).unwrap_err().to_string();
        assert!(e.contains("MS14-025"), "{e}");
    }
}
