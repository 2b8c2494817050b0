//! The emitters: shared writers that turn the plan into files. They read only the plan and the
//! farm (never a family): Task XML, `.reg`, the GPO backup, the topology, the runbook. The
//! manifest is written by the bundle itself.

pub mod collect;
pub mod gpo;
pub mod inventory;
pub mod registry;
pub mod runbook;
pub mod server_parts;
pub mod tasks;
pub mod topology;

use crate::bundle::Bundle;
use crate::model::Farm;
use crate::plan::{Emitted, Plan, RunbookParts};

/// An emitter: a function of the farm and the frozen plan.
type Emitter = fn(&Farm, &Plan) -> Result<Emitted, crate::Error>;

/// Every file of the bundle but the manifest: the families' files, what each emitter returns,
/// and last the runbook, which lists them all. The emitters but the runbook do not depend on
/// each other (each reads only the frozen plan and the farm).
pub fn all(site: &Farm, plan: &Plan) -> Result<Bundle, crate::Error> {
    let emitters: [Emitter; 6] = [
        tasks::emit,
        registry::emit,
        gpo::emit,
        topology::emit,
        inventory::emit,
        collect::emit,
    ];
    let mut files = plan.files.clone();
    let mut parts = RunbookParts::default();
    for emit in emitters {
        let out = emit(site, plan)?;
        for (path, artifact) in out.files.files {
            files.add(path, artifact)?;
        }
        parts.extend(out.runbook);
    }
    let readme = runbook::emit(site, plan, &files, &parts)?;
    files.add(runbook::PATH, readme)?;
    Ok(files)
}
