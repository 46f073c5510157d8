//! cargo-fuzz target: arbitrary bytes, fed in pieces, never panic the RESP parser.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tessera_fuzz::resp_parser(data);
});
