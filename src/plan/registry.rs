//! Registry values a family sets on its servers, described once: the `.reg` emitter writes each
//! [`RegFile`], the GPO turns the same values into Registry preference items.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
pub enum RegData {
    /// REG_SZ.
    Sz(String),
    /// REG_DWORD.
    Dword(u32),
}

/// One value under HKEY_LOCAL_MACHINE.
#[derive(Debug, Clone, Serialize)]
pub struct RegValue {
    /// Key path below HKEY_LOCAL_MACHINE, e.g. `SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo`.
    pub key: String,
    pub name: String,
    pub data: RegData,
    /// Servers that get the value.
    pub hosts: Vec<usize>,
    /// One line for the runbook and the GPP item's description.
    pub description: String,
    /// An initial value that something on the server changes afterwards (the SQL alias, which
    /// the switcher moves): Group Policy writes it once per server and never again, so a
    /// background refresh cannot move it back.
    pub apply_once: bool,
}

/// The values one `.reg` file carries (`registry/<name>.reg`), with the comment at its top.
#[derive(Debug, Clone)]
pub struct RegFile {
    /// File name without `.reg`; also the feature the values belong to.
    pub name: String,
    /// Comment lines written at the top of the file.
    pub comment: String,
    /// Servers that import the file.
    pub hosts: Vec<usize>,
    pub values: Vec<RegValue>,
}
