using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Junction.Identity;
using Junction.Observability;
using Junction.State;

namespace Junction.Storage;

// The project stage's tables: people, identifiers, person_events, identity log, overrides, state
// changes and timers. All of it is derived from the log (plus overrides and detaches) and is
// written by one projector at a time.
public abstract partial class RelationalStore
{
    public const string ProjectCursor = "project";
    public const string OverrideCursor = "project_overrides";

    /// <summary>
    /// Canonical events after a seq, in log order, leaving out those in project_poison (and those of
    /// forgotten people, in erased_events, for the same reason): the
    /// incremental projector is past them already, and a rebuild skips exactly the events the
    /// projector skipped, so both reach the same state.
    /// </summary>
    public async Task<IReadOnlyList<ProjectRow>> ReadProjectRowsAsync(long afterSeq, int limit, CancellationToken cancellationToken, bool withTrace = true)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var notPoisoned = $"NOT EXISTS (SELECT 1 FROM {Tables.ProjectPoison} x WHERE x.canonical_seq = c.seq) "
            + $"AND NOT EXISTS (SELECT 1 FROM {Tables.ErasedEvents} z WHERE z.canonical_seq = c.seq)";
        cmd.CommandText = withTrace
            ? $"SELECT c.seq, {JsonColumn("c.body")}, r.trace_id FROM {Tables.CanonicalEvents} c LEFT JOIN {Tables.RawEvents} r ON r.id = c.raw_id WHERE c.seq > @after AND {notPoisoned} ORDER BY c.seq LIMIT @limit"
            : $"SELECT c.seq, {JsonColumn("c.body")}, NULL FROM {Tables.CanonicalEvents} c WHERE c.seq > @after AND {notPoisoned} ORDER BY c.seq LIMIT @limit";
        AddParameter(cmd, "after", afterSeq);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new ProjectRow(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken);
    }

    public async Task<long> MaxCanonicalSeqAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COALESCE(MAX(seq), 0) FROM {Tables.CanonicalEvents}";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IdentitySnapshot> LoadIdentityAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        List<StoredPerson> people;
        List<(string, string)> merged;
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = $"SELECT person_id, first_seen_at, primary_email, purchase_email, merged_into FROM {Tables.People}";
            var rows = await ReadAllAsync(cmd, r => (Person: new StoredPerson(r.GetString(0), ParseTime(r.GetString(1)), NullableString(r, 2), NullableString(r, 3), null, null),
                MergedInto: NullableString(r, 4)), cancellationToken);
            people = [.. rows.Where(x => x.MergedInto is null).Select(x => x.Person)];
            merged = [.. rows.Where(x => x.MergedInto is not null).Select(x => (x.Person.PersonId, x.MergedInto!))];
        }
        await using var ids = connection.CreateCommand();
        ids.CommandText = $"SELECT person_id, type, scope, value, raw, source, attached_at, event_id FROM {Tables.PersonIdentifiers}";
        var identifiers = await ReadAllAsync(ids, r => (r.GetString(0), new IdentifierEntry(
            Key(r.GetString(1), r.GetString(2), r.GetString(3)), r.GetString(4), r.GetString(5), ParseTime(r.GetString(6)), NullableString(r, 7))), cancellationToken);
        return new IdentitySnapshot(people, identifiers, merged);
    }

    /// <summary>The surviving person for an id (following merges), with its stored state; null when unknown.</summary>
    public async Task<StoredPerson?> GetPersonAsync(string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var id = personId;
        for (var hop = 0; hop < 64; hop++)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT person_id, first_seen_at, primary_email, purchase_email, state, digest, merged_into FROM {Tables.People} WHERE person_id = @id";
            AddParameter(cmd, "id", id);
            var row = (await ReadAllAsync(cmd, r => (Person: new StoredPerson(r.GetString(0), ParseTime(r.GetString(1)), NullableString(r, 2), NullableString(r, 3),
                NullableString(r, 4), NullableString(r, 5)), MergedInto: NullableString(r, 6)), cancellationToken)).FirstOrDefault();
            if (row.Person is null) return null;
            if (row.MergedInto is null) return row.Person;
            id = row.MergedInto;
        }
        return null;
    }

    public async Task<IReadOnlyList<(string Type, string Scope, string Value, string Raw, string Source)>> GetIdentifiersAsync(string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT type, scope, value, raw, source FROM {Tables.PersonIdentifiers} WHERE person_id = @p";
        AddParameter(cmd, "p", personId);
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)), cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetMergedIdsAsync(string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT person_id FROM {Tables.People} WHERE merged_into = @p ORDER BY person_id";
        AddParameter(cmd, "p", personId);
        return await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken);
    }

    /// <summary>People holding an identifier: exact when the key has a scope; any scope otherwise (an order id given without its source).</summary>
    public async Task<IReadOnlyList<string>> FindPeopleAsync(IdentifierKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT DISTINCT person_id FROM {Tables.PersonIdentifiers} WHERE type = @type AND value = @value"
            + (key.Scope is null ? "" : " AND scope = @scope") + " ORDER BY person_id";
        AddParameter(cmd, "type", key.TypeName);
        AddParameter(cmd, "value", key.Value);
        if (key.Scope is not null) AddParameter(cmd, "scope", key.Scope);
        return await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken);
    }

    /// <summary>The canonical events folded into a person (JSON), in log order.</summary>
    public async Task<IReadOnlyList<string>> LoadPersonEventsAsync(string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT {JsonColumn("c.body")} FROM {Tables.PersonEvents} pe JOIN {Tables.CanonicalEvents} c ON c.id = pe.event_id "
            + "WHERE pe.person_id = @p ORDER BY pe.canonical_seq";
        AddParameter(cmd, "p", personId);
        return await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken);
    }

    public async Task<IReadOnlyList<StoredOverride>> LoadOverridesAsync(string? personId, long afterSeq, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT seq, id, person_id, product, action, reason, at FROM {Tables.PersonOverrides} WHERE seq > @after"
            + (personId is null ? "" : " AND person_id = @p") + " ORDER BY seq";
        AddParameter(cmd, "after", afterSeq);
        if (personId is not null) AddParameter(cmd, "p", personId);
        return await ReadAllAsync(cmd, r => new StoredOverride(r.GetInt64(0), r.GetString(2), new OperatorOverride
        {
            Id = r.GetString(1), Product = r.GetString(3), Action = r.GetString(4), Reason = NullableString(r, 5), At = ParseTime(r.GetString(6)),
        }), cancellationToken);
    }

    /// <summary>Stores an override for the projector to apply; returns its seq.</summary>
    public async Task<long> AddOverrideAsync(string personId, OperatorOverride o, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.PersonOverrides} (id, person_id, product, action, reason, at) VALUES (@id, @p, @product, @action, @reason, @at) RETURNING seq";
        AddParameter(cmd, "id", o.Id);
        AddParameter(cmd, "p", personId);
        AddParameter(cmd, "product", o.Product);
        AddParameter(cmd, "action", o.Action);
        AddParameter(cmd, "reason", (object?)o.Reason ?? DBNull.Value);
        AddParameter(cmd, "at", Iso.Utc(o.At));
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Unfired timers due at or before <paramref name="nowMs"/>.</summary>
    public async Task<IReadOnlyList<TimerRow>> DueTimersAsync(long nowMs, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT key, person_id, kind, name, due_at FROM {Tables.Timers} WHERE fired_at IS NULL AND due_ms <= @now ORDER BY due_ms LIMIT @limit";
        AddParameter(cmd, "now", nowMs);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new TimerRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), ParseTime(r.GetString(4)), null), cancellationToken);
    }

    public async Task<long?> NextTimerDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT MIN(due_ms) FROM {Tables.Timers} WHERE fired_at IS NULL";
        var value = await cmd.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>(person id, digest) of every surviving person, for the state digest.</summary>
    public async Task<IReadOnlyList<(string PersonId, string Digest)>> ListDigestsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT person_id, digest FROM {Tables.People} WHERE merged_into IS NULL AND digest IS NOT NULL";
        return await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1)), cancellationToken);
    }

    /// <summary>Poisoned canonical events (status poison or retry), in log order.</summary>
    public async Task<IReadOnlyList<PoisonRow>> ListPoisonAsync(long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT canonical_seq, event_id, status, reason, attempts, first_at, last_at FROM {Tables.ProjectPoison} "
            + "WHERE canonical_seq > @after ORDER BY canonical_seq LIMIT @limit";
        AddParameter(cmd, "after", afterSeq);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new PoisonRow(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6))), cancellationToken);
    }

    /// <summary>Asks the projector to try poisoned events again (the given seqs, or all). Returns how many.</summary>
    public async Task<int> RetryPoisonAsync(IReadOnlyList<long>? seqs, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.ProjectPoison} SET status = @retry WHERE status = @poison" + (seqs is null ? "" : " AND canonical_seq = @seq");
        AddParameter(cmd, "retry", PoisonStatus.Retry);
        AddParameter(cmd, "poison", PoisonStatus.Poison);
        if (seqs is null) return await cmd.ExecuteNonQueryAsync(cancellationToken);
        var seq = AddParameter(cmd, "seq", 0L);
        var total = 0;
        foreach (var s in seqs)
        {
            seq.Value = s;
            total += await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return total;
    }

    /// <summary>Poisoned events an operator asked to retry, with their JSON, in log order.</summary>
    public async Task<IReadOnlyList<ProjectRow>> ReadPoisonRetriesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT c.seq, {JsonColumn("c.body")}, r.trace_id FROM {Tables.ProjectPoison} x JOIN {Tables.CanonicalEvents} c ON c.seq = x.canonical_seq "
            + $"LEFT JOIN {Tables.RawEvents} r ON r.id = c.raw_id WHERE x.status = @retry ORDER BY c.seq LIMIT @limit";
        AddParameter(cmd, "retry", PoisonStatus.Retry);
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new ProjectRow(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), cancellationToken);
    }

    /// <summary>
    /// Commits one projection step with its cursors in one transaction. With a lease the commit is
    /// fenced (<see cref="LeadershipLostException"/> and a rollback when another node took the role).
    /// </summary>
    public async Task CommitProjectionAsync(ProjectionCommit commit, CancellationToken cancellationToken, Leadership? lease = null)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var now = Iso.Utc(Time.GetUtcNow());
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await FenceAsync(connection, tx, lease, cancellationToken);
        var writes = new RowWrites(connection, tx);

        foreach (var (eventId, personId, seq) in commit.PersonEvents)
        {
            writes.Add($"INSERT INTO {Tables.PersonEvents} (event_id, person_id, canonical_seq) VALUES (@e, @p, @s) ON CONFLICT (event_id) DO UPDATE SET person_id = excluded.person_id",
                ["e", "p", "s"], eventId, personId, seq);
        }
        foreach (var m in commit.Merges) AddMerge(writes, m, now);
        foreach (var p in commit.People) AddPerson(writes, p, now, replaceIdentifiers: true);
        foreach (var (entry, seq) in commit.Log) AddLog(writes, entry, seq);
        foreach (var c in commit.Conflicts) AddConflict(writes, c);
        foreach (var change in commit.Changes) AddChange(writes, change);
        foreach (var (personId, timers) in commit.Timers) AddTimers(writes, personId, timers, now);
        if (commit.Cursor is { } cursor) AddCursor(writes, ProjectCursor, cursor);
        if (commit.OverrideCursor is { } overrides) AddCursor(writes, OverrideCursor, overrides);
        var nowMs = Time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var p in commit.Poison)
        {
            writes.Add($"INSERT INTO {Tables.ProjectPoison} (canonical_seq, event_id, status, reason, attempts, first_at, last_at) VALUES (@s, @e, @st, @r, 1, @at, @at) "
                + $"ON CONFLICT (canonical_seq) DO UPDATE SET status = excluded.status, reason = excluded.reason, attempts = {Tables.ProjectPoison}.attempts + 1, last_at = excluded.last_at",
                ["s", "e", "st", "r", "at"], p.Seq, p.EventId, PoisonStatus.Poison, p.Reason, nowMs);
        }
        foreach (var seq in commit.PoisonResolved) writes.Add($"DELETE FROM {Tables.ProjectPoison} WHERE canonical_seq = @s", ["s"], seq);
        foreach (var r in commit.ErasedReturned)
        {
            writes.Add($"INSERT INTO {Tables.Operations} (at, actor, role, action, target, detail) VALUES (@at, 'projector', 'system', 'erased_person_returned', @t, @d)",
                ["at", "t", "d"], nowMs, r.EventId, $"{{\"erasure\":\"{r.ErasureId}\",\"source\":\"{r.Source}\"}}");
        }
        await writes.ExecuteAsync(cancellationToken);
        // The transactional outbox: delivery drafts commit with the state change that caused them.
        if (commit.Deliveries.Count > 0) await InsertDeliveryDraftsAsync(connection, tx, commit.Deliveries, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }


    /// <summary>
    /// Replaces everything derived (people, identifiers, person events, merges, timers) with a
    /// rebuild's result, in one transaction; fenced by the project lease when one is given.
    /// </summary>
    public async Task ReplaceProjectionAsync(RebuildWrite rebuild, IProgress<int>? progress, CancellationToken cancellationToken, Leadership? lease = null)
    {
        ArgumentNullException.ThrowIfNull(rebuild);
        var now = Iso.Utc(rebuild.At);
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await RelaxDurabilityAsync(connection, cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await FenceAsync(connection, tx, lease, cancellationToken);
        foreach (var table in new[] { Tables.People, Tables.PersonIdentifiers, Tables.PersonEvents, Tables.IdentityConflicts, Tables.PersonSummary, Tables.OrderSummary })
        {
            await ExecuteAsync(connection, tx, $"DELETE FROM {table}", cancellationToken);
        }
        await ExecuteAsync(connection, tx, $"DELETE FROM {Tables.IdentityLog} WHERE kind <> 'detach'", cancellationToken);
        await ExecuteAsync(connection, tx, $"DELETE FROM {Tables.Timers} WHERE fired_at IS NULL", cancellationToken);

        var written = 0;
        // Bulk load: the person index is rebuilt once at the end instead of on every insert, and
        // rows go in multi-row statements (one prepared statement per full chunk).
        await ExecuteAsync(connection, tx, "DROP INDEX ix_person_events_person", cancellationToken);
        const int RowsPerStatement = 200;
        var names = Enumerable.Range(0, RowsPerStatement).SelectMany(i => new[] { $"e{i}", $"p{i}", $"s{i}" }).ToArray();
        foreach (var chunk in rebuild.PersonEvents.Chunk(20_000))
        {
            var writes = new RowWrites(connection, tx);
            foreach (var rows in chunk.Chunk(RowsPerStatement))
            {
                var values = new object?[rows.Length * 3];
                for (var i = 0; i < rows.Length; i++) (values[3 * i], values[3 * i + 1], values[3 * i + 2]) = (rows[i].EventId, rows[i].PersonId, rows[i].Seq);
                var sql = $"INSERT INTO {Tables.PersonEvents} (event_id, person_id, canonical_seq) VALUES "
                    + string.Join(", ", Enumerable.Range(0, rows.Length).Select(i => $"(@e{i}, @p{i}, @s{i})"));
                writes.Add(sql, rows.Length == RowsPerStatement ? names : names[..(rows.Length * 3)], values);
            }
            await writes.ExecuteAsync(cancellationToken);
            written += chunk.Length;
            progress?.Report(written);
        }
        await ExecuteAsync(connection, tx, $"CREATE INDEX ix_person_events_person ON {Tables.PersonEvents} (person_id, canonical_seq)", cancellationToken);
        foreach (var chunk in rebuild.People.Chunk(5_000))
        {
            var writes = new RowWrites(connection, tx);
            foreach (var p in chunk) AddPerson(writes, p, now, replaceIdentifiers: false);
            await writes.ExecuteAsync(cancellationToken);
            written += chunk.Length;
            progress?.Report(written);
        }
        var rest = new RowWrites(connection, tx);
        foreach (var (merged, into, at) in rebuild.Merged)
        {
            rest.Add($"INSERT INTO {Tables.People} (person_id, merged_into, first_seen_at, updated_at) VALUES (@p, @into, @f, @u)",
                ["p", "into", "f", "u"], merged, into, Iso.Utc(at), now);
        }
        foreach (var (personId, timers) in rebuild.Timers) AddTimers(rest, personId, timers, now, replace: false);
        foreach (var (entry, seq) in rebuild.Log) AddLog(rest, entry, seq);
        foreach (var c in rebuild.Conflicts) AddConflict(rest, c);
        foreach (var change in rebuild.Changes) AddChange(rest, change);
        rest.Add($"UPDATE {Tables.PersonOverrides} SET person_id = COALESCE((SELECT merged_into FROM {Tables.People} WHERE {Tables.People}.person_id = {Tables.PersonOverrides}.person_id), person_id)", []);
        AddCursor(rest, ProjectCursor, rebuild.Cursor);
        if (rebuild.OverrideCursor is { } overrideCursor) AddCursor(rest, OverrideCursor, overrideCursor);
        await rest.ExecuteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private static void AddCursor(RowWrites writes, string name, long position) =>
        writes.Add($"INSERT INTO {Tables.Cursors} (name, position) VALUES (@name, @position) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            ["name", "position"], name, position);

    private static void AddMerge(RowWrites writes, MergeWrite m, string now)
    {
        writes.Add($"INSERT INTO {Tables.People} (person_id, merged_into, first_seen_at, updated_at) VALUES (@m, @into, @f, @u) "
            + "ON CONFLICT (person_id) DO UPDATE SET merged_into = excluded.merged_into, state = NULL, digest = NULL, updated_at = excluded.updated_at",
            ["m", "into", "f", "u"], m.Merged, m.Into, Iso.Utc(m.At), now);
        writes.Add($"UPDATE {Tables.People} SET merged_into = @into WHERE merged_into = @m", ["into", "m"], m.Into, m.Merged);
        writes.Add($"UPDATE {Tables.PersonEvents} SET person_id = @into WHERE person_id = @m", ["into", "m"], m.Into, m.Merged);
        writes.Add($"UPDATE {Tables.PersonOverrides} SET person_id = @into WHERE person_id = @m", ["into", "m"], m.Into, m.Merged);
        writes.Add($"DELETE FROM {Tables.PersonIdentifiers} WHERE person_id = @m", ["m"], m.Merged);
        writes.Add($"DELETE FROM {Tables.Timers} WHERE person_id = @m AND fired_at IS NULL", ["m"], m.Merged);
        RemoveSummary(writes, m.Merged);
    }

    private static void AddPerson(RowWrites writes, PersonWrite p, string now, bool replaceIdentifiers)
    {
        var who = p.Identity;
        writes.Add($"INSERT INTO {Tables.People} (person_id, merged_into, first_seen_at, primary_email, purchase_email, state, digest, version, updated_at) "
            + "VALUES (@p, NULL, @f, @pe, @pu, @s, @d, 1, @u) ON CONFLICT (person_id) DO UPDATE SET merged_into = NULL, first_seen_at = excluded.first_seen_at, "
            + $"primary_email = excluded.primary_email, purchase_email = excluded.purchase_email, state = excluded.state, digest = excluded.digest, version = {Tables.People}.version + 1, updated_at = excluded.updated_at",
            ["p", "f", "pe", "pu", "s", "d", "u"], who.Id, Iso.Utc(who.FirstSeenAt), who.PrimaryEmail, who.PurchaseEmail, p.StateJson, p.Digest, now);
        if (p.State is { } state) AddSummary(writes, who, state, replaceOrders: replaceIdentifiers);
        if (!p.IdentityChanged) return;
        if (replaceIdentifiers) writes.Add($"DELETE FROM {Tables.PersonIdentifiers} WHERE person_id = @p", ["p"], who.Id);
        foreach (var i in who.Identifiers)
        {
            writes.Add($"INSERT INTO {Tables.PersonIdentifiers} (type, scope, value, person_id, raw, source, attached_at, event_id) VALUES (@t, @sc, @v, @p, @r, @so, @a, @e) "
                + "ON CONFLICT (type, scope, value) DO UPDATE SET person_id = excluded.person_id, raw = excluded.raw, source = excluded.source, attached_at = excluded.attached_at, event_id = excluded.event_id",
                ["t", "sc", "v", "p", "r", "so", "a", "e"], i.Key.TypeName, i.Key.Scope ?? "", i.Key.Value, who.Id, i.Raw, i.Source, Iso.Utc(i.AttachedAt), i.EventId);
        }
    }

    private static void AddLog(RowWrites writes, IdentityLogEntry entry, long seq) =>
        writes.Add($"INSERT INTO {Tables.IdentityLog} (kind, person_id, merged_id, identifiers, event_id, reason, at, canonical_seq) VALUES (@k, @p, @m, @i, @e, @r, @a, @s)",
            ["k", "p", "m", "i", "e", "r", "a", "s"], entry.Kind, entry.PersonId, entry.MergedId,
            JsonSerializer.Serialize(entry.Identifiers.Select(k => k.ToString()).ToArray(), PeopleJson.Default.StringArray), entry.EventId, entry.Reason, Iso.Utc(entry.At), seq);

    private static void AddConflict(RowWrites writes, IdentityConflict c) =>
        writes.Add($"INSERT INTO {Tables.IdentityConflicts} (event_id, at, people, identifiers, reason, attached_to) VALUES (@e, @a, @p, @i, @r, @t)",
            ["e", "a", "p", "i", "r", "t"], c.EventId, Iso.Utc(c.At), JsonSerializer.Serialize(c.People.ToArray(), PeopleJson.Default.StringArray),
            JsonSerializer.Serialize(c.Identifiers.Select(k => k.ToString()).ToArray(), PeopleJson.Default.StringArray), c.Reason, c.AttachedTo);

    private static void AddChange(RowWrites writes, StateChangeRow change) =>
        writes.Add($"INSERT INTO {Tables.StateChanges} (person_id, at, cause, cause_id, changes, digest, trace_id) VALUES (@p, @a, @c, @ci, @ch, @d, @t)",
            ["p", "a", "c", "ci", "ch", "d", "t"], change.PersonId, Iso.Utc(change.At), change.Cause, change.CauseId,
            JsonSerializer.Serialize(change.Changes.ToArray(), PeopleJson.Default.StringArray), change.Digest, change.TraceId);

    private static void AddTimers(RowWrites writes, string personId, IReadOnlyList<TimerState> timers, string now, bool replace = true)
    {
        if (replace) writes.Add($"DELETE FROM {Tables.Timers} WHERE person_id = @p AND fired_at IS NULL", ["p"], personId);
        foreach (var t in timers)
        {
            writes.Add($"INSERT INTO {Tables.Timers} (key, person_id, kind, name, due_at, due_ms, fired_at) VALUES (@k, @p, @kind, @n, @d, @ms, @f) "
                + $"ON CONFLICT (key) DO UPDATE SET person_id = excluded.person_id, fired_at = COALESCE({Tables.Timers}.fired_at, excluded.fired_at)",
                ["k", "p", "kind", "n", "d", "ms", "f"], t.Key, personId, t.Kind, t.Name, Iso.Utc(t.DueAt), t.DueAt.ToUnixTimeMilliseconds(), t.Due ? now : null);
        }
    }

    public async Task<IReadOnlyList<TimelineRow>> TimelineAsync(string personId, CancellationToken cancellationToken)
    {
        var rows = new List<TimelineRow>();
        await using var connection = await OpenAsync(cancellationToken);
        var self = $"(SELECT @p UNION SELECT person_id FROM {Tables.People} WHERE merged_into = @p)";

        async Task Query(string sql, Func<DbDataReader, TimelineRow> read)
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = sql;
            AddParameter(cmd, "p", personId);
            rows.AddRange(await ReadAllAsync(cmd, read, cancellationToken));
        }

        await Query($"SELECT DISTINCT r.id, r.source, r.received_at, r.trace_id, r.dedup_key FROM {Tables.PersonEvents} pe "
            + $"JOIN {Tables.CanonicalRaw} cr ON cr.event_id = pe.event_id JOIN {Tables.RawEvents} r ON r.id = cr.raw_id WHERE pe.person_id = @p",
            r => new TimelineRow(r.GetFieldValue<DateTimeOffset>(2), "raw_event", r.GetString(0), r.GetString(3), $"received from {r.GetString(1)}", r.GetString(4)));
        await Query($"SELECT c.id, c.type, c.occurred_at, c.source, r.trace_id FROM {Tables.PersonEvents} pe JOIN {Tables.CanonicalEvents} c ON c.id = pe.event_id "
            + $"LEFT JOIN {Tables.RawEvents} r ON r.id = c.raw_id WHERE pe.person_id = @p",
            r => new TimelineRow(r.GetFieldValue<DateTimeOffset>(2), "canonical_event", r.GetString(0), NullableString(r, 4), $"{r.GetString(1)} ({r.GetString(3)})", null));
        await Query($"SELECT kind, person_id, merged_id, identifiers, event_id, reason, at FROM {Tables.IdentityLog} WHERE person_id IN {self} OR merged_id IN {self}",
            r => new TimelineRow(ParseTime(r.GetString(6)), r.GetString(0), NullableString(r, 4), null,
                r.GetString(0) == "merge" ? $"merged {NullableString(r, 2)} into {r.GetString(1)}" : $"{r.GetString(0)} {r.GetString(3)}", NullableString(r, 5)));
        await Query($"SELECT at, cause, cause_id, changes, trace_id FROM {Tables.StateChanges} WHERE person_id IN {self}",
            r => new TimelineRow(ParseTime(r.GetString(0)), "state_change", NullableString(r, 2), NullableString(r, 4),
                string.Join(", ", JsonSerializer.Deserialize(r.GetString(3), PeopleJson.Default.StringArray) ?? []), r.GetString(1)));
        await Query($"SELECT key, kind, name, due_at, fired_at FROM {Tables.Timers} WHERE person_id IN {self}",
            r => new TimelineRow(ParseTime(r.GetString(3)), "timer", r.GetString(0), null,
                $"{r.GetString(1)} {r.GetString(2)} {(r.IsDBNull(4) ? "scheduled" : "fired " + r.GetString(4))}", null));
        await Query($"SELECT id, product, action, reason, at FROM {Tables.PersonOverrides} WHERE person_id IN {self}",
            r => new TimelineRow(ParseTime(r.GetString(4)), "override", r.GetString(0), null, $"{r.GetString(2)} {r.GetString(1)}", NullableString(r, 3)));
        // Audit findings: a healed one is the person's "reconciled after failure" mark, with its audit id.
        foreach (var f in await FindingsAsync(null, personId, cancellationToken))
        {
            var where = f.Destination ?? f.Source ?? "junction";
            var summary = f.HealStatus == Audit.HealStatuses.Healed
                ? $"reconciled after failure: {f.Kind} at {where} (expected {f.Expected}, was {f.Observed})"
                : $"audit finding {f.Kind} at {where}: expected {f.Expected}, observed {f.Observed}; heal {f.HealAction} {f.HealStatus}";
            rows.Add(new TimelineRow(DateTimeOffset.FromUnixTimeMilliseconds(f.At), "audit", f.AuditId, null, summary,
                "finding " + f.Id.ToString(CultureInfo.InvariantCulture)));
        }
        return [.. rows.OrderBy(r => r.At).ThenBy(r => KindOrder(r.Kind)).ThenBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>Links refused for review (identity_conflicts), newest first.</summary>
    public async Task<IReadOnlyList<IdentityConflictRow>> ListIdentityConflictsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT seq, event_id, at, people, identifiers, reason, attached_to FROM {Tables.IdentityConflicts} ORDER BY seq DESC LIMIT @limit";
        AddParameter(cmd, "limit", limit);
        return await ReadAllAsync(cmd, r => new IdentityConflictRow(
            r.GetInt64(0), r.GetString(1), ParseTime(r.GetString(2)),
            JsonSerializer.Deserialize(r.GetString(3), PeopleJson.Default.StringArray) ?? [],
            JsonSerializer.Deserialize(r.GetString(4), PeopleJson.Default.StringArray) ?? [],
            r.GetString(5), r.GetString(6)), cancellationToken);
    }

    private static int KindOrder(string kind) => kind switch
    {
        "raw_event" => 0,
        "canonical_event" => 1,
        "merge" or "retire" or "detach" => 2,
        "override" => 3,
        "state_change" => 4,
        _ => 5,
    };

    private static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    internal static IdentifierKey Key(string type, string scope, string value) => new(type switch
    {
        "customer_id" => IdentifierType.CustomerId,
        "email" => IdentifierType.Email,
        "phone" => IdentifierType.Phone,
        "purchase_token" => IdentifierType.PurchaseToken,
        "order_id" => IdentifierType.OrderId,
        _ => IdentifierType.AnonymousId,
    }, value, scope.Length == 0 ? null : scope);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class PeopleJson : System.Text.Json.Serialization.JsonSerializerContext;
