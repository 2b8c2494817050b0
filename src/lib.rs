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
    site::parse_and_resolve(file, text, analysis::scenarios::validate_site)
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

/// What the site deploys: every family's contribution, then the analyses' pages.
pub fn plan(site: &Site) -> Result<plan::Plan, Error> {
    let mut plan = plan::Plan::default();
    for family in families::FAMILIES {
        (family.contribute)(site, &mut plan)?;
    }
    analysis::scenarios::contribute(site, &mut plan)?;
    Ok(plan)
}

/// Renders every artifact of a resolved site: the plan, then the emitters in order (the runbook
/// last but the manifest, as its file table lists every other file).
pub fn build_bundle(site: &Site) -> Result<bundle::Bundle, Error> {
    let plan = emitted_plan(site)?;
    let mut bundle = plan.files;
    bundle.add_manifest(&site.farm.name)?;
    Ok(bundle)
}

/// [`build_bundle`] after an older bundle (issue 27): what it put on the servers (its
/// `inventory.json`, and what it was already deleting) that this site no longer has leaves
/// through the GPO as Delete items; `drop_retired` forgets what the older bundle was deleting.
/// Without an inventory in `previous` (or without `previous`) this is [`build_bundle`].
pub fn build_bundle_after(
    site: &Site,
    previous: Option<&std::path::Path>,
    drop_retired: bool,
) -> Result<bundle::Bundle, Error> {
    let mut plan = plan(site)?;
    if let Some(dir) = previous {
        let mut items = check::previous_items(dir).unwrap_or_default();
        if drop_retired {
            let current = check::retired_items_of(dir).unwrap_or_default();
            items.retain(|r| current.contains(r));
        }
        plan.previous = items;
    }
    let mut bundle = run_emitters(site, plan)?.files;
    bundle.add_manifest(&site.farm.name)?;
    Ok(bundle)
}

/// The plan after every emitter ran (its files are the bundle but the manifest): what
/// `sitebundle plan` reads for its per-server view ([`plan::Plan::server_plans`]) and what
/// `sitebundle audit` compares.
pub fn emitted_plan(site: &Site) -> Result<plan::Plan, Error> {
    run_emitters(site, plan(site)?)
}

/// The emitters' part of [`emitted_plan`] (apart so that the benchmarks can time it alone).
pub fn run_emitters(site: &Site, mut plan: plan::Plan) -> Result<plan::Plan, Error> {
    let farm = &site.farm;
    emit::tasks::emit(farm, &mut plan)?;
    emit::registry::emit(farm, &mut plan)?;
    emit::gpo::emit(farm, &mut plan)?;
    emit::topology::emit(farm, &mut plan)?;
    emit::inventory::emit(farm, &mut plan)?;
    emit::collect::emit(farm, &mut plan)?;
    emit::runbook::emit(farm, &mut plan)?;
    Ok(plan)
}
