package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OCI referrers API against a MockWebServer: Debian's docker-registry has no referrers API, so
 * only the fake can serve one.
 */
class ReferrersTest {
  private static final Digest SUBJECT = Digest.sha256Of("image".getBytes(StandardCharsets.UTF_8));
  private static final String SOCI = MediaType.SOCI_INDEX_V1;

  private MockRegistry registry;
  private RegistryClient client;

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start();
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .maxRetries(0)
                .build());
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
  }

  private static Descriptor referrer(String name, String artifactType) {
    return Descriptor.builder(
            MediaType.OCI_MANIFEST, Digest.sha256Of(name.getBytes(StandardCharsets.UTF_8)), 100)
        .artifactType(artifactType)
        .build();
  }

  private static String indexOf(Descriptor... referrers) {
    return new String(
        new ImageIndex(MediaType.OCI_INDEX, "", List.of(referrers), null, Map.of()).toBytes(),
        StandardCharsets.UTF_8);
  }

  @Test
  void fetchReferrers_filteredByRegistry_returnsTheList() throws IOException {
    Descriptor soci = referrer("soci", SOCI);
    registry.handle(
        request ->
            response(
                200,
                indexOf(soci),
                "Content-Type",
                MediaType.OCI_INDEX,
                "OCI-Filters-Applied",
                "artifactType"));

    Optional<ImageIndex> referrers = client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI);

    assertThat(referrers.orElseThrow().manifests()).containsExactly(soci);
    assertThat(registry.requestLines())
        .containsExactly(
            "GET /v2/app/referrers/"
                + SUBJECT
                + "?artifactType=application%2Fvnd.amazon.soci.index.v1%2Bjson");
    assertThat(registry.requests().get(0).getHeaders().get("Accept"))
        .isEqualTo(MediaType.OCI_INDEX);
  }

  @Test
  void fetchReferrers_filterNotApplied_filtersHere() throws IOException {
    Descriptor soci = referrer("soci", SOCI);
    Descriptor signature = referrer("signature", "application/vnd.example.signature");
    registry.handle(request -> response(200, indexOf(signature, soci)));

    Optional<ImageIndex> referrers = client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI);

    assertThat(referrers.orElseThrow().manifests()).containsExactly(soci);
  }

  @Test
  void fetchReferrers_nextLink_isFollowed() throws IOException {
    Descriptor first = referrer("first", SOCI);
    Descriptor second = referrer("second", SOCI);
    registry.handle(
        request ->
            request.getTarget().contains("last=")
                ? response(200, indexOf(second), "OCI-Filters-Applied", "artifactType")
                : response(
                    200,
                    indexOf(first),
                    "OCI-Filters-Applied",
                    "artifactType",
                    "Link",
                    "</v2/app/referrers/" + SUBJECT + "?last=x>; rel=\"next\""));

    Optional<ImageIndex> referrers = client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI);

    assertThat(referrers.orElseThrow().manifests()).containsExactly(first, second).inOrder();
    assertThat(registry.requests()).hasSize(2);
  }

  @Test
  void fetchReferrers_otherHostLink_isIgnored() throws IOException {
    Descriptor first = referrer("first", SOCI);
    registry.handle(
        request ->
            response(
                200,
                indexOf(first),
                "OCI-Filters-Applied",
                "artifactType",
                "Link",
                "<http://127.0.0.2:9/v2/app/referrers/" + SUBJECT + "?last=x>; rel=\"next\""));

    Optional<ImageIndex> referrers = client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI);

    assertThat(referrers.orElseThrow().manifests()).containsExactly(first);
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void fetchReferrers_notFound_meansNoReferrersApi() throws IOException {
    registry.handle(request -> response(404, "{\"errors\":[{\"code\":\"NOT_FOUND\"}]}"));

    assertThat(client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI)).isEmpty();
  }

  @Test
  void fetchReferrers_notAnIndex_namesTheSubject() {
    registry.handle(request -> response(200, "[1,2]"));

    OciFormatException e =
        assertThrows(
            OciFormatException.class,
            () -> client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI));

    assertThat(e).hasMessageThat().contains("referrers of " + SUBJECT);
  }

  @Test
  void fetchReferrers_serverError_isReported() {
    registry.handle(request -> response(500, "broken"));

    IOException e =
        assertThrows(
            IOException.class, () -> client.fetchReferrers(registry.ref("app:1"), SUBJECT, SOCI));

    assertThat(e).hasMessageThat().contains("cannot read referrers of " + SUBJECT);
  }
}
