//! Reading a [`Model`] without holding its whole text as a tree. serde's derive for a
//! `kind`-tagged enum buffers the entire object before it looks at the tag: for a 300-tree
//! forest plus boosting (21 MB of JSON at a million rows) that transient tree took about
//! 200 MiB, ten times the file. Models are written as canonical JSON (keys sorted), so `kind`
//! follows only small fields (`base_score`, `importance`); those few are held as JSON values,
//! the tag picks the variant, and the large rest (`members`, `params`, `trees`) is decoded
//! straight into it. A file whose keys come in another order still reads: whatever precedes
//! `kind` is held, as serde would hold it.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::model::Model;

/// The tag's values: the variant names of [`Model`], as written.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Logistic,
    Svm,
    Tree,
    Forest,
    Boosting,
    Vote,
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ModelVisitor)
    }
}

struct ModelVisitor;

impl<'de> Visitor<'de> for ModelVisitor {
    type Value = Model;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a model object with a `kind` field")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Model, A::Error> {
        let mut before: Vec<(String, Value)> = Vec::new();
        let kind = loop {
            match map.next_key::<String>()? {
                None => return Err(de::Error::missing_field("kind")),
                Some(k) if k == "kind" => break map.next_value::<Kind>()?,
                Some(k) => {
                    let v = map.next_value::<Value>()?;
                    before.push((k, v));
                }
            }
        };
        let rest = MapAccessDeserializer::new(Rest {
            held: before.into_iter(),
            value: None,
            live: map,
        });
        Ok(match kind {
            Kind::Logistic => Model::Logistic(Deserialize::deserialize(rest)?),
            Kind::Svm => Model::Svm(Deserialize::deserialize(rest)?),
            Kind::Tree => Model::Tree(Deserialize::deserialize(rest)?),
            Kind::Forest => Model::Forest(Deserialize::deserialize(rest)?),
            Kind::Boosting => Model::Boosting(Deserialize::deserialize(rest)?),
            Kind::Vote => Model::Vote(Deserialize::deserialize(rest)?),
        })
    }
}

/// The object without its tag: the fields held while looking for `kind`, then the ones not
/// read yet, straight from the input.
struct Rest<A> {
    held: std::vec::IntoIter<(String, Value)>,
    /// The value of the held key just returned.
    value: Option<Value>,
    live: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.held.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(StringDeserializer::<A::Error>::new(k))
                    .map(Some)
            }
            None => self.live.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(v).map_err(de::Error::custom),
            None => self.live.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use serde_json::Map;

    use super::*;
    use crate::{BoostingParams, ForestParams, Params, VoteParams};

    /// A vote of a 3-tree forest and 4-round boosting fitted on a small XOR-like table.
    fn vote() -> Model {
        let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i >> j) & 1) as f64);
        let y: Vec<u8> = (0..40)
            .map(|i| u8::from((i & 1) ^ ((i >> 1) & 1) == 1))
            .collect();
        let params = Params::Vote(VoteParams {
            members: vec![
                Params::Forest(ForestParams {
                    n_trees: 3,
                    ..Default::default()
                }),
                Params::Boosting(BoostingParams {
                    n_rounds: 4,
                    ..Default::default()
                }),
            ],
        });
        params.fit(x.view(), &y, 5).expect("fit")
    }

    /// `value`'s object text with its keys in `order` (every key, once), nested objects as
    /// serde_json writes them.
    fn in_order(value: &Map<String, Value>, order: &[&str]) -> String {
        assert_eq!(order.len(), value.len(), "{order:?}");
        let fields: Vec<String> = order
            .iter()
            .map(|k| format!("{:?}:{}", k, value[*k]))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    fn object(m: &Model) -> Map<String, Value> {
        match serde_json::to_value(m).expect("to value") {
            Value::Object(o) => o,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn reads_the_tag_wherever_it_stands() {
        let m = vote();
        let Model::Vote(v) = &m else {
            panic!("not a vote")
        };
        let forest = object(&v.members[0]);
        // Sorted (as the canonical writer puts it): `importance` is held, the rest streams.
        let sorted = [
            "importance",
            "kind",
            "n_features",
            "params",
            "seed",
            "trees",
        ];
        // The tag last: every field is held. The tag first: nothing is.
        let last = [
            "trees",
            "seed",
            "params",
            "n_features",
            "importance",
            "kind",
        ];
        let first = [
            "kind",
            "trees",
            "seed",
            "params",
            "n_features",
            "importance",
        ];
        for order in [sorted, last, first] {
            let text = in_order(&forest, &order);
            let back: Model = serde_json::from_str(&text).expect(&text);
            assert_eq!(back, v.members[0], "{order:?}");
        }
        // The whole vote, members nested, in serde's own order and sorted.
        let text = serde_json::to_string(&m).expect("json");
        assert_eq!(serde_json::from_str::<Model>(&text).expect("vote"), m);
        let boosting = object(&v.members[1]);
        let members = format!(
            "[{},{}]",
            in_order(&forest, &sorted),
            in_order(
                &boosting,
                &[
                    "base_score",
                    "importance",
                    "kind",
                    "n_features",
                    "params",
                    "trees"
                ]
            )
        );
        let text = format!("{{\"kind\":\"vote\",\"members\":{members}}}");
        assert_eq!(
            serde_json::from_str::<Model>(&text).expect("sorted vote"),
            m
        );
        // From an already parsed value too (the deserializer is not only serde_json's reader).
        let value: Value = serde_json::from_str(&text).expect("value");
        assert_eq!(Model::deserialize(value).expect("from value"), m);
    }

    #[test]
    fn a_missing_or_unknown_tag_or_a_bad_field_is_an_error() {
        let missing = serde_json::from_str::<Model>("{\"trees\":[]}").expect_err("refused");
        assert!(
            missing.to_string().contains("missing field `kind`"),
            "{missing}"
        );
        let unknown = serde_json::from_str::<Model>("{\"kind\":\"bogus\"}").expect_err("refused");
        assert!(
            unknown.to_string().contains("unknown variant `bogus`"),
            "{unknown}"
        );
        let not_object = serde_json::from_str::<Model>("[1]").expect_err("refused");
        assert!(
            not_object.to_string().contains("a model object"),
            "{not_object}"
        );
        // A held field of the wrong type and a streamed one both fail, naming the problem.
        let held = serde_json::from_str::<Model>(
            "{\"importance\":\"x\",\"kind\":\"forest\",\"n_features\":1,\"params\":{},\"seed\":1,\"trees\":[]}",
        )
        .expect_err("refused");
        assert!(held.to_string().contains("invalid type"), "{held}");
        let streamed = serde_json::from_str::<Model>(
            "{\"importance\":[],\"kind\":\"forest\",\"n_features\":1,\"params\":{},\"seed\":1,\"trees\":7}",
        )
        .expect_err("refused");
        assert!(streamed.to_string().contains("invalid type"), "{streamed}");
        let short =
            serde_json::from_str::<Model>("{\"kind\":\"forest\",\"seed\":1}").expect_err("refused");
        assert!(short.to_string().contains("missing field"), "{short}");
    }
}
