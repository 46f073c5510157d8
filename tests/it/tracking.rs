//! Client-side caching over real sockets, 1 and 3 shards, with the writer,
//! the tracking client and the redirection target on different connections
//! (and so, with 3 shards, on different shards): RESP3 invalidation pushes,
//! RESP2 redirection through `__redis__:invalidate`, flushes, BCAST prefixes,
//! OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, broken redirections, and the
//! CLIENT subcommands' replies and errors byte for byte.

use std::time::Duration;

use crate::support::resp::Reply;
use crate::support::{each_shards, spread_keys, Raw};

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// A RESP3 `invalidate` push for `keys`.
fn inval(keys: &[&str]) -> Vec<u8> {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&bulk(k));
    }
    s.into_bytes()
}

/// A RESP2 `__redis__:invalidate` message for `keys`.
fn message(keys: &[&str]) -> Vec<u8> {
    let mut s = format!("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&bulk(k));
    }
    s.into_bytes()
}

fn resp3(r: &mut Raw) {
    assert!(matches!(r.call(&["HELLO", "3"]), Reply::Map(_)));
}

/// The next `n` replies' bytes, sorted when they may come from several shards.
fn next_n(r: &mut Raw, n: usize, sort: bool) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..n).map(|_| r.reply_bytes()).collect();
    if sort {
        v.sort();
    }
    v
}

fn quiet(r: &mut Raw) {
    let extra = r.pending_within(Duration::from_millis(150));
    assert!(extra.is_empty(), "unexpected: {}", crate::support::show(&extra));
}

#[test]
fn resp3_reads_are_invalidated_by_writes_on_any_shard() {
    each_shards(|s| {
        let keys = spread_keys("trk", 6);
        let mut w = s.raw();
        let mut t = s.raw();
        resp3(&mut t);
        assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON"]), b"+OK\r\n");
        for k in &keys {
            w.cmd(&["SET", k, "v"]);
            assert_eq!(t.cmd(&["GET", k]), b"$1\r\nv\r\n");
        }
        // A key not read is not reported; each read key once, then forgotten.
        w.cmd(&["SET", "unread", "x"]);
        assert_eq!(w.cmd(&["MSET", &keys[0], "1", &keys[1], "2", &keys[2], "3"]), b"+OK\r\n");
        let want: Vec<Vec<u8>> = {
            let mut v: Vec<Vec<u8>> = keys[..3].iter().map(|k| inval(&[k])).collect();
            v.sort();
            v
        };
        assert_eq!(next_n(&mut t, 3, true), want);
        w.cmd(&["SET", &keys[0], "again"]);
        w.cmd(&["DEL", &keys[3]]);
        w.cmd(&["EXPIRE", &keys[4], "100"]);
        w.cmd(&["APPEND", &keys[5], "x"]);
        let mut want: Vec<Vec<u8>> = keys[3..].iter().map(|k| inval(&[k])).collect();
        want.sort();
        assert_eq!(next_n(&mut t, 3, true), want);
        quiet(&mut t);
        // Its own writes invalidate too (after the reply), unless NOLOOP.
        t.cmd(&["GET", &keys[0]]);
        assert_eq!(t.cmd(&["SET", &keys[0], "mine"]), b"+OK\r\n");
        assert_eq!(t.reply_bytes(), inval(&[&keys[0]]));
        assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON", "NOLOOP"]), b"+OK\r\n");
        t.cmd(&["GET", &keys[0]]);
        t.cmd(&["SET", &keys[0], "mine2"]);
        quiet(&mut t);
        // (Its own write, skipped, still took the key out of the table.)
        t.cmd(&["GET", &keys[0]]);
        w.cmd(&["SET", &keys[0], "theirs"]);
        assert_eq!(t.reply_bytes(), inval(&[&keys[0]]));
        // Expiry invalidates.
        t.cmd(&["SET", &keys[1], "v", "PX", "1500"]);
        t.cmd(&["GET", &keys[1]]);
        assert_eq!(t.reply_bytes(), inval(&[&keys[1]]));
        // Turned off: nothing more.
        t.cmd(&["GET", &keys[2]]);
        assert_eq!(t.cmd(&["CLIENT", "TRACKING", "OFF"]), b"+OK\r\n");
        w.cmd(&["SET", &keys[2], "x"]);
        quiet(&mut t);
    });
}

#[test]
fn resp2_redirection_through_the_invalidate_channel() {
    each_shards(|s| {
        let keys = spread_keys("red", 3);
        let mut sub = s.raw();
        let id = sub.call(&["CLIENT", "ID"]).int().expect("an id");
        sub.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
        let mut t = s.raw();
        let mut w = s.raw();
        assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &id.to_string()]), b"+OK\r\n");
        assert_eq!(t.cmd(&["CLIENT", "GETREDIR"]), format!(":{id}\r\n").into_bytes());
        for k in &keys {
            t.cmd(&["GET", k]);
        }
        w.cmd(&["MSET", &keys[0], "a", &keys[1], "b", &keys[2], "c"]);
        let mut want: Vec<Vec<u8>> = keys.iter().map(|k| message(&[k])).collect();
        want.sort();
        assert_eq!(next_n(&mut sub, 3, true), want);
        // A flush sends a null to every tracking client.
        w.cmd(&["FLUSHALL"]);
        assert_eq!(sub.reply_bytes(), b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n".to_vec());
        quiet(&mut sub);
        quiet(&mut t);
        // RESP2 without redirection gets nothing (it has no way to).
        let mut plain = s.raw();
        plain.cmd(&["CLIENT", "TRACKING", "ON"]);
        plain.cmd(&["GET", &keys[0]]);
        w.cmd(&["SET", &keys[0], "z"]);
        quiet(&mut plain);
    });
}

#[test]
fn flush_sends_a_null_in_resp3() {
    each_shards(|s| {
        let mut t = s.raw();
        resp3(&mut t);
        t.cmd(&["CLIENT", "TRACKING", "ON"]);
        t.cmd(&["GET", "k"]);
        let mut w = s.raw();
        w.cmd(&["FLUSHDB"]);
        assert_eq!(t.reply_bytes(), b">2\r\n$10\r\ninvalidate\r\n_\r\n");
        // The flush forgot the key: a later write says nothing.
        w.cmd(&["SET", "k", "v"]);
        quiet(&mut t);
    });
}

#[test]
fn bcast_prefixes_see_every_matching_write() {
    each_shards(|s| {
        let mut t = s.raw();
        resp3(&mut t);
        assert_eq!(t.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"]), b"+OK\r\n");
        let mut w = s.raw();
        w.cmd(&["SET", "user:1", "a"]);
        assert_eq!(t.reply_bytes(), inval(&["user:1"]));
        w.cmd(&["SET", "other", "a"]);
        w.cmd(&["HSET", "obj:9", "f", "v"]);
        assert_eq!(t.reply_bytes(), inval(&["obj:9"]));
        quiet(&mut t);
        // Without PREFIX: every key.
        let mut all = s.raw();
        resp3(&mut all);
        all.cmd(&["CLIENT", "TRACKING", "ON", "BCAST"]);
        w.cmd(&["INCR", "anything"]);
        assert_eq!(all.reply_bytes(), inval(&["anything"]));
        let info = all.call(&["CLIENT", "TRACKINGINFO"]);
        let Reply::Map(m) = info else { panic!("{info:?}") };
        assert_eq!(m[2].1, Reply::Array(vec![Reply::Bulk(vec![])]));
    });
}

#[test]
fn optin_and_optout_follow_client_caching() {
    each_shards(|s| {
        let keys = spread_keys("opt", 4);
        let mut w = s.raw();
        let mut t = s.raw();
        resp3(&mut t);
        t.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]);
        t.cmd(&["GET", &keys[0]]);
        assert_eq!(t.cmd(&["CLIENT", "CACHING", "YES"]), b"+OK\r\n");
        t.cmd(&["GET", &keys[1]]);
        t.cmd(&["GET", &keys[2]]);
        w.cmd(&["MSET", &keys[0], "1", &keys[1], "2", &keys[2], "3"]);
        assert_eq!(t.reply_bytes(), inval(&[&keys[1]]));
        quiet(&mut t);
        t.cmd(&["CLIENT", "TRACKING", "OFF"]);
        t.cmd(&["CLIENT", "TRACKING", "ON", "OPTOUT"]);
        t.cmd(&["GET", &keys[0]]);
        assert_eq!(t.cmd(&["CLIENT", "CACHING", "NO"]), b"+OK\r\n");
        t.cmd(&["GET", &keys[3]]);
        w.cmd(&["MSET", &keys[0], "1", &keys[3], "2"]);
        assert_eq!(t.reply_bytes(), inval(&[&keys[0]]));
        quiet(&mut t);
    });
}

#[test]
fn broken_redirection_is_reported() {
    each_shards(|s| {
        let mut t = s.raw();
        resp3(&mut t);
        let mut target = s.raw();
        let id = target.call(&["CLIENT", "ID"]).int().expect("an id");
        t.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &id.to_string()]);
        t.cmd(&["GET", "gone"]);
        drop(target);
        let mut w = s.raw();
        // Wait until the target's connection is gone from CLIENT LIST.
        assert!(crate::support::wait_until(Duration::from_secs(5), || {
            !w.call(&["CLIENT", "LIST"]).text().is_some_and(|l| l.contains(&format!("id={id} ")))
        }));
        w.cmd(&["SET", "gone", "x"]);
        assert_eq!(t.reply_bytes(), format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n").into_bytes());
        let info = t.call(&["CLIENT", "TRACKINGINFO"]);
        let Reply::Map(m) = info else { panic!("{info:?}") };
        assert_eq!(m[0].1, Reply::Set(vec![Reply::Bulk(b"on".to_vec()), Reply::Bulk(b"broken_redirect".to_vec())]));
        let line = t.call(&["CLIENT", "INFO"]).text().expect("client info");
        assert!(line.contains(" flags=tR ") && line.contains(&format!(" redir={id} ")), "{line}");
    });
}

#[test]
fn client_subcommands_reply_as_redis() {
    each_shards(|s| {
        let mut c = s.raw();
        let id = c.call(&["CLIENT", "ID"]).int().expect("an id");
        assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), b":-1\r\n");
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKINGINFO"]),
            b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
        );
        for (args, err) in [
            (vec!["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"], "ERR The client ID you want redirect to does not exist"),
            (vec!["CLIENT", "TRACKING", "ON", "REDIRECT", "0"], "ERR The client ID you want redirect to does not exist"),
            (vec!["CLIENT", "TRACKING", "ON", "REDIRECT", "x"], "ERR value is not an integer or out of range"),
            (vec!["CLIENT", "TRACKING", "ON", "PREFIX", "a"], "ERR PREFIX option requires BCAST mode to be enabled"),
            (vec!["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"], "ERR OPTIN and OPTOUT are not compatible with BCAST"),
            (vec!["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"], "ERR You can't specify both OPTIN mode and OPTOUT mode"),
            (
                vec!["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
                "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.",
            ),
            (vec!["CLIENT", "TRACKING", "ON", "FOO"], "ERR syntax error"),
            (vec!["CLIENT", "TRACKING", "ON", "PREFIX"], "ERR syntax error"),
            (vec!["CLIENT", "TRACKING", "MAYBE"], "ERR syntax error"),
            (vec!["CLIENT", "TRACKING"], "ERR wrong number of arguments for 'client|tracking' command"),
            (
                vec!["CLIENT", "CACHING", "YES"],
                "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
            ),
        ] {
            assert_eq!(c.err(&args), err, "{args:?}");
        }
        let me = id.to_string();
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKING", "ON", "REDIRECT", &me, "REDIRECT", &me]),
            b"-ERR A client can only redirect to a single other client\r\n"
        );
        assert_eq!(c.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a"]), b"+OK\r\n");
        assert_eq!(
            c.err(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "bc"]),
            "ERR Prefix 'bc' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap."
        );
        assert_eq!(
            c.err(&["CLIENT", "TRACKING", "ON"]),
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
        );
        assert_eq!(c.cmd(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c", "NOLOOP"]), b"+OK\r\n");
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKINGINFO"]),
            b"*6\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$5\r\nbcast\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        let line = c.call(&["CLIENT", "INFO"]).text().expect("client info");
        assert!(line.contains(" flags=tB ") && line.contains(" redir=0 "), "{line}");
        assert_eq!(c.cmd(&["CLIENT", "TRACKING", "OFF"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["CLIENT", "TRACKING", "ON", "OPTIN"]), b"+OK\r\n");
        assert_eq!(
            c.err(&["CLIENT", "CACHING", "NO"]),
            "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
        );
        assert_eq!(c.err(&["CLIENT", "CACHING", "MAYBE"]), "ERR syntax error");
        assert_eq!(
            c.err(&["CLIENT", "TRACKING", "ON", "OPTOUT"]),
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
        );
        assert_eq!(c.cmd(&["CLIENT", "CACHING", "YES"]), b"+OK\r\n");
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKINGINFO"]),
            b"*6\r\n$5\r\nflags\r\n*3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n"
        );
        resp3(&mut c);
        assert_eq!(
            c.cmd(&["CLIENT", "TRACKINGINFO"]),
            b"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\noptin\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n"
        );
        // RESET turns tracking off.
        c.cmd(&["RESET"]);
        assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), b":-1\r\n");
    });
}

#[test]
fn tracking_table_max_keys_evicts_with_an_invalidation() {
    each_shards(|s| {
        let mut c = s.raw();
        let want = |v: &str| {
            Reply::Array(vec![Reply::Bulk(b"tracking-table-max-keys".to_vec()), Reply::Bulk(v.as_bytes().to_vec())])
        };
        assert_eq!(c.call(&["CONFIG", "GET", "tracking-table-max-keys"]), want("1000000"));
        assert_eq!(c.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]), b"+OK\r\n");
        assert_eq!(c.call(&["CONFIG", "GET", "tracking-table-max-keys"]), want("1"));
        let mut t = s.raw();
        resp3(&mut t);
        t.cmd(&["CLIENT", "TRACKING", "ON"]);
        // One slot, same shard: reading a second key pushes one of the two out.
        t.cmd(&["GET", "{max}a"]);
        t.cmd(&["GET", "{max}b"]);
        let got = t.reply_bytes();
        assert!(got == inval(&["{max}a"]) || got == inval(&["{max}b"]), "{}", crate::support::show(&got));
        c.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "0"]);
    });
}
