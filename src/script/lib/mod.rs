//! The libraries Redis preloads into its Lua state: cjson, cmsgpack, struct and bit.
