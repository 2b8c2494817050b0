//! The reference farm exported as real systems write it, measured against the conformance corpus
//! (tests/corpus/README.md): the BIG-IP's `bigip.conf` as TMOS saves it (attributes at their
//! default left out, the system's own additions, unrelated objects taken from real saved files)
//! and as `tmsh list` prints it (names relative to the partition, ports by service name). It
//! audits in sync; each drift of the table is reported as exactly that drift and nothing else;
//! each noise case of the table is no drift.

use std::path::Path;

use super::farm::LiveFarm;
use super::{audit, audit_with, deployed, drift, export};
use crate::common::repo;

/// Lines a saved `bigip.conf` leaves out because their value is tmsh's default (see DEFAULTS in
/// src/audit/bigip_conf.rs; the real `app1_t80_pool` of the corpus has none of them).
const DEFAULT_LINES: &[&str] = &[
    "            priority-group 0\n",
    "    min-active-members 0\n",
    "    service-down-action none\n",
    "    interval 5\n",
    "    timeout 16\n",
];

/// A corpus file's objects without its `#TMSH-VERSION` line.
fn corpus_objects(name: &str) -> String {
    let text = std::fs::read_to_string(repo().join("tests/corpus/f5").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with("#TMSH-VERSION"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The deployed objects as TMOS 15.1 saves them: defaults left out, `creation-time`,
/// `last-modified-time` and `serverssl-use-sni disabled` added to every virtual server (as in
/// the corpus's `app1_t80_vs`), member `session`/`state`, a virtual address per destination,
/// and unrelated objects of real saved files before and after ours.
fn saved(conf: &str) -> String {
    let mut text = conf.to_string();
    for line in DEFAULT_LINES {
        assert!(text.contains(line), "{line:?}");
        text = text.replace(line, "");
    }
    let text = text
        .replace(
            "ltm virtual /Common/vs_ects {\n",
            "ltm virtual /Common/vs_ects {\n    creation-time 2010-04-09:12:05:31\n",
        )
        .replace(
            "    ip-protocol tcp\n",
            "    ip-protocol tcp\n    last-modified-time 2010-04-09:12:07:02\n",
        )
        .replace(
            "    source 0.0.0.0/0\n",
            "    serverssl-use-sni disabled\n    source 0.0.0.0/0\n",
        )
        .replace(
            "            address 10.20.30.12\n",
            "            address 10.20.30.12\n            session monitor-enabled\n            state up\n",
        );
    let addresses: String = ["10.20.40.10", "10.20.40.11", "10.20.40.12"]
        .iter()
        .map(|a| {
            format!(
                "ltm virtual-address /Common/{a} {{\n    address {a}\n    arp enabled\n    mask 255.255.255.255\n    traffic-group /Common/traffic-group-1\n}}\n"
            )
        })
        .collect();
    format!(
        "{}{}{addresses}{}",
        corpus_objects("corkscrew-tmos-15.1.0.4-devcloud.conf"),
        text,
        corpus_objects("corkscrew-tmos-15.1.8.2-common.conf")
    )
}

/// What `tmsh list ltm` prints inside /Common: names relative to the folder, ports by their
/// service name, defaults left out (an iRule body printed as it is).
fn tmsh_list(conf: &str) -> String {
    let start = conf
        .find("ltm rule /Common/vs_sharepoint_routes {\n")
        .unwrap()
        + 40;
    let end = start + conf[start..].find("\n}\nltm virtual").unwrap();
    let relative = |s: &str| {
        let mut s = s.replace("/Common/", "");
        for (port, name) in [
            ("80", "http"),
            ("389", "ldap"),
            ("636", "ldaps"),
            ("443", "https"),
        ] {
            s = s
                .replace(&format!(":{port} {{"), &format!(":{name} {{"))
                .replace(&format!(":{port}\n"), &format!(":{name}\n"));
        }
        s
    };
    let mut text = format!(
        "{}{}{}",
        relative(&conf[..start]),
        &conf[start..end],
        relative(&conf[end..])
    );
    for line in DEFAULT_LINES {
        text = text.replace(line, "");
    }
    text
}

/// Replaces the first `from` after `anchor` (both must be there).
fn edit_after(text: &mut String, anchor: &str, from: &str, to: &str) {
    let a = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor:?} not in the config"));
    let at = a + text[a..]
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not after {anchor:?}"));
    text.replace_range(at..at + from.len(), to);
}

type Edit = fn(&mut String);

const PP: &str = "ltm pool /Common/PartnerPoint {";
const SP: &str = "ltm pool /Common/SharePoint {";
const ECTS: &str = "ltm virtual /Common/vs_ects {";

/// Realistic drift, each on the saved config, and exactly the findings it must give.
const DRIFT: &[(&str, Edit, &[&str])] = &[
    (
        "member priority group changed",
        |t| edit_after(t, PP, "priority-group 2", "priority-group 1"),
        &[
            "f5 | Drift | ltm pool /Common/PartnerPoint | members./Common/sharepoint3:80.priority-group",
        ],
    ),
    (
        "priority group set where the bundle leaves the default",
        |t| {
            edit_after(
                t,
                SP,
                "address 10.20.30.13\n",
                "address 10.20.30.13\n            priority-group 3\n",
            )
        },
        &[
            "f5 | Drift | ltm pool /Common/SharePoint | members./Common/sharepoint3:80.priority-group",
        ],
    ),
    (
        "priority group activation switched off (line removed)",
        |t| edit_after(t, PP, "    min-active-members 1\n", ""),
        &["f5 | Drift | ltm pool /Common/PartnerPoint | min-active-members"],
    ),
    (
        "priority group activation switched on",
        |t| {
            edit_after(
                t,
                SP,
                "    monitor ",
                "    min-active-members 1\n    monitor ",
            )
        },
        &["f5 | Drift | ltm pool /Common/SharePoint | min-active-members"],
    ),
    (
        "service down action back to the default (line removed)",
        |t| edit_after(t, PP, "    service-down-action reset\n", ""),
        &["f5 | Drift | ltm pool /Common/PartnerPoint | service-down-action"],
    ),
    (
        "service down action set where the bundle leaves the default",
        |t| {
            edit_after(
                t,
                SP,
                "    monitor /Common/mon_partnerpoint_http\n",
                "    monitor /Common/mon_partnerpoint_http\n    service-down-action drop\n",
            )
        },
        &["f5 | Drift | ltm pool /Common/SharePoint | service-down-action"],
    ),
    (
        "a monitor taken off a pool",
        |t| {
            edit_after(
                t,
                "ltm pool /Common/ADLDS_ldap {",
                "monitor /Common/mon_adlds_ldap and ",
                "monitor ",
            )
        },
        &["f5 | Drift | ltm pool /Common/ADLDS_ldap | monitor"],
    ),
    (
        "monitor interval changed (written, no longer the default)",
        |t| {
            edit_after(
                t,
                "ltm monitor http /Common/mon_partnerpoint_http {",
                "    recv",
                "    interval 10\n    recv",
            )
        },
        &["f5 | Drift | ltm monitor http /Common/mon_partnerpoint_http | interval"],
    ),
    (
        "monitor timeout changed",
        |t| {
            edit_after(
                t,
                "ltm monitor tcp /Common/mon_adlds_ldap {",
                "    destination",
                "    timeout 31\n    destination",
            )
        },
        &["f5 | Drift | ltm monitor tcp /Common/mon_adlds_ldap | timeout"],
    ),
    (
        "monitor send string edited",
        |t| {
            edit_after(
                t,
                "ltm monitor http",
                "GET /_layouts/images/blank.gif",
                "GET /",
            )
        },
        &["f5 | Drift | ltm monitor http /Common/mon_partnerpoint_http | send"],
    ),
    (
        "monitor receive string edited",
        |t| edit_after(t, "ltm monitor http", "recv \"200 OK\"", "recv \"HTTP\""),
        &["f5 | Drift | ltm monitor http /Common/mon_partnerpoint_http | recv"],
    ),
    (
        "monitor port changed",
        |t| {
            edit_after(
                t,
                "ltm monitor tcp /Common/mon_adlds_ldap {",
                "*:389",
                "*:3268",
            )
        },
        &["f5 | Drift | ltm monitor tcp /Common/mon_adlds_ldap | destination"],
    ),
    (
        "a member removed",
        |t| {
            edit_after(
                t,
                PP,
                "        /Common/sharepoint2:80 {\n            address 10.20.30.12\n            session monitor-enabled\n            state up\n            priority-group 1\n        }\n",
                "",
            )
        },
        &[
            "f5 | Drift | ltm pool /Common/PartnerPoint | members",
            "f5 | Drift | ltm pool /Common/PartnerPoint | members./Common/sharepoint2:80.address",
            "f5 | Drift | ltm pool /Common/PartnerPoint | members./Common/sharepoint2:80.priority-group",
        ],
    ),
    (
        "a member added",
        |t| {
            edit_after(
                t,
                SP,
                "    members {\n",
                "    members {\n        /Common/sharepoint9:80 {\n            address 10.20.30.19\n        }\n",
            )
        },
        &["f5 | Drift | ltm pool /Common/SharePoint | members"],
    ),
    (
        "persistence added to a virtual server",
        |t| {
            edit_after(
                t,
                ECTS,
                "    pool /Common/PartnerPoint\n",
                "    persist {\n        /Common/source_addr {\n            default yes\n        }\n    }\n    pool /Common/PartnerPoint\n",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_ects | persist"],
    ),
    (
        "the iRule detached from its virtual server",
        |t| {
            edit_after(
                t,
                "ltm virtual /Common/vs_sharepoint {",
                "    rules {\n        /Common/vs_sharepoint_routes\n    }\n",
                "",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_sharepoint | rules"],
    ),
    (
        "the iRule edited",
        |t| {
            edit_after(
                t,
                "ltm rule /Common/vs_sharepoint_routes",
                "pool /Common/WSS_partner_admin",
                "pool /Common/SharePoint",
            )
        },
        &["f5 | Drift | ltm rule /Common/vs_sharepoint_routes | body"],
    ),
    (
        "a virtual server's default pool changed",
        |t| {
            edit_after(
                t,
                ECTS,
                "pool /Common/PartnerPoint",
                "pool /Common/SharePoint",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_ects | pool"],
    ),
    (
        "a virtual server's port changed",
        |t| edit_after(t, ECTS, "10.20.40.10:80", "10.20.40.10:8080"),
        &["f5 | Drift | ltm virtual /Common/vs_ects | destination"],
    ),
    (
        "SNAT automap removed",
        |t| {
            edit_after(
                t,
                "ltm virtual /Common/vs_adlds_ldap {",
                "    source-address-translation {\n        type automap\n    }\n",
                "",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_adlds_ldap | source-address-translation"],
    ),
    (
        "a profile removed from a virtual server",
        |t| edit_after(t, ECTS, "        /Common/ntlm { }\n", ""),
        &["f5 | Drift | ltm virtual /Common/vs_ects | profiles"],
    ),
    (
        "port translation disabled",
        |t| {
            edit_after(
                t,
                "ltm virtual /Common/vs_adlds_ldaps {",
                "translate-port enabled",
                "translate-port disabled",
            )
        },
        &["f5 | Drift | ltm virtual /Common/vs_adlds_ldaps | translate-port"],
    ),
    (
        "a node's address changed",
        |t| {
            edit_after(
                t,
                "ltm node /Common/sharepoint2 {",
                "address 10.20.30.12",
                "address 10.20.30.22",
            )
        },
        &["f5 | Drift | ltm node /Common/sharepoint2 | address"],
    ),
    (
        "a pool's description changed",
        |t| {
            edit_after(
                t,
                "ltm pool /Common/WSS_partner_admin {",
                "ECTS admin pages",
                "ECTS admin",
            )
        },
        &["f5 | Drift | ltm pool /Common/WSS_partner_admin | description"],
    ),
    (
        "a pool deleted",
        |t| {
            let a = t.find("ltm pool /Common/ADLDS_ldaps {").unwrap();
            let e = a + t[a..].find("\n}\n").unwrap() + 3;
            t.replace_range(a..e, "");
        },
        &["f5 | Missing | ltm pool /Common/ADLDS_ldaps | -"],
    ),
];

/// Exports that differ from the bundle's text in form only.
const NOISE: &[(&str, Edit)] = &[
    (
        "bigip.conf as saved (defaults left out, system additions, real unrelated objects)",
        |_| {},
    ),
    ("CRLF line ends", |t| *t = t.replace('\n', "\r\n")),
    (
        "tabs for indentation and trailing blanks (outside the iRule, whose body is kept as written)",
        |t| {
            let tabs = |s: &str| -> String {
                s.lines()
                    .map(|l| {
                        let body = l.trim_start_matches(' ');
                        let depth = (l.len() - body.len()) / 4;
                        format!("{}{body}  \n", "\t".repeat(depth))
                    })
                    .collect()
            };
            let a = t.find("ltm rule /Common/vs_sharepoint_routes {").unwrap();
            let e = a + t[a..].find("\n}\nltm virtual").unwrap() + 3;
            *t = format!("{}{}{}", tabs(&t[..a]), &t[a..e], tabs(&t[e..]));
        },
    ),
    ("defaults written out", |t| {
        edit_after(
            t,
            SP,
            "    monitor ",
            "    load-balancing-mode round-robin\n    min-active-members 0\n    service-down-action none\n    monitor ",
        );
        edit_after(
            t,
            "ltm monitor http",
            "    recv",
            "    interval 5\n    timeout 16\n    recv",
        );
    }),
    ("attributes in another order", |t| {
        edit_after(
            t,
            PP,
            "    description \"ECTS front end: sharepoint3 preferred\"\n",
            "",
        );
        edit_after(
            t,
            PP,
            "    service-down-action reset\n",
            "    service-down-action reset\n    description \"ECTS front end: sharepoint3 preferred\"\n",
        );
    }),
    ("members in another order", |t| {
        let a = t.find(SP).unwrap();
        let m = a + t[a..].find("    members {\n").unwrap() + 14;
        let e = m + t[m..].find("\n    }\n").unwrap() + 1;
        let block = t[m..e].to_string();
        let split = block.find("        }\n").unwrap() + 10;
        let swapped = format!("{}{}", &block[split..], &block[..split]);
        t.replace_range(m..e, &swapped);
    }),
    ("monitor terms in another order", |t| {
        edit_after(
            t,
            PP,
            "monitor /Common/mon_adlds_ldap and /Common/mon_adlds_ldaps and /Common/mon_partnerpoint_http",
            "monitor /Common/mon_partnerpoint_http and /Common/mon_adlds_ldap and /Common/mon_adlds_ldaps",
        )
    }),
    ("objects in another order", |t| {
        let a = t.find("ltm node /Common/sharepoint2 {\n").unwrap();
        let e = a + t[a..].find("}\n").unwrap() + 2;
        let node = t[a..e].to_string();
        t.replace_range(a..e, "");
        t.push_str(&node);
    }),
    ("comments at the top", |t| {
        t.insert_str(
            0,
            "#TMSH-VERSION: 15.1.8.2\n\n# saved by tmsh save sys config\n",
        )
    }),
    (
        "names relative to the partition and ports by service name (tmsh list)",
        |t| *t = tmsh_list(t),
    ),
];

/// The deployed farm with its BIG-IP config as TMOS saves it.
fn realistic() -> (sitebundle::site::Site, sitebundle::Built, LiveFarm) {
    let (site, plan, mut farm) = deployed();
    // The system's own objects (farm.rs) stay first; ours start with the monitors.
    let at = farm.bigip_conf.find("ltm monitor ").unwrap();
    farm.bigip_conf = format!(
        "{}{}",
        &farm.bigip_conf[..at],
        saved(&farm.bigip_conf[at..])
    );
    (site, plan, farm)
}

#[test]
fn the_reference_farm_as_real_systems_export_it_audits_in_sync() {
    let (site, plan, farm) = realistic();
    for line in DEFAULT_LINES {
        assert!(!farm.bigip_conf.contains(line), "{line:?} still written");
    }
    let r = audit(&site, &plan, &farm);
    assert!(r.in_sync, "{}", r.to_text());
    assert_eq!(r.exit_code(), 0);
    // Another partition's saved file beside ours (f5/foo.conf): its objects are not ours.
    let r = audit_with(&site, &plan, &farm, |dir: &Path| {
        export::write_file(
            &dir.join("f5/foo.conf"),
            corpus_objects("corkscrew-tmos-15.1.8.2-partition-foo.conf").as_bytes(),
        )
    });
    assert!(r.in_sync, "{}", r.to_text());
}

#[test]
fn each_realistic_drift_is_reported_as_exactly_that_drift() {
    assert!(DRIFT.len() >= 20, "{} drift cases", DRIFT.len());
    let (site, plan, farm) = realistic();
    let mut failures = Vec::new();
    for (name, edit, expected) in DRIFT {
        let mut changed = farm.clone();
        edit(&mut changed.bigip_conf);
        let r = audit(&site, &plan, &changed);
        if drift(&r) != *expected || r.exit_code() != 1 {
            failures.push(format!("{name}: {:#?}", drift(&r)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_noise_case_is_no_drift_and_the_same_change_in_tmsh_list_form_is() {
    assert!(NOISE.len() >= 10, "{} noise cases", NOISE.len());
    let (site, plan, farm) = realistic();
    let mut failures = Vec::new();
    for (name, edit) in NOISE {
        let mut changed = farm.clone();
        edit(&mut changed.bigip_conf);
        let r = audit(&site, &plan, &changed);
        if !r.in_sync {
            failures.push(format!("{name}:\n{}", r.to_text()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Control: the tmsh list form still sees a changed port (ldaps written as ldap).
    let mut changed = farm.clone();
    changed.bigip_conf = tmsh_list(&changed.bigip_conf);
    edit_after(
        &mut changed.bigip_conf,
        "ltm virtual vs_adlds_ldaps {",
        "10.20.40.12:ldaps",
        "10.20.40.12:ldap",
    );
    assert_eq!(
        drift(&audit(&site, &plan, &changed)),
        ["f5 | Drift | ltm virtual /Common/vs_adlds_ldaps | destination"]
    );
}

/// Header lines of `schtasks /Query /FO CSV /V` in other display languages, 28 columns each. The
/// German words HostName, AufgabenName, Nächste Laufzeit, Letzte Laufzeit, Letztes Ergebnis and
/// Status der geplanten Aufgabe are real (tests/corpus/windows/checkmk-schtasks-de-columns.txt);
/// the other words, and the French and Italian lines, are constructed: the reader must not
/// depend on them, which is what these cases prove.
fn localised_header(lang: &str) -> Vec<String> {
    let words: &[&str] = match lang {
        "de" => &[
            "HostName",
            "AufgabenName",
            "Nächste Laufzeit",
            "Status",
            "Anmeldemodus",
            "Letzte Laufzeit",
            "Letztes Ergebnis",
            "Autor",
            "Auszuführende Aufgabe",
            "Starten in",
            "Kommentar",
            "Status der geplanten Aufgabe",
            "Leerlaufzeit",
            "Energieverwaltung",
            "Als Benutzer ausführen",
            "Aufgabe löschen",
            "Aufgabe beenden nach",
            "Zeitplan",
            "Zeitplantyp",
            "Startzeit",
            "Startdatum",
            "Enddatum",
            "Tage",
            "Monate",
            "Wiederholen: Jede",
            "Wiederholen: Bis: Zeit",
            "Wiederholen: Bis: Dauer",
            "Wiederholen: Beenden",
        ],
        "fr" => &[
            "Nom de l'hôte",
            "Nom de la tâche",
            "Prochaine exécution",
            "Statut",
            "Mode d'ouverture de session",
            "Dernière exécution",
            "Dernier résultat",
            "Auteur",
            "Tâche à exécuter",
            "Démarrer dans",
            "Commentaire",
            "État de la tâche planifiée",
            "Temps d'inactivité",
            "Gestion de l'alimentation",
            "Exécuter en tant qu'utilisateur",
            "Supprimer la tâche",
            "Arrêter la tâche",
            "Planification",
            "Type de planification",
            "Heure de début",
            "Date de début",
            "Date de fin",
            "Jours",
            "Mois",
            "Répéter : chaque",
            "Répéter : jusqu'à : heure",
            "Répéter : jusqu'à : durée",
            "Répéter : arrêter",
        ],
        _ => &[
            "Nome host",
            "Nome attività",
            "Ora prossima esecuzione",
            "Stato",
            "Modalità accesso",
            "Ora ultima esecuzione",
            "Ultimo esito",
            "Autore",
            "Attività da eseguire",
            "Avvio in",
            "Commento",
            "Stato attività pianificata",
            "Tempo di inattività",
            "Risparmio energia",
            "Esegui come utente",
            "Elimina attività",
            "Arresta attività",
            "Pianificazione",
            "Tipo pianificazione",
            "Ora inizio",
            "Data inizio",
            "Data fine",
            "Giorni",
            "Mesi",
            "Ripeti: ogni",
            "Ripeti: fino a: ora",
            "Ripeti: fino a: durata",
            "Ripeti: arresta",
        ],
    };
    words.iter().map(|w| w.to_string()).collect()
}

/// Text in the OEM code page 850 of Western European consoles (what a redirected schtasks
/// writes; the Checkmk plugin reads it as cp437, which agrees on these letters).
fn cp850(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            'ä' => 0x84,
            'é' => 0x82,
            'à' => 0x85,
            'â' => 0x83,
            'É' => 0x90,
            'ê' => 0x88,
            'ç' => 0x87,
            'î' => 0x8C,
            'ì' => 0x8D,
            'ò' => 0x95,
            'ù' => 0x97,
            'ß' => 0xE1,
            'è' => 0x8A,
            'ô' => 0x93,
            'ü' => 0x81,
            'ö' => 0x94,
            c if c.is_ascii() => c as u8,
            c => panic!("{c} not in the table"),
        })
        .collect()
}

/// `tasks.csv` of `server` with every header line in `lang`, in cp850.
fn localised_csv(farm: &LiveFarm, server: &str, lang: &str) -> Vec<u8> {
    cp850(&localised_text(farm, server, lang))
}

/// `tasks.csv` of `server` with every header line in `lang`.
fn localised_text(farm: &LiveFarm, server: &str, lang: &str) -> String {
    let s = farm.servers.iter().find(|s| s.name == server).unwrap();
    let csv = export::schtasks_csv(s);
    let english = csv.lines().next().unwrap().to_string();
    let header: Vec<String> = localised_header(lang)
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect();
    assert_eq!(english.matches("\",\"").count() + 1, header.len());
    csv.replace(&english, &header.join(","))
}

#[test]
fn localised_schtasks_exports_of_2003_and_2008_audit_in_sync() {
    let (site, plan, mut farm) = realistic();
    for lang in ["de", "fr", "it"] {
        let files: Vec<(&str, Vec<u8>)> = ["ects-app1", "sharepoint2", "sqlmirror1"]
            .into_iter()
            .map(|s| (s, localised_csv(&farm, s, lang)))
            .collect();
        let r = audit_with(&site, &plan, &farm, |dir| {
            for (s, bytes) in &files {
                std::fs::write(dir.join(s).join("tasks.csv"), bytes).unwrap();
            }
        });
        assert!(r.in_sync, "{lang}: {}", r.to_text());
    }
    // The same German export with a task's time changed on the 2003 server: exactly that drift.
    let t = farm.server("ects-app1").task("WUTriggerMaintMode-Refresh");
    t.triggers = vec![super::farm::Trigger::Daily {
        start: "2010-04-09T05:00:00".into(),
        days: "1".into(),
    }];
    let bytes = localised_csv(&farm, "ects-app1", "de");
    let r = audit_with(&site, &plan, &farm, |dir| {
        std::fs::write(dir.join("ects-app1/tasks.csv"), &bytes).unwrap()
    });
    assert_eq!(
        drift(&r),
        ["server ects-app1 | Drift | task WUTriggerMaintMode-Refresh | trigger"]
    );
}

/// A German export with a column missing (27 of 28) or made with /NH: a located error saying
/// what was expected, whatever the header's language.
#[test]
fn a_localised_export_of_the_wrong_shape_says_what_was_expected() {
    let (site, plan, farm) = realistic();
    let good = String::from_utf8_lossy(&localised_csv(&farm, "ects-app1", "de")).into_owned();
    let header = good.lines().next().unwrap();
    let short = header.rsplit_once(",").unwrap().0;
    let no_header = good.replacen(&format!("{header}\r\n"), "", 1);
    for (case, text, words) in [
        (
            "27 columns",
            good.replacen(header, short, 1),
            "a line of 27 fields where schtasks /Query /FO CSV /V on Server 2003 writes 28",
        ),
        ("/NH", no_header, "where the header line belongs"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        export::write(&farm, dir.path());
        std::fs::write(dir.path().join("ects-app1/tasks.csv"), text).unwrap();
        let e =
            sitebundle::audit::audit(&site.farm, &plan.plan, &plan.files, dir.path()).unwrap_err();
        let text: String = e.iter().map(|d| d.render()).collect();
        assert!(text.contains("ects-app1/tasks.csv:"), "{case}: {text}");
        assert!(text.contains(words), "{case}: {text}");
    }
}

/// The values of a Server 2003 export as a display language writes them, word for word over the
/// English export (header and values). Only German `Aktiviert` is a real value (the Checkmk plugin,
/// tests/corpus/windows/checkmk-schtasks-de-columns.txt); the other words are constructed: the
/// reader has no table for them, so they must not be compared, which is what these cases prove.
fn translated_values(csv: &str, lang: &str) -> String {
    let words: &[(&str, &str)] = match lang {
        "de" => &[
            ("\"Enabled\"", "\"Aktiviert\""),
            ("\"Disabled\"", "\"Deaktiviert\""),
            ("\"Daily \"", "\"Täglich\""),
            ("\"Everyday\"", "\"Jeden Tag\""),
            ("\"N/A\"", "\"Nicht zutreffend\""),
            ("\"Interactive/Background\"", "\"Interaktiv/Hintergrund\""),
        ],
        "fr" => &[
            ("\"Enabled\"", "\"Activée\""),
            ("\"Disabled\"", "\"Désactivée\""),
            ("\"Daily \"", "\"Quotidienne\""),
            ("\"Everyday\"", "\"Tous les jours\""),
            ("\"N/A\"", "\"Non applicable\""),
        ],
        _ => &[
            ("\"Enabled\"", "\"Attivata\""),
            ("\"Disabled\"", "\"Disattivata\""),
            ("\"Daily \"", "\"Giornaliera\""),
            ("\"Everyday\"", "\"Ogni giorno\""),
            ("\"N/A\"", "\"Non disponibile\""),
        ],
    };
    words
        .iter()
        .fold(csv.to_string(), |t, (from, to)| t.replace(from, to))
}

/// `tasks.csv` of the 2003 server with translated header and values.
fn translated_text(farm: &LiveFarm, lang: &str) -> String {
    translated_values(&localised_text(farm, "ects-app1", lang), lang)
}

/// The findings of one kind on one server as `object | field | found`.
fn findings(r: &sitebundle::audit::report::Report, server: &str, kind: &str) -> Vec<String> {
    r.sources
        .iter()
        .filter(|s| s.source == format!("server {server}"))
        .flat_map(|s| s.findings.iter())
        .filter(|f| format!("{:?}", f.kind) == kind)
        .map(|f| {
            format!(
                "{} | {} | {}",
                f.object,
                f.field.as_deref().unwrap_or("-"),
                f.found.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

/// Noise: a Server 2003 export whose values are translated (German, French, Italian) audits in
/// sync. The schedule, in translated words the reader has no cited table for, is reported as not
/// compared (a `state` line naming the value), never as drift; German `Aktiviert` is read and
/// compared, the French and Italian state words are not. Control: the same German file under the
/// English header is read as English and reports the schedule as drift (what the audit did before).
#[test]
fn translated_2003_values_are_compared_where_known_and_reported_where_not() {
    let (site, plan, farm) = realistic();
    let tasks = farm
        .servers
        .iter()
        .find(|s| s.name == "ects-app1")
        .unwrap()
        .tasks
        .len();
    for lang in ["de", "fr", "it"] {
        let bytes = cp850(&translated_text(&farm, lang));
        let r = audit_with(&site, &plan, &farm, |dir| {
            std::fs::write(dir.join("ects-app1/tasks.csv"), &bytes).unwrap()
        });
        assert!(r.in_sync, "{lang}: {}", r.to_text());
        let states = findings(&r, "ects-app1", "State");
        let trigger = states
            .iter()
            .filter(|s| s.contains(" | trigger | not compared: "))
            .count();
        let enabled = states
            .iter()
            .filter(|s| s.contains(" | enabled | not compared: "))
            .count();
        assert_eq!(trigger, tasks, "{lang}: {states:?}");
        assert_eq!(
            enabled,
            if lang == "de" { 0 } else { tasks },
            "{lang}: {states:?}"
        );
    }
    // Control: translated values under the English header are compared as English: drift.
    let german = translated_text(&farm, "de");
    let server = farm.servers.iter().find(|s| s.name == "ects-app1").unwrap();
    let english = export::schtasks_csv(server);
    let control = german.replace(
        german.lines().next().unwrap(),
        english.lines().next().unwrap(),
    );
    let r = audit_with(&site, &plan, &farm, |dir| {
        std::fs::write(dir.join("ects-app1/tasks.csv"), cp850(&control)).unwrap()
    });
    assert!(
        drift(&r).iter().any(|d| d.ends_with("| trigger")),
        "{}",
        r.to_text()
    );
}

/// Drift in translated 2003 exports: a changed command line (never translated) is exactly that
/// drift; a task the German export writes as disabled with a known word (`Disabled`, which a
/// Windows with English values under German headers writes) is exactly that drift; a task missing
/// from the export is missing.
#[test]
fn drift_in_translated_2003_exports_is_reported_exactly() {
    let (site, plan, mut farm) = realistic();
    let name = "WUTriggerMaintMode-Refresh";
    let t = farm.server("ects-app1").task(name);
    t.arguments = format!("{} /extra", t.arguments);
    let bytes = cp850(&translated_text(&farm, "de"));
    let r = audit_with(&site, &plan, &farm, |dir| {
        std::fs::write(dir.join("ects-app1/tasks.csv"), &bytes).unwrap()
    });
    assert_eq!(
        drift(&r),
        [format!(
            "server ects-app1 | Drift | task {name} | command line"
        )]
    );
    let (_, _, farm) = realistic();
    let german = translated_text(&farm, "de");
    let line = german.lines().find(|l| l.contains(name)).unwrap();
    let disabled = german.replace(line, &line.replacen("\"Aktiviert\"", "\"Disabled\"", 1));
    let missing: String = german
        .split_inclusive('\n')
        .filter(|l| !l.contains(name))
        .collect();
    for (text, want) in [
        (
            disabled,
            format!("server ects-app1 | Drift | task {name} | enabled"),
        ),
        (
            missing,
            format!("server ects-app1 | Missing | task {name} | -"),
        ),
    ] {
        let r = audit_with(&site, &plan, &farm, |dir| {
            std::fs::write(dir.join("ects-app1/tasks.csv"), cp850(&text)).unwrap()
        });
        assert_eq!(drift(&r), [want], "{}", r.to_text());
    }
}
