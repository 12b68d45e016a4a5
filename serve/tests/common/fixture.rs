//! A real model bundle for the tests: a random forest trained on half of the bundled dataset
//! (`variant` picks the half and the seed, so two variants differ), scored on the other half,
//! packed as `netsec_stages::ModelBundle` exactly as the evaluate stage does.

use netsec_models::{ForestParams, Params};
use netsec_stages::{
    Frame, KnnImputer, LabelMode, ModelBundle, Preprocessor, Schema, TestMetrics, BUNDLE_FORMAT,
};
use serde_json::json;

use super::repo_root;

pub fn build_bundle(variant: u64) -> Vec<u8> {
    let root = repo_root();
    let schema = Schema::load(&root.join("schema.yaml")).expect("schema.yaml");
    let frame = Frame::read_csv(
        &root.join("data/phisingData.csv"),
        &schema,
        LabelMode::Required,
    )
    .expect("dataset");
    let classes = frame.classes(&schema).expect("labels");
    let (train, test): (Vec<usize>, Vec<usize>) =
        (0..frame.n_rows()).partition(|i| (*i as u64 + variant).is_multiple_of(2));
    let tr = frame.select(&train);
    let te = frame.select(&test);
    let y_tr: Vec<u8> = train.iter().map(|&i| classes[i]).collect();
    let y_te: Vec<u8> = test.iter().map(|&i| classes[i]).collect();
    let preprocessor = Preprocessor {
        format: 1,
        features: schema.feature_names(),
        imputer: KnnImputer::fit(&tr.features, 3).expect("imputer"),
    };
    let params = Params::Forest(ForestParams {
        n_trees: 40,
        ..Default::default()
    });
    let model = params
        .fit(tr.features.view(), &y_tr, 42 + variant)
        .expect("fit");
    let proba = model.predict_proba(te.features.view()).expect("predict");
    let bundle = ModelBundle {
        format_version: BUNDLE_FORMAT,
        schema,
        preprocessor,
        model,
        metrics: TestMetrics::score(&y_te, proba.as_slice().expect("contiguous")),
        training_data_digest: format!("test-fixture-half-{variant}"),
        refit: None,
        params: json!({"train": {"models": ["forest"], "n_trees": 40, "seed": 42 + variant}}),
        netsec_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: Some(format!("2026-11-22T00:00:0{variant}Z")),
    };
    serde_json::to_vec(&bundle).expect("json")
}
