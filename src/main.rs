//! `tessera [config-file] [--directive value ...]`: parse the command line into a
//! Config and run the server.

use tessera::alloc::Mimalloc;

#[global_allocator]
static GLOBAL: tessera::alloc::Counting<Mimalloc> = tessera::alloc::Counting::new(Mimalloc);

const ABOUT: &str = "Tessera: a Redis-compatible, thread-per-core in-memory cache server.

Usage: tessera [config-file] [--directive value ...]

The config file uses redis.conf syntax; every directive can also be given on the
command line as --name value, which overrides the file. Directives:
  port, bind, shards, cpus, numa-node, spin-before-park-us, databases,
  requirepass, maxclients, timeout, tcp-keepalive, tcp-backlog, loglevel, logfile,
  dir, dbfilename, save, appendonly, appendfsync, appenddirname, appendfilename,
  aof-load-truncated, auto-aof-rewrite-percentage, auto-aof-rewrite-min-size,
  proto-max-bulk-len, client-query-buffer-limit

File tools:
  tessera check-aof [--fix] FILE            verify an append-only file, or cut it
                                            before its first bad record
  tessera check-snapshot FILE               verify a snapshot part or set file

Examples:
  tessera                                   serve on 127.0.0.1:6379, one shard per CPU
  tessera --port 7000 --shards 2 --cpus 0,1
  tessera --numa-node 1                     one shard per CPU of NUMA node 1
  tessera /etc/tessera.conf --loglevel warning";

#[derive(clap::Parser)]
#[command(version, about = ABOUT, override_usage = "tessera [config-file] [--directive value ...]")]
struct Cli {
    /// A config file followed by --directive value pairs.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

fn main() {
    use clap::Parser;
    // The file tools: `tessera check-aof [--fix] PATH`, `tessera check-snapshot PATH`.
    let argv: Vec<String> = std::env::args().collect();
    match argv.get(1).map(String::as_str) {
        Some("check-aof") => std::process::exit(tessera::persist::aof::check_main(&argv[2..])),
        Some("check-snapshot") => std::process::exit(tessera::persist::snapshot::check_main(&argv[2..])),
        _ => {}
    }
    let cli = Cli::parse();
    let config = match tessera::config::Config::from_args(&cli.args) {
        Ok(c) => c,
        Err(e) => fail(&e.to_string()),
    };
    if let Err(e) = tessera::logging::init(&config) {
        fail(&e.to_string());
    }
    if let Err(e) = tessera::server::run(config) {
        fail(&e.to_string());
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("tessera: {msg}");
    std::process::exit(1);
}
