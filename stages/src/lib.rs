//! netsec-stages
