//! Atomic writer: the bundle is written into a temporary sibling directory, then swapped in with two
//! renames. On any failure the previous bundle stays exactly as it was and no temporary directory is
//! left behind. Files the tool did not generate (not in the previous manifest) are never deleted:
//! they are carried over into the new tree.

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
    /// Files found in the output that sitebundle did not generate, kept in place.
    pub kept: Vec<String>,
}

/// A hook the tests use to fail a write at a chosen step (`None` in normal use).
pub type FailPoint<'a> = Option<&'a dyn Fn(&str) -> std::io::Result<()>>;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("cannot {what} {}: {e}", path.display()))
}

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
    let fail = |step: &str| -> Result<(), Error> {
        match fail {
            Some(f) => f(step).map_err(|e| Error::Io(format!("{step}: {e}"))),
            None => Ok(()),
        }
    };
    let out = if out.as_os_str().is_empty() {
        Path::new(".")
    } else {
        out
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "bundle".into());
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // What is there now?
    let mut previous: Option<Vec<String>> = None;
    let mut existing: Vec<String> = Vec::new();
    if out.exists() {
        if !out.is_dir() {
            return Err(Error::Io(format!(
                "{} exists and is not a directory; choose another output with -o",
                out.display()
            )));
        }
        existing = list_files(out).map_err(|e| io_err("read", out, e))?;
        if let Ok(text) = fs::read_to_string(out.join(MANIFEST)) {
            previous = manifest_paths(&text);
        }
        if previous.is_none() && !existing.is_empty() && !force {
            return Err(Error::Io(format!(
                "{} is not empty and has no {MANIFEST}, so sitebundle did not create it; refusing to write there (use an empty or new folder, or --force to write anyway, keeping the files that are there)",
                out.display()
            )));
        }
    }
    let generated: std::collections::HashSet<&str> =
        previous.iter().flatten().map(String::as_str).collect();
    let kept: Vec<String> = existing
        .iter()
        .filter(|p| !generated.contains(p.as_str()))
        .cloned()
        .collect();
    for k in &kept {
        if bundle.files.contains_key(k) {
            return Err(Error::Io(format!(
                "{} holds {k}, which sitebundle did not generate but now would; move it away first",
                out.display()
            )));
        }
    }

    fs::create_dir_all(&parent).map_err(|e| io_err("create", &parent, e))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.sitebundle-new-{pid}"));
    let old = parent.join(format!(".{name}.sitebundle-old-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    let result = (|| -> Result<WriteReport, Error> {
        fs::create_dir(&tmp).map_err(|e| io_err("create", &tmp, e))?;
        let mut report = WriteReport::default();
        for (rel, art) in &bundle.files {
            let dest = tmp.join(rel);
            if let Some(dir) = dest.parent() {
                fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
            }
            fail(&format!("write {rel}"))?;
            let mut f = fs::File::create(&dest).map_err(|e| io_err("create", &dest, e))?;
            f.write_all(&art.bytes)
                .map_err(|e| io_err("write", &dest, e))?;
            report.files += 1;
            report.bytes += art.bytes.len();
        }
        for k in &kept {
            let (from, to) = (out.join(k), tmp.join(k));
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).map_err(|e| io_err("create", dir, e))?;
            }
            fs::copy(&from, &to).map_err(|e| io_err("copy", &from, e))?;
        }
        report.kept = kept.clone();
        fail("swap")?;
        Ok(report)
    })();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    // Swap: out → old, tmp → out, then remove old. Roll back on failure.
    let had_out = out.exists();
    if had_out {
        if let Err(e) = fs::rename(out, &old) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(io_err("move aside", out, e));
        }
    }
    let swapped = fail("rename")
        .and_then(|_| fs::rename(&tmp, out).map_err(|e| io_err("rename into place", &tmp, e)));
    if let Err(e) = swapped {
        if had_out {
            let _ = fs::rename(&old, out);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if had_out {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(report)
}

/// Every file under `dir`, as sorted relative paths with forward slashes.
pub fn list_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let ft = entry.file_type()?;
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    out.sort();
    Ok(out)
}
