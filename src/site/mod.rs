//! The whole site: the farm ([`crate::model`]) plus one section per family, as written
//! ([`RawSite`]) and resolved ([`Site`]); reading and parsing the site file with every finding
//! located.

mod toml_error;
mod types;
pub mod unknown;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::families::{f5, kill, maint, recovery, sharepoint, sql};
use crate::model::spans::SpanIndex;
use crate::model::{Ctx, Farm, Names};
use toml_error::toml_error;

/// The whole site file as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "sitebundle site description",
    description = "One Windows web farm: servers, SQL mirroring, F5 BIG-IP, Group Policy and the scheduled tasks that glue them together. `sitebundle build` compiles it into a bundle of native artifacts."
)]
pub struct RawSite {
    /// Site-wide settings.
    pub site: crate::model::RawSiteInfo,
    /// Every server the bundle deploys to or talks about.
    #[serde(default)]
    pub server: Vec<crate::model::server::RawServer>,
    /// Processes killed on a schedule (one scheduled task per entry).
    #[serde(default)]
    pub kill: Vec<kill::model::RawKill>,
    /// The Group Policy object that distributes scripts, scheduled tasks and registry values with
    /// Group Policy Preferences. Without this section no GPO backup is generated.
    #[serde(default)]
    pub gpo: Option<crate::model::gpo::RawGpo>,
    /// SQL Server database mirroring: the partners, the failover-all job, its alerts and the
    /// client alias switcher on the front ends.
    #[serde(default)]
    pub sql: Option<sql::model::RawSql>,
    /// The F5 BIG-IP configuration: monitors, pools, virtual servers and path routes.
    #[serde(default)]
    pub f5: Option<f5::model::RawF5>,
    /// SCOM maintenance mode when Windows Update announces a restart (event 22).
    #[serde(default)]
    pub maintenance: Option<maint::model::RawMaintenance>,
    /// Services the service controller restarts when they fail (one entry per service).
    #[serde(default)]
    pub recovery: Vec<recovery::model::RawRecovery>,
    /// The SharePoint farm: its version, the database server name it uses, its public URLs.
    #[serde(default)]
    pub sharepoint: Option<sharepoint::model::RawSharePoint>,
}

/// The resolved site: the farm and each family's section.
#[derive(Debug, Clone)]
pub struct Site {
    pub farm: Farm,
    pub kills: Vec<kill::model::Kill>,
    pub sql: Option<sql::model::Sql>,
    /// The BIG-IP section, when the site has one.
    pub f5: Option<f5::model::F5>,
    pub maintenance: Option<maint::model::Maintenance>,
    pub recovery: Vec<recovery::model::Recovery>,
    /// The SharePoint section, when the site has one.
    pub sharepoint: Option<sharepoint::model::SharePoint>,
    /// What the scenario analysis found for each `f5.affinity` group, in the section's order
    /// (empty until the analysis ran): recorded beside the sections, which stay as resolved.
    pub verdicts: Vec<f5::affinity::Verdict>,
    /// The `[site] accept` entries, checked.
    pub accepts: Vec<crate::model::accept::Accept>,
}

impl Site {
    /// The scenario analysis's verdict on affinity group `i`, when it ran.
    pub fn verdict(&self, i: usize) -> Option<&f5::affinity::Verdict> {
        self.verdicts.get(i)
    }
}

/// Reads a site file (at most [`MAX_SITE_BYTES`], UTF-8): its name for diagnostics and its text.
pub fn read(path: &std::path::Path) -> Result<(String, String), Diagnostics> {
    let display = path.display().to_string();
    let bytes = match read_limited(path) {
        Ok(b) => b,
        Err(e) => {
            let mut d = Diagnostics::new(display, "");
            d.items.push(Diagnostic::error(None, format!("cannot read the site file: {e}")).with_code(Code::Unreadable).with_help("pass the path of a site.toml, e.g. `sitebundle build site.toml`; `sitebundle init` writes a starter one"));
            return Err(d);
        }
    };
    let text = match decode(&bytes) {
        Ok(t) => t,
        Err(msg) => {
            let mut d = Diagnostics::new(display, "");
            d.items.push(
                Diagnostic::error(None, msg)
                    .with_code(Code::Encoding)
                    .with_help("save site.toml as UTF-8 (without a byte order mark is best)"),
            );
            return Err(d);
        }
    };
    Ok((display, text))
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

/// Parses and resolves site text; `file` is the name used in diagnostics. `Err` when the file
/// cannot be parsed or a section has an error. On a site without errors, `analyse` then checks the
/// whole resolved site with the same locator (the pipeline passes the failover-scenario check);
/// its findings, errors included, come back with the site.
pub fn parse_and_resolve(
    file: &str,
    text: &str,
    analyse: impl FnOnce(&mut Site, &mut Ctx),
) -> Result<(Site, Diagnostics), Diagnostics> {
    resolve_parsed(parse(file, text)?, analyse)
}

/// A site file parsed into its sections, not yet resolved (the first half of
/// [`parse_and_resolve`], apart so that the benchmarks can time each half).
pub struct Parsed {
    raw: RawSite,
    spans: SpanIndex,
    diags: Diagnostics,
}

/// Parses site text: `Err` with every finding when it is not a site file (a syntax error, unknown
/// keys, a wrong type, a stored password).
pub fn parse(file: &str, text: &str) -> Result<Parsed, Diagnostics> {
    let mut diags = Diagnostics::new(file, text);
    // Passwords are refused before the typed parse, each with the reason (MS14-025), all at once.
    // Parsed once: the span index walks the tree, then the typed model is read from it.
    let tree = toml::de::DeTable::parse(text);
    let spans = SpanIndex::of_parsed(text, tree.as_ref().ok());
    let secrets = crate::model::gpo::password_keys(&spans);
    if !secrets.is_empty() {
        diags.items.extend(secrets);
        diags.sort();
        return Err(diags);
    }
    let typed = tree.and_then(|root| RawSite::deserialize(toml::de::Deserializer::from(root)));
    // On an error the text is read again by `toml::from_str`, whose error carries the source for
    // its message.
    let raw: RawSite = match typed.or_else(|_| toml::from_str(text)) {
        Ok(r) => r,
        Err(e) => {
            diags.items.extend(all_at_once(&e, text, &spans));
            diags.sort();
            return Err(diags);
        }
    };
    Ok(Parsed { raw, spans, diags })
}

/// Resolves a parsed site (the second half of [`parse_and_resolve`]).
pub fn resolve_parsed(
    parsed: Parsed,
    analyse: impl FnOnce(&mut Site, &mut Ctx),
) -> Result<(Site, Diagnostics), Diagnostics> {
    let Parsed {
        raw,
        spans,
        mut diags,
    } = parsed;
    let mut ctx = Ctx::new(&spans);
    let site = resolve(raw, &mut ctx);
    let resolved = !ctx.has_errors();
    let site = match site {
        Some(mut site) if resolved => {
            analyse(&mut site, &mut ctx);
            crate::model::accept::apply(&site.accepts, &mut ctx);
            Some(site)
        }
        _ => None,
    };
    diags.items.extend(ctx.diags);
    diags.sort();
    match site {
        Some(site) => Ok((site, diags)),
        None => Err(diags),
    }
}

/// Every finding of a site the typed parse refused. serde stops at the first problem, so: every
/// unknown key (from the schema), every value of the wrong type (from the schema, with the value
/// meant), and, when the document repaired from them parses, the semantic findings of the rest of
/// the file (none about a repaired value). Otherwise serde's own finding (a missing key, a
/// construct the walk does not know), with the unknown keys and type findings.
fn all_at_once(e: &toml::de::Error, text: &str, spans: &SpanIndex) -> Vec<Diagnostic> {
    let unknown = unknown::unknown_keys(text);
    let repaired = types::repair(text, spans);
    let mut found = unknown.clone();
    if let Some(r) = repaired {
        found.extend(r.findings.iter().cloned());
        if !found.is_empty()
            && let Ok(raw) = RawSite::deserialize(toml::Value::Table(r.table))
        {
            let mut ctx = Ctx::new(spans);
            let _ = resolve(raw, &mut ctx);
            found.extend(
                ctx.diags
                    .into_iter()
                    .filter(|d| !types::inside(&r.replaced, d)),
            );
            return found;
        }
    }
    let first = toml_error(e, text);
    if !found.iter().any(|d| d.span == first.span) {
        found.push(first);
    }
    found
}

fn resolve(raw: RawSite, ctx: &mut Ctx) -> Option<Site> {
    let (info, servers, gpo) =
        crate::model::resolve_farm(&raw.site, &raw.server, raw.gpo.as_ref(), ctx);
    let names = Names::of(&servers);
    let accepts = crate::model::accept::resolve(&raw.site.accept, ctx, &names);
    let kills = kill::model::resolve(&raw.kill, ctx, &names);
    let sql = raw
        .sql
        .as_ref()
        .and_then(|r| sql::model::resolve(r, ctx, &names, &servers));
    let f5 = raw
        .f5
        .as_ref()
        .and_then(|f| f5::model::resolve(f, ctx, &names, &servers, &raw.site.name));
    let mut maintenance = raw
        .maintenance
        .as_ref()
        .and_then(|m| maint::model::resolve(m, ctx, &names, &servers));
    if let (Some(m), Some(installs)) = (
        maintenance.as_mut(),
        raw.maintenance.as_ref().and_then(|r| r.installs.as_ref()),
    ) {
        let input = maint::waves::Inputs {
            names: &names,
            site: &servers,
            servers: &m.servers.clone(),
            delay: &|s| m.delay_for(servers[s].os),
            keep_up: keep_up_sets(sql.as_ref(), f5.as_ref()),
        };
        m.installs = maint::waves::resolve(installs, ctx, input);
    }
    if let Some(m) = &maintenance {
        maint::model::warn_restart_event(ctx, &servers, m);
    }
    let recovery = recovery::model::resolve(&raw.recovery, ctx, &names, servers.len());
    let sharepoint = raw.sharepoint.as_ref().and_then(|r| {
        let input = sharepoint::model::Inputs {
            names: &names,
            site: &servers,
            alias: sql
                .as_ref()
                .map(|s| (s.alias.as_str(), s.switcher.servers.as_slice())),
        };
        // The service names are checked whenever the version is known, beside the section's
        // own errors.
        if let Some(version) = sharepoint::model::Version::parse(&r.version) {
            check_timer_services(&raw, ctx, version);
        }
        sharepoint::model::resolve(r, ctx, &input)
    });
    Some(Site {
        farm: Farm::new(info?, servers, gpo),
        kills,
        sql,
        f5,
        maintenance,
        recovery,
        sharepoint,
        verdicts: Vec::new(),
        accepts,
    })
}

/// Every place a site names a service where the SharePoint version's timer service belongs:
/// `[[recovery]] service`, `[[kill]] restart_service`, `sql.switcher.cycle_services`. The other
/// generation's timer is an error there (SPTimerV3 on SharePoint 2010 and later, SPTimerV4 on 2007);
/// `cycle_services = true` (the original write-up's SharePoint 2007 services) needs 2007.
fn check_timer_services(raw: &RawSite, ctx: &mut Ctx, version: sharepoint::model::Version) {
    use sharepoint::model::check_timer_service;
    for (i, r) in raw.recovery.iter().enumerate() {
        check_timer_service(ctx, version, &format!("recovery[{i}].service"), &r.service);
    }
    for (i, k) in raw.kill.iter().enumerate() {
        if let Some(s) = &k.restart_service {
            check_timer_service(ctx, version, &format!("kill[{i}].restart_service"), s);
        }
    }
    let Some(switcher) = raw.sql.as_ref().map(|s| &s.switcher) else {
        return;
    };
    match &switcher.cycle_services {
        sql::model::CycleServices::List(list) => {
            for (j, s) in list.iter().enumerate() {
                check_timer_service(
                    ctx,
                    version,
                    &format!("sql.switcher.cycle_services[{j}]"),
                    s,
                );
            }
        }
        sql::model::CycleServices::Switch(true) if version != sharepoint::model::Version::V2007 => {
            ctx.error(
                "sql.switcher.cycle_services",
                format!(
                    "`cycle_services = true` restarts the original write-up's SharePoint 2007 services ({}), which {} does not have",
                    sql::model::WRITE_UP_SERVICES.join(", "),
                    version.label()
                ),
                format!("list this version's services instead, e.g. `cycle_services = [\"{}\"]`", version.timer_service()),
            );
        }
        sql::model::CycleServices::Switch(_) => {}
    }
}

/// The servers of which Windows Update must leave one up: the SQL partners, the members of each
/// pool (each set in `[[server]]` order).
fn keep_up_sets(
    sql: Option<&sql::model::Sql>,
    f5: Option<&f5::model::F5>,
) -> Vec<maint::waves::KeepUp> {
    let mut sets = Vec::new();
    if let Some(sql) = sql {
        let mut servers: Vec<usize> = sql.partners.iter().map(|p| p.server).collect();
        servers.sort();
        servers.dedup();
        sets.push(maint::waves::KeepUp {
            what: "the SQL partners".into(),
            servers,
            outside: Vec::new(),
        });
    }
    for pool in f5.map(|f| f.pools.as_slice()).unwrap_or(&[]) {
        let mut servers: Vec<usize> = pool.members.iter().map(|m| m.server).collect();
        servers.sort();
        servers.dedup();
        sets.push(maint::waves::KeepUp {
            what: format!("pool {}", pool.name),
            servers,
            outside: Vec::new(),
        });
    }
    sets
}

/// The JSON Schema of site.toml, pretty-printed.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RawSite);
    serde_json::to_string_pretty(&schema).expect("schema serializes")
}
