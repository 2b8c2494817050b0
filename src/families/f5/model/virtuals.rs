//! `[[f5.virtual_server]]`: virtual servers, their profiles, path routes and iRule.

use std::collections::HashMap;
use std::net::IpAddr;

use super::*;

/// The site's virtual servers that resolved completely, in declaration order; their names and
/// iRule names join `all_names`.
pub(super) fn resolve_virtuals(
    raw: &RawF5,
    ctx: &mut Ctx,
    pool_idx: &HashMap<&str, usize>,
    all_names: &mut Vec<(String, String)>,
) -> (Vec<Virtual>, bool) {
    let mut ok = true;
    let mut virtuals = Vec::new();
    let mut destinations: Vec<(String, String)> = Vec::new();
    for (i, rv) in raw.virtual_server.iter().enumerate() {
        let p = format!("f5.virtual_server[{i}]");
        match resolve_virtual(ctx, pool_idx, &p, rv, &mut destinations, all_names) {
            Some(v) => virtuals.push(v),
            None => ok = false,
        }
    }
    ctx.unique(
        "virtual server address and port",
        destinations.iter().map(|(a, b)| (a.clone(), b.as_str())),
    );
    (virtuals, ok)
}

/// One virtual server, or None when any part of it is invalid.
fn resolve_virtual(
    ctx: &mut Ctx,
    pool_idx: &HashMap<&str, usize>,
    p: &str,
    rv: &RawVirtual,
    destinations: &mut Vec<(String, String)>,
    all_names: &mut Vec<(String, String)>,
) -> Option<Virtual> {
    let mut vok = name_check(ctx, &format!("{p}.name"), &rv.name, "name = \"vs_ects\"");
    all_names.push((format!("{p}.name"), rv.name.clone()));
    vok &= ctx.check(
        &format!("{p}.description"),
        check_description(&rv.description),
        DESCRIPTION_HELP,
    );
    let address = match rv.address.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            ctx.error(
                &format!("{p}.address"),
                format!("`{}` is not an IPv4 or IPv6 address", rv.address),
                "e.g. `address = \"10.20.30.100\"`",
            );
            None
        }
    };
    let port = port(ctx, &format!("{p}.port"), rv.port);
    if let (Some(a), Some(pt)) = (address, port) {
        destinations.push((format!("{p}.port"), format!("{a} port {pt}")));
    }
    let pool = ctx.lookup(&format!("{p}.pool"), "pool", &rv.pool, pool_idx);
    let profiles = resolve_profiles(ctx, p, rv, &mut vok);
    vok &= http_only_settings_fit(ctx, p, rv);
    let routes = resolve_routes(ctx, p, rv, pool_idx, &mut vok);
    let rule = resolve_rule(ctx, p, rv, &mut vok, all_names);
    let tls = resolve_tls(ctx, p, rv, &mut vok, all_names);
    if let (Some(a), Some(pt), Some(_)) = (address, port, &tls.redirect) {
        if pt != 80 {
            destinations.push((format!("{p}.redirect_http"), format!("{a} port 80")));
        }
    }
    if let (Some(address), Some(port), Some(pool), true) = (address, port, pool, vok) {
        Some(Virtual {
            name: rv.name.clone(),
            address,
            port,
            protocol: rv.protocol,
            profiles,
            pool,
            persistence: rv.persistence,
            snat: rv.snat,
            routes,
            rule,
            auth: rv.auth.unwrap_or(Auth::Windows),
            // Set once the affinity groups are known (`group_defaults`).
            oneconnect: false,
            client_ssl: tls.client,
            server_ssl: tls.server,
            cert_key: tls.cert_key,
            redirect: tls.redirect,
            description: rv.description.clone(),
        })
    } else {
        None
    }
}

/// The profiles of a virtual server (sorted): known names, exactly one TCP profile, and an
/// `http` profile exactly when the virtual server is HTTP.
fn resolve_profiles(ctx: &mut Ctx, p: &str, rv: &RawVirtual, vok: &mut bool) -> Vec<String> {
    let mut profiles: Vec<String> = match (&rv.profiles, rv.protocol) {
        (Some(list), _) => list.clone(),
        (None, Protocol::Http | Protocol::Https) => vec!["http".into(), "tcp".into()],
        (None, Protocol::Tcp) => vec!["tcp".into()],
    };
    for (j, pr) in profiles.iter().enumerate() {
        if pr != "http" && !TCP_PROFILES.contains(&pr.as_str()) {
            ctx.error(
                &format!("{p}.profiles[{j}]"),
                format!("unknown profile `{pr}`"),
                format!("use `http` and one of {}", TCP_PROFILES.join(", ")),
            );
            *vok = false;
        }
    }
    profiles.sort();
    let n_tcp = profiles
        .iter()
        .filter(|x| TCP_PROFILES.contains(&x.as_str()))
        .count();
    let has_http = profiles.iter().any(|x| x == "http");
    if *vok && (n_tcp != 1 || profiles.windows(2).any(|w| w[0] == w[1])) {
        ctx.error(
            &format!("{p}.profiles"),
            "a virtual server needs exactly one TCP profile, each profile listed once",
            format!(
                "e.g. `profiles = [\"http\", \"tcp\"]`; TCP profiles: {}",
                TCP_PROFILES.join(", ")
            ),
        );
        *vok = false;
    }
    match rv.protocol {
        Protocol::Http | Protocol::Https if !has_http => {
            ctx.error(
                &format!("{p}.profiles"),
                format!("HTTP virtual server `{}` has no `http` profile", rv.name),
                "add \"http\" to profiles; HTTP iRule events and cookie persistence need it",
            );
            *vok = false;
        }
        Protocol::Tcp if has_http => {
            ctx.error(
                &format!("{p}.profiles"),
                format!("TCP virtual server `{}` has an `http` profile", rv.name),
                "use `protocol = \"http\"`, or remove \"http\" from profiles",
            );
            *vok = false;
        }
        _ => {}
    }
    profiles
}

/// The path routes of a virtual server, longest prefix first.
fn resolve_routes(
    ctx: &mut Ctx,
    p: &str,
    rv: &RawVirtual,
    pool_idx: &HashMap<&str, usize>,
    vok: &mut bool,
) -> Vec<Route> {
    let mut routes = Vec::new();
    let mut seen_paths: Vec<(String, String)> = Vec::new();
    for (j, r) in rv.routes.iter().enumerate() {
        let rp = format!("{p}.routes[{j}]");
        let path = match normalise_prefix(&r.prefix) {
            Ok(x) => Some(x),
            Err(e) => {
                ctx.error(&format!("{rp}.prefix"), e, "e.g. `prefix = \"/ECTS/\"`");
                *vok = false;
                None
            }
        };
        let rpool = ctx.lookup(&format!("{rp}.pool"), "pool", &r.pool, pool_idx);
        if let (Some(path), Some(pool)) = (path, rpool) {
            seen_paths.push((format!("{rp}.prefix"), path.clone()));
            routes.push(Route {
                prefix: r.prefix.clone(),
                path,
                pool,
            });
        } else {
            *vok = false;
        }
    }
    ctx.unique(
        "route prefix (compared without case and trailing slash)",
        seen_paths.iter().map(|(a, b)| (a.clone(), b.as_str())),
    );
    routes.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.path.cmp(&b.path)));
    routes
}

/// The name of the iRule that carries a virtual server's routes (None without routes); it joins
/// `all_names`.
fn resolve_rule(
    ctx: &mut Ctx,
    p: &str,
    rv: &RawVirtual,
    vok: &mut bool,
    all_names: &mut Vec<(String, String)>,
) -> Option<String> {
    if rv.routes.is_empty() {
        if rv.rule.is_some() {
            ctx.warn(
                crate::diag::Code::F5RuleIgnored,
                &format!("{p}.rule"),
                "`rule` is ignored: this virtual server has no routes",
                "",
            );
        }
        None
    } else {
        let n = rv
            .rule
            .clone()
            .unwrap_or_else(|| format!("{}_routes", rv.name));
        let key = if rv.rule.is_some() { "rule" } else { "name" };
        if escape::tmsh_name(&n).is_err() && key == "name" && escape::tmsh_name(&rv.name).is_ok() {
            ctx.error(
                &format!("{p}.name"),
                format!("the iRule name `{n}` derived from this virtual server is too long"),
                "set `rule = \"…\"` to a shorter name",
            );
            *vok = false;
        } else if key == "rule" {
            *vok &= name_check(ctx, &format!("{p}.rule"), &n, "rule = \"sp_routes\"");
        }
        all_names.push((format!("{p}.{key}"), n.clone()));
        Some(n)
    }
}

/// The TLS settings of a virtual server: profile paths and the redirect virtual server's name.
pub(super) struct Tls {
    pub client: Option<String>,
    pub cert_key: Option<(String, String)>,
    pub server: Option<String>,
    pub redirect: Option<String>,
}

/// Cookie persistence, OneConnect and path routes need an HTTP(S) virtual server.
fn http_only_settings_fit(ctx: &mut Ctx, p: &str, rv: &RawVirtual) -> bool {
    let mut ok = true;
    if rv.persistence == Persistence::Cookie && !rv.protocol.is_http() {
        ctx.error(
            &format!("{p}.persistence"),
            "cookie persistence needs an HTTP virtual server",
            "use `persistence = \"source-address\"` or `\"none\"` for TCP",
        );
        ok = false;
    }
    if rv.oneconnect == Some(true) && !rv.protocol.is_http() {
        ctx.error(
            &format!("{p}.oneconnect"),
            "OneConnect reuses server connections between HTTP requests; a TCP virtual server has none",
            "remove `oneconnect`, or use `protocol = \"http\"`",
        );
        ok = false;
    }
    if rv.auth.is_some() && !rv.protocol.is_http() {
        ctx.error(
            &format!("{p}.auth"),
            "`auth` says how IIS authenticates HTTP requests; a TCP virtual server passes bytes through",
            "remove `auth`, or use `protocol = \"http\"`",
        );
        ok = false;
    }
    if rv.oneconnect == Some(true)
        && rv.protocol.is_http()
        && rv.auth.unwrap_or(Auth::Windows) == Auth::Windows
    {
        ctx.error(
            &format!("{p}.oneconnect"),
            format!(
                "OneConnect on `{}`, whose members use Windows authentication (Negotiate and NTLM, IIS's default): an idle server connection that Kerberos authenticated stays authenticated (authPersistNonNTLM) and would serve another client under the first user's identity",
                rv.name
            ),
            "remove `oneconnect`; or set `auth = \"ntlm\"` when IIS offers NTLM only (the runbook removes Negotiate and verifies it), or `auth = \"anonymous\"` for anonymous or forms authentication",
        );
        ok = false;
    }
    if !rv.routes.is_empty() && !rv.protocol.is_http() {
        ctx.error(
            &format!("{p}.routes"),
            format!(
                "virtual server `{}` routes paths but is not an HTTP virtual server",
                rv.name
            ),
            "path routes run in HTTP_REQUEST, which needs `protocol = \"http\"` or `\"https\"` (an HTTP profile)",
        );
        ok = false;
    }
    ok
}

/// `client_ssl` (required for HTTPS, only there), `server_ssl` (HTTP and HTTPS), `redirect_http`
/// (HTTPS only; its virtual server's name joins `all_names`), and HTTP on port 443.
fn resolve_tls(
    ctx: &mut Ctx,
    p: &str,
    rv: &RawVirtual,
    vok: &mut bool,
    all_names: &mut Vec<(String, String)>,
) -> Tls {
    let client = profile_path(
        ctx,
        &format!("{p}.client_ssl"),
        rv.client_ssl.as_deref(),
        vok,
    );
    let server = profile_path(
        ctx,
        &format!("{p}.server_ssl"),
        rv.server_ssl.as_deref(),
        vok,
    );
    check_tls_settings(ctx, p, rv, vok);
    check_client_ssl_shape(ctx, p, client.as_deref(), vok);
    let cert_key = resolve_cert_key(ctx, p, rv, vok);
    let redirect = redirect_virtual(ctx, p, rv, vok, all_names);
    Tls {
        client,
        cert_key,
        server,
        redirect,
    }
}

/// The settings that do not fit the virtual server's protocol (TLS at a place that cannot carry it).
fn check_tls_settings(ctx: &mut Ctx, p: &str, rv: &RawVirtual, vok: &mut bool) {
    let https = rv.protocol == Protocol::Https;
    if https && rv.client_ssl.is_none() {
        ctx.error(
            &format!("{p}.protocol"),
            format!("HTTPS virtual server `{}` names no client-ssl profile", rv.name),
            "add `client_ssl = \"<profile>\"`: the client-ssl profile on the BIG-IP that holds the site's certificate and key",
        );
        *vok = false;
    }
    if !https && rv.client_ssl.is_some() {
        ctx.error(
            &format!("{p}.client_ssl"),
            "a client-ssl profile decrypts HTTPS: it needs `protocol = \"https\"`",
            "use `protocol = \"https\"`, or remove `client_ssl` (a `tcp` virtual server passes TLS through)",
        );
        *vok = false;
    }
    if rv.protocol == Protocol::Http && rv.port == 443 {
        ctx.error(
            &format!("{p}.port"),
            format!("HTTP virtual server `{}` listens on 443, the HTTPS port, without a client-ssl profile: browsers speak TLS there and get no answer", rv.name),
            "use `protocol = \"https\"` with `client_ssl = \"<profile>\"`, or `protocol = \"tcp\"` to pass TLS through to the members",
        );
        *vok = false;
    }
    if rv.server_ssl.is_some() && !rv.protocol.is_http() {
        ctx.error(
            &format!("{p}.server_ssl"),
            "a server-ssl profile re-encrypts HTTP toward the members: it needs `protocol = \"http\"` or `\"https\"`",
            "remove `server_ssl` (a `tcp` virtual server passes TLS through)",
        );
        *vok = false;
    }
}

/// The name of the port-80 virtual server that redirects to this HTTPS one (`redirect_http`).
fn redirect_virtual(
    ctx: &mut Ctx,
    p: &str,
    rv: &RawVirtual,
    vok: &mut bool,
    all_names: &mut Vec<(String, String)>,
) -> Option<String> {
    match (rv.redirect_http, rv.protocol == Protocol::Https) {
        (false, _) => None,
        (true, false) => {
            ctx.error(
                &format!("{p}.redirect_http"),
                "`redirect_http` redirects port 80 to an HTTPS virtual server; this one is not HTTPS",
                "use `protocol = \"https\"`, or remove `redirect_http`",
            );
            *vok = false;
            None
        }
        (true, true) => {
            let n = format!("{}_redirect", rv.name);
            if escape::tmsh_name(&n).is_err() {
                ctx.error(
                    &format!("{p}.name"),
                    format!("the redirect virtual server's name `{n}` derived from this name is too long"),
                    "use a shorter name (at most 54 characters)",
                );
                *vok = false;
            }
            all_names.push((format!("{p}.redirect_http"), n.clone()));
            Some(n)
        }
    }
}

/// A profile that exists on the BIG-IP: `name` (in /Common) or `/Partition/name`, as a full path.
fn profile_path(ctx: &mut Ctx, path: &str, value: Option<&str>, vok: &mut bool) -> Option<String> {
    let v = value?;
    let parts: Vec<&str> = match v.strip_prefix('/') {
        Some(rest) => rest.split('/').collect(),
        None => vec!["Common", v],
    };
    let bad = parts.len() != 2 || parts.iter().any(|x| escape::tmsh_name(x).is_err());
    if bad {
        ctx.error(
            path,
            format!("`{v}` is not a BIG-IP profile name (`name` in /Common, or `/Partition/name`)"),
            "e.g. `client_ssl = \"clientssl_partnerpoint\"` (letters, digits, `_ . -`, starting with a letter)",
        );
        *vok = false;
        return None;
    }
    Some(format!("/{}/{}", parts[0], parts[1]))
}

/// File name endings of certificates and keys (`sys file ssl-cert` / `ssl-key` objects carry the
/// imported file's name): a client-ssl profile named like one is most likely the certificate.
const CERT_ENDINGS: &[&str] = &[".crt", ".cer", ".pem", ".der"];
const KEY_ENDINGS: &[&str] = &[".key"];
const BUNDLE_ENDINGS: &[&str] = &[".pfx", ".p12"];

fn ends_with_any(name: &str, endings: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    endings.iter().any(|e| lower.ends_with(e))
}

/// The client-ssl profile lives in /Common (see `RawVirtual::client_ssl`) and is named like a
/// profile, not like a certificate or key file.
fn check_client_ssl_shape(ctx: &mut Ctx, p: &str, client: Option<&str>, vok: &mut bool) {
    let Some(path) = client else { return };
    if !path.starts_with("/Common/") {
        ctx.error(
            &format!("{p}.client_ssl"),
            format!("client-ssl profile `{path}` is outside /Common: the AS3 declaration owns its tenant's partition (its next POST or DELETE fights a hand-made profile there), and a virtual server can use profiles of its own partition and /Common only"),
            "create the profile in /Common (the runbook gives the command with `cert` and `key`) and name it here without a partition",
        );
        *vok = false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if ends_with_any(name, CERT_ENDINGS)
        || ends_with_any(name, KEY_ENDINGS)
        || ends_with_any(name, BUNDLE_ENDINGS)
    {
        ctx.error(
            &format!("{p}.client_ssl"),
            format!("`{name}` is named like a certificate or key file, not like a client-ssl profile"),
            "name the client-ssl profile here (e.g. `clientssl_partnerpoint`), and the certificate and key in `cert` and `key`",
        );
        *vok = false;
    }
}

/// `cert` and `key`: both or neither, HTTPS only, existing objects in /Common named like a
/// certificate and a key.
fn resolve_cert_key(
    ctx: &mut Ctx,
    p: &str,
    rv: &RawVirtual,
    vok: &mut bool,
) -> Option<(String, String)> {
    let (cert, key) = match (&rv.cert, &rv.key) {
        (None, None) => return None,
        (Some(c), Some(k)) => (c, k),
        (Some(_), None) | (None, Some(_)) => {
            let missing = if rv.cert.is_none() { "cert" } else { "key" };
            ctx.error(
                &format!("{p}.{}", if missing == "cert" { "key" } else { "cert" }),
                format!("`cert` and `key` go together: `{missing}` is missing"),
                "name both the certificate and its key, as imported on the BIG-IP (`tmsh list sys file ssl-cert`, `ssl-key`)",
            );
            *vok = false;
            return None;
        }
    };
    if rv.protocol != Protocol::Https {
        ctx.error(
            &format!("{p}.cert"),
            "`cert` and `key` make the client-ssl profile of an HTTPS virtual server",
            "use `protocol = \"https\"` with `client_ssl`, or remove `cert` and `key`",
        );
        *vok = false;
        return None;
    }
    let cert = common_object(
        ctx,
        &format!("{p}.cert"),
        cert,
        "cert = \"partner.example.org.crt\"",
        vok,
    )?;
    let key = common_object(
        ctx,
        &format!("{p}.key"),
        key,
        "key = \"partner.example.org.key\"",
        vok,
    )?;
    if ends_with_any(&cert, KEY_ENDINGS) {
        ctx.error(
            &format!("{p}.cert"),
            format!("`{cert}` is named like a key, not a certificate"),
            "`cert` names the certificate (`tmsh list sys file ssl-cert`)",
        );
        *vok = false;
    }
    if ends_with_any(&key, CERT_ENDINGS) {
        ctx.error(
            &format!("{p}.key"),
            format!("`{key}` is named like a certificate, not a key"),
            "`key` names the private key (`tmsh list sys file ssl-key`)",
        );
        *vok = false;
    }
    Some((cert, key))
}

/// An object in /Common: `name` or `/Common/name`, as a full path.
fn common_object(
    ctx: &mut Ctx,
    path: &str,
    v: &str,
    example: &str,
    vok: &mut bool,
) -> Option<String> {
    let name = v.strip_prefix("/Common/").unwrap_or(v);
    if escape::tmsh_name(name).is_err() || name.contains('/') {
        ctx.error(
            path,
            format!("`{v}` is not the name of an object in /Common"),
            format!("e.g. `{example}` (letters, digits, `_ . -`, starting with a letter)"),
        );
        *vok = false;
        return None;
    }
    Some(format!("/Common/{name}"))
}
