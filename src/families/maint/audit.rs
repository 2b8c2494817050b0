//! What `sitebundle audit` expects of the Windows Server 2003 event trigger that
//! WUTriggerMaintMode.vbs keeps in place: one trigger of this name per 2003 server, running
//! MaintMode.vbs with the bucket's duration (`eventtriggers /query /fo csv /nh` lists its ID,
//! name and task; the collector writes that list).

use super::model::Maintenance;
use super::{CSCRIPT, MAINTMODE, duration_arg};
use crate::model::Farm;
use crate::plan::{Contribution, EventTrigger};

/// One expected trigger per bucket with 2003 servers.
pub fn contribute(site: &Farm, m: &Maintenance, plan: &mut Contribution) {
    for b in &m.buckets {
        let hosts: Vec<usize> = b
            .servers
            .iter()
            .copied()
            .filter(|&h| !site.server(h).os.has_task_scheduler2())
            .collect();
        if hosts.is_empty() {
            continue;
        }
        plan.audit.event_triggers.push(EventTrigger {
            name: m.trigger_name.clone(),
            task: format!(
                "\"{CSCRIPT}\" //nologo \"{}\" ON {}",
                site.script_path(MAINTMODE),
                duration_arg(b.duration_minutes)
            ),
            hosts,
        });
    }
}
