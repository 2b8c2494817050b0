//! Task Scheduler 2.0 XML (Windows Server 2008 and later) for every task of the plan, with one
//! template (`templates/tasks/task.xml`, whose body is shared with the GPO's TaskV2 items).

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::model::gpo::{Preference, Tasks2008};
use crate::plan::{Plan, TaskSpec};

/// Bundle path of a task's XML.
pub fn xml_path(t: &TaskSpec) -> String {
    format!("tasks/{}.xml", t.name)
}

#[derive(Serialize)]
struct TaskXmlView<'a> {
    t: &'a TaskSpec,
}

/// The GPO registers 2008 tasks with `schtasks /Create /XML` items from copies of their XML.
fn registered_by_schtasks_items(site: &Farm) -> bool {
    site.gpo
        .as_ref()
        .is_some_and(|g| g.includes(Preference::Tasks) && g.tasks_2008 == Tasks2008::SchtasksXml)
}

/// Adds the Task XML of every task that has a Server 2008+ host.
pub fn emit(site: &Farm, plan: &mut Plan) -> Result<(), crate::Error> {
    for spec in &plan.tasks {
        let hosts: Vec<String> = spec
            .hosts
            .iter()
            .filter(|&&h| site.server(h).os.has_task_scheduler2())
            .map(|&h| site.server(h).name.clone())
            .collect();
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
        if registered_by_schtasks_items(site) {
            // `gpo.tasks_2008 = "schtasks-xml"`: the GPO copies the XML with the scripts and a
            // legacy item registers it from there (emit::gpo::items::register_task).
            plan.files.add(
                format!("scripts/{}.xml", spec.name),
                Artifact::text(ArtifactKind::TaskXml, Encoding::Utf16leBom, Eol::Crlf, &xml)
                    .hosts(hosts.clone())
                    .deploy(Deploy::RuntimeScript {
                        scripts_dir: site.scripts_dir.clone(),
                    }),
            )?;
        }
        plan.files.add(
            xml_path(spec),
            Artifact::text(ArtifactKind::TaskXml, Encoding::Utf16leBom, Eol::Crlf, &xml)
                .hosts(hosts)
                .deploy(Deploy::TaskXml { command }),
        )?;
    }
    Ok(())
}
