//! Canonical JSON: the one encoding netsec hashes and writes.
//!
//! Object keys are sorted (by their UTF-8 bytes) at every depth, integers print as integers,
//! floats as their shortest round-trip form (`-0.0` as `0.0`), strings with serde_json's escapes.
//! The bytes depend on the value only, never on how the binary was built: serde_json's
//! `preserve_order` feature (switched on for the whole build by `bson`) changes the order of its
//! `Map`, so nothing here relies on that order. Changing this encoding changes every fingerprint
//! (the lock format version must be bumped with it; a test in the engine pins one).
//!
//! The writer is a serde `Serializer` that writes the bytes as it goes (no `serde_json::Value`
//! tree: a model of millions of numbers would take several times its text's size as a tree).
//! Each object's entries are written in the order they come; when that order is not sorted, the
//! object's bytes are reordered in place once it ends, so memory peaks at the output plus the
//! largest unsorted object. The bytes are those of `serde_json::to_value` followed by a sorted
//! walk of the tree (a duplicate key keeps its last value, as in a `Value` map).

use std::borrow::Cow;
use std::io::Write as _;

use serde::ser::{self, Serialize};
use serde_json::{Error, Number, Value};

type Result<T> = std::result::Result<T, Error>;

/// Compact canonical bytes of `value` (no whitespace, no trailing newline).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut w = Writer {
        out: Vec::with_capacity(256),
        indent: None,
    };
    value.serialize(Ser {
        w: &mut w,
        depth: 0,
    })?;
    Ok(w.out)
}

/// Pretty canonical text of `value`: two-space indent, sorted keys, a final newline.
pub fn to_vec_pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut w = Writer {
        out: Vec::with_capacity(1024),
        indent: Some(2),
    };
    value.serialize(Ser {
        w: &mut w,
        depth: 0,
    })?;
    w.out.push(b'\n');
    Ok(w.out)
}

/// [`to_vec_pretty`] as a `String`.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    // The writer only emits UTF-8 (keys and strings come from `str`s).
    to_vec_pretty(value).map(into_string)
}

/// [`to_vec`] as a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    to_vec(value).map(into_string)
}

/// The writer's bytes as a `String`, without a copy (they are UTF-8; should they ever not be,
/// the lossy conversion keeps the result well-formed).
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

struct Writer {
    out: Vec<u8>,
    indent: Option<usize>,
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        if let Some(step) = self.indent {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + step * depth, b' ');
        }
    }

    fn str(&mut self, s: &str) {
        // serde_json's string escaping is the same in every feature set.
        if serde_json::to_writer(&mut self.out, s).is_err() {
            self.out.extend_from_slice(b"\"\"");
        }
    }

    fn f64(&mut self, f: f64) {
        // As `Value::from(f64)` then printed: NaN and infinities are `null`, -0.0 is 0.0.
        let f = if f == 0.0 { 0.0 } else { f };
        match Number::from_f64(f) {
            Some(n) => {
                let _ = write!(self.out, "{n}");
            }
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn int(&mut self, v: impl std::fmt::Display) {
        let _ = write!(self.out, "{v}");
    }

    /// `"key":` (with a space when pretty), on its own line when pretty.
    fn key(&mut self, key: &str, depth: usize) {
        self.newline(depth);
        self.str(key);
        self.out.push(b':');
        if self.indent.is_some() {
            self.out.push(b' ');
        }
    }
}

/// Serializes one value at `depth` into the writer.
struct Ser<'a> {
    w: &'a mut Writer,
    depth: usize,
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Variant<Seq<'a>>;
    type SerializeMap = Obj<'a>;
    type SerializeStruct = Obj<'a>;
    type SerializeStructVariant = Variant<Obj<'a>>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.w
            .out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.w.int(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
            self.w.int(v);
            Ok(())
        } else {
            Err(ser::Error::custom("number out of range"))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.w.int(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        if u64::try_from(v).is_ok() {
            self.w.int(v);
            Ok(())
        } else {
            Err(ser::Error::custom("number out of range"))
        }
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.w.f64(f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.w.f64(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.w.str(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.w.str(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.w.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let depth = self.depth;
        self.w.out.push(b'{');
        self.w.key(variant, depth + 1);
        value.serialize(Ser {
            w: &mut *self.w,
            depth: depth + 1,
        })?;
        self.w.newline(depth);
        self.w.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>> {
        self.w.out.push(b'[');
        Ok(Seq {
            w: self.w,
            depth: self.depth,
            count: 0,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Seq<'a>>> {
        let depth = self.depth;
        self.w.out.push(b'{');
        self.w.key(variant, depth + 1);
        let inner = Ser {
            w: self.w,
            depth: depth + 1,
        }
        .serialize_seq(Some(len))?;
        Ok(Variant { inner, depth })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Obj<'a>> {
        self.w.out.push(b'{');
        Ok(Obj {
            w: self.w,
            depth: self.depth,
            entries: Vec::new(),
            pending: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Obj<'a>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Obj<'a>>> {
        let depth = self.depth;
        self.w.out.push(b'{');
        self.w.key(variant, depth + 1);
        let inner = Ser {
            w: self.w,
            depth: depth + 1,
        }
        .serialize_map(Some(len))?;
        Ok(Variant { inner, depth })
    }
}

/// An array being written.
struct Seq<'a> {
    w: &'a mut Writer,
    depth: usize,
    count: usize,
}

impl<'a> Seq<'a> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if self.count > 0 {
            self.w.out.push(b',');
        }
        self.count += 1;
        self.w.newline(self.depth + 1);
        value.serialize(Ser {
            w: &mut *self.w,
            depth: self.depth + 1,
        })
    }

    fn finish(self) -> &'a mut Writer {
        if self.count > 0 {
            self.w.newline(self.depth);
        }
        self.w.out.push(b']');
        self.w
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.finish();
        Ok(())
    }
}

/// An object being written: each entry's key and where its bytes (leading newline and
/// indent, key, value; not the separating comma) lie in the output.
struct Obj<'a> {
    w: &'a mut Writer,
    depth: usize,
    entries: Vec<(Cow<'static, str>, usize, usize)>,
    pending: Option<String>,
}

impl<'a> Obj<'a> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: Cow<'static, str>, value: &T) -> Result<()> {
        if !self.entries.is_empty() {
            self.w.out.push(b',');
        }
        let start = self.w.out.len();
        self.w.key(&key, self.depth + 1);
        value.serialize(Ser {
            w: &mut *self.w,
            depth: self.depth + 1,
        })?;
        self.entries.push((key, start, self.w.out.len()));
        Ok(())
    }

    fn finish(mut self) -> &'a mut Writer {
        if self.entries.is_empty() {
            self.w.out.push(b'}');
            return self.w;
        }
        let sorted = self
            .entries
            .windows(2)
            .all(|p| p[0].0.as_bytes() < p[1].0.as_bytes());
        if !sorted {
            let base = self.entries[0].1;
            let written = self.w.out.split_off(base);
            // Stable: of equal keys the last written comes last, and is the one kept.
            self.entries
                .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let n = self.entries.len();
            let mut first = true;
            for i in 0..n {
                if i + 1 < n && self.entries[i].0 == self.entries[i + 1].0 {
                    continue;
                }
                if !first {
                    self.w.out.push(b',');
                }
                first = false;
                let (_, s, e) = &self.entries[i];
                self.w.out.extend_from_slice(&written[s - base..e - base]);
            }
        }
        self.w.newline(self.depth);
        self.w.out.push(b'}');
        self.w
    }
}

/// A map key as `serde_json::to_value` would make it (strings, numbers, booleans, unit
/// variants; anything else is serde_json's "key must be a string" error).
fn map_key<K: Serialize + ?Sized>(key: &K) -> Result<String> {
    // Nearly every key is a string (paths, stage and param names, unit variants): a key that
    // serializes as a string is that string for serde_json's map too, so it is taken without
    // building a one-entry map around it.
    if let Ok(Value::String(s)) = serde_json::to_value(key) {
        return Ok(s);
    }
    struct One<'k, K: ?Sized>(&'k K);
    impl<K: Serialize + ?Sized> Serialize for One<'_, K> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            use ser::SerializeMap as _;
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(self.0, &())?;
            m.end()
        }
    }
    match serde_json::to_value(One(key))? {
        Value::Object(m) => m
            .into_iter()
            .next()
            .map(|(k, _)| k)
            .ok_or_else(|| ser::Error::custom("key must be a string")),
        _ => Err(ser::Error::custom("key must be a string")),
    }
}

impl ser::SerializeMap for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.pending = Some(map_key(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .pending
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("map value without a key"))?;
        self.entry(Cow::Owned(key), value)
    }
    fn end(self) -> Result<()> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Obj<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.entry(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<()> {
        self.finish();
        Ok(())
    }
}

/// `{"variant": inner}`: the inner array or object, then the wrapper's closing brace.
struct Variant<I> {
    inner: I,
    depth: usize,
}

impl<I> Variant<I> {
    fn close(depth: usize, w: &mut Writer) -> Result<()> {
        w.newline(depth);
        w.out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Variant<Seq<'_>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.inner.element(value)
    }
    fn end(self) -> Result<()> {
        Self::close(self.depth, self.inner.finish())
    }
}

impl ser::SerializeStructVariant for Variant<Obj<'_>> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.inner.entry(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<()> {
        Self::close(self.depth, self.inner.finish())
    }
}

/// The writer this module had before the streaming one: `serde_json::to_value`, then a sorted
/// walk of the tree. Kept as the tests' reference for the bytes.
#[cfg(test)]
mod tree {
    use serde_json::{Number, Value};

    pub(super) fn to_vec(v: &Value, indent: Option<usize>) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, v, indent, 0);
        if indent.is_some() {
            out.push(b'\n');
        }
        out
    }

    fn newline(out: &mut Vec<u8>, indent: Option<usize>, depth: usize) {
        if let Some(step) = indent {
            out.push(b'\n');
            out.resize(out.len() + step * depth, b' ');
        }
    }

    fn write_str(out: &mut Vec<u8>, s: &str) {
        // serde_json's string escaping is the same in every feature set.
        if serde_json::to_writer(&mut *out, s).is_err() {
            out.extend_from_slice(b"\"\"");
        }
    }

    fn write_number(out: &mut Vec<u8>, n: &Number) {
        if let Some(i) = n.as_i64() {
            out.extend_from_slice(i.to_string().as_bytes());
        } else if let Some(u) = n.as_u64() {
            out.extend_from_slice(u.to_string().as_bytes());
        } else {
            let f = n.as_f64().unwrap_or(0.0);
            let f = if f == 0.0 { 0.0 } else { f };
            match Number::from_f64(f) {
                Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
                None => out.extend_from_slice(b"null"),
            }
        }
    }

    fn write_value(out: &mut Vec<u8>, v: &Value, indent: Option<usize>, depth: usize) {
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) => write_number(out, n),
            Value::String(s) => write_str(out, s),
            Value::Array(items) => {
                if items.is_empty() {
                    out.extend_from_slice(b"[]");
                    return;
                }
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    newline(out, indent, depth + 1);
                    write_value(out, item, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push(b']');
            }
            Value::Object(map) => {
                if map.is_empty() {
                    out.extend_from_slice(b"{}");
                    return;
                }
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (i, (k, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    newline(out, indent, depth + 1);
                    write_str(out, k);
                    out.push(b':');
                    if indent.is_some() {
                        out.push(b' ');
                    }
                    write_value(out, item, indent, depth + 1);
                }
                newline(out, indent, depth);
                out.push(b'}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    #[test]
    fn keys_sorted_at_every_depth_whatever_the_insertion_order() {
        let mut a = serde_json::Map::new();
        a.insert("z".into(), json!([{"b": 1, "a": 2}]));
        a.insert("a".into(), json!({"y": 1.5, "x": -0.0}));
        let text = to_string(&Value::Object(a)).unwrap();
        assert_eq!(text, r#"{"a":{"x":0.0,"y":1.5},"z":[{"a":2,"b":1}]}"#);
    }

    #[test]
    fn pretty_form_is_stable() {
        let text = to_string_pretty(&json!({"b": [], "a": {"c": "é\n"}, "n": 1e300})).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"c\": \"é\\n\"\n  },\n  \"b\": [],\n  \"n\": 1e+300\n}\n"
        );
    }

    #[test]
    fn integers_stay_integers_and_floats_round_trip() {
        let text = to_string(&json!([1, 1.0, u64::MAX, i64::MIN, 0.1])).unwrap();
        assert_eq!(
            text,
            "[1,1.0,18446744073709551615,-9223372036854775808,0.1]"
        );
    }

    /// Same bytes as the tree writer, compact and pretty, for `value`.
    fn same_as_tree<T: Serialize>(value: &T) {
        let tree = serde_json::to_value(value).expect("to_value");
        assert_eq!(
            String::from_utf8(to_vec(value).expect("compact")).expect("utf8"),
            String::from_utf8(tree::to_vec(&tree, None)).expect("utf8")
        );
        assert_eq!(
            String::from_utf8(to_vec_pretty(value).expect("pretty")).expect("utf8"),
            String::from_utf8(tree::to_vec(&tree, Some(2))).expect("utf8")
        );
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(Vec<f64>),
        Tuple(i8, Option<u8>),
        Struct { z: f32, a: Option<String> },
    }

    #[derive(Serialize)]
    struct Inner(i32);

    #[derive(Serialize)]
    struct Unordered {
        zeta: Vec<Shape>,
        alpha: std::collections::HashMap<String, Vec<u64>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        mid: (char, bool, (), Inner),
        by_number: std::collections::BTreeMap<i64, &'static str>,
        by_variant: std::collections::BTreeMap<Key, u8>,
        empty_map: std::collections::HashMap<String, u8>,
        empty_seq: Vec<Vec<u8>>,
        nested_empty: Vec<std::collections::BTreeMap<String, u8>>,
        big: (i128, u128, u64, i64),
        #[serde(with = "serde_bytes_like")]
        bytes: Vec<u8>,
        text: String,
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Zed,
        Aye,
    }

    mod serde_bytes_like {
        pub fn serialize<S: serde::Serializer>(
            v: &[u8],
            s: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn streaming_writer_matches_the_tree_writer() {
        let mut alpha = std::collections::HashMap::new();
        for k in ["b", "a", "é", "A", "aa", "", "z\"q"] {
            alpha.insert(k.to_string(), vec![k.len() as u64, u64::MAX]);
        }
        let value = Unordered {
            zeta: vec![
                Shape::Unit,
                Shape::Newtype(vec![
                    0.1,
                    -0.0,
                    f64::NAN,
                    f64::INFINITY,
                    1e300,
                    5.0,
                    -2.5e-8,
                ]),
                Shape::Newtype(vec![]),
                Shape::Tuple(-3, None),
                Shape::Struct {
                    z: 0.1,
                    a: Some("x\n\u{1}".into()),
                },
                Shape::Struct {
                    z: f32::NAN,
                    a: None,
                },
            ],
            alpha,
            skipped: None,
            mid: ('\u{e9}', true, (), Inner(-7)),
            by_number: [(10, "ten"), (-1, "minus"), (2, "two")]
                .into_iter()
                .collect(),
            by_variant: [(Key::Zed, 1), (Key::Aye, 2)].into_iter().collect(),
            empty_map: Default::default(),
            empty_seq: vec![vec![], vec![1]],
            nested_empty: vec![Default::default()],
            big: (i128::from(i64::MIN), u128::from(u64::MAX), 0, -1),
            bytes: vec![0, 255],
            text: "tab\there".into(),
        };
        same_as_tree(&value);
        same_as_tree(&vec![Some(1.5), None]);
        same_as_tree(
            &serde_json::json!({"z": {"b": [1, {"d": null, "c": true}], "a": 0.5}, "m": "s"}),
        );
        same_as_tree(&Shape::Tuple(1, Some(2)));
        same_as_tree(&Shape::Unit);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_as_a_tree_does() {
        struct Dup;
        impl Serialize for Dup {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("b", &1)?;
                m.serialize_entry("a", &2)?;
                m.serialize_entry("b", &3)?;
                m.end()
            }
        }
        same_as_tree(&Dup);
        assert_eq!(to_string(&Dup).unwrap(), r#"{"a":2,"b":3}"#);
    }

    #[test]
    fn every_kind_of_map_key_is_taken_as_a_tree_takes_it() {
        use std::collections::BTreeMap;
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        struct Name(String);
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        enum Kind {
            Zeta,
            Alpha,
        }
        let strs: BTreeMap<&str, u8> = [("b\"q", 1), ("a\n", 2), ("é", 3)].into();
        same_as_tree(&strs);
        let newtypes: BTreeMap<Name, u8> = [(Name("y".into()), 1), (Name("x".into()), 2)].into();
        same_as_tree(&newtypes);
        let ints: BTreeMap<i64, u8> = [(10, 1), (-2, 2), (9, 3)].into();
        same_as_tree(&ints);
        let bools: BTreeMap<bool, u8> = [(true, 1), (false, 2)].into();
        same_as_tree(&bools);
        let variants: BTreeMap<Kind, u8> = [(Kind::Zeta, 1), (Kind::Alpha, 2)].into();
        same_as_tree(&variants);
        assert_eq!(to_string(&ints).unwrap(), r#"{"-2":2,"10":1,"9":3}"#);
    }

    #[test]
    fn out_of_range_numbers_and_non_string_keys_are_errors() {
        assert!(to_vec(&i128::MAX).is_err());
        assert!(to_vec(&u128::MAX).is_err());
        let m: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into_iter().collect();
        assert!(to_vec(&m).is_err());
        assert!(serde_json::to_value(&m).is_err());
    }
}
