//! Unit tests of the HyperLogLog representation, with expected bytes and
//! counts taken from Redis 7.0.15 for the same additions.

use super::*;

fn hll_of(elements: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut v = new_empty();
    for e in elements {
        add(&mut v, &e, 3000).unwrap();
    }
    v
}

fn elements(range: std::ops::Range<u64>) -> impl Iterator<Item = Vec<u8>> {
    range.map(|i| format!("e:{i}").into_bytes())
}

fn hex(s: impl AsRef<str>) -> Vec<u8> {
    let s = s.as_ref();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A small deterministic generator for the random tests.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn empty_hll_is_one_xzero() {
    let v = new_empty();
    assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
    assert_eq!(check(&v), Some(Encoding::Sparse));
    assert_eq!(cached(&v), Some(0));
    assert_eq!(count(&v), Ok(0));
    assert_eq!(decode(&v), "Z:16384");
}

#[test]
fn bytes_match_redis() {
    // PFADD s e:0 .. e:4, one at a time, then GET s on Redis 7.0.
    let v = hll_of(elements(0..5));
    assert_eq!(v, hex("48594c4c0100000000000000000000804f2b804923804fa2804ef08045de804337"));
    // PFADD h a b c: the header, then XZERO, VAL, XZERO, VAL, XZERO, VAL, XZERO.
    let v = hll_of([b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(v, hex("48594c4c01000000000000000000008060f38050b1844bfb80425a"));
    assert_eq!(decode(&v), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
}

#[test]
fn counts_match_redis() {
    for (n, want, enc) in [
        (1000, 995, Encoding::Sparse),
        (10_000, 10_077, Encoding::Dense),
        (100_000, 100_342, Encoding::Dense),
        (1_000_000, 1_004_277, Encoding::Dense),
    ] {
        let v = hll_of(elements(0..n));
        assert_eq!(check(&v), Some(enc), "{n}");
        assert_eq!(count(&v), Ok(want), "{n}");
        // Within the documented 0.81% standard error, times four.
        assert!((want as f64 - n as f64).abs() / (n as f64) < 0.0081 * 4.0);
    }
}

#[test]
fn promotion_at_sparse_max_bytes() {
    // On Redis 7.0, 1706 elements leave a 3000-byte sparse value; the next
    // one would pass hll-sparse-max-bytes and promotes it.
    let mut v = hll_of(elements(0..1706));
    assert_eq!(v.len(), 3000);
    assert_eq!(check(&v), Some(Encoding::Sparse));
    assert_eq!(count(&v), Ok(1688));
    assert!(add(&mut v, b"e:1706", 3000).unwrap());
    assert_eq!(v.len(), DENSE_SIZE);
    assert_eq!(check(&v), Some(Encoding::Dense));
    assert_eq!(count(&v), Ok(1689));
    // With a larger limit it stays sparse.
    let mut w = hll_of(elements(0..1706));
    add(&mut w, b"e:1706", 4000).unwrap();
    assert_eq!(check(&w), Some(Encoding::Sparse));
    assert_eq!(to_dense(&w).unwrap()[HDR_SIZE..], v[HDR_SIZE..]);
}

#[test]
fn value_over_32_promotes() {
    let mut v = new_empty();
    assert!(sparse_set(&mut v, 100, 33, 3000).unwrap());
    assert_eq!(check(&v), Some(Encoding::Dense));
    assert_eq!(dense_get(&v[HDR_SIZE..], 100), 33);
    assert_eq!(cached(&v), Some(0), "promotion keeps the header's cache, as Redis's does");
}

#[test]
fn dense_registers_round_trip() {
    let mut r = rng(7);
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut model = vec![0u8; REGISTERS];
    for _ in 0..5 {
        for (i, m) in model.iter_mut().enumerate() {
            *m = (r() & 63) as u8;
            dense_set_raw(&mut regs, i, *m);
        }
        for (i, m) in model.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), *m, "register {i}");
        }
    }
}

#[test]
fn sparse_and_dense_agree() {
    let mut r = rng(99);
    for round in 0..20 {
        let mut sparse = new_empty();
        let mut dense = to_dense(&sparse).unwrap();
        let n = 1 + r() % 400;
        for _ in 0..n {
            let i = (r() % REGISTERS as u64) as usize;
            let c = 1 + (r() % 32) as u8;
            let a = sparse_set(&mut sparse, i, c, 1 << 20).unwrap();
            let b = dense_set(&mut dense[HDR_SIZE..], i, c);
            assert_eq!(a, b, "round {round}");
        }
        assert_eq!(check(&sparse), Some(Encoding::Sparse));
        assert_eq!(to_dense(&sparse).unwrap()[HDR_SIZE..], dense[HDR_SIZE..]);
        assert_eq!(count(&sparse), count(&dense));
        let mut m1 = [0u8; REGISTERS];
        let mut m2 = [0u8; REGISTERS];
        merge_into(&mut m1, &sparse).unwrap();
        merge_into(&mut m2, &dense).unwrap();
        assert_eq!(m1, m2);
        // Adjacent equal values are merged: no two neighbouring VALs of one value
        // that would fit in one opcode.
        let ops: Vec<Op> = ops(&sparse[HDR_SIZE..]).collect();
        for w in ops.windows(2) {
            if let [Op::Val { value: a, n: x }, Op::Val { value: b, n: y }] = w {
                assert!(a != b || x + y > 4, "{w:?}");
            }
        }
    }
}

#[test]
fn merge_is_union() {
    let a = hll_of(elements(0..3000));
    let b = hll_of(elements(2000..6000));
    let all = hll_of(elements(0..6000));
    let mut max = [0u8; REGISTERS];
    merge_into(&mut max, &a).unwrap();
    merge_into(&mut max, &b).unwrap();
    assert_eq!(estimate(&histogram_raw(&max)), count(&all).unwrap());
    // PFMERGE's write into a new sparse destination.
    let mut dst = new_empty();
    set_registers(&mut dst, &max, 3000);
    assert_eq!(count(&dst), count(&all));
}

#[test]
fn estimator_edges() {
    // All registers zero, all at the largest value a hash gives, and all at 63
    // (only a hand-made value has those): Redis replies 0, and 2^63 for the
    // last, whose estimate is infinite.
    let mut h = [0u32; 64];
    h[0] = REGISTERS as u32;
    assert_eq!(estimate(&h), 0);
    let mut h = [0u32; 64];
    h[63] = REGISTERS as u32;
    assert_eq!(estimate(&h), 1 << 63);
    let mut h = [0u32; 64];
    h[51] = REGISTERS as u32;
    assert_eq!(estimate(&h), 1 << 63);
    let mut h = [0u32; 64];
    h[1] = REGISTERS as u32;
    assert!(estimate(&h) > 0);
}

#[test]
fn truncated_xzero_behaves_as_redis() {
    // A sparse body of one byte, an XZERO whose second byte is missing: Redis
    // reads the string's terminator in its place and cuts the split short.
    let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f".to_vec();
    assert_eq!(decode(&v), "Z:16129");
    assert_eq!(count(&v), Err(Corrupt));
    assert!(add(&mut v, b"a", 3000).unwrap());
    assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80q\xa6\x84M");
    // A header alone: no opcode covers any register.
    let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    assert_eq!(add(&mut v, b"a", 3000), Err(Corrupt));
    assert_eq!(decode(&v), "");
}

#[test]
fn check_rejects_what_redis_rejects() {
    assert_eq!(check(b"HYLL"), None);
    assert_eq!(check(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0"), Some(Encoding::Sparse));
    let mut d = vec![0u8; DENSE_SIZE];
    d[..4].copy_from_slice(b"HYLL");
    assert_eq!(check(&d), Some(Encoding::Dense));
    d.push(0);
    assert_eq!(check(&d), None);
}

#[test]
fn garbage_never_panics() {
    let mut r = rng(12345);
    let base = hll_of(elements(0..300));
    for round in 0..3000 {
        let mut v = if round % 3 == 0 {
            let len = HDR_SIZE + (r() % 64) as usize;
            let mut v: Vec<u8> = (0..len).map(|_| r() as u8).collect();
            v[..5].copy_from_slice(b"HYLL\x01");
            v
        } else {
            let mut v = base.clone();
            for _ in 0..1 + r() % 8 {
                let i = HDR_SIZE + (r() as usize) % (v.len() - HDR_SIZE);
                v[i] = r() as u8;
            }
            if round % 3 == 2 {
                v.truncate(HDR_SIZE + (r() as usize) % (v.len() - HDR_SIZE + 1));
            }
            v
        };
        let _ = count(&v);
        let _ = decode(&v);
        let _ = to_dense(&v);
        let mut max = [0u8; REGISTERS];
        let _ = merge_into(&mut max, &v);
        for k in 0..20 {
            let _ = add(&mut v, format!("x{round}:{k}").as_bytes(), 3000);
        }
        let _ = sparse_set(&mut v, (r() % REGISTERS as u64) as usize, 1 + (r() % 40) as u8, 3000);
        set_registers(&mut v, &max, 3000);
    }
}

#[test]
fn selftest_passes() {
    let mut r = rng(3);
    assert_eq!(selftest(&mut r, 3000), Ok(()));
}
