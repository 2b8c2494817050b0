//! The AS3 declaration (`as3.json`) against F5's JSON Schemas (draft-07) of the minimum AS3
//! version the runbook names and of the current one ([`SCHEMAS`]), with the `jsonschema` crate. An AS3 request (`"class": "AS3"`) is validated against
//! `#/definitions/AS3`, a bare declaration (`"class": "ADC"`) against `#/definitions/ADC` (errors
//! from the schema root's `oneOf` are unreadable), anything else against the whole schema.
//!
//! Formats: only F5's own are checked, as AS3 itself defines them (src/lib/adcParserFormats.js):
//! f5ip/f5ipv4/f5ipv6 = "" or an address with optional %route-domain and /masklen, f5bigip = an
//! absolute path without blanks or quotes, f5pointer = AS3 pointer syntax. The standard formats
//! the schema names (date-time, email, hostname, uri) are annotations here, as they were for the
//! Python validator this replaces (its FormatChecker knew only the F5 formats). The f5PostProcess
//! keyword is ignored (unknown keywords are).
//!
//! Strict JSON parsing (duplicate keys, NaN) and the marker rule on keys stay in validate.py.

use std::net::IpAddr;
use std::sync::OnceLock;

use jsonschema::{Draft, ValidationError, Validator};
use serde_json::Value;

use crate::common;

/// The schemas a declaration must satisfy: the AS3 version the runbook names as the minimum
/// (3.23.0: `tests/schemas/as3-schema-3.23.0.json`) and the current one (3.56.0).
pub const SCHEMAS: &[(&str, &str)] = &[
    ("3.23.0", "tests/schemas/as3-schema-3.23.0.json"),
    ("3.56.0", "tests/schemas/as3-schema.json"),
];

/// What a document is validated as: an AS3 request, a bare ADC declaration, anything else.
const CLASSES: [Option<&str>; 3] = [Some("AS3"), Some("ADC"), None];

/// One validator per schema and class, each compiled on first use.
fn validator(schema: usize, class: usize) -> &'static Validator {
    static V: [OnceLock<Validator>; 6] = [const { OnceLock::new() }; 6];
    V[schema * CLASSES.len() + class].get_or_init(|| {
        let path = common::repo().join(SCHEMAS[schema].1);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("AS3 schema not found: {}: {e}", path.display()));
        let root: Value = serde_json::from_str(&text).expect("the AS3 schema is JSON");
        build(&for_class(root, CLASSES[class]))
    })
}

/// The schema for one class: the root (its `$id` and `definitions`, so that every `$ref` still
/// resolves) without the root's `oneOf` (its errors are unreadable), requiring the class's
/// definition. In 3.2x, `definitions.ADC` is a stub ("See adc-schema.json") and the full ADC
/// schema is the root's `properties.declaration`: it applies to a request's `declaration` through
/// the root's `properties`, and is added here for a bare declaration.
fn for_class(mut root: Value, class: Option<&str>) -> Value {
    let Some(cls) = class else { return root };
    let declaration = root.pointer("/properties/declaration").cloned();
    let obj = root.as_object_mut().unwrap();
    obj.remove("oneOf");
    let mut all = vec![serde_json::json!({ "$ref": format!("#/definitions/{cls}") })];
    if let (Some("ADC"), Some(d)) = (class, declaration) {
        obj.remove("properties");
        all.push(d);
    }
    obj.insert("allOf".into(), Value::Array(all));
    root
}

fn build(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .with_format("f5ip", |s: &str| f5_address(s, None))
        .with_format("f5ipv4", |s: &str| f5_address(s, Some(4)))
        .with_format("f5ipv6", |s: &str| f5_address(s, Some(6)))
        .with_format("f5bigip", f5_bigip)
        .with_format("f5pointer", f5_pointer)
        // Not checked (see the module comment): registered as always valid.
        .with_format("date-time", |_: &str| true)
        .with_format("email", |_: &str| true)
        .with_format("hostname", |_: &str| true)
        .with_format("uri", |_: &str| true)
        .build(schema)
        .expect("the AS3 schema compiles")
}

/// `""`, or `ADDRESS[%RD][/LEN]` with LEN within the address family's width.
fn f5_address(value: &str, version: Option<u8>) -> bool {
    if value.is_empty() {
        return true;
    }
    let (rest, len) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (value, None),
    };
    let (addr, rd) = match rest.split_once('%') {
        Some((a, r)) => (a, Some(r)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if addr.is_empty() || rd.is_some_and(|r| !digits(r)) || len.is_some_and(|l| !digits(l)) {
        return false;
    }
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let v = if ip.is_ipv4() { 4 } else { 6 };
    if version.is_some_and(|want| want != v) {
        return false;
    }
    match len {
        Some(l) => l
            .parse::<u32>()
            .is_ok_and(|n| n <= if v == 4 { 32 } else { 128 }),
        None => true,
    }
}

/// An absolute BIG-IP path: `/` then none of U+0000..U+0019, quotes, `#*<>?[\]{|}` or DEL
/// (AS3's regular expression lets a space through).
fn f5_bigip(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('/') else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| !(c <= '\u{19}' || "\"#'*<>?[\\]{|}\u{7f}".contains(c)))
}

/// AS3 pointer syntax: `^((@|[0-9]+)|(([0-9]*/)?((@|[0-9]+|NAME)/)*([0-9]+|NAME)))?#?$`,
/// NAME = a letter then up to 63 letters, digits or `_`.
fn f5_pointer(s: &str) -> bool {
    let s = s.strip_suffix('#').unwrap_or(s);
    if s.is_empty() || s == "@" {
        return true;
    }
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
    let name = |p: &str| {
        let mut b = p.bytes();
        b.next().is_some_and(|c| c.is_ascii_alphabetic())
            && p.len() <= 64
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    };
    let parts: Vec<&str> = s.split('/').collect();
    let (last, init) = parts.split_last().unwrap();
    if !(digits(last) || name(last)) {
        return false;
    }
    // An optional leading `[0-9]*/` (digits or empty), then `(@|digits|NAME)/` segments.
    init.iter()
        .enumerate()
        .all(|(i, p)| (i == 0 && (p.is_empty() || digits(p))) || *p == "@" || digits(p) || name(p))
}

/// The AS3 schema errors of one parsed declaration against every schema of [`SCHEMAS`] (empty:
/// valid), each prefixed with the schema's version.
pub fn check(doc: &Value) -> Vec<String> {
    (0..SCHEMAS.len())
        .flat_map(|i| check_against(doc, i))
        .collect()
}

/// The errors of one declaration against `SCHEMAS[schema]`.
pub fn check_against(doc: &Value, schema: usize) -> Vec<String> {
    let class = match doc.get("class").and_then(Value::as_str) {
        Some("AS3") => 0,
        Some("ADC") => 1,
        _ => 2,
    };
    let version = SCHEMAS[schema].0;
    let mut errors: Vec<(String, String)> = validator(schema, class)
        .iter_errors(doc)
        .map(|e| {
            // A failed oneOf/anyOf carries the branch errors; show the most relevant too.
            let leaf = best_leaf(&e);
            let mut msg = format!("{}: {}", path(&e), e);
            if !std::ptr::eq(leaf, &e) {
                msg = format!("{}: {} ({msg})", path(leaf), leaf);
            }
            (
                path(&e),
                format!("AS3 {version} schema: {}", truncate(&msg, 300)),
            )
        })
        .collect();
    errors.sort();
    errors.dedup();
    errors.into_iter().map(|(_, m)| m).collect()
}

fn path(e: &ValidationError) -> String {
    format!("${}", e.instance_path())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The deepest error below a failed anyOf/oneOf (like Python jsonschema's best_match).
fn best_leaf<'a>(e: &'a ValidationError<'a>) -> &'a ValidationError<'a> {
    use jsonschema::error::ValidationErrorKind as K;
    let context = match e.kind() {
        K::AnyOf { context } | K::OneOfNotValid { context } => context,
        _ => return e,
    };
    context
        .iter()
        .flatten()
        .map(|c| best_leaf(c))
        .max_by_key(|c| c.instance_path().as_str().matches('/').count())
        .unwrap_or(e)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{check, check_against, f5_address, f5_bigip, f5_pointer};

    fn decl() -> Value {
        json!({
            "class": "AS3",
            "action": "deploy",
            "persist": true,
            "declaration": {
                "class": "ADC",
                "schemaVersion": "3.0.0",
                "id": "sitebundle-test",
                "Partner": {
                    "class": "Tenant",
                    "ECTS": {
                        "class": "Application",
                        "template": "generic",
                        "vs_ects": {
                            "class": "Service_HTTP",
                            "remark": "PLACE",
                            "virtualAddresses": ["10.1.0.10"],
                            "virtualPort": 80,
                            "pool": "pool_ects"
                        },
                        "pool_ects": {
                            "class": "Pool",
                            "minimumMembersActive": 1,
                            "monitors": ["http"],
                            "members": [
                                {"servicePort": 80, "serverAddresses": ["10.1.0.3"], "priorityGroup": 2},
                                {"servicePort": 80, "serverAddresses": ["10.1.0.2"], "priorityGroup": 1}
                            ]
                        },
                        "vs_ldap": {
                            "class": "Service_TCP",
                            "virtualAddresses": ["10.1.0.11"],
                            "virtualPort": 389,
                            "pool": "pool_ects",
                            "snat": "auto"
                        }
                    }
                }
            }
        })
    }

    fn app(d: &mut Value) -> &mut Value {
        &mut d["declaration"]["Partner"]["ECTS"]
    }

    fn rejects(d: &Value, expect: &str) {
        let errs = check(d);
        assert!(
            errs.iter().any(|e| e.contains(expect)),
            "expected an error containing {expect:?}, got {errs:?}"
        );
    }

    #[test]
    fn good_request_passes() {
        assert_eq!(check(&decl()), Vec::<String>::new());
    }

    #[test]
    fn good_bare_adc_declaration_passes() {
        assert_eq!(check(&decl()["declaration"]), Vec::<String>::new());
    }

    #[test]
    fn bad_property_fails() {
        let mut d = decl();
        let pool = &mut app(&mut d)["pool_ects"];
        pool["minimumMembersActiv"] = json!(1);
        rejects(&d, "minimumMembersActiv");
    }

    #[test]
    fn bad_ip_address_fails_the_f5ip_format() {
        let mut d = decl();
        app(&mut d)["vs_ects"]["virtualAddresses"] = json!(["10.1.0.300"]);
        rejects(&d, "f5ip");
    }

    #[test]
    fn bad_ip_address_in_a_bare_declaration_fails() {
        let mut d = decl();
        app(&mut d)["vs_ects"]["virtualAddresses"] = json!(["10.1.0.300"]);
        rejects(&d["declaration"], "f5ip");
    }

    #[test]
    fn wrong_type_fails() {
        let mut d = decl();
        app(&mut d)["vs_ects"]["virtualPort"] = json!("eighty");
        rejects(&d, "virtualPort");
    }

    /// AS3 up to 3.28 requires send and receive on a TCP monitor; 3.29 dropped the requirement
    /// (f5-appsvcs-extension CHANGELOG, AUTOTOOL-2377): why the declaration writes empty
    /// strings, and why both schemas are checked.
    #[test]
    fn tcp_monitor_needs_send_and_receive_before_3_29() {
        let mut d = decl();
        app(&mut d)["mon_tcp"] =
            json!({"class": "Monitor", "monitorType": "tcp", "targetPort": 389});
        assert!(
            check_against(&d, 1).is_empty(),
            "{:?}",
            check_against(&d, 1)
        );
        let old = check_against(&d, 0);
        assert!(
            old.iter()
                .any(|e| e.starts_with("AS3 3.23.0 schema") && e.contains("send")),
            "{old:?}"
        );
        app(&mut d)["mon_tcp"]["send"] = json!("");
        app(&mut d)["mon_tcp"]["receive"] = json!("");
        assert_eq!(check(&d), Vec::<String>::new());
    }

    #[test]
    fn f5_formats() {
        for ok in [
            "",
            "10.1.0.1",
            "10.1.0.1%2",
            "10.1.0.0/24",
            "::1",
            "fe80::1%3/64",
        ] {
            assert!(f5_address(ok, None), "{ok}");
        }
        for bad in [
            "10.1.0.300",
            "10.1.0.1/33",
            "::1/129",
            "x",
            "10.1.0.1%",
            "10.1.0.1/",
        ] {
            assert!(!f5_address(bad, None), "{bad}");
        }
        assert!(!f5_address("::1", Some(4)) && !f5_address("10.0.0.1", Some(6)));
        assert!(f5_bigip("/Common/pool_a") && f5_bigip("/a b") && !f5_bigip("Common/x"));
        assert!(!f5_bigip("/a\"b") && !f5_bigip("/a{b") && !f5_bigip("/"));
        for ok in [
            "", "#", "@", "12", "name", "@/name", "1/a/b_c#", "/a", "3/@/x",
        ] {
            assert!(f5_pointer(ok), "{ok}");
        }
        for bad in ["a b", "1a", "a//b", "_x", "a/", "a/@"] {
            assert!(!f5_pointer(bad), "{bad}");
        }
    }
}
