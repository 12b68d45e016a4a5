//! Rendering `netsec_engine::progress` tasks: indicatif bars on a terminal, plain lines otherwise
//! (CI logs, pipes, `--json`), nothing with `--quiet`. Every other stderr line goes through
//! [`line`], so it prints above the bars instead of through them.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use netsec_engine::progress::{ProgressSink, TaskHandle, Unit};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bars,
    Lines,
    Off,
}

impl Mode {
    /// Bars on an interactive stderr; lines when it is not one or when the command's output
    /// is machine-readable (`--json`); nothing with `--quiet`.
    pub fn detect(quiet: bool, json: bool) -> Mode {
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        if quiet {
            Mode::Off
        } else if json || dumb || !std::io::stderr().is_terminal() {
            Mode::Lines
        } else {
            Mode::Bars
        }
    }
}

static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Installs the sink for `mode` (once per process).
pub fn install(mode: Mode) {
    match mode {
        Mode::Off => {}
        Mode::Lines => netsec_engine::progress::set_sink(Arc::new(Lines)),
        Mode::Bars => {
            let mp =
                BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
            netsec_engine::progress::set_sink(Arc::new(Bars { mp: mp.clone() }));
        }
    }
}

/// Prints one line on stderr, above any live bars.
pub fn line(s: &str) {
    match BARS.get() {
        Some(mp) => mp.suspend(|| crate::errln!("{s}")),
        None => crate::errln!("{s}"),
    }
}

struct Bars {
    mp: MultiProgress,
}

impl ProgressSink for Bars {
    fn start(&self, label: &str, total: u64, unit: Unit) -> Box<dyn TaskHandle> {
        let template = match unit {
            Unit::Bytes => {
                "{msg:.bold} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            }
            Unit::Items => "{msg:.bold} [{bar:30.cyan/blue}] {pos}/{len} {per_sec} eta {eta}",
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let pb = self.mp.add(ProgressBar::new(total).with_style(style));
        pb.set_message(format!("{:>12} {label}", "Progress"));
        pb.enable_steady_tick(Duration::from_millis(200));
        Box::new(BarTask(pb))
    }

    fn live(&self) -> bool {
        true
    }
}

struct BarTask(ProgressBar);

impl TaskHandle for BarTask {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
}

impl Drop for BarTask {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Plain lines: one when a task starts, one every [`LINE_EVERY`] while it runs, one at the end.
struct Lines;

const LINE_EVERY: Duration = Duration::from_secs(5);

impl ProgressSink for Lines {
    fn start(&self, label: &str, total: u64, unit: Unit) -> Box<dyn TaskHandle> {
        match unit {
            Unit::Bytes => line(&format!(
                "{:>12} {label}: {}",
                "Progress",
                amount(total, unit)
            )),
            Unit::Items => line(&format!("{:>12} {label}", "Progress")),
        }
        let now = Instant::now();
        Box::new(LineTask {
            label: label.to_string(),
            total,
            unit,
            started: now,
            state: Mutex::new((0, now)),
        })
    }

    fn live(&self) -> bool {
        false
    }
}

struct LineTask {
    label: String,
    total: u64,
    unit: Unit,
    started: Instant,
    /// Units done, time of the last line.
    state: Mutex<(u64, Instant)>,
}

impl TaskHandle for LineTask {
    fn inc(&self, n: u64) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.0 += n;
        if st.1.elapsed() >= LINE_EVERY && st.0 < self.total {
            st.1 = Instant::now();
            let pct = st.0 as f64 * 100.0 / self.total.max(1) as f64;
            line(&format!(
                "{:>12} {}: {} of {} ({pct:.0}%)",
                "Progress",
                self.label,
                amount(st.0, self.unit),
                amount(self.total, self.unit)
            ));
        }
    }
}

impl Drop for LineTask {
    fn drop(&mut self) {
        let done = self.state.lock().map(|s| s.0).unwrap_or(0);
        let secs = self.started.elapsed().as_secs_f64();
        let rate = match self.unit {
            Unit::Bytes if secs > 0.0 => format!(", {}/s", HumanBytes((done as f64 / secs) as u64)),
            _ => String::new(),
        };
        let what = match self.unit {
            Unit::Bytes => format!(": {}", amount(done, self.unit)),
            Unit::Items if done == self.total => String::new(),
            Unit::Items => format!(": {done} of {}", self.total),
        };
        line(&format!(
            "{:>12} {}{what} in {secs:.2}s{rate}",
            "Done", self.label
        ));
    }
}

fn amount(n: u64, unit: Unit) -> String {
    match unit {
        Unit::Bytes => HumanBytes(n).to_string(),
        Unit::Items => n.to_string(),
    }
}
