//! Machine-readable output (`--format json`): one versioned JSON document per command, in the
//! shape docs/json-output.md describes and docs/schemas/<command>.schema.json defines.
//!
//! Every document starts with the same envelope: `format` (`sitebundle-<command>`), `version`
//! ([`VERSION`]), the site `file`, whether the command succeeded (`ok`, the same as exit code 0),
//! the counts of `errors` and `warnings`, and every `diagnostic`. The command's own keys follow,
//! present only when the command could produce them.

use serde::Serialize;

use crate::diag::{Diagnostics, JsonDiagnostic};

/// The version of every document's shape. It changes only when a key is removed, renamed or
/// changes meaning; new keys can appear in any version (consumers ignore keys they do not know).
pub const VERSION: u32 = 1;

/// A command's JSON document: the envelope and the command's own keys (`payload`, flattened).
#[derive(Debug, Serialize)]
pub struct Document<P: Serialize> {
    pub format: String,
    pub version: u32,
    pub file: String,
    pub ok: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<JsonDiagnostic>,
    #[serde(flatten)]
    pub payload: Option<P>,
}

impl<P: Serialize> Document<P> {
    /// The document of `command` (e.g. `validate`) about the findings `diags`.
    pub fn new(command: &str, diags: &Diagnostics, ok: bool, payload: Option<P>) -> Self {
        Document {
            format: format!("sitebundle-{command}"),
            version: VERSION,
            file: diags.file.clone(),
            ok,
            errors: diags.error_count(),
            warnings: diags.warning_count(),
            diagnostics: diags.to_json(),
            payload,
        }
    }

    /// Pretty-printed (two-space indent, keys in a fixed order) with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("output documents serialize");
        s.push('\n');
        s
    }
}

/// Keys of `sitebundle validate --format json` on a site without errors.
#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub site: SiteSummary,
}

#[derive(Debug, Serialize)]
pub struct SiteSummary {
    pub name: String,
    /// Server names, in the site's order.
    pub servers: Vec<String>,
}

impl ValidateReport {
    pub fn of(site: &crate::site::Site) -> Self {
        ValidateReport {
            site: SiteSummary {
                name: site.farm.name.clone(),
                servers: site.farm.servers.iter().map(|s| s.name.clone()).collect(),
            },
        }
    }
}
