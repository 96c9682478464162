//! Access tokens: HS256 JWTs with every claim required and checked. Refresh tokens are opaque
//! secrets stored hashed (see `service::auth`), never JWTs.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const ISSUER: &str = "guichet";
pub const AUDIENCE: &str = "guichet-api";
pub const ACCESS: &str = "access";
/// The longest an access token may live: logout and disabling are checked per request anyway.
pub const MAX_ACCESS_TTL_SECONDS: u64 = 15 * 60;
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    /// Token type: only `access` is accepted as a bearer token.
    pub typ: String,
    /// The session id, checked against the database on every request.
    pub sid: String,
    /// A unique id per token, so that two tokens issued in the same second differ.
    #[serde(default)]
    pub jti: String,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: u64,
}

impl TokenKeys {
    /// Refuses a secret shorter than 32 bytes, then signs and verifies one token: a crypto
    /// backend missing from the build fails here, at start, not on the first login.
    pub fn new(secret: &[u8], ttl_seconds: u64) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_BYTES} bytes (got {})",
                secret.len()
            ));
        }
        if ttl_seconds == 0 || ttl_seconds > MAX_ACCESS_TTL_SECONDS {
            return Err(format!(
                "the access token lifetime must be between 1 and {MAX_ACCESS_TTL_SECONDS} seconds"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "iat"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        let keys = TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        };
        let probe = keys
            .issue("self-test", "self-test", Utc::now())
            .map_err(|e| format!("JWT self-test failed to sign: {e}"))?;
        keys.verify(&probe)
            .map_err(|e| format!("JWT self-test failed to verify: {e}"))?;
        Ok(keys)
    }

    pub fn ttl_seconds(&self) -> u64 {
        self.ttl_seconds
    }

    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let iat = now.timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            iat,
            exp: iat + self.ttl_seconds as i64,
            typ: ACCESS.into(),
            sid: session_id.into(),
            jti: crate::auth::random_secret(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(Error::internal)
    }

    /// Any failure (format, algorithm, signature, issuer, audience, expiry, type) is the same 401.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| Error::invalid_token())?;
        // A token signed with the right key but living longer than this deployment issues
        // (exp decades ahead) was not made here: refuse it.
        if data.claims.typ != ACCESS
            || data.claims.exp.saturating_sub(data.claims.iat) > self.ttl_seconds as i64
        {
            return Err(Error::invalid_token());
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::new(SECRET, 900).unwrap_or_else(|e| panic!("{e}"))
    }

    fn sign(claims: &serde_json::Value, alg: Algorithm, secret: &[u8]) -> String {
        encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap_or_default()
    }

    fn claims(now: i64) -> serde_json::Value {
        serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now + 60, "iat": now, "typ": "access", "sid": "s"})
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(b"too short", 900).is_err());
        assert!(TokenKeys::new(SECRET, 901).is_err());
    }

    #[test]
    fn two_tokens_of_one_session_in_one_second_differ() {
        let k = keys();
        let now = Utc::now();
        let a = k.issue("user-1", "session-1", now).unwrap_or_default();
        let b = k.issue("user-1", "session-1", now).unwrap_or_default();
        assert_ne!(a, b);
    }

    #[test]
    fn an_issued_token_verifies() {
        let k = keys();
        let t = k
            .issue("user-1", "session-1", Utc::now())
            .unwrap_or_default();
        let c = k.verify(&t).ok();
        assert_eq!(
            c.map(|c| (c.sub, c.sid)),
            Some(("user-1".into(), "session-1".into()))
        );
    }

    #[test]
    fn every_forged_or_wrong_token_is_refused() {
        let k = keys();
        let now = Utc::now().timestamp();
        let mut cases: Vec<(&str, String)> = vec![
            (
                "wrong secret",
                sign(
                    &claims(now),
                    Algorithm::HS256,
                    b"another-secret-another-secret-xx",
                ),
            ),
            (
                "other algorithm",
                sign(&claims(now), Algorithm::HS512, SECRET),
            ),
            ("garbage", "not.a.token".into()),
        ];
        let mut c = claims(now);
        c["aud"] = "someone-else".into();
        cases.push(("wrong audience", sign(&c, Algorithm::HS256, SECRET)));
        let mut c = claims(now);
        c["iss"] = "someone-else".into();
        cases.push(("wrong issuer", sign(&c, Algorithm::HS256, SECRET)));
        let mut c = claims(now);
        c["exp"] = (now - 120).into();
        cases.push(("expired", sign(&c, Algorithm::HS256, SECRET)));
        let mut c = claims(now);
        c["exp"] = "tomorrow".into();
        cases.push(("exp of the wrong type", sign(&c, Algorithm::HS256, SECRET)));
        let mut c = claims(now);
        c["exp"] = (now + 40 * 365 * 24 * 3600).into();
        cases.push(("exp decades ahead", sign(&c, Algorithm::HS256, SECRET)));
        let mut c = claims(now);
        c["iat"] = (now - 3600).into();
        c["exp"] = (now + 60).into();
        cases.push((
            "lifetime over the configured one",
            sign(&c, Algorithm::HS256, SECRET),
        ));
        let mut c = claims(now);
        c["typ"] = "refresh".into();
        cases.push(("refresh type", sign(&c, Algorithm::HS256, SECRET)));
        for missing in ["iss", "aud", "sub", "exp", "iat", "typ", "sid"] {
            let mut c = claims(now);
            c.as_object_mut().map(|o| o.remove(missing));
            cases.push(("missing claim", sign(&c, Algorithm::HS256, SECRET)));
        }
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(now).to_string());
        cases.push(("alg none", format!("{header}.{payload}.")));
        for (what, token) in cases {
            assert!(k.verify(&token).is_err(), "{what} accepted");
        }
    }
}
