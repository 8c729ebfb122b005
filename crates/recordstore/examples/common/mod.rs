//! What the HDFS examples share.

/// A plain `hdfs-native` client for the NameNode of `url` (`hdfs://HOST[:PORT]/BASE`), as
/// `HADOOP_USER_NAME` (default `root`), with `BASE` deleted and created empty. Returns the
/// client and `BASE`.
#[cfg(feature = "hdfs")]
pub async fn fresh_hdfs_base(url: &str) -> (hdfs_native::Client, String) {
    let url = url::Url::parse(url).expect("a URL such as hdfs://127.0.0.1:9000/bench");
    let base = url.path().trim_end_matches('/').to_string();
    assert!(!base.is_empty(), "give a base directory in the URL path");
    let namenode = format!(
        "hdfs://{}:{}",
        url.host_str().expect("a NameNode host"),
        url.port().unwrap_or(8020)
    );
    let user = std::env::var("HADOOP_USER_NAME").unwrap_or_else(|_| "root".into());
    let client = hdfs_native::ClientBuilder::new()
        .with_url(namenode)
        .with_user(user)
        .build()
        .expect("hdfs client");
    let _ = client.delete(&base, true).await;
    client.mkdirs(&base, 0o755, true).await.expect("mkdirs");
    (client, base)
}
