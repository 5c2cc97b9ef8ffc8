//! Security type None (1).
//!
//! Spec: <https://github.com/rfbproto/rfbproto/blob/master/rfbproto.rst#none>

use super::{Credentials, SecurityContext, SecurityHandler, SecurityStep, SecurityType};
use crate::error::Error;
use crate::version::Version;

/// No authentication. Only 3.8 follows it with a SecurityResult.
#[derive(Debug, Default)]
pub struct NoneSecurity;

impl SecurityHandler for NoneSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::None
    }

    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, Error> {
        Ok(SecurityStep::Done {
            consumed: 0,
            transform: None,
            expect_result: cx.version == Version::V3_8,
        })
    }

    fn handle_input(
        &mut self,
        _: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        self.start(cx)
    }

    fn supply_credentials(
        &mut self,
        _: &Credentials,
        _: &mut SecurityContext<'_>,
    ) -> Result<SecurityStep, Error> {
        Err(Error::ApiMisuse("security type None takes no credentials"))
    }
}
