//! The typed form of a debug-log line (see `parse`).

/// Severity prefix of a log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Verbose,
    Debug,
    Info,
    Warn,
    Error,
}

/// One physical line of a debug log.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// Empty or whitespace only.
    Blank,
    /// No `<timestamp> [<LEVEL>] ` prefix: the continuation of a multi-line message, or garbage.
    Continuation(&'a str),
    /// A log entry.
    Entry(Entry<'a>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The timestamp as written.
    pub ts: &'a str,
    pub level: Level,
    pub event: Event<'a>,
}

/// The autocompact level printed by 2.1.122+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompactLevel {
    Ok,
    Warn,
    Compact,
    Blocked,
}

impl CompactLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            CompactLevel::Ok => "ok",
            CompactLevel::Warn => "warn",
            CompactLevel::Compact => "compact",
            CompactLevel::Blocked => "blocked",
        }
    }
}

/// What a log entry says, for the entries this analysis uses. Everything else is `Other`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// `[API REQUEST] <path>[ x-client-request-id=<id>] source=<source>`
    ApiRequest { path: &'a str, source: &'a str },
    /// `[API:timing] dispatching to <provider> model=<model>` (2.1.197+)
    Dispatch { provider: &'a str, model: &'a str },
    /// `Stream started - received first chunk`
    StreamStarted,
    /// `[API:timing] first byte after <ms>ms` (2.1.197+)
    FirstByte { ms: u64 },
    /// `Slow first byte: no stream chunk <s.s>s after request sent (attempt <n>)` (WARN)
    SlowFirstByte { after_ms: u64, attempt: Option<u32> },
    /// `Streaming stall detected: <s.s>s gap between events (stall #<n>)` (WARN)
    Stall { gap_ms: u64 },
    /// `Streaming completed with <n> stall(s), total stall time: <s.s>s`
    StreamCompleted { stalls: u32, stall_ms: u64 },
    /// `… — retrying streaming (<n>/<max>)` (WARN): a stream retried without a new request line.
    StreamRetry { timeout: bool },
    /// `API error (attempt <n>/<max>): <status> <message>` (ERROR); status absent for
    /// connection errors and timeouts.
    ApiError {
        attempt: u32,
        max: u32,
        status: Option<u16>,
        message: &'a str,
    },
    /// `Streaming endpoint returned 404, falling back to non-streaming mode` (WARN)
    StreamingFallback { status: Option<u16> },
    /// `Non-streaming fallback also failed: <status> …` / `Error in API request: …` (ERROR):
    /// the final outcome of a request already reported by `ApiError`.
    RequestGaveUp { status: Option<u16> },
    /// `countTokens API call failed: <status> <json>` (ERROR, 2.1.197+)
    CountTokensFailed { status: Option<u16> },
    /// `countTokensWithFallback: API returned null, trying haiku fallback (<n> tools)`, or its
    /// redacted form `countTokensWithFallback: [REDACTED] returned null, …` (2.1.197).
    CountTokensNull,
    /// `countTokensWithFallback: haiku fallback failed: <status> <json>` or the redacted
    /// `countTokensWithFallback: [REDACTED] fallback failed: …` (2.1.197).
    HaikuFallbackFailed {
        status: Option<u16>,
        message: &'a str,
    },
    /// `Error: Error: <status> <json>` (2.1.121, possibly JSON-quoted): a generic error report.
    GenericError { status: Option<u16> },
    /// `autocompact: tokens=<n|[REDACTED]> (threshold=<n>|level=<l>) effectiveWindow=<n>`
    Autocompact {
        tokens: Option<u64>,
        threshold: Option<u64>,
        level: Option<CompactLevel>,
        effective_window: Option<u64>,
    },
    /// `autocompact: routing through reactive (thresholdSource=<src>)`
    AutocompactReactive { threshold_source: &'a str },
    /// `[autocompact] "<model>" isn't described by this version's model catalog; …` (WARN)
    UnknownModel { model: &'a str },
    /// `Forked agent [<name>] finished: …`
    ForkedAgentFinished { name: &'a str },
    /// `[engine] turn <n> end (turns=<n> usage in=<n> out=<n> … api=<n>ms …)` (2.1.332)
    TurnEnd {
        usage_in: Option<u64>,
        usage_out: Option<u64>,
        api_ms: Option<u64>,
    },
    /// `[engine] turn <n> start`
    TurnStart,
    /// `attribution header x-anthropic-billing-header: cc_version=<v>; …`: the per-request
    /// billing header that defeats a local server's prompt cache when it changes.
    AttributionHeader { cc_version: &'a str },
    /// Any other entry.
    Other,
}
