//! Expected results recorded from Redis 7.0.15 (`EVAL` of the same snippet
//! through the same renderer, see `testing::PRELUDE`).

use super::super::testing::check_rendered;

/// Encoding: numbers, strings, arrays, objects, sparse tables, nesting, errors.
#[test]
fn encode() {
    check_rendered(&[
        (r##"cjson.encode({1,2,{a=1}})"##, r##"true | "[1,2,{"a":1}]""##),
        (r##"cjson.encode({})"##, r##"true | "{}""##),
        (r##"cjson.encode({{}})"##, r##"true | "[{}]""##),
        (
            r##"cjson.encode("a/b\"c\\d\0\1\31\127\128\255")"##,
            r##"true | ""a\/b\"c\\d\u0000\u0001\u001f\u007f\x80\xff"""##,
        ),
        (r##"cjson.encode("\b\t\n\f\r")"##, r##"true | ""\b\t\n\f\r"""##),
        (r##"cjson.encode(1/3)"##, r##"true | "0.33333333333333""##),
        (r##"cjson.encode(0.1)"##, r##"true | "0.1""##),
        (r##"cjson.encode(-0)"##, r##"true | "-0""##),
        (r##"cjson.encode(2^53)"##, r##"true | "9.007199254741e+15""##),
        (r##"cjson.encode(2^63)"##, r##"true | "9.2233720368548e+18""##),
        (r##"cjson.encode(1e300)"##, r##"true | "1e+300""##),
        (r##"cjson.encode(1e-300)"##, r##"true | "1e-300""##),
        (r##"cjson.encode(123456789012345)"##, r##"true | "1.2345678901234e+14""##),
        (r##"cjson.encode(12345678901234567)"##, r##"true | "1.2345678901235e+16""##),
        (r##"cjson.encode(3.14159265358979)"##, r##"true | "3.1415926535898""##),
        (r##"cjson.encode(1/0)"##, r##"false | "user_script:1: Cannot serialise number: must not be NaN or Inf""##),
        (r##"cjson.encode(-1/0)"##, r##"false | "user_script:1: Cannot serialise number: must not be NaN or Inf""##),
        (r##"cjson.encode(0/0)"##, r##"false | "user_script:1: Cannot serialise number: must not be NaN or Inf""##),
        (r##"cjson.encode({1/0})"##, r##"false | "user_script:1: Cannot serialise number: must not be NaN or Inf""##),
        (
            r##"cjson.encode({[1/0]=1})"##,
            r##"false | "user_script:1: Cannot serialise number: must not be NaN or Inf""##,
        ),
        (r##"cjson.encode(true)"##, r##"true | "true""##),
        (r##"cjson.encode(false)"##, r##"true | "false""##),
        (r##"cjson.encode(nil)"##, r##"true | "null""##),
        (r##"cjson.encode(tostring)"##, r##"false | "user_script:1: Cannot serialise function: type not supported""##),
        (
            r##"cjson.encode({f=tostring})"##,
            r##"false | "user_script:1: Cannot serialise function: type not supported""##,
        ),
        (
            r##"cjson.encode({[true]=1})"##,
            r##"false | "user_script:1: Cannot serialise boolean: table key must be a number or string""##,
        ),
        (
            r##"cjson.encode({[{}]=1})"##,
            r##"false | "user_script:1: Cannot serialise table: table key must be a number or string""##,
        ),
        (r##"cjson.encode()"##, r##"false | "user_script:1: bad argument #1 to 'encode' (expected 1 argument)""##),
        (r##"cjson.encode(1, 2)"##, r##"false | "user_script:1: bad argument #1 to 'encode' (expected 1 argument)""##),
        (r##"cjson.encode({[1]=1,[2]=2,[4]=4})"##, r##"true | "[1,2,null,4]""##),
        (
            r##"cjson.encode({[1]=1,[20]=2})"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (
            r##"cjson.encode({[11]=1})"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (r##"cjson.encode({[10]=1})"##, r##"true | "[null,null,null,null,null,null,null,null,null,1]""##),
        (r##"cjson.encode({[1.5]=1})"##, r##"true | "{"1.5":1}""##),
        (r##"cjson.encode({[0]=1})"##, r##"true | "{"0":1}""##),
        (r##"cjson.encode({[-1]=1})"##, r##"true | "{"-1":1}""##),
        (r##"cjson.encode({[2^31]=1})"##, r##"true | "{"2147483648":1}""##),
        (r##"cjson.encode({[2^40]=1,[1]=2})"##, r##"true | "[2]""##),
        (r##"cjson.encode({1,2,x=3})"##, r##"true | "{"1":1,"2":2,"x":3}""##),
        (r##"cjson.encode({["1"]=1})"##, r##"true | "{"1":1}""##),
        (r##"cjson.encode({a={b={c={}}}})"##, r##"true | "{"a":{"b":{"c":{}}}}""##),
        (r##"cjson.encode({[1]="a",[3]="c"})"##, r##"true | "["a",null,"c"]""##),
        (r##"cjson.encode({1, nil, 3})"##, r##"true | "[1,null,3]""##),
        (r##"cjson.encode({n=1.5})"##, r##"true | "{"n":1.5}""##),
        (r##"cjson.encode({["a/b"]="\0"})"##, r##"true | "{"a\/b":"\u0000"}""##),
        (
            r##"(function() local t = {} t[1] = t return cjson.encode(t) end)()"##,
            r##"false | "user_script:1: Cannot serialise, excessive nesting (1001)""##,
        ),
        (
            r##"(function() local t = {} for i=1,1001 do t = {t} end return cjson.encode(t) end)()"##,
            r##"false | "user_script:1: Cannot serialise, excessive nesting (1001)""##,
        ),
        (r##"(function() local t = {} for i=1,999 do t = {t} end return #cjson.encode(t) end)()"##, r##"true | 2000"##),
        (
            r##"(function() local t = {} for i=1,1000 do t = {t} end return #cjson.encode(t) end)()"##,
            r##"false | "user_script:1: Cannot serialise, excessive nesting (1001)""##,
        ),
        (
            r##"(function() local t = {} for i=1,5 do t = {a=t} end return cjson.encode(t) end)()"##,
            r##"true | "{"a":{"a":{"a":{"a":{"a":{}}}}}}""##,
        ),
        (r##"cjson.encode({a={}}):len()"##, r##"true | 8"##),
        (r##"cjson.encode(string.rep('x', 40))"##, r##"true | ""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"""##),
        (
            r##"cjson.encode({1.5, -1.5, 100, -100, 1e15, 1e16, 123.456})"##,
            r##"true | "[1.5,-1.5,100,-100,1e+15,1e+16,123.456]""##,
        ),
        (r##"cjson.encode({0.1+0.2})"##, r##"true | "[0.3]""##),
        (r##"cjson.encode(2^31)"##, r##"true | "2147483648""##),
        (r##"cjson.encode(-2^31-1)"##, r##"true | "-2147483649""##),
        (r##"cjson.encode({["\1"]=1})"##, r##"true | "{"\u0001":1}""##),
        (r##"cjson.encode(setmetatable({}, {__index=function() return 1 end}))"##, r##"true | "{}""##),
        (
            r##"cjson.encode({[1]=1,[2]=2,[3]=3,[4]=4,[5]=5,[6]=6,[7]=7,[8]=8,[9]=9,[10]=10,[12]=12})"##,
            r##"true | "[1,2,3,4,5,6,7,8,9,10,null,12]""##,
        ),
        (
            r##"cjson.encode({[1]=1,[12]=12,[13]=13,[14]=14,[15]=15,[16]=16,[17]=17})"##,
            r##"false | "user_script:1: Cannot serialise table: excessively sparse array""##,
        ),
        (
            r##"cjson.encode(coroutine.create(tostring))"##,
            r##"false | "user_script:1: bad argument #1 to 'create' (Lua function expected)""##,
        ),
    ]);
}

/// Decoding: values, escapes, numbers, whitespace, nesting limits, error positions.
#[test]
fn decode() {
    check_rendered(&[
        (r##"cjson.decode('{"a":1,"b":[1,2,3],"c":{"d":null}}').b[3]"##, r##"true | 3"##),
        (r##"cjson.decode('[1,2,3]')"##, r##"true | {1=1,2=2,3=3}"##),
        (r##"cjson.decode('{"a":[true,false,null]}')"##, r##"true | {"a"={1=true,2=false,3=userdata: (nil)}}"##),
        (
            r##"cjson.decode('"a\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\"')"##,
            r##"true | "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\x08\x0c\x0a\x0d\x09"\""##,
        ),
        (
            r##"cjson.decode('"\\ud83d"')"##,
            r##"false | "user_script:1: Expected value but found invalid unicode escape code at character 2""##,
        ),
        (
            r##"cjson.decode('"\\ude00"')"##,
            r##"false | "user_script:1: Expected value but found invalid unicode escape code at character 2""##,
        ),
        (
            r##"cjson.decode('"\\ud83d\\u0041"')"##,
            r##"false | "user_script:1: Expected value but found invalid unicode escape code at character 2""##,
        ),
        (
            r##"cjson.decode('"\\u12"')"##,
            r##"false | "user_script:1: Expected value but found invalid unicode escape code at character 2""##,
        ),
        (
            r##"cjson.decode('"\\x"')"##,
            r##"false | "user_script:1: Expected value but found invalid escape code at character 2""##,
        ),
        (
            r##"cjson.decode('"abc')"##,
            r##"false | "user_script:1: Expected value but found unexpected end of string at character 5""##,
        ),
        (r##"cjson.decode('')"##, r##"false | "user_script:1: Expected value but found T_END at character 1""##),
        (r##"cjson.decode(' ')"##, r##"false | "user_script:1: Expected value but found T_END at character 2""##),
        (
            r##"cjson.decode('x')"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode('[1,2')"##,
            r##"false | "user_script:1: Expected comma or array end but found T_END at character 5""##,
        ),
        (
            r##"cjson.decode('[1 2]')"##,
            r##"false | "user_script:1: Expected comma or array end but found T_NUMBER at character 4""##,
        ),
        (
            r##"cjson.decode('{"a" 1}')"##,
            r##"false | "user_script:1: Expected colon but found T_NUMBER at character 6""##,
        ),
        (
            r##"cjson.decode('{1:2}')"##,
            r##"false | "user_script:1: Expected object key string but found T_NUMBER at character 2""##,
        ),
        (
            r##"cjson.decode('{"a":1,}')"##,
            r##"false | "user_script:1: Expected object key string but found T_OBJ_END at character 8""##,
        ),
        (
            r##"cjson.decode('{"a":1 "b"}')"##,
            r##"false | "user_script:1: Expected comma or object end but found T_STRING at character 8""##,
        ),
        (
            r##"cjson.decode('[1,]')"##,
            r##"false | "user_script:1: Expected value but found T_ARR_END at character 4""##,
        ),
        (r##"cjson.decode('[]')"##, r##"true | {}"##),
        (r##"cjson.decode('{}')"##, r##"true | {}"##),
        (
            r##"cjson.decode('1 2')"##,
            r##"false | "user_script:1: Expected the end but found T_NUMBER at character 3""##,
        ),
        (r##"cjson.decode('  123  ')"##, r##"true | 123"##),
        (r##"cjson.decode('-0')"##, r##"true | -0"##),
        (r##"cjson.decode('1e400')"##, r##"true | inf"##),
        (r##"cjson.decode('0x10')"##, r##"true | 16"##),
        (r##"cjson.decode('+1')"##, r##"true | 1"##),
        (r##"cjson.decode('01')"##, r##"true | 1"##),
        (
            r##"cjson.decode('-')"##,
            r##"false | "user_script:1: Expected value but found invalid number at character 1""##,
        ),
        (
            r##"cjson.decode('.5')"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (r##"cjson.decode('1.')"##, r##"true | 1"##),
        (r##"cjson.decode('inf')"##, r##"true | inf"##),
        (r##"cjson.decode('-inf')"##, r##"true | -inf"##),
        (r##"cjson.decode('nan')"##, r##"true | nan"##),
        (r##"cjson.decode('NaN')"##, r##"true | nan"##),
        (r##"cjson.decode('Infinity')"##, r##"true | inf"##),
        (r##"cjson.decode('infinity')"##, r##"true | inf"##),
        (r##"cjson.decode('-Infinity')"##, r##"true | -inf"##),
        (
            r##"cjson.decode('nul')"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (
            r##"cjson.decode('tru')"##,
            r##"false | "user_script:1: Expected value but found invalid token at character 1""##,
        ),
        (r##"cjson.decode('true')"##, r##"true | true"##),
        (r##"cjson.decode('false')"##, r##"true | false"##),
        (r##"cjson.decode('null')"##, r##"true | userdata: (nil)"##),
        (r##"cjson.decode('"\0"')"##, r##"false | "user_script:1: JSON parser does not support UTF-16 or UTF-32""##),
        (r##"cjson.decode('\0a')"##, r##"false | "user_script:1: JSON parser does not support UTF-16 or UTF-32""##),
        (r##"cjson.decode('a\0')"##, r##"false | "user_script:1: JSON parser does not support UTF-16 or UTF-32""##),
        (r##"cjson.decode('12\0x')"##, r##"true | 12"##),
        (r##"cjson.decode('1 \0 x')"##, r##"true | 1"##),
        (r##"cjson.decode(123)"##, r##"true | 123"##),
        (r##"cjson.decode()"##, r##"false | "user_script:1: bad argument #1 to 'decode' (expected 1 argument)""##),
        (
            r##"cjson.decode('1', 2)"##,
            r##"false | "user_script:1: bad argument #1 to 'decode' (expected 1 argument)""##,
        ),
        (
            r##"cjson.decode({})"##,
            r##"false | "user_script:1: bad argument #1 to 'decode' (string expected, got table)""##,
        ),
        (
            r##"cjson.decode(nil)"##,
            r##"false | "user_script:1: bad argument #1 to 'decode' (string expected, got nil)""##,
        ),
        (
            r##"cjson.decode('[' .. string.rep('[', 1000) .. string.rep(']', 1001))"##,
            r##"false | "user_script:1: Found too many nested data structures (1001) at character 1001""##,
        ),
        (r##"cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000))[1][1][1] ~= nil"##, r##"true | true"##),
        (
            r##"cjson.decode(string.rep('{"a":', 1001) .. '1' .. string.rep('}', 1001))"##,
            r##"false | "user_script:1: Found too many nested data structures (1001) at character 5001""##,
        ),
        (r##"cjson.decode('"\1\31\127\255"')"##, r##"true | "\x01\x1f\x7f\xff""##),
        (r##"cjson.decode('[1,"a",{"x":[]}]')"##, r##"true | {1=1,2="a",3={"x"={}}}"##),
        (r##"cjson.decode('{"a":1,"a":2}').a"##, r##"true | 2"##),
        (r##"cjson.decode('\t\r\n[\t1\r,\n2 ] ')"##, r##"true | {1=1,2=2}"##),
        (r##"cjson.decode('1.5e3')"##, r##"true | 1500"##),
        (r##"cjson.decode('123456789012345678901234567890')"##, r##"true | 1.2345678901235e+29"##),
        (r##"cjson.decode('[0.1, -2.5E-3, 1E+2]')"##, r##"true | {1=0.1,2=-0.0025,3=100}"##),
        (r##"cjson.decode('"\\u0000"')"##, r##"true | "\x00""##),
        (
            r##"cjson.decode('"\\u0041\\u00"')"##,
            r##"false | "user_script:1: Expected value but found invalid unicode escape code at character 8""##,
        ),
        (
            r##"cjson.decode('{"a":1}}')"##,
            r##"false | "user_script:1: Expected the end but found T_OBJ_END at character 8""##,
        ),
        (
            r##"cjson.decode('[1]]')"##,
            r##"false | "user_script:1: Expected the end but found T_ARR_END at character 4""##,
        ),
        (r##"cjson.decode(']')"##, r##"false | "user_script:1: Expected value but found T_ARR_END at character 1""##),
        (r##"cjson.decode('}')"##, r##"false | "user_script:1: Expected value but found T_OBJ_END at character 1""##),
        (r##"cjson.decode(':')"##, r##"false | "user_script:1: Expected value but found T_COLON at character 1""##),
        (r##"cjson.decode(',')"##, r##"false | "user_script:1: Expected value but found T_COMMA at character 1""##),
        (
            r##"cjson.decode('{"a":}')"##,
            r##"false | "user_script:1: Expected value but found T_OBJ_END at character 6""##,
        ),
        (r##"cjson.decode('{"a"')"##, r##"false | "user_script:1: Expected colon but found T_END at character 5""##),
        (
            r##"cjson.decode('{"a":1')"##,
            r##"false | "user_script:1: Expected comma or object end but found T_END at character 7""##,
        ),
        (
            r##"cjson.decode('{')"##,
            r##"false | "user_script:1: Expected object key string but found T_END at character 2""##,
        ),
        (r##"cjson.decode('[')"##, r##"false | "user_script:1: Expected value but found T_END at character 2""##),
        (r##"cjson.decode('{"":""}')"##, r##"true | {""=""}"##),
        (r##"cjson.encode(cjson.decode('{"a":[1,2,{"b":null}]}'))"##, r##"true | "{"a":[1,2,{"b":null}]}""##),
        (r##"cjson.encode(cjson.decode('[1e10, 1.5, -3]'))"##, r##"true | "[10000000000,1.5,-3]""##),
    ]);
}

/// Settings functions, their argument checks, and their effect; `cjson.new`.
#[test]
fn settings() {
    check_rendered(&[
        (r##"cjson.encode(cjson.null)"##, r##"true | "null""##),
        (r##"cjson.encode({cjson.null, 1})"##, r##"true | "[null,1]""##),
        (r##"cjson._NAME"##, r##"true | "cjson""##),
        (r##"cjson._VERSION"##, r##"true | "2.1.0""##),
        (r##"cjson.null"##, r##"true | userdata: (nil)"##),
        (r##"type(cjson.null)"##, r##"true | "userdata""##),
        (r##"cjson.encode_max_depth()"##, r##"true | 1000"##),
        (r##"cjson.decode_max_depth()"##, r##"true | 1000"##),
        (r##"cjson.encode_number_precision()"##, r##"true | 14"##),
        (r##"cjson.encode_sparse_array()"##, r##"true | false | 2 | 10"##),
        (r##"cjson.encode_keep_buffer()"##, r##"true | true"##),
        (r##"cjson.encode_invalid_numbers()"##, r##"true | false"##),
        (r##"cjson.decode_invalid_numbers()"##, r##"true | true"##),
        (r##"cjson.encode_number_precision(3)"##, r##"true | 3"##),
        (r##"cjson.encode_number_precision(14)"##, r##"true | 14"##),
        (
            r##"(function() cjson.encode_number_precision(3) local r = cjson.encode(1/3) cjson.encode_number_precision(14) return r end)()"##,
            r##"true | "0.333""##,
        ),
        (
            r##"cjson.encode_number_precision(0)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""##,
        ),
        (
            r##"cjson.encode_number_precision(15)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)""##,
        ),
        (
            r##"cjson.encode_number_precision('x')"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_number_precision' (number expected, got string)""##,
        ),
        (
            r##"cjson.encode_number_precision(1, 2)"##,
            r##"false | "user_script:1: bad argument #2 to 'encode_number_precision' (found too many arguments)""##,
        ),
        (
            r##"cjson.encode_max_depth(0)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)""##,
        ),
        (r##"cjson.encode_max_depth(2^32+5)"##, r##"true | 5"##),
        (
            r##"(function() cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) cjson.encode_max_depth(1000) return e end)()"##,
            r##"true | "Cannot serialise, excessive nesting (3)""##,
        ),
        (
            r##"(function() cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') cjson.decode_max_depth(1000) return e end)()"##,
            r##"true | "Found too many nested data structures (3) at character 3""##,
        ),
        (
            r##"(function() cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '{"a":{"b":{"c":1}}}') cjson.decode_max_depth(1000) return e end)()"##,
            r##"true | "Found too many nested data structures (3) at character 11""##,
        ),
        (r##"cjson.encode_sparse_array(true)"##, r##"true | true | 2 | 10"##),
        (r##"cjson.encode_sparse_array(false, 2, 10)"##, r##"true | false | 2 | 10"##),
        (r##"cjson.encode_sparse_array(true, 3, 4)"##, r##"true | true | 3 | 4"##),
        (r##"cjson.encode_sparse_array(false, 2, 10)"##, r##"true | false | 2 | 10"##),
        (
            r##"(function() cjson.encode_sparse_array(true) local r = cjson.encode({[1]=1,[20]=2}) cjson.encode_sparse_array(false) return r end)()"##,
            r##"true | "{"1":1,"20":2}""##,
        ),
        (
            r##"(function() cjson.encode_sparse_array(false, 0) local r = cjson.encode({[1]=1,[20]=2}) cjson.encode_sparse_array(false, 2, 10) return r end)()"##,
            r##"true | "[1,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,2]""##,
        ),
        (
            r##"(function() cjson.encode_sparse_array(false, 1, 0) local ok, r = pcall(cjson.encode, {[1]=1,[3]=2}) cjson.encode_sparse_array(false, 2, 10) return r end)()"##,
            r##"true | "Cannot serialise table: excessively sparse array""##,
        ),
        (r##"cjson.encode_sparse_array('on')"##, r##"true | true | 2 | 10"##),
        (r##"cjson.encode_sparse_array(false, 2, 10)"##, r##"true | false | 2 | 10"##),
        (
            r##"cjson.encode_sparse_array('maybe')"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'maybe')""##,
        ),
        (
            r##"cjson.encode_sparse_array(1)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')""##,
        ),
        (
            r##"cjson.encode_sparse_array(nil, -1)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)""##,
        ),
        (r##"cjson.encode_sparse_array(false, 2, 10)"##, r##"true | false | 2 | 10"##),
        (
            r##"cjson.encode_sparse_array(nil, 1, -1)"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)""##,
        ),
        (r##"cjson.encode_sparse_array(false, 2, 10)"##, r##"true | false | 2 | 10"##),
        (
            r##"cjson.encode_sparse_array(nil, nil, nil, nil)"##,
            r##"false | "user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)""##,
        ),
        (r##"cjson.encode_invalid_numbers('null')"##, r##"true | "null""##),
        (r##"cjson.encode_invalid_numbers(false)"##, r##"true | false"##),
        (
            r##"(function() cjson.encode_invalid_numbers('null') local r = cjson.encode({1/0, 0/0, -1/0, [1.5]=1/0}) cjson.encode_invalid_numbers(false) return r end)()"##,
            r##"true | "{"1":null,"2":null,"3":null,"1.5":null}""##,
        ),
        (
            r##"(function() cjson.encode_invalid_numbers(true) local r = cjson.encode({1/0, -1/0, 0/0}) cjson.encode_invalid_numbers(false) return r end)()"##,
            r##"true | "[inf,-inf,nan]""##,
        ),
        (
            r##"(function() cjson.encode_invalid_numbers('on') local r = cjson.encode({[0/0]=1}) cjson.encode_invalid_numbers('off') return r end)()"##,
            r##"false | "user_script:1: table index is NaN""##,
        ),
        (
            r##"cjson.encode_invalid_numbers('yes')"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'yes')""##,
        ),
        (
            r##"cjson.encode_invalid_numbers({})"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_invalid_numbers' (string expected, got table)""##,
        ),
        (
            r##"(function() cjson.decode_invalid_numbers(false) local ok, r = pcall(cjson.decode, '[1, 0x10]') cjson.decode_invalid_numbers(true) return r end)()"##,
            r##"true | "Expected value but found invalid number at character 5""##,
        ),
        (
            r##"(function() cjson.decode_invalid_numbers(false) local ok, r = pcall(cjson.decode, 'nan') cjson.decode_invalid_numbers(true) return r end)()"##,
            r##"true | "Expected value but found invalid token at character 1""##,
        ),
        (
            r##"(function() cjson.decode_invalid_numbers(false) local ok, r = pcall(cjson.decode, '-inf') cjson.decode_invalid_numbers(true) return r end)()"##,
            r##"true | "Expected value but found invalid number at character 1""##,
        ),
        (
            r##"(function() cjson.decode_invalid_numbers(false) local ok, r = pcall(cjson.decode, '+1') cjson.decode_invalid_numbers(true) return r end)()"##,
            r##"true | "Expected value but found invalid token at character 1""##,
        ),
        (
            r##"(function() cjson.decode_invalid_numbers(false) return cjson.decode('[1.5, -2, 0, 0.5]') end)()"##,
            r##"true | {1=1.5,2=-2,3=0,4=0.5}"##,
        ),
        (r##"cjson.decode_invalid_numbers(true)"##, r##"true | true"##),
        (r##"cjson.encode_keep_buffer(false)"##, r##"true | false"##),
        (r##"cjson.encode_keep_buffer(true)"##, r##"true | true"##),
        (
            r##"cjson.encode_keep_buffer('x')"##,
            r##"false | "user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'x')""##,
        ),
        (
            r##"(function() local c = cjson.new() c.encode_number_precision(2) return {c.encode(1/3), cjson.encode(1/3)} end)()"##,
            r##"true | {1="0.33",2="0.33333333333333"}"##,
        ),
        (
            r##"(function() local c = cjson.new() return {c._NAME, c._VERSION, c.null == cjson.null, type(c.new)} end)()"##,
            r##"true | {1="cjson",2="2.1.0",3=true,4="function"}"##,
        ),
    ]);
}
