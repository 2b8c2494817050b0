//! sitebundle: compiles one site description (`site.toml`) into a bundle of native artifacts for a
//! Windows / SQL Server / F5 BIG-IP web farm.
//!
//! Pipeline (ARCHITECTURE.md): [`load`] (read with a size cap, parse, resolve every section with
//! located findings, then the analyses) → [`plan`] (each family of [`families::FAMILIES`]
//! contributes its files, tasks, registry values, runbook pieces and topology) → [`build_bundle`]
//! (the emitters turn the plan into Task XML, `.reg`, the GPO backup, the topology, the runbook and
//! the manifest) → [`write::write_bundle`] (atomic) or [`check::compare`] (against a golden
//! directory).

pub mod analysis;
pub mod audit;
pub mod bundle;
pub mod check;
pub mod diag;
pub mod emit;
mod error;
pub mod escape;
pub mod families;
pub mod listing;
pub mod model;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod render;
pub mod site;
pub mod synth;
pub mod write;

use std::path::Path;

use diag::Diagnostics;
pub use error::Error;
use site::Site;

/// Reads (at most `site::MAX_SITE_BYTES`), parses and resolves a site file and runs the
/// analyses. `Ok` holds the site and every finding, errors of the analyses included (the
/// `scenarios` command prints a splitting site); `Err` when the site cannot be resolved.
pub fn analyse(path: &Path) -> Result<(Site, Diagnostics), Diagnostics> {
    let (file, text) = site::read(path)?;
    analyse_text(&file, &text)
}

/// [`analyse`] on site text; `file` names it in diagnostics.
pub fn analyse_text(file: &str, text: &str) -> Result<(Site, Diagnostics), Diagnostics> {
    site::parse_and_resolve(file, text, |site, ctx| {
        analysis::scenarios::validate_site(site, ctx);
        check_task_limits(site, ctx);
    })
}

/// The facts the plan computes over every task, whichever family made it (the GPO's legacy item
/// limits), located at the key to change: `validate` refuses what `build` could only write as an
/// invalid item.
fn check_task_limits(site: &Site, ctx: &mut model::Ctx) {
    let mut tasks = Vec::new();
    for family in families::FAMILIES {
        match (family.tasks)(site) {
            Ok(t) => tasks.extend(t),
            // The build reports the same internal error.
            Err(_) => return,
        }
    }
    for f in plan::gpo::items::legacy_limits(&site.farm, &tasks) {
        ctx.error(&f.path, f.message, f.help);
    }
}

/// [`analyse`], failing on any error: the site every command builds from. `Ok` carries the
/// warnings.
pub fn load(path: &Path) -> Result<(Site, Diagnostics), Diagnostics> {
    no_errors(analyse(path)?)
}

/// [`load`] on site text.
pub fn load_text(file: &str, text: &str) -> Result<(Site, Diagnostics), Diagnostics> {
    no_errors(analyse_text(file, text)?)
}

fn no_errors((site, diags): (Site, Diagnostics)) -> Result<(Site, Diagnostics), Diagnostics> {
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((site, diags))
    }
}

/// What the site deploys: every family's contribution, then the analyses' pages, assembled
/// into the frozen plan.
pub fn plan(site: &Site) -> Result<plan::Plan, Error> {
    plan_after(site, &[])
}

/// [`plan`] after an older bundle that put `previous` on the servers: what it had and this site
/// lacks leaves through the GPO as Delete items (issue 27).
pub fn plan_after(site: &Site, previous: &[check::Retired]) -> Result<plan::Plan, Error> {
    let mut parts = Vec::with_capacity(families::FAMILIES.len() + 1);
    for family in families::FAMILIES {
        parts.push((family.id, (family.contribute)(site)?));
    }
    parts.push((
        plan::FamilyId::Scenarios,
        analysis::scenarios::contribute(site)?,
    ));
    plan::Plan::assemble(&site.farm, parts, previous)
}

/// [`build_bundle`] after the bundle in `previous`: what it put on the servers (its
/// `inventory.json`, and what it was already deleting) that this site no longer has leaves
/// through the GPO as Delete items; `drop_retired` forgets what the older bundle was deleting.
/// Without an inventory in `previous` (or without `previous`) this is [`build_bundle`].
pub fn build_bundle_after(
    site: &Site,
    previous: Option<&std::path::Path>,
    drop_retired: bool,
) -> Result<bundle::Bundle, Error> {
    let mut items = Vec::new();
    if let Some(dir) = previous {
        items = check::previous_items(dir).unwrap_or_default();
        if drop_retired {
            let current = check::retired_items_of(dir).unwrap_or_default();
            items.retain(|r| current.contains(r));
        }
    }
    let plan = plan_after(site, &items)?;
    let mut bundle = emit::all(&site.farm, &plan)?;
    bundle.add_manifest(&site.farm.name)?;
    Ok(bundle)
}

/// Renders every artifact of a resolved site: the plan, then the emitters, then the manifest.
pub fn build_bundle(site: &Site) -> Result<bundle::Bundle, Error> {
    let Built { plan, files } = build(site)?;
    drop(plan);
    let mut bundle = files;
    bundle.add_manifest(&site.farm.name)?;
    Ok(bundle)
}

/// A built site: the frozen plan and every file of its bundle but the manifest.
pub struct Built {
    pub plan: plan::Plan,
    pub files: bundle::Bundle,
}

/// The plan and its files: what `sitebundle plan` reads for its per-server view
/// ([`plan::Plan::server_plans`]) and what `sitebundle audit` compares.
pub fn build(site: &Site) -> Result<Built, Error> {
    let plan = plan(site)?;
    let files = emit::all(&site.farm, &plan)?;
    Ok(Built { plan, files })
}
