//! The farm every family builds on: site-wide settings, the servers, the Group Policy settings,
//! the resolve context that locates every finding, and the checks shared by every section
//! (paths, plain names, times of day). It knows no family: the whole site (`crate::site`) is the
//! farm plus one section per family.

pub mod ctx;
pub mod gpo;
pub mod server;
pub mod spans;

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use ctx::Ctx;
pub use gpo::Gpo;
pub use server::{Os, Server};

/// Site-wide settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSiteInfo {
    /// Short name of the site: 1-40 letters, digits, `-`, `_`, starting with a letter, e.g.
    /// "partnerpoint". It seeds every derived identifier (GUIDs), so renaming the site changes them.
    pub name: String,
    /// One line describing the site, shown in the runbook.
    #[serde(default)]
    pub description: String,
    /// The date stamped into generated files that need one (GPP `changed`), as `YYYY-MM-DD HH:MM:SS`
    /// (UTC). Bump it when you want clients to see the change as new. Never the build time, so that
    /// builds are reproducible.
    pub changed: String,
    /// Folder on every server where the runtime scripts live (environment variables allowed).
    /// Default '%SystemDrive%\localscripts'.
    #[serde(default = "default_scripts_dir")]
    pub scripts_dir: String,
    /// UNC folder the GPO copies the scripts from, e.g. '\\fileserver\gpo$\localscripts' (Domain
    /// Computers need read access on it and its parent).
    pub scripts_share: String,
}

fn default_scripts_dir() -> String {
    r"%SystemDrive%\localscripts".to_string()
}

/// The resolved farm: site-wide settings, servers and the GPO settings.
#[derive(Debug, Clone)]
pub struct Farm {
    pub name: String,
    pub description: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub changed: String,
    pub scripts_dir: String,
    pub scripts_share: String,
    pub servers: Vec<Server>,
    pub gpo: Option<Gpo>,
}

impl Farm {
    pub fn server(&self, idx: usize) -> &Server {
        &self.servers[idx]
    }

    /// Names of the servers at `idxs`, in the given order.
    pub fn server_names(&self, idxs: &[usize]) -> Vec<String> {
        idxs.iter().map(|&i| self.servers[i].name.clone()).collect()
    }

    /// Full path of a runtime script on the servers.
    pub fn script_path(&self, file: &str) -> String {
        format!("{}\\{}", self.scripts_dir.trim_end_matches('\\'), file)
    }

    /// Whether the site's GPO carries this kind of preference item.
    pub fn gpo_has(&self, p: gpo::Preference) -> bool {
        self.gpo.as_ref().is_some_and(|g| g.includes(p))
    }
}

/// Index of servers by name, shared by every section's resolve.
pub struct Names<'a> {
    pub servers: HashMap<&'a str, usize>,
}

/// Resolves the site-wide settings, the servers (sorted by name: their order in the file carries
/// no meaning, see tests/it/determinism.rs) and the GPO settings. `None` for the settings when one
/// of them is wrong (the servers are still returned, so the sections can be checked against them).
pub fn resolve_farm(
    info: &RawSiteInfo,
    servers: &[server::RawServer],
    gpo: Option<&gpo::RawGpo>,
    ctx: &mut Ctx,
) -> (Option<Info>, Vec<Server>, Option<Gpo>) {
    let checked = resolve_info(info, ctx);
    let mut servers = server::resolve(servers, ctx);
    servers.sort_by(|a, b| (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name)));
    let gpo = gpo.and_then(|g| gpo::resolve(g, ctx));
    (checked, servers, gpo)
}

impl Farm {
    /// The farm from its checked parts.
    pub fn new(info: Info, servers: Vec<Server>, gpo: Option<Gpo>) -> Farm {
        let (name, description, changed, scripts_dir, scripts_share) = info;
        Farm {
            name,
            description,
            changed,
            scripts_dir,
            scripts_share,
            servers,
            gpo,
        }
    }
}

impl Names<'_> {
    /// The index of servers by name.
    pub fn of(servers: &[Server]) -> Names<'_> {
        Names {
            servers: servers
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), i))
                .collect(),
        }
    }
}

/// Name, description, changed, scripts folder, scripts share.
pub type Info = (String, String, String, String, String);

fn resolve_info(raw: &RawSiteInfo, ctx: &mut Ctx) -> Option<Info> {
    let mut ok = ctx.check(
        "site.name",
        check_site_name(&raw.name),
        "e.g. `name = \"partnerpoint\"`",
    );
    ok &= ctx.check(
        "site.changed",
        check_changed(&raw.changed),
        "e.g. `changed = \"2010-04-09 00:00:00\"`",
    );
    ok &= ctx.check("site.scripts_dir", check_local_dir(&raw.scripts_dir), r"e.g. `scripts_dir = '%SystemDrive%\localscripts'` (TOML literal strings in single quotes keep backslashes)");
    ok &= ctx.check(
        "site.scripts_share",
        check_unc(&raw.scripts_share),
        r"e.g. `scripts_share = '\\fileserver\gpo$\localscripts'`",
    );
    ok &= ctx.safe_for(
        "site.description",
        &raw.description,
        &[
            ("the runbook", crate::escape::md),
            ("XML", crate::escape::xml),
        ],
    );
    ok.then(|| {
        (
            raw.name.clone(),
            raw.description.clone(),
            raw.changed.clone(),
            raw.scripts_dir.trim_end_matches('\\').to_string(),
            raw.scripts_share.trim_end_matches('\\').to_string(),
        )
    })
}

fn check_site_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "site name `{s}` must be 1-40 letters, digits, `-` or `_`, starting with a letter"
        ))
    }
}

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

/// Time of day `HH:MM` (24 h) → (hour, minute).
pub fn parse_hhmm(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("`{s}` is not a time of day in the form HH:MM (24 hours), e.g. \"02:30\"");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(check_changed("2010-04-09 00:00:00").is_ok());
        assert!(check_changed("2010-02-30 00:00:00").is_err());
        assert!(check_changed("2010-4-9").is_err());
        assert!(check_changed("2010-04-09T00:00:00").is_err());
    }

    #[test]
    fn paths() {
        assert!(check_local_dir(r"%SystemDrive%\localscripts").is_ok());
        assert!(check_local_dir(r"C:\Program Files\x").is_ok());
        assert!(check_local_dir(r"C:\a&b").is_err());
        assert!(check_local_dir(r"C:\a'b").is_err());
        assert!(check_local_dir(r"%a%b%\x").is_err());
        assert!(check_local_dir(r"relative\x").is_err());
        assert!(check_local_dir(r"C:\..\x").is_err());
        assert!(check_unc(r"\\files\gpo$\localscripts").is_ok());
        assert!(check_unc(r"\\files").is_err());
        assert!(check_unc(r"\\files\a%b").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_hhmm("02:30"), Ok((2, 30)));
        assert!(parse_hhmm("24:00").is_err());
        assert!(parse_hhmm("2:30").is_err());
    }
}
