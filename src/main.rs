//! `labboot`: argv -> tracing -> config load + validation (no sockets yet) -> runtime -> `app::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// Exit code for a bad configuration or command line (sysexits EX_USAGE).
const EXIT_CONFIG: u8 = 64;

#[derive(Parser)]
#[command(
    name = "labboot",
    version,
    about = "Netboot a hardware lab, drive its BMCs, hand out its machines"
)]
struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG, when set, takes precedence.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    quiet: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Serve {
        #[arg(short, long, default_value = labboot::config::DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Validate a configuration file and print a summary.
    CheckConfig {
        #[arg(short, long, default_value = labboot::config::DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = (cli.verbose.min(10) as i8) - (cli.quiet.min(10) as i8);
    match cli.command {
        Command::CheckConfig { config } => check_config(&config),
        Command::Serve { config } => {
            labboot::logging::init(verbosity);
            serve(&config)
        }
    }
}

fn check_config(path: &std::path::Path) -> ExitCode {
    match labboot::config::load(path) {
        Ok(loaded) => {
            println!("{}: configuration is valid", path.display());
            print!("{}", loaded.config.summary());
            if !loaded.warnings.is_empty() {
                println!("warnings:");
                for w in &loaded.warnings {
                    println!("  {w}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprint!("{errors}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

fn serve(path: &std::path::Path) -> ExitCode {
    let loaded = match labboot::config::load(path) {
        Ok(l) => l,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!(path = %w.path, "config: {}", w.message);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("labboot")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = CancellationToken::new();
        labboot::app::cancel_on_signals(shutdown.clone())?;
        labboot::app::run(loaded.config, shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
