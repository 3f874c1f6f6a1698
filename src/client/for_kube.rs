//! What `kube` asks of the client (`kube` knows nothing of it): a pod view's read error as
//! the client's decode error, and the DELETE request.

use serde_json::Value;

use super::{ApiError, Client};
use crate::kube::pod::ReadError;

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> ApiError {
        ApiError::Decode {
            what: e.what,
            cause: e.cause.to_string(),
        }
    }
}

impl crate::kube::Delete for Client {
    type Error = ApiError;

    fn delete(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        Client::delete(self, path, body)
    }
}
