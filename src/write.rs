//! Atomic writer: the bundle is written into a temporary sibling directory, then swapped in with two
//! renames. On any failure the previous bundle stays exactly as it was and no temporary directory is
//! left behind. Files the tool did not generate (not in the previous manifest) are never deleted:
//! they are carried over into the new tree (empty folders and symbolic links too).
//!
//! Cost: a file the previous bundle already holds byte for byte is not written again but linked
//! into the new tree (a second name for the same data, already on disk), so a rebuild writes and
//! flushes only what changed, and removing the old tree frees only what changed; every file and
//! folder of the new tree is flushed before the swap, many at a time.
//!
//! Crash safety: a build that is killed leaves at most a `.<out>.sitebundle-new-<pid>` folder (the
//! unfinished new tree) and, if it died between the two renames, `.<out>.sitebundle-old-<pid>` (the
//! previous bundle) with no `<out>`. The next build cleans these up first and, in the second case,
//! puts the previous bundle back before doing anything else. Two builds into the same output folder
//! at the same time are not supported (the second one may clean up the first one's temporary tree,
//! which then fails without harming the output).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::bundle::{Bundle, MANIFEST, manifest_paths};

/// What a write did.
#[derive(Debug, Default)]
pub struct WriteReport {
    pub files: usize,
    pub bytes: usize,
    /// Of `files`, those the previous bundle already held byte for byte (linked, not written).
    pub unchanged: usize,
    /// Files found in the output that sitebundle did not generate, kept in place.
    pub kept: Vec<String>,
    /// Leftovers of an interrupted earlier build that were cleaned up (or restored) first.
    pub recovered: Vec<String>,
    /// The output already held exactly this bundle: nothing was written, moved or flushed.
    pub up_to_date: bool,
}

/// A hook the tests use to fail (or crash) a write at a chosen step; `None` in normal use. Steps:
/// `create-tmp`, `write <path>` (before a file), `partial <path>` (after half of a file's bytes:
/// a full disk), `keep <path>` (before copying a kept file), `sync`, `swap` (before the first
/// rename), `rename` (between the two renames), `cleanup` (new bundle in place, old one not yet
/// removed).
pub type FailPoint<'a> = Option<&'a dyn Fn(&str) -> std::io::Result<()>>;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::io(what, path, e)
}

const NEW_TAG: &str = ".sitebundle-new-";
const OLD_TAG: &str = ".sitebundle-old-";

/// Writes `bundle` to `out`. Refuses a non-empty `out` that has no manifest (a folder sitebundle did
/// not create) unless `force`.
pub fn write_bundle(bundle: &Bundle, out: &Path, force: bool) -> Result<WriteReport, Error> {
    write_bundle_with(bundle, out, force, None)
}

pub fn write_bundle_with(
    bundle: &Bundle,
    out: &Path,
    force: bool,
    fail: FailPoint,
) -> Result<WriteReport, Error> {
    let fail = |step: &str| fail_at(fail, step);
    let (out, name, parent) = output_folder(out)?;
    let out = out.as_path();
    let mut report = WriteReport {
        recovered: recover(&parent, &name, out)?,
        ..WriteReport::default()
    };

    let (existing, previous) = existing_entries(out, force)?;
    let kept = kept_entries(bundle, out, &existing, &previous)?;
    if holds_bundle(bundle, out, previous.as_deref()) {
        report.up_to_date = true;
        report.files = bundle.files.len();
        report.bytes = bundle.total_bytes();
        report.unchanged = report.files;
        report.kept = kept
            .iter()
            .filter(|k| k.kind != EntryKind::Dir)
            .map(|k| k.rel.clone())
            .collect();
        return Ok(report);
    }

    fs::create_dir_all(&parent).map_err(|e| io_err("create", &parent, e))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}{NEW_TAG}{pid}"));
    let old = parent.join(format!(".{name}{OLD_TAG}{pid}"));
    let result = (|| -> Result<(), Error> {
        fail("create-tmp")?;
        fs::create_dir(&tmp).map_err(|e| io_err("create", &tmp, e))?;
        if let Ok(meta) = fs::metadata(out) {
            // The new folder gets the permissions the old one had.
            let _ = fs::set_permissions(&tmp, meta.permissions());
        }
        let mut flush = vec![Flush::Folder(tmp.clone())];
        let reuse = previous.as_ref().map(|_| out);
        write_files(bundle, reuse, &tmp, &fail, &mut report, &mut flush)?;
        copy_kept(out, &tmp, &kept, &fail, &mut report, &mut flush)?;
        fail("sync")?;
        flush_tree(&tmp, &flush)?;
        fail("swap")?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    swap_into_place(out, &tmp, &old, &parent, &fail)?;
    Ok(report)
}

/// Whether `out` already holds exactly `bundle`: its manifest lists exactly the bundle's files
/// (nothing to remove) and every file, the manifest included, holds the new bytes on disk (read
/// back, not taken from the manifest's hashes, which a hand edit would leave behind). Then a
/// build has nothing to write: the folder is left alone, files, times and inodes as they were.
/// Any doubt (a file linked elsewhere, an unreadable one) is a no, and the build writes.
fn holds_bundle(bundle: &Bundle, out: &Path, previous: Option<&[String]>) -> bool {
    let Some(previous) = previous else {
        return false;
    };
    // The manifest's own list, with the manifest itself (`manifest_paths`).
    let listed: std::collections::BTreeSet<&str> = previous.iter().map(String::as_str).collect();
    let generated: std::collections::BTreeSet<&str> =
        bundle.files.keys().map(String::as_str).collect();
    if listed != generated || !bundle.files.contains_key(MANIFEST) {
        return false;
    }
    let mut buf = Vec::new();
    bundle
        .files
        .iter()
        .all(|(rel, a)| holds_exactly(&out.join(rel), &a.bytes, &mut buf))
}

/// Runs the test hook for `step`, if any.
fn fail_at(fail: FailPoint, step: &str) -> Result<(), Error> {
    match fail {
        Some(f) => f(step).map_err(|e| Error::io_step(step, e)),
        None => Ok(()),
    }
}

/// The output folder (a link to a folder is followed), its name, and the folder it is in.
fn output_folder(out: &Path) -> Result<(PathBuf, String, PathBuf), Error> {
    let out = if out.as_os_str().is_empty() {
        Path::new(".")
    } else {
        out
    };
    // An output that is a symbolic link to a folder: write where it points, keep the link.
    let resolved;
    let out = match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = fs::canonicalize(out).map_err(|e| io_err("follow the link", out, e))?;
            resolved.as_path()
        }
        _ => out,
    };
    // `.`, `..` or `/` have no name of their own: they cannot be swapped atomically.
    let Some(name) = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|_| {
            !matches!(
                out.components().next_back(),
                Some(std::path::Component::CurDir | std::path::Component::ParentDir)
            )
        })
    else {
        return Err(Error::output(
            out,
            format!(
                "{} cannot be replaced atomically; name the output folder, e.g. -o out",
                out.display()
            ),
        ));
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((out.to_path_buf(), name, parent))
}

/// What the output folder holds now, and the paths its manifest lists (None: no manifest). Refuses
/// a path that is not a folder, and a non-empty folder sitebundle did not create unless `force`.
fn existing_entries(out: &Path, force: bool) -> Result<(Vec<Entry>, Option<Vec<String>>), Error> {
    let mut previous: Option<Vec<String>> = None;
    let mut existing: Vec<Entry> = Vec::new();
    if let Ok(meta) = fs::symlink_metadata(out) {
        if !meta.is_dir() {
            return Err(Error::output(
                out,
                format!(
                    "{} exists and is not a directory; choose another output with -o",
                    out.display()
                ),
            ));
        }
        existing = list_entries(out).map_err(|e| io_err("read", out, e))?;
        if let Ok(text) = fs::read_to_string(out.join(MANIFEST)) {
            previous = manifest_paths(&text);
        }
        if previous.is_none() && !existing.is_empty() && !force {
            return Err(Error::output(
                out,
                format!(
                    "{} is not empty and has no {MANIFEST}, so sitebundle did not create it; refusing to write there (use an empty or new folder, or --force to write anyway, keeping the files that are there)",
                    out.display()
                ),
            ));
        }
    }
    Ok((existing, previous))
}

/// The entries of the output folder that sitebundle did not generate: they are kept. Refuses one
/// that the bundle would now generate.
fn kept_entries<'a>(
    bundle: &Bundle,
    out: &Path,
    existing: &'a [Entry],
    previous: &Option<Vec<String>>,
) -> Result<Vec<&'a Entry>, Error> {
    let generated: std::collections::HashSet<&str> =
        previous.iter().flatten().map(String::as_str).collect();
    let kept: Vec<&Entry> = existing
        .iter()
        .filter(|e| e.kind == EntryKind::Dir || !generated.contains(e.rel.as_str()))
        .collect();
    for k in &kept {
        if k.kind != EntryKind::Dir && bundle.files.contains_key(&k.rel) {
            return Err(Error::output(
                out,
                format!(
                    "{} holds {}, which sitebundle did not generate but now would; move it away first",
                    out.display(),
                    k.rel
                ),
            ));
        }
    }
    Ok(kept)
}

/// A file or folder of the new tree that must be on disk before the swap, and how to flush it.
#[derive(Debug)]
enum Flush {
    /// Written here: data and metadata (`fsync`).
    Written(PathBuf),
    /// A second name for a file of the previous bundle (or a kept file): its data (`fdatasync`,
    /// nearly free when it is already on disk); the new name is made durable with its folder.
    Linked(PathBuf),
    /// A folder of the new tree: its entries (`fsync` of the folder, where the platform allows).
    Folder(PathBuf),
}

/// Writes the bundle's files into the new tree. A file whose bytes the previous bundle already holds
/// (in a file of its own that only the previous bundle names) is hard-linked from there instead of
/// written: it keeps its modification time, so copying tools that compare times skip it. The
/// manifest is written anew, so its modification time is the time of the last build that changed
/// something (a build that changes nothing writes nothing: [`holds_bundle`]). Nothing
/// is flushed here: the files to flush are added to `flush`.
fn write_files(
    bundle: &Bundle,
    previous: Option<&Path>,
    tmp: &Path,
    fail: &dyn Fn(&str) -> Result<(), Error>,
    report: &mut WriteReport,
    flush: &mut Vec<Flush>,
) -> Result<(), Error> {
    create_folders(tmp, bundle.files.keys(), flush)?;
    let mut buf = Vec::new();
    for (rel, art) in &bundle.files {
        let dest = tmp.join(rel);
        fail(&format!("write {rel}"))?;
        let reusable = previous
            .filter(|_| rel != MANIFEST)
            .map(|old| old.join(rel))
            .filter(|old| holds_exactly(old, &art.bytes, &mut buf));
        match reusable {
            Some(old) if fs::hard_link(&old, &dest).is_ok() => {
                report.unchanged += 1;
                flush.push(Flush::Linked(dest));
            }
            _ => {
                write_in_two_halves(&dest, &art.bytes, rel, fail)?;
                flush.push(Flush::Written(dest));
            }
        }
        report.files += 1;
        report.bytes += art.bytes.len();
    }
    Ok(())
}

/// Creates every folder the files at `rels` need under `tmp` (each once), to be flushed.
fn create_folders<'a>(
    tmp: &Path,
    rels: impl Iterator<Item = &'a String>,
    flush: &mut Vec<Flush>,
) -> Result<(), Error> {
    let folders: std::collections::BTreeSet<&str> = rels
        .filter_map(|rel| rel.rsplit_once('/').map(|(dir, _)| dir))
        .flat_map(|dir| dir.match_indices('/').map(|(i, _)| &dir[..i]).chain([dir]))
        .collect();
    for rel in folders {
        let dir = tmp.join(rel);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err("create", &dir, e)),
        }
        flush.push(Flush::Folder(dir));
    }
    Ok(())
}

/// Writes `bytes` to a new file at `dest`, with the `partial` test hook between the two halves (a
/// disk that fills up in the middle of a file).
fn write_in_two_halves(
    dest: &Path,
    bytes: &[u8],
    rel: &str,
    fail: &dyn Fn(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut f = fs::File::create(dest).map_err(|e| io_err("create", dest, e))?;
    let half = bytes.len() / 2;
    f.write_all(&bytes[..half])
        .map_err(|e| io_err("write", dest, e))?;
    fail(&format!("partial {rel}"))?;
    f.write_all(&bytes[half..])
        .map_err(|e| io_err("write", dest, e))
}

/// Whether `old` is a regular file that holds exactly `bytes` and has no other name (a file that is
/// also linked from elsewhere is not shared further). Any doubt (a link, an error) is a no.
fn holds_exactly(old: &Path, bytes: &[u8], buf: &mut Vec<u8>) -> bool {
    use std::io::Read;
    if !fs::symlink_metadata(old).is_ok_and(|m| m.file_type().is_file()) {
        return false;
    }
    let Ok(mut f) = fs::File::open(old) else {
        return false;
    };
    let Ok(meta) = f.metadata() else {
        return false;
    };
    if meta.len() != bytes.len() as u64 || !single_name(&meta) {
        return false;
    }
    const CHUNK: usize = 1 << 16;
    buf.resize(CHUNK, 0);
    for want in bytes.chunks(CHUNK) {
        let got = &mut buf[..want.len()];
        if f.read_exact(got).is_err() || got != want {
            return false;
        }
    }
    // Nothing after the expected bytes (the file did not grow since its size was read).
    matches!(f.read(&mut buf[..1]), Ok(0))
}

#[cfg(unix)]
fn single_name(meta: &fs::Metadata) -> bool {
    std::os::unix::fs::MetadataExt::nlink(meta) == 1
}

/// Without a link count to check, nothing is reused (every file is written).
#[cfg(not(unix))]
fn single_name(_: &fs::Metadata) -> bool {
    false
}

/// Flushes the new tree before the swap. On Linux 5.8 or later, one `syncfs(2)` of the file
/// system that holds it: Linux waits for the writes, so `syncfs` gives "the same guarantees as
/// fsync() called on every file in the ... filesystem" (man 2 sync, NOTES), and from 5.8 on it
/// reports a failed writeback of any file (PostgreSQL's documentation, "syncfs() Caveats": before
/// 5.8 such errors "may not be reported"). One call instead of one per file (16,000 for a
/// 10,000-server site), at the price of also waiting for what other programs left unwritten on
/// that file system: `SITEBUNDLE_FLUSH=files` flushes file by file instead ([`flush_all`]), as
/// every other platform and older kernel does.
fn flush_tree(tmp: &Path, items: &[Flush]) -> Result<(), Error> {
    let per_file = std::env::var_os("SITEBUNDLE_FLUSH").is_some_and(|v| v == "files");
    match sync_file_system(tmp).filter(|_| !per_file) {
        Some(sync) => sync(),
        None => flush_all(items),
    }
}

/// The `syncfs` of the file system that holds `dir`, when the kernel reports its errors.
#[cfg(target_os = "linux")]
fn sync_file_system(dir: &Path) -> Option<impl FnOnce() -> Result<(), Error> + '_> {
    use std::os::fd::AsRawFd;
    if !syncfs_reports_errors(&fs::read_to_string("/proc/sys/kernel/osrelease").ok()?) {
        return None;
    }
    Some(move || {
        let d = fs::File::open(dir).map_err(|e| io_err("open", dir, e))?;
        // SAFETY: syncfs only reads the descriptor, which `d` keeps open during the call.
        match unsafe { libc::syncfs(d.as_raw_fd()) } {
            0 => Ok(()),
            _ => Err(io_err(
                "flush to disk",
                dir,
                std::io::Error::last_os_error(),
            )),
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(_: &Path) -> Option<fn() -> Result<(), Error>> {
    None
}

/// Whether a Linux release (`/proc/sys/kernel/osrelease`, e.g. "6.1.0-18-amd64") is 5.8 or later.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn syncfs_reports_errors(release: &str) -> bool {
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().ok());
    matches!((parts.next().flatten(), parts.next().flatten()), (Some(major), Some(minor)) if (major, minor) >= (5, 8))
}

/// Flushes every file and folder of the new tree, several at a time: each flush waits for the
/// disk, and flushes issued together are committed together (one journal commit for many files on
/// ext4), so a large tree takes a fraction of the time of flushing one file after the other. A file
/// that cannot be flushed fails the build; a folder is best effort (not every file system can flush
/// one).
fn flush_all(items: &[Flush]) -> Result<(), Error> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const FLUSH_THREADS: usize = 16;
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let worker = || {
        while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            if let Err(e) = flush_one(item) {
                failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                next.store(items.len(), Ordering::Relaxed);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..FLUSH_THREADS.min(items.len()) {
            s.spawn(worker);
        }
        worker();
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn flush_one(item: &Flush) -> Result<(), Error> {
    match item {
        Flush::Written(path) => open_for_flush(path)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_err("write", path, e)),
        Flush::Linked(path) => open_for_flush(path)
            .and_then(|f| f.sync_data())
            .map_err(|e| io_err("write", path, e)),
        Flush::Folder(path) => {
            sync_dir(path);
            Ok(())
        }
    }
}

/// Opens a file of the new tree to flush it (with write access, which Windows requires).
fn open_for_flush(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().write(true).open(path)
}

/// Carries the kept entries of the output folder over into the new tree: a file as a second name
/// for the same file where the file system allows it (its owner, times and other names stay as
/// they were), else as a copy.
fn copy_kept(
    out: &Path,
    tmp: &Path,
    kept: &[&Entry],
    fail: &dyn Fn(&str) -> Result<(), Error>,
    report: &mut WriteReport,
    flush: &mut Vec<Flush>,
) -> Result<(), Error> {
    for k in kept {
        fail(&format!("keep {}", k.rel))?;
        let (from, to) = (out.join(&k.rel), tmp.join(&k.rel));
        let dir = if k.kind == EntryKind::Dir {
            Some(to.as_path())
        } else {
            to.parent()
        };
        if let Some(dir) = dir {
            fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
            flush.push(Flush::Folder(dir.to_path_buf()));
        }
        match k.kind {
            EntryKind::Dir => {}
            EntryKind::File if fs::hard_link(&from, &to).is_ok() => {
                flush.push(Flush::Linked(to));
            }
            EntryKind::File => {
                fs::copy(&from, &to).map_err(|e| io_err("copy", &from, e))?;
                flush.push(Flush::Written(to));
            }
            EntryKind::Symlink => copy_link(&from, &to)?,
        }
        if k.kind != EntryKind::Dir {
            report.kept.push(k.rel.clone());
        }
    }
    Ok(())
}

/// Swap: out → old, tmp → out, then remove old. Roll back on failure.
fn swap_into_place(
    out: &Path,
    tmp: &Path,
    old: &Path,
    parent: &Path,
    fail: &dyn Fn(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    let had_out = fs::symlink_metadata(out).is_ok();
    if had_out {
        if let Err(e) = fs::rename(out, old) {
            let _ = fs::remove_dir_all(tmp);
            return Err(io_err("move aside", out, e));
        }
    }
    let swapped = fail("rename")
        .and_then(|_| fs::rename(tmp, out).map_err(|e| io_err("rename into place", tmp, e)));
    if let Err(e) = swapped {
        let _ = fs::remove_dir_all(tmp);
        if had_out {
            if let Err(back) = fs::rename(old, out) {
                return Err(Error::output(
                    out,
                    format!(
                        "{e}; and the previous bundle could not be moved back ({back}): it is in {}, and the next build puts it back",
                        old.display()
                    ),
                ));
            }
        }
        return Err(e);
    }
    sync_dir(parent);
    if had_out {
        // The new bundle is in place: failing to delete the old copy is not a failed build (the next
        // build removes it), so a failure here is ignored.
        if fail("cleanup").is_ok() {
            let _ = fs::remove_dir_all(old);
        }
    }
    Ok(())
}

/// Cleans up after an interrupted earlier build into `parent/name`: removes unfinished new trees,
/// and either removes the old copies (the output exists) or moves the newest one back (it does not).
fn recover(parent: &Path, name: &str, out: &Path) -> Result<Vec<String>, Error> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(Vec::new());
    };
    let (new_prefix, old_prefix) = (format!(".{name}{NEW_TAG}"), format!(".{name}{OLD_TAG}"));
    let mut news = Vec::new();
    let mut olds = Vec::new();
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().to_string();
        let is_pid = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
        if file_name.strip_prefix(&new_prefix).is_some_and(is_pid) {
            news.push(e.path());
        } else if file_name.strip_prefix(&old_prefix).is_some_and(is_pid) {
            let modified = e.metadata().and_then(|m| m.modified()).ok();
            olds.push((modified, e.path()));
        }
    }
    let mut done = Vec::new();
    for n in news {
        fs::remove_dir_all(&n).map_err(|e| io_err("remove the leftover", &n, e))?;
        done.push(format!("removed {}", n.display()));
    }
    olds.sort();
    if fs::symlink_metadata(out).is_err() {
        if let Some((_, newest)) = olds.pop() {
            fs::rename(&newest, out).map_err(|e| io_err("restore", &newest, e))?;
            done.push(format!(
                "restored the previous bundle from {}",
                newest.display()
            ));
        }
    }
    for (_, o) in olds {
        fs::remove_dir_all(&o).map_err(|e| io_err("remove the leftover", &o, e))?;
        done.push(format!("removed {}", o.display()));
    }
    Ok(done)
}

#[cfg(unix)]
fn copy_link(from: &Path, to: &Path) -> Result<(), Error> {
    let target = fs::read_link(from).map_err(|e| io_err("read the link", from, e))?;
    std::os::unix::fs::symlink(&target, to).map_err(|e| io_err("create the link", to, e))
}

#[cfg(not(unix))]
fn copy_link(from: &Path, to: &Path) -> Result<(), Error> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| io_err("copy", from, e))
}

/// Flushes a directory's entries to disk where the platform allows it (best effort).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Symlink,
    /// An empty folder (folders with content are implied by their files).
    Dir,
}

#[derive(Debug)]
struct Entry {
    rel: String,
    kind: EntryKind,
}

fn rel_path(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file, symbolic link and empty folder under `dir` (links are not followed).
fn list_entries(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut empty = true;
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            empty = false;
            let ft = entry.file_type()?;
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else {
                out.push(Entry {
                    rel: rel_path(dir, &path),
                    kind: if ft.is_symlink() {
                        EntryKind::Symlink
                    } else {
                        EntryKind::File
                    },
                });
            }
        }
        if empty && d != dir {
            out.push(Entry {
                rel: rel_path(dir, &d),
                kind: EntryKind::Dir,
            });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Every file under `dir` (symbolic links included, not followed), as sorted relative paths with
/// forward slashes.
pub fn list_files(dir: &Path) -> std::io::Result<Vec<String>> {
    Ok(list_entries(dir)?
        .into_iter()
        .filter(|e| e.kind != EntryKind::Dir)
        .map(|e| e.rel)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncfs_is_used_from_linux_5_8_on() {
        for (release, yes) in [
            ("5.8.0", true),
            ("6.1.0-18-amd64", true),
            ("6.18.44-fc-v1045\n", true),
            ("5.7.19", false),
            ("4.19.0-27-amd64", false),
            ("10.0", true),
            ("", false),
            ("five.eight", false),
        ] {
            assert_eq!(syncfs_reports_errors(release), yes, "{release:?}");
        }
    }

    /// Both ways of flushing a tree succeed on a real tree, and a file that vanished before the
    /// per-file flush is an error naming it (the per-file way is what other platforms use).
    #[test]
    fn both_flushes_work_and_a_missing_file_fails_the_per_file_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.txt");
        fs::write(&file, b"x").expect("write");
        let items = vec![
            Flush::Folder(dir.path().to_path_buf()),
            Flush::Written(file.clone()),
            Flush::Linked(file.clone()),
        ];
        flush_all(&items).expect("per file");
        flush_tree(dir.path(), &items).expect("whole tree");
        #[cfg(target_os = "linux")]
        {
            let release = fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
            let used = sync_file_system(dir.path()).is_some();
            assert_eq!(used, syncfs_reports_errors(&release), "{release}");
        }
        let gone = vec![Flush::Written(dir.path().join("gone.txt"))];
        let e = flush_all(&gone).expect_err("missing file");
        assert!(e.to_string().contains("gone.txt"), "{e}");
    }
}
