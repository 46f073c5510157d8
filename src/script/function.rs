//! Function libraries: the `#!lua name=...` metadata line and the FUNCTION
//! DUMP payload, written and read as Redis 7.0 does (one RDB_OPCODE_FUNCTION2
//! and the library's code per library, then the RDB version and a CRC-64).

use crate::cmd::CmdError;

/// `RDB_OPCODE_FUNCTION2`: a library saved as its code.
const OPCODE_FUNCTION2: u8 = 245;
/// `RDB_OPCODE_FUNCTION` (7.0 release candidates): name, engine, description, code.
const OPCODE_FUNCTION_RC: u8 = 246;
/// The RDB version Redis 7.0 writes.
const RDB_VERSION: u16 = 10;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Redis's `functionExtractLibMetaData` plus the name and engine checks of
/// `functionsCreateWithLibraryCtx`: the library's name.
pub fn library_name(code: &[u8]) -> Result<String, CmdError> {
    if !code.starts_with(b"#!") {
        return Err(CmdError::err("Missing library metadata"));
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::err("Invalid library metadata"));
    };
    let parts = match crate::resp::parse::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err(CmdError::err("Invalid library metadata")),
    };
    let engine = &parts[0][2..];
    let mut name: Option<&[u8]> = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(CmdError::err("Invalid metadata value, name argument was given multiple times"));
            }
            name = Some(&p[5..]);
            continue;
        }
        return Err(CmdError::err(format_args!("Invalid metadata value given: {}", String::from_utf8_lossy(p))));
    }
    let Some(name) = name else {
        return Err(CmdError::err("Library name was not given"));
    };
    if !valid_name(name) {
        return Err(CmdError::err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(CmdError::err(format_args!("Engine '{}' not found", String::from_utf8_lossy(engine))));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

fn valid_name(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// FUNCTION DUMP's payload for the libraries' codes (in name order).
pub fn dump<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut p = Vec::new();
    for code in codes {
        p.push(OPCODE_FUNCTION2);
        crate::cmd::keys::dump::save_string(&mut p, code);
    }
    p.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// The library codes of a FUNCTION RESTORE payload.
pub fn undump(p: &[u8]) -> Result<Vec<Vec<u8>>, CmdError> {
    if !crate::cmd::keys::dump::verify_payload(p) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let body = &p[..p.len() - 10];
    let mut r = Reader { buf: body, pos: 0 };
    let mut codes = Vec::new();
    while r.pos < body.len() {
        let bad = || CmdError::err("given type is not a function");
        match r.byte().ok_or_else(bad)? {
            OPCODE_FUNCTION2 => codes.push(r.string().ok_or_else(|| CmdError::err("Failed loading library payload"))?),
            OPCODE_FUNCTION_RC => {
                return Err(CmdError::err(
                    "Pre-GA function format not supported, please use a newer Redis version to convert it",
                ))
            }
            _ => return Err(bad()),
        }
    }
    Ok(codes)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// A length, or an encoding tag (`true`).
    fn len(&mut self) -> Option<(u64, bool)> {
        let b = self.byte()?;
        Some(match b >> 6 {
            0 => ((b & 0x3f) as u64, false),
            1 => ((((b & 0x3f) as u64) << 8) | self.byte()? as u64, false),
            3 => ((b & 0x3f) as u64, true),
            _ => match b {
                0x80 => (u32::from_be_bytes(self.take(4)?.try_into().ok()?) as u64, false),
                0x81 => (u64::from_be_bytes(self.take(8)?.try_into().ok()?), false),
                _ => return None,
            },
        })
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        let (n, enc) = self.len()?;
        if !enc {
            return Some(self.take(usize::try_from(n).ok()?)?.to_vec());
        }
        match n {
            0 => Some((self.byte()? as i8).to_string().into_bytes()),
            1 => Some(i16::from_le_bytes(self.take(2)?.try_into().ok()?).to_string().into_bytes()),
            2 => Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?).to_string().into_bytes()),
            3 => {
                let (clen, _) = self.len()?;
                let (len, _) = self.len()?;
                let c = self.take(usize::try_from(clen).ok()?)?;
                crate::cmd::keys::lzf::decompress(c, usize::try_from(len).ok()?)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors_match_redis() {
        let e = |c: &str| library_name(c.as_bytes()).unwrap_err().0;
        assert_eq!(e("return 1"), "ERR Missing library metadata");
        assert_eq!(e("#!lua"), "ERR Invalid library metadata");
        assert_eq!(e("#!lua name=a foo=b\n"), "ERR Invalid metadata value given: foo=b");
        assert_eq!(e("#!luax name=a\n"), "ERR Engine 'luax' not found");
        assert_eq!(e("#!lua\n"), "ERR Library name was not given");
        assert_eq!(e("#!lua name=a name=b\n"), "ERR Invalid metadata value, name argument was given multiple times");
        assert!(e("#!lua name=a-b\n").starts_with("ERR Library names can only"));
        assert_eq!(library_name(b"#!LUA NAME=lib1\nx").unwrap(), "lib1");
    }

    #[test]
    fn dump_round_trip() {
        let long = "#!lua name=x\n".to_string() + &"redis.register_function('f', function() return 1 end)\n".repeat(5);
        let codes = [b"#!lua name=a\nreturn 1".as_slice(), long.as_bytes()];
        let p = dump(codes.iter().copied());
        let back = undump(&p).unwrap();
        assert_eq!(back, codes.iter().map(|c| c.to_vec()).collect::<Vec<_>>());
        let mut bad = p.clone();
        bad[3] ^= 1;
        assert_eq!(undump(&bad).unwrap_err().0, "ERR DUMP payload version or checksum are wrong");
    }
}
