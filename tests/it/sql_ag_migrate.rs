//! From database mirroring into an availability group (issue 31, `from_mirroring = true`): the
//! fixture tests/fixtures/ag-from-mirroring.toml (2008 R2 front ends, a 2016 pair with SQL Server
//! 2016 that mirrors today). The migration's scripts executed (tests/sql_migrate_sim.py):
//! mirroring-off.sql over every state of three databases and over time with a session that changes
//! between any two statements (control: the hand-written PARTNER OFF per database breaks I1),
//! mirroring-retire.sql against an msdb holding what the mirroring bundle of the same site installs
//! (controls: mutated scripts); the runbook's order; the located errors.

use crate::common;

use std::process::Command;

use sitebundle::bundle::Bundle;

const FIXTURE: &str = "tests/fixtures/ag-from-mirroring.toml";

fn bundle_of(name: &str, text: &str) -> Bundle {
    common::build_text(name, text)
}

/// The same site before the move: database mirroring (no `mode`, no group), as its mirroring
/// bundle was built.
fn mirroring_site() -> String {
    let site = common::read(FIXTURE);
    let start = site.find("[sql.availability_group]").unwrap();
    let end = site.find("[sql.switcher]").unwrap();
    let before = format!("{}{}", &site[..start], &site[end..]);
    let before = before.replace("mode = \"availability-group\"\n", "");
    assert!(
        !before.contains("[sql.availability_group") && !before.contains("mode ="),
        "{before}"
    );
    before
}

fn write(dir: &std::path::Path, b: &Bundle, path: &str) -> std::path::PathBuf {
    let out = dir.join(path.replace('/', "_"));
    std::fs::write(
        &out,
        &b.files.get(path).unwrap_or_else(|| panic!("{path}")).bytes,
    )
    .unwrap();
    out
}

fn sim(args: &[&std::ffi::OsStr]) -> (bool, String) {
    common::run_python("tests/sql_migrate_sim.py", args)
}

#[test]
fn the_migration_scripts_are_only_there_with_from_mirroring_and_the_runbook_orders_them() {
    let b = bundle_of("ag-from-mirroring.toml", &common::read(FIXTURE));
    for path in [
        "sql/sql1/mirroring-retire.sql",
        "sql/sql2/mirroring-retire.sql",
        "sql/sql1/mirroring-off.sql",
        "sql/sql1/ag-create.sql",
        "sql/sql2/ag-join.sql",
    ] {
        assert!(b.files.contains_key(path), "{path}");
    }
    assert!(!b.files.contains_key("sql/sql2/mirroring-off.sql"));
    let plain = bundle_of(
        "plain.toml",
        &common::read(FIXTURE).replace("from_mirroring = true\n", ""),
    );
    assert!(!plain.files.keys().any(|p| p.contains("mirroring-")));
    // The runbook: retire on both partners, then mirroring off, then the group, then the join,
    // then (later in the runbook) the GPO that points the alias at the listener.
    let readme = common::text_of(&b, "README.md");
    let section = readme.find("## SQL Server availability group").unwrap();
    let at = |needle: &str| {
        section
            + readme[section..]
                .find(needle)
                .unwrap_or_else(|| panic!("no `{needle}` in the runbook"))
    };
    let order = [
        at("-i sql\\sql1\\mirroring-retire.sql"),
        at("-i sql\\sql2\\mirroring-retire.sql"),
        at("-i sql\\sql1\\mirroring-off.sql"),
        at("-i sql\\sql1\\ag-create.sql"),
        at("-i sql\\sql2\\ag-join.sql"),
        at("schtasks /Delete /TN Update-SqlAlias /F"),
        at("## Group Policy"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(!plain_has(&plain, "mirroring-off"));
    // A third replica, new to the databases: restored WITH NORECOVERY before its join; only the
    // two former partners get the retire script.
    let three = common::read(FIXTURE)
        .replace(
            "[sql]\n",
            "[[server]]\nname = \"sql3\"\nos = \"2019\"\n\n[sql]\n",
        )
        .replace(
            "[sql.availability_group]\n",
            "[[sql.partner]]\nserver = \"sql3\"\ncommit = \"asynchronous\"\nfailover = \"manual\"\n\n[sql.availability_group]\n",
        );
    let b3 = bundle_of("three.toml", &three);
    assert!(b3.files.contains_key("sql/sql3/ag-join.sql"));
    assert!(!b3.files.contains_key("sql/sql3/mirroring-retire.sql"));
    let readme = common::text_of(&b3, "README.md");
    assert!(
        readme.contains(
            "On the other\n   secondaries, first restore every database `WITH NORECOVERY`"
        ),
        "{readme}"
    );
}

fn plain_has(b: &Bundle, needle: &str) -> bool {
    common::text_of(b, "README.md").contains(needle)
}

#[test]
fn mirroring_off_executes_as_its_rule_over_time_and_the_hand_written_script_fails() {
    let b = bundle_of("ag-from-mirroring.toml", &common::read(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let off = write(dir.path(), &b, "sql/sql1/mirroring-off.sql");
    let (ok, out) = sim(&[
        "off".as_ref(),
        off.as_os_str(),
        "3".as_ref(),
        "--seeds".as_ref(),
        "300".as_ref(),
    ]);
    assert!(ok, "{out}");
    println!("{}", out.trim());
    let (ok, out) = sim(&["off-selftest".as_ref(), off.as_os_str(), "3".as_ref()]);
    assert!(ok, "{out}");
    // Control: PARTNER OFF on every database with no check, as a hand-written script would.
    let (ok, out) = sim(&[
        "off".as_ref(),
        off.as_os_str(),
        "3".as_ref(),
        "--control".as_ref(),
        "naive".as_ref(),
    ]);
    assert!(ok && out.contains("I1 violated"), "{out}");
}

#[test]
fn mirroring_retire_deletes_what_the_mirroring_bundle_installed_and_nothing_else() {
    let ag = bundle_of("ag-from-mirroring.toml", &common::read(FIXTURE));
    let before = bundle_of("mirroring.toml", &mirroring_site());
    let followers = bundle_of(
        "ag-followers-2019.toml",
        &common::read("tests/fixtures/ag-followers-2019.toml"),
    );
    let dir = tempfile::tempdir().unwrap();
    let ag_job = write(dir.path(), &followers, "sql/sqlag1/ag-follow-job.sql");
    for partner in ["sql1", "sql2"] {
        let retire = write(
            dir.path(),
            &ag,
            &format!("sql/{partner}/mirroring-retire.sql"),
        );
        let job = write(
            dir.path(),
            &before,
            &format!("sql/{partner}/mirror-failover-job.sql"),
        );
        let alerts = write(
            dir.path(),
            &before,
            &format!("sql/{partner}/mirroring-alerts.sql"),
        );
        for mode in ["retire", "retire-selftest"] {
            let (ok, out) = sim(&[
                mode.as_ref(),
                retire.as_os_str(),
                job.as_os_str(),
                alerts.as_os_str(),
                ag_job.as_os_str(),
            ]);
            assert!(ok, "{partner} {mode}: {out}");
            println!("{partner} {mode}: {}", out.trim());
        }
    }
    // A renamed job is found by its description all the same.
    let renamed = mirroring_site().replace(
        "[sql.switcher]",
        "[sql.job]\nname = \"DBA - mirroring failover\"\n\n[sql.switcher]",
    );
    let before = bundle_of("renamed.toml", &renamed);
    let job = write(dir.path(), &before, "sql/sql1/mirror-failover-job.sql");
    assert!(
        common::text_of(&before, "sql/sql1/mirror-failover-job.sql")
            .contains("DBA - mirroring failover")
    );
    let alerts = write(dir.path(), &before, "sql/sql1/mirroring-alerts.sql");
    let retire = write(dir.path(), &ag, "sql/sql1/mirroring-retire.sql");
    let (ok, out) = sim(&[
        "retire".as_ref(),
        retire.as_os_str(),
        job.as_os_str(),
        alerts.as_os_str(),
        ag_job.as_os_str(),
    ]);
    assert!(ok && out.contains("DBA - mirroring failover"), "{out}");
}

#[test]
fn a_database_still_mirrored_is_refused_by_the_join_with_its_reason() {
    let b = bundle_of("ag-from-mirroring.toml", &common::read(FIXTURE));
    let join = common::text_of(&b, "sql/sql2/ag-join.sql");
    let still = join
        .find("m.mirroring_guid IS NOT NULL")
        .expect("the join checks for a mirroring session");
    let set_hadr = join
        .find("SET HADR AVAILABILITY GROUP")
        .expect("the join sets HADR");
    assert!(
        still < set_hadr,
        "the check comes before the first SET HADR"
    );
}

#[test]
fn from_mirroring_errors_are_located() {
    let site = common::read("tests/fixtures/ag-followers-2019.toml");
    let both = site
        .replacen(
            "name = \"SPAG\"\n",
            "name = \"SPAG\"\nfrom_mirroring = true\n",
            1,
        )
        .replacen(
            "name = \"SPAG_Content\"\n",
            "name = \"SPAG_Content\"\nfrom_mirroring = true\n",
            1,
        );
    assert_ne!(both, site);
    let e = match sitebundle::load_text("both.toml", &both) {
        Ok(_) => panic!("resolves"),
        Err(d) => d.render(),
    };
    assert!(
        e.contains("this site has follower groups") && e.contains("this is a follower group"),
        "{e}"
    );
    assert!(
        e.contains("both.toml:45:"),
        "located at the anchor's key: {e}"
    );
    assert!(
        e.contains("both.toml:56:"),
        "located at the follower's key: {e}"
    );
    // In mirroring mode the key is refused with the whole [sql.availability_group].
    let e = match sitebundle::load_text(
        "m.toml",
        &mirroring_site().replace(
            "[sql.switcher]",
            "[sql.availability_group]\nname = \"SPAG\"\nfrom_mirroring = true\n\n[sql.switcher]",
        ),
    ) {
        Ok(_) => panic!("resolves"),
        Err(d) => d.render(),
    };
    assert!(e.contains("is for `mode = \"availability-group\"`"), "{e}");
}

/// Built with `--previous` and the mirroring bundle's folder, the group's bundle deletes the alias
/// switcher task through the GPO (a Delete item for the front ends), as its runbook says.
#[test]
fn built_over_the_mirroring_bundle_the_gpo_deletes_the_switcher_task() {
    let dir = tempfile::tempdir().unwrap();
    let before_site = dir.path().join("mirroring.toml");
    std::fs::write(&before_site, mirroring_site()).unwrap();
    let after_site = dir.path().join("ag.toml");
    std::fs::write(&after_site, common::read(FIXTURE)).unwrap();
    let build = |site: &std::path::Path, out: &str, previous: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sitebundle"));
        cmd.arg("build")
            .arg("-q")
            .arg(site)
            .arg("-o")
            .arg(dir.path().join(out));
        if let Some(p) = previous {
            cmd.arg("--previous").arg(dir.path().join(p));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    build(&before_site, "before", None);
    build(&after_site, "after", Some("before"));
    build(&after_site, "fresh", None);
    let tasks_xml = |out: &str| -> String {
        let gpo = dir.path().join(out).join("gpo");
        let guid = std::fs::read_dir(&gpo)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let p = guid.join("DomainSysvol/GPO/Machine/Preferences/ScheduledTasks/ScheduledTasks.xml");
        std::fs::read_to_string(p).unwrap_or_default()
    };
    let delete = "action=\"D\" name=\"Update-SqlAlias\"";
    assert!(
        tasks_xml("after").contains(delete),
        "{}",
        tasks_xml("after")
    );
    // Control: without the mirroring bundle nothing says the task was ever there.
    assert!(!tasks_xml("fresh").contains(delete));
}
