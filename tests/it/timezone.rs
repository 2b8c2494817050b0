//! `site.timezone` as a Windows name: read as the IANA zone CLDR's windowsZones.xml maps it to
//! (territory 001), so the bundle is the one the IANA name gives; an unknown name is refused at
//! `site.timezone` with the IANA name suggested.

use crate::common;

/// A fixture whose GPO writes legacy tasks (their start times are converted to UTC from the
/// zone), with `timezone` set to `zone`.
fn with_zone(zone: &str) -> String {
    let text = common::read("tests/fixtures/schtasks-xml.toml");
    let line = text
        .lines()
        .find(|l| l.starts_with("timezone = "))
        .expect("the fixture sets a zone");
    text.replacen(line, &format!("timezone = \"{zone}\""), 1)
}

/// Every file's path and SHA-256.
fn bundle_bytes(text: &str) -> Vec<(String, String)> {
    let b = common::build_text("zone.toml", text);
    b.files
        .iter()
        .map(|(p, f)| (p.clone(), f.sha256()))
        .collect()
}

#[test]
fn a_windows_name_builds_the_bundle_of_its_iana_zone() {
    for (windows, iana) in [
        ("Mountain Standard Time", "America/Denver"),
        ("GMT Standard Time", "Europe/London"),
        ("w. europe standard time", "Europe/Berlin"),
    ] {
        assert_eq!(
            bundle_bytes(&with_zone(windows)),
            bundle_bytes(&with_zone(iana)),
            "{windows}"
        );
    }
    // Control: the zone matters (another zone gives another bundle).
    assert_ne!(
        bundle_bytes(&with_zone("GMT Standard Time")),
        bundle_bytes(&with_zone("America/Denver"))
    );
}

#[test]
fn an_unknown_name_is_refused_at_the_key_with_the_iana_name() {
    for (zone, help) in [
        ("GMT Standard Tme", "write `timezone = \"Europe/London\"`"),
        (
            "Pacific Daylight Time",
            "write `timezone = \"America/Los_Angeles\"`",
        ),
        ("Europe/Londn", "did you mean `Europe/London`?"),
    ] {
        let text = with_zone(zone);
        let diags = sitebundle::load_text("zone.toml", &text).unwrap_err();
        let rendered = diags.render();
        assert_eq!(diags.error_count(), 1, "{rendered}");
        let line = text
            .lines()
            .position(|l| l.starts_with("timezone"))
            .unwrap()
            + 1;
        assert!(
            rendered.contains(&format!("zone.toml:{line}:12")),
            "{rendered}"
        );
        assert!(rendered.contains(help), "{zone}: {rendered}");
    }
}
