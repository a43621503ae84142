namespace Junction.Storage;

/// <summary>A smoke run as stored: its steps are JSON (<see cref="Audit.SmokeStep"/>s in the order they ran).</summary>
public sealed record StoredSmokeRun(
    string Id, string Trigger, string Mode, string Source, long StartedAt, long? FinishedAt, string Status, string? FailedStep, string? PersonId, string Steps);

// The smoke runs' table. A run is written when it starts and after every step, so a run cut short
// (its process killed) stays visible as running with the steps it finished.
public abstract partial class RelationalStore
{
    public async Task InsertSmokeRunAsync(string id, string trigger, string mode, string source, long startedAt, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.SmokeRuns} (id, trigger_name, mode, source, started_at, status, steps) VALUES (@id, @t, @m, @s, @at, 'running', '[]')";
        AddParameter(cmd, "id", id);
        AddParameter(cmd, "t", trigger);
        AddParameter(cmd, "m", mode);
        AddParameter(cmd, "s", source);
        AddParameter(cmd, "at", startedAt);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records the steps so far; with <paramref name="finishedAt"/> the run's end and outcome.</summary>
    public async Task UpdateSmokeRunAsync(string id, string steps, string? personId, string status, string? failedStep, long? finishedAt, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"UPDATE {Tables.SmokeRuns} SET steps = @steps, person_id = @p, status = @status, failed_step = @f, finished_at = @end WHERE id = @id";
        AddParameter(cmd, "steps", steps);
        AddParameter(cmd, "p", (object?)personId ?? DBNull.Value);
        AddParameter(cmd, "status", status);
        AddParameter(cmd, "f", (object?)failedStep ?? DBNull.Value);
        AddParameter(cmd, "end", (object?)finishedAt ?? DBNull.Value);
        AddParameter(cmd, "id", id);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Newest first; <paramref name="before"/> (a started_at) pages on.</summary>
    public async Task<IReadOnlyList<StoredSmokeRun>> ListSmokeRunsAsync(int limit, long? before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT id, trigger_name, mode, source, started_at, finished_at, status, failed_step, person_id, steps FROM {Tables.SmokeRuns} "
            + (before is null ? "" : "WHERE started_at < @before ") + "ORDER BY started_at DESC, id DESC LIMIT @limit";
        if (before is not null) AddParameter(cmd, "before", before.Value);
        AddParameter(cmd, "limit", limit);
        return await ReadAllAsync(cmd, r => new StoredSmokeRun(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4),
            r.IsDBNull(5) ? null : r.GetInt64(5), r.GetString(6), NullableString(r, 7), NullableString(r, 8), r.GetString(9)), cancellationToken);
    }

    /// <summary>When the latest passed run finished (Unix ms); null when none has.</summary>
    public async Task<long?> LastSmokeSuccessAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT MAX(finished_at) FROM {Tables.SmokeRuns} WHERE status = 'passed'";
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : null;
    }
}
