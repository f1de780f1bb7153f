//! `deployment_live`: the last observed live facts of each deployment (IP, certificate status).

use super::Db;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LiveRow {
    pub deployment_id: i64,
    pub ip: Option<String>,
    /// The IPv6 address (`frontend.ipv6`), when the deployment has one.
    pub ipv6: Option<String>,
    pub certificate: Option<String>,
    pub cert_status: Option<String>,
    /// JSON object: domain → status.
    pub domain_status: String,
    pub checked_at: String,
}

impl LiveRow {
    /// The status Google reported for `domain`, if any.
    pub fn domain(&self, domain: &str) -> Option<String> {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.domain_status).unwrap_or_default();
        map.iter()
            .find(|(d, _)| {
                d.trim_end_matches('.')
                    .eq_ignore_ascii_case(domain.trim_end_matches('.'))
            })
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    }
}

pub async fn live(db: &Db, deployment_id: i64) -> Result<Option<LiveRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT deployment_id, ip, ipv6, certificate, cert_status, domain_status, checked_at \
         FROM deployment_live WHERE deployment_id = ?",
    )
    .bind(deployment_id)
    .fetch_optional(db)
    .await
}

/// Replaces what is known about the deployment's live resources.
pub async fn set_live(
    db: &Db,
    deployment_id: i64,
    ip: Option<&str>,
    certificate: Option<&str>,
    cert_status: Option<&str>,
    domain_status: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO deployment_live (deployment_id, ip, certificate, cert_status, domain_status, checked_at) \
         VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
         ON CONFLICT (deployment_id) DO UPDATE SET ip = excluded.ip, certificate = excluded.certificate, \
         cert_status = excluded.cert_status, domain_status = excluded.domain_status, checked_at = excluded.checked_at",
    )
    .bind(deployment_id)
    .bind(ip)
    .bind(certificate)
    .bind(cert_status)
    .bind(domain_status.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Records the deployment's IPv6 address (or that it has none), after [`set_live`] wrote the
/// rest; unchanged, nothing is written.
pub async fn set_ipv6(db: &Db, deployment_id: i64, ipv6: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE deployment_live SET ipv6 = ?2 WHERE deployment_id = ?1 AND ipv6 IS NOT ?2")
        .bind(deployment_id)
        .bind(ipv6)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces what is known about the deployment's certificate only, and only when the live
/// facts were read in full before. `checked_at` stays: it tells the reader that runs after
/// each apply whether the IP and the rest were read since, and a certificate-only read must
/// not stand in for that. An unchanged status is not written, so the pages kept in memory
/// (which a write to this table invalidates) stay kept while a certificate provisions.
pub async fn set_certificate(
    db: &Db,
    deployment_id: i64,
    certificate: Option<&str>,
    cert_status: Option<&str>,
    domain_status: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE deployment_live SET certificate = ?2, cert_status = ?3, domain_status = ?4 \
         WHERE deployment_id = ?1 AND (certificate IS NOT ?2 OR cert_status IS NOT ?3 \
         OR domain_status IS NOT ?4)",
    )
    .bind(deployment_id)
    .bind(certificate)
    .bind(cert_status)
    .bind(domain_status.to_string())
    .execute(db)
    .await?;
    Ok(())
}
