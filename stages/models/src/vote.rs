//! Soft voting: the mean of its members' probabilities. Selection builds one from the best
//! candidates of the two best families; its CV score is the mean of their out-of-fold
//! probabilities (the same folds), so it costs no extra CV fits.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::data::Feature;
use crate::error::{ModelError, Result};
use crate::model::Model;
use crate::params::Params;

/// The members of a soft-voting ensemble, each a complete candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteParams {
    pub members: Vec<Params>,
}

/// A fitted soft-voting ensemble: `P(y = 1)` is the mean of the members' probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftVote {
    pub members: Vec<Model>,
}

impl SoftVote {
    /// Fits every member on the same rows with the same seed.
    pub fn fit<T: Feature>(
        x: ArrayView2<T>,
        y: &[u8],
        params: &VoteParams,
        seed: u64,
    ) -> Result<Self> {
        if params.members.is_empty() {
            return Err(ModelError::BadConfig {
                key: "members",
                reason: "a vote needs at least one member".into(),
            });
        }
        let members = params
            .members
            .iter()
            .map(|p| p.fit(x, y, seed))
            .collect::<Result<Vec<Model>>>()?;
        Ok(SoftVote { members })
    }
}
