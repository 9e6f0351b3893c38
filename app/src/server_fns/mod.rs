//! Server functions, at fixed URLs under `/api`. Each is thin: it reads what the host put
//! into the request and calls the core library.

pub mod admin;
pub mod auth;
pub mod sessions;

pub use admin::*;
pub use auth::*;
pub use sessions::*;
