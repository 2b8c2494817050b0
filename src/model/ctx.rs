//! The resolve context: collects every finding, with its place in the site file.

use std::collections::HashMap;
use std::ops::Range;

use crate::diag::{Code, Diagnostic, Severity, did_you_mean, suggest_all};
use crate::escape::Unsafe;

use super::spans::SpanIndex;

/// An escaping function of `crate::escape`, as named in `safe_for`.
pub type Escaper = fn(&str) -> Result<String, Unsafe>;

pub struct Ctx<'a> {
    spans: &'a SpanIndex,
    pub diags: Vec<Diagnostic>,
    /// Values already reported as wrong, as (what, name in lower case): places that use them
    /// stay silent instead of reporting a knock-on error (`server address`, `WEB04`).
    failed: std::collections::HashSet<(&'static str, String)>,
}

impl<'a> Ctx<'a> {
    pub fn new(spans: &'a SpanIndex) -> Self {
        Ctx {
            spans,
            diags: Vec::new(),
            failed: Default::default(),
        }
    }

    /// Notes that `what` of `name` (e.g. the `server address` of `WEB04`) failed its own check and
    /// has been reported there.
    pub fn mark_failed(&mut self, what: &'static str, name: &str) {
        self.failed.insert((what, name.to_lowercase()));
    }

    /// Whether `what` of `name` failed its own check: a place that needs it reports nothing more.
    pub fn has_failed(&self, what: &'static str, name: &str) -> bool {
        self.failed.contains(&(what, name.to_lowercase()))
    }

    /// Whether an error has been reported.
    pub fn has_errors(&self) -> bool {
        self.diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error)
    }

    /// Whether the document spells the key `path` itself (not only one of its parents), e.g. to
    /// tell a default from a value given explicitly.
    pub fn has_key(&self, path: &str) -> bool {
        self.spans.keys().any(|(k, _)| k == path)
    }

    pub fn span(&self, path: &str) -> Option<Range<usize>> {
        self.spans.value(path)
    }

    /// Records an error at the value `path` (e.g. `server[2].name`), of kind
    /// [`Code::InvalidValue`] (a value that fails its own check); [`Ctx::report`] names another.
    pub fn error(&mut self, path: &str, message: impl Into<String>, help: impl Into<String>) {
        self.report(Severity::Error, Code::InvalidValue, path, message, help);
    }

    /// Records a warning of kind `code` at the value `path`.
    pub fn warn(
        &mut self,
        code: Code,
        path: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.report(Severity::Warning, code, path, message, help);
    }

    /// Records a warning of kind `code` at the value `path` about the server `server` (a
    /// `[site] accept` entry with that server settles it).
    pub fn warn_about(
        &mut self,
        code: Code,
        path: &str,
        server: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.warn(code, path, message, help);
        if let Some(d) = self.diags.last_mut() {
            d.about = Some(server.to_string());
        }
    }

    /// Records a finding of any severity and kind at the value `path`.
    pub fn report(
        &mut self,
        severity: Severity,
        code: Code,
        path: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let help = help.into();
        let mut d = match severity {
            Severity::Error => Diagnostic::error(self.spans.value(path), message).with_code(code),
            Severity::Warning => Diagnostic::warning(code, self.spans.value(path), message),
        };
        if !help.is_empty() {
            d = d.with_help(help);
        }
        self.diags.push(d);
    }

    /// Checks that `value` (the field at `path`) can be written safely by every escaper in `langs`;
    /// reports the first that cannot. Returns whether the value is safe everywhere.
    pub fn safe_for(&mut self, path: &str, value: &str, langs: &[(&str, Escaper)]) -> bool {
        for (lang, f) in langs {
            if let Err(why) = f(value) {
                self.report(
                    Severity::Error,
                    Code::UnsafeValue,
                    path,
                    format!("`{path}` cannot be written safely into {lang}: {why}"),
                    "change the value; sitebundle rejects values it cannot quote rather than risk them turning into code",
                );
                return false;
            }
        }
        true
    }

    /// Checks `value` against a predicate-style validator that returns an error text.
    pub fn check(&mut self, path: &str, result: Result<(), String>, help: &str) -> bool {
        match result {
            Ok(()) => true,
            Err(msg) => {
                self.error(path, msg, help);
                false
            }
        }
    }

    /// Resolves a reference by name, with a "did you mean" help on a miss.
    /// Looks up a server by name. Windows compares computer names without case, so `WEB03` finds
    /// the server `web03` (server names are unique without case); otherwise as [`Ctx::lookup`].
    pub fn lookup_server(&mut self, path: &str, name: &str, names: &super::Names) -> Option<usize> {
        self.lookup_server_in(path, name, names, &[])
    }

    /// [`Ctx::lookup_server`] for one entry of a list that also names `listed`.
    pub fn lookup_server_in(
        &mut self,
        path: &str,
        name: &str,
        names: &super::Names,
        listed: &[&str],
    ) -> Option<usize> {
        names
            .find(name)
            .or_else(|| self.lookup_excluding(path, "server", name, &names.servers, listed))
    }

    pub fn lookup(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        known: &HashMap<&str, usize>,
    ) -> Option<usize> {
        self.lookup_excluding(path, what, name, known, &[])
    }

    /// [`Ctx::lookup`] in a list that already names `listed`: suggestions never offer one of
    /// them (compared without case), and list every equally close candidate.
    pub fn lookup_excluding(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        known: &HashMap<&str, usize>,
        listed: &[&str],
    ) -> Option<usize> {
        if let Some(i) = known.get(name) {
            return Some(*i);
        }
        let mut names: Vec<&str> = known.keys().copied().collect();
        names.sort();
        let candidates = names
            .iter()
            .copied()
            .filter(|n| !listed.iter().any(|l| l.eq_ignore_ascii_case(n)));
        let help = match did_you_mean(&suggest_all(name, candidates)) {
            Some(s) => s,
            None if names.is_empty() => format!("no {what} is defined"),
            None => format!("defined {what}s: {}", names.join(", ")),
        };
        self.report(
            Severity::Error,
            Code::UnknownReference,
            path,
            format!("unknown {what} `{name}`"),
            help,
        );
        None
    }

    /// Resolves a list of server names at `path` (`path[0]`, `path[1]`, …): unknown names and
    /// names listed twice are reported at their place. Returns the servers in name order (a list
    /// of servers that get the same thing carries no order) and whether every name was good.
    pub fn server_list(
        &mut self,
        path: &str,
        list: &[String],
        names: &super::Names,
    ) -> (Vec<usize>, bool) {
        let mut ok = true;
        let mut servers = Vec::new();
        // Seen servers by index: a list of every server of a large site stays linear.
        let mut seen = vec![false; names.servers.len()];
        let listed: Vec<&str> = list.iter().map(String::as_str).collect();
        for (j, s) in list.iter().enumerate() {
            let at = format!("{path}[{j}]");
            match self.lookup_server_in(&at, s, names, &listed) {
                Some(idx) if seen.get(idx).copied().unwrap_or(false) => {
                    self.report(
                        Severity::Error,
                        Code::ListedTwice,
                        &at,
                        format!("server `{s}` is listed twice"),
                        "list each server once",
                    );
                    ok = false;
                }
                Some(idx) => {
                    if let Some(flag) = seen.get_mut(idx) {
                        *flag = true;
                    }
                    servers.push(idx);
                }
                None => ok = false,
            }
        }
        servers.sort();
        (servers, ok)
    }

    /// Reports every duplicate among `(path, name)` pairs, case-insensitively (Windows and SQL
    /// Server compare names without case).
    pub fn unique<'n>(&mut self, what: &str, items: impl IntoIterator<Item = (String, &'n str)>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (path, name) in items {
            let key = name.to_lowercase();
            if let Some(first) = seen.get(&key) {
                let first_place = match self.spans.line(first) {
                    Some(line) => format!("line {line}"),
                    None => format!("`{first}`"),
                };
                self.report(
                    Severity::Error,
                    Code::DuplicateName,
                    &path,
                    format!("duplicate {what} `{name}`"),
                    if what.contains("address") {
                        format!("{first_place} has the same {what}; change one of them")
                    } else {
                        format!("{first_place} has the same {what} (names are compared without case); change one of them")
                    },                );
            } else {
                seen.insert(key, path);
            }
        }
    }
}
