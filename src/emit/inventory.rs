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
use crate::model::Farm;
use crate::plan::{Emitted, Plan};

pub const PATH: &str = "inventory.json";
/// Version of the file's shape; `check::retired_items` reads this version and version 1 (hosts
/// with their items), which older bundles have.
pub const VERSION: u32 = 2;

pub use crate::plan::inventory::Item;

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
    /// The items of an older bundle this bundle's GPO deletes (Delete preference items): the
    /// next build keeps deleting them (`check::previous_items`) until `build --drop-retired`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    retiring: Vec<ItemHosts>,
}

/// Adds `inventory.json`.
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let items = crate::plan::inventory::items(plan)?;
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
        retiring: retiring_items(plan),
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

/// What the GPO deletes, as items with their hosts (by the names the older bundle used).
fn retiring_items(plan: &Plan) -> Vec<ItemHosts> {
    let mut by_item: BTreeMap<Item, Vec<String>> = BTreeMap::new();
    for r in plan.gpo.iter().flat_map(|g| &g.retiring) {
        let item = Item {
            kind: r.kind.clone(),
            name: r.name.clone(),
            remove: r.remove.clone(),
        };
        by_item.entry(item).or_default().push(r.host.clone());
    }
    by_item
        .into_iter()
        .map(|(item, mut hosts)| {
            hosts.sort();
            hosts.dedup();
            ItemHosts { item, hosts }
        })
        .collect()
}
