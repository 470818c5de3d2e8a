//! The config file (`keyhole.toml`) and where things come from: the source
//! URL and its password, query folder, timeouts, policy, ledger and display
//! time zone, with the precedence of CONTRACT section 1. Errors name the
//! file, line and column.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// What the command line says about where things come from; the binary
/// fills it from its flags.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub db: Option<String>,
    pub queries: Option<PathBuf>,
    pub policy: Option<PathBuf>,
    pub ledger: Option<PathBuf>,
    pub no_color: bool,
    /// `--audit-log FILE`, in the order given.
    pub audit_logs: Vec<PathBuf>,
}

/// An `[[audit_log]]` table (CONTRACT section 8).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuditLog {
    pub path: toml::Spanned<PathBuf>,
    pub format: Option<toml::Spanned<String>>,
    pub log_line_prefix: Option<String>,
    pub timezone: Option<toml::Spanned<String>>,
}

/// A database audit log to read, as the config or the command line names it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLogSetting {
    pub path: PathBuf,
    /// `pgaudit`, `pgaudit-csv` or `server_audit`; None: detected.
    pub format: Option<String>,
    pub log_line_prefix: Option<String>,
    pub timezone: Option<chrono_tz::Tz>,
}

/// The formats an `[[audit_log]]` may name.
pub const AUDIT_LOG_FORMATS: [&str; 3] = ["pgaudit", "pgaudit-csv", "server_audit"];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Source database URL.
    pub url: Option<String>,
    /// Name of the environment variable that holds the password.
    pub password_env: Option<String>,
    /// Folder of query files, relative to the config file.
    pub queries: Option<PathBuf>,
    pub statement_timeout_s: Option<u64>,
    pub connect_timeout_s: Option<u64>,
    pub policy: Option<PathBuf>,
    pub ledger: Option<PathBuf>,
    /// IANA zone for displaying times (the policy zone governs rules).
    pub display_timezone: Option<String>,
    /// Dashboard key bindings: action name → keys (`[]` unbinds).
    pub keys: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// Database audit logs to read beside the source.
    pub audit_log: Option<Vec<RawAuditLog>>,
    /// Breach review: the deadline table and the laws that apply to the company.
    pub breach: Option<BreachConfig>,
}

/// The `[breach]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachConfig {
    /// A deadline table of the company's own (else the built-in one).
    pub deadlines: Option<PathBuf>,
    /// The company is a HIPAA covered entity: HIPAA's rows apply.
    #[serde(default)]
    pub hipaa: bool,
    /// A financial institution under the FTC's Safeguards Rule (GLBA).
    #[serde(default)]
    pub ftc_safeguards: bool,
    /// A covered entity of the New York Department of Financial Services
    /// (23 NYCRR Part 500).
    #[serde(default)]
    pub nydfs: bool,
    /// A registrant with the SEC (Form 8-K Item 1.05).
    #[serde(default)]
    pub sec: bool,
    /// A US banking organisation (the OCC, Federal Reserve and FDIC
    /// computer-security incident rule).
    #[serde(default)]
    pub banking: bool,
}

impl BreachConfig {
    /// The switches that are on, by the names the deadline table's
    /// `requires` uses.
    pub fn switches(&self) -> Vec<&'static str> {
        [
            (self.hipaa, "hipaa"),
            (self.ftc_safeguards, "ftc_safeguards"),
            (self.nydfs, "nydfs"),
            (self.sec, "sec"),
            (self.banking, "banking"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// A usage problem (exit 2) or a runtime one (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Runtime(String),
}

/// Everything resolved from the command line, environment and config file.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: Option<PathBuf>,
    pub url: Option<String>,
    pub url_origin: &'static str,
    pub password: Option<String>,
    pub queries: Option<PathBuf>,
    pub statement_timeout: Duration,
    pub connect_timeout: Duration,
    pub policy: Option<PathBuf>,
    pub ledger: PathBuf,
    pub display_timezone: Option<chrono_tz::Tz>,
    pub no_color: bool,
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    /// The config's `[[audit_log]]` tables, then `--audit-log` files.
    pub audit_logs: Vec<AuditLogSetting>,
    /// `[breach] deadlines`, relative to the config file.
    pub deadlines: Option<PathBuf>,
    /// The `[breach]` switches that are on (`hipaa`, `nydfs`…).
    pub breach_switches: Vec<&'static str>,
}

/// Reads a TOML file into `T`, with errors as `file:line:column: message`.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Runtime(format!("{}: {e}", path.display())))?;
    parse_toml(path, &text)
}

pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        let msg = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        ConfigError::Usage(format!("{}:{line}:{col}: {msg}", path.display()))
    })
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Which config file applies: `--config`, `$KEYHOLE_CONFIG`, `./keyhole.toml`,
/// `$XDG_CONFIG_HOME/keyhole/keyhole.toml`.
pub fn find_config(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(ConfigError::Usage(format!(
                "--config {}: no such file",
                p.display()
            )));
        }
        return Ok(Some(p.to_path_buf()));
    }
    if let Some(p) = env_nonempty("KEYHOLE_CONFIG") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(ConfigError::Usage(format!(
                "KEYHOLE_CONFIG={}: no such file",
                p.display()
            )));
        }
        return Ok(Some(p));
    }
    let local = PathBuf::from("keyhole.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    let xdg = env_nonempty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.config_dir().to_path_buf()));
    if let Some(dir) = xdg {
        let p = dir.join("keyhole").join("keyhole.toml");
        if p.is_file() {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// keyhole's data directory: `$XDG_DATA_HOME/keyhole`.
pub fn data_dir() -> PathBuf {
    env_nonempty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.data_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("keyhole")
}

/// Where keyhole's log lives: `$XDG_STATE_HOME/keyhole`, else the
/// platform's state directory, else the data directory.
pub fn state_dir() -> PathBuf {
    env_nonempty("XDG_STATE_HOME")
        .map(|d| PathBuf::from(d).join("keyhole"))
        .or_else(|| {
            directories::BaseDirs::new().and_then(|b| b.state_dir().map(|d| d.join("keyhole")))
        })
        .unwrap_or_else(data_dir)
}

fn relative_to(base: Option<&Path>, p: PathBuf) -> PathBuf {
    match base.and_then(Path::parent) {
        Some(dir) if p.is_relative() && !dir.as_os_str().is_empty() => dir.join(p),
        _ => p,
    }
}

impl Settings {
    pub fn resolve(g: &Overrides) -> Result<Settings, ConfigError> {
        let config_path = find_config(g.config.as_deref())?;
        let (file, text): (ConfigFile, String) = match &config_path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError::Runtime(format!("{}: {e}", p.display())))?;
                (parse_toml(p, &text)?, text)
            }
            None => (ConfigFile::default(), String::new()),
        };
        let base = config_path.as_deref();
        if let Some(url) = &g.db
            && crate::source::url_has_password(url)
        {
            crate::secrets::register_url(url);
            return Err(ConfigError::Usage(format!(
                "--db {}: passwords never come from the command line; use PGPASSWORD, MYSQL_PWD or the config's password_env",
                crate::secrets::redact_url(url)
            )));
        }
        let (url, url_origin) = if let Some(u) = &g.db {
            (Some(u.clone()), "--db")
        } else if let Some(u) = &file.url {
            (Some(u.clone()), "config")
        } else if let Some(u) = env_nonempty("DATABASE_URL") {
            (Some(u), "DATABASE_URL")
        } else {
            (None, "")
        };
        if let Some(u) = &url {
            crate::secrets::register_url(u);
        }
        let password = match &file.password_env {
            Some(name) => match env_nonempty(name) {
                Some(p) => Some(p),
                None => {
                    return Err(ConfigError::Usage(format!(
                        "{}: password_env names {name}, which is not set",
                        base.map(|p| p.display().to_string()).unwrap_or_default()
                    )));
                }
            },
            None => match url.as_deref().map(crate::source::parse_url) {
                Some(Ok((crate::source::Dialect::Postgres, _))) => env_nonempty("PGPASSWORD"),
                Some(Ok((crate::source::Dialect::Mysql, _))) => env_nonempty("MYSQL_PWD"),
                _ => None,
            },
        };
        if let Some(p) = &password {
            crate::secrets::register(p);
        }
        let display_timezone = match &file.display_timezone {
            Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::Usage(format!(
                    "{}: display_timezone {z:?} is not an IANA time zone",
                    base.map(|p| p.display().to_string()).unwrap_or_default()
                ))
            })?),
            None => None,
        };
        let mut audit_logs = Vec::new();
        for raw in file.audit_log.iter().flatten() {
            let at = |span: std::ops::Range<usize>, msg: String| {
                let (l, c) = line_col(&text, span.start);
                let f = base.map(|p| p.display().to_string()).unwrap_or_default();
                ConfigError::Usage(format!("{f}:{l}:{c}: {msg}"))
            };
            let format = match &raw.format {
                Some(f) if !AUDIT_LOG_FORMATS.contains(&f.get_ref().trim()) => {
                    return Err(at(
                        f.span(),
                        format!(
                            "unknown audit log format {:?} (pgaudit, pgaudit-csv or server_audit)",
                            f.get_ref()
                        ),
                    ));
                }
                Some(f) => Some(f.get_ref().trim().to_string()),
                None => None,
            };
            let timezone =
                match &raw.timezone {
                    Some(z) => Some(z.get_ref().trim().parse::<chrono_tz::Tz>().map_err(|_| {
                        at(z.span(), format!("unknown time zone {:?}", z.get_ref()))
                    })?),
                    None => None,
                };
            audit_logs.push(AuditLogSetting {
                path: relative_to(base, raw.path.get_ref().clone()),
                format,
                log_line_prefix: raw.log_line_prefix.clone(),
                timezone,
            });
        }
        audit_logs.extend(g.audit_logs.iter().map(|p| AuditLogSetting {
            path: p.clone(),
            format: None,
            log_line_prefix: None,
            timezone: None,
        }));
        let timeout = file.statement_timeout_s.unwrap_or(30);
        if timeout == 0 {
            return Err(ConfigError::Usage(
                "statement_timeout_s must be at least 1".into(),
            ));
        }
        Ok(Settings {
            url,
            url_origin,
            password,
            queries: g
                .queries
                .clone()
                .or_else(|| file.queries.clone().map(|q| relative_to(base, q))),
            statement_timeout: Duration::from_secs(timeout),
            connect_timeout: Duration::from_secs(file.connect_timeout_s.unwrap_or(10).max(1)),
            policy: g
                .policy
                .clone()
                .or_else(|| file.policy.clone().map(|q| relative_to(base, q))),
            ledger: g
                .ledger
                .clone()
                .or_else(|| file.ledger.clone().map(|q| relative_to(base, q)))
                .unwrap_or_else(|| data_dir().join("ledger.sqlite")),
            display_timezone,
            no_color: g.no_color || env_nonempty("NO_COLOR").is_some(),
            keys: file.keys.clone().unwrap_or_default(),
            deadlines: file
                .breach
                .as_ref()
                .and_then(|b| b.deadlines.clone())
                .map(|p| relative_to(base, p)),
            breach_switches: file
                .breach
                .as_ref()
                .map(BreachConfig::switches)
                .unwrap_or_default(),
            audit_logs,
            config_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_file_line_and_column() {
        let err = parse_toml::<ConfigFile>(
            Path::new("k.toml"),
            "url = \"sqlite://x\"\n  colour = true\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("k.toml:2:3: unknown field `colour`"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_type_names_the_line() {
        let err = parse_toml::<ConfigFile>(Path::new("k.toml"), "statement_timeout_s = \"soon\"\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("k.toml:1:23:"), "{err}");
    }
}
