package dev.jsoci.cli;

import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.grpc.SnapshotsClient;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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
          + " --snapshotter and --plain-http (registry hosts come from CRI's config_path). When"
          + " containerd has no CRI plugin, or for any other namespace, the pull runs"
          + " 'ctr-remote images rpull' (stargz-snapshotter), which must be installed.",
      "",
      "The report compares the image's layers with the remote snapshots that the jsoci daemon"
          + " at --snapshotter-address stores. Pull progress goes to stderr, the report to"
          + " stdout: one line per layer, in manifest order: DIGEST lazy|downloaded SIZE."
    })
final class RpullCommand implements Callable<Integer> {
  /** The namespace that containerd's CRI plugin keeps Kubernetes images in. */
  static final String CRI_NAMESPACE = "k8s.io";

  static final Path CTR_REMOTE = Path.of("/usr/bin/ctr-remote");

  /** Label of the snapshots the daemon mounted lazily, and the labels naming their layer. */
  private static final String REMOTE_LABEL = "containerd.io/snapshot/remote";

  private static final List<String> LAYER_DIGEST_LABELS =
      List.of(
          "containerd.io/snapshot/cri.layer-digest",
          "containerd.io/snapshot/remote/stargz.digest");

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

  @Parameters(index = "0", paramLabel = "REF", description = "The image reference.")
  String reference;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException, InterruptedException {
    ImageRef ref = ImageRef.parse(reference);
    PrintWriter err = spec.commandLine().getErr();

    // Pull through CRI when it can reach the namespace, else through ctr-remote.
    boolean pulled = false;
    if (namespace.equals(CRI_NAMESPACE)) {
      pulled = pullWithCri(err);
    }
    if (!pulled) {
      pullWithCtrRemote(err);
    }

    // Report each layer of the image for this host's platform.
    List<Descriptor> layers = imageLayers(ref);
    Set<String> lazyLayers = remoteLayerDigests();
    PrintWriter out = spec.commandLine().getOut();
    for (Descriptor layer : layers) {
      String digest = layer.digest().toString();
      String status = lazyLayers.contains(digest) ? "lazy" : "downloaded";
      out.println(digest + " " + status + " " + layer.size());
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

  /** Returns the layers of the image's manifest for this host's platform. */
  private List<Descriptor> imageLayers(ImageRef ref) throws IOException {
    RegistryOptions options = RegistryOptions.builder().plainHttp(plainHttp).build();
    try (RegistryClient client = RegistryClient.create(options)) {
      ResolvedImage image = client.resolveImage(ref, ConvertOptions.detectHostPlatform());
      return image.parsedManifest().layers();
    }
  }

  /** Returns the layer digests of the snapshots that the jsoci daemon mounted lazily. */
  private Set<String> remoteLayerDigests() throws IOException {
    List<Map<String, String>> snapshots;
    try (SnapshotsClient client = SnapshotsClient.connect(snapshotterAddress)) {
      snapshots = client.listLabels("labels.\"" + REMOTE_LABEL + "\"", REPORT_TIMEOUT);
    } catch (IOException e) {
      throw new IOException(
          "the image was pulled, but the jsoci daemon at "
              + snapshotterAddress
              + " did not list its snapshots ("
              + e.getMessage()
              + "); set --snapshotter-address",
          e);
    }
    Set<String> digests = new HashSet<>();
    for (Map<String, String> labels : snapshots) {
      for (String key : LAYER_DIGEST_LABELS) {
        String digest = labels.get(key);
        if (digest != null) {
          digests.add(digest);
        }
      }
    }
    return digests;
  }
}
