//! Determinism: the same site gives the same bytes, whatever the working directory, the output
//! folder's name, the locale or time zone, and however the site file is arranged where the order
//! carries no meaning: the order of `[[x]]` entries (at any depth), the order of items in arrays,
//! and the order of top-level sections. Works from the parsed TOML document, so every family's
//! tables and lists are shuffled with no change here.
//!
//! Where order does carry meaning for a family, name the array in [`ORDER_MATTERS`] with the reason;
//! otherwise the family must render its lists in a canonical order (the model sorts servers and kill
//! tasks by name, and the servers of a kill task too).

use crate::common;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::process::Command;

use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};
use toml::de::{DeTable, DeValue};

/// Arrays (by path without indices, e.g. `kill.servers`) whose order means something to the site
/// and so may change the output. Each entry needs its reason.
const ORDER_MATTERS: &[(&str, &str)] = &[
    (
        "sql.partner",
        "the first partner is where the alias points initially and its Agent job runs first; the second runs `stagger_seconds` later",
    ),
    (
        "f5.virtual_server",
        "kept in file order: the failover scenario tables list a group's targets in that order (BIG-IP itself matches virtual servers by specificity, not order)",
    ),
    (
        "f5.affinity",
        "kept in file order: the scenario check reports findings at `f5.affinity[i]` by position (the groups' order means nothing to BIG-IP; only the runbook lists them as written)",
    ),
    (
        "f5.affinity.targets",
        "kept in file order for the same reason (findings at `f5.affinity[i].targets[j]`)",
    ),
    (
        "sql.databases",
        "the first database is the alias switcher's default probe database",
    ),
    (
        "sql.availability_group",
        "the first group is the anchor (the listener, the databases of sql.databases); the followers after it are rendered in name order",
    ),
];

const SHUFFLES_PER_SITE: usize = 12;

fn bundle_bytes(b: &sitebundle::bundle::Bundle) -> BTreeMap<String, Vec<u8>> {
    b.files
        .iter()
        .map(|(k, a)| (k.clone(), a.bytes.clone()))
        .collect()
}

fn tree_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    sitebundle::write::list_files(dir)
        .unwrap()
        .into_iter()
        .map(|rel| {
            let b = std::fs::read(dir.join(&rel)).unwrap();
            (rel, b)
        })
        .collect()
}

/// An array in the document: its path without indices, and its items' spans. For arrays of
/// tables (`[[x]]`), each item's span is its whole block: header, keys and sub-tables.
#[derive(Debug)]
struct Arr {
    path: String,
    items: Vec<Range<usize>>,
}

fn strip_indices(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Header spans (`[x]`, `[[x]]`) in the document, sorted.
fn headers(text: &str, root: &DeTable<'_>) -> Vec<Range<usize>> {
    fn walk(v: &DeValue<'_>, span: Range<usize>, text: &str, out: &mut Vec<Range<usize>>) {
        match v {
            DeValue::Table(t) => {
                if text[span.clone()].starts_with('[') {
                    out.push(span);
                }
                for (_, v) in t.iter() {
                    walk(v.get_ref(), v.span(), text, out);
                }
            }
            DeValue::Array(a) => {
                for it in a.iter() {
                    walk(it.get_ref(), it.span(), text, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (_, v) in root.iter() {
        walk(v.get_ref(), v.span(), text, &mut out);
    }
    out.sort_by_key(|r| r.start);
    out.dedup();
    out
}

/// The name inside a header: `[[ a.b ]]` → `a.b`.
fn header_name(text: &str) -> String {
    text.trim_matches(|c| c == '[' || c == ']' || c == ' ' || c == '\t')
        .to_string()
}

fn arrays(text: &str) -> Vec<Arr> {
    let root = DeTable::parse(text).expect("parses");
    let hdrs = headers(text, root.get_ref());
    let mut out = Vec::new();
    fn walk(path: &str, v: &DeValue<'_>, text: &str, hdrs: &[Range<usize>], out: &mut Vec<Arr>) {
        match v {
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    let p = if path.is_empty() {
                        k.get_ref().to_string()
                    } else {
                        format!("{path}.{}", k.get_ref())
                    };
                    walk(&p, v.get_ref(), text, hdrs, out);
                }
            }
            DeValue::Array(a) => {
                let mut items = Vec::new();
                for (i, it) in a.iter().enumerate() {
                    let span = it.span();
                    if text[span.clone()].starts_with("[[") {
                        // Block: up to the next header that is not inside this item.
                        let name = header_name(&text[span.clone()]);
                        let end = hdrs
                            .iter()
                            .filter(|h| h.start > span.start)
                            .find(|h| {
                                let n = header_name(&text[(*h).clone()]);
                                !n.starts_with(&format!("{name}."))
                            })
                            .map_or(text.len(), |h| h.start);
                        items.push(span.start..end);
                    } else {
                        items.push(span);
                    }
                    walk(&format!("{path}[{i}]"), it.get_ref(), text, hdrs, out);
                }
                out.push(Arr {
                    path: strip_indices(path),
                    items,
                });
            }
            _ => {}
        }
    }
    walk(
        "",
        &DeValue::Table(root.into_inner()),
        text,
        &hdrs,
        &mut out,
    );
    out
}

fn shuffle<T>(v: &mut [T], rng: &mut TestRng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        v.swap(i, j);
    }
}

/// Puts the items of the `n`-th array in a random order.
fn shuffle_array(text: &str, n: usize, rng: &mut TestRng) -> String {
    let arrs = arrays(text);
    let arr = &arrs[n];
    let mut pieces: Vec<String> = arr
        .items
        .iter()
        .map(|r| {
            let mut s = text[r.clone()].to_string();
            // A block at the end of the file may lack its final newline.
            if text[r.clone()].starts_with("[[") && !s.ends_with('\n') {
                s.push('\n');
            }
            s
        })
        .collect();
    shuffle(&mut pieces, rng);
    let mut out = String::new();
    let mut at = 0;
    for (r, p) in arr.items.iter().zip(pieces) {
        out.push_str(&text[at..r.start]);
        out.push_str(&p);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Moves the top-level sections (each header with everything up to the next one, grouped by the
/// first key of the header) into a random order, after anything that precedes the first header.
fn shuffle_sections(text: &str, rng: &mut TestRng) -> String {
    let root = DeTable::parse(text).expect("parses");
    let hdrs = headers(text, root.get_ref());
    let Some(first) = hdrs.first() else {
        return text.to_string();
    };
    let mut groups: Vec<(String, String)> = Vec::new();
    for (i, h) in hdrs.iter().enumerate() {
        let end = hdrs.get(i + 1).map_or(text.len(), |n| n.start);
        let mut block = text[h.start..end].to_string();
        if !block.ends_with('\n') {
            block.push('\n');
        }
        let key = header_name(&text[h.clone()])
            .split('.')
            .next()
            .unwrap_or("")
            .to_string();
        match groups.last_mut() {
            Some((k, b)) if *k == key => b.push_str(&block),
            _ => groups.push((key, block)),
        }
    }
    // Groups with the same first key must keep their relative order (a `[a.b]` after `[[a]]`).
    let mut keys: Vec<String> = groups.iter().map(|(k, _)| k.clone()).collect();
    keys.dedup();
    let mut uniq: Vec<String> = Vec::new();
    for k in keys {
        if !uniq.contains(&k) {
            uniq.push(k);
        }
    }
    shuffle(&mut uniq, rng);
    let mut out = text[..first.start].to_string();
    for k in uniq {
        for (gk, b) in &groups {
            if *gk == k {
                out.push_str(b);
            }
        }
    }
    out
}

fn sites() -> Vec<(String, String)> {
    let mut v = vec![("site.toml".to_string(), common::read("site.toml"))];
    v.extend(common::fixtures());
    v.push(("init_site.toml".into(), common::read("src/init_site.toml")));
    v
}

#[test]
fn shuffling_where_order_means_nothing_changes_no_byte() {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut shuffles = 0;
    let mut problems = Vec::new();
    for (name, text) in sites() {
        let want = bundle_bytes(&common::build_text(&name, &text));
        let n_arrays = arrays(&text).len();
        for round in 0..SHUFFLES_PER_SITE {
            let mut t = text.clone();
            let mut shuffled_paths = Vec::new();
            for n in 0..n_arrays {
                let path = arrays(&t)[n].path.clone();
                if ORDER_MATTERS.iter().any(|(p, _)| *p == path) {
                    continue;
                }
                t = shuffle_array(&t, n, &mut rng);
                shuffled_paths.push(path);
            }
            if round % 2 == 1 {
                t = shuffle_sections(&t, &mut rng);
            }
            shuffles += 1;
            let got = bundle_bytes(&common::build_text(&name, &t));
            if got != want {
                let differ: std::collections::BTreeSet<&String> = want
                    .keys()
                    .chain(got.keys())
                    .filter(|k| want.get(*k) != got.get(*k))
                    .collect();
                problems.push(format!(
                    "{name} (shuffled {shuffled_paths:?}): files differ: {differ:?}\n--- shuffled site ---\n{t}"
                ));
            }
        }
    }
    assert!(shuffles > 0);
    // Name the arrays that matter, each shuffled on its own.
    let mut culprits =
        std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    if !problems.is_empty() {
        for (name, text) in sites() {
            let want = bundle_bytes(&common::build_text(&name, &text));
            for n in 0..arrays(&text).len() {
                let path = arrays(&text)[n].path.clone();
                if arrays(&text)[n].items.len() < 2 || ORDER_MATTERS.iter().any(|(p, _)| *p == path)
                {
                    continue;
                }
                for _ in 0..6 {
                    let t = shuffle_array(&text, n, &mut rng);
                    let got = bundle_bytes(&common::build_text(&name, &t));
                    for k in want.keys().chain(got.keys()) {
                        if want.get(k) != got.get(k) {
                            culprits.entry(path.clone()).or_default().insert(k.clone());
                        }
                    }
                }
            }
        }
    }
    let summary: Vec<String> = culprits
        .iter()
        .map(|(p, files)| {
            format!(
                "  {p}: {}",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "order-dependent arrays (each shuffled alone) and the files they change:\n{}\n",
        summary.join("\n")
    );
    assert!(
        problems.is_empty(),
        "the output depends on an order that carries no meaning; render that list in a canonical order (e.g. by name), or, if the order means something, add the array to ORDER_MATTERS with the reason:\n{}",
        problems.join("\n\n")
    );
}

#[test]
fn the_shuffler_really_moves_things() {
    let text = "[site]\nname = \"x\"\n\n[[server]]\nname = \"a\"\n[server.sub]\nk = 1\n\n[[server]]\nname = \"b\"\nos = [\"1\", \"2\", \"3\"]\n[[kill]]\nimage = \"x\"";
    let arrs = arrays(text);
    let paths: Vec<&str> = arrs.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(paths, ["kill", "server.os", "server"]);
    let server = &arrs[2];
    assert_eq!(
        &text[server.items[0].clone()],
        "[[server]]\nname = \"a\"\n[server.sub]\nk = 1\n\n"
    );
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[1; 32]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let t = shuffle_sections(
            &shuffle_array(&shuffle_array(text, 2, &mut rng), 1, &mut rng),
            &mut rng,
        );
        // Still the same document.
        let a: toml::Table = toml::from_str(text).unwrap();
        let b: toml::Table = toml::from_str(&t).unwrap();
        assert_eq!(a["site"], b["site"]);
        assert_eq!(a["kill"], b["kill"]);
        let names = |t: &toml::Table| {
            let mut v: Vec<String> = t["server"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&a).len(), names(&b).len());
        seen.insert(t);
    }
    assert!(seen.len() > 3, "shuffles are not varied: {}", seen.len());
}

#[test]
fn same_bytes_from_any_directory_locale_and_time_zone() {
    let repo = common::repo();
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("one");
    let deep = tmp.path().join("x/y");
    std::fs::create_dir_all(&deep).unwrap();
    let site_copy = deep.join("my site.toml");
    std::fs::copy(repo.join("site.toml"), &site_copy).unwrap();
    let run = |cwd: &Path, site: &Path, out: &Path, env: &[(&str, &str)]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
            .current_dir(cwd)
            .envs(env.iter().copied())
            .arg("build")
            .arg(site)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&repo, Path::new("site.toml"), &a, &[]);
    run(
        &deep,
        Path::new("my site.toml"),
        Path::new("../other name"),
        &[
            ("TZ", "Pacific/Kiritimati"),
            ("LC_ALL", "tr_TR.UTF-8"),
            ("LANG", "tr_TR.UTF-8"),
        ],
    );
    let one = tree_bytes(&a);
    let two = tree_bytes(&tmp.path().join("x/other name"));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    assert!(one == two, "bytes differ between builds");
    // And the in-process build, twice, gives the same bytes as the binary.
    let b1 = bundle_bytes(&common::reference());
    let b2 = bundle_bytes(&common::reference());
    assert!(b1 == b2);
    assert!(b1 == one);
}
