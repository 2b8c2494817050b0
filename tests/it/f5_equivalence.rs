//! One configuration, two syntaxes: the AS3 declaration (`f5/as3.json`) and the tmsh merge file
//! (`f5/<partition>.conf`) must configure the same BIG-IP behaviour.
//!
//! Both are expanded into **effective settings**, a flat map `object setting → value` with every
//! default made explicit:
//! - the merge file is parsed (Tcl's parser checks its structure first, `tests/tmsh_structure.tcl`;
//!   then a line parser of the bigip.conf layout builds the statement tree) and a property it leaves
//!   out takes the tmsh default (F5 tmsh reference, `ltm pool`: `min-active-members` 0,
//!   `service-down-action` none; `ltm virtual`: no `persist` = no persistence,
//!   `source-address-translation` type none; `ltm monitor http|https|tcp`: interval 5, timeout 16,
//!   `destination *:*`; `/Common/http` sends `GET /\r\n` and expects nothing, `/Common/tcp` sends
//!   and expects nothing);
//! - the declaration is expanded the way AS3 does: a property it leaves out takes its default from
//!   F5's own schema (`tests/schemas/as3-schema.json`, read here, not copied), and the translation
//!   to tmsh follows f5-appsvcs-extension `src/lib/map_as3.js` (persistence names, `snat` "auto" →
//!   automap, `profileHTTP` → /Common/http, `serverTLS` → a clientside profile and `clientTLS` a
//!   serverside one, `profileMultiplex`, the `-Redirect-` virtual server of `Service_HTTPS` with
//!   `/Common/_sys_https_redirect`, monitor `destination *:targetPort`),
//!   `src/lib/properties.json` (`minimumMembersActive` → `min-active-members`,
//!   `serviceDownAction` → `service-down-action`), `src/lib/map_cli.js` `pushMonitors`
//!   (`minimumMonitors`: "all" → `a and b`, N → `min N of { … }`) and `src/lib/normalize.js` ("" →
//!   `none`; strings quoted with CR/LF/TAB written as `\r`/`\n`/`\t`).
//!
//! Virtual servers are compared by destination (what listens where), pools, monitors and iRules by
//! name, pool members by address and port (AS3 names nodes by address, the merge file by server).
//! A control drops one attribute at a time from the declaration and requires the comparison to
//! fail.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common;

type Settings = BTreeMap<String, String>;

// ---- the merge file ------------------------------------------------------------------------------

/// A line of a statement: its words, and its block when it opens one (`key {` … `}` or `key { }`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Item {
    pub(crate) words: Vec<String>,
    pub(crate) block: Option<Vec<Item>>,
}

impl Item {
    pub(crate) fn get(&self, key: &str) -> Option<&Item> {
        self.block.as_ref()?.iter().find(|i| i.words[0] == key)
    }
    /// The value of a one-line property (`key value…`), words joined by a space.
    pub(crate) fn value(&self, key: &str) -> Option<String> {
        let it = self.get(key)?;
        (it.block.is_none()).then(|| it.words[1..].join(" "))
    }
    /// The first word of each line of a block property.
    fn names(&self, key: &str) -> Vec<String> {
        self.get(key)
            .and_then(|i| i.block.as_ref())
            .map(|b| b.iter().map(|i| i.words[0].clone()).collect())
            .unwrap_or_default()
    }
}

/// Words of one bigip.conf line: a quoted string (kept with its quotes, its escapes as written)
/// is one word, and so are `{` and `}`.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            let mut w = String::from(chars.next().unwrap());
            while let Some(c) = chars.next() {
                w.push(c);
                if c == '\\' {
                    w.extend(chars.next());
                } else if c == '"' {
                    break;
                }
            }
            out.push(w);
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(w);
        }
    }
    out
}

/// The statements of a merge file; an `ltm rule` keeps its body as one word.
pub(crate) fn parse_conf(text: &str) -> Vec<Item> {
    let mut top = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut w = words(t);
        assert_eq!(w.pop().as_deref(), Some("{"), "statement header: {line}");
        if w[..2] == ["ltm", "rule"] {
            w.push(rule_body(&mut lines));
            top.push(Item {
                words: w,
                block: None,
            });
        } else {
            let block = parse_block(&mut lines);
            top.push(Item {
                words: w,
                block: Some(block),
            });
        }
    }
    top
}

/// An iRule body: up to the `}` that closes `ltm rule … {` (its own braces balance; Tcl checked
/// the statement).
fn rule_body<'a>(lines: &mut impl Iterator<Item = &'a str>) -> String {
    let mut body = String::new();
    let mut depth = 0i64;
    for line in lines {
        if line == "}" && depth == 0 {
            return body;
        }
        let mut escaped = false;
        for c in line.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        body.push_str(line);
        body.push('\n');
    }
    panic!("unterminated rule")
}

fn parse_block<'a>(lines: &mut impl Iterator<Item = &'a str>) -> Vec<Item> {
    let mut items = Vec::new();
    while let Some(line) = lines.next() {
        let mut w = words(line.trim());
        match w.last().map(String::as_str) {
            Some("}") if w.len() == 1 => return items,
            Some("}") if w.len() >= 2 && w[w.len() - 2] == "{" => {
                w.truncate(w.len() - 2);
                items.push(Item {
                    words: w,
                    block: Some(Vec::new()),
                });
            }
            Some("{") => {
                w.pop();
                let block = parse_block(lines);
                items.push(Item {
                    words: w,
                    block: Some(block),
                });
            }
            Some(_) => items.push(Item {
                words: w,
                block: None,
            }),
            None => {}
        }
    }
    panic!("unterminated block")
}

/// `/Partition/name` or `/Tenant/App/name` → `name` for the site's own objects; built-ins and
/// other absolute paths stay as they are.
fn local(path: &str, folder: &str) -> String {
    path.strip_prefix(folder)
        .map(str::to_string)
        .unwrap_or_else(|| path.to_string())
}

/// `10.1.2.3:80` or `2001:db8::1.80` (IPv6 takes `.` before the port) → (address, port).
fn split_destination(s: &str) -> (String, String) {
    let (a, p) = s
        .rsplit_once(':')
        .filter(|(a, _)| a.parse::<IpAddr>().is_ok())
        .unwrap_or_else(|| s.rsplit_once('.').expect("ADDRESS:PORT or ADDRESS.PORT"));
    let addr: IpAddr = a.parse().unwrap_or_else(|_| panic!("address in {s}"));
    (addr.to_string(), p.to_string())
}

/// Effective settings of a merge file whose objects are in `/partition/`.
fn tmsh_settings(text: &str, partition: &str) -> Settings {
    let folder = format!("/{partition}/");
    let mut s = Settings::new();
    let items = parse_conf(text);
    let nodes: BTreeMap<String, String> = items
        .iter()
        .filter(|i| i.words[..2] == ["ltm", "node"])
        .map(|i| (i.words[2].clone(), i.value("address").unwrap()))
        .collect();
    // Site monitors by full path; built-ins keep theirs (in partition Common too).
    let monitors: BTreeSet<String> = items
        .iter()
        .filter(|i| i.words[..2] == ["ltm", "monitor"])
        .map(|i| i.words[3].clone())
        .collect();
    for it in &items {
        match (it.words[1].as_str(), it.words.len()) {
            ("monitor", 4) => tmsh_monitor(&mut s, it, &folder),
            ("pool", 3) => tmsh_pool(&mut s, it, &folder, &nodes, &monitors),
            ("virtual", 3) => tmsh_virtual(&mut s, it, &folder),
            ("rule", 4) => {
                let name = local(&it.words[2], &folder);
                s.insert(format!("rule {name}"), it.words[3].replace(&folder, "@/"));
            }
            ("node", 3) => {}
            _ => panic!("unexpected statement {:?}", it.words),
        }
    }
    s
}

fn tmsh_monitor(s: &mut Settings, it: &Item, folder: &str) {
    let kind = it.words[2].as_str();
    let name = local(&it.words[3], folder);
    let (send, recv) = match kind {
        "http" | "https" => ("\"GET /\\r\\n\"", "none"),
        "tcp" => ("none", "none"),
        other => panic!("monitor type {other}"),
    };
    let unquote = |v: String| v.trim_matches('"').to_string();
    let k = |x: &str| format!("monitor {name} {x}");
    s.insert(k("type"), kind.into());
    s.insert(k("interval"), it.value("interval").unwrap_or("5".into()));
    s.insert(k("timeout"), it.value("timeout").unwrap_or("16".into()));
    s.insert(
        k("send"),
        unquote(it.value("send").unwrap_or(send.into())).replace("none", ""),
    );
    s.insert(
        k("recv"),
        unquote(it.value("recv").unwrap_or(recv.into())).replace("none", ""),
    );
    s.insert(
        k("destination"),
        it.value("destination").unwrap_or("*:*".into()),
    );
}

fn tmsh_pool(
    s: &mut Settings,
    it: &Item,
    folder: &str,
    nodes: &BTreeMap<String, String>,
    monitors: &BTreeSet<String>,
) {
    let name = local(&it.words[2], folder);
    let k = |x: &str| format!("pool {name} {x}");
    for m in it.get("members").and_then(|m| m.block.as_ref()).unwrap() {
        let (node, port) = m.words[0]
            .rsplit_once(['.', ':'])
            .filter(|(n, _)| nodes.contains_key(*n))
            .unwrap_or_else(|| panic!("member {} of an unknown node", m.words[0]));
        let addr = m.value("address").unwrap();
        assert_eq!(&nodes[node], &addr, "member {} address", m.words[0]);
        let ip: IpAddr = addr.parse().unwrap();
        s.insert(
            k(&format!("member {ip} port {port} priority-group")),
            m.value("priority-group").unwrap_or("0".into()),
        );
    }
    s.insert(
        k("min-active-members"),
        it.value("min-active-members").unwrap_or("0".into()),
    );
    s.insert(
        k("service-down-action"),
        it.value("service-down-action").unwrap_or("none".into()),
    );
    let name_of = |m: &str| {
        if monitors.contains(m) {
            local(m, folder)
        } else {
            m.to_string()
        }
    };
    s.insert(
        k("monitor"),
        tmsh_monitor_rule(it.value("monitor"), name_of),
    );
}

/// `a and b` → "all of a b"; `min N of { a b }` → "N of a b" ("all" when N is the count).
fn tmsh_monitor_rule(rule: Option<String>, name_of: impl Fn(&str) -> String) -> String {
    let Some(rule) = rule else {
        return "none".into();
    };
    let w: Vec<&str> = rule.split_whitespace().collect();
    let (n, names): (Option<usize>, Vec<String>) = if w[0] == "min" {
        let names = w[3..].iter().filter(|x| !matches!(**x, "{" | "}"));
        (
            Some(w[1].parse().unwrap()),
            names.map(|x| name_of(x)).collect(),
        )
    } else {
        (None, w.iter().step_by(2).map(|x| name_of(x)).collect())
    };
    monitor_rule(n, names)
}

fn monitor_rule(n: Option<usize>, mut names: Vec<String>) -> String {
    names.sort();
    let count = match n {
        Some(n) if n < names.len() => n.to_string(),
        _ => "all".into(),
    };
    format!("{count} of {}", names.join(" "))
}

fn tmsh_virtual(s: &mut Settings, it: &Item, folder: &str) {
    let dest = it.value("destination").unwrap();
    let (addr, port) = split_destination(&local(&dest, folder));
    let k = |x: &str| format!("virtual {addr} port {port} {x}");
    s.insert(
        k("pool"),
        it.value("pool")
            .map(|p| local(&p, folder))
            .unwrap_or("none".into()),
    );
    s.insert(k("ip-protocol"), it.value("ip-protocol").unwrap());
    let persist = it.get("persist").and_then(|p| p.block.as_ref());
    let persist: Vec<String> = persist
        .map(|b| {
            b.iter()
                .map(|p| format!("{}{}", p.words[0], default_mark(p.value("default"))))
                .collect()
        })
        .unwrap_or_default();
    s.insert(k("persist"), list_or_none(persist));
    let profiles: Vec<String> = it
        .get("profiles")
        .and_then(|p| p.block.as_ref())
        .unwrap()
        .iter()
        .map(|p| {
            let context = p.value("context").unwrap_or("all".into());
            format!("{} ({context})", p.words[0])
        })
        .collect();
    s.insert(k("profiles"), sorted(profiles));
    let rules: Vec<String> = it.names("rules").iter().map(|r| local(r, folder)).collect();
    s.insert(k("rules"), list_or_none(rules));
    let snat = it
        .get("source-address-translation")
        .and_then(|b| b.value("type"))
        .unwrap_or("none".into());
    s.insert(k("snat"), snat);
    for t in ["translate-address", "translate-port"] {
        s.insert(k(t), it.value(t).unwrap_or("enabled".into()));
    }
}

fn default_mark(v: Option<String>) -> &'static str {
    if v.as_deref() == Some("yes") {
        " (default)"
    } else {
        ""
    }
}

fn list_or_none(v: Vec<String>) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn sorted(mut v: Vec<String>) -> String {
    v.sort();
    list_or_none(v)
}

// ---- the AS3 declaration -----------------------------------------------------------------------

fn schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(&common::read("tests/schemas/as3-schema.json")).unwrap())
}

/// AS3's default of `prop` in definition `def` of F5's schema: the `default` of the property
/// wherever the definition (or a definition it refers to) declares it.
fn schema_default(def: &str, prop: &str) -> Value {
    try_schema_default(def, prop)
        .unwrap_or_else(|| panic!("AS3 schema has no default for {def}.{prop}"))
}

fn try_schema_default(def: &str, prop: &str) -> Option<Value> {
    fn walk(x: &Value, prop: &str, seen: &mut BTreeSet<String>) -> Option<Value> {
        match x {
            Value::Object(m) => {
                if let Some(d) = m
                    .get("properties")
                    .and_then(|p| p.get(prop))
                    .and_then(|p| p.get("default"))
                {
                    return Some(d.clone());
                }
                m.iter().find_map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let name = r.strip_prefix("#/definitions/")?;
                        seen.insert(name.to_string())
                            .then(|| walk(&schema()["definitions"][name], prop, seen))
                            .flatten()
                    }
                    ("properties", _) => None,
                    _ => walk(v, prop, seen),
                })
            }
            Value::Array(a) => a.iter().find_map(|v| walk(v, prop, seen)),
            _ => None,
        }
    }
    walk(&schema()["definitions"][def], prop, &mut BTreeSet::new())
}

/// A property of an AS3 object, or its schema default.
fn prop(obj: &Value, def: &str, name: &str) -> Value {
    obj.get(name)
        .cloned()
        .unwrap_or_else(|| schema_default(def, name))
}

/// How AS3 writes a string property in tmsh (normalize.js quoteString; "" and "none" are none).
fn as3_text(v: &Value) -> String {
    let s = v.as_str().unwrap_or_default();
    if s == "none" {
        return String::new();
    }
    s.replace('\r', "\\r")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

/// A pointer (`{ "bigip": path }`, `{ "use": name }`) or a name → the object's effective name.
fn as3_ref(v: &Value, folder: &str) -> String {
    if let Some(b) = v.get("bigip").and_then(Value::as_str) {
        local(b, folder)
    } else if let Some(u) = v.get("use").and_then(Value::as_str) {
        local(u, folder)
    } else {
        local(v.as_str().unwrap(), folder)
    }
}

/// Effective settings of an AS3 request (one tenant, one application).
fn as3_settings(decl: &Value) -> Settings {
    let mut s = Settings::new();
    let adc = &decl["declaration"];
    for (tenant, t) in adc.as_object().unwrap() {
        let Some(t) = t.as_object() else { continue };
        for (app_name, app) in t {
            let Some(app) = app.as_object() else { continue };
            let folder = format!("/{tenant}/{app_name}/");
            for (name, obj) in app {
                match obj.get("class").and_then(Value::as_str) {
                    Some("Monitor") => as3_monitor(&mut s, name, obj),
                    Some("Pool") => as3_pool(&mut s, name, obj, &folder),
                    Some("iRule") => {
                        let text = obj["iRule"].as_str().unwrap();
                        s.insert(format!("rule {name}"), text.replace(&folder, "@/"));
                    }
                    Some(c @ ("Service_HTTP" | "Service_HTTPS" | "Service_TCP")) => {
                        as3_service(&mut s, c, obj, &folder)
                    }
                    _ => {}
                }
            }
        }
    }
    s
}

fn as3_monitor(s: &mut Settings, name: &str, obj: &Value) {
    let kind = obj["monitorType"].as_str().unwrap();
    let def = match kind {
        "http" | "https" => "Monitor_HTTP",
        "tcp" => "Monitor_TCP",
        other => panic!("monitor type {other}"),
    };
    let k = |x: &str| format!("monitor {name} {x}");
    s.insert(k("type"), kind.into());
    for (key, p) in [("interval", "interval"), ("timeout", "timeout")] {
        s.insert(k(key), prop(obj, "Monitor", p).to_string());
    }
    s.insert(k("send"), as3_text(&prop(obj, def, "send")));
    s.insert(k("recv"), as3_text(&prop(obj, def, "receive")));
    // map_as3.js Monitor: destination = (targetAddress || '*') + ':' + (targetPort || '*').
    let port = obj
        .get("targetPort")
        .and_then(Value::as_u64)
        .filter(|p| *p != 0);
    s.insert(
        k("destination"),
        format!("*:{}", port.map_or("*".into(), |p| p.to_string())),
    );
}

fn as3_pool(s: &mut Settings, name: &str, obj: &Value, folder: &str) {
    let k = |x: &str| format!("pool {name} {x}");
    for m in obj["members"].as_array().unwrap() {
        let port = &m["servicePort"];
        let pg = prop(m, "Pool_Member", "priorityGroup");
        for a in m["serverAddresses"].as_array().unwrap() {
            let ip: IpAddr = a.as_str().unwrap().parse().unwrap();
            s.insert(
                k(&format!("member {ip} port {port} priority-group")),
                pg.to_string(),
            );
        }
    }
    s.insert(
        k("min-active-members"),
        prop(obj, "Pool", "minimumMembersActive").to_string(),
    );
    s.insert(
        k("service-down-action"),
        prop(obj, "Pool", "serviceDownAction")
            .as_str()
            .unwrap()
            .into(),
    );
    let monitors: Vec<String> = obj
        .get("monitors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|m| match m.as_str() {
                    Some(builtin) => format!("/Common/{builtin}"),
                    None => as3_ref(m, folder),
                })
                .collect()
        })
        .unwrap_or_default();
    let rule = if monitors.is_empty() {
        "none".into()
    } else {
        let n = match prop(obj, "Pool", "minimumMonitors") {
            Value::String(a) if a == "all" => None,
            n => Some(n.as_u64().unwrap() as usize),
        };
        monitor_rule(n, monitors)
    };
    s.insert(k("monitor"), rule);
}

/// A Service_* object: one virtual server per address, plus for Service_HTTPS with `redirect80`
/// the port-80 redirect virtual server AS3 adds (map_as3.js Service_HTTPS).
fn as3_service(s: &mut Settings, class: &str, obj: &Value, folder: &str) {
    let port = prop(obj, class, "virtualPort");
    let http = class != "Service_TCP";
    let tcp = as3_tcp_profile(&prop(obj, class, "profileTCP"), folder);
    let mut profiles = vec![format!("{tcp} (all)")];
    if http {
        let h = obj.get("profileHTTP").map_or("/Common/http".into(), |p| {
            if p.is_string() {
                "/Common/http".into()
            } else {
                as3_ref(p, folder)
            }
        });
        profiles.push(format!("{h} (all)"));
    }
    for (key, context) in [("serverTLS", "clientside"), ("clientTLS", "serverside")] {
        if let Some(p) = obj.get(key) {
            profiles.push(format!("{} ({context})", as3_ref(p, folder)));
        }
    }
    for key in ["profileMultiplex", "profileNTLM"] {
        if let Some(p) = obj.get(key) {
            profiles.push(format!("{} (all)", as3_ref(p, folder)));
        }
    }
    let persist: Vec<String> = prop(obj, class, "persistenceMethods")
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let path = match m.as_str() {
                Some(method) => format!(
                    "/Common/{}",
                    method.replace("address", "addr").replace('-', "_")
                ),
                None => as3_ref(m, folder),
            };
            format!("{path}{}", if i == 0 { " (default)" } else { "" })
        })
        .collect();
    let rules: Vec<String> = obj
        .get("iRules")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|r| as3_ref(r, folder)).collect())
        .unwrap_or_default();
    let snat = match prop(obj, class, "snat").as_str().unwrap() {
        "auto" => "automap".to_string(),
        other => other.to_string(),
    };
    let onoff = |v: Value| {
        if v == Value::Bool(true) {
            "enabled"
        } else {
            "disabled"
        }
    };
    for a in obj["virtualAddresses"].as_array().unwrap() {
        let addr: IpAddr = a.as_str().unwrap().parse().unwrap();
        let k = |x: &str| format!("virtual {addr} port {port} {x}");
        s.insert(
            k("pool"),
            obj.get("pool")
                .map_or("none".into(), |p| as3_ref(p, folder)),
        );
        s.insert(k("ip-protocol"), "tcp".into());
        s.insert(k("persist"), list_or_none(persist.clone()));
        s.insert(k("profiles"), sorted(profiles.clone()));
        s.insert(k("rules"), list_or_none(rules.clone()));
        s.insert(k("snat"), snat.clone());
        s.insert(
            k("translate-address"),
            onoff(prop(obj, class, "translateServerAddress")).into(),
        );
        s.insert(
            k("translate-port"),
            onoff(prop(obj, class, "translateServerPort")).into(),
        );
        if class == "Service_HTTPS" && prop(obj, class, "redirect80") == Value::Bool(true) {
            as3_redirect(s, addr, &tcp);
        }
    }
}

/// The redirect virtual server of a Service_HTTPS (map_as3.js `redirectDef`: port 80, the
/// `_sys_https_redirect` iRule, the service's TCP profile, the default HTTP profile, no pool, no
/// persistence, SNAT automap, addresses and ports translated).
fn as3_redirect(s: &mut Settings, addr: IpAddr, tcp: &str) {
    let k = |x: &str| format!("virtual {addr} port 80 {x}");
    for (key, v) in [
        ("pool", "none".to_string()),
        ("ip-protocol", "tcp".into()),
        ("persist", "none".into()),
        (
            "profiles",
            sorted(vec![format!("{tcp} (all)"), "/Common/http (all)".into()]),
        ),
        ("rules", "/Common/_sys_https_redirect".into()),
        ("snat", "automap".into()),
        ("translate-address", "enabled".into()),
        ("translate-port", "enabled".into()),
    ] {
        s.insert(k(key), v);
    }
}

/// `profileTCP`: a pointer, or a name of AS3's built-in choices (map_as3.js Service_TCP).
fn as3_tcp_profile(v: &Value, folder: &str) -> String {
    match v.as_str() {
        Some("normal") => "/Common/tcp".into(),
        Some("lan") => "/Common/tcp-lan-optimized".into(),
        Some("wan") => "/Common/tcp-wan-optimized".into(),
        Some(other) => panic!("profileTCP {other}"),
        None => as3_ref(v, folder),
    }
}

// ---- the comparison ----------------------------------------------------------------------------

/// Differences between two settings maps, one line each.
fn differences(tmsh: &Settings, as3: &Settings) -> Vec<String> {
    let keys: BTreeSet<&String> = tmsh.keys().chain(as3.keys()).collect();
    keys.into_iter()
        .filter(|k| tmsh.get(*k) != as3.get(*k))
        .map(|k| format!("{k}: merge file {:?}, AS3 {:?}", tmsh.get(k), as3.get(k)))
        .collect()
}

/// (name, merge file settings, AS3 declaration) of the reference and every fixture with `[f5]`.
fn sites() -> Vec<(String, Settings, Value)> {
    let mut sites = vec![("site.toml".to_string(), common::read("site.toml"))];
    sites.extend(common::fixtures());
    sites
        .into_iter()
        .filter_map(|(name, text)| {
            let b = common::build_text(&name, &text);
            let as3: Value = serde_json::from_slice(&b.files.get("f5/as3.json")?.bytes).unwrap();
            let (path, conf) = b
                .files
                .iter()
                .find(|(p, _)| p.starts_with("f5/") && p.ends_with(".conf"))
                .unwrap();
            let partition = path.trim_start_matches("f5/").trim_end_matches(".conf");
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("x.conf");
            std::fs::write(&file, &conf.bytes).unwrap();
            let tcl = crate::f5::tcl_statements(&file);
            assert!(tcl.iter().all(|(tag, _)| tag == "STMT"), "{name}: {tcl:?}");
            let text = String::from_utf8(conf.bytes.clone()).unwrap();
            Some((name, tmsh_settings(&text, partition), as3))
        })
        .collect()
}

#[test]
fn as3_and_the_merge_file_configure_the_same_settings() {
    let sites = sites();
    assert!(sites.len() >= 3, "{} sites with [f5]", sites.len());
    let mut compared = 0;
    for (name, tmsh, as3) in &sites {
        let diff = differences(tmsh, &as3_settings(as3));
        assert!(diff.is_empty(), "{name}:\n{}", diff.join("\n"));
        compared += tmsh.len();
    }
    eprintln!(
        "{compared} effective settings compared over {} sites",
        sites.len()
    );
}

/// Removes `key` from every object of `class` in the declaration; true when one had a value
/// other than AS3's default (dropping a default changes nothing, and must not).
fn drop_attribute(decl: &mut Value, class: &str, key: &str) -> bool {
    let default = try_schema_default(class, key);
    let mut dropped = false;
    for (_, t) in decl["declaration"].as_object_mut().unwrap() {
        let Some(t) = t.as_object_mut() else { continue };
        for (_, app) in t {
            let Some(app) = app.as_object_mut() else {
                continue;
            };
            for (_, obj) in app {
                if obj.get("class").and_then(Value::as_str) == Some(class) {
                    if let Some(o) = obj.as_object_mut() {
                        dropped |= o.remove(key).is_some_and(|v| Some(v) != default);
                    }
                }
            }
        }
    }
    dropped
}

/// Control: each attribute the declaration writes to say what the merge file says is needed;
/// dropped where its value is not AS3's default (which then takes its place), the comparison
/// fails for some site.
#[test]
fn dropping_an_attribute_from_the_declaration_breaks_the_equivalence() {
    let sites = sites();
    let attributes = [
        ("Pool", "minimumMembersActive"),
        ("Pool", "minimumMonitors"),
        ("Pool", "serviceDownAction"),
        ("Service_HTTP", "persistenceMethods"),
        ("Service_TCP", "persistenceMethods"),
        ("Service_HTTP", "iRules"),
        ("Service_HTTP", "profileTCP"),
        ("Service_HTTP", "snat"),
        ("Monitor", "targetPort"),
        ("Monitor", "receive"),
        ("Monitor", "interval"),
        ("Service_HTTPS", "redirect80"),
        ("Service_HTTPS", "clientTLS"),
        ("Service_HTTP", "profileMultiplex"),
        ("Service_HTTP", "profileNTLM"),
        ("Service_HTTPS", "profileMultiplex"),
        ("Service_HTTPS", "profileNTLM"),
    ];
    let mut caught = Vec::new();
    for (class, key) in attributes {
        let mut present = false;
        let mut failed = false;
        for (_, tmsh, as3) in &sites {
            let mut broken = as3.clone();
            if drop_attribute(&mut broken, class, key) {
                present = true;
                failed |= !differences(tmsh, &as3_settings(&broken)).is_empty();
            }
        }
        if present {
            assert!(failed, "dropping {class}.{key} went unnoticed");
            caught.push(format!("{class}.{key}"));
        }
    }
    assert!(caught.len() >= 9, "only {caught:?} were present");
}

/// A site with one routed HTTP virtual server per authentication (`auth`), all with SNAT automap.
fn auth_site(extra: &str) -> String {
    let mut s = String::from(
        "[site]\nname = \"auth\"\nchanged = \"2024-01-15 08:00:00\"\nscripts_share = '\\\\fs1\\scripts'\n\n[[server]]\nname = \"web1\"\nos = \"2008\"\naddress = \"10.0.0.1\"\n\n[[server]]\nname = \"web2\"\nos = \"2008\"\naddress = \"10.0.0.2\"\n\n[f5]\npartition = \"Auth\"\n\n[[f5.pool]]\nname = \"web\"\nmonitors = [\"http\"]\nmembers = [{ server = \"web1\", port = 80 }, { server = \"web2\", port = 80 }]\n\n[[f5.pool]]\nname = \"admin\"\nmonitors = [\"http\"]\nmembers = [{ server = \"web1\", port = 80 }]\n",
    );
    for (i, auth) in ["windows", "ntlm", "anonymous", ""].iter().enumerate() {
        let auth_line = if auth.is_empty() {
            String::new()
        } else {
            format!("auth = \"{auth}\"\n")
        };
        s.push_str(&format!(
            "\n[[f5.virtual_server]]\nname = \"vs{i}\"\naddress = \"10.0.1.{}\"\nport = 80\nprotocol = \"http\"\npool = \"web\"\n{auth_line}routes = [{{ prefix = \"/admin/\", pool = \"admin\" }}]\n",
            i + 1
        ));
    }
    s.push_str(extra);
    s
}

/// The reuse profiles (`/Common/oneconnect`, `/Common/ntlm`) of each virtual server, by address.
fn reuse_of(settings: &Settings) -> BTreeMap<String, Vec<String>> {
    settings
        .iter()
        .filter_map(|(k, v)| {
            let addr = k
                .strip_prefix("virtual ")?
                .strip_suffix(" port 80 profiles")?;
            let reuse = (v.split(", "))
                .map(|p| p.trim_end_matches(" (all)"))
                .filter(|p| *p == "/Common/oneconnect" || *p == "/Common/ntlm")
                .map(String::from)
                .collect();
            Some((addr.to_string(), reuse))
        })
        .collect()
}

/// What each authentication allows (model::Auth): Windows (the default, Negotiate may give
/// Kerberos) no reuse at all; NTLM only OneConnect with the NTLM profile; anonymous OneConnect
/// alone. The violations of a virtual server's reuse profiles, empty when it is safe.
fn reuse_violations(auth: &str, reuse: &[String]) -> Vec<String> {
    let has = |p: &str| reuse.iter().any(|x| x == p);
    let mut out = Vec::new();
    match auth {
        "windows" if !reuse.is_empty() => {
            out.push(format!("Windows authentication with {reuse:?}"))
        }
        "ntlm" if has("/Common/oneconnect") && !has("/Common/ntlm") => {
            out.push("OneConnect without the NTLM profile".into())
        }
        _ => {}
    }
    out
}

/// The reuse settings per authentication, in the merge file and in the declaration alike (both
/// parsed, expanded and compared), and the safety rule on each.
#[test]
fn connection_reuse_follows_the_authentication() {
    let b = common::build_text("auth.toml", &auth_site(""));
    let conf = String::from_utf8(b.files["f5/Auth.conf"].bytes.clone()).unwrap();
    let as3: Value = serde_json::from_slice(&b.files["f5/as3.json"].bytes).unwrap();
    let tmsh = tmsh_settings(&conf, "Auth");
    let decl = as3_settings(&as3);
    let diff = differences(&tmsh, &decl);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
    for settings in [&tmsh, &decl] {
        let reuse = reuse_of(settings);
        let want: BTreeMap<String, Vec<String>> = [
            ("10.0.1.1", vec![]),
            ("10.0.1.2", vec!["/Common/ntlm", "/Common/oneconnect"]),
            ("10.0.1.3", vec!["/Common/oneconnect"]),
            ("10.0.1.4", vec![]),
        ]
        .into_iter()
        .map(|(a, v)| (a.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(reuse, want);
        for (addr, auth) in [
            ("10.0.1.1", "windows"),
            ("10.0.1.2", "ntlm"),
            ("10.0.1.3", "anonymous"),
            ("10.0.1.4", "windows"),
        ] {
            assert!(reuse_violations(auth, &reuse[addr]).is_empty(), "{addr}");
        }
    }
    // Control: the previous default (OneConnect and NTLM on every routed virtual server, whatever
    // IIS does) violates the rule on the Windows-authenticated ones.
    let old = vec!["/Common/ntlm".to_string(), "/Common/oneconnect".to_string()];
    assert_eq!(reuse_violations("windows", &old).len(), 1);
    assert_eq!(
        reuse_violations("ntlm", &["/Common/oneconnect".to_string()]).len(),
        1
    );
}

/// OneConnect asked for on a Windows-authenticated virtual server is refused at its `oneconnect`;
/// on an NTLM or anonymous one it is kept.
#[test]
fn oneconnect_with_windows_authentication_is_an_error() {
    let mut site = auth_site("");
    site = site.replacen("name = \"vs0\"", "name = \"vs0\"\noneconnect = true", 1);
    let Err(d) = sitebundle::load_text("auth.toml", &site) else {
        panic!("refused")
    };
    let text = d.render();
    assert!(text.contains("OneConnect on `vs0`"), "{text}");
    assert!(text.contains("authPersistNonNTLM"), "{text}");
    let ok = auth_site("").replacen("name = \"vs1\"", "name = \"vs1\"\noneconnect = true", 1);
    assert!(sitebundle::load_text("auth.toml", &ok).is_ok());
}

/// An HTTP monitor that expects `200` on a Windows-authenticated virtual server's members warns,
/// unless the site states its path anonymous; a `401`-tolerant receive string does not.
#[test]
fn a_monitor_expecting_200_behind_windows_authentication_warns() {
    let monitor = |recv: &str, anonymous: bool| {
        let site = auth_site(&format!(
            "\n[[f5.monitor]]\nname = \"mon_web\"\ntype = \"http\"\nrecv = \"{recv}\"\nanonymous = {anonymous}\n"
        ))
        .replace("monitors = [\"http\"]", "monitors = [\"mon_web\"]");
        let (_, diags) = sitebundle::load_text("auth.toml", &site).expect("resolves");
        diags
            .items
            .iter()
            .filter(|d| d.code == sitebundle::diag::Code::F5MonitorNeedsAnonymous)
            .count()
    };
    assert_eq!(monitor("200 OK", false), 1);
    assert_eq!(monitor("200 OK", true), 0);
    assert_eq!(monitor("HTTP/1.. (200|401)", false), 0);
    assert_eq!(monitor("HTTP/1.", false), 0);
}
