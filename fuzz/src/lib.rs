//! Fuzz logic shared by the cargo-fuzz targets (fuzz_targets/) and by the
//! stable-toolchain replay of the seed and found corpora (the tests below,
//! run by scripts/fuzz.sh when no nightly toolchain is available).

use bytes::BytesMut;
use tessera::resp::parse::INLINE_MAX;
use tessera::resp::{Limits, Parsed, Parser};

/// What feeding one input produced: the commands, then the error that ended it.
type Outcome = (Vec<Vec<Vec<u8>>>, Option<String>);

/// Feeds `data` to a fresh parser `piece` bytes at a time, as reads would
/// arrive, checking the parser's invariants on every call.
fn feed(data: &[u8], piece: usize, limits: Limits) -> Outcome {
    let mut p = Parser::new();
    let mut buf = BytesMut::new();
    let mut commands = Vec::new();
    for chunk in data.chunks(piece.max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            match p.next(&mut buf, limits) {
                Ok(Parsed::Command(args)) => {
                    assert!(!args.is_empty(), "a command has at least its name");
                    assert!(buf.len() < before, "a complete command consumes its bytes");
                    commands.push(args.iter().map(|a| a.to_vec()).collect());
                }
                Ok(Parsed::Empty) => assert!(buf.len() < before, "an empty command consumes its bytes"),
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    assert!(!e.0.is_empty(), "protocol errors carry Redis's text");
                    return (commands, Some(e.to_string()));
                }
            }
        }
    }
    (commands, None)
}

/// The `resp_parser` target: the first byte picks the read size; the rest is
/// parsed under each kind of limits, and (for inputs shorter than the inline
/// limit, where read boundaries cannot matter) split reads must give the same
/// commands and error as one read.
pub fn resp_parser(data: &[u8]) {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let piece = first as usize % 17 + 1;
    let all = [
        Limits::default(),
        Limits { authenticated: false, ..Limits::default() },
        Limits { max_bulk_len: 64, authenticated: true },
    ];
    for limits in all {
        let split = feed(data, piece, limits);
        if data.len() <= INLINE_MAX {
            let whole = feed(data, data.len(), limits);
            assert_eq!(split, whole, "read size {piece} changed the outcome");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Runs every file of the committed seeds, the local corpus and any crash
    /// artifacts through the target.
    #[test]
    fn replay_corpora() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut n = 0;
        let mut failing = Vec::new();
        for dir in ["seeds/resp_parser", "corpus/resp_parser", "artifacts/resp_parser"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
            for e in entries.flatten() {
                let data = std::fs::read(e.path()).unwrap_or_default();
                if std::panic::catch_unwind(|| super::resp_parser(&data)).is_err() {
                    failing.push(format!("{} ({})", e.path().display(), data.escape_ascii()));
                }
                n += 1;
            }
        }
        assert!(n > 0, "no fuzz inputs found under {}", root.display());
        assert!(failing.is_empty(), "{} of {n} inputs panic the parser:\n{}", failing.len(), failing.join("\n"));
        println!("replayed {n} inputs");
    }

    /// A quick stand-in for fuzzing on stable: mutated seeds from a fixed PRNG.
    #[test]
    fn mutated_seeds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/resp_parser");
        let seeds: Vec<Vec<u8>> = std::fs::read_dir(root)
            .map(|d| d.flatten().map(|e| std::fs::read(e.path()).unwrap_or_default()).collect())
            .unwrap_or_default();
        assert!(!seeds.is_empty());
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut failing: Vec<Vec<u8>> = Vec::new();
        for _ in 0..20_000 {
            let mut d = seeds[(rand() % seeds.len() as u64) as usize].clone();
            for _ in 0..(rand() % 4 + 1) {
                let pos = (rand() % (d.len() as u64 + 1)) as usize;
                match rand() % 4 {
                    0 if pos < d.len() => d[pos] = rand() as u8,
                    1 => d.insert(pos, b"*$\r\n0123456789-\"' "[(rand() % 18) as usize]),
                    2 if pos < d.len() => {
                        d.remove(pos);
                    }
                    _ => d.insert(pos, rand() as u8),
                }
            }
            if std::panic::catch_unwind(|| super::resp_parser(&d)).is_err() && failing.len() < 5 {
                failing.push(d);
            }
        }
        let shown: Vec<String> = failing.iter().map(|d| d.escape_ascii().to_string()).collect();
        assert!(failing.is_empty(), "inputs that panic the parser (first byte = read size): {shown:#?}");
    }
}
