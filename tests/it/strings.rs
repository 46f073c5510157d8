//! String commands through the redis crate (values) and raw sockets (exact
//! error texts), with 1 and 3 shards, as Redis 7.0 documents them.

use std::time::Duration;

use redis::Value;

use crate::support::{each_shards, query, spread_keys, wait_until, Reply};

#[test]
fn set_and_get() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "k", "v1"]);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "v1");
        let _: () = query(&mut c, &["SET", "k", ""]);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "");
        assert_eq!(query::<Option<String>>(&mut c, &["GET", "missing"]), None);
        let bin: Vec<u8> = (0..=255u8).collect();
        let _: () = redis::cmd("SET").arg("bin").arg(&bin).query(&mut c).expect("SET binary");
        let got: Vec<u8> = redis::cmd("GET").arg("bin").query(&mut c).expect("GET binary");
        assert_eq!(got, bin);
        let key: Vec<u8> = vec![0, 1, 0xff, b'\r', b'\n'];
        let _: () = redis::cmd("SET").arg(&key).arg("binary key").query(&mut c).expect("SET binary key");
        let got: String = redis::cmd("GET").arg(&key).query(&mut c).expect("GET binary key");
        assert_eq!(got, "binary key");
    });
}

#[test]
fn set_conditions_and_get_option() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "k", "a", "XX"]), None);
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "k", "a", "NX"]).as_deref(), Some("OK"));
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "k", "b", "NX"]), None);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "a");
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "k", "b", "XX"]).as_deref(), Some("OK"));
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "k", "c", "GET"]).as_deref(), Some("b"));
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "new", "c", "GET"]), None);
        assert_eq!(query::<String>(&mut c, &["GET", "new"]), "c");
        // NX GET is allowed since 7.0: nil when the key was absent, the old value when not set.
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "nxget", "1", "NX", "GET"]), None);
        assert_eq!(query::<Option<String>>(&mut c, &["SET", "nxget", "2", "NX", "GET"]).as_deref(), Some("1"));
        assert_eq!(query::<String>(&mut c, &["GET", "nxget"]), "1");
        let mut r = s.raw();
        assert_eq!(r.err(&["SET", "k", "v", "NX", "XX"]), "ERR syntax error");
        assert_eq!(r.err(&["SET", "k", "v", "EX"]), "ERR syntax error");
        assert_eq!(r.err(&["SET", "k", "v", "EX", "10", "PX", "100"]), "ERR syntax error");
        assert_eq!(r.err(&["SET", "k", "v", "KEEPTTL", "EX", "10"]), "ERR syntax error");
        assert_eq!(r.err(&["SET", "k", "v", "EX", "0"]), "ERR invalid expire time in 'set' command");
        assert_eq!(r.err(&["SET", "k", "v", "PX", "-5"]), "ERR invalid expire time in 'set' command");
        assert_eq!(r.err(&["SET", "k", "v", "EX", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(r.err(&["SET", "k", "v", "EX", "9223372036854775807"]), "ERR invalid expire time in 'set' command");
        assert_eq!(r.err(&["SET", "k", "v", "FOO"]), "ERR syntax error");
    });
}

#[test]
fn set_expiry_options() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "k", "v", "EX", "100"]);
        let ttl: i64 = query(&mut c, &["TTL", "k"]);
        assert!((99..=100).contains(&ttl), "TTL after EX 100: {ttl}");
        let _: () = query(&mut c, &["SET", "k", "v2", "KEEPTTL"]);
        let ttl: i64 = query(&mut c, &["TTL", "k"]);
        assert!((98..=100).contains(&ttl), "TTL after KEEPTTL: {ttl}");
        let _: () = query(&mut c, &["SET", "k", "v3"]);
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -1, "plain SET clears the TTL");
        let _: () = query(&mut c, &["SET", "k", "v", "PX", "100000"]);
        let pttl: i64 = query(&mut c, &["PTTL", "k"]);
        assert!((98_000..=100_000).contains(&pttl), "PTTL after PX 100000: {pttl}");
        let _: () = query(&mut c, &["SET", "k", "v", "EXAT", "4102444800"]);
        assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]), 4102444800);
        let _: () = query(&mut c, &["SET", "k", "v", "PXAT", "4102444800123"]);
        assert_eq!(query::<i64>(&mut c, &["PEXPIRETIME", "k"]), 4102444800123);
        // An absolute time in the past deletes the key at once.
        let _: () = query(&mut c, &["SET", "k", "v", "PXAT", "1000"]);
        assert_eq!(query::<Option<String>>(&mut c, &["GET", "k"]), None);
        let _: () = query(&mut c, &["SET", "short", "v", "PX", "50"]);
        assert!(
            wait_until(Duration::from_secs(3), || query::<Option<String>>(&mut c, &["GET", "short"]).is_none()),
            "a key set with PX 50 still exists after 3 s"
        );
    });
}

#[test]
fn setnx_setex_psetex_getset_getdel() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<i64>(&mut c, &["SETNX", "k", "1"]), 1);
        assert_eq!(query::<i64>(&mut c, &["SETNX", "k", "2"]), 0);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "1");
        let _: () = query(&mut c, &["SETEX", "e", "100", "v"]);
        assert!((99..=100).contains(&query::<i64>(&mut c, &["TTL", "e"])));
        let _: () = query(&mut c, &["PSETEX", "p", "100000", "v"]);
        assert!((98_000..=100_000).contains(&query::<i64>(&mut c, &["PTTL", "p"])));
        assert_eq!(query::<Option<String>>(&mut c, &["GETSET", "k", "3"]).as_deref(), Some("1"));
        assert_eq!(query::<Option<String>>(&mut c, &["GETSET", "gs", "x"]), None);
        // GETSET drops the TTL.
        assert_eq!(query::<Option<String>>(&mut c, &["GETSET", "e", "w"]).as_deref(), Some("v"));
        assert_eq!(query::<i64>(&mut c, &["TTL", "e"]), -1);
        assert_eq!(query::<Option<String>>(&mut c, &["GETDEL", "k"]).as_deref(), Some("3"));
        assert_eq!(query::<Option<String>>(&mut c, &["GETDEL", "k"]), None);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]), 0);
        let mut r = s.raw();
        assert_eq!(r.err(&["SETEX", "k", "0", "v"]), "ERR invalid expire time in 'setex' command");
        assert_eq!(r.err(&["PSETEX", "k", "-1", "v"]), "ERR invalid expire time in 'psetex' command");
        assert_eq!(r.err(&["SETEX", "k", "abc", "v"]), "ERR value is not an integer or out of range");
    });
}

#[test]
fn getex() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "k", "v"]);
        assert_eq!(query::<String>(&mut c, &["GETEX", "k"]), "v");
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -1);
        assert_eq!(query::<String>(&mut c, &["GETEX", "k", "EX", "100"]), "v");
        assert!((99..=100).contains(&query::<i64>(&mut c, &["TTL", "k"])));
        assert_eq!(query::<String>(&mut c, &["GETEX", "k", "PERSIST"]), "v");
        assert_eq!(query::<i64>(&mut c, &["TTL", "k"]), -1);
        assert_eq!(query::<String>(&mut c, &["GETEX", "k", "PXAT", "4102444800000"]), "v");
        assert_eq!(query::<i64>(&mut c, &["EXPIRETIME", "k"]), 4102444800);
        assert_eq!(query::<String>(&mut c, &["GETEX", "k", "EXAT", "1"]), "v");
        assert_eq!(query::<i64>(&mut c, &["EXISTS", "k"]), 0, "GETEX with a past EXAT deletes the key");
        assert_eq!(query::<Option<String>>(&mut c, &["GETEX", "missing", "EX", "10"]), None);
        let mut r = s.raw();
        let _ = r.call(&["SET", "k", "v"]);
        assert_eq!(r.err(&["GETEX", "k", "EX", "0"]), "ERR invalid expire time in 'getex' command");
        assert_eq!(r.err(&["GETEX", "k", "EX", "10", "PERSIST"]), "ERR syntax error");
        assert_eq!(r.err(&["GETEX", "k", "FOO"]), "ERR syntax error");
        assert_eq!(
            r.call(&["GETEX", "missing", "EX", "0"]),
            Reply::NilBulk,
            "options are checked only for an existing key"
        );
    });
}

#[test]
fn append_and_strlen() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<i64>(&mut c, &["APPEND", "k", "Hello"]), 5);
        assert_eq!(query::<i64>(&mut c, &["APPEND", "k", " World"]), 11);
        assert_eq!(query::<String>(&mut c, &["GET", "k"]), "Hello World");
        assert_eq!(query::<i64>(&mut c, &["STRLEN", "k"]), 11);
        assert_eq!(query::<i64>(&mut c, &["STRLEN", "missing"]), 0);
        let _: () = query(&mut c, &["SET", "n", "12345"]);
        assert_eq!(query::<i64>(&mut c, &["STRLEN", "n"]), 5, "STRLEN of an int-encoded value");
        assert_eq!(query::<i64>(&mut c, &["APPEND", "n", "6"]), 6);
        assert_eq!(query::<i64>(&mut c, &["INCR", "n"]), 123457);
    });
}

#[test]
fn counters() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<i64>(&mut c, &["INCR", "n"]), 1);
        assert_eq!(query::<i64>(&mut c, &["INCRBY", "n", "41"]), 42);
        assert_eq!(query::<i64>(&mut c, &["DECR", "n"]), 41);
        assert_eq!(query::<i64>(&mut c, &["DECRBY", "n", "-9"]), 50);
        assert_eq!(query::<i64>(&mut c, &["DECRBY", "fresh", "5"]), -5);
        let _: () = query(&mut c, &["SET", "n", "9223372036854775806"]);
        assert_eq!(query::<i64>(&mut c, &["INCR", "n"]), i64::MAX);
        let _: () = query(&mut c, &["SET", "k", "10", "EX", "100"]);
        assert_eq!(query::<i64>(&mut c, &["INCR", "k"]), 11);
        assert!(query::<i64>(&mut c, &["TTL", "k"]) > 0, "INCR keeps the TTL");
        let mut r = s.raw();
        assert_eq!(r.err(&["INCR", "n"]), "ERR increment or decrement would overflow");
        let _ = r.call(&["SET", "m", "-9223372036854775808"]);
        assert_eq!(r.err(&["DECR", "m"]), "ERR increment or decrement would overflow");
        assert_eq!(r.err(&["DECRBY", "x", "-9223372036854775808"]), "ERR decrement would overflow");
        for bad in ["abc", " 1", "1 ", "1.0", "", "+1", "01", "99999999999999999999"] {
            let _ = r.call(&["SET", "s", bad]);
            assert_eq!(r.err(&["INCR", "s"]), "ERR value is not an integer or out of range", "INCR of {bad:?}");
        }
        assert_eq!(r.err(&["INCRBY", "n2", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(r.call(&["INCR", "s"]), Reply::Error(b"ERR value is not an integer or out of range".to_vec()));
    });
}

#[test]
fn incrbyfloat() {
    each_shards(|s| {
        let mut c = s.client();
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "f", "10.5"]), "10.5");
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "f", "0.25"]), "10.75");
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "f", "-10.75"]), "0");
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "f", "5.0e3"]), "5000");
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "f", "-5000.5"]), "-0.5");
        let _: () = query(&mut c, &["SET", "i", "3"]);
        assert_eq!(query::<String>(&mut c, &["INCRBYFLOAT", "i", "1"]), "4");
        assert_eq!(query::<String>(&mut c, &["OBJECT", "ENCODING", "i"]), "embstr");
        let mut r = s.raw();
        assert_eq!(r.err(&["INCRBYFLOAT", "f", "abc"]), "ERR value is not a valid float");
        assert_eq!(r.err(&["INCRBYFLOAT", "f", "inf"]), "ERR increment would produce NaN or Infinity");
        let _ = r.call(&["SET", "t", "text"]);
        assert_eq!(r.err(&["INCRBYFLOAT", "t", "1"]), "ERR value is not a valid float");
    });
}

#[test]
fn ranges() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["SET", "k", "This is a string"]);
        for (start, end, want) in [
            ("0", "3", "This"),
            ("-3", "-1", "ing"),
            ("0", "-1", "This is a string"),
            ("10", "100", "string"),
            ("5", "3", ""),
            ("-100", "3", "This"),
            ("100", "200", ""),
        ] {
            assert_eq!(query::<String>(&mut c, &["GETRANGE", "k", start, end]), want, "GETRANGE {start} {end}");
        }
        assert_eq!(query::<String>(&mut c, &["SUBSTR", "k", "0", "3"]), "This");
        assert_eq!(query::<String>(&mut c, &["GETRANGE", "missing", "0", "-1"]), "");
        let _: () = query(&mut c, &["SET", "k2", "Hello World"]);
        assert_eq!(query::<i64>(&mut c, &["SETRANGE", "k2", "6", "Redis"]), 11);
        assert_eq!(query::<String>(&mut c, &["GET", "k2"]), "Hello Redis");
        assert_eq!(query::<i64>(&mut c, &["SETRANGE", "pad", "5", "x"]), 6);
        let padded: Vec<u8> = redis::cmd("GET").arg("pad").query(&mut c).expect("GET pad");
        assert_eq!(padded, b"\0\0\0\0\0x");
        assert_eq!(query::<i64>(&mut c, &["SETRANGE", "none", "3", ""]), 0);
        assert_eq!(query::<i64>(&mut c, &["EXISTS", "none"]), 0, "SETRANGE with an empty value creates nothing");
        assert_eq!(query::<i64>(&mut c, &["SETRANGE", "k2", "100", ""]), 11);
        let mut r = s.raw();
        assert_eq!(r.err(&["SETRANGE", "k2", "-1", "x"]), "ERR offset is out of range");
        assert_eq!(
            r.err(&["SETRANGE", "k2", "536870912", "x"]),
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
        );
        assert_eq!(r.err(&["GETRANGE", "k2", "a", "1"]), "ERR value is not an integer or out of range");
    });
}

#[test]
fn mget_mset_msetnx_across_shards() {
    each_shards(|s| {
        let mut c = s.client();
        let k = spread_keys("multi", 6);
        let _: () = query(&mut c, &["MSET", &k[0], "a", &k[1], "b", &k[2], "c"]);
        let got: Vec<Option<String>> = query(&mut c, &["MGET", &k[0], &k[1], &k[2], &k[3], &k[0]]);
        let want = [Some("a"), Some("b"), Some("c"), None, Some("a")];
        assert_eq!(got, want.map(|v| v.map(String::from)).to_vec());
        // MSETNX is all or nothing, even when the keys live on different shards.
        assert_eq!(query::<i64>(&mut c, &["MSETNX", &k[3], "d", &k[4], "e", &k[2], "x"]), 0);
        let got: Vec<Option<String>> = query(&mut c, &["MGET", &k[2], &k[3], &k[4]]);
        assert_eq!(got, vec![Some("c".to_string()), None, None]);
        assert_eq!(query::<i64>(&mut c, &["MSETNX", &k[3], "d", &k[4], "e", &k[5], "f"]), 1);
        let got: Vec<String> = query(&mut c, &["MGET", &k[3], &k[4], &k[5]]);
        assert_eq!(got, vec!["d", "e", "f"]);
        // The last value wins when a key repeats.
        let _: () = query(&mut c, &["MSET", &k[0], "1", &k[1], "2", &k[0], "3"]);
        assert_eq!(query::<String>(&mut c, &["GET", &k[0]]), "3");
        let mut r = s.raw();
        assert_eq!(r.err(&["MSET", "a", "1", "b"]), "ERR wrong number of arguments for 'mset' command");
        assert_eq!(r.err(&["MSETNX", "a"]), "ERR wrong number of arguments for 'msetnx' command");
    });
}

#[test]
fn mset_is_atomic_for_concurrent_readers() {
    // A reader must never see half of an MSET whose keys span shards.
    let s = crate::support::Server::start(3);
    let k = spread_keys("atomic", 3);
    let mut w = s.client();
    let mut rd = s.client();
    for i in 0..300 {
        let v = i.to_string();
        let _: () = query(&mut w, &["MSET", &k[0], &v, &k[1], &v, &k[2], &v]);
        let got: Vec<Option<String>> = query(&mut rd, &["MGET", &k[0], &k[1], &k[2]]);
        assert!(got.iter().all(|g| g == &got[0]), "MGET saw a partial MSET: {got:?}");
    }
}

#[test]
fn lcs() {
    each_shards(|s| {
        let mut c = s.client();
        let _: () = query(&mut c, &["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
        assert_eq!(query::<String>(&mut c, &["LCS", "key1", "key2"]), "mytext");
        assert_eq!(query::<i64>(&mut c, &["LCS", "key1", "key2", "LEN"]), 6);
        let v: Value = query(&mut c, &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
        let want = Value::Array(vec![
            Value::BulkString(b"matches".to_vec()),
            Value::Array(vec![Value::Array(vec![
                Value::Array(vec![Value::Int(4), Value::Int(7)]),
                Value::Array(vec![Value::Int(5), Value::Int(8)]),
                Value::Int(4),
            ])]),
            Value::BulkString(b"len".to_vec()),
            Value::Int(6),
        ]);
        assert_eq!(v, want);
        assert_eq!(query::<String>(&mut c, &["LCS", "key1", "missing"]), "");
        let mut r = s.raw();
        assert_eq!(
            r.err(&["LCS", "key1", "key2", "LEN", "IDX"]),
            "ERR If you want both the length and indexes, please just use IDX."
        );
        assert_eq!(r.err(&["LCS", "key1", "key2", "FOO"]), "ERR syntax error");
    });
}

#[test]
fn string_encodings() {
    each_shards(|s| {
        let mut c = s.client();
        let enc = |c: &mut redis::Connection, k: &str| query::<String>(c, &["OBJECT", "ENCODING", k]);
        let _: () = query(&mut c, &["SET", "int", "12345"]);
        assert_eq!(enc(&mut c, "int"), "int");
        let _: () = query(&mut c, &["SET", "emb", &"x".repeat(44)]);
        assert_eq!(enc(&mut c, "emb"), "embstr");
        let _: () = query(&mut c, &["SET", "raw", &"x".repeat(45)]);
        assert_eq!(enc(&mut c, "raw"), "raw");
        let _: () = query(&mut c, &["SET", "app", "a"]);
        let _: i64 = query(&mut c, &["APPEND", "app", "b"]);
        assert_eq!(enc(&mut c, "app"), "raw");
        let _: i64 = query(&mut c, &["INCR", "app2"]);
        assert_eq!(enc(&mut c, "app2"), "int");
        let _: () = query(&mut c, &["SET", "neg", "-12"]);
        assert_eq!(enc(&mut c, "neg"), "int");
        let _: () = query(&mut c, &["SET", "lead0", "012"]);
        assert_eq!(enc(&mut c, "lead0"), "embstr");
    });
}
