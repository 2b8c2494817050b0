//! `inventory.json`: every scheduled task, registry value and other item the bundle puts on
//! servers, with the command that removes it and the servers that get it (version 2: items with
//! their hosts, so an item of 10,000 identical servers is written once). `sitebundle diff` compares the inventory of an
//! older bundle with the new one and prints the items a rebuild retires ("Retired items"): Group
//! Policy does not remove them, because the preference items are written with removePolicy="0"
//! ([MS-GPPREF] common item attributes: removePolicy "1" removes the setting when the item no
//! longer applies, client side §3.2.5.1.1; sitebundle keeps "0": with "1" GPMC makes the item
//! Replace, which deletes and re-creates a task or value at every refresh, resetting task history
//! and rewriting the SQL alias the switcher owns), and a `.reg` or `schtasks /Create` by hand is
//! never undone by a later bundle either.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::escape::win_arg;
use crate::model::Farm;
use crate::plan::{Emitted, Plan};

pub const PATH: &str = "inventory.json";
/// Version of the file's shape; `check::retired_items` reads this version and version 1 (hosts
/// with their items), which older bundles have.
pub const VERSION: u32 = 2;

/// One item on one server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    /// "task", "registry" or a family's own kind (e.g. "eventtrigger").
    pub kind: String,
    /// What identifies it on the server: the task name, `HKLM\key\value`, the trigger name.
    pub name: String,
    /// The command (or the steps) that remove it from the server.
    pub remove: String,
}

/// One item with the servers that get it, in the site's order. Server names stay JSON string
/// values (a reader never meets a site's value as a key).
#[derive(Serialize)]
struct ItemHosts {
    #[serde(flatten)]
    item: Item,
    hosts: Vec<String>,
}

#[derive(Serialize)]
struct Inventory<'a> {
    inventory_version: u32,
    site: &'a str,
    items: Vec<ItemHosts>,
}

/// Adds `inventory.json`.
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
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
    let items = items
        .into_iter()
        .map(|(item, mut hosts)| {
            hosts.sort_unstable();
            hosts.dedup();
            let hosts = hosts.iter().map(|&h| site.server(h).name.clone()).collect();
            ItemHosts { item, hosts }
        })
        .collect();
    let text = serde_json::to_string_pretty(&Inventory {
        inventory_version: VERSION,
        site: &site.name,
        items,
    })
    .map_err(|e| crate::Error::internal(format!("inventory: {e}")))?;
    let mut out = Emitted::default();
    out.add_file(
        PATH,
        Artifact::text(ArtifactKind::Inventory, Encoding::Utf8, Eol::Lf, &(text + "\n")).deploy(
            Deploy::ReviewOnly {
                why: "what the bundle puts on each server; `sitebundle diff` reads it to list retired items".into(),
            },
        ),
    )?;
    Ok(out)
}
