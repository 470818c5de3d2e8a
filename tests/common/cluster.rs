//! A PostgreSQL cluster of a test's own, on a spare port: made with
//! `pg_createcluster` with the settings the test needs, dropped (stopped
//! first) when the value goes. The machine's main cluster is never touched.

use std::path::PathBuf;
use std::process::Command;

pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The newest PostgreSQL version with clusters here, or None.
pub fn version() -> Option<String> {
    std::fs::read_dir("/etc/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max()
}

/// Whether clusters of a test's own can be made here; when not, the test
/// skips (or fails, with KEYHOLE_REQUIRE_DBS=1).
pub fn usable() -> bool {
    if version().is_some()
        && Command::new("pg_createcluster")
            .arg("--help")
            .output()
            .is_ok()
    {
        return true;
    }
    assert!(!super::require_dbs(), "pg_createcluster is needed");
    super::skip("no pg_createcluster");
    false
}

pub struct Cluster {
    pub version: String,
    pub name: String,
    pub port: u16,
    pub data: PathBuf,
}

impl Cluster {
    /// Creates and starts a cluster named `kh_<purpose>_<pid>` with
    /// `initdb_args` and `conf` appended to its postgresql.conf.
    pub fn start(purpose: &str, initdb_args: &[&str], conf: &str) -> Result<Cluster, String> {
        let version = version().ok_or("no PostgreSQL installed (/etc/postgresql)")?;
        let name = format!("kh_{purpose}_{}", std::process::id());
        let port = free_port();
        let _ = run(Command::new("pg_dropcluster").args(["--stop", &version, &name]));
        run(Command::new("pg_createcluster")
            .args([&version, &name, "-p", &port.to_string(), "--"])
            .args(initdb_args))?;
        let c = Cluster {
            data: PathBuf::from(format!("/var/lib/postgresql/{version}/{name}")),
            version,
            name,
            port,
        };
        let path = format!("/etc/postgresql/{}/{}/postgresql.conf", c.version, c.name);
        let mut text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        text.push_str(conf);
        std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))?;
        c.ctl("start")?;
        Ok(c)
    }

    /// `pg_ctlcluster … start|stop`.
    pub fn ctl(&self, action: &str) -> Result<String, String> {
        run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &self.version,
            &self.name,
            action,
        ]))
    }

    /// What another thread needs to reach and stop this cluster.
    pub fn remote(&self) -> Remote {
        Remote {
            version: self.version.clone(),
            name: self.name.clone(),
            port: self.port,
        }
    }

    /// Stops the server at once (`-m immediate`), as a crash would.
    pub fn stop_now(&self) -> Result<String, String> {
        self.remote().stop_now()
    }

    /// Runs SQL as the superuser over the local socket.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        self.remote().psql(db, sql)
    }
}

/// A cluster's coordinates, without its ownership: sent to a thread that
/// watches or stops it while the test waits on something else.
#[derive(Clone)]
pub struct Remote {
    version: String,
    name: String,
    port: u16,
}

impl Remote {
    /// Stops the server at once (`-m immediate`), as a crash would.
    pub fn stop_now(&self) -> Result<String, String> {
        run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &self.version,
            &self.name,
            "stop",
            "-m",
            "immediate",
        ]))
    }

    /// Runs SQL as the superuser over the local socket, unaligned.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        run(Command::new("psql")
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "/var/run/postgresql",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ]))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run(Command::new("pg_dropcluster").args(["--stop", &self.version, &self.name]));
    }
}
