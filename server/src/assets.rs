//! The built assets under `/pkg` (the wasm, its JS, the stylesheet), served apart from the
//! pages: no session is read or written and no kick check runs for them, so a page's five
//! asset requests cost a file read each, not five seat lookups.
//!
//! With content-hashed names (cargo-leptos `hash-files`), a name never changes meaning, so
//! browsers may keep the file for a year without asking again (`immutable`). Precompressed
//! `.br` and `.gz` siblings (`cargo leptos build --release --precompress`) are sent to
//! browsers that accept them.

use axum::Router;
use http::{header, HeaderValue};
use leptos::config::LeptosOptions;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router(options: &LeptosOptions) -> Router {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let caching = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        // Unhashed names are reused by the next build: ask each time (answered 304 when
        // unchanged).
        "no-cache"
    };
    let path = format!("/{}", options.site_pkg_dir);
    Router::new().nest_service(
        &path,
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static(caching),
            ))
            // The same address answers brotli, gzip or plain by the request's
            // Accept-Encoding: a shared cache must key on it.
            .layer(SetResponseHeaderLayer::appending(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
            .service(files),
    )
}
