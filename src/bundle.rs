//! The bundle: a sorted map of relative path → artifact. Writing it and checking it against a
//! directory are two small consumers of the same map.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Byte encoding of a generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 without a byte order mark.
    Utf8,
    /// UTF-16 little endian with the `FF FE` byte order mark (Task Scheduler XML, .reg files).
    Utf16leBom,
}

/// Line ending of a generated text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Eol {
    Lf,
    Crlf,
}

/// What a generated file is (shown in `list` and the manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ArtifactKind {
    Batch,
    PowerShell,
    VbScript,
    Tsql,
    TmshMerge,
    IRule,
    As3,
    TaskXml,
    Reg,
    GppXml,
    GpoBackup,
    Diagram,
    Runbook,
    Manifest,
    Inventory,
}

impl ArtifactKind {
    /// The name written into `manifest.json`, `sitebundle list` and the runbook's file table.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Batch => "batch",
            ArtifactKind::PowerShell => "powershell",
            ArtifactKind::VbScript => "vbscript",
            ArtifactKind::Tsql => "tsql",
            ArtifactKind::TmshMerge => "tmsh-merge",
            ArtifactKind::IRule => "irule",
            ArtifactKind::As3 => "as3",
            ArtifactKind::TaskXml => "task-xml",
            ArtifactKind::Reg => "reg",
            ArtifactKind::GppXml => "gpp-xml",
            ArtifactKind::GpoBackup => "gpo-backup",
            ArtifactKind::Diagram => "diagram",
            ArtifactKind::Runbook => "runbook",
            ArtifactKind::Manifest => "manifest",
            ArtifactKind::Inventory => "inventory",
        }
    }
}

impl Serialize for ArtifactKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a generated file reaches its target. The runbook's file table and `sitebundle list` both
/// describe it from this, each in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deploy {
    /// Documentation and other files that are read, not deployed.
    Nothing,
    /// Read by a person; `why` says where its content is deployed from (e.g. embedded elsewhere).
    ReviewOnly { why: String },
    /// Run by hand with this command line.
    Command(String),
    /// Run by hand: `when` says when, why or where in words (never inside a command), `commands`
    /// are the exact command lines the runbook prints (one per target, e.g. per SQL Server
    /// partner, with the server it is for when it is run there). `list`, `plan` and the runbook
    /// print these same strings (issue 29).
    Run {
        when: String,
        commands: Vec<RunCommand>,
    },
    /// A runtime script: copied to the servers' scripts folder (by the GPO's Files preference when
    /// the site has one).
    RuntimeScript { scripts_dir: String },
    /// A Task Scheduler 2.0 task registered with this `schtasks /Create` command (or by the GPO).
    TaskXml { command: String },
    /// A `.reg` file imported with this command (or written by the GPO's Registry preference).
    RegFile { command: String },
    /// Part of a GPO backup imported into the domain with this PowerShell command, run in the
    /// bundle folder (`$PWD\gpo`), exactly as the runbook prints it.
    GpoImport { command: String },
}

/// One exact command line of a [`Deploy::Run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCommand {
    /// The server it is run on (or for) when it is that server's own, `None` when any.
    pub host: Option<String>,
    pub line: String,
}

impl RunCommand {
    pub fn any(line: impl Into<String>) -> RunCommand {
        RunCommand {
            host: None,
            line: line.into(),
        }
    }
}

impl Deploy {
    /// One line for `sitebundle list` and the manifest.
    pub fn summary(&self) -> String {
        match self {
            Deploy::Nothing => String::new(),
            Deploy::ReviewOnly { why } => format!("review only: {why}"),
            Deploy::Command(c)
            | Deploy::TaskXml { command: c }
            | Deploy::GpoImport { command: c } => c.clone(),
            Deploy::RuntimeScript { scripts_dir } => {
                format!("copy to {scripts_dir} (Group Policy Files preference)")
            }
            Deploy::RegFile { command } => {
                format!("{command} (or the Group Policy Registry preference)")
            }
            Deploy::Run { when, commands } => {
                let lines: Vec<&str> = commands.iter().map(|c| c.line.as_str()).collect();
                format!("{when}: {}", lines.join("; "))
            }
        }
    }
}

/// Where a file is deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Hosts {
    /// Nowhere: documentation, or a file run from the bundle folder.
    #[default]
    None,
    /// These servers, by name.
    Servers(Vec<String>),
    /// The domain (a GPO backup, imported through any machine with GPMC), by its DNS name.
    Domain(String),
}

impl Hosts {
    /// The servers, when the file goes to servers.
    pub fn servers(&self) -> &[String] {
        match self {
            Hosts::Servers(s) => s,
            _ => &[],
        }
    }
    /// As the manifest, the file table and `list` name them: the servers, or `domain NAME`.
    pub fn labels(&self) -> Vec<String> {
        match self {
            Hosts::None => Vec::new(),
            Hosts::Servers(s) => s.clone(),
            Hosts::Domain(d) => vec![format!("domain {d}")],
        }
    }
}

impl Serialize for Hosts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.labels().serialize(s)
    }
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub kind: ArtifactKind,
    pub encoding: Encoding,
    pub eol: Eol,
    /// Where the file is deployed.
    pub hosts: Hosts,
    /// How the file is deployed.
    pub deploy: Deploy,
    pub bytes: Vec<u8>,
}

impl Artifact {
    /// Builds an artifact from LF text, converting line endings and encoding.
    /// Takes `String`s by value: a large LF UTF-8 text (the runbook) is then not copied.
    pub fn text(kind: ArtifactKind, encoding: Encoding, eol: Eol, text: impl Into<String>) -> Self {
        let text: String = text.into();
        let text = if text.contains("\r\n") {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        let text = match eol {
            Eol::Lf => text,
            Eol::Crlf => text.replace('\n', "\r\n"),
        };
        let mut bytes = match encoding {
            Encoding::Utf8 => text.into_bytes(),
            Encoding::Utf16leBom => {
                let mut b = Vec::with_capacity(2 + text.len() * 2);
                b.extend_from_slice(&[0xFF, 0xFE]);
                for u in text.encode_utf16() {
                    b.extend_from_slice(&u.to_le_bytes());
                }
                b
            }
        };
        // A rendered or converted text grew by doubling: the bundle keeps only its bytes (a third
        // less memory on a large site).
        bytes.shrink_to_fit();
        Artifact {
            kind,
            encoding,
            eol,
            hosts: Hosts::None,
            deploy: Deploy::Nothing,
            bytes,
        }
    }

    /// Deployed to these servers.
    pub fn hosts(mut self, hosts: impl IntoIterator<Item = String>) -> Self {
        self.hosts = Hosts::Servers(hosts.into_iter().collect());
        self
    }

    /// Deployed to the domain `dns_name` (not to a server).
    pub fn domain(mut self, dns_name: &str) -> Self {
        self.hosts = Hosts::Domain(dns_name.to_string());
        self
    }

    pub fn deploy(mut self, how: Deploy) -> Self {
        self.deploy = how;
        self
    }

    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(&self.bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes file bytes to text for display and diffs (UTF-16LE with BOM or UTF-8), LF line ends.
pub fn decode_for_display(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if rest.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).ok()?
    } else {
        String::from_utf8(bytes.to_vec()).ok()?
    };
    Some(text.replace("\r\n", "\n"))
}

/// Every generated file, by relative path (forward slashes).
#[derive(Debug, Default, Clone)]
pub struct Bundle {
    pub files: BTreeMap<String, Artifact>,
}

pub const MANIFEST: &str = "manifest.json";

impl Bundle {
    /// Adds a file. Two generators claiming one path is a bug, reported as an internal error.
    pub fn add(&mut self, path: impl Into<String>, artifact: Artifact) -> Result<(), crate::Error> {
        let path = path.into();
        check_rel_path(&path)?;
        if self.files.contains_key(&path) {
            return Err(crate::Error::internal(format!(
                "two artifacts claim the path {path}"
            )));
        }
        self.files.insert(path, artifact);
        Ok(())
    }

    pub fn total_bytes(&self) -> usize {
        self.files.values().map(|a| a.bytes.len()).sum()
    }

    /// Adds `manifest.json`: every other file with its sha256, size, kind, encoding and hosts.
    pub fn add_manifest(&mut self, site_name: &str) -> Result<(), crate::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            path: &'a str,
            sha256: String,
            bytes: usize,
            kind: ArtifactKind,
            encoding: Encoding,
            eol: Eol,
            hosts: &'a Hosts,
            deploy: String,
        }
        #[derive(Serialize)]
        struct Manifest<'a> {
            manifest_version: u32,
            generator: &'a str,
            site: &'a str,
            files: Vec<Entry<'a>>,
        }
        // Hashed on every core (the hashes are a third of the manifest's cost on a large site).
        let artifacts: Vec<&Artifact> = self.files.values().collect();
        let hashes = crate::parallel::map_ranges(artifacts.len(), |range| {
            Ok::<_, crate::Error>(
                artifacts[range]
                    .iter()
                    .map(|a| a.sha256())
                    .collect::<Vec<_>>(),
            )
        })?;
        let files = self
            .files
            .iter()
            .zip(hashes.into_iter().flatten())
            .map(|((p, a), sha256)| Entry {
                path: p,
                sha256,
                bytes: a.bytes.len(),
                kind: a.kind,
                encoding: a.encoding,
                eol: a.eol,
                hosts: &a.hosts,
                deploy: a.deploy.summary(),
            })
            .collect();
        let m = Manifest {
            manifest_version: 1,
            generator: "sitebundle",
            site: site_name,
            files,
        };
        let mut text =
            serde_json::to_string_pretty(&m).map_err(|e| crate::Error::internal(e.to_string()))?;
        text.push('\n');
        self.add(
            MANIFEST,
            Artifact::text(ArtifactKind::Manifest, Encoding::Utf8, Eol::Lf, text),
        )
    }
}

/// Relative paths only: no absolute paths, no `..`, no empty segments, portable characters.
fn check_rel_path(path: &str) -> Result<(), crate::Error> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        || !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '{' | '}'));
    if bad {
        return Err(crate::Error::internal(format!(
            "refusing to generate the unsafe path {path:?}"
        )));
    }
    Ok(())
}

/// Reads the list of generated paths from a manifest written by an earlier build.
pub fn manifest_paths(text: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let files = v.get("files")?.as_array()?;
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|f| f.get("path")?.as_str().map(String::from))
        .collect();
    out.push(MANIFEST.to_string());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_bom_crlf() {
        let a = Artifact::text(
            ArtifactKind::Diagram,
            Encoding::Utf16leBom,
            Eol::Crlf,
            "a\nb\n",
        );
        assert_eq!(
            a.bytes,
            vec![
                0xFF, 0xFE, b'a', 0, b'\r', 0, b'\n', 0, b'b', 0, b'\r', 0, b'\n', 0
            ]
        );
        assert_eq!(decode_for_display(&a.bytes).unwrap(), "a\nb\n");
    }

    #[test]
    fn crlf_is_not_doubled() {
        let a = Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Crlf, "a\r\nb\n");
        assert_eq!(a.bytes, b"a\r\nb\r\n");
    }

    #[test]
    fn rejects_bad_paths() {
        let mut b = Bundle::default();
        for p in ["../x", "/abs", "a//b", "a/./b", "a b", ""] {
            assert!(
                b.add(
                    p,
                    Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Lf, "")
                )
                .is_err(),
                "{p}"
            );
        }
        assert!(
            b.add(
                "gpo/{ABC}/x.xml",
                Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Lf, "")
            )
            .is_ok()
        );
        assert!(
            b.add(
                "gpo/{ABC}/x.xml",
                Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Lf, "")
            )
            .is_err()
        );
    }
}
