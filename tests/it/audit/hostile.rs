//! Hostile collected folders: each answers exit 2 with a message that names the file, says what
//! is wrong, gives help, and never speaks of writing; nothing is printed on stdout. A named pipe
//! or a socket is found from its metadata and never opened (opening a pipe for reading would
//! block this test forever), a 200 MB file is refused from its size without being read.

use std::os::unix::fs::symlink;
use std::path::Path;

use super::{cli, deployed, export};

type Make = fn(&Path);

fn replace_with_fifo(p: &Path) {
    std::fs::remove_file(p).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
}

/// (case, how the folder is made hostile, the file shown, words of the message).
const CASES: &[(&str, Make, &str, &str)] = &[
    (
        "named pipe",
        |d| replace_with_fifo(&d.join("sharepoint2/tasks.csv")),
        "sharepoint2/tasks.csv",
        "is a named pipe, not a file; it was not opened",
    ),
    (
        "socket",
        |d| {
            let p = d.join("f5/bigip.conf");
            std::fs::remove_file(&p).unwrap();
            // The listener is leaked: the socket file stays while the audit runs.
            std::mem::forget(std::os::unix::net::UnixListener::bind(&p).unwrap());
        },
        "f5/bigip.conf",
        "is a socket, not a file",
    ),
    (
        "symbolic link leaving the folder",
        |d| {
            let p = d.join("sharepoint3/registry.txt");
            std::fs::remove_file(&p).unwrap();
            symlink("/etc/hostname", &p).unwrap();
        },
        "sharepoint3/registry.txt",
        "is a symbolic link leaving the collected folder",
    ),
    (
        "symbolic link loop",
        |d| {
            let p = d.join("sql/sqlmirror1.txt");
            std::fs::remove_file(&p).unwrap();
            symlink("loop-b.txt", &p).unwrap();
            symlink("sqlmirror1.txt", d.join("sql/loop-b.txt")).unwrap();
        },
        "sql/sqlmirror1.txt",
        "is a symbolic link that loops or points nowhere",
    ),
    (
        "200 MB file",
        |d| {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(d.join("sql/sqlmirror2.txt"))
                .unwrap();
            f.set_len(200 * 1024 * 1024).unwrap();
        },
        "sql/sqlmirror2.txt",
        "is 209715200 bytes, more than a collector writes",
    ),
    (
        "truncated UTF-16",
        |d| {
            let p = d.join("sharepoint2/tasks/KillProc-mssdmn.xml");
            let b = std::fs::read(&p).unwrap();
            std::fs::write(&p, &b[..b.len() / 2 + 1 - (b.len() / 2) % 2]).unwrap();
        },
        "sharepoint2/tasks/KillProc-mssdmn.xml",
        "UTF-16 with an odd number of bytes",
    ),
    (
        "binary garbage",
        |d| {
            let garbage: Vec<u8> = (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect();
            std::fs::write(d.join("ects-app1/eventtriggers.csv"), garbage).unwrap();
        },
        "ects-app1/eventtriggers.csv:1:",
        "not an eventtriggers",
    ),
    (
        "a folder where a file belongs",
        |d| {
            let p = d.join("sqlmirror1/registry.txt");
            std::fs::remove_file(&p).unwrap();
            std::fs::create_dir(&p).unwrap();
        },
        "sqlmirror1/registry.txt",
        "is a folder where a collected file belongs",
    ),
    (
        "a file no collector writes",
        |d| std::fs::write(d.join("sharepoint2/notes (copy).txt"), "x").unwrap(),
        "sharepoint2/notes (copy).txt",
        "is not something a collector writes",
    ),
];

fn exported() -> tempfile::TempDir {
    let (_, _, farm) = deployed();
    let dir = tempfile::tempdir().unwrap();
    export::write(&farm, dir.path());
    dir
}

#[test]
fn each_hostile_collection_is_a_located_error_exit_2() {
    for (case, make, file, words) in CASES {
        let dir = exported();
        make(dir.path());
        let out = cli(dir.path(), &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: {err}");
        assert!(out.stdout.is_empty(), "{case}");
        assert!(err.contains(file), "{case}: {file} not named in\n{err}");
        assert!(err.contains(words), "{case}: {words:?} not in\n{err}");
        assert!(err.contains("help:"), "{case}: {err}");
        assert!(!err.contains("nothing was written"), "{case}: {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
    }
    // Control: the same folder untouched audits (exit 0).
    assert_eq!(cli(exported().path(), &[]).status.code(), Some(0));
}

#[test]
fn every_hostile_file_is_reported_at_once() {
    let dir = exported();
    for (_, make, _, _) in CASES
        .iter()
        .filter(|c| !c.0.contains("UTF-16") && !c.0.contains("garbage"))
    {
        make(dir.path());
    }
    let out = cli(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for (case, _, file, _) in CASES
        .iter()
        .filter(|c| !c.0.contains("UTF-16") && !c.0.contains("garbage"))
    {
        assert!(err.contains(file), "{case}: {file} not in\n{err}");
    }
}

#[test]
fn an_empty_collection_is_exit_2_nothing_was_collected() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was collected"), "{err}");
    assert!(!err.contains("nothing was written"), "{err}");
    // Folders without a single file are no collection either.
    std::fs::create_dir_all(dir.path().join("sharepoint2/tasks")).unwrap();
    assert_eq!(cli(dir.path(), &[]).status.code(), Some(2));
}

/// A device cannot be made without root: its metadata (`/dev/null`) is checked directly.
#[test]
fn a_device_is_not_a_file() {
    let t = std::fs::metadata("/dev/null").unwrap().file_type();
    let e = sitebundle::audit::input::not_a_file("x/tasks.csv", &t).unwrap();
    assert!(e.message.contains("a device, not a file"), "{}", e.message);
    let regular = std::fs::metadata(file!()).unwrap().file_type();
    assert!(sitebundle::audit::input::not_a_file("y", &regular).is_none());
}
