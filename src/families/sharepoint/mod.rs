//! `[sharepoint]`: SharePoint's own steps (issue 29): which database server name the farm opens
//! its databases with and the rename to the SQL alias where it differs, the alternate access
//! mappings of the public URLs (SSL offloaded by the BIG-IP), with each version's commands: stsadm
//! for 2007, the SharePoint Management Shell from 2010 on.
//!
//! Commands (Microsoft TechNet): "Renameserver: Stsadm operation" (cc287993), "Rename-SPServer";
//! "Addzoneurl: Stsadm operation" (cc288035: the public URL of a zone), "Addalternatedomain:
//! Stsadm operation" (cc263437: an internal URL of a zone), "Enumalternatedomains" (cc263292);
//! "New-SPAlternateURL", "Set-SPAlternateURL", "Get-SPAlternateURL" (SharePoint 2010 cmdlets).
//! The configuration database's connection string is the `dsn` value under
//! `HKLM\SOFTWARE\Microsoft\Shared Tools\Web Server Extensions\<hive>.0\Secure\ConfigDB`.

pub mod model;

use serde::Serialize;

use crate::model::Farm;
use crate::plan::{Contribution, Part, RunbookSlot, Section};
use model::SharePoint;

/// stsadm.exe of SharePoint 2007 (the `12` hive), quoted for cmd.
const STSADM: &str =
    r#""%CommonProgramFiles%\Microsoft Shared\Web Server Extensions\12\BIN\stsadm.exe""#;

/// What the section needs from `[sql]`: the alias name.
pub struct SqlFacts<'a> {
    pub alias: &'a str,
}

/// Adds the SharePoint section, its step in the order of deployment and its prerequisite.
pub fn contribute(
    site: &Farm,
    sp: Option<&SharePoint>,
    sql: Option<SqlFacts>,
) -> Result<Contribution, crate::Error> {
    let mut c = Contribution::default();
    if let Some(sp) = sp {
        add_runbook(site, sp, sql, &mut c)?;
    }
    Ok(c)
}

/// What `validate` says about the farm and the alias.
pub fn summary_line(site: &Farm, sp: &SharePoint, alias: &str) -> String {
    let name = match &sp.database_server {
        Some(old) => format!(
            "it opens its databases as {old} today: the runbook renames that to the alias {alias}"
        ),
        None => format!("it opens its databases by the alias {alias}"),
    };
    format!(
        "SharePoint: {} on {}; {name} (runbook: SharePoint)",
        sp.version.label(),
        site.server_list(&sp.servers)
    )
}

#[derive(Serialize)]
struct UrlRow {
    web_application: String,
    public: String,
    zone: String,
    internal: Option<String>,
    /// 2010+: the public URL of the Default zone is changed, not added.
    default_zone: bool,
}

#[derive(Serialize)]
struct View {
    version: &'static str,
    powershell: bool,
    hive: u32,
    timer: &'static str,
    servers: String,
    alias: Option<String>,
    /// The name to rename from, when the farm does not use the alias yet.
    rename_from: Option<String>,
    urls: Vec<UrlRow>,
    anchor: String,
    stsadm: &'static str,
}

fn view(site: &Farm, sp: &SharePoint, sql: Option<SqlFacts>) -> View {
    View {
        version: sp.version.label(),
        powershell: sp.version.has_powershell(),
        hive: sp.version.hive(),
        timer: sp.version.timer_service(),
        servers: site.server_list(&sp.servers),
        alias: sql.as_ref().map(|s| s.alias.to_string()),
        rename_from: sp.database_server.clone(),
        urls: sp
            .urls
            .iter()
            .map(|u| UrlRow {
                web_application: u.web_application.clone(),
                public: u.public.clone(),
                zone: u.zone.clone(),
                internal: u.internal.clone(),
                default_zone: u.zone == "Default",
            })
            .collect(),
        anchor: String::new(),
        stsadm: STSADM,
    }
}

fn add_runbook(
    site: &Farm,
    sp: &SharePoint,
    sql: Option<SqlFacts>,
    plan: &mut Contribution,
) -> Result<(), crate::Error> {
    let mut v = view(site, sp, sql);
    let section = Section {
        id: "sharepoint".into(),
        slot: RunbookSlot::SharePoint,
        text: crate::render::render("sharepoint/runbook.md", &v)?,
    };
    v.anchor = section.anchor();
    plan.runbook.add_checklist_parts(
        "sharepoint/checklist.md",
        &v,
        &[
            ("step", Part::Step, RunbookSlot::SharePoint),
            ("prerequisite", Part::Prerequisite, RunbookSlot::SharePoint),
        ],
    )?;
    plan.runbook.sections.push(section);
    Ok(())
}
