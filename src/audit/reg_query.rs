//! `reg query <key> /v <name>` output, several appended to one file. A key line starts with the
//! hive's full name (`HKEY_LOCAL_MACHINE\…`); each value line is indented and holds name, type and
//! data separated by four blanks (Vista and later) or by tabs (Server 2003's reg.exe, which also
//! prints a `! REG.EXE VERSION 3.0` banner). Microsoft's PowerShell docs show the banner form
//! ("Working with registry entries", MicrosoftDocs/PowerShell-Docs,
//! reference/docs-conceptual/samples/Working-with-Registry-Entries.md). A value that is not
//! there makes reg print an `ERROR:` line instead, which is skipped: the value is then missing.
//! REG_DWORD data (`0x5`) is read as a decimal number.

use super::compare::Found;
use super::input::{Input, ParseError, lines};

pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut key: Option<String> = None;
    let mut found = Vec::new();
    for (at, raw) in lines(&input.text) {
        let line = raw.trim_end();
        let t = line.trim_start();
        if t.is_empty() || t.starts_with("! REG.EXE") || t.starts_with("ERROR:") {
            continue;
        }
        if let Some(rest) = t.strip_prefix("HKEY_LOCAL_MACHINE\\") {
            key = Some(rest.to_string());
            continue;
        }
        if t.len() == line.len() {
            return Err(bad(
                input,
                at,
                "a line that is neither a key, a value nor an ERROR line",
            ));
        }
        let Some(k) = &key else {
            return Err(bad(input, at, "a value line before any key line"));
        };
        let (name, kind, data) = split_value(t)
            .ok_or_else(|| bad(input, at, "a value line without a REG_ type (cut short?)"))?;
        let data = if kind == "REG_DWORD" {
            parse_dword(data)
                .ok_or_else(|| bad(input, at, "REG_DWORD data is not 0x followed by hex digits"))?
        } else {
            data.to_string()
        };
        found.push(
            Found::new("registry", format!("HKLM\\{k}\\{name}"))
                .with("type", kind)
                .with("data", data),
        );
    }
    Ok(found)
}

fn bad(input: &Input, at: usize, what: &str) -> ParseError {
    ParseError::new(
        input,
        Some(at),
        format!("not reg query output: {what}"),
        "collect again with reg query \"HKLM\\<key>\" /v <name> and copy the file whole",
    )
}

/// `name`, `REG_TYPE`, `data` of a value line (four blanks or a tab between them).
fn split_value(t: &str) -> Option<(&str, &str, &str)> {
    let pos = ["    REG_", "\tREG_"]
        .iter()
        .filter_map(|sep| t.find(sep).map(|i| (i, sep.len() - 4)))
        .min()?;
    let name = &t[..pos.0];
    let rest = &t[pos.0 + pos.1..];
    let (kind, data) = match rest.find(['\t', ' ']) {
        Some(i) => (&rest[..i], rest[i..].trim_start_matches([' ', '\t'])),
        None => (rest, ""),
    };
    Some((name.trim(), kind, data))
}

fn parse_dword(data: &str) -> Option<String> {
    let hex = data.trim().strip_prefix("0x")?;
    u32::from_str_radix(hex, 16).ok().map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts() {
        let input = Input {
            file: "r.txt".into(),
            text: "\r\n! REG.EXE VERSION 3.0\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\A\r\n    V\tREG_DWORD\t0x1f\r\n\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\B\r\n    Alias    REG_SZ    DBMSSOCN,x,1433\r\nERROR: The system was unable to find the specified registry key or value.\r\n".into(),
        };
        let f = parse(&input).unwrap();
        assert_eq!(f[0].name, "HKLM\\SOFTWARE\\A\\V");
        assert_eq!(f[0].fields["data"], "31");
        assert_eq!(f[1].fields["data"], "DBMSSOCN,x,1433");
        let cut = Input {
            file: "r.txt".into(),
            text: "HKEY_LOCAL_MACHINE\\SOFTWARE\\A\r\n    V".into(),
        };
        assert!(parse(&cut).is_err());
    }
}
