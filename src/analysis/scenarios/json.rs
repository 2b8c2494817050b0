//! `sitebundle scenarios --format json`: the same tables as the text output, as data
//! (docs/json-output.md, docs/schemas/scenarios.schema.json). Cells are plain text (no Markdown).

use serde::Serialize;

use super::*;
use crate::families::f5::affinity::OnSplit;
use crate::site::Site;

/// Keys of the scenarios document.
#[derive(Debug, Serialize)]
pub struct ScenarioReport {
    /// The BIG-IP table, `None` when the site has no `[f5]` pools.
    pub f5: Option<F5Scenarios>,
    /// The SQL alias switcher's decisions, `None` without `[sql]`.
    pub sql: Option<SqlScenarios>,
}

#[derive(Debug, Serialize)]
pub struct F5Scenarios {
    /// Health checks (node × monitor and port) the table varies.
    pub checks: usize,
    pub scenarios: usize,
    /// Every combination of the checks (else: every single failure).
    pub exhaustive: bool,
    /// One column per virtual server, route and affinity group.
    pub columns: Vec<String>,
    pub rows: Vec<F5Row>,
    pub affinity: Vec<AffinityVerdict>,
}

#[derive(Debug, Serialize)]
pub struct F5Row {
    /// The simplest combination of failed checks that gives this row ("all up", …).
    pub health: String,
    /// Who serves each column ("—" for nobody), in the order of `columns`.
    pub cells: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AffinityVerdict {
    pub name: String,
    pub targets: Vec<String>,
    /// `error` or `warning`: what a split is, as the group's `on_split` says.
    pub on_split: &'static str,
    /// Health checks the group depends on.
    pub checks: usize,
    pub scenarios: usize,
    pub exhaustive: bool,
    /// Settled by proof (identical pools) rather than by enumeration.
    pub proved: bool,
    /// Scenarios in which the group splits, spreads or is only partly served (0: always one node).
    pub findings: usize,
}

#[derive(Debug, Serialize)]
pub struct SqlScenarios {
    pub alias: String,
    pub partners: Vec<String>,
    /// One column per state of the alias before the run: each partner, then no alias.
    pub columns: Vec<String>,
    pub rows: Vec<SqlDecision>,
}

#[derive(Debug, Serialize)]
pub struct SqlDecision {
    pub principal: String,
    /// Partners that answer the front end.
    pub answering: String,
    /// What the switcher does, per column.
    pub cells: Vec<String>,
}

/// The scenario tables of a site (the whole table, however large, as `sitebundle scenarios`).
pub fn report_json(site: &Site) -> ScenarioReport {
    let f5 = site.f5.as_ref().filter(|f| !f.pools.is_empty());
    let t = from_site(site);
    ScenarioReport {
        f5: f5.map(|f5| f5_scenarios(site, f5, &t)),
        sql: site
            .sql
            .as_ref()
            .filter(|sql| sql.ag.is_none())
            .map(|sql| sql_scenarios(site, sql)),
    }
}

fn f5_scenarios(site: &Site, f5: &crate::families::f5::model::F5, t: &Topology) -> F5Scenarios {
    let tb = table(t);
    let affinity = f5
        .affinities
        .iter()
        .zip(&t.affinities)
        .enumerate()
        .map(|(i, (a, ta))| {
            let v = site.verdict(i);
            AffinityVerdict {
                name: a.name.clone(),
                targets: ta.targets.clone(),
                on_split: match a.on_split {
                    OnSplit::Error => "error",
                    OnSplit::Warning => "warning",
                },
                checks: v.map_or(0, |v| v.variables),
                scenarios: v.map_or(0, |v| v.scenarios),
                exhaustive: v.is_some_and(|v| v.exhaustive),
                proved: v.is_some_and(|v| v.proved),
                findings: v.map_or(0, |v| v.findings),
            }
        })
        .collect();
    F5Scenarios {
        checks: tb.variables,
        scenarios: tb.scenarios,
        exhaustive: tb.exhaustive,
        columns: tb.header,
        rows: tb
            .rows
            .into_iter()
            .map(|(health, cells)| F5Row { health, cells })
            .collect(),
        affinity,
    }
}

fn sql_scenarios(site: &Site, sql: &crate::families::sql::model::Sql) -> SqlScenarios {
    let partners: Vec<String> = sql
        .partners
        .iter()
        .map(|p| site.farm.server(p.server).name.clone())
        .collect();
    let (columns, rows) = sql_table(&partners);
    SqlScenarios {
        alias: sql.alias.clone(),
        partners,
        columns,
        rows: rows
            .into_iter()
            .map(|r| SqlDecision {
                principal: r.principal,
                answering: r.answering,
                cells: r.cells,
            })
            .collect(),
    }
}
