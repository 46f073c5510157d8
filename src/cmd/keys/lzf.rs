//! LZF as Redis builds it (liblzf 3.6, `HLOG` 16, `VERY_FAST`): DUMP payloads
//! must be byte-identical to Redis's, so compression follows `lzf_c.c` step by
//! step, including when it gives up. The `lzf` crate's encoder differs in
//! those details; its format is the same, so decoding could use it, but
//! `lzf_d.c`'s exact length rules are kept here too.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn frst(p: &[u8], i: usize) -> u32 {
    ((p[i] as u32) << 8) | p[i + 1] as u32
}

#[inline]
fn next(v: u32, p: &[u8], i: usize) -> u32 {
    (v << 8) | p[i + 2] as u32
}

#[inline]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into at most `out_len` bytes, or `None` where
/// `lzf_compress` returns 0 (output would not fit).
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    let mut out = vec![0u8; out_len];
    // Last position seen for each hash. 0 stands for none: as in the C code,
    // position 0 is never a back reference.
    let mut htab = vec![0usize; HSIZE];
    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit = 0usize;
    let mut hval = if in_len >= 2 { frst(input, 0) } else { 0 };
    while in_len >= 3 && ip < in_len - 2 {
        hval = next(hval, input, ip);
        let slot = idx(hval);
        let reference = htab[slot];
        htab[slot] = ip;
        let off = ip.wrapping_sub(reference).wrapping_sub(1);
        if off < MAX_OFF
            && reference > 0
            && input[reference + 2] == input[ip + 2]
            && input[reference..reference + 2] == input[ip..ip + 2]
        {
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            // A faster conservative test, then the exact one.
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= usize::from(lit == 0); // undo run if length is zero
            'matching: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[reference + len] != input[ip + len] {
                            break 'matching;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[reference + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                *out.get_mut(op)? = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                *out.get_mut(op)? = ((off >> 8) + (7 << 5)) as u8;
                *out.get_mut(op + 1)? = (len - 7) as u8;
                op += 2;
            }
            *out.get_mut(op)? = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = frst(input, ip);
            hval = next(hval, input, ip);
            htab[idx(hval)] = ip;
            ip += 1;
            hval = next(hval, input, ip);
            htab[idx(hval)] = ip;
            ip += 1;
        } else {
            // One more literal byte we must copy.
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                lit = 0;
                op += 1;
            }
        }
    }
    // At most 3 bytes can be missing here.
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        *out.get_mut(op)? = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            *out.get_mut(op - lit - 1)? = (lit as u8).wrapping_sub(1);
            lit = 0;
            op += 1;
        }
    }
    *out.get_mut(op - lit - 1)? = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes, with
/// `lzf_decompress`'s checks (`CHECK_INPUT`); `None` on corrupt data.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // The claimed size comes from the client: never reserve more than the input can expand to.
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(MAX_REF + 2)));
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if out.len() + n > out_len || ip + n > input.len() {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let mut back = ((ctrl & 0x1f) << 8) + 1;
            if ip >= input.len() {
                return None;
            }
            if len == 7 {
                len += input[ip] as usize;
                ip += 1;
                if ip >= input.len() {
                    return None;
                }
            }
            back += input[ip] as usize;
            ip += 1;
            if out.len() + len + 2 > out_len || back > out.len() {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len + 2 {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_output() {
        // Bytes taken from redis-server 7.0.15 DUMP payloads.
        let a21 = vec![b'a'; 21];
        assert_eq!(compress(&a21, 17), Some(b"\x01aa\xe0\n\x00".to_vec()));
        let a25 = vec![b'a'; 25];
        assert_eq!(compress(&a25, 21), Some(b"\x01aa\xe0\x0c\x00\x01aa".to_vec()));
        let hw = b"hello world hello world hello world";
        assert_eq!(compress(hw, hw.len() - 4), Some(b"\x0chello world h\xe0\x0b\x0b\x01ld".to_vec()));
        let ab = b"ab".repeat(100);
        assert_eq!(compress(&ab, ab.len() - 4), Some(b"\x02aba\xe0\xba\x01\x01ab".to_vec()));
    }

    #[test]
    fn gives_up_when_it_does_not_fit() {
        let s = b"abcdefghijklmnopqrstuvwxyz";
        assert_eq!(compress(s, s.len() - 4), None);
        assert_eq!(compress(b"", 10), None);
    }

    #[test]
    fn round_trips() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"x".repeat(16384),
            (0..=255u8).cycle().take(3000).collect(),
            b"abcabcabcabcabcabcabcabcabcabc".to_vec(),
        ];
        let mut seed = 7u64;
        inputs.push(
            (0..5000)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    b"abcd"[(seed >> 62) as usize]
                })
                .collect(),
        );
        for v in inputs {
            let c = compress(&v, v.len() + 64).expect("compressible");
            assert_eq!(decompress(&c, v.len()).as_deref(), Some(&v[..]));
            assert_eq!(decompress(&c, v.len() + 1), None);
            assert_eq!(lzf::decompress(&c, v.len()).ok().as_deref(), Some(&v[..]));
        }
    }

    #[test]
    fn corrupt_input_is_refused() {
        assert_eq!(decompress(b"\x05ab", 6), None);
        assert_eq!(decompress(b"\x00a\xe0", 10), None);
        assert_eq!(decompress(b"\x20\x05", 3), None, "reference before the start");
        assert_eq!(decompress(b"", 0), Some(Vec::new()));
    }
}
