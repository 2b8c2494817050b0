//! Compares a bundle with a directory: files missing, extra, or changed (with a unified diff).

use std::fs;
use std::path::Path;

use similar::TextDiff;

use crate::bundle::{Bundle, decode_for_display};
use crate::write::list_files;

#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    /// In the bundle, not in the directory.
    Missing(String),
    /// In the directory, not in the bundle.
    Extra(String),
    /// Different bytes; `diff` is a unified diff (old = directory, new = bundle), or a note when the
    /// difference is not shown as text (encoding or line endings only, binary).
    Changed { path: String, diff: String },
}

impl Difference {
    pub fn path(&self) -> &str {
        match self {
            Difference::Missing(p) | Difference::Extra(p) => p,
            Difference::Changed { path, .. } => path,
        }
    }
}

/// Differences between `bundle` and the files under `dir`, sorted by path. A missing `dir` counts as empty.
pub fn compare(bundle: &Bundle, dir: &Path) -> Result<Vec<Difference>, crate::Error> {
    let on_disk = if dir.exists() {
        list_files(dir).map_err(|e| crate::Error::io("read", dir, e))?
    } else {
        Vec::new()
    };
    let mut diffs = Vec::new();
    for (path, art) in &bundle.files {
        let full = dir.join(path);
        match fs::read(&full) {
            Err(_) => diffs.push(Difference::Missing(path.clone())),
            Ok(old) if old == art.bytes => {}
            Ok(old) => diffs.push(Difference::Changed {
                path: path.clone(),
                diff: text_diff(path, &old, &art.bytes),
            }),
        }
    }
    for path in on_disk {
        if !bundle.files.contains_key(&path) {
            diffs.push(Difference::Extra(path));
        }
    }
    diffs.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(diffs)
}

fn text_diff(path: &str, old: &[u8], new: &[u8]) -> String {
    match (decode_for_display(old), decode_for_display(new)) {
        (Some(o), Some(n)) if o == n => {
            "the text is the same; the encoding, byte order mark or line endings differ\n"
                .to_string()
        }
        (Some(o), Some(n)) => TextDiff::from_lines(&o, &n)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
        _ => format!(
            "binary contents differ ({} bytes on disk, {} bytes generated)\n",
            old.len(),
            new.len()
        ),
    }
}

/// An item an older bundle put on a server that the new bundle no longer has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    pub host: String,
    pub kind: String,
    pub name: String,
    /// The command that removes it (from the older bundle's `inventory.json`).
    pub remove: String,
}

/// The items of the older bundle in `dir` (its `inventory.json`) that `bundle` lacks, by host,
/// kind and name; `None` when either side has no inventory (a bundle built before it existed).
pub fn retired_items(bundle: &Bundle, dir: &Path) -> Option<Vec<Retired>> {
    let old = fs::read(dir.join("inventory.json")).ok()?;
    let new = &bundle.files.get("inventory.json")?.bytes;
    let old = inventory_items(&old)?;
    let new = inventory_items(new)?;
    let kept: std::collections::BTreeSet<(&str, &str, &str)> = new
        .iter()
        .map(|r| (r.host.as_str(), r.kind.as_str(), r.name.as_str()))
        .collect();
    Some(
        old.iter()
            .filter(|r| !kept.contains(&(r.host.as_str(), r.kind.as_str(), r.name.as_str())))
            .cloned()
            .collect(),
    )
}

/// What the bundle in `dir` put on the servers: every item of its `inventory.json` and every item
/// its GPO was deleting (`retiring`), which a rebuild keeps deleting; `None` without an inventory.
pub fn previous_items(dir: &Path) -> Option<Vec<Retired>> {
    let bytes = fs::read(dir.join("inventory.json")).ok()?;
    let mut out = inventory_items(&bytes)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(retiring) = v.get("retiring") {
        out.extend(host_list(retiring)?);
    }
    out.sort_by(|a, b| (&a.host, &a.kind, &a.name).cmp(&(&b.host, &b.kind, &b.name)));
    out.dedup_by(|a, b| (&a.host, &a.kind, &a.name) == (&b.host, &b.kind, &b.name));
    Some(out)
}

/// The items of the bundle in `dir` itself (its `inventory.json` without what it was deleting).
pub fn retired_items_of(dir: &Path) -> Option<Vec<Retired>> {
    inventory_items(&fs::read(dir.join("inventory.json")).ok()?)
}

/// Every (host, item) of an `inventory.json`: version 2 (`items` → [{kind, name, remove,
/// hosts}]) or version 1, which older bundles have (`hosts` → [{server, items: [{kind, name,
/// remove}]}]).
fn inventory_items(bytes: &[u8]) -> Option<Vec<Retired>> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    match v.get("inventory_version")?.as_u64()? {
        1 => host_list(v.get("hosts")?),
        2 => item_list(v.get("items")?),
        _ => None,
    }
}

/// A list of items either shape (version 1's hosts with items, version 2's items with hosts), as
/// (host, item) rows: what `retiring` holds.
fn host_list(v: &serde_json::Value) -> Option<Vec<Retired>> {
    let rows = v.as_array()?;
    if rows.first().is_some_and(|r| r.get("hosts").is_some()) {
        return item_list(v);
    }
    let mut out = Vec::new();
    for host_items in rows {
        let host = host_items.get("server")?.as_str()?;
        for it in host_items.get("items")?.as_array()? {
            out.push(retired(host, it)?);
        }
    }
    Some(out)
}

/// `[{kind, name, remove, hosts}]` as (host, item) rows.
fn item_list(v: &serde_json::Value) -> Option<Vec<Retired>> {
    let mut out = Vec::new();
    for it in v.as_array()? {
        for host in it.get("hosts")?.as_array()? {
            out.push(retired(host.as_str()?, it)?);
        }
    }
    Some(out)
}

fn retired(host: &str, it: &serde_json::Value) -> Option<Retired> {
    let field = |k: &str| it.get(k)?.as_str().map(str::to_string);
    Some(Retired {
        host: host.to_string(),
        kind: field("kind")?,
        name: field("name")?,
        remove: field("remove")?,
    })
}

#[cfg(test)]
mod inventory_tests {
    use super::inventory_items;

    /// An older bundle's inventory (version 1, hosts with their items) and a new one (version 2,
    /// items with their hosts) are read into the same (host, item) pairs.
    #[test]
    fn both_inventory_versions_read_alike() {
        let v1 = r#"{"inventory_version": 1, "site": "s", "hosts": [
            {"server": "web1", "items": [{"kind": "task", "name": "T", "remove": "schtasks /Delete /TN \"T\" /F"}]},
            {"server": "web2", "items": [{"kind": "task", "name": "T", "remove": "schtasks /Delete /TN \"T\" /F"}]}]}"#;
        let v2 = r#"{"inventory_version": 2, "site": "s", "items": [
            {"kind": "task", "name": "T", "remove": "schtasks /Delete /TN \"T\" /F", "hosts": ["web1", "web2"]}]}"#;
        let a = inventory_items(v1.as_bytes()).unwrap();
        let b = inventory_items(v2.as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert!(inventory_items(br#"{"inventory_version": 3, "items": []}"#).is_none());
    }
}
