//! The PowerShell collector of Windows Server 2012 R2 and later, executed: the migration fixture
//! (2008 R2 front ends with the batch collector, 2012 R2 and 2019 servers with the .ps1) deployed
//! in the live-farm model, each server's collector run (tests/collect_ps.py: the script on the
//! PowerShell interpreter of farm_timeline.py, the ScheduledTasks, registry, file-hash and
//! sc.exe answers faked from the server's state), the folders audited. Controls: a task changed
//! on a 2019 server is exactly that drift; a task deleted there, or a collector that does not
//! export one of the tasks, is a missing task; an extra copy named like ours is extra.

use std::path::Path;

use sha2::Digest;

use super::farm::{self, LiveFarm, Server};
use super::{drift, export, run_collectors, run_edited_collectors};
use crate::common::read;

/// Windows' NT version of the fixture's releases, as Win32_OperatingSystem's Version gives it.
fn version(name: &str) -> &'static str {
    match name {
        "app1" => "6.3.9600",
        "web1" | "web2" => "6.1.7601",
        _ => "10.0.17763",
    }
}

/// Runs the .ps1 collector `path` (`bytes`) on the model of server `s`; its folder lands in
/// `root/bundle/collected/<NAME>`.
pub fn run(s: &Server, path: &str, bytes: &[u8], root: &Path) {
    let name = path.rsplit('/').next().unwrap();
    let script = root.join(name);
    std::fs::write(&script, bytes).unwrap();
    let mut tasks: Vec<serde_json::Value> = s
        .tasks
        .iter()
        .map(|t| serde_json::json!({"path": "\\", "name": t.name, "xml": export::task_xml(t)}))
        .collect();
    // Windows' own tasks live in folders below \Microsoft: never exported.
    for t in &s.foreign_tasks {
        let (folder, leaf) = t.name.rsplit_once('\\').unwrap_or(("", &t.name));
        tasks.push(serde_json::json!({"path": format!("\\{folder}\\"), "name": leaf, "xml": export::task_xml(t)}));
    }
    let registry: serde_json::Map<String, serde_json::Value> = s
        .registry
        .iter()
        .map(|v| {
            let value = match v.kind {
                "REG_DWORD" => serde_json::json!([
                    "DWord",
                    i64::from_str_radix(v.data.trim_start_matches("0x"), 16).unwrap()
                ]),
                _ => serde_json::json!(["String", v.data]),
            };
            (format!("{}|{}", v.key, v.name), value)
        })
        .collect();
    let files: serde_json::Map<String, serde_json::Value> = s
        .files
        .iter()
        .map(|(name, bytes)| {
            (
                format!(r"C:\localscripts\{name}"),
                serde_json::json!({"size": bytes.len(), "sha256": export::hex(&sha2::Sha256::digest(bytes))}),
            )
        })
        .collect();
    let machine = serde_json::json!({
        "env": {"COMPUTERNAME": s.name.to_ascii_uppercase(), "SystemRoot": farm::SYSTEM_ROOT_2008, "SystemDrive": "C:"},
        "version": version(&s.name),
        "tasks": tasks,
        "registry": registry,
        "files": files,
        "qfailure": s.services.iter().map(|q| (q.name.clone(), serde_json::Value::from(export::sc_qfailure(q)))).collect::<serde_json::Map<_, _>>(),
    });
    super::run_collector_model("tests/collect_ps.py", &script, &machine, root, &s.name);
}

fn migration() -> (sitebundle::site::Site, sitebundle::Built, LiveFarm) {
    let file = "tests/fixtures/migration-2019.toml";
    let (site, _) = sitebundle::load_text(file, &read(file)).unwrap();
    let built = sitebundle::build(&site).unwrap();
    let farm = LiveFarm::deployed(&site, &built.plan, &built.files);
    (site, built, farm)
}

fn audit(
    site: &sitebundle::site::Site,
    built: &sitebundle::Built,
    dir: &Path,
) -> sitebundle::audit::report::Report {
    sitebundle::audit::audit(&site.farm, &built.plan, &built.files, dir)
        .unwrap_or_else(|d| panic!("{}", d.iter().map(|d| d.render()).collect::<String>()))
}

#[test]
fn the_powershell_collectors_run_and_the_migration_farm_audits_in_sync() {
    let (site, built, farm) = migration();
    let ps1: Vec<&String> = (built.files.files.keys())
        .filter(|p| p.starts_with("collect/windows/") && p.ends_with(".ps1"))
        .collect();
    // One each: app1 (2012 R2) and the four 2019 servers, which are in different Windows Update
    // waves and so each have a different clock task (WUTriggerMaintMode-InstallWave<N>).
    assert_eq!(
        ps1,
        [
            "collect/windows/app1.ps1",
            "collect/windows/sql1.ps1",
            "collect/windows/sql2.ps1",
            "collect/windows/web3.ps1",
            "collect/windows/web4.ps1",
        ],
        "2012 R2 and one per 2019 server (their wave tasks differ)"
    );
    let collected = run_collectors(&built, &farm);
    // The 2019 servers' folders hold no schtasks list: what the audit read is the exports.
    assert!(!collected.path().join("WEB3/tasks.csv").exists());
    let xml = std::fs::read(collected.path().join("WEB3/tasks/Update-SqlAlias.xml")).unwrap();
    assert_eq!(&xml[..2], b"\xff\xfe", "UTF-16 LE with a BOM");
    let r = audit(&site, &built, collected.path());
    assert!(r.in_sync, "{}", r.to_text());
}

#[test]
fn a_task_changed_deleted_or_not_collected_on_2019_is_reported() {
    let (site, built, mut farm) = migration();
    // Drift: the switcher's interval on web3 changed by hand.
    farm.server("web3").task("Update-SqlAlias").triggers = vec![farm::Trigger::Repeat {
        start: "2025-03-01T00:00:00".into(),
        interval: "PT5M".into(),
    }];
    // Missing: the maintenance task deleted on sql1.
    farm.server("sql1")
        .tasks
        .retain(|t| t.name != "WUTriggerMaintMode-PS");
    // Extra: a copy named like ours registered on app1.
    let mut copy = farm.server("app1").task("Update-SqlAlias").clone();
    copy.name = "Update-SqlAlias-old".into();
    farm.server("app1").tasks.push(copy);
    let r = audit(&site, &built, run_collectors(&built, &farm).path());
    assert_eq!(
        drift(&r),
        [
            "server app1 | Extra | task Update-SqlAlias-old | -",
            "server sql1 | Missing | task WUTriggerMaintMode-PS | -",
            "server web3 | Drift | task Update-SqlAlias | trigger",
        ],
        "{}",
        r.to_text()
    );
    assert_eq!(r.exit_code(), 1);
}

/// Control: a collector that leaves one of the tasks out (its name removed from `$Tasks`)
/// brings back a folder the audit does not pass: the task is missing on every server of its
/// group, nothing else changes.
#[test]
fn a_collector_that_misses_a_task_fails_the_audit() {
    let (site, built, farm) = migration();
    let edit = |server: &str, bytes: &[u8]| {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        if !server.starts_with("web3") && !server.starts_with("web4") {
            return bytes.to_vec();
        }
        let cut = text.replace("('Update-SqlAlias'), ", "");
        assert_ne!(cut, text, "the edit applies");
        cut.into_bytes()
    };
    let r = audit(
        &site,
        &built,
        run_edited_collectors(&built, &farm, &edit).path(),
    );
    assert_eq!(
        drift(&r),
        [
            "server web3 | Missing | task Update-SqlAlias | -",
            "server web4 | Missing | task Update-SqlAlias | -",
        ],
        "{}",
        r.to_text()
    );
}

/// The 2019 front ends' exports in the shape of the corpus's real 1.4 export
/// (tests/corpus/windows/heroesshare-updater-task-1.4-utf16.xml): `version="1.4"`, the two
/// settings a 1.4 export adds after `RunOnlyIfIdle`, no `Author`, CRLF line ends, no newline after
/// `</Task>`, UTF-16 LE with a BOM. They audit in sync; the same files with the switcher's
/// interval changed are that drift (control).
#[test]
fn exports_shaped_as_a_real_1_4_export_audit_in_sync() {
    let (site, built, farm) = migration();
    let collected = run_collectors(&built, &farm);
    let reshape = |interval: Option<&str>| {
        for server in ["WEB3", "WEB4"] {
            let dir = collected.path().join(server).join("tasks");
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let units: Vec<u16> = (bytes[2..].chunks_exact(2))
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                let text = String::from_utf16(&units).unwrap().replace("\r\n", "\n");
                let mut text: String = text
                    .replace("<Task version=\"1.2\"", "<Task version=\"1.4\"")
                    .replace(
                        "    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n",
                        "    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n    <DisallowStartOnRemoteAppSession>false</DisallowStartOnRemoteAppSession>\n    <UseUnifiedSchedulingEngine>true</UseUnifiedSchedulingEngine>\n",
                    )
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("<Author>"))
                    .collect::<Vec<_>>()
                    .join("\r\n");
                assert!(text.contains("version=\"1.4\"") && text.contains("UseUnified"));
                if let Some(i) = interval {
                    text = text.replace("<Interval>PT1M</Interval>", i);
                }
                std::fs::write(&path, export::utf16_bom(&text)).unwrap();
            }
        }
    };
    reshape(None);
    let r = audit(&site, &built, collected.path());
    assert!(r.in_sync, "{}", r.to_text());
    reshape(Some("<Interval>PT2M</Interval>"));
    let r = audit(&site, &built, collected.path());
    assert_eq!(
        drift(&r),
        [
            "server web3 | Drift | task Update-SqlAlias | trigger",
            "server web4 | Drift | task Update-SqlAlias | trigger",
        ],
        "{}",
        r.to_text()
    );
}
