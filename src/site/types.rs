//! Every type error of a site file at once, with the semantic errors of the rest of the file.
//!
//! serde stops at the first value of the wrong type, so a quoted number (`port = "14330"`) used to
//! hide every other finding. When the typed parse fails, this walks the TOML document against the
//! JSON Schema of [`super::RawSite`] (as [`super::unknown`] does for keys), reports each value of
//! the wrong type with its fix, and repairs the document: the value the user evidently meant
//! (`14330`, `"03:15"`, `"2008r2"`) or a placeholder of the right type, a placeholder for each
//! required key that is missing (reported as serde words it), and no unknown keys. The
//! repaired document is then resolved as usual; findings inside a repaired value are dropped (they
//! are about the placeholder, not the user's text). Constructs the walk does not know are left
//! alone: then serde's own first error is reported, as before.

use std::ops::Range;

use serde_json::Value as Schema;
use toml::Value;

use crate::diag::{Code, Diagnostic, did_you_mean, suggest_all};
use crate::model::spans::SpanIndex;

/// The type findings of a document and the repaired document.
pub struct Repaired {
    pub table: toml::Table,
    pub findings: Vec<Diagnostic>,
    /// Spans of the repaired values, sorted and merged where they overlap (a value inside a
    /// repaired array): findings inside them are about placeholders.
    pub replaced: Vec<Range<usize>>,
}

/// Walks `source` against the site schema. `None` when it is not TOML.
pub fn repair(source: &str, spans: &SpanIndex) -> Option<Repaired> {
    let mut table: toml::Table = source.parse().ok()?;
    let schema: Schema =
        serde_json::from_str(&super::schema_json()).expect("the generated schema is JSON");
    let mut walk = Walk {
        root: &schema,
        spans,
        findings: Vec::new(),
        replaced: Vec::new(),
    };
    walk.table(&schema, "", &mut table);
    Some(Repaired {
        table,
        findings: walk.findings,
        replaced: merged(walk.replaced),
    })
}

/// Ranges sorted by start, overlapping ones merged, so that [`inside`] is a binary search (a
/// file of 50,000 repaired values and 150,000 findings was quadratic: 40 s).
fn merged(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

struct Walk<'a> {
    root: &'a Schema,
    spans: &'a SpanIndex,
    findings: Vec<Diagnostic>,
    replaced: Vec<Range<usize>>,
}

/// What a schema asks for, once `$ref`s and `Option`'s null are followed.
enum Want<'a> {
    Table(&'a Schema),
    List(&'a Schema),
    Text,
    Words(Vec<&'a str>),
    Number,
    Flag,
}

impl<'a> Walk<'a> {
    fn want(&self, mut s: &'a Schema) -> Option<Want<'a>> {
        for _ in 0..16 {
            if let Some(r) = s.get("$ref").and_then(Schema::as_str) {
                s = self.root.get("$defs")?.get(r.strip_prefix("#/$defs/")?)?;
                continue;
            }
            if let Some(alts) = s.get("anyOf").and_then(Schema::as_array) {
                let mut non_null = alts
                    .iter()
                    .filter(|a| a.get("type").and_then(Schema::as_str) != Some("null"));
                let one = non_null.next()?;
                if non_null.next().is_some() {
                    return None;
                }
                s = one;
                continue;
            }
            break;
        }
        if let Some(words) = words(s) {
            return Some(Want::Words(words));
        }
        let ty = match s.get("type")? {
            Schema::String(t) => t.as_str(),
            Schema::Array(ts) => {
                let mut non_null = ts
                    .iter()
                    .filter_map(Schema::as_str)
                    .filter(|t| *t != "null");
                let one = non_null.next()?;
                if non_null.next().is_some() {
                    return None;
                }
                one
            }
            _ => return None,
        };
        Some(match ty {
            "object" => Want::Table(s),
            "array" => Want::List(s.get("items")?),
            "string" => Want::Text,
            "integer" if s.get("format").and_then(Schema::as_str) == Some("uint32") => Want::Number,
            "boolean" => Want::Flag,
            _ => return None,
        })
    }

    fn table(&mut self, schema: &'a Schema, path: &str, table: &mut toml::Table) {
        let Some(props) = schema.get("properties").and_then(Schema::as_object) else {
            return;
        };
        let closed = schema.get("additionalProperties") == Some(&Schema::Bool(false));
        // Unknown keys are reported by `unknown_keys`; the repaired document goes without them.
        // The key was probably meant as one of this table's own (`monitor` for `monitors`), so
        // findings about the rest of this table would be about its absence: they are dropped
        // (not for the whole file, whose other sections still stand on their own).
        if closed {
            let before = table.len();
            table.retain(|k, _| props.contains_key(k));
            if table.len() < before
                && !path.is_empty()
                && let Some(span) = self.spans.value(path)
            {
                self.replaced.push(span);
            }
        }
        for (key, value) in table.iter_mut() {
            let Some(sub) = props.get(key) else { continue };
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            self.value(sub, key, &at, value);
        }
        self.missing_keys(schema, props, path, table);
    }

    /// Required keys that are not there: each reported at its table (as serde words it), and
    /// given a placeholder of the right type so that the rest of the file is still checked.
    /// Findings about the placeholder fall on the table, whose span `report` marks as repaired.
    fn missing_keys(
        &mut self,
        schema: &'a Schema,
        props: &'a serde_json::Map<String, Schema>,
        path: &str,
        table: &mut toml::Table,
    ) {
        let Some(required) = schema.get("required").and_then(Schema::as_array) else {
            return;
        };
        for key in required.iter().filter_map(Schema::as_str) {
            if table.contains_key(key) {
                continue;
            }
            let Some(placeholder) = props.get(key).and_then(|sub| self.placeholder(sub, 0)) else {
                continue;
            };
            self.report(
                path,
                Code::MissingKey,
                format!("missing field `{key}`"),
                format!(
                    "add `{key} = …` to this table (`sitebundle schema` describes every key; `sitebundle init` writes a commented example)"
                ),
            );
            table.insert(key.to_string(), placeholder);
        }
    }

    /// A value of the type `schema` asks for (a table with its own required keys), or `None`
    /// for a schema the walk does not know (then serde reports the missing key, as before).
    fn placeholder(&self, schema: &'a Schema, depth: usize) -> Option<Value> {
        Some(match self.want(schema)? {
            Want::Text => Value::String(String::new()),
            Want::Words(w) => Value::String(w.first()?.to_string()),
            Want::Number => Value::Integer(1),
            Want::Flag => Value::Boolean(false),
            Want::List(_) => Value::Array(Vec::new()),
            Want::Table(t) if depth < 4 => {
                let props = t.get("properties").and_then(Schema::as_object)?;
                let mut table = toml::Table::new();
                for key in t
                    .get("required")
                    .and_then(Schema::as_array)
                    .into_iter()
                    .flatten()
                {
                    let key = key.as_str()?;
                    table.insert(
                        key.to_string(),
                        self.placeholder(props.get(key)?, depth + 1)?,
                    );
                }
                Value::Table(table)
            }
            Want::Table(_) => return None,
        })
    }

    /// A union of a table and a list of tables (`[x]` or `[[x]]`, e.g. `sql.availability_group`):
    /// the alternative the value's shape matches; any other schema as it is.
    fn by_shape(&self, mut s: &'a Schema, value: &Value) -> &'a Schema {
        for _ in 0..16 {
            if let Some(r) = s.get("$ref").and_then(Schema::as_str)
                && let Some(d) = r
                    .strip_prefix("#/$defs/")
                    .and_then(|n| self.root.get("$defs")?.get(n))
            {
                s = d;
                continue;
            }
            let Some(alts) = s.get("anyOf").and_then(Schema::as_array) else {
                return s;
            };
            let non_null: Vec<&'a Schema> = alts
                .iter()
                .filter(|a| a.get("type").and_then(Schema::as_str) != Some("null"))
                .collect();
            let fit: Vec<&'a Schema> = non_null
                .iter()
                .copied()
                .filter(|a| {
                    matches!(
                        (self.want(a), &*value),
                        (Some(Want::Table(_)), Value::Table(_))
                            | (Some(Want::List(_)), Value::Array(_))
                    )
                })
                .collect();
            match (non_null.len(), fit.as_slice()) {
                (1, _) => s = non_null[0],
                (_, [one]) => return one,
                _ => return s,
            }
        }
        s
    }

    fn value(&mut self, schema: &'a Schema, key: &str, path: &str, value: &mut Value) {
        let schema = self.by_shape(schema, value);
        let Some(want) = self.want(schema) else {
            return;
        };
        match (want, &mut *value) {
            (Want::Table(s), Value::Table(t)) => self.table(s, path, t),
            (Want::List(items), Value::Array(a)) => {
                for (i, item) in a.iter_mut().enumerate() {
                    self.value(items, key, &format!("{path}[{i}]"), item);
                }
            }
            (Want::List(items), other) if !matches!(other, Value::Table(_)) => {
                self.wrap_in_list(items, key, path, value)
            }
            (Want::Text, Value::String(_))
            | (Want::Number, Value::Integer(_))
            | (Want::Flag, Value::Boolean(_)) => self.range(key, path, value),
            (Want::Words(words), Value::String(s)) => self.word(&words, key, path, s),
            (Want::Text, Value::Datetime(d)) => {
                let (what, fix) = datetime_fix(d);
                self.report(
                    path,
                    Code::WrongType,
                    format!("invalid type: {what} `{d}`, expected a string"),
                    format!(
                        "TOML reads an unquoted time or date as its own type; put it in quotes: `{key} = \"{fix}\"`"
                    ),
                );
                *value = Value::String(fix);
            }
            (Want::Number, Value::String(s)) if s.trim().parse::<u32>().is_ok() => {
                let n = s.trim().parse::<u32>().unwrap_or_default();
                self.report(
                    path,
                    Code::WrongType,
                    format!("invalid type: string \"{s}\", expected a whole number (0 or more)"),
                    format!("write the number without quotes: `{key} = {n}`"),
                );
                *value = Value::Integer(n.into());
            }
            (Want::Flag, Value::String(s)) if matches!(s.as_str(), "true" | "false") => {
                let b = s == "true";
                self.report(
                    path,
                    Code::WrongType,
                    format!("invalid type: string \"{s}\", expected true or false"),
                    format!("write it without quotes: `{key} = {b}`"),
                );
                *value = Value::Boolean(b);
            }
            (Want::Text, Value::Integer(_) | Value::Float(_) | Value::Boolean(_)) => {
                let text = value.to_string();
                self.report(
                    path,
                    Code::WrongType,
                    format!("invalid type: {}, expected a string", described(value)),
                    format!("put it in quotes: `{key} = \"{text}\"`"),
                );
                *value = Value::String(text);
            }
            (want @ (Want::Number | Want::Flag | Want::Text | Want::Words(_)), _) => {
                self.replace_wrong_scalar(want, path, value)
            }
            // A table where a list or scalar belongs (or the reverse): serde reports it.
            _ => {}
        }
    }

    /// A single value where a list belongs: reported, and repaired as a list of that value.
    fn wrap_in_list(&mut self, items: &'a Schema, key: &str, path: &str, value: &mut Value) {
        let shown = shown(value);
        self.report(
            path,
            Code::WrongType,
            format!(
                "invalid type: {}, expected a list (`[ ... ]`)",
                described(value)
            ),
            format!("put the value in a list: `{key} = [{shown}]`"),
        );
        let mut item = value.clone();
        self.value(items, key, &format!("{path}[0]"), &mut item);
        *value = Value::Array(vec![item]);
    }

    /// A value of a type no repair can read as meant: reported, and replaced by a neutral value
    /// of the right type so that the rest of the file is still checked.
    fn replace_wrong_scalar(&mut self, want: Want<'a>, path: &str, value: &mut Value) {
        let expected = match want {
            Want::Number => "a whole number (0 or more)",
            Want::Flag => "true or false",
            _ => "a string",
        };
        self.report(
            path,
            Code::WrongType,
            format!("invalid type: {}, expected {expected}", described(value)),
            "check the value's type: strings are quoted, numbers and true/false are not, lists use [ ]",
        );
        *value = match want {
            Want::Number => Value::Integer(1),
            Want::Flag => Value::Boolean(false),
            Want::Words(w) => Value::String(w[0].to_string()),
            _ => Value::String(String::new()),
        };
    }

    /// Whole numbers within their schema's bounds (serde refuses a negative or too large `u32`).
    fn range(&mut self, key: &str, path: &str, value: &mut Value) {
        if let Value::Integer(n) = value
            && u32::try_from(*n).is_err()
        {
            self.report(
                path,
                Code::InvalidValue,
                format!(
                    "invalid value: integer `{n}`, expected a whole number from 0 to {}",
                    u32::MAX
                ),
                format!("e.g. `{key} = 1`"),
            );
            *value = Value::Integer(1);
        }
    }

    /// One of a fixed set of words (`os = "2008r2"`): written another way (`"2008 R2"`), the
    /// finding spells out the word meant.
    fn word(&mut self, words: &[&str], key: &str, path: &str, s: &mut String) {
        if words.contains(&s.as_str()) {
            return;
        }
        let folded: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
            .collect::<String>()
            .to_lowercase();
        let meant = words
            .iter()
            .find(|w| w.replace(['-', '_'], "") == folded)
            .copied();
        let list = words
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match meant {
            Some(w) => format!("write `{key} = \"{w}\"`"),
            None => did_you_mean(&suggest_all(s, words.iter().copied()))
                .unwrap_or_else(|| format!("use one of {list}")),
        };
        self.report(
            path,
            Code::UnknownVariant,
            format!("unknown variant `{s}`, expected one of {list}"),
            help,
        );
        *s = meant.unwrap_or(words[0]).to_string();
    }

    fn report(&mut self, path: &str, code: Code, message: String, help: impl Into<String>) {
        let span = self.spans.value(path);
        if let Some(s) = &span {
            self.replaced.push(s.clone());
        }
        self.findings.push(
            Diagnostic::error(span, message)
                .with_code(code)
                .with_help(help),
        );
    }
}

/// The allowed words of a string enum (`enum: [...]`, or `oneOf` of `const`s).
fn words(s: &Schema) -> Option<Vec<&str>> {
    if let Some(e) = s.get("enum").and_then(Schema::as_array) {
        return e.iter().map(Schema::as_str).collect();
    }
    let alts = s.get("oneOf").and_then(Schema::as_array)?;
    alts.iter()
        .map(|a| a.get("const").and_then(Schema::as_str))
        .collect()
}

/// A value as serde names it in "invalid type" messages.
fn described(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(n) => format!("integer `{n}`"),
        Value::Float(f) => format!("floating point `{f}`"),
        Value::Boolean(b) => format!("boolean `{b}`"),
        Value::Datetime(d) => format!("date-time `{d}`"),
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// A scalar as written in TOML (for "put the value in a list" help).
fn shown(v: &Value) -> String {
    v.to_string()
}

/// What TOML made of an unquoted time or date, and the quoted text meant (`03:15` for a time with
/// zero seconds, `2024-01-15 08:00:00` for a local date-time: the forms sitebundle reads). TOML
/// v1.0.0 "Local Time" (`lt1 = 07:32:00`) and "Local Date-Time" (`ldt1 = 1979-05-27T07:32:00`,
/// the `T` may be a space) are value types of their own (toml.io/en/v1.0.0#local-time); the toml
/// crate (TOML 1.1) also reads `03:15` without seconds as a local time, so `at = 03:15` parses and
/// only its type is wrong (tests/bad/unquoted-times.toml).
fn datetime_fix(d: &toml::value::Datetime) -> (&'static str, String) {
    match (&d.date, &d.time) {
        (None, Some(t)) => {
            let hhmm = format!("{:02}:{:02}", t.hour, t.minute);
            match t.second.unwrap_or(0) {
                0 => ("TOML local time", hhmm),
                s => ("TOML local time", format!("{hhmm}:{s:02}")),
            }
        }
        (Some(dt), Some(t)) => (
            "TOML date-time",
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                dt.year,
                dt.month,
                dt.day,
                t.hour,
                t.minute,
                t.second.unwrap_or(0)
            ),
        ),
        (Some(dt), None) => (
            "TOML date",
            format!("{:04}-{:02}-{:02}", dt.year, dt.month, dt.day),
        ),
        (None, None) => ("TOML date-time", d.to_string()),
    }
}

/// Whether a finding lies inside a repaired value (it is about the placeholder). `replaced` is
/// sorted and disjoint ([`Repaired::replaced`]): the only candidate is the last range starting at
/// or before the finding.
pub fn inside(replaced: &[Range<usize>], d: &Diagnostic) -> bool {
    d.span.as_ref().is_some_and(|s| {
        let i = replaced.partition_point(|r| r.start <= s.start);
        i > 0 && s.end <= replaced[i - 1].end
    })
}

#[cfg(test)]
mod inside_tests {
    use super::*;

    fn at(span: Range<usize>) -> Diagnostic {
        let mut d = Diagnostic::error(None, "x");
        d.span = Some(span);
        d
    }

    #[test]
    fn inside_a_merged_range() {
        // Nested and overlapping ranges merge; a finding straddling two disjoint ones is outside.
        let r = merged(vec![30..40, 0..10, 2..5, 8..12, 50..60]);
        assert_eq!(r, vec![0..12, 30..40, 50..60]);
        assert!(inside(&r, &at(3..4)));
        assert!(inside(&r, &at(9..12)));
        assert!(inside(&r, &at(30..40)));
        assert!(!inside(&r, &at(11..13)));
        assert!(!inside(&r, &at(35..55)));
        assert!(!inside(&r, &at(20..21)));
        assert!(!inside(&[], &at(0..1)));
    }
}
