//! `[[kill]]`: processes killed on a schedule (docs/background.md: the nightly process killer).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::schedule::{RawMonthly, RawSchedule, Schedule};
use crate::model::{Ctx, Names, check_task_name};

/// One process to kill on a schedule, on the listed servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKill {
    /// Image name as shown by tasklist, e.g. "mssdmn.exe". No path, no wildcards.
    pub image: String,
    /// Servers the task is installed on (names from `[[server]]`).
    pub servers: Vec<String>,
    /// Time of day, 24-hour "HH:MM", local time of each server. Default "03:00" (nightly).
    #[serde(default = "default_at")]
    pub at: String,
    /// Run every this many days (1-365), counted from `start`. Default 1 (every day). At most one
    /// of `every_days`, `days` and `monthly`.
    #[serde(default)]
    pub every_days: Option<u32>,
    /// Run weekly on these days: three-letter English names, e.g. `["sun"]` or `["mon", "thu"]`.
    #[serde(default)]
    pub days: Option<Vec<String>>,
    /// Run monthly: `{ days = [1, 15] }` (days 1-28) or `{ week = "first", day = "mon" }` (week
    /// "first" to "fourth" or "last").
    #[serde(default)]
    pub monthly: Option<RawMonthly>,
    /// First day the task may run, "YYYY-MM-DD"; `every_days` counts from it. Default "2010-01-01".
    #[serde(default)]
    pub start: Option<String>,
    /// Task name. Default "KillProc-" followed by the image name without ".exe".
    #[serde(default)]
    pub name: Option<String>,
    /// Service to start again after a kill (`net start`), as `sc query` names it (SERVICE_NAME),
    /// e.g. "SPTimerV3" when the image is OWSTIMER.EXE. Letters, digits, `_`, `-`, `.`.
    #[serde(default)]
    pub restart_service: Option<String>,
}

fn default_at() -> String {
    "03:00".into()
}

#[derive(Debug, Clone)]
pub struct Kill {
    pub name: String,
    pub image: String,
    pub servers: Vec<usize>,
    pub schedule: Schedule,
    pub restart_service: Option<String>,
}

/// A process image name: `name.exe`, letters, digits, `_`, `-`, `.`; no path, no spaces, no wildcards.
pub fn check_image(s: &str) -> Result<(), String> {
    if s.contains('\\') || s.contains(':') || s.starts_with('/') {
        return Err(format!(
            "`{s}` looks like a path; give the image name only, e.g. \"w3wp.exe\""
        ));
    }
    let ok = s.len() <= 64
        && s.to_ascii_lowercase().ends_with(".exe")
        && s.len() > 4
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a plain image name: use letters, digits, `_`, `-`, `.` and end in .exe (at most 64 characters)"
        ))
    }
}

pub fn resolve(raw: &[RawKill], ctx: &mut Ctx, names: &Names) -> Vec<Kill> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let p = format!("kill[{i}]");
        out.extend(resolve_kill(ctx, names, &p, r));
    }
    let names: Vec<(String, String)> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = r.name.clone().unwrap_or_else(|| {
                format!(
                    "KillProc-{}",
                    r.image
                        .get(..r.image.len().saturating_sub(4))
                        .unwrap_or(&r.image)
                )
            });
            (
                format!(
                    "kill[{i}].{}",
                    if r.name.is_some() { "name" } else { "image" }
                ),
                n,
            )
        })
        .collect();
    ctx.unique(
        "kill task name",
        names.iter().map(|(p, n)| (p.clone(), n.as_str())),
    );
    // Each entry is its own task: the order of `[[kill]]` entries carries no meaning either.
    out.sort_by(|a, b| (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name)));
    out
}

/// The largest day interval a legacy (Task Scheduler 1.0) task item of Group Policy Preferences
/// can carry: its `interval` attribute is an unsignedByte in the ScheduledTasks schema of
/// [MS-GPPREF] 2.2.1.18.5 (tests/schemas/gpp-legacy-task.xsd keeps that type).
pub const LEGACY_ITEM_MAX_DAYS: u32 = 255;

/// Every-N-days tasks that the GPO would deliver as legacy task items (servers without Task
/// Scheduler 2.0, when the GPO carries scheduled tasks) must fit the item's interval. Checked at
/// resolve time, so `validate` refuses what `build` could only write as an invalid item.
pub fn check_legacy_intervals(
    raw: &[RawKill],
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    gpo: Option<&crate::model::gpo::RawGpo>,
    zone: Option<&crate::model::Zone>,
) {
    if !gpo.is_some_and(|g| g.include.contains(&crate::model::gpo::Preference::Tasks)) {
        return;
    }
    check_legacy_month_days(raw, ctx, names, servers, zone);
    for (i, r) in raw.iter().enumerate() {
        let Some(days) = r
            .every_days
            .filter(|d| (LEGACY_ITEM_MAX_DAYS + 1..=365).contains(d))
        else {
            continue;
        };
        let legacy = r
            .servers
            .iter()
            .filter_map(|n| names.find(n).map(|idx| &servers[idx]))
            .find(|s| !s.os.has_task_scheduler2());
        let Some(server) = legacy else {
            continue;
        };
        ctx.error(
            &format!("kill[{i}].every_days"),
            format!(
                "every_days = {days} cannot reach `{}` ({}) through the GPO: its legacy task item holds at most {LEGACY_ITEM_MAX_DAYS} days",
                server.name,
                server.os.label()
            ),
            format!(
                "use `every_days` of at most {LEGACY_ITEM_MAX_DAYS}, a weekly (`days`) or monthly (`monthly`) schedule, or leave \"tasks\" out of gpo.include and create the task by hand on the servers without Task Scheduler 2.0"
            ),
        );
    }
}

/// Monthly tasks that reach a 2003 server through the GPO and whose UTC start falls on another day
/// than the local one: their legacy item must move the day with it, which a weekday of one week
/// and a day moved outside 1-28 cannot (model::schedule::legacy_shift_problem). Refused at
/// resolve time, located at `monthly`, so `validate` and `build` agree.
fn check_legacy_month_days(
    raw: &[RawKill],
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    zone: Option<&crate::model::Zone>,
) {
    let Some(zone) = zone else {
        return;
    };
    for (i, r) in raw.iter().enumerate() {
        let Some(monthly) = &r.monthly else {
            continue;
        };
        let legacy = r
            .servers
            .iter()
            .filter_map(|n| names.find(n).map(|idx| &servers[idx]))
            .find(|s| !s.os.has_task_scheduler2());
        let (Some(server), Ok((hour, minute))) = (legacy, crate::model::parse_hhmm(&r.at)) else {
            continue;
        };
        let start = r
            .start
            .as_deref()
            .unwrap_or(crate::model::schedule::DEFAULT_START);
        let Ok(date) = start.parse::<jiff::civil::Date>() else {
            continue;
        };
        let shift = crate::model::schedule::utc_day_shift(date, hour, minute, &zone.tz);
        let Some(why) =
            shift.and_then(|s| crate::model::schedule::legacy_shift_problem(monthly, s))
        else {
            continue;
        };
        ctx.error(
            &format!("kill[{i}].monthly"),
            format!(
                "this monthly schedule at {} ({}) cannot reach `{}` ({}) through the GPO: {why}",
                r.at,
                zone.name,
                server.name,
                server.os.label()
            ),
            "choose a time whose UTC equivalent falls on the same day, or days of the month that stay within 1-28 when moved by a day, or leave \"tasks\" out of gpo.include and create the task by hand on the servers without Task Scheduler 2.0",
        );
    }
}

/// One kill task, or None when it has an error.
fn resolve_kill(ctx: &mut Ctx, names: &Names, p: &str, r: &RawKill) -> Option<Kill> {
    let mut ok = ctx.check(
        &format!("{p}.image"),
        check_image(&r.image),
        "e.g. `image = \"mssdmn.exe\"`",
    );
    let name = r.name.clone().unwrap_or_else(|| {
        let stem = r
            .image
            .get(..r.image.len().saturating_sub(4))
            .unwrap_or(&r.image);
        format!("KillProc-{stem}")
    });
    if r.name.is_some() || ok {
        ok &= ctx.check(
            &format!("{p}.name"),
            check_task_name(&name),
            "e.g. `name = \"KillProc-mssdmn\"`",
        );
    }
    let schedule = crate::model::schedule::resolve(
        ctx,
        p,
        &RawSchedule {
            at: &r.at,
            every_days: r.every_days,
            days: r.days.as_deref(),
            monthly: r.monthly.as_ref(),
            start: r.start.as_deref(),
        },
    );
    ok &= schedule.is_some();
    if r.servers.is_empty() {
        ctx.error(
            &format!("{p}.servers"),
            "a kill task needs at least one server",
            "list server names from [[server]], e.g. `servers = [\"sharepoint2\"]`",
        );
        ok = false;
    }
    if let Some(svc) = &r.restart_service {
        ok &= ctx.check(
            &format!("{p}.restart_service"),
            crate::model::check_plain_name(svc, 80, false, "service name"),
            "the service name as `sc query` shows it (SERVICE_NAME), e.g. `restart_service = \"SPTimerV3\"`",
        );
    }
    let (servers, servers_ok) = resolve_servers(ctx, names, p, r);
    ok &= servers_ok;
    ok.then_some(Kill {
        name,
        image: r.image.clone(),
        servers,
        schedule: schedule?,
        restart_service: r.restart_service.clone(),
    })
}

/// The servers of a kill task, each once, in name order.
fn resolve_servers(ctx: &mut Ctx, names: &Names, p: &str, r: &RawKill) -> (Vec<usize>, bool) {
    // The list order carries no meaning (the same task goes to each server): name order.
    ctx.server_list(&format!("{p}.servers"), &r.servers, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert!(check_image("mssdmn.exe").is_ok());
        assert!(check_image("WINWORD.EXE").is_ok());
        assert!(check_image("C:\\x\\a.exe").is_err());
        assert!(check_image("a b.exe").is_err());
        assert!(check_image("a&b.exe").is_err());
        assert!(check_image("x%.exe").is_err());
        assert!(check_image("w3wp").is_err());
        assert!(check_image("*.exe").is_err());
    }
}
