//! Reading collected files: a size cap, the encodings the Windows tools write (UTF-16 LE with a
//! byte order mark: Task Scheduler's export, `reg export`; UTF-8 with or without a BOM: sqlcmd
//! `-f 65001`, Backup-GPO's XML; otherwise the ANSI/OEM code page of a redirected console tool,
//! read as Windows-1252 where it is not UTF-8), and located errors.

use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};

/// Larger collected files are refused (a farm's exports are kilobytes).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A collected file, decoded, with its name as shown in errors.
#[derive(Debug, Clone)]
pub struct Input {
    pub file: String,
    pub text: String,
}

/// A finding about a collected file: where, what, how to fix it.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub file: String,
    pub text: String,
    pub at: Option<usize>,
    pub message: String,
    pub help: String,
}

impl ParseError {
    pub fn new(input: &Input, at: Option<usize>, message: impl Into<String>, help: &str) -> Self {
        ParseError {
            file: input.file.clone(),
            text: input.text.clone(),
            at,
            message: message.into(),
            help: help.into(),
        }
    }

    /// An error about a file that could not be read at all.
    pub fn unreadable(file: &str, message: impl Into<String>, help: &str) -> Self {
        ParseError {
            file: file.into(),
            text: String::new(),
            at: None,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The error as located diagnostics (file:line:col, the line, a caret, the help).
    pub fn into_diagnostics(self) -> Diagnostics {
        let mut d = Diagnostics::new(self.file, self.text);
        let span = self.at.map(|a| a..a + 1);
        let mut item = Diagnostic::error(span, self.message).with_help(self.help);
        item.code = Code::CollectedExport;
        d.items.push(item);
        d.outcome = "no verdict was given";
        d
    }
}

/// Reads and decodes one collected file: a regular file (a folder, named pipe, socket or device
/// in its place is an error, found from its metadata before anything is opened), at most
/// [`MAX_FILE_BYTES`] (checked before reading, and the read stops there should it grow).
pub fn read(path: &Path, shown: &str) -> Result<Input, ParseError> {
    use std::io::Read;
    let help = "run the collector again (runbook, section Audit)";
    let cannot = |e: std::io::Error| {
        ParseError::unreadable(shown, format!("cannot read {shown}: {e}"), help)
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if let Some(e) = not_a_file(shown, &meta.file_type()) {
        return Err(e);
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(shown, meta.len()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(shown, bytes.len() as u64));
    }
    decode(&bytes, shown).map(|text| Input {
        file: shown.into(),
        text,
    })
}

fn too_large(shown: &str, len: u64) -> ParseError {
    ParseError::unreadable(
        shown,
        format!(
            "{shown} is {len} bytes, more than a collector writes (at most {MAX_FILE_BYTES}); it was not read"
        ),
        "point --from at the folder the collectors wrote",
    )
}

/// The error for something that is not a regular file where a collected file belongs.
pub fn not_a_file(shown: &str, t: &std::fs::FileType) -> Option<ParseError> {
    use std::os::unix::fs::FileTypeExt;
    let what = if t.is_file() {
        return None;
    } else if t.is_dir() {
        "a folder where a collected file belongs"
    } else if t.is_fifo() {
        "a named pipe, not a file"
    } else if t.is_socket() {
        "a socket, not a file"
    } else if t.is_block_device() || t.is_char_device() {
        "a device, not a file"
    } else {
        "not a regular file"
    };
    Some(ParseError::unreadable(
        shown,
        format!("{shown} is {what}; it was not opened"),
        "collectors write regular files only: copy the collected folder again (without links, pipes or devices)",
    ))
}

/// UTF-16 LE with BOM, UTF-8 (BOM optional), or else Windows-1252.
pub fn decode(bytes: &[u8], shown: &str) -> Result<String, ParseError> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if rest.len() % 2 != 0 {
            return Err(ParseError::unreadable(
                shown,
                format!("{shown} is UTF-16 with an odd number of bytes: the file was cut short"),
                "collect the file again and copy it whole",
            ));
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|_| {
            ParseError::unreadable(
                shown,
                format!("{shown} is not valid UTF-16 (a broken surrogate pair)"),
                "collect the file again",
            )
        });
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ParseError::unreadable(
            shown,
            format!("{shown} is UTF-16 big endian, which no collector writes"),
            "save it as UTF-16 LE or UTF-8, or collect it again",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    })
}

/// Windows-1252 (the ANSI code page of English Windows); the C1 range maps to its characters.
fn cp1252(b: u8) -> char {
    const C1: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(C1[usize::from(b - 0x80)])).unwrap_or('?'),
        _ => char::from(b),
    }
}

/// Byte offset of every line start, for locating errors by line.
pub fn line_offsets(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Lines without their CR, with the byte offset where each starts.
pub fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = offset;
        offset += l.len();
        (start, l.trim_end_matches(['\n', '\r']))
    })
}

/// What the collectors write below `--from` (runbook, section Audit): a folder per server with
/// these files and `tasks/*.xml`, `sql/*.txt`, `f5/*.conf` and a Backup-GPO tree under `gpo/`.
const SERVER_FILES: &[&str] = &[
    "system.txt",
    "tasks.csv",
    "registry.txt",
    "files.txt",
    "eventtriggers.csv",
    "services.txt",
];

/// Checks the whole collected folder before any file is read: only regular files and folders
/// (a named pipe, socket or device is reported and never opened), no symbolic link leaving the
/// folder or looping, no file above the size cap, nothing a collector does not write, and at
/// least one collected file. Every finding at once.
pub fn scan(root: &Path, servers: &[String]) -> Result<(), Vec<ParseError>> {
    let mut errors = Vec::new();
    let mut files = 0;
    let base = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    walk(
        root,
        &base,
        &mut Vec::new(),
        servers,
        &mut files,
        &mut errors,
    );
    if errors.is_empty() && files == 0 {
        let shown = root.display().to_string();
        errors.push(ParseError::unreadable(
            &shown,
            format!("nothing was collected: {shown} holds no collected file"),
            "run the collectors (runbook, section Audit) and point --from at the folder they wrote",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn walk(
    dir: &Path,
    base: &Path,
    rel: &mut Vec<String>,
    servers: &[String],
    files: &mut usize,
    errors: &mut Vec<ParseError>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        errors.push(ParseError::unreadable(
            &rel.join("/"),
            format!("cannot list {}", dir.display()),
            "check the folder's permissions",
        ));
        return;
    };
    let mut entries: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    entries.sort();
    for (name, path) in entries {
        rel.push(name);
        let shown = rel.join("/");
        match entry_kind(&path, base, &shown) {
            Err(e) => errors.push(e),
            Ok(Kind::Dir) if rel.len() < 8 && expected(rel, servers, true) => {
                walk(&path, base, rel, servers, files, errors)
            }
            Ok(Kind::File) if expected(rel, servers, false) => *files += 1,
            Ok(kind) => errors.push(unexpected(&shown, kind, rel, servers)),
        }
        rel.pop();
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    File,
    Dir,
}

/// A file or folder (a symbolic link is followed when it stays inside the collected folder).
fn entry_kind(path: &Path, base: &Path, shown: &str) -> Result<Kind, ParseError> {
    let cannot = |e: std::io::Error| {
        ParseError::unreadable(
            shown,
            format!("cannot read {shown}: {e}"),
            "copy the collected folder again",
        )
    };
    let link = std::fs::symlink_metadata(path).map_err(cannot)?;
    let t = if link.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|e| {
            ParseError::unreadable(
                shown,
                format!("{shown} is a symbolic link that loops or points nowhere ({e})"),
                "replace the link by the file the collector wrote",
            )
        })?;
        if !target.starts_with(base) {
            return Err(ParseError::unreadable(
                shown,
                format!(
                    "{shown} is a symbolic link leaving the collected folder (to {}); refused",
                    target.display()
                ),
                "copy the file itself into the collected folder",
            ));
        }
        std::fs::metadata(path).map_err(cannot)?.file_type()
    } else {
        link.file_type()
    };
    if t.is_dir() {
        return Ok(Kind::Dir);
    }
    if let Some(e) = not_a_file(shown, &t) {
        return Err(e);
    }
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_large(shown, len));
    }
    Ok(Kind::File)
}

/// Whether `rel` (a path below --from) is a file (or folder, `dir`) a collector writes.
fn expected(rel: &[String], servers: &[String], dir: bool) -> bool {
    let server = |n: &String| servers.iter().any(|s| s.eq_ignore_ascii_case(n));
    match (rel, dir) {
        ([g, _, ..], _) if g == "gpo" => true,
        ([top], true) => server(top) || ["sql", "f5", "gpo"].contains(&top.as_str()),
        ([s, t], true) => server(s) && t == "tasks",
        ([s, f], false) => {
            (server(s) && SERVER_FILES.contains(&f.as_str()))
                || (s == "sql" && f.ends_with(".txt"))
                || (s == "f5" && f.ends_with(".conf"))
        }
        ([s, t, f], false) => server(s) && t == "tasks" && f.ends_with(".xml"),
        _ => false,
    }
}

fn unexpected(shown: &str, kind: Kind, rel: &[String], servers: &[String]) -> ParseError {
    let what = if kind == Kind::Dir && expected(rel, servers, false) {
        "a folder where a collected file belongs".to_string()
    } else if kind == Kind::File && expected(rel, servers, true) {
        "a file where the collectors write a folder".to_string()
    } else {
        format!(
            "not something a collector writes (a folder per server of the site, sql/*.txt, f5/*.conf, gpo/; in a server's folder {} and tasks/*.xml)",
            SERVER_FILES.join(", ")
        )
    };
    ParseError::unreadable(
        shown,
        format!("{shown} is {what}"),
        "remove it from the collected folder, or collect again into an empty folder",
    )
}
