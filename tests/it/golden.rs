//! golden/ is the reference site's bundle: it must be exactly what `site.toml` builds, and the
//! `check` command must notice a changed, removed or added file.

use crate::common;

use std::process::Command;

use sitebundle::check::{Difference, compare};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

#[test]
fn golden_is_current() {
    let bundle = common::reference();
    let diffs = compare(&bundle, &common::repo().join("golden")).unwrap();
    let shown: Vec<String> = diffs
        .iter()
        .map(|d| match d {
            Difference::Changed { path, diff } => format!("changed {path}\n{diff}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "golden/ is stale; run `cargo run -- build site.toml -o golden` and review the diff:\n{}",
        shown.join("\n")
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for f in sitebundle::write::list_files(from).unwrap() {
        let dest = to.join(&f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), dest).unwrap();
    }
}

#[test]
fn check_command_detects_changed_missing_and_extra_files() {
    let repo = common::repo();
    let run = |golden: &std::path::Path| {
        bin()
            .current_dir(&repo)
            .args(["check", "site.toml", "--golden"])
            .arg(golden)
            .output()
            .unwrap()
    };

    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path().join("golden");
    copy_dir(&repo.join("golden"), &g);
    let out = run(&g);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Changed: one byte of the runbook.
    let readme = g.join("README.md");
    let original = std::fs::read(&readme).unwrap();
    let mut changed = original.clone();
    changed.extend_from_slice(b"edited by hand\n");
    std::fs::write(&readme, &changed).unwrap();
    let out = run(&g);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("changed: README.md") && stdout.contains("-edited by hand"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sitebundle build site.toml -o"),
        "refresh hint missing: {stdout}"
    );
    std::fs::write(&readme, &original).unwrap();

    // Missing.
    std::fs::remove_file(g.join("manifest.json")).unwrap();
    let out = run(&g);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("missing: manifest.json"));
    copy_dir(&repo.join("golden"), &g);

    // Extra.
    std::fs::write(g.join("stray.txt"), "x").unwrap();
    let out = run(&g);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("extra:   stray.txt"));
}

#[test]
fn two_builds_are_byte_identical() {
    let a = common::reference();
    let b = common::reference();
    assert_eq!(
        a.files.keys().collect::<Vec<_>>(),
        b.files.keys().collect::<Vec<_>>()
    );
    for (p, art) in &a.files {
        assert_eq!(
            art.bytes, b.files[p].bytes,
            "{p} differs between two builds"
        );
    }
}
