using System.Data;
using System.Globalization;

namespace Junction.Storage;

/// <summary>
/// What <c>/metrics</c> reads from the store (Telemetry/MetricsPoller.cs). Every query here is an
/// index lookup (a MIN or the first row after a cursor, a COUNT over one index range); the business
/// figures come from the read model (<see cref="BusinessFiguresAsync"/>), minutes apart.
/// </summary>
public abstract partial class RelationalStore
{
    /// <summary>When the oldest raw event the normalizer has not read yet was received; null when it is caught up.</summary>
    public async Task<DateTimeOffset?> OldestUnnormalizedAsync(string cursorName, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT r.received_at FROM {Tables.RawEvents} r "
            + $"WHERE r.seq > COALESCE((SELECT position FROM {Tables.Cursors} WHERE name = @c), 0) ORDER BY r.seq LIMIT 1";
        AddParameter(cmd, "c", cursorName);
        return await FirstTimeAsync(cmd, cancellationToken);
    }

    /// <summary>
    /// When the oldest canonical event the projector has not read yet became ready for it (its raw
    /// event's normalization was committed); null when it is caught up.
    /// </summary>
    public async Task<DateTimeOffset?> OldestUnprojectedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT n.updated_at FROM {Tables.CanonicalEvents} c JOIN {Tables.Normalization} n ON n.raw_id = c.raw_id "
            + $"WHERE c.seq > COALESCE((SELECT position FROM {Tables.Cursors} WHERE name = @c), 0) ORDER BY c.seq LIMIT 1";
        AddParameter(cmd, "c", ProjectCursor);
        return await FirstTimeAsync(cmd, cancellationToken);
    }

    /// <summary>Unix ms of the earliest due time among a destination's pending deliveries; null when none is pending.</summary>
    public async Task<long?> EarliestPendingDeliveryAsync(string destination, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT MIN(next_attempt_at) FROM {Tables.Deliveries} WHERE destination = @d AND state = 'pending'";
        Typed(cmd, "d", DbType.String, destination);
        return await cmd.ExecuteScalarAsync(cancellationToken) is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>A destination's dead-letter queue size.</summary>
    public async Task<long> CountDeadDeliveriesAsync(string destination, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Tables.Deliveries} WHERE destination = @d AND state = 'dead'";
        Typed(cmd, "d", DbType.String, destination);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Raw events waiting in quarantine.</summary>
    public async Task<long> CountQuarantinedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT COUNT(*) FROM {Tables.Normalization} WHERE status = 'quarantined'";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static async Task<DateTimeOffset?> FirstTimeAsync(System.Data.Common.DbCommand cmd, CancellationToken cancellationToken)
    {
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
    }
}
