//! Credential changes in the registry: a new password, a disabled or enabled account, an
//! operator's sign-out. Each moves the account's credential epoch on and ends its sessions in
//! the transaction a login takes, so that no login that checked the old credentials opens a
//! seat afterwards. The accounts (`crate::accounts`) call these after their own checks.

use super::rows::END_USER_SEATS;
use super::{CredentialChange, RegistryError, Seats};
use crate::clock::Millis;
use crate::db::Db;
use crate::events::{counted, insert_events, By, EndedAs, EndedRow, EventType, NewEvent, RETURNING_ENDED};
use crate::vocabulary::{CredentialEpoch, EndReason, EndedBy, SeatId, UserId};

impl Seats {
    /// Changes an account's credentials and ends its sessions (all, or all but `keep`) in one
    /// transaction, under the lock a login takes to open a seat: a login that checked the
    /// old credentials cannot open a seat afterwards, and no session of the old credentials
    /// survives. The credential epoch moves on. A password change whose `verified` epoch is
    /// no longer the account's (another change came first) changes nothing: `None`.
    /// Otherwise returns how many sessions ended (reason `revoked`, by `keep` when given).
    #[tracing::instrument(skip_all, fields(user = user.0))]
    pub async fn change_credentials(
        &self,
        user: UserId,
        change: CredentialChange<'_>,
        keep: Option<SeatId>,
    ) -> Result<Option<u64>, RegistryError> {
        let now = Millis::now();
        let ended = in_locked_tx!(self, tx, for_update => change_in_tx!(
            tx,
            &format!("SELECT credential_epoch FROM single_login_users WHERE id = $1{for_update}"),
            user,
            change,
            keep,
            now
        ));
        if ended.is_some_and(|n| n > 0) {
            self.announce(&[user]).await;
        }
        Ok(ended)
    }

    /// Ends every live seat of every user (an operator's `sign-out --all`), and moves every
    /// account's credential epoch on in the same transaction, so that no login under way or
    /// held by `ask` opens a seat afterwards. Returns how many seats ended.
    pub async fn end_every_session(&self, reason: EndReason) -> Result<u64, RegistryError> {
        const BUMP: &str = "UPDATE single_login_users SET credential_epoch = credential_epoch + 1";
        let end = format!(
            "UPDATE single_login_seats SET ended_at = $1, end_reason = $2 WHERE ended_at IS NULL{RETURNING_ENDED}"
        );
        let now = Millis::now();
        let (as_told, by) = match reason {
            EndReason::Expired => (EndedAs::Expired, By::System),
            other => (EndedAs::of(other, Some(EndedBy::Operator)), By::Operator),
        };
        // The same order of locks as a login's: the users, then their seats.
        macro_rules! in_tx {
            ($tx:ident) => {{
                sqlx::query(BUMP).execute(&mut *$tx).await?;
                let rows = sqlx::query_as::<_, EndedRow>(&end)
                    .bind(now.0)
                    .bind(reason.as_str())
                    .fetch_all(&mut *$tx)
                    .await?;
                let events: Vec<NewEvent> = rows
                    .iter()
                    .map(|row| NewEvent::ended(row, as_told, by))
                    .collect();
                insert_events!(&mut *$tx, &events, now);
                $tx.commit().await?;
                counted(&events);
                rows
            }};
        }
        let rows: Vec<EndedRow> = in_locked_tx!(self, tx, _for_update => in_tx!(tx));
        self.announce_rows(&rows).await;
        Ok(rows.len() as u64)
    }
}
