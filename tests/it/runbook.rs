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

/// The fenced code blocks of a Markdown text (CommonMark 0.31, "Fenced code blocks": a fence is
/// at least three backticks or tildes indented by at most three spaces; the block ends at a
/// fence of the same character at least as long, or at the end of the document).
fn code_blocks(md: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut open: Option<(char, usize, Vec<&str>)> = None;
    for line in md.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let t = line.trim_start_matches(' ');
        let fence = ['`', '~']
            .into_iter()
            .find(|c| indent <= 3 && t.starts_with(&c.to_string().repeat(3)))
            .map(|c| (c, t.len() - t.trim_start_matches(c).len()));
        match (&mut open, fence) {
            (None, Some((c, n))) => open = Some((c, n, Vec::new())),
            (Some((c, n, _)), Some((c2, n2)))
                if *c == c2 && n2 >= *n && t.trim_start_matches(c2).trim().is_empty() =>
            {
                blocks.push(open.take().unwrap().2);
            }
            (Some((_, _, lines)), _) => lines.push(line),
            (None, None) => {}
        }
    }
    if let Some((_, _, lines)) = open {
        blocks.push(lines);
    }
    blocks
}

/// The nodes whose traffic a block's commands change: `tmsh modify|delete ltm node NODE`,
/// a pool member's state (`members modify { NODE:PORT { state … } }`), and the connections to a
/// node's address (`tmsh delete sys connection ss-server-addr ADDR`). Read-only commands
/// (`list`, `show`) act on nothing.
fn nodes_acted_on(block: &[&str]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for line in block {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["tmsh", "modify" | "delete", "ltm", "node", node, ..] => {
                out.insert(node.to_string());
            }
            [
                "tmsh",
                "modify",
                "ltm",
                "pool",
                _,
                "members",
                "modify",
                "{",
                member,
                ..,
            ] => {
                let node = member.rsplit_once([':', '.']).map_or(*member, |(n, _)| n);
                out.insert(node.to_string());
            }
            ["tmsh", "delete", "sys", "connection", rest @ ..] => {
                if let Some(i) = rest.iter().position(|x| *x == "ss-server-addr") {
                    out.extend(rest.get(i + 1).map(|a| a.to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every runbook block acts on one node at most, on every fixture and the reference: pasted
/// whole, a block never takes several nodes of a pool down at once.
#[test]
fn every_runbook_block_acts_on_one_node_at_most() {
    let mut sites = common::fixtures();
    sites.push(("site.toml".into(), common::read("site.toml")));
    let mut failover_blocks = 0;
    for (name, text) in &sites {
        let md = runbook(&common::build_text(name, text));
        for block in code_blocks(&md) {
            let nodes = nodes_acted_on(&block);
            assert!(
                nodes.len() <= 1,
                "{name}: one block acts on {nodes:?}:\n{}",
                block.join("\n")
            );
            failover_blocks += usize::from(block.iter().any(|l| l.ends_with("state user-down")));
        }
    }
    // The check saw the failover test (reference, F5 fixtures), or it would prove nothing.
    assert!(failover_blocks >= 6, "{failover_blocks}");
}

/// Control: the failover block of the previous runbook (every node down, then `show`, in one
/// block) is caught, and so is a block that resets two nodes' connections.
#[test]
fn a_block_that_takes_two_nodes_down_is_caught() {
    let old = "Test:\n\n```\ntmsh modify ltm node /Common/sharepoint3 state user-down\ntmsh modify ltm node /Common/sharepoint2 state user-down\ntmsh show ltm pool /Common/SharePoint members field-fmt\n```\n";
    let blocks = code_blocks(old);
    assert_eq!(blocks.len(), 1);
    assert_eq!(nodes_acted_on(&blocks[0]).len(), 2);
    let conns = "~~~~\ntmsh delete sys connection ss-server-addr 10.0.0.1 ss-server-port 80\ntmsh delete sys connection ss-server-addr 10.0.0.2 ss-server-port 80\n~~~~\n";
    assert_eq!(nodes_acted_on(&code_blocks(conns)[0]).len(), 2);
    let member = "```\ntmsh modify ltm pool /Common/p members modify { /Common/a:80 { state user-down } }\ntmsh modify ltm pool /Common/p members modify { /Common/b:80 { state user-down } }\n```\n";
    assert_eq!(nodes_acted_on(&code_blocks(member)[0]).len(), 2);
    // Read-only commands act on nothing.
    let show = "```\ntmsh show ltm node /Common/a\ntmsh list ltm node /Common/b\n```\n";
    assert!(nodes_acted_on(&code_blocks(show)[0]).is_empty());
}
