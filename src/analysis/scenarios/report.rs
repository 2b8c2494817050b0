//! Markdown: the runbook section, the topology page section and `sitebundle scenarios`.

use super::*;
use crate::families::f5::affinity::{OnSplit, TargetRef};
use crate::families::f5::model::F5;
use crate::plan::{Contribution, RunbookSlot, Section};
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
    /// What happens to the group's established connections (escaped with `escape::md`).
    live: String,
}

#[derive(serde::Serialize)]
struct ScenarioPageView {
    runbook: bool,
    has_f5: bool,
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    table: Vec<String>,
    table_omitted: bool,
    exhaustive: bool,
    /// Some rows stand for several choices of interchangeable members.
    grouped: bool,
    variables: usize,
    scenarios: usize,
    groups: Vec<GroupView>,
    has_sql: bool,
    alias: String,
    /// The switcher's path on the front ends, quoted for a command line.
    switcher_path: String,
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    sql_table: Vec<String>,
    partition: String,
    /// `/<tenant>/<application>`: where the AS3 declaration puts the pools.
    as3_folder: String,
    /// The node-level failover test: nodes to take down (each with the pools it serves and the
    /// name AS3 gives it), and the expected table (Markdown lines, every cell escaped with
    /// `escape::md` when built).
    test_nodes: Vec<NodeTestView>,
    test_table: Vec<String>,
    /// `tmsh delete sys connection` lines that move a group's live connections back after
    /// failback (addresses and ports only), one block per node address.
    failback: Vec<Vec<String>>,
    /// The longest monitor timeout of a group's pools (seconds), 0 without groups.
    max_timeout: u32,
}

/// One node of the failover test: its runbook block takes this node down and shows the pools it
/// is a member of, the next brings it back (one node per block: pasted, a block never takes two
/// nodes of a pool down at once).
#[derive(serde::Serialize)]
struct NodeTestView {
    name: String,
    /// The node AS3 creates for the same server with `shareNodes`: `/Common/<address>`.
    as3_node: String,
    pools: Vec<String>,
}

fn md(s: &str) -> Result<String, crate::Error> {
    crate::escape::md(s)
        .map_err(|e| crate::Error::internal(format!("scenario table cell {s:?}: {e}")))
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
    // The alias switcher's decisions: none with an availability group (the listener follows the
    // primary, the alias never changes).
    let switched = site.sql.as_ref().filter(|s| s.ag.is_none());
    if f5.is_none() && switched.is_none() {
        return Ok(None);
    }
    let t = from_site(site);
    let mut page = PageTable {
        lines: Vec::new(),
        exhaustive: true,
        grouped: false,
        variables: 0,
        scenarios: 0,
        omitted: false,
    };
    if f5.is_some() {
        page = page_table(&t, whole)?;
    }
    let groups = match f5 {
        Some(f5) => group_views(site, f5, &t)?,
        None => Vec::new(),
    };
    let node_test = match f5 {
        Some(_) => node_test(&t)?,
        None => NodeTest {
            nodes: Vec::new(),
            lines: Vec::new(),
        },
    };
    let mut sql_lines = Vec::new();
    let mut alias = String::new();
    if let Some(sql) = switched {
        sql_lines = sql_lines_of(site, sql)?;
        alias = sql.alias.clone();
    }
    Ok(Some(ScenarioPageView {
        runbook,
        has_f5: f5.is_some(),
        table: page.lines,
        table_omitted: page.omitted,
        exhaustive: page.exhaustive,
        grouped: page.grouped,
        variables: page.variables,
        scenarios: page.scenarios,
        groups,
        has_sql: switched.is_some(),
        alias,
        switcher_path: crate::escape::win_arg(
            &site.farm.script_path(crate::families::sql::SWITCHER),
        )
        .map_err(|e| crate::Error::internal(format!("the switcher's path: {e}")))?,
        sql_table: sql_lines,
        partition: f5.map(|f| f.partition.clone()).unwrap_or_default(),
        as3_folder: f5
            .map(|f| format!("/{}/{}", f.as3_tenant, crate::families::f5::AS3_APP))
            .unwrap_or_default(),
        test_nodes: f5
            .map(|f| node_test_views(site, f, &node_test.nodes))
            .unwrap_or_default(),
        test_table: node_test.lines,
        failback: f5.map(|f| failback_lines(f, &t)).unwrap_or_default(),
        max_timeout: f5.map(group_timeout).unwrap_or(0),
    }))
}

/// The node-level failover test of the runbook: for every node that serves an affinity group's
/// traffic (every target's when the site has no group) with everything up, what serves each of
/// those targets while that node is `user-down` (all its checks down at once: a node's state
/// applies to every pool member on it).
struct NodeTest {
    nodes: Vec<String>,
    lines: Vec<String>,
}

fn node_test(t: &Topology) -> Result<NodeTest, crate::Error> {
    let mut labels: Vec<&String> = t.affinities.iter().flat_map(|a| &a.targets).collect();
    if labels.is_empty() {
        labels = t.targets.iter().map(|x| &x.label).collect();
    }
    let mut seen = std::collections::BTreeSet::new();
    labels.retain(|l| seen.insert(*l));
    // Indexed once: a linear search per label made this quadratic in the site's size.
    let pools: std::collections::HashMap<&str, _> =
        t.pools.iter().map(|p| (p.name.as_str(), p)).collect();
    let targets: std::collections::HashMap<&str, &str> = (t.targets.iter())
        .map(|x| (x.label.as_str(), x.pool.as_str()))
        .collect();
    let pool_of = |label: &str| targets.get(label).and_then(|p| pools.get(p).copied());
    let serve = |label: &str, s: &Scenario| {
        pool_of(label)
            .map(|p| serving(p, s))
            .filter(|n| !n.is_empty())
            .map_or("—".to_string(), |n| n.join(", "))
    };
    let all_up = Scenario::all_up();
    let mut nodes: Vec<String> = labels
        .iter()
        .filter_map(|l| pool_of(l))
        .flat_map(|p| serving(p, &all_up))
        .collect();
    nodes.sort();
    nodes.dedup();
    if nodes.len() + 2 > PAGE_MAX_COLUMNS || labels.len() > PAGE_MAX_ROWS {
        // Like the scenario table: too large for the page (and labels × nodes cells to compute).
        // The blocks of every node would be most of the runbook (two pairs of blocks per node:
        // ~4.7 MB at 10,000 servers, issue 30): the page shows the test on the first node, the
        // same for every other.
        let total = nodes.len();
        nodes.truncate(1);
        let line = format!(
            "({} nodes and {} targets: too many for this page; `sitebundle scenarios` prints the \
             table of every single failure. The blocks below show the test on the first node, `{}`: \
             run the same for each node, one at a time.)",
            total,
            labels.len(),
            nodes.first().map(String::as_str).unwrap_or("—")
        );
        return Ok(NodeTest {
            nodes,
            lines: vec![line],
        });
    }
    let vars = variables(t);
    let down = |node: &str| Scenario {
        down: vars.iter().filter(|(n, _)| n == node).cloned().collect(),
    };
    let mut header = vec!["target".to_string(), "everything up".to_string()];
    header.extend(nodes.iter().map(|n| format!("{n} user-down")));
    let rows: Vec<Vec<String>> = labels
        .iter()
        .map(|l| {
            let mut row = vec![l.to_string(), serve(l, &all_up)];
            row.extend(nodes.iter().map(|n| serve(l, &down(n))));
            row
        })
        .collect();
    let lines = if labels.is_empty() {
        Vec::new()
    } else {
        md_table(&header, &rows)?
    };
    Ok(NodeTest { nodes, lines })
}

/// The failover test's nodes with the pools each is a member of (in the site's pool order) and the
/// node name AS3 gives the same server (`/Common/<address>`, AS3 `shareNodes`).
fn node_test_views(site: &Site, f5: &F5, nodes: &[String]) -> Vec<NodeTestView> {
    // Indexed once: node → pools (a search per node was quadratic on a large site).
    let mut pools_of: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for p in &f5.pools {
        let mut seen = std::collections::BTreeSet::new();
        for m in p.members.iter().filter(|m| seen.insert(m.server)) {
            let name = site.farm.server(m.server).name.as_str();
            pools_of.entry(name).or_default().push(p.name.clone());
        }
    }
    let address: std::collections::HashMap<&str, String> = (site.farm.servers.iter())
        .filter_map(|s| Some((s.name.as_str(), s.address?.to_string())))
        .collect();
    nodes
        .iter()
        .map(|n| NodeTestView {
            name: n.clone(),
            as3_node: format!(
                "/Common/{}",
                address.get(n.as_str()).cloned().unwrap_or_default()
            ),
            pools: pools_of.get(n.as_str()).cloned().unwrap_or_default(),
        })
        .collect()
}

/// After failback no member is down, so `service-down-action` does not act and long-lived
/// connections stay where they are: one `tmsh delete sys connection` per member of a group's pools
/// that does not serve with everything up (F5 tmsh reference, `sys connection`: delete by
/// server-side address and port), grouped by node address (one runbook block per node).
fn failback_lines(f5: &F5, t: &Topology) -> Vec<Vec<String>> {
    let all_up = Scenario::all_up();
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for a in &f5.affinities {
        for target in &a.targets {
            let pool = match *target {
                TargetRef::Virtual(v) => f5.virtuals[v].pool,
                TargetRef::Route(v, r) => f5.virtuals[v].routes[r].pool,
                TargetRef::Pool(p) => p,
            };
            let p = &f5.pools[pool];
            let Some(tp) = t.pools.iter().find(|x| x.name == p.name) else {
                continue;
            };
            let preferred = serving(tp, &all_up);
            // The topology lists a pool's members in the same order as the site's pool.
            for (m, tm) in p.members.iter().zip(&tp.members) {
                if !preferred.contains(&tm.node) {
                    let addr = crate::escape::ip_addr(&m.address.to_string()).unwrap_or_default();
                    out.entry(addr.clone()).or_default().insert(format!(
                        "tmsh delete sys connection ss-server-addr {addr} ss-server-port {}",
                        m.port
                    ));
                }
            }
        }
    }
    out.into_values().map(|v| v.into_iter().collect()).collect()
}

/// The longest monitor timeout of the site's pools when it has affinity groups (how far apart, at
/// most, two pools can mark a failed node down), else 0.
fn group_timeout(f5: &F5) -> u32 {
    f5.pools
        .iter()
        .flat_map(|p| &p.monitors)
        .map(|m| match m {
            crate::families::f5::model::MonitorRef::Defined(i) => f5.monitors[*i].timeout,
            // Built-in monitors: 16 s (tmsh `ltm monitor http|tcp` default timeout).
            crate::families::f5::model::MonitorRef::Builtin(_) => 16,
        })
        .max()
        .filter(|_| !f5.affinities.is_empty())
        .unwrap_or(0)
}

/// The scenario table of a page (omitted when too large for it, unless `whole`).
struct PageTable {
    /// Markdown table lines, every cell escaped with `escape::md` when built.
    lines: Vec<String>,
    exhaustive: bool,
    grouped: bool,
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
            grouped: false,
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
        grouped: tb.grouped,
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
fn group_views(site: &Site, f5: &F5, t: &Topology) -> Result<Vec<GroupView>, crate::Error> {
    let mut groups = Vec::new();
    for (i, (a, ta)) in f5.affinities.iter().zip(&t.affinities).enumerate() {
        let verdict = verdict_text(site.verdict(i), a.on_split);
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
            live: md(&live_text(f5, a))?,
        });
    }
    Ok(groups)
}

/// What the page says of a group's established connections: which of its pools reset them when a
/// member fails, which HTTP virtual servers balance every request (OneConnect), and failback.
fn live_text(f5: &F5, a: &crate::families::f5::affinity::Affinity) -> String {
    use crate::families::f5::model::ServiceDownAction;
    let mut pools = std::collections::BTreeSet::new();
    let mut http = std::collections::BTreeSet::new();
    for t in &a.targets {
        let (pool, v) = match *t {
            TargetRef::Virtual(v) => (f5.virtuals[v].pool, Some(v)),
            TargetRef::Route(v, r) => (f5.virtuals[v].routes[r].pool, Some(v)),
            TargetRef::Pool(p) => (p, None),
        };
        pools.insert(pool);
        http.extend(v.filter(|&v| f5.virtuals[v].protocol.is_http()));
    }
    let kept: Vec<&str> = pools
        .iter()
        .map(|&p| &f5.pools[p])
        .filter(|p| p.service_down_action == ServiceDownAction::None)
        .map(|p| p.name.as_str())
        .collect();
    let sticky: Vec<&str> = http
        .iter()
        .map(|&v| &f5.virtuals[v])
        .filter(|v| !v.oneconnect)
        .map(|v| v.name.as_str())
        .collect();
    let mut parts = Vec::new();
    if kept.is_empty() {
        parts.push("on failover its pools reset the connections of a failed member, so clients reconnect to the node the group moves to".to_string());
    } else {
        parts.push(format!(
            "on failover pools {} keep their live connections on the failed node",
            kept.join(", ")
        ));
    }
    if !sticky.is_empty() {
        parts.push(format!("HTTP virtual servers {} keep a keep-alive connection on its first node (no OneConnect)", sticky.join(", ")));
    }
    parts.push("after failback long-lived connections stay on the fallback node until they close (the runbook's failover test moves them)".into());
    parts.join("; ")
}

/// What the page says of a group's check.
fn verdict_text(
    verdict: Option<&crate::families::f5::affinity::Verdict>,
    on_split: OnSplit,
) -> String {
    match verdict {
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
            match on_split {
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

/// Adds the scenario tables to the runbook (after F5) and under the topology picture.
pub fn contribute(site: &Site) -> Result<Contribution, crate::Error> {
    let mut plan = Contribution::default();
    if let Some(text) = runbook(site)? {
        plan.runbook.sections.push(Section {
            id: "scenarios".into(),
            slot: RunbookSlot::Scenarios,
            text,
        });
    }
    plan.topology.appendix = topology_section(site)?;
    Ok(plan)
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
