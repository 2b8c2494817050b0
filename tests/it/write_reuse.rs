//! Reuse of unchanged files by the writer (`write::write_files`): a file the previous bundle already
//! holds byte for byte is linked into the new tree instead of written. Random sequences of builds
//! and of what operators do to a bundle between builds (edit a generated file, keep a second name
//! for one elsewhere, replace one by a symbolic link, add their own files) check that the output is
//! always exactly the bundle plus the operator's files, that nothing outside the output ever
//! changes, that reuse really happens, and that nothing is reused that should not be.
//! `SITEBUNDLE_REUSE_SEQUENCES` sets the number of sequences (default 12).

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sitebundle::bundle::{Bundle, MANIFEST};
use sitebundle::write::{list_files, write_bundle};

/// Every entry under `dir` with its bytes (a symbolic link as its target).
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

fn inode(p: &Path) -> u64 {
    std::fs::symlink_metadata(p).unwrap().ino()
}

/// Four bundles that share some files and differ in others: the reference, the reference with one
/// server's address changed, and two fixtures.
fn bundles() -> Vec<Bundle> {
    let reference = common::read("site.toml");
    let changed = reference.replacen("10.20.30.12", "10.20.30.99", 1);
    assert_ne!(reference, changed);
    let fx = common::fixtures();
    let fixture = |n: &str| {
        let (name, text) = fx.iter().find(|(f, _)| f == n).unwrap();
        common::build_text(name, text)
    };
    vec![
        common::build_text("site.toml", &reference),
        common::build_text("site.toml", &changed),
        fixture("minimal.toml"),
        fixture("sql-one-database.toml"),
    ]
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one sequence has done so far: the bundle last built, the operator's own files, and the
/// files outside the output (second names of bundle files, link targets) with the bytes they must
/// keep.
struct World<'a> {
    out: std::path::PathBuf,
    outside: std::path::PathBuf,
    built: Option<&'a Bundle>,
    user: BTreeMap<String, Vec<u8>>,
    outside_files: BTreeMap<String, Vec<u8>>,
    /// Same-size edits of generated files made since the last build (the case only a byte
    /// comparison catches: the size and the manifest's list are as the build left them).
    same_size_edits: usize,
}

impl<'a> World<'a> {
    /// A generated file of the last build that is still a plain file of its own (editing one with a
    /// second name would edit that name too), picked at random; never the manifest.
    fn generated(&self, rng: &mut Rng) -> Option<String> {
        let b = self.built?;
        let paths: Vec<&String> = b
            .files
            .keys()
            .filter(|p| *p != MANIFEST)
            .filter(|p| {
                std::fs::symlink_metadata(self.out.join(p))
                    .is_ok_and(|m| m.file_type().is_file() && m.nlink() == 1)
            })
            .collect();
        (!paths.is_empty()).then(|| paths[rng.below(paths.len())].clone())
    }

    /// One byte changed (never back to what the build wrote), the size kept.
    fn edit_same_size(&mut self, rng: &mut Rng) {
        let Some(rel) = self.generated(rng) else {
            return;
        };
        let generated = &self.built.unwrap().files[&rel].bytes;
        if generated.is_empty() {
            return;
        }
        let p = self.out.join(&rel);
        let mut bytes = std::fs::read(&p).unwrap();
        let i = rng.below(generated.len());
        bytes[i] = generated[i].wrapping_add(1);
        // Rewritten in place, as an editor that saves over the file does.
        std::fs::write(&p, &bytes).unwrap();
        self.same_size_edits += 1;
    }

    fn append(&mut self, rng: &mut Rng) {
        if let Some(rel) = self.generated(rng) {
            let p = self.out.join(&rel);
            let mut bytes = std::fs::read(&p).unwrap();
            bytes.extend_from_slice(b"\r\nREM added by hand\r\n");
            std::fs::write(&p, bytes).unwrap();
        }
    }

    /// A second name for a generated file outside the output (a backup made with `ln`): it must
    /// keep its bytes whatever the builds do.
    fn second_name(&mut self, rng: &mut Rng) {
        if let Some(rel) = self.generated(rng) {
            let name = format!("backup{}", self.outside_files.len());
            let bytes = std::fs::read(self.out.join(&rel)).unwrap();
            std::fs::hard_link(self.out.join(&rel), self.outside.join(&name)).unwrap();
            self.outside_files.insert(name, bytes);
        }
    }

    /// A generated file replaced by a symbolic link to a file outside with the same bytes.
    fn replace_by_link(&mut self, rng: &mut Rng) {
        if let Some(rel) = self.generated(rng) {
            let name = format!("target{}", self.outside_files.len());
            let p = self.out.join(&rel);
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(self.outside.join(&name), &bytes).unwrap();
            std::fs::remove_file(&p).unwrap();
            std::os::unix::fs::symlink(self.outside.join(&name), &p).unwrap();
            self.outside_files.insert(name, bytes);
        }
    }

    fn add_user_file(&mut self, rng: &mut Rng) {
        if self.built.is_none() {
            return;
        }
        let rel = format!("mine/notes{}.txt", rng.below(3));
        let bytes = format!("operator notes {}\r\n", rng.next()).into_bytes();
        std::fs::create_dir_all(self.out.join("mine")).unwrap();
        std::fs::write(self.out.join(&rel), &bytes).unwrap();
        self.user.insert(rel, bytes);
    }

    /// Builds `b` and checks every invariant; returns how many files were linked.
    fn build(&mut self, b: &'a Bundle, step: &str) -> usize {
        let before: BTreeMap<String, (Vec<u8>, u64)> = match self.built {
            Some(_) => snapshot(&self.out)
                .into_iter()
                .map(|(rel, bytes)| {
                    let ino = inode(&self.out.join(&rel));
                    (rel, (bytes, ino))
                })
                .collect(),
            None => BTreeMap::new(),
        };
        let r = write_bundle(b, &self.out, false).unwrap();
        let mut want: BTreeMap<String, Vec<u8>> = b
            .files
            .iter()
            .map(|(k, a)| (k.clone(), a.bytes.clone()))
            .collect();
        want.extend(self.user.clone());
        assert_eq!(snapshot(&self.out), want, "{step}: output");
        for (name, bytes) in &self.outside_files {
            let now = std::fs::read(self.outside.join(name)).unwrap();
            assert_eq!(&now, bytes, "{step}: {name} outside the output changed");
        }
        // Nothing to write: the previous bundle listed the same files and every one, the
        // manifest included, held the new bytes in a plain file of its own.
        let same_files = self
            .built
            .is_some_and(|p| p.files.keys().eq(b.files.keys()));
        let up_to_date = same_files
            && b.files.iter().all(|(rel, art)| {
                before
                    .get(rel)
                    .is_some_and(|(bytes, _)| *bytes == art.bytes)
                    && self.plain_single(rel, &before)
            });
        assert_eq!(r.up_to_date, up_to_date, "{step}: up to date");
        let mut linked = 0;
        for (rel, art) in &b.files {
            let p = self.out.join(rel);
            let meta = std::fs::symlink_metadata(&p).unwrap();
            assert!(meta.file_type().is_file(), "{step}: {rel} is not a file");
            assert_eq!(meta.nlink(), 1, "{step}: {rel} has another name");
            let reused = before
                .get(rel)
                .is_some_and(|(bytes, ino)| *ino == meta.ino() && *bytes == art.bytes);
            // A file is reused exactly when the previous output held the same bytes in a plain file
            // of its own; the manifest is written anew unless nothing at all changed.
            let could = (rel != MANIFEST || up_to_date)
                && before
                    .get(rel)
                    .is_some_and(|(bytes, _)| *bytes == art.bytes)
                && self.plain_single(rel, &before);
            assert_eq!(
                reused, could,
                "{step}: {rel} reused {reused}, expected {could}"
            );
            linked += usize::from(reused);
        }
        assert_eq!(r.unchanged, linked, "{step}: reported");
        let leftovers: Vec<_> = std::fs::read_dir(self.out.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n != "out" && n != "outside")
            .collect();
        assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
        self.built = Some(b);
        self.same_size_edits = 0;
        linked
    }

    /// Whether `rel` was, before the build, a plain file with no name outside the output.
    fn plain_single(&self, rel: &str, before: &BTreeMap<String, (Vec<u8>, u64)>) -> bool {
        let Some((_, ino)) = before.get(rel) else {
            return false;
        };
        let is_link = before[rel].0.starts_with(b"-> ");
        let named_outside = self.outside_files.keys().any(|n| {
            std::fs::symlink_metadata(self.outside.join(n)).is_ok_and(|m| m.ino() == *ino)
        });
        !is_link && !named_outside
    }
}

fn sequences() -> usize {
    std::env::var("SITEBUNDLE_REUSE_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

#[test]
fn random_sequences_of_builds_and_hand_edits_keep_every_invariant() {
    let bundles = bundles();
    let (mut builds, mut linked, mut written, mut caught) = (0, 0, 0, 0);
    for seq in 0..sequences() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let mut w = World {
            out: tmp.path().join("out"),
            outside,
            built: None,
            user: BTreeMap::new(),
            outside_files: BTreeMap::new(),
            same_size_edits: 0,
        };
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (seq as u64 + 1));
        for op in 0..14 {
            let step = format!("sequence {seq}, step {op}");
            match rng.below(8) {
                0 => w.edit_same_size(&mut rng),
                1 => w.append(&mut rng),
                2 => w.second_name(&mut rng),
                3 => w.replace_by_link(&mut rng),
                4 => w.add_user_file(&mut rng),
                _ => {
                    let b = &bundles[rng.below(bundles.len())];
                    // Control: what a writer that trusted names and sizes (all the manifest can
                    // tell without reading the files) would leave: the hand edits stay.
                    if w.same_size_edits > 0 && w.built.is_some_and(|p| std::ptr::eq(p, b)) {
                        let stale = snapshot(&w.out);
                        let fresh: BTreeMap<_, _> = b
                            .files
                            .iter()
                            .map(|(k, a)| (k.clone(), a.bytes.clone()))
                            .collect();
                        assert!(
                            fresh.iter().any(|(k, v)| stale.get(k) != Some(v)),
                            "{step}: control"
                        );
                        caught += 1;
                    }
                    let n = w.build(b, &step);
                    builds += 1;
                    linked += n;
                    written += b.files.len() - n;
                }
            }
        }
        // An unchanged rebuild at the end writes nothing: every file, the manifest too, is the
        // one that was there.
        let b = w.built.unwrap_or(&bundles[0]);
        w.build(b, &format!("sequence {seq}: first"));
        let n = w.build(b, &format!("sequence {seq}: unchanged"));
        assert_eq!(n, b.files.len(), "sequence {seq}: unchanged rebuild");
    }
    eprintln!(
        "{} sequences: {builds} builds, {linked} files linked, {written} written; {caught} same-size hand edits that a size comparison would have kept",
        sequences()
    );
    assert!(linked > 0 && written > 0);
}

/// A second name elsewhere for a bundle file: the build writes a new file rather than share it
/// further, so the other name keeps its bytes when the bundle changes and vice versa.
#[test]
fn a_file_with_another_name_is_written_not_shared() {
    let b = &bundles()[0];
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_bundle(b, &out, false).unwrap();
    let rel = "topology.md";
    std::fs::hard_link(out.join(rel), tmp.path().join("backup.md")).unwrap();
    let r = write_bundle(b, &out, false).unwrap();
    assert_eq!(
        r.unchanged,
        b.files.len() - 2,
        "all but the manifest and {rel}"
    );
    assert_ne!(inode(&out.join(rel)), inode(&tmp.path().join("backup.md")));
    std::fs::write(out.join(rel), b"edited later").unwrap();
    assert_eq!(
        std::fs::read(tmp.path().join("backup.md")).unwrap(),
        b.files[rel].bytes
    );
}

/// A rebuild that changes nothing writes nothing: every file keeps its inode and modification
/// time, and so does the folder; the control (one generated file edited by hand, same size) is
/// rewritten, and only that changes.
#[test]
fn an_unchanged_rebuild_touches_nothing() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let b = common::build_text("site.toml", &common::read("site.toml"));
    let first = write_bundle(&b, &out, false).unwrap();
    assert!(!first.up_to_date);
    let state = |dir: &Path| -> BTreeMap<String, (u64, i64, i64)> {
        let mut all: BTreeMap<String, (u64, i64, i64)> = list_files(dir)
            .unwrap()
            .into_iter()
            .map(|rel| {
                let m = std::fs::symlink_metadata(dir.join(&rel)).unwrap();
                (rel, (m.ino(), m.mtime(), m.mtime_nsec()))
            })
            .collect();
        let m = std::fs::metadata(dir).unwrap();
        all.insert(".".into(), (m.ino(), m.mtime(), m.mtime_nsec()));
        all
    };
    let before = state(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = write_bundle(&b, &out, false).unwrap();
    assert!(again.up_to_date, "{again:?}");
    assert_eq!(again.files, b.files.len());
    assert_eq!(
        state(&out),
        before,
        "an unchanged rebuild changed the folder"
    );
    // Control: a hand edit of the same size is found by reading the file, not the manifest.
    let rel = "scripts/killProc.cmd";
    let mut bytes = std::fs::read(out.join(rel)).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(out.join(rel), &bytes).unwrap();
    let repaired = write_bundle(&b, &out, false).unwrap();
    assert!(!repaired.up_to_date);
    assert_eq!(std::fs::read(out.join(rel)).unwrap(), b.files[rel].bytes);
    assert_ne!(
        state(&out)["."],
        before["."],
        "the repaired bundle is a new folder"
    );
}
