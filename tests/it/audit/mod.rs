//! `sitebundle audit`: the reference site's farm, deployed from the bundle (farm.rs) and written
//! into a collected folder the way Windows, SQL Server, BIG-IP and GPMC write their exports
//! (export.rs), audits as in sync; each drift of the issue, made to that model, is reported as
//! exactly that drift and nothing else; live state (the alias after a failover, the principal
//! side) is state, not drift; malformed or truncated exports are located errors, exit 2.

mod ag;
mod corpus;
mod export;
mod farm;
mod hostile;
mod powershell;

use std::path::Path;
use std::process::Command;

use sitebundle::Built;
use sitebundle::audit::report::{Kind, Report, Status};
use sitebundle::site::Site;

use crate::common::{read, repo};
use farm::{LiveFarm, Trigger};

fn reference() -> (Site, Built) {
    let (site, _) = sitebundle::load_text("site.toml", &read("site.toml")).unwrap();
    let built = sitebundle::build(&site).unwrap();
    (site, built)
}

fn deployed() -> (Site, Built, LiveFarm) {
    let (site, built) = reference();
    let farm = LiveFarm::deployed(&site, &built.plan, &built.files);
    (site, built, farm)
}

/// Writes the farm's exports and audits them.
fn audit_with(site: &Site, built: &Built, farm: &LiveFarm, edit: impl FnOnce(&Path)) -> Report {
    let dir = tempfile::tempdir().unwrap();
    export::write(farm, dir.path());
    edit(dir.path());
    match sitebundle::audit::audit(&site.farm, &built.plan, &built.files, dir.path()) {
        Ok(r) => r,
        Err(d) => panic!(
            "the collected folder does not parse:\n{}",
            d.iter().map(|d| d.render()).collect::<String>()
        ),
    }
}

fn audit(site: &Site, built: &Built, farm: &LiveFarm) -> Report {
    audit_with(site, built, farm, |_| {})
}

/// Every drift finding as `source | kind | object | field`.
fn drift(r: &Report) -> Vec<String> {
    r.drift()
        .iter()
        .map(|(s, f)| {
            format!(
                "{s} | {:?} | {} | {}",
                f.kind,
                f.object,
                f.field.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

/// The farm as deployed, changed by `change`, reports exactly `expected` (and exit 1).
fn assert_drift(change: impl FnOnce(&mut LiveFarm), expected: &[&str]) {
    let (site, plan, mut farm) = deployed();
    change(&mut farm);
    let r = audit(&site, &plan, &farm);
    assert_eq!(drift(&r), expected, "{}", r.to_text());
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn the_deployed_reference_farm_audits_in_sync() {
    let (site, plan, farm) = deployed();
    let r = audit(&site, &plan, &farm);
    assert!(r.in_sync, "{}", r.to_text());
    assert_eq!(r.exit_code(), 0);
    // Every source is there and compared: 5 servers, 2 SQL partners, the BIG-IP, the GPO.
    assert_eq!(r.sources.len(), 9, "{}", r.to_text());
    assert!(r.sources.iter().all(|s| s.status == Status::InSync));
    // The principal side is reported as state (the databases' roles), never as drift.
    assert!(
        r.sources
            .iter()
            .any(|s| s.findings.iter().any(|f| f.kind == Kind::State))
    );
}

#[test]
fn tmsh_list_output_with_relative_names_reads_like_the_saved_config() {
    let (site, plan, mut farm) = deployed();
    // `tmsh list` inside /Common prints names relative to the folder (an iRule's body is
    // printed as it is).
    let conf = &farm.bigip_conf;
    let body_start = conf
        .find("ltm rule /Common/vs_sharepoint_routes {\n")
        .unwrap()
        + 40;
    let body_end = body_start + conf[body_start..].find("\n}\nltm virtual").unwrap();
    farm.bigip_conf = format!(
        "{}{}{}",
        conf[..body_start].replace("/Common/", ""),
        &conf[body_start..body_end],
        conf[body_end..].replace("/Common/", "")
    );
    let r = audit(&site, &plan, &farm);
    assert!(r.in_sync, "{}", r.to_text());
}

#[test]
fn a_task_time_changed() {
    assert_drift(
        |f| {
            let t = f.server("sharepoint2").task("KillProc-mssdmn");
            t.triggers = vec![Trigger::Daily {
                start: "2010-04-09T03:30:00".into(),
                days: "1".into(),
            }];
        },
        &["server sharepoint2 | Drift | task KillProc-mssdmn | trigger"],
    );
}

#[test]
fn a_2003_task_time_changed() {
    assert_drift(
        |f| {
            let t = f.server("ects-app1").task("WUTriggerMaintMode-Refresh");
            t.triggers = vec![Trigger::Daily {
                start: "2010-04-09T05:00:00".into(),
                days: "1".into(),
            }];
        },
        &["server ects-app1 | Drift | task WUTriggerMaintMode-Refresh | trigger"],
    );
}

#[test]
fn a_trigger_added() {
    assert_drift(
        |f| {
            f.server("sharepoint3")
                .task("Update-SqlAlias")
                .triggers
                .push(Trigger::Boot)
        },
        &["server sharepoint3 | Drift | task Update-SqlAlias | trigger"],
    );
}

#[test]
fn a_script_edited() {
    assert_drift(
        |f| {
            let s = f.server("ects-app1");
            let (_, bytes) = s
                .files
                .iter_mut()
                .find(|(n, _)| n == "killProc.cmd")
                .unwrap();
            let at = bytes.iter().position(|&b| b == b'0').unwrap();
            bytes[at] = b'1';
        },
        &["server ects-app1 | Drift | file killProc.cmd | sha1"],
    );
    assert_drift(
        |f| {
            let s = f.server("sharepoint2");
            let (_, bytes) = s
                .files
                .iter_mut()
                .find(|(n, _)| n == "Update-SqlAlias.ps1")
                .unwrap();
            bytes.extend_from_slice(b"# edited\r\n");
        },
        &[
            "server sharepoint2 | Drift | file Update-SqlAlias.ps1 | sha256",
            "server sharepoint2 | Drift | file Update-SqlAlias.ps1 | size",
        ],
    );
}

#[test]
fn a_registry_value_changed() {
    // The reference with the restart delay set (without it the bundle writes no policy value).
    let text = read("site.toml").replace(
        "duration_minutes = 30\n",
        "duration_minutes = 30\nreboot_delay_minutes = 15\n",
    );
    let (site, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let plan = sitebundle::build(&site).unwrap();
    let mut farm = LiveFarm::deployed(&site, &plan.plan, &plan.files);
    assert!(audit(&site, &plan, &farm).in_sync);
    let change = |f: &mut LiveFarm| {
        let v = f
            .server("sqlmirror1")
            .registry
            .iter_mut()
            .find(|v| v.name == "RebootWarningTimeout")
            .unwrap();
        // Below the 15 minutes the bundle writes on 2008 R2 (never under the release's default).
        v.data = "0x3".into();
    };
    change(&mut farm);
    let r = audit(&site, &plan, &farm);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        drift(&r),
        &[
            r"server sqlmirror1 | Drift | registry HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU\RebootWarningTimeout | data",
        ],
    );
}

/// A change on the service's Recovery tab (services.msc) is found through `sc qfailure`.
#[test]
fn a_services_recovery_changed() {
    assert_drift(
        |f| f.server("sharepoint3").services[0].reset_seconds = 0,
        &["server sharepoint3 | Drift | service SPTimerV3 | reset period"],
    );
    assert_drift(
        |f| {
            let s = &mut f.server("sharepoint2").services[0];
            s.actions[2] = ("NONE".into(), 0);
        },
        &["server sharepoint2 | Drift | service SPTimerV3 | actions"],
    );
    assert_drift(
        // Another service answers (the timer service was uninstalled and sc qfailure of it
        // printed only "OpenService FAILED 1060", which the parser reads as no block).
        |f| f.server("sharepoint2").services[0].name = "SPTraceV3".into(),
        &["server sharepoint2 | Missing | service SPTimerV3 | -"],
    );
}

fn edit_conf(f: &mut LiveFarm, from: &str, to: &str) {
    assert!(
        f.bigip_conf.contains(from),
        "{from:?} not in the saved config"
    );
    f.bigip_conf = f.bigip_conf.replacen(from, to, 1);
}

#[test]
fn a_pool_members_priority_group_changed() {
    assert_drift(
        |f| {
            edit_conf(
                f,
                "ltm pool /Common/PartnerPoint {\n    description \"ECTS front end: sharepoint3 preferred\"\n    members {\n        /Common/sharepoint3:80 {\n            address 10.20.30.13\n            priority-group 2",
                "ltm pool /Common/PartnerPoint {\n    description \"ECTS front end: sharepoint3 preferred\"\n    members {\n        /Common/sharepoint3:80 {\n            address 10.20.30.13\n            priority-group 1",
            )
        },
        &[
            "f5 | Drift | ltm pool /Common/PartnerPoint | members./Common/sharepoint3:80.priority-group",
        ],
    );
}

#[test]
fn a_monitor_removed_from_a_pool() {
    assert_drift(
        |f| {
            edit_conf(
                f,
                "    monitor /Common/mon_adlds_ldap and /Common/mon_adlds_ldaps and /Common/mon_partnerpoint_http\n    service-down-action reset\n}\nltm pool /Common/ADLDS_ldaps",
                "    monitor /Common/mon_adlds_ldaps and /Common/mon_partnerpoint_http\n    service-down-action reset\n}\nltm pool /Common/ADLDS_ldaps",
            )
        },
        &["f5 | Drift | ltm pool /Common/ADLDS_ldap | monitor"],
    );
}

#[test]
fn persistence_added_to_a_virtual_server() {
    assert_drift(
        |f| {
            edit_conf(
                f,
                "    pool /Common/PartnerPoint\n    profiles {",
                "    persist {\n        /Common/source_addr {\n            default yes\n        }\n    }\n    pool /Common/PartnerPoint\n    profiles {",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_ects | persist"],
    );
}

#[test]
fn an_irule_edited() {
    assert_drift(
        |f| {
            edit_conf(
                f,
                "            pool /Common/WSS_partner_admin",
                "            pool /Common/SharePoint",
            )
        },
        &["f5 | Drift | ltm rule /Common/vs_sharepoint_routes | body"],
    );
}

fn sql_row<'a>(f: &'a mut LiveFarm, partner: &str, kind: &str, name: &str) -> &'a mut Vec<String> {
    f.sql(partner)
        .rows
        .iter_mut()
        .find(|r| r[0] == kind && r[1] == name)
        .unwrap()
}

const JOB: &str = "SP Mirroring - fail over all databases";

#[test]
fn the_job_disabled() {
    assert_drift(
        |f| sql_row(f, "sqlmirror1", "job", JOB)[2] = "0".into(),
        &["sql sqlmirror1 | Drift | job SP Mirroring - fail over all databases | enabled"],
    );
}

#[test]
fn a_schedules_time_changed() {
    assert_drift(
        |f| {
            let row = f
                .sql("sqlmirror2")
                .rows
                .iter_mut()
                .find(|r| r[0] == "schedule")
                .unwrap();
            assert_eq!(row[8], "30");
            row[8] = "0".into();
        },
        &[
            "sql sqlmirror2 | Drift | schedule SP Mirroring - fail over all databases | active_start_time",
        ],
    );
}

#[test]
fn an_alert_dropped() {
    assert_drift(
        |f| {
            f.sql("sqlmirror1")
                .rows
                .retain(|r| !(r[0] == "alert" && r[1] == "partnerpoint - automatic failover"))
        },
        &["sql sqlmirror1 | Missing | alert partnerpoint - automatic failover | -"],
    );
}

#[test]
fn a_database_in_high_performance_mode() {
    assert_drift(
        |f| sql_row(f, "sqlmirror1", "database", "WSS_Content_ECTS")[4] = "OFF".into(),
        &["sql sqlmirror1 | Drift | database WSS_Content_ECTS | safety"],
    );
}

#[test]
fn a_gpp_item_removed() {
    let (site, plan, mut farm) = deployed();
    let (_, files) = farm.gpo.as_mut().unwrap();
    let (_, registry) = files
        .iter_mut()
        .find(|(p, _)| p.ends_with("Registry/Registry.xml"))
        .unwrap();
    let text = String::from_utf8(registry.clone()).unwrap();
    let start = text.find("\t<Registry ").unwrap();
    let end = text[start..].find("</Registry>\r\n").unwrap() + start + "</Registry>\r\n".len();
    let removed = &text[start..end];
    let name = removed
        .split("name=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let uid = removed
        .split("uid=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    *registry = format!("{}{}", &text[..start], &text[end..]).into_bytes();
    let r = audit(&site, &plan, &farm);
    assert_eq!(
        drift(&r),
        [format!("gpo | Missing | gpp Registry {name} {uid} | -")],
        "{}",
        r.to_text()
    );
}

#[test]
fn an_extra_task_named_like_ours() {
    assert_drift(
        |f| {
            let s = f.server("sharepoint3");
            let mut copy = s.task("KillProc-mssdmn").clone();
            copy.name = "KillProc-mssdmn (old)".into();
            s.foreign_tasks.push(copy);
        },
        &["server sharepoint3 | Extra | task KillProc-mssdmn (old) | -"],
    );
}

#[test]
fn a_missing_server_folder() {
    let (site, plan, farm) = deployed();
    let r = audit_with(&site, &plan, &farm, |dir| {
        std::fs::remove_dir_all(dir.join("sqlmirror2")).unwrap()
    });
    assert_eq!(r.exit_code(), 1);
    let not_in_sync: Vec<(&str, Status)> = r
        .sources
        .iter()
        .filter(|s| s.status != Status::InSync)
        .map(|s| (s.source.as_str(), s.status))
        .collect();
    assert_eq!(not_in_sync, [("server sqlmirror2", Status::Missing)]);
}

#[test]
fn a_second_event_trigger_of_our_name() {
    assert_drift(
        |f| {
            let s = f.server("ects-app1");
            let t = s.triggers[0].clone();
            s.triggers.push(t);
        },
        &[
            "server ects-app1 | Extra | eventtrigger Windows Update - Reboot Impending (a second copy) | -",
        ],
    );
}

#[test]
fn the_alias_after_a_failover_and_the_principal_side_are_state_not_drift() {
    let (site, plan, mut farm) = deployed();
    for s in ["sharepoint2", "sharepoint3"] {
        for v in &mut farm.server(s).registry {
            v.data = v.data.replace("sqlmirror1.", "sqlmirror2.");
        }
    }
    for (partner, role) in [("sqlmirror1", "MIRROR"), ("sqlmirror2", "PRINCIPAL")] {
        for r in farm
            .sql(partner)
            .rows
            .iter_mut()
            .filter(|r| r[0] == "database")
        {
            r[2] = role.into();
        }
    }
    let r = audit(&site, &plan, &farm);
    assert!(r.in_sync, "{}", r.to_text());
    let alias_state = r
        .sources
        .iter()
        .filter(|s| s.source == "server sharepoint2")
        .flat_map(|s| &s.findings)
        .filter(|f| f.kind == Kind::State && f.object.ends_with(r"ConnectTo\SPSQL"))
        .count();
    assert_eq!(alias_state, 2, "{}", r.to_text());
    // Control: an alias pointing at a server that is no partner is drift.
    for v in &mut farm.server("sharepoint2").registry {
        v.data = v.data.replace("sqlmirror2.", "sqlold.");
    }
    assert_eq!(audit(&site, &plan, &farm).exit_code(), 1);
}

/// Runs `sitebundle audit site.toml --from DIR`.
fn cli(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .current_dir(repo())
        .args(["audit", "site.toml", "--from"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_command_prints_text_or_json_and_exits_0_1_or_2() {
    let (_, _, mut farm) = deployed();
    let dir = tempfile::tempdir().unwrap();
    export::write(&farm, dir.path());
    let out = cli(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("9 of 9 sources in sync"));
    let out = cli(dir.path(), &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "sitebundle-audit");
    assert_eq!(json["ok"], true);
    assert_eq!(json["in_sync"], true);
    let mut documents = vec![out.stdout.clone()];

    sql_row(&mut farm, "sqlmirror1", "job", JOB)[2] = "0".into();
    let dir = tempfile::tempdir().unwrap();
    export::write(&farm, dir.path());
    let out = cli(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    documents.push(out.stdout.clone());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let sql = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "sql sqlmirror1")
        .unwrap();
    assert_eq!(sql["status"], "drifted");
    let drift: Vec<&serde_json::Value> = sql["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "drift")
        .collect();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["object"], format!("job {JOB}"));
    assert_eq!(drift[0]["field"], "enabled");
    assert_eq!(drift[0]["expected"], "1");
    assert_eq!(drift[0]["found"], "0");

    // A truncated export: exit 2, the error in the document's diagnostics.
    let p = dir.path().join("sql/sqlmirror2.txt");
    let text = std::fs::read(&p).unwrap();
    std::fs::write(&p, &text[..text.len() / 2]).unwrap();
    let out = cli(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    documents.push(out.stdout.clone());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["errors"], 1);
    assert_eq!(json["diagnostics"][0]["code"], "collected-export");
    assert_eq!(json["diagnostics"][0]["file"], "sql/sqlmirror2.txt");
    assert!(json.get("sources").is_none());

    // Every document matches docs/schemas/audit.schema.json.
    let docs = tempfile::tempdir().unwrap();
    let paths: Vec<std::path::PathBuf> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = docs.path().join(format!("audit-{i}.json"));
            std::fs::write(&p, d).unwrap();
            p
        })
        .collect();
    for p in &paths {
        let errors = crate::checks::json_output::check_file(p);
        assert!(errors.is_empty(), "{}: {errors:?}", p.display());
    }
    // Control: a document with an unknown finding kind fails the schema.
    let broken = String::from_utf8(documents[1].clone()).unwrap().replacen(
        "\"kind\": \"drift\"",
        "\"kind\": \"drifted\"",
        1,
    );
    std::fs::write(&paths[1], broken).unwrap();
    assert!(!crate::checks::json_output::check_file(&paths[1]).is_empty());
}

#[test]
fn audit_help_explains_collection() {
    let out = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .args(["audit", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "collect\\windows\\<server>.cmd",
        "collect-sql.sql",
        "collect-ag.sql",
        "tmsh list",
        "Backup-GPO",
        "Exit codes",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}

/// Each export cut short or garbled is bad input: exit 2, the file named with line and column,
/// every broken file reported at once, nothing printed on stdout.
#[test]
fn malformed_and_truncated_exports_are_located_errors() {
    let (_, _, farm) = deployed();
    let dir = tempfile::tempdir().unwrap();
    export::write(&farm, dir.path());
    let cut = |rel: &str, keep: f64| {
        let p = dir.path().join(rel);
        let bytes = std::fs::read(&p).unwrap();
        let mut n = (bytes.len() as f64 * keep) as usize;
        n -= n % 2;
        std::fs::write(&p, &bytes[..n]).unwrap();
    };
    cut("sharepoint2/tasks/KillProc-mssdmn.xml", 0.5);
    cut("sql/sqlmirror1.txt", 0.6);
    cut("f5/bigip.conf", 0.5);
    cut("ects-app1/tasks.csv", 0.7);
    std::fs::write(
        dir.path().join("sharepoint3/registry.txt"),
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\X\r\n    Alias\r\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ects-app1/eventtriggers.csv"),
        "\"1\",\"name\r\n",
    )
    .unwrap();
    let out = cli(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    for file in [
        "sharepoint2/tasks/KillProc-mssdmn.xml:",
        "sql/sqlmirror1.txt:",
        "f5/bigip.conf:",
        "ects-app1/tasks.csv:",
        "sharepoint3/registry.txt:2:",
        "ects-app1/eventtriggers.csv:1:",
    ] {
        assert!(err.contains(file), "{file} not located in:\n{err}");
    }
    assert!(err.contains("help:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The Windows collectors themselves, run in a model of cmd.exe (tests/validators/collect_sim.py)
/// on machines whose tools print what the live farm holds: what they write audits in sync, and a
/// registry value changed on one machine is found through them.
#[test]
fn the_windows_collectors_run_in_a_cmd_model_and_audit_in_sync() {
    let (site, plan, mut farm) = deployed();
    let collected = run_collectors(&plan, &farm);
    let r =
        sitebundle::audit::audit(&site.farm, &plan.plan, &plan.files, collected.path()).unwrap();
    assert!(r.in_sync, "{}", r.to_text());
    // Control: the same machines with one value changed and one task deleted (schtasks then
    // prints nothing and the collector leaves an empty file).
    farm.server("sharepoint3").registry[0].data = "DBMSSOCN,elsewhere,1433".into();
    farm.server("sqlmirror1").tasks.clear();
    let collected = run_collectors(&plan, &farm);
    let r =
        sitebundle::audit::audit(&site.farm, &plan.plan, &plan.files, collected.path()).unwrap();
    assert_eq!(
        drift(&r),
        [
            r"server sharepoint3 | Drift | registry HKLM\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo\SPSQL | data",
            "server sqlmirror1 | Missing | task WUTriggerMaintMode | -",
        ]
    );
}

/// The Windows collector that runs on `server` (one per group of servers that collect the same),
/// with its path in the bundle.
fn collector_of<'a>(
    files: &'a sitebundle::bundle::Bundle,
    server: &str,
) -> (&'a String, &'a sitebundle::bundle::Artifact) {
    let found: Vec<_> = files
        .files
        .iter()
        .filter(|(p, a)| {
            p.starts_with("collect/windows/") && a.hosts.servers().iter().any(|h| h == server)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{server}: {:?}",
        found.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    found[0]
}

/// The farm's exports with every server folder written by its collector: the batch collector in
/// the cmd model, the PowerShell one (Windows Server 2012 R2 and later) by the interpreter of
/// tests/collect_ps.py.
fn run_collectors(plan: &Built, farm: &LiveFarm) -> tempfile::TempDir {
    run_edited_collectors(plan, farm, &|_, b| b.to_vec())
}

/// Runs a collector `script` in the model `model` (a Python script of the repository: the cmd.exe
/// or the PowerShell one) on the machine `machine` describes, writing under `root`; the model's
/// failure fails the test, naming `server`.
pub(super) fn run_collector_model(
    model: &str,
    script: &std::path::Path,
    machine: &serde_json::Value,
    root: &std::path::Path,
    server: &str,
) {
    let machine_path = root.join("machine.json");
    std::fs::write(&machine_path, machine.to_string()).unwrap();
    let out = Command::new(crate::common::python())
        .arg(repo().join(model))
        .arg(script)
        .arg(&machine_path)
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{server}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// As [`run_collectors`], each server's collector changed by `edit(server, bytes)` first.
fn run_edited_collectors(
    plan: &Built,
    farm: &LiveFarm,
    edit: &dyn Fn(&str, &[u8]) -> Vec<u8>,
) -> tempfile::TempDir {
    use sha2::Digest;
    let collected = tempfile::tempdir().unwrap();
    export::write(farm, collected.path());
    for s in &farm.servers {
        std::fs::remove_dir_all(collected.path().join(&s.name)).unwrap();
        let root = tempfile::tempdir().unwrap();
        let (path, collector) = collector_of(&plan.files, &s.name);
        let bytes = edit(&s.name, &collector.bytes);
        if path.ends_with(".ps1") {
            powershell::run(s, path, &bytes, root.path());
            let reported = s.name.to_ascii_uppercase();
            std::fs::rename(
                root.path().join("bundle/collected").join(&reported),
                collected.path().join(&reported),
            )
            .unwrap();
            continue;
        }
        let script = root.path().join(format!("{}.cmd", s.name));
        std::fs::write(&script, &bytes).unwrap();
        let drive = "C:";
        let system_root = if s.v2 {
            farm::SYSTEM_ROOT_2008
        } else {
            farm::SYSTEM_ROOT_2003
        };
        let files: serde_json::Map<String, serde_json::Value> = s
            .files
            .iter()
            .map(|(name, bytes)| {
                (
                    format!(r"{drive}\localscripts\{name}"),
                    serde_json::json!({
                        "size": bytes.len(),
                        "sha256": export::hex(&sha2::Sha256::digest(bytes)),
                        "sha1": sha1_smol::Sha1::from(bytes).digest().to_string(),
                    }),
                )
            })
            .collect();
        let tasks: serde_json::Map<String, serde_json::Value> = s
            .tasks
            .iter()
            .map(|t| (t.name.clone(), export::task_xml(t).into()))
            .collect();
        let reg: serde_json::Map<String, serde_json::Value> = s
            .registry
            .iter()
            .map(|v| {
                (
                    format!(r"HKLM\{}|{}", v.key, v.name),
                    export::reg_query_one(v, s.v2).into(),
                )
            })
            .collect();
        let triggers: String = s
            .triggers
            .iter()
            .enumerate()
            .map(|(i, (n, t))| format!("\"{}\",\"{n}\",\"{t}\"\r\n", i + 1))
            .collect();
        let machine = serde_json::json!({
            "env": {"COMPUTERNAME": s.name.to_ascii_uppercase(), "SystemRoot": system_root, "SystemDrive": drive},
            "ver": if s.v2 { "Microsoft Windows [Version 6.1.7601]" } else { "Microsoft Windows [Version 5.2.3790]" },
            "schtasks_csv": export::schtasks_csv(s),
            "tasks_xml": tasks,
            "reg": reg,
            "files": files,
            "eventtriggers": triggers,
            "qfailure": s.services.iter().map(|q| (q.name.clone(), serde_json::Value::from(export::sc_qfailure(q)))).collect::<serde_json::Map<_, _>>(),
        });
        run_collector_model(
            "tests/validators/collect_sim.py",
            &script,
            &machine,
            root.path(),
            &s.name,
        );
        // The collector writes under the name the server reports (%COMPUTERNAME%, upper case).
        let reported = s.name.to_ascii_uppercase();
        std::fs::rename(
            root.path().join("bundle/collected").join(&reported),
            collected.path().join(&reported),
        )
        .unwrap();
    }
    collected
}
