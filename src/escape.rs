//! Escaping for every language a generated file is written in.
//!
//! Each function either returns the value quoted/escaped for its language, or an [`Unsafe`] reason
//! when no escaping can make it safe there. The resolve step calls the same functions to reject such
//! values with a located error, and the template filters call them again at render time, so a value
//! that slipped past validation still cannot become code (the render fails instead).

use std::fmt;

/// Why a value cannot be written safely in a language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe(pub String);

impl fmt::Display for Unsafe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type R = Result<String, Unsafe>;

fn describe(c: char) -> String {
    match c {
        '\n' => "a line break".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        '\0' => "a NUL character".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

fn reject_controls(s: &str, lang: &str) -> Result<(), Unsafe> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(Unsafe(format!("{} cannot appear in {lang}", describe(c))));
    }
    Ok(())
}

/// sqlcmd substitutes `$(name)` anywhere in a script, string literals included, and treats a line
/// that starts with `:` or is `GO` as its own command. Values in .sql files must avoid both.
fn reject_sqlcmd(s: &str) -> Result<(), Unsafe> {
    if s.contains("$(") {
        return Err(Unsafe(
            "`$(` would be expanded by sqlcmd as a scripting variable".into(),
        ));
    }
    reject_controls(
        s,
        "a T-SQL script run by sqlcmd (a line break could start a `GO` or `:` command)",
    )
}

/// T-SQL delimited identifier: `[name]` with `]` doubled. At most 128 characters (sysname).
pub fn tsql_ident(s: &str) -> R {
    if s.is_empty() {
        return Err(Unsafe("an identifier cannot be empty".into()));
    }
    if s.chars().count() > 128 {
        return Err(Unsafe(
            "SQL Server identifiers are at most 128 characters (sysname)".into(),
        ));
    }
    reject_sqlcmd(s)?;
    Ok(format!("[{}]", s.replace(']', "]]")))
}

/// T-SQL Unicode string literal: `N'…'` with `'` doubled.
pub fn tsql_str(s: &str) -> R {
    reject_sqlcmd(s)?;
    Ok(format!("N'{}'", s.replace('\'', "''")))
}

/// A multi-line T-SQL text (a job step's command) as one `N'…'` literal with `'` doubled. sqlcmd
/// would still act on a `GO` line, a line starting with `:` or `!!`, or `$(` inside the literal,
/// and SQL Server Agent would replace `$(…)` tokens in a job step, so those are rejected; line
/// breaks are kept (Agent shows the step as written). Other control characters are rejected.
pub fn tsql_text(s: &str) -> R {
    if s.contains("$(") {
        return Err(Unsafe(
            "`$(` would be expanded by sqlcmd (and by SQL Server Agent in a job step)".into(),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\r')
    {
        return Err(Unsafe(format!(
            "{} cannot appear in a T-SQL script run by sqlcmd",
            describe(c)
        )));
    }
    for line in s.lines() {
        let t = line.trim_start();
        let word = t.trim_end();
        if t.starts_with(':') || t.starts_with("!!") {
            return Err(Unsafe(format!(
                "the line `{word}` would be read by sqlcmd as one of its commands"
            )));
        }
        let go = word.split_whitespace().collect::<Vec<_>>();
        if go.first().is_some_and(|w| w.eq_ignore_ascii_case("go"))
            && (go.len() == 1 || (go.len() == 2 && go[1].chars().all(|c| c.is_ascii_digit())))
        {
            return Err(Unsafe(format!(
                "the line `{word}` would end the batch in sqlcmd"
            )));
        }
    }
    Ok(format!("N'{}'", s.replace('\'', "''")))
}

/// XML character data or attribute value (both quote styles), for XML 1.0.
pub fn xml(s: &str) -> R {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(Unsafe(format!("{} is not allowed in XML 1.0", describe(c))));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// An XML CDATA section, markers included: `<![CDATA[…]]>`. A `]]>` inside the value is split
/// across two sections (`]]` + `>`), the standard escape; characters XML 1.0 forbids are rejected.
/// Used where Microsoft's own files hold CDATA (GPO backups), so the bytes look like theirs.
pub fn xml_cdata(s: &str) -> R {
    if let Some(c) = s
        .chars()
        .find(|&c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(Unsafe(format!(
            "{} cannot appear in this XML field",
            describe(c)
        )));
    }
    Ok(format!(
        "<![CDATA[{}]]>",
        s.replace("]]>", "]]]]><![CDATA[>")
    ))
}

/// A Tcl word in double quotes, every substitution character backslash-escaped.
pub fn tcl_word(s: &str) -> R {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' | '$' | '[' | ']' | '"' | '{' | '}' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                return Err(Unsafe(format!(
                    "{} is not allowed in a Tcl word here",
                    describe(c)
                )));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// PowerShell single-quoted (verbatim) string. PowerShell also treats the typographic quotes
/// U+2018..U+201B as single quotes, so they are doubled too.
pub fn ps_str(s: &str) -> R {
    if s.contains('\0') {
        return Err(Unsafe(
            "a NUL character cannot appear in a PowerShell string".into(),
        ));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
}

/// A PowerShell single-quoted string on one line (a command of the runbook, typed at a prompt):
/// as [`ps_str`], and no control character (a line break would end the command).
pub fn ps_line(s: &str) -> R {
    reject_controls(s, "a one-line PowerShell command")?;
    ps_str(s)
}

/// A PowerShell string as an ASCII-only expression, for scripts written without a byte order
/// mark (Windows PowerShell reads those as ANSI): printable ASCII stays in single-quoted
/// literals (quotes doubled, as in [`ps_str`]), every other UTF-16 unit becomes `[char]0xXXXX`,
/// all joined with `+` inside parentheses: `('caf' + [char]0x00E9)`.
pub fn ps_ascii(s: &str) -> R {
    if s.contains('\0') {
        return Err(Unsafe(
            "a NUL character cannot appear in a PowerShell string".into(),
        ));
    }
    let mut parts: Vec<String> = Vec::new();
    let mut lit = String::new();
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            if c == '\'' {
                lit.push('\'');
            }
            lit.push(c);
            continue;
        }
        if !lit.is_empty() {
            parts.push(format!("'{lit}'"));
            lit.clear();
        }
        let mut units = [0u16; 2];
        for u in c.encode_utf16(&mut units) {
            parts.push(format!("[char]0x{u:04X}"));
        }
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(format!("'{lit}'"));
    }
    Ok(format!("({})", parts.join(" + ")))
}

/// VBScript string literal: `"…"` with `"` doubled; literals cannot span lines.
pub fn vbs_str(s: &str) -> R {
    reject_controls(s, "a VBScript string literal")?;
    Ok(format!("\"{}\"", s.replace('"', "\"\"")))
}

/// A VBScript string *expression*: ASCII text in `"…"` literals (`"` doubled), every other
/// character as `ChrW(n)` (UTF-16 code units, so characters outside the BMP become surrogate
/// pairs). cscript reads a .vbs file without a BOM in the ANSI code page, so non-ASCII characters
/// in a literal would arrive garbled; the file itself stays ASCII. Not a literal: usable wherever an
/// expression is (an assignment), not in `Const`. Control characters are rejected.
pub fn vbs_expr(s: &str) -> R {
    reject_controls(s, "a VBScript string")?;
    let mut parts: Vec<String> = Vec::new();
    let mut lit = String::new();
    for c in s.chars() {
        if c.is_ascii() {
            if c == '"' {
                lit.push('"');
            }
            lit.push(c);
        } else {
            if !lit.is_empty() {
                parts.push(format!("\"{lit}\""));
                lit.clear();
            }
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                parts.push(format!("ChrW({unit})"));
            }
        }
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(format!("\"{lit}\""));
    }
    Ok(parts.join(" & "))
}

/// A batch (cmd.exe) argument. Nothing can make `%`, `!`, `^`, `&`, `|`, `<`, `>` or `"` reliably
/// inert in every cmd.exe parsing phase, so they are rejected; the value is returned unquoted.
pub fn cmd_arg(s: &str) -> R {
    reject_controls(s, "a batch command line")?;
    if s.is_empty() {
        return Err(Unsafe(
            "an empty argument would vanish from a batch command line".into(),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| matches!(c, '%' | '!' | '^' | '&' | '|' | '<' | '>' | '"'))
    {
        return Err(Unsafe(format!(
            "{} has a special meaning to cmd.exe and cannot be escaped reliably",
            describe(c)
        )));
    }
    Ok(s.to_string())
}

/// A quoted argument on a `cmd.exe` command line (`"…"`, e.g. inside `cmd /c "…"`). Between quotes
/// cmd treats `&`, `|`, `<`, `>` and `^` literally; `"` cannot be written there and is rejected, and
/// `%` only stands in an environment variable reference `%NAME%` (which cmd expands, as intended
/// for folders like `%SystemDrive%\x`).
pub fn cmd_quoted(s: &str) -> R {
    reject_controls(s, "a batch command line")?;
    if s.contains('"') {
        return Err(Unsafe(
            "a double quote cannot be written inside a quoted cmd.exe argument".into(),
        ));
    }
    if s.contains('!') {
        return Err(Unsafe(
            "`!` is expanded by cmd.exe when delayed expansion is on".into(),
        ));
    }
    check_percent_vars(s)?;
    Ok(format!("\"{s}\""))
}

/// `%` only in `%NAME%` references (letters, digits, `_`).
fn check_percent_vars(s: &str) -> Result<(), Unsafe> {
    let mut parts = s.split('%');
    parts.next();
    loop {
        match (parts.next(), parts.next()) {
            (None, _) => return Ok(()),
            (Some(name), Some(_))
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {}
            _ => {
                return Err(Unsafe(
                    "`%` may only stand in an environment variable reference such as %SystemDrive%"
                        .into(),
                ));
            }
        }
    }
}

/// A quoted argument of a program started by Task Scheduler or `CreateProcess` (parsed with the
/// `CommandLineToArgvW` rules): `"…"`, with the backslashes before the closing quote doubled so it
/// stays a quote. `"` itself is rejected; `%NAME%` references are allowed (Task Scheduler expands
/// them), other `%` are not.
pub fn win_arg(s: &str) -> R {
    reject_controls(s, "a command line")?;
    if s.contains('"') {
        return Err(Unsafe(
            "a double quote cannot be written inside a quoted command-line argument".into(),
        ));
    }
    check_percent_vars(s)?;
    let trailing = s.len() - s.trim_end_matches('\\').len();
    Ok(format!("\"{s}{}\"", "\\".repeat(trailing)))
}

/// A command line written inside a quoted argument of another program (the `/tk "…"` of
/// `eventtriggers.exe`), returned without the outer quotes: its own quotes are written `\"`, as
/// the `CommandLineToArgvW` rules read them ("Parsing C++ command-line arguments", Microsoft
/// Learn: `\"` is a literal quote). A backslash right before a quote would be read as an escape
/// of its own, so it is rejected, as are control characters.
pub fn argv_inner(s: &str) -> R {
    reject_controls(s, "a command line")?;
    if s.contains("\\\"") {
        return Err(Unsafe(
            "a backslash before a double quote cannot be written inside a quoted argument".into(),
        ));
    }
    Ok(s.replace('"', "\\\""))
}

/// A string value of a `.reg` file (Registry Editor 5.00): `"…"` with `\` and `"` escaped by a
/// backslash; a line break cannot be written.
pub fn reg_str(s: &str) -> R {
    reject_controls(s, "a .reg file value")?;
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// A tmsh object name: letters, digits, `_`, `.`, `-`, starting with a letter, at most 63 characters
/// (the safe subset that tmsh accepts in every context without quoting).
pub fn tmsh_name(s: &str) -> R {
    let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !ok_start {
        return Err(Unsafe(
            "a BIG-IP object name must start with a letter".into(),
        ));
    }
    if s.len() > 63 {
        return Err(Unsafe(
            "a BIG-IP object name is limited here to 63 characters".into(),
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(Unsafe(format!(
            "{} is not allowed in a BIG-IP object name (use letters, digits, `_`, `.`, `-`)",
            describe(c)
        )));
    }
    Ok(s.to_string())
}

/// A tmsh double-quoted string (descriptions, monitor send/recv). Printable ASCII only; line breaks
/// and tabs become `\r`, `\n`, `\t` (tmsh keeps those escapes for monitor strings). Characters that
/// a tmsh or Tcl parser would interpret inside quotes (`"`, `\`, `$`, `[`, `]`, `{`, `}`) and the
/// backtick (AS3 expansion) are rejected rather than escaped: tmsh's own unescaping of them is not
/// documented.
pub fn tmsh_str(s: &str) -> R {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '"' | '\\' | '$' | '[' | ']' | '{' | '}' | '`' => {
                return Err(Unsafe(format!(
                    "{} cannot be written safely into a tmsh quoted string",
                    describe(c)
                )));
            }
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => {
                return Err(Unsafe(format!(
                    "{} is not printable ASCII, which tmsh strings here are limited to",
                    describe(c)
                )));
            }
        }
    }
    out.push('"');
    if s.len() > 1024 {
        return Err(Unsafe(
            "a tmsh string is limited here to 1024 characters".into(),
        ));
    }
    Ok(out)
}

/// An IP address as text (tmsh destinations, AS3 addresses): passes only what parses as one.
pub fn ip_addr(s: &str) -> R {
    match s.parse::<std::net::IpAddr>() {
        Ok(a) => Ok(a.to_string()),
        Err(_) => Err(Unsafe(format!("`{s}` is not an IP address"))),
    }
}

/// A literal `switch -glob` pattern as a Tcl word: glob metacharacters (`*`, `?`, `[`, `]`, `\`) are
/// backslash-escaped for the matcher, then the result is quoted by [`tcl_word`].
pub fn tcl_glob(s: &str) -> R {
    tcl_word(&glob_escape(s))
}

/// A `switch -glob` pattern matching everything below the literal path `s`: `s` escaped as in
/// [`tcl_glob`], followed by the wildcard `/*`.
pub fn tcl_glob_below(s: &str) -> R {
    tcl_word(&format!("{}/*", glob_escape(s)))
}

fn glob_escape(s: &str) -> String {
    let mut g = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            g.push('\\');
        }
        g.push(c);
    }
    g
}

/// One word of a POSIX shell command line (bash on the BIG-IP): single-quoted, a `'` written as
/// `'\''` (POSIX.1-2017 Shell Command Language 2.2.2: nothing is special inside single quotes
/// but the closing quote). Control characters are refused.
pub fn sh_word(s: &str) -> R {
    reject_controls(s, "a shell command shown in the runbook")?;
    Ok(format!("'{}'", s.replace('\'', "'\\''")))
}

/// A JSON string (quotes included).
pub fn json_str(s: &str) -> R {
    Ok(serde_json::to_string(s).expect("strings always serialize"))
}

/// Text in Markdown prose: characters with Markdown meaning are backslash-escaped, line breaks
/// become spaces, and raw HTML cannot start.
pub fn md(s: &str) -> R {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            // A backslash only escapes ASCII punctuation; elsewhere it is shown as is.
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push_str("\\\\")
            }
            '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                return Err(Unsafe(format!(
                    "{} cannot appear in the runbook",
                    describe(c)
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Text inside a Markdown code span or fenced code block line: no backticks, no line breaks.
pub fn md_code(s: &str) -> R {
    reject_controls(s, "a command shown in the runbook")?;
    if s.contains('`') {
        return Err(Unsafe(
            "a backtick cannot appear in a command shown in the runbook".into(),
        ));
    }
    Ok(s.to_string())
}

/// Text inside a quoted Mermaid label (`id["…"]` or `-->|"…"|`): the quote and the characters
/// Mermaid or its HTML labels give meaning to become entity codes (`"` → `#quot;`), line breaks
/// become spaces. The template writes the surrounding quotes.
pub fn mermaid(s: &str) -> R {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                return Err(Unsafe(format!(
                    "{} cannot appear in a diagram label",
                    describe(c)
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Looks a language up by the name templates use for its filter.
pub fn by_name(name: &str) -> Option<fn(&str) -> R> {
    Some(match name {
        "tsql_ident" => tsql_ident,
        "tsql_str" => tsql_str,
        "tsql_text" => tsql_text,
        "xml" => xml,
        "xml_cdata" => xml_cdata,
        "tcl_word" => tcl_word,
        "ps_str" => ps_str,
        "ps_ascii" => ps_ascii,
        "ps_line" => ps_line,
        "vbs_str" => vbs_str,
        "vbs_expr" => vbs_expr,
        "cmd_arg" => cmd_arg,
        "tmsh_name" => tmsh_name,
        "tmsh_str" => tmsh_str,
        "ip_addr" => ip_addr,
        "tcl_glob" => tcl_glob,
        "tcl_glob_below" => tcl_glob_below,
        "json_str" => json_str,
        "sh_word" => sh_word,
        "md" => md,
        "md_code" => md_code,
        "mermaid" => mermaid,
        _ => return None,
    })
}

/// Every filter name, for tests and for the template environment.
pub const FILTERS: &[&str] = &[
    "tsql_ident",
    "tsql_str",
    "tsql_text",
    "xml",
    "xml_cdata",
    "tcl_word",
    "ps_str",
    "ps_ascii",
    "ps_line",
    "vbs_str",
    "vbs_expr",
    "cmd_arg",
    "tmsh_name",
    "tmsh_str",
    "ip_addr",
    "tcl_glob",
    "tcl_glob_below",
    "json_str",
    "sh_word",
    "md",
    "md_code",
    "mermaid",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_line_is_ps_str_on_one_line() {
        assert_eq!(ps_line("it's").unwrap(), "'it''s'");
        assert_eq!(ps_line("$(x) %y%").unwrap(), "'$(x) %y%'");
        assert!(ps_line("a\nb").is_err());
        assert!(ps_line("a\0").is_err());
    }

    #[test]
    fn ps_ascii_spells_other_characters_as_char_codes() {
        assert_eq!(ps_ascii("it's").unwrap(), "('it''s')");
        assert_eq!(ps_ascii("café").unwrap(), "('caf' + [char]0x00E9)");
        assert_eq!(
            ps_ascii("\u{1E020}x").unwrap(),
            "([char]0xD838 + [char]0xDC20 + 'x')"
        );
        assert_eq!(ps_ascii("").unwrap(), "('')");
        assert!(ps_ascii("a\0").is_err());
        assert!(ps_ascii("ü’\n").unwrap().is_ascii());
    }

    fn hostile() -> Vec<String> {
        vec![
            "x'; DROP DATABASE y; --".into(),
            "a]b[c".into(),
            "$(evil)".into(),
            "100%".into(),
            "a&b|c<d>e".into(),
            "line1\nline2".into(),
            "quote\"d".into(),
            "ünïcødé ✓".into(),
            "{brace} [cmd] $var \\".into(),
            "‘smart’".into(),
            "x".repeat(300),
            "".into(),
            "nul\0".into(),
        ]
    }

    #[test]
    fn tsql_ident_quotes_or_rejects() {
        assert_eq!(tsql_ident("WSS_Content").unwrap(), "[WSS_Content]");
        assert_eq!(tsql_ident("a]b").unwrap(), "[a]]b]");
        assert!(tsql_ident("").is_err());
        assert!(tsql_ident(&"x".repeat(129)).is_err());
        assert!(tsql_ident(&"x".repeat(128)).is_ok());
        assert!(tsql_ident("$(x)").is_err());
        assert!(tsql_ident("a\nGO").is_err());
        for h in hostile() {
            if let Ok(q) = tsql_ident(&h) {
                let inner = &q[1..q.len() - 1];
                // No lone `]` may remain inside: every `]` is doubled.
                assert_eq!(inner.replace("]]", "").find(']'), None, "{q}");
            }
        }
    }

    #[test]
    fn tsql_str_doubles_quotes() {
        assert_eq!(
            tsql_str("x'; DROP DATABASE y; --").unwrap(),
            "N'x''; DROP DATABASE y; --'"
        );
        assert!(tsql_str("$(dbname)").is_err());
        assert!(tsql_str("a\r\nGO").is_err());
        assert_eq!(tsql_str("100% ünï").unwrap(), "N'100% ünï'");
    }

    #[test]
    fn tsql_text_keeps_lines_rejects_sqlcmd() {
        assert_eq!(
            tsql_text("PRINT N'a';\nPRINT 1;").unwrap(),
            "N'PRINT N''a'';\nPRINT 1;'"
        );
        for bad in [
            "SELECT 1;\nGO\nSELECT 2;",
            "x\n  go 5 \ny",
            ":r evil.sql",
            "a\n  :setvar x y",
            "a\n!!dir",
            "PRINT N'$(ESCAPE_SQUOTE(WMI(DatabaseName)))';",
            "a\u{0}b",
            "a\tb\u{1b}",
        ] {
            assert!(tsql_text(bad).is_err(), "{bad:?}");
        }
        // `GO` inside a line, or a word starting with go, is not a batch separator.
        assert!(tsql_text("GOTO done;\n-- go on\nSELECT N'GO';").is_ok());
    }

    #[test]
    fn xml_escapes_everything_markup() {
        assert_eq!(xml("a<b>&\"'").unwrap(), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml("a\nb").unwrap(), "a&#10;b");
        assert!(xml("nul\0").is_err());
        assert!(xml("\u{1}").is_err());
        for h in hostile() {
            if let Ok(q) = xml(&h) {
                assert!(
                    !q.contains('<') && !q.contains('"') && !q.contains('\''),
                    "{q}"
                );
            }
        }
    }

    #[test]
    fn tcl_word_escapes_substitutions() {
        assert_eq!(tcl_word("a b").unwrap(), "\"a b\"");
        assert_eq!(tcl_word("[exec rm]").unwrap(), "\"\\[exec rm\\]\"");
        assert_eq!(tcl_word("$x{y}\"").unwrap(), "\"\\$x\\{y\\}\\\"\"");
        assert_eq!(tcl_word("a\nb").unwrap(), "\"a\\nb\"");
    }

    #[test]
    fn ps_str_doubles_all_single_quotes() {
        assert_eq!(ps_str("it's").unwrap(), "'it''s'");
        assert_eq!(
            ps_str("$(Remove-Item C:\\)").unwrap(),
            "'$(Remove-Item C:\\)'"
        );
        assert_eq!(ps_str("‘x’").unwrap(), "'‘‘x’’'");
        assert!(ps_str("nul\0").is_err());
    }

    #[test]
    fn vbs_str_doubles_quotes_rejects_newlines() {
        assert_eq!(vbs_str("say \"hi\"").unwrap(), "\"say \"\"hi\"\"\"");
        assert!(vbs_str("a\nb").is_err());
    }

    #[test]
    fn vbs_expr_keeps_the_file_ascii() {
        assert_eq!(vbs_expr("").unwrap(), "\"\"");
        assert_eq!(vbs_expr("say \"hi\"").unwrap(), "\"say \"\"hi\"\"\"");
        assert_eq!(
            vbs_expr("für ✓").unwrap(),
            "\"f\" & ChrW(252) & \"r \" & ChrW(10003)"
        );
        assert_eq!(vbs_expr("😀").unwrap(), "ChrW(55357) & ChrW(56832)");
        assert!(vbs_expr("a\nb").is_err());
        for h in hostile() {
            if let Ok(q) = vbs_expr(&h) {
                assert!(q.is_ascii(), "{q}");
                // Outside the literals there are only `&`, spaces and ChrW(n) calls.
                let mut outside = String::new();
                let mut in_lit = false;
                let cs: Vec<char> = q.chars().collect();
                let mut i = 0;
                while i < cs.len() {
                    if cs[i] == '"' {
                        if in_lit && cs.get(i + 1) == Some(&'"') {
                            i += 2;
                            continue;
                        }
                        in_lit = !in_lit;
                    } else if !in_lit {
                        outside.push(cs[i]);
                    }
                    i += 1;
                }
                assert!(!in_lit, "{q}");
                let rest = outside
                    .split('&')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .find(|p| {
                        !(p.starts_with("ChrW(")
                            && p.ends_with(')')
                            && p[5..p.len() - 1].parse::<u16>().is_ok())
                    });
                assert_eq!(rest, None, "{q}");
            }
        }
    }

    #[test]
    fn cmd_arg_rejects_metacharacters() {
        assert_eq!(cmd_arg("w3wp.exe").unwrap(), "w3wp.exe");
        for bad in [
            "100%", "a!b", "a^b", "a&b", "a|b", "a<b", "a>b", "a\"b", "a\nb", "",
        ] {
            assert!(cmd_arg(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tmsh_name_charset() {
        assert!(tmsh_name("WSS_partner_admin").is_ok());
        assert!(tmsh_name("pool.v4-1").is_ok());
        for bad in [
            "1pool",
            "a b",
            "a{b",
            "a\"b",
            "a/b",
            "",
            "a$b",
            &"x".repeat(64),
        ] {
            assert!(tmsh_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tmsh_str_quotes_or_rejects() {
        assert_eq!(
            tmsh_str("GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap(),
            "\"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n\""
        );
        assert_eq!(tmsh_str("200 OK").unwrap(), "\"200 OK\"");
        for bad in ["a\"b", "a\\b", "$x", "[x]", "{x}", "`x`", "é", "nul\0"] {
            assert!(tmsh_str(bad).is_err(), "{bad:?}");
        }
        for h in hostile() {
            if let Ok(q) = tmsh_str(&h) {
                let inner = &q[1..q.len() - 1];
                assert!(
                    !inner.contains('"') && !inner.contains('{') && !inner.contains('['),
                    "{q}"
                );
            }
        }
    }

    #[test]
    fn ip_addr_only_addresses() {
        assert_eq!(ip_addr("10.1.2.3").unwrap(), "10.1.2.3");
        assert_eq!(ip_addr("2001:DB8::1").unwrap(), "2001:db8::1");
        assert!(ip_addr("10.1.2.3 } ltm").is_err());
        assert!(ip_addr("").is_err());
    }

    #[test]
    fn tcl_glob_escapes_wildcards() {
        assert_eq!(tcl_glob("/ects").unwrap(), "\"/ects\"");
        // `*` becomes `\*` for glob, whose backslash tcl_word doubles: "\\*" in the source.
        assert_eq!(tcl_glob("/a*").unwrap(), "\"/a\\\\*\"");
        assert_eq!(tcl_glob_below("/ects").unwrap(), "\"/ects/*\"");
        assert_eq!(tcl_glob_below("/a?").unwrap(), "\"/a\\\\?/*\"");
        assert_eq!(tcl_glob("[x]").unwrap(), "\"\\\\\\[x\\\\\\]\"");
    }

    #[test]
    fn md_escapes() {
        assert_eq!(md("a*b_c").unwrap(), "a\\*b\\_c");
        assert_eq!(md("<script>").unwrap(), "\\<script\\>");
        assert!(md_code("a`b").is_err());
    }

    #[test]
    fn mermaid_labels_cannot_close_their_quotes() {
        assert_eq!(mermaid("a\"b").unwrap(), "a#quot;b");
        assert_eq!(mermaid("<b>x</b>").unwrap(), "#lt;b#gt;x#lt;/b#gt;");
        assert_eq!(mermaid("#quot;").unwrap(), "#35;quot;");
        for h in hostile() {
            if let Ok(o) = mermaid(&h) {
                assert!(
                    !o.contains(['"', '<', '>', '`', '|', '\n', '\r']),
                    "{h:?} -> {o:?}"
                );
            }
        }
    }

    #[test]
    fn every_filter_is_named() {
        for f in FILTERS {
            assert!(by_name(f).is_some(), "{f}");
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn xml_cdata_splits_the_terminator() {
        assert_eq!(xml_cdata("a").unwrap(), "<![CDATA[a]]>");
        assert_eq!(xml_cdata("").unwrap(), "<![CDATA[]]>");
        let out = xml_cdata("x]]><evil/>&amp;").unwrap();
        assert_eq!(out, "<![CDATA[x]]]]><![CDATA[><evil/>&amp;]]>");
        // Reading the sections back gives the value: concatenate the section bodies.
        let body: String = out
            .split("<![CDATA[")
            .filter(|p| !p.is_empty())
            .map(|p| p.strip_suffix("]]>").unwrap())
            .collect();
        assert_eq!(body, "x]]><evil/>&amp;");
        for h in hostile() {
            match xml_cdata(&h) {
                Ok(o) => assert_eq!(
                    o.matches("<![CDATA[").count(),
                    o.matches("]]>").count(),
                    "{h:?}"
                ),
                Err(_) => assert!(h.chars().any(|c| c.is_control()), "{h:?}"),
            }
        }
    }

    #[test]
    fn long_and_unicode_values_survive() {
        let long = "é".repeat(300);
        for f in FILTERS {
            let func = by_name(f).unwrap();
            if matches!(*f, "tsql_ident" | "tmsh_name" | "tmsh_str" | "ip_addr") {
                continue;
            }
            let out = func(&long).unwrap();
            if *f == "vbs_expr" {
                // Non-ASCII is spelled ChrW(n) so the .vbs file stays ASCII.
                assert_eq!(out.matches("ChrW(233)").count(), 300);
                continue;
            }
            if *f == "ps_ascii" {
                // Non-ASCII is spelled [char]0xXXXX so the .ps1 file stays ASCII.
                assert_eq!(out.matches("[char]0x00E9").count(), 300);
                continue;
            }
            assert!(out.contains(&long) || out.contains("é"), "{f}");
        }
    }

    #[test]
    fn quoted_command_line_arguments() {
        assert_eq!(
            cmd_quoted(r"%SystemDrive%\local scripts\k.cmd").unwrap(),
            r#""%SystemDrive%\local scripts\k.cmd""#
        );
        assert_eq!(cmd_quoted("a&b|c").unwrap(), "\"a&b|c\"");
        for bad in ["a\"b", "100%", "%a b%", "x!y", "a\nb", "%%"] {
            assert!(cmd_quoted(bad).is_err(), "{bad:?}");
        }
        assert_eq!(win_arg(r"C:\dir\").unwrap(), r#""C:\dir\\""#);
        assert_eq!(
            win_arg(r"%SystemDrive%\x.vbs").unwrap(),
            r#""%SystemDrive%\x.vbs""#
        );
        assert!(win_arg("a\"b").is_err());
        assert!(win_arg("50%").is_err());
    }
}
