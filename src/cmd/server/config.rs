//! CONFIG GET/SET/RESETSTAT/REWRITE/HELP over the directive table in
//! `crate::config`. Every shard holds its own copy of the configuration;
//! CONFIG SET validates on this shard's copy, then applies the same changes to
//! every shard, so a failing CONFIG SET changes nothing anywhere.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::super::keys::glob::string_match;
use super::super::{CmdError, CmdResult, Ctx, Session};
use crate::config::{directive, Config, Directive, DIRECTIVES};
use crate::resp::Out;

/// Directives Redis 7.0 marks PROTECTED_CONFIG (`enable-protected-configs no`).
const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// CONFIG GET parameter [parameter ...] — O(N) in the number of directives.
pub fn cmd_config_get(ctx: &mut Ctx<'_>, args: &[Bytes], out: &mut Out) -> CmdResult {
    let found = config_get(&ctx.state.config, &args[2..]);
    out.map(found.len());
    for (name, value) in found {
        out.bulk(&name);
        out.bulk(value.as_bytes());
    }
    Ok(())
}

/// The (name, value) pairs CONFIG GET answers. A pattern without glob
/// characters is an exact, case-insensitive lookup answered under the name as
/// typed; a glob matches canonical names. Each directive appears once.
pub fn config_get(config: &Config, patterns: &[Bytes]) -> Vec<(Vec<u8>, String)> {
    let mut seen: Vec<&'static str> = Vec::new();
    let mut found = Vec::new();
    for p in patterns {
        if !p.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            let Some(d) = std::str::from_utf8(p).ok().and_then(directive) else { continue };
            if !seen.contains(&d.name) {
                seen.push(d.name);
                found.push((p.to_vec(), d.get(config)));
            }
            continue;
        }
        let names = DIRECTIVES
            .iter()
            .map(|d| (d.name, d))
            .chain(crate::config::ALIASES.iter().filter_map(|(old, new)| Some((*old, directive(new)?))));
        for (name, d) in names {
            if !seen.contains(&name) && string_match(p, name.as_bytes(), true) {
                seen.push(name);
                found.push((name.as_bytes().to_vec(), d.get(config)));
            }
        }
    }
    found
}

/// CONFIG SET parameter value [parameter value ...] — O(N) in the pairs.
/// All pairs apply, on every shard, or none does.
pub async fn cmd_config_set(s: &mut Session, args: &[Bytes], out: &mut Out) -> CmdResult {
    let (changes, was_on) = {
        let st = s.core.state.borrow();
        (plan_set(&st.config, &args[2..])?, st.config.appendonly)
    };
    let aof_switch = changes.iter().find(|(n, _)| *n == "appendonly").map(|(_, v)| v.eq_ignore_ascii_case("yes"));
    s.core
        .call_all(move |core| {
            let mut st = core.state.borrow_mut();
            for (name, value) in &changes {
                if let Some(d) = directive(name) {
                    // Validated on the coordinating shard's identical copy.
                    let _ = d.set(&mut st.config, std::slice::from_ref(value));
                }
            }
            crate::shard::evict::configured(core, &mut st);
            crate::shard::signal::hand_on(core, &mut st);
        })
        .await;
    match aof_switch {
        Some(true) if !was_on => {
            // Started after the save or rewrite running now, if any.
            let _ = crate::persist::rewrite::start(&s.core);
        }
        Some(false) if was_on => crate::persist::log::stop(&s.core).await,
        _ => {}
    }
    out.ok();
    Ok(())
}

/// Checks CONFIG SET's arguments as Redis does (unknown names, immutable or
/// protected directives, duplicates, then each value in order on a copy) and
/// returns the changes to apply.
pub fn plan_set(config: &Config, pairs: &[Bytes]) -> Result<Vec<(&'static str, String)>, CmdError> {
    if !pairs.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    let mut chosen: Vec<(&'static Directive, String)> = Vec::new();
    for pair in pairs.chunks(2) {
        let typed = String::from_utf8_lossy(&pair[0]);
        let Some(d) = directive(&typed) else {
            return Err(CmdError::err(format_args!(
                "Unknown option or number of arguments for CONFIG SET - '{typed}'"
            )));
        };
        let why = if !d.mutable {
            Some("can't set immutable config")
        } else if PROTECTED.contains(&d.name) {
            Some("can't set protected config")
        } else if chosen.iter().any(|(c, _)| c.name == d.name) {
            Some("duplicate parameter")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(set_failed(&typed, why));
        }
        chosen.push((d, String::from_utf8_lossy(&pair[1]).into_owned()));
    }
    let mut trial = config.clone();
    for (d, value) in &chosen {
        d.set(&mut trial, std::slice::from_ref(value)).map_err(|e| set_failed(d.name, &e))?;
    }
    Ok(chosen.into_iter().map(|(d, v)| (d.name, v)).collect())
}

fn set_failed(name: &str, why: &str) -> CmdError {
    CmdError::err(format_args!("CONFIG SET failed (possibly related to argument '{name}') - {why}"))
}

/// CONFIG RESETSTAT — O(1). Clears the INFO counters on every shard.
pub async fn cmd_config_resetstat(s: &mut Session, _args: &[Bytes], out: &mut Out) -> CmdResult {
    s.core
        .call_all(|core| {
            let mut st = core.state.borrow_mut();
            st.cmd_stats.iter_mut().for_each(|c| *c = Default::default());
            st.error_stats.clear();
            st.rejected_calls = 0;
            (st.net_in, st.net_out, st.reads, st.writes) = (0, 0, 0, 0);
            st.stats = Default::default();
        })
        .await;
    let shared = &s.core.shared;
    shared.stats.connections_received.store(0, Ordering::Relaxed);
    shared.stats.rejected_connections.store(0, Ordering::Relaxed);
    shared.peak_memory.store(crate::alloc::used_memory() as u64, Ordering::Relaxed);
    out.ok();
    Ok(())
}

/// CONFIG REWRITE — O(1). Writes the running configuration to its file.
pub fn cmd_config_rewrite(ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    ctx.state.config.rewrite().map_err(CmdError::err)?;
    out.ok();
    Ok(())
}

/// CONFIG HELP — O(1).
pub fn cmd_config_help(_ctx: &mut Ctx<'_>, _args: &[Bytes], out: &mut Out) -> CmdResult {
    super::reply_help(
        out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::test_util::b;

    fn err(r: Result<Vec<(&'static str, String)>, CmdError>) -> String {
        r.err().map(|e| e.0.into_owned()).unwrap_or_default()
    }

    #[test]
    fn get_patterns() {
        let c = Config::default();
        let got = config_get(&c, &b(&["save", "APPENDONLY", "appendonly", "nosuch"]));
        assert_eq!(
            got,
            vec![(b"save".to_vec(), "3600 1 300 100 60 10000".to_string()), (b"APPENDONLY".to_vec(), "no".to_string())]
        );
        let got = config_get(&c, &b(&["tcp-*", "*keep*"]));
        let names: Vec<&[u8]> = got.iter().map(|(n, _)| &n[..]).collect();
        assert_eq!(names, vec![&b"tcp-keepalive"[..], b"tcp-backlog"]);
        assert!(config_get(&c, &b(&["nosuch*"])).is_empty());
    }

    #[test]
    fn set_errors_like_redis() {
        let c = Config::default();
        assert_eq!(
            err(plan_set(&c, &b(&["foo", "1"]))),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(err(plan_set(&c, &b(&["timeout", "1", "port"]))), "ERR syntax error");
        assert_eq!(
            err(plan_set(&c, &b(&["PORT", "1"]))),
            "ERR CONFIG SET failed (possibly related to argument 'PORT') - can't set immutable config"
        );
        assert_eq!(
            err(plan_set(&c, &b(&["dir", "/"]))),
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
        );
        assert_eq!(
            err(plan_set(&c, &b(&["maxclients", "10", "MAXCLIENTS", "20"]))),
            "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter"
        );
        assert_eq!(
            err(plan_set(&c, &b(&["timeout", "5", "APPENDONLY", "maybe"]))),
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"
        );
        // The first error in argument order wins.
        assert_eq!(
            err(plan_set(&c, &b(&["foo", "1", "port", "1"]))),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
    }

    #[test]
    fn set_plans_all_pairs() {
        let c = Config::default();
        let plan = plan_set(&c, &b(&["timeout", "5", "save", ""])).unwrap();
        assert_eq!(plan, vec![("timeout", "5".to_string()), ("save", String::new())]);
    }
}
