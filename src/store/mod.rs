//! labboot's state: machines, interfaces (indexed by MAC), BMCs, images, users, API tokens, reservations, DHCP
//! leases (by address, by MAC, by client identifier) and per-machine events in time order.
//!
//! [`Store`] is the trait every other module uses; [`SledStore`] implements it on sled 0.34. The contract:
//!
//! - **Atomic.** Every method that touches several keys (a machine and its MAC index entries, a lease and its
//!   indexes, a reservation and its per-machine index) applies all of them or none.
//! - **Durable where it matters.** Methods documented *durable* return only after the change is on disk (a flush,
//!   shared between concurrent callers by group commit). These are: `put_machine`, `delete_machine`, `put_bmc`,
//!   `delete_bmc`, `put_image`, `delete_image`, `put_user`, `delete_user`, `put_token`, `delete_token`,
//!   `create_reservation`, `delete_reservation`, `put_lease`, `delete_lease`, and `import` as a whole.
//!   `record_event` is *not* durable: events reach disk with the next flush (at most `FLUSH_EVERY_MS` later, or
//!   with any durable write). A crash can lose the last events, never a lease that was ACKed.
//! - **Secrets stay in.** Listings return [`BmcInfo`], [`UserInfo`] and [`TokenInfo`], which carry no password,
//!   password hash or token hash. Token secrets are never stored, only their SHA-256.
//! - **Versioned.** A schema version is written at creation; a store written by a newer labboot is refused with
//!   [`StoreError::SchemaTooNew`] rather than misread.
//!
//! All methods block (sled is synchronous; durable ones wait for a flush). Async callers use `spawn_blocking`.

mod commit;
pub mod records;
mod secrets;
mod sleddb;

use std::net::Ipv4Addr;

pub use records::*;
pub use secrets::{NewToken, hash_password, new_token, parse_token, verify_password};
pub use sleddb::{FLUSH_EVERY_MS, Migration, SCHEMA_VERSION, SledStore};

use crate::types::MacAddr;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "store schema version {found} is newer than this labboot supports ({supported}); refusing to open it \
         (run a newer labboot, or restore a backup)"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("store holds data but no schema version: it was not written by labboot")]
    NoSchemaVersion,
    #[error("no migration from store schema version {from}")]
    NoMigration { from: u32 },
    #[error("store backend: {0}")]
    Backend(String),
    #[error("corrupt record in {tree} at key {key}: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("flushing the store to disk failed: {0}")]
    Flush(String),
    #[error("MAC {mac} already belongs to machine {machine}")]
    MacInUse { mac: MacAddr, machine: String },
    #[error("no machine named {0}")]
    NoSuchMachine(String),
    #[error("{0:?} is not a usable name (empty, or contains NUL)")]
    InvalidName(String),
    #[error("no user named {0}")]
    NoSuchUser(String),
    #[error("reservation must end after it starts")]
    EmptyReservation,
    #[error("machine {machine} is already reserved by {user} at that time (reservation {id})")]
    ReservationConflict {
        id: u64,
        machine: String,
        user: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What an [`Store::import`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub machines_added: Vec<String>,
    pub machines_updated: Vec<String>,
    pub machines_removed: Vec<String>,
    pub images_added: Vec<String>,
    pub images_updated: Vec<String>,
    pub images_removed: Vec<String>,
    /// MACs taken away from API-created machines because the config now declares them elsewhere.
    pub macs_reassigned: Vec<(MacAddr, String)>,
}

/// The declared inventory handed to [`Store::import`]: records with [`Origin::Config`].
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    pub images: Vec<Image>,
    pub machines: Vec<Machine>,
    /// BMCs by machine; a declared machine without one has its BMC removed.
    pub bmcs: Vec<Bmc>,
}

/// The store every module talks to. Object safe: passed around as `Arc<dyn Store>`.
pub trait Store: Send + Sync {
    // Machines and their MAC index.
    /// Creates or replaces a machine and keeps the MAC index in step. Fails with [`StoreError::MacInUse`] if a MAC
    /// belongs to another machine. Durable.
    fn put_machine(&self, machine: &Machine) -> Result<()>;
    fn machine(&self, name: &str) -> Result<Option<Machine>>;
    /// Removes a machine, its MAC index entries and its BMC. Durable. False if there was none.
    fn delete_machine(&self, name: &str) -> Result<bool>;
    fn machines(&self) -> Result<Vec<Machine>>;
    /// The interface record for `mac`.
    fn interface(&self, mac: MacAddr) -> Result<Option<Interface>>;
    /// The machine that owns `mac`.
    fn machine_by_mac(&self, mac: MacAddr) -> Result<Option<Machine>>;
    fn interfaces(&self) -> Result<Vec<Interface>>;

    // BMCs.
    /// Creates or replaces the BMC of an existing machine. Durable.
    fn put_bmc(&self, bmc: &Bmc) -> Result<()>;
    /// The BMC with its secret, for the IPMI client only.
    fn bmc(&self, machine: &str) -> Result<Option<Bmc>>;
    fn delete_bmc(&self, machine: &str) -> Result<bool>;
    /// All BMCs without secrets.
    fn bmcs(&self) -> Result<Vec<BmcInfo>>;

    // Images.
    fn put_image(&self, image: &Image) -> Result<()>;
    fn image(&self, name: &str) -> Result<Option<Image>>;
    fn delete_image(&self, name: &str) -> Result<bool>;
    fn images(&self) -> Result<Vec<Image>>;

    // Users and tokens.
    fn put_user(&self, user: &User) -> Result<()>;
    /// The user with its password hash, for authentication only.
    fn user(&self, name: &str) -> Result<Option<User>>;
    /// Removes a user and every token of theirs. Durable.
    fn delete_user(&self, name: &str) -> Result<bool>;
    fn users(&self) -> Result<Vec<UserInfo>>;
    /// Stores a token (already hashed, see [`new_token`]) of an existing user. Durable.
    fn put_token(&self, token: &ApiToken) -> Result<()>;
    /// The token with its hash, for authentication only.
    fn token(&self, id: &str) -> Result<Option<ApiToken>>;
    fn delete_token(&self, id: &str) -> Result<bool>;
    fn tokens(&self) -> Result<Vec<TokenInfo>>;

    // Reservations.
    /// Creates a reservation (its `id` is assigned) unless it overlaps another of the same machine. Durable.
    fn create_reservation(&self, reservation: &Reservation) -> Result<Reservation>;
    fn reservation(&self, id: u64) -> Result<Option<Reservation>>;
    fn delete_reservation(&self, id: u64) -> Result<bool>;
    /// A machine's reservations ordered by start.
    fn reservations_of(&self, machine: &str) -> Result<Vec<Reservation>>;
    fn reservations(&self) -> Result<Vec<Reservation>>;

    // DHCP leases.
    /// Writes a lease and its indexes; the MAC and client-id indexes point at the newest lease. Durable: when this
    /// returns Ok, the lease survives a crash.
    fn put_lease(&self, lease: &Lease) -> Result<()>;
    fn lease_by_ip(&self, ip: Ipv4Addr) -> Result<Option<Lease>>;
    fn lease_by_mac(&self, mac: MacAddr) -> Result<Option<Lease>>;
    fn lease_by_client_id(&self, client_id: &[u8]) -> Result<Option<Lease>>;
    fn delete_lease(&self, ip: Ipv4Addr) -> Result<bool>;
    fn leases(&self) -> Result<Vec<Lease>>;

    // Events.
    /// Appends an event to its machine's log. Not durable (see the module docs).
    fn record_event(&self, event: &Event) -> Result<()>;
    /// The newest `limit` events of a machine, oldest first.
    fn events(&self, machine: &str, limit: usize) -> Result<Vec<Event>>;

    /// Makes the config's declared inventory the truth for what it declares: adds and updates declared images and
    /// machines (and their BMCs), removes config-origin records that are no longer declared, and takes declared
    /// MACs away from API-created machines. Records created through the API are otherwise left alone. Durable.
    fn import(&self, inventory: &Inventory) -> Result<ImportReport>;

    /// Flushes everything written so far.
    fn flush(&self) -> Result<()>;
}
