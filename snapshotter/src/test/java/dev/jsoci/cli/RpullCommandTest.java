package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Digest;
import dev.jsoci.snapshotter.grpc.SnapshotsClient.SnapshotInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RpullCommandTest {
  private static final String CRI_DIGEST = "containerd.io/snapshot/cri.layer-digest";

  private static final Digest LAYER_A = Digest.sha256Of(bytes("layer a"));
  private static final Digest LAYER_B = Digest.sha256Of(bytes("layer b"));
  private static final Digest DIFF_A = Digest.sha256Of(bytes("diff a"));
  private static final Digest DIFF_B = Digest.sha256Of(bytes("diff b"));

  @TempDir Path temp;

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static SnapshotInfo remote(String name, String namespace, Digest layer) {
    return new SnapshotInfo(
        name,
        Map.of(
            "containerd.io/snapshot/remote",
            "remote snapshot",
            RpullCommand.REMOTE_NAMESPACE_LABEL,
            namespace,
            CRI_DIGEST,
            layer.toString()));
  }

  @Test
  void chainIds_followOciDefinition() {
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A, DIFF_B));

    assertThat(chain).hasSize(2);
    assertThat(chain.get(0)).isEqualTo(DIFF_A);
    assertThat(chain.get(1)).isEqualTo(Digest.sha256Of(bytes(DIFF_A + " " + DIFF_B)));
  }

  @Test
  void lazyLayers_otherNamespaceIsDownloaded() {
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A, DIFF_B));
    List<SnapshotInfo> snapshots = List.of(remote("ns1/3/" + chain.get(0), "ns1", LAYER_A));

    List<Boolean> lazy =
        RpullCommand.lazyLayers("ns2", List.of(LAYER_A, LAYER_B), chain, snapshots);

    assertThat(lazy).containsExactly(false, false).inOrder();
  }

  @Test
  void lazyLayers_sharedSnapshot_isLazyEverywhere() {
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A, DIFF_B));
    List<SnapshotInfo> snapshots =
        List.of(
            remote(chain.get(0).toString(), "ns1", LAYER_A),
            remote(chain.get(1).toString(), "ns1", LAYER_B));

    List<Boolean> lazy =
        RpullCommand.lazyLayers("ns2", List.of(LAYER_A, LAYER_B), chain, snapshots);

    assertThat(lazy).containsExactly(true, true).inOrder();
  }

  @Test
  void lazyLayers_sameNamespaceAndChainIsLazy() {
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A, DIFF_B));
    List<SnapshotInfo> snapshots =
        List.of(
            remote("ns1/3/" + chain.get(0), "ns1", LAYER_A),
            remote("ns2/7/" + chain.get(1), "ns2", LAYER_B));

    List<Boolean> lazy =
        RpullCommand.lazyLayers("ns2", List.of(LAYER_A, LAYER_B), chain, snapshots);

    assertThat(lazy).containsExactly(false, true).inOrder();
  }

  @Test
  void lazyLayers_otherChainIsDownloaded() {
    // Layer B was mounted lazily in ns2, but on top of another parent, so another chain ID.
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A, DIFF_B));
    List<SnapshotInfo> snapshots = List.of(remote("ns2/7/" + DIFF_B, "ns2", LAYER_B));

    List<Boolean> lazy =
        RpullCommand.lazyLayers("ns2", List.of(LAYER_A, LAYER_B), chain, snapshots);

    assertThat(lazy).containsExactly(false, false).inOrder();
  }

  @Test
  void lazyLayers_namespaceFromNameWithoutLabel() {
    List<Digest> chain = RpullCommand.chainIds(List.of(DIFF_A));
    SnapshotInfo unlabeled =
        new SnapshotInfo("ns2/4/" + chain.get(0), Map.of(CRI_DIGEST, LAYER_A.toString()));

    assertThat(RpullCommand.lazyLayers("ns2", List.of(LAYER_A), chain, List.of(unlabeled)))
        .containsExactly(true);
    assertThat(RpullCommand.lazyLayers("ns1", List.of(LAYER_A), chain, List.of(unlabeled)))
        .containsExactly(false);
  }

  @Test
  void lazyLayers_withoutDiffIdsMatchesDigest() {
    List<SnapshotInfo> snapshots = List.of(remote("ns2/7/sha256:unknown", "ns2", LAYER_A));

    List<Boolean> lazy =
        RpullCommand.lazyLayers("ns2", List.of(LAYER_A, LAYER_B), List.of(), snapshots);

    assertThat(lazy).containsExactly(true, false).inOrder();
  }

  @Test
  void checkDaemonListens_missingSocketFailsAtOnce() {
    Path socket = temp.resolve("missing.sock");

    IOException e = assertThrows(IOException.class, () -> RpullCommand.checkDaemonListens(socket));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "no jsoci-snapshotter listens at "
                + socket
                + ": the socket file does not exist; start jsoci-snapshotter or set"
                + " --snapshotter-address");
  }

  @Test
  void checkDaemonListens_staleSocketFails() throws IOException {
    Path socket = temp.resolve("stale.sock");
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(Files.exists(socket)).isTrue();

    IOException e = assertThrows(IOException.class, () -> RpullCommand.checkDaemonListens(socket));

    assertThat(e).hasMessageThat().startsWith("no jsoci-snapshotter listens at " + socket + ": ");
  }

  @Test
  void checkDaemonListens_listeningSocketPasses() throws IOException {
    Path socket = temp.resolve("live.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));

      RpullCommand.checkDaemonListens(socket);
    }
  }

  @Test
  void rpull_containerdSocketMissing_failsBeforePulling() throws IOException {
    Path daemon = temp.resolve("live.sock");
    Path containerd = temp.resolve("containerd.sock");
    StringWriter err = new StringWriter();
    int status;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(daemon));
      CommandLine commandLine = Main.newCommandLine();
      commandLine.setErr(new PrintWriter(err));
      status =
          commandLine.execute(
              "rpull",
              "--snapshotter-address",
              daemon.toString(),
              "--address",
              containerd.toString(),
              "127.0.0.1:5000/app:1");
    }

    assertThat(status).isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "no containerd listens at "
                + containerd
                + ": the socket file does not exist; start containerd or set --address");
  }

  @Test
  void rpull_addressIsDaemonSocket_isUsageError() {
    Path daemon = temp.resolve("jsoci.sock");
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.newCommandLine();
    commandLine.setErr(new PrintWriter(err));

    int status =
        commandLine.execute(
            "rpull",
            "--snapshotter-address",
            daemon.toString(),
            "--address",
            daemon.toString(),
            "127.0.0.1:5000/app:1");

    assertThat(status).isEqualTo(Main.EXIT_USAGE);
    assertThat(err.toString())
        .contains(
            "--address "
                + daemon
                + " is the socket of jsoci-snapshotter (--snapshotter-address); give containerd's"
                + " socket, such as /run/containerd/containerd.sock");
  }
}
