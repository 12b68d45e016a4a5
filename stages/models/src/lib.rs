//! netsec-models
