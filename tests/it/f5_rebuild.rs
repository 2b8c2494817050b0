//! A rebuild applied to a BIG-IP: the runbook's merge-file path executed against a model of the
//! BIG-IP's pools, first for a site, then for the same site with one pool member removed (and with
//! one member's port changed). The pools must end up with exactly the second site's members.
//!
//! The model (LTM nodes and pool members only; every other command of the path is read-only or
//! changes nothing it holds, and a command it does not know fails the test):
//! - `tmsh load sys config merge file F` creates the nodes and pools of F and **adds** F's members
//!   to an existing pool, updating those it names and keeping the others: f5devcentral/vscode-f5
//!   issue 137 ("merge TCL/TMOS pool member only adds to existing config": after merging a pool
//!   whose member's port changed, "the result would be two members"; `load sys config replace`
//!   gave the file's members). `… merge verify file F` changes nothing (the dry run).
//! - `tmsh modify ltm pool P members replace-all-with { M { … } … }` makes P's members exactly the
//!   list; `members delete { M … }` removes those named (F5 tmsh reference, `ltm pool`: "members
//!   [add | delete | modify | replace-all-with] { [node_name:port] { address … priority-group … } }").
//! - `list`, `show`, `save sys config`, `create ltm profile …`, `modify ltm virtual … persist none`
//!   change no node or member; `tmsh -c '…'` is accepted only with `cd` and `list` inside.
//! - `curl` lines are HTTP requests: the monitor probes and the AS3 path (its POST is the other way
//!   to deploy, not the merge file's: this test follows the merge file).

use std::collections::{BTreeMap, BTreeSet};

use crate::common;
use crate::f5_equivalence::parse_conf;

/// A pool's members: `/P/node:port` → (address, priority group).
type Members = BTreeMap<String, (String, String)>;

/// The BIG-IP's nodes and pools, as the commands above leave them.
#[derive(Default, Debug)]
struct Bigip {
    nodes: BTreeSet<String>,
    pools: BTreeMap<String, Members>,
}

/// The members of every pool a merge file states.
fn conf_pools(conf: &str) -> BTreeMap<String, Members> {
    let mut out = BTreeMap::new();
    for it in parse_conf(conf) {
        if it.words[..2] != ["ltm", "pool"] {
            continue;
        }
        let members = (it.get("members").and_then(|m| m.block.clone())).unwrap_or_default();
        let members = members
            .iter()
            .map(|m| {
                let props = (
                    m.value("address").unwrap(),
                    m.value("priority-group").unwrap(),
                );
                (m.words[0].clone(), props)
            })
            .collect();
        out.insert(it.words[2].clone(), members);
    }
    out
}

impl Bigip {
    /// `load sys config merge`: nodes and pools created, members added or updated, none removed.
    fn merge(&mut self, conf: &str) {
        for it in parse_conf(conf) {
            if it.words[..2] == ["ltm", "node"] {
                self.nodes.insert(it.words[2].clone());
            }
        }
        for (pool, members) in conf_pools(conf) {
            self.pools.entry(pool).or_default().extend(members);
        }
    }

    /// One tmsh command of the runbook (its words); `files` are the bundle's files by name, as
    /// copied to /var/tmp.
    fn tmsh(&mut self, w: &[&str], files: &BTreeMap<String, String>) -> Result<(), String> {
        match w {
            ["list" | "show", ..] | ["save", "sys", "config"] => Ok(()),
            ["create", "ltm", "profile", ..] => Ok(()),
            ["modify", "ltm", "virtual", _, "persist", "none"] => Ok(()),
            ["load", "sys", "config", "merge", "verify", "file", _] => Ok(()),
            ["load", "sys", "config", "merge", "file", path] => {
                let name = path.strip_prefix("/var/tmp/").ok_or("not /var/tmp")?;
                let conf = files.get(name).ok_or(format!("no file {name}"))?;
                self.merge(conf);
                Ok(())
            }
            [
                "modify",
                "ltm",
                "pool",
                pool,
                "members",
                op,
                "{",
                rest @ ..,
                "}",
            ] => {
                let listed = member_list(rest)?;
                let members = self.pools.get_mut(*pool).ok_or(format!("no pool {pool}"))?;
                match *op {
                    "replace-all-with" => *members = listed,
                    "delete" => members.retain(|m, _| !listed.contains_key(m)),
                    _ => return Err(format!("members {op} is not in the model")),
                }
                Ok(())
            }
            _ => Err(format!("not in the model: tmsh {}", w.join(" "))),
        }
    }
}

/// `M { address A priority-group N } …` (or bare names, for `delete`) → members.
fn member_list(w: &[&str]) -> Result<Members, String> {
    let mut out = Members::new();
    let mut i = 0;
    while i < w.len() {
        let name = w[i].to_string();
        if w.get(i + 1) != Some(&"{") {
            out.insert(name, Default::default());
            i += 1;
            continue;
        }
        let end = (i + 2..w.len())
            .find(|&j| w[j] == "}")
            .ok_or("unclosed member")?;
        let props: BTreeMap<&str, &str> = w[i + 2..end]
            .chunks(2)
            .map(|kv| (kv[0], *kv.get(1).unwrap_or(&"")))
            .collect();
        let get = |k: &str| props.get(k).map(|v| v.to_string()).unwrap_or_default();
        out.insert(name, (get("address"), get("priority-group")));
        i = end + 1;
    }
    Ok(out)
}

/// The lines of a text, a line ending in a backslash joined with the next (bash's line
/// continuation).
fn joined_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// The `sh` blocks of the runbook's F5 section, line by line, applied to `bigip`.
fn apply_runbook(bigip: &mut Bigip, md: &str, files: &BTreeMap<String, String>) -> Vec<String> {
    let start = md
        .find("\n## F5 BIG-IP\n")
        .expect("the runbook has an F5 section");
    let section = &md[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut errors = Vec::new();
    let mut in_sh = false;
    let read_only_c = |l: &str| {
        let inner = l.split('\'').nth(1).unwrap_or_default();
        (inner.split(';').map(str::trim)).all(|c| c == "cd /" || c.starts_with("list "))
    };
    for line in joined_lines(section) {
        match (in_sh, line.as_str()) {
            (false, "```sh") => in_sh = true,
            (true, "```") => in_sh = false,
            (true, l) if l.starts_with("curl ") => {}
            (true, l) if l.starts_with("tmsh -c '") || l.contains("=$(tmsh -q -c '") => {
                errors.extend((!read_only_c(l)).then(|| format!("not read-only: {l}")));
            }
            // The pre-flight's loops: each word searched in a kept listing, or listed by name.
            (true, l) if l.starts_with("for ") => {
                let body = l.split("; do ").nth(1).unwrap_or_default();
                let read_only = body.starts_with("printf '%s\\n' ") && body.contains(" | grep -F ")
                    || body.starts_with("tmsh list ltm ");
                errors.extend((!read_only).then(|| format!("not read-only: {l}")));
            }
            (true, l) => {
                let w: Vec<&str> = l.split_whitespace().collect();
                match w.split_first() {
                    Some((&"tmsh", rest)) => errors.extend(bigip.tmsh(rest, files).err()),
                    _ => errors.push(format!("not a BIG-IP command: {l}")),
                }
            }
            _ => {}
        }
    }
    errors
}

/// The F5 files of a bundle by file name (`Common.conf`), and its runbook.
fn built(name: &str, text: &str) -> (String, BTreeMap<String, String>) {
    let b = common::build_text(name, text);
    let s = |p: &str| String::from_utf8(b.files[p].bytes.clone()).unwrap();
    let files = (b.files.keys())
        .filter_map(|p| p.strip_prefix("f5/").map(|n| (n.to_string(), s(p))))
        .collect();
    (s("README.md"), files)
}

/// What a pool holds that the merge file of the last build does not state, and the reverse.
fn drift(bigip: &Bigip, conf: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (pool, want) in conf_pools(conf) {
        let have = bigip.pools.get(&pool).cloned().unwrap_or_default();
        for (m, props) in &have {
            match want.get(m) {
                None => out.push(format!("{pool} keeps {m}, which the site no longer has")),
                Some(p) if p != props => out.push(format!("{pool} {m} is {props:?}, not {p:?}")),
                _ => {}
            }
        }
        out.extend(
            (want.keys().filter(|m| !have.contains_key(*m))).map(|m| format!("{pool} lacks {m}")),
        );
    }
    out
}

const SITE: &str = "tests/fixtures/migration-2019.toml";
const WEB4: &str = "  { server = \"web4\", port = 80 },\n";

/// Builds `old`, then `new`, each applied with its runbook (`edit` changes the second runbook);
/// returns the BIG-IP's pools after each and the drift from the second merge file.
fn two_builds(new: &str, edit: impl Fn(&str) -> String) -> (Bigip, Members, Vec<String>) {
    let old = common::read(SITE);
    let (md_a, files_a) = built("old.toml", &old);
    let mut bigip = Bigip::default();
    assert_eq!(
        apply_runbook(&mut bigip, &md_a, &files_a),
        Vec::<String>::new()
    );
    assert_eq!(drift(&bigip, &files_a["Common.conf"]), Vec::<String>::new());
    let before = bigip.pools["/Common/web"].clone();
    let (md_b, files_b) = built("new.toml", new);
    let errors = apply_runbook(&mut bigip, &edit(&md_b), &files_b);
    assert_eq!(errors, Vec::<String>::new());
    let drift = drift(&bigip, &files_b["Common.conf"]);
    (bigip, before, drift)
}

#[test]
fn a_rebuild_without_a_member_removes_exactly_that_member() {
    let old = common::read(SITE);
    assert!(old.contains(WEB4), "the fixture has web4 in pool web");
    let (bigip, before, drift) = two_builds(&old.replace(WEB4, ""), |md| md.to_string());
    assert_eq!(drift, Vec::<String>::new());
    let after = &bigip.pools["/Common/web"];
    let removed: Vec<&String> = before.keys().filter(|m| !after.contains_key(*m)).collect();
    assert_eq!(removed, ["/Common/web4:80"]);
    assert_eq!(after.len(), 3);
    // The node stays, as the runbook says (deleted by hand once no pool uses it).
    assert!(bigip.nodes.contains("/Common/web4"));
}

/// vscode-f5 issue 137's own case: a member's port changed. The pool ends with the new port only.
#[test]
fn a_rebuild_with_a_new_port_leaves_no_member_on_the_old_one() {
    let old = common::read(SITE);
    let web3 = "{ server = \"web3\", port = 80 }";
    let new = old.replace(web3, "{ server = \"web3\", port = 8080 }");
    assert_ne!(new, old);
    let (bigip, _, drift) = two_builds(&new, |md| md.to_string());
    assert_eq!(drift, Vec::<String>::new());
    let after: Vec<&String> = bigip.pools["/Common/web"].keys().collect();
    assert!(
        after.contains(&&"/Common/web3:8080".to_string()),
        "{after:?}"
    );
    assert!(
        !after.contains(&&"/Common/web3:80".to_string()),
        "{after:?}"
    );
}

/// Control: the runbook before issue 31 (the merge without the `replace-all-with` lines) leaves
/// the removed member in the pool, and the drift check says so.
#[test]
fn control_the_merge_alone_keeps_the_removed_member() {
    let old = common::read(SITE);
    let without_replace = |md: &str| {
        let kept: Vec<&str> = (md.lines())
            .filter(|l| !l.contains(" members replace-all-with "))
            .collect();
        assert!(kept.len() < md.lines().count(), "the runbook has the lines");
        kept.join("\n")
    };
    let (_, _, drift) = two_builds(&old.replace(WEB4, ""), without_replace);
    assert_eq!(
        drift,
        ["/Common/web keeps /Common/web4:80, which the site no longer has"]
    );
}

/// Control for the model: a command it does not know fails the run instead of being skipped.
#[test]
fn control_an_unknown_command_fails_the_run() {
    let mut bigip = Bigip::default();
    let md = "\n## F5 BIG-IP\n\n```sh\ntmsh delete ltm pool /Common/web\n```\n";
    let errors = apply_runbook(&mut bigip, md, &BTreeMap::new());
    assert_eq!(
        errors,
        ["not in the model: tmsh delete ltm pool /Common/web"]
    );
}
