//! Expected results recorded from Redis 7.0.15 (`EVAL` of the same snippet
//! through the same renderer, see `testing::PRELUDE`).

use super::super::testing::check_rendered;

/// `struct.pack`: every option, endianness, alignment, bounds and argument errors.
#[test]
fn pack() {
    check_rendered(&[
        (r##"struct.pack('>I2', 258)"##, r##"true | "\x01\x02""##),
        (r##"struct.pack('<I2', 258)"##, r##"true | "\x02\x01""##),
        (r##"struct.pack('b', -1)"##, r##"true | "\xff""##),
        (r##"struct.pack('B', 255)"##, r##"true | "\xff""##),
        (r##"struct.pack('B', 256)"##, r##"true | "\x00""##),
        (r##"struct.pack('b', 128)"##, r##"true | "\x80""##),
        (r##"struct.pack('h', -2)"##, r##"true | "\xfe\xff""##),
        (r##"struct.pack('>H', 65535)"##, r##"true | "\xff\xff""##),
        (r##"struct.pack('l', -1)"##, r##"true | "\xff\xff\xff\xff\xff\xff\xff\xff""##),
        (r##"struct.pack('>L', 2^63)"##, r##"true | "\x80\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>L', 2^64)"##, r##"true | "\x00\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>L', 1e20)"##, r##"true | "\x00\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>l', -1e20)"##, r##"true | "\x80\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>l', 0/0)"##, r##"true | "\x80\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>L', 0/0)"##, r##"true | "\x80\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>L', -1)"##, r##"true | "\xff\xff\xff\xff\xff\xff\xff\xff""##),
        (r##"struct.pack('T', 5)"##, r##"true | "\x05\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('i', 7)"##, r##"true | "\x07\x00\x00\x00""##),
        (r##"struct.pack('>i3', 0x010203)"##, r##"true | "\x01\x02\x03""##),
        (r##"struct.pack('<i3', -1)"##, r##"true | "\xff\xff\xff""##),
        (
            r##"struct.pack('>i16', -1)"##,
            r##"true | "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff""##,
        ),
        (
            r##"struct.pack('<I16', 2^64 - 2048)"##,
            r##"true | "\x00\xf8\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00""##,
        ),
        (r##"struct.pack('>i1', 300)"##, r##"true | ",""##),
        (r##"struct.pack('i0', 1)"##, r##"true | """##),
        (r##"struct.pack('f', 1.5)"##, r##"true | "\x00\x00\xc0?""##),
        (r##"struct.pack('>f', 1.5)"##, r##"true | "?\xc0\x00\x00""##),
        (r##"struct.pack('>f', 0.1)"##, r##"true | "=\xcc\xcc\xcd""##),
        (r##"struct.pack('d', 1.5)"##, r##"true | "\x00\x00\x00\x00\x00\x00\xf8?""##),
        (r##"struct.pack('>d', -0.0)"##, r##"true | "\x80\x00\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('>d', 1/0)"##, r##"true | "\x7f\xf0\x00\x00\x00\x00\x00\x00""##),
        (r##"struct.pack('s', 'abc')"##, r##"true | "abc\x00""##),
        (r##"struct.pack('c', 'abc')"##, r##"true | "a""##),
        (r##"struct.pack('c2', 'abc')"##, r##"true | "ab""##),
        (r##"struct.pack('c0', 'abc')"##, r##"true | "abc""##),
        (r##"struct.pack('c5', 'ab')"##, r##"false | "user_script:1: bad argument #3 to 'pack' (string too short)""##),
        (r##"struct.pack('s', 'a\0b')"##, r##"true | "a\x00b\x00""##),
        (r##"struct.pack('x')"##, r##"true | "\x00""##),
        (r##"struct.pack('xxb', 1)"##, r##"true | "\x00\x00\x01""##),
        (r##"struct.pack('b x b', 1, 2)"##, r##"true | "\x01\x00\x02""##),
        (r##"struct.pack('!4 b i', 1, 2)"##, r##"true | "\x01\x00\x00\x00\x02\x00\x00\x00""##),
        (r##"struct.pack('!b i', 1, 2)"##, r##"true | "\x01\x00\x00\x00\x02\x00\x00\x00""##),
        (
            r##"struct.pack('!8 b d', 1, 2)"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00@""##,
        ),
        (r##"struct.pack('!2 b i', 1, 2)"##, r##"true | "\x01\x00\x02\x00\x00\x00""##),
        (r##"struct.pack('!4 b i3', 1, 2)"##, r##"true | "\x01\x00\x00\x02\x00\x00""##),
        (r##"struct.pack('!4 b c3 i', 1, 'abc', 2)"##, r##"true | "\x01abc\x02\x00\x00\x00""##),
        (r##"struct.pack('!3i', 1)"##, r##"false | "user_script:1: alignment 3 is not a power of 2""##),
        (r##"struct.pack('!0i', 1)"##, r##"false | "user_script:1: alignment 0 is not a power of 2""##),
        (
            r##"struct.pack('!16 b d', 1, 2)"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00@""##,
        ),
        (
            r##"struct.pack('z')"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option 'z')""##,
        ),
        (r##"struct.pack('i33', 1)"##, r##"false | "user_script:1: integral size 33 is larger than limit of 32""##),
        (
            r##"struct.pack('i32', 1)"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00""##,
        ),
        (r##"struct.pack('c99999999999', 'a')"##, r##"false | "user_script:1: integral size overflow""##),
        (
            r##"struct.pack('c2147483647', 'a')"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (string too short)""##,
        ),
        (
            r##"struct.pack('i', 'x')"##,
            r##"false | "user_script:1: bad argument #2 to 'pack' (number expected, got string)""##,
        ),
        (r##"struct.pack('i', '12')"##, r##"true | "\x0c\x00\x00\x00""##),
        (r##"struct.pack('i')"##, r##"false | "user_script:1: bad argument #2 to 'pack' (number expected, got nil)""##),
        (
            r##"struct.pack()"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (string expected, got no value)""##,
        ),
        (
            r##"struct.pack(12, 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '1')""##,
        ),
        (r##"struct.pack('>i\0<i', 1, 2)"##, r##"true | "\x00\x00\x00\x01""##),
        (r##"struct.pack('', 1)"##, r##"true | """##),
        (r##"struct.pack('s', 12)"##, r##"true | "12\x00""##),
        (
            r##"struct.pack('s', {})"##,
            r##"false | "user_script:1: bad argument #2 to 'pack' (string expected, got table)""##,
        ),
        (r##"struct.pack('>I4I4', 1, 2)"##, r##"true | "\x00\x00\x00\x01\x00\x00\x00\x02""##),
        (
            r##"struct.pack('ii', 1)"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got nil)""##,
        ),
        (
            r##"struct.pack('bbbb', 1)"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got nil)""##,
        ),
        (
            r##"struct.pack('c0i', string.rep('a', 9000))"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got nil)""##,
        ),
        (
            r##"struct.pack('c0c0i', string.rep('a', 9000), 'b')"##,
            r##"false | "user_script:1: bad argument #4 to 'pack' (number expected, got nil)""##,
        ),
    ]);
}

/// `struct.unpack`: every option, offsets, `c0`, short data, result limits.
#[test]
fn unpack() {
    check_rendered(&[
        (r##"struct.unpack('>I2', '\1\2')"##, r##"true | 258 | 3"##),
        (r##"struct.unpack('<I2', '\1\2')"##, r##"true | 513 | 3"##),
        (r##"struct.unpack('b', '\255')"##, r##"true | -1 | 2"##),
        (r##"struct.unpack('B', '\255')"##, r##"true | 255 | 2"##),
        (r##"struct.unpack('h', '\254\255')"##, r##"true | -2 | 3"##),
        (r##"struct.unpack('>l', '\255\255\255\255\255\255\255\255')"##, r##"true | -1 | 9"##),
        (r##"struct.unpack('>L', '\255\255\255\255\255\255\255\255')"##, r##"true | 1.844674407371e+19 | 9"##),
        (r##"struct.unpack('>i3', '\255\255\254')"##, r##"true | -2 | 4"##),
        (r##"struct.unpack('<i16', string.rep('\255', 16))"##, r##"true | -1 | 17"##),
        (r##"struct.unpack('>i16', string.rep('\255', 16))"##, r##"true | -1 | 17"##),
        (r##"struct.unpack('>I16', string.rep('\1', 16))"##, r##"true | 7.2340172838077e+16 | 17"##),
        (r##"struct.unpack('<I16', string.rep('\1', 16))"##, r##"true | 7.2340172838077e+16 | 17"##),
        (r##"struct.unpack('>i9', '\128' .. string.rep('\0', 8))"##, r##"true | 0 | 10"##),
        (r##"struct.unpack('<i9', string.rep('\0', 8) .. '\128')"##, r##"true | 0 | 10"##),
        (r##"struct.unpack('f', struct.pack('f', 1.5))"##, r##"true | 1.5 | 5"##),
        (r##"struct.unpack('>d', struct.pack('>d', 0.1))"##, r##"true | 0.1 | 9"##),
        (r##"struct.unpack('s', 'abc\0def')"##, r##"true | "abc" | 5"##),
        (r##"struct.unpack('ss', 'abc\0def\0')"##, r##"true | "abc" | "def" | 9"##),
        (r##"struct.unpack('s', 'abc')"##, r##"false | "user_script:1: unfinished string in data""##),
        (r##"struct.unpack('c3', 'abcdef')"##, r##"true | "abc" | 4"##),
        (r##"struct.unpack('c3c3', 'abcdef')"##, r##"true | "abc" | "def" | 7"##),
        (r##"struct.unpack('c0', 'abc')"##, r##"false | "user_script:1: format 'c0' needs a previous size""##),
        (r##"struct.unpack('Bc0', '\3abcdef')"##, r##"true | "abc" | 5"##),
        (
            r##"struct.unpack('Bc0', '\9abc')"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.unpack('c0', '5abcdef')"##, r##"false | "user_script:1: format 'c0' needs a previous size""##),
        (
            r##"struct.unpack('i', 'abc')"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (
            r##"struct.unpack('i', 'abcd', 0)"##,
            r##"false | "user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)""##,
        ),
        (
            r##"struct.unpack('i', 'abcd', -1)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (
            r##"struct.unpack('i', 'abcd', 2)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.unpack('i', 'abcde', 2)"##, r##"true | 1701077858 | 6"##),
        (
            r##"struct.unpack('i', 'abcd', 2^40)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.unpack('b', 'abc', 3)"##, r##"true | 99 | 4"##),
        (
            r##"struct.unpack('b', 'abc', 4)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (
            r##"struct.unpack('x', 'abc', 4)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.unpack('', 'abc')"##, r##"true | 1"##),
        (r##"struct.unpack('', 'abc', 10)"##, r##"true | 10"##),
        (r##"struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))"##, r##"true | 1 | 2 | 9"##),
        (
            r##"struct.unpack('!4 b i', '\1\0\0\0\2\0\0')"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.unpack('xxb', '\0\0\7')"##, r##"true | 7 | 4"##),
        (
            r##"struct.unpack('z', 'abc')"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option 'z')""##,
        ),
        (
            r##"struct.unpack('i33', 'abc')"##,
            r##"false | "user_script:1: integral size 33 is larger than limit of 32""##,
        ),
        (
            r##"struct.unpack()"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)""##,
        ),
        (
            r##"struct.unpack('i')"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (string expected, got no value)""##,
        ),
        (
            r##"struct.unpack('i', {})"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (string expected, got table)""##,
        ),
        (
            r##"struct.unpack('i', 'abcd', 'x')"##,
            r##"false | "user_script:1: bad argument #3 to 'unpack' (number expected, got string)""##,
        ),
        (
            r##"struct.unpack(string.rep('b', 9000), string.rep('a', 9000))"##,
            r##"false | "user_script:1: stack overflow (too many results)""##,
        ),
        (r##"select('#', struct.unpack(string.rep('b', 100), string.rep('a', 100)))"##, r##"true | 101"##),
        (r##"struct.unpack('>d', '\127\248\0\0\0\0\0\0')"##, r##"true | nan | 9"##),
    ]);
}

/// `struct.size`.
#[test]
fn size() {
    check_rendered(&[
        (r##"struct.size('i')"##, r##"true | 4"##),
        (r##"struct.size('bhilTfd')"##, r##"true | 35"##),
        (r##"struct.size('!8 b d')"##, r##"true | 16"##),
        (r##"struct.size('!4 b i3 b i')"##, r##"true | 12"##),
        (r##"struct.size('c10')"##, r##"true | 10"##),
        (
            r##"struct.size('c0')"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)""##,
        ),
        (
            r##"struct.size('s')"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)""##,
        ),
        (r##"struct.size('z')"##, r##"true | 0"##),
        (r##"struct.size('!3')"##, r##"false | "user_script:1: alignment 3 is not a power of 2""##),
        (r##"struct.size('<>!x')"##, r##"true | 1"##),
        (
            r##"struct.size('?')"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (invalid format option '?')""##,
        ),
        (r##"struct.size('i33')"##, r##"false | "user_script:1: integral size 33 is larger than limit of 32""##),
        (
            r##"struct.size()"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (string expected, got no value)""##,
        ),
        (r##"struct.size(5)"##, r##"true | 0"##),
        (r##"struct.size('c99999999999')"##, r##"false | "user_script:1: integral size overflow""##),
        (r##"struct.size('i\0i')"##, r##"true | 4"##),
    ]);
}
