//! `[site] accept`: warnings the operator has looked at and settled, each with a reason. An
//! accepted warning is shown once by `validate` (as accepted, with the reason), is not counted
//! and does not fail `--deny-warnings`; an entry that matches no warning is itself a warning
//! (`stale-accept`), so a settled warning that went away does not leave a blanket behind.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Severity, did_you_mean, suggest_all};

use super::{Ctx, Names};

/// One settled warning.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAccept {
    /// The code of the warning, as printed in `warning[code]`, e.g.
    /// "sql-switcher-needs-powershell-2" (docs/diagnostics.md lists the codes that can be
    /// warnings).
    pub code: String,
    /// The server the warning is about, e.g. "web3": only that server's warning of this code is
    /// accepted. Without it, every warning of the code is.
    #[serde(default)]
    pub server: Option<String>,
    /// Why the warning is fine for this farm, shown by `validate` beside it, e.g. "KB968930 is
    /// installed on web3 (change 4711)".
    pub reason: String,
}

/// A checked `[site] accept` entry.
#[derive(Debug, Clone)]
pub struct Accept {
    /// Its place, `site.accept[i]`.
    pub path: String,
    pub code: Code,
    /// The server's name as the site spells it.
    pub server: Option<String>,
    pub reason: String,
}

impl Accept {
    fn matches(&self, d: &Diagnostic) -> bool {
        d.severity == Severity::Warning
            && d.code == self.code
            && match (&self.server, &d.about) {
                (None, _) => true,
                (Some(s), Some(a)) => s.eq_ignore_ascii_case(a),
                (Some(_), None) => false,
            }
    }
}

/// Codes a finding can carry as a warning: the only ones an entry may name.
pub fn warning_codes() -> impl Iterator<Item = Code> {
    Code::ALL.iter().copied().filter(|c| c.can_warn())
}

/// Checks every entry: a known warning code, a known server, a reason.
pub fn resolve(raw: &[RawAccept], ctx: &mut Ctx, names: &Names) -> Vec<Accept> {
    let mut out = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let path = format!("site.accept[{i}]");
        let code = warning_codes().find(|c| c.as_str() == a.code);
        if code.is_none() {
            let known: Vec<&str> = warning_codes().map(Code::as_str).collect();
            let help = did_you_mean(&suggest_all(&a.code, known.iter().copied()))
                .unwrap_or_else(|| format!("codes that can be warnings: {}", known.join(", ")));
            ctx.error(
                &format!("{path}.code"),
                format!("`{}` is not the code of a warning", a.code),
                format!("{help} (an error cannot be accepted: fix it)"),
            );
        }
        let server = match &a.server {
            Some(s) => ctx
                .lookup_server(&format!("{path}.server"), s, names)
                .map(|idx| Some(names_server(names, idx, s))),
            None => Some(None),
        };
        if a.reason.trim().is_empty() {
            ctx.error(
                &format!("{path}.reason"),
                "the reason is empty",
                "say why the warning is fine for this farm (it is shown beside the warning)",
            );
            continue;
        }
        if let (Some(code), Some(server)) = (code, server) {
            out.push(Accept {
                path,
                code,
                server,
                reason: a.reason.trim().to_string(),
            });
        }
    }
    out
}

/// The server's name as the site defines it (the entry may spell it in another case).
fn names_server(names: &Names, idx: usize, spelled: &str) -> String {
    names
        .servers
        .iter()
        .find(|(_, i)| **i == idx)
        .map_or_else(|| spelled.to_string(), |(n, _)| n.to_string())
}

/// Marks the warnings the entries settle, and reports every entry that settles none.
pub fn apply(accepts: &[Accept], ctx: &mut Ctx) {
    let mut used = vec![false; accepts.len()];
    for d in ctx.diags.iter_mut() {
        if let Some(i) = accepts.iter().position(|a| a.matches(d)) {
            d.accepted = Some(accepts[i].reason.clone());
            used[i] = true;
        }
    }
    for (a, used) in accepts.iter().zip(used) {
        if used {
            continue;
        }
        let what = match &a.server {
            Some(s) => format!("`{}` about `{s}`", a.code.as_str()),
            None => format!("`{}`", a.code.as_str()),
        };
        ctx.warn(
            Code::StaleAccept,
            &a.path,
            format!("this entry accepts {what}, but the site has no such warning"),
            "remove the entry (the warning it settled is gone), or correct its code or server",
        );
    }
}
