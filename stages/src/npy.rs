//! `.npy` (NumPy format 1.0) for 2-D little-endian f64 arrays, written and read by hand.

use std::path::Path;

use ndarray::Array2;

use crate::error::{Result, StageError};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The bytes of a C-order `<f8` 2-D array in `.npy` format 1.0.
pub fn to_npy_bytes(a: &Array2<f64>) -> Vec<u8> {
    let (r, c) = a.dim();
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({r}, {c}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + r * c * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in a.iter() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes `a` atomically as `.npy`.
pub fn write_npy(path: &Path, a: &Array2<f64>) -> Result<()> {
    crate::fsio::write_atomic(path, &to_npy_bytes(a))
}

/// Reads a 2-D `<f8` C-order `.npy` file (format 1.x, 2.x or 3.x).
pub fn read_npy(path: &Path) -> Result<Array2<f64>> {
    let bytes = std::fs::read(path).map_err(|e| StageError::read(path, e))?;
    from_npy_bytes(&bytes).map_err(|message| StageError::Artifact {
        path: path.to_path_buf(),
        message,
    })
}

fn from_npy_bytes(bytes: &[u8]) -> std::result::Result<Array2<f64>, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic)".into());
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + hlen)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    if !header.contains("'descr': '<f8'") {
        return Err(format!(
            "expected little-endian float64 ('<f8'), header is {}",
            header.trim()
        ));
    }
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
    let data = &bytes[start + hlen..];
    if data.len() != rows * cols * 8 {
        return Err(format!(
            "expected {} data bytes for shape ({rows}, {cols}), found {}",
            rows * cols * 8,
            data.len()
        ));
    }
    let values: Vec<f64> = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
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
}
