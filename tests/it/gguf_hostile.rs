//! The GGUF reader on hostile input: every failure is a typed error with a byte offset,
//! never a panic, and nothing is allocated that the file's size does not justify.

use crate::support;

use cclocal::gguf::{read_header, read_header_from, Array, GgufErrorKind, Value};
use std::io::Cursor;
use support::gguf_fixtures::{self as fx, Spec, Tensor, Val};

fn parse(bytes: &[u8]) -> Result<cclocal::gguf::GgufHeader, cclocal::gguf::GgufError> {
    read_header_from(Cursor::new(bytes), bytes.len() as u64)
}

/// A small model with tensors: header bytes followed by (zero) data.
fn small() -> Vec<u8> {
    let mut s = fx::decoder(
        &fx::Dims {
            arch: "llama",
            n_layer: 2,
            n_embd: 64,
            n_head: 2,
            n_head_kv: 1,
            head_dim: 32,
            n_ff: 128,
            n_vocab: 40,
            n_ctx_train: 2048,
        },
        0,
    );
    s.set("general.alignment", Val::U32(64));
    s.alignment = 64;
    let mut b = s.header();
    b.resize(b.len() + s.data_bytes() as usize, 0);
    b
}

#[test]
fn parses_the_fixture() {
    let b = small();
    let h = parse(&b).unwrap();
    assert_eq!(h.version, 3);
    assert_eq!(h.alignment, 64);
    assert_eq!(h.get_str("general.architecture"), Some("llama"));
    assert_eq!(h.get_u64("llama.block_count"), Some(2));
    assert_eq!(h.data_offset % 64, 0);
    // Tokenizer arrays are skipped, not materialised, but their length is kept.
    match h.get("tokenizer.ggml.tokens") {
        Some(Value::Array(Array::Skipped { len, .. })) => assert_eq!(*len, 40),
        other => panic!("tokens: {other:?}"),
    }
    assert_eq!(h.token_embd_bytes(), 64 * 40 * 4);
}

#[test]
fn every_truncation_is_an_error_with_offset() {
    let b = small();
    let header_len = parse(&b).unwrap().data_offset as usize;
    // Every byte of the header, then a sample of the data section.
    let cuts = (0..header_len).chain((header_len..b.len()).step_by(97));
    for cut in cuts {
        let r = parse(&b[..cut]);
        let e = r.expect_err(&format!("truncated at {cut} must fail"));
        assert!(
            e.offset <= cut as u64 + 8,
            "offset {} past the cut {cut}",
            e.offset
        );
        if cut < header_len.saturating_sub(64) {
            assert!(
                matches!(
                    e.kind,
                    GgufErrorKind::Truncated { .. }
                        | GgufErrorKind::StringTooLong(_)
                        | GgufErrorKind::BadCount { .. }
                ),
                "cut {cut}: {:?}",
                e.kind
            );
        }
    }
}

fn with(kv: Vec<(String, Val)>, tensors: Vec<Tensor>) -> Vec<u8> {
    let s = Spec {
        kv,
        tensors,
        alignment: 32,
    };
    let mut b = s.header();
    b.resize(b.len() + s.data_bytes() as usize, 0);
    b
}

fn kind(bytes: &[u8]) -> GgufErrorKind {
    parse(bytes).unwrap_err().kind
}

#[test]
fn magic_version_endianness() {
    let mut b = small();
    b[0] = b'X';
    assert!(matches!(kind(&b), GgufErrorKind::BadMagic(_)));
    for v in [1u32, 4, 0x0001_0005] {
        let mut b = small();
        b[4..8].copy_from_slice(&v.to_le_bytes());
        assert!(matches!(kind(&b), GgufErrorKind::BadVersion(_)), "{v}");
    }
    let mut b = small();
    b[4..8].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(kind(&b), GgufErrorKind::WrongEndian);
    assert!(matches!(kind(b""), GgufErrorKind::Truncated { .. }));
}

#[test]
fn counts_and_lengths_larger_than_the_file() {
    // n_tensors = 2^40: must be refused before any allocation.
    let mut b = small();
    b[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(
        kind(&b),
        GgufErrorKind::BadCount { what: "tensor", .. }
    ));
    let mut b = small();
    b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(kind(&b), GgufErrorKind::BadCount { .. }));
    // First key's length = 2^62.
    let mut b = small();
    b[24..32].copy_from_slice(&(1u64 << 62).to_le_bytes());
    let e = parse(&b).unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.offset),
        (GgufErrorKind::StringTooLong(1 << 62), 24)
    );
    // An array whose element count exceeds the file.
    let mut b = with(vec![("x".into(), Val::ArrU32(vec![1, 2, 3]))], vec![]);
    let at = b.len() - 3 * 4 - 8;
    b[at..at + 8].copy_from_slice(&(1u64 << 50).to_le_bytes());
    assert!(matches!(
        kind(&b),
        GgufErrorKind::BadCount {
            what: "array element",
            ..
        }
    ));
}

#[test]
fn nested_unknown_duplicate_alignment() {
    let mut b = with(vec![("x".into(), Val::ArrU32(vec![7]))], vec![]);
    let at = b.len() - 4 - 8 - 4; // element type
    b[at..at + 4].copy_from_slice(&9u32.to_le_bytes());
    assert_eq!(kind(&b), GgufErrorKind::NestedArray);
    let mut b = with(vec![("x".into(), Val::U32(7))], vec![]);
    let at = b.len() - 4 - 4;
    b[at..at + 4].copy_from_slice(&13u32.to_le_bytes());
    assert_eq!(kind(&b), GgufErrorKind::UnknownValueType(13));
    let b = with(
        vec![("x".into(), Val::U32(1)), ("x".into(), Val::U32(2))],
        vec![],
    );
    assert_eq!(kind(&b), GgufErrorKind::DuplicateKey("x".into()));
    let b = with(vec![("general.alignment".into(), Val::U32(48))], vec![]);
    assert!(matches!(kind(&b), GgufErrorKind::BadAlignment(_)));
    let b = with(vec![("general.alignment".into(), Val::U64(64))], vec![]);
    assert!(matches!(kind(&b), GgufErrorKind::BadAlignment(_)));
    let b = with(vec![("s".into(), Val::Str("ok".into()))], vec![]);
    let mut bad = b.clone();
    let n = bad.len();
    bad[n - 2] = 0xFF;
    assert_eq!(kind(&bad), GgufErrorKind::BadUtf8);
}

#[test]
fn tensor_checks() {
    let t = |name: &str, dims: Vec<u64>, ty: u32| Tensor {
        name: name.into(),
        dims,
        ty,
    };
    // Good: two tensors, offsets chained with padding.
    let ok = with(vec![], vec![t("a", vec![3], 0), t("b", vec![32], 8)]);
    let h = parse(&ok).unwrap();
    assert_eq!(h.tensors[1].offset, 32);
    assert_eq!(h.weights_bytes(), 12 + 34);
    // Wrong offset.
    let mut b = ok.clone();
    let pos = find(&b, b"b") + 1 + 4 + 8 + 4;
    b[pos..pos + 8].copy_from_slice(&16u64.to_le_bytes());
    assert!(matches!(
        kind(&b),
        GgufErrorKind::BadTensorOffset {
            found: 16,
            expected: 32,
            ..
        }
    ));
    // Data past the end of the file.
    let end = (h.data_offset + h.tensors[1].offset + h.tensors[1].bytes) as usize;
    assert!(parse(&ok[..end]).is_ok());
    let short = &ok[..end - 1];
    assert!(matches!(kind(short), GgufErrorKind::DataPastEnd { .. }));
    // Unknown ggml type, row not a multiple of the block, too many dims, duplicate names.
    let mut b = ok.clone();
    let pos = find(&b, b"b") + 1 + 4 + 8;
    b[pos..pos + 4].copy_from_slice(&4u32.to_le_bytes());
    assert!(matches!(
        kind(&b),
        GgufErrorKind::UnknownTensorType { type_id: 4, .. }
    ));
    let mut b = ok.clone();
    let pos = find(&b, b"b") + 1 + 4;
    b[pos..pos + 8].copy_from_slice(&33u64.to_le_bytes());
    assert!(matches!(kind(&b), GgufErrorKind::BadShape { .. }));
    let mut b = ok.clone();
    let pos = find(&b, b"b") + 1;
    b[pos..pos + 4].copy_from_slice(&5u32.to_le_bytes());
    assert!(matches!(
        kind(&b),
        GgufErrorKind::TooManyDims { n_dims: 5, .. }
    ));
    let dup = with(vec![], vec![t("a", vec![8], 0), t("a", vec![8], 0)]);
    assert!(matches!(kind(&dup), GgufErrorKind::BadTensorName(_)));
    // Dimensions whose product overflows, and a size far past the end of the file.
    let base = with(vec![], vec![t("h", vec![8, 8], 0)]);
    let pos = find(&base, b"h") + 1 + 4;
    let mut b = base.clone();
    b[pos..pos + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    b[pos + 8..pos + 16].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(matches!(kind(&b), GgufErrorKind::BadShape { .. }));
    let mut b = base.clone();
    b[pos..pos + 8].copy_from_slice(&(1u64 << 30).to_le_bytes());
    assert!(matches!(kind(&b), GgufErrorKind::DataPastEnd { .. }));
    let mut b = base;
    b[pos..pos + 8].copy_from_slice(&(-1i64).to_le_bytes());
    assert!(matches!(kind(&b), GgufErrorKind::BadShape { .. }));
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    // The tensor name is preceded by its u64 length.
    let mut pat = (needle.len() as u64).to_le_bytes().to_vec();
    pat.extend_from_slice(needle);
    hay.windows(pat.len())
        .rposition(|w| w == pat)
        .expect("pattern")
        + 8
}

/// Seeded mutations of a valid header never panic (the cargo-fuzz target explores further).
#[test]
fn random_mutations_never_panic() {
    let base = small();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let mut b = base.clone();
        for _ in 0..(1 + next() % 8) {
            let i = (next() % b.len() as u64) as usize;
            b[i] = next() as u8;
        }
        let cut = (next() % (b.len() as u64 + 1)) as usize;
        let _ = parse(&b[..cut.max(b.len() / 2)]);
    }
}

#[test]
fn errors_name_the_file_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.gguf");
    std::fs::write(&p, b"GGUF\x03\x00\x00\x00\x01").unwrap();
    let e = read_header(&p).unwrap_err();
    let s = e.to_string();
    assert!(
        s.contains("invalid GGUF file") && s.contains("broken.gguf") && s.contains("help:"),
        "{s}"
    );
    let e = read_header(&dir.path().join("missing.gguf")).unwrap_err();
    assert_eq!(e.kind, cclocal::ErrorKind::NotFound);
}

#[test]
fn split_models_sum_all_shards() {
    let dir = tempfile::tempdir().unwrap();
    let t = |name: &str| Tensor {
        name: name.into(),
        dims: vec![1024, 64],
        ty: 1,
    };
    let mut first = fx::llama();
    first.tensors.truncate(3);
    first.set("split.no", Val::U16(0));
    first.set("split.count", Val::U16(3));
    first
        .write(&dir.path().join("m-00001-of-00003.gguf"))
        .unwrap();
    for (i, names) in [(2, ["x1", "x2"]), (3, ["y1", "y2"])] {
        let s = Spec {
            kv: vec![
                ("split.no".into(), Val::U16(i - 1)),
                ("split.count".into(), Val::U16(3)),
            ],
            tensors: names.iter().map(|n| t(n)).collect(),
            alignment: 32,
        };
        s.write(&dir.path().join(format!("m-0000{i}-of-00003.gguf")))
            .unwrap();
    }
    let any = dir.path().join("m-00002-of-00003.gguf");
    let files = cclocal::gguf::read_model_files(&any).unwrap();
    assert_eq!(files.paths.len(), 3);
    assert_eq!(
        files.weights_bytes,
        first.weights_bytes() + 4 * 1024 * 64 * 2
    );
    assert_eq!(files.header.get_str("general.architecture"), Some("llama"));
    std::fs::remove_file(dir.path().join("m-00003-of-00003.gguf")).unwrap();
    let e = cclocal::gguf::read_model_files(&any).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn real_gemma_header() {
    let Some(p) = support::gemma_path() else {
        return;
    };
    let h = read_header(&p).unwrap();
    assert_eq!(h.get_str("general.architecture"), Some("gemma3"));
    assert!(h.tensors.iter().all(|t| t.offset % h.alignment == 0));
    assert!(h.tensors.iter().any(|t| t.name == "token_embd.weight"));
    assert!(h.token_embd_bytes() > 0 && h.token_embd_bytes() < h.weights_bytes());
    assert!(h.weights_bytes() > 200 << 20 && h.weights_bytes() < h.file_size);
    match h.get("tokenizer.ggml.tokens") {
        Some(Value::Array(a)) => assert_eq!(a.len(), 262_144),
        other => panic!("{other:?}"),
    }
}
