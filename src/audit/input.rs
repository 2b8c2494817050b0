//! Reading collected files: a size cap, the encodings the Windows tools write (UTF-16 LE with a
//! byte order mark: Task Scheduler's export, `reg export`; UTF-8 with or without a BOM: sqlcmd
//! `-f 65001`, Backup-GPO's XML; otherwise the ANSI/OEM code page of a redirected console tool,
//! read as Windows-1252 where it is not UTF-8), and located errors.

use std::path::Path;

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
        d
    }
}

/// Reads and decodes one collected file.
pub fn read(path: &Path, shown: &str) -> Result<Input, ParseError> {
    let help = "run the collector again (runbook, section Audit)";
    let meta = std::fs::metadata(path)
        .map_err(|e| ParseError::unreadable(shown, format!("cannot read {shown}: {e}"), help))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ParseError::unreadable(
            shown,
            format!(
                "{shown} is {} bytes, more than a collector writes",
                meta.len()
            ),
            "point --from at the folder the collectors wrote",
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ParseError::unreadable(shown, format!("cannot read {shown}: {e}"), help))?;
    decode(&bytes, shown).map(|text| Input {
        file: shown.into(),
        text,
    })
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
