//! [`Plan::assemble`]: the contributions merged in order, then the facts that belong to no
//! family, computed once over every task and item.

use super::{Contribution, FamilyId, Plan, ServerPrerequisite};
use crate::model::Farm;

impl Plan {
    /// Merges the contributions in the order given (the families table's, then the analyses')
    /// and computes what the GPO carries. Two contributions claiming one path is an internal
    /// error.
    /// `previous`: what an older bundle put on the servers (its `inventory.json`), whose items
    /// this plan lacks leave through the GPO (`build --previous`); empty for a plain build.
    pub fn assemble(
        site: &Farm,
        contributions: Vec<(FamilyId, Contribution)>,
        previous: &[crate::check::Retired],
    ) -> Result<Plan, crate::Error> {
        let mut plan = Plan::default();
        for (_, c) in contributions {
            merge(&mut plan, c)?;
        }
        plan.gpo = super::gpo::plan(site, &plan, previous)?;
        if plan.gpo.is_some() {
            plan.server_prerequisites
                .extend(legacy_gpp_prerequisite(site));
        }
        Ok(plan)
    }
}

fn merge(plan: &mut Plan, c: Contribution) -> Result<(), crate::Error> {
    for (path, artifact) in c.files.files {
        plan.files.add(path, artifact)?;
    }
    plan.tasks.extend(c.tasks);
    plan.registry.extend(c.registry);
    plan.services.extend(c.services);
    plan.runbook.extend(c.runbook);
    plan.topology.extend(c.topology);
    plan.roles.extend(c.roles);
    plan.server_prerequisites.extend(c.server_prerequisites);
    plan.server_verifies.extend(c.server_verifies);
    plan.audit.extend(c.audit);
    plan.host_items.extend(c.host_items);
    Ok(())
}

/// Server 2003 applies preferences only with the Group Policy Preference client-side
/// extensions (Microsoft KB943729, "Information about new Group Policy preferences in Windows
/// Server 2008", which lists the CSE downloads for XP/2003/Vista; they need XmlLite, KB915865).
fn legacy_gpp_prerequisite(site: &Farm) -> Option<ServerPrerequisite> {
    let hosts: Vec<usize> = (0..site.servers.len())
        .filter(|&i| !site.server(i).os.has_task_scheduler2())
        .collect();
    (!hosts.is_empty()).then(|| ServerPrerequisite {
        hosts,
        feature: "gpo",
        text: "the Group Policy Preference client-side extensions (KB943729, with XmlLite KB915865): without them Server 2003 ignores the GPO's preference items".into(),
    })
}
