//! The site: topology from the resolved F5 section, validation of affinity groups.

use super::engine::*;
use crate::diag::{Code, Severity};
use crate::families::f5::affinity::{OnSplit, TargetRef, Verdict};
use crate::families::f5::model::{F5, MonitorRef, Persistence, ServiceDownAction};
use crate::model::Ctx;
use crate::site::Site;

/// Monitors that probe the node's address only (no service port).
const PORTLESS: &[&str] = &["icmp", "gateway_icmp"];

/// Table label of an affinity target.
pub fn target_label(f5: &F5, t: &TargetRef) -> String {
    match t {
        TargetRef::Virtual(v) => virtual_label(f5, *v),
        TargetRef::Route(v, r) => format!(
            "{} {}",
            f5.virtuals[*v].name, f5.virtuals[*v].routes[*r].prefix
        ),
        TargetRef::Pool(p) => format!("pool {}", f5.pools[*p].name),
    }
}

fn virtual_label(f5: &F5, v: usize) -> String {
    let vs = &f5.virtuals[v];
    if vs.routes.is_empty() {
        vs.name.clone()
    } else {
        format!("{} (other paths)", vs.name)
    }
}

/// The scenario topology of a resolved BIG-IP section: pools with their members' checks, every
/// virtual server's default traffic and route as a target, pools named by affinity groups as
/// targets too, and the affinity groups.
pub fn from_f5(f5: &F5, servers: &[crate::model::Server]) -> Topology {
    let pools = f5
        .pools
        .iter()
        .map(|p| Pool {
            name: p.name.clone(),
            min_active: p.min_active_members,
            members: p
                .members
                .iter()
                .map(|m| Member {
                    node: servers[m.server].name.clone(),
                    priority_group: m.priority_group,
                    checks: p
                        .monitors
                        .iter()
                        .map(|mr| match mr {
                            MonitorRef::Defined(i) => {
                                let mon = &f5.monitors[*i];
                                format!("{}:{}", mon.name, mon.port.unwrap_or(m.port))
                            }
                            MonitorRef::Builtin(b) if PORTLESS.contains(&b.as_str()) => b.clone(),
                            MonitorRef::Builtin(b) => format!("{b}:{}", m.port),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let mut targets = Vec::new();
    for (vi, v) in f5.virtuals.iter().enumerate() {
        targets.push(Target {
            label: virtual_label(f5, vi),
            pool: f5.pools[v.pool].name.clone(),
        });
        for r in &v.routes {
            targets.push(Target {
                label: format!("{} {}", v.name, r.prefix),
                pool: f5.pools[r.pool].name.clone(),
            });
        }
    }
    for a in &f5.affinities {
        for t in &a.targets {
            if let TargetRef::Pool(p) = t {
                let label = target_label(f5, t);
                if !targets.iter().any(|x| x.label == label) {
                    targets.push(Target {
                        label,
                        pool: f5.pools[*p].name.clone(),
                    });
                }
            }
        }
    }
    let affinities = f5
        .affinities
        .iter()
        .map(|a| Affinity {
            name: a.name.clone(),
            targets: a.targets.iter().map(|t| target_label(f5, t)).collect(),
        })
        .collect();
    Topology {
        pools,
        targets,
        affinities,
    }
}

/// The scenario topology of a site (empty without an `[f5]` section).
pub fn from_site(site: &Site) -> Topology {
    site.f5
        .as_ref()
        .map(|f| from_f5(f, &site.farm.servers))
        .unwrap_or_default()
}

/// How many scenarios a diagnostic spells out per kind.
const LISTED: usize = 8;

/// Checks every affinity group of the site, reports each kind of finding at the group (an error
/// or a warning, as the group's `on_split` says) and records the verdicts in the site.
pub fn validate_site(site: &mut Site, ctx: &mut Ctx) {
    let Some(f5) = site.f5.as_ref() else {
        return;
    };
    if f5.affinities.is_empty() {
        return;
    }
    let t = from_f5(f5, &site.farm.servers);
    let mut verdicts = Vec::new();
    for (i, a) in t.affinities.iter().enumerate() {
        let r = check_group(&t, a);
        let path = format!("f5.affinity[{i}].name");
        report_findings(ctx, &t, a, &r, f5.affinities[i].on_split, &path);
        warn_persistence(ctx, f5, i, &a.name);
        report_live_connections(ctx, f5, i, &a.name);
        verdicts.push(Verdict {
            variables: r.variables.len(),
            scenarios: r.scenarios_checked,
            exhaustive: r.exhaustive,
            proved: r.proved,
            findings: r.total(),
        });
    }
    site.verdicts = verdicts;
}

/// What a group's check covered, for its diagnostics.
fn check_scope(r: &GroupReport) -> String {
    if r.proved {
        format!(
            "proved for every combination of its {} health checks",
            r.variables.len()
        )
    } else if r.exhaustive {
        format!(
            "every combination of its {} health checks",
            r.variables.len()
        )
    } else {
        format!(
            "every combination of up to {MAX_FAILURES_LARGE} failures among its {} health checks (more than {EXHAUSTIVE_LIMIT}: not exhaustive)",
            r.variables.len()
        )
    }
}

/// One diagnostic per kind of finding of a group (an error for a split or spread when the group
/// says `on_split = "error"`), listing the first scenarios and the fixes.
fn report_findings(
    ctx: &mut Ctx,
    t: &Topology,
    a: &Affinity,
    r: &GroupReport,
    on_split: OnSplit,
    path: &str,
) {
    let scope = check_scope(r);
    let fix = fixes(t, a);
    for kind in FindingKind::ALL {
        let n = r.counts.get(&kind).copied().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let message = format!(
            "affinity group `{}` {} in {n} of {} health combinations ({scope})",
            a.name,
            kind.what(),
            r.scenarios_checked
        );
        let mut help: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.kind == kind)
            .take(LISTED)
            .map(|f| format!("when {}: {}", f.when, outcome_text(&f.outcome)))
            .collect();
        if n > help.len() {
            help.push(format!(
                "… and {} more; `sitebundle scenarios` prints the table",
                n - help.len()
            ));
        }
        if fix.is_empty() {
            help.push("to fix: make the group's pools identical in members, priority groups, monitors and min_active_members".into());
        } else {
            help.push("to fix:".into());
            help.extend(fix.iter().map(|f| format!("- {f}")));
        }
        let help = help.join("\n");
        // A split (or spread) is the failure of docs/background.md (two activation mails): as the group says. Partial service (some
        // targets served, others by nobody) degrades but never duplicates work: a warning.
        let code = match kind {
            FindingKind::Split => Code::AffinitySplit,
            FindingKind::Spread => Code::AffinitySpread,
            FindingKind::Unserved => Code::AffinityPartial,
        };
        let severity = match (on_split, kind) {
            (OnSplit::Error, FindingKind::Split | FindingKind::Spread) => Severity::Error,
            _ => Severity::Warning,
        };
        ctx.report(severity, code, path, message, help);
    }
}

/// Persistence keeps a client on the node it first reached: after the preferred node comes back,
/// persisted clients stay on the fallback while new ones go to the preferred node.
fn warn_persistence(ctx: &mut Ctx, f5: &F5, i: usize, name: &str) {
    for (j, tr) in f5.affinities[i].targets.iter().enumerate() {
        let pool = match tr {
            TargetRef::Virtual(v) => Some(f5.virtuals[*v].pool),
            TargetRef::Route(v, r) => Some(f5.virtuals[*v].routes[*r].pool),
            TargetRef::Pool(p) => Some(*p),
        };
        let persisted: Vec<&str> = f5
            .virtuals
            .iter()
            .filter(|v| v.persistence != Persistence::None)
            .filter(|v| match tr {
                TargetRef::Virtual(x) | TargetRef::Route(x, _) => {
                    std::ptr::eq(*v, &f5.virtuals[*x])
                }
                TargetRef::Pool(_) => {
                    Some(v.pool) == pool || v.routes.iter().any(|r| Some(r.pool) == pool)
                }
            })
            .map(|v| v.name.as_str())
            .collect();
        if persisted.is_empty() {
            continue;
        }
        let message = format!(
            "affinity group `{}`: virtual server {} keeps session persistence, so after a failover and recovery its persisted clients stay on the fallback node while new clients and the group's other traffic go back to the preferred one",
            name,
            persisted
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let help = "set `persistence = \"none\"` on it, so that clients go back to the preferred node when it recovers";
        let path = format!("f5.affinity[{i}].targets[{j}]");
        let severity = match f5.affinities[i].on_split {
            OnSplit::Error => Severity::Error,
            OnSplit::Warning => Severity::Warning,
        };
        ctx.report(severity, Code::AffinityPersistence, &path, message, help);
    }
}

/// The pools a group's target sends traffic to, and the virtual servers that carry it.
fn target_paths(f5: &F5, t: &TargetRef) -> (usize, Vec<usize>) {
    match *t {
        TargetRef::Virtual(v) => (f5.virtuals[v].pool, vec![v]),
        TargetRef::Route(v, r) => (f5.virtuals[v].routes[r].pool, vec![v]),
        TargetRef::Pool(p) => {
            let carriers = (0..f5.virtuals.len())
                .filter(|&v| {
                    let vs = &f5.virtuals[v];
                    vs.pool == p || vs.routes.iter().any(|r| r.pool == p)
                })
                .collect();
            (p, carriers)
        }
    }
}

/// Established connections, which the priority-group model (new connections) does not show:
/// - a pool whose `service-down-action` is none keeps a member's live connections after its
///   monitors mark it down (F5 tmsh reference, `ltm pool` service-down-action: "none" leaves
///   connections alone), so they stay on a node the group's new connections have left;
/// - an HTTP virtual server without OneConnect load balances once per client connection, so a
///   keep-alive connection stays on the node it first reached when the group moves (F5 LTM
///   Profiles Reference, About OneConnect profiles).
///
/// Reported like persistence: an error or a warning, as the group's `on_split` says.
fn report_live_connections(ctx: &mut Ctx, f5: &F5, i: usize, name: &str) {
    // Each pool and virtual server once per group, at the first target that reaches it.
    let mut pools_seen = std::collections::BTreeSet::new();
    let mut virtuals_seen = std::collections::BTreeSet::new();
    for (j, t) in f5.affinities[i].targets.iter().enumerate() {
        let (pool, carriers) = target_paths(f5, t);
        let path = format!("f5.affinity[{i}].targets[{j}]");
        let p = &f5.pools[pool];
        if p.service_down_action == ServiceDownAction::None && pools_seen.insert(pool) {
            let message = format!(
                "affinity group `{name}`: pool `{}` keeps established connections on a member its monitors mark down (service_down_action \"none\"), so its live connections stay on a node the group's new connections have left",
                p.name
            );
            let help = "set `service_down_action = \"reset\"` on the pool (the default for a pool in an affinity group): clients reconnect and follow the group";
            report(ctx, f5, i, &path, message, help);
        }
        for &v in &carriers {
            let vs = &f5.virtuals[v];
            if vs.protocol.is_http() && !vs.oneconnect && virtuals_seen.insert(v) {
                let message = format!(
                    "affinity group `{name}`: HTTP virtual server `{}` has no OneConnect, so a keep-alive client connection stays on the node it first reached when the group moves to the other node",
                    vs.name
                );
                let help = if vs.auth == crate::families::f5::model::Auth::Windows {
                    "OneConnect is not safe with Windows authentication that may negotiate Kerberos: when IIS offers NTLM only (SharePoint's default for a web application), set `auth = \"ntlm\"` (OneConnect with F5's NTLM profile; the runbook verifies IIS), or `auth = \"anonymous\"` for anonymous or forms authentication"
                } else {
                    "remove `oneconnect = false` from the virtual server (OneConnect is the default for one that serves an affinity group)"
                };
                report(ctx, f5, i, &path, message, help);
            }
        }
    }
}

/// A live-connection finding of group `i`: an error or a warning, as its `on_split` says.
fn report(ctx: &mut Ctx, f5: &F5, i: usize, path: &str, message: String, help: &str) {
    let severity = match f5.affinities[i].on_split {
        OnSplit::Error => Severity::Error,
        OnSplit::Warning => Severity::Warning,
    };
    ctx.report(severity, Code::AffinityLiveConnections, path, message, help);
}

/// One line per group: "affinity group `ects`: never splits (64 of 64 combinations of 6 checks)".
pub fn verdict_lines(site: &Site) -> Vec<String> {
    let Some(f5) = site.f5.as_ref() else {
        return Vec::new();
    };
    f5.affinities
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let v = site.verdict(i)?;
            let scope = if v.proved {
                format!(
                    "every combination of its {} health checks, proved: its pools are identical and pick one node",
                    v.variables
                )
            } else if v.exhaustive {
                format!("all {} combinations of its {} health checks", v.scenarios, v.variables)
            } else {
                format!(
                    "{} combinations of up to {MAX_FAILURES_LARGE} failures among its {} health checks, not exhaustive",
                    v.scenarios, v.variables
                )
            };
            Some(if v.findings == 0 {
                format!("affinity group `{}`: always served by a single node ({scope})", a.name)
            } else {
                format!(
                    "affinity group `{}`: splits or is partly served in {} scenarios ({scope})",
                    a.name, v.findings
                )
            })
        })
        .collect()
}
