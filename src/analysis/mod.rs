//! Analyses of the whole resolved site, run by the pipeline after loading: the failover scenarios
//! (which node serves each virtual server, route and pool for every combination of monitor
//! results; affinity groups that can split).

pub mod scenarios;
