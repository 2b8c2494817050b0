//! `sitebundle audit`: compares what the collectors brought back from the live farm
//! (`--from DIR`, the `collected/` folder) with what the bundle deploys, semantically — every
//! export parsed and normalised, field by field for what the bundle sets — per source: each
//! server, each SQL Server partner, the BIG-IP, the GPO. Like the emitters, it reads only the
//! plan, the farm and the bundle, never a family.
//!
//! One parser per export format (`task_xml`, `schtasks_csv`, `reg_query`, `eventtriggers`,
//! `hashes`, `system`, `sql_dump`, `bigip_conf`, `gpp`, `sc_qfailure`), one comparison
//! (`compare`), one report. Before any file is read, the whole folder is checked
//! ([`input::scan`]: regular files and folders only, no link leaving it, nothing a collector does
//! not write, something collected). A malformed or truncated export is bad input: every such
//! file is reported with a located error, all at once, and no verdict is given. Real files the
//! readers are measured against are in `tests/corpus/` (README there).

mod bigip_conf;
mod compare;
mod csv;
mod eventtriggers;
mod gpp;
mod hashes;
pub mod input;
mod names;
mod reg_query;
pub mod report;
mod sc_qfailure;
mod schtasks_csv;
mod sql_dump;
mod system;
mod task_xml;
mod windows;

use std::path::Path;

use crate::bundle::{ArtifactKind, Bundle};
use crate::diag::Diagnostics;
use crate::model::Farm;
use crate::plan::{Expected, Field, Plan, Scope};
use compare::{Found, compare};
use input::{Input, ParseError};
use report::{Finding, Report, SourceReport};

pub use windows::trigger_label;

/// The folders directly under `from`, by their name in lower case (a server's folder is found
/// whatever the case its collector wrote it in).
fn server_folders(from: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_dir(from)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .map(|n| (n.to_ascii_lowercase(), n))
        .collect()
}

/// The audit of the farm against the folder `from`, or a located error for every collected file
/// that cannot be read.
pub fn audit(
    farm: &Farm,
    plan: &Plan,
    bundle: &Bundle,
    from: &Path,
) -> Result<Report, Vec<Diagnostics>> {
    let servers: Vec<String> = farm.servers.iter().map(|s| s.name.clone()).collect();
    input::scan(from, &servers).map_err(|e| {
        e.into_iter()
            .map(ParseError::into_diagnostics)
            .collect::<Vec<_>>()
    })?;
    let mut errors = Vec::new();
    let mut sources = Vec::new();
    let folders = server_folders(from);
    for (idx, server) in farm.servers.iter().enumerate() {
        // The collectors write under the name the server reports (%COMPUTERNAME%, upper case):
        // computer names compare without case, as Windows compares them.
        let shown = folders
            .get(&server.name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| server.name.clone());
        let dir = from.join(&shown);
        let source = format!("server {}", server.name);
        if dir.is_dir() {
            let findings = windows::audit(farm, plan, bundle, idx, &dir, &shown, &mut errors);
            sources.push(SourceReport::new(source, shown, findings));
        } else {
            sources.push(SourceReport::missing(source, shown));
        }
    }
    for target in &plan.audit.sql {
        let shown = format!("sql/{}.txt", target.name);
        let source = format!("sql {}", target.name);
        let path = from.join("sql").join(format!("{}.txt", target.name));
        if !path.is_file() {
            sources.push(SourceReport::missing(source, shown));
            continue;
        }
        match input::read(&path, &shown).and_then(|i| sql_dump::parse(&i)) {
            Ok(found) => {
                let findings = compare(&target.objects, &found, &target.scopes);
                sources.push(SourceReport::new(source, shown, findings));
            }
            Err(e) => errors.push(e),
        }
    }
    if let Some(s) = f5_source(bundle, from, &mut errors) {
        sources.push(s);
    }
    if let Some(s) = gpo_source(farm, bundle, from, &mut errors) {
        sources.push(s);
    }
    if errors.is_empty() {
        Ok(Report::new(&farm.name, sources))
    } else {
        Err(errors
            .into_iter()
            .map(ParseError::into_diagnostics)
            .collect())
    }
}

/// Expected objects from a file of the bundle, read by the same parser as the collected one.
fn expected_from(found: Vec<Found>, text_fields: &[&str]) -> Vec<Expected> {
    found
        .into_iter()
        .map(|f| {
            let fields = f
                .fields
                .into_iter()
                .map(|(k, v)| {
                    let rule = if text_fields.contains(&k.as_str()) {
                        crate::plan::Compare::Text
                    } else {
                        crate::plan::Compare::Exact
                    };
                    Field::new(&k, v, rule)
                })
                .collect();
            Expected::new(&f.kind, f.name, fields)
        })
        .collect()
}

fn bundle_input(path: &str, bytes: &[u8]) -> Result<Input, ParseError> {
    input::decode(bytes, path).map(|text| Input {
        file: path.into(),
        text,
    })
}

/// The BIG-IP: the bundle's merge files against every `.conf` file in `collected/f5/`.
fn f5_source(bundle: &Bundle, from: &Path, errors: &mut Vec<ParseError>) -> Option<SourceReport> {
    let mut expected = Vec::new();
    let mut partitions = Vec::new();
    for (path, a) in bundle
        .files
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::TmshMerge)
    {
        let partition = path
            .rsplit('/')
            .next()?
            .trim_end_matches(".conf")
            .to_string();
        match bundle_input(path, &a.bytes).and_then(|i| bigip_conf::parse(&i, &partition)) {
            Ok(f) => expected.extend(expected_from(f, &["body"])),
            Err(e) => errors.push(e),
        }
        partitions.push(partition);
    }
    let first = partitions.first()?.clone();
    let dir = from.join("f5");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".conf"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        return Some(SourceReport::missing("f5".into(), "f5".into()));
    }
    let mut found = Vec::new();
    for name in &files {
        let stem = name.trim_end_matches(".conf");
        let partition = if partitions.iter().any(|p| p == stem) {
            stem
        } else {
            &first
        };
        let shown = format!("f5/{name}");
        match input::read(&dir.join(name), &shown).and_then(|i| bigip_conf::parse(&i, partition)) {
            Ok(f) => found.extend(f),
            Err(e) => errors.push(e),
        }
    }
    let findings = compare(&expected, &found, &[]);
    Some(SourceReport::new("f5".into(), "f5".into(), findings))
}

/// The GPO: the bundle's preference items against the newest backup of the GPO in
/// `collected/gpo/`; every item of the GPO is in scope.
fn gpo_source(
    farm: &Farm,
    bundle: &Bundle,
    from: &Path,
    errors: &mut Vec<ParseError>,
) -> Option<SourceReport> {
    let gpo = farm.gpo.as_ref()?;
    let mut expected = Vec::new();
    for (path, a) in bundle
        .files
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::GppXml)
    {
        match bundle_input(path, &a.bytes).and_then(|i| gpp::items(&i)) {
            Ok(f) => expected.extend(expected_from(f, &[])),
            Err(e) => errors.push(e),
        }
    }
    let scopes: Vec<Scope> = [
        "gpp File",
        "gpp Registry",
        "gpp TaskV2",
        "gpp Task",
        "gpp NTService",
    ]
    .iter()
    .map(|k| Scope {
        kind: (*k).into(),
        prefix: String::new(),
    })
    .collect();
    match gpp::read_backup(&from.join("gpo"), "gpo", &gpo.name) {
        Ok(Some((shown, found))) => {
            let findings: Vec<Finding> = compare(&expected, &found, &scopes);
            Some(SourceReport::new("gpo".into(), shown, findings))
        }
        Ok(None) => Some(SourceReport::missing("gpo".into(), "gpo".into())),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Each parser on fixtures written in the real tools' formats (tests/fixtures/audit/README.md
/// says where each format comes from).
#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn fixture(name: &str) -> Input {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audit")
            .join(name);
        input::read(&path, name).unwrap()
    }

    fn field<'a>(found: &'a [Found], name: &str, f: &str) -> &'a str {
        let o = found
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        o.fields
            .get(f)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{name} {f}"))
    }

    #[test]
    fn schtasks_2003_and_2008() {
        let t = schtasks_csv::parse(&fixture("schtasks-2003.csv"), false, "ects-app1").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            field(&t, "KillProc-mssdmn", "trigger"),
            "daily at 02:30:00 every 1 day(s)"
        );
        assert_eq!(
            field(&t, "KillProc-mssdmn", "run as"),
            crate::plan::Account::System.key()
        );
        assert_eq!(
            field(&t, "Nightly \"backup\"", "trigger"),
            "daily at 03:00:00 every 2 day(s)"
        );
        assert_eq!(field(&t, "Nightly \"backup\"", "enabled"), "false");
        assert_eq!(field(&t, "startup", "trigger"), "at startup");
        let t = schtasks_csv::parse(&fixture("schtasks-2008.csv"), true, "sharepoint2").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            field(&t, "Update-SqlAlias", "trigger"),
            "one time only, minute every 0 Hour(s), 1 Minute(s) from 00:00:00 + at startup"
        );
        assert!(
            t.iter()
                .any(|f| f.name == r"Microsoft\Windows\Defrag\ScheduledDefrag")
        );
    }

    #[test]
    fn reg_query_2003_and_2008() {
        let v = reg_query::parse(&fixture("reg-query-2003.txt")).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].fields["data"], "1");
        let v = reg_query::parse(&fixture("reg-query-2008.txt")).unwrap();
        assert_eq!(
            field(
                &v,
                r"HKLM\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo\SPSQL",
                "data"
            ),
            "DBMSSOCN,sqlmirror2.campus.example.edu,1433"
        );
        assert_eq!(
            field(
                &v,
                r"HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU\RebootWarningTimeout",
                "data"
            ),
            "5"
        );
    }

    #[test]
    fn certutil_hashes_and_a_missing_file() {
        let f = hashes::parse(&fixture("files.txt")).unwrap();
        assert_eq!(
            field(&f, "killProc.cmd", "sha256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            field(&f, "MaintMode.vbs", "sha1"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert!(f.iter().all(|x| x.name != "gone.vbs"));
    }

    #[test]
    fn eventtriggers_task_with_unescaped_quotes() {
        let t = eventtriggers::parse(&fixture("eventtriggers.csv")).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            field(&t, "Windows Update - Reboot Impending", "task"),
            r#""C:\WINDOWS\System32\cscript.exe" //nologo "C:\localscripts\MaintMode.vbs" ON 20M"#
        );
    }

    #[test]
    fn task_xml_as_the_console_exports_it() {
        let input = fixture("task-export.xml");
        let t = task_xml::parse(&input, "KillProc-mssdmn").unwrap();
        assert_eq!(
            t.fields["trigger"],
            "daily at 02:30:00 every 1 day(s) + at startup"
        );
        assert_eq!(t.fields["enabled"], "false");
        assert_eq!(t.fields["time limit"], "PT10M");
        assert_eq!(t.fields["run as"], crate::plan::Account::System.key());
        assert_eq!(
            t.fields["arguments"],
            r#"/c ""%SystemDrive%\localscripts\killProc.cmd" "mssdmn.exe"""#
        );
        // Cut in the middle: a located error, not a panic.
        let cut = Input {
            file: input.file.clone(),
            text: input.text[..input.text.len() / 2].to_string(),
        };
        let e = task_xml::parse(&cut, "KillProc-mssdmn").unwrap_err();
        assert!(e.at.is_some());
    }

    #[test]
    fn bigip_conf_as_saved() {
        let f = bigip_conf::parse(&fixture("bigip.conf"), "Common").unwrap();
        assert_eq!(f.len(), 4, "the sys object is not an ltm object");
        assert_eq!(field(&f, "/Common/web", "members"), "/Common/web1:80");
        assert_eq!(
            field(&f, "/Common/web", "monitor"),
            "/Common/mon_web and /Common/tcp"
        );
        assert_eq!(
            field(&f, "/Common/web", "members./Common/web1:80.priority-group"),
            "2"
        );
        assert!(field(&f, "/Common/route", "body").contains("starts_with \"/x\""));
        assert_eq!(
            field(&f, "/Common/vs_web", "persist"),
            "/Common/source_addr"
        );
        assert_eq!(field(&f, "/Common/vs_web", "rules"), "/Common/route");
        assert_eq!(
            field(&f, "/Common/vs_web", "profiles"),
            "/Common/http, /Common/tcp"
        );
        assert_eq!(
            field(&f, "/Common/mon_web", "send"),
            r"GET / HTTP/1.1\r\nHost: web\r\n\r\n"
        );
    }
}
