//! Calendar schedules, the same keys for every scheduled task of every family: `at = "HH:MM"` and
//! one of `every_days = N` (counted from the task's own `start`), `days = ["sun", …]` (weekly),
//! `monthly = { days = [1, 15] }` or `monthly = { week = "first", day = "mon" }`.
//!
//! A [`Schedule`] is written as Task Scheduler 2.0 XML (`ScheduleByDay`, `ScheduleByWeek`,
//! `ScheduleByMonth`, `ScheduleByMonthDayOfWeek`: the Task Scheduler schema,
//! `tests/schemas/task-scheduler.xsd`), as a legacy Group Policy Preferences trigger (`DAILY`,
//! `WEEKLY`, `MONTHLY`: [MS-GPPREF] 2.2.1.18.1), and in the runbook in words and in `schtasks`
//! terms (`/SC DAILY /MO n`, `/SC WEEKLY /D SUN`, `/SC MONTHLY /D 15`, `/SC MONTHLY /MO FIRST /D
//! MON`: "schtasks create", learn.microsoft.com/windows-server/administration/windows-commands/schtasks-create).

use jiff::civil::{Date, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};

use super::{Ctx, parse_hhmm};
use crate::diag::{Code, Severity};

/// The date `every_days` counts from when a task names no `start` (a fixed date, so a rebuild never
/// moves a task to other days; never `site.changed`).
pub const DEFAULT_START: &str = "2010-01-01";

/// How many days the UTC moment of a local start lies from its local date (−1, 0 or +1): a
/// legacy (Task Scheduler 1.0) Group Policy item states its start in UTC ([MS-GPPREF] 2.2.1.18.1
/// "startHour … MUST be the UTC hour"), so its day of the week or of the month is the UTC day
/// that time falls on, and moves with it (issue 27: Sunday 21:30 in New York is Monday 02:30
/// UTC). `None` when the local time does not exist in the zone that day.
pub fn utc_day_shift(date: Date, hour: u32, minute: u32, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let local = date.at(hour as i8, minute as i8, 0, 0);
    let utc = local
        .to_zoned(zone.clone())
        .ok()?
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .datetime();
    Some((utc.date() - date).get_days() as i64)
}

/// Why a monthly schedule whose UTC start lies `shift` days from its local date cannot be a
/// legacy item: the day before the first Monday, or after the last Friday, is no fixed week of
/// the month; and a day of the month moved outside 1-28 is missing in some months (day 0 is the
/// previous month's last day, day 29 does not exist in February).
pub fn legacy_shift_problem(by: &By, shift: i64) -> Option<String> {
    if shift == 0 {
        return None;
    }
    let utc_day = if shift > 0 {
        "the next day"
    } else {
        "the day before"
    };
    let days = match by {
        By::MonthWeekday { .. } => {
            return Some(format!(
                "its start is {utc_day} in UTC, and a weekday of one week moved by a day is no fixed week of the month"
            ));
        }
        By::MonthDays { days } => days,
        _ => return None,
    };
    let bad: Vec<String> = days
        .iter()
        .filter(|&&d| !(1..=LAST_COMMON_DAY as i64).contains(&(d as i64 + shift)))
        .map(|d| d.to_string())
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "its start is {utc_day} in UTC, which moves day(s) {} of the month outside 1-{LAST_COMMON_DAY}",
            bad.join(", ")
        )
    })
}

/// The last day of the month every month has: days 29-31 are skipped in shorter months by Task
/// Scheduler, so they are refused (see [`check_month_day`]).
const LAST_COMMON_DAY: u32 = 28;

/// `monthly = { days = [1, 15] }` or `monthly = { week = "first", day = "mon" }`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMonthly {
    /// Days of the month, 1-28, e.g. `[1, 15]`.
    #[serde(default)]
    pub days: Option<Vec<u32>>,
    /// Which week of the month, with `day`: "first", "second", "third", "fourth" or "last".
    #[serde(default)]
    pub week: Option<String>,
    /// Day of the week, with `week`: "sun", "mon", "tue", "wed", "thu", "fri" or "sat".
    #[serde(default)]
    pub day: Option<String>,
}

/// The schedule keys of one task, as read (borrowed from the family's raw section).
pub struct RawSchedule<'a> {
    pub at: &'a str,
    pub every_days: Option<u32>,
    pub days: Option<&'a [String]>,
    pub monthly: Option<&'a RawMonthly>,
    pub start: Option<&'a str>,
}

/// A day of the week; serialized as Task Scheduler XML names it (`Sunday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Day {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

pub const DAYS: [Day; 7] = [
    Day::Sunday,
    Day::Monday,
    Day::Tuesday,
    Day::Wednesday,
    Day::Thursday,
    Day::Friday,
    Day::Saturday,
];

impl Day {
    /// The site-file spelling, which is also `schtasks /D` upper-cased: `sun`.
    pub fn short(self) -> &'static str {
        ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][self as usize]
    }
    pub fn name(self) -> &'static str {
        [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ][self as usize]
    }
    /// Bit of the day in the legacy `days` mask: Sunday 1, Monday 2, … Saturday 64 ([MS-GPPREF]
    /// 2.2.1.18.1, `days`).
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }
    pub fn of(w: Weekday) -> Day {
        DAYS[w.to_sunday_zero_offset() as usize]
    }
    fn parse(s: &str) -> Option<Day> {
        DAYS.into_iter().find(|d| d.short() == s)
    }
}

/// Which week of the month; serialized as Task Scheduler XML writes it (`1`-`4`, `Last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Week {
    #[serde(rename = "1")]
    First,
    #[serde(rename = "2")]
    Second,
    #[serde(rename = "3")]
    Third,
    #[serde(rename = "4")]
    Fourth,
    #[serde(rename = "Last")]
    Last,
}

const WEEKS: [(&str, Week); 5] = [
    ("first", Week::First),
    ("second", Week::Second),
    ("third", Week::Third),
    ("fourth", Week::Fourth),
    ("last", Week::Last),
];

impl Week {
    /// As Task XML writes it in `Weeks/Week` (the serialized form): `1`-`4`, `Last`.
    pub fn xml(self) -> &'static str {
        match self {
            Week::First => "1",
            Week::Second => "2",
            Week::Third => "3",
            Week::Fourth => "4",
            Week::Last => "Last",
        }
    }

    /// `first` … `last`: the site-file spelling, upper-cased for `schtasks /MO` and the legacy
    /// `week` attribute.
    pub fn word(self) -> &'static str {
        WEEKS
            .iter()
            .find(|(_, w)| *w == self)
            .map(|(s, _)| *s)
            .unwrap_or("last")
    }
}

/// How the days of a schedule repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum By {
    /// Every `interval` days from the start date.
    Days { interval: u32 },
    /// Every week on these days (Sunday first).
    Weeks { days: Vec<Day> },
    /// Every month on these days of the month (ascending, 1-28).
    MonthDays { days: Vec<u32> },
    /// Every month on one weekday of one week.
    MonthWeekday { week: Week, day: Day },
}

/// When a task runs: from `start` (local date of the server) at `hour:minute` (local time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    #[serde(serialize_with = "as_text")]
    pub start: Date,
    pub hour: u32,
    pub minute: u32,
    pub by: By,
    /// `YYYY-MM-DDTHH:MM:SS`, local time: Task Scheduler's `StartBoundary`.
    pub start_boundary: String,
}

fn as_text<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

impl Schedule {
    pub fn new(start: Date, hour: u32, minute: u32, by: By) -> Schedule {
        Schedule {
            start_boundary: format!("{start}T{hour:02}:{minute:02}:00"),
            start,
            hour,
            minute,
            by,
        }
    }

    /// Every day at `hour:minute`, from the default start date.
    pub fn daily(hour: u32, minute: u32) -> Schedule {
        let start: Date = DEFAULT_START
            .parse()
            .expect("the default start date parses");
        Schedule::new(start, hour, minute, By::Days { interval: 1 })
    }

    /// `02:30`.
    pub fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// The schedule in words, e.g. "every Sunday and Wednesday at 02:30".
    pub fn words(&self) -> String {
        let at = self.time();
        match &self.by {
            By::Days { interval: 1 } => format!("every day at {at}"),
            By::Days { interval } => format!(
                "every {interval} days at {at}, counted from {} (runs on {}, then every {interval} days)",
                self.start, self.start
            ),
            By::Weeks { days } => {
                let names: Vec<&str> = days.iter().map(|d| d.name()).collect();
                format!("every {} at {at}", join_words(&names))
            }
            By::MonthDays { days } => {
                let names: Vec<String> = days.iter().map(|d| ordinal(*d)).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                format!("on the {} of every month at {at}", join_words(&names))
            }
            By::MonthWeekday { week, day } => {
                format!(
                    "on the {} {} of every month at {at}",
                    week.word(),
                    day.name()
                )
            }
        }
    }

    /// The `schtasks /Create` schedule options of this schedule, one line per trigger
    /// (`schtasks` takes one day of the month per task, so several days give several lines).
    /// Every N days counts from `/SD`, shown as MM/DD/YYYY (the en-US short date; schtasks reads
    /// the server's own short date format).
    pub fn schtasks(&self) -> Vec<String> {
        // The start date matters for every N days, and for any schedule that starts later than
        // the default (schtasks' own default is the day of registration).
        let counted = matches!(self.by, By::Days { interval } if interval > 1);
        let sd = if counted || self.start != default_start() {
            format!(
                " /SD {:02}/{:02}/{}",
                self.start.month(),
                self.start.day(),
                self.start.year()
            )
        } else {
            String::new()
        };
        let st = format!("{sd} /ST {}", self.time());
        match &self.by {
            By::Days { interval } => vec![format!("/SC DAILY /MO {interval}{st}")],
            By::Weeks { days } => {
                let d: Vec<String> = days.iter().map(|d| d.short().to_uppercase()).collect();
                vec![format!("/SC WEEKLY /D {}{st}", d.join(","))]
            }
            By::MonthDays { days } => days
                .iter()
                .map(|d| format!("/SC MONTHLY /D {d}{st}"))
                .collect(),
            By::MonthWeekday { week, day } => vec![format!(
                "/SC MONTHLY /MO {} /D {}{st}",
                week.word().to_uppercase(),
                day.short().to_uppercase()
            )],
        }
    }
}

fn default_start() -> Date {
    DEFAULT_START
        .parse()
        .expect("the default start date parses")
}

fn join_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// 1st, 2nd, 3rd, 4th … 21st, 22nd, 23rd, 28th.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A day of the month every month has.
fn check_month_day(d: u32) -> Result<(), String> {
    if (1..=LAST_COMMON_DAY).contains(&d) {
        return Ok(());
    }
    if (29..=31).contains(&d) {
        return Err(format!(
            "day {d} does not exist in every month: Task Scheduler skips the months without it, so the task would not run in February{}",
            if d == 31 {
                ", April, June, September and November"
            } else if d == 30 {
                ""
            } else {
                " of most years"
            }
        ));
    }
    Err(format!("day {d} is not a day of the month (1-28)"))
}

/// Resolves the schedule keys at `p` (the task's table, e.g. `kill[0]`), reporting every finding.
pub fn resolve(ctx: &mut Ctx, p: &str, raw: &RawSchedule) -> Option<Schedule> {
    let time = match parse_hhmm(raw.at) {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.error(&format!("{p}.at"), e, "e.g. `at = \"02:30\"`");
            None
        }
    };
    let start = resolve_start(ctx, p, raw.start);
    let by = resolve_by(ctx, p, raw);
    let ((hour, minute), start, by) = (time?, start?, by?);
    Some(Schedule::new(start, hour, minute, by))
}

fn resolve_start(ctx: &mut Ctx, p: &str, start: Option<&str>) -> Option<Date> {
    let text = start.unwrap_or(DEFAULT_START);
    let parsed = (text.len() == 10)
        .then(|| text.parse::<Date>().ok())
        .flatten()
        .filter(|d| (2000..=2099).contains(&d.year()));
    if parsed.is_none() {
        ctx.error(
            &format!("{p}.start"),
            format!("`{text}` is not a date YYYY-MM-DD between 2000 and 2099"),
            "e.g. `start = \"2010-01-04\"` (the first day the task runs; `every_days` counts from it)",
        );
    }
    parsed
}

/// Which of `every_days`, `days`, `monthly` the task uses (at most one; none means every day).
fn resolve_by(ctx: &mut Ctx, p: &str, raw: &RawSchedule) -> Option<By> {
    let given: Vec<&str> = [
        raw.every_days.map(|_| "every_days"),
        raw.days.map(|_| "days"),
        raw.monthly.map(|_| "monthly"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        ctx.error(
            &format!("{p}.{}", given[1]),
            format!(
                "a task has one schedule, but this one has both `{}` and `{}`",
                given[0], given[1]
            ),
            "keep one: `every_days = N` (every N days), `days = [\"sun\"]` (weekly) or `monthly = { days = [1] }` / `monthly = { week = \"first\", day = \"mon\" }`",
        );
        return None;
    }
    if let Some(days) = raw.days {
        return resolve_weekdays(ctx, &format!("{p}.days"), days).map(|days| By::Weeks { days });
    }
    if let Some(m) = raw.monthly {
        return resolve_monthly(ctx, &format!("{p}.monthly"), m);
    }
    let interval = raw.every_days.unwrap_or(1);
    if !(1..=365).contains(&interval) {
        ctx.error(
            &format!("{p}.every_days"),
            format!("every_days = {interval} is outside 1-365"),
            "Task Scheduler's DaysInterval accepts 1 to 365; for a weekly task write `days = [\"sun\"]`",
        );
        return None;
    }
    Some(By::Days { interval })
}

/// A weekly day list: known names, each once, at least one; Sunday first.
fn resolve_weekdays(ctx: &mut Ctx, p: &str, names: &[String]) -> Option<Vec<Day>> {
    if names.is_empty() {
        ctx.error(
            p,
            "`days` is empty: the task would never run",
            "list at least one day, e.g. `days = [\"sun\"]`",
        );
        return None;
    }
    let mut ok = true;
    let mut days = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let at = format!("{p}[{i}]");
        match resolve_day(ctx, &at, n) {
            Some(d) if days.contains(&d) => {
                ctx.report(
                    Severity::Error,
                    Code::ListedTwice,
                    &at,
                    format!("`{n}` is listed twice"),
                    "list each day once",
                );
                ok = false;
            }
            Some(d) => days.push(d),
            None => ok = false,
        }
    }
    days.sort();
    ok.then_some(days)
}

/// One day name: `sun` … `sat`, with the spelling to use when it is close.
fn resolve_day(ctx: &mut Ctx, at: &str, name: &str) -> Option<Day> {
    if let Some(d) = Day::parse(name) {
        return Some(d);
    }
    let lower = name.to_ascii_lowercase();
    let close = Day::parse(&lower)
        .or_else(|| {
            DAYS.into_iter()
                .find(|d| d.name().eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            crate::diag::suggest(&lower, DAYS.iter().map(|d| d.short())).and_then(Day::parse)
        });
    let help = match close {
        Some(d) => format!("write `\"{}\"` ({})", d.short(), d.name()),
        None => "use three-letter English day names: \"sun\", \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\"".into(),
    };
    ctx.error(at, format!("`{name}` is not a day of the week"), help);
    None
}

fn resolve_monthly(ctx: &mut Ctx, p: &str, m: &RawMonthly) -> Option<By> {
    let example =
        "`monthly = { days = [1, 15] }` or `monthly = { week = \"first\", day = \"mon\" }`";
    match (&m.days, &m.week, &m.day) {
        (Some(days), None, None) => resolve_month_days(ctx, &format!("{p}.days"), days),
        (None, Some(week), Some(day)) => {
            let week_at = format!("{p}.week");
            let w = WEEKS
                .iter()
                .find(|(s, _)| *s == week.as_str())
                .map(|(_, w)| *w);
            if w.is_none() {
                let help = match crate::diag::suggest(
                    &week.to_ascii_lowercase(),
                    WEEKS.iter().map(|(s, _)| *s),
                ) {
                    Some(s) => format!("write `week = \"{s}\"`"),
                    None => "use \"first\", \"second\", \"third\", \"fourth\" or \"last\"".into(),
                };
                ctx.error(
                    &week_at,
                    format!("`{week}` is not a week of the month"),
                    help,
                );
            }
            let d = resolve_day(ctx, &format!("{p}.day"), day);
            Some(By::MonthWeekday { week: w?, day: d? })
        }
        (Some(_), _, _) => {
            let extra = if m.week.is_some() { "week" } else { "day" };
            ctx.error(
                &format!("{p}.{extra}"),
                format!("`monthly` has both `days` and `{extra}`"),
                format!("keep one form: {example}"),
            );
            None
        }
        (None, None, None) => {
            ctx.error(p, "`monthly` names no day", format!("write {example}"));
            None
        }
        (None, week, _) => {
            let missing = if week.is_none() { "week" } else { "day" };
            ctx.error(
                p,
                format!("`monthly` needs `{missing}` too"),
                format!("write {example}"),
            );
            None
        }
    }
}

fn resolve_month_days(ctx: &mut Ctx, p: &str, days: &[u32]) -> Option<By> {
    if days.is_empty() {
        ctx.error(
            p,
            "`monthly.days` is empty: the task would never run",
            "list at least one day, e.g. `monthly = { days = [1] }`",
        );
        return None;
    }
    let mut ok = true;
    let mut seen = Vec::new();
    for (i, &d) in days.iter().enumerate() {
        let at = format!("{p}[{i}]");
        if let Err(e) = check_month_day(d) {
            ctx.error(
                &at,
                e,
                "use days 1-28, or `monthly = { week = \"last\", day = \"fri\" }` for the end of the month",
            );
            ok = false;
        } else if seen.contains(&d) {
            ctx.error(
                &at,
                format!("day {d} is listed twice"),
                "list each day once",
            );
            ok = false;
        } else {
            seen.push(d);
        }
    }
    seen.sort();
    ok.then_some(By::MonthDays { days: seen })
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_day_shift_both_ways() {
        let tz = |n: &str| jiff::tz::db().get(n).unwrap();
        let sunday: Date = "2010-01-03".parse().unwrap();
        // Sunday 21:30 in New York is Monday 02:30 UTC; 08:00 in Auckland the day before in UTC.
        assert_eq!(
            utc_day_shift(sunday, 21, 30, &tz("America/New_York")),
            Some(1)
        );
        assert_eq!(
            utc_day_shift(sunday, 8, 0, &tz("Pacific/Auckland")),
            Some(-1)
        );
        assert_eq!(
            utc_day_shift(sunday, 12, 0, &tz("America/Los_Angeles")),
            Some(0)
        );
        let days = |d: Vec<u32>| By::MonthDays { days: d };
        assert!(legacy_shift_problem(&days(vec![1, 27]), 1).is_none());
        assert!(legacy_shift_problem(&days(vec![1, 28]), 1).is_some());
        assert!(legacy_shift_problem(&days(vec![1, 28]), -1).is_some());
        assert!(legacy_shift_problem(&days(vec![2, 28]), -1).is_none());
        let week = By::MonthWeekday {
            week: Week::First,
            day: Day::Monday,
        };
        assert!(legacy_shift_problem(&week, 0).is_none());
        assert!(legacy_shift_problem(&week, 1).is_some());
    }

    use super::*;

    #[test]
    fn week_xml_is_the_serialized_form() {
        for (_, w) in WEEKS {
            assert_eq!(serde_json::to_value(w).unwrap(), w.xml(), "{w:?}");
        }
    }

    #[test]
    fn words_and_schtasks() {
        let start: Date = "2010-01-04".parse().unwrap();
        let s = Schedule::new(
            start,
            2,
            30,
            By::Weeks {
                days: vec![Day::Sunday, Day::Wednesday],
            },
        );
        assert_eq!(s.words(), "every Sunday and Wednesday at 02:30");
        // A start later than the default is stated (/SD), the default one is not.
        assert_eq!(
            s.schtasks(),
            ["/SC WEEKLY /D SUN,WED /SD 01/04/2010 /ST 02:30"]
        );
        assert_eq!(s.start_boundary, "2010-01-04T02:30:00");
        let m = Schedule::new(
            start,
            23,
            5,
            By::MonthDays {
                days: vec![1, 2, 3, 22],
            },
        );
        assert_eq!(
            m.words(),
            "on the 1st, 2nd, 3rd and 22nd of every month at 23:05"
        );
        assert_eq!(m.schtasks().len(), 4);
        let w = Schedule::new(
            default_start(),
            0,
            0,
            By::MonthWeekday {
                week: Week::Last,
                day: Day::Friday,
            },
        );
        assert_eq!(w.schtasks(), ["/SC MONTHLY /MO LAST /D FRI /ST 00:00"]);
        let every = Schedule::new(default_start(), 4, 0, By::Days { interval: 3 });
        assert_eq!(
            every.schtasks(),
            ["/SC DAILY /MO 3 /SD 01/01/2010 /ST 04:00"]
        );
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }

    #[test]
    fn day_bits_follow_gppref() {
        assert_eq!(Day::Sunday.bit(), 1);
        assert_eq!(Day::Saturday.bit(), 64);
        assert_eq!(Day::of(Weekday::Friday), Day::Friday);
    }
}
