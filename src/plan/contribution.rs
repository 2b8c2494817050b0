//! What a family (or the analyses) returns to the plan, and what an emitter returns to the
//! bundle. A contributor builds its own value and hands it over; only [`super::Plan::assemble`]
//! merges them.

use super::{
    Audit, RegFile, RunbookParts, ServerPrerequisite, ServerRole, ServerVerify, ServiceRecovery,
    TaskSpec, Topology,
};
use crate::bundle::{Artifact, Bundle};

/// Which family (or analysis) a contribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FamilyId {
    Kill,
    Sql,
    F5,
    Maintenance,
    Recovery,
    /// SharePoint's own steps.
    SharePoint,
    /// The failover-scenario analysis (it adds pages, not deployable items).
    Scenarios,
}

impl FamilyId {
    /// The name tests and messages use (`kill`, `sql`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FamilyId::Kill => "kill",
            FamilyId::Sql => "sql",
            FamilyId::F5 => "f5",
            FamilyId::Maintenance => "maint",
            FamilyId::Recovery => "recovery",
            FamilyId::SharePoint => "sharepoint",
            FamilyId::Scenarios => "scenarios",
        }
    }
}

/// One family's part of the plan.
#[derive(Debug, Default)]
pub struct Contribution {
    /// Its own files (scripts, SQL, F5) by bundle path.
    pub files: Bundle,
    pub tasks: Vec<TaskSpec>,
    pub registry: Vec<RegFile>,
    pub services: Vec<ServiceRecovery>,
    pub runbook: RunbookParts,
    pub topology: Topology,
    pub roles: Vec<ServerRole>,
    pub server_prerequisites: Vec<ServerPrerequisite>,
    pub server_verifies: Vec<ServerVerify>,
    pub audit: Audit,
    pub host_items: Vec<HostItem>,
}

impl Contribution {
    /// Adds a generated file; two contributions claiming one path is a bug (an internal error).
    pub fn add_file(
        &mut self,
        path: impl Into<String>,
        artifact: Artifact,
    ) -> Result<(), crate::Error> {
        self.files.add(path, artifact)
    }
}

/// An item on servers with the command that removes it (see `emit::inventory`).
#[derive(Debug, Clone)]
pub struct HostItem {
    pub kind: String,
    pub name: String,
    pub remove: String,
    pub hosts: Vec<usize>,
}

/// What an emitter returns: its files and, for those that document what they wrote (the GPO, the
/// collectors), runbook pieces.
#[derive(Debug, Default)]
pub struct Emitted {
    pub files: Bundle,
    pub runbook: RunbookParts,
}

impl Emitted {
    /// Adds a generated file; two emitters claiming one path is a bug (an internal error).
    pub fn add_file(
        &mut self,
        path: impl Into<String>,
        artifact: Artifact,
    ) -> Result<(), crate::Error> {
        self.files.add(path, artifact)
    }
}
