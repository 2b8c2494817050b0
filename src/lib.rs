//! sitebundle: compiles one site description (`site.toml`) into a bundle of native artifacts for a
//! Windows / SQL Server / F5 BIG-IP web farm.
//!
//! Pipeline: [`model::load`] (parse + resolve, all errors located) → one renderer per target family
//! ([`tasks`], [`helper`], …) filling a [`bundle::Bundle`] → [`write::write_bundle`] (atomic) or
//! [`check::compare`] (against a golden directory).

pub mod bundle;
pub mod check;
pub mod diag;
pub mod docs;
pub mod escape;
pub mod f5;
pub mod gpo;
pub mod helper;
pub mod maint;
pub mod model;
pub mod registry;
pub mod render;
pub mod scenarios;
pub mod sql;
pub mod synth;
pub mod tasks;
pub mod topology;
pub mod write;

use std::fmt;

/// Failures that are not the user's site file: a template bug, a value that slipped past
/// validation, or the file system.
#[derive(Debug)]
pub enum Error {
    Template(String),
    Internal(String),
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Template(m) => write!(f, "internal error while rendering {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Renders every artifact of a resolved site.
pub fn build_bundle(site: &model::Site) -> Result<bundle::Bundle, Error> {
    let mut b = bundle::Bundle::default();
    helper::render(site, &mut b)?;
    sql::render(site, &mut b)?;
    f5::render(site, &mut b)?;
    maint::render(site, &mut b)?;
    tasks::render(site, &mut b)?;
    // After every family that adds runtime scripts: the GPO copies whatever is under scripts/.
    gpo::render(site, &mut b)?;
    topology::render(site, &mut b)?;
    docs::render(site, &mut b)?;
    b.add_manifest(&site.name)?;
    Ok(b)
}
