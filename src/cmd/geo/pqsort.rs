//! Redis's `pqsort`: the NetBSD (Bentley-McIlroy) quicksort that sorts only
//! as much as a rank range needs, in Redis 7.0's form (without NetBSD's
//! switch to insertion sort when a pass swaps nothing). GEORADIUS and GEOSEARCH with COUNT sort
//! their matches with it, and points at equal distances come out in the
//! order this algorithm leaves them, so it is reproduced step by step.

use std::cmp::Ordering;

/// Sorts `v` far enough that ranks `lrange..=rrange` hold what a full sort
/// would put there, in order.
pub fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lrange: usize, rrange: usize) {
    sort(v, 0, v.len(), cmp, lrange as isize, rrange as isize);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn insertion<T>(v: &mut [T], a: usize, n: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    for pm in a + 1..a + n {
        let mut pl = pm;
        while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
            v.swap(pl, pl - 1);
            pl -= 1;
        }
    }
}

/// Whether elements `a..a+n` lie wholly before or after the wanted ranks.
fn outside(a: usize, n: usize, l: isize, r: isize) -> bool {
    let (lo, hi) = (a as isize, (a + n) as isize - 1);
    (l < lo && r < lo) || (l > hi && r > hi)
}

fn sort<T>(v: &mut [T], mut a: usize, mut n: usize, cmp: &impl Fn(&T, &T) -> Ordering, l: isize, r: isize) {
    loop {
        if n < 7 {
            insertion(v, a, n, cmp);
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = ((a + n - 1) as isize, (a + n - 1) as isize);
        loop {
            while pb as isize <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as isize <= pc {
                let c = cmp(&v[pc as usize], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as isize > pc {
                break;
            }
            v.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let s = (pa - a).min(pb - pa);
        vecswap(v, a, pb - s, s);
        let s = ((pd - pc) as usize).min(pn - pd as usize - 1);
        vecswap(v, pb, pn - s, s);
        let left = pb - pa;
        if left > 1 && !outside(a, left, l, r) {
            sort(v, a, left, cmp, l, r);
        }
        let right = (pd - pc) as usize;
        if right <= 1 {
            return;
        }
        a = pn - right;
        n = right;
        if outside(a, n, l, r) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_wanted_ranks() {
        let mut seed = 7u64;
        for len in [0usize, 1, 5, 7, 8, 40, 41, 100, 500] {
            let v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as u32 % 50
                })
                .collect();
            let mut full = v.clone();
            full.sort();
            for k in [1usize, 3, 10, 60] {
                if k > len {
                    continue;
                }
                let mut p = v.clone();
                pqsort(&mut p, &|a: &u32, b: &u32| a.cmp(b), 0, k - 1);
                assert_eq!(&p[..k], &full[..k], "len {len} k {k}");
            }
        }
    }
    #[test]
    fn ties_fall_as_in_redis() {
        // A GEOSEARCH's matches in scan order (distances in feet) and the
        // first nine redis-server 7.0 returns with ASC COUNT 9.
        let mut v = vec![
            ("m49", 17119101.4547),
            ("m41", 11409977.4296),
            ("m56", 31275203.6421),
            ("m16", 11646711.8780),
            ("m31", 11391305.7418),
            ("m44", 11391305.7418),
            ("m46", 1210912.1387),
            ("m19", 0.0000),
            ("m42", 0.0000),
            ("m52", 11824633.9807),
            ("m43", 12763765.4561),
            ("m48", 14240730.5701),
            ("m11", 10689351.6460),
            ("m22", 10689351.6460),
            ("m58", 10689351.6460),
            ("m53", 10702265.2568),
            ("m57", 14266295.5135),
            ("m32", 15376559.6868),
            ("m12", 15479954.3249),
            ("m54", 25546487.3215),
            ("m36", 15556327.6962),
            ("m33", 16747893.7887),
            ("m25", 21351246.4725),
            ("m2", 15488815.6858),
            ("m29", 15520575.5585),
            ("m47", 18325411.9854),
            ("m51", 20494395.5898),
            ("m24", 24199317.6869),
            ("m3", 24199317.6869),
            ("m9", 36671008.4093),
            ("m50", 31606816.0673),
        ];
        let asc = |a: &(&str, f64), b: &(&str, f64)| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal);
        pqsort(&mut v, &asc, 0, 8);
        let names: Vec<&str> = v[..9].iter().map(|p| p.0).collect();
        assert_eq!(names, ["m42", "m19", "m46", "m58", "m22", "m11", "m53", "m31", "m44"]);
    }
}
