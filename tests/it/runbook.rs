//! The runbook as a newcomer reads it: the checklist links land on headings, the GPO backup is one
//! row of the file table, no rollback or verify command is left with an ellipsis, and the sections
//! agree with the checklist about who registers the tasks.

use crate::common;

use sitebundle::render::anchor;

fn runbook(bundle: &sitebundle::bundle::Bundle) -> String {
    String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap()
}

fn check(name: &str, text: &str) {
    let bundle = common::build_text(name, text);
    let md = runbook(&bundle);
    let headings: Vec<String> = md
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    // Every in-page link points at a heading.
    let mut links = 0;
    for part in md.split("](#").skip(1) {
        let target = part.split(')').next().unwrap();
        assert!(
            headings.iter().any(|h| h == target),
            "{name}: link #{target} has no heading; headings: {headings:?}"
        );
        links += 1;
    }
    // The checklist exists and is numbered 1, 2, 3, … without gaps.
    let checklist = md
        .split("## Order of deployment\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("{name}: no checklist"));
    let numbers: Vec<usize> = checklist
        .lines()
        .filter_map(|l| l.split_once(". **").and_then(|(n, _)| n.parse().ok()))
        .collect();
    assert!(!numbers.is_empty(), "{name}");
    assert_eq!(numbers, (1..=numbers.len()).collect::<Vec<_>>(), "{name}");
    assert!(
        links >= numbers.len(),
        "{name}: every step links to its section"
    );
    // A GPO backup is one row of the file table, with its import command once.
    let table_rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
    let gpo_dirs = bundle
        .files
        .keys()
        .filter_map(|p| p.strip_prefix("gpo/")?.split('/').next())
        .collect::<std::collections::BTreeSet<_>>();
    let import_rows = table_rows
        .iter()
        .filter(|r| r.contains("Import-GPO"))
        .count();
    assert_eq!(import_rows, gpo_dirs.len(), "{name}");
    // Commands in code blocks carry no ellipsis placeholder.
    let mut in_code = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            assert!(
                !line.contains('…'),
                "{name}: placeholder in a command: {line}"
            );
        }
    }
    assert!(!in_code, "{name}: unbalanced code fence");
    // With a GPO that registers tasks, no section tells the reader to register them by hand
    // without saying that the GPO does it.
    let site = sitebundle::load_text(name, text).unwrap().0;
    let gpo_tasks = site
        .farm
        .gpo
        .as_ref()
        .is_some_and(|g| g.includes(sitebundle::model::gpo::Preference::Tasks));
    if gpo_tasks {
        assert!(
            md.contains("the GPO has registered the scheduled tasks"),
            "{name}"
        );
        for section in md.split("\n## ").skip(1) {
            if section.contains("schtasks /Create") && !section.starts_with("Files") {
                assert!(
                    section.contains("GPO") || section.contains("Group Policy"),
                    "{name}: section `{}` registers tasks by hand without mentioning the GPO",
                    section.lines().next().unwrap()
                );
            }
        }
    }
}

#[test]
fn runbooks_read_as_a_newcomer_needs() {
    check("site.toml", &common::read("site.toml"));
    for (name, text) in common::fixtures() {
        check(&name, &text);
    }
    check("init", &common::read("src/init_site.toml"));
}
