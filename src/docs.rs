//! The bundle's own documentation: the runbook (`README.md`).
//!
//! Each feature writes its own runbook section from its own template (`templates/docs/<feature>.md`)
//! through its `runbook(site)` function; this module orders the sections in deployment order
//! (SQL jobs on both partners → alerts → F5 → Group Policy → per-server checks) and adds the file table.

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
    /// Rendered Markdown sections, in deployment order. Each was rendered from its own template with
    /// the same escaping discipline, so it is inserted as is.
    sections: Vec<String>,
}

/// Every feature's runbook section, in deployment order.
fn sections(site: &Site) -> Result<Vec<String>, crate::Error> {
    let all = [
        crate::sql::runbook(site)?,
        crate::f5::runbook(site)?,
        crate::scenarios::runbook(site)?,
        crate::gpo::runbook(site)?,
        crate::helper::runbook(site)?,
        crate::maint::runbook(site)?,
    ];
    Ok(all.into_iter().flatten().collect())
}

pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let files = bundle
        .files
        .iter()
        .map(|(p, a)| FileRow {
            path: p.clone(),
            kind: a.kind.to_string(),
            hosts: a.hosts.join(", "),
            deploy: a.deploy.clone(),
        })
        .collect();
    let ctx = Ctx {
        site: &site.name,
        description: &site.description,
        scripts_dir: &site.scripts_dir,
        scripts_share: &site.scripts_share,
        files,
        sections: sections(site)?,
    };
    let text = crate::render::render("docs/README.md", &ctx)?;
    bundle.add(
        "README.md",
        Artifact::text("runbook", Encoding::Utf8, Eol::Lf, &text),
    )
}
