<#
.SYNOPSIS
    sitebundle: read-only collector for "sitebundle audit": a GPMC backup of the site's GPO (named
    in $GpoName below).
.DESCRIPTION
    Run on a machine with the Group Policy Management Console (GroupPolicy module), as a user who
    can read the GPO. Backup-GPO writes OUTPUT\gpo\{backup id}\ (Backup.xml, bkupInfo.xml,
    DomainSysvol\...) and changes nothing in the domain. Default OUTPUT: the collected folder
    beside collect\. Windows PowerShell 2.0 or later.
#>
param([string]$Out = '')
$ErrorActionPreference = 'Stop'
if (-not $Out) {
    $bundle = Split-Path -Parent (Split-Path -Parent (Split-Path -Parent $MyInvocation.MyCommand.Path))
    $Out = Join-Path $bundle 'collected'
}
$target = Join-Path $Out 'gpo'
New-Item -ItemType Directory -Force -Path $target | Out-Null
Import-Module GroupPolicy
$GpoName = ('PartnerPoint farm - scripts and tasks')
$Domain = ('campus.example.edu')
Backup-GPO -Name $GpoName -Domain $Domain -Path $target -Comment 'sitebundle audit' | Out-Null
Write-Output "Backed up the GPO into $target"
