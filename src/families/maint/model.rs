//! `[maintenance]`: SCOM maintenance mode when Windows Update announces a restart (docs/background.md:
//! "Automatic Maintenance Mode after Windows Update").
//!
//! Windows Update logs event 22 in the System log ("restart required, within N minutes"). On
//! 2008/2008 R2 a task with an event trigger runs `MaintMode.vbs ON <duration>`; on 2003/2003 R2 a
//! daily legacy task runs `WUTriggerMaintMode.vbs`, which (re)creates an `eventtriggers.exe`
//! trigger doing the same. MaintMode.vbs writes the Application-log event the SCOM
//! maintenance-mode management pack reacts to. The Windows Update policy makes the restart wait
//! `reboot_delay_minutes`, so the management server has time to start maintenance mode.

use std::collections::{HashMap, HashSet};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::{Ctx, Names, Os, Server, parse_hhmm};

/// Shortest maintenance window SCOM accepts (minutes).
pub const MIN_DURATION: u32 = 5;
/// Longest maintenance window MaintMode.vbs accepts (minutes): one day.
pub const MAX_DURATION: u32 = 1440;

/// Minutes Automatic Updates waits before a scheduled restart when "Delay Restart for scheduled
/// installations" is not configured.
/// - 2008/2008 R2: 15. The policy's explanation text in the Windows Update ADMX: "If the status
///   is set to Disabled or Not Configured, the default wait time is 15 minutes" (admx.help /
///   policypicker.app "Delay Restart for scheduled installations", RebootWarningTimeout_Title).
/// - 2003/2003 R2: 5. The Automatic Updates client of that era restarts "in 5 minutes" (the
///   wuau.adm text of "No auto-restart with logged on users for scheduled automatic updates
///   installations", SUPPORTED_Win2kSP3_Or_XPSP1: "Automatic Updates will notify the user that the
///   computer will automatically restart in 5 minutes"; TechNet cc708449, "Configure Automatic
///   Updates in a Non-Active Directory Environment": RebootWarningTimeout, default 5 when disabled).
pub fn os_default_delay(os: Os) -> u32 {
    match os {
        Os::W2003 | Os::W2003R2 => 5,
        // 2012 R2 keeps the policy's 15-minute default. From 2016 on the Update Orchestrator
        // restarts and the policy may not apply (docs/modern-targets.md section 4): 15 is what
        // the windows stay sized for there.
        _ => 15,
    }
}

/// Minutes allowed for the restart itself (shutdown, boot, services up) inside the window.
pub const RESTART_MINUTES: u32 = 10;

/// Maintenance mode after Windows Update.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    /// Length of the maintenance window in minutes (5-1440). Default 20 (the original write-up's `ON 20M`).
    #[serde(default = "default_duration")]
    pub duration_minutes: u32,
    /// How long Windows Update waits before it restarts the server, in minutes (1-30): the policy
    /// "Delay Restart for scheduled installations" (values `RebootWarningTimeoutEnabled`/
    /// `RebootWarningTimeout`). SCOM must start maintenance mode within this time. A value is never
    /// written below the release's own default (5 minutes on 2003/2003 R2, 15 on 2008/2008 R2):
    /// there the default is written instead, with a warning. Default: each release's default.
    #[serde(default)]
    pub reboot_delay_minutes: Option<u32>,
    /// Servers that get maintenance mode (names from `[[server]]`). Default: every server.
    #[serde(default)]
    pub servers: Option<Vec<String>>,
    /// Servers to leave out (e.g. ones SCOM does not monitor).
    #[serde(default)]
    pub skip: Vec<String>,
    /// Name of the scheduled task on 2008/2008 R2 (`schtasks /TN`); the 2003 refresh task is this
    /// name followed by `-Refresh`. Default "WUTriggerMaintMode" (the original write-up's name).
    #[serde(default = "default_task_name")]
    pub task_name: String,
    /// Name of the eventtriggers.exe trigger on 2003/2003 R2. WUTriggerMaintMode.vbs deletes every
    /// trigger with exactly this name before it creates the current one. Default
    /// "Windows Update - Reboot Impending" (the original write-up's name).
    #[serde(default = "default_trigger_name")]
    pub trigger_name: String,
    /// Only on 2003: also filter the event trigger on this System-log source (`eventtriggers /so`).
    /// Unset by default: the trigger then fires on every System-log event 22, because the Windows
    /// Update client's source name differs between versions ("Windows Update Agent" for WUA 3.x,
    /// "Automatic Updates" for older clients). Set it once you have seen event 22 on your servers.
    #[serde(default)]
    pub legacy_event_source: Option<String>,
    /// Time of day (24-hour "HH:MM", server local time) the 2003 refresh task re-creates the event
    /// trigger. Default "04:00".
    #[serde(default = "default_refresh_at")]
    pub refresh_at: String,
    /// The Application-log event MaintMode.vbs writes, which the SCOM management pack watches for.
    #[serde(default)]
    pub event: RawEvent,
    /// Servers whose maintenance window differs from `duration_minutes`.
    #[serde(default)]
    pub group: Vec<RawGroup>,
    /// Windows Update installs in waves (opt in): the Automatic Updates schedule of each server,
    /// so that the SQL partners and the members of a pool never restart in the same hours.
    #[serde(default)]
    pub installs: Option<super::waves::RawInstalls>,
}

/// How MaintMode.vbs writes its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// `WshShell.LogEvent`: source "WSH", event ID 4 (information), any text. What the original write-up's
    /// MaintMode.vbs did ("a WSH entry in the Application event log").
    #[default]
    Wsh,
    /// `eventcreate.exe /L APPLICATION /T INFORMATION /SO <source> /ID <id> /D <text>`: a custom
    /// source and an ID of 1-1000, for management packs that filter on them.
    Eventcreate,
}

/// The Application-log event the SCOM management pack reacts to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    /// "wsh" (default; source WSH, ID 4) or "eventcreate" (custom source and ID).
    #[serde(default)]
    pub method: Method,
    /// Event source for method "eventcreate" (letters, digits, space, `_`, `-`, `.`). eventcreate
    /// only writes to sources it created itself, never to an installed application's source.
    #[serde(default)]
    pub source: Option<String>,
    /// Event ID for method "eventcreate", 1-1000.
    #[serde(default)]
    pub id: Option<u32>,
    /// Event text. `{action}` becomes ON or OFF, `{duration}` the duration as given (e.g. `20M`),
    /// `{minutes}` the duration in minutes. It must match what the management pack's rule looks
    /// for. Default "Maintenance mode {action} {duration}".
    #[serde(default = "default_text")]
    pub text: String,
}

impl Default for RawEvent {
    fn default() -> Self {
        RawEvent {
            method: Method::Wsh,
            source: None,
            id: None,
            text: default_text(),
        }
    }
}

/// A group of servers with their own maintenance window.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Group name (letters, digits, `_`, `-`): appended to the task names.
    pub name: String,
    /// Servers in the group (names from `[[server]]`); a server belongs to at most one group.
    pub servers: Vec<String>,
    /// Maintenance window of these servers in minutes (5-1440).
    pub duration_minutes: u32,
}

fn default_duration() -> u32 {
    20
}
fn default_task_name() -> String {
    "WUTriggerMaintMode".into()
}
fn default_trigger_name() -> String {
    "Windows Update - Reboot Impending".into()
}
fn default_refresh_at() -> String {
    "04:00".into()
}
fn default_text() -> String {
    "Maintenance mode {action} {duration}".into()
}

/// The resolved event MaintMode.vbs writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// WshShell.LogEvent 4, text (source WSH, ID 4).
    Wsh { text: String },
    /// eventcreate.exe with a custom source and ID.
    Eventcreate {
        source: String,
        id: u32,
        text: String,
    },
}

impl Event {
    pub fn text(&self) -> &str {
        match self {
            Event::Wsh { text } | Event::Eventcreate { text, .. } => text,
        }
    }
    pub fn source(&self) -> &str {
        match self {
            Event::Wsh { .. } => "WSH",
            Event::Eventcreate { source, .. } => source,
        }
    }
    pub fn id(&self) -> u32 {
        match self {
            Event::Wsh { .. } => 4,
            Event::Eventcreate { id, .. } => *id,
        }
    }
}

/// Servers sharing one maintenance window: one event task (2008+) and one refresh task (2003).
#[derive(Debug, Clone)]
pub struct Bucket {
    /// `None` for the default window, else the `[[maintenance.group]]` name.
    pub group: Option<String>,
    pub duration_minutes: u32,
    /// Servers, in `[[server]]` order.
    pub servers: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Maintenance {
    pub duration_minutes: u32,
    /// As configured; the value written on a server is [`Maintenance::delay_for`].
    pub reboot_delay_minutes: Option<u32>,
    pub task_name: String,
    pub trigger_name: String,
    /// `eventtriggers /so` filter on 2003, if any.
    pub legacy_event_source: Option<String>,
    pub refresh_hour: u32,
    pub refresh_minute: u32,
    pub event: Event,
    /// Default window first, then groups in file order; empty buckets are dropped.
    pub buckets: Vec<Bucket>,
    /// Every server that gets maintenance mode, in `[[server]]` order.
    pub servers: Vec<usize>,
    /// `[maintenance.installs]`, resolved once the other sections are (its waves keep the SQL
    /// partners and the pools' members apart): see `super::waves`.
    pub installs: Option<super::waves::Installs>,
}

/// A name used inside task names and file names: letters, digits, `_`, `-`.
fn check_group_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(format!(
            "`{s}` is not a valid group name: use 1-32 letters, digits, `_` or `-`"
        ));
    }
    if super::wave_tasks::is_wave_suffix(s) {
        return Err(format!(
            "`{s}` is reserved: the clock-started task of a Windows Update wave ends in `-{s}`; choose another group name"
        ));
    }
    Ok(())
}

/// An eventtriggers.exe trigger name. It is written inside `"…"` on a command line run without a
/// shell and compared against the CSV output of `eventtriggers /query`, so only plain characters are
/// allowed (no quotes, commas, `%` or backslashes).
pub fn check_trigger_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 || s.starts_with(' ') || s.ends_with(' ') {
        return Err(format!(
            "`{s}` is not a valid trigger name: 1-64 characters, no leading or trailing space"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(format!(
            "the trigger name `{s}` contains {}: it is quoted on the eventtriggers command line and parsed back from its CSV output, so only letters, digits, space, `_`, `-` and `.` are allowed",
            crate::model::show_char(c)
        ));
    }
    Ok(())
}

/// An eventcreate event source.
pub fn check_event_source(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 || s.starts_with(' ') || s.ends_with(' ') {
        return Err(format!(
            "`{s}` is not a valid event source: 1-64 characters, no leading or trailing space"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(format!(
            "the event source `{s}` contains {}: it is passed to eventcreate.exe /SO in quotes, so only letters, digits, space, `_`, `-` and `.` are allowed",
            crate::model::show_char(c)
        ));
    }
    if s.eq_ignore_ascii_case("WSH") {
        return Err(
            "eventcreate.exe cannot write events of the source `WSH` (it only writes sources it created); use method = \"wsh\" for WSH events"
                .into(),
        );
    }
    Ok(())
}

/// The placeholders the event text may use.
pub const PLACEHOLDERS: &[&str] = &["{action}", "{duration}", "{minutes}"];

/// Event text: placeholders known, braces only in placeholders; for eventcreate also no characters
/// that cannot be quoted on its command line.
pub fn check_event_text(s: &str, method: Method) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("the event text is empty".into());
    }
    if s.chars().count() > 512 {
        return Err("the event text is longer than 512 characters".into());
    }
    let mut rest = s.to_string();
    for p in PLACEHOLDERS {
        rest = rest.replace(p, "");
    }
    if let Some(i) = rest.find(['{', '}']) {
        let near: String = rest[i..].chars().take(12).collect();
        return Err(format!(
            "the event text has a `{{` or `}}` that is not one of the placeholders {} (near `{near}`)",
            PLACEHOLDERS.join(", ")
        ));
    }
    if method == Method::Eventcreate {
        if let Some(c) = s.chars().find(|c| matches!(c, '"' | '%' | '\\')) {
            return Err(format!(
                "the event text contains {}: with method = \"eventcreate\" the text is passed to eventcreate.exe /D inside double quotes, where `\"` ends the argument, `\\` before a quote escapes it and `%` may be expanded as an environment variable; remove it, or use method = \"wsh\" (WshShell.LogEvent takes any text)",
                crate::model::show_char(c)
            ));
        }
    }
    Ok(())
}

fn check_duration(ctx: &mut Ctx, path: &str, minutes: u32) -> bool {
    if (MIN_DURATION..=MAX_DURATION).contains(&minutes) {
        return true;
    }
    ctx.error(
        path,
        format!("a maintenance window of {minutes} minutes is outside {MIN_DURATION}-{MAX_DURATION}"),
        "SCOM's shortest maintenance window is 5 minutes; MaintMode.vbs accepts at most one day (1440 minutes)",
    );
    false
}

pub fn resolve(
    raw: &RawMaintenance,
    ctx: &mut Ctx,
    names: &Names,
    site: &[Server],
) -> Option<Maintenance> {
    let p = "maintenance";
    let ((refresh_hour, refresh_minute), mut ok) = resolve_settings(raw, ctx);
    let (event, event_ok) = resolve_event(&raw.event, ctx);
    ok &= event_ok;

    // Which servers, and their windows.
    let (selection, selection_ok) = resolve_selection(raw, ctx, names);
    ok &= selection_ok;
    if selection.servers.is_empty() && ok {
        ctx.error(
            p,
            "no server is left for maintenance mode",
            "every listed server is skipped; remove `[maintenance]` or some `skip` entries",
        );
        ok = false;
    }

    let (buckets, buckets_ok) = resolve_buckets(raw, ctx, names, &selection);
    ok &= buckets_ok;
    let delay_ok = raw
        .reboot_delay_minutes
        .is_none_or(|d| (1..=30).contains(&d));
    if delay_ok {
        warn_shortened_default(raw, ctx, site, &selection.servers);
        warn_short_windows(raw, ctx, site, &buckets);
    }

    ok.then_some(Maintenance {
        duration_minutes: raw.duration_minutes,
        reboot_delay_minutes: raw.reboot_delay_minutes,
        task_name: raw.task_name.clone(),
        trigger_name: raw.trigger_name.clone(),
        legacy_event_source: raw.legacy_event_source.clone(),
        refresh_hour,
        refresh_minute,
        event,
        buckets,
        servers: selection.servers,
        installs: None,
    })
}

/// The task, trigger and timing settings of `[maintenance]`; returns the refresh time.
fn resolve_settings(raw: &RawMaintenance, ctx: &mut Ctx) -> ((u32, u32), bool) {
    let p = "maintenance";
    let mut ok = check_duration(ctx, &format!("{p}.duration_minutes"), raw.duration_minutes);
    if let Some(d) = raw.reboot_delay_minutes.filter(|d| !(1..=30).contains(d)) {
        ctx.error(
            &format!("{p}.reboot_delay_minutes"),
            format!("reboot_delay_minutes = {d} is outside 1-30"),
            "the Windows Update policy RebootWarningTimeout accepts 1 to 30 minutes",
        );
        ok = false;
    }
    ok &= ctx.check(
        &format!("{p}.task_name"),
        crate::model::check_task_name(&raw.task_name),
        "e.g. `task_name = \"WUTriggerMaintMode\"`",
    );
    ok &= ctx.check(
        &format!("{p}.trigger_name"),
        check_trigger_name(&raw.trigger_name),
        "e.g. `trigger_name = \"Windows Update - Reboot Impending\"`",
    );
    if let Some(src) = &raw.legacy_event_source {
        ok &= ctx.check(
            &format!("{p}.legacy_event_source"),
            check_trigger_name(src).map_err(|e| e.replace("trigger name", "event source")),
            "e.g. `legacy_event_source = \"Windows Update Agent\"`",
        );
    }
    let (refresh_hour, refresh_minute) = match parse_hhmm(&raw.refresh_at) {
        Ok(t) => t,
        Err(e) => {
            ctx.error(
                &format!("{p}.refresh_at"),
                e,
                "e.g. `refresh_at = \"04:00\"`",
            );
            ok = false;
            (0, 0)
        }
    };
    ((refresh_hour, refresh_minute), ok)
}

/// The event the task writes: its text, and the method with its source and ID.
fn resolve_event(ev: &RawEvent, ctx: &mut Ctx) -> (Event, bool) {
    let ep = "maintenance.event";
    let text_ok = ctx.check(
        &format!("{ep}.text"),
        check_event_text(&ev.text, ev.method),
        "e.g. `text = \"Maintenance mode {action} {duration}\"`",
    ) && ctx.safe_for(
        &format!("{ep}.text"),
        &ev.text,
        &[
            ("VBScript", crate::escape::vbs_expr),
            ("the runbook", crate::escape::md),
        ],
    );
    let mut ok = text_ok;
    if text_ok && !PLACEHOLDERS[1..].iter().any(|ph| ev.text.contains(ph)) {
        ctx.warn(crate::diag::Code::MaintTextWithoutDuration,
            &format!("{ep}.text"),
            "the event text has no {duration} or {minutes}: the management pack cannot learn how long the window is from it",
            "add `{duration}` (e.g. 20M) or `{minutes}` (e.g. 20) if the management pack reads the duration from the text",
        );
    }
    let (event, method_ok) = match ev.method {
        Method::Wsh => resolve_wsh_event(ev, ctx, ep),
        Method::Eventcreate => resolve_eventcreate_event(ev, ctx, ep),
    };
    ok &= method_ok;
    (event, ok)
}

/// An event written by WshShell.LogEvent: no source or ID of its own.
fn resolve_wsh_event(ev: &RawEvent, ctx: &mut Ctx, ep: &str) -> (Event, bool) {
    let mut ok = true;
    if ev.source.is_some() {
        ctx.error(
            &format!("{ep}.source"),
            "`source` only applies to method = \"eventcreate\"",
            "WshShell.LogEvent always writes source WSH with event ID 4; remove `source`, or set method = \"eventcreate\"",
        );
        ok = false;
    }
    if ev.id.is_some() {
        ctx.error(
            &format!("{ep}.id"),
            "`id` only applies to method = \"eventcreate\"",
            "WshShell.LogEvent always writes event ID 4 (information); remove `id`, or set method = \"eventcreate\"",
        );
        ok = false;
    }
    let event = Event::Wsh {
        text: ev.text.clone(),
    };
    (event, ok)
}

/// An event written by eventcreate.exe: it needs a source and an ID (1-1000).
fn resolve_eventcreate_event(ev: &RawEvent, ctx: &mut Ctx, ep: &str) -> (Event, bool) {
    let mut ok = true;
    let source = match &ev.source {
        Some(s) => {
            ok &= ctx.check(
                &format!("{ep}.source"),
                check_event_source(s),
                "e.g. `source = \"MaintMode\"`",
            );
            s.clone()
        }
        None => {
            ctx.error(
                ep,
                "method = \"eventcreate\" needs `source`",
                "add e.g. `source = \"MaintMode\"`: the event source the management pack's rule filters on",
            );
            ok = false;
            String::new()
        }
    };
    let id = match ev.id {
        Some(id) if (1..=1000).contains(&id) => id,
        Some(id) => {
            ctx.error(
                &format!("{ep}.id"),
                format!("event ID {id} is outside 1-1000"),
                "eventcreate.exe accepts event IDs from 1 to 1000",
            );
            ok = false;
            0
        }
        None => {
            ctx.error(
                ep,
                "method = \"eventcreate\" needs `id`",
                "add e.g. `id = 100`: the event ID (1-1000) the management pack's rule filters on",
            );
            ok = false;
            0
        }
    };
    let event = Event::Eventcreate {
        source,
        id,
        text: ev.text.clone(),
    };
    (event, ok)
}

/// Server names of a list, each once; returns their indices and whether all resolved.
fn lookup_list(
    ctx: &mut Ctx,
    names: &Names,
    path: &str,
    list: &[String],
    what: &str,
) -> (Vec<usize>, bool) {
    let mut out: Vec<usize> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut good = true;
    for (j, s) in list.iter().enumerate() {
        let sp = format!("{path}[{j}]");
        match ctx.lookup_server(&sp, s, names) {
            Some(i) if !seen.insert(i) => {
                ctx.report(
                    crate::diag::Severity::Error,
                    crate::diag::Code::ListedTwice,
                    &sp,
                    format!("server `{s}` is listed twice in {what}"),
                    "list each server once",
                );
                good = false;
            }
            Some(i) => out.push(i),
            None => good = false,
        }
    }
    (out, good)
}

/// The servers `[maintenance]` covers: `servers` (default every server) less `skip`.
struct Selection {
    all_set: HashSet<usize>,
    skip_set: HashSet<usize>,
    /// Covered servers, sorted.
    servers: Vec<usize>,
}

fn resolve_selection(raw: &RawMaintenance, ctx: &mut Ctx, names: &Names) -> (Selection, bool) {
    let p = "maintenance";
    let mut ok = true;
    let all: Vec<usize> = match &raw.servers {
        None => {
            let mut v: Vec<usize> = names.servers.values().copied().collect();
            v.sort();
            v
        }
        Some(list) => {
            if list.is_empty() {
                ctx.error(
                    &format!("{p}.servers"),
                    "`servers` is empty",
                    "list servers, or remove `servers` to cover every server (use `skip` to leave some out)",
                );
                ok = false;
            }
            let (v, good) = lookup_list(
                ctx,
                names,
                &format!("{p}.servers"),
                list,
                "maintenance.servers",
            );
            ok &= good;
            v
        }
    };
    let (skip, good) = lookup_list(
        ctx,
        names,
        &format!("{p}.skip"),
        &raw.skip,
        "maintenance.skip",
    );
    ok &= good;
    let all_set: HashSet<usize> = all.iter().copied().collect();
    let skip_set: HashSet<usize> = skip.iter().copied().collect();
    for (j, s) in skip.iter().enumerate() {
        if !all_set.contains(s) {
            ctx.warn(
                crate::diag::Code::MaintSkipNotListed,
                &format!("{p}.skip[{j}]"),
                format!(
                    "`{}` is skipped but is not in maintenance.servers",
                    raw.skip[j]
                ),
                "remove it from `skip`",
            );
        }
    }
    let mut servers: Vec<usize> = all
        .iter()
        .copied()
        .filter(|s| !skip_set.contains(s))
        .collect();
    servers.sort();
    let selection = Selection {
        all_set,
        skip_set,
        servers,
    };
    (selection, ok)
}

/// The maintenance windows: the default window first, then each group's, without empty ones.
fn resolve_buckets(
    raw: &RawMaintenance,
    ctx: &mut Ctx,
    names: &Names,
    selection: &Selection,
) -> (Vec<Bucket>, bool) {
    let p = "maintenance";
    let mut ok = true;
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    let mut buckets: Vec<Bucket> = Vec::new();
    for g in 0..raw.group.len() {
        let (bucket, group_ok) = resolve_group(raw, g, ctx, names, selection, &mut group_of);
        ok &= group_ok;
        buckets.push(bucket);
    }
    ctx.unique(
        "maintenance group name",
        raw.group
            .iter()
            .enumerate()
            .map(|(g, r)| (format!("{p}.group[{g}].name"), r.name.as_str())),
    );
    let default_members: Vec<usize> = selection
        .servers
        .iter()
        .copied()
        .filter(|s| !group_of.contains_key(s))
        .collect();
    buckets.insert(
        0,
        Bucket {
            group: None,
            duration_minutes: raw.duration_minutes,
            servers: default_members,
        },
    );
    buckets.retain(|b| !b.servers.is_empty());
    (buckets, ok)
}

/// Group `g`: its name, window and members (each in one group only, covered and not skipped).
fn resolve_group(
    raw: &RawMaintenance,
    g: usize,
    ctx: &mut Ctx,
    names: &Names,
    selection: &Selection,
    group_of: &mut HashMap<usize, usize>,
) -> (Bucket, bool) {
    let p = "maintenance";
    let rg = &raw.group[g];
    let mut ok = true;
    let gp = format!("{p}.group[{g}]");
    ok &= ctx.check(
        &format!("{gp}.name"),
        check_group_name(&rg.name),
        "e.g. `name = \"sql\"`",
    );
    ok &= check_duration(ctx, &format!("{gp}.duration_minutes"), rg.duration_minutes);
    if rg.servers.is_empty() {
        ctx.error(
            &format!("{gp}.servers"),
            "a group needs at least one server",
            "list server names from [[server]], e.g. `servers = [\"sql1\"]`",
        );
        ok = false;
    }
    let (members, good) = lookup_list(
        ctx,
        names,
        &format!("{gp}.servers"),
        &rg.servers,
        &format!("group `{}`", rg.name),
    );
    ok &= good;
    ok &= assign_group_members(raw, g, ctx, selection, group_of, &members);
    let mut members: Vec<usize> = members
        .into_iter()
        .filter(|m| selection.servers.contains(m))
        .collect();
    members.sort();
    let bucket = Bucket {
        group: Some(rg.name.clone()),
        duration_minutes: rg.duration_minutes,
        servers: members,
    };
    (bucket, ok)
}

/// Records group `g` as the window of its members; a member must be covered, not skipped, and in
/// no other group.
fn assign_group_members(
    raw: &RawMaintenance,
    g: usize,
    ctx: &mut Ctx,
    selection: &Selection,
    group_of: &mut HashMap<usize, usize>,
    members: &[usize],
) -> bool {
    let rg = &raw.group[g];
    let gp = format!("maintenance.group[{g}]");
    let mut ok = true;
    for (j, &m) in members.iter().enumerate() {
        let sp = format!("{gp}.servers[{j}]");
        if selection.skip_set.contains(&m) {
            ctx.error(
                &sp,
                format!(
                    "`{}` is in group `{}` but also in maintenance.skip",
                    rg.servers[j], rg.name
                ),
                "a skipped server gets no maintenance mode; remove it from one of the lists",
            );
            ok = false;
        } else if !selection.all_set.contains(&m) {
            ctx.error(
                &sp,
                format!(
                    "`{}` is in group `{}` but not in maintenance.servers",
                    rg.servers[j], rg.name
                ),
                "add it to maintenance.servers, or remove it from the group",
            );
            ok = false;
        } else if let Some(other) = group_of.get(&m) {
            ctx.error(
                &sp,
                format!(
                    "`{}` is already in group `{}`",
                    rg.servers[j], raw.group[*other].name
                ),
                "a server has one maintenance window: put it in one group only",
            );
            ok = false;
        } else {
            group_of.insert(m, g);
        }
    }
    ok
}

impl Maintenance {
    /// The restart delay written on a server of this release: the configured value, never below
    /// the release's own default.
    pub fn delay_for(&self, os: Os) -> u32 {
        effective_delay(self.reboot_delay_minutes, os)
    }
}

fn effective_delay(configured: Option<u32>, os: Os) -> u32 {
    configured.unwrap_or(0).max(os_default_delay(os))
}

/// From Windows Server 2016 on the Update Orchestrator restarts the server through its own
/// scheduled task and logs to `UpdateSessionOrchestration.etl` rather than the event log
/// (Microsoft, "Windows Update log files"); the Windows Update client's event 22 is still in its
/// message table but no document says it comes before such a restart (docs/modern-targets.md
/// section 3). Until a real server confirms it, the site's author is told, once per server, except
/// for the servers that install in a `[maintenance.installs]` wave: their maintenance mode starts
/// by the clock (`super::wave_tasks`). Called once the waves are resolved (`site::resolve`).
pub fn warn_restart_event(ctx: &mut Ctx, site: &[Server], m: &Maintenance) {
    let in_wave = |s: usize| {
        m.installs
            .as_ref()
            .is_some_and(|i| i.waves.iter().any(|w| w.servers.contains(&s)))
    };
    for &s in m.servers.iter().filter(|&&s| !in_wave(s)) {
        let server = &site[s];
        if server.os < Os::W2016 {
            continue;
        }
        ctx.warn_about(
            crate::diag::Code::MaintRestartEventUnconfirmed,
            "maintenance",
            &server.name,
            format!(
                "`{}` runs {}: its restarts for Windows Update come from the Update Orchestrator, and event 22, which starts maintenance mode, may not come before them",
                server.name,
                server.os.label()
            ),
            format!(
                "after the first Windows Update restart of `{}`, run `wevtutil qe System /q:\"*[System[(EventID=22)]]\" /c:5 /rd:true /f:text` there; if event 22 came before the restart, accept this warning in [site] accept",
                server.name
            ),
        );
    }
}

/// A configured delay below a maintained server's own default would shorten the time SCOM has:
/// the default is written there instead, and the site's author is told.
fn warn_shortened_default(raw: &RawMaintenance, ctx: &mut Ctx, site: &[Server], servers: &[usize]) {
    let Some(d) = raw.reboot_delay_minutes else {
        return;
    };
    let raised: Vec<&Server> = servers
        .iter()
        .map(|&i| &site[i])
        .filter(|s| os_default_delay(s.os) > d)
        .collect();
    if let Some(first) = raised.first() {
        let names: Vec<&str> = raised.iter().map(|s| s.name.as_str()).collect();
        ctx.warn(
            crate::diag::Code::MaintDelayBelowDefault,
            "maintenance.reboot_delay_minutes",
            format!(
                "{d} minutes is shorter than Windows Update's own {}-minute default on {} ({}): {} minutes is written there instead",
                os_default_delay(first.os),
                names.join(", "),
                first.os.label(),
                os_default_delay(first.os)
            ),
            "remove `reboot_delay_minutes` to use each release's default (5 minutes on 2003, 15 on 2008), or set at least 15",
        );
    }
}

/// A window that ends before the restart does: maintenance mode starts when Windows Update
/// announces the restart (event 22), the restart comes after the server's delay and takes about
/// [`RESTART_MINUTES`].
fn warn_short_windows(raw: &RawMaintenance, ctx: &mut Ctx, site: &[Server], buckets: &[Bucket]) {
    for b in buckets {
        let Some(longest) = b
            .servers
            .iter()
            .map(|&i| effective_delay(raw.reboot_delay_minutes, site[i].os))
            .max()
        else {
            continue;
        };
        if b.duration_minutes >= longest + RESTART_MINUTES {
            continue;
        }
        let path = match &b.group {
            None => "maintenance.duration_minutes".to_string(),
            Some(g) => {
                let i = raw.group.iter().position(|r| &r.name == g).unwrap_or(0);
                format!("maintenance.group[{i}].duration_minutes")
            }
        };
        ctx.warn(
            crate::diag::Code::MaintShortWindow,
            &path,
            format!(
                "a {}-minute window does not cover the {longest}-minute restart delay plus {RESTART_MINUTES} minutes for the restart itself",
                b.duration_minutes
            ),
            format!(
                "make the window at least {} minutes (maintenance mode starts when Windows Update announces the restart)",
                longest + RESTART_MINUTES
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_names() {
        assert!(check_trigger_name("Windows Update - Reboot Impending").is_ok());
        for bad in ["", " x", "a\"b", "a,b", "a%b%", "a\\b", "a&b", "a\nb"] {
            assert!(check_trigger_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn event_text() {
        assert!(check_event_text("Maintenance mode {action} {duration}", Method::Wsh).is_ok());
        assert!(check_event_text("say \"hi\" 100% <x>", Method::Wsh).is_ok());
        assert!(check_event_text("say \"hi\"", Method::Eventcreate).is_err());
        assert!(check_event_text("100%", Method::Eventcreate).is_err());
        assert!(check_event_text("C:\\", Method::Eventcreate).is_err());
        assert!(check_event_text("a <b> & c", Method::Eventcreate).is_ok());
        assert!(check_event_text("{nope}", Method::Wsh).is_err());
        assert!(check_event_text("{action", Method::Wsh).is_err());
        assert!(check_event_text(" ", Method::Wsh).is_err());
    }

    #[test]
    fn sources() {
        assert!(check_event_source("MaintMode").is_ok());
        assert!(check_event_source("WSH").is_err());
        assert!(check_event_source("a\"b").is_err());
        assert!(check_event_source("").is_err());
    }
}
