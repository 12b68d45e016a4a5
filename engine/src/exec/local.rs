//! The local executor: the stage's commands as child processes of netsec (each command its own
//! process group, killed at the stage's `timeout`), a built-in in-process, or, under a
//! `timeout`, in a child netsec that can be killed ([`super::job::run_child`]).

use crate::exec::{Attempt, Deadline, Executor, Request};
use crate::pipeline::Action;
use crate::run_settings::ExecutorKind;

#[derive(Debug, Default)]
pub struct Local;

impl Executor for Local {
    fn kind(&self) -> ExecutorKind {
        ExecutorKind::Local
    }

    fn run(&self, req: &Request<'_>) -> Attempt {
        let deadline = req.stage.run.timeout.map(Deadline::after);
        let result = match (&req.stage.action, deadline) {
            (Action::Builtin { .. }, Some(d)) => super::job::run_child(req, Some(d)),
            _ => crate::action::run_action_until(
                req.repo,
                req.stage,
                req.params,
                req.cancel,
                req.progress,
                deadline,
            ),
        };
        Attempt::of(result)
    }
}
