//! What the tests of the `productsmanager` binary share: running it with a clean environment, serving.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with a clean environment: no `PM_*` variable of the developer's leaks in.
pub fn productsmanager(vars: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_productsmanager"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PM_") {
            command.env_remove(key);
        }
    }
    command.env("PM_LOG", "warn");
    // The fakes (platforms, Amazon) listen on 127.0.0.1.
    command.env("PM_ALLOW_PRIVATE_NETWORK", "true");
    for (key, value) in vars {
        command.env(key, value);
    }
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn data_dir() -> (tempfile::TempDir, Vec<(&'static str, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![("PM_DATA_DIR", dir.path().display().to_string())];
    (dir, vars)
}

/// Starts `serve`, waits for its "listening on" line, and returns the child and the address.
pub fn start_server(vars: &[(&str, String)]) -> (std::process::Child, String) {
    let mut child = productsmanager(vars).arg("serve").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    // `serve` prints its URL as its first line on stdout.
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.split("http://").nth(1).map(|rest| rest.trim().to_string()));
    match url {
        Some(url) => (child, url),
        None => {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            let status = child.wait().unwrap();
            panic!("serve exited ({status}) without printing its URL: {stderr}");
        }
    }
}

pub fn stop_server(mut child: std::process::Child) {
    let terminated = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status} after SIGTERM");
            return;
        }
        assert!(Instant::now() < deadline, "serve did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
