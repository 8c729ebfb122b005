//! The HDFS backend (being written).

use crate::error::{Error, Result};
use crate::open::OpenOptions;
use crate::store::KeyValueStore;
use std::sync::Arc;

/// Opens a HDFS store from a URL.
pub(crate) async fn open_url(_url: &str, _options: &OpenOptions) -> Result<Arc<dyn KeyValueStore>> {
    Err(Error::invalid("hdfs backend not built yet"))
}
