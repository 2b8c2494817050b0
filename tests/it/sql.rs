//! SQL Server database mirroring (issue 3): the reference site's artifacts, the failover decision
//! executed against a stand-in catalog, the staggered schedules, the switcher's structure on its
//! parse tree, and hostile names (quoted or rejected).
//!
//! The logic checks run tests/sql_logic.py (sqlfluff + tree-sitter-powershell + SQLite from the
//! validator venv).

use crate::common;

use std::path::Path;
use std::process::Command;

use sitebundle::bundle::Bundle;

fn text(b: &Bundle, path: &str) -> String {
    let a = b
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} is missing"));
    sitebundle::bundle::decode_for_display(&a.bytes).expect("text")
}

fn logic(args: &[&str]) {
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/sql_logic.py"))
        .args(args)
        .output()
        .expect("sql_logic.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sql_logic.py {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const REF_DBS: &[&str] = &[
    "SharePoint_Config",
    "SharePoint_AdminContent_5d3c1e2a-7f41-4b8e-9c2d-0a6e8b1f4c37",
    "WSS_Content_PartnerPoint",
    "WSS_Content_ECTS",
    "WSS_Search_SHAREPOINT3",
];

#[test]
fn reference_bundle_has_the_mirroring_artifacts() {
    let b = common::reference();
    for server in ["sqlmirror1", "sqlmirror2"] {
        for f in ["mirror-failover-job.sql", "mirroring-alerts.sql"] {
            let path = format!("sql/{server}/{f}");
            let a = b.files.get(&path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(a.hosts.servers(), [server.to_string()], "{path}");
            let deploy = a.deploy.summary();
            assert!(deploy.starts_with("sqlcmd -S "), "{path}: {deploy}");
            assert!(
                deploy.contains(" -b "),
                "{path}: -b makes errors exit non-zero"
            );
        }
    }
    for path in [
        "sql/mirror-state.sql",
        "scripts/Update-SqlAlias.ps1",
        "tasks/Update-SqlAlias.xml",
        "registry/sql-alias.reg",
    ] {
        let a = b.files.get(path).unwrap_or_else(|| panic!("{path}"));
        assert_eq!(a.hosts.servers(), ["sharepoint2", "sharepoint3"], "{path}");
    }
    // Runbook: deploy and verify lines.
    let readme = text(&b, "README.md");
    for line in [
        "sqlcmd -S sqlmirror1.campus.example.edu,1433 -E -b -f 65001 -i sql\\sqlmirror1\\mirror-failover-job.sql",
        "sqlcmd -S sqlmirror2.campus.example.edu,1433 -E -b -f 65001 -i sql\\sqlmirror2\\mirroring-alerts.sql",
        "js.next_run_time FROM msdb.dbo.sysjobs",
        "schtasks /Create /RU SYSTEM /TN Update-SqlAlias /XML tasks\\Update-SqlAlias.xml /F",
        "GRANT VIEW ANY DATABASE",
        "ENABLE_BROKER",
    ] {
        assert!(readme.contains(line), "runbook lacks {line:?}");
    }
    // SQL comes before the per-server tasks in the runbook.
    assert!(
        readme.find("## SQL Server database mirroring") < readme.find("## Nightly process killer")
    );
}

#[test]
fn failover_decision_executes_as_specified() {
    let b = common::reference();
    let dir = common::write_tmp(&b);
    for server in ["sqlmirror1", "sqlmirror2"] {
        let f = dir
            .path()
            .join(format!("sql/{server}/mirror-failover-job.sql"));
        let mut args = vec!["failover", f.to_str().unwrap()];
        args.extend(REF_DBS);
        logic(&args);
        // The check rejects mutated steps (wrong anchor role, no state/safety filter, ...).
        let mut args = vec!["failover-selftest", f.to_str().unwrap()];
        args.extend(REF_DBS);
        logic(&args);
    }
    // all_synchronized: no database list.
    let fx = fixture("sql-named-instances.toml");
    let dir = common::write_tmp(&fx);
    let f = dir
        .path()
        .join("sql/sqlA-SHAREPOINT/mirror-failover-job.sql");
    logic(&["failover", f.to_str().unwrap()]);
    // Controlled failover (high-performance databases): for every (anchor role, role, state,
    // safety), a listed database is failed over, set to safety FULL or back to OFF exactly as
    // specified and one not in the list never gets a SAFETY ALTER; the mutations of the restore
    // cursor and of the SAFETY FULL branch are rejected. (Both partners run the same step: the
    // self-test on one of them.)
    let hp = fixture("sql-controlled-failover.toml");
    let dir = common::write_tmp(&hp);
    let dbs = [
        "SharePoint_Config",
        "WSS_Content",
        "WSS_Search",
        "--controlled=WSS_Search",
    ];
    for (server, mode) in [
        ("sqla", "failover"),
        ("sqlb", "failover"),
        ("sqla", "failover-selftest"),
    ] {
        let f = dir
            .path()
            .join(format!("sql/{server}/mirror-failover-job.sql"));
        let mut args = vec![mode, f.to_str().unwrap()];
        args.extend(dbs);
        logic(&args);
    }
}

/// The installer refuses a job owner who is not sysadmin on the instance, before it changes
/// anything: its check runs in the T-SQL interpreter with IS_SRVROLEMEMBER answering 1 (passes),
/// 0 and NULL (the script stops with a message naming the owner). A domain account as owner.
#[test]
fn installer_refuses_an_owner_who_is_not_sysadmin() {
    let site = hostile_site(&["SharePoint_Config".into(), "WSS_Content".into()]).replacen(
        "[sql.switcher]",
        "[sql.job]\nowner = 'CAMPUS\\sqlagent'\n\n[sql.switcher]",
        1,
    );
    let b = common::build_text("owner.toml", &site);
    let dir = common::write_tmp(&b);
    for server in ["sql1", "sql2"] {
        let f = dir
            .path()
            .join(format!("sql/{server}/mirror-failover-job.sql"));
        logic(&["owner-check", f.to_str().unwrap(), "CAMPUS\\sqlagent"]);
    }
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let f = dir.path().join("sql/sqlmirror1/mirror-failover-job.sql");
    logic(&["owner-check", f.to_str().unwrap(), "sa"]);
}

/// Two partners running the generated step (executed in SQLite on each partner's view) through
/// random sequences of failovers, partner outages, lagging mirrors and alerts: the databases
/// converge on the anchor's partner without ping-pong or unsafe failovers; the old rule
/// (tests/fixtures/sql/old-failover-job.sql) does not. Longer campaigns:
/// SITEBUNDLE_SQL_SIM_SEED / SITEBUNDLE_SQL_SIM_SEQUENCES.
#[test]
fn failover_simulation_converges_and_the_old_rule_does_not() {
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let job = |s: &str| {
        dir.path()
            .join(format!("sql/{s}/mirror-failover-job.sql"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let seed = std::env::var("SITEBUNDLE_SQL_SIM_SEED").unwrap_or_else(|_| "20261125".into());
    let seqs = std::env::var("SITEBUNDLE_SQL_SIM_SEQUENCES").unwrap_or_else(|_| "500".into());
    let sim = |control: bool| {
        let mut cmd = Command::new(common::python());
        cmd.arg(common::repo().join("tests/sql_logic.py"))
            .args(["simulate", &job("sqlmirror1"), &job("sqlmirror2")])
            .args(["--seeds", &seqs, "--seed", &seed]);
        if control {
            cmd.args(["--control", "old"]);
        }
        let out = cmd.output().expect("sql_logic.py runs");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "simulate (control: {control}) failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let new = sim(false);
    assert!(new.contains("invariants held: I1, I2, I3"), "{new}");
    for k in ["I1", "I2", "I3", "OFF"] {
        assert!(
            new.contains(&format!("  {k}: violated in 0 sequences")),
            "{new}"
        );
    }
    let old = sim(true);
    assert!(
        old.contains("control: the old rule violates I1 and I2"),
        "{old}"
    );
    assert!(old.contains("first I2 counterexample: seed "), "{old}");
    assert!(old.contains("first I1 counterexample: seed "), "{old}");
    // Controlled failover (tests/fixtures/sql-controlled-failover.toml): the high-performance
    // database starts in safety OFF; after the last disturbance every database is back on the
    // anchor's partner and the high-performance one back to safety OFF within the stated bound
    // (I1'), no ping-pong (I2), never a failover that is not SYNCHRONIZED + FULL (I3).
    // SITEBUNDLE_SQL_SIM_HP_SEQUENCES for longer campaigns.
    let hp = fixture("sql-controlled-failover.toml");
    let hdir = common::write_tmp(&hp);
    let hjob = |s: &str| {
        hdir.path()
            .join(format!("sql/{s}/mirror-failover-job.sql"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let hseqs = std::env::var("SITEBUNDLE_SQL_SIM_HP_SEQUENCES").unwrap_or_else(|_| "300".into());
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/sql_logic.py"))
        .args(["simulate", &hjob("sqla"), &hjob("sqlb")])
        .args(["--seeds", &hseqs, "--seed", &seed])
        .output()
        .expect("sql_logic.py runs");
    let hp_out = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "simulate (controlled failover) failed:\n{hp_out}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        hp_out.contains("controlled failover of ['WSS_Search']: "),
        "{hp_out}"
    );
    assert!(
        hp_out.contains("(I1 as I1': including the high-performance databases back to safety OFF)"),
        "{hp_out}"
    );
    for k in ["I1", "I2", "I3", "OFF", "HP"] {
        assert!(
            hp_out.contains(&format!("  {k}: violated in 0 sequences")),
            "{hp_out}"
        );
    }
}

fn adversarial(jobs: [&str; 2], args: &[&str]) -> String {
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/sql_mirroring_sim.py"))
        .args(jobs)
        .args(args)
        .output()
        .expect("sql_mirroring_sim.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "sql_mirroring_sim.py {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The adversarial simulation (tests/sql_mirroring_sim.py: roles and states change between any two
/// statements of the step, ALTERs fail with SQL Server's error numbers, no automatic failover
/// without a witness, forced service leaves the session SUSPENDED until RESUME, quorum loss, alert
/// response delay), seeded: the generated step never fails over or changes safety against the
/// anchor's side as it last read it, never on a stale read, never sets safety OFF with a witness,
/// and logs an outcome once per change. The step of b4f7979 (tests/fixtures/sql/b4f7979) is the
/// control: it floods the log, and in controlled-failover mode changes safety on stale reads and
/// sets safety OFF with a witness. Long campaigns: SITEBUNDLE_SQL_ADVERSARIAL_RUNS.
#[test]
fn adversarial_simulation_holds_and_the_previous_step_fails_it() {
    let runs = std::env::var("SITEBUNDLE_SQL_ADVERSARIAL_RUNS").unwrap_or_else(|_| "3".into());
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let job = |d: &Path, s: &str| {
        d.join(format!("sql/{s}/mirror-failover-job.sql"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let ref_dbs = REF_DBS.join(",");
    let (a, b2) = (job(dir.path(), "sqlmirror1"), job(dir.path(), "sqlmirror2"));
    for witness in ["none", "full"] {
        let out = adversarial(
            [&a, &b2],
            &[
                "--runs",
                &runs,
                "--witness",
                witness,
                "--databases",
                &ref_dbs,
            ],
        );
        assert!(out.contains("invariants held: SIDE, WITNESS, LOG"), "{out}");
    }
    let hp = fixture("sql-controlled-failover.toml");
    let hdir = common::write_tmp(&hp);
    let (ha, hb) = (job(hdir.path(), "sqla"), job(hdir.path(), "sqlb"));
    let hp_args = |w: &'static str| {
        vec![
            "--runs".to_string(),
            runs.clone(),
            "--witness".into(),
            w.into(),
            "--databases".into(),
            "SharePoint_Config,WSS_Content,WSS_Search".into(),
            "--controlled".into(),
            "WSS_Search".into(),
        ]
    };
    for w in ["none", "all"] {
        let args = hp_args(w);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = adversarial([&ha, &hb], &refs);
        assert!(out.contains("invariants held: SIDE, WITNESS, LOG"), "{out}");
        assert!(
            out.contains("safety_full ") && !out.contains("safety_full 0,"),
            "{out}"
        );
    }
    // The control: the previous step.
    let old = |f: &str| {
        common::repo()
            .join(format!("tests/fixtures/sql/b4f7979/{f}.sql"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let out = adversarial(
        [&old("reference-sqlmirror1"), &old("reference-sqlmirror2")],
        &[
            "--control",
            "--runs",
            "4",
            "--databases",
            &ref_dbs,
            "--expect-violation",
            "LOG",
        ],
    );
    assert!(out.contains("control: the old step violates"), "{out}");
    let mut args = hp_args("all");
    args.splice(0..2, ["--runs".to_string(), "6".to_string()]);
    args.extend([
        "--control".into(),
        "--expect-violation".into(),
        "SIDE,WITNESS,LOG".into(),
    ]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = adversarial([&old("controlled-sqla"), &old("controlled-sqlb")], &refs);
    assert!(
        out.contains("control: the old step violates SIDE, WITNESS, LOG"),
        "{out}"
    );
}

fn fixture(name: &str) -> Bundle {
    common::build_text(name, &common::read(format!("tests/fixtures/{name}")))
}

/// `@name = value` of every named parameter in a script, in order.
fn params(script: &str, name: &str) -> Vec<String> {
    let key = format!("@{name} = ");
    script
        .lines()
        .filter_map(|l| l.trim().strip_prefix(&key))
        .map(|v| v.trim_end_matches(',').trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn partners_are_staggered_inside_the_interval() {
    let b = common::reference();
    let one = text(&b, "sql/sqlmirror1/mirror-failover-job.sql");
    let two = text(&b, "sql/sqlmirror2/mirror-failover-job.sql");
    // Both the create path (sp_add_schedule) and the update path (sp_update_schedule).
    assert_eq!(params(&one, "active_start_time"), ["0", "0"]);
    assert_eq!(params(&two, "active_start_time"), ["30", "30"]);
    for s in [&one, &two] {
        assert_eq!(params(s, "freq_type"), ["4", "4"]);
        assert_eq!(params(s, "freq_subday_type"), ["4", "4"]);
        assert_eq!(params(s, "freq_subday_interval"), ["1", "1"]);
        assert_eq!(params(s, "active_end_time"), ["235959", "235959"]);
    }
    let fx = fixture("sql-named-instances.toml");
    let a = text(&fx, "sql/sqlA-SHAREPOINT/mirror-failover-job.sql");
    let b2 = text(&fx, "sql/sqlB-SP_MIRROR/mirror-failover-job.sql");
    assert_eq!(params(&a, "active_start_time"), ["0", "0"]);
    // 150 s = 00:02:30 as HHMMSS.
    assert_eq!(params(&b2, "active_start_time"), ["230", "230"]);
    assert_eq!(params(&b2, "freq_subday_interval"), ["5", "5"]);
}

#[test]
fn job_script_is_idempotent_and_keeps_history() {
    let b = common::reference();
    let s = text(&b, "sql/sqlmirror1/mirror-failover-job.sql");
    let code: String = s
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !code.contains("sp_delete_job"),
        "deleting the job loses its history"
    );
    for proc in [
        "sp_add_category",
        "sp_add_job\n",
        "sp_update_job\n",
        "sp_update_jobstep",
        "sp_add_jobstep",
        "sp_update_schedule",
        "sp_attach_schedule @job_id = @job_id, @schedule_id = @schedule_id",
        "sp_add_jobserver",
        "ROLLBACK TRANSACTION",
        "SET XACT_ABORT ON",
        ":on error exit",
    ] {
        assert!(code.contains(proc), "{proc}");
    }
    // The category is created only when missing, before the job uses it.
    assert!(code.find("sp_add_category") < code.find("sp_add_job\n"));
    // Job and schedule owned by the configured owner, new or updated.
    assert_eq!(params(&s, "owner_login_name"), vec!["N'sa'"; 4]);
    assert_eq!(params(&s, "database_name"), ["N'master'", "N'master'"]);
    // A re-run keeps a job or schedule a DBA disabled: @enabled only where they are created.
    let enabled_in = |proc: &str| {
        let at = code.find(proc).unwrap_or_else(|| panic!("{proc}"));
        let end = code[at..].find("IF @rc").map_or(code.len(), |e| at + e);
        code[at..end].contains("@enabled")
    };
    assert!(enabled_in("sp_add_job\n") && enabled_in("sp_add_schedule"));
    assert!(!enabled_in("sp_update_job\n") && !enabled_in("sp_update_schedule"));
    // The step holds no sqlcmd variable or Agent token.
    assert!(!s.contains("$("));
}

#[test]
fn pause_and_resume_scripts_toggle_the_job_and_its_alerts() {
    let b = common::reference();
    for (file, flag) in [
        ("pause-failover-job.sql", "0"),
        ("resume-failover-job.sql", "1"),
    ] {
        let s = text(&b, &format!("sql/sqlmirror1/{file}"));
        assert_eq!(params(&s, "enabled"), vec![flag.to_string(); 3], "{file}");
        // Pause also stops a run under way (after waiting for it); resume does not.
        let stops = usize::from(flag == "0");
        assert_eq!(
            params(&s, "job_name"),
            ["N'SP Mirroring - fail over all databases'"]
        );
        assert_eq!(
            s.matches(
                "EXEC @rc = msdb.dbo.sp_stop_job @job_name = N'SP Mirroring - fail over all databases';"
            )
            .count(),
            stops
        );
        assert_eq!(
            s.matches("FROM msdb.dbo.sysjobactivity AS a").count(),
            2 * stops
        );
        assert_eq!(
            params(&s, "name"),
            [
                "N'partnerpoint - manual failover'",
                "N'partnerpoint - automatic failover'"
            ]
        );
    }
}

#[test]
fn alerts_watch_failovers_update_in_place_and_start_the_job() {
    let b = common::reference();
    let s = text(&b, "sql/sqlmirror2/mirroring-alerts.sql");
    // Only the states after which the job can act; each alert updated in place (keeps its
    // notifications) or created; the connection-lost alert of earlier versions removed.
    // Only the anchor's failovers start the job (the anchor rule makes the others irrelevant).
    let queries = [
        "N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 7 AND DatabaseName = ''SharePoint_Config'''",
        "N'SELECT * FROM DATABASE_MIRRORING_STATE_CHANGE WHERE State = 8 AND DatabaseName = ''SharePoint_Config'''",
    ];
    assert_eq!(
        params(&s, "wmi_query"),
        [queries[0], queries[0], queries[1], queries[1]]
    );
    assert_eq!(
        params(&s, "wmi_namespace"),
        vec!["N'\\\\.\\root\\Microsoft\\SqlServer\\ServerEvents\\MSSQLSERVER'"; 4]
    );
    assert_eq!(
        params(&s, "job_name"),
        vec!["N'SP Mirroring - fail over all databases'"; 4]
    );
    assert_eq!(s.matches("EXEC @rc = msdb.dbo.sp_update_alert").count(), 2);
    assert_eq!(s.matches("EXEC @rc = msdb.dbo.sp_add_alert").count(), 2);
    assert_eq!(
        s.matches("EXEC @rc = msdb.dbo.sp_delete_alert @name = N'partnerpoint - connection lost';")
            .count(),
        1
    );
    assert_eq!(s.matches("EXEC @rc = msdb.dbo.sp_delete_alert").count(), 1);
    let fx = fixture("sql-named-instances.toml");
    let s = text(&fx, "sql/sqlB-SP_MIRROR/mirroring-alerts.sql");
    assert_eq!(
        params(&s, "wmi_namespace")[0],
        "N'\\\\.\\root\\Microsoft\\SqlServer\\ServerEvents\\SP_MIRROR'"
    );
}

/// `sql.witness`: resolved (located errors: unknown server, a partner, with controlled failover;
/// validate and build agree), drawn in the topology, named in the runbook's verify query and its
/// "A mirroring partner is lost" section.
#[test]
fn witness_is_checked_drawn_and_verified() {
    let base = hostile_site(&["SharePoint_Config".into(), "WSS_Content".into()])
        .replacen(
            "[sql]",
            "[[server]]\nname = \"sqlw\"\nos = \"2008r2\"\n\n[sql]",
            1,
        )
        .replacen(
            "alias = \"SPSQL\"",
            "alias = \"SPSQL\"\nwitness = \"WITNESS\"",
            1,
        );
    let site = base.replace("WITNESS", "sqlw");
    let b = common::build_text("witness.toml", &site);
    let readme = text(&b, "README.md");
    assert!(
        readme.contains("## A mirroring partner is lost"),
        "{readme}"
    );
    assert!(readme.contains("This site's witness is `sqlw`"), "{readme}");
    assert!(readme.contains("m.mirroring_witness_name, m.mirroring_witness_state_desc"));
    assert!(readme.contains(
        "sqlcmd -S sql2 -E -b -d master -Q \"ALTER DATABASE [SharePoint_Config] SET PARTNER FORCE_SERVICE_ALLOW_DATA_LOSS;\""
    ));
    let topo = text(&b, "topology.svg");
    assert!(topo.contains("witness"), "the topology draws the witness");
    for (bad, want) in [
        ("nosuch", "unknown server `nosuch`"),
        ("sql1", "is one of the mirroring partners"),
    ] {
        let e = sitebundle::load_text("w.toml", &base.replace("WITNESS", bad))
            .map(|_| ())
            .unwrap_err()
            .render();
        assert!(e.contains(want) && e.contains("--> w.toml:"), "{bad}: {e}");
    }
    // Controlled failover sets safety OFF: refused with a witness, at sql.witness.
    let hp = common::read("tests/fixtures/sql-controlled-failover.toml").replacen(
        "high_performance = ",
        "witness = \"web1\"\nhigh_performance = ",
        1,
    );
    let e = sitebundle::load_text("hp.toml", &hp)
        .map(|_| ())
        .unwrap_err()
        .render();
    assert!(e.contains("a witness with `high_performance"), "{e}");
    // Without a witness the runbook says that nothing fails over by itself.
    let readme = text(&common::reference(), "README.md");
    assert!(readme.contains("This site has no witness"), "{readme}");
}

#[test]
fn switcher_only_writes_a_partner_that_answered_as_principal() {
    for b in [common::reference(), fixture("sql-named-instances.toml")] {
        let dir = common::write_tmp(&b);
        let f = dir.path().join("scripts/Update-SqlAlias.ps1");
        logic(&["switcher", f.to_str().unwrap()]);
        let bytes = &b.files["scripts/Update-SqlAlias.ps1"].bytes;
        assert!(
            bytes.is_ascii(),
            "Windows PowerShell reads BOM-less files as ANSI"
        );
    }
    // The check itself rejects the original write-up's blind switch and other broken variants.
    let dir = common::write_tmp(&common::reference());
    let f = dir.path().join("scripts/Update-SqlAlias.ps1");
    logic(&["switcher-selftest", f.to_str().unwrap()]);
}

#[test]
fn switcher_defaults_come_from_the_site() {
    let b = common::reference();
    let s = text(&b, "scripts/Update-SqlAlias.ps1");
    assert!(s.contains("[string]$Alias = 'SPSQL',"));
    assert!(s.contains(
        "[string[]]$Partners = @('sqlmirror1.campus.example.edu,1433', 'sqlmirror2.campus.example.edu,1433'),"
    ));
    assert!(s.contains("[string]$Database = 'SharePoint_Config',"));
    assert!(s.contains("[switch]$CycleServices = $false,"));
    let fx = fixture("sql-named-instances.toml");
    let s = text(&fx, "scripts/Update-SqlAlias.ps1");
    assert!(s.contains("@('sqlA\\SHAREPOINT,51433', 'sqlb.lab.example.org\\SP_MIRROR,51434')"));
    assert!(s.contains("[switch]$CycleServices = $true,"));
    // A domain account: password logon, typed at registration, never stored.
    let task = text(&fx, "tasks/Lab-SqlAlias.xml");
    assert!(task.contains("<UserId>LAB\\svc-sqlalias</UserId>"));
    assert!(task.contains("<LogonType>Password</LogonType>"));
    assert!(!task.to_lowercase().contains("<password"));
    assert!(task.contains("<Interval>PT2M</Interval>"));
    let readme = text(&fx, "README.md");
    assert!(readme.contains("schtasks /Create /RU LAB\\svc-sqlalias /RP * /TN Lab-SqlAlias"));
}

#[test]
fn alias_reg_file_and_registry_values() {
    let b = common::reference();
    let a = &b.files["registry/sql-alias.reg"];
    assert!(a.bytes.starts_with(&[0xFF, 0xFE]), "UTF-16LE BOM");
    let units: Vec<u16> = a.bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let t = String::from_utf16(&units).unwrap();
    assert!(t.starts_with("Windows Registry Editor Version 5.00\r\n"));
    assert!(!t.replace("\r\n", "").contains('\n'), "CRLF only");
    for key in [
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo]\r\n\"SPSQL\"=\"DBMSSOCN,sqlmirror1.campus.example.edu,1433\"",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Microsoft\\MSSQLServer\\Client\\ConnectTo]\r\n\"SPSQL\"=\"DBMSSOCN,sqlmirror1.campus.example.edu,1433\"",
    ] {
        assert!(t.contains(key), "{t}");
    }
    let text = common::read("site.toml");
    let (site, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let plan = sitebundle::plan(&site).unwrap();
    let alias: Vec<_> = plan
        .registry
        .iter()
        .filter(|f| f.name == "sql-alias")
        .flat_map(|f| f.values.iter())
        .collect();
    assert_eq!(alias.len(), 2);
    assert_eq!(
        site.farm.server_names(&alias[0].hosts),
        ["sharepoint2", "sharepoint3"]
    );
    // A 2008 front end (x64 by default) and a 2003 R2 one (x86 by default): one file each; the
    // 32-bit view (Wow6432Node) only where it exists.
    let fx = fixture("sql-named-instances.toml");
    assert!(!fx.files.contains_key("registry/sql-alias.reg"));
    let reg = |path: &str| sitebundle::bundle::decode_for_display(&fx.files[path].bytes).unwrap();
    let data = "\"SP_DB.alias\"=\"DBMSSOCN,sqlA\\\\SHAREPOINT,51433\"";
    let x64 = reg("registry/sql-alias-x64.reg");
    assert_eq!(x64.matches(data).count(), 2, "{x64}");
    assert!(x64.contains(
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Wow6432Node\\Microsoft\\MSSQLServer\\Client\\ConnectTo]"
    ));
    assert_eq!(
        fx.files["registry/sql-alias-x64.reg"].hosts.servers(),
        ["wfe1"]
    );
    let x86 = reg("registry/sql-alias-x86.reg");
    assert_eq!(x86.matches(data).count(), 1, "{x86}");
    assert!(!x86.contains("Wow6432Node"), "{x86}");
    assert_eq!(
        fx.files["registry/sql-alias-x86.reg"].hosts.servers(),
        ["wfe-legacy"]
    );
    // The GPO's items follow: no Wow6432Node item reaches the x86 server.
    let text = common::read("tests/fixtures/sql-named-instances.toml")
        + "\n[gpo]\nname = \"lab\"\ndomain = \"lab.example.org\"\nlink_ou = \"OU=Web,DC=lab,DC=example,DC=org\"\n";
    let (with_gpo, _) = sitebundle::load_text("lab.toml", &text).unwrap();
    let gb = sitebundle::build_bundle(&with_gpo).unwrap();
    let (_, gpp) = gb
        .files
        .iter()
        .find(|(k, _)| k.ends_with("Registry/Registry.xml"))
        .expect("the GPO has Registry preferences");
    let xml = String::from_utf8(gpp.bytes.clone()).unwrap();
    let mut wow_items = 0;
    {
        let doc = roxmltree::Document::parse(&xml).unwrap();
        for item in doc.descendants().filter(|n| n.has_tag_name("Registry")) {
            let key = item
                .descendants()
                .find(|n| n.has_tag_name("Properties"))
                .and_then(|p| p.attribute("key"))
                .unwrap_or_default();
            let computers: Vec<&str> = item
                .descendants()
                .filter(|n| n.has_tag_name("FilterComputer"))
                .filter_map(|n| n.attribute("name"))
                .collect();
            if key.contains("Wow6432Node") {
                assert_eq!(computers, ["wfe1"], "{key}");
                wow_items += 1;
            }
        }
    }
    assert_eq!(wow_items, 1, "{xml}");
}

#[test]
fn x86_with_2008_r2_is_a_located_error_and_arch_is_optional() {
    let base = r#"[site]
name = "a"
changed = "2010-04-09 12:00:00"
scripts_share = '\\fs\s'

[[server]]
name = "web1"
os = "2008r2"
ARCH
"#;
    let e = match sitebundle::load_text("a.toml", &base.replace("ARCH", "arch = \"x86\"")) {
        Ok(_) => panic!("x86 2008 R2 accepted"),
        Err(d) => d.render(),
    };
    assert!(e.contains("a.toml:9:8"), "{e}");
    assert!(
        e.contains("Windows Server 2008 R2 has no x86 edition"),
        "{e}"
    );
    for ok in ["", "arch = \"x64\""] {
        assert!(sitebundle::load_text("a.toml", &base.replace("ARCH", ok)).is_ok());
    }
}

const MARKER: &str = "ZQXMARK";

fn hostile_site(dbs: &[String]) -> String {
    let list: Vec<String> = dbs.iter().map(|d| format!("'''{d}'''")).collect();
    format!(
        r#"[site]
name = "hostile"
changed = "2010-04-09 12:00:00"
scripts_share = '\\fs\share'

[[server]]
name = "sql1"
os = "2008r2"

[[server]]
name = "sql2"
os = "2008r2"

[[server]]
name = "web1"
os = "2008r2"

[sql]
alias = "SPSQL"
databases = [{}]

[[sql.partner]]
server = "sql1"

[[sql.partner]]
server = "sql2"

[sql.switcher]
servers = ["web1"]
probe_database = '''{}'''
"#,
        list.join(", "),
        dbs[1]
    )
}

#[test]
fn hostile_database_names_are_quoted() {
    let m = MARKER;
    let dbs: Vec<String> = vec![
        format!("x'; DROP DATABASE {m}; --"),
        format!("a]{m}[b'') --"),
        format!("{m}\" + (SELECT 1) + \""),
        format!("/* {m} */ GO"),
        format!("N'{m}''"),
        format!("{m} % ! & | < > ^ {{}} [x]"),
        format!("$ {m} ( ) @x"),
        // 128 characters (sysname): every logged text must still fit the error log's 440 bytes.
        format!("{m}{}", "L".repeat(121)),
    ];
    let site = hostile_site(&dbs);
    let b = common::build_text("hostile.toml", &site);
    let dir = common::write_tmp(&b);
    let verdicts = common::validate(&[dir.path()], Some(MARKER));
    common::assert_all_valid(&verdicts);
    let sql: Vec<_> = verdicts.iter().filter(|v| v.kind == "sql").collect();
    // The four scripts of each partner, the probe, and the audit's SQL collector.
    assert_eq!(sql.len(), 10, "{verdicts:?}");
    // The decision still treats exactly these names as the watched set.
    let f = dir.path().join("sql/sql1/mirror-failover-job.sql");
    let mut args = vec!["failover".to_string(), f.to_str().unwrap().to_string()];
    args.extend(dbs.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    logic(&refs);
    // The probe database reaches PowerShell as a verbatim string only.
    let ps = text(&b, "scripts/Update-SqlAlias.ps1");
    assert!(
        ps.contains(&format!("[string]$Database = 'a]{m}[b'''') --',")),
        "{ps}"
    );
}

#[test]
fn unquotable_values_are_rejected_with_located_errors() {
    let cases: &[(&str, &str)] = &[
        ("$(dbname)", "sqlcmd"),
        ("a$(b)c", "sqlcmd"),
        ("two\nGO", "line break"),
        ("tab\there", "tab"),
        ("MSDB", "system database"),
        (" padded", "spaces"),
        ("back`tick", "backtick"),
    ];
    for (bad, why) in cases {
        let dbs = vec![
            "SharePoint_Config".to_string(),
            "WSS_Content".to_string(),
            bad.to_string(),
        ];
        let mut site = hostile_site(&dbs);
        // hostile_site uses TOML literal strings; write this one as a basic string with escapes.
        let escaped = bad
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\t', "\\t");
        site = site.replace(&format!("'''{bad}'''"), &format!("\"{escaped}\""));
        let err = match sitebundle::load_text("bad.toml", &site) {
            Ok(_) => panic!("{bad:?} was accepted"),
            Err(d) => d,
        };
        let found = err
            .items
            .iter()
            .any(|d| d.span.is_some() && d.message.contains(why));
        assert!(found, "{bad:?}: {}", err.render());
    }
}

#[test]
fn partner_rules() {
    let base = hostile_site(&["SharePoint_Config".into(), "WSS_Content".into()]);
    let same = base.replacen("server = \"sql2\"", "server = \"sql1\"", 1);
    let err = sitebundle::load_text("same.toml", &same).unwrap_err();
    assert!(
        err.render().contains("a database cannot mirror to itself"),
        "{}",
        err.render()
    );
    // Two instances on one server are distinct partners.
    let inst = same.replacen(
        "[[sql.partner]]\nserver = \"sql1\"\n\n[sql.switcher]",
        "[[sql.partner]]\nserver = \"sql1\"\ninstance = \"MIRROR\"\n\n[sql.switcher]",
        1,
    );
    let (site, _) =
        sitebundle::load_text("inst.toml", &inst).unwrap_or_else(|d| panic!("{}", d.render()));
    let b = sitebundle::build_bundle(&site).unwrap();
    assert!(b.files.contains_key("sql/sql1/mirror-failover-job.sql"));
    assert!(
        b.files
            .contains_key("sql/sql1-MIRROR/mirror-failover-job.sql")
    );
    // all_synchronized needs a probe database, and excludes a list.
    let both = base.replacen(
        "alias = \"SPSQL\"",
        "alias = \"SPSQL\"\nall_synchronized = true",
        1,
    );
    let err = sitebundle::load_text("both.toml", &both).unwrap_err();
    assert!(err.render().contains("exclude each other"));
}

#[test]
fn generated_mirroring_files_pass_their_parsers() {
    let dirs = [
        common::write_tmp(&common::reference()),
        common::write_tmp(&fixture("sql-named-instances.toml")),
    ];
    let paths: Vec<&Path> = dirs.iter().map(|d| d.path()).collect();
    let verdicts = common::validate(&paths, None);
    common::assert_all_valid(&verdicts);
    for kind in ["sql", "ps1", "reg", "task"] {
        assert!(
            verdicts.iter().any(|v| v.kind == kind),
            "no {kind} file was validated: {verdicts:?}"
        );
    }
}

/// Issue 27: the switcher's task starts at a fixed past date, whatever `site.changed` says: a
/// `changed` in the future must not stop the switcher until then, and a bump must not rewrite the
/// task on every front end.
#[test]
fn switcher_start_does_not_depend_on_changed() {
    let site = common::read("site.toml");
    let start = |b: &Bundle| -> String {
        let t = text(b, "tasks/Update-SqlAlias.xml");
        let i = t.find("<StartBoundary>").expect("a StartBoundary");
        t[i..i + 50].to_string()
    };
    let future = site.replace(
        "changed = \"2010-04-09 12:00:00\"",
        "changed = \"2031-07-01 08:00:00\"",
    );
    assert_ne!(future, site);
    let (now, later) = (
        common::build_text("site.toml", &site),
        common::build_text("future.toml", &future),
    );
    assert_eq!(
        start(&now),
        "<StartBoundary>2010-01-01T00:00:00</StartBoundary>"
    );
    assert_eq!(start(&now), start(&later));
    assert!(
        sitebundle::families::sql::SWITCHER_START
            .starts_with(sitebundle::model::schedule::DEFAULT_START)
    );
}
