//! The built-in stages this binary provides: each ML step of `netsec-stages` adapted to the
//! engine's `Builtin` trait. The engine knows nothing of ML; this is the only place they meet.

mod compare;
mod evaluate;
mod ingest;
mod support;
mod train;
mod transform;
mod validate;

/// Every built-in stage of this binary.
pub fn registry() -> netsec_engine::BuiltinRegistry {
    let mut r = netsec_engine::BuiltinRegistry::new();
    r.register(ingest::Ingest)
        .register(validate::Validate)
        .register(transform::Transform)
        .register(train::Train)
        .register(compare::Compare)
        .register(evaluate::Evaluate);
    r
}
