//! The topology pictures: the SVG is well-formed XML with one box per virtual server, pool and
//! server, no two boxes overlap and every edge joins drawn boxes; the Mermaid text has unique node
//! ids, every edge references defined nodes and no label can break out of its quotes.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::Reader;
use quick_xml::events::Event;
use sitebundle::load_text as parse_and_resolve;

struct Svg {
    /// id → (kind, name, x, y, w, h)
    nodes: BTreeMap<String, (String, String, i64, i64, i64, i64)>,
    edges: Vec<(String, String)>,
}

#[allow(deprecated)]
fn attr(e: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.expect("well-formed attribute"))
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.unescape_value().expect("valid escapes").to_string())
}

fn parse_svg(text: &str) -> Svg {
    let mut r = Reader::from_str(text);
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    let mut current: Option<(String, String, String)> = None;
    let mut depth = 0i32;
    loop {
        match r.read_event().expect("topology.svg is well-formed XML") {
            Event::Start(e) => {
                depth += 1;
                if e.name().as_ref() == "g" {
                    match attr(&e, "class").as_deref() {
                        Some("node") => {
                            current = Some((
                                attr(&e, "id").unwrap(),
                                attr(&e, "data-kind").unwrap(),
                                attr(&e, "data-name").unwrap(),
                            ))
                        }
                        Some("edge") => edges
                            .push((attr(&e, "data-from").unwrap(), attr(&e, "data-to").unwrap())),
                        _ => {}
                    }
                }
            }
            Event::Empty(e) => {
                if e.name().as_ref() == "rect"
                    && let Some((id, kind, name)) = current.take()
                {
                    let n = |k: &str| attr(&e, k).unwrap().parse::<i64>().unwrap();
                    let prev = nodes.insert(
                        id.clone(),
                        (kind, name, n("x"), n("y"), n("width"), n("height")),
                    );
                    assert!(prev.is_none(), "duplicate SVG node id {id}");
                }
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced SVG");
    Svg { nodes, edges }
}

struct Mermaid {
    nodes: BTreeMap<String, String>,
    edges: Vec<(String, String, String)>,
}

/// Parses the flowchart subset the generator writes: `subgraph id["…"]`, `end`, `id["…"]` and
/// `a -->|"…"| b` / `a -.->|"…"| b`. Any other line fails the test.
fn parse_mermaid(md: &str) -> Mermaid {
    let body = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a mermaid block");
    let mut lines = body.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let quoted = |s: &str| -> String {
        let inner = s
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_else(|| panic!("label not quoted: {s}"));
        assert!(!inner.contains('"'), "quote inside a label: {s}");
        inner.to_string()
    };
    let ident = |s: &str| {
        assert!(
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad id {s:?}"
        );
        s.to_string()
    };
    let mut nodes = BTreeMap::new();
    let mut subgraphs = BTreeSet::new();
    let mut edges = Vec::new();
    for line in lines {
        let t = line.trim();
        if t == "end" {
            continue;
        }
        if let Some(rest) = t.strip_prefix("subgraph ") {
            let (id, label) = rest.split_once('[').expect("subgraph label");
            quoted(label.strip_suffix(']').unwrap());
            assert!(subgraphs.insert(ident(id)), "duplicate subgraph {id}");
            continue;
        }
        if let Some((from, rest)) = t.split_once(" -->|").or_else(|| t.split_once(" -.->|")) {
            let (label, to) = rest.rsplit_once("| ").expect("edge target");
            edges.push((ident(from), ident(to), quoted(label)));
            continue;
        }
        let (id, label) = t.split_once('[').unwrap_or_else(|| panic!("unparsed: {t}"));
        let label = quoted(label.strip_suffix(']').expect("node label ends with ]"));
        assert!(
            nodes.insert(ident(id), label).is_none(),
            "duplicate node {id}"
        );
    }
    for id in &subgraphs {
        assert!(!nodes.contains_key(id), "subgraph id {id} reused as a node");
    }
    Mermaid { nodes, edges }
}

/// The servers a server box stands for: its name, or the names and ranges (`a–b`, in the site's
/// order) of a group box "… (N servers)", whose count must match.
fn box_members(label: &str, servers: &[String]) -> Vec<String> {
    let Some((list, count)) = label
        .strip_suffix(" servers)")
        .and_then(|l| l.rsplit_once(" ("))
    else {
        return vec![label.to_string()];
    };
    let mut out = Vec::new();
    for part in list.split(", ") {
        match part.split_once('–') {
            Some((from, to)) => {
                let i = servers.iter().position(|s| s == from).expect("range start");
                let j = servers.iter().position(|s| s == to).expect("range end");
                out.extend(servers[i..=j].iter().cloned());
            }
            None => out.push(part.to_string()),
        }
    }
    assert_eq!(out.len(), count.parse::<usize>().unwrap(), "{label}");
    out
}

fn check(name: &str, text: &str) {
    let (site, _) = parse_and_resolve(name, text).unwrap_or_else(|d| panic!("{}", d.render()));
    let bundle = sitebundle::build_bundle(&site).unwrap();
    let get = |p: &str| String::from_utf8(bundle.files[p].bytes.clone()).unwrap();

    // SVG: one box per virtual server, pool and server, named after it.
    let svg = parse_svg(&get("topology.svg"));
    let names = |kinds: &[&str]| -> BTreeSet<String> {
        svg.nodes
            .values()
            .filter(|n| kinds.contains(&n.0.as_str()))
            .map(|n| n.1.clone())
            .collect()
    };
    // Servers drawn alike share one box named after them ("a, b (2 servers)", "x1–x9 (9
    // servers)"): expanded here, each server is in exactly one box.
    let servers: Vec<String> = site.farm.servers.iter().map(|s| s.name.clone()).collect();
    let mut drawn: Vec<String> = names(&["server", "partner"])
        .into_iter()
        .flat_map(|n| box_members(&n, &servers))
        .collect();
    drawn.sort();
    let mut want = servers.clone();
    want.sort();
    assert_eq!(drawn, want, "{name}");
    let count = |k: &[&str]| {
        svg.nodes
            .values()
            .filter(|n| k.contains(&n.0.as_str()))
            .count()
    };
    assert!(
        count(&["server", "partner"]) <= site.farm.servers.len(),
        "{name}"
    );
    let (pools, vips) = site
        .f5
        .as_ref()
        .map(|f| (f.pools.len(), f.virtuals.len()))
        .unwrap_or((0, 0));
    assert_eq!(count(&["pool"]), pools, "{name}");
    assert_eq!(count(&["virtual"]), vips, "{name}");
    assert_eq!(count(&["alias"]), usize::from(site.sql.is_some()), "{name}");
    // No two boxes overlap, and every box lies inside the canvas.
    let boxes: Vec<_> = svg.nodes.iter().collect();
    for (i, (a, na)) in boxes.iter().enumerate() {
        let (ax, ay, aw, ah) = (na.2, na.3, na.4, na.5);
        assert!(ax >= 0 && ay >= 0 && aw > 0 && ah > 0, "{name}: {a}");
        for (b, nb) in &boxes[i + 1..] {
            let (bx, by, bw, bh) = (nb.2, nb.3, nb.4, nb.5);
            let apart = ax + aw <= bx || bx + bw <= ax || ay + ah <= by || by + bh <= ay;
            assert!(apart, "{name}: boxes {a} and {b} overlap");
        }
    }
    for (f, t) in &svg.edges {
        assert!(
            svg.nodes.contains_key(f) && svg.nodes.contains_key(t),
            "{name}: edge {f}->{t}"
        );
    }
    // One edge per pool member, per virtual server (default pool) and per route; a group box
    // draws its first server's edges only.
    let boxed: BTreeSet<usize> = names(&["server", "partner"])
        .iter()
        .map(|n| box_members(n, &servers)[0].clone())
        .map(|first| servers.iter().position(|s| *s == first).unwrap())
        .collect();
    let members: usize = site
        .f5
        .iter()
        .flat_map(|f| &f.pools)
        .map(|p| {
            p.members
                .iter()
                .filter(|m| boxed.contains(&m.server))
                .count()
        })
        .sum();
    let routes: usize = site
        .f5
        .iter()
        .flat_map(|f| &f.virtuals)
        .map(|v| 1 + v.routes.len())
        .sum();
    let sql_edges = site
        .sql
        .as_ref()
        .map(|s| {
            s.partners.len()
                + s.switcher
                    .servers
                    .iter()
                    .filter(|i| boxed.contains(i))
                    .count()
        })
        .unwrap_or(0);
    assert_eq!(svg.edges.len(), members + routes + sql_edges, "{name}");

    // Mermaid: the same nodes and edges.
    let m = parse_mermaid(&get("topology.md"));
    assert_eq!(
        m.nodes.keys().collect::<BTreeSet<_>>(),
        svg.nodes.keys().collect::<BTreeSet<_>>(),
        "{name}"
    );
    for (f, t, _) in &m.edges {
        assert!(
            m.nodes.contains_key(f),
            "{name}: edge from undefined node {f}"
        );
        assert!(
            m.nodes.contains_key(t),
            "{name}: edge to undefined node {t}"
        );
    }
    assert_eq!(m.edges.len(), svg.edges.len(), "{name}");
}

#[test]
fn reference_and_fixture_topologies_are_consistent() {
    check("site.toml", &common::read("site.toml"));
    for (name, text) in common::fixtures() {
        check(&name, &text);
    }
    check("init_site.toml", include_str!("../../src/init_site.toml"));
}

#[test]
fn hostile_names_stay_inside_labels() {
    // Object names are validated long before they reach a picture; the escaping must hold anyway.
    let text = common::read("site.toml");
    let (site, _) = parse_and_resolve("site.toml", &text).unwrap();
    let plan = sitebundle::plan(&site).unwrap();
    let mut g = sitebundle::emit::topology::graph(&site.farm, &plan.topology);
    let evil = "x\"] --> evil[\"<b>&#quot;|`</svg><script>alert(1)</script>";
    for c in &mut g.columns {
        c.title = evil.into();
        for n in &mut c.nodes {
            n.name = format!("{evil}{}", n.id);
            n.details.push(evil.into());
        }
    }
    for e in &mut g.edges {
        e.label = evil.into();
    }
    let (md, svg) = sitebundle::emit::topology::pictures(evil, &g, None).unwrap();
    let m = parse_mermaid(&md);
    assert_eq!(m.nodes.len(), g.nodes().count());
    assert!(m.nodes.values().all(|l| l.contains("#quot;")));
    let s = parse_svg(&svg);
    assert_eq!(s.nodes.len(), g.nodes().count());
    assert!(
        s.nodes.values().all(|n| n.1.starts_with(evil)),
        "names read back intact"
    );
    assert!(!svg.contains("<script"));
}
