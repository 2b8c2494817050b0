//! The site description: the serde model of `site.toml` (raw, exactly what the user wrote) and the
//! resolved, checked [`Site`] that every renderer works from. Templates never see raw input.
//!
//! Each section has its own file with its raw structs, its resolved structs and its `resolve` step.
//! `load` parses, then resolves every section, collecting every finding with its place.

pub mod affinity;
pub mod ctx;
pub mod f5;
pub mod gpo;
pub mod kill;
pub mod maint;
pub mod server;
pub mod spans;
pub mod sql;
pub mod unknown;

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics, suggest};
pub use ctx::Ctx;
pub use gpo::Gpo;
pub use kill::Kill;
pub use maint::Maintenance;
pub use server::{Os, Server};
use spans::SpanIndex;
pub use sql::Sql;

/// The whole site file as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "sitebundle site description",
    description = "One Windows web farm: servers, SQL mirroring, F5 BIG-IP, Group Policy and the scheduled tasks that glue them together. `sitebundle build` compiles it into a bundle of native artifacts."
)]
pub struct RawSite {
    /// Site-wide settings.
    pub site: RawSiteInfo,
    /// Every server the bundle deploys to or talks about.
    #[serde(default)]
    pub server: Vec<server::RawServer>,
    /// Processes killed on a schedule (one scheduled task per entry).
    #[serde(default)]
    pub kill: Vec<kill::RawKill>,
    /// The Group Policy object that distributes scripts, scheduled tasks and registry values with
    /// Group Policy Preferences. Without this section no GPO backup is generated.
    #[serde(default)]
    pub gpo: Option<gpo::RawGpo>,
    /// SQL Server database mirroring: the partners, the failover-all job, its alerts and the
    /// client alias switcher on the front ends.
    #[serde(default)]
    pub sql: Option<sql::RawSql>,
    /// The F5 BIG-IP configuration: monitors, pools, virtual servers and path routes.
    #[serde(default)]
    pub f5: Option<f5::RawF5>,
    /// SCOM maintenance mode when Windows Update announces a restart (event 22).
    #[serde(default)]
    pub maintenance: Option<maint::RawMaintenance>,
}

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

/// The resolved site.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub description: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub changed: String,
    pub scripts_dir: String,
    pub scripts_share: String,
    pub servers: Vec<Server>,
    pub kills: Vec<Kill>,
    pub gpo: Option<Gpo>,
    pub sql: Option<Sql>,
    /// The BIG-IP section, when the site has one.
    pub f5: Option<f5::F5>,
    pub maintenance: Option<Maintenance>,
}

impl Site {
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
}

/// Index of servers by name, shared by every section's resolve.
pub struct Names<'a> {
    pub servers: HashMap<&'a str, usize>,
}

/// Reads, parses and resolves a site file.
pub fn load(path: &std::path::Path) -> Result<(Site, Diagnostics), Diagnostics> {
    let display = path.display().to_string();
    let bytes = match read_limited(path) {
        Ok(b) => b,
        Err(e) => {
            let mut d = Diagnostics::new(display, "");
            d.items.push(Diagnostic::error(None, format!("cannot read the site file: {e}")).with_help("pass the path of a site.toml, e.g. `sitebundle build site.toml`; `sitebundle init` writes a starter one"));
            return Err(d);
        }
    };
    let text = match decode(&bytes) {
        Ok(t) => t,
        Err(msg) => {
            let mut d = Diagnostics::new(display, "");
            d.items.push(
                Diagnostic::error(None, msg)
                    .with_help("save site.toml as UTF-8 (without a byte order mark is best)"),
            );
            return Err(d);
        }
    };
    parse_and_resolve(&display, &text)
}

/// Largest site file read (a real one is a few kilobytes; this stops `/dev/zero` or a wrong file
/// from eating all memory).
pub const MAX_SITE_BYTES: u64 = 64 * 1024 * 1024;

fn read_limited(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other("it is a directory, not a file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SITE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SITE_BYTES {
        return Err(std::io::Error::other(format!(
            "it is larger than {} MiB, far more than any site description",
            MAX_SITE_BYTES / 1024 / 1024
        )));
    }
    Ok(bytes)
}

/// Site files are UTF-8 (a UTF-8 BOM is tolerated). UTF-16 and binary files are refused with a clear reason.
/// Public so the fuzz target decodes bytes exactly as `load` does.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the site file is UTF-16 encoded; TOML files must be UTF-8".into());
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) if s.contains('\0') => {
            Err("the site file contains NUL bytes; is it a binary file?".into())
        }
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "the site file is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        )),
    }
}

/// Parses and resolves site text; `file` is the name used in diagnostics.
pub fn parse_and_resolve(file: &str, text: &str) -> Result<(Site, Diagnostics), Diagnostics> {
    parse_and_resolve_with(file, text, true)
}

/// Reads, parses and resolves a site file without the affinity-group scenario check (for
/// `sitebundle scenarios`, which reports the scenarios itself, split or not).
pub fn load_unchecked(path: &std::path::Path) -> Result<(Site, Diagnostics), Diagnostics> {
    let display = path.display().to_string();
    let text = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| decode(&b));
    match text {
        Ok(t) => parse_and_resolve_with(&display, &t, false),
        Err(_) => load(path),
    }
}

/// [`parse_and_resolve`], with the affinity-group scenario check on or off.
pub fn parse_and_resolve_with(
    file: &str,
    text: &str,
    check_affinity: bool,
) -> Result<(Site, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new(file, text);
    // Passwords are refused before the typed parse, each with the reason (MS14-025), all at once.
    let spans = SpanIndex::build(text);
    let secrets = gpo::password_keys(&spans);
    if !secrets.is_empty() {
        diags.items.extend(secrets);
        diags.sort();
        return Err(diags);
    }
    let raw: RawSite = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            // serde stops at the first problem: list every unknown key at once (from the schema),
            // plus serde's own finding when it is something else (a wrong type, a missing key).
            let unknown = unknown::unknown_keys(text);
            let first = toml_error(&e, text);
            let is_unknown = e.message().trim_start().starts_with("unknown field");
            let covered = unknown.iter().any(|d| d.span == first.span);
            if !is_unknown || !covered {
                diags.items.push(first);
            }
            diags.items.extend(unknown);
            diags.sort();
            return Err(diags);
        }
    };
    let mut ctx = Ctx::new(&spans);
    let mut site = resolve(raw, &mut ctx);
    // The scenario check needs the whole resolved site; it only runs on a site without errors.
    if check_affinity
        && !ctx
            .diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    {
        if let Some(s) = site.as_mut() {
            crate::scenarios::validate_site(s, &mut ctx);
        }
    }
    diags.items.extend(ctx.diags);
    diags.sort();
    match site {
        Some(site) if !diags.has_errors() => Ok((site, diags)),
        _ => Err(diags),
    }
}

/// Turns a TOML/serde error into a diagnostic with a useful help line.
fn toml_error(e: &toml::de::Error, text: &str) -> Diagnostic {
    let mut msg = e.message().trim().to_string();
    let mut span = e.span();
    // serde names Rust types; a site author thinks in TOML's.
    for (rust, toml) in [
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u16", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list (`[ ... ]`)"),
        ("expected a boolean", "expected true or false"),
    ] {
        if msg.ends_with(rust) {
            msg = format!("{}{toml}", &msg[..msg.len() - rust.len()]);
        }
    }
    let found = e
        .span()
        .and_then(|s| text.get(s))
        .unwrap_or("")
        .trim()
        .to_string();
    let mut help = String::new();
    if msg == "recursion limit" {
        // The parser gives no place for this one: point at the first deeply nested line.
        msg = "the file nests arrays, tables or dotted keys too deeply for the TOML parser".into();
        span = deeply_nested_line(text);
        return Diagnostic::error(span, msg)
            .with_help("a site file needs only a few levels of nesting; remove the extra brackets, braces or dots");
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            help = match suggest(field, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if !expected.is_empty() => {
                    format!("allowed keys here: {}", expected.join(", "))
                }
                None => "remove this key".into(),
            };
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        help = format!(
            "add `{field} = …` to this table (`sitebundle schema` describes every key; `sitebundle init` writes a commented example)"
        );
    } else if msg.starts_with("invalid type") {
        let unquoted = found.trim_matches(|c| c == '"' || c == '\'');
        help = if found.starts_with(['"', '\''])
            && msg.contains("whole number")
            && unquoted.parse::<u64>().is_ok()
        {
            format!("write the number without quotes: `{unquoted}`")
        } else if found.starts_with(['"', '\''])
            && msg.contains("true or false")
            && matches!(unquoted, "true" | "false")
        {
            format!("write it without quotes: `{unquoted}`")
        } else if msg.contains("expected a list") && !found.starts_with('[') {
            format!("put the value in a list: `[{found}]`")
        } else {
            "check the value's type: strings are quoted, numbers and true/false are not, lists use [ ]".into()
        };
    } else if msg.starts_with("unknown variant") {
        help = "use one of the values listed above".into();
    } else {
        help = "fix the TOML syntax at this place".into();
    }
    Diagnostic::error(span, msg).with_help(help)
}

/// The first line with many nesting characters (`[`, `{`, `.`), as a span of its first character.
fn deeply_nested_line(text: &str) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line
            .bytes()
            .filter(|b| matches!(b, b'[' | b'{' | b'.'))
            .count()
            >= 64
        {
            return Some(start..start + 1);
        }
        start += line.len();
    }
    (!text.is_empty()).then_some(0..1)
}

fn resolve(raw: RawSite, ctx: &mut Ctx) -> Option<Site> {
    let info = resolve_info(&raw.site, ctx);
    let mut servers = server::resolve(&raw.server, ctx);
    // The order of `[[server]]` entries carries no meaning: every list of servers in the output
    // follows name order, so rearranging site.toml never changes the bundle (tests/determinism.rs).
    servers.sort_by(|a, b| (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name)));
    let names = Names {
        servers: servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect(),
    };
    let kills = kill::resolve(&raw.kill, ctx, &names);
    let gpo = raw.gpo.as_ref().and_then(|g| gpo::resolve(g, ctx));
    let sql = raw
        .sql
        .as_ref()
        .and_then(|r| sql::resolve(r, ctx, &names, &servers));
    let f5 = raw
        .f5
        .as_ref()
        .and_then(|f| f5::resolve(f, ctx, &names, &servers, &raw.site.name));
    let maintenance = raw
        .maintenance
        .as_ref()
        .and_then(|m| maint::resolve(m, ctx, &names));
    let (name, description, changed, scripts_dir, scripts_share) = info?;
    Some(Site {
        name,
        description,
        changed,
        scripts_dir,
        scripts_share,
        servers,
        kills,
        gpo,
        sql,
        f5,
        maintenance,
    })
}

type Info = (String, String, String, String, String);

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

/// The JSON Schema of site.toml, pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RawSite);
    serde_json::to_string_pretty(&schema).expect("schema serializes")
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
