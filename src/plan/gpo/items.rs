//! The GPO's preference items, built from the plan: a Files item per runtime script, a TaskV2
//! and/or legacy Task item per task, a Registry item per value, each targeted at its servers.

use std::collections::BTreeSet;

use serde::Serialize;
use uuid::Uuid;

use super::guid;
use crate::model::gpo::Tasks2008;
use crate::model::gpo::{Gpo, Preference};
use crate::model::schedule::{By, Schedule, Week};
use crate::model::{Farm, Zone};
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

/// Servers a task or value reaches, per Windows release family: always listed by name, even when
/// every server of that release gets the item, because the GPO's link OU may hold other machines of
/// the same release (issue 27: an OS filter alone put the farm's nightly tasks on them, with scripts
/// that never arrive). [MS-GPPREF] 2.2.1.22 FilterComputer, type NETBIOS: the item applies on a
/// computer whose name is one of these (the collection ORs them) and whose OS passes the OS filter.
fn computer_filter(site: &Farm, hosts: &[usize], family: impl Fn(usize) -> bool) -> Vec<String> {
    let mine: BTreeSet<usize> = hosts.iter().copied().filter(|&i| family(i)).collect();
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

/// A legacy (Task Scheduler 1.0) trigger with the attributes [MS-GPPREF] 2.2.1.18.1 defines for
/// its type: the start date and time in UTC, `interval` in days (DAILY) or weeks (WEEKLY), `days`
/// as a weekday mask (WEEKLY, MONTHLY with `week`: Sunday 1 … Saturday 64) or a day-of-month mask
/// (MONTHLY without `week`: day 1 = 1, day 2 = 2, day 3 = 4 …, as Task Scheduler 1.0's
/// MONTHLYDATE.rgfDays, "Bit 0 corresponds to the first of the month": the mstask.h reference,
/// m417z/windows-docs-scraper sdk-api/mstask/ns-mstask-monthlydate.md; no GPMC-written sample of a
/// legacy MONTHLY item was found to confirm the attribute), `months` as a 12-bit mask
/// (January 1 … December 2048), `week` FIRST … LAST.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LegacyTrigger {
    /// `DAILY`, `WEEKLY`, `MONTHLY` or `STARTUP`.
    pub kind: &'static str,
    pub hour: u32,
    pub minute: u32,
    pub year: u32,
    pub month: u32,
    pub day: u32,
    pub interval: Option<u32>,
    pub days: Option<u32>,
    pub months: Option<u32>,
    pub week: Option<&'static str>,
    /// Repetition within the day: (minutesInterval, minutesDuration).
    pub repeat_minutes: Option<(u32, u32)>,
}

impl LegacyTrigger {
    fn startup() -> LegacyTrigger {
        LegacyTrigger {
            kind: "STARTUP",
            hour: 0,
            minute: 0,
            year: 0,
            month: 0,
            day: 0,
            interval: None,
            days: None,
            months: None,
            week: None,
            repeat_minutes: None,
        }
    }
}

/// Every month: the 12-bit `months` mask.
const ALL_MONTHS: u32 = 0xFFF;

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
    /// One or more triggers ([MS-GPPREF] 2.2.1.18.1).
    pub triggers: Vec<LegacyTrigger>,
    /// The Task Scheduler 2.0 task this item registers with `schtasks /Create /XML` on 2008
    /// (`gpo.tasks_2008 = "schtasks-xml"`), or `None` for a 2003 task.
    pub registers: Option<String>,
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
    /// `C` (Create) for a value applied once, else `U` (Update).
    pub action: &'static str,
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

/// A Delete item ([MS-GPPREF] 2.2.1.18.1 and 2.2.1.17.1, action D: "remove a scheduled task",
/// "remove a registry value") for a task or value an older bundle put on these servers and this
/// one lacks (issue 27). The item carries only what identifies its target: the task's name, or
/// the value's key and name ("appName … applies only if the action selected is Create, Replace,
/// or Update", ibid.).
#[derive(Debug, Clone, Serialize)]
pub struct DeleteItem {
    /// The task name, or the value name (`(Default)` for the key's default value).
    pub name: String,
    pub uid: String,
    /// `task-v2` (2008 hosts), `task` (2003 hosts) or `registry`.
    pub kind: &'static str,
    pub key: String,
    pub value_name: String,
    pub is_default: bool,
    pub filters: Targeting,
}

/// Everything the GPO carries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GpoItems {
    pub files: Vec<FileItem>,
    pub legacy_tasks: Vec<LegacyTask>,
    pub v2_tasks: Vec<V2Task>,
    pub registry: Vec<RegItem>,
    pub services: Vec<ServiceItem>,
    /// Delete items for what an older bundle put on the servers and this one retires.
    pub deletes: Vec<DeleteItem>,
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
        let deletes = |kind: &str| self.deletes.iter().any(|d| d.kind.starts_with(kind));
        if !self.legacy_tasks.is_empty() || !self.v2_tasks.is_empty() || deletes("task") {
            v.push(Preference::Tasks);
        }
        if !self.registry.is_empty() || deletes("registry") {
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
        return Err(crate::Error::internal(format!(
            "a task for `{}` asks for a stored password; {MS14_025}",
            p.account.user_id()
        )));
    }
    Ok(p.account.gpp_name())
}

/// `YYYY-MM-DDTHH:MM:SS` (local) → the civil date and time.
fn parse_start(s: &str) -> Option<jiff::civil::DateTime> {
    s.parse::<jiff::civil::DateTime>().ok()
}

/// The UTC date and time of a local start ([MS-GPPREF] 2.2.1.18.1: `startHour` and `startMinutes`
/// "MUST be the UTC hour/minute"), converted with the zone's offset on the start date.
pub fn to_utc(local: jiff::civil::DateTime, zone: &Zone) -> Result<jiff::civil::DateTime, String> {
    let zoned = local
        .to_zoned(zone.tz.clone())
        .map_err(|e| format!("{local} in {}: {e}", zone.name))?;
    Ok(zoned.with_time_zone(jiff::tz::TimeZone::UTC).datetime())
}

/// The legacy (Task Scheduler 1.0) triggers of a trigger; `Ok(None)` for triggers 1.0 cannot express.
fn legacy_triggers(
    site: &Farm,
    trigger: &Trigger,
    name: &str,
) -> Result<Option<Vec<LegacyTrigger>>, crate::Error> {
    let bad = |what: &str| crate::Error::internal(format!("task {name}: {what}"));
    let local_start =
        |start: &str| parse_start(start).ok_or_else(|| bad("start is not YYYY-MM-DDTHH:MM:SS"));
    let utc = |local: jiff::civil::DateTime| {
        let zone = site
            .timezone
            .as_ref()
            .ok_or_else(|| bad("a legacy task needs site.timezone (resolve requires it)"))?;
        to_utc(local, zone).map_err(|e| bad(&e))
    };
    let at = |utc: jiff::civil::DateTime, kind: &'static str| LegacyTrigger {
        kind,
        hour: utc.hour() as u32,
        minute: utc.minute() as u32,
        year: utc.year() as u32,
        month: utc.month() as u32,
        day: utc.day() as u32,
        ..LegacyTrigger::startup()
    };
    match trigger {
        Trigger::Calendar(s) => {
            let local = local_start(&s.start_boundary)?;
            let u = utc(local)?;
            let shift = (u.date() - local.date()).get_days() as i64;
            calendar_trigger(&s.by, at(u, ""), shift)
                .map(|t| Some(vec![t]))
                .map_err(|e| bad(&e))
        }
        Trigger::Repeat { start, interval } => {
            let secs = interval.as_secs();
            if secs < 60 || secs % 60 != 0 || secs > 86_400 {
                return Err(bad(
                    "a legacy (2003) task repeats in whole minutes, from 1 minute to 1 day",
                ));
            }
            let local = local_start(start)?;
            let minute_of_day = local.hour() as i64 * 60 + local.minute() as i64;
            repeat_cover((secs / 60) as u32)
                .into_iter()
                .map(|(offset, repeat_minutes)| {
                    // The block's time of day from the start date (the day's blocks wrap at midnight).
                    let begin = local.date().at(0, 0, 0, 0)
                        + jiff::SignedDuration::from_mins((minute_of_day + offset as i64) % 1440);
                    let begin = utc(begin)?;
                    Ok(LegacyTrigger {
                        interval: Some(1),
                        repeat_minutes,
                        ..at(begin, "DAILY")
                    })
                })
                .collect::<Result<Vec<_>, crate::Error>>()
                .map(Some)
        }
        Trigger::Boot => Ok(Some(vec![LegacyTrigger::startup()])),
        // Task Scheduler 1.0 has no event triggers. On 2003 the maintenance family covers event 22
        // with eventtriggers.exe, re-armed by its own daily task, so an event task has no legacy item.
        Trigger::Event { .. } => Ok(None),
    }
}

/// A calendar schedule as one legacy trigger, from `start` (its UTC time and date). The trigger
/// is one description in UTC ([MS-GPPREF] 2.2.1.18.1: its hour and minute are UTC, and `days`
/// "MUST map to the day of the week in which the job will process"), so when the UTC start falls
/// `shift` days from the local one (−1 or +1) the weekdays and days of the month move with it:
/// Sunday 21:30 in New York is a WEEKLY trigger at 02:30 on Monday. A month's weekday of one week
/// cannot move (resolve refuses it: model::schedule::legacy_shift_problem).
fn calendar_trigger(by: &By, start: LegacyTrigger, shift: i64) -> Result<LegacyTrigger, String> {
    let weekday_mask = |days: &mut dyn Iterator<Item = u32>| -> u32 {
        days.map(|bit| {
            let from = bit.trailing_zeros() as i64;
            1u32 << (from + shift).rem_euclid(7)
        })
        .sum()
    };
    Ok(match by {
        By::Days { interval } => LegacyTrigger {
            kind: "DAILY",
            interval: Some(*interval),
            ..start
        },
        By::Weeks { days } => LegacyTrigger {
            kind: "WEEKLY",
            interval: Some(1),
            days: Some(weekday_mask(&mut days.iter().map(|d| d.bit()))),
            ..start
        },
        By::MonthDays { days } => {
            let moved: Vec<i64> = days.iter().map(|&d| d as i64 + shift).collect();
            if moved.iter().any(|d| !(1..=31).contains(d)) {
                return Err(format!(
                    "days {days:?} of the month moved by {shift} day(s) to UTC leave the month"
                ));
            }
            LegacyTrigger {
                kind: "MONTHLY",
                days: Some(moved.iter().map(|d| 1u32 << (d - 1)).sum()),
                months: Some(ALL_MONTHS),
                ..start
            }
        }
        By::MonthWeekday { week, day } => {
            if shift != 0 {
                return Err(format!(
                    "the {week:?} {day:?} of the month moved by {shift} day(s) to UTC is no fixed week"
                ));
            }
            LegacyTrigger {
                kind: "MONTHLY",
                days: Some(day.bit()),
                months: Some(ALL_MONTHS),
                week: Some(legacy_week(*week)),
                ..start
            }
        }
    })
}

/// The largest day interval a legacy (Task Scheduler 1.0) task item of Group Policy Preferences
/// can carry: its `interval` attribute is an unsignedByte in the ScheduledTasks schema of
/// [MS-GPPREF] 2.2.1.18.5 (tests/schemas/gpp-legacy-task.xsd keeps that type).
pub const LEGACY_ITEM_MAX_DAYS: u32 = 255;

/// A task the GPO cannot carry as the site describes it, located at the site-file key to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitFinding {
    pub path: String,
    pub message: String,
    pub help: String,
}

/// The legacy item limits over every task of the plan, whichever family made it: an every-N-days
/// task that the GPO would deliver as a legacy item (a host without Task Scheduler 2.0, the GPO
/// carrying scheduled tasks, an account GPP can carry) must fit the item's interval. Repetitions
/// longer than the item's 255-minute duration need no finding: [`repeat_cover`] splits them.
pub fn legacy_limits(site: &Farm, tasks: &[TaskSpec]) -> Vec<LimitFinding> {
    if !site.gpo_has(Preference::Tasks) {
        return Vec::new();
    }
    tasks
        .iter()
        .filter_map(|t| legacy_interval_finding(site, t).or_else(|| legacy_month_finding(site, t)))
        .collect()
}

/// The first server of a task that would get it as a legacy item of the GPO (no Task Scheduler
/// 2.0, an account GPP can carry).
fn legacy_host<'a>(site: &'a Farm, t: &TaskSpec) -> Option<&'a crate::model::Server> {
    if !matches!(gpp_account(&t.principal), Ok(Some(_))) {
        return None;
    }
    t.hosts
        .iter()
        .map(|&h| site.server(h))
        .find(|s| !s.os.has_task_scheduler2())
}

/// A monthly task whose UTC start falls on another day than the local one: its legacy item must
/// move the day with it (the item is one UTC description, [MS-GPPREF] 2.2.1.18.1), which a weekday
/// of one week and a day moved outside 1-28 cannot (`model::schedule::legacy_shift_problem`).
fn legacy_month_finding(site: &Farm, t: &TaskSpec) -> Option<LimitFinding> {
    let Trigger::Calendar(s) = &t.trigger else {
        return None;
    };
    let zone = site.timezone.as_ref()?;
    let server = legacy_host(site, t)?;
    let shift = crate::model::schedule::utc_day_shift(s.start, s.hour, s.minute, &zone.tz)?;
    let why = crate::model::schedule::legacy_shift_problem(&s.by, shift)?;
    Some(LimitFinding {
        path: format!("{}.monthly", t.origin),
        message: format!(
            "this monthly schedule at {:02}:{:02} ({}) cannot reach `{}` ({}) through the GPO: {why}",
            s.hour,
            s.minute,
            zone.name,
            server.name,
            server.os.label()
        ),
        help: "choose a time whose UTC equivalent falls on the same day, or days of the month that stay within 1-28 when moved by a day, or leave \"tasks\" out of gpo.include and create the task by hand on the servers without Task Scheduler 2.0".into(),
    })
}

fn legacy_interval_finding(site: &Farm, t: &TaskSpec) -> Option<LimitFinding> {
    let Trigger::Calendar(Schedule {
        by: By::Days { interval },
        ..
    }) = &t.trigger
    else {
        return None;
    };
    if *interval <= LEGACY_ITEM_MAX_DAYS {
        return None;
    }
    let server = legacy_host(site, t)?;
    Some(LimitFinding {
        path: format!("{}.every_days", t.origin),
        message: format!(
            "every_days = {interval} cannot reach `{}` ({}) through the GPO: its legacy task item holds at most {LEGACY_ITEM_MAX_DAYS} days",
            server.name,
            server.os.label()
        ),
        help: format!(
            "use `every_days` of at most {LEGACY_ITEM_MAX_DAYS}, a weekly (`days`) or monthly (`monthly`) schedule, or leave \"tasks\" out of gpo.include and create the task by hand on the servers without Task Scheduler 2.0"
        ),
    })
}

/// The longest repetition a legacy trigger may carry: [MS-GPPREF] 2.2.1.18.5 types
/// `minutesDuration` as `xs:unsignedByte`.
pub const MAX_LEGACY_DURATION: u32 = 255;

/// "Every `n` minutes, all day" as daily legacy triggers the schema can carry ([MS-GPPREF]
/// 2.2.1.18.1: "Each task can have one or more triggers"): one trigger per block of `d` minutes,
/// `d` the largest multiple of `n` up to 255, each repeating every `n` minutes for its block (the
/// last block ends at 24 hours). Returns (minutes after the start time, repetition); an interval
/// over 255 minutes gives one trigger per run, without repetition.
pub fn repeat_cover(n: u32) -> Vec<(u32, Option<(u32, u32)>)> {
    if n > MAX_LEGACY_DURATION {
        return (0..1440).step_by(n as usize).map(|o| (o, None)).collect();
    }
    let block = n * (MAX_LEGACY_DURATION / n);
    (0..1440)
        .step_by(block as usize)
        .map(|o| (o, Some((n, block.min(1440 - o)))))
        .collect()
}

/// The legacy `week` attribute: FIRST, SECOND, THIRD, FOURTH or LAST ([MS-GPPREF] 2.2.1.18.1).
fn legacy_week(w: Week) -> &'static str {
    match w {
        Week::First => "FIRST",
        Week::Second => "SECOND",
        Week::Third => "THIRD",
        Week::Fourth => "FOURTH",
        Week::Last => "LAST",
    }
}

/// Task names become Task Scheduler paths and GPP item names: the same safe set as everywhere.
fn check_task_name(name: &str) -> Result<(), crate::Error> {
    crate::model::check_task_name(name).map_err(|e| {
        crate::Error::internal(format!(
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
        return Err(crate::Error::internal(format!(
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
            account: t.principal.account.user_id().to_string(),
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
            account: t.principal.account.user_id().to_string(),
            hosts: site.server_names(&t.hosts),
            why: "its account is neither SYSTEM nor an NT AUTHORITY service account; Group Policy \
                  Preferences could only run it with a stored password"
                .into(),
        });
        return Ok(());
    };
    if !v2_hosts.is_empty() {
        match site.gpo.as_ref().map(|g| g.tasks_2008) {
            Some(Tasks2008::SchtasksXml) => {
                items.legacy_tasks.push(register_task(site, t, &v2_hosts)?)
            }
            _ => items.v2_tasks.push(v2_task(site, t, account, &v2_hosts)),
        }
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
    match legacy_triggers(site, &t.trigger, &t.name)? {
        None => items.event_only_v2.push(t.name.clone()),
        Some(triggers) => items
            .legacy_tasks
            .push(legacy_task(site, t, triggers, &legacy_hosts)),
    }
    Ok(())
}

/// When the `schtasks /Create /XML` items run on 2008: every day at midnight (server time), so a
/// changed task file is registered within a day of the GPO's refresh copying it.
pub const REGISTER_HOUR: u32 = 0;

/// Name of the legacy item that registers task `name` from its XML on 2008.
pub fn register_name(name: &str) -> String {
    format!("Register-{name}")
}

/// The original write-up's fallback for 2008 (`gpo.tasks_2008 = "schtasks-xml"`): a legacy task
/// that runs `schtasks /Create /RU … /TN NAME /XML <the copied task file> /F` every day, targeted
/// at the 2008 hosts. The Files items copy the task XML (`scripts/NAME.xml`) next to the scripts.
fn register_task(site: &Farm, t: &TaskSpec, hosts: &[usize]) -> Result<LegacyTask, crate::Error> {
    let name = register_name(&t.name);
    check_task_name(&name)?;
    let file = site.script_path(&format!("{}.xml", t.name));
    let quoted = crate::escape::win_arg(&file)
        .map_err(|e| crate::Error::internal(format!("task {}: {e}", t.name)))?;
    let trigger = Trigger::Calendar(Schedule::daily(REGISTER_HOUR, 0));
    let triggers = legacy_triggers(site, &trigger, &name)?
        .ok_or_else(|| crate::Error::internal(format!("task {name}: no legacy trigger")))?;
    Ok(LegacyTask {
        uid: guid(&site.name, &format!("task-register\n{}", t.name)),
        comment: format!(
            "Registers the task {} from its Task Scheduler 2.0 XML (sitebundle, site {}).",
            t.name, site.name
        ),
        app: r"%SystemRoot%\System32\schtasks.exe".into(),
        args: format!(
            "/Create /RU {} /TN {} /XML {quoted} /F",
            t.principal.schtasks_ru(),
            t.name
        ),
        start_in: String::new(),
        max_run_ms: Some(10 * 60 * 1000),
        triggers,
        registers: Some(t.name.clone()),
        filters: Targeting {
            computers: computer_filter(site, hosts, |i| site.servers[i].os.has_task_scheduler2()),
            run_once: None,
            ..v2_os(hosts.iter().map(|&h| site.server(h).os))
        },
        name,
    })
}

/// The OS collection of a Task Scheduler 2.0 item: 2008 and 2008 R2 as before, plus
/// `WINBLUESRV` when a host runs 2012 R2 and `WINTHRESHOLDSRV` when one runs 2016 or later
/// (`Os::gpp_version`), so that no host of a newer release is filtered out.
fn v2_os(releases: impl Iterator<Item = crate::model::Os>) -> Targeting {
    use crate::model::Os;
    let releases: Vec<Os> = releases.collect();
    let mut os_label = "Windows Server 2008 / 2008 R2".to_string();
    let mut os = vec!["2K8", "2K8R2"];
    if releases.contains(&Os::W2012R2) {
        os_label.push_str(" / 2012 R2");
        os.push(Os::W2012R2.gpp_version());
    }
    if releases.iter().any(|&r| r >= Os::W2016) {
        os_label.push_str(" / 2016 and later");
        os.push(Os::W2016.gpp_version());
    }
    Targeting {
        os_label,
        os,
        computers: Vec::new(),
        run_once: None,
    }
}

fn v2_task(site: &Farm, t: &TaskSpec, account: &'static str, hosts: &[usize]) -> V2Task {
    V2Task {
        name: t.name.clone(),
        uid: guid(&site.name, &format!("task-v2\n{}", t.name)),
        run_as: account,
        t: t.clone(),
        filters: Targeting {
            computers: computer_filter(site, hosts, |i| site.servers[i].os.has_task_scheduler2()),
            run_once: None,
            ..v2_os(hosts.iter().map(|&h| site.server(h).os))
        },
    }
}

fn legacy_task(
    site: &Farm,
    t: &TaskSpec,
    triggers: Vec<LegacyTrigger>,
    hosts: &[usize],
) -> LegacyTask {
    LegacyTask {
        name: t.name.clone(),
        uid: guid(&site.name, &format!("task-legacy\n{}", t.name)),
        comment: t.description.clone(),
        app: t.command.clone(),
        args: t.arguments.clone(),
        start_in: t.working_directory.clone(),
        max_run_ms: Some(t.execution_time_limit.as_secs())
            .filter(|&s| s > 0)
            .map(|s| s * 1000),
        triggers,
        registers: None,
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
        return Err(crate::Error::internal(format!(
            "registry value {:?} under {:?} cannot be written into Group Policy Preferences",
            v.name, v.key
        )));
    }
    let (reg_type, value, image) = match &v.data {
        RegData::Sz(s) => {
            if s.chars().any(|c| c.is_control()) {
                return Err(crate::Error::internal(format!(
                    "registry value {:?} has a control character",
                    v.name
                )));
            }
            ("REG_SZ", s.clone(), 7)
        }
        RegData::Dword(d) => ("REG_DWORD", format!("{d:08X}"), 12),
    };
    // A value applied once is created, never overwritten (Create, image one lower than Update's
    // three: GPMC's 5 string / 10 DWORD, as X-C3LL/GPOwned GPOwned.py writes a Create item):
    // [MS-GPPREF] 2.2.1.17.1 "Create: … create a new registry value", and "Create … only if it
    // does not already exist. If the setting exists and is set to something else, this preference
    // will then be ignored" (a Windows Server book's Group Policy Preferences chapter,
    // ebookreading.net/view/book/EB9781789347395_153.html). So even an id the
    // servers have not seen yet (the first build after the id derivation changed) cannot move an
    // alias the switcher owns.
    let (action, image) = if v.apply_once {
        ("C", image - 2)
    } else {
        ("U", image)
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
        action,
        filters: Targeting {
            os_label: String::new(),
            os: Vec::new(),
            computers: computer_filter(site, &v.hosts, |_| true),
            run_once: v.apply_once.then(|| run_once_id(key, &v.name)),
        },
    })
}

/// Delete items for `retiring` (host, kind, name) rows of an older bundle's inventory: one per
/// retired task and Windows release (TaskV2 for 2008 hosts, the legacy Task for 2003 hosts) and
/// one per retired registry value, each targeted by name at the servers that had it. A task on a
/// server that is no longer in the site cannot be given its release's item and is left to the
/// runbook's commands (`sitebundle diff`); a registry value has no release and is deleted there
/// too.
pub fn add_deletes(
    site: &Farm,
    gpo: &Gpo,
    retiring: &[crate::check::Retired],
    items: &mut GpoItems,
) -> Result<Vec<crate::check::Retired>, crate::Error> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(&'static str, String), Vec<String>> = BTreeMap::new();
    let mut done = Vec::new();
    for r in retiring {
        let idx = site
            .servers
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(&r.host));
        let kind = match (r.kind.as_str(), idx) {
            ("task", Some(i)) if gpo.includes(Preference::Tasks) => {
                if site.server(i).os.has_task_scheduler2() {
                    "task-v2"
                } else {
                    "task"
                }
            }
            ("registry", _) if gpo.includes(Preference::Registry) => "registry",
            _ => continue,
        };
        groups
            .entry((kind, r.name.clone()))
            .or_default()
            .push(r.host.clone());
        done.push(r.clone());
    }
    for ((kind, name), mut hosts) in groups {
        hosts.sort();
        hosts.dedup();
        items.deletes.push(delete_item(site, kind, &name, hosts)?);
    }
    check_unique_uids(items)?;
    Ok(done)
}

/// One Delete item ([MS-GPPREF] action D) for a retired task (`task-v2` on 2008, `task` on 2003)
/// or registry value (`registry`, `name` as `HKLM\\key\\value`), targeted at `hosts` by name.
fn delete_item(
    site: &Farm,
    kind: &'static str,
    name: &str,
    hosts: Vec<String>,
) -> Result<DeleteItem, crate::Error> {
    // A retired task's servers may have left the site: every Task Scheduler 2.0 release.
    let (os_label, os): (String, Vec<&'static str>) = match kind {
        "task-v2" => {
            let t = v2_os(crate::model::Os::ALL.into_iter());
            (t.os_label, t.os)
        }
        "task" => ("Windows Server 2003 / 2003 R2".into(), vec!["2K3", "2K3R2"]),
        _ => (String::new(), Vec::new()),
    };
    let (key, value_name) = if kind == "registry" {
        let path = name.strip_prefix("HKLM\\").unwrap_or(name);
        let (k, v) = path.rsplit_once('\\').ok_or_else(|| {
            crate::Error::internal(format!("retired registry value {name:?} has no key"))
        })?;
        (k.to_string(), v.to_string())
    } else {
        check_task_name(name)?;
        (String::new(), String::new())
    };
    if key
        .chars()
        .chain(value_name.chars())
        .any(|c| c.is_control())
    {
        return Err(crate::Error::internal(format!(
            "retired registry value {name:?} cannot be written into Group Policy Preferences"
        )));
    }
    Ok(DeleteItem {
        uid: guid(&site.name, &format!("delete\n{kind}\n{name}")),
        name: if kind == "registry" && value_name.is_empty() {
            "(Default)".into()
        } else if kind == "registry" {
            value_name.to_string()
        } else {
            name.to_string()
        },
        kind,
        is_default: kind == "registry" && value_name.is_empty(),
        key,
        value_name,
        filters: Targeting {
            os_label,
            os,
            computers: hosts,
            run_once: None,
        },
    })
}

/// The FilterRunOnce id of a value written once ([MS-GPPREF] 2.2.1.22: "a unique value that will
/// be stored on the machine when the filter processes"; the client skips an item whose id it has
/// stored). Derived from the value's identity alone (key and value name, case-folded as the
/// registry compares them), never from its data, the site's name or its servers: a rebuild with a
/// changed port, FQDN or site name keeps the id, so the servers that applied it never apply it
/// again and the alias stays where the switcher put it (issue 27: the id derived from the data
/// went `{6B485500…}` → `{C24570DD…}` when a partner's port went 1433 → 1434, and the next
/// refresh wrote partner 1 whichever partner was principal).
pub fn run_once_id(key: &str, name: &str) -> String {
    let ns = Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        b"https://sitebundle.invalid/gpo/run-once",
    );
    let identity =
        format!("HKEY_LOCAL_MACHINE\\{}\n{}", key.trim_matches('\\'), name).to_lowercase();
    let id = Uuid::new_v5(&ns, identity.as_bytes());
    format!("{{{}}}", id.to_string().to_ascii_uppercase())
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
        .chain(items.services.iter().map(|r| &r.uid))
        .chain(items.deletes.iter().map(|d| &d.uid));
    for u in uids {
        if !seen.insert(u.clone()) {
            return Err(crate::Error::internal(format!(
                "two Group Policy items share the identity behind uid {u} (a duplicate task, file or registry value)"
            )));
        }
    }
    Ok(())
}

/// The Services item that sets one service's recovery actions.
fn service_item(site: &Farm, r: &ServiceRecovery) -> Result<ServiceItem, crate::Error> {
    crate::model::check_plain_name(&r.service, 80, false, "service name").map_err(|e| {
        crate::Error::internal(format!(
            "{e}; it cannot be written into Group Policy Preferences"
        ))
    })?;
    if !(1..=3).contains(&r.restarts) {
        return Err(crate::Error::internal(format!(
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
