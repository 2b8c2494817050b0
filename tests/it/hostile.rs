//! Hostile values in every string of every site (property test; the escaping rule of ARCHITECTURE.md).
//!
//! The generated files run as SYSTEM, sysadmin or BIG-IP admin, so a string from site.toml that
//! turns into code is a privilege escalation. This test takes the reference site, every fixture and
//! the `init` starter site, finds every string value in them by walking the parsed TOML document
//! (strings inside arrays and inline tables too, so new families' fields are covered with no change
//! here), puts a hostile value in its place (quotes of every kind, brackets, `$(`, `%`, `!`, `^`, `&`,
//! `|`, `<`, `>`, backticks, newlines, NUL and other control characters, non-ASCII, very long values,
//! always with the marker word [`MARKER`] inside) and requires one of two outcomes:
//!
//! - **rejected**: `parse_and_resolve` fails with errors that each carry a span inside the file; the
//!   binary (for a sample of cases) exits 2, prints a located `error:` and writes nothing;
//! - **accepted**: `build_bundle` succeeds, and every artifact the value changed passes its
//!   language's real parser *and* the marker only ever sits in a data position (validate.py
//!   `--marker`). All accepted bundles are checked in one validate.py run (it takes ~1 s to start).
//!
//! A render error after a successful resolve counts as a failure (a value slipped past validation).
//!
//! Cases: `SITEBUNDLE_PROPTEST_CASES` (default [`DEFAULT_CASES`], raised so that every string slot
//! gets at least [`MIN_PER_SLOT`] cases); seed: `SITEBUNDLE_PROPTEST_SEED` (a number; default fixed
//! for reproducible CI runs, random when only the case count is set, printed either way).
//! Counts are printed on stderr even when the test passes.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sitebundle::bundle::Bundle;
use toml::de::{DeTable, DeValue};

/// The word every hostile value carries; validate.py checks it only appears as data.
const MARKER: &str = "SbMarker7q";
const DEFAULT_CASES: usize = 600;
const MIN_PER_SLOT: usize = 3;
const DEFAULT_SEED: u64 = 0x5173_b0d1_e5ee_d001;
/// The binary is run for one case in this many (each run is a process start).
const BINARY_EVERY: usize = 6;

/// Pieces hostile values are made of: quote characters of every kind (PowerShell also treats the
/// typographic ones as quotes), escapes, the metacharacters of every target language (T-SQL, sqlcmd,
/// batch, PowerShell, VBScript, XML, Tcl/tmsh, JSON, Markdown), template delimiters, control and
/// odd Unicode characters.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "`",
    "\u{2018}",
    "\u{2019}",
    "\u{201C}",
    "\u{201D}",
    "\u{201E}",
    "\u{00AB}",
    "\u{00BB}",
    "\u{FF02}",
    "''",
    "\\\"",
    "\\",
    "\\\\",
    "]",
    "[",
    "]]",
    "[[",
    "{",
    "}",
    "{{",
    "}}",
    "[%",
    "%]",
    "[#",
    "#]",
    "{%",
    "$(",
    ")",
    "$(calc)",
    "${x}",
    "$x",
    "@(",
    "%",
    "%PATH%",
    "%%",
    "%~dp0",
    "!",
    "!x!",
    "^",
    "&",
    "&&",
    "|",
    "||",
    "<",
    ">",
    ">>",
    ";",
    "--",
    "/*",
    "*/",
    "#",
    "'; DROP DATABASE master; --",
    "\"; exec calc; \"",
    "N'",
    "$(ESCAPE_SQUOTE(x))",
    "\nGO\n",
    "\n:!! calc\n",
    ":r x.sql",
    "[exec calc]",
    "$::env(x)",
    "\\\n",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "&#0;",
    "<!--",
    "-->",
    "<script>",
    "\" & CreateObject(\"WScript.Shell\").Run(\"calc\") & \"",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\u{0}",
    "\u{1}",
    "\u{8}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{202e}",
    "\u{200b}",
    "\u{fffd}",
    "é",
    "中文",
    "😀",
    "İ",
    "ß",
    "Ω",
    "CON",
    "NUL",
    "..\\..\\",
    "../",
    "/",
    "\\\\evil\\share",
    " ",
    "   ",
    "\"\"\"",
    "'''",
    "*",
    "?",
    "=",
    ",",
    "@",
    "+",
    "(",
    "0x41",
    "-1",
    "true",
];

fn hostile_value() -> impl Strategy<Value = String> {
    let frag = prop::sample::select(FRAGMENTS);
    let piece = prop_oneof![
        3 => frag.clone().prop_map(String::from),
        1 => "\\PC{1,6}",
        1 => "[a-zA-Z0-9]{1,8}",
    ];
    prop_oneof![
        // One hostile piece next to the marker: the values most likely to pass validation and
        // so to reach the generated files.
        4 => (frag.clone(), any::<bool>()).prop_map(|(f, before)| if before {
            format!("{f}{MARKER}")
        } else {
            format!("{MARKER}{f}")
        }),
        // A mixture of pieces with the marker somewhere inside.
        5 => (prop::collection::vec(piece, 1..8), any::<prop::sample::Index>()).prop_map(
            |(mut parts, at)| {
                let i = at.index(parts.len() + 1);
                parts.insert(i, MARKER.to_string());
                parts.concat()
            }
        ),
        // Very long values (up to 70 000 characters).
        1 => (frag, 300usize..70_000).prop_map(|(f, n)| {
            let mut s = String::from(MARKER);
            while s.chars().count() < n {
                s.push_str(f);
                s.push('x');
            }
            s
        }),
        // The bare marker, alone or padded: plain values that must pass and land as data.
        1 => prop_oneof![
            Just(MARKER.to_string()),
            Just(format!(" {MARKER} ")),
            Just(format!("{MARKER}.exe")),
        ],
    ]
}

/// One string value in a site file.
#[derive(Debug, Clone)]
struct Slot {
    path: String,
    span: Range<usize>,
    original: String,
}

struct SiteFile {
    name: String,
    text: String,
    baseline: Bundle,
    slots: Vec<Slot>,
}

/// Every string value of a TOML document, with its path and span (quotes included).
fn string_slots(text: &str) -> Vec<Slot> {
    fn walk(path: &str, v: &DeValue<'_>, span: Range<usize>, out: &mut Vec<Slot>) {
        match v {
            DeValue::String(s) => out.push(Slot {
                path: path.to_string(),
                span,
                original: s.to_string(),
            }),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), item.get_ref(), item.span(), out);
                }
            }
            DeValue::Table(t) => table(path, t, out),
            _ => {}
        }
    }
    fn table(prefix: &str, t: &DeTable<'_>, out: &mut Vec<Slot>) {
        for (k, v) in t.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            walk(&path, v.get_ref(), v.span(), out);
        }
    }
    let root = DeTable::parse(text).expect("site parses");
    let mut out = Vec::new();
    table("", root.get_ref(), &mut out);
    out.sort_by_key(|s| s.span.start);
    out
}

/// A TOML basic string holding `s` exactly (control characters as `\uXXXX`).
fn toml_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// `text` with the values at `spans` replaced (spans must not overlap).
fn substitute(text: &str, spans: &[(Range<usize>, String)]) -> String {
    let mut spans: Vec<&(Range<usize>, String)> = spans.iter().collect();
    spans.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (r, v) in spans {
        out.push_str(&text[at..r.start]);
        out.push_str(&toml_str(v));
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

fn sites() -> Vec<SiteFile> {
    let mut files = vec![("site.toml".to_string(), common::read("site.toml"))];
    files.extend(common::fixtures());
    files.push((
        "init_site.toml".to_string(),
        common::read("src/init_site.toml"),
    ));
    files
        .into_iter()
        .map(|(name, text)| SiteFile {
            baseline: common::build_text(&name, &text),
            slots: string_slots(&text),
            name,
            text,
        })
        .collect()
}

#[derive(Debug)]
struct Case {
    id: usize,
    site: usize,
    mode: &'static str,
    paths: Vec<String>,
    value: String,
}

impl Case {
    fn describe(&self, sites: &[SiteFile]) -> String {
        let mut v = format!("{:?}", self.value);
        if v.len() > 160 {
            let cut: String = v.chars().take(160).collect();
            v = format!("{cut}… ({} chars)", self.value.chars().count());
        }
        format!(
            "case {} [{}] {} {}: {v}",
            self.id,
            self.mode,
            sites[self.site].name,
            self.paths.join(", ")
        )
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn seed() -> u64 {
    if let Some(s) = std::env::var("SITEBUNDLE_PROPTEST_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return s;
    }
    if std::env::var_os("SITEBUNDLE_PROPTEST_CASES").is_some() {
        // Opt-in long runs explore new ground each time (the seed is printed for reproduction).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        return t ^ (u64::from(std::process::id()) << 32);
    }
    DEFAULT_SEED
}

/// Runs the binary on one case file; checks exit code and what was written.
fn run_binary(case: &Case, file: &Path, accepted: Option<&Bundle>, work: &Path) -> Option<String> {
    let out_dir = work.join(format!("bin-out-{}", case.id));
    let out = Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result = match accepted {
        None => {
            if out.status.code() != Some(2) {
                Some(format!("binary exit {:?} (want 2)", out.status.code()))
            } else if !stderr.contains("error:") || !stderr.contains("-->") {
                Some(format!("binary error is not located:\n{stderr}"))
            } else if out_dir.exists() {
                Some("binary wrote output for a rejected site".into())
            } else {
                None
            }
        }
        Some(bundle) => {
            if out.status.code() != Some(0) {
                Some(format!(
                    "binary exit {:?} on an accepted site:\n{stderr}",
                    out.status.code()
                ))
            } else {
                let want = bundle.files.get("manifest.json").map(|a| &a.bytes);
                let got = std::fs::read(out_dir.join("manifest.json")).ok();
                (want != got.as_ref())
                    .then(|| "binary's manifest differs from the in-process build".to_string())
            }
        }
    };
    let _ = std::fs::remove_dir_all(&out_dir);
    result
}

#[test]
fn hostile_values_are_rejected_with_a_location_or_stay_data() {
    let started = std::time::Instant::now();
    let sites = sites();
    let all_slots: Vec<(usize, usize)> = sites
        .iter()
        .enumerate()
        .flat_map(|(s, f)| (0..f.slots.len()).map(move |i| (s, i)))
        .collect();
    assert!(!all_slots.is_empty());
    let requested = env_usize("SITEBUNDLE_PROPTEST_CASES").unwrap_or(DEFAULT_CASES);
    let cases_n = requested.max(all_slots.len() * MIN_PER_SLOT);
    let seed = seed();

    let mut seed_bytes = [0u8; 32];
    for (i, b) in seed_bytes.iter_mut().enumerate() {
        *b = (seed >> ((i % 8) * 8)) as u8 ^ (i as u8);
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = hostile_value();
    let choice = (
        0u32..100,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    );

    let work = tempfile::tempdir().expect("tempdir");
    // Accepted bundles go to two batches: values with any character beyond a plain name's are
    // checked with the strict marker rule; values of name characters only (`[A-Za-z0-9_.-]`), which
    // cannot carry any syntax, may also stand as a tmsh object name or AS3 key (a pool or node
    // named by the user), validate.py --marker-names-ok.
    let batch = work.path().join("accepted");
    let batch_names = work.path().join("accepted-names");
    std::fs::create_dir(&batch).unwrap();
    std::fs::create_dir(&batch_names).unwrap();

    let mut cases: Vec<Case> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let (mut rejected, mut accepted, mut binary_runs) = (0usize, 0usize, 0usize);
    let mut reached_files = 0usize; // accepted cases whose marker reached a changed artifact
    let mut identical = 0usize; // accepted cases whose bundle did not change at all
    let mut case_dirs: BTreeMap<String, usize> = BTreeMap::new();
    let mut binary_time = std::time::Duration::ZERO;

    for id in 0..cases_n {
        // Round robin over every string slot of every site, so each gets its share.
        let (site_idx, slot_idx) = all_slots[id % all_slots.len()];
        let site = &sites[site_idx];
        let slot = &site.slots[slot_idx];
        let mut value = strategy.new_tree(&mut runner).unwrap().current();
        let (roll, other1, other2) = choice.new_tree(&mut runner).unwrap().current();
        if roll % 5 == 0 && !value.contains('\n') {
            // Keep the original in front: plausible values that get further through validation.
            value = format!("{}{value}", slot.original);
        }
        let (mode, targets): (&'static str, Vec<&Slot>) = if roll < 55 {
            ("one", vec![slot])
        } else if roll < 85 {
            // Rename: every occurrence of the original string (a server name and every reference
            // to it), so that valid-looking hostile names get past reference checks.
            (
                "rename",
                site.slots
                    .iter()
                    .filter(|s| s.original == slot.original)
                    .collect(),
            )
        } else {
            let mut t = vec![slot];
            for o in [other1, other2] {
                let s = &site.slots[o.index(site.slots.len())];
                if !t.iter().any(|x| x.path == s.path) {
                    t.push(s);
                }
            }
            ("several", t)
        };
        let subs: Vec<(Range<usize>, String)> = targets
            .iter()
            // The same value at every target (a rename stays consistent).
            .map(|s| (s.span.clone(), value.clone()))
            .collect();
        let case = Case {
            id,
            site: site_idx,
            mode,
            paths: targets.iter().map(|s| s.path.clone()).collect(),
            value,
        };
        let text = substitute(&site.text, &subs);
        let file_name = format!("case-{id}.toml");

        // The whole pipeline must not panic, whatever the value.
        let outcome = std::panic::catch_unwind(|| match sitebundle::load_text(&file_name, &text) {
            Err(d) => Err(d),
            Ok((s, _)) => Ok(sitebundle::build_bundle(&s)),
        });
        let mut built: Option<Bundle> = None;
        match outcome {
            Err(_) => failures.push(format!("{}: PANIC", case.describe(&sites))),
            Ok(Err(diags)) => {
                rejected += 1;
                let errors: Vec<_> = diags
                    .items
                    .iter()
                    .filter(|d| d.severity == sitebundle::diag::Severity::Error)
                    .collect();
                if errors.is_empty() {
                    failures.push(format!(
                        "{}: rejected without an error",
                        case.describe(&sites)
                    ));
                }
                for d in errors {
                    match &d.span {
                        Some(s) if s.start <= s.end && s.end <= text.len() => {}
                        other => failures.push(format!(
                            "{}: error without a valid location ({other:?}): {}",
                            case.describe(&sites),
                            d.message
                        )),
                    }
                }
                let rendered = diags.render();
                if !rendered.contains(&format!("--> {file_name}:")) {
                    failures.push(format!(
                        "{}: rendered diagnostics have no location:\n{rendered}",
                        case.describe(&sites)
                    ));
                }
            }
            Ok(Ok(Err(e))) => failures.push(format!(
                "{}: resolved but failed to render (a value slipped past validation): {e}",
                case.describe(&sites)
            )),
            Ok(Ok(Ok(bundle))) => {
                accepted += 1;
                // Only the artifacts the value changed need checking: the unchanged ones are the
                // baseline's, which validators_run.rs checks.
                let dir_name = format!("case-{id}");
                let plain_name = !case.value.is_empty()
                    && case
                        .value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
                let dir = if plain_name { &batch_names } else { &batch }.join(&dir_name);
                let mut changed = 0;
                let mut marker_hit = false;
                for (rel, art) in &bundle.files {
                    if site.baseline.files.get(rel).map(|b| &b.bytes) == Some(&art.bytes) {
                        continue;
                    }
                    changed += 1;
                    let decoded = sitebundle::bundle::decode_for_display(&art.bytes);
                    if decoded.as_deref().is_some_and(|t| t.contains(MARKER)) {
                        marker_hit = true;
                    }
                    let dest = dir.join(rel);
                    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                    std::fs::write(dest, &art.bytes).unwrap();
                }
                if changed == 0 {
                    if std::env::var_os("SITEBUNDLE_HOSTILE_DEBUG").is_some() {
                        let _ = writeln!(std::io::stderr(), "unchanged: {}", case.describe(&sites));
                    }
                    identical += 1;
                } else {
                    case_dirs.insert(dir_name, cases.len());
                }
                if marker_hit {
                    reached_files += 1;
                }
                built = Some(bundle);
            }
        }

        if id % BINARY_EVERY == 0 {
            let t = std::time::Instant::now();
            binary_runs += 1;
            let file = work.path().join(&file_name);
            std::fs::write(&file, &text).unwrap();
            if let Some(why) = run_binary(&case, &file, built.as_ref(), work.path()) {
                failures.push(format!("{}: {why}", case.describe(&sites)));
            }
            let _ = std::fs::remove_file(&file);
            binary_time += t.elapsed();
        }
        cases.push(case);
    }

    // One validate.py run over every accepted bundle's changed artifacts.
    let (mut checked_files, mut unchecked_files) = (0usize, 0usize);
    let validate_started = std::time::Instant::now();
    let mut verdicts = Vec::new();
    for (dir, names_ok) in [(&batch, false), (&batch_names, true)] {
        if std::fs::read_dir(dir).unwrap().next().is_some() {
            verdicts.extend(common::validate_with(
                &[dir.as_path()],
                Some(MARKER),
                names_ok,
            ));
        }
    }
    {
        for v in &verdicts {
            if v.kind == "unchecked" {
                unchecked_files += 1;
            } else {
                checked_files += 1;
            }
            if v.ok {
                continue;
            }
            let rel = PathBuf::from(&v.path);
            let rel = rel
                .strip_prefix(&batch)
                .or_else(|_| rel.strip_prefix(&batch_names))
                .unwrap_or(&rel);
            let case_dir = rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .unwrap_or_default();
            let what = case_dirs
                .get(&case_dir)
                .map(|&i| cases[i].describe(&sites))
                .unwrap_or_else(|| case_dir.clone());
            failures.push(format!(
                "{what}: {} ({}) fails its parser or marker check: {}",
                rel.display(),
                v.kind,
                v.errors.join("; ")
            ));
        }
    }

    let validate_time = validate_started.elapsed();
    let slots: usize = sites.iter().map(|s| s.slots.len()).sum();
    let _ = writeln!(
        std::io::stderr(),
        "hostile: seed {seed}, {} sites, {slots} string slots, {cases_n} cases: {rejected} rejected with located errors, {accepted} accepted-and-valid ({reached_files} carried the marker into a generated file, {identical} changed nothing); {checked_files} changed artifacts parsed with the marker check ({unchecked_files} without a parser: docs); binary run on {binary_runs} cases ({:.1} s); validate.py {:.1} s; {} failures; {:.1} s in all",
        sites.len(),
        binary_time.as_secs_f64(),
        validate_time.as_secs_f64(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        std::io::stderr(),
        "hostile: rerun with SITEBUNDLE_PROPTEST_SEED={seed} SITEBUNDLE_PROPTEST_CASES={cases_n}"
    );
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(30).collect();
        panic!(
            "{} hostile case(s) failed (seed {seed}):\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn every_fixture_string_is_found() {
    // The walker sees strings in arrays, inline tables and arrays of tables.
    let text = "[a]\nx = \"1\"\ny = [\"2\", { z = '3' }]\n[[b]]\nw = \"\"\"4\"\"\"\n[[b]]\nw = '5'\nn = 6\n";
    let slots = string_slots(text);
    let got: Vec<(&str, &str)> = slots
        .iter()
        .map(|s| (s.path.as_str(), s.original.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("a.x", "1"),
            ("a.y[0]", "2"),
            ("a.y[1].z", "3"),
            ("b[0].w", "4"),
            ("b[1].w", "5")
        ]
    );
    // Substitution round-trips any string through TOML.
    for v in FRAGMENTS {
        let t = substitute(text, &[(slots[0].span.clone(), format!("{v}{MARKER}"))]);
        let back = string_slots(&t);
        assert_eq!(back[0].original, format!("{v}{MARKER}"), "{v:?}");
    }
}
