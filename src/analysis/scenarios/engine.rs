//! The BIG-IP priority-group model: topology, serving, scenario enumeration, checks, the table.

use std::collections::{BTreeMap, BTreeSet};

/// One pool member: a node, its priority group, and the checks that decide its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node: String,
    pub priority_group: u32,
    /// Health is per (node, check): the member is up when the node passes every one of these.
    /// Empty: always up (no monitor).
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub members: Vec<Member>,
    /// `min-active-members`; 0 disables priority-group activation (every available member serves).
    pub min_active: u32,
}

/// Something traffic is addressed to: a virtual server's default traffic, a routed path, a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Shown in tables, e.g. `vs_ects` or `vs_sharepoint /ECTS/`.
    pub label: String,
    pub pool: String,
}

/// A named set of targets (by label) that must always be served by one and the same node.
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

/// Which (node, check) pairs fail in one scenario; everything else is up.
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
    pub fn is_up(&self, node: &str, check: &str) -> bool {
        !self.down.contains(&(node.to_string(), check.to_string()))
    }
    /// "all up", or e.g. "sharepoint2 down for http:80; sharepoint3 down for mon_adlds_tcp:389".
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
    /// Spelled out against the checks that matter (`vars`): each node with a failing check, with
    /// what it still passes, e.g. "sharepoint3 up for http:80, down for ldap:389".
    pub fn describe_in(&self, vars: &[(String, String)]) -> String {
        if self.down.is_empty() {
            return "everything is up".into();
        }
        let mut by_node: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
        for (n, c) in vars {
            let e = by_node.entry(n).or_default();
            if self.down.contains(&(n.clone(), c.clone())) {
                e.1.push(c);
            } else {
                e.0.push(c);
            }
        }
        let parts: Vec<String> = by_node
            .iter()
            .filter(|(_, (_, down))| !down.is_empty())
            .map(|(n, (up, down))| {
                if up.is_empty() {
                    format!("{n} down for {}", down.join(", "))
                } else {
                    format!("{n} up for {}, down for {}", up.join(", "), down.join(", "))
                }
            })
            .collect();
        parts.join("; ")
    }
}

/// The members of `pool` that receive traffic in `s` (BIG-IP priority-group activation: the highest
/// group serves; while fewer than `min_active` members are available, the next lower group joins,
/// cumulatively). Sorted node names without repeats; empty when nothing is available.
///
/// This is the reference implementation, written for clarity; [`check`] and [`table`] evaluate a
/// compiled form of the same rule (the property tests compare the two).
pub fn serving(pool: &Pool, s: &Scenario) -> Vec<String> {
    let up = |m: &Member| m.checks.iter().all(|c| s.is_up(&m.node, c));
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

/// Every (node, check) health variable of the given pools, sorted.
fn pool_variables<'a>(pools: impl IntoIterator<Item = &'a Pool>) -> Vec<(String, String)> {
    let mut v: BTreeSet<(String, String)> = BTreeSet::new();
    for p in pools {
        for m in &p.members {
            for c in &m.checks {
                v.insert((m.node.clone(), c.clone()));
            }
        }
    }
    v.into_iter().collect()
}

/// Every (node, check) health variable of the topology, sorted.
pub fn variables(t: &Topology) -> Vec<(String, String)> {
    pool_variables(&t.pools)
}

/// Up to this many health variables, every combination is checked (2^20 ≈ 1M scenarios). Beyond,
/// every scenario with at most [`MAX_FAILURES_LARGE`] simultaneous failures is checked.
pub const EXHAUSTIVE_LIMIT: usize = 20;
pub const MAX_FAILURES_LARGE: usize = 3;
/// The scenario table lists every combination up to this many variables, else single failures.
pub const TABLE_LIMIT: usize = 12;

/// Calls `f` with the indices of the failing variables of every scenario with at most `max_down`
/// failures among `n` variables: fewest failures first, then in lexicographic order.
fn for_each_scenario(n: usize, max_down: usize, mut f: impl FnMut(&[usize])) {
    fn rec(n: usize, start: usize, left: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if left == 0 {
            f(cur);
            return;
        }
        for i in start..n {
            if n - i < left {
                break;
            }
            cur.push(i);
            rec(n, i + 1, left - 1, cur, f);
            cur.pop();
        }
    }
    let mut cur = Vec::new();
    for k in 0..=max_down.min(n) {
        rec(n, 0, k, &mut cur, &mut f);
    }
}

/// How many failures to combine for `n` variables, and whether that is every combination.
fn bound(n: usize, limit: usize, large: usize) -> (usize, bool) {
    if n <= limit {
        (n, true)
    } else {
        (large, false)
    }
}

/// The scenarios to check over the whole topology, and whether they are all of them.
pub fn scenarios(t: &Topology) -> (Vec<Scenario>, bool) {
    let vars = variables(t);
    let (k, exhaustive) = bound(vars.len(), EXHAUSTIVE_LIMIT, MAX_FAILURES_LARGE);
    let mut out = Vec::new();
    for_each_scenario(vars.len(), k, |d| {
        out.push(Scenario {
            down: d.iter().map(|&i| vars[i].clone()).collect(),
        })
    });
    (out, exhaustive)
}

/// The compiled form of some pools: node and variable indices, members by descending group.
struct Eval {
    nodes: Vec<String>,
    vars: Vec<(String, String)>,
    pools: Vec<CPool>,
    index: BTreeMap<String, usize>,
}

struct CPool {
    min_active: u32,
    /// (node, priority group, variable indices), highest group first (stable).
    members: Vec<(usize, u32, Vec<usize>)>,
}

impl Eval {
    fn new<'a>(pools: impl IntoIterator<Item = &'a Pool> + Clone) -> Eval {
        let vars = pool_variables(pools.clone());
        let var_idx: BTreeMap<&(String, String), usize> =
            vars.iter().enumerate().map(|(i, v)| (v, i)).collect();
        let nodes: Vec<String> = pools
            .clone()
            .into_iter()
            .flat_map(|p| p.members.iter().map(|m| m.node.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut cpools = Vec::new();
        let mut index = BTreeMap::new();
        for p in pools {
            let mut members: Vec<(usize, u32, Vec<usize>)> = p
                .members
                .iter()
                .map(|m| {
                    (
                        nodes.binary_search(&m.node).unwrap_or(0),
                        m.priority_group,
                        m.checks
                            .iter()
                            .filter_map(|c| var_idx.get(&(m.node.clone(), c.clone())).copied())
                            .collect(),
                    )
                })
                .collect();
            members.sort_by_key(|m| std::cmp::Reverse(m.1));
            index.entry(p.name.clone()).or_insert(cpools.len());
            cpools.push(CPool {
                min_active: p.min_active,
                members,
            });
        }
        Eval {
            nodes,
            vars,
            pools: cpools,
            index,
        }
    }

    /// Serving node indices of pool `p` (sorted, without repeats) when `down[v]` variables fail.
    fn serve(&self, p: usize, down: &[bool], out: &mut Vec<usize>) {
        out.clear();
        let pool = &self.pools[p];
        let up = |vs: &Vec<usize>| !vs.iter().any(|&v| down[v]);
        if pool.min_active == 0 {
            out.extend(pool.members.iter().filter(|m| up(&m.2)).map(|m| m.0));
        } else {
            let ms = &pool.members;
            let mut i = 0;
            while i < ms.len() {
                let g = ms[i].1;
                while i < ms.len() && ms[i].1 == g {
                    if up(&ms[i].2) {
                        out.push(ms[i].0);
                    }
                    i += 1;
                }
                if out.len() as u32 >= pool.min_active {
                    break;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    fn scenario(&self, down_idx: &[usize]) -> Scenario {
        Scenario {
            down: down_idx.iter().map(|&i| self.vars[i].clone()).collect(),
        }
    }
}

/// One problem with an affinity group in one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub affinity: String,
    pub scenario: Scenario,
    /// The scenario spelled out against the group's checks.
    pub when: String,
    /// Target label → serving nodes.
    pub outcome: Vec<(String, Vec<String>)>,
    pub kind: FindingKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    /// Targets of the group land on different nodes.
    Split,
    /// One target is spread over several nodes at once (several members active).
    Spread,
    /// Some targets of the group are served and others are not.
    Unserved,
}

impl FindingKind {
    pub const ALL: [FindingKind; 3] = [
        FindingKind::Split,
        FindingKind::Spread,
        FindingKind::Unserved,
    ];
    pub fn what(self) -> &'static str {
        match self {
            FindingKind::Split => "splits across nodes",
            FindingKind::Spread => "is spread over several nodes at once",
            FindingKind::Unserved => "is only partly served",
        }
    }
}

/// `a → x, b → nobody`.
pub fn outcome_text(outcome: &[(String, Vec<String>)]) -> String {
    outcome
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
        .join(", ")
}

impl Finding {
    pub fn describe(&self) -> String {
        format!(
            "affinity group `{}` {} when {}: {}",
            self.affinity,
            self.kind.what(),
            self.when,
            outcome_text(&self.outcome),
        )
    }
}

/// Classifies one scenario's outcome for a group (None: served by exactly one node, or by none).
pub fn classify(outcome: &[Vec<usize>]) -> Option<FindingKind> {
    if outcome.iter().any(|n| n.len() > 1) {
        return Some(FindingKind::Spread);
    }
    let nodes: BTreeSet<usize> = outcome.iter().flatten().copied().collect();
    if nodes.len() > 1 {
        Some(FindingKind::Split)
    } else if !nodes.is_empty() && outcome.iter().any(|n| n.is_empty()) {
        Some(FindingKind::Unserved)
    } else {
        None
    }
}

/// How many findings of each kind a group keeps (the counts cover all of them).
pub const MAX_KEPT: usize = 64;

/// The check of one affinity group.
#[derive(Debug, Clone)]
pub struct GroupReport {
    pub name: String,
    /// The group's own health variables (the only ones its outcome depends on).
    pub variables: Vec<(String, String)>,
    pub scenarios_checked: usize,
    /// Every combination is covered: enumerated, or `proved`.
    pub exhaustive: bool,
    /// Beyond [`EXHAUSTIVE_LIMIT`] variables, [`proves_single_node`] settled the group for every
    /// combination without enumerating them (`scenarios_checked` is 0).
    pub proved: bool,
    /// Scenarios with a finding, by kind.
    pub counts: BTreeMap<FindingKind, usize>,
    /// The first [`MAX_KEPT`] findings of each kind, fewest failures first.
    pub findings: Vec<Finding>,
    /// Targets the group names that the topology does not have (a bug in the caller).
    pub unknown_targets: Vec<String>,
}

impl GroupReport {
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// The result of checking a topology.
#[derive(Debug, Clone)]
pub struct Report {
    pub groups: Vec<GroupReport>,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.groups.iter().flat_map(|g| g.findings.iter())
    }
}

/// The structural proof used for groups too large to enumerate: when every pool of the group has
/// the same members (the same multiset of node, priority group and checks) and the same threshold,
/// the pools choose the same nodes in every scenario (`serving` depends on nothing else), so the
/// group is never split and never partly served; and when, moreover, the threshold is 1 and no
/// priority group holds two different nodes (or there is only one node), exactly one node serves
/// whenever any does. Returns whether both hold.
pub fn proves_single_node(pools: &[&Pool]) -> bool {
    type Norm = (u32, Vec<(String, u32, Vec<String>)>);
    let norm = |p: &Pool| -> Norm {
        let mut ms: Vec<(String, u32, Vec<String>)> = p
            .members
            .iter()
            .map(|m| {
                let mut c = m.checks.clone();
                c.sort();
                c.dedup();
                (m.node.clone(), m.priority_group, c)
            })
            .collect();
        ms.sort();
        (p.min_active, ms)
    };
    let Some(first) = pools.first().map(|p| norm(p)) else {
        return true;
    };
    if pools.iter().any(|p| norm(p) != first) {
        return false;
    }
    let nodes: BTreeSet<&String> = first.1.iter().map(|m| &m.0).collect();
    let mut by_group: BTreeMap<u32, BTreeSet<&String>> = BTreeMap::new();
    for m in &first.1 {
        by_group.entry(m.1).or_default().insert(&m.0);
    }
    nodes.len() <= 1 || (first.0 == 1 && by_group.values().all(|n| n.len() == 1))
}

/// Checks one affinity group over its own variables.
pub fn check_group(t: &Topology, a: &Affinity) -> GroupReport {
    let targets: Vec<&Target> = a
        .targets
        .iter()
        .filter_map(|l| t.targets.iter().find(|x| &x.label == l))
        .collect();
    let unknown_targets = a
        .targets
        .iter()
        .filter(|l| !t.targets.iter().any(|x| &x.label == *l))
        .cloned()
        .collect();
    let names: BTreeSet<&str> = targets.iter().map(|x| x.pool.as_str()).collect();
    let pools: Vec<&Pool> = t
        .pools
        .iter()
        .filter(|p| names.contains(p.name.as_str()))
        .collect();
    let ev = Eval::new(pools.iter().copied());
    let tpool: Vec<Option<usize>> = targets
        .iter()
        .map(|x| ev.index.get(&x.pool).copied())
        .collect();
    if ev.vars.len() > EXHAUSTIVE_LIMIT && proves_single_node(&pools) {
        return GroupReport {
            name: a.name.clone(),
            variables: ev.vars,
            scenarios_checked: 0,
            exhaustive: true,
            proved: true,
            counts: BTreeMap::new(),
            findings: Vec::new(),
            unknown_targets,
        };
    }
    let (k, exhaustive) = bound(ev.vars.len(), EXHAUSTIVE_LIMIT, MAX_FAILURES_LARGE);
    let mut down = vec![false; ev.vars.len()];
    let mut outcome: Vec<Vec<usize>> = vec![Vec::new(); targets.len()];
    let mut counts: BTreeMap<FindingKind, usize> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut checked = 0usize;
    for_each_scenario(ev.vars.len(), k, |d| {
        checked += 1;
        for &i in d {
            down[i] = true;
        }
        for (o, p) in outcome.iter_mut().zip(&tpool) {
            match p {
                Some(p) => ev.serve(*p, &down, o),
                None => o.clear(),
            }
        }
        if let Some(kind) = classify(&outcome) {
            let c = counts.entry(kind).or_default();
            *c += 1;
            if *c <= MAX_KEPT {
                findings.push(finding(&a.name, &ev, &targets, &outcome, d, kind));
            }
        }
        for &i in d {
            down[i] = false;
        }
    });
    GroupReport {
        name: a.name.clone(),
        variables: ev.vars,
        scenarios_checked: checked,
        exhaustive,
        proved: false,
        counts,
        findings,
        unknown_targets,
    }
}

/// The finding of scenario `d` (the failed checks) for the group's targets.
fn finding(
    affinity: &str,
    ev: &Eval,
    targets: &[&Target],
    outcome: &[Vec<usize>],
    d: &[usize],
    kind: FindingKind,
) -> Finding {
    let scenario = ev.scenario(d);
    Finding {
        affinity: affinity.to_string(),
        when: scenario.describe_in(&ev.vars),
        scenario,
        outcome: targets
            .iter()
            .zip(outcome)
            .map(|(x, n)| {
                (
                    x.label.clone(),
                    n.iter().map(|&i| ev.nodes[i].clone()).collect(),
                )
            })
            .collect(),
        kind,
    }
}

/// Checks every affinity group.
pub fn check(t: &Topology) -> Report {
    Report {
        groups: t.affinities.iter().map(|a| check_group(t, a)).collect(),
    }
}

/// The scenario table: one row per distinct outcome (the scenario with the fewest failures that
/// produces it; "all up" first); one column per target, then one per affinity group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    /// Every combination of the variables (else: single failures only).
    pub exhaustive: bool,
    pub variables: usize,
    pub scenarios: usize,
    /// Some rows stand for several choices of interchangeable members.
    pub grouped: bool,
}

/// What a group looks like in one row: the node, "split", "partly served" or "—".
fn group_cell(outcome: &[Vec<usize>], nodes: &[String]) -> String {
    match classify(outcome) {
        Some(FindingKind::Split) | Some(FindingKind::Spread) => "SPLIT".into(),
        Some(FindingKind::Unserved) => "PARTLY SERVED".into(),
        None => match outcome.iter().flatten().next() {
            Some(&n) => format!("together on {}", nodes[n]),
            None => "—".into(),
        },
    }
}

pub fn table(t: &Topology) -> Table {
    table_bounded(t, TABLE_LIMIT)
}

/// [`table`] with every combination up to `limit` variables, else single failures only.
pub fn table_bounded(t: &Topology, limit: usize) -> Table {
    let ev = Eval::new(t.pools.iter());
    let (k, exhaustive) = bound(ev.vars.len(), limit, 1);
    let mut header: Vec<String> = t.targets.iter().map(|x| x.label.clone()).collect();
    header.extend(t.affinities.iter().map(|a| format!("group {}", a.name)));
    let tpool: Vec<Option<usize>> = t
        .targets
        .iter()
        .map(|x| ev.index.get(&x.pool).copied())
        .collect();
    let groups: Vec<Vec<usize>> = t
        .affinities
        .iter()
        .map(|a| {
            a.targets
                .iter()
                .filter_map(|l| t.targets.iter().position(|x| &x.label == l))
                .collect()
        })
        .collect();
    let classes = super::symmetry::Classes::of(&t.pools, |n, c| {
        ev.vars.binary_search(&(n.to_string(), c.to_string())).ok()
    });
    let mut down = vec![false; ev.vars.len()];
    let mut buf: Vec<Vec<usize>> = vec![Vec::new(); t.targets.len()];
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut rows = Vec::new();
    let mut count = 0usize;
    for_each_scenario(ev.vars.len(), k, |d| {
        count += 1;
        for &i in d {
            down[i] = true;
        }
        // Another choice of interchangeable members: its row is this pattern's, renamed.
        if !classes.is_canonical(&down) {
            for &i in d {
                down[i] = false;
            }
            return;
        }
        for (o, p) in buf.iter_mut().zip(&tpool) {
            match p {
                Some(p) => ev.serve(*p, &down, o),
                None => o.clear(),
            }
        }
        let row = row_cells(&buf, &groups, &ev.nodes);
        if seen.insert(row.clone()) {
            let label = match classes.stands_for(&down) {
                Some(s) => format!("{} ({s})", ev.scenario(d).describe()),
                None => ev.scenario(d).describe(),
            };
            rows.push((label, row));
        }
        for &i in d {
            down[i] = false;
        }
    });
    Table {
        header,
        rows,
        exhaustive,
        variables: ev.vars.len(),
        scenarios: count,
        grouped: classes.any(),
    }
}

/// One row of the table: the nodes serving each target (`—` for none, `a + b` for several), then
/// each affinity group's cell.
fn row_cells(buf: &[Vec<usize>], groups: &[Vec<usize>], nodes: &[String]) -> Vec<String> {
    let mut row: Vec<String> = buf
        .iter()
        .map(|n| {
            if n.is_empty() {
                "—".to_string()
            } else {
                n.iter()
                    .map(|&i| nodes[i].as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            }
        })
        .collect();
    for g in groups {
        let o: Vec<Vec<usize>> = g.iter().map(|&i| buf[i].clone()).collect();
        row.push(group_cell(&o, nodes));
    }
    row
}

/// What would keep a group on one node: compares the group's pools (checks, node sets, priority
/// orders, activation thresholds). Empty when nothing stands out.
pub fn fixes(t: &Topology, a: &Affinity) -> Vec<String> {
    let names: BTreeSet<&str> = a
        .targets
        .iter()
        .filter_map(|l| t.targets.iter().find(|x| &x.label == l))
        .map(|x| x.pool.as_str())
        .collect();
    let pools: Vec<&Pool> = t
        .pools
        .iter()
        .filter(|p| names.contains(p.name.as_str()))
        .collect();
    let mut out = Vec::new();
    fix_shared_monitors(&pools, &mut out);
    let all_nodes: BTreeSet<String> = pools.iter().flat_map(|p| pool_nodes(p)).collect();
    fix_same_nodes(&pools, &all_nodes, &mut out);
    fix_priority_orders(&pools, &all_nodes, &mut out);
    fix_activation(&pools, &mut out);
    out
}

/// Checks per pool (the set of checks of any member, without ports: the same monitor on another
/// port is a different check, which is the point).
fn pool_checks(p: &Pool) -> BTreeSet<String> {
    p.members
        .iter()
        .flat_map(|m| m.checks.iter().cloned())
        .collect()
}

/// The nodes a pool has members on.
fn pool_nodes(p: &Pool) -> BTreeSet<String> {
    p.members.iter().map(|m| m.node.clone()).collect()
}

/// Every pool of a group decides health with the same checks.
fn fix_shared_monitors(pools: &[&Pool], out: &mut Vec<String>) {
    let first_checks = pools.first().map(|p| pool_checks(p));
    if pools.iter().any(|p| Some(pool_checks(p)) != first_checks) {
        let list = pools
            .iter()
            .map(|p| {
                let c: Vec<String> = pool_checks(p).into_iter().collect();
                format!(
                    "{}: {}",
                    p.name,
                    if c.is_empty() {
                        "none".into()
                    } else {
                        c.join(" + ")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        out.push(format!(
            "shared monitors: the pools decide health with different checks ({list}); give every pool of the group the same `monitors` list (a monitor with `port` probes another service of the node), so a node is up for all of the group's traffic or for none of it"
        ));
    }
}

/// Every pool of a group has a member on each of the group's nodes.
fn fix_same_nodes(pools: &[&Pool], all_nodes: &BTreeSet<String>, out: &mut Vec<String>) {
    for p in pools {
        let missing: Vec<String> = all_nodes.difference(&pool_nodes(p)).cloned().collect();
        if !missing.is_empty() {
            out.push(format!(
                "same nodes: pool `{}` has no member on {} (other pools of the group do)",
                p.name,
                missing.join(", ")
            ));
        }
    }
}

/// Priority order: the best group of each node per pool; pairs must compare alike everywhere.
fn fix_priority_orders(pools: &[&Pool], all_nodes: &BTreeSet<String>, out: &mut Vec<String>) {
    let best = |p: &Pool, n: &str| {
        p.members
            .iter()
            .filter(|m| m.node == n)
            .map(|m| m.priority_group)
            .max()
    };
    let nodes_v: Vec<&String> = all_nodes.iter().collect();
    'outer: for (i, x) in nodes_v.iter().enumerate() {
        for y in &nodes_v[i + 1..] {
            let orders: BTreeSet<std::cmp::Ordering> = pools
                .iter()
                .filter(|p| p.min_active > 0)
                .filter_map(|p| Some(best(p, x)?.cmp(&best(p, y)?)))
                .collect();
            if orders.len() > 1 {
                out.push(format!(
                    "equal priority orders: {x} and {y} are ranked differently in the group's pools; give each node the same `priority_group` in every pool"
                ));
                break 'outer;
            }
        }
    }
}

/// Priority groups on, one node per group, and one activation threshold.
fn fix_activation(pools: &[&Pool], out: &mut Vec<String>) {
    for p in pools {
        if p.min_active == 0 && pool_nodes(p).len() > 1 {
            out.push(format!(
                "pool `{}` has `min_active_members = 0` (priority groups off), so every available member takes traffic: set `min_active_members = 1`",
                p.name
            ));
        } else if p.min_active > 1 {
            out.push(format!(
                "pool `{}` has `min_active_members = {}`, so that many members serve at once: set `min_active_members = 1`",
                p.name, p.min_active
            ));
        } else if p.min_active == 1 {
            let top = p.members.iter().map(|m| m.priority_group).max();
            let mut groups: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
            for m in &p.members {
                groups.entry(m.priority_group).or_default().insert(&m.node);
            }
            if let Some((g, ns)) = groups.iter().find(|(_, ns)| ns.len() > 1) {
                out.push(format!(
                    "pool `{}` has {} in the same priority group {g}{}, so they share its traffic: give each node its own priority group",
                    p.name,
                    ns.iter().copied().collect::<Vec<_>>().join(" and "),
                    if Some(*g) == top { "" } else { " (when it is activated)" }
                ));
            }
        }
    }
    let thresholds: BTreeSet<u32> = pools.iter().map(|p| p.min_active).collect();
    if thresholds.len() > 1 {
        out.push(format!(
            "a single activation threshold: the group's pools use `min_active_members` {}; use 1 on each",
            thresholds.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(node: &str, pg: u32, check: &str) -> Member {
        Member {
            node: node.into(),
            priority_group: pg,
            checks: vec![check.into()],
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
        assert_eq!(serving(&p, &down(&[("sp3", "http")])), vec!["sp2"]);
    }

    #[test]
    fn threshold_above_group_size_activates_lower_groups_cumulatively() {
        let p = pool("p", 2, vec![m("a", 3, "h"), m("b", 2, "h"), m("c", 1, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
        assert_eq!(serving(&p, &down(&[("b", "h")])), vec!["a", "c"]);
        // Threshold above the number of members: every group is active, all up members serve.
        let p = pool("p", 5, vec![m("a", 3, "h"), m("b", 2, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
    }

    #[test]
    fn reference_guide_example() {
        // BIG-IP Reference Guide: groups 3, 2, 1 with min_active 2. Group 3 alone while two of its
        // members are up; group 2 joins when fewer are; group 1 only when 3 and 2 together have
        // fewer than two available.
        let p = pool(
            "p",
            2,
            vec![
                m("a3", 3, "h"),
                m("b3", 3, "h"),
                m("a2", 2, "h"),
                m("b2", 2, "h"),
                m("a1", 1, "h"),
            ],
        );
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a3", "b3"]);
        assert_eq!(serving(&p, &down(&[("a3", "h")])), vec!["a2", "b2", "b3"]);
        assert_eq!(
            serving(&p, &down(&[("a3", "h"), ("b3", "h"), ("a2", "h")])),
            vec!["a1", "b2"]
        );
    }

    #[test]
    fn all_down_and_no_monitor() {
        let p = pool("p", 1, vec![m("a", 2, "h"), m("b", 1, "h")]);
        assert!(serving(&p, &down(&[("a", "h"), ("b", "h")])).is_empty());
        // Without a monitor a member is never marked down.
        let p = pool(
            "p",
            1,
            vec![Member {
                node: "a".into(),
                priority_group: 1,
                checks: vec![],
            }],
        );
        assert_eq!(serving(&p, &down(&[("a", "h")])), vec!["a"]);
    }

    #[test]
    fn equal_groups_spread() {
        let p = pool("p", 1, vec![m("a", 1, "h"), m("b", 1, "h")]);
        assert_eq!(serving(&p, &Scenario::all_up()), vec!["a", "b"]);
    }

    #[test]
    fn every_monitor_must_pass() {
        let p = pool(
            "p",
            1,
            vec![
                Member {
                    node: "a".into(),
                    priority_group: 2,
                    checks: vec!["http:80".into(), "tcp:389".into()],
                },
                m("b", 1, "http:80"),
            ],
        );
        assert_eq!(serving(&p, &down(&[("a", "tcp:389")])), vec!["b"]);
        assert_eq!(serving(&p, &down(&[("b", "tcp:389")])), vec!["a"]);
    }

    fn reference_farm(ldap_check: &str) -> Topology {
        Topology {
            pools: vec![
                pool("web", 1, vec![m("sp3", 2, "http"), m("sp2", 1, "http")]),
                pool(
                    "ldap",
                    1,
                    vec![m("sp3", 2, ldap_check), m("sp2", 1, ldap_check)],
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
        let r = check(&reference_farm("http"));
        let g = &r.groups[0];
        assert!(g.exhaustive);
        assert_eq!(g.scenarios_checked, 4);
        assert_eq!(g.total(), 0, "{:?}", g.findings);
    }

    #[test]
    fn separate_ldap_monitor_splits() {
        let t = reference_farm("ldap");
        let r = check(&t);
        let g = &r.groups[0];
        assert_eq!(g.scenarios_checked, 16);
        // sharepoint3 passes http but fails ldap: web → sp3, ldap → sp2.
        let f = g
            .findings
            .iter()
            .find(|f| f.scenario == down(&[("sp3", "ldap")]))
            .expect("the original farm's split");
        assert_eq!(f.kind, FindingKind::Split);
        assert_eq!(
            f.describe(),
            "affinity group `ects` splits across nodes when sp3 up for http, down for ldap: ects → sp3, ldap → sp2, admin → sp3"
        );
        // Exactly these scenarios split: sp3 fails one check and sp2 passes the other.
        let splits: Vec<String> = g
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Split)
            .map(|f| f.scenario.describe())
            .collect();
        assert_eq!(
            splits,
            vec![
                "sp3 down for http",
                "sp3 down for ldap",
                "sp2 down for http; sp3 down for ldap",
                "sp2 down for ldap; sp3 down for http",
            ]
        );
        let fix = fixes(&t, &t.affinities[0]).join("\n");
        assert!(fix.contains("shared monitors"), "{fix}");
    }

    #[test]
    fn partly_served_and_spread() {
        let mut t = reference_farm("http");
        // The admin pool lacks sp2: when sp3 is down, ECTS moves to sp2 and the admin pages die.
        t.pools[2].members.pop();
        let g = check_group(&t, &t.affinities[0]);
        assert_eq!(g.counts.get(&FindingKind::Unserved), Some(&1));
        let fix = fixes(&t, &t.affinities[0]).join("\n");
        assert!(fix.contains("pool `admin` has no member on sp2"), "{fix}");
        // Activation off: both nodes take web traffic.
        let mut t = reference_farm("http");
        t.pools[0].min_active = 0;
        let g = check_group(&t, &t.affinities[0]);
        assert_eq!(g.counts.get(&FindingKind::Spread), Some(&1));
        assert!(
            fixes(&t, &t.affinities[0])
                .iter()
                .any(|f| f.contains("min_active_members = 0"))
        );
        // Different priority orders.
        let mut t = reference_farm("http");
        t.pools[1].members[0].priority_group = 0;
        let g = check_group(&t, &t.affinities[0]);
        assert!(g.counts.get(&FindingKind::Split).copied().unwrap_or(0) > 0);
        assert!(
            fixes(&t, &t.affinities[0])
                .iter()
                .any(|f| f.contains("equal priority orders"))
        );
    }

    #[test]
    fn table_lists_changing_scenarios_only() {
        let tb = table(&reference_farm("http"));
        assert_eq!(tb.header, vec!["ects", "ldap", "admin", "group ects"]);
        assert_eq!(tb.rows[0].0, "all up");
        assert_eq!(tb.rows[0].1, vec!["sp3", "sp3", "sp3", "together on sp3"]);
        assert_eq!(tb.rows.len(), 3, "{:?}", tb.rows); // all up, sp3 down, both down
        assert_eq!(tb.rows[2].1, vec!["—", "—", "—", "—"]);
        assert!(tb.exhaustive);
    }

    #[test]
    fn large_topologies_are_bounded() {
        let members: Vec<Member> = (0..30).map(|i| m(&format!("n{i:02}"), 1, "h")).collect();
        let t = Topology {
            pools: vec![pool("p", 1, members)],
            targets: vec![Target {
                label: "t".into(),
                pool: "p".into(),
            }],
            affinities: vec![Affinity {
                name: "g".into(),
                targets: vec!["t".into()],
            }],
        };
        let (s, exhaustive) = scenarios(&t);
        assert!(!exhaustive);
        assert_eq!(s.len(), 1 + 30 + 435 + 4060);
        let g = check_group(&t, &t.affinities[0]);
        assert!(!g.exhaustive);
        assert_eq!(g.scenarios_checked, s.len());
        let tb = table(&t);
        assert!(!tb.exhaustive);
        assert_eq!(tb.scenarios, 31);
    }

    #[test]
    fn groups_are_checked_over_their_own_checks_only() {
        let mut t = reference_farm("http");
        // 30 unrelated pools do not make the group's check bounded.
        for i in 0..30 {
            t.pools
                .push(pool(&format!("x{i}"), 1, vec![m(&format!("x{i}"), 1, "h")]));
        }
        let g = check_group(&t, &t.affinities[0]);
        assert!(g.exhaustive);
        assert_eq!(g.variables.len(), 2);
    }

    /// One pool of `n` members, one target; `distinct` gives each member its own priority group
    /// (then no two are interchangeable).
    fn one_pool(n: usize, min_active: u32, distinct: bool) -> Topology {
        let members = (0..n)
            .map(|i| {
                m(
                    &format!("web{i}"),
                    if distinct { i as u32 + 1 } else { 1 },
                    "http",
                )
            })
            .collect();
        Topology {
            pools: vec![pool("p", min_active, members)],
            targets: vec![Target {
                label: "vs".into(),
                pool: "p".into(),
            }],
            affinities: Vec::new(),
        }
    }

    #[test]
    fn equal_members_give_rows_that_grow_with_n_not_2_to_the_n() {
        for n in 1..=8usize {
            let tb = table(&one_pool(n, 0, false));
            assert!(tb.exhaustive);
            assert_eq!(tb.scenarios, 1 << n, "every combination is still evaluated");
            // 0..=n members down: n + 1 patterns.
            assert_eq!(tb.rows.len(), n + 1, "n = {n}: {:?}", tb.rows);
            assert_eq!(tb.grouped, n > 1);
            for (k, (label, cells)) in tb.rows.iter().enumerate() {
                // The row of k members down names the members it stands for, unless it stands
                // for one scenario only (none or all down).
                if n > 1 && k > 0 && k < n {
                    let names: Vec<String> = (0..n).map(|i| format!("web{i}")).collect();
                    assert!(
                        label.ends_with(&format!("(stands for any {k} of {})", names.join(", "))),
                        "{label}"
                    );
                    assert_eq!(cells[0].matches(" + ").count() + 1, n - k, "{cells:?}");
                } else {
                    assert!(!label.contains("stands for"), "{label}");
                }
            }
        }
        // With priority-group activation (min 1) the rows are the same patterns.
        assert_eq!(table(&one_pool(6, 1, false)).rows.len(), 7);
    }

    #[test]
    fn control_members_that_differ_are_not_grouped() {
        // Each member in its own priority group, activation off: every subset of members up is
        // an outcome of its own, 2^n rows (what the table showed for equal members before).
        for n in 1..=6usize {
            let tb = table(&one_pool(n, 0, true));
            assert_eq!(tb.rows.len(), 1 << n, "n = {n}");
            assert!(!tb.grouped);
            assert!(tb.rows.iter().all(|(l, _)| !l.contains("stands for")));
        }
    }

    #[test]
    fn grouped_rows_stand_for_every_outcome_of_the_full_enumeration() {
        // Two equal members in one pool and three in another (the same nodes in both pools: the
        // class is the nodes that match in every pool), two checks each: every outcome of every
        // combination is a grouped row with the members renamed.
        let mk = |node: &str| Member {
            node: node.into(),
            priority_group: 1,
            checks: vec!["http".into(), "ldap".into()],
        };
        let t = Topology {
            pools: vec![
                pool("a", 1, vec![mk("n1"), mk("n2"), mk("n3")]),
                pool("b", 0, vec![mk("n1"), mk("n2"), mk("n3")]),
            ],
            targets: vec![
                Target {
                    label: "a".into(),
                    pool: "a".into(),
                },
                Target {
                    label: "b".into(),
                    pool: "b".into(),
                },
            ],
            affinities: Vec::new(),
        };
        let tb = table(&t);
        let grouped: BTreeSet<Vec<String>> = tb.rows.iter().map(|r| r.1.clone()).collect();
        // Every permutation of the three names applied to the grouped rows.
        let perms = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        let rename = |cell: &str, p: &[usize; 3]| -> String {
            if cell == "—" {
                return cell.into();
            }
            let mut names: Vec<String> = cell
                .split(" + ")
                .map(|n| {
                    let i: usize = n[1..].parse::<usize>().unwrap() - 1;
                    format!("n{}", p[i] + 1)
                })
                .collect();
            names.sort();
            names.join(" + ")
        };
        let closure: BTreeSet<Vec<String>> = grouped
            .iter()
            .flat_map(|row| {
                perms
                    .iter()
                    .map(move |p| row.iter().map(|c| rename(c, p)).collect())
            })
            .collect();
        let vars = variables(&t);
        let (all, _) = scenarios(&t);
        assert_eq!(all.len(), 1 << vars.len());
        let full: BTreeSet<Vec<String>> = all
            .iter()
            .map(|s| {
                t.pools
                    .iter()
                    .map(|p| {
                        let n = serving(p, s);
                        if n.is_empty() {
                            "—".to_string()
                        } else {
                            n.join(" + ")
                        }
                    })
                    .collect()
            })
            .collect();
        assert_eq!(closure, full);
        assert!(tb.rows.len() < full.len());
    }
}
