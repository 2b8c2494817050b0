//! Maintenance mode after Windows Update: the task XML (format, XSD via validate.py, the escaped
//! QueryList parsed back), the VBScript (block structure, every Exec waited for and its exit code
//! read), the eventtriggers command line taken apart through both quoting layers, the CSV row
//! pattern against sample output, the registry values, and hostile values.

use crate::common;

use sitebundle::bundle::Bundle;
use sitebundle::model::schedule::{By, Schedule};
use sitebundle::plan::Trigger;

fn site(text: &str) -> sitebundle::site::Site {
    match sitebundle::load_text("t.toml", text) {
        Ok((s, _)) => s,
        Err(d) => panic!("site does not resolve:\n{}", d.render()),
    }
}

fn fixture(name: &str) -> String {
    common::read(format!("tests/fixtures/{name}"))
}

/// UTF-16LE with BOM → text, line ends kept.
fn utf16(bytes: &[u8]) -> String {
    let rest = bytes.strip_prefix(&[0xFF, 0xFE]).expect("UTF-16LE BOM");
    let units: Vec<u16> = rest
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).expect("valid UTF-16")
}

fn assert_crlf(path: &str, text: &str) {
    let lf = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    assert!(lf > 0 && lf == crlf, "{path}: {lf} LF but {crlf} CRLF");
}

/// Windows command-line splitting (CommandLineToArgvW / MS C runtime rules): `\"` is a literal
/// quote, 2n backslashes before a quote are n backslashes and the quote toggles quoting, other
/// backslashes are literal.
fn argv(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() && (quoted || chars[i] != ' ') {
            if chars[i] == '\\' {
                let mut n = 0;
                while i < chars.len() && chars[i] == '\\' {
                    n += 1;
                    i += 1;
                }
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', n));
                }
            } else if chars[i] == '"' {
                quoted = !quoted;
                i += 1;
            } else {
                arg.push(chars[i]);
                i += 1;
            }
        }
        assert!(!quoted, "unbalanced quotes in {s:?}");
        out.push(arg);
    }
    out
}

/// The value of a VBScript string literal (`"…"` with `""` for a quote); panics if the text is
/// not exactly one literal.
fn vbs_literal(lit: &str) -> String {
    let inner = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a literal: {lit}"));
    assert!(
        !inner.replace("\"\"", "").contains('"'),
        "lone quote inside {lit}"
    );
    inner.replace("\"\"", "\"")
}

/// The value of a VBScript string expression made of literals and `ChrW(n)` joined by `&`.
fn vbs_expr_value(expr: &str) -> String {
    let cs: Vec<char> = expr.chars().collect();
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    let mut expect_part = true;
    while i < cs.len() {
        match cs[i] {
            ' ' => i += 1,
            '&' if !expect_part => {
                expect_part = true;
                i += 1;
            }
            '"' if expect_part => {
                let mut j = i + 1;
                let mut lit = String::new();
                loop {
                    assert!(j < cs.len(), "unterminated literal in {expr}");
                    if cs[j] == '"' {
                        if cs.get(j + 1) == Some(&'"') {
                            lit.push('"');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    lit.push(cs[j]);
                    j += 1;
                }
                units.extend(lit.encode_utf16());
                i = j + 1;
                expect_part = false;
            }
            'C' if expect_part && expr[i..].starts_with("ChrW(") => {
                let close = expr[i..].find(')').unwrap() + i;
                units.push(expr[i + 5..close].parse().unwrap());
                i = close + 1;
                expect_part = false;
            }
            c => panic!("unexpected {c:?} in VBScript expression {expr}"),
        }
    }
    assert!(!expect_part, "dangling & in {expr}");
    String::from_utf16(&units).unwrap()
}

/// The value assigned by `NAME = <string expression>` in a script.
fn vbs_assigned(script: &str, name: &str) -> String {
    let prefix = format!("{name} = ");
    let line = script
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no assignment to {name}"));
    vbs_expr_value(line[prefix.len()..].trim_end_matches('\r'))
}

/// The value of `Const NAME = "…"` in a script.
fn vbs_const(script: &str, name: &str) -> String {
    let prefix = format!("Const {name} = ");
    let line = script
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no Const {name}"));
    vbs_literal(line[prefix.len()..].trim_end_matches('\r'))
}

fn text_of(b: &Bundle, path: &str) -> String {
    let a = b
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} missing; have {:?}", b.files.keys()));
    String::from_utf8(a.bytes.clone()).expect("UTF-8")
}

fn hosts(b: &Bundle, path: &str) -> Vec<String> {
    b.files[path].hosts.labels()
}

#[test]
fn reference_has_both_paths_for_the_seed_servers() {
    let b = common::reference();
    assert_eq!(
        hosts(&b, "tasks/WUTriggerMaintMode.xml"),
        ["sharepoint2", "sharepoint3", "sqlmirror1", "sqlmirror2"]
    );
    assert_eq!(hosts(&b, "scripts/WUTriggerMaintMode.vbs"), ["ects-app1"]);
    assert_eq!(
        hosts(&b, "scripts/MaintMode.vbs"),
        [
            "ects-app1",
            "sharepoint2",
            "sharepoint3",
            "sqlmirror1",
            "sqlmirror2"
        ]
    );
    // The restart delay is not set: no policy value is written (issue 27); each release keeps its
    // default (15 minutes on 2008 R2, 5 on 2003 R2).
    assert!(
        !b.files
            .keys()
            .any(|p| p.starts_with("registry/wu-reboot-delay")),
        "{:?}",
        b.files.keys()
    );
    let with = common::read("site.toml").replace(
        "duration_minutes = 30\n",
        "duration_minutes = 30\nreboot_delay_minutes = 15\n",
    );
    let b = common::build_text("delay.toml", &with);
    // Set: written per release, never below the default (15 on 2008 R2 and on 2003 R2 here).
    assert_eq!(
        hosts(&b, "registry/wu-reboot-delay.reg"),
        [
            "ects-app1",
            "sharepoint2",
            "sharepoint3",
            "sqlmirror1",
            "sqlmirror2"
        ]
    );
    // The 2003 refresh task is a daily TaskSpec for the 2003 server only (no XML: legacy task).
    let s = site(&common::read("site.toml"));
    let specs = sitebundle::plan(&s).unwrap().tasks;
    let ev = specs
        .iter()
        .find(|t| t.name == "WUTriggerMaintMode")
        .unwrap();
    assert!(matches!(ev.trigger, Trigger::Event { .. }));
    assert_eq!(
        s.farm.server_names(&ev.hosts),
        ["sharepoint2", "sharepoint3", "sqlmirror1", "sqlmirror2"]
    );
    assert!(ev.arguments.ends_with(" ON 30M"), "{}", ev.arguments);
    let refresh = specs
        .iter()
        .find(|t| t.name == "WUTriggerMaintMode-Refresh")
        .unwrap();
    assert!(matches!(
        refresh.trigger,
        Trigger::Calendar(Schedule {
            by: By::Days { interval: 1 },
            ..
        })
    ));
    assert_eq!(s.farm.server_names(&refresh.hosts), ["ects-app1"]);
    assert!(!b.files.contains_key("tasks/WUTriggerMaintMode-Refresh.xml"));
    let runbook = text_of(&b, "README.md");
    assert!(runbook.contains("A task XML file does nothing until it is registered"));
    assert!(runbook.contains(
        "schtasks /Create /RU SYSTEM /TN WUTriggerMaintMode /XML tasks\\WUTriggerMaintMode.xml /F"
    ));
    assert!(runbook.contains("schtasks /Query /TN WUTriggerMaintMode /V /FO LIST"));
}

fn all_bundles() -> Vec<(String, Bundle)> {
    let mut v = vec![("site.toml".to_string(), common::reference())];
    for (name, text) in common::fixtures() {
        let b = common::build_text(&name, &text);
        v.push((name, b));
    }
    v
}

#[test]
fn task_xml_encoding_and_subscription_round_trip() {
    let mut seen = 0;
    for (name, b) in all_bundles() {
        for (path, art) in &b.files {
            if !path.starts_with("tasks/") {
                continue;
            }
            let text = utf16(&art.bytes);
            assert_crlf(path, &text);
            assert!(
                text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n"),
                "{name} {path}"
            );
            assert!(text.contains("<Task version=\"1.2\""), "{name} {path}");
            assert!(
                text.contains("<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>")
            );
            assert!(text.contains("<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>"));
            assert!(text.contains("<ExecutionTimeLimit>PT"));
            if path.contains("-InstallWave") {
                // The Windows Update waves' clock tasks: a weekly calendar trigger, no event.
                assert!(text.contains("<CalendarTrigger>"), "{name} {path}");
                assert!(!text.contains("<EventTrigger>"), "{name} {path}");
                continue;
            }
            if !path.contains("WUTriggerMaintMode") {
                continue;
            }
            seen += 1;
            // The Subscription is escaped XML: unescape it and parse it as a document of its own.
            let start = text.find("<Subscription>").unwrap() + "<Subscription>".len();
            let end = text.find("</Subscription>").unwrap();
            let escaped = &text[start..end];
            assert!(!escaped.contains('<'), "unescaped markup: {escaped}");
            let query = quick_xml::escape::unescape(escaped).unwrap().to_string();
            assert_eq!(query, sitebundle::families::maint::wu_query());
            let mut reader = quick_xml::Reader::from_str(&query);
            reader.config_mut().check_end_names = true;
            let mut elements = Vec::new();
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(quick_xml::events::Event::Start(e)) => {
                        elements.push(e.name().into_inner().to_string())
                    }
                    Ok(_) => {}
                    Err(e) => panic!("{name} {path}: Subscription is not XML: {e}"),
                }
            }
            assert_eq!(elements, ["QueryList", "Query", "Select"]);
            assert!(query.contains("<Select Path=\"System\">*[System[Provider[@Name='Microsoft-Windows-WindowsUpdateClient'] and EventID=22]]</Select>"));
            assert!(text.contains("<UserId>S-1-5-18</UserId>"));
            // The action: cscript //nologo "<scripts_dir>\MaintMode.vbs" ON <n>M; on 2012 R2
            // and later (the `-PS` task) powershell.exe -NoProfile -NonInteractive
            // -ExecutionPolicy Bypass -File "<scripts_dir>\MaintMode.ps1" ON <n>M.
            let modern = path.ends_with("-PS.xml");
            let command = if modern {
                "<Command>%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe</Command>"
            } else {
                "<Command>%SystemRoot%\\System32\\cscript.exe</Command>"
            };
            assert!(text.contains(command), "{name} {path}");
            let a0 = text.find("<Arguments>").unwrap() + "<Arguments>".len();
            let a1 = text.find("</Arguments>").unwrap();
            let args = quick_xml::escape::unescape(&text[a0..a1])
                .unwrap()
                .to_string();
            let words = argv(&args);
            let words: Vec<&str> = if modern {
                assert_eq!(
                    words[..6],
                    [
                        "-NoProfile",
                        "-NonInteractive",
                        "-ExecutionPolicy",
                        "Bypass",
                        "-File",
                        words[5].as_str()
                    ],
                    "{args}"
                );
                assert!(words[5].ends_with("\\MaintMode.ps1"), "{args}");
                words[5..].iter().map(String::as_str).collect()
            } else {
                assert_eq!(words[0], "//nologo");
                assert!(words[1].ends_with("\\MaintMode.vbs"), "{args}");
                words[1..].iter().map(String::as_str).collect()
            };
            assert_eq!(words.len(), 3, "{args}");
            assert_eq!(words[1], "ON");
            assert!(
                words[2].ends_with('M') && words[2][..words[2].len() - 1].parse::<u32>().is_ok()
            );
        }
    }
    assert!(
        seen >= 4,
        "expected maintenance task XML in the reference and fixtures"
    );
}

#[test]
fn vbscript_structure_and_exec_discipline() {
    let mut seen = 0;
    for (name, b) in all_bundles() {
        for (path, art) in &b.files {
            if !path.ends_with(".vbs") {
                continue;
            }
            seen += 1;
            let text = String::from_utf8(art.bytes.clone()).unwrap();
            assert_crlf(path, &text);
            assert!(text.starts_with("Option Explicit\r\n"), "{name} {path}");
            assert!(text.is_ascii(), "{name} {path}: keep VBScript ASCII");
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let count = |pred: &dyn Fn(&str) -> bool| lines.iter().filter(|l| pred(l)).count();
            assert_eq!(
                count(&|l| l.starts_with("Do While") || l == "Do"),
                count(&|l| l.starts_with("Loop")),
                "{name} {path}: Do/Loop"
            );
            // Every Exec lives in a Function that reads ExitCode after a wait loop.
            let mut in_fn: Option<Vec<&str>> = None;
            for l in &lines {
                if l.starts_with("Function ") {
                    in_fn = Some(Vec::new());
                }
                if let Some(body) = in_fn.as_mut() {
                    body.push(l);
                }
                if *l == "End Function" {
                    let body = in_fn.take().unwrap();
                    if body.iter().any(|b| b.contains(".Exec(")) {
                        let wait = body
                            .iter()
                            .position(|b| b.starts_with("Do While oExec.Status = 0"))
                            .expect("wait loop");
                        assert!(body[wait..].contains(&"Loop"));
                        let exit = body
                            .iter()
                            .rposition(|b| b.contains("oExec.ExitCode"))
                            .expect("ExitCode read");
                        assert!(exit > wait, "{name} {path}: ExitCode read before the wait");
                    }
                } else if l.contains(".Exec(") {
                    assert!(in_fn.is_some(), "{name} {path}: Exec outside RunCmd: {l}");
                }
            }
            assert!(text.contains("WScript.Quit"), "{name} {path}");
        }
    }
    assert!(seen >= 5);
}

/// Takes the eventtriggers command line apart: VBScript literal → eventtriggers arguments → the
/// `/tk` task command line → cscript's arguments.
fn check_eventtriggers(site_text: &str, trigger: &str, source: Option<&str>, script: &str) {
    let s = site(site_text);
    let b = sitebundle::build_bundle(&s).unwrap();
    let vbs = text_of(&b, "scripts/WUTriggerMaintMode.vbs");
    let args = vbs_const(&vbs, "CREATE_ARGS");
    let m = s.maintenance.as_ref().unwrap();
    assert_eq!(
        args,
        sitebundle::families::maint::eventtriggers_create_args(&s.farm, m).unwrap()
    );
    assert_eq!(vbs_const(&vbs, "DURATION_TOKEN"), "{DURATION}");
    assert_eq!(vbs_const(&vbs, "TRIGGER_NAME"), trigger);
    // What WUTriggerMaintMode.vbs runs after substituting a validated duration.
    let line = args.replace("{DURATION}", "20M");
    let words = argv(&line);
    let mut expected: Vec<&str> = vec!["/create", "/tr", trigger, "/l", "system", "/eid", "22"];
    if let Some(src) = source {
        expected.extend(["/so", src]);
    }
    let tk = expected.len() + 1;
    expected.extend(["/tk", words[tk].as_str(), "/ru", "System"]);
    assert_eq!(words, expected, "{line}");
    let task = argv(&words[tk]);
    assert_eq!(
        task,
        [
            "%SystemRoot%\\System32\\cscript.exe",
            "//nologo",
            script,
            "ON",
            "20M"
        ],
        "{}",
        words[tk]
    );
    // The VBScript substitutes exactly the token and nothing else looks like one.
    assert_eq!(args.matches("{DURATION}").count(), 1);
}

#[test]
fn eventtriggers_command_line_survives_both_quoting_layers() {
    check_eventtriggers(
        &common::read("site.toml"),
        "Windows Update - Reboot Impending",
        None,
        "%SystemDrive%\\localscripts\\MaintMode.vbs",
    );
    check_eventtriggers(
        &fixture("maint-groups.toml"),
        "WU restart - SCOM MM",
        Some("Windows Update Agent"),
        "C:\\Program Files\\Farm Scripts\\MaintMode.vbs",
    );
}

#[test]
fn csv_row_pattern_matches_eventtriggers_output() {
    let vbs = text_of(&common::reference(), "scripts/WUTriggerMaintMode.vbs");
    let line = vbs
        .lines()
        .find(|l| l.trim_start().starts_with("oRe.Pattern = \"^\"\""))
        .expect("CSV row pattern");
    let pattern = vbs_literal(line.trim().trim_start_matches("oRe.Pattern = "));
    // VBScript's RegExp and Python's re agree on this subset (anchors, classes, groups).
    let script = r#"
import json, re, sys
pat = re.compile(sys.argv[1])
rows = [
    '"1","Windows Update - Reboot Impending","C:\\WINDOWS\\system32\\cscript.exe //nologo "C:\\localscripts\\MaintMode.vbs" ON 20M"',
    '  "12","Other trigger","x, "y" z"',
    'INFO: No event triggers exist on the system.',
    '"7","Windows Update - Reboot Impending",""',
    '"ID","Trigger Name","Task"',
]
out = []
for r in rows:
    m = pat.match(r.strip())
    out.append(list(m.groups()) if m else None)
print(json.dumps(out))
"#;
    let out = std::process::Command::new(common::python())
        .args(["-c", script, &pattern])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        serde_json::json!([
            ["1", "Windows Update - Reboot Impending"],
            ["12", "Other trigger"],
            null,
            ["7", "Windows Update - Reboot Impending"],
            null
        ])
    );
}

/// The delay values one site writes: (server, RebootWarningTimeout) from the plan's registry files.
fn delays(site_text: &str) -> Vec<(String, u32)> {
    let s = site(site_text);
    let plan = sitebundle::plan(&s).unwrap();
    let mut out = Vec::new();
    for f in plan
        .registry
        .iter()
        .filter(|f| f.name.starts_with("wu-reboot-delay"))
    {
        assert_eq!(f.values.len(), 2);
        assert_eq!(f.values[0].name, "RebootWarningTimeoutEnabled");
        assert_eq!(f.values[0].data, sitebundle::plan::RegData::Dword(1));
        assert_eq!(f.values[1].name, "RebootWarningTimeout");
        let sitebundle::plan::RegData::Dword(d) = f.values[1].data else {
            panic!("not a DWORD")
        };
        for v in &f.values {
            assert_eq!(
                v.key,
                "SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU"
            );
            assert_eq!(v.hosts, f.hosts);
        }
        out.extend(s.farm.server_names(&f.hosts).into_iter().map(|h| (h, d)));
    }
    out.sort();
    out
}

#[test]
fn reboot_delay_registry_values() {
    // Not configured: nothing written (issue 27: no policy value left behind); each release
    // keeps its default (2008 R2 15 minutes, 2003 R2 5 minutes), which the runbook shows.
    assert_eq!(delays(&common::read("site.toml")), vec![]);
    let gpo_registry: Vec<String> = common::reference()
        .files
        .iter()
        .filter(|(p, _)| p.ends_with("Registry/Registry.xml"))
        .map(|(_, a)| String::from_utf8(a.bytes.clone()).unwrap())
        .collect();
    assert_eq!(gpo_registry.len(), 1);
    assert!(
        !gpo_registry[0].contains("RebootWarningTimeout"),
        "{}",
        gpo_registry[0]
    );
    let readme = String::from_utf8(common::reference().files["README.md"].bytes.clone()).unwrap();
    assert!(
        readme.contains("| 15 minutes | none: the release's default, nothing is written | sharepoint2, sharepoint3, sqlmirror1, sqlmirror2 |")
            && readme.contains("| 5 minutes | none: the release's default, nothing is written | ects-app1 |"),
        "{readme}"
    );
    // Configured below a default: raised to it there, kept where it is longer, with a warning.
    let site5 = hostile_site("", "duration_minutes = 40\nreboot_delay_minutes = 5", "");
    assert_eq!(
        delays(&site5),
        [("old1".to_string(), 5), ("web1".to_string(), 15)]
    );
    let (_, d) = sitebundle::load_text("h.toml", &site5).unwrap();
    assert!(
        d.render()
            .contains("5 minutes is shorter than Windows Update's own 15-minute default on web1"),
        "{}",
        d.render()
    );
    // Longer than every default: written everywhere, one file, no warning.
    let site20 = hostile_site("", "duration_minutes = 40\nreboot_delay_minutes = 20", "");
    assert_eq!(
        delays(&site20),
        [("old1".to_string(), 20), ("web1".to_string(), 20)]
    );
    let (_, d) = sitebundle::load_text("h.toml", &site20).unwrap();
    assert!(!d.render().contains("warning"), "{}", d.render());
    let b = sitebundle::build_bundle(&site(&site20)).unwrap();
    let reg = utf16(&b.files["registry/wu-reboot-delay.reg"].bytes);
    assert_crlf("reg", &reg);
    assert!(reg.starts_with("Windows Registry Editor Version 5.00\r\n"));
    assert!(reg.contains("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU]\r\n\"RebootWarningTimeoutEnabled\"=dword:00000001\r\n\"RebootWarningTimeout\"=dword:00000014\r\n"));
    // Two delays (5 asked, raised to 15 on 2008 R2): two files carry the two values.
    let b = sitebundle::build_bundle(&site(&site5)).unwrap();
    let reg = utf16(&b.files["registry/wu-reboot-delay-15min.reg"].bytes);
    assert!(
        reg.contains("\"RebootWarningTimeout\"=dword:0000000f\r\n"),
        "{reg}"
    );
    let reg = utf16(&b.files["registry/wu-reboot-delay-5min.reg"].bytes);
    assert!(
        reg.contains("\"RebootWarningTimeout\"=dword:00000005\r\n"),
        "{reg}"
    );
}

#[test]
fn groups_and_skip_split_the_servers() {
    let s = site(&fixture("maint-groups.toml"));
    let specs: Vec<_> = sitebundle::plan(&s)
        .unwrap()
        .tasks
        .into_iter()
        .filter(|t| t.feature == "maintenance")
        .map(|t| {
            (
                t.name.clone(),
                s.farm.server_names(&t.hosts).join(","),
                t.arguments.rsplit(' ').next().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        specs,
        [
            expect("WUTriggerMaintMode", "web1,web2", "30M"),
            expect("WUTriggerMaintMode-Refresh", "legacy1", "30M"),
            expect("WUTriggerMaintMode-sql", "sql1", "60M"),
            expect("WUTriggerMaintMode-sql-Refresh", "legacy2", "60M"),
        ]
    );
    let b = sitebundle::build_bundle(&s).unwrap();
    assert!(
        !hosts(&b, "scripts/MaintMode.vbs").contains(&"lab1".to_string()),
        "skipped server"
    );
    let vbs = text_of(&b, "scripts/MaintMode.vbs");
    assert_eq!(
        vbs_const(&vbs, "EVENTCREATE_ARGS"),
        "/L APPLICATION /T INFORMATION /SO \"SCOM MaintMode\" /ID 900 /D "
    );
    // The eventcreate command line as MaintMode.vbs assembles it, with the text filled in.
    let text = vbs_assigned(&vbs, "EVENT_TEXT")
        .replace("{action}", "ON")
        .replace("{minutes}", "30");
    let cmd = format!(
        "\"C:\\WINDOWS\\System32\\eventcreate.exe\" {}\"{text}\"",
        vbs_const(&vbs, "EVENTCREATE_ARGS")
    );
    assert_eq!(
        argv(&cmd)[1..],
        [
            "/L",
            "APPLICATION",
            "/T",
            "INFORMATION",
            "/SO",
            "SCOM MaintMode",
            "/ID",
            "900",
            "/D",
            "MaintMode ON for 30 minutes <requested by Windows Update> & logged"
        ]
    );
}

const BASE: &str = r#"
[site]
name = "h"
changed = "2010-04-09 12:00:00"
scripts_share = '\\fs\gpo$\scripts'
SCRIPTS

[[server]]
name = "web1"
os = "2008r2"

[[server]]
name = "old1"
os = "2003r2"

[maintenance]
MAINT

[maintenance.event]
EVENT
"#;

fn hostile_site(scripts: &str, maint: &str, event: &str) -> String {
    BASE.replace("SCRIPTS", scripts)
        .replace("MAINT", maint)
        .replace("EVENT", event)
}

fn errors(text: &str) -> String {
    match sitebundle::load_text("h.toml", text) {
        Ok(_) => panic!("should be rejected:\n{text}"),
        Err(d) => d.render(),
    }
}

/// A TOML basic string holding `v` (JSON string escapes are valid TOML).
fn lit(v: &str) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn hostile_event_text_is_data_in_vbscript() {
    let marker = "ZQXMARK";
    let texts = [
        format!("{marker} \"quoted\" {{action}} 100% <b>&amp; {{duration}}"),
        format!("x\" : WScript.Quit 9 : REM {marker}"),
        format!("{marker}\"\"\"{{minutes}}%PATH%"),
        format!("Rem {marker} & echo <script> {{action}}"),
        format!("Wartung für {marker} ✓ 😀 `tick` {{action}}"),
    ];
    let mut dirs = Vec::new();
    for t in &texts {
        let text = hostile_site("", "", &format!("text = {}", lit(t)));
        let b = common::build_text("h.toml", &text);
        let vbs = text_of(&b, "scripts/MaintMode.vbs");
        assert_eq!(&vbs_assigned(&vbs, "EVENT_TEXT"), t);
        dirs.push(common::write_tmp(&b));
    }
    let paths: Vec<&std::path::Path> = dirs.iter().map(|d| d.path()).collect();
    let verdicts = common::validate(&paths, Some(marker));
    assert_eq!(
        verdicts.iter().filter(|v| v.kind == "vbs").count(),
        2 * texts.len(),
        "{verdicts:?}"
    );
    common::assert_all_valid(&verdicts);
}

#[test]
fn hostile_values_that_cannot_be_quoted_are_rejected() {
    // eventcreate: the /D text sits in double quotes on a command line.
    for t in [
        "say \"hi\" {action}",
        "100% {action}",
        "%PATH% {action}",
        "C:\\ {action}",
    ] {
        let e = errors(&hostile_site(
            "",
            "",
            &format!(
                "method = \"eventcreate\"\nsource = \"MM\"\nid = 10\ntext = {}",
                lit(t)
            ),
        ));
        assert!(e.contains("eventcreate.exe /D"), "{t}: {e}");
    }
    for src in ["a\"b", "a%b", "a&b", "WSH", "a\\b"] {
        let e = errors(&hostile_site(
            "",
            "",
            &format!("method = \"eventcreate\"\nsource = {}\nid = 10", lit(src)),
        ));
        assert!(
            e.contains("maintenance.event.source") || e.contains("source"),
            "{e}"
        );
    }
    // Trigger names: quoted on the eventtriggers command line and parsed back from CSV.
    for name in ["a\"b", "a,b", "a%b", "a\\b", "a&b", " lead"] {
        let e = errors(&hostile_site(
            "",
            &format!("trigger_name = {}", lit(name)),
            "",
        ));
        assert!(e.contains("trigger name"), "{name}: {e}");
    }
    for src in ["a\"b", "a%b", "a,b"] {
        let e = errors(&hostile_site(
            "",
            &format!("legacy_event_source = {}", lit(src)),
            "",
        ));
        assert!(e.contains("event source"), "{src}: {e}");
    }
    // Script folders: the spine's safe charset keeps quotes, `&` and `%` out of every path.
    for dir in ["C:\\a&b", "C:\\a\"b", "C:\\a%b%", "C:\\it's"] {
        let e = errors(&hostile_site(
            &format!("scripts_dir = {}", lit(dir)),
            "",
            "",
        ));
        assert!(
            e.contains("scripts_dir") || e.contains("folder"),
            "{dir}: {e}"
        );
    }
    // Line breaks cannot be written into a VBScript literal.
    let e = errors(&hostile_site("", "", "text = \"a\\nb {action}\""));
    assert!(e.contains("VBScript"), "{e}");
}

#[test]
fn windows_and_delays_are_bounded() {
    for (maint, needle) in [
        ("duration_minutes = 4", "outside 5-1440"),
        ("duration_minutes = 1441", "outside 5-1440"),
        ("reboot_delay_minutes = 0", "outside 1-30"),
        ("reboot_delay_minutes = 31", "outside 1-30"),
        ("servers = []", "`servers` is empty"),
        ("skip = [\"web1\", \"old1\"]", "no server is left"),
    ] {
        let e = errors(&hostile_site("", maint, ""));
        assert!(e.contains(needle), "{maint}: {e}");
    }
    // A window that ends before the server is back is accepted with a warning: the longest delay
    // of its servers (web1, 2008 R2: 15) plus 10 minutes for the restart.
    for (window, warned) in [(24, true), (25, false)] {
        let (_, d) = sitebundle::load_text(
            "h.toml",
            &hostile_site("", &format!("duration_minutes = {window}"), ""),
        )
        .unwrap();
        assert_eq!(
            d.render()
                .contains("does not cover the 15-minute restart delay plus 10 minutes"),
            warned,
            "{window}: {}",
            d.render()
        );
    }
}

/// Runs cases through tests/validators/vbs_run.py (ASPPY's VBScript interpreter with fake WScript
/// objects). `None` when ASPPY is not installed: the test is then skipped with a notice, unless
/// SITEBUNDLE_REQUIRE_VBS=1 (CI) makes it fail.
fn run_vbs(cases: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    use std::io::Write;
    let python = std::env::var_os("SITEBUNDLE_VBS_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(common::python);
    let mut child = std::process::Command::new(python)
        .arg(common::repo().join("tests/validators/vbs_run.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        assert!(
            std::env::var_os("SITEBUNDLE_REQUIRE_VBS").is_none(),
            "ASPPY is required (pip install asppy==1.1 into the validator venv)"
        );
        eprintln!(
            "SKIPPED: VBScript execution tests need ASPPY (pip install asppy==1.1; or set SITEBUNDLE_VBS_PYTHON)"
        );
        return None;
    }
    assert!(
        out.status.success(),
        "vbs_run.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn expect_code(r: &serde_json::Value, code: i64, what: &str) {
    assert_eq!(r["code"], serde_json::json!(code), "{what}: {r:#}");
}

#[test]
fn maintmode_vbs_runs_arguments_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, b: &Bundle| {
        let p = dir.path().join(name);
        std::fs::write(&p, &b.files["scripts/MaintMode.vbs"].bytes).unwrap();
        p.to_string_lossy().to_string()
    };
    let wsh = write("wsh.vbs", &common::reference());
    let ec = write(
        "ec.vbs",
        &common::build_text("maint-groups.toml", &fixture("maint-groups.toml")),
    );
    let hostile = write(
        "hostile.vbs",
        &common::build_text("s.toml", &fixture("spaces-and-legacy.toml")),
    );
    let unicode = write(
        "unicode.vbs",
        &common::build_text(
            "u.toml",
            &hostile_site("", "", "text = \"Wartung für ✓ 😀 {action} {duration}\""),
        ),
    );
    let mut cases = Vec::new();
    for args in [
        serde_json::json!([]),
        serde_json::json!(["ON"]),
        serde_json::json!(["MAYBE", "20M"]),
        serde_json::json!(["ON", "4M"]),
        serde_json::json!(["ON", "25H"]),
        serde_json::json!(["ON", "20"]),
        serde_json::json!(["ON", "20M", "x"]),
        serde_json::json!(["ON", "-5M"]),
    ] {
        cases.push(serde_json::json!({"script": wsh, "args": args}));
    }
    cases.push(serde_json::json!({"script": wsh, "args": ["on", "20m"]}));
    cases.push(serde_json::json!({"script": wsh, "args": ["OFF"]}));
    cases.push(serde_json::json!({"script": wsh, "args": ["ON", "2H"]}));
    cases.push(serde_json::json!({"script": wsh, "args": ["ON", "20M"], "logevent": false}));
    cases.push(serde_json::json!({"script": ec, "args": ["ON", "1H"], "exec": [["eventcreate", "SUCCESS", 0]]}));
    cases.push(serde_json::json!({"script": ec, "args": ["ON", "1H"], "exec": [["eventcreate", "ERROR: Access denied", 1]]}));
    cases.push(serde_json::json!({"script": hostile, "args": ["ON", "45M"]}));
    cases.push(serde_json::json!({"script": unicode, "args": ["ON", "20M"]}));
    let Some(r) = run_vbs(&serde_json::json!(cases)) else {
        return;
    };
    for (i, r) in r[..8].iter().enumerate() {
        expect_code(r, 1, &format!("usage case {i}"));
        assert!(r["events"].as_array().unwrap().is_empty());
        assert!(r["echo"].to_string().contains("Usage: cscript"), "{r:#}");
    }
    expect_code(&r[8], 0, "ON 20m");
    assert_eq!(
        r[8]["events"],
        serde_json::json!([[4, "Maintenance mode ON 20M"]])
    );
    expect_code(&r[9], 0, "OFF");
    assert_eq!(
        r[9]["events"],
        serde_json::json!([[4, "Maintenance mode OFF 0M"]])
    );
    assert_eq!(
        r[10]["events"],
        serde_json::json!([[4, "Maintenance mode ON 2H"]])
    );
    expect_code(&r[11], 2, "LogEvent refused");
    expect_code(&r[12], 0, "eventcreate");
    assert_eq!(
        r[12]["exec"],
        serde_json::json!([
            "\"C:\\WINDOWS\\System32\\eventcreate.exe\" /L APPLICATION /T INFORMATION /SO \"SCOM MaintMode\" /ID 900 /D \"MaintMode ON for 60 minutes <requested by Windows Update> & logged\""
        ])
    );
    expect_code(&r[13], 2, "eventcreate failed");
    expect_code(&r[14], 0, "hostile text");
    assert_eq!(
        r[14]["events"],
        serde_json::json!([[4, "Say \"MM\" ON 100% <45M> & done"]])
    );
    expect_code(&r[15], 0, "non-ASCII text");
    assert_eq!(
        r[15]["events"],
        serde_json::json!([[4, "Wartung für ✓ 😀 ON 20M"]])
    );
}

#[test]
fn wutrigger_vbs_replaces_the_trigger_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("WUTriggerMaintMode.vbs");
    std::fs::write(
        &script,
        &common::reference().files["scripts/WUTriggerMaintMode.vbs"].bytes,
    )
    .unwrap();
    let s = script.to_string_lossy().to_string();
    let name = "Windows Update - Reboot Impending";
    let row = |id: u32, n: &str, task: &str| format!("\"{id}\",\"{n}\",\"{task}\"");
    // The first query lists two of ours (one in other case; one with the CSV's unescaped quotes in
    // the Task column) and a foreign trigger; the second lists only the new one.
    let first = [
        row(5, name, "C:\\x \"y\" z"),
        row(6, "Other", "t"),
        row(9, &name.to_lowercase(), "t"),
        "".into(),
    ]
    .join("\n");
    let two = format!("{}\n{}", row(3, name, "x"), row(4, name, "x"));
    let cases = serde_json::json!([
        {"script": s, "args": ["20m"], "exec": [
            ["/query", [first, row(10, name, "new")], 0],
            ["/delete", "SUCCESS", 0],
            ["/create", "SUCCESS", 0]]},
        {"script": s, "args": []},
        {"script": s, "args": ["2000M"]},
        {"script": s, "args": ["20M"], "exists": false},
        {"script": s, "args": ["1H"], "exec": [
            ["/query", ["INFO: No event triggers.", row(3, name, "x")], [1, 0]],
            ["/create", "SUCCESS", 0]]},
        {"script": s, "args": ["1H"], "exec": [["/query", row(3, name, "x"), 0], ["/delete", "ERROR", 1]]},
        {"script": s, "args": ["1H"], "exec": [["/query", "", 0], ["/create", "ERROR", 1]]},
        {"script": s, "args": ["1H"], "exec": [
            ["/query", ["", two], 0],
            ["/create", "SUCCESS", 0]]},
        {"script": s, "args": ["1H"], "exec": [["/query", "ERROR: \"WMI\" broken", 1]]},
        {"script": s, "args": ["1H"], "exec": [["/query", "ERROR: Access is denied.", 1]]},
    ]);
    let Some(r) = run_vbs(&cases) else {
        return;
    };
    expect_code(&r[0], 0, "replace");
    let et = "\"C:\\WINDOWS\\System32\\eventtriggers.exe\"";
    assert_eq!(
        r[0]["exec"],
        serde_json::json!([
            format!("{et} /query /fo csv /nh"),
            format!("{et} /delete /tid 5"),
            format!("{et} /delete /tid 9"),
            format!(
                "{et} /create /tr \"{name}\" /l system /eid 22 /tk \"\\\"C:\\WINDOWS\\System32\\cscript.exe\\\" //nologo \\\"C:\\localscripts\\MaintMode.vbs\\\" ON 20M\" /ru \"System\""
            ),
            format!("{et} /query /fo csv /nh"),
        ])
    );
    expect_code(&r[1], 1, "no argument");
    expect_code(&r[2], 1, "too long");
    expect_code(&r[3], 2, "not 2003");
    assert!(r[3]["exec"].as_array().unwrap().is_empty());
    // A query that fails without listing anything is taken as "no triggers" (reported for an
    // empty list); the create then runs and the check afterwards sees the new trigger.
    expect_code(&r[4], 0, "query exit 1 with no rows");
    expect_code(&r[5], 3, "delete failed");
    expect_code(&r[6], 4, "create failed");
    expect_code(&r[7], 5, "two triggers afterwards");
    expect_code(&r[8], 2, "query failed with quoted output");
    assert_eq!(r[8]["exec"].as_array().unwrap().len(), 1, "nothing changed");
    // A failed query without rows (an ERROR: line) is not "no triggers": nothing is created,
    // which could duplicate a trigger the query did not show.
    expect_code(&r[9], 2, "query failed without rows");
    assert_eq!(
        r[9]["exec"].as_array().unwrap().len(),
        1,
        "no /create after a failed query"
    );
}

/// The runbook never offers `MaintMode.vbs OFF` as the way out of maintenance mode (SCOM unloads
/// the computer's workflows, so the OFF event is never read: issue 15, point 7). It is named only
/// in the paragraph that explains why, on every fixture and the reference site, and the per-server
/// warning points at that paragraph.
#[test]
fn no_runbook_offers_maintmode_off_as_the_way_out() {
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    let mut warned = 0;
    for (name, text) in sites {
        let Ok((site, _)) = sitebundle::load_text(&name, &text) else {
            continue;
        };
        let bundle = sitebundle::build_bundle(&site).expect("builds");
        let Some(readme) = bundle.files.get("README.md") else {
            continue;
        };
        let readme = String::from_utf8(readme.bytes.clone()).expect("UTF-8");
        let mut in_why = false;
        for line in readme.lines() {
            if line.starts_with("**Ending maintenance mode early.**") {
                in_why = true;
            } else if line.is_empty() {
                in_why = false;
            }
            if line.contains("MaintMode.vbs OFF") {
                assert!(
                    in_why,
                    "{name}: the runbook offers MaintMode.vbs OFF: {line}"
                );
            }
            if line.contains("puts this server into SCOM maintenance mode") {
                assert!(
                    line.contains("\"Ending maintenance mode early\""),
                    "{name}: {line}"
                );
                warned += 1;
            }
        }
    }
    assert!(
        warned > 0,
        "no fixture has a maintenance task to run by hand"
    );
}

/// MaintMode.ps1 (2012 R2 and later, issue 31) executed by the PowerShell interpreter
/// (tests/maintmode_ps.py): for both event methods, each case's exit code and event, and with a
/// SCOM 2016+ agent its own maintenance mode asked for on ON. Controls: the script without its
/// duration bounds, and the script that never asks the agent, fail the cases that rely on them.
#[test]
fn maintmode_ps1_writes_the_event_and_refuses_bad_arguments() {
    let fixture = common::read("tests/fixtures/migration-2019.toml");
    for method in ["wsh", "eventcreate"] {
        let mut event = format!(
            "\n[maintenance.event]\nmethod = \"{method}\"\ntext = \"MM {{action}} {{duration}} {{minutes}}\"\n"
        );
        if method == "eventcreate" {
            event.push_str("source = \"MaintMode\"\nid = 100\n");
        }
        let text = fixture.replacen(
            "\n[maintenance.installs]",
            &format!("{event}\n[maintenance.installs]"),
            1,
        );
        assert_ne!(text, fixture);
        let dir = common::write_tmp(&common::build_text("migration-2019.toml", &text));
        let script = dir.path().join("scripts/MaintMode.ps1");
        let run = |extra: &[&str]| {
            let out = std::process::Command::new(common::python())
                .arg(common::repo().join("tests/maintmode_ps.py"))
                .arg(&script)
                .arg(method)
                .args(extra)
                .output()
                .expect("maintmode_ps.py runs");
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            (out.status.code(), format!("{stdout}{stderr}"))
        };
        let (code, out) = run(&[]);
        assert_eq!(code, Some(0), "{method}: {out}");
        assert!(out.contains("17 cases, 0 failed"), "{out}");
        let (code, out) = run(&["--control"]);
        assert_eq!(code, Some(1), "{method} control: {out}");
        assert!(out.contains("4M") && out.contains("25H"), "{out}");
        // Control: the event alone, never the SCOM 2016+ agent's own maintenance mode.
        let (code, out) = run(&["--control-agent"]);
        assert_eq!(code, Some(1), "{method} agent control: {out}");
        assert!(
            out.contains("agent=2016+") && out.contains("agent=broken"),
            "{out}"
        );
    }
}

/// The runbook's blocks for the Windows Update waves' clock tasks: one wave per block, so that a
/// block pasted whole on a server gives it its own wave's task and restart timer, never another
/// wave's (which would start maintenance at the wrong hour and restart on the wrong timer).
#[test]
fn each_wave_block_registers_one_wave_only() {
    let b = common::build_text(
        "migration-2019.toml",
        &common::read("tests/fixtures/migration-2019.toml"),
    );
    let readme = common::text_of(&b, "README.md");
    let mut blocks_with_waves = 0;
    for block in readme.split("```cmd\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let mut waves: Vec<&str> = block
            .lines()
            .filter(|l| l.starts_with("schtasks /Create") || l.starts_with("reg import"))
            .filter_map(|l| {
                l.split("InstallWave")
                    .nth(1)
                    .or_else(|| l.split("-wave").nth(1))
            })
            .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().unwrap())
            .collect();
        waves.sort();
        waves.dedup();
        assert!(waves.len() <= 1, "a block with waves {waves:?}:\n{block}");
        blocks_with_waves += usize::from(!waves.is_empty());
    }
    assert_eq!(
        blocks_with_waves, 2,
        "one block per wave with 2016+ servers"
    );
}
