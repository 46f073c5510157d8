//! Redis's glob matching (`stringmatchlen` in util.c), byte for byte: `*`, `?`,
//! `[abc]`, `[^a]`, `[a-z]` and `\x` escapes, with the same quirks for
//! unterminated classes and the same protection against abusive patterns.

/// Whether `string` matches the glob `pattern`, as Redis's `stringmatchlen`.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// The pattern byte at `i`; past the end it reads the NUL terminator Redis's
/// sds strings carry, which the C code relies on.
#[inline]
fn at(pat: &[u8], i: usize) -> u8 {
    pat.get(i).copied().unwrap_or(0)
}

/// C's `tolower` on a (signed) char: only ASCII letters change.
#[inline]
fn lower(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[inline]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    let (mut p, mut si) = (0usize, 0usize);
    while p < pat.len() && si < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(pat, p + 1) == b'*' {
                    p += 1;
                }
                if pat.len() - p == 1 {
                    return true;
                }
                while si < s.len() {
                    if match_impl(&pat[p + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    // No match for the rest of the pattern anywhere in the rest of the
                    // string: an earlier `*` cannot help either.
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    let rem = pat.len() - p;
                    if at(pat, p) == b'\\' && rem >= 2 {
                        p += 1;
                        if pat[p] == s[si] {
                            matched = true;
                        }
                    } else if at(pat, p) == b']' {
                        break;
                    } else if rem == 0 {
                        // Unterminated class: step back so the outer loop ends here.
                        p -= 1;
                        break;
                    } else if rem >= 3 && pat[p + 1] == b'-' {
                        // C compares (signed) chars here.
                        let (mut start, mut end) = (pat[p] as i8 as i32, pat[p + 2] as i8 as i32);
                        let mut c = s[si] as i8 as i32;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            c = lower(c);
                        }
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if eq(pat[p], s[si], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            c => {
                let c = if c == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if !eq(c, s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while at(pat, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::string_match;

    fn m(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        assert!(m("a*", "a"));
        assert!(m("a*", "abc"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbbd"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed ranges are swapped");
        assert!(m("", ""));
        assert!(!m("", "a"));
        // Redis needs at least one byte for `*` to match unless it is the whole
        // pattern `*` (KEYS/SCAN special-case that one).
        assert!(!m("*", ""));
        assert!(!m("**", ""));
    }

    #[test]
    fn escapes() {
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("a[\\[]", "a["));
        assert!(m("\\", "\\"), "a lone trailing backslash is literal");
        assert!(m("\\\\", "\\"));
        assert!(!m("a\\", "a"));
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn unterminated_classes_like_redis_7_0_15() {
        // Results observed on redis-server 7.0.15 (KEYS over a, b, abc, a*, a[, \, "", ab]).
        assert!(m("[a", "a"));
        assert!(!m("[a", "b"));
        assert!(m("[a-", "a"));
        assert!(m("[a-", "-"));
        assert!(m("[z-a]", "b"));
        assert!(m("a[^", "a["));
        assert!(m("a[^", "a*"));
        assert!(!m("a[^", "a"));
        assert!(m("a[^]", "a*"));
        assert!(!m("a[]", "a["));
        assert!(!m("a[]]", "a]"));
        assert!(m("ab]", "ab]"));
        assert!(!m("[", "x"));
        assert!(m("[^", "x"));
    }

    #[test]
    fn signed_char_ranges() {
        // C compares signed chars: [a-\xff] is the range -1..='a'.
        assert!(string_match(b"[a-\xff]", b"\xff", false));
        assert!(string_match(b"[a-\xff]", b"0", false));
        assert!(!string_match(b"[a-\xff]", b"\x80", false));
        assert!(!string_match(b"[a-\xff]", b"z", false));
    }

    #[test]
    fn nocase() {
        assert!(string_match(b"H[A-C]LLO", b"hbllo", true));
        assert!(string_match(b"HELLO*", b"hello world", true));
        assert!(!string_match(b"HELLO*", b"hello world", false));
    }

    #[test]
    fn abusive_patterns_terminate() {
        let pat = "a*".repeat(50) + "b";
        let s = "a".repeat(60);
        assert!(!m(&pat, &s));
        let deep = "*?".repeat(2000);
        assert!(!m(&deep, &"x".repeat(1500)));
    }
}
