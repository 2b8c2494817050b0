//! The common words both sides of a comparison are put into: trigger labels, accounts, command
//! lines, Windows releases. Accounts and durations are read into the plan's own types
//! ([`Account`], [`Duration`]). The plan's values and the collected ones go through the same
//! functions, so a difference is a real difference.

use crate::plan::Duration;

/// `HH:MM:SS` of a `YYYY-MM-DDTHH:MM:SS[…]` start boundary (the date is when the task was
/// registered, not part of the schedule).
pub fn time_of(start: &str) -> String {
    start
        .split_once('T')
        .map(|(_, t)| t.chars().take(8).collect())
        .unwrap_or_else(|| start.to_string())
}

pub fn daily(start: &str, days: &str) -> String {
    format!("daily at {} every {days} day(s)", time_of(start))
}

/// Days of the week as three capitals in Sunday-first order (`SUN, WED`), from Task XML element
/// names (`Sunday`) or schtasks' `Days` column (`MON, WED, FRI`); an unknown word is kept,
/// upper-cased, after the known ones (so it shows as a difference).
pub fn weekdays<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const ABBR: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let mut days: Vec<(usize, String)> = names
        .into_iter()
        .map(|n| n.trim().to_ascii_uppercase())
        .filter(|n| !n.is_empty())
        .map(|n| {
            let short: String = n.chars().take(3).collect();
            match ABBR.iter().position(|a| *a == short) {
                Some(i) => (i, short),
                None => (ABBR.len(), n),
            }
        })
        .collect();
    days.sort();
    days.dedup();
    days.into_iter()
        .map(|(_, d)| d)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A weekly schedule: every `weeks` weeks (1 is not written) on `days` ([`weekdays`]).
pub fn weekly(start: &str, weeks: &str, days: &str) -> String {
    let every = match weeks.trim() {
        "" | "1" => String::new(),
        n => format!(" every {n} weeks"),
    };
    format!("weekly at {}{every} on {days}", time_of(start))
}

/// The months of a monthly schedule: nothing when it runs every month (`JAN, FEB` otherwise).
pub fn months<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const ABBR: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let mut list: Vec<String> = names
        .into_iter()
        .map(|m| {
            m.trim()
                .chars()
                .take(3)
                .collect::<String>()
                .to_ascii_uppercase()
        })
        .collect();
    list.sort_by_key(|m| ABBR.iter().position(|a| a == m).unwrap_or(ABBR.len()));
    list.dedup();
    if list.len() == ABBR.len() && list.iter().zip(ABBR).all(|(m, a)| m == a) {
        String::new()
    } else {
        format!(" in {}", list.join(", "))
    }
}

/// A monthly schedule by days of the month (`1, 15`) and [`months`].
pub fn monthly_days(start: &str, days: &str, months: &str) -> String {
    format!("monthly at {} on day(s) {days}{months}", time_of(start))
}

/// A monthly schedule by week of the month (`1`-`4`, `Last`, as Task XML writes it) and
/// [`weekdays`], and [`months`].
pub fn monthly_weekday(start: &str, weeks: &str, days: &str, months: &str) -> String {
    format!(
        "monthly at {} in week {weeks} on {days}{months}",
        time_of(start)
    )
}

/// A monthly schedule as Server 2003's `schtasks /V` is read: by its time only (the format of its
/// day columns for monthly tasks is not known to this project, so days are not compared there).
pub fn monthly_2003(start: &str) -> String {
    format!(
        "monthly at {} (days not compared on Server 2003)",
        time_of(start)
    )
}

/// A repetition: the interval read as a [`Duration`] (so `PT60M` and `PT1H` read alike).
pub fn repeat(start: &str, interval: &str) -> String {
    let interval = Duration::parse_iso8601(interval)
        .map(Duration::iso8601)
        .unwrap_or_else(|| interval.to_string());
    format!("every {interval} from {}", time_of(start))
}

/// A task's time limit as Task XML holds it, read as a [`Duration`].
pub fn time_limit(text: &str) -> String {
    Duration::parse_iso8601(text)
        .map(Duration::iso8601)
        .unwrap_or_else(|| text.to_string())
}

/// An event trigger by its query, whitespace between tags removed.
pub fn event(query: &str) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for c in query.trim().chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.ends_with('>') && c != '<' {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    format!("on event {out}")
}

/// Values of the environment variables a command line may hold, from the server's system.txt.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: Vec<(String, String)>,
}

impl Env {
    /// A command line as Windows shows it back: variables expanded, quotes dropped, blanks
    /// collapsed, lower case (2003's schtasks shows the command without its quotes).
    pub fn command_line(&self, s: &str) -> String {
        let mut s = s.to_string();
        for (name, value) in &self.vars {
            let pattern = format!("%{}%", name.to_ascii_lowercase());
            while let Some(i) = s.to_ascii_lowercase().find(&pattern) {
                s.replace_range(i..i + pattern.len(), value);
            }
        }
        s.replace('"', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    }
}

/// The `ver` version (major.minor) as the audit shows it: with the releases that report it
/// (`model::Os::nt_version`, the one mapping), e.g. "5.2 (Windows Server 2003 or 2003 R2)".
pub fn release(major_minor: &str) -> String {
    let labels: Vec<&str> = crate::model::Os::ALL
        .iter()
        .filter(|os| os.nt_version() == major_minor)
        .map(|os| os.label())
        .collect();
    match labels.split_first() {
        None => format!("{major_minor} (not a release sitebundle targets)"),
        Some((first, rest)) => {
            let rest: Vec<&str> = rest
                .iter()
                .map(|l| l.strip_prefix("Windows Server ").unwrap_or(l))
                .collect();
            let mut text = format!("{major_minor} ({first}");
            for r in rest {
                text.push_str(" or ");
                text.push_str(r);
            }
            text.push(')');
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_read_from_the_one_mapping() {
        assert_eq!(release("5.2"), "5.2 (Windows Server 2003 or 2003 R2)");
        assert_eq!(release("6.0"), "6.0 (Windows Server 2008)");
        assert_eq!(release("6.1"), "6.1 (Windows Server 2008 R2)");
        assert_eq!(release("6.3"), "6.3 (Windows Server 2012 R2)");
        // One NT version for four releases (issue 31): the audit names them all.
        assert_eq!(
            release("10.0"),
            "10.0 (Windows Server 2016 or 2019 or 2022 or 2025)"
        );
        assert_eq!(release("6.2"), "6.2 (not a release sitebundle targets)");
    }

    #[test]
    fn labels() {
        assert_eq!(
            daily("2010-04-09T02:30:00", "1"),
            "daily at 02:30:00 every 1 day(s)"
        );
        assert_eq!(
            event("<QueryList>\r\n  <Query Id=\"0\">x</Query>\r\n</QueryList>"),
            "on event <QueryList><Query Id=\"0\">x</Query></QueryList>"
        );
        let env = Env {
            vars: vec![("SystemDrive".into(), "C:".into())],
        };
        assert_eq!(
            env.command_line("\"%SystemDrive%\\x.cmd\"  A"),
            "c:\\x.cmd a"
        );
    }
}
