//! A MariaDB server of a test's own: a fresh data folder made by
//! `mariadb-install-db`, `mariadbd` started on a spare port with the options
//! the test needs (TLS, a plugin), stopped and removed when the value goes.
//! The machine's main server is never touched.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cluster::{free_port, run};

pub struct Instance {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Instance {
    /// Installs a data folder and starts `mariadbd` with `args` added; root
    /// logs in without a password over TCP and over the instance's socket.
    pub fn start(args: &[&str]) -> Result<Instance, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        // A folder of its own for temporary files: a starting server deletes
        // every `#sql*` file in its tmpdir, and in /tmp those would be the
        // machine's main server's, in use by other tests.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        run(Command::new("mariadb-install-db")
            .env("TMPDIR", &tmp)
            .args([
                "--no-defaults",
                &format!("--datadir={}", data.display()),
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]))?;
        let port = free_port();
        let child = Command::new("/usr/sbin/mariadbd")
            .env("TMPDIR", &tmp)
            .args([
                "--no-defaults".to_string(),
                format!("--datadir={}", data.display()),
                format!("--tmpdir={}", tmp.display()),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                format!("--socket={}", dir.path().join("sock").display()),
                format!("--pid-file={}", dir.path().join("pid").display()),
                format!("--log-error={}", dir.path().join("error.log").display()),
                "--user=root".into(),
                "--skip-log-bin".into(),
                // As Debian's packaged server is set up.
                "--character-set-server=utf8mb4".into(),
                "--collation-server=utf8mb4_general_ci".into(),
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("mariadbd: {e}"))?;
        let mut me = Instance { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ping = Command::new("mysqladmin")
                .args([
                    "-uroot",
                    &format!("--socket={}", me.dir.path().join("sock").display()),
                    "ping",
                ])
                .output();
            if ping.is_ok_and(|o| o.status.success()) {
                return Ok(me);
            }
            if let Ok(Some(status)) = me.child.try_wait() {
                let log =
                    std::fs::read_to_string(me.dir.path().join("error.log")).unwrap_or_default();
                return Err(format!("mariadbd exited ({status}): {log}"));
            }
            if Instant::now() > deadline {
                return Err("mariadbd did not answer within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A URL to `db` as `user` over TCP.
    pub fn url(&self, user: &str, db: &str) -> String {
        format!("mysql://{user}@127.0.0.1:{}/{db}", self.port)
    }

    /// A URL to `db` as `user` over the instance's socket (root@localhost
    /// logs in this way even with `--skip-name-resolve`).
    pub fn socket_url(&self, user: &str, db: &str) -> String {
        format!(
            "mysql://{user}@localhost/{db}?socket={}",
            self.dir.path().join("sock").display()
        )
    }

    /// Runs SQL as root through the `mysql` client, over the socket.
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        run(Command::new("mysql").args([
            "-uroot",
            &format!("--socket={}", self.dir.path().join("sock").display()),
            "-N",
            "-B",
            "-e",
            sql,
        ]))
    }
}

impl Instance {
    /// Stops the server at once (SIGKILL to its own process), as a crash
    /// or a pulled plug would.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A clean shutdown (SIGTERM), then the folder goes with `dir`.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a scratch MariaDB can be made here. (Found on PATH, not run:
/// `mariadb-install-db` without a data folder would act on the main one.)
pub fn available() -> bool {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    on_path("mariadb-install-db") && std::path::Path::new("/usr/sbin/mariadbd").exists()
}
