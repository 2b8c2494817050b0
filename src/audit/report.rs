//! The audit's verdict: per source (a server, a SQL partner, the BIG-IP, the GPO) in sync,
//! drifted, or missing, with one finding per object or field; printed as text or JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// What one finding says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A field differs from what the bundle sets.
    Drift,
    /// An object of the bundle is not there.
    Missing,
    /// An object with our name or in our scope that the bundle does not have.
    Extra,
    /// Live state that is expected to change (not drift).
    State,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The object, e.g. `task KillProc-mssdmn`.
    pub object: String,
    /// The field, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl Finding {
    pub fn drift(object: &str, field: &str, expected: &str, found: &str) -> Self {
        Finding {
            kind: Kind::Drift,
            object: object.into(),
            field: Some(field.into()),
            expected: Some(expected.into()),
            found: Some(found.into()),
        }
    }
    pub fn state(object: &str, field: &str, found: &str) -> Self {
        Finding {
            kind: Kind::State,
            object: object.into(),
            field: Some(field.into()),
            expected: None,
            found: Some(found.into()),
        }
    }
    pub fn missing(object: &str) -> Self {
        Finding {
            kind: Kind::Missing,
            object: object.into(),
            field: None,
            expected: None,
            found: None,
        }
    }
    pub fn extra(object: &str) -> Self {
        Finding {
            kind: Kind::Extra,
            object: object.into(),
            field: None,
            expected: None,
            found: None,
        }
    }
    /// Drift, missing and extra findings are drift; state is not.
    pub fn is_drift(&self) -> bool {
        self.kind != Kind::State
    }
}

/// A source's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    InSync,
    Drifted,
    /// Nothing was collected from it.
    Missing,
}

/// What was found for one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// `server sharepoint2`, `sql sqlmirror1`, `f5`, `gpo`.
    pub source: String,
    /// The collected folder or file it was read from (below `--from`).
    pub collected: String,
    pub status: Status,
    pub findings: Vec<Finding>,
}

impl SourceReport {
    pub fn new(source: String, collected: String, mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| (&a.object, &a.field, a.kind).cmp(&(&b.object, &b.field, b.kind)));
        findings.dedup();
        let status = if findings.iter().any(Finding::is_drift) {
            Status::Drifted
        } else {
            Status::InSync
        };
        SourceReport {
            source,
            collected,
            status,
            findings,
        }
    }
    pub fn missing(source: String, collected: String) -> Self {
        SourceReport {
            source,
            collected,
            status: Status::Missing,
            findings: Vec::new(),
        }
    }
}

/// The whole audit.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub site: String,
    pub in_sync: bool,
    pub sources: Vec<SourceReport>,
}

impl Report {
    pub fn new(site: &str, sources: Vec<SourceReport>) -> Self {
        Report {
            site: site.into(),
            in_sync: sources.iter().all(|s| s.status == Status::InSync),
            sources,
        }
    }

    /// Every finding that is drift, with its source.
    pub fn drift(&self) -> Vec<(&str, &Finding)> {
        self.sources
            .iter()
            .flat_map(|s| {
                s.findings
                    .iter()
                    .filter(|f| f.is_drift())
                    .map(move |f| (s.source.as_str(), f))
            })
            .collect()
    }

    /// 0 in sync, 1 drift (the command's exit code).
    pub fn exit_code(&self) -> u8 {
        if self.in_sync { 0 } else { 1 }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// The text report: one block per source, one line per finding.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for s in &self.sources {
            let status = match s.status {
                Status::InSync => "in sync",
                Status::Drifted => "DRIFTED",
                Status::Missing => "MISSING (nothing collected)",
            };
            let _ = writeln!(out, "{}: {status} ({})", s.source, s.collected);
            for f in &s.findings {
                let _ = writeln!(out, "  {}", describe(f));
            }
        }
        let drifted = self
            .sources
            .iter()
            .filter(|s| s.status != Status::InSync)
            .count();
        let _ = writeln!(
            out,
            "{}: {} of {} sources in sync{}",
            clean(&self.site),
            self.sources.len() - drifted,
            self.sources.len(),
            if drifted == 0 { "" } else { "; drift found" }
        );
        out
    }
}

fn describe(f: &Finding) -> String {
    let field = f
        .field
        .as_deref()
        .map(|x| format!(" {}", clean(x)))
        .unwrap_or_default();
    let object = clean(&f.object);
    let value = |v: &Option<String>| clean(v.as_deref().unwrap_or(""));
    match f.kind {
        Kind::Drift => format!(
            "drift    {object}{field}: expected {}, found {}",
            value(&f.expected),
            value(&f.found)
        ),
        Kind::Missing => format!("missing  {object}"),
        Kind::Extra => format!("extra    {object} (not in the bundle)"),
        Kind::State => format!("state    {object}{field}: {}", value(&f.found)),
    }
}

/// A value shown on one line of a terminal: control characters escaped, long values cut.
fn clean(s: &str) -> String {
    const MAX: usize = 160;
    let mut out: String = s.escape_debug().collect();
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}
