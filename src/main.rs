//! The `sitebundle` command line. Exit codes: 0 ok, 1 `check`/`diff` found differences, 2 bad input,
//! usage or any failure (never a panic).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sitebundle::check::{Difference, compare};
use sitebundle::diag::Diagnostics;
use sitebundle::output::{Document, ValidateReport};
use sitebundle::site::Site;

#[derive(Parser)]
#[command(name = "sitebundle", version, about = "Compile one site description (site.toml) into a reviewable bundle of native artifacts: T-SQL Agent jobs, Task Scheduler XML, F5 tmsh and iRules, Group Policy Preferences, runtime scripts.", long_about = None)]
#[command(
    after_help = "Getting started:\n  sitebundle init              write a commented starter site.toml (and site.schema.json for editors)\n  sitebundle validate          check it: every problem at once, with file:line:column and a fix\n  sitebundle build -o out      build the bundle; out/README.md is the deployment runbook\n  sitebundle diff out          after an edit: what a rebuild would change in out/\n\nExit codes: 0 ok, 1 check/diff found differences, 2 bad input or usage.\nIn a repository: build into golden/, review `git diff golden/`, and let CI run `sitebundle check`."
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Treat warnings about the site as errors: print them and exit 2 (nothing is written).
    #[arg(long, global = true)]
    deny_warnings: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the bundle from SITE into OUT (atomically: the old bundle stays if anything fails).
    ///
    /// The new tree is on disk before it replaces the old one: on Linux 5.8 and later one syncfs of
    /// OUT's file system flushes it (set SITEBUNDLE_FLUSH=files to flush file by file instead, e.g.
    /// on a file system other programs keep busy); files that did not change are hard-linked from
    /// the previous bundle, not written again. When OUT already holds exactly the bundle, nothing
    /// is written at all ("up to date").
    Build {
        /// The site description.
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// Output folder.
        #[arg(short, long, default_value = "out")]
        out: PathBuf,
        /// Write into a non-empty folder that sitebundle did not create (its other files are kept).
        #[arg(long)]
        force: bool,
        /// The bundle deployed before (default: the one in OUT, if any): the tasks and registry
        /// values it put on the servers that this site no longer has get Delete items in the GPO.
        #[arg(long, value_name = "DIR")]
        previous: Option<PathBuf>,
        /// Forget what the previous bundle's GPO was deleting (once every server has applied it:
        /// see the runbook's Group Policy section).
        #[arg(long)]
        drop_retired: bool,
    },
    /// Exit 0 when the golden folder holds exactly the bundle SITE builds, 1 (with diffs) when not,
    /// 2 when it does not exist (for CI).
    Check {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// The checked-in bundle to compare with.
        #[arg(long, default_value = "golden")]
        golden: PathBuf,
    },
    /// Show what a rebuild would change in DIR, as a unified diff (colored on a terminal unless NO_COLOR is set).
    #[command(override_usage = "sitebundle diff [SITE] DIR")]
    Diff {
        /// The site description (default site.toml). A single path is DIR.
        #[arg(value_name = "SITE")]
        first: Option<PathBuf>,
        /// The folder to compare with (a bundle built earlier).
        #[arg(value_name = "DIR")]
        second: Option<PathBuf>,
        /// Color the diff: auto (on a terminal, unless NO_COLOR is set), always or never.
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
    },
    /// Check SITE and report every problem (no files are written).
    Validate {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// text, or json: one document with every finding (docs/json-output.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print which node serves each virtual server and route for every combination of monitor
    /// results, each affinity group's verdict, and what the SQL alias switcher does in each state.
    /// Exit 2 when an affinity group with `on_split = "error"` can split.
    Scenarios {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// text, or json: the tables and verdicts as data (docs/json-output.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print, per server, everything that lands there (files, tasks with their schedules, registry
    /// values, F5 pool membership, SQL role), how (GPO or by hand), its prerequisites and the
    /// verify commands for its Windows release.
    Plan {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// Only this server (compared without case).
        #[arg(long, value_name = "NAME")]
        server: Option<String>,
        /// text, or json (docs/json-output.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// List the artifacts SITE builds, with their target hosts and how each is deployed, then
    /// every scheduled task with every server that receives it and how.
    List {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// text (tab-separated, with a header line), or json (docs/json-output.md).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Compare the live farm with the bundle, from what the collectors wrote into --from.
    #[command(long_about = AUDIT_HELP)]
    Audit {
        #[arg(default_value = "site.toml")]
        site: PathBuf,
        /// The folder the collectors wrote (one folder per server, sql/, f5/, gpo/).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// text (default) or json.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the JSON Schema of site.toml (for editors: taplo / Even Better TOML).
    Schema,
    /// Write a commented starter site.toml (two front ends, two SQL partners, F5, GPO; builds as is).
    Init {
        /// Where to write it.
        #[arg(default_value = "site.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) of sitebundle.
    Man,
    /// Print a synthetic site of SERVERS servers (other sections in proportion), for benchmarks.
    #[command(hide = true)]
    Synth { servers: usize },
}

/// Output of `validate`, `list`, `scenarios` and `audit`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// One JSON document on stdout, findings included (docs/json-output.md).
    Json,
}

const AUDIT_HELP: &str =
    "Compare the live farm with the bundle SITE builds, from what the collectors wrote into --from.

Collection (every collector is read-only; the bundle's README.md, section Audit, lists them with
where to run each and as whom):
  collect\\windows\\<server>.cmd   on each Windows server as a local administrator: the tasks
                                  (schtasks /Query /XML on 2008, /FO CSV /V on both), the registry
                                  values (reg query), size and hash of the runtime scripts
                                  (certutil -hashfile), eventtriggers on 2003 -> <server>/
  collect\\sql\\collect-sql.sql    with sqlcmd on each mirroring partner: the job, steps, schedule,
                                  alerts and mirrored databases -> sql/<partner>.txt
  collect\\sql\\collect-ag.sql     with sqlcmd on each availability group replica: the groups'
                                  replicas, listener and databases, the alerts and their
                                  messages, the follower job -> sql/<replica>.txt
  tmsh list (runbook)             on the BIG-IP: the partition's monitors, nodes, pools, rules and
                                  virtual servers (or a copy of bigip.conf) -> f5/<partition>.conf
  collect\\gpo\\collect-gpo.ps1    Backup-GPO of the site's GPO -> gpo/{backup id}/

The comparison is semantic: each export is parsed and compared field by field for what the bundle
sets (defaults the target adds are ignored). Per source it reports in sync, drift (field,
expected, found), missing and extra objects; live state expected to change (the SQL alias after a
failover, the principal side) is reported as state, not drift.

Exit codes: 0 in sync, 1 drift, 2 bad input (a malformed or truncated export is named with its
file, line and column).";

#[derive(Clone, Copy, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The starter site written by `sitebundle init`.
const STARTER: &str = include_str!("init_site.toml");

/// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which the
/// bundle's large texts come from the heap, whose freed space stays with the process. Setting the
/// threshold makes it static ("If the parameter is set, the dynamic adjustment is disabled": glibc
/// manual, Malloc Tunable Parameters, M_MMAP_THRESHOLD): at its default of 128 KiB, every large
/// text is mapped on its own and returned on free. 10,000 servers: peak 392 MB -> about 330 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn static_mmap_threshold() {
    // SAFETY: mallopt only sets an allocator parameter; called first, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn static_mmap_threshold() {}

fn main() -> ExitCode {
    static_mmap_threshold();
    // Exit 2 with a message on every path, never Rust's 101: a panic (a bug, or stdout closed under
    // `sitebundle list | head`) prints one `error:` line and exits 2.
    std::panic::set_hook(Box::new(|info| {
        use std::io::Write as _;
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let text = if msg.starts_with("failed printing to std") {
            format!("error: cannot write the output: {msg}")
        } else {
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            format!(
                "error: internal error{at}: {msg}\nthis is a bug in sitebundle; please report it with the site file that caused it"
            )
        };
        let _ = writeln!(std::io::stderr(), "{text}");
    }));
    std::panic::catch_unwind(real_main).unwrap_or(ExitCode::from(2))
}

fn real_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(run(cli))
}

/// How the findings about the site are reported.
#[derive(Clone, Copy)]
struct Report {
    /// `--quiet`: warnings are not printed (errors always are).
    quiet: bool,
    /// `--deny-warnings`: a warning fails the command like an error.
    deny_warnings: bool,
    /// What the command says about warnings that do not stop it.
    warnings: Shown,
}

/// How a command shows the warnings of a usable site. Each warning is printed once per command;
/// the read-only commands that follow a `validate` or `build` (`list`, `plan`, `scenarios`,
/// `audit`) count them in one line instead of repeating them in full.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// `validate`: every warning in full, and the accepted ones as accepted with their reason.
    WithAccepted,
    /// `build`, `check`, `diff`: every open warning in full.
    Full,
    /// The read-only commands: one line counting the open warnings.
    Counted,
}

impl Report {
    /// The report of a command that shows warnings as `shown` says.
    fn showing(self, warnings: Shown) -> Report {
        Report { warnings, ..self }
    }
}

/// The findings to print about a usable site: without the accepted warnings unless the command
/// is `validate`.
fn shown(diags: &Diagnostics, report: Report) -> Diagnostics {
    if report.warnings == Shown::WithAccepted {
        diags.clone()
    } else {
        diags.without_accepted()
    }
}

/// Prints the warnings of a usable site as the command shows them.
fn print_warnings(diags: &Diagnostics, report: Report) {
    if report.quiet {
        return;
    }
    let shown = shown(diags, report);
    if shown.items.is_empty() {
        return;
    }
    if report.warnings == Shown::Counted {
        let n = shown.warning_count();
        eprintln!(
            "warning: {} has {n} warning{} (`sitebundle validate {}` shows {})",
            diags.file,
            if n == 1 { "" } else { "s" },
            diags.file,
            if n == 1 { "it" } else { "them" }
        );
    } else {
        eprint!("{}", shown.render());
    }
}

/// The site, or `None` after printing why it cannot be used (errors, or warnings under
/// `--deny-warnings`). Warnings of a usable site are printed unless `--quiet`.
fn load(site: &Path, report: Report) -> Option<Site> {
    match sitebundle::load(site) {
        Ok((_, warnings)) if warnings.fails(report.deny_warnings) => {
            eprint!("{}", shown(&warnings, report).render_with(true));
            None
        }
        Ok((site, warnings)) => {
            print_warnings(&warnings, report);
            Some(site)
        }
        Err(diags) => {
            eprint!("{}", diags.render_with(report.deny_warnings));
            None
        }
    }
}

fn build(site_path: &Path, report: Report) -> Option<(Site, sitebundle::bundle::Bundle)> {
    build_after(site_path, None, false, report)
}

/// [`build`] after the bundle in `previous` (sitebundle::build_bundle_after).
fn build_after(
    site_path: &Path,
    previous: Option<&Path>,
    drop_retired: bool,
    report: Report,
) -> Option<(Site, sitebundle::bundle::Bundle)> {
    let site = load(site_path, report)?;
    match sitebundle::build_bundle_after(&site, previous, drop_retired) {
        Ok(b) => Some((site, b)),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

fn run(cli: Cli) -> u8 {
    let quiet = cli.quiet;
    let report = Report {
        quiet,
        deny_warnings: cli.deny_warnings,
        warnings: Shown::Full,
    };
    let read_only = report.showing(Shown::Counted);
    match cli.command {
        Command::Build {
            site,
            out,
            force,
            previous,
            drop_retired,
        } => {
            let previous = previous.unwrap_or_else(|| out.clone());
            build_command(&site, &out, force, (&previous, drop_retired), report)
        }
        Command::Check { site, golden } => check_command(&site, &golden, report),
        Command::Diff {
            first,
            second,
            color,
        } => diff_command(first, second, color, report),
        Command::Validate { site, format } => match format {
            Format::Text => validate_command(&site, report.showing(Shown::WithAccepted)),
            Format::Json => validate_json(&site, report),
        },
        Command::Scenarios { site, format } => match format {
            Format::Text => scenarios(&site, read_only),
            Format::Json => scenarios_json(&site, read_only),
        },
        Command::List { site, format } => list_command(&site, read_only, format),
        Command::Plan {
            site,
            server,
            format,
        } => plan_command(&site, server.as_deref(), read_only, format),
        Command::Audit { site, from, format } => audit_command(&site, &from, format, read_only),
        Command::Schema => {
            println!("{}", sitebundle::site::schema_json());
            0
        }
        Command::Init { path, force } => init_command(&path, force, quiet),
        Command::Completions { shell } => completions_command(shell),
        Command::Synth { servers } => {
            print!(
                "{}",
                sitebundle::synth::site_toml(sitebundle::synth::Size::proportional(servers))
            );
            0
        }
        Command::Man => man_command(),
    }
}

/// `sitebundle build`: writes the bundle to `out`.
fn build_command(
    site: &Path,
    out: &Path,
    force: bool,
    (previous, drop_retired): (&Path, bool),
    report: Report,
) -> u8 {
    let quiet = report.quiet;
    let Some((_, bundle)) = build_after(site, Some(previous), drop_retired, report) else {
        return 2;
    };
    match sitebundle::write::write_bundle(&bundle, out, force) {
        Ok(r) => {
            for note in &r.recovered {
                eprintln!("note: an earlier build was interrupted: {note}");
            }
            if !quiet && r.up_to_date {
                println!(
                    "{} is up to date: its {} files ({} bytes) are the bundle, nothing was written",
                    out.display(),
                    r.files,
                    r.bytes
                );
            } else if !quiet {
                println!(
                    "wrote {} files ({} bytes) to {}",
                    r.files,
                    r.bytes,
                    out.display()
                );
                for k in r.kept {
                    println!("kept {k} (not generated by sitebundle)");
                }
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}\nnothing was changed in {}", out.display());
            2
        }
    }
}

/// `sitebundle check`: exit 0 when `golden` is the bundle, 1 with the differences when not, and 2
/// (one line, not a "missing" line per file) when `golden` does not exist: there is nothing to
/// compare with, which is a usage error rather than a difference.
fn check_command(site: &Path, golden: &Path, report: Report) -> u8 {
    // As `build -o golden` would build it: after the bundle already there.
    let Some((_, bundle)) = build_after(site, Some(golden), false, report) else {
        return 2;
    };
    if !golden.is_dir() {
        let shown = golden.display().to_string();
        let why = if golden.exists() {
            "is not a folder"
        } else {
            "not found"
        };
        eprintln!(
            "error: {}/ {why}: nothing to compare with\nto create it: sitebundle build {} -o {shown}",
            shown.trim_end_matches('/'),
            site.display(),
        );
        return 2;
    }
    report_diffs(&bundle, golden, site, report.quiet, false)
}

/// `sitebundle diff [SITE] DIR`: the differences between the bundle and a folder.
fn diff_command(
    first: Option<PathBuf>,
    second: Option<PathBuf>,
    color: ColorChoice,
    report: Report,
) -> u8 {
    let quiet = report.quiet;
    let (site, dir) = match (first, second) {
        (Some(site), Some(dir)) => (site, dir),
        (Some(dir), None) => (PathBuf::from("site.toml"), dir),
        _ => {
            eprintln!(
                "error: which folder should the bundle be compared with?\n\nUsage: sitebundle diff [SITE] DIR   (e.g. `sitebundle diff out` or `sitebundle diff site.toml golden`)"
            );
            return 2;
        }
    };
    // As a rebuild into DIR would build it: after the bundle already there.
    let Some((_, bundle)) = build_after(&site, Some(&dir), false, report) else {
        return 2;
    };
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    report_diffs(&bundle, &dir, &site, quiet, color)
}

/// `sitebundle validate`: loads the site and prints the affinity verdicts.
fn validate_command(site: &Path, report: Report) -> u8 {
    match load(site, report) {
        Some(s) => {
            if !report.quiet {
                println!(
                    "{}: ok (site {}, {} servers)",
                    site.display(),
                    s.farm.name,
                    s.farm.servers.len()
                );
                for line in sitebundle::analysis::scenarios::verdict_lines(&s) {
                    println!("{line}");
                }
                match (&s.sql, &s.sharepoint) {
                    (Some(sql), Some(sp)) => println!(
                        "{}",
                        sitebundle::families::sharepoint::summary_line(&s.farm, sp, &sql.alias)
                    ),
                    (Some(sql), None) => println!(
                        "{}",
                        sitebundle::families::sql::sharepoint_line(&s.farm, sql)
                    ),
                    _ => {}
                }
            }
            0
        }
        None => 2,
    }
}

/// What lands on each server of a usable site (or the one `--server` names), or the message
/// about an unknown `--server` or a build failure.
fn server_plans(
    site: &Site,
    server: Option<&str>,
) -> Result<Vec<sitebundle::plan::ServerPlan>, String> {
    let built = sitebundle::build(site).map_err(|e| format!("error: {e}\n"))?;
    let plans = built
        .plan
        .server_plans(&site.farm, &built.files)
        .map_err(|e| format!("error: {e}\n"))?;
    sitebundle::plan::report::select(plans, server)
}

/// `sitebundle plan`: what lands on each server, as text or as the `sitebundle-plan` document.
fn plan_command(site_path: &Path, server: Option<&str>, report: Report, format: Format) -> u8 {
    use sitebundle::plan::report;
    if format == Format::Json {
        let (site, diags, ok) = load_json(site_path, report);
        let payload = match site.filter(|_| ok) {
            Some(site) => match server_plans(&site, server) {
                Ok(servers) => Some(report::PlanReport::new(&site.farm.name, servers)),
                Err(message) => {
                    eprint!("{message}");
                    return 2;
                }
            },
            None => None,
        };
        return print_json(&Document::new("plan", &diags, ok, payload));
    }
    let Some(site) = load(site_path, report) else {
        return 2;
    };
    match server_plans(&site, server) {
        Ok(servers) => {
            print!("{}", report::text(&servers));
            0
        }
        Err(message) => {
            eprint!("{message}");
            2
        }
    }
}

/// `sitebundle list`: each file with its kind, hosts and deployment, then each task's servers.
fn list_command(site_path: &Path, report: Report, format: Format) -> u8 {
    if format == Format::Json {
        return list_json(site_path, report);
    }
    let Some((site, bundle)) = build(site_path, report) else {
        return 2;
    };
    match sitebundle::listing::of(&site, &bundle) {
        Ok(listing) => {
            print!("{}", sitebundle::listing::text(&listing));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// The site and every finding about it, for JSON output: `Some(site)` when it resolved, and
/// whether the command may go on (no error, and no warning under `--deny-warnings`).
fn load_json(site: &Path, report: Report) -> (Option<Site>, Diagnostics, bool) {
    match sitebundle::load(site) {
        Ok((site, diags)) => {
            let ok = !diags.fails(report.deny_warnings);
            (Some(site), diags, ok)
        }
        Err(diags) => (None, diags, false),
    }
}

/// Prints a JSON document; exit 0 when it says `ok`, else 2.
fn print_json<P: serde::Serialize>(doc: &Document<P>) -> u8 {
    print!("{}", doc.to_json());
    if doc.ok { 0 } else { 2 }
}

/// `sitebundle validate --format json`.
fn validate_json(site: &Path, report: Report) -> u8 {
    let (site, diags, ok) = load_json(site, report);
    let payload = site.filter(|_| ok).map(|s| ValidateReport::of(&s));
    print_json(&Document::new("validate", &diags, ok, payload))
}

/// `sitebundle list --format json`.
fn list_json(site_path: &Path, report: Report) -> u8 {
    let (site, diags, ok) = load_json(site_path, report);
    let listing = match site.filter(|_| ok) {
        Some(site) => {
            let listed = sitebundle::build_bundle(&site)
                .and_then(|bundle| sitebundle::listing::of(&site, &bundle));
            match listed {
                Ok(l) => Some(l),
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            }
        }
        None => None,
    };
    print_json(&Document::new("list", &diags, ok, listing))
}

/// `sitebundle scenarios --format json`: the tables even when an affinity group splits (as the
/// text output), `ok` false when a finding is an error.
fn scenarios_json(site_path: &Path, report: Report) -> u8 {
    match sitebundle::analyse(site_path) {
        Ok((site, diags)) => {
            let ok = !diags.fails(report.deny_warnings);
            let tables = sitebundle::analysis::scenarios::report_json(&site);
            print_json(&Document::new("scenarios", &diags, ok, Some(tables)))
        }
        Err(diags) => print_json(&Document::<()>::new("scenarios", &diags, false, None)),
    }
}

/// `sitebundle init`: a starter site and the editor schema beside it.
fn init_command(path: &Path, force: bool, quiet: bool) -> u8 {
    if path.exists() && !force {
        eprintln!(
            "error: {} already exists; choose another path or add --force to overwrite it",
            path.display()
        );
        return 2;
    }
    // The editor schema goes beside the site (its first line points at it).
    let schema = path.with_file_name("site.schema.json");
    let written = std::fs::write(path, STARTER).and_then(|_| {
        if schema.exists() && !force {
            Ok(())
        } else {
            std::fs::write(&schema, sitebundle::site::schema_json() + "\n")
        }
    });
    match written {
        Ok(()) => {
            if !quiet {
                println!(
                    "wrote {} and {}; build it with: sitebundle build {} -o out",
                    path.display(),
                    schema.display(),
                    path.display()
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            2
        }
    }
}

/// `sitebundle completions SHELL`.
fn completions_command(shell: clap_complete::Shell) -> u8 {
    use clap::CommandFactory;
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "sitebundle",
        &mut std::io::stdout(),
    );
    0
}

/// `sitebundle man`: the manual page.
fn man_command() -> u8 {
    use clap::CommandFactory;
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => 0,
        // `sitebundle man | head` closes the pipe early: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `sitebundle scenarios`: the table of a site even when an affinity group splits (the split is
/// what the table shows); the group findings go to stderr as located diagnostics. Exit 2 when one
/// of them is an error.
fn scenarios(site_path: &Path, report: Report) -> u8 {
    let quiet = report.quiet;
    let started = std::time::Instant::now();
    let (site, diags) = match sitebundle::analyse(site_path) {
        Ok(loaded) => loaded,
        Err(diags) => {
            eprint!("{}", diags.render());
            return 2;
        }
    };
    let elapsed = started.elapsed();
    let fails = diags.fails(report.deny_warnings);
    if fails {
        eprint!(
            "{}",
            shown(&diags, report).render_with(report.deny_warnings)
        );
    } else {
        print_warnings(&diags, report);
    }
    let code = if fails { 2 } else { 0 };
    match sitebundle::analysis::scenarios::report_text(&site) {
        Ok(text) => println!("{}", text.trim_end()),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    }
    if !quiet {
        for line in sitebundle::analysis::scenarios::verdict_lines(&site) {
            eprintln!("{line}");
        }
        eprintln!("checked in {} ms", elapsed.as_millis());
    }
    code
}

fn report_diffs(
    bundle: &sitebundle::bundle::Bundle,
    dir: &Path,
    site: &Path,
    quiet: bool,
    color: bool,
) -> u8 {
    let diffs = match compare(bundle, dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if diffs.is_empty() {
        if !quiet {
            println!(
                "{} is up to date ({} files)",
                dir.display(),
                bundle.files.len()
            );
        }
        return 0;
    }
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    for d in &diffs {
        match d {
            Difference::Missing(p) => {
                added += 1;
                println!(
                    "{}",
                    paint(&format!("missing: {p} (a rebuild adds it)"), "32", color)
                );
            }
            Difference::Extra(p) => {
                removed += 1;
                println!(
                    "{}",
                    paint(&format!("extra:   {p} (no longer generated)"), "31", color)
                );
            }
            Difference::Changed { path, diff } => {
                changed += 1;
                println!("changed: {path}");
                for line in diff.lines() {
                    let code = if line.starts_with("+++") || line.starts_with("---") {
                        "1"
                    } else if line.starts_with('+') {
                        "32"
                    } else if line.starts_with('-') {
                        "31"
                    } else if line.starts_with("@@") {
                        "36"
                    } else {
                        ""
                    };
                    println!(
                        "{}",
                        if code.is_empty() {
                            line.to_string()
                        } else {
                            paint(line, code, color)
                        }
                    );
                }
            }
        }
    }
    println!(
        "{} differ: {added} to add, {removed} to remove, {changed} changed",
        dir.display()
    );
    print_retired(bundle, dir);
    println!(
        "to refresh it: sitebundle build {} -o {}",
        site.display(),
        dir.display()
    );
    1
}

/// The "Retired items" section: what the older bundle in `dir` put on the servers that the new
/// one no longer has. Group Policy and a rebuild leave these items in place (preference items have
/// removePolicy="0"): the operator removes them with the commands shown.
fn print_retired(bundle: &sitebundle::bundle::Bundle, dir: &Path) {
    match sitebundle::check::retired_items(bundle, dir) {
        None => println!(
            "Retired items: {} has no inventory.json (built by an older sitebundle): compare the task and registry sections of its README.md by hand",
            dir.display()
        ),
        Some(items) if items.is_empty() => {}
        Some(items) => {
            println!(
                "Retired items: on the servers; the new GPO deletes its tasks and registry values (Delete items), remove the rest after deploying the new bundle:"
            );
            let mut host = "";
            for r in &items {
                if r.host != host {
                    println!("  on {}:", r.host);
                    host = &r.host;
                }
                println!("    {} {}: {}", r.kind, r.name, r.remove);
            }
        }
    }
}

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn audit_command(site_path: &Path, from: &Path, format: Format, report: Report) -> u8 {
    let (site, diags) = match format {
        Format::Text => match load(site_path, report) {
            Some(site) => (site, Diagnostics::new(site_path.display().to_string(), "")),
            None => return 2,
        },
        Format::Json => match load_json(site_path, report) {
            (Some(site), diags, true) => (site, diags),
            (_, diags, _) => return print_json(&Document::<()>::new("audit", &diags, false, None)),
        },
    };
    if !from.is_dir() {
        eprintln!(
            "error: --from {} is not a folder\nhelp: point it at the collected folder (runbook, section Audit)",
            from.display()
        );
        return 2;
    }
    let built = match sitebundle::build(&site) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let outcome = sitebundle::audit::audit(&site.farm, &built.plan, &built.files, from);
    match (format, outcome) {
        (Format::Text, Ok(audit)) => {
            print!("{}", audit.to_text());
            audit.exit_code()
        }
        (Format::Text, Err(all)) => {
            for d in &all {
                eprint!("{}", d.render());
            }
            2
        }
        (Format::Json, Ok(audit)) => {
            let code = audit.exit_code();
            let ok = audit.in_sync;
            print!(
                "{}",
                Document::new("audit", &diags, ok, Some(audit)).to_json()
            );
            code
        }
        (Format::Json, Err(all)) => {
            let mut doc = Document::<()>::new("audit", &diags, false, None);
            for d in &all {
                doc.errors += d.error_count();
                doc.diagnostics.extend(d.to_json());
            }
            print_json(&doc)
        }
    }
}
