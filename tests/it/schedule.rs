//! Schedules: every form a task's schedule is written in gives the same next run times.
//!
//! Random sites (a 2003 and a 2008 server, a GPO, several kill tasks with random schedules and a
//! random time zone) are built; for each task the next run times are computed from each form's
//! own parsed text, with that form's semantics:
//!
//! * the Task XML (`tasks/NAME.xml`, UTF-16) and the TaskV2 item's embedded task: Task Scheduler
//!   2.0 calendar triggers, as the Task Scheduler schema reference describes them (MicrosoftDocs/win32
//!   desktop-src/TaskSchd/taskschedulerschema-*-element.md: `ScheduleByDay` every `DaysInterval`
//!   days from the `StartBoundary` date, `ScheduleByWeek` on the listed `DaysOfWeek`,
//!   `ScheduleByMonth` on the listed `DaysOfMonth` of the listed `Months`,
//!   `ScheduleByMonthDayOfWeek` on the listed day of the listed `Weeks`, "1-4 … or Last … the last
//!   week regardless of which week it is"; never before the `StartBoundary`, at its time of day);
//! * the legacy item: [MS-GPPREF] 2.2.1.18.1 (`startHour`/`startMinutes` are UTC; `days` Sunday 1
//!   … Saturday 64; `months` January 1 … December 2048; `week` FIRST … LAST; `interval` in days or
//!   weeks) with Task Scheduler 1.0's trigger semantics (m417z/windows-docs-scraper
//!   sdk-api/mstask/ns-mstask-task_trigger.c and ns-mstask-monthlydate.md: "rgfDays … Bit 0
//!   corresponds to the first of the month"). The trigger is one description in UTC: the client
//!   is modelled as converting the UTC begin date and time to local time with the zone's offset
//!   on that date, and the weekdays and days of the month with it (a WEEKLY trigger at 02:30 UTC
//!   on Monday is Sunday 21:30 in New York: issue 27); what a real 2003 client does across
//!   daylight-saving changes is left to the runbook's check;
//! * the runbook's `schtasks /Create` terms (`/SC DAILY /MO n /SD MM/DD/YYYY`, `/SC WEEKLY /D
//!   SUN,…`, `/SC MONTHLY /D n` (one day of the month per task), `/SC MONTHLY /MO FIRST /D MON`,
//!   `/ST HH:MM`: the schtasks /create reference, "/d … MONTHLY: 1-31, only without a modifier or
//!   with 1-12"; "FIRST … LAST with /d MON-SUN").
//!
//! The controls: the legacy start time written as local time (what the generator did before) gives
//! other run times in every zone whose offset is not zero; the weekdays and days of the month left
//! on the local day when the UTC start is on another (the generator before issue 27) give other
//! run times in every site that has such a task. Monthly schedules a legacy item cannot carry (a
//! weekday of one week, or a day leaving 1-28, moved by a day) are refused at resolve time; a
//! random site with one is drawn again, and the refusal is checked to be that one.
//!
//! `SITEBUNDLE_SCHEDULE_SITES` (default 40, six tasks each) and `SITEBUNDLE_SCHEDULE_SEED`.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use roxmltree::{Document, Node};

use crate::common;

const RUNS: usize = 6;
const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "America/Los_Angeles",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const XML_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const XML_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// xorshift64*: a small deterministic generator (the seed is printed for reproduction).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Which days of a calendar a form runs on, and from when.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    EveryDays(i64),
    Weekdays(Vec<u8>),
    MonthDays(Vec<i8>),
    MonthWeekday { week: u8, day: u8 },
}

/// A parsed form: the first moment it may run (local), its time of day and its day rule.
#[derive(Debug, Clone, PartialEq)]
struct Form {
    start: DateTime,
    rule: Rule,
    months: Vec<i8>,
}

impl Form {
    fn runs_on(&self, d: Date) -> bool {
        if !self.months.contains(&d.month()) {
            return false;
        }
        let wd = d.weekday().to_sunday_zero_offset() as u8;
        match &self.rule {
            Rule::EveryDays(n) => {
                let since = (d - self.start.date()).get_days() as i64;
                since >= 0 && since % n == 0
            }
            Rule::Weekdays(days) => days.contains(&wd),
            Rule::MonthDays(days) => days.contains(&d.day()),
            Rule::MonthWeekday { week, day } => {
                let nth = ((d.day() - 1) / 7 + 1) as u8;
                let last = d.checked_add(jiff::Span::new().days(7)).unwrap().month() != d.month();
                wd == *day && (if *week == 5 { last } else { nth == *week })
            }
        }
    }

    /// The next `RUNS` local run times after `after`.
    fn next_runs(&self, after: DateTime) -> Vec<DateTime> {
        let mut out = Vec::new();
        let mut d = after.date();
        while out.len() < RUNS {
            let at = d.to_datetime(self.start.time());
            if at > after && at >= self.start && self.runs_on(d) {
                out.push(at);
            }
            d = d.tomorrow().unwrap();
        }
        out
    }
}

fn all_months() -> Vec<i8> {
    (1..=12).collect()
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Node<'a, 'i> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .unwrap_or_else(|| panic!("<{}> has no <{name}>", n.tag_name().name()))
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

/// A Task Scheduler 2.0 task's CalendarTrigger.
fn task_xml_form(task: Node) -> Form {
    let trig = child(child(task, "Triggers"), "CalendarTrigger");
    let start: DateTime = child(trig, "StartBoundary")
        .text()
        .unwrap()
        .parse()
        .unwrap();
    let sched = elements(trig)
        .find(|c| c.tag_name().name().starts_with("ScheduleBy"))
        .unwrap();
    let day_of = |n: Node| -> Vec<u8> {
        elements(n)
            .map(|d| {
                XML_DAYS
                    .iter()
                    .position(|x| *x == d.tag_name().name())
                    .unwrap() as u8
            })
            .collect()
    };
    let months_of = |s: Node| -> Vec<i8> {
        elements(child(s, "Months"))
            .map(|m| {
                XML_MONTHS
                    .iter()
                    .position(|x| *x == m.tag_name().name())
                    .unwrap() as i8
                    + 1
            })
            .collect()
    };
    let (rule, months) = match sched.tag_name().name() {
        "ScheduleByDay" => (
            Rule::EveryDays(
                child(sched, "DaysInterval")
                    .text()
                    .unwrap()
                    .parse()
                    .unwrap(),
            ),
            all_months(),
        ),
        "ScheduleByWeek" => {
            assert_eq!(child(sched, "WeeksInterval").text(), Some("1"));
            (
                Rule::Weekdays(day_of(child(sched, "DaysOfWeek"))),
                all_months(),
            )
        }
        "ScheduleByMonth" => (
            Rule::MonthDays(
                elements(child(sched, "DaysOfMonth"))
                    .map(|d| d.text().unwrap().parse().unwrap())
                    .collect(),
            ),
            months_of(sched),
        ),
        "ScheduleByMonthDayOfWeek" => {
            let weeks: Vec<Node> = elements(child(sched, "Weeks")).collect();
            assert_eq!(weeks.len(), 1);
            let days = day_of(child(sched, "DaysOfWeek"));
            assert_eq!(days.len(), 1);
            let week = match weeks[0].text().unwrap() {
                "Last" => 5,
                n => n.parse().unwrap(),
            };
            (Rule::MonthWeekday { week, day: days[0] }, months_of(sched))
        }
        other => panic!("unexpected {other}"),
    };
    Form {
        start,
        rule,
        months,
    }
}

/// A legacy item's trigger, its UTC start turned into local time as the client does.
fn legacy_form(trigger: Node, tz: &TimeZone) -> Form {
    let num = |a: &str| -> i64 { trigger.attribute(a).unwrap().parse().unwrap() };
    let opt = |a: &str| -> Option<i64> { trigger.attribute(a).map(|v| v.parse().unwrap()) };
    let utc = jiff::civil::date(
        num("beginYear") as i16,
        num("beginMonth") as i8,
        num("beginDay") as i8,
    )
    .at(num("startHour") as i8, num("startMinutes") as i8, 0, 0);
    let start = utc
        .to_zoned(TimeZone::UTC)
        .unwrap()
        .with_time_zone(tz.clone())
        .datetime();
    let mask_days = |mask: i64| -> Vec<u8> { (0..7).filter(|b| mask & (1 << b) != 0).collect() };
    let months = |mask: i64| -> Vec<i8> {
        (0..12)
            .filter(|b| mask & (1 << b) != 0)
            .map(|b| b as i8 + 1)
            .collect()
    };
    // The day the UTC start lies from the local one: the masks describe UTC days.
    let shift = (utc.date() - start.date()).get_days() as i64;
    let back = |days: Vec<u8>| -> Vec<u8> {
        let mut v: Vec<u8> = days
            .into_iter()
            .map(|d| (d as i64 - shift).rem_euclid(7) as u8)
            .collect();
        v.sort();
        v
    };
    assert_eq!(trigger.attribute("hasEndDate"), Some("0"));
    assert_eq!(trigger.attribute("repeatTask"), Some("0"));
    let (rule, months) = match trigger.attribute("type").unwrap() {
        "DAILY" => (Rule::EveryDays(num("interval")), all_months()),
        "WEEKLY" => {
            assert_eq!(num("interval"), 1);
            (Rule::Weekdays(back(mask_days(num("days")))), all_months())
        }
        "MONTHLY" => match trigger.attribute("week") {
            None => (
                Rule::MonthDays(
                    (0..31)
                        .filter(|b| num("days") & (1 << b) != 0)
                        .map(|b| (b as i64 + 1 - shift) as i8)
                        .collect(),
                ),
                months(num("months")),
            ),
            Some(w) => {
                let week = ["FIRST", "SECOND", "THIRD", "FOURTH", "LAST"]
                    .iter()
                    .position(|x| *x == w)
                    .unwrap() as u8
                    + 1;
                // (Never shifted in a generated item: resolve refuses such a schedule; the
                // local-time control's triggers can be.)
                let days = back(mask_days(num("days")));
                assert_eq!(days.len(), 1);
                (
                    Rule::MonthWeekday { week, day: days[0] },
                    months(opt("months").unwrap_or(0xFFF)),
                )
            }
        },
        other => panic!("unexpected legacy trigger {other}"),
    };
    Form {
        start,
        rule,
        months,
    }
}

/// The runbook's `schtasks` terms of one task: one form per line (several days of the month give
/// several lines, each its own task in schtasks terms); the start is the date of the first run at
/// the earliest, `/SD` when given.
fn schtasks_forms(line: &str, earliest: Date) -> Vec<Form> {
    let args: Vec<&str> = line.split_whitespace().collect();
    let opt = |k: &str| args.iter().position(|a| *a == k).map(|i| args[i + 1]);
    let st: Time = format!("{}:00", opt("/ST").unwrap()).parse().unwrap();
    let sd = opt("/SD").map(|s| {
        let p: Vec<i16> = s.split('/').map(|x| x.parse().unwrap()).collect();
        jiff::civil::date(p[2], p[0] as i8, p[1] as i8)
    });
    let start = sd.unwrap_or(earliest).to_datetime(st);
    let day = |s: &str| {
        DAY_NAMES
            .iter()
            .position(|d| d.eq_ignore_ascii_case(s))
            .unwrap() as u8
    };
    let rule = match (opt("/SC").unwrap(), opt("/MO"), opt("/D")) {
        ("DAILY", Some(n), None) => Rule::EveryDays(n.parse().unwrap()),
        ("WEEKLY", None, Some(d)) => Rule::Weekdays(d.split(',').map(day).collect()),
        ("MONTHLY", None, Some(d)) => Rule::MonthDays(vec![d.parse().unwrap()]),
        ("MONTHLY", Some(w), Some(d)) => Rule::MonthWeekday {
            week: ["FIRST", "SECOND", "THIRD", "FOURTH", "LAST"]
                .iter()
                .position(|x| *x == w)
                .unwrap() as u8
                + 1,
            day: day(d),
        },
        other => panic!("unexpected schtasks terms {other:?} in {line}"),
    };
    vec![Form {
        start,
        rule,
        months: all_months(),
    }]
}

/// Merges the next runs of several forms that together make one schedule.
fn merged(forms: &[Form], after: DateTime) -> Vec<DateTime> {
    let mut all: Vec<DateTime> = forms.iter().flat_map(|f| f.next_runs(after)).collect();
    all.sort();
    all.dedup();
    all.truncate(RUNS);
    all
}

/// One random schedule as site-file keys.
fn random_schedule(rng: &mut Rng) -> String {
    let at = format!("at = \"{:02}:{:02}\"\n", rng.below(24), rng.below(60));
    let pick_days = |rng: &mut Rng, n: u64, max: u64| -> Vec<u64> {
        let mut v: Vec<u64> = (0..n).map(|_| rng.below(max)).collect();
        v.sort();
        v.dedup();
        v
    };
    let body = match rng.below(4) {
        0 => format!(
            "every_days = {}\nstart = \"{}-{:02}-{:02}\"\n",
            1 + rng.below(40),
            2005 + rng.below(20),
            1 + rng.below(12),
            1 + rng.below(28)
        ),
        1 => {
            let n = 1 + rng.below(7);
            let days: Vec<String> = pick_days(rng, n, 7)
                .into_iter()
                .map(|d| format!("\"{}\"", DAY_NAMES[d as usize]))
                .collect();
            format!("days = [{}]\n", days.join(", "))
        }
        2 => {
            let n = 1 + rng.below(4);
            let days: Vec<String> = pick_days(rng, n, 28)
                .into_iter()
                .map(|d| (d + 1).to_string())
                .collect();
            format!("monthly = {{ days = [{}] }}\n", days.join(", "))
        }
        _ => format!(
            "monthly = {{ week = \"{}\", day = \"{}\" }}\n",
            ["first", "second", "third", "fourth", "last"][rng.below(5) as usize],
            DAY_NAMES[rng.below(7) as usize]
        ),
    };
    // Weekly and monthly tasks sometimes start later than the default date too.
    let start = if !body.starts_with("every_days") && rng.below(3) == 0 {
        format!(
            "start = \"{}-{:02}-{:02}\"\n",
            2010 + rng.below(16),
            1 + rng.below(12),
            1 + rng.below(28)
        )
    } else {
        String::new()
    };
    format!("{at}{body}{start}")
}

fn random_site(rng: &mut Rng, zone: &str, tasks: usize) -> String {
    let mut s = format!(
        "[site]\nname = \"sched\"\nchanged = \"2020-01-01 00:00:00\"\ntimezone = \"{zone}\"\nscripts_share = '\\\\fs\\gpo$\\scripts'\n\n[[server]]\nname = \"old1\"\nos = \"2003\"\n\n[[server]]\nname = \"new1\"\nos = \"2008r2\"\n\n"
    );
    for i in 0..tasks {
        s += &format!(
            "[[kill]]\nimage = \"p{i}.exe\"\nservers = [\"old1\", \"new1\"]\n{}\n",
            random_schedule(rng)
        );
    }
    s += "[gpo]\nname = \"Farm\"\ndomain = \"example.org\"\ninclude = [\"tasks\", \"files\"]\n";
    s
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

fn env_u64(k: &str) -> Option<u64> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

/// Every run time of every form of every task in a bundle; `tamper` edits the legacy triggers'
/// text first (the control). Returns the tasks whose forms disagree.
fn disagreements(
    bundle: &sitebundle::bundle::Bundle,
    tz: &TimeZone,
    after: DateTime,
    tamper: &dyn Fn(&str) -> String,
) -> (usize, Vec<String>) {
    let gpp_path = bundle
        .files
        .keys()
        .find(|p| p.ends_with("ScheduledTasks/ScheduledTasks.xml"))
        .unwrap();
    let gpp_text = tamper(std::str::from_utf8(&bundle.files[gpp_path].bytes).unwrap());
    let gpp = Document::parse(&gpp_text).unwrap();
    let runbook = std::str::from_utf8(&bundle.files["README.md"].bytes).unwrap();
    let mut checked = 0;
    let mut bad = Vec::new();
    let items: Vec<Node> = elements(gpp.root_element()).collect();
    for v2 in items.iter().filter(|n| n.tag_name().name() == "TaskV2") {
        let name = v2.attribute("name").unwrap().to_string();
        let xml = utf16(&bundle.files[&format!("tasks/{name}.xml")].bytes);
        let doc = Document::parse(&xml).unwrap();
        let task_xml = task_xml_form(doc.root_element());
        let task_v2 = task_xml_form(child(child(*v2, "Properties"), "Task"));
        let legacy_item = items
            .iter()
            .find(|n| n.tag_name().name() == "Task" && n.attribute("name") == Some(&name))
            .unwrap();
        let legacy: Vec<Form> = elements(child(child(*legacy_item, "Properties"), "Triggers"))
            .map(|t| legacy_form(t, tz))
            .collect();
        let row = runbook
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap();
        let terms = row.rsplit(" | ").next().unwrap();
        let schtasks: Vec<Form> = terms
            .split('`')
            .skip(1)
            .step_by(2)
            // Registered long before `after` (the runbook states `/SD` where it matters).
            .flat_map(|l| schtasks_forms(l, jiff::civil::date(2000, 1, 1)))
            .collect();
        let runs = [
            task_xml.next_runs(after),
            task_v2.next_runs(after),
            merged(&legacy, after),
            merged(&schtasks, after),
        ];
        checked += 1;
        if runs.iter().any(|r| *r != runs[0]) {
            bad.push(format!("{name}: {runs:?}"));
        }
    }
    (checked, bad)
}

#[test]
fn every_form_of_a_schedule_gives_the_same_next_runs() {
    let sites = env_u64("SITEBUNDLE_SCHEDULE_SITES").unwrap_or(40);
    let seed = env_u64("SITEBUNDLE_SCHEDULE_SEED").unwrap_or(0x5EED_2010);
    eprintln!("schedules: {sites} sites of 6 tasks, seed {seed}");
    let mut rng = Rng(seed | 1);
    let (mut checked, mut control_caught, mut control_cases) = (0, 0, 0);
    let (mut shifted_caught, mut shifted_cases, mut refused) = (0, 0, 0);
    for i in 0..sites {
        // Zones whose offsets cross midnight both ways come first, then random ones.
        let zone = match i {
            0 => "America/Los_Angeles",
            1 => "Pacific/Auckland",
            _ => ZONES[rng.below(ZONES.len() as u64) as usize],
        };
        let tz = jiff::tz::db().get(zone).unwrap();
        let text = loop {
            let text = random_site(&mut rng, zone, 6);
            match sitebundle::load_text("sched.toml", &text) {
                Ok(_) => break text,
                Err(d) => {
                    let r = d.render();
                    assert!(
                        r.contains("cannot reach `old1` (Windows Server 2003) through the GPO: its start is"),
                        "{r}"
                    );
                    refused += 1;
                }
            }
        };
        let bundle = common::build_text(&format!("sched-{i}.toml"), &text);
        // Next runs from a moment in 2026 and from one in the past of most start dates.
        for after in ["2026-12-02T03:00:00", "2011-03-27T01:59:00"] {
            let after: DateTime = after.parse().unwrap();
            let (n, bad) = disagreements(&bundle, &tz, after, &|t| t.to_string());
            assert!(bad.is_empty(), "{zone}:\n{}\nsite:\n{text}", bad.join("\n"));
            checked += n;
        }
        // Control: the legacy start hour written as local time (the old generator).
        if zone != "UTC" {
            let after: DateTime = "2026-12-02T03:00:00".parse().unwrap();
            let (_, bad) = disagreements(&bundle, &tz, after, &|t| local_start_hours(t, &tz));
            control_cases += 1;
            control_caught += usize::from(!bad.is_empty());
        }
        // Control: masks left on the local day (the generator before issue 27).
        let after: DateTime = "2026-12-02T03:00:00".parse().unwrap();
        let unshifted = |t: &str| local_day_masks(t, &tz);
        let gpp = bundle
            .files
            .iter()
            .find(|(p, _)| p.ends_with("ScheduledTasks/ScheduledTasks.xml"))
            .map(|(_, a)| std::str::from_utf8(&a.bytes).unwrap().to_string())
            .unwrap();
        if unshifted(&gpp) != gpp {
            let (_, bad) = disagreements(&bundle, &tz, after, &unshifted);
            shifted_cases += 1;
            shifted_caught += usize::from(!bad.is_empty());
        }
    }
    eprintln!(
        "schedules: {shifted_caught}/{shifted_cases} sites with a weekly or monthly task whose UTC start is on another day fail with the masks left on the local day; {refused} drawn sites refused"
    );
    assert!(shifted_cases >= 2, "no site crossed midnight");
    assert_eq!(
        shifted_caught, shifted_cases,
        "the unshifted control must fail"
    );
    eprintln!(
        "schedules: {checked} task schedules agree in 4 forms; the local-time control disagrees in {control_caught}/{control_cases} sites"
    );
    assert!(checked >= sites as usize * 6 * 2);
    assert_eq!(
        control_caught, control_cases,
        "the control must fail in every non-UTC zone"
    );
}

/// The legacy triggers with their begin date and hour written in local time instead of UTC (as
/// the generator did before [MS-GPPREF]'s "UTC hour" was followed).
fn local_start_hours(text: &str, tz: &TimeZone) -> String {
    let doc = Document::parse(text).unwrap();
    let mut out = text.to_string();
    for t in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Trigger")
    {
        let num = |a: &str| -> i64 { t.attribute(a).unwrap().parse().unwrap() };
        let utc = jiff::civil::date(
            num("beginYear") as i16,
            num("beginMonth") as i8,
            num("beginDay") as i8,
        )
        .at(num("startHour") as i8, num("startMinutes") as i8, 0, 0);
        let local = utc
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .with_time_zone(tz.clone())
            .datetime();
        let old = &text[t.range()];
        let new = old
            .replacen(
                &format!("startHour=\"{}\"", num("startHour")),
                &format!("startHour=\"{}\"", local.hour()),
                1,
            )
            .replacen(
                &format!("startMinutes=\"{}\"", num("startMinutes")),
                &format!("startMinutes=\"{}\"", local.minute()),
                1,
            )
            .replacen(
                &format!("beginDay=\"{}\"", num("beginDay")),
                &format!("beginDay=\"{}\"", local.day()),
                1,
            )
            .replacen(
                &format!("beginMonth=\"{}\"", num("beginMonth")),
                &format!("beginMonth=\"{}\"", local.month()),
                1,
            )
            .replacen(
                &format!("beginYear=\"{}\"", num("beginYear")),
                &format!("beginYear=\"{}\"", local.year()),
                1,
            );
        out = out.replacen(old, &new, 1);
    }
    out
}

/// The legacy WEEKLY and MONTHLY (days of the month) triggers with their masks moved back to the
/// local day of the start (the generator before issue 27 kept the local day with a UTC time).
fn local_day_masks(text: &str, tz: &TimeZone) -> String {
    let doc = Document::parse(text).unwrap();
    let mut out = text.to_string();
    for t in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Trigger")
        .filter(|n| matches!(n.attribute("type"), Some("WEEKLY" | "MONTHLY")))
        .filter(|n| n.attribute("week").is_none())
    {
        let num = |a: &str| -> i64 { t.attribute(a).unwrap().parse().unwrap() };
        let utc = jiff::civil::date(
            num("beginYear") as i16,
            num("beginMonth") as i8,
            num("beginDay") as i8,
        )
        .at(num("startHour") as i8, num("startMinutes") as i8, 0, 0);
        let local = utc
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .with_time_zone(tz.clone())
            .datetime();
        let shift = (utc.date() - local.date()).get_days() as i64;
        if shift == 0 {
            continue;
        }
        let days = num("days");
        let moved: i64 = if t.attribute("type") == Some("WEEKLY") {
            (0..7)
                .filter(|b| days & (1 << b) != 0)
                .map(|b| 1i64 << (b - shift).rem_euclid(7))
                .sum()
        } else {
            (0..31)
                .filter(|b| days & (1 << b) != 0)
                .map(|b| 1i64 << (b - shift))
                .sum()
        };
        let old = &text[t.range()];
        let new = old.replacen(&format!("days=\"{days}\""), &format!("days=\"{moved}\""), 1);
        out = out.replacen(old, &new, 1);
    }
    out
}
