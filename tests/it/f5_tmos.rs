//! `[f5] tmos` (issue 31): a BIG-IP 17.1 site (tests/fixtures/migration-2019.toml) gets an AS3
//! declaration valid under both AS3 schemas the project checks (3.23.0, its minimum, and 3.56.0,
//! the newest), without the HTTP chunking settings AS3 says do not fit BIG-IP 15.0 and later, and
//! a runbook that gives the AS3 path first from 15.1 on and the merge file first before it. The
//! runbook checker (validate.py --runbook, tests/operator_day.py) runs over the fixture with every
//! other site (tests/it/runbook_checker.rs).

use serde_json::Value;

use crate::checks::as3;
use crate::common;

const FIXTURE: &str = "tests/fixtures/migration-2019.toml";

/// The fixture with `tmos` set to `release` (None: the line removed).
fn site_with_tmos(release: Option<&str>) -> String {
    let text = common::read(FIXTURE);
    let line = "tmos = \"17.1\"\n";
    assert!(text.contains(line), "the fixture names BIG-IP 17.1");
    match release {
        Some(r) => text.replace(line, &format!("tmos = \"{r}\"\n")),
        None => text.replace(line, ""),
    }
}

fn built(text: &str) -> (String, Value) {
    let b = common::build_text("migration-2019.toml", text);
    let s = |p: &str| String::from_utf8(b.files[p].bytes.clone()).unwrap();
    let decl = serde_json::from_str(&s("f5/as3.json")).expect("as3.json is JSON");
    (s("README.md"), decl)
}

#[test]
fn as3_of_a_17_1_site_passes_both_schemas() {
    let (_, decl) = built(&common::read(FIXTURE));
    assert_eq!(as3::SCHEMAS.len(), 2);
    for (i, (version, _)) in as3::SCHEMAS.iter().enumerate() {
        assert_eq!(
            as3::check_against(&decl, i),
            Vec::<String>::new(),
            "{version}"
        );
    }
}

/// Control: the same declaration with its virtual server's port as a word fails under each schema.
#[test]
fn control_a_broken_17_1_declaration_fails_both_schemas() {
    let (_, mut decl) = built(&common::read(FIXTURE));
    let service = &mut decl["declaration"]["migration"]["sitebundle"]["vs_web"];
    assert_eq!(service["class"], "Service_HTTP");
    service["virtualPort"] = serde_json::json!("eighty");
    for (i, (version, _)) in as3::SCHEMAS.iter().enumerate() {
        let errors = as3::check_against(&decl, i);
        assert!(
            errors.iter().any(|e| e.contains("virtualPort")),
            "{version}: {errors:?}"
        );
    }
}

/// Every object key of a JSON document named `requestChunking` or `responseChunking`, and every
/// object of class `HTTP_Profile`, by JSON pointer.
fn chunking(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if o.get("class").and_then(Value::as_str) == Some("HTTP_Profile") {
                out.push(format!("{at}: an HTTP_Profile"));
            }
            for (k, x) in o {
                if k == "requestChunking" || k == "responseChunking" {
                    out.push(format!("{at}/{k}"));
                }
                chunking(x, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                chunking(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// AS3 CHANGELOG 3.17.1: "HTTP_Profile's properties 'responseChunking' and 'requestChunking' are
/// not compatible with BIG-IP 15.0+". The declaration uses F5's built-in `/Common/http` profile
/// (`profileHTTP: { bigip }`), so neither it nor an HTTP_Profile of its own appears, on any site.
#[test]
fn a_15_1_declaration_has_no_chunking_settings() {
    for release in ["15.1", "16.1", "17.1", "17.5"] {
        let (_, decl) = built(&site_with_tmos(Some(release)));
        let mut found = Vec::new();
        chunking(&decl, "", &mut found);
        assert_eq!(found, Vec::<String>::new(), "{release}");
        let app = &decl["declaration"]["migration"]["sitebundle"];
        assert_eq!(app["vs_web"]["profileHTTP"]["bigip"], "/Common/http");
    }
}

/// Control: a declaration with an HTTP profile that sets request chunking is found.
#[test]
fn control_chunking_settings_are_found() {
    let (_, mut decl) = built(&common::read(FIXTURE));
    let app = &mut decl["declaration"]["migration"]["sitebundle"];
    app["http_chunked"] =
        serde_json::json!({"class": "HTTP_Profile", "requestChunking": "sustain"});
    let mut found = Vec::new();
    chunking(&decl, "", &mut found);
    assert_eq!(
        found,
        [
            "/declaration/migration/sitebundle/http_chunked: an HTTP_Profile",
            "/declaration/migration/sitebundle/http_chunked/requestChunking"
        ]
    );
}

/// Where the F5 section's AS3 path and merge path start: the first line of each (its heading,
/// `**AS3 …`, and the merge file's dry run).
fn paths(md: &str) -> (usize, usize) {
    let f5 = md.find("\n## F5 BIG-IP\n").expect("an F5 section");
    let line = |needle: &str| {
        md[f5..]
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no line {needle:?}"))
    };
    (
        line("**AS3 "),
        line("tmsh load sys config merge verify file "),
    )
}

/// From 15.1 on the AS3 path comes first, with its POST in a `sh` block; before 15.1 (and without
/// `tmos`) the merge file comes first. The control is in the same table: the releases before 15.1
/// give the opposite order, so the check tells the two apart.
#[test]
fn the_runbook_gives_as3_first_from_15_1() {
    let cases = [
        (Some("17.5"), true),
        (Some("17.1"), true),
        (Some("16.1"), true),
        (Some("15.1"), true),
        (Some("15.0"), false),
        (Some("14.1"), false),
        (Some("13.1"), false),
        (Some("11.4"), false),
        (None, false),
    ];
    for (release, as3_first) in cases {
        let (md, _) = built(&site_with_tmos(release));
        let (as3, merge) = paths(&md);
        assert_eq!(
            as3 < merge,
            as3_first,
            "{release:?}: AS3 at {as3}, merge at {merge}"
        );
        let post_block = md.contains(
            "```sh\ncurl -sku admin -H 'Content-Type: application/json' -X POST 'https://<bigip>/mgmt/shared/appsvcs/declare' -d @f5/as3.json\n",
        );
        assert_eq!(post_block, as3_first, "{release:?}");
        // The checklist's F5 step says the same order.
        let step = md.lines().find(|l| l.contains("**F5 BIG-IP**")).unwrap();
        assert_eq!(
            !step.contains("copy `f5/"),
            as3_first,
            "{release:?}: {step}"
        );
    }
}

/// The AS3 releases the runbook names for each BIG-IP release (F5Networks/f5-appsvcs-extension
/// docs/userguide/prereqs.rst): AS3 3.50.0 and later dropped 13.1 to 14.1.x, 3.26.1 was the last
/// for 12.1.x, and AS3 never ran on 11.x, 12.0 or 13.0.
#[test]
fn the_runbook_names_the_as3_releases_that_fit() {
    let cases = [
        ("17.1", "AS3 3.23.0 to 3.56.0 fit it"),
        ("15.1", "AS3 3.23.0 to 3.56.0 fit it"),
        ("15.0", "AS3 3.23.0 to 3.56.0 fit it"),
        ("14.1", "Use AS3 3.49.0 or earlier"),
        ("13.1", "Use AS3 3.49.0 or earlier"),
        ("12.1", "AS3 3.23.0 to 3.26.1 only"),
        ("13.0", "not on BIG-IP 13.0"),
        ("11.6", "not on BIG-IP 11.6"),
    ];
    for (release, says) in cases {
        let (md, _) = built(&site_with_tmos(Some(release)));
        let statement: String = md[md.find("**AS3 ").unwrap()..]
            .split("\n\n")
            .next()
            .unwrap()
            .replace('\n', " ");
        assert!(statement.contains(says), "{release}: {statement}");
        let others = cases
            .iter()
            .filter(|(_, s)| *s != says && !s.starts_with("not on"));
        for (_, other) in others {
            assert!(!statement.contains(other), "{release} also says {other:?}");
        }
    }
}
