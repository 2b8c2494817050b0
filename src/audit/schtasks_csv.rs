//! `schtasks /Query /FO CSV /V`: one record per task and trigger, the header line repeated before
//! every folder's tasks (Server 2008). Columns are found by their header names, which differ
//! between releases: Server 2003 writes "HostName","TaskName","Next Run Time","Status",
//! "Logon Mode","Last Run Time","Last Result","Creator","Schedule","Task To Run","Start In",
//! "Comment","Scheduled Task State","Scheduled Type","Start Time","Start Date","End Date","Days",
//! "Months","Run As User",… (a real 2003 export is the `__DATA__` of natxo asenjo's
//! check_schtasks Nagios plugin, found with the code search), 2008 and later "Author" for
//! "Creator", "Schedule Type" for "Scheduled Type" and a leading `\` on task names (e.g.
//! the `csvOutput` fixture of resticprofile's Go `schtasks` package tests, found with the code
//! search). English headers only: a
//! localised Windows writes translated ones, which are refused with a located error.

use super::compare::Found;
use super::csv;
use super::input::{Input, ParseError, lines};
use super::names;
use super::task_xml::join_triggers;
use crate::plan::Account;

/// Every task of the export, by name (without the leading `\`); several records of one task
/// (one per trigger) become one object whose trigger lists them all.
pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut header: Option<Vec<String>> = None;
    let mut tasks: Vec<(Found, Vec<String>)> = Vec::new();
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
        if fields.first().map(String::as_str) == Some("HostName") {
            check_header(input, at, &fields)?;
            header = Some(fields);
            continue;
        }
        let Some(h) = &header else {
            return Err(ParseError::new(
                input,
                Some(at),
                "a task record before the header line",
                "collect with schtasks /Query /FO CSV /V (without /NH), so that columns are named",
            ));
        };
        if fields.len() != h.len() {
            return Err(ParseError::new(
                input,
                Some(at),
                format!(
                    "a record of {} fields under a header of {} (the file was cut or edited)",
                    fields.len(),
                    h.len()
                ),
                "collect again and copy the file whole",
            ));
        }
        let get = |names: &[&str]| -> String {
            names
                .iter()
                .find_map(|n| h.iter().position(|c| c == n))
                .map(|i| fields[i].trim().to_string())
                .unwrap_or_default()
        };
        let name = get(&["TaskName"]).trim_start_matches('\\').to_string();
        let trigger = trigger_label(
            &get(&["Scheduled Type", "Schedule Type"]),
            &get(&["Start Time"]),
            &get(&["Days"]),
            &get(&["Repeat: Every"]),
        );
        let state = get(&["Scheduled Task State"]);
        let found = Found::new("task", &name)
            .with("command line", get(&["Task To Run"]))
            .with("run as", Account::parse(&get(&["Run As User"])).key())
            .with(
                "enabled",
                (!state.eq_ignore_ascii_case("Disabled")).to_string(),
            );
        match tasks.iter_mut().find(|(f, _)| f.name == name) {
            Some((_, triggers)) => triggers.push(trigger),
            None => tasks.push((found, vec![trigger])),
        }
    }
    Ok(tasks
        .into_iter()
        .map(|(f, t)| f.with("trigger", join_triggers(&t)))
        .collect())
}

fn check_header(input: &Input, at: usize, fields: &[String]) -> Result<(), ParseError> {
    for needed in ["TaskName", "Task To Run", "Run As User", "Start Time"] {
        if !fields.iter().any(|f| f == needed) {
            return Err(ParseError::new(
                input,
                Some(at),
                format!(
                    "the schtasks header has no column {needed:?} (not the /V format, or a localised Windows)"
                ),
                "collect with schtasks /Query /FO CSV /V on an English-language Windows",
            ));
        }
    }
    Ok(())
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
