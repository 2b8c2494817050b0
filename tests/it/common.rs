//! Shared test helpers: build sites, write bundles to temporary folders, and run the real-parser
//! validators (`tests/validators/validate.py`, one Python process per call, plus the checks of
//! tests/it/checks/) over them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sitebundle::bundle::Bundle;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the validator venv: `$SITEBUNDLE_PYTHON`, else `.venv/bin/python` (made by `./test.sh`).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SITEBUNDLE_PYTHON") {
        return PathBuf::from(p);
    }
    let p = repo().join(".venv/bin/python");
    assert!(
        p.exists(),
        "the validator venv is missing: run ./test.sh (it creates .venv), or set SITEBUNDLE_PYTHON"
    );
    p
}

pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(repo().join(path)).expect("readable test input")
}

/// Parses, resolves and renders site text; panics with the rendered diagnostics on failure.
pub fn build_text(name: &str, text: &str) -> Bundle {
    let (site, _) = match sitebundle::load_text(name, text) {
        Ok(x) => x,
        Err(d) => panic!("{name} does not resolve:\n{}", d.render()),
    };
    sitebundle::build_bundle(&site).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A bundle file as text (UTF-8 or UTF-16 with its BOM); panics naming a missing path.
pub fn text_of(b: &Bundle, path: &str) -> String {
    let a = (b.files.get(path)).unwrap_or_else(|| panic!("{path} is missing"));
    sitebundle::bundle::decode_for_display(&a.bytes).expect("text")
}

/// Runs the repository's Python `script` with `args` in the validator venv: (exit 0?, stdout
/// and stderr).
pub fn run_python<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> (bool, String) {
    let out = Command::new(python())
        .arg(repo().join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{script} runs: {e}"));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), all)
}

pub fn reference() -> Bundle {
    build_text("site.toml", &read("site.toml"))
}

/// Writes a bundle into a fresh temporary folder (plain files, no manifest checks).
pub fn write_tmp(bundle: &Bundle) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, art) in &bundle.files {
        let dest = dir.path().join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, &art.bytes).unwrap();
    }
    dir
}

/// One file's verdict from validate.py.
#[derive(Debug, serde::Deserialize)]
pub struct Verdict {
    pub path: String,
    pub kind: String,
    pub ok: bool,
    pub errors: Vec<String>,
}

/// Runs every validator over `dirs` in one process. `marker`: also check that this word only ever
/// stands in data positions (string literals, quoted identifiers, XML text, comments).
pub fn validate(dirs: &[&Path], marker: Option<&str>) -> Vec<Verdict> {
    validate_with(dirs, marker, false)
}

/// [`validate`], with `--marker-names-ok` when `names_ok`: the marker stands in a value made of
/// name characters only, which may be a tmsh object name or an AS3 object key (a user-chosen pool
/// or node name); every other rule stays strict.
pub fn validate_with(dirs: &[&Path], marker: Option<&str>, names_ok: bool) -> Vec<Verdict> {
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("tests/validators/validate.py"))
        .arg("--xsd")
        .arg(repo().join("tests/schemas/task-scheduler.xsd"));
    if let Some(m) = marker {
        cmd.arg("--marker").arg(m);
    }
    if names_ok {
        cmd.arg("--marker-names-ok");
    }
    cmd.args(dirs);
    let out = cmd.output().expect("validate.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdicts: Vec<Verdict> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("validator JSON line"))
        .collect();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "validate.py failed to run: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    rust_checks(verdicts, marker)
}

/// Adds the checks done in Rust (tests/it/checks/) to validate.py's verdicts: `.reg` files (which
/// validate.py reports as unchecked) and the AS3 schema of `as3.json` (kind "as3", parsed and
/// marker-checked by validate.py). `names_ok` does not apply to either: their rules stay strict.
fn rust_checks(mut verdicts: Vec<Verdict>, marker: Option<&str>) -> Vec<Verdict> {
    for v in &mut verdicts {
        if v.path.ends_with(".reg") {
            let data = std::fs::read(&v.path).expect("readable .reg file");
            v.kind = "reg".into();
            v.errors = crate::checks::reg::check(&data, marker);
        } else if v.kind == "as3" {
            let data = std::fs::read(&v.path).expect("readable as3.json");
            // Unparsable JSON is already an error of validate.py's.
            if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&data) {
                v.errors.extend(crate::checks::as3::check(&doc));
            }
        }
        v.ok = v.errors.is_empty();
    }
    verdicts
}

/// Asserts every verdict is ok, printing all failures at once.
pub fn assert_all_valid(verdicts: &[Verdict]) {
    let bad: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.ok)
        .map(|v| format!("{} ({}): {}", v.path, v.kind, v.errors.join("; ")))
        .collect();
    assert!(
        bad.is_empty(),
        "{} artifact(s) failed their parser:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Every `.toml` site in a folder of the repository (e.g. `tests/fixtures`), as (file name, text),
/// sorted by name. Unreadable text (a deliberately broken site) comes back empty.
pub fn sites_in(dir: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Every fixture site under tests/fixtures, as (file name, text).
pub fn fixtures() -> Vec<(String, String)> {
    let v = sites_in("tests/fixtures");
    assert!(
        v.iter().all(|(_, t)| !t.is_empty()),
        "a fixture site is unreadable"
    );
    v
}

/// A text rendering of a whole bundle for one insta snapshot: each file under a banner, decoded
/// (UTF-16 shown as text, with its encoding and line endings named).
pub fn uber_snapshot(bundle: &Bundle) -> String {
    let mut out = String::new();
    for (path, art) in &bundle.files {
        let text =
            sitebundle::bundle::decode_for_display(&art.bytes).unwrap_or_else(|| "<binary>".into());
        out.push_str(&format!(
            "================ {path} ({:?}, {:?}) ================\n",
            art.encoding, art.eol
        ));
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
