//! Markdown: the runbook section, the topology page section and `sitebundle scenarios`.

use super::*;
use crate::families::f5::affinity::OnSplit;
use crate::families::f5::model::F5;
use crate::plan::{Plan, Section};
use crate::site::Site;

/// Above this many columns or rows the bundle's pages point at `sitebundle scenarios` instead.
const PAGE_MAX_COLUMNS: usize = 16;
const PAGE_MAX_ROWS: usize = 64;

#[derive(serde::Serialize)]
struct GroupView {
    name: String,
    description: String,
    targets: String,
    verdict: String,
}

#[derive(serde::Serialize)]
struct ScenarioPageView {
    runbook: bool,
    has_f5: bool,
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    table: Vec<String>,
    table_omitted: bool,
    exhaustive: bool,
    variables: usize,
    scenarios: usize,
    groups: Vec<GroupView>,
    has_sql: bool,
    alias: String,
    /// The switcher's path on the front ends, quoted for a command line.
    switcher_path: String,
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    sql_table: Vec<String>,
    pools: Vec<String>,
    partition: String,
}

fn md(s: &str) -> Result<String, crate::Error> {
    crate::escape::md(s)
        .map_err(|e| crate::Error::Internal(format!("scenario table cell {s:?}: {e}")))
}

fn md_table(header: &[String], rows: &[Vec<String>]) -> Result<Vec<String>, crate::Error> {
    let mut out = Vec::new();
    let h: Vec<String> = header.iter().map(|c| md(c)).collect::<Result<_, _>>()?;
    out.push(format!("| {} |", h.join(" | ")));
    out.push(format!("|{}", "---|".repeat(header.len())));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| md(c)).collect::<Result<_, _>>()?;
        out.push(format!("| {} |", cells.join(" | ")));
    }
    Ok(out)
}

fn doc_ctx(
    site: &Site,
    runbook: bool,
    whole: bool,
) -> Result<Option<ScenarioPageView>, crate::Error> {
    let f5 = site.f5.as_ref().filter(|f| !f.pools.is_empty());
    if f5.is_none() && site.sql.is_none() {
        return Ok(None);
    }
    let t = from_site(site);
    let mut page = PageTable {
        lines: Vec::new(),
        exhaustive: true,
        variables: 0,
        scenarios: 0,
        omitted: false,
    };
    if f5.is_some() {
        page = page_table(&t, whole)?;
    }
    let groups = match f5 {
        Some(f5) => group_views(f5, &t)?,
        None => Vec::new(),
    };
    let mut sql_lines = Vec::new();
    let mut alias = String::new();
    if let Some(sql) = &site.sql {
        sql_lines = sql_lines_of(site, sql)?;
        alias = sql.alias.clone();
    }
    Ok(Some(ScenarioPageView {
        runbook,
        has_f5: f5.is_some(),
        table: page.lines,
        table_omitted: page.omitted,
        exhaustive: page.exhaustive,
        variables: page.variables,
        scenarios: page.scenarios,
        groups,
        has_sql: site.sql.is_some(),
        alias,
        switcher_path: crate::escape::win_arg(
            &site.farm.script_path(crate::families::sql::SWITCHER),
        )
        .map_err(|e| crate::Error::Internal(format!("the switcher's path: {e}")))?,
        sql_table: sql_lines,
        pools: f5
            .map(|f| f.pools.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default(),
        partition: f5.map(|f| f.partition.clone()).unwrap_or_default(),
    }))
}

/// The scenario table of a page (omitted when too large for it, unless `whole`).
struct PageTable {
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    lines: Vec<String>,
    exhaustive: bool,
    variables: usize,
    scenarios: usize,
    omitted: bool,
}

fn page_table(t: &Topology, whole: bool) -> Result<PageTable, crate::Error> {
    let too_big = |tb: &Table| {
        !whole && (tb.header.len() > PAGE_MAX_COLUMNS || tb.rows.len() > PAGE_MAX_ROWS)
    };
    let columns = t.targets.len() + t.affinities.len();
    // Too wide for a page whatever the rows: do not enumerate at all (a large site has
    // thousands of health checks); `sitebundle scenarios` prints the whole table.
    let mut tb = if !whole && columns > PAGE_MAX_COLUMNS {
        Table {
            header: vec![String::new(); columns],
            rows: Vec::new(),
            exhaustive: false,
            variables: super::engine::variables(t).len(),
            scenarios: 0,
        }
    } else {
        table(t)
    };
    if too_big(&tb) && tb.exhaustive {
        // Single failures only: one row per check at most.
        tb = table_bounded(t, 0);
    }
    let mut page = PageTable {
        lines: Vec::new(),
        exhaustive: tb.exhaustive,
        variables: tb.variables,
        scenarios: tb.scenarios,
        omitted: false,
    };
    if too_big(&tb) {
        page.omitted = true;
    } else {
        let mut header = vec!["health".to_string()];
        header.extend(tb.header.iter().cloned());
        let rows: Vec<Vec<String>> = tb
            .rows
            .iter()
            .map(|(l, c)| {
                std::iter::once(l.clone())
                    .chain(c.iter().cloned())
                    .collect()
            })
            .collect();
        page.lines = md_table(&header, &rows)?;
    }
    Ok(page)
}

/// The affinity groups of the page, with their verdicts.
fn group_views(f5: &F5, t: &Topology) -> Result<Vec<GroupView>, crate::Error> {
    let mut groups = Vec::new();
    for (a, ta) in f5.affinities.iter().zip(&t.affinities) {
        let verdict = verdict_text(a);
        groups.push(GroupView {
            name: md(&a.name)?,
            description: md(&a.description)?,
            targets: ta
                .targets
                .iter()
                .map(|x| md(x))
                .collect::<Result<Vec<_>, _>>()?
                .join(", "),
            verdict: md(&verdict)?,
        });
    }
    Ok(groups)
}

/// What the page says of a group's check.
fn verdict_text(a: &crate::families::f5::affinity::Affinity) -> String {
    match &a.verdict {
        Some(v) if v.proved => format!(
            "always served by a single node (every combination of its {} health checks, proved without enumerating them: its pools are identical and pick one node)",
            v.variables
        ),
        Some(v) if v.findings == 0 => format!(
            "always served by a single node ({} of {} combinations of its {} health checks{})",
            v.scenarios,
            v.scenarios,
            v.variables,
            if v.exhaustive {
                ", exhaustive"
            } else {
                ", not exhaustive"
            }
        ),
        Some(v) => format!(
            "SPLITS or is partly served in {} of {} combinations of its {} health checks ({})",
            v.findings,
            v.scenarios,
            v.variables,
            match a.on_split {
                OnSplit::Warning => "accepted with on_split = \"warning\"",
                OnSplit::Error => "an error: on_split = \"error\"",
            }
        ),
        None => "not checked".into(),
    }
}

/// The SQL alias switcher's decision table, as Markdown lines.
fn sql_lines_of(
    site: &Site,
    sql: &crate::families::sql::model::Sql,
) -> Result<Vec<String>, crate::Error> {
    let names: Vec<String> = sql
        .partners
        .iter()
        .map(|p| site.farm.server(p.server).name.clone())
        .collect();
    let (h, rows) = sql_table(&names);
    let mut header = vec!["principal".to_string(), "answers the front end".to_string()];
    header.extend(h);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            [r.principal, r.answering]
                .into_iter()
                .chain(r.cells)
                .collect()
        })
        .collect();
    md_table(&header, &rows)
}

/// Where the scenario section goes in the runbook: after the F5 section.
const SECTION_ORDER: u32 = 30;

/// Adds the scenario tables to the runbook (after F5) and under the topology picture.
pub fn contribute(site: &Site, plan: &mut Plan) -> Result<(), crate::Error> {
    if let Some(text) = runbook(site)? {
        plan.sections.push(Section {
            id: "scenarios".into(),
            order: SECTION_ORDER,
            text,
        });
    }
    plan.topology.appendix = topology_section(site)?;
    Ok(())
}

/// The runbook section (`templates/scenarios/scenarios.md`), after the F5 section.
pub fn runbook(site: &Site) -> Result<Option<String>, crate::Error> {
    match doc_ctx(site, true, false)? {
        Some(ctx) => crate::render::render("scenarios/scenarios.md", &ctx).map(Some),
        None => Ok(None),
    }
}

/// The failover-scenario section of the topology page (Markdown), or `None` when the site has no
/// load-balanced pools and no SQL pair. Integration point between the topology page and the
/// scenario model.
pub fn topology_section(site: &Site) -> Result<Option<String>, crate::Error> {
    match doc_ctx(site, false, false)? {
        Some(ctx) => crate::render::render("scenarios/scenarios.md", &ctx).map(Some),
        None => Ok(None),
    }
}

/// What `sitebundle scenarios` prints: the same section with the whole table, however large.
pub fn report_text(site: &Site) -> Result<String, crate::Error> {
    match doc_ctx(site, false, true)? {
        Some(ctx) => crate::render::render("scenarios/scenarios.md", &ctx),
        None => Ok("The site has no [f5] pools and no [sql] pair: no failover scenarios.\n".into()),
    }
}
