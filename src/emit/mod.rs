//! The emitters: shared writers that turn the plan into files. They read only the plan and the
//! farm (never a family): Task XML, `.reg`, the GPO backup, the topology, the runbook. The
//! manifest is written by the bundle itself.

pub mod collect;
pub mod gpo;
pub mod inventory;
pub mod registry;
pub mod runbook;
pub mod tasks;
pub mod topology;
