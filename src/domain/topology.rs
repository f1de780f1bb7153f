//! The topology of a deployment: which Google Cloud resources a spec makes and how traffic flows
//! through them, as a model (columns of nodes joined by edges) and as a hand-written SVG diagram.
//!
//! Columns, left to right: forwarding rules (port and IP) → target proxies with the managed
//! certificate → URL map rules (hosts, paths, rewrites) → backend services (Host override, CDN,
//! outlier detection) → network endpoint groups → Cloud Run regions or internet FQDN:port. Split
//! weights are written on the rule → backend edges as percentages.
//!
//! A Cloud Run box whose service the spec deploys (`services`) also shows the image and marks
//! the rollout's canary region; a region the service is deployed to but no backend routes to
//! gets a box without an incoming edge. Environment variables are never shown (values may be
//! secrets).
//!
//! Names come from [`super::names`], the same functions the planner uses, so the diagram names
//! the resources that an apply creates. The SVG escapes every text it writes, so it can be
//! embedded in a page unescaped; it uses presentation attributes only (no `style`, no script),
//! which the panel's Content-Security-Policy allows.

use std::fmt::Write as _;

use serde::Serialize;

use super::explicit_names as named;
use super::spec::{BackendKind, Endpoint, IpKind, Protocol, Service, Spec, Target};

/// Box ids of the deployments in front of this one and behind it in a chain.
const FRONT_PREFIX: &str = "front:";
const BACK_PREFIX: &str = "deployment:";

/// The columns of the diagram, in flow order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    ForwardingRules,
    Proxies,
    UrlMap,
    BackendServices,
    Negs,
    Endpoints,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::ForwardingRules,
        Layer::Proxies,
        Layer::UrlMap,
        Layer::BackendServices,
        Layer::Negs,
        Layer::Endpoints,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Layer::ForwardingRules => "Forwarding rules",
            Layer::Proxies => "Proxies and certificate",
            Layer::UrlMap => "URL map",
            Layer::BackendServices => "Backend services",
            Layer::Negs => "Endpoint groups",
            Layer::Endpoints => "Regions and endpoints",
        }
    }

    fn css(self) -> &'static str {
        match self {
            Layer::ForwardingRules => "frontend",
            Layer::Proxies => "proxy",
            Layer::UrlMap => "rule",
            Layer::BackendServices => "backend",
            Layer::Negs => "neg",
            Layer::Endpoints => "endpoint",
        }
    }

    fn fill(self) -> &'static str {
        match self {
            Layer::ForwardingRules => "#e8f0fb",
            Layer::Proxies => "#eef6ee",
            Layer::UrlMap => "#fff7e0",
            Layer::BackendServices => "#f3ecfa",
            Layer::Negs => "#eef1f5",
            Layer::Endpoints => "#e9f6f6",
        }
    }
}

/// One box of the diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Stable key within the topology, e.g. `bs:hello2`, `neg:web:us-central1`.
    pub id: String,
    pub layer: Layer,
    pub title: String,
    pub lines: Vec<String>,
    /// Text for the box's tooltip only, e.g. the whole image reference a line shortens.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A page the box links to: another deployment of a chain ([`Topology::link_deployments`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// Traffic flowing from one node to another; `label` carries a split's percentage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Topology {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Topology {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn column(&self, layer: Layer) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.layer == layer)
    }

    pub fn edge(&self, from: &str, to: &str) -> Option<&Edge> {
        self.edges.iter().find(|e| e.from == from && e.to == to)
    }

    fn add(&mut self, id: String, layer: Layer, title: impl Into<String>, lines: Vec<String>) {
        if self.node(&id).is_none() {
            self.nodes.push(Node {
                id,
                layer,
                title: title.into(),
                lines,
                notes: Vec::new(),
                href: None,
            });
        }
    }

    /// Adds the deployments that chain to this one (`(front, backend)` pairs,
    /// `chain::fronts_of`): a box "front → here" in front of the forwarding rules.
    pub fn add_fronts(&mut self, fronts: &[(&str, &str)]) {
        for (front, backend) in fronts {
            self.add(
                format!("{FRONT_PREFIX}{front}"),
                Layer::ForwardingRules,
                format!("{front} → here"),
                vec![format!("its backend “{backend}” chains here")],
            );
        }
    }

    /// Links each box of another deployment of the chain to that deployment's page;
    /// `page_of` gives the page of a deployment name (`None`: not in the panel).
    pub fn link_deployments(&mut self, page_of: &dyn Fn(&str) -> Option<String>) {
        for n in &mut self.nodes {
            let name =
                n.id.strip_prefix(FRONT_PREFIX)
                    .or_else(|| n.id.strip_prefix(BACK_PREFIX));
            if let Some(name) = name {
                n.href = page_of(name);
            }
        }
    }

    /// Says in the box of each deployment this one chains to where it points now (what the
    /// plan resolved it to).
    pub fn show_hops(&mut self, hops: &[super::chain::Hop]) {
        for h in hops {
            let id = format!("{BACK_PREFIX}{}", h.deployment);
            if let Some(n) = self.nodes.iter_mut().find(|n| n.id == id) {
                let line = format!("now {}", h.endpoint_text());
                if !n.lines.contains(&line) {
                    n.lines.push(line);
                }
            }
        }
    }

    /// The other deployments this one chains to, or that chain to it, by box.
    pub fn chained(&self) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| n.id.starts_with(FRONT_PREFIX) || n.id.starts_with(BACK_PREFIX))
            .collect()
    }

    fn link(&mut self, from: &str, to: &str, label: Option<String>) {
        if self.edge(from, to).is_none() {
            self.edges.push(Edge {
                from: from.to_string(),
                to: to.to_string(),
                label,
            });
        }
    }
}

/// `75`, `33.3`: a share of the traffic without a useless `.0`.
fn percent(weight: u32, total: u64) -> String {
    if total == 0 {
        return "0 %".into();
    }
    let p = (f64::from(weight) * 1000.0 / total as f64).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// Joins `items` with `, ` into lines of at most about `width` characters.
fn wrap(prefix: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = prefix.to_string();
    let mut first = true;
    for item in items {
        let sep = if first { "" } else { ", " };
        if !first && current.chars().count() + sep.len() + item.chars().count() > width {
            current.push(',');
            lines.push(std::mem::take(&mut current));
            current = format!("  {item}");
        } else {
            current.push_str(sep);
            current.push_str(item);
        }
        first = false;
    }
    lines.push(current);
    lines
}

fn ip_line(kind: IpKind, ip: Option<&str>, address: &str) -> String {
    match (kind, ip) {
        (IpKind::Static, Some(ip)) => format!("static IP {ip}"),
        (IpKind::Static, None) => format!("static IP {address} (reserved on apply)"),
        (IpKind::Ephemeral, Some(ip)) => format!("ephemeral IP {ip}"),
        (IpKind::Ephemeral, None) => "ephemeral IP (assigned on apply)".into(),
    }
}

/// `image` cut from the front to at most `room` characters, since registry and project tell
/// the least (`…/container/hello:v2`); a digest keeps its first 12 hex digits. Whatever still
/// does not fit is left to [`clip`].
fn short_image(image: &str, room: usize) -> String {
    let fits = |s: &str| s.chars().count() <= room;
    if fits(image) {
        return image.to_string();
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, d)) => {
            let (algo, hex) = d.split_once(':').unwrap_or(("", d));
            let short = if hex.chars().count() > 12 {
                format!("{}…", hex.chars().take(12).collect::<String>())
            } else {
                hex.to_string()
            };
            let algo = if algo.is_empty() {
                String::new()
            } else {
                format!("{algo}:")
            };
            (name, format!("@{algo}{short}"))
        }
        None => (image, String::new()),
    };
    let mut best = format!("{name}{digest}");
    let parts: Vec<&str> = name.split('/').collect();
    for k in 1..parts.len() {
        if fits(&best) {
            break;
        }
        best = format!("…/{}{digest}", parts[k..].join("/"));
    }
    best
}

/// The spec's canary region for `s`, when there is something to stage: a service in one region
/// has no other region to hold back.
fn canary<'a>(spec: &'a Spec, s: &Service) -> Option<&'a str> {
    spec.canary_region()
        .filter(|c| s.regions.len() > 1 && s.regions.iter().any(|r| r == c))
}

/// The box for Cloud Run `service` in `region` (`run:{service}:{region}`). For a service the
/// spec deploys it names the image and marks the canary; `routed` is false for a region the
/// service is deployed to but no backend sends traffic to.
fn add_run(t: &mut Topology, spec: &Spec, service: &str, region: &str, routed: bool) -> String {
    let id = format!("run:{service}:{region}");
    let mut lines = vec![format!("Cloud Run service {service}")];
    let mut notes = Vec::new();
    if let Some(s) = spec.service(service) {
        const PREFIX: &str = "image ";
        let short = short_image(&s.image, MAX_CHARS - PREFIX.len());
        if short != s.image {
            notes.push(format!("{PREFIX}{}", s.image));
        }
        lines.push(format!("{PREFIX}{short}"));
        if canary(spec, s) == Some(region) {
            lines.push("canary: deployed first".into());
        }
    }
    if !routed {
        lines.push("no backend sends traffic here".into());
    }
    if t.node(&id).is_none() {
        t.nodes.push(Node {
            id: id.clone(),
            layer: Layer::Endpoints,
            title: region.to_string(),
            lines,
            notes,
            href: None,
        });
    }
    id
}

/// The topology of `spec`. `ip` is the load balancer's address when it is known (after an
/// apply); before that the diagram says where the address will come from.
///
/// Works on drafts too: a rule naming a backend the spec does not define points at a box that
/// says so, rather than disappearing.
pub fn from_spec(spec: &Spec, ip: Option<&str>) -> Topology {
    let mut t = Topology::default();
    let ip_text = ip_line(spec.frontend.ip, ip, &named::address(spec));

    // Frontend and proxies. The proxy that carries the URL map is the entry to the rules.
    let entry = match spec.frontend.protocol {
        Protocol::Https => {
            t.add(
                "fr:https".into(),
                Layer::ForwardingRules,
                "HTTPS :443",
                vec![named::https_forwarding_rule(spec), ip_text.clone()],
            );
            let mut lines = vec![named::https_proxy(spec)];
            if spec.frontend.domains.is_empty() {
                lines.push("no certificate domains yet".into());
            } else {
                lines.push(format!("certificate {}", named::certificate(spec)));
                lines.extend(wrap("domains: ", &spec.frontend.domains, 40));
            }
            t.add("proxy:https".into(), Layer::Proxies, "HTTPS proxy", lines);
            t.link("fr:https", "proxy:https", None);
            if spec.frontend.http_redirect {
                t.add(
                    "fr:http".into(),
                    Layer::ForwardingRules,
                    "HTTP :80",
                    vec![named::http_forwarding_rule(spec), ip_text],
                );
                t.add(
                    "proxy:redirect".into(),
                    Layer::Proxies,
                    "HTTP proxy (redirect)",
                    vec![named::http_proxy(spec)],
                );
                t.link("fr:http", "proxy:redirect", None);
            }
            "proxy:https"
        }
        Protocol::Http => {
            t.add(
                "fr:http".into(),
                Layer::ForwardingRules,
                "HTTP :80",
                vec![named::http_forwarding_rule(spec), ip_text],
            );
            t.add(
                "proxy:http".into(),
                Layer::Proxies,
                "HTTP proxy",
                vec![named::http_proxy(spec)],
            );
            t.link("fr:http", "proxy:http", None);
            "proxy:http"
        }
    };

    // URL map: one box per spec rule, in evaluation order, then the default.
    let url_map = named::url_map(spec);
    let mut targets: Vec<(String, &Target)> = Vec::new();
    for (i, rule) in spec.routing.rules.iter().enumerate() {
        let id = format!("rule:{i}");
        let mut lines = wrap("hosts: ", &rule.hosts, 40);
        lines.extend(wrap("paths: ", &rule.paths, 40));
        if let Some(prefix) = &rule.prefix_rewrite {
            for p in &rule.paths {
                lines.push(format!("rewrite {p} → {prefix}"));
            }
        }
        if let Some(host) = &rule.host_rewrite {
            lines.push(format!("rewrite Host → {host}"));
        }
        t.add(id.clone(), Layer::UrlMap, format!("Rule {}", i + 1), lines);
        t.link(entry, &id, None);
        targets.push((id, &rule.target));
    }
    let default_line = if spec.routing.rules.is_empty() {
        "every request"
    } else {
        "everything no rule matches"
    };
    t.add(
        "rule:default".into(),
        Layer::UrlMap,
        "Default",
        vec![url_map, default_line.into()],
    );
    t.link(entry, "rule:default", None);
    targets.push(("rule:default".into(), &spec.routing.default));
    // Below the main URL map's boxes, so its edge does not cross theirs.
    if t.node("proxy:redirect").is_some() {
        t.add(
            "rule:redirect".into(),
            Layer::UrlMap,
            "Redirect to HTTPS",
            vec![
                named::redirect_url_map(spec),
                "every request → 301 to https://".into(),
                "same host, path and query".into(),
            ],
        );
        t.link("proxy:redirect", "rule:redirect", None);
    }

    // Backend services, their NEGs and where the NEGs point.
    for b in &spec.backends {
        let bs = format!("bs:{}", b.name);
        let mut lines = vec![named::backend_service(spec, &b.name)];
        if let BackendKind::Internet {
            host_header: Some(h),
            ..
        } = &b.kind
        {
            lines.push(format!("Host: {h}"));
        }
        if b.cdn {
            lines.push("Cloud CDN on".into());
        }
        if b.outlier_detection {
            lines.push("outlier detection on".into());
        }
        t.add(bs.clone(), Layer::BackendServices, b.name.clone(), lines);
        match &b.kind {
            BackendKind::Serverless { service, regions } => {
                for region in regions {
                    let neg = format!("neg:{}:{region}", b.name);
                    t.add(
                        neg.clone(),
                        Layer::Negs,
                        "serverless NEG",
                        vec![named::serverless_neg(spec, b, region)],
                    );
                    t.link(&bs, &neg, None);
                    let run = add_run(&mut t, spec, service, region, true);
                    t.link(&neg, &run, None);
                }
            }
            BackendKind::Internet { port, .. } => {
                // Backends with the same endpoint share one internet NEG (docs/contract.md §2).
                let (neg, neg_lines, ep, title, lines) = match b.kind.endpoint() {
                    Some(Endpoint::Fqdn(fqdn)) => (
                        format!("ineg:{fqdn}:{port}"),
                        vec![named::internet_neg(spec, &b.name, fqdn, *port)],
                        format!("fqdn:{fqdn}:{port}"),
                        format!("{fqdn}:{port}"),
                        vec!["HTTPS endpoint".to_string()],
                    ),
                    Some(Endpoint::Ip(ip)) => (
                        format!("ineg:{ip}:{port}"),
                        vec![
                            named::internet_neg(spec, &b.name, ip, *port),
                            "by IP (INTERNET_IP_PORT)".to_string(),
                        ],
                        format!("ip:{ip}:{port}"),
                        format!("{ip}:{port}"),
                        vec!["HTTPS endpoint by IP".to_string()],
                    ),
                    Some(Endpoint::Deployment(other)) => (
                        format!("ineg:{BACK_PREFIX}{other}"),
                        vec![format!("follows deployment {other}")],
                        format!("{BACK_PREFIX}{other}"),
                        format!("→ {other}"),
                        vec![
                            "another deployment of this panel".to_string(),
                            "its domain, else its IP".to_string(),
                        ],
                    ),
                    None => continue,
                };
                t.add(neg.clone(), Layer::Negs, "internet NEG", neg_lines);
                t.link(&bs, &neg, None);
                t.add(ep.clone(), Layer::Endpoints, title, lines);
                t.link(&neg, &ep, None);
            }
        }
    }

    // Regions a deployed service runs in that no backend sends traffic to.
    for s in &spec.services {
        for region in &s.regions {
            add_run(&mut t, spec, &s.name, region, false);
        }
    }

    // Rule → backend edges, with the split's shares.
    for (rule_id, target) in targets {
        let weighted = target.weighted();
        let total: u64 = weighted.iter().map(|(_, w)| u64::from(*w)).sum();
        let split = matches!(target, Target::Split { .. });
        for (backend, weight) in weighted {
            let bs = format!("bs:{backend}");
            if t.node(&bs).is_none() {
                t.add(
                    bs.clone(),
                    Layer::BackendServices,
                    backend.to_string(),
                    vec!["not defined in the spec".into()],
                );
            }
            t.link(&rule_id, &bs, split.then(|| percent(weight, total)));
        }
    }
    t
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Longest text drawn in a box; longer texts are cut and shown whole in the box's tooltip.
const MAX_CHARS: usize = 27;
const MAX_FOLDS: usize = 3;
const TITLE_CHAR_W: f64 = 7.2;
const LINE_CHAR_W: f64 = 6.1;
const TITLE_H: f64 = 20.0;
const LINE_H: f64 = 15.0;
const PAD: f64 = 8.0;
const V_GAP: f64 = 14.0;
const H_GAP: f64 = 48.0;
const TOP: f64 = 34.0;
const MARGIN: f64 = 10.0;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(MAX_CHARS - 1).collect();
        c.push('…');
        c
    }
}

/// A box's lines as drawn: each folded onto up to [`MAX_FOLDS`] lines of at most
/// [`MAX_CHARS`], broken after a space, comma, slash, dot or hyphen where one is near the end,
/// the continuations indented. Narrow columns keep six of them inside a 1366-pixel window
/// without shrinking the text; the box's tooltip keeps every line whole.
fn shown_lines(n: &Node) -> Vec<String> {
    n.lines.iter().flat_map(|l| fold(l)).collect()
}

fn fold(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    let mut indent = "";
    while indent.len() + rest.len() > MAX_CHARS && out.len() + 1 < MAX_FOLDS {
        let room = MAX_CHARS - indent.len();
        let cut = (room / 2..room)
            .rev()
            .find(|&i| matches!(rest[i - 1], ' ' | ',' | '/' | '.' | '-' | '('))
            .unwrap_or(room);
        let head: String = rest[..cut].iter().collect();
        out.push(format!("{indent}{}", head.trim_end()));
        rest.drain(..cut);
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
        indent = "  ";
    }
    let tail: String = rest.iter().collect();
    out.push(clip(&format!("{indent}{tail}")));
    out
}

fn node_height(n: &Node) -> f64 {
    TITLE_H + LINE_H * shown_lines(n).len() as f64 + PAD
}

struct Placed {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Draws the topology as a standalone SVG document fragment (an `<svg>` element).
pub fn to_svg(t: &Topology) -> String {
    // Column widths from their longest text.
    let mut xs = Vec::new();
    let mut widths = Vec::new();
    let mut x = MARGIN;
    let layers: Vec<Layer> = Layer::ALL
        .into_iter()
        .filter(|l| t.column(*l).next().is_some())
        .collect();
    for layer in &layers {
        let w = t
            .column(*layer)
            .map(|n| {
                let title = clip(&n.title).chars().count() as f64 * TITLE_CHAR_W;
                let lines = shown_lines(n)
                    .iter()
                    .map(|l| l.chars().count() as f64 * LINE_CHAR_W)
                    .fold(0.0, f64::max);
                title.max(lines)
            })
            .fold(layer.heading().len() as f64 * LINE_CHAR_W, f64::max)
            + 2.0 * PAD;
        xs.push(x);
        widths.push(w.ceil());
        x += w.ceil() + H_GAP;
    }
    let width = (x - H_GAP + MARGIN).max(2.0 * MARGIN);

    let mut placed: Vec<(usize, Placed)> = Vec::new();
    let mut height: f64 = TOP;
    for (c, layer) in layers.iter().enumerate() {
        let mut y = TOP;
        for (i, n) in t.nodes.iter().enumerate() {
            if n.layer != *layer {
                continue;
            }
            let h = node_height(n);
            placed.push((
                i,
                Placed {
                    x: xs[c],
                    y,
                    w: widths[c],
                    h,
                },
            ));
            y += h + V_GAP;
        }
        height = height.max(y);
    }
    let height = height - V_GAP + MARGIN;
    let find = |id: &str| -> Option<&Placed> {
        placed
            .iter()
            .find(|(i, _)| t.nodes[*i].id == id)
            .map(|(_, p)| p)
    };

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="topology" role="img" aria-label="Topology: {} nodes, {} connections" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" font-family="system-ui, sans-serif" font-size="11">"##,
        t.nodes.len(),
        t.edges.len()
    );
    s.push_str(r##"<defs><marker id="topology-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#6b7686"/></marker></defs>"##);
    for (c, layer) in layers.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text class="heading" x="{:.1}" y="{:.1}" font-size="12" font-weight="600" fill="#5d6878">{}</text>"##,
            xs[c],
            TOP - 14.0,
            escape(layer.heading())
        );
    }
    // Edges first, so boxes are drawn over their ends.
    for e in &t.edges {
        let (Some(a), Some(b)) = (find(&e.from), find(&e.to)) else {
            continue;
        };
        let (x0, y0) = (a.x + a.w, a.y + a.h / 2.0);
        let (x3, y3) = (b.x, b.y + b.h / 2.0);
        let mid = (x0 + x3) / 2.0;
        let _ = write!(
            s,
            r##"<g class="edge" data-from="{}" data-to="{}"><path d="M{x0:.1},{y0:.1} C{mid:.1},{y0:.1} {mid:.1},{y3:.1} {x3:.1},{y3:.1}" fill="none" stroke="#6b7686" stroke-width="1.4" marker-end="url(#topology-arrow)"/>"##,
            escape(&e.from),
            escape(&e.to)
        );
        if let Some(label) = &e.label {
            // Near the target, where edges fanning out of one rule are apart.
            let (lx, ly) = (x0 + (x3 - x0) * 0.72, y0 + (y3 - y0) * 0.86);
            let lw = label.chars().count() as f64 * LINE_CHAR_W + 8.0;
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{lw:.1}" height="15" rx="3" fill="#ffffff" stroke="#b8c1cc"/><text class="weight" x="{lx:.1}" y="{:.1}" text-anchor="middle" font-weight="600" fill="#1d2430">{}</text>"##,
                lx - lw / 2.0,
                ly - 10.5,
                ly + 1.0,
                escape(label)
            );
        }
        s.push_str("</g>");
    }
    for (i, p) in &placed {
        let n = &t.nodes[*i];
        let mut tooltip = n.title.clone();
        for l in n.lines.iter().chain(&n.notes) {
            tooltip.push('\n');
            tooltip.push_str(l);
        }
        if let Some(href) = &n.href {
            let _ = write!(s, r##"<a href="{}">"##, escape(href));
        }
        let _ = write!(
            s,
            r##"<g class="node node-{}" data-node="{}"><title>{}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="5" fill="{}" stroke="#98a3b3"/><text class="title" x="{:.1}" y="{:.1}" font-size="12" font-weight="600" fill="#1d2430">{}</text>"##,
            n.layer.css(),
            escape(&n.id),
            escape(&tooltip),
            p.x,
            p.y,
            p.w,
            p.h,
            n.layer.fill(),
            p.x + PAD,
            p.y + 15.0,
            escape(&clip(&n.title))
        );
        for (k, line) in shown_lines(n).iter().enumerate() {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#3b4657" xml:space="preserve">{}</text>"##,
                p.x + PAD,
                p.y + TITLE_H + 10.0 + LINE_H * k as f64,
                escape(line)
            );
        }
        s.push_str("</g>");
        if n.href.is_some() {
            s.push_str("</a>");
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse;

    fn seed(name: &str) -> Spec {
        let json = match name {
            "000" => include_str!("../../tests/data/seeds/seed-000.json"),
            "001" => include_str!("../../tests/data/seeds/seed-001.json"),
            "002" => include_str!("../../tests/data/seeds/seed-002.json"),
            "002-http" => include_str!("../../tests/data/seeds/seed-002-http.json"),
            "001-services" => include_str!("../../tests/data/seeds/seed-001-services.json"),
            _ => unreachable!(),
        };
        parse::parse(json).unwrap()
    }

    fn all_text(t: &Topology) -> String {
        t.nodes
            .iter()
            .flat_map(|n| std::iter::once(n.title.clone()).chain(n.lines.clone()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn seed_002_has_both_backends_the_rewrite_and_the_redirect() {
        let t = from_spec(&seed("002"), Some("203.0.113.7"));
        let backends: Vec<&str> = t
            .column(Layer::BackendServices)
            .map(|n| n.title.as_str())
            .collect();
        assert_eq!(backends, ["hello", "hello2"]);
        let text = all_text(&t);
        assert!(text.contains("rewrite /hello2/* → /"), "{text}");
        assert!(text.contains("Host: hello2-3qx7k2dz6a-uc.a.run.app"));
        assert!(text.contains("static IP 203.0.113.7"));
        assert!(text.contains("domains: hello.example.com"));
        // Rule 1 goes to hello2, the default to hello; no split, so no labels.
        assert!(t.edge("rule:0", "bs:hello2").unwrap().label.is_none());
        assert!(t.edge("rule:default", "bs:hello").is_some());
        // Port 80 answers with the redirect.
        assert!(t.edge("fr:http", "proxy:redirect").is_some());
        assert!(t.edge("proxy:redirect", "rule:redirect").is_some());
        // Two internet NEGs (different FQDNs), each to its endpoint.
        let negs: Vec<&Node> = t.column(Layer::Negs).collect();
        assert_eq!(negs.len(), 2);
        assert!(
            t.node("fqdn:hello2-3qx7k2dz6a-uc.a.run.app:443")
                .is_some_and(|n| n.title == "hello2-3qx7k2dz6a-uc.a.run.app:443")
        );
        // Every edge joins two existing nodes.
        for e in &t.edges {
            assert!(
                t.node(&e.from).is_some() && t.node(&e.to).is_some(),
                "{e:?}"
            );
        }
    }

    #[test]
    fn seed_001_has_three_regions() {
        let t = from_spec(&seed("001"), None);
        let regions: Vec<&str> = t
            .column(Layer::Endpoints)
            .map(|n| n.title.as_str())
            .collect();
        assert_eq!(regions, ["us-central1", "europe-west1", "asia-east1"]);
        assert_eq!(t.column(Layer::Negs).count(), 3);
        for r in regions {
            assert!(
                t.edge(&format!("neg:my-app:{r}"), &format!("run:my-app:{r}"))
                    .is_some()
            );
            assert!(t.edge("bs:my-app", &format!("neg:my-app:{r}")).is_some());
        }
        assert!(all_text(&t).contains("static IP my-app-ip (reserved on apply)"));
        assert!(all_text(&t).contains("outlier detection on"));
    }

    #[test]
    fn plain_http_has_no_certificate() {
        let t = from_spec(&seed("002-http"), None);
        assert!(t.node("proxy:http").is_some());
        assert!(t.node("proxy:https").is_none());
        assert!(!all_text(&t).contains("certificate"));
    }

    #[test]
    fn splits_carry_percentages_and_unknown_backends_are_shown() {
        let spec: Spec = serde_json::from_value(serde_json::json!({
            "name": "s", "project": "p",
            "frontend": {"protocol": "http"},
            "backends": [
                {"name": "a", "type": "serverless", "service": "a", "regions": ["us-central1"]},
                {"name": "b", "type": "internet", "fqdn": "x.example.com"},
                {"name": "c", "type": "internet", "fqdn": "x.example.com"}
            ],
            "routing": {
                "default": {"split": [{"backend": "a", "weight": 2}, {"backend": "b", "weight": 1}]},
                "rules": [{"paths": ["/c/*"], "backend": "ghost"}]
            }
        }))
        .unwrap();
        let t = from_spec(&spec, None);
        assert_eq!(
            t.edge("rule:default", "bs:a").unwrap().label.as_deref(),
            Some("66.7 %")
        );
        assert_eq!(
            t.edge("rule:default", "bs:b").unwrap().label.as_deref(),
            Some("33.3 %")
        );
        assert_eq!(
            t.node("bs:ghost").unwrap().lines,
            ["not defined in the spec"]
        );
        // b and c share the internet NEG of x.example.com:443.
        assert_eq!(t.column(Layer::Negs).count(), 2);
        assert!(t.edge("bs:b", "ineg:x.example.com:443").is_some());
        assert!(t.edge("bs:c", "ineg:x.example.com:443").is_some());
        assert_eq!(percent(1, 4), "25 %");
    }

    #[test]
    fn svg_draws_every_node_and_escapes_every_text() {
        let mut spec = seed("002");
        spec.routing.rules[0].paths = vec!["/a&b<script>\"'".into()];
        spec.routing.rules[0].hosts = vec!["<i>evil</i>".into()];
        let t = from_spec(&spec, None);
        let svg = to_svg(&t);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>") && !svg.contains("<i>"));
        assert!(svg.contains("/a&amp;b&lt;script&gt;&quot;&#39;"));
        assert!(svg.contains("&lt;i&gt;evil&lt;/i&gt;"));
        assert!(!svg.contains(" style="), "the CSP forbids inline styles");
        assert_eq!(svg.matches("<g class=\"node ").count(), t.nodes.len());
        assert_eq!(svg.matches("<g class=\"edge\"").count(), t.edges.len());
        assert!(svg.contains(">hello2<"));
        assert!(svg.contains("rewrite /a&amp;b"));
        // Every text element and attribute is balanced: a crude well-formedness check.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert_eq!(svg.matches("<g ").count(), svg.matches("</g>").count());
    }

    #[test]
    fn long_texts_are_clipped_but_kept_in_the_tooltip() {
        let long = format!("{}.example.com", "a".repeat(60));
        let mut spec = seed("002");
        spec.frontend.domains = vec![long.clone()];
        let svg = to_svg(&from_spec(&spec, None));
        assert!(svg.contains('…'));
        assert!(svg.contains(&long), "the tooltip keeps the whole domain");
        assert_eq!(escape("a\u{1}b"), "a\u{fffd}b");
    }

    use crate::domain::tests::{services_seed, valid};

    /// The SVG's `<g class="node ...">` groups, by node id.
    fn svg_nodes(svg: &str) -> Vec<(String, String)> {
        svg.split("<g class=\"node ")
            .skip(1)
            .map(|g| {
                let g = &g[..g.find("</g>").unwrap()];
                let id = g.split("data-node=\"").nth(1).unwrap();
                (id[..id.find('"').unwrap()].to_string(), g.to_string())
            })
            .collect()
    }

    #[test]
    fn chained_deployments_are_boxes_linked_to_their_pages() {
        let front = parse::parse(
            r#"{"name": "edge-lb", "project": "edge-project", "frontend": {"protocol": "http"},
                "backends": [
                  {"name": "multi", "type": "internet", "deployment": "my-app"},
                  {"name": "byip", "type": "internet", "ip": "34.120.1.2"}],
                "routing": {"default": {"backend": "multi"},
                  "rules": [{"paths": ["/ip/*"], "backend": "byip"}]}}"#,
        )
        .unwrap();
        let mut t = from_spec(&front, None);
        let back = t.node("deployment:my-app").unwrap();
        assert_eq!(back.title, "→ my-app");
        assert_eq!(back.layer, Layer::Endpoints);
        assert!(
            t.edge("ineg:deployment:my-app", "deployment:my-app")
                .is_some()
        );
        let ip = t.node("ip:34.120.1.2:443").unwrap();
        assert_eq!(ip.title, "34.120.1.2:443");
        assert!(t.node("ineg:34.120.1.2:443").unwrap().lines[1].contains("INTERNET_IP_PORT"));
        t.show_hops(&[crate::domain::chain::Hop {
            backend: "multi".into(),
            deployment: "my-app".into(),
            fqdn: Some("app.example.com".into()),
            ip: None,
            port: 443,
            protocol: Protocol::Https,
            host_header: Some("app.example.com".into()),
        }]);
        t.add_fronts(&[("shop", "legacy")]);
        let front_box = t.node("front:shop").unwrap();
        assert_eq!(front_box.title, "shop → here");
        assert_eq!(front_box.layer, Layer::ForwardingRules);
        t.link_deployments(&|name| (name == "my-app").then(|| "/deployments/7".to_string()));
        let chained: Vec<(&str, Option<&str>)> = t
            .chained()
            .into_iter()
            .map(|n| (n.title.as_str(), n.href.as_deref()))
            .collect();
        assert_eq!(
            chained,
            [("→ my-app", Some("/deployments/7")), ("shop → here", None)]
        );
        let svg = to_svg(&t);
        assert!(
            svg.contains(r#"<a href="/deployments/7"><g class="node node-endpoint" data-node="deployment:my-app">"#),
            "{svg}"
        );
        assert!(svg.contains("now app.example.com:443"));
        // A box without a page is no link.
        assert_eq!(svg.matches("<a href=").count(), 1);
    }

    #[test]
    fn deployed_services_show_their_image() {
        let spec = seed("001-services");
        let t = from_spec(&spec, None);
        // The same boxes, with the same ids, as the seed without `services`.
        let ids = |t: &Topology| t.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&t), ids(&from_spec(&seed("001"), None)));
        for r in ["us-central1", "europe-west1", "asia-east1"] {
            let n = t.node(&format!("run:my-app:{r}")).unwrap();
            assert_eq!(n.title, r);
            assert_eq!(
                n.lines,
                ["Cloud Run service my-app", "image …/container/hello"]
            );
            assert_eq!(
                n.notes,
                ["image us-docker.pkg.dev/cloudrun/container/hello"]
            );
        }
        let svg = to_svg(&t);
        assert!(!svg.contains("canary"), "the seed has no rollout");
        let (_, box_) = svg_nodes(&svg)
            .into_iter()
            .find(|(id, _)| id == "run:my-app:europe-west1")
            .unwrap();
        assert!(box_.contains(
            "<title>europe-west1\nCloud Run service my-app\nimage …/container/hello\n\
             image us-docker.pkg.dev/cloudrun/container/hello</title>"
        ));
        assert!(box_.contains(">image …/container/hello</text>"));
    }

    #[test]
    fn the_canary_is_marked_and_env_values_never_shown() {
        let mut v = services_seed();
        v["rollout"] = serde_json::json!({"canary_region": "europe-west1"});
        v["services"][0]["env"] =
            serde_json::json!({"DB_PASSWORD": "hunter2-s3cret", "MODE": "prod-only-value"});
        // Deployed to asia-east1 too, but the backend leaves it out (warming up).
        v["backends"][0]["regions"] = serde_json::json!(["us-central1", "europe-west1"]);
        // A second service in one region: nothing to stage there, so no canary mark.
        v["services"].as_array_mut().unwrap().push(serde_json::json!({
            "name": "api", "image": format!("europe-docker.pkg.dev/acme-prod/containers/api@sha256:{}", "ab".repeat(32)),
            "regions": ["europe-west1"], "env": [{"name": "TOKEN", "value": "tok-very-secret"}]
        }));
        v["backends"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "name": "api", "type": "serverless", "service": "api", "regions": ["europe-west1"]
            }));
        v["routing"]["rules"] = serde_json::json!([{"paths": ["/api/*"], "backend": "api"}]);
        let t = from_spec(&valid(&v), None);
        let svg = to_svg(&t);

        let marked: Vec<&str> = t
            .nodes
            .iter()
            .filter(|n| n.lines.iter().any(|l| l.contains("canary")))
            .map(|n| n.id.as_str())
            .collect();
        assert_eq!(marked, ["run:my-app:europe-west1"]);
        assert_eq!(
            t.node("run:my-app:europe-west1").unwrap().lines,
            [
                "Cloud Run service my-app",
                "image …/container/hello",
                "canary: deployed first"
            ]
        );
        let in_svg: Vec<String> = svg_nodes(&svg)
            .into_iter()
            .filter(|(_, g)| g.contains("canary"))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(in_svg, ["run:my-app:europe-west1"]);

        // asia-east1 runs the service but gets no traffic: a box without an incoming edge.
        let asia = t.node("run:my-app:asia-east1").unwrap();
        assert_eq!(asia.lines.last().unwrap(), "no backend sends traffic here");
        assert!(t.edges.iter().all(|e| e.to != "run:my-app:asia-east1"));
        assert!(t.node("neg:my-app:asia-east1").is_none());

        // A digest is cut to 12 hex digits in the box, kept whole in the tooltip.
        let api = t.node("run:api:europe-west1").unwrap();
        assert_eq!(api.lines[1], "image …/api@sha256:abababababab…");
        assert!(svg.contains(&format!("@sha256:{}", "ab".repeat(32))));

        for secret in ["hunter2", "prod-only-value", "tok-very-secret"] {
            assert!(!svg.contains(secret), "an env value leaked into the SVG");
            assert!(!all_text(&t).contains(secret));
            assert!(
                t.nodes
                    .iter()
                    .all(|n| n.notes.iter().all(|l| !l.contains(secret)))
            );
        }
    }

    #[test]
    fn images_are_shortened_from_the_front() {
        assert_eq!(short_image("gcr.io/p/app:v1", 40), "gcr.io/p/app:v1");
        assert_eq!(
            short_image("us-docker.pkg.dev/cloudrun/container/hello", 40),
            "…/cloudrun/container/hello"
        );
        assert_eq!(
            short_image("europe-west1-docker.pkg.dev/acme/repo/app:2026-11-01", 25),
            "…/repo/app:2026-11-01"
        );
        let digest = format!("gcr.io/p/app@sha256:{}", "0".repeat(64));
        assert_eq!(
            short_image(&digest, 40),
            "gcr.io/p/app@sha256:000000000000…"
        );
        // What cannot be made to fit is left for `clip`.
        let long = "r.io/".to_string() + &"x".repeat(60);
        assert_eq!(short_image(&long, 40), format!("…/{}", "x".repeat(60)));
    }

    #[test]
    fn specs_without_services_draw_as_before() {
        let mut without = services_seed();
        without.as_object_mut().unwrap().remove("services");
        assert_eq!(
            to_svg(&from_spec(&valid(&without), None)),
            to_svg(&from_spec(&seed("001"), None))
        );
        let json = serde_json::to_value(from_spec(&seed("001"), None)).unwrap();
        assert!(!json.to_string().contains("notes"));
    }
}
