package dev.jsoci.snapshotter.metadata;

import dev.jsoci.snapshotter.errdefs.AlreadyExistsException;
import dev.jsoci.snapshotter.errdefs.FailedPreconditionException;
import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.errdefs.NotFoundException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The operations on snapshot records inside one {@link MetadataStore} transaction. The rules (which
 * names may exist, which kinds may become what, which errors result) are those of containerd's
 * snapshot metadata store. Labels whose value is empty are never stored.
 *
 * <p>Valid only inside the {@link MetadataStore.Work} it was passed to.
 */
public final class Transaction {
  /** containerd's limit on the length of a label's key plus its value, in bytes. */
  static final int MAX_LABEL_BYTES = 4096;

  private final Connection connection;

  Transaction(Connection connection) {
    this.connection = connection;
  }

  /** Returns the snapshot named {@code name}, if any. */
  public Optional<SnapshotRecord> find(String name) throws MetadataException {
    try (PreparedStatement query =
        connection.prepareStatement(
            "SELECT s.id, s.kind, p.name, s.created_at_nanos, s.updated_at_nanos, s.size_bytes,"
                + " s.inodes FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id"
                + " WHERE s.name = ?")) {
      query.setString(1, name);
      try (ResultSet row = query.executeQuery()) {
        if (!row.next()) {
          return Optional.empty();
        }
        long id = row.getLong(1);
        String parent = row.getString(3);
        SnapshotInfo info =
            new SnapshotInfo(
                name,
                parent == null ? "" : parent,
                Kind.fromNumber(row.getInt(2)),
                fromNanos(row.getLong(4)),
                fromNanos(row.getLong(5)),
                labels(id));
        Usage usage = new Usage(row.getLong(6), row.getLong(7));
        return Optional.of(new SnapshotRecord(id, info, usage, parentIds(id)));
      }
    } catch (SQLException e) {
      throw failure("read snapshot " + name, e);
    }
  }

  /** Returns the snapshot with the numeric id {@code id}, if any. */
  public Optional<SnapshotRecord> findById(long id) throws MetadataException {
    String name;
    try (PreparedStatement query =
        connection.prepareStatement("SELECT name FROM snapshots WHERE id = ?")) {
      query.setLong(1, id);
      try (ResultSet row = query.executeQuery()) {
        if (!row.next()) {
          return Optional.empty();
        }
        name = row.getString(1);
      }
    } catch (SQLException e) {
      throw failure("read snapshot id " + id, e);
    }
    return find(name);
  }

  /**
   * Returns the snapshot named {@code name}.
   *
   * @throws NotFoundException if there is none
   */
  public SnapshotRecord get(String name) throws NotFoundException, MetadataException {
    return find(name).orElseThrow(() -> new NotFoundException("snapshot " + name));
  }

  /**
   * Creates an active or view snapshot record; the caller creates its directory.
   *
   * @param parent name of a committed snapshot, or empty
   * @throws AlreadyExistsException if a snapshot named {@code key} exists
   * @throws NotFoundException if {@code parent} does not exist
   * @throws InvalidArgumentException if {@code parent} is not committed, {@code kind} is {@link
   *     Kind#COMMITTED} or a label is too long
   */
  public SnapshotRecord create(
      Kind kind, String key, String parent, Map<String, String> labels, Instant now)
      throws AlreadyExistsException,
          NotFoundException,
          InvalidArgumentException,
          MetadataException {
    if (kind == Kind.COMMITTED) {
      throw new InvalidArgumentException(
          "snapshot type committed invalid; only active and view snapshots can be created");
    }
    if (key.isEmpty()) {
      throw new InvalidArgumentException("snapshot key must not be empty");
    }
    checkLabels(labels);
    Long parentId = null;
    if (!parent.isEmpty()) {
      SnapshotRecord parentRecord =
          find(parent)
              .orElseThrow(() -> new NotFoundException("parent snapshot \"" + parent + "\""));
      if (parentRecord.info().kind() != Kind.COMMITTED) {
        throw new InvalidArgumentException("parent \"" + parent + "\" is not committed snapshot");
      }
      parentId = parentRecord.id();
    }
    if (find(key).isPresent()) {
      throw new AlreadyExistsException("snapshot " + key);
    }

    long id;
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO snapshots (name, kind, parent_id, created_at_nanos, updated_at_nanos)"
                + " VALUES (?, ?, ?, ?, ?)",
            PreparedStatement.RETURN_GENERATED_KEYS)) {
      insert.setString(1, key);
      insert.setInt(2, kind.number());
      if (parentId == null) {
        insert.setNull(3, java.sql.Types.INTEGER);
      } else {
        insert.setLong(3, parentId);
      }
      insert.setLong(4, toNanos(now));
      insert.setLong(5, toNanos(now));
      insert.executeUpdate();
      try (ResultSet keys = insert.getGeneratedKeys()) {
        keys.next();
        id = keys.getLong(1);
      }
    } catch (SQLException e) {
      throw failure("create snapshot " + key, e);
    }
    replaceLabels(id, labels);
    return get(key);
  }

  /**
   * Turns the active snapshot {@code key} into the committed snapshot {@code name}, with the same
   * id, the given usage and {@code labels} in place of its old ones; created and updated times
   * become {@code now}.
   *
   * @throws AlreadyExistsException if a snapshot named {@code name} exists
   * @throws NotFoundException if {@code key} does not exist
   * @throws FailedPreconditionException if {@code key} is not active
   */
  public SnapshotRecord commitActive(
      String key, String name, Usage usage, Map<String, String> labels, Instant now)
      throws AlreadyExistsException,
          NotFoundException,
          FailedPreconditionException,
          InvalidArgumentException,
          MetadataException {
    checkLabels(labels);
    if (find(name).isPresent()) {
      throw new AlreadyExistsException("committed snapshot " + name);
    }
    SnapshotRecord active =
        find(key).orElseThrow(() -> new NotFoundException("active snapshot \"" + key + "\""));
    if (active.info().kind() != Kind.ACTIVE) {
      throw new FailedPreconditionException("snapshot \"" + key + "\" is not active");
    }

    try (PreparedStatement update =
        connection.prepareStatement(
            "UPDATE snapshots SET name = ?, kind = ?, created_at_nanos = ?, updated_at_nanos = ?,"
                + " size_bytes = ?, inodes = ? WHERE id = ?")) {
      update.setString(1, name);
      update.setInt(2, Kind.COMMITTED.number());
      update.setLong(3, toNanos(now));
      update.setLong(4, toNanos(now));
      update.setLong(5, usage.sizeBytes());
      update.setLong(6, usage.inodes());
      update.setLong(7, active.id());
      update.executeUpdate();
    } catch (SQLException e) {
      throw failure("commit snapshot " + key + " as " + name, e);
    }
    replaceLabels(active.id(), labels);
    return get(name);
  }

  /**
   * Sets the stored disk usage of the snapshot {@code name}.
   *
   * @throws NotFoundException if the snapshot does not exist
   */
  public void setUsage(String name, Usage usage) throws NotFoundException, MetadataException {
    SnapshotRecord record = get(name);
    try (PreparedStatement update =
        connection.prepareStatement(
            "UPDATE snapshots SET size_bytes = ?, inodes = ? WHERE id = ?")) {
      update.setLong(1, usage.sizeBytes());
      update.setLong(2, usage.inodes());
      update.setLong(3, record.id());
      update.executeUpdate();
    } catch (SQLException e) {
      throw failure("set the usage of snapshot " + name, e);
    }
  }

  /**
   * Sets the parent of a snapshot that has none; used when a commit names the parent.
   *
   * @throws NotFoundException if {@code parent} does not exist
   * @throws FailedPreconditionException if {@code parent} is not committed
   */
  public void adoptParent(SnapshotRecord snapshot, String parent)
      throws NotFoundException, FailedPreconditionException, MetadataException {
    SnapshotRecord parentRecord =
        find(parent).orElseThrow(() -> new NotFoundException("parent snapshot \"" + parent + "\""));
    if (parentRecord.info().kind() != Kind.COMMITTED) {
      throw new FailedPreconditionException("parent \"" + parent + "\" is not committed");
    }
    try (PreparedStatement update =
        connection.prepareStatement("UPDATE snapshots SET parent_id = ? WHERE id = ?")) {
      update.setLong(1, parentRecord.id());
      update.setLong(2, snapshot.id());
      update.executeUpdate();
    } catch (SQLException e) {
      throw failure("set parent of snapshot " + snapshot.info().name(), e);
    }
  }

  /**
   * Deletes the record of {@code key}; the caller removes its directory after the commit.
   *
   * @return the deleted record
   * @throws NotFoundException if {@code key} does not exist
   * @throws FailedPreconditionException if another snapshot has {@code key} as its parent
   */
  public SnapshotRecord remove(String key)
      throws NotFoundException, FailedPreconditionException, MetadataException {
    SnapshotRecord record = get(key);
    try (PreparedStatement children =
        connection.prepareStatement("SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1")) {
      children.setLong(1, record.id());
      try (ResultSet row = children.executeQuery()) {
        if (row.next()) {
          throw new FailedPreconditionException("cannot remove snapshot with child");
        }
      }
    } catch (SQLException e) {
      throw failure("look up children of snapshot " + key, e);
    }
    try (PreparedStatement delete =
        connection.prepareStatement("DELETE FROM snapshots WHERE id = ?")) {
      delete.setLong(1, record.id());
      delete.executeUpdate();
    } catch (SQLException e) {
      throw failure("remove snapshot " + key, e);
    }
    return record;
  }

  /**
   * Updates the labels of the snapshot {@code info.name()} and sets its updated time to {@code
   * now}. Name, parent, kind and created time never change.
   *
   * @param fieldPaths {@code labels} replaces all labels with {@code info.labels()}; {@code
   *     labels.<key>} sets one label from {@code info.labels()}, deleting it when absent there; an
   *     empty list replaces all labels
   * @throws NotFoundException if the snapshot does not exist
   * @throws InvalidArgumentException if a path is neither of those, or a label is too long
   */
  public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths, Instant now)
      throws NotFoundException, InvalidArgumentException, MetadataException {
    SnapshotRecord record = get(info.name());
    Map<String, String> labels = new TreeMap<>(record.info().labels());
    if (fieldPaths.isEmpty()) {
      labels = new TreeMap<>(info.labels());
    }
    for (String path : fieldPaths) {
      if (path.startsWith("labels.")) {
        String key = path.substring("labels.".length());
        String value = info.labels().get(key);
        if (value == null) {
          labels.remove(key);
        } else {
          labels.put(key, value);
        }
      } else if (path.equals("labels")) {
        labels = new TreeMap<>(info.labels());
      } else {
        throw new InvalidArgumentException(
            "cannot update \"" + path + "\" field on snapshot \"" + info.name() + "\"");
      }
    }
    checkLabels(labels);

    try (PreparedStatement update =
        connection.prepareStatement("UPDATE snapshots SET updated_at_nanos = ? WHERE id = ?")) {
      update.setLong(1, toNanos(now));
      update.setLong(2, record.id());
      update.executeUpdate();
    } catch (SQLException e) {
      throw failure("update snapshot " + info.name(), e);
    }
    replaceLabels(record.id(), labels);
    return get(info.name()).info();
  }

  /** Returns every snapshot that matches {@code filter}, in id order. */
  public List<SnapshotInfo> list(SnapshotFilter filter) throws MetadataException {
    List<SnapshotInfo> result = new ArrayList<>();
    for (SnapshotRecord record : records()) {
      if (filter.matches(record.info())) {
        result.add(record.info());
      }
    }
    return result;
  }

  /** Returns every snapshot record, in id order. */
  public List<SnapshotRecord> records() throws MetadataException {
    Map<Long, Map<String, String>> labels = new HashMap<>();
    Map<Long, Long> parents = new HashMap<>();
    List<Object[]> rows = new ArrayList<>();
    try (PreparedStatement query =
            connection.prepareStatement(
                "SELECT s.id, s.name, s.kind, p.name, s.created_at_nanos, s.updated_at_nanos,"
                    + " s.size_bytes, s.inodes, s.parent_id FROM snapshots s"
                    + " LEFT JOIN snapshots p ON p.id = s.parent_id ORDER BY s.id");
        ResultSet row = query.executeQuery()) {
      while (row.next()) {
        long id = row.getLong(1);
        long parentId = row.getLong(9);
        if (!row.wasNull()) {
          parents.put(id, parentId);
        }
        rows.add(
            new Object[] {
              id,
              row.getString(2),
              row.getInt(3),
              row.getString(4),
              row.getLong(5),
              row.getLong(6),
              row.getLong(7),
              row.getLong(8)
            });
      }
    } catch (SQLException e) {
      throw failure("list snapshots", e);
    }
    try (PreparedStatement query =
            connection.prepareStatement("SELECT snapshot_id, key, value FROM labels");
        ResultSet row = query.executeQuery()) {
      while (row.next()) {
        labels
            .computeIfAbsent(row.getLong(1), id -> new HashMap<>())
            .put(row.getString(2), row.getString(3));
      }
    } catch (SQLException e) {
      throw failure("list snapshot labels", e);
    }

    List<SnapshotRecord> records = new ArrayList<>(rows.size());
    for (Object[] row : rows) {
      long id = (Long) row[0];
      String parent = (String) row[3];
      SnapshotInfo info =
          new SnapshotInfo(
              (String) row[1],
              parent == null ? "" : parent,
              Kind.fromNumber((Integer) row[2]),
              fromNanos((Long) row[4]),
              fromNanos((Long) row[5]),
              labels.getOrDefault(id, Map.of()));
      List<Long> parentIds = new ArrayList<>();
      for (Long next = parents.get(id); next != null; next = parents.get(next)) {
        parentIds.add(next);
      }
      records.add(new SnapshotRecord(id, info, new Usage((Long) row[6], (Long) row[7]), parentIds));
    }
    return records;
  }

  /** Returns the ids of all snapshots. */
  public Set<Long> ids() throws MetadataException {
    Set<Long> ids = new LinkedHashSet<>();
    try (PreparedStatement query = connection.prepareStatement("SELECT id FROM snapshots");
        ResultSet row = query.executeQuery()) {
      while (row.next()) {
        ids.add(row.getLong(1));
      }
    } catch (SQLException e) {
      throw failure("list snapshot ids", e);
    }
    return ids;
  }

  private List<Long> parentIds(long id) throws SQLException {
    List<Long> ids = new ArrayList<>();
    try (PreparedStatement query =
        connection.prepareStatement("SELECT parent_id FROM snapshots WHERE id = ?")) {
      long current = id;
      while (true) {
        query.setLong(1, current);
        try (ResultSet row = query.executeQuery()) {
          if (!row.next()) {
            return ids;
          }
          long parent = row.getLong(1);
          if (row.wasNull()) {
            return ids;
          }
          ids.add(parent);
          current = parent;
        }
      }
    }
  }

  private Map<String, String> labels(long id) throws SQLException {
    Map<String, String> labels = new HashMap<>();
    try (PreparedStatement query =
        connection.prepareStatement("SELECT key, value FROM labels WHERE snapshot_id = ?")) {
      query.setLong(1, id);
      try (ResultSet row = query.executeQuery()) {
        while (row.next()) {
          labels.put(row.getString(1), row.getString(2));
        }
      }
    }
    return labels;
  }

  private void replaceLabels(long id, Map<String, String> labels) throws MetadataException {
    try (PreparedStatement delete =
            connection.prepareStatement("DELETE FROM labels WHERE snapshot_id = ?");
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO labels (snapshot_id, key, value) VALUES (?, ?, ?)")) {
      delete.setLong(1, id);
      delete.executeUpdate();
      for (Map.Entry<String, String> label : labels.entrySet()) {
        if (label.getValue().isEmpty()) {
          continue;
        }
        insert.setLong(1, id);
        insert.setString(2, label.getKey());
        insert.setString(3, label.getValue());
        insert.executeUpdate();
      }
    } catch (SQLException e) {
      throw failure("write labels of snapshot id " + id, e);
    }
  }

  private static void checkLabels(Map<String, String> labels) throws InvalidArgumentException {
    for (Map.Entry<String, String> label : labels.entrySet()) {
      int length =
          label.getKey().getBytes(StandardCharsets.UTF_8).length
              + label.getValue().getBytes(StandardCharsets.UTF_8).length;
      if (length > MAX_LABEL_BYTES) {
        throw new InvalidArgumentException(
            "label key and value length ("
                + length
                + " bytes) greater than maximum size ("
                + MAX_LABEL_BYTES
                + " bytes) for label "
                + label.getKey());
      }
      if (label.getKey().isEmpty()) {
        throw new InvalidArgumentException("label key must not be empty");
      }
    }
  }

  private static long toNanos(Instant instant) {
    return ChronoUnit.NANOS.between(Instant.EPOCH, instant);
  }

  private static Instant fromNanos(long nanos) {
    return Instant.EPOCH.plusNanos(nanos);
  }

  private static MetadataException failure(String operation, SQLException e) {
    return new MetadataException("cannot " + operation + " in the snapshot database", e);
  }
}
