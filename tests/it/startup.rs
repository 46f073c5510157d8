//! Start-up: configuration files and flags, and the one-line errors for a port
//! in use, unknown directives, bad CPU lists, NUMA placement; --version and --help.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::{query, run_tessera, scratch_dir, Server};

const WAIT: Duration = Duration::from_secs(10);

/// Runs the binary expecting it to fail at start-up; returns its stderr.
fn fails(args: &[&str]) -> String {
    let (code, _out, err) = run_tessera(args, WAIT);
    assert!(code.is_some(), "tessera {args:?} kept running instead of failing; stderr: {err}");
    assert_ne!(code, Some(0), "tessera {args:?} exited 0; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "tessera {args:?} should print one error line, printed:\n{err}");
    err
}

#[test]
fn port_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let err = fails(&["--port", &port, "--bind", "127.0.0.1", "--shards", "1"]);
    assert!(err.contains(&port), "the error names the port {port}: {err}");
    assert!(err.to_lowercase().contains("in use"), "the error says the port is in use: {err}");
    let err = fails(&["--port", &port, "--bind", "127.0.0.1", "--shards", "3"]);
    assert!(err.contains(&port), "with 3 shards too: {err}");
}

#[test]
fn unknown_directive_in_config_file() {
    let path = scratch_dir().join("unknown-directive.conf");
    std::fs::write(&path, "# comment\nport 7777\nbogus-directive 3\n").expect("write config");
    let file = path.to_string_lossy().to_string();
    let err = fails(&[&file]);
    assert!(err.contains(&file), "names the file: {err}");
    assert!(err.contains(":3"), "names the line: {err}");
    assert!(err.contains("bogus-directive"), "names the directive: {err}");
}

#[test]
fn bad_values_and_flags() {
    let err = fails(&["--bogus", "1"]);
    assert!(err.contains("bogus"), "{err}");
    let err = fails(&["--port", "notaport"]);
    assert!(err.contains("port"), "{err}");
    let err = fails(&["/nonexistent/tessera.conf"]);
    assert!(err.contains("/nonexistent/tessera.conf"), "{err}");
    let path = scratch_dir().join("unbalanced.conf");
    std::fs::write(&path, "requirepass \"abc\n").expect("write config");
    let err = fails(&[&path.to_string_lossy()]);
    assert!(err.contains(":1"), "{err}");
}

#[test]
fn bad_cpu_lists() {
    for list in ["3-1", "abc", "0-x", ","] {
        let err = fails(&["--cpus", list, "--port", "0"]);
        assert!(err.contains("cpus") || err.contains(list), "--cpus {list}: {err}");
    }
    let err = fails(&["--cpus", "999", "--port", "0"]);
    assert!(err.contains("999"), "an unavailable CPU is named: {err}");
}

/// Every Linux machine has NUMA node 0 (a machine without NUMA is one node), and
/// test machines have fewer than 8 nodes.
#[test]
fn numa_node() {
    if crate::support::against_redis() {
        return; // --numa-node is Tessera's own option.
    }
    // --shards 0: one shard per CPU of the node.
    let s = Server::start_with(0, &["--numa-node", "0"]);
    let mut c = s.client();
    let _: () = query(&mut c, &["SET", "k", "v"]);
    assert_eq!(query::<String>(&mut c, &["GET", "k"]), "v");
    assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "numa-node"]), vec!["numa-node", "0"]);
    drop(s);
    let err = fails(&["--numa-node", "7", "--port", "0"]);
    assert!(err.contains("NUMA node 7"), "names the node: {err}");
    assert!(err.contains("nodes: 0 (CPUs "), "lists the nodes that exist: {err}");
    let err = fails(&["--numa-node", "-5", "--port", "0"]);
    assert!(err.contains("numa-node"), "{err}");
}

#[test]
fn version_and_help() {
    let (code, out, err) = run_tessera(&["--version"], WAIT);
    assert_eq!(code, Some(0), "--version: {err}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "--version prints the version: {out}");
    let (code, out, err) = run_tessera(&["--help"], WAIT);
    assert_eq!(code, Some(0), "--help: {err}");
    assert!(out.contains("Usage"), "--help: {out}");
    assert!(out.contains("--port"), "--help mentions directives: {out}");
    assert!(out.contains("numa-node"), "--help mentions --numa-node: {out}");
}

#[test]
fn config_file_and_overrides() {
    let path = scratch_dir().join(format!("ok-{}.conf", std::process::id()));
    std::fs::write(&path, "# test\ndatabases 5\ntimeout 42\nport 1\n").expect("write config");
    // The command line (--port) overrides the file's port.
    let s = Server::start_with_file(&path.to_string_lossy(), 3, &["--timeout", "43"]);
    let mut c = s.client();
    assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "databases"]), vec!["databases", "5"]);
    assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "timeout"]), vec!["timeout", "43"]);
    assert_eq!(query::<Vec<String>>(&mut c, &["CONFIG", "GET", "port"]), vec!["port".to_string(), s.port.to_string()]);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn more_shards_than_cpus() {
    let s = Server::start(5);
    let mut c = s.client();
    for i in 0..50 {
        let _: () = query(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(query::<i64>(&mut c, &["DBSIZE"]), 50);
}
