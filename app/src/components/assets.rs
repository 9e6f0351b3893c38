//! The stylesheet and the hydration scripts, by their content-hashed names.
//!
//! Leptos's own `HashedStylesheet` and `HydrationScripts` find those names by reading the
//! hash file from disk on every page they render; the benchmark suite measured that at about
//! a tenth of a signed-in page's cost. Here the file is read once per process. Without
//! hashed names (a development build), Leptos's components are used as they are.

use leptos::prelude::*;
use leptos_meta::HashedStylesheet;

/// The `<link>`s and the `<script>` that load the style and hydrate the page (and, under
/// `cargo leptos watch`, the reload script). Drawn for every page, so it takes the options by
/// reference and writes strings made once per process.
pub fn assets(options: &LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(head) = hashed::head(options) {
        let nonce = leptos::nonce::use_nonce();
        return view! {
            {watching().then(|| view! { <AutoReload options=options.clone()/> })}
            <link rel="stylesheet" id="leptos" href=head.css.as_str()/>
            <link rel="modulepreload" href=head.js.as_str()/>
            <link rel="preload" href=head.wasm.as_str() r#as="fetch" r#type="application/wasm" crossorigin=""/>
            <script type="module" nonce=nonce>{head.script.as_str()}</script>
        }
        .into_any();
    }
    let options = options.clone();
    view! {
        {watching().then(|| view! { <AutoReload options=options.clone()/> })}
        <HashedStylesheet options=options.clone() id="leptos"/>
        <HydrationScripts options/>
    }
    .into_any()
}

/// Whether `cargo leptos watch` runs the server (Leptos's `AutoReload` asks the environment
/// on every page).
fn watching() -> bool {
    static WATCHING: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WATCHING.get_or_init(|| std::env::var_os("LEPTOS_WATCH").is_some())
}

#[cfg(feature = "ssr")]
mod hashed {
    use std::sync::OnceLock;

    use leptos::config::LeptosOptions;

    /// The built files' names, e.g. `single-login.<hash>.css`.
    pub struct Names {
        pub css: String,
        pub js: String,
        pub wasm: String,
    }

    /// What the page's head says about them: their addresses and the hydration script.
    pub struct Head {
        pub css: String,
        pub js: String,
        pub wasm: String,
        pub script: String,
    }

    /// The head's addresses and script, made on first use; `None` when names are not
    /// hashed.
    pub fn head(options: &LeptosOptions) -> Option<&'static Head> {
        static HEAD: OnceLock<Option<Head>> = OnceLock::new();
        HEAD.get_or_init(|| {
            let names = names(options)?;
            let pkg = format!("/{}", options.site_pkg_dir);
            let (css, js, wasm) = (
                format!("{pkg}/{}", names.css),
                format!("{pkg}/{}", names.js),
                format!("{pkg}/{}", names.wasm),
            );
            // The names hold only letters, digits, `.`, `-` and `_` (checked when read), so
            // they sit in the script as plain string literals.
            let script = format!(
                "import init, {{ hydrate }} from \"{js}\";\n\
                 init({{ module_or_path: \"{wasm}\" }}).then(function () {{ hydrate(); }});"
            );
            Some(Head {
                css,
                js,
                wasm,
                script,
            })
        })
        .as_ref()
    }

    /// The names from the hash file beside the server binary (where cargo-leptos writes it
    /// and Leptos looks for it), read on first use; `None` when names are not hashed.
    pub fn names(options: &LeptosOptions) -> Option<&'static Names> {
        static NAMES: OnceLock<Option<Names>> = OnceLock::new();
        if !options.hash_files {
            return None;
        }
        NAMES
            .get_or_init(|| {
                let path = std::env::current_exe()
                    .ok()?
                    .parent()?
                    .join(options.hash_file.as_ref());
                let text = std::fs::read_to_string(&path).ok()?;
                parse(&options.output_name, &text)
            })
            .as_ref()
    }

    fn parse(output: &str, text: &str) -> Option<Names> {
        let hash = |kind: &str| {
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(file, _)| file.trim() == kind)
                .map(|(_, hash)| hash.trim())
                .filter(|hash| {
                    !hash.is_empty()
                        && hash
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
        };
        let safe = output
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        safe.then_some(())?;
        Some(Names {
            css: format!("{output}.{}.css", hash("css")?),
            js: format!("{output}.{}.js", hash("js")?),
            wasm: format!("{output}.{}.wasm", hash("wasm")?),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::parse;

        #[test]
        fn the_hash_file_names_each_asset() {
            let names = parse("single-login", "js: AbC-1\nwasm: dEf_2\ncss: G3\n").unwrap();
            assert_eq!(names.css, "single-login.G3.css");
            assert_eq!(names.js, "single-login.AbC-1.js");
            assert_eq!(names.wasm, "single-login.dEf_2.wasm");
            assert!(parse("single-login", "js: x\nwasm: y\n").is_none(), "css missing");
            assert!(
                parse("single-login", "js: \"x\nwasm: y\ncss: z").is_none(),
                "quote"
            );
            assert!(parse("a\"b", "js: x\nwasm: y\ncss: z").is_none());
        }
    }
}
