//! The runtime helper: scripts copied to every server's scripts folder.
//!
//! The process killer (`killProc.cmd`) is static: it takes the image name as an argument, so no value
//! from site.toml ever reaches batch code.

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;
use crate::tasks::{Principal, TaskSpec, Trigger, start_boundary};

pub const KILLPROC: &str = "killProc.cmd";

/// Bundle path of a runtime script.
pub fn script_bundle_path(file: &str) -> String {
    format!("scripts/{file}")
}

/// One scheduled task per `[[kill]]` entry.
pub fn kill_task_specs(site: &Site) -> Vec<TaskSpec> {
    site.kills
        .iter()
        .map(|k| TaskSpec {
            name: k.name.clone(),
            description: format!("Kills {} if it is running (sitebundle, site {}). Exit 0: not running; otherwise taskkill's exit code.", k.image, site.name),
            trigger: Trigger::Daily { start: start_boundary(site, k.hour, k.minute, 0), days_interval: k.every_days },
            command: r"%SystemRoot%\System32\cmd.exe".into(),
            // cmd /c strips the outer pair of quotes: ""C:\dir\killProc.cmd" "image"" runs the
            // script with a quoted path even when the folder has spaces. The image is quoted too
            // (the script reads it as %~1): its charset is already restricted, but no value from
            // site.toml stands unquoted on a command line.
            arguments: format!("/c \"\"{}\" \"{}\"\"", site.script_path(KILLPROC), k.image),
            working_directory: String::new(),
            principal: Principal::system(),
            execution_time_limit: "PT10M".into(),
            start_when_available: true,
            hosts: k.servers.clone(),
            feature: "kill",
        })
        .collect()
}

/// Servers that run at least one kill task.
fn kill_hosts(site: &Site) -> Vec<String> {
    let mut idx: Vec<usize> = site
        .kills
        .iter()
        .flat_map(|k| k.servers.iter().copied())
        .collect();
    idx.sort();
    idx.dedup();
    site.server_names(&idx)
}

pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    if !site.kills.is_empty() {
        let text = crate::render::render("scripts/killProc.cmd", &())?;
        let deploy = format!(
            "copy to {} (Group Policy Files preference)",
            site.scripts_dir
        );
        bundle.add(
            script_bundle_path(KILLPROC),
            Artifact::text("batch", Encoding::Utf8, Eol::Crlf, &text)
                .hosts(kill_hosts(site))
                .deploy(deploy),
        )?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct KillRow {
    name: String,
    file: String,
    ru: String,
    hosts: String,
    legacy_hosts: String,
}

/// The runbook section of the process killer.
pub fn runbook(site: &Site) -> Result<Option<String>, crate::Error> {
    if site.kills.is_empty() {
        return Ok(None);
    }
    let tasks: Vec<KillRow> = kill_task_specs(site)
        .into_iter()
        .map(|t| {
            let (new, old): (Vec<usize>, Vec<usize>) = t
                .hosts
                .iter()
                .partition(|&&h| site.server(h).os.has_task_scheduler2());
            KillRow {
                file: format!("tasks\\{}.xml", t.name),
                ru: t.principal.schtasks_ru().to_string(),
                name: t.name,
                hosts: site.server_names(&new).join(", "),
                legacy_hosts: site.server_names(&old).join(", "),
            }
        })
        .collect();
    #[derive(serde::Serialize)]
    struct Ctx {
        tasks: Vec<KillRow>,
        /// The GPO registers the tasks (then the schtasks commands are for servers outside it).
        gpo_tasks: bool,
    }
    let gpo_tasks = site
        .gpo
        .as_ref()
        .is_some_and(|g| g.includes(crate::model::gpo::Preference::Tasks));
    crate::render::render("docs/kill.md", &Ctx { tasks, gpo_tasks }).map(Some)
}
