//! Every page and endpoint of the app, in one table. The router, the host's session check, the
//! language switch, the answer to a failed plain form post (`form_page`), the links the app
//! builds (`LocalPath`) and the tests read it; a test compares it with the server functions
//! the app registers. A new page or endpoint is one row here.

/// The home page: who is signed in.
pub const HOME: &str = "/";
/// The login page.
pub const LOGIN: &str = "/login";
/// The sign-up page.
pub const SIGNUP: &str = "/signup";
/// The user's sessions and history.
pub const SESSIONS: &str = "/sessions";
/// The live channel's server-sent events.
pub const EVENTS: &str = "/api/session/events";
/// The language switch's form (a plain POST, answered with a redirect back).
pub const LANGUAGE: &str = "/language";
/// The operator console: the last day at a glance. Administrators only; to everyone else
/// every console address answers 404, as if it did not exist ([`is_console`]).
pub const ADMIN: &str = "/admin";
/// The console's user search (`?q=`, `?after=` for the next page).
pub const ADMIN_USERS: &str = "/admin/users";
/// The console's page of one user (`?id=`).
pub const ADMIN_USER: &str = "/admin/user";

/// What answers at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Leptos page, rendered on the server.
    Page,
    /// A server function (a form posts to it, or the hydrated app calls it).
    ServerFunction,
    /// An axum endpoint of the host's own (the live channel, the language switch).
    Endpoint,
}

/// One row of [`ROUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The path, without query.
    pub path: &'static str,
    /// What answers there.
    pub kind: Kind,
    /// A page that needs a signed-in user: an anonymous GET goes to `/login`.
    pub needs_seat: bool,
    /// A page that shows the flashed toasts (where plain form posts land); other pages never
    /// load the session record.
    pub shows_flash: bool,
    /// A server function's page: where its failed plain form post is answered.
    pub form_page: &'static str,
    /// Where a browser signs in: a form posted from a page that was open when its session
    /// ended is an attempt to sign in again, and goes through.
    pub signs_in: bool,
}

impl Route {
    const fn page(path: &'static str) -> Route {
        Route {
            path,
            kind: Kind::Page,
            needs_seat: false,
            shows_flash: false,
            form_page: path,
            signs_in: false,
        }
    }

    const fn server_fn(path: &'static str, form_page: &'static str) -> Route {
        Route {
            kind: Kind::ServerFunction,
            form_page,
            ..Route::page(path)
        }
    }

    const fn endpoint(path: &'static str) -> Route {
        Route {
            kind: Kind::Endpoint,
            form_page: HOME,
            ..Route::page(path)
        }
    }

    const fn needs_seat(self) -> Route {
        Route {
            needs_seat: true,
            ..self
        }
    }

    const fn shows_flash(self) -> Route {
        Route {
            shows_flash: true,
            ..self
        }
    }

    const fn signs_in(self) -> Route {
        Route {
            signs_in: true,
            ..self
        }
    }
}

/// The table.
pub const ROUTES: &[Route] = &[
    Route::page(HOME).needs_seat(),
    Route::page(LOGIN).shows_flash(),
    Route::page(SIGNUP),
    Route::page(SESSIONS).needs_seat().shows_flash(),
    Route::server_fn("/api/login", LOGIN).signs_in(),
    Route::server_fn("/api/login/continue", LOGIN).signs_in(),
    Route::server_fn("/api/login/cancel", LOGIN),
    Route::server_fn("/api/signup", SIGNUP).signs_in(),
    Route::server_fn("/api/logout", HOME),
    Route::server_fn("/api/me", HOME),
    Route::server_fn("/api/sessions", SESSIONS),
    Route::server_fn("/api/sessions/confirm", SESSIONS),
    Route::server_fn("/api/sessions/end", SESSIONS),
    Route::server_fn("/api/sessions/end-others", SESSIONS),
    Route::server_fn("/api/account/password", SESSIONS),
    Route::endpoint(EVENTS),
    Route::endpoint(LANGUAGE),
    Route::page(ADMIN).shows_flash(),
    Route::page(ADMIN_USERS).shows_flash(),
    Route::page(ADMIN_USER).shows_flash(),
    Route::server_fn("/api/admin/overview", ADMIN),
    Route::server_fn("/api/admin/users", ADMIN_USERS),
    Route::server_fn("/api/admin/user", ADMIN_USER),
    Route::server_fn("/api/admin/end", ADMIN_USER),
    Route::server_fn("/api/admin/end-all", ADMIN_USER),
    Route::server_fn("/api/admin/disable", ADMIN_USER),
    Route::server_fn("/api/admin/enable", ADMIN_USER),
    Route::server_fn("/api/admin/limit", ADMIN_USER),
    Route::server_fn("/api/admin/group", ADMIN_USER),
];

/// Whether `path` is the console's (a page or a server function): for administrators only.
pub fn is_console(path: &str) -> bool {
    path == ADMIN || path.starts_with("/admin/") || path.starts_with("/api/admin/")
}

/// The row of `path`, if it has one.
pub fn find(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|route| route.path == path)
}

/// Whether `path` is a server function's or endpoint's address rather than a page's: a
/// failed form post without JavaScript is answered there, and no page is ever served from it.
/// Every address under `/api/` is, listed or not.
pub fn is_server_function(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The page that holds the form of a server function. A form post without JavaScript that
/// fails is answered with its page; when the browser posted from a page that was itself such
/// an answer (its address is the server function's), this says which page that was.
pub fn form_page(path: &str) -> &'static str {
    find(path).map_or(HOME, |route| route.form_page)
}

/// Whether the page at `path` needs a signed-in user.
pub fn needs_seat(path: &str) -> bool {
    find(path).is_some_and(|route| route.needs_seat)
}

/// Whether the page at `path` shows flashed toasts.
pub fn shows_flash(path: &str) -> bool {
    find(path).is_some_and(|route| route.shows_flash)
}

/// Whether `path` signs a browser in.
pub fn signs_in(path: &str) -> bool {
    find(path).is_some_and(|route| route.signs_in)
}

/// The router's segment for a page's path (`/login` → `login`, `/` → the empty segment).
pub fn segment(page: &'static str) -> &'static str {
    page.trim_start_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_listed_once_and_every_form_page_is_a_page() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[i + 1..].iter().all(|other| other.path != route.path),
                "{} twice",
                route.path
            );
            assert_eq!(
                find(route.form_page).map(|page| page.kind),
                Some(Kind::Page),
                "{}",
                route.path
            );
            match route.kind {
                Kind::Page => assert!(!is_server_function(route.path), "{}", route.path),
                Kind::ServerFunction => assert!(is_server_function(route.path), "{}", route.path),
                Kind::Endpoint => {}
            }
        }
    }

    #[test]
    fn unknown_addresses_fall_back_to_home() {
        assert_eq!(form_page("/api/nothing"), HOME);
        assert!(!needs_seat("/nowhere") && !shows_flash("/nowhere") && !signs_in("/nowhere"));
    }

    /// Every server function the app registers has its row, and every server-function row
    /// is one the app registers.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_table_lists_exactly_the_registered_server_functions() {
        let mut registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect();
        registered.sort_unstable();
        let mut listed: Vec<&str> = ROUTES
            .iter()
            .filter(|route| route.kind == Kind::ServerFunction)
            .map(|route| route.path)
            .collect();
        listed.sort_unstable();
        assert!(registered.len() > 5, "{registered:?}");
        assert_eq!(registered, listed);
    }
}
