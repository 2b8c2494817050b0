//! One Windows server: what the plan puts on it (tasks, registry values, runtime scripts, the
//! 2003 event trigger, its name and release) against its collected folder
//! (`collected/<SERVER>/`, written by the collector of its group, `collect/windows/…`, under the
//! name the server reports).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::compare::{Found, compare};
use super::input::{self, ParseError};
use super::names::{self, Env};
use super::report::Finding;
use super::{eventtriggers, hashes, reg_query, sc_qfailure, schtasks_csv, system, task_xml};
use crate::bundle::{Bundle, Deploy};
use crate::model::schedule::By;
use crate::model::{Farm, Os};
use crate::plan::{Compare, Expected, Field, Plan, RegData, Scope, TaskSpec, Trigger};

/// The findings for server `idx` from its folder `dir` (shown as `shown`).
pub fn audit(
    farm: &Farm,
    plan: &Plan,
    bundle: &Bundle,
    idx: usize,
    dir: &Path,
    shown: &str,
    errors: &mut Vec<ParseError>,
) -> Vec<Finding> {
    let server = farm.server(idx);
    let v2 = server.os.has_task_scheduler2();
    let read = |file: &str| input::read(&dir.join(file), &format!("{shown}/{file}"));
    let mut expected = vec![system_expected(&server.name, server.os)];
    let mut found = Vec::new();
    let mut env = Env::default();
    match read("system.txt").and_then(|i| system::parse(&i)) {
        Ok((f, e)) => {
            found.push(f);
            env = e;
        }
        Err(e) => errors.push(e),
    }
    let tasks: Vec<&TaskSpec> = plan
        .tasks
        .iter()
        .filter(|t| t.hosts.contains(&idx))
        .collect();
    expected.extend(tasks.iter().map(|t| task_expected(t, v2, &env)));
    found.extend(collected_tasks(server, &tasks, &env, dir, &read, errors));
    let values = registry_expected(plan, idx);
    if !values.is_empty() {
        expected.extend(values);
        gather(
            &mut found,
            errors,
            read("registry.txt").and_then(|i| reg_query::parse(&i)),
        );
    }
    let files = files_expected(bundle, &server.name, v2);
    if !files.is_empty() {
        expected.extend(files);
        gather(
            &mut found,
            errors,
            read("files.txt").and_then(|i| hashes::parse(&i)),
        );
    }
    let triggers = event_triggers_expected(plan, idx, &env);
    if !triggers.is_empty() {
        expected.extend(triggers);
        match read("eventtriggers.csv").and_then(|i| eventtriggers::parse(&i)) {
            Ok(f) => found.extend(f.into_iter().map(|t| {
                let task = env.command_line(t.fields.get("task").map(String::as_str).unwrap_or(""));
                t.with("task", task)
            })),
            Err(e) => errors.push(e),
        }
    }
    let services = services_expected(plan, idx);
    if !services.is_empty() {
        expected.extend(services);
        gather(
            &mut found,
            errors,
            read("services.txt").and_then(|i| sc_qfailure::parse(&i)),
        );
    }
    compare(&expected, &found, &task_scopes(plan))
}

/// The tasks collected from the server: the exports of the PowerShell collector (2012 R2 and
/// later), else the schtasks list with the exported XML of ours.
fn collected_tasks(
    server: &crate::model::Server,
    tasks: &[&TaskSpec],
    env: &Env,
    dir: &Path,
    read: &dyn Fn(&str) -> Result<input::Input, ParseError>,
    errors: &mut Vec<ParseError>,
) -> Vec<Found> {
    if server.os.is_modern() {
        return exported_tasks(dir, read, errors);
    }
    let v2 = server.os.has_task_scheduler2();
    match read("tasks.csv").and_then(|i| schtasks_csv::parse(&i, v2, &server.name)) {
        Ok(listed) => found_tasks(listed, tasks, v2, env, dir, read, errors),
        Err(e) => {
            errors.push(e);
            found_tasks(Vec::new(), tasks, v2, env, dir, read, errors)
        }
    }
}

/// Tasks named like one of ours are in scope: an extra copy is reported.
fn task_scopes(plan: &Plan) -> Vec<Scope> {
    plan.tasks
        .iter()
        .map(|t| Scope {
            kind: "task".into(),
            prefix: t.name.clone(),
        })
        .collect()
}

/// The objects of one collected file, or its error.
fn gather(found: &mut Vec<Found>, errors: &mut Vec<ParseError>, r: Result<Vec<Found>, ParseError>) {
    match r {
        Ok(f) => found.extend(f),
        Err(e) => errors.push(e),
    }
}

/// The tasks found on a server: on 2008 each of ours from its exported Task XML (an empty export
/// is a missing task) and the others from the schtasks list; on 2003 the list, commands normalised.
fn found_tasks(
    listed: Vec<Found>,
    tasks: &[&TaskSpec],
    v2: bool,
    env: &Env,
    dir: &Path,
    read: &dyn Fn(&str) -> Result<input::Input, ParseError>,
    errors: &mut Vec<ParseError>,
) -> Vec<Found> {
    if !v2 {
        return listed
            .into_iter()
            .map(|f| normalise_command(f, env))
            .collect();
    }
    let mut found = Vec::new();
    for t in tasks {
        let file = format!("tasks/{}.xml", t.name);
        if !dir.join(&file).is_file() {
            continue;
        }
        // schtasks /Query /XML of a task that is not there prints nothing (its error goes to
        // stderr), leaving an empty file: the task is missing.
        match read(&file) {
            Ok(i) if i.text.trim().is_empty() => {}
            Ok(i) => match task_xml::parse(&i, &t.name) {
                Ok(f) => found.push(f),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(e),
        }
    }
    let ours = |n: &str| tasks.iter().any(|t| t.name.eq_ignore_ascii_case(n));
    found.extend(listed.into_iter().filter(|f| !ours(&f.name)));
    found
}

/// The tasks found on a server of Windows Server 2012 R2 or later: every `tasks/NAME.xml` its
/// PowerShell collector wrote (`Export-ScheduledTask` of each root-folder task named like one of
/// ours; the string it returns is the task's XML, written UTF-16 LE with a BOM), read by the same
/// Task XML parser, each named after its file. A task of ours without a file is missing; another
/// file is a task in our scope, reported as extra.
fn exported_tasks(
    dir: &Path,
    read: &dyn Fn(&str) -> Result<input::Input, ParseError>,
    errors: &mut Vec<ParseError>,
) -> Vec<Found> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("tasks"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".xml").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut found = Vec::new();
    for name in names {
        match read(&format!("tasks/{name}.xml")).and_then(|i| task_xml::parse(&i, &name)) {
            Ok(f) => found.push(f),
            Err(e) => errors.push(e),
        }
    }
    found
}

/// The 2003 event triggers the plan puts on the server, their task line as the server shows it.
fn event_triggers_expected(plan: &Plan, idx: usize, env: &Env) -> Vec<Expected> {
    (plan.audit.event_triggers.iter())
        .filter(|t| t.hosts.contains(&idx))
        .map(|t| {
            Expected::new(
                "eventtrigger",
                &t.name,
                vec![Field::exact("task", env.command_line(&t.task))],
            )
        })
        .collect()
}

/// The recovery settings the plan gives a service on the server, as `sc qfailure` shows them
/// ([`sc_qfailure`]): the reset period in seconds and each restart with its delay.
fn services_expected(plan: &Plan, idx: usize) -> Vec<Expected> {
    (plan.services.iter())
        .filter(|r| r.hosts.contains(&idx))
        .map(|r| {
            let actions: Vec<String> = (0..r.restarts)
                .map(|_| format!("restart/{}", r.restart_delay_ms))
                .collect();
            Expected::new(
                "service",
                &r.service,
                vec![
                    Field::exact("reset period", r.reset_after_seconds.to_string()),
                    Field::exact("actions", actions.join("/")),
                ],
            )
        })
        .collect()
}

fn system_expected(name: &str, os: Os) -> Expected {
    let release = os.nt_version();
    Expected::new(
        "system",
        "computer",
        vec![
            Field::new("name", name, Compare::NoCase),
            Field::exact("release", names::release(release)),
        ],
    )
}

/// A trigger in the words both collected formats are read into: Task XML on Task Scheduler 2.0
/// (`v2`), `schtasks /V` on Server 2003, which shows a monthly task's time but not its days in a
/// format this project knows ([`names::monthly_2003`]).
pub fn trigger_label(t: &Trigger, v2: bool) -> String {
    match t {
        Trigger::Calendar(s) => calendar_label(s, v2),
        Trigger::Repeat { start, interval } => names::repeat(start, &interval.iso8601()),
        Trigger::Event { query } => names::event(query),
        Trigger::Boot => "at startup".into(),
    }
}

fn calendar_label(s: &crate::model::schedule::Schedule, v2: bool) -> String {
    let start = &s.start_boundary;
    // Every month: the task XML lists all twelve, which `names::months` writes as nothing.
    let every_month = "";
    match &s.by {
        By::Days { interval } => names::daily(start, &interval.to_string()),
        By::Weeks { days } => {
            names::weekly(start, "1", &names::weekdays(days.iter().map(|d| d.name())))
        }
        _ if !v2 => names::monthly_2003(start),
        By::MonthDays { days } => {
            let list: Vec<String> = days.iter().map(u32::to_string).collect();
            names::monthly_days(start, &list.join(", "), every_month)
        }
        By::MonthWeekday { week, day } => {
            let days = names::weekdays([day.name()]);
            names::monthly_weekday(start, week.xml(), &days, every_month)
        }
    }
}

/// A task as Task XML (2008) or `schtasks /V` (2003, which shows one command line) shows it.
fn task_expected(t: &TaskSpec, v2: bool, env: &Env) -> Expected {
    let mut fields = vec![
        Field::exact("trigger", trigger_label(&t.trigger, v2)),
        Field::exact("run as", t.principal.account.key()),
        Field::exact("enabled", "true"),
    ];
    if v2 {
        fields.push(Field::new("command", &t.command, Compare::NoCase));
        fields.push(Field::exact("arguments", &t.arguments));
        fields.push(Field::exact("time limit", t.execution_time_limit.iso8601()));
    } else {
        let line = format!("{} {}", t.command, t.arguments);
        fields.push(Field::exact("command line", env.command_line(&line)));
    }
    Expected::new("task", &t.name, fields)
}

fn normalise_command(mut f: Found, env: &Env) -> Found {
    if let Some(c) = f.fields.get("command line") {
        let c = env.command_line(c);
        f.fields.insert("command line".into(), c);
    }
    f
}

fn registry_expected(plan: &Plan, idx: usize) -> Vec<Expected> {
    plan.reg_values()
        .filter(|v| v.hosts.contains(&idx))
        .map(|v| {
            let (kind, data) = match &v.data {
                RegData::Sz(s) => ("REG_SZ", s.clone()),
                RegData::Dword(d) => ("REG_DWORD", d.to_string()),
            };
            let live = plan.audit.live_values.iter().find(|l| {
                l.key.eq_ignore_ascii_case(&v.key) && l.name.eq_ignore_ascii_case(&v.name)
            });
            let rule = match live {
                Some(l) => Compare::State {
                    accepted: l.accepted.clone(),
                },
                None => Compare::Exact,
            };
            Expected::new(
                "registry",
                format!("HKLM\\{}\\{}", v.key, v.name),
                vec![Field::exact("type", kind), Field::new("data", data, rule)],
            )
        })
        .collect()
}

/// Every runtime script deployed to the server: its size and hash (SHA-256 where certutil can
/// compute it, SHA-1 on 2003).
fn files_expected(bundle: &Bundle, server: &str, v2: bool) -> Vec<Expected> {
    bundle
        .files
        .iter()
        .filter(|(_, a)| matches!(a.deploy, Deploy::RuntimeScript { .. }))
        .filter(|(_, a)| {
            a.hosts
                .servers()
                .iter()
                .any(|h| h.eq_ignore_ascii_case(server))
        })
        .map(|(path, a)| {
            let name = path.rsplit('/').next().unwrap_or(path);
            let hash = if v2 {
                Field::exact("sha256", hex(&Sha256::digest(&a.bytes)))
            } else {
                Field::exact("sha1", sha1_smol::Sha1::from(&a.bytes).digest().to_string())
            };
            Expected::new(
                "file",
                name,
                vec![Field::exact("size", a.bytes.len().to_string()), hash],
            )
        })
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod calendar_tests {
    //! Weekly and monthly triggers compared in full: the generated Task XML, read back by the
    //! audit's own parser, gives the plan's words; a day changed on the server is a difference.
    //! On Server 2003, `schtasks /V` records give a weekly task's days; a monthly task is compared
    //! by its time only.
    use super::*;
    use crate::audit::input::Input;

    const SITE: &str = r#"
[site]
name = "cal"
changed = "2013-02-28 06:15:00"
scripts_share = '\\nas01\tools'

[[server]]
name = "web1"
os = "2008r2"

[[server]]
name = "old1"
os = "2003r2"

[[kill]]
image = "a.exe"
servers = ["web1", "old1"]
at = "01:15"
days = ["wed", "sun"]

[[kill]]
image = "b.exe"
servers = ["web1", "old1"]
at = "02:30"
monthly = { days = [1, 15] }

[[kill]]
image = "c.exe"
servers = ["web1", "old1"]
at = "04:45"
monthly = { week = "first", day = "mon" }
"#;

    fn found_trigger(xml: &str, name: &str) -> String {
        let input = Input {
            file: format!("tasks/{name}.xml"),
            text: xml.to_string(),
        };
        let found = super::task_xml::parse(&input, name).expect("the generated XML parses");
        found.fields["trigger"].clone()
    }

    #[test]
    fn task_xml_triggers_read_back_as_the_plan_says_and_a_changed_day_differs() {
        let (site, _) = crate::load_text("cal.toml", SITE).expect("valid");
        let crate::Built { plan, files } = crate::build(&site).expect("plans");
        let mut seen = 0;
        for t in &plan.tasks {
            let Some(a) = files.files.get(&t.xml_path()) else {
                continue;
            };
            let xml = crate::bundle::decode_for_display(&a.bytes).expect("text");
            let expected = trigger_label(&t.trigger, true);
            assert_eq!(found_trigger(&xml, &t.name), expected, "{}", t.name);
            assert!(!expected.contains("calendar"), "{expected}");
            let changed = if xml.contains("<Wednesday />") {
                xml.replace("<Wednesday />", "<Thursday />")
            } else if xml.contains("<Day>15</Day>") {
                xml.replace("<Day>15</Day>", "<Day>16</Day>")
            } else if xml.contains("<Week>1</Week>") {
                xml.replace("<Week>1</Week>", "<Week>2</Week>")
            } else {
                continue;
            };
            assert_ne!(found_trigger(&changed, &t.name), expected, "{}", t.name);
            if xml.contains("<December />") {
                let fewer_months = found_trigger(&xml.replace("<December />", ""), &t.name);
                assert!(
                    fewer_months
                        .ends_with(" in JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV"),
                    "{fewer_months}"
                );
            }
            seen += 1;
        }
        assert_eq!(
            seen, 3,
            "weekly, monthly by days and by weekday were all checked"
        );
    }

    /// Records as `schtasks /Query /FO CSV /V` writes them on Server 2003 (header of
    /// tests/fixtures/audit/schtasks-2003.csv), for the weekly and a monthly task.
    #[test]
    fn schtasks_2003_weekly_days_are_compared_monthly_by_time() {
        let (site, _) = crate::load_text("cal.toml", SITE).expect("valid");
        let plan = crate::plan(&site).expect("plans");
        let task = |image: &str| {
            plan.tasks
                .iter()
                .find(|t| t.arguments.contains(image))
                .unwrap_or_else(|| panic!("{image}"))
        };
        let header = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/audit/schtasks-2003.csv"
        ))
        .expect("fixture")
        .lines()
        .next()
        .expect("header")
        .to_string();
        let columns: Vec<String> = header
            .split("\",\"")
            .map(|c| c.trim_matches('"').to_string())
            .collect();
        let record = |name: &str, kind: &str, time: &str, days: &str| {
            let fields: Vec<String> = columns
                .iter()
                .map(|c| -> String {
                    match c.as_str() {
                        "HostName" => "OLD1".into(),
                        "TaskName" => name.into(),
                        "Scheduled Type" => kind.into(),
                        "Start Time" => time.into(),
                        "Days" => days.into(),
                        "Run As User" => "NT AUTHORITY\\SYSTEM".into(),
                        "Task To Run" => "cmd.exe".into(),
                        "Scheduled Task State" => "Enabled".into(),
                        "Repeat: Every" => "Disabled".into(),
                        _ => "N/A".into(),
                    }
                })
                .map(|f| format!("\"{f}\""))
                .collect();
            format!("{header}\r\n{}\r\n", fields.join(","))
        };
        let read = |csv: String| {
            let found = super::schtasks_csv::parse(
                &Input {
                    file: "tasks.csv".into(),
                    text: csv,
                },
                false,
                "OLD1",
            )
            .expect("parses");
            found[0].fields["trigger"].clone()
        };
        let weekly = task("a.exe");
        let want = trigger_label(&weekly.trigger, false);
        assert_eq!(
            read(record(&weekly.name, "Weekly ", "01:15:00", "SUN, WED")),
            want
        );
        assert_eq!(
            read(record(&weekly.name, "Weekly ", "01:15:00", "WED, SUN")),
            want,
            "order"
        );
        assert_ne!(
            read(record(&weekly.name, "Weekly ", "01:15:00", "SUN, THU")),
            want
        );
        let monthly = task("b.exe");
        let want = trigger_label(&monthly.trigger, false);
        assert!(want.contains("not compared"), "{want}");
        assert_eq!(
            read(record(&monthly.name, "Monthly", "02:30:00", "1, 15")),
            want
        );
        assert_ne!(
            read(record(&monthly.name, "Monthly", "02:45:00", "1, 15")),
            want,
            "time"
        );
    }
}
