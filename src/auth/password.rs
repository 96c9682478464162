//! Password hashing: argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP baseline) on the blocking
//! pool, with a bound on how many run at once so a login storm cannot starve the server.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::Error;

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19_456, 2, 1, None).map_err(Error::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password (synchronous: call through [`Passwords`] from async code).
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(Error::internal)?
        .to_string())
}

/// Checks a password against a stored PHC string.
pub fn verify(password: &str, phc: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(phc).map_err(Error::internal)?;
    Ok(argon2()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// The hashing service shared by every request.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the e-mail is unknown, so that an unknown account costs the same
    /// time as a wrong password.
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub fn new(max_concurrent: usize) -> Result<Self, Error> {
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: hash(&crate::auth::random_secret())?.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, Error> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || hash(&password))
            .await
            .map_err(Error::internal)?
    }

    /// `stored` is `None` for an unknown account: the dummy hash is verified and `false` returned.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Error> {
        let _permit = self.permits.acquire().await.map_err(Error::internal)?;
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = tokio::task::spawn_blocking(move || verify(&password, &phc))
            .await
            .map_err(Error::internal)??;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery staple").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(verify("correct horse battery staple", &h).ok(), Some(true));
        assert_eq!(
            verify("correct horse battery stapler", &h).ok(),
            Some(false)
        );
    }

    #[test]
    fn unicode_passwords_work() {
        let h = hash("mot de passe très sûr 🔐").unwrap_or_default();
        assert_eq!(verify("mot de passe très sûr 🔐", &h).ok(), Some(true));
    }
}
