//! The process killer's exit codes, by running the generated killProc.cmd in a small cmd.exe
//! emulator (tests/validators/batch_sim.py) with tasklist/find/taskkill stubbed per scenario.

use crate::common;

use std::path::Path;
use std::process::Command;

/// Runs `script` in the cmd.exe emulator over `scenarios`; one JSON result per scenario.
fn emulate(script: &Path, scenarios: serde_json::Value) -> Vec<serde_json::Value> {
    let sc = script.with_file_name("scenarios.json");
    std::fs::write(&sc, scenarios.to_string()).unwrap();
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/validators/batch_sim.py"))
        .arg(script)
        .arg(&sc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn exit_codes_mean_what_the_scheduler_needs() {
    let bundle = common::reference();
    let tmp = common::write_tmp(&bundle);
    let script = tmp.path().join("scripts/killProc.cmd");
    let scenarios = serde_json::json!([
        {"name": "no argument", "args": [], "running": []},
        {"name": "not running", "args": ["mssdmn.exe"], "running": ["w3wp.exe"]},
        {"name": "running, killed", "args": ["mssdmn.exe"], "running": ["MSSDMN.EXE"], "taskkill_rc": 0},
        {"name": "running, kill failed", "args": ["mssdmn.exe"], "running": ["mssdmn.exe"], "taskkill_rc": 1},
        {"name": "running, vanished before kill", "args": ["mssdmn.exe"], "running": ["mssdmn.exe"], "taskkill_rc": 128},
        {"name": "quoted argument", "args": ["\"mssdmn.exe\""], "running": []},
        {"name": "long image name running", "args": ["Microsoft.Office.Server.Search.exe"], "running": ["Microsoft.Office.Server.Search.exe"], "taskkill_rc": 0},
        {"name": "long image name not running", "args": ["Microsoft.Office.Server.Search.exe"], "running": ["Microsoft.Office.Server.Searcher.exe"], "taskkill_rc": 128},
        {"name": "tasklist fails", "args": ["mssdmn.exe"], "running": ["mssdmn.exe"], "tasklist_rc": 1, "taskkill_rc": 0}
    ]);
    let results = emulate(&script, scenarios);
    let code = |name: &str| {
        results.iter().find(|r| r["name"] == name).unwrap()["exit"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(code("no argument"), 100);
    assert_eq!(code("not running"), 0);
    assert_eq!(code("running, killed"), 0);
    assert_eq!(code("running, kill failed"), 1);
    assert_eq!(code("running, vanished before kill"), 128);
    assert_eq!(code("quoted argument"), 0);
    // A name longer than the table format's 25 characters is still found (CSV), and only the
    // exact name: a process whose name merely starts the same is not killed.
    assert_eq!(code("long image name running"), 0);
    assert_eq!(code("long image name not running"), 0);
    let long_not = results
        .iter()
        .find(|r| r["name"] == "long image name not running")
        .unwrap();
    assert!(
        !long_not["trace"].to_string().contains("taskkill"),
        "{long_not}"
    );
    let long = results
        .iter()
        .find(|r| r["name"] == "long image name running")
        .unwrap();
    assert!(long["trace"].to_string().contains("taskkill"), "{long}");
    // A failing tasklist is a failure (101), never "not running", and nothing is killed.
    assert_eq!(code("tasklist fails"), 101);
    let failed = results
        .iter()
        .find(|r| r["name"] == "tasklist fails")
        .unwrap();
    assert!(
        !failed["trace"].to_string().contains("taskkill"),
        "{failed}"
    );
    // taskkill is never called when the process is not running.
    let not_running = results.iter().find(|r| r["name"] == "not running").unwrap();
    assert!(
        !not_running["trace"].to_string().contains("taskkill"),
        "{not_running}"
    );
}

#[test]
fn kill_task_runs_the_script_with_the_image_as_one_argument() {
    let bundle = common::reference();
    let xml =
        sitebundle::bundle::decode_for_display(&bundle.files["tasks/KillProc-mssdmn.xml"].bytes)
            .unwrap();
    // Read the action back as data (the XSD validation checks the structure).
    let element = |name: &str| -> String {
        let open = format!("<{name}>");
        let a = xml.find(&open).unwrap_or_else(|| panic!("no {name}")) + open.len();
        let b = a + xml[a..].find(&format!("</{name}>")).unwrap();
        quick_xml::escape::unescape(&xml[a..b]).unwrap().to_string()
    };
    let (command, arguments) = (element("Command"), element("Arguments"));
    assert_eq!(command, r"%SystemRoot%\System32\cmd.exe");
    assert_eq!(
        arguments,
        r#"/c ""%SystemDrive%\localscripts\killProc.cmd" "mssdmn.exe"""#
    );
}

/// The emulator is not a rubber stamp: the original write-up's bug (the tasklist|find result ignored) is caught.
#[test]
fn emulator_catches_the_seed_bug() {
    let bundle = common::reference();
    let tmp = common::write_tmp(&bundle);
    let script = tmp.path().join("scripts/killProc.cmd");
    let text = std::fs::read_to_string(&script).unwrap();
    let broken = text.replace("if errorlevel 1 goto notrunning\r\n", "");
    assert_ne!(broken, text);
    std::fs::write(&script, broken).unwrap();
    let results = emulate(
        &script,
        serde_json::json!([{"name": "not running", "args": ["mssdmn.exe"], "running": [], "taskkill_rc": 128}]),
    );
    let v = &results[0];
    assert_eq!(
        v["exit"], 128,
        "without the check, a missing process gives taskkill's 128: {v}"
    );
}

/// Control: the earlier script (table format, `tasklist | find`) misses a running process whose
/// image name is longer than 25 characters and says it is not running (sensu-plugins-windows#86);
/// the same emulator finds it with the current script.
#[test]
fn table_format_control_misses_long_image_names() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("killProc.cmd");
    std::fs::write(&old, OLD_KILLPROC.replace('\n', "\r\n")).unwrap();
    let results = emulate(
        &old,
        serde_json::json!([{"name": "long", "args": ["Microsoft.Office.Server.Search.exe"],
                            "running": ["Microsoft.Office.Server.Search.exe"], "taskkill_rc": 0}]),
    );
    assert_eq!(results[0]["exit"], 0);
    assert!(
        !results[0]["trace"].to_string().contains("taskkill"),
        "the table format should miss it: {}",
        results[0]
    );
}

/// The lines of the earlier killProc.cmd that matter (labels and the tasklist | find pipeline).
const OLD_KILLPROC: &str = r#"@echo off
setlocal EnableExtensions DisableDelayedExpansion
if "%~1"=="" goto usage
set "proc=%~1"
"%SystemRoot%\System32\tasklist.exe" /NH /FI "IMAGENAME eq %proc%" 2>NUL | "%SystemRoot%\System32\find.exe" /I "%proc%" >NUL
if errorlevel 1 goto notrunning
"%SystemRoot%\System32\taskkill.exe" /F /IM "%proc%"
exit /b %errorlevel%
:notrunning
echo "%proc%" is not running; nothing to kill.
exit /b 0
:usage
exit /b 100
"#;

/// `restart_service`: after a kill, `net start` the service; when net start fails (it exits 2 also
/// for a service that already runs), `sc query` decides. Executed in the emulator for every branch.
#[test]
fn restart_service_starts_the_service_again_after_a_kill() {
    let text = common::read("site.toml").replace(
        "image = \"mssdmn.exe\"\n",
        "image = \"mssdmn.exe\"\nrestart_service = \"OSearch\"\n",
    );
    let bundle = common::build_text("restart.toml", &text);
    let xml =
        sitebundle::bundle::decode_for_display(&bundle.files["tasks/KillProc-mssdmn.xml"].bytes)
            .unwrap();
    assert!(
        xml.contains(
            r#"killProc.cmd&quot; &quot;mssdmn.exe&quot; &quot;OSearch&quot;&quot;</Arguments>"#
        ),
        "the service is the script's second argument:\n{xml}"
    );
    let tmp = common::write_tmp(&bundle);
    let script = tmp.path().join("scripts/killProc.cmd");
    let run = |script: &Path| {
        emulate(
            script,
            serde_json::json!([
                {"name": "killed, started", "args": ["mssdmn.exe", "OSearch"], "running": ["mssdmn.exe"], "net_start_rc": 0},
                {"name": "killed, already running", "args": ["mssdmn.exe", "OSearch"], "running": ["mssdmn.exe"], "net_start_rc": 2, "service_state": "RUNNING"},
                {"name": "killed, start failed", "args": ["mssdmn.exe", "OSearch"], "running": ["mssdmn.exe"], "net_start_rc": 2, "service_state": "STOPPED"},
                {"name": "not running", "args": ["mssdmn.exe", "OSearch"], "running": []},
                {"name": "kill failed", "args": ["mssdmn.exe", "OSearch"], "running": ["mssdmn.exe"], "taskkill_rc": 1},
                {"name": "no service", "args": ["mssdmn.exe"], "running": ["mssdmn.exe"]}
            ]),
        )
    };
    let results = run(&script);
    let get = |results: &[serde_json::Value], name: &str| {
        let r = results.iter().find(|r| r["name"] == name).unwrap().clone();
        (r["exit"].as_i64().unwrap(), r["trace"].to_string())
    };
    let (code, trace) = get(&results, "killed, started");
    assert_eq!(code, 0);
    assert!(trace.contains("net start OSearch -> 0"), "{trace}");
    assert_eq!(get(&results, "killed, already running").0, 0);
    assert_eq!(get(&results, "killed, start failed").0, 102);
    for quiet in ["not running", "kill failed", "no service"] {
        assert!(!get(&results, quiet).1.contains("net start"), "{quiet}");
    }
    assert_eq!(get(&results, "not running").0, 0);
    assert_eq!(get(&results, "kill failed").0, 1);
    assert_eq!(get(&results, "no service").0, 0);
    // Control: without the sc query fallback, a service its recovery actions already restarted is
    // reported as not started (net start's 2 taken at its word).
    let text = std::fs::read_to_string(&script).unwrap();
    let sc_line = text
        .lines()
        .find(|l| l.contains("sc.exe"))
        .unwrap()
        .to_string();
    std::fs::write(&script, text.replace(&format!("{sc_line}\r\n"), "")).unwrap();
    assert_eq!(get(&run(&script), "killed, already running").0, 102);
}
