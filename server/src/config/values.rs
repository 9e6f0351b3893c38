//! How each kind of setting is read. A value comes typed from the TOML file (`3`, `true`,
//! `["10.0.0.0/8"]`) or as text from the environment (`"3"`, `"true"`, `"10.0.0.0/8, ::1"`);
//! every reader here takes both, so a setting means the same wherever it is written. Each
//! reader's error is the short reason the start-up message ends with.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use single_login::client_ip::{parse_net, ForwardedHeader, IpNet};
use single_login::{KindLimits, OnLimit};

/// One value as text, whether the file wrote it as a string, a number or a boolean.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(Texts { many: false })
        .map(|mut all| all.remove(0))
}

/// A list: a TOML array, or one text with commas between the items (as the environment has it).
fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(Texts { many: true })
}

struct Texts {
    many: bool,
}

impl<'de> Visitor<'de> for Texts {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.many {
            f.write_str("a list, or text with commas between the items")
        } else {
            f.write_str("a string, number or boolean")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.many {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect())
        } else {
            Ok(vec![v.to_owned()])
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.many {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            items.push(item.0);
        }
        Ok(items)
    }
}

/// One item of a list.
struct Item(String);

impl<'de> de::Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        text(d).map(Item)
    }
}

/// Reads the text and parses it, the reason of a failure kept as the error.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let text = text(d)?;
    parse(text.trim()).map_err(de::Error::custom)
}

pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    parsed(d, |text| match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    })
}

pub fn some_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    flag(d).map(Some)
}

/// A whole number of at least 1.
pub fn at_least_one<'de, D: Deserializer<'de>, T: FromStr + PartialOrd + From<u8>>(
    d: D,
) -> Result<T, D::Error> {
    parsed(d, |text| {
        text.parse::<T>()
            .ok()
            .filter(|n| *n >= T::from(1))
            .ok_or_else(|| "expected a whole number of at least 1".to_owned())
    })
}

pub fn prefix_length<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    parsed(d, |text| {
        text.parse::<u8>()
            .ok()
            .filter(|p| (1..=128).contains(p))
            .ok_or_else(|| "expected a prefix length from 1 to 128".to_owned())
    })
}

/// A duration in humantime's notation (`90s`, `30m`, `12h`, `30d`, `1h 30m`); a bare number
/// is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| "too long".to_owned());
    }
    humantime::parse_duration(text).map_err(|e| format!("{e}: expected a duration like 90s, 30m, 12h or 30d"))
}

pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    parsed(d, parse_duration)
}

pub fn positive_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    parsed(d, |text| {
        parse_duration(text).and_then(|d| {
            if d.is_zero() {
                Err("must be longer than zero".to_owned())
            } else {
                Ok(d)
            }
        })
    })
}

pub fn on_limit<'de, D: Deserializer<'de>>(d: D) -> Result<OnLimit, D::Error> {
    parsed(d, |text| {
        OnLimit::parse(&text.to_ascii_lowercase().replace('-', "_")).ok_or_else(|| {
            let names: Vec<&str> = OnLimit::ALL.iter().map(|o| o.as_str()).collect();
            let (last, rest) = names.split_last().expect("OnLimit has variants");
            format!("expected {} or {last}", rest.join(", "))
        })
    })
}

/// Per-kind limits: a TOML table (`{ phone = 1, computer = 1 }`) or, from the environment,
/// `phone=1,computer=1`.
pub fn seat_limits<'de, D: Deserializer<'de>>(d: D) -> Result<KindLimits, D::Error> {
    struct Table;

    impl<'de> Visitor<'de> for Table {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table such as { phone = 1, computer = 1 }, or phone=1,computer=1")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.to_owned())
        }

        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some((kind, n)) = map.next_entry::<String, Item>()? {
                pairs.push(format!("{kind}={}", n.0));
            }
            Ok(pairs.join(","))
        }
    }

    let text = d.deserialize_any(Table)?;
    text.parse::<KindLimits>().map_err(|_| {
        de::Error::custom(
            "expected kinds (computer, phone, tablet, other) each with a whole number of at least 1",
        )
    })
}

pub fn some_socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<Option<std::net::SocketAddr>, D::Error> {
    parsed(d, |text| {
        text.parse()
            .map(Some)
            .map_err(|_| "expected an address and port such as 127.0.0.1:9100".to_owned())
    })
}

/// Any text of at least 16 characters (a token).
pub fn some_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<super::Secret>, D::Error> {
    parsed(d, |text| {
        if text.chars().count() >= 16 {
            Ok(Some(super::Secret(text.to_owned())))
        } else {
            Err("expected at least 16 characters".to_owned())
        }
    })
}

/// `whsec_` and the base64 of at least 24 bytes (Standard Webhooks).
pub fn some_webhook_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<super::Secret>, D::Error> {
    use base64::Engine;
    parsed(d, |text| {
        let key = text
            .strip_prefix("whsec_")
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
        match key {
            Some(key) if key.len() >= 24 => Ok(Some(super::Secret(text.to_owned()))),
            _ => Err("expected whsec_ followed by the base64 of at least 24 random bytes".to_owned()),
        }
    })
}

pub fn some_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    parsed(d, |text| match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(Some(text.to_owned()))
        }
        _ => Err("expected an http:// or https:// URL".to_owned()),
    })
}

pub fn forwarded_header<'de, D: Deserializer<'de>>(d: D) -> Result<ForwardedHeader, D::Error> {
    parsed(d, str::parse)
}

pub fn database_url<'de, D: Deserializer<'de>>(d: D) -> Result<super::DatabaseUrl, D::Error> {
    parsed(d, |url| {
        if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(super::DatabaseUrl(url.to_owned()))
        } else {
            Err("expected a sqlite: or postgres:// URL".into())
        }
    })
}

pub fn networks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    texts(d)?
        .iter()
        .map(|text| parse_net(text).map_err(de::Error::custom))
        .collect()
}

pub fn hosts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let hosts = texts(d)?
        .iter()
        .map(|h| {
            super::normalize_host(h).ok_or_else(|| de::Error::custom(format!("{h:?} is not a host name")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if hosts.is_empty() {
        return Err(de::Error::custom("expected at least one host name"));
    }
    Ok(hosts)
}

/// The keys a struct takes, as its `Deserialize` asks for them: the one list of setting names,
/// from which the environment's names and the check of the file's keys follow.
pub fn keys<'de, T: de::Deserialize<'de>>() -> &'static [&'static str] {
    struct Recorder<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Recorder<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("keys recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut keys: &'static [&'static str] = &[];
    let _ = T::deserialize(Recorder(&mut keys));
    keys
}
