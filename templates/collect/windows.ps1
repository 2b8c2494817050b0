<#
sitebundle: read-only collector for "sitebundle audit" on Windows Server 2012 R2 and later
(Windows PowerShell 4.0 or later with its ScheduledTasks module), for the servers named in
$Servers below. Run it on each of them in an elevated Windows PowerShell (runbook, section Audit):

    powershell.exe -NoProfile -ExecutionPolicy Bypass -File <this file> [-Output FOLDER]

It writes FOLDER\<COMPUTERNAME>\ (default: the collected folder beside collect\) and changes
nothing on the server. Every file it writes is UTF-16 LE with a byte order mark
(-Encoding Unicode, the encoding the task XML declares):
  system.txt      the release (Win32_OperatingSystem's Version, written as ver writes it) and
                  COMPUTERNAME, SystemRoot, SystemDrive as NAME=value lines;
  tasks\NAME.xml  Export-ScheduledTask of each task of the root folder whose name begins with
                  the name of a task the bundle registers here (so an extra copy is seen too);
[% if registry %]
  registry.txt    each registry value the bundle sets (Get-ItemProperty; its type from the key),
                  in the layout of reg query;
[% endif %]
[% if files %]
  files.txt       size and SHA-256 (Get-FileHash) of each runtime script;
[% endif %]
[% if services %]
  services.txt    sc.exe qfailure of each service whose recovery settings the bundle sets.
[% endif %]
Exit 0 when every file was written, 2 when the output folder cannot be created.
#>
param([string]$Output = '')

$ErrorActionPreference = 'Stop'
$Site = [[ site | ps_ascii ]]
$Servers = [[ servers | ps_ascii ]]
$Release = [[ release | ps_ascii ]]
$Tasks = @([% for t in ps_tasks %][[ t | ps_ascii ]][% if not loop.last %], [% endif %][% endfor %])

if ($Output -eq '') {
    $Output = Join-Path (Split-Path -Parent $MyInvocation.MyCommand.Definition) '..\..\collected'
}
$Dir = Join-Path $Output $env:COMPUTERNAME
$TaskDir = Join-Path $Dir 'tasks'
try {
    [void](New-Item -ItemType Directory -Force -Path $TaskDir)
} catch {
    Write-Warning ('cannot create ' + $TaskDir)
    exit 2
}

$System = Join-Path $Dir 'system.txt'
$Os = Get-CimInstance -ClassName 'Win32_OperatingSystem'
Set-Content -LiteralPath $System -Value ('Microsoft Windows [Version ' + $Os.Version + ']') -Encoding Unicode
Add-Content -LiteralPath $System -Value ('COMPUTERNAME=' + $env:COMPUTERNAME) -Encoding Unicode
Add-Content -LiteralPath $System -Value ('SystemRoot=' + $env:SystemRoot) -Encoding Unicode
Add-Content -LiteralPath $System -Value ('SystemDrive=' + $env:SystemDrive) -Encoding Unicode

# A task exported by an earlier run and deleted since must not be found again.
Remove-Item -Path (Join-Path $TaskDir '*.xml')
foreach ($Task in @(Get-ScheduledTask)) {
    if ($Task.TaskPath -eq '\') {
        foreach ($Name in $Tasks) {
            if ($Task.TaskName.StartsWith($Name, [System.StringComparison]::OrdinalIgnoreCase)) {
                $Xml = Export-ScheduledTask -TaskName $Task.TaskName -TaskPath $Task.TaskPath
                Set-Content -LiteralPath (Join-Path $TaskDir ($Task.TaskName + '.xml')) -Value $Xml -Encoding Unicode
                break
            }
        }
    }
}
[% if registry %]

$Registry = Join-Path $Dir 'registry.txt'
Set-Content -LiteralPath $Registry -Value '' -Encoding Unicode
function Save-Value {
    param([string]$Key, [string]$Name)
    try {
        $Data = Get-ItemProperty -LiteralPath ('HKLM:\' + $Key) -Name $Name
        $Kind = [string]((Get-Item -LiteralPath ('HKLM:\' + $Key)).GetValueKind($Name))
        $Value = $Data.$Name
        if ($Kind -eq 'DWord') {
            $Text = 'REG_DWORD    0x' + $Value.ToString('x')
        } elseif ($Kind -eq 'String') {
            $Text = 'REG_SZ    ' + $Value
        } elseif ($Kind -eq 'ExpandString') {
            $Text = 'REG_EXPAND_SZ    ' + $Value
        } else {
            $Text = 'REG_' + $Kind.ToUpperInvariant() + '    ' + [string]$Value
        }
        Add-Content -LiteralPath $Registry -Value ('HKEY_LOCAL_MACHINE\' + $Key) -Encoding Unicode
        Add-Content -LiteralPath $Registry -Value ('    ' + $Name + '    ' + $Text) -Encoding Unicode
    } catch {
        Add-Content -LiteralPath $Registry -Value ('ERROR: HKLM\' + $Key + '\' + $Name + ' cannot be read') -Encoding Unicode
    }
}
[% for v in ps_values %]
Save-Value [[ v[0] | ps_ascii ]] [[ v[1] | ps_ascii ]]
[% endfor %]
[% endif %]
[% if files %]

$Files = Join-Path $Dir 'files.txt'
Set-Content -LiteralPath $Files -Value '' -Encoding Unicode
function Save-File {
    param([string]$Name, [string]$Path)
    $Full = [Environment]::ExpandEnvironmentVariables($Path)
    Add-Content -LiteralPath $Files -Value ('FILE ' + $Name) -Encoding Unicode
    if (Test-Path -LiteralPath $Full -PathType Leaf) {
        Add-Content -LiteralPath $Files -Value ('SIZE ' + (Get-Item -LiteralPath $Full).Length) -Encoding Unicode
        Add-Content -LiteralPath $Files -Value ('SHA256 ' + (Get-FileHash -LiteralPath $Full -Algorithm SHA256).Hash) -Encoding Unicode
    } else {
        Add-Content -LiteralPath $Files -Value 'SIZE' -Encoding Unicode
    }
}
[% for f in ps_files %]
Save-File [[ f[0] | ps_ascii ]] [[ f[1] | ps_ascii ]]
[% endfor %]
[% endif %]
[% if services %]

$Services = Join-Path $Dir 'services.txt'
Set-Content -LiteralPath $Services -Value '' -Encoding Unicode
$Sc = Join-Path $env:SystemRoot 'System32\sc.exe'
function Save-Service {
    param([string]$Name)
    $Lines = & $Sc 'qfailure' $Name
    Add-Content -LiteralPath $Services -Value $Lines -Encoding Unicode
}
[% for s in ps_services %]
Save-Service [[ s | ps_ascii ]]
[% endfor %]
[% endif %]

Write-Output ('Collected into ' + $Dir + ' (site ' + $Site + ', ' + $Servers + ', ' + $Release + ')')
exit 0
