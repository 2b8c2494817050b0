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
    /// Fixed words of this module (`SHA256` or nothing): printed with `trusted`.
    algorithm: &'static str,
    algorithm_label: &'static str,
    eventtriggers: bool,
}

/// Adds the collectors and the "Audit" section.
pub fn emit(site: &Farm, plan: &mut Plan) -> Result<(), crate::Error> {
    let mut collectors = Vec::new();
    for idx in 0..site.servers.len() {
        collectors.push(add_windows(site, plan, idx)?);
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

fn add_windows(site: &Farm, plan: &mut Plan, idx: usize) -> Result<Collector, crate::Error> {
    let server = site.server(idx);
    let v2 = server.os.has_task_scheduler2();
    let tasks = plan
        .tasks
        .iter()
        .filter(|t| v2 && t.hosts.contains(&idx))
        .map(|t| data(&t.name))
        .collect::<Result<_, crate::Error>>()?;
    let registry = plan
        .reg_values()
        .filter(|v| v.hosts.contains(&idx))
        .map(|v| {
            Ok(format!(
                "{}|{}",
                data(&format!("HKLM\\{}", v.key))?,
                data(&v.name)?
            ))
        })
        .collect::<Result<_, crate::Error>>()?;
    let files = plan
        .files
        .files
        .iter()
        .filter(|(_, a)| matches!(a.deploy, Deploy::RuntimeScript { .. }))
        .filter(|(_, a)| a.hosts.iter().any(|h| h.eq_ignore_ascii_case(&server.name)))
        .map(|(path, _)| {
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            Ok(format!(
                "{}|{}",
                data(&name)?,
                data(&site.script_path(&name))?
            ))
        })
        .collect::<Result<_, crate::Error>>()?;
    let view = WindowsView {
        site: &site.name,
        server: &server.name,
        release: server.os.label(),
        v2,
        tasks,
        registry,
        files,
        algorithm: if v2 { " SHA256" } else { "" },
        algorithm_label: if v2 { "SHA-256" } else { "SHA-1" },
        eventtriggers: plan
            .audit
            .event_triggers
            .iter()
            .any(|t| t.hosts.contains(&idx)),
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
