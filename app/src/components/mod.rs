//! Components shared by the pages.

pub mod assets;
pub mod form;
pub mod language;
pub mod live;
pub mod toast;
