//! Decision trees compiled into flat arrays, and ensembles of them.
//!
//! Every tree, whatever it came from, is compiled into one array of [`Node`]s in which each
//! node's children come after it. A split sends a row left when `x <= threshold`, both in
//! `f32`, after a per-node rule for missing values. The thresholds are chosen at compile time
//! so that this comparison reproduces the original library's decision for every `f32` input:
//!
//! - scikit-learn and LightGBM compare `x <= t` with `x` widened from `f32` and `t` an `f64`:
//!   the compiled threshold is [`f32_at_or_below`]`(t)`, the largest `f32` not above `t`
//!   (rounding `t` to the nearest `f32` instead would send `x` between `t` and its rounded
//!   value the wrong way);
//! - XGBoost compares `x < c` with `c` an `f32`: the compiled threshold is the `f32` just
//!   below `c` ([`f32_below`]).

use super::error::Error;
use super::FeatureRow;

/// How a split treats a missing (NaN) or, for sparse-trained boosters, absent value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Missing {
    /// NaN goes to the default side (scikit-learn, XGBoost on dense input, LightGBM
    /// `missing_type=NaN`).
    Nan,
    /// NaN or exactly zero goes to the default side (XGBoost trained on sparse input, where a
    /// zero is an absent entry).
    ZeroOrNan,
    /// NaN or `|x| <= 1e-35` goes to the default side (LightGBM `missing_type=Zero`).
    NearZeroOrNan,
    /// NaN is compared as zero (LightGBM `missing_type=None`).
    NanIsZero,
}

/// LightGBM's `kZeroThreshold` (a float literal `1e-35f`).
const LIGHTGBM_ZERO: f32 = 1e-35;

/// A node of a compiled tree. A leaf has `feature == LEAF`; its value is in the ensemble's
/// `values` array at the node's own index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub(crate) feature: u32,
    pub(crate) threshold: f32,
    pub(crate) left: u32,
    pub(crate) right: u32,
    pub(crate) missing: Missing,
    pub(crate) default_left: bool,
}

pub(crate) const LEAF: u32 = u32::MAX;

impl Node {
    pub(crate) const fn leaf() -> Node {
        Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            missing: Missing::Nan,
            default_left: false,
        }
    }

    #[inline]
    fn goes_left(&self, x: f32) -> bool {
        match self.missing {
            Missing::Nan if x.is_nan() => self.default_left,
            Missing::ZeroOrNan if x.is_nan() || x == 0.0 => self.default_left,
            Missing::NearZeroOrNan if x.is_nan() || x.abs() <= LIGHTGBM_ZERO => self.default_left,
            Missing::NanIsZero if x.is_nan() => 0.0 <= self.threshold,
            _ => x <= self.threshold,
        }
    }
}

/// How tree outputs are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aggregate {
    /// `base_margin + Σ leaf` (gradient boosting).
    Sum,
    /// `base_margin + mean(leaf)` (random forests; a single tree).
    Mean,
}

/// The function from the aggregated output to a probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Link {
    /// The output is already a probability.
    Identity,
    /// `1 / (1 + exp(-scale * z))`; scale is 1 except for LightGBM's `sigmoid` parameter.
    Logistic { scale: f64 },
}

/// Compiled trees: all nodes in one array, one root per tree.
#[derive(Clone, Debug)]
pub(crate) struct Ensemble {
    nodes: Box<[Node]>,
    /// Leaf values, parallel to `nodes` (unused at split nodes). Kept apart so the node
    /// array stays small and dense for the walk.
    values: Box<[f64]>,
    roots: Box<[u32]>,
    aggregate: Aggregate,
    base_margin: f64,
    link: Link,
}

impl Ensemble {
    #[inline]
    fn leaf_value(&self, root: u32, row: &FeatureRow<'_>, named: usize) -> f64 {
        let mut i = root as usize;
        loop {
            let node = &self.nodes[i];
            if node.feature == LEAF {
                return self.values[i];
            }
            let x = row.value(node.feature as usize, named);
            i = if node.goes_left(x) {
                node.left as usize
            } else {
                node.right as usize
            };
        }
    }

    /// The probability for `row`, `named` being the number of named features.
    pub(crate) fn predict(&self, row: &FeatureRow<'_>, named: usize) -> f64 {
        let z = match self.aggregate {
            Aggregate::Sum => {
                let mut z = self.base_margin;
                for &root in &*self.roots {
                    z += self.leaf_value(root, row, named);
                }
                z
            }
            Aggregate::Mean => {
                let mut sum = 0.0;
                for &root in &*self.roots {
                    sum += self.leaf_value(root, row, named);
                }
                #[allow(clippy::cast_precision_loss)]
                let n = self.roots.len() as f64;
                self.base_margin + sum / n
            }
        };
        match self.link {
            Link::Identity => z,
            Link::Logistic { scale } => super::expit(scale * z),
        }
    }

    /// The splits `row` takes through tree `tree` (root first) and the value of the leaf it
    /// reaches, walking exactly as [`predict`](Self::predict) does.
    pub(crate) fn path(
        &self,
        tree: usize,
        row: &FeatureRow<'_>,
        named: usize,
    ) -> Option<super::DecisionPath> {
        let mut i = *self.roots.get(tree)? as usize;
        let mut steps = Vec::new();
        loop {
            let node = &self.nodes[i];
            if node.feature == LEAF {
                return Some(super::DecisionPath {
                    steps,
                    leaf: self.values[i],
                });
            }
            let value = row.value(node.feature as usize, named);
            let left = node.goes_left(value);
            steps.push(super::PathStep {
                feature: node.feature as usize,
                value,
                threshold: node.threshold,
                left,
            });
            i = if left {
                node.left as usize
            } else {
                node.right as usize
            };
        }
    }

    pub(crate) fn tree_count(&self) -> usize {
        self.roots.len()
    }

    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// The largest `f32` that is not above `t`: for every `f32` value `x`,
/// `x <= f32_at_or_below(t)` exactly when `f64::from(x) <= t`.
///
/// `t` must not be NaN (the loader refuses NaN thresholds); for NaN it returns NaN.
#[must_use]
pub fn f32_at_or_below(t: f64) -> f32 {
    // Rounding to nearest can land above `t`; then step down once. Overflow rounds to
    // infinity, which steps down to f32::MAX when `t` is finite.
    #[allow(clippy::cast_possible_truncation)]
    let rounded = t as f32;
    if f64::from(rounded) > t {
        next_down(rounded)
    } else {
        rounded
    }
}

/// The largest `f32` below `c`: for every non-NaN `f32` value `x`, `x <= f32_below(c)`
/// exactly when `x < c`.
#[must_use]
pub fn f32_below(c: f32) -> f32 {
    next_down(c)
}

/// The next `f32` toward negative infinity (`f32::next_down`, stable only since Rust 1.86).
fn next_down(x: f32) -> f32 {
    if x.is_nan() || x == f32::NEG_INFINITY {
        return x;
    }
    if x == 0.0 {
        return -f32::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f32::from_bits(bits - 1)
    } else {
        f32::from_bits(bits + 1)
    }
}

/// A tree node before compilation, in whatever order the source numbered them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Proto {
    Split {
        feature: u32,
        threshold: f32,
        left: usize,
        right: usize,
        missing: Missing,
        default_left: bool,
    },
    Leaf(f64),
}

/// Limits the compiler enforces, copied from the loader's [`super::Limits`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TreeLimits {
    pub(crate) max_nodes: usize,
    pub(crate) max_depth: usize,
    pub(crate) max_trees: usize,
    pub(crate) dimension: usize,
}

/// Builds an [`Ensemble`] tree by tree, checking every structural rule.
pub(crate) struct EnsembleBuilder<'a> {
    file: &'a str,
    limits: TreeLimits,
    nodes: Vec<Node>,
    values: Vec<f64>,
    roots: Vec<u32>,
}

impl<'a> EnsembleBuilder<'a> {
    pub(crate) fn new(file: &'a str, limits: TreeLimits) -> EnsembleBuilder<'a> {
        EnsembleBuilder {
            file,
            limits,
            nodes: Vec::new(),
            values: Vec::new(),
            roots: Vec::new(),
        }
    }

    fn check_sizes(&self, added: usize, path: &str) -> Result<(), Error> {
        if self.roots.len() >= self.limits.max_trees {
            return Err(Error::limit(
                self.file,
                path,
                format!(
                    "more than {} trees, the configured limit",
                    self.limits.max_trees
                ),
            ));
        }
        if self.nodes.len() + added > self.limits.max_nodes {
            return Err(Error::limit(
                self.file,
                path,
                format!(
                    "more than {} tree nodes in all, the configured limit",
                    self.limits.max_nodes
                ),
            ));
        }
        if added == 0 {
            return Err(Error::invalid(
                self.file,
                path,
                "the tree has no nodes, expected at least a root leaf".into(),
            ));
        }
        Ok(())
    }

    fn check_split(&self, path: &str, feature: u32) -> Result<(), Error> {
        if feature as usize >= self.limits.dimension {
            return Err(Error::invalid(
                self.file,
                path,
                format!(
                    "feature index {feature} is out of range, expected an index below the schema's dimension {}",
                    self.limits.dimension
                ),
            ));
        }
        Ok(())
    }

    fn check_leaf(&self, path: &str, value: f64) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(Error::invalid(
                self.file,
                path,
                format!("leaf value {value} is not finite, expected a finite number"),
            ));
        }
        Ok(())
    }

    /// Adds a tree whose nodes are already in chatguard order: node 0 is the root and every
    /// child comes after its parent. `path(i)` names node `i` in errors.
    pub(crate) fn push_ordered(
        &mut self,
        protos: &[Proto],
        tree_path: &str,
        path: impl Fn(usize) -> String,
    ) -> Result<(), Error> {
        self.check_sizes(protos.len(), tree_path)?;
        let n = protos.len();
        // Parent of each node (u32::MAX for none) and depth, both filled in index order:
        // parents come first, so one pass sees every parent before its children.
        let mut parent = vec![u32::MAX; n];
        let mut depth = vec![0usize; n];
        let offset = self.nodes.len();
        for (i, proto) in protos.iter().enumerate() {
            match *proto {
                Proto::Leaf(value) => {
                    self.check_leaf(&path(i), value)?;
                    self.nodes.push(Node::leaf());
                    self.values.push(value);
                }
                Proto::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    missing,
                    default_left,
                } => {
                    self.check_split(&path(i), feature)?;
                    for (side, child) in [("left", left), ("right", right)] {
                        let child_path = format!("{}.{side}", path(i));
                        if child <= i {
                            return Err(Error::invalid(
                                self.file,
                                child_path,
                                format!(
                                    "child {child} points back to an earlier node (or to itself), expected an index after {i}: children must come after their parent"
                                ),
                            ));
                        }
                        if child >= n {
                            return Err(Error::invalid(
                                self.file,
                                child_path,
                                format!(
                                    "child {child} is out of range, expected an index below {n}, the number of nodes"
                                ),
                            ));
                        }
                        if parent[child] != u32::MAX {
                            return Err(Error::invalid(
                                self.file,
                                child_path,
                                format!(
                                    "node {child} is already the child of node {}, expected each node to have one parent",
                                    parent[child]
                                ),
                            ));
                        }
                        // `i < n <= max_nodes`, which fits in u32 (checked by the caller's limits).
                        #[allow(clippy::cast_possible_truncation)]
                        {
                            parent[child] = i as u32;
                        }
                        depth[child] = depth[i] + 1;
                        if depth[child] > self.limits.max_depth {
                            return Err(Error::limit(
                                self.file,
                                child_path,
                                format!(
                                    "the tree is deeper than {}, the configured limit",
                                    self.limits.max_depth
                                ),
                            ));
                        }
                    }
                    #[allow(clippy::cast_possible_truncation)]
                    self.nodes.push(Node {
                        feature,
                        threshold,
                        left: (offset + left) as u32,
                        right: (offset + right) as u32,
                        missing,
                        default_left,
                    });
                    self.values.push(0.0);
                }
            }
        }
        if let Some(orphan) = (1..n).find(|&i| parent[i] == u32::MAX) {
            return Err(Error::invalid(
                self.file,
                path(orphan),
                format!("node {orphan} is not the child of any node, expected every node but the root to be reachable"),
            ));
        }
        #[allow(clippy::cast_possible_truncation)]
        self.roots.push(offset as u32);
        Ok(())
    }

    /// Adds a tree whose nodes are in any order, renumbering them depth-first from `root` so
    /// children come after parents. Used for imported models.
    pub(crate) fn push_unordered(
        &mut self,
        protos: &[Proto],
        root: usize,
        tree_path: &str,
        path: impl Fn(usize) -> String,
    ) -> Result<(), Error> {
        self.check_sizes(protos.len(), tree_path)?;
        let n = protos.len();
        if root >= n {
            return Err(Error::invalid(
                self.file,
                tree_path,
                format!("root {root} is out of range, expected an index below {n}"),
            ));
        }
        // Preorder walk: assign each visited source node the next position.
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut position = vec![usize::MAX; n];
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((i, depth)) = stack.pop() {
            if position[i] != usize::MAX {
                return Err(Error::invalid(
                    self.file,
                    path(i),
                    format!("node {i} is reached twice, expected a tree (no shared children, no cycles)"),
                ));
            }
            if depth > self.limits.max_depth {
                return Err(Error::limit(
                    self.file,
                    path(i),
                    format!(
                        "the tree is deeper than {}, the configured limit",
                        self.limits.max_depth
                    ),
                ));
            }
            position[i] = order.len();
            order.push(i);
            if let Proto::Split { left, right, .. } = protos[i] {
                for child in [right, left] {
                    if child >= n {
                        return Err(Error::invalid(
                            self.file,
                            path(i),
                            format!("child {child} is out of range, expected an index below {n}"),
                        ));
                    }
                    stack.push((child, depth + 1));
                }
            }
        }
        let ordered: Vec<Proto> = order
            .iter()
            .map(|&i| match protos[i] {
                Proto::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    missing,
                    default_left,
                } => Proto::Split {
                    feature,
                    threshold,
                    left: position[left],
                    right: position[right],
                    missing,
                    default_left,
                },
                leaf @ Proto::Leaf(_) => leaf,
            })
            .collect();
        // Unreachable source nodes are dropped; they can never be visited.
        self.push_ordered(&ordered, tree_path, |i| path(order[i]))
    }

    pub(crate) fn finish(
        self,
        aggregate: Aggregate,
        base_margin: f64,
        link: Link,
    ) -> Result<Ensemble, Error> {
        if self.roots.is_empty() {
            return Err(Error::invalid(
                self.file,
                "model",
                "the ensemble has no trees, expected at least one".into(),
            ));
        }
        Ok(Ensemble {
            nodes: self.nodes.into_boxed_slice(),
            values: self.values.into_boxed_slice(),
            roots: self.roots.into_boxed_slice(),
            aggregate,
            base_margin,
            link,
        })
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    /// Every f32 near `t`: its rounded value and a few neighbours either side.
    fn neighbours(t: f64) -> Vec<f32> {
        #[allow(clippy::cast_possible_truncation)]
        let center = t as f32;
        let mut out = vec![center];
        let (mut up, mut down) = (center, center);
        for _ in 0..3 {
            down = next_down(down);
            up = -next_down(-up);
            out.push(down);
            out.push(up);
        }
        out.extend([
            0.0,
            -0.0,
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ]);
        out
    }

    fn assert_same_decisions(t: f64) {
        let compiled = f32_at_or_below(t);
        for x in neighbours(t) {
            assert_eq!(
                x <= compiled,
                f64::from(x) <= t,
                "x = {x:e}, t = {t:e}, compiled = {compiled:e}"
            );
        }
    }

    #[test]
    fn threshold_edges() {
        let midpoint = (f64::from(1.0f32) + f64::from(-next_down(-1.0f32))) / 2.0;
        for t in [
            0.5,
            0.1,
            -0.1,
            1.0,
            midpoint,
            -midpoint,
            f64::from(f32::MAX),
            f64::from(f32::MAX) * 1.5,
            f64::MAX,
            -f64::MAX,
            f64::from(f32::MIN_POSITIVE) / 2.0,
            1e-45,
            7e-46,
            -1e-45,
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            16_777_217.0,
            1.000_000_018_002_509_5e-35,
        ] {
            assert_same_decisions(t);
        }
        // Rounding to nearest would be wrong here: 0.1 rounds up to an f32 above 0.1.
        assert!(f64::from(0.1f32) > 0.1);
        assert!(f64::from(f32_at_or_below(0.1)) < 0.1);
    }

    #[test]
    fn strict_threshold_edges() {
        for c in [0.5f32, 0.0, -0.0, 1e-45, -1e-45, f32::MAX, f32::MIN, 3.3] {
            let t = f32_below(c);
            for x in neighbours(f64::from(c)) {
                assert_eq!(x <= t, x < c, "x = {x:e}, c = {c:e}");
            }
        }
    }

    #[test]
    fn missing_rules() {
        let node = |missing, default_left| Node {
            feature: 0,
            threshold: -1.0,
            left: 1,
            right: 2,
            missing,
            default_left,
        };
        assert!(node(Missing::Nan, true).goes_left(f32::NAN));
        assert!(!node(Missing::Nan, true).goes_left(0.0));
        assert!(node(Missing::ZeroOrNan, true).goes_left(0.0));
        assert!(node(Missing::ZeroOrNan, true).goes_left(-0.0));
        assert!(!node(Missing::ZeroOrNan, true).goes_left(1e-40));
        assert!(node(Missing::NearZeroOrNan, true).goes_left(1e-36));
        assert!(!node(Missing::NanIsZero, true).goes_left(f32::NAN));
        assert!(node(Missing::NanIsZero, false).goes_left(-2.0));
    }

    proptest::proptest! {
        #[test]
        fn threshold_matches_f64_comparison(t in proptest::num::f64::ANY, bits: u32) {
            let x = f32::from_bits(bits);
            if !t.is_nan() && !x.is_nan() {
                proptest::prop_assert_eq!(x <= f32_at_or_below(t), f64::from(x) <= t);
                for x in neighbours(t) {
                    proptest::prop_assert_eq!(x <= f32_at_or_below(t), f64::from(x) <= t);
                }
            }
        }
    }
}
