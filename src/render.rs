//! The template environment: templates embedded from `templates/`, one syntax for every target
//! language, strict undefined values, and a formatter that refuses to print a string that has not
//! been through an escaping filter.
//!
//! Syntax: `[[ value | filter ]]` prints, `[% if … %]` controls, `[# … #]` comments. These clash with
//! none of the target languages' own `{ }`, `$( )`, `%x%` or `{{` forms.

use std::sync::OnceLock;

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, syntax::SyntaxConfig};

use crate::escape;

fn make_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .block_delimiters("[%", "%]")
            .variable_delimiters("[[", "]]")
            .comment_delimiters("[#", "#]")
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("static syntax config"),
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_formatter(|out, _state, value| {
        let printable =
            value.is_safe() || matches!(value.kind(), ValueKind::Number | ValueKind::Bool);
        if !printable {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "refusing to print {value:?} without an escaping filter (use one of: {})",
                    escape::FILTERS.join(", ")
                ),
            ));
        }
        write!(out, "{value}").map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
    });
    for name in escape::FILTERS {
        let f = escape::by_name(name).expect("every listed filter exists");
        let name_owned = name.to_string();
        env.add_filter(*name, move |v: Value| -> Result<Value, Error> {
            let s = match v.as_str() {
                Some(s) => s.to_string(),
                None if matches!(v.kind(), ValueKind::Number) => v.to_string(),
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("filter {name_owned} expects a string, got {v:?}"),
                    ));
                }
            };
            f(&s).map(Value::from_safe_string).map_err(|why| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{name_owned}: {why}: {s:?}"),
                )
            })
        });
    }
    // A value built by Rust code from already-escaped parts (e.g. an iRule embedded in a tmsh file).
    // Grep for `trusted` when reviewing: every use must be justified where it is built.
    env.add_filter("trusted", |v: Value| -> Result<Value, Error> {
        match v.as_str() {
            Some(s) => Ok(Value::from_safe_string(s.to_string())),
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                "trusted expects a string",
            )),
        }
    });
    // Template assertions: `[% if x %][[ raise("why") ]][% endif %]`.
    env.add_function("raise", |msg: String| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    minijinja_embed::load_templates!(&mut env);
    env
}

/// The process-wide environment (templates are parsed once).
pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(make_env)
}

/// Renders a template with a serializable context. Errors are internal errors (a template bug, or a
/// value that escaped validation): the message names the template and the cause.
pub fn render<S: serde::Serialize>(template: &str, ctx: &S) -> Result<String, crate::Error> {
    let tmpl = env()
        .get_template(template)
        .map_err(|e| crate::Error::template(template, None, e))?;
    tmpl.render(Value::from(minijinja::value::Serde(ctx)))
        .map_err(|e| crate::Error::template(template, None, e))
}

/// Renders one `[% block NAME %]` of a template (a family's checklist step, prerequisite, …), with
/// the same escaping discipline as a whole template.
pub fn render_block<S: serde::Serialize>(
    template: &str,
    block: &str,
    ctx: &S,
) -> Result<String, crate::Error> {
    let err = |e: Error| crate::Error::template(template, Some(block), e);
    let tmpl = env().get_template(template).map_err(err)?;
    let mut captured = tmpl
        .render_captured(Value::from(minijinja::value::Serde(ctx)))
        .map_err(err)?;
    captured
        .with_state_mut(|state| state.render_block(block))
        .map_err(err)
}

/// The anchor GitHub and GitLab give a Markdown heading: lower case, punctuation other than `-`
/// and `_` dropped, spaces as `-`.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Names of every embedded template.
pub fn template_names() -> Vec<String> {
    let mut v: Vec<String> = env().templates().map(|(n, _)| n.to_string()).collect();
    v.sort();
    v
}

/// Server names in the site's order, written short: runs of names that differ only in a trailing
/// number counting up by one (`web01`, `web02`, `web03`, same width) become `web01{dash}web03`
/// (`–` in Markdown, `..` where only ASCII may go); the rest are listed as they are, joined with
/// `, `.
pub fn name_ranges(names: &[&str], dash: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        let mut j = i;
        while j + 1 < names.len() && follows(names[j], names[j + 1]) {
            j += 1;
        }
        parts.push(match j - i {
            0 => names[i].to_string(),
            1 => format!("{}, {}", names[i], names[j]),
            _ => format!("{}{dash}{}", names[i], names[j]),
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Whether `b` is `a` with its trailing number one higher, at the same width (`web09`, `web10`).
fn follows(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        (s.len() - digits, digits)
    };
    let ((sa, da), (sb, db)) = (split(a), split(b));
    if da == 0 || da != db || a[..sa] != b[..sb] {
        return false;
    }
    match (a[sa..].parse::<u64>(), b[sb..].parse::<u64>()) {
        (Ok(x), Ok(y)) => y == x + 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaped_strings_are_refused() {
        let env = env();
        let e = env
            .render_str("[[ x ]]", minijinja::context! { x => "a" })
            .unwrap_err();
        assert!(e.to_string().contains("without an escaping filter"), "{e}");
        assert_eq!(
            env.render_str("[[ x | tsql_str ]]", minijinja::context! { x => "a'b" })
                .unwrap(),
            "N'a''b'"
        );
        assert_eq!(
            env.render_str("[[ n ]]", minijinja::context! { n => 5 })
                .unwrap(),
            "5"
        );
    }

    #[test]
    fn undefined_is_an_error() {
        assert!(env().render_str("[[ nope | xml ]]", ()).is_err());
    }

    #[test]
    fn unsafe_value_fails_render() {
        let e = env()
            .render_str("[[ x | cmd_arg ]]", minijinja::context! { x => "a&b" })
            .unwrap_err();
        assert!(e.to_string().contains("cmd.exe"), "{e}");
    }

    #[test]
    fn raise_aborts() {
        assert!(env().render_str("[[ raise('boom') ]]", ()).is_err());
    }

    #[test]
    fn name_ranges_shorten_numbered_runs() {
        use super::name_ranges;
        assert_eq!(
            name_ranges(&["web01", "web02", "web03", "app1"], "–"),
            "web01–web03, app1"
        );
        assert_eq!(name_ranges(&["web09", "web10"], "–"), "web09, web10");
        assert_eq!(name_ranges(&["a1", "a2", "a4"], "–"), "a1, a2, a4");
        assert_eq!(
            name_ranges(&["web9", "web10", "web11"], "–"),
            "web9, web10, web11"
        );
        assert_eq!(name_ranges(&["x"], "–"), "x");
        assert_eq!(name_ranges(&[], "–"), "");
    }
}
