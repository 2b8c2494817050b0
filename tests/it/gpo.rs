//! The Group Policy backup: structural checks (XPath, XSDs) over the generated XML of the reference
//! site and of synthetic task/registry specs, stability of the identifiers, targeting, escaping and
//! the password guard. The structural checker is tests/it/checks/gpo.rs (XSDs via
//! tests/validators/xsd_check.py, lxml).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use sitebundle::bundle::Bundle;
use sitebundle::emit::gpo::{self, Script};
use sitebundle::model::gpo::{Preference, Tasks2008};
use sitebundle::model::schedule::{By, Schedule};
use sitebundle::plan::{Account, Duration, Principal, TaskSpec, Trigger};
use sitebundle::plan::{RegData, RegValue, ServiceRecovery};
use sitebundle::site::Site;

/// Runs the GPO structure check (crate::checks::gpo) over bundle folders; returns (all ok, output).
fn check_gpo(dirs: &[&Path], expect: Option<&Value>) -> (bool, String) {
    crate::checks::gpo::check_bundles(dirs, expect)
}

fn site(text: &str) -> Site {
    match sitebundle::load_text("test.toml", text) {
        Ok((s, _)) => s,
        Err(d) => panic!("site does not resolve:\n{}", d.render()),
    }
}

/// Computer names a targeted item must list: the hosts of that release family, always (issue 27).
fn computers(site: &Site, hosts: &[usize], family: impl Fn(usize) -> bool) -> Vec<String> {
    let mut v: Vec<String> = (0..site.farm.servers.len())
        .filter(|&i| family(i) && hosts.contains(&i))
        .map(|i| site.farm.servers[i].name.clone())
        .collect();
    v.sort();
    v
}

/// What the GPO must hold, computed from the inputs independently of the generator.
fn expectation(site: &Site, scripts: &[Script], specs: &[TaskSpec], values: &[RegValue]) -> Value {
    expectation_with_services(site, scripts, specs, values, &[])
}

/// What the GPO of a built site must hold: its plan's tasks, registry values and services, and
/// the runtime scripts of its bundle.
fn site_expectation(s: &Site, bundle: &Bundle) -> Value {
    let plan = sitebundle::plan(s).unwrap();
    expectation_with_services(
        s,
        &gpo::runtime_scripts(bundle),
        &plan.tasks,
        &plan.reg_values().cloned().collect::<Vec<_>>(),
        &plan.services,
    )
}

/// [`expectation`] with the service recovery items the GPO must hold.
fn expectation_with_services(
    site: &Site,
    scripts: &[Script],
    specs: &[TaskSpec],
    values: &[RegValue],
    services: &[ServiceRecovery],
) -> Value {
    let new = |i: usize| site.farm.servers[i].os.has_task_scheduler2();
    let mut files = BTreeMap::new();
    for s in scripts {
        let hosts: Vec<usize> = if s.hosts.is_empty() {
            (0..site.farm.servers.len()).collect()
        } else {
            s.hosts
                .iter()
                .map(|h| site.farm.servers.iter().position(|x| &x.name == h).unwrap())
                .collect()
        };
        files.insert(
            s.file.clone(),
            json!({
                "from": format!("{}\\{}", site.farm.scripts_share, s.file),
                "target": format!("{}\\{}", site.farm.scripts_dir, s.file),
                "computers": computers(site, &hosts, |_| true),
            }),
        );
    }
    let mut v2 = BTreeMap::new();
    let mut legacy = BTreeMap::new();
    for t in specs {
        let sys = t.principal.account == Account::System;
        let svc = matches!(
            t.principal.account,
            Account::LocalService | Account::NetworkService
        );
        if !(sys || svc) {
            continue;
        }
        let schtasks_xml = site
            .farm
            .gpo
            .as_ref()
            .is_some_and(|g| g.tasks_2008 == Tasks2008::SchtasksXml);
        if schtasks_xml && t.hosts.iter().any(|&h| new(h)) {
            // The write-up's fallback: a legacy item on 2008 that registers the copied XML daily.
            legacy.insert(
                format!("Register-{}", t.name),
                json!({ "computers": computers(site, &t.hosts, new), "trigger": "DAILY", "repeat": Value::Null }),
            );
        } else if t.hosts.iter().any(|&h| new(h)) {
            v2.insert(
                t.name.clone(),
                json!({ "computers": computers(site, &t.hosts, new),
                        "run_as": match t.principal.account {
                            Account::System => "NT AUTHORITY\\System",
                            Account::LocalService => "NT AUTHORITY\\LocalService",
                            _ => "NT AUTHORITY\\NetworkService" } }),
            );
        }
        let event = matches!(t.trigger, Trigger::Event { .. });
        if sys && !event && t.hosts.iter().any(|&h| !new(h)) {
            let (kind, repeat) = match &t.trigger {
                Trigger::Boot => ("STARTUP", Value::Null),
                Trigger::Repeat { interval, .. } => ("DAILY", json!(interval.as_secs() / 60)),
                Trigger::Calendar(c) => match c.by {
                    By::Days { .. } => ("DAILY", Value::Null),
                    By::Weeks { .. } => ("WEEKLY", Value::Null),
                    _ => ("MONTHLY", Value::Null),
                },
                Trigger::Event { .. } => unreachable!("event tasks have no legacy item"),
            };
            legacy.insert(
                t.name.clone(),
                json!({ "computers": computers(site, &t.hosts, |i| !new(i)),
                        "trigger": kind, "repeat": repeat }),
            );
        }
    }
    let mut reg = BTreeMap::new();
    for v in values {
        let (ty, val) = match &v.data {
            RegData::Sz(s) => ("REG_SZ", s.clone()),
            RegData::Dword(d) => ("REG_DWORD", format!("{d:08X}")),
        };
        reg.insert(
            format!("{}\\{}", v.key, v.name),
            json!({ "type": ty, "value": val, "computers": computers(site, &v.hosts, |_| true), "run_once": v.apply_once }),
        );
    }
    let mut svc = BTreeMap::new();
    for r in services {
        svc.insert(
            r.service.clone(),
            json!({ "computers": computers(site, &r.hosts, |_| true),
                    "failures": vec!["RESTART"; r.restarts as usize],
                    "reset_seconds": r.reset_after_seconds,
                    "delay_ms": r.restart_delay_ms }),
        );
    }
    json!({ "files": files, "tasks_v2": v2, "tasks_legacy": legacy, "registry": reg, "services": svc })
}

fn gpo_files(b: &Bundle) -> BTreeMap<String, Vec<u8>> {
    b.files
        .iter()
        .filter(|(p, _)| p.starts_with("gpo/"))
        .map(|(p, a)| (p.clone(), a.bytes.clone()))
        .collect()
}

#[test]
fn reference_gpo_holds_exactly_the_site_items() {
    let text = common::read("site.toml");
    let s = site(&text);
    let bundle = common::reference();
    let scripts = gpo::runtime_scripts(&bundle);
    assert!(
        scripts.iter().any(|x| x.file == "killProc.cmd"),
        "{scripts:?}"
    );
    let expect = site_expectation(&s, &bundle);
    assert!(
        !expect["services"].as_object().unwrap().is_empty(),
        "the reference site restarts a service"
    );
    let dir = common::write_tmp(&bundle);
    let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
    assert!(ok, "{out}");
    // The backup folder is the backup ID the runbook gives to Import-GPO.
    let g = s.farm.gpo.as_ref().unwrap();
    let id = gpo::backup_id(&s.farm, g);
    assert!(bundle.files.contains_key(&format!("gpo/{id}/Backup.xml")));
    let readme = String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap();
    assert!(
        readme.contains(&format!("Import-GPO -BackupId '{id}'")),
        "runbook lacks the import command"
    );
}

#[test]
fn fixtures_gpo_pass_structural_check() {
    let mut n = 0;
    for (name, text) in common::fixtures() {
        let b = common::build_text(&name, &text);
        if !b.files.keys().any(|p| p.starts_with("gpo/")) {
            continue;
        }
        n += 1;
        let s = site(&text);
        let expect = site_expectation(&s, &b);
        let dir = common::write_tmp(&b);
        let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
        assert!(ok, "{name}: {out}");
    }
    assert!(n > 0, "no fixture has a [gpo] section");
}

#[test]
fn identifiers_are_stable_and_site_derived() {
    let text = common::read("site.toml");
    let a = gpo_files(&common::build_text("site.toml", &text));
    let b = gpo_files(&common::build_text("site.toml", &text));
    assert!(!a.is_empty());
    assert_eq!(a, b, "two builds differ");
    // Another site name gives other uids and another backup folder.
    let renamed = text.replacen("name = \"partnerpoint\"", "name = \"otherfarm\"", 1);
    let c = gpo_files(&common::build_text("site.toml", &renamed));
    let uids = |m: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
        m.values()
            .flat_map(|b| {
                let t = String::from_utf8_lossy(b).to_string();
                t.split("uid=\"")
                    .skip(1)
                    .map(|s| s[..38].to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (ua, uc) = (uids(&a), uids(&c));
    assert!(!ua.is_empty());
    assert!(
        ua.iter().all(|u| !uc.contains(u)),
        "uids do not depend on the site"
    );
    assert!(a.keys().all(|k| !c.contains_key(k)));
}

const MIXED: &str = r#"
[site]
name = "mixed"
changed = "2011-06-01 08:00:00"
timezone = "UTC"
scripts_share = '\\fs\gpo$\scripts'

[[server]]
name = "old1"
os = "2003"

[[server]]
name = "old2"
os = "2003r2"

[[server]]
name = "new1"
os = "2008"

[[server]]
name = "new2"
os = "2008r2"

[gpo]
name = "Mixed farm"
domain = "corp.example.com"
"#;

fn spec(name: &str, trigger: Trigger, hosts: Vec<usize>, principal: Principal) -> TaskSpec {
    TaskSpec {
        name: name.into(),
        description: format!("synthetic {name}"),
        trigger,
        command: r"%SystemRoot%\System32\cscript.exe".into(),
        arguments: r#"//nologo "%SystemDrive%\localscripts\x.vbs" ON 20M"#.into(),
        working_directory: String::new(),
        principal,
        feature: "synthetic",
        execution_time_limit: Duration::hours(1),
        start_when_available: true,
        hosts,
        origin: format!("synthetic.{name}"),
    }
}

fn synthetic(s: &Site) -> (Vec<Script>, Vec<TaskSpec>, Vec<RegValue>) {
    let sys = Principal::system();
    let user = Principal {
        account: Account::Named("CORP\\svc-alias".into()),
        logon_type: Some("S4U".into()),
        run_level: "LeastPrivilege".into(),
    };
    let net = Principal {
        account: Account::NetworkService,
        logon_type: None,
        run_level: "LeastPrivilege".into(),
    };
    let query = "<QueryList><Query Id=\"0\" Path=\"System\"><Select Path=\"System\">*[System[Provider[@Name='Microsoft-Windows-WindowsUpdateClient'] and EventID=22]]</Select></Query></QueryList>";
    let specs = vec![
        spec(
            "Nightly-subset",
            Trigger::Calendar(Schedule::new(
                "2011-06-01".parse().unwrap(),
                23,
                45,
                By::Days { interval: 2 },
            )),
            vec![0, 2],
            sys.clone(),
        ),
        spec(
            "Every5Minutes",
            Trigger::Repeat {
                start: "2011-06-01T00:00:30".into(),
                interval: Duration::minutes(5),
            },
            vec![0, 1, 2, 3],
            sys.clone(),
        ),
        spec(
            "MaintMode-WU22",
            Trigger::Event {
                query: query.into(),
            },
            vec![0, 1, 2, 3],
            sys.clone(),
        ),
        spec("AtBoot-old", Trigger::Boot, vec![1], sys.clone()),
        spec(
            "AliasSwitch",
            Trigger::Repeat {
                start: "2011-06-01T00:00:00".into(),
                interval: Duration::minutes(1),
            },
            vec![2, 3],
            user,
        ),
        spec("NetSvc", Trigger::Boot, vec![0, 3], net),
    ];
    let values = vec![
        RegValue {
            key: r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo".into(),
            name: "SPSQL".into(),
            data: RegData::Sz(r"DBMSSOCN,sql1\inst,1433".into()),
            hosts: vec![2, 3],
            description: "SQL alias <&> \"quoted\"".into(),
            apply_once: true,
        },
        RegValue {
            key: r"SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU".into(),
            name: "RebootWarningTimeout".into(),
            data: RegData::Dword(30),
            hosts: (0..s.farm.servers.len()).collect(),
            description: String::new(),
            apply_once: false,
        },
    ];
    let scripts = vec![
        Script {
            file: "killProc.cmd".into(),
            hosts: vec![],
        },
        Script {
            file: "Update-SqlAlias.ps1".into(),
            hosts: vec!["new1".into(), "new2".into()],
        },
        Script {
            file: "WUTriggerMaintMode.vbs".into(),
            hosts: vec!["old2".into()],
        },
    ];
    (scripts, specs, values)
}

#[test]
fn synthetic_triggers_principals_and_values() {
    let s = site(MIXED);
    let g = s.farm.gpo.clone().unwrap();
    let (scripts, specs, values) = synthetic(&s);
    let plan = gpo::items::build(&s.farm, &g, &scripts, &specs, &values, &[]).unwrap();
    // Event triggers have no Task Scheduler 1.0 form; the domain user is left to manual
    // registration, and NetworkService cannot run a 1.0 task without a password.
    assert_eq!(plan.event_only_v2, vec!["MaintMode-WU22".to_string()]);
    let manual: Vec<(&str, &str)> = plan
        .manual
        .iter()
        .map(|m| (m.name.as_str(), m.account.as_str()))
        .collect();
    assert_eq!(
        manual,
        vec![
            ("AliasSwitch", "CORP\\svc-alias"),
            ("NetSvc", "NT AUTHORITY\\NetworkService")
        ]
    );
    let mut bundle = Bundle::default();
    gpo::add_backup(&s.farm, &g, &plan, &mut bundle).unwrap();
    let dir = common::write_tmp(&bundle);
    let expect = expectation(&s, &scripts, &specs, &values);
    // NetSvc: the 2008 copy is in the GPO, the 2003 copy is not (manual).
    assert!(expect["tasks_v2"].get("NetSvc").is_some());
    assert!(expect["tasks_legacy"].get("NetSvc").is_none());
    assert_eq!(expect["tasks_legacy"]["Every5Minutes"]["repeat"], json!(5));
    let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
    assert!(ok, "{out}");
    common::assert_all_valid(&common::validate(&[dir.path()], None));

    // Fewer preference kinds: the extension list follows what is present.
    let mut only_tasks = g.clone();
    only_tasks.include = vec![sitebundle::model::gpo::Preference::Tasks];
    let plan = gpo::items::build(&s.farm, &only_tasks, &scripts, &specs, &values, &[]).unwrap();
    assert!(plan.files.is_empty() && plan.registry.is_empty());
    let mut b2 = Bundle::default();
    gpo::add_backup(&s.farm, &only_tasks, &plan, &mut b2).unwrap();
    assert!(b2.files.keys().all(|p| !p.contains("/Files/")));
    let d2 = common::write_tmp(&b2);
    let (ok, out) = check_gpo(&[d2.path()], None);
    assert!(ok, "{out}");
}

#[test]
fn checker_catches_broken_backups() {
    let s = site(MIXED);
    let g = s.farm.gpo.clone().unwrap();
    let (scripts, specs, values) = synthetic(&s);
    let plan = gpo::items::build(&s.farm, &g, &scripts, &specs, &values, &[]).unwrap();
    let mut good = Bundle::default();
    gpo::add_backup(&s.farm, &g, &plan, &mut good).unwrap();
    let dir = gpo::backup_dir(&s.farm, &g);
    let tamper = |path: &str, from: &str, to: &str| -> (bool, String) {
        let mut b = good.clone();
        let a = b.files.get_mut(&format!("{dir}/{path}")).unwrap();
        let t = String::from_utf8(a.bytes.clone()).unwrap();
        assert!(t.contains(from), "{from} not in {path}");
        a.bytes = t.replacen(from, to, 1).into_bytes();
        let d = common::write_tmp(&b);
        check_gpo(&[d.path()], None)
    };
    let files = "DomainSysvol/GPO/Machine/Preferences/Files/Files.xml";
    let tasks = "DomainSysvol/GPO/Machine/Preferences/ScheduledTasks/ScheduledTasks.xml";
    for (path, from, to, why) in [
        (
            "Backup.xml",
            "[{7150F9BF-48AD-4DA4-A49C-29EF4A8369BA}{3BAE7E51-E3F4-41D0-853D-9BB9FD47605F}]",
            "",
            "MachineExtensionGuids",
        ),
        (
            files,
            "{50BE44C8-567A-4ed1-B1D0-9234FE1F38AF}",
            "{50BE44C8-567A-4ed1-B1D0-9234FE1F38AE}",
            "clsid",
        ),
        (tasks, "version=\"2K8R2\"", "version=\"2K3\"", "targets OS"),
        (
            tasks,
            "logonType=\"S4U\"",
            "logonType=\"S4U\" cpassword=\"x\"",
            "password attribute",
        ),
        (
            tasks,
            "<Task version=\"1.2\">",
            "<Task version=\"1.2\"><Bogus/>",
            "embedded Task",
        ),
        (files, "action=\"R\"", "action=\"U\"", "action"),
        (
            files,
            "<Files clsid",
            "<Files disabled=\"1\" clsid",
            "disabled",
        ),
        (
            tasks,
            "bool=\"AND\" not=\"0\" class",
            "bool=\"XOR\" not=\"0\" class",
            "Filters",
        ),
        // The old encoding of "all day": minutesDuration beyond the schema's unsignedByte.
        (
            tasks,
            "minutesDuration=\"255\"",
            "minutesDuration=\"1440\"",
            "legacy Task Every5Minutes",
        ),
        (tasks, "type=\"DAILY\"", "type=\"HOURLY\"", "legacy Task"),
        // Issue 27: an item without a name filter reaches every machine of the linked OU.
        (
            files,
            "type=\"NETBIOS\" name=\"",
            "type=\"NETBIOS\" title=\"",
            "no computer filter",
        ),
    ] {
        let (ok, out) = tamper(path, from, to);
        assert!(!ok, "tampering {path} ({why}) went unnoticed:\n{out}");
        assert!(out.contains(why), "expected a finding about {why}:\n{out}");
    }
}

#[test]
fn passwords_never_reach_group_policy() {
    let s = site(MIXED);
    let g = s.farm.gpo.clone().unwrap();
    let mut p = Principal::system();
    p.account = Account::Named("CORP\\svc".into());
    p.logon_type = Some("Password".into());
    let specs = vec![spec("WithPassword", Trigger::Boot, vec![2], p)];
    // A task that needs a password never goes into Group Policy Preferences: it is left to
    // manual registration (`schtasks … /RP *`), with the reason, and the build goes on.
    let items = gpo::items::build(&s.farm, &g, &[], &specs, &[], &[]).unwrap();
    assert!(items.v2_tasks.is_empty() && items.legacy_tasks.is_empty());
    assert_eq!(items.manual.len(), 1);
    assert_eq!(items.manual[0].name, "WithPassword");
    assert!(
        items.manual[0].why.contains("MS14-025"),
        "{:?}",
        items.manual[0]
    );

    // A password key anywhere in site.toml is refused, each one located, with the reason.
    let text = format!(
        "{MIXED}password = \"hunter2\"\n\n[[kill]]\nimage = \"w3wp.exe\"\nservers = [\"new1\"]\ncpassword = \"x\"\n"
    );
    let d = sitebundle::load_text("p.toml", &text).unwrap_err();
    assert_eq!(d.error_count(), 2, "{}", d.render());
    let r = d.render();
    assert!(
        r.contains("MS14-025") && r.contains("gpo.password") && r.contains("kill[0].cpassword"),
        "{r}"
    );
}

#[test]
fn hostile_names_are_escaped_or_rejected() {
    let s = site(MIXED);
    let g = s.farm.gpo.clone().unwrap();
    // A task name that would be a Task Scheduler path or markup is refused.
    for bad in ["a\"b", "x<y>", "..\\..\\evil", "a b&c", ""] {
        let specs = vec![spec(bad, Trigger::Boot, vec![2], Principal::system())];
        let e = gpo::items::build(&s.farm, &g, &[], &specs, &[], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("Group Policy"), "{bad:?}: {e}");
    }
    // A hostile share path never reaches the GPO: the site is rejected at the value.
    for share in [r#"\\fs\a"b"#, r"\\fs\a&b", r"\\fs\%x%", r"\\fs\a<b"] {
        let text = MIXED.replace(r"\\fs\gpo$\scripts", share);
        let d = sitebundle::load_text("s.toml", &text).unwrap_err();
        assert!(d.render().contains("scripts_share"), "{share}");
    }
    // A GPO name full of markup is data: escaped in every file, parsed back unchanged.
    let name = "MARKERX <b>&amp; \"q\" 'a' ]]> $(x) %PATH%";
    let text = MIXED.replace(
        "name = \"Mixed farm\"",
        &format!("name = {}", toml::Value::String(name.into())),
    );
    let b = common::build_text(
        "h.toml",
        &text.replace(
            "[gpo]",
            "[[kill]]\nimage = \"w3wp.exe\"\nservers = [\"old1\", \"new1\"]\n\n[gpo]",
        ),
    );
    let dir = common::write_tmp(&b);
    common::assert_all_valid(&common::validate(&[dir.path()], Some("MARKERX")));
    let (ok, out) = check_gpo(&[dir.path()], None);
    assert!(ok, "{out}");
    let s2 = site(&text);
    let backup = dir
        .path()
        .join(gpo::backup_dir(&s2.farm, s2.farm.gpo.as_ref().unwrap()))
        .join("Backup.xml");
    let out = Command::new(common::python())
        .arg("-c")
        .arg("import sys; from lxml import etree; d = etree.parse(sys.argv[1]); sys.stdout.write(d.findtext('.//{http://www.microsoft.com/GroupPolicy/GPOOperations}DisplayName'))")
        .arg(&backup)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), name);
}

#[test]
fn legacy_repetition_must_be_whole_minutes() {
    let s = site(MIXED);
    let g = s.farm.gpo.clone().unwrap();
    let rep = |interval: &str, hosts: Vec<usize>| {
        let specs = vec![spec(
            "Rep",
            Trigger::Repeat {
                start: "2011-06-01T00:00:00".into(),
                interval: Duration::parse_iso8601(interval).unwrap(),
            },
            hosts,
            Principal::system(),
        )];
        gpo::items::build(&s.farm, &g, &[], &specs, &[], &[])
    };
    // Task Scheduler 1.0 (2003) repeats in minutes; 2.0 takes any ISO duration. (Servers are in
    // name order in the resolved site, so they are found by OS, not by position.)
    let old = s
        .farm
        .servers
        .iter()
        .position(|x| !x.os.has_task_scheduler2())
        .unwrap();
    let new = s
        .farm
        .servers
        .iter()
        .position(|x| x.os.has_task_scheduler2())
        .unwrap();
    let e = rep("PT30S", vec![old]).unwrap_err().to_string();
    assert!(e.contains("whole minutes"), "{e}");
    assert!(rep("PT30S", vec![new]).is_ok());
    let p = rep("PT2H", vec![old, new]).unwrap();
    // Every 2 hours all day: blocks of 240 minutes (the largest multiple of 120 up to 255, the
    // unsignedByte limit of minutesDuration), six triggers.
    let t = &p.legacy_tasks[0].triggers;
    assert_eq!(t.len(), 6);
    assert!(
        t.iter().all(|t| t.repeat_minutes == Some((120, 240))),
        "{t:?}"
    );
    assert_eq!(t[1].hour, 4);
}

#[test]
fn checker_catches_broken_service_items() {
    let text = common::read("site.toml");
    let s = site(&text);
    let bundle = common::reference();
    let expect = site_expectation(&s, &bundle);
    let path = bundle
        .files
        .keys()
        .find(|p| p.ends_with("Services/Services.xml"))
        .expect("the reference GPO has a Services preference")
        .clone();
    for (from, to) in [
        (r#"thirdFailure="RESTART""#, r#"thirdFailure="REBOOT""#),
        (
            r#"restartServiceDelay="60000""#,
            r#"restartServiceDelay="60""#,
        ),
        (r#"startupType="NOCHANGE""#, r#"startupType="DISABLED""#),
        (r#"timeout="30""#, r#"timeout="30" serviceAction="START""#),
        (r#"name="sharepoint3""#, r#"name="sharepoint9""#),
    ] {
        let mut b = bundle.clone();
        let a = b.files.get_mut(&path).unwrap();
        let t = String::from_utf8(a.bytes.clone()).unwrap();
        assert!(t.contains(from), "{from}");
        a.bytes = t.replacen(from, to, 1).into_bytes();
        let dir = common::write_tmp(&b);
        let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
        assert!(!ok, "damage {from} -> {to} not caught:\n{out}");
    }
}

/// The SQL alias is an initial value the switcher owns afterwards: Group Policy writes it once per
/// server ([MS-GPPREF] 2.2.1.22 FilterRunOnce) and a background refresh never moves it back; the
/// Windows Update values are enforced at every refresh. The checker notices a missing filter.
#[test]
fn alias_is_written_once_and_never_reapplied() {
    let text = common::read("site.toml");
    let s = site(&text);
    let bundle = common::reference();
    let path = bundle
        .files
        .keys()
        .find(|p| p.ends_with("Registry/Registry.xml"))
        .unwrap()
        .clone();
    let xml = String::from_utf8(bundle.files[&path].bytes.clone()).unwrap();
    let items: Vec<&str> = xml.split("<Registry ").skip(1).collect();
    let once = |name: &str| {
        items
            .iter()
            .filter(|i| i.contains(&format!("name=\"{name}\"")))
            .all(|i| i.contains("<FilterRunOnce hidden=\"1\""))
    };
    assert!(once("SPSQL"), "{xml}");
    assert!(
        items
            .iter()
            .filter(|i| i.contains("RebootWarningTimeout"))
            .all(|i| !i.contains("FilterRunOnce"))
    );
    let expect = site_expectation(&s, &bundle);
    let mut broken = bundle.clone();
    let a = broken.files.get_mut(&path).unwrap();
    let t = String::from_utf8(a.bytes.clone()).unwrap();
    let start = t.find("\t\t\t<FilterRunOnce").unwrap();
    let end = start + t[start..].find("\r\n").unwrap() + 2;
    a.bytes = format!("{}{}", &t[..start], &t[end..]).into_bytes();
    let dir = common::write_tmp(&broken);
    let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
    assert!(!ok && out.contains("run_once"), "{out}");
}

/// The boundary of a legacy task item's day interval (an unsignedByte in [MS-GPPREF] 2.2.1.18.5):
/// every 255 days on a 2003 server builds a GPO that passes the structure check and the legacy
/// item schema, with `interval="255"`; every 256 days is refused at resolve time, located at
/// `every_days` (tests/bad/legacy-task-interval.toml has the snapshot of the message).
#[test]
fn legacy_item_day_interval_stops_at_255() {
    let text = |days: u32| {
        format!(
            "[site]\nname = \"b\"\nchanged = \"2013-02-28 06:15:00\"\nscripts_share = '\\\\nas01\\tools'\n\
             timezone = \"UTC\"\n[gpo]\nname = \"Farm\"\ndomain = \"campus.example.edu\"\n\
             [[server]]\nname = \"old1\"\nos = \"2003r2\"\n\
             [[kill]]\nimage = \"a.exe\"\nservers = [\"old1\"]\nevery_days = {days}\n"
        )
    };
    let s = site(&text(255));
    let bundle = sitebundle::build_bundle(&s).expect("builds");
    let tasks = bundle
        .files
        .iter()
        .find(|(p, _)| p.ends_with("ScheduledTasks/ScheduledTasks.xml"))
        .map(|(_, a)| String::from_utf8(a.bytes.clone()).unwrap())
        .expect("the GPO carries scheduled tasks");
    assert!(tasks.contains("interval=\"255\""), "{tasks}");
    let dir = common::write_tmp(&bundle);
    let (ok, out) = check_gpo(&[dir.path()], None);
    assert!(ok, "{out}");
    let Err(refused) = sitebundle::load_text("b.toml", &text(256)) else {
        panic!("every 256 days on a 2003 server through the GPO must be refused");
    };
    let rendered = refused.render();
    assert!(
        rendered.contains("every_days = 256 cannot reach `old1`"),
        "{rendered}"
    );
    assert!(rendered.contains("b.toml:15:14"), "{rendered}");
}

/// The GPO's legacy item limits are the plan's, over every task whichever family made it: a task
/// of a family the check has never heard of (`recycle[0]`) is refused at its own `every_days`
/// when it would reach a Server 2003 host through the GPO, and not otherwise.
#[test]
fn legacy_item_limits_apply_to_every_family_s_tasks() {
    use sitebundle::plan::gpo::items::{LEGACY_ITEM_MAX_DAYS, legacy_limits};
    let s = site(MIXED);
    let old = (0..s.farm.servers.len())
        .find(|&i| !s.farm.server(i).os.has_task_scheduler2())
        .unwrap();
    let new = (0..s.farm.servers.len())
        .find(|&i| s.farm.server(i).os.has_task_scheduler2())
        .unwrap();
    let every = |days: u32, hosts: Vec<usize>| {
        let mut t = spec(
            "Recycle",
            Trigger::Calendar(Schedule::new(
                "2011-06-01".parse().unwrap(),
                2,
                0,
                By::Days { interval: days },
            )),
            hosts,
            Principal::system(),
        );
        t.origin = "recycle[0]".into();
        t
    };
    let found = legacy_limits(&s.farm, &[every(LEGACY_ITEM_MAX_DAYS + 1, vec![new, old])]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "recycle[0].every_days");
    assert!(found[0].message.contains("at most 255 days"), "{found:?}");
    // At the limit, or on Task Scheduler 2.0 only, or without tasks in the GPO: nothing to refuse.
    assert!(legacy_limits(&s.farm, &[every(LEGACY_ITEM_MAX_DAYS, vec![old])]).is_empty());
    assert!(legacy_limits(&s.farm, &[every(300, vec![new])]).is_empty());
    let mut no_tasks = s.farm.clone();
    no_tasks
        .gpo
        .as_mut()
        .unwrap()
        .include
        .retain(|p| *p != Preference::Tasks);
    assert!(legacy_limits(&no_tasks, &[every(300, vec![old])]).is_empty());
}

/// Each family's `tasks` (what validation checks the limits on) are the tasks its contribution
/// puts in the plan, on every site of the suite.
#[test]
fn the_families_tasks_are_the_plan_s_tasks() {
    let mut sites = crate::common::fixtures();
    sites.push(("site.toml".into(), crate::common::read("site.toml")));
    sites.extend(crate::common::sites_in("tests/bad"));
    let mut checked = 0;
    for (name, text) in sites {
        let Ok((s, _)) = sitebundle::load_text(&name, &text) else {
            continue;
        };
        checked += 1;
        let mut declared = Vec::new();
        for family in sitebundle::families::FAMILIES {
            declared.extend((family.tasks)(&s).unwrap().into_iter().map(|t| t.name));
        }
        let planned: Vec<String> = sitebundle::plan(&s)
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(declared, planned, "{name}");
    }
    assert!(checked > 10, "{checked} sites");
}

/// The items of one preference file (any preference: Files, ScheduledTasks, Registry, Services,
/// Groups…) that do not name their computers: each child of the root is an item ([MS-GPPREF]
/// 2.2.1.1.2); its `Filters` must hold a FilterComputer ([MS-GPPREF] 2.2.1.22) with a name that
/// is one of the farm's servers.
fn items_without_computers(xml: &str, servers: &[String]) -> (usize, Vec<String>) {
    let doc = roxmltree::Document::parse(xml).expect("preference XML parses");
    let mut n = 0;
    let mut bad = Vec::new();
    for item in doc.root_element().children().filter(|c| c.is_element()) {
        n += 1;
        let names: Vec<&str> = item
            .children()
            .filter(|c| c.has_tag_name("Filters"))
            .flat_map(|f| f.descendants())
            .filter(|e| e.has_tag_name("FilterComputer") && e.attribute("not") == Some("0"))
            .filter_map(|e| e.attribute("name"))
            .collect();
        let ours = names
            .iter()
            .all(|n| servers.iter().any(|s| s.eq_ignore_ascii_case(n)));
        if names.is_empty() || !ours {
            bad.push(format!(
                "{} {:?} computers {names:?}",
                item.tag_name().name(),
                item.attribute("name")
            ));
        }
    }
    (n, bad)
}

/// The preference files of a bundle's GPO, as text.
fn preference_files(b: &Bundle) -> Vec<(String, String)> {
    b.files
        .iter()
        .filter(|(p, _)| p.starts_with("gpo/") && p.contains("/Machine/Preferences/"))
        .map(|(p, a)| (p.clone(), String::from_utf8(a.bytes.clone()).unwrap()))
        .collect()
}

/// The generator before issue 27: an item that reaches every server of its release carried only
/// the OS filter. Removes the computer collection of such items (of every item without an OS
/// filter that reaches every server).
fn old_targeting(xml: &str, site: &Site) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut cuts = Vec::new();
    for item in doc.root_element().children().filter(|c| c.is_element()) {
        let Some(f) = item.children().find(|c| c.has_tag_name("Filters")) else {
            continue;
        };
        let os: Vec<&str> = f
            .descendants()
            .filter(|e| e.has_tag_name("FilterOs"))
            .filter_map(|e| e.attribute("version"))
            .collect();
        let release: Vec<&String> = site
            .farm
            .servers
            .iter()
            .filter(|s| match os.first() {
                None => true,
                Some(v) => v.starts_with("2K8") == s.os.has_task_scheduler2(),
            })
            .map(|s| &s.name)
            .collect();
        for coll in f.children().filter(|c| c.has_tag_name("FilterCollection")) {
            let names: Vec<&str> = coll
                .children()
                .filter(|e| e.has_tag_name("FilterComputer"))
                .filter_map(|e| e.attribute("name"))
                .collect();
            if !names.is_empty() && names.len() == release.len() {
                cuts.push(coll.range());
            }
        }
    }
    let mut out = xml.to_string();
    for r in cuts.into_iter().rev() {
        // The collection and the line break before it.
        let start = out[..r.start].rfind("\r\n").unwrap_or(r.start);
        out.replace_range(start..r.end, "");
    }
    out
}

#[test]
fn every_preference_item_names_the_farm_computers() {
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    let (mut files, mut items) = (0, 0);
    for (name, text) in &sites {
        let b = common::build_text(name, text);
        let s = site(text);
        let servers: Vec<String> = s.farm.servers.iter().map(|x| x.name.clone()).collect();
        for (path, xml) in preference_files(&b) {
            files += 1;
            let (n, bad) = items_without_computers(&xml, &servers);
            items += n;
            assert!(
                bad.is_empty(),
                "{name}: {path}: items without the farm's computers: {bad:?}"
            );
        }
    }
    assert!(files >= 4 && items > 20, "{files} files, {items} items");
    // Control: the reference GPO as the old generator wrote it (an item reaching every server of
    // its release had only its OS filter): the check finds the 2008 WUTriggerMaintMode TaskV2
    // and the legacy KillProc-mssdmn item among others.
    let text = common::read("site.toml");
    let s = site(&text);
    let servers: Vec<String> = s.farm.servers.iter().map(|x| x.name.clone()).collect();
    let mut found = Vec::new();
    for (_, xml) in preference_files(&common::reference()) {
        found.extend(items_without_computers(&old_targeting(&xml, &s), &servers).1);
    }
    let found = found.join("\n");
    for want in [
        "TaskV2 Some(\"WUTriggerMaintMode\")",
        "Task Some(\"KillProc-mssdmn\")",
    ] {
        assert!(found.contains(want), "control missed {want}: {found}");
    }
}

/// The run-once ids and data of the alias items in a built site's Registry.xml.
fn alias_items(text: &str) -> Vec<(String, String)> {
    let b = common::build_text("variant.toml", text);
    let (_, xml) = b
        .files
        .iter()
        .find(|(p, _)| p.ends_with("Registry/Registry.xml"))
        .unwrap();
    let xml = String::from_utf8(xml.bytes.clone()).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.root_element()
        .children()
        .filter(|i| i.attribute("name") == Some("SPSQL"))
        .map(|i| {
            let id = i
                .descendants()
                .find(|e| e.has_tag_name("FilterRunOnce"))
                .and_then(|e| e.attribute("id"))
                .unwrap()
                .to_string();
            let props = i.children().find(|e| e.has_tag_name("Properties")).unwrap();
            assert_eq!(props.attribute("action"), Some("C"), "{xml}");
            (id, props.attribute("value").unwrap().to_string())
        })
        .collect()
}

/// Issue 27: a rebuild with a changed port, FQDN or site name keeps the alias items' run-once
/// ids ([MS-GPPREF] 2.2.1.22: the client skips an item whose id it has stored), so the servers
/// never apply the initial value again; the value itself does follow the site.
#[test]
fn alias_run_once_ids_survive_a_rebuild() {
    let text = common::read("site.toml");
    let base = alias_items(&text);
    assert_eq!(base.len(), 2, "{base:?}");
    for (what, variant) in [
        ("port", text.replace("port = 1433\n", "port = 1434\n")),
        (
            "FQDN",
            text.replace(
                "fqdn = \"sqlmirror1.campus.example.edu\"",
                "fqdn = \"sqlmirror1.db.example.edu\"",
            ),
        ),
        (
            "site name",
            text.replace("name = \"partnerpoint\"", "name = \"partnerpoint2\""),
        ),
    ] {
        assert_ne!(variant, text, "{what}");
        let got = alias_items(&variant);
        let ids = |v: &[(String, String)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&base), "{what} changed the run-once ids");
        if what != "site name" {
            assert_ne!(got, base, "{what}: the alias value did not change");
        }
    }
}

/// Issue 27: what an older bundle put on the servers and a rebuild lacks leaves through the GPO:
/// Delete items ([MS-GPPREF] action D) for its tasks (TaskV2 on 2008, the legacy Task on 2003)
/// and registry values, targeted at the servers that had them; a rebuild after that bundle keeps
/// them (inventory.json `retiring`), `drop_retired` forgets them. Control: the rebuild without the
/// older bundle has none, which the expectation catches.
#[test]
fn retired_items_leave_through_the_gpo() {
    let text = common::read("site.toml");
    let v1 = text.replace(
        "duration_minutes = 30\n",
        "duration_minutes = 30\nreboot_delay_minutes = 15\n",
    );
    let start = text.find("[[kill]]").unwrap();
    let end = start + 1 + text[start + 1..].find("\n[").unwrap();
    let v2 = format!("{}{}", &text[..start], &text[end + 1..]);
    let old = common::write_tmp(&common::build_text("v1.toml", &v1));
    let s2 = site(&v2);
    let new = sitebundle::build_bundle_after(&s2, Some(old.path()), false).unwrap();
    // Expected, from the two inventories: each task and value of v1 that v2 lacks, by server.
    let items = |b: &[u8]| -> std::collections::BTreeSet<(String, String, String)> {
        // inventory.json version 2: items with their hosts.
        let v: Value = serde_json::from_slice(b).unwrap();
        assert_eq!(v["inventory_version"], 2);
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| {
                i["hosts"].as_array().unwrap().iter().map(move |h| {
                    (
                        i["kind"].as_str().unwrap().to_string(),
                        i["name"].as_str().unwrap().to_string(),
                        h.as_str().unwrap().to_string(),
                    )
                })
            })
            .collect()
    };
    let before = items(&std::fs::read(old.path().join("inventory.json")).unwrap());
    let after = items(&common::build_text("v2.toml", &v2).files["inventory.json"].bytes);
    let mut deletes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, name, server) in before.difference(&after) {
        let new_os = s2
            .farm
            .servers
            .iter()
            .find(|x| &x.name == server)
            .unwrap()
            .os
            .has_task_scheduler2();
        let key = match kind.as_str() {
            "task" if new_os => format!("TaskV2 {name}"),
            "task" => format!("Task {name}"),
            "registry" => format!("Registry {}", name.strip_prefix("HKLM\\").unwrap()),
            _ => continue,
        };
        deletes.entry(key).or_default().push(server.clone());
    }
    for v in deletes.values_mut() {
        v.sort();
    }
    assert!(
        deletes.contains_key("TaskV2 KillProc-mssdmn"),
        "{deletes:?}"
    );
    assert!(deletes.contains_key("Task KillProc-mssdmn"), "{deletes:?}");
    assert!(
        deletes.contains_key(
            "Registry SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU\\RebootWarningTimeout"
        ),
        "{deletes:?}"
    );
    let mut expect = site_expectation(&s2, &new);
    expect["deletes"] = json!(
        deletes
            .iter()
            .map(|(k, v)| (k.clone(), json!({ "computers": v })))
            .collect::<serde_json::Map<_, _>>()
    );
    let dir = common::write_tmp(&new);
    let (ok, out) = check_gpo(&[dir.path()], Some(&expect));
    assert!(ok, "{out}");
    // A rebuild after the new bundle keeps deleting them; --drop-retired forgets them.
    let again = sitebundle::build_bundle_after(&s2, Some(dir.path()), false).unwrap();
    assert!(
        sitebundle::check::compare(&again, dir.path())
            .unwrap()
            .is_empty()
    );
    let dropped = sitebundle::build_bundle_after(&s2, Some(dir.path()), true).unwrap();
    let d = common::write_tmp(&dropped);
    let (ok, out) = check_gpo(&[d.path()], Some(&site_expectation(&s2, &dropped)));
    assert!(ok, "{out}");
    // Control: the rebuild without the older bundle deletes nothing.
    let plain = common::write_tmp(&common::build_text("v2.toml", &v2));
    let (ok, out) = check_gpo(&[plain.path()], Some(&expect));
    assert!(!ok && out.contains("deletes: the GPO holds {}"), "{out}");
}

/// For every Group Policy Preferences item with an OS filter and a computer filter, the names
/// in `xml`'s items whose release the OS filter leaves out (the filters' collections are ANDed and
/// each collection ORs its members: [MS-GPPREF] 2.2.1.22), as `item: server (release)`.
fn servers_the_os_filter_skips(site: &sitebundle::site::Site, xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut skipped = Vec::new();
    for filters in doc.descendants().filter(|n| n.has_tag_name("Filters")) {
        let item = filters.parent().unwrap();
        let versions: Vec<&str> = filters
            .descendants()
            .filter(|n| n.has_tag_name("FilterOs"))
            .filter_map(|n| n.attribute("version"))
            .collect();
        if versions.is_empty() {
            continue;
        }
        for name in filters
            .descendants()
            .filter(|n| n.has_tag_name("FilterComputer"))
            .filter_map(|n| n.attribute("name"))
        {
            let server = site
                .farm
                .servers
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .unwrap_or_else(|| panic!("{name} is not a server of the site"));
            if !versions.contains(&server.os.gpp_version()) {
                skipped.push(format!(
                    "{}: {name} ({})",
                    item.attribute("name").unwrap_or("?"),
                    server.os.label()
                ));
            }
        }
    }
    skipped
}

/// Issue 31: no item of the GPO silently skips a server of a newer release: every server an
/// item names passes its OS filter (2012 R2 is `WINBLUESRV`, 2016 to 2025 `WINTHRESHOLDSRV`).
/// Control: the old filter of the 2008-class items (2K8 and 2K8R2 only) skips the migration
/// fixture's 2012 R2 and 2019 servers.
#[test]
fn every_item_reaches_the_release_of_each_server() {
    let mut checked = 0;
    for (name, text) in common::fixtures() {
        let site = sitebundle::load_text(&name, &text).unwrap().0;
        let bundle = sitebundle::build_bundle(&site).unwrap();
        for (path, artifact) in bundle
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("gpo/") && p.ends_with(".xml"))
        {
            let xml = String::from_utf8_lossy(&artifact.bytes)
                .trim_start_matches('\u{feff}')
                .to_string();
            if !xml.contains("<Filters>") {
                continue;
            }
            let skipped = servers_the_os_filter_skips(&site, &xml);
            assert!(skipped.is_empty(), "{name} {path}: {skipped:?}");
            if name == "migration-2019.toml" && xml.contains("WINTHRESHOLDSRV") {
                let old = xml
                    .replace(
                        r#"<FilterOs bool="OR" not="0" class="NT" version="WINBLUESRV" type="NE" edition="NE" sp="NE"/>"#,
                        "",
                    )
                    .replace(
                        r#"<FilterOs bool="OR" not="0" class="NT" version="WINTHRESHOLDSRV" type="NE" edition="NE" sp="NE"/>"#,
                        "",
                    );
                let skipped = servers_the_os_filter_skips(&site, &old);
                assert!(
                    skipped.iter().any(|s| s.contains("Windows Server 2019"))
                        && skipped.iter().any(|s| s.contains("Windows Server 2012 R2")),
                    "the control skips nothing: {skipped:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 1, "the migration fixture's GPO was not checked");
}
