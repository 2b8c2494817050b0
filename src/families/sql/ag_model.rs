//! `[sql] mode = "availability-group"`: SQL Server Always On availability groups (SQL Server
//! 2012 and later) instead of database mirroring. The `[[sql.partner]]` entries are the replicas
//! (the first is the initial primary), `[sql.availability_group]` names the group and its
//! listener. Syntax and rules: docs/modern-targets.md section 6 (MicrosoftDocs/sql-docs,
//! CREATE AVAILABILITY GROUP and ALTER AVAILABILITY GROUP (Transact-SQL)).

use schemars::JsonSchema;
use serde::Deserialize;

use super::model::{Job, Partner, RawJob, RawSql, Sql, Switcher};
use crate::escape;
use crate::model::{Ctx, Names};

/// Which high-availability feature `[sql]` configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// SQL Server database mirroring between two partners (the default).
    #[default]
    Mirroring,
    /// An Always On availability group (SQL Server 2012 and later) with a listener.
    AvailabilityGroup,
}

/// A replica's availability mode (`AVAILABILITY_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Commit {
    /// `SYNCHRONOUS_COMMIT` (the default): no data loss on a planned failover.
    #[default]
    Synchronous,
    /// `ASYNCHRONOUS_COMMIT`: for a distant replica; only a forced failover (with possible data
    /// loss) makes it primary.
    Asynchronous,
}

/// A replica's failover mode (`FAILOVER_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Failover {
    /// `AUTOMATIC` (the default): needs `commit = "synchronous"`.
    #[default]
    Automatic,
    /// `MANUAL`.
    Manual,
}

impl Commit {
    /// `AVAILABILITY_MODE`'s keyword, as sys.availability_replicas' availability_mode_desc shows it.
    pub fn keyword(self) -> &'static str {
        match self {
            Commit::Synchronous => "SYNCHRONOUS_COMMIT",
            Commit::Asynchronous => "ASYNCHRONOUS_COMMIT",
        }
    }
}

impl Failover {
    /// `FAILOVER_MODE`'s keyword, as sys.availability_replicas' failover_mode_desc shows it.
    pub fn keyword(self) -> &'static str {
        match self {
            Failover::Automatic => "AUTOMATIC",
            Failover::Manual => "MANUAL",
        }
    }
}

// The schema is the untagged union; the deserializer below picks by the TOML value's shape (a
// table or an array), so that serde's own errors (an unknown key, a wrong type) stay located
// inside the table instead of "did not match any variant".
/// `[sql.availability_group]` (one group) or `[[sql.availability_group]]` (several groups on the
/// same replicas: the first is the anchor, the others follow it).
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum RawGroups {
    /// `[sql.availability_group]`: one group, its databases `sql.databases`.
    One(RawAvailabilityGroup),
    /// `[[sql.availability_group]]`: the anchor first (its databases `sql.databases`, its
    /// listener the alias's target), then the followers, each with its own `databases`.
    Many(Vec<RawAvailabilityGroup>),
}

impl<'de> Deserialize<'de> for RawGroups {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawGroups;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table [sql.availability_group] or an array of tables [[sql.availability_group]]")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<RawGroups, A::Error> {
                RawAvailabilityGroup::deserialize(serde::de::value::MapAccessDeserializer::new(a))
                    .map(RawGroups::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<RawGroups, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(a))
                    .map(RawGroups::Many)
            }
        }
        d.deserialize_any(V)
    }
}

impl RawGroups {
    /// Each group with the path of its table (`sql.availability_group` or
    /// `sql.availability_group[i]`), the anchor first.
    pub fn tables(&self) -> Vec<(String, &RawAvailabilityGroup)> {
        match self {
            RawGroups::One(g) => vec![("sql.availability_group".into(), g)],
            RawGroups::Many(v) => v
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("sql.availability_group[{i}]"), g))
                .collect(),
        }
    }
    /// The anchor (the first group).
    pub fn anchor(&self) -> Option<&RawAvailabilityGroup> {
        match self {
            RawGroups::One(g) => Some(g),
            RawGroups::Many(v) => v.first(),
        }
    }
}

/// One availability group (`mode = "availability-group"` only).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAvailabilityGroup {
    /// The group's name, e.g. "SPAG": letters, digits, `_`, `-`, `.`, starting with a letter, at
    /// most 128 characters.
    pub name: String,
    /// The listener the front ends' SQL alias points at: the anchor group's only (a follower has
    /// none: the alias reaches its databases through the anchor's listener, on whose primary the
    /// follower job keeps them).
    #[serde(default)]
    pub listener: Option<RawListener>,
    /// A follower group's databases (`[[sql.availability_group]]` after the first): each in no
    /// other group and not in `sql.databases` (the anchor's).
    #[serde(default)]
    pub databases: Option<Vec<String>>,
    /// The replicas' SQL Server release, e.g. "2019": it decides how many replicas may have
    /// automatic failover (2 on 2012 and 2014, 3 on 2016 and 2017, 5 from 2019). Leave out to check
    /// against the most any release allows.
    #[serde(default)]
    pub sql_server: Option<SqlServer>,
    /// The anchor group's databases are database-mirrored today between the first two
    /// [[sql.partner]] (the first the principal), with this site's mirroring bundle: the bundle
    /// then also has, per former partner, `mirroring-retire.sql` (drops the mirroring failover job
    /// and alerts) and, on the principal, `mirroring-off.sql` (checks every database is principal
    /// there, SYNCHRONIZED with safety FULL, then `SET PARTNER OFF`), and the runbook moves the
    /// databases into the group without a restore (the mirror copies stay RESTORING and join as
    /// they are). One group only. Default false.
    #[serde(default)]
    pub from_mirroring: Option<bool>,
}

/// A SQL Server release with availability groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SqlServer {
    #[serde(rename = "2012")]
    V2012,
    #[serde(rename = "2014")]
    V2014,
    #[serde(rename = "2016")]
    V2016,
    #[serde(rename = "2017")]
    V2017,
    #[serde(rename = "2019")]
    V2019,
    #[serde(rename = "2022")]
    V2022,
    #[serde(rename = "2025")]
    V2025,
}

/// Most replicas with `FAILOVER_MODE = AUTOMATIC` (the primary included) and the releases that
/// allow that many. 2012/2014: two ("SQL Server 2016 HA Series Part 1 - 3 Auto Failover Targets",
/// Microsoft's data platform blog: "increasing the number of automatic failover targets from 2 to 3
/// (2 + primary)" in 2016); 2019: five ("What is an Always On availability group?", Microsoft Learn:
/// "SQL Server 2019 (15.x) increases the maximum number of synchronous replicas to 5, up from 3 in
/// SQL Server 2017 (14.x). You can configure this group of five replicas to have automatic failover
/// within the group").
pub fn max_automatic(v: Option<SqlServer>) -> (usize, &'static str) {
    use SqlServer::*;
    match v {
        Some(V2012 | V2014) => (2, "SQL Server 2012 and 2014"),
        Some(V2016 | V2017) => (3, "SQL Server 2016 and 2017"),
        Some(V2019 | V2022 | V2025) | None => (5, "SQL Server 2019 and later"),
    }
}

/// The availability group listener (`ALTER AVAILABILITY GROUP … ADD LISTENER`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawListener {
    /// The listener's DNS host name, e.g. "spsql": letters, digits and `-`, starting with a
    /// letter, at most 15 characters (the NetBIOS part of the name Windows registers).
    pub name: String,
    /// Its static IPv4 addresses with their prefix length, one per subnet the replicas are in,
    /// e.g. ["10.1.0.50/24"] (more than one: the listener spans subnets).
    pub address: Vec<String>,
    /// TCP port (1-65535). Default 1433.
    #[serde(default)]
    pub port: Option<u32>,
}

/// A replica's settings, in the order of `sql.partners`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaMode {
    pub commit: Commit,
    pub failover: Failover,
}

/// The resolved listener.
#[derive(Debug, Clone)]
pub struct Listener {
    pub name: String,
    /// (IPv4 address, subnet mask), dotted.
    pub addresses: Vec<(String, String)>,
    pub port: u32,
}

/// A follower group: it has no listener, and the follower job fails it over to the replica
/// where the anchor group is primary.
#[derive(Debug, Clone)]
pub struct Follower {
    pub name: String,
    pub databases: Vec<String>,
}

/// The resolved availability group.
#[derive(Debug, Clone)]
pub struct Ag {
    pub name: String,
    pub listener: Listener,
    /// One per partner, same order.
    pub replicas: Vec<ReplicaMode>,
    /// The groups that follow this one (the anchor), in site order; empty with one group.
    pub followers: Vec<Follower>,
    /// The follower job's settings (used only with followers).
    pub job: Job,
    /// The databases move here from database mirroring between the first two replicas.
    pub from_mirroring: bool,
}

impl Ag {
    /// The alias's data: `DBMSSOCN,listener,port` (TCP/IP to the listener).
    pub fn alias_data(&self) -> String {
        format!("DBMSSOCN,{},{}", self.listener.name, self.listener.port)
    }
    /// More than one address: the listener spans subnets (MultiSubnetFailover matters).
    pub fn multi_subnet(&self) -> bool {
        self.listener.addresses.len() > 1
    }
}

/// The mirroring endpoint port the generated scripts expect on every replica (the port Microsoft's
/// examples use; `CREATE ENDPOINT … AS TCP (LISTENER_PORT = 5022) FOR DATABASE_MIRRORING`).
pub const ENDPOINT_PORT: u32 = 5022;

/// Keys that only database mirroring uses: an error in AG mode (path, what it is).
const MIRRORING_ONLY: &[(&str, &str)] = &[
    (
        "sql.witness",
        "the cluster's quorum decides failovers in an availability group",
    ),
    (
        "sql.high_performance",
        "an availability group sets each replica's `commit` instead",
    ),
    (
        "sql.high_performance_databases",
        "an availability group sets each replica's `commit` instead",
    ),
    (
        "sql.all_synchronized",
        "an availability group lists its databases in `databases`",
    ),
    (
        "sql.anchor_database",
        "the availability group fails over as one",
    ),
    (
        "sql.job",
        "no failover job: the availability group fails over as one",
    ),
    ("sql.switcher.interval_minutes", SWITCHER_WHY),
    ("sql.switcher.run_as", SWITCHER_WHY),
    ("sql.switcher.cycle_services", SWITCHER_WHY),
    ("sql.switcher.probe_database", SWITCHER_WHY),
    ("sql.switcher.task_name", SWITCHER_WHY),
];
const SWITCHER_WHY: &str =
    "no alias switcher: the alias points at the listener, which follows the primary";

/// In mirroring mode, the AG keys are errors (each located at its key).
pub fn reject_ag_keys(raw: &RawSql, ctx: &mut Ctx) {
    let help = "set `mode = \"availability-group\"` in [sql], or remove it";
    if raw.availability_group.is_some() {
        ctx.error(
            "sql.availability_group",
            "[sql.availability_group] is for `mode = \"availability-group\"`; this [sql] is database mirroring",
            help,
        );
    }
    for (i, p) in raw.partner.iter().enumerate() {
        if p.commit.is_some() {
            ctx.error(
                &format!("sql.partner[{i}].commit"),
                "`commit` is an availability group replica's setting; mirroring partners have none",
                help,
            );
        }
        if p.failover.is_some() {
            ctx.error(
                &format!("sql.partner[{i}].failover"),
                "`failover` is an availability group replica's setting; mirroring partners have none",
                help,
            );
        }
    }
}

/// An availability group name: a plain identifier (it reaches T-SQL, sqlcmd -Q lines and the runbook).
fn check_ag_name(s: &str) -> Result<(), String> {
    crate::model::check_plain_name(s, 128, true, "availability group name")
}

/// A listener name: a DNS host label whose NetBIOS form is the whole name (at most 15).
fn check_listener_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !s.ends_with('-')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a usable listener name: use 1-15 letters, digits and `-`, starting with a letter (ADD LISTENER: the NetBIOS name is the first 15 characters)"
        ))
    }
}

/// `a.b.c.d/nn` → (address, dotted mask).
fn parse_address(s: &str) -> Result<(String, String), String> {
    let bad =
        || format!("`{s}` is not an IPv4 address with a prefix length, e.g. \"10.1.0.50/24\"");
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let addr: std::net::Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if !(1..=30).contains(&len) {
        return Err(format!(
            "`{s}`: a prefix length of 1-30 leaves room for the replicas and the listener"
        ));
    }
    let mask = std::net::Ipv4Addr::from(u32::MAX << (32 - len));
    let host = u32::from(addr) & !u32::from(mask);
    if host == 0 || host == !u32::from(mask) {
        return Err(format!(
            "`{s}` is the subnet's network or broadcast address, not a host address"
        ));
    }
    Ok((addr.to_string(), mask.to_string()))
}

fn resolve_listener(l: &RawListener, p: &str, ctx: &mut Ctx) -> (Listener, bool) {
    let mut ok = ctx.check(
        &format!("{p}.name"),
        check_listener_name(&l.name),
        "e.g. `name = \"spsql\"`",
    );
    if l.address.is_empty() {
        ctx.error(
            &format!("{p}.address"),
            "the listener needs at least one static IPv4 address",
            "one per subnet the replicas are in, e.g. `address = [\"10.1.0.50/24\"]` (DHCP is not supported: Microsoft does not recommend it in production)",
        );
        ok = false;
    }
    let mut addresses = Vec::new();
    for (i, a) in l.address.iter().enumerate() {
        match parse_address(a) {
            Ok(pair) => addresses.push(pair),
            Err(e) => {
                ctx.error(
                    &format!("{p}.address[{i}]"),
                    e,
                    "write the address and the subnet's prefix length, e.g. \"10.1.0.50/24\"",
                );
                ok = false;
            }
        }
    }
    ctx.unique(
        "listener address",
        l.address
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("{p}.address[{i}]"), a.as_str())),
    );
    // The order of the addresses means nothing (one per subnet): sorted, so that the output does
    // not depend on it.
    addresses.sort_by_key(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().map(u32::from).ok());
    let port = l.port.unwrap_or(1433);
    if !(1..=65535).contains(&port) {
        ctx.error(
            &format!("{p}.port"),
            format!("port {port} is outside 1-65535"),
            "e.g. `port = 1433`",
        );
        ok = false;
    }
    let listener = Listener {
        name: l.name.clone(),
        addresses,
        port,
    };
    (listener, ok)
}

/// The replicas' commit and failover modes: automatic needs synchronous, at most
/// [`max_automatic`] automatic replicas.
fn resolve_replica_modes(raw: &RawSql, ctx: &mut Ctx) -> (Vec<ReplicaMode>, bool) {
    let version = raw
        .availability_group
        .as_ref()
        .and_then(RawGroups::anchor)
        .and_then(|g| g.sql_server);
    let (max, releases) = max_automatic(version);
    let mut ok = true;
    let mut modes = Vec::new();
    for (i, p) in raw.partner.iter().enumerate() {
        let m = ReplicaMode {
            commit: p.commit.unwrap_or_default(),
            failover: p.failover.unwrap_or_default(),
        };
        if m.failover == Failover::Automatic && m.commit == Commit::Asynchronous {
            ctx.error(
                &format!("sql.partner[{i}].failover"),
                "automatic failover needs synchronous commit; this replica is asynchronous",
                "set `failover = \"manual\"` on an asynchronous replica, or make it `commit = \"synchronous\"`",
            );
            ok = false;
        }
        modes.push(m);
    }
    let automatic: Vec<usize> = modes
        .iter()
        .enumerate()
        .filter(|(_, m)| m.failover == Failover::Automatic && m.commit == Commit::Synchronous)
        .map(|(i, _)| i)
        .collect();
    if automatic.len() > max {
        let hint = if version.is_none() {
            " (3 on 2016 and 2017, 2 on 2012 and 2014: set `availability_group.sql_server` to check against your release)"
        } else {
            ""
        };
        ctx.error(
            &format!("sql.partner[{}].failover", automatic[max]),
            format!(
                "{} replicas with automatic failover; {releases} allow at most {max}, the primary included{hint}",
                automatic.len()
            ),
            "set `failover = \"manual\"` on the others",
        );
        ok = false;
    }
    (modes, ok)
}

/// The errors for mirroring-only keys given in AG mode. With follower groups `[sql.job]` sets
/// the follower job (all but `stagger_seconds`: only the anchor's primary acts, there is nothing
/// to stagger).
fn reject_mirroring_keys(ctx: &mut Ctx, followers: bool) -> bool {
    let mut ok = true;
    if followers && ctx.has_key("sql.job.stagger_seconds") {
        ctx.error(
            "sql.job.stagger_seconds",
            "`job.stagger_seconds` staggers the two mirroring partners' jobs; the follower job acts only on the anchor group's primary replica, so nothing needs staggering",
            "remove it",
        );
        ok = false;
    }
    for (path, why) in MIRRORING_ONLY {
        if followers && *path == "sql.job" {
            continue;
        }
        if ctx.has_key(path) {
            ctx.error(
                path,
                format!(
                    "`{}` is a database mirroring setting; this [sql] is `mode = \"availability-group\"`",
                    path.trim_start_matches("sql.")
                ),
                format!("remove it ({why}); in an availability group only `alias`, `databases`, [[sql.partner]], [sql.availability_group] and `switcher.servers` (the front ends that get the alias) apply"),
            );
            ok = false;
        }
    }
    ok
}

/// The replicas are distinct instances; the replica name (`server[\instance]`) is the server's
/// computer name, and it must be safe as a T-SQL string.
fn check_replicas(raw: &RawSql, partners: &[Partner], ctx: &mut Ctx) -> bool {
    let mut ok = true;
    if raw.partner.len() < 2 {
        ctx.error(
            "sql.partner",
            format!(
                "an availability group needs at least two replicas; {} given",
                raw.partner.len()
            ),
            "add a [[sql.partner]] table per replica, the initial primary first",
        );
        ok = false;
    }
    let _ = partners;
    let keys: Vec<String> = raw
        .partner
        .iter()
        .map(|p| match &p.instance {
            Some(i) => format!("{}\\{}", p.server, i).to_ascii_lowercase(),
            None => p.server.to_ascii_lowercase(),
        })
        .collect();
    ctx.unique(
        "replica",
        keys.iter()
            .enumerate()
            .map(|(i, k)| (format!("sql.partner[{i}].server"), k.as_str())),
    );
    ok
}

/// Resolves `[sql]` in AG mode (the shared checks — alias, partners, databases, front ends —
/// are done by the caller and passed in).
pub struct Shared {
    pub partners: Vec<Partner>,
    pub databases: Vec<String>,
    pub front_ends: Vec<usize>,
}

pub fn resolve(raw: &RawSql, ctx: &mut Ctx, _names: &Names, shared: Shared) -> Option<Sql> {
    let tables = raw
        .availability_group
        .as_ref()
        .map(RawGroups::tables)
        .unwrap_or_default();
    let mut ok = reject_mirroring_keys(ctx, tables.len() > 1);
    ok &= check_replicas(raw, &shared.partners, ctx);
    let (modes, modes_ok) = resolve_replica_modes(raw, ctx);
    ok &= modes_ok;
    let Some((anchor_path, rag)) = tables.first() else {
        let (path, what) = match &raw.availability_group {
            Some(_) => (
                "sql.availability_group",
                "an empty [[sql.availability_group]] list",
            ),
            None => (
                "sql.mode",
                "`mode = \"availability-group\"` needs [sql.availability_group] with its name and listener",
            ),
        };
        ctx.error(
            path,
            what,
            "add [sql.availability_group] (name = \"SPAG\") and [sql.availability_group.listener] (name, address)",
        );
        return None;
    };
    let (listener, anchor_ok) = resolve_anchor(ctx, anchor_path, rag);
    ok &= anchor_ok;
    let (followers, followers_ok) = resolve_followers(&tables, &shared.databases, ctx);
    ok &= followers_ok;
    ok &= check_from_mirroring(ctx, &tables);
    let job = if followers.is_empty() {
        Job::unused()
    } else {
        ok &= super::model::check_job(&raw.job, ctx);
        follower_job(&raw.job, ctx)
    };
    let first = shared.databases.first().cloned().unwrap_or_default();
    let listener = listener?;
    ok.then(|| Sql {
        alias: raw.alias.clone(),
        partners: shared.partners,
        databases: shared.databases,
        all_synchronized: false,
        anchor: first.clone(),
        failover_job: false,
        controlled: Vec::new(),
        witness: None,
        job: Job::unused(),
        switcher: Switcher::front_ends_only(shared.front_ends, first),
        ag: Some(Ag {
            name: rag.name.clone(),
            listener,
            replicas: modes,
            from_mirroring: rag.from_mirroring == Some(true),
            followers,
            job,
        }),
    })
}

/// The anchor group (the first table): its name, no `databases` of its own (they are
/// `sql.databases`), and its listener, which the alias points at.
fn resolve_anchor(
    ctx: &mut Ctx,
    anchor_path: &str,
    rag: &RawAvailabilityGroup,
) -> (Option<Listener>, bool) {
    let mut ok = check_group_name(ctx, anchor_path, &rag.name);
    if rag.databases.is_some() {
        ctx.error(
            &format!("{anchor_path}.databases"),
            "the anchor group's databases are [sql] `databases`; `databases` in a group table is for a follower group (a [[sql.availability_group]] after the first)",
            "move the names to `databases` in [sql]",
        );
        ok = false;
    }
    let listener = match &rag.listener {
        Some(l) => {
            let (listener, listener_ok) =
                resolve_listener(l, &format!("{anchor_path}.listener"), ctx);
            ok &= listener_ok;
            Some(listener)
        }
        None => {
            ctx.error(
                anchor_path,
                format!("the availability group `{}` has no listener; the front ends' alias points at the anchor group's listener", rag.name),
                format!("add [{anchor_path}.listener] with `name` and `address`").replace("[sql.availability_group[0].listener]", "[sql.availability_group.listener] (after the first [[sql.availability_group]])"),
            );
            ok = false;
            None
        }
    };
    (listener, ok)
}

/// `from_mirroring`: on the anchor group, with no follower groups (the mirroring bundle's one
/// failover job moved every database as one; several groups would first need their databases
/// split between them, which the migration does not do).
fn check_from_mirroring(ctx: &mut Ctx, tables: &[(String, &RawAvailabilityGroup)]) -> bool {
    let mut ok = true;
    for (i, (path, g)) in tables.iter().enumerate() {
        if g.from_mirroring != Some(true) {
            continue;
        }
        let what = match i {
            0 if tables.len() == 1 => continue,
            0 => {
                "`from_mirroring` moves one group's databases out of database mirroring; this site has follower groups"
            }
            _ => {
                "`from_mirroring` is set on the anchor group (the first [[sql.availability_group]]); this is a follower group"
            }
        };
        ctx.error(
            &format!("{path}.from_mirroring"),
            what,
            "move the mirrored databases into one group first (a single [sql.availability_group]), then add the follower groups in a later build",
        );
        ok = false;
    }
    ok
}

fn check_group_name(ctx: &mut Ctx, path: &str, name: &str) -> bool {
    let path = format!("{path}.name");
    ctx.check(&path, check_ag_name(name), "e.g. `name = \"SPAG\"`")
        && ctx.safe_for(
            &path,
            name,
            &[
                ("a T-SQL identifier", escape::tsql_ident),
                ("the runbook", escape::md_code),
            ],
        )
}

/// The follower job's settings: `[sql.job]` with names fit for availability groups by default
/// (the mirroring defaults name database mirroring).
fn follower_job(j: &RawJob, ctx: &Ctx) -> Job {
    Job {
        name: if ctx.has_key("sql.job.name") {
            j.name.clone()
        } else {
            FOLLOWER_JOB_NAME.into()
        },
        owner: j.owner.clone(),
        category: if ctx.has_key("sql.job.category") {
            j.category.clone()
        } else {
            FOLLOWER_JOB_CATEGORY.into()
        },
        interval_minutes: j.interval_minutes,
        stagger_seconds: 0,
    }
}

/// The follower job's default name and category.
pub const FOLLOWER_JOB_NAME: &str = "Availability groups - follow the anchor group";
pub const FOLLOWER_JOB_CATEGORY: &str = "Always On availability groups";

/// A follower group's own keys: a valid name, no listener (the alias reaches every database
/// through the anchor's listener), no `sql_server` (the replicas are the anchor's).
fn check_follower_keys(ctx: &mut Ctx, path: &str, g: &RawAvailabilityGroup) -> bool {
    let mut ok = check_group_name(ctx, path, &g.name);
    if g.listener.is_some() {
        ctx.error(
            &format!("{path}.listener"),
            format!("the follower group `{}` has a listener; only the anchor group (the first [[sql.availability_group]]) has one", g.name),
            "remove it: the front ends' alias points at the anchor's listener, and the follower job keeps this group's databases on the anchor's primary, so that one listener reaches every database",
        );
        ok = false;
    }
    if g.sql_server.is_some() {
        ctx.error(
            &format!("{path}.sql_server"),
            "`sql_server` is the replicas' release, given once on the anchor group (the groups share the replicas)",
            "remove it here; set it on the first [[sql.availability_group]]",
        );
        ok = false;
    }
    ok
}

/// The follower groups (every table after the first): a valid unique name, no listener (the
/// alias reaches every database through the anchor's listener) and no `sql_server` (the
/// replicas are the anchor's), and their own databases, each in exactly one group (the anchor's
/// are `sql.databases`). Every error at once, each at its key.
fn resolve_followers(
    tables: &[(String, &RawAvailabilityGroup)],
    anchor_dbs: &[String],
    ctx: &mut Ctx,
) -> (Vec<Follower>, bool) {
    let mut ok = true;
    let mut followers = Vec::new();
    // database (lower case) -> the group that has it and where
    let mut owner: std::collections::HashMap<String, (String, String)> = anchor_dbs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                d.to_lowercase(),
                (tables[0].1.name.clone(), format!("sql.databases[{i}]")),
            )
        })
        .collect();
    for (path, g) in &tables[1..] {
        ok &= check_follower_keys(ctx, path, g);
        let dbs = g.databases.clone().unwrap_or_default();
        if dbs.is_empty() {
            ctx.error(
                path,
                format!("the follower group `{}` has no databases", g.name),
                "add `databases = [\"...\"]` to it: the databases this group holds (not the anchor's, which are `databases` in [sql])",
            );
            ok = false;
        }
        for (i, d) in dbs.iter().enumerate() {
            let here = format!("{path}.databases[{i}]");
            ok &= super::model::check_database(ctx, &here, d);
            if let Some((other, at)) = owner.get(&d.to_lowercase()) {
                let place = ctx.span(at).map(|_| at.clone()).unwrap_or_default();
                ctx.error(
                    &here,
                    format!("`{d}` is also in the availability group `{other}` (`{place}`); a database belongs to one group"),
                    if at.starts_with("sql.databases") {
                        "remove it here, or from `databases` in [sql] (the anchor group's databases)".to_string()
                    } else {
                        "keep it in one of the two groups".to_string()
                    },
                );
                ok = false;
            } else {
                owner.insert(d.to_lowercase(), (g.name.clone(), here));
            }
        }
        // Their order means nothing (the group holds them as a set): sorted, so that the output
        // does not depend on it.
        let mut databases = dbs;
        databases.sort_by_key(|d| (d.to_lowercase(), d.clone()));
        followers.push(Follower {
            name: g.name.clone(),
            databases,
        });
    }
    // Only the first group's place means something (the anchor); the followers in name order.
    followers.sort_by_key(|f| (f.name.to_lowercase(), f.name.clone()));
    ctx.unique(
        "availability group name",
        tables
            .iter()
            .map(|(p, g)| (format!("{p}.name"), g.name.as_str())),
    );
    (followers, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("10.1.0.50/24").unwrap(),
            ("10.1.0.50".into(), "255.255.255.0".into())
        );
        assert_eq!(
            parse_address("10.120.19.155/23").unwrap().1,
            "255.255.254.0"
        );
        assert!(parse_address("10.1.0.0/24").is_err());
        assert!(parse_address("10.1.0.255/24").is_err());
        assert!(parse_address("10.1.0.5").is_err());
        assert!(parse_address("10.1.0.5/32").is_err());
        assert!(parse_address("dhcp").is_err());
    }

    #[test]
    fn automatic_failover_limits() {
        assert_eq!(max_automatic(Some(SqlServer::V2014)).0, 2);
        assert_eq!(max_automatic(Some(SqlServer::V2017)).0, 3);
        assert_eq!(max_automatic(Some(SqlServer::V2019)).0, 5);
        assert_eq!(max_automatic(None).0, 5);
    }

    #[test]
    fn names() {
        assert!(check_listener_name("spsql").is_ok());
        assert!(check_listener_name("sp-sql-listener1").is_err());
        assert!(check_listener_name("sp_sql").is_err());
        assert!(check_ag_name("SPAG").is_ok());
        assert!(check_ag_name("SP]AG").is_err());
    }
}
