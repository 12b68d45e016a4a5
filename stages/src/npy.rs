//! `.npy` (NumPy format 1.0) for 2-D little-endian float arrays, written and read by hand:
//! written as `<f4` (the pipeline's `f32` features) or `<f8`, read as `f32` from either (an
//! `<f8` file of an older `transform` holds the same codes).

use std::io::Read;
use std::path::Path;

use ndarray::{Array2, ArrayView2};
use netsec_models::Feature;

use crate::error::{Result, StageError};

const MAGIC: &[u8] = b"\x93NUMPY";

/// An element type written to `.npy`: its NumPy `descr` and little-endian bytes.
pub trait NpyValue: Feature {
    const DESCR: &'static str;
    fn put_le(self, out: &mut Vec<u8>);
}

impl NpyValue for f32 {
    const DESCR: &'static str = "<f4";
    fn put_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl NpyValue for f64 {
    const DESCR: &'static str = "<f8";
    fn put_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// The `.npy` 1.0 preamble (magic, version, header length, header) of a C-order `descr` array
/// of `rows` × `cols`.
fn preamble(descr: &str, rows: usize, cols: usize) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// The bytes of a C-order 2-D array in `.npy` format 1.0.
#[cfg(test)]
fn to_npy_bytes<T: NpyValue>(a: &Array2<T>) -> Vec<u8> {
    let mut out = Vec::new();
    write_rows(&mut out, a.view(), None).expect("writing to a Vec cannot fail");
    out
}

/// Writes `x` (with `y` as one more, last column when given) as `.npy` into `w`, row by row.
fn write_rows<T: NpyValue>(
    w: &mut dyn std::io::Write,
    x: ArrayView2<'_, T>,
    y: Option<&[u8]>,
) -> std::io::Result<()> {
    let (r, c) = x.dim();
    w.write_all(&preamble(T::DESCR, r, c + usize::from(y.is_some())))?;
    let mut row = Vec::with_capacity((c + 1) * 8);
    for (i, xs) in x.outer_iter().enumerate() {
        row.clear();
        for v in xs.iter() {
            v.put_le(&mut row);
        }
        if let Some(y) = y {
            T::from_f64(f64::from(y[i])).put_le(&mut row);
        }
        w.write_all(&row)?;
    }
    Ok(())
}

/// Writes `a` atomically as `.npy`, streamed to the file.
pub fn write_npy<T: NpyValue>(path: &Path, a: &Array2<T>) -> Result<()> {
    crate::fsio::write_atomic_with(path, |w| write_rows(w, a.view(), None))
}

/// Writes the features `x` with the classes `y` appended as the last column (the layout of
/// `train.npy`/`test.npy`) atomically as `.npy`, streamed to the file: no `x` + `y` matrix and
/// no file image in memory.
pub fn write_xy_npy<T: NpyValue>(path: &Path, x: ArrayView2<'_, T>, y: &[u8]) -> Result<()> {
    if y.len() != x.nrows() {
        return Err(StageError::Fit {
            message: format!(
                "internal: {} labels for {} rows of `{}`",
                y.len(),
                x.nrows(),
                path.display()
            ),
        });
    }
    crate::fsio::write_atomic_with(path, |w| write_rows(w, x, Some(y)))
}

/// Reads a 2-D `<f4` or `<f8` C-order `.npy` file (format 1.x, 2.x or 3.x) as `f32` (an `<f8`
/// value is rounded to the nearest `f32`: exact for the dataset's codes).
pub fn read_npy(path: &Path) -> Result<Array2<f32>> {
    let (values, rows, cols) = read_npy_values(path)?;
    Array2::from_shape_vec((rows, cols), values).map_err(|e| StageError::Artifact {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The values of a `.npy` file ([`read_npy`]'s kind), row-major, with its rows and columns.
/// The data is decoded in 1 MiB chunks straight from the file, so memory peaks at the values
/// alone, not at the values plus the file's bytes.
pub fn read_npy_values(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let artifact = |message: String| StageError::Artifact {
        path: path.to_path_buf(),
        message,
    };
    let mut f = std::fs::File::open(path).map_err(|e| StageError::read(path, e))?;
    let file_len = f.metadata().map_err(|e| StageError::read(path, e))?.len() as usize;
    let mut read = |buf: &mut [u8], what: &str| {
        f.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => artifact(what.to_string()),
            _ => StageError::read(path, e),
        })
    };
    // Magic, version and the header length (2 bytes in format 1, 4 after); then the header.
    let mut head = vec![0u8; 10];
    read(&mut head, "not a .npy file (bad magic)")?;
    if matches!(head[6], 2 | 3) {
        head.resize(12, 0);
        read(&mut head[10..], "truncated .npy header")?;
    }
    let (hlen, start) = header_span(&head).map_err(artifact)?;
    head.resize(start + hlen, 0);
    read(&mut head[start..], "truncated .npy header")?;
    let (rows, cols, width) = parse_header(&head, hlen, start).map_err(artifact)?;
    let data_len = file_len.saturating_sub(start + hlen);
    if data_len != rows * cols * width {
        return Err(artifact(format!(
            "expected {} data bytes for shape ({rows}, {cols}), found {data_len}",
            rows * cols * width
        )));
    }
    let mut values: Vec<f32> = Vec::with_capacity(rows * cols);
    // A multiple of both widths, so no value straddles two chunks.
    let mut buf = vec![0u8; 1 << 20];
    let mut left = data_len;
    while left > 0 {
        let n = left.min(buf.len());
        read(&mut buf[..n], "the .npy file shrank while it was read")?;
        decode(&buf[..n], width, &mut values);
        left -= n;
    }
    Ok((values, rows, cols))
}

/// Appends the `width`-byte (4: `<f4`, 8: `<f8`) little-endian values of `bytes` as `f32`.
fn decode(bytes: &[u8], width: usize, out: &mut Vec<f32>) {
    if width == 4 {
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    } else {
        out.extend(
            bytes.chunks_exact(8).map(|c| {
                f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32
            }),
        );
    }
}

/// The header's length and where it starts, from the first (up to 12) bytes of a file.
fn header_span(bytes: &[u8]) -> std::result::Result<(usize, usize), String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic)".into());
    }
    match bytes[6] {
        1 => Ok((u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)),
        2 | 3 if bytes.len() >= 12 => Ok((
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )),
        v => Err(format!("unsupported .npy version {v}")),
    }
}

/// The shape in the header `bytes[start..start + hlen]`, checked to be a 2-D C-order `<f4` or
/// `<f8`, and the width of one value in bytes.
fn parse_header(
    bytes: &[u8],
    hlen: usize,
    start: usize,
) -> std::result::Result<(usize, usize, usize), String> {
    let header = bytes
        .get(start..start + hlen)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    let width = if header.contains("'descr': '<f4'") {
        4
    } else if header.contains("'descr': '<f8'") {
        8
    } else {
        return Err(format!(
            "expected little-endian float32 ('<f4') or float64 ('<f8'), header is {}",
            header.trim()
        ));
    };
    if !header.contains("'fortran_order': False") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .ok_or("no shape in the .npy header")?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape `{shape}`"))
        })
        .collect::<std::result::Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(format!("expected a 2-D array, shape is ({shape})"));
    };
    Ok((rows, cols, width))
}

#[cfg(test)]
fn from_npy_bytes(bytes: &[u8]) -> std::result::Result<Array2<f32>, String> {
    let (hlen, start) = header_span(bytes)?;
    let (rows, cols, width) = parse_header(bytes, hlen, start)?;
    let data = &bytes[start + hlen..];
    if data.len() != rows * cols * width {
        return Err(format!(
            "expected {} data bytes for shape ({rows}, {cols}), found {}",
            rows * cols * width,
            data.len()
        ));
    }
    let mut values = Vec::with_capacity(rows * cols);
    decode(data, width, &mut values);
    Array2::from_shape_vec((rows, cols), values).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_header_alignment() {
        let a = Array2::from_shape_vec((2, 3), vec![1.0, -1.0, 0.0, 0.5, f64::NAN, 3.0])
            .expect("shape");
        let bytes = to_npy_bytes(&a);
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert!(std::str::from_utf8(&bytes[10..10 + hlen])
            .expect("utf8")
            .contains("'shape': (2, 3)"));
        let back = from_npy_bytes(&bytes).expect("parse");
        assert_eq!(back.dim(), (2, 3));
        assert!(back[[1, 1]].is_nan());
        assert_eq!(back[[1, 2]], 3.0);
    }

    #[test]
    fn rejects_bad_files() {
        assert!(from_npy_bytes(b"hello").is_err());
        let a = Array2::<f64>::zeros((1, 1));
        let mut bytes = to_npy_bytes(&a);
        bytes.pop();
        assert!(from_npy_bytes(&bytes)
            .expect_err("truncated")
            .contains("data bytes"));
    }

    #[test]
    fn files_are_read_in_chunks_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.npy");
        // More than one 1 MiB chunk, with a row that straddles a chunk boundary.
        let a = Array2::from_shape_fn((20_000, 7), |(i, j)| (i * 7 + j) as f64 - 0.5);
        write_npy(&path, &a).expect("write");
        let back = read_npy(&path).expect("read");
        assert_eq!(back, a.mapv(|v| v as f32));
        let mut bytes = std::fs::read(&path).expect("bytes");
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).expect("w");
        let err = read_npy(&path).expect_err("truncated").to_string();
        assert!(err.contains("data bytes") && err.contains("a.npy"), "{err}");
        std::fs::write(&path, b"\x93NUM").expect("w");
        let err = read_npy(&path).expect_err("short").to_string();
        assert!(err.contains("bad magic"), "{err}");
        std::fs::write(&path, &bytes[..40]).expect("w");
        let err = read_npy(&path).expect_err("header").to_string();
        assert!(err.contains("truncated .npy header"), "{err}");
    }

    #[test]
    fn xy_files_hold_the_class_as_the_last_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("xy.npy");
        let x = Array2::from_shape_fn((3000, 4), |(i, j)| (i % 3) as f64 - 1.0 + j as f64 * 0.5);
        let y: Vec<u8> = (0..3000).map(|i| (i % 2) as u8).collect();
        write_xy_npy(&path, x.view(), &y).expect("write");
        let mut xy = Array2::zeros((3000, 5));
        xy.slice_mut(ndarray::s![.., ..4]).assign(&x);
        for (i, v) in y.iter().enumerate() {
            xy[[i, 4]] = f64::from(*v);
        }
        assert_eq!(std::fs::read(&path).expect("read"), to_npy_bytes(&xy));
        assert!(write_xy_npy(&path, x.view(), &y[1..]).is_err());
    }

    #[test]
    fn f4_files_roundtrip_and_f8_files_read_as_the_same_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (f4, f8) = (dir.path().join("x4.npy"), dir.path().join("x8.npy"));
        // Over one 1 MiB chunk; codes, halves, a NaN.
        let mut a = Array2::from_shape_fn((40_000, 9), |(i, j)| ((i + j) % 3) as f32 - 1.0);
        a[[7, 2]] = 0.5;
        a[[39_999, 8]] = f32::NAN;
        let y: Vec<u8> = (0..40_000).map(|i| (i % 2) as u8).collect();
        write_xy_npy(&f4, a.view(), &y).expect("write f4");
        write_xy_npy(&f8, a.mapv(f64::from).view(), &y).expect("write f8");
        let bytes = std::fs::read(&f4).expect("bytes");
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert!(std::str::from_utf8(&bytes[10..10 + hlen])
            .expect("utf8")
            .contains("'descr': '<f4'"));
        assert_eq!(bytes.len(), 10 + hlen + 40_000 * 10 * 4);
        let (b4, b8) = (read_npy(&f4).expect("f4"), read_npy(&f8).expect("f8"));
        let same = |u: &Array2<f32>| {
            u.iter()
                .zip(b4.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits())
        };
        assert!(same(&b8));
        assert_eq!(b4[[7, 2]], 0.5);
        assert!(b4[[39_999, 8]].is_nan());
        assert_eq!(b4.column(9).iter().map(|&v| v as u8).collect::<Vec<_>>(), y);
        let mut bad = bytes.clone();
        let at = bad.windows(3).position(|w| w == b"<f4").expect("descr");
        bad[at..at + 3].copy_from_slice(b"<i4");
        std::fs::write(&f4, &bad).expect("w");
        let err = read_npy(&f4).expect_err("int").to_string();
        assert!(err.contains("'<f4'") && err.contains("x4.npy"), "{err}");
    }
}
