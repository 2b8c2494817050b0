//! Writes the live farm (farm.rs) into a collected folder, each file in the format the real tool
//! writes it (see tests/fixtures/audit/README.md for where each format comes from): Task XML as
//! the Task Scheduler console exports it (UTF-16 LE with BOM, two-space indent, the defaults
//! Windows adds), `schtasks /Query /FO CSV /V` with the 2003 or the 2008 columns, `reg query`
//! output (2003 banner and tabs, or 2008 four blanks), certutil's hash output, `eventtriggers
//! /query /fo csv /nh`, the SQL collector's records as sqlcmd prints them, the saved
//! bigip.conf, and a Backup-GPO folder.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::farm::{LiveFarm, Server, SqlServer, Task, Trigger, expand};

pub fn write(farm: &LiveFarm, dir: &Path) {
    for s in &farm.servers {
        write_server(s, &dir.join(&s.name));
    }
    for s in &farm.sql {
        write_file(
            &dir.join("sql").join(format!("{}.txt", s.folder)),
            sql_output(s).as_bytes(),
        );
    }
    if !farm.bigip_conf.is_empty() {
        write_file(&dir.join("f5/bigip.conf"), farm.bigip_conf.as_bytes());
    }
    if let Some((name, files)) = &farm.gpo {
        write_backup(&dir.join("gpo"), name, files);
    }
}

pub fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

pub fn utf16_bom(s: &str) -> Vec<u8> {
    let mut b = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b
}

fn write_server(s: &Server, dir: &Path) {
    let (version, root) = if s.v2 {
        ("6.1.7601", r"C:\Windows")
    } else {
        ("5.2.3790", r"C:\WINDOWS")
    };
    write_file(
        &dir.join("system.txt"),
        crlf(&format!(
            "\nMicrosoft Windows [Version {version}]\nCOMPUTERNAME={}\nSystemRoot={root}\nSystemDrive=C:\n",
            s.name.to_ascii_uppercase()
        ))
        .as_bytes(),
    );
    write_file(&dir.join("tasks.csv"), schtasks_csv(s).as_bytes());
    if s.v2 {
        for t in &s.tasks {
            write_file(
                &dir.join(format!("tasks/{}.xml", t.name)),
                &utf16_bom(&crlf(&task_xml(t))),
            );
        }
    }
    write_file(&dir.join("registry.txt"), reg_query(s).as_bytes());
    if !s.services.is_empty() {
        let text: String = s.services.iter().map(sc_qfailure).collect();
        write_file(&dir.join("services.txt"), text.as_bytes());
    }
    write_file(&dir.join("files.txt"), certutil(s).as_bytes());
    if !s.v2 {
        let mut csv = String::new();
        for (i, (name, task)) in s.triggers.iter().enumerate() {
            let _ = writeln!(csv, "\"{}\",\"{name}\",\"{task}\"", i + 1);
        }
        if s.triggers.is_empty() {
            csv.push_str("INFO: No event triggers found.\n");
        }
        write_file(&dir.join("eventtriggers.csv"), crlf(&csv).as_bytes());
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A task as the console's Export writes it.
pub fn task_xml(t: &Task) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\n  <RegistrationInfo>\n    <Date>2010-04-09T12:05:31.4829541</Date>\n    <Author>CAMPUS\\spadmin</Author>\n",
    );
    let _ = writeln!(
        x,
        "    <Description>{}</Description>",
        xml_escape(&t.description)
    );
    let _ = writeln!(
        x,
        "    <URI>\\{}</URI>\n  </RegistrationInfo>\n  <Triggers>",
        xml_escape(&t.name)
    );
    for tr in &t.triggers {
        match tr {
            Trigger::Daily { start, days } => {
                let _ = writeln!(
                    x,
                    "    <CalendarTrigger>\n      <StartBoundary>{start}</StartBoundary>\n      <Enabled>true</Enabled>\n      <ScheduleByDay>\n        <DaysInterval>{days}</DaysInterval>\n      </ScheduleByDay>\n    </CalendarTrigger>"
                );
            }
            Trigger::Weekly { start, weeks, days } => {
                let days: String = days
                    .iter()
                    .map(|d| format!("          <{d} />\n"))
                    .collect();
                let _ = writeln!(
                    x,
                    "    <CalendarTrigger>\n      <StartBoundary>{start}</StartBoundary>\n      <Enabled>true</Enabled>\n      <ScheduleByWeek>\n        <DaysOfWeek>\n{days}        </DaysOfWeek>\n        <WeeksInterval>{weeks}</WeeksInterval>\n      </ScheduleByWeek>\n    </CalendarTrigger>"
                );
            }
            Trigger::Repeat { start, interval } => {
                let _ = writeln!(
                    x,
                    "    <TimeTrigger>\n      <Repetition>\n        <Interval>{interval}</Interval>\n        <StopAtDurationEnd>false</StopAtDurationEnd>\n      </Repetition>\n      <StartBoundary>{start}</StartBoundary>\n      <Enabled>true</Enabled>\n    </TimeTrigger>"
                );
            }
            Trigger::Event { subscription } => {
                let _ = writeln!(
                    x,
                    "    <EventTrigger>\n      <Enabled>true</Enabled>\n      <Subscription>{}</Subscription>\n    </EventTrigger>",
                    xml_escape(subscription)
                );
            }
            Trigger::Boot => {
                x.push_str("    <BootTrigger>\n      <Enabled>true</Enabled>\n    </BootTrigger>\n")
            }
        }
    }
    let _ = writeln!(
        x,
        "  </Triggers>\n  <Principals>\n    <Principal id=\"Author\">\n      <UserId>{}</UserId>\n      <RunLevel>HighestAvailable</RunLevel>\n    </Principal>\n  </Principals>",
        xml_escape(&t.user)
    );
    let _ = writeln!(
        x,
        "  <Settings>\n    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n    <AllowHardTerminate>true</AllowHardTerminate>\n    <StartWhenAvailable>true</StartWhenAvailable>\n    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\n    <IdleSettings>\n      <StopOnIdleEnd>true</StopOnIdleEnd>\n      <RestartOnIdle>false</RestartOnIdle>\n    </IdleSettings>\n    <AllowStartOnDemand>true</AllowStartOnDemand>\n    <Enabled>{}</Enabled>\n    <Hidden>false</Hidden>\n    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n    <WakeToRun>false</WakeToRun>\n    <ExecutionTimeLimit>{}</ExecutionTimeLimit>\n    <Priority>7</Priority>\n  </Settings>",
        t.enabled, t.time_limit
    );
    let _ = writeln!(
        x,
        "  <Actions Context=\"Author\">\n    <Exec>\n      <Command>{}</Command>\n      <Arguments>{}</Arguments>\n    </Exec>\n  </Actions>\n</Task>",
        xml_escape(&t.command),
        xml_escape(&t.arguments)
    );
    x
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn csv_row(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
        .collect();
    quoted.join(",") + "\n"
}

const COLUMNS_2003: &[&str] = &[
    "HostName",
    "TaskName",
    "Next Run Time",
    "Status",
    "Logon Mode",
    "Last Run Time",
    "Last Result",
    "Creator",
    "Schedule",
    "Task To Run",
    "Start In",
    "Comment",
    "Scheduled Task State",
    "Scheduled Type",
    "Start Time",
    "Start Date",
    "End Date",
    "Days",
    "Months",
    "Run As User",
    "Delete Task If Not Rescheduled",
    "Stop Task If Runs X Hours and X Mins",
    "Repeat: Every",
    "Repeat: Until: Time",
    "Repeat: Until: Duration",
    "Repeat: Stop If Still Running",
    "Idle Time",
    "Power Management",
];
const COLUMNS_2008: &[&str] = &[
    "HostName",
    "TaskName",
    "Next Run Time",
    "Status",
    "Logon Mode",
    "Last Run Time",
    "Last Result",
    "Author",
    "Task To Run",
    "Start In",
    "Comment",
    "Scheduled Task State",
    "Idle Time",
    "Power Management",
    "Run As User",
    "Delete Task If Not Rescheduled",
    "Stop Task If Runs X Hours and X Mins",
    "Schedule",
    "Schedule Type",
    "Start Time",
    "Start Date",
    "End Date",
    "Days",
    "Months",
    "Repeat: Every",
    "Repeat: Until: Time",
    "Repeat: Until: Duration",
    "Repeat: Stop If Still Running",
];

/// `schtasks /Query /FO CSV /V`: 2003 lists every task once per trigger under one header; 2008
/// repeats the header before each folder and writes names with their folder.
pub fn schtasks_csv(s: &Server) -> String {
    let columns = if s.v2 { COLUMNS_2008 } else { COLUMNS_2003 };
    let header = csv_row(&columns.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let mut out = header.clone();
    let host = s.name.to_ascii_uppercase();
    let mut all: Vec<&Task> = s.tasks.iter().collect();
    let mut foreign: Vec<&Task> = s.foreign_tasks.iter().collect();
    if !s.v2 {
        all.append(&mut foreign);
    }
    for (pass, tasks) in [(0, all), (1, foreign)] {
        if pass == 1 && !tasks.is_empty() {
            out.push('\n');
            out.push_str(&header);
        }
        for t in tasks {
            for tr in &t.triggers {
                let (kind, start, days, every) = match tr {
                    Trigger::Daily { start, days } => (
                        "Daily ",
                        start.as_str(),
                        if days == "1" {
                            "Everyday".to_string()
                        } else {
                            format!("Every {days} day(s)")
                        },
                        "Disabled".to_string(),
                    ),
                    // schtasks /Query /V: "Weekly " with the days as `SAT, SUN` (see
                    // src/audit/schtasks_csv.rs).
                    Trigger::Weekly { start, days, .. } => (
                        "Weekly ",
                        start.as_str(),
                        days.iter()
                            .map(|d| d[..3].to_ascii_uppercase())
                            .collect::<Vec<_>>()
                            .join(", "),
                        "Disabled".to_string(),
                    ),
                    Trigger::Repeat { start, interval } => (
                        "One Time Only, Minute",
                        start.as_str(),
                        "N/A".into(),
                        interval.clone(),
                    ),
                    Trigger::Event { .. } => {
                        ("When an event occurs", "", "N/A".into(), "Disabled".into())
                    }
                    Trigger::Boot => ("At system start up", "", "N/A".into(), "Disabled".into()),
                };
                let time = start
                    .split_once('T')
                    .map(|(_, t)| t[..8].to_string())
                    .unwrap_or_else(|| "N/A".into());
                let name = if s.v2 {
                    format!("\\{}", t.name)
                } else {
                    t.name.clone()
                };
                let command = if s.v2 {
                    format!("{} {}", t.command, t.arguments)
                } else {
                    expand(&format!("{} {}", t.command, t.arguments), false).replace('"', "")
                };
                let state = if t.enabled { "Enabled" } else { "Disabled" };
                let value = |c: &str| -> String {
                    match c {
                        "HostName" => host.clone(),
                        "TaskName" => name.clone(),
                        "Next Run Time" => "04:00:00, 10/04/2010".into(),
                        "Status" => {
                            if s.v2 {
                                "Ready".into()
                            } else {
                                String::new()
                            }
                        }
                        "Logon Mode" => "Interactive/Background".into(),
                        "Last Run Time" => "Never".into(),
                        "Last Result" => "0".into(),
                        "Creator" | "Author" => "CAMPUS\\spadmin".into(),
                        "Schedule" => "At 04:00 every day, starting 09/04/2010".into(),
                        "Task To Run" => command.clone(),
                        "Scheduled Task State" => state.into(),
                        "Scheduled Type" | "Schedule Type" => kind.into(),
                        "Start Time" => time.clone(),
                        "Start Date" => "09/04/2010".into(),
                        "Days" => days.clone(),
                        "Run As User" => {
                            if s.v2 {
                                "SYSTEM".into()
                            } else {
                                t.user.clone()
                            }
                        }
                        "Stop Task If Runs X Hours and X Mins" => "72:0".into(),
                        "Repeat: Every" => every.clone(),
                        "Power Management" => "No Start On Batteries, Stop On Battery Mode".into(),
                        _ => "N/A".into(),
                    }
                };
                out.push_str(&csv_row(
                    &columns.iter().map(|c| value(c)).collect::<Vec<_>>(),
                ));
            }
        }
    }
    crlf(&out)
}

/// `reg query "HKLM\key" /v name` for each value, appended (2003: banner and tabs).
fn reg_query(s: &Server) -> String {
    s.registry.iter().map(|v| reg_query_one(v, s.v2)).collect()
}

/// What `reg query "HKLM\key" /v name` prints for one value.
pub fn reg_query_one(v: &super::farm::RegValue, v2: bool) -> String {
    let out = if v2 {
        format!(
            "\nHKEY_LOCAL_MACHINE\\{}\n    {}    {}    {}\n\n",
            v.key, v.name, v.kind, v.data
        )
    } else {
        format!(
            "\n! REG.EXE VERSION 3.0\n\nHKEY_LOCAL_MACHINE\\{}\n    {}\t{}\t{}\n\n",
            v.key, v.name, v.kind, v.data
        )
    };
    crlf(&out)
}

/// The collector's files.txt: FILE, SIZE and certutil -hashfile (hex bytes separated by blanks,
/// as certutil printed them before Windows 8).
fn certutil(s: &Server) -> String {
    let mut out = String::new();
    for (name, bytes) in &s.files {
        let path = format!("C:\\localscripts\\{name}");
        let _ = writeln!(out, "FILE {name}\nSIZE {}", bytes.len());
        let spaced = |hex: Vec<u8>| {
            hex.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if s.v2 {
            let _ = writeln!(
                out,
                "SHA256 hash of file {path}:\n{}",
                spaced(Sha256::digest(bytes).to_vec())
            );
        } else {
            let _ = writeln!(
                out,
                "SHA-1 hash of file {path}:\n{}",
                spaced(sha1_smol::Sha1::from(bytes).digest().bytes().to_vec())
            );
        }
        out.push_str("CertUtil: -hashfile command completed successfully.\n");
    }
    crlf(&out)
}

fn sql_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// What sqlcmd -h -1 -y 0 prints for the collector: one line per row, result sets separated by
/// a blank line.
pub fn sql_output(s: &SqlServer) -> String {
    let mut out = format!(
        "sitebundle-collect\tsql\t1\t{}\t10.0.5500.0\t.\n\n",
        s.servername
    );
    for r in &s.rows {
        let mut fields: Vec<String> = vec![r[0].clone()];
        fields.extend(r[1..].iter().map(|f| sql_escape(f)));
        fields.push(".".into());
        let _ = writeln!(out, "{}", fields.join("\t"));
    }
    out.push_str("\nend\t.\n");
    crlf(&out)
}

/// Backup-GPO: OUTPUT\{backup id}\ with bkupInfo.xml, Backup.xml and the GPO's files, and
/// manifest.xml beside the backups.
fn write_backup(dir: &Path, name: &str, files: &[super::farm::GpoFile]) {
    let id = "{8A3F2C1D-5B6E-4F70-9A81-2C3D4E5F6A7B}";
    let folder = dir.join(id);
    write_file(
        &folder.join("bkupInfo.xml"),
        crlf(&format!("<BackupInst xmlns=\"http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest\"><GPOGuid><![CDATA[{{75D8C96C-34D0-5C20-A37F-F2FA459A5249}}]]></GPOGuid><GPODomain><![CDATA[campus.example.edu]]></GPODomain><GPODomainGuid><![CDATA[{{2F1A6B3C-0D4E-4F5A-8B6C-7D8E9F0A1B2C}}]]></GPODomainGuid><GPODomainController><![CDATA[dc1.campus.example.edu]]></GPODomainController><BackupTime><![CDATA[2010-05-01T09:12:44]]></BackupTime><ID><![CDATA[{id}]]></ID><Comment><![CDATA[sitebundle audit]]></Comment><GPODisplayName><![CDATA[{name}]]></GPODisplayName></BackupInst>\n")).as_bytes(),
    );
    write_file(&folder.join("Backup.xml"), b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<GroupPolicyBackupScheme bkp:version=\"2.0\" bkp:type=\"GroupPolicyBackupTemplate\" xmlns:bkp=\"http://www.microsoft.com/GroupPolicy/GPOOperations\" xmlns=\"http://www.microsoft.com/GroupPolicy/GPOOperations\"/>\r\n");
    for (path, bytes) in files {
        write_file(&folder.join(path), bytes);
    }
    write_file(
        &dir.join("manifest.xml"),
        b"<Backups xmlns=\"http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest\"/>\r\n",
    );
}

/// What `sc qfailure NAME` prints (layout: src/audit/sc_qfailure.rs and its sources).
pub fn sc_qfailure(s: &super::farm::ServiceState) -> String {
    let mut out = format!(
        "[SC] QueryServiceConfig2 SUCCESS\n\nSERVICE_NAME: {}\n        RESET_PERIOD (in seconds)    : {}\n        REBOOT_MESSAGE               :\n        COMMAND_LINE                 :\n",
        s.name, s.reset_seconds
    );
    for (i, (kind, delay)) in s.actions.iter().enumerate() {
        let label = if i == 0 {
            "        FAILURE_ACTIONS              : "
        } else {
            "                                       "
        };
        let _ = writeln!(out, "{label}{kind} -- Delay = {delay} milliseconds.");
    }
    out.push('\n');
    crlf(&out)
}
