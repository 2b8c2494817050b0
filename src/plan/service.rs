//! Windows service settings a family wants on its servers: today the recovery actions (what the
//! service controller does when the service fails). The GPO writes them as Services preference
//! items ([MS-GPPREF] 2.2.1.19); a family's runbook gives the `sc.exe failure` command for
//! servers outside the GPO.

use serde::Serialize;

/// Restart a service when it fails.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecovery {
    /// The service's name (`sc query` SERVICE_NAME), e.g. `SPTimerV3`.
    pub service: String,
    /// How many failures in a row get a restart (1-3: first, second, subsequent); after that the
    /// service controller takes no action.
    pub restarts: u32,
    /// Wait before each restart, in milliseconds (SC_ACTION.Delay).
    pub restart_delay_ms: u32,
    /// Failure-free time after which the failure count starts again, in seconds
    /// (SERVICE_FAILURE_ACTIONS.dwResetPeriod).
    pub reset_after_seconds: u32,
    /// Servers whose service gets these settings.
    pub hosts: Vec<usize>,
    /// One line for the GPP item's description and the runbook.
    pub description: String,
}
