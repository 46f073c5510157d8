//! RESP2/RESP3 reply encoding straight into a connection's output buffer.

use bytes::{BufMut, BytesMut};

/// Protocol version negotiated with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

/// Appends encoded replies to a buffer. Every method writes one complete RESP
/// value (or an aggregate header whose elements follow).
#[derive(Debug, Default)]
pub struct Out {
    pub buf: BytesMut,
    pub proto: Proto,
}

fn put_int_line(buf: &mut BytesMut, prefix: u8, v: i64) {
    let mut tmp = itoa::Buffer::new();
    let s = tmp.format(v);
    buf.reserve(s.len() + 3);
    buf.put_u8(prefix);
    buf.put_slice(s.as_bytes());
    buf.put_slice(b"\r\n");
}

impl Out {
    pub fn new(proto: Proto) -> Self {
        Out { buf: BytesMut::with_capacity(256), proto }
    }

    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply; `msg` is the full text including its code (`ERR ...`,
    /// `WRONGTYPE ...`). Newlines would break the protocol, so they become spaces.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// An error reply from raw bytes (CR and LF become spaces, as in Redis).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    pub fn int(&mut self, v: i64) {
        put_int_line(&mut self.buf, b':', v);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        put_int_line(&mut self.buf, b'$', data.len() as i64);
        self.buf.reserve(data.len() + 2);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `v`.
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = itoa::Buffer::new();
        self.bulk(tmp.format(v).as_bytes());
    }

    /// Null bulk (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.put_slice(b"$-1\r\n"),
            Proto::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// Null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.put_slice(b"*-1\r\n"),
            Proto::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        put_int_line(&mut self.buf, b'*', len as i64);
    }

    /// A map of `len` pairs (a flat array of 2*len in RESP2).
    pub fn map(&mut self, len: usize) {
        match self.proto {
            Proto::Resp2 => put_int_line(&mut self.buf, b'*', 2 * len as i64),
            Proto::Resp3 => put_int_line(&mut self.buf, b'%', len as i64),
        }
    }

    /// A set (an array in RESP2).
    pub fn set(&mut self, len: usize) {
        match self.proto {
            Proto::Resp2 => put_int_line(&mut self.buf, b'*', len as i64),
            Proto::Resp3 => put_int_line(&mut self.buf, b'~', len as i64),
        }
    }

    /// A push message header (an array in RESP2).
    pub fn push(&mut self, len: usize) {
        match self.proto {
            Proto::Resp2 => put_int_line(&mut self.buf, b'*', len as i64),
            Proto::Resp3 => put_int_line(&mut self.buf, b'>', len as i64),
        }
    }

    /// A double: a bulk string in RESP2, `,` in RESP3, formatted as Redis does.
    pub fn double(&mut self, v: f64) {
        let s = format_double(v);
        match self.proto {
            Proto::Resp2 => self.bulk(s.as_bytes()),
            Proto::Resp3 => {
                self.buf.put_u8(b',');
                self.buf.put_slice(s.as_bytes());
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `:1`/`:0` in RESP2, `#t`/`#f` in RESP3.
    pub fn boolean(&mut self, v: bool) {
        match (self.proto, v) {
            (Proto::Resp2, true) => self.buf.put_slice(b":1\r\n"),
            (Proto::Resp2, false) => self.buf.put_slice(b":0\r\n"),
            (Proto::Resp3, true) => self.buf.put_slice(b"#t\r\n"),
            (Proto::Resp3, false) => self.buf.put_slice(b"#f\r\n"),
        }
    }

    /// Verbatim text (`=` with a `txt:` prefix in RESP3, a bulk string in RESP2).
    pub fn verbatim(&mut self, text: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(text),
            Proto::Resp3 => {
                put_int_line(&mut self.buf, b'=', text.len() as i64 + 4);
                self.buf.put_slice(b"txt:");
                self.buf.put_slice(text);
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// Raw bytes already encoded (replies computed on another shard).
    pub fn raw(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Formats a double the way Redis's RESP3 double reply (`%.17g`) does, with
/// `inf`/`-inf`/`nan` spelled as Redis spells them.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    format_g17(v)
}

/// C's `%.17g`.
pub fn format_g17(v: f64) -> String {
    format_g(v, 17)
}

/// C's `%.{prec}g`: shortest of fixed and exponent notation, trailing zeros removed.
pub fn format_g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", m, sign, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_per_protocol() {
        let mut o = Out::new(Proto::Resp2);
        o.null();
        o.map(2);
        o.double(1.5);
        o.boolean(true);
        assert_eq!(&o.buf[..], b"$-1\r\n*4\r\n$3\r\n1.5\r\n:1\r\n");
        let mut o = Out::new(Proto::Resp3);
        o.null();
        o.map(2);
        o.double(1.5);
        o.boolean(true);
        assert_eq!(&o.buf[..], b"_\r\n%2\r\n,1.5\r\n#t\r\n");
    }

    #[test]
    fn errors_cannot_break_framing() {
        let mut o = Out::new(Proto::Resp2);
        o.error("ERR a\r\nb");
        assert_eq!(&o.buf[..], b"-ERR a  b\r\n");
    }

    #[test]
    fn g_format_matches_c() {
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(1.5e-5), "1.5e-05");
        assert_eq!(format_g17(1.0 / 3.0), "0.33333333333333331");
        assert_eq!(format_g(10.5, 17), "10.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
    }
}
