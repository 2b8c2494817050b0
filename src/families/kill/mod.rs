//! The process killer: `[[kill]]` entries become scheduled tasks that run the static
//! `killProc.cmd` with the image name as its argument, so no value from site.toml ever reaches
//! batch code.

pub mod model;

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::escape::cmd_quoted;
use crate::model::Farm;
use crate::model::gpo::Preference;
use crate::model::schedule::By;
use crate::plan::{
    Contribution, Duration, LineSlot, Part, Principal, RunbookSlot, Section, ServerLine,
    ServerVerify, TaskSpec, Trigger,
};
use model::Kill;

pub const KILLPROC: &str = "killProc.cmd";

/// Adds the killer's script, one task per `[[kill]]` entry, its runbook section and its lines in
/// the topology.
pub fn contribute(site: &Farm, kills: &[Kill]) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if !kills.is_empty() {
        add_all(site, kills, &mut c)?;
    }
    Ok(c)
}

fn add_all(site: &Farm, kills: &[Kill], plan: &mut Contribution) -> Result<(), crate::Error> {
    let specs = task_specs(site, kills)?;
    add_script(site, kills, plan)?;
    add_runbook(site, kills, &specs, plan)?;
    add_server_lines(kills, plan);
    add_run_now(kills, plan);
    plan.tasks.extend(specs);
    Ok(())
}

/// One scheduled task per `[[kill]]` entry.
pub fn task_specs(site: &Farm, kills: &[Kill]) -> Result<Vec<TaskSpec>, crate::Error> {
    kills.iter().map(|k| task_spec(site, k)).collect()
}

fn task_spec(site: &Farm, k: &Kill) -> Result<TaskSpec, crate::Error> {
    Ok(TaskSpec {
        name: k.name.clone(),
        description: match &k.restart_service {
            None => format!(
                "Kills {} if it is running (sitebundle, site {}). Exit 0: not running; 101: the process list could not be read; otherwise taskkill's exit code.",
                k.image, site.name
            ),
            Some(svc) => format!(
                "Kills {} if it is running, then starts the service {svc} again (sitebundle, site {}). Exit 0: not running, or killed and started; 101: the process list could not be read; 102: killed but the service did not start; otherwise taskkill's exit code.",
                k.image, site.name
            ),
        },
        trigger: Trigger::Calendar(k.schedule.clone()),
        command: r"%SystemRoot%\System32\cmd.exe".into(),
        // cmd /c strips the outer pair of quotes: ""C:\dir\killProc.cmd" "image"" runs the script
        // with a quoted path even when the folder has spaces. Every part is quoted for cmd at render
        // time (the script reads the image as %~1 and the service as %~2), whatever resolve allowed.
        arguments: format!("/c \"{}\"", script_arguments(site, k)?.join(" ")),
        working_directory: String::new(),
        principal: Principal::system(),
        execution_time_limit: Duration::minutes(10),
        start_when_available: true,
        hosts: k.servers.clone(),
        feature: "kill",
        origin: k.path.clone(),
    })
}

/// Running a kill task by hand kills the process at once: a command for the per-server view,
/// behind its warning (`schtasks /Run /TN` exists on 2003 and 2008).
fn add_run_now(kills: &[Kill], plan: &mut Contribution) {
    for k in kills {
        plan.server_verifies.push(ServerVerify {
            hosts: k.servers.clone(),
            feature: "kill",
            command: format!("schtasks /Run /TN {}", k.name),
            expect: "\"Last Result\" 0 in schtasks /Query".into(),
            warning: Some(format!(
                "kills {} on this server now: work in progress (a crawl, a timer job) is cut off",
                k.image
            )),
        });
    }
}

/// killProc.cmd's path, the image and the service to start again, each quoted for cmd.
fn script_arguments(site: &Farm, k: &Kill) -> Result<Vec<String>, crate::Error> {
    let quote = |s: &str| {
        cmd_quoted(s).map_err(|e| crate::Error::internal(format!("kill task {}: {e}", k.name)))
    };
    let mut args = vec![quote(&site.script_path(KILLPROC))?, quote(&k.image)?];
    if let Some(svc) = &k.restart_service {
        args.push(quote(svc)?);
    }
    Ok(args)
}

/// The servers that run at least one kill task, in name order.
fn kill_servers(kills: &[Kill]) -> Vec<usize> {
    let mut servers: Vec<usize> = kills
        .iter()
        .flat_map(|k| k.servers.iter().copied())
        .collect();
    servers.sort();
    servers.dedup();
    servers
}

/// `scripts/killProc.cmd`, for every server that runs a kill task.
fn add_script(site: &Farm, kills: &[Kill], plan: &mut Contribution) -> Result<(), crate::Error> {
    let hosts = kill_servers(kills);
    let text = crate::render::render("kill/killProc.cmd", &())?;
    plan.add_file(
        format!("scripts/{KILLPROC}"),
        Artifact::text(ArtifactKind::Batch, Encoding::Utf8, Eol::Crlf, &text)
            .hosts(site.server_names(&hosts))
            .deploy(Deploy::RuntimeScript {
                scripts_dir: site.scripts_dir.clone(),
            }),
    )
}

/// "kills a.exe, b.exe" in each server's box.
fn add_server_lines(kills: &[Kill], plan: &mut Contribution) {
    // Each server's images in task order, gathered in one pass over the tasks.
    let mut images: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    for k in kills {
        for &server in &k.servers {
            let list = images.entry(server).or_default();
            // A server listed twice in one task still names the image once, as before.
            if list
                .last()
                .is_none_or(|last| !std::ptr::eq(*last, k.image.as_str()))
            {
                list.push(k.image.as_str());
            }
        }
    }
    for (server, images) in images {
        plan.topology.server_lines.push(ServerLine {
            server,
            slot: LineSlot::Kill,
            text: format!("kills {}", images.join(", ")),
        });
    }
}

#[derive(Serialize)]
struct KillTaskRow {
    name: String,
    /// The schedule in words and as `schtasks /Create` options.
    words: String,
    schtasks: Vec<String>,
    /// The service started again after a kill.
    restart: Option<String>,
    file: String,
    ru: String,
    hosts: String,
    legacy_hosts: String,
}

#[derive(Serialize)]
struct KillRunbookView {
    tasks: Vec<KillTaskRow>,
    /// Some task has a Server 2008+ host (Task XML to register).
    any_new: bool,

    /// The GPO registers the tasks (then the schtasks commands are for servers outside it).
    gpo_tasks: bool,
    /// Some task counts its days from a start date.
    any_every_days: bool,
    /// Some task starts a service again after the kill.
    any_restart: bool,
    /// The GPO writes some task as a legacy item with a UTC start time, converted from `timezone`.
    legacy_gpo: bool,
    timezone: String,
}

/// The runbook section and its link under "On each server".
fn add_runbook(
    site: &Farm,
    kills: &[Kill],
    specs: &[TaskSpec],
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let tasks: Vec<KillTaskRow> = specs
        .iter()
        .zip(kills)
        .map(|(t, k)| {
            let (new, old): (Vec<usize>, Vec<usize>) = t
                .hosts
                .iter()
                .partition(|&&h| site.server(h).os.has_task_scheduler2());
            KillTaskRow {
                words: k.schedule.words(),
                schtasks: k.schedule.schtasks(),
                restart: k.restart_service.clone(),
                file: format!("tasks\\{}.xml", t.name),
                ru: t.principal.schtasks_ru().to_string(),
                name: t.name.clone(),
                hosts: site.server_list(&new),
                legacy_hosts: site.server_list(&old),
            }
        })
        .collect();
    let gpo_tasks = site.gpo_has(Preference::Tasks);
    let view = KillRunbookView {
        any_new: tasks.iter().any(|t: &KillTaskRow| !t.hosts.is_empty()),
        legacy_gpo: gpo_tasks
            && site.timezone.is_some()
            && tasks.iter().any(|t| !t.legacy_hosts.is_empty()),
        tasks,
        gpo_tasks,
        any_every_days: kills
            .iter()
            .any(|k| matches!(k.schedule.by, By::Days { interval } if interval > 1)),
        any_restart: kills.iter().any(|k| k.restart_service.is_some()),
        timezone: site
            .timezone
            .as_ref()
            .map(|z| z.name.clone())
            .unwrap_or_default(),
    };
    let section = Section {
        id: "kill".into(),
        slot: RunbookSlot::Kill,
        text: crate::render::render("kill/runbook.md", &view)?,
    };
    plan.runbook.add_checklist_parts(
        "kill/checklist.md",
        &serde_json::json!({ "anchor": section.anchor() }),
        &[("server_check", Part::ServerCheck, RunbookSlot::Kill)],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}
