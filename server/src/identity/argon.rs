//! Argon2id password hashing with bounded memory. Each hash needs its full
//! working memory (19 MiB at the default parameters); allocated per call,
//! freed blocks of that size stay with the allocator's per-thread arenas,
//! and concurrent logins on a few threads kept ~150 MiB resident. Here one
//! hash runs at a time (callers queue without holding a thread), in one
//! working buffer that is allocated once and reused, so the process holds
//! at most one hash's memory.
//!
//! The security level is the argon2 crate's default, OWASP's recommended
//! minimum for argon2id: m = 19 MiB, t = 2, p = 1. Stored hashes asking for
//! more than [`MAX_MEMORY_KIB`] are refused rather than allocated.

use std::sync::{Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Largest working memory a stored hash may ask for (64 MiB).
pub const MAX_MEMORY_KIB: u32 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the stored password hash is unreadable: {0}")]
    Stored(String),
    #[error("the stored password hash asks for {0} KiB of memory; at most {MAX_MEMORY_KIB} KiB are allowed")]
    TooCostly(u32),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(String),
}

/// One hash at a time across the process; waiting callers hold no thread.
fn turn() -> &'static Semaphore {
    static TURN: OnceLock<Semaphore> = OnceLock::new();
    TURN.get_or_init(|| Semaphore::new(1))
}

/// The one working buffer (grown to the largest parameters seen, never beyond
/// [`MAX_MEMORY_KIB`]).
static WORK: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Runs `f` with the working buffer, on the blocking pool, after the
/// previous hash finished.
async fn with_buffer<T: Send + 'static>(
    f: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
) -> Result<T, HashError> {
    let _turn = turn()
        .acquire()
        .await
        .map_err(|e| HashError::Task(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut work = WORK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut work)
    })
    .await
    .map_err(|e| HashError::Task(e.to_string()))?
}

fn compute(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    work: &mut Vec<Block>,
) -> Result<(), HashError> {
    if params.m_cost() > MAX_MEMORY_KIB {
        return Err(HashError::TooCostly(params.m_cost()));
    }
    let blocks = params.block_count();
    if work.len() < blocks {
        work.resize(blocks, Block::default());
    }
    argon
        .hash_password_into_with_memory(password, salt, out, &mut work[..blocks])
        .map_err(|e| HashError::Hash(e.to_string()))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
pub async fn hash(password: &str) -> Result<String, HashError> {
    let password = password.as_bytes().to_vec();
    with_buffer(move |work| {
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|e| HashError::Hash(e.to_string()))?;
        let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
        compute(&argon, &params, &password, salt_raw, &mut out, work)?;
        let output = Output::new(&out).map_err(|e| HashError::Hash(e.to_string()))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params)
                .try_into()
                .map_err(|e: argon2::password_hash::Error| HashError::Hash(e.to_string()))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    })
    .await
}

/// Whether `password` matches the stored PHC string (compared in constant time).
pub async fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    let password = password.as_bytes().to_vec();
    let stored = stored.to_owned();
    with_buffer(move |work| {
        let phc = PasswordHash::new(&stored).map_err(|e| HashError::Stored(e.to_string()))?;
        let algorithm =
            Algorithm::try_from(phc.algorithm).map_err(|e| HashError::Stored(e.to_string()))?;
        let version = phc
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| HashError::Stored(e.to_string()))?
            .unwrap_or_default();
        let params = Params::try_from(&phc).map_err(|e| HashError::Stored(e.to_string()))?;
        let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
            return Err(HashError::Stored("salt or hash missing".into()));
        };
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|e| HashError::Stored(e.to_string()))?;
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        compute(&argon, &params, &password, salt_raw, &mut out, work)?;
        let got = Output::new(&out).map_err(|e| HashError::Hash(e.to_string()))?;
        // Output's equality is constant-time.
        Ok(got == expected)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn agrees_with_the_argon2_crate_both_ways() {
        let ours = hash("correct horse battery").await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &theirs).await.unwrap());
        assert!(!verify("correct horse batterz", &theirs).await.unwrap());
        assert!(!verify("", &ours).await.unwrap());
    }

    #[tokio::test]
    async fn hostile_stored_hashes_are_refused_not_allocated() {
        // A stored hash asking for 4 GiB of working memory.
        let costly = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(matches!(
            verify("whatever password", costly).await,
            Err(HashError::TooCostly(4194304))
        ));
        for garbage in ["", "plain text", "$argon2id$v=19$m=19456$", "$md5$x$y"] {
            assert!(
                verify("whatever password", garbage).await.is_err(),
                "{garbage:?}"
            );
        }
        assert!(WORK.lock().unwrap().len() <= MAX_MEMORY_KIB as usize);
    }
}
