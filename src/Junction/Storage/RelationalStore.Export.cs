using System.Globalization;

namespace Junction.Storage;

/// <summary>A surviving person as <c>junction export people</c> reads them: the stored state (JSON) and its times.</summary>
public sealed record PersonExportRow(string PersonId, string? PrimaryEmail, string FirstSeenAt, string UpdatedAt, string State);

/// <summary>An order of the read model (<c>order_summary</c>), amounts in minor units.</summary>
public sealed record OrderExportRow(string Source, string OrderId, string PersonId, string Status, string? Currency, long? Amount, long Refunded,
    long? PaidMs, long? RefundedMs, bool Test);

// `junction export`: keyset pages over people and orders, so an export of any size holds one page at a time.
public abstract partial class RelationalStore
{
    /// <summary>
    /// People after <paramref name="afterId"/> in id order; with <paramref name="since"/>, only those
    /// whose state changed at or after that second (times are stored as ISO text, so the bound is the
    /// second's prefix: it sorts before every time within it).
    /// </summary>
    public async Task<IReadOnlyList<PersonExportRow>> ExportPeopleAsync(string? afterId, DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var where = new List<string> { "merged_into IS NULL", "state IS NOT NULL" };
        if (afterId is not null) { where.Add("person_id > @after"); AddParameter(cmd, "after", afterId); }
        if (since is { } s)
        {
            where.Add("updated_at >= @since");
            AddParameter(cmd, "since", s.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        }
        cmd.CommandText = $"SELECT person_id, primary_email, first_seen_at, updated_at, state FROM {Tables.People} WHERE {string.Join(" AND ", where)} ORDER BY person_id LIMIT @limit";
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new PersonExportRow(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)), cancellationToken);
    }

    /// <summary>Orders after (<paramref name="afterSource"/>, <paramref name="afterOrder"/>); with <paramref name="since"/>, those paid or refunded since.</summary>
    public async Task<IReadOnlyList<OrderExportRow>> ExportOrdersAsync(string? afterSource, string? afterOrder, DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        var where = new List<string> { "1 = 1" };
        if (afterSource is not null && afterOrder is not null)
        {
            where.Add("(source > @s OR (source = @s AND order_id > @o))");
            AddParameter(cmd, "s", afterSource);
            AddParameter(cmd, "o", afterOrder);
        }
        if (since is { } at)
        {
            where.Add("(paid_ms >= @since OR refunded_ms >= @since)");
            AddParameter(cmd, "since", at.ToUnixTimeMilliseconds());
        }
        cmd.CommandText = $"SELECT source, order_id, person_id, status, currency, amount, refunded, paid_ms, refunded_ms, test FROM {Tables.OrderSummary} "
            + $"WHERE {string.Join(" AND ", where)} ORDER BY source, order_id LIMIT @limit";
        AddParameter(cmd, "limit", (long)limit);
        return await ReadAllAsync(cmd, r => new OrderExportRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetInt64(5), r.GetInt64(6),
            r.IsDBNull(7) ? null : r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt64(8), Convert.ToInt64(r.GetValue(9), CultureInfo.InvariantCulture) != 0), cancellationToken);
    }
}
