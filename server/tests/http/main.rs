//! The real router over real HTTP, on SQLite and PostgreSQL, grouped by feature. Each
//! `reqwest` client with its own cookie jar is one browser; `harness` starts the app and
//! holds what every group uses.

mod harness;

mod abuse;
mod accounts;
mod admin;
mod kick;
mod kinds;
mod language;
mod live;
mod policies;
mod security;
mod sessions;
mod stranger;
