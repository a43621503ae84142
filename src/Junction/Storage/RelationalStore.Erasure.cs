using System.Data.Common;
using System.Globalization;
using Junction.Dispatch;

namespace Junction.Storage;

/// <summary>What an erasure is about, read before it runs: the person, their merged ids, identifiers and events.</summary>
public sealed record ErasureSubject(string PersonId, IReadOnlyList<string> PersonIds, IReadOnlyList<string> Emails,
    IReadOnlyList<string> IdentifierValues, IReadOnlyList<string> EventJson);

/// <summary>
/// One erasure, as the store applies it in one transaction. The redaction functions come from
/// <c>Junction.Erasure.Redaction</c>: the store only knows which rows they apply to.
/// </summary>
public sealed record ErasureWrite
{
    public required string ErasureId { get; init; }
    public required ErasureSubject Subject { get; init; }
    public required string Actor { get; init; }
    public required string ActorRole { get; init; }
    public required long AtMs { get; init; }
    public required IReadOnlyList<string> EmailHashes { get; init; }
    public required Func<string, string> RedactCanonical { get; init; }
    public required Func<byte[], string, byte[]> RedactRaw { get; init; }
    public required Func<string, string> RedactText { get; init; }

    /// <summary>One erase delivery per state destination (event id = the erasure id).</summary>
    public required IReadOnlyList<DeliveryDraft> Deletions { get; init; }

    public string? SealKey { get; init; }
}

public sealed record ErasureResult(string ErasureId, string PersonId, int People, int Events, int RawEvents, int Deliveries);

/// <summary>A row of the erasure record (no address: only its salted hash is kept).</summary>
public sealed record ErasureRecord(string Id, long At, string Actor, string PersonId, long Events, long RawEvents, long Deliveries, bool KeyShredded);

// Forgetting a person (R8.4, docs/data-rights.md): their derived rows deleted, their canonical events
// and raw bodies redacted in place (the one exception to the append-only raw log, allowed by the
// trigger only for rows listed in erased_raw), destination deletions queued, and the erasure recorded.
public abstract partial class RelationalStore
{
    public const string ErasureSaltName = "erasure_salt";

    /// <summary>The install's salt for erased-address hashes, created on first use.</summary>
    public async Task<string> ErasureSaltAsync(Func<string> newSalt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(newSalt);
        await using (var connection = await OpenAsync(cancellationToken))
        {
            if (await ReadSecretAsync(connection, cancellationToken) is { } existing) return existing;
        }
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var write = await OpenAsync(cancellationToken);
        await using (var cmd = write.CreateCommand())
        {
            cmd.CommandText = $"INSERT INTO {Tables.InstallSecrets} (name, value) VALUES (@n, @v) ON CONFLICT (name) DO NOTHING";
            AddParameter(cmd, "n", ErasureSaltName);
            AddParameter(cmd, "v", newSalt());
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return await ReadSecretAsync(write, cancellationToken) ?? throw new InvalidOperationException("the erasure salt was not stored");
    }

    private static async Task<string?> ReadSecretAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT value FROM {Tables.InstallSecrets} WHERE name = @n";
        AddParameter(cmd, "n", ErasureSaltName);
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Hash → erasure id of every erased address (the projector flags an event that carries one).</summary>
    public async Task<IReadOnlyDictionary<string, string>> LoadErasedEmailsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT hash, erasure_id FROM {Tables.ErasedEmails}";
        var rows = await ReadAllAsync(cmd, r => (r.GetString(0), r.GetString(1)), cancellationToken);
        return rows.ToDictionary(r => r.Item1, r => r.Item2, StringComparer.Ordinal);
    }

    public async Task<string?> FindErasureByHashAsync(string hash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT erasure_id FROM {Tables.ErasedEmails} WHERE hash = @h";
        AddParameter(cmd, "h", hash);
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT id, at, actor, person_id, events, raw_events, deliveries, seal_key FROM {Tables.Erasures} ORDER BY at, id";
        return await ReadAllAsync(cmd, r => new ErasureRecord(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetInt64(4),
            r.GetInt64(5), r.GetInt64(6), r.IsDBNull(7)), cancellationToken);
    }

    /// <summary>The person to forget (following merges), with everything the redaction needs to know; null when unknown.</summary>
    public async Task<ErasureSubject?> LoadErasureSubjectAsync(string personId, CancellationToken cancellationToken)
    {
        if (await GetPersonAsync(personId, cancellationToken) is not { } person) return null;
        await using var connection = await OpenAsync(cancellationToken);
        var ids = await PersonIdsAsync(connection, null, person.PersonId, cancellationToken);
        await using var identifiers = connection.CreateCommand();
        identifiers.CommandText = $"SELECT type, value, raw FROM {Tables.PersonIdentifiers} WHERE person_id IN ({StringList(identifiers, "p", ids)})";
        var rows = await ReadAllAsync(identifiers, r => (Type: r.GetString(0), Value: r.GetString(1), Raw: r.GetString(2)), cancellationToken);
        await using var events = connection.CreateCommand();
        events.CommandText = $"SELECT {JsonColumn("c.body")} FROM {Tables.PersonEvents} pe JOIN {Tables.CanonicalEvents} c ON c.id = pe.event_id "
            + $"WHERE pe.person_id IN ({StringList(events, "p", ids)}) ORDER BY c.seq";
        var json = await ReadAllAsync(events, r => r.GetString(0), cancellationToken);
        var emails = rows.Where(r => r.Type == "email").Select(r => r.Value).Concat(new[] { person.PrimaryEmail, person.PurchaseEmail }.OfType<string>())
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // Order ids are the money record's key, not personal: they stay.
        var values = rows.Where(r => r.Type != "order_id").SelectMany(r => new[] { r.Value, r.Raw }).Distinct(StringComparer.Ordinal).ToList();
        return new ErasureSubject(person.PersonId, ids, emails, values, json);
    }

    /// <summary>The survivor and every id merged into it (at any depth).</summary>
    private static async Task<List<string>> PersonIdsAsync(DbConnection connection, DbTransaction? tx, string survivor, CancellationToken cancellationToken)
    {
        var ids = new List<string> { survivor };
        for (var i = 0; i < ids.Count; i++)
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"SELECT person_id FROM {Tables.People} WHERE merged_into = @p ORDER BY person_id";
            AddParameter(cmd, "p", ids[i]);
            foreach (var id in await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken))
            {
                if (!ids.Contains(id)) ids.Add(id);
            }
        }
        return ids;
    }

    /// <summary>
    /// Applies an erasure in one transaction. It first moves the project lease's epoch on, which waits
    /// for a projector commit in flight and refuses the next one: the projector drops the identity graph
    /// and folds it holds in memory and reloads them without the person (docs/data-rights.md).
    /// </summary>
    public async Task<ErasureResult> EraseAsync(ErasureWrite erasure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(erasure);
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await Exec(connection, tx, $"UPDATE {Tables.Leases} SET epoch = epoch + 1 WHERE role = @r", cancellationToken, ("r", "project"));

        var ids = await PersonIdsAsync(connection, tx, erasure.Subject.PersonId, cancellationToken);
        var events = new List<(long Seq, string Id, string RawId, string Body)>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"SELECT c.seq, c.id, c.raw_id, {JsonColumn("c.body")} FROM {Tables.PersonEvents} pe JOIN {Tables.CanonicalEvents} c ON c.id = pe.event_id "
                + $"WHERE pe.person_id IN ({StringList(cmd, "p", ids)}) ORDER BY c.seq";
            events.AddRange(await ReadAllAsync(cmd, r => (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)), cancellationToken));
        }
        var rawIds = new SortedSet<string>(events.Select(e => e.RawId), StringComparer.Ordinal);
        foreach (var chunk in events.Select(e => e.Id).Chunk(500))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"SELECT raw_id FROM {Tables.CanonicalRaw} WHERE event_id IN ({StringList(cmd, "e", chunk)})";
            foreach (var id in await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken)) rawIds.Add(id);
        }

        // The canonical events stay, redacted, as anonymous records (an order's amount and id); the
        // projector and the rebuild leave them out from now on.
        foreach (var e in events)
        {
            await Exec(connection, tx, $"INSERT INTO {Tables.ErasedEvents} (canonical_seq, event_id, erasure_id) VALUES (@s, @e, @x) ON CONFLICT (canonical_seq) DO NOTHING",
                cancellationToken, ("s", e.Seq), ("e", e.Id), ("x", erasure.ErasureId));
            await Exec(connection, tx, $"UPDATE {Tables.CanonicalEvents} SET body = {JsonParameter("b")} WHERE seq = @s", cancellationToken,
                ("b", erasure.RedactCanonical(e.Body)), ("s", e.Seq));
        }
        foreach (var rawId in rawIds)
        {
            await Exec(connection, tx, $"INSERT INTO {Tables.ErasedRaw} (raw_id, erasure_id) VALUES (@r, @x) ON CONFLICT (raw_id) DO NOTHING",
                cancellationToken, ("r", rawId), ("x", erasure.ErasureId));
            byte[]? body = null;
            var contentType = "";
            var dedupKey = "";
            var headers = "{}";
            await using (var read = connection.CreateCommand())
            {
                read.Transaction = tx;
                read.CommandText = $"SELECT body, content_type, dedup_key, {HeadersAsText} FROM {Tables.RawEvents} WHERE id = @r";
                AddParameter(read, "r", rawId);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    body = (byte[])reader.GetValue(0);
                    contentType = reader.GetString(1);
                    dedupKey = reader.GetString(2);
                    headers = reader.GetString(3);
                }
            }
            if (body is not null)
            {
                // A dedup key that quotes the address becomes one that names the raw event instead (unique,
                // like the key): a provider re-sending that webhook is then flagged as the address returning.
                var key = erasure.RedactText(dedupKey) == dedupKey ? dedupKey : "erased:" + rawId;
                // Kept headers can quote it too (an Idempotency-Key made from the address).
                await Exec(connection, tx, $"UPDATE {Tables.RawEvents} SET body = @b, dedup_key = @k, headers = {JsonParameter("h")} WHERE id = @r", cancellationToken,
                    ("b", erasure.RedactRaw(body, contentType)), ("k", key), ("h", erasure.RedactText(headers)), ("r", rawId));
            }
            // Provider API answers fetched to enrich the event (a Stripe customer …) name the person too.
            await using (var enrich = connection.CreateCommand())
            {
                enrich.Transaction = tx;
                enrich.CommandText = $"SELECT key, body FROM {Tables.Enrichments} WHERE raw_id = @r";
                AddParameter(enrich, "r", rawId);
                foreach (var (key, text) in await ReadAllAsync(enrich, r => (r.GetString(0), r.GetString(1)), cancellationToken))
                {
                    await Exec(connection, tx, $"UPDATE {Tables.Enrichments} SET body = @b WHERE raw_id = @r AND key = @k", cancellationToken,
                        ("b", erasure.RedactText(text)), ("r", rawId), ("k", key));
                }
            }
        }

        // Everything derived about the person goes: a rebuild, which skips erased events, derives none of it.
        var deliveryIds = new List<long>();
        await using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = $"SELECT id FROM {Tables.Deliveries} WHERE person_id IN ({StringList(cmd, "p", ids)})";
            deliveryIds.AddRange(await ReadAllAsync(cmd, r => r.GetInt64(0), cancellationToken));
        }
        foreach (var chunk in deliveryIds.Chunk(500))
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"DELETE FROM {Tables.DeliveryAttempts} WHERE delivery_id IN ({string.Join(", ", chunk.Select(i => i.ToString(CultureInfo.InvariantCulture)))})";
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var (table, column) in new[]
                 {
                     (Tables.Deliveries, "person_id"), (Tables.DestinationSync, "person_id"), (Tables.PersonEvents, "person_id"),
                     (Tables.PersonIdentifiers, "person_id"), (Tables.IdentityLog, "person_id"), (Tables.IdentityLog, "merged_id"),
                     (Tables.IdentityConflicts, "attached_to"), (Tables.PersonOverrides, "person_id"), (Tables.StateChanges, "person_id"),
                     (Tables.Timers, "person_id"), (Tables.PersonSummary, "person_id"), (Tables.OrderSummary, "person_id"),
                     (Tables.AuditFindings, "person_id"), (Tables.SmokeRuns, "person_id"), (Tables.People, "person_id"),
                 })
        {
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = $"DELETE FROM {table} WHERE {column} IN ({StringList(cmd, "p", ids)})";
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var id in ids)
        {
            // A conflict lists every person it involved, with their identifiers.
            await Exec(connection, tx, $"DELETE FROM {Tables.IdentityConflicts} WHERE people LIKE @p", cancellationToken, ("p", "%\"" + id + "\"%"));
        }

        await Exec(connection, tx, $"INSERT INTO {Tables.Erasures} (id, at, actor, person_id, events, raw_events, deliveries, seal_key) "
            + "VALUES (@id, @at, @actor, @person, @events, @raw, @deliveries, @key)", cancellationToken,
            ("id", erasure.ErasureId), ("at", erasure.AtMs), ("actor", erasure.Actor), ("person", erasure.Subject.PersonId), ("events", (long)events.Count),
            ("raw", (long)rawIds.Count), ("deliveries", (long)erasure.Deletions.Count), ("key", erasure.Deletions.Count > 0 ? erasure.SealKey : null));
        foreach (var hash in erasure.EmailHashes)
        {
            await Exec(connection, tx, $"INSERT INTO {Tables.ErasedEmails} (hash, erasure_id) VALUES (@h, @x) ON CONFLICT (hash) DO UPDATE SET erasure_id = excluded.erasure_id",
                cancellationToken, ("h", hash), ("x", erasure.ErasureId));
        }
        var queued = erasure.Deletions.Count == 0 ? 0 : await InsertDeliveryDraftsAsync(connection, tx, erasure.Deletions, cancellationToken);
        await Exec(connection, tx, $"INSERT INTO {Tables.Operations} (at, actor, role, action, target, detail) VALUES (@at, @actor, @role, 'people.forget', @target, @detail)",
            cancellationToken, ("at", erasure.AtMs), ("actor", erasure.Actor), ("role", erasure.ActorRole), ("target", erasure.Subject.PersonId),
            ("detail", $"{{\"erasure\":\"{erasure.ErasureId}\",\"events\":{events.Count},\"raw_events\":{rawIds.Count},\"deliveries\":{queued}}}"));
        await tx.CommitAsync(cancellationToken);
        return new ErasureResult(erasure.ErasureId, erasure.Subject.PersonId, ids.Count, events.Count, rawIds.Count, queued);
    }

    public async Task ShredErasureKeyAsync(string erasureId, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await Exec(connection, null, $"UPDATE {Tables.Erasures} SET seal_key = NULL WHERE id = @x AND seal_key IS NOT NULL AND NOT EXISTS "
            + $"(SELECT 1 FROM {Tables.Deliveries} d WHERE d.kind = '{DeliveryKinds.Erase}' AND d.event_id = @x AND d.state <> '{DeliveryStates.Succeeded}')",
            cancellationToken, ("x", erasureId));
    }

    private static async Task Exec(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            if (value is null) p.DbType = System.Data.DbType.String;
            cmd.Parameters.Add(p);
        }
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string StringList(DbCommand cmd, string prefix, IEnumerable<string> values)
    {
        var names = new List<string>();
        foreach (var v in values)
        {
            var name = prefix + names.Count.ToString(CultureInfo.InvariantCulture);
            AddParameter(cmd, name, v);
            names.Add("@" + name);
        }
        return names.Count == 0 ? "NULL" : string.Join(", ", names);
    }
}
