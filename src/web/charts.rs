//! Server-rendered SVG charts: line charts with axes, a legend and a `<title>` on every point
//! (the hover value, no JavaScript needed), and the dashboard's sparklines.
//!
//! Every text drawn goes through `topology::escape`, so the templates may embed the result.

use crate::domain::topology::escape;
use std::fmt::Write;
use time::OffsetDateTime;

/// Line colours, told apart also by people with the common colour-vision deficiencies.
pub const PALETTE: [&str; 6] = [
    "#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#666666",
];

const W: f64 = 360.0;
const H: f64 = 170.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 24.0;

/// How a chart writes its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    PerSecond,
    Ratio,
    Millis,
}

impl Unit {
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::PerSecond => format!("{} req/s", short(v)),
            Unit::Ratio => format!("{}%", short(v * 100.0)),
            Unit::Millis => format!("{} ms", short(v)),
        }
    }
}

fn short(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// One line: its legend label and its points (UNIX seconds, value; `None` is a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, Option<f64>)>,
}

/// `HH:MM` in UTC (or `MM-DD HH:MM` for charts longer than a day).
fn clock(at: f64, with_date: bool) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(at as i64) else {
        return String::new();
    };
    if with_date {
        format!(
            "{:02}-{:02} {:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

/// A line chart of `lines` from `start` to `end` (UNIX seconds). The y axis starts at 0 and
/// ends at the largest value (at least `min_top`, so a flat 0 % does not look like a cliff).
pub fn line_chart(
    id: &str,
    title: &str,
    unit: Unit,
    lines: &[Line],
    start: f64,
    end: f64,
    min_top: f64,
) -> String {
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|(_, v)| *v))
        .filter(|v| v.is_finite())
        .fold(min_top, f64::max);
    let span = (end - start).max(1.0);
    let with_date = span > 86_400.0;
    let x = |t: f64| LEFT + (t - start) / span * (W - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / top) * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{}" role="img" aria-label="{}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="system-ui, sans-serif" font-size="10">"##,
        escape(id),
        escape(title)
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="13" font-size="12" font-weight="600" fill="#1d2430">{}</text>"##,
        escape(title)
    );
    // Three horizontal grid lines with their values, and the time at both ends.
    for k in 0..=2 {
        let v = top * f64::from(k) / 2.0;
        let gy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="#e3e7ec"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#5d6878">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            gy + 3.0,
            escape(&unit.format(v))
        );
    }
    for (t, anchor) in [(start, "start"), (end, "end")] {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#5d6878">{} UTC</text>"##,
            x(t),
            H - 8.0,
            clock(t, with_date)
        );
    }
    for (i, line) in lines.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            s,
            r##"<g class="series" data-series="{}">"##,
            escape(&line.label)
        );
        // A gap (no value) ends one polyline and starts the next.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (t, v) in &line.points {
            match v.filter(|v| v.is_finite()) {
                Some(v) => runs.last_mut().expect("one run").push((x(*t), y(v))),
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let pts: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = write!(
                s,
                r##"<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{}"/>"##,
                pts.join(" ")
            );
        }
        for (t, v) in &line.points {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="{colour}"><title>{}: {} at {} UTC</title></circle>"##,
                x(*t),
                y(v),
                escape(&line.label),
                escape(&unit.format(v)),
                clock(*t, with_date)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// The legend of a chart's lines, as `(colour, label)` in the order they are drawn.
pub fn legend(lines: &[Line]) -> Vec<(&'static str, String)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (PALETTE[i % PALETTE.len()], l.label.clone()))
        .collect()
}

/// A small line without axes (the dashboard's error ratio), scaled to at least `min_top`.
pub fn sparkline(label: &str, points: &[(f64, Option<f64>)], min_top: f64) -> String {
    const SW: f64 = 100.0;
    const SH: f64 = 22.0;
    let values: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|(t, v)| Some((*t, v.filter(|v| v.is_finite())?)))
        .collect();
    let top = values.iter().map(|(_, v)| *v).fold(min_top, f64::max);
    let (first, last) = match (values.first(), values.last()) {
        (Some(a), Some(b)) => (a.0, b.0),
        _ => (0.0, 1.0),
    };
    let span = (last - first).max(1.0);
    let pts: Vec<String> = values
        .iter()
        .map(|(t, v)| {
            format!(
                "{:.1},{:.1}",
                1.0 + (t - first) / span * (SW - 2.0),
                SH - 1.0 - v / top * (SH - 2.0)
            )
        })
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" aria-label="{}" viewBox="0 0 {SW} {SH}" width="{SW}" height="{SH}"><title>{}</title><line x1="0" y1="{:.1}" x2="{SW}" y2="{:.1}" stroke="#e3e7ec"/><polyline fill="none" stroke="#d95f02" stroke-width="1.4" points="{}"/></svg>"##,
        escape(label),
        escape(label),
        SH - 1.0,
        SH - 1.0,
        pts.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, values: &[Option<f64>]) -> Line {
        Line {
            label: label.into(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (1_764_583_200.0 + 60.0 * i as f64, *v))
                .collect(),
        }
    }

    #[test]
    fn charts_draw_every_point_with_its_value_and_break_at_gaps() {
        let lines = [
            line("europe-west1", &[Some(3.0), None, Some(2.5)]),
            line("<asia>", &[Some(1.0), Some(1.0), Some(1.0)]),
        ];
        let svg = line_chart(
            "c",
            "Requests",
            Unit::PerSecond,
            &lines,
            1_764_583_200.0,
            1_764_583_320.0,
            1.0,
        );
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains("<title>europe-west1: 3.00 req/s at 10:00 UTC</title>"));
        // The gap splits Europe's line in two; Asia's is one.
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains("&lt;asia&gt;") && !svg.contains("<asia>"));
        assert!(
            svg.contains(">3.00 req/s<"),
            "the top grid line is the largest value"
        );
        assert_eq!(legend(&lines)[1], (PALETTE[1], "<asia>".to_string()));
    }

    #[test]
    fn units_read_as_people_write_them() {
        assert_eq!(Unit::Ratio.format(0.0512), "5.12%");
        assert_eq!(Unit::Ratio.format(1.0), "100%");
        assert_eq!(Unit::Millis.format(43.21), "43.2 ms");
        assert_eq!(Unit::PerSecond.format(0.0), "0 req/s");
    }

    #[test]
    fn sparklines_scale_to_at_least_their_floor() {
        let s = sparkline(
            "5xx",
            &[(0.0, Some(0.0)), (60.0, Some(0.01)), (120.0, None)],
            0.05,
        );
        assert!(s.contains(r#"points="1.0,21.0 99.0,17.0""#), "{s}");
    }
}
