//! `sc qfailure NAME` for each service whose recovery settings the bundle sets, appended into
//! `services.txt` by the Windows collector:
//!
//! ```text
//! [SC] QueryServiceConfig2 SUCCESS
//!
//! SERVICE_NAME: SPTimerV3
//!         RESET_PERIOD (in seconds)    : 86400
//!         REBOOT_MESSAGE               :
//!         COMMAND_LINE                 :
//!         FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.
//!                                        RESTART -- Delay = 60000 milliseconds.
//! ```
//!
//! The layout is the one of dotnet/docs `docs/core/extensions/windows-service.md` (`sc qfailure
//! ".NET Joke Service"`: the SUCCESS line, `SERVICE_NAME:`, `RESET_PERIOD (in seconds)    : 0`,
//! no FAILURE_ACTIONS line when none is set) and of real transcripts in public scripts found with
//! the code search (a PowerShell health check quoting `RESET_PERIOD (in seconds)    : 43200` and
//! three `RESTART -- Delay = 30000 milliseconds.` lines, the first after `FAILURE_ACTIONS :`,
//! the others aligned under it). A service that is not installed prints
//! `[SC] OpenService FAILED 1060:` and no block: it is then missing.
//!
//! Each block becomes a `service` object: `reset period` (seconds) and `actions`
//! (`restart/60000/restart/60000/…`, the form `sc failure … actions=` takes; `none` when the
//! service has no failure actions).

use super::compare::Found;
use super::input::{Input, ParseError, lines};

pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut out: Vec<Found> = Vec::new();
    let mut actions: Vec<String> = Vec::new();
    let mut in_actions = false;
    let bad = |at: usize, what: &str| {
        ParseError::new(
            input,
            Some(at),
            format!("not sc qfailure output: {what}"),
            "collect again (sc qfailure NAME for each service, as the collector does) and copy the file whole",
        )
    };
    for (at, line) in lines(&input.text) {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("SERVICE_NAME:") {
            finish(&mut out, &mut actions);
            out.push(Found::new("service", name.trim()));
            in_actions = false;
            continue;
        }
        let Some((key, value)) = t.split_once(':').map(|(k, v)| (k.trim(), v.trim())) else {
            if in_actions && !t.is_empty() {
                actions.push(action(t).ok_or_else(|| {
                    bad(
                        at,
                        "a failure action that is not ACTION -- Delay = N milliseconds.",
                    )
                })?);
            } else {
                in_actions = false;
            }
            continue;
        };
        let Some(current) = out.last_mut() else {
            continue; // [SC] QueryServiceConfig2 SUCCESS, [SC] OpenService FAILED 1060:
        };
        in_actions = false;
        match key {
            "RESET_PERIOD (in seconds)" => {
                if value.parse::<u32>().is_err() {
                    return Err(bad(at, "a reset period that is not a number of seconds"));
                }
                current
                    .fields
                    .insert("reset period".into(), value.to_string());
            }
            "FAILURE_ACTIONS" => {
                actions.push(action(value).ok_or_else(|| {
                    bad(
                        at,
                        "a failure action that is not ACTION -- Delay = N milliseconds.",
                    )
                })?);
                in_actions = true;
            }
            _ => {}
        }
    }
    finish(&mut out, &mut actions);
    if let Some(f) = out.iter().find(|f| !f.fields.contains_key("reset period")) {
        let at = input.text.find(&format!("SERVICE_NAME: {}", f.name));
        return Err(bad(
            at.unwrap_or(0),
            "a service without its RESET_PERIOD line (the file was cut short)",
        ));
    }
    Ok(out)
}

/// `RESTART -- Delay = 60000 milliseconds.` → `restart/60000`.
fn action(text: &str) -> Option<String> {
    let (kind, rest) = text.split_once(" -- Delay = ")?;
    let ms = rest
        .trim()
        .trim_end_matches('.')
        .strip_suffix(" milliseconds")?;
    ms.parse::<u32>().ok()?;
    Some(format!(
        "{}/{ms}",
        kind.trim().to_ascii_lowercase().replace(' ', "-")
    ))
}

fn finish(out: &mut [Found], actions: &mut Vec<String>) {
    if let Some(f) = out.last_mut() {
        if !f.fields.contains_key("actions") {
            let all = if actions.is_empty() {
                "none".to_string()
            } else {
                actions.join("/")
            };
            f.fields.insert("actions".into(), all);
        }
    }
    actions.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input {
            file: "services.txt".into(),
            text: text.replace('\n', "\r\n"),
        }
    }

    #[test]
    fn blocks_missing_services_and_a_cut_file() {
        let text = "[SC] QueryServiceConfig2 SUCCESS\n\nSERVICE_NAME: SPTimerV3\n        RESET_PERIOD (in seconds)    : 86400\n        REBOOT_MESSAGE               :\n        COMMAND_LINE                 :\n        FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.\n                                       RESTART -- Delay = 60000 milliseconds.\n                                       RESTART -- Delay = 60000 milliseconds.\n\n[SC] OpenService FAILED 1060:\n\nThe specified service does not exist as an installed service.\n\n[SC] QueryServiceConfig2 SUCCESS\n\nSERVICE_NAME: Other\n        RESET_PERIOD (in seconds)    : 0\n        REBOOT_MESSAGE               :\n        COMMAND_LINE                 :\n";
        let f = parse(&input(text)).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].fields["reset period"], "86400");
        assert_eq!(
            f[0].fields["actions"],
            "restart/60000/restart/60000/restart/60000"
        );
        assert_eq!(f[1].fields["actions"], "none");
        let cut = &text[..text.find("RESET_PERIOD").unwrap()];
        assert!(parse(&input(cut)).unwrap_err().at.is_some());
        let garbled = text.replace("RESTART -- Delay = 60000 milliseconds.\n                                       RESTART", "RESTART -- Delay = sixty\n                                       RESTART");
        assert!(parse(&input(&garbled)).is_err());
    }
}
