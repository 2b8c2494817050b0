//! The collectors of `sitebundle audit`, from the plan alone: per Windows server a batch file
//! (`collect/windows/<server>.cmd`, cmd.exe and the tools 2003 R2 already has: ver, set,
//! schtasks, reg, certutil, eventtriggers) that exports every task the plan registers there, the
//! registry values it sets, the size and hash of its runtime scripts and the 2003 event triggers;
//! on Windows Server 2012 R2 and later a PowerShell script (`<server>.ps1`: Export-ScheduledTask,
//! Get-ItemProperty, Get-FileHash, sc.exe) that writes the same folder layout, tasks as their
//! exported XML only;
//! the GPO's `Backup-GPO` script; and the runbook's "Audit" section, which lists these with the
//! collectors families contributed (`plan.audit.collectors`).

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Collector, Emitted, Plan, RunbookSlot, Section};

/// The GPO collector's command line, as `list`, `plan` and the runbook print it.
const GPO_COLLECT: &str = "powershell -ExecutionPolicy Bypass -File collect\\gpo\\collect-gpo.ps1";

/// How the PowerShell collectors are started (the file's path follows).
const PS_COLLECT: &str = "powershell.exe -NoProfile -ExecutionPolicy Bypass -File ";

/// A value for a `rem sitebundle-…` data line of the batch collector: checked with
/// `escape::cmd_quoted` (no quote, no `!`, `%` only in `%NAME%`, no control character: it then
/// stays one comment line and one quoted argument), written without the quotes, printed with
/// `trusted`. The batch file reads these lines with findstr, so no value is parsed by cmd.exe as
/// code.
fn data(s: &str) -> Result<String, crate::Error> {
    let q = crate::escape::cmd_quoted(s)
        .map_err(|e| crate::Error::internal(format!("collector data line: {e}")))?;
    if s.contains('|') {
        return Err(crate::Error::internal(format!(
            "collector data line: `|` separates its fields: {s:?}"
        )));
    }
    Ok(q[1..q.len() - 1].to_string())
}

#[derive(Serialize, PartialEq, Eq, Hash)]
struct WindowsView<'a> {
    site: &'a str,
    /// The servers that run this collector (written short, `name_ranges`).
    servers: String,
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
    /// Windows Server 2012 R2 and later: the PowerShell collector (`windows.ps1`), which reads
    /// the values below, each escaped by the template (`ps_ascii`).
    powershell: bool,
    ps_tasks: Vec<String>,
    /// Registry key (below HKLM) and value name.
    ps_values: Vec<(String, String)>,
    /// Script file name and path on the server.
    ps_files: Vec<(String, String)>,
    ps_services: Vec<String>,
}

/// The collectors and the "Audit" section.
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let mut out = Emitted::default();
    let by_server = PerServer::of(site, plan)?;
    let mut collectors = Vec::new();
    for group in collector_groups(site, &by_server) {
        collectors.push(add_windows(site, &mut out, &by_server, &group)?);
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
        out.add_file(
            "collect/gpo/collect-gpo.ps1",
            Artifact::text(ArtifactKind::PowerShell, Encoding::Utf8, Eol::Crlf, &text)
                .domain(&gpo.domain)
                .deploy(Deploy::Run {
                    when: "read-only, for sitebundle audit".into(),
                    commands: vec![crate::bundle::RunCommand::any(GPO_COLLECT)],
                }),
        )?;
        collectors.push(Collector {
            source: format!("GPO {}", gpo.name),
            run_on: "a machine with GPMC (GroupPolicy module), as a user who can read the GPO"
                .into(),
            command: GPO_COLLECT.into(),
            output: "gpo/{backup id}/".into(),
        });
    }
    collectors.extend(plan.audit.collectors.iter().cloned());
    out.runbook.sections.push(section(&collectors)?);
    Ok(out)
}

/// The data lines of every server's collector, indexed by server in one pass over the plan (a
/// scan of the whole plan per server would be quadratic in the size of the site).
struct PerServer {
    tasks: Vec<Vec<String>>,
    registry: Vec<Vec<String>>,
    files: Vec<Vec<String>>,
    services: Vec<Vec<String>>,
    eventtriggers: Vec<bool>,
    /// The same values unescaped, for the PowerShell collector of 2012 R2 and later.
    raw: Vec<Raw>,
}

#[derive(Clone, Default)]
struct Raw {
    tasks: Vec<String>,
    values: Vec<(String, String)>,
    files: Vec<(String, String)>,
    services: Vec<String>,
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
            raw: vec![Raw::default(); n],
        };
        let modern = |h: usize| site.server(h).os.is_modern();
        for r in &plan.services {
            let line = data(&r.service)?;
            for &h in &r.hosts {
                by.services[h].push(line.clone());
                if modern(h) {
                    by.raw[h].services.push(r.service.clone());
                }
            }
        }
        for t in &plan.tasks {
            let line = data(&t.name)?;
            for &h in &t.hosts {
                if site.server(h).os.has_task_scheduler2() {
                    by.tasks[h].push(line.clone());
                }
                if modern(h) {
                    by.raw[h].tasks.push(t.name.clone());
                }
            }
        }
        for v in plan.reg_values() {
            let line = format!("{}|{}", data(&format!("HKLM\\{}", v.key))?, data(&v.name)?);
            for &h in &v.hosts {
                by.registry[h].push(line.clone());
                if modern(h) {
                    by.raw[h].values.push((v.key.clone(), v.name.clone()));
                }
            }
        }
        // Hosts of a file are server names, compared as Windows compares computer names.
        let index = crate::model::Names::of(&site.servers);
        for script in crate::plan::gpo::deployed_scripts(site, &plan.files, &plan.tasks) {
            let name = &script.file;
            let line = format!("{}|{}", data(name)?, data(&site.script_path(name))?);
            for h in &script.hosts {
                let i = index.find(h);
                if let Some(i) = i.filter(|&i| by.files[i].last() != Some(&line)) {
                    by.files[i].push(line.clone());
                    if modern(i) {
                        let path = site.script_path(name);
                        by.raw[i].files.push((name.clone(), path));
                    }
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

/// Servers whose collectors would be the same but for their name, in the site's order: one
/// collector serves each group (it writes under the name the server reports, %COMPUTERNAME%).
fn collector_groups(site: &Farm, by: &PerServer) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: std::collections::HashMap<WindowsView, usize> = Default::default();
    for idx in 0..site.servers.len() {
        let key = view(site, by, idx, String::new());
        match index.get(&key) {
            Some(&g) => groups[g].push(idx),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![idx]);
            }
        }
    }
    groups
}

/// What the collector of server `idx` reads (the same for every server of its group).
fn view<'a>(site: &'a Farm, by: &PerServer, idx: usize, servers: String) -> WindowsView<'a> {
    let os = site.server(idx).os;
    let v2 = os.has_task_scheduler2();
    WindowsView {
        site: &site.name,
        servers,
        release: os.label(),
        v2,
        tasks: by.tasks[idx].clone(),
        registry: by.registry[idx].clone(),
        files: by.files[idx].clone(),
        services: by.services[idx].clone(),
        algorithm: if v2 { " SHA256" } else { "" },
        algorithm_label: if v2 { "SHA-256" } else { "SHA-1" },
        eventtriggers: by.eventtriggers[idx],
        powershell: os.is_modern(),
        ps_tasks: by.raw[idx].tasks.clone(),
        ps_values: by.raw[idx].values.clone(),
        ps_files: by.raw[idx].files.clone(),
        ps_services: by.raw[idx].services.clone(),
    }
}

/// The collector of one group: `collect/windows/NAME.cmd` for a server of its own,
/// `collect/windows/group-FIRST.cmd` for several; `.ps1` (run by Windows PowerShell) for
/// Windows Server 2012 R2 and later.
fn add_windows(
    site: &Farm,
    out: &mut Emitted,
    by: &PerServer,
    group: &[usize],
) -> Result<Collector, crate::Error> {
    let names: Vec<&str> = group
        .iter()
        .map(|&i| site.server(i).name.as_str())
        .collect();
    let servers = crate::render::name_ranges(&names, "..");
    let first = site.server(group[0]);
    let view = view(site, by, group[0], servers.clone());
    let (template, ext, kind) = match view.powershell {
        true => ("collect/windows.ps1", "ps1", ArtifactKind::PowerShell),
        false => ("collect/windows.cmd", "cmd", ArtifactKind::Batch),
    };
    let text = crate::render::render(template, &view)?;
    let path = match group.len() {
        1 => format!("collect/windows/{}.{ext}", first.name),
        _ => format!("collect/windows/group-{}.{ext}", first.name),
    };
    let command = match view.powershell {
        true => format!("{PS_COLLECT}{}", path.replace('/', "\\")),
        false => path.replace('/', "\\"),
    };
    let (source, on) = match group.len() {
        1 => (format!("server {servers}"), servers.clone()),
        n => (
            format!("servers {servers} ({n})"),
            format!("each of {servers}"),
        ),
    };
    out.add_file(
        path.clone(),
        Artifact::text(kind, Encoding::Utf8, Eol::Crlf, &text)
            .hosts(names.iter().map(|n| n.to_string()))
            .deploy(Deploy::Run {
                when: format!("read-only, for sitebundle audit, on {on} as a local administrator"),
                commands: vec![crate::bundle::RunCommand::any(command.clone())],
            }),
    )?;
    Ok(Collector {
        source: format!("{source} ({})", first.os.label()),
        run_on: match view.powershell {
            true => format!("{on}, as a local administrator, in an elevated Windows PowerShell"),
            false => format!("{on}, as a local administrator"),
        },
        command,
        // The folder is named as the server reports itself (%COMPUTERNAME%: its NetBIOS name,
        // upper case); the audit finds it without case.
        output: match group.len() {
            1 => format!("{}/", first.name.to_ascii_uppercase()),
            _ => "%COMPUTERNAME%/".into(),
        },
    })
}

/// The runbook's "Audit" section: every collector, the families' included.
fn section(collectors: &[Collector]) -> Result<Section, crate::Error> {
    #[derive(Serialize)]
    struct AuditView<'a> {
        site_file: &'a str,
        collectors: &'a [Collector],
        /// A Windows collector is a PowerShell script (a server of 2012 R2 or later).
        powershell: bool,
    }
    let text = crate::render::render(
        "collect/runbook.md",
        &AuditView {
            site_file: "site.toml",
            collectors,
            powershell: (collectors.iter()).any(|c| c.command.starts_with(PS_COLLECT)),
        },
    )?;
    Ok(Section {
        id: "audit".into(),
        slot: RunbookSlot::Audit,
        text: text.trim_end().to_string(),
    })
}
