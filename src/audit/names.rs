//! The common words both sides of a comparison are put into: trigger labels, accounts, command
//! lines, Windows releases. The plan's values and the collected ones go through the same
//! functions, so a difference is a real difference.

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

pub fn repeat(start: &str, interval: &str) -> String {
    format!("every {interval} from {}", time_of(start))
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

/// Well-known accounts by their SID (Task Scheduler writes either form); others lower-cased.
pub fn account(user: &str) -> String {
    let u = user.trim().to_ascii_lowercase();
    let bare = u.rsplit('\\').next().unwrap_or(&u);
    match bare {
        "system" | "s-1-5-18" => "S-1-5-18".into(),
        "local service" | "localservice" | "s-1-5-19" => "S-1-5-19".into(),
        "network service" | "networkservice" | "s-1-5-20" => "S-1-5-20".into(),
        _ => u,
    }
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

/// The `ver` version (major.minor) each release reports, as the audit shows it.
pub fn release(major_minor: &str) -> String {
    match major_minor {
        "5.2" => "5.2 (Windows Server 2003 or 2003 R2)".into(),
        "6.0" => "6.0 (Windows Server 2008)".into(),
        "6.1" => "6.1 (Windows Server 2008 R2)".into(),
        other => format!("{other} (not a release sitebundle targets)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(account("NT AUTHORITY\\SYSTEM"), "S-1-5-18");
        let env = Env {
            vars: vec![("SystemDrive".into(), "C:".into())],
        };
        assert_eq!(
            env.command_line("\"%SystemDrive%\\x.cmd\"  A"),
            "c:\\x.cmd a"
        );
    }
}
