//! The collectors of `sitebundle audit`, from the plan alone: per Windows server a batch file
//! (`collect/windows/<server>.cmd`, cmd.exe and the tools 2003 R2 already has: ver, set,
//! schtasks, reg, certutil, eventtriggers) that exports every task the plan registers there, the
//! registry values it sets, the size and hash of its runtime scripts and the 2003 event triggers;
//! the GPO's `Backup-GPO` script; and the runbook's "Audit" section, which lists these with the
//! collectors families contributed (`plan.audit.collectors`).

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Collector, Plan, Section};

/// After every family's section.
const SECTION_ORDER: u32 = 1000;

/// A value for a `rem sitebundle-…` data line of the batch collector: checked with
/// `escape::cmd_quoted` (no quote, no `!`, `%` only in `%NAME%`, no control character: it then
/// stays one comment line and one quoted argument), written without the quotes, printed with
/// `trusted`. The batch file reads these lines with findstr, so no value is parsed by cmd.exe as
/// code.
fn data(s: &str) -> Result<String, crate::Error> {
    let q = crate::escape::cmd_quoted(s)
        .map_err(|e| crate::Error::Internal(format!("collector data line: {e}")))?;
    if s.contains('|') {
        return Err(crate::Error::Internal(format!(
            "collector data line: `|` separates its fields: {s:?}"
        )));
    }
    Ok(q[1..q.len() - 1].to_string())
}

#[derive(Serialize)]
struct WindowsView<'a> {
    site: &'a str,
    server: &'a str,
    release: &'static str,
    v2: bool,
    /// Data lines built with [`data`].
    tasks: Vec<String>,
    registry: Vec<String>,
    files: Vec<String>,
    /// Services whose recovery settings the bundle sets (`sc qfailure` each).
    services: Vec<String>,
    /// Fixed words of this module (`SHA256` or nothing): printed with `trusted`.
    algorithm: &'static str,
    algorithm_label: &'static str,
    eventtriggers: bool,
}

/// Adds the collectors and the "Audit" section.
pub fn emit(site: &Farm, plan: &mut Plan) -> Result<(), crate::Error> {
    let by_server = PerServer::of(site, plan)?;
    let mut collectors = Vec::new();
    for idx in 0..site.servers.len() {
        collectors.push(add_windows(site, plan, &by_server, idx)?);
    }
    if let Some(gpo) = &site.gpo {
        #[derive(Serialize)]
        struct GpoView<'a> {
            name: &'a str,
            domain: &'a str,
        }
        let text = crate::render::render(
            "collect/collect-gpo.ps1",
            &GpoView {
                name: &gpo.name,
                domain: &gpo.domain,
            },
        )?;
        plan.add_file(
            "collect/gpo/collect-gpo.ps1",
            Artifact::text(ArtifactKind::PowerShell, Encoding::Utf8, Eol::Crlf, &text)
                .hosts([format!("domain {}", gpo.domain)])
                .deploy(Deploy::Command(
                    "read-only, for sitebundle audit: powershell -ExecutionPolicy Bypass -File collect\\gpo\\collect-gpo.ps1".into(),
                )),
        )?;
        collectors.push(Collector {
            source: format!("GPO {}", gpo.name),
            run_on: "a machine with GPMC (GroupPolicy module), as a user who can read the GPO"
                .into(),
            command: "powershell -ExecutionPolicy Bypass -File collect\\gpo\\collect-gpo.ps1"
                .into(),
            output: "gpo/{backup id}/".into(),
        });
    }
    collectors.extend(plan.audit.collectors.iter().cloned());
    add_section(site, plan, &collectors)
}

/// The data lines of every server's collector, indexed by server in one pass over the plan (a
/// scan of the whole plan per server would be quadratic in the size of the site).
struct PerServer {
    tasks: Vec<Vec<String>>,
    registry: Vec<Vec<String>>,
    files: Vec<Vec<String>>,
    services: Vec<Vec<String>>,
    eventtriggers: Vec<bool>,
}

impl PerServer {
    fn of(site: &Farm, plan: &Plan) -> Result<PerServer, crate::Error> {
        let n = site.servers.len();
        let mut by = PerServer {
            tasks: vec![Vec::new(); n],
            registry: vec![Vec::new(); n],
            files: vec![Vec::new(); n],
            services: vec![Vec::new(); n],
            eventtriggers: vec![false; n],
        };
        for r in &plan.services {
            let line = data(&r.service)?;
            for &h in &r.hosts {
                by.services[h].push(line.clone());
            }
        }
        for t in &plan.tasks {
            let line = data(&t.name)?;
            for &h in &t.hosts {
                if site.server(h).os.has_task_scheduler2() {
                    by.tasks[h].push(line.clone());
                }
            }
        }
        for v in plan.reg_values() {
            let line = format!("{}|{}", data(&format!("HKLM\\{}", v.key))?, data(&v.name)?);
            for &h in &v.hosts {
                by.registry[h].push(line.clone());
            }
        }
        // Hosts of a file are server names, compared as Windows compares computer names.
        let index = crate::model::Names::of(&site.servers);
        for (path, a) in &plan.files.files {
            if !matches!(a.deploy, Deploy::RuntimeScript { .. }) {
                continue;
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            let line = format!("{}|{}", data(name)?, data(&site.script_path(name))?);
            for h in &a.hosts {
                let i = index.find(h);
                if let Some(i) = i.filter(|&i| by.files[i].last() != Some(&line)) {
                    by.files[i].push(line.clone());
                }
            }
        }
        for t in &plan.audit.event_triggers {
            for &h in &t.hosts {
                by.eventtriggers[h] = true;
            }
        }
        Ok(by)
    }
}

fn add_windows(
    site: &Farm,
    plan: &mut Plan,
    by: &PerServer,
    idx: usize,
) -> Result<Collector, crate::Error> {
    let server = site.server(idx);
    let v2 = server.os.has_task_scheduler2();
    let view = WindowsView {
        site: &site.name,
        server: &server.name,
        release: server.os.label(),
        v2,
        tasks: by.tasks[idx].clone(),
        registry: by.registry[idx].clone(),
        files: by.files[idx].clone(),
        services: by.services[idx].clone(),
        algorithm: if v2 { " SHA256" } else { "" },
        algorithm_label: if v2 { "SHA-256" } else { "SHA-1" },
        eventtriggers: by.eventtriggers[idx],
    };
    let text = crate::render::render("collect/windows.cmd", &view)?;
    let path = format!("collect/windows/{}.cmd", server.name);
    plan.add_file(
        path.clone(),
        Artifact::text(ArtifactKind::Batch, Encoding::Utf8, Eol::Crlf, &text)
            .hosts([server.name.clone()])
            .deploy(Deploy::Command(format!(
                "read-only, for sitebundle audit: run on {} as a local administrator",
                server.name
            ))),
    )?;
    Ok(Collector {
        source: format!("server {} ({})", server.name, server.os.label()),
        run_on: format!("{}, as a local administrator", server.name),
        command: path.replace('/', "\\"),
        output: format!("{}/", server.name),
    })
}

fn add_section(site: &Farm, plan: &mut Plan, collectors: &[Collector]) -> Result<(), crate::Error> {
    #[derive(Serialize)]
    struct AuditView<'a> {
        site_file: &'a str,
        collectors: &'a [Collector],
    }
    let _ = site;
    let text = crate::render::render(
        "collect/runbook.md",
        &AuditView {
            site_file: "site.toml",
            collectors,
        },
    )?;
    plan.sections.push(Section {
        id: "audit".into(),
        order: SECTION_ORDER,
        text: text.trim_end().to_string(),
    });
    Ok(())
}
