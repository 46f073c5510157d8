//! The append-only files' manifest, `dir/appenddirname/<appendfilename>.manifest`:
//! which snapshot parts are the base and which per-shard files follow it.
//!
//! ```text
//! tessera-aof 1
//! shards 3
//! generation 7
//! base appendonly.aof.<id>.0-of-3.tsnap     (one per shard, or none)
//! incr appendonly.aof.7.0-of-3.incr.aof     (one per shard)
//! ```
//! It is replaced atomically (write, fsync, rename, fsync the directory).

use std::path::Path;

const HEADER: &str = "tessera-aof 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub shards: usize,
    pub generation: u64,
    pub base: Vec<String>,
    pub incr: Vec<String>,
}

impl Manifest {
    pub fn name(appendfilename: &str) -> String {
        format!("{appendfilename}.manifest")
    }

    pub fn incr_name(appendfilename: &str, generation: u64, shard: usize, shards: usize) -> String {
        format!("{appendfilename}.{generation}.{shard}-of-{shards}.incr.aof")
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(format!("the first line is not '{HEADER}'"));
        }
        let mut field = |name: &str| -> Result<u64, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|v| v.strip_prefix(' '))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("expected '{name} N'"))
        };
        let shards = field("shards")? as usize;
        let generation = field("generation")?;
        if shards == 0 || shards > 1024 {
            return Err(format!("bad shard count {shards}"));
        }
        let (mut base, mut incr) = (Vec::new(), Vec::new());
        for l in lines {
            let (kind, name) = l.split_once(' ').ok_or_else(|| format!("unexpected line '{l}'"))?;
            if name.is_empty() || name.contains('/') {
                return Err(format!("bad file name '{name}'"));
            }
            match kind {
                "base" => base.push(name.to_string()),
                "incr" => incr.push(name.to_string()),
                _ => return Err(format!("unexpected line '{l}'")),
            }
        }
        if incr.len() != shards || !(base.is_empty() || base.len() == shards) {
            return Err(format!("{} base and {} incr files for {shards} shards", base.len(), incr.len()));
        }
        Ok(Manifest { shards, generation, base, incr })
    }

    pub fn text(&self) -> String {
        let mut t = format!("{HEADER}\nshards {}\ngeneration {}\n", self.shards, self.generation);
        for b in &self.base {
            t.push_str(&format!("base {b}\n"));
        }
        for i in &self.incr {
            t.push_str(&format!("incr {i}\n"));
        }
        t
    }

    /// Reads `dir/<appendfilename>.manifest`; `Ok(None)` when there is none.
    pub fn read(dir: &Path, appendfilename: &str) -> Result<Option<Manifest>, String> {
        let path = dir.join(Self::name(appendfilename));
        match std::fs::read_to_string(&path) {
            Ok(t) => Manifest::parse(&t).map(Some).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Replaces the manifest atomically, then removes the files of `dir`
    /// that belong to `appendfilename` and that it no longer names.
    pub fn commit(&self, dir: &Path, appendfilename: &str) -> std::io::Result<()> {
        let named: Vec<&String> = self.base.iter().chain(&self.incr).collect();
        let name = Self::name(appendfilename);
        super::commit_index(dir, &name, &self.text(), appendfilename, &[".incr.aof", ".tsnap"], &named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let m = Manifest {
            shards: 2,
            generation: 3,
            base: vec!["a.1.0-of-2.tsnap".into(), "a.1.1-of-2.tsnap".into()],
            incr: vec![Manifest::incr_name("a", 3, 0, 2), Manifest::incr_name("a", 3, 1, 2)],
        };
        assert_eq!(Manifest::parse(&m.text()), Ok(m.clone()));
        let no_base = Manifest { base: vec![], ..m.clone() };
        assert_eq!(Manifest::parse(&no_base.text()), Ok(no_base));
        assert!(Manifest::parse("tessera-aof 2\n").is_err());
        assert!(Manifest::parse("tessera-aof 1\nshards 2\ngeneration 1\nincr x\n").is_err());
        assert!(Manifest::parse("tessera-aof 1\nshards 1\ngeneration 1\nincr ../x\n").is_err());
        assert!(Manifest::parse("tessera-aof 1\nshards 0\ngeneration 1\n").is_err());
    }
}
