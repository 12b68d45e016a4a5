//! netsec engine
