//! `.reg` files (Registry Editor 5.00: UTF-16LE with BOM, CRLF), one per [`RegFile`] of the plan.

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Emitted, Plan, RegData, RegValue};

/// Adds `registry/<name>.reg` for every registry file of the plan.
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let mut out = Emitted::default();
    for f in &plan.registry {
        let values: Vec<&RegValue> = f.values.iter().collect();
        let command = format!("reg import registry\\{}.reg", f.name);
        let artifact = reg_file(&f.comment, &values)?
            .hosts(site.server_names(&f.hosts))
            .deploy(Deploy::RegFile { command });
        out.add_file(format!("registry/{}.reg", f.name), artifact)?;
    }
    Ok(out)
}

/// A `.reg` string ([`crate::escape::reg_str`]); resolve refused what cannot be written, so a
/// failure here is a bug.
fn reg_str(s: &str) -> Result<String, crate::Error> {
    crate::escape::reg_str(s)
        .map_err(|e| crate::Error::internal(e.to_string()).at_item(format!("registry value {s:?}")))
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
            return Err(crate::Error::internal(format!(
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
    Ok(Artifact::text(
        ArtifactKind::Reg,
        Encoding::Utf16leBom,
        Eol::Crlf,
        &out,
    ))
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
            description: String::new(),
            apply_once: false,
        };
        let d = RegValue {
            key: "SOFTWARE\\X".into(),
            name: "N\"q".into(),
            data: RegData::Dword(5),
            hosts: vec![],
            description: String::new(),
            apply_once: false,
        };
        let a = reg_file("comment", &[&v, &d]).unwrap();
        let text = crate::bundle::decode_for_display(&a.bytes).unwrap();
        assert!(a.bytes.starts_with(&[0xFF, 0xFE]));
        assert!(text.starts_with("Windows Registry Editor Version 5.00\n"));
        assert!(text.contains("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo]\n\"SPSQL\"=\"DBMSSOCN,sql1\\\\inst,1433\"\n"), "{text}");
        assert!(text.contains("\"N\\\"q\"=dword:00000005"), "{text}");
    }
}
