//! Task Scheduler 2.0 XML (Windows Server 2008 and later) for every task of the plan, with one
//! template (`templates/tasks/task.xml`, whose body is shared with the GPO's TaskV2 items).

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Plan, TaskSpec};

/// Bundle path of a task's XML.
pub fn xml_path(t: &TaskSpec) -> String {
    format!("tasks/{}.xml", t.name)
}

#[derive(Serialize)]
struct TaskXmlView<'a> {
    t: &'a TaskSpec,
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
        plan.files.add(
            xml_path(spec),
            Artifact::text(ArtifactKind::TaskXml, Encoding::Utf16leBom, Eol::Crlf, &xml)
                .hosts(hosts)
                .deploy(Deploy::TaskXml { command }),
        )?;
    }
    Ok(())
}
