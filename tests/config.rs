//! Configuration validation: the shipped example validates; every class of error is reported with its path; all
//! errors of a file are reported at once.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use labboot::config::{self, AddressSource, ConfigError, DhcpSocket, FakeNetwork, Firmware};

const EXAMPLE: &str = include_str!("../docs/labboot.example.toml");

/// The host of the example: eth1 carries 10.99.0.1/24.
fn lab_host() -> FakeNetwork {
    FakeNetwork::with(&[
        ("lo", &["127.0.0.1/8"]),
        ("eth1", &["10.99.0.1/24"]),
        ("eth2", &[]),
    ])
}

fn errors(text: &str) -> Vec<ConfigError> {
    match config::parse(text, &lab_host()) {
        Ok(_) => panic!("config was accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts an error exists at exactly `path` whose message contains `needle`.
#[track_caller]
fn assert_error(errs: &[ConfigError], path: &str, needle: &str) {
    assert!(
        errs.iter()
            .any(|e| e.path == path && e.message.contains(needle)),
        "no error at {path} containing {needle:?}; got:\n{}",
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The example with `old` replaced by `new` (which must occur).
fn example_with(old: &str, new: &str) -> String {
    assert!(EXAMPLE.contains(old), "example does not contain {old:?}");
    EXAMPLE.replacen(old, new, 1)
}

#[test]
fn the_example_validates_into_typed_values() {
    let loaded = config::parse(EXAMPLE, &lab_host()).unwrap_or_else(|e| panic!("{e:?}"));
    let c = &loaded.config;
    assert_eq!(c.server.data_dir, Path::new("/var/lib/labboot"));
    assert_eq!(c.interfaces.len(), 1);
    assert_eq!(c.interfaces[0].address, "10.99.0.1/24".parse().unwrap());
    assert_eq!(c.interfaces[0].address_source, AddressSource::Os);
    assert!(c.dhcp.enabled);
    assert_eq!(c.dhcp.socket, DhcpSocket::Raw);
    assert_eq!(c.dhcp.lease_time, Duration::from_secs(3600));
    let sn = &c.dhcp.subnets[0];
    assert_eq!(sn.pools[0].len(), 101);
    assert_eq!(sn.routers, vec![Ipv4Addr::new(10, 99, 0, 1)]);
    assert_eq!(sn.interface.as_deref(), Some("eth1"));
    assert_eq!(
        c.images[0].kernel,
        Path::new("/var/lib/labboot/images/vmlinuz")
    );
    let m = &c.machines[0];
    assert_eq!(
        (m.name.as_str(), m.firmware, m.netboot),
        ("node1", Firmware::Uefi, true)
    );
    assert_eq!(m.interfaces[0].mac.to_string(), "52:54:00:12:34:56");
    assert_eq!(m.interfaces[0].ip, Some(Ipv4Addr::new(10, 99, 0, 50)));
    assert_eq!(m.bmc.as_ref().unwrap().port, 623);
    assert!(c.summary().contains("node1"));
    // The password file and the image files do not exist on a test host: warnings, not errors.
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.path == "machine[0].bmc.password_file")
    );
    assert!(loaded.warnings.iter().any(|w| w.path == "image[0].kernel"));
}

#[test]
fn the_example_file_validates_with_the_real_loader() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/labboot.example.toml");
    let loaded = config::load_with(&path, &lab_host()).expect("example validates");
    assert_eq!(loaded.config.machines.len(), 1);
}

#[test]
fn unknown_keys_are_reported_with_their_path() {
    let errs = errors(&example_with(
        "lease_time = \"1h\"",
        "lease_time = \"1h\"\nleasetime = \"2h\"",
    ));
    assert_error(&errs, "dhcp.leasetime", "unknown field `leasetime`");
    let errs = errors(&example_with(
        "netboot = true",
        "netboot = true\nnet_boot = true",
    ));
    assert_error(&errs, "machine[0].net_boot", "unknown field `net_boot`");
    let errs = errors(&example_with("port = 623,", "port = 623, prot = 1,"));
    assert_error(&errs, "machine[0].bmc.prot", "unknown field `prot`");
    let errs = errors(&format!("{EXAMPLE}\n[dchp]\nenabled = true\n"));
    assert_error(&errs, "dchp", "unknown key");
}

#[test]
fn bad_values_are_reported_with_their_path() {
    let errs = errors(&example_with("port = 623", "port = \"x\""));
    assert_error(&errs, "machine[0].bmc.port", "invalid type");
    let errs = errors(&example_with(
        "lease_time = \"1h\"",
        "lease_time = \"3600\"",
    ));
    assert_error(&errs, "dhcp.lease_time", "not a duration");
    let errs = errors(&example_with("socket = \"raw\"", "socket = \"tcp\""));
    assert_error(&errs, "dhcp.socket", "\"raw\" or \"udp\"");
    let errs = errors(&example_with("10.99.0.1:8080", "10.99.0.1"));
    assert_error(&errs, "http.listen", "not an address:port");
    let errs = errors(&example_with(
        "firmware = \"uefi\"",
        "firmware = \"coreboot\"",
    ));
    assert_error(&errs, "machine[0].firmware", "uefi or bios");
}

#[test]
fn bad_cidr() {
    let errs = errors(&example_with(
        "cidr = \"10.99.0.0/24\"",
        "cidr = \"10.99.0.0/33\"",
    ));
    assert_error(&errs, "dhcp.subnet[0].cidr", "not a CIDR block");
    let errs = errors(&example_with(
        "cidr = \"10.99.0.0/24\"",
        "cidr = \"10.99.0.7/24\"",
    ));
    assert_error(&errs, "dhcp.subnet[0].cidr", "did you mean 10.99.0.0/24");
}

#[test]
fn pool_outside_subnet() {
    let errs = errors(&example_with(
        "pools = [\"10.99.0.100-10.99.0.200\"]",
        "pools = [\"10.99.0.100-10.99.0.200\", \"10.99.1.5-10.99.0.9\"]",
    ));
    assert_error(&errs, "dhcp.subnet[0].pools[1]", "starts after it ends");
    let errs = errors(&example_with(
        "pools = [\"10.99.0.100-10.99.0.200\"]",
        "pools = [\"10.99.0.100-10.99.0.200\", \"10.99.0.250-10.99.1.9\"]",
    ));
    assert_error(
        &errs,
        "dhcp.subnet[0].pools[1]",
        "10.99.0.250-10.99.1.9 is not inside 10.99.0.0/24",
    );
    let errs = errors(&example_with(
        "pools = [\"10.99.0.100-10.99.0.200\"]",
        "pools = [\"10.99.0.0-10.99.0.20\"]",
    ));
    assert_error(&errs, "dhcp.subnet[0].pools[0]", "network or broadcast");
    let errs = errors(&example_with(
        "pools = [\"10.99.0.100-10.99.0.200\"]",
        "pools = [\"10.99.0.1-10.99.0.20\"]",
    ));
    assert_error(
        &errs,
        "dhcp.subnet[0].pools[0]",
        "address of interface eth1",
    );
}

#[test]
fn overlapping_pools_within_and_across_subnets() {
    let errs = errors(&example_with(
        "pools = [\"10.99.0.100-10.99.0.200\"]",
        "pools = [\"10.99.0.100-10.99.0.200\", \"10.99.0.150-10.99.0.250\"]",
    ));
    assert_error(
        &errs,
        "dhcp.subnet[0].pools[1]",
        "overlaps dhcp.subnet[0].pools[0]",
    );
    let errs = errors(&example_with(
        "[tftp]",
        "[[dhcp.subnet]]\ncidr = \"10.99.0.128/25\"\npools = [\"10.99.0.190-10.99.0.199\"]\n\n[tftp]",
    ));
    assert_error(&errs, "dhcp.subnet[1].cidr", "overlaps dhcp.subnet[0].cidr");
    assert_error(
        &errs,
        "dhcp.subnet[1].pools[0]",
        "overlaps dhcp.subnet[0].pools[0]",
    );
}

#[test]
fn duplicate_mac_across_machines() {
    let second = "\n[[machine]]\nname = \"node2\"\narch = \"x86_64\"\n\
                  interfaces = [ { mac = \"52-54-00-12-34-56\" } ]\n";
    let errs = errors(&format!("{EXAMPLE}{second}"));
    assert_error(
        &errs,
        "machine[1].interfaces[0].mac",
        "already used by machine[0].interfaces[0] (node1)",
    );
    let errs = errors(&example_with(
        "mac = \"52:54:00:12:34:56\"",
        "mac = \"52:54:00:12:34\"",
    ));
    assert_error(&errs, "machine[0].interfaces[0].mac", "not a MAC address");
}

#[test]
fn image_referenced_but_not_declared() {
    let errs = errors(&example_with(
        "image = \"debian-test\"",
        "image = \"ubuntu-noble\"",
    ));
    assert_error(
        &errs,
        "machine[0].image",
        "image \"ubuntu-noble\" is not declared",
    );
    let errs = errors(&example_with("image = \"debian-test\"\n", ""));
    assert_error(&errs, "machine[0].netboot", "no image");
}

#[test]
fn interface_not_present_on_the_host() {
    let errs = errors(&example_with("name = \"eth1\"", "name = \"eth9\""));
    assert_error(
        &errs,
        "interface[0].name",
        "no interface \"eth9\" on this host",
    );
    let errs = errors(&example_with("name = \"eth1\"", "name = \"eth2\""));
    assert_error(&errs, "interface[0].name", "has no IPv4 address");
    // With the real OS: this host surely has no such interface.
    let errs = config::parse(
        &example_with("name = \"eth1\"", "name = \"labboot-none0\""),
        &config::OsNetwork,
    )
    .expect_err("interface missing on the real host");
    assert_error(
        &errs,
        "interface[0].name",
        "no interface \"labboot-none0\" on this host",
    );
}

#[test]
fn reservations_must_be_usable_addresses() {
    let errs = errors(&example_with("ip = \"10.99.0.50\"", "ip = \"10.98.0.50\""));
    assert_error(
        &errs,
        "machine[0].interfaces[0].ip",
        "not inside any dhcp.subnet",
    );
    let errs = errors(&example_with("ip = \"10.99.0.50\"", "ip = \"10.99.0.1\""));
    assert_error(
        &errs,
        "machine[0].interfaces[0].ip",
        "address of labboot's interface eth1",
    );
    let second = "\n[[machine]]\nname = \"node2\"\narch = \"x86_64\"\n\
                  interfaces = [ { mac = \"52:54:00:00:00:02\", ip = \"10.99.0.50\" } ]\n";
    let errs = errors(&format!("{EXAMPLE}{second}"));
    assert_error(
        &errs,
        "machine[1].interfaces[0].ip",
        "already reserved for machine[0].interfaces[0] (node1)",
    );
}

#[test]
fn dhcp_is_never_served_without_a_listed_interface() {
    let text = example_with(
        "[[interface]]                          # labboot",
        "# [[interface]]",
    )
    .replacen("name = \"eth1\"", "", 1);
    let errs = errors(&text);
    assert_error(&errs, "dhcp.enabled", "no [[interface]] is listed");
    // Without a [dhcp] section DHCP is off.
    let minimal = "[server]\ndata_dir = \"/tmp/x\"\n";
    let loaded = config::parse(minimal, &lab_host()).unwrap();
    assert!(!loaded.config.dhcp.enabled);
    assert!(loaded.config.interfaces.is_empty());
}

#[test]
fn several_errors_in_one_file_are_all_reported() {
    let text = EXAMPLE
        .replacen(
            "cidr = \"10.99.0.0/24\"",
            "cidr = \"10.99.0.0/24\"\nbogus = 1",
            1,
        )
        .replacen("name = \"eth1\"", "name = \"eth9\"", 1)
        .replacen("image = \"debian-test\"", "image = \"nope\"", 1)
        .replacen("arch = \"x86_64\"\nkernel", "arch = \"sparc\"\nkernel", 1)
        .replacen("lease_time = \"1h\"", "lease_time = \"soon\"", 1);
    let errs = errors(&text);
    assert_error(&errs, "dhcp.subnet[0].bogus", "unknown field `bogus`");
    assert_error(&errs, "interface[0].name", "eth9");
    assert_error(&errs, "machine[0].image", "\"nope\"");
    assert_error(&errs, "image[0].arch", "sparc");
    assert_error(&errs, "dhcp.lease_time", "soon");
    // A subnet or image that failed to parse does not cascade into errors about what refers to it.
    assert_eq!(errs.len(), 5, "{errs:?}");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let errs = errors("[server]\ndata_dir = \"/x\"\nthis is not toml\n");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].path.starts_with("line 3"), "{errs:?}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let e = config::load_with(Path::new("/nonexistent/labboot.toml"), &lab_host()).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}

/// Bad input never panics: thousands of random mutations of the example (bytes deleted, duplicated, replaced)
/// either validate or give errors, each with a path and a message.
#[test]
fn mutated_configs_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let alphabet = b"[]{}=\",.-:/0123456789abcdefxyz _\n#\\";
    for _ in 0..3000 {
        let mut bytes = EXAMPLE.as_bytes().to_vec();
        for _ in 0..1 + next(4) {
            let at = next(bytes.len());
            match next(3) {
                0 => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, alphabet[next(alphabet.len())]),
                _ => bytes[at] = alphabet[next(alphabet.len())],
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(errs) = config::parse(&text, &lab_host()) {
            assert!(!errs.is_empty());
            assert!(
                errs.iter()
                    .all(|e| !e.path.is_empty() && !e.message.is_empty()),
                "{errs:?}"
            );
        }
    }
}
