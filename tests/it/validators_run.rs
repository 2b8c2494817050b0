//! Every artifact of the reference bundle and of every fixture site goes through a real parser of
//! its language (tests/validators/validate.py).

use crate::common;

#[test]
fn reference_and_fixture_bundles_pass_their_parsers() {
    let mut dirs = vec![common::write_tmp(&common::reference())];
    for (name, text) in common::fixtures() {
        dirs.push(common::write_tmp(&common::build_text(&name, &text)));
    }
    let paths: Vec<&std::path::Path> = dirs.iter().map(|d| d.path()).collect();
    let verdicts = common::validate(&paths, None);
    common::assert_all_valid(&verdicts);
    // Coverage: only documentation may go unchecked.
    let unchecked: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.kind == "unchecked")
        .map(|v| v.path.as_str())
        .filter(|p| !p.ends_with(".md"))
        .collect();
    assert!(
        unchecked.is_empty(),
        "artifacts without a parser: {unchecked:?}"
    );
    // Each artifact kind of the reference bundle was seen by the validator.
    assert!(
        verdicts
            .iter()
            .any(|v| v.path.ends_with(".xml") && v.kind != "unchecked")
    );
    assert!(
        verdicts
            .iter()
            .any(|v| v.path.ends_with(".cmd") && v.kind != "unchecked")
    );
}
