//! The integration tests, linked as one binary (one link instead of one per file). Each module
//! was a file of its own under tests/; shared helpers are in `common`.

mod checks;
mod common;

mod accept;
mod agreement;
mod architecture;
mod audit;
mod cli;
mod conformance;
mod determinism;
mod diagnostics;
mod error_paths;
mod f5;
mod f5_equivalence;
mod f5_rebuild;
mod f5_tmos;
mod golden;
mod gpo;
mod hostile;
mod json_output;
mod killproc;
mod maint;
mod plan;
mod runbook;
mod runbook_checker;
mod scenarios;
mod schedule;
mod snapshots;
mod sql;
mod sql_ag;
mod sql_ag_migrate;
mod timeline;
mod timezone;
mod topology;
mod validators_run;
mod write_reuse;
mod write_safety;
