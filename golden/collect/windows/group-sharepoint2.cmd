@echo off
rem sitebundle: read-only collector for "sitebundle audit" (site partnerpoint), for sharepoint2, sharepoint3 (Windows Server 2008 R2).
rem Run it on each of these servers as a local administrator (runbook, section Audit), with an optional OUTPUT FOLDER.
rem It writes OUTPUT FOLDER\%COMPUTERNAME%\ (default: the collected folder beside collect\) and
rem changes nothing on the server: system.txt (ver, COMPUTERNAME, SystemRoot, SystemDrive), tasks.csv
rem (schtasks /Query /FO CSV /V), tasks\NAME.xml (schtasks /Query /XML /TN NAME for each task the
rem bundle registers here), registry.txt (reg query of each value the bundle sets),
rem files.txt (size and SHA-256 of each runtime script),
rem services.txt (sc qfailure of each service whose recovery settings the bundle sets).
rem Exit 0 when every file was written, 2 when the output folder cannot be created.
rem What it collects is listed in the "rem sitebundle-" lines below, which it reads from itself
rem with findstr (values are data there, never part of a command line cmd.exe parses).
rem sitebundle-task KillProc-mssdmn
rem sitebundle-task Update-SqlAlias
rem sitebundle-task WUTriggerMaintMode
rem sitebundle-value HKLM\SOFTWARE\Microsoft\MSSQLServer\Client\ConnectTo|SPSQL
rem sitebundle-value HKLM\SOFTWARE\Wow6432Node\Microsoft\MSSQLServer\Client\ConnectTo|SPSQL
rem sitebundle-file MaintMode.vbs|%SystemDrive%\localscripts\MaintMode.vbs
rem sitebundle-file Update-SqlAlias.ps1|%SystemDrive%\localscripts\Update-SqlAlias.ps1
rem sitebundle-file killProc.cmd|%SystemDrive%\localscripts\killProc.cmd
rem sitebundle-service SPTimerV3
setlocal EnableExtensions DisableDelayedExpansion
set "OUT=%~1"
if "%OUT%"=="" set "OUT=%~dp0..\..\collected"
set "OUT=%OUT%\%COMPUTERNAME%"
if not exist "%OUT%\tasks" mkdir "%OUT%\tasks"
if not exist "%OUT%\tasks" (
    echo cannot create "%OUT%\tasks" 1>&2
    exit /b 2
)
ver > "%OUT%\system.txt"
set COMPUTERNAME >> "%OUT%\system.txt"
set SystemRoot >> "%OUT%\system.txt"
set SystemDrive >> "%OUT%\system.txt"
schtasks /Query /FO CSV /V > "%OUT%\tasks.csv"
for /f "tokens=1*" %%A in ('findstr /b /c:"rem sitebundle-task " "%~f0"') do (
    for /f "tokens=1*" %%C in ("%%B") do schtasks /Query /XML /TN "%%D" > "%OUT%\tasks\%%D.xml" 2>nul
)
if exist "%OUT%\registry.txt" del "%OUT%\registry.txt"
for /f "tokens=1*" %%A in ('findstr /b /c:"rem sitebundle-value " "%~f0"') do (
    for /f "tokens=1,2* delims=|" %%C in ("%%B") do (
        for /f "tokens=1*" %%F in ("%%C") do reg query "%%G" /v "%%D" >> "%OUT%\registry.txt" 2>&1
    )
)
if exist "%OUT%\files.txt" del "%OUT%\files.txt"
for /f "tokens=1*" %%A in ('findstr /b /c:"rem sitebundle-file " "%~f0"') do (
    for /f "tokens=1,2* delims=|" %%C in ("%%B") do (
        for /f "tokens=1*" %%F in ("%%C") do call :hash "%%G" "%%D"
    )
)
if exist "%OUT%\services.txt" del "%OUT%\services.txt"
for /f "tokens=1*" %%A in ('findstr /b /c:"rem sitebundle-service " "%~f0"') do (
    for /f "tokens=1*" %%C in ("%%B") do sc qfailure "%%D" >> "%OUT%\services.txt" 2>&1
)
echo Collected into "%OUT%".
exit /b 0

rem :hash NAME PATH - appends NAME's size and certutil hash to files.txt. The call expands the
rem environment variables of PATH (e.g. %%SystemDrive%%) once.
:hash
for %%N in ("%~1") do >> "%OUT%\files.txt" echo FILE %%~N
>> "%OUT%\files.txt" echo SIZE %~z2
certutil -hashfile "%~2" SHA256 >> "%OUT%\files.txt" 2>&1
exit /b 0
