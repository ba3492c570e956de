//! The daemon: wires the store and the services together and stops them cleanly.
//!
//! Order of `run`: data directory, store, import of the declared inventory, then each enabled service binds its
//! sockets; only then is the daemon ready (systemd `READY=1`). On SIGINT/SIGTERM every service is asked to stop and
//! given `server.shutdown_timeout` to drain; the store is flushed last.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::Config;
use crate::store::{self, Inventory, Origin, SledStore, Store};

/// The records the config declares, in store form.
pub fn inventory(config: &Config) -> Inventory {
    let images = config
        .images
        .iter()
        .map(|i| store::Image {
            name: i.name.clone(),
            arch: i.arch,
            kernel: i.kernel.clone(),
            initrd: i.initrd.clone(),
            cmdline: i.cmdline.clone(),
            description: i.description.clone(),
            origin: Origin::Config,
        })
        .collect();
    let machines = config
        .machines
        .iter()
        .map(|m| store::Machine {
            name: m.name.clone(),
            arch: m.arch,
            firmware: m.firmware,
            image: m.image.clone(),
            netboot: m.netboot,
            interfaces: m
                .interfaces
                .iter()
                .map(|i| store::MachineNic {
                    mac: i.mac,
                    ip: i.ip,
                })
                .collect(),
            description: m.description.clone(),
            origin: Origin::Config,
        })
        .collect();
    let bmcs = config
        .machines
        .iter()
        .filter_map(|m| {
            let b = m.bmc.as_ref()?;
            Some(store::Bmc {
                machine: m.name.clone(),
                host: b.host.clone(),
                port: b.port,
                user: b.user.clone(),
                secret: b
                    .password_file
                    .clone()
                    .map_or(store::BmcSecret::None, store::BmcSecret::File),
            })
        })
        .collect();
    Inventory {
        images,
        machines,
        bmcs,
    }
}

/// Opens the store and imports the config's inventory into it.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let data_dir = config.server.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating data_dir {}", data_dir.display()))?;
    let path = config.store_path();
    let inv = inventory(config);
    let store: Arc<dyn Store> = tokio::task::spawn_blocking(move || -> anyhow::Result<Arc<dyn Store>> {
        let store = SledStore::open(&path)?;
        let report = store.import(&inv).context("importing the declared inventory")?;
        info!(
            added = report.machines_added.len(),
            updated = report.machines_updated.len(),
            removed = report.machines_removed.len(),
            images_added = report.images_added.len(),
            images_updated = report.images_updated.len(),
            images_removed = report.images_removed.len(),
            "imported declared inventory"
        );
        for name in &report.machines_removed {
            info!(machine = %name, "machine no longer declared in the config: removed");
        }
        for (mac, machine) in &report.macs_reassigned {
            warn!(%mac, from = %machine, "MAC declared in the config taken from an API-created machine");
        }
        Ok(Arc::new(store))
    })
    .await??;
    Ok(store)
}

/// Runs the daemon until `shutdown` is cancelled (the binary cancels it on SIGINT/SIGTERM).
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&config).await?;
    let tracker = TaskTracker::new();

    if let Some(addr) = config.http.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("http.listen {addr}: cannot bind"))?;
        info!(%addr, "http: listening");
        let state = crate::http::HttpState {
            store: store.clone(),
            started,
        };
        let stop = shutdown.clone();
        tracker.spawn(async move {
            if let Err(e) = crate::http::serve(listener, state, stop).await {
                warn!(error = %e, "http: server stopped with an error");
            }
        });
    }
    // The protocol services arrive with their own issues; say plainly which configured ones this build lacks.
    let names: Vec<&str> = config.interfaces.iter().map(|i| i.name.as_str()).collect();
    if config.dhcp.enabled {
        warn!(interfaces = ?names, "dhcp: configured, but this build has no DHCP server yet");
    }
    if config.tftp.enabled {
        warn!(root = %config.tftp.root.display(), "tftp: configured, but this build has no TFTP server yet");
    }
    tracker.close();

    info!(
        version = crate::VERSION,
        data_dir = %config.server.data_dir.display(),
        interfaces = ?names,
        "labboot ready"
    );
    crate::notify::notify("READY=1");

    shutdown.cancelled().await;
    crate::notify::notify("STOPPING=1");
    let timeout = config.server.shutdown_timeout;
    info!(
        timeout_ms = timeout.as_millis() as u64,
        "stopping: draining services"
    );
    if tokio::time::timeout(timeout, tracker.wait()).await.is_err() {
        warn!("services did not drain within server.shutdown_timeout; stopping anyway");
    }
    let flushed = store.clone();
    tokio::task::spawn_blocking(move || flushed.flush())
        .await?
        .context("final store flush")?;
    info!("stopped");
    Ok(())
}

/// Cancels `token` on the first SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::spawn(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        info!(signal = which, "shutdown requested");
        token.cancel();
    });
    Ok(())
}
