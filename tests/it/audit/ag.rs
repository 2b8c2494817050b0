//! The audit of an availability group site (issue 31): each replica's msdb and Always On catalog
//! as the generated scripts leave them (read from the scripts themselves: ag-create*.sql's
//! CREATE AVAILABILITY GROUP and ADD LISTENER, ag-alerts.sql's sp_altermessage and sp_add_alert,
//! ag-follow-job.sql's job), written as collect-ag.sql's records, audited. Controls: a replica's
//! availability mode changed by hand, a message no longer event-logged, the listener's port, an
//! alert deleted, a database added to the group and the follower job disabled are exactly those
//! findings; a failover (the roles swapped) is state, not drift.

use sitebundle::bundle::Bundle;
use sitebundle::site::Site;

use super::farm::{LiveFarm, SqlServer, exec_params, param};
use super::{audit, drift};
use crate::common::read;

fn script(bundle: &Bundle, path: &str) -> Option<String> {
    (bundle.files.get(path)).map(|a| {
        String::from_utf8(a.bytes.clone())
            .unwrap()
            .replace("\r\n", "\n")
    })
}

/// The text between `start` and the next `end` after it.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// `N'x'` → x.
fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix("N'")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(s)
        .replace("''", "'")
}

/// The rows one ag-create*.sql leaves: the group, its replicas, databases and listener.
fn group_rows(create: &str) -> Vec<Vec<String>> {
    let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let name = between(create, "CREATE AVAILABILITY GROUP [", "]").unwrap();
    let backup = between(create, "AUTOMATED_BACKUP_PREFERENCE = ", ")").unwrap();
    let mut rows = vec![row(&["ag", name, backup])];
    let replicas = between(create, "REPLICA ON\n", "END\n").unwrap();
    for line in replicas.lines().filter(|l| l.contains("ENDPOINT_URL")) {
        let server = unquote(line.trim().split(" WITH").next().unwrap());
        let url = unquote(between(line, "ENDPOINT_URL = ", ",").unwrap());
        let mode = between(line, "AVAILABILITY_MODE = ", ",").unwrap();
        let failover = between(line, "FAILOVER_MODE = ", ")").unwrap();
        rows.push(row(&["replica", name, &server, &url, mode, failover]));
    }
    let dbs = between(create, "FOR DATABASE ", "\n").unwrap();
    for d in dbs.split(", ") {
        let d = d.trim().trim_start_matches('[').trim_end_matches(']');
        rows.push(row(&["agdatabase", name, d]));
    }
    if let Some(l) = between(create, "ADD LISTENER ", ";") {
        let dns = unquote(l.split(" (WITH IP").next().unwrap());
        let port = between(l, "PORT = ", ")").unwrap();
        rows.push(row(&["listener", name, &dns, port]));
        let ips = between(l, "WITH IP (", "), PORT").unwrap();
        for pair in ips.split("), (") {
            let pair = pair.trim_matches(|c| c == '(' || c == ')');
            let (ip, mask) = pair.split_once(", ").unwrap();
            rows.push(row(&[
                "listenerip",
                name,
                &dns,
                &unquote(ip),
                &unquote(mask),
            ]));
        }
    }
    rows
}

/// msdb after ag-alerts.sql: the alerts, and the messages it set WITH_LOG.
fn alert_rows(alerts: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in alerts.lines().filter(|l| l.contains("sys.sp_altermessage")) {
        let id = between(line, "@message_id = ", ",").unwrap();
        let on = line.contains("@parameter_value = 'true'");
        rows.push(vec![
            "message".into(),
            id.into(),
            if on { "1" } else { "0" }.into(),
        ]);
    }
    for a in exec_params(alerts, "sp_add_alert") {
        rows.push(
            [
                "agalert",
                param(&a, "name"),
                param(&a, "enabled"),
                param(&a, "message_id"),
                param(&a, "severity"),
                param(&a, "delay_between_responses"),
                param(&a, "include_event_description_in"),
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    rows
}

/// Every replica after the runbook's steps: the groups created on the first replica and joined
/// elsewhere (the catalog views show the same groups on every replica), its alerts, the follower
/// job; the first replica primary.
pub fn deployed_ag(site: &Site, bundle: &Bundle) -> Vec<SqlServer> {
    let sql = site.sql.as_ref().unwrap();
    let first = site.farm.server(sql.partners[0].server).name.clone();
    let groups: Vec<Vec<String>> = (bundle.files.keys())
        .filter(|p| p.starts_with(&format!("sql/{first}/ag-create")))
        .flat_map(|p| group_rows(&script(bundle, p).unwrap()))
        .collect();
    let mut out = Vec::new();
    for (idx, p) in sql.partners.iter().enumerate() {
        let folder = site.farm.server(p.server).name.clone();
        let mut rows = groups.clone();
        rows.extend(alert_rows(
            &script(bundle, &format!("sql/{folder}/ag-alerts.sql")).unwrap(),
        ));
        if let Some(job) = script(bundle, &format!("sql/{folder}/ag-follow-job.sql")) {
            rows.extend(super::farm::job_rows(&job));
        }
        let role = if idx == 0 { "PRIMARY" } else { "SECONDARY" };
        for r in &groups {
            if r[0] == "ag" {
                rows.push(vec![
                    "agrole".into(),
                    r[1].clone(),
                    role.into(),
                    "HEALTHY".into(),
                ]);
            }
        }
        out.push(SqlServer {
            folder,
            servername: site.farm.server(p.server).name.to_ascii_uppercase(),
            rows,
        });
    }
    out
}

fn deployed(file: &str) -> (Site, sitebundle::Built, LiveFarm) {
    let (site, _) = sitebundle::load_text(file, &read(file)).unwrap();
    let built = sitebundle::build(&site).unwrap();
    let farm = LiveFarm::deployed(&site, &built.plan, &built.files);
    (site, built, farm)
}

/// The SQL sources' drift findings only (the Windows folders are audited elsewhere).
fn sql_drift(r: &sitebundle::audit::report::Report) -> Vec<String> {
    drift(r)
        .into_iter()
        .filter(|l| l.starts_with("sql "))
        .collect()
}

fn sql_sources(r: &sitebundle::audit::report::Report) -> Vec<String> {
    let text = r.to_text();
    text.lines()
        .filter(|l| l.starts_with("sql "))
        .map(String::from)
        .collect()
}

/// SQL Server's catalog may print the names in another case than the scripts gave them (the
/// replica name as @@SERVERNAME, in capitals, the listener's DNS name, the endpoint's host): the
/// comparison ignores case there, as SQL Server and DNS do.
#[test]
fn names_in_capitals_as_the_server_may_print_them_audit_in_sync() {
    let (site, built, mut farm) = deployed("tests/fixtures/ag-2019.toml");
    for s in &mut farm.sql {
        for r in &mut s.rows {
            match r[0].as_str() {
                "replica" => {
                    r[2] = r[2].to_ascii_uppercase();
                    r[3] = r[3].to_ascii_uppercase();
                }
                "listener" | "listenerip" => r[2] = r[2].to_ascii_uppercase(),
                _ => {}
            }
        }
    }
    let r = audit(&site, &built, &farm);
    assert_eq!(sql_drift(&r), Vec::<String>::new(), "{}", r.to_text());
    // Control: a different name is not a case difference.
    let row = (farm.sql("sqlag1").rows.iter_mut())
        .find(|r| r[0] == "listener")
        .unwrap();
    row[2] = "SPSQL2".into();
    let r = audit(&site, &built, &farm);
    assert_eq!(
        sql_drift(&r),
        [
            "sql sqlag1 | Extra | listener SPAG / SPSQL2 | -",
            "sql sqlag1 | Missing | listener SPAG / spsql | -",
        ],
        "{}",
        r.to_text()
    );
}

#[test]
fn deployed_availability_groups_audit_in_sync() {
    for (file, replicas) in [
        ("tests/fixtures/ag-2019.toml", 3),
        ("tests/fixtures/ag-followers-2019.toml", 2),
        ("tests/fixtures/ag-from-mirroring.toml", 2),
    ] {
        let (site, built, farm) = deployed(file);
        let r = audit(&site, &built, &farm);
        let sources = sql_sources(&r);
        assert_eq!(sources.len(), replicas, "{file}: {sources:?}");
        assert!(
            sources.iter().all(|s| s.contains(": in sync")),
            "{file}:\n{}",
            r.to_text()
        );
        assert_eq!(
            sql_drift(&r),
            Vec::<String>::new(),
            "{file}:\n{}",
            r.to_text()
        );
    }
}

fn set(farm: &mut LiveFarm, folder: &str, kind: &str, name: &[&str], field: usize, value: &str) {
    let rows = &mut farm.sql(folder).rows;
    let row = (rows.iter_mut())
        .find(|r| r[0] == kind && r[1..=name.len()].iter().zip(name).all(|(a, b)| a == b))
        .unwrap_or_else(|| panic!("no {kind} {name:?} on {folder}"));
    row[field] = value.into();
}

#[test]
fn availability_group_drift_is_reported_exactly_and_a_failover_is_state() {
    let (site, built, mut farm) = deployed("tests/fixtures/ag-2019.toml");
    // A failover to sqlag2: the roles swap. State, not drift.
    set(&mut farm, "sqlag1", "agrole", &["SPAG"], 2, "SECONDARY");
    set(&mut farm, "sqlag2", "agrole", &["SPAG"], 2, "PRIMARY");
    let r = audit(&site, &built, &farm);
    assert_eq!(sql_drift(&r), Vec::<String>::new(), "{}", r.to_text());
    // Changed by hand: the distant replica made synchronous (seen from sqlag1), 35264 no longer
    // event-logged on sqlag2, the listener's port on sqldr; an alert deleted on sqlag1; a database
    // added to the group on sqlag2.
    set(
        &mut farm,
        "sqlag1",
        "replica",
        &["SPAG", "sqldr"],
        4,
        "SYNCHRONOUS_COMMIT",
    );
    set(&mut farm, "sqlag2", "message", &["35264"], 2, "0");
    set(
        &mut farm,
        "sqldr",
        "listener",
        &["SPAG", "spsql"],
        3,
        "1434",
    );
    farm.sql("sqlag1")
        .rows
        .retain(|r| !(r[0] == "agalert" && r[1].ends_with("(35264)")));
    farm.sql("sqlag2")
        .rows
        .push(["agdatabase", "SPAG", "Scratch"].map(String::from).to_vec());
    let r = audit(&site, &built, &farm);
    assert_eq!(
        sql_drift(&r),
        [
            "sql sqlag1 | Missing | agalert agfarm - AG data movement suspended (35264) | -"
                .to_string(),
            "sql sqlag1 | Drift | replica SPAG / sqldr | availability_mode".into(),
            "sql sqlag2 | Extra | agdatabase SPAG / Scratch | -".into(),
            "sql sqlag2 | Drift | message 35264 | is_event_logged".into(),
            "sql sqldr | Drift | listener SPAG / spsql | port".into(),
        ],
        "{}",
        r.to_text()
    );
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn the_follower_job_disabled_or_missing_is_reported() {
    let (site, built, mut farm) = deployed("tests/fixtures/ag-followers-2019.toml");
    let job = "Availability groups - follow the anchor group";
    set(&mut farm, "sqlag1", "job", &[job], 2, "0");
    farm.sql("sqlag2").rows.retain(|r| r[0] != "schedule");
    let r = audit(&site, &built, &farm);
    assert_eq!(
        sql_drift(&r),
        [
            format!("sql sqlag1 | Drift | job {job} | enabled"),
            format!("sql sqlag2 | Missing | schedule {job} | -"),
        ],
        "{}",
        r.to_text()
    );
}
