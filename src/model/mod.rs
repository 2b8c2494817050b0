//! The farm every family builds on: site-wide settings, the servers, the Group Policy settings,
//! the resolve context that locates every finding, and the checks shared by every section
//! (paths, plain names, times of day). It knows no family: the whole site (`crate::site`) is the
//! farm plus one section per family.

pub mod accept;
pub mod checks;
pub mod ctx;
pub mod gpo;
pub mod schedule;
pub mod server;
pub mod spans;
pub mod windows_zones;

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use checks::{
    check_changed, check_fqdn, check_host, check_local_dir, check_plain_name, check_task_name,
    check_unc, parse_hhmm, show_char,
};
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
    /// Time zone of the servers, as an IANA name, e.g. "Europe/Berlin" or "America/New_York", or
    /// as the Windows name `tzutil /g` prints, e.g. "GMT Standard Time" (read as the IANA zone
    /// CLDR's windowsZones.xml maps it to for territory 001: Europe/London).
    /// Required when the GPO carries legacy (Task Scheduler 1.0) tasks, whose start times Group
    /// Policy Preferences stores in UTC ([MS-GPPREF] 2.2.1.18.1).
    #[serde(default)]
    pub timezone: Option<String>,
    /// UNC folder the GPO copies the scripts from, e.g. '\\fileserver\gpo$\localscripts' (Domain
    /// Computers need read access on it and its parent).
    pub scripts_share: String,
    /// Warnings settled for this farm, each with its reason, e.g. `accept = [{ code =
    /// "sql-switcher-needs-powershell-2", server = "web3", reason = "KB968930 installed" }]`.
    /// `validate` shows an accepted warning once, as accepted; it is not counted and does not
    /// fail `--deny-warnings`. An entry that matches no warning is a `stale-accept` warning.
    #[serde(default)]
    pub accept: Vec<accept::RawAccept>,
    /// The NetBIOS name of the servers' domain (what `echo %USERDOMAIN%` prints on a domain
    /// member), e.g. "CAMPUS": the runbook names computer accounts with it (`CAMPUS\web1$` in the
    /// alias switcher's SQL Server logins). Without it the runbook asks for it where it is needed.
    /// 1-15 letters, digits, `_`, `-`, `.` (Active Directory allows a few more characters; these
    /// are the ones safe unquoted on a command line and in T-SQL).
    #[serde(default)]
    pub domain_netbios: Option<String>,
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
    /// The servers' time zone (`site.timezone`), when given.
    pub timezone: Option<Zone>,
    /// The domain's NetBIOS name (`site.domain_netbios`), when given.
    pub domain_netbios: Option<String>,
}

/// A time zone with the name the site file gave it.
#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    pub tz: jiff::tz::TimeZone,
}

impl Farm {
    pub fn server(&self, idx: usize) -> &Server {
        &self.servers[idx]
    }

    /// Names of the servers at `idxs`, in the given order.
    pub fn server_names(&self, idxs: &[usize]) -> Vec<String> {
        idxs.iter().map(|&i| self.servers[i].name.clone()).collect()
    }

    /// The servers' names for prose, written short (`web01–web40, app1`: `render::name_ranges`).
    pub fn server_list(&self, idxs: &[usize]) -> String {
        let names: Vec<&str> = idxs
            .iter()
            .map(|&i| self.servers[i].name.as_str())
            .collect();
        crate::render::name_ranges(&names, "–")
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
    /// The same names in ASCII lower case: Windows compares computer names without case (server
    /// names are unique without case).
    folded: HashMap<String, usize>,
}

/// Resolves the site-wide settings, the servers (sorted by name: their order in the file carries
/// no meaning, see tests/it/determinism.rs) and the GPO settings. `None` for the settings when one
/// of them is wrong (the servers are still returned, so the sections can be checked against them).
pub fn resolve_farm(
    info: &RawSiteInfo,
    servers: &[server::RawServer],
    gpo: Option<&gpo::RawGpo>,
    ctx: &mut Ctx,
) -> (Option<Settings>, Vec<Server>, Option<Gpo>) {
    let checked = resolve_info(info, ctx);
    let mut servers = server::resolve(servers, ctx);
    servers.sort_by(|a, b| (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name)));
    let gpo_settings = gpo.and_then(|g| gpo::resolve(g, ctx));
    let legacy_tasks = gpo.is_some_and(|g| gpo::has_legacy_tasks(g, &servers));
    let zone = resolve_timezone(info.timezone.as_deref(), legacy_tasks, ctx);
    let checked = match (checked, zone) {
        (Some(i), Ok(z)) => Some((i, z)),
        _ => None,
    };
    (checked, servers, gpo_settings)
}

impl Farm {
    /// The farm from its checked parts.
    pub fn new(info: Settings, servers: Vec<Server>, gpo: Option<Gpo>) -> Farm {
        let ((name, description, changed, scripts_dir, scripts_share, domain_netbios), timezone) =
            info;
        Farm {
            name,
            description,
            changed,
            scripts_dir,
            scripts_share,
            servers,
            gpo,
            timezone,
            domain_netbios,
        }
    }
}

/// The `site.timezone` zone: required when the GPO writes legacy tasks (their start times are
/// UTC), an IANA name from the time zone database jiff bundles.
fn resolve_timezone(name: Option<&str>, required: bool, ctx: &mut Ctx) -> Result<Option<Zone>, ()> {
    let Some(name) = name else {
        if required {
            ctx.report(
                crate::diag::Severity::Error,
                crate::diag::Code::MissingKey,
                "site.timezone",
                "`site.timezone` is missing: the GPO's legacy scheduled tasks (Server 2003, or `gpo.tasks_2008 = \"schtasks-xml\"`) store their start time in UTC ([MS-GPPREF] 2.2.1.18.1), converted from the servers' time zone",
                "add the servers' time zone to [site] as an IANA name, e.g. `timezone = \"Europe/Berlin\"` or `timezone = \"America/New_York\"`",
            );
            return Err(());
        }
        return Ok(None);
    };
    if let Ok(tz) = jiff::tz::db().get(name) {
        return Ok(Some(Zone {
            name: name.to_string(),
            tz,
        }));
    }
    // A Windows name (`tzutil /g`): the IANA zone CLDR maps it to (windows_zones.rs).
    if let Some((_, iana)) = windows_zones::iana_of(name)
        && let Ok(tz) = jiff::tz::db().get(iana)
    {
        return Ok(Some(Zone {
            name: iana.to_string(),
            tz,
        }));
    }
    ctx.error(
        "site.timezone",
        format!(
            "`{name}` is neither a time zone of the IANA database nor a Windows time zone name"
        ),
        timezone_help(name),
    );
    Err(())
}

/// The help for an unknown `site.timezone`: the closest IANA name or Windows name (with the IANA
/// name it stands for), or how to find one.
fn timezone_help(name: &str) -> String {
    // "Pacific Daylight Time" is what Windows shows in summer; its key is the Standard name.
    let standard = name.replace("Daylight", "Standard");
    if let Some((w, iana)) = windows_zones::iana_of(&standard) {
        return format!("`{w}` is the Windows name: write `timezone = \"{iana}\"` (or `\"{w}\"`)");
    }
    let known: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    let windows = windows_zones::WINDOWS_ZONES.iter().map(|(w, _)| *w);
    let candidates = known.iter().map(String::as_str).chain(windows);
    match crate::diag::suggest(name, candidates) {
        Some(s) => match windows_zones::iana_of(s) {
            Some((w, iana)) => format!(
                "did you mean `{w}`? It is the Windows name of `{iana}`: write `timezone = \"{iana}\"`"
            ),
            None => format!("did you mean `{s}`?"),
        },
        None => "use an IANA time zone name such as \"Europe/Berlin\", \"America/Chicago\" or \"UTC\", or the Windows name `tzutil /g` prints on a server (e.g. \"GMT Standard Time\" for Europe/London)".into(),
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
            folded: servers
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.to_ascii_lowercase(), i))
                .collect(),
        }
    }

    /// The server named `name`, compared as Windows compares computer names (without case).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.servers
            .get(name)
            .or_else(|| self.folded.get(&name.to_ascii_lowercase()))
            .copied()
    }
}

/// Name, description, changed, scripts folder, scripts share, the domain's NetBIOS name.
pub type Info = (String, String, String, String, String, Option<String>);

/// The checked site-wide settings and the servers' time zone.
pub type Settings = (Info, Option<Zone>);

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
    if let Some(n) = &raw.domain_netbios {
        // Microsoft, "Naming conventions in Active Directory for computers, domains, sites, and
        // OUs": a NetBIOS domain name has at most 15 characters.
        ok &= ctx.check(
            "site.domain_netbios",
            check_plain_name(n, 15, false, "NetBIOS domain name"),
            "e.g. `domain_netbios = \"CAMPUS\"` (`echo %USERDOMAIN%` on a domain member prints it)",
        );
    }
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
            raw.domain_netbios.clone(),
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
        // The meaning is spelled out when there is one, and only then.
        for (written, meant) in [
            ("3:15", "03:15"),
            ("03.15", "03:15"),
            ("03:15:00", "03:15"),
            ("9.05", "09:05"),
        ] {
            let e = parse_hhmm(written).unwrap_err();
            assert!(e.ends_with(&format!("write \"{meant}\"")), "{e}");
        }
        for written in ["24:00", "3:5", "noon", "3:15 PM", "03:15:30"] {
            let e = parse_hhmm(written).unwrap_err();
            assert!(!e.contains("write"), "{e}");
        }
    }
}
