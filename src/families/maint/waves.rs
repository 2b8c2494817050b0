//! `[maintenance.installs]`: Windows Update installs in waves (issue 27).
//!
//! Automatic Updates with option 4 ("auto download and schedule the install") installs at
//! `ScheduledInstallDay` (0 every day, 1 Sunday … 7 Saturday) and `ScheduledInstallTime` (a whole
//! hour, 0-23), then restarts when an update needs it (Microsoft KB 328010, "How to configure
//! automatic updates by using Group Policy or registry settings", the AU key's values; wuapi.h,
//! `AutomaticUpdatesScheduledInstallationDay` and `IAutomaticUpdatesSettings::ScheduledInstallationTime`:
//! "0 | 00:00 … 23 | 23:00"). Servers that must not be down together (the two SQL partners, the
//! members of a pool) get different hours: one wave per schedule, `hours_apart` hours apart.
//!
//! Without `waves`, the servers are put in waves here: the fewest waves (two when there are two
//! servers or more) in which no set of servers that must keep one member up has all its members
//! in one wave. Explicit waves are checked against the same sets, each break a located error.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::{Ctx, Names, Server, parse_hhmm};

/// Windows Update installs in waves.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInstalls {
    /// Day of the installs: "sun", "mon", "tue", "wed", "thu", "fri", "sat", or "every" (every day).
    pub day: String,
    /// Hour of the first wave, "HH:00" (server local time): Automatic Updates schedules whole hours.
    pub at: String,
    /// Hours between the starts of two waves (1-12). Default 2. Each wave's installs, the restart
    /// delay and the restart itself must fit in it.
    #[serde(default = "default_hours_apart")]
    pub hours_apart: u32,
    /// The waves, first to last, each a list of servers (names from `[[server]]`); every server of
    /// `[maintenance]` in exactly one. Default: computed so that the two SQL partners are never in
    /// the same wave and no pool has all its members in one wave.
    #[serde(default)]
    pub waves: Option<Vec<Vec<String>>>,
}

fn default_hours_apart() -> u32 {
    2
}

/// Longest spacing between waves (hours).
pub const MAX_HOURS_APART: u32 = 12;
/// Shortest time a wave leaves for the installs themselves (minutes).
pub const MIN_INSTALL_MINUTES: u32 = 30;

/// The waves, resolved.
#[derive(Debug, Clone)]
pub struct Installs {
    pub hours_apart: u32,
    /// Whether sitebundle chose the waves (no `waves` in the site file).
    pub automatic: bool,
    pub waves: Vec<Wave>,
    /// Minutes each wave leaves for the installs: the spacing less the longest restart delay of
    /// the wave's servers and the restart itself.
    pub install_minutes: u32,
    /// Sets of servers that keep one member up, which the waves respect.
    pub keep_up: Vec<KeepUp>,
}

/// One wave: its schedule and servers.
#[derive(Debug, Clone)]
pub struct Wave {
    /// `ScheduledInstallDay`: 0 every day, 1 Sunday … 7 Saturday.
    pub day: u32,
    /// `ScheduledInstallTime`: the hour, 0-23.
    pub hour: u32,
    /// In `[[server]]` order.
    pub servers: Vec<usize>,
}

impl Wave {
    /// "Sunday 03:00", "every day 05:00".
    pub fn when(&self) -> String {
        format!("{} {:02}:00", day_name(self.day), self.hour)
    }
}

/// Servers of which at least one must stay up: the SQL partners, the members of a pool.
#[derive(Debug, Clone)]
pub struct KeepUp {
    /// "the SQL partners", "pool `sharepoint_pool`".
    pub what: String,
    /// In `[[server]]` order, each once.
    pub servers: Vec<usize>,
    /// After [`resolve`]: the members that are not in the waves (no install schedule from the
    /// bundle), removed from `servers`.
    pub outside: Vec<usize>,
}

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// "every day", "Sunday" … "Saturday" for a `ScheduledInstallDay` value.
pub fn day_name(day: u32) -> &'static str {
    match day {
        1 => "Sunday",
        2 => "Monday",
        3 => "Tuesday",
        4 => "Wednesday",
        5 => "Thursday",
        6 => "Friday",
        7 => "Saturday",
        _ => "every day",
    }
}

/// `ScheduledInstallDay` of a `day` value.
fn parse_day(s: &str) -> Result<u32, String> {
    if s == "every" {
        return Ok(0);
    }
    DAYS.iter()
        .position(|d| *d == s)
        .map(|i| i as u32 + 1)
        .ok_or_else(|| {
            format!("`{s}` is not a day: use \"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\" or \"every\"")
        })
}

/// The hour of an `at` value: Automatic Updates takes whole hours only.
fn parse_hour(s: &str) -> Result<u32, String> {
    let (h, m) = parse_hhmm(s)?;
    if m != 0 {
        return Err(format!(
            "`{s}` is not a whole hour: Automatic Updates schedules installs at whole hours (ScheduledInstallTime 0-23); write \"{h:02}:00\""
        ));
    }
    Ok(h)
}

/// The schedule of wave `i`: `hours_apart` hours after the one before, on the next day when it
/// passes midnight (every day stays every day).
fn wave_time(day: u32, hour: u32, hours_apart: u32, i: usize) -> (u32, u32) {
    let total = hour + hours_apart * i as u32;
    let (days_later, hour) = (total / 24, total % 24);
    let day = if day == 0 {
        0
    } else {
        (day - 1 + days_later) % 7 + 1
    };
    (day, hour)
}

/// What the waves must respect, and what the site gives them.
pub struct Inputs<'a, 'n> {
    pub names: &'a Names<'n>,
    pub site: &'a [Server],
    /// The servers of `[maintenance]`, in `[[server]]` order.
    pub servers: &'a [usize],
    /// Restart delay (minutes) of a server.
    pub delay: &'a dyn Fn(usize) -> u32,
    pub keep_up: Vec<KeepUp>,
}

/// Resolves `[maintenance.installs]`; `None` after an error (reported).
pub fn resolve(raw: &RawInstalls, ctx: &mut Ctx, input: Inputs) -> Option<Installs> {
    let p = "maintenance.installs";
    let day = ctx_value(
        ctx,
        &format!("{p}.day"),
        parse_day(&raw.day),
        "e.g. `day = \"sun\"`",
    );
    let hour = ctx_value(
        ctx,
        &format!("{p}.at"),
        parse_hour(&raw.at),
        "e.g. `at = \"03:00\"`",
    );
    let spacing_ok = check_spacing(raw, ctx, &input);
    let keep_up: Vec<KeepUp> = input
        .keep_up
        .iter()
        .map(|k| within(k, input.servers))
        .collect();
    let listed = raw.waves.as_ref().map(Vec::len);
    // A spacing outside its range is its own error, not also a span that is too long.
    let spacing_known = (1..=MAX_HOURS_APART).contains(&raw.hours_apart);
    let span_ok = listed.is_none_or(|n| !spacing_known || check_span(ctx, raw, n));
    let groups = match &raw.waves {
        Some(lists) => explicit_waves(lists, ctx, &input, &keep_up),
        None => automatic_waves(ctx, &input, &keep_up, raw.hours_apart),
    };
    let (day, hour, groups) = (day?, hour?, groups?);
    if !spacing_ok || !span_ok || listed.is_none() && !check_span(ctx, raw, groups.len()) {
        return None;
    }
    let waves = groups
        .into_iter()
        .enumerate()
        .map(|(i, servers)| {
            let (day, hour) = wave_time(day, hour, raw.hours_apart, i);
            Wave { day, hour, servers }
        })
        .collect();
    Some(Installs {
        hours_apart: raw.hours_apart,
        automatic: raw.waves.is_none(),
        waves,
        install_minutes: install_minutes(raw.hours_apart, &input),
        keep_up,
    })
}

fn ctx_value<T>(ctx: &mut Ctx, path: &str, r: Result<T, String>, help: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            ctx.error(path, e, help);
            None
        }
    }
}

/// Minutes a wave leaves for the installs.
fn install_minutes(hours_apart: u32, input: &Inputs) -> u32 {
    let delay = input
        .servers
        .iter()
        .map(|&s| (input.delay)(s))
        .max()
        .unwrap_or(0);
    (hours_apart * 60).saturating_sub(delay + super::model::RESTART_MINUTES)
}

/// `hours_apart` is 1-12 and leaves at least [`MIN_INSTALL_MINUTES`] for the installs.
fn check_spacing(raw: &RawInstalls, ctx: &mut Ctx, input: &Inputs) -> bool {
    let path = "maintenance.installs.hours_apart";
    if !(1..=MAX_HOURS_APART).contains(&raw.hours_apart) {
        ctx.error(
            path,
            format!(
                "hours_apart = {} is outside 1-{MAX_HOURS_APART}",
                raw.hours_apart
            ),
            "the waves of one day start that many hours apart, e.g. `hours_apart = 2`",
        );
        return false;
    }
    let left = install_minutes(raw.hours_apart, input);
    if left < MIN_INSTALL_MINUTES {
        ctx.error(
            path,
            format!(
                "{} hours between waves leave {left} minutes for the installs, after the restart delay and {} minutes for the restart",
                raw.hours_apart,
                super::model::RESTART_MINUTES
            ),
            format!("give each wave more time: at least {MIN_INSTALL_MINUTES} minutes of installs"),
        );
        return false;
    }
    true
}

/// Every wave within one day: the last one starts before the first one's next schedule.
fn check_span(ctx: &mut Ctx, raw: &RawInstalls, waves: usize) -> bool {
    if waves as u32 * raw.hours_apart <= 24 {
        return true;
    }
    let path = if raw.waves.is_some() {
        "maintenance.installs.waves"
    } else {
        "maintenance.installs.hours_apart"
    };
    ctx.error(
        path,
        format!(
            "{waves} waves {} hours apart take longer than a day",
            raw.hours_apart
        ),
        "use fewer waves or fewer hours between them (waves × hours_apart at most 24)",
    );
    false
}

/// A set restricted to the servers in the waves.
fn within(k: &KeepUp, servers: &[usize]) -> KeepUp {
    let (inside, outside) = k
        .servers
        .iter()
        .partition(|s| servers.binary_search(s).is_ok());
    KeepUp {
        what: k.what.clone(),
        servers: inside,
        outside,
    }
}

/// For each set of two servers or more that one wave holds entirely: (wave, set).
pub fn broken(waves: &[Vec<usize>], keep_up: &[KeepUp]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (k, set) in keep_up.iter().enumerate() {
        if set.servers.len() < 2 {
            continue;
        }
        if let Some(w) = waves
            .iter()
            .position(|wave| set.servers.iter().all(|s| wave.contains(s)))
        {
            out.push((w, k));
        }
    }
    out
}

/// The waves the site lists: every maintained server in one, none broken.
fn explicit_waves(
    lists: &[Vec<String>],
    ctx: &mut Ctx,
    input: &Inputs,
    keep_up: &[KeepUp],
) -> Option<Vec<Vec<usize>>> {
    let p = "maintenance.installs.waves";
    let mut ok = true;
    if lists.is_empty() {
        ctx.error(
            p,
            "`waves` is empty",
            "list the waves, or remove `waves` to have them computed",
        );
        return None;
    }
    let mut wave_of: HashMap<usize, usize> = HashMap::new();
    let mut waves = Vec::new();
    // Unknown names stop the checks that depend on every server being placed (a misspelt name
    // would otherwise also be "in no wave").
    let mut names_ok = true;
    for (w, list) in lists.iter().enumerate() {
        let (servers, good) = ctx.server_list(&format!("{p}[{w}]"), list, input.names);
        names_ok &= good;
        ok &= wave_members_ok(ctx, w, list, &servers, input, &mut wave_of);
        if list.is_empty() {
            ctx.error(
                &format!("{p}[{w}]"),
                "a wave needs at least one server",
                "remove the empty wave",
            );
            ok = false;
        }
        waves.push(servers);
    }
    if !names_ok {
        return None;
    }
    for &s in input.servers {
        if !wave_of.contains_key(&s) {
            ctx.error(
                p,
                format!(
                    "`{}` is in [maintenance] but in no wave",
                    input.site[s].name
                ),
                "add it to one wave (or to maintenance.skip)",
            );
            ok = false;
        }
    }
    for (w, k) in broken(&waves, keep_up) {
        ctx.error(
            &format!("{p}[{w}]"),
            format!(
                "wave {} holds every member of {} ({}): Windows Update would restart them in the same hours",
                w + 1,
                keep_up[k].what,
                names_of(input.site, &keep_up[k].servers)
            ),
            "move one of them to another wave, or remove `waves` to have them computed",
        );
        ok = false;
    }
    ok.then_some(waves)
}

/// The servers of wave `w` are maintained and in no other wave.
fn wave_members_ok(
    ctx: &mut Ctx,
    w: usize,
    list: &[String],
    servers: &[usize],
    input: &Inputs,
    wave_of: &mut HashMap<usize, usize>,
) -> bool {
    let mut ok = true;
    for &s in servers {
        let name = &input.site[s].name;
        let j = list
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .unwrap_or(0);
        let at = format!("maintenance.installs.waves[{w}][{j}]");
        if input.servers.binary_search(&s).is_err() {
            ctx.error(
                &at,
                format!("`{name}` is not a server of [maintenance] (see its `servers` and `skip`)"),
                "only the servers that get maintenance mode get an install schedule: remove it from the wave",
            );
            ok = false;
        } else if let Some(other) = wave_of.insert(s, w) {
            ctx.error(
                &at,
                format!("`{name}` is already in wave {}", other + 1),
                "a server installs in one wave: list it once",
            );
            ok = false;
        }
    }
    ok
}

fn names_of(site: &[Server], servers: &[usize]) -> String {
    let names: Vec<&str> = servers.iter().map(|&s| site[s].name.as_str()).collect();
    names.join(", ")
}

/// The fewest waves (from two, when there are two servers or more) that break no set, within a
/// day at the given spacing; an error when there are none.
fn automatic_waves(
    ctx: &mut Ctx,
    input: &Inputs,
    keep_up: &[KeepUp],
    hours_apart: u32,
) -> Option<Vec<Vec<usize>>> {
    let n = input.servers.len();
    let most = (24 / hours_apart.max(1)).max(1) as usize;
    let fewest = n.min(2);
    for k in fewest..=most.min(n.max(1)) {
        let waves = greedy(input.servers, keep_up, k);
        if broken(&waves, keep_up).is_empty() {
            return Some(waves);
        }
    }
    ctx.error(
        "maintenance.installs",
        format!(
            "the servers cannot be put in {most} waves or fewer so that every pool and the SQL partners keep a member up"
        ),
        "list the waves yourself with `waves = [[…], […]]`, or fewer hours between them",
    );
    None
}

/// Servers in `[[server]]` order, each into the wave that holds the fewest of the servers it
/// shares a set with (ties: the smaller wave, then the earlier).
fn greedy(servers: &[usize], keep_up: &[KeepUp], k: usize) -> Vec<Vec<usize>> {
    let mut waves: Vec<Vec<usize>> = vec![Vec::new(); k];
    let mut wave_of: HashMap<usize, usize> = HashMap::new();
    let mut sets_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, set) in keep_up.iter().enumerate() {
        for &s in &set.servers {
            sets_of.entry(s).or_default().push(i);
        }
    }
    for &s in servers {
        let mut mates = vec![0usize; k];
        for &set in sets_of.get(&s).map(Vec::as_slice).unwrap_or(&[]) {
            for m in &keep_up[set].servers {
                if let Some(&w) = wave_of.get(m) {
                    mates[w] += 1;
                }
            }
        }
        let w = (0..k)
            .min_by_key(|&w| (mates[w], waves[w].len(), w))
            .unwrap_or(0);
        waves[w].push(s);
        wave_of.insert(s, w);
    }
    waves.retain(|w| !w.is_empty());
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(what: &str, servers: &[usize]) -> KeepUp {
        KeepUp {
            what: what.into(),
            servers: servers.to_vec(),
            outside: Vec::new(),
        }
    }

    #[test]
    fn days_and_hours() {
        assert_eq!(parse_day("sun"), Ok(1));
        assert_eq!(parse_day("sat"), Ok(7));
        assert_eq!(parse_day("every"), Ok(0));
        assert!(parse_day("Sunday").is_err());
        assert_eq!(parse_hour("03:00"), Ok(3));
        assert!(parse_hour("03:30").unwrap_err().contains("03:00"));
        // Saturday 23:00 + 2 hours is Sunday 01:00; every day stays every day.
        assert_eq!(wave_time(7, 23, 2, 1), (1, 1));
        assert_eq!(wave_time(0, 23, 2, 1), (0, 1));
        assert_eq!(wave_time(1, 3, 2, 2), (1, 7));
    }

    #[test]
    fn greedy_separates_partners_and_pools() {
        // sql 0,1; pool 2..6; a second pool sharing 5 and 6 with the first.
        let keep = vec![
            set("sql", &[0, 1]),
            set("p1", &[2, 3, 4, 5, 6]),
            set("p2", &[5, 6]),
        ];
        let servers: Vec<usize> = (0..7).collect();
        let waves = greedy(&servers, &keep, 2);
        assert_eq!(waves.len(), 2);
        assert!(broken(&waves, &keep).is_empty(), "{waves:?}");
        // The control: everything in one wave breaks every set.
        assert_eq!(broken(std::slice::from_ref(&servers), &keep).len(), 3);
    }

    #[test]
    fn broken_ignores_sets_of_one() {
        let keep = vec![set("single", &[0]), set("pair", &[1, 2])];
        assert_eq!(broken(&[vec![0], vec![1, 2]], &keep), vec![(1, 1)]);
    }
}
