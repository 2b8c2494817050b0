//! The Group Policy object of the site, as a GPO backup that `Import-GPO` (or GPMC's "Import
//! Settings") brings into the domain. It carries Group Policy Preferences:
//!
//! * `Files.xml`: every runtime script of the bundle (`scripts/…`, whichever family made it) from
//!   `site.scripts_share` to `site.scripts_dir`;
//! * `ScheduledTasks.xml`: for every [`TaskSpec`] a legacy `Task` (Task Scheduler 1.0) targeted at
//!   Server 2003 / 2003 R2 and a `TaskV2` targeted at 2008 / 2008 R2, each narrowed to the task's
//!   hosts by computer name when not every server of that release runs it;
//! * `Registry.xml`: every [`RegValue`].
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

use std::collections::BTreeSet;

use serde::Serialize;
use uuid::Uuid;

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;
use crate::model::gpo::{Gpo, Preference};
use crate::registry::{RegData, RegValue};
use crate::tasks::{Principal, TaskSpec, Trigger};

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
    }
}

/// Folder and file of a preference inside `…\Machine\Preferences\`.
pub fn preference_file(p: Preference) -> (&'static str, &'static str) {
    match p {
        Preference::Files => ("Files", "Files.xml"),
        Preference::Tasks => ("ScheduledTasks", "ScheduledTasks.xml"),
        Preference::Registry => ("Registry", "Registry.xml"),
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
pub fn gpo_id(site: &Site, gpo: &Gpo) -> String {
    guid(&site.name, &format!("gpo-id\n{}", gpo.name))
}

/// The backup ID: the backup's folder name and the value of `Import-GPO -BackupId`.
pub fn backup_id(site: &Site, gpo: &Gpo) -> String {
    guid(&site.name, &format!("gpo-backup\n{}", gpo.name))
}

/// Bundle folder of the backup: `gpo/{BackupId}`.
pub fn backup_dir(site: &Site, gpo: &Gpo) -> String {
    format!("gpo/{}", backup_id(site, gpo))
}

/// One runtime script the GPO copies.
#[derive(Debug, Clone)]
pub struct Script {
    /// File name under `scripts/`.
    pub file: String,
    /// Server names that need it (from the artifact); empty means every server.
    pub hosts: Vec<String>,
}

/// The runtime scripts present in a bundle: every file directly under `scripts/`.
pub fn scripts_in(bundle: &Bundle) -> Vec<Script> {
    bundle
        .files
        .iter()
        .filter_map(|(path, art)| {
            let file = path.strip_prefix("scripts/")?;
            (!file.contains('/')).then(|| Script {
                file: file.to_string(),
                hosts: art.hosts.clone(),
            })
        })
        .collect()
}

/// Item-level targeting of one item: an OS collection (any of `os`) and a computer collection
/// (any of `computers`), ANDed. An empty list means "no such condition".
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Targeting {
    pub os_label: String,
    pub os: Vec<&'static str>,
    pub computers: Vec<String>,
}

impl Targeting {
    pub fn is_empty(&self) -> bool {
        self.os.is_empty() && self.computers.is_empty()
    }
}

/// Servers a task or value reaches, per Windows release family.
fn computer_filter(site: &Site, hosts: &[usize], family: impl Fn(usize) -> bool) -> Vec<String> {
    let in_family: Vec<usize> = (0..site.servers.len()).filter(|&i| family(i)).collect();
    let mine: BTreeSet<usize> = hosts.iter().copied().filter(|&i| family(i)).collect();
    if mine.len() == in_family.len() {
        return Vec::new();
    }
    let mut names: Vec<String> = mine.iter().map(|&i| site.servers[i].name.clone()).collect();
    names.sort();
    names
}

#[derive(Debug, Clone, Serialize)]
pub struct FileItem {
    pub name: String,
    pub uid: String,
    pub from: String,
    pub target: String,
    pub filters: Targeting,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegacyTrigger {
    /// `DAILY` or `STARTUP`.
    pub kind: &'static str,
    pub hour: u32,
    pub minute: u32,
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub interval: u32,
    /// Repetition within the day: (minutesInterval, minutesDuration).
    pub repeat_minutes: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegacyTask {
    pub name: String,
    pub uid: String,
    pub comment: String,
    pub app: String,
    pub args: String,
    pub start_in: String,
    /// Task Scheduler 1.0 MaxRunTime, in milliseconds (ITask::SetMaxRunTime).
    pub max_run_ms: Option<u64>,
    pub trigger: LegacyTrigger,
    pub filters: Targeting,
}

#[derive(Debug, Clone, Serialize)]
pub struct V2Task {
    pub name: String,
    pub uid: String,
    pub run_as: &'static str,
    pub t: TaskSpec,
    pub filters: Targeting,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegItem {
    pub name: String,
    pub uid: String,
    pub desc: String,
    pub key: String,
    pub value_name: String,
    pub is_default: bool,
    pub reg_type: &'static str,
    pub value: String,
    pub image: u32,
    pub filters: Targeting,
}

/// A task that cannot go into Group Policy (its account is not SYSTEM or a service account), with
/// the hosts that must register it by hand.
#[derive(Debug, Clone, Serialize)]
pub struct ManualTask {
    pub name: String,
    pub account: String,
    pub hosts: Vec<String>,
    pub why: String,
}

/// Everything the GPO carries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub files: Vec<FileItem>,
    pub legacy_tasks: Vec<LegacyTask>,
    pub v2_tasks: Vec<V2Task>,
    pub registry: Vec<RegItem>,
    pub manual: Vec<ManualTask>,
    /// Tasks with an event trigger that also target 2003 hosts (no legacy equivalent).
    pub event_only_v2: Vec<String>,
}

impl Plan {
    /// Preference kinds that have at least one item, sorted.
    pub fn present(&self) -> Vec<Preference> {
        let mut v = Vec::new();
        if !self.files.is_empty() {
            v.push(Preference::Files);
        }
        if !self.legacy_tasks.is_empty() || !self.v2_tasks.is_empty() {
            v.push(Preference::Tasks);
        }
        if !self.registry.is_empty() {
            v.push(Preference::Registry);
        }
        v
    }
}

const MS14_025: &str = "Group Policy Preferences would store its password as `cpassword`, whose AES key Microsoft published \
    ([MS-GPPREF] 2.2.1.1.4; MS14-025 removed GPP passwords for this reason)";

/// The GPP account for a principal: SYSTEM and the two service accounts run without a password.
/// `Ok(None)`: a principal GPP cannot carry safely (left to manual registration).
pub fn gpp_account(p: &Principal) -> Result<Option<&'static str>, crate::Error> {
    if p.logon_type.as_deref().is_some_and(|l| {
        l.eq_ignore_ascii_case("Password") || l.eq_ignore_ascii_case("InteractiveTokenOrPassword")
    }) {
        return Err(crate::Error::Internal(format!(
            "a task for `{}` asks for a stored password; {MS14_025}",
            p.user_id
        )));
    }
    let id = p.user_id.to_ascii_lowercase();
    Ok(match id.as_str() {
        "s-1-5-18" | "system" | "nt authority\\system" => Some("NT AUTHORITY\\System"),
        "s-1-5-19"
        | "localservice"
        | "local service"
        | "nt authority\\localservice"
        | "nt authority\\local service" => Some("NT AUTHORITY\\LocalService"),
        "s-1-5-20"
        | "networkservice"
        | "network service"
        | "nt authority\\networkservice"
        | "nt authority\\network service" => Some("NT AUTHORITY\\NetworkService"),
        _ => None,
    })
}

/// Seconds of a simple ISO 8601 duration (`P1D`, `PT10M`, `PT1H30M`, `PT45S`).
pub fn iso_duration_secs(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0u64;
    let mut parse = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let mul = units.iter().find(|(u, _)| *u == c)?.1;
                total = total.checked_add(num.parse::<u64>().ok()?.checked_mul(mul)?)?;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    parse(date, &[('D', 86_400), ('W', 604_800)])?;
    if let Some(t) = time {
        if t.is_empty() {
            return None;
        }
        parse(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

/// `YYYY-MM-DDTHH:MM:SS` → (year, month, day, hour, minute).
fn split_start(s: &str) -> Option<(u32, u32, u32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    Some((n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?))
}

/// The legacy (Task Scheduler 1.0) trigger of a spec; `Ok(None)` for triggers 1.0 cannot express.
fn legacy_trigger(t: &TaskSpec) -> Result<Option<LegacyTrigger>, crate::Error> {
    let bad = |what: &str| crate::Error::Internal(format!("task {}: {what}", t.name));
    // A daily trigger at the start time, every `interval` days, optionally repeated within the day.
    let daily = |start: &str, interval: u32, repeat_minutes: Option<(u32, u32)>| {
        let (year, month, day, hour, minute) =
            split_start(start).ok_or_else(|| bad("start is not YYYY-MM-DDTHH:MM:SS"))?;
        Ok(Some(LegacyTrigger {
            kind: "DAILY",
            hour,
            minute,
            year,
            month,
            day,
            interval,
            repeat_minutes,
        }))
    };
    match &t.trigger {
        Trigger::Daily {
            start,
            days_interval,
        } => daily(start, *days_interval, None),
        Trigger::Repeat { start, interval } => {
            let secs = iso_duration_secs(interval)
                .ok_or_else(|| bad("the repetition interval is not an ISO 8601 duration"))?;
            if secs < 60 || secs % 60 != 0 || secs > 86_400 {
                return Err(bad(
                    "a legacy (2003) task repeats in whole minutes, from 1 minute to 1 day",
                ));
            }
            // Every day, repeated every N minutes for the whole day: "indefinitely" in 1.0 terms.
            daily(start, 1, Some(((secs / 60) as u32, 1440)))
        }
        Trigger::Boot => Ok(Some(LegacyTrigger {
            kind: "STARTUP",
            hour: 0,
            minute: 0,
            year: 0,
            month: 0,
            day: 0,
            interval: 0,
            repeat_minutes: None,
        })),
        // Task Scheduler 1.0 has no event triggers. On 2003 the maintenance family covers event 22
        // with eventtriggers.exe, re-armed by its own daily task, so an event task has no legacy item.
        Trigger::Event { .. } => Ok(None),
    }
}

/// Task names become Task Scheduler paths and GPP item names: the same safe set as everywhere.
fn check_task_name(name: &str) -> Result<(), crate::Error> {
    crate::model::kill::check_task_name(name).map_err(|e| {
        crate::Error::Internal(format!(
            "{e}; it cannot be written into Group Policy Preferences"
        ))
    })
}

/// Builds the GPO's items from the site's scripts, tasks and registry values.
pub fn plan(
    site: &Site,
    gpo: &Gpo,
    scripts: &[Script],
    specs: &[TaskSpec],
    values: &[RegValue],
) -> Result<Plan, crate::Error> {
    let mut plan = Plan::default();
    let all_idx: Vec<usize> = (0..site.servers.len()).collect();
    let idx_of = |name: &str| site.servers.iter().position(|s| s.name == name);

    if gpo.includes(Preference::Files) {
        for s in scripts {
            if s.file.is_empty()
                || !s
                    .file
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(crate::Error::Internal(format!(
                    "script name {:?} cannot be copied by Group Policy",
                    s.file
                )));
            }
            let hosts: Vec<usize> = if s.hosts.is_empty() {
                all_idx.clone()
            } else {
                s.hosts.iter().filter_map(|h| idx_of(h)).collect()
            };
            plan.files.push(FileItem {
                name: s.file.clone(),
                uid: guid(&site.name, &format!("file\n{}", s.file)),
                from: format!("{}\\{}", site.scripts_share, s.file),
                target: site.script_path(&s.file),
                filters: Targeting {
                    os_label: String::new(),
                    os: Vec::new(),
                    computers: computer_filter(site, &hosts, |_| true),
                },
            });
        }
    }

    if gpo.includes(Preference::Tasks) {
        for t in specs {
            check_task_name(&t.name)?;
            let account = gpp_account(&t.principal)?;
            let legacy_hosts: Vec<usize> = t
                .hosts
                .iter()
                .copied()
                .filter(|&h| !site.server(h).os.has_task_scheduler2())
                .collect();
            let v2_hosts: Vec<usize> = t
                .hosts
                .iter()
                .copied()
                .filter(|&h| site.server(h).os.has_task_scheduler2())
                .collect();
            let Some(account) = account else {
                plan.manual.push(ManualTask {
                    name: t.name.clone(),
                    account: t.principal.user_id.clone(),
                    hosts: site.server_names(&t.hosts),
                    why: "its account is neither SYSTEM nor an NT AUTHORITY service account; Group Policy \
                          Preferences could only run it with a stored password"
                        .into(),
                });
                continue;
            };
            if !v2_hosts.is_empty() {
                plan.v2_tasks.push(V2Task {
                    name: t.name.clone(),
                    uid: guid(&site.name, &format!("task-v2\n{}", t.name)),
                    run_as: account,
                    t: t.clone(),
                    filters: Targeting {
                        os_label: "Windows Server 2008 / 2008 R2".into(),
                        os: vec!["2K8", "2K8R2"],
                        computers: computer_filter(site, &v2_hosts, |i| {
                            site.servers[i].os.has_task_scheduler2()
                        }),
                    },
                });
            }
            if legacy_hosts.is_empty() {
                continue;
            }
            if account != "NT AUTHORITY\\System" {
                // Task Scheduler 1.0 runs password-less tasks only as SYSTEM.
                plan.manual.push(ManualTask {
                    name: t.name.clone(),
                    account: account.to_string(),
                    hosts: site.server_names(&legacy_hosts),
                    why: "Task Scheduler 1.0 (Server 2003) runs a task without a password only as SYSTEM".into(),
                });
                continue;
            }
            match legacy_trigger(t)? {
                None => plan.event_only_v2.push(t.name.clone()),
                Some(trigger) => plan.legacy_tasks.push(LegacyTask {
                    name: t.name.clone(),
                    uid: guid(&site.name, &format!("task-legacy\n{}", t.name)),
                    comment: t.description.clone(),
                    app: t.command.clone(),
                    args: t.arguments.clone(),
                    start_in: t.working_directory.clone(),
                    max_run_ms: iso_duration_secs(&t.execution_time_limit)
                        .filter(|&s| s > 0)
                        .map(|s| s * 1000),
                    trigger,
                    filters: Targeting {
                        os_label: "Windows Server 2003 / 2003 R2".into(),
                        os: vec!["2K3", "2K3R2"],
                        computers: computer_filter(site, &legacy_hosts, |i| {
                            !site.servers[i].os.has_task_scheduler2()
                        }),
                    },
                }),
            }
        }
    }

    if gpo.includes(Preference::Registry) {
        for v in values {
            let key = v.key.trim_matches('\\');
            if key.is_empty()
                || key.contains("\\\\")
                || v.key.chars().chain(v.name.chars()).any(|c| c.is_control())
            {
                return Err(crate::Error::Internal(format!(
                    "registry value {:?} under {:?} cannot be written into Group Policy Preferences",
                    v.name, v.key
                )));
            }
            let (reg_type, value, image) = match &v.data {
                RegData::Sz(s) => {
                    if s.chars().any(|c| c.is_control()) {
                        return Err(crate::Error::Internal(format!(
                            "registry value {:?} has a control character",
                            v.name
                        )));
                    }
                    ("REG_SZ", s.clone(), 7)
                }
                RegData::Dword(d) => ("REG_DWORD", format!("{d:08X}"), 12),
            };
            plan.registry.push(RegItem {
                name: if v.name.is_empty() {
                    "(Default)".into()
                } else {
                    v.name.clone()
                },
                uid: guid(
                    &site.name,
                    &format!("registry\nHKEY_LOCAL_MACHINE\\{key}\n{}", v.name),
                ),
                desc: v.description.clone(),
                key: key.to_string(),
                value_name: v.name.clone(),
                is_default: v.name.is_empty(),
                reg_type,
                value,
                image,
                filters: Targeting {
                    os_label: String::new(),
                    os: Vec::new(),
                    computers: computer_filter(site, &v.hosts, |_| true),
                },
            });
        }
    }
    // Two items with one uid would be one item to GPMC: a duplicate identity is a bug upstream.
    let mut seen = BTreeSet::new();
    let uids = plan
        .files
        .iter()
        .map(|f| &f.uid)
        .chain(plan.legacy_tasks.iter().map(|t| &t.uid))
        .chain(plan.v2_tasks.iter().map(|t| &t.uid))
        .chain(plan.registry.iter().map(|r| &r.uid));
    for u in uids {
        if !seen.insert(u.clone()) {
            return Err(crate::Error::Internal(format!(
                "two Group Policy items share the identity behind uid {u} (a duplicate task, file or registry value)"
            )));
        }
    }
    Ok(plan)
}

#[derive(Serialize)]
struct PrefCtx<'a> {
    changed: &'a str,
    plan: &'a Plan,
}

#[derive(Serialize)]
struct BackupFile {
    /// Path below `Machine\` with backslashes, e.g. `Preferences\Files\Files.xml`.
    path: String,
    is_dir: bool,
}

#[derive(Serialize)]
struct BackupCtx<'a> {
    gpo_id: String,
    backup_id: String,
    domain_guid: String,
    name: &'a str,
    domain: &'a str,
    extensions: String,
    entries: Vec<BackupFile>,
    backup_time: String,
    /// GPMC's version number: (sysvol version << 16) | directory version.
    version: u32,
    comment: String,
}

/// Adds the items of `plan` to the bundle as an importable GPO backup.
pub fn add_backup(
    site: &Site,
    gpo: &Gpo,
    plan: &Plan,
    bundle: &mut Bundle,
) -> Result<(), crate::Error> {
    let dir = backup_dir(site, gpo);
    let present = plan.present();
    let ctx = PrefCtx {
        changed: &site.changed,
        plan,
    };
    // The backup is deployed to the domain (through any machine with GPMC), not to the servers.
    let hosts = vec![format!("domain {}", gpo.domain)];
    let import = format!(
        "Import-GPO -BackupId '{}' -Path <bundle>\\gpo -TargetName '{}' -CreateIfNeeded",
        backup_id(site, gpo),
        gpo.name.replace('\'', "''")
    );
    let mut entries = vec![BackupFile {
        path: "Preferences".into(),
        is_dir: true,
    }];
    for &p in &present {
        let (folder, file) = preference_file(p);
        let template = format!("gpo/{file}");
        let xml = crate::render::render(&template, &ctx)?;
        bundle.add(
            format!("{dir}/DomainSysvol/GPO/Machine/Preferences/{folder}/{file}"),
            Artifact::text("gpp-xml", Encoding::Utf8, Eol::Crlf, &xml)
                .hosts(hosts.clone())
                .deploy(import.clone()),
        )?;
        entries.push(BackupFile {
            path: format!("Preferences\\{folder}"),
            is_dir: true,
        });
        entries.push(BackupFile {
            path: format!("Preferences\\{folder}\\{file}"),
            is_dir: false,
        });
    }
    let bctx = BackupCtx {
        gpo_id: gpo_id(site, gpo),
        backup_id: backup_id(site, gpo),
        domain_guid: guid(&site.name, &format!("domain\n{}", gpo.domain)).to_ascii_lowercase(),
        name: &gpo.name,
        domain: &gpo.domain,
        extensions: machine_extension_names(&present),
        entries,
        backup_time: site.changed.replacen(' ', "T", 1),
        version: (1 << 16) | 1,
        comment: format!("Generated by sitebundle from site {}", site.name),
    };
    for (file, kind) in [("Backup.xml", "gpo-backup"), ("bkupInfo.xml", "gpo-backup")] {
        let xml = crate::render::render(&format!("gpo/{file}"), &bctx)?;
        bundle.add(
            format!("{dir}/{file}"),
            Artifact::text(kind, Encoding::Utf8, Eol::Crlf, &xml)
                .hosts(hosts.clone())
                .deploy(import.clone()),
        )?;
    }
    Ok(())
}

/// Renders the GPO backup. Runs after every family that adds scripts to the bundle.
pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let Some(gpo) = &site.gpo else {
        return Ok(());
    };
    let plan = plan(
        site,
        gpo,
        &scripts_in(bundle),
        &crate::tasks::all_specs(site),
        &crate::registry::all_values(site),
    )?;
    add_backup(site, gpo, &plan, bundle)
}

#[derive(Serialize)]
struct ItemRow {
    kind: &'static str,
    name: String,
    target: String,
}

#[derive(Serialize)]
struct RunbookCtx<'a> {
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
    task_names: Vec<String>,
    reg_keys: Vec<(String, String)>,
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
pub fn runbook(site: &Site) -> Result<Option<String>, crate::Error> {
    let Some(gpo) = &site.gpo else {
        return Ok(None);
    };
    // Scripts are known only once the bundle is built; the runbook names them as a group.
    let plan = plan(
        site,
        gpo,
        &[],
        &crate::tasks::all_specs(site),
        &crate::registry::all_values(site),
    )?;
    let mut rows = Vec::new();
    for t in &plan.legacy_tasks {
        rows.push(ItemRow {
            kind: "legacy task (2003)",
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
    for r in &plan.registry {
        rows.push(ItemRow {
            kind: "registry value",
            name: format!("HKLM\\{}\\{}", r.key, r.name),
            target: describe_targeting(&r.filters),
        });
    }
    let mut task_names: Vec<String> = plan
        .v2_tasks
        .iter()
        .map(|t| t.name.clone())
        .chain(plan.legacy_tasks.iter().map(|t| t.name.clone()))
        .collect();
    task_names.sort();
    task_names.dedup();
    let ctx = RunbookCtx {
        name: &gpo.name,
        domain: &gpo.domain,
        backup_id: backup_id(site, gpo),
        link_ou: gpo.link_ou.as_deref(),
        scripts_share: &site.scripts_share,
        scripts_dir: &site.scripts_dir,
        files: gpo.includes(Preference::Files),
        rows,
        has_legacy: !plan.legacy_tasks.is_empty(),
        manual: plan.manual.clone(),
        event_only_v2: plan.event_only_v2.clone(),
        task_names,
        reg_keys: plan
            .registry
            .iter()
            .map(|r| (r.key.clone(), r.value_name.clone()))
            .collect(),
    };
    // Sections are joined with one blank line by the README template.
    crate::render::render("docs/gpo.md", &ctx).map(|s| Some(s.trim_end().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
