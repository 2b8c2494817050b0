//! Task Scheduler 2.0 task XML as Windows exports it (the Task Scheduler console's Export and
//! `schtasks /Query /XML /TN name`): namespace
//! `http://schemas.microsoft.com/windows/2004/02/mit/task`, UTF-16 LE with a BOM from the console,
//! the console code page from a redirected schtasks (whose declaration still says UTF-16; the
//! decoder goes by the bytes). Element names: Microsoft's Task Scheduler schema
//! (https://learn.microsoft.com/en-us/windows/win32/taskschd/task-scheduler-schema; the XSD is
//! tests/schemas/task-scheduler.xsd). Only the fields the bundle sets are read; the many defaults
//! an export adds (RegistrationInfo/Date, Settings/IdleSettings, …) are ignored.

use roxmltree::{Document, Node};

use super::compare::Found;
use super::input::{Input, ParseError};
use super::names;
use crate::plan::{Account, Duration};

const NS: &str = "http://schemas.microsoft.com/windows/2004/02/mit/task";

/// The task in `input`, named `name` (the collector names each file after its task).
pub fn parse(input: &Input, name: &str) -> Result<Found, ParseError> {
    let doc = Document::parse(&input.text).map_err(|e| {
        let pos = e.pos();
        let at = super::input::line_offsets(&input.text)
            .get(pos.row.saturating_sub(1) as usize)
            .map(|o| o + pos.col.saturating_sub(1) as usize)
            .map(|o| o.min(input.text.len().saturating_sub(1)));
        ParseError::new(
            input,
            at,
            format!("not well-formed task XML: {e}"),
            "export the task again (schtasks /Query /XML /TN <name>, or Export in the Task Scheduler console) and copy the file whole",
        )
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "Task" || root.tag_name().namespace() != Some(NS) {
        return Err(ParseError::new(
            input,
            Some(root.range().start),
            format!(
                "the root element is <{}>, not a Task Scheduler <Task> in {NS}",
                root.tag_name().name()
            ),
            "collect the task's XML export, not another file",
        ));
    }
    let text = |path: &[&str]| find(root, path).and_then(|n| n.text()).map(str::trim);
    let exec = find(root, &["Actions", "Exec"]);
    let triggers: Vec<String> = find(root, &["Triggers"])
        .map(|t| {
            t.children()
                .filter(Node::is_element)
                .map(trigger_label)
                .collect()
        })
        .unwrap_or_default();
    Ok(Found::new("task", name)
        .with("trigger", join_triggers(&triggers))
        .with(
            "command",
            exec.and_then(|e| child_text(e, "Command")).unwrap_or(""),
        )
        .with(
            "arguments",
            exec.and_then(|e| child_text(e, "Arguments")).unwrap_or(""),
        )
        .with(
            "run as",
            Account::parse(text(&["Principals", "Principal", "UserId"]).unwrap_or("")).key(),
        )
        .with("enabled", text(&["Settings", "Enabled"]).unwrap_or("true"))
        .with(
            "time limit",
            // Task Scheduler's default when the element is left out (72 hours, "ExecutionTimeLimit
            // (settingsType) Element", Task Scheduler schema on Microsoft Learn).
            text(&["Settings", "ExecutionTimeLimit"])
                .map(names::time_limit)
                .unwrap_or_else(|| Duration::hours(72).iso8601()),
        ))
}

/// Triggers in their order, joined; "(none)" for a task without one.
pub fn join_triggers(labels: &[String]) -> String {
    if labels.is_empty() {
        "(none)".into()
    } else {
        labels.join(" + ")
    }
}

fn find<'a, 'i>(node: Node<'a, 'i>, path: &[&str]) -> Option<Node<'a, 'i>> {
    path.iter().try_fold(node, |n, name| {
        n.children()
            .find(|c| c.is_element() && c.tag_name().name() == *name)
    })
}

fn child_text<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    find(node, &[name]).and_then(|n| n.text()).map(str::trim)
}

/// A calendar trigger's schedule (by day, week, month days or weekday of a week) in [`names`]'
/// words, read from the Task Scheduler schema's elements (`ScheduleByDay/DaysInterval`,
/// `ScheduleByWeek/DaysOfWeek/*` and `WeeksInterval`, `ScheduleByMonth/DaysOfMonth/Day` and
/// `Months/*`, `ScheduleByMonthDayOfWeek/Weeks/Week`, `DaysOfWeek/*` and `Months/*`).
fn calendar_label(t: Node, start: &str) -> String {
    let element_names = |n: Option<Node>| -> Vec<String> {
        n.map(|n| {
            n.children()
                .filter(|c| c.is_element())
                .map(|c| c.tag_name().name().to_string())
                .collect()
        })
        .unwrap_or_default()
    };
    let texts = |n: Option<Node>, name: &str| -> Vec<String> {
        n.map(|n| {
            n.children()
                .filter(|c| c.is_element() && c.tag_name().name() == name)
                .map(|c| c.text().unwrap_or("").trim().to_string())
                .collect()
        })
        .unwrap_or_default()
    };
    let strs = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
    let weekdays = |n: Option<Node>| names::weekdays(element_names(n).iter().map(String::as_str));
    let months = |n: Option<Node>| names::months(element_names(n).iter().map(String::as_str));
    if let Some(days) = find(t, &["ScheduleByDay", "DaysInterval"]).and_then(|n| n.text()) {
        return names::daily(start, days.trim());
    }
    if let Some(w) = find(t, &["ScheduleByWeek"]) {
        let weeks = child_text(w, "WeeksInterval").unwrap_or("1");
        return names::weekly(start, weeks, &weekdays(find(w, &["DaysOfWeek"])));
    }
    if let Some(m) = find(t, &["ScheduleByMonth"]) {
        let days = texts(find(m, &["DaysOfMonth"]), "Day");
        return names::monthly_days(start, &strs(&days), &months(find(m, &["Months"])));
    }
    if let Some(m) = find(t, &["ScheduleByMonthDayOfWeek"]) {
        let weeks = texts(find(m, &["Weeks"]), "Week");
        let days = weekdays(find(m, &["DaysOfWeek"]));
        return names::monthly_weekday(start, &strs(&weeks), &days, &months(find(m, &["Months"])));
    }
    format!("calendar (unknown schedule) from {}", names::time_of(start))
}

/// One trigger in the words [`names::daily`], [`names::repeat`], [`names::event`] use for the
/// plan's triggers, so that both sides read alike.
fn trigger_label(t: Node) -> String {
    let start = child_text(t, "StartBoundary").unwrap_or("");
    let label = match t.tag_name().name() {
        // A repetition on a calendar trigger (the corpus's real export has one) is no part of
        // any schedule the bundle writes: it is shown, so that one added by hand is a difference.
        "CalendarTrigger" => match find(t, &["Repetition"]).and_then(|r| child_text(r, "Interval"))
        {
            Some(every) => format!("{}, repeated every {every}", calendar_label(t, start)),
            None => calendar_label(t, start),
        },
        "TimeTrigger" => match find(t, &["Repetition"]) {
            Some(r) => {
                let interval = child_text(r, "Interval").unwrap_or("");
                let label = names::repeat(start, interval);
                match child_text(r, "Duration") {
                    Some(d) if !d.is_empty() => format!("{label} for {d}"),
                    _ => label,
                }
            }
            None => format!("once at {start}"),
        },
        "EventTrigger" => names::event(child_text(t, "Subscription").unwrap_or("")),
        "BootTrigger" => "at startup".into(),
        "LogonTrigger" => "at logon".into(),
        other => other.to_ascii_lowercase(),
    };
    match child_text(t, "Enabled") {
        Some("false") => format!("{label} (disabled)"),
        _ => label,
    }
}

#[cfg(test)]
mod corpus_tests {
    //! A real export (tests/corpus/windows/heroesshare-updater-task-1.4-utf16.xml, provenance in
    //! tests/corpus/README.md) read as the audit reads a collected task: UTF-16 LE with a BOM and
    //! CRLF, `version="1.4"`, the settings a 1.4 export adds (`DisallowStartOnRemoteAppSession`,
    //! `UseUnifiedSchedulingEngine`), `ExecutionTimeLimit` left out (its default), a `GroupId`
    //! principal, no newline after `</Task>`.
    use super::*;

    fn corpus() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/corpus/windows/heroesshare-updater-task-1.4-utf16.xml"
        ))
        .expect("corpus file")
    }

    fn read(bytes: &[u8]) -> Result<Found, ParseError> {
        let text = super::super::input::decode(bytes, "tasks/HeroesShareUpdater.xml")?;
        let input = Input {
            file: "tasks/HeroesShareUpdater.xml".into(),
            text,
        };
        parse(&input, "HeroesShareUpdater")
    }

    #[test]
    fn a_real_1_4_export_in_utf16_is_read_with_its_defaults() {
        let bytes = corpus();
        assert_eq!(&bytes[..2], b"\xff\xfe", "the file is UTF-16 LE with a BOM");
        let f = read(&bytes).expect("the real export parses");
        assert_eq!(f.fields["command"], "powershell.exe");
        assert_eq!(
            f.fields["arguments"],
            r#"-ExecutionPolicy Bypass -WindowStyle Hidden -File "%APPDATA%\Heroes Share\updater.ps1""#
        );
        assert_eq!(f.fields["enabled"], "true");
        // ExecutionTimeLimit left out: Task Scheduler's default, 72 hours.
        assert_eq!(f.fields["time limit"], Duration::hours(72).iso8601());
        assert_eq!(
            f.fields["trigger"],
            format!(
                "{}, repeated every PT30M",
                names::daily("2018-09-03T10:00:00", "1")
            ),
            "a daily calendar trigger from 10:00, repeated every 30 minutes"
        );
        // A GroupId principal has no UserId: the account read is not one a bundle task has.
        assert_ne!(f.fields["run as"], Account::parse("S-1-5-18").key());
    }

    /// Controls: the same bytes cut short, or decoded as if they were UTF-8, are errors, never a
    /// task with empty fields.
    #[test]
    fn the_real_export_cut_short_or_misdecoded_is_an_error() {
        let bytes = corpus();
        assert!(read(&bytes[..(bytes.len() / 2) & !1]).is_err());
        let as_utf8 = Input {
            file: "t.xml".into(),
            text: String::from_utf8_lossy(&bytes[2..]).into_owned(),
        };
        assert!(parse(&as_utf8, "HeroesShareUpdater").is_err());
    }
}
