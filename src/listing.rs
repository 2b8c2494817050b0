//! What `sitebundle list` shows: every artifact with its hosts and deployment, and every
//! scheduled task with every server that receives it and how (Task XML, the GPO's TaskV2 item,
//! the GPO's legacy Task item for Server 2003, or by hand). The text and the JSON output are two
//! views of one [`Listing`].

use serde::Serialize;

use crate::bundle::Bundle;
use crate::emit::gpo::items::GpoItems;
use crate::model::Farm;
use crate::plan::TaskSpec;
use crate::site::Site;

/// Keys of `sitebundle list --format json` (docs/json-output.md).
#[derive(Debug, Serialize)]
pub struct Listing {
    pub artifacts: Vec<ArtifactRow>,
    pub tasks: Vec<TaskRow>,
}

/// One generated file.
#[derive(Debug, Serialize)]
pub struct ArtifactRow {
    pub path: String,
    pub kind: &'static str,
    pub encoding: crate::bundle::Encoding,
    pub eol: crate::bundle::Eol,
    /// Servers or devices that receive the file (empty for documentation).
    pub hosts: Vec<String>,
    /// How it is deployed, in one line; `None` for documentation.
    pub deploy: Option<String>,
}

/// One scheduled task and every way it reaches its servers.
#[derive(Debug, Serialize)]
pub struct TaskRow {
    pub name: String,
    /// The feature it belongs to (`kill`, `sql`, `maintenance`…).
    pub feature: &'static str,
    /// Every server that gets the task, in name order.
    pub servers: Vec<String>,
    pub deliveries: Vec<Delivery>,
}

/// Servers that receive a task the same way.
#[derive(Debug, Serialize)]
pub struct Delivery {
    /// `gpo-taskv2`, `gpo-legacy-task`, `task-xml` or `by-hand` (docs/json-output.md).
    pub via: &'static str,
    pub servers: Vec<String>,
    /// The same in words, with the command or file.
    pub how: String,
}

/// The listing of a site and the bundle built from it.
pub fn of(site: &Site, bundle: &Bundle) -> Result<Listing, crate::Error> {
    let plan = crate::plan(site)?;
    let items = plan.gpo.as_ref().map(|g| &g.items);
    Ok(Listing {
        artifacts: artifacts(bundle),
        tasks: plan
            .tasks
            .iter()
            .map(|t| task_row(&site.farm, t, items, bundle))
            .collect(),
    })
}

fn artifacts(bundle: &Bundle) -> Vec<ArtifactRow> {
    bundle
        .files
        .iter()
        .map(|(path, a)| ArtifactRow {
            path: path.clone(),
            kind: a.kind.as_str(),
            encoding: a.encoding,
            eol: a.eol,
            hosts: a.hosts.labels(),
            deploy: Some(a.deploy.summary()).filter(|d| !d.is_empty()),
        })
        .collect()
}

fn task_row(farm: &Farm, t: &TaskSpec, items: Option<&GpoItems>, bundle: &Bundle) -> TaskRow {
    let mut servers = farm.server_names(&t.hosts);
    servers.sort();
    let mut deliveries = Vec::new();
    let mut push = |via: &'static str, hosts: Vec<usize>, how: String| {
        if !hosts.is_empty() {
            let mut servers = farm.server_names(&hosts);
            servers.sort();
            deliveries.push(Delivery { via, servers, how });
        }
    };
    let manual: Vec<String> = items
        .iter()
        .flat_map(|i| i.manual.iter().filter(|m| m.name == t.name))
        .flat_map(|m| m.hosts.clone())
        .collect();
    let is_manual = |h: &usize| manual.contains(&farm.server(*h).name);
    let (v2, legacy): (Vec<usize>, Vec<usize>) = t
        .hosts
        .iter()
        .copied()
        .filter(|h| !is_manual(h))
        .partition(|&h| farm.server(h).os.has_task_scheduler2());
    // The Task XML file's own command (the one the runbook's file table shows).
    let by_hand = bundle
        .files
        .get(&t.xml_path())
        .map(|a| a.deploy.summary())
        .unwrap_or_default();
    let in_gpo = |f: &dyn Fn(&GpoItems) -> bool| items.is_some_and(f);
    if in_gpo(&|i| {
        i.legacy_tasks
            .iter()
            .any(|l| l.registers.as_deref() == Some(t.name.as_str()))
    }) {
        // `gpo.tasks_2008 = "schtasks-xml"`: a legacy item registers the copied Task XML.
        push(
            "gpo-schtasks-xml",
            v2,
            format!(
                "the GPO's legacy item Register-{} (schtasks /Create /XML, daily at 00:00; or by hand: {by_hand})",
                t.name
            ),
        );
    } else if in_gpo(&|i| i.v2_tasks.iter().any(|v| v.name == t.name)) {
        push(
            "gpo-taskv2",
            v2,
            format!("the GPO's TaskV2 item (or by hand: {by_hand})"),
        );
    } else {
        push("task-xml", v2, format!("by hand: {by_hand}"));
    }
    if in_gpo(&|i| i.legacy_tasks.iter().any(|l| l.name == t.name)) {
        push(
            "gpo-legacy-task",
            legacy,
            "the GPO's legacy Task item (Task Scheduler 1.0, Server 2003)".into(),
        );
    } else {
        push(
            "by-hand",
            legacy,
            "by hand on Server 2003, as the runbook describes".into(),
        );
    }
    let manual_hosts: Vec<usize> = t.hosts.iter().copied().filter(|h| is_manual(h)).collect();
    push(
        "by-hand",
        manual_hosts,
        "by hand with its account's password, as the runbook describes (never in the GPO)".into(),
    );
    TaskRow {
        name: t.name.clone(),
        feature: t.feature,
        servers,
        deliveries,
    }
}

/// `sitebundle list` as text: two tab-separated tables with a header line each (files, then
/// tasks with one line per way a task reaches its servers), separated by an empty line.
pub fn text(listing: &Listing) -> String {
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let mut out = String::from("PATH\tKIND\tHOSTS\tDEPLOY\n");
    for a in &listing.artifacts {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            a.path,
            a.kind,
            dash(a.hosts.join(",")),
            dash(a.deploy.clone().unwrap_or_default())
        ));
    }
    if listing.tasks.is_empty() {
        return out;
    }
    out.push_str("\nTASK\tSERVERS\tVIA\tHOW\n");
    for t in &listing.tasks {
        for d in &t.deliveries {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                t.name,
                d.servers.join(","),
                d.via,
                d.how
            ));
        }
    }
    out
}
