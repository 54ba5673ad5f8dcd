//! Memory math: KV cache and recurrent state exactly as llama.cpp allocates them, an
//! estimate of the compute and output buffers, the machine's budget, and the largest
//! context that fits.

mod budget;
mod compute;
mod fit;
mod kv;

pub use budget::{host_budget, mac_gpu_budget, total_ram, Budget, BudgetSource, MARGIN_BYTES};
pub use compute::{compute_bytes, output_bytes};
pub use fit::{fit_context, plan_row, PlanRow};
pub use kv::{kv_plan, parse_cache_type, CacheInstance, CacheParams, KvReport, CACHE_TYPES};
