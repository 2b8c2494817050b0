//! The one comparison every source goes through: expected objects (from the plan) against found
//! objects (parsed from the collected files), matched by kind and name ignoring case, field by
//! field for the fields the bundle sets. Fields the target adds are defaults we do not write and
//! are ignored, except below an expected object's `strict` prefixes.

use std::collections::BTreeMap;

use super::report::Finding;
use crate::plan::{Compare, Expected, Scope};

/// An object read from a collected file.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub kind: String,
    pub name: String,
    pub fields: BTreeMap<String, String>,
    /// Fields the reader saw but cannot read (a value in a display language it has no cited
    /// words for), with the value as written: reported as not compared, never as drift.
    pub unread: BTreeMap<String, String>,
}

impl Found {
    pub fn new(kind: &str, name: impl Into<String>) -> Self {
        Found {
            kind: kind.into(),
            name: name.into(),
            fields: BTreeMap::new(),
            unread: BTreeMap::new(),
        }
    }
    pub fn with(mut self, field: &str, value: impl Into<String>) -> Self {
        self.fields.insert(field.into(), value.into());
        self
    }
    /// A field whose value (`raw`) cannot be read: it is not compared.
    pub fn unread(mut self, field: &str, raw: impl Into<String>) -> Self {
        self.fields.remove(field);
        self.unread.insert(field.into(), raw.into());
        self
    }
}

/// Shown for a field the target does not have.
pub const ABSENT: &str = "(absent)";

fn key(kind: &str, name: &str) -> (String, String) {
    (kind.to_ascii_lowercase(), name.to_ascii_lowercase())
}

/// Compares every expected object with the found ones; found objects in `scopes` that nothing
/// expected are extra. Two found objects with one name are reported as an extra copy.
pub fn compare(expected: &[Expected], found: &[Found], scopes: &[Scope]) -> Vec<Finding> {
    let mut by_key: BTreeMap<(String, String), Vec<&Found>> = BTreeMap::new();
    for f in found {
        by_key.entry(key(&f.kind, &f.name)).or_default().push(f);
    }
    let mut out = Vec::new();
    for e in expected {
        let label = format!("{} {}", e.kind, e.name);
        match by_key.get(&key(&e.kind, &e.name)).map(Vec::as_slice) {
            None | Some([]) => out.push(Finding::missing(&label)),
            Some([one, rest @ ..]) => {
                compare_fields(e, one, &label, &mut out);
                if !rest.is_empty() {
                    out.push(Finding::extra(&format!("{label} (a second copy)")));
                }
            }
        }
    }
    for f in found {
        let ours = expected
            .iter()
            .any(|e| key(&e.kind, &e.name) == key(&f.kind, &f.name));
        let in_scope = scopes.iter().any(|s| {
            s.kind.eq_ignore_ascii_case(&f.kind)
                && f.name
                    .to_ascii_lowercase()
                    .starts_with(&s.prefix.to_ascii_lowercase())
        });
        if !ours && in_scope {
            out.push(Finding::extra(&format!("{} {}", f.kind, f.name)));
        }
    }
    out
}

/// Field by field: the bundle's fields, then what the target has below the strict prefixes.
pub fn compare_fields(e: &Expected, f: &Found, label: &str, out: &mut Vec<Finding>) {
    for field in &e.fields {
        if let Some(raw) = f.unread.get(&field.name) {
            let why = format!("not compared: {raw:?} is in the export's display language");
            out.push(Finding::state(label, &field.name, &why));
            continue;
        }
        let found = f.fields.get(&field.name).map(String::as_str);
        if let Some(finding) = judge(&field.compare, &field.value, found, label, &field.name) {
            out.push(finding);
        }
    }
    for (name, value) in &f.fields {
        let strict = e.strict.iter().any(|p| name.starts_with(p.as_str()));
        let expected = e.fields.iter().any(|x| &x.name == name);
        if strict && !expected {
            out.push(Finding::drift(label, name, ABSENT, value));
        }
    }
}

/// The finding for one field, if any.
fn judge(
    rule: &Compare,
    expected: &str,
    found: Option<&str>,
    label: &str,
    field: &str,
) -> Option<Finding> {
    let Some(found) = found else {
        return match rule {
            Compare::Observed => None,
            _ => Some(Finding::drift(label, field, expected, ABSENT)),
        };
    };
    let same = match rule {
        Compare::Exact => expected == found,
        Compare::NoCase => expected.eq_ignore_ascii_case(found),
        Compare::Text => normalise_text(expected) == normalise_text(found),
        Compare::State { accepted } => {
            return if accepted.iter().any(|a| a.eq_ignore_ascii_case(found)) {
                (!expected.eq_ignore_ascii_case(found)).then(|| Finding::state(label, field, found))
            } else {
                Some(Finding::drift(label, field, expected, found))
            };
        }
        Compare::Observed => return Some(Finding::state(label, field, found)),
    };
    (!same).then(|| Finding::drift(label, field, expected, &shorten(expected, found)))
}

/// CRLF → LF, trailing blanks of every line and of the text removed.
pub fn normalise_text(s: &str) -> String {
    let lines: Vec<&str> = s.split('\n').map(|l| l.trim_end()).collect();
    lines.join("\n").trim_end().to_string()
}

/// For a long text, the first line that differs (with its number) instead of the whole text.
fn shorten(expected: &str, found: &str) -> String {
    if found.len() <= 200 {
        return found.to_string();
    }
    let (e, f) = (normalise_text(expected), normalise_text(found));
    let diff = e
        .lines()
        .zip(f.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (_, b))| (i, b.to_string()))
        .unwrap_or_else(|| {
            let n = e.lines().count().min(f.lines().count());
            (n, f.lines().nth(n).unwrap_or("(end of text)").to_string())
        });
    format!("a text whose line {} reads {:?}", diff.0 + 1, diff.1)
}
