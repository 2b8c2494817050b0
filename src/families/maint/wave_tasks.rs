//! Maintenance mode started by the clock on Windows Server 2016 and later servers that install in
//! `[maintenance.installs]` waves (issue 31).
//!
//! From 2016 on the Update Orchestrator restarts the server, and no document says that Windows
//! Update's event 22 (which starts maintenance mode on 2003-2012 R2) comes before that restart
//! (docs/modern-targets.md section 3). A server in a wave does not need the event: it installs at
//! the wave's hour (`AUOptions` 4 with `ScheduledInstallDay`/`ScheduledInstallTime`, which the
//! Windows Server WSUS policy page lists for 2016-2022), so its maintenance task starts by the
//! clock, [`WAVE_LEAD_MINUTES`] before that hour, for the whole wave. The restart is kept inside
//! the wave with "Always automatically restart at the scheduled time": "a restart timer (between
//! 15 and 180 minutes) that will start immediately after Windows Update installs important
//! updates", registry `AlwaysAutoRebootAtScheduledTime` 1 and
//! `AlwaysAutoRebootAtScheduledTimeMinutes` under `…\WindowsUpdate\AU`; it "has no effect if the
//! No auto-restart with logged on users … policy is enabled" (the waves write that one 0)
//! (Microsoft, "Manage device restarts after updates", MicrosoftDocs/windows-itpro-docs
//! windows/deployment/update/waas-restart.md). Without it, Windows 10-based releases restart
//! "outside of active hours" at a time of their own choosing (same page), possibly days later and
//! outside every window.
//!
//! The event task stays on these servers too (a restart outside the waves, if event 22 does come).

use crate::escape::win_arg;
use crate::model::Farm;
use crate::model::schedule::{By, DAYS, Schedule};
use crate::model::server::Os;
use crate::plan::{Duration, Principal, RegFile, RegValue, TaskSpec, Trigger};

use super::model::Maintenance;
use super::waves::{Installs, Wave};
use super::{AU_KEY, MAINTMODE_PS, POWERSHELL, duration_arg};

/// Minutes before a wave's hour at which its clock-started maintenance task runs: SCOM's agent
/// acts on the request within 4-5 minutes (its rule runs every 4 minutes from SCOM 2019, every 5
/// before; "Suspend monitoring temporarily by using maintenance mode", docs/modern-targets.md
/// section 5), so maintenance mode is on before the installs start.
pub const WAVE_LEAD_MINUTES: u32 = 10;

/// The bounds of `AlwaysAutoRebootAtScheduledTimeMinutes` (waas-restart.md: "between 15 and 180
/// minutes").
pub const AUTO_REBOOT_MINUTES: std::ops::RangeInclusive<u32> = 15..=180;

/// Whether a server's Windows Update restarts come from the Update Orchestrator (2016 and later),
/// so that its maintenance in a wave starts by the clock.
pub fn clock_started(os: Os) -> bool {
    os >= Os::W2016
}

/// Name of the clock-started task of wave `i` (0-based).
pub fn wave_task_name(m: &Maintenance, i: usize) -> String {
    format!("{}-InstallWave{}", m.task_name, i + 1)
}

/// The suffix a `[[maintenance.group]]` name must not equal: `InstallWave1` … (the group's event
/// task would have the wave task's name).
pub fn is_wave_suffix(group: &str) -> bool {
    group
        .strip_prefix("InstallWave")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Minutes of maintenance mode the wave task asks for: from its start to the end of the wave (the
/// wave's installs, restart timer and restart fit in `hours_apart`: `waves::check_spacing`).
pub fn window_minutes(installs: &Installs) -> u32 {
    WAVE_LEAD_MINUTES + installs.hours_apart * 60
}

/// The wave's 2016+ servers, in `[[server]]` order.
pub fn clock_hosts(site: &Farm, w: &Wave) -> Vec<usize> {
    w.servers
        .iter()
        .copied()
        .filter(|&s| clock_started(site.server(s).os))
        .collect()
}

/// When the wave task runs: [`WAVE_LEAD_MINUTES`] before the wave's hour, on the day before when
/// that is midnight (`ScheduledInstallDay` 0 every day, 1 Sunday … 7 Saturday).
pub fn wave_start(w: &Wave) -> Schedule {
    let minutes = w.hour * 60 + 24 * 60 - WAVE_LEAD_MINUTES;
    let day_before = minutes < 24 * 60;
    let (hour, minute) = ((minutes / 60) % 24, minutes % 60);
    if w.day == 0 {
        return Schedule::daily(hour, minute);
    }
    let index = (w.day as usize - 1 + if day_before { 6 } else { 0 }) % 7;
    let start = Schedule::daily(hour, minute).start;
    Schedule::new(
        start,
        hour,
        minute,
        By::Weeks {
            days: vec![DAYS[index]],
        },
    )
}

/// One calendar task per wave that has 2016+ servers: `MaintMode.ps1 ON <window>`.
pub fn task_specs(site: &Farm, m: &Maintenance) -> Result<Vec<TaskSpec>, crate::Error> {
    let Some(installs) = &m.installs else {
        return Ok(Vec::new());
    };
    let path = win_arg(&site.script_path(MAINTMODE_PS))
        .map_err(|e| crate::Error::internal(format!("maintenance script path: {e}")))?;
    let window = window_minutes(installs);
    let mut specs = Vec::new();
    for (i, w) in installs.waves.iter().enumerate() {
        let hosts = clock_hosts(site, w);
        if hosts.is_empty() {
            continue;
        }
        specs.push(TaskSpec {
            name: wave_task_name(m, i),
            description: format!(
                "Asks SCOM for {window} minutes of maintenance mode through {MAINTMODE_PS}, {WAVE_LEAD_MINUTES} minutes before Windows Update installs ({}, wave {}), so the installs and the restart after them fall inside it (sitebundle, site {}).",
                w.when(),
                i + 1,
                site.name
            ),
            trigger: Trigger::Calendar(wave_start(w)),
            command: POWERSHELL.into(),
            arguments: format!(
                "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File {path} ON {}",
                duration_arg(window)
            ),
            working_directory: String::new(),
            principal: Principal::system(),
            execution_time_limit: Duration::minutes(5),
            // Not run late: when a 2016+ server that was off at its wave's hour installs the
            // missed updates is not documented ("Reschedule Automatic Updates scheduled
            // installations" does not apply to them, waas-restart.md); the runbook says so.
            start_when_available: false,
            hosts,
            feature: "maintenance",
            origin: "maintenance".into(),
        });
    }
    Ok(specs)
}

/// `registry/wu-installs-wave<N>-restart.reg` for the wave's 2016+ servers (none without them):
/// the restart timer, in a file of its own so that older servers of the wave import nothing new.
pub fn restart_timer_reg_file(
    site: &Farm,
    m: &Maintenance,
    i: usize,
    count: usize,
    w: &Wave,
) -> Option<RegFile> {
    let hosts = clock_hosts(site, w);
    if hosts.is_empty() {
        return None;
    }
    let wave = format!("wave {} of {count}", i + 1);
    Some(RegFile {
        name: format!("{}-restart", super::wave_file(i)),
        comment: format!(
            "Windows Server 2016 and later in {wave} ({}): restart at the end of a timer that the installs start, inside the wave (sitebundle, site {}).\nUndo: reg delete \"HKLM\\{AU_KEY}\" /v AlwaysAutoRebootAtScheduledTime /f, and the same for AlwaysAutoRebootAtScheduledTimeMinutes.",
            w.when(),
            site.name
        ),
        values: auto_reboot_values(site, m, &hosts, &wave),
        hosts,
    })
}

/// `AlwaysAutoRebootAtScheduledTime` 1 and the minutes each server's restart delay allows (one
/// value per distinct delay).
fn auto_reboot_values(site: &Farm, m: &Maintenance, hosts: &[usize], wave: &str) -> Vec<RegValue> {
    let value = super::au_value;
    let mut out = vec![value(
        hosts,
        "AlwaysAutoRebootAtScheduledTime",
        1,
        format!("Windows Update ({wave}): restart at the end of a timer started by the installs"),
    )];
    let mut delays: Vec<u32> = hosts
        .iter()
        .map(|&s| timer_minutes(m.delay_for(site.server(s).os)))
        .collect();
    delays.sort_unstable();
    delays.dedup();
    for d in delays {
        let with: Vec<usize> = hosts
            .iter()
            .copied()
            .filter(|&s| timer_minutes(m.delay_for(site.server(s).os)) == d)
            .collect();
        out.push(value(
            &with,
            "AlwaysAutoRebootAtScheduledTimeMinutes",
            d,
            format!("Windows Update ({wave}): restart {d} minutes after the installs"),
        ));
    }
    out
}

/// The restart timer for a restart delay, within the policy's bounds.
fn timer_minutes(delay: u32) -> u32 {
    delay.clamp(*AUTO_REBOOT_MINUTES.start(), *AUTO_REBOOT_MINUTES.end())
}

/// One wave's clock-started maintenance, for the runbook.
#[derive(serde::Serialize)]
pub struct ClockRow {
    pub n: usize,
    pub hosts: String,
    pub task: String,
    pub task_file: String,
    /// "every Saturday at 23:50".
    pub starts: String,
    pub minutes: u32,
    pub timer_file: String,
}

/// The waves that have 2016+ servers.
pub fn runbook_rows(site: &Farm, m: &Maintenance, installs: &Installs) -> Vec<ClockRow> {
    installs
        .waves
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let hosts = clock_hosts(site, w);
            (!hosts.is_empty()).then(|| ClockRow {
                n: i + 1,
                hosts: site.server_list(&hosts),
                task: wave_task_name(m, i),
                task_file: format!("tasks\\{}.xml", wave_task_name(m, i)),
                starts: wave_start(w).words(),
                minutes: window_minutes(installs),
                timer_file: format!("registry\\{}-restart.reg", super::wave_file(i)),
            })
        })
        .collect()
}
