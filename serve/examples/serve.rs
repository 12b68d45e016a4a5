//! A stand-alone launcher of the server for benchmarks and manual runs, until (and besides)
//! `netsec serve`: `serve [--addr A] [--root DIR] [--model-dir DIR] [--exe NETSEC]
//! [--body-limit BYTES] [--cors ORIGIN]...`. The token comes from `NETSEC_SERVE_TOKEN`.

use std::path::PathBuf;
use std::process::ExitCode;

use netsec_serve::ServeConfig;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let exe = PathBuf::from("netsec");
    let mut cfg = ServeConfig::new(root, exe);
    let mut model_dir = None;
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("error: `{flag}` needs a value");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--addr" => match value.parse() {
                Ok(a) => cfg.addr = a,
                Err(e) => {
                    eprintln!("error: --addr `{value}`: {e}");
                    return ExitCode::from(2);
                }
            },
            "--root" => cfg.root = PathBuf::from(value),
            "--model-dir" => model_dir = Some(PathBuf::from(value)),
            "--exe" => cfg.exe = PathBuf::from(value),
            "--body-limit" => match value.parse() {
                Ok(n) => cfg.body_limit = n,
                Err(e) => {
                    eprintln!("error: --body-limit `{value}`: {e}");
                    return ExitCode::from(2);
                }
            },
            "--cors" => cfg.cors_origins.push(value),
            other => {
                eprintln!("error: unknown flag `{other}`");
                return ExitCode::from(2);
            }
        }
    }
    cfg.model_dir = model_dir.unwrap_or_else(|| cfg.root.join("final_model"));
    cfg.token = std::env::var("NETSEC_SERVE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    match netsec_serve::run_blocking(cfg, |started| {
        eprintln!("serving on {}", started.url);
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
