//! The model file as it is written: serde types mirroring the JSON, before validation.
//!
//! Everything here is checked and compiled by [`super::load`]; nothing is scored directly.
//! Enums are externally tagged (`{"linear": {...}}`) so serde never buffers a subtree and
//! type errors keep their exact line and column.

use serde::Deserialize;

use crate::features::schema::FeatureSchema;

use super::xgboost::XgbModel;

/// The `format` value every chatguard model file starts with.
pub(crate) const FORMAT: &str = "chatguard-model";
/// The format version this build reads and writes.
pub(crate) const FORMAT_VERSION: u64 = 1;

/// Just enough of the file to decide whether the rest can be read.
#[derive(Deserialize)]
pub(crate) struct Probe {
    pub(crate) format: Option<String>,
    pub(crate) format_version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[allow(dead_code)]
    pub(crate) format: String,
    #[allow(dead_code)]
    pub(crate) format_version: u64,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) producer: Option<String>,
    pub(crate) schema: FeatureSchema,
    pub(crate) schema_fingerprint: String,
    pub(crate) model: RawModel,
    #[serde(default)]
    pub(crate) golden: Vec<RawGolden>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawModel {
    Linear(RawLinear),
    CalibratedLinear(RawCalibrated),
    Tree(RawTree),
    TreeEnsemble(RawEnsemble),
    Xgboost(RawXgboost),
    Lightgbm(RawLightgbm),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinear {
    pub(crate) intercept: f64,
    /// `[feature index, weight]` pairs over the full dimension; absent features weigh 0.
    pub(crate) weights: Vec<(u32, f64)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCalibrated {
    pub(crate) members: Vec<RawMember>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMember {
    pub(crate) linear: RawLinear,
    pub(crate) calibrator: RawCalibrator,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawCalibrator {
    Sigmoid { a: f64, b: f64 },
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTree {
    pub(crate) nodes: Vec<RawNode>,
}

/// A split (`feature`, `threshold`, `left`, `right`, optional `missing`) or a leaf (`leaf`).
/// All fields are optional here so the loader can say which one is missing or extra.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    pub(crate) feature: Option<u32>,
    pub(crate) threshold: Option<f64>,
    pub(crate) left: Option<u64>,
    pub(crate) right: Option<u64>,
    pub(crate) missing: Option<Side>,
    pub(crate) leaf: Option<f64>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Side {
    Left,
    Right,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AggregateName {
    Sum,
    Mean,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LinkName {
    Identity,
    Logistic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnsemble {
    pub(crate) aggregate: AggregateName,
    pub(crate) link: LinkName,
    #[serde(default)]
    pub(crate) base_margin: f64,
    pub(crate) trees: Vec<RawTree>,
}

/// How an XGBoost booster saw its training data, which decides what counts as missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XgboostInput {
    /// Trained and evaluated on sparse matrices (such as svmlight files): an absent entry,
    /// which chatguard sees as `0.0`, is missing and follows the split's default direction.
    Sparse,
    /// Trained on dense arrays: only NaN is missing; `0.0` is compared like any value.
    Dense,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawXgboost {
    pub(crate) input: XgboostInput,
    /// The booster's own JSON (`Booster.save_model("model.json")`), embedded as is.
    pub(crate) booster: XgbModel,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLightgbm {
    /// The booster's text model (`Booster.model_to_string()`), embedded as a string.
    pub(crate) text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGolden {
    /// The input as `[feature index, value]` pairs over the full dimension.
    #[serde(default)]
    pub(crate) features: Option<Vec<(u32, f64)>>,
    /// The message text the features were computed from.
    #[serde(default)]
    pub(crate) text: Option<String>,
    /// The probability of the positive class scikit-learn gave.
    pub(crate) proba: f64,
}
