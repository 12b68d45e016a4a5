//! The built-in stages this binary provides: each ML step of `netsec-stages` adapted to the
//! engine's `Builtin` trait. The engine knows nothing of ML; this is the only place they meet.

mod compare;
mod evaluate;
mod ingest;
mod support;
mod train;
mod transform;
mod validate;

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};

/// Every built-in stage of this binary.
pub fn registry() -> netsec_engine::BuiltinRegistry {
    let mut r = netsec_engine::BuiltinRegistry::new();
    r.register(Released(ingest::Ingest))
        .register(Released(validate::Validate))
        .register(Released(transform::Transform))
        .register(Released(train::Train))
        .register(Released(compare::Compare))
        .register(Released(evaluate::Evaluate));
    r
}

/// A built-in whose freed memory goes back to the system when it returns
/// ([`crate::memory::release`]), so the next stage in this process does not start from the
/// last one's high-water mark.
struct Released<B>(B);

impl<B: Builtin> Builtin for Released<B> {
    fn id(&self) -> &'static str {
        self.0.id()
    }
    fn version(&self) -> u32 {
        self.0.version()
    }
    fn summary(&self) -> &'static str {
        self.0.summary()
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        self.0.check_args(with)
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        self.0.check_params(params)
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let done = self.0.run(ctx);
        crate::memory::release();
        done
    }
    fn always_changed(&self, params: &serde_json::Value) -> bool {
        self.0.always_changed(params)
    }
}
