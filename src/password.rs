//! Passwords: parsing, and argon2id hashing that never runs on the async runtime and never
//! runs more often at once than [`Hashing`] allows.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::slots::{FairSlots, Lane, Slot};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Fewest characters (Unicode scalar values) a new password may have.
pub const MIN_CHARS: usize = 8;
/// Most characters a new password may have.
pub const MAX_CHARS: usize = 128;

/// A password that meets the length rules. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

/// Why [`Password::parse`] refused a password: a code, not a sentence. The application puts
/// it into words in its reader's language; `Display` is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("password shorter than {MIN_CHARS} characters")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("password longer than {MAX_CHARS} characters")]
    TooLong,
}

impl Password {
    /// Any Unicode is allowed and nothing is trimmed: spaces may be part of a passphrase.
    pub fn parse(input: &str) -> Result<Password, PasswordError> {
        if input.len() > MAX_CHARS * 4 {
            return Err(PasswordError::TooLong);
        }
        let count = input.chars().count();
        if count < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if count > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(input.to_owned()))
    }

    fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

pub use crate::vocabulary::StoredHash;

/// Why hashing or verifying a password gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// argon2 failed, or the stored hash is not a valid PHC string.
    #[error("password hashing failed: {0}")]
    Argon2(argon2::password_hash::Error),
    /// The hashing threads are gone, or the work panicked: no result came back.
    #[error("the password hashing thread stopped")]
    Stopped,
    /// Every hashing slot stayed taken for the whole wait: the caller should answer "busy,
    /// try again after `retry_after`".
    #[error("all password hashing slots are busy")]
    Busy {
        /// How long to wait before trying again: the hashing wait, at least one second.
        retry_after: Duration,
    },
}

/// Memory one argon2 hash takes (the `m` parameter).
pub const HASH_MEMORY_BYTES: usize = 19 * 1024 * 1024;

/// OWASP's argon2id baseline: 19 MiB, two passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(
        u32::try_from(HASH_MEMORY_BYTES / 1024).expect("19 MiB in KiB fits"),
        2,
        1,
        None,
    )
    .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The password hashing of one process, bounded. Each hash holds 19 MiB and a core for tens of
/// milliseconds: without a bound, a flood of logins with random names (each verifies against
/// a dummy hash) once ran hundreds at a time, gigabytes of memory and every core, and signed-in
/// users' pages waited behind them. A hash or verification first takes a slot; a caller
/// that gets none within `wait` is told [`HashError::Busy`]. The slot is held until the
/// argon2 work itself ends, even if the request that asked for it has gone.
///
/// The work runs on as many dedicated threads as there are slots, not on tokio's blocking
/// pool: the allocator keeps a freed 19 MiB block in the arena of the thread that used it, so
/// hashes spread over dozens of pool threads once held hundreds of MiB between them.
///
/// Slots go to the waiting clients' networks in turn, known devices first
/// ([`crate::slots`]): a clone made with [`Hashing::in_lane`] waits in its caller's lane.
#[derive(Debug, Clone)]
pub struct Hashing {
    slots: FairSlots,
    wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
    lane: Lane,
}

/// Waiters one network may queue for hashing slots, per slot, by default.
pub const WAITERS_PER_SLOT: usize = 8;

/// The memory the default hashing budget may use at once (each argon2id hash takes its
/// parameters' worth).
pub const DEFAULT_HASH_MEMORY: usize = 64 * 1024 * 1024;

/// How long a caller waits for a hashing slot, by default.
pub const DEFAULT_HASH_WAIT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce() + Send>;

impl Default for Hashing {
    fn default() -> Self {
        Hashing::new(
            Hashing::default_concurrency(DEFAULT_HASH_MEMORY),
            DEFAULT_HASH_WAIT,
        )
    }
}

impl Hashing {
    /// At most `concurrency` (at least one) hashes at a time; a caller waits at most `wait`;
    /// one network may queue [`WAITERS_PER_SLOT`] callers per slot.
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        Hashing::with_queue(concurrency, wait, concurrency.max(1) * WAITERS_PER_SLOT)
    }

    /// [`Hashing::new`] where one network may queue `per_network` callers (at least one);
    /// past that a caller of that network is told [`HashError::Busy`] at once.
    pub fn with_queue(concurrency: usize, wait: Duration, per_network: usize) -> Self {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..concurrency {
            let queue = queue.clone();
            // The threads end when every `Hashing` sharing them is gone (the channel closes).
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panic in one hash must not take the thread (and its slot) along;
                        // its caller sees the result channel close.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(error = %error, "could not start a password hashing thread");
            }
        }
        Hashing {
            slots: FairSlots::new(concurrency, per_network),
            wait,
            jobs,
            lane: Lane::default(),
        }
    }

    /// The same slots and threads, waited for in `lane` (the caller's network, and whether
    /// it showed a known-device cookie).
    pub fn in_lane(&self, lane: Lane) -> Hashing {
        Hashing { lane, ..self.clone() }
    }

    /// One slot fewer than the cores (a core stays free for everything else), and no more
    /// than `memory_budget` bytes of argon2 memory; at least one.
    pub fn default_concurrency(memory_budget: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores.saturating_sub(1))
            .min(memory_budget / HASH_MEMORY_BYTES)
            .max(1)
    }

    async fn slot(&self) -> Result<Slot, HashError> {
        let started = std::time::Instant::now();
        let waiting = metrics::gauge!("single_login_hash_queue_depth");
        waiting.increment(1.0);
        let slot = self.slots.acquire(&self.lane, self.wait).await;
        waiting.decrement(1.0);
        metrics::histogram!("single_login_hash_wait_seconds").record(started.elapsed().as_secs_f64());
        slot.map_err(|_| HashError::Busy {
            retry_after: self.wait.max(Duration::from_secs(1)),
        })
    }

    /// Runs `work` on a hashing thread once a slot is free, carrying the caller's tracing
    /// span along.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let slot = self.slot().await?;
        let span = tracing::Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _slot = slot;
            let _ = done.send(span.in_scope(work));
        });
        self.jobs.send(job).map_err(|_| HashError::Stopped)?;
        result.await.map_err(|_| HashError::Stopped)?
    }

    /// Hashes on a hashing thread.
    pub async fn hash(&self, password: Password) -> Result<StoredHash, HashError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.expose(), &salt)
                .map(|hash| StoredHash(hash.to_string()))
                .map_err(HashError::Argon2)
        })
        .await
    }

    /// Verifies on a hashing thread. With `None` for the stored hash it verifies against a
    /// dummy hash and answers `false`, so that an unknown user costs as much time (and as
    /// much of a slot) as a known one.
    pub async fn verify(&self, password: String, stored: Option<StoredHash>) -> Result<bool, HashError> {
        self.run(move || {
            let known = stored.is_some();
            let phc = match &stored {
                Some(stored) => stored.0.as_str(),
                None => dummy_hash(),
            };
            let parsed = PasswordHash::new(phc).map_err(HashError::Argon2)?;
            let matches = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(b"a password that nobody has chosen", &salt)
            .expect("hashing a constant cannot fail")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert_eq!(Password::parse("short").err(), Some(PasswordError::TooShort));
        assert!(Password::parse("비밀번호비밀번호").is_ok());
        assert!(Password::parse(&"é".repeat(MAX_CHARS)).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(MAX_CHARS + 1)).err(),
            Some(PasswordError::TooLong)
        );
        assert!(Password::parse("  spaces count  ").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashing = Hashing::default();
        let hash = hashing
            .hash(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hashing
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hashing.verify("correct horsf".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!Hashing::default()
            .verify("a password that nobody has chosen".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_the_slots_and_the_rest_are_told_busy() {
        let hashing = Hashing::new(2, Duration::from_millis(50));
        // Hold both slots, as two long hashes would.
        let held = [hashing.slot().await.unwrap(), hashing.slot().await.unwrap()];
        let started = std::time::Instant::now();
        let refused = hashing.verify("x".into(), None).await;
        assert!(matches!(refused, Err(HashError::Busy { .. })), "{refused:?}");
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(held);
        // As many at once as one network may queue (eight a slot) through two slots: all
        // done, never more than two at a time.
        let waiting = Hashing::new(2, Duration::from_secs(60)).in_lane(Lane {
            network: "198.51.100.0/24".into(),
            known_device: false,
        });
        let tasks: Vec<_> = (0..2 * WAITERS_PER_SLOT)
            .map(|_| {
                let hashing = waiting.clone();
                tokio::spawn(async move { hashing.verify("x".into(), None).await })
            })
            .collect();
        let mut most = 0;
        while tasks.iter().any(|t| !t.is_finished()) {
            most = most.max(2 - waiting.slots.available());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!((1..=2).contains(&most), "{most}");
        for task in tasks {
            assert!(!task.await.unwrap().unwrap());
        }
        // A slot goes back when its hashing thread lets go of it, just after the answer.
        for _ in 0..1000 {
            if waiting.slots.available() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(waiting.slots.available(), 2);
    }

    #[test]
    fn the_default_leaves_a_core_free_within_the_memory_budget() {
        assert_eq!(Hashing::default_concurrency(HASH_MEMORY_BYTES), 1);
        assert_eq!(Hashing::default_concurrency(0), 1);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(
            Hashing::default_concurrency(usize::MAX),
            cores.saturating_sub(1).max(1)
        );
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_allowed_lengths(input in "\\PC{0,140}") {
            let count = input.chars().count();
            prop_assert_eq!(Password::parse(&input).is_ok(), (MIN_CHARS..=MAX_CHARS).contains(&count));
        }
    }
}
