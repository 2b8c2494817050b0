//! `[[server]]`: the machines of the farm.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Deserialize;

use super::Ctx;
use super::checks::{check_fqdn, check_host};

/// Windows Server release of a machine. It decides which artifact kind reaches it: Task XML and
/// schtasks for 2008 and later, eventtriggers and legacy tasks for 2003/2003 R2; PowerShell instead
/// of VBScript from 2012 R2 on (issue 31).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    JsonSchema,
    serde::Serialize,
)]
pub enum Os {
    #[serde(rename = "2003")]
    W2003,
    #[serde(rename = "2003r2")]
    W2003R2,
    #[serde(rename = "2008")]
    W2008,
    #[serde(rename = "2008r2")]
    W2008R2,
    #[serde(rename = "2012r2")]
    W2012R2,
    #[serde(rename = "2016")]
    W2016,
    #[serde(rename = "2019")]
    W2019,
    #[serde(rename = "2022")]
    W2022,
    #[serde(rename = "2025")]
    W2025,
}

impl Os {
    /// Server 2008 or later: Task Scheduler 2.0 (task XML, event triggers).
    pub fn has_task_scheduler2(self) -> bool {
        self >= Os::W2008
    }
    /// Windows Server 2012 R2 or later: Windows PowerShell 4.0 or later built in, the runtime
    /// scripts are PowerShell rather than VBScript (VBScript is deprecated: Microsoft, "Resources
    /// for deprecated features", VBScript a Feature on Demand from Windows 11 24H2 / Server 2025).
    pub fn is_modern(self) -> bool {
        self >= Os::W2012R2
    }
    /// The `version` of a Group Policy Preferences `FilterOs` item for this release ([MS-GPPREF]
    /// 2.2.1.22 FilterOs and its product-behavior note: `WINBLUESRV` is Windows Server 2012 R2,
    /// `WINTHRESHOLDSRV` "Windows Server 2016 and later", the last value GPMC writes: a GPMC
    /// backup made on Server 2025 writes `WINTHRESHOLDSRV` for it, hraedon/gpo-studio, commit
    /// 25210899; docs/modern-targets.md section 1). 2016 to 2025 cannot be told apart by it: the
    /// items' computer filter does.
    pub fn gpp_version(self) -> &'static str {
        match self {
            Os::W2003 => "2K3",
            Os::W2003R2 => "2K3R2",
            Os::W2008 => "2K8",
            Os::W2008R2 => "2K8R2",
            Os::W2012R2 => "WINBLUESRV",
            Os::W2016 | Os::W2019 | Os::W2022 | Os::W2025 => "WINTHRESHOLDSRV",
        }
    }
    /// The architecture a server of this release has when `arch` is not given: Windows Server
    /// 2008 R2 exists only as x64 (Windows Server team blog, "Announcing Windows Server 2008 R2",
    /// 2008-10-28: "Windows Server 2008 R2 is the first Windows OS platform to go 64-bit only");
    /// earlier releases shipped as both, and farms of that era mostly ran x86 on 2003 and x64 on
    /// 2008.
    pub fn default_arch(self) -> Arch {
        match self {
            Os::W2003 | Os::W2003R2 => Arch::X86,
            _ => Arch::X64,
        }
    }
    /// The NT version `ver` reports (major.minor: "Operating System Version", Microsoft Learn,
    /// win32/sysinfo/operating-system-version: 5.2 for Server 2003 and 2003 R2, 6.0 for 2008,
    /// 6.1 for 2008 R2, 6.3 for 2012 R2, 10.0 for 2016 and later).
    pub fn nt_version(self) -> &'static str {
        match self {
            Os::W2003 | Os::W2003R2 => "5.2",
            Os::W2008 => "6.0",
            Os::W2008R2 => "6.1",
            Os::W2012R2 => "6.3",
            _ => "10.0",
        }
    }
    /// Every release, oldest first.
    pub const ALL: [Os; 9] = [
        Os::W2003,
        Os::W2003R2,
        Os::W2008,
        Os::W2008R2,
        Os::W2012R2,
        Os::W2016,
        Os::W2019,
        Os::W2022,
        Os::W2025,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Os::W2003 => "Windows Server 2003",
            Os::W2003R2 => "Windows Server 2003 R2",
            Os::W2008 => "Windows Server 2008",
            Os::W2008R2 => "Windows Server 2008 R2",
            Os::W2012R2 => "Windows Server 2012 R2",
            Os::W2016 => "Windows Server 2016",
            Os::W2019 => "Windows Server 2019",
            Os::W2022 => "Windows Server 2022",
            Os::W2025 => "Windows Server 2025",
        }
    }
}

/// Processor architecture of a machine's Windows. Only a 64-bit Windows has the 32-bit registry
/// view `SOFTWARE\Wow6432Node` (Microsoft: "Registry Redirector", 32-bit and 64-bit Application
/// Data in the Registry): the alias and the other registry values are written to it only on x64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema, serde::Serialize)]
pub enum Arch {
    #[serde(rename = "x86")]
    X86,
    #[serde(rename = "x64")]
    X64,
}

impl Arch {
    pub fn label(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::X64 => "x64",
        }
    }
}

/// One machine.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Host name (NetBIOS-compatible: letters, digits and `-`, at most 15 characters).
    pub name: String,
    /// Windows Server release: "2003", "2003r2", "2008", "2008r2", "2012r2", "2016", "2019",
    /// "2022" or "2025".
    pub os: Os,
    /// "x86" or "x64". Default: "x86" for 2003/2003 R2, "x64" from 2008 on (2008 R2 and later
    /// are x64 only). Decides whether the 32-bit registry view (Wow6432Node) is written.
    #[serde(default)]
    pub arch: Option<Arch>,
    /// IPv4 or IPv6 address (needed when the server is a BIG-IP pool member).
    #[serde(default)]
    pub address: Option<String>,
    /// Fully qualified DNS name, if clients should use it instead of the short name.
    #[serde(default)]
    pub fqdn: Option<String>,
    /// Free text shown in the runbook.
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub os: Os,
    pub arch: Arch,
    pub address: Option<IpAddr>,
    pub fqdn: Option<String>,
    pub description: String,
}

impl Server {
    /// The name clients use to reach the server.
    pub fn dns_name(&self) -> &str {
        self.fqdn.as_deref().unwrap_or(&self.name)
    }
}

/// How to write an address that did not parse: an IPv6 address in URL brackets or with a port
/// gets the bare address spelled out.
fn address_help(a: &str) -> String {
    let bare = a
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(inner, _)| inner);
    match bare.filter(|b| b.parse::<IpAddr>().is_ok()) {
        Some(b) => {
            format!("write the address without brackets (and without a port): `address = \"{b}\"`")
        }
        None => "e.g. `address = \"10.20.30.12\"` or `address = \"fd00::12\"`".into(),
    }
}

pub fn resolve(raw: &[RawServer], ctx: &mut Ctx) -> Vec<Server> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let p = format!("server[{i}]");
        let mut ok = ctx.check(
            &format!("{p}.name"),
            check_host(&r.name),
            "e.g. `name = \"sharepoint3\"`",
        );
        let address = match &r.address {
            None => None,
            Some(a) => match a.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    ctx.error(
                        &format!("{p}.address"),
                        format!("`{a}` is not an IPv4 or IPv6 address"),
                        address_help(a),
                    );
                    ctx.mark_failed("server address", &r.name);
                    ok = false;
                    None
                }
            },
        };
        if let Some(f) = &r.fqdn {
            ok &= ctx.check(
                &format!("{p}.fqdn"),
                check_fqdn(f),
                "e.g. `fqdn = \"sharepoint3.campus.example.edu\"`",
            );
        }
        let arch = resolve_arch(r, &p, ctx);
        ok &= ctx.safe_for(
            &format!("{p}.description"),
            &r.description,
            &[
                ("the runbook", crate::escape::md),
                ("XML", crate::escape::xml),
            ],
        );
        if ok {
            out.push(Server {
                name: r.name.clone(),
                os: r.os,
                arch,
                address,
                fqdn: r.fqdn.clone(),
                description: r.description.clone(),
            });
        } else {
            // Keep indices aligned with the file so references still resolve; the build fails anyway.
            out.push(Server {
                name: r.name.clone(),
                os: r.os,
                arch,
                address,
                fqdn: None,
                description: String::new(),
            });
        }
    }
    ctx.unique(
        "server name",
        raw.iter()
            .enumerate()
            .map(|(i, r)| (format!("server[{i}].name"), r.name.as_str())),
    );
    let mut addrs: Vec<(String, String)> = Vec::new();
    for (i, s) in out.iter().enumerate() {
        if let Some(a) = s.address {
            addrs.push((format!("server[{i}].address"), a.to_string()));
        }
    }
    ctx.unique(
        "server address",
        addrs.iter().map(|(p, a)| (p.clone(), a.as_str())),
    );
    out
}

/// The server's architecture: as given, else the release's default; x86 with 2008 R2 is refused
/// (there is no 32-bit 2008 R2) and the default is used so the rest of the site is still checked.
fn resolve_arch(r: &RawServer, p: &str, ctx: &mut Ctx) -> Arch {
    match r.arch {
        Some(Arch::X86) if r.os >= Os::W2008R2 => {
            ctx.error(
                &format!("{p}.arch"),
                format!("{} has no x86 edition", r.os.label()),
                "remove `arch` (2008 R2 and later are always x64) or correct `os`",
            );
            Arch::X64
        }
        Some(a) => a,
        None => r.os.default_arch(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert!(check_host("sharepoint3").is_ok());
        assert!(check_host("sql-01").is_ok());
        assert!(check_host("way-too-long-hostname").is_err());
        assert!(check_host("a b").is_err());
        assert!(check_host("-a").is_err());
        assert!(check_host("123").is_err());
    }
}
