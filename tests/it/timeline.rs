//! The farm timeline (tests/farm_timeline.py): Group Policy refreshes applying the generated GPP
//! registry items, the generated alias switcher executed on its parse tree every minute, failovers,
//! partner outages and Windows Update restarts over simulated days, with invariants I1-I5 and
//! controls that must break them. `SITEBUNDLE_TIMELINE_DAYS` and `SITEBUNDLE_TIMELINE_SEEDS` run
//! a longer campaign (default 3 days x 4 seeds).

use std::process::Command;

use crate::common;

/// Runs the timeline on a written bundle; returns (success, stdout).
fn timeline(dir: &std::path::Path, arch: &str, extra: &[&str]) -> (bool, String) {
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/farm_timeline.py"))
        .arg(dir)
        .args(["--arch", arch])
        .args(extra)
        .output()
        .expect("farm_timeline.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "farm_timeline.py crashed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

/// `host=x64,host=x86` for the switcher's front ends of a site.
fn arches(site: &sitebundle::site::Site) -> String {
    site.farm
        .servers
        .iter()
        .map(|s| format!("{}={}", s.name, s.arch.label()))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn farm_timeline_keeps_the_alias_at_the_principal_and_restarts_inside_windows() {
    let text = common::read("site.toml");
    let (site, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let dir = common::write_tmp(&common::reference());
    let (ok, out) = timeline(dir.path(), &arches(&site), &[]);
    println!("{out}");
    assert!(ok, "{out}");
    assert!(out.contains("invariants held: I1, I2, I3, I4, I5"), "{out}");
    // The run did exercise what the invariants talk about.
    for what in [
        "failovers",
        "outages",
        "Windows Update restarts",
        "Group Policy applications",
    ] {
        let n: u64 = out
            .split(&format!(" {what}"))
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "no {what} simulated: {out}");
    }
}

#[test]
fn farm_timeline_controls_fail() {
    let text = common::read("site.toml");
    let (site, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let dir = common::write_tmp(&common::reference());
    let arch = arches(&site);
    // Today's GPP Update item without FilterRunOnce: a refresh moves the alias back (I1, I2).
    let (ok, out) = timeline(dir.path(), &arch, &["--control", "--seeds", "1"]);
    assert!(!ok, "{out}");
    assert!(out.contains("I1: "), "{out}");
    assert!(out.contains("I2: "), "{out}");
    // The items of an x64 server applied to a 32-bit Windows: the Wow6432Node key appears (I5).
    let wrong = arch.replace("sharepoint2=x64", "sharepoint2=x86");
    let (ok, out) = timeline(dir.path(), &wrong, &["--seeds", "1", "--days", "1"]);
    assert!(!ok && out.contains("I5: "), "{out}");
    // The old switcher's habits, as edits of the generated script: exit 1 after a switch, and an
    // event on every run (I4).
    let script = dir.path().join("scripts/Update-SqlAlias.ps1");
    let original = std::fs::read_to_string(&script).unwrap();
    for (old, new) in [
        ("    exit 0\r\n}\r\ncatch {", "    exit 1\r\n}\r\ncatch {"),
        (
            "if ($Outcome -eq 'switched' -or $state -ne $last) {",
            "if ($true) {",
        ),
    ] {
        assert!(original.contains(old), "{old}");
        std::fs::write(&script, original.replacen(old, new, 1)).unwrap();
        let (ok, out) = timeline(dir.path(), &arch, &["--seeds", "2"]);
        assert!(!ok && out.contains("I4: "), "{new}: {out}");
    }
    std::fs::write(&script, original).unwrap();
    // A restart delay longer than the window: restarts fall outside it (I3).
    let short = text.replace("duration_minutes = 30\n", "duration_minutes = 20\n");
    assert_ne!(short, text);
    let dir = common::write_tmp(&common::build_text("short.toml", &short));
    let (ok, out) = timeline(dir.path(), &arch, &["--seeds", "2"]);
    assert!(!ok && out.contains("I3: "), "{out}");
}

#[test]
fn farm_timeline_with_a_32_bit_front_end() {
    // A 2003 R2 (x86) front end beside a 2008 R2 one: the GPO and the switcher never write the
    // 32-bit view on the x86 server, and the alias follows the principal on both.
    let text = common::read("site.toml")
        .replace(
            "name = \"ects-app1\"\nos = \"2003r2\"",
            "name = \"ects-app1\"\nos = \"2003r2\"\narch = \"x86\"",
        )
        .replace(
            "servers = [\"sharepoint2\", \"sharepoint3\"]\ninterval_minutes = 1",
            "servers = [\"sharepoint2\", \"ects-app1\"]\ninterval_minutes = 1",
        );
    let (site, _) = sitebundle::load_text("mixed.toml", &text).unwrap();
    assert_eq!(
        site.sql.as_ref().unwrap().switcher.servers.len(),
        2,
        "the variant has two switchers"
    );
    let dir = common::write_tmp(&sitebundle::build_bundle(&site).unwrap());
    let (ok, out) = timeline(dir.path(), &arches(&site), &["--seeds", "2"]);
    assert!(ok, "{out}");
}
