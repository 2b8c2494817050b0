//! The farm every family builds on: site-wide settings, the servers, the Group Policy settings,
//! the resolve context that locates every finding, and the checks shared by every section
//! (paths, plain names, times of day). It knows no family: the whole site (`crate::site`) is the
//! farm plus one section per family.

pub mod checks;
pub mod ctx;
pub mod gpo;
pub mod server;
pub mod spans;

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
