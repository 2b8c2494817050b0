//! `sitebundle plan`: the per-server view ([`ServerPlan`]) as text for a person or as the keys of
//! the `sitebundle-plan` JSON document (docs/json-output.md, `docs/schemas/plan.schema.json`).

use std::fmt::Write as _;

use serde::Serialize;

use super::{How, ServerPlan};

/// The command's own keys of the `sitebundle-plan` document (docs/json-output.md), after the
/// envelope of `crate::output::Document`.
#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub site: String,
    pub servers: Vec<ServerPlan>,
}

impl PlanReport {
    pub fn new(site: &str, servers: Vec<ServerPlan>) -> Self {
        PlanReport {
            site: site.to_string(),
            servers,
        }
    }
}

/// The text report: one block per server.
pub fn text(servers: &[ServerPlan]) -> String {
    let mut out = String::new();
    for (i, s) in servers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        server_text(&mut out, s);
    }
    out
}

fn how_text(h: &How) -> String {
    match (&h.command, h.by) {
        (_, "gpo") => format!("by {}", h.note),
        (Some(c), _) => format!("by hand: {c}"),
        (None, _) => format!("by hand: {}", h.note),
    }
}

fn server_text(out: &mut String, s: &ServerPlan) {
    let mut head = format!("{} ({}, release {})", s.name, s.os, s.release);
    if let Some(a) = &s.address {
        let _ = write!(head, ", {a}");
    }
    let _ = writeln!(out, "{head}");
    if s.is_empty() {
        let _ = writeln!(out, "  nothing of this bundle lands on this server");
        return;
    }
    list(out, "roles", s.roles.iter().cloned());
    list(out, "prerequisites", s.prerequisites.iter().cloned());
    list(
        out,
        "files",
        s.files.iter().map(|f| match &f.target {
            Some(t) => format!("{} -> {t} ({})", f.path, how_text(&f.how)),
            None => format!("{} ({})", f.path, how_text(&f.how)),
        }),
    );
    list(
        out,
        "tasks",
        s.tasks.iter().map(|t| {
            format!(
                "{}: {} ({}), as {} ({})",
                t.name,
                t.schedule.words,
                t.schedule.schtasks,
                t.run_as,
                how_text(&t.how)
            )
        }),
    );
    list(
        out,
        "registry",
        s.registry.iter().map(|r| {
            format!(
                "{}\\{} = {} {} ({})",
                r.key,
                r.name,
                r.value_type,
                r.data,
                how_text(&r.how)
            )
        }),
    );
    list(
        out,
        "services",
        s.services
            .iter()
            .map(|v| format!("{}: {} ({})", v.service, v.settings, how_text(&v.how))),
    );
    list(
        out,
        "verify",
        s.verify
            .iter()
            .map(|v| format!("{}\n      expect: {}", v.command, v.expect)),
    );
    list(
        out,
        "acts at once (run only at a quiet moment)",
        s.destructive.iter().map(|v| {
            format!(
                "{}\n      WARNING: {}",
                v.command,
                v.warning.as_deref().unwrap_or_default()
            )
        }),
    );
}

fn list(out: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "  {title}:");
    for i in items {
        let _ = writeln!(out, "    - {i}");
    }
}

/// The servers `--server` names (compared without case, as Windows compares computer names),
/// or the message for an unknown name: every equally close name as a suggestion, then the list.
pub fn select(servers: Vec<ServerPlan>, name: Option<&str>) -> Result<Vec<ServerPlan>, String> {
    let Some(name) = name else {
        return Ok(servers);
    };
    let wanted = name.to_lowercase();
    let found: Vec<ServerPlan> = servers
        .iter()
        .filter(|s| s.name.to_lowercase() == wanted)
        .cloned()
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    Err(unknown_server_message(name, &names))
}

fn unknown_server_message(name: &str, names: &[&str]) -> String {
    let limit = (name.chars().count() / 3).max(2);
    let scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| {
            (
                crate::diag::levenshtein(&name.to_lowercase(), &n.to_lowercase()),
                *n,
            )
        })
        .collect();
    let best = scored.iter().map(|(d, _)| *d).min().filter(|d| *d <= limit);
    let close: Vec<String> = scored
        .iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, n)| format!("`{n}`"))
        .collect();
    let mut help = String::new();
    if !close.is_empty() {
        let _ = write!(help, "did you mean {}? ", close.join(" or "));
    }
    if names.is_empty() {
        help.push_str("the site has no servers");
    } else {
        let _ = write!(help, "the site's servers: {}", names.join(", "));
    }
    format!("error: --server `{name}`: the site has no server of that name\n  = help: {help}\n")
}

#[cfg(test)]
mod tests {
    use super::unknown_server_message;

    #[test]
    fn every_equally_close_name_is_suggested() {
        let m = unknown_server_message("web0", &["web01", "web02", "sql1"]);
        assert!(m.contains("did you mean `web01` or `web02`?"), "{m}");
        let m = unknown_server_message("zzzzzzzz", &["web01"]);
        assert!(!m.contains("did you mean"), "{m}");
        assert!(m.contains("the site's servers: web01"), "{m}");
    }
}
