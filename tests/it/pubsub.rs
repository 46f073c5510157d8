//! Pub/sub over real sockets with 1 and 3 shards: reply shapes byte for byte
//! (RESP2 and RESP3), subscribed-mode errors, delivery exactly once and in
//! publish order to subscribers on every shard, patterns, shard channels,
//! introspection, and a slow subscriber cut off by its output buffer limit.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::resp::Reply;
use crate::support::{each_shards, query, wait_until, Raw, Server};

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// The bytes of one (un)subscribe confirmation or message: `head` is `*` or `>`.
fn shape(head: char, parts: &[&str], count: Option<i64>) -> Vec<u8> {
    let n = parts.len() + count.is_some() as usize;
    let mut s = format!("{head}{n}\r\n");
    for p in parts {
        if *p == "<null2>" {
            s.push_str("$-1\r\n");
        } else if *p == "<null3>" {
            s.push_str("_\r\n");
        } else {
            s.push_str(&bulk(p));
        }
    }
    if let Some(c) = count {
        s.push_str(&format!(":{c}\r\n"));
    }
    s.into_bytes()
}

fn conf(parts: &[&str], count: i64) -> Vec<u8> {
    shape('*', parts, Some(count))
}

fn push(parts: &[&str], count: i64) -> Vec<u8> {
    shape('>', parts, Some(count))
}

const CONTEXT_ERR: &str = "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

#[test]
fn resp2_subscribed_mode_shapes_and_errors() {
    each_shards(|s| {
        let mut r = s.raw();
        assert_eq!(r.cmd(&["SUBSCRIBE", "a", "b"]), conf(&["subscribe", "a"], 1));
        assert_eq!(r.reply_bytes(), conf(&["subscribe", "b"], 2));
        assert_eq!(r.err(&["GET", "x"]), format!("ERR Can't execute 'get': {CONTEXT_ERR}"));
        assert_eq!(r.err(&["CLIENT", "LIST"]), format!("ERR Can't execute 'client|list': {CONTEXT_ERR}"));
        assert_eq!(r.err(&["PUBSUB", "NUMPAT"]), format!("ERR Can't execute 'pubsub|numpat': {CONTEXT_ERR}"));
        assert_eq!(r.cmd(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(r.cmd(&["PING", "hi"]), b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
        assert_eq!(r.err(&["PING", "a", "b"]), "ERR wrong number of arguments for 'ping' command");
        assert_eq!(r.cmd(&["PSUBSCRIBE", "p*"]), conf(&["psubscribe", "p*"], 3));
        assert_eq!(r.cmd(&["SSUBSCRIBE", "s1"]), conf(&["ssubscribe", "s1"], 1));
        assert_eq!(r.cmd(&["UNSUBSCRIBE", "b", "zz"]), conf(&["unsubscribe", "b"], 2));
        assert_eq!(r.reply_bytes(), conf(&["unsubscribe", "zz"], 2));
        assert_eq!(r.cmd(&["UNSUBSCRIBE"]), conf(&["unsubscribe", "a"], 1));
        assert_eq!(r.cmd(&["UNSUBSCRIBE"]), conf(&["unsubscribe", "<null2>"], 1));
        assert_eq!(r.cmd(&["PUNSUBSCRIBE"]), conf(&["punsubscribe", "p*"], 0));
        // Still in subscribed mode through the shard channel.
        assert_eq!(r.err(&["GET", "x"]), format!("ERR Can't execute 'get': {CONTEXT_ERR}"));
        assert_eq!(r.cmd(&["SUNSUBSCRIBE", "s1", "s2"]), conf(&["sunsubscribe", "s1"], 0));
        assert_eq!(r.reply_bytes(), conf(&["sunsubscribe", "s2"], 0));
        assert_eq!(r.cmd(&["SUNSUBSCRIBE"]), conf(&["sunsubscribe", "<null2>"], 0));
        assert_eq!(r.cmd(&["PUNSUBSCRIBE"]), conf(&["punsubscribe", "<null2>"], 0));
        assert_eq!(r.cmd(&["GET", "x"]), b"$-1\r\n");
        assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
        // RESET leaves subscribed mode and drops every subscription.
        assert_eq!(r.cmd(&["SUBSCRIBE", "c"]), conf(&["subscribe", "c"], 1));
        assert_eq!(r.cmd(&["RESET"]), b"+RESET\r\n");
        assert_eq!(r.cmd(&["GET", "x"]), b"$-1\r\n");
        assert_eq!(r.call(&["PUBSUB", "NUMSUB", "c"]), Reply::Array(vec![Reply::Bulk(b"c".to_vec()), Reply::Int(0)]));
        assert_eq!(r.cmd(&["QUIT"]), b"+OK\r\n");
    });
}

#[test]
fn pipelined_commands_see_the_mode_their_predecessors_set() {
    each_shards(|s| {
        let mut r = s.raw();
        r.send(b"SUBSCRIBE a\r\nGET x\r\nUNSUBSCRIBE a\r\nGET x\r\n");
        assert_eq!(r.reply_bytes(), conf(&["subscribe", "a"], 1));
        assert_eq!(r.reply(), Reply::Error(format!("ERR Can't execute 'get': {CONTEXT_ERR}").into_bytes()));
        assert_eq!(r.reply_bytes(), conf(&["unsubscribe", "a"], 0));
        assert_eq!(r.reply_bytes(), b"$-1\r\n");
    });
}

#[test]
fn resp3_pushes_and_other_commands() {
    each_shards(|s| {
        let mut r = s.raw();
        r.cmd(&["HELLO", "3"]);
        assert_eq!(r.cmd(&["SUBSCRIBE", "a"]), push(&["subscribe", "a"], 1));
        // Its own message comes before the PUBLISH reply, as in Redis.
        r.send(b"PUBLISH a hi\r\n");
        assert_eq!(r.reply_bytes(), shape('>', &["message", "a", "hi"], None));
        assert_eq!(r.reply_bytes(), b":1\r\n");
        assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
        assert_eq!(r.cmd(&["GET", "x"]), b"_\r\n");
        assert_eq!(r.cmd(&["UNSUBSCRIBE"]), push(&["unsubscribe", "a"], 0));
        assert_eq!(r.cmd(&["UNSUBSCRIBE"]), push(&["unsubscribe", "<null3>"], 0));
        assert_eq!(r.cmd(&["PSUBSCRIBE", "a*"]), push(&["psubscribe", "a*"], 1));
        r.send(b"PUBLISH ab m\r\n");
        assert_eq!(r.reply_bytes(), shape('>', &["pmessage", "a*", "ab", "m"], None));
        assert_eq!(r.reply_bytes(), b":1\r\n");
        assert_eq!(r.cmd(&["SSUBSCRIBE", "sc"]), push(&["ssubscribe", "sc"], 1));
        r.send(b"SPUBLISH sc m\r\n");
        assert_eq!(r.reply_bytes(), shape('>', &["smessage", "sc", "m"], None));
        assert_eq!(r.reply_bytes(), b":1\r\n");
        // Messages from another connection reach an idle RESP3 subscriber.
        let mut p = s.raw();
        assert_eq!(p.call(&["PUBLISH", "abc", "x"]).int(), Some(1));
        assert_eq!(r.reply_bytes(), shape('>', &["pmessage", "a*", "abc", "x"], None));
        assert_eq!(r.cmd(&["RESET"]), b"+RESET\r\n");
        assert_eq!(p.call(&["PUBLISH", "abc", "x"]).int(), Some(0));
    });
}

/// Reads one message push from a subscriber: (kind, pattern, channel, payload).
fn message(r: &mut Raw) -> (String, String, String, String) {
    let reply = r.reply();
    let items: Vec<String> = reply.items().expect("a message").iter().map(|i| i.text().unwrap_or_default()).collect();
    match items.as_slice() {
        [k, ch, m] => (k.clone(), String::new(), ch.clone(), m.clone()),
        [k, p, ch, m] => (k.clone(), p.clone(), ch.clone(), m.clone()),
        _ => panic!("unexpected message {reply:?}"),
    }
}

#[test]
fn corpus_pubsub() {
    crate::differential::run_corpus("corpus/pubsub.txt", include_str!("corpus/pubsub.txt"), false);
}

#[test]
fn every_subscriber_gets_every_message_once_in_publish_order() {
    each_shards(|s| {
        // Enough connections that, with 3 shards, every shard has subscribers
        // and publishers (connections are spread over shards by the kernel).
        const SUBS: usize = 9;
        const PUBS: usize = 4;
        const MSGS: usize = 150;
        let mut subs: Vec<Raw> = (0..SUBS).map(|_| s.raw()).collect();
        for (i, r) in subs.iter_mut().enumerate() {
            if i % 3 == 2 {
                r.cmd(&["HELLO", "3"]);
            }
            r.send(b"SUBSCRIBE news\r\nPSUBSCRIBE new*\r\n");
            r.reply_bytes();
            r.reply_bytes();
        }
        let threads: Vec<_> = (0..PUBS)
            .map(|p| {
                let port = s.port;
                std::thread::spawn(move || {
                    let mut r = Raw::connect(port);
                    // Half pipelined, half one by one.
                    let mut counts = Vec::new();
                    for chunk in (0..MSGS).collect::<Vec<_>>().chunks(MSGS / 2) {
                        let mut batch = Vec::new();
                        for j in chunk {
                            batch.extend_from_slice(
                                format!("*3\r\n$7\r\nPUBLISH\r\n$4\r\nnews\r\n{}", bulk(&format!("{p}:{j}")))
                                    .as_bytes(),
                            );
                        }
                        r.send(&batch);
                        for _ in chunk {
                            counts.push(r.reply().int().expect("PUBLISH count"));
                        }
                    }
                    counts
                })
            })
            .collect();
        for t in threads {
            let counts = t.join().expect("publisher");
            assert!(counts.iter().all(|&n| n == 2 * SUBS as i64), "PUBLISH counts {counts:?}");
        }
        for r in subs.iter_mut() {
            let mut next: HashMap<(String, usize), usize> = HashMap::new();
            for _ in 0..2 * PUBS * MSGS {
                let (kind, pattern, channel, payload) = message(r);
                assert_eq!(channel, "news");
                assert_eq!(pattern, if kind == "pmessage" { "new*" } else { "" });
                let (p, j) = payload.split_once(':').expect("payload");
                let (p, j): (usize, usize) = (p.parse().unwrap(), j.parse().unwrap());
                let want = next.entry((kind.clone(), p)).or_insert(0);
                assert_eq!(j, *want, "{kind} from publisher {p} out of order or duplicated");
                *want += 1;
            }
            assert!(next.values().all(|&n| n == MSGS), "{next:?}");
            assert!(r.pending_within(Duration::from_millis(50)).is_empty(), "extra messages");
        }
    });
}

#[test]
fn introspection_over_every_shard() {
    each_shards(|s| {
        let mut subs: Vec<Raw> = (0..6).map(|_| s.raw()).collect();
        for (i, r) in subs.iter_mut().enumerate() {
            r.send(format!("SUBSCRIBE common own{i}\r\n").as_bytes());
            r.reply_bytes();
            r.reply_bytes();
            r.cmd(&["PSUBSCRIBE", if i % 2 == 0 { "even*" } else { "odd*" }]);
            r.cmd(&["SSUBSCRIBE", "shard-common"]);
        }
        let mut c = s.client();
        let mut channels: Vec<String> = query(&mut c, &["PUBSUB", "CHANNELS"]);
        channels.sort();
        assert_eq!(channels, ["common", "own0", "own1", "own2", "own3", "own4", "own5"]);
        let mut matching: Vec<String> = query(&mut c, &["PUBSUB", "CHANNELS", "own[1-3]"]);
        matching.sort();
        assert_eq!(matching, ["own1", "own2", "own3"]);
        let numsub: Vec<(String, i64)> = query(&mut c, &["PUBSUB", "NUMSUB", "common", "own3", "nope", "common"]);
        assert_eq!(numsub, [("common".into(), 6), ("own3".into(), 1), ("nope".into(), 0), ("common".into(), 6)]);
        assert_eq!(query::<i64>(&mut c, &["PUBSUB", "NUMPAT"]), 2);
        assert_eq!(query::<Vec<String>>(&mut c, &["PUBSUB", "SHARDCHANNELS"]), ["shard-common"]);
        assert_eq!(query::<Vec<String>>(&mut c, &["PUBSUB", "SHARDCHANNELS", "x*"]), Vec::<String>::new());
        let numsub: Vec<(String, i64)> = query(&mut c, &["PUBSUB", "SHARDNUMSUB", "shard-common", "common"]);
        assert_eq!(numsub, [("shard-common".into(), 6), ("common".into(), 0)]);
        // Patterns count per subscription; channel and pattern both deliver.
        assert_eq!(query::<i64>(&mut c, &["PUBLISH", "common", "m"]), 6);
        assert_eq!(query::<i64>(&mut c, &["PUBLISH", "even-x", "m"]), 3);
        assert_eq!(query::<i64>(&mut c, &["PUBLISH", "own2", "m"]), 1);
        // Shard channels are their own namespace: no patterns, no plain subscribers.
        assert_eq!(query::<i64>(&mut c, &["SPUBLISH", "shard-common", "m"]), 6);
        assert_eq!(query::<i64>(&mut c, &["PUBLISH", "shard-common", "m"]), 0);
        assert_eq!(query::<i64>(&mut c, &["SPUBLISH", "common", "m"]), 0);
        assert_eq!(query::<i64>(&mut c, &["SPUBLISH", "even-x", "m"]), 0);
        for r in subs.iter_mut() {
            let (kind, _, channel, _) = message(r);
            assert_eq!((kind.as_str(), channel.as_str()), ("message", "common"));
        }
        let info: String = query(&mut c, &["INFO", "stats"]);
        for line in ["pubsub_channels:7", "pubsub_patterns:2", "pubsubshard_channels:1"] {
            assert!(info.contains(line), "{line} missing from {info}");
        }
        // Disconnecting drops the subscriptions everywhere.
        drop(subs);
        assert!(wait_until(Duration::from_secs(5), || {
            query::<i64>(&mut c, &["PUBSUB", "NUMPAT"]) == 0
                && query::<Vec<String>>(&mut c, &["PUBSUB", "CHANNELS"]).is_empty()
                && query::<Vec<String>>(&mut c, &["PUBSUB", "SHARDCHANNELS"]).is_empty()
        }));
        assert_eq!(query::<i64>(&mut c, &["PUBLISH", "common", "m"]), 0);
    });
}

#[test]
fn client_list_shows_subscriptions() {
    each_shards(|s| {
        let mut r = s.raw();
        let id = r.call(&["CLIENT", "ID"]).int().unwrap();
        r.send(b"SUBSCRIBE a b\r\nPSUBSCRIBE p*\r\nSSUBSCRIBE s\r\n");
        for _ in 0..4 {
            r.reply_bytes();
        }
        let mut c = s.client();
        let line: String = query(&mut c, &["CLIENT", "LIST", "ID", &id.to_string()]);
        for field in ["flags=P ", "sub=2 ", "psub=1 ", "ssub=1 ", "omem=0 "] {
            assert!(line.contains(field), "{field} missing from {line}");
        }
        let pubsub: String = query(&mut c, &["CLIENT", "LIST", "TYPE", "pubsub"]);
        assert!(pubsub.contains(&format!("id={id} ")), "{pubsub}");
        let normal: String = query(&mut c, &["CLIENT", "LIST", "TYPE", "normal"]);
        assert!(!normal.contains(&format!("id={id} ")), "{normal}");
    });
}

#[test]
fn slow_subscriber_is_disconnected_and_the_server_stays_healthy() {
    for shards in [1, 3] {
        let s = Server::start(shards);
        let mut c = s.client();
        let _: () = query(&mut c, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"]);
        // A subscriber that never reads what it is sent.
        let mut slow = s.raw();
        assert_eq!(slow.cmd(&["SUBSCRIBE", "flood"]), conf(&["subscribe", "flood"], 1));
        let mut fast = s.raw();
        fast.cmd(&["SUBSCRIBE", "flood"]);
        let payload = "x".repeat(64 * 1024);
        let mut p = s.raw();
        // Socket buffers absorb some megabytes first; the limit ends the rest.
        let mut cut = false;
        for i in 0..4000 {
            let n = p.call(&["PUBLISH", "flood", &payload]).int().unwrap();
            assert!(n == 2 || n == 1, "PUBLISH reached {n}");
            // The reading subscriber keeps up and stays connected.
            let (_, _, channel, m) = message(&mut fast);
            assert_eq!((channel.as_str(), m.len()), ("flood", payload.len()));
            if n == 1 {
                cut = true;
                assert!(i > 4, "cut off after {i} messages");
                break;
            }
        }
        assert!(cut, "the slow subscriber was never disconnected (shards {shards})");
        let rest = slow.read_to_close();
        assert!(rest.len() < 64 << 20, "{} bytes arrived", rest.len());
        assert_eq!(query::<Vec<(String, i64)>>(&mut c, &["PUBSUB", "NUMSUB", "flood"]), [("flood".into(), 1)]);
        assert_eq!(query::<String>(&mut c, &["PING"]), "PONG");
        assert_eq!(p.call(&["PUBLISH", "flood", "small"]).int(), Some(1));
        assert_eq!(message(&mut fast).3, "small");
    }
}

#[test]
fn soft_limit_needs_its_seconds() {
    each_shards(|s| {
        let mut c = s.client();
        // Over a tiny soft limit, but only for less than its 60 seconds: kept.
        let _: () = query(&mut c, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 1 60"]);
        let mut sub = s.raw();
        sub.cmd(&["SUBSCRIBE", "soft"]);
        for _ in 0..20 {
            assert_eq!(query::<i64>(&mut c, &["PUBLISH", "soft", "hello"]), 1);
        }
        for _ in 0..20 {
            assert_eq!(message(&mut sub).3, "hello");
        }
    });
}

#[test]
fn no_message_follows_reset_or_unsubscribe() {
    each_shards(|s| {
        let port = s.port;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flood = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut p = Raw::connect(port);
                let batch = "PUBLISH busy m\r\n".repeat(50);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    p.send(batch.as_bytes());
                    for _ in 0..50 {
                        p.reply_bytes();
                    }
                }
            })
        };
        for round in 0..20 {
            let mut r = s.raw();
            let (leave, done): (&[u8], Vec<u8>) = if round % 2 == 0 {
                (b"RESET\r\n", b"+RESET\r\n".to_vec())
            } else {
                (b"UNSUBSCRIBE busy\r\n", conf(&["unsubscribe", "busy"], 0))
            };
            assert_eq!(r.cmd(&["SUBSCRIBE", "busy"]), conf(&["subscribe", "busy"], 1));
            std::thread::sleep(Duration::from_millis(2));
            r.send(leave);
            r.send(b"PING\r\n");
            loop {
                let bytes = r.reply_bytes();
                if bytes == done {
                    break;
                }
                assert!(bytes.starts_with(b"*3\r\n$7\r\nmessage\r\n"), "{:?}", String::from_utf8_lossy(&bytes));
            }
            assert_eq!(r.reply_bytes(), b"+PONG\r\n");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        flood.join().expect("publisher");
    });
}

#[test]
fn output_buffer_limit_from_the_command_line() {
    let s = Server::start_with(3, &["--client-output-buffer-limit", "pubsub", "1mb", "512kb", "10"]);
    let mut c = s.client();
    let got: Vec<String> = query(&mut c, &["CONFIG", "GET", "client-output-buffer-limit"]);
    assert_eq!(
        got,
        ["client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10"]
    );
}
