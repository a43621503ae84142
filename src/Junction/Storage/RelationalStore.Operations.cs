namespace Junction.Storage;

/// <summary>One entry of the operations log: who (a token's name or <c>cli</c>) did what to which target, and when (Unix ms).</summary>
public sealed record StoredOperation(long Id, long At, string Actor, string Role, string Action, string Target, string Detail);

/// <summary>The operations log's own store contract (0012_operations.sql), so its callers need no cast to the whole store.</summary>
public interface IOperationsStore
{
    Task<long> InsertOperationAsync(long at, string actor, string role, string action, string target, string detail, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredOperation>> ListOperationsAsync(int limit, long? before, CancellationToken cancellationToken);
}

// Append-only: an entry is never changed.
public abstract partial class RelationalStore : IOperationsStore
{
    public async Task<long> InsertOperationAsync(long at, string actor, string role, string action, string target, string detail,
        CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.Operations} (at, actor, role, action, target, detail) VALUES (@at, @actor, @role, @action, @target, @detail) RETURNING id";
        AddParameter(cmd, "at", at);
        AddParameter(cmd, "actor", actor);
        AddParameter(cmd, "role", role);
        AddParameter(cmd, "action", action);
        AddParameter(cmd, "target", target);
        AddParameter(cmd, "detail", detail);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Newest first; <paramref name="before"/> (an id) pages on.</summary>
    public async Task<IReadOnlyList<StoredOperation>> ListOperationsAsync(int limit, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT id, at, actor, role, action, target, detail FROM {Tables.Operations} "
            + (before is null ? "" : "WHERE id < @before ") + "ORDER BY id DESC LIMIT @limit";
        if (before is not null) AddParameter(cmd, "before", before.Value);
        AddParameter(cmd, "limit", limit);
        return await ReadAllAsync(cmd, r => new StoredOperation(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetString(4),
            r.GetString(5), r.GetString(6)), cancellationToken);
    }
}
