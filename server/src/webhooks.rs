//! Signed webhooks: every session event is POSTed to `webhook_url`, signed as Standard
//! Webhooks does it (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 of
//! HMAC-SHA256(key, "id.timestamp.body")>`, the key being the base64 after `whsec_`).
//!
//! Delivery reads the outbox with a durable reader (`single_login::events::Reader`): at least
//! once, in the order the events committed (so in order per user), one process at a time (a
//! lease), resuming after a restart where it stopped. A receiver that fails or is down is
//! retried with a growing pause (1 s doubling up to 30 s), holding back the later events:
//! nothing is skipped, and a receiver that comes back after minutes gets everything, in order.
//! Receivers de-duplicate by `webhook-id`.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use single_login::events::{Cursor, Event, Events, Reader};

use crate::AppState;

/// How long the delivering process holds the job without renewing it.
const LEASE: Duration = Duration::from_secs(20);
/// How often an idle delivery looks for new events.
const POLL: Duration = Duration::from_millis(250);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// Events sent per turn of the lease.
const BATCH: u32 = 50;

/// The running delivery; [`Delivery::stop`] lets its lease go, so that another process (or
/// this one, restarted) takes over at once.
/// Dropped, it stops delivering (the lease then lapses after a while).
pub struct Delivery {
    task: tokio::task::JoinHandle<()>,
    reader: Reader,
}

impl Delivery {
    pub async fn stop(self) {
        self.task.abort();
        while !self.task.is_finished() {
            tokio::task::yield_now().await;
        }
        if let Err(error) = self.reader.release().await {
            tracing::warn!(error = %single_login::error_chain(&error), "could not let the webhook lease go");
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts delivering, when `webhook_url` and `webhook_secret` are set.
pub async fn spawn(state: &AppState) -> Option<Delivery> {
    let url = state.settings.webhook_url.clone()?;
    let secret = state.settings.webhook_secret.as_ref()?;
    let key = signing_key(secret.expose())?;
    let events = Events::new(state.ctx.seats().db().clone());
    let reader = events.reader("webhooks", &state.instance);
    // A delivery set up now starts with the events from now on (not years of history).
    let start = match events.end().await {
        Ok(end) => end,
        Err(error) => {
            tracing::error!(error = %single_login::error_chain(&error), "webhooks not started: the events could not be read");
            return None;
        }
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("single-login-webhooks")
        .build()
        .ok()?;
    let sender = Sender { client, url, key };
    let task = tokio::spawn(deliver(events, reader.clone(), start, sender));
    Some(Delivery { task, reader })
}

/// The key of a `whsec_` secret (validated by the settings).
fn signing_key(secret: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_")?)
        .ok()
}

struct Sender {
    client: reqwest::Client,
    url: String,
    key: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("the receiver could not be reached")]
    Unreachable(#[from] reqwest::Error),
    #[error("the receiver answered {0}")]
    Refused(reqwest::StatusCode),
}

impl Sender {
    async fn send(&self, event: &Event) -> Result<(), SendError> {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = serde_json::json!({
            "type": event.event,
            "timestamp": humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(event.at).unwrap_or(0))
            ).to_string(),
            "data": event,
        })
        .to_string();
        let signature = sign(&self.key, &event.id, timestamp, &body);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SendError::Refused(response.status()))
        }
    }
}

/// `v1,` and the base64 of HMAC-SHA256(key, "id.timestamp.body").
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

async fn deliver(events: Events, reader: Reader, start: Cursor, sender: Sender) {
    let mut retry = FIRST_RETRY;
    loop {
        let cursor = match reader.claim(LEASE, start).await {
            Ok(Some(cursor)) => cursor,
            // Another process delivers.
            Ok(None) => {
                tokio::time::sleep(LEASE / 2).await;
                continue;
            }
            Err(error) => {
                tracing::warn!(error = %single_login::error_chain(&error), "webhooks: could not take the lease");
                tokio::time::sleep(POLL * 4).await;
                continue;
            }
        };
        let batch = match events.after(cursor, BATCH).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(error = %single_login::error_chain(&error), "webhooks: could not read the events");
                tokio::time::sleep(POLL * 4).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        for event in batch {
            match sender.send(&event).await {
                Ok(()) => {
                    metrics::counter!("single_login_webhook_deliveries_total", "result" => "delivered")
                        .increment(1);
                    retry = FIRST_RETRY;
                    match reader.advance(event.cursor).await {
                        Ok(true) => {}
                        // The lease passed to another process: it goes on from our cursor.
                        Ok(false) => break,
                        Err(error) => {
                            tracing::warn!(error = %single_login::error_chain(&error), "webhooks: could not record a delivery");
                            break;
                        }
                    }
                }
                Err(error) => {
                    metrics::counter!("single_login_webhook_deliveries_total", "result" => "failed")
                        .increment(1);
                    tracing::warn!(
                        event = %event.id,
                        retry_in = ?retry,
                        error = %single_login::error_chain(&error),
                        "webhook delivery failed; the later events wait for it"
                    );
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(LAST_RETRY);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
