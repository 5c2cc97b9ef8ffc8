//! Message encoders (client → server) and header parsers (server → client).

pub mod client;
pub(crate) mod server;
