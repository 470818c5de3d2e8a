//! The need-to-know policy file (CONTRACT section 4), as far as the source
//! layer and `keyhole check` need it: the time zone that turns bare dates
//! into instants, the role names and the marketing purposes.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{ConfigError, line_col};

#[derive(Debug, Deserialize)]
struct Peek {
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    marketing_purposes: Vec<String>,
    #[serde(default)]
    roles: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone)]
pub struct PolicyOutline {
    pub origin: String,
    pub timezone: chrono_tz::Tz,
    /// Role names, trimmed and lower-cased.
    pub roles: Vec<String>,
    pub marketing_purposes: Vec<String>,
}

impl PolicyOutline {
    pub fn parse(origin: &str, text: &str) -> Result<PolicyOutline, ConfigError> {
        let p: Peek = crate::config::parse_toml(Path::new(origin), text)?;
        let timezone = match &p.timezone {
            Some(z) => z.get_ref().trim().parse::<chrono_tz::Tz>().map_err(|_| {
                let (l, c) = line_col(text, z.span().start);
                ConfigError::Usage(format!(
                    "{origin}:{l}:{c}: unknown time zone {:?}",
                    z.get_ref()
                ))
            })?,
            None => chrono_tz::UTC,
        };
        Ok(PolicyOutline {
            origin: origin.to_string(),
            timezone,
            roles: p.roles.keys().map(|r| r.trim().to_lowercase()).collect(),
            marketing_purposes: p.marketing_purposes,
        })
    }

    pub fn load(path: &Path) -> Result<PolicyOutline, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Runtime(format!("{}: {e}", path.display())))?;
        Self::parse(&path.display().to_string(), &text)
    }

    pub fn demo() -> PolicyOutline {
        Self::parse("built-in demo policy", crate::demo::DEMO_POLICY)
            .expect("the built-in policy parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_policy_names_its_roles_and_zone() {
        let p = PolicyOutline::demo();
        assert_eq!(p.timezone, chrono_tz::America::New_York);
        assert!(p.roles.contains(&"support".to_string()));
        assert!(!p.roles.contains(&"contractor".to_string()));
    }

    #[test]
    fn unknown_zone_names_the_line() {
        let e = PolicyOutline::parse("p.toml", "\ntimezone = \"Mars/Olympus\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.toml:2:12: unknown time zone \"Mars/Olympus\""
        );
    }
}
