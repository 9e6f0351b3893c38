//! Components shared by the pages.

pub mod form;
pub mod live;
pub mod toast;
