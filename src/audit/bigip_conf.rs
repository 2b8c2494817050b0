//! BIG-IP configuration text: `bigip.conf` as `tmsh save sys config` writes it, the output of
//! `tmsh list ltm …`, and our merge file — one grammar (F5's "tmsh reference", and real saved
//! files such as corkscrew's tests/archive_generator/archive1/config/bigip.conf written by TMOS
//! 15.1, see /work/shared/research/f5_sql_formats.md §1): `module type [subtype] name {` blocks
//! of `key value` lines and nested `{ }` blocks, `"…"` strings with backslash escapes, `#`
//! comments, and `ltm rule name { … }` whose body is raw Tcl up to the brace that balances the
//! opening one. `tmsh list` run inside a folder prints names relative to it (`pool web` for
//! `/Common/web`): every name is made absolute with the partition before comparing.
//!
//! Each `ltm` object becomes a [`Found`] whose fields are the flattened keys (`members./Common/a:80.priority-group`),
//! plus list fields that are compared as a whole: `members`, `monitor` (the `and` terms sorted),
//! `rules`, `persist` and `profiles` (empty when the object has none, so an added persistence
//! profile or iRule is a difference).

use super::compare::Found;
use super::input::{Input, ParseError};

#[derive(Debug)]
enum Tok {
    Word(String),
    Open,
    Close,
    Newline,
    /// A rule body (raw text between the braces).
    Body(String),
}

/// The `ltm` objects of a configuration text; `partition` qualifies relative names.
pub fn parse(input: &Input, partition: &str) -> Result<Vec<Found>, ParseError> {
    let toks = tokenize(input)?;
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < toks.len() {
        let (at, tok) = &toks[pos];
        match tok {
            Tok::Newline => pos += 1,
            Tok::Word(_) => {
                let (words, block, next) = statement(input, &toks, pos)?;
                pos = next;
                if words.first().map(String::as_str) == Some("ltm") {
                    out.push(object(&words, block, partition, input, *at)?);
                }
            }
            _ => {
                return Err(bad(
                    input,
                    *at,
                    "a brace where a configuration object should start",
                ));
            }
        }
    }
    Ok(out)
}

/// A block's entries: the words of each line and its nested block, if any.
#[derive(Debug, Default)]
struct Block {
    entries: Vec<(Vec<String>, Option<Block>)>,
    body: Option<String>,
}

/// Words up to the end of the line, or up to a block (parsed); returns the next position.
fn statement(
    input: &Input,
    toks: &[(usize, Tok)],
    mut pos: usize,
) -> Result<(Vec<String>, Option<Block>, usize), ParseError> {
    let mut words = Vec::new();
    while let Some((at, tok)) = toks.get(pos) {
        match tok {
            Tok::Word(w) => {
                words.push(w.clone());
                pos += 1;
            }
            Tok::Newline => return Ok((words, None, pos + 1)),
            Tok::Body(b) => {
                let block = Block {
                    body: Some(b.clone()),
                    ..Block::default()
                };
                return Ok((words, Some(block), pos + 1));
            }
            Tok::Open => {
                let (block, next) = block(input, toks, pos + 1)?;
                return Ok((words, Some(block), next));
            }
            Tok::Close => {
                let _ = at;
                return Ok((words, None, pos));
            }
        }
    }
    Ok((words, None, pos))
}

fn block(
    input: &Input,
    toks: &[(usize, Tok)],
    mut pos: usize,
) -> Result<(Block, usize), ParseError> {
    let mut b = Block::default();
    let start = toks.get(pos.saturating_sub(1)).map(|t| t.0).unwrap_or(0);
    loop {
        match toks.get(pos) {
            None => {
                return Err(bad(
                    input,
                    start,
                    "a block that is never closed (the file was cut short)",
                ));
            }
            Some((_, Tok::Close)) => return Ok((b, pos + 1)),
            Some((_, Tok::Newline)) => pos += 1,
            Some(_) => {
                let (words, inner, next) = statement(input, toks, pos)?;
                if next == pos {
                    return Err(bad(input, toks[pos].0, "unexpected text in a block"));
                }
                pos = next;
                if !words.is_empty() || inner.is_some() {
                    b.entries.push((words, inner));
                }
            }
        }
    }
}

fn tokenize(input: &Input) -> Result<Vec<(usize, Tok)>, ParseError> {
    let text = &input.text;
    let bytes = text.as_bytes();
    let mut toks: Vec<(usize, Tok)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                toks.push((i, Tok::Newline));
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' if at_line_start(bytes, i) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => {
                if is_rule_header(&toks) {
                    let (body, next) = raw_body(input, i)?;
                    toks.push((i, Tok::Body(body)));
                    i = next;
                } else {
                    toks.push((i, Tok::Open));
                    i += 1;
                }
            }
            b'}' => {
                toks.push((i, Tok::Close));
                i += 1;
            }
            b'"' => {
                let (word, next) = quoted(input, i)?;
                toks.push((i, Tok::Word(word)));
                i = next;
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'}')
                {
                    i += 1;
                }
                toks.push((start, Tok::Word(text[start..i].to_string())));
            }
        }
    }
    Ok(toks)
}

fn at_line_start(bytes: &[u8], i: usize) -> bool {
    bytes[..i]
        .iter()
        .rev()
        .take_while(|&&b| b != b'\n')
        .all(|&b| b == b' ' || b == b'\t')
}

/// `ltm rule NAME {` (the last words since the previous line end).
fn is_rule_header(toks: &[(usize, Tok)]) -> bool {
    let line: Vec<&str> = toks
        .iter()
        .rev()
        .take_while(|(_, t)| !matches!(t, Tok::Newline | Tok::Open | Tok::Close | Tok::Body(_)))
        .filter_map(|(_, t)| match t {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    matches!(line.as_slice(), [_, "rule", "ltm"])
}

/// The text between the brace at `open` and the brace that balances it (backslash-escaped braces
/// do not count, as in Tcl).
fn raw_body(input: &Input, open: usize) -> Result<(String, usize), ParseError> {
    let bytes = input.text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((input.text[open + 1..i].to_string(), i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(bad(
        input,
        open,
        "an iRule body whose braces never balance (the file was cut short)",
    ))
}

fn quoted(input: &Input, start: usize) -> Result<(String, usize), ParseError> {
    let text = &input.text;
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + off + 1)),
            '\\' => {
                out.push('\\');
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            '\n' => break,
            c => out.push(c),
        }
    }
    Err(bad(
        input,
        start,
        "a quoted string that is not closed on its line",
    ))
}

fn bad(input: &Input, at: usize, what: &str) -> ParseError {
    ParseError::new(
        input,
        Some(at),
        format!("not BIG-IP configuration text: {what}"),
        "collect again (tmsh list, or copy /config/bigip.conf) and copy the file whole",
    )
}

/// A name made absolute: `web` → `/Common/web`.
fn qualify(name: &str, partition: &str) -> String {
    if name.starts_with('/') || name.is_empty() {
        name.to_string()
    } else {
        format!("/{partition}/{name}")
    }
}

const LISTS: &[&str] = &["members", "rules", "persist", "profiles"];

fn object(
    words: &[String],
    block: Option<Block>,
    partition: &str,
    input: &Input,
    at: usize,
) -> Result<Found, ParseError> {
    let Some((name, kind_words)) = words.split_last() else {
        return Err(bad(input, at, "an object without a name"));
    };
    let kind = kind_words.join(" ");
    let mut found = Found::new(&kind, qualify(name, partition));
    let block = block.unwrap_or_default();
    if let Some(body) = &block.body {
        found.fields.insert("body".into(), body.clone());
        return Ok(found);
    }
    if kind == "ltm pool" {
        found.fields.insert("members".into(), String::new());
        found.fields.insert("monitor".into(), String::new());
    }
    if kind == "ltm virtual" {
        for l in ["rules", "persist", "profiles"] {
            found.fields.insert(l.into(), String::new());
        }
    }
    for (words, inner) in &block.entries {
        flatten(&kind, words, inner.as_ref(), partition, &mut found);
    }
    Ok(found)
}

fn flatten(
    kind: &str,
    words: &[String],
    inner: Option<&Block>,
    partition: &str,
    found: &mut Found,
) {
    let Some((key, rest)) = words.split_first() else {
        return;
    };
    if let Some(b) = inner {
        if LISTS.contains(&key.as_str()) {
            let mut names: Vec<String> = b
                .entries
                .iter()
                .filter_map(|(w, _)| w.first().map(|n| qualify(n, partition)))
                .collect();
            names.sort();
            found.fields.insert(key.clone(), names.join(", "));
            if key == "members" {
                for (w, member) in &b.entries {
                    let (Some(n), Some(m)) = (w.first(), member) else {
                        continue;
                    };
                    for (mw, _) in &m.entries {
                        if let Some((k, v)) = mw.split_first() {
                            let field = format!("members.{}.{k}", qualify(n, partition));
                            found.fields.insert(field, v.join(" "));
                        }
                    }
                }
            }
            return;
        }
        for (w, i) in &b.entries {
            let mut path = vec![key.clone()];
            path.extend(w.iter().cloned());
            flatten(kind, &path, i.as_ref(), partition, found);
        }
        return;
    }
    let value = match key.as_str() {
        "monitor" => monitor_rule(rest, partition),
        "pool" | "defaults-from" => rest
            .iter()
            .map(|w| qualify(w, partition))
            .collect::<Vec<_>>()
            .join(" "),
        "destination" if kind == "ltm virtual" => rest
            .iter()
            .map(|w| qualify(w, partition))
            .collect::<Vec<_>>()
            .join(" "),
        _ => rest.join(" "),
    };
    found.fields.insert(key.clone(), value);
}

/// `a and c and b` → `a and b and c` (names qualified); other forms (`min 1 of { … }`) as written.
fn monitor_rule(words: &[String], partition: &str) -> String {
    if words.iter().all(|w| w == "and" || !w.contains(['{', '}']))
        && !words.iter().any(|w| w == "min")
    {
        let mut names: Vec<String> = words
            .iter()
            .filter(|w| *w != "and")
            .map(|w| qualify(w, partition))
            .collect();
        names.sort();
        names.join(" and ")
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_names_read_alike() {
        let saved = Input {
            file: "bigip.conf".into(),
            text: "ltm pool /Common/p {\n    members {\n        /Common/a:80 {\n            address 10.0.0.1\n            priority-group 2\n        }\n    }\n    monitor /Common/m2 and /Common/m1\n}\nltm rule /Common/r {\nwhen HTTP_REQUEST { pool p }\n}\n".into(),
        };
        let listed = Input {
            file: "Common.conf".into(),
            text: "ltm pool p {\n    members {\n        a:80 {\n            address 10.0.0.1\n            priority-group 2\n        }\n    }\n    monitor m1 and m2\n}\n".into(),
        };
        let a = parse(&saved, "Common").unwrap();
        let b = parse(&listed, "Common").unwrap();
        assert_eq!(a[0].fields, b[0].fields);
        assert_eq!(a[0].fields["members./Common/a:80.priority-group"], "2");
        assert_eq!(a[1].fields["body"].trim(), "when HTTP_REQUEST { pool p }");
        let cut = Input {
            file: "x".into(),
            text: "ltm pool /Common/p {\n    members {\n".into(),
        };
        assert!(parse(&cut, "Common").is_err());
    }
}
