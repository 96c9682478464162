//! Standard Webhooks signatures (standardwebhooks.com; the spec lives in
//! `standard-webhooks/standard-webhooks`).
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`; the signature is
//! `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). Following the standard is what lets
//! a receiver verify our deliveries with any of its reference libraries (PyPI and npm
//! `standardwebhooks`, `svix`) instead of trusting code we would have to document.
//!
//! Decisions:
//! - The secret's text form is `whsec_` + standard base64 of the key, as the reference libraries
//!   expect. [`SigningSecret::parse`] insists on the prefix: a bare base64 string is more likely a
//!   mistake (another system's token) than one of ours.
//! - Keys are 24 to 64 bytes (the spec's recommended range); we generate 32. [`sign`] normalises
//!   the key to SHA-256's 64-byte block itself, as RFC 2104 does, so it needs no fallible
//!   constructor (the crate denies `unwrap`) and gives the same MAC as `new_from_slice`.
//! - `Debug` never prints the key, and no error message echoes the text it refused.
//! - During a rotation both secrets sign ([`signature_header`]): receivers accept a delivery when
//!   any one of the space-separated signatures matches, so neither side has to switch in lockstep.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "whsec_";
const GENERATED_LEN: usize = 32;
const MIN_LEN: usize = 24;
const MAX_LEN: usize = 64;
/// SHA-256's block size, the length of an HMAC-SHA256 key once normalised.
const BLOCK_LEN: usize = 64;

/// The names of the three Standard Webhooks headers.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// An endpoint's signing key. Its bytes never appear in `Debug` output or in errors.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

/// Why a text was not accepted as a signing secret. The text itself is never repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a signing secret starts with \"whsec_\"")]
    MissingPrefix,
    #[error("a signing secret is \"whsec_\" followed by standard base64")]
    NotBase64,
    #[error("a signing secret holds 24 to 64 bytes, this one holds {0}")]
    BadLength(usize),
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    /// A fresh secret of 32 random bytes, and its `whsec_…` text form (to show the customer once
    /// and to store).
    pub fn generate() -> (SigningSecret, String) {
        let mut bytes = vec![0u8; GENERATED_LEN];
        rand::rng().fill_bytes(&mut bytes);
        let text = format!("{PREFIX}{}", STANDARD.encode(&bytes));
        (SigningSecret(bytes), text)
    }

    /// Reads the `whsec_…` text form; anything else is refused.
    pub fn parse(text: &str) -> Result<SigningSecret, SecretError> {
        let encoded = text
            .strip_prefix(PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !(MIN_LEN..=MAX_LEN).contains(&bytes.len()) {
            return Err(SecretError::BadLength(bytes.len()));
        }
        Ok(SigningSecret(bytes))
    }
}

/// The `v1,<base64>` signature of one delivery.
pub fn sign(secret: &SigningSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    // RFC 2104: a key longer than the block is first hashed, a shorter one is padded with zeros.
    let mut key = [0u8; BLOCK_LEN];
    if secret.0.len() > BLOCK_LEN {
        key[..32].copy_from_slice(&Sha256::digest(&secret.0));
    } else {
        key[..secret.0.len()].copy_from_slice(&secret.0);
    }
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&key.into());
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` value: one signature per secret, space-separated, in the given order
/// (during a rotation: the new secret and the old one).
pub fn signature_header(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The three Standard Webhooks headers of one delivery, ready for [`super::send::Outgoing`].
pub fn standard_headers(
    secrets: &[&SigningSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    vec![
        (HEADER_ID.to_owned(), msg_id.to_owned()),
        (HEADER_TIMESTAMP.to_owned(), timestamp.to_string()),
        (
            HEADER_SIGNATURE.to_owned(),
            signature_header(secrets, msg_id, timestamp, body),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The vector published with the Standard Webhooks specification (and used by its libraries'
    /// tests); checked independently with Python's `hmac` module.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signature_matches_the_standard_webhooks_vector() {
        let secret = SigningSecret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            sign(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
    }

    #[test]
    fn signature_matches_the_reference_rust_library_vector() {
        // From the `test_sign` case of standard-webhooks' Rust library.
        let secret = SigningSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                br#"{"email":"test@example.com","username":"test_user"}"#,
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn padded_key_gives_the_same_mac_as_the_key_itself() {
        for len in [1, MIN_LEN, 32, 48, 63, MAX_LEN, 65, 200] {
            let secret = SigningSecret((0..len).map(|i| i as u8 ^ 0x5a).collect());
            let mut reference = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0).unwrap();
            reference.update(b"id.42.body");
            let expected = format!("v1,{}", STANDARD.encode(reference.finalize().into_bytes()));
            assert_eq!(
                sign(&secret, "id", 42, b"body"),
                expected,
                "key of {len} bytes"
            );
        }
    }

    #[test]
    fn rotation_header_carries_one_signature_per_secret_in_order() {
        let old = SigningSecret::parse(SPEC_SECRET).unwrap();
        let (new, _) = SigningSecret::generate();
        let header = signature_header(&[&new, &old], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY));
        assert_eq!(parts[1], SPEC_SIGNATURE);
    }

    #[test]
    fn standard_headers_name_id_timestamp_and_signature() {
        let secret = SigningSecret::parse(SPEC_SECRET).unwrap();
        let headers = standard_headers(&[&secret], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
        assert_eq!(
            headers,
            vec![
                ("webhook-id".to_owned(), SPEC_ID.to_owned()),
                ("webhook-timestamp".to_owned(), "1614265330".to_owned()),
                ("webhook-signature".to_owned(), SPEC_SIGNATURE.to_owned()),
            ]
        );
    }

    #[test]
    fn generated_secrets_are_fresh_and_read_back() {
        let (a, text_a) = SigningSecret::generate();
        let (b, text_b) = SigningSecret::generate();
        assert_ne!(a, b);
        assert!(text_a.starts_with("whsec_"));
        assert_eq!(text_a.len(), "whsec_".len() + 44);
        assert_eq!(SigningSecret::parse(&text_a).unwrap(), a);
        assert_eq!(SigningSecret::parse(&text_b).unwrap(), b);
    }

    #[test]
    fn parse_refuses_anything_but_whsec_and_base64_of_a_sound_length() {
        let cases = [
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SecretError::MissingPrefix,
            ),
            (
                "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                SecretError::MissingPrefix,
            ),
            ("", SecretError::MissingPrefix),
            ("whsec_not base64!", SecretError::NotBase64),
            // URL-safe alphabet is not the standard one.
            (
                "whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD",
                SecretError::NotBase64,
            ),
            ("whsec_", SecretError::BadLength(0)),
            ("whsec_c2hvcnQ=", SecretError::BadLength(5)),
        ];
        for (text, expected) in cases {
            assert_eq!(SigningSecret::parse(text), Err(expected), "{text:?}");
        }
        let too_long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(
            SigningSecret::parse(&too_long),
            Err(SecretError::BadLength(65))
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_key() {
        let (secret, text) = SigningSecret::generate();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SigningSecret(..)");
        assert!(!shown.contains(&text["whsec_".len()..]));
        let refused = "whsec_c2VjcmV0LXRvby1zaG9ydA==";
        let message = SigningSecret::parse(refused).unwrap_err().to_string();
        assert!(!message.contains("c2VjcmV0"));
    }
}
