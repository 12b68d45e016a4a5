//! BSON values → the text cells `Frame::from_source` parses, coerced by the schema's dtype.
//!
//! A typed source writes text so that every source goes through the same checks and messages
//! (`column X, line N: `2.5` is not an int64`). The rules:
//! - Int32 / Int64 → the integer; Double → the integer when integral for an int64 column, else
//!   its shortest round-trip text (`2.5`, which the frame then rejects for an int64 column);
//! - Null, Undefined and a NaN double (how pandas writes a missing number) → an empty cell,
//!   which the frame accepts only in a nullable column;
//! - anything else (a string, even `"1"`, a boolean, a document…) → a quoted or bracketed text
//!   the frame rejects as the wrong type: a schema says numbers, so text is not silently parsed.

use std::io::Write;

use mongodb::bson::RawBsonRef;
use netsec_stages::Dtype;

/// Appends the cell text of `value` for a column of `dtype` to `out` (empty = missing).
pub fn write_cell(value: RawBsonRef<'_>, dtype: Dtype, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = match value {
        RawBsonRef::Int32(i) => write!(out, "{i}"),
        RawBsonRef::Int64(i) => write!(out, "{i}"),
        RawBsonRef::Double(d) if d.is_nan() => Ok(()),
        RawBsonRef::Double(d) => match dtype {
            Dtype::Int64 if d.fract() == 0.0 && d.abs() < 9.0e15 => write!(out, "{}", d as i64),
            _ => write!(out, "{d}"),
        },
        RawBsonRef::Null | RawBsonRef::Undefined => Ok(()),
        RawBsonRef::String(s) => write!(out, "{s:?}"),
        RawBsonRef::Boolean(b) => write!(out, "{b}"),
        RawBsonRef::Decimal128(d) => write!(out, "<decimal128 {d:?}>"),
        other => write!(out, "<{:?}>", other.element_type()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(v: RawBsonRef<'_>, dtype: Dtype) -> String {
        let mut out = Vec::new();
        write_cell(v, dtype, &mut out);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn numbers_by_dtype() {
        assert_eq!(cell(RawBsonRef::Int32(-1), Dtype::Int64), "-1");
        assert_eq!(
            cell(RawBsonRef::Int64(1 << 40), Dtype::Int64),
            "1099511627776"
        );
        assert_eq!(cell(RawBsonRef::Double(1.0), Dtype::Int64), "1");
        assert_eq!(cell(RawBsonRef::Double(-0.0), Dtype::Int64), "0");
        assert_eq!(cell(RawBsonRef::Double(2.5), Dtype::Int64), "2.5");
        assert_eq!(cell(RawBsonRef::Double(0.1), Dtype::Float64), "0.1");
        assert_eq!(cell(RawBsonRef::Double(3.0), Dtype::Float64), "3");
        assert_eq!(cell(RawBsonRef::Int32(7), Dtype::Float64), "7");
    }

    #[test]
    fn missing_and_wrong_types() {
        assert_eq!(cell(RawBsonRef::Null, Dtype::Int64), "");
        assert_eq!(cell(RawBsonRef::Double(f64::NAN), Dtype::Float64), "");
        assert_eq!(cell(RawBsonRef::String("1"), Dtype::Int64), "\"1\"");
        assert_eq!(cell(RawBsonRef::Boolean(true), Dtype::Int64), "true");
        assert!(cell(RawBsonRef::MaxKey, Dtype::Int64).starts_with('<'));
    }
}
