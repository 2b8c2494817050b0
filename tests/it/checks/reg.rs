//! Registry Editor 5.00 files (`.reg`), as regedit imports them: UTF-16LE with a byte order
//! mark, first line `Windows Registry Editor Version 5.00`, CRLF only, and the last line ends
//! with CRLF (regedit may drop an unterminated last line). Every other non-blank line is a key
//! `[HKEY_...\...]` (or `[-HKEY...]` to delete it), a value `"name"=...` / `@=...` whose data is
//! a "string" (only `\\` and `\"` escapes), `dword:` and 8 hex digits, `hex[(n)]:` bytes
//! (continued with `,\`), or `-`; or a `;` comment.
//!
//! Marker rule (hostile-values test): the marker may stand inside a quoted value name or string
//! data, or in a comment; never in a key or anywhere else.

const HEADER: &str = "Windows Registry Editor Version 5.00";
const ROOTS: [&str; 5] = [
    "HKEY_LOCAL_MACHINE",
    "HKEY_CURRENT_USER",
    "HKEY_CLASSES_ROOT",
    "HKEY_USERS",
    "HKEY_CURRENT_CONFIG",
];

/// The errors of one `.reg` file (empty: valid), each `line[:col]: message` where located.
pub fn check(data: &[u8], marker: Option<&str>) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(body) = data.strip_prefix(b"\xff\xfe") else {
        errs.push("must start with a UTF-16LE byte order mark (FF FE)".to_string());
        return errs;
    };
    let Some(text) = decode_utf16le(body) else {
        errs.push("invalid UTF-16LE".to_string());
        return errs;
    };
    if let Some((line, what)) = first_bad_line_ending(&text) {
        errs.push(format!(
            "{line}: .reg files must use CRLF line endings: {what}"
        ));
    }
    if !text.ends_with('\n') {
        errs.push("the last line must end with a line break".to_string());
    }
    let joined = text.replace("\r\n", "\n");
    let lines: Vec<&str> = joined.split('\n').collect();
    if lines[0] != HEADER {
        let first: String = lines[0].chars().take(50).collect();
        errs.push(format!("1: first line must be '{HEADER}', not {first:?}"));
    }
    let mut continuation = false;
    for (i, line) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        let mut data_spans: Vec<(usize, usize)> = Vec::new();
        if continuation {
            if !hex_continuation_ok(line) {
                errs.push(format!("{n}: bad hex continuation line"));
            }
            continuation = line.ends_with('\\');
            data_spans.push((0, line.len()));
        } else if line.trim().is_empty() {
            continue;
        } else if line.starts_with(';') {
            data_spans.push((0, line.len()));
        } else if line.starts_with('[') {
            if !key_ok(line) {
                errs.push(format!("{n}: malformed key line {:?}", head(line)));
            }
        } else {
            match value_line(line) {
                None => errs.push(format!("{n}: malformed value line {:?}", head(line))),
                Some((name_end, data)) => {
                    continuation = data.starts_with("hex") && line.ends_with('\\');
                    data_spans.push((0, name_end));
                    if data.starts_with('"') {
                        data_spans.push((name_end + 1, line.len()));
                    }
                }
            }
        }
        if let Some(m) = marker {
            for (ms, _) in line.match_indices(m) {
                let me = ms + m.len();
                if !data_spans.iter().any(|&(s, e)| s <= ms && me <= e) {
                    let col = line[..ms].chars().count() + 1;
                    errs.push(format!(
                        "{n}:{col}: marker outside a quoted value name/string or comment"
                    ));
                }
            }
        }
    }
    errs
}

fn head(line: &str) -> String {
    line.chars().take(60).collect()
}

fn decode_utf16le(body: &[u8]) -> Option<String> {
    if body.len() % 2 != 0 {
        return None;
    }
    let units = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// The 1-based line of the first LF without CR or CR without LF, and which it is.
fn first_bad_line_ending(text: &str) -> Option<(usize, &'static str)> {
    let b = text.as_bytes();
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                line += 1;
                i += 2;
                continue;
            }
            b'\r' => return Some((line, "CR without LF")),
            b'\n' => return Some((line, "LF without CR")),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `[` `-`? ROOT (`\` subkey)* `]`, a subkey being one or more characters other than `\` and `]`.
fn key_ok(line: &str) -> bool {
    let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
        return false;
    };
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let mut parts = inner.split('\\');
    let root = parts.next().unwrap_or_default();
    ROOTS.contains(&root) && parts.all(|p| !p.is_empty() && !p.contains([']', '\r', '\n']))
}

/// A `"..."` string at the start of `s` with only `\\` and `\"` escapes: its length in bytes.
fn quoted_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut j = 1;
    loop {
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => match *b.get(j + 1)? {
                b'\\' | b'"' => j += 2,
                _ => return None,
            },
            _ => j += 1,
        }
    }
}

/// A value line `NAME=DATA`: the end of NAME and the DATA text, when both are well formed.
fn value_line(line: &str) -> Option<(usize, &str)> {
    let name_end = if line.starts_with('@') {
        1
    } else {
        quoted_len(line)?
    };
    let data = line[name_end..].strip_prefix('=')?;
    data_ok(data).then_some((name_end, data))
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `hh(,hh)*,?`: one or more two-digit hex bytes, with an optional trailing comma.
fn hex_bytes(s: &str) -> bool {
    let s = s.strip_suffix(',').unwrap_or(s);
    !s.is_empty() && s.split(',').all(|h| h.len() == 2 && is_hex(h))
}

fn data_ok(d: &str) -> bool {
    if d == "-" {
        return true;
    }
    if d.starts_with('"') {
        return quoted_len(d) == Some(d.len());
    }
    if let Some(h) = d.strip_prefix("dword:") {
        return h.len() == 8 && is_hex(h);
    }
    if let Some(rest) = d.strip_prefix("hex") {
        let rest = match rest.strip_prefix('(') {
            Some(r) => match r.split_once(')') {
                Some((kind, after)) if is_hex(kind) => after,
                _ => return false,
            },
            None => rest,
        };
        let Some(bytes) = rest.strip_prefix(':') else {
            return false;
        };
        let bytes = bytes.strip_suffix('\\').unwrap_or(bytes);
        return bytes.is_empty() || hex_bytes(bytes);
    }
    false
}

/// A continuation of hex data: leading blanks, bytes, an optional final `\`.
fn hex_continuation_ok(line: &str) -> bool {
    let rest = line.trim_start();
    if rest.len() == line.len() {
        return false;
    }
    let rest = rest.strip_suffix('\\').unwrap_or(rest);
    hex_bytes(rest)
}

#[cfg(test)]
mod tests {
    use super::check;

    /// A good file; `PLACE` is where the cases put the marker.
    const REG: &str = "Windows Registry Editor Version 5.00\n\
        \n\
        ; SQL alias (PLACE)\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSSQLServer\\Client\\ConnectTo]\n\
        \"SPSQL\"=\"DBMSSOCN,sql1.example.local,1433\"\n\
        \"Escaped\"=\"a \\\\ b \\\"PLACE\\\"\"\n\
        \n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU]\n\
        \"RebootWarningTimeoutEnabled\"=dword:00000001\n\
        \"RebootWarningTimeout\"=dword:00000005\n";

    fn crlf(s: &str) -> String {
        s.replace("\r\n", "\n").replace('\n', "\r\n")
    }

    fn utf16(s: &str) -> Vec<u8> {
        let mut v = vec![0xff, 0xfe];
        v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        v
    }

    fn good() -> String {
        crlf(REG)
    }

    /// Asserts the file is rejected with an error containing `expect`.
    fn rejects(data: &[u8], marker: Option<&str>, expect: &str) {
        let errs = check(data, marker);
        assert!(
            errs.iter().any(|e| e.contains(expect)),
            "expected an error containing {expect:?}, got {errs:?}"
        );
    }

    #[test]
    fn good_file_passes() {
        assert_eq!(check(&utf16(&good()), None), Vec::<String>::new());
    }

    #[test]
    fn delete_key_delete_value_and_hex_data_pass() {
        let text = good()
            + "[-HKEY_CURRENT_USER\\Software\\Old]\r\n\
               [HKEY_CURRENT_USER\\Software\\New]\r\n\
               \"Gone\"=-\r\n\
               @=\"default\"\r\n\
               \"Bin\"=hex:01,02,\\\r\n  03,04\r\n\
               \"Multi\"=hex(7):41,00,00,00\r\n";
        assert_eq!(check(&utf16(&text), None), Vec::<String>::new());
    }

    #[test]
    fn without_bom_fails() {
        let no_bom: Vec<u8> = good()
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        rejects(&no_bom, None, "byte order mark");
    }

    #[test]
    fn utf8_fails() {
        rejects(good().as_bytes(), None, "byte order mark");
    }

    #[test]
    fn lf_endings_fail() {
        rejects(&utf16(REG), None, "CRLF");
    }

    #[test]
    fn unterminated_last_line_fails() {
        let text = good();
        rejects(
            &utf16(text.trim_end()),
            None,
            "the last line must end with a line break",
        );
    }

    #[test]
    fn bad_escape_in_string_fails() {
        rejects(
            &utf16(&good().replace("a \\\\ b", "a \\q b")),
            None,
            "malformed value",
        );
    }

    #[test]
    fn bad_dword_fails() {
        rejects(
            &utf16(&good().replace("dword:00000005", "dword:5")),
            None,
            "malformed value",
        );
    }

    #[test]
    fn wrong_header_fails() {
        rejects(&utf16(&good().replace("5.00", "5")), None, "first line");
    }

    #[test]
    fn bad_key_and_hex_continuation_fail() {
        rejects(
            &utf16(&good().replace("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies", "[HKLM\\SOFTWARE")),
            None,
            "malformed key",
        );
        rejects(
            &utf16(&(good() + "\"Bin\"=hex:01,\\\r\n  0x\r\n")),
            None,
            "bad hex continuation",
        );
    }

    #[test]
    fn marker_in_string_data_and_comment_passes() {
        let text = good().replace("PLACE", "MARKER");
        assert_eq!(check(&utf16(&text), Some("MARKER")), Vec::<String>::new());
    }

    #[test]
    fn marker_in_key_fails() {
        let text = good().replace("ConnectTo]", "ConnectTo\\MARKER]");
        rejects(&utf16(&text), Some("MARKER"), "marker outside");
    }

    #[test]
    fn marker_in_dword_line_fails() {
        let text = good() + "MARKER=dword:00000001\r\n";
        rejects(&utf16(&text), Some("MARKER"), "marker outside");
    }
}
