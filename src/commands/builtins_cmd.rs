//! `netsec builtins`: list the built-in stages this binary provides.

use netsec_engine::Error;

use crate::render::Ui;

pub fn run(_ui: &Ui) -> Result<i32, Error> {
    let reg = crate::builtins::registry();
    for b in reg.iter() {
        crate::outln!("{} (v{}): {}", b.id(), b.version(), b.summary());
    }
    Ok(0)
}
