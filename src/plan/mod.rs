//! The Plan: everything the site deploys, contributed once by each family and read by the
//! emitters (Task XML, `.reg`, the GPO backup, the runbook, the topology, the manifest).
//!
//! resolve → [`Plan`] → emit. A family adds its own files (scripts, SQL, F5), its scheduled tasks
//! ([`TaskSpec`]), its registry values ([`RegFile`]), its runbook section with checklist steps and
//! prerequisites, and what it puts on each server in the topology. Emitters never know a family by
//! name: they read only what is here.

mod audit;
mod registry;
pub mod report;
mod runbook;
mod server;
mod service;
mod task;
mod topology;

pub use audit::{
    Audit, Collector, Compare, EventTrigger, Expected, Field, LiveValue, Scope, SqlTarget,
};
pub use registry::{RegData, RegFile, RegValue};
pub use runbook::{ChecklistStep, Part, Prerequisite, Section, ServerCheck};
pub use server::{
    FilePlan, GpoCoverage, How, RegistryPlan, Schedule, ServerPlan, ServerPlans,
    ServerPrerequisite, ServerRole, ServerVerify, ServicePlan, TaskPlan, Verify, release_key,
    schedule,
};
pub use service::ServiceRecovery;
pub use task::{Principal, TaskSpec, Trigger};
pub use topology::{Column, SERVER_RANK, ServerLine, TopoEdge, TopoNode, Topology};

use crate::bundle::{Artifact, Bundle};

/// Everything the site deploys, in contribution order (the families table's order).
#[derive(Debug, Default)]
pub struct Plan {
    /// Generated files by bundle path: the families' own files, then the emitters'.
    pub files: Bundle,
    /// Every scheduled task.
    pub tasks: Vec<TaskSpec>,
    /// Registry values, grouped by the `.reg` file that carries them.
    pub registry: Vec<RegFile>,
    /// Service recovery settings.
    pub services: Vec<ServiceRecovery>,
    /// Runbook sections (placed by their `order`).
    pub sections: Vec<Section>,
    /// Steps of the runbook's "Order of deployment" checklist (placed by their `order`).
    pub steps: Vec<ChecklistStep>,
    /// Lines of the runbook's "Before you start" list (placed by their `order`).
    pub prerequisites: Vec<Prerequisite>,
    /// Links under the checklist's "On each server" step (placed by their `order`).
    pub server_checks: Vec<ServerCheck>,
    /// What the families add to the site's picture.
    pub topology: Topology,
    /// What each server is in the site (pool member, SQL partner…), for the per-server view.
    pub roles: Vec<ServerRole>,
    /// What servers need first, per server (chosen by release by the contributor).
    pub server_prerequisites: Vec<ServerPrerequisite>,
    /// Contributed verify commands to run on servers (and commands that act at once, with
    /// their warning).
    pub server_verifies: Vec<ServerVerify>,
    /// What the site's GPO delivers (set by the GPO emitter).
    pub gpo: Option<GpoCoverage>,
    /// What `sitebundle audit` compares beyond the rest of the plan, and the families' collectors.
    pub audit: Audit,
    /// Items a family puts on servers that are neither tasks nor registry values (e.g. a 2003
    /// event trigger), for the bundle's inventory of retired items.
    pub host_items: Vec<HostItem>,
    /// What the previous bundle put on the servers (its `inventory.json`: items and the items it
    /// was retiring), when the build was given one (`build --previous`, or the output folder's):
    /// the GPO emitter adds Delete items for those this plan lacks (issue 27).
    pub previous: Vec<crate::check::Retired>,
    /// The items this bundle's GPO deletes (set by the GPO emitter; recorded in inventory.json so
    /// that the next build keeps deleting them until they are dropped).
    pub retiring: Vec<crate::check::Retired>,
}

/// An item on servers with the command that removes it (see `emit::inventory`).
#[derive(Debug, Clone)]
pub struct HostItem {
    pub kind: String,
    pub name: String,
    pub remove: String,
    pub hosts: Vec<usize>,
}

impl Plan {
    /// Adds a generated file; two contributions claiming one path is a bug (an internal error).
    pub fn add_file(
        &mut self,
        path: impl Into<String>,
        artifact: Artifact,
    ) -> Result<(), crate::Error> {
        self.files.add(path, artifact)
    }

    /// Every registry value, in contribution order.
    pub fn reg_values(&self) -> impl Iterator<Item = &RegValue> {
        self.registry.iter().flat_map(|f| f.values.iter())
    }
}
