//! `[[recovery]]`: a Windows service that the service controller restarts when it fails (the
//! SharePoint timer, search and administration services of docs/background.md).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::{Ctx, Names, check_plain_name};

/// One service restarted on failure, on the listed servers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRecovery {
    /// Service name as `sc query` shows it (SERVICE_NAME, not the display name), e.g. "SPTimerV3"
    /// (Windows SharePoint Services Timer, SharePoint 2007; "SPTimerV4" on 2010), "SPSearch",
    /// "OSearch", "SPAdmin". Letters, digits, `_`, `-`, `.`.
    pub service: String,
    /// Servers whose service gets the recovery actions (names from `[[server]]`). Default: every
    /// server.
    #[serde(default)]
    pub servers: Option<Vec<String>>,
    /// Seconds the service controller waits before each restart (1-3600). Default 60.
    #[serde(default = "default_restart_after")]
    pub restart_after_seconds: u32,
    /// Days without a failure after which the failure count starts again (1-365). Default 1.
    #[serde(default = "default_reset_after")]
    pub reset_after_days: u32,
}

fn default_restart_after() -> u32 {
    60
}
fn default_reset_after() -> u32 {
    1
}

/// A resolved `[[recovery]]` entry.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub service: String,
    pub servers: Vec<usize>,
    pub restart_after_seconds: u32,
    pub reset_after_days: u32,
}

/// A service name: letters, digits, `_`, `-`, `.`, at most 80 characters.
pub fn check_service(s: &str) -> Result<(), String> {
    check_plain_name(s, 80, false, "service name")
}

/// Resolves every entry; entries with an error are left out (their errors are reported).
pub fn resolve(raw: &[RawRecovery], ctx: &mut Ctx, names: &Names, all: usize) -> Vec<Recovery> {
    let mut out: Vec<Recovery> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, r)| resolve_one(&format!("recovery[{i}]"), r, ctx, names, all))
        .collect();
    ctx.unique(
        "service",
        raw.iter()
            .enumerate()
            .map(|(i, r)| (format!("recovery[{i}].service"), r.service.as_str())),
    );
    // Each entry is one service: the order of `[[recovery]]` entries carries no meaning.
    out.sort_by_key(|r| r.service.to_lowercase());
    out
}

fn resolve_one(
    p: &str,
    r: &RawRecovery,
    ctx: &mut Ctx,
    names: &Names,
    all: usize,
) -> Option<Recovery> {
    let mut ok = ctx.check(
        &format!("{p}.service"),
        check_service(&r.service),
        "e.g. `service = \"SPTimerV3\"` (the service name of `sc query`, not its display name)",
    );
    if !(1..=3600).contains(&r.restart_after_seconds) {
        ctx.error(
            &format!("{p}.restart_after_seconds"),
            format!(
                "restart_after_seconds = {} is outside 1-3600",
                r.restart_after_seconds
            ),
            "e.g. `restart_after_seconds = 60`",
        );
        ok = false;
    }
    if !(1..=365).contains(&r.reset_after_days) {
        ctx.error(
            &format!("{p}.reset_after_days"),
            format!("reset_after_days = {} is outside 1-365", r.reset_after_days),
            "e.g. `reset_after_days = 1`",
        );
        ok = false;
    }
    let servers = match &r.servers {
        None => (0..all).collect(),
        Some(list) => resolve_servers(p, list, ctx, names, &mut ok),
    };
    ok.then(|| Recovery {
        service: r.service.clone(),
        servers,
        restart_after_seconds: r.restart_after_seconds,
        reset_after_days: r.reset_after_days,
    })
}

fn resolve_servers(
    p: &str,
    list: &[String],
    ctx: &mut Ctx,
    names: &Names,
    ok: &mut bool,
) -> Vec<usize> {
    if list.is_empty() {
        ctx.error(
            &format!("{p}.servers"),
            "the list of servers is empty",
            "list server names from [[server]], or leave `servers` out for every server",
        );
        *ok = false;
    }
    let (servers, good) = ctx.server_list(&format!("{p}.servers"), list, names);
    *ok &= good;
    servers
}
