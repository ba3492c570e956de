//! Logging setup: `tracing` with structured fields, plain lines on stderr (journald adds timestamps itself).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `verbosity` is the number of `-v` minus the number of `-q`; `RUST_LOG`, when
/// set, takes precedence and allows per-module filters (`RUST_LOG=labboot::store=debug`).
pub fn init(verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| {
            // sled and hyper are chatty below warn; their details are rarely what an operator needs.
            let deps = if verbosity >= 2 {
                ""
            } else {
                ",sled=warn,hyper=warn,h2=warn"
            };
            EnvFilter::new(format!("{level}{deps}"))
        });
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = !under_journald && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let result = if under_journald {
        builder.without_time().with_target(false).try_init()
    } else {
        builder.with_target(false).try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
