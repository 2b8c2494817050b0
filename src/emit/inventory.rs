//! `inventory.json`: per server, every scheduled task, registry value and other item the bundle
//! puts there, with the command that removes it. `sitebundle diff` compares the inventory of an
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
use crate::plan::Plan;

pub const PATH: &str = "inventory.json";
/// Version of the file's shape; `check::retired_items` reads this version.
pub const VERSION: u32 = 1;

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

/// The items of one server. A list of these rather than an object keyed by server name: the
/// names stay JSON string values (a reader never meets a site's value as a key).
#[derive(Serialize)]
struct HostItems {
    server: String,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Inventory<'a> {
    inventory_version: u32,
    site: &'a str,
    hosts: Vec<HostItems>,
    /// The items of an older bundle this bundle's GPO deletes (Delete preference items): the
    /// next build keeps deleting them (check::previous_items) until `build --drop-retired`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    retiring: Vec<HostItems>,
}

/// Adds `inventory.json`.
pub fn emit(site: &Farm, plan: &mut Plan) -> Result<(), crate::Error> {
    let hosts = host_items(site, plan)?
        .into_iter()
        .map(|(server, items)| HostItems { server, items })
        .collect();
    let mut retiring: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for r in &plan.retiring {
        push(
            &mut retiring,
            &r.host,
            Item {
                kind: r.kind.clone(),
                name: r.name.clone(),
                remove: r.remove.clone(),
            },
        );
    }
    let text = serde_json::to_string_pretty(&Inventory {
        inventory_version: VERSION,
        site: &site.name,
        hosts,
        retiring: retiring
            .into_iter()
            .map(|(server, mut items)| {
                items.sort();
                items.dedup();
                HostItems { server, items }
            })
            .collect(),
    })
    .map_err(|e| crate::Error::Internal(format!("inventory: {e}")))?;
    plan.files.add(
        PATH,
        Artifact::text(ArtifactKind::Inventory, Encoding::Utf8, Eol::Lf, &(text + "\n")).deploy(
            Deploy::ReviewOnly {
                why: "what the bundle puts on each server; `sitebundle diff` reads it to list retired items".into(),
            },
        ),
    )
}

/// Every item the plan puts on each server (sorted, by server name).
pub fn host_items(site: &Farm, plan: &Plan) -> Result<BTreeMap<String, Vec<Item>>, crate::Error> {
    let mut hosts: BTreeMap<String, Vec<Item>> = site
        .servers
        .iter()
        .map(|s| (s.name.clone(), Vec::new()))
        .collect();
    let quote =
        |s: &str| win_arg(s).map_err(|e| crate::Error::Internal(format!("inventory: {s:?}: {e}")));
    for t in &plan.tasks {
        let item = Item {
            kind: "task".into(),
            name: t.name.clone(),
            remove: format!("schtasks /Delete /TN {} /F", quote(&t.name)?),
        };
        for &h in &t.hosts {
            push(&mut hosts, &site.server(h).name, item.clone());
        }
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
        for &h in &v.hosts {
            push(&mut hosts, &site.server(h).name, item.clone());
        }
    }
    for extra in &plan.host_items {
        for &h in &extra.hosts {
            push(
                &mut hosts,
                &site.server(h).name,
                Item {
                    kind: extra.kind.clone(),
                    name: extra.name.clone(),
                    remove: extra.remove.clone(),
                },
            );
        }
    }
    for items in hosts.values_mut() {
        items.sort();
        items.dedup();
    }
    Ok(hosts)
}

fn push(hosts: &mut BTreeMap<String, Vec<Item>>, host: &str, item: Item) {
    hosts.entry(host.to_string()).or_default().push(item);
}
