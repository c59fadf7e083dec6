//! Linear models with a logistic link, and their calibrated ensembles.

use super::error::Error;
use super::file::{RawCalibrator, RawLinear};
use super::FeatureRow;

/// Hashed blocks up to this many columns get a dense weight array (8 MiB of `f64`); larger
/// ones keep their non-zero weights sorted and are searched.
const DENSE_HASHED_MAX: usize = 1 << 20;

/// `intercept + w · x`, with the named-feature weights and the hashed-block weights apart.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    intercept: f64,
    /// One weight per named feature.
    named: Box<[f64]>,
    hashed: Hashed,
}

#[derive(Clone, Debug)]
enum Hashed {
    Dense(Box<[f64]>),
    Sparse {
        index: Box<[u32]>,
        weight: Box<[f64]>,
    },
}

impl Hashed {
    #[inline]
    fn weight(&self, i: u32) -> f64 {
        match self {
            Hashed::Dense(w) => w.get(i as usize).copied().unwrap_or(0.0),
            Hashed::Sparse { index, weight } => match index.binary_search(&i) {
                Ok(k) => weight[k],
                Err(_) => 0.0,
            },
        }
    }
}

impl Linear {
    /// Validates and compiles `raw`; `path` is its JSON path for errors.
    pub(crate) fn compile(
        file: &str,
        path: &str,
        raw: &RawLinear,
        named: usize,
        dimension: usize,
    ) -> Result<Linear, Error> {
        if !raw.intercept.is_finite() {
            return Err(Error::invalid(
                file,
                format!("{path}.intercept"),
                format!(
                    "intercept {} is not finite, expected a finite number",
                    raw.intercept
                ),
            ));
        }
        let hashed_len = dimension - named;
        let mut named_w = vec![0.0; named];
        let mut seen = vec![
            false;
            if hashed_len <= DENSE_HASHED_MAX {
                dimension
            } else {
                named
            }
        ];
        let mut sparse: Vec<(u32, f64)> = Vec::new();
        let mut dense_hashed = if hashed_len <= DENSE_HASHED_MAX {
            Some(vec![0.0; hashed_len])
        } else {
            None
        };
        for (k, &(index, w)) in raw.weights.iter().enumerate() {
            let at = || format!("{path}.weights[{k}]");
            if !w.is_finite() {
                return Err(Error::invalid(
                    file,
                    at(),
                    format!(
                        "weight {w} of feature {index} is not finite, expected a finite number"
                    ),
                ));
            }
            let j = index as usize;
            if j >= dimension {
                return Err(Error::invalid(
                    file,
                    at(),
                    format!("feature index {index} is out of range, expected an index below the schema's dimension {dimension}"),
                ));
            }
            if j < seen.len() {
                if seen[j] {
                    return Err(Error::invalid(
                        file,
                        at(),
                        format!(
                            "feature index {index} appears twice, expected one weight per feature"
                        ),
                    ));
                }
                seen[j] = true;
            }
            if j < named {
                named_w[j] = w;
            } else if let Some(dense) = dense_hashed.as_mut() {
                dense[j - named] = w;
            } else {
                #[allow(clippy::cast_possible_truncation)]
                sparse.push(((j - named) as u32, w));
            }
        }
        let hashed = if let Some(dense) = dense_hashed {
            Hashed::Dense(dense.into_boxed_slice())
        } else {
            sparse.sort_unstable_by_key(|&(i, _)| i);
            if let Some(pair) = sparse.windows(2).find(|p| p[0].0 == p[1].0) {
                return Err(Error::invalid(
                    file,
                    format!("{path}.weights"),
                    format!(
                        "feature index {} appears twice, expected one weight per feature",
                        pair[0].0 as usize + named
                    ),
                ));
            }
            Hashed::Sparse {
                index: sparse.iter().map(|&(i, _)| i).collect(),
                weight: sparse.iter().map(|&(_, w)| w).collect(),
            }
        };
        Ok(Linear {
            intercept: raw.intercept,
            named: named_w.into_boxed_slice(),
            hashed,
        })
    }

    /// The weight of column `j` of the full vector (`named` columns come first).
    pub(crate) fn weight(&self, j: usize) -> f64 {
        match self.named.get(j) {
            Some(&w) => w,
            None => u32::try_from(j - self.named.len()).map_or(0.0, |i| self.hashed.weight(i)),
        }
    }

    /// The decision function `intercept + w · x`.
    #[inline]
    pub(crate) fn margin(&self, row: &FeatureRow<'_>) -> f64 {
        let named = self.named.len();
        let (head, tail) = row.dense.split_at(row.dense.len().min(named));
        let mut dot = 0.0;
        for (&w, &x) in self.named.iter().zip(head) {
            dot += w * f64::from(x);
        }
        // A dense row over the full dimension carries the hashed block after the named part.
        let hashed_dense = tail.iter().enumerate().map(|(i, &x)| (i, x));
        let hashed_sparse = row.hashed.iter().map(|&(i, x)| (i as usize, x));
        // Match once, outside the loops: this is the hot path of the commonest model.
        match &self.hashed {
            Hashed::Dense(w) => {
                for (i, x) in hashed_dense.chain(hashed_sparse) {
                    if let Some(&w) = w.get(i) {
                        dot += w * f64::from(x);
                    }
                }
            }
            Hashed::Sparse { .. } => {
                for (i, x) in hashed_dense.chain(hashed_sparse) {
                    if let Ok(i) = u32::try_from(i) {
                        dot += self.hashed.weight(i) * f64::from(x);
                    }
                }
            }
        }
        dot + self.intercept
    }
}

/// Up to two linear models over the same schema, their weights interleaved, scored together
/// in one pass over a message's features (the filter's spam and toxicity models).
///
/// The hashed block is read as one `(column, sign)` entry per token plus the factor that
/// L2-normalizes it (see [`crate::features`]): `w · x` over the merged, normalized block is
/// the same sum, so no sorting or merging is needed. Results equal
/// [`Model::predict_proba`](super::Model::predict_proba)'s up to the order of floating-point
/// additions.
#[derive(Clone, Debug)]
pub(crate) struct LinearPair {
    intercept: [f64; 2],
    named: Box<[[f64; 2]]>,
    hashed: Box<[[f64; 2]]>,
    present: [bool; 2],
}

impl LinearPair {
    /// A pair of the models that are plain linear models with a dense hashed block; `None`
    /// when neither is.
    pub(crate) fn new(models: [Option<&Linear>; 2]) -> Option<LinearPair> {
        let models = models.map(|m| m.filter(|l| matches!(l.hashed, Hashed::Dense(_))));
        let first = models.iter().flatten().next()?;
        let Hashed::Dense(first_hashed) = &first.hashed else {
            return None;
        };
        let (n_named, n_hashed) = (first.named.len(), first_hashed.len());
        let mut pair = LinearPair {
            intercept: [0.0; 2],
            named: vec![[0.0; 2]; n_named].into_boxed_slice(),
            hashed: vec![[0.0; 2]; n_hashed].into_boxed_slice(),
            present: [false; 2],
        };
        for (k, model) in models.iter().enumerate() {
            let Some(model) = model else { continue };
            let Hashed::Dense(hashed) = &model.hashed else {
                continue;
            };
            if model.named.len() != n_named || hashed.len() != n_hashed {
                continue;
            }
            pair.present[k] = true;
            pair.intercept[k] = model.intercept;
            for (slot, &w) in pair.named.iter_mut().zip(model.named.iter()) {
                slot[k] = w;
            }
            for (slot, &w) in pair.hashed.iter_mut().zip(hashed.iter()) {
                slot[k] = w;
            }
        }
        Some(pair)
    }

    /// Whether model `k` (0 or 1; any other `k` is not) is scored by this pair.
    pub(crate) fn has(&self, k: usize) -> bool {
        self.present.get(k).copied().unwrap_or(false)
    }

    /// Both models' decision functions for named features `named`, of which only those in
    /// `spans` may be non-zero (the others are skipped), and hashed `entries` (`(column,
    /// value)`, duplicates allowed) scaled by `scale`.
    #[inline]
    pub(crate) fn margins(
        &self,
        named: &[f32],
        spans: impl Iterator<Item = std::ops::Range<usize>>,
        entries: &[(u32, f32)],
        scale: f64,
    ) -> [f64; 2] {
        // Four partial sums per model, so that the additions do not wait on each other.
        let mut partial = [[0.0f64; 2]; 4];
        let n = self.named.len().min(named.len());
        for span in spans {
            let span = span.start.min(n)..span.end.min(n);
            let mut weights = self.named[span.clone()].chunks_exact(4);
            let mut values = named[span].chunks_exact(4);
            for (w, x) in (&mut weights).zip(&mut values) {
                for lane in 0..4 {
                    let x = f64::from(x[lane]);
                    partial[lane][0] += w[lane][0] * x;
                    partial[lane][1] += w[lane][1] * x;
                }
            }
            for (w, &x) in weights.remainder().iter().zip(values.remainder()) {
                let x = f64::from(x);
                partial[0][0] += w[0] * x;
                partial[0][1] += w[1] * x;
            }
        }
        let dot = [
            (partial[0][0] + partial[1][0]) + (partial[2][0] + partial[3][0]),
            (partial[0][1] + partial[1][1]) + (partial[2][1] + partial[3][1]),
        ];
        let mut hashed = [0.0f64; 2];
        for &(i, v) in entries {
            if let Some(w) = self.hashed.get(i as usize) {
                let v = f64::from(v);
                hashed[0] += w[0] * v;
                hashed[1] += w[1] * v;
            }
        }
        [
            self.intercept[0] + dot[0] + hashed[0] * scale,
            self.intercept[1] + dot[1] + hashed[1] * scale,
        ]
    }
}

/// A calibrator mapping a decision-function value to a probability.
#[derive(Clone, Debug)]
pub(crate) enum Calibrator {
    /// Platt scaling, scikit-learn's `_SigmoidCalibration`: `expit(-(a * t + b))`.
    Sigmoid { a: f64, b: f64 },
    /// `IsotonicRegression(out_of_bounds="clip")`: piecewise-linear through `(x, y)`.
    Isotonic { x: Box<[f64]>, y: Box<[f64]> },
}

impl Calibrator {
    pub(crate) fn compile(
        file: &str,
        path: &str,
        raw: &RawCalibrator,
    ) -> Result<Calibrator, Error> {
        let finite = |what: String, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::invalid(
                    file,
                    what,
                    format!("{v} is not finite, expected a finite number"),
                ))
            }
        };
        match raw {
            RawCalibrator::Sigmoid { a, b } => {
                finite(format!("{path}.sigmoid.a"), *a)?;
                finite(format!("{path}.sigmoid.b"), *b)?;
                Ok(Calibrator::Sigmoid { a: *a, b: *b })
            }
            RawCalibrator::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    return Err(Error::invalid(
                        file,
                        format!("{path}.isotonic"),
                        format!(
                            "x has {} values and y has {}, expected the same non-zero number",
                            x.len(),
                            y.len()
                        ),
                    ));
                }
                for (k, &v) in x.iter().enumerate() {
                    finite(format!("{path}.isotonic.x[{k}]"), v)?;
                    if k > 0 && x[k - 1] >= v {
                        return Err(Error::invalid(
                            file,
                            format!("{path}.isotonic.x[{k}]"),
                            format!(
                                "{v} does not follow {}, expected strictly increasing thresholds",
                                x[k - 1]
                            ),
                        ));
                    }
                }
                for (k, &v) in y.iter().enumerate() {
                    finite(format!("{path}.isotonic.y[{k}]"), v)?;
                }
                Ok(Calibrator::Isotonic {
                    x: x.clone().into_boxed_slice(),
                    y: y.clone().into_boxed_slice(),
                })
            }
        }
    }

    /// The calibrated probability for decision value `t`.
    pub(crate) fn apply(&self, t: f64) -> f64 {
        match self {
            Calibrator::Sigmoid { a, b } => super::expit(-(a * t + b)),
            Calibrator::Isotonic { x, y } => interp(x, y, t),
        }
    }
}

/// `numpy.interp(t, x, y)` (what scikit-learn's isotonic predictor computes, after clipping
/// `t` into `[x[0], x[last]]`), including its choice of formula at each point. Names follow
/// numpy's source.
#[allow(clippy::many_single_char_names, clippy::float_cmp)]
fn interp(x: &[f64], y: &[f64], t: f64) -> f64 {
    let last = x.len() - 1;
    if t.is_nan() {
        return t;
    }
    if t <= x[0] {
        return y[0];
    }
    if t >= x[last] {
        return y[last];
    }
    // x[j] <= t < x[j + 1]
    let j = x.partition_point(|&v| v <= t) - 1;
    if x[j] == t {
        return y[j];
    }
    let slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
    let v = slope * (t - x[j]) + y[j];
    if v.is_nan() {
        let v = slope * (t - x[j + 1]) + y[j + 1];
        if v.is_nan() && y[j] == y[j + 1] {
            return y[j];
        }
        return v;
    }
    v
}

/// One member of a `CalibratedClassifierCV(ensemble=True)`: a linear model and its
/// calibrator.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) linear: Linear,
    pub(crate) calibrator: Calibrator,
}

/// The mean of the members' calibrated probabilities, as `CalibratedClassifierCV` computes
/// it.
pub(crate) fn calibrated_proba(members: &[Member], row: &FeatureRow<'_>) -> f64 {
    let mut sum = 0.0;
    for member in members {
        let mut p = member.calibrator.apply(member.linear.margin(row));
        // scikit-learn snaps probabilities that minimally exceed 1 back to 1.
        if p > 1.0 && p <= 1.0 + 1e-5 {
            p = 1.0;
        }
        sum += p;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = members.len() as f64;
    sum / n
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn interp_matches_numpy() {
        let x = [0.0, 1.0, 3.0];
        let y = [0.0, 0.5, 1.0];
        assert_eq!(interp(&x, &y, -5.0), 0.0);
        assert_eq!(interp(&x, &y, 0.0), 0.0);
        assert_eq!(interp(&x, &y, 0.5), 0.25);
        assert_eq!(interp(&x, &y, 1.0), 0.5);
        assert_eq!(interp(&x, &y, 2.0), 0.75);
        assert_eq!(interp(&x, &y, 3.0), 1.0);
        assert_eq!(interp(&x, &y, 30.0), 1.0);
        assert_eq!(interp(&[2.0], &[0.25], 7.0), 0.25);
    }
}
