//! Who is on the other end: the TCP peer, or, behind a trusted proxy, the client that proxy
//! names in `X-Forwarded-For`. Only a configured proxy is believed: anyone else could write the
//! header to dodge the per-address sign-in throttle.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// The client's address. Behind trusted proxies, `X-Forwarded-For` is read from the right (each
/// proxy appends the address it saw) and the first address that is not itself a trusted proxy
/// is the client; a header that cannot be read leaves the peer.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|h| h.parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    hops.into_iter()
        .rev()
        .find(|h| !trusted.contains(h))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            client_addr(proxy, &headers("203.0.113.7"), &[proxy]),
            client
        );
        // A client's own forged entry on the left is skipped: the proxy's is the rightmost.
        assert_eq!(
            client_addr(proxy, &headers("1.2.3.4, 203.0.113.7"), &[proxy]),
            client
        );
        assert_eq!(
            client_addr(stranger, &headers("1.2.3.4"), &[proxy]),
            stranger
        );
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &[proxy]), proxy);
        assert_eq!(client_addr(proxy, &headers("garbage"), &[proxy]), proxy);
        assert_eq!(client_addr(proxy, &headers("203.0.113.7"), &[]), proxy);
    }
}
