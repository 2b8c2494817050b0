//! The bundle's own documentation: the runbook (`README.md`).

use serde::Serialize;

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;

#[derive(Serialize)]
struct FileRow {
    path: String,
    kind: String,
    hosts: String,
    deploy: String,
}

#[derive(Serialize)]
struct Ctx<'a> {
    site: &'a str,
    description: &'a str,
    scripts_dir: &'a str,
    scripts_share: &'a str,
    files: Vec<FileRow>,
    tasks: Vec<TaskRow>,
}

#[derive(Serialize)]
struct TaskRow {
    name: String,
    file: String,
    ru: String,
    hosts: String,
    legacy_hosts: String,
}

pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let files = bundle
        .files
        .iter()
        .map(|(p, a)| FileRow { path: p.clone(), kind: a.kind.to_string(), hosts: a.hosts.join(", "), deploy: a.deploy.clone() })
        .collect();
    let tasks = crate::tasks::all_specs(site)
        .into_iter()
        .map(|t| {
            let (new, old): (Vec<usize>, Vec<usize>) = t.hosts.iter().partition(|&&h| site.server(h).os.has_task_scheduler2());
            TaskRow { file: format!("tasks\\{}.xml", t.name), ru: t.principal.schtasks_ru().to_string(), name: t.name, hosts: site.server_names(&new).join(", "), legacy_hosts: site.server_names(&old).join(", ") }
        })
        .collect();
    let ctx = Ctx { site: &site.name, description: &site.description, scripts_dir: &site.scripts_dir, scripts_share: &site.scripts_share, files, tasks };
    let text = crate::render::render("docs/README.md", &ctx)?;
    bundle.add("README.md", Artifact::text("runbook", Encoding::Utf8, Eol::Lf, &text))
}
