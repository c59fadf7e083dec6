//! Feature hashing that reproduces scikit-learn bit for bit.
//!
//! Hashed n-grams are the one part of the feature vector that Python must be able to compute
//! on its own (for example with `HashingVectorizer` while experimenting), so the hash and the
//! index/sign rule follow scikit-learn exactly:
//!
//! - the hash is MurmurHash3 x86 32-bit over the UTF-8 bytes of the token, read as a signed
//!   32-bit integer: `sklearn.utils.murmurhash3_32(token, seed, positive=False)`;
//! - the column is `abs(h) % n_features`, where `abs(i32::MIN)` is taken as `2^31` (the value
//!   scikit-learn's `_hashing_fast.transform` computes for that case);
//! - with `alternate_sign`, the value is added with sign `+1` when `h >= 0` and `-1` otherwise.
//!
//! scikit-learn's `HashingVectorizer` and `FeatureHasher` always hash with seed 0; other seeds
//! are reproduced in Python with `murmurhash3_32` directly.
//!
//! Nothing here allocates. [`Murmur3`] hashes a token given in pieces (an n-gram written as
//! its words and the separating spaces) without first joining it into a buffer.
//!
//! ```
//! use chatguard::features::hashing::{murmurhash3_32, FeatureHasher};
//!
//! assert_eq!(murmurhash3_32(b"foo", 0), -156_908_512);
//! let hasher = FeatureHasher::new(0, 4, true);
//! let slot = hasher.slot("foo");
//! assert_eq!((slot.index, slot.sign), (0, -1.0));
//! ```

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

#[inline]
fn mix_k1(k1: u32) -> u32 {
    k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[inline]
fn mix_h1(h1: u32, k1: u32) -> u32 {
    (h1 ^ mix_k1(k1))
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

#[inline]
fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// MurmurHash3 x86 32-bit of `key` with `seed`, as a signed integer.
///
/// This is `sklearn.utils.murmurhash3_32(key, seed, positive=False)` when `key` is the UTF-8
/// encoding of the Python string.
#[must_use]
#[inline]
pub fn murmurhash3_32(key: &[u8], seed: u32) -> i32 {
    let mut h1 = seed;
    let mut blocks = key.chunks_exact(4);
    for block in &mut blocks {
        h1 = mix_h1(
            h1,
            u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
        );
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k1 = u32::from(tail[0]);
        if let Some(&b) = tail.get(1) {
            k1 |= u32::from(b) << 8;
        }
        if let Some(&b) = tail.get(2) {
            k1 |= u32::from(b) << 16;
        }
        h1 ^= mix_k1(k1);
    }
    // Truncation is intended, as in `Murmur3::write`.
    #[allow(clippy::cast_possible_truncation)]
    let len = key.len() as u32;
    // Reinterpreting the bits as signed is what scikit-learn returns.
    #[allow(clippy::cast_possible_wrap)]
    let signed = fmix32(h1 ^ len) as i32;
    signed
}

/// [`murmurhash3_32`] of a key of `len` bytes, `1 <= len <= 8`, given as the little-endian
/// `u64` of eight bytes that start with it (bytes past `len` are ignored): no branch on the
/// length, which for words of varying length would be mispredicted about once a word.
#[inline]
#[must_use]
pub fn murmurhash3_32_short(chunk: u64, len: usize, seed: u32) -> i32 {
    debug_assert!((1..=8).contains(&len));
    // (`& 63` keeps the shift in range for any `len`; for `1..=8` it changes nothing.)
    let x = chunk & (u64::MAX >> (64usize.wrapping_sub(8 * len) & 63));
    #[allow(clippy::cast_possible_truncation)]
    let (lo, hi) = (x as u32, (x >> 32) as u32);
    // The hash after zero, one and two whole blocks: the length picks one, and the block
    // after it is the tail (zero for eight bytes, and `mix_k1(0) == 0`).
    let blocks = len / 4;
    let one = mix_h1(seed, lo);
    let two = mix_h1(one, hi);
    let h1 = if blocks == 0 { seed } else { one };
    let h1 = if blocks >= 2 { two } else { h1 };
    // The bytes after the whole blocks: shifted out 32 bits a block, in two halves so that
    // two blocks shift out all 64.
    #[allow(clippy::cast_possible_truncation)]
    let tail = ((x >> (16 * blocks)) >> (16 * blocks)) as u32;
    #[allow(clippy::cast_possible_truncation)]
    let h1 = (h1 ^ mix_k1(tail)) ^ len as u32;
    #[allow(clippy::cast_possible_wrap)]
    let signed = fmix32(h1) as i32;
    signed
}

/// An incremental MurmurHash3 x86 32-bit hasher.
///
/// Writing a token in several pieces gives the same hash as writing it at once, so an n-gram
/// can be hashed from its parts (`"free"`, `" "`, `"money"`) with no buffer.
///
/// ```
/// use chatguard::features::hashing::{murmurhash3_32, Murmur3};
///
/// let mut h = Murmur3::new(0);
/// h.write(b"free");
/// h.write(b" ");
/// h.write(b"money");
/// assert_eq!(h.finish(), murmurhash3_32(b"free money", 0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Murmur3 {
    h1: u32,
    /// Bytes of an incomplete 4-byte block, little-endian, waiting for more input.
    tail: u32,
    tail_len: u32,
    /// Total length; MurmurHash3 mixes it in modulo 2^32, exactly like the C reference.
    len: u32,
}

impl Murmur3 {
    /// Starts a hash with `seed`.
    #[must_use]
    pub const fn new(seed: u32) -> Murmur3 {
        Murmur3 {
            h1: seed,
            tail: 0,
            tail_len: 0,
            len: 0,
        }
    }

    /// Feeds `bytes` into the hash.
    pub fn write(&mut self, bytes: &[u8]) {
        // Truncation is intended: the reference implementation takes the length as an int and
        // only its low 32 bits reach the final mix.
        #[allow(clippy::cast_possible_truncation)]
        let added = bytes.len() as u32;
        self.len = self.len.wrapping_add(added);
        let mut rest = bytes;
        // Complete a pending partial block first.
        while self.tail_len > 0 && !rest.is_empty() {
            self.tail |= u32::from(rest[0]) << (8 * self.tail_len);
            self.tail_len += 1;
            rest = &rest[1..];
            if self.tail_len == 4 {
                self.h1 = mix_h1(self.h1, self.tail);
                self.tail = 0;
                self.tail_len = 0;
            }
        }
        let mut blocks = rest.chunks_exact(4);
        for block in &mut blocks {
            let k1 = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
            self.h1 = mix_h1(self.h1, k1);
        }
        for (i, &b) in blocks.remainder().iter().enumerate() {
            self.tail |= u32::from(b) << (8 * i);
        }
        // `remainder` is shorter than 4, so this never exceeds 3.
        #[allow(clippy::cast_possible_truncation)]
        let remainder_len = blocks.remainder().len() as u32;
        self.tail_len += remainder_len;
    }

    /// Returns the hash of everything written, as a signed integer (scikit-learn's
    /// `positive=False`).
    #[must_use]
    pub fn finish(&self) -> i32 {
        let mut h1 = self.h1;
        if self.tail_len > 0 {
            h1 ^= mix_k1(self.tail);
        }
        h1 ^= self.len;
        // Reinterpreting the bits as signed is what scikit-learn returns.
        #[allow(clippy::cast_possible_wrap)]
        let signed = fmix32(h1) as i32;
        signed
    }
}

/// Where a hashed token lands: its column in the hashed block and the sign of its value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slot {
    /// Column in the hashed block, `0..n_features`.
    pub index: u32,
    /// `1.0`, or `-1.0` when alternate signs are on and the hash is negative.
    pub sign: f32,
}

/// scikit-learn's `HashingVectorizer` / `FeatureHasher` rule from a token to a column and sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureHasher {
    seed: u32,
    n_features: u32,
    alternate_sign: bool,
}

impl FeatureHasher {
    /// A hasher into `2^bits` columns.
    ///
    /// `bits` is capped at 31 (scikit-learn's limit: `n_features` must fit an `int32`).
    #[must_use]
    pub const fn new(seed: u32, bits: u8, alternate_sign: bool) -> FeatureHasher {
        let bits = if bits > 31 { 31 } else { bits };
        FeatureHasher {
            seed,
            n_features: 1 << bits,
            alternate_sign,
        }
    }

    /// The seed tokens are hashed with.
    #[must_use]
    pub const fn seed(&self) -> u32 {
        self.seed
    }

    /// The number of columns in the hashed block.
    #[must_use]
    pub const fn n_features(&self) -> u32 {
        self.n_features
    }

    /// The column and sign of `token`.
    #[must_use]
    pub fn slot(&self, token: &str) -> Slot {
        self.slot_of_hash(murmurhash3_32(token.as_bytes(), self.seed))
    }

    /// Starts an incremental hash with this hasher's seed; finish it with
    /// [`FeatureHasher::slot_of_hash`].
    #[must_use]
    pub const fn start(&self) -> Murmur3 {
        Murmur3::new(self.seed)
    }

    /// The column and sign for a hash value `h` computed with this hasher's seed.
    #[must_use]
    pub const fn slot_of_hash(&self, h: i32) -> Slot {
        // `unsigned_abs` maps i32::MIN to 2^31, which is what scikit-learn computes for it.
        Slot {
            // `n_features` is a power of two: the mask is `% n_features` without a division.
            index: h.unsigned_abs() & (self.n_features - 1),
            // `-1.0` for a negative hash when signs alternate, computed rather than
            // branched on: the branch would be a coin flip per token.
            #[allow(clippy::cast_sign_loss, clippy::cast_precision_loss)]
            sign: 1.0 - 2.0 * (((h as u32) >> 31) & (self.alternate_sign as u32)) as f32,
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Values from the MurmurHash3 reference and scikit-learn's own tests.
        assert_eq!(murmurhash3_32(b"", 0), 0);
        assert_eq!(murmurhash3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmurhash3_32(b"foo", 0), -156_908_512);
        assert_eq!(murmurhash3_32(b"foo", 42), -1_322_301_282);
    }

    #[test]
    fn minimum_hash_lands_where_sklearn_puts_it() {
        let hasher = FeatureHasher::new(0, 20, true);
        let slot = hasher.slot_of_hash(i32::MIN);
        assert_eq!(slot.index, (1u32 << 31) % (1 << 20));
        assert_eq!(slot.sign, -1.0);
        let no_sign = FeatureHasher::new(0, 3, false).slot_of_hash(-5);
        assert_eq!((no_sign.index, no_sign.sign), (5, 1.0));
    }

    proptest::proptest! {
        #[test]
        fn short_keys_hash_like_any_key(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 1..=8),
            pad in proptest::num::u64::ANY,
            seed in proptest::num::u32::ANY,
        ) {
            let mut chunk = pad.to_le_bytes();
            chunk[..bytes.len()].copy_from_slice(&bytes);
            proptest::prop_assert_eq!(
                murmurhash3_32_short(u64::from_le_bytes(chunk), bytes.len(), seed),
                murmurhash3_32(&bytes, seed)
            );
        }

        #[test]
        fn pieces_hash_like_the_whole(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..5),
            seed: u32,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut h = Murmur3::new(seed);
            let mut start = 0;
            for cut in cuts {
                h.write(&bytes[start..cut]);
                start = cut;
            }
            h.write(&bytes[start..]);
            proptest::prop_assert_eq!(h.finish(), murmurhash3_32(&bytes, seed));
        }
    }
}
