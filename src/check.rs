//! Compares a bundle with a directory: files missing, extra, or changed (with a unified diff).

use std::fs;
use std::path::Path;

use similar::TextDiff;

use crate::bundle::{Bundle, decode_for_display};
use crate::write::list_files;

#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    /// In the bundle, not in the directory.
    Missing(String),
    /// In the directory, not in the bundle.
    Extra(String),
    /// Different bytes; `diff` is a unified diff (old = directory, new = bundle), or a note when the
    /// difference is not shown as text (encoding or line endings only, binary).
    Changed { path: String, diff: String },
}

impl Difference {
    pub fn path(&self) -> &str {
        match self {
            Difference::Missing(p) | Difference::Extra(p) => p,
            Difference::Changed { path, .. } => path,
        }
    }
}

/// Differences between `bundle` and the files under `dir`, sorted by path. A missing `dir` counts as empty.
pub fn compare(bundle: &Bundle, dir: &Path) -> Result<Vec<Difference>, crate::Error> {
    let on_disk = if dir.exists() {
        list_files(dir)
            .map_err(|e| crate::Error::Io(format!("cannot read {}: {e}", dir.display())))?
    } else {
        Vec::new()
    };
    let mut diffs = Vec::new();
    for (path, art) in &bundle.files {
        let full = dir.join(path);
        match fs::read(&full) {
            Err(_) => diffs.push(Difference::Missing(path.clone())),
            Ok(old) if old == art.bytes => {}
            Ok(old) => diffs.push(Difference::Changed {
                path: path.clone(),
                diff: text_diff(path, &old, &art.bytes),
            }),
        }
    }
    for path in on_disk {
        if !bundle.files.contains_key(&path) {
            diffs.push(Difference::Extra(path));
        }
    }
    diffs.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(diffs)
}

fn text_diff(path: &str, old: &[u8], new: &[u8]) -> String {
    match (decode_for_display(old), decode_for_display(new)) {
        (Some(o), Some(n)) if o == n => {
            "the text is the same; the encoding, byte order mark or line endings differ\n"
                .to_string()
        }
        (Some(o), Some(n)) => TextDiff::from_lines(&o, &n)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
        _ => format!(
            "binary contents differ ({} bytes on disk, {} bytes generated)\n",
            old.len(),
            new.len()
        ),
    }
}
