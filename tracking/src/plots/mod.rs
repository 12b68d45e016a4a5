//! Declared plots (`[plots.NAME]` in pipeline.toml, and outs marked `plot = true`): the spec,
//! the data files (CSV, TSV, JSON, JSON Lines), the SVG of one plot with one series per
//! revision and y column, and the self-contained page of `netsec plots show/diff`. The binary
//! reads the data (workspace, git, cache) and hands it over as bytes.

pub mod data;
pub mod page;
pub mod spec;
pub mod svg;

pub use data::{parse as parse_data, Cell, Frame};
pub use page::{figures, page, Rendered};
pub use spec::{is_data_file, parse_table, PlotSpec, SpecError, Template};
pub use svg::{render, series, Series};
