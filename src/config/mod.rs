//! Configuration: the TOML file (`raw`), parsed with serde and then validated into typed values before any socket
//! is bound. Every bad key or value is reported at once, each with its path (`dhcp.subnet[0].pools[1]`) and a
//! reason; `labboot` exits with code 64 when there is any.
//!
//! The contract: a [`Config`] that exists is consistent. Pools lie inside their subnets and do not overlap, MACs
//! and reserved addresses are unique, every referenced image is declared, every listed interface exists on the
//! host and has an IPv4 address. Things that may legitimately be missing at check time (a BMC password file, an
//! image's kernel not built yet) are [`Warning`]s, not errors.

pub mod host;
pub mod raw;
mod validate;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

pub use host::{FakeNetwork, HostInterface, HostNetwork, OsNetwork};

use crate::types::{Ipv4Range, MacAddr};

/// Where `labboot serve` looks for its configuration when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/labboot/labboot.toml";

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    /// The only interfaces labboot serves DHCP/TFTP/HTTP boot on.
    pub interfaces: Vec<InterfaceConfig>,
    pub dhcp: DhcpConfig,
    pub tftp: TftpConfig,
    pub http: HttpConfig,
    pub api: ApiConfig,
    pub images: Vec<ImageConfig>,
    pub machines: Vec<MachineConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub shutdown_timeout: Duration,
}

/// Where an interface's address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    Config,
    Os,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceConfig {
    pub name: String,
    /// The interface's own address and prefix (`10.99.0.1/24`).
    pub address: Ipv4Net,
    pub address_source: AddressSource,
}

/// How the DHCP server receives and sends: `raw` AF_PACKET frames, or a UDP socket bound to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DhcpSocket {
    Raw,
    Udp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DhcpConfig {
    pub enabled: bool,
    pub socket: DhcpSocket,
    pub lease_time: Duration,
    pub decline_time: Duration,
    pub subnets: Vec<SubnetConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubnetConfig {
    pub cidr: Ipv4Net,
    pub pools: Vec<Ipv4Range>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub domain: Option<String>,
    pub lease_time: Duration,
    /// The configured interface whose address lies in this subnet, if any. A subnet with none is served only
    /// through relay agents (giaddr).
    pub interface: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TftpConfig {
    pub enabled: bool,
    pub root: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Plain HTTP for firmware and bootloaders; `None` disables it.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub listen: SocketAddr,
}

/// CPU architecture of a machine or image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "x86_64" | "amd64" | "x64" => Some(Arch::X86_64),
            "arm64" | "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        })
    }
}

/// What a machine's firmware boots with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Firmware {
    Uefi,
    Bios,
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Firmware::Uefi => "uefi",
            Firmware::Bios => "bios",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    pub name: String,
    pub arch: Arch,
    /// Relative paths are relative to `server.data_dir`; already joined here.
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    pub cmdline: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MachineConfig {
    pub name: String,
    pub arch: Arch,
    pub firmware: Firmware,
    pub image: Option<String>,
    pub netboot: bool,
    pub interfaces: Vec<MachineInterfaceConfig>,
    pub bmc: Option<BmcConfig>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MachineInterfaceConfig {
    pub mac: MacAddr,
    /// A static DHCP reservation.
    pub ip: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BmcConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password_file: Option<PathBuf>,
}

/// One problem with the configuration: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending key (`machine[1].interfaces[0].mac`); the file name for read and syntax errors.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Everything wrong with a configuration file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "{}: {n} error{} in configuration",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// Something in the configuration that works but deserves a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A validated configuration and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// Reads and validates the file at `path` against the host's real interfaces.
pub fn load(path: &Path) -> Result<Loaded, ConfigErrors> {
    load_with(path, &OsNetwork)
}

/// Reads and validates the file at `path` against `host`.
pub fn load_with(path: &Path, host: &dyn HostNetwork) -> Result<Loaded, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
        file: path.to_path_buf(),
        errors: vec![ConfigError {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse(&text, host).map_err(|errors| ConfigErrors {
        file: path.to_path_buf(),
        errors,
    })
}

/// Parses and validates configuration text against `host`.
pub fn parse(text: &str, host: &dyn HostNetwork) -> Result<Loaded, Vec<ConfigError>> {
    validate::validate(text, host)
}

impl Config {
    /// Where the store lives inside the data directory.
    pub fn store_path(&self) -> PathBuf {
        self.server.data_dir.join("store")
    }

    /// A human summary, as printed by `labboot check-config`.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let d = crate::types::format_duration;
        let _ = writeln!(s, "data_dir    {}", self.server.data_dir.display());
        if self.interfaces.is_empty() {
            let _ = writeln!(
                s,
                "interfaces  none (no DHCP/TFTP/HTTP boot service is served on any interface)"
            );
        }
        for i in &self.interfaces {
            let src = match i.address_source {
                AddressSource::Config => "from config",
                AddressSource::Os => "from the OS",
            };
            let _ = writeln!(s, "interface   {} {} ({src})", i.name, i.address);
        }
        if self.dhcp.enabled {
            let names: Vec<&str> = self.interfaces.iter().map(|i| i.name.as_str()).collect();
            let _ = writeln!(
                s,
                "dhcp        {} sockets on {}; lease {}, decline quarantine {}; {} subnet(s)",
                match self.dhcp.socket {
                    DhcpSocket::Raw => "raw",
                    DhcpSocket::Udp => "udp",
                },
                names.join(", "),
                d(self.dhcp.lease_time),
                d(self.dhcp.decline_time),
                self.dhcp.subnets.len()
            );
        } else {
            let _ = writeln!(s, "dhcp        disabled");
        }
        for sn in &self.dhcp.subnets {
            let pools: Vec<String> = sn.pools.iter().map(|p| p.to_string()).collect();
            let size: u64 = sn.pools.iter().map(|p| p.len()).sum();
            let via = sn
                .interface
                .as_deref()
                .map_or("relay only".to_string(), |i| format!("on {i}"));
            let _ = writeln!(
                s,
                "  subnet    {} {via}: pools {} ({size} addresses), routers {:?}, dns {:?}, domain {}, lease {}",
                sn.cidr,
                if pools.is_empty() {
                    "none (reservations only)".to_string()
                } else {
                    pools.join(", ")
                },
                sn.routers,
                sn.dns,
                sn.domain.as_deref().unwrap_or("-"),
                d(sn.lease_time)
            );
        }
        if self.tftp.enabled {
            let _ = writeln!(s, "tftp        root {}", self.tftp.root.display());
        } else {
            let _ = writeln!(s, "tftp        disabled");
        }
        match self.http.listen {
            Some(a) => {
                let _ = writeln!(s, "http        {a}");
            }
            None => {
                let _ = writeln!(s, "http        disabled");
            }
        }
        let _ = writeln!(s, "api         {}", self.api.listen);
        let _ = writeln!(s, "images      {}", self.images.len());
        for i in &self.images {
            let _ = writeln!(
                s,
                "  image     {} ({}) kernel {}",
                i.name,
                i.arch,
                i.kernel.display()
            );
        }
        let _ = writeln!(s, "machines    {}", self.machines.len());
        for m in &self.machines {
            let macs: Vec<String> = m
                .interfaces
                .iter()
                .map(|i| match i.ip {
                    Some(ip) => format!("{} = {ip}", i.mac),
                    None => i.mac.to_string(),
                })
                .collect();
            let bmc = m.bmc.as_ref().map_or("no bmc".to_string(), |b| {
                format!("bmc {}:{}", b.host, b.port)
            });
            let _ = writeln!(
                s,
                "  machine   {} ({} {}) image {} netboot {} [{}] {bmc}",
                m.name,
                m.arch,
                m.firmware,
                m.image.as_deref().unwrap_or("-"),
                if m.netboot { "on" } else { "off" },
                macs.join(", ")
            );
        }
        s
    }
}
