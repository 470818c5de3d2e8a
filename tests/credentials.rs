//! Credentials against a PostgreSQL that really checks them: a cluster of
//! the test's own on a spare port with `scram-sha-256` for TCP logins (the
//! machine's main cluster trusts every local login). A wrong password, a
//! bad host, a failed TLS handshake and a server that went away each give
//! one line that names the problem, and the secret appears nowhere: not on
//! stdout, not on stderr, not in keyhole's log.

mod common;

use std::path::Path;
use std::process::Command;

use common::cluster::Cluster;

const SECRET: &str = "Kh-s3cret-Pa55";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    log: String,
}

fn keyhole(home: &Path, url: &str, password: &str) -> Run {
    std::fs::write(
        home.join("keyhole.toml"),
        format!(
            "url = \"{url}\"\npassword_env = \"KH_PW\"\npolicy = \"{}/assets/demo-policy.toml\"\nconnect_timeout_s = 5\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_keyhole"))
        .arg("check")
        .current_dir(home)
        .env_remove("DATABASE_URL")
        .env_remove("KEYHOLE_CONFIG")
        .env_remove("PGPASSWORD")
        .env_remove("RUST_BACKTRACE")
        .env("KH_PW", password)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        log: std::fs::read_to_string(home.join("state/keyhole/keyhole.log")).unwrap_or_default(),
    }
}

/// One line on stderr, exit 1, naming `what`, and the secret nowhere.
fn fails_in_one_line(r: &Run, what: &str) {
    eprintln!("stderr: {}", r.stderr.trim());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains(what), "want {what:?} in {}", r.stderr);
    for (name, text) in [
        ("stdout", &r.stdout),
        ("stderr", &r.stderr),
        ("log", &r.log),
    ] {
        assert!(!text.contains(SECRET), "the password is in {name}: {text}");
    }
}

#[test]
fn credentials_fail_in_one_line_without_the_secret() {
    if !common::cluster::usable() {
        return;
    }
    let c = Cluster::start(
        "scram",
        &["--auth-host=scram-sha-256", "--auth-local=trust"],
        "\nlisten_addresses = '127.0.0.1'\npassword_encryption = 'scram-sha-256'\n",
    )
    .unwrap();
    c.psql(
        "postgres",
        &format!("CREATE ROLE kh_auditor LOGIN PASSWORD '{SECRET}'"),
    )
    .unwrap();
    c.psql("postgres", "CREATE DATABASE shop").unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://kh_auditor@127.0.0.1:{}/shop?sslmode=disable",
        c.port
    );

    // The right password gets past the login: what fails is the empty schema.
    let r = keyhole(home.path(), &url, SECRET);
    assert!(
        !r.stderr.contains("password authentication failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("ok    connected: postgres"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    for (name, text) in [
        ("stdout", &r.stdout),
        ("stderr", &r.stderr),
        ("log", &r.log),
    ] {
        assert!(!text.contains(SECRET), "the password is in {name}: {text}");
    }

    // A wrong password is refused by the server.
    let wrong = format!("{SECRET}-but-wrong");
    let r = keyhole(home.path(), &url, &wrong);
    fails_in_one_line(&r, "password authentication failed for user \"kh_auditor\"");
    assert!(
        !r.stderr.contains(&wrong) && !r.log.contains(&wrong),
        "{}",
        r.stderr
    );

    // A host that does not resolve.
    let r = keyhole(
        home.path(),
        &format!("postgres://kh_auditor@no-such-host.invalid:{}/shop", c.port),
        SECRET,
    );
    fails_in_one_line(&r, "cannot connect");
    assert!(r.stderr.contains("no-such-host.invalid"), "{}", r.stderr);

    // TLS that cannot be verified: the cluster's certificate is self-signed.
    let r = keyhole(
        home.path(),
        &format!(
            "postgres://kh_auditor@127.0.0.1:{}/shop?sslmode=verify-full",
            c.port
        ),
        SECRET,
    );
    fails_in_one_line(&r, "cannot connect");
    let tls = r.stderr.to_lowercase();
    assert!(
        tls.contains("tls") || tls.contains("ssl") || tls.contains("certificate"),
        "{}",
        r.stderr
    );

    // The server went away.
    c.ctl("stop").unwrap();
    let r = keyhole(home.path(), &url, SECRET);
    fails_in_one_line(&r, "cannot connect");
    assert!(r.stderr.to_lowercase().contains("refused"), "{}", r.stderr);
}
