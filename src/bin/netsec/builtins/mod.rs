//! The built-in stages this binary provides (the ML steps of netsec-stages, adapted to the
//! engine's `Builtin` trait). Registered here; the engine knows nothing of ML.

/// Every built-in stage of this binary.
pub fn registry() -> netsec::BuiltinRegistry {
    netsec::BuiltinRegistry::new()
}
