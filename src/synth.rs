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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_sites_resolve_and_build() {
        for n in [1, 10, 100] {
            let text = site_toml(Size::proportional(n));
            let (site, _) = crate::model::parse_and_resolve("synthetic.toml", &text)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            assert_eq!(site.servers.len(), n);
            crate::build_bundle(&site).unwrap();
        }
    }
}
