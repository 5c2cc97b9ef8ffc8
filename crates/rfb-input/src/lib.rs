//! Pointer input for RFB clients (skeleton; filled in by issue 6).
#![forbid(unsafe_code)]
