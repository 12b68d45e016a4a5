# Sourced by the benchmarks (after `cd` to the repository root and `ROOT=$PWD`): NETSEC_BIN is
# the binary to benchmark; unset, the working tree is built in release mode and its binary used.
if [[ -z "${NETSEC_BIN:-}" ]]; then
  cargo build --release --bin netsec >&2
  NETSEC_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/netsec"
fi
