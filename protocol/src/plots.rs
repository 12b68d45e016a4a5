//! `netsec plots show --json` and `netsec plots diff --json`.

use serde::{Deserialize, Serialize};

/// The page written and what is on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotsJson {
    /// Absolute path of the HTML page.
    pub page: String,
    /// The revisions drawn, in legend order: `workspace` first, then the git revisions asked for.
    pub revisions: Vec<String>,
    pub plots: Vec<PlotJson>,
}

/// One plot: a `[plots.NAME]` table, or an out marked `plot = true` (named by its path).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotJson {
    pub name: String,
    /// The data file, relative to the workspace root.
    pub file: String,
    /// `linear`, `scatter`, `bar`, `confusion` or `smooth`.
    pub template: String,
    pub title: String,
    /// The x column; absent: the row number (or, for a `plot = true` out, its first column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y columns declared (empty for a `plot = true` out: every numeric column).
    pub y: Vec<String>,
    /// One per revision and y column drawn.
    pub series: Vec<PlotSeries>,
    /// Revisions that do not have the file (absent from git and from the cache there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Why the plot could not be drawn (a missing column, unreadable data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One line (bar group, point cloud, heat map) of a plot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotSeries {
    pub revision: String,
    pub column: String,
    /// What the legend says.
    pub label: String,
    pub points: usize,
    /// The colour of the series on the page (`#rrggbb`).
    pub color: String,
}
