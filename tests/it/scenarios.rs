//! Failover scenarios: the reference site's verdict and table, the warnings of a fixture whose group
//! splits, every splitting scenario of the broken site listed, and property tests that the
//! per-group check agrees with a brute-force evaluation of the reference `serving` rule.

use crate::common;

use std::collections::BTreeSet;
use std::process::Command;

use proptest::prelude::*;
use sitebundle::analysis::scenarios::{
    self, Affinity, FindingKind, Member, Pool, Scenario, Target, Topology, check_group, classify,
    proves_single_node, serving, variables,
};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

fn load(rel: &str) -> sitebundle::site::Site {
    let text = common::read(common::repo().join(rel));
    match sitebundle::load_text(rel, &text) {
        Ok((s, _)) => s,
        Err(d) => panic!("{}", d.render()),
    }
}

#[test]
fn reference_site_never_splits_and_prints_its_table() {
    let site = load("site.toml");
    let v = site.verdict(0).expect("checked during load");
    assert_eq!(
        (v.variables, v.scenarios, v.exhaustive, v.findings),
        (6, 64, true, 0)
    );

    let out = bin()
        .current_dir(common::repo())
        .args(["scenarios", "site.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("scenarios-reference", text);
    // Every row of the table keeps the group on one node, or nobody serves it.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| health") && l.contains("sharepoint"))
        .collect();
    assert!(rows.len() >= 4, "{text}");
    for r in &rows {
        let last = r.trim_end_matches(" |").rsplit(" | ").next().unwrap();
        assert!(
            last.starts_with("together on ") || last == "—" || r.contains("principal"),
            "{r}"
        );
    }
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("always served by a single node (all 64 combinations"),
        "{stderr}"
    );

    let out = bin()
        .current_dir(common::repo())
        .args(["validate", "site.toml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("affinity group `ects`: always served by a single node"),
        "{text}"
    );
}

#[test]
fn reference_runbook_and_topology_section_carry_the_table() {
    let site = load("site.toml");
    let section = scenarios::topology_section(&site)
        .unwrap()
        .expect("a section");
    assert!(section.starts_with("## Failover scenarios"));
    assert!(section.contains("| all up | sharepoint3 |"), "{section}");
    assert!(section.contains("SQL alias `SPSQL`"));
    let b = common::reference();
    let readme = String::from_utf8(b.files["README.md"].bytes.clone()).unwrap();
    let f5 = readme.find("## F5 BIG-IP").expect("F5 section");
    let sc = readme
        .find("## Failover scenarios")
        .expect("scenario section");
    assert!(f5 < sc, "the scenario section follows the F5 section");
    assert!(readme.contains("state user-down"));
}

/// The runbook's failover test takes whole nodes down: in its expected table every group target
/// is served by one and the same node in every column, the node taken down serves nothing, and
/// each cell is what the scenario engine says for "every check of that node down" (the node-level
/// `user-down`), evaluated here on the site's own topology.
#[test]
fn node_level_failover_test_moves_each_group_as_a_whole() {
    for rel in ["site.toml", "tests/fixtures/f5-https.toml"] {
        let site = load(rel);
        let t = scenarios::from_site(&site);
        let b = common::build_text(rel, &common::read(rel));
        let readme = String::from_utf8(b.files["README.md"].bytes.clone()).unwrap();
        let start = readme
            .find("| target | everything up |")
            .expect("the node test table");
        let lines: Vec<&str> = readme[start..]
            .lines()
            .take_while(|l| l.starts_with('|'))
            .collect();
        let cells = |l: &str| -> Vec<String> {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('\\', ""))
                .collect()
        };
        let header = cells(lines[0]);
        let down: Vec<String> = header[2..]
            .iter()
            .map(|h| {
                h.strip_suffix(" user-down")
                    .expect("NODE user-down")
                    .to_string()
            })
            .collect();
        assert!(!down.is_empty(), "{rel}: no node to take down");
        let rows: Vec<Vec<String>> = lines[2..].iter().map(|l| cells(l)).collect();
        let labels: BTreeSet<String> = t
            .affinities
            .iter()
            .flat_map(|a| a.targets.clone())
            .collect();
        assert_eq!(
            rows.iter().map(|r| r[0].clone()).collect::<BTreeSet<_>>(),
            labels,
            "{rel}"
        );
        for (col, node) in std::iter::once(None)
            .chain(down.iter().map(Some))
            .enumerate()
        {
            let s = Scenario {
                down: variables(&t)
                    .into_iter()
                    .filter(|(n, _)| Some(n) == node)
                    .collect(),
            };
            let column: BTreeSet<&str> = rows.iter().map(|r| r[col + 1].as_str()).collect();
            assert_eq!(column.len(), 1, "{rel}: column {col} splits: {column:?}");
            if let Some(n) = node {
                assert!(!column.contains(n.as_str()), "{rel}: {n} still serves");
            }
            for r in &rows {
                let target = t.targets.iter().find(|x| x.label == r[0]).unwrap();
                let pool = t.pools.iter().find(|p| p.name == target.pool).unwrap();
                assert_eq!(
                    serving(pool, &s).join(", "),
                    r[col + 1],
                    "{rel}: {} col {col}",
                    r[0]
                );
            }
        }
    }
}

#[test]
fn fixture_split_is_a_warning_with_the_scenarios_spelled_out() {
    let rel = "tests/fixtures/affinity-warning.toml";
    let text = common::read(common::repo().join(rel));
    let (site, warnings) = sitebundle::load_text(rel, &text).unwrap();
    let rendered = warnings.render();
    insta::assert_snapshot!("scenarios-fixture-warnings", rendered);
    assert!(
        rendered.contains("when everything is up: vs_portal /portal/ → app1, pool sessions → app2")
    );
    let out = bin()
        .current_dir(common::repo())
        .args(["scenarios", rel])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(
        "scenarios-fixture-table",
        String::from_utf8(out.stdout).unwrap()
    );
    assert_eq!(site.verdict(0).unwrap().findings, 3);
    assert_eq!(site.verdict(1).unwrap().findings, 0);
}

/// Every scenario in which the broken site's group splits, found by brute force over the
/// reference rule, is named in the error at the group.
#[test]
fn every_splitting_scenario_of_the_broken_site_is_reported() {
    let rel = "tests/bad/affinity-split.toml";
    let text = common::read(common::repo().join(rel));
    let diags = match sitebundle::load_text(rel, &text) {
        Ok(_) => panic!("must be rejected"),
        Err(d) => d.render(),
    };
    // The same site without the check gives the topology to brute-force.
    let site = match sitebundle::analyse_text(rel, &text) {
        Ok((s, _)) => s,
        Err(d) => panic!("{}", d.render()),
    };
    let t = scenarios::from_site(&site);
    let vars = variables(&t);
    let mut splits = 0;
    for mask in 0u32..(1 << vars.len()) {
        let s = Scenario {
            down: (0..vars.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| vars[i].clone())
                .collect(),
        };
        let outcome = outcome_of(&t, &t.affinities[0], &s);
        if classify(&index(&outcome)) == Some(FindingKind::Split) {
            splits += 1;
            let when = format!("when {}:", s.describe_in(&vars));
            assert!(diags.contains(&when), "{when} missing from\n{diags}");
        }
    }
    assert_eq!(splits, 4);
    assert!(diags.contains("splits across nodes in 4 of 16 health combinations"));
    assert!(diags.contains("shared monitors"));
    let out = bin()
        .current_dir(common::repo())
        .args(["scenarios", rel])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a splitting group with on_split = error"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "| sharepoint3 down for mon\\_adlds\\_tcp:389 | sharepoint3 | sharepoint2 | SPLIT |"
        ),
        "{text}"
    );
}

#[test]
fn hostile_group_values_are_rejected_or_escaped() {
    let base = common::read(common::repo().join("site.toml"));
    let site = base.replace(
        "description = \"ECTS front end, AD LDS and the ECTS admin pages on one node\"",
        "description = \"x | y *MARK* `z` <b>\"",
    );
    assert_ne!(site, base);
    let (s, _) = sitebundle::load_text("h.toml", &site).unwrap();
    let section = scenarios::runbook(&s).unwrap().unwrap();
    assert!(
        section.contains(r"x \| y \*MARK\* \`z\` \<b\>"),
        "{section}"
    );
    let bad = base.replace(
        "description = \"ECTS front end, AD LDS and the ECTS admin pages on one node\"",
        "description = \"a\\u0007b\"",
    );
    let err = sitebundle::load_text("h.toml", &bad).unwrap_err();
    assert!(
        err.render()
            .contains("cannot be written safely into the runbook")
    );
}

/// The switcher model follows the generated script: partners tried in the site's order, the alias
/// kept only when its partner answers 'Primary' (exit 0), the first partner answering 'Primary'
/// written (exit 0 too), nothing written when none does (exit 2).
#[test]
fn switcher_model_matches_the_generated_script() {
    let b = common::reference();
    let ps = String::from_utf8(b.files["scripts/Update-SqlAlias.ps1"].bytes.clone()).unwrap();
    let order = [
        "'sqlmirror1.campus.example.edu,1433', 'sqlmirror2.campus.example.edu,1433'",
        // The model's alias always names a partner as configured, which the last test passes.
        "if ($currentRole -eq 'Primary' -and (Test-SameTarget -A $current -B $current32) -and (Test-ConfiguredPartner -Target $current))",
        "exit 0",
        "foreach ($candidate in $Partners)",
        "if ($role -eq 'Primary') {",
        "$principal = $candidate",
        "break",
        "if ($principal -eq $null) {",
        "exit 2",
        "Set-AliasTarget -Target $principal",
        "exit 0",
    ];
    let mut at = 0;
    for step in order {
        match ps[at..].find(step) {
            Some(i) => at += i + step.len(),
            None => panic!("`{step}` not found after byte {at} of Update-SqlAlias.ps1"),
        }
    }
    // And the model: the principal, when it answers, always ends up in the alias; a partner that
    // does not answer as principal is never written.
    for principal in 0..2 {
        for mask in 0..4u32 {
            let reach = [mask & 1 != 0, mask & 2 != 0];
            for before in [Some(0), Some(1), None] {
                let (after, code) = scenarios::switcher(principal, &reach, before);
                if reach[principal] {
                    assert_eq!(after, Some(principal));
                } else {
                    assert_eq!((after, code), (before, 2));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests.

/// Target label → serving nodes of one group in one scenario, by the reference rule.
fn outcome_of(t: &Topology, a: &Affinity, s: &Scenario) -> Vec<Vec<String>> {
    a.targets
        .iter()
        .map(|l| {
            let tg = t.targets.iter().find(|x| &x.label == l).unwrap();
            t.pools
                .iter()
                .find(|p| p.name == tg.pool)
                .map(|p| serving(p, s))
                .unwrap_or_default()
        })
        .collect()
}

/// Node names → stable indices, for `classify`.
fn index(outcome: &[Vec<String>]) -> Vec<Vec<usize>> {
    let names: Vec<&String> = outcome
        .iter()
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    outcome
        .iter()
        .map(|n| {
            n.iter()
                .map(|x| names.iter().position(|y| *y == x).unwrap())
                .collect()
        })
        .collect()
}

fn arb_topology() -> impl Strategy<Value = Topology> {
    // Up to 3 nodes, 2 checks, 4 pools of 1-3 members: at most 6 variables (64 scenarios).
    let member = (
        0..3usize,
        0..3u32,
        proptest::collection::btree_set(0..2usize, 0..=2),
    );
    let pool = (proptest::collection::vec(member, 1..=3), 0..3u32);
    (
        proptest::collection::vec(pool, 1..=4),
        proptest::collection::vec(0..4usize, 1..=3),
    )
        .prop_map(|(pools, group)| {
            let pools: Vec<Pool> = pools
                .into_iter()
                .enumerate()
                .map(|(i, (ms, min))| Pool {
                    name: format!("p{i}"),
                    min_active: min,
                    members: ms
                        .into_iter()
                        .map(|(n, pg, cs)| Member {
                            node: format!("n{n}"),
                            priority_group: pg,
                            checks: cs.into_iter().map(|c| format!("c{c}")).collect(),
                        })
                        .collect(),
                })
                .collect();
            let targets: Vec<Target> = pools
                .iter()
                .map(|p| Target {
                    label: format!("t{}", p.name),
                    pool: p.name.clone(),
                })
                .collect();
            let n = pools.len();
            let labels: BTreeSet<String> =
                group.into_iter().map(|g| format!("tp{}", g % n)).collect();
            Topology {
                affinities: vec![Affinity {
                    name: "g".into(),
                    targets: labels.into_iter().collect(),
                }],
                pools,
                targets,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The per-group check (compiled rule, group's own variables) counts exactly the scenarios a
    /// brute force over every variable of the topology (reference rule) finds, per kind, divided by
    /// the combinations of the variables the group does not depend on.
    #[test]
    fn group_check_agrees_with_brute_force(t in arb_topology()) {
        let a = &t.affinities[0];
        let r = check_group(&t, a);
        prop_assert!(r.exhaustive);
        let vars = variables(&t);
        let other = vars.len() - r.variables.len();
        let mut brute = std::collections::BTreeMap::new();
        let mut minimal: BTreeSet<Scenario> = BTreeSet::new();
        for mask in 0u32..(1 << vars.len()) {
            let s = Scenario {
                down: (0..vars.len()).filter(|i| mask & (1 << i) != 0).map(|i| vars[i].clone()).collect(),
            };
            if let Some(k) = classify(&index(&outcome_of(&t, a, &s))) {
                *brute.entry(k).or_insert(0usize) += 1;
                // Projected on the group's variables.
                minimal.insert(Scenario {
                    down: s.down.iter().filter(|v| r.variables.contains(v)).cloned().collect(),
                });
            }
        }
        for k in FindingKind::ALL {
            let got = r.counts.get(&k).copied().unwrap_or(0) << other;
            prop_assert_eq!(got, brute.get(&k).copied().unwrap_or(0), "{:?}", k);
        }
        let reported: BTreeSet<Scenario> = r.findings.iter().map(|f| f.scenario.clone()).collect();
        prop_assert_eq!(reported, minimal);
        // The structural proof used beyond the enumeration limit is sound.
        let pools: Vec<&Pool> = t.pools.iter().filter(|p| a.targets.contains(&format!("t{}", p.name))).collect();
        if proves_single_node(&pools) {
            prop_assert!(brute.is_empty(), "{:?}", brute);
        }
    }

    /// Identical pools (renamed, members reordered) under one group: the proof applies exactly
    /// when brute force finds nothing of a threshold-1, one-node-per-group pool.
    #[test]
    fn identical_pools_are_proved(t in arb_topology(), copies in 2..4usize) {
        let mut u = t.clone();
        let base = u.pools[0].clone();
        u.pools.truncate(1);
        u.targets.truncate(1);
        for c in 1..copies {
            let mut p = base.clone();
            p.name = format!("copy{c}");
            p.members.reverse();
            u.targets.push(Target { label: format!("tcopy{c}"), pool: p.name.clone() });
            u.pools.push(p);
        }
        u.affinities[0].targets = u.targets.iter().map(|x| x.label.clone()).collect();
        let pools: Vec<&Pool> = u.pools.iter().collect();
        let a = &u.affinities[0];
        let r = check_group(&u, a);
        prop_assert_eq!(r.counts.get(&FindingKind::Split), None);
        prop_assert_eq!(r.counts.get(&FindingKind::Unserved), None);
        if proves_single_node(&pools) {
            prop_assert_eq!(r.total(), 0);
        }
    }

    /// Findings do not depend on the order of members, pools or targets.
    #[test]
    fn findings_are_invariant_under_reordering(t in arb_topology()) {
        let a = &t.affinities[0];
        let r = check_group(&t, a);
        let mut u = t.clone();
        u.pools.reverse();
        for p in &mut u.pools {
            p.members.reverse();
        }
        u.targets.reverse();
        let r2 = check_group(&u, &u.affinities[0]);
        prop_assert_eq!(&r.counts, &r2.counts);
        let s1: BTreeSet<Scenario> = r.findings.iter().map(|f| f.scenario.clone()).collect();
        let s2: BTreeSet<Scenario> = r2.findings.iter().map(|f| f.scenario.clone()).collect();
        prop_assert_eq!(s1, s2);
    }
}

/// A large site's node-level failover test is not a nodes × targets table on the page (it was
/// computed cell by cell, and 4,000 servers took 47 s): the runbook says where the table is, and
/// still gives every node's command.
#[test]
fn a_large_sites_failover_test_table_is_left_to_the_scenarios_command() {
    let text = sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(100));
    let (site, _) = sitebundle::load_text("synth.toml", &text).unwrap();
    let bundle = sitebundle::build_bundle(&site).unwrap();
    let runbook = String::from_utf8(bundle.files["README.md"].bytes.clone()).unwrap();
    assert!(runbook.contains("too many for this page; `sitebundle scenarios`"));
    assert!(
        !runbook
            .lines()
            .any(|l| l.matches("user-down |").count() > 14)
    );
    let nodes: usize = (runbook.split("too many for this page").next().unwrap())
        .rsplit('(')
        .next()
        .and_then(|t| t.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(nodes > 14, "{nodes}");
    // Issue 30: the blocks of every node were most of a large runbook. The page shows the test on
    // the first node (one block for the merge file's node, one for the node AS3 creates) and says
    // to run the same on each; `sitebundle scenarios` prints the table of every node.
    let commands = runbook.matches("state user-down\n").count();
    assert_eq!(commands, 2, "the first node's commands only");
    let first = runbook
        .split("tmsh modify ltm node /")
        .nth(1)
        .and_then(|t| t.split(" state user-down").next())
        .and_then(|t| t.rsplit('/').next())
        .unwrap();
    assert!(
        runbook.contains(&format!(
            "show the test on the first node, `{first}`: run the same for each node, one at a time"
        )),
        "{first}"
    );
}

/// The live-connection analysis follows the authentication: an affinity group's HTTP virtual
/// server with Windows authentication (the default) gets no OneConnect, so the group's keep-alive
/// connections stay behind, which the analysis reports with the way out (`auth = "ntlm"` or
/// `"anonymous"`); stated NTLM gives it OneConnect and the finding goes.
#[test]
fn live_connections_follow_the_authentication() {
    let (_, text) = common::fixtures()
        .into_iter()
        .find(|(n, _)| n == "f5-https.toml")
        .unwrap();
    assert!(sitebundle::load_text("f5-https.toml", &text).is_ok());
    let windows = text.replacen("auth = \"ntlm\"\n", "", 1);
    assert_ne!(windows, text);
    let Err(d) = sitebundle::load_text("f5-https.toml", &windows) else {
        panic!("the group's live connections are an error (on_split = error)")
    };
    let found: Vec<_> = (d.items.iter())
        .filter(|x| x.code == sitebundle::diag::Code::AffinityLiveConnections)
        .collect();
    assert_eq!(found.len(), 1, "{}", d.render());
    assert!(found[0].message.contains("no OneConnect"));
    assert!(
        found[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("auth = \"ntlm\""),
        "{:?}",
        found[0].help
    );
}
