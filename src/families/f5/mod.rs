//! F5 BIG-IP: the tmsh merge file (`f5/<partition>.conf`), one iRule per routed virtual server
//! (`f5/irules/<name>.tcl`, also embedded in the merge file) and the same site as an AS3
//! declaration (`f5/as3.json`).

use serde::Serialize;
use serde_json::{Value, json};

pub mod model;

pub use model::affinity;

use crate::bundle::{Artifact, ArtifactKind, Deploy, Encoding, Eol};
use crate::model::Farm;
use crate::plan::{Column, Contribution, Part, RunbookSlot, Section, TopoEdge, TopoNode, Topology};
use model::{F5, Monitor, MonitorRef, MonitorType, Persistence, Pool, Protocol, Snat, Virtual};

/// The AS3 schema version the declaration is written for (every property used exists there):
/// the minimum the runbook names. 3.23.0 added `profileNTLM` (f5-appsvcs-extension CHANGELOG,
/// AUTOTOOL-1904), which OneConnect needs next to it.
pub const AS3_SCHEMA_VERSION: &str = "3.23.0";
/// The AS3 application (folder) inside the tenant.
pub const AS3_APP: &str = "sitebundle";

/// Bundle path of the merge file.
pub fn conf_path(f5: &F5) -> String {
    format!("f5/{}.conf", f5.partition)
}

/// Bundle path of an iRule.
pub fn irule_path(name: &str) -> String {
    format!("f5/irules/{name}.tcl")
}

/// BIG-IP normalises iRule whitespace; emit rules the way it stores them so that tools comparing
/// the running rule with this file do not report a perpetual difference: LF line ends, no
/// trailing spaces, no leading or trailing blank lines, exactly one final newline.
pub fn canonical_rule(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(0);
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |e| e + 1);
    let mut out = lines[start..end].join("\n");
    out.push('\n');
    out
}

#[derive(Serialize)]
struct RouteView {
    /// Normalised path; the template writes the patterns `path` and `path/*`.
    path: String,
    pool: String,
    prefix: String,
}

#[derive(Serialize)]
struct IRuleView {
    site: String,
    name: String,
    /// Folder path segments of the objects (`["Common"]` or `["Tenant", "App"]`).
    folder: Vec<String>,
    virtual_name: String,
    routes: Vec<RouteView>,
}

/// The text of the iRule of `v`, with pool paths in `folder` (partition, or tenant + application).
pub fn rule_text(
    site: &Farm,
    f5: &F5,
    v: &Virtual,
    folder: &[String],
) -> Result<String, crate::Error> {
    let name = v.rule.clone().unwrap_or_default();
    let ctx = IRuleView {
        site: site.name.clone(),
        name,
        folder: folder.to_vec(),
        virtual_name: v.name.clone(),
        routes: v
            .routes
            .iter()
            .map(|r| RouteView {
                path: r.path.clone(),
                pool: f5.pools[r.pool].name.clone(),
                prefix: r.prefix.clone(),
            })
            .collect(),
    };
    Ok(canonical_rule(&crate::render::render(
        "f5/irule.tcl",
        &ctx,
    )?))
}

#[derive(Serialize)]
struct MonitorView {
    name: String,
    kind: &'static str,
    send: Option<String>,
    recv: Option<String>,
    interval: u32,
    timeout: u32,
    port: Option<u16>,
    description: String,
}

#[derive(Serialize)]
struct NodeView {
    name: String,
    address: String,
}

#[derive(Serialize)]
struct MemberView {
    node: String,
    port: u16,
    address: String,
    priority_group: u32,
}

#[derive(Serialize)]
struct PoolView {
    name: String,
    description: String,
    members: Vec<MemberView>,
    min_active_members: u32,
    /// Monitor paths as (partition, name) pairs.
    monitors: Vec<(String, String)>,
    service_down_action: &'static str,
}

/// A profile of a virtual server: a built-in /Common profile, and its context when it applies
/// to one side only (bigip.conf writes `context clientside` for a client-ssl profile).
#[derive(Serialize)]
struct ProfileView {
    partition: String,
    name: String,
    context: Option<&'static str>,
}

impl ProfileView {
    /// `/Partition/name` (or a bare built-in name, in /Common) with its context.
    fn new(path: &str, context: Option<&'static str>) -> Self {
        let (partition, name) = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .unwrap_or(("Common", path));
        ProfileView {
            partition: partition.into(),
            name: name.into(),
            context,
        }
    }
}

#[derive(Serialize)]
struct VirtualView {
    name: String,
    description: String,
    address: String,
    v6: bool,
    port: u16,
    pool: Option<String>,
    profiles: Vec<ProfileView>,
    persist: Option<&'static str>,
    snat_automap: bool,
    /// iRules as full paths, already escaped (`trusted` in the template): the site's rules built
    /// from `escape::tmsh_name` parts, or the constant path of F5's built-in redirect rule (whose
    /// leading `_` `tmsh_name` refuses for the site's own names).
    rules: Vec<String>,
}

#[derive(Serialize)]
struct RuleView {
    name: String,
    /// The rendered iRule: built by [`rule_text`] from its own template, where every value went
    /// through an escaping filter; embedded verbatim (`trusted`) as bigip.conf does.
    text: String,
}

#[derive(Serialize)]
struct MergeFileView {
    site: String,
    partition: String,
    file: String,
    monitors: Vec<MonitorView>,
    nodes: Vec<NodeView>,
    pools: Vec<PoolView>,
    rules: Vec<RuleView>,
    virtuals: Vec<VirtualView>,
}

fn persist_profile(p: Persistence) -> Option<&'static str> {
    match p {
        Persistence::None => None,
        Persistence::SourceAddress => Some("source_addr"),
        Persistence::Cookie => Some("cookie"),
    }
}

/// The tmsh merge file.
pub fn conf_text(site: &Farm, f5: &F5) -> Result<String, crate::Error> {
    let part = &f5.partition;
    let folder = vec![part.clone()];
    let mut rules = Vec::new();
    for v in &f5.virtuals {
        if let Some(name) = &v.rule {
            rules.push(RuleView {
                name: name.clone(),
                text: rule_text(site, f5, v, &folder)?,
            });
        }
    }
    let ctx = MergeFileView {
        site: site.name.clone(),
        partition: part.clone(),
        file: format!("{part}.conf"),
        monitors: f5
            .monitors
            .iter()
            .map(|m| MonitorView {
                name: m.name.clone(),
                kind: m.kind.as_str(),
                send: m.send.clone(),
                recv: m.recv.clone(),
                interval: m.interval,
                timeout: m.timeout,
                port: m.port,
                description: m.description.clone(),
            })
            .collect(),
        nodes: f5
            .node_servers()
            .into_iter()
            .map(|i| {
                let s = site.server(i);
                NodeView {
                    name: s.name.clone(),
                    address: s.address.map(|a| a.to_string()).unwrap_or_default(),
                }
            })
            .collect(),
        pools: pool_views(site, f5),
        rules,
        virtuals: virtual_views(f5)?,
    };
    crate::render::render("f5/partition.conf", &ctx)
}

/// The pools of the merge file, monitors by partition and name.
fn pool_views(site: &Farm, f5: &F5) -> Vec<PoolView> {
    let part = &f5.partition;
    f5.pools
        .iter()
        .map(|p| PoolView {
            name: p.name.clone(),
            description: p.description.clone(),
            members: p
                .members
                .iter()
                .map(|m| MemberView {
                    node: site.server(m.server).name.clone(),
                    port: m.port,
                    address: m.address.to_string(),
                    priority_group: m.priority_group,
                })
                .collect(),
            min_active_members: p.min_active_members,
            service_down_action: p.service_down_action.as_str(),
            monitors: p
                .monitors
                .iter()
                .map(|m| match m {
                    MonitorRef::Defined(i) => (part.clone(), f5.monitors[*i].name.clone()),
                    MonitorRef::Builtin(b) => ("Common".into(), b.clone()),
                })
                .collect(),
        })
        .collect()
}

/// The virtual servers of the merge file, each HTTPS one with `redirect_http` followed by its
/// port-80 redirect virtual server.
fn virtual_views(f5: &F5) -> Result<Vec<VirtualView>, crate::Error> {
    let mut out = Vec::new();
    for v in &f5.virtuals {
        out.push(VirtualView {
            name: v.name.clone(),
            description: v.description.clone(),
            address: v.address.to_string(),
            v6: v.address.is_ipv6(),
            port: v.port,
            pool: Some(f5.pools[v.pool].name.clone()),
            profiles: profile_views(v),
            persist: persist_profile(v.persistence),
            snat_automap: v.snat == Snat::Automap,
            rules: v
                .rule
                .iter()
                .map(|r| rule_path(&f5.partition, r))
                .collect::<Result<_, _>>()?,
        });
        if let Some(name) = &v.redirect {
            out.push(redirect_view(v, name));
        }
    }
    Ok(out)
}

/// `/partition/rule`, each part through `escape::tmsh_name`.
fn rule_path(partition: &str, rule: &str) -> Result<String, crate::Error> {
    let part = |s: &str| {
        crate::escape::tmsh_name(s)
            .map_err(|e| crate::Error::internal(format!("iRule path {s:?}: {e}")))
    };
    Ok(format!("/{}/{}", part(partition)?, part(rule)?))
}

/// F5's built-in iRule that redirects every HTTP request to HTTPS on the same host and path.
const HTTPS_REDIRECT_RULE: &str = "/Common/_sys_https_redirect";

/// The port-80 virtual server that redirects to an HTTPS one: F5's built-in iRule
/// `/Common/_sys_https_redirect` on an HTTP profile and the HTTPS virtual server's TCP profile,
/// no pool, SNAT automap: what AS3 builds for `redirect80` (f5-appsvcs-extension
/// src/lib/map_as3.js, Service_HTTPS `redirectDef`), so both files configure the same one.
fn redirect_view(v: &Virtual, name: &str) -> VirtualView {
    let mut profiles = vec![
        ProfileView::new("http", None),
        ProfileView::new(v.tcp_profile(), None),
    ];
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    VirtualView {
        name: name.to_string(),
        description: format!("Redirects HTTP to {}", v.name),
        address: v.address.to_string(),
        v6: v.address.is_ipv6(),
        port: 80,
        pool: None,
        profiles,
        persist: None,
        snat_automap: true,
        rules: vec![HTTPS_REDIRECT_RULE.into()],
    }
}

/// Every profile of a virtual server, sorted by name: its own list, OneConnect, and the NTLM
/// profile with it when IIS authenticates with NTLM (see [`reuse_profiles`]).
fn profile_views(v: &Virtual) -> Vec<ProfileView> {
    let mut out: Vec<ProfileView> = v
        .profiles
        .iter()
        .map(|p| ProfileView::new(p, None))
        .collect();
    out.extend(reuse_profiles(v).iter().map(|p| ProfileView::new(p, None)));
    // bigip.conf writes an SSL profile with its side (F5 tmsh reference, `ltm virtual` profiles
    // context: clientside for client-ssl, serverside for server-ssl).
    out.extend(
        v.client_ssl
            .iter()
            .map(|p| ProfileView::new(p, Some("clientside"))),
    );
    out.extend(
        v.server_ssl
            .iter()
            .map(|p| ProfileView::new(p, Some("serverside"))),
    );
    out.sort_by(|a, b| (&a.partition, &a.name).cmp(&(&b.partition, &b.name)));
    out
}

/// The connection-reuse profiles of a virtual server (built-in /Common profiles): OneConnect when
/// it is on, with the NTLM profile when IIS authenticates with NTLM. F5 BIG-IP LTM Profiles
/// Reference, "Other Profiles" (About OneConnect profiles: the built-in profile's source mask
/// 0.0.0.0 lets any client reuse an idle server connection, and the mask applies to the source
/// address after SNAT; About NTLM profiles: with OneConnect, a connection NTLM authenticated is
/// reused only for the client that authenticated it),
/// https://techdocs.f5.com/en-us/bigip-16-1-0/big-ip-local-traffic-management-profiles-reference/other-profiles.html.
/// The resolver allows OneConnect only with `auth` "ntlm" or "anonymous" (model::Auth).
pub fn reuse_profiles(v: &Virtual) -> &'static [&'static str] {
    match (v.oneconnect, v.auth) {
        (false, _) => &[],
        (true, model::Auth::Ntlm) => &["ntlm", "oneconnect"],
        (true, _) => &["oneconnect"],
    }
}

/// AS3 remarks are at most 64 characters.
fn remark(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(61).collect();
        t.push_str("...");
        t
    }
}

fn with_remark(mut obj: Value, text: &str) -> Value {
    if !text.is_empty() {
        obj["remark"] = Value::String(remark(text));
    }
    obj
}

/// The AS3 declaration of the same site (keys sorted: serde_json's map is ordered by key).
pub fn as3_value(site: &Farm, f5: &F5) -> Result<Value, crate::Error> {
    let folder = vec![f5.as3_tenant.clone(), AS3_APP.to_string()];
    let mut app = serde_json::Map::new();
    app.insert("class".into(), json!("Application"));
    // AS3 fills this default before it validates; a plain JSON Schema validator does not, and
    // the 3.23 schema then reads the absent template as every template at once (each
    // `if template const …` holds) and requires `serviceMain`. Written out, both schemas agree.
    app.insert("template".into(), json!("generic"));
    for m in &f5.monitors {
        app.insert(m.name.clone(), with_remark(as3_monitor(m), &m.description));
    }
    for p in &f5.pools {
        app.insert(
            p.name.clone(),
            with_remark(as3_pool(site, f5, p), &p.description),
        );
    }
    for v in &f5.virtuals {
        add_as3_virtual(site, f5, v, &folder, &mut app)?;
    }
    let mut tenant = serde_json::Map::new();
    tenant.insert("class".into(), json!("Tenant"));
    tenant.insert(AS3_APP.into(), Value::Object(app));
    let mut decl = serde_json::Map::new();
    decl.insert("class".into(), json!("ADC"));
    decl.insert("schemaVersion".into(), json!(AS3_SCHEMA_VERSION));
    decl.insert("id".into(), json!(format!("sitebundle-{}", site.name)));
    decl.insert("label".into(), json!(remark(&site.name)));
    decl.insert(f5.as3_tenant.clone(), Value::Object(tenant));
    Ok(json!({
        "class": "AS3",
        "action": "deploy",
        "persist": true,
        "declaration": Value::Object(decl),
    }))
}

/// An AS3 Monitor.
fn as3_monitor(m: &Monitor) -> Value {
    let mut o = json!({
        "class": "Monitor",
        "monitorType": m.kind.as_str(),
        "interval": m.interval,
        "timeout": m.timeout,
    });
    // AS3 up to 3.28 requires `send` and `receive` on TCP monitors (as3-schema-3.23.0.json,
    // Monitor_Send_Recv `required`; the 3.29.0 changelog drops it: AUTOTOOL-2377). An empty string
    // is what the merge file's absent value means: AS3 writes "" as `none` (f5-appsvcs-extension
    // src/lib/normalize.js: "BIG-IP uses the string \"none\" for null values"), and `/Common/tcp`
    // sends and expects nothing.
    let empty = || (m.kind == MonitorType::Tcp).then(String::new);
    if let Some(s) = m.send.clone().or_else(empty) {
        o["send"] = json!(s);
    }
    if let Some(r) = m.recv.clone().or_else(empty) {
        o["receive"] = json!(r);
    }
    if let Some(port) = m.port {
        o["targetPort"] = json!(port);
    }
    o
}

/// An AS3 Pool.
fn as3_pool(site: &Farm, f5: &F5, p: &Pool) -> Value {
    let members: Vec<Value> = p
        .members
        .iter()
        .map(|m| {
            // shareNodes: AS3 creates (or reuses) the node `/Common/<address>` instead of one in
            // the tenant (as3-schema 3.23.0 and latest, Pool_Member.shareNodes: "nodes are created
            // in /Common instead of the tenant's partition"): one node per address for every
            // tenant and for hand-made pools, which BIG-IP requires (one node per address).
            json!({
                "servicePort": m.port,
                "serverAddresses": [m.address.to_string()],
                "shareNodes": true,
                "priorityGroup": m.priority_group,
                "remark": remark(&site.server(m.server).name),
            })
        })
        .collect();
    let monitors: Vec<Value> = p
        .monitors
        .iter()
        .map(|m| match m {
            MonitorRef::Defined(i) => json!({ "use": f5.monitors[*i].name }),
            MonitorRef::Builtin(b) => json!({ "bigip": format!("/Common/{b}") }),
        })
        .collect();
    let mut pool = json!({
        "class": "Pool",
        "members": members,
        "minimumMembersActive": p.min_active_members,
        "monitors": monitors,
        "serviceDownAction": p.service_down_action.as_str(),
    });
    if !p.monitors.is_empty() {
        // The merge file says `monitor a and b and c`: a member is up only when every monitor
        // passes. AS3 defaults minimumMonitors to 1 and then writes `min 1 of { a b c }` (any one
        // passes); "all" makes it write `a and b and c` (f5-appsvcs-extension src/lib/map_cli.js,
        // pushMonitors). Accepted by the AS3 schemas 3.23.0 and 3.56.
        pool["minimumMonitors"] = json!("all");
    }
    pool
}

/// An AS3 Service (HTTP or TCP) and its iRule, if it routes paths.
fn add_as3_virtual(
    site: &Farm,
    f5: &F5,
    v: &Virtual,
    folder: &[String],
    app: &mut serde_json::Map<String, Value>,
) -> Result<(), crate::Error> {
    let persistence: Vec<&str> = match v.persistence {
        Persistence::None => vec![],
        Persistence::SourceAddress => vec!["source-address"],
        Persistence::Cookie => vec!["cookie"],
    };
    let mut o = json!({
        "class": match v.protocol {
            Protocol::Http => "Service_HTTP",
            Protocol::Https => "Service_HTTPS",
            Protocol::Tcp => "Service_TCP",
        },
        "virtualAddresses": [v.address.to_string()],
        "virtualPort": v.port,
        "pool": f5.pools[v.pool].name,
        "persistenceMethods": persistence,
        "profileTCP": { "bigip": format!("/Common/{}", v.tcp_profile()) },
        "snat": match v.snat { Snat::Automap => "auto", Snat::None => "none" },
    });
    if v.protocol.is_http() {
        o["profileHTTP"] = json!({ "bigip": "/Common/http" });
    }
    // AS3 names TLS from the BIG-IP's side: serverTLS is the client-ssl profile (the BIG-IP is
    // the server), clientTLS the server-ssl one (map_as3.js: serverTLS → clientside, clientTLS →
    // serverside).
    if let Some(p) = &v.client_ssl {
        o["serverTLS"] = json!({ "bigip": p });
    }
    if let Some(p) = &v.server_ssl {
        o["clientTLS"] = json!({ "bigip": p });
    }
    if v.protocol == Protocol::Https {
        // AS3's default is true (a port-80 redirect virtual server): say what the site wants.
        o["redirect80"] = json!(v.redirect.is_some());
    }
    // map_as3.js Service_HTTP: profileMultiplex and profileNTLM become profiles of the virtual
    // server (the same as the merge file's, see reuse_profiles).
    for p in reuse_profiles(v) {
        let key = match *p {
            "oneconnect" => "profileMultiplex",
            _ => "profileNTLM",
        };
        o[key] = json!({ "bigip": format!("/Common/{p}") });
    }
    if let Some(rule) = &v.rule {
        o["iRules"] = json!([rule]);
        let text = rule_text(site, f5, v, folder)?;
        app.insert(
            rule.clone(),
            json!({
                "class": "iRule",
                // No backquote expansion: the rule names its pools by full path.
                "expand": false,
                "iRule": text,
                "remark": remark(&format!("path routes of {}", v.name)),
            }),
        );
    }
    app.insert(v.name.clone(), with_remark(o, &v.description));
    Ok(())
}

pub fn as3_text(site: &Farm, f5: &F5) -> Result<String, crate::Error> {
    let v = as3_value(site, f5)?;
    let mut s = serde_json::to_string_pretty(&v)
        .map_err(|e| crate::Error::internal(format!("AS3 declaration: {e}")))?;
    s.push('\n');
    Ok(s)
}

const VIRTUAL_RANK: u32 = 0;
const POOL_RANK: u32 = 10;

/// Adds everything the `[f5]` section deploys.
pub fn contribute(site: &Farm, f5: Option<&F5>) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if let Some(f5) = f5 {
        add_all(site, f5, &mut c)?;
    }
    Ok(c)
}

fn add_all(site: &Farm, f5: &F5, plan: &mut Contribution) -> Result<(), crate::Error> {
    add_files(site, f5, plan)?;
    add_runbook(site, f5, plan)?;
    add_topology(site, f5, &mut plan.topology);
    add_member_roles(f5, plan);
    plan.audit.collectors.push(collector(site, f5));
    Ok(())
}

/// Each pool member's role, for the per-server view (one line per pool and port).
fn add_member_roles(f5: &F5, plan: &mut Contribution) {
    for pool in &f5.pools {
        for m in &pool.members {
            let group = if pool.activation() {
                format!(", priority group {}", m.priority_group)
            } else {
                String::new()
            };
            plan.roles.push(crate::plan::ServerRole {
                server: m.server,
                slot: RunbookSlot::F5,
                feature: "f5",
                text: format!(
                    "F5 pool /{}/{} member on port {}{group}",
                    f5.partition, pool.name, m.port
                ),
            });
        }
    }
}

/// The BIG-IP's collector for `sitebundle audit`: `tmsh list` of the partition's LTM objects (read
/// only; names relative to the partition, which the audit qualifies), or the saved
/// `/config/bigip.conf` (`/config/partitions/<name>/bigip.conf` for another partition) copied as is.
fn collector(site: &Farm, f5: &F5) -> crate::plan::Collector {
    let p = &f5.partition;
    crate::plan::Collector {
        source: "BIG-IP".into(),
        run_on: format!(
            "the active BIG-IP, in the bash shell, as an administrator (read-only commands); copy /var/tmp/{}-{p}.conf to collected/f5/{p}.conf",
            site.name
        ),
        command: format!(
            "tmsh -q -c 'cd /{p}; list ltm monitor; list ltm node; list ltm pool; list ltm rule; list ltm virtual' > /var/tmp/{}-{p}.conf",
            site.name
        ),
        output: format!("f5/{p}.conf"),
    }
}

/// The merge file, one iRule file per routed virtual server, the AS3 declaration.
fn add_files(site: &Farm, f5: &F5, plan: &mut Contribution) -> Result<(), crate::Error> {
    // The merge file and the AS3 declaration are independent renderings: both cores.
    let (conf, as3) = crate::parallel::join(|| conf_text(site, f5), || as3_text(site, f5));
    let (conf, as3) = (conf?, as3?);
    let file = conf_path(f5);
    let big_ip = || ["BIG-IP".to_string()];
    plan.add_file(
        file.clone(),
        Artifact::text(ArtifactKind::TmshMerge, Encoding::Utf8, Eol::Lf, conf)
            .hosts(big_ip())
            .deploy(Deploy::Command(format!(
                "tmsh load sys config merge verify file /var/tmp/{0}.conf, then without verify; tmsh save sys config",
                f5.partition
            ))),
    )?;
    let folder = vec![f5.partition.clone()];
    for v in &f5.virtuals {
        if let Some(rule) = &v.rule {
            plan.add_file(
                irule_path(rule),
                Artifact::text(
                    ArtifactKind::IRule,
                    Encoding::Utf8,
                    Eol::Lf,
                    &rule_text(site, f5, v, &folder)?,
                )
                .hosts(big_ip())
                .deploy(Deploy::ReviewOnly {
                    why: format!("embedded in {file}"),
                }),
            )?;
        }
    }
    plan.add_file(
        "f5/as3.json",
        Artifact::text(ArtifactKind::As3, Encoding::Utf8, Eol::Lf, as3)
            .hosts(big_ip())
            .deploy(Deploy::Command(as3_deploy(f5))),
    )
}

/// How `f5/as3.json` is deployed: on BIG-IP 15.1 and later the runbook's first path, else the
/// alternative to the merge file.
fn as3_deploy(f5: &F5) -> String {
    match f5.tmos.filter(|t| *t >= AS3_FIRST_FROM) {
        Some(t) => format!(
            "POST to /mgmt/shared/appsvcs/declare (BIG-IP {}: the runbook's first path; the merge file is the alternative)",
            t.as_string()
        ),
        None => "alternative to the merge file: POST to /mgmt/shared/appsvcs/declare".into(),
    }
}

/// Virtual servers → pools (default pool and routes) → pool members on the servers.
fn add_topology(site: &Farm, f5: &F5, t: &mut Topology) {
    t.columns.push(Column {
        id: "col0".into(),
        rank: VIRTUAL_RANK,
        kind: "virtual".into(),
        title: "Virtual servers (F5)".into(),
        fill: "#e8f0fe".into(),
    });
    t.columns.push(Column {
        id: "col1".into(),
        rank: POOL_RANK,
        kind: "pool".into(),
        title: "Pools".into(),
        fill: "#e6f4ea".into(),
    });
    add_virtual_nodes(f5, t);
    add_pool_nodes(site, f5, t);
}

fn topo_edge(from: String, to: String, label: String, dashed: bool, show_label: bool) -> TopoEdge {
    TopoEdge {
        phase: 0,
        from,
        to,
        label,
        show_label,
        dashed,
    }
}

/// A box per virtual server, an edge to its default pool and one per route.
fn add_virtual_nodes(f5: &F5, t: &mut Topology) {
    for (i, v) in f5.virtuals.iter().enumerate() {
        let addr = match v.address {
            std::net::IpAddr::V6(a) => format!("[{a}]:{}", v.port),
            a => format!("{a}:{}", v.port),
        };
        let id = format!("vs{}", i + 1);
        t.nodes.push(TopoNode {
            id: id.clone(),
            column: VIRTUAL_RANK,
            name: v.name.clone(),
            details: virtual_details(v, &addr),
        });
        t.edges.push(topo_edge(
            id.clone(),
            format!("pool{}", v.pool + 1),
            "default".into(),
            false,
            true,
        ));
        for r in &v.routes {
            t.edges.push(topo_edge(
                id.clone(),
                format!("pool{}", r.pool + 1),
                format!("path {}", r.prefix),
                true,
                true,
            ));
        }
    }
}

/// A virtual server's lines in the topology: address, protocol and TLS.
fn virtual_details(v: &Virtual, addr: &str) -> Vec<String> {
    let mut d = vec![format!("{addr} {:?}", v.protocol).to_lowercase()];
    if let Some(p) = &v.client_ssl {
        d.push(format!("client-ssl {p}"));
    }
    if let Some(p) = &v.server_ssl {
        d.push(format!("server-ssl {p} to the members"));
    }
    if v.redirect.is_some() {
        d.push("port 80 redirects to HTTPS".into());
    }
    d
}

/// A box per pool, an edge to each member's server.
fn add_pool_nodes(site: &Farm, f5: &F5, t: &mut Topology) {
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
        let id = format!("pool{}", i + 1);
        t.nodes.push(TopoNode {
            id: id.clone(),
            column: POOL_RANK,
            name: p.name.clone(),
            details,
        });
        // Member labels repeat the pool box's lines and would pile up where the edges converge:
        // the SVG leaves them out (Mermaid shows them).
        for m in members {
            t.edges.push(topo_edge(
                id.clone(),
                Topology::server_id(m.server),
                format!("port {}, group {}", m.port, m.priority_group),
                false,
                false,
            ));
        }
    }
}

#[derive(Serialize)]
struct RunbookPool {
    name: String,
    members: String,
    /// Its members as the merge file writes them, for `members replace-all-with`.
    member_list: Vec<MemberView>,
}

#[derive(Serialize)]
struct RunbookVirtual {
    name: String,
    no_persist: bool,
    /// How `tmsh list … one-line` shows its destination after the partition: `/ADDR:PORT ` (IPv6:
    /// `/ADDR.PORT `).
    destination: String,
}

#[derive(Serialize)]
struct RunbookNode {
    name: String,
    address: String,
}

#[derive(Serialize)]
struct RunbookMonitor {
    kind: &'static str,
    name: String,
}

/// The pre-flight check of an HTTP(S) monitor: its request sent by hand from the BIG-IP's shell to
/// one member, and what the answer must contain.
#[derive(Serialize)]
struct MonitorProbe {
    name: String,
    /// `server:port` of the member probed.
    member: String,
    /// The `curl … | grep -E …` command line, shell-quoted.
    command: String,
    recv: String,
}

/// A virtual server's authentication and the connection reuse it allows, for the runbook's table.
#[derive(Serialize)]
struct RunbookReuse {
    name: String,
    auth: &'static str,
    oneconnect: bool,
    /// The reuse profiles it carries, `/Common/…`, comma-separated (empty: none).
    profiles: String,
}

#[derive(Serialize)]
struct F5RunbookView {
    partition: String,
    file: String,
    tenant: String,
    as3_app: String,
    pools: Vec<RunbookPool>,
    virtuals: Vec<RunbookVirtual>,
    nodes: Vec<RunbookNode>,
    monitors: Vec<RunbookMonitor>,
    probes: Vec<MonitorProbe>,
    /// SSL profiles the site names: (`client-ssl` or `server-ssl`, full path), sorted, once each.
    ssl_profiles: Vec<(&'static str, String)>,
    /// Client-ssl profiles the runbook creates from the site's `cert` and `key`, once each.
    tls_creates: Vec<TlsCreate>,
    /// Virtual addresses of the site (AS3 creates `/<tenant>/<address>` objects for them).
    virtual_addresses: Vec<String>,
    /// What the pre-flight searches for in `list ltm virtual … one-line`: each virtual address
    /// as a destination shows it before the port (`/ADDR:`, IPv6 `/ADDR.`), on any port, once.
    virtual_searches: Vec<String>,
    /// HTTPS virtual servers with a port-80 redirect: their addresses as a URL host.
    redirects: Vec<String>,
    /// HTTP(S) virtual servers: authentication and connection reuse.
    reuse: Vec<RunbookReuse>,
    /// The servers behind a virtual server with `auth = "ntlm"`: IIS must offer NTLM only there.
    ntlm_servers: Vec<String>,
    rules: Vec<String>,
    /// The bundle has `f5/irules/` (the site's rules or a generated routing rule).
    irules_folder: bool,
    /// The AS3 declaration has `profileNTLM` (a virtual server with OneConnect).
    ntlm: bool,
    routes: Vec<RunbookRoute>,
    /// Spellings of the site's first route prefix that match it and one that does not, for the
    /// runbook's explanation and test (none when the site has no route).
    route_example: Option<RouteExample>,
    common: bool,
    /// The site's `tmos` (`17.1`), empty without it.
    tmos: String,
    /// Which AS3 releases fit that BIG-IP: see [`tmos_range`].
    tmos_range: &'static str,
    /// The AS3 path comes first (BIG-IP 15.1 and later).
    as3_first: bool,
}

/// The first BIG-IP release on which the runbook gives the AS3 declaration first: every AS3
/// release from the declaration's minimum (3.23.0) to the newest supports it, while AS3 3.50.0
/// dropped 13.1 to 14.1.x (F5Networks/f5-appsvcs-extension docs/userguide/prereqs.rst).
pub const AS3_FIRST_FROM: model::Tmos = model::Tmos::new(15, 1);

/// The AS3 releases that fit a BIG-IP release (F5Networks/f5-appsvcs-extension
/// docs/userguide/prereqs.rst: 12.1.x with AS3 3.1.0 through 3.26.1, or 13.1 and later; AS3 3.50.0
/// and later no longer support 13.1 to 14.1.x): "none" without `tmos`, "15.1+" (3.23.0 to the
/// newest, the AS3 path first), "15.0" (the same releases, the merge file first), "13.1-14.1"
/// (3.23.0 to 3.49.0), "12.1" (3.23.0 to 3.26.1), "unsupported" (11.4 to 12.0, 13.0: no AS3).
pub fn tmos_range(tmos: Option<model::Tmos>) -> &'static str {
    use model::Tmos;
    match tmos {
        None => "none",
        Some(t) if t >= AS3_FIRST_FROM => "15.1+",
        Some(t) if t >= Tmos::new(15, 0) => "15.0",
        Some(t) if t >= Tmos::new(13, 1) => "13.1-14.1",
        Some(t) if t == Tmos::new(12, 1) => "12.1",
        Some(_) => "unsupported",
    }
}

#[derive(Serialize, Debug, PartialEq, Eq)]
struct RouteExample {
    prefix: String,
    lower: String,
    with_more: String,
    encoded: String,
    no_match: String,
}

/// `/ECTS/` → `/ects`, `/ECTS/x`, `/%45CTS/x` match, `/ECTSX` does not; `None` for a prefix
/// without a first segment.
fn route_example(prefix: &str) -> Option<RouteExample> {
    let trimmed = prefix.trim_end_matches('/');
    let rest = trimmed.strip_prefix('/')?;
    let first = rest.chars().next().filter(|c| c.is_ascii_alphanumeric())?;
    Some(RouteExample {
        prefix: prefix.to_string(),
        lower: trimmed.to_lowercase(),
        with_more: format!("{trimmed}/x"),
        encoded: format!("/%{:02X}{}/x", first as u32, &rest[1..]),
        no_match: format!("{trimmed}X"),
    })
}

#[derive(Serialize)]
struct RunbookRoute {
    virtual_name: String,
    prefix: String,
    pool: String,
}

/// A virtual server's destination as bigip.conf writes it after the partition: `ADDR:PORT`, or
/// `ADDR.PORT` for IPv6 (F5 tmsh reference, `ltm virtual` destination).
fn destination(address: std::net::IpAddr, port: u16) -> String {
    match address {
        std::net::IpAddr::V6(a) => format!("{a}.{port}"),
        a => format!("{a}:{port}"),
    }
}

/// The client-ssl and server-ssl profiles the site's virtual servers name, each once.
fn ssl_profiles(f5: &F5) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = f5
        .virtuals
        .iter()
        .flat_map(|v| {
            let client = v.client_ssl.iter().map(|p| ("client-ssl", p.clone()));
            let server = v.server_ssl.iter().map(|p| ("server-ssl", p.clone()));
            client.chain(server).collect::<Vec<_>>()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// One probe per HTTP(S) monitor a pool uses, against the preferred member of the first pool (by
/// name) that uses it. The request is the monitor's own send string taken apart into curl options:
/// method and path from the request line, `--http1.0`/`--http1.1` from its version, every header
/// line as `-H` (`-H 'Host:'`, `'User-Agent:'`, `'Accept:'` when the monitor sends none, so that
/// curl adds none either), `-k` for HTTPS (a monitor does not check the member's certificate), `-g` so
/// that an IPv6 address in brackets is not read as a curl glob (curl(1): --globoff).
fn monitor_probes(site: &Farm, f5: &F5) -> Vec<MonitorProbe> {
    let mut out = Vec::new();
    for (i, m) in f5.monitors.iter().enumerate() {
        if m.kind == MonitorType::Tcp {
            continue;
        }
        let used = f5
            .pools
            .iter()
            .find(|p| p.monitors.contains(&MonitorRef::Defined(i)));
        let Some(member) = used.and_then(|p| p.members.first()) else {
            continue;
        };
        let port = m.port.unwrap_or(member.port);
        let Some(command) = probe_command(m, member.address, port) else {
            continue;
        };
        out.push(MonitorProbe {
            name: m.name.clone(),
            member: format!("{}:{port}", site.server(member.server).name),
            command,
            recv: m.recv.clone().unwrap_or_default(),
        });
    }
    out
}

/// `curl … URL | grep -E RECV` for an HTTP(S) monitor, or None when its send string is not an
/// HTTP request (`METHOD PATH HTTP/x.y`, CRLF-separated header lines).
fn probe_command(m: &Monitor, address: std::net::IpAddr, port: u16) -> Option<String> {
    let send = m.send.as_deref()?;
    let mut lines = send.split("\r\n");
    let request: Vec<&str> = lines.next()?.split(' ').collect();
    let [method, path, version] = request[..] else {
        return None;
    };
    let version = match version {
        "HTTP/1.0" => "--http1.0",
        "HTTP/1.1" => "--http1.1",
        _ => return None,
    };
    let sh = |x: &str| crate::escape::sh_word(x).ok();
    let mut words = vec![
        "curl".to_string(),
        "-sS".into(),
        "-i".into(),
        "-g".into(),
        version.into(),
    ];
    if m.kind == MonitorType::Https {
        words.push("-k".into());
    }
    match method {
        "HEAD" => words.push("--head".into()),
        _ => words.extend(["-X".to_string(), sh(method)?]),
    }
    let headers: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
    // curl's own headers go unless the monitor sends them (curl(1), -H: "Header:" with no value
    // removes an internal header), so the member sees the monitor's request byte for byte.
    for own in ["Host:", "User-Agent:", "Accept:"] {
        let name = own.to_ascii_lowercase();
        if !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with(&name))
        {
            words.extend(["-H".to_string(), sh(own)?]);
        }
    }
    for h in headers {
        words.extend(["-H".to_string(), sh(h)?]);
    }
    let host = match address {
        std::net::IpAddr::V6(a) => format!("[{a}]"),
        a => a.to_string(),
    };
    let scheme = if m.kind == MonitorType::Https {
        "https"
    } else {
        "http"
    };
    words.push(sh(&format!("{scheme}://{host}:{port}{path}"))?);
    let recv = m.recv.as_deref().unwrap_or_default();
    Some(format!("{} | grep -E {}", words.join(" "), sh(recv)?))
}

/// A client-ssl profile made from a certificate and key: full paths, and the profile's name alone
/// (the name of its `cert-key-chain` entry).
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct TlsCreate {
    profile: String,
    name: String,
    cert: String,
    key: String,
}

/// The client-ssl profiles to create from a certificate and key the site names, once each.
fn tls_creates(f5: &F5) -> Vec<TlsCreate> {
    let mut v: Vec<TlsCreate> = (f5.virtuals.iter())
        .filter_map(|v| {
            let (cert, key) = v.cert_key.clone()?;
            let profile = v.client_ssl.clone()?;
            Some(TlsCreate {
                name: profile.rsplit('/').next().unwrap_or_default().to_string(),
                profile,
                cert,
                key,
            })
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A pool's members, highest priority group first: `server:port (group N)`; three or more with
/// consecutive names, the same port and group written as one range (`web01–web40:80 (group 0)`,
/// `render::name_ranges`).
fn members_by_group(site: &Farm, p: &model::Pool) -> String {
    let mut ms: Vec<&model::Member> = p.members.iter().collect();
    ms.sort_by_key(|m| std::cmp::Reverse(m.priority_group));
    let mut out: Vec<String> = Vec::new();
    for run in ms.chunk_by(|a, b| (a.port, a.priority_group) == (b.port, b.priority_group)) {
        let names: Vec<&str> = run
            .iter()
            .map(|m| site.server(m.server).name.as_str())
            .collect();
        let (port, group) = (run[0].port, run[0].priority_group);
        for piece in crate::render::name_ranges(&names, "–").split(", ") {
            out.push(format!("{piece}:{port} (group {group})"));
        }
    }
    out.join(", ")
}

fn runbook_node(server: &crate::model::Server) -> RunbookNode {
    RunbookNode {
        name: server.name.clone(),
        address: server.address.map(|a| a.to_string()).unwrap_or_default(),
    }
}

/// The servers that answer for a virtual server with `auth = "ntlm"` (members of its pool and of
/// its routes' pools), by name, once each.
fn ntlm_servers(site: &Farm, f5: &F5) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for v in (f5.virtuals.iter()).filter(|v| v.protocol.is_http() && v.auth == model::Auth::Ntlm) {
        for p in std::iter::once(v.pool).chain(v.routes.iter().map(|r| r.pool)) {
            out.extend(
                f5.pools[p]
                    .members
                    .iter()
                    .map(|m| site.server(m.server).name.clone()),
            );
        }
    }
    out.into_iter().collect()
}

fn runbook_view(site: &Farm, f5: &F5) -> F5RunbookView {
    F5RunbookView {
        partition: f5.partition.clone(),
        file: format!("{}.conf", f5.partition),
        tenant: f5.as3_tenant.clone(),
        as3_app: AS3_APP.into(),
        pools: f5
            .pools
            .iter()
            .zip(pool_views(site, f5))
            .map(|(p, view)| RunbookPool {
                name: p.name.clone(),
                members: members_by_group(site, p),
                member_list: view.members,
            })
            .collect(),
        virtuals: f5
            .virtuals
            .iter()
            .map(|v| RunbookVirtual {
                name: v.name.clone(),
                no_persist: v.persistence == Persistence::None,
                destination: destination(v.address, v.port),
            })
            .collect(),
        nodes: (f5.node_servers().into_iter())
            .map(|i| runbook_node(site.server(i)))
            .collect(),
        monitors: f5
            .monitors
            .iter()
            .map(|m| RunbookMonitor {
                kind: m.kind.as_str(),
                name: m.name.clone(),
            })
            .collect(),
        probes: monitor_probes(site, f5),
        ssl_profiles: ssl_profiles(f5),
        tls_creates: tls_creates(f5),
        virtual_addresses: distinct(f5.virtuals.iter().map(|v| v.address.to_string())),
        // Each virtual address as a destination shows it before the port: `/ADDR:` (IPv6 `/ADDR.`).
        virtual_searches: distinct(f5.virtuals.iter().map(|v| {
            let d = destination(v.address, 0);
            format!("/{}", &d[..d.len() - 1])
        })),
        redirects: f5
            .virtuals
            .iter()
            .filter(|v| v.redirect.is_some())
            .map(|v| match v.address {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            })
            .collect(),
        rules: f5.virtuals.iter().filter_map(|v| v.rule.clone()).collect(),
        reuse: runbook_reuse(f5),
        ntlm_servers: ntlm_servers(site, f5),
        irules_folder: f5.virtuals.iter().any(|v| v.rule.is_some()),
        ntlm: (f5.virtuals.iter()).any(|v| v.protocol.is_http() && v.auth == model::Auth::Ntlm),
        routes: runbook_routes(f5),
        route_example: f5
            .virtuals
            .iter()
            .flat_map(|v| v.routes.iter())
            .find_map(|r| route_example(&r.prefix)),
        common: f5.partition == "Common",
        tmos: f5.tmos.map(model::Tmos::as_string).unwrap_or_default(),
        tmos_range: tmos_range(f5.tmos),
        as3_first: f5.tmos.is_some_and(|t| t >= AS3_FIRST_FROM),
    }
}

/// The values sorted, each once.
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.collect();
    v.sort();
    v.dedup();
    v
}

/// Connection reuse per HTTP(S) virtual server, for the runbook's table.
fn runbook_reuse(f5: &F5) -> Vec<RunbookReuse> {
    (f5.virtuals.iter())
        .filter(|v| v.protocol.is_http())
        .map(|v| RunbookReuse {
            name: v.name.clone(),
            auth: v.auth.as_str(),
            oneconnect: v.oneconnect,
            profiles: (reuse_profiles(v).iter())
                .map(|p| format!("/Common/{p}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// Every path route, for the runbook's table.
fn runbook_routes(f5: &F5) -> Vec<RunbookRoute> {
    f5.virtuals
        .iter()
        .flat_map(|v| {
            v.routes.iter().map(|r| RunbookRoute {
                virtual_name: v.name.clone(),
                prefix: r.prefix.clone(),
                pool: f5.pools[r.pool].name.clone(),
            })
        })
        .collect()
}

/// The runbook section, its checklist step and its prerequisite.
fn add_runbook(site: &Farm, f5: &F5, plan: &mut Contribution) -> Result<(), crate::Error> {
    let section = Section {
        id: "f5".into(),
        slot: RunbookSlot::F5,
        text: crate::render::render("f5/runbook.md", &runbook_view(site, f5))?,
    };
    plan.runbook.add_checklist_parts(
        "f5/checklist.md",
        &serde_json::json!({
            "anchor": section.anchor(),
            "file": format!("{}.conf", f5.partition),
            "as3_first": f5.tmos.is_some_and(|t| t >= AS3_FIRST_FROM),
            "tmos": f5.tmos.map(model::Tmos::as_string).unwrap_or_default(),
        }),
        &[
            ("step", Part::Step, RunbookSlot::F5),
            ("prerequisite", Part::Prerequisite, RunbookSlot::F5),
        ],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}

#[cfg(test)]
mod runbook_tests {
    #[test]
    fn route_examples_follow_the_prefix() {
        let e = super::route_example("/ECTS/").unwrap();
        assert_eq!(
            (
                e.lower.as_str(),
                e.with_more.as_str(),
                e.encoded.as_str(),
                e.no_match.as_str()
            ),
            ("/ects", "/ECTS/x", "/%45CTS/x", "/ECTSX")
        );
        assert_eq!(super::route_example("/"), None);
    }
}
