//! Synthetic sites of any size, for benchmarks and scaling tests (`sitebundle synth`, hidden).
//!
//! The generated text is a valid site.toml: N servers (mixed 2003 / 2008 R2), K kill tasks, and, in
//! proportion, the other families' sections.

use std::fmt::Write;

/// Sizes of a synthetic site.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub servers: usize,
    pub kills: usize,
    pub pools: usize,
    pub virtuals: usize,
    pub databases: usize,
}

impl Size {
    /// A site with `servers` servers and everything else in proportion (1,000 servers → 200 pools,
    /// 200 virtual servers, 2,000 databases, 500 kill tasks).
    pub fn proportional(servers: usize) -> Self {
        Size {
            servers,
            kills: servers.div_ceil(2),
            pools: servers.div_ceil(5),
            virtuals: servers.div_ceil(5),
            databases: servers * 2,
        }
    }
}

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", 1 + i / 65_000, (i / 250) % 250, 1 + i % 250)
}

/// The TOML text of a synthetic site.
pub fn site_toml(size: Size) -> String {
    let mut s = String::with_capacity(size.servers * 120 + 4096);
    s.push_str("[site]\nname = \"synthetic\"\nchanged = \"2020-01-01 00:00:00\"\nscripts_share = '\\\\files\\gpo$\\scripts'\n\n");
    for i in 0..size.servers {
        let os = if i % 4 == 0 { "2003r2" } else { "2008r2" };
        let _ = write!(
            s,
            "[[server]]\nname = \"srv{i}\"\nos = \"{os}\"\naddress = \"{}\"\n\n",
            ip(i)
        );
    }
    for k in 0..size.kills {
        let a = (2 * k) % size.servers.max(1);
        let b = (2 * k + 1) % size.servers.max(1);
        let servers = if a == b {
            format!("\"srv{a}\"")
        } else {
            format!("\"srv{a}\", \"srv{b}\"")
        };
        let _ = write!(
            s,
            "[[kill]]\nimage = \"proc{k}.exe\"\nservers = [{servers}]\nat = \"{:02}:{:02}\"\n\n",
            k % 24,
            k % 60
        );
    }
    // SQL mirroring between the first two servers, every database watched by the job, the
    // alias switcher on every server.
    if size.servers >= 2 && size.databases > 0 {
        s.push_str("[sql]\nalias = \"SPSQL\"\ndatabases = [");
        for d in 0..size.databases {
            let _ = write!(s, "{}\"WSS_Content_{d}\"", if d == 0 { "" } else { ", " });
        }
        s.push_str("]\n\n[[sql.partner]]\nserver = \"srv0\"\n\n[[sql.partner]]\nserver = \"srv1\"\nport = 1433\n\n[sql.switcher]\nservers = [");
        for i in 0..size.servers {
            let _ = write!(s, "{}\"srv{i}\"", if i == 0 { "" } else { ", " });
        }
        s.push_str("]\n\n");
    }
    f5_section(&mut s, size);
    // Maintenance mode on every server: every 10th skipped, every 7th in a longer window.
    let names = |pred: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..size.servers)
            .filter(|&i| pred(i))
            .map(|i| format!("\"srv{i}\""))
            .collect()
    };
    let skip = names(&|i| i % 10 == 9);
    let group = names(&|i| i % 7 == 3 && i % 10 != 9);
    let _ = write!(
        s,
        "[maintenance]\nduration_minutes = 20\nskip = [{}]\n\n",
        skip.join(", ")
    );
    if !group.is_empty() {
        let _ = write!(
            s,
            "[[maintenance.group]]\nname = \"long\"\nservers = [{}]\nduration_minutes = 60\n\n",
            group.join(", ")
        );
    }
    s
}

/// `[f5]`: one HTTP monitor, `pools` pools of up to 5 members in descending priority groups, and
/// `virtuals` virtual servers (every other one HTTP with two path routes, the rest TCP).
fn f5_section(s: &mut String, size: Size) {
    if size.pools == 0 || size.servers == 0 {
        return;
    }
    s.push_str("[f5]\n\n[[f5.monitor]]\nname = \"mon_http\"\ntype = \"http\"\n\n");
    for p in 0..size.pools {
        let n = size.servers.min(5);
        let members: Vec<String> = (0..n)
            .map(|k| {
                format!(
                    "{{ server = \"srv{}\", port = 80, priority_group = {} }}",
                    (p * 5 + k) % size.servers,
                    n - k
                )
            })
            .collect();
        let _ = write!(
            s,
            "[[f5.pool]]\nname = \"pool{p}\"\nmonitors = [\"mon_http\"]\nmin_active_members = 1\nmembers = [{}]\n\n",
            members.join(", ")
        );
    }
    for v in 0..size.virtuals {
        let pool = v % size.pools;
        let addr = format!(
            "172.{}.{}.{}",
            16 + v / 62_500,
            (v / 250) % 250,
            1 + v % 250
        );
        if v % 2 == 0 {
            let _ = write!(
                s,
                "[[f5.virtual_server]]\nname = \"vs{v}\"\naddress = \"{addr}\"\nport = 80\nprotocol = \"http\"\npool = \"pool{pool}\"\nroutes = [{{ prefix = \"/admin{v}/\", pool = \"pool{}\" }}, {{ prefix = \"/api/v{v}\", pool = \"pool{}\" }}]\n\n",
                (v + 1) % size.pools,
                (v + 2) % size.pools
            );
        } else {
            let _ = write!(
                s,
                "[[f5.virtual_server]]\nname = \"vs{v}\"\naddress = \"{addr}\"\nport = 389\nprotocol = \"tcp\"\npool = \"pool{pool}\"\n\n"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_sites_resolve_and_build() {
        for n in [1, 10, 100] {
            let text = site_toml(Size::proportional(n));
            let (site, _) = crate::load_text("synthetic.toml", &text)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            assert_eq!(site.farm.servers.len(), n);
            crate::build_bundle(&site).unwrap();
        }
    }
}
