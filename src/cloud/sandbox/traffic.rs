//! The sandbox's traffic model: synthetic requests minute by minute, routed the way the global
//! load balancer routes them, so the PromQL answers have something true to say.
//!
//! Each client location sends a steady rate. A request picks a backend service by the URL map's
//! weights, then the nearest region of that backend that outlier detection has not ejected. A
//! region can be made to fail (a share of 5xx) or to slow down. With outlier detection on, a
//! region is ejected after `consecutive_errors` 5xx in a row, for `ejection_seconds`, and the
//! next requests go to the next-nearest region. Everything is drawn from a seeded generator per
//! minute, and time is passed in, so the same inputs give the same numbers.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// Upper bounds (ms) of the latency histogram's buckets; the last bucket is `+Inf`.
pub const LATENCY_BUCKETS_MS: [f64; 10] = [
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// One backend service the URL map sends traffic to.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub backend: String,
    /// Relative weight (all routes with 0 weight: equal shares).
    pub weight: u32,
    pub regions: Vec<String>,
    /// `Some(n)`: outlier detection ejects a region after n consecutive 5xx.
    pub consecutive_errors: Option<u32>,
    pub ejection_seconds: u64,
}

/// Where requests come from and how many per second.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientLocation {
    /// A continent: `america`, `europe` or `asia`.
    pub continent: String,
    pub rps: f64,
}

/// What is wrong with a region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    /// Share of requests answered 5xx, 0..=1.
    pub error_ratio: f64,
    /// Added to every request's latency.
    pub extra_latency_ms: f64,
}

/// Counts for one backend service in one region during one minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub requests: u64,
    pub errors: u64,
    /// Requests per latency bucket (`LATENCY_BUCKETS_MS`, then `+Inf`), not cumulative.
    pub latency: [u64; 11],
}

/// One minute of traffic: `(backend, region)` → counts.
pub type Minute = BTreeMap<(String, String), Cell>;

/// The continent a Google Cloud region is on.
pub fn continent(region: &str) -> &'static str {
    match region.split('-').next().unwrap_or("") {
        "europe" | "me" => "europe",
        "asia" | "australia" => "asia",
        _ => "america",
    }
}

/// Round-trip cost (ms) from a client continent to a region: what "nearest" means here.
fn distance_ms(from: &str, region: &str) -> f64 {
    match (from, continent(region)) {
        (a, b) if a == b => 15.0,
        ("america", "europe") | ("europe", "america") => 90.0,
        ("europe", "asia") | ("asia", "europe") => 160.0,
        _ => 130.0,
    }
}

/// The model's inputs besides time.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub seed: u64,
    pub clients: Vec<ClientLocation>,
    pub conditions: BTreeMap<String, Condition>,
    /// Latency of a healthy region's own work, before the network.
    pub service_ms: f64,
    /// Cloud Monitoring itself is down: every PromQL query is answered 503 `UNAVAILABLE`.
    pub monitoring_unavailable: bool,
}

impl Model {
    /// 10 requests per second split 50/30/20 between America, Europe and Asia.
    pub fn standard(seed: u64) -> Model {
        let loc = |c: &str, rps| ClientLocation {
            continent: c.into(),
            rps,
        };
        Model {
            seed,
            clients: vec![loc("america", 5.0), loc("europe", 3.0), loc("asia", 2.0)],
            conditions: BTreeMap::new(),
            service_ms: 40.0,
            monitoring_unavailable: false,
        }
    }

    /// The minutes starting at UNIX minute `first`, `count` of them. Ejections start cleared
    /// at `first` and carry over from minute to minute.
    pub fn simulate(&self, routes: &[Route], first: i64, count: usize) -> Vec<Minute> {
        let mut ejected: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut streak: BTreeMap<(String, String), u32> = BTreeMap::new();
        (0..count as i64)
            .map(|i| self.minute(routes, first + i, &mut ejected, &mut streak))
            .collect()
    }

    fn minute(
        &self,
        routes: &[Route],
        minute: i64,
        ejected: &mut BTreeMap<(String, String), i64>,
        streak: &mut BTreeMap<(String, String), u32>,
    ) -> Minute {
        let mut out = Minute::new();
        let live: Vec<&Route> = routes.iter().filter(|r| !r.regions.is_empty()).collect();
        if live.is_empty() {
            return out;
        }
        let total_weight: u32 = live.iter().map(|r| r.weight).sum();
        let mut rng = StdRng::seed_from_u64(self.seed ^ (minute as u64).wrapping_mul(0x9e37_79b9));
        let start_ms = minute * 60_000;
        for client in &self.clients {
            let n = (client.rps * 60.0).round() as u64;
            for k in 0..n {
                let now_ms = start_ms + (k * 60_000 / n.max(1)) as i64;
                let route = pick(&live, total_weight, &mut rng);
                let mut regions: Vec<&String> = route.regions.iter().collect();
                regions.sort_by(|a, b| {
                    distance_ms(&client.continent, a).total_cmp(&distance_ms(&client.continent, b))
                });
                // Google keeps serving from an ejected region rather than from none.
                let region = regions
                    .iter()
                    .find(|r| {
                        ejected
                            .get(&(route.backend.clone(), r.to_string()))
                            .is_none_or(|until| *until <= now_ms)
                    })
                    .unwrap_or(&regions[0]);
                let key = (route.backend.clone(), region.to_string());
                let cond = self.conditions.get(*region).cloned().unwrap_or_default();
                let failed = cond.error_ratio > 0.0 && rng.random::<f64>() < cond.error_ratio;
                let jitter: f64 = rng.random::<f64>();
                let latency = (self.service_ms + distance_ms(&client.continent, region))
                    * (0.6 + 0.8 * jitter)
                    + cond.extra_latency_ms;
                let cell = out.entry(key.clone()).or_default();
                cell.requests += 1;
                let bucket = LATENCY_BUCKETS_MS
                    .iter()
                    .position(|b| latency <= *b)
                    .unwrap_or(LATENCY_BUCKETS_MS.len());
                cell.latency[bucket] += 1;
                if failed {
                    cell.errors += 1;
                    let s = streak.entry(key.clone()).or_default();
                    *s += 1;
                    if let Some(limit) = route.consecutive_errors
                        && *s >= limit
                    {
                        ejected.insert(key.clone(), now_ms + route.ejection_seconds as i64 * 1000);
                        *s = 0;
                    }
                } else {
                    streak.remove(&key);
                }
            }
        }
        out
    }
}

fn pick<'a>(routes: &[&'a Route], total_weight: u32, rng: &mut StdRng) -> &'a Route {
    if total_weight == 0 {
        return routes[rng.random_range(0..routes.len())];
    }
    let mut x = rng.random_range(0..total_weight);
    for r in routes {
        if x < r.weight {
            return r;
        }
        x -= r.weight;
    }
    routes[routes.len() - 1]
}

/// Sums minutes into one cell per `(backend, region)`.
pub fn total(minutes: &[Minute]) -> Minute {
    let mut out = Minute::new();
    for m in minutes {
        for (k, c) in m {
            let t = out.entry(k.clone()).or_default();
            t.requests += c.requests;
            t.errors += c.errors;
            for (a, b) in t.latency.iter_mut().zip(c.latency.iter()) {
                *a += b;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGIONS: [&str; 3] = ["us-central1", "europe-west1", "asia-east1"];

    fn seed_001_route() -> Route {
        Route {
            backend: "my-app".into(),
            weight: 100,
            regions: REGIONS.iter().map(|r| r.to_string()).collect(),
            consecutive_errors: Some(5),
            ejection_seconds: 30,
        }
    }

    fn by_region(m: &Minute) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for ((_, region), c) in m {
            *out.entry(region.clone()).or_default() += c.requests;
        }
        out
    }

    #[test]
    fn seed_001_serves_each_continent_from_its_own_region() {
        let t = total(&Model::standard(1).simulate(&[seed_001_route()], 29_000_000, 10));
        let r = by_region(&t);
        assert_eq!(r["us-central1"], 3000);
        assert_eq!(r["europe-west1"], 1800);
        assert_eq!(r["asia-east1"], 1200);
        assert!(t.values().all(|c| c.errors == 0));
    }

    #[test]
    fn weights_split_the_traffic_within_two_percent() {
        let routes: Vec<Route> = [("blue", 50), ("green", 30), ("canary", 20)]
            .into_iter()
            .map(|(b, w)| Route {
                backend: b.into(),
                weight: w,
                ..seed_001_route()
            })
            .collect();
        let t = total(&Model::standard(1).simulate(&routes, 29_000_000, 10));
        let all: u64 = t.values().map(|c| c.requests).sum();
        for (backend, share) in [("blue", 0.5), ("green", 0.3), ("canary", 0.2)] {
            let n: u64 = t
                .iter()
                .filter(|((b, _), _)| b == backend)
                .map(|(_, c)| c.requests)
                .sum();
            let got = n as f64 / all as f64;
            assert!((got - share).abs() < 0.02, "{backend}: {got} not {share}");
        }
    }

    #[test]
    fn a_failing_region_is_ejected_and_its_traffic_moves_to_the_next() {
        let mut model = Model::standard(1);
        model.conditions.insert(
            "europe-west1".into(),
            Condition {
                error_ratio: 1.0,
                extra_latency_ms: 0.0,
            },
        );
        let minutes = model.simulate(&[seed_001_route()], 29_000_000, 5);
        let r = by_region(&total(&minutes));
        // Europe's 180 requests a minute: a few 5xx per ejection period, the rest served by
        // the nearest other region (us-central1).
        assert!(r["europe-west1"] <= 60, "{r:?}");
        assert!(r["us-central1"] >= 1500 + 900 - 60, "{r:?}");
        assert_eq!(r["asia-east1"], 600);
        // Without outlier detection the region keeps its traffic and fails it.
        let mut plain = seed_001_route();
        plain.consecutive_errors = None;
        let t = total(&model.simulate(&[plain], 29_000_000, 5));
        let eu = &t[&("my-app".to_string(), "europe-west1".to_string())];
        assert_eq!((eu.requests, eu.errors), (900, 900));
    }

    #[test]
    fn a_slow_region_shows_in_its_latency() {
        let mut model = Model::standard(1);
        model.conditions.insert(
            "asia-east1".into(),
            Condition {
                error_ratio: 0.0,
                extra_latency_ms: 3000.0,
            },
        );
        let t = total(&model.simulate(&[seed_001_route()], 29_000_000, 1));
        let asia = &t[&("my-app".to_string(), "asia-east1".to_string())];
        assert_eq!(asia.latency[..7].iter().sum::<u64>(), 0);
        let us = &t[&("my-app".to_string(), "us-central1".to_string())];
        assert_eq!(us.latency[6..].iter().sum::<u64>(), 0);
    }

    #[test]
    fn the_same_inputs_give_the_same_numbers() {
        let m = Model::standard(7);
        assert_eq!(
            m.simulate(&[seed_001_route()], 5, 3),
            m.simulate(&[seed_001_route()], 5, 3)
        );
    }
}
