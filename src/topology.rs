//! The site as a picture: `topology.md` (Mermaid, rendered by GitHub and GitLab) and `topology.svg`
//! (drawn here, no external renderer).
//!
//! One graph feeds both: virtual servers → pools (default pool and path routes) → servers (edge per
//! pool member, labelled with port and priority group) → the SQL client alias → the two mirroring
//! partners. Each server node lists what runs on it (process killer, maintenance mode, alias
//! switcher). The SVG layout is layered and deterministic: one column per kind, nodes in model
//! order, integer coordinates.

use serde::Serialize;

use crate::bundle::{Artifact, Bundle, Encoding, Eol};
use crate::model::Site;

/// What a node stands for; also its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Virtual,
    Pool,
    Server,
    Alias,
    Partner,
}

impl Kind {
    fn column(self) -> usize {
        match self {
            Kind::Virtual => 0,
            Kind::Pool => 1,
            Kind::Server => 2,
            Kind::Alias => 3,
            Kind::Partner => 4,
        }
    }
    fn title(self) -> &'static str {
        match self {
            Kind::Virtual => "Virtual servers (F5)",
            Kind::Pool => "Pools",
            Kind::Server => "Servers",
            Kind::Alias => "SQL client alias",
            Kind::Partner => "SQL mirroring partners",
        }
    }
}

/// One box. `id` is derived from the kind and position only, so it is always a safe identifier.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: Kind,
    /// The object's name (first line of the label).
    pub name: String,
    /// Further label lines.
    pub details: Vec<String>,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    /// Whether the SVG prints the label (pool member labels repeat the pool box's member lines and
    /// would pile up where the edges converge).
    pub show_label: bool,
    /// Dashed in the pictures (a route, the alias's standby partner).
    pub dashed: bool,
    /// SVG path and label position.
    pub path: String,
    pub lx: i64,
    pub ly: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub x: i64,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub columns: Vec<Column>,
    pub edges: Vec<Edge>,
    pub width: i64,
    pub height: i64,
}

impl Graph {
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.columns.iter().flat_map(|c| c.nodes.iter())
    }
}

const CHAR_W: i64 = 8; // monospace 12px is about 7.2 px a character: keep a margin
const LINE_H: i64 = 16;
const PAD: i64 = 8;
const GAP_X: i64 = 140;
const GAP_Y: i64 = 20;
const TOP: i64 = 50;
const MARGIN: i64 = 20;

fn text_width(s: &str) -> i64 {
    s.chars().count() as i64 * CHAR_W
}

/// Builds the graph (with its layout) of a site.
pub fn graph(site: &Site) -> Graph {
    let mut nodes: Vec<Node> = Vec::new();
    let mut edges: Vec<(String, String, String, bool)> = Vec::new();
    let mut node = |kind: Kind, id: String, name: String, details: Vec<String>| {
        nodes.push(Node {
            id,
            kind,
            name,
            details,
            x: 0,
            y: 0,
            w: 0,
            h: 0,
        });
    };
    let partners: Vec<usize> = site
        .sql
        .as_ref()
        .map(|s| s.partners.iter().map(|p| p.server).collect())
        .unwrap_or_default();
    if let Some(f5) = &site.f5 {
        for (i, v) in f5.virtuals.iter().enumerate() {
            let addr = match v.address {
                std::net::IpAddr::V6(a) => format!("[{a}]:{}", v.port),
                a => format!("{a}:{}", v.port),
            };
            node(
                Kind::Virtual,
                format!("vs{}", i + 1),
                v.name.clone(),
                vec![format!("{addr} {:?}", v.protocol).to_lowercase()],
            );
            edges.push((
                format!("vs{}", i + 1),
                format!("pool{}", v.pool + 1),
                "default".into(),
                false,
            ));
            for r in &v.routes {
                edges.push((
                    format!("vs{}", i + 1),
                    format!("pool{}", r.pool + 1),
                    format!("path {}", r.prefix),
                    true,
                ));
            }
        }
        for (i, p) in f5.pools.iter().enumerate() {
            let mut details = Vec::new();
            if p.min_active_members > 0 {
                details.push(format!(
                    "priority groups, min active {}",
                    p.min_active_members
                ));
            }
            // Members by priority group: the preferred (highest) group first.
            let mut members: Vec<_> = p.members.iter().collect();
            members.sort_by_key(|m| std::cmp::Reverse(m.priority_group));
            for m in &members {
                details.push(format!(
                    "{}:{} group {}",
                    site.server(m.server).name,
                    m.port,
                    m.priority_group
                ));
            }
            node(
                Kind::Pool,
                format!("pool{}", i + 1),
                p.name.clone(),
                details,
            );
            for m in members {
                edges.push((
                    format!("pool{}", i + 1),
                    format!("srv{}", m.server + 1),
                    format!("port {}, group {}", m.port, m.priority_group),
                    false,
                ));
            }
        }
    }
    for (i, s) in site.servers.iter().enumerate() {
        let mut details = vec![match s.address {
            Some(a) => format!("{}, {a}", s.os.label()),
            None => s.os.label().to_string(),
        }];
        let kills: Vec<&str> = site
            .kills
            .iter()
            .filter(|k| k.servers.contains(&i))
            .map(|k| k.image.as_str())
            .collect();
        if !kills.is_empty() {
            details.push(format!("kills {}", kills.join(", ")));
        }
        if let Some(m) = &site.maintenance
            && let Some(b) = m.buckets.iter().find(|b| b.servers.contains(&i))
        {
            details.push(format!(
                "maintenance mode {} min after Windows Update",
                b.duration_minutes
            ));
        }
        let kind = if let Some(pos) = partners.iter().position(|&p| p == i) {
            let sql = site.sql.as_ref().expect("partners come from [sql]");
            details.push(format!("SQL partner: {}", sql.partners[pos].target()));
            Kind::Partner
        } else {
            Kind::Server
        };
        if let Some(sql) = &site.sql
            && sql.switcher.servers.contains(&i)
        {
            details.push(format!(
                "alias switcher every {} min",
                sql.switcher.interval_minutes
            ));
            edges.push((
                format!("srv{}", i + 1),
                "alias".into(),
                "connects via".into(),
                false,
            ));
        }
        node(kind, format!("srv{}", i + 1), s.name.clone(), details);
    }
    if let Some(sql) = &site.sql {
        node(
            Kind::Alias,
            "alias".into(),
            sql.alias.clone(),
            vec![format!("{} mirrored databases", sql.databases.len())],
        );
        for (n, p) in sql.partners.iter().enumerate() {
            edges.push((
                "alias".into(),
                format!("srv{}", p.server + 1),
                if n == 0 {
                    "initial target"
                } else {
                    "after failover"
                }
                .into(),
                n != 0,
            ));
        }
    }
    layout(nodes, edges)
}

fn layout(nodes: Vec<Node>, raw_edges: Vec<(String, String, String, bool)>) -> Graph {
    let kinds = [
        Kind::Virtual,
        Kind::Pool,
        Kind::Server,
        Kind::Alias,
        Kind::Partner,
    ];
    let mut columns: Vec<Column> = Vec::new();
    for kind in kinds {
        let col: Vec<Node> = nodes.iter().filter(|n| n.kind == kind).cloned().collect();
        if col.is_empty() {
            continue;
        }
        columns.push(Column {
            id: format!("col{}", kind.column()),
            title: kind.title().into(),
            x: 0,
            nodes: col,
        });
    }
    // Fewer crossings: each column after the first is ordered by the mean position of the nodes
    // its incoming edges come from (barycenter), ties and unconnected nodes in model order.
    for c in 1..columns.len() {
        let mut pos: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
        for col in &columns[..c] {
            let len = col.nodes.len().max(1) as i64;
            for (i, n) in col.nodes.iter().enumerate() {
                pos.insert(n.id.as_str(), i as i64 * 1000 / len);
            }
        }
        // (sum, count) of source positions per target.
        let mut incoming: std::collections::HashMap<&str, (i64, i64)> =
            std::collections::HashMap::new();
        for (from, to, _, _) in &raw_edges {
            if let Some(p) = pos.get(from.as_str()) {
                let e = incoming.entry(to.as_str()).or_default();
                e.0 += p;
                e.1 += 1;
            }
        }
        let keys: Vec<(i64, usize)> = columns[c]
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| match incoming.get(n.id.as_str()) {
                Some(&(sum, count)) => (sum / count, i),
                None => (i64::MAX, i),
            })
            .collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        let old = std::mem::take(&mut columns[c].nodes);
        let mut slots: Vec<Option<Node>> = old.into_iter().map(Some).collect();
        columns[c].nodes = order.iter().filter_map(|&i| slots[i].take()).collect();
    }
    // Sizes, then columns left to right, each centred vertically on the tallest.
    let mut x = MARGIN;
    let mut heights = Vec::new();
    for c in &mut columns {
        let mut w = text_width(&c.title);
        for n in &mut c.nodes {
            n.h = LINE_H * (1 + n.details.len() as i64) + 2 * PAD;
            n.w = std::iter::once(&n.name)
                .chain(n.details.iter())
                .map(|l| text_width(l))
                .max()
                .unwrap_or(0)
                + 2 * PAD;
            w = w.max(n.w);
        }
        c.x = x;
        for n in &mut c.nodes {
            n.x = x;
            n.w = w;
        }
        x += w + GAP_X;
        let h: i64 =
            c.nodes.iter().map(|n| n.h).sum::<i64>() + GAP_Y * (c.nodes.len() as i64 - 1).max(0);
        heights.push(h);
    }
    let tallest = heights.iter().copied().max().unwrap_or(0);
    for (c, h) in columns.iter_mut().zip(&heights) {
        let mut y = TOP + (tallest - h) / 2;
        for n in &mut c.nodes {
            n.y = y;
            y += n.h + GAP_Y;
        }
    }
    let by_id: std::collections::HashMap<&str, &Node> = columns
        .iter()
        .flat_map(|c| &c.nodes)
        .map(|n| (n.id.as_str(), n))
        .collect();
    let find = |id: &str| by_id.get(id).copied();
    let mut edges = Vec::new();
    for (from, to, label, dashed) in raw_edges {
        let (Some(a), Some(b)) = (find(&from), find(&to)) else {
            continue;
        };
        let (x1, y1) = (a.x + a.w, a.y + a.h / 2);
        let (x2, y2) = (b.x, b.y + b.h / 2);
        let mx = (x1 + x2) / 2;
        edges.push(Edge {
            show_label: !from.starts_with("pool"),
            from,
            to,
            label,
            dashed,
            path: format!("M {x1} {y1} C {mx} {y1}, {mx} {y2}, {x2} {y2}"),
            lx: mx,
            ly: (y1 + y2) / 2 - 3,
        });
    }
    Graph {
        width: (x - GAP_X + MARGIN).max(2 * MARGIN),
        height: TOP + tallest + MARGIN,
        columns,
        edges,
    }
}

#[derive(Serialize)]
struct Ctx<'a> {
    site: &'a str,
    g: &'a Graph,
    /// The failover scenarios table (Markdown rendered by [`crate::scenarios`] from its own
    /// template), if any.
    scenarios: Option<String>,
}

/// Renders `topology.md` and `topology.svg` from a graph.
pub fn pictures(
    site: &str,
    g: &Graph,
    scenarios: Option<String>,
) -> Result<(String, String), crate::Error> {
    let ctx = Ctx { site, g, scenarios };
    Ok((
        crate::render::render("docs/topology.md", &ctx)?,
        crate::render::render("docs/topology.svg", &ctx)?,
    ))
}

/// Writes `topology.md` and `topology.svg`.
pub fn render(site: &Site, bundle: &mut Bundle) -> Result<(), crate::Error> {
    let g = graph(site);
    let (md, svg) = pictures(&site.name, &g, crate::scenarios::topology_section(site)?)?;
    bundle.add(
        "topology.md",
        Artifact::text("diagram", Encoding::Utf8, Eol::Lf, &md),
    )?;
    bundle.add(
        "topology.svg",
        Artifact::text("diagram", Encoding::Utf8, Eol::Lf, &svg),
    )
}
