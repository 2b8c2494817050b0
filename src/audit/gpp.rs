//! A GPMC backup (`Backup-GPO -Path DIR` writes `DIR\{backup id}\` with `bkupInfo.xml`,
//! `Backup.xml` and `DomainSysvol\GPO\Machine\Preferences\<Kind>\<Kind>.xml`; layout as in
//! LoicVeirman/HardenAD's GPO backups and the GPMC backup schema, see
//! /work/shared/research/windows_formats.md) and the Group Policy Preferences XML it holds
//! ([MS-GPPREF] 2.2.1: `Files`, `RegistrySettings`, `ScheduledTasks`, `NTServices`, items with
//! `name`, `uid` and a `Properties` element; `Collection` elements group items).
//!
//! Each item becomes a [`Found`] named by its `name` and `uid` (Import-GPO keeps both), whose
//! fields are the item's and its `Properties`' attributes and every element below them
//! (`Properties/Task/Triggers/CalendarTrigger/StartBoundary`), by path. `changed` (the time of the
//! last edit) is left out.

use std::path::Path;

use roxmltree::{Document, Node};

use super::compare::Found;
use super::input::{self, Input, ParseError};

/// The backup of the GPO named `gpo_name` in `dir` (the newest when there are several), as
/// (folder shown in the report, items). `None` when there is none.
pub fn read_backup(
    dir: &Path,
    shown: &str,
    gpo_name: &str,
) -> Result<Option<(String, Vec<Found>)>, ParseError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut candidates: Vec<(String, String)> = Vec::new();
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("bkupInfo.xml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let file = format!("{shown}/{name}/bkupInfo.xml");
        let info = input::read(&dir.join(&name).join("bkupInfo.xml"), &file)?;
        let doc = parse_xml(&info)?;
        let text = |tag: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == tag)
                .and_then(|n| n.text())
                .unwrap_or("")
                .trim()
                .to_string()
        };
        if text("GPODisplayName") == gpo_name {
            candidates.push((text("BackupTime"), name));
        }
    }
    candidates.sort();
    let Some((_, folder)) = candidates.pop() else {
        return Ok(None);
    };
    let prefs = dir
        .join(&folder)
        .join("DomainSysvol/GPO/Machine/Preferences");
    let mut found = Vec::new();
    for kind in ["Files", "Registry", "ScheduledTasks", "Services"] {
        let path = prefs.join(kind).join(format!("{kind}.xml"));
        if path.is_file() {
            let file =
                format!("{shown}/{folder}/DomainSysvol/GPO/Machine/Preferences/{kind}/{kind}.xml");
            found.extend(items(&input::read(&path, &file)?)?);
        }
    }
    Ok(Some((format!("{shown}/{folder}"), found)))
}

fn parse_xml(input: &Input) -> Result<Document<'_>, ParseError> {
    Document::parse(&input.text).map_err(|e| {
        let pos = e.pos();
        let at = input::line_offsets(&input.text)
            .get(pos.row.saturating_sub(1) as usize)
            .map(|o| {
                (o + pos.col.saturating_sub(1) as usize).min(input.text.len().saturating_sub(1))
            });
        ParseError::new(
            input,
            at,
            format!("not well-formed XML: {e}"),
            "back up the GPO again (Backup-GPO) and copy the folder whole",
        )
    })
}

/// Every preference item of one Preferences XML file.
pub fn items(input: &Input) -> Result<Vec<Found>, ParseError> {
    let doc = parse_xml(input)?;
    let mut out = Vec::new();
    collect(doc.root_element(), &mut out);
    Ok(out)
}

fn collect(parent: Node, out: &mut Vec<Found>) {
    for item in parent.children().filter(Node::is_element) {
        if item.tag_name().name() == "Collection" {
            collect(item, out);
            continue;
        }
        let name = item.attribute("name").unwrap_or("");
        let uid = item.attribute("uid").unwrap_or("");
        let mut found = Found::new(
            &format!("gpp {}", item.tag_name().name()),
            format!("{name} {uid}"),
        );
        for a in item.attributes() {
            if !matches!(a.name(), "changed" | "uid" | "name") {
                found
                    .fields
                    .insert(format!("@{}", a.name()), a.value().to_string());
            }
        }
        for child in item.children().filter(Node::is_element) {
            flatten(child, child.tag_name().name().to_string(), &mut found);
        }
        out.push(found);
    }
}

fn flatten(node: Node, path: String, found: &mut Found) {
    for a in node.attributes() {
        found
            .fields
            .insert(format!("{path}@{}", a.name()), a.value().to_string());
    }
    let mut seen: Vec<String> = Vec::new();
    for child in node.children().filter(Node::is_element) {
        let tag = child.tag_name().name().to_string();
        let n = seen.iter().filter(|t| **t == tag).count();
        seen.push(tag.clone());
        let sub = if n == 0 {
            format!("{path}/{tag}")
        } else {
            format!("{path}/{tag}[{}]", n + 1)
        };
        flatten(child, sub, found);
    }
    if node.children().all(|c| !c.is_element()) {
        if let Some(t) = node.text() {
            if !t.trim().is_empty() {
                found.fields.insert(path, t.trim().to_string());
            }
        }
    }
}
