//! `system.txt` of the Windows collector: what `ver` prints
//! (`Microsoft Windows [Version 6.1.7601]`) and `set` lines (`COMPUTERNAME=…`,
//! `SystemRoot=…`, `SystemDrive=…`).

use super::compare::Found;
use super::input::{Input, ParseError, lines};
use super::names::{Env, release};

pub fn parse(input: &Input) -> Result<(Found, Env), ParseError> {
    let mut found = Found::new("system", "computer");
    let mut env = Env::default();
    for (at, raw) in lines(&input.text) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(v) = line
            .split_once("[Version ")
            .and_then(|(_, r)| r.strip_suffix(']'))
        {
            let major_minor: Vec<&str> = v.split('.').take(2).collect();
            found
                .fields
                .insert("release".into(), release(&major_minor.join(".")));
        } else if let Some((name, value)) = line.split_once('=') {
            if name.eq_ignore_ascii_case("COMPUTERNAME") {
                found.fields.insert("name".into(), value.to_string());
            }
            env.vars.push((name.to_string(), value.to_string()));
        } else {
            return Err(ParseError::new(
                input,
                Some(at),
                "not the collector's system.txt: a line that is neither ver output nor NAME=value",
                "run the Windows collector again",
            ));
        }
    }
    if !found.fields.contains_key("release") || !found.fields.contains_key("name") {
        return Err(ParseError::new(
            input,
            Some(input.text.len().saturating_sub(1)),
            "system.txt lacks the ver line or COMPUTERNAME (cut short?)",
            "run the Windows collector again",
        ));
    }
    Ok((found, env))
}
