//! The Lua libraries Redis preloads for scripts (cjson, cmsgpack, struct,
//! bit), compared with Redis 7.0 byte for byte through EVAL.

#[test]
fn corpus_scripting_libs() {
    crate::differential::run_corpus("corpus/scripting_libs.txt", include_str!("corpus/scripting_libs.txt"), false);
}

#[test]
fn corpus_scripting_libs_resp3() {
    crate::differential::run_corpus("corpus/scripting_libs.txt", include_str!("corpus/scripting_libs.txt"), true);
}
