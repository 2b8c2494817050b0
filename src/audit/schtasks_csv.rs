//! `schtasks /Query /FO CSV /V`: one record per task and trigger, the header line repeated before
//! every folder's tasks (Server 2008). The header's words are in the display language of the
//! Windows that wrote it (a German Windows writes "AufgabenName", "Nächste Laufzeit",
//! "Status der geplanten Aufgabe": tests/corpus/windows/checkmk-schtasks-de-columns.txt) and in
//! its OEM code page, so columns are never found by name: they are read by their known order per
//! release, and the column count is checked. Server 2003 writes "HostName","TaskName",
//! "Next Run Time","Status","Logon Mode","Last Run Time","Last Result","Creator","Schedule",
//! "Task To Run","Start In","Comment","Scheduled Task State","Scheduled Type","Start Time",
//! "Start Date","End Date","Days","Months","Run As User",… (28 columns; a real 2003 export is the
//! `__DATA__` of natxo asenjo's check_schtasks Nagios plugin, found with the code search), 2008
//! and later "Author" for "Creator", the schedule columns after "Run As User" and a leading `\`
//! on task names (28 columns; e.g. the `csvOutput` fixture of resticprofile's Go `schtasks`
//! package tests, found with the code search). The first line is the header (whatever its words);
//! a line equal to it is the header repeated; a line whose first field is the server's own name
//! is a record, so an export made with `/NH` is recognised and refused.

use super::compare::Found;
use super::csv;
use super::input::{Input, ParseError, lines};
use super::names;
use super::task_xml::join_triggers;
use crate::plan::Account;

/// Where each field is, per release (0-based column numbers, and the count).
struct Layout {
    release: &'static str,
    count: usize,
    name: usize,
    to_run: usize,
    state: usize,
    kind: usize,
    start: usize,
    days: usize,
    run_as: usize,
    every: usize,
}

const W2003: Layout = Layout {
    release: "Server 2003",
    count: 28,
    name: 1,
    to_run: 9,
    state: 12,
    kind: 13,
    start: 14,
    days: 17,
    run_as: 19,
    every: 22,
};

const W2008: Layout = Layout {
    release: "Server 2008 and later",
    count: 28,
    name: 1,
    to_run: 8,
    state: 11,
    kind: 18,
    start: 19,
    days: 22,
    run_as: 14,
    every: 24,
};

/// Every task of the export of `host` (Task Scheduler 2.0 when `v2`), by name (without the
/// leading `\`); several records of one task (one per trigger) become one object whose trigger
/// lists them all.
pub fn parse(input: &Input, v2: bool, host: &str) -> Result<Vec<Found>, ParseError> {
    let layout = if v2 { &W2008 } else { &W2003 };
    let mut header: Option<Vec<String>> = None;
    let mut tasks: Vec<(Found, Vec<Result<String, String>>)> = Vec::new();
    for (at, line) in lines(&input.text) {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with("INFO:") {
            continue;
        }
        let fields = csv::split(line).map_err(|(col, why)| {
            ParseError::new(
                input,
                Some(at + col),
                format!("not a schtasks CSV line: {why}"),
                "collect again with schtasks /Query /FO CSV /V and copy the file whole",
            )
        })?;
        check_count(input, at, layout, fields.len())?;
        let is_record = fields[0].eq_ignore_ascii_case(host);
        if header.is_none() && is_record {
            return Err(ParseError::new(
                input,
                Some(at),
                format!("a record of {host} where the header line belongs (collected with /NH?)"),
                "collect with schtasks /Query /FO CSV /V (without /NH), as the collector does",
            ));
        }
        if header.is_none() || header.as_ref() == Some(&fields) {
            header = Some(fields);
            continue;
        }
        let english = header.as_deref().is_some_and(|h| is_english(h, layout));
        let (name, found, trigger) = record(&fields, layout, english);
        match tasks.iter_mut().find(|(f, _)| f.name == name) {
            Some((_, triggers)) => triggers.push(trigger),
            None => tasks.push((found, vec![trigger])),
        }
    }
    Ok(tasks
        .into_iter()
        .map(|(f, t)| with_trigger(f, &t))
        .collect())
}

/// The task's trigger: every record's, joined; not compared when one of them is unreadable.
fn with_trigger(f: Found, triggers: &[Result<String, String>]) -> Found {
    match triggers.iter().find_map(|t| t.as_ref().err()) {
        Some(raw) => f.unread("trigger", raw.clone()),
        None => {
            let labels: Vec<String> = triggers.iter().filter_map(|t| t.clone().ok()).collect();
            f.with("trigger", join_triggers(&labels))
        }
    }
}

/// An export whose header is Server 2003's English one (the real export of
/// tests/fixtures/audit/schtasks-2003.csv): its values are English, read as they are. Any other
/// header is a display language whose values are translated too (Windows localises "Scheduled
/// Task State", "Scheduled Type", "Days", "Repeat: Every"): they are read through [`STATE_WORDS`]
/// and [`readable_schedule`], and what these do not know is not compared.
fn is_english(header: &[String], l: &Layout) -> bool {
    header[l.state] == "Scheduled Task State"
        && (header[l.kind] == "Scheduled Type" || header[l.kind] == "Schedule Type")
}

/// "Scheduled Task State" values with their meaning, each seen in a real file: `Enabled` and
/// `Disabled` in the real English 2003 export (tests/fixtures/audit/schtasks-2003.csv), German
/// `Aktiviert` in the Checkmk agent plugin that reads `schtasks /query /fo csv -v` on a German
/// Windows (tests/corpus/windows/checkmk-schtasks-de-columns.txt). No real file with the German
/// word for disabled, or the French or Italian words, was found: those are not compared.
const STATE_WORDS: [(&str, bool); 3] =
    [("Enabled", true), ("Disabled", false), ("Aktiviert", true)];

/// Whether a schedule of a translated export is in the English words [`trigger_label`] reads (a
/// Windows that writes English values under translated headers); the translated schedule words
/// are not compared (none was found in a real file with its repository).
fn readable_schedule(kind: &str, days: &str, every: &str) -> bool {
    const KINDS: [&str; 6] = [
        "daily",
        "weekly",
        "monthly",
        "at system start up",
        "one time only, minute",
        "one time only, hourly",
    ];
    const DAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let kind_ok = KINDS.contains(&kind.trim().to_ascii_lowercase().as_str());
    let days = days.trim();
    let days_ok = days == "N/A"
        || days.eq_ignore_ascii_case("everyday")
        || (days.starts_with("Every ") && days.ends_with(" day(s)"))
        || days.split(',').all(|d| DAYS.contains(&d.trim()));
    let every = every.trim();
    let every_ok =
        every == "Disabled" || every == "N/A" || every.chars().any(|c| c.is_ascii_digit());
    kind_ok && days_ok && every_ok
}

fn check_count(input: &Input, at: usize, layout: &Layout, n: usize) -> Result<(), ParseError> {
    if n == layout.count {
        return Ok(());
    }
    Err(ParseError::new(
        input,
        Some(at),
        format!(
            "a line of {n} fields where schtasks /Query /FO CSV /V on {} writes {} (in this order: host name, task name, next run time, status, …; in any display language)",
            layout.release, layout.count
        ),
        "collect again with schtasks /Query /FO CSV /V on the server itself and copy the file whole",
    ))
}

/// One record: the task's name, its fields, its trigger in the words of [`names`] (Err: the
/// schedule as written, in words of a display language that are not read).
fn record(fields: &[String], l: &Layout, english: bool) -> (String, Found, Result<String, String>) {
    let get = |i: usize| fields[i].trim().to_string();
    let name = get(l.name).trim_start_matches('\\').to_string();
    let (kind, days, every) = (get(l.kind), get(l.days), get(l.every));
    let trigger = if english || readable_schedule(&kind, &days, &every) {
        Ok(trigger_label(&kind, &get(l.start), &days, &every))
    } else {
        Err(format!("{kind}, {days}"))
    };
    let state = get(l.state);
    let found = Found::new("task", &name)
        .with("command line", get(l.to_run))
        .with("run as", Account::parse(&get(l.run_as)).key());
    let found = if english {
        found.with(
            "enabled",
            (!state.eq_ignore_ascii_case("Disabled")).to_string(),
        )
    } else {
        match STATE_WORDS
            .iter()
            .find(|(w, _)| state.eq_ignore_ascii_case(w))
        {
            Some((_, on)) => found.with("enabled", on.to_string()),
            None => found.unread("enabled", state),
        }
    };
    (name, found, trigger)
}

/// A schedule in the trigger words of the Task XML side ([`names`]). 2003 writes "Daily " with a
/// trailing blank, "Everyday" or "Every N day(s)" in Days.
pub fn trigger_label(kind: &str, start: &str, days: &str, every: &str) -> String {
    let time = start.trim();
    match kind.trim().to_ascii_lowercase().as_str() {
        "daily" => {
            let n = if days.eq_ignore_ascii_case("everyday") {
                "1".to_string()
            } else {
                days.trim()
                    .trim_start_matches("Every ")
                    .trim_end_matches(" day(s)")
                    .to_string()
            };
            format!("daily at {time} every {n} day(s)")
        }
        // `MON, WED, FRI` in Days (a `schtasks /Query /FO CSV /V` record with "Weekly " in a
        // Python scheduler's test data, found with the code search; the weeks interval is not
        // in the record and is taken as 1, the only one sitebundle writes).
        "weekly" => names::weekly(time, "1", &names::weekdays(days.split(','))),
        "monthly" => names::monthly_2003(time),
        "at system start up" => "at startup".into(),
        other if !every.is_empty() && every != "Disabled" && every != "N/A" => {
            format!("{other} every {every} from {time}")
        }
        other => format!("{other} at {time}"),
    }
}
