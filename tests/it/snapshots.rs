//! insta snapshots of every generated file, for the reference site and each fixture site
//! (one "uber-snapshot" per site, each file under a banner).

use crate::common;

#[test]
fn reference_bundle() {
    insta::assert_snapshot!("reference", common::uber_snapshot(&common::reference()));
}

#[test]
fn fixture_bundles() {
    for (name, text) in common::fixtures() {
        let stem = name.trim_end_matches(".toml").to_string();
        insta::assert_snapshot!(
            format!("fixture-{stem}"),
            common::uber_snapshot(&common::build_text(&name, &text))
        );
    }
}
