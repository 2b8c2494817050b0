#!/usr/bin/env python3
"""Structural check of the GPO backups in generated bundles (XPath over the parsed XML).

Usage:
    python check_gpo.py --task-xsd PATH --filters-xsd PATH [--expect FILE.json] BUNDLE_DIR...

For every backup folder `BUNDLE_DIR/gpo/{ID}` it checks, and prints one JSON line
`{"path": ..., "ok": bool, "errors": [...]}`; exit status 0 when all pass, 1 otherwise:

* bytes: every preference file is UTF-8 without BOM, starts with the utf-8 declaration, CRLF only;
* Backup.xml / bkupInfo.xml: namespaces, the folder name is the backup ID, the GPO IDs agree,
  every FSObjectFile exists and every file of the tree is listed;
* the machine extension list: a leading {00000000-…} group with the tool GUIDs, then exactly one
  [{CSE}{tool}] pair per preference file present, sorted by CSE GUID ([MS-GPOL] 2.2.4);
* each preference file: root and item clsids as in [MS-GPPREF] 2.2.1.1.2, never disabled, every
  uid a braced upper-case GUID unique in the GPO, `changed` as YYYY-MM-DD HH:MM:SS, the action
  (Files R, tasks and registry U), no password-like attribute anywhere, run-as accounts only
  SYSTEM / LocalService / NetworkService with logonType S4U;
* item-level targeting: every <Filters> validates against the targeting schema; TaskV2 items
  target exactly 2K8 + 2K8R2, legacy Task items exactly 2K3 + 2K3R2, files and registry values no
  OS; the computer names are the expected ones;
* the Task embedded in each TaskV2 validates against the Task Scheduler XSD (in its namespace).

`--expect` names a JSON file of the items the bundle must hold (exactly those):
    {"files": {NAME: {"from": ..., "target": ..., "computers": [...]}},
     "tasks_v2": {NAME: {"computers": [...], "run_as": ...}},
     "tasks_legacy": {NAME: {"computers": [...], "trigger": "DAILY"|"STARTUP", "repeat": N|null}},
     "registry": {"KEY\\\\NAME": {"type": ..., "value": ..., "computers": [...]}}}
Without it only the generic rules are checked.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys

from lxml import etree

BKP_NS = "http://www.microsoft.com/GroupPolicy/GPOOperations"
MANIFEST_NS = "http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
ZERO = "{00000000-0000-0000-0000-000000000000}"
GUID = r"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}"
DECL = b'<?xml version="1.0" encoding="utf-8"?>\r\n'

# folder -> (file, root tag, root clsid, {item tag: clsid}, (CSE, tool), expected action)
PREFS = {
    "Files": ("Files.xml", "Files", "{215B2E53-57CE-475c-80FE-9EEC14635851}",
              {"File": "{50BE44C8-567A-4ed1-B1D0-9234FE1F38AF}"},
              ("{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}", "{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}"),
              "R"),
    "ScheduledTasks": ("ScheduledTasks.xml", "ScheduledTasks", "{CC63F200-7309-4ba0-B154-A71CD118DBCC}",
                       {"Task": "{2DEECB1C-261F-4e13-9B21-16FB83BC03BD}",
                        "TaskV2": "{D8896631-B747-47a7-84A6-C155337F3BC8}"},
                       ("{AADCED64-746C-4633-A97C-D61349046527}", "{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}"),
                       "U"),
    "Registry": ("Registry.xml", "RegistrySettings", "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}",
                 {"Registry": "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}"},
                 ("{B087BE9D-ED37-454F-AF9C-04291E351182}", "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}"),
                 "U"),
}
RUN_AS_OK = {"NT AUTHORITY\\System", "NT AUTHORITY\\LocalService", "NT AUTHORITY\\NetworkService"}


def parse_extensions(text: str) -> list[list[str]] | None:
    groups = re.findall(r"\[((?:" + GUID + r")+)\]", text)
    if "".join(f"[{g}]" for g in groups) != text:
        return None
    return [re.findall(GUID, g) for g in groups]


def filters_of(item):
    os_versions, computers = [], []
    f = item.find("Filters")
    if f is not None:
        os_versions = [e.get("version") for e in f.iter("FilterOs")]
        computers = sorted(e.get("name") for e in f.iter("FilterComputer"))
    return f, os_versions, computers


def check_backup(root: str, expect: dict | None, task_xsd, filters_xsd, counts: dict | None = None) -> list[str]:
    errs: list[str] = []
    name = os.path.basename(root)
    if not re.fullmatch(GUID, name):
        errs.append(f"backup folder {name} is not a braced upper-case GUID")
    try:
        backup = etree.parse(os.path.join(root, "Backup.xml"))
        info = etree.parse(os.path.join(root, "bkupInfo.xml"))
    except (OSError, etree.XMLSyntaxError) as e:
        return [f"cannot parse the backup manifest: {e}"]
    ns = {"b": BKP_NS, "m": MANIFEST_NS}
    if backup.getroot().tag != f"{{{BKP_NS}}}GroupPolicyBackupScheme":
        errs.append("Backup.xml root is not GroupPolicyBackupScheme in the GPOOperations namespace")
    if info.getroot().tag != f"{{{MANIFEST_NS}}}BackupInst":
        errs.append("bkupInfo.xml root is not BackupInst in the Manifest namespace")
    backup_id = info.findtext("m:ID", namespaces=ns)
    if backup_id != name:
        errs.append(f"bkupInfo ID {backup_id!r} differs from the folder name {name}")
    gpo_id = backup.findtext("b:GroupPolicyObject/b:GroupPolicyCoreSettings/b:ID", namespaces=ns)
    if not gpo_id or not re.fullmatch(GUID, gpo_id) or gpo_id != info.findtext("m:GPOGuid", namespaces=ns):
        errs.append(f"GPO ID {gpo_id!r} missing, malformed or different in bkupInfo.xml")
    display = backup.findtext("b:GroupPolicyObject/b:GroupPolicyCoreSettings/b:DisplayName", namespaces=ns)
    if not display or display != info.findtext("m:GPODisplayName", namespaces=ns):
        errs.append("DisplayName missing or different in bkupInfo.xml")

    # Files on disk vs. the FSObjectFile list.
    sysvol = os.path.join(root, "DomainSysvol")
    on_disk = set()
    for d, _, files in os.walk(sysvol):
        for f in files:
            on_disk.add(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "\\"))
    listed = {e.get(f"{{{BKP_NS}}}Location") for e in backup.iter(f"{{{BKP_NS}}}FSObjectFile")}
    if listed != on_disk:
        errs.append(f"Backup.xml lists {sorted(listed)} but the tree holds {sorted(on_disk)}")
    for e in backup.iter(f"{{{BKP_NS}}}FSObjectDir"):
        loc = e.get(f"{{{BKP_NS}}}Location")
        if not os.path.isdir(os.path.join(root, *loc.split("\\"))):
            errs.append(f"FSObjectDir {loc} does not exist")
        if e.get(f"{{{BKP_NS}}}Path") != "%GPO_MACH_FSPATH%\\" + loc.split("\\", 3)[3]:
            errs.append(f"FSObjectDir {loc}: bkp:Path does not match its location")

    prefs_dir = os.path.join(sysvol, "GPO", "Machine", "Preferences")
    present = sorted(p for p in PREFS if os.path.isfile(os.path.join(prefs_dir, p, PREFS[p][0])))
    ext = backup.findtext("b:GroupPolicyObject/b:GroupPolicyCoreSettings/b:MachineExtensionGuids", namespaces=ns) or ""
    groups = parse_extensions(ext)
    if groups is None:
        errs.append(f"MachineExtensionGuids is not a list of [{{GUID}}…] groups: {ext!r}")
        groups = []
    want_pairs = sorted(PREFS[p][4] for p in present)
    want = [[ZERO] + sorted({t for _, t in want_pairs})] + [list(p) for p in want_pairs] if want_pairs else []
    if groups != want:
        errs.append(f"MachineExtensionGuids {ext!r}; expected {''.join('[' + ''.join(g) + ']' for g in want)!r}")
    cses = [g[0] for g in groups[1:]]
    if cses != sorted(cses, key=str.upper) or len(set(cses)) != len(cses):
        errs.append("extension pairs are not sorted by CSE GUID without duplicates")

    uids: dict[str, str] = {}
    seen = {"files": {}, "tasks_v2": {}, "tasks_legacy": {}, "registry": {}}
    for folder in present:
        fname, root_tag, root_clsid, items, _, action = PREFS[folder]
        path = os.path.join(prefs_dir, folder, fname)
        where = f"{folder}/{fname}"
        raw = open(path, "rb").read()
        if not raw.startswith(DECL):
            errs.append(f"{where}: does not start with the utf-8 declaration and CRLF (or has a BOM)")
        if raw.count(b"\n") != raw.count(b"\r\n") or raw.count(b"\r") != raw.count(b"\r\n") or not raw.endswith(b"\r\n"):
            errs.append(f"{where}: line endings are not CRLF throughout")
        try:
            doc = etree.fromstring(raw)
        except etree.XMLSyntaxError as e:
            errs.append(f"{where}: not well-formed: {e}")
            continue
        if doc.tag != root_tag or doc.get("clsid") != root_clsid:
            errs.append(f"{where}: root {doc.tag} clsid {doc.get('clsid')} (expected {root_tag} {root_clsid})")
        if doc.get("disabled") not in (None, "0"):
            errs.append(f"{where}: the whole file is disabled")
        for el in doc.iter():
            for attr, val in el.attrib.items():
                if "password" in attr.lower():
                    errs.append(f"{where}: password attribute {attr} on <{el.tag}>")
        for item in doc:
            if not isinstance(item.tag, str):
                continue
            tag = item.tag
            if tag not in items:
                errs.append(f"{where}: unexpected item <{tag}>")
                continue
            if item.get("clsid") != items[tag]:
                errs.append(f"{where}: <{tag} name={item.get('name')!r}> clsid {item.get('clsid')}")
            uid = item.get("uid") or ""
            if not re.fullmatch(GUID, uid):
                errs.append(f"{where}: uid {uid!r} is not a braced upper-case GUID")
            if uid in uids:
                errs.append(f"{where}: uid {uid} also used by {uids[uid]}")
            uids[uid] = f"{where}:{item.get('name')}"
            if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", item.get("changed") or ""):
                errs.append(f"{where}: changed {item.get('changed')!r} is not YYYY-MM-DD HH:MM:SS")
            if item.get("disabled") not in (None, "0"):
                errs.append(f"{where}: item {item.get('name')} is disabled")
            props = item.find("Properties")
            if props is None:
                errs.append(f"{where}: item {item.get('name')} has no Properties")
                continue
            if props.get("action") != action:
                errs.append(f"{where}: item {item.get('name')} action {props.get('action')!r}, expected {action}")
            flt, os_versions, computers = filters_of(item)
            if flt is not None:
                standalone = etree.fromstring(etree.tostring(flt))
                if not filters_xsd.validate(standalone):
                    errs.append(f"{where}: Filters of {item.get('name')}: {filters_xsd.error_log.last_error}")
            nm = item.get("name")
            if tag == "File":
                if os_versions:
                    errs.append(f"{where}: file {nm} has an OS filter")
                seen["files"][nm] = {"from": props.get("fromPath"), "target": props.get("targetPath"),
                                     "computers": computers}
            elif tag == "Registry":
                if os_versions:
                    errs.append(f"{where}: registry item {nm} has an OS filter")
                if props.get("hive") != "HKEY_LOCAL_MACHINE":
                    errs.append(f"{where}: registry item {nm} hive {props.get('hive')}")
                if props.get("type") == "REG_DWORD" and not re.fullmatch(r"[0-9A-F]{8}", props.get("value") or ""):
                    errs.append(f"{where}: DWORD {nm} value {props.get('value')!r} is not 8 upper-case hex digits")
                seen["registry"][props.get("key") + "\\" + props.get("name")] = {
                    "type": props.get("type"), "value": props.get("value"), "computers": computers}
            elif tag == "TaskV2":
                if sorted(os_versions) != ["2K8", "2K8R2"]:
                    errs.append(f"{where}: TaskV2 {nm} targets OS {os_versions}, expected 2K8 + 2K8R2")
                if props.get("runAs") not in RUN_AS_OK or props.get("logonType") != "S4U":
                    errs.append(f"{where}: TaskV2 {nm} runAs {props.get('runAs')!r} logonType {props.get('logonType')!r}")
                if props.get("name") != nm:
                    errs.append(f"{where}: TaskV2 {nm}: Properties name differs")
                task = props.find("Task")
                if task is None or task.get("version") != "1.2":
                    errs.append(f"{where}: TaskV2 {nm} lacks an embedded <Task version=\"1.2\">")
                else:
                    t = copy.deepcopy(task)
                    for e in t.iter():
                        if isinstance(e.tag, str):
                            e.tag = f"{{{TASK_NS}}}{e.tag}"
                    t = etree.fromstring(etree.tostring(t))
                    if not task_xsd.validate(t):
                        errs.append(f"{where}: embedded Task of {nm}: {task_xsd.error_log.last_error}")
                    uid_text = task.findtext("Principals/Principal/UserId")
                    if uid_text != props.get("runAs"):
                        errs.append(f"{where}: TaskV2 {nm}: principal {uid_text!r} differs from runAs")
                seen["tasks_v2"][nm] = {"computers": computers, "run_as": props.get("runAs")}
            elif tag == "Task":
                if sorted(os_versions) != ["2K3", "2K3R2"]:
                    errs.append(f"{where}: Task {nm} targets OS {os_versions}, expected 2K3 + 2K3R2")
                if props.get("runAs") is not None:
                    errs.append(f"{where}: legacy Task {nm} has a runAs (it must run as SYSTEM, the default)")
                if props.get("enabled") != "1" or not props.get("appName"):
                    errs.append(f"{where}: legacy Task {nm} is not enabled or has no appName")
                trig = props.findall("Triggers/Trigger")
                if len(trig) != 1:
                    errs.append(f"{where}: legacy Task {nm} has {len(trig)} triggers")
                    continue
                tr = trig[0]
                if tr.get("type") == "DAILY":
                    for a in ("startHour", "startMinutes", "beginYear", "beginMonth", "beginDay", "interval"):
                        if not (tr.get(a) or "").isdigit():
                            errs.append(f"{where}: legacy Task {nm} trigger {a}={tr.get(a)!r}")
                rep = tr.get("minutesInterval")
                seen["tasks_legacy"][nm] = {"computers": computers, "trigger": tr.get("type"),
                                            "repeat": int(rep) if rep else None}
    if counts is not None:
        counts.update({k: len(v) for k, v in seen.items()})
    if expect is not None:
        for kind in seen:
            want_items = expect.get(kind, {})
            if set(seen[kind]) != set(want_items):
                errs.append(f"{kind}: the GPO holds {sorted(seen[kind])}, expected {sorted(want_items)}")
                continue
            for k, v in want_items.items():
                for field, value in v.items():
                    if seen[kind][k].get(field) != value:
                        errs.append(f"{kind} {k}: {field} is {seen[kind][k].get(field)!r}, expected {value!r}")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task-xsd", required=True)
    ap.add_argument("--filters-xsd", required=True)
    ap.add_argument("--expect")
    ap.add_argument("bundles", nargs="+")
    a = ap.parse_args(argv)
    task_xsd = etree.XMLSchema(etree.parse(a.task_xsd))
    filters_xsd = etree.XMLSchema(etree.parse(a.filters_xsd))
    expect = json.load(open(a.expect)) if a.expect else None
    bad = 0
    found = 0
    for b in a.bundles:
        gdir = os.path.join(b, "gpo")
        for name in sorted(os.listdir(gdir)) if os.path.isdir(gdir) else []:
            found += 1
            counts: dict = {}
            errs = check_backup(os.path.join(gdir, name), expect, task_xsd, filters_xsd, counts)
            bad += bool(errs)
            print(json.dumps({"path": os.path.join(gdir, name), "ok": not errs, "items": counts,
                              "errors": errs}))
    print(f"check_gpo: {found - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
