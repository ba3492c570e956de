//! The sled store: round trip of every record type, the MAC and lease indexes under updates and deletes,
//! reservations, secrets kept out of listings, the schema version and migration hook, and import semantics.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use labboot::config::{Arch, Firmware};
use labboot::store::*;
use labboot::types::MacAddr;

fn mac(last: u8) -> MacAddr {
    MacAddr([0x52, 0x54, 0x00, 0x00, 0x00, last])
}

fn machine(name: &str, macs: &[u8]) -> Machine {
    Machine {
        name: name.into(),
        arch: Arch::X86_64,
        firmware: Firmware::Uefi,
        image: Some("debian".into()),
        netboot: true,
        interfaces: macs
            .iter()
            .map(|m| MachineNic {
                mac: mac(*m),
                ip: None,
            })
            .collect(),
        description: String::new(),
        origin: Origin::Api,
    }
}

fn open() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

/// sled releases its file lock when its background flusher notices the last handle is gone, a moment after
/// `drop`: reopening in the same process retries briefly on that lock (and only on that).
fn retry_open<T, E: std::fmt::Display>(what: &str, open: impl Fn() -> Result<T, E>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match open() {
            Ok(v) => return v,
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

fn reopen(path: &std::path::Path) -> SledStore {
    retry_open("reopen store", || SledStore::open(path))
}

fn lease(ip: u8, m: u8, cid: Option<&[u8]>) -> Lease {
    Lease {
        ip: Ipv4Addr::new(10, 99, 0, ip),
        mac: mac(m),
        client_id: cid.map(<[u8]>::to_vec),
        hostname: Some(format!("host{m}")),
        state: LeaseState::Active,
        starts: 1_000,
        expires: 4_600_000,
    }
}

#[test]
fn every_record_type_round_trips_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let m = Machine {
        interfaces: vec![MachineNic {
            mac: mac(1),
            ip: Some(Ipv4Addr::new(10, 99, 0, 50)),
        }],
        description: "rack 3, slot 7".into(),
        ..machine("node1", &[])
    };
    let bmc = Bmc {
        machine: "node1".into(),
        host: "10.99.1.2".into(),
        port: 623,
        user: "admin".into(),
        secret: BmcSecret::Inline("s3cret".into()),
    };
    let image = Image {
        name: "debian".into(),
        arch: Arch::Arm64,
        kernel: PathBuf::from("/var/lib/labboot/images/vmlinuz"),
        initrd: None,
        cmdline: "console=ttyAMA0".into(),
        description: String::new(),
        origin: Origin::Config,
    };
    let user = User {
        name: "alice".into(),
        password_hash: Some(hash_password("pw").unwrap()),
        admin: true,
        ssh_keys: vec!["ssh-ed25519 AAAA alice@lab".into()],
        created: 42,
    };
    let token = new_token("alice", "laptop", None);
    let l = lease(100, 1, Some(b"\x01\x52\x54\x00\x00\x00\x01"));
    let event = Event {
        at: 7,
        machine: "node1".into(),
        kind: "dhcp.ack".into(),
        message: "10.99.0.50".into(),
    };
    let res;
    {
        let s = SledStore::open(&path).unwrap();
        s.put_image(&image).unwrap();
        s.put_machine(&m).unwrap();
        s.put_bmc(&bmc).unwrap();
        s.put_user(&user).unwrap();
        s.put_token(&token.record).unwrap();
        res = s
            .create_reservation(&Reservation {
                id: 0,
                machine: "node1".into(),
                user: "alice".into(),
                start: 1_000,
                end: 2_000,
                note: "kernel bisect".into(),
                created: 5,
            })
            .unwrap();
        s.put_lease(&l).unwrap();
        s.record_event(&event).unwrap();
        s.flush().unwrap();
    }
    let s = reopen(&path);
    assert_eq!(s.machine("node1").unwrap(), Some(m.clone()));
    assert_eq!(s.machine_by_mac(mac(1)).unwrap(), Some(m));
    assert_eq!(
        s.interface(mac(1)).unwrap(),
        Some(Interface {
            mac: mac(1),
            machine: "node1".into(),
            ip: Some(Ipv4Addr::new(10, 99, 0, 50))
        })
    );
    assert_eq!(s.bmc("node1").unwrap(), Some(bmc));
    assert_eq!(s.image("debian").unwrap(), Some(image));
    assert_eq!(s.user("alice").unwrap(), Some(user));
    assert_eq!(
        s.token(&token.record.id).unwrap(),
        Some(token.record.clone())
    );
    assert!(res.id > 0);
    assert_eq!(s.reservation(res.id).unwrap(), Some(res.clone()));
    assert_eq!(s.reservations_of("node1").unwrap(), vec![res]);
    assert_eq!(s.lease_by_ip(l.ip).unwrap(), Some(l.clone()));
    assert_eq!(s.lease_by_mac(l.mac).unwrap(), Some(l.clone()));
    assert_eq!(
        s.lease_by_client_id(l.client_id.as_deref().unwrap())
            .unwrap(),
        Some(l)
    );
    assert_eq!(s.events("node1", 10).unwrap(), vec![event]);
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn mac_index_stays_consistent_under_updates_and_deletes() {
    let (_d, s) = open();
    s.put_machine(&machine("a", &[1, 2])).unwrap();
    s.put_machine(&machine("b", &[3])).unwrap();
    // Another machine cannot take a MAC that is in use, and the failed write changes nothing.
    match s.put_machine(&machine("b", &[3, 2])) {
        Err(StoreError::MacInUse { mac: m, machine }) => {
            assert_eq!((m, machine.as_str()), (mac(2), "a"))
        }
        other => panic!("expected MacInUse, got {other:?}"),
    }
    assert_eq!(s.machine("b").unwrap().unwrap().interfaces.len(), 1);
    // Moving NICs: a drops 2 and gains 4; then b can take 2.
    s.put_machine(&machine("a", &[1, 4])).unwrap();
    assert!(s.interface(mac(2)).unwrap().is_none());
    s.put_machine(&machine("b", &[3, 2])).unwrap();
    let owner = |m| s.interface(mac(m)).unwrap().map(|i| i.machine);
    assert_eq!(
        [owner(1), owner(2), owner(3), owner(4)],
        [
            Some("a".into()),
            Some("b".into()),
            Some("b".into()),
            Some("a".into())
        ]
    );
    // Deleting a machine removes its index entries and its BMC, and nothing else.
    s.put_bmc(&Bmc {
        machine: "a".into(),
        host: "h".into(),
        port: 623,
        user: "u".into(),
        secret: BmcSecret::None,
    })
    .unwrap();
    assert!(s.delete_machine("a").unwrap());
    assert!(!s.delete_machine("a").unwrap());
    assert_eq!([owner(1), owner(4)], [None, None]);
    assert_eq!(owner(2), Some("b".into()));
    assert!(s.bmc("a").unwrap().is_none());
    // The index and the machines agree exactly.
    let mut from_machines: Vec<(MacAddr, String)> = s
        .machines()
        .unwrap()
        .iter()
        .flat_map(|m| m.interfaces.iter().map(move |n| (n.mac, m.name.clone())))
        .collect();
    let mut from_index: Vec<(MacAddr, String)> = s
        .interfaces()
        .unwrap()
        .into_iter()
        .map(|i| (i.mac, i.machine))
        .collect();
    from_machines.sort();
    from_index.sort();
    assert_eq!(from_machines, from_index);
    // Names are key prefixes: NUL and empty names are refused.
    assert!(matches!(
        s.put_machine(&machine("a\0b", &[5])),
        Err(StoreError::InvalidName(_))
    ));
    assert!(matches!(
        s.put_machine(&machine("", &[5])),
        Err(StoreError::InvalidName(_))
    ));
    // A BMC needs its machine.
    let orphan = Bmc {
        machine: "ghost".into(),
        host: "h".into(),
        port: 623,
        user: "u".into(),
        secret: BmcSecret::None,
    };
    assert!(matches!(
        s.put_bmc(&orphan),
        Err(StoreError::NoSuchMachine(_))
    ));
}

#[test]
fn lease_indexes_follow_the_newest_lease() {
    let (_d, s) = open();
    s.put_lease(&lease(100, 1, Some(b"cid-1"))).unwrap();
    s.put_lease(&lease(101, 2, None)).unwrap();
    // The address 100 passes to client 3: client 1's indexes must no longer find it.
    s.put_lease(&lease(100, 3, None)).unwrap();
    assert!(s.lease_by_mac(mac(1)).unwrap().is_none());
    assert!(s.lease_by_client_id(b"cid-1").unwrap().is_none());
    assert_eq!(
        s.lease_by_mac(mac(3)).unwrap().unwrap().ip,
        Ipv4Addr::new(10, 99, 0, 100)
    );
    // Client 2 moves to a new address: its MAC finds the new lease.
    s.put_lease(&lease(102, 2, None)).unwrap();
    assert_eq!(
        s.lease_by_mac(mac(2)).unwrap().unwrap().ip,
        Ipv4Addr::new(10, 99, 0, 102)
    );
    assert!(s.delete_lease(Ipv4Addr::new(10, 99, 0, 102)).unwrap());
    assert!(s.lease_by_mac(mac(2)).unwrap().is_none());
    assert!(!s.delete_lease(Ipv4Addr::new(10, 99, 0, 102)).unwrap());
    assert_eq!(s.leases().unwrap().len(), 2);
}

#[test]
fn reservations_never_overlap_on_one_machine() {
    let (_d, s) = open();
    s.put_machine(&machine("n1", &[1])).unwrap();
    s.put_machine(&machine("n2", &[2])).unwrap();
    let r = |m: &str, start, end| Reservation {
        id: 0,
        machine: m.into(),
        user: "u".into(),
        start,
        end,
        note: String::new(),
        created: 0,
    };
    let a = s.create_reservation(&r("n1", 100, 200)).unwrap();
    assert!(
        matches!(s.create_reservation(&r("n1", 150, 250)), Err(StoreError::ReservationConflict { id, .. }) if id == a.id)
    );
    assert!(matches!(
        s.create_reservation(&r("n1", 50, 101)),
        Err(StoreError::ReservationConflict { .. })
    ));
    let b = s.create_reservation(&r("n1", 200, 300)).unwrap();
    s.create_reservation(&r("n2", 150, 250)).unwrap();
    assert!(matches!(
        s.create_reservation(&r("n1", 300, 300)),
        Err(StoreError::EmptyReservation)
    ));
    assert!(matches!(
        s.create_reservation(&r("ghost", 1, 2)),
        Err(StoreError::NoSuchMachine(_))
    ));
    assert_eq!(
        s.reservations_of("n1")
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert!(s.delete_reservation(a.id).unwrap());
    s.create_reservation(&r("n1", 150, 200)).unwrap();
    assert_eq!(s.reservations().unwrap().len(), 3);
}

#[test]
fn listings_never_carry_secrets() {
    let (_d, s) = open();
    s.put_machine(&machine("n1", &[1])).unwrap();
    s.put_bmc(&Bmc {
        machine: "n1".into(),
        host: "10.99.1.2".into(),
        port: 623,
        user: "admin".into(),
        secret: BmcSecret::Inline("hunter2-bmc".into()),
    })
    .unwrap();
    let hash = hash_password("hunter2-user").unwrap();
    s.put_user(&User {
        name: "bob".into(),
        password_hash: Some(hash.clone()),
        admin: false,
        ssh_keys: vec![],
        created: 0,
    })
    .unwrap();
    let token = new_token("bob", "ci", None);
    s.put_token(&token.record).unwrap();
    let (_, secret) = parse_token(&token.secret).unwrap();
    let listed = format!(
        "{:?} {:?} {:?}",
        s.bmcs().unwrap(),
        s.users().unwrap(),
        s.tokens().unwrap()
    );
    for leak in [
        "hunter2-bmc",
        hash.as_str(),
        secret,
        &hex::encode(token.record.secret_sha256),
    ] {
        assert!(!listed.contains(leak), "listing leaks {leak}: {listed}");
    }
    assert!(s.bmcs().unwrap()[0].has_password);
    // The stored token verifies by its secret only; the secret itself is not stored anywhere.
    let stored = s.token(&token.record.id).unwrap().unwrap();
    assert!(stored.verify(secret, 0));
    assert!(!format!("{stored:?}").contains(secret));
    // Deleting a user deletes their tokens; a token needs a user.
    assert!(s.delete_user("bob").unwrap());
    assert!(s.token(&token.record.id).unwrap().is_none());
    assert!(matches!(
        s.put_token(&token.record),
        Err(StoreError::NoSuchUser(_))
    ));
}

#[test]
fn events_come_back_in_time_order_per_machine() {
    let (_d, s) = open();
    for (at, m) in [(30, "a"), (10, "a"), (20, "b"), (20, "a"), (20, "a")] {
        s.record_event(&Event {
            at,
            machine: m.into(),
            kind: "k".into(),
            message: format!("{m}{at}"),
        })
        .unwrap();
    }
    // Machine "ab" shares a prefix with "a" but not its events.
    s.record_event(&Event {
        at: 1,
        machine: "ab".into(),
        kind: "k".into(),
        message: "x".into(),
    })
    .unwrap();
    let a: Vec<u64> = s.events("a", 10).unwrap().iter().map(|e| e.at).collect();
    assert_eq!(a, vec![10, 20, 20, 30]);
    let newest: Vec<u64> = s.events("a", 2).unwrap().iter().map(|e| e.at).collect();
    assert_eq!(newest, vec![20, 30]);
    assert_eq!(s.events("b", 10).unwrap().len(), 1);
}

#[test]
fn a_store_from_a_newer_labboot_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let s = SledStore::open(&path).unwrap();
        s.put_machine(&machine("keep", &[1])).unwrap();
        s.force_schema_version(SCHEMA_VERSION + 1).unwrap();
    }
    let refused = retry_open("open newer store", || match SledStore::open(&path) {
        Err(StoreError::Open { reason, .. }) => Err(reason),
        other => Ok(other),
    });
    match refused {
        Err(e @ StoreError::SchemaTooNew { .. }) => {
            assert_eq!(
                (SCHEMA_VERSION + 1, SCHEMA_VERSION),
                match e {
                    StoreError::SchemaTooNew { found, supported } => (found, supported),
                    _ => unreachable!(),
                }
            );
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer store was opened"),
    }
    // Refusing did not touch the data: an old enough reader (the test sets the version back) still finds it.
    let s = retry_open("open as newer", || {
        SledStore::open_with(&path, SCHEMA_VERSION + 1, &[])
    });
    assert!(s.machine("keep").unwrap().is_some());
}

#[test]
fn the_migration_hook_runs_each_step_once_and_records_the_version() {
    fn add_marker(db: &sled::Db) -> labboot::store::Result<()> {
        db.open_tree("meta")
            .and_then(|t| t.insert("migrated_to_2", b"yes".as_slice()))
            .map(|_| ())
            .map_err(|e| StoreError::Backend(e.to_string()))
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    drop(SledStore::open(&path).unwrap());
    let s = retry_open("migrate", || SledStore::open_with(&path, 2, &[add_marker]));
    assert_eq!(s.schema_version().unwrap(), 2);
    drop(s);
    let db = sled::open(&path).unwrap();
    assert_eq!(
        db.open_tree("meta")
            .unwrap()
            .get("migrated_to_2")
            .unwrap()
            .as_deref(),
        Some(&b"yes"[..])
    );
    drop(db);
    // A version with no migration step is an error, not a silent open.
    assert!(matches!(
        SledStore::open_with(&path, 3, &[add_marker]),
        Err(StoreError::NoMigration { from: 2 })
    ));
}

#[test]
fn a_sled_db_that_is_not_a_labboot_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let db = sled::open(&path).unwrap();
        db.open_tree("machines").unwrap().insert("x", "y").unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        SledStore::open(&path),
        Err(StoreError::NoSchemaVersion)
    ));
}

#[test]
fn a_second_open_of_the_same_store_fails_clearly() {
    let (dir, _s) = open();
    match SledStore::open(&dir.path().join("store")) {
        Err(StoreError::Open { reason, .. }) => assert!(!reason.is_empty()),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("two stores open on one directory"),
    }
}

#[test]
fn import_makes_the_config_the_truth_for_what_it_declares() {
    let (_d, s) = open();
    let img = |name: &str| Image {
        name: name.into(),
        arch: Arch::X86_64,
        kernel: "/k".into(),
        initrd: None,
        cmdline: String::new(),
        description: String::new(),
        origin: Origin::Config,
    };
    let cfg = |name: &str, macs: &[u8]| Machine {
        origin: Origin::Config,
        ..machine(name, macs)
    };
    // An API-created machine holds MAC 9 and a config machine "old" exists from an earlier config.
    s.put_machine(&machine("api-box", &[9, 8])).unwrap();
    s.import(&Inventory {
        images: vec![img("old-img")],
        machines: vec![cfg("old", &[7])],
        bmcs: vec![],
    })
    .unwrap();
    let inv = Inventory {
        images: vec![img("debian")],
        machines: vec![cfg("n1", &[1, 9]), cfg("n2", &[2])],
        bmcs: vec![Bmc {
            machine: "n1".into(),
            host: "10.99.1.2".into(),
            port: 623,
            user: "admin".into(),
            secret: BmcSecret::File("/etc/labboot/bmc/n1".into()),
        }],
    };
    let report = s.import(&inv).unwrap();
    assert_eq!(report.machines_added, vec!["n1", "n2"]);
    assert_eq!(report.machines_removed, vec!["old"]);
    assert_eq!(report.images_removed, vec!["old-img"]);
    assert_eq!(
        report.macs_reassigned,
        vec![(mac(9), "api-box".to_string())]
    );
    assert_eq!(s.machine_by_mac(mac(9)).unwrap().unwrap().name, "n1");
    assert_eq!(
        s.machine("api-box").unwrap().unwrap().interfaces.len(),
        1,
        "API machine keeps its other NIC"
    );
    assert!(s.machine("old").unwrap().is_none() && s.interface(mac(7)).unwrap().is_none());
    assert!(s.bmc("n1").unwrap().is_some());
    assert_eq!(s.events("n1", 5).unwrap()[0].kind, "config.imported");
    // Importing the same inventory again changes nothing.
    let again = s.import(&inv).unwrap();
    assert_eq!(again, ImportReport::default());
    // Dropping n1's BMC from the config removes it from the store.
    let inv2 = Inventory {
        bmcs: vec![],
        ..inv
    };
    let r = s.import(&inv2).unwrap();
    assert!(r.machines_updated.is_empty());
    assert!(s.bmc("n1").unwrap().is_none());
}
