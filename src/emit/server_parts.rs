//! "On each server" of a large site, in parts: each item of the per-server views (a role, a
//! prerequisite, a file, a task, a registry value, a service, a verify or acting command) is shown
//! once, in the part of exactly the groups of servers that get it. A server's whole view is the
//! union of its parts, which the part index lists; `sitebundle plan --server NAME` prints it whole.
//!
//! Each group (servers whose views are equal but for the name: `super::runbook::groups`) is one
//! view; an item's part is the set of groups whose views hold it, so parts are disjoint, and each
//! group's parts hold exactly its items, each once.

use std::collections::HashMap;

use serde::Serialize;

use crate::plan::ServerPlan;

/// The key of each item of a view (its kind and its JSON), in the order of the view: roles,
/// prerequisites, files, tasks, registry values, services, verify and acting commands.
fn item_keys(view: &ServerPlan) -> Result<Vec<String>, crate::Error> {
    fn keys<T: Serialize>(
        kind: &str,
        items: &[T],
        out: &mut Vec<String>,
    ) -> Result<(), crate::Error> {
        for item in items {
            let json = serde_json::to_string(item)
                .map_err(|e| crate::Error::internal(format!("an item of a server's view: {e}")))?;
            out.push(format!("{kind}\u{0}{json}"));
        }
        Ok(())
    }
    let mut out = Vec::new();
    keys("role", &view.roles, &mut out)?;
    keys("prerequisite", &view.prerequisites, &mut out)?;
    keys("file", &view.files, &mut out)?;
    keys("task", &view.tasks, &mut out)?;
    keys("registry", &view.registry, &mut out)?;
    keys("service", &view.services, &mut out)?;
    keys("verify", &view.verify, &mut out)?;
    keys("destructive", &view.destructive, &mut out)?;
    Ok(out)
}

/// One part: the groups (indexes into the site's groups, ascending) that share its items, and
/// the view of its items (the first group's view, kept to the part's items, in their order).
pub struct Part {
    pub groups: Vec<usize>,
    pub view: ServerPlan,
}

/// The parts of the groups' views (`views[g]` is group `g`'s view), in the order in which their
/// first item appears going through the groups in order; and for each group, its parts in order.
pub fn parts(views: &[ServerPlan]) -> Result<(Vec<Part>, Vec<Vec<usize>>), crate::Error> {
    let keys: Vec<Vec<String>> = views.iter().map(item_keys).collect::<Result<_, _>>()?;
    // Which groups hold each item.
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (g, ks) in keys.iter().enumerate() {
        for k in ks {
            let h = holders.entry(k.as_str()).or_default();
            if h.last() != Some(&g) {
                h.push(g);
            }
        }
    }
    // One part per distinct set of holders, numbered in order of first appearance.
    let mut part_of_set: HashMap<&[usize], usize> = HashMap::new();
    let mut sets: Vec<&[usize]> = Vec::new();
    let mut of_group: Vec<Vec<usize>> = vec![Vec::new(); views.len()];
    for (g, ks) in keys.iter().enumerate() {
        for k in ks {
            let set = holders[k.as_str()].as_slice();
            let p = *part_of_set.entry(set).or_insert_with(|| {
                sets.push(set);
                sets.len() - 1
            });
            if !of_group[g].contains(&p) {
                of_group[g].push(p);
            }
        }
    }
    let parts = sets
        .iter()
        .enumerate()
        .map(|(p, set)| {
            let first = set[0];
            let mine = |k: &String| part_of_set[holders[k.as_str()].as_slice()] == p;
            let keep: Vec<bool> = keys[first].iter().map(mine).collect();
            Part {
                groups: set.to_vec(),
                view: kept(&views[first], &keep),
            }
        })
        .collect();
    Ok((parts, of_group))
}

/// `view` with only the items whose flag is set (`keep` in the order of [`item_keys`]).
fn kept(view: &ServerPlan, keep: &[bool]) -> ServerPlan {
    let mut at = 0;
    let mut pick = |len: usize| -> Vec<usize> {
        let idx = (0..len).filter(|i| keep[at + i]).collect();
        at += len;
        idx
    };
    fn take<T: Clone>(items: &[T], idx: Vec<usize>) -> Vec<T> {
        idx.into_iter().map(|i| items[i].clone()).collect()
    }
    let roles = take(&view.roles, pick(view.roles.len()));
    let prerequisites = take(&view.prerequisites, pick(view.prerequisites.len()));
    let files = take(&view.files, pick(view.files.len()));
    let tasks = take(&view.tasks, pick(view.tasks.len()));
    let registry = take(&view.registry, pick(view.registry.len()));
    let services = take(&view.services, pick(view.services.len()));
    let verify = take(&view.verify, pick(view.verify.len()));
    let destructive = take(&view.destructive, pick(view.destructive.len()));
    ServerPlan {
        name: view.name.clone(),
        release: view.release,
        os: view.os,
        address: view.address.clone(),
        fqdn: view.fqdn.clone(),
        roles,
        prerequisites,
        files,
        tasks,
        registry,
        services,
        verify,
        destructive,
    }
}
