//! The `--format json` documents against their JSON Schemas (`docs/schemas/`), with the
//! `jsonschema` crate (Draft 2020-12). A document names its command in `format`
//! (`sitebundle-<command>`); it must be strict JSON (no duplicate keys: serde_json would keep the
//! last one silently, so they are looked for first) and its schema must itself be a valid
//! Draft 2020-12 schema.

use std::collections::BTreeSet;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Every problem of one document (empty when it is valid), each as `pointer: message`.
pub fn check(text: &str) -> Vec<String> {
    if let Err(e) = strict(text) {
        return vec![format!("not strict JSON: {e}")];
    }
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    let format = doc.get("format").and_then(Value::as_str).unwrap_or("");
    let Some(command) = format.strip_prefix("sitebundle-") else {
        return vec![format!("no sitebundle format: {format:?}")];
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(format!("{command}.schema.json"));
    let Ok(schema_text) = std::fs::read_to_string(&path) else {
        return vec![format!("no schema {}", path.display())];
    };
    let schema: Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        return vec![format!(
            "{}: the schema is not Draft 2020-12: {e}",
            path.display()
        )];
    }
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let mut errors: Vec<(String, String)> = validator
        .iter_errors(&doc)
        .map(|e| (e.instance_path().to_string(), e.to_string()))
        .collect();
    errors.sort();
    errors
        .into_iter()
        .map(|(at, msg)| format!("{}: {msg}", if at.is_empty() { "(root)" } else { &at }))
        .collect()
}

/// [`check`] of a file.
pub fn check_file(path: &Path) -> Vec<String> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => check(&text),
            Err(e) => vec![format!("not UTF-8: {e}")],
        },
        Err(e) => vec![format!("cannot read {}: {e}", path.display())],
    }
}

/// Walks the document and fails on an object with a key twice.
fn strict(text: &str) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_any(Strict)?;
    de.end()
}

struct Strict;

impl<'de> de::DeserializeSeed<'de> for Strict {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.next_value_seed(Strict)?;
        }
        Ok(())
    }
}

#[test]
fn the_checker_refuses_what_it_must() {
    let ok = r#"{"format": "sitebundle-validate"}"#;
    assert!(
        check(ok).iter().all(|e| !e.contains("strict")),
        "{:?}",
        check(ok)
    );
    let dup = r#"{"format": "sitebundle-validate", "format": "sitebundle-validate"}"#;
    assert!(check(dup)[0].contains("duplicate key"), "{:?}", check(dup));
    assert!(check(r#"{"format": "other"}"#)[0].contains("no sitebundle format"));
    assert!(check(r#"{"format": "sitebundle-nothing"}"#)[0].contains("no schema"));
    assert!(check("[1, NaN]")[0].contains("not strict JSON"));
    // A document of a known format with a wrong shape is refused by its schema.
    assert!(!check(r#"{"format": "sitebundle-validate", "ok": "yes"}"#).is_empty());
}
