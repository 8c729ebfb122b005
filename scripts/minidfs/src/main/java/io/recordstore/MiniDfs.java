package io.recordstore;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Starts a single-NameNode MiniDFSCluster (2 DataNodes by default) bound to 127.0.0.1 for
 * recordstore tests and local use, prints one READY line and blocks until killed.
 *
 * Settings (args override env, env overrides defaults):
 *   --nn-port N    / HDFS_NN_PORT    (default 9000)  NameNode RPC port
 *   --http-port N  / HDFS_HTTP_PORT  (default 9870)  NameNode HTTP / WebHDFS port
 *   --data-dir D   / HDFS_DATA_DIR   (default /tmp/recordstore-minidfs)  base dir, wiped on start
 *   --ready-file F / HDFS_READY_FILE (optional)  READY line is also written there
 *   HDFS_DATANODES (default 2)  DataNodes, and the default replication
 */
public final class MiniDfs {
  private static final String HOST = "127.0.0.1";
  // Jersey logs through java.util.logging; keep a strong reference so the level sticks.
  private static final java.util.logging.Logger JERSEY_LOG =
      java.util.logging.Logger.getLogger("com.sun.jersey");

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      // Hadoop leaves non-daemon threads behind on failure; make sure we really exit.
      System.err.println("MiniDfs: failed to start: " + t);
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    JERSEY_LOG.setLevel(java.util.logging.Level.SEVERE);
    int nnPort = Integer.parseInt(env("HDFS_NN_PORT", "9000"));
    int httpPort = Integer.parseInt(env("HDFS_HTTP_PORT", "9870"));
    String dataDir = env("HDFS_DATA_DIR", "/tmp/recordstore-minidfs");
    String readyFile = env("HDFS_READY_FILE", "");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = (i + 1 < args.length) ? args[i + 1] : null;
      switch (a) {
        case "--nn-port": nnPort = Integer.parseInt(req(a, v)); i++; break;
        case "--http-port": httpPort = Integer.parseInt(req(a, v)); i++; break;
        case "--data-dir": dataDir = req(a, v); i++; break;
        case "--ready-file": readyFile = req(a, v); i++; break;
        case "-h": case "--help":
          System.err.println("usage: MiniDfs [--nn-port N] [--http-port N] [--data-dir DIR] [--ready-file FILE]");
          return;
        default:
          throw new IllegalArgumentException("unknown argument: " + a);
      }
    }

    File base = new File(dataDir);
    FileUtil.fullyDelete(base);
    if (!base.mkdirs() && !base.isDirectory()) {
      throw new IOException("cannot create data dir " + base);
    }

    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.getAbsolutePath());
    conf.setInt("dfs.replication", dataNodes());
    conf.setBoolean("dfs.permissions.enabled", false);
    conf.setBoolean("dfs.webhdfs.enabled", true);
    // Everything on loopback; DataNode ports ephemeral so nothing collides.
    conf.set("dfs.namenode.rpc-bind-host", HOST);
    conf.set("dfs.namenode.http-bind-host", HOST);
    conf.set("dfs.datanode.address", HOST + ":0");
    conf.set("dfs.datanode.http.address", HOST + ":0");
    conf.set("dfs.datanode.ipc.address", HOST + ":0");
    // WebHDFS 307 redirects (and clients) must point at 127.0.0.1, not a resolved hostname.
    conf.set("dfs.datanode.hostname", HOST);
    conf.setBoolean("dfs.client.use.datanode.hostname", true);
    conf.setBoolean("dfs.datanode.use.datanode.hostname", true);
    // Small, quick local cluster.
    conf.setLong("dfs.namenode.fs-limits.min-block-size", 0);
    conf.setInt("dfs.namenode.handler.count", 4);
    conf.setInt("dfs.datanode.handler.count", 4);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setInt("dfs.namenode.safemode.min.datanodes", 0);
    // Let a client close a file whose last block the DataNodes have written but not yet
    // reported (HDFS-8999). Without it, close() races the block report and hdfs-native then
    // sleeps 500 ms before asking again: most small writes paid that (5 inserts/s). The
    // NameNode only allows it when a block has more replicas than the minimum (1), hence
    // 2 DataNodes and replication 2 by default.
    conf.setInt("dfs.namenode.file.close.num-committed-allowed", 1);

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
        .nameNodePort(nnPort)
        .nameNodeHttpPort(httpPort)
        .numDataNodes(dataNodes())
        .format(true)
        .manageNameDfsDirs(true)
        .manageDataDfsDirs(true)
        .checkDataNodeAddrConfig(true)
        .checkDataNodeHostConfig(true)
        .waitSafeMode(true)
        .build();

    CountDownLatch stopped = new CountDownLatch(1);
    final String rf = readyFile;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        cluster.shutdown();
      } catch (Throwable t) {
        System.err.println("MiniDfs: shutdown error: " + t);
      }
      if (!rf.isEmpty()) {
        try { Files.deleteIfExists(Paths.get(rf)); } catch (IOException ignored) { }
      }
      stopped.countDown();
    }, "minidfs-shutdown"));

    cluster.waitActive();
    cluster.waitClusterUp();

    String ready = "READY hdfs://" + HOST + ":" + cluster.getNameNodePort()
        + " http://" + HOST + ":" + cluster.getNameNode().getHttpAddress().getPort();
    if (!readyFile.isEmpty()) {
      Path target = Paths.get(readyFile).toAbsolutePath();
      Path parent = target.getParent();
      if (parent != null) Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".minidfs-ready", ".tmp");
      Files.write(tmp, (ready + "\n").getBytes(StandardCharsets.UTF_8));
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
    System.out.println(ready);
    System.out.flush();

    stopped.await();
  }

  /** HDFS_DATANODES (default 2): with 2 replicas a file can close before its block report. */
  private static int dataNodes() {
    return Integer.parseInt(env("HDFS_DATANODES", "2"));
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return (v == null || v.isEmpty()) ? dflt : v;
  }

  private static String req(String flag, String v) {
    if (v == null) throw new IllegalArgumentException(flag + " needs a value");
    return v;
  }
}
