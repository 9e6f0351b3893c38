//! The message catalogue (`locales/*.json`): every language has every message with the same
//! placeholders, and every message is used somewhere. (A misspelt key in the code is a
//! compile error already: `build.rs` makes one accessor per key.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Every catalogue: language code to messages.
fn catalogues() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("locales")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let code = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let messages: BTreeMap<String, String> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            all.insert(code, messages);
        }
    }
    all
}

/// `{{ name }}` placeholders and `<b>` components of a message.
fn placeholders(message: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = message;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        found.insert(rest[start + 2..start + end].trim().to_owned());
        rest = &rest[start + end + 2..];
    }
    for tag in message.split('<').skip(1) {
        if let Some(name) = tag.split('>').next() {
            found.insert(format!("<{name}>"));
        }
    }
    found
}

#[test]
fn every_language_has_every_message_with_the_same_placeholders() {
    let all = catalogues();
    assert!(
        all.contains_key("en") && all.contains_key("ko"),
        "{:?}",
        all.keys()
    );
    let english = &all["en"];
    for (code, messages) in &all {
        let keys: BTreeSet<_> = messages.keys().collect();
        let expected: BTreeSet<_> = english.keys().collect();
        assert_eq!(
            keys.symmetric_difference(&expected).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "{code} and en differ in these keys"
        );
        for (key, message) in messages {
            assert!(!message.trim().is_empty(), "{code}.{key} is empty");
            assert_eq!(
                placeholders(message),
                placeholders(&english[key]),
                "{code}.{key} has other placeholders than en.{key}"
            );
        }
    }
}

/// The Rust sources of the app and its host.
fn sources() -> String {
    let mut text = String::new();
    let mut dirs = vec![root().join("src"), root().join("../server/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
                text.push('\n');
            }
        }
    }
    text
}

#[test]
fn every_message_is_used() {
    let sources = sources();
    // The catalogue's macros name a message right after the locale: `td_string!(locale, key`.
    let used: BTreeSet<String> = sources
        .split("td")
        .filter_map(|after| {
            let after = after
                .strip_prefix("_string!(")
                .or_else(|| after.strip_prefix("!("))?;
            let (_, rest) = after.split_once(',')?;
            let key: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!key.is_empty()).then_some(key)
        })
        .collect();
    let english = &catalogues()["en"];
    let unused: Vec<_> = english.keys().filter(|key| !used.contains(*key)).collect();
    assert!(unused.is_empty(), "messages no code uses: {unused:?}");
    let unknown: Vec<_> = used.iter().filter(|key| !english.contains_key(*key)).collect();
    assert!(unknown.is_empty(), "the scan misread these as keys: {unknown:?}");
}

#[test]
fn the_seed_sentence_stays_as_it_is() {
    assert_eq!(
        catalogues()["ko"]["kicked"],
        "동일 아이디로 다른 브라우저 웹사이트에서 로그인이 감지되어, 강제 로그아웃되었습니다."
    );
}
