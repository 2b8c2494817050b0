//! `[sharepoint]`: the SharePoint farm the front ends run (issue 29): its version, the name it
//! opens its databases with, and the public URLs its alternate access mappings need when the
//! BIG-IP offloads SSL.
//!
//! Supported Windows releases per version (Microsoft's "Hardware and software requirements" page
//! of each version):
//! - 2007 (WSS 3.0 / MOSS 2007): Windows Server 2003 SP1 or later, 32- or 64-bit; Windows Server
//!   2008 and, with SP2, 2008 R2.
//! - 2010: 64-bit only, Windows Server 2008 SP2 or 2008 R2 ("A 64-bit version of Windows Server
//!   2008 or Windows Server 2008 R2", Microsoft Download Center, SharePoint 2010 Products SPModule;
//!   "SharePoint 2010 products are 64-bit only", SQL Server 2012 docs hh231680).
//! - 2013: 64-bit Windows Server 2008 R2 SP1, 2012, 2012 R2.
//! - 2016: Windows Server 2012 R2, 2016, 2019. 2019: Windows Server 2016, 2019. Subscription Edition:
//!   Windows Server 2019, 2022 (no source found for 2025; docs/modern-targets.md section 8).
//!
//! The timer service: `SPTimerV3` ("Windows SharePoint Services Timer") in 2007, `SPTimerV4` from
//! 2010 on.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::server::Arch;
use crate::model::{Ctx, Names, Os, Server};

/// The SharePoint farm.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSharePoint {
    /// "2007" (WSS 3.0 / MOSS 2007), "2010", "2013", "2016", "2019" or "se" (Subscription Edition).
    pub version: String,
    /// The servers of the SharePoint farm (front ends and application servers; names from
    /// `[[server]]`). Default: the servers that get the SQL alias (`sql.switcher.servers`).
    #[serde(default)]
    pub servers: Option<Vec<String>>,
    /// The database server name the farm opens its databases with today (the `Data Source` of its
    /// configuration database), when it is not the SQL alias: the runbook then renames it to the
    /// alias (`stsadm -o renameserver` / `Rename-SPServer`). Default: the alias (a farm created
    /// with the alias as its database server).
    #[serde(default)]
    pub database_server: Option<String>,
    /// Public URLs of the web applications (alternate access mappings).
    #[serde(default)]
    pub url: Vec<RawUrl>,
}

/// One public URL of a web application.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUrl {
    /// A URL the web application already has, e.g. "http://partnerpoint" (how stsadm and
    /// PowerShell find the web application).
    pub web_application: String,
    /// The URL users type, e.g. "https://partnerpoint.example.edu": scheme, host and port only.
    pub public: String,
    /// The zone of the mapping: "default", "intranet", "internet", "extranet" or "custom".
    /// Default "internet".
    #[serde(default = "default_zone")]
    pub zone: String,
    /// The URL the requests reach SharePoint with. Default: for an https public URL, the same host
    /// over http (the BIG-IP offloads SSL and forwards the host name unchanged); for an http
    /// public URL, none (the public URL is its own internal URL).
    #[serde(default)]
    pub internal: Option<String>,
}

fn default_zone() -> String {
    "internet".into()
}

/// A SharePoint version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2007,
    V2010,
    V2013,
    V2016,
    V2019,
    Se,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        Some(match s {
            "2007" => Version::V2007,
            "2010" => Version::V2010,
            "2013" => Version::V2013,
            "2016" => Version::V2016,
            "2019" => Version::V2019,
            "se" => Version::Se,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Version::V2007 => "SharePoint 2007",
            Version::V2010 => "SharePoint 2010",
            Version::V2013 => "SharePoint 2013",
            Version::V2016 => "SharePoint Server 2016",
            Version::V2019 => "SharePoint Server 2019",
            Version::Se => "SharePoint Server Subscription Edition",
        }
    }

    /// The timer service's name (`sc query` SERVICE_NAME).
    pub fn timer_service(self) -> &'static str {
        match self {
            Version::V2007 => "SPTimerV3",
            _ => "SPTimerV4",
        }
    }

    /// The timer service of the other generation, which this version does not have.
    fn other_timer_service(self) -> &'static str {
        match self {
            Version::V2007 => "SPTimerV4",
            _ => "SPTimerV3",
        }
    }

    /// Whether the version has the SharePoint Management Shell (PowerShell cmdlets); 2007 has
    /// stsadm only.
    pub fn has_powershell(self) -> bool {
        self != Version::V2007
    }

    /// The version's folder under `Web Server Extensions` ("12" for 2007, "14" for 2010, …).
    pub fn hive(self) -> u32 {
        match self {
            Version::V2007 => 12,
            Version::V2010 => 14,
            Version::V2013 => 15,
            _ => 16,
        }
    }

    /// Whether the version runs on a server of this release and architecture; the error names
    /// what it needs.
    fn supports(self, os: Os, arch: Arch) -> Result<(), &'static str> {
        let x64 = arch == Arch::X64;
        let ok = match self {
            Version::V2007 => os <= Os::W2008R2,
            Version::V2010 => x64 && matches!(os, Os::W2008 | Os::W2008R2),
            Version::V2013 => x64 && matches!(os, Os::W2008R2 | Os::W2012R2),
            Version::V2016 => matches!(os, Os::W2012R2 | Os::W2016 | Os::W2019),
            Version::V2019 => matches!(os, Os::W2016 | Os::W2019),
            Version::Se => matches!(os, Os::W2019 | Os::W2022),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Version::V2007 => "Windows Server 2003 SP1 to 2008 R2",
            Version::V2010 => "64-bit Windows Server 2008 SP2 or 2008 R2",
            Version::V2013 => "64-bit Windows Server 2008 R2 SP1, 2012 or 2012 R2",
            Version::V2016 => "Windows Server 2012 R2, 2016 or 2019",
            Version::V2019 => "Windows Server 2016 or 2019",
            Version::Se => "Windows Server 2019 or 2022 (no source found for 2025)",
        })
    }
}

/// An alternate access mapping: the public URL of a zone, and the internal URL requests arrive
/// with when it differs.
#[derive(Debug, Clone)]
pub struct Url {
    pub web_application: String,
    pub public: String,
    /// "Default", "Intranet", "Internet", "Extranet" or "Custom", as stsadm and PowerShell write it.
    pub zone: String,
    pub internal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SharePoint {
    pub version: Version,
    /// In `[[server]]` order.
    pub servers: Vec<usize>,
    /// The name the farm opens its databases with today, when it is not the alias.
    pub database_server: Option<String>,
    pub urls: Vec<Url>,
}

/// What the SharePoint section needs from the rest of the site.
pub struct Inputs<'a, 'n> {
    pub names: &'a Names<'n>,
    pub site: &'a [Server],
    /// The SQL alias and the servers that get it, when the site has `[sql]`.
    pub alias: Option<(&'a str, &'a [usize])>,
}

/// Resolves `[sharepoint]`; `None` after an error (reported).
pub fn resolve(raw: &RawSharePoint, ctx: &mut Ctx, input: &Inputs) -> Option<SharePoint> {
    let p = "sharepoint";
    let Some(version) = Version::parse(&raw.version) else {
        ctx.error(
            &format!("{p}.version"),
            format!("`{}` is not a SharePoint version", raw.version),
            "use \"2007\", \"2010\", \"2013\", \"2016\", \"2019\" or \"se\"",
        );
        return None;
    };
    let servers = resolve_servers(raw, ctx, input)?;
    let mut ok = check_releases(raw, ctx, input.site, version, &servers);
    let database_server = resolve_database_server(raw, ctx, input.alias.map(|a| a.0), &mut ok);
    let mut urls = Vec::new();
    for (i, u) in raw.url.iter().enumerate() {
        match resolve_url(u, ctx, &format!("{p}.url[{i}]")) {
            Some(url) => urls.push(url),
            None => ok = false,
        }
    }
    ok.then_some(SharePoint {
        version,
        servers,
        database_server,
        urls,
    })
}

/// The farm's servers: listed, or the servers that get the SQL alias.
fn resolve_servers(raw: &RawSharePoint, ctx: &mut Ctx, input: &Inputs) -> Option<Vec<usize>> {
    match (&raw.servers, input.alias) {
        (Some(list), _) => {
            let (servers, ok) = ctx.server_list("sharepoint.servers", list, input.names);
            if list.is_empty() {
                ctx.error(
                    "sharepoint.servers",
                    "`servers` is empty",
                    "list the SharePoint farm's servers",
                );
                return None;
            }
            ok.then_some(servers)
        }
        (None, Some((_, hosts))) => Some(hosts.to_vec()),
        (None, None) => {
            ctx.error(
                "sharepoint",
                "`[sharepoint]` needs `servers` when the site has no `[sql]` alias",
                "list the SharePoint farm's servers, e.g. `servers = [\"web1\", \"web2\"]`",
            );
            None
        }
    }
}

/// Every server runs a Windows release and architecture the version supports.
fn check_releases(
    raw: &RawSharePoint,
    ctx: &mut Ctx,
    site: &[Server],
    version: Version,
    servers: &[usize],
) -> bool {
    let mut ok = true;
    for (j, &s) in servers.iter().enumerate() {
        let server = &site[s];
        let Err(needs) = version.supports(server.os, server.arch) else {
            continue;
        };
        let at = match &raw.servers {
            Some(list) => list
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&server.name))
                .map(|k| format!("sharepoint.servers[{k}]"))
                .unwrap_or_else(|| format!("sharepoint.servers[{j}]")),
            None => "sharepoint.version".to_string(),
        };
        ctx.error(
            &at,
            format!(
                "{} needs {needs}: `{}` is {} {}",
                version.label(),
                server.name,
                server.os.label(),
                server.arch.label()
            ),
            "check the version, or the server's `os` and `arch`; a server that cannot run this version is not part of its farm",
        );
        ok = false;
    }
    ok
}

/// The farm's database server name when it differs from the alias: a plain host name.
/// `stsadm -o renameserver` and `Rename-SPServer` rename the server part of the farm's database
/// server only ("Renames a server that is currently connected to the farm"): a farm configured with
/// `host\instance` keeps the instance and would open `ALIAS\instance`, which no alias of the bundle
/// names, so such a name is refused.
fn resolve_database_server(
    raw: &RawSharePoint,
    ctx: &mut Ctx,
    alias: Option<&str>,
    ok: &mut bool,
) -> Option<String> {
    let name = raw.database_server.as_ref()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.contains(['\\', ',']) {
        ctx.error(
            "sharepoint.database_server",
            format!("`{name}` names an instance or a port: renameserver / Rename-SPServer rename the server part only, so the farm would open `{}` and not the alias", match name.split_once('\\') {
                Some((_, inst)) => format!("{}\\{}", alias.unwrap_or("ALIAS"), inst.split(',').next().unwrap_or(inst)),
                None => format!("{},{}", alias.unwrap_or("ALIAS"), name.split(',').nth(1).unwrap_or("")),
            }),
            "a farm configured with a named instance or a port moves to the alias by moving its databases (Microsoft: \"Move all databases\"), or is created anew with the alias; remove `database_server` once it opens them by the alias",
        );
        *ok = false;
        return None;
    }
    if name.is_empty() || name.len() > 128 || !name.chars().all(plain) {
        ctx.error(
            "sharepoint.database_server",
            format!("`{name}` is not a database server name"),
            "write the host name the configuration database's Data Source shows (letters, digits, `-`, `_`, `.`)",
        );
        *ok = false;
        return None;
    }
    if alias.is_some_and(|a| a.eq_ignore_ascii_case(name)) {
        return None;
    }
    if alias.is_none() {
        ctx.error(
            "sharepoint.database_server",
            "`database_server` names the server to move away from, to the SQL alias: this site has no `[sql]`",
            "remove `database_server`, or add `[sql]`",
        );
        *ok = false;
    }
    Some(name.clone())
}

/// One alternate access mapping: URLs of scheme, host and port only (stsadm `addalternatedomain`:
/// the URL "should be limited to the protocol scheme, host name, and port number portions").
fn resolve_url(u: &RawUrl, ctx: &mut Ctx, p: &str) -> Option<Url> {
    let mut ok = true;
    for (field, value) in [
        ("web_application", &u.web_application),
        ("public", &u.public),
    ] {
        ok &= ctx.check(
            &format!("{p}.{field}"),
            check_url(value),
            "e.g. \"https://portal.example.edu\"",
        );
    }
    if let Some(i) = &u.internal {
        ok &= ctx.check(
            &format!("{p}.internal"),
            check_url(i),
            "e.g. \"http://portal.example.edu\"",
        );
    }
    let zones = ["default", "intranet", "internet", "extranet", "custom"];
    let zone = match zones.iter().find(|z| **z == u.zone) {
        Some(z) => {
            let mut c = z.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        }
        None => {
            ctx.error(
                &format!("{p}.zone"),
                format!("`{}` is not a zone", u.zone),
                "use \"default\", \"intranet\", \"internet\", \"extranet\" or \"custom\"",
            );
            ok = false;
            String::new()
        }
    };
    let internal = u.internal.clone().or_else(|| {
        u.public
            .strip_prefix("https://")
            .map(|rest| format!("http://{}", rest.split(':').next().unwrap_or(rest)))
    });
    ok.then(|| Url {
        web_application: u.web_application.clone(),
        public: u.public.clone(),
        zone,
        internal: internal.filter(|i| *i != u.public),
    })
}

/// `http://host` or `https://host[:port]`: lower-case scheme, a DNS host name, no path.
pub fn check_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("`{s}` does not start with http:// or https://"))?;
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if crate::model::check_fqdn(host).is_err() {
        return Err(format!(
            "`{s}` is not scheme, host and port only: an alternate access mapping URL has no path, query or user"
        ));
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err(format!("`{s}` has a port that is not 1-65535"));
    }
    Ok(())
}

/// A service name a section gives where this version's timer service belongs: the other
/// generation's timer (`SPTimerV3` on 2010, `SPTimerV4` on 2007) is an error at that place.
pub fn check_timer_service(ctx: &mut Ctx, version: Version, path: &str, service: &str) {
    if service.eq_ignore_ascii_case(version.other_timer_service()) {
        ctx.error(
            path,
            format!(
                "`{service}` is not {}'s timer service: it is `{}`",
                version.label(),
                version.timer_service()
            ),
            format!(
                "write `{}` (sc query shows SERVICE_NAME)",
                version.timer_service()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_releases() {
        assert!(Version::V2007.supports(Os::W2003R2, Arch::X86).is_ok());
        assert!(Version::V2010.supports(Os::W2003R2, Arch::X64).is_err());
        assert!(Version::V2010.supports(Os::W2008R2, Arch::X86).is_err());
        assert!(Version::V2010.supports(Os::W2008, Arch::X64).is_ok());
        assert!(Version::V2013.supports(Os::W2008, Arch::X64).is_err());
        assert!(Version::V2016.supports(Os::W2008R2, Arch::X64).is_err());
        assert!(Version::V2016.supports(Os::W2019, Arch::X64).is_ok());
        assert!(Version::Se.supports(Os::W2025, Arch::X64).is_err());
        assert!(Version::V2007.supports(Os::W2012R2, Arch::X64).is_err());
        assert_eq!(Version::V2007.timer_service(), "SPTimerV3");
        assert_eq!(Version::V2010.timer_service(), "SPTimerV4");
    }

    #[test]
    fn urls() {
        assert!(check_url("https://portal.example.edu").is_ok());
        assert!(check_url("http://portal:8080").is_ok());
        for bad in [
            "portal",
            "https://portal/sites/a",
            "https://a b",
            "https://x:0",
            "ftp://x",
            "https://user@x",
            "https://x\"&y",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
