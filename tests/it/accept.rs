//! `[site] accept`: warnings an operator settles. `validate --deny-warnings` passes on a site
//! whose warnings are all accepted and fails on one that is not; an entry that matches no warning
//! is itself a warning; each warning is printed once per command; the starter has no warning.

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

fn run(args: &[&str], site: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .args(args)
        .arg(site)
        .output()
        .expect("sitebundle runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The fixture with two `sql-switcher-needs-powershell-2` warnings (its switcher runs on a 2008
/// and a 2003 R2 front end), with `accept` entries inserted into its `[site]`.
fn named_instances(accept: &str) -> String {
    let text = common::read("tests/fixtures/sql-named-instances.toml");
    let out = text.replacen(
        "timezone = \"America/Denver\"\n",
        &format!("timezone = \"America/Denver\"\n{accept}"),
        1,
    );
    assert!(
        accept.is_empty() || out != text,
        "the accept entries are in the site"
    );
    out
}

const BOTH: &str = "accept = [\n  { code = \"sql-switcher-needs-powershell-2\", server = \"wfe1\", reason = \"KB968930 installed, change 4711\" },\n  { code = \"sql-switcher-needs-powershell-2\", server = \"WFE-LEGACY\", reason = \"KB968930 installed, change 4712\" },\n]\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn deny_warnings_passes_when_every_warning_is_accepted_and_fails_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    // Control: the same site without the entries fails.
    let open = write(dir.path(), "open.toml", &named_instances(""));
    let o = run(&["validate", "--deny-warnings"], &open);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // One of two accepted: still fails, on the other server's warning.
    let one = write(
        dir.path(),
        "one.toml",
        &named_instances(
            "accept = [{ code = \"sql-switcher-needs-powershell-2\", server = \"wfe1\", reason = \"installed\" }]\n",
        ),
    );
    let o = run(&["validate", "--deny-warnings"], &one);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("`wfe-legacy` runs"), "{}", text(&o));
    // Both accepted: validate and build pass with --deny-warnings.
    let both = write(dir.path(), "both.toml", &named_instances(BOTH));
    let o = run(&["validate", "--deny-warnings"], &both);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = text(&o);
    assert_eq!(
        shown
            .matches("accepted[sql-switcher-needs-powershell-2]")
            .count(),
        2,
        "{shown}"
    );
    assert!(
        shown.contains("reason: KB968930 installed, change 4712"),
        "{shown}"
    );
    assert!(!shown.contains("warning["), "{shown}");
    let out = dir.path().join("out");
    let o = run(
        &[
            "build",
            "-q",
            "--deny-warnings",
            "-o",
            out.to_str().unwrap(),
        ],
        &both,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A site-wide entry (no server) settles both.
    let all = write(
        dir.path(),
        "all.toml",
        &named_instances(
            "accept = [{ code = \"sql-switcher-needs-powershell-2\", reason = \"WMF 2.0 is in our base image\" }]\n",
        ),
    );
    let o = run(&["validate", "--deny-warnings"], &all);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn an_entry_that_matches_no_warning_is_a_stale_accept_warning() {
    let dir = tempfile::tempdir().unwrap();
    // sqlA gets no switcher: nothing to accept about it.
    let stale = named_instances(&BOTH.replacen(
        "]\n",
        "  { code = \"sql-switcher-needs-powershell-2\", server = \"sqlA\", reason = \"old\" },\n]\n",
        1,
    ));
    let p = write(dir.path(), "stale.toml", &stale);
    let o = run(&["validate"], &p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("warning[stale-accept]"), "{}", text(&o));
    let o = run(&["validate", "--deny-warnings"], &p);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A code of another family's warning the site does not have: stale too.
    let p = write(
        dir.path(),
        "stale2.toml",
        &named_instances(&BOTH.replacen(
            "]\n",
            "  { code = \"f5-rule-ignored\", reason = \"old\" },\n]\n",
            1,
        )),
    );
    let o = run(&["validate", "--deny-warnings"], &p);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn entries_are_checked_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let bad = named_instances(
        "accept = [\n  { code = \"sql-switcher-needs-powershell\", reason = \"x\" },\n  { code = \"unknown-key\", reason = \"x\" },\n  { code = \"sql-one-database\", server = \"wfe9\", reason = \"x\" },\n  { code = \"sql-one-database\", reason = \" \" },\n]\n",
    );
    let p = write(dir.path(), "bad.toml", &bad);
    let o = run(&["validate"], &p);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let shown = text(&o);
    for (needle, line) in [
        (
            "`sql-switcher-needs-powershell` is not the code of a warning",
            9,
        ),
        ("`unknown-key` is not the code of a warning", 10),
        ("unknown server `wfe9`", 11),
        ("the reason is empty", 12),
    ] {
        let at = shown
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {shown}"));
        assert!(
            shown[at..].contains(&format!("bad.toml:{line}:")),
            "{needle} at line {line}: {shown}"
        );
    }
    assert!(
        shown.contains("did you mean `sql-switcher-needs-powershell-2`?"),
        "{shown}"
    );
    // validate and build agree.
    let out = dir.path().join("out");
    let o = run(&["build", "-o", out.to_str().unwrap()], &p);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn each_warning_is_printed_once_per_command_and_read_only_commands_count_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "open.toml", &named_instances(""));
    let o = run(&["validate"], &p);
    let shown = text(&o);
    assert_eq!(
        shown
            .matches("warning[sql-switcher-needs-powershell-2]")
            .count(),
        2,
        "{shown}"
    );
    let out = dir.path().join("out");
    let o = run(&["build", "-o", out.to_str().unwrap()], &p);
    let shown = text(&o);
    assert_eq!(
        shown
            .matches("warning[sql-switcher-needs-powershell-2]")
            .count(),
        2,
        "{shown}"
    );
    for cmd in [&["list"][..], &["plan"], &["scenarios"]] {
        let o = run(cmd, &p);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("warning[") && !err.contains("help:"),
            "{cmd:?}: {err}"
        );
        assert_eq!(err.matches("has 2 warnings").count(), 1, "{cmd:?}: {err}");
    }
    // Under --deny-warnings a read-only command shows what stops it, in full.
    let o = run(&["list", "--deny-warnings"], &p);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o)
            .matches("warning[sql-switcher-needs-powershell-2]")
            .count(),
        2
    );
    // Accepted warnings are shown by validate only.
    let p = write(dir.path(), "both.toml", &named_instances(BOTH));
    for cmd in [&["list"][..], &["plan"], &["scenarios"]] {
        let o = run(cmd, &p);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("accepted") && !err.contains("warning"),
            "{cmd:?}: {err}"
        );
    }
}

#[test]
fn the_starter_builds_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "site.toml", &common::read("src/init_site.toml"));
    let (_, diags) = sitebundle::load(&p).expect("the starter loads");
    assert!(diags.items.is_empty(), "{}", diags.render());
    let o = run(&["validate", "--deny-warnings"], &p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn json_output_marks_accepted_warnings_and_does_not_count_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "both.toml", &named_instances(BOTH));
    let o = run(&["validate", "--format", "json", "--deny-warnings"], &p);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["warnings"], 0);
    let accepted: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["accepted"].as_str())
        .collect();
    assert_eq!(accepted.len(), 2, "{doc}");
}
