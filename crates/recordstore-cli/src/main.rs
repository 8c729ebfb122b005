//! `recordstore`: the command-line tool over the recordstore library.
//!
//! Exit codes (the README's table): 0 ok, 1 another backend failure, 2 usage, 3 not found,
//! 4 already exists, 5 unreachable, timed out or not the backend's protocol, 6 invalid input
//! or corrupt stored data, 7 authentication failed, 8 configuration error, 9 a copy that ran
//! to the end without bringing every record across (its summary says which). Every failure is
//! one line on stderr.

mod bench;
mod progress;
mod records;
mod settings;
mod transfer;

use clap::{Parser, Subcommand};
use recordstore::Error;
use std::process::ExitCode;

/// One record-store API over memory, SQLite, Redis and HDFS.
#[derive(Parser, Debug)]
#[command(name = "recordstore", version, about)]
struct Cli {
    #[command(flatten)]
    connection: settings::ConnectionArgs,

    /// Runtime threads (default 1; one per core for `bench --concurrency N` with N > 1).
    ///
    /// One thread is the fastest for one client (no cross-thread wake-up per round trip);
    /// concurrent bench clients get one per core so that they encode and decode in parallel.
    #[arg(long, global = true, value_name = "N", help_heading = settings::GLOBAL)]
    threads: Option<usize>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Insert a new record (fails with exit code 4 if the key exists).
    Insert(records::WriteArgs),
    /// Replace an existing record (fails with exit code 3 if there is none).
    Update(records::WriteArgs),
    /// Insert a record, or replace it if the key exists.
    Save(records::WriteArgs),
    /// Print a record as one JSON line.
    Get(records::KeyArgs),
    /// Delete a record.
    Delete(records::KeyArgs),
    /// Print `true` or `false`.
    Exists(records::KeyArgs),
    /// Print the number of records in a schema.
    Count(records::SchemaArgs),
    /// Print matching records as JSON Lines of {"key": KEY, "record": {...}}.
    Filter(records::FilterArgs),
    /// Print every record of a schema as JSON Lines of {"key": KEY, "record": {...}}.
    Export(records::SchemaArgs),
    /// Read JSON Lines of records and insert them, keyed by a field.
    Import(transfer::ImportArgs),
    /// Copy schemas to another store.
    Copy(transfer::CopyArgs),
    /// Check connectivity and print the connection mode and stats.
    Ping(records::PingArgs),
    /// Run the peer's workload and print ops/s per operation (on a temporary SQLite file
    /// unless a URL is given).
    Bench(bench::BenchArgs),
}

// The workloads allocate a few small strings and maps per record; mimalloc serves them
// markedly cheaper than glibc's malloc (measured with `bench --batch`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The library's warnings (a foreign file skipped in an HDFS schema, say) go to stderr.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let threads = cli.threads.unwrap_or(match &cli.command {
        Command::Bench(b) if b.concurrency > 1 => {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
        _ => 1,
    });
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::invalid(format!("cannot start a runtime: {e}"))),
    };
    // Run the command as a task, not as the `block_on` future: on the current-thread runtime
    // a task woken by another task runs straight away, while a woken `block_on` future first
    // costs a non-blocking poll of the I/O driver (one extra syscall per round trip).
    let outcome = runtime.block_on(async {
        tokio::spawn(run(cli))
            .await
            .unwrap_or_else(|e| Err(Error::invalid(format!("the command panicked: {e}"))))
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&e),
    }
}

/// Prints the error as one line (a server's multi-line reply joined with `; `) and gives its
/// exit code.
fn fail(e: &Error) -> ExitCode {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    eprintln!("recordstore: {}", lines.join("; "));
    ExitCode::from(e.exit_code() as u8)
}

/// Runs the command; the exit code of a success is 0, or what the command says (copy's 9).
async fn run(cli: Cli) -> recordstore::Result<u8> {
    let settings = cli.connection.resolve()?;
    // No URL from the flags, the environment or the config file.
    let default_store = !cli.connection.url_given() && settings.url == recordstore::DEFAULT_URL;
    let done = match cli.command {
        Command::Insert(a) => records::write(&settings, a, records::Write::Insert).await,
        Command::Update(a) => records::write(&settings, a, records::Write::Update).await,
        Command::Save(a) => records::write(&settings, a, records::Write::Save).await,
        Command::Get(a) => records::get(&settings, a).await,
        Command::Delete(a) => records::delete(&settings, a).await,
        Command::Exists(a) => records::exists(&settings, a).await,
        Command::Count(a) => records::count(&settings, a).await,
        Command::Filter(a) => records::filter(&settings, a).await,
        Command::Export(a) => transfer::export(&settings, a).await,
        Command::Import(a) => transfer::import(&settings, a).await,
        Command::Copy(a) => return transfer::copy(&settings, a).await,
        Command::Ping(a) => records::ping(&settings, a).await,
        Command::Bench(a) => bench::run(&settings, a, default_store).await,
    };
    done.map(|()| 0)
}
