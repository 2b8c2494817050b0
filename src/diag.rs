//! Located diagnostics: `file:line:col`, the source line, a caret and a help line.
//!
//! Every error the user can cause is a [`Diagnostic`] with a byte span into the site file. They are
//! collected (all at once where possible) into [`Diagnostics`] and rendered in one consistent style.

use std::fmt::Write as _;
use std::ops::Range;

/// How bad a finding is. Errors stop the build; warnings are printed and the build goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// The word shown before a finding and written in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What kind of finding a diagnostic is: a stable name shown as `error[code]` and written in JSON
/// output, so scripts and CI can match findings without parsing messages. Every code is listed
/// with its meaning in `docs/diagnostics.md` (a test keeps the two in step). Codes are never
/// renamed or reused; a new kind of finding gets a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    // The file itself.
    Unreadable,
    Encoding,
    TomlSyntax,
    TooDeep,
    // Its shape against the schema.
    UnknownKey,
    MissingKey,
    WrongType,
    UnknownVariant,
    // Values.
    InvalidValue,
    UnsafeValue,
    StoredPassword,
    // Names and references.
    UnknownReference,
    DuplicateName,
    ListedTwice,
    // Soft findings of the families.
    SqlOneDatabase,
    SqlUnusedHighPerformanceList,
    SqlSwitcherNeedsPowershell2,
    MaintTextWithoutDuration,
    MaintSkipNotListed,
    MaintShortWindow,
    MaintDelayBelowDefault,
    MaintRestartEventUnconfirmed,
    F5DuplicateAffinityTarget,
    F5RuleIgnored,
    F5PoolWithoutMonitor,
    F5PriorityGroupsInactive,
    F5MonitorNeedsAnonymous,
    // The failover-scenario analysis.
    AffinitySplit,
    AffinitySpread,
    AffinityPartial,
    AffinityPersistence,
    AffinityLiveConnections,
    // `[site] accept`.
    StaleAccept,
    // `sitebundle audit`: a file the collectors wrote.
    CollectedExport,
}

impl Code {
    /// Every code, in the order of `docs/diagnostics.md`.
    pub const ALL: &'static [Code] = &[
        Code::Unreadable,
        Code::Encoding,
        Code::TomlSyntax,
        Code::TooDeep,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::UnknownVariant,
        Code::InvalidValue,
        Code::UnsafeValue,
        Code::StoredPassword,
        Code::UnknownReference,
        Code::DuplicateName,
        Code::ListedTwice,
        Code::SqlOneDatabase,
        Code::SqlUnusedHighPerformanceList,
        Code::SqlSwitcherNeedsPowershell2,
        Code::MaintTextWithoutDuration,
        Code::MaintSkipNotListed,
        Code::MaintShortWindow,
        Code::MaintDelayBelowDefault,
        Code::MaintRestartEventUnconfirmed,
        Code::F5DuplicateAffinityTarget,
        Code::F5RuleIgnored,
        Code::F5PoolWithoutMonitor,
        Code::F5PriorityGroupsInactive,
        Code::F5MonitorNeedsAnonymous,
        Code::AffinitySplit,
        Code::AffinitySpread,
        Code::AffinityPartial,
        Code::AffinityPersistence,
        Code::AffinityLiveConnections,
        Code::StaleAccept,
        Code::CollectedExport,
    ];

    /// Whether a finding of this code can be a warning (the codes a `[site] accept` entry can
    /// name; the affinity codes are warnings or errors as the group's `on_split` says).
    pub fn can_warn(self) -> bool {
        use Code::*;
        matches!(
            self,
            SqlOneDatabase
                | SqlUnusedHighPerformanceList
                | SqlSwitcherNeedsPowershell2
                | MaintTextWithoutDuration
                | MaintSkipNotListed
                | MaintShortWindow
                | MaintDelayBelowDefault
                | MaintRestartEventUnconfirmed
                | F5DuplicateAffinityTarget
                | F5RuleIgnored
                | F5PoolWithoutMonitor
                | F5PriorityGroupsInactive
                | AffinitySplit
                | AffinitySpread
                | AffinityPartial
                | AffinityPersistence
                | AffinityLiveConnections
        )
    }

    /// The stable name (lower case, words joined by `-`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unreadable => "unreadable",
            Code::Encoding => "encoding",
            Code::TomlSyntax => "toml-syntax",
            Code::TooDeep => "too-deep",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::WrongType => "wrong-type",
            Code::UnknownVariant => "unknown-variant",
            Code::InvalidValue => "invalid-value",
            Code::UnsafeValue => "unsafe-value",
            Code::StoredPassword => "stored-password",
            Code::UnknownReference => "unknown-reference",
            Code::DuplicateName => "duplicate-name",
            Code::ListedTwice => "listed-twice",
            Code::SqlOneDatabase => "sql-one-database",
            Code::SqlUnusedHighPerformanceList => "sql-unused-high-performance-list",
            Code::MaintTextWithoutDuration => "maint-text-without-duration",
            Code::MaintSkipNotListed => "maint-skip-not-listed",
            Code::MaintShortWindow => "maint-short-window",
            Code::MaintDelayBelowDefault => "maint-delay-below-default",
            Code::MaintRestartEventUnconfirmed => "maint-restart-event-unconfirmed",
            Code::SqlSwitcherNeedsPowershell2 => "sql-switcher-needs-powershell-2",
            Code::F5DuplicateAffinityTarget => "f5-duplicate-affinity-target",
            Code::F5RuleIgnored => "f5-rule-ignored",
            Code::F5PoolWithoutMonitor => "f5-pool-without-monitor",
            Code::F5PriorityGroupsInactive => "f5-priority-groups-inactive",
            Code::F5MonitorNeedsAnonymous => "f5-monitor-needs-anonymous",
            Code::AffinitySplit => "affinity-split",
            Code::AffinitySpread => "affinity-spread",
            Code::AffinityPartial => "affinity-partial",
            Code::AffinityPersistence => "affinity-persistence",
            Code::AffinityLiveConnections => "affinity-live-connections",
            Code::StaleAccept => "stale-accept",
            Code::CollectedExport => "collected-export",
        }
    }
}

/// One finding about the site file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The kind of finding (stable, documented in `docs/diagnostics.md`).
    pub code: Code,
    /// Byte range into the source; `None` when the finding has no place (e.g. an unreadable file).
    pub span: Option<Range<usize>>,
    pub message: String,
    pub help: Option<String>,
    /// The server the finding is about, when it is about one (`[site] accept` entries with a
    /// `server` match it, without case as Windows compares computer names).
    pub about: Option<String>,
    /// A warning the operator settled with a `[site] accept` entry: its reason. An accepted
    /// warning is not counted, does not fail `--deny-warnings`, and is shown by `validate` only.
    pub accepted: Option<String>,
}

impl Diagnostic {
    /// An error of kind [`Code::InvalidValue`] (the common case; [`Diagnostic::with_code`] names
    /// another kind).
    pub fn error(span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: Code::InvalidValue,
            span,
            message: message.into(),
            help: None,
            about: None,
            accepted: None,
        }
    }
    /// A warning: every warning names its own kind.
    pub fn warning(code: Code, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            code,
            span,
            message: message.into(),
            help: None,
            about: None,
            accepted: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }
    /// Names the server the finding is about (see [`Diagnostic::about`]).
    pub fn about(mut self, server: impl Into<String>) -> Self {
        self.about = Some(server.into());
        self
    }
    /// Whether the finding is a warning the operator has not settled.
    pub fn is_open_warning(&self) -> bool {
        self.severity == Severity::Warning && self.accepted.is_none()
    }
}

/// All findings about one source file, with the text needed to show them.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub file: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
    /// What the command did not do because of the errors, for the closing line ("nothing was
    /// written"; the audit, which writes nothing, says "no verdict was given").
    pub outcome: &'static str,
}

impl Diagnostics {
    pub fn new(file: impl Into<String>, source: impl Into<String>) -> Self {
        Diagnostics {
            file: file.into(),
            source: source.into(),
            items: Vec::new(),
            outcome: "nothing was written",
        }
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Sorts findings by position so the output reads top to bottom, errors before warnings at a place.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            let pa = a.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX);
            let pb = b.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX);
            (pa, a.severity, &a.message).cmp(&(pb, b.severity, &b.message))
        });
        self.items.dedup();
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.source, offset)
    }

    /// Warnings not settled by a `[site] accept` entry, counted.
    pub fn warning_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_open_warning()).count()
    }

    /// Warnings settled by a `[site] accept` entry, counted.
    pub fn accepted_count(&self) -> usize {
        self.items.iter().filter(|d| d.accepted.is_some()).count()
    }

    /// The same findings without the accepted warnings: what every command but `validate` shows
    /// (an accepted warning is shown once, by `validate`).
    pub fn without_accepted(&self) -> Diagnostics {
        Diagnostics {
            file: self.file.clone(),
            source: self.source.clone(),
            items: self
                .items
                .iter()
                .filter(|d| d.accepted.is_none())
                .cloned()
                .collect(),
            outcome: self.outcome,
        }
    }

    /// Whether the findings stop a command: an error, or a warning under `--deny-warnings`.
    pub fn fails(&self, deny_warnings: bool) -> bool {
        self.has_errors() || (deny_warnings && self.warning_count() > 0)
    }

    /// Renders every finding (at most [`MAX_SHOWN`]), plus a closing count line.
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// [`Diagnostics::render`]; with `deny_warnings` (`--deny-warnings`) warnings fail too, and
    /// the closing line says so.
    pub fn render_with(&self, deny_warnings: bool) -> String {
        let mut out = String::new();
        let lines = LineIndex::new(&self.source);
        let mut shown = 0;
        for d in self.items.iter().take(MAX_SHOWN) {
            if shown > 0 && out.len() >= MAX_SHOWN_BYTES {
                break;
            }
            self.render_one(&mut out, d, &lines);
            shown += 1;
        }
        if self.items.len() > shown {
            let _ = writeln!(
                out,
                "… and {} more finding(s) not shown\n",
                self.items.len() - shown
            );
        }
        if let Some(line) = self.closing_line(deny_warnings) {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// "error: site.toml has 2 errors and 1 warning; nothing was written", or for warnings alone
    /// "warning: site.toml has 1 warning" (an error line under `--deny-warnings`); empty when
    /// there is nothing to count.
    fn closing_line(&self, deny_warnings: bool) -> Option<String> {
        let file = clean(&self.file, MAX_MESSAGE);
        let errors = self.error_count();
        let warnings = self.warning_count();
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        Some(if errors > 0 && warnings > 0 {
            format!(
                "error: {file} has {} and {}; {}",
                plural(errors, "error"),
                plural(warnings, "warning"),
                self.outcome
            )
        } else if errors > 0 {
            format!(
                "error: {file} has {}; {}",
                plural(errors, "error"),
                self.outcome
            )
        } else if warnings > 0 && deny_warnings {
            format!(
                "error: {file} has {} and --deny-warnings is set; {}",
                plural(warnings, "warning"),
                self.outcome
            )
        } else if warnings > 0 {
            format!("warning: {file} has {}", plural(warnings, "warning"))
        } else if self.accepted_count() > 0 {
            format!(
                "{file}: {} accepted in [site] accept, none open",
                plural(self.accepted_count(), "warning")
            )
        } else {
            return None;
        })
    }

    fn render_one(&self, out: &mut String, d: &Diagnostic, lines: &LineIndex) {
        if let Some(reason) = &d.accepted {
            self.render_accepted(out, d, reason, lines);
            return;
        }
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            d.severity.as_str(),
            d.code.as_str(),
            clean(&d.message, MAX_MESSAGE)
        );
        let file = clean(&self.file, MAX_MESSAGE);
        match &d.span {
            Some(span) => {
                let mut start = span.start.min(self.source.len());
                while !self.source.is_char_boundary(start) {
                    start -= 1;
                }
                let (line, line_start) = lines.line_of(start);
                let line_end = self.source[line_start..]
                    .find('\n')
                    .map_or(self.source.len(), |i| line_start + i);
                let text = self.source[line_start..line_end].trim_end_matches('\r');
                let col = self.source[line_start..start].chars().count() + 1;
                let _ = writeln!(out, "  --> {file}:{line}:{col}");
                let gutter = line.to_string().len();
                let _ = writeln!(out, "{:gutter$} |", "");
                // Underline the span, but only on its first line.
                let line_len = text.chars().count();
                let end = span.end.max(start + 1).min(self.source.len());
                let span_chars = self
                    .source
                    .get(start..end)
                    .map(|s| s.chars().take_while(|&c| c != '\n').count())
                    .unwrap_or(1);
                let width = span_chars.clamp(1, line_len.saturating_sub(col - 1).max(1));
                // Long lines are shown as a window around the caret.
                let (first, prefix) = if col - 1 > WINDOW / 2 && line_len > WINDOW {
                    (col - 1 - WINDOW / 4, "…")
                } else {
                    (0, "")
                };
                let shown: String = text
                    .chars()
                    .skip(first)
                    .take(WINDOW)
                    .map(shown_char)
                    .collect();
                let suffix = if line_len > first + WINDOW { "…" } else { "" };
                let _ = writeln!(out, "{line} | {prefix}{shown}{suffix}");
                let caret_col = col - 1 - first + prefix.chars().count();
                let width = width.min(WINDOW.saturating_sub(col - 1 - first)).max(1);
                let _ = writeln!(
                    out,
                    "{:gutter$} | {}{}",
                    "",
                    " ".repeat(caret_col),
                    "^".repeat(width)
                );
            }
            None => {
                let _ = writeln!(out, "  --> {file}");
            }
        }
        if let Some(help) = &d.help {
            for (i, l) in help.lines().enumerate() {
                let _ = writeln!(
                    out,
                    "{}= {}{}",
                    " ".repeat(2),
                    if i == 0 { "help: " } else { "      " },
                    clean(l, MAX_MESSAGE)
                );
            }
        }
        out.push('\n');
    }
}

impl Diagnostics {
    /// An accepted warning in two lines: its code and message, and where it is with the reason
    /// the operator gave.
    fn render_accepted(&self, out: &mut String, d: &Diagnostic, reason: &str, lines: &LineIndex) {
        let _ = writeln!(
            out,
            "accepted[{}]: {}",
            d.code.as_str(),
            clean(&d.message, MAX_MESSAGE)
        );
        let file = clean(&self.file, MAX_MESSAGE);
        let place = match &d.span {
            Some(span) => {
                let (line, col) = lines.line_col(&self.source, span.start);
                format!("{file}:{line}:{col}")
            }
            None => file,
        };
        let _ = writeln!(
            out,
            "  --> {place}; reason: {}\n",
            clean(reason, MAX_MESSAGE)
        );
    }
}

/// A character of a source line as the excerpt shows it: a tab as one space (the caret line
/// counts characters), control and bidirectional-override characters as `?`.
fn shown_char(c: char) -> char {
    if c == '\t' {
        ' '
    } else if c.is_control() || is_bidi(c) {
        '?'
    } else {
        c
    }
}

/// One finding as `--format json` writes it (docs/json-output.md, `$defs/diagnostic` of every
/// schema in docs/schemas/): the place as 1-based line and column (in characters, as the text
/// output shows them) of the start and of the end (exclusive) of the span, or `null` when the
/// finding has no place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The reason of the `[site] accept` entry that settled this warning (absent when open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
}

impl Diagnostics {
    /// Every finding (none left out, unlike the text output), for JSON output. Messages keep
    /// their characters (JSON escapes control characters) but are shortened like the text output.
    pub fn to_json(&self) -> Vec<JsonDiagnostic> {
        let lines = LineIndex::new(&self.source);
        self.items
            .iter()
            .map(|d| {
                let start = d
                    .span
                    .as_ref()
                    .map(|s| lines.line_col(&self.source, s.start));
                let end = d
                    .span
                    .as_ref()
                    .map(|s| lines.line_col(&self.source, s.end.max(s.start)));
                JsonDiagnostic {
                    file: self.file.clone(),
                    line: start.map(|p| p.0),
                    column: start.map(|p| p.1),
                    end_line: end.map(|p| p.0),
                    end_column: end.map(|p| p.1),
                    severity: d.severity.as_str(),
                    code: d.code.as_str(),
                    message: shorten(&d.message, MAX_MESSAGE),
                    help: d.help.as_deref().map(|h| shorten(h, MAX_HELP)),
                    accepted: d.accepted.as_deref().map(|h| shorten(h, MAX_HELP)),
                }
            })
            .collect()
    }
}

/// `s` cut in the middle to at most about `max` characters (a huge value quoted in a message).
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max / 2).collect();
    let tail: String = s.chars().skip(n - max / 2).collect();
    format!("{head} …({} characters)… {tail}", n - max)
}

/// Longest help text written to JSON (help texts list scenarios and fixes over several lines).
const MAX_HELP: usize = 4000;

/// At most this many findings are printed (the count line still counts them all).
pub const MAX_SHOWN: usize = 200;
/// No finding starts after this much text: a file that breaks in thousands of places prints a
/// screenful, not megabytes (the count line still counts them all).
pub const MAX_SHOWN_BYTES: usize = 16_000;
/// Longest message shown; longer ones (a huge value quoted in a message) are cut in the middle.
const MAX_MESSAGE: usize = 400;
/// Characters of a source line shown around the caret.
const WINDOW: usize = 120;

/// Unicode bidirectional controls (they can make a terminal show text in another order).
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A message made safe for a terminal: control and bidi characters escaped (a value quoted in a
/// message cannot move the cursor, change colours or reorder text), and cut to `max` characters.
fn clean(s: &str, max: usize) -> String {
    let mut out = String::new();
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        if n > max && i == max / 2 {
            out.push_str(&format!(" …({} characters)… ", n - max));
        }
        if n > max && i >= max / 2 && i < n - max / 2 {
            continue;
        }
        if c.is_control() || is_bidi(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Byte offsets where lines start, for line lookups in O(log n) (a file can have many findings).
/// The one line index of the crate: diagnostics and the span index of the site file use it.
#[derive(Debug, Default)]
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let mut v = vec![0];
        v.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(v)
    }

    /// 1-based line number and start offset of the line holding `offset`.
    pub fn line_of(&self, offset: usize) -> (usize, usize) {
        let i = self.0.partition_point(|&s| s <= offset).max(1) - 1;
        (i + 1, self.0[i])
    }

    /// 1-based line and column (in characters) of a byte offset into `source` (the text the
    /// index was built from).
    pub fn line_col(&self, source: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let (line, start) = self.line_of(offset);
        (line, source[start..offset].chars().count() + 1)
    }
}

/// 1-based line and column (in characters) of a byte offset into `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(source).line_col(source, offset)
}

/// Edit distance, for "did you mean …?" suggestions.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo (the first of
/// several equally close ones: [`suggest_all`] lists them all).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    suggest_all(word, candidates).into_iter().next()
}

/// Every candidate as close to `word` as the closest one, if close enough to be a plausible typo
/// (edit distance at most a third of the word, at least 2), compared without case; sorted, each
/// once.
pub fn suggest_all<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let word = word.to_lowercase();
    let scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return Vec::new();
    };
    let mut all: Vec<&str> = scored
        .into_iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, c)| c)
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// "did you mean `a`?", "did you mean `a` or `b`?", "did you mean `a`, `b` or `c`?"; `None`
/// for no candidate.
pub fn did_you_mean(candidates: &[&str]) -> Option<String> {
    let quoted: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    match quoted.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one}?")),
        [rest @ .., last] => Some(format!("did you mean {} or {last}?", rest.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let s = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        let off = s.find('=').unwrap();
        assert_eq!(line_col(s, off), (1, 3));
        let off = s.rfind('"').unwrap();
        assert_eq!(line_col(s, off), (2, 8));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("priorty_group", ["priority_group", "members"]),
            Some("priority_group")
        );
        assert_eq!(suggest("zzz", ["priority_group", "members"]), None);
        // Every equally close candidate, not one of them.
        assert_eq!(
            suggest_all("WEB04", ["WEB03", "WEB01", "WEB02", "SQL1"]),
            ["WEB01", "WEB02", "WEB03"]
        );
        assert_eq!(
            did_you_mean(&["WEB01", "WEB02", "WEB03"]).unwrap(),
            "did you mean `WEB01`, `WEB02` or `WEB03`?"
        );
        assert_eq!(did_you_mean(&["a"]).unwrap(), "did you mean `a`?");
    }

    #[test]
    fn long_lines_are_windowed_and_messages_cleaned() {
        let line = format!("x = \"{}\u{1b}[31m\"", "a".repeat(100_000));
        let src = format!("[site]\n{line}\n");
        let mut d = Diagnostics::new("site.toml", src.clone());
        let at = src.find("\u{1b}").unwrap();
        d.items.push(Diagnostic::error(
            Some(at..at + 1),
            format!("bad `{}` \u{202e}", "b".repeat(10_000)),
        ));
        let r = d.render();
        assert!(r.len() < 2_000, "{} bytes", r.len());
        assert!(!r.contains('\u{1b}') && !r.contains('\u{202e}'), "{r}");
        assert!(r.contains("--> site.toml:2:100006"), "{r}");
        // The caret still sits under the escape character (shown as `?`).
        let lines: Vec<&str> = r.lines().collect();
        let src_line = lines.iter().find(|l| l.starts_with("2 | ")).unwrap();
        let caret = lines
            .iter()
            .find(|l| l.trim_start().starts_with("| ") && l.contains('^'))
            .unwrap();
        let q = src_line.chars().position(|c| c == '?').unwrap();
        assert_eq!(caret.chars().position(|c| c == '^'), Some(q), "{r}");
    }

    /// Long findings stop at a screenful of text, and the count line still counts them all.
    #[test]
    fn long_findings_are_capped_by_size() {
        let src = format!("{}\n", "x".repeat(300)).repeat(300);
        let mut d = Diagnostics::new("site.toml", src);
        for i in 0..300 {
            d.items.push(
                Diagnostic::error(Some(i * 301..i * 301 + 300), "bad ".repeat(90))
                    .with_help("help ".repeat(60)),
            );
        }
        let r = d.render();
        let shown = r.lines().filter(|l| l.starts_with("error[")).count();
        assert!(shown < MAX_SHOWN && shown > 0, "{shown}");
        assert!(r.len() < MAX_SHOWN_BYTES + 2_000, "{}", r.len());
        assert!(
            r.contains(&format!("{} more finding(s) not shown", 300 - shown)),
            "{r}"
        );
        assert!(r.contains("has 300 errors"));
    }

    #[test]
    fn many_findings_are_capped() {
        let src = "x\n".repeat(1000);
        let mut d = Diagnostics::new("site.toml", src);
        for i in 0..1000 {
            d.items
                .push(Diagnostic::error(Some(i * 2..i * 2 + 1), "bad"));
        }
        let r = d.render();
        assert!(
            r.contains("800 more finding(s) not shown"),
            "{}",
            &r[r.len() - 200..]
        );
        assert!(r.contains("has 1000 errors"));
    }

    #[test]
    fn renders_caret_under_span() {
        let mut d = Diagnostics::new("site.toml", "[site]\nname = \"x y\"\n");
        d.items
            .push(Diagnostic::error(Some(14..19), "bad name").with_help("use letters"));
        let r = d.render();
        assert!(r.contains("--> site.toml:2:8"), "{r}");
        assert!(r.contains("2 | name = \"x y\""), "{r}");
        assert!(r.contains("  |        ^^^^^"), "{r}");
        assert!(r.contains("help: use letters"), "{r}");
    }
}
