<#
.SYNOPSIS
    Points the SQL Server client alias at the current database mirroring principal.

.DESCRIPTION
    sitebundle alias switcher (site [[ site | ps_str ]]). Runs every [[ interval ]] minute(s) as the
    scheduled task [[ task_name | ps_str ]] on each front end.

    1. Reads the alias from HKLM:\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo (value
       "DBMSSOCN,host[\instance][,port]") and, on a 64-bit Windows only, from the 32-bit view
       HKLM:\SOFTWARE\Wow6432Node\... (a 32-bit Windows has no such view). An alias that is not a
       TCP/IP alias in either view is left alone.
    2. Asks the server it points at whether it is principal for the probe database
       (sys.database_mirroring.mirroring_role = 1, through System.Data.SqlClient, Windows
       authentication). If it is, every view agrees and the alias is one of -Partners as
       configured (host, instance and port), nothing is done.
    3. Otherwise asks each configured partner in turn and switches the alias (every view) only
       to a partner that answers as principal. When no partner answers as principal the alias is
       left alone.
    4. Optionally (-CycleServices) restarts IIS and the services in -Services after a switch.
    The outcome of each run is kept in Update-SqlAlias.state beside the script; the Application
    event log (source 'sitebundle-SqlAlias') gets an entry for every switch and whenever the
    outcome changes (an outage is logged once when it starts and once when it ends, not every
    run). PowerShell 2.0 compatible.

    The account that runs it needs, on both partners, a login with VIEW ANY DATABASE (or ALTER ANY
    DATABASE / CREATE DATABASE): without it sys.database_mirroring hides the row and every partner
    looks "unknown". SYSTEM connects as the computer account DOMAIN\HOST$.

    Exit codes (Task Scheduler's "Last Run Result"):
      0  the alias points at the principal: it already did, or it was switched (or, with
         -WhatIf, would be switched) to the partner that answered as principal
      2  no partner answered as principal: alias left unchanged
      3  the alias exists but is not a TCP/IP (DBMSSOCN) alias in some view: left unchanged
      4  unexpected error (registry, event log or state file failure): see the message
      5  started by a 32-bit PowerShell on 64-bit Windows that could not start the 64-bit one
         (see the message); nothing changed

.PARAMETER Alias
    Alias name (registry value name).
.PARAMETER Partners
    The mirroring partners as "host[\instance][,port]", in order of preference.
.PARAMETER Database
    Database whose mirroring role decides which partner is principal.
.PARAMETER CycleServices
    Restart IIS and the services in -Services after a switch.
.PARAMETER Services
    The services restarted after IIS (each only if it is running).
.PARAMETER TimeoutSeconds
    Connect and query timeout per partner.
.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File Update-SqlAlias.ps1 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [string]$Alias = [[ alias | ps_str ]],
    [string[]]$Partners = @([% for p in partners %][[ p | ps_str ]][% if not loop.last %], [% endif %][% endfor %]),
    [string]$Database = [[ database | ps_str ]],
    [switch]$CycleServices = $[[ cycle_services | trusted ]],
    [string[]]$Services = @([% for v in services %][[ v | ps_str ]][% if not loop.last %], [% endif %][% endfor %]),
    [int]$TimeoutSeconds = 5
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# A 32-bit PowerShell on a 64-bit Windows (SysWOW64\WindowsPowerShell, e.g. started by a 32-bit
# management tool) has HKLM\SOFTWARE redirected to Wow6432Node (Microsoft, "Registry Redirector"):
# both views below would be the 32-bit one and the 64-bit alias SharePoint reads would never be
# written. Such a process has PROCESSOR_ARCHITEW6432 set (Microsoft, "WOW64 Implementation
# Details"). It runs this script again in the 64-bit PowerShell, reached through
# %SystemRoot%\SysNative (Microsoft, "File System Redirector": the name a 32-bit process uses for
# the real System32; Server 2003 x64 has it only with hotfix KB942589), and exits with that run's
# exit code. Without SysNative, or with a parameter a command line cannot carry, it exits 5.
if ($env:PROCESSOR_ARCHITEW6432 -eq 'AMD64') {
    $native = $env:SystemRoot + '\SysNative\WindowsPowerShell\v1.0\powershell.exe'
    $direct = '%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe'
    foreach ($name in $PSBoundParameters.Keys) {
        if ($name -ne 'WhatIf' -and $name -ne 'Verbose') {
            Write-Output ('Update-SqlAlias runs as a 32-bit process on 64-bit Windows and cannot pass -' + $name + ' to the 64-bit PowerShell: run it with ' + $direct + '; alias left unchanged.')
            exit 5
        }
    }
    if (-not (Test-Path -Path $native)) {
        Write-Output ('Update-SqlAlias runs as a 32-bit process on 64-bit Windows and cannot start the 64-bit PowerShell (' + $native + ' is missing; on Server 2003 x64 install KB942589): run it with ' + $direct + '; alias left unchanged.')
        exit 5
    }
    $relaunch = @('-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', $MyInvocation.MyCommand.Definition)
    if ($WhatIfPreference) {
        $relaunch += '-WhatIf'
    }
    if ($VerbosePreference -eq 'Continue') {
        $relaunch += '-Verbose'
    }
    & $native $relaunch
    exit $LASTEXITCODE
}

# The 32-bit registry view exists only on a 64-bit Windows. PROCESSOR_ARCHITECTURE is AMD64 in a
# 64-bit process there; a 32-bit (WOW64) process sees x86 and gets PROCESSOR_ARCHITEW6432 = AMD64
# (Microsoft, "WOW64 Implementation Details"; stan-dev/stan#1614).
$KeyPaths = @('HKLM:\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo')
if ($env:PROCESSOR_ARCHITECTURE -eq 'AMD64' -or $env:PROCESSOR_ARCHITEW6432 -eq 'AMD64') {
    $KeyPaths += 'HKLM:\SOFTWARE\Wow6432Node\Microsoft\MSSQLServer\Client\ConnectTo'
}
$EventSource = 'sitebundle-SqlAlias'
$StateFile = Join-Path (Split-Path -Parent $MyInvocation.MyCommand.Definition) 'Update-SqlAlias.state'

function Write-AliasEvent {
    param([int]$EventId, [string]$EntryType, [string]$Message)
    try {
        if (-not [System.Diagnostics.EventLog]::SourceExists($EventSource)) {
            New-EventLog -LogName 'Application' -Source $EventSource
        }
        Write-EventLog -LogName 'Application' -Source $EventSource -EventId $EventId -EntryType $EntryType -Message $Message
    }
    catch {
        Write-Warning ('Could not write to the Application event log: ' + $_.Exception.Message)
    }
}

function Write-Outcome {
    # Logs an event when the outcome differs from the last run's (and for every switch), then
    # remembers the outcome. With -WhatIf nothing is logged or remembered.
    param([string]$Outcome, [int]$EventId, [string]$EntryType, [string]$Message)
    Write-Output $Message
    if ($WhatIfPreference) {
        return
    }
    $last = ''
    if (Test-Path -Path $StateFile) {
        $last = [string](Get-Content -Path $StateFile -TotalCount 1)
    }
    # After a switch the alias points at the principal: the state is 'ok'.
    $state = $Outcome
    if ($Outcome -eq 'switched') {
        $state = 'ok'
    }
    if ($Outcome -eq 'switched' -or $state -ne $last) {
        Write-AliasEvent -EventId $EventId -EntryType $EntryType -Message $Message
    }
    if ($state -ne $last) {
        Set-Content -Path $StateFile -Value $state -Encoding ASCII
    }
}

function Get-AliasTarget {
    # Returns the data source of the alias in one registry key, '' when there is none,
    # or $null when the value is not a TCP/IP alias.
    param([string]$KeyPath)
    $item = Get-ItemProperty -Path $KeyPath -Name $Alias -ErrorAction SilentlyContinue
    if ($item -eq $null) {
        return ''
    }
    $data = [string]$item.$Alias
    if (-not $data.StartsWith('DBMSSOCN,', [System.StringComparison]::OrdinalIgnoreCase)) {
        return $null
    }
    return $data.Substring(9).Trim()
}

function Get-MirrorRole {
    # 'Primary', 'Secondary', 'unknown' (no row visible) or 'unreachable' (connection failed).
    param([string]$Server)
    $builder = New-Object System.Data.SqlClient.SqlConnectionStringBuilder
    $builder['Data Source'] = $Server
    $builder['Initial Catalog'] = 'master'
    $builder['Integrated Security'] = $true
    $builder['Connect Timeout'] = $TimeoutSeconds
    $builder['Pooling'] = $false
    $builder['Application Name'] = 'sitebundle Update-SqlAlias'
    $connection = New-Object System.Data.SqlClient.SqlConnection($builder.ConnectionString)
    try {
        $connection.Open()
        $command = $connection.CreateCommand()
        $command.CommandTimeout = $TimeoutSeconds
        $command.CommandText = 'SELECT m.mirroring_role FROM sys.database_mirroring AS m JOIN sys.databases AS d ON d.database_id = m.database_id WHERE d.name = @db'
        [void]$command.Parameters.AddWithValue('@db', $Database)
        $value = $command.ExecuteScalar()
        if ($value -eq $null -or $value -is [System.DBNull]) {
            return 'unknown'
        }
        if ([int]$value -eq 1) {
            return 'Primary'
        }
        if ([int]$value -eq 2) {
            return 'Secondary'
        }
        return 'unknown'
    }
    catch {
        Write-Verbose ('Cannot query ' + $Server + ': ' + $_.Exception.Message)
        return 'unreachable'
    }
    finally {
        $connection.Dispose()
    }
}

function Set-AliasTarget {
    # Writes DBMSSOCN,<target> into both keys. Only ever called with a partner that answered as principal.
    param([string]$Target)
    $data = 'DBMSSOCN,' + $Target
    foreach ($keyPath in $KeyPaths) {
        if ($PSCmdlet.ShouldProcess($keyPath + '\' + $Alias, 'Set to ' + $data)) {
            if (-not (Test-Path -Path $keyPath)) {
                [void](New-Item -Path $keyPath -Force)
            }
            Set-ItemProperty -Path $keyPath -Name $Alias -Value $data
        }
    }
}

function Restart-SharePointServices {
    if ($PSCmdlet.ShouldProcess('IIS and ' + ($Services -join ', '), 'Restart')) {
        & "$env:SystemRoot\System32\iisreset.exe" /noforce
        foreach ($name in $Services) {
            $service = Get-Service -Name $name -ErrorAction SilentlyContinue
            if ($service -ne $null -and $service.Status -eq 'Running') {
                Restart-Service -Name $name -Force
            }
        }
    }
}

function Test-SameTarget {
    param([string]$A, [string]$B)
    return [string]::Equals($A.Replace(' ', ''), $B.Replace(' ', ''), [System.StringComparison]::OrdinalIgnoreCase)
}

function Test-ConfiguredPartner {
    # True when the target is one of -Partners exactly as configured (name, instance and port). An
    # alias that reaches the principal under another name or port (written before a rebuild changed
    # a partner's port or FQDN, while SQL Server listens on both) is rewritten with the configured
    # one, so a rebuild never leaves the front ends on an endpoint about to be retired.
    param([string]$Target)
    foreach ($partner in $Partners) {
        if (Test-SameTarget -A $Target -B $partner) {
            return $true
        }
    }
    return $false
}

try {
    $current = Get-AliasTarget -KeyPath $KeyPaths[0]
    $current32 = $current
    if ($KeyPaths.Count -gt 1) {
        $current32 = Get-AliasTarget -KeyPath $KeyPaths[1]
    }
    if ($current -eq $null -or $current32 -eq $null) {
        Write-Outcome -Outcome 'not-tcp' -EventId 3 -EntryType 'Warning' -Message ('Alias ' + $Alias + ' is not a TCP/IP (DBMSSOCN) alias in every registry view; left unchanged.')
        exit 3
    }

    if ($current -ne '') {
        $currentRole = Get-MirrorRole -Server $current
        Write-Verbose ('Alias ' + $Alias + ' points at ' + $current + ' (' + $currentRole + ' for ' + $Database + ').')
        if ($currentRole -eq 'Primary' -and (Test-SameTarget -A $current -B $current32) -and (Test-ConfiguredPartner -Target $current)) {
            Write-Outcome -Outcome 'ok' -EventId 5 -EntryType 'Information' -Message ('Alias ' + $Alias + ' points at ' + $current + ', the principal for ' + $Database + '.')
            exit 0
        }
    }

    # Find a partner that answers as principal. Only such a partner may be written.
    $principal = $null
    foreach ($candidate in $Partners) {
        $role = Get-MirrorRole -Server $candidate
        Write-Verbose ($candidate + ': ' + $role)
        if ($role -eq 'Primary') {
            $principal = $candidate
            break
        }
    }

    if ($principal -eq $null) {
        Write-Outcome -Outcome 'no-principal' -EventId 2 -EntryType 'Error' -Message ('No partner (' + ($Partners -join ', ') + ') answered as principal for ' + $Database + '; alias ' + $Alias + ' left at "' + $current + '".')
        exit 2
    }

    Set-AliasTarget -Target $principal
    $verb = 'switched'
    if ($WhatIfPreference) {
        $verb = 'would be switched (WhatIf)'
    }
    Write-Outcome -Outcome 'switched' -EventId 1 -EntryType 'Information' -Message ('Alias ' + $Alias + ' ' + $verb + ' from "' + $current + '" to ' + $principal + ', the principal for ' + $Database + '.')
    if ($CycleServices) {
        Restart-SharePointServices
    }
    exit 0
}
catch {
    Write-Outcome -Outcome 'error' -EventId 4 -EntryType 'Error' -Message ('Update-SqlAlias failed: ' + $_.Exception.Message)
    exit 4
}
