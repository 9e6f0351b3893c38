//! The rows the registry reads, and the SQL they share: a seat, how it ended, and what the
//! check and the history need of it.

use super::{Ended, SeatId, SeatInfo};
use crate::clock::Millis;
use crate::device::DeviceKind;
use crate::policy::LiveSeat;
use crate::vocabulary::{EndReason, EndedBy};

pub(super) type SeatRow = (i64, i64, i64, Option<String>, Option<String>, Option<String>);

pub(super) fn seat_info((id, created_at, last_seen_at, client_ip, user_agent, kind): SeatRow) -> SeatInfo {
    // Seats opened before kinds were recorded have none: their user agent tells.
    let kind = kind
        .as_deref()
        .and_then(DeviceKind::parse)
        .unwrap_or_else(|| DeviceKind::of_user_agent(user_agent.as_deref()));
    SeatInfo {
        id: SeatId(id),
        created_at: Millis(created_at),
        last_seen_at: Millis(last_seen_at),
        client_ip,
        user_agent,
        kind,
    }
}

/// Live seats as the policy sees them.
pub(super) fn policy_view(live: &[SeatInfo]) -> Vec<LiveSeat> {
    live.iter()
        .map(|seat| LiveSeat {
            id: seat.id,
            last_seen_at: seat.last_seen_at,
            client_ip: seat.client_ip.as_deref().and_then(|ip| ip.parse().ok()),
            kind: seat.kind,
        })
        .collect()
}

/// The columns of seat `s` and its replacing seat `r` that say how `s` ended, read as
/// [`EndRow`]. A macro, so that the queries around it are whole literals.
macro_rules! end_columns {
    () => {
        "s.ended_at AS ended_at, s.end_reason AS end_reason, s.ended_by AS ended_by, \
         r.id AS r_id, r.created_at AS r_created_at, r.last_seen_at AS r_last_seen_at, \
         r.client_ip AS r_client_ip, r.user_agent AS r_user_agent, r.kind AS r_kind"
    };
}

/// How a seat ended, with the seat that replaced it.
#[derive(sqlx::FromRow)]
pub(super) struct EndRow {
    pub(super) ended_at: Option<i64>,
    pub(super) end_reason: Option<String>,
    pub(super) ended_by: Option<i64>,
    pub(super) r_id: Option<i64>,
    pub(super) r_created_at: Option<i64>,
    pub(super) r_last_seen_at: Option<i64>,
    pub(super) r_client_ip: Option<String>,
    pub(super) r_user_agent: Option<String>,
    pub(super) r_kind: Option<String>,
}

/// `seats.ended_by` holds the id of the session that ended a seat, and NULL for an operator
/// (and for every end that is not `revoked`): the one place that reads and writes it.
impl EndedBy {
    pub(super) fn stored(self) -> Option<i64> {
        match self {
            EndedBy::Session(seat) => Some(seat.0),
            EndedBy::Operator => None,
        }
    }

    pub(super) fn loaded(reason: EndReason, stored: Option<i64>) -> Option<EndedBy> {
        match (reason, stored) {
            (EndReason::Revoked, Some(seat)) => Some(EndedBy::Session(SeatId(seat))),
            (EndReason::Revoked, None) => Some(EndedBy::Operator),
            _ => None,
        }
    }
}

impl EndRow {
    /// `None` for a live seat.
    pub(super) fn ended(self) -> Option<Ended> {
        let replaced_by = match (self.r_id, self.r_created_at, self.r_last_seen_at) {
            (Some(id), Some(created), Some(seen)) => Some(seat_info((
                id,
                created,
                seen,
                self.r_client_ip,
                self.r_user_agent,
                self.r_kind,
            ))),
            _ => None,
        };
        match (
            self.ended_at,
            self.end_reason.as_deref().and_then(EndReason::parse),
        ) {
            (Some(at), Some(reason)) => Some(Ended {
                at: Millis(at),
                reason,
                replaced_by,
                ended_by: EndedBy::loaded(reason, self.ended_by),
            }),
            _ => None,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct StatusRow {
    pub(super) id: i64,
    pub(super) user_id: i64,
    pub(super) username: String,
    pub(super) created_at: i64,
    pub(super) last_seen_at: i64,
    #[sqlx(flatten)]
    pub(super) end: EndRow,
}

#[derive(sqlx::FromRow)]
pub(super) struct HistoryRow {
    pub(super) id: i64,
    pub(super) created_at: i64,
    pub(super) last_seen_at: i64,
    pub(super) client_ip: Option<String>,
    pub(super) user_agent: Option<String>,
    pub(super) kind: Option<String>,
    #[sqlx(flatten)]
    pub(super) end: EndRow,
}

/// Ends every live seat of a user but one: `$1` when, `$2` why, `$3` by which session
/// (or NULL), `$4` the user, `$5` the seat to keep (-1 for none).
pub(super) const END_USER_SEATS: &str =
    "UPDATE single_login_seats SET ended_at = $1, end_reason = $2, ended_by = $3 \
     WHERE user_id = $4 AND ended_at IS NULL AND id <> $5";

pub(super) const LIVE_SEATS: &str = "SELECT id, created_at, last_seen_at, client_ip, user_agent, kind \
     FROM single_login_seats WHERE user_id = $1 AND ended_at IS NULL ORDER BY id";

/// Ends one live seat because the user's limits were lowered: `$1` when, `$2` the seat.
pub(super) const END_LOWERED: &str =
    "UPDATE single_login_seats SET ended_at = $1, end_reason = 'limit_lowered' \
     WHERE id = $2 AND ended_at IS NULL";
