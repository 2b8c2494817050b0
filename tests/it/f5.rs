//! F5 BIG-IP artifacts: the generated iRules executed in tclsh (tests/irule_harness.tcl) over many
//! request paths and keep-alive sequences; the merge file parsed by Tcl's own parser
//! (tests/tmsh_structure.tcl) plus a reference check (every pool, monitor, node, rule and profile a
//! statement names is defined in the file or a known /Common built-in); the AS3 declaration and
//! every F5 file through the real-parser validators; hostile names and routes rejected or quoted.
//! Needs `tclsh` on PATH (and the validator venv for the validate() tests).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use sitebundle::bundle::Bundle;

fn text(b: &Bundle, path: &str) -> String {
    String::from_utf8(b.files[path].bytes.clone()).unwrap()
}

fn tcl_quote(s: &str) -> String {
    // A Tcl list element in braces cannot hold unbalanced braces or a trailing backslash; the test
    // inputs are chosen without them, and this guard keeps a mistake from corrupting the case file.
    assert!(!s.contains(['{', '}', '\\', '\n']), "test input {s:?}");
    format!("{{{s}}}")
}

/// One simulated connection: (label, rule file, default pool, [(uri, expected pool)]).
type Conn = (String, String, String, Vec<(String, String)>);

/// Runs every connection through one tclsh; returns the failures.
fn run_harness(conns: &[Conn]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.txt");
    let mut s = String::new();
    for (label, rule, default, reqs) in conns {
        let reqs: Vec<String> = reqs
            .iter()
            .map(|(u, p)| format!("{{{} {}}}", tcl_quote(u), tcl_quote(p)))
            .collect();
        s.push_str(&format!(
            "{} {} {} {{{}}}\n",
            tcl_quote(label),
            tcl_quote(rule),
            tcl_quote(default),
            reqs.join(" ")
        ));
    }
    std::fs::write(&cases, s).unwrap();
    let out = Command::new("tclsh")
        .arg(common::repo().join("tests/irule_harness.tcl"))
        .arg(&cases)
        .output()
        .expect("tclsh runs (apt-get install tcl)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let done = stdout
        .lines()
        .find(|l| l.starts_with("done "))
        .unwrap_or_else(|| {
            panic!(
                "harness did not finish: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let passed: usize = done.split(' ').nth(1).unwrap().parse().unwrap();
    let fails: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .map(String::from)
        .collect();
    assert_eq!(passed + fails.len(), conns.len(), "{stdout}");
    fails
}

/// (uri, routed?) for the reference rule's `/ECTS/` route.
fn ects_paths() -> Vec<(&'static str, bool)> {
    vec![
        ("/ECTS/x", true),
        ("/ects/x", true),
        ("/Ects/Admin/Default.aspx", true),
        ("/ECTS/", true),
        ("/ECTS", true),
        ("/ects", true),
        ("/%45CTS/x", true),
        ("/%65cts/", true),
        ("/%45%43%54%53/x", true),
        ("/%2545CTS/x", true),
        ("/ects?x=1", true),
        ("/ECTS/page.aspx?return=/", true),
        ("//ECTS/", true),
        ("///ects//x", true),
        ("/./ECTS/x", true),
        ("/x/../ECTS/y", true),
        ("/ects%2Fadmin", true),
        ("/ECTS%5Cx", true),
        ("http://partnerpoint.campus.example.edu/ECTS/x", true),
        ("HTTP://host:80/ects", true),
        ("/", false),
        ("", false),
        ("/ECTSX", false),
        ("/ectsx/y", false),
        ("/%45CTSX/", false),
        ("/ECTS-old/", false),
        ("/ect", false),
        // Windows drops a segment's trailing dots and spaces: IIS serves these from /ECTS/.
        ("/ects../x", true),
        ("/ECTS./x", true),
        ("/ECTS. ./x", true),
        ("/ECTS%20/x", true),
        ("/ECTS%2e%20", true),
        ("/ECTS.../", true),
        // %uNNNN, which IIS decodes too, alone, mixed, double-encoded and as a slash.
        ("/%u0045CTS/x", true),
        ("/%U0065cts/", true),
        ("/%u0045%43%u0054S/x", true),
        ("/%25u0045CTS/x", true),
        ("/%u0025u0045CTS/x", true),
        ("/x%u002f..%u002fECTS/y", true),
        ("/.ECTS/", false),
        ("/ECTS.x/", false),
        ("/%u0045CTSX/", false),
        ("/%u004/ECTS", false),
        ("/%u00zzECTS/", false),
        ("/sites/ects/", false),
        ("/default.aspx?u=/ECTS/", false),
        ("/?x=/ects/", false),
        ("/ECTS/../x", false),
        ("/_layouts/images/blank.gif", false),
        ("http://host/", false),
        ("http://host", false),
        ("*", false),
    ]
}

const REF_DEFAULT: &str = "/Common/SharePoint";
const REF_ADMIN: &str = "/Common/WSS_partner_admin";

fn reference_conns(rule: &str, default: &str, admin: &str, tag: &str) -> Vec<Conn> {
    let mut conns: Vec<Conn> = Vec::new();
    // One connection per path, and each path as the second request after a routed one and after
    // a default one (keep-alive: the pool of the previous request must not stick).
    for (i, (uri, routed)) in ects_paths().into_iter().enumerate() {
        let want = if routed { admin } else { default };
        for (first, first_want) in [("/ECTS/first", admin), ("/first", default)] {
            conns.push((
                format!("{tag} #{i} {uri} after {first}"),
                rule.into(),
                default.into(),
                vec![
                    (first.into(), first_want.into()),
                    (uri.into(), want.into()),
                    ("/after".into(), default.into()),
                ],
            ));
        }
    }
    conns.push((
        format!("{tag} long keep-alive"),
        rule.into(),
        default.into(),
        vec![
            ("/ECTS/a".into(), admin.into()),
            ("/ECTS/b".into(), admin.into()),
            ("/".into(), default.into()),
            ("/x".into(), default.into()),
            ("/ects".into(), admin.into()),
            ("/ectsx".into(), default.into()),
        ],
    ));
    conns
}

#[test]
fn reference_irule_routes_every_request() {
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let rule = dir.path().join("f5/irules/vs_sharepoint_routes.tcl");
    let conns = reference_conns(
        &rule.to_string_lossy(),
        REF_DEFAULT,
        REF_ADMIN,
        "merge-file rule",
    );
    assert!(conns.len() > 70);
    let fails = run_harness(&conns);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn as3_irule_routes_to_as3_paths() {
    let b = common::reference();
    let as3: serde_json::Value = serde_json::from_str(&text(&b, "f5/as3.json")).unwrap();
    let app = &as3["declaration"]["partnerpoint"]["sitebundle"];
    let rule = app["vs_sharepoint_routes"]["iRule"].as_str().unwrap();
    assert_eq!(app["vs_sharepoint_routes"]["expand"], false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("as3_rule.tcl");
    std::fs::write(&file, rule).unwrap();
    let conns = reference_conns(
        &file.to_string_lossy(),
        "/partnerpoint/sitebundle/SharePoint",
        "/partnerpoint/sitebundle/WSS_partner_admin",
        "AS3 rule",
    );
    let fails = run_harness(&conns);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn fixture_nested_routes_pick_the_longest_prefix() {
    let (_, t) = common::fixtures()
        .into_iter()
        .find(|(n, _)| n == "f5-extranet.toml")
        .unwrap();
    let b = common::build_text("f5-extranet.toml", &t);
    let dir = common::write_tmp(&b);
    let rule = dir
        .path()
        .join("f5/irules/www_paths.tcl")
        .to_string_lossy()
        .to_string();
    let (d, admin, api) = (
        "/Extranet/web_pool",
        "/Extranet/admin_pool",
        "/Extranet/api_pool",
    );
    let cases = [
        ("/admin", admin),
        ("/ADMIN/x", admin),
        ("/admin/api", api),
        ("/Admin/Api/v1?q=1", api),
        ("/admin/%41PI/x", api),
        ("/admin/apix", admin),
        ("/administrator", d),
        ("/_layouts/v2.0/x.aspx", api),
        ("/_LAYOUTS/V2.0", api),
        ("/_layouts/v2x0/", d),
        ("/_layouts/v2.0x", d),
        ("/_layouts/", d),
        ("/", d),
    ];
    let conns: Vec<Conn> = cases
        .iter()
        .enumerate()
        .map(|(i, (u, p))| {
            (
                format!("fixture #{i} {u}"),
                rule.clone(),
                d.to_string(),
                vec![
                    ("/admin/api/first".into(), api.into()),
                    (u.to_string(), p.to_string()),
                    ("/z".into(), d.into()),
                ],
            )
        })
        .collect();
    let fails = run_harness(&conns);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn harness_catches_a_rule_without_default_branch() {
    // The original write-up's rule (completed and made case-insensitive, but still without a default branch):
    // the second request of a keep-alive connection sticks to the admin pool. The harness must see it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("original.tcl");
    std::fs::write(
        &file,
        "when HTTP_REQUEST {\n    if {[string match -nocase \"/ECTS/*\" [HTTP::uri]]} {\n        pool /Common/WSS_partner_admin\n    }\n}\nwhen CLIENT_ACCEPTED { }\n",
    )
    .unwrap();
    let f = file.to_string_lossy().to_string();
    let fails = run_harness(&[
        (
            "original keep-alive".into(),
            f.clone(),
            REF_DEFAULT.into(),
            vec![
                ("/ECTS/x".into(), REF_ADMIN.into()),
                ("/".into(), REF_DEFAULT.into()),
            ],
        ),
        (
            "original encoded".into(),
            f,
            REF_DEFAULT.into(),
            vec![("/%45CTS/x".into(), REF_ADMIN.into())],
        ),
    ]);
    assert_eq!(fails.len(), 2, "{fails:?}");
    assert!(fails[0].contains("selected 0 pools"), "{fails:?}");
}

/// Control for the IIS normalisation: the generated rule without its `%uNNNN` decoding and
/// without trimming trailing dots and spaces (the previous rule) sends exactly the new cases to
/// the wrong pool.
#[test]
fn harness_catches_the_rule_without_iis_normalisation() {
    let b = common::reference();
    let rule = text(&b, "f5/irules/vs_sharepoint_routes.tcl");
    // The previous rule's behaviour: %uNNNN never decoded (its branch never taken), trailing dots
    // and spaces kept.
    let u_branch = "[string match -nocase {u[0-9a-f][0-9a-f][0-9a-f][0-9a-f]*} $part]";
    assert!(rule.contains(u_branch), "{rule}");
    let old = rule.replace(u_branch, "0").replace(
        "                set segment [string trimright $segment \". \"]\n",
        "",
    );
    assert!(
        !old.contains("{u[0-9a-f]") && !old.contains("trimright"),
        "{old}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.tcl");
    std::fs::write(&file, &old).unwrap();
    let conns = reference_conns(&file.to_string_lossy(), REF_DEFAULT, REF_ADMIN, "old");
    let fails = run_harness(&conns);
    let failing: std::collections::BTreeSet<&str> = ects_paths()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| fails.iter().any(|f| f.contains(&format!(" {p} after "))))
        .collect();
    let new_cases: std::collections::BTreeSet<&str> = [
        "/ects../x",
        "/ECTS./x",
        "/ECTS. ./x",
        "/ECTS%20/x",
        "/ECTS%2e%20",
        "/ECTS.../",
        "/%u0045CTS/x",
        "/%U0065cts/",
        "/%u0045%43%u0054S/x",
        "/%25u0045CTS/x",
        "/%u0025u0045CTS/x",
        "/x%u002f..%u002fECTS/y",
    ]
    .into();
    assert_eq!(failing, new_cases, "{fails:#?}");
}

#[test]
fn irules_are_canonical() {
    let mut bundles = vec![common::reference()];
    for (n, t) in common::fixtures() {
        bundles.push(common::build_text(&n, &t));
    }
    let mut seen = 0;
    for b in &bundles {
        for (p, a) in &b.files {
            if p.starts_with("f5/irules/") {
                let t = String::from_utf8(a.bytes.clone()).unwrap();
                assert_eq!(t, sitebundle::families::f5::canonical_rule(&t), "{p}");
                assert!(!t.contains('\r') && t.ends_with("}\n") && !t.starts_with('\n'));
                assert!(t.lines().all(|l| l == l.trim_end()), "{p}");
                // Embedded verbatim in the merge file.
                let conf = b
                    .files
                    .iter()
                    .find(|(k, _)| k.ends_with(".conf"))
                    .map(|(_, a)| String::from_utf8(a.bytes.clone()).unwrap())
                    .unwrap();
                assert!(conf.contains(&format!(" {{\n{t}}}\n")), "{p} not embedded");
                seen += 1;
            }
        }
    }
    assert!(seen >= 2);
    assert_eq!(
        sitebundle::families::f5::canonical_rule("\n\n a \r\n\nb  \n\n\n"),
        " a\n\nb\n"
    );
}

// ---- merge file structure and references ----------------------------------------------------

const BUILTIN_PROFILES: &[&str] = &[
    "/Common/http",
    "/Common/ntlm",
    "/Common/oneconnect",
    "/Common/tcp",
    "/Common/tcp-lan-optimized",
    "/Common/tcp-wan-optimized",
];
const BUILTIN_PERSIST: &[&str] = &["/Common/source_addr", "/Common/cookie"];
/// F5's built-in iRules the merge file may name (`/Common/_sys_https_redirect`: the redirect of
/// an HTTPS virtual server's port-80 twin).
const BUILTIN_RULES: &[&str] = &["/Common/_sys_https_redirect"];
const BUILTIN_MONITORS: &[&str] = &[
    "/Common/http",
    "/Common/https",
    "/Common/tcp",
    "/Common/tcp_half_open",
    "/Common/gateway_icmp",
    "/Common/icmp",
];

/// What the merge file defines and says, as read by the checks below.
#[derive(Debug, Default)]
struct Conf {
    /// (kind, path): kind is `monitor`, `node`, `pool`, `rule`, `virtual`.
    defined: BTreeSet<(String, String)>,
    node_address: BTreeMap<String, String>,
    /// pool → [(member, address, priority group)]
    members: BTreeMap<String, Vec<(String, String, u32)>>,
    min_active: BTreeMap<String, u32>,
    /// virtual → property lines at depth 1 (first word → rest), plus block contents.
    virtual_props: BTreeMap<String, BTreeMap<String, String>>,
    virtual_blocks: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    errors: Vec<String>,
}

/// Tcl's parser over the merge file: statement headers, or parse errors.
pub(crate) fn tcl_statements(path: &Path) -> Vec<(String, Vec<String>)> {
    let out = Command::new("tclsh")
        .arg(common::repo().join("tests/tmsh_structure.tcl"))
        .arg(path)
        .output()
        .expect("tclsh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            // STMT LINE {WORDS} or ERR LINE {MESSAGE}; header words never contain spaces or braces.
            let (tag, rest) = l.split_once(' ').unwrap();
            let (_, words) = rest.split_once(' ').unwrap();
            let words = words.trim_start_matches('{').trim_end_matches('}');
            (
                tag.to_string(),
                words.split_whitespace().map(String::from).collect(),
            )
        })
        .collect()
}

fn kind_of(header: &[String]) -> Option<String> {
    match header
        .get(..2)?
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()[..]
    {
        ["ltm", "monitor"] => Some("monitor".into()),
        ["ltm", k @ ("node" | "pool" | "rule" | "virtual")] => Some(k.into()),
        _ => None,
    }
}

/// A pool member's node and port: `/P/node:port`, or `/P/2001:db8::1.port` when the node's name
/// is an IPv6 address (f5-appsvcs-extension src/lib/map_as3.js, addMember: the separator is `.`
/// when the node name contains `:`, else `:`; the merge file names nodes after servers, so it
/// always writes `:`).
fn member_node_port(member: &str) -> (&str, &str) {
    let (node, port) = member
        .rsplit_once(['.', ':'])
        .expect("member is node:port or node.port");
    let sep = member.as_bytes()[node.len()];
    let name = node.rsplit('/').next().unwrap();
    assert_eq!(
        sep == b'.',
        name.contains(':'),
        "{member}: `.` separates the port exactly when the node name has a `:`"
    );
    (node, port)
}

/// Reads a merge file (one property per line, as generated) and checks every reference.
fn read_conf(path: &Path) -> Conf {
    let mut c = Conf::default();
    for (tag, words) in tcl_statements(path) {
        if tag != "STMT" {
            c.errors.push(format!("Tcl parse: {}", words.join(" ")));
            continue;
        }
        match kind_of(&words) {
            Some(k) => {
                c.defined.insert((k, words.last().unwrap().clone()));
            }
            None => c
                .errors
                .push(format!("unexpected statement {}", words.join(" "))),
        }
    }
    let text = std::fs::read_to_string(path).unwrap();
    let is_defined =
        |c: &Conf, kind: &str, p: &str| c.defined.contains(&(kind.to_string(), p.to_string()));
    let mut stack: Vec<String> = Vec::new();
    let mut stmt: (String, String) = Default::default();
    let mut in_rule = false;
    let mut rule_depth: i64 = 0;
    let mut refs: Vec<(String, String, String)> = Vec::new(); // (kind, path, where)
    let mut member = String::new();
    for line in text.lines() {
        if in_rule {
            // The rule body's own braces balance (Tcl checked it); the statement ends at the `}`
            // that closes `ltm rule … {`.
            if line == "}" && rule_depth == 0 {
                in_rule = false;
                stack.clear();
                continue;
            }
            let mut escaped = false;
            for ch in line.chars() {
                match ch {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '{' => rule_depth += 1,
                    '}' => rule_depth -= 1,
                    _ => {}
                }
            }
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("pool ") {
                if !rest.starts_with('$') {
                    refs.push(("pool".into(), rest.trim().into(), stmt.1.clone()));
                }
            }
            continue;
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        if stack.is_empty() {
            let header: Vec<String> = words[..words.len() - 1]
                .iter()
                .map(|s| s.to_string())
                .collect();
            stmt = (
                kind_of(&header).unwrap_or_default(),
                header.last().cloned().unwrap_or_default(),
            );
            if stmt.0 == "rule" {
                in_rule = true;
                continue;
            }
            stack.push(stmt.0.clone());
            continue;
        }
        if t == "}" {
            stack.pop();
            continue;
        }
        let depth = stack.len();
        let parent = stack.last().unwrap().clone();
        let opens = t.ends_with('{');
        let oneliner = t.ends_with("{ }");
        match (stmt.0.as_str(), depth, parent.as_str()) {
            ("monitor", 1, _)
                if words[0] == "defaults-from" && !BUILTIN_MONITORS.contains(&words[1]) =>
            {
                c.errors
                    .push(format!("{}: unknown parent monitor {}", stmt.1, words[1]));
            }
            ("node", 1, _) if words[0] == "address" => {
                c.node_address.insert(stmt.1.clone(), words[1].into());
            }
            ("pool", 1, _) if words[0] == "monitor" => {
                for (i, w) in words[1..].iter().enumerate() {
                    if i % 2 == 1 {
                        assert_eq!(*w, "and", "{t}");
                    } else if !BUILTIN_MONITORS.contains(w) {
                        refs.push(("monitor".into(), w.to_string(), stmt.1.clone()));
                    }
                }
            }
            ("pool", 1, _) if words[0] == "min-active-members" => {
                c.min_active
                    .insert(stmt.1.clone(), words[1].parse().unwrap());
            }
            ("pool", 2, "members") if opens => {
                member = words[0].to_string();
                let (node, port) = member_node_port(&member);
                assert!(port.parse::<u16>().is_ok(), "{member}");
                refs.push(("node".into(), node.into(), stmt.1.clone()));
                c.members.entry(stmt.1.clone()).or_default().push((
                    member.clone(),
                    String::new(),
                    0,
                ));
            }
            ("pool", 3, _) => {
                let last = c.members.get_mut(&stmt.1).unwrap().last_mut().unwrap();
                match words[0] {
                    "address" => last.1 = words[1].into(),
                    "priority-group" => last.2 = words[1].parse().unwrap(),
                    other => c.errors.push(format!("{member}: unexpected {other}")),
                }
            }
            ("virtual", 1, _) if !opens => {
                c.virtual_props
                    .entry(stmt.1.clone())
                    .or_default()
                    .insert(words[0].into(), words[1..].join(" "));
                if words[0] == "pool" {
                    refs.push(("pool".into(), words[1].into(), stmt.1.clone()));
                }
            }
            ("virtual", 2, block) => {
                c.virtual_blocks
                    .entry(stmt.1.clone())
                    .or_default()
                    .entry(block.into())
                    .or_default()
                    .push(words[0].into());
                match block {
                    // A profile with a block of its own is an SSL profile with its context: one
                    // the site names, which exists on the BIG-IP (not checkable here).
                    "profiles" if !BUILTIN_PROFILES.contains(&words[0]) && (!opens || oneliner) => {
                        c.errors
                            .push(format!("{}: unknown profile {}", stmt.1, words[0]))
                    }
                    "persist" if !BUILTIN_PERSIST.contains(&words[0]) => c.errors.push(format!(
                        "{}: unknown persistence profile {}",
                        stmt.1, words[0]
                    )),
                    "rules" if !BUILTIN_RULES.contains(&words[0]) => {
                        refs.push(("rule".into(), words[0].into(), stmt.1.clone()))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if opens && !oneliner {
            stack.push(words[0].to_string());
        }
    }
    for (kind, p, at) in refs {
        if !is_defined(&c, &kind, &p) {
            c.errors.push(format!("{at}: {kind} {p} is not defined"));
        }
    }
    // Member addresses match their nodes.
    for (pool, ms) in &c.members {
        for (m, addr, _) in ms {
            let node = member_node_port(m).0;
            if c.node_address.get(node) != Some(addr) {
                c.errors.push(format!(
                    "{pool}: member {m} address {addr} differs from its node"
                ));
            }
        }
    }
    c
}

#[test]
fn reference_merge_file_parses_and_every_reference_resolves() {
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let c = read_conf(&dir.path().join("f5/Common.conf"));
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    assert_eq!(c.defined.len(), 15, "{:?}", c.defined);
    let sp = |pg2: u32, pg1: u32, port: u16| {
        vec![
            (
                format!("/Common/sharepoint3:{port}"),
                "10.20.30.13".to_string(),
                pg2,
            ),
            (
                format!("/Common/sharepoint2:{port}"),
                "10.20.30.12".to_string(),
                pg1,
            ),
        ]
    };
    // The original write-up's scheme: sharepoint3 group 2 (preferred), sharepoint2 group 1, less than 1 → 1.
    for (pool, port) in [
        ("/Common/PartnerPoint", 80),
        ("/Common/WSS_partner_admin", 80),
        ("/Common/ADLDS_ldap", 389),
        ("/Common/ADLDS_ldaps", 636),
    ] {
        assert_eq!(c.members[pool], sp(2, 1, port), "{pool}");
        assert_eq!(c.min_active[pool], 1, "{pool}");
    }
    for vs in [
        "vs_ects",
        "vs_sharepoint",
        "vs_adlds_ldap",
        "vs_adlds_ldaps",
    ] {
        let v = format!("/Common/{vs}");
        assert!(
            !c.virtual_blocks[&v].contains_key("persist"),
            "{vs} must have no persistence"
        );
        assert!(
            c.virtual_blocks[&v]["source-address-translation"] == vec!["type"]
                && text(&b, "f5/Common.conf").contains("type automap")
        );
    }
    assert_eq!(
        c.virtual_props["/Common/vs_ects"]["pool"],
        "/Common/PartnerPoint"
    );
    assert_eq!(
        c.virtual_blocks["/Common/vs_sharepoint"]["rules"],
        vec!["/Common/vs_sharepoint_routes"]
    );
    assert_eq!(
        c.virtual_blocks["/Common/vs_sharepoint"]["profiles"],
        vec![
            "/Common/http",
            "/Common/ntlm",
            "/Common/oneconnect",
            "/Common/tcp"
        ]
    );
    assert_eq!(
        c.virtual_blocks["/Common/vs_adlds_ldap"]["profiles"],
        vec!["/Common/tcp"]
    );
    assert_eq!(
        c.virtual_props["/Common/vs_adlds_ldaps"]["destination"],
        "/Common/10.20.40.12:636"
    );
}

/// Both ways BIG-IP writes a pool member: a named node with `:` before the port (also for an IPv6
/// node, as the merge file writes them), and a node named by its IPv6 address with `.` (as AS3
/// creates them); Tcl's parser and the reference check accept both, and a member whose
/// separator does not match its node name is caught.
#[test]
fn members_parse_with_either_port_separator() {
    let conf = "ltm node /P/web3 {\n    address 2001:db8::13\n}\n\
        ltm node /P/2001:db8::14 {\n    address 2001:db8::14\n}\n\
        ltm pool /P/p {\n    members {\n        /P/web3:443 {\n            address 2001:db8::13\n            priority-group 2\n        }\n\
        /P/2001:db8::14.443 {\n            address 2001:db8::14\n            priority-group 1\n        }\n    }\n    min-active-members 1\n}\n";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("v6.conf");
    std::fs::write(&f, conf).unwrap();
    let c = read_conf(&f);
    assert!(c.errors.is_empty(), "{:#?}", c.errors);
    assert_eq!(
        c.members["/P/p"],
        vec![
            ("/P/web3:443".to_string(), "2001:db8::13".to_string(), 2),
            (
                "/P/2001:db8::14.443".to_string(),
                "2001:db8::14".to_string(),
                1
            )
        ]
    );
    let wrong = conf.replace("/P/2001:db8::14.443", "/P/2001:db8::14:443");
    std::fs::write(&f, wrong).unwrap();
    let r = std::panic::catch_unwind(|| read_conf(&f));
    assert!(
        r.is_err(),
        "an IPv6-named member with `:` before the port must be refused"
    );
}

#[test]
fn fixture_merge_files_resolve() {
    for (n, t) in common::fixtures() {
        let b = common::build_text(&n, &t);
        let dir = common::write_tmp(&b);
        for p in b.files.keys().filter(|p| p.ends_with(".conf")) {
            let c = read_conf(&dir.path().join(p));
            assert!(c.errors.is_empty(), "{n} {p}: {:#?}", c.errors);
            if n == "f5-extranet.toml" {
                assert_eq!(c.min_active["/Extranet/admin_pool"], 2);
                assert_eq!(
                    c.virtual_blocks["/Extranet/vs_www"]["persist"],
                    vec!["/Common/cookie"]
                );
                assert_eq!(
                    c.virtual_props["/Extranet/vs_www"]["destination"],
                    "/Extranet/2001:db8::80.80"
                );
                assert!(
                    text(&b, p).contains("type none"),
                    "SNAT off must be written explicitly"
                );
            }
        }
    }
}

#[test]
fn reference_check_detects_broken_merge_files() {
    let b = common::reference();
    let conf = text(&b, "f5/Common.conf");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.conf");
    let broken = [
        // The admin pool is gone: the iRule's `pool` names nothing.
        (
            conf.replace(
                "ltm pool /Common/WSS_partner_admin {",
                "ltm pool /Common/WSS_partner_admin_old {",
            ),
            "pool /Common/WSS_partner_admin is not defined",
        ),
        (
            conf.replace("/Common/vs_sharepoint_routes\n    }", "/Common/nope\n    }"),
            "rule /Common/nope is not defined",
        ),
        (
            conf.replace("ltm node /Common/sharepoint2 {", "ltm node /Common/sp2 {"),
            "node /Common/sharepoint2 is not defined",
        ),
        (
            conf.replacen("/Common/http { }", "/Common/htttp { }", 1),
            "unknown profile /Common/htttp",
        ),
        (
            conf.replacen(
                "address 10.20.30.13\n            priority",
                "address 10.9.9.9\n            priority",
                1,
            ),
            "differs from its node",
        ),
        (
            conf.replacen(
                " and /Common/mon_adlds_ldaps and ",
                " and /Common/mon_ldap and ",
                1,
            ),
            "monitor /Common/mon_ldap is not defined",
        ),
        (
            conf.replacen("        /Common/tcp { }\n", "        /Common/tcp {\n", 1),
            "Tcl parse",
        ),
    ];
    for (text, want) in broken {
        assert_ne!(text, conf, "mutation for {want} did not apply");
        std::fs::write(&f, &text).unwrap();
        let c = read_conf(&f);
        assert!(
            c.errors.iter().any(|e| e.contains(want)),
            "expected `{want}` in {:#?}",
            c.errors
        );
    }
}

#[test]
fn f5_files_pass_the_validators() {
    let mut dirs = vec![common::write_tmp(&common::reference())];
    for (n, t) in common::fixtures() {
        dirs.push(common::write_tmp(&common::build_text(&n, &t)));
    }
    let paths: Vec<&Path> = dirs.iter().map(|d| d.path()).collect();
    let verdicts = common::validate(&paths, None);
    let kinds: Vec<&str> = verdicts.iter().map(|v| v.kind.as_str()).collect();
    for k in ["tmsh", "as3", "tcl"] {
        assert!(
            kinds.iter().filter(|x| **x == k).count() >= 2,
            "{k} files missing: {kinds:?}"
        );
    }
    common::assert_all_valid(&verdicts);
}

// ---- hostile values --------------------------------------------------------------------------

const BASE: &str = r#"
[site]
name = "hostile"
changed = "2024-01-01 00:00:00"
scripts_share = '\\fs\s'

[[server]]
name = "web1"
os = "2008"
address = "10.0.0.1"

[f5]
partition = "PARTITION"

[[f5.monitor]]
name = "MONITOR"
type = "http"
send = "SEND"
description = "MDESC"

[[f5.pool]]
name = "POOL"
monitors = ["MONITOR"]
min_active_members = 1
description = "PDESC"
members = [{ server = "web1", port = 80, priority_group = 1 }]

[[f5.virtual_server]]
name = "VIRTUAL"
address = "10.0.1.1"
port = 80
protocol = "http"
pool = "POOL"
description = "VDESC"
routes = [{ prefix = "PREFIX", pool = "POOL" }]
"#;

const DEFAULTS: &[(&str, &str)] = &[
    ("PARTITION", "Common"),
    ("MONITOR", "mon1"),
    ("SEND", "GET / HTTP/1.0"),
    ("MDESC", "m"),
    ("POOL", "pool1"),
    ("PDESC", "p"),
    ("VIRTUAL", "vs1"),
    ("VDESC", "v"),
    ("PREFIX", "/ects/"),
];

fn site_with(slot: &str, value: &str) -> String {
    let mut s = BASE.to_string();
    let toml_value = toml::Value::String(value.to_string()).to_string();
    // Replace the quoted placeholder (with its quotes) by the TOML-quoted value.
    s = s.replace(&format!("\"{slot}\""), &toml_value);
    for (k, v) in DEFAULTS {
        s = s.replace(&format!("\"{k}\""), &format!("\"{v}\""));
    }
    s
}

#[test]
fn hostile_values_are_rejected_or_stay_data() {
    const MARK: &str = "zqxmark";
    let hostile = [
        "zqxmark",
        "a{zqxmark}b",
        "a}zqxmark{",
        "x] zqxmark [y",
        "q\"zqxmark\"",
        "$zqxmark",
        "a zqxmark",
        "zqxmark*",
        "zqxmark?",
        "[zqxmark]",
        "zqxmark;ltm",
        "zqxmark\nltm pool x { }",
        "zqxmark\nx",
        "zqxmark\tx\r\n",
        "zqxmark\\",
        "`zqxmark`",
        "zqxmark#",
        "/zqxmark*/",
        "/zqxmark[a]/",
        "/zqxmark?/",
        "/zqxmark/\"x",
        "/zqxmark}/",
        "/zqxmark $x/",
        "/%5Bzqxmark/",
        "/zqxmark/",
        "/a.b~c+d,e=f:g@h!/zqxmark",
    ];
    let mut written = Vec::new();
    let mut rejected = 0;
    for (slot, _) in DEFAULTS {
        for h in hostile {
            let site = site_with(slot, h);
            match sitebundle::load_text("hostile.toml", &site) {
                Err(d) => {
                    let r = d.render();
                    assert!(r.contains("error"), "{slot}={h:?}: {r}");
                    assert!(
                        d.items.iter().all(|i| i.span.is_some()),
                        "{slot}={h:?}: unlocated: {r}"
                    );
                    rejected += 1;
                }
                Ok((site, _)) => {
                    let b = sitebundle::build_bundle(&site)
                        .unwrap_or_else(|e| panic!("{slot}={h:?}: {e}"));
                    written.push((format!("{slot}={h:?}"), common::write_tmp(&b)));
                }
            }
        }
    }
    assert!(rejected > 100, "{rejected}");
    assert_eq!(
        written
            .iter()
            .filter(|(l, _)| l.starts_with("PREFIX="))
            .count(),
        2,
        "the two plain prefixes are accepted"
    );
    // Names: only the plain marker passes (tmsh charset); every special character is rejected.
    for (label, _) in &written {
        assert!(
            !label.starts_with("POOL=")
                && !label.starts_with("VIRTUAL=")
                && !label.starts_with("MONITOR=")
                && !label.starts_with("PARTITION=")
                || label.ends_with("=\"zqxmark\""),
            "{label} should have been rejected"
        );
        assert!(
            !label.starts_with("PREFIX=") || label.contains("/zqxmark"),
            "{label}: not a valid prefix"
        );
    }
    // Descriptions, monitor strings and route prefixes that pass land in data positions of every
    // F5 file (tmsh quoted strings, iRule switch patterns, JSON strings).
    let data: Vec<&tempfile::TempDir> = written
        .iter()
        .filter(|(l, _)| l.contains("DESC=") || l.starts_with("SEND=") || l.starts_with("PREFIX="))
        .map(|(_, d)| d)
        .collect();
    assert!(!data.is_empty());
    let paths: Vec<&Path> = data.iter().map(|d| d.path()).collect();
    let verdicts = common::validate(&paths, Some(MARK));
    common::assert_all_valid(&verdicts);
}

#[test]
fn glob_escaping_is_literal_in_tclsh() {
    // Route prefixes are restricted, but the filter must still make any string literal for
    // `switch -glob` (defence in depth): run the escaped patterns in tclsh.
    let values = ["/a*", "/a?", "/[ab]", "/a\\b", "/a$b", "/{x}", "/\"q\""];
    let mut script = String::new();
    for v in values {
        let p = sitebundle::escape::tcl_glob(v).unwrap();
        let below = sitebundle::escape::tcl_glob_below(v).unwrap();
        let lit = sitebundle::escape::tcl_word(v).unwrap();
        let lit_below = sitebundle::escape::tcl_word(&format!("{v}/x")).unwrap();
        // Matches itself and below; never the wildcard reading ("/ab" for "/a*", "/a" for "/[ab]").
        script.push_str(&format!(
            "puts [switch -glob -- {lit} {{ {p} {{ list hit }} default {{ list miss }} }}]\n\
             puts [switch -glob -- {lit_below} {{ {below} {{ list hit }} default {{ list miss }} }}]\n\
             puts [switch -glob -- \"/ab\" {{ {p} {{ list wild }} default {{ list miss }} }}]\n\
             puts [switch -glob -- \"/a\" {{ {p} {{ list wild }} default {{ list miss }} }}]\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("g.tcl");
    std::fs::write(&f, script).unwrap();
    let out = Command::new("tclsh").arg(&f).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), values.len() * 4);
    for (i, chunk) in lines.chunks(4).enumerate() {
        assert_eq!(chunk[0], "hit", "{}", values[i]);
        assert_eq!(chunk[1], "hit", "{}", values[i]);
        assert_eq!(chunk[2], "miss", "{}", values[i]);
        assert_eq!(chunk[3], "miss", "{}", values[i]);
    }
}

/// The monitor rule of each pool, as the merge file says it: `monitor a and b` → every monitor
/// must pass (`None`), `monitor min N of { … }` → N of them (`Some(N)`); by pool name.
fn tmsh_monitor_rules(conf: &str) -> std::collections::BTreeMap<String, (usize, Option<usize>)> {
    let mut out = std::collections::BTreeMap::new();
    let mut pool: Option<String> = None;
    for line in conf.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("ltm pool ") {
            pool = rest
                .split_whitespace()
                .next()
                .map(|p| p.rsplit('/').next().unwrap().to_string());
        } else if let (Some(p), Some(rule)) = (&pool, t.strip_prefix("monitor ")) {
            let rule = if let Some(rest) = rule.strip_prefix("min ") {
                let n: usize = rest.split_whitespace().next().unwrap().parse().unwrap();
                let count = rest
                    .split_whitespace()
                    .filter(|w| w.starts_with('/'))
                    .count();
                (count, Some(n))
            } else {
                (rule.split(" and ").count(), None)
            };
            out.insert(p.clone(), rule);
        } else if t == "}" && line.starts_with('}') {
            pool = None;
        }
    }
    out
}

/// The same from the AS3 declaration, with AS3's own default (`minimumMonitors` 1, from the
/// schema's `Pool` definition) when the declaration leaves it out.
fn as3_monitor_rules(
    as3: &serde_json::Value,
) -> std::collections::BTreeMap<String, (usize, Option<usize>)> {
    let mut out = std::collections::BTreeMap::new();
    let decl = &as3["declaration"];
    for (_, tenant) in decl.as_object().unwrap() {
        let Some(tenant) = tenant.as_object() else {
            continue;
        };
        for (_, app) in tenant {
            let Some(app) = app.as_object() else { continue };
            for (name, obj) in app {
                if obj["class"] != "Pool" {
                    continue;
                }
                let count = obj["monitors"].as_array().map_or(0, Vec::len);
                if count == 0 {
                    continue;
                }
                let rule = match &obj["minimumMonitors"] {
                    serde_json::Value::String(s) if s == "all" => None,
                    serde_json::Value::Number(n) => Some(n.as_u64().unwrap() as usize),
                    serde_json::Value::Null => Some(1),
                    other => panic!("minimumMonitors {other}"),
                };
                // "min N of" with N = the count means every monitor, like "and".
                let rule = match rule {
                    Some(n) if n >= count => None,
                    r => r,
                };
                out.insert(name.clone(), (count, rule));
            }
        }
    }
    out
}

#[test]
fn as3_pools_require_the_same_monitors_as_the_merge_file() {
    let mut sites = vec![("site.toml".to_string(), common::read("site.toml"))];
    sites.extend(common::fixtures());
    let mut checked = 0;
    for (name, text) in sites {
        let b = common::build_text(&name, &text);
        let Some(as3) = b.files.get("f5/as3.json") else {
            continue;
        };
        let as3: serde_json::Value = serde_json::from_slice(&as3.bytes).unwrap();
        let conf_path = b
            .files
            .keys()
            .find(|p| p.starts_with("f5/") && p.ends_with(".conf"))
            .unwrap();
        let conf = String::from_utf8(b.files[conf_path].bytes.clone()).unwrap();
        let tmsh: std::collections::BTreeMap<_, _> = tmsh_monitor_rules(&conf)
            .into_iter()
            .map(|(k, (n, r))| (k, (n, r.filter(|&m| m < n))))
            .collect();
        assert_eq!(as3_monitor_rules(&as3), tmsh, "{name}");
        checked += tmsh.len();
        // Control: without minimumMonitors, AS3's default makes any one monitor enough.
        let mut dropped = as3.clone();
        let multi = strip_minimum_monitors(&mut dropped);
        if multi {
            assert_ne!(
                as3_monitor_rules(&dropped),
                tmsh,
                "{name}: the control must differ"
            );
        }
    }
    assert!(checked >= 4, "only {checked} pools with monitors");
}

/// Removes `minimumMonitors` everywhere; true when a pool with two or more monitors had it.
fn strip_minimum_monitors(v: &mut serde_json::Value) -> bool {
    let mut had = false;
    match v {
        serde_json::Value::Object(m) => {
            let multi = m
                .get("monitors")
                .and_then(|x| x.as_array())
                .is_some_and(|a| a.len() > 1);
            had = m.remove("minimumMonitors").is_some() && multi;
            for x in m.values_mut() {
                had |= strip_minimum_monitors(x);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a.iter_mut() {
                had |= strip_minimum_monitors(x);
            }
        }
        _ => {}
    }
    had
}

/// A path longer than 4,096 bytes (IIS's default maxUrl) is not normalised: it goes to the
/// virtual server's default pool whatever it starts with; a path of exactly 4,096 bytes is still
/// routed. Hostile long paths of every shape select exactly one pool.
#[test]
fn long_paths_go_to_the_default_pool_unnormalised() {
    let b = common::reference();
    let dir = common::write_tmp(&b);
    let rule = dir
        .path()
        .join("f5/irules/vs_sharepoint_routes.tcl")
        .to_string_lossy()
        .to_string();
    let exactly = |prefix: &str, unit: &str, len: usize| {
        let mut p = prefix.to_string();
        while p.len() < len {
            p.push_str(unit);
        }
        p.truncate(len);
        p
    };
    let mut cases: Vec<(String, &str)> = vec![
        (exactly("/ECTS/", "a", 4096), REF_ADMIN),
        (exactly("/ECTS/", "a", 4097), REF_DEFAULT),
        (exactly("/%45CTS/", "b/", 4096), REF_ADMIN),
        (exactly("/%45CTS/", "b/", 4097), REF_DEFAULT),
        (exactly("/ECTS/", "x/../", 4096), REF_ADMIN),
        (exactly("/ECTS/", "%u002e/", 4096), REF_ADMIN),
        (exactly("/ECTS/", "%u002e/", 32256), REF_DEFAULT),
        (exactly("/ECTS/", "%2541", 32768), REF_DEFAULT),
        // `..` pops as many segments as it finds, never above the root.
        (format!("{}ECTS/x", exactly("/", "../", 4000)), REF_ADMIN),
        (
            format!("/{}ECTS/y", "a/".repeat(600) + &"../".repeat(600)),
            REF_ADMIN,
        ),
        (
            format!("/{}ECTS/y", "a/".repeat(600) + &"../".repeat(599)),
            REF_DEFAULT,
        ),
        (exactly("/", "%", 4096), REF_DEFAULT),
        (exactly("/", "/", 4096), REF_DEFAULT),
        (exactly("/", "%u0041", 32768), REF_DEFAULT),
    ];
    // Double encoding deeper than the rounds: stays encoded, no route.
    cases.push(("/%2525252525252545CTS/x".into(), REF_DEFAULT));
    cases.push(("/%25252545CTS/x".into(), REF_ADMIN));
    let conns: Vec<Conn> = cases
        .iter()
        .enumerate()
        .map(|(i, (u, p))| {
            (
                format!("long #{i} ({} bytes)", u.len()),
                rule.clone(),
                REF_DEFAULT.to_string(),
                vec![
                    ("/ECTS/first".into(), REF_ADMIN.into()),
                    (u.clone(), p.to_string()),
                    ("/after".into(), REF_DEFAULT.into()),
                ],
            )
        })
        .collect();
    let fails = run_harness(&conns);
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

/// Percent-decoding edges of the rule's decoder (escapes looked up once computed, per request):
/// hex digits of either case, `%` alone or cut short at the end, invalid hex, `%` before an
/// escape, nested `%25` up to the bound of 5 rounds and one past it, bytes above 0x7f, `%00`,
/// and the same escape written in both cases and both forms in one path. Expected pools follow
/// from decoding as IIS does (see the rule's header): an escape is `%` and 2 hex digits or `%u`
/// and 4, anything else stays as written.
fn decoder_edge_cases() -> Vec<(&'static str, bool)> {
    vec![
        ("/ECTS%2fx", true),
        ("/ECTS%2Fx", true),
        ("/ECTS%2fx/y", true),
        ("/x%2F..%2fECTS%5cy", true),
        ("/x%2f..%2FECTS%5Cy", true),
        ("/%45%43%54%53%2f%2Fz", true),
        ("/%4a/..%2F%45cts", true),
        ("/%45%45%45/..%2f%45%45%45%2F..%2fECTS/", true),
        ("/%45cts/%45%u0045%U0045%45", true),
        ("/ECTS/%", true),
        ("/ECTS%", false),
        ("/%", false),
        ("/ECTS/%2", true),
        ("/ECTS%2", false),
        ("/ECTS%2/x", false),
        ("/%2ECTS/", false),
        ("/%2eCTS/", false),
        ("/%4/ECTS", false),
        ("/%4/../ECTS/", true),
        ("/ECTS/%zz", true),
        ("/%zzECTS/", false),
        ("/%zz/../ECTS/x", true),
        ("/%z5/../ECTS/x", true),
        ("/%%45CTS/", false),
        ("/%%/../%45CTS/", true),
        ("/%252545CTS/x", true),
        ("/%2525252545CTS/x", true),
        ("/%252525252545CTS/x", false),
        ("/%25%34%35CTS/x", true),
        ("/%2525%34%35CTS/x", true),
        ("/ECTS%C3%A9/x", false),
        ("/%C3%A9/../ECTS/x", true),
        ("/%c3%a9%FF%80/..%2fECTS/", true),
        ("/\u{e9}/../ECTS/", true),
        ("/ECTS%00/x", false),
        ("/ECTS/%00", true),
        ("/%00/../ECTS/x", true),
        ("/%2500/../ECTS/x", true),
    ]
}

/// The decoder's edges with the rule as generated: every path routed as IIS would see it.
#[test]
fn decoder_edges_route_as_decoded() {
    let b = common::reference();
    let rule = text(&b, "f5/irules/vs_sharepoint_routes.tcl");
    let fails = decoder_edge_fails(&rule, "edge");
    assert!(fails.is_empty(), "{fails:#?}");
}

/// Runs the edge cases against `rule` (the text of a rule); returns the failing paths.
fn decoder_edge_fails(rule: &str, tag: &str) -> BTreeSet<&'static str> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rule.tcl");
    std::fs::write(&file, rule).unwrap();
    let conns: Vec<Conn> = decoder_edge_cases()
        .into_iter()
        .enumerate()
        .map(|(i, (uri, routed))| {
            let want = if routed { REF_ADMIN } else { REF_DEFAULT };
            (
                format!("{tag} #{i} {uri} after"),
                file.to_string_lossy().to_string(),
                REF_DEFAULT.to_string(),
                vec![
                    ("/ECTS/first".into(), REF_ADMIN.into()),
                    (uri.into(), want.into()),
                    ("/%45CTS/again".into(), REF_ADMIN.into()),
                ],
            )
        })
        .collect();
    let fails = run_harness(&conns);
    decoder_edge_cases()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| fails.iter().any(|f| f.contains(&format!(" {p} after"))))
        .collect()
}

/// Controls for the edge cases: a decoder that reads hex digits in one case only, and one that
/// decodes a sixth round, each send exactly their edges to the wrong pool.
#[test]
fn harness_catches_decoder_mistakes() {
    let b = common::reference();
    let rule = text(&b, "f5/irules/vs_sharepoint_routes.tcl");
    let hex = "[string match -nocase {[0-9a-f][0-9a-f]} $key]";
    let bound = "$rounds < 5 &&";
    assert!(rule.contains(hex) && rule.contains(bound), "{rule}");
    let lower_only = rule.replace(hex, "[string match {[0-9a-f][0-9a-f]} $key]");
    let expected: BTreeSet<&str> = [
        "/ECTS%2Fx",
        "/x%2F..%2fECTS%5cy",
        "/x%2f..%2FECTS%5Cy",
        "/%4a/..%2F%45cts",
        "/%45%45%45/..%2f%45%45%45%2F..%2fECTS/",
    ]
    .into();
    assert_eq!(decoder_edge_fails(&lower_only, "lower-only"), expected);
    let six = rule.replace(bound, "$rounds < 6 &&");
    let expected: BTreeSet<&str> = ["/%252525252545CTS/x"].into();
    assert_eq!(decoder_edge_fails(&six, "six rounds"), expected);
}

/// Control for the length bound: the same rule without it routes a 4,097-byte `/ECTS/…` path to
/// the admin pool, and the harness says so.
#[test]
fn harness_catches_a_rule_without_the_length_bound() {
    let b = common::reference();
    let rule = text(&b, "f5/irules/vs_sharepoint_routes.tcl");
    let bound = "[string length $path] > 4096";
    assert!(rule.contains(bound));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unbounded.tcl");
    std::fs::write(&file, rule.replace(bound, "0")).unwrap();
    let long = format!("/ECTS/{}", "a".repeat(4091));
    assert_eq!(long.len(), 4097);
    let fails = run_harness(&[(
        "unbounded".into(),
        file.to_string_lossy().to_string(),
        REF_DEFAULT.into(),
        vec![(long, REF_DEFAULT.into())],
    )]);
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].contains(REF_ADMIN), "{fails:?}");
}

/// The runbook's monitor pre-flight, executed: its `curl … | grep -E …` line (member address and
/// port pointed at a local server) sends the monitor's own send string byte for byte, and the
/// `grep` passes on an answer that contains the receive string and fails on IIS's 401.
#[test]
fn monitor_preflight_sends_the_monitors_request() {
    use std::io::{Read, Write};
    let b = common::reference();
    let readme = String::from_utf8(b.files["README.md"].bytes.clone()).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("curl ") && l.contains("10.20.30."))
        .expect("a monitor probe in the runbook");
    let send = "GET /_layouts/images/blank.gif HTTP/1.1\r\nHost: partnerpoint.campus.example.edu\r\nConnection: close\r\n\r\n";
    let url_host = line
        .split('\'')
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Control: a plain curl (its own User-Agent and Accept headers) is not the monitor's request.
    let plain = line.replace(" -H 'User-Agent:' -H 'Accept:'", "");
    assert_ne!(plain, line);
    for (cmd_line, answer, passes, exact) in [
        (
            line,
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            true,
            true,
        ),
        (
            line,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            false,
            true,
        ),
        (
            plain.as_str(),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            true,
            false,
        ),
    ] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(got).unwrap()
        });
        let cmd = cmd_line.replace(&url_host, &format!("127.0.0.1:{port}"));
        let out = Command::new("bash")
            .args(["-c", &cmd])
            .output()
            .expect("bash runs");
        let request = server.join().unwrap();
        assert_eq!(request == send, exact, "{cmd}\n{request}");
        assert_eq!(out.status.success(), passes, "{cmd}: {out:?}");
    }
}

/// The f5-https fixture with one replacement applied; the rendered diagnostics when it fails.
fn https_with(from: &str, to: &str) -> Result<(), String> {
    let (_, text) = common::fixtures()
        .into_iter()
        .find(|(n, _)| n == "f5-https.toml")
        .unwrap();
    assert!(text.contains(from), "{from}");
    sitebundle::load_text("f5-https.toml", &text.replacen(from, to, 1))
        .map(|_| ())
        .map_err(|d| d.render())
}

/// TLS profiles that AS3 references live in /Common and are named like profiles; `cert` and `key`
/// come together and are named like a certificate and a key.
#[test]
fn client_ssl_profiles_are_common_profiles() {
    assert!(
        https_with(
            "client_ssl = \"clientssl_static\"",
            "client_ssl = \"clientssl_static\""
        )
        .is_ok()
    );
    let e = https_with(
        "client_ssl = \"clientssl_static\"",
        "client_ssl = \"/Secure/clientssl_static\"",
    )
    .unwrap_err();
    assert!(e.contains("is outside /Common"), "{e}");
    let e = https_with(
        "client_ssl = \"clientssl_static\"",
        "client_ssl = \"static.example.org.crt\"",
    )
    .unwrap_err();
    assert!(e.contains("named like a certificate or key file"), "{e}");
    let e = https_with("key = \"static.example.org.key\"\n", "").unwrap_err();
    assert!(e.contains("`cert` and `key` go together"), "{e}");
    let e = https_with(
        "key = \"static.example.org.key\"",
        "key = \"static.example.org.crt\"",
    )
    .unwrap_err();
    assert!(e.contains("named like a certificate, not a key"), "{e}");
}

/// AS3 shares nodes in /Common by default; the runbook's AS3 pre-flight lists nodes and virtual
/// addresses in every partition, and its AS3 failover blocks name the nodes AS3 creates.
#[test]
fn as3_shares_nodes_and_the_runbook_checks_for_them() {
    let b = common::reference();
    let as3: serde_json::Value = serde_json::from_str(&text(&b, "f5/as3.json")).unwrap();
    let app = &as3["declaration"]["partnerpoint"]["sitebundle"];
    let mut members = 0;
    for (_, obj) in app.as_object().unwrap() {
        if obj["class"] == "Pool" {
            for m in obj["members"].as_array().unwrap() {
                assert_eq!(m["shareNodes"], true, "{m}");
                members += 1;
            }
        }
    }
    assert!(members >= 10, "{members}");
    let readme = text(&b, "README.md");
    for line in [
        "tmsh modify ltm node /Common/10.20.30.13 state user-down",
        "tmsh modify ltm node /Common/10.20.30.13 state user-up",
    ] {
        assert!(readme.lines().any(|l| l == line), "{line}");
    }
    assert!(readme.contains("undone by the next POST"));
}

/// A stand-in for tmsh on the BIG-IP: `-q -c 'cd /; list ltm KIND recursive one-line'` prints the
/// listing of `dir/KIND`; `list ltm KIND NAME` and `list auth partition NAME` print the object when
/// `dir/objects` names it, else tmsh's "was not found" on stderr with exit 1.
const FAKE_TMSH: &str = r#"#!/bin/bash
dir=$(dirname "$0")
while [ "$1" = -q ]; do shift; done
if [ "$1" = -c ]; then
  set -- $(printf '%s' "$2" | sed 's/^cd \/; //')
  [ "$1 $2 $4 $5" = "list ltm recursive one-line" ] || { echo "fake tmsh: $*" >&2; exit 9; }
  cat "$dir/$3"; exit 0
fi
[ "$1" = list ] || { echo "fake tmsh: $*" >&2; exit 9; }
if grep -qxF "$2 $3 $4" "$dir/objects"; then echo "$2 $3 $4 { }"; exit 0; fi
echo "01020036:3: The requested object ($4) was not found." >&2; exit 1
"#;

/// The pre-flight block that follows `marker` in the runbook, run by bash against [`FAKE_TMSH`]
/// over a BIG-IP that already holds conflicting and near-miss objects; returns what it printed.
fn run_preflight(block: &str) -> Vec<String> {
    // One-line listings as `cd /; list … recursive one-line` prints them (names relative to /,
    // ports by service name). A node of another farm at one of the site's addresses and one at an
    // address that only starts like it; a virtual server at the site's address on `:http`, and one
    // at an address that only starts like it.
    run_preflight_on(
        block,
        &[
            (
                "node",
                "ltm node Old/web-old { address 10.20.30.13 session monitor-enabled state up }\n\
                 ltm node Common/near { address 10.20.30.130 session monitor-enabled state up }\n\
                 ltm node Common/far { address 110.20.30.12 }\n",
            ),
            (
                "virtual",
                "ltm virtual Old/vs_old { destination Old/10.20.40.11:http ip-protocol tcp pool Old/p }\n\
                 ltm virtual Common/vs_near { destination Common/10.20.40.100:http ip-protocol tcp }\n",
            ),
            (
                "virtual-address",
                "ltm virtual-address Old/10.20.40.12 { address 10.20.40.12 arp enabled }\n\
                 ltm virtual-address Common/10.20.40.120 { address 10.20.40.120 }\n",
            ),
            (
                "objects",
                "ltm pool /Common/SharePoint\nauth partition partnerpoint\n",
            ),
        ],
    )
}

/// [`run_preflight`] over the given listings (`node`, `virtual`, `virtual-address`: what `list
/// ltm KIND recursive one-line` prints; `objects`: the objects `tmsh list` finds by name).
fn run_preflight_on(block: &str, listings: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
    w("tmsh", FAKE_TMSH);
    Command::new("chmod")
        .arg("+x")
        .arg(dir.path().join("tmsh"))
        .status()
        .unwrap();
    for kind in ["node", "virtual", "virtual-address", "objects"] {
        let body = listings
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("", |l| l.1);
        w(kind, body);
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(block)
        .env("PATH", path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("fake tmsh"),
        "a command the stand-in does not know: {stderr}"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The body of the first `sh` block after `marker`.
fn sh_block_after(md: &str, marker: &str) -> String {
    let rest = &md[md.find(marker).unwrap_or_else(|| panic!("{marker}"))..];
    let body = rest.split("```sh\n").nth(1).unwrap();
    body[..body.find("\n```").unwrap()].to_string()
}

/// The runbook's two pre-flight blocks (merge file and AS3), executed by bash against a BIG-IP
/// stand-in, print exactly the objects the site would meet: a node at one of its addresses in
/// another partition, a virtual server at one of its addresses whose port tmsh shows as `:http`, a
/// pool of the same name, the AS3 tenant's partition; never an object at an address that only
/// starts like the site's. Control: the earlier block, which searched `/<address>:<port> ` and so
/// missed the virtual server shown with its service name.
#[test]
fn f5_preflight_finds_exactly_the_objects_the_site_would_meet() {
    let md = text(&common::reference(), "README.md");
    let merge = run_preflight(&sh_block_after(&md, "**Pre-flight (read-only).**"));
    assert_eq!(
        merge,
        [
            "ltm node Old/web-old { address 10.20.30.13 session monitor-enabled state up }",
            "ltm virtual Old/vs_old { destination Old/10.20.40.11:http ip-protocol tcp pool Old/p }",
            "ltm pool /Common/SharePoint { }",
        ]
    );
    let as3 = run_preflight(&sh_block_after(&md, "**AS3 instead of the merge file**"));
    assert_eq!(
        as3,
        [
            "ltm node Old/web-old { address 10.20.30.13 session monitor-enabled state up }",
            "ltm virtual-address Old/10.20.40.12 { address 10.20.40.12 arp enabled }",
            "auth partition partnerpoint { }",
        ]
    );
    // Control: the earlier search by `/<address>:<port> ` misses the `:http` spelling.
    let old = "tmsh -c 'cd /; list ltm virtual recursive one-line' | grep -F '/10.20.40.11:80 '";
    assert!(run_preflight(old).is_empty());
}

/// A virtual server name tmsh accepts but AS3 does not (AS3's property names cannot end with
/// `-`) is refused at its key, since f5/as3.json names the object after it; one that ends in a
/// letter is accepted (control).
#[test]
fn names_fit_both_tmsh_and_as3() {
    let e = https_with("name = \"vs_static\"", "name = \"vs_static--\"").unwrap_err();
    assert!(e.contains("an AS3 name cannot end with `-`"), "{e}");
    assert!(e.contains("f5-https.toml:102:8"), "{e}");
    https_with("name = \"vs_static\"", "name = \"vs-static-2\"").unwrap();
}

/// The objects of a real bigip.conf (tests/corpus/f5/corkscrew-tmos-15.1.8.2-common.conf, TMOS
/// 15.1.8.2) of one kind, each on one line as `list … one-line` prints them (its words joined by
/// single spaces).
fn corpus_one_line(kind: &str) -> String {
    let conf = common::read("tests/corpus/f5/corkscrew-tmos-15.1.8.2-common.conf");
    let mut out = String::new();
    let mut object: Option<Vec<&str>> = None;
    for line in conf.lines() {
        if let Some(words) = object.as_mut() {
            words.extend(line.split_whitespace());
            if line == "}" {
                out.push_str(&words.join(" "));
                out.push('\n');
                object = None;
            }
        } else if line.starts_with(&format!("ltm {kind} /")) {
            object = Some(line.split_whitespace().collect());
        }
    }
    out
}

/// The pre-flight's searches against what a real BIG-IP wrote: the reference's merge pre-flight
/// with its addresses replaced by the corpus file's finds that file's node at 192.168.1.22 and its
/// virtual server at 192.168.1.21 (stored as `:443`), and not the node at 192.168.1.23, which the
/// block does not search for.
#[test]
fn f5_preflight_finds_objects_in_a_real_bigip_conf() {
    let md = text(&common::reference(), "README.md");
    let block = sh_block_after(&md, "**Pre-flight (read-only).**")
        .replace("'10.20.30.12'", "'192.168.1.22'")
        .replace("'/10.20.40.10:'", "'/192.168.1.21:'");
    let found = run_preflight_on(
        &block,
        &[
            ("node", &corpus_one_line("node")),
            ("virtual", &corpus_one_line("virtual")),
        ],
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("ltm node /Common/app1_Node1 { address 192.168.1.22 }"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with(
            "ltm virtual /Common/app1_t443_vs { destination /Common/192.168.1.21:443 "
        ),
        "{found:?}"
    );
    assert!(corpus_one_line("node").contains("address 192.168.1.23"));
}
