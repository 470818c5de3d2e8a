//! keyhole's own store: one SQLite file of append-only entries chained by
//! SHA-256 (CONTRACT section 7). Campaigns, their frozen items, verdicts,
//! sessions and reveals are all entries; what the commands show is replayed
//! from them. Never a source database, and never opened read-only by
//! mistake for one.
//!
//! The canonical bytes of an entry are the compact JSON array
//! `[seq, at, actor, kind, body, prev_hash]` as serde_json writes it (the
//! body is the entry's JSON text, kept verbatim as a string); an entry's
//! hash is the lower-case hex SHA-256 of those bytes, and the first entry's
//! `prev_hash` is 64 zeros.

pub mod review;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row};

pub use review::{Campaign, CampaignState, Item, Verdict, VerdictKind};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file cannot take a write now: read-only, full or locked.
    #[error("ledger {path}: {why}")]
    Unavailable { path: String, why: String },
    #[error("ledger {path}: {why}")]
    Database { path: String, why: String },
    #[error("ledger {path}: entry {seq} is broken: {why}")]
    Broken { path: String, seq: i64, why: String },
    #[error("no campaign {0} in the ledger")]
    UnknownCampaign(i64),
    #[error("campaign {campaign} has no item {key:?}")]
    UnknownItem { campaign: i64, key: String },
    #[error("{0}")]
    Invalid(String),
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The canonical bytes an entry's hash is taken over: the JSON array
/// `[seq, at, actor, kind, body, prev]` (a tuple serialises as one).
pub fn canonical(seq: i64, at: &str, actor: &str, kind: &str, body: &str, prev: &str) -> Vec<u8> {
    serde_json::to_vec(&(seq, at, actor, kind, body, prev)).expect("a tuple serialises")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// Who is acting: the operating system's user, and the SSH client's address
/// when there is one. It cannot be given on the command line.
pub fn actor() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(passwd_name)
        .unwrap_or_else(|| "unknown".into());
    match std::env::var("SSH_CONNECTION")
        .ok()
        .and_then(|c| c.split_whitespace().next().map(str::to_string))
    {
        Some(addr) => format!("{user} from {addr}"),
        None => user,
    }
}

/// The name of this process's user from `/etc/passwd`, when the
/// environment does not say.
fn passwd_name() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").ok()?.uid();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            (id == uid).then(|| name.to_string())
        })
    }
    #[cfg(not(unix))]
    None
}

const SCHEMA: &[&str] = &[
    // Version 1: the entries, kept from edits and deletes by triggers (the
    // chain is what shows an edit made around them), and indexes over the
    // hashed bodies for the lookups every command makes.
    "CREATE TABLE entries (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE INDEX entries_by_campaign ON entries (kind, json_extract(body, '$.campaign'), json_extract(body, '$.key'), seq);
    CREATE INDEX entries_by_key ON entries (kind, json_extract(body, '$.key'));",
];

/// An open ledger.
pub struct Ledger {
    conn: SqliteConnection,
    path: PathBuf,
}

fn classify(path: &Path, e: &sqlx::Error) -> LedgerError {
    let p = path.display().to_string();
    let msg = e.to_string();
    let code = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.to_string())
        .unwrap_or_default();
    let lower = msg.to_lowercase();
    // SQLite's primary result codes: 5 busy, 6 locked, 8 read-only, 13 full, 14 cannot open.
    let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
    let why = match primary {
        5 | 6 => Some("locked by another process; try again".to_string()),
        8 => Some("read-only; a verdict cannot be saved here".to_string()),
        13 => Some("the disk is full".to_string()),
        14 => Some(format!("cannot be opened ({msg})")),
        _ if lower.contains("readonly") || lower.contains("read-only") => {
            Some("read-only; a verdict cannot be saved here".to_string())
        }
        _ if lower.contains("locked") || lower.contains("busy") => {
            Some("locked by another process; try again".to_string())
        }
        _ => None,
    };
    match why {
        Some(why) => LedgerError::Unavailable { path: p, why },
        None => LedgerError::Database { path: p, why: msg },
    }
}

impl Ledger {
    /// Opens the ledger, creating it (mode 0600) and its schema if needed.
    pub async fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let unavailable = |why: String| LedgerError::Unavailable {
            path: path.display().to_string(),
            why,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(e.to_string()))?;
        }
        if !path.exists() {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            match o.open(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(unavailable(e.to_string())),
            }
        }
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)
            .map_err(|e| unavailable(e.to_string()))?
            .create_if_missing(false)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .disable_statement_logging();
        let conn = opts.connect().await.map_err(|e| classify(path, &e))?;
        let mut l = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        l.migrate().await?;
        Ok(l)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: sqlx::Error) -> LedgerError {
        classify(&self.path, &e)
    }

    async fn migrate(&mut self) -> Result<(), LedgerError> {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        if version as usize > SCHEMA.len() {
            return Err(LedgerError::Invalid(format!(
                "ledger {}: written by a newer keyhole (schema {version})",
                self.path.display()
            )));
        }
        for (i, step) in SCHEMA.iter().enumerate().skip(version as usize) {
            let mut tx = self
                .conn
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(|e| classify(&self.path, &e))?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "{step}; PRAGMA user_version = {}",
                i + 1
            )))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(&self.path, &e))?;
            tx.commit().await.map_err(|e| classify(&self.path, &e))?;
        }
        Ok(())
    }

    /// Appends entries in one transaction, chained to the newest; returns
    /// their sequence numbers. The write is committed and synced before this
    /// returns.
    pub async fn append(&mut self, entries: &[(&str, Value)]) -> Result<Vec<i64>, LedgerError> {
        let owned: Vec<(String, Value)> = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.write(move |_| owned).await
    }

    /// Appends what `make` returns, given the id the next campaign would
    /// take, inside one immediate transaction (so two processes never hand
    /// out the same id or fork the chain).
    pub async fn write<F>(&mut self, make: F) -> Result<Vec<i64>, LedgerError>
    where
        F: FnOnce(i64) -> Vec<(String, Value)>,
    {
        let path = self.path.clone();
        let fail = |e: sqlx::Error| classify(&path, &e);
        let mut tx = self
            .conn
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(fail)?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(fail)?;
        let campaigns: i64 =
            sqlx::query_scalar("SELECT count(*) FROM entries WHERE kind = 'campaign'")
                .fetch_one(&mut *tx)
                .await
                .map_err(fail)?;
        let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_string()));
        let actor = actor();
        let at = crate::time::rfc3339(
            chrono::Timelike::with_nanosecond(&chrono::Utc::now(), 0).expect("zero is valid"),
        );
        let entries = make(campaigns + 1);
        let mut out = Vec::with_capacity(entries.len());
        for (kind, body) in &entries {
            seq += 1;
            let body = serde_json::to_string(body).expect("a body serialises");
            let hash = sha256_hex(&canonical(seq, &at, &actor, kind, &body, &prev));
            sqlx::query(
                "INSERT INTO entries (seq, at, actor, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(&at)
            .bind(&actor)
            .bind(kind.as_str())
            .bind(&body)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            out.push(seq);
            prev = hash;
        }
        tx.commit().await.map_err(fail)?;
        Ok(out)
    }

    /// Every entry, in order (for `verify` and replays).
    pub async fn entries(&mut self) -> Result<Vec<Entry>, LedgerError> {
        self.select(
            "SELECT seq, at, actor, kind, body, prev_hash, hash FROM entries ORDER BY seq",
            None,
        )
        .await
    }

    async fn select(
        &mut self,
        sql: &'static str,
        bind: Option<(&str, Option<i64>)>,
    ) -> Result<Vec<Entry>, LedgerError> {
        let mut q = sqlx::query(sql);
        if let Some((kind, campaign)) = bind {
            q = q.bind(kind.to_string());
            if let Some(c) = campaign {
                q = q.bind(c);
            }
        }
        let rows = q.fetch_all(&mut self.conn).await.map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(Entry {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    body: r.try_get(4)?,
                    prev_hash: r.try_get(5)?,
                    hash: r.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(|e| self.err(e))
    }

    /// One entry by its sequence number.
    pub async fn entry(&mut self, seq: i64) -> Result<Option<Entry>, LedgerError> {
        let row: Option<(i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, kind, body, prev_hash, hash FROM entries WHERE seq = ?",
        )
        .bind(seq)
        .fetch_optional(&mut self.conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(
            row.map(|(seq, at, actor, kind, body, prev_hash, hash)| Entry {
                seq,
                at,
                actor,
                kind,
                body,
                prev_hash,
                hash,
            }),
        )
    }

    /// Entries of one kind.
    pub async fn of_kind(&mut self, kind: &str) -> Result<Vec<Entry>, LedgerError> {
        self.select(
            "SELECT seq, at, actor, kind, body, prev_hash, hash FROM entries WHERE kind = ? ORDER BY seq",
            Some((kind, None)),
        )
        .await
    }

    /// Entries of one kind about one campaign.
    pub async fn of_campaign(
        &mut self,
        kind: &str,
        campaign: i64,
    ) -> Result<Vec<Entry>, LedgerError> {
        self.select(
            "SELECT seq, at, actor, kind, body, prev_hash, hash FROM entries
             WHERE kind = ? AND json_extract(body, '$.campaign') = ? ORDER BY seq",
            Some((kind, Some(campaign))),
        )
        .await
    }

    /// Whether a campaign holds an item: one indexed look-up.
    pub async fn has_item(&mut self, campaign: i64, key: &str) -> Result<bool, LedgerError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM entries WHERE kind = 'item'
             AND json_extract(body, '$.campaign') = ? AND json_extract(body, '$.key') = ?",
        )
        .bind(campaign)
        .bind(key)
        .fetch_one(&mut self.conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Every key that has a verdict in some campaign.
    pub async fn decided_keys(&mut self) -> Result<std::collections::HashSet<String>, LedgerError> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT json_extract(body, '$.key') FROM entries WHERE kind = 'verdict'",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|e| self.err(e))?;
        Ok(keys.into_iter().collect())
    }

    /// The newest entry's sequence number and hash.
    pub async fn head(&mut self) -> Result<Option<(i64, String)>, LedgerError> {
        sqlx::query_as("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut self.conn)
            .await
            .map_err(|e| self.err(e))
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// What `verify` found: the number of entries and the head.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub entries: i64,
    pub head: Option<(i64, String)>,
}

/// Walks the chain: sequence numbers from 1 without a gap, each entry's
/// `prev_hash` the previous entry's hash, each hash its canonical bytes'.
pub fn verify_chain(path: &Path, entries: &[Entry]) -> Result<Verified, LedgerError> {
    let broken = |seq: i64, why: String| LedgerError::Broken {
        path: path.display().to_string(),
        seq,
        why,
    };
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let want = i as i64 + 1;
        if e.seq != want {
            return Err(broken(
                want,
                format!("missing (the next entry is {})", e.seq),
            ));
        }
        if e.prev_hash != prev {
            return Err(broken(e.seq, "does not follow the entry before it".into()));
        }
        let hash = sha256_hex(&canonical(
            e.seq,
            &e.at,
            &e.actor,
            &e.kind,
            &e.body,
            &e.prev_hash,
        ));
        if hash != e.hash {
            return Err(broken(e.seq, "its content does not match its hash".into()));
        }
        prev = e.hash.clone();
    }
    Ok(Verified {
        entries: entries.len() as i64,
        head: entries.last().map(|e| (e.seq, e.hash.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_bytes_are_the_documented_json_array() {
        let bytes = canonical(
            7,
            "2026-11-01T12:00:00Z",
            "ana",
            "verdict",
            "{\"a\":\"b\"}",
            GENESIS,
        );
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                "[7,\"2026-11-01T12:00:00Z\",\"ana\",\"verdict\",\"{{\\\"a\\\":\\\"b\\\"}}\",\"{GENESIS}\"]"
            )
        );
        // The hex SHA-256 an outside tool computes over the same bytes.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex(&bytes).len(), 64);
    }
}
