//! `--format json` (docs/json-output.md): every document of every site the suite has, for
//! `validate`, `list` and `scenarios`, validated against its JSON Schema (docs/schemas/) by the
//! `jsonschema` crate (`checks::json_output`), with broken documents as the
//! control that must fail; the JSON findings are the text findings; `list` names every server
//! that receives each task.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

/// Every site the suite has: the reference, the starter, the fixtures and the bad sites.
fn all_sites() -> Vec<(String, String)> {
    let mut sites = vec![
        ("site.toml".to_string(), common::read("site.toml")),
        (
            "init_site.toml".to_string(),
            common::read("src/init_site.toml"),
        ),
    ];
    sites.extend(common::fixtures());
    sites.extend(common::sites_in("tests/bad"));
    sites
}

/// Runs `sitebundle ARGS --format json SITE`: the document, parsed, and the exit code. In JSON
/// mode the findings are in the document: stderr stays empty.
fn json_of(args: &[&str], site: &Path) -> (String, Value, i32) {
    let out = bin()
        .args(args)
        .args(["--format", "json"])
        .arg(site)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.stderr.is_empty(),
        "{args:?} {}: {}",
        site.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} {}: {e}\n{stdout}", site.display()));
    (stdout, doc, out.status.code().unwrap())
}

/// The checker's verdict per document (`checks::json_output`): (file, ok, errors).
fn schema_check(docs: &[PathBuf]) -> Vec<(String, bool, Vec<String>)> {
    docs.iter()
        .map(|p| {
            let errors = crate::checks::json_output::check_file(p);
            (p.display().to_string(), errors.is_empty(), errors)
        })
        .collect()
}

#[test]
fn every_document_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for (name, text) in all_sites() {
        let site = dir.path().join(&name);
        std::fs::write(&site, &text).unwrap();
        let has_warnings =
            sitebundle::load_text(&name, &text).is_ok_and(|(_, w)| !w.items.is_empty());
        for command in ["validate", "list", "scenarios"] {
            let mut variants = vec![vec![command]];
            if has_warnings {
                variants.push(vec![command, "--deny-warnings"]);
            }
            for args in variants {
                let (stdout, doc, code) = json_of(&args, &site);
                assert_eq!(doc["format"], format!("sitebundle-{command}"));
                assert_eq!(
                    doc["ok"].as_bool(),
                    Some(code == 0),
                    "{name} {args:?}: ok and the exit code disagree"
                );
                assert!(code == 0 || code == 2, "{name} {args:?}: exit {code}");
                let path = dir.path().join(format!("{name}.{}.json", args.join("")));
                std::fs::write(&path, stdout).unwrap();
                docs.push(path);
            }
        }
    }
    assert!(docs.len() > 100, "only {} documents", docs.len());
    for (file, ok, errors) in schema_check(&docs) {
        assert!(ok, "{file}: {errors:?}");
    }
}

/// The control: documents that break the shape in one place each are refused by the checker.
#[test]
fn broken_documents_fail_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bad, _) = json_of(
        &["validate"],
        &common::repo().join("tests/bad/many-errors.toml"),
    );
    let (_, good, _) = json_of(&["validate"], &common::repo().join("site.toml"));
    let (_, list, _) = json_of(&["list"], &common::repo().join("site.toml"));
    type Break = fn(&mut Value);
    let breaks: [(&str, Value, Break); 8] = [
        ("no code", bad.clone(), |d| {
            d["diagnostics"][0].as_object_mut().unwrap().remove("code");
        }),
        ("severity fatal", bad.clone(), |d| {
            d["diagnostics"][0]["severity"] = "fatal".into()
        }),
        ("line 0", bad.clone(), |d| {
            d["diagnostics"][0]["line"] = 0.into()
        }),
        ("version 2", good.clone(), |d| d["version"] = 2.into()),
        ("unknown key", good.clone(), |d| d["extra"] = true.into()),
        ("ok without site", good.clone(), |d| {
            d.as_object_mut().unwrap().remove("site");
        }),
        ("failed without a finding", bad.clone(), |d| {
            d["diagnostics"] = Value::Array(Vec::new())
        }),
        ("unknown delivery", list.clone(), |d| {
            d["tasks"][0]["deliveries"][0]["via"] = "carrier-pigeon".into()
        }),
    ];
    let mut paths = Vec::new();
    for (i, (what, mut doc, f)) in breaks.into_iter().enumerate() {
        f(&mut doc);
        let p = dir
            .path()
            .join(format!("{i}-{}.json", what.replace(' ', "-")));
        std::fs::write(&p, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        paths.push(p);
    }
    // Unbroken, the same documents pass (the breaks are what fails).
    for (name, doc) in [("bad", &bad), ("good", &good), ("list", &list)] {
        let p = dir.path().join(format!("unbroken-{name}.json"));
        std::fs::write(&p, serde_json::to_string_pretty(doc).unwrap()).unwrap();
        paths.push(p);
    }
    for (file, ok, errors) in schema_check(&paths) {
        assert_eq!(ok, file.contains("unbroken"), "{file}: {errors:?}");
    }
}

/// The JSON findings are the text findings: same order, place, severity, code, message and help.
#[test]
fn json_diagnostics_are_the_text_diagnostics() {
    for (name, text) in common::sites_in("tests/bad") {
        let diags = sitebundle::load_text(&name, &text).unwrap_err();
        let json = diags.to_json();
        assert_eq!(json.len(), diags.items.len(), "{name}");
        let rendered = diags.render();
        let places: Vec<&str> = rendered
            .lines()
            .filter_map(|l| l.strip_prefix("  --> "))
            .collect();
        let heads: Vec<&str> = rendered
            .lines()
            .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
            .collect();
        assert_eq!(places.len(), json.len().min(sitebundle::diag::MAX_SHOWN));
        for ((j, place), head) in json.iter().zip(&places).zip(&heads) {
            assert_eq!(
                *place,
                format!("{}:{}:{}", j.file, j.line.unwrap(), j.column.unwrap()),
                "{name}"
            );
            assert_eq!(
                *head,
                format!("{}[{}]: {}", j.severity, j.code, j.message),
                "{name}"
            );
            assert!(
                (j.end_line.unwrap(), j.end_column.unwrap())
                    >= (j.line.unwrap(), j.column.unwrap())
            );
        }
        for (j, d) in json.iter().zip(&diags.items) {
            assert_eq!(j.help, d.help, "{name}");
        }
    }
}

/// Every server that receives a task appears in `list`, once per task, with how it gets it: the
/// union of a task's deliveries is its servers, which are the plan's hosts of the task. On the
/// reference site the 2003 server gets the kill task through the GPO's legacy item.
#[test]
fn list_names_every_server_of_every_task() {
    let dir = tempfile::tempdir().unwrap();
    let mut sites = vec![("site.toml".to_string(), common::read("site.toml"))];
    sites.extend(common::fixtures());
    let mut legacy_seen = 0;
    let mut xml_seen = 0;
    for (name, text) in sites {
        let site = dir.path().join(&name);
        std::fs::write(&site, &text).unwrap();
        let (_, doc, code) = json_of(&["list"], &site);
        assert_eq!(code, 0, "{name}");
        let (resolved, _) = sitebundle::load_text(&name, &text).unwrap();
        let plan = sitebundle::plan(&resolved).unwrap();
        let tasks = doc["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), plan.tasks.len(), "{name}");
        for (t, spec) in tasks.iter().zip(&plan.tasks) {
            assert_eq!(t["name"], spec.name.as_str());
            let mut hosts = resolved.farm.server_names(&spec.hosts);
            hosts.sort();
            let servers: Vec<String> = strings(&t["servers"]);
            assert_eq!(servers, hosts, "{name} {}", spec.name);
            let mut delivered: Vec<String> = t["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|d| strings(&d["servers"]))
                .collect();
            delivered.sort();
            assert_eq!(delivered, hosts, "{name} {}: each server once", spec.name);
            for d in t["deliveries"].as_array().unwrap() {
                let legacy = d["servers"].as_array().unwrap().iter().all(|s| {
                    let s = resolved.farm.servers.iter().find(|x| x.name == *s).unwrap();
                    !s.os.has_task_scheduler2()
                });
                match d["via"].as_str().unwrap() {
                    "gpo-legacy-task" => {
                        assert!(legacy && resolved.farm.gpo.is_some(), "{name}: {d}");
                        legacy_seen += 1;
                    }
                    "gpo-taskv2" | "gpo-schtasks-xml" => {
                        assert!(!legacy && resolved.farm.gpo.is_some(), "{name}")
                    }
                    "task-xml" => {
                        assert!(!legacy && resolved.farm.gpo.is_none(), "{name}: {d}");
                        xml_seen += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(legacy_seen > 0 && xml_seen > 0, "{legacy_seen} {xml_seen}");
    let (_, doc, _) = json_of(&["list"], &common::repo().join("site.toml"));
    let kill = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "KillProc-mssdmn")
        .unwrap();
    let legacy = kill["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["via"] == "gpo-legacy-task")
        .expect("the 2003 server's delivery");
    assert_eq!(strings(&legacy["servers"]), ["ects-app1"]);
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The text `list`: a header line on each table, the same rows as the JSON.
#[test]
fn list_text_has_headers_and_the_json_rows() {
    let site = common::repo().join("site.toml");
    let out = bin().arg("list").arg(&site).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (_, doc, _) = json_of(&["list"], &site);
    let (files, tasks) = text.split_once("\n\n").expect("two tables");
    let mut files = files.lines();
    assert_eq!(files.next(), Some("PATH\tKIND\tHOSTS\tDEPLOY"));
    let paths: Vec<&str> = files.map(|l| l.split('\t').next().unwrap()).collect();
    let json_paths: Vec<&str> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, json_paths);
    let mut tasks = tasks.lines();
    assert_eq!(tasks.next(), Some("TASK\tSERVERS\tVIA\tHOW"));
    assert!(
        tasks.any(|l| l.starts_with("KillProc-mssdmn\tects-app1\tgpo-legacy-task\t")),
        "{text}"
    );
}

/// Every schema has the same envelope and the same diagnostic definition.
#[test]
fn schemas_share_the_envelope() {
    let schemas: Vec<(String, Value)> = std::fs::read_dir(common::repo().join("docs/schemas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.display().to_string(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    assert!(schemas.len() >= 3);
    let (first_name, first) = &schemas[0];
    for (name, s) in &schemas {
        assert_eq!(
            s["$defs"]["diagnostic"], first["$defs"]["diagnostic"],
            "{name} vs {first_name}"
        );
        for key in ["version", "file", "ok", "errors", "warnings", "diagnostics"] {
            assert_eq!(
                s["properties"][key], first["properties"][key],
                "{name}: {key}"
            );
        }
        assert_eq!(s["required"], first["required"], "{name}");
    }
}

/// `check` against a missing golden folder: one line naming it (not one "missing" line per
/// file), exit 2, and how to create it.
#[test]
fn check_without_golden_says_so_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(tmp.path())
        .arg("check")
        .arg(common::repo().join("site.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().next(),
        Some("error: golden/ not found: nothing to compare with"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty() && !stderr.contains("missing"),
        "{stderr}"
    );
}
