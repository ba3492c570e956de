//! The configuration file as written: serde structs that mirror the TOML one to one, with
//! `deny_unknown_fields` everywhere. Values that need a careful error message (addresses, CIDRs, durations, MACs)
//! stay strings here and are parsed by `validate`, which knows the path of every value.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub data_dir: Option<PathBuf>,
    /// How long `serve` waits for services to drain after SIGINT/SIGTERM.
    pub shutdown_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    /// `10.99.0.1/24`; read from the OS when absent.
    pub address: Option<String>,
}

/// `[dhcp]` without its `subnet` array, which is deserialized element by element so that every subnet reports
/// its own errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcp {
    pub enabled: Option<bool>,
    pub socket: Option<String>,
    pub lease_time: Option<String>,
    /// How long an address a client DECLINEd stays out of the pool.
    pub decline_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    pub cidr: String,
    #[serde(default)]
    pub pools: Vec<String>,
    #[serde(default)]
    pub routers: Vec<String>,
    #[serde(default)]
    pub dns: Vec<String>,
    pub domain: Option<String>,
    pub lease_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tftp {
    pub enabled: Option<bool>,
    pub root: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub name: String,
    pub arch: String,
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    #[serde(default)]
    pub cmdline: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub name: String,
    pub arch: String,
    pub firmware: Option<String>,
    pub image: Option<String>,
    #[serde(default)]
    pub netboot: bool,
    #[serde(default)]
    pub interfaces: Vec<MachineInterface>,
    pub bmc: Option<Bmc>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineInterface {
    pub mac: String,
    pub ip: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bmc {
    pub host: String,
    pub port: Option<u16>,
    pub user: String,
    pub password_file: Option<PathBuf>,
}
