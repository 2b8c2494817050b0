//! The site as a picture: `topology.md` (Mermaid, rendered by GitHub and GitLab) and `topology.svg`
//! (drawn here, no external renderer).
//!
//! One graph feeds both: virtual servers → pools (default pool and path routes) → servers (edge per
//! pool member, labelled with port and priority group) → the SQL client alias → the two mirroring
//! partners. Each server node lists what runs on it (process killer, maintenance mode, alias
//! switcher). The SVG layout is layered and deterministic: one column per kind, nodes in model
//! order, integer coordinates.

use serde::Serialize;

use crate::bundle::{Artifact, ArtifactKind, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Column, Emitted, Plan, SERVER_RANK, ServerLine, TopoEdge, TopoNode, Topology};

/// One box. `id` is derived from the kind and position only, so it is always a safe identifier.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    /// The kind of its column (`data-kind` in the SVG).
    pub kind: String,
    /// Fill colour of the box.
    pub fill: String,
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
pub struct GraphColumn {
    pub id: String,
    pub title: String,
    pub x: i64,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub columns: Vec<GraphColumn>,
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

/// The servers' own column.
fn server_column() -> Column {
    Column {
        id: "col2".into(),
        rank: SERVER_RANK,
        kind: "server".into(),
        title: "Servers".into(),
        fill: "#f1f3f4".into(),
    }
}

/// One box per server: its release and address, then the lines the families added.
fn server_nodes(site: &Farm, t: &Topology) -> Vec<TopoNode> {
    let mut lines: Vec<&ServerLine> = t.server_lines.iter().collect();
    lines.sort_by_key(|l| (l.server, l.slot));
    // Each server's lines are one run of the sorted list (one pass, not one scan per server).
    let mut rest = lines.as_slice();
    let columns: std::collections::HashMap<usize, u32> =
        t.server_columns.iter().rev().copied().collect();
    site.servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut details = vec![match s.address {
                Some(a) => format!("{}, {a}", s.os.label()),
                None => s.os.label().to_string(),
            }];
            rest = &rest[rest.partition_point(|l| l.server < i)..];
            let mine = rest.partition_point(|l| l.server == i);
            details.extend(rest[..mine].iter().map(|l| l.text.clone()));
            // (The first entry for a server counts, as `find` took it: hence the reversed collect.)
            let column = columns.get(&i).copied().unwrap_or(SERVER_RANK);
            TopoNode {
                id: Topology::server_id(i),
                column,
                name: s.name.clone(),
                details,
            }
        })
        .collect()
}

/// Builds the graph (with its layout) of the plan's topology. Servers that the picture would draw
/// alike (same column, release, lines and arrows, whatever their name and address) share one box
/// ([`group_servers`]).
pub fn graph(site: &Farm, t: &Topology) -> Graph {
    let mut columns: Vec<Column> = t.columns.clone();
    columns.push(server_column());
    columns.sort_by_key(|c| c.rank);
    let mut nodes: Vec<&TopoNode> = t.nodes.iter().collect();
    let (servers, hidden) = group_servers(site, t, server_nodes(site, t));
    nodes.extend(servers.iter());
    let mut edges: Vec<&TopoEdge> = t
        .edges
        .iter()
        .filter(|e| !hidden.contains(e.from.as_str()) && !hidden.contains(e.to.as_str()))
        .collect();
    edges.sort_by_key(|e| e.phase);
    layout(&columns, &nodes, &edges)
}

/// An arrow of a server's box: (outgoing, the other end, label, dashed).
type Arrow<'a> = (bool, &'a str, &'a str, bool);
/// What makes two server boxes look alike: column, release, lines, arrows.
type BoxShape<'a> = (u32, &'a str, &'a [String], Vec<Arrow<'a>>);

/// One box for each group of servers that would be drawn alike: the first server's box, named
/// after the group (`web01–web40 (40 servers)`, without addresses); the others' boxes and arrows
/// are left out (returned as the hidden ids). A server of its own keeps its box as it was.
fn group_servers(
    site: &Farm,
    t: &Topology,
    servers: Vec<TopoNode>,
) -> (Vec<TopoNode>, std::collections::HashSet<String>) {
    use std::collections::HashMap;
    // Each server's arrows: (direction, other end, label, dashed), in contribution order.
    let mut arrows: HashMap<&str, Vec<Arrow>> = HashMap::new();
    for e in &t.edges {
        arrows
            .entry(e.from.as_str())
            .or_default()
            .push((true, &e.to, &e.label, e.dashed));
        arrows
            .entry(e.to.as_str())
            .or_default()
            .push((false, &e.from, &e.label, e.dashed));
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<BoxShape, usize> = HashMap::new();
    for (i, n) in servers.iter().enumerate() {
        let key = (
            n.column,
            site.servers[i].os.label(),
            &n.details[1..],
            arrows.get(n.id.as_str()).cloned().unwrap_or_default(),
        );
        match index.get(&key) {
            Some(&g) => groups[g].push(i),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    let mut hidden = std::collections::HashSet::new();
    let mut keep: Vec<Option<TopoNode>> = servers.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for g in groups {
        let Some(mut node) = keep[g[0]].take() else {
            continue;
        };
        if g.len() > 1 {
            let names: Vec<&str> = g.iter().map(|&i| site.servers[i].name.as_str()).collect();
            node.name = format!(
                "{} ({} servers)",
                crate::render::name_ranges(&names, "–"),
                g.len()
            );
            node.details[0] = site.servers[g[0]].os.label().to_string();
            for &i in &g[1..] {
                hidden.insert(Topology::server_id(i));
            }
        }
        out.push(node);
    }
    (out, hidden)
}

fn layout(kinds: &[Column], nodes: &[&TopoNode], raw_edges: &[&TopoEdge]) -> Graph {
    let mut columns = graph_columns(kinds, nodes);
    order_columns(&mut columns, raw_edges);
    let (x, tallest) = place_columns(&mut columns);
    let edges = route_edges(&columns, raw_edges);
    Graph {
        width: (x - GAP_X + MARGIN).max(2 * MARGIN),
        height: TOP + tallest + MARGIN,
        columns,
        edges,
    }
}

/// One column per kind that has nodes, in model order, not yet placed.
fn graph_columns(kinds: &[Column], nodes: &[&TopoNode]) -> Vec<GraphColumn> {
    let mut columns: Vec<GraphColumn> = Vec::new();
    for kind in kinds {
        let col: Vec<Node> = nodes
            .iter()
            .filter(|n| n.column == kind.rank)
            .map(|n| Node {
                id: n.id.clone(),
                kind: kind.kind.clone(),
                fill: kind.fill.clone(),
                name: n.name.clone(),
                details: n.details.clone(),
                x: 0,
                y: 0,
                w: 0,
                h: 0,
            })
            .collect();
        if col.is_empty() {
            continue;
        }
        columns.push(GraphColumn {
            id: kind.id.clone(),
            title: kind.title.clone(),
            x: 0,
            nodes: col,
        });
    }
    columns
}

/// Fewer crossings: each column after the first is ordered by the mean position of the nodes
/// its incoming edges come from (barycenter), ties and unconnected nodes in model order.
fn order_columns(columns: &mut [GraphColumn], raw_edges: &[&TopoEdge]) {
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
        for e in raw_edges {
            if let Some(p) = pos.get(e.from.as_str()) {
                let e = incoming.entry(e.to.as_str()).or_default();
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
}

/// Sizes, then columns left to right, each centred vertically on the tallest. Returns the right
/// edge of the last column plus one gap, and the height of the tallest column.
fn place_columns(columns: &mut [GraphColumn]) -> (i64, i64) {
    let mut x = MARGIN;
    let mut heights = Vec::new();
    for c in columns.iter_mut() {
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
    (x, tallest)
}

/// The edges between placed nodes, as cubic curves from the right side of one to the left of the
/// other.
fn route_edges(columns: &[GraphColumn], raw_edges: &[&TopoEdge]) -> Vec<Edge> {
    let by_id: std::collections::HashMap<&str, &Node> = columns
        .iter()
        .flat_map(|c| &c.nodes)
        .map(|n| (n.id.as_str(), n))
        .collect();
    let find = |id: &str| by_id.get(id).copied();
    let mut edges = Vec::new();
    for e in raw_edges {
        let (Some(a), Some(b)) = (find(&e.from), find(&e.to)) else {
            continue;
        };
        let (x1, y1) = (a.x + a.w, a.y + a.h / 2);
        let (x2, y2) = (b.x, b.y + b.h / 2);
        let mx = (x1 + x2) / 2;
        edges.push(Edge {
            show_label: e.show_label,
            from: e.from.clone(),
            to: e.to.clone(),
            label: e.label.clone(),
            dashed: e.dashed,
            path: format!("M {x1} {y1} C {mx} {y1}, {mx} {y2}, {x2} {y2}"),
            lx: mx,
            ly: (y1 + y2) / 2 - 3,
        });
    }
    edges
}

#[derive(Serialize)]
struct PictureView<'a> {
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
    let ctx = PictureView { site, g, scenarios };
    Ok((
        crate::render::render("topology/topology.md", &ctx)?,
        crate::render::render("topology/topology.svg", &ctx)?,
    ))
}

/// Bundle path of the Mermaid page.
pub const MD_PATH: &str = "topology.md";

/// Adds `topology.md` and `topology.svg`.
pub fn emit(site: &Farm, plan: &Plan) -> Result<Emitted, crate::Error> {
    let g = graph(site, &plan.topology);
    let (md, svg) = pictures(&site.name, &g, plan.topology.appendix.clone())?;
    let mut out = Emitted::default();
    out.add_file(
        MD_PATH,
        Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Lf, &md),
    )?;
    out.add_file(
        "topology.svg",
        Artifact::text(ArtifactKind::Diagram, Encoding::Utf8, Eol::Lf, &svg),
    )?;
    Ok(out)
}
