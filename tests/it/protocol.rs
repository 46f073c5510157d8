//! Wire-level behaviour: inline commands, pipelines split at every byte,
//! protocol errors (exact texts, connection closed afterwards), RESP3 and the
//! dispatcher's unknown-command and arity errors. Expected bytes are what
//! redis-server 7.0 sends.

use crate::support::{each_shards, encode, show, spread_keys, Raw, Server};

fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(got == want, "{what}\n  got:  {}\n  want: {}", show(got), show(want));
}

#[test]
fn inline_commands() {
    each_shards(|s| {
        let mut c = s.raw();
        assert_bytes(&c.inline("PING"), b"+PONG\r\n", "PING");
        c.send(b"PING\n");
        assert_bytes(&c.reply_bytes(), b"+PONG\r\n", "PING with bare LF");
        assert_bytes(&c.inline("   SET   k1   v1   "), b"+OK\r\n", "blanks around words");
        assert_bytes(&c.inline("get k1"), b"$2\r\nv1\r\n", "lowercase name");
        assert_bytes(&c.inline(r#"SET "a key" "v\x41\n\t\"q\"""#), b"+OK\r\n", "double quotes with escapes");
        assert_bytes(&c.inline("GET 'a key'"), b"$7\r\nvA\n\t\"q\"\r\n", "single quotes");
        assert_bytes(&c.inline(r"SET sq 'it\'s'"), b"+OK\r\n", "escaped single quote");
        assert_bytes(&c.inline("GET sq"), b"$4\r\nit's\r\n", "escaped single quote value");
        assert_bytes(&c.inline(r#"SET "" "\xff\x00""#), b"+OK\r\n", "empty key, binary value");
        assert_bytes(&c.inline(r#"GET """#), b"$2\r\n\xff\x00\r\n", "empty key");
        // Empty lines are skipped without a reply.
        c.send(b"\r\n\n   \r\nPING\r\n");
        assert_bytes(&c.reply_bytes(), b"+PONG\r\n", "empty lines skipped");
        // `*0` and `*-1` headers are skipped too.
        c.send(b"*0\r\n*-1\r\nPING\r\n");
        assert_bytes(&c.reply_bytes(), b"+PONG\r\n", "*0 and *-1 skipped");
        assert_bytes(&c.inline("ECHO \"two words\""), b"$9\r\ntwo words\r\n", "ECHO quoted");
    });
}

/// A pipeline of commands on keys of different shards and its exact replies.
fn pipeline() -> (Vec<u8>, Vec<u8>) {
    let k = spread_keys("split", 3);
    let mut wire = Vec::new();
    wire.extend(encode(&["SET", &k[0], "hello"]));
    wire.extend(encode(&["GET", &k[0]]));
    wire.extend(encode(&[&b"SET"[..], k[1].as_bytes(), b"x\r\ny\x00z"]));
    wire.extend(encode(&["GET", &k[1]]));
    wire.extend(encode(&["GET", &k[2]]));
    wire.extend(encode(&["DEL", &k[0], &k[1], &k[2]]));
    wire.extend(b"PING\r\n");
    let want = b"+OK\r\n$5\r\nhello\r\n+OK\r\n$6\r\nx\r\ny\x00z\r\n$-1\r\n:2\r\n+PONG\r\n".to_vec();
    (wire, want)
}

#[test]
fn pipeline_split_at_every_byte() {
    each_shards(|s| {
        let (wire, want) = pipeline();
        let mut c = s.raw();
        for cut in 0..=wire.len() {
            c.send(&wire[..cut]);
            c.send(&wire[cut..]);
            let got = c.read_bytes(want.len());
            assert_bytes(&got, &want, &format!("pipeline split at byte {cut} of {}", wire.len()));
        }
    });
}

#[test]
fn pipeline_one_byte_per_write() {
    each_shards(|s| {
        let (wire, want) = pipeline();
        let mut c = s.raw();
        for b in &wire {
            c.send(std::slice::from_ref(b));
        }
        assert_bytes(&c.read_bytes(want.len()), &want, "pipeline sent one byte per write");
    });
}

#[test]
fn long_pipeline_keeps_request_order() {
    each_shards(|s| {
        let mut wire = Vec::new();
        let mut want = Vec::new();
        for i in 0..1000 {
            wire.extend(encode(&["SET", &format!("key:{i}"), &i.to_string()]));
            want.extend_from_slice(b"+OK\r\n");
        }
        for i in (0..1000).rev() {
            wire.extend(encode(&["GET", &format!("key:{i}")]));
            want.extend(format!("${}\r\n{i}\r\n", i.to_string().len()).bytes());
            if i % 7 == 0 {
                wire.extend(b"PING\r\n");
                want.extend_from_slice(b"+PONG\r\n");
            }
        }
        let mut c = s.raw();
        c.send(&wire);
        assert_bytes(&c.read_bytes(want.len()), &want, "1000 SETs then 1000 GETs in one write");
    });
}

#[test]
fn large_values_across_reads() {
    each_shards(|s| {
        let mut c = s.raw();
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        assert_bytes(&c.cmd(&[&b"SET"[..], b"big", &big]), b"+OK\r\n", "SET 3 MB");
        let mut want = format!("${}\r\n", big.len()).into_bytes();
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n");
        let got = c.cmd(&["GET", "big"]);
        assert!(got == want, "GET of a 3 MB value returned {} bytes, wanted {}", got.len(), want.len());
    });
}

/// (input, exact bytes before the close) for inputs that end the connection.
fn fatal_cases() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (b"*a\r\n".to_vec(), b"-ERR Protocol error: invalid multibulk length\r\n".to_vec()),
        (b"*3000000000\r\n".to_vec(), b"-ERR Protocol error: invalid multibulk length\r\n".to_vec()),
        (b"*1\r\n$a\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n".to_vec()),
        (b"*1\r\n$-1\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n".to_vec()),
        (b"*2\r\n$3\r\nget\r\n$600000000\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n".to_vec()),
        (b"*1\r\nx\r\n".to_vec(), b"-ERR Protocol error: expected '$', got 'x'\r\n".to_vec()),
        (b"*1\r\n*1\r\n".to_vec(), b"-ERR Protocol error: expected '$', got '*'\r\n".to_vec()),
        // Control characters in error texts are sent as spaces.
        (b"*1\r\n\r\nx".to_vec(), b"-ERR Protocol error: expected '$', got ' '\r\n".to_vec()),
        (b"*2\r\n$1\r\na\r\n\n\r\n".to_vec(), b"-ERR Protocol error: expected '$', got ' '\r\n".to_vec()),
        (b"*1\r\n\xff\r\n".to_vec(), b"-ERR Protocol error: expected '$', got '\xff'\r\n".to_vec()),
        (b"set a \"b\r\n".to_vec(), b"-ERR Protocol error: unbalanced quotes in request\r\n".to_vec()),
        (b"set 'a'b c\r\n".to_vec(), b"-ERR Protocol error: unbalanced quotes in request\r\n".to_vec()),
        (b"set \"a\"b c\r\n".to_vec(), b"-ERR Protocol error: unbalanced quotes in request\r\n".to_vec()),
        // Commands before the bad one in the same packet still get their replies.
        (
            b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n*x\r\n".to_vec(),
            b"+PONG\r\n+OK\r\n-ERR Protocol error: expected '$', got '*'\r\n".to_vec(),
        ),
        (
            b"PING\r\nGET nokey\r\n*-x\r\n".to_vec(),
            b"+PONG\r\n$-1\r\n-ERR Protocol error: invalid multibulk length\r\n".to_vec(),
        ),
        (b"PING\r\nQUIT\r\nPING\r\n".to_vec(), b"+PONG\r\n+OK\r\n".to_vec()),
    ];
    v.push((vec![b'a'; 70_000], b"-ERR Protocol error: too big inline request\r\n".to_vec()));
    let mut mbulk = b"*".to_vec();
    mbulk.extend(std::iter::repeat_n(b'1', 70_000));
    v.push((mbulk, b"-ERR Protocol error: too big mbulk count string\r\n".to_vec()));
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', 70_000));
    v.push((bulk, b"-ERR Protocol error: too big bulk count string\r\n".to_vec()));
    v
}

#[test]
fn protocol_errors_close_the_connection() {
    each_shards(|s| {
        for (input, want) in fatal_cases() {
            let mut c = s.raw();
            c.send(&input);
            let got = c.read_to_close();
            assert_bytes(&got, &want, &format!("input {:?}", show(&input[..input.len().min(60)])));
        }
        // The server is still fine afterwards.
        assert_bytes(&s.raw().inline("PING"), b"+PONG\r\n", "PING after protocol errors");
    });
}

#[test]
fn protocol_error_split_over_reads() {
    each_shards(|s| {
        let input = b"GET a\r\n*2\r\n$3\r\nGET\r\n$x\r\n";
        for cut in 1..input.len() {
            let mut c = s.raw();
            c.send(&input[..cut]);
            c.send(&input[cut..]);
            let got = c.read_to_close();
            assert_bytes(&got, b"$-1\r\n-ERR Protocol error: invalid bulk length\r\n", &format!("split at {cut}"));
        }
    });
}

#[test]
fn bulk_payload_terminator_is_not_checked() {
    // Redis skips the two bytes after a bulk payload whatever they are.
    each_shards(|s| {
        let mut c = s.raw();
        c.send(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPINGyy");
        assert_bytes(&c.read_bytes(14), b"+PONG\r\n+PONG\r\n", "two PINGs with odd terminators");
        assert_bytes(&c.inline("PING"), b"+PONG\r\n", "connection still open");
    });
}

#[test]
fn unauthenticated_limits() {
    let s = Server::start_with(1, &["--requirepass", "pw"]);
    for (input, want) in [
        (&b"*11\r\n"[..], &b"-ERR Protocol error: unauthenticated multibulk length\r\n"[..]),
        (b"*1\r\n$16385\r\n", b"-ERR Protocol error: unauthenticated bulk length\r\n"),
    ] {
        let mut c = s.raw();
        c.send(input);
        assert_bytes(&c.read_to_close(), want, &show(input));
    }
    let mut c = s.raw();
    assert_bytes(&c.inline("GET a"), b"-NOAUTH Authentication required.\r\n", "NOAUTH");
    assert_bytes(
        &c.inline("AUTH x"),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        "AUTH wrong",
    );
    assert_bytes(&c.inline("AUTH pw"), b"+OK\r\n", "AUTH");
    // Authenticated clients get the normal limits.
    let mut args = vec!["MSET".to_string()];
    for i in 0..10 {
        args.push(format!("k{i}"));
        args.push("v".into());
    }
    assert_bytes(&c.cmd(&args), b"+OK\r\n", "MSET with 21 arguments after AUTH");
}

#[test]
fn unknown_commands_and_arity() {
    each_shards(|s| {
        let mut c = s.raw();
        let long = "a".repeat(200);
        let cases: Vec<(String, Vec<u8>)> = vec![
            ("FOO a b".into(), b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n".to_vec()),
            ("foo".into(), b"-ERR unknown command 'foo', with args beginning with: \r\n".to_vec()),
            (
                format!("FOO {long} b"),
                format!("-ERR unknown command 'FOO', with args beginning with: '{}' \r\n", &long[..128]).into_bytes(),
            ),
            (
                format!("{long} x"),
                format!("-ERR unknown command '{}', with args beginning with: 'x' \r\n", &long[..128]).into_bytes(),
            ),
            ("GET".into(), b"-ERR wrong number of arguments for 'get' command\r\n".to_vec()),
            ("get a b".into(), b"-ERR wrong number of arguments for 'get' command\r\n".to_vec()),
            ("SET k".into(), b"-ERR wrong number of arguments for 'set' command\r\n".to_vec()),
            ("client".into(), b"-ERR wrong number of arguments for 'client' command\r\n".to_vec()),
            ("CONFIG foo".into(), b"-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n".to_vec()),
            ("client FOO".into(), b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n".to_vec()),
            ("object foo".into(), b"-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n".to_vec()),
            ("command foo".into(), b"-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n".to_vec()),
            ("config get".into(), b"-ERR wrong number of arguments for 'config|get' command\r\n".to_vec()),
        ];
        for (line, want) in cases {
            assert_bytes(&c.inline(&line), &want, &line);
        }
        let mut many = "FOO".to_string();
        for _ in 0..100 {
            many.push_str(" a");
        }
        let mut want = "-ERR unknown command 'FOO', with args beginning with: ".to_string();
        for _ in 0..32 {
            want.push_str("'a' ");
        }
        want.push_str("\r\n");
        assert_bytes(&c.inline(&many), want.as_bytes(), "args listing is cut at 128 characters");
        // A multibulk with an empty command name.
        assert_bytes(&c.cmd(&[""]), b"-ERR unknown command '', with args beginning with: \r\n", "empty command name");
    });
}

#[test]
fn resp3_via_hello() {
    each_shards(|s| {
        let mut c = s.raw();
        let hello = c.inline("HELLO 3");
        let text = show(&hello);
        assert!(hello.starts_with(b"%7\r\n"), "HELLO 3 replies with a 7-entry map: {text}");
        for field in [
            "$6\\r\\nserver",
            "$7\\r\\nversion",
            "$5\\r\\nproto\\r\\n:3",
            "$2\\r\\nid\\r\\n:",
            "$4\\r\\nmode",
            "$4\\r\\nrole\\r\\n$6\\r\\nmaster",
            "$7\\r\\nmodules\\r\\n*0",
        ] {
            assert!(text.contains(field), "HELLO 3 reply lacks {field}: {text}");
        }
        assert_bytes(&c.inline("GET missing"), b"_\r\n", "RESP3 null");
        assert_bytes(&c.inline("SET k 10"), b"+OK\r\n", "SET");
        assert_bytes(&c.inline("MGET k missing"), b"*2\r\n$2\r\n10\r\n_\r\n", "RESP3 MGET");
        assert_bytes(
            &c.inline("CONFIG GET databases"),
            b"%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n",
            "RESP3 CONFIG GET map",
        );
        assert_bytes(&c.inline("INCRBYFLOAT k 0.5"), b"$4\r\n10.5\r\n", "INCRBYFLOAT stays a bulk string in RESP3");
        let hello2 = c.inline("HELLO 2");
        assert!(hello2.starts_with(b"*14\r\n"), "HELLO 2 replies with a flat array: {}", show(&hello2));
        assert_bytes(&c.inline("GET missing"), b"$-1\r\n", "back to RESP2 null");
        assert_bytes(&c.inline("HELLO 4"), b"-NOPROTO unsupported protocol version\r\n", "HELLO 4");
        assert_bytes(&c.inline("HELLO x"), b"-ERR Protocol version is not an integer or out of range\r\n", "HELLO x");
        assert_bytes(&c.inline("HELLO 2 SETNAME a b"), b"-ERR Syntax error in HELLO option 'b'\r\n", "HELLO syntax");
        let named = c.inline("HELLO 3 SETNAME conn1");
        assert!(named.starts_with(b"%7\r\n"), "HELLO 3 SETNAME: {}", show(&named));
        assert_bytes(&c.inline("CLIENT GETNAME"), b"$5\r\nconn1\r\n", "name set by HELLO");
    });
}

#[test]
fn quit_and_reset() {
    each_shards(|s| {
        let mut c = s.raw();
        assert_bytes(c.inline("HELLO 3").get(..4).unwrap_or_default(), b"%7\r\n", "HELLO 3");
        assert_bytes(&c.inline("SELECT 2"), b"+OK\r\n", "SELECT 2");
        assert_bytes(&c.inline("SET k v"), b"+OK\r\n", "SET in db 2");
        assert_bytes(&c.inline("RESET"), b"+RESET\r\n", "RESET");
        assert_bytes(&c.inline("GET k"), b"$-1\r\n", "RESET selects db 0 and RESP2");
        c.send(b"QUIT\r\nPING\r\n");
        assert_bytes(&c.read_to_close(), b"+OK\r\n", "QUIT closes after +OK");
    });
}

#[test]
fn many_connections_at_once() {
    each_shards(|s| {
        let mut conns: Vec<Raw> = (0..50).map(|_| s.raw()).collect();
        for (i, c) in conns.iter_mut().enumerate() {
            c.send(&encode(&["SET", &format!("c{i}"), &i.to_string()]));
        }
        for c in conns.iter_mut() {
            assert_bytes(&c.reply_bytes(), b"+OK\r\n", "SET from one of 50 connections");
        }
        for (i, c) in conns.iter_mut().enumerate() {
            let other = (i + 17) % 50;
            let want = format!("${}\r\n{other}\r\n", other.to_string().len());
            assert_bytes(&c.cmd(&["GET", &format!("c{other}")]), want.as_bytes(), "GET of another connection's key");
        }
    });
}

#[test]
fn slow_reader_gets_every_byte() {
    // Replies much larger than the socket buffers, read slowly: the server has
    // to wait for room to write, then go on where it stopped.
    each_shards(|s| {
        let mut c = s.raw();
        let value = vec![b'x'; 4 << 20];
        c.send(&encode(&[&b"SET"[..], b"big", &value]));
        assert_bytes(&c.reply_bytes(), b"+OK\r\n", "SET 4 MiB");
        let mut pipeline = Vec::new();
        for _ in 0..4 {
            pipeline.extend_from_slice(&encode(&["GET", "big"]));
        }
        pipeline.extend_from_slice(&encode(&["PING"]));
        c.send(&pipeline);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let header = format!("${}\r\n", value.len());
        for i in 0..4 {
            let mut got = Vec::new();
            while got.len() < header.len() + value.len() + 2 {
                let step = (header.len() + value.len() + 2 - got.len()).min(256 << 10);
                got.extend_from_slice(&c.read_bytes(step));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            assert!(got.starts_with(header.as_bytes()), "reply {i} header");
            assert!(got[header.len()..header.len() + value.len()].iter().all(|&b| b == b'x'), "reply {i} body");
            assert_bytes(&got[got.len() - 2..], b"\r\n", "reply {i} end");
        }
        assert_bytes(&c.reply_bytes(), b"+PONG\r\n", "PING after the large replies");
    });
}
