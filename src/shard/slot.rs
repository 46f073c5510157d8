//! Key -> Redis Cluster hash slot -> shard, by contiguous slot ranges.

/// Hash slots in the Redis Cluster keyspace.
pub const SLOTS: usize = 16384;

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// Index of a shard (one pinned core).
pub type ShardId = usize;

/// The part of `key` that is hashed: the first non-empty `{...}` tag, or the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = memchr::memchr(b'{', key) {
        if let Some(len) = memchr::memchr(b'}', &key[open + 1..]) {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// Redis Cluster's slot of a key: CRC16-XMODEM of its hash tag, modulo 16384.
pub fn key_slot(key: &[u8]) -> u16 {
    CRC16.checksum(hash_tag(key)) & (SLOTS as u16 - 1)
}

/// The shard owning `slot` when slots are split into `nshards` contiguous ranges.
#[inline]
pub fn slot_shard(slot: u16, nshards: usize) -> ShardId {
    slot as usize * nshards / SLOTS
}

#[inline]
pub fn key_shard(key: &[u8], nshards: usize) -> ShardId {
    if nshards == 1 {
        0
    } else {
        slot_shard(key_slot(key), nshards)
    }
}

/// Splits `items` by the shard owning each one's key, keeping request order
/// inside each group (so a repeated key keeps its last-wins order).
pub fn group_by_shard<T>(
    nshards: usize,
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> &[u8],
) -> Vec<(ShardId, Vec<T>)> {
    let mut groups: Vec<(ShardId, Vec<T>)> = Vec::new();
    for item in items {
        let shard = key_shard(key(&item), nshards);
        match groups.iter_mut().find(|(sh, _)| *sh == shard) {
            Some((_, v)) => v.push(item),
            None => groups.push((shard, vec![item])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // Values from Redis's CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
    }

    #[test]
    fn ranges_are_contiguous_and_cover_all_shards() {
        for n in 1..8 {
            let mut last = 0;
            for s in 0..SLOTS as u16 {
                let sh = slot_shard(s, n);
                assert!(sh == last || sh == last + 1);
                last = sh;
            }
            assert_eq!(last, n - 1);
        }
    }
}
