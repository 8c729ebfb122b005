//! How to open a store, and keeping secrets out of what is printed: the pieces that the
//! router ([`crate::open()`]), the config file and every backend share. Nothing here opens
//! anything, so every module may use it.

use crate::connection::{ConnectionMode, PoolOptions};
use std::collections::BTreeMap;

/// The store used when no URL is given: an SQLite file in the current directory.
pub const DEFAULT_URL: &str = "sqlite://recordstore.db";

/// How to open a store: the connection mode, pool options and backend extras.
///
/// `Debug` shows extras whose names mention a password, secret or token as `***`.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Single, pooled, or `None` for the backend's auto choice.
    pub mode: Option<ConnectionMode>,
    /// Pool and retry settings.
    pub pool: PoolOptions,
    /// Backend extras from the config file (`base_path`, `prefix`, `username`, `password`, …);
    /// values in the URL win.
    pub extras: BTreeMap<String, String>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extras: BTreeMap<&str, &str> = self
            .extras
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_name(k) { "***" } else { v.as_str() };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("OpenOptions")
            .field("mode", &self.mode)
            .field("pool", &self.pool)
            .field("extras", &extras)
            .finish()
    }
}

/// Extras whose values are secret: never printed.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|s| n.contains(s))
}

/// A URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparseable: cut any userinfo rather than risk printing a password.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
            _ => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_extras_never_print() {
        let mut o = OpenOptions::default();
        o.extras.insert("password".into(), "hunter2".into());
        o.extras.insert("api_token".into(), "tok-123".into());
        o.extras.insert("prefix".into(), "app".into());
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok-123"),
            "{shown}"
        );
        assert!(shown.contains("app"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("redis://u:hunter2@h:1/0"), "redis://u:***@h:1/0");
        assert!(!redact_url("weird://u:hunter2@[bad").contains("hunter2"));
    }
}
