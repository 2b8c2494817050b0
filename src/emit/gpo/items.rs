//! The GPO's preference items, built from the plan: a Files item per runtime script, a TaskV2
//! and/or legacy Task item per task, a Registry item per value, each targeted at its servers.

use std::collections::BTreeSet;

use serde::Serialize;

use super::guid;
use crate::model::Farm;
use crate::model::gpo::{Gpo, Preference};
use crate::plan::{Principal, RegData, RegValue, ServiceRecovery, TaskSpec, Trigger};

/// One runtime script the GPO copies.
#[derive(Debug, Clone)]
pub struct Script {
    /// File name under `scripts/`.
    pub file: String,
    /// Server names that need it (from the artifact); empty means every server.
    pub hosts: Vec<String>,
}

/// Item-level targeting of one item: an OS collection (any of `os`) and a computer collection
/// (any of `computers`), ANDed. An empty list means "no such condition".
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Targeting {
    pub os_label: String,
    pub os: Vec<&'static str>,
    pub computers: Vec<String>,
    /// "Apply once and do not reapply" ([MS-GPPREF] 2.2.1.22 FilterRunOnce: the id is stored on
    /// the machine when the filter processes, and the item is not applied again for that id).
    pub run_once: Option<String>,
}

impl Targeting {
    pub fn is_empty(&self) -> bool {
        self.os.is_empty() && self.computers.is_empty() && self.run_once.is_none()
    }
}

/// Servers a task or value reaches, per Windows release family.
fn computer_filter(site: &Farm, hosts: &[usize], family: impl Fn(usize) -> bool) -> Vec<String> {
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

/// A Services item that sets a service's recovery actions ([MS-GPPREF] 2.2.1.19: restart delay
/// in milliseconds and reset period in seconds, as GPMC writes them; startup type left alone).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceItem {
    pub name: String,
    pub uid: String,
    pub desc: String,
    /// `RESTART` for the failures that restart the service, in order (1-3 entries).
    pub failures: Vec<&'static str>,
    pub reset_after_seconds: u32,
    pub restart_delay_ms: u32,
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
pub struct GpoItems {
    pub files: Vec<FileItem>,
    pub legacy_tasks: Vec<LegacyTask>,
    pub v2_tasks: Vec<V2Task>,
    pub registry: Vec<RegItem>,
    pub services: Vec<ServiceItem>,
    pub manual: Vec<ManualTask>,
    /// Tasks with an event trigger that also target 2003 hosts (no legacy equivalent).
    pub event_only_v2: Vec<String>,
}

impl GpoItems {
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
        if !self.services.is_empty() {
            v.push(Preference::Services);
        }
        v
    }
}

const MS14_025: &str = "Group Policy Preferences would store its password as `cpassword`, whose AES key Microsoft published \
    ([MS-GPPREF] 2.2.1.1.4; MS14-025 removed GPP passwords for this reason)";

/// A principal that logs on with a stored password (a domain account without S4U).
fn needs_password(p: &Principal) -> bool {
    p.logon_type.as_deref().is_some_and(|l| {
        l.eq_ignore_ascii_case("Password") || l.eq_ignore_ascii_case("InteractiveTokenOrPassword")
    })
}

/// The GPP account for a principal: SYSTEM and the two service accounts run without a password.
/// `Ok(None)`: a principal GPP cannot carry safely (left to manual registration).
pub fn gpp_account(p: &Principal) -> Result<Option<&'static str>, crate::Error> {
    if needs_password(p) {
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
    crate::model::check_task_name(name).map_err(|e| {
        crate::Error::Internal(format!(
            "{e}; it cannot be written into Group Policy Preferences"
        ))
    })
}

/// Builds the GPO's items from the plan's runtime scripts, tasks and registry values.
pub fn build(
    site: &Farm,
    gpo: &Gpo,
    scripts: &[Script],
    specs: &[TaskSpec],
    values: &[RegValue],
    services: &[ServiceRecovery],
) -> Result<GpoItems, crate::Error> {
    let mut items = GpoItems::default();
    if gpo.includes(Preference::Files) {
        for s in scripts {
            items.files.push(file_item(site, s)?);
        }
    }
    if gpo.includes(Preference::Tasks) {
        for t in specs {
            add_task_items(site, t, &mut items)?;
        }
    }
    if gpo.includes(Preference::Registry) {
        for v in values {
            items.registry.push(registry_item(site, v)?);
        }
    }
    if gpo.includes(Preference::Services) {
        for r in services {
            items.services.push(service_item(site, r)?);
        }
    }
    check_unique_uids(&items)?;
    Ok(items)
}

/// The Files item that copies one script from the share.
fn file_item(site: &Farm, s: &Script) -> Result<FileItem, crate::Error> {
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
        (0..site.servers.len()).collect()
    } else {
        s.hosts
            .iter()
            .filter_map(|h| site.servers.iter().position(|s| &s.name == h))
            .collect()
    };
    Ok(FileItem {
        name: s.file.clone(),
        uid: guid(&site.name, &format!("file\n{}", s.file)),
        from: format!("{}\\{}", site.scripts_share, s.file),
        target: site.script_path(&s.file),
        filters: Targeting {
            os_label: String::new(),
            os: Vec::new(),
            computers: computer_filter(site, &hosts, |_| true),
            run_once: None,
        },
    })
}

/// A task's TaskV2 item (2008 hosts) and legacy item (2003 hosts), or why it is registered by hand.
fn add_task_items(site: &Farm, t: &TaskSpec, items: &mut GpoItems) -> Result<(), crate::Error> {
    check_task_name(&t.name)?;
    if needs_password(&t.principal) {
        // Registered by hand with `schtasks /RU … /RP *` (the family's runbook says so); never
        // put into Group Policy Preferences.
        items.manual.push(ManualTask {
            name: t.name.clone(),
            account: t.principal.user_id.clone(),
            hosts: site.server_names(&t.hosts),
            why: format!("its account needs a password; {MS14_025}"),
        });
        return Ok(());
    }
    let account = gpp_account(&t.principal)?;
    let (v2_hosts, legacy_hosts): (Vec<usize>, Vec<usize>) = t
        .hosts
        .iter()
        .partition(|&&h| site.server(h).os.has_task_scheduler2());
    let Some(account) = account else {
        items.manual.push(ManualTask {
            name: t.name.clone(),
            account: t.principal.user_id.clone(),
            hosts: site.server_names(&t.hosts),
            why: "its account is neither SYSTEM nor an NT AUTHORITY service account; Group Policy \
                  Preferences could only run it with a stored password"
                .into(),
        });
        return Ok(());
    };
    if !v2_hosts.is_empty() {
        items.v2_tasks.push(v2_task(site, t, account, &v2_hosts));
    }
    if legacy_hosts.is_empty() {
        return Ok(());
    }
    if account != "NT AUTHORITY\\System" {
        // Task Scheduler 1.0 runs password-less tasks only as SYSTEM.
        items.manual.push(ManualTask {
            name: t.name.clone(),
            account: account.to_string(),
            hosts: site.server_names(&legacy_hosts),
            why: "Task Scheduler 1.0 (Server 2003) runs a task without a password only as SYSTEM"
                .into(),
        });
        return Ok(());
    }
    match legacy_trigger(t)? {
        None => items.event_only_v2.push(t.name.clone()),
        Some(trigger) => items
            .legacy_tasks
            .push(legacy_task(site, t, trigger, &legacy_hosts)),
    }
    Ok(())
}

fn v2_task(site: &Farm, t: &TaskSpec, account: &'static str, hosts: &[usize]) -> V2Task {
    V2Task {
        name: t.name.clone(),
        uid: guid(&site.name, &format!("task-v2\n{}", t.name)),
        run_as: account,
        t: t.clone(),
        filters: Targeting {
            os_label: "Windows Server 2008 / 2008 R2".into(),
            os: vec!["2K8", "2K8R2"],
            computers: computer_filter(site, hosts, |i| site.servers[i].os.has_task_scheduler2()),
            run_once: None,
        },
    }
}

fn legacy_task(site: &Farm, t: &TaskSpec, trigger: LegacyTrigger, hosts: &[usize]) -> LegacyTask {
    LegacyTask {
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
            computers: computer_filter(site, hosts, |i| !site.servers[i].os.has_task_scheduler2()),
            run_once: None,
        },
    }
}

/// The Registry item that writes one value.
fn registry_item(site: &Farm, v: &RegValue) -> Result<RegItem, crate::Error> {
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
    Ok(RegItem {
        name: if v.name.is_empty() {
            "(Default)".into()
        } else {
            v.name.clone()
        },
        // One value can have an item per group of servers (the restart delay per release): the
        // servers are part of the identity.
        uid: guid(
            &site.name,
            &format!(
                "registry\nHKEY_LOCAL_MACHINE\\{key}\n{}\n{}",
                v.name,
                site.server_names(&v.hosts).join(",")
            ),
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
            // The id changes with the value, so a new initial value is written once more.
            run_once: v.apply_once.then(|| {
                guid(
                    &site.name,
                    &format!(
                        "run-once\nHKEY_LOCAL_MACHINE\\{key}\n{}\n{:?}",
                        v.name, v.data
                    ),
                )
            }),
        },
    })
}

/// Two items with one uid would be one item to GPMC: a duplicate identity is a bug upstream.
fn check_unique_uids(items: &GpoItems) -> Result<(), crate::Error> {
    let mut seen = BTreeSet::new();
    let uids = items
        .files
        .iter()
        .map(|f| &f.uid)
        .chain(items.legacy_tasks.iter().map(|t| &t.uid))
        .chain(items.v2_tasks.iter().map(|t| &t.uid))
        .chain(items.registry.iter().map(|r| &r.uid))
        .chain(items.services.iter().map(|r| &r.uid));
    for u in uids {
        if !seen.insert(u.clone()) {
            return Err(crate::Error::Internal(format!(
                "two Group Policy items share the identity behind uid {u} (a duplicate task, file or registry value)"
            )));
        }
    }
    Ok(())
}

/// The Services item that sets one service's recovery actions.
fn service_item(site: &Farm, r: &ServiceRecovery) -> Result<ServiceItem, crate::Error> {
    crate::model::check_plain_name(&r.service, 80, false, "service name").map_err(|e| {
        crate::Error::Internal(format!(
            "{e}; it cannot be written into Group Policy Preferences"
        ))
    })?;
    if !(1..=3).contains(&r.restarts) {
        return Err(crate::Error::Internal(format!(
            "service {}: {} restarts; the service controller has three failure actions",
            r.service, r.restarts
        )));
    }
    Ok(ServiceItem {
        name: r.service.clone(),
        uid: guid(&site.name, &format!("service\n{}", r.service)),
        desc: r.description.clone(),
        failures: vec!["RESTART"; r.restarts as usize],
        reset_after_seconds: r.reset_after_seconds,
        restart_delay_ms: r.restart_delay_ms,
        filters: Targeting {
            os_label: String::new(),
            os: Vec::new(),
            computers: computer_filter(site, &r.hosts, |_| true),
            run_once: None,
        },
    })
}
