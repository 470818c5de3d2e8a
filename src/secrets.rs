//! Credentials never reach output: every password keyhole learns is
//! registered here, and every message leaving the program passes through
//! [`redact`], which also masks the user-info password of any URL in it.

use std::sync::Mutex;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let mut s = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    for form in [secret.to_string(), percent_encode(secret)] {
        if !s.contains(&form) {
            s.push(form);
        }
    }
    s.sort_by_key(|x| std::cmp::Reverse(x.len()));
}

/// Registers the password inside a URL, if it has one.
pub fn register_url(url: &str) {
    if let Ok(u) = url::Url::parse(url.trim())
        && let Some(pw) = u.password()
    {
        register(pw);
        if let Ok(decoded) = percent_decode(pw) {
            register(&decoded);
        }
    }
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let auth_end = tail
            .find(['/', '?', '#', ' ', '"', '\''])
            .unwrap_or(tail.len());
        let auth = &tail[..auth_end];
        match (auth.rfind('@'), auth.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&auth[..colon]);
                out.push_str(":***");
                out.push_str(&auth[at..]);
            }
            _ => out.push_str(auth),
        }
        rest = &tail[auth_end..];
    }
    out.push_str(rest);
    out
}

/// Secrets shorter than this are masked only where they stand alone: a
/// password `x` must not turn "does not exist" into "does not e***ist".
const SHORT: usize = 6;

/// Masks every registered secret and every URL password in `msg`.
pub fn redact(msg: &str) -> String {
    let mut out = redact_url(msg);
    let s = SECRETS.lock().unwrap_or_else(|p| p.into_inner());
    for secret in s.iter() {
        if !out.contains(secret.as_str()) {
            continue;
        }
        out = if secret.chars().count() >= SHORT {
            out.replace(secret.as_str(), "***")
        } else {
            replace_standalone(&out, secret)
        };
    }
    out
}

/// `msg` with each occurrence of `secret` that no letter or digit touches
/// replaced by `***`.
fn replace_standalone(msg: &str, secret: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(secret) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + secret.len()..].chars().next();
        out.push_str(&rest[..i]);
        if word(before) || word(after) {
            out.push_str(secret);
        } else {
            out.push_str("***");
        }
        rest = &rest[i + secret.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact_url("postgres://bob:hunter2@db:5432/prod"),
            "postgres://bob:***@db:5432/prod"
        );
        assert_eq!(redact_url("mysql://bob@db/prod"), "mysql://bob@db/prod");
        assert_eq!(
            redact_url("error connecting to postgres://a:b@h/d: refused"),
            "error connecting to postgres://a:***@h/d: refused"
        );
    }

    #[test]
    fn registered_secrets_are_masked_anywhere() {
        register("s3cr3t-Pa55");
        assert_eq!(
            redact("password s3cr3t-Pa55 rejected"),
            "password *** rejected"
        );
        register_url("postgres://u:p%40ss%21word@h/d");
        assert_eq!(redact("bad p@ss!word"), "bad ***");
    }

    #[test]
    fn a_short_secret_is_masked_only_where_it_stands_alone() {
        register("x");
        assert_eq!(
            redact(r#"role "nosuch" does not exist; password x rejected"#),
            r#"role "nosuch" does not exist; password *** rejected"#
        );
        register("Ab1");
        assert_eq!(redact("Ab1 (Ab1) xAb1 Ab12"), "*** (***) xAb1 Ab12");
    }
}
