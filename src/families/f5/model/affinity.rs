//! `[[f5.affinity]]`: affinity groups (docs/background.md: the load balancer). The ECTS front end,
//! the AD LDS (LDAP) virtual servers and the ECTS admin pages must all be served by the same single
//! node; when they split across nodes, users get two activation mails with different passwords, or a
//! new password expires at once. A group names the traffic that must stay together; the scenario
//! check (`crate::analysis::scenarios`) proves, for every combination of monitor results, that it does.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Pool, RawVirtual, Virtual, normalise_prefix};
use crate::escape;
use crate::model::Ctx;

/// What happens when a group can split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnSplit {
    /// A scenario that splits the group (or serves it only partly) is an error: nothing is built.
    Error,
    /// Report it as a warning and build anyway (for a configuration you accept knowingly).
    Warning,
}

/// One member of an affinity group: exactly one of `virtual` (optionally with `prefix`) or `pool`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// A virtual server by name: its default traffic (requests no path route takes), or with
    /// `prefix` one of its path routes.
    #[serde(default, rename = "virtual")]
    pub virtual_server: Option<String>,
    /// A path route of `virtual`, written as in its `routes` (compared like the iRule does: without
    /// case and trailing slash), e.g. "/ECTS/".
    #[serde(default)]
    pub prefix: Option<String>,
    /// A pool by name (all traffic that reaches it, whichever virtual server or route sends it).
    #[serde(default)]
    pub pool: Option<String>,
}

/// An affinity group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAffinity {
    /// Name shown in reports (letters, digits, `_`, `-`, `.`; at most 63 characters).
    pub name: String,
    /// The traffic that must always land on the same single node, e.g.
    /// `[{ virtual = "vs_ects" }, { virtual = "vs_sharepoint", prefix = "/ECTS/" }, { pool = "ADLDS_ldap" }]`.
    pub targets: Vec<RawTarget>,
    /// "error" (default): a configuration in which some combination of monitor results splits the
    /// group (or spreads one of its targets over several nodes) does not build. "warning": report
    /// it and build anyway. Partial service (some targets served, others by nobody) is always a
    /// warning: it degrades but never duplicates work.
    #[serde(default = "default_on_split")]
    pub on_split: OnSplit,
    /// Free text shown in the runbook.
    #[serde(default)]
    pub description: String,
}

fn default_on_split() -> OnSplit {
    OnSplit::Error
}

/// A resolved target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef {
    /// Default traffic of a virtual server (index into `F5::virtuals`).
    Virtual(usize),
    /// A path route: virtual server index and route index into its (sorted) `routes`.
    Route(usize, usize),
    /// A pool (index into `F5::pools`).
    Pool(usize),
}

/// Result of the scenario check of one group, kept for `validate` and the runbook (in
/// `Site::verdicts`: the analysis records it beside the site, never in this section's model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Health variables (node × check) the group depends on.
    pub variables: usize,
    pub scenarios: usize,
    pub exhaustive: bool,
    /// Settled by the structural proof (identical pools) instead of enumeration.
    pub proved: bool,
    /// Scenarios in which the group splits, spreads or is only partly served.
    pub findings: usize,
}

#[derive(Debug, Clone)]
pub struct Affinity {
    pub name: String,
    pub targets: Vec<TargetRef>,
    pub on_split: OnSplit,
    pub description: String,
}

fn check_name(s: &str) -> Result<(), String> {
    crate::model::check_plain_name(s, 63, true, "affinity group name")
}

/// Resolves the groups against the resolved pools and virtual servers. `raw_virtuals` gives the
/// names as written (so that a virtual server that failed its own checks still resolves here and
/// is not reported twice). Returns None when any group has an error.
pub fn resolve(
    raw: &[RawAffinity],
    ctx: &mut Ctx,
    raw_virtuals: &[RawVirtual],
    pools: &[Pool],
    virtuals: &[Virtual],
) -> Option<Vec<Affinity>> {
    let mut ok = true;
    let mut out = Vec::new();
    let virtual_idx: HashMap<&str, usize> = raw_virtuals
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    let pool_idx: HashMap<&str, usize> = pools
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for (i, a) in raw.iter().enumerate() {
        let p = format!("f5.affinity[{i}]");
        let (affinity, aok) = resolve_group(ctx, &p, a, &virtual_idx, &pool_idx, virtuals);
        ok &= aok;
        out.push(affinity);
    }
    ctx.unique(
        "affinity group",
        raw.iter()
            .enumerate()
            .map(|(i, a)| (format!("f5.affinity[{i}].name"), a.name.as_str())),
    );
    ok.then_some(out)
}

/// One affinity group: its name, description and targets.
fn resolve_group(
    ctx: &mut Ctx,
    p: &str,
    a: &RawAffinity,
    virtual_idx: &HashMap<&str, usize>,
    pool_idx: &HashMap<&str, usize>,
    virtuals: &[Virtual],
) -> (Affinity, bool) {
    let mut aok = ctx.check(
        &format!("{p}.name"),
        check_name(&a.name),
        "e.g. `name = \"ects\"`",
    );
    aok &= ctx.safe_for(
        &format!("{p}.description"),
        &a.description,
        &[("the runbook", escape::md)],
    );
    if a.targets.is_empty() {
        ctx.error(
            &format!("{p}.targets"),
            format!("affinity group `{}` has no targets", a.name),
            "list what must stay together, e.g. `targets = [{ virtual = \"vs_ects\" }, { pool = \"ADLDS_ldap\" }]`",
        );
        aok = false;
    }
    let mut targets = Vec::new();
    for (j, t) in a.targets.iter().enumerate() {
        let tp = format!("{p}.targets[{j}]");
        let (target, target_ok) = resolve_target(ctx, &tp, t, virtual_idx, pool_idx, virtuals);
        aok &= target_ok;
        targets.extend(target);
    }
    // The same target twice is harmless but a sign of a typo.
    for (j, t) in targets.iter().enumerate() {
        if targets[..j].contains(t) {
            ctx.warn(
                crate::diag::Code::F5DuplicateAffinityTarget,
                &format!("{p}.targets"),
                format!("affinity group `{}` lists a target twice", a.name),
                "list each target once",
            );
            break;
        }
    }
    let affinity = Affinity {
        name: a.name.clone(),
        targets,
        on_split: a.on_split,
        description: a.description.clone(),
    };
    (affinity, aok)
}

/// One target: a virtual server, a route of one (`prefix`), or a pool.
fn resolve_target(
    ctx: &mut Ctx,
    tp: &str,
    t: &RawTarget,
    virtual_idx: &HashMap<&str, usize>,
    pool_idx: &HashMap<&str, usize>,
    virtuals: &[Virtual],
) -> (Option<TargetRef>, bool) {
    match (&t.virtual_server, &t.pool) {
        (Some(_), Some(_)) | (None, None) => {
            ctx.error(
                tp,
                "a target names exactly one of `virtual` or `pool`",
                "e.g. `{ virtual = \"vs_ects\" }`, `{ virtual = \"vs_sharepoint\", prefix = \"/ECTS/\" }` or `{ pool = \"ADLDS_ldap\" }`",
            );
            (None, false)
        }
        (None, Some(pool)) => {
            let mut ok = true;
            if t.prefix.is_some() {
                ctx.error(
                    &format!("{tp}.prefix"),
                    "`prefix` selects a route of a virtual server; a pool has none",
                    "use `{ virtual = \"…\", prefix = \"…\" }`, or drop `prefix`",
                );
                ok = false;
            }
            match ctx.lookup(&format!("{tp}.pool"), "pool", pool, pool_idx) {
                Some(x) => (Some(TargetRef::Pool(x)), ok),
                None => (None, false),
            }
        }
        (Some(vname), None) => {
            let target = resolve_virtual_target(ctx, tp, t, vname, virtual_idx, virtuals);
            let ok = target.is_some();
            (target, ok)
        }
    }
}

/// A target that names a virtual server (with `prefix`: one of its routes). None when it does not
/// resolve, or names a virtual server that has errors of its own.
fn resolve_virtual_target(
    ctx: &mut Ctx,
    tp: &str,
    t: &RawTarget,
    vname: &str,
    virtual_idx: &HashMap<&str, usize>,
    virtuals: &[Virtual],
) -> Option<TargetRef> {
    ctx.lookup(
        &format!("{tp}.virtual"),
        "virtual server",
        vname,
        virtual_idx,
    )?;
    // The resolved index (virtual servers with errors of their own are left out).
    let vi = virtuals.iter().position(|v| v.name == *vname)?;
    match &t.prefix {
        None => Some(TargetRef::Virtual(vi)),
        Some(prefix) => {
            let v = &virtuals[vi];
            let wanted = normalise_prefix(prefix).ok();
            match v
                .routes
                .iter()
                .position(|r| Some(&r.path) == wanted.as_ref())
            {
                Some(ri) => Some(TargetRef::Route(vi, ri)),
                None => {
                    let known: HashMap<&str, usize> = v
                        .routes
                        .iter()
                        .enumerate()
                        .map(|(k, r)| (r.prefix.as_str(), k))
                        .collect();
                    let what = format!("route of virtual server `{}` with prefix", v.name);
                    ctx.lookup(&format!("{tp}.prefix"), &what, prefix, &known);
                    None
                }
            }
        }
    }
}
