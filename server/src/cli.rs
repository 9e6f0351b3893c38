//! The command line: `single-login` (or `single-login serve`) serves the app; `single-login
//! user …` are operator commands on the same database.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use single_login::{
    Accounts, CredentialChange, Db, EndReason, LimitSource, Limits, Millis, Password, Seats, Username,
};

use crate::config::Config;
use crate::{router, shutdown_signal, AppState};

#[derive(Debug, Parser)]
#[command(name = "single-login", version, about = "One live login per user account.")]
pub struct Cli {
    /// A TOML file with settings; environment variables override it.
    #[arg(long, env = "SINGLE_LOGIN_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app (the default).
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage groups: named limits that users follow unless they have their own.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Session events (the audit trail).
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Write the events of a time range as JSON lines, oldest first.
    Export {
        /// From: a date (2026-12-01, midnight UTC), a time (2026-12-01T09:30:00Z), or a
        /// duration ago (24h, 7d).
        #[arg(long)]
        since: String,
        /// Until (inclusive), written the same way; now by default.
        #[arg(long)]
        until: Option<String>,
        /// Only this user's events.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Limits, as the commands take them: `unlimited`, a total (`4`), or a total and per-kind
/// limits (`2,phone=1,computer=1`; kinds: computer, phone, tablet, other).
const LIMITS_HELP: &str =
    "unlimited, a number of at least 1, or a number with per-kind limits: 2,phone=1,computer=1";

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group with its limits.
    Create {
        name: String,
        #[arg(help = LIMITS_HELP)]
        limits: String,
    },
    /// List the groups with their limits and members.
    List,
    /// Change a group's limits; its members' sessions beyond them end now.
    Set {
        name: String,
        #[arg(help = LIMITS_HELP)]
        limits: String,
    },
    /// Delete a group; its members follow the default from then on.
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Add { name: String },
    /// List users with their session limit and live sessions.
    List,
    /// Set a user's own session limits, or `default` to follow their group or the default;
    /// sessions beyond the new limits end now.
    #[command(visible_alias = "set-limit")]
    SetMaxSessions {
        name: String,
        #[arg(
            help = "default, or unlimited, a number of at least 1, or a number with per-kind limits: 2,phone=1,computer=1"
        )]
        limit: String,
    },
    /// Put a user into a group (or with --none out of any); sessions beyond the limits that
    /// result end now.
    SetGroup {
        name: String,
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        group: Option<String>,
        /// Out of any group.
        #[arg(long)]
        none: bool,
    },
    /// Show a user's live sessions.
    Sessions { name: String },
    /// End every session of a user (reason `revoked`), or with `--all` of every user.
    SignOut {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Every session of every user (after a breach, say).
        #[arg(long)]
        all: bool,
    },
    /// Let a user use the console at /admin (never possible from the web).
    GrantAdmin { name: String },
    /// Take the console away from a user.
    RevokeAdmin { name: String },
    /// Disable an account: its sessions end now and it cannot log in.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

pub async fn run(cli: Cli) -> Result<(), Error> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::User(command) => {
            user(
                config,
                command,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout(),
            )
            .await
        }
        Command::Group(command) => group(config, command, &mut std::io::stdout()).await,
        Command::Events(command) => events(config, command, &mut std::io::stdout()).await,
    }
}

async fn serve(config: Config) -> Result<(), Error> {
    let state = AppState::start(&config).await?;
    let purge = state.spawn_purge();
    let shutdown = state.shutdown.clone();
    let addr = config.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    #[cfg(feature = "bench-without-seat-check")]
    tracing::warn!("built with bench-without-seat-check: sessions are not re-checked; for benchmarks only");
    if !config.settings.cookie_secure() && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "the session cookie is not Secure on a non-loopback address: it travels in clear \
             over plain http; set session_cookie_secure = true (SESSION_COOKIE_SECURE) behind TLS"
        );
    }
    tracing::info!(
        %addr,
        database = %config.settings.database_url,
        allowed_hosts = %config.settings.allowed_hosts.join(","),
        cookie_secure = config.settings.cookie_secure(),
        max_sessions = config.settings.max_sessions,
        on_limit = ?config.settings.on_limit,
        "listening on http://{addr}"
    );
    let metrics = match config.settings.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics on http://{addr}/metrics");
            Some(crate::metrics::spawn(listener, state.clone()))
        }
        None => None,
    };
    let webhooks = crate::webhooks::spawn(&state).await;
    let limits = crate::serve::Limits::of(&config.settings);
    crate::serve::serve(
        listener,
        router(state),
        limits,
        async move {
            shutdown_signal().await;
            shutdown.trigger();
        },
        crate::SHUTDOWN_GRACE,
    )
    .await;
    purge.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    if let Some(webhooks) = webhooks {
        webhooks.stop().await;
    }
    Ok(())
}

/// Runs one operator command, reading from `input` and writing to `out`.
pub async fn user(
    config: Config,
    command: UserCommand,
    input: &mut dyn BufRead,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let db = Db::connect(config.settings.database_url.as_str()).await?;
    db.migrate().await?;
    let accounts = Accounts::new(db.clone());
    let seats = Seats::new(db.clone());
    let find = |name: &str| {
        let accounts = accounts.clone();
        let name = name.to_owned();
        async move {
            let parsed = Username::parse(&name).map_err(|e| -> Error { format!("{name:?}: {e}").into() })?;
            accounts
                .find_by_name(&parsed)
                .await?
                .ok_or_else(|| -> Error { format!("no user named {name:?}").into() })
        }
    };
    match command {
        UserCommand::Add { name } => {
            let username =
                Username::parse(&name).map_err(|e| -> Error { format!("{name:?}: {e}").into() })?;
            let mut line = String::new();
            input.read_line(&mut line)?;
            let password = Password::parse(line.trim_end_matches(['\r', '\n']))?;
            let user = accounts.sign_up(&username, password).await?;
            tracing::info!(
                event = "operator_user_added",
                user = user.id.0,
                "operator created a user"
            );
            writeln!(out, "created user {} (id {})", user.username, user.id.0)?;
        }
        UserCommand::List => {
            writeln!(
                out,
                "{:<32}  {:<24}  {:<16}  {:>13}  STATUS",
                "USER", "LIMIT", "FROM", "LIVE SESSIONS"
            )?;
            let policy = config.settings.policy();
            for user in accounts.list().await? {
                let (limits, source) = seats
                    .limits_of(user.id, &policy)
                    .await?
                    .ok_or("a listed user vanished")?;
                let status = if user.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{:<32}  {:<24}  {:<16}  {:>13}  {status}",
                    user.username,
                    limits.to_string(),
                    source_name(&source),
                    user.live_sessions
                )?;
            }
        }
        UserCommand::SetMaxSessions { name, limit } => {
            let user = find(&name).await?;
            let limits = match limit.as_str() {
                "default" => None,
                text => Some(text.parse::<Limits>()?),
            };
            let policy = config.settings.policy();
            let ended = seats.set_user_limits(user.id, limits.as_ref(), &policy).await?;
            let (now, source) = seats
                .limits_of(user.id, &policy)
                .await?
                .ok_or("the user vanished")?;
            tracing::info!(
                event = "operator_limits_set",
                user = user.id.0,
                limits = %now,
                from = source_name(&source),
                ended_sessions = ended,
                "operator set the user's session limits"
            );
            writeln!(out, "{} may hold {now} ({})", user.username, source_name(&source))?;
            if ended > 0 {
                writeln!(out, "ended {ended} session(s) beyond it")?;
            }
        }
        UserCommand::SetGroup { name, group, .. } => {
            let user = find(&name).await?;
            let policy = config.settings.policy();
            let ended = seats.set_group(user.id, group.as_deref(), &policy).await?;
            let (now, source) = seats
                .limits_of(user.id, &policy)
                .await?
                .ok_or("the user vanished")?;
            tracing::info!(
                event = "operator_group_set",
                user = user.id.0,
                group = group.as_deref().unwrap_or("-"),
                ended_sessions = ended,
                "operator moved the user to a group"
            );
            match &group {
                Some(group) => writeln!(out, "{} is in group {group}", user.username)?,
                None => writeln!(out, "{} is in no group", user.username)?,
            }
            writeln!(out, "{} may hold {now} ({})", user.username, source_name(&source))?;
            if ended > 0 {
                writeln!(out, "ended {ended} session(s) beyond it")?;
            }
        }
        UserCommand::Sessions { name } => {
            let user = find(&name).await?;
            let now = Millis::now();
            let live = seats.live(user.id).await?;
            let (limits, source) = seats
                .limits_of(user.id, &config.settings.policy())
                .await?
                .ok_or("the user vanished")?;
            writeln!(out, "{} live session(s) of {}", live.len(), user.username)?;
            writeln!(
                out,
                "limit {limits}, from {}: {}",
                source_name(&source),
                app::ssr::messages::usage(app::lang::Locale::en, &limits, &live)
            )?;
            for seat in live {
                writeln!(
                    out,
                    "  #{:<6} {:<8} {:<40} {:<39} signed in {}, last active {}",
                    seat.id.0,
                    seat.kind.as_str(),
                    app::ssr::messages::describe_user_agent(
                        app::lang::Locale::en,
                        seat.user_agent.as_deref()
                    ),
                    seat.client_ip.as_deref().unwrap_or("-"),
                    app::ssr::messages::relative_time(app::lang::Locale::en, seat.created_at, now),
                    app::ssr::messages::relative_time(app::lang::Locale::en, seat.last_seen_at, now),
                )?;
            }
        }
        UserCommand::SignOut { name: None, .. } => {
            let ended = seats.end_every_session(EndReason::Revoked).await?;
            tracing::warn!(
                event = "session_ended",
                reason = "revoked",
                count = ended,
                scope = "all_users",
                "operator signed every user out"
            );
            writeln!(out, "ended {ended} session(s) of every user")?;
        }
        UserCommand::SignOut { name: Some(name), .. } => {
            let user = find(&name).await?;
            // Like a credential change: the epoch moves on with the end of every session, so
            // a login under way or held by `ask` opens no seat afterwards.
            let ended = seats
                .change_credentials(user.id, CredentialChange::SignOut, None)
                .await?
                .unwrap_or(0);
            tracing::info!(
                event = "session_ended",
                user = user.id.0,
                reason = "revoked",
                count = ended,
                "operator signed the user out"
            );
            writeln!(out, "ended {ended} session(s) of {}", user.username)?;
        }
        UserCommand::GrantAdmin { name } => {
            let user = find(&name).await?;
            accounts.set_admin(user.id, true).await?;
            tracing::warn!(
                event = "operator_admin_granted",
                user = user.id.0,
                "operator granted the console"
            );
            writeln!(out, "{} may use the console at /admin", user.username)?;
        }
        UserCommand::RevokeAdmin { name } => {
            let user = find(&name).await?;
            accounts.set_admin(user.id, false).await?;
            tracing::warn!(
                event = "operator_admin_revoked",
                user = user.id.0,
                "operator revoked the console"
            );
            writeln!(out, "{} may no longer use the console", user.username)?;
        }
        UserCommand::Disable { name } => {
            let user = find(&name).await?;
            // Disabled, the credential epoch moved on and every session ended, in one
            // transaction: a login under way cannot slip in after it.
            let ended = seats
                .change_credentials(user.id, CredentialChange::Disable, None)
                .await?
                .unwrap_or(0);
            tracing::info!(
                event = "account_disabled",
                user = user.id.0,
                ended_sessions = ended,
                "operator disabled the account"
            );
            writeln!(out, "disabled {} and ended {ended} session(s)", user.username)?;
        }
        UserCommand::Enable { name } => {
            let user = find(&name).await?;
            seats
                .change_credentials(user.id, CredentialChange::Enable, None)
                .await?;
            tracing::info!(
                event = "account_enabled",
                user = user.id.0,
                "operator enabled the account"
            );
            writeln!(out, "enabled {}", user.username)?;
        }
    }
    db.close().await;
    Ok(())
}

/// Where a user's limits come from, for the operator.
fn source_name(source: &LimitSource) -> String {
    match source {
        LimitSource::User => "own".to_owned(),
        LimitSource::Group(name) => format!("group {name}"),
        LimitSource::Application => "application".to_owned(),
        LimitSource::Default => "default".to_owned(),
    }
}

/// Runs one group command, writing to `out`.
pub async fn group(config: Config, command: GroupCommand, out: &mut dyn std::io::Write) -> Result<(), Error> {
    let db = Db::connect(config.settings.database_url.as_str()).await?;
    db.migrate().await?;
    let seats = Seats::new(db.clone());
    let policy = config.settings.policy();
    match command {
        GroupCommand::Create { name, limits } => {
            let limits: Limits = limits.parse()?;
            seats.create_group(&name, &limits).await?;
            tracing::info!(event = "operator_group_created", group = %name, %limits, "operator created a group");
            writeln!(out, "created group {name}: {limits}")?;
        }
        GroupCommand::List => {
            writeln!(out, "{:<32}  {:<24}  MEMBERS", "GROUP", "LIMIT")?;
            for group in seats.groups().await? {
                writeln!(
                    out,
                    "{:<32}  {:<24}  {}",
                    group.name,
                    group.limits.to_string(),
                    group.members
                )?;
            }
        }
        GroupCommand::Set { name, limits } => {
            let limits: Limits = limits.parse()?;
            let ended = seats.set_group_limits(&name, &limits).await?;
            tracing::info!(
                event = "operator_group_set",
                group = %name,
                %limits,
                ended_sessions = ended,
                "operator changed a group's limits"
            );
            writeln!(out, "group {name}: {limits}")?;
            if ended > 0 {
                writeln!(out, "ended {ended} session(s) beyond it")?;
            }
        }
        GroupCommand::Delete { name } => {
            let ended = seats.delete_group(&name, &policy).await?;
            tracing::info!(
                event = "operator_group_deleted",
                group = %name,
                ended_sessions = ended,
                "operator deleted a group"
            );
            writeln!(
                out,
                "deleted group {name}; its members follow the default ({})",
                policy.limits()
            )?;
            if ended > 0 {
                writeln!(out, "ended {ended} session(s) beyond it")?;
            }
        }
    }
    db.close().await;
    Ok(())
}

/// A moment as the export takes it: a date, a time, or a duration ago.
fn moment(text: &str, now: Millis) -> Result<Millis, Error> {
    let text = text.trim();
    let at = if text.len() == 10 {
        humantime::parse_rfc3339_weak(&format!("{text} 00:00:00")).ok()
    } else {
        humantime::parse_rfc3339_weak(text).ok()
    };
    if let Some(at) = at {
        let ms = at
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| "before 1970")?
            .as_millis();
        return Ok(Millis(i64::try_from(ms).map_err(|_| "too far ahead")?));
    }
    let ago = crate::config::parse_duration(text).map_err(|_| {
        format!(
            "{text:?}: expected a date (2026-12-01), a time (2026-12-01T09:30:00Z) or a duration ago (24h)"
        )
    })?;
    Ok(now.minus(ago))
}

/// Runs one events command, writing to `out`.
pub async fn events(
    config: Config,
    command: EventsCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    let db = Db::connect(config.settings.database_url.as_str()).await?;
    db.migrate().await?;
    match command {
        EventsCommand::Export { since, until, user } => {
            let now = Millis::now();
            let since = moment(&since, now)?;
            let until = until.as_deref().map_or(Ok(now), |text| moment(text, now))?;
            let user = match user {
                Some(name) => {
                    let parsed =
                        Username::parse(&name).map_err(|e| -> Error { format!("{name:?}: {e}").into() })?;
                    let found = Accounts::new(db.clone()).find_by_name(&parsed).await?;
                    Some(
                        found
                            .ok_or_else(|| -> Error { format!("no user named {name:?}").into() })?
                            .id,
                    )
                }
                None => None,
            };
            let events = single_login::events::Events::new(db.clone())
                .export(since, until, user)
                .await?;
            for event in &events {
                serde_json::to_writer(&mut *out, event)?;
                writeln!(out)?;
            }
            tracing::info!(
                event = "operator_events_exported",
                count = events.len(),
                "operator exported events"
            );
        }
    }
    db.close().await;
    Ok(())
}
