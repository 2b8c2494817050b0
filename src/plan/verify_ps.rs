//! The release's own verify commands on Windows Server 2012 R2 and later, for an elevated Windows
//! PowerShell (the runbook prints them in a `powershell` block). These releases have Windows
//! PowerShell 4.0 or later built in (2012 R2: WMF 4.0 "Included"; 2016 and later: 5.1,
//! MicrosoftDocs/PowerShell-Docs, windows-powershell/wmf/overview.md) and with it:
//! - the ScheduledTasks module: `Get-ScheduledTask [[-TaskName] <String[]>] [[-TaskPath]
//!   <String[]>]` ("Gets the task definition object of a scheduled task that is registered on the
//!   local computer"; "You can use \ for the root folder") and `Get-ScheduledTaskInfo` (run-time
//!   information: last and next run time, last result), documented from the `winserver2012-ps`
//!   docset on (MicrosoftDocs/windows-powershell-docs,
//!   docset/winserver2012-ps/scheduledtasks/ScheduledTasks.md;
//!   https://learn.microsoft.com/powershell/module/scheduledtasks/get-scheduledtask);
//! - `Get-ItemProperty -LiteralPath -Name` on the registry provider (`HKLM:`), and
//!   `Get-FileHash -Algorithm SHA256`, whose `Hash` is upper-case hex (PowerShell 4.0 and later:
//!   its page is in the 4.0 reference, technet dn520872(v=wps.630); .NET's `GetFileHashCommand`).
//!
//! `sc` is `Set-Content`'s alias in Windows PowerShell, so the service control program is typed
//! `sc.exe`. `gpupdate` is a program and reads the same in both shells. Every value is a
//! single-quoted PowerShell string (`escape::ps_line`); a path that holds `%NAME%` is expanded
//! with `[Environment]::ExpandEnvironmentVariables`, as cmd.exe would.

use sha2::{Digest, Sha256};

use super::server::{FilePlan, RegistryPlan, ServicePlan, TaskPlan, Verify};
use crate::bundle::Bundle;

fn ps(s: &str) -> Result<String, crate::Error> {
    crate::escape::ps_line(s)
        .map_err(|e| crate::Error::internal(format!("{s:?} in a PowerShell command: {e}")))
}

fn verify(command: String, expect: String) -> Verify {
    Verify {
        command,
        expect,
        warning: None,
        shell: "powershell",
    }
}

/// A file path as a PowerShell expression: a literal, or its environment variables expanded.
fn path_expr(path: &str) -> Result<String, crate::Error> {
    if path.contains('%') {
        Ok(format!(
            "([Environment]::ExpandEnvironmentVariables({}))",
            ps(path)?
        ))
    } else {
        ps(path)
    }
}

/// The checks of the files, tasks, registry values and services that land on a server of
/// Windows Server 2012 R2 or later (`bundle`: every file of the bundle, for the scripts' hashes).
pub fn release_verifies(
    bundle: Option<&Bundle>,
    files: &[FilePlan],
    tasks: &[TaskPlan],
    registry: &[RegistryPlan],
    services: &[ServicePlan],
) -> Result<Vec<Verify>, crate::Error> {
    let mut out = Vec::new();
    for f in files {
        let Some(target) = &f.target else { continue };
        let hash = bundle.and_then(|b| b.files.get(&f.path)).map(|a| {
            (Sha256::digest(&a.bytes).iter())
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        });
        out.push(verify(
            format!(
                "Get-FileHash -LiteralPath {} -Algorithm SHA256",
                path_expr(target)?
            ),
            match hash {
                Some(h) => format!("Hash {h} (the bundle's {})", f.path),
                None => "the file's hash".into(),
            },
        ));
    }
    for t in tasks {
        let name = ps(&t.name)?;
        out.push(verify(
            format!(
                "Get-ScheduledTask -TaskPath '\\' -TaskName {name} | Select-Object -Property 'TaskName', 'State', @{{ Name = 'RunAs'; Expression = {{ $_.Principal.UserId }} }}"
            ),
            format!("State Ready, RunAs {}", t.run_as),
        ));
        out.push(verify(
            format!(
                "Get-ScheduledTaskInfo -TaskPath '\\' -TaskName {name} | Select-Object -Property 'LastRunTime', 'LastTaskResult', 'NextRunTime'"
            ),
            format!(
                "NextRunTime as the schedule says ({}); LastTaskResult 0 after a run",
                t.schedule.words
            ),
        ));
    }
    for r in registry {
        let key = r.key.strip_prefix("HKLM\\").unwrap_or(&r.key);
        let name = ps(&r.name)?;
        out.push(verify(
            format!(
                "Get-ItemProperty -LiteralPath {} -Name {name} | Select-Object -ExpandProperty {name}",
                ps(&format!("HKLM:\\{key}"))?
            ),
            match r.value_type {
                "REG_DWORD" => format!("{} (a REG_DWORD, shown in decimal)", r.data),
                _ => format!("{} ({})", r.data, r.value_type),
            },
        ));
    }
    for s in services {
        out.push(verify(
            format!("sc.exe qfailure {}", ps(&s.service)?),
            "RESET_PERIOD and a RESTART action per failure, with the delay above (type sc.exe: sc alone is Set-Content in PowerShell)".into(),
        ));
    }
    Ok(out)
}
