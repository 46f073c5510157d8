//! RESP benchmarks: parsing a pipeline of GET/SET commands, and writing the
//! common reply shapes.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::resp::{Limits, Out, Parsed, Parser, Proto};

/// `n` commands alternating SET key:i <16-byte value> and GET key:i.
fn pipeline(n: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:08}");
        if i % 2 == 0 {
            wire.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$16\r\nvalue-0123456789\r\n", key.len()).as_bytes(),
            );
        } else {
            wire.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
        }
    }
    wire
}

fn parse_all(wire: &[u8], read: usize) -> usize {
    let mut parser = Parser::new();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut n = 0;
    for chunk in wire.chunks(read) {
        buf.extend_from_slice(chunk);
        while let Ok(Parsed::Command(args)) = parser.next(&mut buf, Limits::default()) {
            n += args.len();
        }
    }
    n
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp_parse");
    for n in [16usize, 256] {
        let wire = pipeline(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("pipeline_{n}_one_read"), |b| b.iter(|| parse_all(black_box(&wire), wire.len())));
        // 16 KiB reads cut commands at arbitrary points, as a socket does.
        let small = wire.len().min(4096);
        g.bench_function(format!("pipeline_{n}_reads_of_{small}"), |b| b.iter(|| parse_all(black_box(&wire), small)));
    }
    let inline = b"PING\r\nGET key:00000001\r\nSET key:00000001 value\r\n".repeat(64);
    g.throughput(Throughput::Elements(192));
    g.bench_function("inline_192", |b| b.iter(|| parse_all(black_box(&inline), inline.len())));
    g.finish();
}

fn write(c: &mut Criterion) {
    let mut g = c.benchmark_group("resp_write");
    let value = vec![b'x'; 64];
    g.throughput(Throughput::Elements(256));
    for proto in [Proto::Resp2, Proto::Resp3] {
        g.bench_function(format!("mixed_256_{proto:?}"), |b| {
            let mut out = Out::new(proto);
            b.iter(|| {
                out.buf.clear();
                for i in 0..64 {
                    out.ok();
                    out.bulk(black_box(&value));
                    out.int(black_box(i * 1_000_003));
                    out.null();
                }
                black_box(out.buf.len())
            })
        });
    }
    g.bench_function("array_of_256_bulks", |b| {
        let mut out = Out::new(Proto::Resp2);
        b.iter(|| {
            out.buf.clear();
            out.array(256);
            for _ in 0..256 {
                out.bulk(black_box(&value));
            }
            black_box(out.buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, parse, write);
criterion_main!(benches);
