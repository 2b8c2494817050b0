//! Write safety: a build that fails or is interrupted at any step leaves the previous bundle byte for
//! byte as it was and no temporary folder behind (or, after a crash, the next build cleans up and
//! restores); foreign folders are refused without --force; files sitebundle did not generate are
//! kept. The tests run as root, where permissions do not stop writes, so "unwritable" is made with a
//! file in the way, a path under /proc, and (when `unshare -m` is allowed) a read-only bind mount
//! and a tiny tmpfs that really fills up, in a private mount namespace.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use sitebundle::bundle::Bundle;
use sitebundle::write::{list_files, write_bundle, write_bundle_with};

/// Every file (and symlink target) under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    list_files(dir)
        .unwrap()
        .into_iter()
        .map(|rel| {
            let p = dir.join(&rel);
            let bytes = match std::fs::read_link(&p) {
                Ok(t) => format!("-> {}", t.display()).into_bytes(),
                Err(_) => std::fs::read(&p).unwrap(),
            };
            (rel, bytes)
        })
        .collect()
}

fn bundle_files(b: &Bundle) -> BTreeMap<String, Vec<u8>> {
    b.files
        .iter()
        .map(|(k, a)| (k.clone(), a.bytes.clone()))
        .collect()
}

/// Names in `parent` other than `keep` (leftover temporary folders would show up here).
fn others(parent: &Path, keep: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

fn two_bundles() -> (Bundle, Bundle) {
    let a = common::reference();
    let fx = common::fixtures();
    let (name, text) = fx.iter().find(|(n, _)| n == "minimal.toml").unwrap();
    (a, common::build_text(name, text))
}

/// Writes bundle `a` plus user files (kept across builds) into `parent/out`.
fn prepare(parent: &Path, a: &Bundle) -> PathBuf {
    let out = parent.join("out");
    write_bundle(a, &out, false).unwrap();
    std::fs::write(out.join("NOTES.txt"), b"operator notes, not generated\r\n").unwrap();
    std::fs::create_dir_all(out.join("local/empty")).unwrap();
    std::fs::write(out.join("local/keep.ps1"), b"# mine\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("../NOTES.txt", out.join("local/notes-link")).unwrap();
    out
}

/// The steps a successful write of `b` over `a` goes through (recorded by a hook that never
/// fails). Over an output that already holds `b` nothing is written, so nothing has steps.
fn steps(a: &Bundle, b: &Bundle, parent: &Path) -> Vec<String> {
    let out = prepare(parent, a);
    let seen = Mutex::new(Vec::new());
    let hook = |s: &str| {
        seen.lock().unwrap().push(s.to_string());
        Ok(())
    };
    write_bundle_with(b, &out, false, Some(&hook)).unwrap();
    seen.into_inner().unwrap()
}

#[test]
fn a_failure_at_any_step_leaves_the_previous_bundle_intact() {
    let (a, b) = two_bundles();
    let all = steps(&a, &b, tempfile::tempdir().unwrap().path());
    for kind in [
        "create-tmp",
        "write ",
        "partial ",
        "keep ",
        "sync",
        "swap",
        "rename",
    ] {
        assert!(
            all.iter().any(|s| s.starts_with(kind)),
            "no step {kind}: {all:?}"
        );
    }
    let mut tried = 0;
    for step in all.iter().filter(|s| *s != "cleanup") {
        let tmp = tempfile::tempdir().unwrap();
        let out = prepare(tmp.path(), &a);
        let before = snapshot(&out);
        for code in [28, 5] {
            // ENOSPC (disk full), EIO.
            let hook = |s: &str| {
                if s == step {
                    Err(std::io::Error::from_raw_os_error(code))
                } else {
                    Ok(())
                }
            };
            let r = write_bundle_with(&b, &out, false, Some(&hook));
            let e = r.expect_err(step).to_string();
            assert!(e.contains(step.as_str()), "{step}: {e} ({code})");
            assert_eq!(snapshot(&out), before, "{step}: previous bundle changed");
            assert_eq!(others(tmp.path(), &["out"]), Vec::<String>::new(), "{step}");
            tried += 1;
        }
    }
    // The bundle then still builds normally, keeping the operator's files.
    assert!(tried > 10, "{tried}");
}

#[test]
fn failing_to_remove_the_old_copy_is_not_a_failed_build() {
    let (a, b) = two_bundles();
    let tmp = tempfile::tempdir().unwrap();
    let out = prepare(tmp.path(), &a);
    let hook = |s: &str| {
        if s == "cleanup" {
            Err(std::io::Error::other("busy"))
        } else {
            Ok(())
        }
    };
    write_bundle_with(&b, &out, false, Some(&hook)).unwrap();
    let snap = snapshot(&out);
    assert_eq!(
        snap.get("manifest.json"),
        Some(&b.files["manifest.json"].bytes)
    );
    assert_eq!(others(tmp.path(), &["out"]).len(), 1, "the old copy stays");
    // The next build removes it.
    let r = write_bundle(&b, &out, false).unwrap();
    assert_eq!(r.recovered.len(), 1, "{:?}", r.recovered);
    assert_eq!(others(tmp.path(), &["out"]), Vec::<String>::new());
}

/// A crash (simulated by a panic in the hook, which skips every clean-up as a killed process would)
/// at each step; then the next build cleans up, restores what needs restoring, and succeeds; and a
/// next build that itself fails still leaves the previous bundle intact.
#[test]
fn a_crash_at_any_step_is_recovered_by_the_next_build() {
    let (a, b) = two_bundles();
    let all = steps(&a, &b, tempfile::tempdir().unwrap().path());
    for step in &all {
        for next_fails in [false, true] {
            let tmp = tempfile::tempdir().unwrap();
            let out = prepare(tmp.path(), &a);
            let before = snapshot(&out);
            let user: BTreeMap<String, Vec<u8>> = before
                .iter()
                .filter(|(k, _)| !a.files.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let crash = |s: &str| {
                if s == step {
                    panic!("simulated crash at {s}");
                }
                Ok(())
            };
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                write_bundle_with(&b, &out, false, Some(&crash))
            }));
            assert!(r.is_err(), "{step}: the hook did not fire");
            if step != "rename" && step != "cleanup" {
                assert_eq!(snapshot(&out), before, "{step}: crash changed the bundle");
            }
            if next_fails {
                let fail = |s: &str| {
                    if s == "swap" {
                        Err(std::io::Error::from_raw_os_error(28))
                    } else {
                        Ok(())
                    }
                };
                let next = write_bundle_with(&b, &out, false, Some(&fail));
                let now = snapshot(&out);
                if step == "cleanup" {
                    // The new bundle was already in place: after cleaning up the leftovers the
                    // next build finds it up to date and writes nothing (no swap to fail).
                    assert!(next.expect("up to date").up_to_date, "{step}");
                    // The crash came after the new bundle was in place.
                    let mut want = bundle_files(&b);
                    want.extend(user.clone());
                    assert_eq!(now, want, "{step}");
                } else {
                    next.expect_err(step);
                    assert_eq!(now, before, "{step}: not restored");
                }
            } else {
                let r = write_bundle(&b, &out, false).unwrap();
                // (A crash before the temporary folder exists leaves nothing to recover.)
                assert_eq!(
                    r.recovered.is_empty(),
                    step == "create-tmp",
                    "{step}: {:?}",
                    r.recovered
                );
                let mut want = bundle_files(&b);
                want.extend(user.clone());
                assert_eq!(snapshot(&out), want, "{step}");
                assert!(
                    out.join("local/empty").is_dir(),
                    "{step}: empty folder lost"
                );
            }
            assert_eq!(others(tmp.path(), &["out"]), Vec::<String>::new(), "{step}");
        }
    }
}

#[test]
fn generated_files_are_replaced_and_foreign_files_kept() {
    let (a, b) = two_bundles();
    let tmp = tempfile::tempdir().unwrap();
    let out = prepare(tmp.path(), &a);
    let r = write_bundle(&b, &out, false).unwrap();
    let mut want = bundle_files(&b);
    want.insert(
        "NOTES.txt".into(),
        b"operator notes, not generated\r\n".to_vec(),
    );
    want.insert("local/keep.ps1".into(), b"# mine\n".to_vec());
    want.insert("local/notes-link".into(), b"-> ../NOTES.txt".to_vec());
    assert_eq!(
        snapshot(&out),
        want,
        "files of the old bundle that b does not generate are gone, the operator's stay"
    );
    assert_eq!(r.kept, ["NOTES.txt", "local/keep.ps1", "local/notes-link"]);
    assert!(out.join("local/empty").is_dir());
    // A foreign file where the bundle now wants to write: refused, nothing changed.
    let before = snapshot(&out);
    let (first, _) = a
        .files
        .iter()
        .find(|(p, _)| !b.files.contains_key(*p))
        .unwrap();
    let dest = out.join(first);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(&dest, b"mine").unwrap();
    let before_a = snapshot(&out);
    let e = write_bundle(&a, &out, false).unwrap_err().to_string();
    assert!(e.contains("did not generate"), "{e}");
    assert_eq!(snapshot(&out), before_a);
    std::fs::remove_file(&dest).unwrap();
    assert_eq!(snapshot(&out), before);
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

fn build(site: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let o = bin()
        .arg("build")
        .arg(site)
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout),
    )
}

#[test]
fn a_folder_sitebundle_did_not_create_is_refused_without_force() {
    let site = common::repo().join("site.toml");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("docs");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("index.html"), b"<p>someone's</p>").unwrap();
    let before = snapshot(&out);
    let (code, msg) = build(&site, &out, &[]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(
        msg.contains("--force") && msg.contains("nothing was changed"),
        "{msg}"
    );
    assert_eq!(snapshot(&out), before);
    // A corrupt manifest is no manifest.
    std::fs::write(out.join("manifest.json"), b"{ not json").unwrap();
    let before = snapshot(&out);
    assert_eq!(build(&site, &out, &[]).0, Some(2));
    assert_eq!(snapshot(&out), before);
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    // With --force the bundle is written and the foreign file kept.
    let (code, msg) = build(&site, &out, &["--force"]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("kept index.html"), "{msg}");
    assert_eq!(
        std::fs::read(out.join("index.html")).unwrap(),
        b"<p>someone's</p>"
    );
    assert!(out.join("manifest.json").exists());
    // An empty folder needs no --force.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(build(&site, &empty, &[]).0, Some(0));
    assert_eq!(others(tmp.path(), &["docs", "empty"]), Vec::<String>::new());
}

#[test]
fn unwritable_outputs_exit_2_and_change_nothing() {
    let site = common::repo().join("site.toml");
    let tmp = tempfile::tempdir().unwrap();
    // A file in the way of the output folder, and of its parent.
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    for out in [file.clone(), file.join("out")] {
        let (code, msg) = build(&site, &out, &[]);
        assert_eq!(code, Some(2), "{}: {msg}", out.display());
        assert!(msg.contains("error:"), "{msg}");
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }
    // Under /proc nothing can be created, even by root.
    let (code, msg) = build(&site, Path::new("/proc/sitebundle-test/out"), &[]);
    assert_eq!(code, Some(2), "{msg}");
    // `.`, `..` and `/` cannot be swapped atomically.
    for out in [".", "..", "/"] {
        let (code, msg) = build(&site, Path::new(out), &["--force"]);
        assert_eq!(code, Some(2), "{out}: {msg}");
    }
    assert_eq!(others(tmp.path(), &["file"]), Vec::<String>::new());
}

#[test]
fn a_symlinked_output_is_written_through() {
    let site = common::repo().join("site.toml");
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    #[cfg(unix)]
    {
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(build(&site, &link, &[]).0, Some(0));
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(real.join("manifest.json").exists());
        assert_eq!(build(&site, &link, &[]).0, Some(0));
        assert_eq!(others(tmp.path(), &["real", "link"]), Vec::<String>::new());
    }
}

/// Runs `script` as root in a private mount namespace (`unshare -m`); None when not permitted here.
fn in_mount_namespace(script: &str) -> Option<std::process::Output> {
    let probe = Command::new("unshare").args(["-m", "true"]).output().ok()?;
    if !probe.status.success() {
        eprintln!("unshare -m is not permitted here: skipping the mount-based cases");
        return None;
    }
    Some(
        Command::new("unshare")
            .args(["-m", "sh", "-c", script])
            .output()
            .unwrap(),
    )
}

#[test]
fn read_only_and_full_file_systems_exit_2_and_change_nothing() {
    let bin = env!("CARGO_BIN_EXE_sitebundle");
    let site = common::repo().join("site.toml");
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("p");
    std::fs::create_dir(&parent).unwrap();
    let out = parent.join("out");
    assert_eq!(build(&site, &out, &[]).0, Some(0));
    let before = snapshot(&out);

    // Read-only: bind-mount the parent read-only, then build a different site into it.
    let minimal = common::repo().join("tests/fixtures/minimal.toml");
    let script = format!(
        "mount --bind -o ro '{p}' '{p}' && '{bin}' build '{s}' -o '{o}'; echo \"exit=$?\"",
        p = parent.display(),
        s = minimal.display(),
        o = out.display()
    );
    let Some(r) = in_mount_namespace(&script) else {
        return;
    };
    let text = String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr);
    assert!(text.contains("exit=2"), "{text}");
    assert!(text.contains("Read-only file system"), "{text}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(others(&parent, &["out"]), Vec::<String>::new());

    // Full disk: a 512 KiB tmpfs holding the reference bundle, then a site whose bundle does not fit
    // (a very long description lands in the runbook).
    let big = tmp.path().join("big.toml");
    let text = common::read("site.toml").replacen(
        "description = \"SharePoint",
        &format!("description = \"{} SharePoint", "x".repeat(1_000_000)),
        1,
    );
    std::fs::write(&big, text).unwrap();
    let small = tmp.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=512k tmpfs '{m}' && '{bin}' build '{s}' -o '{m}/out' && \
         (cd '{m}/out' && sha256sum $(find . -type f | sort)) > '{t}/before.txt' && \
         '{bin}' build '{b}' -o '{m}/out'; echo \"exit=$?\"; \
         (cd '{m}/out' && sha256sum $(find . -type f | sort)) > '{t}/after.txt'; ls -a '{m}' > '{t}/ls.txt'",
        m = small.display(),
        s = site.display(),
        b = big.display(),
        t = tmp.path().display(),
    );
    let r = in_mount_namespace(&script).unwrap();
    let text = String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr);
    assert!(text.contains("exit=2"), "{text}");
    assert!(text.contains("No space left on device"), "{text}");
    let read = |n: &str| std::fs::read_to_string(tmp.path().join(n)).unwrap();
    assert!(read("before.txt").contains("manifest.json"));
    assert_eq!(read("before.txt"), read("after.txt"));
    assert_eq!(
        read("ls.txt").split_whitespace().collect::<Vec<_>>(),
        [".", "..", "out"]
    );
}

/// Real interruptions: the binary is killed (SIGKILL, no clean-up code runs) at pseudo-random
/// moments while it replaces a bundle of ~150 files. Whatever the moment, the output is either the
/// old bundle or the new one, never a mix; when the kill fell between the two renames, the next
/// build puts the old one back; and after one more build nothing temporary is left.
#[test]
fn killed_builds_never_leave_a_mixed_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let site_a = tmp.path().join("a.toml");
    let site_b = tmp.path().join("b.toml");
    std::fs::write(
        &site_a,
        sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(120)),
    )
    .unwrap();
    std::fs::write(
        &site_b,
        sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(110)),
    )
    .unwrap();
    let bundle_of = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        bundle_files(&common::build_text("synth.toml", &text))
    };
    let (a, b) = (bundle_of(&site_a), bundle_of(&site_b));
    assert_ne!(a, b);
    let out = tmp.path().join("out");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    // How long an uninterrupted build takes here, so the kills spread over all of it.
    assert_eq!(build(&site_a, &out, &[]).0, Some(0));
    let t = std::time::Instant::now();
    assert_eq!(build(&site_b, &out, &[]).0, Some(0));
    let full = t.elapsed().as_micros() as u64 + 1;
    let (mut old_seen, mut new_seen, mut restored) = (0, 0, 0);
    for round in 0..10 {
        let _ = std::fs::remove_dir_all(&out);
        assert_eq!(build(&site_a, &out, &[]).0, Some(0));
        std::fs::write(out.join("NOTES.txt"), b"mine").unwrap();
        let with_user = |m: &BTreeMap<String, Vec<u8>>| {
            let mut m = m.clone();
            m.insert("NOTES.txt".into(), b"mine".to_vec());
            m
        };
        let (want_a, want_b) = (with_user(&a), with_user(&b));
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Spread over the whole build (stratified, with jitter), a little past its end.
        let delay = Duration::from_micros(full * 12 * round / 100 + x % (full / 10 + 1));
        let mut child = bin()
            .arg("build")
            .arg(&site_b)
            .arg("-o")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            let now = snapshot(&out);
            if now == want_a {
                old_seen += 1;
            } else if now == want_b {
                new_seen += 1;
            } else {
                panic!("round {round} ({delay:?}): a mixed bundle");
            }
        } else {
            restored += 1;
        }
        // The next build of A recovers whatever is left and ends with A plus the user's file.
        let (code, msg) = build(&site_a, &out, &[]);
        assert_eq!(code, Some(0), "round {round}: {msg}");
        assert_eq!(snapshot(&out), want_a, "round {round}");
        assert_eq!(
            others(tmp.path(), &["out", "a.toml", "b.toml"]),
            Vec::<String>::new(),
            "round {round}"
        );
    }
    eprintln!(
        "killed builds (a full build takes {full} µs): {old_seen} left the old bundle, {new_seen} the new one, {restored} between the renames (restored by the next build)"
    );
    // (Where the kills land depends on timing; the invariants above hold for every one of them.)
}
