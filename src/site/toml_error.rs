//! serde's TOML errors in a site author's words: TOML type names, the fix, a place.

use crate::diag::{Code, Diagnostic, did_you_mean, suggest_all};

/// Turns a TOML/serde error into a diagnostic with a useful help line.
pub(super) fn toml_error(e: &toml::de::Error, text: &str) -> Diagnostic {
    let mut msg = e.message().trim().to_string();
    let mut span = e.span();
    // serde names Rust types; a site author thinks in TOML's.
    for (rust, toml) in [
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u16", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list (`[ ... ]`)"),
        ("expected a boolean", "expected true or false"),
    ] {
        if msg.ends_with(rust) {
            msg = format!("{}{toml}", &msg[..msg.len() - rust.len()]);
        }
    }
    let found = e
        .span()
        .and_then(|s| text.get(s))
        .unwrap_or("")
        .trim()
        .to_string();
    let mut help = String::new();
    if msg == "recursion limit" {
        // The parser gives no place for this one: point at the first deeply nested line.
        msg = "the file nests arrays, tables or dotted keys too deeply for the TOML parser".into();
        span = deeply_nested_line(text);
        return Diagnostic::error(span, msg)
            .with_code(Code::TooDeep)
            .with_help("a site file needs only a few levels of nesting; remove the extra brackets, braces or dots");
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            help = match did_you_mean(&suggest_all(field, expected.iter().copied())) {
                Some(s) => s,
                None if !expected.is_empty() => {
                    format!("allowed keys here: {}", expected.join(", "))
                }
                None => "remove this key".into(),
            };
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        help = format!(
            "add `{field} = …` to this table (`sitebundle schema` describes every key; `sitebundle init` writes a commented example)"
        );
    } else if msg.starts_with("invalid type") {
        let unquoted = found.trim_matches(|c| c == '"' || c == '\'');
        help = if found.starts_with(['"', '\''])
            && msg.contains("whole number")
            && unquoted.parse::<u64>().is_ok()
        {
            format!("write the number without quotes: `{unquoted}`")
        } else if found.starts_with(['"', '\''])
            && msg.contains("true or false")
            && matches!(unquoted, "true" | "false")
        {
            format!("write it without quotes: `{unquoted}`")
        } else if msg.contains("expected a list") && !found.starts_with('[') {
            format!("put the value in a list: `[{found}]`")
        } else {
            "check the value's type: strings are quoted, numbers and true/false are not, lists use [ ]".into()
        };
    } else if msg.starts_with("unknown variant") {
        help = "use one of the values listed above".into();
    } else if msg.contains("escape") || msg.starts_with("missing escaped value") {
        help = backslash_help(text, span.as_ref().map_or(0, |s| s.start));
    } else {
        help = "fix the TOML syntax at this place".into();
    }
    let code = code_of(&msg);
    Diagnostic::error(span, msg).with_code(code).with_help(help)
}

/// The kind of a serde/TOML finding, from the start of its message.
fn code_of(msg: &str) -> Code {
    for (start, code) in [
        ("unknown field", Code::UnknownKey),
        ("missing field", Code::MissingKey),
        ("invalid type", Code::WrongType),
        ("invalid length", Code::WrongType),
        ("unknown variant", Code::UnknownVariant),
        ("invalid value", Code::InvalidValue),
    ] {
        if msg.starts_with(start) {
            return code;
        }
    }
    Code::TomlSyntax
}

/// A backslash in a double-quoted (basic) string starts an escape sequence, so a Windows path
/// there is a syntax error: the fix is the same text in single quotes (a literal string), spelled
/// out for the line at `at` when it is `key = "value"` without a single quote in the value.
/// TOML v1.0.0, "String" (toml.io/en/v1.0.0#string; toml-lang/toml `toml-v1.0.0.md`): in basic
/// strings "All other escape sequences not listed above are reserved; if they are used, TOML
/// should produce an error", and literal strings in single quotes have "no escaping", with
/// `winpath = 'C:\Users\nodejs\templates'` as the spec's own example.
fn backslash_help(text: &str, at: usize) -> String {
    let general = "a backslash in a double-quoted string starts an escape sequence (\\n, \\t, …): write Windows paths in single quotes, which keep every backslash, e.g. `scripts_dir = '%SystemDrive%\\localscripts'`";
    let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    let Some((key, value)) = line.split_once('=') else {
        return general.into();
    };
    let value = value.trim();
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if !inner.contains(['\'', '"']) => format!(
            "a backslash in a double-quoted string starts an escape sequence: write the path in single quotes, which keep every backslash: `{} = '{inner}'`",
            key.trim()
        ),
        _ => general.into(),
    }
}

/// The first line with many nesting characters (`[`, `{`, `.`), as a span of its first character.
fn deeply_nested_line(text: &str) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line
            .bytes()
            .filter(|b| matches!(b, b'[' | b'{' | b'.'))
            .count()
            >= 64
        {
            return Some(start..start + 1);
        }
        start += line.len();
    }
    (!text.is_empty()).then_some(0..1)
}
