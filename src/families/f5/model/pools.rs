//! `[[f5.pool]]`: pools, their members with priority groups, and their monitors.

use std::collections::HashMap;

use super::*;

/// The site's pools, in declaration order; their names join `all_names`.
pub(super) fn resolve_pools(
    raw: &RawF5,
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    known_monitors: &HashMap<&str, usize>,
    all_names: &mut Vec<(String, String)>,
) -> (Vec<Pool>, bool) {
    let mut ok = true;
    let mut pools = Vec::new();
    for (i, rp) in raw.pool.iter().enumerate() {
        let p = format!("f5.pool[{i}]");
        let (pool, pok) = resolve_pool(raw, ctx, names, servers, known_monitors, &p, rp);
        all_names.push((format!("{p}.name"), rp.name.clone()));
        ok &= pok;
        pools.push(pool);
    }
    (pools, ok)
}

fn resolve_pool(
    raw: &RawF5,
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    known_monitors: &HashMap<&str, usize>,
    p: &str,
    rp: &RawPool,
) -> (Pool, bool) {
    let mut pok = name_check(
        ctx,
        &format!("{p}.name"),
        &rp.name,
        "name = \"PartnerPoint\"",
    );
    pok &= ctx.check(
        &format!("{p}.description"),
        check_description(&rp.description),
        DESCRIPTION_HELP,
    );
    if rp.members.is_empty() {
        ctx.error(
            &format!("{p}.members"),
            format!("pool `{}` has no members", rp.name),
            "add members, e.g. `members = [{ server = \"sharepoint3\", port = 80, priority_group = 2 }]`",
        );
        pok = false;
    }
    let (members, members_ok) = resolve_members(ctx, names, servers, p, rp);
    pok &= members_ok;
    let (mons, monitors_ok) = resolve_pool_monitors(raw, ctx, known_monitors, p, rp);
    pok &= monitors_ok;
    if rp.min_active_members > 65535 {
        ctx.error(
            &format!("{p}.min_active_members"),
            format!(
                "min_active_members {} is outside 0-65535",
                rp.min_active_members
            ),
            "1 means: use the next priority group when fewer than 1 member of the best group is up",
        );
        pok = false;
    }
    if pok && rp.monitors.is_empty() {
        ctx.warn(crate::diag::Code::F5PoolWithoutMonitor,
            &format!("{p}.name"),
            format!("pool `{}` has no monitor: BIG-IP never marks its members down, so it never fails over", rp.name),
            "add `monitors = [\"…\"]`",
        );
    }
    let groups: std::collections::BTreeSet<u32> =
        rp.members.iter().map(|m| m.priority_group).collect();
    if pok && rp.min_active_members == 0 && groups.len() > 1 {
        ctx.warn(crate::diag::Code::F5PriorityGroupsInactive,
            &format!("{p}.min_active_members"),
            format!("pool `{}` sets priority groups but min_active_members is 0, so the groups have no effect", rp.name),
            "set `min_active_members = 1` to prefer the highest group",
        );
    }
    let pool = Pool {
        name: rp.name.clone(),
        members,
        monitors: mons,
        min_active_members: rp.min_active_members,
        // Set once the affinity groups are known (`group_defaults`).
        service_down_action: ServiceDownAction::None,
        description: rp.description.clone(),
    };
    (pool, pok)
}

/// A pool's members: known servers with an address, valid ports and priority groups, each once.
fn resolve_members(
    ctx: &mut Ctx,
    names: &Names,
    servers: &[crate::model::Server],
    p: &str,
    rp: &RawPool,
) -> (Vec<Member>, bool) {
    let mut pok = true;
    let mut members = Vec::new();
    let mut seen: Vec<(usize, u16)> = Vec::new();
    for (j, m) in rp.members.iter().enumerate() {
        let mp = format!("{p}.members[{j}]");
        let server = ctx.lookup_server(&format!("{mp}.server"), &m.server, names);
        let port = port(ctx, &format!("{mp}.port"), m.port);
        if m.priority_group > 65535 {
            ctx.error(
                &format!("{mp}.priority_group"),
                format!("priority group {} is outside 0-65535", m.priority_group),
                "a higher number is preferred, e.g. 2 for the preferred node and 1 for the fallback",
            );
            pok = false;
        }
        let (Some(server), Some(port)) = (server, port) else {
            pok = false;
            continue;
        };
        // The node takes the server's name, and a BIG-IP object name must be one tmsh accepts
        // (`escape::tmsh_name`: starting with a letter): a NetBIOS name such as `0web` is not.
        if let Some(why) = servers
            .get(server)
            .and_then(|s| crate::escape::tmsh_name(&s.name).err())
        {
            ctx.error(
                &format!("{mp}.server"),
                format!("server `{}` cannot be a BIG-IP node: {why}", m.server),
                "rename the server (its [[server]] name) to start with a letter, or leave it out of the pool",
            );
            pok = false;
            continue;
        }
        let Some(address) = servers.get(server).and_then(|s| s.address) else {
            pok = false;
            if ctx.has_failed("server address", &m.server) {
                // Its address is wrong and reported at the server: once is enough.
                continue;
            }
            ctx.error(
                &format!("{mp}.server"),
                format!(
                    "server `{}` has no address, so it cannot be a BIG-IP node",
                    m.server
                ),
                "add `address = \"…\"` to its [[server]] entry",
            );
            continue;
        };
        if seen.contains(&(server, port)) {
            ctx.report(
                crate::diag::Severity::Error,
                crate::diag::Code::ListedTwice,
                &mp,
                format!(
                    "`{}:{port}` is listed twice in pool `{}`",
                    m.server, rp.name
                ),
                "list each member once",
            );
            pok = false;
            continue;
        }
        seen.push((server, port));
        members.push(Member {
            server,
            address,
            port,
            priority_group: m.priority_group,
        });
    }
    (members, pok)
}

/// A pool's monitors: the site's own (by index) or built-in ones, each listed once.
fn resolve_pool_monitors(
    raw: &RawF5,
    ctx: &mut Ctx,
    known_monitors: &HashMap<&str, usize>,
    p: &str,
    rp: &RawPool,
) -> (Vec<MonitorRef>, bool) {
    let mut pok = true;
    let mut mons = Vec::new();
    for (j, m) in rp.monitors.iter().enumerate() {
        match ctx.lookup(&format!("{p}.monitors[{j}]"), "monitor", m, known_monitors) {
            Some(idx) if idx < raw.monitor.len() => mons.push(MonitorRef::Defined(idx)),
            Some(_) => mons.push(MonitorRef::Builtin(m.clone())),
            None => pok = false,
        }
    }
    let distinct: std::collections::HashSet<&String> = rp.monitors.iter().collect();
    if distinct.len() != rp.monitors.len() {
        ctx.report(
            crate::diag::Severity::Error,
            crate::diag::Code::ListedTwice,
            &format!("{p}.monitors"),
            "a monitor is listed twice",
            "list each monitor once",
        );
        pok = false;
    }
    (mons, pok)
}
