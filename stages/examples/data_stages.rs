//! Runs ingest → validate → transform on a CSV and prints the wall time of each step.
//! `cargo run --release -p netsec-stages --example data_stages -- data/phisingData.csv schema.yaml OUT_DIR`

use std::path::PathBuf;
use std::time::Instant;

use netsec_stages::{
    ingest, transform, validate, IngestConfig, Schema, TransformConfig, ValidateConfig,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "--read" {
        // Loading speed alone (the predict path): `--read INPUT.csv schema.yaml`.
        let schema = Schema::load(args[3].as_ref())?;
        let mut best = f64::MAX;
        let mut rows = 0;
        for _ in 0..10 {
            let t = Instant::now();
            let f = netsec_stages::Frame::read_csv(
                args[2].as_ref(),
                &schema,
                netsec_stages::LabelMode::Optional,
            )?;
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            rows = f.n_rows();
        }
        println!("read {rows} rows: best of 10 {best:.1} ms");
        return Ok(());
    }
    let [_, input, schema, out] = &args[..] else {
        return Err("usage: data_stages INPUT.csv schema.yaml OUT_DIR".into());
    };
    let out = PathBuf::from(out);
    let t0 = Instant::now();
    let schema = Schema::load(schema.as_ref())?;
    let t = Instant::now();
    let split = ingest(
        &IngestConfig::default(),
        input.as_ref(),
        &schema,
        &out.join("ingest"),
    )?;
    println!(
        "ingest     {:>7.1} ms  ({} train / {} test, {} leaked)",
        t.elapsed().as_secs_f64() * 1e3,
        split.train_rows,
        split.test_rows,
        split.leak_check.test_rows_in_train
    );
    let t = Instant::now();
    let v = validate(
        &ValidateConfig::default(),
        &out.join("ingest/train.csv"),
        &out.join("ingest/test.csv"),
        None,
        &schema,
        &out.join("validate"),
    );
    println!(
        "validate   {:>7.1} ms  ({})",
        t.elapsed().as_secs_f64() * 1e3,
        match &v {
            Ok(r) => r.summary.reason.clone(),
            Err(e) => e.to_string(),
        }
    );
    let t = Instant::now();
    let tr = transform(
        &TransformConfig::default(),
        &out.join("ingest/train.csv"),
        &out.join("ingest/test.csv"),
        &schema,
        &out.join("transform"),
    )?;
    println!(
        "transform  {:>7.1} ms  ({} + {} rows)",
        t.elapsed().as_secs_f64() * 1e3,
        tr.train_rows,
        tr.test_rows
    );
    println!("total      {:>7.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
