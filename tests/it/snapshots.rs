//! insta snapshots of every generated file of each fixture site (one "uber-snapshot" per site,
//! each file under a banner). The reference site has none: golden/ is its checked-in bundle, and
//! golden::golden_is_current compares the build with it byte for byte.

use crate::common;

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
