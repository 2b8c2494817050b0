//! `sitebundle plan` and the runbook's "On each server" section, for the reference site and every
//! fixture: the JSON document against its schema (docs/schemas/plan.schema.json), `--server`
//! selection, each server's verify block for its Windows release (parsed as batch by the
//! validators), task times in the runbook against the generated Task XML, commands that act at
//! once only after a warning, and no runbook naming an object of the reference site that the
//! fixture lacks.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

/// The reference site and every fixture, as (name, text).
fn sites() -> Vec<(String, String)> {
    let mut v = vec![(
        "site.toml".to_string(),
        common::read(common::repo().join("site.toml")),
    )];
    v.extend(common::fixtures());
    v
}

fn runbook(bundle: &sitebundle::bundle::Bundle) -> String {
    String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap()
}

/// Runs `sitebundle plan` on a site text with extra arguments: (exit code, stdout, stderr).
fn plan_cli(text: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.toml");
    std::fs::write(&path, text).unwrap();
    let out = bin().arg("plan").arg(&path).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The schema verdict of every `--format json` document (`checks::json_output`): (ok, errors).
fn schema_check(docs: &[(String, serde_json::Value)]) -> Vec<(bool, Vec<String>)> {
    docs.iter()
        .map(|(_, doc)| {
            let errors =
                crate::checks::json_output::check(&serde_json::to_string_pretty(doc).unwrap());
            (errors.is_empty(), errors)
        })
        .collect()
}

#[test]
fn plan_json_follows_its_schema_for_every_site() {
    let mut docs = Vec::new();
    for (name, text) in sites() {
        let (code, stdout, stderr) = plan_cli(&text, &["--format", "json"]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert!(
            stderr.is_empty(),
            "{name}: JSON mode prints nothing on stderr: {stderr}"
        );
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(doc["format"], "sitebundle-plan");
        assert_eq!(doc["ok"], true);
        let site = sitebundle::load_text(&name, &text).unwrap().0;
        let names: Vec<&str> = doc["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = site.farm.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, expected, "{name}");
        docs.push((name, doc));
    }
    // A site with an error: the document has the findings and no servers, exit 2.
    let (code, stdout, _) = plan_cli("[site]\nname = 1\n", &["--format", "json"]);
    assert_eq!(code, Some(2));
    let bad: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(bad["ok"], false);
    assert!(bad.get("servers").is_none());
    docs.push(("bad site".into(), bad));
    let verdicts = schema_check(&docs);
    for ((name, _), (ok, errors)) in docs.iter().zip(verdicts) {
        assert!(ok, "{name}: {errors:#?}");
    }
}

#[test]
fn the_plan_schema_rejects_a_wrong_document() {
    // Control: the schema is strict enough to fail documents that break the shape.
    let (_, stdout, _) = plan_cli(
        &common::read(common::repo().join("site.toml")),
        &["--format", "json"],
    );
    let good: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut wrong_release = good.clone();
    wrong_release["servers"][0]["release"] = "2012".into();
    let mut extra_key = good.clone();
    extra_key["servers"][0]["colour"] = "blue".into();
    let mut gpo_with_command = good.clone();
    // The first file the GPO delivers (the server's audit collector, run by hand, comes first).
    let gpo_file = good["servers"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["how"]["by"] == "gpo")
        .unwrap();
    gpo_with_command["servers"][0]["files"][gpo_file]["how"]["command"] = "copy x y".into();
    let mut no_servers = good.clone();
    no_servers.as_object_mut().unwrap().remove("servers");
    let mut harmless_in_destructive = good.clone();
    harmless_in_destructive["servers"][0]["destructive"][0]["warning"] = serde_json::Value::Null;
    let docs = vec![
        ("the document as printed".to_string(), good),
        ("release 2012".into(), wrong_release),
        ("unknown key".into(), extra_key),
        ("GPO item with a command".into(), gpo_with_command),
        ("ok without servers".into(), no_servers),
        (
            "destructive command without a warning".into(),
            harmless_in_destructive,
        ),
    ];
    let verdicts = schema_check(&docs);
    assert!(verdicts[0].0, "{:?}", verdicts[0].1);
    for ((what, _), (ok, _)) in docs.iter().zip(&verdicts).skip(1) {
        assert!(!ok, "{what} passed the schema");
    }
}

#[test]
fn server_selection_ignores_case_and_suggests_on_a_miss() {
    let text = common::read(common::repo().join("site.toml"));
    let (code, stdout, stderr) = plan_cli(&text, &["--server", "SharePoint2", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = doc["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sharepoint2"]);

    let (code, stdout, stderr) = plan_cli(&text, &["--server", "sharepoint"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("did you mean `sharepoint2` or `sharepoint3`?"),
        "{stderr}"
    );
    assert!(stderr.contains("--server `sharepoint`"), "{stderr}");
}

/// The runbook's subsection of one server under "## On each server": its own, its group's, or
/// (on a site shown in parts) the parts its row of the part index links to, in order.
fn server_subsection(md: &str, server: &str) -> String {
    let section = md
        .split("\n## On each server\n")
        .nth(1)
        .expect("an On each server section");
    let section = section.split("\n## ").next().unwrap();
    if let Some(rows) = part_index(section) {
        let (_, anchors) = rows
            .iter()
            .find(|(names, _)| names.contains(server))
            .unwrap_or_else(|| panic!("{server} in no row of the part index"));
        let parts: Vec<&str> = section
            .split("\n### ")
            .skip(1)
            .filter(|s| anchors.contains(&heading_anchor(s.lines().next().unwrap())))
            .collect();
        assert_eq!(parts.len(), anchors.len(), "{server}: a link to no part");
        return parts.join("\n");
    }
    // A server's own subsection, or the one of its group ("The same on each of these N servers:
    // a, b, …").
    let in_group = |s: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix("The same on each of these "))
            .and_then(|l| l.split_once(" servers: "))
            .is_some_and(|(_, list)| {
                list.trim_end_matches('.')
                    .split(", ")
                    .any(|n| n.replace('\\', "") == server)
            })
    };
    section
        .split("\n### ")
        .skip(1)
        .find(|s| s.split(' ').next() == Some(server) || in_group(s))
        .unwrap_or_else(|| panic!("no subsection for {server}"))
        .to_string()
}

/// GitHub's anchor of a heading's text (Markdown escapes removed; letters, digits, `-`, `_`
/// kept, lowercased; spaces become `-`).
fn heading_anchor(heading: &str) -> String {
    heading
        .replace('\\', "")
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => c.to_lowercase().next(),
            _ => None,
        })
        .collect()
}

/// The part index of "On each server" when the site is shown in parts: each row's server names
/// and the anchors it links to.
fn part_index(section: &str) -> Option<Vec<(BTreeSet<String>, Vec<String>)>> {
    let table = section.split("\n| servers | parts |\n|---|---|\n").nth(1)?;
    let rows = table
        .lines()
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 2, "{l}");
            let names = cells[0]
                .trim()
                .split(", ")
                .map(|n| n.replace('\\', ""))
                .collect();
            let anchors = cells[1]
                .split("](#")
                .skip(1)
                .map(|a| a[..a.find(')').unwrap()].replace('\\', ""))
                .collect();
            (names, anchors)
        })
        .collect();
    Some(rows)
}

/// The lines of the code blocks of a Markdown text, each block after the paragraph before it.
fn code_blocks(md: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut before = String::new();
    let mut block: Option<Vec<String>> = None;
    for line in md.lines() {
        if line.starts_with("```") {
            match block.take() {
                Some(b) => out.push((std::mem::take(&mut before), b)),
                None => {
                    // The opening fence ends the text before the block (its language).
                    before.push_str(line);
                    before.push('\n');
                    block = Some(Vec::new())
                }
            }
            continue;
        }
        match &mut block {
            Some(b) => b.push(line.to_string()),
            None => {
                before.push_str(line);
                before.push('\n');
            }
        }
    }
    out
}

/// `StartBoundary`'s `HH:MM` of a task's generated XML (UTF-16), and its schedule kind's interval.
fn task_xml_schedule(bundle: &sitebundle::bundle::Bundle, task: &str) -> Option<(String, String)> {
    let art = bundle.files.get(&format!("tasks/{task}.xml"))?;
    let text = sitebundle::bundle::decode_for_display(&art.bytes).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let find = |tag: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == tag)
            .and_then(|n| n.text())
            .map(str::to_string)
    };
    let start = find("StartBoundary")?;
    let interval = find("DaysInterval").or_else(|| {
        find("Interval").map(|i| i.trim_start_matches("PT").trim_end_matches('M').to_string())
    })?;
    Some((start[11..16].to_string(), interval))
}

#[test]
fn each_server_gets_the_verify_commands_of_its_release() {
    let tmp = tempfile::tempdir().unwrap();
    let mut scripts = 0;
    for (name, text) in sites() {
        let site = sitebundle::load_text(&name, &text).unwrap().0;
        let bundle = sitebundle::build_bundle(&site).unwrap();
        let plan = sitebundle::plan(&site).unwrap();
        let md = runbook(&bundle);
        for (idx, server) in site.farm.servers.iter().enumerate() {
            let sub = server_subsection(&md, &server.name);
            let blocks = code_blocks(&sub);
            let verify: Vec<&String> = blocks
                .iter()
                .filter(|(before, _)| before.contains("**Verify**"))
                .flat_map(|(_, b)| b)
                .collect();
            let tasks: Vec<&sitebundle::plan::TaskSpec> = plan
                .tasks
                .iter()
                .filter(|t| t.hosts.contains(&idx))
                .collect();
            let queries: Vec<&&String> = verify
                .iter()
                .filter(|l| l.starts_with("schtasks /Query"))
                .collect();
            if server.os.is_modern() {
                // 2012 R2 and later: the ScheduledTasks module, in a powershell block (issue 31).
                let in_ps: Vec<&String> = (blocks.iter())
                    .filter(|(before, _)| before.ends_with("```powershell\n"))
                    .flat_map(|(_, b)| b)
                    .collect();
                let expected: BTreeSet<String> = tasks
                    .iter()
                    .map(|t| format!("Get-ScheduledTask -TaskPath '\\' -TaskName '{}' |", t.name))
                    .collect();
                let got: BTreeSet<String> = (in_ps.iter())
                    .filter(|l| l.starts_with("Get-ScheduledTask "))
                    .map(|l| l.split_inclusive('|').next().unwrap().to_string())
                    .collect();
                assert_eq!(got, expected, "{name} {}", server.name);
                assert!(queries.is_empty(), "{name} {}: {queries:?}", server.name);
            } else if server.os.has_task_scheduler2() {
                let expected: BTreeSet<String> = tasks
                    .iter()
                    .map(|t| format!("schtasks /Query /TN {} /V /FO LIST", t.name))
                    .collect();
                let got: BTreeSet<String> = queries.iter().map(|l| l.to_string()).collect();
                assert_eq!(got, expected, "{name} {}", server.name);
            } else {
                // Server 2003's schtasks /Query has no /TN: one verbose list, names read from it.
                assert!(
                    queries
                        .iter()
                        .all(|l| l.as_str() == "schtasks /Query /V /FO LIST"),
                    "{name} {}: {queries:?}",
                    server.name
                );
                assert_eq!(
                    queries.len(),
                    usize::from(!tasks.is_empty()),
                    "{name} {}",
                    server.name
                );
                for t in &tasks {
                    assert!(
                        sub.contains(&format!("task `{}`", t.name)),
                        "{name} {}",
                        server.name
                    );
                }
            }
            // Per-release text (issue 27): gpupdate's own message, and prerequisites that name
            // no other release.
            if verify.iter().any(|l| l.as_str() == "gpupdate /force") {
                let want = if server.os.has_task_scheduler2() {
                    "- `gpupdate /force`: \"Computer Policy update has completed successfully\"."
                } else {
                    "- `gpupdate /force`: \"Computer Policy Refresh has completed.\"."
                };
                assert!(sub.contains(want), "{name} {}: {sub}", server.name);
            }
            let before = sub.split("**What lands here**").next().unwrap();
            if !server.os.has_task_scheduler2() {
                assert!(
                    !before.contains("2008")
                        && !sub.contains(" /ST 00:00`")
                        && !sub.contains("/ST 02:30`"),
                    "{name} {}: {before}",
                    server.name
                );
            }
            // Each timed task's runbook line names the time and interval its Task XML has.
            for t in &tasks {
                let Some((at, every)) = task_xml_schedule(&bundle, &t.name) else {
                    continue;
                };
                let line = sub
                    .lines()
                    .find(|l| l.starts_with(&format!("- task `{}`", t.name)))
                    .unwrap();
                // Server 2003's schtasks takes the start time as HH:MM:SS (issue 27).
                let at = if server.os.has_task_scheduler2() {
                    at
                } else {
                    format!("{at}:00")
                };
                // (`/SD date` stands between the two when the start date matters.)
                assert!(
                    line.contains(&format!("/MO {every} /ST {at}`"))
                        || (line.contains(&format!("/MO {every} /SD "))
                            && line.contains(&format!(" /ST {at}`"))),
                    "{name} {}: {line} (XML: every {every} at {at})",
                    server.name
                );
            }
            // Every command block of the subsection parses: as batch, a powershell block as
            // PowerShell.
            for (ext, ps) in [("cmd", false), ("ps1", true)] {
                let all: Vec<String> = (blocks.iter())
                    .filter(|(before, _)| before.ends_with("```powershell\n") == ps)
                    .flat_map(|(_, b)| b.clone())
                    .collect();
                if all.is_empty() {
                    continue;
                }
                let file = tmp.path().join(format!(
                    "{}-{}.{ext}",
                    name.trim_end_matches(".toml"),
                    server.name
                ));
                let bytes = match ps {
                    // With a BOM, as a script with a non-ASCII value must be (validate.py).
                    true => [&b"\xef\xbb\xbf"[..], (all.join("\r\n") + "\r\n").as_bytes()].concat(),
                    false => (all.join("\r\n") + "\r\n").into_bytes(),
                };
                std::fs::write(file, bytes).unwrap();
                scripts += 1;
            }
        }
    }
    let verdicts = common::validate(&[tmp.path()], None);
    assert_eq!(verdicts.len(), scripts);
    assert!(
        verdicts
            .iter()
            .all(|v| v.kind == "batch" || v.kind == "ps1"),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().any(|v| v.kind == "ps1"),
        "the migration fixture's 2019 servers have a powershell block"
    );
    common::assert_all_valid(&verdicts);
}

/// `schtasks /Run` of a kill task or an event task acts at once: it must follow a warning in its
/// section, and never sit in a verify block.
#[test]
fn commands_that_act_at_once_come_after_a_warning() {
    for (name, text) in sites() {
        let site = sitebundle::load_text(&name, &text).unwrap().0;
        let bundle = sitebundle::build_bundle(&site).unwrap();
        let plan = sitebundle::plan(&site).unwrap();
        let acting: BTreeSet<String> = plan
            .tasks
            .iter()
            .filter(|t| {
                t.feature == "kill" || matches!(t.trigger, sitebundle::plan::Trigger::Event { .. })
            })
            .map(|t| format!("schtasks /Run /TN {}", t.name))
            .collect();
        let md = runbook(&bundle);
        for section in md.split("\n#") {
            for (before, block) in code_blocks(section) {
                for line in block.iter().filter(|l| acting.contains(l.trim())) {
                    assert!(
                        before.contains("**Warning") && !before.contains("**Verify**"),
                        "{name}: `{line}` without a warning before it:\n{before}"
                    );
                }
            }
        }
    }
}

/// Names of the objects of a site a runbook could mention: servers, pools, monitors, virtual
/// servers, route prefixes, databases, SQL instances and alias, maintenance groups and affinity
/// groups.
fn object_names(site: &sitebundle::site::Site) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = site.farm.servers.iter().map(|s| s.name.clone()).collect();
    if let Some(f5) = &site.f5 {
        names.extend(f5.pools.iter().map(|p| p.name.clone()));
        names.extend(f5.monitors.iter().map(|m| m.name.clone()));
        names.extend(f5.virtuals.iter().map(|v| v.name.clone()));
        names.extend(
            f5.virtuals
                .iter()
                .flat_map(|v| v.routes.iter().map(|r| r.prefix.clone())),
        );
        names.extend(f5.affinities.iter().map(|a| a.name.clone()));
    }
    if let Some(sql) = &site.sql {
        names.extend(sql.databases.iter().cloned());
        // The anchor and the switcher's probe database are the site's own names too (a site
        // with all_synchronized may list no databases and still name its anchor).
        names.insert(sql.anchor.clone());
        names.insert(sql.switcher.probe_database.clone());
        names.extend(sql.partners.iter().filter_map(|p| p.instance.clone()));
        names.insert(sql.alias.clone());
    }
    if let Some(m) = &site.maintenance {
        names.extend(m.buckets.iter().filter_map(|b| b.group.clone()));
    }
    names
}

/// Whether `word` occurs in `text` with no name character (letter, digit, `_`, `-`) on either
/// side (case-insensitive, as a reader would take `SQL1` and `sql1` for the same server).
fn mentions(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut from = 0;
    while let Some(i) = text[from..].find(&word) {
        let at = from + i;
        let end = at + word.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let word_edge_before = !word.starts_with(is_name) || !before.is_some_and(is_name);
        let word_edge_after = !word.ends_with(is_name) || !after.is_some_and(is_name);
        if word_edge_before && word_edge_after {
            return true;
        }
        from = at + word.len().max(1);
    }
    false
}

/// Every template's text (the words the runbook uses whatever the site).
fn template_text() -> String {
    let mut out = String::new();
    let mut dirs = vec![common::repo().join("templates")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            } else {
                out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// The code of a Markdown text: inline code spans and fenced blocks, one per line.
fn code_text(md: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in md.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 {
                out.push_str(span);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn no_runbook_names_an_object_of_the_reference_site_it_lacks() {
    let reference_text = common::read(common::repo().join("site.toml"));
    let reference = sitebundle::load_text("site.toml", &reference_text)
        .unwrap()
        .0;
    let reference_names = object_names(&reference);
    // Control: the check finds the reference site's own names in its runbook.
    let own = runbook(&sitebundle::build_bundle(&reference).unwrap());
    for n in ["sharepoint3", "ADLDS_ldaps", "/ECTS/", "WSS_Content_ECTS"] {
        assert!(reference_names.contains(n), "{n}");
        assert!(mentions(&own, n), "{n} not found in the reference runbook");
    }
    let prose = template_text();
    assert!(mentions(&prose, "SharePoint") && !mentions(&prose, "ADLDS_ldaps"));
    let mut checked = 0;
    for (name, text) in common::fixtures() {
        let site = sitebundle::load_text(&name, &text).unwrap().0;
        let own_names = object_names(&site);
        let md = runbook(&sitebundle::build_bundle(&site).unwrap());
        let code = code_text(&md);
        // A name the fixture also has, or that is part of one of its names, may appear. A name
        // that is also a word of the templates' own prose (the pool `SharePoint`) counts only
        // where the runbook names objects: in code spans and code blocks.
        let foreign: Vec<&String> = reference_names
            .iter()
            .filter(|n| !own_names.iter().any(|o| mentions(o, n)))
            .filter(|n| {
                if mentions(&prose, n) {
                    mentions(&code, n)
                } else {
                    mentions(&md, n)
                }
            })
            .collect();
        assert!(
            foreign.is_empty(),
            "{name}: the runbook names objects of the reference site that this site lacks: {foreign:?}"
        );
        checked += 1;
    }
    assert!(checked >= 5, "{checked} fixtures");
}

/// The runbook's "SharePoint and the SQL alias" section and `validate` name the same way for the
/// site: way 1 when the alias is named like a partner with a default instance, way 2 otherwise
/// (a named instance, or a name of its own); the section's commands parse as batch; a site
/// without `[sql]` has no such section.
#[test]
fn sharepoint_and_the_alias_name_the_way_the_site_takes() {
    let reference = common::read(common::repo().join("site.toml"));
    assert!(reference.contains("alias = \"SPSQL\""));
    let way1 = reference.replace("alias = \"SPSQL\"", "alias = \"SQLMIRROR1\"");
    let named = reference
        .replace("alias = \"SPSQL\"", "alias = \"sqlmirror1\"")
        .replacen(
            "server = \"sqlmirror1\"",
            "server = \"sqlmirror1\"\ninstance = \"SP\"",
            1,
        );
    assert_ne!(
        named,
        reference.replace("alias = \"SPSQL\"", "alias = \"sqlmirror1\"")
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut blocks = 0;
    for (what, text, way) in [
        ("reference", reference, 2),
        ("alias named like the first partner", way1, 1),
        ("alias named like a named instance's host", named, 2),
    ] {
        let site = sitebundle::load_text(what, &text)
            .unwrap_or_else(|d| panic!("{what}: {}", d.render()))
            .0;
        let md = runbook(&sitebundle::build_bundle(&site).unwrap());
        let section = md
            .split("\n## SharePoint and the SQL alias\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{what}: no SharePoint section"))
            .split("\n## ")
            .next()
            .unwrap();
        assert!(
            section.contains(&format!("**This site takes way {way}**")),
            "{what}:\n{section}"
        );
        assert!(!section.contains(&format!("**This site takes way {}**", 3 - way)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, &text).unwrap();
        let out = bin().arg("validate").arg(&path).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{what}");
        assert!(stdout.contains(&format!("(way {way}")), "{what}: {stdout}");
        let code: Vec<String> = code_blocks(section)
            .into_iter()
            .flat_map(|(_, b)| b)
            .collect();
        assert!(
            code.iter().any(|l| l.contains("Secure\\ConfigDB")),
            "{what}"
        );
        std::fs::write(
            tmp.path().join(format!("sharepoint-{blocks}.cmd")),
            code.join("\r\n") + "\r\n",
        )
        .unwrap();
        blocks += 1;
    }
    let verdicts = common::validate(&[tmp.path()], None);
    assert_eq!(verdicts.len(), blocks);
    assert!(verdicts.iter().all(|v| v.kind == "batch"), "{verdicts:?}");
    common::assert_all_valid(&verdicts);
    let minimal = common::read(common::repo().join("tests/fixtures/minimal.toml"));
    let site = sitebundle::load_text("minimal", &minimal).unwrap().0;
    assert!(site.sql.is_none());
    let md = runbook(&sitebundle::build_bundle(&site).unwrap());
    assert!(!md.contains("SharePoint and the SQL alias"));
}

/// The groups of "On each server" as the runbook lists them: each subsection's servers (its name,
/// or the "The same on each of these N servers: …" list of a group).
fn runbook_groups(md: &str) -> Vec<BTreeSet<String>> {
    let section = md
        .split("\n## On each server\n")
        .nth(1)
        .expect("On each server");
    let section = section.split("\n## ").next().unwrap();
    if let Some(rows) = part_index(section) {
        return rows.into_iter().map(|(names, _)| names).collect();
    }
    section
        .split("\n### ")
        .skip(1)
        .map(|sub| {
            let same = "The same on each of these ";
            match sub.lines().find_map(|l| l.strip_prefix(same)) {
                Some(rest) => {
                    let (count, list) = rest.split_once(" servers: ").unwrap();
                    let names: BTreeSet<String> = list
                        .trim_end_matches('.')
                        .split(", ")
                        .map(|n| n.replace('\\', ""))
                        .collect();
                    assert_eq!(names.len(), count.parse::<usize>().unwrap(), "{sub}");
                    names
                }
                None => BTreeSet::from([sub.split(' ').next().unwrap().replace('\\', "")]),
            }
        })
        .collect()
}

/// What the runbook shows for a server (its subsection, its group's, or its parts) is its view,
/// each item once: the commands of its blocks are its verify and acting commands, its bullets
/// are its roles, prerequisites, files, tasks, values, services, expected results and warnings.
fn assert_view_is_shown_once(md: &str, v: &sitebundle::plan::ServerPlan) {
    let sub = server_subsection(md, &v.name);
    let mut shown: Vec<String> = code_blocks(&sub).into_iter().flat_map(|(_, b)| b).collect();
    let mut expected: Vec<String> = v
        .verify
        .iter()
        .chain(&v.destructive)
        .map(|c| c.command.clone())
        .collect();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "{}", v.name);
    let bullets = sub.lines().filter(|l| l.starts_with("- ")).count();
    let items = v.roles.len()
        + v.prerequisites.len()
        + v.files.len()
        + v.tasks.len()
        + v.registry.len()
        + v.services.len()
        + v.verify.len()
        + v.destructive.len();
    assert_eq!(bullets, items, "{}", v.name);
    for r in v.roles.iter().chain(&v.prerequisites) {
        let line = format!("- {r}");
        let n = sub.lines().filter(|l| l.replace('\\', "") == line).count();
        assert_eq!(n, 1, "{}: {line}", v.name);
    }
    for f in &v.files {
        let n = sub.matches(&format!("- file `{}`", f.path)).count();
        let same = v.files.iter().filter(|g| g.path == f.path).count();
        assert_eq!(n, same, "{}: {}", v.name, f.path);
    }
    for t in &v.tasks {
        assert_eq!(
            sub.matches(&format!("- task `{}`:", t.name)).count(),
            1,
            "{}",
            t.name
        );
    }
}

/// Grouped sections list exactly the servers whose per-server views are equal but for the name
/// (compared in full here, not by digest), on random synthetic farms with random differences;
/// `plan --server` keeps every server's own view.
#[test]
fn runbook_groups_are_exactly_the_servers_with_equal_plans() {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for case in 0..6 {
        let servers = 3 + next(110) as usize;
        let mut text = sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(servers));
        // Random differences: a kill task on a few random servers (on every other case enough
        // of them for the site to be shown in parts).
        let odd = if case % 2 == 0 { next(4) } else { 8 + next(12) };
        for k in 0..odd {
            let i = 2 + next(servers as u64 - 2) as usize;
            let name = format!("g{}-web{:03}", (i - 2) / 40, (i - 2) % 40 + 1);
            text.push_str(&format!(
                "[[kill]]\nimage = \"odd{k}.exe\"\nservers = [\"{name}\"]\nat = \"01:00\"\n\n"
            ));
        }
        let site = sitebundle::load_text("synth.toml", &text).unwrap().0;
        let built = sitebundle::build(&site).unwrap();
        let md = String::from_utf8(built.files.files["README.md"].bytes.clone()).unwrap();
        let views = built.plan.server_plans(&site.farm, &built.files).unwrap();
        let mut expected: Vec<(String, BTreeSet<String>)> = Vec::new();
        for v in &views {
            let mut shape = v.clone();
            shape.name.clear();
            shape.address = None;
            shape.fqdn = None;
            let key = serde_json::to_string(&shape).unwrap();
            match expected.iter_mut().find(|(k, _)| *k == key) {
                Some((_, names)) => {
                    names.insert(v.name.clone());
                }
                None => expected.push((key, BTreeSet::from([v.name.clone()]))),
            }
        }
        let expected: Vec<BTreeSet<String>> = expected.into_iter().map(|(_, n)| n).collect();
        assert_eq!(
            runbook_groups(&md),
            expected,
            "case {case}: {servers} servers"
        );
        assert!(
            expected.len() < servers || servers < 5,
            "case {case}: nothing grouped"
        );
        let in_parts = md.contains("\n| servers | parts |\n");
        assert_eq!(
            in_parts,
            expected.len() >= sitebundle::emit::runbook::PARTS_FROM_GROUPS,
            "case {case}: {} groups",
            expected.len()
        );
        for v in &views {
            assert_view_is_shown_once(&md, v);
        }
        // Every server keeps its own view: its name, and the collector that runs on it.
        for v in &views {
            assert!(
                v.files
                    .iter()
                    .any(|f| f.path.starts_with("collect/windows/")),
                "{}",
                v.name
            );
        }
    }
}
