//! What the families add to the site's picture (`topology.md`, `topology.svg`). The topology
//! emitter draws one box per server itself; families add their own columns (virtual servers,
//! pools, the SQL alias…), boxes, edges, lines inside server boxes, and may move a server into one
//! of their columns (a SQL partner).

/// A column of boxes, placed left to right by `rank` (the servers' own column has rank
/// [`SERVER_RANK`]).
#[derive(Debug, Clone)]
pub struct Column {
    /// Identifier of the column in the pictures (chosen by the contributor, never from a site value).
    pub id: String,
    pub rank: u32,
    /// Names the column's boxes in the SVG (`data-kind`).
    pub kind: String,
    pub title: String,
    /// Box fill colour in the SVG (`#rrggbb`).
    pub fill: String,
}

/// Rank of the servers' column.
pub const SERVER_RANK: u32 = 20;

/// One box. `id` is made by the contributor from the kind and a position only (never from a
/// site value), so it is always a safe identifier.
#[derive(Debug, Clone)]
pub struct TopoNode {
    pub id: String,
    /// The `rank` of its column.
    pub column: u32,
    pub name: String,
    pub details: Vec<String>,
}

/// One arrow. Edges are drawn in `(phase, contribution order)` order.
#[derive(Debug, Clone)]
pub struct TopoEdge {
    pub phase: u32,
    pub from: String,
    pub to: String,
    pub label: String,
    /// Whether the SVG prints the label (Mermaid always does).
    pub show_label: bool,
    pub dashed: bool,
}

/// Where a line goes inside a server's box, after the release and address: the variants are in
/// the order the box lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LineSlot {
    /// The processes its kill tasks end.
    Kill,
    /// Maintenance mode around Windows Update restarts.
    Maintenance,
    /// Its part in SQL mirroring.
    SqlPartner,
    /// The SQL alias switcher it runs.
    SqlSwitcher,
    /// The services it restarts on failure.
    Recovery,
}

/// A line inside a server's box, placed by `slot` after the release and address.
#[derive(Debug, Clone)]
pub struct ServerLine {
    pub server: usize,
    pub slot: LineSlot,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub columns: Vec<Column>,
    pub nodes: Vec<TopoNode>,
    pub edges: Vec<TopoEdge>,
    pub server_lines: Vec<ServerLine>,
    /// Servers drawn in another column than the servers' (server index, column rank).
    pub server_columns: Vec<(usize, u32)>,
    /// Markdown printed under the picture in `topology.md` (the failover scenarios).
    pub appendix: Option<String>,
}

impl Topology {
    /// Appends another contributor's part (columns, boxes and arrows keep contribution order; the
    /// appendix is set by at most one contributor).
    pub fn extend(&mut self, other: Topology) {
        self.columns.extend(other.columns);
        self.nodes.extend(other.nodes);
        self.edges.extend(other.edges);
        self.server_lines.extend(other.server_lines);
        self.server_columns.extend(other.server_columns);
        if other.appendix.is_some() {
            self.appendix = other.appendix;
        }
    }

    /// The id of a server's box.
    pub fn server_id(server: usize) -> String {
        format!("srv{}", server + 1)
    }
}
