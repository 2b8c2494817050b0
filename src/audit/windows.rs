//! One Windows server: what the plan puts on it (tasks, registry values, runtime scripts, the
//! 2003 event trigger, its name and release) against its collected folder
//! (`collected/<server>/`, written by `collect/windows/<server>.cmd`).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::compare::{Found, compare};
use super::input::{self, ParseError};
use super::names::{self, Env};
use super::report::Finding;
use super::{eventtriggers, hashes, reg_query, schtasks_csv, system, task_xml};
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
    let listed = match read("tasks.csv").and_then(|i| schtasks_csv::parse(&i)) {
        Ok(list) => list,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    found.extend(found_tasks(listed, &tasks, v2, &env, dir, &read, errors));
    let values = registry_expected(plan, idx);
    if !values.is_empty() {
        expected.extend(values);
        match read("registry.txt").and_then(|i| reg_query::parse(&i)) {
            Ok(f) => found.extend(f),
            Err(e) => errors.push(e),
        }
    }
    let files = files_expected(bundle, &server.name, v2);
    if !files.is_empty() {
        expected.extend(files);
        match read("files.txt").and_then(|i| hashes::parse(&i)) {
            Ok(f) => found.extend(f),
            Err(e) => errors.push(e),
        }
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
    let scopes: Vec<Scope> = plan
        .tasks
        .iter()
        .map(|t| Scope {
            kind: "task".into(),
            prefix: t.name.clone(),
        })
        .collect();
    compare(&expected, &found, &scopes)
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

fn system_expected(name: &str, os: Os) -> Expected {
    let release = match os {
        Os::W2003 | Os::W2003R2 => "5.2",
        Os::W2008 => "6.0",
        Os::W2008R2 => "6.1",
    };
    Expected::new(
        "system",
        "computer",
        vec![
            Field::new("name", name, Compare::NoCase),
            Field::exact("release", names::release(release)),
        ],
    )
}

/// A trigger in the words both collected formats are read into.
pub fn trigger_label(t: &Trigger) -> String {
    match t {
        Trigger::Calendar(s) => match &s.by {
            By::Days { interval } => names::daily(&s.start_boundary, &interval.to_string()),
            // Weekly and monthly triggers are compared by their time only: the parsers read
            // the days of a ScheduleByWeek/ScheduleByMonth* as "calendar (not daily)" (to do).
            _ => format!(
                "calendar (not daily) from {}",
                names::time_of(&s.start_boundary)
            ),
        },
        Trigger::Repeat { start, interval } => names::repeat(start, interval),
        Trigger::Event { query } => names::event(query),
        Trigger::Boot => "at startup".into(),
    }
}

/// A task as Task XML (2008) or `schtasks /V` (2003, which shows one command line) shows it.
fn task_expected(t: &TaskSpec, v2: bool, env: &Env) -> Expected {
    let mut fields = vec![
        Field::exact("trigger", trigger_label(&t.trigger)),
        Field::exact("run as", names::account(&t.principal.user_id)),
        Field::exact("enabled", "true"),
    ];
    if v2 {
        fields.push(Field::new("command", &t.command, Compare::NoCase));
        fields.push(Field::exact("arguments", &t.arguments));
        fields.push(Field::exact("time limit", &t.execution_time_limit));
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
        .filter(|(_, a)| a.hosts.iter().any(|h| h.eq_ignore_ascii_case(server)))
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
