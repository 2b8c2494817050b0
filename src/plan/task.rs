//! Scheduled tasks as every consumer needs them: a family describes each task once as a
//! [`TaskSpec`]; the Task XML emitter, the GPO and the runbooks read the same spec.

use serde::Serialize;

use crate::model::schedule::Schedule;

/// When a task runs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Trigger {
    /// A calendar schedule (every N days, weekly, monthly), in the servers' local time.
    Calendar(Schedule),
    /// From `start`, repeated every `interval` (ISO 8601 duration, e.g. `PT1M`) indefinitely.
    Repeat { start: String, interval: String },
    /// When an event matching the QueryList `query` (plain XML, escaped by the template) is logged.
    Event { query: String },
    /// At system start.
    Boot,
}

/// The account a task runs as. Never one with a stored password.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Principal {
    /// A SID (`S-1-5-18` for SYSTEM) or `DOMAIN\user`.
    pub user_id: String,
    /// `None` for service accounts; `S4U` for a domain user without a stored password.
    pub logon_type: Option<String>,
    pub run_level: String,
}

impl Principal {
    pub fn system() -> Self {
        Principal {
            user_id: "S-1-5-18".into(),
            logon_type: None,
            run_level: "HighestAvailable".into(),
        }
    }
    /// The name `schtasks /RU` takes for this principal.
    pub fn schtasks_ru(&self) -> &str {
        match self.user_id.as_str() {
            "S-1-5-18" => "SYSTEM",
            "S-1-5-19" => "LOCALSERVICE",
            "S-1-5-20" => "NETWORKSERVICE",
            other => other,
        }
    }
}

/// One scheduled task, as every consumer (task XML, GPP, runbook) needs it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSpec {
    /// Registration name (`schtasks /TN`), validated: letters, digits, `_`, `-`, `.`.
    pub name: String,
    pub description: String,
    pub trigger: Trigger,
    /// Program run by the task (environment variables allowed; Task Scheduler expands them).
    pub command: String,
    pub arguments: String,
    pub working_directory: String,
    pub principal: Principal,
    /// ISO 8601 duration after which Task Scheduler stops the task.
    pub execution_time_limit: String,
    /// Run a missed start as soon as possible (timed tasks only).
    pub start_when_available: bool,
    /// Servers (all releases) that get this task; Task XML goes to the 2008+ ones.
    pub hosts: Vec<usize>,
    /// Which feature the task belongs to (e.g. `kill`), for the runbook.
    pub feature: &'static str,
}

impl TaskSpec {
    /// Bundle path of the task's XML.
    pub fn xml_path(&self) -> String {
        format!("tasks/{}.xml", self.name)
    }
}
