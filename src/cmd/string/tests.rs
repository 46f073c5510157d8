//! Unit tests of the string commands, run on a bare `Db` with a fixed clock.
