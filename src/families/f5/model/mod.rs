//! `[f5]`: the BIG-IP configuration of the site (docs/background.md: the load balancer).
//!
//! Nodes come from `[[server]]` entries with an `address`; monitors, pools (members with priority
//! groups and the priority-group activation threshold), virtual servers and path routes are declared
//! here. Routes become one iRule per virtual server. The resolved structs keep indices into the
//! site's servers and into `pools`/`monitors`, so later analyses (failover scenarios, affinity
//! groups) can walk the model without re-parsing names.

use std::collections::HashMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::escape;
use crate::model::{Ctx, Names};
use monitors::resolve_monitors;
use pools::resolve_pools;
use virtuals::resolve_virtuals;

pub mod affinity;
mod monitors;
mod pools;
mod virtuals;

/// The BIG-IP section of the site.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawF5 {
    /// Administrative partition the merge file creates its objects in (`f5/<partition>.conf`).
    /// Default "Common". A partition other than Common must already exist on the BIG-IP.
    #[serde(default = "default_partition")]
    pub partition: String,
    /// AS3 tenant of `f5/as3.json`. Default: the partition, or the site name when the partition is
    /// Common (AS3 reserves Common for shared objects).
    #[serde(default)]
    pub as3_tenant: Option<String>,
    /// The BIG-IP release (TMOS) the files are deployed to, `major.minor` as `tmsh show sys
    /// version` shows it: one of 11.4, 11.5, 11.6, 12.0, 12.1, 13.0, 13.1, 14.0, 14.1, 15.0, 15.1,
    /// 16.0, 16.1, 17.0, 17.1, 17.5. It decides the runbook's order (15.1 and later: the AS3
    /// declaration first, the merge file as the alternative) and which AS3 releases it names.
    /// Without it the runbook names both paths with the merge file first.
    #[serde(default)]
    pub tmos: Option<String>,
    /// Health monitors defined by the site. Pools may also use the built-in monitors `http`,
    /// `https`, `tcp`, `tcp_half_open`, `gateway_icmp` and `icmp` (from /Common).
    #[serde(default)]
    pub monitor: Vec<RawMonitor>,
    /// Pools of servers.
    #[serde(default)]
    pub pool: Vec<RawPool>,
    /// Virtual servers.
    #[serde(default)]
    pub virtual_server: Vec<RawVirtual>,
    /// Affinity groups: virtual servers, path routes and pools that must always be served by one
    /// and the same node. `sitebundle validate` checks every combination of monitor results and
    /// reports each one in which a group would split across nodes or be only partly served.
    #[serde(default)]
    pub affinity: Vec<affinity::RawAffinity>,
}

fn default_partition() -> String {
    "Common".into()
}

/// Kind of a site-defined health monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorType {
    /// HTTP request/response check (`ltm monitor http`).
    Http,
    /// HTTP over TLS (`ltm monitor https`).
    Https,
    /// TCP connect check, optionally with send/recv strings (`ltm monitor tcp`); the right choice
    /// for LDAP (AD LDS) pools when no bind account should be stored on the BIG-IP.
    Tcp,
}

impl Protocol {
    /// Whether the virtual server has an HTTP profile (HTTP, or HTTPS with SSL offload).
    pub fn is_http(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https)
    }
}

impl MonitorType {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorType::Http => "http",
            MonitorType::Https => "https",
            MonitorType::Tcp => "tcp",
        }
    }
}

/// A health monitor.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    /// Object name (letters, digits, `_`, `.`, `-`; starting with a letter; at most 63 characters).
    pub name: String,
    /// "http", "https" or "tcp".
    #[serde(rename = "type")]
    pub kind: MonitorType,
    /// Request sent by the monitor. Use `\r\n` (TOML escapes) between header lines. Printable ASCII
    /// only, without `"`, `\`, `$`, `[`, `]`, `{`, `}`. Default for http/https:
    /// `HEAD / HTTP/1.0\r\n\r\n` (AS3's default, written explicitly in the merge file too, so that
    /// both files probe the same way); tcp: nothing (a connect check).
    #[serde(default)]
    pub send: Option<String>,
    /// Text (a regular expression on the BIG-IP) the response must contain for the member to be up.
    /// Same character rules as `send`. Default for http/https: `HTTP/1.` (AS3's default, written in
    /// both files); tcp: none.
    #[serde(default)]
    pub recv: Option<String>,
    /// Seconds between probes (1-86400). Default 5.
    #[serde(default = "default_interval")]
    pub interval: u32,
    /// Seconds without a good answer before the member is marked down (must exceed `interval`).
    /// Default 16 (3 × interval + 1, F5's rule of thumb).
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    /// Alias service port: probe this port of the node instead of the pool member's own port
    /// (tmsh `destination *:PORT`, AS3 `targetPort`). Lets a pool depend on another service of the
    /// same node, e.g. an LDAP pool that also requires the node's web front end on port 80.
    #[serde(default)]
    pub port: Option<u32>,
    /// The monitor's request is answered without authentication (the path allows anonymous access
    /// in IIS). Without it, an HTTP(S) monitor that expects `200` from the members of a virtual
    /// server with Windows authentication gets a warning: IIS answers 401 to an unauthenticated
    /// request, so the monitor would mark every member down. Default false.
    #[serde(default)]
    pub anonymous: bool,
    /// Free text written as the object's description.
    #[serde(default)]
    pub description: String,
}

fn default_interval() -> u32 {
    5
}
fn default_timeout() -> u32 {
    16
}

/// A pool member: a server from `[[server]]` (it needs an `address`) and a service port.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    /// Server name from `[[server]]`; its `address` becomes the BIG-IP node.
    pub server: String,
    /// Service port (1-65535).
    pub port: u32,
    /// Priority group (0-65535). With priority-group activation on, the highest group gets all
    /// traffic while it has at least `min_active_members` available members. Default 0.
    #[serde(default)]
    pub priority_group: u32,
}

/// A pool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    /// Object name (letters, digits, `_`, `.`, `-`; starting with a letter; at most 63 characters).
    pub name: String,
    /// Members with their ports and priority groups.
    pub members: Vec<RawMember>,
    /// Monitors that must all pass for a member to be up: names of `[[f5.monitor]]` entries or
    /// built-ins (`http`, `https`, `tcp`, `tcp_half_open`, `gateway_icmp`, `icmp`).
    #[serde(default)]
    pub monitors: Vec<String>,
    /// Priority-group activation: the minimum number of available members in the highest priority
    /// group before lower groups receive traffic (tmsh `min-active-members`; the GUI's "Less than
    /// N"). 0 (the default, as in tmsh) turns priority-group activation off.
    #[serde(default)]
    pub min_active_members: u32,
    /// What BIG-IP does with the established connections of a member that its monitors mark
    /// down (tmsh `service-down-action`, AS3 `serviceDownAction`). "reset" (the default for a pool
    /// that serves an affinity group): the client gets a TCP reset and reconnects, and the new
    /// connection goes to the node now chosen, so a group never keeps live connections on a node
    /// its other traffic has left; the price is that requests in flight (an upload, a long LDAP
    /// search) fail and must be retried. "none" (the default elsewhere, as in tmsh): established
    /// connections keep running on the failed member (often it still answers: only one of its
    /// checks failed), so a group's old connections stay where its new ones no longer go.
    /// "drop": connections are silently dropped (clients wait for their own timeouts).
    /// "reselect": connections are moved to another member mid-stream (only for protocols without
    /// connection state; not HTTP with keep-alive or LDAP binds).
    #[serde(default)]
    pub service_down_action: Option<ServiceDownAction>,
    /// Free text written as the object's description.
    #[serde(default)]
    pub description: String,
}

/// `service-down-action` of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceDownAction {
    /// Leave established connections on the member.
    None,
    /// Send the client a TCP reset.
    Reset,
    /// Drop the connections silently.
    Drop,
    /// Move the connections to another member.
    Reselect,
}

impl ServiceDownAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceDownAction::None => "none",
            ServiceDownAction::Reset => "reset",
            ServiceDownAction::Drop => "drop",
            ServiceDownAction::Reselect => "reselect",
        }
    }
}

/// What a virtual server carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP: TCP and HTTP profiles (AS3 `Service_HTTP`). Needed for path routes.
    Http,
    /// HTTPS with SSL offloaded on the BIG-IP: the client-ssl profile `client_ssl` decrypts, then
    /// HTTP as above (AS3 `Service_HTTPS`). Path routes work as on HTTP.
    Https,
    /// Plain TCP, e.g. LDAP (AS3 `Service_TCP`); TLS passes through untouched.
    Tcp,
}

/// How IIS behind an HTTP(S) virtual server authenticates its users: it decides whether the
/// BIG-IP may reuse one server-side connection for several clients (OneConnect).
///
/// Windows authentication authenticates the connection, not the request: IIS 7 and later offer
/// `Negotiate` and `NTLM` by default and keep a Kerberos identity for the whole TCP connection
/// (`authPersistNonNTLM` default true: learn.microsoft.com, IIS settings schema,
/// "windowsAuthentication Element", AuthPersistNonNTLM: "the client will be authenticated only
/// once on the same connection. IIS will cache a token or ticket on the server for a TCP session
/// that stays established"). F5's NTLM profile keeps an NTLM-authenticated server connection for
/// its own client under OneConnect (F5 BIG-IP LTM Profiles Reference, "Other Profiles", About NTLM
/// profiles); nothing does the same for Negotiate/Kerberos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// Integrated Windows authentication as IIS configures it by default: Negotiate (Kerberos)
    /// and NTLM. The default, and the safe assumption: no OneConnect (a Kerberos-authenticated
    /// server connection reused for another client would serve that client under the first
    /// user's identity).
    Windows,
    /// Windows authentication with the NTLM provider only (IIS told so: the runbook's step
    /// removes `Negotiate` from the providers and verifies it). OneConnect is allowed, always
    /// with F5's NTLM profile.
    Ntlm,
    /// Anonymous access or forms (cookie) authentication: nothing is tied to the connection, so
    /// OneConnect is allowed without the NTLM profile.
    Anonymous,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Windows => "windows",
            Auth::Ntlm => "ntlm",
            Auth::Anonymous => "anonymous",
        }
    }
}

/// Session persistence of a virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Persistence {
    /// No persistence: every connection goes to the currently preferred member (no `persist`
    /// block; AS3 `persistenceMethods: []`).
    None,
    /// Source address affinity (`/Common/source_addr`).
    SourceAddress,
    /// HTTP cookie insert (`/Common/cookie`); HTTP virtual servers only.
    Cookie,
}

/// Source address translation of a virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Snat {
    /// SNAT automap: servers see the BIG-IP's self IP and answer through it.
    Automap,
    /// No translation: the servers must route back through the BIG-IP.
    None,
}

/// A path route: requests whose path starts with `prefix` go to `pool`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Path prefix, e.g. "/ECTS/". Matched case-insensitively against the percent-decoded,
    /// normalised path without query string, on whole path segments: "/ECTS/" matches "/ects",
    /// "/ects/" and "/ECTS/x" but not "/ECTSX". Letters, digits and `- . _ ~ + , = : @ !` between
    /// slashes; no wildcards.
    pub prefix: String,
    /// Pool that receives the matching requests.
    pub pool: String,
}

/// A virtual server.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVirtual {
    /// Object name (letters, digits, `_`, `.`, `-`; starting with a letter; at most 63 characters).
    pub name: String,
    /// Virtual address (IPv4 or IPv6).
    pub address: String,
    /// Service port (1-65535).
    pub port: u32,
    /// "http", "https" or "tcp".
    pub protocol: Protocol,
    /// HTTPS: the client-ssl profile that holds the site's certificate and key, in /Common
    /// (`name` or `/Common/name`): both the merge file and the AS3 declaration use it, and AS3
    /// owns its tenant's partition (a hand-made profile there is undone or blocks the tenant's
    /// deletion), while a virtual server can use objects of its own partition and /Common only.
    /// sitebundle never handles keys: with `cert` and `key` the runbook gives the command that
    /// creates the profile from them; without, the profile must already exist.
    #[serde(default)]
    pub client_ssl: Option<String>,
    /// HTTPS: the certificate (`sys file ssl-cert`, in /Common, e.g. `partner.example.org.crt`)
    /// that the client-ssl profile serves, already imported on the BIG-IP. With `key`.
    #[serde(default)]
    pub cert: Option<String>,
    /// HTTPS: the private key (`sys file ssl-key`, in /Common, e.g. `partner.example.org.key`) of
    /// `cert`, already imported on the BIG-IP.
    #[serde(default)]
    pub key: Option<String>,
    /// A server-ssl profile (`serverssl` for F5's built-in one, or your own) when the pool members
    /// listen on TLS ports (443, 8443…): the BIG-IP then speaks TLS to them. Without it, an HTTP or
    /// HTTPS virtual server sends plain HTTP, which a TLS port rejects.
    #[serde(default)]
    pub server_ssl: Option<String>,
    /// HTTPS only: also create a virtual server on port 80 of the same address that redirects
    /// every request to HTTPS (F5's built-in iRule `/Common/_sys_https_redirect`; AS3
    /// `redirect80`). Default false.
    #[serde(default)]
    pub redirect_http: bool,
    /// Built-in /Common profiles: exactly one TCP profile (`tcp`, `tcp-lan-optimized`,
    /// `tcp-wan-optimized`) plus `http` for HTTP virtual servers. Default: `["http", "tcp"]` for
    /// HTTP, `["tcp"]` for TCP.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    /// Default pool.
    pub pool: String,
    /// "none" (default), "source-address" or "cookie".
    #[serde(default = "default_persistence")]
    pub persistence: Persistence,
    /// "automap" (default) or "none".
    #[serde(default = "default_snat")]
    pub snat: Snat,
    /// Path routes, turned into one iRule attached to this virtual server. Needs `protocol = "http"`.
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    /// HTTP and HTTPS: how IIS behind it authenticates users. "windows" (the default: IIS's
    /// Windows authentication with Negotiate and NTLM, SharePoint's default), "ntlm" (Windows
    /// authentication with the NTLM provider only; the runbook removes Negotiate on the members
    /// and verifies it) or "anonymous" (anonymous access or forms authentication). It decides
    /// whether OneConnect is safe: see `oneconnect`.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// OneConnect (`/Common/oneconnect`, AS3 `profileMultiplex`), HTTP virtual servers only.
    /// Without it BIG-IP load balances once per client connection: a keep-alive browser connection
    /// stays on the node it first reached, so after the preferred node comes back (or a route's
    /// pool moves) its requests keep going to the fallback while new clients go to the preferred
    /// node. With it every request is load balanced (and routed) on its own, and an idle
    /// server-side connection may be reused for another client: the built-in profile's source
    /// mask is 0.0.0.0, and the mask applies to the address after SNAT, so behind SNAT automap
    /// every client has the same source and no mask separates them. Allowed only where that is
    /// safe: `auth = "anonymous"`, or `auth = "ntlm"` (then with F5's `/Common/ntlm` profile,
    /// which keeps a connection NTLM authenticated for its own client). Never with
    /// `auth = "windows"`: a Kerberos identity stays on the server connection. Default: on for
    /// such virtual servers when they carry routes or serve an affinity group, off elsewhere.
    #[serde(default)]
    pub oneconnect: Option<bool>,
    /// Name of the generated iRule. Default: the virtual server's name followed by `_routes`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Free text written as the object's description.
    #[serde(default)]
    pub description: String,
}

fn default_persistence() -> Persistence {
    Persistence::None
}
fn default_snat() -> Snat {
    Snat::Automap
}

/// Monitors that exist on every BIG-IP in /Common.
pub const BUILTIN_MONITORS: &[&str] = &[
    "http",
    "https",
    "tcp",
    "tcp_half_open",
    "gateway_icmp",
    "icmp",
];
/// Profiles a virtual server may name (all built-in /Common profiles).
pub const TCP_PROFILES: &[&str] = &["tcp", "tcp-lan-optimized", "tcp-wan-optimized"];

#[derive(Debug, Clone)]
pub struct Monitor {
    pub name: String,
    pub kind: MonitorType,
    pub send: Option<String>,
    pub recv: Option<String>,
    pub interval: u32,
    pub timeout: u32,
    /// Alias service port (probes this port instead of the member's).
    pub port: Option<u16>,
    /// The site states that the request is answered without authentication.
    pub anonymous: bool,
    pub description: String,
}

/// A monitor a pool uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorRef {
    /// Index into [`F5::monitors`].
    Defined(usize),
    /// A built-in /Common monitor by name.
    Builtin(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Index into the site's servers (which has an address).
    pub server: usize,
    pub address: IpAddr,
    pub port: u16,
    pub priority_group: u32,
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    pub members: Vec<Member>,
    pub monitors: Vec<MonitorRef>,
    pub min_active_members: u32,
    pub service_down_action: ServiceDownAction,
    pub description: String,
}

impl Pool {
    /// Whether priority-group activation is on.
    pub fn activation(&self) -> bool {
        self.min_active_members > 0
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    /// As written in site.toml.
    pub prefix: String,
    /// Normalised: lower case, no trailing slash, e.g. `/ects`.
    pub path: String,
    /// Index into [`F5::pools`].
    pub pool: usize,
}

impl Route {
    /// The `switch -glob` patterns of this route: the path itself and everything below it.
    pub fn patterns(&self) -> [String; 2] {
        [self.path.clone(), format!("{}/*", self.path)]
    }
}

#[derive(Debug, Clone)]
pub struct Virtual {
    pub name: String,
    pub address: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    /// Built-in /Common profile names, sorted.
    pub profiles: Vec<String>,
    /// Index into [`F5::pools`].
    pub pool: usize,
    pub persistence: Persistence,
    pub snat: Snat,
    /// Longest path first, so that nested prefixes route to the most specific pool.
    pub routes: Vec<Route>,
    /// Name of the generated iRule (present when there are routes).
    pub rule: Option<String>,
    /// How IIS behind it authenticates (HTTP and HTTPS; `Windows` for TCP, where it means nothing).
    pub auth: Auth,
    /// OneConnect (with the NTLM profile when `auth` is `Ntlm`).
    pub oneconnect: bool,
    /// Full paths of the client-ssl and server-ssl profiles (`/Common/name`).
    pub client_ssl: Option<String>,
    pub server_ssl: Option<String>,
    /// Full paths of the certificate and key the client-ssl profile is created from (both or
    /// neither).
    pub cert_key: Option<(String, String)>,
    /// The name of the port-80 redirect virtual server (HTTPS with `redirect_http`).
    pub redirect: Option<String>,
    pub description: String,
}

impl Virtual {
    /// The TCP profile among the profiles.
    pub fn tcp_profile(&self) -> &str {
        self.profiles
            .iter()
            .find(|p| TCP_PROFILES.contains(&p.as_str()))
            .map(|s| s.as_str())
            .unwrap_or("tcp")
    }
}

/// The TMOS releases `[f5] tmos` accepts (major.minor): every release from 11.4, the oldest the
/// merge file is written for (its iRules `call` a `proc`: F5 iRules reference, `call`, BIG-IP
/// 11.4.0), to 17.5 (LTS, released 2025-02-27: endoflife.date `big-ip`, from F5 K5903).
pub const TMOS_RELEASES: &[&str] = &[
    "11.4", "11.5", "11.6", "12.0", "12.1", "13.0", "13.1", "14.0", "14.1", "15.0", "15.1", "16.0",
    "16.1", "17.0", "17.1", "17.5",
];

/// A BIG-IP release, `major.minor` (one of [`TMOS_RELEASES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tmos {
    pub major: u8,
    pub minor: u8,
}

impl Tmos {
    /// One of [`TMOS_RELEASES`], or None.
    pub fn parse(s: &str) -> Option<Tmos> {
        if !TMOS_RELEASES.contains(&s) {
            return None;
        }
        let (major, minor) = s.split_once('.')?;
        Some(Tmos {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    pub const fn new(major: u8, minor: u8) -> Tmos {
        Tmos { major, minor }
    }

    pub fn as_string(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// The resolved BIG-IP section.
#[derive(Debug, Clone)]
pub struct F5 {
    pub partition: String,
    pub as3_tenant: String,
    /// The BIG-IP release the site names (`[f5] tmos`), if any.
    pub tmos: Option<Tmos>,
    pub monitors: Vec<Monitor>,
    pub pools: Vec<Pool>,
    pub virtuals: Vec<Virtual>,
    /// Affinity groups (resolved references into `pools` and `virtuals`).
    pub affinities: Vec<affinity::Affinity>,
}

impl F5 {
    pub fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|p| p.name == name)
    }
    /// The monitor names a pool uses (built-ins as `/Common/x`, defined ones by name).
    pub fn monitor_names(&self, pool: &Pool) -> Vec<String> {
        pool.monitors
            .iter()
            .map(|m| match m {
                MonitorRef::Defined(i) => self.monitors[*i].name.clone(),
                MonitorRef::Builtin(b) => format!("/Common/{b}"),
            })
            .collect()
    }
    /// Servers used as pool members, sorted by index, without repeats (the BIG-IP nodes).
    pub fn node_servers(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .pools
            .iter()
            .flat_map(|p| p.members.iter().map(|m| m.server))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Printable ASCII plus line breaks and tabs, without the characters a tmsh quoted string or a
/// Tcl parser would interpret.
fn check_tmsh_text(s: &str) -> Result<(), String> {
    escape::tmsh_str(s).map(|_| ()).map_err(|e| e.to_string())
}

const DESCRIPTION_HELP: &str =
    "write the description as one line of plain text without `\"`, `\\`, `$`, `[`, `]`, `{`, `}`";

/// A description: a tmsh quoted string on one line (it also becomes an AS3 `remark`, which allows
/// no control characters).
fn check_description(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{} cannot appear in a description (one line of printable text)",
            crate::model::show_char(c)
        ));
    }
    check_tmsh_text(s)
}

/// A route prefix: `/seg/seg/`, segments of safe characters, no wildcards, no `.`/`..`.
pub fn normalise_prefix(s: &str) -> Result<String, String> {
    if !s.starts_with('/') {
        return Err(format!("route prefix `{s}` must start with `/`"));
    }
    if let Some(c) = s.chars().find(|c| {
        !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                '/' | '-' | '.' | '_' | '~' | '+' | ',' | '=' | ':' | '@' | '!'
            ))
    }) {
        let why = match c {
            '*' | '?' | '[' | ']' => {
                " (a wildcard in `switch -glob`; prefixes are literal, write the path itself)"
            }
            '%' => " (prefixes are compared with the decoded path: write the character itself)",
            _ => "",
        };
        return Err(format!(
            "route prefix `{s}` contains {}{why}; use letters, digits, `/` and `- . _ ~ + , = : @ !`",
            crate::model::show_char(c)
        ));
    }
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(format!(
            "route prefix `{s}` matches every request; that is the virtual server's `pool`"
        ));
    }
    for seg in trimmed[1..].split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(format!(
                "route prefix `{s}` has an empty, `.` or `..` segment; requests are normalised before matching, so it could never match"
            ));
        }
    }
    if s.len() > 200 {
        return Err(format!("route prefix `{s}` is longer than 200 characters"));
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// A name of a monitor, pool, iRule or virtual server: a tmsh name (`escape::tmsh_name`) that is
/// also an AS3 property name, which cannot end in `-` (AS3 schema 3.23.0 to 3.56.0, `Application`'s
/// `propertyNames`: `^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$`).
fn name_check(ctx: &mut Ctx, path: &str, name: &str, example: &str) -> bool {
    let checked = escape::tmsh_name(name).and_then(|n| match n.ends_with('-') {
        true => Err(escape::Unsafe(
            "an AS3 name cannot end with `-` (f5/as3.json names the object after it)".into(),
        )),
        false => Ok(n),
    });
    match checked {
        Ok(_) => true,
        Err(why) => {
            ctx.error(
                path,
                format!("`{name}` is not a valid BIG-IP object name: {why}"),
                format!("e.g. `{example}`"),
            );
            false
        }
    }
}

fn port(ctx: &mut Ctx, path: &str, p: u32) -> Option<u16> {
    if (1..=65535).contains(&p) {
        Some(p as u16)
    } else {
        ctx.error(
            path,
            format!("port {p} is outside 1-65535"),
            "e.g. `port = 80`",
        );
        None
    }
}

pub fn resolve(
    raw: &RawF5,
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    site_name: &str,
) -> Option<F5> {
    let (as3_tenant, mut ok) = resolve_tenant(raw, ctx, site_name);
    let (tmos, tok) = resolve_tmos(raw, ctx);
    ok &= tok;

    // Every object name is unique within the partition (across kinds too, to keep tables readable).
    let mut all_names: Vec<(String, String)> = Vec::new();

    let (monitors, mok) = resolve_monitors(raw, ctx, &mut all_names);
    ok &= mok;
    let mut known_monitors: HashMap<&str, usize> = raw
        .monitor
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    for (j, b) in BUILTIN_MONITORS.iter().enumerate() {
        known_monitors.entry(b).or_insert(usize::MAX - j);
    }

    let (pools, pok) = resolve_pools(raw, ctx, names, servers, &known_monitors, &mut all_names);
    ok &= pok;
    let pool_idx: HashMap<&str, usize> = raw
        .pool
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();

    let (virtuals, vok) = resolve_virtuals(raw, ctx, &pool_idx, &mut all_names);
    ok &= vok;
    ok &= check_tls_members(raw, ctx, &monitors, &pools, &virtuals);
    warn_monitors_behind_windows_auth(ctx, &monitors, &pools, &virtuals);
    ctx.unique(
        "BIG-IP object name",
        all_names.iter().map(|(a, b)| (a.clone(), b.as_str())),
    );
    let affinities = affinity::resolve(&raw.affinity, ctx, &raw.virtual_server, &pools, &virtuals);
    ok &= affinities.is_some();
    let affinities = affinities.unwrap_or_default();
    let (pools, virtuals) = group_defaults(raw, pools, virtuals, &affinities);
    ok.then(|| {
        canonical_order(F5 {
            partition: raw.partition.clone(),
            as3_tenant,
            tmos,
            monitors,
            pools,
            virtuals,
            affinities,
        })
    })
}

/// Ports whose service speaks TLS from the first byte (IANA service names `https` 443, `ldaps`
/// 636, and the common alternative HTTPS port 8443).
pub const TLS_PORTS: &[u16] = &[443, 636, 8443];

/// Whether a pool's members speak TLS: a TLS port, or an https monitor probing the member's own
/// port.
fn speaks_tls(monitors: &[Monitor], pool: &Pool, member: &Member) -> bool {
    TLS_PORTS.contains(&member.port)
        || pool.monitors.iter().any(|m| match m {
            MonitorRef::Defined(i) => {
                monitors[*i].kind == MonitorType::Https && monitors[*i].port.is_none()
            }
            MonitorRef::Builtin(b) => b == "https",
        })
}

/// An HTTP or HTTPS virtual server sends plain HTTP to its members unless it has a server-ssl
/// profile: an error when its pool or a route's pool has members that speak TLS.
fn check_tls_members(
    raw: &RawF5,
    ctx: &mut Ctx,
    monitors: &[Monitor],
    pools: &[Pool],
    virtuals: &[Virtual],
) -> bool {
    let mut ok = true;
    for v in virtuals
        .iter()
        .filter(|v| v.protocol.is_http() && v.server_ssl.is_none())
    {
        let i = raw
            .virtual_server
            .iter()
            .position(|r| r.name == v.name)
            .unwrap_or(0);
        let reached = std::iter::once(v.pool).chain(v.routes.iter().map(|r| r.pool));
        let mut seen = std::collections::BTreeSet::new();
        for pi in reached.filter(|p| seen.insert(*p)) {
            let Some(pool) = pools.get(pi) else { continue };
            if let Some(m) = pool.members.iter().find(|m| speaks_tls(monitors, pool, m)) {
                ctx.error(
                    &format!("f5.virtual_server[{i}].pool"),
                    format!(
                        "virtual server `{}` sends plain HTTP to pool `{}`, whose members speak TLS (port {})",
                        v.name, pool.name, m.port
                    ),
                    "add `server_ssl = \"serverssl\"` (or your own server-ssl profile) so the BIG-IP speaks TLS to them, or point the pool at the members' plain HTTP port",
                );
                ok = false;
            }
        }
    }
    ok
}

/// An HTTP(S) monitor that expects `200` from the members of a virtual server with Windows
/// authentication marks them all down unless its path is anonymous: IIS answers an
/// unauthenticated request with 401 (learn.microsoft.com, "Windows Authentication
/// <windowsAuthentication>": the server challenges with WWW-Authenticate; IIS status codes: 401.2
/// "Logon failed due to server configuration" for a request without credentials). A warning at
/// the monitor's `recv`, once per monitor, unless the site states `anonymous = true` or the receive
/// string accepts `401` too. Monitors are
/// still in the file's order here, so an index is the `[[f5.monitor]]` entry.
fn warn_monitors_behind_windows_auth(
    ctx: &mut Ctx,
    monitors: &[Monitor],
    pools: &[Pool],
    virtuals: &[Virtual],
) {
    let mut warned = std::collections::BTreeSet::new();
    for v in virtuals
        .iter()
        .filter(|v| v.protocol.is_http() && v.auth != Auth::Anonymous)
    {
        let reached = std::iter::once(v.pool).chain(v.routes.iter().map(|r| r.pool));
        for pool in reached.filter_map(|p| pools.get(p)) {
            for m in &pool.monitors {
                let MonitorRef::Defined(i) = *m else { continue };
                let Some(mon) = monitors.get(i) else { continue };
                // A receive string that also accepts the challenge (`401`) passes either way.
                let expects_200 =
                    (mon.recv.as_deref()).is_some_and(|r| r.contains("200") && !r.contains("401"));
                if mon.kind == MonitorType::Tcp || mon.anonymous || !expects_200 {
                    continue;
                }
                if warned.insert(i) {
                    ctx.warn(
                        crate::diag::Code::F5MonitorNeedsAnonymous,
                        &format!("f5.monitor[{i}].recv"),
                        format!(
                            "monitor `{}` expects `{}` from the members of virtual server `{}`, whose IIS uses {} authentication: IIS answers 401 to the monitor's request unless its path allows anonymous access, and the monitor then marks every member down",
                            mon.name,
                            mon.recv.as_deref().unwrap_or_default(),
                            v.name,
                            if v.auth == Auth::Ntlm { "NTLM" } else { "Windows" },
                        ),
                        "if the path allows anonymous access in IIS, say so with `anonymous = true` on the monitor; otherwise accept the challenge too, e.g. `recv = \"HTTP/1.. (200|401)\"`",
                    );
                }
            }
        }
    }
}

/// The defaults that depend on the affinity groups: `service_down_action` "reset" for a pool that
/// serves a group, and OneConnect on for an HTTP virtual server that carries routes or serves a
/// group, unless its members use Windows authentication with Negotiate (targets are still in the
/// file's order here).
fn group_defaults(
    raw: &RawF5,
    mut pools: Vec<Pool>,
    mut virtuals: Vec<Virtual>,
    groups: &[affinity::Affinity],
) -> (Vec<Pool>, Vec<Virtual>) {
    use affinity::TargetRef;
    let mut group_pools = std::collections::BTreeSet::new();
    let mut group_virtuals = std::collections::BTreeSet::new();
    // The virtuals that send to each pool (default pool or a route), indexed once.
    let mut virtuals_of_pool: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, v) in virtuals.iter().enumerate() {
        for p in std::iter::once(v.pool).chain(v.routes.iter().map(|r| r.pool)) {
            virtuals_of_pool.entry(p).or_default().push(i);
        }
    }
    for t in groups.iter().flat_map(|g| &g.targets) {
        match *t {
            TargetRef::Virtual(v) => {
                group_pools.extend(virtuals.get(v).map(|x| x.pool));
                group_virtuals.insert(v);
            }
            TargetRef::Route(v, r) => {
                group_pools.extend(
                    virtuals
                        .get(v)
                        .and_then(|x| x.routes.get(r))
                        .map(|r| r.pool),
                );
                group_virtuals.insert(v);
            }
            TargetRef::Pool(p) => {
                group_pools.insert(p);
                group_virtuals.extend(virtuals_of_pool.get(&p).into_iter().flatten());
            }
        }
    }
    for (i, (p, rp)) in pools.iter_mut().zip(&raw.pool).enumerate() {
        p.service_down_action = rp
            .service_down_action
            .unwrap_or(if group_pools.contains(&i) {
                ServiceDownAction::Reset
            } else {
                ServiceDownAction::None
            });
    }
    let oneconnect_by_name: std::collections::HashMap<&str, Option<bool>> = raw
        .virtual_server
        .iter()
        .rev() // the first entry of a name wins, as a search from the front would find it
        .map(|r| (r.name.as_str(), r.oneconnect))
        .collect();
    for (i, v) in virtuals.iter_mut().enumerate() {
        let wanted = oneconnect_by_name.get(v.name.as_str()).copied().flatten();
        // OneConnect only where no identity is tied to the server connection (see `Auth`).
        let default = v.protocol.is_http()
            && v.auth != Auth::Windows
            && (!v.routes.is_empty() || group_virtuals.contains(&i));
        v.oneconnect = wanted.unwrap_or(default);
    }
    (pools, virtuals)
}

/// `[f5] tmos`: one of [`TMOS_RELEASES`], or an error at `f5.tmos` that lists them.
fn resolve_tmos(raw: &RawF5, ctx: &mut Ctx) -> (Option<Tmos>, bool) {
    let Some(text) = &raw.tmos else {
        return (None, true);
    };
    match Tmos::parse(text) {
        Some(t) => (Some(t), true),
        None => {
            ctx.error(
                "f5.tmos",
                format!(
                    "`{}` is not a BIG-IP release sitebundle knows: `tmos` is `major.minor`, one of {}",
                    text.escape_debug(),
                    TMOS_RELEASES.join(", ")
                ),
                "write the release `tmsh show sys version` shows, without its patch level, e.g. `tmos = \"17.1\"`",
            );
            (None, false)
        }
    }
}

/// The partition's name check and the AS3 tenant (default: the partition, or the site name when
/// the partition is Common).
fn resolve_tenant(raw: &RawF5, ctx: &mut Ctx, site_name: &str) -> (String, bool) {
    let mut ok = name_check(
        ctx,
        "f5.partition",
        &raw.partition,
        "partition = \"Common\"",
    );
    let as3_tenant = match &raw.as3_tenant {
        Some(t) => {
            ok &= name_check(ctx, "f5.as3_tenant", t, "as3_tenant = \"partnerpoint\"");
            if t == "Common" {
                ctx.error(
                    "f5.as3_tenant",
                    "AS3 reserves the tenant `Common` for shared objects",
                    "choose another tenant name, e.g. the site name",
                );
                ok = false;
            }
            t.clone()
        }
        None if raw.partition != "Common" => raw.partition.clone(),
        None => site_name.to_string(),
    };
    (as3_tenant, ok)
}

/// Puts every list whose order carries no meaning in a canonical order, so that rearranging
/// site.toml never changes the generated files (tests/it/determinism.rs): monitors and pools by name,
/// each pool's
/// members by priority group (preferred first; preference is the explicit `priority_group`), then
/// server name and port, and each pool's
/// monitors by name (all of them must pass). Indices into the sorted lists are remapped.
fn canonical_order(mut f5: F5) -> F5 {
    fn order<T>(items: &[T], key: impl Fn(&T) -> String) -> (Vec<usize>, Vec<usize>) {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        idx.sort_by_key(|&i| (key(&items[i]).to_lowercase(), key(&items[i]), i));
        let mut new_of_old = vec![0; items.len()];
        for (new, &old) in idx.iter().enumerate() {
            new_of_old[old] = new;
        }
        (idx, new_of_old)
    }
    fn permute<T: Clone>(items: &[T], idx: &[usize]) -> Vec<T> {
        idx.iter().map(|&i| items[i].clone()).collect()
    }
    let (midx, mnew) = order(&f5.monitors, |m| m.name.clone());
    f5.monitors = permute(&f5.monitors, &midx);
    let (pidx, pnew) = order(&f5.pools, |p| p.name.clone());
    f5.pools = permute(&f5.pools, &pidx);
    for pool in &mut f5.pools {
        for m in &mut pool.monitors {
            if let MonitorRef::Defined(i) = m {
                *i = mnew.get(*i).copied().unwrap_or(*i);
            }
        }
        let names: Vec<String> = pool
            .monitors
            .iter()
            .map(|m| match m {
                MonitorRef::Defined(i) => f5
                    .monitors
                    .get(*i)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                MonitorRef::Builtin(b) => b.clone(),
            })
            .collect();
        let (mi, _) = order(&names, |n| n.clone());
        pool.monitors = permute(&pool.monitors, &mi);
        // Preferred group first; servers are already in name order, so their index orders them
        // by name.
        pool.members
            .sort_by_key(|m| (std::cmp::Reverse(m.priority_group), m.server, m.port));
    }
    // Virtual servers keep the file's order: the failover scenario tables list a group's targets
    // in that order (and BIG-IP does not care).
    let vnew: Vec<usize> = (0..f5.virtuals.len()).collect();
    for v in &mut f5.virtuals {
        v.pool = pnew.get(v.pool).copied().unwrap_or(v.pool);
        for r in &mut v.routes {
            r.pool = pnew.get(r.pool).copied().unwrap_or(r.pool);
        }
    }
    // Affinity groups keep the file's order: the scenario check reports its findings at
    // `f5.affinity[i]` by position. Their targets follow the new indices.
    use affinity::TargetRef;
    for a in &mut f5.affinities {
        for t in &mut a.targets {
            *t = match *t {
                TargetRef::Virtual(v) => TargetRef::Virtual(vnew.get(v).copied().unwrap_or(v)),
                TargetRef::Route(v, r) => TargetRef::Route(vnew.get(v).copied().unwrap_or(v), r),
                TargetRef::Pool(p) => TargetRef::Pool(pnew.get(p).copied().unwrap_or(p)),
            };
        }
    }
    f5
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed release parses and orders as a version; a patch level, an unlisted release and
    /// other spellings do not parse (the control: a list entry compared as text would put 11.4
    /// after 11.10).
    #[test]
    fn tmos_releases() {
        let all: Vec<Tmos> = TMOS_RELEASES
            .iter()
            .map(|s| Tmos::parse(s).unwrap())
            .collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert_eq!(Tmos::parse("15.1"), Some(Tmos::new(15, 1)));
        assert_eq!(Tmos::new(17, 5).as_string(), "17.5");
        for bad in [
            "17.1.1", "18.0", "21.0", "17", "v17.1", " 17.1", "17.01", "10.2", "",
        ] {
            assert_eq!(Tmos::parse(bad), None, "{bad:?}");
        }
        assert!(Tmos::new(11, 4) < Tmos::new(11, 10) && "11.4" > "11.10");
    }

    #[test]
    fn prefixes() {
        assert_eq!(normalise_prefix("/ECTS/").unwrap(), "/ects");
        assert_eq!(normalise_prefix("/ECTS").unwrap(), "/ects");
        assert_eq!(normalise_prefix("/a/B-c/").unwrap(), "/a/b-c");
        for bad in [
            "ECTS/", "/", "//", "/a//b", "/a/../b", "/./a", "/ects*", "/ec?s", "/[e]", "/a b",
            "/a{b}", "/a\"b", "/$x", "/%45", "/a\\b", "/a;b", "/é",
        ] {
            assert!(normalise_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
