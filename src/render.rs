//! Human rendering: status lines and errors on stderr, colour only on a terminal without
//! `NO_COLOR`, logging through `tracing`.

use std::io::IsTerminal;

use netsec_engine::{Error, Event, Outcome, RestoreSource, StageReport};

pub fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(color_enabled())
        .try_init();
}

fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Output settings of one invocation.
#[derive(Debug, Clone)]
pub struct Ui {
    pub verbose: u8,
    pub quiet: bool,
    color: bool,
}

impl Ui {
    pub fn new(verbose: u8, quiet: bool) -> Ui {
        Ui {
            verbose,
            quiet,
            color: color_enabled(),
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// A right-aligned verb and a message, cargo style, on stderr.
    pub fn status(&self, verb: &str, color: &str, msg: &str) {
        if !self.quiet {
            crate::progress::line(&self.status_text(verb, color, msg));
        }
    }

    fn status_text(&self, verb: &str, color: &str, msg: &str) -> String {
        format!(
            "{} {msg}",
            self.paint(&format!("1;{color}"), &format!("{verb:>12}"))
        )
    }

    /// The lines of stages found fresh all at once, as [`Ui::event`] would print them one by
    /// one, in a single write (10,000 stages: one write, not 10,000).
    pub fn skipped_all(&self, reports: &[StageReport]) {
        if self.quiet || reports.is_empty() {
            return;
        }
        let lines: Vec<String> = reports
            .iter()
            .map(|r| self.status_text("Skipping", "2", &format!("`{}` (fresh)", r.stage)))
            .collect();
        crate::progress::line(&lines.join("\n"));
    }

    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            crate::progress::line(&format!("{}: {msg}", self.paint("1;33", "warning")));
        }
    }

    pub fn error_text(&self, msg: &str, hint: Option<&str>) {
        crate::progress::line(&format!("{}: {msg}", self.paint("1;31", "error")));
        if let Some(h) = hint {
            crate::progress::line(&format!("\n{}: {h}", self.paint("1;36", "hint")));
        }
    }

    pub fn error(&self, e: &Error) {
        let msg = match e {
            Error::Pipeline(p) => {
                let mut m = format!("failed to load the pipeline: {p}");
                if let Some(loc) = &p.location {
                    if let Some(line) = &p.source_line {
                        let gutter = loc.line.to_string();
                        m.push_str(&format!(
                            "\n {} |\n {gutter} | {line}\n {} | {}^",
                            " ".repeat(gutter.len()),
                            " ".repeat(gutter.len()),
                            " ".repeat(loc.col.saturating_sub(1))
                        ));
                    }
                }
                m
            }
            Error::Locked { .. } => format!("failed to lock the repository: {e}"),
            other => other.to_string(),
        };
        self.error_text(&msg, e.hint().as_deref());
    }

    /// Render one executor event as human lines on stderr.
    pub fn event(&self, ev: Event<'_>) {
        match ev {
            Event::Started { stage, reasons } => {
                self.status("Running", "32", &format!("`{stage}`"));
                if self.verbose > 0 && !reasons.is_empty() {
                    crate::progress::line(&format!(
                        "             because {}",
                        netsec_engine::dirty_reason::join(reasons)
                    ));
                }
            }
            Event::Progress { stage, message } => {
                if !self.quiet {
                    crate::progress::line(&format!("{:>12} `{stage}`: {message}", ""));
                }
            }
            Event::Finished(r) => self.finished(r),
        }
    }

    fn finished(&self, r: &StageReport) {
        let name = format!("`{}`", r.stage);
        match r.outcome {
            Outcome::Ran => self.status(
                "Finished",
                "32",
                &format!("{name} in {}", secs(r.duration_ms)),
            ),
            Outcome::Restored => {
                let from = r.restored_from.unwrap_or(RestoreSource::RunCache);
                self.status(
                    "Restored",
                    "36",
                    &format!("{name} from {}", from.describe()),
                )
            }
            Outcome::Skipped => self.status("Skipping", "2", &format!("{name} (fresh)")),
            Outcome::Frozen => self.status("Frozen", "2", &format!("{name} (not checked)")),
            Outcome::NotRun => {
                self.status("Not run", "33", &format!("{name} (blocked by a failure)"))
            }
            Outcome::WouldRun => self.status(
                "Would run",
                "33",
                &format!("{name}: {}", netsec_engine::dirty_reason::join(&r.reasons)),
            ),
            Outcome::Failed => {
                self.status("Failed", "31", &name);
                if let Some(f) = &r.failure {
                    let mut text = format!("failed to run {name}: {}", f.message);
                    if !f.stderr_tail.is_empty() {
                        text.push_str("\n  stderr (last lines):");
                        for l in &f.stderr_tail {
                            text.push_str("\n  | ");
                            text.push_str(l);
                        }
                    }
                    self.error_text(&text, f.hint.as_deref());
                }
            }
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{:.2}s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_status_line_without_colour() {
        let ui = Ui {
            verbose: 0,
            quiet: false,
            color: false,
        };
        assert_eq!(ui.paint("1;32", "x"), "x");
        assert_eq!(secs(1234), "1.23s");
    }
}
