//! `validate` and `build` always agree: for every site the suite knows (the reference, the
//! starter, every fixture, every bad site, and variants that once disagreed), with and without
//! `--deny-warnings`, `validate` exits 0 exactly when `build` does, and a failing build writes
//! nothing.

use std::path::Path;
use std::process::Command;

use crate::common;

fn exit_code(args: &[&str], site: &Path) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
        .args(args)
        .arg(site)
        .arg("-q")
        .output()
        .expect("sitebundle runs")
        .status
        .code()
        .expect("an exit code")
}

/// Every site the suite has, plus variants, as (name, text).
fn sites() -> Vec<(String, String)> {
    let mut all = vec![
        ("site.toml".to_string(), common::read("site.toml")),
        (
            "init_site.toml".to_string(),
            common::read("src/init_site.toml"),
        ),
    ];
    all.extend(common::fixtures());
    all.extend(common::sites_in("tests/bad"));
    // A domain account for the alias switcher with a GPO: validated, then the build refused it
    // ("asks for a stored password"); the task is now left to manual registration.
    let reference = common::read("site.toml");
    let domain = reference.replacen(
        "[sql.switcher]\n",
        "[sql.switcher]\nrun_as = 'CAMPUS\\svc_spalias'\n",
        1,
    );
    let domain = domain.replacen("run_as = \"SYSTEM\"\n", "", 1);
    assert_ne!(domain, reference, "the variant changes the site");
    all.push(("domain-run-as.toml".to_string(), domain));
    all
}

#[test]
fn validate_and_build_agree_on_every_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, text) in sites() {
        let site = dir.path().join(&name);
        std::fs::write(&site, &text).unwrap();
        // With and without `--deny-warnings` (then a warning fails both).
        for deny in [&[][..], &["--deny-warnings"][..]] {
            let out = dir.path().join(format!("{name}{}.out", deny.len()));
            let validate = exit_code(&[&["validate"][..], deny].concat(), &site);
            let out_arg = out.to_str().unwrap();
            let build = exit_code(&[&["build", "-o", out_arg][..], deny].concat(), &site);
            assert_eq!(
                validate == 0,
                build == 0,
                "{name} {deny:?}: validate exited {validate}, build {build}"
            );
            if build != 0 {
                assert!(
                    !out.exists(),
                    "{name}: a failed build wrote {}",
                    out.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} sites");
}

#[test]
fn a_domain_switcher_account_is_registered_by_hand_not_by_the_gpo() {
    let (name, text) = sites().pop().unwrap();
    let (site, _) = sitebundle::load_text(&name, &text).unwrap();
    let b = sitebundle::build_bundle(&site).unwrap();
    let tasks = b
        .files
        .iter()
        .find(|(p, _)| p.ends_with("ScheduledTasks.xml"))
        .map(|(_, a)| String::from_utf8(a.bytes.clone()).unwrap())
        .unwrap();
    assert!(
        !tasks.contains("Update-SqlAlias"),
        "the GPO must not carry it"
    );
    let readme = String::from_utf8(b.files["README.md"].bytes.clone()).unwrap();
    assert!(readme.contains("schtasks /Create /RU CAMPUS\\svc_spalias /RP * /TN Update-SqlAlias"));
    assert!(
        readme.contains("`Update-SqlAlias` as `CAMPUS\\svc_spalias`"),
        "listed for manual registration"
    );
}
