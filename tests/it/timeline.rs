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

/// The reference with an explicit restart delay (the GPO writes the Windows Update values), its
/// rebuild with both partners' ports changed (1433 → 1434: the old run-once id followed the
/// value), and a third build that retires the restart delay.
fn versions() -> (sitebundle::site::Site, [String; 3]) {
    let text = common::read("site.toml");
    let v1 = text.replace(
        "duration_minutes = 30\n",
        "duration_minutes = 30\nreboot_delay_minutes = 15\n",
    );
    let v2 = v1.replace("port = 1433\n", "port = 1434\n");
    let v3 = v2.replace("reboot_delay_minutes = 15\n", "");
    assert!(v1 != text && v2.matches("port = 1434").count() == 2 && v3 != v2);
    let (site, _) = sitebundle::load_text("v1.toml", &v1).unwrap();
    (site, [v1, v2, v3])
}

/// Writes the three builds, each after the one before (`build --previous`: the third retires the
/// restart delay with Delete items); `after: false` builds the last without it (the control).
fn write_versions(texts: &[String; 3], after: bool) -> Vec<tempfile::TempDir> {
    let mut dirs: Vec<tempfile::TempDir> = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let (site, _) = sitebundle::load_text(&format!("v{}.toml", i + 1), t).unwrap();
        let previous = dirs.last().filter(|_| after).map(|d| d.path());
        let b = sitebundle::build_bundle_after(&site, previous, false).unwrap();
        dirs.push(common::write_tmp(&b));
    }
    dirs
}

fn run_versions(dirs: &[tempfile::TempDir], arch: &str, extra: &[&str]) -> (bool, String) {
    let mut args: Vec<String> = Vec::new();
    for d in &dirs[1..] {
        args.push("--then".into());
        args.push(d.path().display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    timeline(dirs[0].path(), arch, &args)
}

#[test]
fn farm_timeline_across_gpo_versions() {
    // Deploy, fail over, rebuild with changed ports and redeploy while the second partner is
    // principal, retire an item: the alias stays at the principal across versions (I1, I2).
    let (site, texts) = versions();
    let dirs = write_versions(&texts, true);
    let arch = arches(&site);
    let (ok, out) = run_versions(&dirs, &arch, &[]);
    println!("{out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("invariants held: I1, I2, I3, I4, I5, I6"),
        "{out}"
    );
    assert!(out.contains(" 8 GPO versions deployed"), "{out}");
    // Control: the third build made without the older bundle leaves the retired values (I6).
    let plain = write_versions(&texts, false);
    let (ok, out) = run_versions(&plain, &arch, &["--seeds", "2"]);
    assert!(!ok && out.contains("I6: "), "{out}");
    // The run-once id alone keeps the alias: the same items with action Update hold too.
    let (ok, out) = run_versions(&dirs, &arch, &["--control", "update", "--seeds", "2"]);
    assert!(ok, "{out}");
    // Control: the old id derivation (from the value, with Update): the rebuild's new id makes
    // the next refresh write partner 1 while partner 2 is principal (the switcher moves it back
    // within a minute, so I2 catches it: the front ends talked to the mirror meanwhile).
    let (ok, out) = run_versions(&dirs, &arch, &["--control", "value-ids", "--seeds", "2"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("I2: ") && out.contains("to DBMSSOCN,sqlmirror1.campus.example.edu,1434"),
        "{out}"
    );
    // Control: a switcher that does not repair host and port leaves the front ends on the old
    // port of the principal (which still answers) after the rebuild.
    for d in &dirs[1..] {
        let script = d.path().join("scripts/Update-SqlAlias.ps1");
        let text = std::fs::read_to_string(&script).unwrap();
        let old = " -and (Test-ConfiguredPartner -Target $current)";
        assert!(text.contains(old));
        std::fs::write(&script, text.replacen(old, "", 1)).unwrap();
    }
    let (ok, out) = run_versions(&dirs, &arch, &["--seeds", "2"]);
    assert!(!ok && out.contains("I1: "), "{out}");
}

/// Issue 27: the switcher started by a 32-bit PowerShell on 64-bit Windows restarts itself in the
/// 64-bit PowerShell through SysNative (and the 64-bit alias is written), or exits 5 with a
/// message; executed by the timeline's PowerShell interpreter with the registry redirected as
/// WOW64 does. Control: the switcher without the relaunch writes only the 32-bit view.
#[test]
fn switcher_from_a_32_bit_powershell_reaches_the_64_bit_alias() {
    let dir = common::write_tmp(&common::reference());
    let (ok, out) = timeline(dir.path(), "-", &["--wow64"]);
    assert!(ok, "{out}");
    assert!(out.contains("wow64: 6 cases, 0 failed"), "{out}");
    let (ok, out) = timeline(dir.path(), "-", &["--wow64", "--control"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("W64: 32-bit process on x64: relaunched in the 64-bit PowerShell: exit 0 (expected 0), alias views ['DBMSSOCN,sqlmirror1"),
        "{out}"
    );
}

/// Runs tests/installs_timeline.py on the fixture with `[maintenance.installs]`, built from `text`.
fn installs_timeline(text: &str, extra: &[&str]) -> (bool, String) {
    installs_timeline_of("maint-installs.toml", text, extra)
}

/// Runs tests/installs_timeline.py on a site built from `text`; the sets to keep up (the SQL
/// partners, each pool's members), each server's default restart delay and the servers on Windows
/// Server 2016 or later come from the resolved site. Returns (success, stdout).
fn installs_timeline_of(name: &str, text: &str, extra: &[&str]) -> (bool, String) {
    let (site, _) = sitebundle::load_text(name, text).unwrap();
    let dir = common::write_tmp(&common::build_text(name, text));
    let name = |i: usize| site.farm.servers[i].name.clone();
    let mut args: Vec<String> = Vec::new();
    if let Some(sql) = &site.sql {
        let hosts: Vec<String> = sql.partners.iter().map(|p| name(p.server)).collect();
        args.extend(["--keep".into(), format!("sql={}", hosts.join(","))]);
    }
    for pool in site.f5.iter().flat_map(|f| &f.pools) {
        let hosts: Vec<String> = pool.members.iter().map(|m| name(m.server)).collect();
        args.extend([
            "--keep".into(),
            format!("pool_{}={}", pool.name, hosts.join(",")),
        ]);
    }
    let delays: Vec<String> = site
        .farm
        .servers
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s.name,
                sitebundle::families::maint::model::os_default_delay(s.os)
            )
        })
        .collect();
    args.extend(["--delay".into(), delays.join(",")]);
    let modern: Vec<&str> = site
        .farm
        .servers
        .iter()
        .filter(|s| sitebundle::families::maint::wave_tasks::clock_started(s.os))
        .map(|s| s.name.as_str())
        .collect();
    if !modern.is_empty() {
        args.extend(["--modern".into(), modern.join(",")]);
    }
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/installs_timeline.py"))
        .arg(dir.path())
        .args(&args)
        .args(extra)
        .output()
        .expect("installs_timeline.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "installs_timeline.py crashed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

#[test]
fn windows_update_waves_keep_a_partner_and_a_pool_member_up() {
    let text = common::read("tests/fixtures/maint-installs.toml");
    let (ok, out) = installs_timeline(&text, &[]);
    println!("{out}");
    assert!(ok && out.contains("invariants held: J1"), "{out}");
    // The run did install, miss installs (servers down at their hour) and refresh Group Policy.
    for what in ["installs", "missed", "outages", "refreshes"] {
        let n: u64 = out
            .split(&format!(" {what}="))
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(n > 0, "no {what} simulated: {out}");
    }
    // Explicit waves, every day from 22:00 (the second wave after midnight).
    let daily = text.replace(
        "day = \"sun\"\nat = \"03:00\"\n",
        "day = \"every\"\nat = \"22:00\"\nhours_apart = 3\nwaves = [[\"sqlmirror1\", \"sharepoint3\"], [\"sqlmirror2\", \"sharepoint2\", \"ects-app1\"]]\n",
    );
    assert_ne!(daily, text);
    let (ok, out) = installs_timeline(&daily, &["--weeks", "2"]);
    assert!(ok && out.contains("invariants held: J1"), "{out}");
}

#[test]
fn windows_update_without_waves_or_with_rescheduled_installs_fails() {
    let text = common::read("tests/fixtures/maint-installs.toml");
    // Every server on the first wave's schedule: Windows Update without waves.
    let (ok, out) = installs_timeline(&text, &["--control", "same-time"]);
    assert!(!ok && out.contains("J1: "), "{out}");
    // Without RescheduleWaitTimeEnabled = 0, a server that was down at its hour installs a minute
    // after it comes back, in the next wave's hours.
    let (ok, out) = installs_timeline(&text, &["--control", "no-reschedule"]);
    assert!(!ok && out.contains("J1: "), "{out}");
}

/// Windows Server 2016 and later in the waves (issue 31): event 22 is never logged there, so
/// maintenance mode comes only from the calendar tasks the GPO registers, and the restart only
/// from the timer the wave's `-restart.reg` values set. The migration fixture (2008 R2, 2012 R2
/// and 2019 servers, a wave on Saturday 22:00 and one at Sunday 00:00, whose task starts on
/// Saturday 23:50) and the reference waves with every server on 2019 and the first wave at
/// midnight: J1 and J2 hold; without the calendar tasks (sitebundle before issue 31) or without
/// the restart timer, J2 breaks.
#[test]
fn windows_update_waves_on_2016_and_later_start_maintenance_by_the_clock() {
    let migration = common::read("tests/fixtures/migration-2019.toml");
    let all_2019 = common::read("tests/fixtures/maint-installs.toml")
        .replace("os = \"2008r2\"", "os = \"2019\"")
        .replace(
            "day = \"sun\"\nat = \"03:00\"\n",
            "day = \"mon\"\nat = \"00:00\"\n",
        )
        // SharePoint 2007 does not run on 2019.
        .replace(
            "[sharepoint]\nversion = \"2007\"\n",
            "[sharepoint]\nversion = \"2019\"\n",
        )
        .replace("service = \"SPTimerV3\"", "service = \"SPTimerV4\"");
    assert!(all_2019.contains("os = \"2019\"") && all_2019.contains("at = \"00:00\""));
    for (name, text) in [
        ("migration-2019.toml", migration.as_str()),
        ("maint-installs.toml", all_2019.as_str()),
    ] {
        let (ok, out) = installs_timeline_of(name, text, &["--weeks", "8"]);
        println!("{name}: {out}");
        assert!(
            ok && out.contains("invariants held: J1, J2"),
            "{name}: {out}"
        );
        let windows: u64 = out
            .split(" clock-windows=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            windows > 0,
            "{name}: no calendar maintenance window opened: {out}"
        );
        for control in ["no-clock", "no-timer"] {
            let (ok, out) =
                installs_timeline_of(name, text, &["--weeks", "8", "--control", control]);
            assert!(
                !ok && out.contains("J2: "),
                "{name} --control {control}: {out}"
            );
        }
    }
}
