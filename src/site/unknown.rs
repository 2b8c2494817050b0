//! Every unknown key of a site file at once.
//!
//! serde stops at the first structural error, so a file with three typos would take three runs to
//! fix. When the typed parse fails, this walks the TOML document against the JSON Schema of
//! [`super::RawSite`] (the same schema editors use) and reports each key that no table allows, with
//! its location and a did-you-mean.

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, did_you_mean, suggest_all};

/// Unknown keys of `source`, in document order. Empty when the document does not parse as TOML.
pub fn unknown_keys(source: &str) -> Vec<Diagnostic> {
    let Ok(root) = DeTable::parse(source) else {
        return Vec::new();
    };
    let schema: Value =
        serde_json::from_str(&super::schema_json()).expect("the generated schema is JSON");
    let mut out = Vec::new();
    walk_table(&schema, &schema, root.get_ref(), &mut out);
    out.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
    out
}

/// Follows `$ref`s and `Option`'s `anyOf: [X, null]` to the one object schema a value must match.
/// `None` when there is no single candidate (then nothing is reported: no false alarms). A union
/// of a table and a list of tables (`[x]` or `[[x]]`, e.g. `sql.availability_group`) is settled
/// by the value's shape: `Some(true)` an array.
fn object_schema_shaped<'a>(
    root: &'a Value,
    mut s: &'a Value,
    array: Option<bool>,
) -> Option<&'a Value> {
    for _ in 0..16 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/$defs/")?;
            s = root.get("$defs")?.get(name)?;
            continue;
        }
        if let Some(alts) = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array)
        {
            let non_null: Vec<&Value> = alts
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            s = match (non_null.as_slice(), array) {
                ([one], _) => one,
                (several, Some(array)) => {
                    let mut fit = several.iter().filter(|a| {
                        (a.get("type").and_then(Value::as_str) == Some("array")) == array
                    });
                    match (fit.next(), fit.next()) {
                        (Some(one), None) => one,
                        _ => return None,
                    }
                }
                _ => return None,
            };
            continue;
        }
        return Some(s);
    }
    None
}

fn walk_table(root: &Value, schema: &Value, table: &DeTable<'_>, out: &mut Vec<Diagnostic>) {
    let Some(s) = object_schema_shaped(root, schema, Some(false)) else {
        return;
    };
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
    for (k, v) in table.iter() {
        let key = k.get_ref();
        match props.get(key.as_ref() as &str) {
            Some(sub) => walk_value(root, sub, v.get_ref(), out),
            None if closed => {
                let mut expected: Vec<&str> = props.keys().map(String::as_str).collect();
                expected.sort_unstable();
                let list = expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let prefix = || {
                    let mut c = expected
                        .iter()
                        .filter(|e| e.starts_with(key.as_ref() as &str) || key.starts_with(**e));
                    match (c.next(), c.next()) {
                        (Some(one), None) => Some(*one),
                        _ => None,
                    }
                };
                let mut close = suggest_all(key, expected.iter().copied());
                if close.is_empty() {
                    close.extend(prefix());
                }
                let help = did_you_mean(&close)
                    .unwrap_or_else(|| format!("allowed keys here: {}", expected.join(", ")));
                out.push(
                    Diagnostic::error(
                        Some(k.span()),
                        format!("unknown field `{key}`, expected one of {list}"),
                    )
                    .with_code(Code::UnknownKey)
                    .with_help(help),
                );
            }
            None => {}
        }
    }
}

fn walk_value(root: &Value, schema: &Value, value: &DeValue<'_>, out: &mut Vec<Diagnostic>) {
    match value {
        DeValue::Table(t) => walk_table(root, schema, t, out),
        DeValue::Array(items) => {
            let Some(s) = object_schema_shaped(root, schema, Some(true)) else {
                return;
            };
            if let Some(item_schema) = s.get("items") {
                for item in items.iter() {
                    walk_value(root, item_schema, item.get_ref(), out);
                }
            }
        }
        _ => {}
    }
}
