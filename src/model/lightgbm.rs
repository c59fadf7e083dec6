//! Import of LightGBM's text model format (`Booster.save_model("model.txt")` or
//! `Booster.model_to_string()`).
//!
//! Supported: objective `binary` (with its `sigmoid:` parameter), numerical splits, the
//! `gbdt` sum of trees and the averaged output of `rf` boosting. Each split follows
//! LightGBM's `NumericalDecision`: with `decision_type` bit 1 the default side is left; its
//! missing type (bits 2–3) is `None` (NaN is compared as 0), `Zero` (NaN and `|x| <= 1e-35`
//! go to the default side) or `NaN` (NaN goes to the default side); otherwise `x <= threshold`
//! with the `f64` threshold.

use super::error::Error;
use super::tree::{
    f32_at_or_below, Aggregate, Ensemble, EnsembleBuilder, Link, Missing, Proto, TreeLimits,
};

/// Where errors point: a line of a standalone file, or a line of the text embedded at a JSON
/// path.
struct Place<'a> {
    file: &'a str,
    path: &'a str,
}

impl Place<'_> {
    fn invalid(&self, line: usize, message: String) -> Error {
        if self.path.is_empty() {
            Error::invalid_at_line(self.file, line, message)
        } else {
            Error::invalid(self.file, format!("{}, line {line}", self.path), message)
        }
    }

    fn unsupported(&self, line: usize, message: String) -> Error {
        if self.path.is_empty() {
            Error::unsupported_at_line(self.file, line, message)
        } else {
            Error::unsupported(self.file, format!("{}, line {line}", self.path), message)
        }
    }
}

/// One `key=value` line of a tree block, with its 1-based line number.
struct Field<'t> {
    line: usize,
    value: &'t str,
}

fn numbers<T: std::str::FromStr>(
    place: &Place<'_>,
    field: &Field<'_>,
    key: &str,
    expected: usize,
) -> Result<Vec<T>, Error> {
    // `expected` comes from the file: do not trust it for the allocation.
    let mut out = Vec::with_capacity(expected.min(1 << 12));
    for word in field.value.split_ascii_whitespace() {
        match word.parse::<T>() {
            Ok(v) => out.push(v),
            Err(_) => {
                return Err(
                    place.invalid(field.line, format!("{key} has {word:?}, expected a number"))
                )
            }
        }
    }
    if out.len() != expected {
        return Err(place.invalid(
            field.line,
            format!("{key} has {} values, expected {expected}", out.len()),
        ));
    }
    Ok(out)
}

/// What the header (the lines before the first tree) says.
struct Header {
    /// `sigmoid:` of the binary objective.
    scale: f64,
    /// `rf` boosting averages the trees instead of summing them.
    average_output: bool,
}

fn header<'t>(
    place: &Place<'_>,
    lines: &mut impl Iterator<Item = (usize, &'t str)>,
) -> Result<(Header, (usize, &'t str)), Error> {
    let mut objective: Option<(usize, &str)> = None;
    let mut average_output = false;
    let mut first_tree = None;
    let mut saw_magic = false;
    for (n, line) in lines.by_ref() {
        if line.starts_with("Tree=") {
            first_tree = Some((n, line));
            break;
        }
        if line == "tree" {
            saw_magic = true;
        }
        match line.split_once('=') {
            Some(("objective", v)) => objective = Some((n, v)),
            Some(("num_class", v)) if v.trim() != "1" => {
                return Err(place.unsupported(
                    n,
                    format!("num_class={v} is not supported, expected a binary model (1)"),
                ));
            }
            Some(("num_tree_per_iteration", v)) if v.trim() != "1" => {
                return Err(place.unsupported(
                    n,
                    format!("num_tree_per_iteration={v} is not supported, expected 1"),
                ));
            }
            _ if line == "average_output" => average_output = true,
            _ => {}
        }
    }
    if !saw_magic {
        return Err(place.invalid(
            1,
            "not a LightGBM text model, expected a first line \"tree\"".into(),
        ));
    }
    let Some((objective_line, objective)) = objective else {
        return Err(place.invalid(
            1,
            "no objective= line, expected \"objective=binary sigmoid:1\"".into(),
        ));
    };
    let mut words = objective.split_ascii_whitespace();
    if words.next() != Some("binary") {
        return Err(place.unsupported(
            objective_line,
            format!("objective {objective:?} is not supported, expected \"binary\""),
        ));
    }
    let mut scale = 1.0;
    for word in words {
        if let Some(v) = word.strip_prefix("sigmoid:") {
            scale = v
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    place.invalid(
                        objective_line,
                        format!("sigmoid:{v} is not a positive number"),
                    )
                })?;
        }
    }
    let first_tree = first_tree
        .ok_or_else(|| place.invalid(1, "no \"Tree=\" line, expected at least one tree".into()))?;
    Ok((
        Header {
            scale,
            average_output,
        },
        first_tree,
    ))
}

/// The missing-value rule of a split from its `decision_type` bits; categorical splits and
/// unknown missing types are refused.
fn missing_rule(place: &Place<'_>, line: usize, node: usize, dt: u8) -> Result<Missing, Error> {
    if dt & 1 != 0 {
        return Err(place.unsupported(
            line,
            format!("node {node} is a categorical split, expected numerical splits"),
        ));
    }
    match (dt >> 2) & 3 {
        0 => Ok(Missing::NanIsZero),
        1 => Ok(Missing::NearZeroOrNan),
        2 => Ok(Missing::Nan),
        other => Err(place.invalid(
            line,
            format!("node {node} has missing type {other}, expected 0 (none), 1 (zero) or 2 (NaN)"),
        )),
    }
}

/// Turns one tree block into nodes: internal nodes keep their indices, leaf `k` becomes node
/// `internal + k`. Returns the number of internal nodes.
fn tree_protos(
    place: &Place<'_>,
    (tree_line, tree_header): (usize, &str),
    fields: &[(&str, Field<'_>)],
    protos: &mut Vec<Proto>,
) -> Result<usize, Error> {
    let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, f)| f);
    let need = |key: &str| {
        get(key).ok_or_else(|| {
            place.invalid(
                tree_line,
                format!("{tree_header} has no {key}= line, expected one"),
            )
        })
    };
    let num_leaves: usize = {
        let f = need("num_leaves")?;
        f.value
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                place.invalid(
                    f.line,
                    format!("num_leaves={} is not a positive count", f.value),
                )
            })?
    };
    for key in ["num_cat", "is_linear"] {
        if let Some(f) = get(key) {
            if f.value.trim() != "0" {
                return Err(place.unsupported(
                    f.line,
                    format!(
                        "{key}={} is not supported, expected 0 (numerical, constant leaves)",
                        f.value
                    ),
                ));
            }
        }
    }
    let leaf_values: Vec<f64> = numbers(place, need("leaf_value")?, "leaf_value", num_leaves)?;
    protos.clear();
    let internal = num_leaves - 1;
    if internal > 0 {
        let feature: Vec<u32> = numbers(place, need("split_feature")?, "split_feature", internal)?;
        let threshold: Vec<f64> = numbers(place, need("threshold")?, "threshold", internal)?;
        let decision: Vec<u8> = numbers(place, need("decision_type")?, "decision_type", internal)?;
        let left: Vec<i64> = numbers(place, need("left_child")?, "left_child", internal)?;
        let right: Vec<i64> = numbers(place, need("right_child")?, "right_child", internal)?;
        let child = |c: i64, key: &str| -> Result<usize, Error> {
            let target = if c >= 0 {
                usize::try_from(c).ok().filter(|&c| c < internal)
            } else {
                usize::try_from(-(c + 1))
                    .ok()
                    .filter(|&l| l < num_leaves)
                    .map(|l| internal + l)
            };
            target.ok_or_else(|| {
                place.invalid(
                    get(key).map_or(tree_line, |f| f.line),
                    format!("{key} has {c}, expected an internal node below {internal} or a leaf ~k with k below {num_leaves}"),
                )
            })
        };
        let decision_line = need("decision_type")?.line;
        for i in 0..internal {
            let dt = decision[i];
            let missing = missing_rule(place, decision_line, i, dt)?;
            if threshold[i].is_nan() {
                return Err(place.invalid(
                    need("threshold")?.line,
                    format!("node {i} has a NaN threshold, expected a number"),
                ));
            }
            protos.push(Proto::Split {
                feature: feature[i],
                threshold: f32_at_or_below(threshold[i]),
                left: child(left[i], "left_child")?,
                right: child(right[i], "right_child")?,
                missing,
                default_left: dt & 2 != 0,
            });
        }
    }
    protos.extend(leaf_values.iter().map(|&v| Proto::Leaf(v)));
    Ok(internal)
}

/// Compiles a LightGBM text model. `path` is the JSON path of the embedded text (empty for a
/// standalone file).
pub(crate) fn compile(
    file: &str,
    path: &str,
    text: &str,
    limits: TreeLimits,
) -> Result<Ensemble, Error> {
    let place = Place { file, path };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let (header, first_tree) = header(&place, &mut lines)?;

    let mut builder = EnsembleBuilder::new(file, limits);
    let mut protos: Vec<Proto> = Vec::new();
    let mut fields: Vec<(&str, Field<'_>)> = Vec::new();
    let mut next = Some(first_tree);
    let mut saw_end = false;
    while let Some((tree_line, tree_header)) = next.take() {
        let tree_path = if path.is_empty() {
            format!("line {tree_line} ({tree_header})")
        } else {
            format!("{path}, line {tree_line} ({tree_header})")
        };
        // The block's fields run to the blank line that ends it.
        fields.clear();
        let mut end_line = tree_line;
        for (n, line) in lines.by_ref() {
            end_line = n;
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once('=') {
                fields.push((k, Field { line: n, value: v }));
            }
        }
        let internal = tree_protos(&place, (tree_line, tree_header), &fields, &mut protos)?;
        builder.push_unordered(&protos, 0, &tree_path, |i| {
            if i < internal {
                format!("{tree_path}, internal node {i}")
            } else {
                format!("{tree_path}, leaf {}", i - internal)
            }
        })?;

        // The next tree header, or the end of the trees.
        for (n, line) in lines.by_ref() {
            if line.starts_with("Tree=") {
                next = Some((n, line));
                break;
            }
            if line == "end of trees" {
                saw_end = true;
                break;
            }
            if !line.is_empty() {
                return Err(place.invalid(n, format!("unexpected line {line:?} after the tree ending at line {end_line}, expected \"Tree=\" or \"end of trees\"")));
            }
        }
    }
    if !saw_end {
        let message = "the text ends without an \"end of trees\" line: the model looks truncated";
        return Err(if path.is_empty() {
            Error::syntax_at_line(file, text.lines().count(), message.into())
        } else {
            Error::invalid(file, path, message.into())
        });
    }
    let aggregate = if header.average_output {
        Aggregate::Mean
    } else {
        Aggregate::Sum
    };
    builder.finish(
        aggregate,
        0.0,
        Link::Logistic {
            scale: header.scale,
        },
    )
}
