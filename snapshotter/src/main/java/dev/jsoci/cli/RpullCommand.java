package dev.jsoci.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.grpc.SnapshotsClient;
import dev.jsoci.snapshotter.grpc.SnapshotsClient.SnapshotInfo;
import dev.jsoci.snapshotter.grpc.api.cri.ImageServiceGrpc;
import dev.jsoci.snapshotter.grpc.api.cri.ImageSpec;
import dev.jsoci.snapshotter.grpc.api.cri.PullImageRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code jsoci rpull}: pulls an image into containerd through the snapshotter with the
 * remote-snapshot labels, then reports for each layer whether it was mounted lazily.
 */
@Command(
    name = "rpull",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = {
      "Pull an image into containerd through the jsoci snapshotter, sending the labels that let"
          + " it mount layers lazily, then print each layer as 'lazy' or 'downloaded'.",
      "",
      "The pull goes through containerd's CRI image service (PullImage) when --namespace is"
          + " k8s.io, CRI's namespace. CRI must be enabled with snapshotter = \"<name>\" and"
          + " disable_snapshot_annotations = false in its containerd section; it then ignores"
          + " --snapshotter, --plain-http and --hosts-dir (registry hosts come from CRI's"
          + " config_path). When"
          + " containerd has no CRI plugin, or for any other namespace, the pull runs"
          + " 'ctr-remote images rpull' (stargz-snapshotter), which must be installed. jsoci"
          + " passes it no registry credentials: for a registry that needs a login, pull through"
          + " CRI, or run 'ctr-remote images rpull --user USER' yourself; the daemon reads its"
          + " own Docker config.json for the layers.",
      "",
      "The report compares the image's layers with the remote snapshots that the jsoci daemon"
          + " at --snapshotter-address stores in --namespace, at the same place in the image's"
          + " layer chain (chain ID), when the pull returns. The daemon may still be mounting"
          + " lazy layers then; one whose mount fails later is downloaded by the daemon, and a"
          + " second rpull reports it as downloaded. Pull progress goes to stderr, the report to"
          + " stdout: one line per layer, in manifest order: DIGEST lazy|downloaded SIZE."
    })
final class RpullCommand implements Callable<Integer> {
  /** The namespace that containerd's CRI plugin keeps Kubernetes images in. */
  static final String CRI_NAMESPACE = "k8s.io";

  static final Path CTR_REMOTE = Path.of("/usr/bin/ctr-remote");

  /** Label of the snapshots the daemon mounted lazily, and the labels naming their layer. */
  private static final String REMOTE_LABEL = "containerd.io/snapshot/remote";

  /** The containerd namespace that the daemon records on each remote snapshot. */
  static final String REMOTE_NAMESPACE_LABEL = "containerd.io/snapshot/remote/namespace";

  private static final List<String> LAYER_DIGEST_LABELS =
      List.of(
          "containerd.io/snapshot/cri.layer-digest", "containerd.io/snapshot/remote/stargz.digest");

  private static final Duration PULL_TIMEOUT = Duration.ofMinutes(30);
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(30);

  @Option(
      names = "--address",
      paramLabel = "SOCKET",
      defaultValue = "/run/containerd/containerd.sock",
      description = "containerd's socket (default: ${DEFAULT-VALUE}).")
  Path address;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      defaultValue = CRI_NAMESPACE,
      description = "containerd namespace to pull into (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--snapshotter",
      paramLabel = "NAME",
      defaultValue = "soci",
      description =
          "Name of the jsoci proxy plugin in containerd's config (default: ${DEFAULT-VALUE}).")
  String snapshotter;

  @Option(
      names = "--snapshotter-address",
      paramLabel = "SOCKET",
      defaultValue = "/run/jsoci/jsoci.sock",
      description = "The jsoci daemon's socket, asked for the report (default: ${DEFAULT-VALUE}).")
  Path snapshotterAddress;

  @Option(
      names = "--plain-http",
      description =
          "Use http instead of https for the registry (ctr-remote and the report; loopback"
              + " registries use http anyway).")
  boolean plainHttp;

  @Mixin HostsDirOption hostsDir;

  @Parameters(index = "0", paramLabel = "REF", description = "The image reference.")
  String reference;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    ImageRef ref = ReferenceArguments.imageRef(spec, reference);
    RegistryOptions registryOptions = ConvertCommand.registryOptions(plainHttp, hostsDir);
    PrintWriter err = spec.commandLine().getErr();
    // Check both sockets before the pull, which can take minutes.
    if (address
        .toAbsolutePath()
        .normalize()
        .equals(snapshotterAddress.toAbsolutePath().normalize())) {
      throw new ParameterException(
          spec.commandLine(),
          "--address "
              + address
              + " is the socket of jsoci-snapshotter (--snapshotter-address); give containerd's"
              + " socket, such as /run/containerd/containerd.sock");
    }
    checkDaemonListens(snapshotterAddress);
    checkListens(address, "containerd", "start containerd or set --address");

    // Pull through CRI when it can reach the namespace, else through ctr-remote.
    boolean pulled = false;
    if (namespace.equals(CRI_NAMESPACE)) {
      pulled = pullWithCri(err);
    }
    if (!pulled) {
      pullWithCtrRemote(err);
    }

    // Report each layer of the image for this host's platform.
    ImageLayers image = imageLayers(ref, registryOptions);
    List<Digest> layerDigests = image.layers().stream().map(Descriptor::digest).toList();
    List<Boolean> lazy =
        lazyLayers(namespace, layerDigests, chainIds(image.diffIds()), remoteSnapshots());
    PrintWriter out = spec.commandLine().getOut();
    for (int i = 0; i < image.layers().size(); i++) {
      Descriptor layer = image.layers().get(i);
      String status = lazy.get(i) ? "lazy" : "downloaded";
      out.println(layer.digest() + " " + status + " " + layer.size());
    }
    out.flush();
    return 0;
  }

  /**
   * Calls CRI's {@code PullImage}; returns false when containerd has no CRI image service.
   *
   * <p>NOTE: only the UNIMPLEMENTED branch has run in tests; the integration tests start containerd
   * without its CRI plugin, so a successful CRI pull is untested.
   *
   * @throws IOException if the pull fails for any other reason
   */
  private boolean pullWithCri(PrintWriter err) throws IOException, InterruptedException {
    ManagedChannel channel =
        Grpc.newChannelBuilder(
                "unix://" + address.toAbsolutePath(), InsecureChannelCredentials.create())
            .build();
    try {
      String imageRef =
          ImageServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(PULL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .pullImage(
                  PullImageRequest.newBuilder()
                      .setImage(ImageSpec.newBuilder().setImage(reference))
                      .build())
              .getImageRef();
      err.println("jsoci: pulled " + reference + " through CRI (image " + imageRef + ")");
      err.flush();
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        err.println(
            "jsoci: containerd at " + address + " has no CRI image service; using ctr-remote");
        err.flush();
        return false;
      }
      throw new IOException(
          "CRI PullImage of " + reference + " at " + address + " failed: " + e.getStatus(), e);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Runs {@code ctr-remote images rpull}, copying its output to stderr. */
  private void pullWithCtrRemote(PrintWriter err) throws IOException, InterruptedException {
    if (!Files.isExecutable(CTR_REMOTE)) {
      throw new IOException(
          CTR_REMOTE
              + " is not installed (Debian package stargz-snapshotter), and CRI cannot pull into"
              + " namespace \""
              + namespace
              + "\"; install ctr-remote, or enable containerd's CRI plugin and use --namespace "
              + CRI_NAMESPACE);
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                CTR_REMOTE.toString(),
                "--address",
                address.toString(),
                "--namespace",
                namespace,
                "images",
                "rpull",
                "--snapshotter",
                snapshotter));
    if (plainHttp) {
      command.add("--plain-http");
    }
    if (hostsDir.isSet()) {
      Path directory = hostsDir.directory();
      command.add("--hosts-dir");
      command.add(directory == null ? "" : directory.toString());
    }
    command.add(reference);

    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (BufferedReader output =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = output.readLine(); line != null; line = output.readLine()) {
        err.println(line);
      }
    }
    err.flush();
    if (!process.waitFor(PULL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IOException("ctr-remote images rpull did not finish within " + PULL_TIMEOUT);
    }
    if (process.exitValue() != 0) {
      throw new IOException(
          "ctr-remote images rpull " + reference + " failed with status " + process.exitValue());
    }
  }

  /** The layers of an image's manifest and the {@code rootfs.diff_ids} of its config. */
  private record ImageLayers(List<Descriptor> layers, List<Digest> diffIds) {}

  /** Reads the layers and diff_ids of the image for this host's platform. */
  private static ImageLayers imageLayers(ImageRef ref, RegistryOptions options) throws IOException {
    try (RegistryClient client = RegistryClient.create(options)) {
      ResolvedImage image = client.resolveImage(ref, ConvertOptions.detectHostPlatform());
      byte[] config = client.readBlob(ref, image.parsedManifest().config());
      JsonNode ids = new ObjectMapper().readTree(config).path("rootfs").path("diff_ids");
      List<Digest> diffIds = new ArrayList<>();
      for (JsonNode id : ids) {
        diffIds.add(Digest.parse(id.asText()));
      }
      return new ImageLayers(image.parsedManifest().layers(), diffIds);
    }
  }

  /**
   * Computes the OCI chain IDs of a layer stack: the first is the first diff_id, and each next one
   * is the SHA-256 of "PREVIOUS_CHAIN_ID DIFF_ID". containerd names committed layer snapshots by
   * chain ID.
   */
  static List<Digest> chainIds(List<Digest> diffIds) {
    List<Digest> chainIds = new ArrayList<>();
    for (Digest diffId : diffIds) {
      if (chainIds.isEmpty()) {
        chainIds.add(diffId);
      } else {
        String parentAndLayer = chainIds.get(chainIds.size() - 1) + " " + diffId;
        chainIds.add(Digest.sha256Of(parentAndLayer.getBytes(StandardCharsets.UTF_8)));
      }
    }
    return chainIds;
  }

  /**
   * Decides for each layer whether the daemon serves it lazily for this pull: a remote snapshot
   * must carry the layer's digest and be named by the layer's chain ID. containerd names the
   * committed snapshots of remote snapshotters by the chain ID alone and shares them with every
   * namespace, so such a snapshot counts whichever namespace pulled first. A name of the form
   * {@code <namespace>/<sequence>/<chain ID>} counts only in {@code namespace}, and a snapshot of
   * the same layer under another parent chain belongs to another image.
   *
   * @param chainIds the layers' chain IDs, or an empty list when the config has no usable diff_ids
   */
  static List<Boolean> lazyLayers(
      String namespace,
      List<Digest> layerDigests,
      List<Digest> chainIds,
      List<SnapshotInfo> remoteSnapshots) {
    // NOTE: without a chain ID per layer, the match falls back to namespace and digest, so a layer
    // shared at another place in another image of this namespace still counts as lazy.
    boolean checkChain = chainIds.size() == layerDigests.size();
    List<Boolean> lazy = new ArrayList<>();
    for (int i = 0; i < layerDigests.size(); i++) {
      String digest = layerDigests.get(i).toString();
      String chainId = checkChain ? chainIds.get(i).toString() : null;
      boolean found = false;
      for (SnapshotInfo snapshot : remoteSnapshots) {
        if (!carriesLayer(snapshot, digest)) {
          continue;
        }
        boolean shared = chainId != null && snapshot.name().equals(chainId);
        if (shared
            || (namespaceOf(snapshot).equals(namespace)
                && (chainId == null || hasChainId(snapshot.name(), chainId)))) {
          found = true;
          break;
        }
      }
      lazy.add(found);
    }
    return lazy;
  }

  /**
   * Returns the namespace of a remote snapshot: the daemon's namespace label, or else the {@code
   * <namespace>/<sequence>/} prefix that containerd's metadata layer puts on snapshot names.
   */
  private static String namespaceOf(SnapshotInfo snapshot) {
    String label = snapshot.labels().get(REMOTE_NAMESPACE_LABEL);
    if (label != null && !label.isEmpty()) {
      return label;
    }
    String[] parts = snapshot.name().split("/", 3);
    if (parts.length < 3 || !parts[1].matches("[0-9]+")) {
      return "";
    }
    return parts[0];
  }

  private static boolean carriesLayer(SnapshotInfo snapshot, String digest) {
    for (String key : LAYER_DIGEST_LABELS) {
      if (digest.equals(snapshot.labels().get(key))) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasChainId(String snapshotName, String chainId) {
    return snapshotName.equals(chainId) || snapshotName.endsWith("/" + chainId);
  }

  /**
   * Connects to the daemon's socket once, so that a wrong --snapshotter-address fails at once
   * instead of after gRPC's wait-for-ready deadline.
   *
   * @throws IOException naming the socket when nothing accepts connections on it
   */
  static void checkDaemonListens(Path socket) throws IOException {
    checkListens(
        socket, "jsoci-snapshotter", "start jsoci-snapshotter or set --snapshotter-address");
  }

  /**
   * Connects to {@code socket} once.
   *
   * @param server what should listen there, for the message
   * @param advice what to do when nothing does
   * @throws IOException naming the socket when nothing accepts connections on it
   */
  private static void checkListens(Path socket, String server, String advice) throws IOException {
    String reason;
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return;
    } catch (NoSuchFileException e) {
      reason = "the socket file does not exist";
    } catch (IOException e) {
      reason = Files.exists(socket) ? e.getMessage() : "the socket file does not exist";
    }
    throw new IOException("no " + server + " listens at " + socket + ": " + reason + "; " + advice);
  }

  /** Lists the snapshots that the jsoci daemon mounted lazily, in every namespace. */
  private List<SnapshotInfo> remoteSnapshots() throws IOException {
    try (SnapshotsClient client = SnapshotsClient.connect(snapshotterAddress)) {
      return client.list("labels.\"" + REMOTE_LABEL + "\"", REPORT_TIMEOUT);
    } catch (IOException e) {
      throw new IOException(
          "the image was pulled, but the jsoci daemon at "
              + snapshotterAddress
              + " did not list its snapshots ("
              + e.getMessage()
              + "); set --snapshotter-address",
          e);
    }
  }
}
