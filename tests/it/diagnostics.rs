//! Every bad site under tests/bad gets located diagnostics (snapshotted), exit code 2 from the
//! binary, and nothing written.

use crate::common;

use std::process::Command;

fn bad_sites() -> Vec<(String, String)> {
    common::sites_in("tests/bad")
}

#[test]
fn diagnostics_are_located_and_snapshotted() {
    let sites = bad_sites();
    assert!(sites.len() >= 5, "expected the bad-site corpus");
    for (name, text) in sites {
        let diags = match sitebundle::load_text(&name, &text) {
            Ok(_) => panic!("{name} should be rejected"),
            Err(d) => d,
        };
        assert!(diags.has_errors());
        let rendered = diags.render();
        for d in &diags.items {
            assert!(
                d.span.is_some(),
                "{name}: finding without a location: {}",
                d.message
            );
            // Actionable: every finding says how to fix it.
            assert!(
                d.help.as_deref().is_some_and(|h| !h.trim().is_empty()),
                "{name}: finding without a help line: {}",
                d.message
            );
        }
        assert!(rendered.contains(&format!("--> {name}:")), "{rendered}");
        insta::assert_snapshot!(format!("bad-{}", name.trim_end_matches(".toml")), rendered);
    }
}

#[test]
fn binary_exits_2_and_writes_nothing() {
    for (name, _) in bad_sites() {
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("out");
        let out = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
            .arg("build")
            .arg(common::repo().join("tests/bad").join(&name))
            .arg("-o")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error:"),
            "{name}"
        );
        assert!(!out_dir.exists(), "{name}: something was written");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{name}: leftovers in the parent folder"
        );
    }
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    let text = common::read("tests/bad/unknown-keys-everywhere.toml");
    let diags = sitebundle::load_text("u.toml", &text).unwrap_err();
    let found: Vec<&str> = (diags.items.iter())
        .filter(|d| d.severity == sitebundle::diag::Severity::Error)
        .filter_map(|d| d.help.as_deref())
        .collect();
    assert_eq!(
        found,
        [
            "did you mean `scripts_dir`?",
            "did you mean `address`?",
            "did you mean `every_days`?",
            "did you mean `text`?"
        ],
        "{}",
        diags.render()
    );
}

#[test]
fn the_schema_walk_knows_every_valid_key() {
    // No false alarms: the reference site, the fixtures and the starter have no unknown key.
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    sites.push(("init".into(), common::read("src/init_site.toml")));
    for (name, text) in sites {
        let unknown = sitebundle::site::unknown::unknown_keys(&text);
        assert!(unknown.is_empty(), "{name}: {:?}", unknown);
    }
}

#[test]
fn one_mirrored_database_warns_and_gets_no_failover_job() {
    let text = common::read("tests/fixtures/sql-one-database.toml");
    let (site, warnings) = sitebundle::load_text("sql-one-database.toml", &text).unwrap();
    let rendered = warnings.render();
    assert!(
        rendered
            .contains("warning[sql-one-database]: with one mirrored database there is nothing to fail over together")
            && rendered.contains("sql-one-database.toml:24:13"),
        "{rendered}"
    );
    let b = sitebundle::build_bundle(&site).unwrap();
    assert!(
        b.files
            .keys()
            .all(|p| !p.ends_with("mirror-failover-job.sql"))
    );
    assert!(b.files.contains_key("scripts/Update-SqlAlias.ps1"));
}

/// Windows compares computer names without case: a reference in other case finds the server and
/// builds exactly what the server's own spelling builds.
#[test]
fn server_references_ignore_case() {
    let text = common::read("site.toml");
    let shouted = text
        .replace(
            "servers = [\"sharepoint2\", \"sharepoint3\", \"ects-app1\"]",
            "servers = [\"SharePoint2\", \"SHAREPOINT3\", \"ECTS-App1\"]",
        )
        .replace("server = \"sqlmirror2\"", "server = \"SQLMirror2\"");
    assert_ne!(shouted, text);
    let (site, _) =
        sitebundle::load_text("site.toml", &shouted).unwrap_or_else(|d| panic!("{}", d.render()));
    let (reference, _) = sitebundle::load_text("site.toml", &text).unwrap();
    let a = sitebundle::build_bundle(&site).unwrap();
    let b = sitebundle::build_bundle(&reference).unwrap();
    assert_eq!(
        a.files.keys().collect::<Vec<_>>(),
        b.files.keys().collect::<Vec<_>>()
    );
    for (path, art) in &a.files {
        assert!(art.bytes == b.files[path].bytes, "{path} differs");
    }
    // An unknown name is still an error, in the user's spelling.
    let wrong = text.replacen("server = \"sqlmirror2\"", "server = \"SQLMirror9\"", 1);
    let d = sitebundle::load_text("site.toml", &wrong)
        .unwrap_err()
        .render();
    assert!(d.contains("unknown server `SQLMirror9`"), "{d}");
}

/// One edit of the reference site per kind of warning: each builds (exit 0) with exactly that
/// warning code among its findings, and fails under `--deny-warnings` with nothing written. Every
/// warning-only code of `docs/diagnostics.md` has a case here.
fn warning_cases() -> Vec<(&'static str, String)> {
    let reference = common::read("site.toml");
    let edit = |from: &str, to: &str| {
        let edited = reference.replacen(from, to, 1);
        assert_ne!(edited, reference, "the edit `{from}` applies");
        edited
    };
    let split_group = "on_split = \"error\"";
    vec![
        (
            "sql-one-database",
            common::read("tests/fixtures/sql-one-database.toml"),
        ),
        (
            "sql-unused-high-performance-list",
            edit(
                "alias = \"SPSQL\"\n",
                "alias = \"SPSQL\"\nhigh_performance_databases = [\"WSS_Search_SHAREPOINT3\"]\n",
            ),
        ),
        (
            "maint-text-without-duration",
            edit(
                "text = \"Maintenance mode {action} {duration}\"",
                "text = \"Maintenance mode {action}\"",
            ),
        ),
        (
            "maint-skip-not-listed",
            edit(
                "[maintenance]\n",
                "[maintenance]\nservers = [\"sharepoint2\", \"sharepoint3\"]\nskip = [\"ects-app1\"]\n",
            ),
        ),
        (
            "maint-short-window",
            edit("duration_minutes = 30", "duration_minutes = 12"),
        ),
        (
            "maint-delay-below-default",
            edit(
                "[maintenance]\n",
                "[maintenance]\nreboot_delay_minutes = 5\n",
            ),
        ),
        (
            "maint-restart-event-unconfirmed",
            edit(
                "name = \"sqlmirror2\"\nos = \"2008r2\"",
                "name = \"sqlmirror2\"\nos = \"2019\"",
            ),
        ),
        (
            "sql-switcher-needs-powershell-2",
            edit(
                "servers = [\"sharepoint2\", \"sharepoint3\"]\ninterval_minutes = 1",
                "servers = [\"sharepoint2\", \"ects-app1\"]\ninterval_minutes = 1",
            ),
        ),
        (
            "f5-duplicate-affinity-target",
            edit(
                "  { virtual = \"vs_ects\" },\n",
                "  { virtual = \"vs_ects\" },\n  { virtual = \"vs_ects\" },\n",
            ),
        ),
        (
            "f5-rule-ignored",
            edit(
                "pool = \"PartnerPoint\"\n",
                "pool = \"PartnerPoint\"\nrule = \"ects_routes\"\n",
            ),
        ),
        (
            "f5-pool-without-monitor",
            edit(
                "monitors = [\"mon_partnerpoint_http\"]\n",
                "monitors = []\n",
            ),
        ),
        (
            "f5-priority-groups-inactive",
            edit(
                "  { server = \"sharepoint3\", port = 80 },\n  { server = \"sharepoint2\", port = 80 },\n",
                "  { server = \"sharepoint3\", port = 80, priority_group = 2 },\n  { server = \"sharepoint2\", port = 80, priority_group = 1 },\n",
            ),
        ),
        ("f5-monitor-needs-anonymous", edit("anonymous = true\n", "")),
        (
            "affinity-partial",
            common::read("tests/fixtures/affinity-warning.toml"),
        ),
        (
            "stale-accept",
            edit(
                "[site]\n",
                "[site]\naccept = [{ code = \"sql-one-database\", reason = \"one database\" }]\n",
            ),
        ),
        (
            "affinity-spread",
            edit(
                split_group,
                "on_split = \"error\"\n\n[[f5.affinity]]\nname = \"main\"\ntargets = [{ virtual = \"vs_sharepoint\" }]\non_split = \"warning\"",
            ),
        ),
    ]
}

#[test]
fn every_warning_code_has_a_case_that_builds_with_it() {
    let cases = warning_cases();
    let covered: Vec<&str> = cases.iter().map(|(code, _)| *code).collect();
    for code in documented_codes() {
        if code.1 == "warning" {
            assert!(
                covered.contains(&code.0.as_str()),
                "no case for `{}`",
                code.0
            );
        }
    }
    for (code, text) in cases {
        let (_, warnings) = sitebundle::load_text("site.toml", &text)
            .unwrap_or_else(|d| panic!("{code}: {}", d.render()));
        assert!(!warnings.has_errors());
        let codes: Vec<&str> = warnings.items.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&code), "{code}: {codes:?}");
        let rendered = warnings.render();
        assert!(
            rendered.contains(&format!("warning[{code}]: ")),
            "{rendered}"
        );
    }
}

/// `validate` and `build` print warnings and exit 0; with `--deny-warnings` they exit 2 and
/// `build` writes nothing. The reference site (no warnings) builds under `--deny-warnings`.
#[test]
fn deny_warnings_fails_validate_and_build() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = warning_cases();
    cases.truncate(3);
    for (code, text) in cases {
        let site = dir.path().join(format!("{code}.toml"));
        std::fs::write(&site, text).unwrap();
        let out = dir.path().join(format!("{code}.out"));
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_sitebundle"))
                .args(args)
                .arg(&site)
                .output()
                .unwrap()
        };
        let validate = run(&["validate"]);
        let stderr = String::from_utf8_lossy(&validate.stderr);
        assert_eq!(validate.status.code(), Some(0), "{code}: {stderr}");
        assert!(stderr.contains(&format!("warning[{code}]")), "{stderr}");
        let denied = run(&["validate", "--deny-warnings"]);
        let stderr = String::from_utf8_lossy(&denied.stderr);
        assert_eq!(denied.status.code(), Some(2), "{code}: {stderr}");
        assert!(
            stderr.contains("--deny-warnings is set; nothing was written"),
            "{stderr}"
        );
        let build = run(&["build", "--deny-warnings", "-o", out.to_str().unwrap()]);
        assert_eq!(build.status.code(), Some(2), "{code}");
        assert!(!out.exists(), "{code}: a denied build wrote files");
        let build = run(&["build", "-q", "-o", out.to_str().unwrap()]);
        assert_eq!(build.status.code(), Some(0), "{code}");
        assert!(out.join("README.md").exists());
    }
    let reference = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .args(["validate", "--deny-warnings"])
        .arg(common::repo().join("site.toml"))
        .output()
        .unwrap();
    assert_eq!(reference.status.code(), Some(0));
}

/// (code, severity column) of every row of the table in docs/diagnostics.md.
fn documented_codes() -> Vec<(String, String)> {
    common::read("docs/diagnostics.md")
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((code.to_string(), cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn every_code_is_documented_once() {
    let documented: Vec<String> = documented_codes().into_iter().map(|(c, _)| c).collect();
    let known: Vec<String> = sitebundle::diag::Code::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(
        documented, known,
        "docs/diagnostics.md and Code::ALL differ"
    );
}

/// The mistakes of issue 17 point 4, one bad site each: (file, [(code, place, text of the
/// message or help)], number of findings). Every expected finding is there, and nothing else
/// (no knock-on finding, no second report of one mistake).
#[test]
fn each_mistake_is_reported_once_with_its_fix() {
    type Expect = (&'static str, &'static str, &'static str);
    let cases: [(&str, &[Expect]); 10] = [
        (
            "type-error-and-semantic.toml",
            &[
                ("invalid-value", "3:8", "site name `9farm`"),
                ("invalid-value", "13:8", "`SQL_A` is not a valid host name"),
                (
                    "wrong-type",
                    "24:14",
                    "write the number without quotes: `every_days = 7`",
                ),
                (
                    "wrong-type",
                    "32:8",
                    "write the number without quotes: `port = 14330`",
                ),
            ],
        ),
        (
            "server-name-case.toml",
            &[(
                "duplicate-name",
                "17:8",
                "line 9 has the same server name (names are compared without case)",
            )],
        ),
        (
            "suggestions-equally-close.toml",
            &[
                (
                    "unknown-reference",
                    "21:12",
                    "did you mean `WEB01`, `WEB02` or `WEB03`?",
                ),
                ("unknown-reference", "26:30", "did you mean `WEB03`?"),
            ],
        ),
        (
            "knock-on-bad-server.toml",
            &[("invalid-value", "9:8", "`WEB_3` is not a valid host name")],
        ),
        (
            "bracketed-ipv6.toml",
            &[(
                "invalid-value",
                "11:11",
                "write the address without brackets (and without a port): `address = \"fd00::14\"`",
            )],
        ),
        (
            "duplicate-address.toml",
            &[(
                "duplicate-name",
                "15:11",
                "line 10 has the same server address; change one of them",
            )],
        ),
        (
            "time-without-leading-zero.toml",
            &[("invalid-value", "14:6", "write \"03:15\"")],
        ),
        (
            "release-with-space.toml",
            &[
                ("unknown-variant", "10:6", "write `os = \"2008r2\"`"),
                ("invalid-value", "15:6", "`25:00` is not a time of day"),
            ],
        ),
        (
            "unquoted-times.toml",
            &[
                (
                    "wrong-type",
                    "4:11",
                    "put it in quotes: `changed = \"2024-01-15 08:00:00\"`",
                ),
                ("wrong-type", "14:6", "put it in quotes: `at = \"03:15\"`"),
            ],
        ),
        (
            "backslash-basic-string.toml",
            &[(
                "toml-syntax",
                "5:19",
                "write the path in single quotes, which keep every backslash: `scripts_dir = 'C:\\localscripts'`",
            )],
        ),
    ];
    for (file, expected) in cases {
        let text = common::read(format!("tests/bad/{file}"));
        let diags = sitebundle::load_text(file, &text).unwrap_err();
        let found: Vec<(String, String, String)> = diags
            .to_json()
            .into_iter()
            .map(|d| {
                (
                    d.code.to_string(),
                    format!("{}:{}", d.line.unwrap(), d.column.unwrap()),
                    format!("{}\n{}", d.message, d.help.unwrap_or_default()),
                )
            })
            .collect();
        assert_eq!(found.len(), expected.len(), "{file}: {}", diags.render());
        for ((code, place, text), (want_code, want_place, want_text)) in found.iter().zip(expected)
        {
            assert_eq!(
                (code.as_str(), place.as_str()),
                (*want_code, *want_place),
                "{file}"
            );
            assert!(text.contains(want_text), "{file}: {text}");
        }
    }
}

/// A type error no longer hides the rest of the file: the same site with the type error fixed
/// has exactly the other findings, and none is about the repaired value.
#[test]
fn type_errors_come_with_the_semantic_errors_of_the_rest() {
    let text = common::read("tests/bad/type-error-and-semantic.toml");
    let with = sitebundle::load_text("t.toml", &text).unwrap_err();
    let fixed = text
        .replace("port = \"14330\"", "port = 14330")
        .replace("every_days = \"7\"", "every_days = 7");
    let without = sitebundle::load_text("t.toml", &fixed).unwrap_err();
    let semantic: Vec<&str> = without.items.iter().map(|d| d.message.as_str()).collect();
    let other: Vec<&str> = with
        .items
        .iter()
        .filter(|d| d.code != sitebundle::diag::Code::WrongType)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(other, semantic);
    assert_eq!(with.items.len(), semantic.len() + 2);
}

/// Every whole number of every valid site, quoted one at a time (`port = "1433"`), in a site whose
/// name is also wrong (`9…`): exactly two findings, the bad site name (a semantic error that serde's
/// first type error used to hide) and a `wrong-type` at that line with the number as the fix.
/// Nothing else: the repair takes the number meant, so no knock-on appears.
#[test]
fn a_quoted_number_anywhere_is_its_only_finding() {
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    let mut checked = 0;
    for (name, text) in sites {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((key, value)) = line.split_once(" = ") else {
                continue;
            };
            let number = value.split('#').next().unwrap_or("").trim();
            if key.contains(['[', '{', ' ']) || number.is_empty() || number.parse::<u32>().is_err()
            {
                continue;
            }
            let mut edited = lines.clone();
            let quoted = format!("{key} = \"{number}\"");
            edited[i] = &quoted;
            let edited = (edited.join("\n") + "\n").replacen("\nname = \"", "\nname = \"9", 1);
            let diags = sitebundle::load_text(&name, &edited).unwrap_err();
            // Warnings the site has anyway (PowerShell 2.0 on a 2003 front end) are not findings
            // of the edit: the errors are exactly the two.
            let json: Vec<_> = (diags.to_json().into_iter())
                .filter(|d| d.severity == "error")
                .collect();
            assert_eq!(json.len(), 2, "{name}:{}: {}", i + 1, diags.render());
            assert!(
                json[0].message.starts_with("site name `9"),
                "{}",
                json[0].message
            );
            assert_eq!(json[1].code, "wrong-type");
            assert_eq!(json[1].line, Some(i + 1));
            let help = json[1].help.as_deref().unwrap_or("");
            assert!(help.ends_with(&format!("`{key} = {number}`")), "{help}");
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} numbers");
}
