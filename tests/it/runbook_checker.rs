//! The runbook checked as something an operator executes (issue 29, first rules): over the
//! reference site and every fixture, no fenced code block is empty, and every bundle path the
//! text names (a token that starts with one of the bundle's top-level folders) is a file or
//! folder of the bundle. Each rule has a control that fails.

use std::collections::BTreeSet;

use crate::common;

/// Every site the runbook is checked on: the reference and every fixture.
fn sites() -> Vec<(String, String)> {
    let mut all = vec![("site.toml".to_string(), common::read("site.toml"))];
    all.extend(common::fixtures());
    all
}

/// Line numbers (1-based) of fenced code blocks with nothing but blank lines inside.
fn empty_blocks(md: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, bool)> = None;
    for (i, line) in md.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            match open.take() {
                Some((start, false)) => out.push(start),
                Some(_) => {}
                None => open = Some((i + 1, false)),
            }
        } else if let Some((_, seen)) = open.as_mut()
            && !line.trim().is_empty()
        {
            *seen = true;
        }
    }
    out
}

/// Bundle paths the text names that the bundle does not have: tokens (split at white space,
/// backquotes, quotes, brackets and punctuation that cannot end a path) that start with a
/// top-level folder of the bundle followed by `/` or `\`. Tokens with a placeholder (`<…>`, `*`,
/// `%`) are left out: they name no single file.
fn missing_paths(md: &str, files: &BTreeSet<String>) -> Vec<String> {
    let tops: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.split_once('/').map(|(t, _)| t))
        .collect();
    let is_sep = |c: char| c.is_whitespace() || "`\"'()[]|,;".contains(c);
    let mut missing = BTreeSet::new();
    let text = without_outputs(md);
    for token in text.split(is_sep) {
        let token = token.trim_end_matches(['.', ':']);
        // Markdown's escape of `_` outside code spans.
        let token = &token.replace("\\_", "_");
        let norm = token.replace('\\', "/");
        let Some((top, rest)) = norm.split_once('/') else {
            continue;
        };
        if !tops.contains(top) || rest.is_empty() && !token.ends_with(['/', '\\']) {
            continue;
        }
        if token.contains(['<', '*', '%', '{', '$']) {
            continue;
        }
        let exists = files.contains(&norm)
            || files
                .iter()
                .any(|f| f.starts_with(&format!("{}/", norm.trim_end_matches('/'))));
        if !exists {
            missing.insert(token.to_string());
        }
    }
    missing.into_iter().collect()
}

/// The text without what names a file the operator creates rather than one of the bundle: the
/// last cell of the Audit table, whose header says it is the output in `collected/`.
fn without_outputs(md: &str) -> String {
    let mut out = String::new();
    let mut outputs = false;
    for line in md.lines() {
        if !line.starts_with('|') {
            outputs = false;
        } else if line.contains("output in `collected/`") {
            outputs = true;
        }
        match line.rsplit_once(" | ") {
            Some((head, _)) if outputs => out.push_str(head),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn readme(name: &str, text: &str) -> (String, BTreeSet<String>) {
    let bundle = common::build_text(name, text);
    let md = String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap();
    (md, bundle.files.keys().cloned().collect())
}

#[test]
fn no_runbook_has_an_empty_code_block() {
    for (name, text) in sites() {
        let (md, _) = readme(&name, &text);
        assert_eq!(
            empty_blocks(&md),
            Vec::<usize>::new(),
            "{name}: empty code blocks at these lines"
        );
    }
}

#[test]
fn control_an_empty_code_block_is_found() {
    let md = "text\n\n```\n\n```\n\n```\ndir\n```\n";
    assert_eq!(empty_blocks(md), vec![3]);
}

#[test]
fn every_bundle_path_the_runbook_names_exists() {
    for (name, text) in sites() {
        let (md, files) = readme(&name, &text);
        assert_eq!(missing_paths(&md, &files), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn control_a_path_the_bundle_does_not_have_is_found() {
    // The old text of "SharePoint and the SQL alias" on a site whose front ends mix x64 and x86:
    // the bundle has sql-alias-x64.reg and sql-alias-x86.reg, not sql-alias.reg.
    let text = common::read("tests/fixtures/sql-named-instances.toml");
    let (md, files) = readme("sql-named-instances.toml", &text);
    assert!(files.contains("registry/sql-alias-x86.reg"));
    let old = md.replacen(
        "`reg import registry\\sql-alias-x64.reg`",
        "`reg import registry\\sql-alias.reg`",
        1,
    );
    assert_ne!(old, md, "the control edits the runbook");
    assert_eq!(
        missing_paths(&old, &files),
        vec!["registry\\sql-alias.reg".to_string()]
    );
    // A folder the bundle does not have (f5/irules/ on a site without iRules).
    assert_eq!(
        missing_paths("the iRules are in `f5/irules/`", &files),
        Vec::<String>::new(),
        "no f5 folder at all: not a bundle path"
    );
    let (md, files) = readme("site.toml", &common::read("site.toml"));
    assert!(missing_paths(&md, &files).is_empty());
    assert_eq!(
        missing_paths("see `scripts\\NoSuchScript.vbs`", &files),
        vec!["scripts\\NoSuchScript.vbs".to_string()]
    );
}

/// One runbook's verdict from `validate.py --runbook`: its findings and its blocks per language.
#[derive(Debug, serde::Deserialize)]
struct BlockVerdict {
    path: String,
    errors: Vec<String>,
    blocks: std::collections::BTreeMap<String, usize>,
}

/// Runs `validate.py --runbook` over runbooks given as (name, text), in one process.
fn check_blocks(runbooks: &[(String, String)]) -> Vec<BlockVerdict> {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<std::path::PathBuf> = runbooks
        .iter()
        .map(|(name, md)| {
            let p = dir.path().join(format!("{name}.md"));
            std::fs::write(&p, md).unwrap();
            p
        })
        .collect();
    let out = std::process::Command::new(common::python())
        .arg(common::repo().join("tests/validators/validate.py"))
        .arg("--runbook")
        .args(&paths)
        .output()
        .expect("validate.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "validate.py --runbook failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("validator JSON line"))
        .collect()
}

#[test]
fn every_code_block_parses_in_its_language() {
    let runbooks: Vec<(String, String)> = sites()
        .into_iter()
        .map(|(name, text)| (name.clone(), readme(&name, &text).0))
        .collect();
    let verdicts = check_blocks(&runbooks);
    assert_eq!(verdicts.len(), runbooks.len());
    let mut total = std::collections::BTreeMap::<String, usize>::new();
    for v in &verdicts {
        assert!(v.errors.is_empty(), "{}:\n{}", v.path, v.errors.join("\n"));
        for (k, n) in &v.blocks {
            *total.entry(k.clone()).or_default() += n;
        }
    }
    // Every language and embedded language was really met (a checker that saw nothing proves
    // nothing); the totals are printed for the record (`-- --nocapture`).
    for lang in [
        "cmd",
        "powershell",
        "sh",
        "tmsh commands",
        "sqlcmd -Q queries",
    ] {
        assert!(
            total.get(lang).copied().unwrap_or(0) > 0,
            "no {lang} checked"
        );
    }
    println!("blocks checked over {} runbooks: {total:?}", runbooks.len());
}

#[test]
fn control_blocks_that_do_not_parse_are_found() {
    let (md, _) = readme("site.toml", &common::read("site.toml"));
    // The old untagged fence, a tmsh command with a brace left open, a T-SQL query with a quote
    // left open in a sqlcmd line, and a PowerShell string left open.
    let broken = [
        ("```cmd\nxcopy", "```\nxcopy", "has no info string"),
        (
            "\ntmsh load sys config merge verify file",
            "\ntmsh modify ltm node { /Common/x\ntmsh load sys config merge verify file",
            "[tmsh] unbalanced braces",
        ),
        (
            "WHERE name = N'msdb'\"",
            "WHERE name = N'msdb\"",
            "[cmd/sqlcmd -Q]",
        ),
        (
            "-CreateIfNeeded\n",
            "-CreateIfNeeded '\n",
            "[powershell] syntax error",
        ),
    ];
    let runbooks: Vec<(String, String)> = broken
        .iter()
        .enumerate()
        .map(|(i, (from, to, _))| {
            let edited = md.replacen(from, to, 1);
            assert_ne!(edited, md, "control {i} edits the runbook");
            (format!("control{i}"), edited)
        })
        .collect();
    let verdicts = check_blocks(&runbooks);
    for (v, (_, _, want)) in verdicts.iter().zip(broken) {
        assert!(
            v.errors.iter().any(|e| e.contains(want)),
            "{}: expected a finding with {want:?}, got {:?}",
            v.path,
            v.errors
        );
    }
}

/// The inline code spans of a Markdown text outside fenced blocks, with their line (CommonMark:
/// a run of N backticks opens a span that the next run of exactly N closes, across line breaks;
/// a backslash-escaped backtick outside a span is literal).
fn code_spans(md: &str) -> Vec<(usize, String)> {
    let mut text = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            text.push('\n');
            continue;
        }
        if !fenced {
            text.push_str(line);
        }
        text.push('\n');
    }
    let b = text.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let n = b[i..].iter().take_while(|&&c| c == b'`').count();
        let start = i + n;
        let mut j = start;
        let close = loop {
            match text[j..].find('`') {
                None => break None,
                Some(k) => {
                    let at = j + k;
                    let m = b[at..].iter().take_while(|&&c| c == b'`').count();
                    if m == n {
                        break Some(at);
                    }
                    j = at + m;
                }
            }
        };
        match close {
            Some(at) => {
                let line = text[..i].matches('\n').count() + 1;
                out.push((line, text[start..at].replace('\n', " ")));
                i = at + n;
            }
            None => i = start,
        }
    }
    out
}

/// English words that make a sentence and never stand alone as a command word of the commands
/// the runbook prints (which use options, paths, names and upper-case SQL keywords).
const PROSE_WORDS: &[&str] = &[
    "a", "an", "the", "for", "on", "as", "of", "to", "by", "and", "or", "with", "each", "then",
    "when", "is", "are", "it", "this", "that", "from", "in", "at", "only", "before", "after",
    "its", "be", "not", "every", "all", "which", "where", "run", "see",
];

/// A code span is prose (rule of issue 29: code spans hold commands, paths, names and values,
/// never sentences) when, outside its quoted strings, it has a comma followed by two lower-case
/// words (`read-only, for sitebundle audit`), or at least three stand-alone words of
/// [`PROSE_WORDS`] (`run on each of web1 as a local administrator`).
fn is_prose(span: &str) -> bool {
    let mut bare = String::new();
    let mut quote: Option<char> = None;
    for c in span.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => bare.push(c),
        }
    }
    let words: Vec<&str> = bare.split(' ').collect();
    let plain = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase());
    let comma = words
        .windows(3)
        .any(|w| w[0].ends_with(',') && plain(w[1]) && plain(w[2].trim_end_matches([',', '.'])));
    let sentence_words = words
        .iter()
        .filter(|w| PROSE_WORDS.contains(&w.trim_end_matches([',', '.', ':', ';'])))
        .count();
    comma || sentence_words >= 3
}

fn prose_spans(md: &str) -> Vec<String> {
    code_spans(md)
        .into_iter()
        .filter(|(_, s)| is_prose(s))
        .map(|(line, s)| format!("line {line}: `{s}`"))
        .collect()
}

#[test]
fn no_code_span_holds_prose() {
    let mut spans = 0;
    for (name, text) in sites() {
        let (md, _) = readme(&name, &text);
        spans += code_spans(&md).len();
        assert_eq!(prose_spans(&md), Vec::<String>::new(), "{name}");
    }
    assert!(spans > 1000, "only {spans} code spans read");
}

#[test]
fn control_prose_in_a_code_span_is_found() {
    // The old per-server lines of the collectors and the old BIG-IP collector command.
    let (md, _) = readme("site.toml", &common::read("site.toml"));
    let old = [
        "`read-only, for sitebundle audit: run on ects-app1 as a local administrator`",
        "`read-only, for sitebundle audit: sqlcmd -S <partner> -E -d msdb -h -1 -y 0 -f 65001 -i collect\\sql\\collect-sql.sql -o collected\\sql\\<partner folder>.txt`",
        "`tmsh -q -c 'cd /Common; list ltm rule' > /var/tmp/x.conf, then copy it to collected/f5/Common.conf`",
        "`run on each of\nweb1, web2 as a local administrator`",
    ];
    for span in old {
        let text = format!("{md}\n- file `x.cmd`: {span}.\n");
        assert_eq!(prose_spans(&text).len(), 1, "{span}");
    }
    // Commands with English inside their quoted strings, and names, stay commands.
    for span in [
        "`sqlcmd -S a -E -Q \"EXEC msdb.dbo.sp_help_jobhistory @job_name = N'SP Mirroring - fail over all databases'\"`",
        "`schtasks /Query /TN WUTriggerMaintMode /V /FO LIST`",
        "`tmsh modify ltm node /Common/web1 state user-down`",
    ] {
        assert!(!is_prose(&span[1..span.len() - 1]), "{span}");
    }
}
