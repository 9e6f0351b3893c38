//! What handlers take from a checked request.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use super::{SeatState, SessionEnd};
use crate::{SeatId, UserId};

/// A request from a live seat. As an extractor it rejects every other request with
/// [`NotSignedIn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The signed-in user.
    pub user: UserId,
    /// This session's seat.
    pub seat: SeatId,
    /// The user's name in single-login's accounts (`#id` for an adopted user).
    pub username: String,
}

/// Where a request comes from, for the seat a login opens (shown on a sessions page, and
/// used by `same_ip_shares_seat`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address (the peer's, or the one trusted proxies forwarded). `None` only
    /// for a request the check did not see.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl Client {
    /// What a seat records of its client.
    pub fn context(&self) -> crate::LoginContext {
        crate::LoginContext::new(self.ip, self.user_agent.as_deref())
    }
}

/// The rejection of [`SignedIn`]: `401` with a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSignedIn {
    /// The request has no signed-in session.
    Anonymous,
    /// Its seat ended (only seen with [`super::OnEnded::PassThrough`]).
    Ended(SessionEnd),
    /// The seat check did not run: [`super::SeatCheckLayer`] is missing on this route.
    Unchecked,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Anonymous => (StatusCode::UNAUTHORIZED, "Please sign in.").into_response(),
            NotSignedIn::Ended(end) => (StatusCode::UNAUTHORIZED, end.message()).into_response(),
            NotSignedIn::Unchecked => {
                tracing::error!("SignedIn used on a route without the seat check layer");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SeatState {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SeatState>()
            .cloned()
            .ok_or(NotSignedIn::Unchecked)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match SeatState::from_request_parts(parts, state).await? {
            SeatState::SignedIn(signed_in) => Ok(signed_in),
            SeatState::Anonymous => Err(NotSignedIn::Anonymous),
            SeatState::Ended(end) => Err(NotSignedIn::Ended(end)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().cloned().unwrap_or_default())
    }
}
