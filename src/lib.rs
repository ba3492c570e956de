//! labboot: one daemon that netboots a small hardware lab (DHCP, TFTP, HTTP), drives the machines' BMCs and hands
//! machines to the engineers who reserve them.
//!
//! The library holds everything; `src/main.rs` is a thin command-line entry. See `docs/architecture.md` for the
//! module map and how a packet flows through it.

pub mod app;
pub mod config;
pub mod dhcp;
pub mod http;
pub mod logging;
pub mod notify;
pub mod store;
pub mod types;

/// The version string printed by `labboot --version` and served at `/version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
