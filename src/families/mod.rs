//! The families: each folder holds one thing the farm needs (its section of site.toml, what it
//! contributes to the [`Plan`], its templates under `templates/<family>/`). A family never
//! imports another family; the table below is the only place that knows them all.

pub mod f5;
pub mod kill;
pub mod maint;
pub mod recovery;
pub mod sharepoint;
pub mod sql;

use crate::plan::{Contribution, FamilyId, TaskSpec};
use crate::site::Site;

/// One family: who it is, its part of the plan for a site, and the scheduled tasks of that part
/// (the same `TaskSpec`s its contribution holds, without rendering anything: the facts the plan
/// computes over every task, such as the GPO's legacy item limits, are checked from them when a
/// site is validated).
pub struct Family {
    pub id: FamilyId,
    pub contribute: fn(&Site) -> Result<Contribution, crate::Error>,
    pub tasks: fn(&Site) -> Result<Vec<TaskSpec>, crate::Error>,
}

/// A family without scheduled tasks.
fn no_tasks(_: &Site) -> Result<Vec<TaskSpec>, crate::Error> {
    Ok(Vec::new())
}

/// Every family, in contribution order (tasks and registry values keep this order).
pub const FAMILIES: &[Family] = &[
    Family {
        id: FamilyId::Kill,
        contribute: |s| kill::contribute(&s.farm, &s.kills),
        tasks: |s| kill::task_specs(&s.farm, &s.kills),
    },
    Family {
        id: FamilyId::Sql,
        contribute: |s| sql::contribute(&s.farm, s.sql.as_ref(), s.sharepoint.is_none()),
        tasks: |s| match &s.sql {
            // An availability group has no alias switcher: the listener follows the primary.
            Some(sql) if sql.ag.is_none() => Ok(vec![sql::switcher_task(&s.farm, sql)?]),
            _ => Ok(Vec::new()),
        },
    },
    Family {
        id: FamilyId::F5,
        contribute: |s| f5::contribute(&s.farm, s.f5.as_ref()),
        tasks: no_tasks,
    },
    Family {
        id: FamilyId::Maintenance,
        contribute: |s| maint::contribute(&s.farm, s.maintenance.as_ref()),
        tasks: |s| match &s.maintenance {
            Some(m) => maint::task_specs(&s.farm, m),
            None => Ok(Vec::new()),
        },
    },
    Family {
        id: FamilyId::Recovery,
        contribute: |s| recovery::contribute(&s.farm, &s.recovery),
        tasks: no_tasks,
    },
    Family {
        id: FamilyId::SharePoint,
        contribute: |s| {
            let sql = s
                .sql
                .as_ref()
                .map(|q| sharepoint::SqlFacts { alias: &q.alias });
            sharepoint::contribute(&s.farm, s.sharepoint.as_ref(), sql)
        },
        tasks: no_tasks,
    },
];
