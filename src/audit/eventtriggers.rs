//! `eventtriggers /query /fo csv /nh` (Windows XP / Server 2003): rows `"ID","Trigger name","Task"`.
//! eventtriggers does not escape the quotes inside the Task field, so the first two fields are
//! read as CSV and the rest of the line, less its outer quotes, is the task (the format noted by
//! Elias Fotinis's eventtriggers handler, public JScript, `parseEventTriggersCsvLine`; the same
//! rule as WUTriggerMaintMode.vbs). `INFO:` lines (no triggers) are skipped; an `ERROR:` line
//! means the query failed, which is bad input.

use super::compare::Found;
use super::csv;
use super::input::{Input, ParseError, lines};

pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut found = Vec::new();
    for (at, raw) in lines(&input.text) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("INFO:") {
            continue;
        }
        if line.starts_with("ERROR:") {
            return Err(ParseError::new(
                input,
                Some(at),
                format!("eventtriggers /query failed: {line}"),
                "run the collector again as a local administrator",
            ));
        }
        let (fields, rest) = csv::split_first(line, 2).map_err(|(col, why)| {
            ParseError::new(
                input,
                Some(at + col),
                format!("not an eventtriggers CSV row: {why}"),
                "collect again with eventtriggers /query /fo csv /nh",
            )
        })?;
        let task = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .ok_or_else(|| {
                ParseError::new(
                    input,
                    Some(at + line.len().saturating_sub(1)),
                    "the Task field of an eventtriggers row is not quoted (cut short?)",
                    "collect again and copy the file whole",
                )
            })?;
        found.push(
            Found::new("eventtrigger", &fields[1])
                .with("id", &fields[0])
                .with("task", task),
        );
    }
    Ok(found)
}
