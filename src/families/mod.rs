//! The families: each folder holds one thing the farm needs (its section of site.toml, what it
//! contributes to the [`Plan`], its templates under `templates/<family>/`). A family never
//! imports another family; the table below is the only place that knows them all.

pub mod f5;
pub mod kill;
pub mod maint;
pub mod recovery;
pub mod sql;

use crate::plan::Plan;
use crate::site::Site;

/// One family: its name and how it adds its part of the site to the plan.
pub struct Family {
    pub name: &'static str,
    pub contribute: fn(&Site, &mut Plan) -> Result<(), crate::Error>,
}

/// Every family, in contribution order (tasks and registry values keep this order).
pub const FAMILIES: &[Family] = &[
    Family {
        name: "kill",
        contribute: |s, p| kill::contribute(&s.farm, &s.kills, p),
    },
    Family {
        name: "sql",
        contribute: |s, p| sql::contribute(&s.farm, s.sql.as_ref(), p),
    },
    Family {
        name: "f5",
        contribute: |s, p| f5::contribute(&s.farm, s.f5.as_ref(), p),
    },
    Family {
        name: "maint",
        contribute: |s, p| maint::contribute(&s.farm, s.maintenance.as_ref(), p),
    },
    Family {
        name: "recovery",
        contribute: |s, p| recovery::contribute(&s.farm, &s.recovery, p),
    },
];
