//! Interchangeable pool members: nodes that are members of the same pools with the same priority
//! groups and the same monitors. Swapping two of them maps the topology onto itself, so every
//! outcome of a scenario is, with the names swapped, the outcome of the swapped scenario: the
//! table shows one scenario per pattern (which of the class's members fail which checks, up to
//! their names) and says which members it stands for. A pool of N equal members with one check
//! each gives N + 1 patterns (0..N members down) instead of 2^N combinations.

use std::collections::BTreeMap;

/// The classes of interchangeable nodes of some pools, over the variables of an evaluation.
pub(super) struct Classes {
    classes: Vec<Class>,
}

/// Interchangeable nodes (two or more), in name order, each with its variables in the order of
/// its checks' names (the same check names for every node of the class).
struct Class {
    names: Vec<String>,
    vars: Vec<Vec<usize>>,
}

/// A node's place in the topology: for each pool (by index), its memberships as (priority group,
/// checks), sorted.
type Signature = Vec<(usize, u32, Vec<String>)>;

impl Classes {
    /// The classes of `pools`' nodes; `var_of` gives the index of a (node, check) variable.
    pub(super) fn of(
        pools: &[super::Pool],
        var_of: impl Fn(&str, &str) -> Option<usize>,
    ) -> Classes {
        let mut signatures: BTreeMap<&str, Signature> = BTreeMap::new();
        for (p, pool) in pools.iter().enumerate() {
            for m in &pool.members {
                let mut checks = m.checks.clone();
                checks.sort();
                checks.dedup();
                signatures
                    .entry(m.node.as_str())
                    .or_default()
                    .push((p, m.priority_group, checks));
            }
        }
        let mut by_signature: BTreeMap<Signature, Vec<&str>> = BTreeMap::new();
        for (node, mut sig) in signatures {
            sig.sort();
            by_signature.entry(sig).or_default().push(node);
        }
        let classes = by_signature
            .into_iter()
            .filter(|(_, nodes)| nodes.len() > 1)
            .map(|(sig, nodes)| {
                let mut checks: Vec<&String> = sig.iter().flat_map(|s| &s.2).collect();
                checks.sort();
                checks.dedup();
                Class {
                    vars: nodes
                        .iter()
                        .map(|n| checks.iter().filter_map(|c| var_of(n, c)).collect())
                        .collect(),
                    names: nodes.iter().map(|n| n.to_string()).collect(),
                }
            })
            .collect();
        Classes { classes }
    }

    /// Whether any class has two members or more.
    pub(super) fn any(&self) -> bool {
        !self.classes.is_empty()
    }

    /// Whether `down` is the pattern's representative: in each class, the members' failures
    /// (as a number, one bit per check) never grow along the name order, so the first names
    /// carry the failures.
    pub(super) fn is_canonical(&self, down: &[bool]) -> bool {
        self.classes.iter().all(|c| {
            let states: Vec<u64> = c.vars.iter().map(|v| state(v, down)).collect();
            states.windows(2).all(|w| w[0] >= w[1])
        })
    }

    /// What a representative stands for, e.g. "stands for any 2 of web1, web2, web3, web4";
    /// `None` when it stands for itself only.
    pub(super) fn stands_for(&self, down: &[bool]) -> Option<String> {
        let parts: Vec<String> = self
            .classes
            .iter()
            .filter_map(|c| {
                let states: Vec<u64> = c.vars.iter().map(|v| state(v, down)).collect();
                let failing = states.iter().filter(|&&s| s != 0).count();
                // Every member alike (all up, or all failing alike): one scenario only.
                if states.windows(2).all(|w| w[0] == w[1]) {
                    return None;
                }
                let alike = states
                    .iter()
                    .filter(|&&s| s != 0)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
                    == 1;
                let how = if alike { "" } else { ", in any order" };
                Some(format!("any {failing} of {}{how}", c.names.join(", ")))
            })
            .collect();
        (!parts.is_empty()).then(|| format!("stands for {}", parts.join("; ")))
    }
}

/// A member's failures as a number: bit i set when its i-th check fails.
fn state(vars: &[usize], down: &[bool]) -> u64 {
    vars.iter()
        .enumerate()
        .filter(|(_, v)| down[**v])
        .fold(0, |s, (i, _)| s | (1 << i.min(63)))
}
