//! Limits on password checks, counted in the database so that every server process sharing it
//! enforces one limit (with counts in memory, each of N processes would allow its own share).
//!
//! A check is counted **before** the password is verified: [`Throttle::reserve`] adds one to
//! each bucket the attempt falls in, in one statement per bucket, and refuses when a bucket
//! is over its limit. Guesses sent in parallel therefore each see the others' counts, and
//! cannot exceed the limit however many arrive at once; a success gives back what it took
//! ([`Throttle::succeeded`]).
//!
//! The buckets:
//! - failed logins of one username from one client network (the owner logging in from
//!   elsewhere is not affected; a success clears it);
//! - failed logins of one account from every address, with a higher limit (ASVS 6.3.1 asks
//!   for at most 100 an hour): spreading guesses over many addresses gains nothing. Over it,
//!   logins to the account from strangers wait until the window passes;
//! - failed logins from one **known device** (OWASP "device cookies"): a browser that signed
//!   in to the account before shows a signed cookie, and its attempts count here instead of
//!   in the two buckets above and the network ones, so strangers who fill those cannot lock
//!   the owner out;
//! - password checks from one client network, whatever the name (login, signup, password
//!   confirmation and change): random usernames or new accounts do not escape. Networks
//!   nest: an IPv4 address and its /24, an IPv6 /64, /56 and /48, each with its own limit,
//!   counted widest first, so one /48 rotating over its /64s is held by the /48's limit
//!   and a refused attempt writes no row for a narrower network or a name;
//! - failed password confirmations and changes of one session (a session that guesses
//!   throttles itself, and is ended when it fills its bucket), with a per-user ceiling far
//!   above it that a freshly signed-in session does not answer to: no other session can
//!   keep the owner from changing the password.
//!
//! A client network is the client's address, or for IPv6 its /64 (configurable), which one
//! client usually holds whole. Keys are SHA-256 hashes: the table names nobody.

use std::net::IpAddr;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::Millis;
use crate::db::Db;
use crate::on_pool;
use crate::vocabulary::{SeatId, UserId};

/// The network a client is counted by: its IPv4 address, or its IPv6 address's first
/// `ipv6_prefix` bits (one client usually holds a whole /64).
pub fn client_network(client: Option<IpAddr>, ipv6_prefix: u8) -> String {
    match client.map(|ip| ip.to_canonical()) {
        None => "-".to_owned(),
        Some(IpAddr::V4(ip)) => ip.to_string(),
        Some(IpAddr::V6(ip)) => ipv6_network(ip, ipv6_prefix),
    }
}

fn ipv6_network(ip: std::net::Ipv6Addr, prefix: u8) -> String {
    let prefix = u32::from(prefix.min(128));
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    let net = std::net::Ipv6Addr::from(u128::from(ip) & mask);
    format!("{net}/{prefix}")
}

fn ipv4_network(ip: std::net::Ipv4Addr, prefix: u8) -> String {
    let prefix = u32::from(prefix.min(32));
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    let net = std::net::Ipv4Addr::from(u32::from(ip) & mask);
    format!("{net}/{prefix}")
}

/// The widest network a client is counted in (an IPv4 /24, an IPv6 /48): what one party
/// plausibly holds whole. Hashing slots are shared out by it ([`crate::slots::Lane`]).
pub fn lane_network(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        None => "-".to_owned(),
        Some(IpAddr::V4(ip)) => ipv4_network(ip, 24),
        Some(IpAddr::V6(ip)) => ipv6_network(ip, 48),
    }
}

/// The limits and windows of the [`Throttle`]'s buckets. A window starts at a bucket's
/// first attempt; its count starts over once the window has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins allowed per username and client network within `window`, and per known
    /// device.
    pub max_failures: u32,
    /// The window of `max_failures` and the re-authentication limits (default 15 minutes).
    pub window: Duration,
    /// Failed logins allowed per account, from every address, within `account_window`.
    pub account_max_failures: u32,
    /// The window of `account_max_failures` (default one hour).
    pub account_window: Duration,
    /// Password checks (login, signup, confirmation, change) allowed per client network
    /// (an IPv4 address, an IPv6 /`ipv6_prefix`) within `address_window`.
    pub address_max_attempts: u32,
    /// The same per IPv4 /24 and IPv6 /56: many addresses of one subnet share it.
    pub subnet_max_attempts: u32,
    /// The same per IPv6 /48, what one site or tunnel broker's customer holds whole.
    pub block_max_attempts: u32,
    /// The window of the three limits above (default one minute).
    pub address_window: Duration,
    /// Failed password confirmations and changes allowed per session (seat) within
    /// `window`; the session that reaches it is ended.
    pub reauth_max_failures: u32,
    /// Failed password confirmations and changes allowed per user, from all its sessions,
    /// within `window`: a ceiling far above the per-session one. A session opened within
    /// `window` (its login proved the password) is not held by it.
    pub reauth_user_max_failures: u32,
    /// IPv6 clients are grouped by this prefix.
    pub ipv6_prefix: u8,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
            account_max_failures: 100,
            account_window: Duration::from_secs(3600),
            address_max_attempts: 100,
            subnet_max_attempts: 300,
            block_max_attempts: 600,
            address_window: Duration::from_secs(60),
            reauth_max_failures: 5,
            reauth_user_max_failures: 50,
            ipv6_prefix: 64,
        }
    }
}

/// What an attempt is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket<'a> {
    /// Failed logins of this username (its key) from this client.
    NameFromAddress {
        /// The name's key ([`Username::attempt_key`](crate::username::Username::attempt_key)).
        name_key: &'a str,
        /// The client's address, counted by its network; `None` when unknown.
        client: Option<IpAddr>,
    },
    /// Failed logins of this username from anywhere.
    Account {
        /// The name's key ([`Username::attempt_key`](crate::username::Username::attempt_key)).
        name_key: &'a str,
    },
    /// Every password check from this client, counted in its network and the networks
    /// around it (IPv4: the address and its /24; IPv6: the /`ipv6_prefix`, /56 and /48),
    /// widest first, so that a refused attempt writes no row for a narrower one.
    Address {
        /// The client's address; `None` when unknown.
        client: Option<IpAddr>,
    },
    /// Failed logins from one known device (a valid device cookie for the account): the
    /// owner's own browser, counted apart from strangers.
    Device {
        /// The device cookie's id.
        device: &'a str,
    },
    /// Failed confirmations and changes of the password from one session.
    Reauth {
        /// The session's seat.
        seat: SeatId,
    },
    /// Failed confirmations and changes of this user's password from all its sessions.
    ReauthUser {
        /// The signed-in user.
        user: UserId,
    },
}

/// What a success gives back to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnSuccess {
    /// Forget the count (the owner got in: their earlier typos are forgiven).
    Clear,
    /// Give back this attempt only.
    Refund,
    /// Keep it: the bucket counts attempts, not failures.
    Keep,
}

/// The attempt was counted; pass this to [`Throttle::succeeded`] if the password was right.
#[derive(Debug)]
#[must_use = "a success must give the reservation back"]
pub struct Reservation {
    taken: Vec<(String, OnSuccess)>,
}

/// A bucket is full: try again after `wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// How long until the full bucket's window ends; at least one second.
    pub wait: Duration,
    /// Whether this is the first refusal this process has seen of that bucket in that
    /// window: the one worth an event (`attempt_throttled`), however many follow.
    pub first: bool,
}

/// Counts password checks in the `attempts` table, against the limits of a
/// [`ThrottleConfig`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Db,
    config: ThrottleConfig,
    /// The (bucket, window start) pairs this process has refused in, so that a bucket's
    /// refusals make one event per window. Cleared when full: at worst an event repeats.
    refused: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<(String, i64)>>>,
}

/// How many refused windows [`Throttle`] remembers before it starts over.
const REFUSED_REMEMBERED: usize = 10_000;

/// A query of the throttle failed; the database's error is its source.
#[derive(Debug, thiserror::Error)]
#[error("the throttle could not count an attempt")]
pub struct ThrottleError(#[from] sqlx::Error);

impl Throttle {
    /// A throttle counting in `db` under `config`.
    pub fn new(db: Db, config: ThrottleConfig) -> Self {
        Throttle {
            db,
            config,
            refused: Default::default(),
        }
    }

    /// The limits and windows it counts under.
    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    fn network(&self, client: Option<IpAddr>) -> String {
        client_network(client, self.config.ipv6_prefix)
    }

    fn key(parts: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        crate::encoding::hex(&hasher.finalize())
    }

    /// The keys, limits, windows and success rules of a bucket (several for
    /// [`Bucket::Address`], widest first).
    fn rules(&self, bucket: &Bucket) -> Vec<(String, u32, Duration, OnSuccess)> {
        let c = &self.config;
        match *bucket {
            Bucket::NameFromAddress { name_key, client } => vec![(
                Self::key(&["login", &self.network(client), name_key]),
                c.max_failures,
                c.window,
                OnSuccess::Clear,
            )],
            Bucket::Account { name_key } => vec![(
                Self::key(&["account", name_key]),
                c.account_max_failures,
                c.account_window,
                OnSuccess::Refund,
            )],
            Bucket::Address { client } => {
                let rule = |network: String, limit| {
                    (
                        Self::key(&["address", &network]),
                        limit,
                        c.address_window,
                        OnSuccess::Keep,
                    )
                };
                match client.map(|ip| ip.to_canonical()) {
                    Some(IpAddr::V4(ip)) => vec![
                        rule(ipv4_network(ip, 24), c.subnet_max_attempts),
                        rule(ip.to_string(), c.address_max_attempts),
                    ],
                    Some(IpAddr::V6(ip)) => {
                        let mut rules = Vec::with_capacity(3);
                        for (prefix, limit) in [(48, c.block_max_attempts), (56, c.subnet_max_attempts)] {
                            if prefix < c.ipv6_prefix {
                                rules.push(rule(ipv6_network(ip, prefix), limit));
                            }
                        }
                        rules.push(rule(ipv6_network(ip, c.ipv6_prefix), c.address_max_attempts));
                        rules
                    }
                    None => vec![rule("-".to_owned(), c.address_max_attempts)],
                }
            }
            Bucket::Device { device } => vec![(
                Self::key(&["device", device]),
                c.max_failures,
                c.window,
                OnSuccess::Clear,
            )],
            Bucket::Reauth { seat } => vec![(
                Self::key(&["reauth-seat", &seat.0.to_string()]),
                c.reauth_max_failures,
                c.window,
                OnSuccess::Clear,
            )],
            Bucket::ReauthUser { user } => vec![(
                Self::key(&["reauth", &user.0.to_string()]),
                c.reauth_user_max_failures,
                c.window,
                OnSuccess::Refund,
            )],
        }
    }

    /// Counts one attempt in each bucket, in order, before the password is checked. When a
    /// bucket is already full, the attempt is counted nowhere and refused with that bucket's
    /// wait. Each
    /// bucket is one statement that adds only while under the limit and says whether it
    /// added (`admitted`, computed from the row as it was), so attempts in parallel, in any
    /// number of processes, never pass the limit, and refused ones never crowd out the rest.
    pub async fn reserve(
        &self,
        buckets: &[Bucket<'_>],
        now: Millis,
    ) -> Result<Result<Reservation, Refused>, ThrottleError> {
        let mut taken = Vec::with_capacity(buckets.len());
        let mut wait = None;
        let mut first = false;
        let rules = buckets.iter().flat_map(|bucket| self.rules(bucket));
        for (key, limit, window, on_success) in rules {
            let (admitted, since) = on_pool!(&self.db, pool => {
                sqlx::query_as::<_, (i64, i64)>(
                    "INSERT INTO single_login_attempts (key, window_start, count, expires_at, admitted) VALUES ($1, $2, 1, $4, 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                       count = CASE WHEN single_login_attempts.window_start <= $3 THEN 1 \
                                    WHEN single_login_attempts.count < $5 THEN single_login_attempts.count + 1 \
                                    ELSE single_login_attempts.count END, \
                       admitted = CASE WHEN single_login_attempts.window_start <= $3 OR single_login_attempts.count < $5 THEN 1 ELSE 0 END, \
                       window_start = CASE WHEN single_login_attempts.window_start <= $3 THEN $2 ELSE single_login_attempts.window_start END, \
                       expires_at = CASE WHEN single_login_attempts.window_start <= $3 THEN $4 ELSE single_login_attempts.expires_at END \
                     RETURNING admitted, window_start",
                )
                .bind(&key)
                .bind(now.0)
                .bind(now.minus(window).0)
                .bind(now.plus(window).0)
                .bind(i64::from(limit))
                .fetch_one(pool)
                .await?
            });
            if admitted == 1 {
                taken.push((key, on_success));
            } else {
                first = {
                    let mut refused = self
                        .refused
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if refused.len() >= REFUSED_REMEMBERED {
                        refused.clear();
                    }
                    refused.insert((key.clone(), since))
                };
                let until = Millis(since).plus(window);
                let left = Duration::from_millis(u64::try_from(until.0 - now.0).unwrap_or(0))
                    .max(Duration::from_secs(1));
                wait = Some(left);
                // Not a step further: counting a refused attempt in the next buckets, even
                // for a moment, would crowd out attempts that are entitled to them.
                break;
            }
        }
        if let Some(wait) = wait {
            // Not counted: a refused attempt checks no password.
            for (key, _) in &taken {
                self.give_back(key).await?;
            }
            return Ok(Err(Refused { wait, first }));
        }
        Ok(Ok(Reservation { taken }))
    }

    /// The password was right: failure counts give back this attempt (the username's count
    /// from this client, and the user's re-authentication count, are forgotten).
    pub async fn succeeded(&self, reservation: Reservation) -> Result<(), ThrottleError> {
        for (key, on_success) in reservation.taken {
            match on_success {
                OnSuccess::Clear => {
                    on_pool!(&self.db, pool => {
                        sqlx::query("DELETE FROM single_login_attempts WHERE key = $1")
                            .bind(&key)
                            .execute(pool)
                            .await?
                            .rows_affected()
                    });
                }
                OnSuccess::Refund => self.give_back(&key).await?,
                OnSuccess::Keep => {}
            }
        }
        Ok(())
    }

    /// No password was checked after all (the hashing was busy): the failure counts give
    /// back this attempt. The networks' counts keep it: they count requests, and a flood
    /// answered "busy" must fill them like any other (or it would write rows for ever
    /// without ever being refused).
    pub async fn release(&self, reservation: Reservation) -> Result<(), ThrottleError> {
        for (key, on_success) in reservation.taken {
            if on_success != OnSuccess::Keep {
                self.give_back(&key).await?;
            }
        }
        Ok(())
    }

    async fn give_back(&self, key: &str) -> Result<(), ThrottleError> {
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE single_login_attempts SET count = count - 1 WHERE key = $1 AND count > 0")
                .bind(key)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The current count of a bucket (for tests and operators); for [`Bucket::Address`], of
    /// the client's own network (the narrowest).
    pub async fn count(&self, bucket: &Bucket<'_>, now: Millis) -> Result<u32, ThrottleError> {
        let Some((key, _, window, _)) = self.rules(bucket).pop() else {
            return Ok(0);
        };
        let count = on_pool!(&self.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT count FROM single_login_attempts WHERE key = $1 AND window_start > $2")
                .bind(&key)
                .bind(now.minus(window).0)
                .fetch_optional(pool)
                .await?
        });
        Ok(count.and_then(|c| u32::try_from(c).ok()).unwrap_or(0))
    }

    /// The limit of a bucket (its narrowest network's, for [`Bucket::Address`]).
    pub fn limit(&self, bucket: &Bucket<'_>) -> u32 {
        self.rules(bucket).pop().map_or(0, |(_, limit, _, _)| limit)
    }

    /// Deletes counts whose window has passed; returns how many.
    pub async fn purge(&self, now: Millis) -> Result<u64, ThrottleError> {
        Ok(on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM single_login_attempts WHERE expires_at < $1")
                .bind(now.0)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
