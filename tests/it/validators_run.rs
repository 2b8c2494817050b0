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

/// The checks done in Rust (tests/it/checks/) are wired into `common::validate`: a damaged
/// `.reg` file and an AS3 declaration with an unknown property fail their verdicts.
#[test]
fn damaged_reg_and_as3_files_fail_validation() {
    let bundle = common::reference();
    let dir = tempfile::tempdir().unwrap();
    let pick = |suffix: &str| {
        bundle
            .files
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(p, a)| (p.clone(), a.bytes.clone()))
            .unwrap_or_else(|| panic!("the reference bundle has no {suffix}"))
    };
    let (reg_path, reg) = pick(".reg");
    let (as3_path, as3) = pick("as3.json");
    // .reg: LF line endings instead of CRLF (still UTF-16LE with its BOM).
    let units: Vec<u16> = reg[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap().replace("\r\n", "\n");
    let mut bad_reg = vec![0xff, 0xfe];
    bad_reg.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    // AS3: an unknown property on the first pool.
    let mut doc: serde_json::Value = serde_json::from_slice(&as3).unwrap();
    let mut pools = 0;
    fn add_typo(v: &mut serde_json::Value, pools: &mut usize) {
        if let Some(o) = v.as_object_mut() {
            if o.get("class").and_then(|c| c.as_str()) == Some("Pool") && *pools == 0 {
                o.insert("minimumMembersActiv".into(), 1.into());
                *pools += 1;
            }
            for x in o.values_mut() {
                add_typo(x, pools);
            }
        }
    }
    add_typo(&mut doc, &mut pools);
    assert_eq!(pools, 1, "the reference AS3 declaration has a pool");
    for (path, bytes) in [
        (&reg_path, bad_reg),
        (&as3_path, serde_json::to_vec_pretty(&doc).unwrap()),
    ] {
        let dest = dir.path().join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
    let verdicts = common::validate(&[dir.path()], None);
    let failed = |suffix: &str, what: &str| {
        verdicts
            .iter()
            .any(|v| v.path.ends_with(suffix) && !v.ok && v.errors.iter().any(|e| e.contains(what)))
    };
    assert!(failed(".reg", "CRLF"), "{verdicts:?}");
    assert!(failed("as3.json", "minimumMembersActiv"), "{verdicts:?}");
}
