//! Task Scheduler 2.0 XML (Windows Server 2008 and later) for every task of the plan, with one
//! template (`templates/tasks/task.xml`, whose body is shared with the GPO's TaskV2 items).

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::gpo::{registers_xml_copies, task_xml_hosts, xml_copy_path};
use crate::plan::{Emitted, Plan, TaskSpec};

#[derive(Serialize)]
struct TaskXmlView<'a> {
    t: &'a TaskSpec,
}

/// The Task XML of every task that has a Server 2008+ host (and, when the GPO registers 2008
/// tasks from copies of their XML, those copies: `plan::gpo::registers_xml_copies`).
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let mut out = Emitted::default();
    for spec in &plan.tasks {
        let hosts = task_xml_hosts(site, spec);
        if hosts.is_empty() {
            continue;
        }
        let xml = crate::render::render("tasks/task.xml", &TaskXmlView { t: spec })?;
        let command = format!(
            "schtasks /Create /RU {} /TN {} /XML tasks\\{}.xml /F",
            spec.principal.schtasks_ru(),
            spec.name,
            spec.name
        );
        if registers_xml_copies(site) {
            // `gpo.tasks_2008 = "schtasks-xml"`: the GPO copies the XML with the scripts and a
            // legacy item registers it from there (emit::gpo::items::register_task).
            out.add_file(
                xml_copy_path(spec),
                Artifact::text(ArtifactKind::TaskXml, Encoding::Utf16leBom, Eol::Crlf, &xml)
                    .hosts(hosts.clone())
                    .deploy(Deploy::RuntimeScript {
                        scripts_dir: site.scripts_dir.clone(),
                    }),
            )?;
        }
        out.add_file(
            spec.xml_path(),
            Artifact::text(ArtifactKind::TaskXml, Encoding::Utf16leBom, Eol::Crlf, &xml)
                .hosts(hosts)
                .deploy(Deploy::TaskXml { command }),
        )?;
    }
    Ok(out)
}
