//! The loader: reads a model file, checks everything, compiles the model and re-runs its
//! golden checks.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::features::schema::FeatureSchema;

use super::error::Error;
use super::file::{
    AggregateName, LinkName, Probe, RawCalibrated, RawEnsemble, RawFile, RawGolden, RawModel,
    RawNode, RawTree, Side, XgboostInput, FORMAT, FORMAT_VERSION,
};
use super::linear::{Calibrator, Linear, Member};
use super::tree::{
    f32_at_or_below, Aggregate, Ensemble, EnsembleBuilder, Link, Missing, Proto, TreeLimits,
};
use super::{lightgbm, xgboost, FeatureRow, GoldenCheck, GoldenSummary, Model, ModelKind, Scorer};

/// Size limits the loader enforces, so that an untrusted or corrupt file cannot make it use
/// unbounded memory or time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted file, in bytes. Default: 64 MiB.
    pub max_file_bytes: u64,
    /// Most tree nodes over all trees. Default: 2^21 (about 40 MiB compiled).
    pub max_nodes: usize,
    /// Most trees in an ensemble. Default: 10 000.
    pub max_trees: usize,
    /// Deepest tree (the root has depth 0). Default: 64.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 64 << 20,
            max_nodes: 1 << 21,
            max_trees: 10_000,
            max_depth: 64,
        }
    }
}

/// Computes the features of a golden check's `text`, so the loader can score it.
///
/// The feature extractor implements this; without one, checks that have only a `text` are
/// skipped (and counted in [`GoldenSummary::skipped`]).
pub trait TextFeaturizer: Send + Sync {
    /// Writes the named features of `text` into `named` (cleared first) and its hashed
    /// entries into `hashed` (cleared first; indices relative to the hashed block, sorted,
    /// unique).
    fn featurize(&self, text: &str, named: &mut Vec<f32>, hashed: &mut Vec<(u32, f32)>);
}

/// Reads, validates and compiles model files.
///
/// ```
/// use chatguard::model::Loader;
///
/// let json = r#"{
///   "format": "chatguard-model", "format_version": 1,
///   "schema": {"version": 1, "names": ["links"],
///              "hashing": {"seed": 0, "bits": 2, "word_ngrams": [1, 1], "char_ngrams": [0, 0],
///                          "tokenizer": "words-v1", "alternate_sign": true}},
///   "schema_fingerprint": "d2a2f63b8bc62cfe",
///   "model": {"linear": {"intercept": -1.0, "weights": [[0, 2.0]]}},
///   "golden": [{"features": [[0, 1.0]], "proba": 0.7310585786300049}]
/// }"#;
/// let model = Loader::new().load_slice("spam.json", json.as_bytes())?;
/// assert_eq!(model.predict_proba_dense(&[0.0]), 0.2689414213699951);
/// # Ok::<(), chatguard::model::Error>(())
/// ```
#[derive(Clone)]
pub struct Loader {
    expected: Option<FeatureSchema>,
    limits: Limits,
    tolerance: f64,
    featurizer: Option<Arc<dyn TextFeaturizer>>,
}

impl Default for Loader {
    fn default() -> Loader {
        Loader::new()
    }
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loader")
            .field("expected", &self.expected)
            .field("limits", &self.limits)
            .field("tolerance", &self.tolerance)
            .field("featurizer", &self.featurizer.is_some())
            .finish()
    }
}

/// The default golden-check tolerance: absolute difference in probability.
pub const GOLDEN_TOLERANCE: f64 = 1e-6;

impl Loader {
    /// A loader with default [`Limits`], tolerance [`GOLDEN_TOLERANCE`], no expected schema
    /// and no text featurizer.
    #[must_use]
    pub fn new() -> Loader {
        Loader {
            expected: None,
            limits: Limits::default(),
            tolerance: GOLDEN_TOLERANCE,
            featurizer: None,
        }
    }

    /// Refuse models whose schema differs from `schema` (the one the feature extractor
    /// computes). Without it, any valid schema is accepted.
    pub fn expect_schema(&mut self, schema: FeatureSchema) -> &mut Loader {
        self.expected = Some(schema);
        self
    }

    /// Sets the size limits.
    pub fn limits(&mut self, limits: Limits) -> &mut Loader {
        self.limits = limits;
        self
    }

    /// Sets the largest accepted absolute difference between a golden check's probability
    /// and chatguard's.
    pub fn golden_tolerance(&mut self, tolerance: f64) -> &mut Loader {
        self.tolerance = tolerance;
        self
    }

    /// Scores golden checks given as text with `featurizer`.
    pub fn text_featurizer(&mut self, featurizer: Arc<dyn TextFeaturizer>) -> &mut Loader {
        self.featurizer = Some(featurizer);
        self
    }

    /// Reads and loads the model file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, exceeds the size limits, is not a valid chatguard model
    /// file, was built for another schema than the expected one, or fails a golden check.
    pub fn load_path(&self, path: impl AsRef<Path>) -> Result<Model, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = self.read(&name, path)?;
        self.load_slice(&name, &bytes)
    }

    fn read(&self, name: &str, path: &Path) -> Result<Vec<u8>, Error> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(name, &e))?;
        let max = self.limits.max_file_bytes;
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(name, &e))?;
        if bytes.len() as u64 > max {
            return Err(self.too_big(name));
        }
        Ok(bytes)
    }

    fn too_big(&self, name: &str) -> Error {
        Error::limit(
            name,
            "",
            format!(
                "the file is larger than {} bytes, the configured limit",
                self.limits.max_file_bytes
            ),
        )
    }

    fn tree_limits(&self, schema: &FeatureSchema) -> TreeLimits {
        TreeLimits {
            // Node indices are u32 in the compiled form.
            max_nodes: self.limits.max_nodes.min(u32::MAX as usize - 1),
            max_depth: self.limits.max_depth,
            max_trees: self.limits.max_trees,
            dimension: schema.dimension(),
        }
    }

    /// Loads a model file from its bytes; `file_name` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Loader::load_path`], except for reading.
    pub fn load_slice(&self, file_name: &str, bytes: &[u8]) -> Result<Model, Error> {
        if bytes.len() as u64 > self.limits.max_file_bytes {
            return Err(self.too_big(file_name));
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => {}
            Some(_) => {
                return Err(Error::format(
                    file_name,
                    "",
                    "the file is not a JSON object, expected a chatguard model file ({\"format\": \"chatguard-model\", ...})".into(),
                ))
            }
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|e| Error::json(file_name, &e, bytes))?;
        match probe.format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(Error::format(
                    file_name,
                    "format",
                    format!("format is {other:?}, expected {FORMAT:?}"),
                ))
            }
            None => {
                return Err(Error::format(
                    file_name,
                    "format",
                    format!("no \"format\" field, expected \"format\": {FORMAT:?} (is this a chatguard model file?)"),
                ))
            }
        }
        match probe.format_version {
            Some(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(Error::format(
                    file_name,
                    "format_version",
                    format!("format_version {v} is not supported, expected {FORMAT_VERSION}"),
                ))
            }
            None => {
                return Err(Error::format(
                    file_name,
                    "format_version",
                    format!("no \"format_version\" field, expected {FORMAT_VERSION}"),
                ))
            }
        }
        let raw: RawFile =
            serde_json::from_slice(bytes).map_err(|e| Error::json(file_name, &e, bytes))?;
        if raw.schema_fingerprint != raw.schema.fingerprint() {
            return Err(Error::invalid(
                file_name,
                "schema_fingerprint",
                format!(
                    "{:?} does not match the schema in the file, expected {:?} (was the schema edited by hand?)",
                    raw.schema_fingerprint,
                    raw.schema.fingerprint()
                ),
            ));
        }
        self.check_schema(file_name, &raw.schema)?;
        let (kind, scorer) = self.compile(file_name, &raw.schema, &raw.model)?;
        let mut model = Model {
            name: raw.name,
            description: raw.description,
            producer: raw.producer,
            named: raw.schema.names.len(),
            schema: raw.schema,
            kind,
            scorer,
            golden: Vec::new(),
            golden_summary: GoldenSummary::default(),
        };
        self.run_golden(file_name, &mut model, &raw.golden)?;
        Ok(model)
    }

    /// Imports an XGBoost JSON model (`Booster.save_model("model.json")`) trained on
    /// features of `schema`. `input` says whether it was trained on sparse or dense data,
    /// which decides what counts as missing. The file has no golden checks; prefer exporting
    /// with `tools/chatguard_export.py`, which embeds the booster in a chatguard model file
    /// with golden checks.
    ///
    /// # Errors
    ///
    /// When the bytes exceed the size limit, are not an XGBoost JSON model, use something
    /// chatguard does not score (another objective, categorical splits, several classes), or
    /// reference features outside `schema`.
    pub fn import_xgboost_json(
        &self,
        file_name: &str,
        bytes: &[u8],
        schema: FeatureSchema,
        input: XgboostInput,
    ) -> Result<Model, Error> {
        if bytes.len() as u64 > self.limits.max_file_bytes {
            return Err(self.too_big(file_name));
        }
        self.check_schema(file_name, &schema)?;
        let booster: xgboost::XgbModel =
            serde_json::from_slice(bytes).map_err(|e| Error::json(file_name, &e, bytes))?;
        let ensemble = xgboost::compile(file_name, "", &booster, input, self.tree_limits(&schema))?;
        Ok(Model::imported(
            schema,
            ModelKind::Xgboost,
            Scorer::Trees(ensemble),
        ))
    }

    /// Imports a LightGBM text model (`Booster.save_model("model.txt")`) trained on features
    /// of `schema`. The file has no golden checks (see [`Loader::import_xgboost_json`]).
    ///
    /// # Errors
    ///
    /// When the bytes exceed the size limit, are not a LightGBM text model (or are
    /// truncated), use something chatguard does not score (another objective, categorical
    /// splits, linear trees), or reference features outside `schema`.
    pub fn import_lightgbm_text(
        &self,
        file_name: &str,
        bytes: &[u8],
        schema: FeatureSchema,
    ) -> Result<Model, Error> {
        if bytes.len() as u64 > self.limits.max_file_bytes {
            return Err(self.too_big(file_name));
        }
        self.check_schema(file_name, &schema)?;
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::syntax_at_line(
                file_name,
                bytes[..e.valid_up_to()].split(|&b| b == b'\n').count(),
                "the file is not UTF-8 text, expected a LightGBM text model".into(),
            )
        })?;
        let ensemble = lightgbm::compile(file_name, "", text, self.tree_limits(&schema))?;
        Ok(Model::imported(
            schema,
            ModelKind::Lightgbm,
            Scorer::Trees(ensemble),
        ))
    }

    /// Checks a schema is well-formed and, when one is expected, that it is that one.
    fn check_schema(&self, file: &str, schema: &FeatureSchema) -> Result<(), Error> {
        schema
            .check()
            .map_err(|message| Error::invalid(file, "schema", message))?;
        if let Some(expected) = &self.expected {
            let diff = expected.diff(schema);
            if !diff.is_empty() {
                return Err(Error::schema(file, diff));
            }
        }
        Ok(())
    }

    fn compile(
        &self,
        file: &str,
        schema: &FeatureSchema,
        raw: &RawModel,
    ) -> Result<(ModelKind, Scorer), Error> {
        let named = schema.names.len();
        let dimension = schema.dimension();
        Ok(match raw {
            RawModel::Linear(linear) => (
                ModelKind::Linear,
                Scorer::Linear(Linear::compile(
                    file,
                    "model.linear",
                    linear,
                    named,
                    dimension,
                )?),
            ),
            RawModel::CalibratedLinear(calibrated) => (
                ModelKind::CalibratedLinear,
                compile_calibrated(file, calibrated, named, dimension)?,
            ),
            RawModel::Tree(tree) => {
                let mut builder = EnsembleBuilder::new(file, self.tree_limits(schema));
                push_native_tree(&mut builder, file, "model.tree", tree, true)?;
                (
                    ModelKind::Tree,
                    Scorer::Trees(builder.finish(Aggregate::Mean, 0.0, Link::Identity)?),
                )
            }
            RawModel::TreeEnsemble(ensemble) => (
                ModelKind::TreeEnsemble,
                Scorer::Trees(compile_ensemble(file, ensemble, self.tree_limits(schema))?),
            ),
            RawModel::Xgboost(x) => (
                ModelKind::Xgboost,
                Scorer::Trees(xgboost::compile(
                    file,
                    "model.xgboost.booster",
                    &x.booster,
                    x.input,
                    self.tree_limits(schema),
                )?),
            ),
            RawModel::Lightgbm(l) => (
                ModelKind::Lightgbm,
                Scorer::Trees(lightgbm::compile(
                    file,
                    "model.lightgbm.text",
                    &l.text,
                    self.tree_limits(schema),
                )?),
            ),
        })
    }

    fn run_golden(&self, file: &str, model: &mut Model, checks: &[RawGolden]) -> Result<(), Error> {
        let dimension = model.schema.dimension();
        let named = model.named;
        let mut summary = GoldenSummary::default();
        let mut dense = vec![0.0f32; named];
        let mut hashed: Vec<(u32, f32)> = Vec::new();
        let mut golden = Vec::with_capacity(checks.len());
        for (k, check) in checks.iter().enumerate() {
            let path = format!("golden[{k}]");
            if !(0.0..=1.0).contains(&check.proba) {
                return Err(Error::invalid(
                    file,
                    format!("{path}.proba"),
                    format!(
                        "{} is not a probability, expected a number in [0, 1]",
                        check.proba
                    ),
                ));
            }
            if check.features.is_none() && check.text.is_none() {
                return Err(Error::invalid(
                    file,
                    path,
                    "the check has no input, expected \"features\", \"text\" or both".into(),
                ));
            }
            let mut features32 = None;
            if let Some(features) = &check.features {
                let mut pairs = Vec::with_capacity(features.len());
                dense.fill(0.0);
                hashed.clear();
                for (e, &(index, value)) in features.iter().enumerate() {
                    let at = || format!("{path}.features[{e}]");
                    if index as usize >= dimension {
                        return Err(Error::invalid(file, at(), format!(
                            "feature index {index} is out of range, expected an index below the schema's dimension {dimension}"
                        )));
                    }
                    if e > 0 && features[e - 1].0 >= index {
                        return Err(Error::invalid(
                            file,
                            at(),
                            format!(
                            "feature index {index} does not follow {}, expected increasing indices",
                            features[e - 1].0
                        ),
                        ));
                    }
                    #[allow(clippy::cast_possible_truncation)]
                    let value32 = value as f32;
                    // Exact comparison on purpose: the value must be a float32.
                    #[allow(clippy::float_cmp)]
                    let exact = f64::from(value32) == value;
                    if !value.is_finite() || !exact {
                        return Err(Error::invalid(file, at(), format!(
                            "value {value} is not a finite float32, expected a feature value as chatguard computes it (float32)"
                        )));
                    }
                    pairs.push((index, value32));
                    let j = index as usize;
                    if j < named {
                        dense[j] = value32;
                    } else {
                        #[allow(clippy::cast_possible_truncation)]
                        hashed.push(((j - named) as u32, value32));
                    }
                }
                let p = model.predict_proba(FeatureRow::new(&dense, &hashed));
                summary.record(self.compare(file, &format!("{path}.features"), p, check.proba)?);
                features32 = Some(pairs.into_boxed_slice());
            }
            if let Some(text) = &check.text {
                if let Some(featurizer) = &self.featurizer {
                    featurizer.featurize(text, &mut dense, &mut hashed);
                    let p = model.predict_proba(FeatureRow::new(&dense, &hashed));
                    summary.record(self.compare(file, &format!("{path}.text"), p, check.proba)?);
                    dense.clear();
                    dense.resize(named, 0.0);
                } else if check.features.is_none() {
                    summary.skipped += 1;
                }
            }
            golden.push(GoldenCheck {
                features: features32,
                text: check.text.clone(),
                proba: check.proba,
            });
        }
        model.golden = golden;
        model.golden_summary = summary;
        Ok(())
    }

    fn compare(&self, file: &str, path: &str, got: f64, expected: f64) -> Result<f64, Error> {
        let diff = (got - expected).abs();
        // Written so that a NaN score fails too.
        if diff <= self.tolerance {
            Ok(diff)
        } else {
            Err(Error::golden(
                file,
                path,
                format!(
                    "chatguard scores {got}, the model file expects {expected} (difference {diff:.3e}, tolerance {:.0e}): the model would not score as it did when exported",
                    self.tolerance
                ),
            ))
        }
    }
}

fn compile_calibrated(
    file: &str,
    calibrated: &RawCalibrated,
    named: usize,
    dimension: usize,
) -> Result<Scorer, Error> {
    if calibrated.members.is_empty() {
        return Err(Error::invalid(
            file,
            "model.calibrated_linear.members",
            "no members, expected at least one calibrated model".into(),
        ));
    }
    let mut members = Vec::with_capacity(calibrated.members.len());
    for (k, member) in calibrated.members.iter().enumerate() {
        let path = format!("model.calibrated_linear.members[{k}]");
        members.push(Member {
            linear: Linear::compile(
                file,
                &format!("{path}.linear"),
                &member.linear,
                named,
                dimension,
            )?,
            calibrator: Calibrator::compile(
                file,
                &format!("{path}.calibrator"),
                &member.calibrator,
            )?,
        });
    }
    Ok(Scorer::Calibrated(members.into_boxed_slice()))
}

fn compile_ensemble(
    file: &str,
    ensemble: &RawEnsemble,
    limits: TreeLimits,
) -> Result<Ensemble, Error> {
    let link = match ensemble.link {
        LinkName::Identity => Link::Identity,
        LinkName::Logistic => Link::Logistic { scale: 1.0 },
    };
    let aggregate = match ensemble.aggregate {
        AggregateName::Sum => Aggregate::Sum,
        AggregateName::Mean => Aggregate::Mean,
    };
    let probabilities = link == Link::Identity;
    if probabilities && (aggregate != Aggregate::Mean || ensemble.base_margin != 0.0) {
        return Err(Error::invalid(
            file,
            "model.tree_ensemble",
            "link \"identity\" averages probabilities, expected aggregate \"mean\" and base_margin 0".into(),
        ));
    }
    if !ensemble.base_margin.is_finite() {
        return Err(Error::invalid(
            file,
            "model.tree_ensemble.base_margin",
            format!(
                "{} is not finite, expected a finite number",
                ensemble.base_margin
            ),
        ));
    }
    let mut builder = EnsembleBuilder::new(file, limits);
    for (t, tree) in ensemble.trees.iter().enumerate() {
        let path = format!("model.tree_ensemble.trees[{t}]");
        push_native_tree(&mut builder, file, &path, tree, probabilities)?;
    }
    builder.finish(aggregate, ensemble.base_margin, link)
}

/// Validates a tree of a model file (children after parents, leaf/split consistency) and
/// adds it to `builder`. With `probabilities`, leaves must lie in `[0, 1]`.
fn push_native_tree(
    builder: &mut EnsembleBuilder<'_>,
    file: &str,
    path: &str,
    tree: &RawTree,
    probabilities: bool,
) -> Result<(), Error> {
    let node_path = |i: usize| format!("{path}.nodes[{i}]");
    let mut protos = Vec::with_capacity(tree.nodes.len());
    for (i, node) in tree.nodes.iter().enumerate() {
        protos.push(native_node(file, &node_path(i), node, probabilities)?);
    }
    builder.push_ordered(&protos, path, node_path)
}

fn native_node(
    file: &str,
    path: &str,
    node: &RawNode,
    probabilities: bool,
) -> Result<Proto, Error> {
    let split_fields = [
        ("feature", node.feature.is_some()),
        ("threshold", node.threshold.is_some()),
        ("left", node.left.is_some()),
        ("right", node.right.is_some()),
        ("missing", node.missing.is_some()),
    ];
    if let Some(leaf) = node.leaf {
        if let Some((name, _)) = split_fields.iter().find(|(_, present)| *present) {
            return Err(Error::invalid(
                file,
                path,
                format!("a leaf has a \"{name}\", expected either a leaf (\"leaf\") or a split (\"feature\", \"threshold\", \"left\", \"right\")"),
            ));
        }
        if probabilities && !(0.0..=1.0).contains(&leaf) {
            return Err(Error::invalid(
                file,
                format!("{path}.leaf"),
                format!("{leaf} is not a probability, expected a number in [0, 1]"),
            ));
        }
        return Ok(Proto::Leaf(leaf));
    }
    let (Some(feature), Some(threshold), Some(left), Some(right)) =
        (node.feature, node.threshold, node.left, node.right)
    else {
        let missing = split_fields[..4]
            .iter()
            .find(|(_, present)| !*present)
            .map_or("leaf", |(name, _)| *name);
        return Err(Error::invalid(
            file,
            path,
            format!("the node has no \"{missing}\", expected either a leaf (\"leaf\") or a split (\"feature\", \"threshold\", \"left\", \"right\")"),
        ));
    };
    if !threshold.is_finite() {
        return Err(Error::invalid(
            file,
            format!("{path}.threshold"),
            format!("{threshold} is not finite, expected a finite number"),
        ));
    }
    // Out-of-range children are reported by the builder; saturate so they stay out of range.
    let left = usize::try_from(left).unwrap_or(usize::MAX);
    let right = usize::try_from(right).unwrap_or(usize::MAX);
    Ok(Proto::Split {
        feature,
        threshold: f32_at_or_below(threshold),
        left,
        right,
        missing: Missing::Nan,
        default_left: matches!(node.missing, Some(Side::Left)),
    })
}
