//! The Plan: everything the site deploys. Each family returns a [`Contribution`] (its files,
//! tasks, registry values, service settings, runbook pieces, topology, audit expectations);
//! [`Plan::assemble`] merges them in the families table's order, computes the facts that belong
//! to no family (what the GPO carries and delivers, the Group Policy prerequisites) and freezes
//! the result: nothing writes into a plan after that. The emitters are functions of the frozen
//! plan and the farm that return their files (and runbook pieces); they never know a family by
//! name.

mod assemble;
mod audit;
mod contribution;
pub mod duration;
pub mod gpo;
pub mod inventory;
mod registry;
pub mod report;
mod runbook;
mod server;
mod service;
mod task;
mod topology;
mod verify_ps;

pub use audit::{
    Audit, Collector, Compare, EventTrigger, Expected, Field, LiveValue, Scope, SqlTarget,
};
pub use contribution::{Contribution, Emitted, FamilyId, HostItem};
pub use duration::Duration;
pub use registry::{RegData, RegFile, RegValue};
pub use runbook::{Item, Part, RunbookParts, RunbookSlot, Section};
pub use server::{
    FilePlan, GpoCoverage, How, RegistryPlan, Schedule, ServerPlan, ServerPlans,
    ServerPrerequisite, ServerRole, ServerVerify, ServicePlan, TaskPlan, Verify, release_key,
    schedule,
};
pub use service::ServiceRecovery;
pub use task::{Account, Principal, TaskSpec, Trigger};
pub use topology::{Column, LineSlot, SERVER_RANK, ServerLine, TopoEdge, TopoNode, Topology};

use crate::bundle::Bundle;

/// Everything the site deploys, in contribution order (the families table's order). Built only by
/// [`Plan::assemble`]; read-only afterwards (emitters take `&Plan`).
#[derive(Debug, Default)]
pub struct Plan {
    /// The families' own files (scripts, SQL, F5) by bundle path; the emitters' files are not here.
    pub files: Bundle,
    /// Every scheduled task.
    pub tasks: Vec<TaskSpec>,
    /// Registry values, grouped by the `.reg` file that carries them.
    pub registry: Vec<RegFile>,
    /// Service recovery settings.
    pub services: Vec<ServiceRecovery>,
    /// The contributed runbook pieces (sections, checklist steps, prerequisites, server checks).
    pub runbook: RunbookParts,
    /// What the families add to the site's picture.
    pub topology: Topology,
    /// What each server is in the site (pool member, SQL partner…), for the per-server view.
    pub roles: Vec<ServerRole>,
    /// What servers need first, per server (chosen by release by the contributor).
    pub server_prerequisites: Vec<ServerPrerequisite>,
    /// Contributed verify commands to run on servers (and commands that act at once, with
    /// their warning).
    pub server_verifies: Vec<ServerVerify>,
    /// What the site's GPO carries and delivers (computed at assembly over every task and item).
    pub gpo: Option<gpo::GpoPlan>,
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

impl Plan {
    /// Every registry value, in contribution order.
    pub fn reg_values(&self) -> impl Iterator<Item = &RegValue> {
        self.registry.iter().flat_map(|f| f.values.iter())
    }

    /// What the GPO delivers to which server, when the site has one.
    pub fn gpo_coverage(&self) -> Option<&GpoCoverage> {
        self.gpo.as_ref().map(|g| &g.coverage)
    }
}
