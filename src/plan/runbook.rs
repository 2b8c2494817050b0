//! What a family (or an emitter such as the GPO) adds to the runbook. Texts are Markdown rendered
//! from the contributor's own templates with the same escaping discipline as every template, so
//! the runbook inserts them as they are. `order` places each piece among the others': sections
//! and checklist steps follow the order of deployment.

use serde::Serialize;

/// A `## …` section of the runbook.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Who contributed it (`sql`, `gpo`, …): names the section in tests and messages.
    pub id: String,
    pub order: u32,
    /// Markdown starting with its `## ` heading.
    pub text: String,
}

impl Section {
    /// The heading's text (without `## `).
    pub fn heading(&self) -> &str {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("## "))
            .unwrap_or(&self.id)
    }
    /// The GitHub/GitLab anchor of the heading.
    pub fn anchor(&self) -> String {
        crate::render::anchor(self.heading())
    }
}

/// One numbered step of "Order of deployment": Markdown after `N. `, continuation lines indented
/// by three spaces.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistStep {
    pub order: u32,
    pub text: String,
}

/// One bullet of "Before you start" (Markdown after `- `).
#[derive(Debug, Clone, Serialize)]
pub struct Prerequisite {
    pub order: u32,
    pub text: String,
}

/// One link under the checklist's "On each server" step (Markdown after `   - `).
#[derive(Debug, Clone, Serialize)]
pub struct ServerCheck {
    pub order: u32,
    pub text: String,
}
