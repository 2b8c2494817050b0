//! Every error path exits 2 with an `error:` message, never 101 (a panic) and never a hang: broken
//! site files of every sort, through every subcommand that reads one, and bad command lines.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sitebundle"))
}

/// Runs with a time limit; returns (exit code, stderr).
fn run(cmd: &mut Command, what: &str) -> (Option<i32>, String) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{what}: still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.code(), reader.join().unwrap())
}

/// The broken site files: (label, path). Written into `dir`.
fn corpus(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        v.push((name.to_string(), p));
    };
    let site = common::read("site.toml");
    add("empty.toml", Vec::new());
    add("whitespace.toml", b"\n\n   \t\n".to_vec());
    add("comment-only.toml", b"# nothing here\n".to_vec());
    // Binary garbage: a fixed pseudo-random stream (xorshift), and an ELF-like header.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let garbage: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    add("garbage.toml", garbage);
    add(
        "elf.toml",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
    );
    add("nul-in-text.toml", b"[site]\nname = \"a\0b\"\n".to_vec());
    add(
        "invalid-utf8.toml",
        b"[site]\nname = \"\xff\xfe\xc3\x28\"\n".to_vec(),
    );
    let utf16 = |be: bool, bom: bool| {
        let mut b = Vec::new();
        if bom {
            b.extend_from_slice(if be { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
        }
        for u in site.encode_utf16() {
            b.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        b
    };
    add("utf16le-bom.toml", utf16(false, true));
    add("utf16be-bom.toml", utf16(true, true));
    add("utf16le-no-bom.toml", utf16(false, false));
    // Huge: over the 64 MiB limit, and a large one under it that parses (then fails resolving).
    let mut huge = b"# ".to_vec();
    huge.resize((sitebundle::site::MAX_SITE_BYTES + 10) as usize, b'x');
    add("huge.toml", huge);
    add(
        "big-value.toml",
        format!("[site]\nname = \"{}\"\n", "n".repeat(5_000_000)).into_bytes(),
    );
    add(
        "many-tables.toml",
        "[[kill]]\nimage = \"a\"\n".repeat(50_000).into_bytes(),
    );
    // Deep nesting of every kind the TOML grammar allows.
    let n = 100_000;
    add(
        "deep-arrays.toml",
        format!("x = {}{}\n", "[".repeat(n), "]".repeat(n)).into_bytes(),
    );
    add(
        "deep-open-arrays.toml",
        format!("x = {}\n", "[".repeat(n)).into_bytes(),
    );
    add(
        "deep-inline-tables.toml",
        format!("x = {}1{}\n", "{a=".repeat(n), "}".repeat(n)).into_bytes(),
    );
    add(
        "deep-header.toml",
        format!("{}a{}\n", "[".repeat(n), "]".repeat(n)).into_bytes(),
    );
    add(
        "deep-dotted-key.toml",
        format!("{} = 1\n", vec!["a"; n].join(".")).into_bytes(),
    );
    add(
        "deep-dotted-header.toml",
        format!("[{}]\n", vec!["a"; n].join(".")).into_bytes(),
    );
    add(
        "deep-table-headers.toml",
        (1..600)
            .map(|i| format!("[{}]\n", vec!["a"; i].join(".")))
            .collect::<String>()
            .into_bytes(),
    );
    add(
        "wide-inline-table.toml",
        format!(
            "x = {{ {} }}\n",
            (0..50_000)
                .map(|i| format!("k{i} = {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into_bytes(),
    );
    add(
        "unterminated-string.toml",
        b"[site]\nname = \"abc\n".to_vec(),
    );
    add(
        "unterminated-multiline.toml",
        b"[site]\nname = \"\"\"abc\n".to_vec(),
    );
    add(
        "duplicate-key.toml",
        b"[site]\nname = \"a\"\nname = \"b\"\n".to_vec(),
    );
    add("redefined-table.toml", b"[site]\n[site]\n".to_vec());
    add("array-then-table.toml", b"[[server]]\n[server]\n".to_vec());
    add(
        "bad-escape.toml",
        b"[site]\nname = \"\\q\\uD800\"\n".to_vec(),
    );
    add(
        "huge-integer.toml",
        b"[[kill]]\nevery_days = 99999999999999999999999\n".to_vec(),
    );
    add("negative-u32.toml", {
        let s = site.replace("at = \"02:30\"", "at = \"02:30\"\nevery_days = -1");
        s.into_bytes()
    });
    add(
        "crlf-and-cr.toml",
        b"[site]\r\nname = \"a\"\rchanged = 1\r\n".to_vec(),
    );
    add("bom-only.toml", b"\xef\xbb\xbf".to_vec());
    add(
        "bidi-and-escapes.toml",
        "[site]\nname = \"\u{202e}\u{1b}[2J\"\n".as_bytes().to_vec(),
    );
    // Not files.
    let sub = dir.join("a-directory.toml");
    std::fs::create_dir(&sub).unwrap();
    v.push(("a directory".into(), sub));
    v.push(("a missing file".into(), dir.join("missing.toml")));
    v.push((
        "a path through a file".into(),
        dir.join("empty.toml/site.toml"),
    ));
    v
}

#[test]
fn broken_site_files_exit_2_with_a_message_in_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let files = corpus(tmp.path());
    assert!(files.len() >= 30);
    let golden = common::repo().join("golden");
    let mut count = 0;
    for (label, path) in &files {
        let out = tmp.path().join("out");
        let runs: Vec<(&str, Command)> = vec![
            ("build", {
                let mut c = bin();
                c.arg("build").arg(path).arg("-o").arg(&out);
                c
            }),
            ("validate", {
                let mut c = bin();
                c.arg("validate").arg(path);
                c
            }),
            ("check", {
                let mut c = bin();
                c.arg("check").arg(path).arg("--golden").arg(&golden);
                c
            }),
            ("list", {
                let mut c = bin();
                c.arg("list").arg(path);
                c
            }),
            ("diff", {
                let mut c = bin();
                c.arg("diff").arg(path).arg(&golden);
                c
            }),
        ];
        // Large inputs go through `build` only (every subcommand loads the same way), to keep the
        // test quick on a debug build.
        let heavy = std::fs::metadata(path).is_ok_and(|m| m.len() > 200_000)
            || label.starts_with("deep-table-headers");
        for (sub, mut cmd) in runs {
            if heavy && sub != "build" {
                continue;
            }
            let what = format!("{sub} on {label}");
            let t = Instant::now();
            let (code, stderr) = run(&mut cmd, &what);
            if std::env::var_os("SITEBUNDLE_TIMING").is_some() {
                eprintln!("{what}: {:?}", t.elapsed());
            }
            assert_eq!(code, Some(2), "{what}: exit {code:?}\n{stderr}");
            // A located finding first: `error[code]: …` with a documented code.
            let code_shown = stderr
                .strip_prefix("error[")
                .and_then(|r| r.split_once("]: "))
                .map(|(c, _)| c);
            assert!(
                code_shown
                    .is_some_and(|c| sitebundle::diag::Code::ALL.iter().any(|k| k.as_str() == c)),
                "{what}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
            assert!(
                stderr.len() < 20_000,
                "{what}: {} bytes of error output",
                stderr.len()
            );
            assert!(
                !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
                "{what}: raw terminal controls in the message"
            );
            assert!(!out.exists(), "{what}: wrote output");
            count += 1;
        }
    }
    eprintln!("{count} runs on {} broken files", files.len());
}

#[test]
fn bad_command_lines_exit_2_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let site = common::repo().join("site.toml");
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let s = site.to_str().unwrap();
    let f = file.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["--nope"],
        vec!["build", "--nope"],
        vec!["build", s, "-o"],
        vec!["build", s, "extra-arg"],
        vec!["check", s, "--golden"],
        vec!["diff"],
        vec!["diff", s, "a", "b"],
        vec!["completions"],
        vec!["completions", "cmd.exe"],
        vec!["init", f],
        vec!["init", "/proc/nope/site.toml"],
        vec!["build", s, "-o", f],
        vec!["check", s, "--golden", f],
        vec!["diff", s, f],
        vec!["-q"],
    ];
    for args in cases {
        let (code, stderr) = run(
            bin().args(&args).current_dir(tmp.path()),
            &format!("{args:?}"),
        );
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A path that is not UTF-8.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let p = std::ffi::OsStr::from_bytes(b"/tmp/\xff\xfe.toml");
        let (code, stderr) = run(bin().arg("validate").arg(p), "non-UTF-8 path");
        assert_eq!(code, Some(2), "{stderr}");
    }
}

#[test]
fn a_closed_stdout_is_an_error_not_a_panic() {
    for args in [
        vec!["schema"],
        vec!["man"],
        vec!["list"],
        vec!["completions", "bash"],
    ] {
        // A pipe whose reader is gone before the program starts (as under `| head` once head exits).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = bin()
            .args(&args)
            .current_dir(common::repo())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `man` deliberately treats a closed pipe as done (exit 0, nothing printed); the others
        // report it. Never a panic, never 101.
        let code = out.status.code();
        assert!(
            code == Some(2) || (code == Some(0) && args == ["man"]),
            "{args:?}: {code:?} {stderr}"
        );
        if code == Some(2) {
            assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
