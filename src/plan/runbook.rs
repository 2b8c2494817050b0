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

/// Which list of the runbook a contributed block goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A numbered step of "Order of deployment".
    Step,
    /// A bullet of "Before you start".
    Prerequisite,
    /// A link under the checklist's "On each server" step.
    ServerCheck,
}

impl super::Plan {
    /// Renders blocks of a contributor's checklist template (`[% block NAME %]`, all with `view`)
    /// and adds each to its list of the runbook: `(block, part, order)`.
    pub fn add_checklist_parts<V: Serialize>(
        &mut self,
        template: &str,
        view: &V,
        parts: &[(&str, Part, u32)],
    ) -> Result<(), crate::Error> {
        for &(block, part, order) in parts {
            let text = crate::render::render_block(template, block, view)?
                .trim_end()
                .to_string();
            match part {
                Part::Step => self.steps.push(ChecklistStep { order, text }),
                Part::Prerequisite => self.prerequisites.push(Prerequisite { order, text }),
                Part::ServerCheck => self.server_checks.push(ServerCheck { order, text }),
            }
        }
        Ok(())
    }
}
