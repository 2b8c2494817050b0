//! What the plan puts on servers, item by item, with the command that removes each: every
//! scheduled task, registry value and other item a family declares (`HostItem`). The inventory
//! emitter writes it (`inventory.json`); the GPO's Delete items are what an older bundle had and
//! this one lacks ([`super::gpo::retiring`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Plan;
use crate::escape::win_arg;
use crate::model::Farm;

/// One item on servers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    /// "task", "registry" or a family's own kind (e.g. "eventtrigger").
    pub kind: String,
    /// What identifies it on the server: the task name, `HKLM\key\value`, the trigger name.
    pub name: String,
    /// The command (or the steps) that remove it from the server.
    pub remove: String,
}

/// Every item of the plan with the servers that get it (sorted, each server once).
pub fn items(plan: &Plan) -> Result<BTreeMap<Item, Vec<usize>>, crate::Error> {
    let mut items: BTreeMap<Item, Vec<usize>> = BTreeMap::new();
    let quote =
        |s: &str| win_arg(s).map_err(|e| crate::Error::internal(format!("inventory: {s:?}: {e}")));
    for t in &plan.tasks {
        let item = Item {
            kind: "task".into(),
            name: t.name.clone(),
            remove: format!("schtasks /Delete /TN {} /F", quote(&t.name)?),
        };
        items.entry(item).or_default().extend(&t.hosts);
    }
    for v in plan.reg_values() {
        let key = format!("HKLM\\{}", v.key.trim_matches('\\'));
        let value = match v.name.as_str() {
            "" => "/ve".to_string(),
            n => format!("/v {}", quote(n)?),
        };
        let item = Item {
            kind: "registry".into(),
            name: format!("{key}\\{}", v.name),
            remove: format!("reg delete {} {value} /f", quote(&key)?),
        };
        items.entry(item).or_default().extend(&v.hosts);
    }
    for extra in &plan.host_items {
        let item = Item {
            kind: extra.kind.clone(),
            name: extra.name.clone(),
            remove: extra.remove.clone(),
        };
        items.entry(item).or_default().extend(&extra.hosts);
    }
    for hosts in items.values_mut() {
        hosts.sort_unstable();
        hosts.dedup();
    }
    Ok(items)
}

/// Whether the plan puts an item of this kind and name (names without case, as Windows compares
/// task names and registry paths) on the server `host` (by name, without case).
pub fn has(
    site: &Farm,
    items: &BTreeMap<Item, Vec<usize>>,
    host: &str,
    kind: &str,
    name: &str,
) -> bool {
    items.iter().any(|(item, hosts)| {
        item.kind == kind
            && item.name.eq_ignore_ascii_case(name)
            && hosts
                .iter()
                .any(|&h| site.server(h).name.eq_ignore_ascii_case(host))
    })
}
