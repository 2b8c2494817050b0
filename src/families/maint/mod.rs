//! Maintenance mode after Windows Update (`[maintenance]`).
//!
//! - 2008/2008 R2: a Task Scheduler task with an EventTrigger on System-log event 22 of
//!   `Microsoft-Windows-WindowsUpdateClient`, running `MaintMode.vbs ON <duration>` as SYSTEM
//!   (a [`TaskSpec`] with [`Trigger::Event`]; the tasks module writes its XML).
//! - 2003/2003 R2: a daily legacy task runs `WUTriggerMaintMode.vbs <duration>`, which replaces the
//!   `eventtriggers.exe` trigger that does the same there.
//! - Both: `MaintMode.vbs ON|OFF <duration>` writes the Application-log event for SCOM, and the
//!   Windows Update policy delays the restart (`registry/wu-reboot-delay.reg`, GPP Registry items).
//!
//! Every value from site.toml that reaches VBScript goes through `vbs_str`; the eventtriggers
//! command line is built here (two quoting layers: eventtriggers' `\"` inside `/tk "…"`, then a
//! VBScript literal) from values the model restricted to plain characters.

mod audit;

use serde::Serialize;

pub mod model;
pub mod wave_tasks;
pub mod waves;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::escape::win_arg;
use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::model::schedule::Schedule;
use crate::plan::{
    Contribution, Duration, HostItem, LineSlot, Part, Principal, RegData, RegFile, RegValue,
    RunbookSlot, Section, ServerLine, ServerVerify, TaskSpec, Trigger,
};
use model::{Bucket, Event, Maintenance};

pub const MAINTMODE: &str = "MaintMode.vbs";
/// The PowerShell form of MaintMode.vbs, for Windows Server 2012 R2 and later (issue 31).
pub const MAINTMODE_PS: &str = "MaintMode.ps1";
pub const POWERSHELL: &str = r"%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe";
/// Appended to the event task's name for the servers that run MaintMode.ps1.
pub const PS_TASK_SUFFIX: &str = "-PS";
pub const WUTRIGGER: &str = "WUTriggerMaintMode.vbs";
pub const WUTRIGGER_LOG: &str = "WUTriggerMaintMode.log";
pub const CSCRIPT: &str = r"%SystemRoot%\System32\cscript.exe";
pub const WU_PROVIDER: &str = "Microsoft-Windows-WindowsUpdateClient";
pub const WU_EVENT_ID: u32 = 22;
pub const AU_KEY: &str = r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU";
pub const REG_FEATURE: &str = "wu-reboot-delay";
/// Stands for the duration in the eventtriggers command line until WUTriggerMaintMode.vbs fills in
/// its (validated) argument.
pub const DURATION_TOKEN: &str = "{DURATION}";

/// Adds everything the `[maintenance]` section deploys.
pub fn contribute(site: &Farm, m: Option<&Maintenance>) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if let Some(m) = m {
        add_all(site, m, &mut c)?;
    }
    Ok(c)
}

fn add_all(site: &Farm, m: &Maintenance, plan: &mut Contribution) -> Result<(), crate::Error> {
    add_scripts(site, m, plan)?;
    plan.tasks.extend(task_specs(site, m)?);
    plan.registry.extend(reboot_delay_reg_files(site, m));
    plan.registry.extend(installs_reg_files(site, m));
    add_trigger_items(site, m, plan);
    add_runbook(site, m, plan)?;
    add_server_lines(m, plan);
    add_server_checks(site, m, plan);
    add_installs_checks(m, plan);
    audit::contribute(site, m, plan);
    Ok(())
}

/// `20M`: the duration argument of MaintMode.vbs.
pub fn duration_arg(minutes: u32) -> String {
    format!("{minutes}M")
}

/// The event-22 QueryList (plain XML; the task template escapes it into `<Subscription>`).
pub fn wu_query() -> String {
    format!(
        "<QueryList><Query Id=\"0\" Path=\"System\"><Select Path=\"System\">*[System[Provider[@Name='{WU_PROVIDER}'] and EventID={WU_EVENT_ID}]]</Select></Query></QueryList>"
    )
}

/// Arguments of cscript.exe that run a script with arguments: `//nologo "<path>" args`. The path
/// is quoted for the command line at render time (folders may contain spaces).
fn cscript_args(script_path: &str, args: &str) -> Result<String, crate::Error> {
    let path = win_arg(script_path)
        .map_err(|e| crate::Error::internal(format!("maintenance script path: {e}")))?;
    Ok(format!("//nologo {path} {args}"))
}

fn suffix(b: &Bucket) -> String {
    b.group
        .as_ref()
        .map(|g| format!("-{g}"))
        .unwrap_or_default()
}

/// Per-server commands: on 2008, running the event task starts maintenance mode (behind a
/// warning); on 2003, running the refresh task re-creates the trigger, which eventtriggers lists.
fn add_server_checks(site: &Farm, m: &Maintenance, plan: &mut Contribution) {
    for b in &m.buckets {
        let (new, old) = split_hosts(site, &b.servers);
        let (new, modern) = split_modern(site, &new);
        if !modern.is_empty() {
            plan.server_verifies.push(ServerVerify {
                hosts: modern,
                feature: "maintenance",
                command: format!("schtasks /Run /TN {}", modern_task_name(m, b)),
                expect: "the maintenance-mode event in the Application log".into(),
                warning: Some(format!(
                    "puts this server into SCOM maintenance mode for {} minutes now (it ends by itself; sooner only from the management server: see \"Ending maintenance mode early\" in the maintenance section)",
                    b.duration_minutes
                )),
            });
        }
        if !new.is_empty() {
            plan.server_verifies.push(ServerVerify {
                hosts: new,
                feature: "maintenance",
                command: format!("schtasks /Run /TN {}", event_task_name(m, b)),
                expect: "the maintenance-mode event (source WSH, event 4) in the Application log".into(),
                warning: Some(format!(
                    "puts this server into SCOM maintenance mode for {} minutes now (it ends by itself; sooner only from the management server: see \"Ending maintenance mode early\" in the maintenance section)",
                    b.duration_minutes
                )),
            });
        }
        if !old.is_empty() {
            plan.server_verifies.push(ServerVerify {
                hosts: old.clone(),
                feature: "maintenance",
                command: format!("schtasks /Run /TN {}", refresh_task_name(m, b)),
                expect:
                    "the refresh task runs (it re-creates the event trigger; nothing else changes)"
                        .into(),
                warning: None,
            });
            plan.server_verifies.push(ServerVerify {
                hosts: old,
                feature: "maintenance",
                command: "eventtriggers /query /fo list /v".into(),
                expect: format!("the trigger {} listed once", m.trigger_name),
                warning: None,
            });
        }
    }
}

/// Name of a bucket's 2008+ event task.
pub fn event_task_name(m: &Maintenance, b: &Bucket) -> String {
    format!("{}{}", m.task_name, suffix(b))
}

/// Name of a bucket's 2003 refresh task.
pub fn refresh_task_name(m: &Maintenance, b: &Bucket) -> String {
    format!("{}{}-Refresh", m.task_name, suffix(b))
}

/// 2008-class hosts into (2008 / 2008 R2, 2012 R2 and later).
fn split_modern(site: &Farm, servers: &[usize]) -> (Vec<usize>, Vec<usize>) {
    servers
        .iter()
        .partition(|&&h| !site.server(h).os.is_modern())
}

/// Name of a bucket's event task on 2012 R2 and later (it runs MaintMode.ps1).
pub fn modern_task_name(m: &Maintenance, b: &Bucket) -> String {
    format!("{}{PS_TASK_SUFFIX}", event_task_name(m, b))
}

/// A bucket's event task: Windows Update's event 22 runs `script` through `command` (cscript on
/// 2008 / 2008 R2, Windows PowerShell from 2012 R2 on) with `arguments`.
fn event_task_spec(
    site: &Farm,
    b: &Bucket,
    name: String,
    (script, command, arguments): (&str, &str, String),
    hosts: Vec<usize>,
) -> TaskSpec {
    TaskSpec {
        name,
        description: format!(
            "When Windows Update announces a restart (System log, {WU_PROVIDER}, event {WU_EVENT_ID}), asks SCOM for {} minutes of maintenance mode through {script} (sitebundle, site {}).",
            b.duration_minutes, site.name
        ),
        trigger: Trigger::Event { query: wu_query() },
        command: command.into(),
        arguments,
        working_directory: String::new(),
        principal: Principal::system(),
        execution_time_limit: Duration::minutes(5),
        start_when_available: false,
        hosts,
        feature: "maintenance",
        origin: "maintenance".into(),
    }
}

/// The PowerShell action of the 2012 R2 and later event task: MaintMode.ps1 ON <duration>.
fn powershell_args(site: &Farm, b: &Bucket) -> Result<String, crate::Error> {
    let path = win_arg(&site.script_path(MAINTMODE_PS))
        .map_err(|e| crate::Error::internal(format!("maintenance script path: {e}")))?;
    Ok(format!(
        "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File {path} ON {}",
        duration_arg(b.duration_minutes)
    ))
}

fn split_hosts(site: &Farm, servers: &[usize]) -> (Vec<usize>, Vec<usize>) {
    servers
        .iter()
        .partition(|&&h| site.server(h).os.has_task_scheduler2())
}

/// The maintenance tasks: per bucket, an event task for its 2008+ servers and a daily refresh task
/// for its 2003 servers (each only when it has hosts); then per Windows Update wave with 2016+
/// servers, its clock-started task ([`wave_tasks`]).
pub fn task_specs(site: &Farm, m: &Maintenance) -> Result<Vec<TaskSpec>, crate::Error> {
    let mut specs = bucket_task_specs(site, m)?;
    specs.extend(wave_tasks::task_specs(site, m)?);
    Ok(specs)
}

fn bucket_task_specs(site: &Farm, m: &Maintenance) -> Result<Vec<TaskSpec>, crate::Error> {
    let mut specs = Vec::new();
    for b in &m.buckets {
        let (new, old) = split_hosts(site, &b.servers);
        let (new, modern) = split_modern(site, &new);
        let dur = duration_arg(b.duration_minutes);
        if !modern.is_empty() {
            let action = (MAINTMODE_PS, POWERSHELL, powershell_args(site, b)?);
            specs.push(event_task_spec(
                site,
                b,
                modern_task_name(m, b),
                action,
                modern,
            ));
        }
        if !new.is_empty() {
            let args = cscript_args(&site.script_path(MAINTMODE), &format!("ON {dur}"))?;
            let action = (MAINTMODE, CSCRIPT, args);
            specs.push(event_task_spec(site, b, event_task_name(m, b), action, new));
        }
        if !old.is_empty() {
            specs.push(TaskSpec {
                name: refresh_task_name(m, b),
                description: format!(
                    "Re-creates the eventtriggers.exe trigger \"{}\" that asks SCOM for {} minutes of maintenance mode when Windows Update announces a restart (event {WU_EVENT_ID}); log in {} (sitebundle, site {}).",
                    m.trigger_name,
                    b.duration_minutes,
                    site.script_path(WUTRIGGER_LOG),
                    site.name
                ),
                trigger: Trigger::Calendar(Schedule::daily(m.refresh_hour, m.refresh_minute)),
                command: CSCRIPT.into(),
                arguments: cscript_args(&site.script_path(WUTRIGGER), &dur)?,
                working_directory: String::new(),
                principal: Principal::system(),
                execution_time_limit: Duration::minutes(10),
                start_when_available: true,
                hosts: old,
                feature: "maintenance",
                origin: "maintenance".into(),
            });
        }
    }
    Ok(specs)
}

/// The 2003 event trigger on each 2003 server, for the bundle's inventory: eventtriggers deletes
/// by ID only, which differs per server (`eventtriggers /query` lists it beside the name).
fn add_trigger_items(site: &Farm, m: &Maintenance, plan: &mut Contribution) {
    let old: Vec<usize> = m
        .servers
        .iter()
        .copied()
        .filter(|&h| !site.server(h).os.has_task_scheduler2())
        .collect();
    if old.is_empty() {
        return;
    }
    plan.host_items.push(HostItem {
        kind: "eventtrigger".into(),
        name: m.trigger_name.clone(),
        remove: format!(
            "eventtriggers /query /fo list /v (note the Trigger ID of every trigger named \"{}\"), then eventtriggers /delete /tid <ID> for each",
            m.trigger_name
        ),
        hosts: old,
    });
}

/// The Windows Update restart delay: one `.reg` file per distinct delay (servers of different
/// releases can need different values: see [`Maintenance::delay_for`]), named
/// `wu-reboot-delay.reg` when every server gets the same one, else `wu-reboot-delay-<N>min.reg`.
///
/// Only when the site sets `reboot_delay_minutes` (issue 27): otherwise nothing is written and
/// every server keeps its release's default, with no policy value left behind in the registry.
pub fn reboot_delay_reg_files(site: &Farm, m: &Maintenance) -> Vec<RegFile> {
    if m.reboot_delay_minutes.is_none() {
        return Vec::new();
    }
    let groups = delay_groups(site, m);
    let single = groups.len() == 1;
    groups
        .into_iter()
        .map(|(delay, hosts)| reboot_delay_reg_file(site, delay, hosts, single))
        .collect()
}

/// The maintained servers by the delay they get, longest delay first.
pub fn delay_groups(site: &Farm, m: &Maintenance) -> Vec<(u32, Vec<usize>)> {
    let mut groups: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for &h in &m.servers {
        groups
            .entry(m.delay_for(site.server(h).os))
            .or_default()
            .push(h);
    }
    groups.into_iter().rev().collect()
}

/// A DWORD under the Windows Update policy key, for `hosts`.
pub(crate) fn au_value(hosts: &[usize], name: &str, data: u32, description: String) -> RegValue {
    RegValue {
        key: AU_KEY.into(),
        name: name.into(),
        data: RegData::Dword(data),
        hosts: hosts.to_vec(),
        description,
        apply_once: false,
    }
}

fn reboot_delay_reg_file(site: &Farm, delay: u32, hosts: Vec<usize>, single: bool) -> RegFile {
    let value =
        |name: &str, data: u32, description: String| au_value(&hosts, name, data, description);
    RegFile {
        name: if single {
            REG_FEATURE.into()
        } else {
            format!("{REG_FEATURE}-{delay}min")
        },
        comment: format!(
            "Windows Update waits {delay} minutes before a scheduled restart, so SCOM can start maintenance mode (sitebundle, site {}).\nThe policy acts only when Automatic Updates installs on a schedule (AUOptions 4).\nUndo: reg delete \"HKLM\\{AU_KEY}\" /v RebootWarningTimeout /f, and the same for RebootWarningTimeoutEnabled.",
            site.name
        ),
        values: vec![
            value(
                "RebootWarningTimeoutEnabled",
                1,
                "Windows Update: use RebootWarningTimeout as the restart countdown".into(),
            ),
            value(
                "RebootWarningTimeout",
                delay,
                format!(
                    "Windows Update: wait {delay} minutes before restarting, so SCOM can start maintenance mode"
                ),
            ),
        ],
        hosts,
    }
}

/// The Automatic Updates schedule of each wave (`[maintenance.installs]`): one `.reg` file per
/// wave, `wu-installs-wave<N>.reg`, for its servers. The values (Microsoft KB 328010, the
/// `…\WindowsUpdate\AU` policy key; the ADMX texts of "Configure Automatic Updates", "No
/// auto-restart with logged on users for scheduled automatic updates installations" and
/// "Reschedule Automatic Updates scheduled installations"):
/// - `NoAutoUpdate` 0 and `AUOptions` 4: download, then install on the schedule;
/// - `ScheduledInstallDay` (0 every day, 1 Sunday … 7 Saturday) and `ScheduledInstallTime` (0-23);
/// - `NoAutoRebootWithLoggedOnUsers` 0: restart after the countdown even with a user logged on
///   (with 1 the restart waits for the user, at any hour, outside the wave);
/// - `RescheduleWaitTimeEnabled` 0 (the policy disabled): "a missed scheduled installation will
///   occur with the next scheduled installation". Not configured, it occurs "one minute after the
///   computer is next started": a server that was down at its wave's hour would install in the
///   next wave's hours, beside its partner.
pub fn installs_reg_files(site: &Farm, m: &Maintenance) -> Vec<RegFile> {
    let Some(installs) = &m.installs else {
        return Vec::new();
    };
    let count = installs.waves.len();
    installs
        .waves
        .iter()
        .enumerate()
        .flat_map(|(i, w)| {
            let timer = wave_tasks::restart_timer_reg_file(site, m, i, count, w);
            std::iter::once(install_wave_reg_file(site, i, count, w)).chain(timer)
        })
        .collect()
}

/// The `.reg` file name of wave `i` (0-based), without `.reg`.
pub fn wave_file(i: usize) -> String {
    format!("wu-installs-wave{}", i + 1)
}

fn install_wave_reg_file(site: &Farm, i: usize, count: usize, w: &waves::Wave) -> RegFile {
    let value =
        |name: &str, data: u32, description: String| au_value(&w.servers, name, data, description);
    let wave = format!("wave {} of {count}", i + 1);
    RegFile {
        name: wave_file(i),
        comment: format!(
            "Windows Update installs on {} ({wave}), then restarts when an update needs it (sitebundle, site {}).\nUndo: reg delete \"HKLM\\{AU_KEY}\" /v <name> /f for each value below (the release's own Automatic Updates settings then apply).",
            w.when(),
            site.name
        ),
        values: vec![
            value(
                "NoAutoUpdate",
                0,
                format!("Windows Update ({wave}): Automatic Updates on"),
            ),
            value(
                "AUOptions",
                4,
                format!("Windows Update ({wave}): download, then install on the schedule"),
            ),
            value(
                "ScheduledInstallDay",
                w.day,
                format!(
                    "Windows Update ({wave}): install on {}",
                    waves::day_name(w.day)
                ),
            ),
            value(
                "ScheduledInstallTime",
                w.hour,
                format!("Windows Update ({wave}): install at {:02}:00", w.hour),
            ),
            value(
                "NoAutoRebootWithLoggedOnUsers",
                0,
                format!(
                    "Windows Update ({wave}): restart after the countdown even when a user is logged on"
                ),
            ),
            value(
                "RescheduleWaitTimeEnabled",
                0,
                format!(
                    "Windows Update ({wave}): a missed install waits for the next scheduled one"
                ),
            ),
        ],
        hosts: w.servers.clone(),
    }
}

/// Per wave: the schedule the server has.
fn add_installs_checks(m: &Maintenance, plan: &mut Contribution) {
    let Some(installs) = &m.installs else {
        return;
    };
    for w in &installs.waves {
        plan.server_verifies.push(ServerVerify {
            hosts: w.servers.clone(),
            feature: "maintenance",
            command: format!("reg query \"HKLM\\{AU_KEY}\""),
            expect: format!(
                "AUOptions 0x4, ScheduledInstallDay 0x{:x}, ScheduledInstallTime 0x{:x} (installs {})",
                w.day,
                w.hour,
                w.when()
            ),
            warning: None,
        });
    }
}

/// The arguments of `eventtriggers.exe` that create the trigger (everything after the program
/// name), with [`DURATION_TOKEN`] where the duration goes. Environment variables stay unexpanded;
/// WUTriggerMaintMode.vbs expands them before it runs the command, so the task holds real paths.
///
/// Quoting: `/tk "…"` holds the task's command line, whose own quotes eventtriggers wants written
/// `\"`. The trigger name and the paths were restricted by the model to characters that need no
/// quoting beyond this (no `"`, `\` before a quote, `%` other than the leading variable).
pub fn eventtriggers_create_args(site: &Farm, m: &Maintenance) -> Result<String, crate::Error> {
    let task = format!(
        "\"{CSCRIPT}\" {}",
        cscript_args(
            &site.script_path(MAINTMODE),
            &format!("ON {DURATION_TOKEN}")
        )?
    );
    let so = m
        .legacy_event_source
        .as_ref()
        .map(|s| format!(" /so \"{s}\""))
        .unwrap_or_default();
    let task = crate::escape::argv_inner(&task).map_err(|e| {
        crate::Error::internal(e.to_string()).at_item("the eventtriggers /tk command")
    })?;
    Ok(format!(
        "/create /tr \"{}\" /l system /eid {WU_EVENT_ID}{so} /tk \"{task}\" /ru \"System\"",
        m.trigger_name,
    ))
}

/// The fixed part of the eventcreate command line after the program name, up to the opening quote
/// of `/D` (the text follows at run time).
pub fn eventcreate_args(source: &str, id: u32) -> String {
    format!("/L APPLICATION /T INFORMATION /SO \"{source}\" /ID {id} /D ")
}

#[derive(Serialize)]
struct MaintModeView<'a> {
    site: &'a str,
    method: &'a str,
    text: &'a str,
    source: &'a str,
    id: u32,
    eventcreate_args: String,
    min_minutes: u32,
    max_minutes: u32,
}

#[derive(Serialize)]
struct WuTriggerView<'a> {
    site: &'a str,
    trigger_name: &'a str,
    log_file: String,
    create_args: String,
    duration_token: &'a str,
    eid: u32,
    min_minutes: u32,
    max_minutes: u32,
}

/// `MaintMode.vbs` for every maintained server, `WUTriggerMaintMode.vbs` for the 2003 ones.
fn add_scripts(site: &Farm, m: &Maintenance, plan: &mut Contribution) -> Result<(), crate::Error> {
    let copy = Deploy::RuntimeScript {
        scripts_dir: site.scripts_dir.clone(),
    };
    let (method, source, id, eventcreate) = match &m.event {
        Event::Wsh { .. } => ("wsh", "WSH", 4, String::new()),
        Event::Eventcreate { source, id, .. } => (
            "eventcreate",
            source.as_str(),
            *id,
            eventcreate_args(source, *id),
        ),
    };
    let view = MaintModeView {
        site: &site.name,
        method,
        text: m.event.text(),
        source,
        id,
        eventcreate_args: eventcreate,
        min_minutes: model::MIN_DURATION,
        max_minutes: model::MAX_DURATION,
    };
    // VBScript up to 2008 R2, PowerShell from 2012 R2 on (issue 31).
    let (classic, modern) = split_modern(site, &m.servers);
    if !classic.is_empty() {
        let text = crate::render::render("maint/MaintMode.vbs", &view)?;
        plan.add_file(
            format!("scripts/{MAINTMODE}"),
            Artifact::text(ArtifactKind::VbScript, Encoding::Utf8, Eol::Crlf, &text)
                .hosts(site.server_names(&classic))
                .deploy(copy.clone()),
        )?;
    }
    if !modern.is_empty() {
        let text = crate::render::render("maint/MaintMode.ps1", &view)?;
        plan.add_file(
            format!("scripts/{MAINTMODE_PS}"),
            Artifact::text(ArtifactKind::PowerShell, Encoding::Utf8, Eol::Crlf, &text)
                .hosts(site.server_names(&modern))
                .deploy(copy.clone()),
        )?;
    }

    let (_, old) = split_hosts(site, &m.servers);
    if !old.is_empty() {
        let text = crate::render::render(
            "maint/WUTriggerMaintMode.vbs",
            &WuTriggerView {
                site: &site.name,
                trigger_name: &m.trigger_name,
                log_file: site.script_path(WUTRIGGER_LOG),
                create_args: eventtriggers_create_args(site, m)?,
                duration_token: DURATION_TOKEN,
                eid: WU_EVENT_ID,
                min_minutes: model::MIN_DURATION,
                max_minutes: model::MAX_DURATION,
            },
        )?;
        plan.add_file(
            format!("scripts/{WUTRIGGER}"),
            Artifact::text(ArtifactKind::VbScript, Encoding::Utf8, Eol::Crlf, &text)
                .hosts(site.server_names(&old))
                .deploy(copy),
        )?;
    }

    Ok(())
}

#[derive(Serialize)]
struct BucketRow {
    group: String,
    minutes: u32,
    duration: String,
    new_hosts: String,
    old_hosts: String,
    /// 2012 R2 and later: the event task that runs MaintMode.ps1.
    modern_hosts: String,
    modern_task: String,
    modern_file: String,
    task: String,
    refresh_task: String,
    file: String,
}

/// One restart delay, its `.reg` file and the servers that get it.
#[derive(Serialize)]
struct DelayRow {
    minutes: u32,
    /// The `.reg` file that writes it, or `None`: the release's default, nothing written.
    file: Option<String>,
    hosts: String,
}

/// The restart delay of each group of servers, and the file that sets it when the site does.
fn delay_rows(site: &Farm, m: &Maintenance) -> Vec<DelayRow> {
    let files = reboot_delay_reg_files(site, m);
    delay_groups(site, m)
        .into_iter()
        .map(|(minutes, hosts)| DelayRow {
            minutes,
            file: files
                .iter()
                .find(|f| f.hosts == hosts)
                .map(|f| format!("registry\\{}.reg", f.name)),
            hosts: site.server_list(&hosts),
        })
        .collect()
}

#[derive(Serialize)]
struct MaintRunbookView<'a> {
    method: &'a str,
    source: &'a str,
    id: u32,
    text: &'a str,
    example_text: String,
    delays: Vec<DelayRow>,
    configured_delay: Option<u32>,
    restart_minutes: u32,
    trigger_name: &'a str,
    legacy_source: String,
    log_file: String,
    maintmode: String,
    au_key: &'a str,
    buckets: Vec<BucketRow>,
    any_new: bool,
    any_old: bool,
    any_modern: bool,
    maintmode_ps: String,
    refresh_at: String,
    /// The GPO registers the tasks (2008 event task, 2003 refresh task).
    gpo_tasks: bool,
    wutrigger: String,
    installs: Option<InstallsView>,
}

/// `[maintenance.installs]` in the runbook.
#[derive(Serialize)]
struct InstallsView {
    waves: Vec<WaveRow>,
    hours_apart: u32,
    install_minutes: u32,
    automatic: bool,
    /// "the SQL partners: sqla (wave 1), sqlb (wave 2)".
    kept: Vec<String>,
    /// Sets with one server in the waves: "pool `x` (web1)".
    alone: Vec<String>,
    gpo_registry: bool,
    /// The waves' 2016+ servers and their clock-started maintenance (issue 31).
    clock: Vec<wave_tasks::ClockRow>,
    clock_lead: u32,
}

#[derive(Serialize)]
struct WaveRow {
    n: usize,
    when: String,
    hosts: String,
    file: String,
}

fn installs_view(site: &Farm, m: &Maintenance, installs: &waves::Installs) -> InstallsView {
    let wave_of = |s: usize| installs.waves.iter().position(|w| w.servers.contains(&s));
    // Sets with the same servers (pools of the same members) share one line.
    let mut kept: Vec<(String, Vec<String>)> = Vec::new();
    let mut alone = Vec::new();
    for set in &installs.keep_up {
        let placed: Vec<String> = set
            .servers
            .iter()
            .filter_map(|&s| {
                wave_of(s).map(|w| format!("{} (wave {})", site.server(s).name, w + 1))
            })
            .collect();
        match (placed.len(), set.outside.is_empty()) {
            (0, _) => {}
            (1, true) => alone.push(format!(
                "{} has one member, {}: its wave takes it down",
                set.what, placed[0]
            )),
            (1, false) => alone.push(format!(
                "{}: {}; {} get no install schedule from this bundle and must be up then",
                set.what,
                placed[0],
                site.server_list(&set.outside)
            )),
            _ => {
                let placed = placed.join(", ");
                match kept.iter_mut().find(|(p, _)| *p == placed) {
                    Some((_, whats)) => whats.push(set.what.clone()),
                    None => kept.push((placed, vec![set.what.clone()])),
                }
            }
        }
    }
    let kept = kept
        .into_iter()
        .map(|(placed, whats)| format!("{}: {placed}", whats.join(", ")))
        .collect();
    InstallsView {
        waves: installs
            .waves
            .iter()
            .enumerate()
            .map(|(i, w)| WaveRow {
                n: i + 1,
                when: w.when(),
                hosts: site.server_list(&w.servers),
                file: format!("registry\\{}.reg", wave_file(i)),
            })
            .collect(),
        hours_apart: installs.hours_apart,
        install_minutes: installs.install_minutes,
        automatic: installs.automatic,
        kept,
        alone,
        gpo_registry: site.gpo_has(Preference::Registry),
        clock: wave_tasks::runbook_rows(site, m, installs),
        clock_lead: wave_tasks::WAVE_LEAD_MINUTES,
    }
}

fn runbook_view<'a>(site: &'a Farm, m: &'a Maintenance) -> MaintRunbookView<'a> {
    let buckets: Vec<BucketRow> = m
        .buckets
        .iter()
        .map(|b| {
            let (new, old) = split_hosts(site, &b.servers);
            let (new, modern) = split_modern(site, &new);
            BucketRow {
                group: b.group.clone().unwrap_or_else(|| "(default)".into()),
                minutes: b.duration_minutes,
                duration: duration_arg(b.duration_minutes),
                new_hosts: site.server_list(&new),
                old_hosts: site.server_list(&old),
                modern_hosts: site.server_list(&modern),
                modern_task: modern_task_name(m, b),
                modern_file: format!("tasks\\{}.xml", modern_task_name(m, b)),
                task: event_task_name(m, b),
                refresh_task: refresh_task_name(m, b),
                file: format!("tasks\\{}.xml", event_task_name(m, b)),
            }
        })
        .collect();
    let any_new = buckets.iter().any(|b| !b.new_hosts.is_empty());
    let any_modern = buckets.iter().any(|b| !b.modern_hosts.is_empty());
    let any_old = buckets.iter().any(|b| !b.old_hosts.is_empty());
    let example_text = m
        .event
        .text()
        .replace("{action}", "ON")
        .replace("{duration}", &duration_arg(m.duration_minutes))
        .replace("{minutes}", &m.duration_minutes.to_string());
    MaintRunbookView {
        method: match m.event {
            Event::Wsh { .. } => "wsh",
            Event::Eventcreate { .. } => "eventcreate",
        },
        source: m.event.source(),
        id: m.event.id(),
        text: m.event.text(),
        example_text,
        delays: delay_rows(site, m),
        configured_delay: m.reboot_delay_minutes,
        restart_minutes: model::RESTART_MINUTES,
        trigger_name: &m.trigger_name,
        legacy_source: m.legacy_event_source.clone().unwrap_or_default(),
        log_file: site.script_path(WUTRIGGER_LOG),
        maintmode: site.script_path(MAINTMODE),
        au_key: AU_KEY,
        buckets,
        any_new,
        any_old,
        any_modern,
        maintmode_ps: site.script_path(MAINTMODE_PS),
        refresh_at: format!("{:02}:{:02}", m.refresh_hour, m.refresh_minute),
        gpo_tasks: site.gpo_has(Preference::Tasks),
        wutrigger: site.script_path(WUTRIGGER),
        installs: m.installs.as_ref().map(|i| installs_view(site, m, i)),
    }
}

/// The runbook section, its prerequisite and its link under "On each server".
fn add_runbook(site: &Farm, m: &Maintenance, plan: &mut Contribution) -> Result<(), crate::Error> {
    let section = Section {
        id: "maint".into(),
        slot: RunbookSlot::Maintenance,
        text: crate::render::render("maint/runbook.md", &runbook_view(site, m))?,
    };
    plan.runbook.add_checklist_parts(
        "maint/checklist.md",
        &serde_json::json!({ "anchor": section.anchor() }),
        &[
            ("prerequisite", Part::Prerequisite, RunbookSlot::Maintenance),
            ("server_check", Part::ServerCheck, RunbookSlot::Maintenance),
        ],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}

/// "; installs: wave 1, Sunday 03:00" for a server in a wave of `[maintenance.installs]`.
fn wave_label(m: &Maintenance, server: usize) -> String {
    let waves = m
        .installs
        .as_ref()
        .map(|i| i.waves.as_slice())
        .unwrap_or(&[]);
    waves
        .iter()
        .position(|w| w.servers.contains(&server))
        .map(|i| format!("; installs: wave {}, {}", i + 1, waves[i].when()))
        .unwrap_or_default()
}

/// "maintenance mode N min after Windows Update" in each maintained server's box.
fn add_server_lines(m: &Maintenance, plan: &mut Contribution) {
    let mut lines: Vec<ServerLine> = m
        .buckets
        .iter()
        .flat_map(|b| {
            b.servers.iter().map(|&server| ServerLine {
                server,
                slot: LineSlot::Maintenance,
                text: format!(
                    "maintenance mode {} min after Windows Update{}",
                    b.duration_minutes,
                    wave_label(m, server)
                ),
            })
        })
        .collect();
    // A server in two buckets shows its first.
    lines.sort_by_key(|l| l.server);
    lines.dedup_by_key(|l| l.server);
    plan.topology.server_lines.extend(lines);
}
