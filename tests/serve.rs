//! The real binary: `--version`, `check-config`, and `serve` started, probed over HTTP, stopped by signal.

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use labboot::store::{SledStore, Store};
use nix::sys::signal::Signal;

#[test]
fn version_prints_the_package_version() {
    let out = run(labboot().arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("labboot {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_prints_a_summary_of_a_valid_file() {
    let dir = tempdir();
    let path = dir.path().join("labboot.toml");
    // On this host eth1 may not exist: serve on lo instead, with the rest of the example.
    let text = example_config(dir.path())
        .replace("name = \"eth1\"", "name = \"lo\"")
        .replace("10.99.0.1:8080", "127.0.0.1:8080");
    std::fs::write(
        &path,
        text.replace(
            "cidr = \"10.99.0.0/24\"",
            "cidr = \"10.99.0.0/24\"\nlease_time = \"2h\"",
        ),
    )
    .unwrap();
    let out = run(labboot().args(["check-config", "--config"]).arg(&path));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    assert!(
        stdout.contains("interface   lo 127.0.0.1/8 (from the OS)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("machine   node1 (x86_64 uefi) image debian-test netboot on"),
        "{stdout}"
    );
    assert!(stdout.contains("lease 2h"), "{stdout}");
    assert!(
        stdout.contains("warnings:") && stdout.contains("machine[0].bmc.password_file"),
        "{stdout}"
    );
}

#[test]
fn check_config_reports_every_error_and_exits_64() {
    let dir = tempdir();
    let path = dir.path().join("labboot.toml");
    let text = example_config(dir.path())
        .replace("name = \"eth1\"", "name = \"labboot-none0\"")
        .replace("10.99.0.100-10.99.0.200", "10.99.1.5-10.99.0.9")
        .replace("mac = \"52:54:00:12:34:56\"", "mac = \"52:54:00:12:34\"");
    std::fs::write(&path, text).unwrap();
    let out = labboot()
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "3 errors in configuration",
        "interface[0].name: no interface \"labboot-none0\" on this host",
        "dhcp.subnet[0].pools[0]: 10.99.1.5-10.99.0.9 starts after it ends",
        "machine[0].interfaces[0].mac: \"52:54:00:12:34\" is not a MAC address",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

/// A config that serves plain HTTP on loopback and no DHCP: safe to run anywhere.
fn loopback_config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("labboot.toml");
    let text = format!(
        r#"
[server]
data_dir = {data:?}
shutdown_timeout = "5s"

[http]
listen = "127.0.0.1:{port}"

[[image]]
name = "img"
arch = "x86_64"
kernel = "images/vmlinuz"

[[machine]]
name = "node7"
arch = "x86_64"
image = "img"
netboot = true
interfaces = [ {{ mac = "52:54:00:00:00:07" }} ]
"#,
        data = dir.join("data")
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts `labboot serve` on `config` and waits until `addr` answers `/healthz`.
fn start_and_wait(config: &std::path::Path, addr: SocketAddr) -> Daemon {
    let d = Daemon(
        labboot()
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_until(Duration::from_secs(20), || http_get(addr, "/healthz")
            .is_ok_and(|(s, _)| s == 200)),
        "labboot did not answer /healthz on {addr}"
    );
    d
}

#[test]
fn serve_comes_up_answers_health_and_stops_cleanly_on_sigterm_and_sigint() {
    let dir = tempdir();
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        let port = free_port();
        let config = loopback_config(dir.path(), port);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut d = start_and_wait(&config, addr);
        let (_, body) = http_get(addr, "/healthz").unwrap();
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["machines"], 1);
        assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
        let (code, version) = http_get(addr, "/version").unwrap();
        assert_eq!(
            (code, version.trim()),
            (
                200,
                format!("labboot {}", env!("CARGO_PKG_VERSION")).as_str()
            )
        );
        assert_eq!(
            signal_and_wait(&mut d.0, sig, Duration::from_secs(10)),
            Some(0),
            "exit after {sig}"
        );
        assert!(
            http_get(addr, "/healthz").is_err(),
            "still listening after {sig}"
        );
    }
    // The declared inventory was imported and is on disk.
    let store = SledStore::open(&dir.path().join("data/store")).unwrap();
    let m = store.machine("node7").unwrap().expect("node7 imported");
    assert_eq!(m.interfaces[0].mac.to_string(), "52:54:00:00:00:07");
    assert_eq!(
        store.events("node7", 10).unwrap()[0].kind,
        "config.imported"
    );
}

#[test]
fn serve_with_a_bad_config_exits_64_before_binding_anything() {
    let dir = tempdir();
    let port = free_port();
    let config = loopback_config(dir.path(), port);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("image = \"img\"", "image = \"missing\"");
    std::fs::write(&config, text).unwrap();
    let out = labboot()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("machine[0].image"));
    assert!(
        !dir.path().join("data").exists(),
        "a rejected config must not create the data dir"
    );
}

#[test]
fn a_second_daemon_on_the_same_data_dir_fails_clearly() {
    let dir = tempdir();
    let port = free_port();
    let config = loopback_config(dir.path(), port);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut first = start_and_wait(&config, addr);
    let second = labboot()
        .args(["-q", "serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("cannot open store"), "{stderr}");
    assert_eq!(
        signal_and_wait(&mut first.0, Signal::SIGTERM, Duration::from_secs(10)),
        Some(0)
    );
}

#[test]
fn serve_on_the_example_config_in_a_network_namespace() {
    if skip_unless_root("serve_on_the_example_config_in_a_network_namespace") {
        return;
    }
    let dir = tempdir();
    let config = dir.path().join("labboot.toml");
    std::fs::write(&config, example_config(dir.path())).unwrap();
    let lab = NetnsPair::new("serve", "eth1", "eth0", true);
    let mut d = Daemon(
        NetnsPair::exec(&lab.srv, env!("CARGO_BIN_EXE_labboot"))
            .args(["serve", "--config"])
            .arg(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // A real client (curl) on the other side of the veth reaches labboot's HTTP service.
    let curl = || {
        NetnsPair::exec(&lab.cli, "curl")
            .args(["-sf", "--max-time", "2", "http://10.99.0.1:8080/healthz"])
            .output()
            .unwrap()
    };
    assert!(
        wait_until(Duration::from_secs(20), || curl().status.success()),
        "no answer from 10.99.0.1:8080"
    );
    let health: serde_json::Value = serde_json::from_slice(&curl().stdout).unwrap();
    assert_eq!(
        (health["status"].as_str(), health["machines"].as_u64()),
        (Some("ok"), Some(1))
    );
    assert_eq!(
        signal_and_wait(&mut d.0, Signal::SIGTERM, Duration::from_secs(10)),
        Some(0)
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(d.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("labboot ready"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

#[test]
fn a_client_stuck_mid_request_does_not_hold_up_shutdown() {
    let dir = tempdir();
    let port = free_port();
    let config = loopback_config(dir.path(), port);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("shutdown_timeout = \"5s\"", "shutdown_timeout = \"1s\"");
    std::fs::write(&config, text).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut d = start_and_wait(&config, addr);
    // Half a request: the headers never end.
    let mut stuck = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stuck, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = std::time::Instant::now();
    assert_eq!(
        signal_and_wait(&mut d.0, Signal::SIGTERM, Duration::from_secs(10)),
        Some(0)
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "drain took {:?} with shutdown_timeout 1s",
        t.elapsed()
    );
}
