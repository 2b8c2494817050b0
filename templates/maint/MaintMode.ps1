<#
.SYNOPSIS
    Writes the Application-log event the SCOM maintenance-mode management pack reacts to.

.DESCRIPTION
    sitebundle, site [[ site | ps_ascii ]]; edit site.toml and rebuild instead of this file. The
    PowerShell form of MaintMode.vbs for Windows Server 2012 R2 and later (Windows PowerShell 4.0
    or later; no VBScript). The management server then puts this computer into (or takes it out
    of) maintenance mode.

    Usage:  powershell.exe -NoProfile -ExecutionPolicy Bypass -File MaintMode.ps1 ON <duration>
            powershell.exe -NoProfile -ExecutionPolicy Bypass -File MaintMode.ps1 OFF [<duration>]
            <duration> is minutes or hours, e.g. 20M, 90M, 2H ([[ min_minutes ]] to [[ max_minutes ]] minutes)
[% if method == "wsh" %]
    Event:  Application log, source WSH, event ID 4 (information): what WshShell.LogEvent writes.
[% else %]
    Event:  Application log, event ID [[ id ]] (information), written with eventcreate.exe.
[% endif %]
    SCOM agent: with ON, when this computer's agent has its own maintenance mode (SCOM 2016 and
    later: MaintenanceMode.dll in the agent's folder), the script also asks the agent directly
    (Start-SCOMAgentMaintenanceMode -Duration <minutes>); the agent acts within about 5 minutes.
    That cmdlet cannot end maintenance mode early: OFF is the event alone.

    Exit codes: 0 the event was written (and the agent asked, where it has its own maintenance
    mode), 1 usage error, 2 the event could not be written, 3 the event was written but the
    agent's maintenance mode could not be started.
#>
param(
    [string]$Action = '',
    [string]$Duration = ''
)

$MinMinutes = [[ min_minutes ]]
$MaxMinutes = [[ max_minutes ]]
# The event text from site.toml (non-ASCII characters as [char], so this file stays ASCII).
$EventText = [[ text | ps_ascii ]]

function Write-Usage {
    param([string]$Why)
    Write-Output "ERROR: $Why"
    Write-Output 'Usage: MaintMode.ps1 ON <duration> | OFF [<duration>]; <duration> such as 20M or 2H'
    exit 1
}

# Minutes of a duration such as 20M or 2H, or -1 when it is not one within the limits.
function Get-Minutes {
    param([string]$Text)
    if ($Text -notmatch '^([0-9]{1,4})([MH])$') { return -1 }
    $n = [int]$Matches[1]
    if ($Matches[2] -eq 'H') { $n = $n * 60 }
    if ($n -lt $MinMinutes -or $n -gt $MaxMinutes) { return -1 }
    return $n
}

$Action = $Action.Trim().ToUpperInvariant()
if ($Action -ne 'ON' -and $Action -ne 'OFF') {
    Write-Usage "the first argument must be ON or OFF, not '$Action'"
}
$Duration = $Duration.Trim().ToUpperInvariant()
if ($Duration -ne '') {
    $Minutes = Get-Minutes $Duration
    if ($Minutes -lt 0) {
        Write-Usage "'$Duration' is not a duration from $MinMinutes to $MaxMinutes minutes such as 20M or 2H"
    }
} elseif ($Action -eq 'ON') {
    Write-Usage 'ON needs a duration, e.g. 20M'
} else {
    $Duration = '0M'
    $Minutes = 0
}

$Text = $EventText.Replace('{action}', $Action).Replace('{duration}', $Duration).Replace('{minutes}', [string]$Minutes)
try {
[% if method == "wsh" %]
    Write-EventLog -LogName Application -Source 'WSH' -EventId 4 -EntryType Information -Message $Text -ErrorAction Stop
[% else %]
    $eventcreate = Join-Path $env:SystemRoot 'System32\eventcreate.exe'
    $null = & $eventcreate /L APPLICATION /T INFORMATION /SO [[ source | ps_str ]] /ID [[ id ]] /D $Text
    if ($LASTEXITCODE -ne 0) { throw "eventcreate.exe exited with $LASTEXITCODE" }
[% endif %]
} catch {
    $Why = $_.Exception.Message
    Write-Output "ERROR: could not write the maintenance-mode event: $Text ($Why)"
    exit 2
}
Write-Output "Wrote the maintenance-mode event: $Text"

# SCOM 2016 and later agents: Start-SCOMAgentMaintenanceMode from the agent's MaintenanceMode.dll
# (Microsoft, "Suspend monitoring temporarily by using maintenance mode": -Duration in minutes, at
# least 5, -Reason, -Comments; the agent's rule picks the request up within 4 to 5 minutes).
if ($Action -eq 'ON') {
    $AgentModule = Join-Path $env:ProgramFiles 'Microsoft Monitoring Agent\Agent\MaintenanceMode.dll'
    if (Test-Path -Path $AgentModule) {
        try {
            Import-Module $AgentModule -ErrorAction Stop
            Start-SCOMAgentMaintenanceMode -Duration $Minutes -Reason 'PlannedOperatingSystemReconfiguration' -Comments $Text -ErrorAction Stop
        } catch {
            $Why = $_.Exception.Message
            Write-Output "ERROR: wrote the event, but the SCOM agent's maintenance mode could not be started ($Why)"
            exit 3
        }
        Write-Output "Asked the SCOM agent for $Minutes minutes of maintenance mode."
    }
}
exit 0
