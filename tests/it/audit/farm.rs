//! A model of the live farm after the bundle was deployed by hand, as the runbook says, and the
//! changes drift makes to it. Every piece is taken from what the bundle deploys, read the way the
//! target reads it: the Task XML files as schtasks /Create /XML registers them, the `.reg` files as
//! reg import writes them, the runtime scripts' bytes, the eventtriggers command line that
//! WUTriggerMaintMode.vbs runs (its CREATE_ARGS constant, with the refresh task's duration), the
//! install scripts' sp_add_job / sp_add_jobstep / sp_add_schedule / sp_add_alert parameters as
//! SQL Server Agent stores them, the merge file as BIG-IP saves it, the GPO backup as imported.
//! `export.rs` writes each piece in the format the collectors bring back.

use roxmltree::Document;
use sitebundle::bundle::{ArtifactKind, Bundle, Deploy};
use sitebundle::plan::Plan;
use sitebundle::site::Site;

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    Daily {
        start: String,
        days: String,
    },
    /// `ScheduleByWeek`: every `weeks` weeks on `days` (the schema's element names, `Saturday`).
    Weekly {
        start: String,
        weeks: String,
        days: Vec<String>,
    },
    Repeat {
        start: String,
        interval: String,
    },
    Event {
        subscription: String,
    },
    Boot,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub description: String,
    pub triggers: Vec<Trigger>,
    pub command: String,
    pub arguments: String,
    pub user: String,
    pub enabled: bool,
    pub time_limit: String,
}

#[derive(Debug, Clone)]
pub struct RegValue {
    pub key: String,
    pub name: String,
    pub kind: &'static str,
    pub data: String,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub v2: bool,
    pub tasks: Vec<Task>,
    /// Other tasks of the server (Windows' own), which the audit must leave alone.
    pub foreign_tasks: Vec<Task>,
    pub registry: Vec<RegValue>,
    pub files: Vec<(String, Vec<u8>)>,
    /// eventtriggers (2003): (name, task command line as listed).
    pub triggers: Vec<(String, String)>,
    /// Services whose recovery the GPO sets: name, reset period (s), actions (kind, delay ms).
    pub services: Vec<ServiceState>,
}

#[derive(Debug, Clone)]
pub struct ServiceState {
    pub name: String,
    pub reset_seconds: u32,
    pub actions: Vec<(String, u32)>,
}

/// One msdb row per record kind of the collector's output, fields in its column order.
#[derive(Debug, Clone)]
pub struct SqlServer {
    pub folder: String,
    pub servername: String,
    pub rows: Vec<Vec<String>>,
}

/// A file of the GPO: path below its folder, bytes.
pub type GpoFile = (String, Vec<u8>);

#[derive(Debug, Clone)]
pub struct LiveFarm {
    pub servers: Vec<Server>,
    pub sql: Vec<SqlServer>,
    /// `/config/bigip.conf` after the merge and `tmsh save sys config`.
    pub bigip_conf: String,
    /// The GPO's Preferences files (path below the GPO folder, text) and its display name.
    pub gpo: Option<(String, Vec<GpoFile>)>,
}

pub const SYSTEM_ROOT_2008: &str = r"C:\Windows";
pub const SYSTEM_ROOT_2003: &str = r"C:\WINDOWS";

/// `%SystemRoot%` and `%SystemDrive%` expanded as on the server.
pub fn expand(s: &str, v2: bool) -> String {
    let root = if v2 {
        SYSTEM_ROOT_2008
    } else {
        SYSTEM_ROOT_2003
    };
    let mut out = s.to_string();
    for (var, value) in [("%SystemRoot%", root), ("%SystemDrive%", "C:")] {
        while let Some(i) = out.to_ascii_lowercase().find(&var.to_ascii_lowercase()) {
            out.replace_range(i..i + var.len(), value);
        }
    }
    out
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

fn on(a: &sitebundle::bundle::Artifact, server: &str) -> bool {
    a.hosts.servers().iter().any(|h| h == server)
}

impl LiveFarm {
    /// The farm right after every step of the runbook.
    pub fn deployed(site: &Site, plan: &Plan, bundle: &Bundle) -> Self {
        let servers = site
            .farm
            .servers
            .iter()
            .enumerate()
            .map(|(idx, s)| deployed_server(plan, bundle, idx, &s.name, s.os.has_task_scheduler2()))
            .collect();
        LiveFarm {
            servers,
            sql: deployed_sql(site, bundle),
            bigip_conf: saved_bigip_conf(bundle),
            gpo: deployed_gpo(site, bundle),
        }
    }

    pub fn server(&mut self, name: &str) -> &mut Server {
        self.servers.iter_mut().find(|s| s.name == name).unwrap()
    }

    pub fn sql(&mut self, folder: &str) -> &mut SqlServer {
        self.sql.iter_mut().find(|s| s.folder == folder).unwrap()
    }
}

impl Server {
    pub fn task(&mut self, name: &str) -> &mut Task {
        self.tasks.iter_mut().find(|t| t.name == name).unwrap()
    }
}

fn deployed_server(plan: &Plan, bundle: &Bundle, idx: usize, name: &str, v2: bool) -> Server {
    let mut tasks = Vec::new();
    for (path, a) in &bundle.files {
        if a.kind == ArtifactKind::TaskXml && on(a, name) {
            let task_name = path.trim_start_matches("tasks/").trim_end_matches(".xml");
            tasks.push(registered_task(task_name, &utf16(&a.bytes)));
        }
    }
    if !v2 {
        // 2003: schtasks /Create /SC DAILY /ST … /TR "…" (runbook), one daily trigger.
        for t in plan.tasks.iter().filter(|t| t.hosts.contains(&idx)) {
            let sitebundle::plan::Trigger::Calendar(schedule) = &t.trigger else {
                panic!("a 2003 task that is not on a calendar: {}", t.name)
            };
            let sitebundle::model::schedule::By::Days {
                interval: days_interval,
            } = &schedule.by
            else {
                panic!("a 2003 task that is not every N days: {}", t.name)
            };
            let start = &schedule.start_boundary;
            tasks.push(Task {
                name: t.name.clone(),
                description: String::new(),
                triggers: vec![Trigger::Daily {
                    start: start.clone(),
                    days: days_interval.to_string(),
                }],
                command: t.command.clone(),
                arguments: t.arguments.clone(),
                user: "NT AUTHORITY\\SYSTEM".into(),
                enabled: true,
                time_limit: "72:0".into(),
            });
        }
    }
    let mut registry = Vec::new();
    for a in bundle.files.values() {
        if a.kind == ArtifactKind::Reg && on(a, name) {
            registry.extend(imported_values(&utf16(&a.bytes)));
        }
    }
    let files: Vec<(String, Vec<u8>)> = bundle
        .files
        .iter()
        .filter(|(_, a)| matches!(a.deploy, Deploy::RuntimeScript { .. }) && on(a, name))
        .map(|(p, a)| (p.rsplit('/').next().unwrap().to_string(), a.bytes.clone()))
        .collect();
    let triggers = if v2 {
        Vec::new()
    } else {
        created_triggers(&files, &tasks, v2)
    };
    Server {
        name: name.into(),
        v2,
        tasks,
        foreign_tasks: vec![Task {
            name: if v2 {
                r"Microsoft\Windows\Defrag\ScheduledDefrag".into()
            } else {
                "Defrag C".into()
            },
            description: String::new(),
            triggers: vec![Trigger::Daily {
                start: "2009-07-14T01:00:00".into(),
                days: "7".into(),
            }],
            command: r"%windir%\system32\defrag.exe".into(),
            arguments: "-c".into(),
            user: "NT AUTHORITY\\SYSTEM".into(),
            enabled: true,
            time_limit: "PT72H".into(),
        }],
        registry,
        files,
        triggers,
        services: applied_services(plan, bundle, idx),
    }
}

/// The recovery settings the GPO's NTService items give the server's services, as the service
/// controller then holds them (each `RESTART` with `restartServiceDelay`, `resetFailCountDelay`).
fn applied_services(plan: &Plan, bundle: &Bundle, idx: usize) -> Vec<ServiceState> {
    let Some((_, xml)) = bundle
        .files
        .iter()
        .find(|(p, a)| a.kind == ArtifactKind::GppXml && p.ends_with("Services/Services.xml"))
    else {
        return Vec::new();
    };
    let text = String::from_utf8(xml.bytes.clone()).unwrap();
    let doc = Document::parse(text.trim_start_matches('\u{feff}')).unwrap();
    plan.services
        .iter()
        .filter(|r| r.hosts.contains(&idx))
        .map(|r| {
            let p = doc
                .descendants()
                .find(|n| {
                    n.tag_name().name() == "Properties"
                        && n.attribute("serviceName") == Some(r.service.as_str())
                })
                .unwrap();
            let delay: u32 = p.attribute("restartServiceDelay").unwrap().parse().unwrap();
            let actions = ["firstFailure", "secondFailure", "thirdFailure"]
                .iter()
                .filter_map(|a| p.attribute(*a))
                .map(|a| (a.to_string(), delay))
                .collect();
            ServiceState {
                name: r.service.clone(),
                reset_seconds: p.attribute("resetFailCountDelay").unwrap().parse().unwrap(),
                actions,
            }
        })
        .collect()
}

/// What Task Scheduler keeps of a registered task XML.
fn registered_task(name: &str, xml: &str) -> Task {
    let doc = Document::parse(xml).unwrap();
    let root = doc.root_element();
    let find = |tag: &str| root.descendants().find(|n| n.tag_name().name() == tag);
    let text = |tag: &str| find(tag).and_then(|n| n.text()).unwrap_or("").to_string();
    let triggers = find("Triggers")
        .unwrap()
        .children()
        .filter(|n| n.is_element())
        .map(|t| {
            let sub = |tag: &str| {
                t.descendants()
                    .find(|n| n.tag_name().name() == tag)
                    .and_then(|n| n.text())
                    .unwrap_or("")
                    .to_string()
            };
            match t.tag_name().name() {
                "CalendarTrigger" => match t
                    .descendants()
                    .find(|n| n.tag_name().name() == "DaysOfWeek")
                {
                    Some(days) => Trigger::Weekly {
                        start: sub("StartBoundary"),
                        weeks: sub("WeeksInterval"),
                        days: days
                            .children()
                            .filter(|n| n.is_element())
                            .map(|n| n.tag_name().name().to_string())
                            .collect(),
                    },
                    None => Trigger::Daily {
                        start: sub("StartBoundary"),
                        days: sub("DaysInterval"),
                    },
                },
                "TimeTrigger" => Trigger::Repeat {
                    start: sub("StartBoundary"),
                    interval: sub("Interval"),
                },
                "EventTrigger" => Trigger::Event {
                    subscription: sub("Subscription"),
                },
                "BootTrigger" => Trigger::Boot,
                other => panic!("unexpected trigger {other}"),
            }
        })
        .collect();
    Task {
        name: name.into(),
        description: text("Description"),
        triggers,
        command: text("Command"),
        arguments: text("Arguments"),
        user: text("UserId"),
        enabled: text("Enabled") != "false",
        time_limit: text("ExecutionTimeLimit"),
    }
}

/// The values `reg import` writes from a Registry Editor 5.00 file (strings and dwords).
fn imported_values(text: &str) -> Vec<RegValue> {
    let mut key = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(k) = line
            .strip_prefix("[HKEY_LOCAL_MACHINE\\")
            .and_then(|l| l.strip_suffix(']'))
        {
            key = k.to_string();
        } else if let Some(rest) = line.strip_prefix('"') {
            let (name, data) = rest.split_once("\"=").unwrap();
            let (kind, data) = match data.strip_prefix("dword:") {
                Some(hex) => (
                    "REG_DWORD",
                    format!("0x{:x}", u32::from_str_radix(hex, 16).unwrap()),
                ),
                None => (
                    "REG_SZ",
                    data.trim_matches('"')
                        .replace("\\\\", "\\")
                        .replace("\\\"", "\""),
                ),
            };
            out.push(RegValue {
                key: key.clone(),
                name: name.to_string(),
                kind,
                data,
            });
        }
    }
    out
}

/// The trigger WUTriggerMaintMode.vbs creates: its CREATE_ARGS constant (a VBScript string) with
/// the duration its refresh task passes, as eventtriggers lists it (variables expanded by the
/// script).
fn created_triggers(
    files: &[(String, Vec<u8>)],
    tasks: &[Task],
    v2: bool,
) -> Vec<(String, String)> {
    let Some((_, vbs)) = files.iter().find(|(n, _)| n == "WUTriggerMaintMode.vbs") else {
        return Vec::new();
    };
    let vbs = String::from_utf8(vbs.clone()).unwrap();
    let constant = |name: &str| -> String {
        let line = vbs
            .lines()
            .find(|l| l.starts_with(&format!("Const {name} = ")))
            .unwrap();
        let lit = line.split_once(" = ").unwrap().1.trim();
        lit[1..lit.len() - 1].replace("\"\"", "\"")
    };
    let args = constant("CREATE_ARGS");
    let token = constant("DURATION_TOKEN");
    let refresh = tasks
        .iter()
        .find(|t| t.arguments.contains("WUTriggerMaintMode.vbs"))
        .unwrap();
    let duration = refresh.arguments.rsplit(' ').next().unwrap();
    let quoted_after = |flag: &str| -> String {
        let start = args.find(&format!("{flag} \"")).unwrap() + flag.len() + 2;
        let rest = &args[start..];
        // The value ends at the first quote not written \" (eventtriggers' convention).
        let mut end = 0;
        let bytes = rest.as_bytes();
        while !(bytes[end] == b'"' && (end == 0 || bytes[end - 1] != b'\\')) {
            end += 1;
        }
        rest[..end].replace("\\\"", "\"")
    };
    let name = quoted_after("/tr");
    let task = expand(&quoted_after("/tk").replace(&token, duration), v2);
    vec![(name, task)]
}

/// The named parameters of every `EXEC @rc = msdb.dbo.<proc>` of a script, in order
/// (`@name = N'…'` with `''` read as `'`, numbers as written).
pub fn exec_params(script: &str, proc_name: &str) -> Vec<Vec<(String, String)>> {
    let call = format!("EXEC @rc = msdb.dbo.{proc_name}");
    let mut out = Vec::new();
    let mut rest = script;
    while let Some(i) = rest.find(&call) {
        rest = &rest[i + call.len()..];
        let mut params = Vec::new();
        let mut s = rest.trim_start();
        while let Some(p) = s.strip_prefix('@') {
            let (name, after) = p.split_once('=').unwrap();
            let after = after.trim_start();
            let (value, next) = if let Some(lit) = after.strip_prefix("N'") {
                let mut end = 0;
                let b = lit.as_bytes();
                loop {
                    if b[end] == b'\'' {
                        if b.get(end + 1) == Some(&b'\'') {
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    end += 1;
                }
                (lit[..end].replace("''", "'"), &lit[end + 1..])
            } else {
                let end = after.find([',', ';']).unwrap();
                (after[..end].trim().to_string(), &after[end..])
            };
            params.push((name.trim().to_string(), value));
            s = next.trim_start();
            match s.strip_prefix(',') {
                Some(n) => s = n.trim_start(),
                None => break,
            }
        }
        out.push(params);
    }
    out
}

pub fn param<'a>(p: &'a [(String, String)], name: &str) -> &'a str {
    p.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The job, job server, step and schedule rows an Agent job install script (agent-job.sql)
/// leaves on a fresh server.
pub fn job_rows(job_sql: &str) -> Vec<Vec<String>> {
    let job = &exec_params(job_sql, "sp_add_job")[0];
    let step = &exec_params(job_sql, "sp_add_jobstep")[0];
    let schedule = &exec_params(job_sql, "sp_add_schedule")[0];
    let job_name = param(job, "job_name").to_string();
    let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        row(&[
            "job",
            &job_name,
            param(job, "enabled"),
            param(job, "owner_login_name"),
            param(job, "category_name"),
            param(job, "description"),
        ]),
        row(&["jobserver", &job_name, "0"]),
        row(&[
            "step",
            &job_name,
            param(step, "step_id"),
            param(step, "step_name"),
            param(step, "subsystem"),
            param(step, "database_name"),
            param(step, "on_success_action"),
            param(step, "on_fail_action"),
            param(step, "retry_attempts"),
            param(step, "command"),
        ]),
        row(&[
            "schedule",
            &job_name,
            param(schedule, "schedule_name"),
            param(schedule, "enabled"),
            param(schedule, "freq_type"),
            param(schedule, "freq_interval"),
            param(schedule, "freq_subday_type"),
            param(schedule, "freq_subday_interval"),
            param(schedule, "active_start_time"),
            param(schedule, "active_end_time"),
        ]),
    ]
}

/// msdb after mirror-failover-job.sql and mirroring-alerts.sql ran on a fresh partner (the
/// creation branches), and the site's databases mirrored in safety FULL, principal on the first
/// partner.
fn deployed_sql(site: &Site, bundle: &Bundle) -> Vec<SqlServer> {
    let Some(sql) = &site.sql else {
        return Vec::new();
    };
    if sql.ag.is_some() {
        return super::ag::deployed_ag(site, bundle);
    }
    let mut out = Vec::new();
    for (idx, p) in sql.partners.iter().enumerate() {
        let folder = site.farm.server(p.server).name.clone();
        let script = |f: &str| {
            String::from_utf8(bundle.files[&format!("sql/{folder}/{f}")].bytes.clone()).unwrap()
        };
        let alerts_sql = script("mirroring-alerts.sql");
        let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut rows = job_rows(&script("mirror-failover-job.sql"));
        for a in exec_params(&alerts_sql, "sp_add_alert") {
            rows.push(row(&[
                "alert",
                param(&a, "name"),
                param(&a, "enabled"),
                param(&a, "job_name"),
                param(&a, "delay_between_responses"),
                param(&a, "category_name"),
                param(&a, "wmi_namespace"),
                param(&a, "wmi_query"),
            ]));
        }
        let other = &sql.partners[1 - idx];
        for db in &sql.databases {
            rows.push(row(&[
                "database",
                db,
                if idx == 0 { "PRINCIPAL" } else { "MIRROR" },
                "SYNCHRONIZED",
                "FULL",
                &format!("TCP://{}:5022", site.farm.server(other.server).name),
                "",
            ]));
        }
        out.push(SqlServer {
            folder,
            servername: site.farm.server(p.server).name.to_ascii_uppercase(),
            rows,
        });
    }
    out
}

/// bigip.conf after `tmsh load sys config merge` of the merge file and `tmsh save sys config`:
/// the objects without the file's leading comments, after the system's own objects.
fn saved_bigip_conf(bundle: &Bundle) -> String {
    let Some((_, a)) = bundle
        .files
        .iter()
        .find(|(_, a)| a.kind == ArtifactKind::TmshMerge)
    else {
        return String::new();
    };
    let text = String::from_utf8(a.bytes.clone()).unwrap();
    let objects: String = text
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    format!(
        "#TMSH-VERSION: 11.6.1\n\nsys global-settings {{\n    hostname bigip1.campus.example.edu\n}}\nltm node /Common/other-app {{\n    address 10.9.9.9\n}}\nltm pool /Common/other-app {{\n    members {{\n        /Common/other-app:80 {{\n            address 10.9.9.9\n        }}\n    }}\n}}\n{objects}"
    )
}

fn deployed_gpo(site: &Site, bundle: &Bundle) -> Option<(String, Vec<GpoFile>)> {
    let gpo = site.farm.gpo.as_ref()?;
    let files = bundle
        .files
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::GppXml)
        .map(|(p, a)| {
            let below = p.split_once("/DomainSysvol/").unwrap().1;
            (format!("DomainSysvol/{below}"), a.bytes.clone())
        })
        .collect();
    Some((gpo.name.clone(), files))
}
