//! Helpers shared by the integration tests: running the real binary, talking HTTP to it, and throw-away network
//! namespaces. Traffic stays on loopback or inside namespaces a test creates itself.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The labboot binary cargo built for these tests.
pub fn labboot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_labboot"))
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Prints a loud SKIPPED line and returns true when not root.
pub fn skip_unless_root(test: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("\n*** SKIPPED: {test} needs root (network namespaces); CI runs it as root ***\n");
    true
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 GET; returns (status code, body).
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Polls `check` every 50 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Sends `sig` to a child and waits (bounded) for it to exit.
pub fn signal_and_wait(
    child: &mut Child,
    sig: nix::sys::signal::Signal,
    timeout: Duration,
) -> Option<i32> {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, sig).expect("signal child");
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait child") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the child on drop, so a failing test leaves no daemon behind.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example config with its paths moved into `data_dir`.
pub fn example_config(data_dir: &Path) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/labboot.example.toml"),
    )
    .expect("example config");
    text.replace(
        "\"/var/lib/labboot/tftp\"",
        &format!("{:?}", data_dir.join("tftp")),
    )
    .replace("\"/var/lib/labboot\"", &format!("{data_dir:?}"))
}

/// Runs a command, panicking with its output if it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two network namespaces joined by a veth pair: `srv` with `srv_if` = 10.99.0.1/24 and `cli` with `cli_if`
/// (10.99.0.2/24 when `cli_addr` is set, none otherwise). Deleted on drop.
pub struct NetnsPair {
    pub srv: String,
    pub cli: String,
}

impl NetnsPair {
    pub fn new(tag: &str, srv_if: &str, cli_if: &str, cli_addr: bool) -> NetnsPair {
        let id = format!("{}-{}", std::process::id(), tag);
        let pair = NetnsPair {
            srv: format!("lbs-{id}"),
            cli: format!("lbc-{id}"),
        };
        let ip = |args: &[&str]| {
            run(Command::new("ip").args(args));
        };
        ip(&["netns", "add", &pair.srv]);
        ip(&["netns", "add", &pair.cli]);
        ip(&[
            "link", "add", srv_if, "netns", &pair.srv, "type", "veth", "peer", "name", cli_if,
            "netns", &pair.cli,
        ]);
        ip(&[
            "-n",
            &pair.srv,
            "addr",
            "add",
            "10.99.0.1/24",
            "dev",
            srv_if,
        ]);
        ip(&["-n", &pair.srv, "link", "set", "lo", "up"]);
        ip(&["-n", &pair.srv, "link", "set", srv_if, "up"]);
        ip(&["-n", &pair.cli, "link", "set", "lo", "up"]);
        if cli_addr {
            ip(&[
                "-n",
                &pair.cli,
                "addr",
                "add",
                "10.99.0.2/24",
                "dev",
                cli_if,
            ]);
        }
        ip(&["-n", &pair.cli, "link", "set", cli_if, "up"]);
        pair
    }

    /// A command run inside the namespace `ns`.
    pub fn exec(ns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(program);
        c
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        for ns in [&self.srv, &self.cli] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A temporary directory for a test's data.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
