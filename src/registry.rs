//! Registry values the site sets on its servers, described once: features contribute
//! [`RegValue`]s, this module writes them as `.reg` files (UTF-16LE with BOM, CRLF) and the Group
//! Policy module turns the same values into GPP Registry items.

use serde::Serialize;

use crate::bundle::{Artifact, Encoding, Eol};
use crate::model::Site;

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
    /// Feature it belongs to (e.g. `sql-alias`), which also names its .reg file.
    pub feature: &'static str,
    /// One line for the runbook and the GPP item's description.
    pub description: String,
}

/// Every registry value of the site, in a stable order.
pub fn all_values(site: &Site) -> Vec<RegValue> {
    let mut v = Vec::new();
    v.extend(crate::sql::reg_values(site));
    v.extend(crate::maint::reg_values(site));
    v
}

/// A `.reg` string: `"` and `\` are backslash-escaped; line breaks cannot be written.
fn reg_str(s: &str) -> Result<String, crate::Error> {
    if s.chars().any(|c| c.is_control()) {
        return Err(crate::Error::Internal(format!(
            "registry value {s:?} has a control character"
        )));
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// Renders values as a `.reg` file (Registry Editor 5.00 format: UTF-16LE with BOM, CRLF).
pub fn reg_file(comment: &str, values: &[&RegValue]) -> Result<Artifact, crate::Error> {
    let mut out = String::from("Windows Registry Editor Version 5.00\n\n");
    for line in comment.lines() {
        out.push_str("; ");
        out.push_str(line);
        out.push('\n');
    }
    let mut last_key: Option<&str> = None;
    for v in values {
        if v.key.chars().any(|c| c.is_control() || c == ']') || v.key.starts_with('\\') {
            return Err(crate::Error::Internal(format!(
                "registry key {:?} cannot be written",
                v.key
            )));
        }
        if last_key != Some(v.key.as_str()) {
            out.push_str(&format!("\n[HKEY_LOCAL_MACHINE\\{}]\n", v.key));
            last_key = Some(&v.key);
        }
        let data = match &v.data {
            RegData::Sz(s) => reg_str(s)?,
            RegData::Dword(d) => format!("dword:{d:08x}"),
        };
        out.push_str(&format!("{}={}\n", reg_str(&v.name)?, data));
    }
    Ok(Artifact::text("reg", Encoding::Utf16leBom, Eol::Crlf, &out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_file_format() {
        let v = RegValue {
            key: r"SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo".into(),
            name: "SPSQL".into(),
            data: RegData::Sz("DBMSSOCN,sql1\\inst,1433".into()),
            hosts: vec![],
            feature: "t",
            description: String::new(),
        };
        let d = RegValue {
            key: "SOFTWARE\\X".into(),
            name: "N\"q".into(),
            data: RegData::Dword(5),
            hosts: vec![],
            feature: "t",
            description: String::new(),
        };
        let a = reg_file("comment", &[&v, &d]).unwrap();
        let text = crate::bundle::decode_for_display(&a.bytes).unwrap();
        assert!(a.bytes.starts_with(&[0xFF, 0xFE]));
        assert!(text.starts_with("Windows Registry Editor Version 5.00\n"));
        assert!(text.contains("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo]\n\"SPSQL\"=\"DBMSSOCN,sql1\\\\inst,1433\"\n"), "{text}");
        assert!(text.contains("\"N\\\"q\"=dword:00000005"), "{text}");
    }
}
