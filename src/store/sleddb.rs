//! The sled 0.34 implementation of [`Store`].
//!
//! Trees and their keys (all integers big-endian, so sled's byte order is numeric order):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `schema_version` | u32 |
//! | `machines` | name | [`Machine`] |
//! | `interfaces` | MAC (6 bytes) | [`Interface`] |
//! | `bmcs` | machine name | [`Bmc`] |
//! | `images`, `users`, `tokens` | name / id | record |
//! | `reservations` | id u64 | [`Reservation`] |
//! | `reservations_by_machine` | machine, 0, start u64, id u64 | empty |
//! | `leases` | IPv4 u32 | [`Lease`] |
//! | `leases_by_mac` | MAC | IPv4 u32 |
//! | `leases_by_client_id` | option 61 bytes | IPv4 u32 |
//! | `events` | machine, 0, at u64, seq u64 | [`Event`] |

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::{IVec, Transactional, Tree};

use super::commit::GroupCommit;
use super::*;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// sled's background flush interval: the most that non-durable writes (events) can lag behind.
pub const FLUSH_EVERY_MS: u64 = 500;

const VERSION_KEY: &[u8] = b"schema_version";

/// Upgrades a store by one schema version: `migrations[k]` takes version `k + 1` to `k + 2`.
pub type Migration = fn(&sled::Db) -> Result<()>;

/// The migrations of this build, in order (none yet: version 1 is the first).
const MIGRATIONS: &[Migration] = &[];

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

/// A [`Store`] on sled.
pub struct SledStore {
    db: sled::Db,
    machines: Tree,
    interfaces: Tree,
    bmcs: Tree,
    images: Tree,
    users: Tree,
    tokens: Tree,
    reservations: Tree,
    reservations_by_machine: Tree,
    leases: Tree,
    leases_by_mac: Tree,
    leases_by_client_id: Tree,
    events: Tree,
    commit: GroupCommit,
    /// Serializes reservation creation: the overlap check scans, which a sled transaction cannot.
    reservation_lock: Mutex<()>,
    /// Serializes user deletion against token creation, for the same reason.
    user_lock: Mutex<()>,
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    postcard::to_stdvec(v).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8(key.to_vec()).unwrap_or_else(|_| hex::encode(key)),
        reason: e.to_string(),
    })
}

fn decode_opt<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    v: Option<IVec>,
) -> Result<Option<T>> {
    v.map(|b| decode(tree, key, &b)).transpose()
}

fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

/// Inside a transaction: decode or abort.
fn tx_decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    v: Option<IVec>,
) -> TxResult<Option<T>> {
    decode_opt(tree, key, v).map_err(ConflictableTransactionError::Abort)
}

fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Names are key prefixes followed by a 0 byte (events, reservations): they must not contain one.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(StoreError::InvalidName(name.to_string()));
    }
    Ok(())
}

fn ip_key(ip: Ipv4Addr) -> [u8; 4] {
    u32::from(ip).to_be_bytes()
}

fn ip_from(bytes: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from)
}

fn prefixed(name: &str, parts: &[u64]) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1 + 8 * parts.len());
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    for p in parts {
        k.extend_from_slice(&p.to_be_bytes());
    }
    k
}

impl SledStore {
    /// Opens (or creates) the store at `path`, a directory.
    pub fn open(path: &Path) -> Result<SledStore> {
        Self::open_with(path, SCHEMA_VERSION, MIGRATIONS)
    }

    /// Opens with an explicit target version and migration list. For tests of the migration hook.
    #[doc(hidden)]
    pub fn open_with(path: &Path, target: u32, migrations: &[Migration]) -> Result<SledStore> {
        let open_err = |e: sled::Error| StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(64 << 20)
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            .open()
            .map_err(open_err)?;
        let meta = db.open_tree("meta").map_err(backend)?;
        match meta.get(VERSION_KEY).map_err(backend)? {
            None => {
                for name in db.tree_names() {
                    if name.as_ref() != b"meta" && !db.open_tree(&name).map_err(backend)?.is_empty()
                    {
                        return Err(StoreError::NoSchemaVersion);
                    }
                }
                meta.insert(VERSION_KEY, &target.to_be_bytes())
                    .map_err(backend)?;
                db.flush().map_err(backend)?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| StoreError::Corrupt {
                        tree: "meta",
                        key: "schema_version".into(),
                        reason: format!("{} bytes", v.len()),
                    })?;
                if found > target {
                    return Err(StoreError::SchemaTooNew {
                        found,
                        supported: target,
                    });
                }
                for version in found..target {
                    let step = version
                        .checked_sub(1)
                        .and_then(|i| migrations.get(i as usize))
                        .ok_or(StoreError::NoMigration { from: version })?;
                    tracing::info!(from = version, to = version + 1, "migrating store schema");
                    step(&db)?;
                    meta.insert(VERSION_KEY, &(version + 1).to_be_bytes())
                        .map_err(backend)?;
                    db.flush().map_err(backend)?;
                }
            }
        }
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        Ok(SledStore {
            machines: tree("machines")?,
            interfaces: tree("interfaces")?,
            bmcs: tree("bmcs")?,
            images: tree("images")?,
            users: tree("users")?,
            tokens: tree("tokens")?,
            reservations: tree("reservations")?,
            reservations_by_machine: tree("reservations_by_machine")?,
            leases: tree("leases")?,
            leases_by_mac: tree("leases_by_mac")?,
            leases_by_client_id: tree("leases_by_client_id")?,
            events: tree("events")?,
            db,
            commit: GroupCommit::default(),
            reservation_lock: Mutex::new(()),
            user_lock: Mutex::new(()),
        })
    }

    /// The schema version recorded in the store.
    pub fn schema_version(&self) -> Result<u32> {
        let meta = self.db.open_tree("meta").map_err(backend)?;
        let v = meta
            .get(VERSION_KEY)
            .map_err(backend)?
            .ok_or(StoreError::NoSchemaVersion)?;
        <[u8; 4]>::try_from(v.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Corrupt {
                tree: "meta",
                key: "schema_version".into(),
                reason: format!("{} bytes", v.len()),
            })
    }

    /// Sets the recorded schema version. For tests of version checks.
    #[doc(hidden)]
    pub fn force_schema_version(&self, version: u32) -> Result<()> {
        let meta = self.db.open_tree("meta").map_err(backend)?;
        meta.insert(VERSION_KEY, &version.to_be_bytes())
            .map_err(backend)?;
        self.flush()
    }

    /// Waits until everything applied so far is on disk (group commit).
    fn sync(&self) -> Result<()> {
        self.commit
            .sync(|| self.db.flush().map(|_| ()).map_err(|e| e.to_string()))
            .map_err(StoreError::Flush)
    }

    fn get<T: DeserializeOwned>(
        &self,
        tree: &Tree,
        name: &'static str,
        key: &[u8],
    ) -> Result<Option<T>> {
        decode_opt(name, key, tree.get(key).map_err(backend)?)
    }

    fn all<T: DeserializeOwned>(&self, tree: &Tree, name: &'static str) -> Result<Vec<T>> {
        tree.iter()
            .map(|kv| {
                let (k, v) = kv.map_err(backend)?;
                decode(name, &k, &v)
            })
            .collect()
    }

    fn remove(&self, tree: &Tree, key: &[u8]) -> Result<bool> {
        let existed = tree.remove(key).map_err(backend)?.is_some();
        self.sync()?;
        Ok(existed)
    }

    /// [`Store::put_machine`] without the flush.
    fn put_machine_unsynced(&self, m: &Machine) -> Result<()> {
        check_name(&m.name)?;
        let value = encode(m)?;
        let nics: Vec<([u8; 6], Vec<u8>)> = m
            .interfaces
            .iter()
            .map(|n| {
                Ok((
                    n.mac.0,
                    encode(&Interface {
                        mac: n.mac,
                        machine: m.name.clone(),
                        ip: n.ip,
                    })?,
                ))
            })
            .collect::<Result<_>>()?;
        (&self.machines, &self.interfaces)
            .transaction(|(mt, it)| {
                for nic in &m.interfaces {
                    let owner: Option<Interface> =
                        tx_decode("interfaces", &nic.mac.0, it.get(nic.mac.0)?)?;
                    if let Some(owner) = owner
                        && owner.machine != m.name
                    {
                        return abort(StoreError::MacInUse {
                            mac: nic.mac,
                            machine: owner.machine,
                        });
                    }
                }
                let old: Option<Machine> =
                    tx_decode("machines", m.name.as_bytes(), mt.get(m.name.as_bytes())?)?;
                for nic in old.iter().flat_map(|o| o.interfaces.iter()) {
                    if !m.interfaces.iter().any(|n| n.mac == nic.mac) {
                        it.remove(&nic.mac.0[..])?;
                    }
                }
                for (mac, v) in &nics {
                    it.insert(&mac[..], v.as_slice())?;
                }
                mt.insert(m.name.as_bytes(), value.as_slice())?;
                Ok(())
            })
            .map_err(tx_error)
    }

    /// [`Store::delete_machine`] without the flush.
    fn delete_machine_unsynced(&self, name: &str) -> Result<bool> {
        (&self.machines, &self.interfaces, &self.bmcs)
            .transaction(|(mt, it, bt)| {
                let Some(old) =
                    tx_decode::<Machine>("machines", name.as_bytes(), mt.remove(name.as_bytes())?)?
                else {
                    return Ok(false);
                };
                for nic in &old.interfaces {
                    let owner: Option<Interface> =
                        tx_decode("interfaces", &nic.mac.0, it.get(nic.mac.0)?)?;
                    if owner.is_some_and(|o| o.machine == name) {
                        it.remove(&nic.mac.0[..])?;
                    }
                }
                bt.remove(name.as_bytes())?;
                Ok(true)
            })
            .map_err(tx_error)
    }

    fn put_bmc_unsynced(&self, bmc: &Bmc) -> Result<()> {
        let value = encode(bmc)?;
        (&self.machines, &self.bmcs)
            .transaction(|(mt, bt)| {
                if mt.get(bmc.machine.as_bytes())?.is_none() {
                    return abort(StoreError::NoSuchMachine(bmc.machine.clone()));
                }
                bt.insert(bmc.machine.as_bytes(), value.as_slice())?;
                Ok(())
            })
            .map_err(tx_error)
    }

    fn put_plain<T: Serialize>(&self, tree: &Tree, key: &[u8], v: &T) -> Result<()> {
        tree.insert(key, encode(v)?).map_err(backend)?;
        Ok(())
    }
}

impl Store for SledStore {
    fn put_machine(&self, machine: &Machine) -> Result<()> {
        self.put_machine_unsynced(machine)?;
        self.sync()
    }

    fn machine(&self, name: &str) -> Result<Option<Machine>> {
        self.get(&self.machines, "machines", name.as_bytes())
    }

    fn delete_machine(&self, name: &str) -> Result<bool> {
        let existed = self.delete_machine_unsynced(name)?;
        self.sync()?;
        Ok(existed)
    }

    fn machines(&self) -> Result<Vec<Machine>> {
        self.all(&self.machines, "machines")
    }

    fn interface(&self, mac: MacAddr) -> Result<Option<Interface>> {
        self.get(&self.interfaces, "interfaces", &mac.0)
    }

    fn machine_by_mac(&self, mac: MacAddr) -> Result<Option<Machine>> {
        match self.interface(mac)? {
            Some(i) => self.machine(&i.machine),
            None => Ok(None),
        }
    }

    fn interfaces(&self) -> Result<Vec<Interface>> {
        self.all(&self.interfaces, "interfaces")
    }

    fn put_bmc(&self, bmc: &Bmc) -> Result<()> {
        self.put_bmc_unsynced(bmc)?;
        self.sync()
    }

    fn bmc(&self, machine: &str) -> Result<Option<Bmc>> {
        self.get(&self.bmcs, "bmcs", machine.as_bytes())
    }

    fn delete_bmc(&self, machine: &str) -> Result<bool> {
        self.remove(&self.bmcs, machine.as_bytes())
    }

    fn bmcs(&self) -> Result<Vec<BmcInfo>> {
        Ok(self
            .all::<Bmc>(&self.bmcs, "bmcs")?
            .iter()
            .map(BmcInfo::from)
            .collect())
    }

    fn put_image(&self, image: &Image) -> Result<()> {
        check_name(&image.name)?;
        self.put_plain(&self.images, image.name.as_bytes(), image)?;
        self.sync()
    }

    fn image(&self, name: &str) -> Result<Option<Image>> {
        self.get(&self.images, "images", name.as_bytes())
    }

    fn delete_image(&self, name: &str) -> Result<bool> {
        self.remove(&self.images, name.as_bytes())
    }

    fn images(&self) -> Result<Vec<Image>> {
        self.all(&self.images, "images")
    }

    fn put_user(&self, user: &User) -> Result<()> {
        check_name(&user.name)?;
        self.put_plain(&self.users, user.name.as_bytes(), user)?;
        self.sync()
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        self.get(&self.users, "users", name.as_bytes())
    }

    fn delete_user(&self, name: &str) -> Result<bool> {
        let _guard = self.user_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut token_ids = Vec::new();
        for kv in self.tokens.iter() {
            let (k, v) = kv.map_err(backend)?;
            let t: ApiToken = decode("tokens", &k, &v)?;
            if t.user == name {
                token_ids.push(k);
            }
        }
        let existed = (&self.users, &self.tokens)
            .transaction(|(ut, tt)| {
                for id in &token_ids {
                    tt.remove(id)?;
                }
                Ok(ut.remove(name.as_bytes())?.is_some())
            })
            .map_err(tx_error)?;
        self.sync()?;
        Ok(existed)
    }

    fn users(&self) -> Result<Vec<UserInfo>> {
        Ok(self
            .all::<User>(&self.users, "users")?
            .iter()
            .map(UserInfo::from)
            .collect())
    }

    fn put_token(&self, token: &ApiToken) -> Result<()> {
        let _guard = self.user_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self
            .users
            .get(token.user.as_bytes())
            .map_err(backend)?
            .is_none()
        {
            return Err(StoreError::NoSuchUser(token.user.clone()));
        }
        self.put_plain(&self.tokens, token.id.as_bytes(), token)?;
        self.sync()
    }

    fn token(&self, id: &str) -> Result<Option<ApiToken>> {
        self.get(&self.tokens, "tokens", id.as_bytes())
    }

    fn delete_token(&self, id: &str) -> Result<bool> {
        self.remove(&self.tokens, id.as_bytes())
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>> {
        Ok(self
            .all::<ApiToken>(&self.tokens, "tokens")?
            .iter()
            .map(TokenInfo::from)
            .collect())
    }

    fn create_reservation(&self, reservation: &Reservation) -> Result<Reservation> {
        if reservation.end <= reservation.start {
            return Err(StoreError::EmptyReservation);
        }
        let _guard = self
            .reservation_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if self
            .machines
            .get(reservation.machine.as_bytes())
            .map_err(backend)?
            .is_none()
        {
            return Err(StoreError::NoSuchMachine(reservation.machine.clone()));
        }
        for other in self.reservations_of(&reservation.machine)? {
            if other.overlaps(reservation) {
                return Err(StoreError::ReservationConflict {
                    id: other.id,
                    machine: other.machine,
                    user: other.user,
                });
            }
        }
        let mut r = reservation.clone();
        r.id = self.db.generate_id().map_err(backend)? + 1;
        let value = encode(&r)?;
        let index = prefixed(&r.machine, &[r.start, r.id]);
        (&self.reservations, &self.reservations_by_machine)
            .transaction(|(rt, it)| {
                rt.insert(&r.id.to_be_bytes(), value.as_slice())?;
                it.insert(index.as_slice(), &[] as &[u8])?;
                Ok(())
            })
            .map_err(tx_error)?;
        self.sync()?;
        Ok(r)
    }

    fn reservation(&self, id: u64) -> Result<Option<Reservation>> {
        self.get(&self.reservations, "reservations", &id.to_be_bytes())
    }

    fn delete_reservation(&self, id: u64) -> Result<bool> {
        let _guard = self
            .reservation_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let Some(r) = self.reservation(id)? else {
            return Ok(false);
        };
        let index = prefixed(&r.machine, &[r.start, r.id]);
        (&self.reservations, &self.reservations_by_machine)
            .transaction(|(rt, it)| {
                rt.remove(&id.to_be_bytes())?;
                it.remove(index.as_slice())?;
                Ok(())
            })
            .map_err(tx_error)?;
        self.sync()?;
        Ok(true)
    }

    fn reservations_of(&self, machine: &str) -> Result<Vec<Reservation>> {
        let prefix = prefixed(machine, &[]);
        let mut out = Vec::new();
        for kv in self.reservations_by_machine.scan_prefix(&prefix) {
            let (k, _) = kv.map_err(backend)?;
            let id = k
                .get(k.len().saturating_sub(8)..)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt {
                    tree: "reservations_by_machine",
                    key: hex::encode(&k),
                    reason: "short key".into(),
                })?;
            if let Some(r) = self.reservation(id)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn reservations(&self) -> Result<Vec<Reservation>> {
        self.all(&self.reservations, "reservations")
    }

    fn put_lease(&self, lease: &Lease) -> Result<()> {
        let key = ip_key(lease.ip);
        let value = encode(lease)?;
        (&self.leases, &self.leases_by_mac, &self.leases_by_client_id)
            .transaction(|(lt, mt, ct)| {
                let old: Option<Lease> = tx_decode("leases", &key, lt.get(key)?)?;
                if let Some(old) = old {
                    if old.mac != lease.mac && mt.get(old.mac.0)?.is_some_and(|v| v.as_ref() == key)
                    {
                        mt.remove(&old.mac.0[..])?;
                    }
                    if let Some(cid) = old.client_id.as_deref()
                        && lease.client_id.as_deref() != Some(cid)
                        && ct.get(cid)?.is_some_and(|v| v.as_ref() == key)
                    {
                        ct.remove(cid)?;
                    }
                }
                lt.insert(&key[..], value.as_slice())?;
                mt.insert(&lease.mac.0[..], &key[..])?;
                if let Some(cid) = lease.client_id.as_deref() {
                    ct.insert(cid, &key[..])?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        self.sync()
    }

    fn lease_by_ip(&self, ip: Ipv4Addr) -> Result<Option<Lease>> {
        self.get(&self.leases, "leases", &ip_key(ip))
    }

    fn lease_by_mac(&self, mac: MacAddr) -> Result<Option<Lease>> {
        let Some(ip) = self
            .leases_by_mac
            .get(mac.0)
            .map_err(backend)?
            .and_then(|v| ip_from(&v))
        else {
            return Ok(None);
        };
        Ok(self.lease_by_ip(ip)?.filter(|l| l.mac == mac))
    }

    fn lease_by_client_id(&self, client_id: &[u8]) -> Result<Option<Lease>> {
        let Some(ip) = self
            .leases_by_client_id
            .get(client_id)
            .map_err(backend)?
            .and_then(|v| ip_from(&v))
        else {
            return Ok(None);
        };
        Ok(self
            .lease_by_ip(ip)?
            .filter(|l| l.client_id.as_deref() == Some(client_id)))
    }

    fn delete_lease(&self, ip: Ipv4Addr) -> Result<bool> {
        let key = ip_key(ip);
        let existed = (&self.leases, &self.leases_by_mac, &self.leases_by_client_id)
            .transaction(|(lt, mt, ct)| {
                let Some(old) = tx_decode::<Lease>("leases", &key, lt.remove(&key[..])?)? else {
                    return Ok(false);
                };
                if mt.get(old.mac.0)?.is_some_and(|v| v.as_ref() == key) {
                    mt.remove(&old.mac.0[..])?;
                }
                if let Some(cid) = old.client_id.as_deref()
                    && ct.get(cid)?.is_some_and(|v| v.as_ref() == key)
                {
                    ct.remove(cid)?;
                }
                Ok(true)
            })
            .map_err(tx_error)?;
        self.sync()?;
        Ok(existed)
    }

    fn leases(&self) -> Result<Vec<Lease>> {
        self.all(&self.leases, "leases")
    }

    fn record_event(&self, event: &Event) -> Result<()> {
        check_name(&event.machine)?;
        let seq = self.db.generate_id().map_err(backend)?;
        let key = prefixed(&event.machine, &[event.at, seq]);
        self.put_plain(&self.events, &key, event)
    }

    fn events(&self, machine: &str, limit: usize) -> Result<Vec<Event>> {
        let prefix = prefixed(machine, &[]);
        let mut out: Vec<Event> = self
            .events
            .scan_prefix(&prefix)
            .rev()
            .take(limit)
            .map(|kv| {
                let (k, v) = kv.map_err(backend)?;
                decode("events", &k, &v)
            })
            .collect::<Result<_>>()?;
        out.reverse();
        Ok(out)
    }

    fn import(&self, inv: &Inventory) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        // Images first, so that machines never point at an image the store lacks.
        for img in &inv.images {
            match self.image(&img.name)? {
                None => report.images_added.push(img.name.clone()),
                Some(old) if &old != img => report.images_updated.push(img.name.clone()),
                Some(_) => continue,
            }
            self.put_plain(&self.images, img.name.as_bytes(), img)?;
        }
        for old in self.machines()? {
            if old.origin == Origin::Config && !inv.machines.iter().any(|m| m.name == old.name) {
                self.delete_machine_unsynced(&old.name)?;
                report.machines_removed.push(old.name);
            }
        }
        for old in self.images()? {
            if old.origin == Origin::Config && !inv.images.iter().any(|i| i.name == old.name) {
                self.images.remove(old.name.as_bytes()).map_err(backend)?;
                report.images_removed.push(old.name);
            }
        }
        // A declared MAC that another machine holds moves to the declaring machine.
        for m in &inv.machines {
            for nic in &m.interfaces {
                let Some(owner) = self.interface(nic.mac)? else {
                    continue;
                };
                if owner.machine == m.name {
                    continue;
                }
                if let Some(mut other) = self.machine(&owner.machine)? {
                    other.interfaces.retain(|n| n.mac != nic.mac);
                    self.put_machine_unsynced(&other)?;
                    if other.origin == Origin::Api {
                        report.macs_reassigned.push((nic.mac, other.name));
                    }
                }
            }
        }
        for m in &inv.machines {
            match self.machine(&m.name)? {
                None => report.machines_added.push(m.name.clone()),
                Some(old) if &old != m => report.machines_updated.push(m.name.clone()),
                Some(_) => {}
            }
            self.put_machine_unsynced(m)?;
            match inv.bmcs.iter().find(|b| b.machine == m.name) {
                Some(b) => {
                    if self.bmc(&m.name)?.as_ref() != Some(b) {
                        self.put_bmc_unsynced(b)?;
                    }
                }
                None => {
                    self.bmcs.remove(m.name.as_bytes()).map_err(backend)?;
                }
            }
        }
        let at = now_ms();
        for (names, what) in [
            (&report.machines_added, "added from the config"),
            (&report.machines_updated, "updated from the config"),
        ] {
            for name in names {
                self.record_event(&Event {
                    at,
                    machine: name.clone(),
                    kind: "config.imported".into(),
                    message: what.into(),
                })?;
            }
        }
        self.sync()?;
        Ok(report)
    }

    fn flush(&self) -> Result<()> {
        self.sync()
    }
}
