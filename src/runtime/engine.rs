//! The linked llama.cpp: one backend per process, its log captured into a buffer, model
//! loading and context parameters. Everything here needs the `runtime` feature.

use super::{BuildInfo, Device, RuntimeFacts};
use crate::error::{Error, ErrorKind, Result};
use crate::memory::CacheParams;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use std::ffi::{c_char, c_void, CStr};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
static LOG: Mutex<String> = Mutex::new(String::new());
static VERBOSE: AtomicBool = AtomicBool::new(false);
/// One llama.cpp operation at a time, so that one operation's log is not mixed with another's.
static SESSION: Mutex<()> = Mutex::new(());

/// Upper bound on the captured log (a runaway log must not eat memory).
const LOG_CAP: usize = 4 << 20;

unsafe extern "C" fn on_log(
    _level: llama_cpp_sys_2::ggml_log_level,
    text: *const c_char,
    _ud: *mut c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string that lives for the call.
    let s = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    if VERBOSE.load(Ordering::Relaxed) {
        eprint!("{s}");
    }
    if let Ok(mut log) = LOG.lock() {
        if log.len() + s.len() <= LOG_CAP {
            log.push_str(&s);
        }
    }
}

/// Echo llama.cpp's log to stderr (`-v`).
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// The process-wide backend, with llama.cpp's log routed into [`LOG`].
pub fn backend() -> Result<&'static LlamaBackend> {
    let b = BACKEND.get_or_init(|| {
        // SAFETY: `on_log` is a plain function valid for the whole process; no user data.
        unsafe { llama_cpp_sys_2::llama_log_set(Some(on_log), std::ptr::null_mut()) };
        LlamaBackend::init().map_err(|e| e.to_string())
    });
    b.as_ref().map_err(|e| {
        Error::new(
            ErrorKind::Unsupported,
            format!("llama.cpp backend failed to start: {e}"),
        )
    })
}

/// Exclusive use of llama.cpp with a fresh log; the guard keeps others out.
pub struct Session {
    _guard: MutexGuard<'static, ()>,
}

impl Session {
    pub fn start() -> Result<(Session, &'static LlamaBackend)> {
        let backend = backend()?;
        let guard = SESSION.lock().unwrap_or_else(|e| e.into_inner());
        take_log();
        Ok((Session { _guard: guard }, backend))
    }
    /// The log written since the session started (or since the last call).
    pub fn log(&self) -> String {
        take_log()
    }
}

fn take_log() -> String {
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}

pub fn facts() -> Result<RuntimeFacts> {
    let backend = backend()?;
    let devices = llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .map(|d| Device {
            index: d.index,
            name: d.name,
            backend: d.backend,
            description: d.description,
            memory_total: d.memory_total as u64,
            memory_free: d.memory_free as u64,
            kind: format!("{:?}", d.device_type).to_ascii_lowercase(),
        })
        .collect();
    // SAFETY: returns a pointer to a static NUL-terminated string.
    let info = unsafe { CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) }
        .to_string_lossy()
        .into_owned();
    Ok(RuntimeFacts {
        build: BuildInfo {
            crate_version: super::CRATE_VERSION.to_string(),
            sys_version: super::SYS_VERSION.to_string(),
            system_info: info.trim().to_string(),
            missing_cpu_features: super::missing_cpu_features(&super::cpu_features_from(&info)),
        },
        gpu_offload: backend.supports_gpu_offload(),
        cpu_features: super::cpu_features_from(&info),
        devices,
    })
}

fn load_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::parse(format!("llama.cpp could not load the model: {e}"))
        .with_subject(path.display().to_string())
        .with_hint("run with -v to see llama.cpp's log; the file may be an architecture this llama.cpp does not know")
}

/// Loads a model; `no_alloc` sizes everything without reading the weights.
pub fn load(backend: &LlamaBackend, path: &Path, no_alloc: bool) -> Result<LlamaModel> {
    if !path.is_file() {
        return Err(
            Error::not_found("model file not found").with_subject(path.display().to_string())
        );
    }
    let params = LlamaModelParams::default().with_no_alloc(no_alloc);
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| load_error(path, e))
}

/// Context parameters exactly as `p` says (none of the crate's defaults leak through:
/// `swa_full`, flash attention and `no_perf` are always set explicitly).
pub fn context_params(p: &CacheParams) -> Result<LlamaContextParams> {
    let n_ctx = u32::try_from(p.n_ctx)
        .map_err(|_| Error::usage(format!("context length {} is too large", p.n_ctx)))?;
    let fa = if p.flash_attn {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
    } else {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
    };
    Ok(LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_seq_max(p.n_seq)
        .with_kv_unified(p.kv_unified)
        .with_n_batch(p.n_batch)
        .with_n_ubatch(p.n_ubatch)
        .with_flash_attention_policy(fa)
        .with_type_k(KvCacheType::Unknown(
            p.type_k.id as llama_cpp_sys_2::ggml_type,
        ))
        .with_type_v(KvCacheType::Unknown(
            p.type_v.id as llama_cpp_sys_2::ggml_type,
        ))
        .with_swa_full(p.swa_full)
        .with_n_rs_seq(p.n_rs_seq)
        .with_no_perf(false))
}

/// Why a context could not be created, from the log llama.cpp wrote.
pub fn context_error(log: &str, e: impl std::fmt::Display) -> Error {
    let reason = log
        .lines()
        .rev()
        .find(|l| l.contains("requires") || l.contains("failed") || l.contains("error"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| e.to_string());
    Error::new(
        ErrorKind::Usage,
        format!("llama.cpp refused the context: {reason}"),
    )
    .with_hint("check the cache types (a quantized V cache needs flash attention) and the sizes")
}
