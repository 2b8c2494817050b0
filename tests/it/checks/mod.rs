//! Structure checks of generated artifacts done in Rust (the rest is tests/validators/, Python):
//! the AS3 declaration against F5's JSON Schema, the GPO backup's structure, and `.reg` files.

pub mod as3;
pub mod gpo;
pub mod reg;
