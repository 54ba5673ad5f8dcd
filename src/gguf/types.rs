//! The ggml tensor type table: block size and bytes per block for every type id.
//!
//! Source: ggml's `type_traits` (`ggml/src/ggml.c`), printed from the llama.cpp build that
//! `llama-cpp-sys-2 0.1.161` vendors (`GGML_TYPE_COUNT = 43`); see
//! `docs/llama-memory.md` ("ggml type sizes"). Ids 4, 5, 31-33 and 36-38 are removed types.

/// One ggml tensor element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    pub id: u32,
    pub name: &'static str,
    /// Elements per block.
    pub block: u64,
    /// Bytes per block.
    pub size: u64,
}

const fn t(id: u32, name: &'static str, block: u64, size: u64) -> GgmlType {
    GgmlType {
        id,
        name,
        block,
        size,
    }
}

/// Every ggml type this build of llama.cpp knows, by id.
pub const GGML_TYPES: &[GgmlType] = &[
    t(0, "f32", 1, 4),
    t(1, "f16", 1, 2),
    t(2, "q4_0", 32, 18),
    t(3, "q4_1", 32, 20),
    t(6, "q5_0", 32, 22),
    t(7, "q5_1", 32, 24),
    t(8, "q8_0", 32, 34),
    t(9, "q8_1", 32, 36),
    t(10, "q2_K", 256, 84),
    t(11, "q3_K", 256, 110),
    t(12, "q4_K", 256, 144),
    t(13, "q5_K", 256, 176),
    t(14, "q6_K", 256, 210),
    t(15, "q8_K", 256, 292),
    t(16, "iq2_xxs", 256, 66),
    t(17, "iq2_xs", 256, 74),
    t(18, "iq3_xxs", 256, 98),
    t(19, "iq1_s", 256, 50),
    t(20, "iq4_nl", 32, 18),
    t(21, "iq3_s", 256, 110),
    t(22, "iq2_s", 256, 82),
    t(23, "iq4_xs", 256, 136),
    t(24, "i8", 1, 1),
    t(25, "i16", 1, 2),
    t(26, "i32", 1, 4),
    t(27, "i64", 1, 8),
    t(28, "f64", 1, 8),
    t(29, "iq1_m", 256, 56),
    t(30, "bf16", 1, 2),
    t(34, "tq1_0", 256, 54),
    t(35, "tq2_0", 256, 66),
    t(39, "mxfp4", 32, 17),
    t(40, "nvfp4", 64, 36),
    t(41, "q1_0", 128, 18),
    t(42, "q2_0", 64, 18),
];

/// Looks a type up by its id.
pub fn ggml_type(id: u32) -> Option<GgmlType> {
    GGML_TYPES.iter().copied().find(|t| t.id == id)
}

/// Looks a type up by its name, case-insensitively (`Q8_0`, `q8_0`).
pub fn ggml_type_by_name(name: &str) -> Option<GgmlType> {
    GGML_TYPES
        .iter()
        .copied()
        .find(|t| t.name.eq_ignore_ascii_case(name))
}

impl GgmlType {
    /// Bytes of one row of `n` elements (`ggml_row_size`). `None` when `n` is not a
    /// multiple of the block size (llama.cpp refuses such tensors) or on overflow.
    pub fn row_bytes(&self, n: u64) -> Option<u64> {
        if n % self.block != 0 {
            return None;
        }
        (n / self.block).checked_mul(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted() {
        for w in GGML_TYPES.windows(2) {
            assert!(w[0].id < w[1].id);
        }
    }

    #[test]
    fn row_bytes_matches_block_math() {
        let q8 = ggml_type_by_name("Q8_0").unwrap();
        assert_eq!(q8.row_bytes(512), Some(512 / 32 * 34));
        assert_eq!(q8.row_bytes(33), None);
        assert_eq!(ggml_type(1).unwrap().row_bytes(10), Some(20));
        assert!(ggml_type(4).is_none());
    }
}
