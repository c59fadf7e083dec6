//! Models: score a feature vector with a model trained in Python.
//!
//! A model is trained in scikit-learn (or XGBoost, LightGBM) on the features chatguard
//! computes, exported by `tools/chatguard_export.py` into a *model file*, and loaded here by a
//! [`Loader`], which refuses it unless it would score exactly as it did in Python:
//!
//! - the file carries the [`FeatureSchema`] it was trained on; a loader given the expected
//!   schema refuses any other, with a readable diff;
//! - every number is checked (finite, feature indices inside the schema's dimension), trees
//!   are checked to be trees (children after parents, one parent each, depth and size limits);
//! - the file carries *golden checks*, inputs with the probability scikit-learn gave, and the
//!   loader re-scores each and refuses the model if any differs by more than `1e-6`.
//!
//! Scoring ([`Model::predict_proba`]) does not allocate and does not panic.
//!
//! # The model file
//!
//! Versioned JSON (`format_version` 1). `tools/chatguard_export.py` writes it; the full
//! description with every field is in `docs/model-format.md`. An example with a gradient
//! boosted ensemble of one small tree (`fixtures/models/doc_example.json`):
//!
//! ```json
//! {
//!   "format": "chatguard-model",
//!   "format_version": 1,
//!   "name": "spam",
//!   "producer": "hand-written example",
//!   "schema": {
//!     "version": 1,
//!     "names": ["len_chars", "url_count"],
//!     "hashing": {"seed": 0, "bits": 2, "word_ngrams": [1, 1], "char_ngrams": [0, 0],
//!                 "tokenizer": "words-v1", "alternate_sign": true}
//!   },
//!   "schema_fingerprint": "d0105b8db6779753",
//!   "model": {
//!     "tree_ensemble": {
//!       "aggregate": "sum", "link": "logistic", "base_margin": -1.5,
//!       "trees": [
//!         {"nodes": [
//!           {"feature": 1, "threshold": 0.5, "left": 1, "right": 2},
//!           {"leaf": -0.4},
//!           {"leaf": 2.1}
//!         ]}
//!       ]
//!     }
//!   },
//!   "golden": [
//!     {"features": [[0, 48.0], [1, 1.0]], "text": "win a prize at http://x.example", "proba": 0.6456563062257954}
//!   ]
//! }
//! ```
//!
//! `model` holds exactly one of:
//!
//! - `linear`: `intercept` and `weights`, `[feature index, weight]` pairs over the full
//!   dimension (absent features weigh 0); the probability is `1 / (1 + exp(-(intercept + w·x)))`.
//! - `calibrated_linear`: `members`, each `{"linear": {...}, "calibrator": {"sigmoid": {"a", "b"}}
//!   or {"isotonic": {"x": [...], "y": [...]}}}`; the probability is the mean of the members'
//!   calibrated probabilities, as in `CalibratedClassifierCV(ensemble=True)`.
//! - `tree`: one tree whose leaves are probabilities.
//! - `tree_ensemble`: `trees`, `aggregate` (`sum` or `mean`), `base_margin` and `link`
//!   (`logistic` or `identity`); the probability is `link(base_margin + aggregate(leaves))`.
//!   Gradient boosting is `sum` + `logistic`; a random forest is `mean` + `identity` with
//!   probability leaves.
//! - `xgboost`: `{"input": "sparse" | "dense", "booster": <XGBoost's own JSON model>}`.
//! - `lightgbm`: `{"text": <LightGBM's text model>}`.
//!
//! A tree is `{"nodes": [...]}` with node 0 the root. A split is
//! `{"feature": j, "threshold": t, "left": l, "right": r}` (optionally `"missing": "left"`,
//! where NaN goes; default right) and sends `x` left when `x <= t`; a leaf is `{"leaf": v}`.
//! Children must come after their parent. Thresholds are written as scikit-learn has them (an
//! `f64`); the loader stores the largest `f32` not above each one, so that the `f32`
//! comparison takes scikit-learn's decision for every input.
//!
//! Each golden check has the probability of the positive class (`proba`) and at least one of
//! `features` (`[index, value]` pairs over the full dimension, increasing indices, float32
//! values) and `text` (the message the features came from). Checks with `features` are always
//! re-run. Checks with `text` are re-run when the loader has a [`TextFeaturizer`] (the
//! feature extractor); otherwise a check with only `text` is skipped and counted in
//! [`GoldenSummary::skipped`].
//!
//! # Feature rows
//!
//! A [`FeatureRow`] holds the named features densely and the hashed block sparsely, as the
//! extractor produces them:
//!
//! ```
//! use chatguard::model::{FeatureRow, Loader};
//! # let json = include_str!("../../fixtures/models/doc_example.json");
//! let model = Loader::new().load_slice("spam.json", json.as_bytes())?;
//! let named = [48.0, 1.0];
//! let hashed = [(0, 1.0), (3, -1.0)];
//! let p = model.predict_proba(FeatureRow::new(&named, &hashed));
//! assert!((p - 0.6456563062257954).abs() < 1e-12);
//! # Ok::<(), chatguard::model::Error>(())
//! ```

mod error;
mod file;
mod lightgbm;
mod linear;
mod load;
mod tree;
mod xgboost;

pub use error::{Error, ErrorCategory};
pub use file::XgboostInput;
pub use load::{Limits, Loader, TextFeaturizer, GOLDEN_TOLERANCE};
pub use tree::{f32_at_or_below, f32_below};

use crate::features::schema::FeatureSchema;

pub(crate) use linear::LinearPair;
use linear::{calibrated_proba, Linear, Member};
use tree::Ensemble;

/// `1 / (1 + exp(-z))`, the formula of `scipy.special.expit`.
#[inline]
pub(crate) fn expit(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The input to a model: the named features and the non-zero hashed features of one message.
///
/// `dense` holds the named features in schema order. `hashed` holds `(index, value)` pairs
/// with indices relative to the hashed block (column `names.len() + index` of the full
/// vector), sorted by index, each index once. A `dense` slice over the full dimension (named
/// and hashed columns) with an empty `hashed` works too. Absent values are zero; indices
/// beyond the schema are ignored.
#[derive(Clone, Copy, Debug)]
pub struct FeatureRow<'a> {
    /// The named features, in schema order (or the whole vector).
    pub dense: &'a [f32],
    /// The non-zero hashed features, sorted by index relative to the hashed block.
    pub hashed: &'a [(u32, f32)],
}

impl<'a> FeatureRow<'a> {
    /// A row from its named features and its sorted hashed entries.
    #[must_use]
    pub fn new(dense: &'a [f32], hashed: &'a [(u32, f32)]) -> FeatureRow<'a> {
        FeatureRow { dense, hashed }
    }

    /// A row given as one dense slice over the full dimension.
    #[must_use]
    pub fn from_dense(full: &'a [f32]) -> FeatureRow<'a> {
        FeatureRow {
            dense: full,
            hashed: &[],
        }
    }

    /// The value of column `j` of the full vector, `named` being the number of named
    /// features.
    #[inline]
    pub(crate) fn value(&self, j: usize, named: usize) -> f32 {
        if let Some(&v) = self.dense.get(j) {
            return v;
        }
        if j < named {
            return 0.0;
        }
        let Ok(h) = u32::try_from(j - named) else {
            return 0.0;
        };
        match self.hashed.binary_search_by_key(&h, |&(i, _)| i) {
            Ok(k) => self.hashed[k].1,
            Err(_) => 0.0,
        }
    }
}

/// The way one row took through a decision tree: every split from the root, and the leaf.
/// See [`Model::decision_path`].
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionPath {
    /// The splits, root first.
    pub steps: Vec<PathStep>,
    /// The value of the leaf reached: for a [`ModelKind::Tree`] model, the probability the
    /// model gives the row.
    pub leaf: f64,
}

/// One split of a [`DecisionPath`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathStep {
    /// The column of the full feature vector the split reads (a named feature when below the
    /// schema's `names.len()`, else a hashed column).
    pub feature: usize,
    /// The row's value of that feature.
    pub value: f32,
    /// The split's threshold, as compiled: the row goes left when `value <= threshold` (a
    /// NaN value goes the split's default way).
    pub threshold: f32,
    /// Whether the row went left (`value <= threshold`) or right.
    pub left: bool,
}

/// What kind of model a file held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelKind {
    /// Logistic regression.
    Linear,
    /// Calibrated logistic regressions, averaged.
    CalibratedLinear,
    /// One decision tree.
    Tree,
    /// A random forest or gradient-boosted trees.
    TreeEnsemble,
    /// An imported XGBoost booster.
    Xgboost,
    /// An imported LightGBM booster.
    Lightgbm,
}

#[derive(Clone, Debug)]
pub(crate) enum Scorer {
    Linear(Linear),
    Calibrated(Box<[Member]>),
    Trees(Ensemble),
}

/// A golden check of a model file: an input and the probability scikit-learn gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct GoldenCheck {
    features: Option<Box<[(u32, f32)]>>,
    text: Option<String>,
    proba: f64,
}

impl GoldenCheck {
    /// The input as `(index, value)` pairs over the full dimension, if the check has them.
    #[must_use]
    pub fn features(&self) -> Option<&[(u32, f32)]> {
        self.features.as_deref()
    }

    /// The message text, if the check has one.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The probability of the positive class scikit-learn gave.
    #[must_use]
    pub fn proba(&self) -> f64 {
        self.proba
    }
}

/// What the loader's re-run of the golden checks found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GoldenSummary {
    /// Scores compared (a check with both features and text, and a featurizer, counts twice).
    pub checked: usize,
    /// Checks with only a text, skipped for want of a [`TextFeaturizer`].
    pub skipped: usize,
    /// The largest absolute difference in probability seen.
    pub max_abs_diff: f64,
}

impl GoldenSummary {
    fn record(&mut self, diff: f64) {
        self.checked += 1;
        self.max_abs_diff = self.max_abs_diff.max(diff);
    }
}

/// A loaded, compiled model. Immutable; scoring takes `&self` and allocates nothing.
#[derive(Clone, Debug)]
pub struct Model {
    name: Option<String>,
    description: Option<String>,
    producer: Option<String>,
    schema: FeatureSchema,
    /// `schema.names.len()`, kept at hand for the hot path.
    named: usize,
    kind: ModelKind,
    scorer: Scorer,
    golden: Vec<GoldenCheck>,
    golden_summary: GoldenSummary,
}

impl Model {
    /// Loads the model file at `path` with a default [`Loader`] (no expected schema).
    ///
    /// # Errors
    ///
    /// See [`Loader::load_path`].
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Model, Error> {
        Loader::new().load_path(path)
    }

    pub(crate) fn imported(schema: FeatureSchema, kind: ModelKind, scorer: Scorer) -> Model {
        Model {
            name: None,
            description: None,
            producer: None,
            named: schema.names.len(),
            schema,
            kind,
            scorer,
            golden: Vec::new(),
            golden_summary: GoldenSummary::default(),
        }
    }

    /// The probability of the positive class (spam, toxic) for `row`.
    #[must_use]
    pub fn predict_proba(&self, row: FeatureRow<'_>) -> f64 {
        match &self.scorer {
            Scorer::Linear(linear) => expit(linear.margin(&row)),
            Scorer::Calibrated(members) => calibrated_proba(members, &row),
            Scorer::Trees(ensemble) => ensemble.predict(&row, self.named),
        }
    }

    /// The probability for a dense row over the full dimension (named then hashed columns).
    #[must_use]
    pub fn predict_proba_dense(&self, full: &[f32]) -> f64 {
        self.predict_proba(FeatureRow::from_dense(full))
    }

    /// The feature schema the model was trained on.
    #[must_use]
    pub fn schema(&self) -> &FeatureSchema {
        &self.schema
    }

    /// What kind of model this is.
    #[must_use]
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The model's name from the file, if any.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The model's description from the file, if any.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// What produced the file (exporter and library versions), if recorded.
    #[must_use]
    pub fn producer(&self) -> Option<&str> {
        self.producer.as_deref()
    }

    /// The golden checks of the file.
    #[must_use]
    pub fn golden_checks(&self) -> &[GoldenCheck] {
        &self.golden
    }

    /// What re-running the golden checks at load found.
    #[must_use]
    pub fn golden_summary(&self) -> GoldenSummary {
        self.golden_summary
    }

    /// The weight of column `j` of the full vector, for linear models (`None` for other
    /// kinds): what explanations multiply a feature by.
    #[must_use]
    pub fn linear_weight(&self, j: usize) -> Option<f64> {
        match &self.scorer {
            Scorer::Linear(linear) => Some(linear.weight(j)),
            _ => None,
        }
    }

    /// The linear model inside, for [`LinearPair`].
    pub(crate) fn as_linear(&self) -> Option<&Linear> {
        match &self.scorer {
            Scorer::Linear(linear) => Some(linear),
            _ => None,
        }
    }

    /// The path `row` takes through the tree of a single decision tree
    /// ([`ModelKind::Tree`]): each split with the row's value, the threshold and the way it
    /// went, and the leaf, whose value is the probability
    /// [`predict_proba`](Self::predict_proba) returns. `None` for every other kind: a linear
    /// model has no path, and an ensemble (a forest, gradient boosting, XGBoost, LightGBM)
    /// combines many trees whose leaves are not probabilities on their own, so no single
    /// path explains its score. Allocates (for tools and explanations, not the hot path).
    ///
    /// ```
    /// use chatguard::model::{FeatureRow, Loader};
    /// let json = r#"{
    ///   "format": "chatguard-model", "format_version": 1,
    ///   "schema": {"version": 1, "names": ["links"],
    ///              "hashing": {"seed": 0, "bits": 2, "word_ngrams": [1, 1], "char_ngrams": [0, 0],
    ///                          "tokenizer": "words-v1", "alternate_sign": true}},
    ///   "schema_fingerprint": "d2a2f63b8bc62cfe",
    ///   "model": {"tree": {"nodes": [
    ///     {"feature": 0, "threshold": 0.5, "left": 1, "right": 2}, {"leaf": 0.1}, {"leaf": 0.9}]}}
    /// }"#;
    /// let model = Loader::new().load_slice("links.json", json.as_bytes())?;
    /// let path = model.decision_path(FeatureRow::from_dense(&[2.0])).unwrap();
    /// assert_eq!(path.steps.len(), 1);
    /// assert!(!path.steps[0].left); // 2.0 > 0.5
    /// assert_eq!(path.leaf, 0.9);
    /// assert_eq!(path.leaf, model.predict_proba_dense(&[2.0]));
    /// # Ok::<(), chatguard::model::Error>(())
    /// ```
    #[must_use]
    pub fn decision_path(&self, row: FeatureRow<'_>) -> Option<DecisionPath> {
        match (&self.scorer, self.kind) {
            (Scorer::Trees(ensemble), ModelKind::Tree) => ensemble.path(0, &row, self.named),
            _ => None,
        }
    }

    /// The number of trees, for tree models.
    #[must_use]
    pub fn tree_count(&self) -> Option<usize> {
        match &self.scorer {
            Scorer::Trees(e) => Some(e.tree_count()),
            _ => None,
        }
    }

    /// The number of tree nodes over all trees, for tree models.
    #[must_use]
    pub fn node_count(&self) -> Option<usize> {
        match &self.scorer {
            Scorer::Trees(e) => Some(e.node_count()),
            _ => None,
        }
    }
}
