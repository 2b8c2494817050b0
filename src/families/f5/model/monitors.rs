//! `[[f5.monitor]]`: health monitors.

use super::*;

/// The site's monitors, in declaration order; their names join `all_names`.
pub(super) fn resolve_monitors(
    raw: &RawF5,
    ctx: &mut Ctx,
    all_names: &mut Vec<(String, String)>,
) -> (Vec<Monitor>, bool) {
    let mut ok = true;
    let mut monitors = Vec::new();
    for (i, m) in raw.monitor.iter().enumerate() {
        let p = format!("f5.monitor[{i}]");
        let (monitor, mok) = resolve_monitor(ctx, &p, m, all_names);
        ok &= mok;
        monitors.push(monitor);
    }
    (monitors, ok)
}

fn resolve_monitor(
    ctx: &mut Ctx,
    p: &str,
    m: &RawMonitor,
    all_names: &mut Vec<(String, String)>,
) -> (Monitor, bool) {
    let mut mok = name_check(ctx, &format!("{p}.name"), &m.name, "name = \"mon_http\"");
    if BUILTIN_MONITORS.contains(&m.name.as_str()) {
        ctx.error(
            &format!("{p}.name"),
            format!("`{}` is the name of a built-in monitor", m.name),
            "give your monitor its own name, e.g. `mon_partnerpoint_http`; pools can use the built-in one directly",
        );
        mok = false;
    }
    all_names.push((format!("{p}.name"), m.name.clone()));
    for (key, v) in [("send", &m.send), ("recv", &m.recv)] {
        if let Some(v) = v {
            let help = if key == "send" {
                "e.g. `send = \"GET / HTTP/1.1\\r\\nHost: www\\r\\nConnection: close\\r\\n\\r\\n\"`"
            } else {
                "e.g. `recv = \"200 OK\"` (a regular expression on the BIG-IP; `.` matches any character)"
            };
            mok &= ctx.check(&format!("{p}.{key}"), check_tmsh_text(v), help);
        }
    }
    if !(1..=86400).contains(&m.interval) {
        ctx.error(
            &format!("{p}.interval"),
            format!("interval {} is outside 1-86400 seconds", m.interval),
            "e.g. `interval = 5`",
        );
        mok = false;
    } else if m.timeout <= m.interval || m.timeout > 86400 {
        ctx.error(
            &format!("{p}.timeout"),
            format!(
                "timeout {} must be greater than the interval ({}) and at most 86400 seconds",
                m.timeout, m.interval
            ),
            "F5 recommends 3 × interval + 1, e.g. `timeout = 16` with `interval = 5`",
        );
        mok = false;
    }
    mok &= ctx.check(
        &format!("{p}.description"),
        check_description(&m.description),
        DESCRIPTION_HELP,
    );
    let alias_port = match m.port {
        Some(x) => {
            let r = port(ctx, &format!("{p}.port"), x);
            mok &= r.is_some();
            r
        }
        None => None,
    };
    let monitor = Monitor {
        name: m.name.clone(),
        kind: m.kind,
        send: m.send.clone().or_else(|| default_send(m.kind)),
        recv: m.recv.clone().or_else(|| default_recv(m.kind)),
        interval: m.interval,
        timeout: m.timeout,
        port: alias_port,
        anonymous: m.anonymous,
        description: m.description.clone(),
    };
    (monitor, mok)
}

/// The request an HTTP(S) monitor sends when the site gives none: AS3's default
/// (as3-schema.json 3.23.0 and 3.56.0, `Monitor_HTTP.send.default`). The merge file writes it
/// explicitly, because its parent `/Common/http` would send `GET /\r\n` instead and the two files
/// would probe differently. TCP monitors send nothing (a connect check) in both.
fn default_send(kind: MonitorType) -> Option<String> {
    match kind {
        MonitorType::Http | MonitorType::Https => Some("HEAD / HTTP/1.0\r\n\r\n".into()),
        MonitorType::Tcp => None,
    }
}

/// The response an HTTP(S) monitor requires when the site gives none: AS3's default
/// (`Monitor_HTTP.receive.default`, "HTTP/1."), written explicitly in both files for the same
/// reason as [`default_send`]. TCP monitors require nothing.
fn default_recv(kind: MonitorType) -> Option<String> {
    match kind {
        MonitorType::Http | MonitorType::Https => Some("HTTP/1.".into()),
        MonitorType::Tcp => None,
    }
}
