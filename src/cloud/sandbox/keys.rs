//! The sandbox's service account: an RSA key generated once and kept in SQLite, the key file
//! handed to gcp_auth, and verification of the JWT assertions gcp_auth signs with it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sqlx::SqliteConnection;

pub const CLIENT_EMAIL: &str = "switchyard-panel@switchyard-sandbox.iam.gserviceaccount.com";

/// The key pair; the private half never leaves the process except in the key JSON given to
/// the panel's own client.
pub struct ServiceAccount {
    pub client_email: String,
    pkcs8: Vec<u8>,
    public_key: Vec<u8>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Loads the stored key, generating and storing one on first use.
    pub async fn load_or_create(conn: &mut SqliteConnection) -> anyhow::Result<ServiceAccount> {
        let (email, pkcs8) = match crate::db::sandbox::service_account(conn).await? {
            Some(found) => found,
            None => {
                let pair = KeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
                let der = pair
                    .as_der()
                    .map_err(|_| anyhow::anyhow!("RSA key encoding failed"))?;
                crate::db::sandbox::store_service_account(conn, CLIENT_EMAIL, der.as_ref()).await?
            }
        };
        let pair = KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| anyhow::anyhow!("the stored sandbox key is not a PKCS#8 RSA key"))?;
        Ok(ServiceAccount {
            client_email: email,
            public_key: pair.public_key().as_ref().to_vec(),
            pkcs8,
        })
    }

    /// A service-account key file (JSON) whose `token_uri` is the sandbox's token endpoint.
    pub fn key_json(&self, token_uri: &str, project_id: &str) -> String {
        let b64 = STANDARD.encode(&self.pkcs8);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        serde_json::json!({
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": "sandbox",
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        })
        .to_string()
    }

    /// Checks an RS256 JWT-bearer assertion: signature by this key, issuer, audience, expiry.
    /// Returns the granted scopes.
    pub fn verify_assertion(
        &self,
        jwt: &str,
        token_uri: &str,
        now_secs: i64,
    ) -> Result<String, &'static str> {
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
            );
        };
        let decode = |p: &str| URL_SAFE_NO_PAD.decode(p.trim_end_matches('='));
        let header: Header = decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("Invalid JWT header")?;
        if header.alg != "RS256" {
            return Err("Invalid JWT: unsupported algorithm");
        }
        let sig = decode(s).map_err(|_| "Invalid JWT Signature.")?;
        let signed = &jwt[..h.len() + 1 + c.len()];
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public_key)
            .verify(signed.as_bytes(), &sig)
            .map_err(|_| "Invalid JWT Signature.")?;
        let claims: Claims = decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("Invalid JWT claims")?;
        if claims.iss != self.client_email {
            return Err("Invalid JWT: issuer is not the sandbox service account");
        }
        if claims.aud != token_uri {
            return Err("Invalid JWT: audience is not this token endpoint");
        }
        if claims.exp <= now_secs || claims.iat > now_secs + 300 || claims.exp - claims.iat > 3600 {
            return Err(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
            );
        }
        if claims.scope.trim().is_empty() {
            return Err("Invalid OAuth scope or ID token audience provided.");
        }
        Ok(claims.scope)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
    #[serde(default)]
    scope: String,
}
