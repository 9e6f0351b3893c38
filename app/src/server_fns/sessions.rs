//! The user's own sessions: list, end one or all others (after confirming the password),
//! history, and the password change that ends every other session.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::{Field, Invalid};
use crate::models::{SessionsPage, Toast};

/// How many ended sessions the history shows.
pub const HISTORY_LENGTH: u32 = 20;

#[server(prefix = "/api", endpoint = "sessions")]
pub async fn my_sessions() -> Result<SessionsPage, AppError> {
    use crate::ssr::{self, messages};
    use single_login::Millis;

    let (user, current) = ssr::require_user()?;
    let ctx = ssr::context()?;
    let lang = ssr::client().lang;
    let now = Millis::now();
    let live = ctx.seats().live(user.id).await.map_err(ssr::internal)?;
    let (limits, _) = ctx
        .seats()
        .limits_of(user.id, &ctx.logins().policy)
        .await
        .map_err(ssr::internal)?
        .ok_or_else(|| ssr::internal("the signed-in user has no account row"))?;
    let history = ctx
        .seats()
        .history(user.id, HISTORY_LENGTH)
        .await
        .map_err(ssr::internal)?;
    Ok(SessionsPage {
        live: live
            .iter()
            .rev()
            .map(|seat| messages::session_view(lang, seat, now, seat.id == current))
            .collect(),
        history: history
            .iter()
            .map(|h| messages::history_view(lang, h, now))
            .collect(),
        usage: messages::usage(lang, &limits, &live),
        confirmed: self::ssr::confirmed().await?,
        confirmation_minutes: ssr::context()?
            .password_confirmation_timeout
            .as_secs()
            .div_ceil(60),
    })
}

/// Confirms the password before sessions can be ended; remembered for
/// `password_confirmation_timeout` (5 minutes).
#[server(prefix = "/api", endpoint = "sessions/confirm")]
pub async fn confirm_password(password: String) -> Result<(), AppError> {
    use crate::ssr::{self, CONFIRMED_KEY};
    use single_login::Millis;

    let (user, seat) = ssr::require_user()?;
    let ctx = ssr::context()?;
    let client = ssr::client();
    let outcome = ctx
        .logins()
        .confirm_password(user.id, seat, password, client.addr())
        .await
        .map_err(ssr::internal)?;
    self::ssr::reauthenticated(outcome, "password_confirmation", user.id, seat)?;
    let session = ssr::session().await?;
    session
        .insert(CONFIRMED_KEY, Millis::now().0)
        .await
        .map_err(ssr::internal)?;
    // Re-authentication: a new session id (OWASP ASVS 5.0 7.2.4).
    ssr::renew_session_id(&user, seat).await
}

/// Ends one of the user's other sessions (reason `revoked`).
#[server(prefix = "/api", endpoint = "sessions/end")]
pub async fn end_session(id: i64) -> Result<Toast, AppError> {
    use crate::ssr::{self, messages};
    use single_login::SeatId;

    let (user, current) = ssr::require_user()?;
    if !self::ssr::confirmed().await? {
        return Err(AppError::PasswordRequired);
    }
    if id == current.0 {
        return Err(AppError::BadRequest("use Log out to end this session".into()));
    }
    let ctx = ssr::context()?;
    let ended = ctx
        .login
        .end_session(&ssr::signed_in(&user, current), SeatId(id))
        .await
        .map_err(ssr::internal)?;
    if ended {
        tracing::info!(
            event = "session_ended",
            user = user.id.0,
            seat = id,
            reason = "revoked",
            ended_by = current.0,
            client_ip = ssr::client().ip.as_deref(),
            "session ended by the user"
        );
    }
    ssr::notify(messages::sessions_ended(ssr::client().lang, u64::from(ended))).await
}

/// Ends every session of the user but this one (reason `revoked`).
#[server(prefix = "/api", endpoint = "sessions/end-others")]
pub async fn end_other_sessions() -> Result<Toast, AppError> {
    use crate::ssr::{self, messages};

    let (user, current) = ssr::require_user()?;
    if !self::ssr::confirmed().await? {
        return Err(AppError::PasswordRequired);
    }
    let ctx = ssr::context()?;
    let count = ctx
        .login
        .end_other_sessions(&ssr::signed_in(&user, current))
        .await
        .map_err(ssr::internal)?;
    tracing::info!(
        event = "session_ended",
        user = user.id.0,
        count,
        reason = "revoked",
        ended_by = current.0,
        client_ip = ssr::client().ip.as_deref(),
        "other sessions ended by the user"
    );
    ssr::notify(messages::sessions_ended(ssr::client().lang, count)).await
}

/// Changes the password (the current one required) and ends every other session.
#[server(prefix = "/api", endpoint = "account/password")]
pub async fn change_password(
    current: String,
    password: String,
    password_confirm: String,
) -> Result<Toast, AppError> {
    use crate::ssr::{self, messages};
    use single_login::Password;

    let (user, seat) = ssr::require_user()?;
    let new = Password::parse(&password).map_err(|e| AppError::invalid(Field::Password, e))?;
    if password != password_confirm {
        return Err(AppError::invalid(
            Field::PasswordConfirm,
            Invalid::PasswordsDiffer,
        ));
    }
    let ctx = ssr::context()?;
    let client = ssr::client();
    // The new hash, the new credential epoch and the end of every other session commit
    // together: a login that checked the old password cannot open a seat afterwards.
    let outcome = ctx
        .logins()
        .change_password(user.id, current, new, seat, client.addr())
        .await
        .map_err(ssr::internal)?;
    let others = self::ssr::reauthenticated(outcome, "password_change", user.id, seat)?;
    // A new session id as well (OWASP ASVS 5.0 7.2.4: a new token at every authentication,
    // re-authentication included): a copy of the old cookie is worth nothing, here either.
    ssr::renew_session_id(&user, seat).await?;
    tracing::info!(
        event = "password_changed",
        user = user.id.0,
        seat = seat.0,
        ended_others = others,
        client_ip = ssr::client().ip.as_deref(),
        "password changed"
    );
    ssr::notify(messages::password_changed(ssr::client().lang, others)).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use single_login::login::ReauthOutcome;
    use single_login::{Millis, SeatId, UserId};

    use crate::error::{AppError, Field, Invalid};
    use crate::ssr::{self, CONFIRMED_KEY};

    /// The answer to a re-authentication: what it gave, or the error the form shows.
    /// `operation` names it in the log.
    pub fn reauthenticated<T>(
        outcome: ReauthOutcome<T>,
        operation: &'static str,
        user: UserId,
        seat: SeatId,
    ) -> Result<T, AppError> {
        let client = ssr::client();
        let client_ip = client.ip;
        match outcome {
            ReauthOutcome::Done(done) => Ok(done),
            ReauthOutcome::WrongPassword => {
                tracing::info!(
                    event = "reauthentication_failed",
                    operation,
                    user = user.0,
                    seat = seat.0,
                    client_ip = client_ip.as_deref(),
                    "wrong password"
                );
                Err(AppError::invalid(Field::CurrentPassword, Invalid::PasswordWrong))
            }
            ReauthOutcome::SessionEnded => {
                tracing::warn!(
                    event = "session_ended",
                    reason = "revoked",
                    operation,
                    user = user.0,
                    seat = seat.0,
                    client_ip = client_ip.as_deref(),
                    "session ended after too many wrong passwords"
                );
                Err(AppError::SessionEnded(ssr::messages::revoked_after_failures(
                    client.lang,
                )))
            }
            ReauthOutcome::Throttled { wait } => Err(ssr::throttled(operation, Some(user), wait)),
            ReauthOutcome::Busy { retry_after } => Err(ssr::busy(retry_after)),
        }
    }

    pub async fn confirmed() -> Result<bool, AppError> {
        let session = ssr::session().await?;
        let at: Option<i64> = session.get(CONFIRMED_KEY).await.map_err(ssr::internal)?;
        let window = ssr::context()?.password_confirmation_timeout;
        Ok(at.is_some_and(|at| Millis(at) >= Millis::now().minus(window)))
    }
}
