//! The typed records kept in the store. Encoded compactly with postcard; a change to any of these types that is
//! not append-only at the end of a struct needs a new schema version and a migration step (`store::sled`).

use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{Arch, Firmware};
use crate::types::MacAddr;

/// Milliseconds since the Unix epoch. Wall-clock times in records use this.
pub type UnixMs = u64;

/// The current wall-clock time as [`UnixMs`].
pub fn now_ms() -> UnixMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Who owns a record: the config file (re-imported at every start, removed when no longer declared) or the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Config,
    Api,
}

/// One network interface of a machine. Indexed by MAC in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub mac: MacAddr,
    /// The machine it belongs to.
    pub machine: String,
    /// A static DHCP reservation.
    pub ip: Option<Ipv4Addr>,
}

/// A machine of the lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    pub name: String,
    pub arch: Arch,
    pub firmware: Firmware,
    /// The image it boots when `netboot` is on.
    pub image: Option<String>,
    pub netboot: bool,
    /// MAC + reservation of each NIC, in the order declared. The store keeps the MAC index in step with this.
    pub interfaces: Vec<MachineNic>,
    pub description: String,
    pub origin: Origin,
}

/// A NIC as listed inside a [`Machine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineNic {
    pub mac: MacAddr,
    pub ip: Option<Ipv4Addr>,
}

/// Where a BMC password comes from. Never part of a listing ([`BmcInfo`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BmcSecret {
    /// Read from this file when a session is opened (the config's `password_file`).
    File(PathBuf),
    /// Given through the API; kept in the store.
    Inline(String),
    None,
}

impl std::fmt::Debug for BmcSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BmcSecret::File(p) => write!(f, "File({})", p.display()),
            BmcSecret::Inline(_) => f.write_str("Inline(<redacted>)"),
            BmcSecret::None => f.write_str("None"),
        }
    }
}

/// A machine's BMC with its credentials. Keyed by machine name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bmc {
    pub machine: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub secret: BmcSecret,
}

/// A BMC as listings show it: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BmcInfo {
    pub machine: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Whether a password source is set.
    pub has_password: bool,
}

impl From<&Bmc> for BmcInfo {
    fn from(b: &Bmc) -> BmcInfo {
        BmcInfo {
            machine: b.machine.clone(),
            host: b.host.clone(),
            port: b.port,
            user: b.user.clone(),
            has_password: !matches!(b.secret, BmcSecret::None),
        }
    }
}

/// An OS image a machine can boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub name: String,
    pub arch: Arch,
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    pub cmdline: String,
    pub description: String,
    pub origin: Origin,
}

/// A person who reserves machines or administers labboot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// An argon2id PHC string (see [`crate::store::hash_password`]); never part of a listing.
    pub password_hash: Option<String>,
    pub admin: bool,
    pub ssh_keys: Vec<String>,
    pub created: UnixMs,
}

/// A user as listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub admin: bool,
    pub ssh_keys: Vec<String>,
    pub created: UnixMs,
    pub has_password: bool,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> UserInfo {
        UserInfo {
            name: u.name.clone(),
            admin: u.admin,
            ssh_keys: u.ssh_keys.clone(),
            created: u.created,
            has_password: u.password_hash.is_some(),
        }
    }
}

/// An API token. Only the SHA-256 of its secret is stored: the secret itself is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public identifier, the middle part of `lb_<id>_<secret>`.
    pub id: String,
    pub user: String,
    pub secret_sha256: [u8; 32],
    pub description: String,
    pub created: UnixMs,
    pub expires: Option<UnixMs>,
}

/// A token as listings show it: no hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    pub user: String,
    pub description: String,
    pub created: UnixMs,
    pub expires: Option<UnixMs>,
}

impl From<&ApiToken> for TokenInfo {
    fn from(t: &ApiToken) -> TokenInfo {
        TokenInfo {
            id: t.id.clone(),
            user: t.user.clone(),
            description: t.description.clone(),
            created: t.created,
            expires: t.expires,
        }
    }
}

/// A machine handed to a user for `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Assigned by the store on creation.
    pub id: u64,
    pub machine: String,
    pub user: String,
    pub start: UnixMs,
    pub end: UnixMs,
    pub note: String,
    pub created: UnixMs,
}

impl Reservation {
    pub fn overlaps(&self, other: &Reservation) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The state of an address in the lease table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeaseState {
    /// Offered or ACKed to the client until `expires`.
    Active,
    /// The client said the address is in use by someone else (DHCPDECLINE); quarantined until `expires`.
    Declined,
    /// The client gave it back; kept so the same client gets it again.
    Released,
}

/// A DHCP lease. Indexed by address and by MAC (and by client identifier when the client sent option 61).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    /// DHCP option 61, when the client sent one.
    pub client_id: Option<Vec<u8>>,
    pub hostname: Option<String>,
    pub state: LeaseState,
    pub starts: UnixMs,
    pub expires: UnixMs,
}

/// Something that happened to a machine: a DHCP decision, a file served, a power change, an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: UnixMs,
    pub machine: String,
    /// A short machine-readable kind: `dhcp.ack`, `tftp.sent`, `config.imported`, ...
    pub kind: String,
    pub message: String,
}
