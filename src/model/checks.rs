//! Checks shared by every section: dates, folders, plain names (files, tasks, T-SQL and tmsh
//! identifiers), host names, times of day. Each returns the message of a located error.

/// `YYYY-MM-DD HH:MM:SS` with plausible ranges.
pub fn check_changed(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let shape = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return Err(format!(
            "`{s}` is not a date and time in the form YYYY-MM-DD HH:MM:SS"
        ));
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    let (y, mo, d, h, mi, se) = (n(0..4), n(5..7), n(8..10), n(11..13), n(14..16), n(17..19));
    let dim = [
        31,
        if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) {
            29
        } else {
            28
        },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1990..=2999).contains(&y)
        || !(1..=12).contains(&mo)
        || d == 0
        || d > dim[(mo as usize).clamp(1, 12) - 1]
        || h > 23
        || mi > 59
        || se > 59
    {
        return Err(format!("`{s}` is not a valid date and time"));
    }
    Ok(())
}

/// A path character that is safe in every language a path reaches (batch, VBScript, PowerShell,
/// XML, task arguments).
fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '$')
}

/// A local folder: `X:\a\b` or `%Var%\a\b`, path segments of safe characters only.
pub fn check_local_dir(s: &str) -> Result<(), String> {
    let s = s.trim_end_matches('\\');
    let (root, rest) = match s.split_once('\\') {
        Some(x) => x,
        None => {
            return Err(format!(
                "`{s}` is not an absolute folder such as %SystemDrive%\\localscripts"
            ));
        }
    };
    let drive =
        root.len() == 2 && root.as_bytes()[0].is_ascii_alphabetic() && root.as_bytes()[1] == b':';
    let env = root.len() > 2
        && root.starts_with('%')
        && root.ends_with('%')
        && root[1..root.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !(drive || env) {
        return Err(format!(
            "`{s}` must start with a drive (`C:`) or one environment variable (`%SystemDrive%`)"
        ));
    }
    check_segments(s, rest)
}

/// A UNC folder: `\\server\share\path`.
pub fn check_unc(s: &str) -> Result<(), String> {
    let s = s.trim_end_matches('\\');
    let Some(rest) = s.strip_prefix("\\\\") else {
        return Err(format!(
            "`{s}` is not a UNC path such as \\\\server\\share\\folder"
        ));
    };
    if rest.split('\\').count() < 2 {
        return Err(format!(
            "`{s}` needs at least a server and a share: \\\\server\\share"
        ));
    }
    check_segments(s, rest)
}

fn check_segments(whole: &str, rest: &str) -> Result<(), String> {
    for seg in rest.split('\\') {
        if seg.is_empty()
            || seg == "."
            || seg == ".."
            || seg.starts_with(' ')
            || seg.ends_with(' ')
            || seg.ends_with('.')
        {
            return Err(format!(
                "`{whole}` has an empty, relative or space-padded path segment `{seg}`"
            ));
        }
        if let Some(c) = seg.chars().find(|c| !path_char(*c)) {
            return Err(format!(
                "`{whole}` contains {}; folder names may use letters, digits, space, `_`, `-`, `.` and `$` only",
                show_char(c)
            ));
        }
    }
    if whole.len() > 200 {
        return Err(format!("`{whole}` is longer than 200 characters"));
    }
    Ok(())
}

/// A plain name of letters, digits, `_`, `-` and `.` (at most `max` characters), starting with a
/// letter, or with a letter or digit when `letter_first` is false. Such a name is safe unquoted in
/// every language it reaches (file names, task names, T-SQL and tmsh identifiers).
pub fn check_plain_name(s: &str, max: usize, letter_first: bool, what: &str) -> Result<(), String> {
    let first_ok = s.chars().next().is_some_and(|c| {
        if letter_first {
            c.is_ascii_alphabetic()
        } else {
            c.is_ascii_alphanumeric() || c == '_'
        }
    });
    let ok = first_ok
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        let start = if letter_first {
            ", starting with a letter"
        } else {
            ""
        };
        Err(format!(
            "`{s}` is not a usable {what}: use 1-{max} letters, digits, `_`, `-`, `.`{start}"
        ))
    }
}

/// A scheduled-task name: letters, digits, `_`, `-`, `.`, at most 64 characters, not starting
/// with `-` (schtasks would read it as an option).
pub fn check_task_name(s: &str) -> Result<(), String> {
    check_plain_name(s, 64, false, "task name")
}

/// A character named for an error message (control characters by code point).
pub fn show_char(c: char) -> String {
    if c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

/// Time of day `HH:MM` (24 h) → (hour, minute). A time written another way that has one clear
/// meaning (`3:15`, `03.15`, `03:15:00`) gets that meaning spelled out in the error.
pub fn parse_hhmm(s: &str) -> Result<(u32, u32), String> {
    let err = || match hhmm_meant(s) {
        Some(meant) => {
            format!("`{s}` is not a time of day in the form HH:MM (24 hours): write \"{meant}\"")
        }
        None => format!("`{s}` is not a time of day in the form HH:MM (24 hours), e.g. \"02:30\""),
    };
    let (h, m) = s.split_once(':').ok_or_else(err)?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    if h > 23 || m > 59 {
        return Err(err());
    }
    Ok((h, m))
}

/// The `HH:MM` a time written as `H:MM`, `HH.MM`, `H.MM` or `HH:MM:00` evidently means.
fn hhmm_meant(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t.strip_suffix(":00").filter(|r| r.len() >= 4).unwrap_or(t);
    let (h, m) = t.split_once([':', '.'])?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let meant = format!("{h:02}:{m:02}");
    (h <= 23 && m <= 59 && meant != s).then_some(meant)
}

/// NetBIOS-compatible host name.
pub fn check_host(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a valid host name: use 1-15 letters, digits and `-` (not at either end, not all digits)"
        ))
    }
}

/// DNS name: labels of letters, digits and `-`, separated by dots.
pub fn check_fqdn(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not a valid DNS name"))
    }
}
