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
mod runbook;

use crate::model::Farm;
use crate::model::gpo::{Gpo, Preference};
pub use crate::plan::gpo::items::{self, GpoItems, Script};
pub use crate::plan::gpo::{guid, runtime_scripts};
use crate::plan::{Emitted, Plan};
pub use backup::add as add_backup;

/// The GPO backup, its runbook section, checklist step and prerequisite, when the site has a
/// `[gpo]` section (its items were computed with the plan: `plan::gpo`).
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let mut out = Emitted::default();
    let (Some(gpo), Some(g)) = (&site.gpo, &plan.gpo) else {
        return Ok(out);
    };
    add_backup(site, gpo, &g.items, &mut out.files)?;
    runbook::add(site, gpo, &g.items, &mut out.runbook)?;
    Ok(out)
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
    use crate::plan::gpo::items::gpp_account;
    use crate::plan::{Account, Principal};

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
    fn accounts() {
        let mut p = Principal::system();
        assert_eq!(gpp_account(&p).unwrap(), Some("NT AUTHORITY\\System"));
        p.account = Account::NetworkService;
        assert_eq!(
            gpp_account(&p).unwrap(),
            Some("NT AUTHORITY\\NetworkService")
        );
        p.account = Account::Named("CAMPUS\\svc-alias".into());
        p.logon_type = Some("S4U".into());
        assert_eq!(gpp_account(&p).unwrap(), None);
        p.logon_type = Some("Password".into());
        let e = gpp_account(&p).unwrap_err().to_string();
        assert!(e.contains("MS14-025"), "{e}");
    }
}
