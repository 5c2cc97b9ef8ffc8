//! Built-in HTTP endpoints served before `--web` files (health and metrics come here).

use rfb_ws::Request;

use crate::Shared;
use crate::web::Response;

/// The response for a built-in endpoint, or `None` to fall through to files.
pub(crate) fn respond(_shared: &Shared, _req: &Request) -> Option<Response> {
    None
}
