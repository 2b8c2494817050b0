//! What lands on each server, read from the whole plan: the files, scheduled tasks, registry
//! values and service settings whose hosts include it, how each gets there (the GPO or a command
//! by hand), the roles, prerequisites and verify commands the families contribute for it, and the
//! generic verify commands of its Windows release. `sitebundle plan` prints it; the runbook's
//! "On each server" section renders it.
//!
//! Facts about the targets used here:
//! - Server 2003's `schtasks /Query` has no `/TN` (its syntax is
//!   `schtasks /query [/s Computer [/u Domain\User [/p Password]]] [/fo {TABLE|LIST|CSV}] [/nh] [/v]`,
//!   Microsoft, "Schtasks" in the Windows Server 2003 command-line reference); `/TN` for a query
//!   came with Vista / Server 2008 ("schtasks query", learn.microsoft.com/windows-server/
//!   administration/windows-commands/schtasks-query: `/tn <taskname>`).
//! - `schtasks /Run /TN name` exists on both releases (2003 reference: `schtasks /run /tn TaskName`).
//! - `sc qfailure` and `reg query … /v` exist on both releases (Windows Server 2003 command-line
//!   reference: "Sc qfailure", "Reg query").

use serde::Serialize;

use super::{Plan, TaskSpec, Trigger};
use crate::bundle::Deploy;
use crate::model::{Farm, Os};

/// One line about what a server is in the site (an F5 pool member, a SQL partner, a front end
/// behind the SQL alias), plain text.
#[derive(Debug, Clone, Serialize)]
pub struct ServerRole {
    pub server: usize,
    /// Places the line among the others (in the runbook's order).
    pub slot: super::RunbookSlot,
    pub feature: &'static str,
    pub text: String,
}

/// Something a server needs before its part of the bundle works (plain text), for the servers in
/// `hosts` (chosen by release by the contributor).
#[derive(Debug, Clone, Serialize)]
pub struct ServerPrerequisite {
    pub hosts: Vec<usize>,
    pub feature: &'static str,
    pub text: String,
}

/// A command to run on the servers in `hosts` (an elevated command prompt on the server) to check
/// a contribution. `warning` set: the command changes the server at once (kills a process,
/// starts maintenance mode); it is shown apart, after the warning.
#[derive(Debug, Clone, Serialize)]
pub struct ServerVerify {
    pub hosts: Vec<usize>,
    pub feature: &'static str,
    pub command: String,
    /// What the output must show (plain text).
    pub expect: String,
    pub warning: Option<String>,
}

/// What the site's GPO delivers, recorded by the GPO emitter for the per-server view.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GpoCoverage {
    pub name: String,
    /// Script file names the Files preference copies.
    pub files: Vec<String>,
    /// Tasks it registers: name and servers (legacy items on 2003, TaskV2 on 2008).
    pub tasks: Vec<(String, Vec<usize>)>,
    pub registry: bool,
    pub services: bool,
}

/// How an item reaches the server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct How {
    /// `gpo` or `hand`.
    pub by: &'static str,
    /// By hand: the command (from the bundle folder unless it says otherwise); by the GPO: none.
    pub command: Option<String>,
    /// Plain text: which preference, or why by hand.
    pub note: String,
}

impl How {
    fn gpo(note: impl Into<String>) -> How {
        How {
            by: "gpo",
            command: None,
            note: note.into(),
        }
    }
    fn hand(command: Option<String>, note: impl Into<String>) -> How {
        How {
            by: "hand",
            command,
            note: note.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FilePlan {
    /// Path in the bundle.
    pub path: String,
    pub kind: String,
    /// Where it lands on the server (runtime scripts), else none (run from the bundle).
    pub target: Option<String>,
    pub how: How,
}

/// When a task runs, in words and in `schtasks` terms.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Schedule {
    pub words: String,
    /// The `schtasks /Create` schedule options that give the same runs (compare with the
    /// "Schedule Type", "Start Time" and "Next Run Time" of `schtasks /Query /V /FO LIST`).
    pub schtasks: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskPlan {
    pub name: String,
    pub feature: &'static str,
    pub schedule: Schedule,
    /// `schtasks /RU` account.
    pub run_as: String,
    /// Program and arguments.
    pub action: String,
    pub how: How,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegistryPlan {
    /// `HKLM\…` key.
    pub key: String,
    pub name: String,
    /// `REG_SZ` or `REG_DWORD`.
    pub value_type: &'static str,
    pub data: String,
    pub how: How,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServicePlan {
    pub service: String,
    pub settings: String,
    pub how: How,
}

/// Everything that lands on one server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerPlan {
    pub name: String,
    /// Release key as in site.toml (`2003`, `2003r2`, `2008`, `2008r2`).
    pub release: &'static str,
    pub os: &'static str,
    pub address: Option<String>,
    pub fqdn: Option<String>,
    pub roles: Vec<String>,
    pub prerequisites: Vec<String>,
    pub files: Vec<FilePlan>,
    pub tasks: Vec<TaskPlan>,
    pub registry: Vec<RegistryPlan>,
    pub services: Vec<ServicePlan>,
    /// Commands that only read: run them after deploying.
    pub verify: Vec<Verify>,
    /// Commands that change the server at once, each with its warning.
    pub destructive: Vec<Verify>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verify {
    pub command: String,
    pub expect: String,
    pub warning: Option<String>,
    /// Where to type it: `cmd` (an elevated command prompt) or `powershell` (an elevated
    /// Windows PowerShell: the release's own checks from Windows Server 2012 R2 on).
    pub shell: &'static str,
}

impl ServerPlan {
    /// Whether anything of the bundle lands on this server.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.files.is_empty()
            && self.tasks.is_empty()
            && self.registry.is_empty()
            && self.services.is_empty()
    }
}

/// The release key site.toml uses.
pub fn release_key(os: Os) -> &'static str {
    match os {
        Os::W2003 => "2003",
        Os::W2003R2 => "2003r2",
        Os::W2008 => "2008",
        Os::W2008R2 => "2008r2",
        Os::W2012R2 => "2012r2",
        Os::W2016 => "2016",
        Os::W2019 => "2019",
        Os::W2022 => "2022",
        Os::W2025 => "2025",
    }
}

/// What concerns each server, found in one pass over the plan (a server's view then reads only
/// its own lists, so the whole view stays linear in the size of the plan).
#[derive(Default)]
struct ByServer<'a> {
    /// Every file of the bundle.
    all_files: Option<&'a crate::bundle::Bundle>,
    files: Vec<Vec<(&'a String, &'a crate::bundle::Artifact)>>,
    tasks: Vec<Vec<&'a TaskSpec>>,
    registry: Vec<Vec<(&'a super::RegFile, &'a super::RegValue)>>,
    services: Vec<Vec<&'a super::ServiceRecovery>>,
    roles: Vec<Vec<&'a ServerRole>>,
    prerequisites: Vec<Vec<&'a ServerPrerequisite>>,
    verifies: Vec<Vec<&'a ServerVerify>>,
    /// (task name, server) pairs the GPO registers.
    gpo_tasks: std::collections::HashSet<(&'a str, usize)>,
}

impl<'a> ByServer<'a> {
    fn of(plan: &'a Plan, site: &Farm, files: &'a crate::bundle::Bundle) -> ByServer<'a> {
        let n = site.servers.len();
        let mut by = ByServer {
            all_files: Some(files),
            files: vec![Vec::new(); n],
            tasks: vec![Vec::new(); n],
            registry: vec![Vec::new(); n],
            services: vec![Vec::new(); n],
            roles: vec![Vec::new(); n],
            prerequisites: vec![Vec::new(); n],
            verifies: vec![Vec::new(); n],
            gpo_tasks: Default::default(),
        };
        let index: std::collections::HashMap<&str, usize> = site
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        for (path, a) in &files.files {
            for h in a.hosts.servers() {
                if let Some(&i) = index.get(h.as_str()) {
                    by.files[i].push((path, a));
                }
            }
        }
        for t in &plan.tasks {
            for &h in &t.hosts {
                by.tasks[h].push(t);
            }
        }
        for f in &plan.registry {
            for v in &f.values {
                for &h in &v.hosts {
                    by.registry[h].push((f, v));
                }
            }
        }
        for r in &plan.services {
            for &h in &r.hosts {
                by.services[h].push(r);
            }
        }
        for r in &plan.roles {
            by.roles[r.server].push(r);
        }
        for p in &plan.server_prerequisites {
            for &h in &p.hosts {
                by.prerequisites[h].push(p);
            }
        }
        for v in &plan.server_verifies {
            for &h in &v.hosts {
                by.verifies[h].push(v);
            }
        }
        if let Some(g) = plan.gpo_coverage() {
            for (name, hosts) in &g.tasks {
                by.gpo_tasks
                    .extend(hosts.iter().map(|&h| (name.as_str(), h)));
            }
        }
        by
    }
}

/// The per-server view of a site, built on demand: one index over the plan, then any server's
/// [`ServerPlan`] (a 10,000-server site need not hold every view at once). `Sync`: servers can be
/// viewed from several threads.
pub struct ServerPlans<'a> {
    plan: &'a Plan,
    site: &'a Farm,
    by: ByServer<'a>,
}

impl ServerPlans<'_> {
    /// The view of server `idx` (in the site's server order).
    pub fn get(&self, idx: usize) -> Result<ServerPlan, crate::Error> {
        self.plan.server_plan(self.site, &self.by, idx)
    }
}

impl Plan {
    /// The per-server view of every server of the site, in the site's server order.
    /// `files`: every file of the bundle (the families' and the emitters').
    pub fn server_plans(
        &self,
        site: &Farm,
        files: &crate::bundle::Bundle,
    ) -> Result<Vec<ServerPlan>, crate::Error> {
        let views = self.per_server(site, files);
        (0..site.servers.len()).map(|i| views.get(i)).collect()
    }

    /// The per-server view, one server at a time.
    pub fn per_server<'a>(
        &'a self,
        site: &'a Farm,
        files: &'a crate::bundle::Bundle,
    ) -> ServerPlans<'a> {
        ServerPlans {
            plan: self,
            site,
            by: ByServer::of(self, site, files),
        }
    }

    /// The per-server view of server `idx`.
    fn server_plan(
        &self,
        site: &Farm,
        by: &ByServer,
        idx: usize,
    ) -> Result<ServerPlan, crate::Error> {
        let s = site.server(idx);
        let tasks = self.task_plans(site, by, idx);
        let registry = self.registry_plans(by, idx);
        let services = self.service_plans(by, idx);
        let files = self.file_plans(site, by, idx)?;
        let (verify, destructive) = verifies(site, by, idx, &files, &tasks, &registry, &services)?;
        let mut roles = by.roles[idx].clone();
        roles.sort_by_key(|r| r.slot);
        Ok(ServerPlan {
            name: s.name.clone(),
            release: release_key(s.os),
            os: s.os.label(),
            address: s.address.map(|a| a.to_string()),
            fqdn: s.fqdn.clone(),
            roles: roles.into_iter().map(|r| r.text.clone()).collect(),
            prerequisites: by.prerequisites[idx]
                .iter()
                .map(|p| p.text.clone())
                .collect(),
            files,
            tasks,
            registry,
            services,
            verify,
            destructive,
        })
    }

    fn file_plans(
        &self,
        site: &Farm,
        by: &ByServer,
        idx: usize,
    ) -> Result<Vec<FilePlan>, crate::Error> {
        let gpo = self.gpo_coverage();
        by.files[idx]
            .iter()
            .filter_map(|&(path, a)| {
                let file = path.rsplit('/').next().unwrap_or(path);
                let (target, how) = match &a.deploy {
                    Deploy::RuntimeScript { .. } => (
                        Some(site.script_path(file)),
                        match gpo.filter(|g| g.files.iter().any(|f| f == file)) {
                            Some(g) => How::gpo(format!("GPO {}: Files preference", g.name)),
                            None => How::hand(
                                Some(format!(
                                    "copy {} {}",
                                    path.replace('/', "\\"),
                                    match quoted(&site.scripts_dir) {
                                        Ok(q) => q,
                                        Err(e) => return Some(Err(e)),
                                    }
                                )),
                                "copy it into the scripts folder",
                            ),
                        },
                    ),
                    // Task XML and .reg files are listed with their tasks and values.
                    Deploy::TaskXml { .. } | Deploy::RegFile { .. } => return None,
                    Deploy::Command(c) => (
                        None,
                        How::hand(Some(c.clone()), "run from the bundle folder"),
                    ),
                    Deploy::Run { when, commands } => {
                        return Some(Ok(run_plans(
                            path,
                            a,
                            when,
                            commands,
                            &site.server(idx).name,
                        )));
                    }
                    other => (None, How::hand(None, other.summary())),
                };
                Some(Ok(vec![FilePlan {
                    path: path.clone(),
                    kind: a.kind.as_str().to_string(),
                    target,
                    how,
                }]))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.into_iter().flatten().collect())
    }

    fn task_plans(&self, site: &Farm, by: &ByServer, idx: usize) -> Vec<TaskPlan> {
        let mut tasks = by.tasks[idx].clone();
        tasks.sort_by(|a, b| a.name.cmp(&b.name));
        tasks
            .into_iter()
            .map(|t| TaskPlan {
                name: t.name.clone(),
                feature: t.feature,
                schedule: {
                    let mut s = schedule(&t.trigger);
                    if !site.server(idx).os.has_task_scheduler2() {
                        s.schtasks = schtasks_2003(&s.schtasks);
                    }
                    s
                },
                run_as: t.principal.schtasks_ru().to_string(),
                action: format!("{} {}", t.command, t.arguments)
                    .trim_end()
                    .to_string(),
                how: self.task_how(
                    site,
                    by.all_files,
                    by.gpo_tasks.contains(&(t.name.as_str(), idx)),
                    idx,
                    t,
                ),
            })
            .collect()
    }

    fn task_how(
        &self,
        site: &Farm,
        files: Option<&crate::bundle::Bundle>,
        by_gpo: bool,
        idx: usize,
        t: &TaskSpec,
    ) -> How {
        if let Some(g) = self.gpo_coverage().filter(|_| by_gpo) {
            return How::gpo(if site.server(idx).os.has_task_scheduler2() {
                format!(
                    "GPO {}: Scheduled Tasks preference (Task Scheduler 2.0 task)",
                    g.name
                )
            } else {
                format!(
                    "GPO {}: Scheduled Tasks preference (legacy task, Task Scheduler 1.0)",
                    g.name
                )
            });
        }
        if !site.server(idx).os.has_task_scheduler2() {
            return How::hand(
                None,
                "Task Scheduler 1.0 cannot import task XML: create it in Scheduled Tasks with this schedule, action and account",
            );
        }
        let command = files
            .and_then(|f| f.files.get(&t.xml_path()))
            .and_then(|a| match &a.deploy {
                Deploy::TaskXml { command } => Some(command.clone()),
                _ => None,
            });
        How::hand(command, "register the task XML")
    }

    fn registry_plans(&self, by: &ByServer, idx: usize) -> Vec<RegistryPlan> {
        let gpo = self.gpo_coverage().filter(|g| g.registry);
        by.registry[idx]
            .iter()
            .map(|&(f, v)| {
                let (value_type, data) = match &v.data {
                    super::RegData::Sz(s) => ("REG_SZ", s.clone()),
                    super::RegData::Dword(d) => ("REG_DWORD", d.to_string()),
                };
                let how = match gpo {
                    Some(g) if v.apply_once => How::gpo(format!(
                        "GPO {}: Registry preference, written once per server",
                        g.name
                    )),
                    Some(g) => How::gpo(format!("GPO {}: Registry preference", g.name)),
                    None => How::hand(
                        Some(format!("reg import registry\\{}.reg", f.name)),
                        "import the .reg file",
                    ),
                };
                RegistryPlan {
                    key: format!("HKLM\\{}", v.key),
                    name: v.name.clone(),
                    value_type,
                    data,
                    how,
                }
            })
            .collect()
    }

    fn service_plans(&self, by: &ByServer, idx: usize) -> Vec<ServicePlan> {
        let gpo = self.gpo_coverage().filter(|g| g.services);
        by.services[idx]
            .iter()
            .map(|r| {
                let actions = vec![format!("restart/{}", r.restart_delay_ms); r.restarts as usize];
                let how = match gpo {
                    Some(g) => How::gpo(format!("GPO {}: Services preference", g.name)),
                    None => How::hand(
                        Some(format!(
                            "sc failure {} reset= {} actions= {}",
                            r.service,
                            r.reset_after_seconds,
                            actions.join("/")
                        )),
                        "set the recovery actions",
                    ),
                };
                ServicePlan {
                    service: r.service.clone(),
                    settings: format!(
                        "restart {} s after each of the first {} failures; count reset after {} s without a failure",
                        r.restart_delay_ms / 1000,
                        r.restarts,
                        r.reset_after_seconds
                    ),
                    how,
                }
            })
            .collect()
    }
}

/// The release's verify commands for what lands here, then the contributed ones; commands
/// with a warning apart.
fn verifies(
    site: &Farm,
    by: &ByServer,
    idx: usize,
    files: &[FilePlan],
    tasks: &[TaskPlan],
    registry: &[RegistryPlan],
    services: &[ServicePlan],
) -> Result<(Vec<Verify>, Vec<Verify>), crate::Error> {
    let os = site.server(idx).os;
    let mut out = Vec::new();
    let by_gpo = files
        .iter()
        .map(|f| &f.how)
        .chain(tasks.iter().map(|t| &t.how))
        .chain(registry.iter().map(|r| &r.how))
        .chain(services.iter().map(|s| &s.how))
        .any(|h| h.by == "gpo");
    if by_gpo {
        out.push(verify("gpupdate /force", gpupdate_done(os)));
    }
    if os.is_modern() {
        out.extend(super::verify_ps::release_verifies(
            by.all_files,
            files,
            tasks,
            registry,
            services,
        )?);
        if let Some(g) = out.first_mut().filter(|_| by_gpo) {
            g.shell = "powershell";
        }
        return Ok(contributed(out, by, idx));
    }
    for f in files {
        if let Some(t) = &f.target {
            out.push(verify(&format!("dir {}", quoted(t)?), "the file is listed"));
        }
    }
    out.extend(task_verifies(site.server(idx).os, tasks));
    for r in registry {
        let (key, name) = (&r.key, &r.name);
        out.push(verify(
            &format!("reg query {} /v {}", quoted(key)?, quoted(name)?),
            &format!("{} {}", r.value_type, r.data),
        ));
    }
    for s in services {
        out.push(verify(
            &format!("sc qfailure {}", s.service),
            "RESET_PERIOD and a RESTART action per failure, with the delay above",
        ));
    }
    Ok(contributed(out, by, idx))
}

/// The families' verify commands for server `idx` after the release's own (`out`); commands
/// with a warning apart.
fn contributed(mut out: Vec<Verify>, by: &ByServer, idx: usize) -> (Vec<Verify>, Vec<Verify>) {
    let mut destructive = Vec::new();
    for v in &by.verifies[idx] {
        let item = Verify {
            command: v.command.clone(),
            expect: v.expect.clone(),
            warning: v.warning.clone(),
            shell: "cmd",
        };
        if v.warning.is_some() {
            destructive.push(item);
        } else {
            out.push(item);
        }
    }
    (out, destructive)
}

/// What `gpupdate /force` prints when the computer policy has applied, by release: 2008 says
/// "Computer Policy update has completed successfully."; 2003's gpupdate says "Computer Policy
/// Refresh has completed." (its documented output: "Refreshing Policy... User Policy Refresh has
/// completed. Computer Policy Refresh has completed.", library.tebyan.net/ar/Viewer/Text/164725/311,
/// the gpupdate entry of a Windows Server 2003 command reference).
fn gpupdate_done(os: Os) -> &'static str {
    if os.has_task_scheduler2() {
        "\"Computer Policy update has completed successfully\""
    } else {
        "\"Computer Policy Refresh has completed.\""
    }
}

/// The `schtasks /Create` options as Server 2003's schtasks takes them: `/ST` in HH:MM:SS
/// (Microsoft, "Schtasks" for Windows Server 2003: "/st StartTime … in HH:MM:SS 24-hour format";
/// 2008 takes HH:MM).
pub fn schtasks_2003(options: &str) -> String {
    let mut out = String::with_capacity(options.len() + 8);
    let mut rest = options;
    while let Some(i) = rest.find("/ST ") {
        let (head, tail) = rest.split_at(i + 4);
        out.push_str(head);
        let time: String = tail
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .collect();
        out.push_str(&time);
        if time.len() == 5 {
            out.push_str(":00");
        }
        rest = &tail[time.len()..];
    }
    out.push_str(rest);
    out
}

/// A file's own command line: "run by hand …: COMMAND" keeps its note apart.
/// A file run by hand on (or from) this server: one line per exact command that is this
/// server's own or anyone's, each with the words of `when` as its note.
fn run_plans(
    path: &str,
    a: &crate::bundle::Artifact,
    when: &str,
    commands: &[crate::bundle::RunCommand],
    server: &str,
) -> Vec<FilePlan> {
    commands
        .iter()
        .filter(|c| c.host.as_deref().is_none_or(|h| h == server))
        .map(|c| FilePlan {
            path: path.to_string(),
            kind: a.kind.as_str().to_string(),
            target: None,
            how: How::hand(Some(c.line.clone()), when),
        })
        .collect()
}

/// A value quoted for a cmd.exe command line (resolve already refused what cannot be quoted, so
/// a failure here is a bug).
fn quoted(s: &str) -> Result<String, crate::Error> {
    crate::escape::cmd_quoted(s)
        .map_err(|e| crate::Error::internal(format!("{s:?} on a command line: {e}")))
}

fn verify(command: &str, expect: &str) -> Verify {
    Verify {
        command: command.to_string(),
        expect: expect.to_string(),
        warning: None,
        shell: "cmd",
    }
}

/// 2008: one `schtasks /Query /TN` per task; 2003 has no `/TN` on a query: one verbose list to
/// read the names from.
fn task_verifies(os: Os, tasks: &[TaskPlan]) -> Vec<Verify> {
    if tasks.is_empty() {
        return Vec::new();
    }
    if os.has_task_scheduler2() {
        return tasks
            .iter()
            .map(|t| {
                verify(
                    &format!("schtasks /Query /TN {} /V /FO LIST", t.name),
                    &format!(
                        "Status Ready, Run As User {}, the schedule {}; \"Last Result\" 0 after a run",
                        t.run_as, t.schedule.schtasks
                    ),
                )
            })
            .collect();
    }
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    vec![verify(
        "schtasks /Query /V /FO LIST",
        &format!(
            "an entry for each of {} (Server 2003 cannot query one task by name)",
            names.join(", ")
        ),
    )]
}

/// A task's trigger in words and as `schtasks` options.
pub fn schedule(trigger: &Trigger) -> Schedule {
    match trigger {
        // Calendar schedules describe themselves (model::schedule): several days of the month
        // are several schtasks tasks, joined here.
        Trigger::Calendar(c) => Schedule {
            words: c.words(),
            schtasks: c.schtasks().join("; "),
        },
        Trigger::Repeat { start, interval } => {
            // Repetitions are whole minutes (resolve), as `schtasks /SC MINUTE /MO` needs.
            let minutes = interval.whole_minutes().unwrap_or(1);
            Schedule {
                words: format!("every {}, from {}", interval.words(), time_of(start)),
                schtasks: format!("/SC MINUTE /MO {minutes} /ST {}", time_of(start)),
            }
        }
        Trigger::Event { .. } => Schedule {
            words: "when the event of its trigger is logged".into(),
            schtasks: "/SC ONEVENT".into(),
        },
        Trigger::Boot => Schedule {
            words: "at system start".into(),
            schtasks: "/SC ONSTART".into(),
        },
    }
}

/// `HH:MM` of `YYYY-MM-DDTHH:MM:SS`.
fn time_of(start: &str) -> &str {
    start.get(11..16).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_2003_start_times_have_seconds() {
        assert_eq!(
            schtasks_2003("/SC DAILY /MO 1 /ST 03:15"),
            "/SC DAILY /MO 1 /ST 03:15:00"
        );
        assert_eq!(
            schtasks_2003("/SC MONTHLY /D 1 /ST 02:30; /SC MONTHLY /D 15 /ST 02:30"),
            "/SC MONTHLY /D 1 /ST 02:30:00; /SC MONTHLY /D 15 /ST 02:30:00"
        );
        assert_eq!(schtasks_2003("/SC ONSTART"), "/SC ONSTART");
        assert_eq!(schtasks_2003("/ST 04:00:00"), "/ST 04:00:00");
        assert_eq!(
            gpupdate_done(Os::W2003R2),
            "\"Computer Policy Refresh has completed.\""
        );
        assert!(gpupdate_done(Os::W2008R2).contains("update has completed successfully"));
    }

    #[test]
    fn schedules_in_words_and_schtasks_terms() {
        let daily = Trigger::Calendar(crate::model::schedule::Schedule::daily(3, 15));
        assert_eq!(
            schedule(&daily),
            Schedule {
                words: "every day at 03:15".into(),
                schtasks: "/SC DAILY /MO 1 /ST 03:15".into()
            }
        );
        let every3 = Trigger::Calendar(crate::model::schedule::Schedule::new(
            "2010-04-09".parse().unwrap(),
            23,
            5,
            crate::model::schedule::By::Days { interval: 3 },
        ));
        assert_eq!(
            schedule(&every3).words,
            "every 3 days at 23:05, counted from 2010-04-09 (runs on 2010-04-09, then every 3 days)"
        );
        let repeat = Trigger::Repeat {
            start: "2010-04-09T00:00:00".into(),
            interval: crate::plan::Duration::minutes(5),
        };
        assert_eq!(schedule(&repeat).schtasks, "/SC MINUTE /MO 5 /ST 00:00");
    }
}
