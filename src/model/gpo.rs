//! `[gpo]`: the Group Policy object that distributes the runtime scripts, the scheduled tasks and
//! the registry values of the site with Group Policy Preferences (an importable GPO backup).
//!
//! Also home of the password guard: Group Policy Preferences can store passwords (`cpassword`),
//! encrypted with an AES key that Microsoft published ([MS-GPPREF] 2.2.1.1.4), so any domain user
//! who can read SYSVOL can decrypt them (MS14-025). sitebundle never writes one, and a site file
//! that tries to give one is rejected with that explanation.

use schemars::JsonSchema;
use serde::Deserialize;

use super::Ctx;
use super::spans::SpanIndex;
use crate::diag::Diagnostic;

/// A kind of preference item the GPO can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preference {
    /// Copy every runtime script of the bundle (`scripts/`) from `site.scripts_share` to
    /// `site.scripts_dir` (Files preference).
    Files,
    /// Every scheduled task of the site: a legacy task for Server 2003 / 2003 R2 and a Task
    /// Scheduler 2.0 task for 2008 / 2008 R2 (Scheduled Tasks preference).
    Tasks,
    /// Every registry value of the site (Registry preference).
    Registry,
    /// Every service setting of the site, e.g. recovery actions (Services preference).
    Services,
}

impl Preference {
    pub const ALL: [Preference; 4] = [
        Preference::Files,
        Preference::Tasks,
        Preference::Registry,
        Preference::Services,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Preference::Files => "files",
            Preference::Tasks => "tasks",
            Preference::Registry => "registry",
            Preference::Services => "services",
        }
    }
}

/// The Group Policy object of the site.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGpo {
    /// Display name of the GPO created (or overwritten) by `Import-GPO -TargetName`, e.g.
    /// "PartnerPoint farm - scripts and tasks". 1-200 characters, no control characters.
    pub name: String,
    /// DNS name of the Active Directory domain the GPO is imported into, e.g. "campus.example.edu"
    /// (written into the backup's Backup.xml and bkupInfo.xml).
    pub domain: String,
    /// Which preference items the GPO carries: any of "files", "tasks", "registry", "services".
    /// Default: all four. Kinds with nothing to carry are left out of the backup.
    #[serde(default = "default_include")]
    pub include: Vec<Preference>,
    /// Distinguished name of the OU that holds the farm's servers, for the `New-GPLink` command of
    /// the runbook, e.g. "OU=Farm,OU=Servers,DC=campus,DC=example,DC=edu". Optional: without it
    /// the runbook shows a placeholder.
    #[serde(default)]
    pub link_ou: Option<String>,
    /// How the GPO registers the tasks of Server 2008 / 2008 R2 servers: "taskv2" (default) as
    /// Task Scheduler 2.0 preference items ("Scheduled Task (At least Windows 7)"), or
    /// "schtasks-xml", the original write-up's fallback: the GPO copies each task's XML and a
    /// legacy task item runs `schtasks /Create /XML <file> /TN <name> /F` every day at 00:00.
    #[serde(default)]
    pub tasks_2008: Tasks2008,
}

/// How the GPO delivers tasks to Server 2008 / 2008 R2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tasks2008 {
    /// TaskV2 preference items ([MS-GPPREF] 2.2.1.18.3).
    #[default]
    Taskv2,
    /// The task XML as a file, registered by a legacy task item running `schtasks /Create /XML`.
    SchtasksXml,
}

/// Whether the GPO writes legacy (Task Scheduler 1.0) task items: it carries tasks and some server
/// is a 2003 one, or 2008 tasks go through `schtasks /Create /XML` items.
pub fn has_legacy_tasks(raw: &RawGpo, servers: &[super::Server]) -> bool {
    raw.include.contains(&Preference::Tasks)
        && (raw.tasks_2008 == Tasks2008::SchtasksXml
            || servers.iter().any(|s| !s.os.has_task_scheduler2()))
}

fn default_include() -> Vec<Preference> {
    Preference::ALL.to_vec()
}

/// The resolved `[gpo]` section.
#[derive(Debug, Clone)]
pub struct Gpo {
    pub name: String,
    pub domain: String,
    /// Sorted, without duplicates.
    pub include: Vec<Preference>,
    pub link_ou: Option<String>,
    pub tasks_2008: Tasks2008,
}

impl Gpo {
    pub fn includes(&self, p: Preference) -> bool {
        self.include.contains(&p)
    }
}

fn check_gpo_name(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("the GPO name is empty".into());
    }
    if s.chars().count() > 200 {
        return Err(format!("the GPO name `{s}` is longer than 200 characters"));
    }
    if s.starts_with(' ') || s.ends_with(' ') {
        return Err(format!(
            "the GPO name `{s}` starts or ends with a space (GPMC trims it, so the import would miss it)"
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!("the GPO name contains {}", super::show_char(c)));
    }
    Ok(())
}

fn check_domain(s: &str) -> Result<(), String> {
    super::checks::check_fqdn(s)?;
    if !s.contains('.') {
        return Err(format!(
            "`{s}` is not the DNS name of a domain (expected at least two labels, e.g. corp.example.com)"
        ));
    }
    Ok(())
}

/// An LDAP distinguished name of an OU or domain: `OU=…,DC=…`, components of letters, digits,
/// space, `-`, `_`, `.`, no escapes (they would need quoting in every language the runbook shows).
fn check_link_ou(s: &str) -> Result<(), String> {
    let mut saw_dc = false;
    for part in s.split(',') {
        let Some((attr, value)) = part.trim().split_once('=') else {
            return Err(format!(
                "`{s}` is not a distinguished name such as OU=Farm,DC=corp,DC=example,DC=com"
            ));
        };
        let attr = attr.trim().to_ascii_uppercase();
        if !matches!(attr.as_str(), "OU" | "DC" | "CN") {
            return Err(format!("`{s}`: `{attr}=` is not an OU, DC or CN component"));
        }
        saw_dc |= attr == "DC";
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        {
            return Err(format!(
                "`{s}`: the component `{part}` may use letters, digits, space, `-`, `_` and `.` only"
            ));
        }
    }
    if !saw_dc {
        return Err(format!("`{s}` has no DC= component"));
    }
    Ok(())
}

pub fn resolve(raw: &RawGpo, ctx: &mut Ctx) -> Option<Gpo> {
    let mut ok = ctx.check(
        "gpo.name",
        check_gpo_name(&raw.name),
        "e.g. `name = \"PartnerPoint farm - scripts and tasks\"`",
    );
    if ok {
        ok &= ctx.safe_for(
            "gpo.name",
            &raw.name,
            &[
                ("XML", crate::escape::xml),
                ("PowerShell", crate::escape::ps_str),
                ("the runbook", crate::escape::md_code),
            ],
        );
    }
    ok &= ctx.check(
        "gpo.domain",
        check_domain(&raw.domain),
        "e.g. `domain = \"campus.example.edu\"`",
    );
    if let Some(ou) = &raw.link_ou {
        ok &= ctx.check(
            "gpo.link_ou",
            check_link_ou(ou),
            "e.g. `link_ou = \"OU=Farm,OU=Servers,DC=campus,DC=example,DC=edu\"`",
        );
    }
    let mut include: Vec<Preference> = Vec::new();
    for (i, p) in raw.include.iter().enumerate() {
        if include.contains(p) {
            ctx.report(
                crate::diag::Severity::Error,
                crate::diag::Code::ListedTwice,
                &format!("gpo.include[{i}]"),
                format!("`{}` is listed twice", p.key()),
                "list each preference kind once",
            );
            ok = false;
        } else {
            include.push(*p);
        }
    }
    if raw.include.is_empty() {
        ctx.error(
            "gpo.include",
            "the GPO would carry nothing",
            "list at least one of \"files\", \"tasks\", \"registry\", or remove the [gpo] section",
        );
        ok = false;
    }
    include.sort();
    ok.then(|| Gpo {
        name: raw.name.clone(),
        domain: raw.domain.to_ascii_lowercase(),
        include,
        link_ou: raw.link_ou.clone(),
        tasks_2008: raw.tasks_2008,
    })
}

/// Is this key name a password field (`password`, `cpassword`, `run_as_password`, `pwd`, …)?
pub fn is_password_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password") || k.contains("passwd") || k == "pwd" || k.ends_with("_pwd")
}

/// Every key of the site file that looks like a password, as located errors. Runs before the
/// typed parse so that each one is reported with the reason, not as a bare "unknown field".
pub fn password_keys(spans: &SpanIndex) -> Vec<Diagnostic> {
    let mut found: Vec<(String, std::ops::Range<usize>)> = spans
        .keys()
        .filter(|(path, _)| {
            let last = path.rsplit('.').next().unwrap_or(path);
            let last = last.split('[').next().unwrap_or(last);
            is_password_key(last)
        })
        .map(|(p, s)| (p.to_string(), s))
        .collect();
    found.sort_by_key(|(_, s)| s.start);
    found
        .into_iter()
        .map(|(path, span)| {
            Diagnostic::error(
                Some(span),
                format!("`{path}`: sitebundle never stores passwords"),
            )
            .with_code(crate::diag::Code::StoredPassword)
            .with_help(
                "Group Policy Preferences would store it as `cpassword`, encrypted with an AES key that Microsoft \
                 published ([MS-GPPREF] 2.2.1.1.4): any domain user can read SYSVOL and decrypt it. MS14-025 \
                 (KB2962486) removed password fields from GPP for this reason. Run tasks as SYSTEM (the default), \
                 or register a task that needs a domain account by hand (`schtasks /Create ... /RU DOMAIN\\user /RP *` \
                 prompts for the password); remove this key",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_keys_are_recognised() {
        for k in [
            "password",
            "cpassword",
            "cPassword",
            "run_as_password",
            "pwd",
            "sql_pwd",
            "Passwd",
        ] {
            assert!(is_password_key(k), "{k}");
        }
        for k in ["name", "domain", "passthrough", "power"] {
            assert!(!is_password_key(k), "{k}");
        }
    }

    #[test]
    fn names_and_ous() {
        assert!(check_gpo_name("Farm - scripts & tasks").is_ok());
        assert!(check_gpo_name("").is_err());
        assert!(check_gpo_name(" x").is_err());
        assert!(check_gpo_name("a\nb").is_err());
        assert!(check_domain("campus.example.edu").is_ok());
        assert!(check_domain("campus").is_err());
        assert!(check_link_ou("OU=Farm,DC=campus,DC=example,DC=edu").is_ok());
        assert!(check_link_ou("OU=Farm").is_err());
        assert!(check_link_ou("OU=a\"b,DC=x").is_err());
        assert!(check_link_ou("XX=a,DC=x").is_err());
    }
}
