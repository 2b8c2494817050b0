//! The conformance tables of the home-made models the tests rely on (tests/conformance/: the
//! T-SQL interpreter, the cmd.exe models, the PowerShell interpreter, the Group Policy model, the
//! mirroring state machine): every case, its expected result taken from a cited document or a real
//! transcript, is run through the model itself; a model that disagrees with its table fails here.

use std::process::Command;

use crate::common;

/// Runs tests/conformance/run.py with `args`; returns (exit code, stdout).
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(common::python())
        .arg(common::repo().join("tests/conformance/run.py"))
        .args(args)
        .output()
        .expect("run.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let code = out.status.code().expect("run.py exits");
    assert!(
        code <= 1,
        "run.py crashed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, stdout)
}

#[test]
fn every_model_agrees_with_its_conformance_table() {
    let (code, out) = run(&[]);
    assert_eq!(code, 0, "{out}");
    // Five tables, each with at least ten cases.
    let counts: Vec<usize> = out
        .lines()
        .filter_map(|l| l.rsplit_once("): "))
        .filter_map(|(_, l)| l.split(" cases").next()?.parse().ok())
        .collect();
    assert_eq!(counts.len(), 5, "{out}");
    assert!(counts.iter().all(|&n| n >= 10), "{out}");
}

/// Control: every case's plausible misreading (and a generic wrong value) is rejected by the
/// comparison, and each table has at least one misreading case.
#[test]
fn conformance_tables_reject_misreadings() {
    let (code, out) = run(&["--control"]);
    assert_eq!(code, 0, "{out}");
}

/// Control of the runner itself: a deliberately wrong expected result (QUOTENAME without the
/// doubled bracket, the cmd model's `if errorlevel 1` read as "equal to 1") makes it fail, naming
/// the case.
#[test]
fn a_wrong_expected_result_fails_the_runner() {
    for (case, wrong) in [
        ("quotename", r#"{"q": "[abc[]def]"}"#),
        ("if-errorlevel-is-at-least", r#"{"exit": 0}"#),
    ] {
        let (code, out) = run(&["--override", &format!("{case}={wrong}")]);
        assert_eq!(code, 1, "{case}: {out}");
        assert!(out.contains("FAIL ") && out.contains(case), "{case}: {out}");
    }
}
