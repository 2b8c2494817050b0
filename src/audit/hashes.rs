//! `files.txt` of the Windows collector: for every runtime script a `FILE <name>` line, a
//! `SIZE <bytes>` line (`%~zF`, empty when the file is not there) and what
//! `certutil -hashfile <path> [SHA256]` prints: `<ALGORITHM> hash of [file ]<path>:`, the hash in
//! hex (with a blank between bytes before Windows 8 / 2012, without after), then
//! `CertUtil: -hashfile command completed successfully.` — or a `FAILED` line. Examples of both
//! hex forms: the certutil output quoted in public scripts found with the code search (a Python
//! helper stripping "5a 5c b5 …", and the MD5/SHA256 examples of a Windows cheat sheet). Server
//! 2003's certutil takes no algorithm and prints SHA-1 ("SHA-1 hash of file …" or "SHA1 hash
//! of …"). The PowerShell collector of Windows Server 2012 R2 and later writes the hash on one
//! line instead, `SHA256 <hex>`, from `Get-FileHash -Algorithm SHA256` (its `Hash` property).

use super::compare::Found;
use super::input::{Input, ParseError, lines};

pub fn parse(input: &Input) -> Result<Vec<Found>, ParseError> {
    let mut out: Vec<Found> = Vec::new();
    let mut current: Option<Found> = None;
    let mut algorithm: Option<String> = None;
    let flush = |cur: &mut Option<Found>, out: &mut Vec<Found>| {
        if let Some(f) = cur.take() {
            if f.fields.keys().any(|k| k.starts_with("sha")) {
                out.push(f);
            }
        }
    };
    for (at, raw) in lines(&input.text) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("FILE ") {
            flush(&mut current, &mut out);
            current = Some(Found::new("file", name.trim()));
            algorithm = None;
            continue;
        }
        let Some(cur) = current.as_mut() else {
            return Err(bad(input, at, "a line before the first FILE line"));
        };
        if let Some(size) = line.strip_prefix("SIZE") {
            cur.fields.insert("size".into(), size.trim().to_string());
        } else if let Some(hex) = line
            .strip_prefix("SHA256 ")
            .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
        {
            // The PowerShell collector's line: Get-FileHash's Hash (upper-case hex).
            cur.fields.insert("sha256".into(), hex.to_ascii_lowercase());
        } else if let Some(algo) = hash_header(line) {
            algorithm = Some(algo);
        } else if line.starts_with("CertUtil:") {
            if line.contains("FAILED") {
                cur.fields.clear();
            }
            algorithm = None;
        } else if let Some(algo) = algorithm.take() {
            let hex: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(
                    input,
                    at,
                    "the line after a hash header is not hexadecimal",
                ));
            }
            cur.fields.insert(algo, hex.to_ascii_lowercase());
        } else {
            return Err(bad(
                input,
                at,
                "a line that is not FILE, SIZE or certutil output",
            ));
        }
    }
    flush(&mut current, &mut out);
    Ok(out)
}

/// `sha256` or `sha1` from `SHA256 hash of …:`, `SHA-1 hash of file …:`.
fn hash_header(line: &str) -> Option<String> {
    let (algo, rest) = line.split_once(" hash of ")?;
    if !rest.ends_with(':') {
        return None;
    }
    match algo.to_ascii_uppercase().replace('-', "").as_str() {
        "SHA256" => Some("sha256".into()),
        "SHA1" => Some("sha1".into()),
        _ => None,
    }
}

fn bad(input: &Input, at: usize, what: &str) -> ParseError {
    ParseError::new(
        input,
        Some(at),
        format!("not the collector's files.txt: {what}"),
        "run the Windows collector again and copy its folder whole",
    )
}
