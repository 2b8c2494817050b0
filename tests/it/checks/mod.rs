//! Structure checks of generated artifacts and of our own JSON output done in Rust (the rest is
//! tests/validators/, Python, where no Rust parser exists):
//! the AS3 declaration against F5's JSON Schema, the GPO backup's structure, and `.reg` files.

pub mod as3;
pub mod gpo;
pub mod json_output;
pub mod reg;
