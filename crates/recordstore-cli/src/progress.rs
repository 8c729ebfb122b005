//! Progress bars for long commands (import, export, copy, bench): counts, a rounded rate and an
//! ETA, on stderr, drawn only when stderr is a terminal (indicatif hides them otherwise).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// `12345678` as `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as a whole number of records per second, with thousands separators.
pub fn rate(per_sec: f64) -> String {
    if per_sec.is_finite() && per_sec >= 0.0 {
        format!("{}/s", thousands(per_sec.round() as u64))
    } else {
        "-/s".to_string()
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .with_key("count", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", thousands(s.pos()));
        })
        .with_key("total", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", s.len().map_or("?".to_string(), thousands));
        })
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", rate(s.per_sec()));
        })
        .progress_chars("=> ")
}

/// A bar over `len` records: `copy ev [=====>    ] 12,000/50,000 records, 57,001/s, eta 1s`.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(style(
        "{msg} [{bar:30}] {count}/{total} records, {rate}, eta {eta}",
    ));
    bar.set_message(what.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(570010), "570,010");
        assert_eq!(thousands(12345678), "12,345,678");
        assert_eq!(rate(570010.3695), "570,010/s");
        assert_eq!(rate(f64::NAN), "-/s");
    }
}
