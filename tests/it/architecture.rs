//! The layering of ARCHITECTURE.md, checked on the source: every `crate::…` and `super::…` path in
//! `src/` (use trees expanded, comments and `#[cfg(test)]` modules left out) is an edge between
//! components; the test fails on an import circle, on a family importing another family, and on a
//! lower layer (shared, model, plan, emitters) importing a family or anything above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first. A component may import its own layer or a lower one, with the
/// exceptions in [`violation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Shared,
    Model,
    Plan,
    Family,
    Emitter,
    Site,
    Analysis,
    Pipeline,
}

fn layer(component: &str) -> Layer {
    match component {
        "diag" | "escape" | "render" | "bundle" | "write" | "check" | "error" | "parallel" => {
            Layer::Shared
        }
        "model" => Layer::Model,
        "plan" => Layer::Plan,
        c if c.starts_with("families::") => Layer::Family,
        c if c.starts_with("emit::") || c == "emit" => Layer::Emitter,
        // The audit reads the plan, the farm and the bundle like an emitter: never a family.
        "audit" => Layer::Emitter,
        "analysis" => Layer::Analysis,
        "site" => Layer::Site,
        _ => Layer::Pipeline, // lib, families (the table), synth, main
    }
}

/// Why an import from `from` to `to` breaks the layering, if it does.
fn violation(from: &str, to: &str) -> Option<String> {
    let (lf, lt) = (layer(from), layer(to));
    if lf == Layer::Family && lt == Layer::Family && from != to {
        return Some(format!("family {from} imports family {to}"));
    }
    if lt == Layer::Family && lf != Layer::Family && lf < Layer::Site {
        return Some(format!("{from} ({lf:?}) imports family {to}"));
    }
    // Families and emitters share a rank: neither may import the other.
    if (lf == Layer::Family && lt == Layer::Emitter)
        || (lf == Layer::Emitter && lt == Layer::Family)
    {
        return Some(format!("{from} ({lf:?}) imports {to} ({lt:?})"));
    }
    if lt > lf && !(lf == Layer::Family && lt == Layer::Emitter) {
        return Some(format!(
            "{from} ({lf:?}) imports {to} ({lt:?}), a higher layer"
        ));
    }
    None
}

/// Module path of a source file: `src/families/kill/mod.rs` → `families::kill`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(segs.last().map(String::as_str), Some("mod" | "lib")) {
        segs.pop();
    }
    segs
}

/// The component a module belongs to: a family or an emitter is its folder; everything else its
/// top-level module; `families` alone is the families table, and the crate root is `lib`.
fn component(modules: &BTreeSet<Vec<String>>, path: &[String]) -> String {
    // The longest prefix of the path that is a module (the rest names an item).
    let module: Vec<String> = (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| p.is_empty() || modules.contains(p))
        .unwrap_or_default();
    match module.as_slice() {
        [] if path.first().map(String::as_str) == Some("Error") => "error".into(),
        [] => "lib".into(),
        [top, sub, ..] if top == "families" || top == "emit" => format!("{top}::{sub}"),
        [top, ..] => top.clone(),
    }
}

/// Source text without comments and without the `#[cfg(test)]` module at the end.
fn code_of(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a use tree (`crate::a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = strip_renames(tree);
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// A use tree without whitespace and without its `as name` renames.
fn strip_renames(tree: &str) -> String {
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" && i + 1 < words.len() {
            // `as name,` or `as name}`: keep what follows the name.
            let rest = words[i + 1].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
            out.push_str(rest);
            i += 2;
            continue;
        }
        out.push_str(words[i]);
        i += 1;
    }
    out
}

/// Every path a file names: `use` trees and inline `crate::…` / `super::…` paths.
fn paths_in(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    // `use` items start a line (after `pub`/`pub(crate)`) and end at the next `;`.
    let mut offset = 0;
    for line in code.split_inclusive('\n') {
        let t = line.trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if let Some(tail) = t.strip_prefix("use ") {
            let start = offset + (line.len() - tail.len());
            let end = code[start..].find(';').map_or(code.len(), |e| start + e);
            out.extend(expand(&code[start..end]));
        }
        offset += line.len();
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':')
            {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            // `crate::a::{b, c}` is a use tree, expanded above.
            if code[at + len..].starts_with('{') {
                continue;
            }
            out.push(code[at..at + len].trim_end_matches(':').to_string());
        }
    }
    out
}

/// `super::x` and `self::x` relative to `module` (a file's module path); `crate::x` as is.
fn absolute(module: &[String], is_mod_file: bool, path: &str) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match segs.first()? {
        &"crate" => Vec::new(),
        &"super" | &"self" => {
            let mut b = module.to_vec();
            // In `x.rs`, `self` is `…::x`; in `x/mod.rs` too: the module path is the same.
            let _ = is_mod_file;
            for s in segs.iter().take_while(|s| **s == "super") {
                let _ = s;
                b.pop()?;
            }
            b
        }
        _ => return None, // std, external crates, local names
    };
    base.extend(
        segs.iter()
            .skip_while(|s| matches!(**s, "crate" | "super" | "self"))
            .map(|s| s.to_string()),
    );
    Some(base)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Component → components it imports.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.retain(|f| !f.ends_with("main.rs") || f.parent() != Some(src));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let module = module_of(src, f);
        let from = component(&modules, &module);
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let is_mod = f.ends_with("mod.rs");
        for p in paths_in(&code) {
            let Some(abs) = absolute(&module, is_mod, &p) else {
                continue;
            };
            let to = component(&modules, &abs);
            if to != from {
                g.entry(from.clone()).or_default().insert(to);
            } else {
                g.entry(from.clone()).or_default();
            }
        }
    }
    g
}

/// One circle in the graph, if there is one.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == m).unwrap();
                    let mut c = stack[i..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn problems(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out: Vec<String> = g
        .iter()
        .flat_map(|(from, tos)| tos.iter().filter_map(move |to| violation(from, to)))
        .collect();
    if let Some(c) = find_cycle(g) {
        out.push(format!("import circle: {}", c.join(" -> ")));
    }
    out
}

#[test]
fn layers_hold_and_there_is_no_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let g = graph(&src);
    // The graph is really read: the known edges are there.
    for (from, to) in [
        ("families::kill", "plan"),
        ("emit::gpo", "plan"),
        ("site", "families::f5"),
        ("families", "site"),
        ("analysis", "families::f5"),
        ("emit::runbook", "emit::topology"),
    ] {
        assert!(
            g.get(from).is_some_and(|t| t.contains(to)),
            "edge {from} -> {to} not found: {g:#?}"
        );
    }
    let found = problems(&g);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_check_catches_circles_and_cross_family_imports() {
    let edges = |list: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in list {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let circle = edges(&[
        ("render", "escape"),
        ("escape", "bundle"),
        ("bundle", "render"),
    ]);
    assert!(
        problems(&circle)
            .iter()
            .any(|p| p.starts_with("import circle: "))
    );
    let cross = edges(&[("families::sql", "families::kill")]);
    assert_eq!(
        problems(&cross),
        ["family families::sql imports family families::kill"]
    );
    assert!(!problems(&edges(&[("emit::gpo", "families::kill")])).is_empty());
    assert!(!problems(&edges(&[("plan", "site")])).is_empty());
    assert!(!problems(&edges(&[("model", "analysis")])).is_empty());
    assert!(
        problems(&edges(&[
            ("analysis", "families::f5"),
            ("families::f5", "plan")
        ]))
        .is_empty()
    );
    // Use trees and relative paths resolve to modules.
    assert_eq!(
        expand("crate::a::{b, c::{d, e as f}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
    let m = vec![
        "families".to_string(),
        "kill".to_string(),
        "model".to_string(),
    ];
    assert_eq!(
        absolute(&m, false, "super::super::sql::x").unwrap(),
        ["families", "sql", "x"]
    );
}

/// The rules of the frozen plan and of its types, checked on the source text of `src/` (comments
/// left out): no emitter (or anything but the plan's own assembly) takes `&mut Plan`; no numeric
/// `const …ORDER` (the runbook is ordered by `RunbookSlot`); no ISO 8601 duration spelled as
/// text outside `plan/duration.rs`; a well-known SID spelled in one file only (`plan/task.rs`,
/// the `Account` type). `files` holds (path relative to `src/`, text); unit-test modules are not
/// judged.
fn type_rules(files: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sid_files = BTreeSet::new();
    for (path, text) in files {
        let code = without_comments(text);
        let in_plan = path.starts_with("plan/");
        for (n, line) in code.lines().enumerate() {
            let at = format!("src/{path}:{}", n + 1);
            if !in_plan && takes_mut_plan(line) {
                out.push(format!(
                    "{at}: takes `&mut Plan` (the plan is frozen after Plan::assemble)"
                ));
            }
            if is_order_const(line) {
                out.push(format!("{at}: a numeric ORDER constant (use RunbookSlot)"));
            }
            if path != "plan/duration.rs" && spells_duration(line) {
                out.push(format!(
                    "{at}: a duration spelled as text (use plan::Duration)"
                ));
            }
            if ["S-1-5-18", "S-1-5-19", "S-1-5-20"]
                .iter()
                .any(|s| line.contains(s))
            {
                sid_files.insert(path.clone());
            }
        }
    }
    if sid_files.len() > 1 {
        out.push(format!(
            "well-known SIDs are spelled in {} files (only plan::Account may): {}",
            sid_files.len(),
            sid_files.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

/// Source text without `//` comments (doc comments included) and without the `#[cfg(test)]`
/// module at the end: rules judge the program's code, not prose or its unit tests.
fn without_comments(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            // `"…//…"` inside a string (a URL) is kept: only a `//` outside quotes starts a comment.
            Some(i) if l[..i].matches('"').count() % 2 == 0 => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn takes_mut_plan(line: &str) -> bool {
    let squeezed: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    [
        "&mut Plan",
        "&mut plan::Plan",
        "&mut crate::plan::Plan",
        "&'a mut Plan",
    ]
    .iter()
    .any(|p| {
        squeezed.match_indices(p).any(|(i, _)| {
            !squeezed[i + p.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    })
}

fn is_order_const(line: &str) -> bool {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    t.strip_prefix("const ").is_some_and(|rest| {
        rest.split(':')
            .next()
            .is_some_and(|name| name.trim().ends_with("ORDER"))
    })
}

/// A string literal that starts like an ISO 8601 duration: `"PT5M"`, `"P1D"`, `"PT{}M"`.
fn spells_duration(line: &str) -> bool {
    line.match_indices("\"P").any(|(i, _)| {
        let rest = &line[i + 2..];
        let rest = rest.strip_prefix('T').unwrap_or(rest);
        rest.starts_with(|c: char| c.is_ascii_digit() || c == '{')
    })
}

fn source_files(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let rel = f
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&f).unwrap())
        })
        .collect()
}

#[test]
fn the_plan_is_frozen_and_its_facts_are_typed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = source_files(&src);
    assert!(
        files.len() > 50,
        "the source was read: {} files",
        files.len()
    );
    let found = type_rules(&files);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn each_type_rule_fails_on_a_violation() {
    let one = |path: &str, text: &str| type_rules(&[(path.to_string(), text.to_string())]);
    let mut_plan = one(
        "emit/x.rs",
        "pub fn emit(site: &Farm, plan: &mut Plan) -> R {}",
    );
    assert!(mut_plan[0].contains("&mut Plan"), "{mut_plan:?}");
    assert!(one("emit/x.rs", "fn f(p: &mut PlanView) {}").is_empty());
    assert!(one("plan/assemble.rs", "fn merge(plan: &mut Plan) {}").is_empty());
    let order = one("families/x/mod.rs", "const SECTION_ORDER: u32 = 50;");
    assert!(order[0].contains("ORDER"), "{order:?}");
    let dur = one("families/x/mod.rs", r#"let t = format!("PT{}M", minutes);"#);
    assert!(dur[0].contains("duration"), "{dur:?}");
    assert!(!one("emit/x.rs", r#"let t = "PT10M";"#).is_empty());
    assert!(one("plan/duration.rs", r#"let t = "PT10M";"#).is_empty());
    assert!(one("emit/x.rs", r#"let t = "PROCESSOR";"#).is_empty());
    let sids = type_rules(&[
        (
            "plan/task.rs".into(),
            r#"const S: &str = "S-1-5-18";"#.into(),
        ),
        (
            "audit/names.rs".into(),
            r#"match u { "s-1-5-18" | "S-1-5-18" => 1 }"#.into(),
        ),
    ]);
    assert!(sids[0].contains("2 files"), "{sids:?}");
    assert!(one("plan/task.rs", "// S-1-5-18 in a comment").is_empty());
}
