//! SQL Server Always On availability groups (issue 31, `[sql] mode = "availability-group"`): the
//! fixture tests/fixtures/ag-2019.toml through the real parsers (sqlfluff plus validate.py's own
//! grammar for the AG statements, which sqlfluff cannot parse), the runbook's sqlcmd -Q statements
//! through the same check, the readiness verdict executed over every replica/database state
//! (tests/sql_ag_sim.py), the alerts' sp_altermessage order, no alias switcher and the alias at the
//! listener, and the located errors of the new settings.

use crate::common;

use std::process::Command;

use sitebundle::bundle::Bundle;

const FIXTURE: &str = "tests/fixtures/ag-2019.toml";

fn ag_bundle() -> Bundle {
    common::build_text("ag-2019.toml", &common::read(FIXTURE))
}

fn text(b: &Bundle, path: &str) -> String {
    common::text_of(b, path)
}

fn sim(args: &[&str]) -> (bool, String) {
    common::run_python("tests/sql_ag_sim.py", args)
}

/// The T-SQL of every `sqlcmd … -Q "…"` line of the runbook's availability group section, one
/// statement per line, as a sqlcmd script (the runbook's commands get the scripts' checks).
fn runbook_statements(readme: &str) -> String {
    let start = readme
        .find("## SQL Server availability group")
        .expect("the AG section");
    let section = &readme[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut out = String::new();
    for line in section[..end].lines() {
        if let Some(i) = line.find(" -Q \"") {
            let q = &line[i + 5..];
            out.push_str(q.strip_suffix('"').expect("-Q \"…\" ends the line"));
            out.push_str("\r\nGO\r\n");
        }
    }
    out
}

#[test]
fn ag_files_and_runbook_statements_pass_their_parsers_and_a_broken_statement_fails() {
    let b = ag_bundle();
    let dir = common::write_tmp(&b);
    let statements = runbook_statements(&text(&b, "README.md"));
    for needle in [
        "FAILOVER;",
        "FORCE_FAILOVER_ALLOW_DATA_LOSS;",
        "SET HADR SUSPEND;",
        "SET HADR RESUME;",
    ] {
        assert!(
            statements.contains(needle),
            "the runbook has no {needle} command:\n{statements}"
        );
    }
    std::fs::write(dir.path().join("runbook-statements.sql"), &statements).unwrap();
    let verdicts = common::validate(&[dir.path()], None);
    common::assert_all_valid(&verdicts);
    let sql_files = verdicts.iter().filter(|v| v.kind == "sql").count();
    // 3 replicas x 3 scripts, the audit's collector, plus the runbook's statements.
    assert_eq!(sql_files, 11, "{verdicts:?}");

    // Control: the same create script with one comma lost between two replicas fails.
    let create = text(&b, "sql/sqlag1/ag-create.sql");
    let broken = create.replacen(
        "FAILOVER_MODE = AUTOMATIC),",
        "FAILOVER_MODE = AUTOMATIC)",
        1,
    );
    assert_ne!(broken, create);
    assert_fails_the_ag_grammar("ag-create.sql", &broken);
}

#[test]
fn readiness_verdict_executes_as_the_failover_rule_and_mutations_fail() {
    let b = ag_bundle();
    let dir = common::write_tmp(&b);
    for replica in ["sqlag1", "sqlag2", "sqldr"] {
        let f = dir.path().join(format!("sql/{replica}/ag-readiness.sql"));
        let f = f.to_str().unwrap();
        let (ok, out) = sim(&["readiness", f, "3"]);
        assert!(ok, "{replica}: {out}");
        let (ok, out) = sim(&["readiness-selftest", f, "3"]);
        assert!(ok, "{replica}: {out}");
    }
    // Over time: planned failovers taken only on READY are accepted and lose nothing, and the
    // group converges; the control (trusting the replica's role alone) breaks an invariant.
    let f = dir.path().join("sql/sqlag2/ag-readiness.sql");
    let f = f.to_str().unwrap();
    let (ok, out) = sim(&["converge", f, "3", "--seeds", "20"]);
    assert!(ok && out.starts_with("ok ("), "{out}");
    let (ok, out) = sim(&["converge", f, "3", "--control"]);
    assert!(ok && out.contains("control fails as it should"), "{out}");
}

#[test]
fn alerts_are_event_logged_before_they_are_created_and_the_old_order_fails() {
    let b = ag_bundle();
    let dir = common::write_tmp(&b);
    let f = dir.path().join("sql/sqlag2/ag-alerts.sql");
    let (ok, out) = sim(&["alerts", f.to_str().unwrap()]);
    assert!(ok, "{out}");
    // Control: the public scripts' way (sp_add_alert without sp_altermessage) fails.
    let without: String = text(&b, "sql/sqlag2/ag-alerts.sql")
        .split("\r\n")
        .filter(|l| !l.contains("sp_altermessage"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let ctl = tempfile::tempdir().unwrap();
    let p = ctl.path().join("ag-alerts.sql");
    std::fs::write(&p, without).unwrap();
    let (ok, out) = sim(&["alerts", p.to_str().unwrap()]);
    assert!(
        !ok && out.contains("not written to the Application log"),
        "{out}"
    );
}

#[test]
fn no_switcher_in_ag_mode_and_the_alias_points_at_the_listener() {
    let b = ag_bundle();
    for missing in [
        "tasks/Update-SqlAlias.xml",
        "scripts/Update-SqlAlias.ps1",
        "sql/mirror-state.sql",
        "sql/sqlag1/mirror-failover-job.sql",
        "collect/sql/collect-sql.sql",
    ] {
        assert!(!b.files.contains_key(missing), "{missing} in AG mode");
    }
    let reg = text(&b, "registry/sql-alias.reg");
    assert_eq!(
        reg.matches("\"SPSQL\"=\"DBMSSOCN,spsql,1433\"").count(),
        2,
        "{reg}"
    );
    let (site, _) = sitebundle::load_text("ag.toml", &common::read(FIXTURE)).unwrap();
    let plan = sitebundle::plan(&site).unwrap();
    assert!(
        plan.tasks.iter().all(|t| t.feature != "sql"),
        "a SQL task in AG mode"
    );
    // Control: the mirroring fixture has the switcher and its task.
    let m = common::build_text(
        "sql-one-database.toml",
        &common::read("tests/fixtures/sql-one-database.toml"),
    );
    assert!(m.files.contains_key("tasks/Update-SqlAlias.xml"));
    assert!(m.files.contains_key("scripts/Update-SqlAlias.ps1"));
}

fn errors(name: &str, text: &str) -> String {
    match sitebundle::load_text(name, text) {
        Ok(_) => panic!("{name} resolves"),
        Err(d) => d.render(),
    }
}

#[test]
fn new_settings_are_located_errors() {
    let site = common::read(FIXTURE);
    // One replica only.
    let one = site.replacen(
        "[[sql.partner]]\nserver = \"sqlag2\"\ncommit = \"synchronous\"\nfailover = \"automatic\"\n\n[[sql.partner]]\nserver = \"sqldr\"\ncommit = \"asynchronous\"\nfailover = \"manual\"\n",
        "",
        1,
    );
    assert_ne!(one, site);
    assert!(errors("one.toml", &one).contains("at least two replicas"));
    // AG mode without the group.
    let cut = site.find("[sql.availability_group]").unwrap();
    let end = site.find("[sql.switcher]").unwrap();
    let no_group = format!("{}{}", &site[..cut], &site[end..]);
    let e = errors("nogroup.toml", &no_group);
    assert!(e.contains("needs [sql.availability_group]"), "{e}");
    assert!(e.contains("nogroup.toml:"), "{e}");
    // Every error of the bad site, located, at once (the snapshot has the text).
    let bad = errors("ag-errors.toml", &common::read("tests/bad/ag-errors.toml"));
    for needle in [
        "`witness` is a database mirroring setting",
        "`job` is a database mirroring setting",
        "`switcher.task_name` is a database mirroring setting",
        "automatic failover needs synchronous commit",
        "4 replicas with automatic failover; SQL Server 2016 and 2017 allow at most 3",
        "duplicate replica `sql2`",
        "not a usable availability group name",
        "not a usable listener name",
        "not an IPv4 address with a prefix length",
        "network or broadcast address",
        "duplicate listener address",
        "port 70000",
    ] {
        assert!(bad.contains(needle), "no `{needle}` in:\n{bad}");
    }
    let mirroring = errors(
        "ag-settings-in-mirroring.toml",
        &common::read("tests/bad/ag-settings-in-mirroring.toml"),
    );
    for needle in [
        "`commit` is an availability group replica's setting",
        "`failover` is an availability group replica's setting",
        "[sql.availability_group] is for `mode = \"availability-group\"`",
    ] {
        assert!(mirroring.contains(needle), "no `{needle}` in:\n{mirroring}");
    }
}

// ---------------------------------------------------------------------------- follower groups

const FOLLOWERS: &str = "tests/fixtures/ag-followers-2019.toml";

fn followers_bundle() -> Bundle {
    common::build_text("ag-followers-2019.toml", &common::read(FOLLOWERS))
}

#[test]
fn follower_groups_get_their_scripts_and_the_job_on_every_replica_and_pass_their_parsers() {
    let b = followers_bundle();
    let dir = common::write_tmp(&b);
    let statements = runbook_statements(&text(&b, "README.md"));
    for needle in ["FAILOVER;", "@enabled = 0;", "@enabled = 1;"] {
        assert!(
            statements.contains(needle),
            "the runbook has no {needle} command:\n{statements}"
        );
    }
    std::fs::write(dir.path().join("runbook-statements.sql"), &statements).unwrap();
    let verdicts = common::validate(&[dir.path()], None);
    common::assert_all_valid(&verdicts);
    // 2 replicas x (create or join, alerts, readiness, 2 followers' create or join, the job),
    // the audit's collector, plus the runbook's statements.
    assert_eq!(
        verdicts.iter().filter(|v| v.kind == "sql").count(),
        14,
        "{verdicts:?}"
    );
    for f in [
        "sql/sqlag1/ag-create-SPAG_Content.sql",
        "sql/sqlag1/ag-create-SPAG_Services.sql",
        "sql/sqlag2/ag-join-SPAG_Content.sql",
        "sql/sqlag2/ag-join-SPAG_Services.sql",
    ] {
        let t = text(&b, f);
        assert!(
            !t.contains("ADD LISTENER"),
            "{f}: a follower has no listener"
        );
    }
    // One step, the same on both replicas (it decides from each replica's own view).
    let step = |p: &str| {
        let t = text(&b, p);
        let i = t.find("@command = N'").expect("the step");
        t[i..]
            .split("@on_success_action")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        step("sql/sqlag1/ag-follow-job.sql"),
        step("sql/sqlag2/ag-follow-job.sql")
    );
    // The alias points at the anchor's listener only.
    let reg = text(&b, "registry/sql-alias.reg");
    assert_eq!(
        reg.matches("\"SPSQL\"=\"DBMSSOCN,spsql,1433\"").count(),
        2,
        "{reg}"
    );
    // Control: one group (ag-2019.toml) has no follower job and no follower scripts.
    let one = ag_bundle();
    assert!(one.files.keys().all(|k| !k.contains("ag-follow-job")
        && !k.contains("ag-create-")
        && !k.contains("ag-join-")));
    // Control: a follower create script with a broken replica list fails the AG grammar.
    let create = text(&b, "sql/sqlag1/ag-create-SPAG_Content.sql");
    let broken = create.replacen("REPLICA ON", "REPLICA", 1);
    assert_ne!(broken, create);
    assert_fails_the_ag_grammar("ag-create-SPAG_Content.sql", &broken);
}

#[test]
fn follower_job_step_executes_as_the_failover_rule_and_mutations_fail() {
    let b = followers_bundle();
    let dir = common::write_tmp(&b);
    let f = dir.path().join("sql/sqlag2/ag-follow-job.sql");
    let f = f.to_str().unwrap();
    let (ok, out) = sim(&["follow", f]);
    assert!(ok && out.starts_with("ok ("), "{out}");
    let (ok, out) = sim(&["follow-selftest", f]);
    assert!(ok && out.ends_with("ok\n"), "{out}");
    // The installer's owner check executed: it stops before any change unless the owner is sysadmin.
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/sql_logic.py"))
        .args(["owner-check", f, "CORP\\sqlagent"])
        .output()
        .expect("sql_logic.py runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn followers_converge_on_the_anchors_primary_without_data_loss_and_the_controls_fail() {
    let b = followers_bundle();
    let dir = common::write_tmp(&b);
    let f = dir.path().join("sql/sqlag1/ag-follow-job.sql");
    let f = f.to_str().unwrap();
    let (ok, out) = sim(&["follow-converge", f, "--seeds", "30"]);
    assert!(ok && out.starts_with("ok ("), "{out}");
    // Control of I1: the step without its synchronization conditions fails over unsynchronized
    // followers.
    let (ok, out) = sim(&[
        "follow-converge",
        f,
        "--seeds",
        "10",
        "--control",
        "ignore-sync",
    ]);
    assert!(
        ok && out.contains("control fails as it should: I1 violated"),
        "{out}"
    );
    // Control of I2: without the follower job the followers stay where they are.
    let (ok, out) = sim(&["follow-converge", f, "--seeds", "10", "--control", "no-job"]);
    assert!(
        ok && out.contains("control fails as it should: I2 violated"),
        "{out}"
    );
}

#[test]
fn follower_group_errors_are_located_and_reported_at_once() {
    let bad = errors(
        "ag-followers-errors.toml",
        &common::read("tests/bad/ag-followers-errors.toml"),
    );
    for needle in [
        "the anchor group's databases are [sql] `databases`",
        "`sql_server` is the replicas' release",
        "`WSS_Content` is also in the availability group `SPAG`",
        "`wss_content_2` is also in the availability group `SPAG_Content`",
        "the follower group `SPAG_Content` has a listener",
        "the follower group `SPAG_Empty` has no databases",
        "not a usable availability group name",
        "duplicate availability group name `spag_search`",
        "`job.stagger_seconds` staggers",
        "has 9 errors",
    ] {
        assert!(bad.contains(needle), "no `{needle}` in:\n{bad}");
    }
    // `[sql.job]` is still a mirroring-only key with one group.
    let one = common::read(FIXTURE).replace(
        "[sql.switcher]",
        "[sql.job]\nowner = \"sa\"\n\n[sql.switcher]",
    );
    let e = errors("one.toml", &one);
    assert!(e.contains("`job` is a database mirroring setting"), "{e}");
}

/// `text`, written as `name`, fails the validator's availability group grammar (and only that
/// file is checked).
fn assert_fails_the_ag_grammar(name: &str, text: &str) {
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join(name), text).unwrap();
    let v = common::validate(&[bad.path()], None);
    assert!(
        v.len() == 1
            && !v[0].ok
            && v[0]
                .errors
                .iter()
                .any(|e| e.contains("availability group statement")),
        "{v:?}"
    );
}
