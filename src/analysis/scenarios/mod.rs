//! Failover scenarios: which node serves each virtual server, route and pool for every combination
//! of node and monitor health, and which SQL partner the alias switcher settles on.
//!
//! The engine works on a small, plain description ([`Topology`]) so it can be unit-tested against
//! BIG-IP's documented priority-group behaviour without a site; [`from_site`] builds it from the
//! resolved site.
//!
//! **Health variables.** A pool member is up when every monitor of its pool passes. A monitor probes
//! the member's own port unless it has an alias port (`port` in `[[f5.monitor]]`), so the variable
//! is the pair (node, `monitor:port`): `mon_adlds_tcp:389` and `mon_adlds_tcp:636` are two checks
//! that can fail independently, while the same monitor on the same node and port in two pools is
//! one check (both pools see the same service answer). During a transition two monitor instances
//! can disagree for up to one monitor `timeout`; the model describes settled states.
//!
//! **Priority-group activation** (tmsh `min-active-members`, GUI "Priority Group Activation: Less
//! than N Available Members"): members of the highest priority group take all traffic; while fewer
//! than N members are available in the activated groups, the next lower group is activated too,
//! cumulatively (BIG-IP Reference Guide: "Connections are first distributed to all nodes with
//! priority 3. If fewer than two priority 3 nodes are available, traffic is directed to the
//! priority 2 nodes as well"). N = 0 turns activation off: every available member takes traffic.
//!
//! **Interchangeable members** (the same pools, priority groups and monitors) are shown once per
//! pattern in the table ([`symmetry`]): a pool of N equal members gives rows that grow with N, not
//! 2^N, and each row says which members it stands for. The affinity checks still evaluate every
//! combination.
//!
//! **How much is checked.** Each affinity group is checked over its own variables only (its outcome
//! depends on nothing else), exhaustively up to [`EXHAUSTIVE_LIMIT`] variables (2^20 ≈ 1M
//! combinations, about 0.9 s per group in a debug build). Beyond, a group whose pools are
//! identical is settled by [`proves_single_node`] for every combination; any other group is
//! checked over every combination of at most [`MAX_FAILURES_LARGE`] simultaneous check failures,
//! and the report says it is not exhaustive.

mod engine;
mod json;
mod report;
mod site;
mod switcher;
mod symmetry;

pub use engine::*;
pub use json::*;
pub use report::*;
pub use site::*;
pub use switcher::*;
