//! The command line as a user meets it: help, init, schema, diff, usage errors.

use crate::common;

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "build",
        "check",
        "diff",
        "validate",
        "list",
        "plan",
        "schema",
        "init",
        "completions",
        "man",
    ] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["frobnicate"],
        vec!["build", "--nope"],
        vec!["diff"],
        vec![],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn init_writes_a_site_that_builds_and_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin().current_dir(tmp.path()).arg("init").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("site.schema.json").exists());
    let out = bin().current_dir(tmp.path()).arg("build").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("out/README.md").exists());
    // The starter covers every family: SQL, F5, process killer, maintenance mode, GPO, pictures.
    for path in [
        "out/sql/sql1/mirror-failover-job.sql",
        "out/sql/sql2/mirroring-alerts.sql",
        "out/f5/Common.conf",
        "out/tasks/KillProc-w3wp.xml",
        "out/tasks/WUTriggerMaintMode.xml",
        "out/tasks/Update-SqlAlias.xml",
        "out/topology.svg",
    ] {
        assert!(
            tmp.path().join(path).exists(),
            "starter bundle lacks {path}"
        );
    }
    let gpo = std::fs::read_dir(tmp.path().join("out/gpo"))
        .unwrap()
        .count();
    assert_eq!(gpo, 1, "starter bundle has one GPO backup");
    // A second init refuses to overwrite.
    let out = bin().current_dir(tmp.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The starter's bundle passes the real parsers too.
    let verdicts = common::validate(&[&tmp.path().join("out")], None);
    common::assert_all_valid(&verdicts);
}

#[test]
fn checked_in_schema_is_current() {
    let expected = sitebundle::site::schema_json() + "\n";
    let actual = common::read("site.schema.json");
    assert!(
        actual == expected,
        "site.schema.json is stale: run `cargo run -q -- schema > site.schema.json`"
    );
}

#[test]
fn schema_describes_every_field() {
    let schema: serde_json::Value = serde_json::from_str(&sitebundle::site::schema_json()).unwrap();
    let mut missing = Vec::new();
    fn walk(v: &serde_json::Value, path: &str, missing: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, p) in props {
                if p.get("description").is_none() {
                    missing.push(format!("{path}.{k}"));
                }
            }
        }
        if let Some(defs) = v.get("$defs").and_then(|d| d.as_object()) {
            for (k, d) in defs {
                walk(d, k, missing);
            }
        }
    }
    walk(&schema, "site", &mut missing);
    assert!(
        missing.is_empty(),
        "fields without a description (add a doc comment): {missing:?}"
    );
}

#[test]
fn diff_reports_a_summary_and_plain_text_when_piped() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = common::repo();
    let out = bin()
        .current_dir(&repo)
        .args(["diff", "site.toml"])
        .arg(tmp.path())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("to add, 0 to remove, 0 changed"), "{text}");
    assert!(!text.contains('\x1b'), "colour codes when not a terminal");
    let out = bin()
        .current_dir(&repo)
        .args(["diff", "--color", "always", "site.toml"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\x1b[32mmissing: README.md"), "{text}");
    let out = bin()
        .current_dir(&repo)
        .args(["diff", "site.toml", "golden"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn list_names_hosts_and_deploy_commands() {
    let out = bin()
        .current_dir(common::repo())
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("tasks/KillProc-mssdmn.xml"))
        .expect("kill task listed");
    assert!(
        line.contains("sharepoint3") && line.contains("schtasks /Create"),
        "{line}"
    );
}

#[test]
fn completions_and_man_page() {
    let out = bin().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sitebundle"));
    let out = bin().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH"));
}

#[test]
fn diff_after_an_edit_shows_the_changed_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| bin().current_dir(tmp.path()).args(args).output().unwrap();
    assert_eq!(run(&["init"]).status.code(), Some(0));
    assert_eq!(run(&["build"]).status.code(), Some(0));
    let site = tmp.path().join("site.toml");
    let text = std::fs::read_to_string(&site).unwrap();
    std::fs::write(&site, text.replace("at = \"03:00\"", "at = \"02:30\"")).unwrap();
    let out = run(&["diff", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("changed: tasks/KillProc-w3wp.xml"), "{text}");
    assert!(
        text.contains("-      <StartBoundary>2010-01-01T03:00:00</StartBoundary>"),
        "{text}"
    );
    assert!(
        text.contains("+      <StartBoundary>2010-01-01T02:30:00</StartBoundary>"),
        "{text}"
    );
    assert!(
        text.contains("out differ: 0 to add, 0 to remove,"),
        "{text}"
    );
    assert!(
        text.contains("to refresh it: sitebundle build site.toml -o out"),
        "{text}"
    );
    // check agrees, and a rebuild makes both quiet.
    assert_eq!(run(&["check", "--golden", "out"]).status.code(), Some(1));
    assert_eq!(run(&["build"]).status.code(), Some(0));
    assert_eq!(run(&["diff", "out"]).status.code(), Some(0));
}

/// `sitebundle diff` against an older bundle lists what the rebuild leaves on the servers: tasks,
/// registry values and the 2003 event trigger that the new site no longer has, per server, with
/// the commands that remove them (read from the old bundle's inventory.json).
#[test]
fn diff_lists_retired_items_with_their_removal_commands() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let site = common::repo().join("site.toml");
    let out = bin()
        .args(["build", site.to_str().unwrap(), "-o", old.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let diff = |text: &str| {
        let f = dir.path().join("new.toml");
        std::fs::write(&f, text).unwrap();
        let out = bin()
            .args([
                "diff",
                f.to_str().unwrap(),
                old.to_str().unwrap(),
                "--color",
                "never",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let text = common::read("site.toml");
    // Control: the same site retires nothing.
    assert!(!diff(&text).contains("Retired items"));
    // The alias renamed, the killer's process changed, maintenance removed (the reference sets no
    // restart delay, so no Windows Update value is retired).
    let edited = text
        .replace("alias = \"SPSQL\"", "alias = \"SPSQL2\"")
        .replace("image = \"mssdmn.exe\"", "image = \"w3wp.exe\"");
    let cut = edited.find("[maintenance]").unwrap();
    let edited = edited[..cut].to_string();
    let out = diff(&edited);
    let section = &out[out
        .find("Retired items:")
        .unwrap_or_else(|| panic!("{out}"))..];
    for line in [
        "  on sharepoint2:",
        "    registry HKLM\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo\\SPSQL: reg delete \"HKLM\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo\" /v \"SPSQL\" /f",
        "    registry HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\MSSQLServer\\Client\\ConnectTo\\SPSQL: reg delete \"HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\MSSQLServer\\Client\\ConnectTo\" /v \"SPSQL\" /f",
        "    task WUTriggerMaintMode: schtasks /Delete /TN \"WUTriggerMaintMode\" /F",
        "  on ects-app1:",
        "    eventtrigger Windows Update - Reboot Impending: eventtriggers /query /fo list /v",
        "    task WUTriggerMaintMode-Refresh: schtasks /Delete /TN \"WUTriggerMaintMode-Refresh\" /F",
    ] {
        assert!(section.contains(line), "missing {line:?} in\n{section}");
    }
    let kill_old = section.lines().filter(|l| l.contains("mssdmn")).count();
    assert_eq!(
        kill_old, 3,
        "the old kill task on its three servers:\n{section}"
    );
    assert!(!section.contains("w3wp"), "{section}");
    // An older bundle without inventory.json: said so, not silently nothing.
    std::fs::remove_file(old.join("inventory.json")).unwrap();
    assert!(diff(&edited).contains("has no inventory.json"));
}
