package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Reading containerd hosts.toml directories into registry endpoints. */
class HostsDirectoryTest {
  @TempDir Path directory;

  private Path writeHosts(String namespace, String toml) throws IOException {
    Path file = directory.resolve(namespace).resolve("hosts.toml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, toml);
    return file;
  }

  /** Writes {@code toml} as {@link #regExampleHosts} and returns the error of reading it. */
  private HostsConfigException readInvalid(String toml) throws IOException {
    writeHosts("reg.example", toml);
    HostsDirectory hosts = new HostsDirectory(directory, false);
    return assertThrows(HostsConfigException.class, () -> hosts.endpointsFor("reg.example"));
  }

  private Path regExampleHosts() {
    return directory.resolve("reg.example").resolve("hosts.toml");
  }

  private static String root(RegistryEndpoint endpoint) {
    return endpoint.apiRoot().toString();
  }

  @Test
  void endpointsFor_withoutDirectory() throws IOException {
    HostsDirectory hosts = new HostsDirectory(null, false);

    assertThat(root(hosts.endpointsFor("docker.io").get(0)))
        .isEqualTo("https://registry-1.docker.io/v2/");
    assertThat(root(hosts.endpointsFor("reg.example:5000").get(0)))
        .isEqualTo("https://reg.example:5000/v2/");
    assertThat(root(hosts.endpointsFor("localhost:5000").get(0)))
        .isEqualTo("http://localhost:5000/v2/");
    assertThat(root(hosts.endpointsFor("127.0.0.1:5000").get(0)))
        .isEqualTo("http://127.0.0.1:5000/v2/");
    assertThat(root(hosts.endpointsFor("[::1]:5000").get(0))).isEqualTo("http://[::1]:5000/v2/");
    assertThat(hosts.endpointsFor("docker.io").get(0).capabilities())
        .isEqualTo(EnumSet.allOf(Capability.class));
  }

  @Test
  void endpointsFor_plainHttp() throws IOException {
    HostsDirectory hosts = new HostsDirectory(null, true);

    assertThat(root(hosts.endpointsFor("reg.example").get(0))).isEqualTo("http://reg.example/v2/");
  }

  @Test
  void endpointsFor_hostsToml() throws IOException {
    Path file =
        writeHosts(
            "reg.example",
            "server = \"https://upstream.example:8443\"\n"
                + "ca = \"upstream-ca.pem\"\n"
                + "\n"
                + "[host.\"https://mirror-b.example\"]\n"
                + "  capabilities = [\"pull\"]\n"
                + "  skip_verify = true\n"
                + "  dial_timeout = \"1m30s\"\n"
                + "  [host.\"https://mirror-b.example\".header]\n"
                + "    x-token-name = \"abc\"\n"
                + "    x-list = [\"one\", \"two\"]\n"
                + "\n"
                + "[host.\"mirror-a.example:5000/cache\"]\n"
                + "  capabilities = [\"pull\", \"resolve\"]\n"
                + "  ca = [\"/etc/ssl/a.pem\", \"b.pem\"]\n"
                + "  client = [[\"client.crt\", \"client.key\"], [\"both.pem\", \"\"]]\n"
                + "\n"
                + "[host.\"http://raw.example/api\"]\n"
                + "  override_path = true\n"
                + "  client = \"single.pem\"\n");
    Path base = file.getParent();

    List<RegistryEndpoint> endpoints =
        new HostsDirectory(directory, false).endpointsFor("reg.example");

    assertThat(endpoints).hasSize(4);
    RegistryEndpoint mirrorB = endpoints.get(0);
    assertThat(root(mirrorB)).isEqualTo("https://mirror-b.example/v2/");
    assertThat(mirrorB.capabilities()).containsExactly(Capability.PULL);
    assertThat(mirrorB.connection().skipVerify()).isTrue();
    assertThat(mirrorB.connection().connectTimeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(mirrorB.headers())
        .isEqualTo(Map.of("x-token-name", List.of("abc"), "x-list", List.of("one", "two")));

    RegistryEndpoint mirrorA = endpoints.get(1);
    assertThat(root(mirrorA)).isEqualTo("https://mirror-a.example:5000/cache/v2/");
    assertThat(mirrorA.capabilities()).isEqualTo(Set.of(Capability.PULL, Capability.RESOLVE));
    assertThat(mirrorA.connection().caFiles())
        .containsExactly(Path.of("/etc/ssl/a.pem"), base.resolve("b.pem"))
        .inOrder();
    assertThat(mirrorA.connection().clientCertificates())
        .containsExactly(
            new ConnectionSetup.ClientCertificate(
                base.resolve("client.crt"), base.resolve("client.key")),
            new ConnectionSetup.ClientCertificate(
                base.resolve("both.pem"), base.resolve("both.pem")))
        .inOrder();

    RegistryEndpoint raw = endpoints.get(2);
    assertThat(root(raw)).isEqualTo("http://raw.example/api/");
    assertThat(raw.capabilities()).isEqualTo(EnumSet.allOf(Capability.class));
    assertThat(raw.connection().clientCertificates())
        .containsExactly(
            new ConnectionSetup.ClientCertificate(
                base.resolve("single.pem"), base.resolve("single.pem")));

    RegistryEndpoint server = endpoints.get(3);
    assertThat(root(server)).isEqualTo("https://upstream.example:8443/v2/");
    assertThat(server.connection().caFiles()).containsExactly(base.resolve("upstream-ca.pem"));
    assertThat(server.addsNamespace()).isTrue();
    assertThat(server.blobUrl("team/app", dev.jsoci.oci.Digest.sha256Of(new byte[0])).toString())
        .isEqualTo(
            "https://upstream.example:8443/v2/team/app/blobs/"
                + dev.jsoci.oci.Digest.sha256Of(new byte[0])
                + "?ns=reg.example");
  }

  @Test
  void endpointsFor_withoutServer() throws IOException {
    writeHosts("docker.io", "[host.\"https://mirror.example\"]\n  capabilities = [\"pull\"]\n");

    List<RegistryEndpoint> endpoints =
        new HostsDirectory(directory, false).endpointsFor("docker.io");

    assertThat(endpoints.stream().map(HostsDirectoryTest::root))
        .containsExactly("https://mirror.example/v2/", "https://registry-1.docker.io/v2/")
        .inOrder();
    assertThat(endpoints.get(0).uploadsUrl("library/busybox").toString())
        .isEqualTo("https://mirror.example/v2/library/busybox/blobs/uploads/?ns=docker.io");
  }

  @Test
  void endpointsFor_namespaceOrder() throws IOException {
    writeHosts("reg.example_5000_", "server = \"https://underscore.example\"\n");
    writeHosts("reg.example:5000", "server = \"https://colon.example\"\n");
    writeHosts("_default", "server = \"https://default.example\"\n");
    HostsDirectory hosts = new HostsDirectory(directory, false);

    assertThat(root(hosts.endpointsFor("reg.example:5000").get(0)))
        .isEqualTo("https://underscore.example/v2/");
    assertThat(root(hosts.endpointsFor("other.example").get(0)))
        .isEqualTo("https://default.example/v2/");
  }

  @Test
  void endpointsFor_changedFile() throws IOException {
    Path file = writeHosts("reg.example", "server = \"https://first.example\"\n");
    HostsDirectory hosts = new HostsDirectory(directory, false);
    assertThat(root(hosts.endpointsFor("reg.example").get(0)))
        .isEqualTo("https://first.example/v2/");

    Files.writeString(file, "server = \"https://second.example\"\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));

    assertThat(root(hosts.endpointsFor("reg.example").get(0)))
        .isEqualTo("https://second.example/v2/");
  }

  @Test
  void endpointsFor_invalidToml() throws IOException {
    HostsConfigException e =
        readInvalid("server = \"https://ok.example\"\n[host.\"x\"\ncapabilities = 1\n");

    assertThat(e.file()).isEqualTo(regExampleHosts());
    assertThat(e)
        .hasMessageThat()
        .startsWith("invalid hosts file " + regExampleHosts() + ": invalid TOML: line 2");
  }

  @Test
  void endpointsFor_serverWithBrokenScheme_isInvalid() throws IOException {
    HostsConfigException e = readInvalid("server = \"htp:/127.0.0.1:19100\"\n");

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid hosts file "
                + regExampleHosts()
                + ": server: invalid URL \"htp:/127.0.0.1:19100\", expected"
                + " http(s)://host[:port][/path]");
  }

  @Test
  void endpointsFor_hostsWithoutScheme_areAccepted() throws IOException {
    writeHosts(
        "reg.example",
        "server = \"ok.example:5000\"\n[host.\"[::1]:5001\"]\n[host.\"m.example/cache\"]\n");
    HostsDirectory hosts = new HostsDirectory(directory, false);

    List<RegistryEndpoint> endpoints = hosts.endpointsFor("reg.example");

    assertThat(root(endpoints.get(0))).isEqualTo("http://[::1]:5001/v2/");
    assertThat(root(endpoints.get(1))).isEqualTo("https://m.example/cache/v2/");
    assertThat(root(endpoints.get(2))).isEqualTo("https://ok.example:5000/v2/");
  }

  @Test
  void endpointsFor_unknownKeys_areWarnedAbout() throws IOException {
    Path file =
        writeHosts(
            "reg.example",
            "server = \"https://ok.example\"\nskip_verfy = true\n"
                + "[host.\"https://m.example\"]\n  capabilites = [\"pull\"]\n  ca = \"ca.pem\"\n");
    HostsDirectory hosts = new HostsDirectory(directory, false);
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(HostsFile.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      hosts.endpointsFor("reg.example");
    } finally {
      logger.detachAppender(appender);
    }

    assertThat(appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList())
        .containsExactly(
            "ignoring unknown key file=" + file + " key=host.\"https://m.example\".capabilites",
            "ignoring unknown key file=" + file + " key=skip_verfy");
  }

  @Test
  void endpointsFor_invalidHeaderValue_notQuoted() throws IOException {
    HostsConfigException e =
        readInvalid(
            "[host.\"https://m.example\".header]\n"
                + "  authorization = [\"Bearer tok-Qz81\", 7]\n");

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid hosts file "
                + regExampleHosts()
                + ": host.\"https://m.example\".header.authorization: expected a string or an"
                + " array of strings, found another type (value not shown)");
    assertThat(e).hasMessageThat().doesNotContain("tok-Qz81");
  }

  @Test
  void endpointsFor_unknownCapability() throws IOException {
    HostsConfigException e =
        readInvalid("[host.\"https://m.example\"]\n  capabilities = [\"pul\"]\n");

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid hosts file "
                + regExampleHosts()
                + ": host.\"https://m.example\".capabilities: unknown"
                + " capability \"pul\", expected pull, resolve or push");
  }

  @Test
  void endpointsFor_wrongType() throws IOException {
    HostsConfigException e = readInvalid("skip_verify = \"yes\"\n");

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid hosts file "
                + regExampleHosts()
                + ": server.skip_verify: expected true or false, found"
                + " \"yes\"");
  }

  @Test
  void endpointsFor_noCapabilityLeft() throws IOException {
    writeHosts("reg.example", "server = \"https://r.example\"\ncapabilities = [\"pull\"]\n");
    HostsDirectory hosts = new HostsDirectory(directory, false);

    RegistryException e =
        assertThrows(
            RegistryException.class, () -> hosts.endpointsFor("reg.example", Capability.PUSH));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "no host of registry reg.example has the push capability; check the capabilities in"
                + " its hosts.toml");
  }

  @Test
  void endpointsFor_certificateDirectory() throws IOException {
    Path namespace = Files.createDirectories(directory.resolve("reg.example"));
    Files.writeString(namespace.resolve("ca.crt"), "");
    Files.writeString(namespace.resolve("client.cert"), "");
    Files.writeString(namespace.resolve("client.key"), "");
    Files.writeString(namespace.resolve("lonely.cert"), "");

    RegistryEndpoint endpoint =
        new HostsDirectory(directory, false).endpointsFor("reg.example").get(0);

    assertThat(root(endpoint)).isEqualTo("https://reg.example/v2/");
    assertThat(endpoint.connection().caFiles()).containsExactly(namespace.resolve("ca.crt"));
    assertThat(endpoint.connection().clientCertificates())
        .containsExactly(
            new ConnectionSetup.ClientCertificate(
                namespace.resolve("client.cert"), namespace.resolve("client.key")));
  }

  @Test
  void parseGoDuration_acceptsGoSyntax() {
    assertThat(HostsFile.parseGoDuration("1h2m3s")).isEqualTo(Duration.ofSeconds(3723));
    assertThat(HostsFile.parseGoDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(HostsFile.parseGoDuration("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(HostsFile.parseGoDuration("0")).isEqualTo(Duration.ZERO);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> HostsFile.parseGoDuration("10"));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("invalid duration \"10\": expected numbers with units such as 500ms or 1m30s");
  }
}
