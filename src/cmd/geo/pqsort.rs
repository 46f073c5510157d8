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
}
