//! What `sitebundle audit` compares a live farm with, where the rest of the plan does not say it:
//! objects a family creates on a target that no other part of the plan describes field by field
//! (the SQL Agent job, its schedule and alerts, the mirrored databases, the 2003 event trigger),
//! registry values that something on the server is expected to change (live state, not drift), and
//! the collectors a family contributes (the SQL script, the BIG-IP commands). Tasks, registry
//! values, runtime scripts, the tmsh merge file and the GPO backup are read from the plan itself.

use serde::Serialize;

/// How a collected value is judged against the expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Compare {
    /// Equal as written.
    Exact,
    /// Equal ignoring ASCII case (Windows names and paths).
    NoCase,
    /// Equal after CRLF → LF and trailing blanks of every line and of the text removed (script
    /// text stored by a server).
    Text,
    /// Live state expected to change: any of `accepted` is reported as state, anything else as
    /// drift.
    State { accepted: Vec<String> },
    /// Live state reported as it is, never drift (the mirroring role after a failover).
    Observed,
}

/// One field of an expected object.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub compare: Compare,
}

impl Field {
    pub fn new(name: &str, value: impl Into<String>, compare: Compare) -> Self {
        Field {
            name: name.into(),
            value: value.into(),
            compare,
        }
    }
    pub fn exact(name: &str, value: impl Into<String>) -> Self {
        Field::new(name, value, Compare::Exact)
    }
}

/// One object the bundle puts on a target, with the fields the bundle sets.
#[derive(Debug, Clone, Serialize)]
pub struct Expected {
    /// What it is (`job`, `schedule`, `alert`, `database`, `task`, `ltm pool`…).
    pub kind: String,
    /// Its name on the target (compared ignoring case).
    pub name: String,
    pub fields: Vec<Field>,
    /// Field-name prefixes where a collected field the bundle does not set is drift (an extra
    /// pool member, a persistence profile on a virtual server without one): everything else the
    /// target adds is a default we do not write.
    pub strict: Vec<String>,
}

impl Expected {
    pub fn new(kind: &str, name: impl Into<String>, fields: Vec<Field>) -> Self {
        Expected {
            kind: kind.into(),
            name: name.into(),
            fields,
            strict: Vec::new(),
        }
    }
}

/// Objects of one kind whose names start with `prefix` are ours: a collected one the bundle does
/// not have is reported as extra.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub kind: String,
    pub prefix: String,
}

/// What one SQL Server partner should hold: its collector output is `collected/sql/<name>.txt`.
#[derive(Debug, Clone, Serialize)]
pub struct SqlTarget {
    /// File stem of the collected output (the partner's bundle folder name).
    pub name: String,
    /// The server (index into the farm's servers).
    pub server: usize,
    pub objects: Vec<Expected>,
    pub scopes: Vec<Scope>,
}

/// A Windows Server 2003 event trigger (`eventtriggers.exe`) that a script creates on its hosts.
#[derive(Debug, Clone, Serialize)]
pub struct EventTrigger {
    pub name: String,
    /// The command line the trigger runs, environment variables unexpanded.
    pub task: String,
    pub hosts: Vec<usize>,
}

/// A registry value whose later changes on the server are expected (the SQL alias the switcher
/// moves): these data are state, not drift.
#[derive(Debug, Clone, Serialize)]
pub struct LiveValue {
    pub key: String,
    pub name: String,
    pub accepted: Vec<String>,
}

/// A collector a family contributes: where and how to run it and where its output goes (the
/// runbook's "Audit" section lists them with the emitter's own).
#[derive(Debug, Clone, Serialize)]
pub struct Collector {
    /// What it collects (e.g. `SQL Server`).
    pub source: String,
    /// Where to run it and as whom.
    pub run_on: String,
    /// The command line(s), Markdown code.
    pub command: String,
    /// Where its output goes below `collected/`.
    pub output: String,
}

/// Everything the audit needs beyond the rest of the plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Audit {
    pub sql: Vec<SqlTarget>,
    pub event_triggers: Vec<EventTrigger>,
    pub live_values: Vec<LiveValue>,
    pub collectors: Vec<Collector>,
}

impl Audit {
    /// Appends another contributor's expectations and collectors.
    pub fn extend(&mut self, other: Audit) {
        self.sql.extend(other.sql);
        self.event_triggers.extend(other.event_triggers);
        self.live_values.extend(other.live_values);
        self.collectors.extend(other.collectors);
    }
}
