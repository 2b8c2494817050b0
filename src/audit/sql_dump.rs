//! The output of `collect/sql/collect-sql.sql` (a format of our own, described in the script):
//! tab-separated records, `\\`, `\t`, `\r`, `\n` escapes, every record ending with the field `.`,
//! a header record first and an `end` record last (a file without it was cut short).

use super::compare::Found;
use super::input::{Input, ParseError, lines};

/// Fields of each record after its kind (the final `.` excluded).
const RECORDS: &[(&str, usize)] = &[
    ("sitebundle-collect", 4),
    ("job", 5),
    ("jobserver", 2),
    ("step", 9),
    ("schedule", 9),
    ("alert", 7),
    ("notification", 3),
    ("database", 6),
    // collect-ag.sql (availability group mode)
    ("agalert", 6),
    ("message", 2),
    ("ag", 2),
    ("replica", 5),
    ("listener", 3),
    ("listenerip", 4),
    ("agdatabase", 2),
    ("agrole", 3),
    ("end", 0),
];

pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut found = Vec::new();
    let mut header = false;
    let mut ended = false;
    for (at, raw) in lines(&input.text) {
        // sqlcmd pads a column to its display width: blanks after the final "." are padding.
        let line = raw.trim_end();
        if line.is_empty() {
            continue;
        }
        if ended {
            return Err(bad(input, at, "a record after the end record"));
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let Some((&".", fields)) = parts.split_last() else {
            return Err(bad(
                input,
                at,
                "a record that does not end with the field \".\" (cut short?)",
            ));
        };
        let Some(&kind) = fields.first() else {
            return Err(bad(input, at, "an empty record"));
        };
        let Some(&(_, n)) = RECORDS.iter().find(|(k, _)| *k == kind) else {
            return Err(bad(input, at, &format!("an unknown record kind {kind:?}")));
        };
        if fields.len() != n + 1 {
            return Err(bad(
                input,
                at,
                &format!(
                    "a {kind} record with {} fields instead of {n}",
                    fields.len() - 1
                ),
            ));
        }
        let v: Vec<String> = fields[1..]
            .iter()
            .map(|f| unescape(f))
            .collect::<Option<_>>()
            .ok_or_else(|| bad(input, at, "a backslash that starts no known escape"))?;
        if !header && kind != "sitebundle-collect" {
            return Err(bad(
                input,
                at,
                "the first record is not the collector's header",
            ));
        }
        match kind {
            "sitebundle-collect" => header = true,
            "end" => ended = true,
            _ => found.extend(record(kind, &v)),
        }
    }
    if !ended {
        return Err(bad(
            input,
            input.text.len().saturating_sub(1),
            "no end record: the output was cut short",
        ));
    }
    Ok(found)
}

fn record(kind: &str, v: &[String]) -> Option<Found> {
    let f = match kind {
        "job" => Found::new("job", &v[0])
            .with("enabled", &v[1])
            .with("owner", &v[2])
            .with("category", &v[3])
            .with("description", &v[4]),
        "jobserver" => Found::new("jobserver", &v[0]).with("server_id", &v[1]),
        "step" => Found::new("step", format!("{} / {}", v[0], v[1]))
            .with("step_name", &v[2])
            .with("subsystem", &v[3])
            .with("database", &v[4])
            .with("on_success_action", &v[5])
            .with("on_fail_action", &v[6])
            .with("retry_attempts", &v[7])
            .with("command", &v[8]),
        "schedule" => Found::new("schedule", &v[1])
            .with("job", &v[0])
            .with("enabled", &v[2])
            .with("freq_type", &v[3])
            .with("freq_interval", &v[4])
            .with("freq_subday_type", &v[5])
            .with("freq_subday_interval", &v[6])
            .with("active_start_time", &v[7])
            .with("active_end_time", &v[8]),
        "alert" => Found::new("alert", &v[0])
            .with("enabled", &v[1])
            .with("job", &v[2])
            .with("delay", &v[3])
            .with("category", &v[4])
            .with("wmi_namespace", &v[5])
            .with("wmi_query", &v[6]),
        "notification" => {
            Found::new("notification", format!("{} / {}", v[0], v[1])).with("method", &v[2])
        }
        "database" => Found::new("database", &v[0])
            .with("role", &v[1])
            .with("state", &v[2])
            .with("safety", &v[3])
            .with("partner", &v[4]),
        _ => return ag_record(kind, v),
    };
    Some(f)
}

/// The availability group records of collect-ag.sql; names are `<group> / <item>` where an item
/// belongs to a group.
fn ag_record(kind: &str, v: &[String]) -> Option<Found> {
    let f = match kind {
        "agalert" => Found::new("agalert", &v[0])
            .with("enabled", &v[1])
            .with("message_id", &v[2])
            .with("severity", &v[3])
            .with("delay", &v[4])
            .with("include_event_description", &v[5]),
        "message" => Found::new("message", &v[0]).with("is_event_logged", &v[1]),
        "ag" => Found::new("ag", &v[0]).with("backup_preference", &v[1]),
        "replica" => Found::new("replica", format!("{} / {}", v[0], v[1]))
            .with("endpoint_url", &v[2])
            .with("availability_mode", &v[3])
            .with("failover_mode", &v[4]),
        "listener" => Found::new("listener", format!("{} / {}", v[0], v[1])).with("port", &v[2]),
        "listenerip" => {
            Found::new("listenerip", format!("{} / {} / {}", v[0], v[1], v[2])).with("mask", &v[3])
        }
        "agdatabase" => Found::new("agdatabase", format!("{} / {}", v[0], v[1])),
        "agrole" => Found::new("agrole", &v[0])
            .with("role", &v[1])
            .with("health", &v[2]),
        _ => return None,
    };
    Some(f)
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'r' => '\r',
            'n' => '\n',
            _ => return None,
        });
    }
    Some(out)
}

fn bad(input: &Input, at: usize, what: &str) -> ParseError {
    ParseError::new(
        input,
        Some(at),
        format!("not the SQL collector's output: {what}"),
        "run collect\\sql\\collect-sql.sql again with sqlcmd -h -1 -y 0 -f 65001 and copy the file whole",
    )
}
