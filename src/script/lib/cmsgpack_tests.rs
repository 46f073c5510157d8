//! Expected results recorded from Redis 7.0.15 (`EVAL` of the same snippet
//! through the same renderer, see `testing::PRELUDE`).

use super::super::testing::check_rendered;

/// Packing: integer widths, floats, strings, arrays vs maps, nesting cap.
#[test]
fn pack() {
    check_rendered(&[
        (r##"cmsgpack.pack(1)"##, r##"true | "\x01""##),
        (
            r##"cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53, 2^63, -2^63)"##,
            r##"true | "\x00\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01\x00\x00\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xcf\x00 \x00\x00\x00\x00\x00\x00\xca_\x00\x00\x00\xd3\x80\x00\x00\x00\x00\x00\x00\x00""##,
        ),
        (
            r##"cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, -2^53)"##,
            r##"true | "\xff\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff\xd3\xff\xe0\x00\x00\x00\x00\x00\x00""##,
        ),
        (
            r##"cmsgpack.pack(1.5, 0.1, -0.0, 1/3, 1e300, 1e-300, 3.25)"##,
            r##"true | "\xca?\xc0\x00\x00\xcb?\xb9\x99\x99\x99\x99\x99\x9a\x00\xcb?\xd5UUUUUU\xcb~7\xe4<\x88\x00u\x9c\xcb\x01\xa5n\x1f\xc2\xf8\xf3Y\xca@P\x00\x00""##,
        ),
        (r##"cmsgpack.pack(1/0, -1/0)"##, r##"true | "\xca\x7f\x80\x00\x00\xca\xff\x80\x00\x00""##),
        (r##"cmsgpack.pack(0/0)"##, r##"true | "\xcb\xff\xf8\x00\x00\x00\x00\x00\x00""##),
        (r##"cmsgpack.pack(true, false, nil)"##, r##"true | "\xc3\xc2\xc0""##),
        (r##"cmsgpack.pack("")"##, r##"true | "\xa0""##),
        (r##"cmsgpack.pack(string.rep("a", 31))"##, r##"true | "\xbfaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""##),
        (r##"cmsgpack.pack(string.rep("a", 32)):sub(1, 3)"##, r##"true | "\xd9 a""##),
        (r##"cmsgpack.pack(string.rep("a", 255)):sub(1, 3)"##, r##"true | "\xd9\xffa""##),
        (r##"cmsgpack.pack(string.rep("a", 256)):sub(1, 4)"##, r##"true | "\xda\x01\x00a""##),
        (r##"cmsgpack.pack(string.rep("a", 65535)):sub(1, 4)"##, r##"true | "\xda\xff\xffa""##),
        (r##"cmsgpack.pack(string.rep("a", 65536)):sub(1, 6)"##, r##"true | "\xdb\x00\x01\x00\x00a""##),
        (r##"cmsgpack.pack({})"##, r##"true | "\x90""##),
        (r##"cmsgpack.pack({1, 2, 3})"##, r##"true | "\x93\x01\x02\x03""##),
        (r##"cmsgpack.pack({a=1})"##, r##"true | "\x81\xa1a\x01""##),
        (r##"cmsgpack.pack({1, 2, nil, 4})"##, r##"true | "\x83\x01\x01\x02\x02\x04\x04""##),
        (r##"cmsgpack.pack({[1]=1, [3]=3})"##, r##"true | "\x82\x01\x01\x03\x03""##),
        (r##"cmsgpack.pack({[0]=1})"##, r##"true | "\x81\x00\x01""##),
        (r##"cmsgpack.pack({[1.5]=1})"##, r##"true | "\x81\xca?\xc0\x00\x00\x01""##),
        (r##"cmsgpack.pack({[2^31]=1})"##, r##"true | "\x81\xce\x80\x00\x00\x00\x01""##),
        (r##"cmsgpack.pack({["1"]=1})"##, r##"true | "\x81\xa11\x01""##),
        (r##"cmsgpack.pack({1, 2, x=1})"##, r##"true | "\x83\x01\x01\x02\x02\xa1x\x01""##),
        (r##"cmsgpack.pack({{{{}}}})"##, r##"true | "\x91\x91\x91\x90""##),
        (r##"cmsgpack.pack(tostring)"##, r##"true | "\xc0""##),
        (r##"cmsgpack.pack(cjson.null)"##, r##"true | "\xc0""##),
        (r##"cmsgpack.pack({f=tostring})"##, r##"true | "\x81\xa1f\xc0""##),
        (
            r##"cmsgpack.pack()"##,
            r##"false | "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)""##,
        ),
        (r##"cmsgpack.pack(1, "a", {})"##, r##"true | "\x01\xa1a\x90""##),
        (
            r##"(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()"##,
            r##"true | "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0""##,
        ),
        (
            r##"(function() local t = {} for i = 1, 20 do t = {t} end return cmsgpack.pack(t) end)()"##,
            r##"true | "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\xc0""##,
        ),
        (
            r##"(function() local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t) end)()"##,
            r##"true | "\xdc\x00\x10\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10""##,
        ),
        (
            r##"(function() local t = {} for i = 1, 65536 do t[i] = 1 end return cmsgpack.pack(t):sub(1, 6) end)()"##,
            r##"true | "\xdd\x00\x01\x00\x00\x01""##,
        ),
        (
            r##"(function() local t = {} for i = 1, 16 do t['k' .. i] = i end return #cmsgpack.pack(t) end)()"##,
            r##"true | 74"##,
        ),
        (
            r##"(function() local t = {} for i = 1, 16 do t['k' .. i] = i end return cmsgpack.pack(t):sub(1,3) end)()"##,
            r##"true | "\xde\x00\x10""##,
        ),
        (
            r##"cmsgpack.pack(setmetatable({1,2}, {__index=function(t, k) return 'x' end}))"##,
            r##"true | "\x92\x01\x02""##,
        ),
        (
            r##"cmsgpack.pack({1, 2, 3, [4] = {a = {b = 'c'}}})"##,
            r##"true | "\x94\x01\x02\x03\x81\xa1a\x81\xa1b\xa1c""##,
        ),
        (r##"cmsgpack.pack({a = 1, b = 2, c = {1}})"##, r##"true | "\x83\xa1a\x01\xa1c\x91\x01\xa1b\x02""##),
        (r##"cmsgpack.pack('\0\1\255')"##, r##"true | "\xa3\x00\x01\xff""##),
        (
            r##"cmsgpack.pack(16777216, 16777217, 0.5, -0.5, 2^-149, 2^-150, 3.4028234663852886e38, 3.5e38)"##,
            r##"true | "\xce\x01\x00\x00\x00\xce\x01\x00\x00\x01\xca?\x00\x00\x00\xca\xbf\x00\x00\x00\xca\x00\x00\x00\x01\xcb6\x90\x00\x00\x00\x00\x00\x00\xca\x7f\x7f\xff\xff\xcbG\xf0t\xf8\xc4\xd3\xcd{""##,
        ),
        (r##"cmsgpack.pack(-1.5)"##, r##"true | "\xca\xbf\xc0\x00\x00""##),
        (r##"cmsgpack.pack(' 12 ')"##, r##"true | "\xa4 12 ""##),
    ]);
}

/// Unpacking every type byte, truncated and bad input, stack limits.
#[test]
fn unpack() {
    check_rendered(&[
        (r##"cmsgpack.unpack(cmsgpack.pack(1, 2, 3))"##, r##"true | 1 | 2 | 3"##),
        (r##"cmsgpack.unpack(cmsgpack.pack({1, {a='b'}, true}))"##, r##"true | {1=1,2={"a"="b"},3=true}"##),
        (r##"cmsgpack.unpack(cmsgpack.pack(2^63))"##, r##"true | 9.2233720368548e+18"##),
        (r##"cmsgpack.unpack(cmsgpack.pack(-2^63))"##, r##"true | -9.2233720368548e+18"##),
        (r##"cmsgpack.unpack(cmsgpack.pack(1.5, 0.1, 1/0, -1/0))"##, r##"true | 1.5 | 0.1 | inf | -inf"##),
        (r##"cmsgpack.unpack(cmsgpack.pack(0/0)) ~= cmsgpack.unpack(cmsgpack.pack(0/0))"##, r##"true | true"##),
        (r##"cmsgpack.unpack('\207\255\255\255\255\255\255\255\255')"##, r##"true | -1"##),
        (r##"cmsgpack.unpack('\207\128\0\0\0\0\0\0\0')"##, r##"true | -9.2233720368548e+18"##),
        (r##"cmsgpack.unpack('\211\255\255\255\255\255\255\255\255')"##, r##"true | -1"##),
        (r##"cmsgpack.unpack('\204\200\205\1\0\206\0\1\0\0')"##, r##"true | 200 | 256 | 65536"##),
        (r##"cmsgpack.unpack('\208\128\209\255\128\210\255\255\255\0')"##, r##"true | -128 | -128 | -256"##),
        (r##"cmsgpack.unpack('\224\255\127\0')"##, r##"true | -32 | -1 | 127 | 0"##),
        (r##"cmsgpack.unpack('\202\63\192\0\0\203\63\240\0\0\0\0\0\0')"##, r##"true | 1.5 | 1"##),
        (r##"cmsgpack.unpack('\192\194\195')"##, r##"true | nil | false | true"##),
        (r##"cmsgpack.unpack('\217\3abc\218\0\2xy\219\0\0\0\1z')"##, r##"true | "abc" | "xy" | "z""##),
        (r##"cmsgpack.unpack('\163abc')"##, r##"true | "abc""##),
        (r##"cmsgpack.unpack('\147\1\2\3')"##, r##"true | {1=1,2=2,3=3}"##),
        (r##"cmsgpack.unpack('\130\161a\1\161b\2')"##, r##"true | {"a"=1,"b"=2}"##),
        (r##"cmsgpack.unpack('\220\0\2\1\2')"##, r##"true | {1=1,2=2}"##),
        (r##"cmsgpack.unpack('\221\0\0\0\1\1')"##, r##"true | {1=1}"##),
        (r##"cmsgpack.unpack('\222\0\1\1\2')"##, r##"true | {1=2}"##),
        (r##"cmsgpack.unpack('\223\0\0\0\1\1\2')"##, r##"true | {1=2}"##),
        (r##"cmsgpack.unpack('\129\192\1')"##, r##"false | "table index is nil""##),
        (r##"cmsgpack.unpack('\129\203\127\248\0\0\0\0\0\0\1')"##, r##"false | "table index is NaN""##),
        (r##"cmsgpack.unpack('\129\145\1\2')"##, r##"true | {{1=1}=2}"##),
        (r##"cmsgpack.unpack('\129\1\145\2')"##, r##"true | {1={1=2}}"##),
        (r##"cmsgpack.unpack('\145\145\145\145\1')"##, r##"true | {1={1={1={1=1}}}}"##),
        (r##"cmsgpack.unpack('\145\192')"##, r##"true | {}"##),
        (r##"cmsgpack.unpack('\146\192\1')"##, r##"true | {2=1}"##),
        (r##"cmsgpack.unpack('')"##, r##"true"##),
        (r##"cmsgpack.unpack('\193')"##, r##"false | "user_script:1: Bad data format in input.""##),
        (r##"cmsgpack.unpack('\196\1a')"##, r##"false | "user_script:1: Bad data format in input.""##),
        (r##"cmsgpack.unpack('\212\1\1')"##, r##"false | "user_script:1: Bad data format in input.""##),
        (r##"cmsgpack.unpack('\1\193')"##, r##"false | "user_script:1: Bad data format in input.""##),
        (r##"cmsgpack.unpack('\205\1')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack('\163ab')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack('\219\255\255\255\255a')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack('\221\255\255\255\255')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack('\147\1\2')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack('\130\1')"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack(123)"##, r##"true | 49 | 50 | 51"##),
        (
            r##"cmsgpack.unpack({})"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (string expected, got table)""##,
        ),
        (
            r##"cmsgpack.unpack()"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)""##,
        ),
        (
            r##"cmsgpack.unpack(string.rep('\145', 5000) .. '\1')"##,
            r##"false | "user_script:1: stack overflow (in function mp_decode_to_lua_array)""##,
        ),
        (
            r##"cmsgpack.unpack(string.rep('\129\1', 5000) .. '\1')"##,
            r##"false | "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""##,
        ),
        (r##"select('#', cmsgpack.unpack(string.rep('\1', 100)))"##, r##"true | 100"##),
        (
            r##"cmsgpack.unpack(string.rep('\1', 10000))"##,
            r##"false | "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)""##,
        ),
    ]);
}

/// `unpack_one` / `unpack_limit` offsets, limits and their errors; metadata.
#[test]
fn unpack_one_and_limit() {
    check_rendered(&[
        (r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))"##, r##"true | 1 | 1"##),
        (r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)"##, r##"true | 2 | 2"##),
        (r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)"##, r##"true | -1 | 3"##),
        (r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)"##, r##"true | -1"##),
        (
            r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)"##,
            r##"false | "user_script:1: Start offset 4 greater than input length 3.""##,
        ),
        (
            r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)"##,
            r##"false | "user_script:1: Invalid request to unpack with offset of -1 and limit of 3.""##,
        ),
        (
            r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x')"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)""##,
        ),
        (r##"cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)"##, r##"true | 1 | 1"##),
        (r##"cmsgpack.unpack_one('')"##, r##"true | -1"##),
        (
            r##"cmsgpack.unpack_one()"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack_one' (string expected, got no value)""##,
        ),
        (
            r##"cmsgpack.unpack_one(nil, 2)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack_one' (string expected, got nil)""##,
        ),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)"##, r##"true | 2 | 1 | 2"##),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)"##, r##"true | -1 | 3"##),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)"##, r##"true | 1 | 2 | 3"##),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 0)"##, r##"true | 1 | 2 | 3"##),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)"##, r##"true | 1"##),
        (r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 10)"##, r##"true | -1 | 1 | 2 | 3"##),
        (
            r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)"##,
            r##"false | "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.""##,
        ),
        (
            r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)""##,
        ),
        (
            r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 2^33)"##,
            r##"false | "user_script:1: Start offset 0 greater than input length 3.""##,
        ),
        (
            r##"cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, -2^33)"##,
            r##"false | "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.""##,
        ),
        (r##"cmsgpack._NAME"##, r##"true | "cmsgpack""##),
        (r##"cmsgpack._VERSION"##, r##"true | "lua-cmsgpack 0.4.0""##),
        (r##"cmsgpack._COPYRIGHT"##, r##"true | "Copyright (C) 2012, Salvatore Sanfilippo""##),
        (r##"cmsgpack._DESCRIPTION"##, r##"true | "MessagePack C implementation for Lua""##),
    ]);
}
