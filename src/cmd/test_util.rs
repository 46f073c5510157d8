//! Helpers shared by the command families' unit tests.

use bytes::Bytes;

/// Arguments from string literals.
pub fn b(v: &[&str]) -> Vec<Bytes> {
    v.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
}

/// A handler over a shard's database, as the data families write them.
pub type KsFn = fn(&mut crate::cmd::Ks<'_>, &[Bytes], &mut crate::resp::Out) -> crate::cmd::CmdResult;

/// A bare database with a fixed clock, to run `Ks` handlers on in unit tests.
pub struct TestDb {
    pub db: crate::db::Db,
    pub stats: crate::db::DbStats,
    pub now: u64,
    pub limits: crate::types::Limits,
    pub rng: u64,
    pub proto: crate::resp::Proto,
    pub signals: crate::shard::signal::Signals,
    /// `notify-keyspace-events` classes the commands record events for.
    pub notify: u32,
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb {
            db: crate::db::Db::new(),
            stats: Default::default(),
            now: 1_700_000_000_000,
            limits: Default::default(),
            rng: 0x1234_5678_9abc_def1,
            proto: crate::resp::Proto::Resp2,
            signals: Default::default(),
            notify: 0,
        }
    }
}

impl TestDb {
    /// Runs one command and returns its reply bytes as text (errors included).
    pub fn run(&mut self, f: KsFn, args: &[&str]) -> String {
        let args = b(args);
        let proto = self.proto;
        let mut ks = self.ks();
        let mut out = crate::resp::Out::new(proto);
        if let Err(e) = f(&mut ks, &args, &mut out) {
            out.error(&e.0);
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// A `Ks` over this database, as a shard builds one for a command.
    pub fn ks(&mut self) -> crate::cmd::Ks<'_> {
        crate::cmd::Ks {
            db: &mut self.db,
            stats: &mut self.stats,
            clock: crate::db::Clock::at(self.now),
            max_len: 512 << 20,
            limits: self.limits,
            rng: &mut self.rng,
            db_index: 0,
            signals: &mut self.signals,
            notify: self.notify,
        }
    }

    /// A database whose commands record every keyspace event class.
    pub fn notifying() -> TestDb {
        use crate::shard::signal::class;
        TestDb { notify: class::ALL | class::NEW | class::KEY_MISS | class::KEYEVENT, ..TestDb::default() }
    }

    /// The keyspace events recorded since the last call, as `"event key"`.
    pub fn events(&mut self) -> Vec<String> {
        self.signals.events.drain(..).map(|e| format!("{} {}", e.event, String::from_utf8_lossy(&e.key))).collect()
    }

    /// Runs each `(handler, command)` and checks the events it records, in
    /// order, against `want` (what redis-server 7.0 publishes for it).
    pub fn expect_events(&mut self, steps: &[(KsFn, &str, &[&str])]) {
        for (f, cmd, want) in steps {
            let args: Vec<&str> = cmd.split(' ').collect();
            self.run(*f, &args);
            assert_eq!(self.events(), *want, "events of {cmd}");
        }
    }

    /// OBJECT ENCODING's answer for `key`, if it exists.
    pub fn encoding(&self, key: &str) -> Option<&'static str> {
        let e = self.db.table().get(key.as_bytes())?;
        Some(e.obj().map_or(e.encoding().name(), |v| v.encoding()))
    }
}
