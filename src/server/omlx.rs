//! oMLX (https://github.com/jundot/omlx): its OpenAPI document `GET /openapi.json` is titled `oMLX API`.
//!
//! Detection only for now: the live facts (models, served context) of this kind are
//! still to be written (one function next to this fingerprint).

use super::detect::{saw, Http, Verdict};

pub fn fingerprint(http: &mut Http) -> Verdict {
    match http.json("/openapi.json") {
        Some(v) if v["info"]["title"].as_str() == Some("oMLX API") => {
            Verdict::Match("GET /openapi.json is titled \"oMLX API\"".into())
        }
        _ => Verdict::No(saw(http, "/openapi.json")),
    }
}
