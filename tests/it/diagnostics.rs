//! Every bad site under tests/bad gets located diagnostics (snapshotted), exit code 2 from the
//! binary, and nothing written.

use crate::common;

use std::process::Command;

fn bad_sites() -> Vec<(String, String)> {
    common::sites_in("tests/bad")
}

#[test]
fn diagnostics_are_located_and_snapshotted() {
    let sites = bad_sites();
    assert!(sites.len() >= 5, "expected the bad-site corpus");
    for (name, text) in sites {
        let diags = match sitebundle::load_text(&name, &text) {
            Ok(_) => panic!("{name} should be rejected"),
            Err(d) => d,
        };
        assert!(diags.has_errors());
        let rendered = diags.render();
        for d in &diags.items {
            assert!(
                d.span.is_some(),
                "{name}: finding without a location: {}",
                d.message
            );
            // Actionable: every finding says how to fix it.
            assert!(
                d.help.as_deref().is_some_and(|h| !h.trim().is_empty()),
                "{name}: finding without a help line: {}",
                d.message
            );
        }
        assert!(rendered.contains(&format!("--> {name}:")), "{rendered}");
        insta::assert_snapshot!(format!("bad-{}", name.trim_end_matches(".toml")), rendered);
    }
}

#[test]
fn binary_exits_2_and_writes_nothing() {
    for (name, _) in bad_sites() {
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("out");
        let out = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
            .arg("build")
            .arg(common::repo().join("tests/bad").join(&name))
            .arg("-o")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error:"),
            "{name}"
        );
        assert!(!out_dir.exists(), "{name}: something was written");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{name}: leftovers in the parent folder"
        );
    }
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    let text = common::read("tests/bad/unknown-keys-everywhere.toml");
    let diags = sitebundle::load_text("u.toml", &text).unwrap_err();
    let found: Vec<&str> = diags
        .items
        .iter()
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert_eq!(
        found,
        [
            "did you mean `scripts_dir`?",
            "did you mean `address`?",
            "did you mean `every_days`?",
            "did you mean `text`?"
        ],
        "{}",
        diags.render()
    );
}

#[test]
fn the_schema_walk_knows_every_valid_key() {
    // No false alarms: the reference site, the fixtures and the starter have no unknown key.
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    sites.push(("init".into(), common::read("src/init_site.toml")));
    for (name, text) in sites {
        let unknown = sitebundle::site::unknown::unknown_keys(&text);
        assert!(unknown.is_empty(), "{name}: {:?}", unknown);
    }
}

#[test]
fn one_mirrored_database_warns_and_gets_no_failover_job() {
    let text = common::read("tests/fixtures/sql-one-database.toml");
    let (site, warnings) = sitebundle::load_text("sql-one-database.toml", &text).unwrap();
    let rendered = warnings.render();
    assert!(
        rendered
            .contains("warning: with one mirrored database there is nothing to fail over together")
            && rendered.contains("sql-one-database.toml:24:13"),
        "{rendered}"
    );
    let b = sitebundle::build_bundle(&site).unwrap();
    assert!(
        b.files
            .keys()
            .all(|p| !p.ends_with("mirror-failover-job.sql"))
    );
    assert!(b.files.contains_key("scripts/Update-SqlAlias.ps1"));
}

/// Windows compares computer names without case: a reference in other case finds the server and
/// builds exactly what the server's own spelling builds.
#[test]
fn server_references_ignore_case() {
    let text = common::read("site.toml");
    let shouted = text
        .replace(
            "servers = [\"sharepoint2\", \"sharepoint3\", \"ects-app1\"]",
            "servers = [\"SharePoint2\", \"SHAREPOINT3\", \"ECTS-App1\"]",
        )
        .replace("server = \"sqlmirror2\"", "server = \"SQLMirror2\"");
    assert_ne!(shouted, text);
    let (site, _) =
        sitebundle::load_text("site.toml", &shouted).unwrap_or_else(|d| panic!("{}", d.render()));
    let (reference, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let a = sitebundle::build_bundle(&site).unwrap();
    let b = sitebundle::build_bundle(&reference).unwrap();
    assert_eq!(
        a.files.keys().collect::<Vec<_>>(),
        b.files.keys().collect::<Vec<_>>()
    );
    for (path, art) in &a.files {
        assert!(art.bytes == b.files[path].bytes, "{path} differs");
    }
    // An unknown name is still an error, in the user's spelling.
    let wrong = text.replacen("server = \"sqlmirror2\"", "server = \"SQLMirror9\"", 1);
    let d = sitebundle::load_text("site.toml", &wrong)
        .unwrap_err()
        .render();
    assert!(d.contains("unknown server `SQLMirror9`"), "{d}");
}
