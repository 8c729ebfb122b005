//! The backends, one folder each, each behind a cargo feature of the same name.

#[cfg(feature = "hdfs")]
pub mod hdfs;
#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlite")]
pub mod sqlite;
