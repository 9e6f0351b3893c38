//! Turns the message catalogue (`locales/*.json`) into the `i18n` module: one Rust function
//! per message, so a misspelt key or a missing argument is a compile error.

use leptos_i18n_build::{Config, FileFormat, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?).join("i18n");
    let config = Config::new("en")?.add_locale("ko")?.parse_options(
        ParseOptions::default()
            .file_format(FileFormat::Json)
            .interpolate_display(true),
    );
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
