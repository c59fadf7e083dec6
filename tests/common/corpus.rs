//! A varied message corpus built from the fixture corpora: real SMS and tweets, and the same
//! lines disguised (fullwidth, confusables, marks, invisibles, separators, leet), CJK and
//! emoji lines, and 4 KiB lines.

/// The SMS texts (ham and spam).
pub fn sms() -> Vec<(bool, String)> {
    super::read_fixture("corpora/sms_spam_collection/SMSSpamCollection")
        .lines()
        .filter_map(|l| {
            let (label, text) = l.split_once('\t')?;
            Some((label == "spam", text.to_owned()))
        })
        .collect()
}

/// The Davidson tweets with their class (0 hate, 1 offensive, 2 neither).
pub fn tweets() -> Vec<(u8, String)> {
    let path = super::fixture("corpora/davidson_hate_offensive/labeled_data.csv");
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .map(|r| {
            let r = r.expect("valid CSV");
            (r[5].parse().expect("class is 0, 1 or 2"), r[6].to_owned())
        })
        .collect()
}

fn map_letters(s: &str, f: impl Fn(char) -> Option<&'static str>) -> String {
    s.chars()
        .map(|c| f(c).map_or_else(|| c.to_string(), str::to_owned))
        .collect()
}

/// Disguised versions of `line`, one per trick.
pub fn disguises(line: &str) -> Vec<String> {
    let fullwidth: String = line
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
            } else {
                c
            }
        })
        .collect();
    let cyrillic = map_letters(line, |c| match c {
        'a' => Some("а"),
        'c' => Some("с"),
        'e' => Some("е"),
        'o' => Some("о"),
        'p' => Some("р"),
        's' => Some("ѕ"),
        'i' => Some("і"),
        'h' => Some("һ"),
        'x' => Some("х"),
        _ => None,
    });
    let zalgo: String = line
        .chars()
        .flat_map(|c| [c, '\u{301}', '\u{336}'])
        .collect();
    let zero_width: String = line.chars().flat_map(|c| [c, '\u{200b}']).collect();
    let emoji: String = line.chars().flat_map(|c| [c, '🔥']).collect();
    let leet = map_letters(line, |c| match c {
        'a' => Some("4"),
        'e' => Some("3"),
        'i' => Some("1"),
        'o' => Some("0"),
        's' => Some("$"),
        't' => Some("7"),
        _ => None,
    });
    let math: String = line
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                char::from_u32(c as u32 - 'a' as u32 + 0x1D41A).unwrap_or(c)
            } else {
                c
            }
        })
        .collect();
    vec![fullwidth, cyrillic, zalgo, zero_width, emoji, leet, math]
}

/// At least `n` varied messages.
pub fn varied(n: usize) -> Vec<String> {
    let mut out: Vec<String> = sms().into_iter().map(|(_, t)| t).collect();
    out.extend(tweets().into_iter().map(|(_, t)| t).take(6000));
    let base: Vec<String> = out.iter().step_by(7).take(800).cloned().collect();
    for line in &base {
        out.extend(disguises(line));
    }
    for (i, line) in base.iter().enumerate().take(200) {
        out.push(format!("{line} こんにちは世界、元気ですか 👋🏽 {i}"));
        out.push(format!(
            "{}{line}",
            "这是一个很长的中文句子。".repeat(i % 5 + 1)
        ));
    }
    let joined: String = out
        .iter()
        .take(400)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    for i in 0..60 {
        let start = (i * 997) % (joined.len() / 2);
        let mut s = start;
        while !joined.is_char_boundary(s) {
            s += 1;
        }
        let mut e = (s + 4096).min(joined.len());
        while !joined.is_char_boundary(e) {
            e -= 1;
        }
        out.push(joined[s..e].to_owned());
    }
    out.push(String::new());
    out.push("\u{200b}".repeat(3000));
    out.push(format!("a{}", "\u{301}".repeat(2000)));
    out.push("f.u.c.k ".repeat(500));
    let mut i = 0;
    while out.len() < n {
        out.push(format!("{} #{i}", out[i % 5000]));
        i += 1;
    }
    out
}
