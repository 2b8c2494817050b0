//! Scheduled tasks as every consumer needs them: a family describes each task once as a
//! [`TaskSpec`]; the Task XML emitter, the GPO and the runbooks read the same spec.

use serde::Serialize;

use super::Duration;
use crate::model::schedule::Schedule;

/// When a task runs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Trigger {
    /// A calendar schedule (every N days, weekly, monthly), in the servers' local time.
    Calendar(Schedule),
    /// From `start`, repeated every `interval` indefinitely.
    Repeat { start: String, interval: Duration },
    /// When an event matching the QueryList `query` (plain XML, escaped by the template) is logged.
    Event { query: String },
    /// At system start.
    Boot,
}

/// An account a task runs as, with every spelling the consumers need. The well-known service
/// accounts are known by their SIDs ("Well-known SIDs", Microsoft Learn, windows-server/identity/
/// ad-ds/manage/understand-security-identifiers: S-1-5-18 Local System, S-1-5-19 NT Authority
/// (LocalService), S-1-5-20 Network Service); this is the only place in the program that spells
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    System,
    LocalService,
    NetworkService,
    /// `DOMAIN\user` (or any other name), as written.
    Named(String),
}

impl Account {
    const WELL_KNOWN: [(Account, &'static str, &'static str, &'static str); 3] = [
        (
            Account::System,
            "S-1-5-18",
            "SYSTEM",
            "NT AUTHORITY\\System",
        ),
        (
            Account::LocalService,
            "S-1-5-19",
            "LOCALSERVICE",
            "NT AUTHORITY\\LocalService",
        ),
        (
            Account::NetworkService,
            "S-1-5-20",
            "NETWORKSERVICE",
            "NT AUTHORITY\\NetworkService",
        ),
    ];

    fn well_known(&self) -> Option<&'static (Account, &'static str, &'static str, &'static str)> {
        Account::WELL_KNOWN.iter().find(|w| w.0 == *self)
    }

    /// An account as Windows or a user writes it: a SID, `SYSTEM`, `LOCALSERVICE`,
    /// `Local Service`, `NT AUTHORITY\Network Service`… (case-insensitive); anything else is a
    /// named account.
    pub fn parse(text: &str) -> Account {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let bare = lower
            .strip_prefix("nt authority\\")
            .unwrap_or(&lower)
            .replace(' ', "");
        for (account, sid, ru, _) in &Account::WELL_KNOWN {
            if lower == sid.to_ascii_lowercase() || bare == ru.to_ascii_lowercase() {
                return account.clone();
            }
        }
        Account::Named(t.to_string())
    }

    /// How the audit compares two spellings of an account (`SYSTEM` and `S-1-5-18` are one):
    /// the SID of a well-known account, else the name without case.
    pub fn key(&self) -> String {
        match self {
            Account::Named(name) => name.to_ascii_lowercase(),
            _ => self.user_id().to_string(),
        }
    }

    /// The SID of a well-known account.
    pub fn sid(&self) -> Option<&'static str> {
        self.well_known().map(|w| w.1)
    }

    /// Task XML's `<UserId>`: the SID of a well-known account, else the name.
    pub fn user_id(&self) -> &str {
        match self {
            Account::Named(name) => name,
            _ => self.sid().unwrap_or_default(),
        }
    }

    /// The name `schtasks /RU` takes.
    pub fn schtasks_ru(&self) -> &str {
        match self {
            Account::Named(name) => name,
            _ => self.well_known().map(|w| w.2).unwrap_or_default(),
        }
    }

    /// The `runAs` of a GPP task item ([MS-GPPREF] 2.2.1.18.6): the three service accounts as
    /// GPMC writes them; `None` for a named account (GPP would need its password).
    pub fn gpp_name(&self) -> Option<&'static str> {
        self.well_known().map(|w| w.3)
    }
}

/// Templates see the Task XML spelling.
impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.user_id())
    }
}

/// The account a task runs as. Never one with a stored password.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Principal {
    /// Templates read it as `user_id` (a SID for the well-known accounts, else `DOMAIN\user`).
    #[serde(rename = "user_id")]
    pub account: Account,
    /// `None` for service accounts; `S4U` for a domain user without a stored password.
    pub logon_type: Option<String>,
    pub run_level: String,
}

impl Principal {
    pub fn system() -> Self {
        Principal {
            account: Account::System,
            logon_type: None,
            run_level: "HighestAvailable".into(),
        }
    }
    /// The name `schtasks /RU` takes for this principal.
    pub fn schtasks_ru(&self) -> &str {
        self.account.schtasks_ru()
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
    /// After this long Task Scheduler stops the task.
    pub execution_time_limit: Duration,
    /// Run a missed start as soon as possible (timed tasks only).
    pub start_when_available: bool,
    /// Servers (all releases) that get this task; Task XML goes to the 2008+ ones.
    pub hosts: Vec<usize>,
    /// Which feature the task belongs to (e.g. `kill`), for the runbook.
    pub feature: &'static str,
    /// The site-file entry whose keys made the task (`kill[2]`, `sql.switcher`), where findings
    /// about it are located (the GPO's legacy item limits: `plan::gpo::items::legacy_limits`).
    pub origin: String,
}

impl TaskSpec {
    /// Bundle path of the task's XML.
    pub fn xml_path(&self) -> String {
        format!("tasks/{}.xml", self.name)
    }
}
