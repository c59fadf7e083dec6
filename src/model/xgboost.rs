//! Import of XGBoost's JSON model format (`Booster.save_model("model.json")`).
//!
//! Supported: the `gbtree` booster with objective `binary:logistic` (or `reg:logistic`),
//! numerical splits. A split sends `x` left when `x < split_condition` (strict, in `f32`);
//! missing values follow `default_left`. `base_score` is a probability, written as a number,
//! a string (`"5E-1"`) or a one-element vector string (`"[5E-1]"`); the margin starts at its
//! logit. Leaf values are in `split_conditions` at leaf nodes.

use serde::Deserialize;

use super::error::Error;
use super::file::XgboostInput;
use super::tree::{
    f32_below, Aggregate, Ensemble, EnsembleBuilder, Link, Missing, Proto, TreeLimits,
};

/// The parts of the XGBoost JSON document chatguard reads; other fields are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct XgbModel {
    learner: XgbLearner,
}

#[derive(Debug, Deserialize)]
struct XgbLearner {
    gradient_booster: XgbGradientBooster,
    learner_model_param: XgbLearnerParam,
    objective: XgbObjective,
}

#[derive(Debug, Deserialize)]
struct XgbGradientBooster {
    name: String,
    #[serde(default)]
    model: Option<XgbGbtree>,
}

#[derive(Debug, Deserialize)]
struct XgbGbtree {
    trees: Vec<XgbTree>,
    #[serde(default)]
    tree_info: Vec<i64>,
}

#[derive(Debug, Deserialize)]
struct XgbTree {
    left_children: Vec<i64>,
    right_children: Vec<i64>,
    split_indices: Vec<i64>,
    split_conditions: Vec<f64>,
    default_left: Vec<Flag>,
    #[serde(default)]
    split_type: Vec<i64>,
}

/// `default_left` is written as 0/1 by current XGBoost and as booleans by some older ones.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    Int(i64),
    Bool(bool),
}

impl Flag {
    fn is_set(&self) -> bool {
        match self {
            Flag::Int(i) => *i != 0,
            Flag::Bool(b) => *b,
        }
    }
}

#[derive(Debug, Deserialize)]
struct XgbLearnerParam {
    base_score: NumberText,
    #[serde(default)]
    num_class: Option<NumberText>,
}

#[derive(Debug, Deserialize)]
struct XgbObjective {
    name: String,
}

/// XGBoost writes most numbers as strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NumberText {
    Number(f64),
    Text(String),
}

impl NumberText {
    /// The value, accepting `"5E-1"` and the one-element vector form `"[5E-1]"`.
    fn value(&self) -> Option<f64> {
        match self {
            NumberText::Number(v) => Some(*v),
            NumberText::Text(text) => {
                let t = text.trim();
                let t = t
                    .strip_prefix('[')
                    .and_then(|t| t.strip_suffix(']'))
                    .unwrap_or(t);
                t.trim().parse::<f64>().ok()
            }
        }
    }
}

/// Compiles an XGBoost model. `path` is the JSON path of the booster object in the file
/// (empty for a standalone XGBoost file), for error messages.
pub(crate) fn compile(
    file: &str,
    path: &str,
    model: &XgbModel,
    input: XgboostInput,
    limits: TreeLimits,
) -> Result<Ensemble, Error> {
    let at = |rest: &str| {
        if path.is_empty() {
            rest.to_owned()
        } else {
            format!("{path}.{rest}")
        }
    };
    let learner = &model.learner;
    let objective = learner.objective.name.as_str();
    if objective != "binary:logistic" && objective != "reg:logistic" {
        return Err(Error::unsupported(
            file,
            at("learner.objective.name"),
            format!("objective {objective:?} is not supported, expected \"binary:logistic\""),
        ));
    }
    if learner.gradient_booster.name != "gbtree" {
        return Err(Error::unsupported(
            file,
            at("learner.gradient_booster.name"),
            format!(
                "booster {:?} is not supported, expected \"gbtree\"",
                learner.gradient_booster.name
            ),
        ));
    }
    if let Some(n) = learner
        .learner_model_param
        .num_class
        .as_ref()
        .and_then(NumberText::value)
    {
        if n > 1.0 {
            return Err(Error::unsupported(
                file,
                at("learner.learner_model_param.num_class"),
                format!("{n} classes are not supported, expected a binary model"),
            ));
        }
    }
    let base_score = learner
        .learner_model_param
        .base_score
        .value()
        // XGBoost keeps base_score as a float32.
        .map(|v| {
            #[allow(clippy::cast_possible_truncation)]
            let v32 = v as f32;
            f64::from(v32)
        })
        .filter(|p| *p > 0.0 && *p < 1.0)
        .ok_or_else(|| {
            Error::invalid(
                file,
                at("learner.learner_model_param.base_score"),
                format!(
                    "base_score {:?} is not a probability, expected a number strictly between 0 and 1",
                    learner.learner_model_param.base_score
                ),
            )
        })?;
    let base_margin = (base_score / (1.0 - base_score)).ln();
    let Some(gbtree) = learner.gradient_booster.model.as_ref() else {
        return Err(Error::invalid(
            file,
            at("learner.gradient_booster"),
            "the booster has no model, expected \"model\" with trees".into(),
        ));
    };
    if let Some((k, _)) = gbtree.tree_info.iter().enumerate().find(|(_, &g)| g != 0) {
        return Err(Error::unsupported(
            file,
            at(&format!("learner.gradient_booster.model.tree_info[{k}]")),
            "trees for several output groups are not supported, expected a binary model".into(),
        ));
    }
    let missing = match input {
        XgboostInput::Sparse => Missing::ZeroOrNan,
        XgboostInput::Dense => Missing::Nan,
    };
    let mut builder = EnsembleBuilder::new(file, limits);
    let mut protos = Vec::new();
    for (t, tree) in gbtree.trees.iter().enumerate() {
        let tree_path = at(&format!("learner.gradient_booster.model.trees[{t}]"));
        tree_protos(file, &tree_path, tree, missing, &mut protos)?;
        builder.push_unordered(&protos, 0, &tree_path, |i| {
            format!("{tree_path}.nodes[{i}]")
        })?;
    }
    builder.finish(Aggregate::Sum, base_margin, Link::Logistic { scale: 1.0 })
}

/// Turns one XGBoost tree into nodes, in XGBoost's numbering (node 0 is the root).
fn tree_protos(
    file: &str,
    tree_path: &str,
    tree: &XgbTree,
    missing: Missing,
    protos: &mut Vec<Proto>,
) -> Result<(), Error> {
    let n = tree.left_children.len();
    let lengths = [
        ("right_children", tree.right_children.len()),
        ("split_indices", tree.split_indices.len()),
        ("split_conditions", tree.split_conditions.len()),
        ("default_left", tree.default_left.len()),
    ];
    if let Some((name, len)) = lengths.iter().find(|(_, len)| *len != n) {
        return Err(Error::invalid(
            file,
            format!("{tree_path}.{name}"),
            format!("{len} entries, expected {n} like left_children"),
        ));
    }
    if let Some(k) = tree.split_type.iter().position(|&s| s != 0) {
        return Err(Error::unsupported(
            file,
            format!("{tree_path}.split_type[{k}]"),
            "categorical splits are not supported, expected numerical splits (0)".into(),
        ));
    }
    protos.clear();
    for i in 0..n {
        let (left, right) = (tree.left_children[i], tree.right_children[i]);
        let condition = tree.split_conditions[i];
        if left == -1 {
            protos.push(Proto::Leaf(condition));
            continue;
        }
        let child = |c: i64, side: &str| {
            usize::try_from(c).ok().filter(|&c| c < n).ok_or_else(|| {
                Error::invalid(
                    file,
                    format!("{tree_path}.{side}_children[{i}]"),
                    format!("child {c} is out of range, expected -1 or an index below {n}"),
                )
            })
        };
        let feature = u32::try_from(tree.split_indices[i]).map_err(|_| {
            Error::invalid(
                file,
                format!("{tree_path}.split_indices[{i}]"),
                format!("feature index {} is out of range", tree.split_indices[i]),
            )
        })?;
        if condition.is_nan() {
            return Err(Error::invalid(
                file,
                format!("{tree_path}.split_conditions[{i}]"),
                "split condition is NaN, expected a number".into(),
            ));
        }
        #[allow(clippy::cast_possible_truncation)]
        let condition32 = condition as f32;
        protos.push(Proto::Split {
            feature,
            threshold: f32_below(condition32),
            left: child(left, "left")?,
            right: child(right, "right")?,
            missing,
            default_left: tree.default_left[i].is_set(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::NumberText;

    #[test]
    fn base_score_forms() {
        assert_eq!(NumberText::Text("[5E-1]".into()).value(), Some(0.5));
        assert_eq!(NumberText::Text("6.2E-1".into()).value(), Some(0.62));
        assert_eq!(NumberText::Number(0.25).value(), Some(0.25));
        assert_eq!(NumberText::Text("[0.1,0.2]".into()).value(), None);
    }
}
