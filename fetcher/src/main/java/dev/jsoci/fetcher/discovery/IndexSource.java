package dev.jsoci.fetcher.discovery;

/** The origin of a SOCI index digest. */
public enum IndexSource {
  /** The caller gave it, from the snapshot label {@code soci.index.digest}. */
  LABEL,
  /** The image manifest's {@code com.amazon.soci.index-digest} annotation (index v2). */
  V2_ANNOTATION,
  /** The registry's OCI referrers API (index v1). */
  V1_REFERRERS,
  /** The {@code sha256-<hex>} tag that lists referrers where there is no referrers API (v1). */
  V1_TAG_SCHEMA
}
