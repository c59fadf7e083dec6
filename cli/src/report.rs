//! `chatguard eval --report FILE`: a self-contained HTML page (inline SVG, no scripts, no
//! network) with, per category, the confusion matrix at the filter's own decision, a
//! precision–recall curve over the score, and a threshold table, so that a moderator can pick
//! thresholds by looking. The page is well-formed XML as well as HTML.

use std::fmt::Write as _;

/// One row of one category: whether it should be flagged, the score the filter gave it for
/// that category (higher = more likely), and whether the filter flagged it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scored {
    pub positive: bool,
    pub score: f64,
    pub flagged: bool,
}

/// A category's rows and what its score means.
pub(crate) struct Section {
    pub name: String,
    pub score_meaning: String,
    pub rows: Vec<Scored>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Precision and recall when flagging every row with `score >= t`, for each distinct score.
fn curve(rows: &[Scored]) -> Vec<(f64, f64, f64, usize, usize)> {
    let mut thresholds: Vec<f64> = rows.iter().map(|r| r.score).collect();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let positives = rows.iter().filter(|r| r.positive).count();
    thresholds
        .into_iter()
        .map(|t| {
            let tp = rows.iter().filter(|r| r.positive && r.score >= t).count();
            let fp = rows.iter().filter(|r| !r.positive && r.score >= t).count();
            let precision = if tp + fp == 0 {
                1.0
            } else {
                tp as f64 / (tp + fp) as f64
            };
            let recall = if positives == 0 {
                0.0
            } else {
                tp as f64 / positives as f64
            };
            (t, precision, recall, tp, fp)
        })
        .collect()
}

fn svg_curve(points: &[(f64, f64, f64, usize, usize)], title: &str) -> String {
    let (w, h, pad) = (360.0, 260.0, 40.0);
    let x = |r: f64| pad + r * (w - 2.0 * pad);
    let y = |p: f64| h - pad - p * (h - 2.0 * pad);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r##"<rect x="{pad}" y="{pad}" width="{}" height="{}" fill="#fafafa" stroke="#999"/>"##,
        w - 2.0 * pad,
        h - 2.0 * pad
    );
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>"##,
            x(0.0),
            y(v),
            x(1.0),
            y(v)
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{v:.2}</text>"#,
            pad - 4.0,
            y(v) + 3.0
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">{v:.2}</text>"#,
            x(v),
            h - pad + 14.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">recall</text>"#,
        w / 2.0,
        h - 6.0
    );
    let _ = write!(
        svg,
        r#"<text x="12" y="{}" font-size="11" transform="rotate(-90 12 {})" text-anchor="middle">precision</text>"#,
        h / 2.0,
        h / 2.0
    );
    let mut path = String::new();
    for (i, &(_, p, r, _, _)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            x(r),
            y(p)
        );
    }
    if !path.is_empty() {
        let _ = write!(
            svg,
            r##"<path d="{}" fill="none" stroke="#c0392b" stroke-width="2"/>"##,
            path.trim_end()
        );
    }
    for &(t, p, r, _, _) in points {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#c0392b"><title>score ≥ {t:.3}: precision {p:.3}, recall {r:.3}</title></circle>"##,
            x(r),
            y(p)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The whole page.
pub(crate) fn html(title: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
    let _ = write!(out, "<title>{}</title>", escape(title));
    out.push_str(
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:.5em 0}\
         td,th{border:1px solid #bbb;padding:.2em .6em;text-align:right}th{background:#eee}section{margin-bottom:2.5em}\
         .note{color:#555}</style></head><body>",
    );
    let _ = write!(out, "<h1>{}</h1>", escape(title));
    out.push_str("<p class=\"note\">Each section: the confusion matrix at the filter's own decision, the precision–recall curve over the score (hover a point for its threshold), and the table of thresholds.</p>");
    for s in sections {
        let positives = s.rows.iter().filter(|r| r.positive).count();
        let tp = s.rows.iter().filter(|r| r.positive && r.flagged).count();
        let fp = s.rows.iter().filter(|r| !r.positive && r.flagged).count();
        let fn_ = positives - tp;
        let tn = s.rows.len() - positives - fp;
        let _ = write!(
            out,
            "<section id=\"{}\"><h2>{}</h2>",
            escape(&s.name),
            escape(&s.name)
        );
        let _ = write!(
            out,
            "<p class=\"note\">{} rows, {} should be flagged. Score: {}.</p>",
            s.rows.len(),
            positives,
            escape(&s.score_meaning)
        );
        let _ = write!(
            out,
            "<table><tr><th></th><th>flagged</th><th>allowed</th></tr><tr><th>should be flagged</th><td>{tp}</td><td>{fn_}</td></tr><tr><th>should be allowed</th><td>{fp}</td><td>{tn}</td></tr></table>"
        );
        let points = curve(&s.rows);
        out.push_str(&svg_curve(
            &points,
            &format!("precision–recall, {}", s.name),
        ));
        out.push_str("<table><tr><th>flag when score ≥</th><th>precision</th><th>recall</th><th>flagged right</th><th>flagged wrong</th></tr>");
        for (t, p, r, tp, fp) in &points {
            let _ = write!(
                out,
                "<tr><td>{t:.3}</td><td>{p:.4}</td><td>{r:.4}</td><td>{tp}</td><td>{fp}</td></tr>"
            );
        }
        out.push_str("</table></section>");
    }
    out.push_str("</body></html>\n");
    out
}
