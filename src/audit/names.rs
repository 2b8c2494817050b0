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
