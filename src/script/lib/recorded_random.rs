//! Randomly generated inputs (garbage bytes into the decoders and formats,
//! random tables and JSON through encode/decode round trips, random struct
//! formats), a sample of a run that agreed with Redis 7.0.15 on every case.

use super::testing::check_rendered;

/// Random bytes into struct, cjson.decode and cmsgpack.unpack.
#[test]
fn garbage_inputs() {
    check_rendered(&[
        (
            r##"struct.unpack(string.char(98,73,51,62,33,57), string.char(29,98,222,123,217,63,3,97,0,113,68,73,1,92,96,32,1), 1)"##,
            r##"false | "user_script:1: alignment 9 is not a power of 2""##,
        ),
        (r##"struct.size(string.char(53,105,50,100,49,56))"##, r##"true | 10"##),
        (
            r##"struct.pack(string.char(57,53,66,99,60,104,99,105), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '9')""##,
        ),
        (
            r##"struct.unpack(string.char(48,48,98), "", 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '0')""##,
        ),
        (
            r##"struct.size(string.char(108,48,115,57,98,62))"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)""##,
        ),
        (
            r##"struct.pack(string.char(51), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '3')""##,
        ),
        (
            r##"struct.unpack(string.char(76), string.char(97,1,98,3,1,166,0,74,219), 3)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.size(string.char(54,51,102,100))"##, r##"true | 12"##),
        (
            r##"struct.pack(string.char(115,99,84,104,55), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #4 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"struct.unpack(string.char(72,49,62), string.char(98,1,3,97,98,114,97,154,99,3,98,120,97,3,97,255,3,131,217,98), 2)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '1')""##,
        ),
        (
            r##"struct.size(string.char(72,100,115))"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)""##,
        ),
        (
            r##"struct.pack(string.char(99,99,72,51), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #4 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"struct.unpack(string.char(33,120,73), string.char(98,22,0,198,82,98,1,0,111,80,63,98,19,99,233), 3)"##,
            r##"true | 90706 | 9"##,
        ),
        (r##"struct.size(string.char(62,55))"##, r##"true | 0"##),
        (r##"struct.pack(string.char(60), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##, r##"true | """##),
        (
            r##"struct.unpack(string.char(73,84,50,72), string.char(3,3,1,3,0,98,99,0,97,98,13,82), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '2')""##,
        ),
        (r##"struct.size(string.char(33))"##, r##"true | 0"##),
        (
            r##"struct.pack(string.char(76,108,115,48), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '0')""##,
        ),
        (
            r##"struct.unpack(string.char(60,54,72,32,115,53,49), string.char(0,3,3,98,3,221,50,98,3,98,216,10,0,3,98,99,0,97), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '6')""##,
        ),
        (r##"struct.size(string.char(52,66,73,99))"##, r##"true | 6"##),
        (
            r##"struct.pack(string.char(53,104,99,33,54,57,102,52), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '5')""##,
        ),
        (
            r##"struct.unpack(string.char(51,52,53), string.char(3,20,0,98,92,0,3,71,1,99,17,220,1,97,20,0,0,7,1,3,0,1), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '3')""##,
        ),
        (r##"struct.size(string.char(102,54,54,66))"##, r##"true | 5"##),
        (
            r##"struct.pack(string.char(50,62,52,73,102), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '2')""##,
        ),
        (
            r##"struct.unpack(string.char(98,84), string.char(101,99,0,97,190,63,194,122,3,0,98,98,98,191,98,97,0,3,173,119,187,113,98,1), 1)"##,
            r##"true | 101 | 2.5072630830524e+17 | 10"##,
        ),
        (
            r##"struct.size(string.char(55,104,105,115,108))"##,
            r##"false | "user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)""##,
        ),
        (r##"struct.pack(string.char(72), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##, r##"true | "\x01\x00""##),
        (
            r##"struct.unpack(string.char(120,99,66,33,84,115), string.char(97,215,0,97,136,1), 1)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.size(string.char(120,62,50))"##, r##"true | 1"##),
        (
            r##"struct.pack(string.char(84,104,115,60), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00\xfe\xffabc\x00""##,
        ),
        (
            r##"struct.unpack(string.char(62,51,49), string.char(21,97,99,1,155,50,3,89,136,1,98,0,98,54,38,251,1,31,3), 3)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '3')""##,
        ),
        (r##"struct.size(string.char(105,104))"##, r##"true | 6"##),
        (
            r##"struct.pack(string.char(76,100,99,104), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc0a\x03\x00""##,
        ),
        (
            r##"struct.unpack(string.char(73,32,102,55,51,51), string.char(98,179,97,3), 2)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.size(string.char(50))"##, r##"true | 0"##),
        (
            r##"struct.pack(string.char(56), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '8')""##,
        ),
        (
            r##"struct.unpack(string.char(120,51,100,115,100), string.char(99,46,3,3,99,97), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '3')""##,
        ),
        (r##"struct.size(string.char(84,33,102,60,52,57,66))"##, r##"true | 13"##),
        (
            r##"struct.pack(string.char(56,55,54,52,60,57), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '8')""##,
        ),
        (
            r##"struct.unpack(string.char(50,62,51,98,54,52,98,108), string.char(134,71,97,97,0,3,144,98,98,99,99,1), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '2')""##,
        ),
        (r##"struct.size(string.char(51,108,72))"##, r##"true | 10"##),
        (
            r##"struct.pack(string.char(108), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"true | "\x01\x00\x00\x00\x00\x00\x00\x00""##,
        ),
        (
            r##"struct.unpack(string.char(33,62,104,99,62), string.char(99,166,3,144,3,137,162,0,0,0,3,130,3), 2)"##,
            r##"true | 912 | "\x03" | 6"##,
        ),
        (r##"struct.size(string.char(52,51,102,48,52,84))"##, r##"true | 12"##),
        (
            r##"struct.pack(string.char(73,105,62,53,55,76,115,115), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '5')""##,
        ),
        (
            r##"struct.unpack(string.char(62,108,72,56,102,76), string.char(1,0,0,104,222,97), 1)"##,
            r##"false | "user_script:1: bad argument #2 to 'unpack' (data string too short)""##,
        ),
        (r##"struct.size(string.char(84,48,57,104,98))"##, r##"true | 11"##),
        (
            r##"struct.pack(string.char(54,32,48,99), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '6')""##,
        ),
        (
            r##"struct.unpack(string.char(98,54,99,52), string.char(176,98,112,3,97), 2)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '6')""##,
        ),
        (r##"struct.size(string.char(49,102,48,72))"##, r##"true | 6"##),
        (
            r##"struct.pack(string.char(98,55,108,52,115,33,99), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '7')""##,
        ),
        (
            r##"struct.unpack(string.char(73,100,56,84,105,32,66), string.char(1,0,99,173,0,1,3,221,140,3,98,122,99,3,3,147,196,99,1,1,109,99), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '8')""##,
        ),
        (
            r##"struct.size(string.char(52,108,33,51,100,49))"##,
            r##"false | "user_script:1: alignment 3 is not a power of 2""##,
        ),
        (
            r##"struct.pack(string.char(120,100,50), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '2')""##,
        ),
        (
            r##"struct.unpack(string.char(55,54,55,56), string.char(97,97), 1)"##,
            r##"false | "user_script:1: bad argument #1 to 'unpack' (invalid format option '7')""##,
        ),
        (r##"struct.size(string.char(104,76,55,60))"##, r##"true | 10"##),
        (
            r##"struct.pack(string.char(51,104,72,55), 1, -2, "abc", 3.5, "de", 1e10, -1e10, "x")"##,
            r##"false | "user_script:1: bad argument #1 to 'pack' (invalid format option '3')""##,
        ),
        (
            r##"cjson.decode(string.char(49,53,46,101,53,34,102,125,51,123,114,78,55,34,78))"##,
            r##"false | "user_script:1: Expected the end but found T_STRING at character 6""##,
        ),
        (
            r##"cjson.decode(string.char(49,97,34,92,117,46))"##,
            r##"false | "user_script:1: Expected the end but found invalid token at character 2""##,
        ),
        (
            r##"cjson.decode(string.char(56,123,52))"##,
            r##"false | "user_script:1: Expected the end but found T_OBJ_BEGIN at character 2""##,
        ),
        (
            r##"cjson.decode(string.char(120,108,49,123,53,54,58,110,56,57,32,108,92,117,69,93))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(97,51,56,52,117,108,69,114,48,56,110,47,48,44,57,117,78,55,52,43))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(34,34,73,93,53,110,102,46,78,117,46,120))"##,
            r##"false | "user_script:1: Expected the end but found invalid token at character 3""##,
        ),
        (
            r##"cjson.decode(string.char(69,97,56,53,55,51,97,116,108,46,46,51,54,115,44,50,53,101))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(53,54,93))"##,
            r##"false | "user_script:1: Expected the end but found T_ARR_END at character 3""##,
        ),
        (
            r##"cjson.decode(string.char(69))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(108,120,45,110,101,102,78,48,91,50,43,93,117,49,116,117,56))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(110,48,43,110,114,120,114))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(44,78,117,108,69,78,91,55))"##,
            r##"false | "user_script:1: Expected value but found T_COMMA at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(110,123,55,102,58,53,97,44))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(52,91,117,43,45,48,115,114,92,78,56,32,117,117))"##,
            r##"false | "user_script:1: Expected the end but found T_ARR_BEGIN at character 2""##,
        ),
        (
            r##"cjson.decode(string.char(91,53,54,125,120))"##,
            r##"false | "user_script:1: Expected comma or array end but found T_OBJ_END at character 4""##,
        ),
        (
            r##"cjson.decode(string.char(114,48,114))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(34,125,48))"##,
            r##"false | "user_script:1: Expected value but found unexpected end of string at character 4""##,
        ),
        (
            r##"cjson.decode(string.char(56,116,120,58,57,45,116))"##,
            r##"false | "user_script:1: Expected the end but found invalid token at character 2""##,
        ),
        (
            r##"cjson.decode(string.char(58,117,108,54,46,55,120,52,116,114,58,78,34,51,46,50,57,47,58))"##,
            r##"false | "user_script:1: Expected value but found T_COLON at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(117))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(125,117,114,49,78,44,125,125,50,32,55,44,44,47,53,92,34))"##,
            r##"false | "user_script:1: Expected value but found T_OBJ_END at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(110,91,44,56,34,47,52,114,45,110,78,69,46,114,52,117,52,51))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(114,32,58,91,69,57,57,45,108,92,115,115,110,110,120,101,48))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode(string.char(57,56,117,55,92,101))"##,
            r##"false | "user_script:1: Expected the end but found invalid token at character 3""##,
        ),
        (
            r##"cjson.decode(string.char(116,102,52))"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(203,199,35,203,214,208,208,145,105,205,40,204))"##,
            r##"true | -5.1393994456753e+34 | 10444"##,
        ),
        (r##"cmsgpack.unpack(string.char(202))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(125,120,17,222,255))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(146,118,145,92,244))"##, r##"true | {1=118,2={1=92}} | -12"##),
        (r##"cmsgpack.unpack(string.char(227,144,209))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(255,195,27,161,40,222,145,128,182,208))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(69,206,168,60,208,208,161,133,74,205,220,208,164))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(220,1,192,38,129,106,194,202,146,204,161,220,205,238,14))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(219,47,130,144,163,220,128,107,55,50))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(146))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(124,195,167,1,252,222,105,1,144))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(157,250,161,205,1,129))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(194,54,128,1,68,192,158,162,202,129,58,110,208))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(113,128,202,182))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack(string.char(249,164))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (r##"cmsgpack.unpack(string.char(128,93,237))"##, r##"true | {} | 93 | -19"##),
        (
            r##"cmsgpack.unpack(string.char(145,208,103,183,62,186,125,203,1))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(93,128,203,205,191,45,204,129))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(1,163,215,197,161,27,68,199,128,144,250,243))"##,
            r##"false | "user_script:1: Bad data format in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(78,195,89,227,57,220,92,210,146,204,1,202))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(80,164,100,146,146,1,202,194))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(239,195,145,129,205,177,144,211,192,38,125,208))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(200))"##, r##"false | "user_script:1: Bad data format in input.""##),
        (
            r##"cmsgpack.unpack(string.char(37,108,146,78,146,154,146,19))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(207,245,92,13,1,144,203))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(173,67,161,203,30,194,128,215,203,192,194,205,60,6))"##,
            r##"true | "C\xa1\xcb\x1e\xc2\x80\xd7\xcb\xc0\xc2\xcd<\x06""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(73,128,203,28,29,208,144,1))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(34,204))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(1,220,249,145,167,189,143,158,202,202,205,205,78,31,129,194))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(222,195,194,185,128,233,164))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(192,146,205,129,145,38))"##, r##"true | nil | {1=33169,2=38}"##),
        (
            r##"cmsgpack.unpack(string.char(194,145,220,204,231,146,192,146,162,164,129,145,161,144,205,173))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(161,204,224,219,161,194,145,61,33,192,103,161,202,194,202))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(192,238))"##, r##"true | nil | -18"##),
        (r##"cmsgpack.unpack(string.char(68,62,136))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(215,194,144,11,158,91,194,146))"##,
            r##"false | "user_script:1: Bad data format in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(195,128))"##, r##"true | true | {}"##),
        (
            r##"cmsgpack.unpack(string.char(178,218,12,93,162,145,194,91,205,205,204,222,192,7))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(222))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(146,235,205,194,183,155,212))"##,
            r##"false | "user_script:1: Bad data format in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(192))"##, r##"true | nil"##),
        (
            r##"cmsgpack.unpack(string.char(192,99,1,220,65,129,159,121,92,111,194,5))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(129,205,205,203,228,202,146))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(204,165,217,202,1,2,128,205,145,129))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(129,12,204))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(83,33,177,222,222,46,195))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (r##"cmsgpack.unpack(string.char(192,132,187,161))"##, r##"false | "user_script:1: Missing bytes in input.""##),
        (
            r##"cmsgpack.unpack(string.char(28,186,146,91,204,53,108,144,133,220,194,24,60,161,120))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(129,90,204,232,128,207,203,204,204,102,155,86))"##,
            r##"false | "user_script:1: Missing bytes in input.""##,
        ),
        (
            r##"cmsgpack.unpack(string.char(242,194,103,161,203,196,175,220,222,145))"##,
            r##"false | "user_script:1: Bad data format in input.""##,
        ),
    ]);
}

/// Random values through cjson, cmsgpack and struct.
#[test]
fn random_values() {
    check_rendered(&[
        (
            r##"cjson.encode({{["1"]={{["x y"]=-1,["x y"]=4294967296,["1"]=0,[1]=0}},["1"]={{-1,-0.25,0/0 ~= 0/0,65536,"a"}},[11]=cjson.null,[1]={1e+21,"quote\"",9007199254740992,{[2]="longlonglonglonglonglonglonglonglonglong"},"longlonglonglonglonglonglonglonglonglong"}},{{[-1]={["key"]=""},[2]=9223372036854775808,[1.5]={[5]=3.14159,["key"]=0/0 ~= 0/0,[-1]=256,[5]="x/y"},["1"]={0.5,-1e-300,"longlonglonglonglonglonglonglonglonglong"}},123456.789,{["b"]={255,9007199254740992,128,"héllo"},["a"]={["x y"]=0,["1"]=cjson.null,["x y"]=false}},9223372036854775808,{cjson.null,{[0]=0/0 ~= 0/0,["a"]="\0nul",["1"]=1e+21},9007199254740992,{["x y"]="",["key"]=-1e-300,["a"]=0/0 ~= 0/0,["a"]="héllo"},{["1"]="tab\tq",["b"]=true,["b"]=127}}},1,{[0]=9007199254740992,["1"]={{[1]="tab\tq",["x y"]="héllo",["1"]=cjson.null,["b"]=7},{-1,-9223372036854775808,false,256,-1e-300}},["x y"]={["1"]={0/0 ~= 0/0},["b"]=cjson.null}}})"##,
            r##"true | "[{"1":[[-1,-0.25,true,65536,"a"]],"1":[1e+21,"quote\"",9.007199254741e+15,[null,"longlonglonglonglonglonglonglonglonglong"],"longlonglonglonglonglonglonglonglonglong"],"11":null},[{"1":[0.5,-1e-300,"longlonglonglonglonglonglonglonglonglong"],"2":9.2233720368548e+18,"-1":{"key":""},"1.5":{"5":"x\/y","key":true,"-1":256}},123456.789,{"a":{"1":null,"x y":false},"b":[255,9.007199254741e+15,128,"h\xc3\xa9llo"]},9.2233720368548e+18,[null,{"0":true,"1":1e+21,"a":"\u0000nul"},9.007199254741e+15,{"a":"h\xc3\xa9llo","key":-1e-300,"x y":""},{"1":"tab\tq","b":127}]],1,{"0":9.007199254741e+15,"1":[{"1":"tab\tq","b":7,"1":null,"x y":"h\xc3\xa9llo"},[-1,-9.2233720368548e+18,false,256,-1e-300]],"x y":{"1":[true],"b":null}}]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode("quote\"")))"##, r##"true | ""quote\""""##),
        (
            r##"cjson.encode({["x y"]=0/0 ~= 0/0,["key"]={{{"tab\tq",true,"\0nul",4294967296},0/0 ~= 0/0,0/0 ~= 0/0},{[2]={["b"]="a",["a"]=1,["key"]="\0nul",["1"]="quote\""},["x y"]=127,["b"]={"quote\"","x/y"}}},["key"]=1e+21,["b"]=65535})"##,
            r##"true | "{"b":65535,"key":1e+21,"x y":true}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(1)))"##, r##"true | "1""##),
        (
            r##"cjson.encode({[1.5]={123456.789,cjson.null},["1"]={{0/0 ~= 0/0,0/0 ~= 0/0,true,{"quote\"",1e-07},{cjson.null,1e+300,"longlonglonglonglonglonglonglonglonglong","tab\tq",1e+300}}}})"##,
            r##"true | "{"1.5":[123456.789,null],"1":[[true,true,true,["quote\"",1e-07],[null,1e+300,"longlonglonglonglonglonglonglonglonglong","tab\tq",1e+300]]]}""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["a"]={{["1"]={[5]=cjson.null,["key"]=false,["1"]="héllo",["a"]=0},["b"]={9007199254740992,"a",7,1e+21},[-1]=0.5},"quote\"",cjson.null,{{["x y"]=0/0 ~= 0/0},{["a"]="quote\"",["a"]="héllo",["b"]=128,[-1]=1},{"héllo",true,cjson.null,2147483648,-1e-300},{65535,0/0 ~= 0/0,0/0 ~= 0/0,"\0nul"}}},["key"]={["1"]=127},["1"]={["a"]=-9223372036854775808,["key"]="héllo",[1.5]=cjson.null}})))"##,
            r##"true | "{"a":[{"1":{"a":0,"1":"h\xc3\xa9llo","key":false,"5":null},"-1":0.5,"b":[9.007199254741e+15,"a",7,1e+21]},"quote\"",null,[{"x y":true},{"a":"h\xc3\xa9llo","-1":1,"b":128},["h\xc3\xa9llo",true,null,2147483648,-1e-300],[65535,true,true,"\u0000nul"]]],"key":{"1":127},"1":{"a":-9.2233720368548e+18,"key":"h\xc3\xa9llo","1.5":null}}""##,
        ),
        (r##"cjson.encode(7)"##, r##"true | "7""##),
        (r##"cjson.encode(cjson.decode(cjson.encode({})))"##, r##"true | "{}""##),
        (
            r##"cjson.encode({{["1"]={},["1"]=true,["x y"]=65536,[-1]=65536}})"##,
            r##"true | "[{"1":true,"-1":65536,"x y":65536}]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["key"]={["key"]={{["x y"]=-1,[-1]=2147483648},0/0 ~= 0/0,{["b"]="tab\tq",["b"]=cjson.null},0/0 ~= 0/0},[1.5]={["x y"]=128,["b"]={"","",1e-07,127,"quote\""}}},["a"]="héllo"})))"##,
            r##"true | "{"key":{"key":[{"-1":2147483648,"x y":-1},true,{"b":null},true],"1.5":{"x y":128,"b":["","",1e-07,127,"quote\""]}},"a":"h\xc3\xa9llo"}""##,
        ),
        (
            r##"cjson.encode({{[5]=-0.25},true,{["x y"]={["a"]={false},["key"]={["x y"]=cjson.null,["x y"]="x/y",["1"]=true},["key"]="longlonglonglonglonglonglonglonglonglong",[1]={"longlonglonglonglonglonglonglonglonglong"}}}})"##,
            r##"true | "[[null,null,null,null,-0.25],true,{"x y":{"a":[false],"key":"longlonglonglonglonglonglonglonglonglong","1":["longlonglonglonglonglonglonglonglonglong"]}}]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["key"]=128,["x y"]={65536,{"tab\tq",{["a"]=256,["b"]="longlonglonglonglonglonglonglonglonglong",["a"]="",["b"]=cjson.null},{[3]="longlonglonglonglonglonglonglonglonglong"},{},{[5]=256,["key"]=cjson.null}},"",{["1"]={["1"]="x/y",["b"]="\0nul"},["b"]={["1"]=-9223372036854775808,["b"]=65535,["key"]="tab\tq",["x y"]=false}},123456.789},[5]={["a"]={["a"]=0.5,["a"]={3.14159,9007199254740992,"héllo"},["x y"]=false,["b"]={[1.5]=2147483648,[1]=false,[11]=255,["x y"]=0/0 ~= 0/0}}},["b"]=true})))"##,
            r##"true | "{"5":{"a":{"a":[3.14159,9.007199254741e+15,"h\xc3\xa9llo"],"x y":false,"b":{"1":false,"x y":true,"11":255,"1.5":2147483648}}},"x y":[65536,["tab\tq",{"a":"","b":null},[null,null,"longlonglonglonglonglonglonglonglonglong"],{},{"5":256,"key":null}],"",{"1":{"1":"x\/y","b":"\u0000nul"},"b":{"1":-9.2233720368548e+18,"b":65535,"key":"tab\tq","x y":false}},123456.789],"key":128,"b":true}""##,
        ),
        (
            r##"cjson.encode({["1"]=cjson.null,["1"]=true,["key"]={[11]={[2]={["a"]=123456.789,["key"]=2147483647,["key"]="héllo"}},["1"]=cjson.null,["x y"]=1,["x y"]={}}})"##,
            r##"true | "{"1":true,"key":{"11":[null,{"a":123456.789,"key":"h\xc3\xa9llo"}],"1":null,"x y":{}}}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(0/0 ~= 0/0)))"##, r##"true | "true""##),
        (
            r##"cjson.encode({["key"]={},["b"]=256,["b"]={[0]={["x y"]={["key"]=-1e-300,["b"]=cjson.null,["b"]=0/0 ~= 0/0}},["key"]="longlonglonglonglonglonglonglonglonglong",["b"]=true,["a"]={["a"]={9007199254740992,65535,false,"quote\"",2147483647},["b"]={["b"]=cjson.null,["b"]=128,["a"]=true,["key"]="\0nul"},["1"]={["b"]=65536}}}})"##,
            r##"true | "{"key":{},"b":{"0":{"x y":{"key":-1e-300,"b":true}},"a":{"a":[9.007199254741e+15,65535,false,"quote\"",2147483647],"1":{"b":65536},"b":{"a":true,"key":"\u0000nul","b":128}},"key":"longlonglonglonglonglonglonglonglonglong","b":true}}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode("a")))"##, r##"true | ""a"""##),
        (
            r##"cjson.encode({["b"]=0/0 ~= 0/0,["b"]={{["b"]={[2]=0/0 ~= 0/0,[1.5]=1e-07},[-1]=-9223372036854775808,["b"]=-1,["a"]=128}},["key"]={["1"]={-0.25,{65536,0/0 ~= 0/0,cjson.null,128},{-0.25,"",2147483648,"x/y",false},"a"},["1"]={[3]=2147483648,["x y"]={["1"]=0/0 ~= 0/0,[1.5]=1,["b"]=7},[1.5]=4294967296}},[2]="x/y"})"##,
            r##"true | "{"2":"x\/y","key":{"1":{"3":2147483648,"1.5":4294967296,"x y":{"1":true,"1.5":1,"b":7}}},"b":[{"a":128,"-1":-9.2233720368548e+18,"b":-1}]}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(-1)))"##, r##"true | "-1""##),
        (r##"cjson.encode(0/0 ~= 0/0)"##, r##"true | "true""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(1e+21)))"##, r##"true | "1e+21""##),
        (r##"cjson.encode({[3]={},["x y"]={}})"##, r##"true | "{"3":{},"x y":{}}""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["x y"]={["x y"]={},["key"]={[5]=-1e-300,["x y"]=2147483648,["x y"]=-1}},["b"]=9007199254740992})))"##,
            r##"true | "{"x y":{"key":{"5":-1e-300,"x y":-1},"x y":{}},"b":9.007199254741e+15}""##,
        ),
        (r##"cjson.encode({{7,true,{}},0/0 ~= 0/0,{[0]=true},{}})"##, r##"true | "[[7,true,{}],true,{"0":true},{}]""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(1e-07)))"##, r##"true | "1e-07""##),
        (
            r##"cjson.encode({["1"]=cjson.null,["x y"]={2147483648},["a"]={{["b"]="quote\""},{{0/0 ~= 0/0},{true},"\0nul",{["x y"]=127,["x y"]=128},{["1"]="",["key"]=cjson.null,["a"]="a"}}}})"##,
            r##"true | "{"1":null,"a":[{"b":"quote\""},[[true],[true],"\u0000nul",{"x y":128},{"1":"","key":null,"a":"a"}]],"x y":[2147483648]}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode({["key"]={}})))"##, r##"true | "{"key":{}}""##),
        (r##"cjson.encode({})"##, r##"true | "{}""##),
        (r##"cjson.encode(cjson.decode(cjson.encode("héllo")))"##, r##"true | ""h\xc3\xa9llo"""##),
        (
            r##"cjson.encode({{["a"]={[3]={"\0nul","longlonglonglonglonglonglonglonglonglong","longlonglonglonglonglonglonglonglonglong"},["1"]={9007199254740992},[2]={[5]="héllo",["1"]="x/y",["b"]=127}},["a"]=-9223372036854775808,["key"]={{["b"]=-0.25},{[5]=0/0 ~= 0/0,["key"]=false,["x y"]=256}},[11]={-9223372036854775808,65535}},{[3]={{["x y"]="tab\tq",[1.5]="longlonglonglonglonglonglonglonglonglong"},{1e+21,"quote\""},{[2]=1e-07},{["key"]=1e+300,[-1]=cjson.null}},["1"]="quote\""},{{[5]="a"}},2147483647,127})"##,
            r##"true | "[{"a":-9.2233720368548e+18,"key":[{"b":-0.25},{"5":true,"key":false,"x y":256}],"11":[-9.2233720368548e+18,65535]},{"3":[{"1.5":"longlonglonglonglonglonglonglonglonglong","x y":"tab\tq"},[1e+21,"quote\""],[null,1e-07],{"key":1e+300,"-1":null}],"1":"quote\""},[[null,null,null,null,"a"]],2147483647,127]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["1"]="quote\"",[3]={[11]={[3]={true,255,0/0 ~= 0/0,4294967296}}}})))"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (r##"cjson.encode(123456.789)"##, r##"true | "123456.789""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode("longlonglonglonglonglonglonglonglonglong")))"##,
            r##"true | ""longlonglonglonglonglonglonglonglonglong"""##,
        ),
        (
            r##"cjson.encode({{{},{{"tab\tq",0/0 ~= 0/0,1e+21,"","a"},1e-07,{[2]="a"},{1e+300,255,"longlonglonglonglonglonglonglonglonglong"}}},{["b"]={[0]=0,["x y"]={cjson.null,65535,0/0 ~= 0/0,"tab\tq","héllo"},["a"]={0/0 ~= 0/0,"longlonglonglonglonglonglonglonglonglong",true}},["a"]={"a"}},{{1e+21,true,cjson.null},0/0 ~= 0/0,{[5]={-1e-300,"x/y",0/0 ~= 0/0}},-1},0/0 ~= 0/0,{{{cjson.null}},"\0nul",{["x y"]={[1]=65535},["x y"]=true,["a"]={}},{["key"]=65535,["1"]={"x/y"}},{0/0 ~= 0/0,true,"\0nul",4294967296,{["b"]="quote\""}}}})"##,
            r##"true | "[[{},[["tab\tq",true,1e+21,"","a"],1e-07,[null,"a"],[1e+300,255,"longlonglonglonglonglonglonglonglonglong"]]],{"a":["a"],"b":{"0":0,"a":[true,"longlonglonglonglonglonglonglonglonglong",true],"x y":[null,65535,true,"tab\tq","h\xc3\xa9llo"]}},[[1e+21,true,null],true,[null,null,null,null,[-1e-300,"x\/y",true]],-1],true,[[[null]],"\u0000nul",{"a":{},"x y":true},{"key":65535,"1":["x\/y"]},[true,true,"\u0000nul",4294967296,{"b":"quote\""}]]]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode({["key"]=0/0 ~= 0/0})))"##, r##"true | "{"key":true}""##),
        (
            r##"cjson.encode({{["x y"]={{["1"]=0/0 ~= 0/0,["x y"]="quote\""},0/0 ~= 0/0},["1"]=1e-07},{{{["key"]=256,["1"]="a"},{["a"]=false},{0,"tab\tq",1e+300},"tab\tq"}}})"##,
            r##"true | "[{"1":1e-07,"x y":[{"1":true,"x y":"quote\""},true]},[[{"key":256,"1":"a"},{"a":false},[0,"tab\tq",1e+300],"tab\tq"]]]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(256)))"##, r##"true | "256""##),
        (r##"cjson.encode(2147483648)"##, r##"true | "2147483648""##),
        (r##"cjson.encode(cjson.decode(cjson.encode("tab\tq")))"##, r##"true | ""tab\tq"""##),
        (
            r##"cjson.encode({"longlonglonglonglonglonglonglonglonglong",{0/0 ~= 0/0,{{true,4294967296,false,-0.25},{cjson.null,"x/y",2147483647,"tab\tq",2147483648},{["x y"]=4294967296}},{["1"]={["x y"]="héllo",["a"]="x/y",["1"]=cjson.null,[5]=65536}},cjson.null},{[5]={[3]={["b"]=0/0 ~= 0/0}},["b"]=1e+300},"\0nul"})"##,
            r##"true | "["longlonglonglonglonglonglonglonglonglong",[true,[[true,4294967296,false,-0.25],[null,"x\/y",2147483647,"tab\tq",2147483648],{"x y":4294967296}],{"1":{"a":"x\/y","5":65536,"1":null,"x y":"h\xc3\xa9llo"}},null],{"5":[null,null,{"b":true}],"b":1e+300},"\u0000nul"]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["1"]="",["b"]=-1,[5]=cjson.null})))"##,
            r##"true | "{"5":null,"1":"","b":-1}""##,
        ),
        (
            r##"cjson.encode({{65536,"x/y",{["1"]={1e+300,-1e-300,cjson.null}},{[11]=cjson.null}},{2147483647,{["x y"]={["x y"]=0/0 ~= 0/0,["b"]=cjson.null,["key"]=1e+21}},"tab\tq",0/0 ~= 0/0,""},-1e-300})"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{["1"]=0,["a"]={{["a"]=cjson.null},{[-1]=false,["x y"]=true,["b"]=9007199254740992,["b"]="quote\""},{[1]="tab\tq"}}},{{{["a"]="a"},-1},{{["key"]="",["x y"]=false,[0]=3.14159},{[3]=7,[-1]=1e+300}},{{-1e-300,1e+300},{["b"]=127,["1"]=255,[3]=127,["a"]=1e+300},128},{}},-1e-300,true})))"##,
            r##"true | "[{"1":0,"a":[{"a":null},{"x y":true,"-1":false,"b":"quote\""},["tab\tq"]]},[[{"a":"a"},-1],[{"0":3.14159,"key":"","x y":false},{"3":7,"-1":1e+300}],[[-1e-300,1e+300],{"a":1e+300,"1":255,"3":127,"b":127},128],{}],-1e-300,true]""##,
        ),
        (
            r##"cjson.encode({["a"]="tab\tq",["a"]={{[5]=9223372036854775808,["a"]={""}},65536,{["a"]={[1.5]=""},["key"]={"quote\"","quote\"",true},["key"]=true,[0]={9223372036854775808,9007199254740992,false,65535,true}},{{["x y"]=0/0 ~= 0/0},1e-07,"héllo"}},[11]={["a"]={["key"]={-1e-300,-9223372036854775808,1e-07},["1"]="tab\tq",["x y"]=9007199254740992,["x y"]={123456.789,cjson.null,1e+21,false}},["key"]=cjson.null,[2]={[11]={["b"]="tab\tq",["x y"]=true,[5]=true,["a"]=0/0 ~= 0/0},["x y"]={["a"]=true},["x y"]={9007199254740992,"a",-1e-300,"x/y","a"}},[-1]={[-1]={["a"]=65536,[2]=1e+300},["a"]={}}}})"##,
            r##"true | "{"a":[{"5":9.2233720368548e+18,"a":[""]},65536,{"a":{"1.5":""},"key":true,"0":[9.2233720368548e+18,9.007199254741e+15,false,65535,true]},[{"x y":true},1e-07,"h\xc3\xa9llo"]],"11":{"a":{"1":"tab\tq","key":[-1e-300,-9.2233720368548e+18,1e-07],"x y":[123456.789,null,1e+21,false]},"2":{"11":{"5":true,"a":true,"x y":true,"b":"tab\tq"},"x y":[9.007199254741e+15,"a",-1e-300,"x\/y","a"]},"key":null,"-1":{"-1":{"a":65536,"2":1e+300},"a":{}}}}""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{},{["1"]={{1e+21,"longlonglonglonglonglonglonglonglonglong",cjson.null,0/0 ~= 0/0},{[-1]=7,["x y"]=3.14159,["x y"]=1e+300},"x/y","\0nul"},["key"]={["x y"]={true,true},[2]={[0]=2147483647,["x y"]="a"},[5]="\0nul"},["key"]={["key"]="a",[3]=true},[0]={["a"]="",["1"]=false,["key"]={["1"]=0/0 ~= 0/0,[-1]=0},["a"]={["a"]=false,["x y"]=-1,[1]="\0nul",["key"]=255}}},{},{{true,cjson.null,-9223372036854775808,{["x y"]=cjson.null,[1]=cjson.null}},{["b"]=cjson.null}}})))"##,
            r##"true | "[{},{"1":[[1e+21,"longlonglonglonglonglonglonglonglonglong",null,true],{"-1":7,"x y":1e+300},"x\/y","\u0000nul"],"0":{"a":{"1":"\u0000nul","a":false,"key":255,"x y":-1},"key":{"1":true,"-1":0},"1":false},"key":{"key":"a","3":true}},{},[[true,null,-9.2233720368548e+18,{"1":null,"x y":null}],{"b":null}]]""##,
        ),
        (r##"cjson.encode(123456.789)"##, r##"true | "123456.789""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(cjson.null)))"##, r##"true | "null""##),
        (
            r##"cjson.encode({["1"]=9223372036854775808,[1]="quote\"",["x y"]={0,{{["x y"]="",["b"]="héllo"},{["key"]=false,["1"]="tab\tq"},{["key"]="héllo",["x y"]="a",["1"]=4294967296},{cjson.null,"héllo",true},9007199254740992},-1,{{cjson.null},7,{[3]="\0nul",[5]="a"}},{["b"]=128,[11]={["key"]=cjson.null,["x y"]="tab\tq",["a"]=3.14159},[2]="longlonglonglonglonglonglonglonglonglong",[1]={["x y"]=3.14159,[11]="héllo"}}},["b"]=127})"##,
            r##"true | "{"1":9.2233720368548e+18,"b":127,"1":"quote\"","x y":[0,[{"b":"h\xc3\xa9llo","x y":""},{"key":false,"1":"tab\tq"},{"1":4294967296,"key":"h\xc3\xa9llo","x y":"a"},[null,"h\xc3\xa9llo",true],9.007199254741e+15],-1,[[null],7,[null,null,"\u0000nul",null,"a"]],{"11":{"a":3.14159,"key":null,"x y":"tab\tq"},"2":"longlonglonglonglonglonglonglonglonglong","1":{"11":"h\xc3\xa9llo","x y":3.14159},"b":128}]}""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["x y"]={["b"]={"tab\tq"}},["a"]="longlonglonglonglonglonglonglonglonglong",[2]={255,{{"longlonglonglonglonglonglonglonglonglong"}},{"x/y"},65536,{{["key"]="héllo",["key"]="quote\""},{2147483647,true,"longlonglonglonglonglonglonglonglonglong"},{-0.25,cjson.null,0/0 ~= 0/0,3.14159,127},true}}})))"##,
            r##"true | "{"a":"longlonglonglonglonglonglonglonglonglong","x y":{"b":["tab\tq"]},"2":[255,[["longlonglonglonglonglonglonglonglonglong"]],["x\/y"],65536,[{"key":"quote\""},[2147483647,true,"longlonglonglonglonglonglonglonglonglong"],[-0.25,null,true,3.14159,127],true]]}""##,
        ),
        (
            r##"cjson.encode({{0/0 ~= 0/0,"héllo",{{true},0.5,0/0 ~= 0/0,{[0]=0,["a"]=cjson.null}},{}},{{{},{-9223372036854775808,"x/y",256}}}})"##,
            r##"true | "[[true,"h\xc3\xa9llo",[[true],0.5,true,{"0":0,"a":null}],{}],[[{},[-9.2233720368548e+18,"x\/y",256]]]]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(4294967296)))"##, r##"true | "4294967296""##),
        (
            r##"cjson.encode({[0]={{"a",{[1]=1e-07}},{{"x/y",cjson.null,cjson.null,3.14159}},{123456.789,{["key"]=7,["1"]="quote\"",["a"]=2147483648,["a"]=0/0 ~= 0/0}},{[1.5]={"quote\"",-9223372036854775808,false},["x y"]={["x y"]=127,[11]=123456.789},["1"]=true}}})"##,
            r##"true | "{"0":[["a",[1e-07]],[["x\/y",null,null,3.14159]],[123456.789,{"1":"quote\"","key":7,"a":true}],{"1":true,"1.5":["quote\"",-9.2233720368548e+18,false],"x y":{"11":123456.789,"x y":127}}]}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode({})))"##, r##"true | "{}""##),
        (r##"cjson.encode("a")"##, r##"true | ""a"""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(false)))"##, r##"true | "false""##),
        (
            r##"cjson.encode({{"tab\tq",{{-1e-300,7,"héllo","tab\tq"},{["key"]=1e+21,["1"]=65536},{2147483647,4294967296,-1e-300},0/0 ~= 0/0},{},{{["x y"]=0/0 ~= 0/0,["b"]=1,["b"]=0/0 ~= 0/0,["x y"]=4294967296},{["a"]=cjson.null,["a"]=1e+300,["a"]="",["1"]=0/0 ~= 0/0},{},{["b"]=cjson.null,[0]=128,[1]=1e+300,["1"]=-0.25},{cjson.null,1e+300,123456.789,1e+300,"a"}}},{["a"]="x/y"},false,{["1"]=2147483647,["a"]=9223372036854775808},-1})"##,
            r##"true | "[["tab\tq",[[-1e-300,7,"h\xc3\xa9llo","tab\tq"],{"key":1e+21,"1":65536},[2147483647,4294967296,-1e-300],true],{},[{"b":true,"x y":4294967296},{"a":"","1":true},{},{"0":128,"1":-0.25,"1":1e+300,"b":null},[null,1e+300,123456.789,1e+300,"a"]]],{"a":"x\/y"},false,{"1":2147483647,"a":9.2233720368548e+18},-1]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["x y"]={{{},{0/0 ~= 0/0,0/0 ~= 0/0,"quote\""},{["x y"]="x/y",["b"]=0/0 ~= 0/0,["key"]=1}},{["a"]={["key"]="quote\""},["1"]="a"},{{"longlonglonglonglonglonglonglonglonglong","tab\tq"},"quote\"",{["x y"]="tab\tq",["key"]="héllo"}},{["1"]={1,2147483647,65536,false}},{["key"]={}}}})))"##,
            r##"true | "{"x y":[[{},[true,true,"quote\""],{"x y":"x\/y","key":1,"b":true}],{"a":{"key":"quote\""},"1":"a"},[["longlonglonglonglonglonglonglonglonglong","tab\tq"],"quote\"",{"key":"h\xc3\xa9llo","x y":"tab\tq"}],{"1":[1,2147483647,65536,false]},{"key":{}}]}""##,
        ),
        (r##"cjson.encode("")"##, r##"true | """""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["a"]=true,["1"]=true,["1"]={cjson.null}})))"##,
            r##"true | "{"a":true,"1":[null]}""##,
        ),
        (r##"cjson.encode({})"##, r##"true | "{}""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{[11]={{}},[1]={{["key"]="tab\tq",["x y"]="tab\tq"}}}})))"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (r##"cjson.encode({{["1"]={},["1"]=-1}})"##, r##"true | "[{"1":-1}]""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({[0]=false,["b"]={["key"]=false,["b"]={{["1"]="a",["key"]="longlonglonglonglonglonglonglonglonglong",["x y"]=1},{-9223372036854775808,3.14159}},["1"]={["a"]=-0.25,["x y"]={["x y"]="\0nul",["key"]=cjson.null},[-1]={["x y"]=true,["a"]="longlonglonglonglonglonglonglonglonglong"}}},["key"]=128,[11]={[3]="quote\"",[2]="x/y",["a"]=-1}})))"##,
            r##"true | "{"key":128,"0":false,"11":{"a":-1,"3":"quote\"","2":"x\/y"},"b":{"1":{"a":-0.25,"-1":{"a":"longlonglonglonglonglonglonglonglonglong","x y":true},"x y":{"key":null,"x y":"\u0000nul"}},"key":false,"b":[{"1":"a","key":"longlonglonglonglonglonglonglonglonglong","x y":1},[-9.2233720368548e+18,3.14159]]}}""##,
        ),
        (r##"cjson.encode(0/0 ~= 0/0)"##, r##"true | "true""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(cjson.null)))"##, r##"true | "null""##),
        (r##"cjson.encode({{}})"##, r##"true | "[{}]""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(2147483647)))"##, r##"true | "2147483647""##),
        (
            r##"cjson.encode({"x/y",{["b"]={["a"]={[2]=cjson.null,["a"]=255},["key"]=0/0 ~= 0/0,["key"]={cjson.null,cjson.null,true}}}})"##,
            r##"true | "["x\/y",{"b":{"a":{"2":null,"a":255},"key":[null,null,true]}}]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode({["1"]={}})))"##, r##"true | "{"1":{}}""##),
        (r##"cjson.encode(4294967296)"##, r##"true | "4294967296""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{{{[0]="tab\tq",["x y"]=0/0 ~= 0/0},{cjson.null,"quote\""}},{7,9223372036854775808,{65536,1e+21,true,65535,true},{65536,0/0 ~= 0/0,0.5,cjson.null},{[1]="",["key"]=""}},cjson.null},{},{["b"]=false}})))"##,
            r##"true | "[[[{"x y":true,"0":"tab\tq"},[null,"quote\""]],[7,9.2233720368548e+18,[65536,1e+21,true,65535,true],[65536,true,0.5,null],{"1":"","key":""}],null],{},{"b":false}]""##,
        ),
        (
            r##"cjson.encode({["1"]={[5]={{["1"]=-1e-300,["a"]=7,[11]="héllo",["a"]=4294967296},{0/0 ~= 0/0,cjson.null,cjson.null,cjson.null,0/0 ~= 0/0},1e+300,0/0 ~= 0/0,{["1"]=-1e-300,["x y"]="\0nul"}},["b"]="",[1]="\0nul",["a"]={256,2147483648}}})"##,
            r##"true | "{"1":{"5":[{"1":-1e-300,"11":"h\xc3\xa9llo","a":4294967296},[true,null,null,null,true],1e+300,true,{"1":-1e-300,"x y":"\u0000nul"}],"a":[256,2147483648],"1":"\u0000nul","b":""}}""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode(4294967296)))"##, r##"true | "4294967296""##),
        (
            r##"cjson.encode({["x y"]={["a"]={"quote\"",{4294967296,65535,0/0 ~= 0/0,"quote\""},123456.789}},["x y"]={{[5]={["key"]=65536},["b"]={"longlonglonglonglonglonglonglonglonglong"}},{{["key"]=1e+300,["x y"]=0/0 ~= 0/0,[5]=1e-07,["b"]=0/0 ~= 0/0},{},{1e-07,-0.25,cjson.null}},"héllo",{{"tab\tq",0/0 ~= 0/0,""},{["x y"]=cjson.null,["1"]=-0.25,["key"]=cjson.null,["1"]="\0nul"},{["1"]=true,["a"]="a",["b"]=9223372036854775808},{"héllo","a"}},true}})"##,
            r##"true | "{"x y":[{"5":{"key":65536},"b":["longlonglonglonglonglonglonglonglonglong"]},[{"5":1e-07,"b":true,"key":1e+300,"x y":true},{},[1e-07,-0.25,null]],"h\xc3\xa9llo",[["tab\tq",true,""],{"1":"\u0000nul","key":null,"x y":null},{"1":true,"a":"a","b":9.2233720368548e+18},["h\xc3\xa9llo","a"]],true]}""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({[3]={3.14159,{["x y"]="\0nul",["x y"]={"a","x/y","longlonglonglonglonglonglonglonglonglong","x/y",1e+21},["x y"]=1e+300},{"tab\tq","a",256,{["a"]=256,["a"]=false,["b"]="héllo",["key"]="a"}}}})))"##,
            r##"true | "[null,null,[3.14159,{"x y":1e+300},["tab\tq","a",256,{"a":false,"key":"a","b":"h\xc3\xa9llo"}]]]""##,
        ),
        (r##"cjson.encode(0/0 ~= 0/0)"##, r##"true | "true""##),
        (r##"cjson.encode(cjson.decode(cjson.encode("tab\tq")))"##, r##"true | ""tab\tq"""##),
        (
            r##"cjson.encode({{[11]=0/0 ~= 0/0},0.5,""})"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{["b"]={},["key"]={["b"]="tab\tq",["x y"]={}},["1"]=false,["b"]={["key"]={[1]="longlonglonglonglonglonglonglonglonglong",["x y"]="héllo",["key"]=2147483648},["a"]={[11]=1e+300,["1"]=1e-07},["key"]=65536,["key"]={true}}},true})))"##,
            r##"true | "[{"1":false,"key":{"b":"tab\tq","x y":{}},"b":{"a":{"11":1e+300,"1":1e-07},"key":[true]}},true]""##,
        ),
        (r##"cjson.encode({0/0 ~= 0/0})"##, r##"true | "[true]""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode("longlonglonglonglonglonglonglonglonglong")))"##,
            r##"true | ""longlonglonglonglonglonglonglonglonglong"""##,
        ),
        (
            r##"cjson.encode({{["1"]="tab\tq",["1"]={[0]=0/0 ~= 0/0,["1"]={"tab\tq",true,9007199254740992}},["1"]={{0.5,"longlonglonglonglonglonglonglonglonglong"}}},false,{["key"]={9007199254740992,{["a"]=127},0/0 ~= 0/0,{[0]="x/y",[1]=0/0 ~= 0/0},2147483648},["1"]={{[-1]=false},{65535,"\0nul",0/0 ~= 0/0,0/0 ~= 0/0,255}},["key"]={["b"]=65536}},{["b"]={[11]={["x y"]=cjson.null,["1"]=0/0 ~= 0/0,["x y"]=128},["b"]={},[1.5]=-1}},3.14159})"##,
            r##"true | "[{"1":[[0.5,"longlonglonglonglonglonglonglonglonglong"]]},false,{"1":[{"-1":false},[65535,"\u0000nul",true,true,255]],"key":{"b":65536}},{"b":{"11":{"1":true,"x y":128},"1.5":-1,"b":{}}},3.14159]""##,
        ),
        (r##"cjson.encode(cjson.decode(cjson.encode({})))"##, r##"true | "{}""##),
        (
            r##"cjson.encode({{"héllo",{["b"]={[1]=9223372036854775808,["a"]=cjson.null},["1"]=256},{["b"]={},[3]=65536,[0]="héllo"},"",{["key"]=true,["x y"]={[1.5]="",[11]="a"},["key"]=2147483648,["1"]="héllo"}}})"##,
            r##"true | "[["h\xc3\xa9llo",{"1":256,"b":{"1":9.2233720368548e+18,"a":null}},{"3":65536,"0":"h\xc3\xa9llo","b":{}},"",{"1":"h\xc3\xa9llo","key":2147483648,"x y":{"1.5":"","11":"a"}}]]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode("longlonglonglonglonglonglonglonglonglong")))"##,
            r##"true | ""longlonglonglonglonglonglonglonglonglong"""##,
        ),
        (r##"cjson.encode(false)"##, r##"true | "false""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode("longlonglonglonglonglonglonglonglonglong")))"##,
            r##"true | ""longlonglonglonglonglonglonglonglonglong"""##,
        ),
        (
            r##"cjson.encode({"héllo",65536,{["x y"]="héllo",["b"]=128,["a"]={{},255,0.5}}})"##,
            r##"true | "["h\xc3\xa9llo",65536,{"a":[{},255,0.5],"b":128,"x y":"h\xc3\xa9llo"}]""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["b"]={["a"]="\0nul",[-1]={["key"]={[1]=255,[-1]=1e+300},["x y"]={["1"]=true},["key"]={"héllo",0/0 ~= 0/0,""}}}})))"##,
            r##"true | "{"b":{"a":"\u0000nul","-1":{"key":["h\xc3\xa9llo",true,""],"x y":{"1":true}}}}""##,
        ),
        (r##"cjson.encode({[2]=cjson.null,[1]={}})"##, r##"true | "[{},null]""##),
        (r##"cjson.encode(cjson.decode(cjson.encode({0/0 ~= 0/0})))"##, r##"true | "[true]""##),
        (r##"cjson.encode({})"##, r##"true | "{}""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({{[1.5]={"héllo"}},9223372036854775808,{[5]={}},{[1.5]={{["x y"]=0/0 ~= 0/0},{128,0,123456.789,"x/y",0},{[2]=cjson.null},{[1]=2147483647,["b"]=0/0 ~= 0/0}}}})))"##,
            r##"true | "[{"1.5":["h\xc3\xa9llo"]},9.2233720368548e+18,[null,null,null,null,{}],{"1.5":[{"x y":true},[128,0,123456.789,"x\/y",0],[null,null],{"1":2147483647,"b":true}]}]""##,
        ),
        (
            r##"cjson.encode({["key"]={["b"]={{[-1]="héllo",["b"]="x/y",["a"]=0.5},{[11]=2147483647,["1"]=1e+300,["key"]="longlonglonglonglonglonglonglonglonglong",["1"]=128},true,0/0 ~= 0/0,{[5]=0,[1]="longlonglonglonglonglonglonglonglonglong",["x y"]=65535}},["b"]={{[11]="héllo",["a"]=7}},["b"]={[11]=7,["x y"]={[0]=0/0 ~= 0/0},["b"]={0/0 ~= 0/0,"longlonglonglonglonglonglonglonglonglong","\0nul",1,"longlonglonglonglonglonglonglonglonglong"},["b"]={65536,0/0 ~= 0/0}},[0]=3.14159},["1"]={["b"]=cjson.null}})"##,
            r##"true | "{"key":{"0":3.14159,"b":{"11":7,"b":[65536,true],"x y":{"0":true}}},"1":{"b":null}}""##,
        ),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["key"]={-9223372036854775808,false,cjson.null,{["a"]="longlonglonglonglonglonglonglonglonglong",["a"]={["key"]=cjson.null,[1.5]="quote\"",["key"]=0,["key"]=false},["key"]={["a"]=cjson.null,["a"]=0.5,["key"]="x/y",[5]="\0nul"},["key"]=-0.25}},["b"]=cjson.null})))"##,
            r##"true | "{"key":[-9.2233720368548e+18,false,null,{"a":{"key":false,"1.5":"quote\""},"key":-0.25}],"b":null}""##,
        ),
        (r##"cjson.encode(0/0 ~= 0/0)"##, r##"true | "true""##),
        (r##"cjson.encode(cjson.decode(cjson.encode(123456.789)))"##, r##"true | "123456.789""##),
        (r##"cjson.encode(cjson.null)"##, r##"true | "null""##),
        (r##"cjson.encode(cjson.decode(cjson.encode("x/y")))"##, r##"true | ""x\/y"""##),
        (r##"cjson.encode({["x y"]=7})"##, r##"true | "{"x y":7}""##),
        (
            r##"cjson.encode(cjson.decode(cjson.encode({["b"]={["x y"]=-1e-300,[11]="longlonglonglonglonglonglonglonglonglong",[5]={}}})))"##,
            r##"true | "{"b":{"5":{},"11":"longlonglonglonglonglonglonglonglonglong","x y":-1e-300}}""##,
        ),
        (r##"cjson.decode([["\u00e9\n"]])"##, r##"true | "\xc3\xa9\x0a""##),
        (r##"cjson.decode([[1E5]])"##, r##"true | 100000"##),
        (
            r##"cjson.decode([[{"d":{"a":true,"a":[true, 2147483647],"d":{"e":{"e":null,"b":"\u00e9\n"},"a":[1E5, 1E5, -0.0],"d":{}}},"a":false,"c":"s"}]])"##,
            r##"true | {"a"=false,"c"="s","d"={"a"={1=true,2=2147483647},"d"={"a"={1=100000,2=100000,3=-0},"d"={},"e"={"b"="\xc3\xa9\x0a","e"=userdata: (nil)}}}}"##,
        ),
        (r##"cjson.decode([[true]])"##, r##"true | true"##),
        (
            r##"cjson.decode([[{"d":2e-3,"d":"s","e":{"d":{"d":{"d":9007199254740992,"c":"s"},"a":["s", -0.0],"e":[null, "\u00e9\n", "\u00e9\n"]}}}]])"##,
            r##"true | {"d"="s","e"={"d"={"a"={1="s",2=-0},"d"={"c"="s","d"=9.007199254741e+15},"e"={1=userdata: (nil),2="\xc3\xa9\x0a",3="\xc3\xa9\x0a"}}}}"##,
        ),
        (r##"cjson.decode([[{}]])"##, r##"true | {}"##),
        (r##"cjson.decode([[{"a":"\u00e9\n"}]])"##, r##"true | {"a"="\xc3\xa9\x0a"}"##),
        (r##"cjson.decode([[{"e":-0.0,"c":true}]])"##, r##"true | {"c"=true,"e"=-0}"##),
        (r##"cjson.decode([[9223372036854775808]])"##, r##"true | 9.2233720368548e+18"##),
        (r##"cjson.decode([[true]])"##, r##"true | true"##),
        (r##"cjson.decode([["\u00e9\n"]])"##, r##"true | "\xc3\xa9\x0a""##),
        (r##"cjson.decode([[255]])"##, r##"true | 255"##),
        (r##"cjson.decode([[false]])"##, r##"true | false"##),
        (r##"cjson.decode([[{"a":[]}]])"##, r##"true | {"a"={}}"##),
        (r##"cjson.decode([[false]])"##, r##"true | false"##),
        (r##"cjson.decode([["s"]])"##, r##"true | "s""##),
        (r##"cjson.decode([[1E5]])"##, r##"true | 100000"##),
        (r##"cjson.decode([[true]])"##, r##"true | true"##),
        (r##"cjson.decode([[true]])"##, r##"true | true"##),
        (r##"cjson.decode([[{"e":{"d":1E5}}]])"##, r##"true | {"e"={"d"=100000}}"##),
        (r##"cjson.decode([[{"c":[-0.0],"d":["\u00e9\n"]}]])"##, r##"true | {"c"={1=-0},"d"={1="\xc3\xa9\x0a"}}"##),
        (
            r##"(function() local p = struct.pack("dhi3LiB", -1, 1, 2^40, 2^64, -1, 65535, 0.5) return {#p, struct.size("dhi3LiB"), struct.unpack("dhi3LiB", p)} end)()"##,
            r##"true | {1=26,2=26,3=-1,4=1,5=0,6=0,7=-1,8=255,9=27}"##,
        ),
        (
            r##"(function() local p = struct.pack("i3", -1, "ab") return {#p, struct.size("i3"), struct.unpack("i3", p)} end)()"##,
            r##"true | {1=3,2=3,3=-1,4=4}"##,
        ),
        (
            r##"(function() local p = struct.pack("Bi8", 300, -2^63, 2^64) return {#p, struct.size("Bi8"), struct.unpack("Bi8", p)} end)()"##,
            r##"true | {1=9,2=9,3=44,4=-9.2233720368548e+18,5=10}"##,
        ),
        (
            r##"(function() local p = struct.pack("TI", -1, 65535, 2^40) return {#p, struct.size("TI"), struct.unpack("TI", p)} end)()"##,
            r##"true | {1=12,2=12,3=1.844674407371e+19,4=65535,5=13}"##,
        ),
        (
            r##"(function() local p = struct.pack("Tdi8I5", 300, 2^40, "ab", 65535, -2^63) return {#p, struct.size("Tdi8I5"), struct.unpack("Tdi8I5", p)} end)()"##,
            r##"false | "user_script:1: bad argument #4 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"(function() local p = struct.pack("T", 2^64, 1) return {#p, struct.size("T"), struct.unpack("T", p)} end)()"##,
            r##"true | {1=8,2=8,3=0,4=9}"##,
        ),
        (
            r##"(function() local p = struct.pack("l", 2^40, -2^63) return {#p, struct.size("l"), struct.unpack("l", p)} end)()"##,
            r##"true | {1=8,2=8,3=1099511627776,4=9}"##,
        ),
        (
            r##"(function() local p = struct.pack(" Ll>", -2^63, "ab", -2^63) return {#p, struct.size(" Ll>"), struct.unpack(" Ll>", p)} end)()"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"(function() local p = struct.pack("i8", 0.5, 0.5) return {#p, struct.size("i8"), struct.unpack("i8", p)} end)()"##,
            r##"true | {1=8,2=8,3=0,4=9}"##,
        ),
        (
            r##"(function() local p = struct.pack("B>", 1, 2^40) return {#p, struct.size("B>"), struct.unpack("B>", p)} end)()"##,
            r##"true | {1=1,2=1,3=1,4=2}"##,
        ),
        (
            r##"(function() local p = struct.pack("c2ii8!8L", 2^64, "ab", -70000, 0.5, -2^63) return {#p, struct.size("c2ii8!8L"), struct.unpack("c2ii8!8L", p)} end)()"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"(function() local p = struct.pack("fddL", 300, 2^64, 2^40, 2^40, 2^40) return {#p, struct.size("fddL"), struct.unpack("fddL", p)} end)()"##,
            r##"true | {1=28,2=28,3=300,4=1.844674407371e+19,5=1099511627776,6=1099511627776,7=29}"##,
        ),
        (
            r##"(function() local p = struct.pack("!", 2^40) return {#p, struct.size("!"), struct.unpack("!", p)} end)()"##,
            r##"true | {1=0,2=0,3=1}"##,
        ),
        (
            r##"(function() local p = struct.pack("I I16I5", 2^64, 300, -70000, 2^64) return {#p, struct.size("I I16I5"), struct.unpack("I I16I5", p)} end)()"##,
            r##"true | {1=25,2=25,3=0,4=300,5=1099511557776,6=26}"##,
        ),
        (
            r##"(function() local p = struct.pack("i3", "ab", 2^40) return {#p, struct.size("i3"), struct.unpack("i3", p)} end)()"##,
            r##"false | "user_script:1: bad argument #2 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"(function() local p = struct.pack("I5bi8", -2^63, -1, 2^64, 65535) return {#p, struct.size("I5bi8"), struct.unpack("I5bi8", p)} end)()"##,
            r##"true | {1=14,2=14,3=0,4=-1,5=0,6=15}"##,
        ),
        (
            r##"(function() local p = struct.pack("B!2", -1, "ab") return {#p, struct.size("B!2"), struct.unpack("B!2", p)} end)()"##,
            r##"true | {1=1,2=1,3=255,4=2}"##,
        ),
        (
            r##"(function() local p = struct.pack("hi8i3!4!H", 2^64, -70000, -70000, -2^63, -1) return {#p, struct.size("hi8i3!4!H"), struct.unpack("hi8i3!4!H", p)} end)()"##,
            r##"true | {1=16,2=16,3=0,4=-70000,5=-70000,6=0,7=17}"##,
        ),
        (
            r##"(function() local p = struct.pack("I16!8x", 1, 1) return {#p, struct.size("I16!8x"), struct.unpack("I16!8x", p)} end)()"##,
            r##"true | {1=17,2=17,3=1,4=18}"##,
        ),
        (
            r##"(function() local p = struct.pack("!2", 2^40) return {#p, struct.size("!2"), struct.unpack("!2", p)} end)()"##,
            r##"true | {1=0,2=0,3=1}"##,
        ),
        (
            r##"(function() local p = struct.pack("!8>i3xd", -70000, 2^64, 2^64) return {#p, struct.size("!8>i3xd"), struct.unpack("!8>i3xd", p)} end)()"##,
            r##"true | {1=16,2=16,3=-70000,4=1.844674407371e+19,5=17}"##,
        ),
        (
            r##"(function() local p = struct.pack("h!", -1, 65535) return {#p, struct.size("h!"), struct.unpack("h!", p)} end)()"##,
            r##"true | {1=2,2=2,3=-1,4=3}"##,
        ),
        (
            r##"(function() local p = struct.pack("I16lT", 65535, "ab", 2^40, -2^63) return {#p, struct.size("I16lT"), struct.unpack("I16lT", p)} end)()"##,
            r##"false | "user_script:1: bad argument #3 to 'pack' (number expected, got string)""##,
        ),
        (
            r##"(function() local p = struct.pack("!4!b> ", 300, 65535) return {#p, struct.size("!4!b> "), struct.unpack("!4!b> ", p)} end)()"##,
            r##"true | {1=1,2=1,3=44,4=2}"##,
        ),
        (
            r##"(function() local p = struct.pack("i8il!2L", -70000, 0.5, "ab", 2^40, 2^40) return {#p, struct.size("i8il!2L"), struct.unpack("i8il!2L", p)} end)()"##,
            r##"false | "user_script:1: bad argument #4 to 'pack' (number expected, got string)""##,
        ),
    ]);
}
