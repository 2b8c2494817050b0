//! Structural check of the GPO backups in generated bundles (roxmltree over the parsed XML).
//!
//! For every backup folder `BUNDLE/gpo/{ID}` it checks:
//!
//! * bytes: every preference file is UTF-8 without BOM, starts with the utf-8 declaration, CRLF
//!   only;
//! * Backup.xml / bkupInfo.xml: namespaces, the folder name is the backup ID, the GPO IDs and
//!   display names agree, every FSObjectFile exists and every file of the tree is listed, every
//!   FSObjectDir exists and its bkp:Path matches its location;
//! * the machine extension list: a leading {00000000-…} group with the tool GUIDs, then exactly
//!   one [{CSE}{tool}] pair per preference file present, sorted by CSE GUID ([MS-GPOL] 2.2.4);
//! * each preference file: root and item clsids as in [MS-GPPREF] 2.2.1.1.2, never disabled,
//!   every uid a braced upper-case GUID unique in the GPO, `changed` as YYYY-MM-DD HH:MM:SS, the
//!   action (Files R, tasks and registry U), no password-like attribute anywhere, run-as accounts
//!   only SYSTEM / LocalService / NetworkService with logonType S4U, registry items in HKLM with
//!   DWORDs as 8 upper-case hex digits, legacy tasks enabled with an appName and one or more
//!   triggers of one type, each with its start date and time;
//! * item-level targeting: TaskV2 items target exactly 2K8 + 2K8R2, legacy Task items exactly
//!   2K3 + 2K3R2, files and registry values no OS; every item names its computers (FilterComputer),
//!   and they are the expected ones;
//! * XSD (the one part left to Python, `tests/validators/xsd_check.py`, lxml): every <Filters>
//!   against the targeting schema, the Task embedded in each TaskV2 (in the Task Scheduler
//!   namespace) against the Task Scheduler XSD, each legacy Task item against [MS-GPPREF]'s schema
//!   of it (`tests/schemas/gpp-legacy-task.xsd`).
//!
//! `expect` names the items the bundle must hold (exactly those):
//!     {"files": {NAME: {"from": ..., "target": ..., "computers": [...]}},
//!      "tasks_v2": {NAME: {"computers": [...], "run_as": ...}},
//!      "tasks_legacy": {NAME: {"computers": [...], "trigger": "DAILY"|"STARTUP", "repeat": N|null}},
//!      "registry": {"KEY\\NAME": {"type": ..., "value": ..., "computers": [...]}}}
//! Without it only the generic rules are checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use roxmltree::{Document, Node};
use serde_json::{Value, json};

use crate::common;

const BKP_NS: &str = "http://www.microsoft.com/GroupPolicy/GPOOperations";
const MANIFEST_NS: &str = "http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest";
const TASK_NS: &str = "http://schemas.microsoft.com/windows/2004/02/mit/task";
const TARGETING_XSD: &str = "gpp-targeting.xsd";
const TASK_XSD: &str = "task-scheduler.xsd";
const LEGACY_TASK_XSD: &str = "gpp-legacy-task.xsd";
const ZERO: &str = "{00000000-0000-0000-0000-000000000000}";
const DECL: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n";
const RUN_AS_OK: [&str; 3] = [
    "NT AUTHORITY\\System",
    "NT AUTHORITY\\LocalService",
    "NT AUTHORITY\\NetworkService",
];

/// One preference kind: folder, file, root tag, root clsid, (item tag, clsid)s, (CSE, tool), action
/// (`None`: the item has no action attribute, as Services items setting recovery only).
struct Pref {
    folder: &'static str,
    file: &'static str,
    root: &'static str,
    clsid: &'static str,
    items: &'static [(&'static str, &'static str)],
    ext: (&'static str, &'static str),
    action: Option<&'static str>,
}

/// Sorted by folder name, the order the checks run in.
const PREFS: [Pref; 4] = [
    Pref {
        folder: "Files",
        file: "Files.xml",
        root: "Files",
        clsid: "{215B2E53-57CE-475c-80FE-9EEC14635851}",
        items: &[("File", "{50BE44C8-567A-4ed1-B1D0-9234FE1F38AF}")],
        ext: (
            "{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}",
            "{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}",
        ),
        action: Some("R"),
    },
    Pref {
        folder: "Registry",
        file: "Registry.xml",
        root: "RegistrySettings",
        clsid: "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}",
        items: &[("Registry", "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}")],
        ext: (
            "{B087BE9D-ED37-454F-AF9C-04291E351182}",
            "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}",
        ),
        action: Some("U"),
    },
    Pref {
        folder: "ScheduledTasks",
        file: "ScheduledTasks.xml",
        root: "ScheduledTasks",
        clsid: "{CC63F200-7309-4ba0-B154-A71CD118DBCC}",
        items: &[
            ("Task", "{2DEECB1C-261F-4e13-9B21-16FB83BC03BD}"),
            ("TaskV2", "{D8896631-B747-47a7-84A6-C155337F3BC8}"),
        ],
        ext: (
            "{AADCED64-746C-4633-A97C-D61349046527}",
            "{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}",
        ),
        action: Some("U"),
    },
    // [MS-GPPREF] 2.2.1.19 and 1.9 (CSE / tool extension of the Services preference).
    Pref {
        folder: "Services",
        file: "Services.xml",
        root: "NTServices",
        clsid: "{2CFB484A-4E96-4b5d-A0B6-093D2F91E6AE}",
        items: &[("NTService", "{AB6F0B67-341F-4e51-92F9-005FBFBA1A43}")],
        ext: (
            "{91FBB303-0CD5-4055-BF42-E512A681B325}",
            "{CC5746A9-9B74-4BE5-AE2E-64379C86E0E4}",
        ),
        action: None,
    },
];

/// `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` in upper-case hex.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 38
        && b[0] == b'{'
        && b[37] == b'}'
        && b[1..37].iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_digit() || (b'A'..=b'F').contains(&c)
            }
        })
}

/// `[{GUID}{GUID}…][…]…` into its groups, or None when the text is anything else.
fn parse_extensions(text: &str) -> Option<Vec<Vec<String>>> {
    let mut groups = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (inner, after) = rest.strip_prefix('[')?.split_once(']')?;
        if inner.is_empty() || inner.len() % 38 != 0 {
            return None;
        }
        let guids: Vec<String> = (0..inner.len() / 38)
            .map(|i| inner.get(i * 38..i * 38 + 38).unwrap_or("").to_string())
            .collect();
        if !guids.iter().all(|g| is_guid(g)) {
            return None;
        }
        groups.push(guids);
        rest = after;
    }
    Some(groups)
}

fn child<'a, 'i>(n: Node<'a, 'i>, ns: Option<&str>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == ns)
}

/// The text of the element at a path of child names (`findtext`): None when absent, "" when empty.
fn find_text(n: Node, ns: Option<&str>, path: &[&str]) -> Option<String> {
    let mut nodes = vec![n];
    for name in path {
        nodes = nodes
            .iter()
            .flat_map(|n| {
                n.children().filter(|c| {
                    c.is_element() && c.tag_name().name() == *name && c.tag_name().namespace() == ns
                })
            })
            .collect();
    }
    nodes
        .first()
        .map(|n| n.text().unwrap_or_default().to_string())
}

/// An element's name as lxml spells it: `{namespace}local` when namespaced.
fn qname(n: Node) -> String {
    match n.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", n.tag_name().name()),
        None => n.tag_name().name().to_string(),
    }
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |x| json!(x))
}

fn walk_files(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_files(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap();
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            out.insert(parts.join("\\"));
        }
    }
}

/// A fragment for the XSD pass: which schema, what it is (for the message), its XML text.
struct XsdJob {
    backup: usize,
    /// Schema file under tests/schemas.
    schema: &'static str,
    label: String,
    xml: String,
}

/// Checks one backup folder; XSD jobs for the Python pass are pushed onto `jobs`.
fn check_backup(
    root: &Path,
    expect: Option<&Value>,
    idx: usize,
    jobs: &mut Vec<XsdJob>,
) -> Vec<String> {
    let mut errs = Vec::new();
    let name = root.file_name().unwrap().to_string_lossy().to_string();
    if !is_guid(&name) {
        errs.push(format!(
            "backup folder {name} is not a braced upper-case GUID"
        ));
    }
    let read = |f: &str| -> Result<String, String> {
        std::fs::read_to_string(root.join(f)).map_err(|e| format!("{f}: {e}"))
    };
    let (backup_text, info_text) = match (read("Backup.xml"), read("bkupInfo.xml")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return vec![format!("cannot parse the backup manifest: {e}")],
    };
    let (backup, info) = match (Document::parse(&backup_text), Document::parse(&info_text)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return vec![format!("cannot parse the backup manifest: {e}")],
    };
    let (b, m) = (Some(BKP_NS), Some(MANIFEST_NS));
    let broot = backup.root_element();
    let iroot = info.root_element();
    if broot.tag_name().name() != "GroupPolicyBackupScheme" || broot.tag_name().namespace() != b {
        errs.push(
            "Backup.xml root is not GroupPolicyBackupScheme in the GPOOperations namespace".into(),
        );
    }
    if iroot.tag_name().name() != "BackupInst" || iroot.tag_name().namespace() != m {
        errs.push("bkupInfo.xml root is not BackupInst in the Manifest namespace".into());
    }
    let backup_id = find_text(iroot, m, &["ID"]);
    if backup_id.as_deref() != Some(name.as_str()) {
        errs.push(format!(
            "bkupInfo ID {backup_id:?} differs from the folder name {name}"
        ));
    }
    let core = ["GroupPolicyObject", "GroupPolicyCoreSettings"];
    let gpo_id = find_text(broot, b, &[core[0], core[1], "ID"]);
    if !gpo_id
        .as_deref()
        .is_some_and(|g| !g.is_empty() && is_guid(g))
        || gpo_id != find_text(iroot, m, &["GPOGuid"])
    {
        errs.push(format!(
            "GPO ID {gpo_id:?} missing, malformed or different in bkupInfo.xml"
        ));
    }
    let display = find_text(broot, b, &[core[0], core[1], "DisplayName"]);
    if display.as_deref().is_none_or(str::is_empty)
        || display != find_text(iroot, m, &["GPODisplayName"])
    {
        errs.push("DisplayName missing or different in bkupInfo.xml".into());
    }

    // Files on disk vs. the FSObjectFile list.
    let sysvol = root.join("DomainSysvol");
    let mut on_disk = BTreeSet::new();
    walk_files(root, &sysvol, &mut on_disk);
    let of_kind = |tag: &'static str| {
        broot.descendants().filter(move |e| {
            e.is_element() && e.tag_name().name() == tag && e.tag_name().namespace() == b
        })
    };
    let listed: BTreeSet<String> = of_kind("FSObjectFile")
        .map(|e| {
            e.attribute((BKP_NS, "Location"))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    if listed != on_disk {
        errs.push(format!(
            "Backup.xml lists {listed:?} but the tree holds {on_disk:?}"
        ));
    }
    for e in of_kind("FSObjectDir") {
        let loc = e.attribute((BKP_NS, "Location")).unwrap_or_default();
        let dir: PathBuf = loc.split('\\').fold(root.to_path_buf(), |p, c| p.join(c));
        if !dir.is_dir() {
            errs.push(format!("FSObjectDir {loc} does not exist"));
        }
        let want = loc
            .splitn(4, '\\')
            .nth(3)
            .map(|t| format!("%GPO_MACH_FSPATH%\\{t}"));
        if want.is_none() || e.attribute((BKP_NS, "Path")) != want.as_deref() {
            errs.push(format!(
                "FSObjectDir {loc}: bkp:Path does not match its location"
            ));
        }
    }

    let prefs_dir = sysvol.join("GPO/Machine/Preferences");
    let present: Vec<&Pref> = PREFS
        .iter()
        .filter(|p| prefs_dir.join(p.folder).join(p.file).is_file())
        .collect();
    let ext = find_text(broot, b, &[core[0], core[1], "MachineExtensionGuids"]).unwrap_or_default();
    let groups = parse_extensions(&ext).unwrap_or_else(|| {
        errs.push(format!(
            "MachineExtensionGuids is not a list of [{{GUID}}…] groups: {ext:?}"
        ));
        vec![]
    });
    let mut want_pairs: Vec<(&str, &str)> = present.iter().map(|p| p.ext).collect();
    want_pairs.sort();
    let want: Vec<Vec<String>> = if want_pairs.is_empty() {
        vec![]
    } else {
        let tools: BTreeSet<&str> = want_pairs.iter().map(|p| p.1).collect();
        let mut first = vec![ZERO.to_string()];
        first.extend(tools.iter().map(|t| t.to_string()));
        std::iter::once(first)
            .chain(
                want_pairs
                    .iter()
                    .map(|(c, t)| vec![c.to_string(), t.to_string()]),
            )
            .collect()
    };
    if groups != want {
        let shown: String = want.iter().map(|g| format!("[{}]", g.concat())).collect();
        errs.push(format!("MachineExtensionGuids {ext:?}; expected {shown:?}"));
    }
    let cses: Vec<String> = groups.iter().skip(1).map(|g| g[0].clone()).collect();
    let mut sorted = cses.clone();
    sorted.sort_by_key(|c| c.to_uppercase());
    if cses != sorted || cses.iter().collect::<BTreeSet<_>>().len() != cses.len() {
        errs.push("extension pairs are not sorted by CSE GUID without duplicates".into());
    }

    let mut uids: BTreeMap<String, String> = BTreeMap::new();
    let mut register_files: Vec<(String, String, String)> = Vec::new();
    let mut seen: BTreeMap<&str, BTreeMap<String, Value>> = [
        "files",
        "tasks_v2",
        "tasks_legacy",
        "registry",
        "services",
        "deletes",
    ]
    .into_iter()
    .map(|k| (k, BTreeMap::new()))
    .collect();
    for pref in present {
        let where_ = format!("{}/{}", pref.folder, pref.file);
        let raw = std::fs::read(prefs_dir.join(pref.folder).join(pref.file)).unwrap();
        if !raw.starts_with(DECL) {
            errs.push(format!(
                "{where_}: does not start with the utf-8 declaration and CRLF (or has a BOM)"
            ));
        }
        let count = |pat: &[u8]| raw.windows(pat.len()).filter(|w| *w == pat).count();
        let crlf = count(b"\r\n");
        if count(b"\n") != crlf || count(b"\r") != crlf || !raw.ends_with(b"\r\n") {
            errs.push(format!("{where_}: line endings are not CRLF throughout"));
        }
        let text = match std::str::from_utf8(&raw) {
            Ok(t) => t,
            Err(e) => {
                errs.push(format!("{where_}: not well-formed: not UTF-8: {e}"));
                continue;
            }
        };
        let doc = match Document::parse(text) {
            Ok(d) => d,
            Err(e) => {
                errs.push(format!("{where_}: not well-formed: {e}"));
                continue;
            }
        };
        let top = doc.root_element();
        if qname(top) != pref.root || top.attribute("clsid") != Some(pref.clsid) {
            errs.push(format!(
                "{where_}: root {} clsid {:?} (expected {} {})",
                qname(top),
                top.attribute("clsid"),
                pref.root,
                pref.clsid
            ));
        }
        if !matches!(top.attribute("disabled"), None | Some("0")) {
            errs.push(format!("{where_}: the whole file is disabled"));
        }
        for el in top.descendants().filter(|n| n.is_element()) {
            for a in el.attributes() {
                let an = match a.namespace() {
                    Some(ns) => format!("{{{ns}}}{}", a.name()),
                    None => a.name().to_string(),
                };
                if an.to_lowercase().contains("password") {
                    errs.push(format!(
                        "{where_}: password attribute {an} on <{}>",
                        qname(el)
                    ));
                }
            }
        }
        for item in top.children().filter(|n| n.is_element()) {
            let tag = qname(item);
            let Some(&(_, clsid)) = pref.items.iter().find(|(t, _)| *t == tag) else {
                errs.push(format!("{where_}: unexpected item <{tag}>"));
                continue;
            };
            let nm = item.attribute("name");
            if item.attribute("clsid") != Some(clsid) {
                errs.push(format!(
                    "{where_}: <{tag} name={nm:?}> clsid {:?}",
                    item.attribute("clsid")
                ));
            }
            let uid = item.attribute("uid").unwrap_or_default().to_string();
            if !is_guid(&uid) {
                errs.push(format!(
                    "{where_}: uid {uid:?} is not a braced upper-case GUID"
                ));
            }
            if let Some(other) = uids.get(&uid) {
                errs.push(format!("{where_}: uid {uid} also used by {other}"));
            }
            uids.insert(uid, format!("{where_}:{}", nm.unwrap_or("None")));
            let changed = item.attribute("changed").unwrap_or_default();
            if !changed_ok(changed) {
                errs.push(format!(
                    "{where_}: changed {:?} is not YYYY-MM-DD HH:MM:SS",
                    item.attribute("changed")
                ));
            }
            let nm_s = nm.unwrap_or_default().to_string();
            if !matches!(item.attribute("disabled"), None | Some("0")) {
                errs.push(format!("{where_}: item {nm_s} is disabled"));
            }
            let Some(props) = child(item, None, "Properties") else {
                errs.push(format!("{where_}: item {nm_s} has no Properties"));
                continue;
            };
            let p = |a: &str| props.attribute(a);
            // A registry value applied once is created, never updated (issue 27): C with a
            // FilterRunOnce, checked below.
            let once_create = tag == "Registry" && p("action") == Some("C");
            // A Delete item for what an older bundle put on its servers (issue 27), checked below.
            let delete =
                matches!(tag.as_str(), "Registry" | "TaskV2" | "Task") && p("action") == Some("D");
            if p("action") != pref.action && !once_create && !delete {
                errs.push(format!(
                    "{where_}: item {nm_s} action {:?}, expected {:?}",
                    p("action"),
                    pref.action
                ));
            }
            let flt = child(item, None, "Filters");
            let (mut os_versions, mut computers) = (Vec::new(), Vec::new());
            let mut run_once = false;
            if let Some(f) = flt {
                for e in f.descendants().filter(|e| e.is_element()) {
                    match qname(e).as_str() {
                        "FilterOs" => os_versions.push(e.attribute("version")),
                        "FilterComputer" => computers.push(e.attribute("name")),
                        "FilterRunOnce" => {
                            // [MS-GPPREF] 2.2.1.22: a GUID id, hidden as GPMC writes it, not negated.
                            let id_ok = e.attribute("id").is_some_and(is_guid);
                            if !id_ok
                                || e.attribute("hidden") != Some("1")
                                || e.attribute("not") != Some("0")
                            {
                                errs.push(format!(
                                    "{where_}: item {nm_s} has a malformed FilterRunOnce"
                                ));
                            }
                            run_once = true;
                        }
                        _ => {}
                    }
                }
                computers.sort();
                jobs.push(XsdJob {
                    backup: idx,
                    schema: TARGETING_XSD,
                    label: format!("{where_}: Filters of {nm_s}"),
                    xml: text[f.range()].to_string(),
                });
            }
            os_versions.sort();
            // Issue 27: every item names the farm's computers, whatever else it filters on: an OS
            // filter alone reaches every machine of that release in the linked OU.
            if computers.is_empty() || computers.iter().any(|c| c.is_none_or(str::is_empty)) {
                errs.push(format!(
                    "{where_}: item {nm_s} has no computer filter (FilterComputer by name): it would reach every machine in the GPO's scope"
                ));
            }
            let computers: Vec<Value> = computers.into_iter().map(s).collect();
            let os_is =
                |want: &[&str]| os_versions == want.iter().map(|w| Some(*w)).collect::<Vec<_>>();
            // A Task Scheduler 2.0 item: 2008 and 2008 R2, then (issue 31) 2012 R2 and 2016 and
            // later when its servers run them, in that order. Which releases its servers run is
            // checked with the site in gpo::every_item_reaches_the_release_of_each_server.
            let os_is_v2 = || {
                let v2 = ["2K8", "2K8R2", "WINBLUESRV", "WINTHRESHOLDSRV"];
                let got: Vec<&str> = os_versions.iter().map(|v| v.unwrap_or("")).collect();
                got.len() >= 2
                    && got[..2] == v2[..2]
                    && got[2..].iter().all(|g| v2[2..].contains(g))
                    && got.windows(2).all(|w| {
                        v2.iter().position(|v| *v == w[0]) < v2.iter().position(|v| *v == w[1])
                    })
            };
            if delete {
                // What it deletes, where: the task's name (and its element's release), or the
                // value's hive and key; the other attributes apply to Create, Replace and Update
                // only ([MS-GPPREF] 2.2.1.18.1, 2.2.1.17.1). Never applied once.
                let ok = !run_once
                    && match tag.as_str() {
                        "Registry" => {
                            p("hive") == Some("HKEY_LOCAL_MACHINE")
                                && p("key").is_some_and(|k| !k.is_empty())
                                && p("name").is_some()
                        }
                        "TaskV2" => {
                            os_is(&["2K8", "2K8R2", "WINBLUESRV", "WINTHRESHOLDSRV"])
                                && p("name") == nm
                        }
                        _ => os_is(&["2K3", "2K3R2"]) && p("name") == nm,
                    };
                if !ok {
                    errs.push(format!(
                        "{where_}: Delete item {tag} {nm_s} is malformed (name, key or OS filter)"
                    ));
                }
                let what = match tag.as_str() {
                    "Registry" => format!(
                        "{}\\{}",
                        p("key").unwrap_or_default(),
                        p("name").unwrap_or_default()
                    ),
                    _ => nm_s.clone(),
                };
                seen.get_mut("deletes")
                    .unwrap()
                    .insert(format!("{tag} {what}"), json!({ "computers": computers }));
                continue;
            }
            match tag.as_str() {
                "File" => {
                    if !os_versions.is_empty() {
                        errs.push(format!("{where_}: file {nm_s} has an OS filter"));
                    }
                    seen.get_mut("files").unwrap().insert(
                        nm_s.clone(),
                        json!({"from": s(p("fromPath")), "target": s(p("targetPath")), "computers": computers}),
                    );
                }
                "NTService" => {
                    if !os_versions.is_empty() {
                        errs.push(format!("{where_}: service item {nm_s} has an OS filter"));
                    }
                    if p("serviceName") != nm || p("startupType") != Some("NOCHANGE") {
                        errs.push(format!(
                            "{where_}: service item {nm_s}: serviceName {:?}, startupType {:?} (expected the item name and NOCHANGE)",
                            p("serviceName"),
                            p("startupType")
                        ));
                    }
                    for a in [
                        "serviceAction",
                        "accountName",
                        "interact",
                        "program",
                        "args",
                    ] {
                        if p(a).is_some() {
                            errs.push(format!("{where_}: service item {nm_s} sets {a}"));
                        }
                    }
                    let number = |a: &str| p(a).and_then(|v| v.parse::<u64>().ok());
                    let failures: Vec<Value> = ["firstFailure", "secondFailure", "thirdFailure"]
                        .iter()
                        .map_while(|a| p(a))
                        .map(|v| s(Some(v)))
                        .collect();
                    seen.get_mut("services").unwrap().insert(
                        nm_s.clone(),
                        json!({"computers": computers, "failures": failures,
                               "reset_seconds": number("resetFailCountDelay"),
                               "delay_ms": number("restartServiceDelay")}),
                    );
                }
                "Registry" => {
                    if once_create != run_once {
                        errs.push(format!(
                            "{where_}: registry item {nm_s}: action {:?} with{} FilterRunOnce (a value applied once is created: C; every other value U)",
                            p("action"),
                            if run_once { "" } else { "out" }
                        ));
                    }
                    if !os_versions.is_empty() {
                        errs.push(format!("{where_}: registry item {nm_s} has an OS filter"));
                    }
                    if p("hive") != Some("HKEY_LOCAL_MACHINE") {
                        errs.push(format!(
                            "{where_}: registry item {nm_s} hive {:?}",
                            p("hive")
                        ));
                    }
                    let value = p("value").unwrap_or_default();
                    let upper_hex = value.len() == 8
                        && value
                            .bytes()
                            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
                    if p("type") == Some("REG_DWORD") && !upper_hex {
                        errs.push(format!(
                            "{where_}: DWORD {nm_s} value {:?} is not 8 upper-case hex digits",
                            p("value")
                        ));
                    }
                    seen.get_mut("registry").unwrap().insert(
                        format!("{}\\{}", p("key").unwrap_or_default(), p("name").unwrap_or_default()),
                        json!({"type": s(p("type")), "value": s(p("value")), "computers": computers, "run_once": run_once}),
                    );
                }
                "TaskV2" => {
                    if !os_is_v2() {
                        errs.push(format!(
                            "{where_}: TaskV2 {nm_s} targets OS {os_versions:?}, expected 2K8 + 2K8R2 (+ WINBLUESRV, WINTHRESHOLDSRV)"
                        ));
                    }
                    if !p("runAs").is_some_and(|r| RUN_AS_OK.contains(&r))
                        || p("logonType") != Some("S4U")
                    {
                        errs.push(format!(
                            "{where_}: TaskV2 {nm_s} runAs {:?} logonType {:?}",
                            p("runAs"),
                            p("logonType")
                        ));
                    }
                    if p("name") != nm {
                        errs.push(format!("{where_}: TaskV2 {nm_s}: Properties name differs"));
                    }
                    match child(props, None, "Task") {
                        Some(task) if task.attribute("version") == Some("1.2") => {
                            // The embedded Task, put in the Task Scheduler namespace (its elements
                            // carry none: a default namespace declaration does what lxml's re-tagging
                            // did).
                            let raw = &text[task.range()];
                            jobs.push(XsdJob {
                                backup: idx,
                                schema: TASK_XSD,
                                label: format!("{where_}: embedded Task of {nm_s}"),
                                xml: format!("<Task xmlns=\"{TASK_NS}\"{}", &raw["<Task".len()..]),
                            });
                            let uid_text =
                                find_text(task, None, &["Principals", "Principal", "UserId"]);
                            if uid_text.as_deref() != p("runAs") {
                                errs.push(format!(
                                    "{where_}: TaskV2 {nm_s}: principal {uid_text:?} differs from runAs"
                                ));
                            }
                        }
                        _ => errs.push(format!(
                            "{where_}: TaskV2 {nm_s} lacks an embedded <Task version=\"1.2\">"
                        )),
                    }
                    seen.get_mut("tasks_v2").unwrap().insert(
                        nm_s.clone(),
                        json!({"computers": computers, "run_as": s(p("runAs"))}),
                    );
                }
                _ => {
                    // "Task": a legacy (Task Scheduler 1.0) task for 2003, or on 2008 the
                    // `gpo.tasks_2008 = "schtasks-xml"` item that registers a copied task XML.
                    let registers = register_file(p("appName"), p("args"));
                    if let Some(file) = &registers {
                        if !os_is_v2() {
                            errs.push(format!(
                                "{where_}: Task {nm_s} runs schtasks /Create /XML but targets OS {os_versions:?}, expected 2K8 + 2K8R2 (+ WINBLUESRV, WINTHRESHOLDSRV)"
                            ));
                        }
                        register_files.push((where_.clone(), nm_s.clone(), file.clone()));
                    } else if !os_is(&["2K3", "2K3R2"]) {
                        errs.push(format!(
                            "{where_}: Task {nm_s} targets OS {os_versions:?}, expected 2K3 + 2K3R2"
                        ));
                    }
                    if p("runAs").is_some() {
                        errs.push(format!(
                            "{where_}: legacy Task {nm_s} has a runAs (it must run as SYSTEM, the default)"
                        ));
                    }
                    if p("enabled") != Some("1") || p("appName").is_none_or(str::is_empty) {
                        errs.push(format!(
                            "{where_}: legacy Task {nm_s} is not enabled or has no appName"
                        ));
                    }
                    let trig: Vec<Node> = props
                        .children()
                        .filter(|c| c.is_element() && qname(*c) == "Triggers")
                        .flat_map(|t| {
                            t.children()
                                .filter(|c| c.is_element() && qname(*c) == "Trigger")
                        })
                        .collect();
                    if trig.is_empty() {
                        errs.push(format!("{where_}: legacy Task {nm_s} has no trigger"));
                        continue;
                    }
                    // The item against [MS-GPPREF]'s schema of the legacy Task (attribute types:
                    // minutesDuration, interval and the hours are unsignedByte).
                    jobs.push(XsdJob {
                        backup: idx,
                        schema: LEGACY_TASK_XSD,
                        label: format!("{where_}: legacy Task {nm_s}"),
                        xml: text[item.range()].to_string(),
                    });
                    let tr = trig[0];
                    if trig
                        .iter()
                        .any(|t| t.attribute("type") != tr.attribute("type"))
                    {
                        errs.push(format!("{where_}: legacy Task {nm_s} mixes trigger types"));
                    }
                    for t in trig
                        .iter()
                        .filter(|t| t.attribute("type") != Some("STARTUP"))
                    {
                        for a in [
                            "startHour",
                            "startMinutes",
                            "beginYear",
                            "beginMonth",
                            "beginDay",
                        ] {
                            let v = t.attribute(a).unwrap_or_default();
                            if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
                                errs.push(format!(
                                    "{where_}: legacy Task {nm_s} trigger {a}={:?}",
                                    t.attribute(a)
                                ));
                            }
                        }
                    }
                    let repeat = match tr.attribute("minutesInterval") {
                        Some(r) if !r.is_empty() => match r.parse::<i64>() {
                            Ok(n) => json!(n),
                            Err(_) => {
                                errs.push(format!(
                                    "{where_}: legacy Task {nm_s} minutesInterval {r:?} is not a number"
                                ));
                                Value::Null
                            }
                        },
                        _ => Value::Null,
                    };
                    seen.get_mut("tasks_legacy").unwrap().insert(
                        nm_s.clone(),
                        json!({"computers": computers, "trigger": s(tr.attribute("type")), "repeat": repeat}),
                    );
                }
            }
        }
    }
    // Every task XML a legacy item registers is copied there by a Files item of the GPO.
    for (where_, name, file) in &register_files {
        if !seen["files"].values().any(|f| f["target"] == json!(file)) {
            errs.push(format!(
                "{where_}: Task {name} registers {file}, which no Files item copies"
            ));
        }
    }
    if let Some(expect) = expect {
        for kind in [
            "files",
            "tasks_v2",
            "tasks_legacy",
            "registry",
            "services",
            "deletes",
        ] {
            let empty = serde_json::Map::new();
            let want_items = expect
                .get(kind)
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let have = &seen[kind];
            let have_keys: BTreeSet<&String> = have.keys().collect();
            let want_keys: BTreeSet<&String> = want_items.keys().collect();
            if have_keys != want_keys {
                errs.push(format!(
                    "{kind}: the GPO holds {have_keys:?}, expected {want_keys:?}"
                ));
                continue;
            }
            for (k, v) in want_items {
                for (field, value) in v.as_object().into_iter().flatten() {
                    let got = have[k].get(field).unwrap_or(&Value::Null);
                    if got != value {
                        errs.push(format!("{kind} {k}: {field} is {got}, expected {value}"));
                    }
                }
            }
        }
    }
    errs
}

/// The task file a legacy item registers: its program is schtasks.exe and its arguments are
/// `/Create … /XML "FILE" /F` (the `gpo.tasks_2008 = "schtasks-xml"` fallback).
fn register_file(app: Option<&str>, args: Option<&str>) -> Option<String> {
    if !app?.to_ascii_lowercase().ends_with("\\schtasks.exe") {
        return None;
    }
    let args = args?;
    let rest = &args[args.find(" /XML \"")? + " /XML \"".len()..];
    let end = rest.find('"')?;
    (args.starts_with("/Create ") && rest[end + 1..].trim() == "/F")
        .then(|| rest[..end].to_string())
}

/// `YYYY-MM-DD HH:MM:SS` (digits only in the digit places).
fn changed_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b' ',
            13 | 16 => c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// Validates the XSD jobs in one Python process (lxml): the error of each failed job, by index.
fn run_xsd(jobs: &[XsdJob]) -> BTreeMap<usize, String> {
    if jobs.is_empty() {
        return BTreeMap::new();
    }
    let repo = common::repo();
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(common::python());
    cmd.arg(repo.join("tests/validators/xsd_check.py"));
    for schema in [TARGETING_XSD, TASK_XSD, LEGACY_TASK_XSD] {
        cmd.arg("--xsd")
            .arg(repo.join("tests/schemas").join(schema));
        for (i, j) in jobs.iter().enumerate().filter(|(_, j)| j.schema == schema) {
            let f = tmp.path().join(format!("{i}.xml"));
            std::fs::write(&f, &j.xml).unwrap();
            cmd.arg(f);
        }
    }
    let out = cmd.output().expect("xsd_check.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "xsd_check.py crashed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut failed = BTreeMap::new();
    let mut answered = 0;
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).expect("xsd_check.py JSON line");
        answered += 1;
        if v["ok"] != json!(true) {
            let path = v["path"].as_str().unwrap();
            let i: usize = Path::new(path)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .parse()
                .unwrap();
            failed.insert(i, v["error"].as_str().unwrap_or("invalid").to_string());
        }
    }
    assert_eq!(
        answered,
        jobs.len(),
        "xsd_check.py skipped files:\n{stdout}"
    );
    failed
}

/// Checks every GPO backup under `BUNDLE/gpo/` of each bundle folder: (all ok, one line per
/// backup with its errors). Panics when no backup is found.
pub fn check_bundles(dirs: &[&Path], expect: Option<&Value>) -> (bool, String) {
    let mut backups: Vec<(PathBuf, Vec<String>)> = Vec::new();
    let mut jobs = Vec::new();
    for d in dirs {
        let gdir = d.join("gpo");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&gdir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        for b in names {
            let errs = check_backup(&b, expect, backups.len(), &mut jobs);
            backups.push((b, errs));
        }
    }
    assert!(!backups.is_empty(), "no GPO backup found in {dirs:?}");
    for (i, err) in run_xsd(&jobs) {
        let j = &jobs[i];
        backups[j.backup].1.push(format!("{}: {err}", j.label));
    }
    let ok = backups.iter().all(|(_, e)| e.is_empty());
    let text: Vec<String> = backups
        .iter()
        .map(|(p, e)| {
            if e.is_empty() {
                format!("ok: {}", p.display())
            } else {
                format!("FAILED: {}\n  {}", p.display(), e.join("\n  "))
            }
        })
        .collect();
    (ok, text.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::{changed_ok, is_guid, parse_extensions};

    #[test]
    fn guids_and_extension_lists() {
        assert!(is_guid("{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}"));
        assert!(!is_guid("{7150f9bf-48AD-4DA4-A49C-29EF4A8369BA}"));
        assert!(!is_guid("7150F9BF-48AD-4DA4-A49C-29EF4A8369BA"));
        let two = "[{00000000-0000-0000-0000-000000000000}{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}]\
                   [{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}]";
        assert_eq!(parse_extensions(two).unwrap().len(), 2);
        assert_eq!(parse_extensions(""), Some(vec![]));
        for bad in [
            "[]",
            "x",
            "[{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}",
            "[{7150F9BF}]",
        ] {
            assert_eq!(parse_extensions(bad), None, "{bad}");
        }
    }

    #[test]
    fn changed_dates() {
        assert!(changed_ok("2011-06-01 08:00:00"));
        assert!(!changed_ok("2011-06-01T08:00:00") && !changed_ok("2011-6-01 08:00:00"));
    }
}
