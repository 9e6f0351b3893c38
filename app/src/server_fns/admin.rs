//! The operator console's server functions (`/api/admin/…`). The host answers 404 to
//! anyone but an administrator before these run (`server/src/layers/session_check.rs`);
//! each checks again, so that a route wired without the host's gate is closed too. Every
//! action needs the password confirmed within `password_confirmation_timeout`, as ending a
//! session on `/sessions` does, and is recorded as an `admin_action` event with who did it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::models::{ConsoleOverview, ConsoleUser, ConsoleUsers, Toast};

/// Users per page of the search.
pub const USERS_PER_PAGE: u32 = 20;

#[server(prefix = "/api", endpoint = "admin/overview")]
pub async fn admin_overview() -> Result<ConsoleOverview, AppError> {
    use crate::ssr::messages;
    use single_login::events::Events;
    use single_login::{DeviceKind, Millis};

    let (_admin, _) = console::require_admin().await?;
    let ctx = crate::ssr::context()?;
    let lang = crate::ssr::client().lang;
    let seats = ctx.seats();
    let counts = seats.live_counts().await.map_err(crate::ssr::internal)?;
    let live_by_kind = DeviceKind::ALL
        .iter()
        .filter_map(|kind| {
            let n = counts.iter().find(|(k, _)| k == kind)?.1;
            Some((messages::kind_label(lang, *kind).to_owned(), n))
        })
        .collect();
    let hours = Events::new(seats.db().clone())
        .hourly(Millis::now(), 24)
        .await
        .map_err(crate::ssr::internal)?
        .into_iter()
        .map(|hour| crate::models::HourView {
            label: crate::lang::hour_of_day(hour.start.0),
            logins: hour.logins,
            kicks: hour.kicks,
            denials: hour.denials,
            failures: hour.failures,
            throttled: hour.throttled,
        })
        .collect();
    Ok(ConsoleOverview {
        live: counts.iter().map(|(_, n)| n).sum(),
        live_by_kind,
        hours,
    })
}

#[server(prefix = "/api", endpoint = "admin/users")]
pub async fn admin_users(q: String, after: Option<String>) -> Result<ConsoleUsers, AppError> {
    let _ = console::require_admin().await?;
    let ctx = crate::ssr::context()?;
    let q = q.trim().chars().take(64).collect::<String>();
    let mut found = ctx
        .logins()
        .accounts
        .search(&q, after.as_deref(), USERS_PER_PAGE + 1)
        .await
        .map_err(crate::ssr::internal)?;
    let next = (found.len() > USERS_PER_PAGE as usize).then(|| {
        found.truncate(USERS_PER_PAGE as usize);
        found
            .last()
            .map(|u| single_login::Username::attempt_key(&u.username))
    });
    let mut users = Vec::with_capacity(found.len());
    for user in &found {
        users.push(console::row(user).await?);
    }
    Ok(ConsoleUsers {
        users,
        next: next.flatten(),
    })
}

#[server(prefix = "/api", endpoint = "admin/user")]
pub async fn admin_user(id: i64) -> Result<ConsoleUser, AppError> {
    use crate::ssr::messages;
    use single_login::{Millis, UserId};

    let _ = console::require_admin().await?;
    let ctx = crate::ssr::context()?;
    let lang = crate::ssr::client().lang;
    let summary = ctx
        .logins()
        .accounts
        .summary(UserId(id))
        .await
        .map_err(crate::ssr::internal)?
        .ok_or(AppError::NotFound)?;
    let seats = ctx.seats();
    let now = Millis::now();
    let live = seats.live(summary.id).await.map_err(crate::ssr::internal)?;
    let history = seats
        .history(summary.id, 20)
        .await
        .map_err(crate::ssr::internal)?;
    let groups = seats.groups().await.map_err(crate::ssr::internal)?;
    Ok(ConsoleUser {
        user: console::row(&summary).await?,
        group: summary.group.clone(),
        groups: groups.into_iter().map(|g| g.name).collect(),
        live: live
            .iter()
            .rev()
            .map(|seat| messages::session_view(lang, seat, now, false))
            .collect(),
        history: history
            .iter()
            .map(|h| messages::history_view(lang, h, now))
            .collect(),
        confirmed: crate::server_fns::sessions::ssr::confirmed().await?,
    })
}

/// Signs one session of user `id` out ("signed out by an administrator").
#[server(prefix = "/api", endpoint = "admin/end")]
pub async fn admin_end_session(id: i64, seat: i64) -> Result<Toast, AppError> {
    use single_login::events::By;
    use single_login::{SeatId, UserId};

    let admin = console::acting_admin().await?;
    let ctx = crate::ssr::context()?;
    let ended = ctx
        .seats()
        .end_for_operator(UserId(id), SeatId(seat), By::Admin(admin))
        .await
        .map_err(crate::ssr::internal)?;
    console::record(admin, UserId(id), Some(SeatId(seat)), "sign_out").await?;
    crate::ssr::notify(crate::ssr::messages::sessions_ended(
        crate::ssr::client().lang,
        u64::from(ended),
    ))
    .await
}

/// Signs every session of user `id` out; logins under way are void too.
#[server(prefix = "/api", endpoint = "admin/end-all")]
pub async fn admin_end_all(id: i64) -> Result<Toast, AppError> {
    use single_login::{CredentialChange, UserId};

    let admin = console::acting_admin().await?;
    let ctx = crate::ssr::context()?;
    let ended = ctx
        .seats()
        .change_credentials(UserId(id), CredentialChange::SignOut, None)
        .await
        .map_err(crate::ssr::internal)?
        .unwrap_or(0);
    console::record(admin, UserId(id), None, "sign_out_all").await?;
    crate::ssr::notify(crate::ssr::messages::sessions_ended(
        crate::ssr::client().lang,
        ended,
    ))
    .await
}

/// Disables the account of user `id` (its sessions end), or with `enable` enables it.
#[server(prefix = "/api", endpoint = "admin/disable")]
pub async fn admin_disable(id: i64) -> Result<Toast, AppError> {
    console::set_disabled(id, true).await
}

#[server(prefix = "/api", endpoint = "admin/enable")]
pub async fn admin_enable(id: i64) -> Result<Toast, AppError> {
    console::set_disabled(id, false).await
}

/// Sets the limits of user `id` (`default`, `unlimited`, `3`, `2,phone=1`).
#[server(prefix = "/api", endpoint = "admin/limit")]
pub async fn admin_set_limit(id: i64, limit: String) -> Result<Toast, AppError> {
    use single_login::{Limits, UserId};

    let admin = console::acting_admin().await?;
    let ctx = crate::ssr::context()?;
    let limits = match limit.trim() {
        "default" | "" => None,
        text => Some(
            text.parse::<Limits>()
                .map_err(|e| AppError::BadRequest(e.to_string()))?,
        ),
    };
    let policy = ctx.logins().policy.clone();
    ctx.seats()
        .set_user_limits(UserId(id), limits.as_ref(), &policy)
        .await
        .map_err(console::limits_error)?;
    console::record(admin, UserId(id), None, "set_limit").await?;
    crate::ssr::notify(console::done()).await
}

/// Puts user `id` into `group` (empty: out of any).
#[server(prefix = "/api", endpoint = "admin/group")]
pub async fn admin_set_group(id: i64, group: String) -> Result<Toast, AppError> {
    use single_login::UserId;

    let admin = console::acting_admin().await?;
    let ctx = crate::ssr::context()?;
    let group = Some(group.trim()).filter(|g| !g.is_empty());
    let policy = ctx.logins().policy.clone();
    ctx.seats()
        .set_group(UserId(id), group, &policy)
        .await
        .map_err(console::limits_error)?;
    console::record(admin, UserId(id), None, "set_group").await?;
    crate::ssr::notify(console::done()).await
}

#[cfg(feature = "ssr")]
pub mod console {
    use leptos_i18n::td_string;
    use single_login::seats::LimitsChangeError;
    use single_login::{LimitSource, SeatId, UserId, UserSummary};

    use crate::error::AppError;
    use crate::models::{ConsoleUserRow, Toast, ToastKind};
    use crate::ssr::{self as host, RequestAuth};

    /// The signed-in administrator and their seat; [`AppError::NotFound`] for anyone else.
    pub async fn require_admin() -> Result<(single_login::User, SeatId), AppError> {
        let RequestAuth::SignedIn { user, seat } = host::auth() else {
            return Err(AppError::NotFound);
        };
        let admin = host::context()?
            .logins()
            .accounts
            .is_admin(user.id)
            .await
            .map_err(host::internal)?;
        if admin {
            Ok((user, seat))
        } else {
            Err(AppError::NotFound)
        }
    }

    /// An administrator about to act: their password confirmed recently.
    pub async fn acting_admin() -> Result<UserId, AppError> {
        let (admin, _) = require_admin().await?;
        if !crate::server_fns::sessions::ssr::confirmed().await? {
            return Err(AppError::PasswordRequired);
        }
        Ok(admin.id)
    }

    /// Records what `admin` did, as an event and in the log.
    pub async fn record(
        admin: UserId,
        user: UserId,
        seat: Option<SeatId>,
        action: &str,
    ) -> Result<(), AppError> {
        let db = host::context()?.seats().db().clone();
        single_login::events::Events::new(db)
            .record_admin_action(admin, user, seat, action)
            .await
            .map_err(host::internal)?;
        tracing::info!(
            event = "admin_action",
            admin = admin.0,
            user = user.0,
            action,
            "administrator acted"
        );
        Ok(())
    }

    pub async fn set_disabled(id: i64, disabled: bool) -> Result<Toast, AppError> {
        use single_login::CredentialChange;
        let admin = acting_admin().await?;
        let change = if disabled {
            CredentialChange::Disable
        } else {
            CredentialChange::Enable
        };
        host::context()?
            .seats()
            .change_credentials(UserId(id), change, None)
            .await
            .map_err(host::internal)?;
        record(
            admin,
            UserId(id),
            None,
            if disabled { "disable" } else { "enable" },
        )
        .await?;
        host::notify(done()).await
    }

    pub fn limits_error(error: LimitsChangeError) -> AppError {
        match error {
            LimitsChangeError::Registry(error) => host::internal(error),
            LimitsChangeError::UnknownUser => AppError::NotFound,
            other => AppError::BadRequest(other.to_string()),
        }
    }

    pub fn done() -> Toast {
        Toast::new(ToastKind::Success, td_string!(host::client().lang, admin_done))
    }

    /// A user as the console lists them: with their limits and where they come from.
    pub async fn row(user: &UserSummary) -> Result<ConsoleUserRow, AppError> {
        let ctx = host::context()?;
        let (limits, source) = ctx
            .seats()
            .limits_of(user.id, &ctx.logins().policy)
            .await
            .map_err(host::internal)?
            .ok_or(AppError::NotFound)?;
        let lang = host::client().lang;
        let source = match source {
            LimitSource::User => td_string!(lang, admin_source_own).to_owned(),
            LimitSource::Group(name) => format!("{} {name}", td_string!(lang, admin_source_group)),
            LimitSource::Application => td_string!(lang, admin_source_application).to_owned(),
            LimitSource::Default => td_string!(lang, admin_source_default).to_owned(),
        };
        Ok(ConsoleUserRow {
            id: user.id.0,
            name: user.username.clone(),
            live: user.live_sessions,
            limit: limits.to_string(),
            source,
            disabled: user.disabled,
        })
    }
}
