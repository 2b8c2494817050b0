//! What a family (or an emitter such as the GPO) adds to the runbook. Texts are Markdown rendered
//! from the contributor's own templates with the same escaping discipline as every template, so
//! the runbook inserts them as they are. A [`RunbookSlot`] places each piece among the others':
//! sections, checklist steps, prerequisites and "On each server" links follow the order of
//! deployment, which is the order of the enum's variants.

use serde::Serialize;

/// Where a piece goes in the runbook: the variants are in the order of deployment, and every
/// list of the runbook (sections, checklist steps, "Before you start", the links under "On each
/// server", the roles of a server) is sorted by it. Pieces of one slot keep their contribution
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunbookSlot {
    /// The SQL mirroring job, its installer and the partners' prerequisites.
    SqlJob,
    /// The front ends' logins on the SQL partners.
    SqlLogins,
    /// What to do when a mirroring partner is lost (forced service, resume).
    SqlPartnerLost,
    /// SharePoint and the SQL alias.
    SqlSharePoint,
    /// The BIG-IP.
    F5,
    /// The failover scenarios (after the BIG-IP they analyse).
    Scenarios,
    /// The runtime scripts on the servers.
    Scripts,
    /// The Group Policy object.
    Gpo,
    /// SharePoint's own steps, once the alias is on its servers.
    SharePoint,
    /// The process killer's tasks.
    Kill,
    /// Service recovery.
    Recovery,
    /// Maintenance mode around Windows Update restarts.
    Maintenance,
    /// "On each server": the per-server view, after every family's part.
    Servers,
    /// The drift audit and its collectors, last.
    Audit,
}

/// A `## …` section of the runbook.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Who contributed it (`sql`, `gpo`, …): names the section in tests and messages.
    pub id: String,
    pub slot: RunbookSlot,
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

/// One piece of a runbook list: a numbered step of "Order of deployment" (Markdown after `N. `,
/// continuation lines indented by three spaces), a bullet of "Before you start" (after `- `) or a
/// link under the checklist's "On each server" step (after `   - `).
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub slot: RunbookSlot,
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

/// Every runbook piece of one contributor (or, assembled, of all of them).
#[derive(Debug, Clone, Default)]
pub struct RunbookParts {
    pub sections: Vec<Section>,
    pub steps: Vec<Item>,
    pub prerequisites: Vec<Item>,
    pub server_checks: Vec<Item>,
}

impl RunbookParts {
    /// Renders blocks of a contributor's checklist template (`[% block NAME %]`, all with `view`)
    /// and adds each to its list of the runbook: `(block, part, slot)`.
    pub fn add_checklist_parts<V: Serialize>(
        &mut self,
        template: &str,
        view: &V,
        parts: &[(&str, Part, RunbookSlot)],
    ) -> Result<(), crate::Error> {
        for &(block, part, slot) in parts {
            let text = crate::render::render_block(template, block, view)?
                .trim_end()
                .to_string();
            let item = Item { slot, text };
            match part {
                Part::Step => self.steps.push(item),
                Part::Prerequisite => self.prerequisites.push(item),
                Part::ServerCheck => self.server_checks.push(item),
            }
        }
        Ok(())
    }

    /// Appends another contributor's pieces after these.
    pub fn extend(&mut self, other: RunbookParts) {
        self.sections.extend(other.sections);
        self.steps.extend(other.steps);
        self.prerequisites.extend(other.prerequisites);
        self.server_checks.extend(other.server_checks);
    }

    /// Every list sorted by slot (a stable sort: one slot keeps contribution order).
    pub fn sorted(&self) -> RunbookParts {
        let mut out = self.clone();
        out.sections.sort_by_key(|s| s.slot);
        out.steps.sort_by_key(|s| s.slot);
        out.prerequisites.sort_by_key(|s| s.slot);
        out.server_checks.sort_by_key(|s| s.slot);
        out
    }
}
