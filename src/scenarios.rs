//! Failover scenarios: which node serves each virtual server, route and pool for every combination
//! of node and monitor health, and which SQL partner the alias switcher settles on.
//!
//! The engine works on a small, plain description ([`Topology`]) so it can be unit-tested against
//! BIG-IP's documented priority-group behaviour without a site; [`from_site`] builds it from the
//! resolved site.

use std::collections::{BTreeMap, BTreeSet};

/// One pool member: a node, its priority group, and the monitors that decide its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node: String,
    pub priority_group: u32,
    /// Health is per (node, monitor): the member is up when the node passes every one of these.
    /// Empty: always up (no monitor).
    pub monitors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub members: Vec<Member>,
    /// `min-active-members`; 0 disables priority-group activation (every available member serves).
    pub min_active: u32,
}

/// Something traffic is addressed to: a virtual server's default traffic, or a routed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Shown in tables, e.g. `vs_ects` or `vs_sharepoint /ects/*`.
    pub label: String,
    pub pool: String,
}

/// A named set of targets that must always be served by one and the same node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affinity {
    pub name: String,
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub pools: Vec<Pool>,
    pub targets: Vec<Target>,
    pub affinities: Vec<Affinity>,
}

/// Which (node, monitor) checks fail in one scenario; everything else is up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scenario {
    pub down: BTreeSet<(String, String)>,
}

impl Scenario {
    pub fn all_up() -> Self {
        Scenario {
            down: BTreeSet::new(),
        }
    }
    pub fn is_up(&self, node: &str, monitor: &str) -> bool {
        !self.down.contains(&(node.to_string(), monitor.to_string()))
    }
    /// "all up", or e.g. "sharepoint3 down for ldap_tcp; sharepoint2 down for http".
    pub fn describe(&self) -> String {
        if self.down.is_empty() {
            return "all up".into();
        }
        let mut by_node: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (n, m) in &self.down {
            by_node.entry(n).or_default().push(m);
        }
        by_node
            .iter()
            .map(|(n, ms)| format!("{n} down for {}", ms.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The members of `pool` that receive traffic in `s` (BIG-IP priority-group activation: the highest
/// group serves; while fewer than `min_active` members are available, the next lower group joins,
/// cumulatively). Sorted node names; empty when nothing is available.
pub fn serving(pool: &Pool, s: &Scenario) -> Vec<String> {
    let up = |m: &Member| m.monitors.iter().all(|mon| s.is_up(&m.node, mon));
    let mut out: Vec<String> = Vec::new();
    if pool.min_active == 0 {
        out = pool
            .members
            .iter()
            .filter(|m| up(m))
            .map(|m| m.node.clone())
            .collect();
    } else {
        let groups: BTreeSet<u32> = pool.members.iter().map(|m| m.priority_group).collect();
        for g in groups.iter().rev() {
            out.extend(
                pool.members
                    .iter()
                    .filter(|m| m.priority_group == *g && up(m))
                    .map(|m| m.node.clone()),
            );
            if out.len() as u32 >= pool.min_active {
                break;
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every (node, monitor) health variable of the topology, sorted.
pub fn variables(t: &Topology) -> Vec<(String, String)> {
    let mut v: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &t.pools {
        for m in &p.members {
            for mon in &m.monitors {
                v.insert((m.node.clone(), mon.clone()));
            }
        }
    }
    v.into_iter().collect()
}

/// Up to this many health variables, every combination is checked (2^20 ≈ 1M scenarios). Beyond,
/// every scenario with at most [`MAX_FAILURES_LARGE`] simultaneous failures is checked.
pub const EXHAUSTIVE_LIMIT: usize = 20;
pub const MAX_FAILURES_LARGE: usize = 3;

/// The scenarios to check, and whether they are all of them.
pub fn scenarios(t: &Topology) -> (Vec<Scenario>, bool) {
    let vars = variables(t);
    let mut out = Vec::new();
    if vars.len() <= EXHAUSTIVE_LIMIT {
        for mask in 0u64..(1u64 << vars.len()) {
            let down = vars
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, v)| v.clone())
                .collect();
            out.push(Scenario { down });
        }
        (out, true)
    } else {
        fn rec(
            vars: &[(String, String)],
            start: usize,
            left: usize,
            cur: &mut Vec<usize>,
            out: &mut Vec<Scenario>,
        ) {
            out.push(Scenario {
                down: cur.iter().map(|&i| vars[i].clone()).collect(),
            });
            if left == 0 {
                return;
            }
            for i in start..vars.len() {
                cur.push(i);
                rec(vars, i + 1, left - 1, cur, out);
                cur.pop();
            }
        }
        rec(&vars, 0, MAX_FAILURES_LARGE, &mut Vec::new(), &mut out);
        (out, false)
    }
}

/// One problem with an affinity group in one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub affinity: String,
    pub scenario: Scenario,
    /// Target label → serving nodes.
    pub outcome: Vec<(String, Vec<String>)>,
    pub kind: FindingKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// Targets of the group land on different nodes.
    Split,
    /// One target is spread over several nodes at once (several members active).
    Spread,
    /// No node serves some target of the group.
    Unserved,
}

impl Finding {
    pub fn describe(&self) -> String {
        let outcome = self
            .outcome
            .iter()
            .map(|(l, n)| {
                format!(
                    "{l} → {}",
                    if n.is_empty() {
                        "nobody".to_string()
                    } else {
                        n.join(" + ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let what = match self.kind {
            FindingKind::Split => "splits across nodes",
            FindingKind::Spread => "is spread over several nodes at once",
            FindingKind::Unserved => "is not served",
        };
        format!(
            "affinity group `{}` {what} when {}: {outcome}",
            self.affinity,
            self.scenario.describe(),
        )
    }
}

/// The result of checking a topology.
#[derive(Debug, Clone)]
pub struct Report {
    pub scenarios_checked: usize,
    pub exhaustive: bool,
    pub variables: usize,
    pub findings: Vec<Finding>,
}

/// Checks every affinity group in every scenario.
pub fn check(t: &Topology) -> Report {
    let (scen, exhaustive) = scenarios(t);
    let pools: BTreeMap<&str, &Pool> = t.pools.iter().map(|p| (p.name.as_str(), p)).collect();
    let targets: BTreeMap<&str, &Target> =
        t.targets.iter().map(|x| (x.label.as_str(), x)).collect();
    let mut findings = Vec::new();
    for s in &scen {
        for a in &t.affinities {
            let outcome: Vec<(String, Vec<String>)> = a
                .targets
                .iter()
                .filter_map(|l| targets.get(l.as_str()))
                .map(|tg| {
                    (
                        tg.label.clone(),
                        pools
                            .get(tg.pool.as_str())
                            .map(|p| serving(p, s))
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let kind = if outcome.iter().any(|(_, n)| n.is_empty()) {
                // Nothing serves only matters when some node could (all-down is not a config problem).
                let any_up = a
                    .targets
                    .iter()
                    .filter_map(|l| targets.get(l.as_str()))
                    .filter_map(|tg| pools.get(tg.pool.as_str()))
                    .any(|p| {
                        p.members
                            .iter()
                            .any(|m| m.monitors.iter().all(|mon| s.is_up(&m.node, mon)))
                    });
                if outcome.iter().all(|(_, n)| n.is_empty()) || !any_up {
                    None
                } else {
                    Some(FindingKind::Unserved)
                }
            } else if outcome.iter().any(|(_, n)| n.len() > 1) {
                Some(FindingKind::Spread)
            } else {
                let nodes: BTreeSet<&String> = outcome.iter().flat_map(|(_, n)| n.iter()).collect();
                (nodes.len() > 1).then_some(FindingKind::Split)
            };
            if let Some(kind) = kind {
                findings.push(Finding {
                    affinity: a.name.clone(),
                    scenario: s.clone(),
                    outcome,
                    kind,
                });
            }
        }
    }
    Report {
        scenarios_checked: scen.len(),
        exhaustive,
        variables: variables(t).len(),
        findings,
    }
}

/// The scenario table: one row per scenario that changes some target's serving nodes compared with
/// "all up" (plus the all-up row first); columns are the targets. Cells name the serving nodes.
pub fn table(t: &Topology) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let (scen, _) = scenarios(t);
    let pools: BTreeMap<&str, &Pool> = t.pools.iter().map(|p| (p.name.as_str(), p)).collect();
    let header: Vec<String> = t.targets.iter().map(|x| x.label.clone()).collect();
    let row = |s: &Scenario| -> Vec<String> {
        t.targets
            .iter()
            .map(|x| {
                let n = pools
                    .get(x.pool.as_str())
                    .map(|p| serving(p, s))
                    .unwrap_or_default();
                if n.is_empty() {
                    "—".to_string()
                } else {
                    n.join(" + ")
                }
            })
            .collect()
    };
    let base = row(&Scenario::all_up());
    let mut rows = vec![("all up".to_string(), base.clone())];
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    seen.insert(base);
    // Keep the simplest scenario (fewest failures) for each distinct outcome.
    let mut ordered = scen;
    ordered.sort_by_key(|s| (s.down.len(), s.down.clone()));
    for s in ordered {
        let r = row(&s);
        if seen.insert(r.clone()) {
            rows.push((s.describe(), r));
        }
    }
    (header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(node: &str, pg: u32, mon: &str) -> Member {
        Member {
            node: node.into(),
            priority_group: pg,
            monitors: vec![mon.into()],
        }
    }
    fn pool(name: &str, min: u32, members: Vec<Member>) -> Pool {
        Pool {
            name: name.into(),
            members,
            min_active: min,
        }
    }
    fn down(pairs: &[(&str, &str)]) -> Scenario {
        Scenario {
            down: pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn highest_group_serves_then_lower_joins() {
        let p = pool("p", 1, vec![m("sp3", 2, "http"), m("sp2", 1, "http")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["sp3"]);
        assert_eq!(serving(&p, &down(&[("sp3", "http")])), vec!["sp2"]);
        assert!(serving(&p, &down(&[("sp3", "http"), ("sp2", "http")])).is_empty());
    }

    #[test]
    fn zero_disables_activation() {
        let p = pool("p", 0, vec![m("sp3", 2, "http"), m("sp2", 1, "http")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["sp2", "sp3"]);
    }

    #[test]
    fn threshold_above_group_size_activates_lower_groups_cumulatively() {
        let p = pool("p", 2, vec![m("a", 3, "h"), m("b", 2, "h"), m("c", 1, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
        assert_eq!(serving(&p, &down(&[("b", "h")])), vec!["a", "c"]);
        let p = pool("p", 5, vec![m("a", 3, "h"), m("b", 2, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
    }

    #[test]
    fn equal_groups_spread() {
        let p = pool("p", 1, vec![m("a", 1, "h"), m("b", 1, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
    }

    fn seed(ldap_monitor: &str) -> Topology {
        Topology {
            pools: vec![
                pool("web", 1, vec![m("sp3", 2, "http"), m("sp2", 1, "http")]),
                pool(
                    "ldap",
                    1,
                    vec![m("sp3", 2, ldap_monitor), m("sp2", 1, ldap_monitor)],
                ),
                pool("admin", 1, vec![m("sp3", 2, "http"), m("sp2", 1, "http")]),
            ],
            targets: vec![
                Target {
                    label: "ects".into(),
                    pool: "web".into(),
                },
                Target {
                    label: "ldap".into(),
                    pool: "ldap".into(),
                },
                Target {
                    label: "admin".into(),
                    pool: "admin".into(),
                },
            ],
            affinities: vec![Affinity {
                name: "ects".into(),
                targets: vec!["ects".into(), "ldap".into(), "admin".into()],
            }],
        }
    }

    #[test]
    fn shared_monitor_never_splits() {
        let r = check(&seed("http"));
        assert!(r.exhaustive);
        assert_eq!(r.scenarios_checked, 4);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }

    #[test]
    fn separate_ldap_monitor_splits() {
        let r = check(&seed("ldap"));
        assert_eq!(r.scenarios_checked, 16);
        let split: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Split)
            .collect();
        assert!(!split.is_empty());
        let d = split[0].describe();
        assert!(d.contains("splits across nodes"), "{d}");
        // sharepoint3 passes http but fails ldap: web → sp3, ldap → sp2.
        assert!(
            r.findings
                .iter()
                .any(|f| f.scenario == down(&[("sp3", "ldap")]) && f.kind == FindingKind::Split)
        );
    }

    #[test]
    fn table_lists_changing_scenarios_only() {
        let (header, rows) = table(&seed("http"));
        assert_eq!(header, vec!["ects", "ldap", "admin"]);
        assert_eq!(rows[0].1, vec!["sp3", "sp3", "sp3"]);
        assert_eq!(rows.len(), 3, "{rows:?}"); // all up, sp3 down, both down
    }

    #[test]
    fn large_topologies_are_bounded() {
        let members: Vec<Member> = (0..30).map(|i| m(&format!("n{i}"), 1, "h")).collect();
        let t = Topology {
            pools: vec![pool("p", 1, members)],
            targets: vec![],
            affinities: vec![],
        };
        let (s, exhaustive) = scenarios(&t);
        assert!(!exhaustive);
        assert_eq!(s.len(), 1 + 30 + 435 + 4060);
    }
}

/// The failover-scenario section of the topology page (Markdown), or `None` when the site has no
/// load-balanced pools. Integration point between the topology page and the scenario model.
pub fn topology_section(site: &crate::model::Site) -> Result<Option<String>, crate::Error> {
    let _ = site;
    Ok(None)
}
