//! Whisper stream files: labelled whisper traffic in time order, as
//! `tools/simulate_whispers.py` writes it, for `chatguard features --whisper-stream`.
//!
//! Tab-separated, with a header row naming at least the columns `time` (seconds from any
//! fixed origin, non-decreasing), `sender` and `recipient` (ids, whole numbers),
//! `account_age_days` (a whole number, or empty when unknown), `first_contact` (`1`, `0`, or
//! empty when unknown), `text` and `label` (`spam` or `ham`, or `1` / `0`), in any order;
//! other columns are ignored. Blank lines and lines starting with `#` are skipped.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// The columns a stream file must have.
const COLUMNS: [&str; 7] = [
    "time",
    "sender",
    "recipient",
    "account_age_days",
    "first_contact",
    "text",
    "label",
];

/// One whisper of a stream file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StreamWhisper {
    /// The time in milliseconds from the stream's origin.
    pub(crate) time_ms: u64,
    pub(crate) sender: u64,
    pub(crate) recipient: u64,
    pub(crate) account_age_days: Option<u64>,
    pub(crate) first_contact: Option<bool>,
    pub(crate) text: String,
    pub(crate) spam: bool,
    /// The line of the file it came from (1-based).
    pub(crate) line: usize,
}

/// Reads a stream file; every problem is reported as `file:line:column: what is wrong;
/// expected what`.
pub(crate) fn read(path: &Path) -> Result<Vec<StreamWhisper>> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&path.display().to_string(), &data)
}

/// Parses the bytes of a stream file named `file` in errors.
pub(crate) fn parse(file: &str, data: &[u8]) -> Result<Vec<StreamWhisper>> {
    let mut header: Option<[usize; 7]> = None;
    let mut width = 0;
    let mut rows = Vec::new();
    let mut last_time = 0u64;
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = match std::str::from_utf8(raw) {
            Ok(line) => line,
            Err(e) => {
                let column = String::from_utf8_lossy(&raw[..e.valid_up_to()])
                    .chars()
                    .count()
                    + 1;
                bail!(
                    "{file}:{line_no}:{column}: the line is not valid UTF-8; expected UTF-8 text"
                );
            }
        };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = fields_with_columns(line);
        let Some(columns) = header else {
            header = Some(find_columns(file, line_no, &fields)?);
            width = fields.len();
            continue;
        };
        if fields.len() != width {
            // Point at the first extra field, or at the end of a short line.
            let column = fields.get(width).map_or(line.chars().count() + 1, |f| f.0);
            bail!(
                "{file}:{line_no}:{column}: {} tab-separated fields; expected {width}, as in the header",
                fields.len()
            );
        }
        let at = |c: usize| fields[columns[c]];
        let error = |c: usize, expected: &str| {
            let (column, value) = at(c);
            anyhow::anyhow!(
                "{file}:{line_no}:{column}: invalid {} `{value}`; expected {expected}",
                COLUMNS[c]
            )
        };
        let time_ms = seconds_to_ms(at(0).1).ok_or_else(|| {
            error(
                0,
                "a number of seconds from 0 (whole or decimal, below 10^12)",
            )
        })?;
        if time_ms < last_time {
            let (column, value) = at(0);
            bail!(
                "{file}:{line_no}:{column}: time `{value}` is earlier than the row before; expected rows in time order (sort the file by its time column)"
            );
        }
        last_time = time_ms;
        let id = |c: usize| {
            at(c)
                .1
                .parse::<u64>()
                .map_err(|_| error(c, "a whole number from 0 to 2^64 - 1"))
        };
        let sender = id(1)?;
        let recipient = id(2)?;
        let account_age_days = match at(3).1 {
            "" => None,
            v => Some(
                v.parse::<u64>()
                    .ok()
                    .filter(|&d| d < 1 << 40)
                    .ok_or_else(|| error(3, "a whole number of days, or nothing when unknown"))?,
            ),
        };
        let first_contact = match at(4).1 {
            "1" => Some(true),
            "0" => Some(false),
            "" => None,
            _ => return Err(error(4, "1, 0, or nothing when unknown")),
        };
        let spam = match at(6).1 {
            "spam" | "1" => true,
            "ham" | "0" => false,
            _ => return Err(error(6, "spam or ham (or 1 or 0)")),
        };
        rows.push(StreamWhisper {
            time_ms,
            sender,
            recipient,
            account_age_days,
            first_contact,
            text: at(5).1.to_owned(),
            spam,
            line: line_no,
        });
    }
    if header.is_none() {
        bail!(
            "{file}: no header row; expected a tab-separated header naming the columns {}",
            COLUMNS.join(", ")
        );
    }
    Ok(rows)
}

/// The tab-separated fields of a line, each with its 1-based column (in characters).
fn fields_with_columns(line: &str) -> Vec<(usize, &str)> {
    let mut column = 1;
    line.split('\t')
        .map(|field| {
            let at = column;
            column += field.chars().count() + 1;
            (at, field)
        })
        .collect()
}

/// The index of each of [`COLUMNS`] in the header.
fn find_columns(file: &str, line_no: usize, fields: &[(usize, &str)]) -> Result<[usize; 7]> {
    let mut found = [0; 7];
    for (k, name) in COLUMNS.iter().enumerate() {
        let Some(i) = fields.iter().position(|(_, f)| f.trim() == *name) else {
            bail!(
                "{file}:{line_no}:1: the header has no `{name}` column; expected a tab-separated header naming the columns {}",
                COLUMNS.join(", ")
            );
        };
        found[k] = i;
    }
    Ok(found)
}

/// Seconds (whole or decimal) as milliseconds, rounded; `None` unless finite, non-negative
/// and below 10^12 seconds.
fn seconds_to_ms(text: &str) -> Option<u64> {
    if let Ok(whole) = text.parse::<u64>() {
        return (whole < 1_000_000_000_000).then(|| whole * 1000);
    }
    let seconds = text.parse::<f64>().ok()?;
    if !seconds.is_finite() || !(0.0..1e12).contains(&seconds) || text.starts_with(['+', '-']) {
        return None;
    }
    // In range: below 10^15 milliseconds, exact in f64 and u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some((seconds * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "time\tsender\trecipient\taccount_age_days\tfirst_contact\ttext\tlabel\n";

    fn err(body: &str) -> String {
        parse("s.tsv", format!("{HEADER}{body}").as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_rows() {
        let rows = parse(
            "s.tsv",
            format!("{HEADER}# a comment\n5\t1\t2\t300\t0\thi there\tham\n\n5.5\t100000\t3\t\t\tbuy gems\tspam\r\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            rows,
            [
                StreamWhisper {
                    time_ms: 5000,
                    sender: 1,
                    recipient: 2,
                    account_age_days: Some(300),
                    first_contact: Some(false),
                    text: "hi there".into(),
                    spam: false,
                    line: 3
                },
                StreamWhisper {
                    time_ms: 5500,
                    sender: 100_000,
                    recipient: 3,
                    account_age_days: None,
                    first_contact: None,
                    text: "buy gems".into(),
                    spam: true,
                    line: 5
                }
            ]
        );
    }

    #[test]
    fn columns_in_any_order_and_extra_columns() {
        let rows = parse(
            "s.tsv",
            b"label\ttext\tnote\tfirst_contact\taccount_age_days\trecipient\tsender\ttime\nspam\tyo\tx\t1\t2\t3\t4\t5\n",
        )
        .unwrap();
        assert_eq!(rows[0].sender, 4);
        assert_eq!(rows[0].recipient, 3);
        assert_eq!(rows[0].time_ms, 5000);
        assert_eq!(rows[0].text, "yo");
        assert!(rows[0].spam);
    }

    #[test]
    fn bad_rows_say_where_and_what_was_expected() {
        assert_eq!(
            err("1\t1\t2\t300\t0\thi\tham\n0\t1\t2\t300\t0\thi\tham\n"),
            "s.tsv:3:1: time `0` is earlier than the row before; expected rows in time order (sort the file by its time column)"
        );
        assert_eq!(
            err("1\t1\tbob\t300\t0\thi\tham\n"),
            "s.tsv:2:5: invalid recipient `bob`; expected a whole number from 0 to 2^64 - 1"
        );
        assert_eq!(
            err("1\t1\t2\t300\tyes\thi\tham\n"),
            "s.tsv:2:11: invalid first_contact `yes`; expected 1, 0, or nothing when unknown"
        );
        assert_eq!(
            err("1\t1\t2\t300\t1\thé\tmaybe\n"),
            "s.tsv:2:16: invalid label `maybe`; expected spam or ham (or 1 or 0)"
        );
        assert_eq!(
            err("-1\t1\t2\t300\t1\thi\tham\n"),
            "s.tsv:2:1: invalid time `-1`; expected a number of seconds from 0 (whole or decimal, below 10^12)"
        );
        assert_eq!(
            err("1\t1\t2\t-3\t1\thi\tham\n"),
            "s.tsv:2:7: invalid account_age_days `-3`; expected a whole number of days, or nothing when unknown"
        );
        assert_eq!(
            err("1\t1\t2\t300\t1\thi\tthere\tham\n"),
            "s.tsv:2:22: 8 tab-separated fields; expected 7, as in the header"
        );
        assert_eq!(
            err("1\t1\t2\t300\t1\thi\n"),
            "s.tsv:2:15: 6 tab-separated fields; expected 7, as in the header"
        );
        let e = parse("s.tsv", b"time\tsender\ttext\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.tsv:1:1: the header has no `recipient` column; expected"),
            "{e}"
        );
        let e = parse("s.tsv", b"").unwrap_err().to_string();
        assert!(e.starts_with("s.tsv: no header row"), "{e}");
        let mut bad = HEADER.as_bytes().to_vec();
        bad.extend_from_slice(b"1\t1\t2\t3\t1\tab\xff\tham\n");
        let e = parse("s.tsv", &bad).unwrap_err().to_string();
        assert_eq!(
            e,
            "s.tsv:2:13: the line is not valid UTF-8; expected UTF-8 text"
        );
    }

    #[test]
    fn seconds() {
        assert_eq!(seconds_to_ms("0"), Some(0));
        assert_eq!(seconds_to_ms("12"), Some(12_000));
        assert_eq!(seconds_to_ms("1.2345"), Some(1235));
        assert_eq!(seconds_to_ms("NaN"), None);
        assert_eq!(seconds_to_ms("inf"), None);
        assert_eq!(seconds_to_ms("1e12"), None);
        assert_eq!(seconds_to_ms("-0.5"), None);
        assert_eq!(seconds_to_ms(""), None);
    }
}
