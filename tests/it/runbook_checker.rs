//! The runbook checked as something an operator executes (issue 29), over the reference site and
//! every fixture; each rule has a control that fails:
//! - no fenced code block is empty;
//! - every bundle path the text names (a token that starts with one of the bundle's top-level
//!   folders) is a file or folder of the bundle;
//! - every code block names its language and parses in it (`validate.py --runbook`: cmd with
//!   tree-sitter-batch and sqlfluff on each `sqlcmd -Q` query, PowerShell with
//!   tree-sitter-powershell, the BIG-IP shell with `bash -n` and tclsh on each tmsh command);
//! - no inline code span holds prose;
//! - no placeholder where the site knows the value (an allow-list says why each remaining one is
//!   unknown to the site);
//! - `list` and `plan` print the runbook's own command lines;
//! - an operator's day (tests/operator_day.py): the blocks applied in order to a model of the farm
//!   never leave a pool without a member, both SQL Server partners down, or an alias at a mirror.

use std::collections::BTreeSet;

use crate::common;

/// Every site the runbook is checked on: the reference, every fixture, and a synthetic site of
/// enough groups of servers for "On each server" to be shown in parts.
fn sites() -> Vec<(String, String)> {
    let mut all = vec![("site.toml".to_string(), common::read("site.toml"))];
    all.extend(common::fixtures());
    all.push(("synthetic-in-parts.toml".to_string(), in_parts_site()));
    all
}

/// A synthetic site of 130 servers with a few of them different, shown in parts.
fn in_parts_site() -> String {
    let mut text = sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(130));
    for (k, name) in ["g0-web007", "g1-web013", "g2-web021", "g3-web002"]
        .iter()
        .enumerate()
    {
        text.push_str(&format!(
            "[[kill]]\nimage = \"odd{k}.exe\"\nservers = [\"{name}\"]\nat = \"01:00\"\n\n"
        ));
    }
    let (md, _) = readme("synthetic-in-parts.toml", &text);
    assert!(md.contains("\n| servers | parts |\n"), "not shown in parts");
    text
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
        // Fences inside list items are indented.
        if line.trim_start_matches(' ').starts_with("```") {
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

/// The farm of a site as tests/operator_day.py models it: each server's node names (the merge
/// file's `/<partition>/<server>` and AS3's `/Common/<address>`), each pool under both its names,
/// the SQL Server partners with the names sqlcmd reaches them by and their services, the
/// databases, the front ends with the alias, the switcher's task.
fn farm_json(name: &str, text: &str) -> serde_json::Value {
    use serde_json::json;
    let (site, _) = sitebundle::load_text(name, text).unwrap_or_else(|d| panic!("{}", d.render()));
    let farm = &site.farm;
    let mut nodes = serde_json::Map::new();
    let mut pools = Vec::new();
    if let Some(f5) = &site.f5 {
        for p in &f5.pools {
            for m in &p.members {
                let s = &farm.server(m.server).name;
                nodes.insert(
                    s.clone(),
                    json!([
                        format!("/{}/{s}", f5.partition),
                        format!("/Common/{}", m.address)
                    ]),
                );
            }
            pools.push(json!({
                "names": [
                    format!("/{}/{}", f5.partition, p.name),
                    format!("/{}/{}/{}", f5.as3_tenant, sitebundle::families::f5::AS3_APP, p.name),
                ],
                "members": p.members.iter().map(|m| json!([farm.server(m.server).name, m.port])).collect::<Vec<_>>(),
            }));
        }
    }
    let (mut partners, mut databases, mut front_ends) = (Vec::new(), Vec::new(), Vec::new());
    let (mut probe, mut task) = (String::new(), String::new());
    if let Some(sql) = &site.sql {
        for p in &sql.partners {
            let server = &farm.server(p.server).name;
            let service = match &p.instance {
                Some(i) => format!("MSSQL${i}"),
                None => "MSSQLSERVER".into(),
            };
            partners
                .push(json!({"server": server, "targets": [p.target()], "services": [service]}));
        }
        databases = sql.databases.clone();
        front_ends = farm.server_names(&sql.switcher.servers);
        probe = sql.switcher.probe_database.clone();
        task = sql.switcher.task_name.clone();
    }
    json!({
        "nodes": nodes, "pools": pools, "partners": partners, "databases": databases,
        "probe_database": probe, "front_ends": front_ends, "switcher_task": task,
        "servers": farm.servers.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
    })
}

/// Runs tests/operator_day.py over one runbook: (exit code, output).
fn operator_day(md: &str, farm: &serde_json::Value) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (readme, farm_file) = (dir.path().join("README.md"), dir.path().join("farm.json"));
    std::fs::write(&readme, md).unwrap();
    std::fs::write(&farm_file, farm.to_string()).unwrap();
    let out = std::process::Command::new(common::python())
        .arg(common::repo().join("tests/operator_day.py"))
        .arg(&readme)
        .arg(&farm_file)
        .output()
        .expect("operator_day.py runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn an_operators_day_keeps_the_farm_serving() {
    for (name, text) in sites() {
        let (md, _) = readme(&name, &text);
        let (code, out) = operator_day(&md, &farm_json(&name, &text));
        assert_eq!(code, 0, "{name}:\n{out}");
        assert!(out.contains("blocks applied"), "{name}:\n{out}");
        println!("{name}: {}", out.trim().replace('\n', "; "));
    }
}

#[test]
fn control_an_operators_day_catches_what_breaks_the_farm() {
    let name = "mixed-2003-farm.toml";
    let text = common::read(format!("tests/fixtures/{name}"));
    let (md, _) = readme(name, &text);
    let farm = farm_json(name, &text);
    let sql = "sqlcmd -S sqlp.corp.example.net\\MOSS,1533 -E -b -d master -Q";
    assert!(
        md.contains(sql),
        "the control names the principal as the runbook does"
    );
    let controls = [
        // The old failover test: all four nodes user-down in one paste (issues 28 and 29).
        (
            "```sh\ntmsh modify ltm node /Mixed/wfe1 state user-down\ntmsh modify ltm node /Mixed/wfe2 state user-down\ntmsh modify ltm node /Mixed/wfe3 state user-down\ntmsh modify ltm node /Mixed/wfe4 state user-down\ntmsh show ltm pool /Mixed/moss members field-fmt\n```".to_string(),
            "V1 pool /Mixed/moss",
        ),
        // Every member of the pool forced offline one by one, in one block.
        (
            "```sh\ntmsh modify ltm pool /Mixed/sitebundle/moss members modify { /Common/10.40.0.11:80 { state user-down } /Common/10.40.0.12:80 { session user-disabled } }\ntmsh modify ltm pool /Mixed/moss members modify { /Mixed/wfe3:80 { state user-down session user-disabled } /Mixed/wfe4:80 { state user-down } }\n```".to_string(),
            "V1 pool /Mixed/moss",
        ),
        // Both partners' SQL Server services stopped.
        (
            "```cmd\nREM on sqlp, sqlm\nnet stop MSSQL$MOSS\n```".to_string(),
            "V2 both SQL Server partners are down",
        ),
        // The switcher disabled, then the anchor failed over by hand: the alias stays behind.
        (
            format!("```cmd\nREM on wfe1, wfe2, wfe3, wfe4\nschtasks /Change /TN Update-SqlAlias /Disable\n```\n\n```cmd\n{sql} \"ALTER DATABASE [SharePoint_Config] SET PARTNER FAILOVER;\"\n```"),
            "V3 the alias on wfe1 points at sqlp",
        ),
        // A failover sent to the mirror.
        (
            "```cmd\nsqlcmd -S sqlm.corp.example.net\\MOSS,1533 -E -b -d master -Q \"ALTER DATABASE [SharePoint_Config] SET PARTNER FAILOVER;\"\n```".to_string(),
            "V5 FAILOVER of SharePoint_Config on sqlm",
        ),
        // Commands that change what the model holds in ways it does not know: refused, not ignored.
        ("```cmd\nREM on wfe1\nshutdown /r /t 0\n```".to_string(), "V4 command not in the model"),
        // A rebuild's member list that leaves out a member the site still has (issue 31).
        (
            "```sh\ntmsh modify ltm pool /Mixed/moss members replace-all-with { /Mixed/wfe1:80 { address 10.40.0.11 priority-group 0 } /Mixed/wfe2:80 { address 10.40.0.12 priority-group 0 } /Mixed/wfe3:80 { address 10.40.0.13 priority-group 0 } }\n```".to_string(),
            "replace-all-with leaves out wfe4:80 of /Mixed/moss",
        ),
        (
            "```sh\ntmsh modify ltm pool /Mixed/moss monitor none\n```".to_string(),
            "V4 tmsh command not in the model",
        ),
        (
            "```sh\ntmsh -c 'cd /; list ltm node' | xargs -n1 tmsh delete ltm node\n```".to_string(),
            "V4 shell command not in the model",
        ),
        // A wave's Windows Update values imported without naming the servers, and a .reg file
        // the model knows nothing of.
        (
            "```cmd\nreg import registry\\wu-installs-wave1-restart.reg\n```".to_string(),
            "a server-side change without a server",
        ),
        (
            "```cmd\nREM on wfe1\nreg import registry\\other.reg\n```".to_string(),
            "V4 reg import not in the model",
        ),
        // A 2012 R2+ verify command piped into a cmdlet that changes the server: not read-only.
        (
            "```powershell\nGet-ScheduledTask -TaskPath '\\' -TaskName 'Update-SqlAlias' | Unregister-ScheduledTask\n```".to_string(),
            "V4 PowerShell not in the model",
        ),
    ];
    for (block, want) in &controls {
        let edited = format!("{md}\n## Control\n\n{block}\n");
        let (code, out) = operator_day(&edited, &farm);
        assert_eq!(code, 1, "{want}:\n{out}");
        assert!(out.contains(want), "expected {want:?}:\n{out}");
    }
    // The old "A mirroring partner is lost": both survivors' commands in one block. On the day
    // sqlm is lost, pasting it sends sqlm's half to a server that is down.
    let old = md.replace(
        "```\n\nIf sqlm survives (one block per case: never paste the other's):\n\n```cmd\n",
        "",
    );
    assert_ne!(old, md, "the control joins the blocks");
    let (code, out) = operator_day(&old, &farm);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("V5 a change sent to sqlm, which is down"),
        "{out}"
    );
}

/// Placeholders the runbook may print, each with why the site cannot know its value, or why it is
/// not a placeholder at all. Everything else in angle brackets (`<partner>`, `<database>`,
/// `<domain>`), `DOMAIN\`, `HOST$` is a value the site knows or must be asked for in its one place
/// (e.g. `site.domain_netbios`, `gpo.link_ou`).
const ALLOWED_PLACEHOLDERS: &[(&str, &str)] = &[
    ("<this folder>", "where the operator keeps the bundle"),
    (
        "<old name>",
        "a virtual server already on the BIG-IP under another name",
    ),
    (
        "<device-group>",
        "the BIG-IP's HA device group, not part of the site",
    ),
    ("<IIS site>", "IIS site names are not part of the site"),
    (
        "<bigip>",
        "the BIG-IP's management address (AS3's REST API), not part of the site",
    ),
    ("<ID>", "the event trigger ID Windows assigns"),
    (
        "OLD_SERVER",
        "the database server name SharePoint was configured with",
    ),
    (
        "<instance>",
        "the event source pattern MSSQL$<instance> in prose about every instance",
    ),
    (
        "<providers>",
        "the XML element appcmd prints, not a placeholder",
    ),
    (
        "<requested by Windows Update>",
        "literal text of the maintenance-mode message",
    ),
    // Patterns in sentences that describe each of the names listed beside them.
    ("<name>", "each task of the list beside it"),
    ("<file>", "each task's XML file of the list beside it"),
    ("<duration>", "each bucket's window of the list beside it"),
    (
        "<address>",
        "each node's address (AS3 names nodes after them)",
    ),
    ("<server>", "each server's node name in the merge file"),
    ("<route pool>", "each route's pool of the table beside it"),
];

/// Placeholders in a runbook that are not allowed: `<…>` (also Markdown-escaped `\<…\>` and
/// `&lt;…&gt;`), `DOMAIN\`, `HOST$`; a `<…>` the site file itself contains is a value, not a
/// placeholder.
fn placeholders(md: &str, site: &str) -> Vec<String> {
    let text = md
        .replace("\\<", "<")
        .replace("\\>", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest[1..].find(['<', '>', '\n', '`']).map(|j| j + 1);
        match end {
            Some(j) if rest.as_bytes()[j] == b'>' => {
                let token = &rest[..=j];
                let inner = &token[1..token.len() - 1];
                let word = inner
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && inner
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || " _-".contains(c));
                if word && !site.contains(token) {
                    found.insert(token.to_string());
                }
                rest = &rest[j + 1..];
            }
            _ => rest = &rest[1..],
        }
    }
    for fixed in ["DOMAIN\\", "HOST$", "OLD_SERVER"] {
        if text.contains(fixed) {
            found.insert(fixed.to_string());
        }
    }
    found
        .into_iter()
        .filter(|t| !ALLOWED_PLACEHOLDERS.iter().any(|(a, _)| a == t))
        .collect()
}

#[test]
fn no_placeholder_where_the_site_knows_the_value() {
    for (name, text) in sites() {
        let (md, _) = readme(&name, &text);
        assert_eq!(placeholders(&md, &text), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn control_placeholders_the_site_could_fill_are_found() {
    let text = common::read("site.toml");
    let (md, _) = readme("site.toml", &text);
    // The old texts: the switcher's logins, the probe and collector commands, the GPO link.
    let old = [
        ("CAMPUS\\sharepoint2$", "DOMAIN\\sharepoint2$", "DOMAIN\\"),
        (
            "sqlcmd -S sqlmirror1.campus.example.edu,1433 -E -b -d master -h -1 -i sql\\mirror-state.sql -v dbname=SharePoint_Config",
            "sqlcmd -S <partner> -E -b -d master -h -1 -i sql\\mirror-state.sql -v dbname=<database>",
            "<database>",
        ),
        (
            "Import-Module GroupPolicy\n",
            "Import-Module GroupPolicy\nNew-GPLink -Target 'OU=<farm servers>,DC=<domain>'\n",
            "<farm servers>",
        ),
    ];
    for (from, to, want) in old {
        let edited = md.replacen(from, to, 1);
        assert_ne!(edited, md, "the control edits the runbook: {from}");
        let found = placeholders(&edited, &text);
        assert!(found.contains(&want.to_string()), "{want}: {found:?}");
    }
    // A value of the site in angle brackets is not a placeholder.
    let site = "[gpo]\nname = \"Farm <tools> & 'tasks'\"\n";
    assert!(placeholders("`Farm <tools> & 'tasks'`", site).is_empty());
    assert_eq!(
        placeholders("`Farm <tools>`", ""),
        vec!["<tools>".to_string()]
    );
}

/// Every exact command of the bundle's deployments (what `list` prints) and of the per-server
/// plans (what `plan` prints): each must appear verbatim in the runbook (issue 29: "`list` and
/// `plan` print the exact commands the runbook prints"; one source: the `Deploy` of each file and
/// the plan's `How`).
fn commands_missing_from_runbook(name: &str, text: &str) -> Vec<String> {
    use sitebundle::bundle::Deploy;
    let (site, _) = sitebundle::load_text(name, text).unwrap_or_else(|d| panic!("{}", d.render()));
    let bundle = sitebundle::build_bundle(&site).unwrap();
    let md = String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap();
    let mut commands = Vec::new();
    for a in bundle.files.values() {
        match &a.deploy {
            Deploy::Run { commands: c, .. } => commands.extend(c.iter().map(|c| c.line.clone())),
            Deploy::TaskXml { command }
            | Deploy::RegFile { command }
            | Deploy::GpoImport { command } => commands.push(command.clone()),
            _ => {}
        }
    }
    let plans = sitebundle::plan(&site)
        .unwrap()
        .server_plans(&site.farm, &bundle)
        .unwrap();
    for p in plans {
        commands.extend(p.files.into_iter().filter_map(|f| f.how.command));
        commands.extend(p.verify.into_iter().map(|v| v.command));
    }
    commands.sort();
    commands.dedup();
    assert!(!commands.is_empty());
    commands.retain(|c| !md.contains(c.as_str()));
    commands
}

#[test]
fn list_and_plan_print_the_runbooks_commands() {
    for (name, text) in sites() {
        assert_eq!(
            commands_missing_from_runbook(&name, &text),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn control_a_list_command_the_runbook_does_not_print_is_found() {
    // What `list` and `plan` printed for the probe and the SQL collector before (issue 29): the
    // runbook never printed these lines, so the check above would have failed on them.
    let (md, _) = readme("site.toml", &common::read("site.toml"));
    for old in [
        "sqlcmd -S <partner> -E -d master -h -1 -i sql\\mirror-state.sql -v dbname=<database>",
        "sqlcmd -S <partner> -E -d msdb -h -1 -y 0 -f 65001 -i collect\\sql\\collect-sql.sql -o collected\\sql\\<partner folder>.txt",
        "Import-GPO -BackupId '{75D8C96C-34D0-5C20-A37F-F2FA459A5249}' -Path <bundle>\\gpo",
    ] {
        assert!(!md.contains(old), "{old}");
    }
    assert!(md.contains(
        "Import-GPO -BackupId '{75D8C96C-34D0-5C20-A37F-F2FA459A5249}' -Path \"$PWD\\gpo\""
    ));
}

/// The availability group's runbook (issue 31) played by the operator's day: the planned
/// failovers one target per block, the forced failover one surviving replica per block. Controls:
/// the planned failover to every synchronous replica in one block sends FAILOVER to the replica
/// that has just become primary, and the forced failover of every replica in one block sends it
/// to the lost one.
#[test]
fn control_an_availability_group_block_per_target() {
    let name = "ag-2019.toml";
    let text = common::read(format!("tests/fixtures/{name}"));
    let (md, _) = readme(name, &text);
    let farm = farm_json(name, &text);
    let (code, out) = operator_day(&md, &farm);
    assert_eq!(code, 0, "{out}");
    let failover = "-E -b -Q \"ALTER AVAILABILITY GROUP [SPAG] FAILOVER;\"";
    let force = "-E -b -Q \"ALTER AVAILABILITY GROUP [SPAG] FORCE_FAILOVER_ALLOW_DATA_LOSS;\"";
    assert!(
        md.contains(failover) && md.contains(force),
        "the AG name the controls use"
    );
    // Every planned failover in one paste: the second line fails over again from the new primary's
    // partner while the first has just moved it.
    let both = format!(
        "```cmd\nsqlcmd -S sqlag2.corp.example.com {failover}\nsqlcmd -S sqlag2.corp.example.com {failover}\n```"
    );
    let (code, out) = operator_day(&format!("{md}\n## Control\n\n{both}\n"), &farm);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("V5 FAILOVER on sqlag2"), "{out}");
    // Every replica's forced failover in one block (the template's old form): on the day sqlag1
    // is lost, the paste sends it to sqlag1 too.
    let joined = md.replace("```\n\n```cmd\nREM sqlag2 survives", "REM sqlag2 survives");
    assert_ne!(joined, md, "the control joins the forced-failover blocks");
    let (code, out) = operator_day(&joined, &farm);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("V5"), "{out}");
}
