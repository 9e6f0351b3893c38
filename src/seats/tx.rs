//! The bodies of the registry's two transactions (a login's, a credential change's), written
//! once and expanded per backend after its own BEGIN: the statements are the same text on
//! both, only the pool's types differ.

/// Runs `$body` in a transaction `$tx` that holds the write lock from its first statement:
/// SQLite's `BEGIN IMMEDIATE` (after this process's gate), PostgreSQL's row lock, for which
/// `$for_update` is the suffix of the statement that reads the user's row.
macro_rules! in_locked_tx {
    ($seats:expr, $tx:ident, $for_update:ident => $body:expr) => {
        match &$seats.db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                // IMMEDIATE takes the write lock before the first read, so two logins cannot
                // both read the same live seats.
                let _queued = $seats.sqlite_gate.lock().await;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let $for_update = "";
                $body
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let $for_update = " FOR UPDATE";
                $body
            }
        }
    };
}

/// The body of [`Seats::open`], expanded once per backend after the backend-specific BEGIN.
macro_rules! open_in_tx {
    ($seats:expr, $tx:ident, $lock_sql:expr, $user:expr, $epoch:expr, $hash:expr, $ctx:expr, $policy:expr, $chosen:expr, $now:expr) => {{
        let (own_limits, group_id, current_epoch, disabled_at) =
            sqlx::query_as::<_, (Option<String>, Option<i64>, i64, Option<i64>)>($lock_sql)
                .bind($user.0)
                .fetch_optional(&mut *$tx)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
        // Checked under the lock that a password change or a disable also takes: whichever
        // commits first, the other sees it.
        if disabled_at.is_some() || CredentialEpoch(current_epoch) != $epoch {
            return Ok(OpenOutcome::CredentialsChanged);
        }
        let (limits, _) = resolve_in_tx!($seats, $tx, $user, own_limits, group_id, $policy);
        let live: Vec<SeatInfo> = sqlx::query_as::<_, SeatRow>(LIVE_SEATS)
            .bind($user.0)
            .fetch_all(&mut *$tx)
            .await?
            .into_iter()
            .map(seat_info)
            .collect();
        let pick = |ids: Vec<SeatId>| -> Vec<SeatInfo> {
            live.iter().filter(|seat| ids.contains(&seat.id)).cloned().collect()
        };
        let device = $ctx.device();
        let login = NewLogin {
            client_ip: $ctx.client_ip,
            kind: device.kind,
        };
        let ip = $ctx.client_ip.map(|ip| ip.to_string());
        let attempt = |event| NewEvent::new(event, Some($user)).with_device(None, ip.as_deref(), device.clone());
        // The policy plans everything (the user's limits and choice included); this only
        // carries the plan out.
        match policy::plan($policy, Some(&limits), &policy_view(&live), $chosen, login, $now) {
            // Refused or held: nothing changes but the record of it.
            Decision::Deny { blocking } => {
                let events = [attempt(EventType::LoginDenied)];
                insert_events!(&mut *$tx, &events, $now);
                $tx.commit().await?;
                (OpenOutcome::Denied { blocking: pick(blocking) }, events.to_vec())
            }
            Decision::Ask { candidates } => {
                let events = [attempt(EventType::LoginHeld)];
                insert_events!(&mut *$tx, &events, $now);
                $tx.commit().await?;
                (
                    OpenOutcome::Ask {
                        candidates: pick(candidates),
                    },
                    events.to_vec(),
                )
            }
            Decision::Admit { end } => {
                let seat = sqlx::query_scalar::<_, i64>(
                    "INSERT INTO single_login_seats (user_id, session_hash, created_at, last_seen_at, client_ip, user_agent, kind) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6) RETURNING id",
                )
                .bind($user.0)
                .bind($hash.as_str())
                .bind($now.0)
                .bind($ctx.client_ip.map(|ip| ip.to_string()))
                .bind($ctx.user_agent.as_deref())
                .bind(login.kind.as_str())
                .fetch_one(&mut *$tx)
                .await?;
                let mut events = vec![attempt(EventType::SessionOpened)];
                events[0].seat = Some(SeatId(seat));
                for (id, reason) in &end {
                    let replaced_by = (*reason == EndReason::Replaced).then_some(seat);
                    let ended = sqlx::query_as::<_, EndedRow>(&format!(
                        "UPDATE single_login_seats SET ended_at = $1, end_reason = $2, replaced_by = $3 \
                         WHERE id = $4 AND ended_at IS NULL{RETURNING_ENDED}"
                    ))
                    .bind($now.0)
                    .bind(reason.as_str())
                    .bind(replaced_by)
                    .bind(id.0)
                    .fetch_optional(&mut *$tx)
                    .await?;
                    events.extend(ended.map(|row| NewEvent::ended(&row, EndedAs::of(*reason, None), By::Seat(SeatId(seat)))));
                }
                insert_events!(&mut *$tx, &events, $now);
                $tx.commit().await?;
                (OpenOutcome::Opened { seat: SeatId(seat), ended: end }, events)
            }
        }
    }};
}

/// The body of [`Seats::change_credentials`], expanded once per backend after its BEGIN.
macro_rules! change_in_tx {
    ($tx:ident, $lock_sql:expr, $user:expr, $change:expr, $keep:expr, $now:expr) => {{
        let epoch = sqlx::query_scalar::<_, i64>($lock_sql)
            .bind($user.0)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let stale = matches!($change, CredentialChange::Password { verified, .. } if verified != CredentialEpoch(epoch));
        if stale {
            None
        } else {
            let (hash, disabled) = match $change {
                CredentialChange::Password { hash, .. } => (Some(hash.0.as_str()), None),
                CredentialChange::Disable => (None, Some(Some($now.0))),
                CredentialChange::Enable => (None, Some(None)),
                CredentialChange::SignOut => (None, None),
            };
            sqlx::query(
                "UPDATE single_login_users SET credential_epoch = credential_epoch + 1, \
                   password_hash = COALESCE($1, password_hash), \
                   disabled_at = CASE WHEN $2 THEN $3 ELSE disabled_at END \
                 WHERE id = $4",
            )
            .bind(hash)
            .bind(disabled.is_some())
            .bind(disabled.flatten())
            .bind($user.0)
            .execute(&mut *$tx)
            .await?;
            // A password change ends the other sessions as its own event; a disable and an
            // operator's sign-out are an operator's ends.
            let (mut events, reason) = match $change {
                CredentialChange::Password { .. } => (
                    vec![NewEvent::new(EventType::CredentialsChanged, Some($user))],
                    EndedAs::CredentialsChanged,
                ),
                CredentialChange::Disable => (
                    vec![NewEvent::new(EventType::AccountDisabled, Some($user)).by(By::Operator)],
                    EndedAs::Operator,
                ),
                CredentialChange::Enable | CredentialChange::SignOut => (Vec::new(), EndedAs::Operator),
            };
            let by = $keep.map_or(By::Operator, |seat: SeatId| By::Seat(seat));
            // Enabling an account ends nothing (it has no live sessions).
            let ended = if matches!($change, CredentialChange::Enable) {
                0
            } else {
                let rows = sqlx::query_as::<_, EndedRow>(&format!("{END_USER_SEATS}{RETURNING_ENDED}"))
                    .bind($now.0)
                    .bind(EndReason::Revoked.as_str())
                    .bind($keep.map(|s: SeatId| s.0))
                    .bind($user.0)
                    .bind($keep.map_or(-1, |s: SeatId| s.0))
                    .fetch_all(&mut *$tx)
                    .await?;
                events.extend(rows.iter().map(|row| NewEvent::ended(row, reason, by)));
                rows.len() as u64
            };
            insert_events!(&mut *$tx, &events, $now);
            $tx.commit().await?;
            counted(&events);
            Some(ended)
        }
    }};
}

/// Runs `$sql` (an `UPDATE` that ends seats; [`RETURNING_ENDED`] is added) with `$binds` and
/// writes one event per ended seat, made by `$event` from its row, in one transaction;
/// counts the events and evaluates to the rows.
macro_rules! end_and_record {
    ($seats:expr, $sql:expr, [$($bind:expr),*], $now:expr, $event:expr) => {{
        let sql = format!("{}{}", $sql, RETURNING_ENDED);
        let (rows, events) = on_pool!(&$seats.db, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query_as::<_, EndedRow>(&sql)
                $(.bind($bind))*
                .fetch_all(&mut *tx)
                .await?;
            let events: Vec<NewEvent> = rows.iter().map($event).collect();
            insert_events!(&mut *tx, &events, $now);
            tx.commit().await?;
            (rows, events)
        });
        counted(&events);
        rows
    }};
}
