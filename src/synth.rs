//! Synthetic sites of any size, for benchmarks and scaling tests (`sitebundle synth`, hidden).
//!
//! The generated text is a valid site.toml shaped like a large farm: servers in groups of
//! [`GROUP`] that get the same (front ends on Server 2008 R2 behind one pool each, every fourth
//! group a Server 2003 R2 application group), a few that differ (every 50th server has a kill task
//! of its own), the two SQL partners, and the other families' sections in proportion.

use std::fmt::Write;

/// Servers per group of identical servers.
pub const GROUP: usize = 40;

/// Sizes of a synthetic site.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub servers: usize,
    /// Kill tasks per group (each on every server of its group).
    pub kills: usize,
    pub databases: usize,
}

impl Size {
    /// A site with `servers` servers and everything else in proportion (1,000 servers → 25 groups,
    /// 25 pools and virtual servers, 50 group kill tasks and 20 single-server ones, 200 databases).
    pub fn proportional(servers: usize) -> Self {
        Size {
            servers,
            kills: 2,
            databases: servers.div_ceil(5),
        }
    }

    fn groups(&self) -> usize {
        self.servers.saturating_sub(2).div_ceil(GROUP)
    }
}

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", 1 + i / 65_000, (i / 250) % 250, 1 + i % 250)
}

/// The name of server `i` (`sql0`, `sql1`, then `g3-web017`: group 3, its 17th server).
fn name(i: usize) -> String {
    match i {
        0 | 1 => format!("sql{i}"),
        _ => format!("g{}-web{:03}", (i - 2) / GROUP, (i - 2) % GROUP + 1),
    }
}

/// The servers of group `g`.
fn members(size: Size, g: usize) -> Vec<usize> {
    (2 + g * GROUP..(2 + (g + 1) * GROUP).min(size.servers)).collect()
}

fn quoted(list: impl IntoIterator<Item = usize>) -> String {
    list.into_iter()
        .map(|i| format!("\"{}\"", name(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The TOML text of a synthetic site.
pub fn site_toml(size: Size) -> String {
    let mut s = String::with_capacity(size.servers * 160 + 4096);
    s.push_str("[site]\nname = \"synthetic\"\nchanged = \"2020-01-01 00:00:00\"\nscripts_share = '\\\\files\\gpo$\\scripts'\n\n");
    for i in 0..size.servers {
        let legacy = i >= 2 && ((i - 2) / GROUP) % 4 == 3;
        let os = if legacy { "2003r2" } else { "2008r2" };
        let _ = write!(
            s,
            "[[server]]\nname = \"{}\"\nos = \"{os}\"\naddress = \"{}\"\n\n",
            name(i),
            ip(i)
        );
    }
    kills(&mut s, size);
    sql(&mut s, size);
    f5_section(&mut s, size);
    maintenance(&mut s, size);
    s
}

/// `kills` tasks per group on all its servers, and one of its own on every 50th server.
fn kills(s: &mut String, size: Size) {
    for g in 0..size.groups() {
        for k in 0..size.kills {
            let _ = write!(
                s,
                "[[kill]]\nimage = \"g{g}proc{k}.exe\"\nservers = [{}]\nat = \"{:02}:{:02}\"\n\n",
                quoted(members(size, g)),
                (g + k) % 24,
                (7 * k) % 60
            );
        }
    }
    for i in (2..size.servers).filter(|i| i % 50 == 0) {
        let _ = write!(
            s,
            "[[kill]]\nimage = \"own{i}.exe\"\nservers = [{}]\nat = \"03:30\"\n\n",
            quoted([i])
        );
    }
}

/// SQL mirroring between the two SQL servers, every database watched by the job, the alias
/// switcher on every front end (the Server 2008 R2 groups).
fn sql(s: &mut String, size: Size) {
    let front: Vec<usize> = (0..size.groups())
        .filter(|g| g % 4 != 3)
        .flat_map(|g| members(size, g))
        .collect();
    if size.servers < 2 || size.databases == 0 || front.is_empty() {
        return;
    }
    s.push_str("[sql]\nalias = \"SPSQL\"\ndatabases = [");
    for d in 0..size.databases {
        let _ = write!(s, "{}\"WSS_Content_{d}\"", if d == 0 { "" } else { ", " });
    }
    s.push_str("]\n\n[[sql.partner]]\nserver = \"sql0\"\n\n[[sql.partner]]\nserver = \"sql1\"\nport = 1433\n\n");
    let _ = write!(s, "[sql.switcher]\nservers = [{}]\n\n", quoted(front));
}

/// Maintenance mode on every server; the first group in a longer window.
fn maintenance(s: &mut String, size: Size) {
    s.push_str("[maintenance]\nduration_minutes = 20\n\n");
    if size.groups() > 0 {
        let _ = write!(
            s,
            "[[maintenance.group]]\nname = \"long\"\nservers = [{}]\nduration_minutes = 60\n\n",
            quoted(members(size, 0))
        );
    }
}

/// `[f5]`: one HTTP monitor, a pool per group (its servers, equal), and a virtual server per pool
/// (every other one HTTP with a path route to the next pool, the rest TCP).
fn f5_section(s: &mut String, size: Size) {
    let pools = size.groups();
    if pools == 0 {
        return;
    }
    s.push_str("[f5]\n\n[[f5.monitor]]\nname = \"mon_http\"\ntype = \"http\"\n\n");
    for p in 0..pools {
        let list: Vec<String> = members(size, p)
            .into_iter()
            .map(|i| format!("{{ server = \"{}\", port = 80 }}", name(i)))
            .collect();
        let _ = write!(
            s,
            "[[f5.pool]]\nname = \"pool{p}\"\nmonitors = [\"mon_http\"]\nmembers = [{}]\n\n",
            list.join(", ")
        );
    }
    for v in 0..pools {
        let addr = format!(
            "172.{}.{}.{}",
            16 + v / 62_500,
            (v / 250) % 250,
            1 + v % 250
        );
        if v % 2 == 0 {
            let _ = write!(
                s,
                "[[f5.virtual_server]]\nname = \"vs{v}\"\naddress = \"{addr}\"\nport = 80\nprotocol = \"http\"\npool = \"pool{v}\"\nroutes = [{{ prefix = \"/admin{v}/\", pool = \"pool{}\" }}]\n\n",
                (v + 1) % pools
            );
        } else {
            let _ = write!(
                s,
                "[[f5.virtual_server]]\nname = \"vs{v}\"\naddress = \"{addr}\"\nport = 389\nprotocol = \"tcp\"\npool = \"pool{v}\"\n\n"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_sites_resolve_and_build() {
        for n in [1, 2, 10, 100] {
            let text = site_toml(Size::proportional(n));
            let (site, _) = crate::load_text("synthetic.toml", &text)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            assert_eq!(site.farm.servers.len(), n);
            crate::build_bundle(&site).unwrap();
        }
    }
}
