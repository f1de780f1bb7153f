//! A small PromQL evaluator over per-minute series: the subset API-NOTES §19.6 asks a faithful
//! simulation for (equality selectors, `rate`, `sum by`, `/` and `histogram_quantile`), in the
//! forms `cloud::monitoring::promql` writes. Anything else is refused as upstream Prometheus
//! refuses it, with `bad_data`.

use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

/// A raw series: its labels (`__name__` included) and one value per UNIX minute, counters per
/// minute (not cumulative).
#[derive(Debug, Clone, PartialEq)]
pub struct Raw {
    pub labels: Labels,
    pub per_minute: BTreeMap<i64, f64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Select {
        name: String,
        matchers: Vec<(String, String)>,
    },
    Rate(Box<Expr>, i64),
    SumBy(Vec<String>, Box<Expr>),
    Quantile(f64, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.s[self.at..].starts_with(char::is_whitespace) {
            self.at += 1;
        }
    }
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("1:{}: parse error: {what}", self.at + 1))
    }
    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.s[self.at..].starts_with(tok) {
            self.at += tok.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, tok: &str) -> Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            self.err(&format!("expected {tok:?}"))
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        let rest = &self.s[self.at..];
        let n = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        if n == 0 {
            return self.err("expected a name");
        }
        self.at += n;
        Ok(rest[..n].to_string())
    }
    fn string(&mut self) -> Result<String, String> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.s[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        self.err("unterminated quoted string")
    }
    fn number(&mut self) -> Result<f64, String> {
        self.ws();
        let rest = &self.s[self.at..];
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let v = rest[..n]
            .parse()
            .or_else(|_| self.err("expected a number"))?;
        self.at += n;
        Ok(v)
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let left = self.term()?;
        if self.eat("/") {
            let right = self.term()?;
            return Ok(Expr::Div(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }
    fn term(&mut self) -> Result<Expr, String> {
        if self.eat("(") {
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        let name = self.ident()?;
        match name.as_str() {
            "sum" => {
                let mut by = Vec::new();
                if self.eat("by") {
                    self.expect("(")?;
                    loop {
                        by.push(self.ident()?);
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.expect(")")?;
                }
                self.expect("(")?;
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(Expr::SumBy(by, Box::new(inner)))
            }
            "rate" => {
                self.expect("(")?;
                let inner = self.term()?;
                self.expect("[")?;
                let n = self.number()? as i64;
                let unit = self.ident()?;
                let secs = match unit.as_str() {
                    "s" => n,
                    "m" => n * 60,
                    "h" => n * 3600,
                    "d" => n * 86400,
                    _ => return self.err("bad duration unit"),
                };
                self.expect("]")?;
                self.expect(")")?;
                Ok(Expr::Rate(Box::new(inner), secs))
            }
            "histogram_quantile" => {
                self.expect("(")?;
                let q = self.number()?;
                self.expect(",")?;
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(Expr::Quantile(q, Box::new(inner)))
            }
            _ => {
                let mut matchers = Vec::new();
                if self.eat("{") {
                    while !self.eat("}") {
                        let label = self.ident()?;
                        self.expect("=")?;
                        matchers.push((label, self.string()?));
                        self.eat(",");
                    }
                }
                Ok(Expr::Select { name, matchers })
            }
        }
    }
}

/// A series of an answer: labels and `(UNIX seconds, value)` at each step.
pub type Out = Vec<(Labels, Vec<(i64, f64)>)>;

/// Evaluates `query` at `start, start+step, … ≤ end` (UNIX seconds) over `raw`.
pub fn eval(query: &str, raw: &[Raw], start: i64, end: i64, step: i64) -> Result<Out, String> {
    let mut p = Parser { s: query, at: 0 };
    let e = p.expr()?;
    p.ws();
    if p.at != query.len() {
        return p.err("unexpected characters after the expression");
    }
    let times: Vec<i64> = (0..)
        .map(|i| start + i * step.max(1))
        .take_while(|t| *t <= end)
        .take(11_000)
        .collect();
    let out = run(&e, raw, &times)?;
    Ok(out
        .into_iter()
        .map(|(mut l, v)| {
            l.remove("__name__");
            (l, times.iter().copied().zip(v).collect())
        })
        .collect())
}

/// The raw series a selector names: that metric, every matcher equal.
fn selected<'a>(
    raw: &'a [Raw],
    name: &'a String,
    matchers: &'a [(String, String)],
) -> impl Iterator<Item = &'a Raw> {
    raw.iter()
        .filter(move |r| r.labels.get("__name__") == Some(name))
        .filter(move |r| matchers.iter().all(|(k, v)| r.labels.get(k) == Some(v)))
}

/// How far back an instant selector looks for a sample, as Prometheus does by default.
const LOOKBACK_MINUTES: i64 = 5;

fn run(e: &Expr, raw: &[Raw], times: &[i64]) -> Result<Vec<(Labels, Vec<f64>)>, String> {
    match e {
        // An instant selector (a gauge such as Cloud Run's instance count): the newest
        // minute at or before each point, within Prometheus's five-minute lookback.
        Expr::Select { name, matchers } => Ok(selected(raw, name, matchers)
            .map(|r| {
                let values = times
                    .iter()
                    .map(|t| {
                        r.per_minute
                            .range(t / 60 - LOOKBACK_MINUTES..t / 60)
                            .next_back()
                            .map_or(f64::NAN, |(_, v)| *v)
                    })
                    .collect();
                (r.labels.clone(), values)
            })
            .collect()),
        Expr::Rate(inner, window) => {
            let Expr::Select { name, matchers } = &**inner else {
                return Err("rate() takes a range selector".into());
            };
            Ok(selected(raw, name, matchers)
                .map(|r| {
                    let values = times
                        .iter()
                        .map(|t| {
                            // Minutes that ended within (t - window, t].
                            let sum: f64 = r
                                .per_minute
                                .range((t - window) / 60..t / 60)
                                .map(|(_, v)| v)
                                .sum();
                            sum / *window as f64
                        })
                        .collect();
                    (r.labels.clone(), values)
                })
                .collect())
        }
        Expr::SumBy(by, inner) => {
            let mut groups: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
            for (labels, values) in run(inner, raw, times)? {
                let key: Labels = labels.into_iter().filter(|(k, _)| by.contains(k)).collect();
                let g = groups.entry(key).or_insert_with(|| vec![0.0; times.len()]);
                for (a, b) in g.iter_mut().zip(values) {
                    *a += b;
                }
            }
            Ok(groups.into_iter().collect())
        }
        Expr::Div(a, b) => {
            let right: BTreeMap<Labels, Vec<f64>> = run(b, raw, times)?.into_iter().collect();
            let left = run(a, raw, times)?;
            let mut out: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
            for (labels, num) in left {
                if let Some(den) = right.get(&labels) {
                    out.insert(labels, num.iter().zip(den).map(|(n, d)| n / d).collect());
                }
            }
            // As in Prometheus, a group missing on either side has no ratio at all.
            Ok(out.into_iter().collect())
        }
        Expr::Quantile(q, inner) => {
            let mut groups: BTreeMap<Labels, Vec<(f64, Vec<f64>)>> = BTreeMap::new();
            for (mut labels, values) in run(inner, raw, times)? {
                let Some(le) = labels.remove("le") else {
                    continue;
                };
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().map_err(|_| format!("bad le {le:?}"))?
                };
                groups.entry(labels).or_default().push((le, values));
            }
            Ok(groups
                .into_iter()
                .map(|(labels, mut buckets)| {
                    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let values = (0..times.len())
                        .map(|i| quantile(*q, &buckets, i))
                        .collect();
                    (labels, values)
                })
                .collect())
        }
    }
}

/// Prometheus's `histogram_quantile`: linear inside the bucket holding the rank.
fn quantile(q: f64, buckets: &[(f64, Vec<f64>)], i: usize) -> f64 {
    let Some(total) = buckets.last().map(|b| b.1[i]) else {
        return f64::NAN;
    };
    if total <= 0.0 || buckets.len() < 2 {
        return f64::NAN;
    }
    let rank = q * total;
    let mut lower = 0.0;
    let mut below = 0.0;
    for (le, counts) in buckets {
        let c = counts[i];
        if c >= rank {
            if le.is_infinite() {
                return lower;
            }
            return lower + (le - lower) * (rank - below) / (c - below).max(f64::MIN_POSITIVE);
        }
        lower = *le;
        below = c;
    }
    lower
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str, labels: &[(&str, &str)], minutes: &[(i64, f64)]) -> Raw {
        let mut l: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.insert("__name__".into(), name.into());
        Raw {
            labels: l,
            per_minute: minutes.iter().copied().collect(),
        }
    }

    #[test]
    fn gauges_read_the_newest_minute_within_the_lookback() {
        let raw = vec![
            raw("g", &[("location", "a")], &[(10, 3.0), (11, 4.0)]),
            raw("g", &[("location", "b")], &[(10, 2.0)]),
        ];
        // At 12:00 minute 11 is the newest complete one; at 20:00 minute 10 is too old.
        let out = eval("sum by (location) (g)", &raw, 720, 720, 60).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1, vec![(720, 4.0)]);
        assert_eq!(out[1].1, vec![(720, 2.0)]);
        let late = eval("sum by (location) (g)", &raw, 1200, 1200, 60).unwrap();
        assert!(
            late.iter().all(|(_, v)| v.iter().all(|(_, x)| x.is_nan())),
            "{late:?}"
        );
    }

    #[test]
    fn sums_rates_and_divides() {
        let data = vec![
            raw("c", &[("r", "eu"), ("k", "500")], &[(10, 60.0), (11, 60.0)]),
            raw(
                "c",
                &[("r", "eu"), ("k", "200")],
                &[(10, 180.0), (11, 180.0)],
            ),
            raw(
                "c",
                &[("r", "us"), ("k", "200")],
                &[(10, 600.0), (11, 600.0)],
            ),
        ];
        let out = eval(
            r#"sum by (r) (rate(c{k="500"}[120s])) / sum by (r) (rate(c[120s]))"#,
            &data,
            720,
            720,
            60,
        )
        .unwrap();
        assert_eq!(out.len(), 1, "us has no 5xx series, so no ratio");
        assert_eq!(out[0].0["r"], "eu");
        assert_eq!(out[0].1, vec![(720, 0.25)]);
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let b = |le: &str, n: f64| raw("h_bucket", &[("le", le)], &[(10, n)]);
        let data = vec![b("100", 50.0), b("200", 100.0), b("+Inf", 100.0)];
        let out = eval(
            "histogram_quantile(0.75, sum by (le) (rate(h_bucket[60s])))",
            &data,
            660,
            660,
            60,
        )
        .unwrap();
        assert_eq!(out[0].1[0].1, 150.0);
    }

    #[test]
    fn bad_queries_name_the_position() {
        let e = eval("sum by (r (rate(c[1m]))", &[], 0, 60, 60).unwrap_err();
        assert!(e.starts_with("1:"), "{e}");
        assert!(eval("rate(sum by (r) (c)[1m])", &[], 0, 60, 60).is_err());
    }
}
