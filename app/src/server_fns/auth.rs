//! Sign-up, login (with the deny and ask outcomes), logout, the current user and the flash.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::{Field, Invalid};
use crate::models::{Toast, UserView};

#[server(prefix = "/api", endpoint = "signup")]
pub async fn signup(username: String, password: String, password_confirm: String) -> Result<(), AppError> {
    use single_login::login::SignupOutcome;
    use single_login::{Password, Username};

    let name = Username::parse(&username).map_err(|e| AppError::invalid(Field::Username, e))?;
    let parsed = Password::parse(&password).map_err(|e| AppError::invalid(Field::Password, e))?;
    if password != password_confirm {
        return Err(AppError::invalid(
            Field::PasswordConfirm,
            Invalid::PasswordsDiffer,
        ));
    }
    let ctx = crate::ssr::context()?;
    let client = crate::ssr::client();
    let session = crate::ssr::session().await?;
    let context = client.client.context();
    let new = self::ssr::new_session(&ctx, &session, &context).await?;
    let outcome = ctx
        .logins()
        .sign_up(&name, parsed, client.addr(), new)
        .await
        .map_err(crate::ssr::internal)?;
    match outcome {
        SignupOutcome::Created { user, login } => {
            tracing::info!(
                event = "signup",
                user = user.id.0,
                client_ip = client.ip.as_deref(),
                "account created"
            );
            self::ssr::answer(login, None, "/").await
        }
        SignupOutcome::UsernameTaken => Err(AppError::invalid(Field::Username, Invalid::UsernameTaken)),
        SignupOutcome::Throttled { wait } => Err(crate::ssr::throttled("signup", None, wait)),
        SignupOutcome::Busy { retry_after } => Err(crate::ssr::busy(retry_after)),
    }
}

/// `next`: where to go after logging in, for the "Not you?" link (only `/sessions…`). The
/// login itself is the core's operation (`single_login::Logins::log_in`); this reads the
/// request, hands over the session, and answers.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let ctx = crate::ssr::context()?;
    let client = crate::ssr::client();
    let next = next
        .as_deref()
        .filter(|n| self::ssr::is_safe_next(n))
        .unwrap_or("/")
        .to_owned();
    let session = crate::ssr::session().await?;
    let context = client.client.context();
    let new = self::ssr::new_session(&ctx, &session, &context).await?;
    // A browser that signed in to this account before counts apart from strangers.
    let key = single_login::Username::attempt_key(&username);
    let device = ctx
        .cookies()
        .await?
        .device(crate::ssr::cookie_headers().iter().map(String::as_str), &key);
    let outcome = ctx
        .logins()
        .log_in_known(&username, password, client.addr(), device.as_deref(), new)
        .await
        .map_err(crate::ssr::internal)?;
    if let single_login::LoginOutcome::InvalidCredentials { target } = &outcome {
        // The account by its id where the name exists, otherwise by a short hash of the name
        // (never the name itself, which may be a mistyped password).
        tracing::info!(
            event = "login_failed",
            target_user = target.map(|u| u.0),
            target_name = single_login::SessionHash::of(&key).short(),
            client_ip = client.ip.as_deref(),
            "login failed"
        );
    }
    self::ssr::answer(outcome, None, &next).await
}

/// Continues a login that the `ask` policy held: ends the chosen sessions (`end[ID]=on`) and
/// signs in, without the password again, within `ask_choice_timeout` (5 minutes) of it.
#[server(prefix = "/api", endpoint = "login/continue")]
pub async fn continue_login(end: Option<HashMap<String, String>>) -> Result<(), AppError> {
    use single_login::SeatId;

    let (user, epoch, held_since) = self::ssr::take_pending().await?;
    let chosen: Vec<SeatId> = end
        .unwrap_or_default()
        .keys()
        .filter_map(|id| id.parse().ok().map(SeatId))
        .collect();
    let ctx = crate::ssr::context()?;
    let client = crate::ssr::client();
    let session = crate::ssr::session().await?;
    let context = client.client.context();
    let new = self::ssr::new_session(&ctx, &session, &context).await?;
    let outcome = ctx
        .logins()
        .open(user, epoch, &chosen, new)
        .await
        .map_err(crate::ssr::internal)?;
    self::ssr::answer(outcome, Some(held_since), "/").await
}

/// Gives up a login that the `ask` policy held.
#[server(prefix = "/api", endpoint = "login/cancel")]
pub async fn cancel_login() -> Result<(), AppError> {
    let session = crate::ssr::session().await?;
    session
        .remove_value(crate::ssr::PENDING_KEY)
        .await
        .map_err(crate::ssr::internal)?;
    leptos_axum::redirect(crate::route_table::LOGIN);
    Ok(())
}

/// Ends this browser's login. Answers the "signed out" toast in the reader's language.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<Toast, AppError> {
    use crate::ssr::{self, messages, RequestAuth};
    use single_login::web::Notice;

    let session = ssr::session().await?;
    let client = ssr::client();
    let ctx = ssr::context()?;
    if let RequestAuth::Ended(toast) = ssr::auth() {
        // Already signed out by the check: the client shows why instead.
        return Err(AppError::SessionEnded(toast));
    }
    // The seat ends, and nothing is stored for the browser from here on: a signed-out
    // browser, or a stranger posting here without a session, leaves no record behind.
    let ended = ctx.login.log_out(&session).await.map_err(ssr::internal)?;
    match ssr::auth() {
        RequestAuth::SignedIn { user, seat } if ended => {
            tracing::info!(
                event = "session_ended",
                user = user.id.0,
                seat = seat.0,
                reason = "logged_out",
                client_ip = client.ip.as_deref(),
                "logout"
            );
        }
        _ => {}
    }
    let toast = messages::signed_out(client.lang);
    if client.wants_html {
        // A plain form post: the browser follows the redirect and the login page shows the
        // notice. The hydrated app shows the returned toast itself.
        ssr::set_cookie(
            ctx.login
                .set_notice(Notice::SignedOut)
                .await
                .map_err(ssr::internal)?,
        );
    }
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        let (name, value) = single_login::web::clear_site_data();
        response.insert_header(name, value);
    }
    leptos_axum::redirect(crate::route_table::LOGIN);
    Ok(toast)
}

#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    signed_in_user()
}

/// [`current_user`]'s answer, which the host has already found out for the request: pages
/// drawn on the server read it directly (`crate::seed`).
#[cfg(feature = "ssr")]
pub fn signed_in_user() -> Result<Option<UserView>, AppError> {
    use crate::ssr::{self, RequestAuth};
    match ssr::auth() {
        RequestAuth::SignedIn { user, .. } => Ok(Some(UserView {
            username: user.username,
        })),
        RequestAuth::Ended(toast) => Err(AppError::SessionEnded(toast)),
        RequestAuth::Anonymous => Ok(None),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use serde::{Deserialize, Serialize};
    use single_login::seats::SeatInfo;
    use single_login::{CredentialEpoch, LoginContext, LoginOutcome, Millis, NewSession, User, UserId};

    use crate::error::AppError;
    use crate::models::SessionView;
    use crate::ssr::{self, messages, PENDING_KEY};

    /// Only our own sessions page, with at most a numeric highlight: never another site.
    pub fn is_safe_next(next: &str) -> bool {
        match next.strip_prefix("/sessions") {
            Some("") => true,
            Some(query) => query
                .strip_prefix("?highlight=")
                .is_some_and(|id| !id.is_empty() && id.len() < 20 && id.bytes().all(|b| b.is_ascii_digit())),
            None => false,
        }
    }

    /// A login whose password was right, waiting for the user to choose; `epoch` is the
    /// credential epoch its password was checked under, so that a password change or a
    /// disable meanwhile makes it void.
    #[derive(Serialize, Deserialize)]
    struct Pending {
        user: i64,
        username: String,
        at: i64,
        #[serde(default)]
        epoch: i64,
    }

    /// The held login, the credentials it checked and when it was held.
    pub async fn take_pending() -> Result<(User, CredentialEpoch, Millis), AppError> {
        let session = ssr::session().await?;
        let pending: Option<Pending> = session.get(PENDING_KEY).await.map_err(ssr::internal)?;
        match pending {
            Some(p) if Millis(p.at) >= Millis::now().minus(ssr::context()?.ask_choice_timeout) => Ok((
                User {
                    id: UserId(p.user),
                    username: p.username,
                },
                CredentialEpoch(p.epoch),
                Millis(p.at),
            )),
            Some(_) => {
                session.remove_value(PENDING_KEY).await.map_err(ssr::internal)?;
                Err(AppError::LoginExpired)
            }
            None => Err(AppError::LoginExpired),
        }
    }

    fn views(seats: &[SeatInfo]) -> Vec<SessionView> {
        let lang = ssr::client().lang;
        let now = Millis::now();
        seats
            .iter()
            .map(|seat| messages::session_view(lang, seat, now, false))
            .collect()
    }

    /// What a login hands to the core for this browser's session (the library's: the seat
    /// this browser holds ends first, and the id is renewed once the password was right).
    /// A held login waiting for a choice is not carried into the new session.
    pub async fn new_session<'a>(
        ctx: &ssr::AppContext,
        session: &tower_sessions::Session,
        context: &'a LoginContext,
    ) -> Result<NewSession<'a>, AppError> {
        session.remove_value(PENDING_KEY).await.map_err(ssr::internal)?;
        ctx.login
            .new_session(session, context)
            .await
            .map_err(ssr::internal)
    }

    /// Turns the core's outcome into the answer: the seat key stored and the browser sent on
    /// (`next`), or the typed error the page shows. `held_since` is set when this answers a
    /// login the `ask` policy held (a further question does not extend it).
    pub async fn answer(
        outcome: LoginOutcome,
        held_since: Option<Millis>,
        next: &str,
    ) -> Result<(), AppError> {
        let client = ssr::client();
        let session = ssr::session().await?;
        if let LoginOutcome::SignedIn { user, .. }
        | LoginOutcome::Denied { user, .. }
        | LoginOutcome::Held { user, .. } = &outcome
        {
            // The password was right: this browser is a known device of the account now.
            let key = single_login::Username::attempt_key(&user.username);
            ssr::set_cookie(ssr::context()?.cookies().await?.set_device(&key));
        }
        match outcome {
            LoginOutcome::SignedIn { user, seat, ended } => {
                tracing::info!(
                    event = "login_succeeded",
                    user = user.id.0,
                    client_ip = client.ip.as_deref(),
                    "login"
                );
                tracing::info!(
                    event = "session_created",
                    user = user.id.0,
                    seat = seat.0,
                    client_ip = client.ip.as_deref(),
                    "session created"
                );
                for (other, reason) in ended {
                    tracing::info!(
                        event = "session_ended",
                        user = user.id.0,
                        seat = other.0,
                        reason = reason.as_str(),
                        replaced_by = seat.0,
                        "session ended by a newer login"
                    );
                }
                leptos_axum::redirect(next);
                Ok(())
            }
            // Neither is a failed login: nothing counts against the user.
            LoginOutcome::Denied { user, blocking } => {
                session.flush().await.map_err(ssr::internal)?;
                tracing::info!(
                    event = "login_denied",
                    user = user.id.0,
                    client_ip = client.ip.as_deref(),
                    blocking = blocking.len(),
                    "login refused by the deny_new policy"
                );
                Err(AppError::LoginDenied(views(&blocking)))
            }
            LoginOutcome::Held {
                user,
                epoch,
                candidates,
            } => {
                let pending = Pending {
                    user: user.id.0,
                    username: user.username.clone(),
                    at: held_since.unwrap_or_else(Millis::now).0,
                    epoch: epoch.0,
                };
                session
                    .insert(PENDING_KEY, pending)
                    .await
                    .map_err(ssr::internal)?;
                tracing::info!(
                    event = "login_held",
                    user = user.id.0,
                    client_ip = client.ip.as_deref(),
                    "login waits for the user's choice of sessions to end"
                );
                Err(AppError::ChooseSessions(views(&candidates)))
            }
            // The password was changed or the account disabled after this login checked it.
            LoginOutcome::CredentialsChanged { user } => {
                session.flush().await.map_err(ssr::internal)?;
                tracing::info!(
                    event = "login_refused_stale_credentials",
                    user = user.id.0,
                    client_ip = client.ip.as_deref(),
                    "credentials changed while the login was under way"
                );
                Err(if held_since.is_some() {
                    AppError::LoginExpired
                } else {
                    AppError::InvalidCredentials
                })
            }
            LoginOutcome::InvalidCredentials { .. } => Err(AppError::InvalidCredentials),
            LoginOutcome::Throttled { wait } => Err(ssr::throttled("login", None, wait)),
            LoginOutcome::Busy { retry_after } => Err(ssr::busy(retry_after)),
        }
    }
}
